/*
 * Blocks, the organization and API keys through the domain layer, over real
 * HTTP: the exact field and message a client reads when a body breaks a rule
 * (a field sent as something other than text is refused as text out of
 * bounds, in the order of the object's fields), and the shape of what is
 * answered when it keeps them.
 */
#include <string.h>

#include "api_client.h"
#include "test.h"

static const char *text_of(const json_t *object, const char *name)
{
    const char *text = json_string_value(json_object_get(object, name));
    return text ? text : "(not text)";
}

/* A staff member; its blocks' path into `path`. */
static void staff_blocks(api_server_t *s, char *path, size_t size)
{
    json_t *r = api_expect(s, 201, "POST", "/v1/resources", s->admin_key,
                           "{\"kind\":\"staff\",\"name\":\"Anna\",\"working_hours\":{}}");
    snprintf(path, size, "/v1/resources/%s/blocks", api_id(r));
    json_decref(r);
}

static int block_count(api_server_t *s, const char *path)
{
    char query[256];
    snprintf(query, sizeof(query), "%s?from=2026-03-01&to=2026-04-30", path);
    json_t *r = api_expect(s, 200, "GET", query, s->admin_key, NULL);
    int n = (int)json_array_size(json_object_get(r, "items"));
    json_decref(r);
    return n;
}

TEST(domain_block_bodies_are_refused_with_the_apis_messages)
{
    api_server_t s;
    api_start(&s, NULL);
    char path[128];
    staff_blocks(&s, path, sizeof(path));
    static const char *const once = "\"start\":\"2026-03-27T10:00:00Z\","
                                    "\"end\":\"2026-03-27T11:00:00Z\"";
    struct {
        const char *body, *field, *message;
    } cases[] = {
        {"[]", "body", "Send a JSON object."},
        {"{\"start\":\"2026-03-27T10:00:00Z\",\"until\":1}", "until", "Unknown field."},
        {"{\"start\":5,\"end\":\"2026-03-27T11:00:00Z\"}", "start",
         "start must be text of 1 to 64 characters."},
        {"{\"start\":null,\"end\":\"\"}", "start", "start must be text of 1 to 64 characters."},
        {"{\"start\":\"2026-03-27T10:00:00Z\",\"end\":\"\"}", "end",
         "end must be text of 1 to 64 characters."},
        {"{\"rrule\":[],\"start_local\":\"2026-03-27T09:00\",\"duration_minutes\":60}", "rrule",
         "rrule must be text of 1 to 1024 characters."},
        {"{\"rrule\":\"FREQ=DAILY\",\"start_local\":false,\"duration_minutes\":60}", "start_local",
         "start_local must be text of 1 to 32 characters."},
        {"{\"rrule\":\"FREQ=DAILY\",\"start_local\":\"2026-03-27T09:00\",\"duration_minutes\":"
         "\"60\"}",
         "duration_minutes", "duration_minutes must be a whole number from 1 to 44640."},
        {"{\"rrule\":\"FREQ=DAILY\",\"start_local\":\"2026-03-27T09:00\",\"duration_minutes\":"
         "44641}",
         "duration_minutes", "duration_minutes must be a whole number from 1 to 44640."},
        {"{\"start\":\"2026-03-27T10:00:00Z\",\"end\":\"2026-03-27T11:00:00Z\",\"reason\":\"\"}",
         "reason", "reason must be text of 1 to 500 characters."},
        {"{}", "start", "Send either start and end, or rrule, start_local and duration_minutes."},
        {"{\"start\":\"2026-03-27T10:00:00Z\",\"rrule\":\"FREQ=DAILY\"}", "rrule",
         "Send either start and end, or rrule, start_local and duration_minutes."},
        {"{\"end\":\"2026-03-27T11:00:00Z\"}", "start", "start must be an RFC 3339 instant."},
        {"{\"start\":\"1969-12-31T23:00:00Z\",\"end\":\"2026-03-27T11:00:00Z\"}", "start",
         "start must lie in 1970-01-01..2199-12-31 (UTC)."},
        {"{\"start\":\"2026-03-27T10:00:00Z\",\"end\":\"soon\"}", "end",
         "end must be an RFC 3339 instant."},
        {"{\"start\":\"2026-03-27T10:00:00Z\",\"end\":\"2026-03-27T10:00:00Z\"}", "end",
         "end must be after start, by at most ten years."},
        {"{\"rrule\":\"FREQ=DAILY\",\"start_local\":\"2026-03-27 09:00\",\"duration_minutes\":60}",
         "start_local", "start_local is a local date and time, YYYY-MM-DDTHH:MM, in 1970..2199."},
        {"{\"rrule\":\"FREQ=DAILY\",\"start_local\":\"2026-03-27T09:00\"}", "duration_minutes",
         "duration_minutes is required."},
        {"{\"start_local\":\"2026-03-27T09:00\",\"duration_minutes\":60}", "rrule",
         "rrule must be an RFC 5545 rule, daily or less often (at most one BYHOUR, BYMINUTE and "
         "BYSECOND value), with an occurrence within 9 years of start_local; COUNT and UNTIL are "
         "optional (not both), and UNTIL may not precede start_local."},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        api_expect_invalid(&s, "POST", path, cases[i].body, cases[i].field, cases[i].message);
    CHECK_EQ(block_count(&s, path), 0);

    /* what is kept: a null reason is none, a local start's seconds are not shown */
    char body[512];
    snprintf(body, sizeof(body), "{%s,\"reason\":null}", once);
    json_t *r = api_expect(&s, 201, "POST", path, s.admin_key, body);
    CHECK(json_is_null(json_object_get(r, "reason")) && json_is_null(json_object_get(r, "rrule")) &&
          json_is_null(json_object_get(r, "start_local")) &&
          json_is_null(json_object_get(r, "duration_minutes")));
    CHECK(strcmp(text_of(r, "start"), "2026-03-27T11:00:00+01:00") == 0);
    CHECK(strncmp(path + strlen("/v1/resources/"), text_of(r, "resource_id"), 36) == 0);
    CHECK_EQ(json_object_size(r), 8);
    json_decref(r);
    r = api_expect(&s, 201, "POST", path, s.admin_key,
                   "{\"rrule\":\"FREQ=DAILY\",\"start_local\":\"2026-03-27T09:00:30\",\"duration_"
                   "minutes\":15,\"reason\":\"tea\"}");
    CHECK(strcmp(text_of(r, "start_local"), "2026-03-27T09:00") == 0);
    CHECK(strcmp(text_of(r, "rrule"), "FREQ=DAILY") == 0);
    CHECK(json_is_null(json_object_get(r, "start")) && json_is_null(json_object_get(r, "end")));
    CHECK_EQ(json_integer_value(json_object_get(r, "duration_minutes")), 15);
    CHECK(strcmp(text_of(r, "reason"), "tea") == 0);
    json_decref(r);
    api_stop(&s);
}

TEST(domain_block_listing_window_zone_and_resource)
{
    api_server_t s;
    api_start(&s, NULL);
    char path[128], query[256];
    staff_blocks(&s, path, sizeof(path));
    json_decref(api_expect(&s, 201, "POST", path, s.admin_key,
                           "{\"rrule\":\"FREQ=WEEKLY;BYDAY=FR\",\"start_local\":"
                           "\"2026-03-06T12:00:30\",\"duration_minutes\":30}"));
    json_decref(api_expect(&s, 201, "POST", path, s.admin_key,
                           "{\"start\":\"2026-03-13T08:00:00Z\",\"end\":\"2026-03-13T09:00:00Z\","
                           "\"reason\":\"dentist\"}"));
    snprintf(query, sizeof(query), "%s?from=2026-03-01&to=2026-05-03", path);
    api_expect_invalid(&s, "GET", query, NULL, "to", "to must follow from, by at most 62 days.");
    snprintf(query, sizeof(query), "%s?from=2026-03-03&to=2026-03-01", path);
    api_expect_invalid(&s, "GET", query, NULL, "to", "to must follow from, by at most 62 days.");
    snprintf(query, sizeof(query), "%s?from=2026-03-01&to=2026-03-31&tz=Mars/Olympus", path);
    api_expect_invalid(&s, "GET", query, NULL, "tz",
                       "tz must be an IANA time zone, e.g. Europe/Warsaw.");
    /* occurrences by start, in the zone asked for; the seconds of a local start are kept */
    snprintf(query, sizeof(query), "%s?from=2026-03-12&to=2026-03-14&tz=UTC", path);
    json_t *r = api_expect(&s, 200, "GET", query, s.admin_key, NULL);
    json_t *items = json_object_get(r, "items");
    CHECK_EQ(json_array_size(items), 2);
    json_t *first = json_array_get(items, 0), *second = json_array_get(items, 1);
    CHECK(strcmp(text_of(first, "start"), "2026-03-13T08:00:00Z") == 0);
    CHECK(strcmp(text_of(first, "reason"), "dentist") == 0);
    CHECK(json_is_false(json_object_get(first, "recurring")));
    CHECK(strcmp(text_of(second, "start"), "2026-03-13T11:00:30Z") == 0);
    CHECK(strcmp(text_of(second, "end"), "2026-03-13T11:30:30Z") == 0);
    CHECK(json_is_null(json_object_get(second, "reason")));
    CHECK(json_is_true(json_object_get(second, "recurring")));
    CHECK(json_is_null(json_object_get(r, "next_cursor")));
    json_decref(r);
    /* a resource that is not one */
    r = api_expect(&s, 404, "GET",
                   "/v1/resources/00000000-0000-0000-0000-000000000001/blocks?from=2026-03-12&"
                   "to=2026-03-14",
                   s.admin_key, NULL);
    json_decref(r);
    r = api_expect(&s, 404, "POST", "/v1/resources/00000000-0000-0000-0000-000000000001/blocks",
                   s.admin_key,
                   "{\"start\":\"2026-03-13T08:00:00Z\",\"end\":\"2026-03-13T09:00:00Z\"}");
    json_decref(r);
    r = api_expect(&s, 404, "DELETE",
                   "/v1/resources/00000000-0000-0000-0000-000000000001/blocks/"
                   "00000000-0000-0000-0000-000000000002",
                   s.admin_key, NULL);
    json_decref(r);
    api_stop(&s);
}

TEST(domain_organization_patch_is_refused_with_the_apis_messages)
{
    api_server_t s;
    api_start(&s, NULL);
    struct {
        const char *body, *field, *message;
    } cases[] = {
        {"[]", "body", "Send a JSON object with the fields to change."},
        {"{\"owner\":\"me\"}", "owner", "Unknown field."},
        {"{\"name\":5}", "name", "name must be text of 1 to 200 characters."},
        {"{\"name\":\"\"}", "name", "name must be text of 1 to 200 characters."},
        {"{\"timezone\":null}", "timezone",
         "timezone must be an IANA time zone, e.g. Europe/Warsaw."},
        {"{\"timezone\":\"Mars/Olympus\"}", "timezone",
         "timezone must be an IANA time zone, e.g. Europe/Warsaw."},
        {"{\"closures\":\"2026-12-25\"}", "closures",
         "Give a list of dates (YYYY-MM-DD), at most 1000."},
        {"{\"closures\":[\"2026-12-25\",\"Christmas\"]}", "closures[1]",
         "A date must be YYYY-MM-DD."},
        {"{\"business_hours\":{\"mon\":[[\"10:00\",\"09:00\"]]}}", "business_hours.mon[0]",
         "A range must end after it starts."},
        {"{\"business_hours\":7}", "business_hours",
         "Hours are a WEEK object: {\"mon\":[[\"09:00\",\"17:00\"]],...}."},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        api_expect_invalid(&s, "PATCH", "/v1/organization", cases[i].body, cases[i].field,
                           cases[i].message);
    /* the id is the service's: sent, it is ignored; a date may be listed twice */
    json_t *r =
        api_expect(&s, 200, "PATCH", "/v1/organization", s.admin_key,
                   "{\"id\":\"00000000-0000-0000-0000-000000000001\",\"closures\":"
                   "[\"2026-12-25\",\"2026-12-25\"],\"business_hours\":{\"tue\":[[\"09:00\","
                   "\"12:00\"],[\"12:00\",\"13:00\"]]}}");
    CHECK(strcmp(text_of(r, "id"), s.organization_id) == 0);
    CHECK_EQ(json_array_size(json_object_get(r, "closures")), 2);
    json_t *tuesday = json_object_get(json_object_get(r, "business_hours"), "tue");
    CHECK_EQ(json_array_size(tuesday), 1); /* touching ranges merge */
    CHECK_EQ(json_object_size(json_object_get(r, "business_hours")), 7);
    CHECK_EQ(json_object_size(r), 8); /* with language, reminder_offsets_minutes, integrations */
    json_decref(r);
    /* a name's limit is in characters, as the message says, not in bytes */
    char name[512], *p = name;
    p += sprintf(p, "{\"name\":\"");
    for (int i = 0; i < 200; i++)
        p += sprintf(p, "\xc5\xbc"); /* ż: two bytes */
    sprintf(p, "\"}");
    json_decref(api_expect(&s, 200, "PATCH", "/v1/organization", s.admin_key, name));
    r = api_expect(&s, 200, "PATCH", "/v1/organization", s.admin_key, "{\"business_hours\":null}");
    CHECK(json_is_null(json_object_get(r, "business_hours")));
    CHECK_EQ(json_array_size(json_object_get(r, "closures")), 2);
    json_decref(r);
    api_stop(&s);
}

TEST(domain_api_key_bodies_are_refused_with_the_apis_messages)
{
    api_server_t s;
    api_start(&s, NULL);
    struct {
        const char *body, *field, *message;
    } cases[] = {
        {"[]", "body", "Send a JSON object: {\"role\":\"agent\"}."},
        {"{\"role\":\"agent\",\"scope\":1}", "scope", "Unknown field."},
        {"{}", "role", "role is required: \"admin\", \"agent\" or \"sync\"."},
        {"{\"role\":\"boss\"}", "role", "role must be \"admin\", \"agent\" or \"sync\"."},
        {"{\"role\":null}", "role", "role must be \"admin\", \"agent\" or \"sync\"."},
        {"{\"role\":\"agent\",\"name\":\"\"}", "name",
         "name must be text of 1 to 200 bytes, or null."},
        /* a bad name is named before a missing role */
        {"{\"name\":5}", "name", "name must be text of 1 to 200 bytes, or null."},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        api_expect_invalid(&s, "POST", "/v1/api-keys", cases[i].body, cases[i].field,
                           cases[i].message);
    json_t *r = api_expect(&s, 201, "POST", "/v1/api-keys", s.admin_key,
                           "{\"role\":\"agent\",\"name\":null}");
    const char *key = text_of(r, "api_key"), *created = text_of(r, "created_at");
    CHECK(strncmp(key, text_of(r, "prefix"), 42) == 0 && strlen(text_of(r, "prefix")) == 42);
    CHECK(json_is_null(json_object_get(r, "name")));
    CHECK(strlen(created) == 20 && created[19] == 'Z');
    CHECK_EQ(json_object_size(r), 6);
    char path[96];
    snprintf(path, sizeof(path), "/v1/api-keys/%s", api_id(r));
    json_decref(r);
    r = api_expect(&s, 200, "GET", path, s.admin_key, NULL);
    CHECK_EQ(json_object_size(r), 5);
    CHECK(json_object_get(r, "api_key") == NULL);
    json_decref(r);
    json_decref(api_expect(&s, 404, "GET", "/v1/api-keys/not-a-key", s.admin_key, NULL));
    json_decref(api_expect(&s, 404, "DELETE", "/v1/api-keys/not-a-key", s.admin_key, NULL));
    api_expect_invalid(&s, "GET", "/v1/api-keys?limit=0", NULL, "limit",
                       "limit must be a whole number from 1 to 1000.");
    api_expect_invalid(&s, "GET", "/v1/api-keys?cursor=later", NULL, "cursor",
                       "cursor must be a next_cursor from an earlier page.");
    r = api_expect(&s, 200, "GET", "/v1/api-keys?limit=1", s.admin_key, NULL);
    const char *next = text_of(r, "next_cursor");
    CHECK(strcmp(next, api_id(json_array_get(json_object_get(r, "items"), 0))) == 0);
    char query[128];
    snprintf(query, sizeof(query), "/v1/api-keys?limit=1&cursor=%s", next);
    json_decref(r);
    r = api_expect(&s, 200, "GET", query, s.admin_key, NULL);
    CHECK_EQ(json_array_size(json_object_get(r, "items")), 1);
    CHECK(json_is_null(json_object_get(r, "next_cursor")));
    json_decref(r);
    api_stop(&s);
}
