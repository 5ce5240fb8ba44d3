/*
 * Slot rules, one behaviour per test (docs/design.md "Availability — the exact
 * rules"). Every expectation is also checked against the reference.
 */
#include "scenario.h"
#include "slots_expect.h"
#include "test.h"

#define H(h, m) ((h)*60 + (m))

static void every_day(eng_week_t *w, int start, int end)
{
    sc_week_days(w, 0, 6, start, end);
}

/* One resource in `zone`, open every day [start, end), a `duration`-minute
 * service, a window of local dates [first, last] and a clock long before it. */
static void one_resource(scenario_t *s, const char *zone, int start, int end, int duration,
                         const char *first, const char *last)
{
    sc_init(s, zone);
    s->resources[0].week = (eng_week_t){0};
    every_day(&s->resources[0].week, start, end);
    s->spec.duration_minutes = duration;
    s->from = tz_from_wall(s->zone, (int64_t)test_day(first) * 86400);
    s->to = tz_from_wall(s->zone, (int64_t)(test_day(last) + 1) * 86400);
    s->now = s->from - 30 * 86400;
}

static int add_resource(scenario_t *s, int start, int end, uint8_t id)
{
    int i = s->resource_count++;
    s->resources[i] = (sc_resource_t){.zone = s->zone, .location = -1, .active = true};
    s->resources[i].id.bytes[15] = id;
    every_day(&s->resources[i].week, start, end);
    return i;
}

static void add_booking(scenario_t *s, int resource, const char *start, const char *end, int before,
                        int after)
{
    sc_resource_t *r = &s->resources[resource];
    r->busy[r->busy_count] = (eng_busy_t){.start = test_instant(start),
                                          .end = test_instant(end),
                                          .buffer_before = (uint16_t)before,
                                          .buffer_after = (uint16_t)after,
                                          .kind = ENG_BUSY_BOOKING,
                                          .stamp = 1,
                                          .key = (uint64_t)r->busy_count + 1};
    r->busy_count++;
}

/* ---- DST days ------------------------------------------------------------------ */

TEST(slots_skip_spring_forward_gap)
{
    scenario_t s;
    one_resource(&s, "Europe/Warsaw", H(0, 0), H(6, 0), 60, "2026-03-29", "2026-03-29");
    EXPECT_SLOTS(&s, "2026-03-29T00:00+01:00", "2026-03-29T01:00+01:00", "2026-03-29T03:00+02:00",
                 "2026-03-29T04:00+02:00", "2026-03-29T05:00+02:00");
}

TEST(slots_offer_the_repeated_hour_on_fall_back)
{
    scenario_t s;
    one_resource(&s, "America/New_York", H(0, 0), H(4, 0), 60, "2026-11-01", "2026-11-01");
    EXPECT_SLOTS(&s, "2026-11-01T00:00-04:00", "2026-11-01T01:00-04:00", "2026-11-01T01:00-05:00",
                 "2026-11-01T02:00-05:00", "2026-11-01T03:00-05:00");
}

TEST(slots_keep_real_time_spacing_across_lord_howe_half_hour_shift)
{
    scenario_t s;
    one_resource(&s, "Australia/Lord_Howe", H(0, 0), H(6, 0), 60, "2026-10-04", "2026-10-04");
    EXPECT_SLOTS(&s, "2026-10-04T00:00+10:30", "2026-10-04T01:00+10:30", "2026-10-04T02:30+11:00",
                 "2026-10-04T03:30+11:00", "2026-10-04T04:30+11:00");
}

TEST(slots_align_to_the_hour_of_the_display_zone_with_half_hour_offset)
{
    scenario_t s;
    one_resource(&s, "Asia/Kolkata", H(9, 0), H(12, 0), 60, "2026-06-15", "2026-06-15");
    EXPECT_SLOTS(&s, "2026-06-15T09:00+05:30", "2026-06-15T10:00+05:30", "2026-06-15T11:00+05:30");
    s.display = test_zone("UTC");
    EXPECT_SLOTS(&s, "2026-06-15T04:00Z", "2026-06-15T05:00Z");
}

TEST(slots_on_a_day_that_starts_at_one_in_the_morning)
{
    scenario_t s;
    one_resource(&s, "America/Havana", H(0, 0), H(3, 0), 60, "2026-03-08", "2026-03-08");
    EXPECT_SLOTS(&s, "2026-03-08T01:00-04:00", "2026-03-08T02:00-04:00");
}

TEST(slots_apia_skipped_day_offers_nothing_of_its_own)
{
    scenario_t s;
    one_resource(&s, "Pacific/Apia", H(9, 0), H(12, 0), 60, "2011-12-29", "2011-12-31");
    EXPECT_SLOTS(&s, "2011-12-29T09:00-10:00", "2011-12-29T10:00-10:00", "2011-12-29T11:00-10:00",
                 "2011-12-31T09:00+14:00", "2011-12-31T10:00+14:00", "2011-12-31T11:00+14:00");
}

TEST(slots_cross_midnight_where_24_00_meets_00_00)
{
    scenario_t s;
    one_resource(&s, "Europe/Warsaw", H(0, 0), H(0, 0), 120, "2026-06-15", "2026-06-15");
    s.resources[0].week = (eng_week_t){0};
    for (int d = 0; d < 7; d++) {
        s.resources[0].week.day[d].count = 2;
        s.resources[0].week.day[d].ranges[0] = (eng_hours_range_t){H(0, 0), H(2, 0)};
        s.resources[0].week.day[d].ranges[1] = (eng_hours_range_t){H(22, 0), H(24, 0)};
    }
    s.spec.interval_minutes = 60;
    EXPECT_SLOTS(&s, "2026-06-15T00:00+02:00", "2026-06-15T22:00+02:00", "2026-06-15T23:00+02:00");
}

/* ---- buffers ------------------------------------------------------------------- */

TEST(slots_keep_service_after_buffer_clear_of_booking_before_buffer)
{
    scenario_t s;
    one_resource(&s, "UTC", H(9, 0), H(11, 0), 30, "2026-06-15", "2026-06-15");
    s.spec.interval_minutes = 15;
    s.spec.buffer_after_minutes = 10;
    add_booking(&s, 0, "2026-06-15T10:00Z", "2026-06-15T10:30Z", 5, 0);
    /* 09:15-09:45 + 10 min after-buffer ends at 09:55, where the booking's own 5 min start */
    EXPECT_SLOTS(&s, "2026-06-15T09:00Z", "2026-06-15T09:15Z", "2026-06-15T10:30Z");
}

TEST(slots_keep_service_before_buffer_clear_of_booking_after_buffer)
{
    scenario_t s;
    one_resource(&s, "UTC", H(10, 0), H(12, 0), 30, "2026-06-15", "2026-06-15");
    s.spec.interval_minutes = 10;
    s.spec.buffer_before_minutes = 5;
    add_booking(&s, 0, "2026-06-15T10:00Z", "2026-06-15T10:30Z", 0, 15);
    /* booking busy until 10:45; the next slot needs 5 min before it: 10:50 */
    EXPECT_SLOTS(&s, "2026-06-15T10:50Z", "2026-06-15T11:00Z", "2026-06-15T11:10Z",
                 "2026-06-15T11:20Z", "2026-06-15T11:30Z");
}

TEST(slots_buffers_may_reach_outside_open_hours)
{
    scenario_t s;
    one_resource(&s, "UTC", H(9, 0), H(10, 0), 60, "2026-06-15", "2026-06-15");
    s.spec.buffer_before_minutes = 30;
    s.spec.buffer_after_minutes = 30;
    EXPECT_SLOTS(&s, "2026-06-15T09:00Z");
}

TEST(slots_holds_block_until_they_expire)
{
    scenario_t s;
    one_resource(&s, "UTC", H(9, 0), H(11, 0), 60, "2026-06-15", "2026-06-15");
    s.resources[0].busy[0] = (eng_busy_t){.start = test_instant("2026-06-15T09:00Z"),
                                          .end = test_instant("2026-06-15T10:00Z"),
                                          .kind = ENG_BUSY_HOLD,
                                          .stamp = test_instant("2026-06-15T08:00Z"),
                                          .key = 1};
    s.resources[0].busy_count = 1;
    s.now = test_instant("2026-06-15T07:55Z");
    EXPECT_SLOTS(&s, "2026-06-15T10:00Z");
    s.now = test_instant("2026-06-15T08:00Z");
    EXPECT_SLOTS(&s, "2026-06-15T09:00Z", "2026-06-15T10:00Z");
}

/* ---- the grid ------------------------------------------------------------------ */

TEST(slots_realign_to_the_grid_after_a_busy_interval)
{
    scenario_t s;
    one_resource(&s, "UTC", H(9, 0), H(12, 0), 60, "2026-06-15", "2026-06-15");
    s.spec.interval_minutes = 30;
    add_booking(&s, 0, "2026-06-15T10:00Z", "2026-06-15T10:20Z", 0, 0);
    /* free again at 10:20: the next start is the next half hour, not 10:20 */
    EXPECT_SLOTS(&s, "2026-06-15T09:00Z", "2026-06-15T10:30Z", "2026-06-15T11:00Z");
}

TEST(slots_snap_to_the_grid_another_staff_member_already_offers)
{
    scenario_t s;
    one_resource(&s, "UTC", H(9, 0), H(12, 0), 45, "2026-06-15", "2026-06-15");
    int b = add_resource(&s, H(9, 20), H(13, 0), 2);
    s.groups[0] = (sc_group_t){.mode = ENG_GROUP_ANY, .members = {0, b}, .count = 2};
    /* B alone would start at 09:30; the grid from A (09:00, 09:45, ...) is kept */
    EXPECT_SLOTS(&s, "2026-06-15T09:00Z", "2026-06-15T09:45Z", "2026-06-15T10:30Z",
                 "2026-06-15T11:15Z", "2026-06-15T12:00Z");
    EXPECT_RESOURCES(&s, "2026-06-15T09:00Z", 0);
    EXPECT_RESOURCES(&s, "2026-06-15T09:45Z", 0, b);
    EXPECT_RESOURCES(&s, "2026-06-15T12:00Z", b);
}

TEST(slots_step_smaller_than_duration_overlap)
{
    scenario_t s;
    one_resource(&s, "UTC", H(9, 0), H(10, 30), 60, "2026-06-15", "2026-06-15");
    s.spec.interval_minutes = 15;
    EXPECT_SLOTS(&s, "2026-06-15T09:00Z", "2026-06-15T09:15Z", "2026-06-15T09:30Z");
}

TEST(slots_odd_step_aligns_to_whole_minutes_only)
{
    scenario_t s;
    one_resource(&s, "UTC", H(9, 0), H(10, 0), 20, "2026-06-15", "2026-06-15");
    s.spec.interval_minutes = 7;
    s.now = test_instant("2026-06-15T08:58:30Z");
    /* earliest 08:59:30 -> 09:00 (open); grid of 7 minutes */
    EXPECT_SLOTS(&s, "2026-06-15T09:00Z", "2026-06-15T09:07Z", "2026-06-15T09:14Z",
                 "2026-06-15T09:21Z", "2026-06-15T09:28Z", "2026-06-15T09:35Z");
}

/* ---- groups -------------------------------------------------------------------- */

TEST(slots_collective_group_needs_everyone_free)
{
    scenario_t s;
    one_resource(&s, "UTC", H(9, 0), H(12, 0), 60, "2026-06-15", "2026-06-15");
    int interpreter = add_resource(&s, H(10, 0), H(13, 0), 2);
    s.groups[0] = (sc_group_t){.mode = ENG_GROUP_ALL, .members = {0, interpreter}, .count = 2};
    EXPECT_SLOTS(&s, "2026-06-15T10:00Z", "2026-06-15T11:00Z");
    EXPECT_RESOURCES(&s, "2026-06-15T10:00Z", 0, interpreter);
}

TEST(slots_collective_group_with_an_inactive_member_offers_nothing)
{
    scenario_t s;
    one_resource(&s, "UTC", H(9, 0), H(12, 0), 60, "2026-06-15", "2026-06-15");
    int other = add_resource(&s, H(9, 0), H(12, 0), 2);
    s.groups[0] = (sc_group_t){.mode = ENG_GROUP_ALL, .members = {0, other}, .count = 2};
    s.resources[other].active = false;
    EXPECT_NO_SLOTS(&s);
}

TEST(slots_mixed_groups_take_one_of_each)
{
    /* hygienists H1 09-11, H2 11-13; chairs C1 09-10, C2 10-13 */
    scenario_t s;
    one_resource(&s, "UTC", H(9, 0), H(11, 0), 60, "2026-06-15", "2026-06-15");
    int h2 = add_resource(&s, H(11, 0), H(13, 0), 2);
    int c1 = add_resource(&s, H(9, 0), H(10, 0), 3);
    int c2 = add_resource(&s, H(10, 0), H(13, 0), 4);
    s.group_count = 2;
    s.groups[0] = (sc_group_t){.mode = ENG_GROUP_ANY, .members = {0, h2}, .count = 2};
    s.groups[1] = (sc_group_t){.mode = ENG_GROUP_ANY, .members = {c1, c2}, .count = 2};
    EXPECT_SLOTS(&s, "2026-06-15T09:00Z", "2026-06-15T10:00Z", "2026-06-15T11:00Z",
                 "2026-06-15T12:00Z");
    EXPECT_RESOURCES(&s, "2026-06-15T09:00Z", 0, c1);
    EXPECT_RESOURCES(&s, "2026-06-15T10:00Z", 0, c2);
    EXPECT_RESOURCES(&s, "2026-06-15T12:00Z", h2, c2);
}

TEST(slots_doctor_and_any_room)
{
    scenario_t s;
    one_resource(&s, "UTC", H(9, 0), H(12, 0), 60, "2026-06-15", "2026-06-15");
    int room1 = add_resource(&s, H(9, 0), H(10, 0), 2);
    int room2 = add_resource(&s, H(11, 0), H(12, 0), 3);
    s.group_count = 2;
    s.groups[0] = (sc_group_t){.mode = ENG_GROUP_ALL, .members = {0}, .count = 1};
    s.groups[1] = (sc_group_t){.mode = ENG_GROUP_ANY, .members = {room1, room2}, .count = 2};
    EXPECT_SLOTS(&s, "2026-06-15T09:00Z", "2026-06-15T11:00Z");
}

TEST(slots_resource_filter_narrows_only_groups_it_names)
{
    scenario_t s;
    one_resource(&s, "UTC", H(9, 0), H(11, 0), 60, "2026-06-15", "2026-06-15");
    int h2 = add_resource(&s, H(10, 0), H(12, 0), 2);
    int chair = add_resource(&s, H(9, 0), H(12, 0), 3);
    s.group_count = 2;
    s.groups[0] = (sc_group_t){.mode = ENG_GROUP_ANY, .members = {0, h2}, .count = 2};
    s.groups[1] = (sc_group_t){.mode = ENG_GROUP_ANY, .members = {chair}, .count = 1};
    s.filter[0] = h2;
    s.filter_count = 1;
    EXPECT_SLOTS(&s, "2026-06-15T10:00Z", "2026-06-15T11:00Z");
    EXPECT_RESOURCES(&s, "2026-06-15T10:00Z", h2, chair);
}

TEST(slots_resource_filter_naming_no_member_offers_nothing)
{
    scenario_t s;
    one_resource(&s, "UTC", H(9, 0), H(11, 0), 60, "2026-06-15", "2026-06-15");
    int outsider = add_resource(&s, H(9, 0), H(11, 0), 2);
    s.filter[0] = outsider;
    s.filter_count = 1;
    EXPECT_NO_SLOTS(&s);
}

TEST(slots_inactive_resource_is_not_offered)
{
    scenario_t s;
    one_resource(&s, "UTC", H(9, 0), H(11, 0), 60, "2026-06-15", "2026-06-15");
    int other = add_resource(&s, H(12, 0), H(13, 0), 2);
    s.groups[0] = (sc_group_t){.mode = ENG_GROUP_ANY, .members = {0, other}, .count = 2};
    s.resources[0].active = false;
    EXPECT_SLOTS(&s, "2026-06-15T12:00Z");
}

/* ---- notice, horizon, limits ----------------------------------------------------- */

TEST(slots_respect_minimum_notice)
{
    scenario_t s;
    one_resource(&s, "UTC", H(9, 0), H(14, 0), 60, "2026-06-15", "2026-06-15");
    s.spec.min_notice_minutes = 120;
    s.now = test_instant("2026-06-15T08:10Z");
    EXPECT_SLOTS(&s, "2026-06-15T11:00Z", "2026-06-15T12:00Z", "2026-06-15T13:00Z");
}

TEST(slots_need_at_least_one_minute_of_notice)
{
    scenario_t s;
    one_resource(&s, "UTC", H(9, 0), H(11, 0), 60, "2026-06-15", "2026-06-15");
    s.now = test_instant("2026-06-15T08:59:30Z");
    EXPECT_SLOTS(&s, "2026-06-15T10:00Z");
}

TEST(slots_stop_at_the_horizon_in_local_dates)
{
    scenario_t s;
    one_resource(&s, "Europe/Warsaw", H(9, 0), H(11, 0), 60, "2026-06-15", "2026-06-18");
    s.spec.max_advance_days = 1;
    s.now = test_instant("2026-06-15T10:30+02:00");
    EXPECT_SLOTS(&s, "2026-06-16T09:00+02:00", "2026-06-16T10:00+02:00");
    s.spec.max_advance_days = 0;
    s.now = test_instant("2026-06-15T07:00+02:00");
    EXPECT_SLOTS(&s, "2026-06-15T09:00+02:00", "2026-06-15T10:00+02:00");
}

TEST(slots_per_day_applies_before_limit)
{
    scenario_t s;
    one_resource(&s, "UTC", H(9, 0), H(12, 0), 60, "2026-06-15", "2026-06-17");
    s.per_day = 1;
    EXPECT_SLOTS(&s, "2026-06-15T09:00Z", "2026-06-16T09:00Z", "2026-06-17T09:00Z");
    s.limit = 2;
    EXPECT_SLOTS(&s, "2026-06-15T09:00Z", "2026-06-16T09:00Z");
    s.per_day = 0;
    EXPECT_SLOTS(&s, "2026-06-15T09:00Z", "2026-06-15T10:00Z");
}

TEST(slots_per_day_counts_local_dates_of_the_display_zone)
{
    scenario_t s;
    one_resource(&s, "UTC", H(20, 0), H(24, 0), 60, "2026-06-15", "2026-06-15");
    s.display = test_zone("Asia/Tokyo"); /* 20:00Z is already the 16th in Tokyo */
    s.per_day = 1;
    s.from = test_instant("2026-06-15T20:00Z");
    s.to = test_instant("2026-06-16T00:00Z");
    EXPECT_SLOTS(&s, "2026-06-16T05:00+09:00");
}

TEST(slots_may_start_before_the_window_end_and_end_after_it)
{
    scenario_t s;
    one_resource(&s, "UTC", H(9, 0), H(12, 0), 60, "2026-06-15", "2026-06-15");
    s.from = test_instant("2026-06-15T09:00Z");
    s.to = test_instant("2026-06-15T10:30Z");
    EXPECT_SLOTS(&s, "2026-06-15T09:00Z", "2026-06-15T10:00Z");
}

/* ---- rules: overrides, closures, business hours, blocks ----------------------------- */

TEST(slots_override_replaces_the_day)
{
    scenario_t s;
    one_resource(&s, "UTC", H(9, 0), H(12, 0), 60, "2026-06-15", "2026-06-17");
    sc_resource_t *r = &s.resources[0];
    r->overrides[0] =
        (sc_override_t){test_day("2026-06-16"), {.count = 1, .ranges = {{H(13, 0), H(15, 0)}}}};
    r->overrides[1] = (sc_override_t){test_day("2026-06-17"), {.count = 0}};
    r->override_count = 2;
    s.per_day = 0;
    EXPECT_SLOTS(&s, "2026-06-15T09:00Z", "2026-06-15T10:00Z", "2026-06-15T11:00Z",
                 "2026-06-16T13:00Z", "2026-06-16T14:00Z");
}

TEST(slots_closures_of_organization_and_location_both_apply)
{
    scenario_t s;
    one_resource(&s, "UTC", H(9, 0), H(10, 0), 60, "2026-06-15", "2026-06-18");
    s.closures[0] = test_day("2026-06-16");
    s.closure_count = 1;
    s.location_count = 1;
    s.locations[0] = (sc_location_t){.zone = test_zone("UTC")};
    s.locations[0].closures[0] = test_day("2026-06-18");
    s.locations[0].closure_count = 1;
    s.resources[0].location = 0;
    EXPECT_SLOTS(&s, "2026-06-15T09:00Z", "2026-06-17T09:00Z");
}

TEST(slots_organization_hours_bound_every_resource)
{
    scenario_t s;
    one_resource(&s, "UTC", H(8, 0), H(18, 0), 60, "2026-06-15", "2026-06-15");
    s.has_hours = true;
    sc_week_days(&s.hours, 0, 6, H(10, 0), H(12, 0));
    EXPECT_SLOTS(&s, "2026-06-15T10:00Z", "2026-06-15T11:00Z");
}

TEST(slots_location_hours_replace_organization_hours)
{
    scenario_t s;
    one_resource(&s, "UTC", H(8, 0), H(18, 0), 60, "2026-06-15", "2026-06-15");
    s.has_hours = true;
    sc_week_days(&s.hours, 0, 6, H(10, 0), H(12, 0));
    s.location_count = 1;
    s.locations[0] = (sc_location_t){.zone = test_zone("UTC"), .has_hours = true};
    sc_week_days(&s.locations[0].hours, 0, 6, H(15, 0), H(17, 0));
    s.resources[0].location = 0;
    EXPECT_SLOTS(&s, "2026-06-15T15:00Z", "2026-06-15T16:00Z");
}

TEST(slots_location_filter_keeps_that_locations_resources)
{
    scenario_t s;
    one_resource(&s, "UTC", H(9, 0), H(10, 0), 60, "2026-06-15", "2026-06-15");
    int other = add_resource(&s, H(11, 0), H(12, 0), 2);
    s.groups[0] = (sc_group_t){.mode = ENG_GROUP_ANY, .members = {0, other}, .count = 2};
    s.location_count = 2;
    s.locations[0] = (sc_location_t){.zone = test_zone("UTC")};
    s.locations[1] = (sc_location_t){.zone = test_zone("UTC")};
    s.resources[0].location = 0;
    s.resources[other].location = 1;
    s.location_filter = 1;
    EXPECT_SLOTS(&s, "2026-06-15T11:00Z");
}

TEST(slots_business_hours_in_their_own_zone)
{
    /* A Warsaw resource bounded by a New York location open 09:00-17:00 local. */
    scenario_t s;
    one_resource(&s, "Europe/Warsaw", H(0, 0), H(24, 0), 60, "2026-06-15", "2026-06-15");
    s.location_count = 1;
    s.locations[0] = (sc_location_t){.zone = test_zone("America/New_York"), .has_hours = true};
    sc_week_days(&s.locations[0].hours, 0, 6, H(9, 0), H(11, 0));
    s.resources[0].location = 0;
    EXPECT_SLOTS(&s, "2026-06-15T15:00+02:00", "2026-06-15T16:00+02:00");
}

TEST(slots_one_off_blocks_are_busy_without_buffers)
{
    scenario_t s;
    one_resource(&s, "UTC", H(9, 0), H(12, 0), 60, "2026-06-15", "2026-06-15");
    s.resources[0].busy[0] = (eng_busy_t){.start = test_instant("2026-06-15T10:00Z"),
                                          .end = test_instant("2026-06-15T11:00Z"),
                                          .buffer_before = 30,
                                          .kind = ENG_BUSY_BLOCK,
                                          .key = 9};
    s.resources[0].busy_count = 1;
    EXPECT_SLOTS(&s, "2026-06-15T09:00Z", "2026-06-15T11:00Z");
}

TEST(slots_recurring_block_keeps_its_wall_time_across_dst)
{
    scenario_t s;
    one_resource(&s, "Europe/Warsaw", H(9, 0), H(15, 0), 60, "2026-03-28", "2026-03-30");
    sc_recurring_t *rec = &s.resources[0].recurring[0];
    snprintf(rec->rrule, sizeof(rec->rrule), "FREQ=DAILY");
    rec->start_wall = test_wall("2026-03-01T12:00");
    rec->duration_minutes = 60;
    rec->exdates[0] = test_wall("2026-03-30T12:00");
    rec->exdate_count = 1;
    s.resources[0].recurring_count = 1;
    s.per_day = 0;
    EXPECT_SLOTS(&s, "2026-03-28T09:00+01:00", "2026-03-28T10:00+01:00", "2026-03-28T11:00+01:00",
                 "2026-03-28T13:00+01:00", "2026-03-28T14:00+01:00", "2026-03-29T09:00+02:00",
                 "2026-03-29T10:00+02:00", "2026-03-29T11:00+02:00", "2026-03-29T13:00+02:00",
                 "2026-03-29T14:00+02:00", "2026-03-30T09:00+02:00", "2026-03-30T10:00+02:00",
                 "2026-03-30T11:00+02:00", "2026-03-30T12:00+02:00", "2026-03-30T13:00+02:00",
                 "2026-03-30T14:00+02:00");
}
