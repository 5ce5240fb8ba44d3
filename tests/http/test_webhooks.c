/*
 * Outbound webhooks over real HTTP, on the real clock: the endpoint routes
 * and their rules, tenants kept apart, private addresses refused without
 * webhook_allow_private, and deliveries to a local receiver
 * (tests/webhooks/receiver.js) that verifies each one with the official
 * Standard Webhooks library: a booking's events in order, retries under the
 * same webhook-id, a 410 disabling its endpoint, reminders sent once (moved
 * by a reschedule, none after a cancel), and a dead endpoint that does not
 * slow bookings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api_client.h"
#include "fake.h"
#include "test.h"

#define SECRET_KEY "SLOTD_SECRET_KEY=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

static const char *const allowed[] = {SECRET_KEY, "SLOTD_WEBHOOK_ALLOW_PRIVATE=true",
                                      "SLOTD_WEBHOOK_RETRY_SCHEDULE=1,1", NULL};

#define ALL_DAY                                                                                    \
    "{\"mon\":[[\"00:00\",\"24:00\"]],\"tue\":[[\"00:00\",\"24:00\"]],"                            \
    "\"wed\":[[\"00:00\",\"24:00\"]],\"thu\":[[\"00:00\",\"24:00\"]],"                             \
    "\"fri\":[[\"00:00\",\"24:00\"]],\"sat\":[[\"00:00\",\"24:00\"]],"                             \
    "\"sun\":[[\"00:00\",\"24:00\"]]}"

static const char *text_of(const json_t *object, const char *name)
{
    const char *text = json_string_value(json_object_get(object, name));
    return text ? text : "(not text)";
}

/* ---- the receiver ----------------------------------------------------------------------- */

/* Starts the receiver; its control calls go through fake_call (its base in `r`). */
static void receiver_start(fake_t *r)
{
    memset(r, 0, sizeof(*r));
    json_t *ready = fake_spawn("webhooks/receiver.js", &r->pid);
    snprintf(r->base, sizeof(r->base), "%s", text_of(ready, "base"));
    json_decref(ready);
}

/* Creates an endpoint at the receiver's `path` for `events` (JSON array text), tells the
 * receiver its secret and the statuses to answer first (JSON array text); its id into `id`. */
static void endpoint_at(api_server_t *s, fake_t *r, const char *path, const char *events,
                        const char *statuses, char *id)
{
    char body[1024];
    snprintf(body, sizeof(body), "{\"url\":\"%s%s\",\"events\":%s}", r->base, path, events);
    json_t *e = api_expect(s, 201, "POST", "/v1/webhook-endpoints", s->admin_key, body);
    snprintf(id, 40, "%s", api_id(e));
    snprintf(body, sizeof(body), "{\"path\":\"%s\",\"secret\":\"%s\",\"statuses\":%s}", path,
             text_of(e, "secret"), statuses);
    json_decref(fake_call(r, "POST", "/_control/endpoint", body));
    json_decref(e);
}

/* The deliveries the receiver has at `path` once it has `count` (`seconds` at most). */
static json_t *deliveries_within(fake_t *r, const char *path, size_t count, int seconds)
{
    char query[256];
    snprintf(query, sizeof(query), "/_control/deliveries?path=%s", path);
    for (int i = 0; i < seconds * 10; i++) {
        json_t *d = fake_call(r, "GET", query, NULL);
        if (json_array_size(d) >= count)
            return d;
        json_decref(d);
        usleep(100 * 1000);
    }
    fprintf(stderr, "the receiver never had %zu deliveries at %s\n", count, path);
    exit(1);
}

static json_t *deliveries_become(fake_t *r, const char *path, size_t count)
{
    return deliveries_within(r, path, count, 20);
}

static size_t delivery_count(fake_t *r, const char *path)
{
    char query[256];
    snprintf(query, sizeof(query), "/_control/deliveries?path=%s", path);
    json_t *d = fake_call(r, "GET", query, NULL);
    size_t n = json_array_size(d);
    json_decref(d);
    return n;
}

static const char *type_of(const json_t *delivery)
{
    return text_of(json_object_get(delivery, "body"), "type");
}

/* The endpoint's log of attempts once it has at least `count` (about 5 s at most). */
static json_t *log_becomes(api_server_t *s, const char *endpoint, size_t count)
{
    char path[128];
    snprintf(path, sizeof(path), "/v1/webhook-endpoints/%s/deliveries", endpoint);
    json_t *log = NULL;
    for (int i = 0; i < 50; i++) {
        json_decref(log);
        log = api_expect(s, 200, "GET", path, s->admin_key, NULL);
        if (json_array_size(json_object_get(log, "items")) >= count)
            break;
        usleep(100 * 1000);
    }
    return log;
}

/* ---- a clinic on the real clock --------------------------------------------------------- */

typedef struct {
    api_server_t s;
    char staff[40], service[40];
} clinic_t;

static void clinic_start(clinic_t *c, const char *const *env)
{
    api_start(&c->s, env);
    json_t *r = api_expect(&c->s, 201, "POST", "/v1/resources", c->s.admin_key,
                           "{\"kind\":\"staff\",\"name\":\"Anna\",\"working_hours\":" ALL_DAY "}");
    snprintf(c->staff, sizeof(c->staff), "%s", api_id(r));
    json_decref(r);
    char body[512];
    snprintf(body, sizeof(body),
             "{\"name\":\"Cleaning\",\"duration_minutes\":60,\"requirements\":[{\"resource_ids\":"
             "[\"%s\"],\"mode\":\"any\"}]}",
             c->staff);
    r = api_expect(&c->s, 201, "POST", "/v1/services", c->s.admin_key, body);
    snprintf(c->service, sizeof(c->service), "%s", api_id(r));
    json_decref(r);
}

/* `at` as RFC 3339 UTC into `text` (32 bytes). */
static void utc(time_t at, char *text)
{
    struct tm tm;
    gmtime_r(&at, &tm);
    strftime(text, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Books the hour starting `hours` full hours from now; the booking's id into `id`. */
static void book(clinic_t *c, int hours, char *id)
{
    char start[32], body[1024];
    utc((time(NULL) / 3600 + hours) * 3600, start);
    snprintf(body, sizeof(body),
             "{\"service_id\":\"%s\",\"start\":\"%s\",\"customer\":{\"name\":\"Ewa Nowak\","
             "\"phone\":\"+48 601 234 567\"}}",
             c->service, start);
    json_t *r = api_expect(&c->s, 201, "POST", "/v1/bookings", c->s.admin_key, body);
    snprintf(id, 40, "%s", api_id(r));
    json_decref(r);
}

/* ---- the routes ------------------------------------------------------------------------- */

TEST(webhooks_endpoint_routes_and_what_they_answer)
{
    api_server_t s;
    api_start(&s, allowed);
    json_t *r = api_expect(&s, 201, "POST", "/v1/webhook-endpoints", s.admin_key,
                           "{\"url\":\"https://hooks.example.com/slotd\",\"events\":"
                           "[\"booking.created\",\"booking.cancelled\"],\"description\":\"CRM\"}");
    const char *secret = text_of(r, "secret");
    CHECK(strncmp(secret, "whsec_", 6) == 0 && strlen(secret) == 6 + 32);
    CHECK(strcmp(text_of(r, "url"), "https://hooks.example.com/slotd") == 0);
    CHECK(strcmp(text_of(r, "status"), "active") == 0);
    CHECK(strcmp(text_of(r, "description"), "CRM") == 0);
    CHECK_EQ(json_array_size(json_object_get(r, "events")), 2);
    char path[128], id[40];
    snprintf(id, sizeof(id), "%s", api_id(r));
    snprintf(path, sizeof(path), "/v1/webhook-endpoints/%s", id);
    json_decref(r);
    /* the secret is shown only once */
    r = api_expect(&s, 200, "GET", path, s.admin_key, NULL);
    CHECK(json_object_get(r, "secret") == NULL);
    CHECK(strcmp(api_id(r), id) == 0);
    json_decref(r);
    r = api_expect(&s, 200, "GET", "/v1/webhook-endpoints", s.admin_key, NULL);
    CHECK_EQ(json_array_size(json_object_get(r, "items")), 1);
    CHECK(json_is_null(json_object_get(r, "next_cursor")));
    CHECK(json_object_get(json_array_get(json_object_get(r, "items"), 0), "secret") == NULL);
    json_decref(r);
    r = api_expect(&s, 200, "PATCH", path, s.admin_key,
                   "{\"status\":\"disabled\",\"description\":null,\"events\":[\"booking."
                   "reminder\"]}");
    CHECK(strcmp(text_of(r, "status"), "disabled") == 0);
    CHECK(json_is_null(json_object_get(r, "description")));
    CHECK(strcmp(json_string_value(json_array_get(json_object_get(r, "events"), 0)),
                 "booking.reminder") == 0);
    json_decref(r);
    char deliveries[160];
    snprintf(deliveries, sizeof(deliveries), "%s/deliveries", path);
    r = api_expect(&s, 200, "GET", deliveries, s.admin_key, NULL);
    CHECK_EQ(json_array_size(json_object_get(r, "items")), 0);
    json_decref(r);
    /* another organization's admin sees none of it */
    char other[128], other_org[40];
    api_create_org(&s, "Other", other, other_org);
    json_decref(api_expect(&s, 404, "GET", path, other, NULL));
    json_decref(api_expect(&s, 404, "PATCH", path, other, "{\"status\":\"active\"}"));
    json_decref(api_expect(&s, 404, "GET", deliveries, other, NULL));
    json_decref(api_expect(&s, 404, "DELETE", path, other, NULL));
    r = api_expect(&s, 200, "GET", "/v1/webhook-endpoints", other, NULL);
    CHECK_EQ(json_array_size(json_object_get(r, "items")), 0);
    json_decref(r);
    /* an agent key may not manage them */
    char agent[128];
    api_create_key(&s, s.organization_id, "agent", agent);
    json_decref(api_expect(&s, 403, "GET", "/v1/webhook-endpoints", agent, NULL));
    /* deleted: gone from every route */
    json_decref(api_expect(&s, 204, "DELETE", path, s.admin_key, NULL));
    json_decref(api_expect(&s, 404, "GET", path, s.admin_key, NULL));
    json_decref(api_expect(&s, 404, "DELETE", path, s.admin_key, NULL));
    r = api_expect(&s, 200, "GET", "/v1/webhook-endpoints", s.admin_key, NULL);
    CHECK_EQ(json_array_size(json_object_get(r, "items")), 0);
    json_decref(r);
    api_stop(&s);
}

TEST(webhooks_endpoint_bodies_are_checked)
{
    api_server_t s;
    api_start(&s, allowed);
    const char *path = "/v1/webhook-endpoints";
    api_expect_invalid(&s, "POST", path, "{\"events\":[\"booking.created\"]}", "url",
                       "url is required.");
    api_expect_invalid(&s, "POST", path,
                       "{\"url\":\"ftp://example.com/x\",\"events\":[\"booking.created\"]}", "url",
                       "url must be an http:// or https:// URL with a host, of 10 to 2048 "
                       "characters.");
    api_expect_invalid(&s, "POST", path, "{\"url\":\"https://example.com/x\"}", "events",
                       "events is required.");
    api_expect_invalid(&s, "POST", path,
                       "{\"url\":\"https://example.com/x\",\"events\":[\"booking.deleted\"]}",
                       "events", "events[0] is not an event slotd sends.");
    api_expect_invalid(&s, "POST", path,
                       "{\"url\":\"https://example.com/x\",\"events\":[\"booking.created\","
                       "\"booking.created\"]}",
                       "events", "events[1] is listed twice.");
    api_expect_invalid(&s, "POST", path, "{\"url\":\"https://example.com/x\",\"events\":[]}",
                       "events",
                       "events must be a list of 1 to 6 event names: booking.created, "
                       "booking.rescheduled, booking.cancelled, booking.updated, "
                       "booking.reminder, calendar_connection.broken.");
    api_expect_invalid(&s, "POST", path,
                       "{\"url\":\"https://example.com/x\",\"events\":[\"booking.created\"],"
                       "\"status\":\"active\"}",
                       "status", "Unknown field.");
    api_stop(&s);
}

TEST(webhooks_private_addresses_need_the_setting_and_secrets_the_key)
{
    static const char *const keyed[] = {SECRET_KEY, NULL};
    api_server_t s;
    api_start(&s, keyed);
    const char *message = "url resolves to a loopback, link-local or private address; webhooks "
                          "go only to public addresses (unless webhook_allow_private is set).";
    static const char *const urls[] = {"http://127.0.0.1:9/hook", "http://localhost:9/hook",
                                       "http://10.1.2.3/hook",    "http://[::1]:9/hook",
                                       "http://169.254.169.254/", "http://192.168.0.1/x"};
    for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        char body[256];
        snprintf(body, sizeof(body), "{\"url\":\"%s\",\"events\":[\"booking.created\"]}", urls[i]);
        api_expect_invalid(&s, "POST", "/v1/webhook-endpoints", body, "url", message);
    }
    /* a public address is taken (nothing is sent to it: no event happens), and a PATCH to a
     * private one is refused as well */
    json_t *e =
        api_expect(&s, 201, "POST", "/v1/webhook-endpoints", s.admin_key,
                   "{\"url\":\"http://203.0.113.10/hook\",\"events\":[\"booking.created\"]}");
    char path[128];
    snprintf(path, sizeof(path), "/v1/webhook-endpoints/%s", api_id(e));
    json_decref(e);
    api_expect_invalid(&s, "PATCH", path, "{\"url\":\"http://127.0.0.2/hook\"}", "url", message);
    json_decref(api_expect(&s, 204, "DELETE", path, s.admin_key, NULL));
    api_stop(&s);
    /* without secret_key: 503 naming the setting */
    static const char *const unkeyed[] = {"SLOTD_WEBHOOK_ALLOW_PRIVATE=1", NULL};
    api_start(&s, unkeyed);
    json_t *r =
        api_expect(&s, 503, "POST", "/v1/webhook-endpoints", s.admin_key,
                   "{\"url\":\"http://127.0.0.1:9/hook\",\"events\":[\"booking.created\"]}");
    CHECK(strcmp(api_error_code(r), "unavailable") == 0);
    json_decref(r);
    api_stop(&s);
}

/* ---- deliveries ------------------------------------------------------------------------- */

TEST(webhooks_booking_events_arrive_signed_and_in_order)
{
    fake_t r;
    receiver_start(&r);
    clinic_t c;
    clinic_start(&c, allowed);
    char endpoint[40], booking[40], path[128];
    endpoint_at(&c.s, &r, "/hooks/crm",
                "[\"booking.created\",\"booking.cancelled\",\"booking.updated\","
                "\"booking.rescheduled\"]",
                "[]", endpoint);
    book(&c, 30, booking);
    snprintf(path, sizeof(path), "/v1/bookings/%s", booking);
    json_decref(api_expect(&c.s, 200, "PATCH", path, c.s.admin_key, "{\"notes\":\"gate code 7\"}"));
    char later[32], move[128];
    utc((time(NULL) / 3600 + 31) * 3600, later);
    snprintf(path, sizeof(path), "/v1/bookings/%s/reschedule", booking);
    snprintf(move, sizeof(move), "{\"start\":\"%s\"}", later);
    json_decref(api_expect(&c.s, 200, "POST", path, c.s.admin_key, move));
    snprintf(path, sizeof(path), "/v1/bookings/%s/cancel", booking);
    json_decref(api_expect(&c.s, 200, "POST", path, c.s.admin_key, "{}"));
    json_t *d = deliveries_become(&r, "/hooks/crm", 4);
    CHECK_EQ(json_array_size(d), 4);
    static const char *const order[] = {"booking.created", "booking.updated", "booking.rescheduled",
                                        "booking.cancelled"};
    for (size_t i = 0; i < 4; i++) {
        json_t *one = json_array_get(d, i);
        CHECK(json_is_true(json_object_get(one, "verified")));
        CHECK(strcmp(type_of(one), order[i]) == 0);
        json_t *body = json_object_get(one, "body");
        CHECK(strcmp(text_of(json_object_get(body, "data"), "id"), booking) == 0);
        CHECK(strlen(text_of(body, "timestamp")) == 20);
        CHECK(strncmp(text_of(one, "id"), "msg_", 4) == 0);
    }
    CHECK(strcmp(text_of(json_object_get(json_object_get(json_array_get(d, 1), "body"), "data"),
                         "notes"),
                 "gate code 7") == 0);
    /* the move's start, an hour after the first (in the organization's zone) */
    CHECK(strcmp(text_of(json_object_get(json_object_get(json_array_get(d, 2), "body"), "data"),
                         "start"),
                 text_of(json_object_get(json_object_get(json_array_get(d, 0), "body"), "data"),
                         "start")) != 0);
    CHECK(strcmp(text_of(json_object_get(json_object_get(json_array_get(d, 3), "body"), "data"),
                         "status"),
                 "cancelled") == 0);
    json_decref(d);
    /* the log of attempts, newest first */
    snprintf(path, sizeof(path), "/v1/webhook-endpoints/%s/deliveries?limit=2", endpoint);
    json_t *log = api_expect(&c.s, 200, "GET", path, c.s.admin_key, NULL);
    json_t *items = json_object_get(log, "items");
    CHECK_EQ(json_array_size(items), 2);
    CHECK(strcmp(text_of(json_array_get(items, 0), "type"), "booking.cancelled") == 0);
    CHECK_EQ(json_integer_value(json_object_get(json_array_get(items, 0), "status_code")), 200);
    CHECK(json_is_string(json_object_get(log, "next_cursor")));
    char next[256];
    snprintf(next, sizeof(next), "%s&cursor=%s", path, text_of(log, "next_cursor"));
    json_decref(log);
    log = api_expect(&c.s, 200, "GET", next, c.s.admin_key, NULL);
    CHECK_EQ(json_array_size(json_object_get(log, "items")), 2);
    CHECK(strcmp(text_of(json_array_get(json_object_get(log, "items"), 1), "type"),
                 "booking.created") == 0);
    CHECK(json_is_null(json_object_get(log, "next_cursor")));
    json_decref(log);
    api_stop(&c.s);
    fake_stop(&r);
}

TEST(webhooks_retry_with_the_same_id_and_gone_disables)
{
    fake_t r;
    receiver_start(&r);
    clinic_t c;
    clinic_start(&c, allowed);
    char flaky[40], gone[40], booking[40], path[128];
    endpoint_at(&c.s, &r, "/flaky", "[\"booking.created\"]", "[500,500]", flaky);
    endpoint_at(&c.s, &r, "/gone", "[\"booking.created\"]", "[410]", gone);
    book(&c, 30, booking);
    json_t *d = deliveries_become(&r, "/flaky", 3);
    CHECK_EQ(json_array_size(d), 3);
    for (size_t i = 0; i < 3; i++) {
        CHECK(json_is_true(json_object_get(json_array_get(d, i), "verified")));
        CHECK(strcmp(text_of(json_array_get(d, i), "id"), text_of(json_array_get(d, 0), "id")) ==
              0);
        CHECK_EQ(json_integer_value(json_object_get(json_array_get(d, i), "status")),
                 i < 2 ? 500 : 200);
    }
    json_decref(d);
    snprintf(path, sizeof(path), "/v1/webhook-endpoints/%s/deliveries", flaky);
    json_t *log = api_expect(&c.s, 200, "GET", path, c.s.admin_key, NULL);
    CHECK_EQ(json_array_size(json_object_get(log, "items")), 3);
    CHECK_EQ(json_integer_value(
                 json_object_get(json_array_get(json_object_get(log, "items"), 2), "status_code")),
             500);
    json_decref(log);
    /* 410: the endpoint is disabled and gets nothing more */
    json_decref(deliveries_become(&r, "/gone", 1));
    snprintf(path, sizeof(path), "/v1/webhook-endpoints/%s", gone);
    json_t *e = NULL;
    for (int i = 0; i < 50; i++) {
        json_decref(e);
        e = api_expect(&c.s, 200, "GET", path, c.s.admin_key, NULL);
        if (strcmp(text_of(e, "status"), "disabled") == 0)
            break;
        usleep(100 * 1000);
    }
    CHECK(strcmp(text_of(e, "status"), "disabled") == 0);
    json_decref(e);
    book(&c, 32, booking);
    json_decref(deliveries_become(&r, "/flaky", 4));
    sleep(1);
    CHECK_EQ(delivery_count(&r, "/gone"), 1);
    api_stop(&c.s);
    fake_stop(&r);
}

/* A message retried holds its endpoint's later ones back; once the schedule is over it is given
 * up and the next one goes. */
TEST(webhooks_a_message_given_up_lets_the_next_go)
{
    fake_t r;
    receiver_start(&r);
    clinic_t c;
    clinic_start(&c, allowed);
    char endpoint[40], booking[40], path[128];
    endpoint_at(&c.s, &r, "/hopeless", "[\"booking.created\",\"booking.cancelled\"]",
                "[500,500,500]", endpoint);
    book(&c, 30, booking);
    snprintf(path, sizeof(path), "/v1/bookings/%s/cancel", booking);
    json_decref(api_expect(&c.s, 200, "POST", path, c.s.admin_key, "{}"));
    json_t *d = deliveries_become(&r, "/hopeless", 4);
    for (size_t i = 0; i < 4; i++) {
        json_t *one = json_array_get(d, i);
        CHECK(strcmp(type_of(one), i < 3 ? "booking.created" : "booking.cancelled") == 0);
        CHECK_EQ(json_integer_value(json_object_get(one, "status")), i < 3 ? 500 : 200);
    }
    json_decref(d);
    /* deleted: nothing more goes to it */
    snprintf(path, sizeof(path), "/v1/webhook-endpoints/%s", endpoint);
    json_decref(api_expect(&c.s, 204, "DELETE", path, c.s.admin_key, NULL));
    book(&c, 32, booking);
    sleep(2);
    CHECK_EQ(delivery_count(&r, "/hopeless"), 4);
    api_stop(&c.s);
    fake_stop(&r);
}

TEST(webhooks_a_dead_endpoint_does_not_slow_bookings)
{
    clinic_t c;
    clinic_start(&c, allowed);
    char body[256], endpoint[40], booking[40];
    snprintf(body, sizeof(body),
             "{\"url\":\"http://127.0.0.1:%d/nobody\",\"events\":[\"booking.created\"]}",
             api_free_port());
    json_t *e = api_expect(&c.s, 201, "POST", "/v1/webhook-endpoints", c.s.admin_key, body);
    snprintf(endpoint, sizeof(endpoint), "%s", api_id(e));
    json_decref(e);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 10; i++)
        book(&c, 30 + 2 * i, booking);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    CHECK(seconds < 3.0);
    /* its attempts failed to connect and are logged as such */
    json_t *log = log_becomes(&c.s, endpoint, 1);
    json_t *first = json_array_get(json_object_get(log, "items"), 0);
    CHECK(first != NULL);
    CHECK(json_is_null(json_object_get(first, "status_code")));
    CHECK(strncmp(text_of(first, "error"), "connect", 7) == 0);
    json_decref(log);
    api_stop(&c.s);
}

/* Sets the organization's one reminder offset so that a booking starting at `start` has its
 * reminder due 5 to 55 s from now (waiting first when it would be too close); returns it. */
static long reminder_offset_for(api_server_t *s, time_t start)
{
    while ((start - time(NULL)) % 60 < 8 || (start - time(NULL)) % 60 > 55)
        sleep(1);
    long offset = (long)((start - time(NULL)) / 60);
    char body[128];
    snprintf(body, sizeof(body), "{\"reminder_offsets_minutes\":[%ld]}", offset);
    json_decref(api_expect(s, 200, "PATCH", "/v1/organization", s->admin_key, body));
    return offset;
}

static long reminders_waiting(api_server_t *s, const char *booking)
{
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM webhook_messages WHERE booking_id = '%s' AND done_at IS NULL",
             booking);
    PGresult *res = PQexec(s->db, sql);
    CHECK(PQresultStatus(res) == PGRES_TUPLES_OK);
    long n = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return n;
}

TEST(webhooks_reminders_go_once_follow_a_reschedule_and_stop_at_a_cancel)
{
    fake_t r;
    receiver_start(&r);
    clinic_t c;
    clinic_start(&c, allowed);
    char endpoint[40], kept[40], moved[40], cancelled[40], path[128], body[256];
    /* the first booking comes before the endpoint and the offset: both make its reminder */
    time_t start = (time(NULL) / 3600 + 2) * 3600;
    book(&c, 2, kept);
    endpoint_at(&c.s, &r, "/reminders", "[\"booking.reminder\"]", "[]", endpoint);
    long offset = reminder_offset_for(&c.s, start);
    CHECK_EQ(reminders_waiting(&c.s, kept), 1);
    book(&c, 4, moved);
    book(&c, 6, cancelled);
    /* the two later ones: moved to the hour of the first, a day later; cancelled */
    char later[32];
    utc(start + 86400, later);
    snprintf(path, sizeof(path), "/v1/bookings/%s/reschedule", moved);
    snprintf(body, sizeof(body), "{\"start\":\"%s\"}", later);
    json_decref(api_expect(&c.s, 200, "POST", path, c.s.admin_key, body));
    snprintf(path, sizeof(path), "/v1/bookings/%s/cancel", cancelled);
    json_decref(api_expect(&c.s, 200, "POST", path, c.s.admin_key, "{}"));
    CHECK_EQ(reminders_waiting(&c.s, cancelled), 0);
    CHECK_EQ(reminders_waiting(&c.s, moved), 1);
    /* the first one's reminder comes, once, verified, with its offset */
    json_t *d = deliveries_within(&r, "/reminders", 1, 70);
    json_t *one = json_array_get(d, 0);
    CHECK(json_is_true(json_object_get(one, "verified")));
    CHECK(strcmp(type_of(one), "booking.reminder") == 0);
    CHECK_EQ(json_integer_value(json_object_get(json_object_get(one, "body"), "offset_minutes")),
             offset);
    CHECK(strcmp(text_of(json_object_get(json_object_get(one, "body"), "data"), "id"), kept) == 0);
    json_decref(d);
    /* nothing more, also after a restart; the moved one waits for its new time */
    api_restart(&c.s, allowed);
    sleep(2);
    CHECK_EQ(delivery_count(&r, "/reminders"), 1);
    CHECK_EQ(reminders_waiting(&c.s, kept), 0);
    CHECK_EQ(reminders_waiting(&c.s, moved), 1);
    api_stop(&c.s);
    fake_stop(&r);
}

/* An endpoint made while private addresses were allowed, delivered to once they are not: the
 * connection itself is refused (as a name that later resolves to a private address would be),
 * and the receiver gets nothing. */
TEST(webhooks_private_addresses_are_refused_at_delivery_too)
{
    static const char *const strict[] = {SECRET_KEY, "SLOTD_WEBHOOK_RETRY_SCHEDULE=60", NULL};
    fake_t r;
    receiver_start(&r);
    clinic_t c;
    clinic_start(&c, allowed);
    char endpoint[40], booking[40];
    endpoint_at(&c.s, &r, "/private", "[\"booking.created\"]", "[]", endpoint);
    api_restart(&c.s, strict);
    api_wait_ready(&c.s);
    book(&c, 30, booking);
    json_t *log = log_becomes(&c.s, endpoint, 1);
    json_t *first = json_array_get(json_object_get(log, "items"), 0);
    CHECK(first != NULL);
    CHECK(json_is_null(json_object_get(first, "status_code")));
    CHECK(strncmp(text_of(first, "error"), "private_address", 15) == 0);
    json_decref(log);
    CHECK_EQ(delivery_count(&r, "/private"), 0);
    api_stop(&c.s);
    fake_stop(&r);
}

/* A redirect is an answer (not followed), a body past the cap and a receiver that hangs are
 * cut off: each is an attempt that failed, retried under the same id until a 200. */
TEST(webhooks_redirects_huge_answers_and_hangs_are_cut_off)
{
    static const char *const quick[] = {SECRET_KEY, "SLOTD_WEBHOOK_ALLOW_PRIVATE=true",
                                        "SLOTD_WEBHOOK_RETRY_SCHEDULE=1,1,1", NULL};
    fake_t r;
    receiver_start(&r);
    clinic_t c;
    clinic_start(&c, quick);
    char endpoint[40], booking[40];
    endpoint_at(&c.s, &r, "/odd", "[\"booking.created\"]", "[\"redirect\",\"huge\",\"hang\"]",
                endpoint);
    book(&c, 30, booking);
    json_t *d = deliveries_within(&r, "/odd", 4, 40);
    CHECK_EQ(json_array_size(d), 4);
    for (size_t i = 1; i < 4; i++)
        CHECK(strcmp(text_of(json_array_get(d, i), "id"), text_of(json_array_get(d, 0), "id")) ==
              0);
    json_decref(d);
    CHECK_EQ(delivery_count(&r, "/odd/moved"), 0);
    json_t *log = log_becomes(&c.s, endpoint, 4);
    json_t *items = json_object_get(log, "items");
    CHECK_EQ(json_array_size(items), 4);
    CHECK_EQ(json_integer_value(json_object_get(json_array_get(items, 0), "status_code")), 200);
    CHECK(strncmp(text_of(json_array_get(items, 1), "error"), "timeout", 7) == 0);
    CHECK(json_integer_value(json_object_get(json_array_get(items, 1), "duration_ms")) >= 9000);
    CHECK(strncmp(text_of(json_array_get(items, 2), "error"), "too_large", 9) == 0);
    CHECK_EQ(json_integer_value(json_object_get(json_array_get(items, 3), "status_code")), 302);
    json_decref(log);
    api_stop(&c.s);
    fake_stop(&r);
}

/* A connection that becomes broken is told of once, rendered as its GET renders it. */
TEST(webhooks_a_broken_connection_is_told_of)
{
    fake_t r;
    receiver_start(&r);
    clinic_t c;
    clinic_start(&c, allowed);
    char endpoint[40], path[160], sql[256];
    endpoint_at(&c.s, &r, "/ops", "[\"calendar_connection.broken\"]", "[]", endpoint);
    snprintf(path, sizeof(path), "/v1/resources/%s/calendar-connections", c.staff);
    json_t *conn = api_expect(&c.s, 201, "POST", path, c.s.admin_key,
                              "{\"provider\":\"ics\",\"credentials\":{\"url\":"
                              "\"http://127.0.0.1:9/feed.ics\"}}");
    char id[40];
    snprintf(id, sizeof(id), "%s", api_id(conn));
    json_decref(conn);
    snprintf(sql, sizeof(sql),
             "UPDATE calendar_connections SET status = 'broken', last_error = 'revoked' "
             "WHERE id = '%s'",
             id);
    PQclear(PQexec(c.s.db, sql));
    PQclear(PQexec(c.s.db, sql)); /* still broken: nothing more */
    json_t *d = deliveries_become(&r, "/ops", 1);
    json_t *one = json_array_get(d, 0);
    CHECK(json_is_true(json_object_get(one, "verified")));
    CHECK(strcmp(type_of(one), "calendar_connection.broken") == 0);
    json_t *data = json_object_get(json_object_get(one, "body"), "data");
    snprintf(path, sizeof(path), "/v1/calendar-connections/%s", id);
    json_t *got = api_expect(&c.s, 200, "GET", path, c.s.admin_key, NULL);
    CHECK_EQ(json_object_size(data), json_object_size(got));
    static const char *const same[] = {"id",     "resource_id", "provider",
                                       "status", "last_error",  "created_at"};
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
        CHECK(json_equal(json_object_get(data, same[i]), json_object_get(got, same[i])));
    json_decref(got);
    json_decref(d);
    sleep(1);
    CHECK_EQ(delivery_count(&r, "/ops"), 1);
    api_stop(&c.s);
    fake_stop(&r);
}

/* Two processes deliver from one outbox: every message exactly once, in order per endpoint. */
TEST(webhooks_two_workers_send_each_message_once)
{
    static const char *const two[] = {SECRET_KEY, "SLOTD_WEBHOOK_ALLOW_PRIVATE=true",
                                      "SLOTD_WORKERS=2", NULL};
    fake_t r;
    receiver_start(&r);
    clinic_t c;
    clinic_start(&c, two);
    char endpoint[40], booking[40], path[128];
    endpoint_at(&c.s, &r, "/many", "[\"booking.created\",\"booking.cancelled\"]", "[]", endpoint);
    for (int i = 0; i < 8; i++) {
        book(&c, 30 + 2 * i, booking);
        snprintf(path, sizeof(path), "/v1/bookings/%s/cancel", booking);
        json_decref(api_expect(&c.s, 200, "POST", path, c.s.admin_key, "{}"));
    }
    json_t *d = deliveries_become(&r, "/many", 16);
    sleep(2);
    CHECK_EQ(delivery_count(&r, "/many"), 16);
    /* each booking's created before its cancelled, and no webhook-id twice */
    for (size_t i = 0; i < 16; i++) {
        json_t *one = json_array_get(d, i);
        CHECK(json_is_true(json_object_get(one, "verified")));
        const char *id = text_of(json_object_get(json_object_get(one, "body"), "data"), "id");
        for (size_t j = 0; j < i; j++) {
            json_t *before = json_array_get(d, j);
            CHECK(strcmp(text_of(one, "id"), text_of(before, "id")) != 0);
            if (strcmp(text_of(json_object_get(json_object_get(before, "body"), "data"), "id"),
                       id) == 0)
                CHECK(strcmp(type_of(before), "booking.created") == 0 &&
                      strcmp(type_of(one), "booking.cancelled") == 0);
        }
    }
    json_decref(d);
    api_stop(&c.s);
    fake_stop(&r);
}

/* The ids of a booking's waiting reminders, in order, as one text. */
static void waiting_ids(api_server_t *s, const char *booking, char *out, size_t size)
{
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '') FROM webhook_messages "
             "WHERE booking_id = '%s' AND done_at IS NULL",
             booking);
    PGresult *res = PQexec(s->db, sql);
    CHECK(PQresultStatus(res) == PGRES_TUPLES_OK);
    snprintf(out, size, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
}

TEST(webhooks_a_waiting_reminder_stays_when_other_things_change)
{
    /* a reminder still wanted is kept as it is (its id, so its webhook-id) when another endpoint
     * comes, an endpoint's description changes, or the booking is confirmed: none is lost,
     * none made twice */
    fake_t r;
    receiver_start(&r);
    clinic_t c;
    clinic_start(&c, allowed);
    char first[40], second[40], booking[40], before[256], after[256], path[128];
    json_decref(api_expect(&c.s, 200, "PATCH", "/v1/organization", c.s.admin_key,
                           "{\"reminder_offsets_minutes\":[60]}"));
    endpoint_at(&c.s, &r, "/first", "[\"booking.reminder\"]", "[]", first);
    book(&c, 5, booking);
    waiting_ids(&c.s, booking, before, sizeof(before));
    CHECK(before[0] != 0 && strchr(before, ',') == NULL); /* one */
    snprintf(path, sizeof(path), "/v1/webhook-endpoints/%s", first);
    json_decref(api_expect(&c.s, 200, "PATCH", path, c.s.admin_key, "{\"description\":\"desk\"}"));
    waiting_ids(&c.s, booking, after, sizeof(after));
    CHECK(strcmp(before, after) == 0);
    endpoint_at(&c.s, &r, "/second", "[\"booking.reminder\"]", "[]", second);
    waiting_ids(&c.s, booking, after, sizeof(after));
    CHECK(strncmp(after, before, strlen(before)) == 0 && strchr(after, ',') != NULL); /* two */
    api_stop(&c.s);
    fake_stop(&r);
}
