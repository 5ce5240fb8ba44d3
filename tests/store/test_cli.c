/* The command line against a real database: migrate, org create, key create. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "store/keys.h"
#include "test.h"

TEST(cli_migrate_twice_succeeds)
{
    const char *url;
    PGconn *conn = test_db_create(&url);
    char out[4096], args[1024];
    snprintf(args, sizeof(args), "migrate --database-url '%s' 2>/dev/null", url);
    CHECK_EQ(test_run_slotd(args, out, sizeof(out)), 0);
    CHECK_EQ(test_run_slotd(args, out, sizeof(out)), 0);
    test_db_drop(conn);
}

TEST(cli_org_create_prints_an_admin_key_stored_only_as_a_hash)
{
    const char *url;
    PGconn *conn = test_db_create(&url);
    char out[4096], args[1024];
    snprintf(args, sizeof(args), "migrate --database-url '%s' 2>/dev/null", url);
    CHECK_EQ(test_run_slotd(args, out, sizeof(out)), 0);
    snprintf(args, sizeof(args),
             "org create --name 'Smile Clinic' --timezone Europe/Warsaw --database-url '%s'", url);
    CHECK_EQ(test_run_slotd(args, out, sizeof(out)), 0);
    json_t *result = json_loads(out, 0, NULL);
    CHECK(result != NULL);
    const char *org = json_string_value(json_object_get(result, "organization_id"));
    const char *key = json_string_value(json_object_get(result, "api_key"));
    CHECK(org && key);
    eng_id_t from_key;
    CHECK(store_key_organization(key, strlen(key), &from_key));
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM api_keys WHERE organization_id = '%s' AND role = 'admin' "
             "AND key_hash = sha256('%s'::bytea)",
             org, key);
    CHECK(strcmp(test_db_value(conn, sql), "1") == 0);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM api_keys WHERE position('%s' in encode(key_hash, 'escape')) > 0",
             key + 36);
    CHECK(strcmp(test_db_value(conn, sql), "0") == 0);

    /* a second key for it, with another role */
    snprintf(args, sizeof(args), "key create --org %s --role agent --database-url '%s'", org, url);
    CHECK_EQ(test_run_slotd(args, out, sizeof(out)), 0);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM api_keys WHERE organization_id = '%s'", org);
    CHECK(strcmp(test_db_value(conn, sql), "2") == 0);
    json_decref(result);
    test_db_drop(conn);
}

TEST(cli_refuses_bad_input_with_usage_errors)
{
    const char *url;
    PGconn *conn = test_db_create(&url);
    char out[4096], args[1024];
    snprintf(args, sizeof(args), "migrate --database-url '%s' 2>/dev/null", url);
    CHECK_EQ(test_run_slotd(args, out, sizeof(out)), 0);
    snprintf(args, sizeof(args),
             "org create --name X --timezone Mars/Olympus --database-url '%s' 2>/dev/null", url);
    CHECK_EQ(test_run_slotd(args, out, sizeof(out)), 2);
    snprintf(args, sizeof(args),
             "key create --org nope --role agent --database-url '%s' 2>/dev/null", url);
    CHECK_EQ(test_run_slotd(args, out, sizeof(out)), 2);
    snprintf(args, sizeof(args),
             "key create --org 00000000-0000-0000-0000-000000000000 --role root --database-url "
             "'%s' 2>/dev/null",
             url);
    CHECK_EQ(test_run_slotd(args, out, sizeof(out)), 2);
    snprintf(args, sizeof(args),
             "key create --org 00000000-0000-0000-0000-000000000000 --role agent --database-url "
             "'%s' 2>/dev/null",
             url);
    CHECK_EQ(test_run_slotd(args, out, sizeof(out)), 1);
    CHECK_EQ(test_run_slotd("frobnicate 2>/dev/null", out, sizeof(out)), 2);
    CHECK_EQ(test_run_slotd("migrate --database-url postgresql://nobody@127.0.0.1:1/x 2>/dev/null",
                            out, sizeof(out)),
             1);
    CHECK(strcmp(test_db_value(conn, "SELECT count(*) FROM organizations"), "0") == 0);
    CHECK_EQ(test_run_slotd("org create --help", out, sizeof(out)), 0);
    CHECK(strstr(out, "--timezone") != NULL);
    test_db_drop(conn);
}

TEST(cli_demo_create_loads_the_example_clinic_in_one_transaction)
{
    const char *url;
    PGconn *conn = test_db_create(&url);
    char out[8192], args[1024];
    snprintf(args, sizeof(args), "migrate --database-url '%s' 2>/dev/null", url);
    CHECK_EQ(test_run_slotd(args, out, sizeof(out)), 0);
    const char *clinic = getenv("SLOTD_DEMO_CLINIC");
    CHECK(clinic != NULL);
    char bookings[64];
    snprintf(bookings, sizeof(bookings), "/tmp/slotd-demo-bookings-%d.jsonl", (int)getpid());
    snprintf(args, sizeof(args), "demo create '%s' --bookings %s --database-url '%s'", clinic,
             bookings, url);
    CHECK_EQ(test_run_slotd(args, out, sizeof(out)), 0);
    json_t *result = json_loads(out, 0, NULL);
    CHECK(result != NULL);
    CHECK(json_object_size(json_object_get(result, "resources")) == 5);
    CHECK(json_object_size(json_object_get(result, "services")) == 3);
    /* the bookings are requests for the API, one per line in the file too */
    json_t *requests = json_object_get(result, "bookings");
    CHECK(json_array_size(requests) == 5);
    FILE *f = fopen(bookings, "r");
    CHECK(f != NULL);
    char line[2048];
    size_t lines = 0;
    while (fgets(line, sizeof(line), f)) {
        json_t *body = json_loads(line, 0, NULL);
        CHECK(json_equal(body, json_array_get(requests, lines)));
        CHECK(json_string_value(json_object_get(body, "start")) != NULL);
        json_decref(body);
        lines++;
    }
    fclose(f);
    unlink(bookings);
    CHECK(lines == 5);
    json_decref(result);
    CHECK(strcmp(test_db_value(conn, "SELECT count(*) FROM resources"), "5") == 0);
    CHECK(strcmp(test_db_value(conn, "SELECT count(*) FROM service_requirements"), "6") == 0);
    CHECK(strcmp(test_db_value(conn, "SELECT count(*) FROM bookings"), "0") == 0);
    CHECK(strcmp(test_db_value(conn, "SELECT count(*) FROM api_keys"), "2") == 0);
    /* a broken file changes nothing */
    snprintf(args, sizeof(args), "demo create /nonexistent.json --database-url '%s' 2>/dev/null",
             url);
    CHECK_EQ(test_run_slotd(args, out, sizeof(out)), 2);
    CHECK(strcmp(test_db_value(conn, "SELECT count(*) FROM organizations"), "1") == 0);
    test_db_drop(conn);
}
