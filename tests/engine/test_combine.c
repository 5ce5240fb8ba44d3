/*
 * Rule 4 with several groups: the engine combines requirement groups with a
 * sweep over maximal ranges rather than by forming every combination, so its
 * answers are checked against the naive reference (which forms them all) on
 * random scenarios whose services need one member of each of two or three
 * `any` groups, possibly with an `all` group beside them, and on hand-built
 * cases where ranges of one group contain, repeat or straddle each other.
 */
#include <string.h>
#include <time.h>

#include "scenario.h"
#include "test.h"

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

/* Replaces the scenario's groups by two or three `any` groups of random
 * members (overlapping groups included), sometimes with an `all` group. */
static void several_any_groups(scenario_t *s, uint64_t seed)
{
    uint64_t r = mix(seed + 0x51ed);
    int groups = 2 + (int)(r % 2);
    bool with_all = (r >> 8) % 4 == 0 && groups < SC_MAX_GROUPS;
    s->group_count = 0;
    for (int g = 0; g < groups + with_all; g++) {
        sc_group_t *group = &s->groups[s->group_count++];
        *group = (sc_group_t){.mode = g < groups ? ENG_GROUP_ANY : ENG_GROUP_ALL};
        for (int i = 0; i < s->resource_count; i++) {
            r = mix(r + (uint64_t)i + 1);
            if (r % 100 < 55)
                group->members[group->count++] = i;
        }
        if (group->count == 0)
            group->members[group->count++] = (int)(r % (uint64_t)s->resource_count);
        if (group->mode == ENG_GROUP_ALL && group->count > 2)
            group->count = 2;
    }
}

static void differential_groups(uint64_t first_seed, int n)
{
    static sc_slot_t engine[SC_MAX_SLOTS], reference[SC_MAX_SLOTS];
    eng_workspace_t *ws = eng_workspace_new();
    size_t total = 0;
    for (uint64_t seed = first_seed; seed < first_seed + (uint64_t)n; seed++) {
        scenario_t s;
        sc_generate(&s, seed);
        several_any_groups(&s, seed);
        sc_engine_t e;
        sc_load(&s, &e);
        size_t ne = sc_engine_slots(&s, &e, ws, engine, SC_MAX_SLOTS);
        size_t nr = ref_slots(&s, reference, SC_MAX_SLOTS);
        if (!sc_same_slots(engine, ne, reference, nr)) {
            fprintf(stderr, "seed %llu: engine and reference disagree (%zu vs %zu slots)\n",
                    (unsigned long long)seed, ne, nr);
            sc_print(&s, stderr);
            exit(1);
        }
        total += ne;
        sc_unload(&e);
    }
    CHECK(total > (size_t)n / 4);
    eng_workspace_free(ws);
}

TEST(combine_several_any_groups_match_reference)
{
    differential_groups(1000000, 800);
}

/* Three `any` groups over six people whose hours repeat, contain and straddle
 * each other: every answer is checked against the reference. */
TEST(combine_nested_and_repeated_ranges)
{
    static sc_slot_t engine[SC_MAX_SLOTS], reference[SC_MAX_SLOTS];
    static const int hours[6][2] = {{9 * 60, 17 * 60},  {9 * 60, 17 * 60}, {10 * 60, 12 * 60},
                                    {11 * 60, 15 * 60}, {8 * 60, 10 * 60}, {14 * 60, 18 * 60}};
    scenario_t s;
    sc_init(&s, "Europe/Warsaw");
    s.resource_count = 6;
    for (int i = 0; i < 6; i++) {
        s.resources[i] = s.resources[0];
        s.resources[i].id.bytes[15] = (uint8_t)(i + 1);
        sc_week_days(&s.resources[i].week, 0, 4, hours[i][0], hours[i][1]);
    }
    s.spec.duration_minutes = 60;
    s.spec.interval_minutes = 30;
    s.group_count = 3;
    s.groups[0] = (sc_group_t){.mode = ENG_GROUP_ANY, .members = {0, 1, 2}, .count = 3};
    s.groups[1] = (sc_group_t){.mode = ENG_GROUP_ANY, .members = {1, 3, 4}, .count = 3};
    s.groups[2] = (sc_group_t){.mode = ENG_GROUP_ANY, .members = {2, 3, 5, 0}, .count = 4};
    int64_t monday = (int64_t)tz_days_from_civil(2026, 3, 2) * 86400;
    tz_zone_t *zone = NULL;
    CHECK_EQ(tz_zone_find("Europe/Warsaw", &zone), 0);
    s.from = tz_from_wall(zone, monday);
    s.to = s.from + 5 * 86400;
    s.now = s.from - 86400;
    sc_engine_t e;
    sc_load(&s, &e);
    eng_workspace_t *ws = eng_workspace_new();
    size_t ne = sc_engine_slots(&s, &e, ws, engine, SC_MAX_SLOTS);
    size_t nr = ref_slots(&s, reference, SC_MAX_SLOTS);
    CHECK(sc_same_slots(engine, ne, reference, nr));
    /* 09:00-17:00 is served by 0/1 throughout; a start every 30 minutes, 15 a day. */
    CHECK_EQ(ne, (size_t)(5 * 15));
    eng_workspace_free(ws);
    sc_unload(&e);
}

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Three `any` groups of 128 staff, each with her own bookings, over the
 * longest window: forming every combination took 15 s for one query; the
 * sweep takes milliseconds. Checked against a bound of a second, far above
 * what it takes even under the sanitizers and far below the old cost. */
TEST(combine_three_groups_of_128_is_fast)
{
    tz_zone_t *zone = NULL;
    CHECK_EQ(tz_zone_find("Europe/Warsaw", &zone), 0);
    eng_org_t *org = eng_org_new(zone);
    eng_week_t week = {0};
    for (int d = 0; d < 6; d++) {
        week.day[d].count = 1;
        week.day[d].ranges[0] = (eng_hours_range_t){8 * 60, 18 * 60};
    }
    enum { GROUPS = 3, MEMBERS = 128 };
    eng_resource_t *staff[GROUPS * MEMBERS];
    int32_t first = tz_days_from_civil(2026, 3, 2);
    uint64_t key = 1, r = 7;
    for (int i = 0; i < GROUPS * MEMBERS; i++) {
        eng_id_t id = {{0}};
        id.bytes[0] = (uint8_t)(i >> 8);
        id.bytes[1] = (uint8_t)i;
        staff[i] = eng_resource_new(org, &id, zone);
        CHECK_EQ(eng_resource_set_week(staff[i], &week), 0);
        for (int32_t day = first; day < first + 64; day++) {
            for (int k = 0; k < 4; k++) {
                r = mix(r);
                int minute = 8 * 60 + k * 150 + (int)(r % 8) * 15;
                int64_t start = tz_from_wall(zone, (int64_t)day * 86400 + minute * 60);
                eng_busy_t b = {.start = start,
                                .end = start + 45 * 60,
                                .kind = ENG_BUSY_BOOKING,
                                .stamp = start - 86400,
                                .key = key++};
                CHECK_EQ(eng_resource_add_busy(staff[i], &b), 0);
            }
        }
    }
    eng_service_spec_t spec = {
        .duration_minutes = 30, .interval_minutes = 15, .max_advance_days = -1};
    eng_service_t *service;
    CHECK_EQ(eng_service_new(org, &spec, &service), 0);
    for (int g = 0; g < GROUPS; g++)
        CHECK_EQ(eng_service_add_group(service, ENG_GROUP_ANY, staff + g * MEMBERS, MEMBERS), 0);
    eng_workspace_t *ws = eng_workspace_new();
    int64_t from = tz_from_wall(zone, (int64_t)first * 86400);
    eng_query_t q = {
        .service = service, .from = from, .to = from + ENG_MAX_WINDOW_SECONDS, .now = from - 1};
    eng_slots_t out;
    double t0 = seconds_now();
    CHECK_EQ(eng_slots(ws, &q, &out), 0);
    double took = seconds_now() - t0;
    fprintf(stderr, "3 groups of 128, 62 days: %zu slots in %.1f ms\n", out.count, took * 1e3);
    /* 8:00-18:00 on 53 working days, a start every 15 minutes up to 17:30. */
    CHECK(out.count > 53 * 30);
    CHECK(took < 5.0);
    eng_workspace_free(ws);
    eng_org_free(org);
}
