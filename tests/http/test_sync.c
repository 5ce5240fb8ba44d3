/*
 * Calendar sync end to end: slotd serving with its provider URLs pointed at
 * the fake providers (tests/fakes/providers.js), a resource with a Google
 * connection, and the fake's calendar changed as its owner would: the runner
 * pulls, the busy time reaches the slots (through the database and NOTIFY),
 * a sync asked for over HTTP runs at once, a revoked grant breaks the
 * connection and says why, and `slotd sync` makes one pass from the command
 * line. The real clock: the fake's events lie a few days ahead.
 */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/hmac.h>

#include "api_client.h"
#include "db.h"
#include "fake.h"
#include "slotd/codec.h"
#include "sync/push.h"
#include "test.h"

#define SECRET_KEY "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

typedef struct {
    api_server_t s;
    fake_t fake;
    char env[12][256];
    const char *envp[13];
    char resource[40], service[40], day[16], ten[40];
} sync_clinic_t;

/* A staff member working around the clock in UTC, a one-hour service, and the server pointed
 * at the fake. `day` is three days from now. */
static void start_with(sync_clinic_t *c, const char *const *extra)
{
    fake_start(&c->fake);
    snprintf(c->env[0], sizeof(c->env[0]), "SLOTD_SECRET_KEY=%s", SECRET_KEY);
    snprintf(c->env[1], sizeof(c->env[1]), "SLOTD_GOOGLE_API_URL=%s", c->fake.google_api_url);
    snprintf(c->env[2], sizeof(c->env[2]), "SLOTD_GOOGLE_TOKEN_URL=%s", c->fake.google_token_url);
    snprintf(c->env[3], sizeof(c->env[3]), "SLOTD_GOOGLE_CLIENT_ID=cid");
    snprintf(c->env[4], sizeof(c->env[4]), "SLOTD_GOOGLE_CLIENT_SECRET=cs");
    snprintf(c->env[5], sizeof(c->env[5]), "SLOTD_SYNC_INTERVAL_SECONDS=3600");
    snprintf(c->env[6], sizeof(c->env[6]), "SLOTD_MICROSOFT_GRAPH_URL=%s",
             c->fake.microsoft_graph_url);
    snprintf(c->env[7], sizeof(c->env[7]), "SLOTD_MICROSOFT_LOGIN_URL=%s",
             c->fake.microsoft_login_url);
    snprintf(c->env[8], sizeof(c->env[8]), "SLOTD_MICROSOFT_CLIENT_ID=app");
    snprintf(c->env[9], sizeof(c->env[9]), "SLOTD_CALCOM_API_URL=%s", c->fake.calcom_api_url);
    int n = 0;
    for (; n < 10; n++)
        c->envp[n] = c->env[n];
    for (int i = 0; extra && extra[i]; i++)
        c->envp[n++] = extra[i];
    c->envp[n] = NULL;
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

static void start(sync_clinic_t *c)
{
    start_with(c, NULL);
}

/* A Google grant of the staff member's calendar in the fake: its credentials' JSON. */
static void google_credentials(sync_clinic_t *c, char *out, size_t size)
{
    json_t *grant =
        fake_call(&c->fake, "POST", "/_fake/google/grants",
                  "{\"user\":\"nowak@gmail.test\",\"client_id\":\"cid\",\"client_secret\":\"cs\"}");
    snprintf(out, size, "{\"refresh_token\":\"%s\"}",
             json_string_value(json_object_get(grant, "refresh_token")));
    json_decref(grant);
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
    char path[256];
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
    char path[256];
    snprintf(path, sizeof(path), "/v1/calendar-connections/%s/sync", id);
    json_decref(api_expect(&c->s, status, "POST", path, c->s.admin_key, "{\"full\":false}"));
}

/* The summary `slotd sync` printed among its log lines. */
static json_t *pass_summary(const char *out)
{
    const char *line = strstr(out, "{\"connections\"");
    CHECK(line != NULL);
    json_t *summary = json_loadb(line, strcspn(line, "\n"), 0, NULL);
    CHECK(json_is_object(summary));
    return summary;
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
    json_t *summary = pass_summary(out);
    CHECK_EQ(json_integer_value(json_object_get(summary, "connections")), 1);
    CHECK_EQ(json_integer_value(json_object_get(summary, "pulled")), 1);
    CHECK_EQ(json_integer_value(json_object_get(summary, "pushed")), 0);
    CHECK_EQ(json_integer_value(json_object_get(summary, "events")), 1);
    CHECK_EQ(json_array_size(json_object_get(summary, "errors")), 0);
    json_decref(summary);
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
    /* another organization's key finds no such connection */
    char other_key[128], other_org[40];
    api_create_org(&c.s, "Other Clinic", other_key, other_org);
    r = api_expect(&c.s, 404, "POST", path, other_key, "{}");
    CHECK(strcmp(api_error_code(r), "not_found") == 0);
    json_decref(r);
    CHECK(strcmp(test_db_value(c.s.db, "SELECT count(*) FROM calendar_connections WHERE "
                                       "sync_requested_at IS NOT NULL"),
                 "0") == 0);
    r = api_expect(&c.s, 409, "POST", path, sync_key, "{}");
    CHECK(strcmp(api_error_code(r), "conflict") == 0);
    json_decref(r);
    api_stop(&c.s);
    fake_stop(&c.fake);
}

/* Connects the resource as `body` asks (201 expected); the connection's id into id. */
static void post_connection(sync_clinic_t *c, const char *body, char *id)
{
    char path[256];
    snprintf(path, sizeof(path), "/v1/resources/%s/calendar-connections", c->resource);
    json_t *r = api_expect(&c->s, 201, "POST", path, c->s.admin_key, body);
    snprintf(id, 40, "%s", api_id(r));
    json_decref(r);
}

/* Books `start` for Anna (`contact`: her "phone" or "email" member, as JSON) as admin; the
 * booking's id into booking_id. */
static void book_anna(sync_clinic_t *c, const char *start, const char *contact, char *booking_id)
{
    char body[1024];
    snprintf(body, sizeof(body),
             "{\"service_id\":\"%s\",\"start\":\"%s\",\"customer\":{\"name\":\"Anna\",%s}}",
             c->service, start, contact);
    json_t *r = api_expect(&c->s, 201, "POST", "/v1/bookings", c->s.admin_key, body);
    snprintf(booking_id, 40, "%s", api_id(r));
    CHECK(json_array_size(json_object_get(r, "external_events")) == 0); /* not pushed yet */
    json_decref(r);
}

#define ANNA_PHONE "\"phone\":\"+48 601 234 567\""
#define ANNA_EMAIL "\"email\":\"anna@example.com\""

/* Connects the resource to `provider` with `credentials` (JSON) for pulls; its id into id. */
static void connect_calendar(sync_clinic_t *c, const char *provider, const char *credentials,
                             char *id)
{
    char body[1024];
    snprintf(body, sizeof(body), "{\"provider\":\"%s\",\"direction\":\"pull\",\"credentials\":%s}",
             provider, credentials);
    post_connection(c, body, id);
}

/* Waits until the fake has delivered a `kind` message that slotd answered `status`. */
static void wait_delivered(sync_clinic_t *c, const char *kind, int status)
{
    char path[128];
    snprintf(path, sizeof(path), "/_fake/deliveries?kind=%s", kind);
    bool seen = false;
    for (int i = 0; i < 300 && !seen; i++) {
        json_t *r = fake_call(&c->fake, "GET", path, NULL);
        size_t k;
        json_t *d;
        json_array_foreach(json_object_get(r, "deliveries"), k, d)
        {
            seen |= json_integer_value(json_object_get(d, "status")) == status;
        }
        json_decref(r);
        if (!seen)
            usleep(50 * 1000);
    }
    CHECK(seen);
}

static const char *const public_url[] = {"SLOTD_PUBLIC_URL={base}", NULL};

TEST(sync_google_watch_notifications_pull_at_once)
{
    sync_clinic_t c;
    start_with(&c, public_url); /* an hour between periodic pulls: only a notification is quick */
    char credentials[512], id[40];
    google_credentials(&c, credentials, sizeof(credentials));
    connect_calendar(&c, "google", credentials, id);
    wait_delivered(&c, "google-sync", 200); /* the channel exists and slotd took its first word */
    google_event(&c, "put");
    wait_offered(&c, false);
    google_event(&c, "delete");
    wait_offered(&c, true);
    api_stop(&c.s);
    fake_stop(&c.fake);
}

/* Connects Bea's Outlook calendar (a subscription is made: slotd answers the handshake), then
 * puts an event at 10:00 that day in it: the fake notifies slotd, which pulls. */
static void connect_bea_and_notify(sync_clinic_t *c, char *id)
{
    json_t *grant = fake_call(&c->fake, "POST", "/_fake/microsoft/grants",
                              "{\"user\":\"bea@outlook.test\",\"client_id\":\"app\"}");
    char credentials[512], body[1024];
    snprintf(credentials, sizeof(credentials), "{\"refresh_token\":\"%s\"}",
             json_string_value(json_object_get(grant, "refresh_token")));
    json_decref(grant);
    connect_calendar(c, "microsoft", credentials, id);
    wait_delivered(c, "graph-validation", 200); /* the handshake: slotd echoed the token */
    snprintf(body, sizeof(body),
             "{\"user\":\"bea@outlook.test\",\"events\":[{\"id\":\"m1\",\"showAs\":\"busy\","
             "\"start\":{\"dateTime\":\"%sT10:00:00\",\"timeZone\":\"UTC\"},\"end\":{\"dateTime\":"
             "\"%sT11:00:00\",\"timeZone\":\"UTC\"}}]}",
             c->day, c->day);
    json_decref(fake_call(&c->fake, "POST", "/_fake/microsoft/events", body));
    wait_delivered(c, "graph-notification", 200);
}

TEST(sync_microsoft_subscription_handshake_and_notifications_pull_at_once)
{
    sync_clinic_t c;
    start_with(&c, public_url);
    char id[40];
    connect_bea_and_notify(&c, id);
    wait_offered(&c, false);
    api_stop(&c.s);
    fake_stop(&c.fake);
}

/* X-Cal-Signature-256 of `body` with `secret`. */
static void calcom_signature(const char *secret, const char *body, char *out)
{
    unsigned char mac[32];
    unsigned int n = 0;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body, strlen(body), mac,
         &n);
    for (unsigned int i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", mac[i]);
}

TEST(sync_webhooks_refuse_what_is_not_proven_and_pull_what_is)
{
    sync_clinic_t c;
    start(&c);
    json_t *r;
    const char *none[] = {"X-Goog-Channel-ID: nope", "X-Goog-Channel-Token: nope",
                          "X-Goog-Resource-State: exists", NULL};
    CHECK_EQ(api_call_headers(&c.s, "POST", "/v1/webhooks/google", NULL, none, NULL, &r), 401);
    json_decref(r);
    CHECK_EQ(api_call(&c.s, "POST", "/v1/webhooks/google", NULL, NULL, &r), 401);
    json_decref(r);
    CHECK_EQ(api_call(&c.s, "POST", "/v1/webhooks/microsoft", NULL,
                      "{\"value\":[{\"subscriptionId\":\"nope\",\"clientState\":\"x\"}]}", &r),
             401);
    json_decref(r);
    /* a Cal.com connection whose webhook signs with its secret */
    json_t *user = fake_call(&c.fake, "POST", "/_fake/calcom/users",
                             "{\"username\":\"dana\",\"email\":\"dana@cal.test\"}");
    char credentials[512], id[40], path[128], signature[80], header[120];
    snprintf(credentials, sizeof(credentials), "{\"api_key\":\"%s\",\"webhook_secret\":\"whsec\"}",
             json_string_value(json_object_get(user, "api_key")));
    json_decref(user);
    connect_calendar(&c, "calcom", credentials, id);
    const char *body = "{\"triggerEvent\":\"BOOKING_CREATED\",\"payload\":{}}";
    snprintf(path, sizeof(path), "/v1/webhooks/calcom/%s", id);
    calcom_signature("wrong", body, signature);
    snprintf(header, sizeof(header), "X-Cal-Signature-256: %s", signature);
    const char *wrong[] = {header, NULL};
    CHECK_EQ(api_call_headers(&c.s, "POST", path, NULL, wrong, body, &r), 401);
    json_decref(r);
    calcom_signature("whsec", body, signature);
    snprintf(header, sizeof(header), "X-Cal-Signature-256: %s", signature);
    const char *right[] = {header, NULL};
    CHECK_EQ(api_call_headers(&c.s, "POST", path, NULL, right, body, &r), 200);
    CHECK(json_is_true(json_object_get(r, "accepted")));
    json_decref(r);
    /* the same signature over another body, or for another connection, proves nothing */
    CHECK_EQ(api_call_headers(&c.s, "POST", path, NULL, right, "{}", &r), 401);
    json_decref(r);
    CHECK_EQ(api_call_headers(&c.s, "POST",
                              "/v1/webhooks/calcom/00000000-0000-4000-8000-000000000001", NULL,
                              right, body, &r),
             401);
    json_decref(r);
    api_stop(&c.s);
    fake_stop(&c.fake);
}

/* The fake's copy of the booking's Google event: its start, or "" (none, or deleted). */
static void pushed_start(sync_clinic_t *c, const char *event_id, char *out, size_t size)
{
    json_t *r = fake_call(&c->fake, "GET", "/_fake/google/events?calendar=nowak@gmail.test", NULL);
    out[0] = 0;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(r, "events"), i, e)
    {
        const char *id = json_string_value(json_object_get(e, "id"));
        const char *status = json_string_value(json_object_get(e, "status"));
        const char *start =
            json_string_value(json_object_get(json_object_get(e, "start"), "dateTime"));
        if (id && strcmp(id, event_id) == 0 && !(status && strcmp(status, "cancelled") == 0) &&
            start)
            snprintf(out, size, "%s", start);
    }
    json_decref(r);
}

/* Waits until the booking's event starts at `start` in the fake's calendar ("": is gone). */
static void wait_pushed(sync_clinic_t *c, const char *event_id, const char *start)
{
    char got[64] = "?";
    for (int i = 0; i < 300; i++) {
        pushed_start(c, event_id, got, sizeof(got));
        int64_t a, b;
        bool same = start[0] == 0 ? got[0] == 0
                                  : got[0] && codec_parse_instant(got, &a) == 0 &&
                                        codec_parse_instant(start, &b) == 0 && a == b;
        if (same)
            return;
        usleep(50 * 1000);
    }
    fprintf(stderr, "event %s starts at \"%s\", expected \"%s\"\n", event_id, got, start);
    exit(1);
}

/* Waits until booking `booking_id` names exactly one event, of connection `connection` at
 * `provider`, and copies its external id to out; or, provider NULL, until it names none. */
static void wait_external_event(sync_clinic_t *c, const char *booking_id, const char *connection,
                                const char *provider, char *out, size_t size)
{
    char path[128];
    snprintf(path, sizeof(path), "/v1/bookings/%s", booking_id);
    bool seen = false;
    out[0] = 0;
    for (int i = 0; i < 300 && !seen; i++) {
        json_t *b = api_expect(&c->s, 200, "GET", path, c->s.admin_key, NULL);
        json_t *events = json_object_get(b, "external_events");
        json_t *e = json_array_get(events, 0);
        CHECK(json_is_array(events));
        if (provider == NULL)
            seen = json_array_size(events) == 0;
        else if (json_array_size(events) == 1) {
            CHECK(strcmp(json_string_value(json_object_get(e, "connection_id")), connection) == 0);
            CHECK(strcmp(json_string_value(json_object_get(e, "provider")), provider) == 0);
            snprintf(out, size, "%s", json_string_value(json_object_get(e, "external_id")));
            seen = out[0] != 0;
        }
        json_decref(b);
        if (!seen)
            usleep(50 * 1000);
    }
    CHECK(seen);
}

TEST(sync_bookings_are_pushed_moved_and_deleted_and_never_come_back_as_busy_time)
{
    sync_clinic_t c;
    start(&c);
    json_t *grant =
        fake_call(&c.fake, "POST", "/_fake/google/grants",
                  "{\"user\":\"nowak@gmail.test\",\"client_id\":\"cid\",\"client_secret\":\"cs\"}");
    char body[1024], path[256], id[40], event_id[41], booking_id[40], eleven[40];
    snprintf(body, sizeof(body),
             "{\"provider\":\"google\",\"direction\":\"both\",\"credentials\":{\"refresh_token\":"
             "\"%s\"}}",
             json_string_value(json_object_get(grant, "refresh_token")));
    json_decref(grant);
    post_connection(&c, body, id);
    book_anna(&c, c.ten, ANNA_PHONE, booking_id);
    eng_id_t booking;
    CHECK(codec_parse_uuid(booking_id, &booking) == 0);
    sync_google_event_id(&booking, event_id);
    wait_pushed(&c, event_id, c.ten);
    char external[64];
    wait_external_event(&c, booking_id, id, "google", external, sizeof(external));
    CHECK(strcmp(external, event_id) == 0);
    /* a pull sees it as slotd's own: once cancelled, the time is free, not foreign busy */
    request_sync(&c, id, 202);
    snprintf(path, sizeof(path), "/v1/bookings/%s/reschedule", booking_id);
    snprintf(eleven, sizeof(eleven), "%sT11:00:00Z", c.day);
    snprintf(body, sizeof(body), "{\"start\":\"%s\"}", eleven);
    json_decref(api_expect(&c.s, 200, "POST", path, c.s.admin_key, body));
    wait_pushed(&c, event_id, eleven);
    wait_offered(&c, true);
    /* a pull finds the pushed event in the calendar and knows it for slotd's own */
    json_t *before = connection(&c, id);
    char synced[64];
    const char *at = json_string_value(json_object_get(before, "last_sync_at"));
    snprintf(synced, sizeof(synced), "%s", at ? at : "");
    json_decref(before);
    sleep(1); /* last_sync_at has whole seconds: the next pull's is later */
    request_sync(&c, id, 202);
    bool pulled = false;
    for (int i = 0; i < 200 && !pulled; i++) {
        json_t *now = connection(&c, id);
        at = json_string_value(json_object_get(now, "last_sync_at"));
        pulled = at && strcmp(at, synced) != 0;
        json_decref(now);
        if (!pulled)
            usleep(50 * 1000);
    }
    CHECK(pulled);
    CHECK(strcmp(test_db_value(c.s.db, "SELECT count(*) FROM external_busy_events"), "0") == 0);
    snprintf(path, sizeof(path), "/v1/bookings/%s/cancel", booking_id);
    json_decref(api_expect(&c.s, 200, "POST", path, c.s.admin_key, "{}"));
    wait_pushed(&c, event_id, "");
    wait_external_event(&c, booking_id, id, NULL, external, sizeof(external));
    /* the booking shows nothing pushed twice: one event ever made */
    CHECK(strcmp(test_db_value(c.s.db, "SELECT count(*) FROM outbox WHERE done_at IS NULL"), "0") ==
          0);
    api_stop(&c.s);
    fake_stop(&c.fake);
}

/* The fake Graph calendar's event of transactionId `transaction`: its start (UTC wall time), or
 * "" when it has none or it was deleted. */
static void graph_pushed(sync_clinic_t *c, const char *transaction, char *out, size_t size)
{
    json_t *r = fake_call(&c->fake, "GET", "/_fake/microsoft/events?user=bea@outlook.test", NULL);
    out[0] = 0;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(r, "events"), i, e)
    {
        const char *t = json_string_value(json_object_get(e, "transactionId"));
        const char *start =
            json_string_value(json_object_get(json_object_get(e, "start"), "dateTime"));
        if (t && strcmp(t, transaction) == 0 && !json_is_true(json_object_get(e, "deleted")) &&
            start)
            snprintf(out, size, "%s", start);
    }
    json_decref(r);
}

TEST(sync_bookings_are_pushed_to_microsoft_and_deleted_once_cancelled)
{
    sync_clinic_t c;
    start(&c);
    json_t *grant = fake_call(&c.fake, "POST", "/_fake/microsoft/grants",
                              "{\"user\":\"bea@outlook.test\",\"client_id\":\"app\"}");
    char body[1024], path[256], booking_id[48], transaction[64], got[64] = "", id[40];
    char external[256];
    snprintf(body, sizeof(body),
             "{\"provider\":\"microsoft\",\"direction\":\"push\",\"credentials\":{"
             "\"refresh_token\":\"%s\"}}",
             json_string_value(json_object_get(grant, "refresh_token")));
    json_decref(grant);
    post_connection(&c, body, id);
    book_anna(&c, c.ten, ANNA_PHONE, booking_id);
    snprintf(transaction, sizeof(transaction), "slotd-%s", booking_id);
    for (int i = 0; i < 300 && got[0] == 0; i++) {
        graph_pushed(&c, transaction, got, sizeof(got));
        if (got[0] == 0)
            usleep(50 * 1000);
    }
    CHECK(strncmp(got, c.ten, 19) == 0); /* "YYYY-MM-DDT10:00:00", in UTC */
    wait_external_event(&c, booking_id, id, "microsoft", external, sizeof(external));
    json_t *events =
        fake_call(&c.fake, "GET", "/_fake/microsoft/events?user=bea@outlook.test", NULL);
    json_t *event = json_array_get(json_object_get(events, "events"), 0);
    CHECK(strcmp(json_string_value(json_object_get(event, "id")), external) == 0); /* Graph's id */
    json_decref(events);
    snprintf(path, sizeof(path), "/v1/bookings/%s/cancel", booking_id);
    json_decref(api_expect(&c.s, 200, "POST", path, c.s.admin_key, "{}"));
    for (int i = 0; i < 300 && got[0] != 0; i++) {
        graph_pushed(&c, transaction, got, sizeof(got));
        if (got[0] != 0)
            usleep(50 * 1000);
    }
    CHECK(got[0] == 0);
    wait_external_event(&c, booking_id, id, NULL, external, sizeof(external));
    api_stop(&c.s);
    fake_stop(&c.fake);
}

/* The busy_events count of connection `id` once a pull after `after` (its last_sync_at, NULL:
 * any) has been written; -1 when none is within about 10 s. *at gets that pull's time. */
static long busy_events_after_pull(sync_clinic_t *c, const char *id, const char *after,
                                   char *at_out, size_t size)
{
    for (int i = 0; i < 200; i++) {
        json_t *r = connection(c, id);
        const char *at = json_string_value(json_object_get(r, "last_sync_at"));
        bool pulled = at && (after == NULL || strcmp(at, after) != 0);
        long n = json_integer_value(json_object_get(r, "busy_events"));
        if (pulled && at_out)
            snprintf(at_out, size, "%s", at);
        json_decref(r);
        if (pulled)
            return n;
        usleep(50 * 1000);
    }
    return -1;
}

/* Makes the fake answer the next Graph delta request with `body` (a JSON object's text). */
static void graph_answers(sync_clinic_t *c, const char *body)
{
    json_t *text = json_string(body);
    char *quoted = json_dumps(text, JSON_ENCODE_ANY);
    char rule[8192];
    snprintf(rule, sizeof(rule),
             "{\"provider\":\"microsoft\",\"path_regex\":\"calendarView/delta\",\"status\":200,"
             "\"raw_body\":%s}",
             quoted);
    free(quoted);
    json_decref(text);
    json_decref(fake_call(&c->fake, "POST", "/_fake/fail", rule));
}

TEST(sync_the_last_appearance_of_an_event_in_one_pull_wins)
{
    sync_clinic_t c;
    start(&c);
    json_t *grant = fake_call(&c.fake, "POST", "/_fake/microsoft/grants",
                              "{\"user\":\"bea@outlook.test\",\"client_id\":\"app\"}");
    char credentials[512], id[40], body[4096], last[64];
    snprintf(credentials, sizeof(credentials), "{\"refresh_token\":\"%s\"}",
             json_string_value(json_object_get(grant, "refresh_token")));
    json_decref(grant);
    /* a full round: busy at 10:00, then removed */
    snprintf(body, sizeof(body),
             "{\"value\":[{\"id\":\"dup1\",\"showAs\":\"busy\",\"subject\":\"x\","
             "\"start\":{\"dateTime\":\"%sT10:00:00\",\"timeZone\":\"UTC\"},"
             "\"end\":{\"dateTime\":\"%sT11:00:00\",\"timeZone\":\"UTC\"}},"
             "{\"id\":\"dup1\",\"@removed\":{\"reason\":\"deleted\"}}],"
             "\"@odata.deltaLink\":\"%s/me/calendarView/delta?$deltatoken=review1\"}",
             c.day, c.day, c.fake.microsoft_graph_url);
    graph_answers(&c, body);
    connect_calendar(&c, "microsoft", credentials, id);
    CHECK_EQ(busy_events_after_pull(&c, id, NULL, last, sizeof(last)), 0);
    /* an incremental round: removed, then busy again */
    snprintf(body, sizeof(body),
             "{\"value\":[{\"id\":\"dup2\",\"@removed\":{\"reason\":\"deleted\"}},"
             "{\"id\":\"dup2\",\"showAs\":\"busy\",\"subject\":\"y\","
             "\"start\":{\"dateTime\":\"%sT10:00:00\",\"timeZone\":\"UTC\"},"
             "\"end\":{\"dateTime\":\"%sT11:00:00\",\"timeZone\":\"UTC\"}}],"
             "\"@odata.deltaLink\":\"%s/me/calendarView/delta?$deltatoken=review2\"}",
             c.day, c.day, c.fake.microsoft_graph_url);
    graph_answers(&c, body);
    sleep(1); /* last_sync_at has whole seconds */
    request_sync(&c, id, 202);
    CHECK_EQ(busy_events_after_pull(&c, id, last, NULL, 0), 1);
    wait_offered(&c, false);
    api_stop(&c.s);
    fake_stop(&c.fake);
}

TEST(sync_a_pull_asked_for_while_one_runs_still_happens)
{
    sync_clinic_t c;
    start(&c);
    char credentials[512], id[40], last[64], second[64];
    google_credentials(&c, credentials, sizeof(credentials));
    connect_calendar(&c, "google", credentials, id);
    CHECK(busy_events_after_pull(&c, id, NULL, last, sizeof(last)) >= 0);
    /* the next listing takes three seconds; a pull is asked for while it runs */
    json_decref(fake_call(&c.fake, "POST", "/_fake/fail",
                          "{\"provider\":\"google\",\"path\":\"/google/calendar/v3\","
                          "\"delay_ms\":3000}"));
    sleep(1);
    request_sync(&c, id, 202);
    /* once that pull is running (claimed; its listing held back by the fake), ask again */
    bool running = false;
    for (int i = 0; i < 200 && !running; i++) {
        running = strcmp(test_db_value(c.s.db, "SELECT sync_claimed_until IS NOT NULL FROM "
                                               "calendar_connections"),
                         "t") == 0;
        if (!running)
            usleep(20 * 1000);
    }
    CHECK(running);
    usleep(200 * 1000);
    request_sync(&c, id, 202);
    CHECK(busy_events_after_pull(&c, id, last, second, sizeof(second)) >= 0);
    /* the asked-for pull comes right after (the interval is an hour) */
    sleep(1);
    CHECK(busy_events_after_pull(&c, id, second, NULL, 0) >= 0);
    api_stop(&c.s);
    fake_stop(&c.fake);
}

TEST(sync_a_deleted_connection_leaves_no_busy_time_behind_even_mid_pull)
{
    sync_clinic_t c;
    start(&c);
    char credentials[512], id[40], path[128];
    google_credentials(&c, credentials, sizeof(credentials));
    google_event(&c, "put");
    connect_calendar(&c, "google", credentials, id);
    wait_offered(&c, false);
    /* a session holds the connection's row as a pull's write does; the deletion waits, and
     * still removes events written meanwhile */
    PGconn *writer = PQconnectdb(c.s.url);
    test_db_exec(writer, "BEGIN");
    char sql[512];
    snprintf(sql, sizeof(sql), "SELECT 1 FROM calendar_connections WHERE id = '%s' FOR UPDATE", id);
    test_db_exec(writer, sql);
    pid_t deleter = fork();
    if (deleter == 0) {
        snprintf(path, sizeof(path), "/v1/calendar-connections/%s", id);
        int status = api_call(&c.s, "DELETE", path, c.s.admin_key, NULL, NULL);
        _exit(status == 204 ? 0 : 1);
    }
    usleep(300 * 1000);
    snprintf(sql, sizeof(sql),
             "INSERT INTO external_busy_events (organization_id, connection_id, resource_id, "
             "external_id, starts_at, ends_at) SELECT organization_id, id, resource_id, 'late1', "
             "'%sT12:00:00Z', '%sT13:00:00Z' FROM calendar_connections WHERE id = '%s'",
             c.day, c.day, id);
    test_db_exec(writer, sql);
    test_db_exec(writer, "COMMIT");
    PQfinish(writer);
    int status = 0;
    waitpid(deleter, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(strcmp(test_db_value(c.s.db, "SELECT count(*) FROM external_busy_events"), "0") == 0);
    wait_offered(&c, true);
    api_stop(&c.s);
    fake_stop(&c.fake);
}

/* Dana's Cal.com account, a one-hour event type, and the resource connected to it for pushes;
 * the connection's id into id. */
static void calcom_push_connection(sync_clinic_t *c, char *id)
{
    json_t *user = fake_call(&c->fake, "POST", "/_fake/calcom/users",
                             "{\"username\":\"dana\",\"email\":\"dana@cal.test\"}");
    json_t *type = fake_call(&c->fake, "POST", "/_fake/calcom/event-types",
                             "{\"user\":\"dana\",\"slug\":\"consultation\",\"length\":60}");
    char body[1024];
    snprintf(body, sizeof(body),
             "{\"provider\":\"calcom\",\"direction\":\"push\",\"credentials\":{\"api_key\":"
             "\"%s\"},\"calcom\":{\"event_type_id\":%lld}}",
             json_string_value(json_object_get(user, "api_key")),
             (long long)json_integer_value(json_object_get(type, "id")));
    json_decref(user);
    json_decref(type);
    post_connection(c, body, id);
}

/* The connection resource connected to Google (nowak's calendar) for pushes; its id into id. */
static void google_push_connection(sync_clinic_t *c, char *id)
{
    char credentials[512], body[1024];
    google_credentials(c, credentials, sizeof(credentials));
    snprintf(body, sizeof(body),
             "{\"provider\":\"google\",\"direction\":\"push\",\"credentials\":%s}", credentials);
    post_connection(c, body, id);
}

/* The fake's next answers to Google event inserts: `answer` (JSON members of a /_fake/fail rule).
 */
static void fail_google_inserts(sync_clinic_t *c, const char *answer)
{
    char rule[512];
    snprintf(rule, sizeof(rule),
             "{\"provider\":\"google\",\"method\":\"POST\",\"path_regex\":\"/events$\",%s}",
             answer);
    json_decref(fake_call(&c->fake, "POST", "/_fake/fail", rule));
}

/* Waits until the fake has had a POST to `provider` whose path holds `part`, then kills slotd
 * (SIGKILL) before it can hear the answer. */
static void kill_once_sent(sync_clinic_t *c, const char *provider, const char *part)
{
    char path[128];
    snprintf(path, sizeof(path), "/_fake/requests?provider=%s&method=POST", provider);
    bool sent = false;
    for (int i = 0; i < 300 && !sent; i++) {
        json_t *q = fake_call(&c->fake, "GET", path, NULL);
        size_t k;
        json_t *e;
        json_array_foreach(json_object_get(q, "requests"), k, e)
        {
            const char *at = json_string_value(json_object_get(e, "path"));
            sent |= at && strstr(at, part) != NULL;
        }
        json_decref(q);
        if (!sent)
            usleep(20 * 1000);
    }
    CHECK(sent);
    kill(c->s.pid, SIGKILL);
    waitpid(c->s.pid, NULL, 0);
}

/* The status of a fake Cal.com booking when it was made for slotd's booking `booking_id`. */
static const char *calcom_status_for(const json_t *b, const char *booking_id)
{
    const char *mark =
        json_string_value(json_object_get(json_object_get(b, "metadata"), "slotd_booking_id"));
    return mark && strcmp(mark, booking_id) == 0 ? json_string_value(json_object_get(b, "status"))
                                                 : NULL;
}

/* The fake Cal.com booking that carries `booking_id`: its status and start ("" when none is
 * accepted), the last one made (a reschedule makes a new one). */
static void calcom_pushed(sync_clinic_t *c, const char *booking_id, char *status, char *start,
                          char *uid)
{
    json_t *r = fake_call(&c->fake, "GET", "/_fake/calcom/bookings?user=dana", NULL);
    status[0] = start[0] = uid[0] = 0;
    size_t i;
    json_t *b;
    json_array_foreach(json_object_get(r, "bookings"), i, b)
    {
        const char *st = calcom_status_for(b, booking_id);
        if (st && (strcmp(st, "accepted") == 0 || status[0] == 0)) {
            snprintf(status, 32, "%s", st);
            snprintf(start, 64, "%s", json_string_value(json_object_get(b, "start")));
            snprintf(uid, 64, "%s", json_string_value(json_object_get(b, "uid")));
        }
    }
    json_decref(r);
}

TEST(sync_bookings_are_pushed_to_calcom_rescheduled_and_cancelled)
{
    sync_clinic_t c;
    start(&c);
    char body[1024], path[256], booking_id[48], status[32], when[64], uid[64], id[40];
    char external[256];
    calcom_push_connection(&c, id);
    book_anna(&c, c.ten, ANNA_EMAIL, booking_id);
    int64_t ten, got;
    CHECK(codec_parse_instant(c.ten, &ten) == 0);
    bool seen = false;
    for (int i = 0; i < 300 && !seen; i++) {
        calcom_pushed(&c, booking_id, status, when, uid);
        seen =
            strcmp(status, "accepted") == 0 && codec_parse_instant(when, &got) == 0 && got == ten;
        if (!seen)
            usleep(50 * 1000);
    }
    CHECK(seen);
    /* moved: rescheduled to the new time */
    snprintf(path, sizeof(path), "/v1/bookings/%s/reschedule", booking_id);
    snprintf(body, sizeof(body), "{\"start\":\"%sT13:00:00Z\"}", c.day);
    json_decref(api_expect(&c.s, 200, "POST", path, c.s.admin_key, body));
    seen = false;
    for (int i = 0; i < 300 && !seen; i++) {
        calcom_pushed(&c, booking_id, status, when, uid);
        seen = strcmp(status, "accepted") == 0 && codec_parse_instant(when, &got) == 0 &&
               got == ten + 3 * 3600;
        if (!seen)
            usleep(50 * 1000);
    }
    CHECK(seen);
    /* a Cal.com booking moves by becoming a new one: the booking names the new uid */
    seen = false;
    for (int i = 0; i < 300 && !seen; i++) {
        wait_external_event(&c, booking_id, id, "calcom", external, sizeof(external));
        seen = strcmp(external, uid) == 0;
        if (!seen)
            usleep(50 * 1000);
    }
    CHECK(seen);
    /* cancelled: no accepted booking of it is left */
    snprintf(path, sizeof(path), "/v1/bookings/%s/cancel", booking_id);
    json_decref(api_expect(&c.s, 200, "POST", path, c.s.admin_key, "{}"));
    seen = false;
    for (int i = 0; i < 300 && !seen; i++) {
        calcom_pushed(&c, booking_id, status, when, uid);
        seen = strcmp(status, "accepted") != 0;
        if (!seen)
            usleep(50 * 1000);
    }
    CHECK(seen);
    wait_external_event(&c, booking_id, id, NULL, external, sizeof(external));
    api_stop(&c.s);
    fake_stop(&c.fake);
}

/* The answers the fake gave to slotd's inserts of Google events: how many were 200 and 409. */
static void google_inserts(sync_clinic_t *c, int *made, int *duplicate)
{
    json_t *r = fake_call(&c->fake, "GET", "/_fake/requests?provider=google&method=POST", NULL);
    *made = *duplicate = 0;
    size_t i;
    json_t *q;
    json_array_foreach(json_object_get(r, "requests"), i, q)
    {
        const char *path = json_string_value(json_object_get(q, "path"));
        json_int_t status = json_integer_value(json_object_get(q, "status"));
        size_t n = path ? strlen(path) : 0;
        if (n < 7 || strcmp(path + n - 7, "/events") != 0)
            continue;
        *made += status == 200;
        *duplicate += status == 409;
    }
    json_decref(r);
}

/* slotd killed while the provider is making the booking's event: the event is made anyway, and
 * the next process (once the dead one's hold on the outbox row has run out) finds it there and
 * records it, without a second event. */
TEST(sync_a_push_cut_short_by_a_crash_is_made_once_by_the_next_process)
{
    sync_clinic_t c;
    start(&c);
    char id[40], booking_id[40], event_id[41], external[64];
    google_push_connection(&c, id);
    fail_google_inserts(&c, "\"delay_ms\":1500");
    book_anna(&c, c.ten, ANNA_PHONE, booking_id);
    eng_id_t booking;
    CHECK(codec_parse_uuid(booking_id, &booking) == 0);
    sync_google_event_id(&booking, event_id);
    /* the insert has reached the provider: slotd dies before it hears the answer */
    kill_once_sent(&c, "google", "/events");
    wait_pushed(&c, event_id, c.ten); /* the provider made it all the same */
    CHECK(strcmp(test_db_value(c.s.db, "SELECT count(*) FROM outbox WHERE done_at IS NULL "
                                       "AND claimed_until > now()"),
                 "1") == 0);
    CHECK(strcmp(test_db_value(c.s.db, "SELECT count(*) FROM booking_external_events"), "0") == 0);
    /* the dead process's hold runs out (a minute; here at once) and another takes the row */
    test_db_exec(c.s.db, "UPDATE outbox SET claimed_until = now() WHERE done_at IS NULL");
    api_restart(&c.s, c.envp);
    api_wait_ready(&c.s);
    wait_external_event(&c, booking_id, id, "google", external, sizeof(external));
    CHECK(strcmp(external, event_id) == 0);
    int made, duplicate;
    google_inserts(&c, &made, &duplicate);
    CHECK_EQ(made, 1);
    CHECK_EQ(duplicate, 1);
    CHECK(strcmp(test_db_value(c.s.db, "SELECT count(*) FROM outbox WHERE done_at IS NULL"), "0") ==
          0);
    api_stop(&c.s);
    fake_stop(&c.fake);
}

/* `slotd sync --full` delivers the pending pushes at once, retries included, each once per
 * pass, and reports what failed. */
TEST(sync_the_command_line_pass_pushes_what_is_pending_and_reports_failures)
{
    sync_clinic_t c;
    start(&c);
    char id[40], booking_id[40], event_id[41], external[64];
    google_push_connection(&c, id);
    /* the service's first attempt fails: the row waits for its retry */
    fail_google_inserts(&c, "\"status\":500");
    book_anna(&c, c.ten, ANNA_PHONE, booking_id);
    for (int i = 0; i < 300; i++) {
        if (strcmp(
                test_db_value(c.s.db, "SELECT count(*) FROM outbox WHERE last_error IS NOT NULL"),
                "1") == 0)
            break;
        usleep(50 * 1000);
    }
    /* the service retries in 30 s: the passes below come first */
    CHECK(strcmp(test_db_value(c.s.db, "SELECT count(*) FROM outbox WHERE done_at IS NULL AND "
                                       "next_attempt_at > now()"),
                 "1") == 0);
    char args[2048], out[2048];
    for (int i = 0; i < 6; i++) /* the command's settings, as the service's */
        putenv(c.env[i]);
    /* without --full the retry is not due yet: nothing to do */
    snprintf(args, sizeof(args), "sync --connection %s --database-url '%s'", id, c.s.url);
    CHECK_EQ(test_run_slotd(args, out, sizeof(out)), 0);
    json_t *summary = pass_summary(out);
    CHECK_EQ(json_integer_value(json_object_get(summary, "pushed")), 0);
    CHECK_EQ(json_integer_value(json_object_get(summary, "connections")), 0);
    json_decref(summary);
    /* with --full it is tried now, and fails once more: reported, exit 1, tried once */
    fail_google_inserts(&c, "\"status\":503");
    snprintf(args, sizeof(args), "sync --full --database-url '%s'", c.s.url);
    CHECK_EQ(test_run_slotd(args, out, sizeof(out)), 1);
    summary = pass_summary(out);
    CHECK_EQ(json_integer_value(json_object_get(summary, "pushed")), 0);
    CHECK_EQ(json_integer_value(json_object_get(summary, "connections")), 1);
    json_t *error = json_array_get(json_object_get(summary, "errors"), 0);
    CHECK_EQ(json_array_size(json_object_get(summary, "errors")), 1);
    CHECK(strcmp(json_string_value(json_object_get(error, "connection_id")), id) == 0);
    CHECK(strcmp(json_string_value(json_object_get(error, "booking_id")), booking_id) == 0);
    CHECK(json_string_value(json_object_get(error, "error"))[0] != 0);
    json_decref(summary);
    /* and again: now the provider takes it, once */
    CHECK_EQ(test_run_slotd(args, out, sizeof(out)), 0);
    summary = pass_summary(out);
    CHECK_EQ(json_integer_value(json_object_get(summary, "pushed")), 1);
    CHECK_EQ(json_array_size(json_object_get(summary, "errors")), 0);
    json_decref(summary);
    eng_id_t booking;
    CHECK(codec_parse_uuid(booking_id, &booking) == 0);
    sync_google_event_id(&booking, event_id);
    wait_external_event(&c, booking_id, id, "google", external, sizeof(external));
    CHECK(strcmp(external, event_id) == 0);
    int made, duplicate;
    google_inserts(&c, &made, &duplicate);
    CHECK_EQ(made, 1);
    api_stop(&c.s);
    fake_stop(&c.fake);
}

/* The most requests to `provider` the fake saw open at once. */
static long most_in_flight(sync_clinic_t *c, const char *provider)
{
    char path[128];
    snprintf(path, sizeof(path), "/_fake/requests?provider=%s", provider);
    json_t *r = fake_call(&c->fake, "GET", path, NULL);
    long most = 0;
    size_t i;
    json_t *q;
    json_array_foreach(json_object_get(r, "requests"), i, q)
    {
        long n = (long)json_integer_value(json_object_get(q, "in_flight"));
        most = n > most ? n : most;
    }
    json_decref(r);
    return most;
}

/* Waits until every one of the connections has been pulled after `after` ("": ever). */
static void wait_all_pulled(sync_clinic_t *c, char ids[][40], int count, const char *after)
{
    int pulled = 0;
    for (int i = 0; i < 400 && pulled < count; i++) {
        pulled = 0;
        for (int k = 0; k < count; k++) {
            json_t *r = connection(c, ids[k]);
            const char *at = json_string_value(json_object_get(r, "last_sync_at"));
            pulled += at && strcmp(at, after) > 0;
            json_decref(r);
        }
        if (pulled < count)
            usleep(50 * 1000);
    }
    CHECK_EQ(pulled, count);
}

/* Pulls of one provider wait for each other beyond sync_provider_concurrency, while another
 * provider's go on; with room, they run side by side. */
TEST(sync_pulls_of_one_provider_keep_to_its_concurrency)
{
    static const char *const one[] = {"SLOTD_SYNC_PROVIDER_CONCURRENCY=1", NULL};
    static const char *const three[] = {"SLOTD_SYNC_PROVIDER_CONCURRENCY=3", NULL};
    sync_clinic_t c;
    start_with(&c, one);
    json_decref(fake_call(&c.fake, "POST", "/_fake/fail",
                          "{\"method\":\"GET\",\"path_regex\":\"/events$|delta$\",\"delay_ms\":300,"
                          "\"count\":null}"));
    char ids[4][40], credentials[512];
    for (int i = 0; i < 3; i++) {
        char body[1024];
        snprintf(body, sizeof(body),
                 "{\"user\":\"staff%d@gmail.test\",\"client_id\":\"cid\",\"client_secret\":\"cs\"}",
                 i);
        json_t *grant = fake_call(&c.fake, "POST", "/_fake/google/grants", body);
        snprintf(credentials, sizeof(credentials), "{\"refresh_token\":\"%s\"}",
                 json_string_value(json_object_get(grant, "refresh_token")));
        json_decref(grant);
        connect_calendar(&c, "google", credentials, ids[i]);
    }
    json_t *grant = fake_call(&c.fake, "POST", "/_fake/microsoft/grants",
                              "{\"user\":\"bea@outlook.test\",\"client_id\":\"app\"}");
    snprintf(credentials, sizeof(credentials), "{\"refresh_token\":\"%s\"}",
             json_string_value(json_object_get(grant, "refresh_token")));
    json_decref(grant);
    connect_calendar(&c, "microsoft", credentials, ids[3]);
    wait_all_pulled(&c, ids, 4, "");
    CHECK_EQ(most_in_flight(&c, "google"), 1);
    CHECK_EQ(most_in_flight(&c, "microsoft"), 1);

    /* room for three: asked for at once, the three Google pulls overlap */
    const char *env[16];
    int n = 0;
    while (c.envp[n] && strcmp(c.envp[n], one[0]) != 0)
        env[n] = c.envp[n], n++;
    env[n++] = three[0];
    env[n] = NULL;
    api_restart(&c.s, env);
    api_wait_ready(&c.s);
    json_decref(fake_call(&c.fake, "DELETE", "/_fake/requests", NULL));
    char after[64] = "";
    for (int i = 0; i < 3; i++) {
        json_t *r = connection(&c, ids[i]);
        const char *at = json_string_value(json_object_get(r, "last_sync_at"));
        if (strcmp(at, after) > 0)
            snprintf(after, sizeof(after), "%s", at);
        json_decref(r);
    }
    sleep(1); /* last_sync_at has whole seconds */
    for (int i = 0; i < 3; i++)
        request_sync(&c, ids[i], 202);
    wait_all_pulled(&c, ids, 3, after);
    CHECK(most_in_flight(&c, "google") >= 2);
    api_stop(&c.s);
    fake_stop(&c.fake);
}

/* A connection's pushes go one at a time, in the order of the bookings' changes. */
TEST(sync_pushes_to_one_connection_go_one_at_a_time)
{
    sync_clinic_t c;
    start(&c);
    char body[1024], id[40], booking_ids[3][40], external[64];
    google_push_connection(&c, id);
    fail_google_inserts(&c, "\"delay_ms\":300,\"count\":null");
    for (int i = 0; i < 3; i++) {
        snprintf(body, sizeof(body),
                 "{\"service_id\":\"%s\",\"start\":\"%sT%02d:00:00Z\",\"customer\":{\"name\":"
                 "\"Anna\",\"phone\":\"+48 601 234 567\"}}",
                 c.service, c.day, 10 + i);
        json_t *r = api_expect(&c.s, 201, "POST", "/v1/bookings", c.s.admin_key, body);
        snprintf(booking_ids[i], sizeof(booking_ids[i]), "%s", api_id(r));
        json_decref(r);
    }
    for (int i = 0; i < 3; i++)
        wait_external_event(&c, booking_ids[i], id, "google", external, sizeof(external));
    CHECK_EQ(most_in_flight(&c, "google"), 1);
    api_stop(&c.s);
    fake_stop(&c.fake);
}

/* The fake's Cal.com bookings of dana's made for slotd's booking `booking_id` and not cancelled. */
static int calcom_live_bookings(sync_clinic_t *c, const char *booking_id)
{
    json_t *r = fake_call(&c->fake, "GET", "/_fake/calcom/bookings?user=dana", NULL);
    int n = 0;
    size_t i;
    json_t *b;
    json_array_foreach(json_object_get(r, "bookings"), i, b)
    {
        const char *st = calcom_status_for(b, booking_id);
        n += st && strcmp(st, "cancelled") != 0;
    }
    json_decref(r);
    return n;
}

/* The same crash with Cal.com, where the booking's uid is Cal.com's: the next process finds the
 * booking the dead one made by its metadata and keeps it, rather than making a second. */
TEST(sync_a_calcom_push_cut_short_by_a_crash_is_found_not_made_twice)
{
    sync_clinic_t c;
    start(&c);
    char id[40], booking_id[40], status[32], when[64], uid[64];
    char external[256];
    calcom_push_connection(&c, id);
    json_decref(
        fake_call(&c.fake, "POST", "/_fake/fail",
                  "{\"provider\":\"calcom\",\"method\":\"POST\",\"path_regex\":\"/bookings$\","
                  "\"delay_ms\":1500}"));
    book_anna(&c, c.ten, ANNA_EMAIL, booking_id);
    kill_once_sent(&c, "calcom", "/bookings");
    for (int i = 0; i < 300 && calcom_live_bookings(&c, booking_id) == 0; i++)
        usleep(20 * 1000);
    CHECK_EQ(calcom_live_bookings(&c, booking_id), 1); /* Cal.com made it all the same */
    test_db_exec(c.s.db, "UPDATE outbox SET claimed_until = now() WHERE done_at IS NULL");
    api_restart(&c.s, c.envp);
    api_wait_ready(&c.s);
    wait_external_event(&c, booking_id, id, "calcom", external, sizeof(external));
    calcom_pushed(&c, booking_id, status, when, uid);
    CHECK(strcmp(external, uid) == 0);
    CHECK_EQ(calcom_live_bookings(&c, booking_id), 1);
    CHECK(strcmp(test_db_value(c.s.db, "SELECT count(*) FROM outbox WHERE done_at IS NULL"), "0") ==
          0);
    api_stop(&c.s);
    fake_stop(&c.fake);
}

/* Waits until connection `id`'s status is `status`; its last error into error. */
static void wait_status(sync_clinic_t *c, const char *id, const char *status, char *error,
                        size_t size)
{
    bool seen = false;
    for (int i = 0; i < 300 && !seen; i++) {
        json_t *r = connection(c, id);
        seen = strcmp(json_string_value(json_object_get(r, "status")), status) == 0;
        const char *e = json_string_value(json_object_get(r, "last_error"));
        snprintf(error, size, "%s", e ? e : "");
        json_decref(r);
        if (!seen)
            usleep(50 * 1000);
    }
    CHECK(seen);
}

TEST(sync_a_push_refused_for_a_revoked_grant_breaks_a_push_only_connection)
{
    sync_clinic_t c;
    start(&c);
    char id[40], booking[40], error[300];
    google_push_connection(&c, id);
    json_decref(fake_call(&c.fake, "POST", "/_fake/oauth/revoke",
                          "{\"provider\":\"google\",\"user\":\"nowak@gmail.test\"}"));
    book_anna(&c, c.ten, ANNA_PHONE, booking);
    wait_status(&c, id, "broken", error, sizeof(error));
    CHECK(error[0] != 0);
    /* new credentials make it active again, and the waiting push goes out */
    char credentials[512], body[700], path[128], event[80];
    google_credentials(&c, credentials, sizeof(credentials));
    snprintf(body, sizeof(body), "{\"credentials\":%s}", credentials);
    snprintf(path, sizeof(path), "/v1/calendar-connections/%s", id);
    json_decref(api_expect(&c.s, 200, "PATCH", path, c.s.admin_key, body));
    wait_external_event(&c, booking, id, "google", event, sizeof(event)); /* not an hour later */
    api_stop(&c.s);
    fake_stop(&c.fake);
}

TEST(sync_asking_for_a_sync_makes_a_backed_off_push_due_now)
{
    sync_clinic_t c;
    start(&c);
    char id[40], booking[40], event[80], credentials[512], body[700];
    google_credentials(&c, credentials, sizeof(credentials));
    snprintf(body, sizeof(body),
             "{\"provider\":\"google\",\"direction\":\"both\",\"credentials\":%s}", credentials);
    post_connection(&c, body, id);
    fail_google_inserts(&c, "\"count\":1,\"status\":503");
    book_anna(&c, c.ten, ANNA_PHONE, booking);
    /* the first attempt failed: the next is 30 s away */
    for (int i = 0; i < 300; i++) {
        json_t *r = fake_call(&c.fake, "GET", "/_fake/fail", NULL);
        json_t *rule = json_array_get(json_object_get(r, "failures"), 0);
        bool used = json_integer_value(json_object_get(rule, "used")) >= 1;
        json_decref(r);
        if (used)
            break;
        usleep(50 * 1000);
    }
    request_sync(&c, id, 202);
    wait_external_event(&c, booking, id, "google", event, sizeof(event)); /* well within 15 s */
    api_stop(&c.s);
    fake_stop(&c.fake);
}

TEST(sync_new_credentials_of_another_account_are_pulled_afresh)
{
    sync_clinic_t c;
    start(&c);
    char credentials[512], id[40], body[1024], path[128];
    google_credentials(&c, credentials, sizeof(credentials));
    connect_calendar(&c, "google", credentials, id);
    wait_offered(&c, true);
    CHECK(busy_events_after_pull(&c, id, NULL, NULL, 0) == 0);
    /* another account, whose primary calendar is busy at 10:00 */
    json_t *grant =
        fake_call(&c.fake, "POST", "/_fake/google/grants",
                  "{\"user\":\"kowal@gmail.test\",\"client_id\":\"cid\",\"client_secret\":\"cs\"}");
    snprintf(body, sizeof(body),
             "{\"calendar\":\"kowal@gmail.test\",\"events\":[{\"op\":\"put\",\"id\":\"k0va1e\","
             "\"start\":{\"dateTime\":\"%s\"},\"end\":{\"dateTime\":\"%sT11:00:00Z\"}}]}",
             c.ten, c.day);
    json_decref(fake_call(&c.fake, "POST", "/_fake/google/events", body));
    snprintf(body, sizeof(body), "{\"credentials\":{\"refresh_token\":\"%s\"}}",
             json_string_value(json_object_get(grant, "refresh_token")));
    json_decref(grant);
    snprintf(path, sizeof(path), "/v1/calendar-connections/%s", id);
    json_decref(api_expect(&c.s, 200, "PATCH", path, c.s.admin_key, body));
    wait_offered(&c, false); /* at once, not after the old account's token expires */
    api_stop(&c.s);
    fake_stop(&c.fake);
}

TEST(sync_a_graph_post_of_several_notifications_acts_on_each_proven_one)
{
    sync_clinic_t c;
    start_with(&c, public_url);
    char id[40];
    connect_bea_and_notify(&c, id);
    /* the fake's own notification, after one that proves nothing, in one POST */
    json_t *d = fake_call(&c.fake, "GET", "/_fake/deliveries?kind=graph-notification", NULL);
    const char *sent = json_string_value(
        json_object_get(json_array_get(json_object_get(d, "deliveries"), 0), "body"));
    json_t *delivered = sent ? json_loads(sent, 0, NULL) : NULL;
    json_t *proven = json_incref(json_array_get(json_object_get(delivered, "value"), 0));
    json_decref(delivered);
    json_decref(d);
    CHECK(json_is_object(proven));
    json_t *batch = json_pack("{s:[{s:s,s:s},o]}", "value", "subscriptionId", "nope", "clientState",
                              "x", proven);
    char *text = json_dumps(batch, JSON_COMPACT);
    json_decref(batch);
    json_t *r;
    CHECK_EQ(api_call(&c.s, "POST", "/v1/webhooks/microsoft", NULL, text, &r), 200);
    CHECK(json_is_true(json_object_get(r, "accepted")));
    json_decref(r);
    free(text);
    /* none proven: 401 */
    CHECK_EQ(api_call(&c.s, "POST", "/v1/webhooks/microsoft", NULL,
                      "{\"value\":[{\"subscriptionId\":\"a\",\"clientState\":\"x\"},{}]}", &r),
             401);
    json_decref(r);
    api_stop(&c.s);
    fake_stop(&c.fake);
}

/* ---- ICS feeds --------------------------------------------------------------------------- */

/* A feed made by the independent generator (tests/ical/generate.mjs, ical-generator) from its
 * calendar data `json`; caller frees. */
static char *generated_feed(const char *json)
{
    char in[] = "/tmp/slotd-feed-in.XXXXXX", out[] = "/tmp/slotd-feed-out.XXXXXX";
    int fd = mkstemp(in), fd_out = mkstemp(out);
    CHECK(fd >= 0 && fd_out >= 0);
    CHECK(write(fd, json, strlen(json)) == (ssize_t)strlen(json));
    close(fd);
    close(fd_out);
    char command[2048];
    snprintf(command, sizeof(command), "node %s/tests/ical/generate.mjs < %s > %s",
             getenv("SLOTD_SOURCE_DIR"), in, out);
    CHECK(system(command) == 0);
    FILE *f = fopen(out, "rb");
    CHECK(f != NULL);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)size + 1);
    CHECK(fread(text, 1, (size_t)size, f) == (size_t)size);
    text[size] = 0;
    fclose(f);
    unlink(in);
    unlink(out);
    return text;
}

static void put_feed(sync_clinic_t *c, const char *name, const char *text)
{
    char path[128];
    snprintf(path, sizeof(path), "/_fake/ics/%s", name);
    json_decref(fake_call(&c->fake, "PUT", path, text));
}

/* An ics connection to the fake's feed `name`; its id into id. */
static void connect_feed(sync_clinic_t *c, const char *name, char *id)
{
    char credentials[512];
    snprintf(credentials, sizeof(credentials), "{\"url\":\"%s/%s?key=s3cret\"}", c->fake.ics_url,
             name);
    connect_calendar(c, "ics", credentials, id);
}

/* Asks for a pull of `id` and waits until it is done: its busy_events then. */
static long pull_feed(sync_clinic_t *c, const char *id)
{
    json_t *before = connection(c, id);
    char at[64];
    const char *was = json_string_value(json_object_get(before, "last_sync_at"));
    snprintf(at, sizeof(at), "%s", was ? was : "");
    json_decref(before);
    sleep(1); /* last_sync_at has whole seconds */
    request_sync(c, id, 202);
    return busy_events_after_pull(c, id, at, NULL, 0);
}

TEST(sync_an_ics_feed_blocks_slots_its_changes_replace_them_and_unchanged_feeds_are_not_read)
{
    sync_clinic_t c;
    start(&c);
    char json[1024], id[40];
    snprintf(json, sizeof(json),
             "{\"prodId\":\"//slotd tests//feed//EN\",\"events\":[{\"id\":\"dentist@example\","
             "\"start\":\"%s\",\"end\":\"%sT11:00:00Z\",\"summary\":\"Dentist\"},"
             "{\"id\":\"free@example\",\"start\":\"%sT12:00:00Z\",\"end\":\"%sT13:00:00Z\","
             "\"transparency\":\"TRANSPARENT\"}]}",
             c.ten, c.day, c.day, c.day);
    char *feed = generated_feed(json);
    put_feed(&c, "nowak", feed);
    free(feed);
    connect_feed(&c, "nowak", id);
    wait_offered(&c, false);
    CHECK_EQ(busy_events_after_pull(&c, id, NULL, NULL, 0), 1);
    /* asked again: a conditional request, answered 304, changes nothing */
    CHECK_EQ(pull_feed(&c, id), 1);
    json_t *r = fake_call(&c.fake, "GET", "/_fake/ics/nowak", NULL);
    CHECK(json_integer_value(json_object_get(r, "not_modified")) >= 1);
    json_decref(r);
    CHECK(!ten_offered(&c));
    json_t *last = connection(&c, id);
    CHECK(json_is_null(json_object_get(last, "last_error")));
    CHECK(json_object_get(last, "credentials") == NULL);
    json_decref(last);
    /* the feed without the event: the time is free again */
    feed = generated_feed("{\"prodId\":\"//slotd tests//feed//EN\",\"events\":[]}");
    put_feed(&c, "nowak", feed);
    free(feed);
    CHECK_EQ(pull_feed(&c, id), 0);
    wait_offered(&c, true);
    api_stop(&c.s);
    fake_stop(&c.fake);
}

TEST(sync_an_ics_series_begun_years_ago_blocks_each_occurrence_in_its_own_zone)
{
    sync_clinic_t c;
    start(&c);
    /* every day at 10:00 in Reykjavik (UTC all year) since 2019, but not on the test day; and
     * a weekly series in Warsaw whose occurrence on the test day (when its weekday) is moved */
    char json[2048], id[40];
    snprintf(json, sizeof(json),
             "{\"prodId\":\"//slotd tests//feed//EN\",\"events\":[{\"id\":\"daily@example\","
             "\"start\":\"2019-01-01T10:00:00\",\"end\":\"2019-01-01T10:30:00\","
             "\"timezone\":\"Atlantic/Reykjavik\",\"repeating\":{\"freq\":\"DAILY\"},"
             "\"summary\":\"Daily\"}]}");
    char *feed = generated_feed(json);
    put_feed(&c, "series", feed);
    free(feed);
    connect_feed(&c, "series", id);
    wait_offered(&c, false);
    /* the busy listing shows its occurrences in the window, as the engine makes them */
    char path[256], expected[64];
    snprintf(path, sizeof(path), "/v1/resources/%s/busy?from=%sT00:00:00Z&to=%sT23:59:59Z&tz=UTC",
             c.resource, c.day, c.day);
    json_t *busy = api_expect(&c.s, 200, "GET", path, c.s.admin_key, NULL);
    json_t *items = json_object_get(busy, "items");
    CHECK_EQ(json_array_size(items), 1);
    json_t *item = json_array_get(items, 0);
    snprintf(expected, sizeof(expected), "%sT10:00:00Z", c.day);
    CHECK(strcmp(json_string_value(json_object_get(item, "start")), expected) == 0);
    CHECK(strcmp(json_string_value(json_object_get(item, "source")), "external") == 0);
    CHECK(strcmp(json_string_value(json_object_get(item, "connection_id")), id) == 0);
    CHECK(strcmp(json_string_value(json_object_get(item, "summary")), "Daily") == 0);
    json_decref(busy);
    /* the same series with the test day left out */
    snprintf(json, sizeof(json),
             "{\"prodId\":\"//slotd tests//feed//EN\",\"events\":[{\"id\":\"daily@example\","
             "\"start\":\"2019-01-01T10:00:00\",\"end\":\"2019-01-01T10:30:00\","
             "\"timezone\":\"Atlantic/Reykjavik\",\"repeating\":{\"freq\":\"DAILY\","
             "\"exclude\":[\"%sT10:00:00\"],\"excludeTimezone\":\"Atlantic/Reykjavik\"}}]}",
             c.day);
    feed = generated_feed(json);
    put_feed(&c, "series", feed);
    free(feed);
    CHECK_EQ(pull_feed(&c, id), 1); /* one series */
    wait_offered(&c, true);
    api_stop(&c.s);
    fake_stop(&c.fake);
}

TEST(sync_a_bad_ics_feed_is_recorded_and_changes_none_of_its_busy_time)
{
    sync_clinic_t c;
    start(&c);
    char json[1024], id[40];
    snprintf(json, sizeof(json),
             "{\"prodId\":\"//slotd tests//feed//EN\",\"events\":[{\"id\":\"dentist@example\","
             "\"start\":\"%s\",\"end\":\"%sT11:00:00Z\"}]}",
             c.ten, c.day);
    char *feed = generated_feed(json);
    put_feed(&c, "bad", feed);
    connect_feed(&c, "bad", id);
    wait_offered(&c, false);
    size_t big = 17u * 1024 * 1024;
    char *huge = malloc(big + 1);
    memset(huge, 'x', big);
    memcpy(huge, feed, strlen(feed) - strlen("END:VCALENDAR\r\n"));
    huge[big] = 0;
    const char *bad[] = {
        "<html><body>Not found</body></html>",
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:20261201T100000Z\r\n",
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART;TZID=Nowhere/Land:"
        "20261201T100000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:20261201T100000Z\r\n"
        "RRULE:FREQ=MONTHLY;BYMONTHDAY=31;BYMONTH=2\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        huge,
    };
    char previous[300] = "";
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        put_feed(&c, "bad", bad[i]);
        request_sync(&c, id, 202);
        bool recorded = false;
        for (int k = 0; k < 300 && !recorded; k++) {
            json_t *r = connection(&c, id);
            const char *error = json_string_value(json_object_get(r, "last_error"));
            recorded = error && strcmp(error, previous) != 0;
            if (recorded) {
                snprintf(previous, sizeof(previous), "%s", error);
                CHECK(strcmp(json_string_value(json_object_get(r, "status")), "active") == 0);
                CHECK_EQ(json_integer_value(json_object_get(r, "busy_events")), 1);
            }
            json_decref(r);
            if (!recorded)
                usleep(50 * 1000);
        }
        if (!recorded) {
            fprintf(stderr, "bad feed %zu left no error of its own\n", i);
            exit(1);
        }
        CHECK(!ten_offered(&c)); /* the event that was there is still there */
    }
    free(huge);
    /* a good feed again clears the error */
    put_feed(&c, "bad", feed);
    free(feed);
    CHECK_EQ(pull_feed(&c, id), 1);
    json_t *r = connection(&c, id);
    CHECK(json_is_null(json_object_get(r, "last_error")));
    json_decref(r);
    api_stop(&c.s);
    fake_stop(&c.fake);
}

/* A feed of `series` weekly series (on other days than the test day's 10:00) and one event at
 * 10:00 of the test day when `with_event`; caller frees. */
static char *large_feed(sync_clinic_t *c, int series, bool with_event)
{
    size_t size = 512 + (size_t)series * 200, at = 0;
    char *text = malloc(size);
    at +=
        (size_t)snprintf(text + at, size - at,
                         "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//slotd tests//large//EN\r\n");
    for (int i = 0; i < series; i++)
        at += (size_t)snprintf(text + at, size - at,
                               "BEGIN:VEVENT\r\nUID:s%d@large\r\nDTSTART:20260105T%02d%02d00Z\r\n"
                               "DURATION:PT1M\r\nRRULE:FREQ=WEEKLY;INTERVAL=%d\r\nEND:VEVENT\r\n",
                               i, 18 + i % 5, i % 60, 1 + i % 3);
    if (with_event)
        at += (size_t)snprintf(
            text + at, size - at,
            "BEGIN:VEVENT\r\nUID:ten@large\r\nDTSTART:%c%c%c%c%c%c%c%cT100000Z\r\n"
            "DURATION:PT1H\r\nEND:VEVENT\r\n",
            c->day[0], c->day[1], c->day[2], c->day[3], c->day[5], c->day[6], c->day[8], c->day[9]);
    snprintf(text + at, size - at, "END:VCALENDAR\r\n");
    return text;
}

TEST(sync_a_large_feed_is_loaded_aside_and_put_in_place_at_once)
{
    /* 3,000 series make the resource's row large enough to be loaded in steps aside */
    sync_clinic_t c;
    start(&c);
    char id[40];
    char *feed = large_feed(&c, 3000, true);
    put_feed(&c, "large", feed);
    free(feed);
    connect_feed(&c, "large", id);
    wait_offered(&c, false);
    CHECK_EQ(busy_events_after_pull(&c, id, NULL, NULL, 0), 3001);
    feed = large_feed(&c, 3000, false);
    put_feed(&c, "large", feed);
    free(feed);
    CHECK_EQ(pull_feed(&c, id), 3000);
    wait_offered(&c, true);
    api_stop(&c.s);
    fake_stop(&c.fake);
}
