/*
 * Locations through the domain layer, over real HTTP: the rules a body must
 * keep, each refused with a 400 naming the field and changing nothing.
 */
#include <string.h>

#include "api_client.h"
#include "test.h"

/* A POST or PATCH that must be refused: 400 invalid_request naming `field`. */
static void expect_refused(api_server_t *s, const char *method, const char *path, const char *body,
                           const char *field)
{
    json_t *r;
    int status = api_call(s, method, path, s->admin_key, body, &r);
    const char *got = json_string_value(
        json_object_get(json_object_get(json_object_get(r, "error"), "details"), "field"));
    if (status != 400 || strcmp(api_error_code(r), "invalid_request") != 0 || !got ||
        strcmp(got, field) != 0) {
        fprintf(stderr, "%s %s %s: status %d, field %s (expected %s)\n", method, path, body, status,
                got ? got : "(none)", field);
        exit(1);
    }
    json_decref(r);
}

static int location_count(api_server_t *s)
{
    json_t *r = api_expect(s, 200, "GET", "/v1/locations", s->admin_key, NULL);
    int n = (int)json_array_size(json_object_get(r, "items"));
    json_decref(r);
    return n;
}

/* A name of `count` copies of a two-byte character. */
static char *name_of(int count)
{
    char *body = malloc((size_t)count * 2 + 32), *p = body;
    p += sprintf(p, "{\"name\":\"");
    for (int i = 0; i < count; i++)
        p += sprintf(p, "\xc5\xbc"); /* ż */
    sprintf(p, "\"}");
    return body;
}

TEST(domain_location_name_limit_counts_characters_not_bytes)
{
    api_server_t s;
    api_start(&s, NULL);
    char *body = name_of(200); /* 200 characters, 400 bytes */
    json_t *r = api_expect(&s, 201, "POST", "/v1/locations", s.admin_key, body);
    CHECK_EQ(strlen(json_string_value(json_object_get(r, "name"))), 400);
    json_decref(r);
    free(body);
    body = name_of(201);
    expect_refused(&s, "POST", "/v1/locations", body, "name");
    free(body);
    CHECK_EQ(location_count(&s), 1);
    api_stop(&s);
}

TEST(domain_location_refuses_an_id_or_timestamps_in_the_body)
{
    api_server_t s;
    api_start(&s, NULL);
    expect_refused(&s, "POST", "/v1/locations",
                   "{\"name\":\"North\",\"id\":\"00000000-0000-0000-0000-000000000001\"}", "id");
    expect_refused(&s, "POST", "/v1/locations",
                   "{\"name\":\"North\",\"created_at\":\"2026-01-01T00:00:00Z\"}", "created_at");
    CHECK_EQ(location_count(&s), 0);
    json_t *r = api_expect(&s, 201, "POST", "/v1/locations", s.admin_key, "{\"name\":\"North\"}");
    char path[96];
    snprintf(path, sizeof(path), "/v1/locations/%s", api_id(r));
    expect_refused(&s, "PATCH", path, "{\"id\":\"00000000-0000-0000-0000-000000000001\"}", "id");
    json_decref(r);
    api_stop(&s);
}

TEST(domain_location_refuses_a_closure_listed_twice)
{
    api_server_t s;
    api_start(&s, NULL);
    expect_refused(
        &s, "POST", "/v1/locations",
        "{\"name\":\"North\",\"closures\":[\"2026-12-24\",\"2026-12-25\",\"2026-12-24\"]}",
        "closures[2]");
    CHECK_EQ(location_count(&s), 0);
    json_t *r = api_expect(&s, 201, "POST", "/v1/locations", s.admin_key,
                           "{\"name\":\"North\",\"closures\":[\"2026-12-25\",\"2026-12-24\"]}");
    CHECK_EQ(json_array_size(json_object_get(r, "closures")), 2);
    char path[96];
    snprintf(path, sizeof(path), "/v1/locations/%s", api_id(r));
    json_decref(r);
    expect_refused(&s, "PATCH", path, "{\"closures\":[\"2027-01-01\",\"2027-01-01\"]}",
                   "closures[1]");
    r = api_expect(&s, 200, "GET", path, s.admin_key, NULL);
    CHECK_EQ(json_array_size(json_object_get(r, "closures")), 2);
    json_decref(r);
    api_stop(&s);
}

/* Issue 8, part: a NUL inside text never reaches json_pack or the database: the body parser
 * refuses it. */
TEST(domain_location_refuses_a_nul_in_text)
{
    api_server_t s;
    api_start(&s, NULL);
    expect_refused(&s, "POST", "/v1/locations", "{\"name\":\"a\\u0000b\"}", "body");
    expect_refused(&s, "POST", "/v1/locations", "{\"name\":\"a\",\"phone\":\"1\\u00002\"}", "body");
    CHECK_EQ(location_count(&s), 0);
    api_stop(&s);
}
