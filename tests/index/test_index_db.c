/*
 * The in-memory index against a real PostgreSQL, on a real libuv loop: what it
 * loads when rows hold data it cannot use, what one write reloads, and how
 * loading stands apart from the request timeout. Each test has its own
 * database, migrated, seeded in SQL, and an index on it; every test ends by
 * closing the index and proving the loop has nothing left open.
 */
#include <string.h>
#include <uv.h>

#include "db.h"
#include "index/index.h"
#include "store/migrations.h"
#include "fixture.h"
#include "test.h"

#define ORG_A "00000000-0000-0000-0000-00000000000a"
#define ORG_B "00000000-0000-0000-0000-00000000000b"
#define RES_A "00000000-0000-0000-0000-0000000000a1"
#define RES_B "00000000-0000-0000-0000-0000000000b1"

static void setup(fixture_t *f, const char *seed)
{
    fixture_open(f);
    test_db_exec(f->db, "INSERT INTO organizations (id, name, timezone) VALUES "
                        "('" ORG_A "', 'A', 'UTC'), ('" ORG_B "', 'B', 'UTC');"
                        "INSERT INTO resources (organization_id, id, kind, name, working_hours) "
                        "VALUES ('" ORG_A "', '" RES_A "', 'staff', 'a', "
                        "'{\"mon\":[[\"09:00\",\"17:00\"]]}'), ('" ORG_B "', '" RES_B
                        "', 'staff', 'b', '{\"mon\":[[\"09:00\",\"17:00\"]]}')");
    if (seed)
        test_db_exec(f->db, seed);
}

static void open_index(fixture_t *f, int load_timeout_ms)
{
    store_index_options_t options = {
        .loop = &f->loop, .url = f->url, .load_timeout_ms = load_timeout_ms, .page_rows = 2};
    f->index = store_index_new(&options);
}

/* An index loaded and settled (its own first notifications heard), and its stats then. */
static void open_settled(fixture_t *f, store_index_stats_t *before)
{
    open_index(f, 0);
    wait_ready(f, 10000);
    run_for(f, 100);
    store_index_stats(f->index, before);
}

/* A service, a customer, a booking of 11:00-12:00 on 2030-01-07 and an expired hold of the
 * same time (ids ...0001 to ...0004), for the tests of waiting for one's own change. */
#define SEED_BOOKING_AND_HOLD                                                                      \
    "INSERT INTO services (organization_id, id, name, duration_minutes) VALUES ('" ORG_A           \
    "', '20000000-0000-0000-0000-000000000001', 's', 60);"                                         \
    "INSERT INTO customers (organization_id, id, name, email) VALUES ('" ORG_A                     \
    "', '20000000-0000-0000-0000-000000000002', 'c', 'c@example.com');"                            \
    "INSERT INTO bookings (organization_id, id, service_id, customer_id, starts_at, "              \
    "ends_at) VALUES ('" ORG_A "', '20000000-0000-0000-0000-000000000003', "                       \
    "'20000000-0000-0000-0000-000000000001', '20000000-0000-0000-0000-000000000002', "             \
    "'2030-01-07 11:00Z', '2030-01-07 12:00Z');"                                                   \
    "INSERT INTO holds (organization_id, id, service_id, starts_at, ends_at, "                     \
    "expires_at) VALUES ('" ORG_A "', '20000000-0000-0000-0000-000000000004', "                    \
    "'20000000-0000-0000-0000-000000000001', '2030-01-07 11:00Z', "                                \
    "'2030-01-07 12:00Z', '2030-01-07 10:00Z')"

static eng_id_t id_of(const char *text)
{
    eng_id_t id = {{0}};
    for (int i = 0, k = 0; text[i] && k < 16; i++) {
        if (text[i] == '-')
            continue;
        unsigned v;
        sscanf(text + i, "%2x", &v);
        id.bytes[k++] = (uint8_t)v;
        i++;
    }
    return id;
}

static size_t busy_of(fixture_t *f, const char *org, const char *resource)
{
    eng_id_t o = id_of(org), r = id_of(resource);
    index_org_t *io = store_index_org(f->index, &o);
    CHECK(io != NULL);
    eng_resource_t *res = index_org_resource(io, &r);
    CHECK(res != NULL);
    return eng_resource_busy_count(res);
}

TEST(index_migration_refuses_infinite_times_but_keeps_rows_from_before)
{
    fixture_t f;
    setup(&f, NULL);
    CHECK(strcmp(test_db_error(f.db, "INSERT INTO blocks (organization_id, resource_id, starts_at, "
                                     "ends_at) VALUES ('" ORG_A "', '" RES_A
                                     "', '2030-01-01', 'infinity')"),
                 "23514") == 0);
    /* a database that holds such a row from before migrates all the same */
    test_db_exec(f.db, "ALTER TABLE blocks DROP CONSTRAINT blocks_finite;"
                       "ALTER TABLE occupancy DROP CONSTRAINT occupancy_finite;"
                       "ALTER TABLE holds DROP CONSTRAINT holds_finite;"
                       "ALTER TABLE bookings DROP CONSTRAINT bookings_finite;"
                       "DELETE FROM slotd_migrations WHERE version = 2;"
                       "INSERT INTO blocks (organization_id, resource_id, starts_at, ends_at) "
                       "VALUES ('" ORG_A "', '" RES_A "', '2030-01-01', 'infinity')");
    char error[512];
    CHECK_EQ(store_migrate(f.db, error, sizeof(error)), 1);
    CHECK(strcmp(test_db_value(f.db, "SELECT count(*) FROM blocks"), "1") == 0);
    uv_loop_close(&f.loop);
    test_db_drop(f.db);
}

/* Rows written before the constraints (or with them dropped): one organization's bad rows
 * are skipped and counted; both organizations load, with everything else they hold. */
TEST(index_skips_and_counts_rows_it_cannot_use_and_loads_every_tenant)
{
    fixture_t f;
    setup(&f, "ALTER TABLE blocks DROP CONSTRAINT blocks_finite;"
              "ALTER TABLE occupancy DROP CONSTRAINT occupancy_finite;"
              "ALTER TABLE occupancy DROP CONSTRAINT occupancy_check;" /* no booking or hold */
              "INSERT INTO blocks (organization_id, resource_id, starts_at, ends_at) VALUES "
              "('" ORG_A "', '" RES_A "', '2030-01-01', 'infinity'),"
              "('" ORG_A "', '" RES_A "', '2030-01-01', '2030-01-02'),"
              "('" ORG_B "', '" RES_B "', '2030-01-01', '2030-01-02');"
              "INSERT INTO occupancy (organization_id, resource_id, occupied) VALUES "
              "('" ORG_A "', '" RES_A "', tstzrange(NULL, '2030-01-15')),"
              "('" ORG_A "', '" RES_A "', tstzrange('2030-03-01', 'infinity')),"
              "('" ORG_A "', '" RES_A "', tstzrange('2030-01-20', '2030-01-21'))");
    open_index(&f, 0);
    wait_ready(&f, 10000);
    store_index_stats_t st;
    store_index_stats(f.index, &st);
    CHECK_EQ(st.organizations, 2);
    CHECK_EQ(st.resources, 2);
    CHECK_EQ(st.skipped_rows, 3);
    CHECK_EQ(st.load_failures, 0);
    CHECK_EQ(busy_of(&f, ORG_A, RES_A), 2); /* the finite block and the finite interval */
    CHECK_EQ(busy_of(&f, ORG_B, RES_B), 1);

    /* a reload of that resource skips them again, and applies */
    test_db_exec(f.db, "INSERT INTO blocks (organization_id, resource_id, starts_at, ends_at) "
                       "VALUES ('" ORG_A "', '" RES_A "', '2030-05-01', '2030-05-02')");
    run_for(&f, 300); /* NOTIFY reaches the index */
    store_index_stats(f.index, &st);
    CHECK_EQ(busy_of(&f, ORG_A, RES_A), 3);
    CHECK_EQ(st.skipped_rows, 6);
    CHECK_EQ(st.load_failures, 0);
    teardown(&f);
}

/* Creating a resource reloads that resource only, not every service of its organization. */
TEST(index_new_resource_reloads_only_itself)
{
    fixture_t f;
    char seed[256];
    snprintf(seed, sizeof(seed),
             "INSERT INTO services (organization_id, id, name, duration_minutes) SELECT '" ORG_A
             "', gen_random_uuid(), 's' || n, 30 FROM generate_series(1, 31) n");
    setup(&f, seed);
    test_db_exec(f.db, "INSERT INTO service_requirements (organization_id, service_id, position, "
                       "mode, resource_ids) SELECT organization_id, id, 0, 'any', '{" RES_A
                       "}' FROM services");
    store_index_stats_t before, after;
    open_settled(&f, &before);
    CHECK_EQ(before.services, 31);
    test_db_exec(f.db, "INSERT INTO resources (organization_id, id, kind, name) VALUES ('" ORG_A
                       "', '00000000-0000-0000-0000-0000000000a2', 'staff', 'new')");
    eng_id_t org = id_of(ORG_A), id = id_of("00000000-0000-0000-0000-0000000000a2");
    waited_t w = {0};
    store_index_refresh(f.index, INDEX_RESOURCE, &org, &id, on_done, &w);
    for (int i = 0; i < 500 && w.calls == 0; i++)
        run_for(&f, 10);
    CHECK_EQ(w.calls, 1);
    CHECK_EQ(w.status, 0);
    run_for(&f, 300); /* its NOTIFY too, and anything it might set off */
    store_index_stats(f.index, &after);
    CHECK(after.reloads - before.reloads <= 2); /* our refresh and its NOTIFY, coalesced or not */
    CHECK_EQ(after.resources, 3);
    teardown(&f);
}

/* The index's queries run under its own statement timeout, not the request timeout: a
 * reload that waits on a lock past a short limit fails, is logged and retried with backoff,
 * and its waiter waits for the retry that lands (it is not told "done" by the failure);
 * under a long limit the same reload just waits. */
TEST(index_queries_have_their_own_timeout_and_waiters_wait_for_the_retry)
{
    for (int pass = 0; pass < 2; pass++) {
        fixture_t f;
        setup(&f, NULL);
        open_index(&f, pass == 0 ? 100 : 60000);
        wait_ready(&f, 10000);
        run_for(&f, 100);
        PGconn *locker = PQconnectdb(f.url);
        test_db_exec(locker, "BEGIN; LOCK TABLE occupancy IN ACCESS EXCLUSIVE MODE");
        eng_id_t org = id_of(ORG_A), id = id_of(RES_A);
        waited_t w = {0};
        store_index_refresh(f.index, INDEX_RESOURCE, &org, &id, on_done, &w);
        run_for(&f, 800);
        CHECK_EQ(w.calls, 0);
        store_index_stats_t st;
        store_index_stats(f.index, &st);
        if (pass == 0)
            CHECK(st.load_failures >= 1);
        else
            CHECK_EQ(st.load_failures, 0);
        test_db_exec(locker, "COMMIT");
        PQfinish(locker);
        for (int i = 0; i < 400 && w.calls == 0; i++)
            run_for(&f, 10);
        CHECK_EQ(w.calls, 1);
        CHECK_EQ(w.status, 0);
        teardown(&f);
    }
}

/* A waiter still waiting when the index closes is called, with a status. */
TEST(index_close_calls_waiters_with_a_status)
{
    fixture_t f;
    setup(&f, NULL);
    PGconn *locker = PQconnectdb(f.url);
    test_db_exec(locker, "BEGIN; LOCK TABLE resources IN ACCESS EXCLUSIVE MODE");
    open_index(&f, 60000);
    eng_id_t org = id_of(ORG_A), id = id_of(RES_A);
    waited_t w = {0};
    store_index_refresh(f.index, INDEX_RESOURCE, &org, &id, on_done, &w);
    run_for(&f, 200);
    CHECK_EQ(w.calls, 0);
    store_index_close(f.index, NULL, NULL);
    CHECK_EQ(w.calls, 1);
    CHECK_EQ(w.status, ENG_EUNAVAILABLE);
    test_db_exec(locker, "COMMIT");
    PQfinish(locker);
    uv_run(&f.loop, UV_RUN_DEFAULT);
    CHECK_EQ(uv_loop_close(&f.loop), 0);
    test_db_drop(f.db);
}

/* Busy events of external calendars (external_busy_events, written here as a pull would) are
 * busy time of their resource: those that are busy and did not end over a day ago. A
 * statement that writes many reloads the resource once, and deleting them (as deleting a
 * connection does) takes the busy time away again. */
TEST(index_loads_busy_events_of_external_calendars)
{
    fixture_t f;
    setup(&f,
          "INSERT INTO calendar_connections (organization_id, id, resource_id, provider, "
          "direction, credentials) VALUES ('" ORG_A "', '00000000-0000-0000-0000-0000000000c1', "
          "'" RES_A "', 'ics', 'pull', decode(repeat('ab', 40), 'hex'));"
          "INSERT INTO external_busy_events (organization_id, connection_id, resource_id, "
          "external_id, starts_at, ends_at, busy) VALUES "
          "('" ORG_A "', '00000000-0000-0000-0000-0000000000c1', '" RES_A "', 'e1', "
          "'2030-01-07 10:00Z', '2030-01-07 11:00Z', true),"
          "('" ORG_A "', '00000000-0000-0000-0000-0000000000c1', '" RES_A "', 'free', "
          "'2030-01-07 12:00Z', '2030-01-07 13:00Z', false),"
          "('" ORG_A "', '00000000-0000-0000-0000-0000000000c1', '" RES_A "', 'past', "
          "'2000-01-07 12:00Z', '2000-01-07 13:00Z', true)");
    /* an event is its connection's resource's, whoever writes it */
    CHECK(strcmp(test_db_error(f.db, "INSERT INTO external_busy_events (organization_id, "
                                     "connection_id, resource_id, external_id, starts_at, ends_at) "
                                     "VALUES ('" ORG_A "', '00000000-0000-0000-0000-0000000000c1', "
                                     "'" RES_B "', 'x', '2030-01-07', '2030-01-08')"),
                 "23503") == 0);
    open_index(&f, 0);
    wait_ready(&f, 10000);
    CHECK_EQ(busy_of(&f, ORG_A, RES_A), 1);
    store_index_stats_t before, after;
    store_index_stats(f.index, &before);
    test_db_exec(f.db, "INSERT INTO external_busy_events (organization_id, connection_id, "
                       "resource_id, external_id, starts_at, ends_at) SELECT '" ORG_A
                       "', '00000000-0000-0000-0000-0000000000c1', '" RES_A "', 'n' || n, "
                       "'2030-02-01'::timestamptz + n * interval '1 hour', "
                       "'2030-02-01'::timestamptz + n * interval '1 hour' + interval '30 minutes' "
                       "FROM generate_series(1, 500) n");
    for (int i = 0; i < 300 && busy_of(&f, ORG_A, RES_A) != 501; i++)
        run_for(&f, 10);
    CHECK_EQ(busy_of(&f, ORG_A, RES_A), 501);
    run_for(&f, 200);
    store_index_stats(f.index, &after);
    CHECK_EQ(after.reloads - before.reloads, 1); /* one notification for the statement */
    CHECK_EQ(after.skipped_rows, 0);
    test_db_exec(f.db, "DELETE FROM external_busy_events WHERE connection_id = "
                       "'00000000-0000-0000-0000-0000000000c1'");
    for (int i = 0; i < 300 && busy_of(&f, ORG_A, RES_A) != 0; i++)
        run_for(&f, 10);
    CHECK_EQ(busy_of(&f, ORG_A, RES_A), 0);
    CHECK_EQ(busy_of(&f, ORG_B, RES_B), 0);
    teardown(&f);
}

/* Runs the loop until the index has applied `changes` occupancy changes in all (at most 5 s). */
static void wait_changes(fixture_t *f, uint64_t changes)
{
    store_index_stats_t st;
    for (int i = 0; i < 500; i++) {
        store_index_stats(f->index, &st);
        if (st.changes >= changes)
            break;
        run_for(f, 10);
    }
    run_for(f, 50); /* and nothing more comes */
    store_index_stats(f->index, &st);
    CHECK_EQ(st.changes, changes);
}

/* Occupancy written by anyone (here plain SQL, whose trigger wakes the listener) reaches the
 * index as the rows its change in the log carries: inserted, moved, made inactive, deleted, moved
 * to another resource, each applied in place with no reload of the resource, and what it ends with
 * is what a reload reads. An update that changes nothing the index keeps is not even logged. */
TEST(index_applies_occupancy_changes_as_notified_without_reloading)
{
    fixture_t f;
    setup(&f, "ALTER TABLE occupancy DROP CONSTRAINT occupancy_check;" /* no booking or hold */
              "INSERT INTO resources (organization_id, id, kind, name) VALUES ('" ORG_A
              "', '00000000-0000-0000-0000-0000000000a2', 'staff', 'a2')");
    store_index_stats_t before, after;
    open_settled(&f, &before);
    CHECK_EQ(before.busy_entries, 0);

    test_db_exec(f.db, "INSERT INTO occupancy (organization_id, id, resource_id, occupied, "
                       "starts_at, ends_at, expires_at) VALUES "
                       "('" ORG_A "', '10000000-0000-0000-0000-000000000001', '" RES_A
                       "', tstzrange('2030-01-07 09:50Z', '2030-01-07 10:40Z'), "
                       "'2030-01-07 10:00Z', '2030-01-07 10:30Z', '2030-01-07 08:00Z'),"
                       "('" ORG_A "', '10000000-0000-0000-0000-000000000002', '" RES_A
                       "', tstzrange('2030-01-07 11:00Z', '2030-01-07 12:00Z'), NULL, NULL, "
                       "'2030-01-07 08:00Z'),"
                       "('" ORG_A "', '10000000-0000-0000-0000-000000000003', '" RES_A
                       "', tstzrange('2030-01-07 13:00Z', '2030-01-07 14:00Z'), NULL, NULL, "
                       "'2030-01-07 08:00Z'),"
                       "('" ORG_B "', '10000000-0000-0000-0000-000000000004', '" RES_B
                       "', tstzrange('2030-01-07 13:00Z', '2030-01-07 14:00Z'), NULL, NULL, "
                       "'2030-01-07 08:00Z')");
    wait_changes(&f, before.changes + 4);
    CHECK_EQ(busy_of(&f, ORG_A, RES_A), 3);
    CHECK_EQ(busy_of(&f, ORG_B, RES_B), 1);

    /* moved (padded and own times), inactive, deleted: one change each */
    test_db_exec(f.db, "UPDATE occupancy SET occupied = tstzrange('2030-01-08 09:50Z', "
                       "'2030-01-08 10:40Z'), starts_at = '2030-01-08 10:00Z', "
                       "ends_at = '2030-01-08 10:30Z' "
                       "WHERE id = '10000000-0000-0000-0000-000000000001';"
                       "UPDATE occupancy SET active = false "
                       "WHERE id = '10000000-0000-0000-0000-000000000002';"
                       "DELETE FROM occupancy WHERE id = '10000000-0000-0000-0000-000000000003';"
                       "UPDATE occupancy SET updated_at = now() - interval '1 hour'");
    wait_changes(&f, before.changes + 7);
    CHECK_EQ(busy_of(&f, ORG_A, RES_A), 1);
    CHECK_EQ(busy_of(&f, ORG_B, RES_B), 1);

    /* to another resource: leaves one, reaches the other */
    test_db_exec(f.db, "UPDATE occupancy SET resource_id = '00000000-0000-0000-0000-0000000000a2' "
                       "WHERE id = '10000000-0000-0000-0000-000000000001'");
    wait_changes(&f, before.changes + 9);
    CHECK_EQ(busy_of(&f, ORG_A, RES_A), 0);
    CHECK_EQ(busy_of(&f, ORG_A, "00000000-0000-0000-0000-0000000000a2"), 1);
    /* changed back and forth in one transaction: no change is lost as a repeat */
    test_db_exec(f.db, "BEGIN;"
                       "UPDATE occupancy SET active = false "
                       "WHERE id = '10000000-0000-0000-0000-000000000001';"
                       "UPDATE occupancy SET active = true "
                       "WHERE id = '10000000-0000-0000-0000-000000000001';"
                       "UPDATE occupancy SET active = false "
                       "WHERE id = '10000000-0000-0000-0000-000000000001';"
                       "COMMIT");
    wait_changes(&f, before.changes + 12);
    CHECK_EQ(busy_of(&f, ORG_A, "00000000-0000-0000-0000-0000000000a2"), 0);
    test_db_exec(f.db, "UPDATE occupancy SET active = true "
                       "WHERE id = '10000000-0000-0000-0000-000000000001'");
    wait_changes(&f, before.changes + 13);
    store_index_stats(f.index, &after);
    CHECK_EQ(after.reloads, before.reloads);
    CHECK_EQ(after.busy_entries, 2);

    /* a reload reads the same */
    eng_id_t org = id_of(ORG_A), a2 = id_of("00000000-0000-0000-0000-0000000000a2");
    waited_t w = {0};
    store_index_refresh(f.index, INDEX_RESOURCE, &org, &a2, on_done, &w);
    for (int i = 0; i < 500 && w.calls == 0; i++)
        run_for(&f, 10);
    CHECK_EQ(w.calls, 1);
    CHECK_EQ(busy_of(&f, ORG_A, "00000000-0000-0000-0000-0000000000a2"), 1);
    store_index_stats(f.index, &after);
    CHECK_EQ(after.reloads, before.reloads + 1);
    CHECK_EQ(after.busy_entries, 2);
    teardown(&f);
}

static store_change_t booked(uint64_t xid)
{
    return (store_change_t){.xid = xid, .kind = STORE_CHANGE_BOOKED};
}

/* A writer that knows its transaction waits for that transaction's booking row: told once
 * it is applied as read from the log (at once when it already is), with no reload, and not by the
 * hold its transaction consumed first; a transaction that made no booking row (a hold) is
 * waited for by a reload after a second. */
TEST(index_writer_waits_for_its_own_booking_row_not_a_reload)
{
    fixture_t f;
    setup(&f, SEED_BOOKING_AND_HOLD);
    store_index_stats_t before, after;
    open_settled(&f, &before);
    eng_id_t org = id_of(ORG_A), res = id_of(RES_A);
    waited_t w = {0};

    /* a hold: no booking row comes, so a reload after a second */
    char xid_text[32];
    snprintf(xid_text, sizeof(xid_text), "%s",
             test_db_value(f.db, "WITH w AS (INSERT INTO occupancy (organization_id, resource_id, "
                                 "hold_id, occupied, expires_at) VALUES ('" ORG_A "', '" RES_A
                                 "', '20000000-0000-0000-0000-000000000004', "
                                 "tstzrange('2030-01-07 11:00Z', '2030-01-07 12:00Z'), "
                                 "'2030-01-07 10:00Z') RETURNING 1) "
                                 "SELECT pg_current_xact_id()::text FROM w"));
    uint64_t started = uv_hrtime();
    store_index_await_change(f.index, &org, &res, booked(strtoull(xid_text, NULL, 10)), on_done,
                             &w);
    for (int i = 0; i < 500 && w.calls == 0; i++)
        run_for(&f, 10);
    CHECK_EQ(w.calls, 1);
    CHECK_EQ(w.status, 0);
    CHECK(uv_hrtime() - started >= 900000000ull);
    store_index_stats(f.index, &after);
    CHECK_EQ(after.reloads, before.reloads + 1);
    CHECK_EQ(busy_of(&f, ORG_A, RES_A), 1);

    /* the booking consumes the hold: its own row tells the writer, with no reload */
    test_db_exec(f.db, "BEGIN; DELETE FROM occupancy WHERE hold_id = "
                       "'20000000-0000-0000-0000-000000000004'");
    snprintf(xid_text, sizeof(xid_text), "%s",
             test_db_value(f.db,
                           "WITH w AS (INSERT INTO occupancy (organization_id, resource_id, "
                           "booking_id, occupied) VALUES ('" ORG_A "', '" RES_A
                           "', '20000000-0000-0000-0000-000000000003', "
                           "tstzrange('2030-01-07 11:00Z', '2030-01-07 12:00Z')) RETURNING 1) "
                           "SELECT pg_current_xact_id()::text FROM w"));
    test_db_exec(f.db, "COMMIT");
    uint64_t xid = strtoull(xid_text, NULL, 10);
    store_index_stats(f.index, &before);
    store_index_await_change(f.index, &org, &res, booked(xid), on_done, &w);
    for (int i = 0; i < 500 && w.calls == 1; i++)
        run_for(&f, 10);
    CHECK_EQ(w.calls, 2);
    CHECK_EQ(w.status, 0);
    CHECK_EQ(busy_of(&f, ORG_A, RES_A), 1);
    /* asked again once applied: told at once */
    store_index_await_change(f.index, &org, &res, booked(xid), on_done, &w);
    CHECK_EQ(w.calls, 3);
    store_index_stats(f.index, &after);
    CHECK_EQ(after.reloads, before.reloads);
    CHECK_EQ(after.changes, before.changes + 2);

    /* a wait left when the index closes is told so */
    store_index_await_change(f.index, &org, &res, booked(xid + 1000000), on_done, &w);
    teardown(&f);
    CHECK_EQ(w.calls, 4);
    CHECK_EQ(w.status, ENG_EUNAVAILABLE);
}

/* Runs `sql` (one statement that answers the transaction's id) and waits as a writer for its
 * change of `kind` on RES_A: whether it was told, and no later than `limit_ms`. */
static bool told_within(fixture_t *f, const char *sql, store_change_kind_t kind, int limit_ms)
{
    eng_id_t org = id_of(ORG_A), res = id_of(RES_A);
    waited_t w = {0};
    store_change_t change = {.xid = strtoull(test_db_value(f->db, sql), NULL, 10), .kind = kind};
    store_index_await_change(f->index, &org, &res, change, on_done, &w);
    for (int i = 0; i < limit_ms / 10 && w.calls == 0; i++)
        run_for(f, 10);
    return w.calls == 1 && w.status == 0;
}

/* Holds, releases, cancels and moves are told by their own transaction's last change of each
 * resource, with no reload: a hold by its hold's row (not by the expired hold its transaction
 * deleted first), a release by its hold's row gone, a cancel by its booking's row made
 * inactive, a move by the booking's row that left; a change of another kind does not tell. */
TEST(index_writer_waits_for_its_own_hold_release_cancel_and_move)
{
    fixture_t f;
    setup(&f, SEED_BOOKING_AND_HOLD
          ", ('" ORG_A "', '20000000-0000-0000-0000-000000000005', "
          "'20000000-0000-0000-0000-000000000001', '2030-01-07 11:00Z', "
          "'2030-01-07 12:00Z', '2030-01-07 10:00Z');"
          "INSERT INTO occupancy (organization_id, resource_id, hold_id, occupied, "
          "expires_at) VALUES ('" ORG_A "', '" RES_A "', '20000000-0000-0000-0000-000000000004', "
          "tstzrange('2030-01-07 11:00Z', '2030-01-07 12:00Z'), '2030-01-07 09:00Z');"
          "INSERT INTO resources (organization_id, id, kind, name) VALUES ('" ORG_A
          "', '00000000-0000-0000-0000-0000000000a2', 'staff', 'a2')");
    store_index_stats_t before, after;
    open_settled(&f, &before);
    CHECK_EQ(busy_of(&f, ORG_A, RES_A), 1);

    /* a hold through another in its way (as an expired one is deleted first) */
    CHECK(told_within(&f,
                      "WITH d AS (DELETE FROM occupancy WHERE hold_id = "
                      "'20000000-0000-0000-0000-000000000004' RETURNING 1), "
                      "w AS (INSERT INTO occupancy (organization_id, resource_id, hold_id, "
                      "occupied, expires_at) SELECT '" ORG_A "', '" RES_A
                      "', '20000000-0000-0000-0000-000000000005', "
                      "tstzrange('2030-01-07 11:00Z', '2030-01-07 12:00Z'), '2030-01-07 10:00Z' "
                      "FROM (SELECT count(*) FROM d) n RETURNING 1) "
                      "SELECT pg_current_xact_id()::text FROM w",
                      STORE_CHANGE_HELD, 500));
    CHECK_EQ(busy_of(&f, ORG_A, RES_A), 1);
    /* released */
    CHECK(told_within(&f,
                      "WITH d AS (DELETE FROM occupancy WHERE hold_id = "
                      "'20000000-0000-0000-0000-000000000005' RETURNING 1) "
                      "SELECT pg_current_xact_id()::text FROM d",
                      STORE_CHANGE_UNHELD, 500));
    CHECK_EQ(busy_of(&f, ORG_A, RES_A), 0);
    /* booked, then cancelled */
    CHECK(told_within(&f,
                      "WITH w AS (INSERT INTO occupancy (organization_id, resource_id, "
                      "booking_id, occupied) VALUES ('" ORG_A "', '" RES_A
                      "', '20000000-0000-0000-0000-000000000003', "
                      "tstzrange('2030-01-07 11:00Z', '2030-01-07 12:00Z')) RETURNING 1) "
                      "SELECT pg_current_xact_id()::text FROM w",
                      STORE_CHANGE_BOOKED, 500));
    CHECK_EQ(busy_of(&f, ORG_A, RES_A), 1);
    CHECK(told_within(&f,
                      "WITH u AS (UPDATE occupancy SET active = false WHERE booking_id = "
                      "'20000000-0000-0000-0000-000000000003' RETURNING 1) "
                      "SELECT pg_current_xact_id()::text FROM u",
                      STORE_CHANGE_UNBOOKED, 500));
    CHECK_EQ(busy_of(&f, ORG_A, RES_A), 0);
    /* active again, then moved to another resource: RES_A is told by the row that left */
    test_db_exec(f.db, "UPDATE occupancy SET active = true");
    for (int i = 0; i < 300 && busy_of(&f, ORG_A, RES_A) != 1; i++)
        run_for(&f, 10);
    CHECK(told_within(&f,
                      "WITH u AS (UPDATE occupancy SET resource_id = "
                      "'00000000-0000-0000-0000-0000000000a2' RETURNING 1) "
                      "SELECT pg_current_xact_id()::text FROM u",
                      STORE_CHANGE_UNBOOKED, 500));
    CHECK_EQ(busy_of(&f, ORG_A, RES_A), 0);
    store_index_stats(f.index, &after);
    CHECK_EQ(after.reloads, before.reloads);

    /* a sweep's thousands of changes between a write's change and its wait push nothing out
     * (the cancel of the booking, now on a2) */
    waited_t w = {0};
    eng_id_t org = id_of(ORG_A), a2 = id_of("00000000-0000-0000-0000-0000000000a2");
    store_change_t released = {
        .xid = strtoull(test_db_value(f.db, "WITH d AS (UPDATE occupancy SET active = false "
                                            "RETURNING 1) SELECT pg_current_xact_id()::text "
                                            "FROM d LIMIT 1"),
                        NULL, 10),
        .kind = STORE_CHANGE_UNBOOKED};
    test_db_exec(f.db, "INSERT INTO occupancy (organization_id, resource_id, hold_id, occupied, "
                       "expires_at) SELECT '" ORG_A "', '" RES_A
                       "', '20000000-0000-0000-0000-000000000005', "
                       "tstzrange('2031-01-01'::timestamptz + n * interval '1 hour', "
                       "'2031-01-01'::timestamptz + n * interval '1 hour' + interval '1 minute'), "
                       "'2030-01-07 10:00Z' FROM generate_series(1, 3000) n;"
                       "DELETE FROM occupancy WHERE hold_id IS NOT NULL");
    for (int i = 0; i < 500; i++) {
        store_index_stats_t st;
        store_index_stats(f.index, &st);
        if (st.changes >= after.changes + 1 + 6000)
            break;
        run_for(&f, 10);
    }
    uint64_t asked = uv_hrtime();
    store_index_await_change(f.index, &org, &a2, released, on_done, &w);
    CHECK_EQ(w.calls, 1);
    CHECK(uv_hrtime() - asked < 100000000ull);
    store_index_stats(f.index, &after);
    CHECK_EQ(after.reloads, before.reloads);
    test_db_exec(f.db, "UPDATE occupancy SET active = true");
    for (int i = 0; i < 300 && busy_of(&f, ORG_A, "00000000-0000-0000-0000-0000000000a2") != 1; i++)
        run_for(&f, 10);

    /* a change of another kind does not tell: the booking's row there is not a hold's; the
     * writer is told by a reload after a second */
    uint64_t started = uv_hrtime();
    CHECK(told_within(&f,
                      "WITH u AS (UPDATE occupancy SET resource_id = '" RES_A
                      "' RETURNING 1) SELECT pg_current_xact_id()::text FROM u",
                      STORE_CHANGE_HELD, 5000));
    CHECK(uv_hrtime() - started >= 900000000ull);
    store_index_stats(f.index, &after);
    CHECK_EQ(after.reloads, before.reloads + 1);
    CHECK_EQ(busy_of(&f, ORG_A, RES_A), 1);
    teardown(&f);
}
