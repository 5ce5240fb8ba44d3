/*
 * Bookings and holds over real HTTP on a real PostgreSQL: the booking
 * transaction, its refusals with alternatives, concurrent requests for one
 * slot, idempotency keys, holds (blocking, consumed, released, expiring on the
 * real clock), cancelling, customers found by phone, tenant isolation, and bad
 * input refused with nothing written.
 *
 * The clinic: two hygienists working Monday to Friday 09:00–17:00
 * (Europe/Warsaw), a one-hour cleaning that needs either of them, and the clock
 * frozen on Friday 2026-03-27 08:00 (+01:00), so Monday 2026-03-30 is +02:00.
 */
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api_client.h"
#include "db.h"
#include "test.h"

static const char *const frozen[] = {API_FRIDAY_BEFORE_DST, NULL};

#define WEEKDAYS API_WEEKDAYS_9_TO_5
#define MONDAY_9 "2026-03-30T09:00:00+02:00"

typedef struct {
    api_server_t s;
    char agent[128];
    char anna[40], ben[40], service[40];
} clinic_t;

static const char *created_id(api_server_t *s, const char *path, const char *body)
{
    json_t *r = api_expect(s, 201, "POST", path, s->admin_key, body);
    const char *id = api_id(r);
    json_decref(r);
    return id;
}

/* Starts the server (env: NULL for the frozen clock) and makes the clinic. */
static void clinic_start(clinic_t *c, const char *const *env, const char *hours)
{
    api_start(&c->s, env ? env : frozen);
    api_create_key(&c->s, c->s.organization_id, "agent", c->agent);
    char body[1024];
    snprintf(body, sizeof(body), "{\"kind\":\"staff\",\"name\":\"Anna\",\"working_hours\":%s}",
             hours);
    snprintf(c->anna, sizeof(c->anna), "%s", created_id(&c->s, "/v1/resources", body));
    snprintf(body, sizeof(body), "{\"kind\":\"staff\",\"name\":\"Ben\",\"working_hours\":%s}",
             hours);
    snprintf(c->ben, sizeof(c->ben), "%s", created_id(&c->s, "/v1/resources", body));
    snprintf(body, sizeof(body),
             "{\"name\":\"Cleaning\",\"duration_minutes\":60,\"buffer_after_minutes\":0,"
             "\"requirements\":[{\"resource_ids\":[\"%s\",\"%s\"],\"mode\":\"any\"}]}",
             c->anna, c->ben);
    snprintf(c->service, sizeof(c->service), "%s", created_id(&c->s, "/v1/services", body));
}

/* A booking body for `start`, pinned to `resource` (NULL: none), with `extra` fields. */
static char *booking_body(const clinic_t *c, const char *start, const char *resource,
                          const char *extra)
{
    static char body[2048];
    char pinned[96] = "";
    if (resource)
        snprintf(pinned, sizeof(pinned), ",\"resource_ids\":[\"%s\"]", resource);
    snprintf(body, sizeof(body),
             "{\"service_id\":\"%s\",\"start\":\"%s\"%s,"
             "\"customer\":{\"name\":\"Anna Kowalska\",\"phone\":\"+48 601 234 567\"}%s}",
             c->service, start, pinned, extra ? extra : "");
    return body;
}

static long count_rows(api_server_t *s, const char *sql)
{
    PGresult *r = PQexec(s->db, sql);
    CHECK(PQresultStatus(r) == PGRES_TUPLES_OK);
    long n = strtol(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return n;
}

/* The resources serving `start` in GET /v1/slots of that day, as "id id" (empty: not offered). */
static void serving(clinic_t *c, const char *day, const char *start, char *out, size_t size)
{
    char path[256];
    snprintf(path, sizeof(path), "/v1/slots?service_id=%s&from=%s&to=%s", c->service, day, day);
    json_t *r = api_expect(&c->s, 200, "GET", path, c->agent, NULL);
    out[0] = 0;
    size_t i;
    json_t *slot;
    json_array_foreach(json_object_get(r, "slots"), i, slot)
    {
        if (strcmp(json_string_value(json_object_get(slot, "start")), start) != 0)
            continue;
        size_t k;
        json_t *id;
        json_array_foreach(json_object_get(slot, "resource_ids"), k, id)
        {
            size_t len = strlen(out);
            snprintf(out + len, size - len, "%s%s", len ? " " : "", json_string_value(id));
        }
    }
    json_decref(r);
}

static const char *error_field(const json_t *r)
{
    const char *field = json_string_value(
        json_object_get(json_object_get(json_object_get(r, "error"), "details"), "field"));
    return field ? field : "";
}

static json_t *alternatives_of(const json_t *r)
{
    return json_object_get(json_object_get(json_object_get(r, "error"), "details"), "alternatives");
}

TEST(bookings_create_takes_the_slot_and_reads_back)
{
    clinic_t c;
    clinic_start(&c, NULL, WEEKDAYS);
    json_t *r = api_expect(&c.s, 201, "POST", "/v1/bookings", c.agent,
                           booking_body(&c, MONDAY_9, NULL,
                                        ",\"notes\":\"first visit\",\"source\":\"ai_agent\","
                                        "\"external_ref\":\"vapi-call-123\""));
    CHECK(strcmp(json_string_value(json_object_get(r, "status")), "confirmed") == 0);
    CHECK(strcmp(json_string_value(json_object_get(r, "start")), MONDAY_9) == 0);
    CHECK(strcmp(json_string_value(json_object_get(r, "end")), "2026-03-30T10:00:00+02:00") == 0);
    CHECK(strcmp(json_string_value(json_object_get(r, "source")), "ai_agent") == 0);
    json_t *resources = json_object_get(r, "resource_ids");
    CHECK_EQ(json_array_size(resources), 1);
    /* the pick rule: neither has bookings, neither was ever booked: the lowest id */
    const char *lowest = strcmp(c.anna, c.ben) < 0 ? c.anna : c.ben;
    const char *other = lowest == c.anna ? c.ben : c.anna;
    CHECK(strcmp(json_string_value(json_array_get(resources, 0)), lowest) == 0);
    json_t *customer = json_object_get(r, "customer");
    CHECK(strcmp(json_string_value(json_object_get(customer, "name")), "Anna Kowalska") == 0);
    CHECK(json_is_null(json_object_get(customer, "email")));
    char path[128];
    snprintf(path, sizeof(path), "/v1/bookings/%s", api_id(r));
    json_t *got = api_expect(&c.s, 200, "GET", path, c.agent, NULL);
    CHECK(json_equal(got, r));
    json_decref(got);
    json_decref(r);
    char who[128];
    serving(&c, "2026-03-30", MONDAY_9, who, sizeof(who));
    CHECK(strcmp(who, other) == 0);
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM occupancy WHERE active"), 1);
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM booking_audit WHERE action = 'create'"), 1);
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM customers"), 1);
    api_stop(&c.s);
}

TEST(bookings_taken_slot_is_409_with_the_nearest_alternatives)
{
    clinic_t c;
    clinic_start(&c, NULL, WEEKDAYS);
    json_decref(api_expect(&c.s, 201, "POST", "/v1/bookings", c.agent,
                           booking_body(&c, "2026-03-30T11:00:00+02:00", c.anna, NULL)));
    json_t *r = api_expect(&c.s, 409, "POST", "/v1/bookings", c.agent,
                           booking_body(&c, "2026-03-30T11:00:00+02:00", c.anna, NULL));
    CHECK(strcmp(api_error_code(r), "slot_unavailable") == 0);
    json_t *alternatives = alternatives_of(r);
    CHECK_EQ(json_array_size(alternatives), 3);
    /* closest to 11:00 with Anna: 10:00 and 12:00 (one hour away), then 09:00 (two) */
    const char *expected[] = {"2026-03-30T09:00:00+02:00", "2026-03-30T10:00:00+02:00",
                              "2026-03-30T12:00:00+02:00"};
    for (size_t i = 0; i < 3; i++) {
        json_t *alt = json_array_get(alternatives, i);
        CHECK(strcmp(json_string_value(json_object_get(alt, "start")), expected[i]) == 0);
        CHECK(strcmp(json_string_value(json_array_get(json_object_get(alt, "resource_ids"), 0)),
                     c.anna) == 0);
    }
    json_decref(r);
    /* a start outside the hours or off the grid is the same refusal, never 400 */
    r = api_expect(&c.s, 409, "POST", "/v1/bookings", c.agent,
                   booking_body(&c, "2026-03-30T09:10:00+02:00", NULL, NULL));
    CHECK_EQ(json_array_size(alternatives_of(r)), 3);
    json_decref(r);
    r = api_expect(&c.s, 409, "POST", "/v1/bookings", c.agent,
                   booking_body(&c, "2026-03-28T10:00:00+01:00", NULL, NULL));
    CHECK(strcmp(api_error_code(r), "slot_unavailable") == 0);
    json_decref(r);
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM bookings"), 1);
    /* /metrics counts the outcomes: one created, three refused with alternatives */
    char metrics[16384];
    CHECK_EQ(api_get_text(&c.s, "/metrics", metrics, sizeof(metrics)), 200);
    CHECK(strstr(metrics, "slotd_booking_outcomes_total{outcome=\"created\"} 1\n") != NULL);
    CHECK(strstr(metrics, "slotd_booking_outcomes_total{outcome=\"conflict\"} 3\n") != NULL);
    api_stop(&c.s);
}

/* `n` processes ask for one slot at the same moment; returns how many got 201, and checks
 * that every other one got 409 slot_unavailable with alternatives. */
static int race(clinic_t *c, int n, const char *body)
{
    return api_race_post(&c->s, c->agent, NULL, "/v1/bookings", body, n);
}

TEST(bookings_simultaneous_requests_for_one_slot_get_exactly_one_201)
{
    clinic_t c;
    clinic_start(&c, NULL, WEEKDAYS);
    const char *starts[] = {"2026-03-30T13:00:00+02:00", "2026-03-30T14:00:00+02:00",
                            "2026-03-30T15:00:00+02:00"};
    for (int round = 0; round < 3; round++)
        CHECK_EQ(race(&c, 12, booking_body(&c, starts[round], c.anna, NULL)), 1);
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM bookings"), 3);
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM customers"), 1);
    api_stop(&c.s);
}

static int call_with_key(clinic_t *c, const char *key, const char *body, json_t **r)
{
    char header[320];
    snprintf(header, sizeof(header), "Idempotency-Key: %s", key);
    const char *headers[] = {header, NULL};
    return api_call_headers(&c->s, "POST", "/v1/bookings", c->agent, headers, body, r);
}

TEST(bookings_idempotency_key_replays_the_first_answer)
{
    clinic_t c;
    clinic_start(&c, NULL, WEEKDAYS);
    char body[2048];
    snprintf(body, sizeof(body), "%s", booking_body(&c, MONDAY_9, c.anna, NULL));
    json_t *first, *again, *other;
    CHECK_EQ(call_with_key(&c, "call-123", body, &first), 201);
    CHECK_EQ(call_with_key(&c, "call-123", body, &again), 201);
    CHECK(json_equal(first, again));
    /* the same request written with other spacing is the same request */
    char spaced[2100];
    snprintf(spaced, sizeof(spaced), " %s ", body);
    json_decref(again);
    CHECK_EQ(call_with_key(&c, "call-123", spaced, &again), 201);
    CHECK(json_equal(first, again));
    CHECK_EQ(call_with_key(&c, "call-123",
                           booking_body(&c, "2026-03-30T10:00:00+02:00", c.anna, NULL), &other),
             422);
    CHECK(strcmp(api_error_code(other), "idempotency_key_mismatch") == 0);
    json_decref(other);
    /* another key name is another request (its refusal is kept under its own key) */
    CHECK_EQ(call_with_key(&c, "call-124", body, &other), 409);
    CHECK(strcmp(api_error_code(other), "slot_unavailable") == 0);
    json_decref(other);
    char long_key[300];
    memset(long_key, 'k', 256);
    long_key[256] = 0;
    json_t *bad;
    CHECK_EQ(call_with_key(&c, long_key, body, &bad), 400);
    CHECK(strcmp(error_field(bad), "Idempotency-Key") == 0);
    json_decref(bad);
    CHECK_EQ(call_with_key(&c, "caf\xc3\xa9-\xff", body, &bad), 400); /* not ASCII (nor UTF-8) */
    CHECK(strcmp(error_field(bad), "Idempotency-Key") == 0);
    json_decref(bad);
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM bookings"), 1);
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM idempotency_keys"), 2);
    json_decref(first);
    json_decref(again);
    api_stop(&c.s);
}

TEST(bookings_idempotency_key_replays_a_refusal_even_once_the_slot_is_free)
{
    clinic_t c;
    clinic_start(&c, NULL, WEEKDAYS);
    json_t *taken, *refused, *again, *fresh;
    taken = api_expect(&c.s, 201, "POST", "/v1/bookings", c.agent,
                       booking_body(&c, MONDAY_9, c.anna, NULL));
    char body[2048];
    snprintf(body, sizeof(body), "%s", booking_body(&c, MONDAY_9, c.anna, ",\"notes\":\"2nd\""));
    CHECK_EQ(call_with_key(&c, "call-9", body, &refused), 409);
    CHECK(strcmp(api_error_code(refused), "slot_unavailable") == 0);
    CHECK(json_array_size(alternatives_of(refused)) == 3);
    /* the slot becomes free, yet the same request with the same key gets the first answer */
    char path[128];
    snprintf(path, sizeof(path), "/v1/bookings/%s/cancel", api_id(taken));
    json_decref(api_expect(&c.s, 200, "POST", path, c.s.admin_key, "{}"));
    CHECK_EQ(call_with_key(&c, "call-9", body, &again), 409);
    CHECK(json_equal(refused, again));
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM bookings WHERE status <> 'cancelled'"), 0);
    /* a different body under that key is still a mismatch; another key books */
    json_decref(again);
    CHECK_EQ(call_with_key(&c, "call-9", booking_body(&c, MONDAY_9, c.anna, NULL), &again), 422);
    CHECK_EQ(call_with_key(&c, "call-10", body, &fresh), 201);
    /* an unknown hold is 404, never kept: another instance may have just made it */
    char hold_body[2048];
    snprintf(hold_body, sizeof(hold_body), "%s",
             booking_body(&c, "2026-03-30T11:00:00+02:00", NULL,
                          ",\"hold_id\":\"00000000-0000-4000-8000-000000000001\""));
    json_t *missing;
    CHECK_EQ(call_with_key(&c, "call-11", hold_body, &missing), 404);
    json_decref(missing);
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM idempotency_keys WHERE status_code = 409"), 1);
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM idempotency_keys WHERE status_code = 404"), 0);
    json_decref(taken);
    json_decref(refused);
    json_decref(again);
    json_decref(fresh);
    api_stop(&c.s);
}

TEST(bookings_a_keyed_request_refused_as_malformed_is_not_kept)
{
    clinic_t c;
    clinic_start(&c, NULL, WEEKDAYS);
    /* a resource of the organization that the service does not use: 400 from inside the
     * transaction, judged afresh on every retry; a body that does not decode: 400 at once */
    char body[1024], other[40];
    snprintf(body, sizeof(body), "{\"kind\":\"room\",\"name\":\"Room\",\"working_hours\":%s}",
             WEEKDAYS);
    snprintf(other, sizeof(other), "%s", created_id(&c.s, "/v1/resources", body));
    json_t *r;
    CHECK_EQ(call_with_key(&c, "call-12", booking_body(&c, MONDAY_9, other, NULL), &r), 400);
    CHECK(strcmp(error_field(r), "resource_ids") == 0);
    json_decref(r);
    CHECK_EQ(call_with_key(&c, "call-13", booking_body(&c, MONDAY_9, NULL, ",\"status\":1"), &r),
             400);
    json_decref(r);
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM idempotency_keys"), 0);
    CHECK_EQ(call_with_key(&c, "call-12", booking_body(&c, MONDAY_9, NULL, NULL), &r), 201);
    json_decref(r);
    api_stop(&c.s);
}

TEST(bookings_idempotency_key_while_the_first_runs_is_409_in_progress)
{
    clinic_t c;
    clinic_start(&c, NULL, WEEKDAYS);
    /* the first request holds the key: another session takes its lock as the transaction
     * does, and the request arrives while it is held */
    PGresult *lock = PQexec(c.s.db, "BEGIN");
    PQclear(lock);
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT pg_advisory_xact_lock(hashtextextended('%s' || ':idempotency:' || "
             "'busy-key', 0))",
             c.s.organization_id);
    lock = PQexec(c.s.db, sql);
    CHECK(PQresultStatus(lock) == PGRES_TUPLES_OK);
    PQclear(lock);
    json_t *r;
    CHECK_EQ(call_with_key(&c, "busy-key", booking_body(&c, MONDAY_9, NULL, NULL), &r), 409);
    CHECK(strcmp(api_error_code(r), "idempotency_in_progress") == 0);
    json_decref(r);
    PQclear(PQexec(c.s.db, "COMMIT"));
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM bookings"), 0);
    CHECK_EQ(call_with_key(&c, "busy-key", booking_body(&c, MONDAY_9, NULL, NULL), &r), 201);
    json_decref(r);
    api_stop(&c.s);
}

/* Another writer of `resource` is in the middle of its transaction: a session holds the
 * resource's lock as every writer of its occupancy takes it. `method path body` must wait
 * for that lock having written nothing, then answer `status` once the session commits. */
static void expect_waits_for_the_lock_of(clinic_t *c, const char *resource, const char *method,
                                         const char *path, const char *body, int status)
{
    PQclear(PQexec(c->s.db, "BEGIN"));
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT pg_advisory_xact_lock(hashtextextended('%s' || ':resource:' || '%s', 0))",
             c->s.organization_id, resource);
    PGresult *lock = PQexec(c->s.db, sql);
    CHECK(PQresultStatus(lock) == PGRES_TUPLES_OK);
    PQclear(lock);
    long before = count_rows(&c->s, "SELECT count(*) FROM occupancy");
    pid_t child = fork();
    if (child == 0) {
        json_t *r;
        _exit(api_call(&c->s, method, path, c->agent, body, &r) == status ? 0 : 1);
    }
    const char *waiting = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT "
                          "granted AND database = (SELECT oid FROM pg_database WHERE datname = "
                          "current_database())";
    long waiters = 0;
    for (int i = 0; i < 500 && waiters == 0; i++) {
        waiters = count_rows(&c->s, waiting);
        if (waiters == 0)
            usleep(10000);
    }
    CHECK_EQ(waiters, 1);
    /* nothing written while it waits (once the lock goes, it may write at any moment) */
    CHECK_EQ(count_rows(&c->s, "SELECT count(*) FROM occupancy"), before);
    PQclear(PQexec(c->s.db, "COMMIT"));
    int exit_status;
    CHECK(waitpid(child, &exit_status, 0) == child);
    CHECK(WIFEXITED(exit_status) && WEXITSTATUS(exit_status) == 0);
}

TEST(bookings_of_one_resource_take_its_lock_before_writing)
{
    clinic_t c;
    clinic_start(&c, NULL, WEEKDAYS);
    /* simultaneous writers queue on the lock instead of deadlocking in the exclusion check */
    expect_waits_for_the_lock_of(&c, c.anna, "POST", "/v1/bookings",
                                 booking_body(&c, MONDAY_9, c.anna, NULL), 201);
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM bookings"), 1);
    api_stop(&c.s);
}

TEST(bookings_holds_take_the_resource_lock_as_bookings_do)
{
    clinic_t c;
    clinic_start(&c, NULL, WEEKDAYS);
    char body[1024];
    snprintf(body, sizeof(body),
             "{\"service_id\":\"%s\",\"start\":\"%s\",\"resource_ids\":[\"%s\"]}", c.service,
             MONDAY_9, c.anna);
    expect_waits_for_the_lock_of(&c, c.anna, "POST", "/v1/holds", body, 201);
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM occupancy WHERE hold_id IS NOT NULL"), 1);
    api_stop(&c.s);
}

TEST(bookings_reschedules_take_the_locks_of_the_old_and_the_new_resources)
{
    clinic_t c;
    clinic_start(&c, NULL, WEEKDAYS);
    json_t *r = api_expect(&c.s, 201, "POST", "/v1/bookings", c.agent,
                           booking_body(&c, MONDAY_9, c.anna, NULL));
    char path[128], body[256];
    snprintf(path, sizeof(path), "/v1/bookings/%s/reschedule", api_id(r));
    json_decref(r);
    /* from Anna to Ben: the move waits for Ben's lock (the new time) and for Anna's (the
     * occupancy it deletes) */
    snprintf(body, sizeof(body),
             "{\"start\":\"2026-03-30T11:00:00+02:00\",\"resource_ids\":[\"%s\"]}", c.ben);
    expect_waits_for_the_lock_of(&c, c.ben, "POST", path, body, 200);
    snprintf(body, sizeof(body),
             "{\"start\":\"2026-03-30T13:00:00+02:00\",\"resource_ids\":[\"%s\"]}", c.anna);
    expect_waits_for_the_lock_of(&c, c.ben, "POST", path, body, 200);
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM booking_audit WHERE action = 'reschedule'"), 2);
    api_stop(&c.s);
}

/* GET /v1/bookings/{id} of a created booking, in `tz` (NULL: none). */
static json_t *booking_read_back(clinic_t *c, const json_t *created, const char *tz)
{
    char path[160];
    snprintf(path, sizeof(path), "/v1/bookings/%s%s%s", api_id(created), tz ? "?tz=" : "",
             tz ? tz : "");
    return api_expect(&c->s, 200, "GET", path, c->agent, NULL);
}

/* The answer to a new booking is rendered by its statement (and kept under its key as
 * rendered): it must be the very booking GET answers, field for field, in every zone and
 * with any text. */
TEST(bookings_the_created_answer_is_the_booking_as_get_answers_it)
{
    clinic_t c;
    clinic_start(&c, NULL, WEEKDAYS);
    static const struct {
        const char *start, *tz, *extra;
    } cases[] = {
        {MONDAY_9, NULL, ",\"notes\":\"quote \\\" backslash \\\\ slash / tab \\t nl \\n\""},
        {"2026-03-30T07:00:00Z", "UTC", ",\"external_ref\":\"z\\u00f3\\u0142w \\u2603 \\u0001\""},
        {"2026-03-30T08:00:00-04:00", "America/New_York", ",\"source\":\"dashboard\""},
        {"2026-03-30T18:00:00+05:30", "Asia/Kolkata", ",\"status\":\"pending\""},
        {"2026-03-31T09:00:00+02:00", "Etc/UTC", NULL},
        {"2026-03-31T11:00:00+02:00", "CET", NULL}, /* a zone named like an abbreviation */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char extra[256] = "";
        if (cases[i].tz)
            snprintf(extra, sizeof(extra), ",\"tz\":\"%s\"", cases[i].tz);
        snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), "%s",
                 cases[i].extra ? cases[i].extra : "");
        json_t *created = api_expect(&c.s, 201, "POST", "/v1/bookings", c.agent,
                                     booking_body(&c, cases[i].start, NULL, extra));
        json_t *read = booking_read_back(&c, created, cases[i].tz);
        if (!json_equal(created, read)) {
            char *a = json_dumps(created, JSON_COMPACT), *b = json_dumps(read, JSON_COMPACT);
            fprintf(stderr, "created %s\nread    %s\n", a, b);
            exit(1);
        }
        json_decref(created);
        json_decref(read);
    }
    /* a customer found again: the answer shows the customer as stored (the phone first
     * given, the name and email of this request) */
    json_t *created = api_expect(
        &c.s, 201, "POST", "/v1/bookings", c.agent,
        booking_body(&c, "2026-03-31T10:00:00+02:00", NULL, "")); /* same phone, no email */
    json_t *read = booking_read_back(&c, created, NULL);
    CHECK(json_equal(created, read));
    CHECK(strcmp(json_string_value(json_object_get(json_object_get(created, "customer"), "phone")),
                 "+48 601 234 567") == 0);
    json_decref(created);
    json_decref(read);
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM customers"), 1);
    api_stop(&c.s);
}

static void expect_invalid(clinic_t *c, const char *body, const char *field)
{
    json_t *r;
    int status = api_call(&c->s, "POST", "/v1/bookings", c->agent, body, &r);
    if (status != 400 || strcmp(api_error_code(r), "invalid_request") != 0 ||
        strcmp(error_field(r), field) != 0) {
        fprintf(stderr, "%s: status %d, field %s (expected %s)\n", body, status, error_field(r),
                field);
        exit(1);
    }
    json_decref(r);
}

TEST(bookings_bad_input_is_400_naming_the_field_and_writes_nothing)
{
    clinic_t c;
    clinic_start(&c, NULL, WEEKDAYS);
    char body[2048];
    expect_invalid(&c, "[]", "body");
    snprintf(body, sizeof(body),
             "{\"start\":\"%s\",\"customer\":{\"name\":\"A\",\"phone\":\"123\"}}", MONDAY_9);
    expect_invalid(&c, body, "service_id");
    expect_invalid(&c, booking_body(&c, "next monday", NULL, NULL), "start");
    expect_invalid(&c, booking_body(&c, MONDAY_9, NULL, ",\"colour\":\"blue\""), "colour");
    expect_invalid(&c, booking_body(&c, MONDAY_9, NULL, ",\"status\":\"cancelled\""), "status");
    expect_invalid(&c, booking_body(&c, MONDAY_9, NULL, ",\"source\":\"fax\""), "source");
    expect_invalid(&c, booking_body(&c, MONDAY_9, NULL, ",\"override\":true"), "override");
    expect_invalid(&c, booking_body(&c, MONDAY_9, NULL, ",\"end\":\"2026-03-30T11:00:00Z\""),
                   "end");
    expect_invalid(&c, booking_body(&c, MONDAY_9, NULL, ",\"tz\":\"Mars/Olympus\""), "tz");
    expect_invalid(&c, booking_body(&c, MONDAY_9, "not-an-id", NULL), "resource_ids[0]");
    snprintf(body, sizeof(body), "{\"service_id\":\"%s\",\"start\":\"%s\"}", c.service, MONDAY_9);
    expect_invalid(&c, body, "customer");
    snprintf(body, sizeof(body),
             "{\"service_id\":\"%s\",\"start\":\"%s\",\"customer\":{\"phone\":\"123\"}}", c.service,
             MONDAY_9);
    expect_invalid(&c, body, "customer.name");
    snprintf(body, sizeof(body),
             "{\"service_id\":\"%s\",\"start\":\"%s\",\"customer\":{\"name\":\"A\"}}", c.service,
             MONDAY_9);
    expect_invalid(&c, body, "customer.phone");
    snprintf(body, sizeof(body),
             "{\"service_id\":\"%s\",\"start\":\"%s\",\"customer\":{\"name\":\"A\","
             "\"phone\":\"call me\"}}",
             c.service, MONDAY_9);
    expect_invalid(&c, body, "customer.phone");
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM bookings"), 0);
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM customers"), 0);
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM occupancy"), 0);
    api_stop(&c.s);
}

TEST(bookings_customer_is_found_by_normalized_phone)
{
    clinic_t c;
    clinic_start(&c, NULL, WEEKDAYS);
    char body[2048];
    snprintf(body, sizeof(body),
             "{\"service_id\":\"%s\",\"start\":\"%s\",\"customer\":{\"name\":\"Anna K.\","
             "\"phone\":\"0048 (601) 234-567\",\"email\":\"anna@example.com\"}}",
             c.service, "2026-03-30T10:00:00+02:00");
    json_t *first = api_expect(&c.s, 201, "POST", "/v1/bookings", c.agent,
                               booking_body(&c, MONDAY_9, NULL, NULL));
    json_t *second = api_expect(&c.s, 201, "POST", "/v1/bookings", c.agent, body);
    json_t *a = json_object_get(first, "customer"), *b = json_object_get(second, "customer");
    CHECK(strcmp(api_id(a), api_id(b)) == 0);
    /* a later booking's name and email update the customer */
    CHECK(strcmp(json_string_value(json_object_get(b, "name")), "Anna K.") == 0);
    CHECK(strcmp(json_string_value(json_object_get(b, "email")), "anna@example.com") == 0);
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM customers WHERE phone_normalized = "
                              "'+48601234567'"),
             1);
    json_decref(first);
    json_decref(second);
    /* known by email alone, then with a phone as well: the same customer, who gets the phone */
    snprintf(body, sizeof(body),
             "{\"service_id\":\"%s\",\"start\":\"%s\",\"customer\":{\"name\":\"Ben\","
             "\"email\":\"Ben@Example.com\"}}",
             c.service, "2026-03-30T12:00:00+02:00");
    first = api_expect(&c.s, 201, "POST", "/v1/bookings", c.agent, body);
    snprintf(body, sizeof(body),
             "{\"service_id\":\"%s\",\"start\":\"%s\",\"customer\":{\"name\":\"Ben\","
             "\"email\":\"ben@example.com\",\"phone\":\"+48 700 100 200\"}}",
             c.service, "2026-03-30T14:00:00+02:00");
    second = api_expect(&c.s, 201, "POST", "/v1/bookings", c.agent, body);
    a = json_object_get(first, "customer"), b = json_object_get(second, "customer");
    CHECK(strcmp(api_id(a), api_id(b)) == 0);
    CHECK(strcmp(json_string_value(json_object_get(b, "phone")), "+48 700 100 200") == 0);
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM customers"), 2);
    json_decref(first);
    json_decref(second);
    /* emails compare lower-cased beyond ASCII too, in a booking and in a search */
    snprintf(body, sizeof(body),
             "{\"service_id\":\"%s\",\"start\":\"%s\",\"customer\":{\"name\":\"\u00c9va\","
             "\"email\":\"\u00c9VA@Example.com\"}}",
             c.service, "2026-03-31T10:00:00+02:00");
    first = api_expect(&c.s, 201, "POST", "/v1/bookings", c.agent, body);
    snprintf(body, sizeof(body),
             "{\"service_id\":\"%s\",\"start\":\"%s\",\"customer\":{\"name\":\"\u00c9va\","
             "\"email\":\"\u00e9va@example.com\"}}",
             c.service, "2026-03-31T12:00:00+02:00");
    second = api_expect(&c.s, 201, "POST", "/v1/bookings", c.agent, body);
    CHECK(strcmp(api_id(json_object_get(first, "customer")),
                 api_id(json_object_get(second, "customer"))) == 0);
    json_t *found =
        api_expect(&c.s, 200, "GET", "/v1/customers?email=%C3%A9va%40example.com", c.agent, NULL);
    CHECK_EQ(json_array_size(json_object_get(found, "items")), 1);
    json_decref(found);
    json_decref(first);
    json_decref(second);
    api_stop(&c.s);
}

TEST(bookings_cancel_frees_the_time_at_once_and_repeats)
{
    clinic_t c;
    clinic_start(&c, NULL, WEEKDAYS);
    json_t *r = api_expect(&c.s, 201, "POST", "/v1/bookings", c.agent,
                           booking_body(&c, MONDAY_9, c.anna, NULL));
    char path[128];
    snprintf(path, sizeof(path), "/v1/bookings/%s/cancel", api_id(r));
    json_decref(r);
    char who[128];
    serving(&c, "2026-03-30", MONDAY_9, who, sizeof(who));
    CHECK(strstr(who, c.anna) == NULL);
    r = api_expect(&c.s, 200, "POST", path, c.agent, "{\"reason\":\"caller asked\"}");
    CHECK(strcmp(json_string_value(json_object_get(r, "status")), "cancelled") == 0);
    CHECK_EQ(json_array_size(json_object_get(r, "resource_ids")), 1);
    json_decref(r);
    serving(&c, "2026-03-30", MONDAY_9, who, sizeof(who));
    CHECK(strstr(who, c.anna) != NULL);
    r = api_expect(&c.s, 200, "POST", path, c.agent, NULL);
    CHECK(strcmp(json_string_value(json_object_get(r, "status")), "cancelled") == 0);
    json_decref(r);
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM booking_audit WHERE action = 'cancel'"), 1);
    json_decref(api_expect(&c.s, 201, "POST", "/v1/bookings", c.agent,
                           booking_body(&c, MONDAY_9, c.anna, NULL)));
    api_stop(&c.s);
}

TEST(bookings_holds_block_and_a_booking_consumes_its_hold)
{
    clinic_t c;
    clinic_start(&c, NULL, WEEKDAYS);
    char body[1024];
    snprintf(body, sizeof(body),
             "{\"service_id\":\"%s\",\"start\":\"%s\",\"resource_ids\":[\"%s\"],"
             "\"ttl_seconds\":600}",
             c.service, MONDAY_9, c.anna);
    json_t *hold = api_expect(&c.s, 201, "POST", "/v1/holds", c.agent, body);
    CHECK(strcmp(json_string_value(json_object_get(hold, "expires_at")),
                 "2026-03-27T08:10:00+01:00") == 0);
    char hold_id[40];
    snprintf(hold_id, sizeof(hold_id), "%s", api_id(hold));
    json_decref(hold);
    char who[128];
    serving(&c, "2026-03-30", MONDAY_9, who, sizeof(who));
    CHECK(strcmp(who, c.ben) == 0);
    /* a second hold or a booking of Anna at that time: refused with alternatives */
    json_t *r = api_expect(&c.s, 409, "POST", "/v1/holds", c.agent, body);
    CHECK(json_array_size(alternatives_of(r)) > 0);
    json_decref(r);
    json_decref(api_expect(&c.s, 409, "POST", "/v1/bookings", c.agent,
                           booking_body(&c, MONDAY_9, c.anna, NULL)));
    /* a hold of another start is a conflict */
    char extra[128];
    snprintf(extra, sizeof(extra), ",\"hold_id\":\"%s\"", hold_id);
    r = api_expect(&c.s, 409, "POST", "/v1/bookings", c.agent,
                   booking_body(&c, "2026-03-30T10:00:00+02:00", NULL, extra));
    CHECK(strcmp(api_error_code(r), "conflict") == 0);
    json_decref(r);
    r = api_expect(&c.s, 201, "POST", "/v1/bookings", c.agent,
                   booking_body(&c, MONDAY_9, NULL, extra));
    CHECK(strcmp(json_string_value(json_array_get(json_object_get(r, "resource_ids"), 0)),
                 c.anna) == 0);
    json_decref(r);
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM occupancy WHERE hold_id IS NOT NULL"), 0);
    /* consumed: booking from it again is a conflict; releasing it is 204 */
    r = api_expect(&c.s, 409, "POST", "/v1/bookings", c.agent,
                   booking_body(&c, MONDAY_9, NULL, extra));
    CHECK(strcmp(api_error_code(r), "conflict") == 0);
    json_decref(r);
    char path[96];
    snprintf(path, sizeof(path), "/v1/holds/%s", hold_id);
    json_decref(api_expect(&c.s, 204, "DELETE", path, c.agent, NULL));
    json_decref(api_expect(&c.s, 404, "DELETE", "/v1/holds/00000000-0000-0000-0000-000000000001",
                           c.agent, NULL));
    api_stop(&c.s);
}

/* A hold body for Monday 09:00 with Anna (static buffer). */
static const char *anna_monday_hold(const clinic_t *c)
{
    static char body[1024];
    snprintf(body, sizeof(body),
             "{\"service_id\":\"%s\",\"start\":\"%s\",\"resource_ids\":[\"%s\"]}", c->service,
             MONDAY_9, c->anna);
    return body;
}

TEST(bookings_released_hold_frees_the_time)
{
    clinic_t c;
    clinic_start(&c, NULL, WEEKDAYS);
    const char *body = anna_monday_hold(&c);
    json_t *hold = api_expect(&c.s, 201, "POST", "/v1/holds", c.agent, body);
    char path[96];
    snprintf(path, sizeof(path), "/v1/holds/%s", api_id(hold));
    json_decref(hold);
    json_decref(api_expect(&c.s, 204, "DELETE", path, c.agent, NULL));
    json_decref(api_expect(&c.s, 204, "DELETE", path, c.agent, NULL));
    char who[128];
    serving(&c, "2026-03-30", MONDAY_9, who, sizeof(who));
    CHECK(strstr(who, c.anna) != NULL);
    json_decref(api_expect(&c.s, 201, "POST", "/v1/holds", c.agent, body));
    api_stop(&c.s);
}

/* A hold whose occupancy is gone (another transaction or the sweep found it expired by its
 * own clock) is gone for a booking too: never a booking that occupies nothing. */
TEST(bookings_a_hold_without_its_occupancy_is_gone)
{
    clinic_t c;
    clinic_start(&c, NULL, WEEKDAYS);
    const char *body = anna_monday_hold(&c);
    json_t *hold = api_expect(&c.s, 201, "POST", "/v1/holds", c.agent, body);
    char extra[96];
    snprintf(extra, sizeof(extra), ",\"hold_id\":\"%s\"", api_id(hold));
    json_decref(hold);
    test_db_exec(c.s.db, "DELETE FROM occupancy WHERE hold_id IS NOT NULL");
    json_t *r = api_expect(&c.s, 409, "POST", "/v1/bookings", c.agent,
                           booking_body(&c, MONDAY_9, NULL, extra));
    CHECK(strcmp(api_error_code(r), "conflict") == 0);
    json_decref(r);
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM bookings"), 0);
    api_stop(&c.s);
}

TEST(bookings_a_hold_refuses_pinned_resources_it_does_not_hold_and_stays)
{
    clinic_t c;
    clinic_start(&c, NULL, WEEKDAYS);
    json_t *hold = api_expect(&c.s, 201, "POST", "/v1/holds", c.agent, anna_monday_hold(&c));
    char extra[96];
    snprintf(extra, sizeof(extra), ",\"hold_id\":\"%s\"", api_id(hold));
    json_decref(hold);
    char body[2048];
    snprintf(body, sizeof(body), "%s", booking_body(&c, MONDAY_9, c.ben, extra));
    json_t *refused, *again;
    CHECK_EQ(call_with_key(&c, "hold-ben", body, &refused), 409);
    CHECK(strcmp(api_error_code(refused), "conflict") == 0);
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM occupancy WHERE hold_id IS NOT NULL"), 1);
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM holds WHERE released_at IS NULL"), 1);
    CHECK_EQ(call_with_key(&c, "hold-ben", body, &again), 409);
    CHECK(json_equal(refused, again));
    json_decref(refused);
    json_decref(again);
    /* the hold still books with its own resource */
    json_t *r = api_expect(&c.s, 201, "POST", "/v1/bookings", c.agent,
                           booking_body(&c, MONDAY_9, c.anna, extra));
    CHECK(strcmp(json_string_value(json_array_get(json_object_get(r, "resource_ids"), 0)),
                 c.anna) == 0);
    json_decref(r);
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM bookings"), 1);
    api_stop(&c.s);
}

/* On the real clock: a hold of two seconds stops blocking once it expires, in the index at once
 * and in the database when a booking meets it. (Two, not one: the clock counts whole seconds,
 * so a hold of one second may expire before the next request, made at once, is judged.) */
TEST(bookings_expired_hold_stops_blocking)
{
    clinic_t c;
    static const char *const real_clock[] = {NULL};
    clinic_start(&c, real_clock,
                 "{\"mon\":[[\"00:00\",\"24:00\"]],\"tue\":[[\"00:00\",\"24:00\"]],"
                 "\"wed\":[[\"00:00\",\"24:00\"]],\"thu\":[[\"00:00\",\"24:00\"]],"
                 "\"fri\":[[\"00:00\",\"24:00\"]],\"sat\":[[\"00:00\",\"24:00\"]],"
                 "\"sun\":[[\"00:00\",\"24:00\"]]}");
    time_t start = (time(NULL) / 3600 + 3) * 3600;
    char start_text[32], day[16];
    struct tm tm;
    gmtime_r(&start, &tm);
    strftime(start_text, sizeof(start_text), "%Y-%m-%dT%H:%M:%SZ", &tm);
    char body[1024];
    snprintf(body, sizeof(body),
             "{\"service_id\":\"%s\",\"start\":\"%s\",\"resource_ids\":[\"%s\"],"
             "\"ttl_seconds\":2,\"tz\":\"UTC\"}",
             c.service, start_text, c.anna);
    json_decref(api_expect(&c.s, 201, "POST", "/v1/holds", c.agent, body));
    json_decref(api_expect(&c.s, 409, "POST", "/v1/holds", c.agent, body));
    sleep(3);
    strftime(day, sizeof(day), "%Y-%m-%d", &tm);
    char path[256];
    snprintf(path, sizeof(path), "/v1/slots?service_id=%s&from=%s&to=%s&tz=UTC&resource_id=%s",
             c.service, day, day, c.anna);
    json_t *r = api_expect(&c.s, 200, "GET", path, c.agent, NULL);
    bool offered = false;
    size_t i;
    json_t *slot;
    json_array_foreach(json_object_get(r, "slots"), i, slot)
    {
        offered |= strcmp(json_string_value(json_object_get(slot, "start")), start_text) == 0;
    }
    json_decref(r);
    CHECK(offered);
    json_decref(api_expect(&c.s, 201, "POST", "/v1/bookings", c.agent,
                           booking_body(&c, start_text, c.anna, ",\"tz\":\"UTC\"")));
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM occupancy WHERE hold_id IS NOT NULL"), 0);
    api_stop(&c.s);
}

TEST(bookings_admin_override_skips_hours_but_never_overlaps)
{
    clinic_t c;
    clinic_start(&c, NULL, WEEKDAYS);
    /* Saturday, nobody works: an admin may book it anyway, with a custom end */
    const char *saturday = "2026-03-28T10:00:00+01:00";
    json_t *r =
        api_expect(&c.s, 201, "POST", "/v1/bookings", c.s.admin_key,
                   booking_body(&c, saturday, c.anna,
                                ",\"override\":true,\"end\":\"2026-03-28T12:30:00+01:00\""));
    CHECK(strcmp(json_string_value(json_object_get(r, "end")), "2026-03-28T12:30:00+01:00") == 0);
    json_decref(r);
    r = api_expect(&c.s, 409, "POST", "/v1/bookings", c.s.admin_key,
                   booking_body(&c, "2026-03-28T11:00:00+01:00", c.anna, ",\"override\":true"));
    CHECK(strcmp(api_error_code(r), "slot_unavailable") == 0);
    json_decref(r);
    /* unpinned: the engine picks the one who is free */
    r = api_expect(&c.s, 201, "POST", "/v1/bookings", c.s.admin_key,
                   booking_body(&c, "2026-03-28T11:00:00+01:00", NULL, ",\"override\":true"));
    CHECK(strcmp(json_string_value(json_array_get(json_object_get(r, "resource_ids"), 0)), c.ben) ==
          0);
    json_decref(r);
    /* nor does it book a resource taken out of service, even pinned */
    char path[96];
    snprintf(path, sizeof(path), "/v1/resources/%s", c.ben);
    json_decref(api_expect(&c.s, 200, "PATCH", path, c.s.admin_key, "{\"active\":false}"));
    r = api_expect(&c.s, 409, "POST", "/v1/bookings", c.s.admin_key,
                   booking_body(&c, "2026-03-28T15:00:00+01:00", c.ben, ",\"override\":true"));
    CHECK(strcmp(api_error_code(r), "slot_unavailable") == 0);
    json_decref(r);
    api_stop(&c.s);
}

TEST(bookings_a_custom_length_keeps_working_hours_and_blocks_over_all_of_it)
{
    clinic_t c;
    clinic_start(&c, NULL, WEEKDAYS);
    json_t *r;
    /* Monday 15:00 is a slot; 15:00-17:30 would run past Anna's 17:00 */
    r = api_expect(&c.s, 409, "POST", "/v1/bookings", c.s.admin_key,
                   booking_body(&c, "2026-03-30T15:00:00+02:00", c.anna,
                                ",\"end\":\"2026-03-30T17:30:00+02:00\""));
    CHECK(strcmp(api_error_code(r), "slot_unavailable") == 0);
    json_decref(r);
    /* a block at 16:30 in the way of 15:00-17:00 */
    char path[128];
    snprintf(path, sizeof(path), "/v1/resources/%s/blocks", c.anna);
    json_decref(api_expect(&c.s, 201, "POST", path, c.s.admin_key,
                           "{\"start\":\"2026-03-30T16:30:00+02:00\","
                           "\"end\":\"2026-03-30T16:45:00+02:00\",\"reason\":\"call\"}"));
    r = api_expect(&c.s, 409, "POST", "/v1/bookings", c.s.admin_key,
                   booking_body(&c, "2026-03-30T15:00:00+02:00", c.anna,
                                ",\"end\":\"2026-03-30T17:00:00+02:00\""));
    json_decref(r);
    /* up to the block it is fine: two hours from 14:00 */
    json_t *two_hours = api_expect(&c.s, 201, "POST", "/v1/bookings", c.s.admin_key,
                                   booking_body(&c, "2026-03-30T14:00:00+02:00", c.anna,
                                                ",\"end\":\"2026-03-30T16:00:00+02:00\""));
    /* moved, it keeps its two hours: 16:00 would end at 18:00, after hours; 09:00 is fine */
    snprintf(path, sizeof(path), "/v1/bookings/%s/reschedule", api_id(two_hours));
    r = api_expect(&c.s, 409, "POST", path, c.s.admin_key,
                   "{\"start\":\"2026-03-31T16:00:00+02:00\"}");
    json_decref(r);
    r = api_expect(&c.s, 200, "POST", path, c.s.admin_key,
                   "{\"start\":\"2026-03-31T09:00:00+02:00\"}");
    CHECK(strcmp(json_string_value(json_object_get(r, "end")), "2026-03-31T11:00:00+02:00") == 0);
    json_decref(r);
    json_decref(two_hours);
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM bookings"), 1);
    api_stop(&c.s);
}

/* GET /v1/resources/{id}/busy of `resource` on Monday 2026-03-30 as `key` sees it. */
static json_t *busy_monday(clinic_t *c, const char *resource, const char *key)
{
    char path[256];
    snprintf(path, sizeof(path), "/v1/resources/%s/busy?from=2026-03-30&to=2026-03-30", resource);
    json_t *r = api_expect(&c->s, 200, "GET", path, key, NULL);
    json_t *items = json_incref(json_object_get(r, "items"));
    json_decref(r);
    return items;
}

static void expect_busy(const json_t *item, const char *source, const char *id_field,
                        const char *id, const char *start, const char *end)
{
    const char *s = json_string_value(json_object_get(item, "start"));
    const char *e = json_string_value(json_object_get(item, "end"));
    const char *got = json_string_value(json_object_get(item, id_field));
    if (!s || !e || !got || strcmp(json_string_value(json_object_get(item, "source")), source) ||
        strcmp(got, id) || strcmp(s, start) || strcmp(e, end)) {
        char *text = json_dumps(item, JSON_COMPACT);
        fprintf(stderr, "busy item %s, expected %s %s %s-%s\n", text, source, id, start, end);
        free(text);
        exit(1);
    }
}

TEST(bookings_busy_lists_bookings_holds_and_blocks_with_their_ids)
{
    clinic_t c;
    clinic_start(&c, NULL, WEEKDAYS);
    char body[1024], padded[40], path[160];
    snprintf(body, sizeof(body),
             "{\"name\":\"Whitening\",\"duration_minutes\":30,\"buffer_before_minutes\":10,"
             "\"buffer_after_minutes\":15,\"requirements\":[{\"resource_ids\":[\"%s\"],"
             "\"mode\":\"all\"}]}",
             c.anna);
    snprintf(padded, sizeof(padded), "%s", created_id(&c.s, "/v1/services", body));
    snprintf(body, sizeof(body),
             "{\"service_id\":\"%s\",\"start\":\"2026-03-30T11:00:00+02:00\","
             "\"customer\":{\"name\":\"Ola\",\"email\":\"ola@example.com\"}}",
             padded);
    json_t *booking = api_expect(&c.s, 201, "POST", "/v1/bookings", c.agent, body);
    snprintf(body, sizeof(body),
             "{\"service_id\":\"%s\",\"start\":\"2026-03-30T14:00:00+02:00\","
             "\"resource_ids\":[\"%s\"]}",
             c.service, c.anna);
    json_t *hold = api_expect(&c.s, 201, "POST", "/v1/holds", c.agent, body);
    snprintf(path, sizeof(path), "/v1/resources/%s/blocks", c.anna);
    json_t *lunch = api_expect(&c.s, 201, "POST", path, c.s.admin_key,
                               "{\"rrule\":\"FREQ=WEEKLY;BYDAY=MO\","
                               "\"start_local\":\"2026-03-02T12:00:00\",\"duration_minutes\":45}");
    json_t *call = api_expect(&c.s, 201, "POST", path, c.s.admin_key,
                              "{\"start\":\"2026-03-30T16:00:00+02:00\","
                              "\"end\":\"2026-03-30T16:30:00+02:00\"}");
    /* someone else's time is not Anna's */
    json_t *bens = api_expect(&c.s, 201, "POST", "/v1/bookings", c.agent,
                              booking_body(&c, MONDAY_9, c.ben, NULL));
    json_t *items = busy_monday(&c, c.anna, c.agent);
    CHECK_EQ(json_array_size(items), 4);
    expect_busy(json_array_get(items, 0), "booking", "booking_id", api_id(booking),
                "2026-03-30T10:50:00+02:00", "2026-03-30T11:45:00+02:00");
    CHECK_EQ(json_integer_value(json_object_get(json_array_get(items, 0), "buffer_before_minutes")),
             10);
    CHECK_EQ(json_integer_value(json_object_get(json_array_get(items, 0), "buffer_after_minutes")),
             15);
    expect_busy(json_array_get(items, 1), "block", "block_id", api_id(lunch),
                "2026-03-30T12:00:00+02:00", "2026-03-30T12:45:00+02:00");
    expect_busy(json_array_get(items, 2), "hold", "hold_id", api_id(hold),
                "2026-03-30T14:00:00+02:00", "2026-03-30T15:00:00+02:00");
    expect_busy(json_array_get(items, 3), "block", "block_id", api_id(call),
                "2026-03-30T16:00:00+02:00", "2026-03-30T16:30:00+02:00");
    json_decref(items);
    /* in another zone, and through a window of instants */
    snprintf(path, sizeof(path),
             "/v1/resources/%s/busy?from=2026-03-30T12:30:00Z&to=2026-03-30T13:00:00Z&tz=UTC",
             c.anna);
    json_t *r = api_expect(&c.s, 200, "GET", path, c.s.admin_key, NULL);
    items = json_object_get(r, "items");
    CHECK_EQ(json_array_size(items), 1);
    expect_busy(json_array_get(items, 0), "hold", "hold_id", api_id(hold), "2026-03-30T12:00:00Z",
                "2026-03-30T13:00:00Z");
    json_decref(r);
    /* a cancelled booking and a released hold make her busy no more */
    snprintf(path, sizeof(path), "/v1/bookings/%s/cancel", api_id(booking));
    json_decref(api_expect(&c.s, 200, "POST", path, c.agent, "{}"));
    snprintf(path, sizeof(path), "/v1/holds/%s", api_id(hold));
    json_decref(api_expect(&c.s, 204, "DELETE", path, c.agent, NULL));
    items = busy_monday(&c, c.anna, c.agent);
    CHECK_EQ(json_array_size(items), 2);
    json_decref(items);
    items = busy_monday(&c, c.ben, c.agent);
    CHECK_EQ(json_array_size(items), 1);
    expect_busy(json_array_get(items, 0), "booking", "booking_id", api_id(bens),
                "2026-03-30T09:00:00+02:00", "2026-03-30T10:00:00+02:00");
    json_decref(items);
    /* a window must be given, in order, and at most 62 days long */
    snprintf(path, sizeof(path), "/v1/resources/%s/busy?from=2026-03-30", c.anna);
    json_decref(api_expect(&c.s, 400, "GET", path, c.agent, NULL));
    snprintf(path, sizeof(path), "/v1/resources/%s/busy?from=2026-03-30&to=2026-03-01", c.anna);
    json_decref(api_expect(&c.s, 400, "GET", path, c.agent, NULL));
    snprintf(path, sizeof(path), "/v1/resources/%s/busy?from=2026-03-01&to=2026-06-01", c.anna);
    json_decref(api_expect(&c.s, 400, "GET", path, c.agent, NULL));
    snprintf(path, sizeof(path), "/v1/resources/%s/busy?from=2026-03-30&to=2026-03-30", c.service);
    json_decref(api_expect(&c.s, 404, "GET", path, c.agent, NULL));
    json_decref(booking);
    json_decref(hold);
    json_decref(lunch);
    json_decref(call);
    json_decref(bens);
    api_stop(&c.s);
}

TEST(bookings_another_organization_sees_404)
{
    clinic_t c;
    clinic_start(&c, NULL, WEEKDAYS);
    json_t *booking = api_expect(&c.s, 201, "POST", "/v1/bookings", c.agent,
                                 booking_body(&c, MONDAY_9, c.anna, NULL));
    char hold_body[512];
    snprintf(hold_body, sizeof(hold_body),
             "{\"service_id\":\"%s\",\"start\":\"2026-03-30T10:00:00+02:00\"}", c.service);
    json_t *hold = api_expect(&c.s, 201, "POST", "/v1/holds", c.agent, hold_body);
    char other_key[128], other_org[40];
    api_create_org(&c.s, "Other Clinic", other_key, other_org);
    /* the new organization reaches the index by NOTIFY: until then its slots are 503 */
    for (int i = 0; i < 100; i++) {
        json_t *probe;
        int status = api_call(&c.s, "POST", "/v1/holds", other_key, hold_body, &probe);
        json_decref(probe);
        if (status != 503)
            break;
        usleep(50 * 1000);
    }
    char path[160];
    snprintf(path, sizeof(path), "/v1/bookings/%s", api_id(booking));
    json_decref(api_expect(&c.s, 404, "GET", path, other_key, NULL));
    snprintf(path, sizeof(path), "/v1/bookings/%s/cancel", api_id(booking));
    json_decref(api_expect(&c.s, 404, "POST", path, other_key, NULL));
    snprintf(path, sizeof(path), "/v1/holds/%s", api_id(hold));
    json_decref(api_expect(&c.s, 404, "DELETE", path, other_key, NULL));
    snprintf(path, sizeof(path), "/v1/bookings/%s", api_id(booking));
    json_decref(api_expect(&c.s, 404, "PATCH", path, other_key, "{\"status\":\"completed\"}"));
    snprintf(path, sizeof(path), "/v1/bookings/%s/reschedule", api_id(booking));
    json_decref(api_expect(&c.s, 404, "POST", path, other_key,
                           "{\"start\":\"2026-03-30T12:00:00+02:00\"}"));
    snprintf(path, sizeof(path), "/v1/bookings/%s/history", api_id(booking));
    json_decref(api_expect(&c.s, 404, "GET", path, other_key, NULL));
    snprintf(path, sizeof(path), "/v1/resources/%s/busy?from=2026-03-30&to=2026-03-30", c.anna);
    json_decref(api_expect(&c.s, 404, "GET", path, other_key, NULL));
    snprintf(path, sizeof(path), "/v1/customers/%s/bookings",
             api_id(json_object_get(booking, "customer")));
    json_decref(api_expect(&c.s, 404, "GET", path, other_key, NULL));
    json_t *none = api_expect(&c.s, 200, "GET", "/v1/bookings", other_key, NULL);
    CHECK_EQ(json_array_size(json_object_get(none, "items")), 0);
    json_decref(none);
    json_t *r = api_expect(&c.s, 404, "POST", "/v1/bookings", other_key,
                           booking_body(&c, "2026-03-30T11:00:00+02:00", NULL, NULL));
    CHECK(strcmp(api_error_code(r), "not_found") == 0);
    json_decref(r);
    json_decref(api_expect(&c.s, 404, "POST", "/v1/holds", other_key, hold_body));
    /* untouched */
    snprintf(path, sizeof(path), "/v1/bookings/%s", api_id(booking));
    r = api_expect(&c.s, 200, "GET", path, c.agent, NULL);
    CHECK(strcmp(json_string_value(json_object_get(r, "status")), "confirmed") == 0);
    json_decref(r);
    json_decref(booking);
    json_decref(hold);
    api_stop(&c.s);
}

/* The index cannot know of a write that has not committed: the engine lets the request through,
 * and the exclusion constraint refuses it once the other transaction commits. */
TEST(bookings_overlap_found_by_the_database_is_409_with_alternatives)
{
    clinic_t c;
    clinic_start(&c, NULL, WEEKDAYS);
    char sql[2048];
    snprintf(sql, sizeof(sql),
             "WITH u AS (INSERT INTO customers (organization_id, name, email) "
             "VALUES ('%s', 'Walk-in', 'walk@example.com') RETURNING id), "
             "b AS (INSERT INTO bookings (organization_id, service_id, customer_id, starts_at, "
             "ends_at) SELECT '%s', '%s', u.id, '%s', '2026-03-30T10:00:00+02:00' FROM u "
             "RETURNING id) "
             "INSERT INTO occupancy (organization_id, resource_id, booking_id, occupied) "
             "SELECT '%s', '%s', b.id, tstzrange('%s', '2026-03-30T10:00:00+02:00') FROM b",
             c.s.organization_id, c.s.organization_id, c.service, MONDAY_9, c.s.organization_id,
             c.anna, MONDAY_9);
    PQclear(PQexec(c.s.db, "BEGIN"));
    PGresult *r = PQexec(c.s.db, sql);
    CHECK(PQresultStatus(r) == PGRES_COMMAND_OK);
    PQclear(r);
    int pipes[2];
    CHECK(pipe(pipes) == 0);
    pid_t child = fork();
    if (child == 0) {
        close(pipes[0]);
        json_t *answer;
        int status = api_call(&c.s, "POST", "/v1/bookings", c.agent,
                              booking_body(&c, MONDAY_9, c.anna, NULL), &answer);
        char result[8] = "bad";
        if (status == 409 && strcmp(api_error_code(answer), "slot_unavailable") == 0 &&
            json_array_size(alternatives_of(answer)) == 3)
            snprintf(result, sizeof(result), "ok");
        CHECK(write(pipes[1], result, strlen(result)) > 0);
        _exit(0);
    }
    close(pipes[1]);
    usleep(500 * 1000); /* the request now waits on the uncommitted row */
    PQclear(PQexec(c.s.db, "COMMIT"));
    char result[8] = {0};
    CHECK(read(pipes[0], result, sizeof(result) - 1) > 0);
    int status;
    CHECK(waitpid(child, &status, 0) == child);
    CHECK(strcmp(result, "ok") == 0);
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM bookings"), 1);
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM customers"), 1);
    api_stop(&c.s);
}

TEST(bookings_status_moves_only_the_allowed_ways)
{
    clinic_t c;
    clinic_start(&c, NULL, WEEKDAYS);
    json_t *r = api_expect(&c.s, 201, "POST", "/v1/bookings", c.agent,
                           booking_body(&c, MONDAY_9, NULL, ",\"status\":\"pending\""));
    char path[128];
    snprintf(path, sizeof(path), "/v1/bookings/%s", api_id(r));
    json_decref(r);
    /* a pending booking holds its time too */
    char who[128];
    serving(&c, "2026-03-30", MONDAY_9, who, sizeof(who));
    CHECK(strchr(who, ' ') == NULL);
    json_decref(api_expect(&c.s, 409, "PATCH", path, c.agent, "{\"status\":\"completed\"}"));
    r = api_expect(&c.s, 200, "PATCH", path, c.agent,
                   "{\"status\":\"confirmed\",\"notes\":\"called back\"}");
    CHECK(strcmp(json_string_value(json_object_get(r, "status")), "confirmed") == 0);
    CHECK(strcmp(json_string_value(json_object_get(r, "notes")), "called back") == 0);
    json_decref(r);
    json_decref(api_expect(&c.s, 200, "PATCH", path, c.agent, "{\"status\":\"confirmed\"}"));
    /* pending is where a booking starts, never where it moves */
    json_decref(api_expect(&c.s, 400, "PATCH", path, c.agent, "{\"status\":\"pending\"}"));
    r = api_expect(&c.s, 400, "PATCH", path, c.agent, "{\"status\":\"cancelled\"}");
    CHECK(strcmp(error_field(r), "status") == 0);
    json_decref(r);
    r = api_expect(&c.s, 200, "PATCH", path, c.agent, "{\"status\":\"no_show\"}");
    CHECK(strcmp(json_string_value(json_object_get(r, "status")), "no_show") == 0);
    json_decref(r);
    json_decref(api_expect(&c.s, 409, "PATCH", path, c.agent, "{\"status\":\"completed\"}"));
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM booking_audit WHERE action = 'update'"), 2);
    json_decref(api_expect(&c.s, 404, "PATCH", "/v1/bookings/00000000-0000-0000-0000-000000000001",
                           c.agent, "{\"status\":\"confirmed\"}"));
    api_stop(&c.s);
}

static json_t *reschedule(clinic_t *c, int status, const char *id, const char *body)
{
    char path[128];
    snprintf(path, sizeof(path), "/v1/bookings/%s/reschedule", id);
    return api_expect(&c->s, status, "POST", path, c->agent, body);
}

TEST(bookings_reschedule_is_atomic_and_its_own_time_never_blocks_it)
{
    clinic_t c;
    clinic_start(&c, NULL, WEEKDAYS);
    /* a 30-minute grid for a one-hour cleaning: a move by half an hour overlaps the old time */
    char body[512];
    snprintf(body, sizeof(body), "{\"slot_interval_minutes\":30}");
    char path[128];
    snprintf(path, sizeof(path), "/v1/services/%s", c.service);
    json_decref(api_expect(&c.s, 200, "PATCH", path, c.s.admin_key, body));
    json_t *r = api_expect(&c.s, 201, "POST", "/v1/bookings", c.agent,
                           booking_body(&c, MONDAY_9, c.anna, NULL));
    char id[40];
    snprintf(id, sizeof(id), "%s", api_id(r));
    json_decref(r);
    snprintf(body, sizeof(body),
             "{\"start\":\"2026-03-30T09:30:00+02:00\",\"resource_ids\":[\"%s\"]}", c.anna);
    r = reschedule(&c, 200, id, body);
    CHECK(strcmp(api_id(r), id) == 0);
    CHECK(strcmp(json_string_value(json_object_get(r, "end")), "2026-03-30T10:30:00+02:00") == 0);
    CHECK(strcmp(json_string_value(json_array_get(json_object_get(r, "resource_ids"), 0)),
                 c.anna) == 0);
    json_decref(r);
    /* the old start is free again for Anna, the new one is not */
    char who[128];
    serving(&c, "2026-03-30", MONDAY_9, who, sizeof(who));
    CHECK(strstr(who, c.anna) == NULL); /* 09:00–10:00 still overlaps 09:30 */
    serving(&c, "2026-03-30", "2026-03-30T11:00:00+02:00", who, sizeof(who));
    CHECK(strstr(who, c.anna) != NULL);
    /* Ben takes 12:00; moving Anna's booking onto Ben at 12:00 is refused and keeps its time */
    json_decref(api_expect(&c.s, 201, "POST", "/v1/bookings", c.agent,
                           booking_body(&c, "2026-03-30T12:00:00+02:00", c.ben, NULL)));
    snprintf(body, sizeof(body),
             "{\"start\":\"2026-03-30T12:00:00+02:00\",\"resource_ids\":[\"%s\"]}", c.ben);
    r = reschedule(&c, 409, id, body);
    CHECK(strcmp(api_error_code(r), "slot_unavailable") == 0);
    CHECK(json_array_size(alternatives_of(r)) > 0);
    json_decref(r);
    snprintf(path, sizeof(path), "/v1/bookings/%s", id);
    r = api_expect(&c.s, 200, "GET", path, c.agent, NULL);
    CHECK(strcmp(json_string_value(json_object_get(r, "start")), "2026-03-30T09:30:00+02:00") == 0);
    json_decref(r);
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM booking_audit WHERE action = 'reschedule'"), 1);
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM occupancy"), 2);
    /* cancelled: no longer movable */
    snprintf(path, sizeof(path), "/v1/bookings/%s/cancel", id);
    json_decref(api_expect(&c.s, 200, "POST", path, c.agent, NULL));
    r = reschedule(&c, 409, id, "{\"start\":\"2026-03-30T14:00:00+02:00\"}");
    CHECK(strcmp(api_error_code(r), "conflict") == 0);
    json_decref(r);
    json_decref(reschedule(&c, 404, "00000000-0000-0000-0000-000000000001",
                           "{\"start\":\"2026-03-30T14:00:00+02:00\"}"));
    api_stop(&c.s);
}

/* The pick rule after a restart, when the index loads every booking from the database: of two
 * staff with one booking that day each, the one whose booking was created longest ago gets the
 * next one, also when that booking was moved since (moving writes its occupancy anew). */
TEST(bookings_pick_rule_after_a_restart_uses_when_each_booking_was_created)
{
    clinic_t c;
    clinic_start(&c, NULL, WEEKDAYS);
    json_t *r = api_expect(&c.s, 201, "POST", "/v1/bookings", c.agent,
                           booking_body(&c, MONDAY_9, c.anna, NULL));
    char id[40];
    snprintf(id, sizeof(id), "%s", api_id(r));
    json_decref(r);
    sleep(1); /* creation times a second apart: the rule compares seconds */
    json_decref(api_expect(&c.s, 201, "POST", "/v1/bookings", c.agent,
                           booking_body(&c, "2026-03-30T11:00:00+02:00", c.ben, NULL)));
    sleep(1);
    char body[256];
    snprintf(body, sizeof(body),
             "{\"start\":\"2026-03-30T14:00:00+02:00\",\"resource_ids\":[\"%s\"]}", c.anna);
    json_decref(reschedule(&c, 200, id, body));
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM occupancy c JOIN bookings b ON "
                              "b.organization_id = c.organization_id AND b.id = c.booking_id "
                              "WHERE (c.starts_at, c.ends_at, c.booking_created_at) = "
                              "(b.starts_at, b.ends_at, b.created_at)"),
             2);
    api_restart(&c.s, frozen);
    api_wait_ready(&c.s);
    r = api_expect(&c.s, 201, "POST", "/v1/bookings", c.agent,
                   booking_body(&c, "2026-03-30T16:00:00+02:00", NULL, NULL));
    CHECK(strcmp(json_string_value(json_array_get(json_object_get(r, "resource_ids"), 0)),
                 c.anna) == 0);
    json_decref(r);
    api_stop(&c.s);
}

/* The first resource of a booking answer. */
static const char *first_resource(const json_t *r)
{
    return json_string_value(json_array_get(json_object_get(r, "resource_ids"), 0));
}

TEST(bookings_reschedule_without_resource_ids_keeps_whom_it_can)
{
    clinic_t c;
    clinic_start(&c, NULL, WEEKDAYS);
    json_t *moved = api_expect(&c.s, 201, "POST", "/v1/bookings", c.agent,
                               booking_body(&c, MONDAY_9, c.ben, NULL));
    json_t *later = api_expect(&c.s, 201, "POST", "/v1/bookings", c.agent,
                               booking_body(&c, "2026-03-30T13:00:00+02:00", c.ben, NULL));
    /* Ben has more bookings that day than Anna, who would be picked for a new booking: the
     * moved one stays his */
    char path[128];
    snprintf(path, sizeof(path), "/v1/bookings/%s/reschedule", api_id(moved));
    json_t *r =
        api_expect(&c.s, 200, "POST", path, c.agent, "{\"start\":\"2026-03-30T11:00:00+02:00\"}");
    CHECK(strcmp(first_resource(r), c.ben) == 0);
    json_decref(r);
    /* where he is taken, someone free serves it */
    r = api_expect(&c.s, 200, "POST", path, c.agent, "{\"start\":\"2026-03-30T13:00:00+02:00\"}");
    CHECK(strcmp(first_resource(r), c.anna) == 0);
    json_decref(r);
    /* and where nobody is free it stays where it was, with the nearest free slots */
    json_decref(api_expect(&c.s, 201, "POST", "/v1/bookings", c.agent,
                           booking_body(&c, "2026-03-30T15:00:00+02:00", c.anna, NULL)));
    json_decref(api_expect(&c.s, 201, "POST", "/v1/bookings", c.agent,
                           booking_body(&c, "2026-03-30T15:00:00+02:00", c.ben, NULL)));
    r = api_expect(&c.s, 409, "POST", path, c.agent, "{\"start\":\"2026-03-30T15:00:00+02:00\"}");
    CHECK(json_array_size(alternatives_of(r)) == 3);
    json_decref(r);
    json_decref(moved);
    json_decref(later);
    api_stop(&c.s);
}

TEST(bookings_list_filters_and_pages_by_start)
{
    clinic_t c;
    clinic_start(&c, NULL, WEEKDAYS);
    const char *starts[] = {"2026-03-30T11:00:00+02:00", MONDAY_9, "2026-03-30T10:00:00+02:00",
                            "2026-03-31T09:00:00+02:00"};
    char ids[4][40];
    for (int i = 0; i < 4; i++) {
        json_t *r = api_expect(&c.s, 201, "POST", "/v1/bookings", c.agent,
                               booking_body(&c, starts[i], i == 3 ? c.ben : c.anna, NULL));
        snprintf(ids[i], sizeof(ids[i]), "%s", api_id(r));
        json_decref(r);
    }
    char path[256];
    snprintf(path, sizeof(path), "/v1/bookings/%s/cancel", ids[2]);
    json_decref(api_expect(&c.s, 200, "POST", path, c.agent, NULL));
    /* the window is a local date; pages of two, by start */
    json_t *r = api_expect(&c.s, 200, "GET", "/v1/bookings?from=2026-03-30&to=2026-03-30&limit=2",
                           c.agent, NULL);
    json_t *items = json_object_get(r, "items");
    CHECK_EQ(json_array_size(items), 2);
    CHECK(strcmp(api_id(json_array_get(items, 0)), ids[1]) == 0);
    CHECK(strcmp(api_id(json_array_get(items, 1)), ids[2]) == 0);
    const char *cursor = json_string_value(json_object_get(r, "next_cursor"));
    CHECK(cursor != NULL);
    snprintf(path, sizeof(path), "/v1/bookings?from=2026-03-30&to=2026-03-30&limit=2&cursor=%s",
             cursor);
    json_decref(r);
    r = api_expect(&c.s, 200, "GET", path, c.agent, NULL);
    CHECK_EQ(json_array_size(json_object_get(r, "items")), 1);
    CHECK(json_is_null(json_object_get(r, "next_cursor")));
    json_decref(r);
    r = api_expect(&c.s, 200, "GET", "/v1/bookings?status=cancelled", c.agent, NULL);
    CHECK_EQ(json_array_size(json_object_get(r, "items")), 1);
    json_decref(r);
    snprintf(path, sizeof(path), "/v1/bookings?resource_id=%s", c.ben);
    r = api_expect(&c.s, 200, "GET", path, c.agent, NULL);
    CHECK_EQ(json_array_size(json_object_get(r, "items")), 1);
    CHECK(strcmp(api_id(json_array_get(json_object_get(r, "items"), 0)), ids[3]) == 0);
    json_decref(r);
    /* the phone compared normalized: +48 601-234.567, written %2B48%20601-234.567 */
    r = api_expect(&c.s, 200, "GET", "/v1/bookings?customer_phone=%2B48%20601-234.567", c.agent,
                   NULL);
    CHECK_EQ(json_array_size(json_object_get(r, "items")), 4);
    json_decref(r);
    json_decref(api_expect(&c.s, 400, "GET", "/v1/bookings?status=lost", c.agent, NULL));
    json_decref(api_expect(&c.s, 400, "GET", "/v1/bookings?customer_phone=abc", c.agent, NULL));
    json_decref(api_expect(&c.s, 400, "GET", "/v1/bookings?cursor=nonsense", c.agent, NULL));
    api_stop(&c.s);
}

TEST(bookings_customers_are_found_by_phone_and_list_their_bookings)
{
    clinic_t c;
    clinic_start(&c, NULL, WEEKDAYS);
    json_t *b = api_expect(&c.s, 201, "POST", "/v1/bookings", c.agent,
                           booking_body(&c, MONDAY_9, NULL, NULL));
    char customer[40];
    snprintf(customer, sizeof(customer), "%s", api_id(json_object_get(b, "customer")));
    json_decref(b);
    json_t *r = api_expect(&c.s, 200, "GET", "/v1/customers?phone=0048601234567", c.agent, NULL);
    CHECK_EQ(json_array_size(json_object_get(r, "items")), 1);
    CHECK(strcmp(api_id(json_array_get(json_object_get(r, "items"), 0)), customer) == 0);
    json_decref(r);
    r = api_expect(&c.s, 200, "GET", "/v1/customers?phone=%2B48600000000", c.agent, NULL);
    CHECK_EQ(json_array_size(json_object_get(r, "items")), 0);
    json_decref(r);
    char path[160];
    snprintf(path, sizeof(path), "/v1/customers/%s", customer);
    r = api_expect(&c.s, 200, "GET", path, c.agent, NULL);
    CHECK(strcmp(json_string_value(json_object_get(r, "phone")), "+48 601 234 567") == 0);
    json_decref(r);
    snprintf(path, sizeof(path), "/v1/customers/%s/bookings?from=2026-03-30&to=2026-03-30",
             customer);
    r = api_expect(&c.s, 200, "GET", path, c.agent, NULL);
    CHECK_EQ(json_array_size(json_object_get(r, "items")), 1);
    json_decref(r);
    json_decref(api_expect(&c.s, 404, "GET",
                           "/v1/customers/00000000-0000-0000-0000-000000000001/bookings", c.agent,
                           NULL));
    char other_key[128], other_org[40];
    api_create_org(&c.s, "Other Clinic", other_key, other_org);
    snprintf(path, sizeof(path), "/v1/customers/%s", customer);
    json_decref(api_expect(&c.s, 404, "GET", path, other_key, NULL));
    r = api_expect(&c.s, 200, "GET", "/v1/customers?phone=0048601234567", other_key, NULL);
    CHECK_EQ(json_array_size(json_object_get(r, "items")), 0);
    json_decref(r);
    api_stop(&c.s);
}

TEST(bookings_history_lists_the_audit_trail_oldest_first)
{
    clinic_t c;
    clinic_start(&c, NULL, WEEKDAYS);
    json_t *r = api_expect(&c.s, 201, "POST", "/v1/bookings", c.agent,
                           booking_body(&c, MONDAY_9, c.anna, ",\"status\":\"pending\""));
    char id[40], path[160];
    snprintf(id, sizeof(id), "%s", api_id(r));
    json_decref(r);
    snprintf(path, sizeof(path), "/v1/bookings/%s", id);
    json_decref(api_expect(&c.s, 200, "PATCH", path, c.agent, "{\"status\":\"confirmed\"}"));
    json_decref(api_expect(&c.s, 200, "PATCH", path, c.agent, "{\"notes\":\"allergic\"}"));
    json_decref(reschedule(&c, 200, id, "{\"start\":\"2026-03-30T11:00:00+02:00\"}"));
    snprintf(path, sizeof(path), "/v1/bookings/%s/cancel", id);
    json_decref(api_expect(&c.s, 200, "POST", path, c.s.admin_key, NULL));
    snprintf(path, sizeof(path), "/v1/bookings/%s/history", id);
    r = api_expect(&c.s, 200, "GET", path, c.agent, NULL);
    json_t *items = json_object_get(r, "items");
    const char *actions[] = {"created", "status_changed", "updated", "rescheduled", "cancelled"};
    CHECK_EQ(json_array_size(items), 5);
    for (size_t i = 0; i < 5; i++)
        CHECK(strcmp(json_string_value(json_object_get(json_array_get(items, i), "action")),
                     actions[i]) == 0);
    json_t *moved = json_array_get(items, 3);
    CHECK(strcmp(json_string_value(json_object_get(json_object_get(moved, "old"), "start")),
                 MONDAY_9) == 0);
    CHECK(strcmp(json_string_value(json_object_get(json_object_get(moved, "new"), "start")),
                 "2026-03-30T11:00:00+02:00") == 0);
    CHECK(json_is_null(json_object_get(json_array_get(items, 0), "old")));
    json_t *actor = json_object_get(json_array_get(items, 4), "actor");
    CHECK(strcmp(json_string_value(json_object_get(actor, "role")), "admin") == 0);
    json_decref(r);
    snprintf(path, sizeof(path), "/v1/bookings/%s/history?limit=2", id);
    r = api_expect(&c.s, 200, "GET", path, c.agent, NULL);
    CHECK_EQ(json_array_size(json_object_get(r, "items")), 2);
    CHECK(json_is_string(json_object_get(r, "next_cursor")));
    json_decref(r);
    json_decref(api_expect(&c.s, 404, "GET",
                           "/v1/bookings/00000000-0000-0000-0000-000000000001/history", c.agent,
                           NULL));
    api_stop(&c.s);
}

/* Two worker processes, each with its own index, on one database: of 32 requests for one slot
 * spread over both, exactly one is booked, round after round. */
/* Both workers know the service once 20 answers in a row (new connections) say so. */
static void both_workers_know_the_service(clinic_t *c)
{
    char path[160];
    snprintf(path, sizeof(path), "/v1/slots?service_id=%s&from=2026-03-30&to=2026-03-30",
             c->service);
    for (int streak = 0, tries = 0; streak < 20 && tries < 400; tries++) {
        json_t *r;
        streak = api_call(&c->s, "GET", path, c->agent, NULL, &r) == 200 ? streak + 1 : 0;
        json_decref(r);
        if (streak == 0)
            usleep(20 * 1000);
    }
}

TEST(bookings_two_workers_book_one_slot_once)
{
    static const char *const two_workers[] = {"SLOTD_WORKERS=2",
                                              "SLOTD_NOW=2026-03-27T08:00:00+01:00", NULL};
    clinic_t c;
    clinic_start(&c, two_workers, WEEKDAYS);
    both_workers_know_the_service(&c);
    const char *starts[] = {"2026-03-30T13:00:00+02:00", "2026-03-30T14:00:00+02:00"};
    for (int round = 0; round < 2; round++)
        CHECK_EQ(race(&c, 32, booking_body(&c, starts[round], c.anna, NULL)), 1);
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM bookings"), 2);
    api_stop(&c.s);
}

/* The same keyed request sent by many clients at the same instant, spread over two worker
 * processes (as a retrying agent behind two instances would): one booking is made; every
 * other answer is its replay (201) or "still running" (409). */
TEST(bookings_identical_keyed_requests_on_two_workers_book_once)
{
    static const char *const two_workers[] = {"SLOTD_WORKERS=2",
                                              "SLOTD_NOW=2026-03-27T08:00:00+01:00", NULL};
    clinic_t c;
    clinic_start(&c, two_workers, WEEKDAYS);
    both_workers_know_the_service(&c);
    for (int round = 0; round < 2; round++) {
        char key[64];
        snprintf(key, sizeof(key), "Idempotency-Key: call-%d", round);
        const char *start = round ? "2026-03-30T14:00:00+02:00" : "2026-03-30T13:00:00+02:00";
        CHECK(api_race_post(&c.s, c.agent, key, "/v1/bookings",
                            booking_body(&c, start, c.anna, NULL), 16) >= 1);
    }
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM bookings"), 2);
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM idempotency_keys"), 2);
    api_stop(&c.s);
}

/* With the database unreachable, a booking is refused at once with 503 (never a hang, never
 * a 201), and succeeds once it is back. */
TEST(bookings_are_503_while_the_database_is_unreachable)
{
    clinic_t c;
    clinic_start(&c, NULL, WEEKDAYS);
    json_decref(api_expect(&c.s, 200, "GET", "/v1/services", c.agent, NULL)); /* key cached */
    PGconn *super = PQconnectdb(getenv("SLOTD_TEST_DATABASE_URL"));
    const char *dbname = strrchr(c.s.url, '/') + 1;
    char sql[512];
    snprintf(sql, sizeof(sql),
             "ALTER DATABASE %s ALLOW_CONNECTIONS false; SELECT pg_terminate_backend(pid) FROM "
             "pg_stat_activity WHERE datname = '%s'",
             dbname, dbname);
    test_db_exec(super, sql);
    usleep(200000);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    json_t *r = api_expect(&c.s, 503, "POST", "/v1/bookings", c.agent,
                           booking_body(&c, MONDAY_9, c.anna, NULL));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK(strcmp(api_error_code(r), "unavailable") == 0);
    json_decref(r);
    CHECK(t1.tv_sec - t0.tv_sec < 6); /* within the request deadline (5 s) */
    snprintf(sql, sizeof(sql), "ALTER DATABASE %s ALLOW_CONNECTIONS true", dbname);
    test_db_exec(super, sql);
    PQfinish(super);
    int status = 0;
    for (int i = 0; i < 500 && status != 201; i++) {
        status = api_call(&c.s, "POST", "/v1/bookings", c.agent,
                          booking_body(&c, MONDAY_9, c.anna, NULL), NULL);
        if (status != 201)
            usleep(20000);
    }
    CHECK_EQ(status, 201);
    PQfinish(c.s.db);
    c.s.db = PQconnectdb(c.s.url);
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM bookings"), 1);
    api_stop(&c.s);
}

TEST(bookings_hold_bad_input_is_400_naming_the_field_and_writes_nothing)
{
    clinic_t c;
    clinic_start(&c, NULL, WEEKDAYS);
    const char *cases[][2] = {{",\"ttl_seconds\":0", "ttl_seconds"},
                              {",\"ttl_seconds\":1801", "ttl_seconds"},
                              {",\"ttl_seconds\":\"soon\"", "ttl_seconds"},
                              {",\"customer\":{}", "customer"},
                              {",\"tz\":\"Nowhere/City\"", "tz"},
                              {",\"resource_ids\":\"all\"", "resource_ids"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char body[512];
        snprintf(body, sizeof(body), "{\"service_id\":\"%s\",\"start\":\"%s\"%s}", c.service,
                 MONDAY_9, cases[i][0]);
        json_t *r = api_expect(&c.s, 400, "POST", "/v1/holds", c.agent, body);
        CHECK(strcmp(error_field(r), cases[i][1]) == 0);
        json_decref(r);
    }
    json_t *r = api_expect(&c.s, 400, "POST", "/v1/holds", c.agent, "{\"start\":\"" MONDAY_9 "\"}");
    CHECK(strcmp(error_field(r), "service_id") == 0);
    json_decref(r);
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM holds"), 0);
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM occupancy"), 0);
    api_stop(&c.s);
}

/* The service's index reloads so far, from /metrics. */
static long index_reloads(clinic_t *c)
{
    static char metrics[1 << 17];
    CHECK_EQ(api_get_text(&c->s, "/metrics", metrics, sizeof(metrics)), 200);
    const char *line = strstr(metrics, "slotd_index_refreshes_total{kind=\"reload\"} ");
    CHECK(line != NULL);
    return strtol(line + strlen("slotd_index_refreshes_total{kind=\"reload\"} "), NULL, 10);
}

/* Every write of a hold or booking answers once the index shows its own transaction's change,
 * applied as notified: no reload of a resource, and the next slot query already sees it (one
 * worker: its /metrics and its index are the ones the writes went through). */
TEST(bookings_holds_cancels_and_moves_answer_after_their_own_change_not_a_reload)
{
    static const char *const one_worker[] = {API_FRIDAY_BEFORE_DST, "SLOTD_WORKERS=1", NULL};
    clinic_t c;
    clinic_start(&c, one_worker, WEEKDAYS);
    /* the setup's own notifications reloaded what it made: until they are all done */
    long reloads = index_reloads(&c);
    for (int i = 0; i < 50; i++) {
        usleep(300000);
        long now = index_reloads(&c);
        if (now == reloads)
            break;
        reloads = now;
    }
    char who[128], path[128];
    json_t *hold = api_expect(&c.s, 201, "POST", "/v1/holds", c.agent, anna_monday_hold(&c));
    serving(&c, "2026-03-30", MONDAY_9, who, sizeof(who));
    CHECK(strstr(who, c.anna) == NULL);
    snprintf(path, sizeof(path), "/v1/holds/%s", api_id(hold));
    json_decref(hold);
    json_decref(api_expect(&c.s, 204, "DELETE", path, c.agent, NULL));
    serving(&c, "2026-03-30", MONDAY_9, who, sizeof(who));
    CHECK(strstr(who, c.anna) != NULL);

    json_t *r = api_expect(&c.s, 201, "POST", "/v1/bookings", c.agent,
                           booking_body(&c, MONDAY_9, c.anna, NULL));
    char id[40];
    snprintf(id, sizeof(id), "%s", api_id(r));
    json_decref(r);
    serving(&c, "2026-03-30", MONDAY_9, who, sizeof(who));
    CHECK(strstr(who, c.anna) == NULL);
    /* moved an hour later, to Ben: Anna free at nine, Ben taken at ten */
    char body[256];
    snprintf(body, sizeof(body),
             "{\"start\":\"2026-03-30T10:00:00+02:00\",\"resource_ids\":[\"%s\"]}", c.ben);
    json_decref(reschedule(&c, 200, id, body));
    serving(&c, "2026-03-30", MONDAY_9, who, sizeof(who));
    CHECK(strstr(who, c.anna) != NULL);
    serving(&c, "2026-03-30", "2026-03-30T10:00:00+02:00", who, sizeof(who));
    CHECK(strstr(who, c.ben) == NULL);
    snprintf(path, sizeof(path), "/v1/bookings/%s/cancel", id);
    json_decref(api_expect(&c.s, 200, "POST", path, c.agent, NULL));
    serving(&c, "2026-03-30", "2026-03-30T10:00:00+02:00", who, sizeof(who));
    CHECK(strstr(who, c.ben) != NULL);
    CHECK_EQ(index_reloads(&c), reloads);
    /* a cancel that changes nothing has no change of its own to wait for: a reload */
    json_decref(api_expect(&c.s, 200, "POST", path, c.agent, NULL));
    CHECK_EQ(index_reloads(&c), reloads + 1);
    api_stop(&c.s);
}

/* A key is kept 24 hours: past them (before the sweep took it) it names a new request. */
TEST(bookings_idempotency_key_older_than_a_day_is_a_new_request)
{
    clinic_t c;
    clinic_start(&c, NULL, WEEKDAYS);
    json_t *r;
    CHECK_EQ(call_with_key(&c, "day-old", booking_body(&c, MONDAY_9, c.anna, NULL), &r), 201);
    json_decref(r);
    CHECK_EQ(count_rows(&c.s, "WITH u AS (UPDATE idempotency_keys SET created_at = now() - "
                              "interval '25 hours' RETURNING 1) SELECT count(*) FROM u"),
             1);
    CHECK_EQ(call_with_key(&c, "day-old",
                           booking_body(&c, "2026-03-30T10:00:00+02:00", c.anna, NULL), &r),
             201);
    CHECK(strstr(json_string_value(json_object_get(r, "start")), "T10:00:00") != NULL);
    json_decref(r);
    /* and that new request is kept under the key as the first one was */
    CHECK_EQ(call_with_key(&c, "day-old", booking_body(&c, MONDAY_9, c.anna, NULL), &r), 422);
    json_decref(r);
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM bookings"), 2);
    CHECK_EQ(count_rows(&c.s, "SELECT count(*) FROM idempotency_keys"), 1);
    api_stop(&c.s);
}
