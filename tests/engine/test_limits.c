/*
 * The supported range of dates and instants, the zone names that are zones,
 * and the recurrence rules a block may use: what the parsers and the engine
 * refuse, and that nothing a client can send costs the loop more than
 * milliseconds (zone lookups in year 9999 took libical seconds; a rule that
 * never matches, 0.7 s).
 */
#include <string.h>
#include <time.h>

#include "slotd/codec.h"
#include "scenario.h"
#include "test.h"

static double clock_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

TEST(limits_dates_outside_the_supported_range_are_refused)
{
    int32_t d;
    CHECK_EQ(tz_parse_date("1970-01-01", &d), 0);
    CHECK_EQ(d, 0);
    CHECK_EQ(tz_parse_date("2199-12-31", &d), 0);
    CHECK_EQ(tz_parse_date("1969-12-31", &d), TZ_ERANGE);
    CHECK_EQ(tz_parse_date("2200-01-01", &d), TZ_ERANGE);
    CHECK_EQ(tz_parse_date("9999-12-01", &d), TZ_ERANGE);
    CHECK_EQ(tz_parse_date("0001-01-01", &d), TZ_ERANGE);
    CHECK_EQ(tz_parse_date("9999-02-30", &d), TZ_EINVAL); /* malformed first */
}

TEST(limits_instants_are_checked_in_range_after_their_offset)
{
    int64_t t = 42;
    CHECK_EQ(codec_parse_instant("2199-12-31T23:59:59Z", &t), 0);
    CHECK_EQ(t, TZ_MAX_INSTANT - 1);
    CHECK_EQ(codec_parse_instant("1970-01-01T00:00:00Z", &t), 0);
    CHECK_EQ(t, 0);
    t = 42;
    CHECK_EQ(codec_parse_instant("9999-12-31T20:00:00Z", &t), ENG_ERANGE);
    /* the block of issue 21: an end whose year alone was clamped */
    CHECK_EQ(codec_parse_instant("9999-12-31T23:59:59-23:59", &t), ENG_ERANGE);
    CHECK_EQ(codec_parse_instant("2199-12-31T23:59:59-01:00", &t), ENG_ERANGE);
    CHECK_EQ(codec_parse_instant("1970-01-01T00:30:00+01:00", &t), ENG_ERANGE);
    CHECK_EQ(codec_parse_instant("1969-12-31T23:00:00-01:00", &t), 0);
    CHECK_EQ(t, 0);
    CHECK_EQ(codec_parse_instant("9999-12-31T25:00:00Z", &t), ENG_EINVAL);
    CHECK_EQ(codec_parse_instant("9999-12-31", &t), ENG_EINVAL);
}

TEST(limits_zone_lookups_far_outside_the_cache_are_fast)
{
    tz_zone_t *z;
    CHECK_EQ(tz_zone_find("America/New_York", &z), 0);
    int64_t far = (int64_t)tz_days_from_civil(9999, 12, 1) * 86400;
    /* the first lookup builds the cache's edge blocks, once per zone (milliseconds) */
    int64_t sum = tz_offset_at(z, far);
    double t0 = clock_now();
    for (int i = 0; i < 1000; i++) {
        sum += tz_offset_at(z, far + i * 3600);
        sum += tz_from_wall(z, far + i * 3600);
        sum += tz_offset_at(z, -(int64_t)3000 * 365 * 86400 + i * 3600);
    }
    CHECK(tz_next_change(z, far, far + 62 * 86400) == INT64_MAX);
    double took = clock_now() - t0;
    CHECK(sum != 0);
    /* the zone keeps its offsets at the edges of the cache: winter time in New York */
    CHECK_EQ(tz_offset_at(z, far), -5 * 3600);
    fprintf(stderr, "3000 lookups in year 9999 and -1000: %.2f ms\n", took * 1e3);
    CHECK(took < 0.5);
}

TEST(limits_a_slot_query_in_year_9999_is_fast)
{
    tz_zone_t *z;
    CHECK_EQ(tz_zone_find("Europe/Warsaw", &z), 0);
    eng_org_t *org = eng_org_new(z);
    eng_resource_t *r = sc_resource_every_day(org, z, 1, 9 * 60, 17 * 60);
    eng_service_spec_t spec = {.duration_minutes = 30, .max_advance_days = -1};
    eng_service_t *service;
    CHECK_EQ(eng_service_new(org, &spec, &service), 0);
    CHECK_EQ(eng_service_add_group(service, ENG_GROUP_ANY, &r, 1), 0);
    eng_workspace_t *ws = eng_workspace_new();
    int64_t from = (int64_t)tz_days_from_civil(9999, 12, 1) * 86400;
    eng_query_t q = {.service = service, .from = from, .to = from + 30 * 86400, .now = 0};
    eng_slots_t out;
    double t0 = clock_now();
    CHECK_EQ(eng_slots(ws, &q, &out), 0);
    double took = clock_now() - t0;
    fprintf(stderr, "30 days in year 9999: %zu slots in %.2f ms\n", out.count, took * 1e3);
    CHECK_EQ(out.count, (size_t)(30 * 16));
    CHECK(took < 2.0);
    eng_workspace_free(ws);
    eng_org_free(org);
}

TEST(limits_only_tz_database_zones_and_links_are_zones)
{
    static const char *const refused[] = {
        "right/Europe/Warsaw", "posix/Europe/Warsaw", "Factory",  "localtime",     "posixrules",
        "right/UTC",           "Europe/Nowhere",      "zone.tab", "Europe/../UTC", ""};
    static const char *const accepted[] = {
        "Europe/Warsaw", "UTC",           "Etc/UTC",   "US/Eastern",
        "Europe/Kiev",   "Asia/Calcutta", "Etc/GMT+5", "America/Argentina/Buenos_Aires"};
    tz_zone_t *z;
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        if (tz_zone_find(refused[i], &z) != TZ_EUNKNOWN) {
            fprintf(stderr, "accepted: %s\n", refused[i]);
            CHECK(false);
        }
    }
    for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
        if (tz_zone_find(accepted[i], &z) != 0) {
            fprintf(stderr, "refused: %s\n", accepted[i]);
            CHECK(false);
        }
    }
}

static int64_t wall(int y, int m, int d, int h)
{
    return (int64_t)tz_days_from_civil(y, m, d) * 86400 + h * 3600;
}

TEST(limits_recurrence_rules_that_never_match_or_are_sub_daily_are_refused_fast)
{
    int64_t start = wall(2026, 1, 5, 9);
    double t0 = clock_now();
    CHECK_EQ(eng_recurring_block_check("FREQ=DAILY;BYMONTHDAY=31;BYMONTH=2", start, 30),
             ENG_ERRULE);
    CHECK_EQ(eng_recurring_block_check("FREQ=MONTHLY;BYMONTHDAY=31;BYMONTH=2", start, 30),
             ENG_ERRULE);
    CHECK_EQ(eng_recurring_block_check("FREQ=YEARLY;BYMONTHDAY=30;BYMONTH=2", start, 30),
             ENG_ERRULE);
    CHECK_EQ(
        eng_recurring_block_check("FREQ=MONTHLY;BYSETPOS=1;BYMONTHDAY=31;BYMONTH=2", start, 30),
        ENG_ERRULE);
    double took = clock_now() - t0;
    fprintf(stderr, "four rules that never match refused in %.1f ms\n", took * 1e3);
    CHECK(took < 0.5); /* 0.7 s each before, in an optimized build */

    CHECK_EQ(eng_recurring_block_check("FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,"
                                       "16,17,18,19,20,21,22,23;BYMINUTE=0,15,30,45",
                                       start, 1),
             ENG_ERRULE);
    CHECK_EQ(eng_recurring_block_check("FREQ=WEEKLY;BYHOUR=9,17", start, 30), ENG_ERRULE);
    CHECK_EQ(eng_recurring_block_check("FREQ=DAILY;BYMINUTE=0,30", start, 30), ENG_ERRULE);
    CHECK_EQ(eng_recurring_block_check("FREQ=DAILY;BYSECOND=0,30", start, 30), ENG_ERRULE);
    /* UNTIL before the start, in each form */
    CHECK_EQ(eng_recurring_block_check("FREQ=DAILY;UNTIL=20251231T000000Z", start, 30), ENG_ERRULE);
    CHECK_EQ(eng_recurring_block_check("FREQ=DAILY;UNTIL=20260104", start, 30), ENG_ERRULE);
    CHECK_EQ(eng_recurring_block_check("FREQ=DAILY;UNTIL=20260105T085959", start, 30), ENG_ERRULE);
    /* a start outside the supported range */
    CHECK_EQ(eng_recurring_block_check("FREQ=DAILY", wall(9999, 1, 1, 9), 30), ENG_ERANGE);

    /* still fine: one time of day, rare but real dates, an UNTIL on the start day */
    CHECK_EQ(eng_recurring_block_check("FREQ=DAILY;BYHOUR=10", start, 30), 0);
    CHECK_EQ(eng_recurring_block_check("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", start, 30), 0);
    CHECK_EQ(eng_recurring_block_check("FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29",
                                       wall(2024, 1, 8, 9), 30),
             0);
    CHECK_EQ(eng_recurring_block_check("FREQ=MONTHLY;BYDAY=-1FR", start, 30), 0);
    CHECK_EQ(eng_recurring_block_check("FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=15", start, 30), 0);
    CHECK_EQ(eng_recurring_block_check("FREQ=MONTHLY;BYMONTHDAY=13;BYDAY=FR", start, 30), 0);
    CHECK_EQ(eng_recurring_block_check("FREQ=DAILY;UNTIL=20260105T090000", start, 30), 0);
    CHECK_EQ(eng_recurring_block_check("FREQ=DAILY;UNTIL=20260105", start, 30), 0);
    CHECK_EQ(eng_recurring_block_check("FREQ=WEEKLY;BYDAY=MO;COUNT=3", start, 30), 0);
}

/* A rule whose occurrences stop (here: a COUNT through the end of the
 * supported range) never makes a listing search past that range. */
TEST(limits_expansion_stops_at_the_end_of_the_supported_range)
{
    tz_zone_t *z;
    CHECK_EQ(tz_zone_find("Europe/Warsaw", &z), 0);
    eng_org_t *org = eng_org_new(z);
    eng_id_t id = {{2}};
    eng_resource_t *r = eng_resource_new(org, &id, z);
    CHECK_EQ(eng_resource_add_recurring_block(r, 1, "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
                                              wall(2196, 1, 1, 9), 60, NULL, 0),
             0);
    eng_busy_t *out = NULL;
    size_t count = 0, capacity = 0;
    double t0 = clock_now();
    eng_resource_recurring_occurrences(r, TZ_MAX_INSTANT - 86400, TZ_MAX_INSTANT + 400LL * 86400,
                                       &out, &count, &capacity);
    count = 0;
    eng_resource_recurring_occurrences(r, (int64_t)tz_days_from_civil(2196, 1, 1) * 86400,
                                       TZ_MAX_INSTANT, &out, &count, &capacity);
    double took = clock_now() - t0;
    CHECK_EQ(count, 1); /* 2196-02-29; 2200 is no leap year */
    fprintf(stderr, "expansion to the end of the range: %.2f ms\n", took * 1e3);
    CHECK(took < 1.0);
    free(out);
    eng_org_free(org);
}

TEST(limits_week_json_comes_in_calendar_order)
{
    json_t *sorted = json_loads("{\"fri\":[],\"mon\":[[\"09:00\",\"17:00\"]],\"sat\":[],\"sun\":[],"
                                "\"thu\":[],\"tue\":[],\"wed\":[]}",
                                0, NULL);
    json_t *ordered = codec_week_ordered(sorted);
    char *text = json_dumps(ordered, JSON_COMPACT);
    CHECK(strcmp(text, "{\"mon\":[[\"09:00\",\"17:00\"]],\"tue\":[],\"wed\":[],\"thu\":[],"
                       "\"fri\":[],\"sat\":[],\"sun\":[]}") == 0);
    free(text);
    json_decref(ordered);
    json_t *null = codec_week_ordered(json_null());
    CHECK(json_is_null(null));
    json_decref(null);
}
