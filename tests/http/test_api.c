/*
 * The HTTP API, black-box: the real server over real HTTP on a real database.
 */
#include <arpa/inet.h>
#include <signal.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api_client.h"
#include "db.h"
#include "test.h"

TEST(api_health_and_readiness_need_no_key)
{
    api_server_t s;
    api_start(&s, NULL);
    json_t *r;
    CHECK_EQ(api_call(&s, "GET", "/healthz", NULL, NULL, &r), 200);
    json_decref(r);
    /* ready once the index is loaded (503 with the error envelope before) */
    api_wait_ready(&s);
    CHECK_EQ(api_call(&s, "GET", "/readyz", NULL, NULL, &r), 200);
    json_decref(r);
    api_stop(&s);
}

TEST(api_refuses_missing_malformed_and_unknown_keys)
{
    api_server_t s;
    api_start(&s, NULL);
    json_t *r;
    CHECK_EQ(api_call(&s, "GET", "/v1/organization", NULL, NULL, &r), 401);
    CHECK(strcmp(api_error_code(r), "unauthorized") == 0);
    json_decref(r);
    CHECK_EQ(api_call(&s, "GET", "/v1/organization", "not-a-key", NULL, &r), 401);
    CHECK(strcmp(api_error_code(r), "unauthorized") == 0);
    json_decref(r);
    /* a well-formed key for the right organization, with a wrong secret */
    char forged[128];
    snprintf(forged, sizeof(forged), "%s", s.admin_key);
    forged[strlen(forged) - 1] = forged[strlen(forged) - 1] == 'a' ? 'b' : 'a';
    CHECK_EQ(api_call(&s, "GET", "/v1/organization", forged, NULL, &r), 401);
    json_decref(r);
    CHECK_EQ(api_call(&s, "GET", "/v1/organization", s.admin_key, NULL, &r), 200);
    json_decref(r);
    api_stop(&s);
}

TEST(api_organization_reads_and_patches_only_what_is_sent)
{
    api_server_t s;
    api_start(&s, NULL);
    json_t *r;
    CHECK_EQ(api_call(&s, "GET", "/v1/organization", s.admin_key, NULL, &r), 200);
    CHECK(strcmp(json_string_value(json_object_get(r, "id")), s.organization_id) == 0);
    CHECK(strcmp(json_string_value(json_object_get(r, "timezone")), "Europe/Warsaw") == 0);
    CHECK(json_is_null(json_object_get(r, "business_hours")));
    json_decref(r);
    CHECK_EQ(api_call(&s, "PATCH", "/v1/organization", s.admin_key,
                      "{\"business_hours\":{\"mon\":[[\"09:00\",\"13:00\"],[\"13:00\",\"17:00\"]]},"
                      "\"closures\":[\"2026-12-24\",\"2026-12-25\"]}",
                      &r),
             200);
    json_t *mon = json_object_get(json_object_get(r, "business_hours"), "mon");
    CHECK_EQ(json_array_size(mon), 1); /* touching ranges merged */
    CHECK(strcmp(json_string_value(json_array_get(json_array_get(mon, 0), 1)), "17:00") == 0);
    CHECK_EQ(json_array_size(json_object_get(r, "closures")), 2);
    CHECK(strcmp(json_string_value(json_object_get(r, "name")), "Test Clinic") == 0);
    json_decref(r);
    CHECK_EQ(api_call(&s, "PATCH", "/v1/organization", s.admin_key,
                      "{\"name\":\"Renamed\",\"timezone\":\"America/New_York\"}", &r),
             200);
    CHECK(strcmp(json_string_value(json_object_get(r, "name")), "Renamed") == 0);
    CHECK_EQ(json_array_size(json_object_get(r, "closures")), 2); /* kept */
    json_decref(r);
    CHECK_EQ(
        api_call(&s, "PATCH", "/v1/organization", s.admin_key, "{\"business_hours\":null}", &r),
        200);
    CHECK(json_is_null(json_object_get(r, "business_hours")));
    CHECK(strcmp(json_string_value(json_object_get(r, "language")), "en") == 0); /* defaults */
    CHECK_EQ(json_array_size(json_object_get(r, "reminder_offsets_minutes")), 0);
    json_decref(r);
    CHECK_EQ(api_call(&s, "PATCH", "/v1/organization", s.admin_key,
                      "{\"language\":\"pl\",\"reminder_offsets_minutes\":[1440,120]}", &r),
             200);
    CHECK(strcmp(json_string_value(json_object_get(r, "language")), "pl") == 0);
    CHECK_EQ(json_integer_value(json_array_get(json_object_get(r, "reminder_offsets_minutes"), 1)),
             120);
    json_decref(r);
    api_stop(&s);
}

static void expect_invalid(api_server_t *s, const char *body, const char *field)
{
    json_t *r;
    int status = api_call(s, "PATCH", "/v1/organization", s->admin_key, body, &r);
    const char *got = json_string_value(
        json_object_get(json_object_get(json_object_get(r, "error"), "details"), "field"));
    if (status != 400 || strcmp(api_error_code(r), "invalid_request") != 0 || !got ||
        strcmp(got, field) != 0) {
        fprintf(stderr, "body %s: status %d, field %s (expected %s)\n", body, status,
                got ? got : "(none)", field);
        exit(1);
    }
    json_decref(r);
}

TEST(api_organization_language_and_reminders_refuse_what_is_not_one)
{
    api_server_t s;
    api_start(&s, NULL);
    const char *bad[] = {"{\"language\":\"fr\"}", "{\"language\":null}", "{\"language\":3}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_invalid(&s, bad[i], "language");
    const char *reminders[] = {"{\"reminder_offsets_minutes\":[0]}",
                               "{\"reminder_offsets_minutes\":[60,60]}",
                               "{\"reminder_offsets_minutes\":[525601]}",
                               "{\"reminder_offsets_minutes\":[1.5]}",
                               "{\"reminder_offsets_minutes\":\"1440\"}",
                               "{\"reminder_offsets_minutes\":[1,2,3,4,5,6,7,8,9,10,11]}"};
    for (size_t i = 0; i < sizeof(reminders) / sizeof(reminders[0]); i++)
        expect_invalid(&s, reminders[i], "reminder_offsets_minutes");
    json_t *r;
    CHECK_EQ(api_call(&s, "GET", "/v1/organization", s.admin_key, NULL, &r), 200);
    CHECK(strcmp(json_string_value(json_object_get(r, "language")), "en") == 0); /* unchanged */
    json_decref(r);
    api_stop(&s);
}

TEST(api_bad_input_is_400_naming_the_field_and_changes_nothing)
{
    api_server_t s;
    api_start(&s, NULL);
    expect_invalid(&s,
                   "{\"business_hours\":{\"mon\":[[\"09:00\",\"13:00\"],[\"12:00\",\"17:00\"]]}}",
                   "business_hours.mon[1]");
    expect_invalid(&s, "{\"business_hours\":{\"tue\":[[\"17:00\",\"09:00\"]]}}",
                   "business_hours.tue[0]");
    expect_invalid(&s, "{\"business_hours\":{\"someday\":[]}}", "business_hours.someday");
    expect_invalid(&s, "{\"business_hours\":{\"wed\":[[\"9am\",\"5pm\"]]}}",
                   "business_hours.wed[0]");
    expect_invalid(&s, "{\"timezone\":\"Mars/Olympus\"}", "timezone");
    expect_invalid(&s, "{\"timezone\":\"../../etc/passwd\"}", "timezone");
    expect_invalid(&s, "{\"closures\":[\"2026-02-30\"]}", "closures[0]");
    expect_invalid(&s, "{\"name\":\"\"}", "name");
    expect_invalid(&s, "{\"name\":\"ok\",\"colour\":\"blue\"}", "colour");
    expect_invalid(&s, "[1,2]", "body");
    expect_invalid(&s, "{\"name\":", "body");
    expect_invalid(&s, "{\"name\":\"a\",\"name\":\"b\"}", "body");
    json_t *r;
    CHECK_EQ(api_call(&s, "GET", "/v1/organization", s.admin_key, NULL, &r), 200);
    CHECK(strcmp(json_string_value(json_object_get(r, "name")), "Test Clinic") == 0);
    CHECK(json_is_null(json_object_get(r, "business_hours")));
    json_decref(r);
    api_stop(&s);
}

TEST(api_roles_limit_what_a_key_may_do)
{
    api_server_t s;
    api_start(&s, NULL);
    char agent[128], sync[128];
    api_create_key(&s, s.organization_id, "agent", agent);
    api_create_key(&s, s.organization_id, "sync", sync);
    json_t *r;
    CHECK_EQ(api_call(&s, "GET", "/v1/organization", agent, NULL, &r), 200);
    json_decref(r);
    CHECK_EQ(api_call(&s, "PATCH", "/v1/organization", agent, "{\"name\":\"x\"}", &r), 403);
    CHECK(strcmp(api_error_code(r), "forbidden") == 0);
    json_decref(r);
    CHECK_EQ(api_call(&s, "GET", "/v1/organization", sync, NULL, &r), 200); /* any role */
    json_decref(r);
    CHECK_EQ(api_call(&s, "PATCH", "/v1/organization", sync, "{\"name\":\"x\"}", &r), 403);
    json_decref(r);
    CHECK_EQ(api_call(&s, "GET", "/v1/resources", sync, NULL, &r), 403);
    json_decref(r);
    api_stop(&s);
}

TEST(api_a_key_sees_only_its_own_organization)
{
    api_server_t s;
    api_start(&s, NULL);
    char other_key[128], other_id[40];
    api_create_org(&s, "Other Salon", other_key, other_id);
    json_t *r;
    CHECK_EQ(api_call(&s, "PATCH", "/v1/organization", other_key, "{\"name\":\"Mine\"}", &r), 200);
    CHECK(strcmp(json_string_value(json_object_get(r, "id")), other_id) == 0);
    json_decref(r);
    CHECK_EQ(api_call(&s, "GET", "/v1/organization", s.admin_key, NULL, &r), 200);
    CHECK(strcmp(json_string_value(json_object_get(r, "id")), s.organization_id) == 0);
    CHECK(strcmp(json_string_value(json_object_get(r, "name")), "Test Clinic") == 0);
    json_decref(r);
    /* a key naming one organization but hashed for another is refused */
    char mixed[300];
    snprintf(mixed, sizeof(mixed), "%.35s%.100s", other_key, s.admin_key + 35);
    CHECK_EQ(api_call(&s, "GET", "/v1/organization", mixed, NULL, &r), 401);
    json_decref(r);
    api_stop(&s);
}

TEST(api_refuses_bodies_over_one_mebibyte)
{
    api_server_t s;
    api_start(&s, NULL);
    size_t n = 1024 * 1024 + 100;
    char *big = malloc(n + 1);
    memset(big, ' ', n);
    memcpy(big, "{\"name\":\"x\"", 11);
    big[n - 1] = '}';
    big[n] = 0;
    json_t *r;
    CHECK_EQ(api_call(&s, "PATCH", "/v1/organization", s.admin_key, big, &r), 413);
    CHECK(strcmp(api_error_code(r), "payload_too_large") == 0);
    json_decref(r);
    free(big);
    api_stop(&s);
}

TEST(api_unknown_routes_and_methods)
{
    api_server_t s;
    api_start(&s, NULL);
    json_t *r;
    CHECK_EQ(api_call(&s, "GET", "/v1/nothing-here", s.admin_key, NULL, &r), 404);
    CHECK(strcmp(api_error_code(r), "not_found") == 0);
    json_decref(r);
    CHECK_EQ(api_call(&s, "DELETE", "/v1/organization", s.admin_key, NULL, &r), 405);
    json_decref(r);
    api_stop(&s);
}

TEST(api_metrics_count_requests_per_route)
{
    api_server_t s;
    api_start(&s, NULL);
    json_t *r;
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(api_call(&s, "GET", "/v1/organization", s.admin_key, NULL, &r), 200);
        json_decref(r);
    }
    CHECK_EQ(api_call(&s, "GET", "/v1/organization", NULL, NULL, &r), 401);
    json_decref(r);
    static char text[65536];
    CHECK_EQ(api_get_text(&s, "/metrics", text, sizeof(text)), 200);
    CHECK(strstr(text,
                 "slotd_http_requests_total{route=\"GET /v1/organization\",status=\"2xx\"} 3") !=
          NULL);
    CHECK(strstr(text,
                 "slotd_http_requests_total{route=\"GET /v1/organization\",status=\"4xx\"} 1") !=
          NULL);
    CHECK(strstr(text,
                 "slotd_http_request_duration_seconds_count{route=\"GET /v1/organization\"} 4") !=
          NULL);
    CHECK(strstr(text, "slotd_db_pool_connections{state=\"ready\"}") != NULL);
    CHECK(strstr(text, "slotd_index_objects{kind=\"organizations\"}") != NULL);
    api_stop(&s);
}

static void raw_send(int port, const char *bytes, size_t len, bool read_answer)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    CHECK(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    CHECK(write(fd, bytes, len) == (ssize_t)len);
    if (read_answer) {
        char buf[512];
        struct timeval tv = {2, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        (void)read(fd, buf, sizeof(buf));
    }
    close(fd);
}

TEST(api_survives_garbage_and_clients_that_leave_mid_request)
{
    api_server_t s;
    api_start(&s, NULL);
    raw_send(s.port, "\x16\x03\x01\x02\x00garbage\r\n\r\n", 16, true);
    raw_send(s.port, "GET /v1/organization HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"na",
             66, false);
    raw_send(s.port, "PATCH /v1/organization HTTP/1.1\r\nHost: x\r\n", 42, false);
    char request[512];
    int n = snprintf(request, sizeof(request),
                     "GET /v1/organization HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n",
                     s.admin_key);
    for (int i = 0; i < 20; i++)
        raw_send(s.port, request, (size_t)n, false); /* leave before the database answers */
    json_t *r;
    CHECK_EQ(api_call(&s, "GET", "/healthz", NULL, NULL, &r), 200);
    json_decref(r);
    CHECK_EQ(api_call(&s, "GET", "/v1/organization", s.admin_key, NULL, &r), 200);
    json_decref(r);
    api_stop(&s);
}

TEST(api_keeps_answering_while_clients_send_slowly)
{
    api_server_t s;
    api_start(&s, NULL);
    api_wait_ready(&s);
    /* ten connections that each send half a request and then nothing */
    int slow[10];
    for (int i = 0; i < 10; i++) {
        slow[i] = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s.port)};
        inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
        CHECK(connect(slow[i], (struct sockaddr *)&a, sizeof(a)) == 0);
        const char *half =
            "PATCH /v1/organization HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{\"na";
        CHECK(write(slow[i], half, strlen(half)) == (ssize_t)strlen(half));
    }
    for (int i = 0; i < 20; i++) {
        json_t *r;
        CHECK_EQ(api_call(&s, "GET", "/v1/organization", s.admin_key, NULL, &r), 200);
        json_decref(r);
    }
    for (int i = 0; i < 10; i++)
        close(slow[i]);
    api_stop(&s);
}

TEST(api_shutdown_refuses_requests_on_kept_alive_connections)
{
    api_server_t s;
    api_start(&s, NULL);
    api_wait_ready(&s);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s.port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    CHECK(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    const char *ready = "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n";
    char buf[2048];
    CHECK(write(fd, ready, strlen(ready)) == (ssize_t)strlen(ready));
    CHECK(read(fd, buf, sizeof(buf)) > 0); /* answered; the connection stays open */
    kill(s.pid, SIGTERM);
    usleep(200000); /* the pool and index close meanwhile */
    /* a request on the kept-alive connection: refused (or the connection is gone) */
    ssize_t n = write(fd, ready, strlen(ready));
    if (n > 0) {
        struct timeval tv = {2, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        ssize_t got = read(fd, buf, sizeof(buf) - 1);
        if (got > 0) {
            buf[got] = 0;
            CHECK(strstr(buf, " 503 ") != NULL);
        }
    }
    close(fd);
    int status = 0;
    for (int i = 0; i < 1500 && waitpid(s.pid, &status, WNOHANG) == 0; i++)
        usleep(10000);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    test_db_drop(s.db);
}
