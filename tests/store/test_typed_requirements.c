/*
 * Issue 8, part: a service's requirement groups name live resources of its
 * organization, and the database itself holds to it, also against a resource
 * deleted between slotd's check and its write.
 */
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "store/migrations.h"
#include "test.h"

#define ORG "'00000000-0000-0000-0000-0000000000a1'"
#define RES "'00000000-0000-0000-0000-0000000000b1'"
#define SVC "'00000000-0000-0000-0000-0000000000c1'"

static PGconn *seeded(void)
{
    PGconn *conn = test_db_create(NULL);
    char error[1024] = "";
    if (store_migrate(conn, error, sizeof(error)) < 0) {
        fprintf(stderr, "migration failed: %s\n", error);
        exit(1);
    }
    test_db_exec(conn, "INSERT INTO organizations (id, name, timezone) VALUES (" ORG
                       ", 'Clinic', 'Europe/Warsaw');"
                       "INSERT INTO resources (organization_id, id, kind, name) VALUES (" ORG
                       ", " RES ", 'staff', 'A');"
                       "INSERT INTO services (organization_id, id, name, duration_minutes) "
                       "VALUES (" ORG ", " SVC ", 'S', 30)");
    return conn;
}

static const char *const insert_group =
    "INSERT INTO service_requirements (organization_id, service_id, position, mode, "
    "resource_ids) VALUES (" ORG ", " SVC ", 0, 'all', ARRAY[" RES "]::uuid[])";

TEST(requirements_refuse_resources_that_are_not_live)
{
    PGconn *conn = seeded();
    CHECK(
        strcmp(test_db_error(conn, "INSERT INTO service_requirements (organization_id, service_id, "
                                   "position, mode, resource_ids) VALUES (" ORG ", " SVC
                                   ", 0, 'any', ARRAY[" RES
                                   ", '00000000-0000-0000-0000-0000000000b9']::uuid[])"),
               "23503") == 0);
    test_db_exec(conn, insert_group);
    test_db_exec(conn, "UPDATE resources SET deleted_at = now() WHERE id = " RES);
    CHECK(strcmp(test_db_error(conn, "UPDATE service_requirements SET resource_ids = ARRAY[" RES
                                     ", " RES "]::uuid[]"),
                 "23503") == 0);
    test_db_drop(conn);
}

/* A deletion in progress when the group is written: the write waits, then refuses. */
TEST(requirements_wait_for_a_concurrent_deletion_and_refuse_its_resource)
{
    PGconn *conn = seeded();
    /* a second session on the same database */
    char conninfo[512];
    snprintf(conninfo, sizeof(conninfo), "host=%s port=%s dbname=%s user=%s", PQhost(conn),
             PQport(conn), PQdb(conn), PQuser(conn));
    PGconn *deleter = PQconnectdb(conninfo);
    CHECK(PQstatus(deleter) == CONNECTION_OK);
    test_db_exec(deleter, "BEGIN; UPDATE resources SET deleted_at = now() WHERE id = " RES);
    CHECK(PQsendQuery(conn, insert_group) == 1);
    /* the write must wait for the deletion: nothing comes back while it is open */
    usleep(300 * 1000);
    CHECK(PQconsumeInput(conn) == 1);
    CHECK(PQisBusy(conn) == 1);
    test_db_exec(deleter, "COMMIT");
    PGresult *res = PQgetResult(conn);
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    CHECK(state && strcmp(state, "23503") == 0);
    PQclear(res);
    while ((res = PQgetResult(conn)) != NULL)
        PQclear(res);
    CHECK(strcmp(test_db_value(conn, "SELECT count(*) FROM service_requirements"), "0") == 0);
    PQfinish(deleter);
    test_db_drop(conn);
}
