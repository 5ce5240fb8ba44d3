/*
 * The HTTP server's protocol edges, black-box over real HTTP: query strings
 * checked against each route's parameters, 405 with Allow, ambiguous
 * Content-Length, no cleartext HTTP/2, Authorization with spaces, the
 * database being down, the bound on a slots answer.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "api_client.h"
#include "db.h"
#include "http/server.h"
#include "test.h"

static const char *const frozen[] = {"SLOTD_NOW=2026-03-27T08:00:00+01:00", NULL};

/* Sends raw bytes on a new connection; returns everything read until the server closes (or
 * 2 s pass), into out. */
static size_t raw_exchange(api_server_t *s, const char *request, size_t length, char *out,
                           size_t size)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)s->port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    CHECK(write(fd, request, length) == (ssize_t)length);
    size_t got = 0;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 2000) <= 0)
            break;
        ssize_t n = read(fd, out + got, size - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
        if (got == size - 1)
            break;
    }
    out[got] = 0;
    close(fd);
    return got;
}

/* A connection to the server, opened and left idle. */
static int open_connection(api_server_t *s)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)s->port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    return fd;
}

/* True when the server closes `fd` within a second (read sees the end). */
static bool closed_by_server(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    char byte;
    return poll(&p, 1, 1000) == 1 && read(fd, &byte, 1) <= 0;
}

static const char *const five_connections[] = {"SLOTD_MAX_CONNECTIONS=5", NULL};

/* Connections are counted: one past max_connections is closed at once (and counted), and
 * one closed makes room again. Each could otherwise hold a request body as it arrives. */
TEST(server_closes_connections_past_max_connections)
{
    api_server_t s;
    api_start(&s, five_connections);
    api_wait_ready(&s);
    usleep(300000); /* the server has seen the end of the connections made so far */
    int fds[5];
    for (int i = 0; i < 5; i++)
        fds[i] = open_connection(&s);
    usleep(100000); /* all accepted */
    int extra = open_connection(&s);
    CHECK(closed_by_server(extra));
    close(extra);
    for (int i = 0; i < 5; i++) { /* idle, within the limit: still open */
        struct pollfd p = {.fd = fds[i], .events = POLLIN};
        CHECK_EQ(poll(&p, 1, 0), 0);
    }
    close(fds[0]);
    usleep(100000);
    char metrics[65536];
    CHECK_EQ(api_get_text(&s, "/metrics", metrics, sizeof(metrics)), 200);
    CHECK(strstr(metrics, "slotd_http_connections_refused_total 1\n") != NULL);
    for (int i = 1; i < 5; i++)
        close(fds[i]);
    api_stop(&s);
}

/* A body far over the limit is refused by the HTTP library before it is read whole. */
TEST(server_refuses_a_huge_body_before_reading_it)
{
    api_server_t s;
    api_start(&s, NULL);
    char request[512], out[4096];
    int n = snprintf(request, sizeof(request),
                     "PATCH /v1/organization HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                     "%s\r\nContent-Type: application/json\r\nContent-Length: 8388608\r\n\r\n{",
                     s.admin_key);
    raw_exchange(&s, request, (size_t)n, out, sizeof(out));
    CHECK(strncmp(out, "HTTP/1.1 413", 12) == 0);
    api_stop(&s);
}

static int count_of(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* A staff member working Fridays 09:00-12:00 and a one-hour service needing her. */
static void one_service(api_server_t *s, char *service_id)
{
    json_t *r = api_expect(s, 201, "POST", "/v1/resources", s->admin_key,
                           "{\"kind\":\"staff\",\"name\":\"Anna\",\"working_hours\":{\"fri\":[["
                           "\"09:00\",\"12:00\"]]}}");
    char body[512];
    snprintf(body, sizeof(body),
             "{\"name\":\"Cleaning\",\"duration_minutes\":60,\"requirements\":[{\"resource_ids\":"
             "[\"%s\"],\"mode\":\"any\"}]}",
             api_id(r));
    json_decref(r);
    r = api_expect(s, 201, "POST", "/v1/services", s->admin_key, body);
    snprintf(service_id, 40, "%s", api_id(r));
    json_decref(r);
}

/* GET `query`; checks 400 invalid_request naming `field`, and that the message contains
 * `words` (when not NULL). */
static void expect_refused(api_server_t *s, const char *query, const char *field, const char *words)
{
    json_t *r = NULL;
    int status = api_call(s, "GET", query, s->admin_key, NULL, &r);
    const char *got = json_string_value(
        json_object_get(json_object_get(json_object_get(r, "error"), "details"), "field"));
    const char *message =
        json_string_value(json_object_get(json_object_get(r, "error"), "message"));
    if (status != 400 || got == NULL || strcmp(got, field) != 0 ||
        (words && (message == NULL || strstr(message, words) == NULL))) {
        char *text = r ? json_dumps(r, JSON_COMPACT) : NULL;
        fprintf(stderr, "%s: expected 400 on %s (\"%s\"), got %d: %s\n", query, field,
                words ? words : "", status, text ? text : "(none)");
        exit(1);
    }
    CHECK(strcmp(api_error_code(r), "invalid_request") == 0);
    json_decref(r);
}

TEST(server_query_parameters_that_are_malformed_are_400_naming_them)
{
    api_server_t s;
    api_start(&s, frozen);
    char service[40], q[512];
    one_service(&s, service);
    api_wait_ready(&s);
    const char *base = "/v1/slots?service_id=%s&from=2026-03-27&to=2026-03-27";
    snprintf(q, sizeof(q), base, service);
    json_decref(api_expect(&s, 200, "GET", q, s.admin_key, NULL));

#define REFUSED(extra, field, words)                                                               \
    do {                                                                                           \
        snprintf(q, sizeof(q), "%s%s", base, extra);                                               \
        char full[512];                                                                            \
        snprintf(full, sizeof(full), q, service);                                                  \
        expect_refused(&s, full, field, words);                                                    \
    } while (0)
    REFUSED("&location_id=%%zz", "location_id", "percent-escape");
    REFUSED("&tz=%%zz", "tz", "percent-escape");
    REFUSED("&tz=Europe/Warsaw%%00", "tz", "control");
    REFUSED("&location_id=0123456789012345678901234567890123456789012345678901234567890123",
            "location_id", "too long");
    REFUSED("&location_id=01234567890123456789012345678901234567890123456789012345678901234",
            "location_id", "too long");
    REFUSED("&location_id=abc", "location_id", "UUID");
    REFUSED("&tz=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "tz", "too long");
    REFUSED("&limit=12345678901234567890123456789012", "limit", "too long");
    REFUSED("&limit=%%205", "limit", "space");
    REFUSED("&limit=%%2B5", "limit", "digits");
    REFUSED("&limit=-5", "limit", "digits");
    REFUSED("&staff_id=", "staff_id", "not one this route takes");
    REFUSED("&limit=5&limit=6", "limit", "more than once");
#undef REFUSED
    /* present but malformed is not "missing" */
    snprintf(q, sizeof(q), "/v1/slots?service_id=abc&from=2026-03-27&to=2026-03-27");
    expect_refused(&s, q, "service_id", "UUID");
    snprintf(q, sizeof(q), "/v1/slots?service_id=%s&from=2026-02-30&to=2026-03-27", service);
    expect_refused(&s, q, "from", "real date");
    /* an unencoded + in an offset arrives as a space: a hint to write %2B */
    snprintf(q, sizeof(q), "/v1/slots?service_id=%s&from=2026-03-27T09:00:00+01:00&to=2026-03-27",
             service);
    expect_refused(&s, q, "from", "%2B");
    /* a real date outside the supported range says so */
    snprintf(q, sizeof(q), "/v1/slots?service_id=%s&from=9999-12-01&to=9999-12-31", service);
    expect_refused(&s, q, "from", "supported range");
    /* a name that is not UTF-8 is named with %XX escapes (the answer stays valid JSON) */
    expect_refused(&s, "/v1/services?%ff=1", "%FF", "not one this route takes");
    expect_refused(&s, "/v1/services?%C3%A9t%E9=1", "%C3%A9t%E9", NULL);
    /* other routes' query strings are checked too */
    expect_refused(&s, "/v1/services?staff_id=1", "staff_id", NULL);
    expect_refused(&s, "/v1/services?limit=%2B5", "limit", NULL);
    expect_refused(&s, "/v1/organization?x=1", "x", NULL);
    /* nothing was changed by any of it: the same answer as before */
    snprintf(q, sizeof(q), base, service);
    json_t *r = api_expect(&s, 200, "GET", q, s.admin_key, NULL);
    CHECK_EQ(json_array_size(json_object_get(r, "slots")), 3);
    json_decref(r);
    api_stop(&s);
}

TEST(server_method_not_allowed_names_the_allowed_methods)
{
    api_server_t s;
    api_start(&s, NULL);
    char out[4096];
    const char req[] = "PUT /v1/organization HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                       "Content-Length: 0\r\n\r\n";
    raw_exchange(&s, req, sizeof(req) - 1, out, sizeof(out));
    CHECK(strncmp(out, "HTTP/1.1 405", 12) == 0);
    CHECK(strstr(out, "\r\nallow: GET, PATCH\r\n") != NULL ||
          strstr(out, "\r\nAllow: GET, PATCH\r\n") != NULL);
    api_stop(&s);
}

TEST(server_refuses_two_different_content_lengths)
{
    api_server_t s;
    api_start(&s, NULL);
    /* "0" then "N": the body must not become a second request */
    char req[512], out[8192];
    const char smuggled[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    int n = snprintf(req, sizeof(req),
                     "PATCH /v1/organization HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                     "Content-Length: 0\r\nContent-Length: %zu\r\n\r\n%s",
                     s.admin_key, sizeof(smuggled) - 1, smuggled);
    raw_exchange(&s, req, (size_t)n, out, sizeof(out));
    CHECK(strncmp(out, "HTTP/1.1 400", 12) == 0);
    CHECK(strstr(out, "Content-Length") != NULL);
    CHECK_EQ(count_of(out, "HTTP/1.1 "), 1); /* no answer to the smuggled request */
    /* the same header twice with the same value is harmless */
    n = snprintf(req, sizeof(req),
                 "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n"
                 "Content-Length: 0\r\n\r\n");
    raw_exchange(&s, req, (size_t)n, out, sizeof(out));
    CHECK(strncmp(out, "HTTP/1.1 200", 12) == 0);
    api_stop(&s);
}

TEST(server_does_not_speak_cleartext_http2)
{
    api_server_t s;
    api_start(&s, NULL);
    char out[4096];
    /* prior knowledge: the connection preface gets no HTTP/2 SETTINGS frame */
    const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    size_t got = raw_exchange(&s, preface, sizeof(preface) - 1, out, sizeof(out));
    CHECK(got == 0 || strncmp(out, "HTTP/1.1 4", 10) == 0);
    /* Upgrade: h2c is answered in HTTP/1.1, not switched */
    const char upgrade[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, "
                           "HTTP2-Settings, close\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQA"
                           "AP__\r\n\r\n";
    raw_exchange(&s, upgrade, sizeof(upgrade) - 1, out, sizeof(out));
    CHECK(strncmp(out, "HTTP/1.1 200", 12) == 0);
    CHECK(strstr(out, "101") == NULL);
    api_stop(&s);
}

TEST(server_accepts_spaces_around_the_api_key)
{
    api_server_t s;
    api_start(&s, NULL);
    char out[4096], req[512];
    int n = snprintf(req, sizeof(req),
                     "GET /v1/organization HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                     "Authorization: Bearer   %s   \r\n\r\n",
                     s.admin_key);
    raw_exchange(&s, req, (size_t)n, out, sizeof(out));
    CHECK(strncmp(out, "HTTP/1.1 200", 12) == 0);
    /* and with a tab after the token, through libcurl's own header path */
    char padded[160];
    snprintf(padded, sizeof(padded), "%s\t ", s.admin_key);
    json_decref(api_expect(&s, 200, "GET", "/v1/organization", padded, NULL));
    /* but not a different token */
    snprintf(padded, sizeof(padded), "%s x", s.admin_key);
    json_decref(api_expect(&s, 401, "GET", "/v1/organization", padded, NULL));
    api_stop(&s);
}

TEST(server_says_the_database_is_unavailable_when_it_is_down)
{
    api_server_t s;
    api_start(&s, NULL);
    api_wait_ready(&s);
    json_decref(api_expect(&s, 200, "GET", "/v1/services", s.admin_key, NULL)); /* key cached */
    /* the database goes away: no new connection, every existing one cut */
    char sql[512];
    PGconn *super = PQconnectdb(getenv("SLOTD_TEST_DATABASE_URL"));
    const char *dbname = strrchr(s.url, '/') + 1;
    snprintf(sql, sizeof(sql),
             "ALTER DATABASE %s ALLOW_CONNECTIONS false; SELECT pg_terminate_backend(pid) FROM "
             "pg_stat_activity WHERE datname = '%s'",
             dbname, dbname);
    test_db_exec(super, sql);
    json_t *r = NULL;
    int status = 0;
    for (int i = 0; i < 300; i++) {
        json_decref(r);
        status = api_call(&s, "GET", "/v1/services", s.admin_key, NULL, &r);
        if (status == 503 &&
            strstr(json_string_value(json_object_get(json_object_get(r, "error"), "message")),
                   "database") != NULL)
            break;
        usleep(20000);
    }
    CHECK_EQ(status, 503);
    CHECK(strcmp(api_error_code(r), "unavailable") == 0);
    const char *message =
        json_string_value(json_object_get(json_object_get(r, "error"), "message"));
    CHECK(strstr(message, "database") != NULL);
    CHECK(strstr(message, "busy") == NULL);
    json_decref(r);
    /* the same through the typed store and domain layers */
    static const char *const typed[] = {"/v1/locations", "/v1/resources"};
    for (size_t i = 0; i < sizeof(typed) / sizeof(typed[0]); i++) {
        time_t asked = time(NULL);
        r = api_expect(&s, 503, "GET", typed[i], s.admin_key, NULL);
        CHECK(time(NULL) - asked < 3); /* at once, not at the 5 s deadline */
        message = json_string_value(json_object_get(json_object_get(r, "error"), "message"));
        CHECK(strstr(message, "database") != NULL);
        json_decref(r);
    }
    snprintf(sql, sizeof(sql), "ALTER DATABASE %s ALLOW_CONNECTIONS true", dbname);
    test_db_exec(super, sql);
    PQfinish(super);
    api_stop(&s);
}

TEST(server_refuses_a_slots_answer_larger_than_its_bound)
{
    api_server_t s;
    api_start(&s, frozen);
    /* around the clock every day, 5-minute slots: 62 days give ~17,800 slots (~1.9 MB), under
     * the bound; a per-minute step over 62 days gives ~89,000 (~9.5 MB), over it */
    json_t *r = api_expect(&s, 201, "POST", "/v1/resources", s.admin_key,
                           "{\"kind\":\"room\",\"name\":\"Room\",\"working_hours\":{"
                           "\"mon\":[[\"00:00\",\"24:00\"]],\"tue\":[[\"00:00\",\"24:00\"]],"
                           "\"wed\":[[\"00:00\",\"24:00\"]],\"thu\":[[\"00:00\",\"24:00\"]],"
                           "\"fri\":[[\"00:00\",\"24:00\"]],\"sat\":[[\"00:00\",\"24:00\"]],"
                           "\"sun\":[[\"00:00\",\"24:00\"]]}}");
    char body[512], service[40], q[256];
    snprintf(
        body, sizeof(body),
        "{\"name\":\"Scan\",\"duration_minutes\":1,\"slot_interval_minutes\":1,\"requirements\":[{"
        "\"resource_ids\":[\"%s\"],\"mode\":\"any\"}]}",
        api_id(r));
    json_decref(r);
    r = api_expect(&s, 201, "POST", "/v1/services", s.admin_key, body);
    snprintf(service, sizeof(service), "%s", api_id(r));
    json_decref(r);
    api_wait_ready(&s);
    snprintf(q, sizeof(q), "/v1/slots?service_id=%s&from=2026-03-28&to=2026-05-27&limit=100000",
             service);
    expect_refused(&s, q, "limit", "MiB");
    snprintf(q, sizeof(q), "/v1/slots?service_id=%s&from=2026-03-28&to=2026-05-27&limit=20000",
             service);
    r = api_expect(&s, 200, "GET", q, s.admin_key, NULL);
    CHECK_EQ(json_array_size(json_object_get(r, "slots")), 20000);
    json_decref(r);
    api_stop(&s);
}

/* The JSON string writer: every byte of ASCII, NUL and 0x7f among them, alone and between
 * others, after what the buffer held, reads back as the same bytes; text with nothing to
 * escape is not given room for six times its length. */
TEST(http_json_string_writer_escapes_every_ascii_byte_and_reads_back)
{
    char all[128];
    for (int i = 0; i < 128; i++)
        all[i] = (char)i;
    http_buffer_t b = {0};
    for (int i = 0; i <= 128; i++) {
        char text[3] = {'a', (char)i, 'b'};
        const char *in = i < 128 ? text : all;
        size_t length = i < 128 ? sizeof(text) : sizeof(all);
        b.size = 0;
        HTTP_APPEND_LITERAL(&b, "[1,");
        http_buffer_append_json_string(&b, in, length);
        HTTP_APPEND_LITERAL(&b, "]");
        json_error_t error;
        json_t *v = json_loadb(b.data, b.size, JSON_ALLOW_NUL, &error);
        CHECK(v != NULL);
        json_t *s = json_array_get(v, 1);
        CHECK(json_is_string(s) && json_string_length(s) == length);
        CHECK(memcmp(json_string_value(s), in, length) == 0);
        json_decref(v);
    }
    free(b.data);
    b = (http_buffer_t){0};
    char plain[1000];
    memset(plain, 'x', sizeof(plain));
    http_buffer_append_json_string(&b, plain, sizeof(plain));
    CHECK_EQ(b.size, sizeof(plain) + 2);
    CHECK(b.capacity < 2 * sizeof(plain));
    http_buffer_append_json_string(&b, "\n", 1);
    CHECK_EQ(b.size, sizeof(plain) + 2 + 4);
    free(b.data);
}
