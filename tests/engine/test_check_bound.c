/*
 * The booking check's look-back. A start is bookable when the grid of starts,
 * window aside, reaches it; when the range it lies in began long before (a
 * resource open around the clock), the check looks back to where that grid
 * began. It used to emit every start on the way: a check 50 years ahead took
 * seconds and gigabytes. It now follows each range's progression of starts
 * without emitting them; these tests bound its cost and check its answers
 * against the slot query's over chains of overlapping ranges.
 */
#include <string.h>
#include <time.h>

#include "slotd/engine.h"
#include "scenario.h"
#include "test.h"

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t next_u64(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

TEST(check_far_ahead_on_a_grid_set_years_before_is_fast)
{
    tz_zone_t *z;
    CHECK_EQ(tz_zone_find("Europe/Warsaw", &z), 0);
    eng_org_t *org = eng_org_new(z);
    eng_resource_t *r = sc_resource_every_day(org, z, 1, 0, 1440);
    eng_service_spec_t spec = {
        .duration_minutes = 7, .interval_minutes = 7, .max_advance_days = -1};
    eng_service_t *service;
    CHECK_EQ(eng_service_new(org, &spec, &service), 0);
    CHECK_EQ(eng_service_add_group(service, ENG_GROUP_ANY, &r, 1), 0);
    eng_workspace_t *ws = eng_workspace_new();
    int64_t now = (int64_t)tz_days_from_civil(2026, 3, 1) * 86400 + 17;
    /* the grid: now + 60 s rounded up to a minute, then every 7 minutes */
    int64_t first = (now + 60 + 59) / 60 * 60;
    int64_t far = first + 7 * 60 * (int64_t)(50 * 365.25 * 1440 / 7);
    eng_resource_t *const *picked;
    size_t count;
    double t0 = mono_now();
    eng_check_t on = {.service = service, .start = far, .now = now};
    CHECK_EQ(eng_check_booking(ws, &on, &picked, &count), 0);
    CHECK_EQ(count, 1);
    eng_check_t off = {.service = service, .start = far + 60, .now = now};
    CHECK_EQ(eng_check_booking(ws, &off, &picked, &count), ENG_EUNAVAILABLE);
    double took = mono_now() - t0;
    fprintf(stderr, "two checks 50 years ahead: %.1f ms\n", took * 1e3);
    CHECK(took < 1.5);
    eng_workspace_free(ws);
    eng_org_free(org);
}

/* Random organizations whose resources are open around the clock with random
 * bookings, served by one or two groups, with steps that do not divide the
 * duration: every start the slot query shows from `now` on (its window then
 * starts where the check's look-back does) is bookable, and every other start
 * on a 5-minute lattice is not. */
TEST(check_agrees_with_the_slot_query_over_long_chains)
{
    tz_zone_t *z;
    CHECK_EQ(tz_zone_find("America/New_York", &z), 0);
    uint64_t x = 0x2545f4914f6cdd1dULL;
    eng_workspace_t *ws = eng_workspace_new(), *ws2 = eng_workspace_new();
    size_t agreed = 0, offered = 0;
    for (int round = 0; round < 40; round++) {
        eng_org_t *org = eng_org_new(z);
        eng_resource_t *r[4];
        int64_t now =
            (int64_t)tz_days_from_civil(2026, 3, 1) * 86400 + (int64_t)(next_u64(&x) % 86400);
        for (int i = 0; i < 4; i++) {
            eng_id_t id = {{(uint8_t)(i + 1)}};
            r[i] = eng_resource_new(org, &id, z);
            eng_week_t week = {0};
            sc_week_days(&week, 0, 6, 0, 1440);
            CHECK_EQ(eng_resource_set_week(r[i], &week), 0);
            int bookings = (int)(next_u64(&x) % 12);
            for (int k = 0; k < bookings; k++) {
                int64_t start = now + (int64_t)(next_u64(&x) % (20 * 86400)) / 60 * 60;
                eng_busy_t b = {.start = start,
                                .end = start + 60 * (int64_t)(10 + next_u64(&x) % 300),
                                .kind = ENG_BUSY_BOOKING,
                                .stamp = now,
                                .key = (uint64_t)k + 1};
                eng_resource_add_busy(r[i], &b);
            }
        }
        eng_service_spec_t spec = {.duration_minutes = 20 + (int)(next_u64(&x) % 50),
                                   .interval_minutes = 5 + (int)(next_u64(&x) % 40),
                                   .min_notice_minutes = (int)(next_u64(&x) % 90),
                                   .max_advance_days = -1};
        eng_service_t *service;
        CHECK_EQ(eng_service_new(org, &spec, &service), 0);
        bool two = next_u64(&x) % 2;
        CHECK_EQ(eng_service_add_group(service, ENG_GROUP_ANY, r, two ? 2 : 4), 0);
        if (two)
            CHECK_EQ(eng_service_add_group(service, ENG_GROUP_ANY, r + 2, 2), 0);

        eng_query_t q = {.service = service, .from = now, .to = now + 21 * 86400, .now = now};
        eng_slots_t slots;
        CHECK_EQ(eng_slots(ws2, &q, &slots), 0);
        size_t next = 0;
        /* starts from day 15 on: far enough that the look-back crosses many ranges */
        int64_t begin = now + 15 * 86400;
        for (int64_t t = begin / 300 * 300; t < now + 20 * 86400; t += 300) {
            while (next < slots.count && slots.slots[next].start < t)
                next++;
            bool shown = next < slots.count && slots.slots[next].start == t;
            eng_check_t check = {.service = service, .start = t, .now = now};
            eng_resource_t *const *picked;
            size_t count;
            int rc = eng_check_booking(ws, &check, &picked, &count);
            if ((rc == 0) != shown) {
                fprintf(stderr, "round %d, start %lld: check %s, slots %s\n", round, (long long)t,
                        eng_strerror(rc), shown ? "shown" : "not shown");
                CHECK(false);
            }
            agreed++;
            offered += shown;
        }
        /* and every start shown off the lattice */
        for (size_t i = 0; i < slots.count; i++) {
            if (slots.slots[i].start < begin)
                continue;
            eng_check_t check = {.service = service, .start = slots.slots[i].start, .now = now};
            eng_resource_t *const *picked;
            size_t count;
            CHECK_EQ(eng_check_booking(ws, &check, &picked, &count), 0);
        }
        eng_org_free(org);
    }
    fprintf(stderr, "%zu checks agreed, %zu of them offered\n", agreed, offered);
    CHECK(offered > agreed / 20);
    eng_workspace_free(ws);
    eng_workspace_free(ws2);
}
