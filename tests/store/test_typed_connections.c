/*
 * The typed store for calendar connections against a real PostgreSQL and a
 * real loop: structs in, structs out, organizations kept apart; credentials
 * only ever stored sealed, opened with the key and for their own row alone;
 * an update checked against a connection that changed meanwhile refused;
 * deleting a connection deletes the busy events it brought; and the cancel
 * path of an operation of two statements.
 */
#include <string.h>

#include "db.h"
#include "loop.h"
#include "pool_fixture.h"
#include "slotd/codec.h"
#include "store/connections.h"
#include "test.h"

#define ORG "00000000-0000-0000-0000-0000000000a1"
#define OTHER "00000000-0000-0000-0000-0000000000a2"
#define RESOURCE "00000000-0000-0000-0000-0000000000b1"
#define UNKNOWN "00000000-0000-0000-0000-0000000000ff"

static const char *const google = "{\"refresh_token\":\"1//tok-secret\"}";

typedef struct {
    pool_fixture_t pool;
    eng_id_t org, other, resource, unknown;
    codec_secret_key_t key, other_key;
} fixture_t;

/* What a callback saw, copied out of the structs (valid only during the call). */
typedef struct {
    int calls, error;
    eng_id_t id, resource;
    char provider[16], direction[8], status[8], calendar[64], plain[256];
    bool has_error, more;
    int64_t event_type;
    long busy_events;
    size_t count;
} seen_t;

static void open_fixture(fixture_t *f)
{
    pool_fixture_open_migrated(&f->pool);
    test_db_exec(f->pool.db,
                 "INSERT INTO organizations (id, name, timezone) VALUES "
                 "('" ORG "', 'Clinic', 'Europe/Warsaw'), ('" OTHER "', 'Salon', 'UTC');"
                 "INSERT INTO resources (organization_id, id, kind, name) VALUES "
                 "('" ORG "', '" RESOURCE "', 'staff', 'Ben')");
    codec_parse_uuid(ORG, &f->org);
    codec_parse_uuid(OTHER, &f->other);
    codec_parse_uuid(RESOURCE, &f->resource);
    codec_parse_uuid(UNKNOWN, &f->unknown);
    CHECK_EQ(codec_secret_key_parse("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", &f->key), 0);
    CHECK_EQ(codec_secret_key_parse("//////////////////////////////////////////8=", &f->other_key),
             0);
}

static void wait_for(fixture_t *f, const seen_t *seen)
{
    test_loop_run_until(&f->pool.loop, &seen->calls, 1);
    CHECK_EQ(seen->calls, 1);
}

static void copy_connection(seen_t *seen, const store_connection_t *c)
{
    seen->id = c->id;
    seen->resource = c->resource_id;
    snprintf(seen->provider, sizeof(seen->provider), "%s", c->provider);
    snprintf(seen->direction, sizeof(seen->direction), "%s", c->direction);
    snprintf(seen->status, sizeof(seen->status), "%s", c->status);
    snprintf(seen->calendar, sizeof(seen->calendar), "%s", c->calendar_id ? c->calendar_id : "");
    seen->has_error = c->last_error != NULL;
    seen->event_type = c->calcom_event_type_id;
    seen->busy_events = c->busy_events;
}

/* A callback's first steps: counted, its error kept. */
static seen_t *seen_of(void *arg, int error)
{
    seen_t *seen = arg;
    seen->calls++;
    seen->error = error;
    return seen;
}

static void on_connection(int error, const store_connection_t *connection, void *arg)
{
    seen_t *seen = seen_of(arg, error);
    if (connection)
        copy_connection(seen, connection);
}

static void on_page(int error, const store_connection_t *items, size_t count, bool more, void *arg)
{
    seen_t *seen = seen_of(arg, error);
    seen->count = count;
    seen->more = more;
    if (count)
        copy_connection(seen, &items[count - 1]);
}

static void on_deleted(int error, const eng_id_t *resource, void *arg)
{
    seen_t *seen = seen_of(arg, error);
    if (resource)
        seen->resource = *resource;
}

static void on_credentials(int error, const char *credentials, size_t length, void *arg)
{
    seen_t *seen = seen_of(arg, error);
    if (credentials) {
        CHECK_EQ(strlen(credentials), length);
        snprintf(seen->plain, sizeof(seen->plain), "%s", credentials);
    }
}

static seen_t insert(fixture_t *f, const eng_id_t *org, const store_connection_write_t *write)
{
    seen_t seen = {0};
    CHECK(store_connections_insert(f->pool.pool, &f->key, org, &f->resource, write, on_connection,
                                   &seen) != NULL);
    wait_for(f, &seen);
    return seen;
}

static seen_t get(fixture_t *f, const eng_id_t *org, const eng_id_t *id)
{
    seen_t seen = {0};
    CHECK(store_connections_get(f->pool.pool, org, id, on_connection, &seen) != NULL);
    wait_for(f, &seen);
    return seen;
}

static seen_t credentials(fixture_t *f, const codec_secret_key_t *key, const eng_id_t *org,
                          const eng_id_t *id)
{
    seen_t seen = {0};
    CHECK(store_connections_credentials(f->pool.pool, key, org, id, on_credentials, &seen) != NULL);
    wait_for(f, &seen);
    return seen;
}

static seen_t update(fixture_t *f, const eng_id_t *id, const store_connection_t *checked,
                     const store_connection_write_t *write)
{
    seen_t seen = {0};
    CHECK(store_connections_update(f->pool.pool, &f->key, &f->org, id, checked, write,
                                   on_connection, &seen) != NULL);
    wait_for(f, &seen);
    return seen;
}

static store_connection_write_t google_write(void)
{
    return (store_connection_write_t){.provider = "google",
                                      .direction = "both",
                                      .calendar_id = "primary",
                                      .credentials = google,
                                      .credentials_length = strlen(google)};
}

TEST(typed_connections_round_trip_with_sealed_credentials)
{
    fixture_t f;
    open_fixture(&f);
    store_connection_write_t write = google_write();
    seen_t created = insert(&f, &f.org, &write);
    CHECK_EQ(created.error, 0);
    CHECK(strcmp(created.provider, "google") == 0 && strcmp(created.direction, "both") == 0);
    CHECK(strcmp(created.status, "active") == 0 && strcmp(created.calendar, "primary") == 0);
    CHECK(memcmp(&created.resource, &f.resource, sizeof(f.resource)) == 0);
    CHECK(!created.has_error && created.busy_events == 0 && created.event_type == 0);
    /* the database holds only the sealed value: no byte of the token in it */
    CHECK(strcmp(test_db_value(f.pool.db, "SELECT position('tok-secret'::bytea IN credentials) "
                                          "FROM calendar_connections"),
                 "0") == 0);
    CHECK(strcmp(test_db_value(f.pool.db, "SELECT length(credentials) FROM calendar_connections"),
                 "62") == 0); /* 33 bytes of JSON and 29 of sealing */
    seen_t opened = credentials(&f, &f.key, &f.org, &created.id);
    CHECK_EQ(opened.error, 0);
    CHECK(strcmp(opened.plain, google) == 0);
    /* another key does not open it */
    CHECK_EQ(credentials(&f, &f.other_key, &f.org, &created.id).error, STORE_EINTERNAL);

    /* a second connection, and the first one's sealed value copied into its row */
    write.provider = "ics";
    write.direction = "pull";
    write.calendar_id = NULL;
    write.credentials = "{\"url\":\"https://example.com/a.ics\"}";
    write.credentials_length = strlen(write.credentials);
    seen_t second = insert(&f, &f.org, &write);
    CHECK_EQ(second.error, 0);
    CHECK(strcmp(credentials(&f, &f.key, &f.org, &second.id).plain, write.credentials) == 0);
    char sql[512], id_text[37], second_text[37];
    codec_format_uuid(&created.id, id_text);
    codec_format_uuid(&second.id, second_text);
    snprintf(sql, sizeof(sql),
             "UPDATE calendar_connections SET credentials = (SELECT credentials FROM "
             "calendar_connections WHERE id = '%s') WHERE id = '%s'",
             id_text, second_text);
    test_db_exec(f.pool.db, sql);
    seen_t moved = credentials(&f, &f.key, &f.org, &second.id);
    CHECK_EQ(moved.error, STORE_EINTERNAL);
    CHECK(moved.plain[0] == 0);

    /* a page of one, then the next; another organization sees neither */
    seen_t page = {0};
    CHECK(store_connections_list(f.pool.pool, &f.org, &f.resource, NULL, 1, on_page, &page) !=
          NULL);
    wait_for(&f, &page);
    CHECK(page.error == 0 && page.count == 1 && page.more);
    seen_t rest = {0};
    CHECK(store_connections_list(f.pool.pool, &f.org, &f.resource, &page.id, 10, on_page, &rest) !=
          NULL);
    wait_for(&f, &rest);
    CHECK(rest.error == 0 && rest.count == 1 && !rest.more);
    CHECK(memcmp(&page.id, &rest.id, sizeof(page.id)) < 0);
    seen_t foreign = {0};
    CHECK(store_connections_list(f.pool.pool, &f.other, &f.resource, NULL, 10, on_page, &foreign) !=
          NULL);
    wait_for(&f, &foreign);
    CHECK_EQ(foreign.error, STORE_ENOTFOUND);
    CHECK_EQ(get(&f, &f.other, &created.id).error, STORE_ENOTFOUND);
    CHECK_EQ(credentials(&f, &f.key, &f.other, &created.id).error, STORE_ENOTFOUND);
    CHECK_EQ(insert(&f, &f.other, &write).error, STORE_ENOTFOUND);
    CHECK_EQ(get(&f, &f.org, &f.unknown).error, STORE_ENOTFOUND);
    pool_fixture_close(&f.pool);
}

TEST(typed_connections_update_is_checked_against_what_it_changes)
{
    fixture_t f;
    open_fixture(&f);
    store_connection_write_t write = google_write();
    seen_t created = insert(&f, &f.org, &write);
    CHECK_EQ(created.error, 0);
    test_db_exec(f.pool.db, "UPDATE calendar_connections SET status = 'broken', "
                            "last_error = 'token revoked'");
    /* checked against another direction: changed meanwhile */
    store_connection_t checked = {.direction = "pull"};
    store_connection_write_t change = {.direction = "push"};
    CHECK_EQ(update(&f, &created.id, &checked, &change).error, STORE_ECONFLICT);
    CHECK(strcmp(get(&f, &f.org, &created.id).direction, "both") == 0);
    /* a change of calendar alone leaves a broken connection broken */
    checked.direction = "both";
    change = (store_connection_write_t){.calendar_id_set = true, .calendar_id = NULL};
    seen_t changed = update(&f, &created.id, &checked, &change);
    CHECK_EQ(changed.error, 0);
    CHECK(changed.calendar[0] == 0 && strcmp(changed.status, "broken") == 0 && changed.has_error);
    /* new credentials make it active again and clear its error */
    static const char *const fresh = "{\"refresh_token\":\"1//fresh\"}";
    change = (store_connection_write_t){.credentials = fresh, .credentials_length = strlen(fresh)};
    changed = update(&f, &created.id, &checked, &change);
    CHECK_EQ(changed.error, 0);
    CHECK(strcmp(changed.status, "active") == 0 && !changed.has_error);
    CHECK(strcmp(credentials(&f, &f.key, &f.org, &created.id).plain, fresh) == 0);
    change = (store_connection_write_t){.status = "paused"};
    CHECK(strcmp(update(&f, &created.id, &checked, &change).status, "paused") == 0);
    CHECK_EQ(update(&f, &f.unknown, &checked, &change).error, STORE_ENOTFOUND);
    pool_fixture_close(&f.pool);
}

TEST(typed_connections_delete_takes_its_busy_events_away)
{
    fixture_t f;
    open_fixture(&f);
    store_connection_write_t write = google_write();
    seen_t created = insert(&f, &f.org, &write);
    CHECK_EQ(created.error, 0);
    char sql[512], id_text[37];
    codec_format_uuid(&created.id, id_text);
    snprintf(sql, sizeof(sql),
             "INSERT INTO external_busy_events (organization_id, connection_id, resource_id, "
             "external_id, starts_at, ends_at, busy) VALUES ('" ORG "', '%s', '" RESOURCE
             "', 'a', '2030-01-01 10:00Z', '2030-01-01 11:00Z', true), ('" ORG "', '%s', "
             "'" RESOURCE "', 'b', '2030-01-01 12:00Z', '2030-01-01 13:00Z', false)",
             id_text, id_text);
    test_db_exec(f.pool.db, sql);
    CHECK_EQ(get(&f, &f.org, &created.id).busy_events, 1); /* busy ones only */
    seen_t foreign = {0}, deleted = {0}, again = {0};
    CHECK(store_connections_delete(f.pool.pool, &f.other, &created.id, on_deleted, &foreign) !=
          NULL);
    wait_for(&f, &foreign);
    CHECK_EQ(foreign.error, STORE_ENOTFOUND);
    CHECK(store_connections_delete(f.pool.pool, &f.org, &created.id, on_deleted, &deleted) != NULL);
    wait_for(&f, &deleted);
    CHECK_EQ(deleted.error, 0);
    CHECK(memcmp(&deleted.resource, &f.resource, sizeof(f.resource)) == 0);
    CHECK(strcmp(test_db_value(f.pool.db, "SELECT count(*) FROM external_busy_events"), "0") == 0);
    CHECK(strcmp(test_db_value(f.pool.db, "SELECT count(*) FROM calendar_connections "
                                          "WHERE deleted_at IS NOT NULL"),
                 "1") == 0);
    CHECK(store_connections_delete(f.pool.pool, &f.org, &created.id, on_deleted, &again) != NULL);
    wait_for(&f, &again);
    CHECK_EQ(again.error, STORE_ENOTFOUND);
    CHECK_EQ(get(&f, &f.org, &created.id).error, STORE_ENOTFOUND);
    CHECK_EQ(credentials(&f, &f.key, &f.org, &created.id).error, STORE_ENOTFOUND);
    pool_fixture_close(&f.pool);
}

/* Cancelled before its first statement ran: its callback never runs, nothing is written, its
 * copy of the credentials is freed (the sanitizer build says so), and the next insert works. */
TEST(typed_connections_insert_cancelled_never_calls_back)
{
    fixture_t f;
    open_fixture(&f);
    store_connection_write_t write = google_write();
    seen_t seen = {0};
    store_operation_t *operation = store_connections_insert(
        f.pool.pool, &f.key, &f.org, &f.resource, &write, on_connection, &seen);
    CHECK(operation != NULL);
    store_operation_cancel(operation);
    test_loop_run_for(&f.pool.loop, 300);
    CHECK_EQ(seen.calls, 0);
    CHECK(strcmp(test_db_value(f.pool.db, "SELECT count(*) FROM calendar_connections"), "0") == 0);
    seen = insert(&f, &f.org, &write);
    CHECK_EQ(seen.error, 0);
    pool_fixture_close(&f.pool);
}
