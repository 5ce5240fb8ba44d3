/*
 * The booking check and the resource pick rule (docs/design.md, after rule 10).
 */
#include "scenario.h"
#include "test.h"

#define H(h, m) ((h)*60 + (m))

/* Three stylists (ids 1, 2, 3) open 09:00-17:00 UTC every day, any one needed. */
static void salon(scenario_t *s)
{
    sc_init(s, "UTC");
    s->resource_count = 3;
    for (int i = 0; i < 3; i++) {
        s->resources[i] = (sc_resource_t){.zone = s->zone, .location = -1, .active = true};
        s->resources[i].id.bytes[15] = (uint8_t)(i + 1);
        sc_week_days(&s->resources[i].week, 0, 6, H(9, 0), H(17, 0));
    }
    s->groups[0] = (sc_group_t){.mode = ENG_GROUP_ANY, .members = {0, 1, 2}, .count = 3};
    s->now = test_instant("2026-06-01T00:00Z");
}

static void book(scenario_t *s, int r, const char *start, int64_t created)
{
    sc_resource_t *res = &s->resources[r];
    int64_t t = test_instant(start);
    res->busy[res->busy_count] = (eng_busy_t){.start = t,
                                              .end = t + 3600,
                                              .kind = ENG_BUSY_BOOKING,
                                              .stamp = created,
                                              .key = (uint64_t)res->busy_count + 1};
    res->busy_count++;
}

static int check(const scenario_t *s, const char *start, const int *pinned, int pinned_count,
                 int *picked_out, size_t *picked_count)
{
    sc_engine_t e;
    sc_load(s, &e);
    eng_workspace_t *ws = eng_workspace_new();
    eng_resource_t *pins[SC_MAX_RESOURCES];
    for (int i = 0; i < pinned_count; i++)
        pins[i] = e.resources[pinned[i]];
    eng_check_t c = {.service = e.service,
                     .start = test_instant(start),
                     .now = s->now,
                     .pinned = pins,
                     .pinned_count = (size_t)pinned_count};
    eng_resource_t *const *picked = NULL;
    size_t n = 0;
    int rc = eng_check_booking(ws, &c, &picked, &n);
    *picked_count = rc == 0 ? n : 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        for (int j = 0; j < s->resource_count; j++)
            if (picked[i] == e.resources[j])
                picked_out[i] = j;
    eng_workspace_free(ws);
    sc_unload(&e);
    return rc;
}

TEST(check_accepts_an_offered_start)
{
    scenario_t s;
    salon(&s);
    int picked[4];
    size_t n;
    CHECK_EQ(check(&s, "2026-06-15T10:00Z", NULL, 0, picked, &n), 0);
    CHECK_EQ(n, 1);
}

TEST(check_refuses_a_start_off_the_grid)
{
    scenario_t s;
    salon(&s);
    int picked[4];
    size_t n;
    CHECK_EQ(check(&s, "2026-06-15T10:30Z", NULL, 0, picked, &n), ENG_EUNAVAILABLE);
    CHECK_EQ(check(&s, "2026-06-15T08:00Z", NULL, 0, picked, &n), ENG_EUNAVAILABLE);
}

TEST(check_refuses_a_start_inside_the_notice)
{
    scenario_t s;
    salon(&s);
    s.spec.min_notice_minutes = 60;
    s.now = test_instant("2026-06-15T09:30Z");
    int picked[4];
    size_t n;
    CHECK_EQ(check(&s, "2026-06-15T10:00Z", NULL, 0, picked, &n), ENG_EUNAVAILABLE);
    CHECK_EQ(check(&s, "2026-06-15T11:00Z", NULL, 0, picked, &n), 0);
}

TEST(check_refuses_a_start_past_the_horizon)
{
    scenario_t s;
    salon(&s);
    s.spec.max_advance_days = 14;
    int picked[4];
    size_t n;
    CHECK_EQ(check(&s, "2026-06-15T10:00Z", NULL, 0, picked, &n), 0);
    CHECK_EQ(check(&s, "2026-06-16T10:00Z", NULL, 0, picked, &n), ENG_EUNAVAILABLE);
}

TEST(check_refuses_a_start_taken_by_every_member)
{
    scenario_t s;
    salon(&s);
    for (int r = 0; r < 3; r++)
        book(&s, r, "2026-06-15T10:00Z", 100);
    int picked[4];
    size_t n;
    CHECK_EQ(check(&s, "2026-06-15T10:00Z", NULL, 0, picked, &n), ENG_EUNAVAILABLE);
    CHECK_EQ(check(&s, "2026-06-15T11:00Z", NULL, 0, picked, &n), 0);
}

TEST(pick_prefers_fewest_bookings_that_local_day)
{
    scenario_t s;
    salon(&s);
    book(&s, 0, "2026-06-15T09:00Z", 100);
    book(&s, 1, "2026-06-15T09:00Z", 100);
    book(&s, 1, "2026-06-15T12:00Z", 100);
    book(&s, 2, "2026-06-15T13:00Z", 100);
    book(&s, 2, "2026-06-16T13:00Z", 500); /* another day: does not count */
    int picked[4];
    size_t n;
    /* 0 and 2 have one booking that day; 0's latest booking (100) is older than 2's (500) */
    CHECK_EQ(check(&s, "2026-06-15T15:00Z", NULL, 0, picked, &n), 0);
    CHECK_EQ(n, 1);
    CHECK_EQ(picked[0], 0);
}

TEST(pick_prefers_never_booked_then_lowest_id)
{
    scenario_t s;
    salon(&s);
    book(&s, 0, "2026-06-10T09:00Z", 100); /* other days: 0 and 1 have history */
    book(&s, 1, "2026-06-11T09:00Z", 50);
    int picked[4];
    size_t n;
    CHECK_EQ(check(&s, "2026-06-15T15:00Z", NULL, 0, picked, &n), 0);
    CHECK_EQ(picked[0], 2);
    s.resources[2].active = false;
    CHECK_EQ(check(&s, "2026-06-15T15:00Z", NULL, 0, picked, &n), 0);
    CHECK_EQ(picked[0], 1); /* booked longest ago */
    s.resources[1].busy[0].stamp = 100;
    CHECK_EQ(check(&s, "2026-06-15T15:00Z", NULL, 0, picked, &n), 0);
    CHECK_EQ(picked[0], 0); /* a tie: the lowest id */
}

TEST(pick_counts_bookings_on_the_organizations_local_date)
{
    scenario_t s;
    salon(&s);
    s.zone = test_zone("Asia/Tokyo");
    for (int i = 0; i < 3; i++)
        sc_week_days(&s.resources[i].week, 0, 6, H(0, 0), H(24, 0));
    /* 2026-06-15T16:00Z is the 16th in Tokyo; so is the booking at 20:00Z */
    book(&s, 0, "2026-06-15T20:00Z", 100);
    book(&s, 1, "2026-06-15T10:00Z", 100); /* the 15th in Tokyo */
    int picked[4];
    size_t n;
    CHECK_EQ(check(&s, "2026-06-15T16:00Z", NULL, 0, picked, &n), 0);
    CHECK_EQ(picked[0], 2);
    s.resources[2].active = false;
    CHECK_EQ(check(&s, "2026-06-15T16:00Z", NULL, 0, picked, &n), 0);
    CHECK_EQ(picked[0], 1);
}

TEST(check_uses_the_pinned_resource)
{
    scenario_t s;
    salon(&s);
    int pin[] = {2};
    int picked[4];
    size_t n;
    CHECK_EQ(check(&s, "2026-06-15T10:00Z", pin, 1, picked, &n), 0);
    CHECK_EQ(n, 1);
    CHECK_EQ(picked[0], 2);
    book(&s, 2, "2026-06-15T10:00Z", 100);
    CHECK_EQ(check(&s, "2026-06-15T10:00Z", pin, 1, picked, &n), ENG_EUNAVAILABLE);
}

TEST(check_refuses_pins_outside_the_service_or_twice_in_a_group)
{
    scenario_t s;
    salon(&s);
    s.resource_count = 4;
    s.resources[3] = s.resources[2];
    s.resources[3].id.bytes[15] = 9;
    int outsider[] = {3};
    int two[] = {0, 1};
    int picked[4];
    size_t n;
    CHECK_EQ(check(&s, "2026-06-15T10:00Z", outsider, 1, picked, &n), ENG_ERESOURCE);
    CHECK_EQ(check(&s, "2026-06-15T10:00Z", two, 2, picked, &n), ENG_ERESOURCE);
}

TEST(check_accepts_a_start_shown_with_a_resource_on_anothers_grid)
{
    /* A open 09:00-12:00, B 09:20-13:00, 45 minutes: the slot list shows 12:00
     * with B on A's grid; B alone would start at 09:30. Both are bookable with B. */
    scenario_t s;
    salon(&s);
    s.resource_count = 2;
    s.spec.duration_minutes = 45;
    s.resources[0].week = (eng_week_t){0};
    s.resources[1].week = (eng_week_t){0};
    sc_week_days(&s.resources[0].week, 0, 6, H(9, 0), H(12, 0));
    sc_week_days(&s.resources[1].week, 0, 6, H(9, 20), H(13, 0));
    s.groups[0] = (sc_group_t){.mode = ENG_GROUP_ANY, .members = {0, 1}, .count = 2};
    int pin[] = {1};
    int picked[4];
    size_t n;
    CHECK_EQ(check(&s, "2026-06-15T12:00Z", pin, 1, picked, &n), 0);
    CHECK_EQ(check(&s, "2026-06-15T09:30Z", pin, 1, picked, &n), 0);
    CHECK_EQ(check(&s, "2026-06-15T09:30Z", NULL, 0, picked, &n), ENG_EUNAVAILABLE);
    CHECK_EQ(check(&s, "2026-06-15T09:00Z", pin, 1, picked, &n), ENG_EUNAVAILABLE);
}

TEST(check_sees_the_grid_of_a_range_that_began_days_earlier)
{
    /* Open around the clock with a 7-minute step: the grid of the 20th was set
     * by the range starting on the 15th, far outside a one-day look-back. */
    scenario_t s;
    salon(&s);
    s.resource_count = 1;
    s.groups[0].count = 1;
    sc_week_days(&s.resources[0].week, 0, 6, H(0, 0), H(24, 0));
    s.spec.duration_minutes = 7;
    s.now = test_instant("2026-06-14T23:59Z");
    /* earliest start 2026-06-15T00:00Z, then every 7 minutes, never realigned */
    int64_t first = test_instant("2026-06-15T00:00Z");
    int64_t later = first + 7 * 60 * 1000; /* the 1000th step, about 4.9 days later */
    char text[40];
    tz_zone_t *utc = test_zone("UTC");
    snprintf(text, sizeof(text), "%s", test_format(utc, later));
    text[16] = 'Z';
    text[17] = 0;
    int picked[4];
    size_t n;
    CHECK_EQ(check(&s, text, NULL, 0, picked, &n), 0);
    snprintf(text, sizeof(text), "%s", test_format(utc, later + 60));
    text[16] = 'Z';
    text[17] = 0;
    CHECK_EQ(check(&s, text, NULL, 0, picked, &n), ENG_EUNAVAILABLE);
}

TEST(check_collective_picks_everyone)
{
    scenario_t s;
    salon(&s);
    s.groups[0] = (sc_group_t){.mode = ENG_GROUP_ALL, .members = {2, 0}, .count = 2};
    int picked[4];
    size_t n;
    CHECK_EQ(check(&s, "2026-06-15T10:00Z", NULL, 0, picked, &n), 0);
    CHECK_EQ(n, 2);
    CHECK_EQ(picked[0], 0); /* sorted by id */
    CHECK_EQ(picked[1], 2);
}

TEST(no_overlap_check_ignores_hours_but_not_bookings_or_live_holds)
{
    scenario_t s;
    salon(&s);
    s.spec.buffer_after_minutes = 10;
    book(&s, 0, "2026-06-15T10:00Z", 100);
    sc_resource_t *r = &s.resources[1];
    r->busy[0] = (eng_busy_t){.start = test_instant("2026-06-15T20:00Z"),
                              .end = test_instant("2026-06-15T21:00Z"),
                              .kind = ENG_BUSY_HOLD,
                              .stamp = test_instant("2026-06-01T00:05Z"),
                              .key = 1};
    r->busy_count = 1;
    sc_engine_t e;
    sc_load(&s, &e);
    eng_workspace_t *ws = eng_workspace_new();
    eng_resource_t *zero[] = {e.resources[0]}, *one[] = {e.resources[1]};
    /* 23:00 is outside working hours: fine for an override */
    CHECK_EQ(eng_check_no_overlap(ws, e.service, test_instant("2026-06-15T23:00Z"),
                                  test_instant("2026-06-16T00:00Z"), s.now, zero, 1),
             0);
    /* 09:00-10:00 plus the 10-minute after-buffer reaches into the 10:00 booking */
    CHECK_EQ(eng_check_no_overlap(ws, e.service, test_instant("2026-06-15T09:00Z"),
                                  test_instant("2026-06-15T10:00Z"), s.now, zero, 1),
             ENG_EUNAVAILABLE);
    CHECK_EQ(eng_check_no_overlap(ws, e.service, test_instant("2026-06-15T20:30Z"),
                                  test_instant("2026-06-15T21:00Z"), s.now, one, 1),
             ENG_EUNAVAILABLE);
    CHECK_EQ(eng_check_no_overlap(ws, e.service, test_instant("2026-06-15T20:30Z"),
                                  test_instant("2026-06-15T21:00Z"),
                                  test_instant("2026-06-01T00:05Z"), one, 1),
             0); /* the hold expired */
    eng_workspace_free(ws);
    sc_unload(&e);
}

TEST(span_check_keeps_hours_blocks_recurring_blocks_and_buffers)
{
    scenario_t s;
    salon(&s);
    s.spec.buffer_after_minutes = 10;
    book(&s, 1, "2026-06-15T10:00Z", 100);
    sc_resource_t *r0 = &s.resources[0];
    r0->busy[0] = (eng_busy_t){.start = test_instant("2026-06-16T16:30Z"),
                               .end = test_instant("2026-06-16T16:45Z"),
                               .kind = ENG_BUSY_BLOCK,
                               .key = 1};
    r0->busy_count = 1;
    /* a lunch break every day 12:00-13:00 on stylist 3 */
    sc_resource_t *r2 = &s.resources[2];
    snprintf(r2->recurring[0].rrule, sizeof(r2->recurring[0].rrule), "FREQ=DAILY");
    r2->recurring[0].start_wall = test_instant("2026-06-01T12:00Z");
    r2->recurring[0].duration_minutes = 60;
    r2->recurring_count = 1;
    sc_engine_t e;
    sc_load(&s, &e);
    eng_workspace_t *ws = eng_workspace_new();
    eng_resource_t *zero[] = {e.resources[0]}, *one[] = {e.resources[1]}, *two[] = {e.resources[2]};
#define SPAN(from, to, list)                                                                       \
    eng_check_span(ws, e.service, test_instant(from), test_instant(to), s.now, list, 1)
    CHECK_EQ(SPAN("2026-06-15T14:00Z", "2026-06-15T17:00Z", zero), 0);
    CHECK_EQ(SPAN("2026-06-15T16:00Z", "2026-06-15T17:30Z", zero), ENG_EUNAVAILABLE); /* hours */
    CHECK_EQ(SPAN("2026-06-15T08:30Z", "2026-06-15T10:00Z", zero), ENG_EUNAVAILABLE);
    CHECK_EQ(SPAN("2026-06-16T15:00Z", "2026-06-16T17:00Z", zero), ENG_EUNAVAILABLE); /* block */
    CHECK_EQ(SPAN("2026-06-16T15:00Z", "2026-06-16T16:20Z", zero), 0); /* ends before, +10 */
    CHECK_EQ(SPAN("2026-06-16T15:00Z", "2026-06-16T16:21Z", zero), ENG_EUNAVAILABLE);
    /* the booking at 10:00: the new span's after-buffer may not reach it */
    CHECK_EQ(SPAN("2026-06-15T09:00Z", "2026-06-15T10:00Z", one), ENG_EUNAVAILABLE);
    CHECK_EQ(SPAN("2026-06-15T11:00Z", "2026-06-15T13:30Z", one), 0);
    CHECK_EQ(SPAN("2026-06-20T10:00Z", "2026-06-20T12:30Z", two), ENG_EUNAVAILABLE); /* lunch */
    CHECK_EQ(SPAN("2026-06-20T13:00Z", "2026-06-20T16:00Z", two), 0);
    CHECK_EQ(SPAN("2026-06-20T13:00Z", "2026-06-20T13:00Z", two), ENG_EINVAL);
#undef SPAN
    eng_workspace_free(ws);
    sc_unload(&e);
}
