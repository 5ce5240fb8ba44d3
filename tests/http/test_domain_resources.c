/*
 * Resources and their overrides through the domain layer, over real HTTP:
 * a location a resource names must be a live one (400 location_id, nothing
 * changed), a missing resource stays a 404 whatever location it is given,
 * and overrides page by date.
 */
#include <string.h>

#include "api_client.h"
#include "test.h"

static const char *const unknown = "00000000-0000-0000-0000-0000000000ff";

/* The field a 400 names, checked against `field`; the response is released. */
static void check_field(json_t *response, const char *field, const char *message)
{
    const json_t *error = json_object_get(response, "error");
    const char *got =
        json_string_value(json_object_get(json_object_get(error, "details"), "field"));
    CHECK(got != NULL && strcmp(got, field) == 0);
    CHECK(strcmp(json_string_value(json_object_get(error, "message")), message) == 0);
    json_decref(response);
}

static void post_id(api_server_t *s, const char *path, const char *body, char *id)
{
    json_t *r = api_expect(s, 201, "POST", path, s->admin_key, body);
    snprintf(id, 40, "%s", api_id(r));
    json_decref(r);
}

TEST(domain_resource_naming_a_location_that_is_not_live_is_refused_and_changes_nothing)
{
    api_server_t s;
    api_start(&s, NULL);
    char north[40], gone[40], anna[40], body[512], path[128];
    post_id(&s, "/v1/locations", "{\"name\":\"North\"}", north);
    post_id(&s, "/v1/locations", "{\"name\":\"Gone\"}", gone);
    snprintf(path, sizeof(path), "/v1/locations/%s", gone);
    json_decref(api_expect(&s, 204, "DELETE", path, s.admin_key, NULL));
    snprintf(body, sizeof(body),
             "{\"kind\":\"staff\",\"name\":\"Anna\",\"working_hours\":{},\"location_id\":\"%s\"}",
             north);
    post_id(&s, "/v1/resources", body, anna);
    snprintf(path, sizeof(path), "/v1/resources/%s", anna);

    const char *refused[2] = {gone, unknown};
    for (int i = 0; i < 2; i++) {
        snprintf(body, sizeof(body), "{\"name\":\"Moved\",\"location_id\":\"%s\"}", refused[i]);
        check_field(api_expect(&s, 400, "PATCH", path, s.admin_key, body), "location_id",
                    "No such location.");
        snprintf(body, sizeof(body),
                 "{\"kind\":\"room\",\"name\":\"R\",\"working_hours\":{},\"location_id\":\"%s\"}",
                 refused[i]);
        check_field(api_expect(&s, 400, "POST", "/v1/resources", s.admin_key, body), "location_id",
                    "No such location.");
    }
    json_t *r = api_expect(&s, 200, "GET", path, s.admin_key, NULL);
    CHECK(strcmp(json_string_value(json_object_get(r, "name")), "Anna") == 0);
    CHECK(strcmp(json_string_value(json_object_get(r, "location_id")), north) == 0);
    json_decref(r);
    r = api_expect(&s, 200, "GET", "/v1/resources", s.admin_key, NULL);
    CHECK_EQ(json_array_size(json_object_get(r, "items")), 1);
    json_decref(r);

    /* a resource that is not there is not found, whatever location the PATCH names */
    snprintf(path, sizeof(path), "/v1/resources/%s", unknown);
    snprintf(body, sizeof(body), "{\"location_id\":\"%s\"}", unknown);
    json_decref(api_expect(&s, 404, "PATCH", path, s.admin_key, body));
    api_stop(&s);
}

TEST(domain_resource_overrides_page_by_date_and_need_their_hours)
{
    api_server_t s;
    api_start(&s, NULL);
    char anna[40], path[160];
    post_id(&s, "/v1/resources", "{\"kind\":\"staff\",\"name\":\"Anna\",\"working_hours\":{}}",
            anna);
    const char *dates[3] = {"2026-04-02", "2026-03-28", "2026-03-30"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "/v1/resources/%s/overrides/%s", anna, dates[i]);
        json_decref(api_expect(&s, 201, "PUT", path, s.admin_key, "{\"hours\":[]}"));
    }
    json_decref(api_expect(&s, 200, "PUT", path, s.admin_key,
                           "{\"hours\":[[\"10:00\",\"12:00\"]]}")); /* replaced */
    check_field(api_expect(&s, 400, "PUT", path, s.admin_key, "{}"), "hours",
                "hours is required: [[\"10:00\",\"14:00\"]], [] = off.");

    snprintf(path, sizeof(path), "/v1/resources/%s/overrides?limit=2", anna);
    json_t *r = api_expect(&s, 200, "GET", path, s.admin_key, NULL);
    const json_t *items = json_object_get(r, "items");
    CHECK_EQ(json_array_size(items), 2);
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(items, 0), "date")),
                 "2026-03-28") == 0);
    const char *cursor = json_string_value(json_object_get(r, "next_cursor"));
    CHECK(cursor != NULL && strcmp(cursor, "2026-03-30") == 0);
    const json_t *hours = json_object_get(json_array_get(items, 1), "hours");
    CHECK(json_array_size(hours) == 1); /* the replaced override's hours */
    snprintf(path, sizeof(path), "/v1/resources/%s/overrides?limit=2&cursor=%s", anna, cursor);
    json_decref(r);
    r = api_expect(&s, 200, "GET", path, s.admin_key, NULL);
    CHECK_EQ(json_array_size(json_object_get(r, "items")), 1);
    CHECK(json_is_null(json_object_get(r, "next_cursor")));
    json_decref(r);
    api_stop(&s);
}
