/*
 * iCalendar out over real HTTP: a resource's feed (its token made, replaced
 * and refused; its bookings read back by an independent parser, ical.js, with
 * their UIDs, times and summaries; busy time with busy=1; cancelled bookings
 * gone; ETag and 304) and one booking's invitation (REQUEST with organizer,
 * attendee and location, SEQUENCE raised by a reschedule, CANCEL once
 * cancelled), and tenant isolation of both.
 *
 * The clinic: Anna works Monday to Friday 09:00–17:00 (Europe/Warsaw) at a
 * location with an address, a one-hour cleaning needs her, and the clock is
 * frozen on Friday 2026-03-27 08:00 (+01:00).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api_client.h"
#include "db.h"
#include "test.h"

static const char *const frozen[] = {"SLOTD_NOW=2026-03-27T08:00:00+01:00", NULL};

#define WEEKDAYS                                                                                   \
    "{\"mon\":[[\"09:00\",\"17:00\"]],\"tue\":[[\"09:00\",\"17:00\"]],"                            \
    "\"wed\":[[\"09:00\",\"17:00\"]],\"thu\":[[\"09:00\",\"17:00\"]],"                             \
    "\"fri\":[[\"09:00\",\"17:00\"]]}"

/* a name that needs escaping, folding and whole UTF-8 characters */
#define ODD_NAME "Nowak, Zofia; \xf0\x9f\x98\x80 \xc5\xbc\xc3\xb3\xc5\x82w \\ the second"

typedef struct {
    api_server_t s;
    char agent[128];
    char anna[40], service[40];
} clinic_t;

static void created_id(api_server_t *s, const char *path, const char *body, char *id)
{
    json_t *r = api_expect(s, 201, "POST", path, s->admin_key, body);
    snprintf(id, 40, "%s", api_id(r));
    json_decref(r);
}

static void clinic_start(clinic_t *c)
{
    char body[1024], location[40];
    api_start(&c->s, frozen);
    api_create_key(&c->s, c->s.organization_id, "agent", c->agent);
    created_id(&c->s, "/v1/locations",
               "{\"name\":\"Centre\",\"address\":\"ul. Marsza\xc5\x82kowska 1, Warszawa\"}",
               location);
    snprintf(body, sizeof(body),
             "{\"kind\":\"staff\",\"name\":\"Anna, hygienist\",\"location_id\":\"%s\","
             "\"working_hours\":%s}",
             location, WEEKDAYS);
    created_id(&c->s, "/v1/resources", body, c->anna);
    snprintf(body, sizeof(body),
             "{\"name\":\"Cleaning\",\"duration_minutes\":60,"
             "\"requirements\":[{\"resource_ids\":[\"%s\"],\"mode\":\"any\"}]}",
             c->anna);
    created_id(&c->s, "/v1/services", body, c->service);
}

/* Books `start` for the customer `name` (zofia@example.com, or ben@example.com for "Ben");
 * the booking's id into `id`. */
static void book(clinic_t *c, const char *start, const char *name, const char *notes, char *id)
{
    char body[1024];
    json_t *customer =
        json_pack("{s:s, s:s}", "name", name, "email",
                  strcmp(name, "Ben") == 0 ? "ben@example.com" : "zofia@example.com");
    char *customer_text = json_dumps(customer, JSON_COMPACT);
    json_t *n = json_string(notes ? notes : "");
    char *notes_text = json_dumps(n, JSON_ENCODE_ANY);
    snprintf(body, sizeof(body), "{\"service_id\":\"%s\",\"start\":\"%s\",\"customer\":%s%s%s}",
             c->service, start, customer_text, notes ? ",\"notes\":" : "", notes ? notes_text : "");
    json_t *r = api_expect(&c->s, 201, "POST", "/v1/bookings", c->agent, body);
    snprintf(id, 40, "%s", api_id(r));
    json_decref(r);
    json_decref(customer);
    json_decref(n);
    free(customer_text);
    free(notes_text);
}

/* A new feed token of `resource` with `key`; its URL's path and query into `path`. */
static void feed_path(clinic_t *c, const char *resource, char *path, size_t size)
{
    char route[128];
    snprintf(route, sizeof(route), "/v1/resources/%s/feed-token", resource);
    json_t *r = api_expect(&c->s, 201, "POST", route, c->s.admin_key, "{}");
    const char *url = json_string_value(json_object_get(r, "url"));
    const char *token = json_string_value(json_object_get(r, "token"));
    CHECK(url != NULL && token != NULL && strlen(token) == 64);
    CHECK(strstr(url, "/calendar.ics?token=") != NULL);
    CHECK(strcmp(strstr(url, "/v1/resources/"), strstr(url, "/v1/")) == 0);
    snprintf(path, size, "%s", strstr(url, "/v1/resources/"));
    json_decref(r);
}

/* ICS text parsed by tests/ical/parse.js (ical.js). */
static json_t *parsed(const char *ics)
{
    char file[] = "/tmp/slotd-ics-XXXXXX", command[1024];
    int fd = mkstemp(file);
    CHECK(fd >= 0);
    CHECK(write(fd, ics, strlen(ics)) == (ssize_t)strlen(ics));
    close(fd);
    const char *source = getenv("SLOTD_SOURCE_DIR");
    snprintf(command, sizeof(command), "node %s/tests/ical/parse.js < %s", source ? source : ".",
             file);
    FILE *p = popen(command, "r");
    CHECK(p != NULL);
    char out[65536];
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = 0;
    CHECK(pclose(p) == 0);
    unlink(file);
    json_t *json = json_loads(out, 0, NULL);
    CHECK(json != NULL);
    return json;
}

/* Every line ends in CRLF and is at most 75 octets. */
static void check_lines(const char *ics)
{
    for (const char *p = ics; *p;) {
        const char *crlf = strstr(p, "\r\n");
        CHECK(crlf != NULL);
        CHECK(crlf - p <= 75);
        CHECK(memchr(p, '\n', (size_t)(crlf - p)) == NULL);
        p = crlf + 2;
    }
}

static const char *text_of(const json_t *object, const char *name)
{
    const char *text = json_string_value(json_object_get(object, name));
    return text ? text : "";
}

static json_t *get_feed(clinic_t *c, const char *path, int status, api_text_t *t)
{
    CHECK_EQ(api_get_text_headers(&c->s, path, NULL, NULL, t), status);
    if (status != 200)
        return NULL;
    CHECK(strcmp(t->content_type, "text/calendar; charset=utf-8") == 0);
    check_lines(t->body);
    return parsed(t->body);
}

TEST(ical_feed_round_trips_the_bookings_of_a_resource)
{
    clinic_t c;
    clinic_start(&c);
    char first[40], second[40], path[512], uid[64];
    book(&c, "2026-03-30T09:00:00+02:00", ODD_NAME, "Sensitive teeth,\nsecond visit", first);
    book(&c, "2026-03-31T10:00:00+02:00", "Ben", NULL, second);
    feed_path(&c, c.anna, path, sizeof(path));
    api_text_t t;
    json_t *cal = get_feed(&c, path, 200, &t);
    CHECK(strstr(t.body, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:") == t.body);
    CHECK(strstr(t.body, "\r\nCALSCALE:GREGORIAN\r\n") != NULL);
    CHECK(strstr(t.body, "\r\nMETHOD:PUBLISH\r\n") != NULL);
    CHECK(strstr(t.body, "\r\nX-WR-CALNAME:Anna\\, hygienist\r\n") != NULL);
    CHECK(strcmp(text_of(cal, "method"), "PUBLISH") == 0);
    json_t *events = json_object_get(cal, "events");
    CHECK_EQ(json_array_size(events), 2);
    json_t *e = json_array_get(events, 0);
    snprintf(uid, sizeof(uid), "%s@slotd", first);
    CHECK(strcmp(text_of(e, "uid"), uid) == 0);
    CHECK(strcmp(text_of(e, "start"), "2026-03-30T07:00:00Z") == 0);
    CHECK(strcmp(text_of(e, "end"), "2026-03-30T08:00:00Z") == 0);
    CHECK(strcmp(text_of(e, "summary"), "Cleaning - " ODD_NAME) == 0);
    CHECK(strstr(text_of(e, "description"), "Sensitive teeth,\nsecond visit") != NULL);
    CHECK(strstr(text_of(e, "description"), first) != NULL);
    CHECK_EQ(json_integer_value(json_object_get(e, "sequence")), 0);
    CHECK(strcmp(text_of(e, "status"), "CONFIRMED") == 0);
    e = json_array_get(events, 1);
    snprintf(uid, sizeof(uid), "%s@slotd", second);
    CHECK(strcmp(text_of(e, "uid"), uid) == 0);
    CHECK(strcmp(text_of(e, "start"), "2026-03-31T08:00:00Z") == 0);
    CHECK(strcmp(text_of(e, "summary"), "Cleaning - Ben") == 0);
    /* the same feed again: the same ETag, and 304 when the client has it */
    CHECK(t.etag[0] == '"');
    api_text_t again, cached;
    CHECK_EQ(api_get_text_headers(&c.s, path, NULL, NULL, &again), 200);
    CHECK(strcmp(again.etag, t.etag) == 0 && strcmp(again.body, t.body) == 0);
    char header[192];
    snprintf(header, sizeof(header), "If-None-Match: %s", t.etag);
    const char *const headers[] = {header, NULL};
    CHECK_EQ(api_get_text_headers(&c.s, path, NULL, headers, &cached), 304);
    CHECK_EQ(cached.length, 0);
    free(cached.body);
    /* a cancelled booking vanishes, and the ETag changes with it */
    char route[128];
    snprintf(route, sizeof(route), "/v1/bookings/%s/cancel", second);
    json_decref(api_expect(&c.s, 200, "POST", route, c.agent, "{}"));
    api_text_t after;
    json_t *cal2 = get_feed(&c, path, 200, &after);
    CHECK_EQ(json_array_size(json_object_get(cal2, "events")), 1);
    CHECK(strcmp(after.etag, t.etag) != 0);
    CHECK_EQ(api_get_text_headers(&c.s, path, NULL, headers, &cached), 200);
    free(cached.body);
    free(after.body);
    free(again.body);
    free(t.body);
    json_decref(cal);
    json_decref(cal2);
    api_stop(&c.s);
}

TEST(ical_feed_tokens_are_replaced_and_wrong_ones_are_404)
{
    clinic_t c;
    clinic_start(&c);
    char old_path[512], new_path[512], path[512];
    feed_path(&c, c.anna, old_path, sizeof(old_path));
    api_text_t t;
    json_t *cal = get_feed(&c, old_path, 200, &t);
    free(t.body);
    json_decref(cal);
    feed_path(&c, c.anna, new_path, sizeof(new_path));
    CHECK(strcmp(old_path, new_path) != 0);
    get_feed(&c, old_path, 404, &t); /* revoked by the new one */
    json_t *refusal = json_loads(t.body, 0, NULL);
    CHECK(strcmp(api_error_code(refusal), "not_found") == 0);
    json_decref(refusal);
    free(t.body);
    cal = get_feed(&c, new_path, 200, &t);
    free(t.body);
    json_decref(cal);
    /* a wrong token, none, another resource's path, a path that is no id: all 404 */
    snprintf(path, sizeof(path), "%s", new_path);
    char *token = strstr(path, "token=") + 6;
    token[0] = token[0] == 'a' ? 'b' : 'a';
    get_feed(&c, path, 404, &t);
    free(t.body);
    snprintf(path, sizeof(path), "/v1/resources/%s/calendar.ics", c.anna);
    get_feed(&c, path, 404, &t);
    free(t.body);
    snprintf(path, sizeof(path), "/v1/resources/%s/calendar.ics%s", c.service,
             strstr(new_path, "?token="));
    get_feed(&c, path, 404, &t);
    free(t.body);
    get_feed(&c, "/v1/resources/anna/calendar.ics?token=x", 404, &t);
    free(t.body);
    char long_token[1200];
    snprintf(long_token, sizeof(long_token), "/v1/resources/%s/calendar.ics?token=%0900d", c.anna,
             0);
    get_feed(&c, long_token, 404, &t);
    free(t.body);
    /* an unknown resource has no token */
    snprintf(path, sizeof(path), "/v1/resources/%s/feed-token", c.service);
    json_decref(api_expect(&c.s, 404, "POST", path, c.s.admin_key, "{}"));
    /* agents may not make tokens */
    snprintf(path, sizeof(path), "/v1/resources/%s/feed-token", c.anna);
    json_decref(api_expect(&c.s, 403, "POST", path, c.agent, "{}"));
    api_stop(&c.s);
}

TEST(ical_feed_with_busy_shows_blocks_occurrences_and_holds)
{
    clinic_t c;
    clinic_start(&c);
    char booking[40], path[512], busy_path[600], route[128], body[512], block[40];
    book(&c, "2026-03-30T09:00:00+02:00", "Ben", NULL, booking);
    snprintf(route, sizeof(route), "/v1/resources/%s/blocks", c.anna);
    created_id(&c.s, route,
               "{\"start\":\"2026-03-31T12:00:00+02:00\",\"end\":\"2026-03-31T13:00:00+02:00\","
               "\"reason\":\"Dentist, private\"}",
               block);
    created_id(&c.s, route,
               "{\"rrule\":\"FREQ=WEEKLY;BYDAY=WE;COUNT=3\",\"start_local\":\"2026-04-01T12:00\","
               "\"duration_minutes\":30,\"reason\":\"Team meeting\"}",
               block);
    snprintf(body, sizeof(body),
             "{\"service_id\":\"%s\",\"start\":\"2026-04-02T09:00:00+02:00\","
             "\"ttl_seconds\":600}",
             c.service);
    json_decref(api_expect(&c.s, 201, "POST", "/v1/holds", c.agent, body));
    feed_path(&c, c.anna, path, sizeof(path));
    api_text_t t;
    json_t *cal = get_feed(&c, path, 200, &t);
    CHECK_EQ(json_array_size(json_object_get(cal, "events")), 1);
    free(t.body);
    json_decref(cal);
    snprintf(busy_path, sizeof(busy_path), "%s&busy=1", path);
    cal = get_feed(&c, busy_path, 200, &t);
    json_t *events = json_object_get(cal, "events");
    /* the booking, the block, three meetings (Warsaw noon is 10:00Z in April), the hold */
    CHECK_EQ(json_array_size(events), 6);
    int busy = 0, meetings = 0;
    for (size_t i = 0; i < json_array_size(events); i++) {
        json_t *e = json_array_get(events, i);
        if (strcmp(text_of(e, "summary"), "Busy") != 0)
            continue;
        busy++;
        CHECK(strstr(text_of(e, "uid"), "@slotd") != NULL);
        if (strstr(text_of(e, "start"), "T10:00:00Z") && strstr(text_of(e, "end"), "T10:30:00Z"))
            meetings++;
    }
    CHECK_EQ(busy, 5);
    CHECK_EQ(meetings, 3);
    CHECK(strstr(t.body, "Dentist") == NULL);                  /* anonymous */
    CHECK(strstr(t.body, "DTSTART:20260402T070000Z") != NULL); /* the hold */
    /* every UID once */
    for (size_t i = 0; i < json_array_size(events); i++)
        for (size_t j = i + 1; j < json_array_size(events); j++)
            CHECK(strcmp(text_of(json_array_get(events, i), "uid"),
                         text_of(json_array_get(events, j), "uid")) != 0);
    free(t.body);
    json_decref(cal);
    snprintf(busy_path, sizeof(busy_path), "%s&busy=yes", path);
    json_decref(api_expect(&c.s, 400, "GET", busy_path, NULL, NULL));
    api_stop(&c.s);
}

static json_t *invitation(clinic_t *c, const char *booking, const char *key, int status,
                          api_text_t *t)
{
    char path[128];
    snprintf(path, sizeof(path), "/v1/bookings/%s.ics", booking);
    CHECK_EQ(api_get_text_headers(&c->s, path, key, NULL, t), status);
    if (status != 200)
        return NULL;
    CHECK(strncmp(t->content_type, "text/calendar; charset=utf-8", 28) == 0);
    check_lines(t->body);
    return parsed(t->body);
}

TEST(ical_booking_invitation_requests_then_cancels_with_rising_sequence)
{
    clinic_t c;
    clinic_start(&c);
    char booking[40], uid[64], route[128];
    book(&c, "2026-03-30T09:00:00+02:00", ODD_NAME, NULL, booking);
    snprintf(uid, sizeof(uid), "%s@slotd", booking);
    api_text_t t;
    json_t *cal = invitation(&c, booking, c.agent, 200, &t);
    CHECK(strcmp(text_of(cal, "method"), "REQUEST") == 0);
    json_t *e = json_array_get(json_object_get(cal, "events"), 0);
    CHECK(strcmp(text_of(e, "uid"), uid) == 0);
    CHECK_EQ(json_integer_value(json_object_get(e, "sequence")), 0);
    CHECK(strcmp(text_of(e, "status"), "CONFIRMED") == 0);
    CHECK(strcmp(text_of(e, "start"), "2026-03-30T07:00:00Z") == 0);
    CHECK(strcmp(text_of(e, "location"), "ul. Marsza\xc5\x82kowska 1, Warszawa") == 0);
    CHECK(strncmp(text_of(e, "organizer"), "mailto:", 7) == 0);
    json_t *attendee = json_array_get(json_object_get(e, "attendees"), 0);
    CHECK(strcmp(text_of(attendee, "value"), "mailto:zofia@example.com") == 0);
    CHECK(strcmp(text_of(attendee, "cn"), ODD_NAME) == 0);
    free(t.body);
    json_decref(cal);
    /* a reschedule raises SEQUENCE, the UID stays */
    snprintf(route, sizeof(route), "/v1/bookings/%s/reschedule", booking);
    json_decref(
        api_expect(&c.s, 200, "POST", route, c.agent, "{\"start\":\"2026-03-30T11:00:00+02:00\"}"));
    cal = invitation(&c, booking, c.s.admin_key, 200, &t);
    e = json_array_get(json_object_get(cal, "events"), 0);
    CHECK(strcmp(text_of(e, "uid"), uid) == 0);
    CHECK_EQ(json_integer_value(json_object_get(e, "sequence")), 1);
    CHECK(strcmp(text_of(e, "start"), "2026-03-30T09:00:00Z") == 0);
    free(t.body);
    json_decref(cal);
    /* cancelled: METHOD:CANCEL, STATUS:CANCELLED, SEQUENCE raised again */
    snprintf(route, sizeof(route), "/v1/bookings/%s/cancel", booking);
    json_decref(api_expect(&c.s, 200, "POST", route, c.agent, "{}"));
    cal = invitation(&c, booking, c.agent, 200, &t);
    CHECK(strcmp(text_of(cal, "method"), "CANCEL") == 0);
    e = json_array_get(json_object_get(cal, "events"), 0);
    CHECK(strcmp(text_of(e, "uid"), uid) == 0);
    CHECK(strcmp(text_of(e, "status"), "CANCELLED") == 0);
    CHECK_EQ(json_integer_value(json_object_get(e, "sequence")), 2);
    free(t.body);
    json_decref(cal);
    /* no such booking: 404; sync keys may not read bookings */
    invitation(&c, c.service, c.agent, 404, &t);
    free(t.body);
    char sync[128];
    api_create_key(&c.s, c.s.organization_id, "sync", sync);
    invitation(&c, booking, sync, 403, &t);
    free(t.body);
    api_stop(&c.s);
}

TEST(ical_other_organizations_get_404)
{
    clinic_t c;
    clinic_start(&c);
    char booking[40], other_key[128], other_org[40], path[128];
    book(&c, "2026-03-30T09:00:00+02:00", "Ben", NULL, booking);
    api_create_org(&c.s, "Other clinic", other_key, other_org);
    api_text_t t;
    invitation(&c, booking, other_key, 404, &t);
    free(t.body);
    snprintf(path, sizeof(path), "/v1/resources/%s/feed-token", c.anna);
    json_decref(api_expect(&c.s, 404, "POST", path, other_key, "{}"));
    CHECK_EQ(atoi(test_db_value(c.s.db, "SELECT count(*) FROM feed_tokens")), 0);
    api_stop(&c.s);
}
