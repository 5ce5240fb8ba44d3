/*
 * Resources, overrides, services and slots over real HTTP, and the index that
 * answers slots: following the API, direct SQL, and restarts.
 */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api_client.h"
#include "db.h"
#include "test.h"

static const char *const frozen[] = {"SLOTD_NOW=2026-03-27T08:00:00+01:00", NULL};

static const char *create(api_server_t *s, const char *path, const char *body)
{
    json_t *r = api_expect(s, 201, "POST", path, s->admin_key, body);
    const char *id = api_id(r);
    json_decref(r);
    return id;
}

static const char *staff(api_server_t *s, const char *name, const char *hours)
{
    char body[1024];
    snprintf(body, sizeof(body), "{\"kind\":\"staff\",\"name\":\"%s\",\"working_hours\":%s}", name,
             hours);
    return create(s, "/v1/resources", body);
}

static const char *service(api_server_t *s, const char *extra, const char *groups)
{
    char body[2048];
    snprintf(body, sizeof(body),
             "{\"name\":\"Cleaning\",\"duration_minutes\":60%s,\"requirements\":%s}", extra,
             groups);
    return create(s, "/v1/services", body);
}

/* The slot starts of a query, space-separated, into out. */
static void slot_starts(api_server_t *s, const char *query, char *out, size_t size)
{
    json_t *r = api_expect(s, 200, "GET", query, s->admin_key, NULL);
    out[0] = 0;
    size_t i;
    json_t *slot;
    json_array_foreach(json_object_get(r, "slots"), i, slot)
    {
        size_t len = strlen(out);
        snprintf(out + len, size - len, "%s%s", len ? " " : "",
                 json_string_value(json_object_get(slot, "start")));
    }
    json_decref(r);
}

TEST(api_resources_create_read_update_and_soft_delete)
{
    api_server_t s;
    api_start(&s, NULL);
    const char *id = staff(&s, "Anna", "{\"mon\":[[\"09:00\",\"17:00\"]]}");
    char path[128], id_copy[40];
    snprintf(id_copy, sizeof(id_copy), "%s", id);
    snprintf(path, sizeof(path), "/v1/resources/%s", id_copy);
    json_t *r = api_expect(&s, 200, "GET", path, s.admin_key, NULL);
    CHECK(strcmp(json_string_value(json_object_get(r, "timezone")), "Europe/Warsaw") == 0);
    CHECK(json_is_true(json_object_get(r, "active")));
    json_decref(r);
    r = api_expect(&s, 200, "PATCH", path, s.admin_key,
                   "{\"name\":\"Anna N.\",\"email\":\"anna@example.com\",\"timezone\":\"UTC\"}");
    CHECK(strcmp(json_string_value(json_object_get(r, "name")), "Anna N.") == 0);
    CHECK(strcmp(json_string_value(json_object_get(r, "timezone")), "UTC") == 0);
    CHECK(json_array_size(json_object_get(json_object_get(r, "working_hours"), "mon")) == 1);
    json_decref(r);
    r = api_expect(&s, 200, "PATCH", path, s.admin_key, "{\"email\":null,\"timezone\":null}");
    CHECK(json_is_null(json_object_get(r, "email")));
    CHECK(strcmp(json_string_value(json_object_get(r, "timezone")), "Europe/Warsaw") == 0);
    json_decref(r);
    json_decref(api_expect(&s, 204, "DELETE", path, s.admin_key, NULL));
    json_decref(api_expect(&s, 404, "GET", path, s.admin_key, NULL));
    json_decref(api_expect(&s, 404, "DELETE", path, s.admin_key, NULL));
    r = api_expect(&s, 200, "GET", "/v1/resources", s.admin_key, NULL);
    CHECK_EQ(json_array_size(json_object_get(r, "items")), 0);
    json_decref(r);
    api_stop(&s);
}

static void expect_field(api_server_t *s, const char *method, const char *path, const char *body,
                         const char *field)
{
    json_t *r = api_expect(s, 400, method, path, s->admin_key, body);
    const char *got = json_string_value(
        json_object_get(json_object_get(json_object_get(r, "error"), "details"), "field"));
    if (got == NULL || strcmp(got, field) != 0) {
        fprintf(stderr, "%s %s: field %s, expected %s\n", method, body, got ? got : "(none)",
                field);
        exit(1);
    }
    json_decref(r);
}

TEST(api_resources_refuse_bad_input_and_create_nothing)
{
    api_server_t s;
    api_start(&s, NULL);
    expect_field(&s, "POST", "/v1/resources", "{\"name\":\"A\",\"working_hours\":{}}", "kind");
    expect_field(&s, "POST", "/v1/resources",
                 "{\"kind\":\"robot\",\"name\":\"A\",\"working_hours\":{}}", "kind");
    expect_field(&s, "POST", "/v1/resources", "{\"kind\":\"staff\",\"working_hours\":{}}", "name");
    expect_field(&s, "POST", "/v1/resources",
                 "{\"kind\":\"staff\",\"name\":\"A\",\"working_hours\":{\"mon\":[[\"09:00\","
                 "\"13:00\"],[\"12:00\",\"17:00\"]]}}",
                 "working_hours.mon[1]");
    expect_field(
        &s, "POST", "/v1/resources",
        "{\"kind\":\"staff\",\"name\":\"A\",\"working_hours\":{},\"timezone\":\"Nowhere\"}",
        "timezone");
    expect_field(&s, "POST", "/v1/resources",
                 "{\"kind\":\"staff\",\"name\":\"A\",\"working_hours\":{},\"location_id\":"
                 "\"00000000-0000-0000-0000-000000000001\"}",
                 "location_id");
    expect_field(&s, "POST", "/v1/resources",
                 "{\"kind\":\"staff\",\"name\":\"A\",\"working_hours\":{},\"hair\":\"red\"}",
                 "hair");
    expect_field(&s, "POST", "/v1/resources", "{\"kind\":\"staff\",\"name\":\"A\"}",
                 "working_hours");
    json_t *r = api_expect(&s, 200, "GET", "/v1/resources", s.admin_key, NULL);
    CHECK_EQ(json_array_size(json_object_get(r, "items")), 0);
    json_decref(r);
    api_stop(&s);
}

TEST(api_resources_list_pages_with_a_cursor)
{
    api_server_t s;
    api_start(&s, NULL);
    for (int i = 0; i < 3; i++)
        staff(&s, "X", "{}");
    json_t *r = api_expect(&s, 200, "GET", "/v1/resources?limit=2", s.admin_key, NULL);
    CHECK_EQ(json_array_size(json_object_get(r, "items")), 2);
    const char *cursor = json_string_value(json_object_get(r, "next_cursor"));
    CHECK(cursor != NULL);
    char path[128];
    snprintf(path, sizeof(path), "/v1/resources?limit=2&cursor=%s", cursor);
    json_decref(r);
    r = api_expect(&s, 200, "GET", path, s.admin_key, NULL);
    CHECK_EQ(json_array_size(json_object_get(r, "items")), 1);
    CHECK(json_is_null(json_object_get(r, "next_cursor")));
    json_decref(r);
    expect_field(&s, "GET", "/v1/resources?limit=0", NULL, "limit");
    expect_field(&s, "GET", "/v1/resources?limit=1001", NULL, "limit");
    expect_field(&s, "GET", "/v1/resources?cursor=abc", NULL, "cursor");
    api_stop(&s);
}

TEST(api_foreign_ids_answer_404_like_unknown_ones)
{
    api_server_t s;
    api_start(&s, NULL);
    char other_key[128], other_org[40];
    api_create_org(&s, "Other", other_key, other_org);
    const char *mine = staff(&s, "Mine", "{}");
    char path[160];
    snprintf(path, sizeof(path), "/v1/resources/%s", mine);
    json_decref(api_expect(&s, 404, "GET", path, other_key, NULL));
    json_decref(api_expect(&s, 404, "PATCH", path, other_key, "{\"name\":\"stolen\"}"));
    json_decref(api_expect(&s, 404, "DELETE", path, other_key, NULL));
    snprintf(path, sizeof(path), "/v1/resources/%s/overrides/2026-03-28", mine);
    json_decref(api_expect(&s, 404, "PUT", path, other_key, "{\"hours\":[]}"));
    snprintf(path, sizeof(path), "/v1/resources/%s/overrides", mine);
    json_decref(api_expect(&s, 404, "GET", path, other_key, NULL));
    json_decref(api_expect(&s, 404, "GET", "/v1/resources/not-an-id", s.admin_key, NULL));
    /* a service in the other organization cannot name my resource */
    char body[512];
    snprintf(body, sizeof(body),
             "{\"name\":\"S\",\"duration_minutes\":30,\"requirements\":[{\"resource_ids\":[\"%s\"],"
             "\"mode\":\"any\"}]}",
             mine);
    json_t *r = api_expect(&s, 400, "POST", "/v1/services", other_key, body);
    json_decref(r);
    r = api_expect(&s, 200, "GET", "/v1/resources", other_key, NULL);
    CHECK_EQ(json_array_size(json_object_get(r, "items")), 0);
    json_decref(r);
    api_stop(&s);
}

TEST(api_overrides_put_list_and_delete)
{
    api_server_t s;
    api_start(&s, NULL);
    char id[40], path[200], list[200];
    snprintf(id, sizeof(id), "%s", staff(&s, "Anna", "{}"));
    snprintf(path, sizeof(path), "/v1/resources/%s/overrides/2026-03-28", id);
    json_t *r = api_expect(&s, 201, "PUT", path, s.admin_key,
                           "{\"hours\":[[\"13:00\",\"15:00\"],[\"10:00\",\"13:00\"]]}");
    CHECK_EQ(json_array_size(json_object_get(r, "hours")), 1); /* merged */
    json_decref(r);
    json_decref(api_expect(&s, 200, "PUT", path, s.admin_key, "{\"hours\":[]}"));
    snprintf(list, sizeof(list), "/v1/resources/%s/overrides/2026-04-02", id);
    json_decref(
        api_expect(&s, 201, "PUT", list, s.admin_key, "{\"hours\":[[\"08:00\",\"09:00\"]]}"));
    snprintf(list, sizeof(list), "/v1/resources/%s/overrides?from=2026-03-01&to=2026-03-31", id);
    r = api_expect(&s, 200, "GET", list, s.admin_key, NULL);
    CHECK_EQ(json_array_size(json_object_get(r, "items")), 1);
    CHECK(strcmp(json_string_value(
                     json_object_get(json_array_get(json_object_get(r, "items"), 0), "date")),
                 "2026-03-28") == 0);
    json_decref(r);
    expect_field(&s, "PUT", path, "{\"hours\":[[\"10:00\",\"12:00\"],[\"11:00\",\"13:00\"]]}",
                 "hours[1]");
    json_decref(api_expect(&s, 204, "DELETE", path, s.admin_key, NULL));
    json_decref(api_expect(&s, 404, "DELETE", path, s.admin_key, NULL));
    snprintf(path, sizeof(path), "/v1/resources/%s/overrides/2026-02-30", id);
    json_decref(api_expect(&s, 400, "PUT", path, s.admin_key, "{\"hours\":[]}"));
    api_stop(&s);
}

TEST(api_services_create_update_requirements_and_delete)
{
    api_server_t s;
    api_start(&s, NULL);
    char a[40], b[40], body[1024], path[128];
    snprintf(a, sizeof(a), "%s", staff(&s, "A", "{}"));
    snprintf(b, sizeof(b), "%s", staff(&s, "B", "{}"));
    snprintf(body, sizeof(body),
             "[{\"resource_ids\":[\"%s\",\"%s\"],\"mode\":\"any\"},{\"resource_ids\":[\"%s\"],"
             "\"mode\":\"all\"}]",
             a, b, b);
    char id[40];
    snprintf(id, sizeof(id), "%s",
             service(&s, ",\"buffer_after_minutes\":10,\"price\":\"180.00\",\"currency\":\"PLN\"",
                     body));
    snprintf(path, sizeof(path), "/v1/services/%s", id);
    json_t *r = api_expect(&s, 200, "GET", path, s.admin_key, NULL);
    CHECK_EQ(json_array_size(json_object_get(r, "requirements")), 2);
    CHECK_EQ(json_integer_value(json_object_get(r, "buffer_after_minutes")), 10);
    CHECK(json_is_null(json_object_get(r, "slot_interval_minutes")));
    CHECK(strcmp(json_string_value(json_object_get(r, "price")), "180.00") == 0);
    json_decref(r);
    snprintf(body, sizeof(body),
             "{\"slot_interval_minutes\":15,\"requirements\":[{\"resource_ids\":[\"%s\"],"
             "\"mode\":\"any\"}]}",
             a);
    r = api_expect(&s, 200, "PATCH", path, s.admin_key, body);
    CHECK_EQ(json_array_size(json_object_get(r, "requirements")), 1);
    CHECK_EQ(json_integer_value(json_object_get(r, "slot_interval_minutes")), 15);
    CHECK(strcmp(json_string_value(json_object_get(r, "currency")), "PLN") == 0);
    json_decref(r);
    r = api_expect(&s, 200, "GET", path, s.admin_key, NULL);
    CHECK_EQ(json_array_size(json_object_get(r, "requirements")), 1);
    json_decref(r);
    expect_field(&s, "PATCH", path,
                 "{\"requirements\":[{\"resource_ids\":[\"00000000-0000-0000-0000-000000000009\"],"
                 "\"mode\":\"any\"}]}",
                 "requirements[0].resource_ids[0]");
    expect_field(&s, "PATCH", path, "{\"requirements\":[]}", "requirements");
    expect_field(&s, "PATCH", path, "{\"duration_minutes\":0}", "duration_minutes");
    expect_field(&s, "PATCH", path, "{\"buffer_after_minutes\":-5}", "buffer_after_minutes");
    expect_field(&s, "PATCH", path, "{\"price\":\"12.345\"}", "price");
    expect_field(&s, "PATCH", path, "{\"currency\":\"pln\"}", "currency");
    expect_field(&s, "POST", "/v1/services", "{\"name\":\"S\",\"duration_minutes\":30}",
                 "requirements");
    json_decref(api_expect(&s, 204, "DELETE", path, s.admin_key, NULL));
    json_decref(api_expect(&s, 404, "GET", path, s.admin_key, NULL));
    api_stop(&s);
}

/* A clinic for slot tests: Anna (Fri/Sat 09-12, Sun 00-04) and Room 1 (always), both needed. */
static void clinic(api_server_t *s, char *service_id, char *anna, char *room)
{
    snprintf(anna, 40, "%s",
             staff(s, "Anna",
                   "{\"fri\":[[\"09:00\",\"12:00\"]],\"sat\":[[\"09:00\",\"12:00\"]],\"sun\":[["
                   "\"00:00\",\"04:00\"]]}"));
    snprintf(
        room, 40, "%s",
        create(s, "/v1/resources",
               "{\"kind\":\"room\",\"name\":\"Room 1\",\"working_hours\":{\"fri\":[[\"00:00\","
               "\"24:00\"]],\"sat\":[[\"00:00\",\"24:00\"]],\"sun\":[[\"00:00\",\"24:00\"]]}}"));
    char groups[256];
    snprintf(groups, sizeof(groups),
             "[{\"resource_ids\":[\"%s\"],\"mode\":\"any\"},{\"resource_ids\":[\"%s\"],\"mode\":"
             "\"any\"}]",
             anna, room);
    snprintf(service_id, 40, "%s", service(s, "", groups));
}

/* Polls until the slots of `query` equal `expected` (the index follows NOTIFY). */
static void eventually(api_server_t *s, const char *query, const char *expected)
{
    static char got[8192];
    for (int i = 0; i < 200; i++) {
        slot_starts(s, query, got, sizeof(got));
        if (strcmp(got, expected) == 0)
            return;
        usleep(5000);
    }
    fprintf(stderr, "slots for %s:\n  got      %s\n  expected %s\n", query, got, expected);
    exit(1);
}

TEST(api_slots_follow_the_rules_across_a_dst_change)
{
    api_server_t s;
    api_start(&s, frozen);
    char service_id[40], anna[40], room[40], query[256];
    clinic(&s, service_id, anna, room);
    snprintf(query, sizeof(query), "/v1/slots?service_id=%s&from=2026-03-28&to=2026-03-29",
             service_id);
    eventually(&s, query,
               "2026-03-28T09:00:00+01:00 2026-03-28T10:00:00+01:00 2026-03-28T11:00:00+01:00 "
               "2026-03-29T00:00:00+01:00 2026-03-29T01:00:00+01:00 2026-03-29T03:00:00+02:00");
    /* resource ids sorted, every one that serves */
    json_t *r = api_expect(&s, 200, "GET", query, s.admin_key, NULL);
    json_t *ids = json_object_get(json_array_get(json_object_get(r, "slots"), 0), "resource_ids");
    CHECK_EQ(json_array_size(ids), 2);
    CHECK(strcmp(json_string_value(json_array_get(ids, 0)),
                 json_string_value(json_array_get(ids, 1))) < 0);
    CHECK(strcmp(json_string_value(json_object_get(r, "timezone")), "Europe/Warsaw") == 0);
    json_decref(r);
    /* another display zone, per_day and limit */
    snprintf(query, sizeof(query),
             "/v1/slots?service_id=%s&from=2026-03-28&to=2026-03-29&tz=UTC&per_day=1", service_id);
    eventually(&s, query, "2026-03-28T08:00:00Z 2026-03-29T00:00:00Z");
    snprintf(query, sizeof(query),
             "/v1/slots?service_id=%s&from=2026-03-28T00:00:00%%2B01:00&to=2026-03-30&limit=2",
             service_id);
    eventually(&s, query, "2026-03-28T09:00:00+01:00 2026-03-28T10:00:00+01:00");
    api_stop(&s);
}

TEST(api_slots_refuse_bad_queries)
{
    api_server_t s;
    api_start(&s, frozen);
    char service_id[40], anna[40], room[40], query[300];
    clinic(&s, service_id, anna, room);
    api_wait_ready(&s);
    expect_field(&s, "GET", "/v1/slots?from=2026-03-28&to=2026-03-29", NULL, "service_id");
    snprintf(query, sizeof(query), "/v1/slots?service_id=%s&to=2026-03-29", service_id);
    expect_field(&s, "GET", query, NULL, "from");
    snprintf(query, sizeof(query), "/v1/slots?service_id=%s&from=yesterday&to=2026-03-29",
             service_id);
    expect_field(&s, "GET", query, NULL, "from");
    snprintf(query, sizeof(query), "/v1/slots?service_id=%s&from=2026-03-28&to=2026-06-01",
             service_id);
    expect_field(&s, "GET", query, NULL, "to");
    snprintf(query, sizeof(query), "/v1/slots?service_id=%s&from=2026-03-28&to=2026-03-20",
             service_id);
    expect_field(&s, "GET", query, NULL, "to");
    snprintf(query, sizeof(query), "/v1/slots?service_id=%s&from=2026-03-28&to=2026-03-29&tz=Mars",
             service_id);
    expect_field(&s, "GET", query, NULL, "tz");
    snprintf(query, sizeof(query), "/v1/slots?service_id=%s&from=2026-03-28&to=2026-03-29&limit=0",
             service_id);
    expect_field(&s, "GET", query, NULL, "limit");
    json_decref(api_expect(&s, 404, "GET",
                           "/v1/slots?service_id=00000000-0000-0000-0000-000000000001&from="
                           "2026-03-28&to=2026-03-29",
                           s.admin_key, NULL));
    snprintf(query, sizeof(query),
             "/v1/slots?service_id=%s&from=2026-03-28&to=2026-03-29&resource_id=00000000-0000-0000-"
             "0000-000000000001",
             service_id);
    json_decref(api_expect(&s, 404, "GET", query, s.admin_key, NULL));
    /* exactly 62 days is fine */
    snprintf(query, sizeof(query), "/v1/slots?service_id=%s&from=2026-03-01&to=2026-05-01",
             service_id);
    json_decref(api_expect(&s, 200, "GET", query, s.admin_key, NULL));
    api_stop(&s);
}

TEST(api_slots_follow_a_direct_sql_change_within_a_second)
{
    api_server_t s;
    api_start(&s, frozen);
    char service_id[40], anna[40], room[40], query[256], sql[2048];
    clinic(&s, service_id, anna, room);
    snprintf(query, sizeof(query), "/v1/slots?service_id=%s&from=2026-03-27&to=2026-03-27",
             service_id);
    eventually(&s, query,
               "2026-03-27T09:00:00+01:00 2026-03-27T10:00:00+01:00 2026-03-27T11:00:00+01:00");
    /* another program closes Anna's Friday morning, straight in SQL */
    snprintf(sql, sizeof(sql),
             "UPDATE resources SET working_hours = '{\"fri\":[[\"11:00\",\"12:00\"]]}' "
             "WHERE id = '%s'",
             anna);
    PGconn *direct = PQconnectdb(s.url);
    test_db_exec(direct, sql);
    uint64_t started = (uint64_t)time(NULL);
    eventually(&s, query, "2026-03-27T11:00:00+01:00");
    CHECK((uint64_t)time(NULL) - started <= 1);
    /* and a busy interval written straight into occupancy */
    snprintf(
        sql, sizeof(sql),
        "INSERT INTO customers (organization_id, id, name, phone_normalized) VALUES ('%s', "
        "'00000000-0000-0000-0000-0000000000c1', 'C', '+48600000000');"
        "INSERT INTO bookings (organization_id, id, service_id, customer_id, starts_at, ends_at)"
        " VALUES ('%s', '00000000-0000-0000-0000-0000000000b1', '%s', "
        "'00000000-0000-0000-0000-0000000000c1', '2026-03-27 11:00+01', '2026-03-27 12:00+01');"
        "INSERT INTO occupancy (organization_id, resource_id, booking_id, occupied) VALUES "
        "('%s', '%s', '00000000-0000-0000-0000-0000000000b1', "
        "tstzrange('2026-03-27 11:00+01', '2026-03-27 12:00+01'))",
        s.organization_id, s.organization_id, service_id, s.organization_id, room);
    test_db_exec(direct, sql);
    eventually(&s, query, "");
    PQfinish(direct);
    api_stop(&s);
}

TEST(api_slots_are_the_same_after_a_restart)
{
    api_server_t s;
    api_start(&s, frozen);
    char service_id[40], anna[40], room[40], query[256], path[200];
    clinic(&s, service_id, anna, room);
    snprintf(path, sizeof(path), "/v1/resources/%s/overrides/2026-03-28", anna);
    json_decref(
        api_expect(&s, 201, "PUT", path, s.admin_key, "{\"hours\":[[\"10:00\",\"11:00\"]]}"));
    snprintf(query, sizeof(query), "/v1/slots?service_id=%s&from=2026-03-27&to=2026-03-28",
             service_id);
    const char *expected = "2026-03-27T09:00:00+01:00 2026-03-27T10:00:00+01:00 "
                           "2026-03-27T11:00:00+01:00 2026-03-28T10:00:00+01:00";
    eventually(&s, query, expected);
    api_restart(&s, frozen);
    api_wait_ready(&s);
    char got[4096];
    slot_starts(&s, query, got, sizeof(got));
    CHECK(strcmp(got, expected) == 0);
    api_stop(&s);
}

TEST(api_slots_answer_agents_but_not_sync_keys)
{
    api_server_t s;
    api_start(&s, frozen);
    char service_id[40], anna[40], room[40], query[256], agent[128], sync[128];
    clinic(&s, service_id, anna, room);
    api_create_key(&s, s.organization_id, "agent", agent);
    api_create_key(&s, s.organization_id, "sync", sync);
    api_wait_ready(&s);
    snprintf(query, sizeof(query), "/v1/slots?service_id=%s&from=2026-03-27&to=2026-03-27",
             service_id);
    json_decref(api_expect(&s, 200, "GET", query, agent, NULL));
    json_decref(api_expect(&s, 403, "GET", query, sync, NULL));
    json_decref(api_expect(&s, 403, "POST", "/v1/resources", agent,
                           "{\"kind\":\"staff\",\"name\":\"x\",\"working_hours\":{}}"));
    api_stop(&s);
}

TEST(api_locations_bound_their_resources_and_refuse_deletion_while_used)
{
    api_server_t s;
    api_start(&s, frozen);
    char service_id[40], anna[40], room[40], query[256], path[128], body[512];
    clinic(&s, service_id, anna, room);
    json_t *r = api_expect(&s, 201, "POST", "/v1/locations", s.admin_key,
                           "{\"name\":\"Downtown\",\"address\":\"Main St 1\",\"business_hours\":"
                           "{\"fri\":[[\"10:00\",\"11:00\"]]},\"closures\":[\"2026-03-28\"]}");
    char location[40];
    snprintf(location, sizeof(location), "%s", api_id(r));
    CHECK(strcmp(json_string_value(json_object_get(r, "timezone")), "Europe/Warsaw") == 0);
    json_decref(r);
    snprintf(path, sizeof(path), "/v1/resources/%s", anna);
    snprintf(body, sizeof(body), "{\"location_id\":\"%s\"}", location);
    json_decref(api_expect(&s, 200, "PATCH", path, s.admin_key, body));
    snprintf(query, sizeof(query), "/v1/slots?service_id=%s&from=2026-03-27&to=2026-03-28",
             service_id);
    eventually(&s, query, "2026-03-27T10:00:00+01:00");
    /* the location's hours change: the slots follow */
    snprintf(path, sizeof(path), "/v1/locations/%s", location);
    json_decref(api_expect(&s, 200, "PATCH", path, s.admin_key,
                           "{\"business_hours\":null,\"closures\":[]}"));
    eventually(&s, query,
               "2026-03-27T09:00:00+01:00 2026-03-27T10:00:00+01:00 2026-03-27T11:00:00+01:00 "
               "2026-03-28T09:00:00+01:00 2026-03-28T10:00:00+01:00 2026-03-28T11:00:00+01:00");
    /* the location filter */
    snprintf(query, sizeof(query),
             "/v1/slots?service_id=%s&from=2026-03-27&to=2026-03-27&location_id=%s", service_id,
             location);
    eventually(&s, query, ""); /* the room is not at that location */
    r = api_expect(&s, 409, "DELETE", path, s.admin_key, NULL);
    CHECK(strcmp(api_error_code(r), "conflict") == 0);
    json_decref(r);
    expect_field(&s, "PATCH", path, "{\"business_hours\":{\"fri\":[[\"11:00\",\"10:00\"]]}}",
                 "business_hours.fri[0]");
    expect_field(&s, "PATCH", path, "{\"closures\":[\"soon\"]}", "closures[0]");
    snprintf(path, sizeof(path), "/v1/resources/%s", anna);
    json_decref(api_expect(&s, 200, "PATCH", path, s.admin_key, "{\"location_id\":null}"));
    snprintf(path, sizeof(path), "/v1/locations/%s", location);
    json_decref(api_expect(&s, 204, "DELETE", path, s.admin_key, NULL));
    json_decref(api_expect(&s, 404, "GET", path, s.admin_key, NULL));
    r = api_expect(&s, 200, "GET", "/v1/locations", s.admin_key, NULL);
    CHECK_EQ(json_array_size(json_object_get(r, "items")), 0);
    json_decref(r);
    api_stop(&s);
}

TEST(api_blocks_one_off_and_recurring_make_resources_busy)
{
    api_server_t s;
    api_start(&s, frozen);
    char service_id[40], anna[40], room[40], query[256], path[200];
    clinic(&s, service_id, anna, room);
    snprintf(query, sizeof(query), "/v1/slots?service_id=%s&from=2026-03-27&to=2026-03-28",
             service_id);
    snprintf(path, sizeof(path), "/v1/resources/%s/blocks", anna);
    /* a one-off block on Friday 10:00-11:00 */
    json_t *r =
        api_expect(&s, 201, "POST", path, s.admin_key,
                   "{\"start\":\"2026-03-27T10:00:00+01:00\",\"end\":\"2026-03-27T11:00:00+01:00\","
                   "\"reason\":\"dentist\"}");
    char once[40];
    snprintf(once, sizeof(once), "%s", api_id(r));
    json_decref(r);
    eventually(&s, query,
               "2026-03-27T09:00:00+01:00 2026-03-27T11:00:00+01:00 2026-03-28T09:00:00+01:00 "
               "2026-03-28T10:00:00+01:00 2026-03-28T11:00:00+01:00");
    /* a daily lunch at 09:00 local for an hour, from Friday on */
    r = api_expect(&s, 201, "POST", path, s.admin_key,
                   "{\"rrule\":\"FREQ=DAILY;COUNT=5\",\"start_local\":\"2026-03-27T09:00\","
                   "\"duration_minutes\":60,\"reason\":\"standup\"}");
    json_decref(r);
    eventually(&s, query,
               "2026-03-27T11:00:00+01:00 2026-03-28T10:00:00+01:00 2026-03-28T11:00:00+01:00");
    /* the listing shows the occurrences, across the DST change in local time */
    char list[300];
    snprintf(list, sizeof(list), "/v1/resources/%s/blocks?from=2026-03-27&to=2026-03-30", anna);
    r = api_expect(&s, 200, "GET", list, s.admin_key, NULL);
    json_t *items = json_object_get(r, "items");
    CHECK_EQ(json_array_size(items), 5); /* one-off + 27, 28, 29, 30 */
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(items, 0), "start")),
                 "2026-03-27T09:00:00+01:00") == 0);
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(items, 3), "start")),
                 "2026-03-29T09:00:00+02:00") == 0);
    json_decref(r);
    /* bad blocks */
    expect_field(&s, "POST", path,
                 "{\"rrule\":\"FREQ=HOURLY\",\"start_local\":\"2026-03-27T09:00\","
                 "\"duration_minutes\":60}",
                 "rrule");
    expect_field(&s, "POST", path,
                 "{\"start\":\"2026-03-27T10:00:00Z\",\"end\":\"2026-03-27T09:00:00Z\"}", "end");
    expect_field(&s, "POST", path, "{\"start\":\"2026-03-27T10:00:00Z\",\"rrule\":\"FREQ=DAILY\"}",
                 "rrule");
    expect_field(&s, "POST", path,
                 "{\"rrule\":\"FREQ=DAILY\",\"start_local\":\"noon\","
                 "\"duration_minutes\":60}",
                 "start_local");
    /* deleting the one-off frees Friday 10:00 again */
    snprintf(path, sizeof(path), "/v1/resources/%s/blocks/%s", anna, once);
    json_decref(api_expect(&s, 204, "DELETE", path, s.admin_key, NULL));
    json_decref(api_expect(&s, 404, "DELETE", path, s.admin_key, NULL));
    eventually(&s, query,
               "2026-03-27T10:00:00+01:00 2026-03-27T11:00:00+01:00 2026-03-28T10:00:00+01:00 "
               "2026-03-28T11:00:00+01:00");
    api_stop(&s);
}

TEST(api_readiness_follows_the_database_and_slots_survive_its_absence)
{
    api_server_t s;
    api_start(&s, frozen);
    char service_id[40], anna[40], room[40], query[256], sql[512];
    clinic(&s, service_id, anna, room);
    snprintf(query, sizeof(query), "/v1/slots?service_id=%s&from=2026-03-27&to=2026-03-27",
             service_id);
    eventually(&s, query,
               "2026-03-27T09:00:00+01:00 2026-03-27T10:00:00+01:00 2026-03-27T11:00:00+01:00");
    /* the database goes away: no new connection, every existing one cut */
    const char *base = getenv("SLOTD_TEST_DATABASE_URL");
    PGconn *admin = PQconnectdb(base);
    const char *db = strrchr(s.url, '/') + 1;
    snprintf(sql, sizeof(sql),
             "ALTER DATABASE %s ALLOW_CONNECTIONS false; SELECT pg_terminate_backend(pid) FROM "
             "pg_stat_activity WHERE datname = '%s'",
             db, db);
    test_db_exec(admin, sql);
    json_t *r = NULL;
    int status = 0;
    for (int i = 0; i < 200 && status != 503; i++) {
        json_decref(r);
        status = api_call(&s, "GET", "/readyz", NULL, NULL, &r);
        usleep(10000);
    }
    CHECK_EQ(status, 503);
    CHECK(strcmp(api_error_code(r), "unavailable") == 0);
    json_decref(r);
    /* slots come from memory (the key is cached): still answered */
    char got[4096];
    slot_starts(&s, query, got, sizeof(got));
    CHECK(strcmp(got, "2026-03-27T09:00:00+01:00 2026-03-27T10:00:00+01:00 "
                      "2026-03-27T11:00:00+01:00") == 0);
    /* what needs the database says so, at once rather than at the deadline */
    struct timespec asked, answered;
    clock_gettime(CLOCK_MONOTONIC, &asked);
    json_decref(api_expect(&s, 503, "GET", "/v1/resources", s.admin_key, NULL));
    clock_gettime(CLOCK_MONOTONIC, &answered);
    double waited =
        (double)(answered.tv_sec - asked.tv_sec) + (double)(answered.tv_nsec - asked.tv_nsec) / 1e9;
    CHECK(waited < 2.5); /* the request deadline is 5 s */
    /* and it comes back */
    snprintf(sql, sizeof(sql), "ALTER DATABASE %s ALLOW_CONNECTIONS true", db);
    test_db_exec(admin, sql);
    PQfinish(admin);
    api_wait_ready(&s);
    json_decref(api_expect(&s, 200, "GET", "/v1/resources", s.admin_key, NULL));
    api_stop(&s);
}

TEST(api_blocks_take_any_offset_drop_fractions_and_list_any_window)
{
    api_server_t s;
    api_start(&s, frozen);
    char anna[40], path[200];
    snprintf(anna, sizeof(anna), "%s", staff(&s, "Anna", "{}"));
    snprintf(path, sizeof(path), "/v1/resources/%s/blocks", anna);
    json_t *r = api_expect(&s, 201, "POST", path, s.admin_key,
                           "{\"start\":\"2026-03-30T09:00:00.9+16:00\",\"end\":\"2026-03-30T"
                           "10:00:00-23:30\"}");
    CHECK(strcmp(json_string_value(json_object_get(r, "start")), "2026-03-29T19:00:00+02:00") == 0);
    json_decref(r);
    snprintf(path, sizeof(path), "/v1/resources/%s/blocks?from=1970-01-01&to=1970-02-01", anna);
    r = api_expect(&s, 200, "GET", path, s.admin_key, NULL);
    CHECK_EQ(json_array_size(json_object_get(r, "items")), 0);
    json_decref(r);
    api_stop(&s);
}

TEST(api_a_service_links_a_resource_created_with_it_in_one_sql_transaction)
{
    api_server_t s;
    api_start(&s, frozen);
    api_wait_ready(&s);
    char sql[2048], query[256];
    snprintf(sql, sizeof(sql),
             "BEGIN;"
             "INSERT INTO resources (organization_id, id, kind, name, working_hours) VALUES ('%s', "
             "'00000000-0000-0000-0000-0000000000a1', 'staff', 'New', "
             "'{\"fri\":[[\"09:00\",\"11:00\"]]}');"
             "INSERT INTO blocks (organization_id, resource_id, starts_at, ends_at) SELECT '%s', "
             "'00000000-0000-0000-0000-0000000000a1', t, t + interval '1 minute' FROM "
             "generate_series('2026-01-01'::timestamptz, '2026-01-20', interval '1 hour') t;"
             "INSERT INTO services (organization_id, id, name, duration_minutes) VALUES ('%s', "
             "'00000000-0000-0000-0000-0000000000b1', 'S', 60);"
             "INSERT INTO service_requirements (organization_id, service_id, position, mode, "
             "resource_ids) VALUES ('%s', '00000000-0000-0000-0000-0000000000b1', 0, 'any', "
             "'{00000000-0000-0000-0000-0000000000a1}');"
             "COMMIT",
             s.organization_id, s.organization_id, s.organization_id, s.organization_id);
    PGconn *direct = PQconnectdb(s.url);
    test_db_exec(direct, sql);
    PQfinish(direct);
    snprintf(query, sizeof(query),
             "/v1/slots?service_id=00000000-0000-0000-0000-0000000000b1&from=2026-03-27&to=2026-"
             "03-27");
    /* the service may be known before its resource: it must link it once it is */
    static char got[4096];
    for (int i = 0; i < 200; i++) {
        json_t *r = NULL;
        if (api_call(&s, "GET", query, s.admin_key, NULL, &r) == 200) {
            json_decref(r);
            slot_starts(&s, query, got, sizeof(got));
            if (strcmp(got, "2026-03-27T09:00:00+01:00 2026-03-27T10:00:00+01:00") == 0)
                break;
        } else {
            json_decref(r);
        }
        usleep(10000);
    }
    CHECK(strcmp(got, "2026-03-27T09:00:00+01:00 2026-03-27T10:00:00+01:00") == 0);
    api_stop(&s);
}
