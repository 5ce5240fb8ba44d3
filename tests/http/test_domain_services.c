/*
 * Services through the domain layer, over real HTTP: a value of the wrong
 * type is refused with the field's own message, naming the field (deep in the
 * requirements too); a resource that is not live is refused naming its place,
 * and nothing is written; and what a write answers is what a read answers.
 */
#include <string.h>

#include "api_client.h"
#include "test.h"

static const char *const unknown = "00000000-0000-0000-0000-0000000000ff";

/* A POST or PATCH refused with 400 naming `field` with `message`. */
static void expect_refused(api_server_t *s, const char *method, const char *path, const char *body,
                           const char *field, const char *message)
{
    json_t *r;
    int status = api_call(s, method, path, s->admin_key, body, &r);
    const json_t *error = json_object_get(r, "error");
    const char *got =
        json_string_value(json_object_get(json_object_get(error, "details"), "field"));
    const char *said = json_string_value(json_object_get(error, "message"));
    if (status != 400 || !got || strcmp(got, field) != 0 || !said || strcmp(said, message) != 0) {
        fprintf(stderr, "%s %s %s: status %d, field %s, message %s (expected %s: %s)\n", method,
                path, body, status, got ? got : "(none)", said ? said : "(none)", field, message);
        exit(1);
    }
    json_decref(r);
}

static void post_id(api_server_t *s, const char *path, const char *body, char *id)
{
    json_t *r = api_expect(s, 201, "POST", path, s->admin_key, body);
    snprintf(id, 40, "%s", api_id(r));
    json_decref(r);
}

/* Starts a server with one resource, Anna: her id into `anna` (40 bytes). */
static void start_with_anna(api_server_t *s, char *anna)
{
    api_start(s, NULL);
    post_id(s, "/v1/resources", "{\"kind\":\"staff\",\"name\":\"Anna\",\"working_hours\":{}}",
            anna);
}

static size_t service_count(api_server_t *s)
{
    json_t *r = api_expect(s, 200, "GET", "/v1/services", s->admin_key, NULL);
    size_t n = json_array_size(json_object_get(r, "items"));
    json_decref(r);
    return n;
}

TEST(domain_service_refuses_wrong_types_with_each_fields_own_message)
{
    api_server_t s;
    char anna[40], body[512];
    start_with_anna(&s, anna);
    /* each body breaks one field of a valid service */
    static const struct {
        const char *fields, *field, *message;
    } cases[] = {
        {"\"name\":5", "name", "name must be text of 1 to 200 characters."},
        {"\"name\":null", "name", "name must be text of 1 to 200 characters."},
        {"\"duration_minutes\":\"45\"", "duration_minutes",
         "duration_minutes must be a whole number from 1 to 10080."},
        {"\"duration_minutes\":45.5", "duration_minutes",
         "duration_minutes must be a whole number from 1 to 10080."},
        {"\"slot_interval_minutes\":\"15\"", "slot_interval_minutes",
         "slot_interval_minutes must be a whole number from 1 to 10080, or null."},
        {"\"buffer_before_minutes\":null", "buffer_before_minutes",
         "buffer_before_minutes must be a whole number from 0 to 1440."},
        {"\"active\":\"yes\"", "active", "active must be true or false."},
        {"\"price\":true", "price", "price is a decimal like \"180.00\", or null."},
        {"\"currency\":985", "currency", "currency is an ISO 4217 code like \"PLN\", or null."},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool name = strcmp(cases[i].field, "name") == 0,
             duration = strcmp(cases[i].field, "duration_minutes") == 0;
        snprintf(body, sizeof(body),
                 "{%s,%s,\"requirements\":[{\"resource_ids\":[\"%s\"],\"mode\":\"any\"}]%s%s}",
                 name ? cases[i].fields : "\"name\":\"S\"",
                 duration ? cases[i].fields : "\"duration_minutes\":45", anna,
                 name || duration ? "" : ",", name || duration ? "" : cases[i].fields);
        expect_refused(&s, "POST", "/v1/services", body, cases[i].field, cases[i].message);
    }
    CHECK_EQ(service_count(&s), 0);
    api_stop(&s);
}

TEST(domain_service_refuses_malformed_requirements_naming_the_place)
{
    api_server_t s;
    char anna[40], body[512];
    start_with_anna(&s, anna);
    static const struct {
        const char *requirements, *field, *message;
    } cases[] = {
        {"{}", "requirements",
         "requirements is a list of 1 to 8 groups: [{\"resource_ids\":[...],\"mode\":\"any\"}]."},
        {"[GROUP,5]", "requirements[1]", "A group is {\"resource_ids\":[...],\"mode\":...}."},
        {"[{\"resource_ids\":[\"ID\"],\"mode\":\"any\",\"size\":2}]", "size", "Unknown field."},
        {"[{\"resource_ids\":[\"ID\"],\"mode\":1}]", "requirements[0].mode",
         "mode must be any or all."},
        {"[GROUP,{\"resource_ids\":\"ID\",\"mode\":\"all\"}]", "requirements[1].resource_ids",
         "resource_ids lists 1 to 256 resource ids."},
        {"[{\"resource_ids\":[\"ID\",7],\"mode\":\"all\"}]", "requirements[0].resource_ids[1]",
         "Not a resource id."},
        {"[{\"resource_ids\":[\"ID\",\"ID\"],\"mode\":\"all\"}]", "requirements[0].resource_ids[1]",
         "A resource is listed twice in this group."},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        /* GROUP: a valid group; ID: Anna's id */
        char requirements[384] = "", *out = requirements;
        for (const char *p = cases[i].requirements; *p;) {
            if (strncmp(p, "GROUP", 5) == 0)
                out += sprintf(out, "{\"resource_ids\":[\"%s\"],\"mode\":\"any\"}", anna), p += 5;
            else if (strncmp(p, "ID", 2) == 0)
                out += sprintf(out, "%s", anna), p += 2;
            else
                *out++ = *p++;
        }
        *out = 0;
        snprintf(body, sizeof(body), "{\"name\":\"S\",\"duration_minutes\":45,\"requirements\":%s}",
                 requirements);
        expect_refused(&s, "POST", "/v1/services", body, cases[i].field, cases[i].message);
    }
    CHECK_EQ(service_count(&s), 0);
    api_stop(&s);
}

TEST(domain_service_naming_a_resource_that_is_not_live_writes_nothing)
{
    api_server_t s;
    api_start(&s, NULL);
    char anna[40], gone[40], service[40], body[512], path[128];
    post_id(&s, "/v1/resources", "{\"kind\":\"staff\",\"name\":\"Anna\",\"working_hours\":{}}",
            anna);
    post_id(&s, "/v1/resources", "{\"kind\":\"room\",\"name\":\"Gone\",\"working_hours\":{}}",
            gone);
    snprintf(path, sizeof(path), "/v1/resources/%s", gone);
    json_decref(api_expect(&s, 204, "DELETE", path, s.admin_key, NULL));

    const char *refused[2] = {gone, unknown};
    for (int i = 0; i < 2; i++) {
        snprintf(body, sizeof(body),
                 "{\"name\":\"S\",\"duration_minutes\":45,\"requirements\":"
                 "[{\"resource_ids\":[\"%s\"],\"mode\":\"any\"},"
                 "{\"resource_ids\":[\"%s\",\"%s\"],\"mode\":\"all\"}]}",
                 anna, anna, refused[i]);
        expect_refused(&s, "POST", "/v1/services", body, "requirements[1].resource_ids[1]",
                       "No such resource.");
    }
    CHECK_EQ(service_count(&s), 0);

    snprintf(body, sizeof(body),
             "{\"name\":\"S\",\"duration_minutes\":45,\"price\":19.99,\"currency\":\"PLN\","
             "\"requirements\":[{\"resource_ids\":[\"%s\"],\"mode\":\"any\"}]}",
             anna);
    post_id(&s, "/v1/services", body, service);
    snprintf(path, sizeof(path), "/v1/services/%s", service);
    json_t *before = api_expect(&s, 200, "GET", path, s.admin_key, NULL);
    snprintf(body, sizeof(body),
             "{\"name\":\"Renamed\",\"requirements\":[{\"resource_ids\":[\"%s\"],\"mode\":"
             "\"all\"}]}",
             gone);
    expect_refused(&s, "PATCH", path, body, "requirements[0].resource_ids[0]", "No such resource.");
    json_t *after = api_expect(&s, 200, "GET", path, s.admin_key, NULL);
    CHECK(json_equal(before, after)); /* the name too: the write is one statement */
    json_decref(before);
    json_decref(after);
    api_stop(&s);
}

TEST(domain_service_write_answers_what_a_read_answers)
{
    api_server_t s;
    api_start(&s, NULL);
    char anna[40], room[40], body[640], path[128];
    post_id(&s, "/v1/resources", "{\"kind\":\"staff\",\"name\":\"Anna\",\"working_hours\":{}}",
            anna);
    post_id(&s, "/v1/resources", "{\"kind\":\"room\",\"name\":\"Room\",\"working_hours\":{}}",
            room);
    snprintf(body, sizeof(body),
             "{\"name\":\"Cleaning\",\"duration_minutes\":45,\"slot_interval_minutes\":null,"
             "\"buffer_before_minutes\":5,\"buffer_after_minutes\":10,\"min_notice_minutes\":120,"
             "\"max_advance_days\":60,\"price\":\"180\",\"currency\":\"PLN\",\"active\":false,"
             "\"requirements\":[{\"resource_ids\":[\"%s\",\"%s\"],\"mode\":\"any\"},"
             "{\"resource_ids\":[\"%s\"],\"mode\":\"all\"}]}",
             anna, room, room);
    json_t *created = api_expect(&s, 201, "POST", "/v1/services", s.admin_key, body);
    CHECK(strcmp(json_string_value(json_object_get(created, "price")), "180.00") == 0);
    CHECK(json_is_null(json_object_get(created, "slot_interval_minutes")));
    CHECK_EQ(json_integer_value(json_object_get(created, "max_advance_days")), 60);
    CHECK(json_is_false(json_object_get(created, "active")));
    json_t *groups = json_object_get(created, "requirements");
    CHECK_EQ(json_array_size(groups), 2);
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(groups, 1), "mode")), "all") ==
          0);
    CHECK(strcmp(json_string_value(
                     json_array_get(json_object_get(json_array_get(groups, 0), "resource_ids"), 1)),
                 room) == 0);
    CHECK_EQ(json_object_size(created), 14);
    snprintf(path, sizeof(path), "/v1/services/%s", api_id(created));
    json_t *got = api_expect(&s, 200, "GET", path, s.admin_key, NULL);
    CHECK(json_equal(created, got));
    json_t *patched = api_expect(&s, 200, "PATCH", path, s.admin_key,
                                 "{\"price\":null,\"max_advance_days\":null}");
    CHECK(json_is_null(json_object_get(patched, "price")));
    CHECK(json_is_null(json_object_get(patched, "max_advance_days")));
    CHECK(json_equal(json_object_get(patched, "requirements"), groups));
    json_t *list = api_expect(&s, 200, "GET", "/v1/services", s.admin_key, NULL);
    CHECK(json_equal(json_array_get(json_object_get(list, "items"), 0), patched));
    json_decref(created);
    json_decref(got);
    json_decref(patched);
    json_decref(list);
    api_stop(&s);
}
