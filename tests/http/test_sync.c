/*
 * Calendar sync end to end: slotd serving with its provider URLs pointed at
 * the fake providers (tests/fakes/providers.js), a resource with a Google
 * connection, and the fake's calendar changed as its owner would: the runner
 * pulls, the busy time reaches the slots (through the database and NOTIFY),
 * a sync asked for over HTTP runs at once, a revoked grant breaks the
 * connection and says why, and `slotd sync` makes one pass from the command
 * line. The real clock: the fake's events lie a few days ahead.
 */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api_client.h"
#include "db.h"
#include "fake.h"
#include "slotd/codec.h"
#include "test.h"

#define SECRET_KEY "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

typedef struct {
    api_server_t s;
    fake_t fake;
    char env[8][256];
    const char *envp[9];
    char resource[40], service[40], day[16], ten[40];
} sync_clinic_t;

/* A staff member working around the clock in UTC, a one-hour service, and the server pointed
 * at the fake. `day` is three days from now. */
static void start(sync_clinic_t *c)
{
    fake_start(&c->fake);
    snprintf(c->env[0], sizeof(c->env[0]), "SLOTD_SECRET_KEY=%s", SECRET_KEY);
    snprintf(c->env[1], sizeof(c->env[1]), "SLOTD_GOOGLE_API_URL=%s", c->fake.google_api_url);
    snprintf(c->env[2], sizeof(c->env[2]), "SLOTD_GOOGLE_TOKEN_URL=%s", c->fake.google_token_url);
    snprintf(c->env[3], sizeof(c->env[3]), "SLOTD_GOOGLE_CLIENT_ID=cid");
    snprintf(c->env[4], sizeof(c->env[4]), "SLOTD_GOOGLE_CLIENT_SECRET=cs");
    snprintf(c->env[5], sizeof(c->env[5]), "SLOTD_SYNC_INTERVAL_SECONDS=3600");
    for (int i = 0; i < 6; i++)
        c->envp[i] = c->env[i];
    c->envp[6] = NULL;
    api_start(&c->s, c->envp);
    char body[1024];
    snprintf(body, sizeof(body),
             "{\"kind\":\"staff\",\"name\":\"Dr Nowak\",\"timezone\":\"UTC\",\"working_hours\":{"
             "\"mon\":[[\"00:00\",\"24:00\"]],\"tue\":[[\"00:00\",\"24:00\"]],"
             "\"wed\":[[\"00:00\",\"24:00\"]],\"thu\":[[\"00:00\",\"24:00\"]],"
             "\"fri\":[[\"00:00\",\"24:00\"]],\"sat\":[[\"00:00\",\"24:00\"]],"
             "\"sun\":[[\"00:00\",\"24:00\"]]}}");
    json_t *r = api_expect(&c->s, 201, "POST", "/v1/resources", c->s.admin_key, body);
    snprintf(c->resource, sizeof(c->resource), "%s", api_id(r));
    json_decref(r);
    snprintf(body, sizeof(body),
             "{\"name\":\"Consultation\",\"duration_minutes\":60,\"requirements\":[{"
             "\"resource_ids\":[\"%s\"],\"mode\":\"all\"}]}",
             c->resource);
    r = api_expect(&c->s, 201, "POST", "/v1/services", c->s.admin_key, body);
    snprintf(c->service, sizeof(c->service), "%s", api_id(r));
    json_decref(r);
    time_t day = (time(NULL) / 86400 + 3) * 86400;
    struct tm tm;
    gmtime_r(&day, &tm);
    strftime(c->day, sizeof(c->day), "%Y-%m-%d", &tm);
    snprintf(c->ten, sizeof(c->ten), "%sT10:00:00Z", c->day);
}

/* Whether 10:00 that day is offered. */
static bool ten_offered(sync_clinic_t *c)
{
    char path[256];
    snprintf(path, sizeof(path), "/v1/slots?service_id=%s&from=%s&to=%s&tz=UTC", c->service, c->day,
             c->day);
    json_t *r = api_expect(&c->s, 200, "GET", path, c->s.admin_key, NULL);
    bool offered = false;
    size_t i;
    json_t *slot;
    json_array_foreach(json_object_get(r, "slots"), i, slot)
    {
        offered |= strcmp(json_string_value(json_object_get(slot, "start")), c->ten) == 0;
    }
    json_decref(r);
    return offered;
}

static void wait_offered(sync_clinic_t *c, bool offered)
{
    for (int i = 0; i < 300 && ten_offered(c) != offered; i++)
        usleep(50 * 1000);
    CHECK(ten_offered(c) == offered);
}

static json_t *connection(sync_clinic_t *c, const char *id)
{
    char path[128];
    snprintf(path, sizeof(path), "/v1/calendar-connections/%s", id);
    return api_expect(&c->s, 200, "GET", path, c->s.admin_key, NULL);
}

static void google_event(sync_clinic_t *c, const char *op)
{
    char body[1024];
    snprintf(body, sizeof(body),
             "{\"calendar\":\"nowak@gmail.test\",\"events\":[{\"op\":\"%s\",\"id\":\"dentist01\","
             "\"summary\":\"Private appointment\",\"start\":{\"dateTime\":\"%s\"},"
             "\"end\":{\"dateTime\":\"%sT11:00:00Z\"}}]}",
             op, c->ten, c->day);
    json_decref(fake_call(&c->fake, "POST", "/_fake/google/events", body));
}

static void request_sync(sync_clinic_t *c, const char *id, int status)
{
    char path[128];
    snprintf(path, sizeof(path), "/v1/calendar-connections/%s/sync", id);
    json_decref(api_expect(&c->s, status, "POST", path, c->s.admin_key, "{\"full\":false}"));
}

TEST(sync_a_google_calendar_blocks_slots_and_follows_its_changes)
{
    sync_clinic_t c;
    start(&c);
    CHECK(ten_offered(&c));
    json_t *grant =
        fake_call(&c.fake, "POST", "/_fake/google/grants",
                  "{\"user\":\"nowak@gmail.test\",\"client_id\":\"cid\",\"client_secret\":\"cs\"}");
    char refresh[256], body[512], path[256], id[40];
    snprintf(refresh, sizeof(refresh), "%s",
             json_string_value(json_object_get(grant, "refresh_token")));
    json_decref(grant);
    google_event(&c, "put");
    /* a new connection is pulled at once */
    snprintf(body, sizeof(body),
             "{\"provider\":\"google\",\"credentials\":{\"refresh_token\":\"%s\"}}", refresh);
    snprintf(path, sizeof(path), "/v1/resources/%s/calendar-connections", c.resource);
    json_t *r = api_expect(&c.s, 201, "POST", path, c.s.admin_key, body);
    snprintf(id, sizeof(id), "%s", api_id(r));
    json_decref(r);
    wait_offered(&c, false);
    r = connection(&c, id);
    CHECK(!json_is_null(json_object_get(r, "last_sync_at")));
    CHECK(!json_is_null(json_object_get(r, "last_full_sync_at")));
    CHECK(json_is_null(json_object_get(r, "last_error")));
    CHECK_EQ(json_integer_value(json_object_get(r, "busy_events")), 1);
    json_decref(r);
    /* the busy listing shows where it came from, and its title to admin keys */
    snprintf(path, sizeof(path), "/v1/resources/%s/busy?from=%s&to=%s", c.resource, c.day, c.day);
    r = api_expect(&c.s, 200, "GET", path, c.s.admin_key, NULL);
    json_t *item = json_array_get(json_object_get(r, "items"), 0);
    CHECK(strcmp(json_string_value(json_object_get(item, "source")), "external") == 0);
    CHECK(strcmp(json_string_value(json_object_get(item, "connection_id")), id) == 0);
    CHECK(strcmp(json_string_value(json_object_get(item, "summary")), "Private appointment") == 0);
    json_decref(r);

    /* the owner deletes it; a sync asked for now brings the slot back (incrementally) */
    google_event(&c, "delete");
    request_sync(&c, id, 202);
    wait_offered(&c, true);
    r = connection(&c, id);
    CHECK_EQ(json_integer_value(json_object_get(r, "busy_events")), 0);
    json_decref(r);

    /* the owner revokes slotd's access: the connection is broken and says why */
    snprintf(body, sizeof(body), "{\"provider\":\"google\",\"refresh_token\":\"%s\"}", refresh);
    json_decref(fake_call(&c.fake, "POST", "/_fake/oauth/revoke", body));
    json_decref(fake_call(&c.fake, "POST", "/_fake/oauth/expire-access-tokens", "{}"));
    request_sync(&c, id, 202);
    bool broken = false;
    for (int i = 0; i < 200 && !broken; i++) {
        r = connection(&c, id);
        broken = strcmp(json_string_value(json_object_get(r, "status")), "broken") == 0;
        if (broken)
            CHECK(strstr(json_string_value(json_object_get(r, "last_error")), "invalid_grant"));
        json_decref(r);
        if (!broken)
            usleep(50 * 1000);
    }
    CHECK(broken);
    request_sync(&c, id, 409); /* nothing will pull it until new credentials come */
    request_sync(&c, "00000000-0000-4000-8000-000000000001", 404);
    snprintf(path, sizeof(path), "/v1/calendar-connections/%s/sync", id);
    json_decref(api_expect(&c.s, 400, "POST", path, c.s.admin_key, "{\"fully\":true}"));

    /* new credentials make it active; the command line's pass pulls it in full */
    grant = fake_call(&c.fake, "POST", "/_fake/google/grants",
                      "{\"user\":\"nowak@gmail.test\",\"client_id\":\"cid\",\"client_secret\":"
                      "\"cs\"}");
    snprintf(refresh, sizeof(refresh), "%s",
             json_string_value(json_object_get(grant, "refresh_token")));
    json_decref(grant);
    google_event(&c, "put");
    snprintf(body, sizeof(body), "{\"credentials\":{\"refresh_token\":\"%s\"}}", refresh);
    snprintf(path, sizeof(path), "/v1/calendar-connections/%s", id);
    json_decref(api_expect(&c.s, 200, "PATCH", path, c.s.admin_key, body));
    char args[2048], out[512];
    for (int i = 0; i < 6; i++) /* the command's settings, as the service's */
        putenv(c.env[i]);
    snprintf(args, sizeof(args), "sync --connection %s --full --database-url '%s'", id, c.s.url);
    CHECK_EQ(test_run_slotd(args, out, sizeof(out)), 0);
    CHECK(strstr(out, "\"pulled\":1") != NULL && strstr(out, "\"events\":1") != NULL);
    wait_offered(&c, false);
    api_stop(&c.s);
    fake_stop(&c.fake);
}

TEST(sync_is_for_admin_and_sync_keys_and_a_pushing_connection_is_not_pulled)
{
    sync_clinic_t c;
    start(&c);
    char agent[128], sync_key[128], path[256], id[40];
    api_create_key(&c.s, c.s.organization_id, "agent", agent);
    api_create_key(&c.s, c.s.organization_id, "sync", sync_key);
    snprintf(path, sizeof(path), "/v1/resources/%s/calendar-connections", c.resource);
    json_t *r = api_expect(&c.s, 201, "POST", path, sync_key,
                           "{\"provider\":\"google\",\"direction\":\"push\",\"credentials\":{"
                           "\"refresh_token\":\"r\"}}");
    snprintf(id, sizeof(id), "%s", api_id(r));
    json_decref(r);
    snprintf(path, sizeof(path), "/v1/calendar-connections/%s/sync", id);
    json_decref(api_expect(&c.s, 403, "POST", path, agent, "{}"));
    r = api_expect(&c.s, 409, "POST", path, sync_key, "{}");
    CHECK(strcmp(api_error_code(r), "conflict") == 0);
    json_decref(r);
    api_stop(&c.s);
    fake_stop(&c.fake);
}
