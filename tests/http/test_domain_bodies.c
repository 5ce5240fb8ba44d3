/*
 * Bodies of resources, overrides and services: what the service sets itself
 * (ids, the override's date, which is the path's) is refused rather than
 * silently ignored, and a price is held to whole cents however it is written.
 */
#include <string.h>

#include "api_client.h"
#include "test.h"

static void expect_field(api_server_t *s, const char *method, const char *path, const char *body,
                         const char *field)
{
    json_t *r;
    int status = api_call(s, method, path, s->admin_key, body, &r);
    const char *got = json_string_value(
        json_object_get(json_object_get(json_object_get(r, "error"), "details"), "field"));
    if (status != 400 || !got || strcmp(got, field) != 0) {
        fprintf(stderr, "%s %s %s: status %d, field %s (expected %s)\n", method, path, body, status,
                got ? got : "(none)", field);
        exit(1);
    }
    json_decref(r);
}

static size_t count(api_server_t *s, const char *path)
{
    json_t *r = api_expect(s, 200, "GET", path, s->admin_key, NULL);
    size_t n = json_array_size(json_object_get(r, "items"));
    json_decref(r);
    return n;
}

static const char *const other_id = "00000000-0000-0000-0000-000000000001";

TEST(domain_bodies_refuse_ids_the_service_sets)
{
    api_server_t s;
    api_start(&s, NULL);
    char body[512], path[128];
    snprintf(body, sizeof(body),
             "{\"kind\":\"staff\",\"name\":\"Anna\",\"working_hours\":{},\"id\":\"%s\"}", other_id);
    expect_field(&s, "POST", "/v1/resources", body, "id");
    CHECK_EQ(count(&s, "/v1/resources"), 0);
    json_t *r = api_expect(&s, 201, "POST", "/v1/resources", s.admin_key,
                           "{\"kind\":\"staff\",\"name\":\"Anna\",\"working_hours\":{}}");
    char resource[40];
    snprintf(resource, sizeof(resource), "%s", api_id(r));
    json_decref(r);
    snprintf(path, sizeof(path), "/v1/resources/%s", resource);
    snprintf(body, sizeof(body), "{\"id\":\"%s\"}", other_id);
    expect_field(&s, "PATCH", path, body, "id");
    snprintf(body, sizeof(body),
             "{\"name\":\"S\",\"duration_minutes\":30,\"id\":\"%s\",\"requirements\":"
             "[{\"resource_ids\":[\"%s\"],\"mode\":\"all\"}]}",
             other_id, resource);
    expect_field(&s, "POST", "/v1/services", body, "id");
    CHECK_EQ(count(&s, "/v1/services"), 0);
    api_stop(&s);
}

TEST(domain_override_body_refuses_a_date)
{
    api_server_t s;
    api_start(&s, NULL);
    json_t *r = api_expect(&s, 201, "POST", "/v1/resources", s.admin_key,
                           "{\"kind\":\"staff\",\"name\":\"Anna\",\"working_hours\":{}}");
    char path[160], list[160];
    snprintf(path, sizeof(path), "/v1/resources/%s/overrides/2026-03-28", api_id(r));
    snprintf(list, sizeof(list), "/v1/resources/%s/overrides", api_id(r));
    json_decref(r);
    expect_field(&s, "PUT", path, "{\"date\":\"2026-03-29\",\"hours\":[]}", "date");
    CHECK_EQ(count(&s, list), 0);
    json_decref(api_expect(&s, 201, "PUT", path, s.admin_key, "{\"hours\":[]}"));
    CHECK_EQ(count(&s, list), 1);
    api_stop(&s);
}

TEST(domain_price_refuses_sub_cent_numbers_like_sub_cent_text)
{
    api_server_t s;
    api_start(&s, NULL);
    json_t *r = api_expect(&s, 201, "POST", "/v1/resources", s.admin_key,
                           "{\"kind\":\"staff\",\"name\":\"Anna\",\"working_hours\":{}}");
    char body[512], resource[40];
    snprintf(resource, sizeof(resource), "%s", api_id(r));
    json_decref(r);
    const char *refused[] = {"0.001", "\"0.001\"", "19.999", "\"19.999\""};
    for (int i = 0; i < 4; i++) {
        snprintf(body, sizeof(body),
                 "{\"name\":\"S\",\"duration_minutes\":30,\"price\":%s,\"requirements\":"
                 "[{\"resource_ids\":[\"%s\"],\"mode\":\"all\"}]}",
                 refused[i], resource);
        expect_field(&s, "POST", "/v1/services", body, "price");
    }
    CHECK_EQ(count(&s, "/v1/services"), 0);
    const char *accepted[] = {"19.99", "\"19.99\"", "180", "\"180.5\""};
    const char *stored[] = {"19.99", "19.99", "180.00", "180.50"};
    for (int i = 0; i < 4; i++) {
        snprintf(body, sizeof(body),
                 "{\"name\":\"S\",\"duration_minutes\":30,\"price\":%s,\"requirements\":"
                 "[{\"resource_ids\":[\"%s\"],\"mode\":\"all\"}]}",
                 accepted[i], resource);
        r = api_expect(&s, 201, "POST", "/v1/services", s.admin_key, body);
        const char *price = json_string_value(json_object_get(r, "price"));
        if (!price || strcmp(price, stored[i]) != 0) {
            fprintf(stderr, "price %s stored as %s\n", accepted[i], price ? price : "(none)");
            exit(1);
        }
        json_decref(r);
    }
    api_stop(&s);
}

/* The message of a 400 for `path`, which must name `field` (static buffer). */
static const char *refusal(api_server_t *s, const char *path, const char *field)
{
    static char message[256];
    json_t *r;
    CHECK_EQ(api_call(s, "GET", path, s->admin_key, NULL, &r), 400);
    json_t *error = json_object_get(r, "error");
    const char *got =
        json_string_value(json_object_get(json_object_get(error, "details"), "field"));
    CHECK(got && strcmp(got, field) == 0);
    snprintf(message, sizeof(message), "%s", json_string_value(json_object_get(error, "message")));
    json_decref(r);
    return message;
}

/* Issue 12: a present but malformed date or instant says what is wrong, not that it is missing. */
TEST(domain_listings_say_what_is_wrong_with_a_malformed_date)
{
    api_server_t s;
    api_start(&s, NULL);
    json_t *r = api_expect(&s, 201, "POST", "/v1/resources", s.admin_key,
                           "{\"kind\":\"staff\",\"name\":\"Anna\",\"working_hours\":{}}");
    char resource[40], path[256];
    snprintf(resource, sizeof(resource), "%s", api_id(r));
    json_decref(r);
    snprintf(path, sizeof(path), "/v1/resources/%s/blocks?from=2026-02-30&to=2026-03-02", resource);
    const char *message = refusal(&s, path, "from");
    CHECK(strstr(message, "required") == NULL && strstr(message, "calendar") != NULL);
    snprintf(path, sizeof(path), "/v1/resources/%s/blocks?to=2026-03-02", resource);
    CHECK(strstr(refusal(&s, path, "from"), "required") != NULL);
    snprintf(path, sizeof(path),
             "/v1/resources/%s/blocks?from=2026-03-01&to=2026-03-02T09:00:00+01:00", resource);
    CHECK(strstr(refusal(&s, path, "to"), "%2B") != NULL);
    snprintf(path, sizeof(path), "/v1/resources/%s/overrides?from=2026-02-30", resource);
    CHECK(strstr(refusal(&s, path, "from"), "calendar") != NULL);
    api_stop(&s);
}
