/*
 * The differential test: the engine against the naive reference (reference.c)
 * over thousands of random scenarios — random zones, hours, overrides,
 * closures, locations, bookings, holds, blocks, recurring blocks, buffers,
 * steps, notice, horizons, groups, filters and limits, with windows placed
 * around DST changes. Every disagreement is a bug in one of the two; the
 * failing scenario is printed with its seed.
 *
 * SLOTD_DIFF_SCENARIOS sets how many scenarios each test runs (default 600).
 */
#include <string.h>

#include "scenario.h"
#include "test.h"

static int scenarios_per_test(void)
{
    const char *env = getenv("SLOTD_DIFF_SCENARIOS");
    int n = env ? atoi(env) : 600;
    return n > 0 ? n : 600;
}

static void print_slots(const char *who, const scenario_t *s, const sc_slot_t *v, size_t n)
{
    tz_zone_t *z = s->display ? s->display : s->zone;
    fprintf(stderr, "%s (%zu):\n", who, n);
    for (size_t i = 0; i < n; i++) {
        fprintf(stderr, "  %s [", test_format(z, v[i].start));
        for (int k = 0; k < v[i].resource_count; k++)
            fprintf(stderr, "%s%d", k ? "," : "", v[i].resources[k]);
        fprintf(stderr, "]\n");
    }
}

static void differential(uint64_t first_seed)
{
    static sc_slot_t engine[SC_MAX_SLOTS], reference[SC_MAX_SLOTS];
    eng_workspace_t *ws = eng_workspace_new();
    int n = scenarios_per_test();
    size_t total_slots = 0;
    for (uint64_t seed = first_seed; seed < first_seed + (uint64_t)n; seed++) {
        scenario_t s;
        sc_generate(&s, seed);
        sc_engine_t e;
        sc_load(&s, &e);
        size_t ne = sc_engine_slots(&s, &e, ws, engine, SC_MAX_SLOTS);
        size_t nr = ref_slots(&s, reference, SC_MAX_SLOTS);
        if (!sc_same_slots(engine, ne, reference, nr)) {
            fprintf(stderr, "seed %" PRIu64 ": engine and reference disagree\n", seed);
            sc_print(&s, stderr);
            print_slots("engine", &s, engine, ne);
            print_slots("reference", &s, reference, nr);
            exit(1);
        }
        total_slots += ne;
        sc_unload(&e);
    }
    /* The scenarios must exercise something: most have slots. */
    CHECK(total_slots > (size_t)n);
    eng_workspace_free(ws);
}

TEST(differential_slots_seeds_0)
{
    differential(0);
}

TEST(differential_slots_seeds_100000)
{
    differential(100000);
}

TEST(differential_slots_seeds_200000)
{
    differential(200000);
}

TEST(differential_slots_seeds_300000)
{
    differential(300000);
}

/* The booking check against the reference: starts the engine offered, with and
 * without a pinned resource, and starts picked at random, off the grid or not. */
TEST(differential_booking_check)
{
    static sc_slot_t engine[SC_MAX_SLOTS];
    eng_workspace_t *ws = eng_workspace_new();
    int n = scenarios_per_test() / 3;
    int accepted = 0, refused = 0;
    for (uint64_t seed = 500000; seed < 500000 + (uint64_t)n; seed++) {
        scenario_t s;
        sc_generate(&s, seed);
        s.limit = s.per_day = 0;
        s.filter_count = 0;
        s.location_filter = -1;
        sc_engine_t e;
        sc_load(&s, &e);
        size_t ne = sc_engine_slots(&s, &e, ws, engine, SC_MAX_SLOTS);
        int64_t candidates[6];
        int pins[6];
        int count = 0;
        for (size_t i = 0; i < ne && count < 3; i += 1 + ne / 3) {
            candidates[count] = engine[i].start;
            pins[count++] = (seed % 2) ? engine[i].resources[engine[i].resource_count - 1] : -1;
        }
        uint64_t x = seed * 2654435761u;
        for (int k = 0; k < 3; k++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            int64_t span = s.to - s.from;
            candidates[count] = s.from + (int64_t)((x >> 33) % (uint64_t)(span > 0 ? span : 1));
            candidates[count] -= candidates[count] % 300;
            pins[count++] = (k == 0 && s.resource_count > 0) ? 0 : -1;
        }
        for (int k = 0; k < count; k++) {
            eng_resource_t *pinned[1];
            int pinned_index[1];
            size_t pinned_count = 0;
            if (pins[k] >= 0) {
                pinned[0] = e.resources[pins[k]];
                pinned_index[0] = pins[k];
                pinned_count = 1;
            }
            eng_check_t check = {.service = e.service,
                                 .start = candidates[k],
                                 .now = s.now,
                                 .zone = s.display,
                                 .pinned = pinned,
                                 .pinned_count = pinned_count};
            eng_resource_t *const *picked;
            size_t picked_count;
            int rc = eng_check_booking(ws, &check, &picked, &picked_count);
            if (rc == ENG_ERESOURCE)
                continue; /* the pinned resource is not in any group */
            bool expected = ref_offered(&s, candidates[k], pinned_index, (int)pinned_count);
            if ((rc == 0) != expected) {
                fprintf(stderr,
                        "seed %" PRIu64 ": check of %s pinned %d: engine %s, reference %s\n", seed,
                        test_format(s.display ? s.display : s.zone, candidates[k]), pins[k],
                        eng_strerror(rc), expected ? "offered" : "not offered");
                sc_print(&s, stderr);
                exit(1);
            }
            if (rc == 0) {
                accepted++;
                CHECK(picked_count >= 1);
                if (pinned_count) {
                    bool found = false;
                    for (size_t i = 0; i < picked_count; i++)
                        found |= picked[i] == pinned[0];
                    CHECK(found);
                }
            } else {
                refused++;
            }
        }
        sc_unload(&e);
    }
    CHECK(accepted > n / 2);
    CHECK(refused > n / 4);
    eng_workspace_free(ws);
}
