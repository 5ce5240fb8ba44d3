/*
 * Database faults, black-box: while slotd's database refuses connections,
 * slot queries keep answering from memory and /readyz says the service is
 * not ready; once the database is back, the pool and LISTEN reconnect and the
 * index catches up with what others wrote while slotd was cut off (their
 * NOTIFY reached no one). And PostgreSQL itself crashing and restarting, on a
 * cluster of the test's own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api_client.h"
#include "db.h"
#include "private_pg.h"
#include "test.h"

static const char *const frozen[] = {"SLOTD_NOW=2026-03-27T08:00:00+01:00", NULL};

/* Polls GET `path` until it has `count` slots (about 10 s at most). */
static bool slots_become(api_server_t *s, const char *path, int count)
{
    for (int i = 0; i < 1000; i++) {
        if (api_slot_count(s, path) == count)
            return true;
        usleep(10000);
    }
    return false;
}

/* Polls /readyz until it answers `status` (about 15 s at most); the last answer. */
static int readyz_becomes(api_server_t *s, int status)
{
    int got = 0;
    for (int i = 0; i < 1500 && got != status; i++) {
        got = api_call(s, "GET", "/readyz", NULL, NULL, NULL);
        if (got != status)
            usleep(10000);
    }
    return got;
}

TEST(faults_slots_answer_from_memory_while_the_database_is_down_and_catch_up_after)
{
    api_server_t s;
    api_start(&s, frozen);
    api_wait_ready(&s);
    char anna[40], service[40], path[256], sql[1024];
    api_create_staff_service(&s, "{\"fri\":[[\"09:00\",\"12:00\"]]}", anna, service);
    snprintf(path, sizeof(path), "/v1/slots?service_id=%s&from=2026-03-27&to=2026-03-28", service);
    CHECK(slots_become(&s, path, 3)); /* the key is cached from here on */

    /* another program keeps one session open; every other one is cut and no new one is let in */
    PGconn *other = PQconnectdb(s.url);
    CHECK(PQstatus(other) == CONNECTION_OK);
    PGconn *super = PQconnectdb(getenv("SLOTD_TEST_DATABASE_URL"));
    const char *dbname = strrchr(s.url, '/') + 1;
    snprintf(sql, sizeof(sql),
             "ALTER DATABASE %s ALLOW_CONNECTIONS false; SELECT pg_terminate_backend(pid) FROM "
             "pg_stat_activity WHERE datname = '%s' AND pid <> %d",
             dbname, dbname, PQbackendPID(other));
    test_db_exec(super, sql);

    /* not ready, but the slots still come from memory */
    CHECK_EQ(readyz_becomes(&s, 503), 503);
    CHECK_EQ(api_slot_count(&s, path), 3);
    /* a configuration read needs the database: 503, and says why */
    json_t *r = api_expect(&s, 503, "GET", "/v1/services", s.admin_key, NULL);
    CHECK(strcmp(api_error_code(r), "unavailable") == 0);
    json_decref(r);

    /* meanwhile the other program blocks Friday 10:00-11:00: nobody hears its NOTIFY */
    snprintf(sql, sizeof(sql),
             "INSERT INTO blocks (organization_id, resource_id, starts_at, ends_at) VALUES "
             "('%s', '%s', '2026-03-27T10:00:00+01:00', '2026-03-27T11:00:00+01:00')",
             s.organization_id, anna);
    test_db_exec(other, sql);
    usleep(300000);
    CHECK_EQ(api_slot_count(&s, path), 3); /* still the answer from before: nothing was heard */

    /* the database is back: ready again, and the block is in the index */
    snprintf(sql, sizeof(sql), "ALTER DATABASE %s ALLOW_CONNECTIONS true", dbname);
    test_db_exec(super, sql);
    CHECK_EQ(readyz_becomes(&s, 200), 200);
    CHECK(slots_become(&s, path, 2));
    json_decref(api_expect(&s, 200, "GET", "/v1/services", s.admin_key, NULL));
    PQfinish(other);
    PQfinish(super);
    api_stop(&s);
}

/* PostgreSQL itself crashes and comes back on the same address: slotd goes on answering slots
 * from memory meanwhile, reconnects by itself, and takes writes again. */
TEST(faults_postgres_crashes_and_restarts_under_a_running_service)
{
    test_pg_t pg;
    test_pg_start(&pg);
    api_server_t s;
    api_start(&s, frozen);
    api_wait_ready(&s);
    char anna[40], service[40], path[256];
    api_create_staff_service(&s, "{\"fri\":[[\"09:00\",\"12:00\"]]}", anna, service);
    snprintf(path, sizeof(path), "/v1/slots?service_id=%s&from=2026-03-27&to=2026-03-28", service);
    CHECK(slots_become(&s, path, 3));
    PQfinish(s.db); /* the test's own session ends with the server */
    s.db = NULL;

    test_pg_crash(&pg);
    CHECK_EQ(readyz_becomes(&s, 503), 503);
    for (int i = 0; i < 20; i++) /* from memory, with the cached key */
        CHECK_EQ(api_slot_count(&s, path), 3);
    json_t *r = api_expect(&s, 503, "GET", "/v1/services", s.admin_key, NULL);
    json_decref(r);

    test_pg_restart(&pg);
    CHECK_EQ(readyz_becomes(&s, 200), 200);
    /* writes work again and reach the index */
    char block[256];
    snprintf(block, sizeof(block), "/v1/resources/%s/blocks", anna);
    json_decref(api_expect(&s, 201, "POST", block, s.admin_key,
                           "{\"start\":\"2026-03-27T10:00:00+01:00\",\"end\":\"2026-03-27T11:00:"
                           "00+01:00\"}"));
    CHECK_EQ(api_slot_count(&s, path), 2);
    s.db = PQconnectdb(s.url);
    api_stop(&s);
    test_pg_remove(&pg);
}
