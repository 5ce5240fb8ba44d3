/*
 * The engine's API with bad or unusual input: every refusal is an error code,
 * nothing crashes or runs without bound, and recurring rules follow RFC 5545.
 */
#include <libical/ical.h>

#include "scenario.h"
#include "test.h"

typedef struct {
    eng_org_t *org;
    eng_resource_t *r;
    eng_service_t *service;
} fixture_t;

static void fixture(fixture_t *f, const char *zone)
{
    f->org = eng_org_new(test_zone(zone));
    eng_id_t id = {{0}};
    id.bytes[15] = 1;
    f->r = eng_resource_new(f->org, &id, test_zone(zone));
    eng_week_t week = {0};
    sc_week_days(&week, 0, 6, 0, 1440);
    CHECK_EQ(eng_resource_set_week(f->r, &week), 0);
    eng_service_spec_t spec = {.duration_minutes = 60, .max_advance_days = -1};
    CHECK_EQ(eng_service_new(f->org, &spec, &f->service), 0);
    CHECK_EQ(eng_service_add_group(f->service, ENG_GROUP_ANY, &f->r, 1), 0);
}

static size_t occurrences(fixture_t *f, const char *from, const char *to, eng_busy_t **out)
{
    size_t count = 0, capacity = 0;
    *out = NULL;
    eng_resource_recurring_occurrences(f->r, test_instant(from), test_instant(to), out, &count,
                                       &capacity);
    return count;
}

TEST(rules_recurring_block_refuses_unusable_rules)
{
    fixture_t f;
    fixture(&f, "UTC");
    int64_t start = test_wall("2026-01-02T12:00");
    const char *bad[] = {"FREQ=HOURLY",
                         "FREQ=MINUTELY",
                         "FREQ=WEEKLY;BYDAY=XX",
                         "garbage",
                         "",
                         "FREQ=DAILY;COUNT=3;UNTIL=20260101T000000Z",
                         "FREQ=DAILY;INTERVAL=0"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (eng_resource_add_recurring_block(f.r, 1, bad[i], start, 60, NULL, 0) != ENG_ERRULE) {
            fprintf(stderr, "accepted: %s\n", bad[i]);
            exit(1);
        }
    CHECK_EQ(eng_resource_add_recurring_block(f.r, 1, "FREQ=DAILY", start, 0, NULL, 0),
             ENG_EDURATION);
    CHECK_EQ(eng_resource_add_recurring_block(f.r, 1, "FREQ=DAILY", start, 60, NULL, 0), 0);
    CHECK_EQ(eng_resource_add_recurring_block(f.r, 1, "FREQ=DAILY", start, 60, NULL, 0),
             ENG_EEXISTS);
    CHECK_EQ(eng_resource_remove_recurring_block(f.r, 1), 0);
    CHECK_EQ(eng_resource_remove_recurring_block(f.r, 1), ENG_ENOTFOUND);
    eng_org_free(f.org);
}

TEST(rules_recurring_rule_that_never_matches_is_refused)
{
    fixture_t f;
    fixture(&f, "UTC");
    CHECK_EQ(eng_resource_add_recurring_block(f.r, 1, "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
                                              test_wall("2026-01-01T12:00"), 60, NULL, 0),
             ENG_ERRULE);
    eng_org_free(f.org);
}

TEST(rules_recurring_rule_that_rarely_matches_expands_only_to_the_window)
{
    fixture_t f;
    fixture(&f, "UTC");
    CHECK_EQ(eng_resource_add_recurring_block(f.r, 1, "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
                                              test_wall("2026-01-01T12:00"), 60, NULL, 0),
             0);
    eng_busy_t *out;
    CHECK_EQ(occurrences(&f, "2026-01-01T00:00Z", "2028-03-01T00:00Z", &out), 1);
    CHECK_EQ(out[0].start, test_instant("2028-02-29T12:00Z"));
    free(out);
    /* and a slot query in a year without one answers */
    eng_workspace_t *ws = eng_workspace_new();
    eng_query_t q = {.service = f.service,
                     .from = test_instant("2027-02-01T00:00Z"),
                     .to = test_instant("2027-02-02T00:00Z"),
                     .now = 0};
    eng_slots_t slots;
    CHECK_EQ(eng_slots(ws, &q, &slots), 0);
    CHECK_EQ(slots.count, 24);
    eng_workspace_free(ws);
    eng_org_free(f.org);
}

TEST(rules_recurring_count_includes_excluded_dates)
{
    fixture_t f;
    fixture(&f, "Europe/Warsaw");
    int64_t ex[] = {test_wall("2026-01-03T12:00")};
    CHECK_EQ(eng_resource_add_recurring_block(f.r, 1, "FREQ=DAILY;COUNT=3",
                                              test_wall("2026-01-02T12:00"), 30, ex, 1),
             0);
    eng_busy_t *out;
    CHECK_EQ(occurrences(&f, "2026-01-01T00:00Z", "2026-01-10T00:00Z", &out), 2);
    CHECK_EQ(out[0].start, test_instant("2026-01-02T12:00+01:00"));
    CHECK_EQ(out[1].start, test_instant("2026-01-04T12:00+01:00"));
    CHECK_EQ(out[1].end, test_instant("2026-01-04T12:30+01:00"));
    free(out);
    eng_org_free(f.org);
}

TEST(rules_recurring_utc_until_includes_an_occurrence_at_that_instant)
{
    fixture_t f;
    fixture(&f, "Europe/Warsaw");
    /* 12:00 in Warsaw in January is 11:00Z */
    CHECK_EQ(eng_resource_add_recurring_block(f.r, 1, "FREQ=DAILY;UNTIL=20260104T110000Z",
                                              test_wall("2026-01-02T12:00"), 30, NULL, 0),
             0);
    eng_busy_t *out;
    CHECK_EQ(occurrences(&f, "2026-01-01T00:00Z", "2026-01-10T00:00Z", &out), 3);
    free(out);
    eng_org_free(f.org);
}

TEST(rules_recurring_floating_date_until_includes_that_date)
{
    fixture_t f;
    fixture(&f, "America/New_York");
    CHECK_EQ(eng_resource_add_recurring_block(f.r, 1, "FREQ=WEEKLY;BYDAY=MO,FR;UNTIL=20260109",
                                              test_wall("2026-01-02T23:00"), 60, NULL, 0),
             0);
    eng_busy_t *out;
    /* Fri 2nd, Mon 5th, Fri 9th */
    CHECK_EQ(occurrences(&f, "2026-01-01T00:00Z", "2026-02-01T00:00Z", &out), 3);
    CHECK_EQ(out[2].start, test_instant("2026-01-09T23:00-05:00"));
    free(out);
    eng_org_free(f.org);
}

TEST(rules_recurring_occurrence_in_a_gap_moves_forward)
{
    fixture_t f;
    fixture(&f, "Europe/Warsaw");
    CHECK_EQ(eng_resource_add_recurring_block(f.r, 1, "FREQ=DAILY;COUNT=3",
                                              test_wall("2026-03-28T02:30"), 60, NULL, 0),
             0);
    eng_busy_t *out;
    CHECK_EQ(occurrences(&f, "2026-03-27T00:00Z", "2026-04-01T00:00Z", &out), 3);
    CHECK_EQ(out[0].start, test_instant("2026-03-28T02:30+01:00"));
    CHECK_EQ(out[1].start, test_instant("2026-03-29T03:30+02:00"));
    CHECK_EQ(out[2].start, test_instant("2026-03-30T02:30+02:00"));
    free(out);
    eng_org_free(f.org);
}

TEST(rules_recurrence_in_its_own_zone_keeps_its_local_time_across_dst)
{
    /* the resource is in UTC; the series is 09:00 in New York every Monday, over the US change */
    fixture_t f;
    fixture(&f, "UTC");
    eng_recurrence_t spec = {.rrule = "FREQ=WEEKLY;BYDAY=MO",
                             .start_wall = test_wall("2026-02-23T09:00"),
                             .zone = test_zone("America/New_York"),
                             .duration_seconds = 45 * 60,
                             .kind = ENG_BUSY_EXTERNAL};
    CHECK_EQ(eng_resource_add_recurrence(f.r, 7, &spec), 0);
    eng_busy_t *out;
    CHECK_EQ(occurrences(&f, "2026-03-02T00:00Z", "2026-03-17T00:00Z", &out), 3);
    CHECK_EQ(out[0].start, test_instant("2026-03-02T09:00-05:00"));
    CHECK_EQ(out[1].start, test_instant("2026-03-09T09:00-04:00"));
    CHECK_EQ(out[2].start, test_instant("2026-03-16T09:00-04:00"));
    CHECK_EQ(out[2].end - out[2].start, 45 * 60);
    CHECK_EQ(out[0].kind, ENG_BUSY_EXTERNAL);
    CHECK_EQ(out[0].key, 7u);
    free(out);
    eng_org_free(f.org);
}

TEST(rules_recurrence_nominal_all_day_ends_at_local_midnight_on_a_dst_day)
{
    fixture_t f;
    fixture(&f, "UTC");
    eng_recurrence_t spec = {.rrule = "FREQ=DAILY",
                             .start_wall = test_wall("2026-03-27T00:00"),
                             .zone = test_zone("Europe/Warsaw"),
                             .duration_seconds = TZ_SECONDS_PER_DAY,
                             .nominal = true,
                             .kind = ENG_BUSY_EXTERNAL};
    CHECK_EQ(eng_resource_add_recurrence(f.r, 1, &spec), 0);
    eng_busy_t *out;
    CHECK_EQ(occurrences(&f, "2026-03-28T12:00Z", "2026-03-29T12:00Z", &out), 2);
    CHECK_EQ(out[0].start, test_instant("2026-03-28T00:00+01:00"));
    CHECK_EQ(out[0].end, test_instant("2026-03-29T00:00+01:00"));
    CHECK_EQ(out[1].start, test_instant("2026-03-29T00:00+01:00"));
    CHECK_EQ(out[1].end, test_instant("2026-03-30T00:00+02:00")); /* 23 hours */
    free(out);
    eng_org_free(f.org);
}

TEST(rules_recurrence_begun_long_ago_expands_from_where_it_is_needed)
{
    fixture_t f;
    fixture(&f, "UTC");
    /* every third day at 10:00 since 1990: expanded from 2026 on, in phase with its start */
    eng_recurrence_t spec = {.rrule = "FREQ=DAILY;INTERVAL=3",
                             .start_wall = test_wall("1990-01-01T10:00"),
                             .duration_seconds = 3600,
                             .kind = ENG_BUSY_EXTERNAL,
                             .expand_from_wall = test_wall("2026-12-01T00:00")};
    CHECK_EQ(eng_resource_add_recurrence(f.r, 1, &spec), 0);
    eng_busy_t *out;
    CHECK_EQ(occurrences(&f, "2026-12-01T00:00Z", "2026-12-08T00:00Z", &out), 2);
    int32_t first = tz_day_of(test_instant("1990-01-01T10:00Z"));
    CHECK_EQ((tz_day_of(out[0].start) - first) % 3, 0);
    CHECK_EQ(out[1].start - out[0].start, 3 * TZ_SECONDS_PER_DAY);
    free(out);
    /* nothing of its past was made */
    CHECK_EQ(occurrences(&f, "2026-01-01T00:00Z", "2026-02-01T00:00Z", &out), 0);
    free(out);
    eng_org_free(f.org);
}

TEST(rules_recurrence_of_seconds_and_bad_durations)
{
    fixture_t f;
    fixture(&f, "UTC");
    eng_recurrence_t spec = {.rrule = "FREQ=DAILY;COUNT=2",
                             .start_wall = test_wall("2026-12-01T10:00"),
                             .duration_seconds = 90,
                             .kind = ENG_BUSY_EXTERNAL};
    CHECK_EQ(eng_recurrence_check(&spec), 0);
    spec.duration_seconds = 0;
    CHECK_EQ(eng_recurrence_check(&spec), ENG_EDURATION);
    spec.duration_seconds = 31 * TZ_SECONDS_PER_DAY + 1;
    CHECK_EQ(eng_recurrence_check(&spec), ENG_EDURATION);
    spec.duration_seconds = 90;
    spec.start_wall = test_wall("1969-12-31T10:00");
    CHECK_EQ(eng_recurrence_check(&spec), ENG_ERANGE);
    eng_org_free(f.org);
}

TEST(rules_service_spec_out_of_bounds_is_refused)
{
    eng_service_spec_t ok = {.duration_minutes = 30, .max_advance_days = -1};
    CHECK_EQ(eng_service_spec_check(&ok), 0);
    eng_service_spec_t bad[] = {
        {.duration_minutes = 0, .max_advance_days = -1},
        {.duration_minutes = -5, .max_advance_days = -1},
        {.duration_minutes = ENG_MAX_DURATION_MINUTES + 1, .max_advance_days = -1},
        {.duration_minutes = 30, .interval_minutes = -1, .max_advance_days = -1},
        {.duration_minutes = 30, .buffer_before_minutes = -1, .max_advance_days = -1},
        {.duration_minutes = 30, .buffer_after_minutes = 1441, .max_advance_days = -1},
        {.duration_minutes = 30, .min_notice_minutes = -1, .max_advance_days = -1},
        {.duration_minutes = 30, .max_advance_days = -2},
        {.duration_minutes = 30, .max_advance_days = ENG_MAX_HORIZON_DAYS + 1},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_EQ(eng_service_spec_check(&bad[i]), ENG_EDURATION);
    eng_org_t *org = eng_org_new(test_zone("UTC"));
    eng_service_t *s = NULL;
    CHECK_EQ(eng_service_new(org, &bad[0], &s), ENG_EDURATION);
    CHECK(s == NULL);
    eng_org_free(org);
}

TEST(rules_slot_window_inverted_or_over_62_days_is_refused)
{
    fixture_t f;
    fixture(&f, "UTC");
    eng_workspace_t *ws = eng_workspace_new();
    eng_slots_t out;
    int64_t from = test_instant("2026-01-01T00:00Z");
    eng_query_t q = {.service = f.service, .from = from, .to = from - 1};
    CHECK_EQ(eng_slots(ws, &q, &out), ENG_EWINDOW);
    q.to = from + 62LL * 86400 + 1;
    CHECK_EQ(eng_slots(ws, &q, &out), ENG_EWINDOW);
    q.to = from + 62LL * 86400;
    CHECK_EQ(eng_slots(ws, &q, &out), 0);
    CHECK_EQ(out.count, 62 * 24);
    q.to = from;
    CHECK_EQ(eng_slots(ws, &q, &out), 0);
    CHECK_EQ(out.count, 0);
    q.service = NULL;
    CHECK_EQ(eng_slots(ws, &q, &out), ENG_EINVAL);
    eng_workspace_free(ws);
    eng_org_free(f.org);
}

TEST(rules_groups_refuse_empty_repeated_or_foreign_members)
{
    fixture_t f, other;
    fixture(&f, "UTC");
    fixture(&other, "UTC");
    eng_resource_t *twice[] = {f.r, f.r};
    CHECK_EQ(eng_service_add_group(f.service, ENG_GROUP_ANY, twice, 0), ENG_EINVAL);
    CHECK_EQ(eng_service_add_group(f.service, ENG_GROUP_ANY, twice, 2), ENG_EINVAL);
    CHECK_EQ(eng_service_add_group(f.service, ENG_GROUP_ANY, &other.r, 1), ENG_EINVAL);
    CHECK_EQ(eng_service_add_group(f.service, (eng_group_mode_t)7, &f.r, 1), ENG_EINVAL);
    for (int i = 1; i < ENG_MAX_GROUPS; i++)
        CHECK_EQ(eng_service_add_group(f.service, ENG_GROUP_ALL, &f.r, 1), 0);
    CHECK_EQ(eng_service_add_group(f.service, ENG_GROUP_ALL, &f.r, 1), ENG_ELIMIT);
    eng_org_free(f.org);
    eng_org_free(other.org);
}

TEST(rules_service_without_groups_offers_nothing)
{
    fixture_t f;
    fixture(&f, "UTC");
    eng_service_clear_groups(f.service);
    eng_workspace_t *ws = eng_workspace_new();
    eng_slots_t out;
    eng_query_t q = {.service = f.service,
                     .from = test_instant("2026-01-01T00:00Z"),
                     .to = test_instant("2026-01-02T00:00Z")};
    CHECK_EQ(eng_slots(ws, &q, &out), 0);
    CHECK_EQ(out.count, 0);
    eng_workspace_free(ws);
    eng_org_free(f.org);
}

TEST(rules_clearing_a_missing_override_is_not_found)
{
    fixture_t f;
    fixture(&f, "UTC");
    eng_day_hours_t hours = {.count = 1, .ranges = {{600, 660}}};
    int32_t day = test_day("2026-01-05");
    CHECK_EQ(eng_resource_clear_override(f.r, day), ENG_ENOTFOUND);
    CHECK_EQ(eng_resource_set_override(f.r, day, &hours), 0);
    CHECK_EQ(eng_resource_set_override(f.r, day, &hours), 0); /* replaces */
    CHECK_EQ(eng_resource_clear_override(f.r, day), 0);
    CHECK_EQ(eng_resource_clear_override(f.r, day), ENG_ENOTFOUND);
    hours.ranges[0].end = 500;
    CHECK_EQ(eng_resource_set_override(f.r, day, &hours), ENG_ERANGE_ORDER);
    eng_org_free(f.org);
}

TEST(rules_expiring_holds_removes_only_expired_holds)
{
    fixture_t f;
    fixture(&f, "UTC");
    eng_busy_t hold = {.start = 1000, .end = 2000, .kind = ENG_BUSY_HOLD, .stamp = 500, .key = 1};
    eng_busy_t live = {.start = 3000, .end = 4000, .kind = ENG_BUSY_HOLD, .stamp = 900, .key = 2};
    eng_busy_t booking = {
        .start = 5000, .end = 6000, .kind = ENG_BUSY_BOOKING, .stamp = 1, .key = 3};
    CHECK_EQ(eng_resource_add_busy(f.r, &hold), 0);
    CHECK_EQ(eng_resource_add_busy(f.r, &live), 0);
    CHECK_EQ(eng_resource_add_busy(f.r, &booking), 0);
    CHECK_EQ(eng_resource_expire_holds(f.r, 600), 1);
    CHECK_EQ(eng_resource_busy_count(f.r), 2);
    CHECK_EQ(eng_resource_expire_holds(f.r, 900), 1);
    CHECK_EQ(eng_resource_busy_count(f.r), 1);
    eng_org_free(f.org);
}

TEST(rules_removing_the_latest_booking_restores_the_previous_one_for_picking)
{
    fixture_t f;
    fixture(&f, "UTC");
    eng_busy_t older = {
        .start = 1000, .end = 2000, .kind = ENG_BUSY_BOOKING, .stamp = 10, .key = 1};
    eng_busy_t newer = {
        .start = 3000, .end = 4000, .kind = ENG_BUSY_BOOKING, .stamp = 20, .key = 2};
    CHECK_EQ(eng_resource_add_busy(f.r, &older), 0);
    CHECK_EQ(eng_resource_add_busy(f.r, &newer), 0);
    CHECK_EQ(eng_resource_remove_busy(f.r, &newer), 0);
    CHECK_EQ(eng_resource_remove_busy(f.r, &newer), ENG_ENOTFOUND);
    CHECK_EQ(eng_resource_busy_count(f.r), 1);
    eng_org_free(f.org);
}

TEST(rules_business_hours_with_overlapping_ranges_are_refused)
{
    eng_org_t *org = eng_org_new(test_zone("UTC"));
    eng_week_t week = {0};
    week.day[2].count = 2;
    week.day[2].ranges[0] = (eng_hours_range_t){540, 720};
    week.day[2].ranges[1] = (eng_hours_range_t){700, 800};
    CHECK_EQ(eng_org_set_business_hours(org, &week), ENG_ERANGE_OVERLAP);
    week.day[2].ranges[1] = (eng_hours_range_t){720, 800};
    CHECK_EQ(eng_org_set_business_hours(org, &week), 0);
    CHECK_EQ(eng_org_set_business_hours(org, NULL), 0);
    eng_org_free(org);
}

TEST(rules_resetting_a_resource_forgets_everything_but_who_it_is)
{
    fixture_t f;
    fixture(&f, "UTC");
    eng_busy_t booking = {
        .start = 1000, .end = 2000, .kind = ENG_BUSY_BOOKING, .stamp = 5, .key = 1};
    CHECK_EQ(eng_resource_add_busy(f.r, &booking), 0);
    CHECK_EQ(eng_resource_add_recurring_block(f.r, 7, "FREQ=DAILY", test_wall("2026-01-01T12:00"),
                                              30, NULL, 0),
             0);
    eng_day_hours_t hours = {.count = 1, .ranges = {{600, 660}}};
    CHECK_EQ(eng_resource_set_override(f.r, test_day("2026-01-05"), &hours), 0);
    eng_resource_reset(f.r);
    CHECK_EQ(eng_resource_busy_count(f.r), 0);
    CHECK_EQ(eng_resource_remove_recurring_block(f.r, 7), ENG_ENOTFOUND);
    CHECK_EQ(eng_resource_clear_override(f.r, test_day("2026-01-05")), ENG_ENOTFOUND);
    eng_workspace_t *ws = eng_workspace_new();
    eng_query_t q = {.service = f.service,
                     .from = test_instant("2026-01-05T00:00Z"),
                     .to = test_instant("2026-01-06T00:00Z")};
    eng_slots_t out;
    CHECK_EQ(eng_slots(ws, &q, &out), 0);
    CHECK_EQ(out.count, 0);                            /* no hours any more */
    CHECK_EQ(eng_resource_add_busy(f.r, &booking), 0); /* and usable again */
    eng_workspace_free(ws);
    eng_org_free(f.org);
}

/* libical's own expansion of a rule in floating time: the reference for the engine's fast path
 * (DAILY and WEEKLY rules are expanded without libical). Up to `max` wall starts. */
static size_t libical_walls(const char *rrule, int64_t start_wall, int64_t *out, size_t max)
{
    struct icalrecurrencetype rule = icalrecurrencetype_from_string(rrule);
    tz_date_t d = tz_civil_from_days(tz_day_of(start_wall));
    struct icaltimetype t = icaltime_null_time();
    int64_t seconds = start_wall - (int64_t)tz_day_of(start_wall) * TZ_SECONDS_PER_DAY;
    t.year = d.year;
    t.month = d.month;
    t.day = d.day;
    t.hour = (int)(seconds / 3600);
    t.minute = (int)(seconds / 60 % 60);
    icalrecur_iterator *it = icalrecur_iterator_new(rule, t);
    size_t n = 0;
    for (struct icaltimetype next;
         n < max && !icaltime_is_null_time(next = icalrecur_iterator_next(it));)
        out[n++] =
            (int64_t)tz_days_from_civil(next.year, next.month, next.day) * TZ_SECONDS_PER_DAY +
            next.hour * 3600 + next.minute * 60 + next.second;
    icalrecur_iterator_free(it);
    return n;
}

TEST(rules_daily_and_weekly_rules_expand_as_libical_expands_them)
{
    fixture_t f;
    fixture(&f, "UTC");
    const char *days[] = {"MO", "TU", "WE", "TH", "FR", "SA", "SU"};
    /* libical 3.0 is the reference for weeks starting Monday or Sunday; with other starts it
     * leaves out occurrences (see the next test) */
    const char *starts[] = {"SU", "MO"};
    unsigned seed = 12345;
    int compared = 0;
    for (int round = 0; round < 400; round++) {
        seed = seed * 1103515245u + 12345u;
        bool weekly = seed & 1;
        int interval = 1 + (int)((seed >> 1) % 4);
        int bounded = (int)((seed >> 3) % 3); /* none, COUNT, UNTIL */
        int64_t start_wall = test_wall("2026-01-05T09:30") + (int64_t)((seed >> 5) % 20) * 86400;
        int start_day = tz_weekday(tz_day_of(start_wall));
        char rule[256];
        int n = snprintf(rule, sizeof(rule), "FREQ=%s;INTERVAL=%d", weekly ? "WEEKLY" : "DAILY",
                         interval);
        unsigned mask = (seed >> 10) & 0x7f;
        if (mask) {
            mask |= 1u << start_day; /* the start is an occurrence */
            n += snprintf(rule + n, sizeof(rule) - (size_t)n, ";BYDAY=");
            for (int d = 0, first = 1; d < 7; d++)
                if (mask >> d & 1) {
                    n += snprintf(rule + n, sizeof(rule) - (size_t)n, "%s%s", first ? "" : ",",
                                  days[d]);
                    first = 0;
                }
        }
        if ((seed >> 17) & 1)
            n += snprintf(rule + n, sizeof(rule) - (size_t)n, ";WKST=%s", starts[(seed >> 18) % 2]);
        if (bounded == 1)
            n += snprintf(rule + n, sizeof(rule) - (size_t)n, ";COUNT=%d",
                          1 + (int)((seed >> 20) % 40));
        else if (bounded == 2)
            snprintf(rule + n, sizeof(rule) - (size_t)n, ";UNTIL=20260601T000000");
        static int64_t expected[1000];
        size_t count = libical_walls(rule, start_wall, expected, 1000);
        eng_resource_reset(f.r);
        eng_recurrence_t spec = {.rrule = rule,
                                 .start_wall = start_wall,
                                 .duration_seconds = 60,
                                 .kind = ENG_BUSY_EXTERNAL};
        CHECK_EQ(eng_resource_add_recurrence(f.r, 1, &spec), 0);
        eng_busy_t *out;
        size_t got = occurrences(&f, "2026-01-01T00:00Z", "2027-06-01T00:00Z", &out);
        size_t want = 0;
        while (want < count && expected[want] < test_wall("2027-06-01T00:00"))
            want++;
        if (got != want) {
            fprintf(stderr, "%s: %zu occurrences, libical %zu\n", rule, got, want);
            exit(1);
        }
        for (size_t i = 0; i < got; i++)
            if (out[i].start != expected[i]) {
                fprintf(stderr, "%s: occurrence %zu differs\n", rule, i);
                exit(1);
            }
        free(out);
        compared++;
    }
    CHECK_EQ(compared, 400);
    eng_org_free(f.org);
}

TEST(rules_a_fast_rule_begun_long_ago_with_a_count_counts_from_its_start)
{
    fixture_t f;
    fixture(&f, "UTC");
    /* weekly on Mondays from 2026-01-05, 10 times: the last on 2026-03-09, whatever the start of
     * the expansion */
    eng_recurrence_t spec = {.rrule = "FREQ=WEEKLY;COUNT=10",
                             .start_wall = test_wall("2026-01-05T09:00"),
                             .duration_seconds = 600,
                             .kind = ENG_BUSY_EXTERNAL,
                             .expand_from_wall = test_wall("2026-03-01T00:00")};
    CHECK_EQ(eng_resource_add_recurrence(f.r, 1, &spec), 0);
    eng_busy_t *out;
    CHECK_EQ(occurrences(&f, "2026-03-01T00:00Z", "2026-04-01T00:00Z", &out), 2);
    CHECK_EQ(out[1].start, test_instant("2026-03-09T09:00Z"));
    free(out);
    eng_org_free(f.org);
}

TEST(rules_weeks_start_on_the_rules_wkst_as_rfc_5545_says)
{
    /* every other week of weeks starting Saturday, on Mondays and Sundays, from Monday 5 January
     * 2026: the week of 3-9 January gives the 5th (the 4th is before the start), the week of
     * 17-23 January the 18th and 19th, the week of 31 January the 1st of February (libical 3.0
     * leaves out the first week) */
    fixture_t f;
    fixture(&f, "UTC");
    eng_recurrence_t spec = {.rrule = "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,SU;WKST=SA;COUNT=4",
                             .start_wall = test_wall("2026-01-05T09:00"),
                             .duration_seconds = 600,
                             .kind = ENG_BUSY_EXTERNAL};
    CHECK_EQ(eng_resource_add_recurrence(f.r, 1, &spec), 0);
    eng_busy_t *out;
    CHECK_EQ(occurrences(&f, "2026-01-01T00:00Z", "2026-03-01T00:00Z", &out), 4);
    CHECK_EQ(out[0].start, test_instant("2026-01-05T09:00Z"));
    CHECK_EQ(out[1].start, test_instant("2026-01-18T09:00Z"));
    CHECK_EQ(out[2].start, test_instant("2026-01-19T09:00Z"));
    CHECK_EQ(out[3].start, test_instant("2026-02-01T09:00Z"));
    free(out);
    eng_org_free(f.org);
}

TEST(rules_monthly_and_yearly_rules_expand_as_libical_expands_them)
{
    fixture_t f;
    fixture(&f, "UTC");
    const char *rules[] = {"FREQ=MONTHLY",
                           "FREQ=MONTHLY;INTERVAL=2",
                           "FREQ=MONTHLY;BYMONTHDAY=31",
                           "FREQ=MONTHLY;BYMONTHDAY=1,15,-1",
                           "FREQ=MONTHLY;INTERVAL=5;BYMONTHDAY=-2",
                           "FREQ=MONTHLY;BYMONTHDAY=30;COUNT=20",
                           "FREQ=YEARLY",
                           "FREQ=YEARLY;INTERVAL=3;UNTIL=21000101T000000"};
    const char *starts[] = {"2024-01-31T08:00", "2024-02-29T08:00", "2026-03-15T23:30",
                            "2026-12-01T00:00", "2027-06-29T12:00", "2026-01-30T10:00"};
    int compared = 0;
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
        for (size_t k = 0; k < sizeof(starts) / sizeof(starts[0]); k++) {
            int64_t start_wall = test_wall(starts[k]);
            eng_resource_reset(f.r);
            eng_recurrence_t spec = {.rrule = rules[i],
                                     .start_wall = start_wall,
                                     .duration_seconds = 60,
                                     .kind = ENG_BUSY_EXTERNAL};
            int rc = eng_resource_add_recurrence(f.r, 1, &spec);
            if (rc != 0)
                continue; /* a start that is not an occurrence of a BYMONTHDAY rule, say */
            static int64_t expected[2000];
            size_t count = libical_walls(rules[i], start_wall, expected, 2000);
            eng_busy_t *out;
            size_t got = occurrences(&f, "2024-01-01T00:00Z", "2060-01-01T00:00Z", &out);
            size_t want = 0;
            while (want < count && expected[want] < test_wall("2060-01-01T00:00"))
                want++;
            bool same = got == want;
            for (size_t n = 0; same && n < got; n++)
                same = out[n].start == expected[n];
            if (!same) {
                fprintf(stderr, "%s from %s: %zu occurrences, libical %zu\n", rules[i], starts[k],
                        got, want);
                exit(1);
            }
            free(out);
            compared++;
        }
    CHECK(compared >= 30);
    eng_org_free(f.org);
}
