/*
 * The schema and its migrations against a real PostgreSQL: migrations apply
 * once, the database forbids double booking, checks its invariants, keeps the
 * audit append-only, and announces changes.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db.h"
#include "store/migrations.h"
#include "test.h"

static PGconn *migrated(void)
{
    PGconn *conn = test_db_create(NULL);
    char error[1024] = "";
    int applied = store_migrate(conn, error, sizeof(error));
    if (applied < 0) {
        fprintf(stderr, "migration failed: %s\n", error);
        exit(1);
    }
    CHECK_EQ(applied, (int)store_migration_count);
    return conn;
}

/* An organization, a resource, a service, a customer and a booking to hang occupancy on. */
static void seed(PGconn *conn)
{
    test_db_exec(conn,
                 "INSERT INTO organizations (id, name, timezone) VALUES "
                 " ('00000000-0000-0000-0000-0000000000a1', 'Clinic', 'Europe/Warsaw');"
                 "INSERT INTO resources (organization_id, id, kind, name) VALUES "
                 " ('00000000-0000-0000-0000-0000000000a1', "
                 "'00000000-0000-0000-0000-0000000000b1', 'staff', 'A'),"
                 " ('00000000-0000-0000-0000-0000000000a1', "
                 "'00000000-0000-0000-0000-0000000000b2', 'room', 'R');"
                 "INSERT INTO services (organization_id, id, name, duration_minutes) VALUES "
                 " ('00000000-0000-0000-0000-0000000000a1', "
                 "'00000000-0000-0000-0000-0000000000c1', 'S', 30);"
                 "INSERT INTO customers (organization_id, id, name, phone_normalized) VALUES "
                 " ('00000000-0000-0000-0000-0000000000a1', "
                 "'00000000-0000-0000-0000-0000000000d1', 'C', '+48601234567');"
                 "INSERT INTO bookings (organization_id, id, service_id, customer_id, starts_at, "
                 "ends_at) VALUES "
                 " ('00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-0000000000e1',"
                 "  '00000000-0000-0000-0000-0000000000c1', '00000000-0000-0000-0000-0000000000d1',"
                 "  '2026-01-05 10:00Z', '2026-01-05 10:30Z');");
}

static void occupy(PGconn *conn, const char *resource_suffix, const char *from, const char *to,
                   bool active, const char **error)
{
    char sql[1024];
    snprintf(sql, sizeof(sql),
             "INSERT INTO occupancy (organization_id, resource_id, booking_id, occupied, active) "
             "VALUES ('00000000-0000-0000-0000-0000000000a1', "
             "'00000000-0000-0000-0000-0000000000%s', '00000000-0000-0000-0000-0000000000e1', "
             "tstzrange('%s', '%s'), %s)",
             resource_suffix, from, to, active ? "true" : "false");
    if (error)
        *error = test_db_error(conn, sql);
    else
        test_db_exec(conn, sql);
}

TEST(migrate_applies_once_and_again_is_a_no_op)
{
    PGconn *conn = migrated();
    char error[1024] = "";
    CHECK_EQ(store_migrate(conn, error, sizeof(error)), 0);
    CHECK_EQ(atoi(test_db_value(conn, "SELECT count(*) FROM slotd_migrations")),
             (int)store_migration_count);
    test_db_drop(conn);
}

TEST(migrate_from_two_processes_at_once_applies_each_migration_once)
{
    const char *url;
    PGconn *conn = test_db_create(&url);
    pid_t children[2];
    for (int i = 0; i < 2; i++) {
        children[i] = fork();
        if (children[i] == 0) {
            PGconn *c = PQconnectdb(url);
            char error[1024] = "";
            int applied = store_migrate(c, error, sizeof(error));
            if (applied < 0)
                fprintf(stderr, "child %d: %s\n", i, error);
            PQfinish(c);
            _exit(applied < 0 ? 100 : applied);
        }
    }
    int total = 0;
    for (int i = 0; i < 2; i++) {
        int status;
        waitpid(children[i], &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) != 100);
        total += WEXITSTATUS(status);
    }
    CHECK_EQ(total, (int)store_migration_count);
    CHECK_EQ(atoi(test_db_value(conn, "SELECT count(*) FROM slotd_migrations")),
             (int)store_migration_count);
    test_db_drop(conn);
}

TEST(schema_refuses_overlapping_occupancy_of_one_resource)
{
    PGconn *conn = migrated();
    seed(conn);
    const char *state;
    occupy(conn, "b1", "2026-01-05 10:00Z", "2026-01-05 10:40Z", true, NULL);
    occupy(conn, "b1", "2026-01-05 10:39Z", "2026-01-05 11:00Z", true, &state);
    CHECK(strcmp(state, "23P01") == 0); /* exclusion_violation */
    occupy(conn, "b1", "2026-01-05 10:40Z", "2026-01-05 11:00Z", true, NULL); /* touching */
    occupy(conn, "b2", "2026-01-05 10:00Z", "2026-01-05 10:40Z", true, NULL); /* another resource */
    occupy(conn, "b1", "2026-01-05 10:00Z", "2026-01-05 10:40Z", false, NULL); /* inactive */
    test_db_drop(conn);
}

TEST(schema_checks_invariants)
{
    PGconn *conn = migrated();
    seed(conn);
    const char *org = "'00000000-0000-0000-0000-0000000000a1'";
    char sql[512];
    snprintf(sql, sizeof(sql),
             "INSERT INTO services (organization_id, name, duration_minutes) VALUES (%s, 'x', 0)",
             org);
    CHECK(strcmp(test_db_error(conn, sql), "23514") == 0);
    snprintf(sql, sizeof(sql),
             "INSERT INTO services (organization_id, name, duration_minutes, buffer_after_minutes)"
             " VALUES (%s, 'x', 30, -5)",
             org);
    CHECK(strcmp(test_db_error(conn, sql), "23514") == 0);
    CHECK(strcmp(test_db_error(conn, "UPDATE bookings SET status = 'lost'"), "23514") == 0);
    CHECK(strcmp(test_db_error(conn, "UPDATE resources SET kind = 'robot'"), "23514") == 0);
    CHECK(strcmp(test_db_error(conn, "UPDATE bookings SET ends_at = starts_at"), "23514") == 0);
    /* a foreign organization's resource cannot be referenced */
    test_db_exec(conn, "INSERT INTO organizations (id, name, timezone) VALUES "
                       "('00000000-0000-0000-0000-0000000000a2', 'Other', 'UTC')");
    CHECK(strcmp(test_db_error(conn,
                               "INSERT INTO resource_overrides (organization_id, resource_id, day, "
                               "hours) VALUES ('00000000-0000-0000-0000-0000000000a2', "
                               "'00000000-0000-0000-0000-0000000000b1', '2026-01-05', '[]')"),
                 "23503") == 0);
    test_db_drop(conn);
}

TEST(schema_keeps_updated_at_and_the_audit_append_only)
{
    PGconn *conn = migrated();
    seed(conn);
    test_db_exec(conn, "UPDATE resources SET updated_at = '2000-01-01', name = 'B'");
    CHECK(strcmp(test_db_value(conn, "SELECT bool_and(updated_at > '2020-01-01') FROM resources"),
                 "t") == 0);
    test_db_exec(conn, "INSERT INTO booking_audit (organization_id, booking_id, actor, action, "
                       "new_value) VALUES ('00000000-0000-0000-0000-0000000000a1', "
                       "'00000000-0000-0000-0000-0000000000e1', 'test', 'create', '{}')");
    CHECK(strcmp(test_db_error(conn, "UPDATE booking_audit SET actor = 'x'"), "P0001") == 0);
    CHECK(strcmp(test_db_error(conn, "DELETE FROM booking_audit"), "P0001") == 0);
    test_db_drop(conn);
}

/* Notifications of what another program writes: configuration with its own payload,
 * occupancy as a row of the log of changes and one wake per transaction (migration 0027); a
 * session that says it wakes the listeners itself (as slotd's do) sends no wake. */
TEST(schema_announces_changes_that_affect_availability)
{
    PGconn *conn = migrated();
    test_db_exec(conn, "LISTEN slotd_changes");
    seed(conn);
    occupy(conn, "b1", "2026-01-05 10:00Z", "2026-01-05 10:40Z", true, NULL);
    occupy(conn, "b1", "2026-01-05 11:00Z", "2026-01-05 11:40Z", true, NULL);
    test_db_exec(conn, "SET slotd.wakes = 'later'");
    occupy(conn, "b1", "2026-01-05 12:00Z", "2026-01-05 12:40Z", true, NULL);
    test_db_exec(conn, "BEGIN; UPDATE occupancy SET active = false; COMMIT");
    PQconsumeInput(conn);
    int seen_resource = 0, seen_occupancy = 0, seen_booking = 0, wakes = 0;
    PGnotify *n;
    while ((n = PQnotifies(conn)) != NULL) {
        seen_resource += strstr(n->extra, "\"table\": \"resources\"") != NULL;
        seen_booking += strstr(n->extra, "\"table\": \"bookings\"") != NULL;
        seen_occupancy += strstr(n->extra, "\"table\": \"occupancy\"") != NULL;
        wakes += strcmp(n->extra, "{\"table\": \"occupancy_changes\"}") == 0;
        PQfreemem(n);
    }
    CHECK_EQ(seen_resource, 2);
    CHECK_EQ(seen_occupancy, 0); /* in the log */
    CHECK_EQ(wakes, 2);          /* the two inserts before slotd.wakes */
    CHECK_EQ(seen_booking, 0);   /* occupancy carries what matters */
    /* the log: three inserts and three updates, in the order written, each with its
     * transaction's id, the first on b1 */
    CHECK(strcmp(test_db_value(conn, "SELECT string_agg(payload->>'op', ',' ORDER BY seq) "
                                     "FROM occupancy_changes"),
                 "insert,insert,insert,update,update,update") == 0);
    CHECK(strcmp(test_db_value(conn, "SELECT count(DISTINCT xid) FROM occupancy_changes"), "4") ==
          0);
    CHECK(strcmp(test_db_value(conn, "SELECT bool_and(xid::text = payload->>'xid') "
                                     "FROM occupancy_changes"),
                 "t") == 0);
    CHECK(strstr(test_db_value(conn, "SELECT payload::text FROM occupancy_changes ORDER BY seq "
                                     "LIMIT 1"),
                 "00000000-0000-0000-0000-0000000000b1") != NULL);
    test_db_drop(conn);
}

/* The sweep of the log keeps a snapshot each time and deletes, a batch at a time and lowest
 * transaction ids first, the rows of the transactions that had ended before the newest
 * snapshot kept at least `keep` ago, and nothing newer, having raised the horizon to that
 * snapshot's xmin; the snapshots before that one go too. (Snapshots of the past are written
 * here: the cluster's other transactions would make the sweep's own ones vary.) */
TEST(schema_sweep_of_the_change_log_keeps_what_a_listener_may_still_read)
{
    PGconn *conn = migrated();
    seed(conn);
    occupy(conn, "b1", "2026-01-05 10:00Z", "2026-01-05 10:40Z", true, NULL);
    occupy(conn, "b1", "2026-01-05 11:00Z", "2026-01-05 11:40Z", true, NULL);
    CHECK(strcmp(test_db_value(conn, "SELECT slotd_sweep_changes(interval '1 hour', 10)"), "0") ==
          0);
    CHECK(strcmp(test_db_value(conn, "SELECT count(*) FROM occupancy_change_marks"), "1") == 0);
    /* two hours ago, every transaction up to the first two writes had ended; three hours ago
     * none had */
    test_db_exec(conn, "INSERT INTO occupancy_change_marks (taken_at, snapshot) "
                       "SELECT now() - interval '2 hours', ((max(xid)::text::bigint + 1)::text "
                       "|| ':' || (max(xid)::text::bigint + 1)::text || ':')::pg_snapshot "
                       "FROM occupancy_changes;"
                       "INSERT INTO occupancy_change_marks (taken_at, snapshot) "
                       "SELECT now() - interval '3 hours', (min(xid)::text || ':' || "
                       "min(xid)::text || ':')::pg_snapshot FROM occupancy_changes");
    const char *horizon = test_db_value(conn, "SELECT (max(xid)::text::bigint + 1)::text "
                                              "FROM occupancy_changes");
    char expected_horizon[32];
    snprintf(expected_horizon, sizeof(expected_horizon), "%s", horizon);
    occupy(conn, "b1", "2026-01-05 12:00Z", "2026-01-05 12:40Z", true, NULL);
    /* a batch of one: the lowest first */
    CHECK(strcmp(test_db_value(conn, "SELECT slotd_sweep_changes(interval '1 hour', 1)"), "1") ==
          0);
    CHECK(strcmp(test_db_value(conn, "SELECT string_agg(payload->'new'->>3, ',' ORDER BY seq) "
                                     "FROM occupancy_changes"),
                 test_db_value(conn, "SELECT slotd_epoch_us('2026-01-05 11:00Z')::text || ',' || "
                                     "slotd_epoch_us('2026-01-05 12:00Z')::text")) == 0);
    CHECK(strcmp(test_db_value(conn, "SELECT below::text FROM occupancy_change_horizon"),
                 expected_horizon) == 0);
    CHECK(strcmp(test_db_value(conn, "SELECT slotd_sweep_changes(interval '1 hour', 1)"), "1") ==
          0);
    CHECK(strcmp(test_db_value(conn, "SELECT slotd_sweep_changes(interval '1 hour', 1)"), "0") ==
          0);
    CHECK(strcmp(test_db_value(conn, "SELECT payload->'new'->>3 FROM occupancy_changes"),
                 test_db_value(conn, "SELECT slotd_epoch_us('2026-01-05 12:00Z')::text")) == 0);
    /* left: the one of two hours ago and the sweeps' own four */
    CHECK(strcmp(test_db_value(conn, "SELECT count(*) FROM occupancy_change_marks"), "5") == 0);
    CHECK(strcmp(test_db_value(conn, "SELECT below::text FROM occupancy_change_horizon"),
                 expected_horizon) == 0);
    test_db_drop(conn);
}

/* The times the occupancy rows matching `where` carry: "start|end|created as its booking"
 * in UTC (static buffer). */
static const char *occupancy_times(PGconn *conn, const char *where)
{
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SELECT concat_ws('|', to_char(starts_at AT TIME ZONE 'UTC', 'HH24:MI'), "
             "to_char(ends_at AT TIME ZONE 'UTC', 'HH24:MI'), "
             "booking_created_at = (SELECT created_at FROM bookings b "
             "WHERE b.organization_id = c.organization_id AND b.id = c.booking_id)) "
             "FROM occupancy c WHERE %s",
             where);
    return test_db_value(conn, sql);
}

/* A hold of 12:00-12:30 UTC on resource b2 and its occupancy padded to 12:45, written in one
 * statement as another program might, without the hold's own times on the occupancy. */
static void hold_with_occupancy(PGconn *conn)
{
    test_db_exec(conn,
                 "WITH h AS (INSERT INTO holds (organization_id, id, service_id, starts_at, "
                 "ends_at, expires_at) VALUES ('00000000-0000-0000-0000-0000000000a1', "
                 "'00000000-0000-0000-0000-0000000000f1', '00000000-0000-0000-0000-0000000000c1', "
                 "'2026-01-05 12:00Z', '2026-01-05 12:30Z', '2026-01-05 08:00Z') "
                 "RETURNING organization_id, id, expires_at) "
                 "INSERT INTO occupancy (organization_id, resource_id, hold_id, occupied, "
                 "expires_at) SELECT organization_id, '00000000-0000-0000-0000-0000000000b2', id, "
                 "tstzrange('2026-01-05 12:00Z', '2026-01-05 12:45Z'), expires_at FROM h");
}

/* Another program writes occupancy as the schema before 0008 had it, without its booking's or
 * hold's own times: the database fills them in, in separate statements and in one. */
TEST(schema_occupancy_written_without_its_times_takes_them_from_its_booking_or_hold)
{
    PGconn *conn = migrated();
    seed(conn);
    occupy(conn, "b1", "2026-01-05 09:50Z", "2026-01-05 10:40Z", true, NULL);
    CHECK(strcmp(occupancy_times(conn, "booking_id IS NOT NULL"), "10:00|10:30|t") == 0);
    hold_with_occupancy(conn);
    CHECK(strcmp(occupancy_times(conn, "hold_id IS NOT NULL"), "12:00|12:30") == 0);
    /* given times are kept as given */
    test_db_exec(conn, "INSERT INTO occupancy (organization_id, resource_id, booking_id, "
                       "occupied, starts_at, ends_at) VALUES "
                       "('00000000-0000-0000-0000-0000000000a1', "
                       "'00000000-0000-0000-0000-0000000000b2', "
                       "'00000000-0000-0000-0000-0000000000e1', "
                       "tstzrange('2026-01-05 14:00Z', '2026-01-05 15:00Z'), "
                       "'2026-01-05 14:10Z', '2026-01-05 14:50Z')");
    CHECK(strcmp(occupancy_times(conn, "lower(occupied) = '2026-01-05 14:00Z'"), "14:10|14:50") ==
          0);
    test_db_drop(conn);
}

/* A database migrated before 0008: its occupancy rows get their bookings' and holds' times. */
TEST(migrate_fills_the_times_of_occupancy_written_before)
{
    PGconn *conn = test_db_create(NULL);
    test_db_exec(conn, "CREATE TABLE slotd_migrations (version integer PRIMARY KEY, "
                       "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())");
    size_t before = 0;
    for (; before < store_migration_count && store_migrations[before].version < 8; before++) {
        test_db_exec(conn, store_migrations[before].sql);
        char sql[256];
        snprintf(sql, sizeof(sql), "INSERT INTO slotd_migrations (version, name) VALUES (%d, '%s')",
                 store_migrations[before].version, store_migrations[before].name);
        test_db_exec(conn, sql);
    }
    seed(conn);
    occupy(conn, "b1", "2026-01-05 09:50Z", "2026-01-05 10:40Z", true, NULL);
    occupy(conn, "b2", "2026-01-05 09:50Z", "2026-01-05 10:40Z", false, NULL);
    hold_with_occupancy(conn);
    char error[1024] = "";
    CHECK_EQ(store_migrate(conn, error, sizeof(error)), (int)(store_migration_count - before));
    CHECK(strcmp(occupancy_times(conn, "active AND booking_id IS NOT NULL"), "10:00|10:30|t") == 0);
    CHECK(strcmp(occupancy_times(conn, "NOT active"), "10:00|10:30|t") == 0);
    CHECK(strcmp(occupancy_times(conn, "hold_id IS NOT NULL"), "12:00|12:30") == 0);
    test_db_drop(conn);
}
