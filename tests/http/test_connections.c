/*
 * Calendar connections over real HTTP: every route and what it answers, every
 * rule a body must keep (the exact field and message), credentials that never
 * come back in any answer, log line or database column as sent, the 503 of a
 * service without secret_key, the roles that may call the routes, tenants
 * kept apart, and the busy time of external calendars: slots go while their
 * events are there and come back when the connection is deleted, on this
 * instance at once and on another one through NOTIFY.
 */
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api_client.h"
#include "db.h"
#include "test.h"

#define SECRET_KEY "SLOTD_SECRET_KEY=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

static const char *const keyed[] = {SECRET_KEY, "SLOTD_NOW=2026-03-27T08:00:00+01:00", NULL};

static const char *text_of(const json_t *object, const char *name)
{
    const char *text = json_string_value(json_object_get(object, name));
    return text ? text : "(not text)";
}

/* A staff member; its connections' path into `path`, its id into `id` (40 bytes). */
static void staff_connections(api_server_t *s, char *path, size_t size, char *id)
{
    json_t *r = api_expect(s, 201, "POST", "/v1/resources", s->admin_key,
                           "{\"kind\":\"staff\",\"name\":\"Anna\",\"working_hours\":{}}");
    snprintf(path, size, "/v1/resources/%s/calendar-connections", api_id(r));
    if (id)
        snprintf(id, 40, "%s", api_id(r));
    json_decref(r);
}

static int connection_count(api_server_t *s, const char *path)
{
    json_t *r = api_expect(s, 200, "GET", path, s->admin_key, NULL);
    int n = (int)json_array_size(json_object_get(r, "items"));
    json_decref(r);
    return n;
}

/* Creates a connection; its path into `path` (128 bytes). */
static void create(api_server_t *s, const char *key, const char *collection, const char *body,
                   char *path)
{
    json_t *r = api_expect(s, 201, "POST", collection, key, body);
    snprintf(path, 128, "/v1/calendar-connections/%s", api_id(r));
    json_decref(r);
}

TEST(connections_every_route_and_what_it_answers)
{
    api_server_t s;
    api_start(&s, keyed);
    char collection[128], resource[40], path[128], query[256];
    staff_connections(&s, collection, sizeof(collection), resource);
    json_t *r = api_expect(&s, 201, "POST", collection, s.admin_key,
                           "{\"provider\":\"google\",\"credentials\":{\"refresh_token\":\"t\"}}");
    /* defaults: both, primary; every field of the API, and nothing of the credentials */
    CHECK_EQ(json_object_size(r), 13);
    CHECK(strcmp(text_of(r, "resource_id"), resource) == 0);
    CHECK(strcmp(text_of(r, "provider"), "google") == 0);
    CHECK(strcmp(text_of(r, "direction"), "both") == 0);
    CHECK(strcmp(text_of(r, "calendar_id"), "primary") == 0);
    CHECK(strcmp(text_of(r, "status"), "active") == 0);
    CHECK(json_is_null(json_object_get(r, "last_sync_at")) &&
          json_is_null(json_object_get(r, "last_full_sync_at")) &&
          json_is_null(json_object_get(r, "last_error")) &&
          json_is_null(json_object_get(r, "calcom")));
    CHECK_EQ(json_integer_value(json_object_get(r, "busy_events")), 0);
    /* in the organization's zone (Warsaw: +01:00 or +02:00, by the season) */
    CHECK(strlen(text_of(r, "created_at")) == 25 &&
          strncmp(text_of(r, "created_at") + 19, "+0", 2) == 0);
    CHECK(json_object_get(r, "credentials") == NULL);
    snprintf(path, sizeof(path), "/v1/calendar-connections/%s", api_id(r));
    json_decref(r);
    /* the others' defaults: microsoft's calendar is the user's default, ics pulls */
    r = api_expect(&s, 201, "POST", collection, s.admin_key,
                   "{\"provider\":\"microsoft\",\"credentials\":{\"refresh_token\":\"t\","
                   "\"client_id\":\"c\",\"client_secret\":\"s\",\"tenant\":\"contoso\"}}");
    CHECK(json_is_null(json_object_get(r, "calendar_id")));
    CHECK(strcmp(text_of(r, "direction"), "both") == 0);
    json_decref(r);
    r = api_expect(
        &s, 201, "POST", collection, s.admin_key,
        "{\"provider\":\"ics\",\"credentials\":{\"url\":\"https://example.com/a.ics\"}}");
    CHECK(strcmp(text_of(r, "direction"), "pull") == 0);
    json_decref(r);
    r = api_expect(&s, 201, "POST", collection, s.admin_key,
                   "{\"provider\":\"calcom\",\"direction\":\"both\",\"calendar_id\":null,"
                   "\"credentials\":{\"api_key\":\"cal_live_x\",\"webhook_secret\":\"w\"},"
                   "\"calcom\":{\"event_type_id\":42}}");
    CHECK_EQ(json_integer_value(json_object_get(json_object_get(r, "calcom"), "event_type_id")),
             42);
    json_decref(r);

    /* GET one, and the list in pages */
    r = api_expect(&s, 200, "GET", path, s.admin_key, NULL);
    CHECK(strcmp(text_of(r, "provider"), "google") == 0);
    json_decref(r);
    CHECK_EQ(connection_count(&s, collection), 4);
    snprintf(query, sizeof(query), "%s?limit=3", collection);
    r = api_expect(&s, 200, "GET", query, s.admin_key, NULL);
    CHECK_EQ(json_array_size(json_object_get(r, "items")), 3);
    snprintf(query, sizeof(query), "%s?limit=3&cursor=%s", collection, text_of(r, "next_cursor"));
    json_decref(r);
    r = api_expect(&s, 200, "GET", query, s.admin_key, NULL);
    CHECK_EQ(json_array_size(json_object_get(r, "items")), 1);
    CHECK(json_is_null(json_object_get(r, "next_cursor")));
    json_decref(r);

    /* PATCH changes only what it sends */
    r = api_expect(&s, 200, "PATCH", path, s.admin_key,
                   "{\"status\":\"paused\",\"calendar_id\":\"team@example.com\"}");
    CHECK(strcmp(text_of(r, "status"), "paused") == 0);
    CHECK(strcmp(text_of(r, "calendar_id"), "team@example.com") == 0);
    CHECK(strcmp(text_of(r, "direction"), "both") == 0);
    json_decref(r);
    r = api_expect(&s, 200, "PATCH", path, s.admin_key, "{\"direction\":\"pull\"}");
    CHECK(strcmp(text_of(r, "status"), "paused") == 0 &&
          strcmp(text_of(r, "direction"), "pull") == 0);
    json_decref(r);
    r = api_expect(&s, 200, "PATCH", path, s.admin_key, "{}");
    CHECK(strcmp(text_of(r, "calendar_id"), "team@example.com") == 0);
    json_decref(r);
    /* a broken connection (the sync's to say) is active again with new credentials */
    char sql[256];
    snprintf(sql, sizeof(sql),
             "UPDATE calendar_connections SET status = 'broken', last_error = 'invalid_grant' "
             "WHERE id = '%s'",
             path + strlen("/v1/calendar-connections/"));
    test_db_exec(s.db, sql);
    r = api_expect(&s, 200, "GET", path, s.admin_key, NULL);
    CHECK(strcmp(text_of(r, "status"), "broken") == 0);
    CHECK(strcmp(text_of(r, "last_error"), "invalid_grant") == 0);
    json_decref(r);
    r = api_expect(&s, 200, "PATCH", path, s.admin_key,
                   "{\"credentials\":{\"refresh_token\":\"new\"}}");
    CHECK(strcmp(text_of(r, "status"), "active") == 0);
    CHECK(json_is_null(json_object_get(r, "last_error")));
    json_decref(r);

    /* DELETE: gone, from the list too */
    json_decref(api_expect(&s, 204, "DELETE", path, s.admin_key, NULL));
    json_decref(api_expect(&s, 404, "GET", path, s.admin_key, NULL));
    json_decref(api_expect(&s, 404, "PATCH", path, s.admin_key, "{\"status\":\"active\"}"));
    json_decref(api_expect(&s, 404, "DELETE", path, s.admin_key, NULL));
    CHECK_EQ(connection_count(&s, collection), 3);
    /* ids that are not ids, or of nothing */
    json_decref(api_expect(&s, 404, "GET", "/v1/calendar-connections/nope", s.admin_key, NULL));
    json_decref(api_expect(&s, 404, "GET",
                           "/v1/resources/00000000-0000-0000-0000-000000000001/"
                           "calendar-connections",
                           s.admin_key, NULL));
    json_decref(api_expect(&s, 404, "POST",
                           "/v1/resources/00000000-0000-0000-0000-000000000001/"
                           "calendar-connections",
                           s.admin_key,
                           "{\"provider\":\"google\",\"credentials\":{\"refresh_token\":\"t\"}}"));
    api_stop(&s);
}

TEST(connections_bodies_are_refused_with_the_apis_messages)
{
    api_server_t s;
    api_start(&s, keyed);
    char collection[128];
    staff_connections(&s, collection, sizeof(collection), NULL);
    struct {
        const char *body, *field, *message;
    } cases[] = {
        {"[]", "body", "Send a JSON object."},
        {"{\"provider\":\"google\",\"status\":\"paused\"}", "status", "Unknown field."},
        {"{\"credentials\":{\"refresh_token\":\"t\"}}", "provider", "provider is required."},
        {"{\"provider\":\"caldav\",\"credentials\":{}}", "provider",
         "provider must be one of google, microsoft, calcom, ics."},
        {"{\"provider\":5,\"credentials\":{}}", "provider",
         "provider must be one of google, microsoft, calcom, ics."},
        {"{\"provider\":\"google\",\"direction\":\"sideways\",\"credentials\":{}}", "direction",
         "direction must be one of pull, push, both."},
        {"{\"provider\":\"google\",\"direction\":null,\"credentials\":{}}", "direction",
         "direction must be one of pull, push, both."},
        {"{\"provider\":\"ics\",\"direction\":\"both\",\"credentials\":{\"url\":\"https://a.b\"}}",
         "direction",
         "direction of an ics connection must be pull: a feed is read, never written."},
        {"{\"provider\":\"ics\",\"calendar_id\":\"x\",\"credentials\":{\"url\":\"https://a.b\"}}",
         "calendar_id", "calendar_id is not used by ics connections; leave it out."},
        {"{\"provider\":\"calcom\",\"direction\":\"pull\",\"calendar_id\":\"x\",\"credentials\":"
         "{\"api_key\":\"k\"}}",
         "calendar_id", "calendar_id is not used by calcom connections; leave it out."},
        {"{\"provider\":\"google\",\"calendar_id\":\"\",\"credentials\":{}}", "calendar_id",
         "calendar_id must be text of 1 to 1024 characters."},
        {"{\"provider\":\"google\",\"calendar_id\":7,\"credentials\":{}}", "calendar_id",
         "calendar_id must be text of 1 to 1024 characters."},
        {"{\"provider\":\"google\"}", "credentials", "credentials is required."},
        {"{\"provider\":\"google\",\"credentials\":\"t\"}", "credentials",
         "credentials must be an object of the provider's credentials."},
        {"{\"provider\":\"google\",\"credentials\":null}", "credentials",
         "credentials must be an object of the provider's credentials."},
        {"{\"provider\":\"google\",\"credentials\":{\"password\":\"p\"}}", "credentials.password",
         "Unknown field."},
        {"{\"provider\":\"google\",\"credentials\":{}}", "credentials.refresh_token",
         "credentials.refresh_token is required."},
        {"{\"provider\":\"google\",\"credentials\":{\"refresh_token\":\"\"}}",
         "credentials.refresh_token",
         "credentials.refresh_token must be text of 1 to 4096 "
         "characters."},
        {"{\"provider\":\"google\",\"credentials\":{\"refresh_token\":\"t\",\"client_id\":1}}",
         "credentials.client_id", "credentials.client_id must be text of 1 to 1024 characters."},
        {"{\"provider\":\"google\",\"credentials\":{\"refresh_token\":\"t\",\"client_secret\":"
         "null}}",
         "credentials.client_secret",
         "credentials.client_secret must be text of 1 to 1024 characters."},
        {"{\"provider\":\"google\",\"credentials\":{\"refresh_token\":\"t\",\"tenant\":\"x\"}}",
         "credentials.tenant", "credentials.tenant is not a credential of google connections."},
        {"{\"provider\":\"microsoft\",\"credentials\":{\"refresh_token\":\"t\",\"tenant\":\"\"}}",
         "credentials.tenant", "credentials.tenant must be text of 1 to 256 characters."},
        {"{\"provider\":\"microsoft\",\"credentials\":{\"api_key\":\"k\"}}", "credentials.api_key",
         "credentials.api_key is not a credential of microsoft connections."},
        {"{\"provider\":\"calcom\",\"direction\":\"pull\",\"credentials\":{}}",
         "credentials.api_key", "credentials.api_key is required."},
        {"{\"provider\":\"calcom\",\"direction\":\"pull\",\"credentials\":{\"api_key\":\"k\","
         "\"webhook_secret\":\"\"}}",
         "credentials.webhook_secret",
         "credentials.webhook_secret must be text of 1 to 1024 characters."},
        {"{\"provider\":\"calcom\",\"direction\":\"pull\",\"credentials\":{\"api_key\":\"k\","
         "\"url\":\"https://a.b\"}}",
         "credentials.url", "credentials.url is not a credential of calcom connections."},
        {"{\"provider\":\"ics\",\"credentials\":{}}", "credentials.url",
         "credentials.url is required."},
        {"{\"provider\":\"ics\",\"credentials\":{\"url\":\"webcal://example.com/a.ics\"}}",
         "credentials.url",
         "credentials.url must be an http:// or https:// URL (a webcal:// feed is served at its "
         "https:// address)."},
        {"{\"provider\":\"ics\",\"credentials\":{\"url\":\"https://exa mple.com/\"}}",
         "credentials.url",
         "credentials.url must be an http:// or https:// URL (a webcal:// feed is served at its "
         "https:// address)."},
        {"{\"provider\":\"ics\",\"credentials\":{\"refresh_token\":\"t\",\"url\":\"https://a.b\"}}",
         "credentials.refresh_token",
         "credentials.refresh_token is not a credential of ics connections."},
        {"{\"provider\":\"google\",\"credentials\":{\"refresh_token\":\"t\"},\"calcom\":{}}",
         "calcom", "calcom is only for calcom connections."},
        {"{\"provider\":\"calcom\",\"credentials\":{\"api_key\":\"k\"},\"calcom\":5}", "calcom",
         "calcom must be an object: {\"event_type_id\": N}."},
        {"{\"provider\":\"calcom\",\"credentials\":{\"api_key\":\"k\"},\"calcom\":null}", "calcom",
         "calcom must be an object: {\"event_type_id\": N}."},
        {"{\"provider\":\"calcom\",\"credentials\":{\"api_key\":\"k\"},\"calcom\":{\"slug\":1}}",
         "calcom.slug", "Unknown field."},
        {"{\"provider\":\"calcom\",\"credentials\":{\"api_key\":\"k\"},\"calcom\":{}}",
         "calcom.event_type_id", "calcom.event_type_id is required."},
        {"{\"provider\":\"calcom\",\"credentials\":{\"api_key\":\"k\"},\"calcom\":"
         "{\"event_type_id\":0}}",
         "calcom.event_type_id",
         "calcom.event_type_id must be a whole number from 1 to 9007199254740991."},
        {"{\"provider\":\"calcom\",\"credentials\":{\"api_key\":\"k\"},\"calcom\":"
         "{\"event_type_id\":\"42\"}}",
         "calcom.event_type_id",
         "calcom.event_type_id must be a whole number from 1 to 9007199254740991."},
        {"{\"provider\":\"calcom\",\"credentials\":{\"api_key\":\"k\"}}", "calcom.event_type_id",
         "calcom.event_type_id is required while a calcom connection pushes (direction push or "
         "both)."},
        {"{\"provider\":\"calcom\",\"direction\":\"push\",\"credentials\":{\"api_key\":\"k\"}}",
         "calcom.event_type_id",
         "calcom.event_type_id is required while a calcom connection pushes (direction push or "
         "both)."},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        api_expect_invalid(&s, "POST", collection, cases[i].body, cases[i].field, cases[i].message);
    CHECK_EQ(connection_count(&s, collection), 0); /* nothing was written */
    CHECK(strcmp(test_db_value(s.db, "SELECT count(*) FROM calendar_connections"), "0") == 0);
    api_stop(&s);
}

TEST(connections_patch_is_checked_against_the_connection)
{
    api_server_t s;
    api_start(&s, keyed);
    char collection[128], ics[128], calcom[128], google[128];
    staff_connections(&s, collection, sizeof(collection), NULL);
    create(&s, s.admin_key, collection,
           "{\"provider\":\"ics\",\"credentials\":{\"url\":\"https://a.b/c.ics\"}}", ics);
    create(&s, s.admin_key, collection,
           "{\"provider\":\"calcom\",\"direction\":\"pull\",\"credentials\":{\"api_key\":\"k\"}}",
           calcom);
    create(&s, s.admin_key, collection,
           "{\"provider\":\"google\",\"credentials\":{\"refresh_token\":\"t\"}}", google);
    struct {
        const char *path, *body, *field, *message;
    } cases[] = {
        {google, "[]", "body", "Send a JSON object."},
        {google, "{\"busy_events\":3}", "busy_events", "Unknown field."},
        {google, "{\"provider\":\"microsoft\"}", "provider",
         "provider cannot be changed: create another connection."},
        {google, "{\"status\":\"broken\"}", "status",
         "status must be active or paused (broken is set by the service when a sync fails)."},
        {google, "{\"status\":null}", "status",
         "status must be active or paused (broken is set by the service when a sync fails)."},
        {google, "{\"direction\":\"none\"}", "direction",
         "direction must be one of pull, push, both."},
        {google, "{\"credentials\":{\"url\":\"https://a.b\"}}", "credentials.url",
         "credentials.url is not a credential of google connections."},
        {google, "{\"credentials\":{}}", "credentials.refresh_token",
         "credentials.refresh_token is required."},
        {google, "{\"credentials\":null}", "credentials",
         "credentials must be an object of the provider's credentials."},
        {google, "{\"calcom\":{\"event_type_id\":1}}", "calcom",
         "calcom is only for calcom connections."},
        {ics, "{\"direction\":\"push\"}", "direction",
         "direction of an ics connection must be pull: a feed is read, never written."},
        {ics, "{\"calendar_id\":\"primary\"}", "calendar_id",
         "calendar_id is not used by ics connections; leave it out."},
        {ics, "{\"credentials\":{\"url\":\"ftp://a.b/c.ics\"}}", "credentials.url",
         "credentials.url must be an http:// or https:// URL (a webcal:// feed is served at its "
         "https:// address)."},
        {calcom, "{\"direction\":\"both\"}", "calcom.event_type_id",
         "calcom.event_type_id is required while a calcom connection pushes (direction push or "
         "both)."},
        {calcom, "{\"calcom\":{\"event_type_id\":-1}}", "calcom.event_type_id",
         "calcom.event_type_id must be a whole number from 1 to 9007199254740991."},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        api_expect_invalid(&s, "PATCH", cases[i].path, cases[i].body, cases[i].field,
                           cases[i].message);
    /* what the rules allow: a calcom connection pushes once it names its event type, and
     * its event type can be cleared only while it pulls */
    json_t *r = api_expect(&s, 200, "PATCH", calcom, s.admin_key,
                           "{\"direction\":\"both\",\"calcom\":{\"event_type_id\":7}}");
    CHECK(strcmp(text_of(r, "direction"), "both") == 0);
    json_decref(r);
    api_expect_invalid(
        &s, "PATCH", calcom, "{\"calcom\":null}", "calcom.event_type_id",
        "calcom.event_type_id is required while a calcom connection pushes (direction "
        "push or both).");
    r = api_expect(&s, 200, "PATCH", calcom, s.admin_key,
                   "{\"direction\":\"pull\",\"calcom\":null}");
    CHECK(json_is_null(json_object_get(json_object_get(r, "calcom"), "event_type_id")));
    json_decref(r);
    r = api_expect(&s, 200, "PATCH", ics, s.admin_key, "{\"calendar_id\":null}");
    CHECK(json_is_null(json_object_get(r, "calendar_id")));
    json_decref(r);
    api_stop(&s);
}

TEST(connections_without_secret_key_are_503_naming_the_setting)
{
    api_server_t s;
    api_start(&s, NULL);
    char collection[128], path[128];
    staff_connections(&s, collection, sizeof(collection), NULL);
    json_t *r = api_expect(&s, 503, "POST", collection, s.admin_key,
                           "{\"provider\":\"google\",\"credentials\":{\"refresh_token\":\"t\"}}");
    CHECK(strcmp(api_error_code(r), "unavailable") == 0);
    json_t *error = json_object_get(r, "error");
    CHECK(strcmp(text_of(json_object_get(error, "details"), "setting"), "secret_key") == 0);
    CHECK(strstr(text_of(error, "message"), "secret_key") != NULL);
    json_decref(r);
    CHECK_EQ(connection_count(&s, collection), 0);
    /* a connection made while the key was set: read and changed, but new credentials wait */
    api_stop(&s);
    api_start(&s, keyed);
    staff_connections(&s, collection, sizeof(collection), NULL);
    create(&s, s.admin_key, collection,
           "{\"provider\":\"google\",\"credentials\":{\"refresh_token\":\"t\"}}", path);
    api_restart(&s, NULL);
    api_wait_ready(&s);
    json_decref(api_expect(&s, 200, "GET", path, s.admin_key, NULL));
    json_decref(api_expect(&s, 200, "PATCH", path, s.admin_key, "{\"status\":\"paused\"}"));
    r = api_expect(&s, 503, "PATCH", path, s.admin_key,
                   "{\"credentials\":{\"refresh_token\":\"t2\"}}");
    CHECK(strcmp(text_of(json_object_get(json_object_get(r, "error"), "details"), "setting"),
                 "secret_key") == 0);
    json_decref(r);
    json_decref(api_expect(&s, 204, "DELETE", path, s.admin_key, NULL));
    api_stop(&s);
}

TEST(connections_secret_key_setting_is_checked_at_start)
{
    char out[4096];
    static const char *const checks[][2] = {
        {"SLOTD_SECRET_KEY=c2hvcnQ=", "SLOTD_SECRET_KEY must be 32 bytes written in base64"},
        {"SLOTD_PUBLIC_URL=slotd.example.com", "SLOTD_PUBLIC_URL must be an http:// or https:// "
                                               "URL with a host"},
        {"SLOTD_GOOGLE_API_URL=ftp://x", "SLOTD_GOOGLE_API_URL must be an http:// or https://"},
        {"SLOTD_SYNC_INTERVAL_SECONDS=0", "SLOTD_SYNC_INTERVAL_SECONDS must be a whole number "
                                          "from 1 to 86400"},
        {"SLOTD_SYNC_NIGHTLY_HOUR=24", "SLOTD_SYNC_NIGHTLY_HOUR must be a whole number from 0 "
                                       "to 23"},
        {"SLOTD_WEBHOOK_RETRY_SCHEDULE=5,,300",
         "SLOTD_WEBHOOK_RETRY_SCHEDULE must be 1 to 20 whole "
         "numbers of seconds"},
        {"SLOTD_WEBHOOK_RETRY_SCHEDULE=5,", "SLOTD_WEBHOOK_RETRY_SCHEDULE must be 1 to 20"},
        {"SLOTD_WEBHOOK_RETRY_SCHEDULE=-1", "SLOTD_WEBHOOK_RETRY_SCHEDULE must be 1 to 20"},
        {"SLOTD_WEBHOOK_ALLOW_PRIVATE=yes", "SLOTD_WEBHOOK_ALLOW_PRIVATE must be true, 1, false or "
                                            "0"},
    };
    for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
        char command[512];
        snprintf(command, sizeof(command), "env %s %s serve --database-url postgresql://x 2>&1",
                 checks[i][0], getenv("SLOTD_BIN"));
        FILE *p = popen(command, "r");
        CHECK(p != NULL);
        size_t n = fread(out, 1, sizeof(out) - 1, p);
        out[n] = 0;
        CHECK_EQ(WEXITSTATUS(pclose(p)), 2);
        if (strstr(out, checks[i][1]) == NULL) {
            fprintf(stderr, "%s: %s\n", checks[i][0], out);
            exit(1);
        }
        CHECK(strstr(out, "c2hvcnQ") == NULL); /* a refused key is named, never shown */
    }
}

TEST(connections_credentials_never_in_any_answer_or_log_line)
{
    static const char *env[] = {SECRET_KEY, "SLOTD_TEST_VERBOSE=1", NULL};
    char log_path[32];
    int saved = api_log_begin(log_path); /* the child inherits this stdout */
    api_server_t s;
    api_start(&s, env);
    api_wait_ready(&s);
    char collection[128], path[128], sync_key[128];
    api_create_key(&s, s.organization_id, "sync", sync_key);
    staff_connections(&s, collection, sizeof(collection), NULL);
    static const char *const bodies[] = {
        "{\"provider\":\"google\",\"credentials\":{\"refresh_token\":\"Sekrit-1\",\"client_id\":"
        "\"Sekrit-2\",\"client_secret\":\"Sekrit-3\"}}",
        "{\"provider\":\"microsoft\",\"credentials\":{\"refresh_token\":\"Sekrit-4\",\"tenant\":"
        "\"Sekrit-5\"}}",
        "{\"provider\":\"calcom\",\"credentials\":{\"api_key\":\"Sekrit-6\",\"webhook_secret\":"
        "\"Sekrit-7\"},\"calcom\":{\"event_type_id\":9}}",
        "{\"provider\":\"ics\",\"credentials\":{\"url\":\"https://example.com/Sekrit-8.ics\"}}",
    };
    json_t *answers = json_array();
    for (size_t i = 0; i < 4; i++) {
        json_t *r =
            api_expect(&s, 201, "POST", collection, i % 2 ? sync_key : s.admin_key, bodies[i]);
        snprintf(path, sizeof(path), "/v1/calendar-connections/%s", api_id(r));
        json_array_append_new(answers, r);
        json_array_append_new(answers, api_expect(&s, 200, "GET", path, sync_key, NULL));
    }
    json_array_append_new(answers, api_expect(&s, 200, "GET", collection, sync_key, NULL));
    json_array_append_new(
        answers, api_expect(&s, 200, "PATCH", path, s.admin_key,
                            "{\"credentials\":{\"url\":\"https://example.com/Sekrit-9.ics\"}}"));
    /* refusals name the field, never echo its value */
    static const char *const refused[] = {
        "{\"provider\":\"google\",\"credentials\":{\"refresh_token\":\"Sekrit-10\",\"tenant\":"
        "\"Sekrit-11\"}}",
        "{\"provider\":\"ics\",\"credentials\":{\"url\":\"webcal://Sekrit-12\"}}",
        "{\"provider\":\"ics\",\"direction\":\"push\",\"credentials\":{\"url\":"
        "\"https://example.com/Sekrit-13.ics\"}}",
    };
    for (size_t i = 0; i < 3; i++)
        json_array_append_new(answers,
                              api_expect(&s, 400, "POST", collection, s.admin_key, refused[i]));
    api_stop(&s);
    int lines = api_log_end(log_path, saved, "Sekrit");

    char *text = json_dumps(answers, 0);
    CHECK(strstr(text, "Sekrit") == NULL);
    free(text);
    json_decref(answers);
    CHECK(lines > 10); /* the requests were logged */
}

TEST(connections_are_for_admin_and_sync_keys_only)
{
    api_server_t s;
    api_start(&s, keyed);
    char collection[128], path[128], agent[128], sync_key[128];
    api_create_key(&s, s.organization_id, "agent", agent);
    api_create_key(&s, s.organization_id, "sync", sync_key);
    staff_connections(&s, collection, sizeof(collection), NULL);
    static const char *const google = "{\"provider\":\"google\",\"credentials\":"
                                      "{\"refresh_token\":\"t\"}}";
    create(&s, sync_key, collection, google, path);
    struct {
        const char *method, *path, *body;
    } routes[] = {{"POST", collection, google},
                  {"GET", collection, NULL},
                  {"GET", path, NULL},
                  {"PATCH", path, "{\"status\":\"paused\"}"},
                  {"DELETE", path, NULL}};
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        json_t *r = api_expect(&s, 403, routes[i].method, routes[i].path, agent, routes[i].body);
        CHECK(strcmp(api_error_code(r), "forbidden") == 0);
        CHECK(strcmp(text_of(json_object_get(json_object_get(r, "error"), "details"), "role"),
                     "agent") == 0);
        json_decref(r);
        json_decref(api_expect(&s, 401, routes[i].method, routes[i].path, NULL, routes[i].body));
    }
    CHECK_EQ(connection_count(&s, collection), 1);
    /* a sync key may do all of it */
    json_decref(api_expect(&s, 200, "GET", collection, sync_key, NULL));
    json_decref(api_expect(&s, 200, "PATCH", path, sync_key, "{\"status\":\"paused\"}"));
    json_decref(api_expect(&s, 204, "DELETE", path, sync_key, NULL));
    /* and a sync key only that: configuration stays the admin's */
    json_decref(api_expect(&s, 403, "GET", "/v1/resources", sync_key, NULL));
    api_stop(&s);
}

TEST(connections_of_another_organization_are_not_found)
{
    api_server_t s;
    api_start(&s, keyed);
    char collection[128], path[128], other_key[128], other_org[40], other_collection[128];
    staff_connections(&s, collection, sizeof(collection), NULL);
    create(&s, s.admin_key, collection,
           "{\"provider\":\"google\",\"credentials\":{\"refresh_token\":\"t\"}}", path);
    api_create_org(&s, "Other", other_key, other_org);
    json_t *r = api_expect(&s, 201, "POST", "/v1/resources", other_key,
                           "{\"kind\":\"staff\",\"name\":\"Ben\",\"working_hours\":{}}");
    snprintf(other_collection, sizeof(other_collection), "/v1/resources/%s/calendar-connections",
             api_id(r));
    json_decref(r);
    /* the other organization's key: the connection and the resource are not there */
    json_decref(api_expect(&s, 404, "GET", path, other_key, NULL));
    json_decref(api_expect(&s, 404, "PATCH", path, other_key, "{\"status\":\"paused\"}"));
    json_decref(api_expect(&s, 404, "DELETE", path, other_key, NULL));
    json_decref(api_expect(&s, 404, "GET", collection, other_key, NULL));
    json_decref(api_expect(&s, 404, "POST", collection, other_key,
                           "{\"provider\":\"ics\",\"credentials\":{\"url\":\"https://a.b\"}}"));
    /* nor the other way round; and nothing changed */
    json_decref(api_expect(&s, 404, "GET", other_collection, s.admin_key, NULL));
    r = api_expect(&s, 200, "GET", path, s.admin_key, NULL);
    CHECK(strcmp(text_of(r, "status"), "active") == 0);
    json_decref(r);
    CHECK_EQ(connection_count(&s, collection), 1);
    api_stop(&s);
}

/* Writes busy events of a connection as a pull would: 09:00-10:00 and 11:00-11:30 of Friday
 * 2026-03-27 in Warsaw, one free event at 10:00, all in one statement. */
static void pull_events(api_server_t *s, const char *connection_path, const char *resource)
{
    char sql[1024];
    const char *id = connection_path + strlen("/v1/calendar-connections/");
    snprintf(sql, sizeof(sql),
             "INSERT INTO external_busy_events (organization_id, connection_id, resource_id, "
             "external_id, starts_at, ends_at, busy, summary) VALUES "
             "('%s', '%s', '%s', 'a', '2026-03-27 09:00+01', '2026-03-27 10:00+01', true, 'x'),"
             "('%s', '%s', '%s', 'b', '2026-03-27 10:00+01', '2026-03-27 11:00+01', false, 'y'),"
             "('%s', '%s', '%s', 'c', '2026-03-27 11:00+01', '2026-03-27 11:30+01', true, 'z')",
             s->organization_id, id, resource, s->organization_id, id, resource, s->organization_id,
             id, resource);
    test_db_exec(s->db, sql);
}

/* GET /v1/resources/{id}/busy lists the busy events (not the free one) as `external`, with
 * their connection, and their titles for admin and sync keys only. */
static void busy_listing_shows_the_events(api_server_t *s, const char *staff,
                                          const char *connection)
{
    char path[256], agent[128], sync_key[128];
    api_create_key(s, s->organization_id, "agent", agent);
    api_create_key(s, s->organization_id, "sync", sync_key);
    snprintf(path, sizeof(path), "/v1/resources/%s/busy?from=2026-03-27&to=2026-03-28", staff);
    const char *const keys[] = {s->admin_key, sync_key, agent};
    for (int k = 0; k < 3; k++) {
        json_t *r = api_expect(s, 200, "GET", path, keys[k], NULL);
        json_t *items = json_object_get(r, "items");
        CHECK_EQ(json_array_size(items), 2);
        static const char *const starts[] = {"2026-03-27T09:00:00+01:00",
                                             "2026-03-27T11:00:00+01:00"};
        static const char *const summaries[] = {"x", "z"};
        for (size_t i = 0; i < 2; i++) {
            json_t *item = json_array_get(items, i);
            CHECK(strcmp(text_of(item, "source"), "external") == 0);
            CHECK(strcmp(text_of(item, "connection_id"), connection) == 0);
            CHECK(strcmp(text_of(item, "start"), starts[i]) == 0);
            if (k < 2)
                CHECK(strcmp(text_of(item, "summary"), summaries[i]) == 0);
            else
                CHECK(json_object_get(item, "summary") == NULL);
        }
        json_decref(r);
    }
}

TEST(connections_external_busy_time_hides_slots_until_deleted_on_every_instance)
{
    api_server_t s, peer;
    api_start(&s, keyed);
    api_wait_ready(&s);
    char staff[40], service[40], slots[256], collection[128], path[128];
    api_create_staff_service(&s, "{\"fri\":[[\"09:00\",\"12:00\"]]}", staff, service);
    snprintf(slots, sizeof(slots), "/v1/slots?service_id=%s&from=2026-03-27&to=2026-03-28",
             service);
    snprintf(collection, sizeof(collection), "/v1/resources/%s/calendar-connections", staff);
    api_start_peer(&peer, &s, keyed);
    api_wait_ready(&peer);
    CHECK(api_slots_become(&s, slots, 3) && api_slots_become(&peer, slots, 3));
    create(&s, s.admin_key, collection,
           "{\"provider\":\"ics\",\"credentials\":{\"url\":\"https://a.b/c.ics\"}}", path);
    pull_events(&s, path, staff);
    /* 09:00 and 11:00 are taken, 10:00 (a free event) is not: on both instances */
    CHECK(api_slots_become(&s, slots, 1) && api_slots_become(&peer, slots, 1));
    json_t *r = api_expect(&s, 200, "GET", slots, s.admin_key, NULL);
    CHECK(strcmp(text_of(json_array_get(json_object_get(r, "slots"), 0), "start"),
                 "2026-03-27T10:00:00+01:00") == 0);
    json_decref(r);
    r = api_expect(&s, 200, "GET", path, s.admin_key, NULL);
    CHECK_EQ(json_integer_value(json_object_get(r, "busy_events")), 2);
    json_decref(r);
    busy_listing_shows_the_events(&s, staff, path + strlen("/v1/calendar-connections/"));
    /* deleting the connection gives the time back: at once here (read your writes), and on the
     * other instance through NOTIFY */
    json_decref(api_expect(&s, 204, "DELETE", path, s.admin_key, NULL));
    CHECK_EQ(api_slot_count(&s, slots), 3);
    CHECK(api_slots_become(&peer, slots, 3));
    CHECK(strcmp(test_db_value(s.db, "SELECT count(*) FROM external_busy_events"), "0") == 0);
    api_stop(&peer);
    api_stop(&s);
}
