/*
 * The typed store for locations against a real PostgreSQL and a real loop:
 * structs in, structs out, organizations kept apart, and one cancel path
 * after which the callback never runs.
 */
#include <string.h>

#include "db.h"
#include "slotd/codec.h"
#include "store/locations.h"
#include "store/migrations.h"
#include "store/statements.h"
#include "test.h"

typedef struct {
    PGconn *db;
    uv_loop_t loop;
    store_pool_t *pool;
    eng_id_t org, other;
} fixture_t;

typedef struct {
    int calls, error;
    eng_id_t id;
    char name[256];
    bool has_address, has_hours;
    size_t closures;
    int32_t first_closure;
    uint16_t monday_start;
} seen_t;

static void open_fixture(fixture_t *f)
{
    const char *url;
    f->db = test_db_create(&url);
    char error[1024] = "";
    CHECK(store_migrate(f->db, error, sizeof(error)) >= 0);
    test_db_exec(f->db, "INSERT INTO organizations (id, name, timezone) VALUES "
                        "('00000000-0000-0000-0000-0000000000a1', 'A', 'Europe/Warsaw'),"
                        "('00000000-0000-0000-0000-0000000000a2', 'B', 'UTC')");
    codec_parse_uuid("00000000-0000-0000-0000-0000000000a1", &f->org);
    codec_parse_uuid("00000000-0000-0000-0000-0000000000a2", &f->other);
    uv_loop_init(&f->loop);
    store_pool_options_t options = {.url = url,
                                    .size = 1,
                                    .statement_timeout_ms = 5000,
                                    .statements = store_statements,
                                    .statement_count = store_statement_count,
                                    .max_queue = 16};
    f->pool = store_pool_new(&f->loop, &options);
}

static void close_fixture(fixture_t *f)
{
    store_pool_close(f->pool, NULL, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    CHECK_EQ(uv_loop_close(&f->loop), 0);
    test_db_drop(f->db);
}

static void on_location(int error, const store_location_t *location, void *arg)
{
    seen_t *seen = arg;
    seen->calls++;
    seen->error = error;
    if (location) {
        seen->id = location->id;
        snprintf(seen->name, sizeof(seen->name), "%s", location->name);
        seen->has_address = location->address != NULL;
        seen->has_hours = location->has_business_hours;
        seen->monday_start = location->business_hours.day[0].ranges[0].start;
        seen->closures = location->closure_count;
        seen->first_closure = location->closure_count ? location->closures[0] : -1;
    }
}

static void run_until_called(fixture_t *f, const seen_t *seen)
{
    for (int spins = 0; seen->calls == 0 && spins < 200000; spins++)
        uv_run(&f->loop, UV_RUN_ONCE);
    CHECK_EQ(seen->calls, 1);
}

TEST(typed_locations_round_trip_structs_within_one_organization)
{
    fixture_t f;
    open_fixture(&f);
    eng_week_t week = {0};
    week.day[0].count = 1;
    week.day[0].ranges[0] = (eng_hours_range_t){9 * 60, 17 * 60};
    int32_t closures[2];
    CHECK_EQ(tz_parse_date("2026-12-25", &closures[0]), 0);
    CHECK_EQ(tz_parse_date("2026-12-24", &closures[1]), 0);
    store_location_write_t write = {.name = "North",
                                    .business_hours_set = true,
                                    .business_hours = &week,
                                    .closures_set = true,
                                    .closures = closures,
                                    .closure_count = 2};
    seen_t created = {0};
    CHECK(store_locations_insert(f.pool, &f.org, &write, on_location, &created) != NULL);
    run_until_called(&f, &created);
    CHECK_EQ(created.error, 0);
    CHECK(strcmp(created.name, "North") == 0 && !created.has_address && created.has_hours);
    CHECK_EQ(created.monday_start, 9 * 60);
    CHECK_EQ(created.closures, 2);

    seen_t got = {0};
    CHECK(store_locations_get(f.pool, &f.org, &created.id, on_location, &got) != NULL);
    run_until_called(&f, &got);
    CHECK_EQ(got.error, 0);
    CHECK(memcmp(&got.id, &created.id, sizeof(got.id)) == 0);
    CHECK_EQ(got.first_closure, closures[0]); /* kept in the order given */

    seen_t foreign = {0};
    CHECK(store_locations_get(f.pool, &f.other, &created.id, on_location, &foreign) != NULL);
    run_until_called(&f, &foreign);
    CHECK_EQ(foreign.error, STORE_ENOTFOUND);

    store_location_write_t patch = {.address_set = true, .address = "Main St 1"};
    seen_t patched = {0};
    CHECK(store_locations_update(f.pool, &f.org, &created.id, &patch, on_location, &patched) !=
          NULL);
    run_until_called(&f, &patched);
    CHECK(patched.error == 0 && patched.has_address && strcmp(patched.name, "North") == 0);
    close_fixture(&f);
}

TEST(typed_locations_cancelled_operation_never_calls_back)
{
    fixture_t f;
    open_fixture(&f);
    seen_t seen = {0};
    store_location_write_t write = {.name = "Never"};
    store_operation_t *operation =
        store_locations_insert(f.pool, &f.org, &write, on_location, &seen);
    CHECK(operation != NULL);
    store_operation_cancel(operation);
    seen_t later = {0};
    CHECK(store_locations_insert(f.pool, &f.org, &(store_location_write_t){.name = "Later"},
                                 on_location, &later) != NULL);
    run_until_called(&f, &later);
    CHECK_EQ(seen.calls, 0);
    close_fixture(&f);
}

static void on_ascii_location(int error, const store_location_t *location, void *arg)
{
    seen_t *seen = arg;
    seen->calls++;
    seen->error = error;
    /* what an edge must be ready for: a stored text that is not UTF-8 makes json_pack fail */
    json_t *packed = location ? json_pack("{s:s}", "name", location->name) : NULL;
    seen->has_address = packed != NULL; /* reused: did the name pack */
    if (location)
        snprintf(seen->name, sizeof(seen->name), "%s", location->name);
    json_decref(packed);
}

/*
 * Issue 8, confirmed: a SQL_ASCII database (or another program writing into
 * one) hands slotd text that is not UTF-8, and json_pack then returns NULL.
 * The location routes answer 500 for such a row, and http_respond refuses a
 * NULL body instead of measuring it with strlen.
 */
TEST(typed_locations_read_text_that_is_not_utf8_from_a_sql_ascii_database)
{
    const char *url;
    PGconn *admin = test_db_create(&url);
    char name[96], sql[256], ascii_url[600];
    snprintf(name, sizeof(name), "%s_ascii", PQdb(admin));
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", name);
    test_db_exec(admin, sql);
    snprintf(sql, sizeof(sql),
             "CREATE DATABASE %s ENCODING 'SQL_ASCII' TEMPLATE template0 LC_COLLATE 'C' "
             "LC_CTYPE 'C'",
             name);
    test_db_exec(admin, sql);
    snprintf(ascii_url, sizeof(ascii_url), "%.*s/%s", (int)(strrchr(url, '/') - url), url, name);
    PGconn *db = PQconnectdb(ascii_url);
    CHECK(PQstatus(db) == CONNECTION_OK);
    char error[1024] = "";
    CHECK(store_migrate(db, error, sizeof(error)) >= 0);
    test_db_exec(db, "INSERT INTO organizations (id, name, timezone) VALUES "
                     "('00000000-0000-0000-0000-0000000000a1', 'A', 'UTC');"
                     "INSERT INTO locations (organization_id, id, name) VALUES "
                     "('00000000-0000-0000-0000-0000000000a1', "
                     "'00000000-0000-0000-0000-0000000000d1', E'caf\\xe9')");
    PQfinish(db);
    uv_loop_t loop;
    uv_loop_init(&loop);
    store_pool_options_t options = {.url = ascii_url,
                                    .size = 1,
                                    .statement_timeout_ms = 5000,
                                    .statements = store_statements,
                                    .statement_count = store_statement_count,
                                    .max_queue = 4};
    store_pool_t *pool = store_pool_new(&loop, &options);
    eng_id_t org, id;
    codec_parse_uuid("00000000-0000-0000-0000-0000000000a1", &org);
    codec_parse_uuid("00000000-0000-0000-0000-0000000000d1", &id);
    seen_t seen = {0};
    CHECK(store_locations_get(pool, &org, &id, on_ascii_location, &seen) != NULL);
    for (int spins = 0; seen.calls == 0 && spins < 200000; spins++)
        uv_run(&loop, UV_RUN_ONCE);
    CHECK_EQ(seen.calls, 1);
    CHECK_EQ(seen.error, 0);
    CHECK(strcmp(seen.name, "caf\xe9") == 0);
    CHECK(!seen.has_address); /* json_pack refused it */
    store_pool_close(pool, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_EQ(uv_loop_close(&loop), 0);
    snprintf(sql, sizeof(sql), "DROP DATABASE %s", name);
    test_db_exec(admin, sql);
    test_db_drop(admin);
}
