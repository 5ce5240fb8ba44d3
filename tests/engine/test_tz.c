/*
 * Time zones: wall time <-> instant, with the RFC 5545 gap and overlap policy,
 * on the DST days of the zones docs/design.md names.
 */
#include "test.h"

#include "slotd/tz.h"

static void check_wall(const char *zone, const char *wall, const char *expected)
{
    tz_zone_t *z = test_zone(zone);
    int64_t got = tz_from_wall(z, test_wall(wall));
    if (got != test_instant(expected)) {
        fprintf(stderr, "%s %s: expected %s, got %s\n", zone, wall, expected, test_format(z, got));
        exit(1);
    }
}

TEST(tz_unknown_zone_is_refused)
{
    tz_zone_t *z;
    CHECK_EQ(tz_zone_find("Europe/Atlantis", &z), TZ_EUNKNOWN);
    CHECK_EQ(tz_zone_find("../../etc/passwd", &z), TZ_EUNKNOWN);
    CHECK_EQ(tz_zone_find("", &z), TZ_EUNKNOWN);
    CHECK_EQ(tz_zone_find("Europe//Warsaw", &z), TZ_EUNKNOWN);
    CHECK_EQ(tz_zone_find("Europe/Warsaw", &z), TZ_OK);
    CHECK_EQ(tz_zone_find("UTC", &z), TZ_OK);
    CHECK_EQ(tz_offset_at(z, test_instant("2026-06-01T12:00Z")), 0);
}

TEST(tz_warsaw_spring_forward_gap_moves_forward)
{
    check_wall("Europe/Warsaw", "2026-03-29T01:59", "2026-03-29T01:59+01:00");
    check_wall("Europe/Warsaw", "2026-03-29T02:00", "2026-03-29T03:00+02:00");
    check_wall("Europe/Warsaw", "2026-03-29T02:30", "2026-03-29T03:30+02:00");
    check_wall("Europe/Warsaw", "2026-03-29T03:00", "2026-03-29T03:00+02:00");
}

TEST(tz_warsaw_fall_back_overlap_takes_earlier_instant)
{
    check_wall("Europe/Warsaw", "2026-10-25T01:59", "2026-10-25T01:59+02:00");
    check_wall("Europe/Warsaw", "2026-10-25T02:00", "2026-10-25T02:00+02:00");
    check_wall("Europe/Warsaw", "2026-10-25T02:30", "2026-10-25T02:30+02:00");
    check_wall("Europe/Warsaw", "2026-10-25T03:00", "2026-10-25T03:00+01:00");
}

TEST(tz_new_york_gap_and_overlap)
{
    check_wall("America/New_York", "2026-03-08T02:15", "2026-03-08T03:15-04:00");
    check_wall("America/New_York", "2026-11-01T01:30", "2026-11-01T01:30-04:00");
    check_wall("America/New_York", "2026-11-01T02:00", "2026-11-01T02:00-05:00");
}

TEST(tz_lord_howe_half_hour_shift)
{
    /* +10:30 -> +11:00 at 02:00 on 2026-10-04; +11:00 -> +10:30 at 02:00 on 2026-04-05. */
    check_wall("Australia/Lord_Howe", "2026-10-04T02:15", "2026-10-04T02:45+11:00");
    check_wall("Australia/Lord_Howe", "2026-10-04T02:30", "2026-10-04T02:30+11:00");
    check_wall("Australia/Lord_Howe", "2026-04-05T01:45", "2026-04-05T01:45+11:00");
    check_wall("Australia/Lord_Howe", "2026-04-05T02:00", "2026-04-05T02:00+10:30");
    tz_zone_t *z = test_zone("Australia/Lord_Howe");
    CHECK_EQ(tz_offset_at(z, test_instant("2026-04-05T01:40+11:00")), 11 * 3600);
    CHECK_EQ(tz_offset_at(z, test_instant("2026-04-05T01:40+10:30")), 10 * 3600 + 1800);
}

TEST(tz_kolkata_half_hour_offset_without_dst)
{
    check_wall("Asia/Kolkata", "2026-03-29T02:30", "2026-03-29T02:30+05:30");
    tz_zone_t *z = test_zone("Asia/Kolkata");
    CHECK_EQ(tz_offset_at(z, test_instant("2026-07-01T00:00Z")), 5 * 3600 + 1800);
}

TEST(tz_havana_day_starts_at_one_on_spring_forward)
{
    /* Cuba moves 00:00 -> 01:00: midnight does not exist that day. */
    check_wall("America/Havana", "2026-03-08T00:00", "2026-03-08T01:00-04:00");
    check_wall("America/Havana", "2026-03-08T00:30", "2026-03-08T01:30-04:00");
    check_wall("America/Havana", "2026-03-07T23:59", "2026-03-07T23:59-05:00");
    /* and falls back 01:00 -> 00:00: midnight to one happens twice. */
    check_wall("America/Havana", "2026-11-01T00:30", "2026-11-01T00:30-04:00");
}

TEST(tz_apia_skipped_2011_12_30)
{
    /* Samoa jumped from -10:00 to +14:00 at the end of 2011-12-29. */
    check_wall("Pacific/Apia", "2011-12-29T23:59", "2011-12-29T23:59-10:00");
    check_wall("Pacific/Apia", "2011-12-30T00:00", "2011-12-31T00:00+14:00");
    check_wall("Pacific/Apia", "2011-12-30T12:00", "2011-12-31T12:00+14:00");
    check_wall("Pacific/Apia", "2011-12-31T00:00", "2011-12-31T00:00+14:00");
    tz_zone_t *z = test_zone("Pacific/Apia");
    CHECK_EQ(tz_local_day(z, test_instant("2011-12-29T23:59-10:00")), test_day("2011-12-29"));
    CHECK_EQ(tz_local_day(z, test_instant("2011-12-29T23:59-10:00") + 60), test_day("2011-12-31"));
}

TEST(tz_offsets_agree_with_libical_every_hour_for_three_years)
{
    /* The cache against its source: every hour and every transition edge. */
    const char *zones[] = {"Europe/Warsaw",   "America/Santiago", "Australia/Lord_Howe",
                           "Pacific/Chatham", "America/Havana",   "Asia/Kathmandu"};
    for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
        tz_zone_t *z = test_zone(zones[i]);
        int64_t from = test_instant("2025-01-01T00:00Z"), to = test_instant("2028-01-01T00:00Z");
        int32_t previous = tz_offset_at(z, from);
        for (int64_t t = from; t < to; t += 3600) {
            int32_t o = tz_offset_at(z, t);
            CHECK_EQ(tz_to_wall(z, t), t + o);
            if (o != previous) {
                /* find the transition and check both sides of it */
                int64_t lo = t - 3600, hi = t;
                while (hi - lo > 1) {
                    int64_t mid = lo + (hi - lo) / 2;
                    if (tz_offset_at(z, mid) == previous)
                        lo = mid;
                    else
                        hi = mid;
                }
                CHECK_EQ(tz_offset_at(z, hi - 1), previous);
                CHECK_EQ(tz_offset_at(z, hi), o);
                previous = o;
            }
        }
    }
}

TEST(tz_wall_round_trips_outside_gaps_and_overlaps)
{
    tz_zone_t *z = test_zone("America/New_York");
    for (int64_t t = test_instant("2026-01-01T00:00Z"); t < test_instant("2027-01-01T00:00Z");
         t += 900) {
        int64_t wall = tz_to_wall(z, t);
        int64_t back = tz_from_wall(z, wall);
        /* In an overlap the earlier instant comes back; it shows the same wall time. */
        CHECK(back <= t);
        CHECK_EQ(tz_to_wall(z, back), wall);
    }
}

TEST(tz_next_change_finds_the_transition_to_the_second)
{
    tz_zone_t *z = test_zone("Europe/Warsaw");
    int64_t transition = test_instant("2026-03-29T01:00Z");
    CHECK_EQ(
        tz_next_change(z, test_instant("2026-03-20T00:00Z"), test_instant("2026-04-01T00:00Z")),
        transition);
    CHECK_EQ(tz_next_change(z, transition - 1, transition), transition);
    CHECK_EQ(tz_next_change(z, transition - 10, transition - 1), INT64_MAX);
    CHECK_EQ(tz_next_change(z, transition, test_instant("2026-06-01T00:00Z")), INT64_MAX);
    tz_zone_t *utc = test_zone("UTC");
    CHECK_EQ(tz_next_change(utc, 0, 86400LL * 400), INT64_MAX);
    /* outside the cached years, answered through the slow path */
    tz_zone_t *ny = test_zone("America/New_York");
    CHECK_EQ(
        tz_next_change(ny, test_instant("2230-03-01T00:00Z"), test_instant("2230-03-02T00:00Z")),
        INT64_MAX);
}
