/*
 * How a load shares the loop: against a real PostgreSQL, on a real libuv loop.
 *
 * A page of the load is not applied in the callback that receives it: its rows
 * are applied a budget of loop time at a time, over as many loop turns as that
 * takes, and organizations that a rebuild replaces are freed the same way. With
 * a budget of one microsecond every turn applies exactly one row (or frees one
 * organization), so the number of turns shows that a page holding every
 * resource of an organization was not applied in one step — and what was
 * loaded shows that nothing was lost on the way.
 */
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "db.h"
#include "index/index.h"
#include "slotd/codec.h"
#include "store/migrations.h"
#include "fixture.h"
#include "test.h"

#define ORG "00000000-0000-0000-0000-0000000000c1"
#define RESOURCES 6
#define BLOCKS 300 /* per resource */

/* One organization, RESOURCES staff with BLOCKS one-off blocks each, one service. */
static void setup(fixture_t *f, int budget_us)
{
    fixture_open(f);
    char sql[2048];
    snprintf(sql, sizeof(sql),
             "INSERT INTO organizations (id, name, timezone) VALUES ('" ORG "', 'C', 'UTC');"
             "INSERT INTO resources (organization_id, id, kind, name, working_hours) "
             "SELECT '" ORG "', md5('r' || n)::uuid, 'staff', 'r' || n, "
             "'{\"mon\":[[\"09:00\",\"17:00\"]]}' FROM generate_series(1, %d) n;"
             "INSERT INTO blocks (organization_id, resource_id, starts_at, ends_at) "
             "SELECT '" ORG "', md5('r' || n)::uuid, "
             "timestamptz '2030-01-01 00:00Z' + k * interval '1 hour', "
             "timestamptz '2030-01-01 00:30Z' + k * interval '1 hour' "
             "FROM generate_series(1, %d) n, generate_series(1, %d) k;"
             "INSERT INTO services (organization_id, id, name, duration_minutes) "
             "VALUES ('" ORG "', md5('s')::uuid, 's', 30)",
             RESOURCES, RESOURCES, BLOCKS);
    test_db_exec(f->db, sql);
    store_index_options_t options = {
        .loop = &f->loop, .url = f->url, .page_rows = 200, .apply_budget_us = budget_us};
    f->index = store_index_new(&options);
}

static eng_id_t org_id(void)
{
    eng_id_t id = {{0}};
    id.bytes[15] = 0xc1;
    return id;
}

static void check_loaded(fixture_t *f)
{
    store_index_stats_t st;
    store_index_stats(f->index, &st);
    CHECK_EQ(st.organizations, 1);
    CHECK_EQ(st.resources, RESOURCES);
    CHECK_EQ(st.services, 1);
    CHECK_EQ(st.busy_entries, RESOURCES * BLOCKS);
    eng_id_t org = org_id();
    CHECK(store_index_org(f->index, &org) != NULL);
}

/* One page holds the organization's every resource; it is applied one row per turn. */
TEST(index_load_applies_a_page_over_many_loop_turns)
{
    fixture_t f;
    setup(&f, 1);
    wait_ready(&f, 20000);
    check_loaded(&f);
    store_index_stats_t st;
    store_index_stats(f.index, &st);
    /* the organization, each resource, the service: one turn each at least */
    CHECK(st.apply_turns >= RESOURCES + 2);
    teardown(&f);
}

/* A rebuild of the organization swaps in a new one and frees the old one in later turns;
 * the index holds the same data after it. */
TEST(index_rebuild_frees_the_replaced_organization_in_later_turns)
{
    fixture_t f;
    setup(&f, 1);
    wait_ready(&f, 20000);
    store_index_stats_t before;
    store_index_stats(f.index, &before);
    eng_id_t org = org_id();
    waited_t w = {0};
    store_index_refresh(f.index, INDEX_ORGANIZATION, &org, NULL, on_done, &w);
    for (int i = 0; i < 1000 && w.calls == 0; i++)
        run_for(&f, 10);
    CHECK_EQ(w.calls, 1);
    CHECK_EQ(w.status, 0);
    run_for(&f, 50);
    check_loaded(&f);
    store_index_stats_t after;
    store_index_stats(f.index, &after);
    CHECK(after.rebuilds == before.rebuilds + 1);
    /* the new rows, and the old organization freed: a turn each at least */
    CHECK(after.apply_turns >= before.apply_turns + RESOURCES + 3);
    teardown(&f);
}

/* The counts stats report follow a reload that changes a resource's busy time. */
TEST(index_stats_count_a_reloaded_resource_once)
{
    fixture_t f;
    setup(&f, 0);
    wait_ready(&f, 20000);
    check_loaded(&f);
    PGresult *res = PQexec(f.db, "DELETE FROM blocks WHERE resource_id = md5('r1')::uuid "
                                 "AND starts_at < timestamptz '2030-01-01 00:00Z' + "
                                 "interval '101 hours' RETURNING resource_id");
    CHECK_EQ(PQntuples(res), 100);
    eng_id_t org = org_id(), resource;
    CHECK_EQ(codec_parse_uuid(PQgetvalue(res, 0, 0), &resource), 0);
    PQclear(res);
    waited_t w = {0};
    store_index_refresh(f.index, INDEX_RESOURCE, &org, &resource, on_done, &w);
    for (int i = 0; i < 1000 && w.calls == 0; i++)
        run_for(&f, 10);
    CHECK_EQ(w.calls, 1);
    store_index_stats_t st;
    store_index_stats(f.index, &st);
    CHECK_EQ(st.resources, RESOURCES);
    CHECK_EQ(st.busy_entries, RESOURCES * BLOCKS - 100);
    CHECK(st.busy_bytes > 0);
    teardown(&f);
}

/* The default budget loads the same. */
TEST(index_load_with_the_default_budget_loads_everything)
{
    fixture_t f;
    setup(&f, 0);
    wait_ready(&f, 20000);
    check_loaded(&f);
    teardown(&f);
}

#define HUGE_ORG "00000000-0000-0000-0000-0000000000c2"
#define HUGE_BLOCKS 200000

/* One organization whose only staff member has HUGE_BLOCKS one-off blocks. */
static void setup_huge(fixture_t *f, int budget_us)
{
    fixture_open(f);
    char sql[2048];
    snprintf(sql, sizeof(sql),
             "SET session_replication_role = replica;" /* no NOTIFY per block */
             "INSERT INTO organizations (id, name, timezone) VALUES ('" HUGE_ORG "', 'H', 'UTC');"
             "INSERT INTO resources (organization_id, id, kind, name, working_hours) "
             "VALUES ('" HUGE_ORG "', md5('huge')::uuid, 'staff', 'huge', "
             "'{\"mon\":[[\"09:00\",\"17:00\"]]}');"
             "INSERT INTO blocks (organization_id, resource_id, starts_at, ends_at) "
             "SELECT '" HUGE_ORG "', md5('huge')::uuid, "
             "timestamptz '2030-01-01 00:00Z' + k * interval '1 hour', "
             "timestamptz '2030-01-01 00:30Z' + k * interval '1 hour' "
             "FROM generate_series(1, %d) k;"
             "RESET session_replication_role",
             HUGE_BLOCKS);
    test_db_exec(f->db, sql);
    store_index_options_t options = {.loop = &f->loop, .url = f->url, .apply_budget_us = budget_us};
    f->index = store_index_new(&options);
}

static void check_huge_loaded(fixture_t *f)
{
    store_index_stats_t st;
    store_index_stats(f->index, &st);
    CHECK_EQ(st.organizations, 1);
    CHECK_EQ(st.resources, 1);
    CHECK_EQ(st.busy_entries, HUGE_BLOCKS);
}

/* One resource's busy time is not applied in one step: with a budget of one microsecond,
 * every turn applies at most STORE_INDEX_BUSY_PER_STEP of its entries, so the turns count
 * at least its entries over that. */
TEST(index_load_applies_one_huge_resource_over_many_loop_turns)
{
    fixture_t f;
    setup_huge(&f, 1);
    wait_ready(&f, 120000);
    check_huge_loaded(&f);
    store_index_stats_t st;
    store_index_stats(f.index, &st);
    CHECK(st.apply_turns >= HUGE_BLOCKS / STORE_INDEX_BUSY_PER_STEP + 1);
    teardown(&f);
}

/* With the default budget (2 ms a turn) the same resource loads whole, over several turns:
 * adding 200,000 entries to one resource takes well over 16 ms on any machine this runs
 * on, so applied in one step it would take a handful of turns in all (the organization,
 * the resource, the service). */
TEST(index_load_with_the_default_budget_splits_a_huge_resource)
{
    fixture_t f;
    setup_huge(&f, 0);
    wait_ready(&f, 120000);
    check_huge_loaded(&f);
    store_index_stats_t st;
    store_index_stats(f.index, &st);
    CHECK(st.apply_turns >= 8);
    /* the loop's own work in its longest turn: no more than its longest pause (which also
     * counts waiting for a core), give or take the CPU time of polling */
    CHECK(st.loop_max_turn_cpu_us > 0);
    CHECK(st.loop_max_turn_cpu_us <= st.loop_max_pause_us + 1000);
    /* and the CPU time of the longest pause's own turn: at most the most any turn took */
    CHECK(st.loop_max_pause_cpu_us > 0);
    CHECK(st.loop_max_pause_cpu_us <= st.loop_max_turn_cpu_us);
    CHECK(st.loop_max_pause_cpu_us <= st.loop_max_pause_us + 1000);
    teardown(&f);
}
