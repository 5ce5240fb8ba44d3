/*
 * Over HTTP, the limits of the supported range, of zone names and of
 * recurrence rules: each refusal is a 400 naming the field, and changes
 * nothing. WEEK objects come back with their days in calendar order.
 */
#include <string.h>

#include "api_client.h"
#include "test.h"

static const char *const frozen[] = {"SLOTD_NOW=2026-03-27T08:00:00+01:00", NULL};

static void expect_invalid(api_server_t *s, const char *method, const char *path, const char *body,
                           const char *field)
{
    json_t *r = api_expect(s, 400, method, path, s->admin_key, body);
    const char *got = json_string_value(
        json_object_get(json_object_get(json_object_get(r, "error"), "details"), "field"));
    if (got == NULL || strcmp(got, field) != 0) {
        fprintf(stderr, "%s %s: field %s, expected %s\n", method, path, got ? got : "(none)",
                field);
        CHECK(false);
    }
    json_decref(r);
}

TEST(api_limits_refuse_out_of_range_instants_zones_and_rules)
{
    api_server_t s;
    api_start(&s, frozen);
    api_wait_ready(&s);
    json_t *r = api_expect(&s, 201, "POST", "/v1/resources", s.admin_key,
                           "{\"kind\":\"staff\",\"name\":\"Anna\",\"working_hours\":{\"sun\":[],"
                           "\"mon\":[[\"09:00\",\"17:00\"]]}}");
    char anna[40], path[256], service_id[40];
    snprintf(anna, sizeof(anna), "%s", api_id(r));
    /* days in calendar order, whatever order they were sent or stored in */
    const char *first_day =
        json_object_iter_key(json_object_iter(json_object_get(r, "working_hours")));
    CHECK(first_day && strcmp(first_day, "mon") == 0);
    json_decref(r);
    snprintf(path, sizeof(path), "/v1/resources/%s", anna);
    r = api_expect(&s, 200, "GET", path, s.admin_key, NULL);
    void *it = json_object_iter(json_object_get(r, "working_hours"));
    static const char *const days[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    for (int d = 0; d < 7; d++, it = json_object_iter_next(json_object_get(r, "working_hours"), it))
        CHECK(it && strcmp(json_object_iter_key(it), days[d]) == 0);
    json_decref(r);

    snprintf(path, sizeof(path), "/v1/resources/%s/blocks", anna);
    expect_invalid(&s, "POST", path,
                   "{\"start\":\"9999-12-31T20:00:00Z\",\"end\":\"9999-12-31T23:59:59-23:59\"}",
                   "start");
    expect_invalid(&s, "POST", path,
                   "{\"start\":\"2199-12-31T20:00:00Z\",\"end\":\"2199-12-31T23:59:59-23:59\"}",
                   "end");
    expect_invalid(&s, "POST", path,
                   "{\"rrule\":\"FREQ=DAILY;BYMONTHDAY=31;BYMONTH=2\",\"start_local\":"
                   "\"2026-04-01T09:00\",\"duration_minutes\":30}",
                   "rrule");
    expect_invalid(&s, "POST", path,
                   "{\"rrule\":\"FREQ=DAILY;BYHOUR=0,1,2,3;BYMINUTE=0,30\",\"start_local\":"
                   "\"2026-04-01T09:00\",\"duration_minutes\":1}",
                   "rrule");
    expect_invalid(&s, "POST", path,
                   "{\"rrule\":\"FREQ=DAILY;UNTIL=20260301T000000Z\",\"start_local\":"
                   "\"2026-04-01T09:00\",\"duration_minutes\":30}",
                   "rrule");
    expect_invalid(&s, "POST", path,
                   "{\"rrule\":\"FREQ=DAILY\",\"start_local\":\"9999-04-01T09:00\","
                   "\"duration_minutes\":30}",
                   "start_local");
    snprintf(path, sizeof(path), "/v1/resources/%s/blocks?from=9999-12-01&to=9999-12-31", anna);
    expect_invalid(&s, "GET", path, NULL, "from");
    snprintf(path, sizeof(path), "/v1/resources/%s/blocks?from=2026-03-01&to=2026-05-01", anna);
    r = api_expect(&s, 200, "GET", path, s.admin_key, NULL);
    CHECK_EQ(json_array_size(json_object_get(r, "items")), 0); /* nothing was stored */
    json_decref(r);

    static const char *const zones[] = {"right/Europe/Warsaw", "posix/Europe/Warsaw", "Factory",
                                        "localtime"};
    for (int i = 0; i < 4; i++) {
        char body[256];
        snprintf(body, sizeof(body), "{\"kind\":\"room\",\"name\":\"R\",\"timezone\":\"%s\"}",
                 zones[i]);
        expect_invalid(&s, "POST", "/v1/resources", body, "timezone");
    }

    snprintf(path, sizeof(path),
             "{\"name\":\"Check\",\"duration_minutes\":30,\"requirements\":[{\"mode\":\"any\","
             "\"resource_ids\":[\"%s\"]}]}",
             anna);
    r = api_expect(&s, 201, "POST", "/v1/services", s.admin_key, path);
    snprintf(service_id, sizeof(service_id), "%s", api_id(r));
    json_decref(r);
    snprintf(path, sizeof(path), "/v1/slots?service_id=%s&from=9999-12-01&to=9999-12-31",
             service_id);
    expect_invalid(&s, "GET", path, NULL, "from");
    snprintf(path, sizeof(path), "/v1/slots?service_id=%s&from=2026-03-30&to=2200-01-02",
             service_id);
    expect_invalid(&s, "GET", path, NULL, "to");
    api_stop(&s);
}
