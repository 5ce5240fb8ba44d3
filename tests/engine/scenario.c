/*
 * Scenarios: loading into the engine, and random generation (see scenario.h).
 */
#include "scenario.h"

#include <string.h>

#include "test.h"

void sc_week_days(eng_week_t *w, int first_weekday, int last_weekday, int start_minute,
                  int end_minute)
{
    for (int d = first_weekday; d <= last_weekday; d++) {
        w->day[d].count = 1;
        w->day[d].ranges[0].start = (uint16_t)start_minute;
        w->day[d].ranges[0].end = (uint16_t)end_minute;
    }
}

eng_resource_t *sc_resource_every_day(eng_org_t *org, tz_zone_t *z, uint8_t id, int start_minute,
                                      int end_minute)
{
    eng_id_t rid = {{id}};
    eng_resource_t *r = eng_resource_new(org, &rid, z);
    eng_week_t week = {0};
    sc_week_days(&week, 0, 6, start_minute, end_minute);
    CHECK_EQ(eng_resource_set_week(r, &week), 0);
    return r;
}

void sc_init(scenario_t *s, const char *zone)
{
    memset(s, 0, sizeof(*s));
    s->zone = test_zone(zone);
    s->resource_count = 1;
    s->resources[0].zone = s->zone;
    s->resources[0].location = -1;
    s->resources[0].active = true;
    s->resources[0].id.bytes[15] = 1;
    sc_week_days(&s->resources[0].week, 0, 4, 9 * 60, 17 * 60);
    s->spec = (eng_service_spec_t){.duration_minutes = 60, .max_advance_days = -1};
    s->group_count = 1;
    s->groups[0] = (sc_group_t){.mode = ENG_GROUP_ANY, .members = {0}, .count = 1};
    s->location_filter = -1;
}

static void must(int rc, const char *what)
{
    if (rc != 0) {
        fprintf(stderr, "scenario: %s failed: %s\n", what, eng_strerror(rc));
        exit(1);
    }
}

void sc_load(const scenario_t *s, sc_engine_t *e)
{
    memset(e, 0, sizeof(*e));
    e->org = eng_org_new(s->zone);
    must(eng_org_set_business_hours(e->org, s->has_hours ? &s->hours : NULL), "org hours");
    eng_org_set_closures(e->org, s->closures, (size_t)s->closure_count);
    for (int i = 0; i < s->location_count; i++) {
        const sc_location_t *l = &s->locations[i];
        e->locations[i] = eng_location_new(e->org, l->zone);
        must(eng_location_set_business_hours(e->locations[i], l->has_hours ? &l->hours : NULL),
             "location hours");
        eng_location_set_closures(e->locations[i], l->closures, (size_t)l->closure_count);
    }
    for (int i = 0; i < s->resource_count; i++) {
        const sc_resource_t *r = &s->resources[i];
        eng_resource_t *er = eng_resource_new(e->org, &r->id, r->zone);
        e->resources[i] = er;
        eng_resource_set_active(er, r->active);
        if (r->location >= 0)
            eng_resource_set_location(er, e->locations[r->location]);
        must(eng_resource_set_week(er, &r->week), "week");
        for (int k = 0; k < r->override_count; k++)
            must(eng_resource_set_override(er, r->overrides[k].day, &r->overrides[k].hours),
                 "override");
        for (int k = 0; k < r->busy_count; k++)
            must(eng_resource_add_busy(er, &r->busy[k]), "busy");
        for (int k = 0; k < r->recurring_count; k++) {
            const sc_recurring_t *rec = &r->recurring[k];
            must(eng_resource_add_recurring_block(er, 1000 + (uint64_t)k, rec->rrule,
                                                  rec->start_wall, rec->duration_minutes,
                                                  rec->exdates, (size_t)rec->exdate_count),
                 "recurring block");
        }
    }
    must(eng_service_new(e->org, &s->spec, &e->service), "service");
    for (int g = 0; g < s->group_count; g++) {
        eng_resource_t *members[SC_MAX_RESOURCES];
        for (int m = 0; m < s->groups[g].count; m++)
            members[m] = e->resources[s->groups[g].members[m]];
        must(eng_service_add_group(e->service, s->groups[g].mode, members,
                                   (size_t)s->groups[g].count),
             "group");
    }
}

void sc_unload(sc_engine_t *e)
{
    eng_org_free(e->org);
    memset(e, 0, sizeof(*e));
}

size_t sc_engine_slots(const scenario_t *s, sc_engine_t *e, eng_workspace_t *ws, sc_slot_t *out,
                       size_t capacity)
{
    eng_resource_t *filter[SC_MAX_RESOURCES];
    for (int i = 0; i < s->filter_count; i++)
        filter[i] = e->resources[s->filter[i]];
    eng_query_t q = {.service = e->service,
                     .from = s->from,
                     .to = s->to,
                     .now = s->now,
                     .zone = s->display,
                     .resources = filter,
                     .resource_count = (size_t)s->filter_count,
                     .location = s->location_filter >= 0 ? e->locations[s->location_filter] : NULL,
                     .limit = s->limit,
                     .per_day = s->per_day};
    eng_slots_t result;
    must(eng_slots(ws, &q, &result), "slots");
    size_t n = 0;
    for (size_t i = 0; i < result.count && n < capacity; i++, n++) {
        out[n].start = result.slots[i].start;
        CHECK_EQ(result.slots[i].end, result.slots[i].start + s->spec.duration_minutes * 60);
        out[n].resource_count = (int)result.slots[i].resource_count;
        for (uint32_t k = 0; k < result.slots[i].resource_count; k++) {
            eng_resource_t *r = result.resources[result.slots[i].first_resource + k];
            int index = -1;
            for (int j = 0; j < s->resource_count; j++)
                if (e->resources[j] == r)
                    index = j;
            CHECK(index >= 0);
            out[n].resources[k] = index;
        }
    }
    return n;
}

/* ---- random scenarios ---------------------------------------------------------- */

typedef struct {
    uint64_t state;
} rng_t;

static uint64_t next(rng_t *r)
{
    /* splitmix64 */
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int pick(rng_t *r, int n)
{
    return (int)(next(r) % (uint64_t)n);
}

static bool chance(rng_t *r, int percent)
{
    return pick(r, 100) < percent;
}

static const char *const zones[] = {
    "Europe/Warsaw",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "America/Havana",
    "Pacific/Apia",
    "UTC",
    "Asia/Kathmandu",
    "America/Santiago",
    "Pacific/Chatham",
};

/* Days around which the random windows are placed: DST changes of the zones
 * above, Apia's skipped day, and ordinary days. */
static const char *const base_days[] = {
    "2026-03-29", "2026-10-25", "2026-03-08", "2026-11-01", "2026-10-04", "2026-04-05",
    "2011-12-29", "2026-04-05", "2026-09-06", "2026-06-15", "2026-01-12", "2026-09-27",
};

static void random_day_hours(rng_t *r, eng_day_hours_t *d)
{
    d->count = 0;
    int n = pick(r, 10) < 2 ? 0 : 1 + pick(r, 3);
    int cursor = chance(r, 15) ? 0 : pick(r, 40) * 15;
    for (int i = 0; i < n && cursor < 1440; i++) {
        int start = cursor;
        int end = start + 15 * (1 + pick(r, 40));
        if (end > 1440 || chance(r, 10))
            end = 1440;
        d->ranges[d->count].start = (uint16_t)start;
        d->ranges[d->count].end = (uint16_t)end;
        d->count++;
        cursor = end + (chance(r, 20) ? 0 : 15 * pick(r, 12)); /* sometimes touching */
    }
    int bad;
    if (eng_day_hours_normalize(d, &bad) != 0)
        d->count = 0;
}

static void random_week(rng_t *r, eng_week_t *w)
{
    if (chance(r, 50)) {
        eng_day_hours_t day;
        random_day_hours(r, &day);
        for (int i = 0; i < 7; i++)
            w->day[i] = i < 5 || chance(r, 30) ? day : (eng_day_hours_t){0};
        return;
    }
    for (int i = 0; i < 7; i++)
        random_day_hours(r, &w->day[i]);
}

static tz_zone_t *random_zone(rng_t *r, tz_zone_t *usual)
{
    if (usual && chance(r, 70))
        return usual;
    return test_zone(zones[pick(r, (int)(sizeof(zones) / sizeof(zones[0])))]);
}

void sc_generate(scenario_t *s, uint64_t seed)
{
    rng_t rng = {seed * 0x2545f4914f6cdd1dULL + 1};
    rng_t *r = &rng;
    memset(s, 0, sizeof(*s));
    s->zone = random_zone(r, NULL);
    int32_t base = test_day(base_days[pick(r, (int)(sizeof(base_days) / sizeof(base_days[0])))]);
    base += pick(r, 5) - 2;
    int64_t base_wall = (int64_t)base * 86400;

    s->has_hours = chance(r, 40);
    if (s->has_hours)
        random_week(r, &s->hours);
    for (int i = 0, n = chance(r, 25) ? 1 + pick(r, SC_MAX_CLOSURES) : 0; i < n; i++)
        s->closures[s->closure_count++] = base + pick(r, 9) - 3;

    s->location_count = chance(r, 40) ? 1 + pick(r, SC_MAX_LOCATIONS) : 0;
    for (int i = 0; i < s->location_count; i++) {
        sc_location_t *l = &s->locations[i];
        l->zone = random_zone(r, s->zone);
        l->has_hours = chance(r, 50);
        if (l->has_hours)
            random_week(r, &l->hours);
        for (int k = 0, n = chance(r, 30) ? 1 + pick(r, SC_MAX_CLOSURES) : 0; k < n; k++)
            l->closures[l->closure_count++] = base + pick(r, 9) - 3;
    }

    int duration_choices[] = {15, 20, 30, 45, 60, 90, 25, 50, 7, 120};
    int interval_choices[] = {0, 0, 0, 5, 10, 15, 20, 30, 45, 7, 13, 60, 90};
    s->spec.duration_minutes = duration_choices[pick(r, 10)];
    s->spec.interval_minutes = interval_choices[pick(r, 13)];
    s->spec.buffer_before_minutes = chance(r, 50) ? 0 : 5 * pick(r, 7);
    s->spec.buffer_after_minutes = chance(r, 50) ? 0 : 5 * pick(r, 7);
    int notice_choices[] = {0, 0, 30, 120, 1440, 17};
    s->spec.min_notice_minutes = notice_choices[pick(r, 6)];
    int horizon_choices[] = {-1, -1, -1, 0, 1, 3};
    s->spec.max_advance_days = horizon_choices[pick(r, 6)];

    s->resource_count = 1 + pick(r, SC_MAX_RESOURCES);
    for (int i = 0; i < s->resource_count; i++) {
        sc_resource_t *res = &s->resources[i];
        for (int b = 0; b < 16; b++)
            res->id.bytes[b] = (uint8_t)next(r);
        res->zone = random_zone(r, s->zone);
        res->location = s->location_count && chance(r, 70) ? pick(r, s->location_count) : -1;
        res->active = !chance(r, 8);
        random_week(r, &res->week);
        for (int k = 0, n = chance(r, 40) ? 1 + pick(r, SC_MAX_OVERRIDES) : 0; k < n; k++) {
            int32_t day = base + pick(r, 11) - 4;
            bool seen = false;
            for (int j = 0; j < res->override_count; j++)
                seen |= res->overrides[j].day == day;
            if (seen)
                continue;
            sc_override_t *o = &res->overrides[res->override_count++];
            o->day = day;
            random_day_hours(r, &o->hours);
        }
        int busy = pick(r, 4) == 0 ? 0 : pick(r, SC_MAX_BUSY / 2);
        for (int k = 0; k < busy; k++) {
            eng_busy_t *b = &res->busy[res->busy_count];
            int64_t start = base_wall + (pick(r, 10 * 24 * 12) - 4 * 24 * 12) * 300LL -
                            tz_offset_at(res->zone, base_wall);
            *b = (eng_busy_t){.start = start,
                              .end = start + 60LL * (5 + 5 * pick(r, 24)),
                              .kind = (eng_busy_kind_t)pick(r, 4),
                              .key = (uint64_t)k + 1};
            if (b->kind == ENG_BUSY_BOOKING || b->kind == ENG_BUSY_HOLD) {
                b->buffer_before = (uint16_t)(chance(r, 50) ? 0 : 5 * pick(r, 7));
                b->buffer_after = (uint16_t)(chance(r, 50) ? 0 : 5 * pick(r, 7));
            }
            b->stamp = base_wall - 86400 * 30 + pick(r, 86400 * 40);
            res->busy_count++;
        }
        if (chance(r, 20)) {
            static const char *const rules[] = {
                "FREQ=DAILY;COUNT=5",           "FREQ=WEEKLY;BYDAY=MO,WE,FR",
                "FREQ=DAILY;INTERVAL=2",        "FREQ=WEEKLY;BYDAY=SU;COUNT=3",
                "FREQ=DAILY;UNTIL=(3 days on)", "FREQ=MONTHLY;BYMONTHDAY=29,30,1"};
            sc_recurring_t *rec = &res->recurring[res->recurring_count++];
            int rule = pick(r, 6);
            snprintf(rec->rrule, sizeof(rec->rrule), "%s", rules[rule]);
            rec->start_wall = base_wall - 86400LL * pick(r, 5) + 60LL * 15 * pick(r, 96);
            if (rule == 4) { /* an UNTIL two to three days after the start (never before it) */
                tz_date_t u = tz_civil_from_days(tz_day_of(rec->start_wall) + 3);
                snprintf(rec->rrule, sizeof(rec->rrule), "FREQ=DAILY;UNTIL=%04d%02d%02dT000000Z",
                         (int)u.year, (int)u.month, (int)u.day);
            }
            rec->duration_minutes = 15 * (1 + pick(r, 8));
            if (chance(r, 50))
                rec->exdates[rec->exdate_count++] = rec->start_wall + 86400LL * pick(r, 3);
        }
    }

    s->group_count = 1 + (chance(r, 30) ? 1 + pick(r, 2) : 0);
    for (int g = 0; g < s->group_count; g++) {
        sc_group_t *group = &s->groups[g];
        group->mode = chance(r, 70) ? ENG_GROUP_ANY : ENG_GROUP_ALL;
        for (int i = 0; i < s->resource_count; i++)
            if (chance(r, 60) || (i == s->resource_count - 1 && group->count == 0))
                group->members[group->count++] = i;
        if (group->mode == ENG_GROUP_ALL && group->count > 2)
            group->count = 2;
    }

    /* The window: a few hours to a week, starting at a random minute or midnight. */
    tz_zone_t *window_zone = s->zone;
    if (chance(r, 30))
        s->display = random_zone(r, NULL);
    int64_t from_wall =
        base_wall - 86400LL * pick(r, 2) + (chance(r, 40) ? 0 : 60LL * pick(r, 24 * 60));
    s->from = tz_from_wall(window_zone, from_wall);
    s->to = s->from + (chance(r, 30) ? 3600LL * (1 + pick(r, 30)) : 86400LL * (1 + pick(r, 6)));
    s->now =
        s->from + 60LL * (pick(r, 3 * 24 * 60) - 2 * 24 * 60) + (chance(r, 20) ? pick(r, 60) : 0);

    if (chance(r, 15))
        for (int i = 0, n = 1 + pick(r, 2); i < n; i++)
            s->filter[s->filter_count++] = pick(r, s->resource_count);
    if (s->filter_count == 2 && s->filter[0] == s->filter[1])
        s->filter_count = 1;
    s->location_filter = s->location_count && chance(r, 15) ? pick(r, s->location_count) : -1;
    s->limit = chance(r, 15) ? (uint32_t)(1 + pick(r, 5)) : 0;
    s->per_day = chance(r, 15) ? (uint32_t)(1 + pick(r, 3)) : 0;
}

static void print_week(FILE *f, const char *label, const eng_week_t *w)
{
    fprintf(f, "  %s:", label);
    for (int d = 0; d < 7; d++) {
        fprintf(f, " [");
        for (int i = 0; i < w->day[d].count; i++)
            fprintf(f, "%s%02d:%02d-%02d:%02d", i ? "," : "", w->day[d].ranges[i].start / 60,
                    w->day[d].ranges[i].start % 60, w->day[d].ranges[i].end / 60,
                    w->day[d].ranges[i].end % 60);
        fprintf(f, "]");
    }
    fprintf(f, "\n");
}

void sc_print(const scenario_t *s, FILE *f)
{
    fprintf(f, "scenario: org zone %s\n", tz_zone_name(s->zone));
    if (s->has_hours)
        print_week(f, "org hours", &s->hours);
    for (int i = 0; i < s->closure_count; i++)
        fprintf(f, "  org closure day %d\n", s->closures[i]);
    for (int i = 0; i < s->location_count; i++) {
        fprintf(f, "  location %d zone %s\n", i, tz_zone_name(s->locations[i].zone));
        if (s->locations[i].has_hours)
            print_week(f, "location hours", &s->locations[i].hours);
        for (int k = 0; k < s->locations[i].closure_count; k++)
            fprintf(f, "  location closure day %d\n", s->locations[i].closures[k]);
    }
    for (int i = 0; i < s->resource_count; i++) {
        const sc_resource_t *r = &s->resources[i];
        fprintf(f, "  resource %d zone %s location %d active %d id..%02x\n", i,
                tz_zone_name(r->zone), r->location, r->active, r->id.bytes[0]);
        print_week(f, "week", &r->week);
        for (int k = 0; k < r->override_count; k++) {
            eng_week_t w = {0};
            w.day[0] = r->overrides[k].hours;
            char label[32];
            snprintf(label, sizeof(label), "override %d", r->overrides[k].day);
            print_week(f, label, &w);
        }
        for (int k = 0; k < r->busy_count; k++)
            fprintf(f, "    busy kind %d %s .. %s bb %d ba %d stamp %" PRId64 "\n", r->busy[k].kind,
                    test_format(r->zone, r->busy[k].start), test_format(r->zone, r->busy[k].end),
                    r->busy[k].buffer_before, r->busy[k].buffer_after, r->busy[k].stamp);
        for (int k = 0; k < r->recurring_count; k++)
            fprintf(f, "    recurring %s from wall %" PRId64 " for %d min, %d exdates\n",
                    r->recurring[k].rrule, r->recurring[k].start_wall,
                    r->recurring[k].duration_minutes, r->recurring[k].exdate_count);
    }
    fprintf(f, "  service: d %d p %d bb %d ba %d notice %d horizon %d\n", s->spec.duration_minutes,
            s->spec.interval_minutes, s->spec.buffer_before_minutes, s->spec.buffer_after_minutes,
            s->spec.min_notice_minutes, s->spec.max_advance_days);
    for (int g = 0; g < s->group_count; g++) {
        fprintf(f, "  group %s:", s->groups[g].mode == ENG_GROUP_ANY ? "any" : "all");
        for (int m = 0; m < s->groups[g].count; m++)
            fprintf(f, " %d", s->groups[g].members[m]);
        fprintf(f, "\n");
    }
    tz_zone_t *z = s->display ? s->display : s->zone;
    fprintf(f, "  query %s .. %s now %s display %s", test_format(z, s->from), test_format(z, s->to),
            test_format(z, s->now), tz_zone_name(z));
    fprintf(f, " filter");
    for (int i = 0; i < s->filter_count; i++)
        fprintf(f, " %d", s->filter[i]);
    fprintf(f, " location %d limit %u per_day %u\n", s->location_filter, s->limit, s->per_day);
}

/* ---- expectations (slots_expect.h) --------------------------------------------- */

#include "slots_expect.h"

static sc_slot_t expect_engine[SC_MAX_SLOTS], expect_reference[SC_MAX_SLOTS];

static size_t both(const scenario_t *s, const char *file, int line)
{
    sc_engine_t e;
    sc_load(s, &e);
    eng_workspace_t *ws = eng_workspace_new();
    size_t n = sc_engine_slots(s, &e, ws, expect_engine, SC_MAX_SLOTS);
    eng_workspace_free(ws);
    sc_unload(&e);
    size_t nr = ref_slots(s, expect_reference, SC_MAX_SLOTS);
    bool agree = n == nr;
    for (size_t i = 0; agree && i < n; i++)
        agree = expect_engine[i].start == expect_reference[i].start &&
                expect_engine[i].resource_count == expect_reference[i].resource_count;
    if (!agree) {
        fprintf(stderr, "%s:%d: engine (%zu slots) and reference (%zu) disagree\n", file, line, n,
                nr);
        exit(1);
    }
    return n;
}

void expect_starts(const scenario_t *s, const char *const *starts, size_t count, const char *file,
                   int line)
{
    size_t n = both(s, file, line);
    tz_zone_t *z = s->display ? s->display : s->zone;
    bool ok = n == count;
    for (size_t i = 0; ok && i < n; i++)
        ok = expect_engine[i].start == test_instant(starts[i]);
    if (!ok) {
        fprintf(stderr, "%s:%d: unexpected slots\n  expected:", file, line);
        for (size_t i = 0; i < count; i++)
            fprintf(stderr, " %s", starts[i]);
        fprintf(stderr, "\n  got:     ");
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, " %s", test_format(z, expect_engine[i].start));
        fprintf(stderr, "\n");
        exit(1);
    }
}

void expect_resources(const scenario_t *s, const char *start, const int *resources, int count,
                      const char *file, int line)
{
    size_t n = both(s, file, line);
    int64_t t = test_instant(start);
    for (size_t i = 0; i < n; i++) {
        if (expect_engine[i].start != t)
            continue;
        bool ok = expect_engine[i].resource_count == count;
        for (int k = 0; ok && k < count; k++)
            ok = expect_engine[i].resources[k] == resources[k];
        if (!ok) {
            fprintf(stderr, "%s:%d: slot %s has resources", file, line, start);
            for (int k = 0; k < expect_engine[i].resource_count; k++)
                fprintf(stderr, " %d", expect_engine[i].resources[k]);
            fprintf(stderr, "\n");
            exit(1);
        }
        return;
    }
    fprintf(stderr, "%s:%d: no slot at %s\n", file, line, start);
    exit(1);
}

bool sc_same_slots(const sc_slot_t *a, size_t na, const sc_slot_t *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++) {
        if (a[i].start != b[i].start || a[i].resource_count != b[i].resource_count)
            return false;
        for (int k = 0; k < a[i].resource_count; k++)
            if (a[i].resources[k] != b[i].resources[k])
                return false;
    }
    return true;
}
