/*
 * The schema and its migrations against a real PostgreSQL: migrations apply
 * once, the database forbids double booking, checks its invariants, keeps the
 * audit append-only, and announces changes.
 */
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

TEST(schema_announces_changes_that_affect_availability)
{
    PGconn *conn = migrated();
    test_db_exec(conn, "LISTEN slotd_changes");
    seed(conn);
    occupy(conn, "b1", "2026-01-05 10:00Z", "2026-01-05 10:40Z", true, NULL);
    PQconsumeInput(conn);
    int seen_resource = 0, seen_occupancy = 0, seen_booking = 0;
    PGnotify *n;
    while ((n = PQnotifies(conn)) != NULL) {
        seen_resource += strstr(n->extra, "\"table\": \"resources\"") != NULL;
        seen_booking += strstr(n->extra, "\"table\": \"bookings\"") != NULL;
        if (strstr(n->extra, "\"table\": \"occupancy\"")) {
            seen_occupancy++;
            CHECK(strstr(n->extra, "00000000-0000-0000-0000-0000000000b1") != NULL);
        }
        PQfreemem(n);
    }
    CHECK_EQ(seen_resource, 2);
    CHECK_EQ(seen_occupancy, 1);
    CHECK_EQ(seen_booking, 0); /* occupancy carries what matters */
    test_db_drop(conn);
}
