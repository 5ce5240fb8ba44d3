/*
 * The reference implementation: docs/design.md's availability rules read literally,
 * minute by minute, with none of the engine's code or shortcuts.
 *
 * - Offsets come straight from libical, one lookup per minute of the domain.
 * - A wall time becomes an instant by searching the minutes around it for the
 *   earliest one showing that wall time; when none does (a gap), by finding the
 *   minute where the clock jumps over it and reading it with the offset before
 *   the jump.
 * - Open, busy and free time are arrays of booleans, one per minute.
 * - Ranges are runs of free minutes; groups combine by trying every
 *   combination; duplicates and contained ranges are found by comparing every
 *   pair; the grid, the snapping and the qualification are loops over lists.
 *
 * Everything in scenarios is on whole minutes except `now`, which only moves
 * the earliest start; the rounding handles seconds.
 */
#include <libical/ical.h>
#include <string.h>

#include "scenario.h"
#include "test.h"

#define MINUTE 60
#define DAY 86400

typedef struct {
    tz_zone_t *zone;
    int32_t *offset; /* per minute of the table */
} zone_table_t;

typedef struct {
    const scenario_t *s;
    int64_t from, to, now;
    const int *filter;
    int filter_count;
    int64_t first; /* first minute instant of the domain */
    int minutes;   /* minutes in the domain */
    int64_t table_first;
    int table_minutes;
    zone_table_t zones[16];
    int zone_count;
} ref_t;

typedef struct {
    int64_t start, end;
} run_t;

static icaltimezone *libical_zone(tz_zone_t *zone)
{
    return strcmp(tz_zone_name(zone), "UTC") == 0
               ? icaltimezone_get_utc_timezone()
               : icaltimezone_get_builtin_timezone(tz_zone_name(zone));
}

static int32_t libical_offset(icaltimezone *z, int64_t instant)
{
    struct icaltimetype t =
        icaltime_from_timet_with_zone((time_t)instant, 0, icaltimezone_get_utc_timezone());
    int dst;
    return icaltimezone_get_utc_offset_of_utc_time(z, &t, &dst);
}

static const zone_table_t *table(ref_t *ref, tz_zone_t *zone)
{
    for (int i = 0; i < ref->zone_count; i++)
        if (ref->zones[i].zone == zone)
            return &ref->zones[i];
    CHECK(ref->zone_count < 16);
    zone_table_t *t = &ref->zones[ref->zone_count++];
    t->zone = zone;
    t->offset = malloc(sizeof(int32_t) * (size_t)ref->table_minutes);
    icaltimezone *z = libical_zone(zone);
    for (int m = 0; m < ref->table_minutes; m++)
        t->offset[m] = libical_offset(z, ref->table_first + (int64_t)m * MINUTE);
    return t;
}

static int32_t offset_at(ref_t *ref, tz_zone_t *zone, int64_t instant)
{
    int64_t m = (instant - ref->table_first) / MINUTE;
    if (instant < ref->table_first || m >= ref->table_minutes) /* the clock, far away */
        return libical_offset(libical_zone(zone), instant);
    return table(ref, zone)->offset[m];
}

static int64_t from_wall(ref_t *ref, tz_zone_t *zone, int64_t wall)
{
    const zone_table_t *t = table(ref, zone);
    int64_t lo = (wall - 16 * 3600 - ref->table_first) / MINUTE;
    int64_t hi = (wall + 16 * 3600 - ref->table_first) / MINUTE;
    CHECK(lo >= 1 && hi < ref->table_minutes);
    for (int64_t m = lo; m <= hi; m++) {
        int64_t instant = ref->table_first + m * MINUTE;
        if (instant + t->offset[m] == wall)
            return instant;
    }
    for (int64_t m = lo; m <= hi; m++) {
        int64_t instant = ref->table_first + m * MINUTE;
        if (instant + t->offset[m - 1] <= wall && wall < instant + t->offset[m])
            return wall - t->offset[m - 1];
    }
    fprintf(stderr, "reference: wall time %" PRId64 " has no instant\n", wall);
    exit(1);
}

static int64_t local_day(ref_t *ref, tz_zone_t *zone, int64_t instant)
{
    int64_t wall = instant + offset_at(ref, zone, instant);
    return wall >= 0 ? wall / DAY : (wall - DAY + 1) / DAY;
}

/* Marks minutes of [start, end) within the domain. */
static void mark(ref_t *ref, bool *minutes, int64_t start, int64_t end, bool value)
{
    for (int64_t t = start; t < end; t += MINUTE) {
        int64_t m = (t - ref->first) / MINUTE;
        if (t >= ref->first && m < ref->minutes)
            minutes[m] = value;
    }
}

static int64_t domain_first_day(ref_t *ref, tz_zone_t *zone)
{
    return local_day(ref, zone, ref->first) - 1;
}

static int64_t domain_last_day(ref_t *ref, tz_zone_t *zone)
{
    return local_day(ref, zone, ref->first + (int64_t)ref->minutes * MINUTE) + 1;
}

/* Hours of a week (or a resource's days with overrides) as open minutes. */
static void mark_hours(ref_t *ref, bool *open, tz_zone_t *zone, const eng_week_t *week,
                       const sc_resource_t *r)
{
    for (int64_t day = domain_first_day(ref, zone); day <= domain_last_day(ref, zone); day++) {
        const eng_day_hours_t *h = &week->day[(day % 7 + 7 + 3) % 7];
        if (r)
            for (int k = 0; k < r->override_count; k++)
                if (r->overrides[k].day == day)
                    h = &r->overrides[k].hours;
        for (int i = 0; i < h->count; i++) {
            int64_t start = from_wall(ref, zone, day * DAY + h->ranges[i].start * 60);
            int64_t end = from_wall(ref, zone, day * DAY + h->ranges[i].end * 60);
            mark(ref, open, start, end, true);
        }
    }
}

static void mark_closures(ref_t *ref, bool *open, tz_zone_t *zone, const int32_t *days, int n)
{
    for (int i = 0; i < n; i++)
        if (days[i] >= domain_first_day(ref, zone) && days[i] <= domain_last_day(ref, zone))
            mark(ref, open, from_wall(ref, zone, (int64_t)days[i] * DAY),
                 from_wall(ref, zone, (int64_t)(days[i] + 1) * DAY), false);
}

static int64_t wall_of(struct icaltimetype t)
{
    return (int64_t)tz_days_from_civil(t.year, t.month, t.day) * DAY + t.hour * 3600 +
           t.minute * 60 + t.second;
}

/* Recurring block occurrences as busy minutes, widened by the service's buffers. */
static void mark_recurring(ref_t *ref, bool *busy, const sc_resource_t *r,
                           const sc_recurring_t *rec, int64_t widen_before, int64_t widen_after)
{
    struct icalrecurrencetype rule = icalrecurrencetype_from_string(rec->rrule);
    bool until_utc = false;
    int64_t until = INT64_MAX;
    if (!icaltime_is_null_time(rule.until)) {
        until_utc = icaltime_is_utc(rule.until);
        until = until_utc ? (int64_t)icaltime_as_timet(rule.until) : wall_of(rule.until);
        rule.until = icaltime_null_time();
    }
    struct icaltimetype start = icaltime_null_time();
    tz_date_t d = tz_civil_from_days((int32_t)(rec->start_wall / DAY));
    int64_t sec = rec->start_wall % DAY;
    start.year = d.year;
    start.month = d.month;
    start.day = d.day;
    start.hour = (int)(sec / 3600);
    start.minute = (int)(sec / 60 % 60);
    icalrecur_iterator *it = icalrecur_iterator_new(rule, start);
    int64_t last_wall = ref->first + (int64_t)ref->minutes * MINUTE + 2 * DAY;
    for (;;) {
        struct icaltimetype occ = icalrecur_iterator_next(it);
        if (icaltime_is_null_time(occ))
            break;
        int64_t wall = wall_of(occ);
        if (wall > last_wall)
            break;
        int64_t instant_guess = wall;
        if (wall < ref->table_first + 2 * DAY) /* far before the domain: cannot matter */
            continue;
        int64_t instant = from_wall(ref, r->zone, wall);
        (void)instant_guess;
        if ((until_utc ? instant : wall) > until)
            break;
        bool excluded = false;
        for (int k = 0; k < rec->exdate_count; k++)
            excluded |= rec->exdates[k] == wall;
        if (excluded)
            continue;
        mark(ref, busy, instant - widen_after, instant + rec->duration_minutes * 60 + widen_before,
             true);
    }
    icalrecur_iterator_free(it);
    icalerror_clear_errno();
}

static bool in_filter(const ref_t *ref, int resource)
{
    for (int i = 0; i < ref->filter_count; i++)
        if (ref->filter[i] == resource)
            return true;
    return false;
}

static int compare_id(const scenario_t *s, int a, int b)
{
    return memcmp(s->resources[a].id.bytes, s->resources[b].id.bytes, 16);
}

static size_t run(ref_t *ref, sc_slot_t *out, size_t capacity, uint32_t limit, uint32_t per_day)
{
    const scenario_t *s = ref->s;
    const eng_service_spec_t *spec = &s->spec;
    int64_t d = spec->duration_minutes * 60LL;
    int64_t p = (spec->interval_minutes ? spec->interval_minutes : spec->duration_minutes) * 60LL;
    int64_t bb = spec->buffer_before_minutes * 60LL, ba = spec->buffer_after_minutes * 60LL;
    tz_zone_t *Z = s->display ? s->display : s->zone;

    /* Candidates of each group, with the documented filter semantics. */
    bool candidate[SC_MAX_GROUPS][SC_MAX_RESOURCES] = {{false}};
    bool named = false;
    for (int g = 0; g < s->group_count; g++) {
        const sc_group_t *group = &s->groups[g];
        bool filtered = false;
        for (int m = 0; m < group->count; m++) {
            bool in = in_filter(ref, group->members[m]);
            named |= in;
            filtered |= in && group->mode == ENG_GROUP_ANY;
        }
        int usable = 0;
        for (int m = 0; m < group->count; m++) {
            const sc_resource_t *r = &s->resources[group->members[m]];
            bool ok = r->active && (s->location_filter < 0 || r->location == s->location_filter) &&
                      (!filtered || in_filter(ref, group->members[m]));
            if (!ok && group->mode == ENG_GROUP_ALL)
                return 0;
            candidate[g][m] = ok;
            usable += ok;
        }
        if (usable == 0)
            return 0;
    }
    if (ref->filter_count > 0 && !named)
        return 0;

    /* Rules 1-3: free minutes of every resource. */
    bool *free_minutes[SC_MAX_RESOURCES];
    for (int i = 0; i < s->resource_count; i++) {
        const sc_resource_t *r = &s->resources[i];
        bool *open = calloc((size_t)ref->minutes, 1);
        bool *bound = calloc((size_t)ref->minutes, 1);
        bool *busy = calloc((size_t)ref->minutes, 1);
        mark_hours(ref, open, r->zone, &r->week, r);
        const sc_location_t *loc = r->location >= 0 ? &s->locations[r->location] : NULL;
        if (loc && loc->has_hours)
            mark_hours(ref, bound, loc->zone, &loc->hours, NULL);
        else if (s->has_hours)
            mark_hours(ref, bound, s->zone, &s->hours, NULL);
        else
            memset(bound, 1, (size_t)ref->minutes);
        mark_closures(ref, bound, s->zone, s->closures, s->closure_count);
        if (loc)
            mark_closures(ref, bound, loc->zone, loc->closures, loc->closure_count);
        for (int k = 0; k < r->busy_count; k++) {
            const eng_busy_t *b = &r->busy[k];
            if (b->kind == ENG_BUSY_HOLD && b->stamp <= ref->now)
                continue;
            bool padded = b->kind == ENG_BUSY_BOOKING || b->kind == ENG_BUSY_HOLD;
            int64_t start = b->start - (padded ? b->buffer_before * 60LL : 0);
            int64_t end = b->end + (padded ? b->buffer_after * 60LL : 0);
            mark(ref, busy, start - ba, end + bb, true);
        }
        for (int k = 0; k < r->recurring_count; k++)
            mark_recurring(ref, busy, r, &r->recurring[k], bb, ba);
        free_minutes[i] = open;
        for (int m = 0; m < ref->minutes; m++)
            open[m] = open[m] && bound[m] && !busy[m];
        free(bound);
        free(busy);
    }

    /* Rule 4: ranges. Runs of free minutes per candidate; groups combined by
     * every combination. */
    enum { MAX_RANGES = 20000 };
    run_t *ranges = malloc(sizeof(run_t) * MAX_RANGES);
    run_t *next_ranges = malloc(sizeof(run_t) * MAX_RANGES);
    run_t *group_runs = malloc(sizeof(run_t) * MAX_RANGES);
    int range_count = 0;
    bool *all = malloc((size_t)ref->minutes);
    for (int g = 0; g < s->group_count; g++) {
        const sc_group_t *group = &s->groups[g];
        int n = 0;
        int pass_count = group->mode == ENG_GROUP_ANY ? group->count : 1;
        for (int pass = 0; pass < pass_count; pass++) {
            if (group->mode == ENG_GROUP_ANY) {
                if (!candidate[g][pass])
                    continue;
                memcpy(all, free_minutes[group->members[pass]], (size_t)ref->minutes);
            } else {
                memset(all, 1, (size_t)ref->minutes);
                for (int m = 0; m < group->count; m++)
                    for (int k = 0; k < ref->minutes; k++)
                        all[k] = all[k] && free_minutes[group->members[m]][k];
            }
            for (int k = 0; k < ref->minutes;) {
                if (!all[k]) {
                    k++;
                    continue;
                }
                int e = k;
                while (e < ref->minutes && all[e])
                    e++;
                CHECK(n < MAX_RANGES);
                group_runs[n++] =
                    (run_t){ref->first + (int64_t)k * MINUTE, ref->first + (int64_t)e * MINUTE};
                k = e;
            }
        }
        if (g == 0) {
            memcpy(ranges, group_runs, sizeof(run_t) * (size_t)n);
            range_count = n;
            continue;
        }
        int m = 0;
        for (int i = 0; i < range_count; i++)
            for (int j = 0; j < n; j++) {
                int64_t a =
                    ranges[i].start > group_runs[j].start ? ranges[i].start : group_runs[j].start;
                int64_t b = ranges[i].end < group_runs[j].end ? ranges[i].end : group_runs[j].end;
                if (a < b) {
                    CHECK(m < MAX_RANGES);
                    next_ranges[m++] = (run_t){a, b};
                }
            }
        memcpy(ranges, next_ranges, sizeof(run_t) * (size_t)m);
        range_count = m;
    }
    /* Drop duplicates and ranges contained in another. */
    int kept = 0;
    for (int i = 0; i < range_count; i++) {
        bool drop = false;
        for (int j = 0; j < range_count && !drop; j++) {
            if (i == j)
                continue;
            bool inside = ranges[j].start <= ranges[i].start && ranges[i].end <= ranges[j].end;
            bool same = ranges[j].start == ranges[i].start && ranges[j].end == ranges[i].end;
            drop = same ? j < i : inside;
        }
        if (!drop)
            next_ranges[kept++] = ranges[i];
    }
    /* Order of start (selection sort, deliberately plain). */
    for (int i = 0; i < kept; i++)
        for (int j = i + 1; j < kept; j++)
            if (next_ranges[j].start < next_ranges[i].start) {
                run_t x = next_ranges[i];
                next_ranges[i] = next_ranges[j];
                next_ranges[j] = x;
            }

    /* Rules 5-7. */
    int64_t notice = spec->min_notice_minutes * 60LL;
    int64_t E = ref->now + (notice > 60 ? notice : 60);
    if (ref->from > E)
        E = ref->from;
    int u = 1;
    int units[] = {60, 30, 20, 15, 10, 5};
    for (int i = 0; i < 6; i++)
        if ((p / 60) % units[i] == 0) {
            u = units[i];
            break;
        }
    int64_t *emitted = malloc(sizeof(int64_t) * 100000);
    int emitted_count = 0;
    for (int i = 0; i < kept; i++) {
        int64_t t0 = next_ranges[i].start > E ? next_ranges[i].start : E;
        if (t0 % 60)
            t0 += 60 - t0 % 60;
        for (;;) {
            int64_t local = t0 + offset_at(ref, Z, t0);
            int64_t minute_of_hour = ((local % 3600) + 3600) % 3600 / 60;
            if (local % 60 == 0 && minute_of_hour % u == 0)
                break;
            t0 += 60;
        }
        int64_t best = INT64_MIN;
        for (int k = 0; k < emitted_count; k++)
            if (emitted[k] <= t0 && t0 < emitted[k] + p && emitted[k] > best)
                best = emitted[k];
        if (best != INT64_MIN)
            t0 = best >= next_ranges[i].start ? best : best + p;
        for (int64_t t = t0; t + d <= next_ranges[i].end && t < ref->to; t += p) {
            bool seen = false;
            for (int k = 0; k < emitted_count && !seen; k++)
                seen = emitted[k] == t;
            if (!seen) {
                CHECK(emitted_count < 100000);
                emitted[emitted_count++] = t;
            }
        }
    }
    for (int i = 0; i < emitted_count; i++)
        for (int j = i + 1; j < emitted_count; j++)
            if (emitted[j] < emitted[i]) {
                int64_t x = emitted[i];
                emitted[i] = emitted[j];
                emitted[j] = x;
            }

    /* Rules 8-10. */
    size_t n = 0;
    int64_t today = local_day(ref, Z, ref->now);
    int64_t current_day = INT64_MIN;
    uint32_t on_day = 0;
    for (int i = 0; i < emitted_count && n < capacity; i++) {
        int64_t t = emitted[i];
        bool serves[SC_MAX_RESOURCES] = {false};
        for (int r = 0; r < s->resource_count; r++) {
            bool ok = true;
            for (int64_t x = t; x < t + d && ok; x += MINUTE) {
                int64_t m = (x - ref->first) / MINUTE;
                ok = x >= ref->first && m < ref->minutes && free_minutes[r][m];
            }
            serves[r] = ok;
        }
        bool ok = true;
        bool member_serves[SC_MAX_RESOURCES] = {false};
        for (int g = 0; g < s->group_count && ok; g++) {
            int serving = 0, needed = 0;
            for (int m = 0; m < s->groups[g].count; m++) {
                if (!candidate[g][m])
                    continue;
                needed++;
                if (serves[s->groups[g].members[m]]) {
                    serving++;
                    member_serves[s->groups[g].members[m]] = true;
                }
            }
            ok = s->groups[g].mode == ENG_GROUP_ANY ? serving > 0 : serving == needed;
        }
        if (!ok)
            continue;
        int64_t day = local_day(ref, Z, t);
        if (spec->max_advance_days >= 0 && day > today + spec->max_advance_days)
            continue;
        if (day != current_day) {
            current_day = day;
            on_day = 0;
        }
        if (per_day && on_day >= per_day)
            continue;
        on_day++;
        sc_slot_t *slot = &out[n++];
        slot->start = t;
        slot->resource_count = 0;
        for (int r = 0; r < s->resource_count; r++)
            if (member_serves[r])
                slot->resources[slot->resource_count++] = r;
        for (int a = 0; a < slot->resource_count; a++)
            for (int b = a + 1; b < slot->resource_count; b++)
                if (compare_id(s, slot->resources[b], slot->resources[a]) < 0) {
                    int x = slot->resources[a];
                    slot->resources[a] = slot->resources[b];
                    slot->resources[b] = x;
                }
        if (limit && n == limit)
            break;
    }

    for (int i = 0; i < s->resource_count; i++)
        free(free_minutes[i]);
    free(all);
    free(ranges);
    free(next_ranges);
    free(group_runs);
    free(emitted);
    return n;
}

static void setup(ref_t *ref, const scenario_t *s, int64_t from, int64_t to)
{
    memset(ref, 0, sizeof(*ref));
    ref->s = s;
    ref->from = from;
    ref->to = to;
    ref->now = s->now;
    /* The reference's own domain: three days around the window. */
    int64_t first = from - 3 * DAY;
    first -= ((first % MINUTE) + MINUTE) % MINUTE;
    ref->first = first;
    int64_t last = to + s->spec.duration_minutes * 60LL + 3 * DAY;
    ref->minutes = (int)((last - first) / MINUTE);
    ref->table_first = first - 4 * DAY;
    ref->table_minutes = ref->minutes + (int)(8 * DAY / MINUTE);
}

static void teardown(ref_t *ref)
{
    for (int i = 0; i < ref->zone_count; i++)
        free(ref->zones[i].offset);
}

size_t ref_slots(const scenario_t *s, sc_slot_t *out, size_t capacity)
{
    ref_t ref;
    setup(&ref, s, s->from, s->to);
    ref.filter = s->filter;
    ref.filter_count = s->filter_count;
    size_t n = s->to > s->from ? run(&ref, out, capacity, s->limit, s->per_day) : 0;
    teardown(&ref);
    return n;
}

static bool ref_offered_with(const scenario_t *s, int64_t start, const int *filter,
                             int filter_count, const int *pinned, int pinned_count)
{
    ref_t ref;
    /* "Window aside": a window from the clock itself, so the earliest start is
     * the clock plus the notice, up to just past the start. */
    setup(&ref, s, s->now, start + 1);
    ref.filter = filter;
    ref.filter_count = filter_count;
    sc_slot_t *slots = malloc(sizeof(sc_slot_t) * SC_MAX_SLOTS * 4);
    bool found = false;
    if (start + 1 > s->now) {
        size_t n = run(&ref, slots, SC_MAX_SLOTS * 4, 0, 0);
        for (size_t i = 0; i < n && !found; i++) {
            if (slots[i].start != start)
                continue;
            found = true;
            for (int k = 0; k < pinned_count; k++) {
                bool serves = false;
                for (int j = 0; j < slots[i].resource_count; j++)
                    serves |= slots[i].resources[j] == pinned[k];
                found &= serves;
            }
        }
    }
    free(slots);
    teardown(&ref);
    return found;
}

bool ref_offered(const scenario_t *s, int64_t start, const int *pinned, int pinned_count)
{
    /* Offered with the pinned resources as the filter, or offered without one
     * with every pinned resource serving it. */
    return ref_offered_with(s, start, pinned, pinned_count, NULL, 0) ||
           (pinned_count > 0 && ref_offered_with(s, start, NULL, 0, pinned, pinned_count));
}
