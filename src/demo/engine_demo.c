/*
 * slotd-engine-demo: loads an example clinic (config/demo-clinic.json) into the
 * availability engine and prints what a voice agent would be offered: the next
 * free slots of every service, then a booking check with the resources the
 * engine picks.
 *
 * Usage: slotd-engine-demo [CLINIC.json] [--now RFC3339] [--days N]
 *
 * The clinic file uses the API's forms (WEEK objects, local dates); bookings are
 * placed `day` days after today (in the clinic's zone) at a local `time`.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slotd/engine.h"
#include "slotd/codec.h"

#define MAX_ITEMS 64

typedef struct {
    const char *key, *name;
    eng_resource_t *resource;
} named_resource_t;

typedef struct {
    const char *key, *name;
    eng_service_t *service;
    int duration;
} named_service_t;

typedef struct {
    eng_org_t *org;
    tz_zone_t *zone;
    named_resource_t resources[MAX_ITEMS];
    int resource_count;
    named_service_t services[MAX_ITEMS];
    int service_count;
} clinic_t;

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "slotd-engine-demo: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(1);
}

static const named_resource_t *find_resource(const clinic_t *c, const char *key)
{
    for (int i = 0; i < c->resource_count; i++)
        if (strcmp(c->resources[i].key, key) == 0)
            return &c->resources[i];
    fail("unknown resource key", key);
    return NULL;
}

static const named_service_t *find_service(const clinic_t *c, const char *key)
{
    for (int i = 0; i < c->service_count; i++)
        if (strcmp(c->services[i].key, key) == 0)
            return &c->services[i];
    fail("unknown service key", key);
    return NULL;
}

static const char *name_of(const clinic_t *c, const eng_resource_t *r)
{
    for (int i = 0; i < c->resource_count; i++)
        if (c->resources[i].resource == r)
            return c->resources[i].name;
    return "?";
}

static int32_t json_int(const json_t *obj, const char *key, int32_t fallback)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_integer(v) ? (int32_t)json_integer_value(v) : fallback;
}

static void load(clinic_t *c, const json_t *root, int64_t now)
{
    char field[CODEC_FIELD_MAX];
    if (tz_zone_find(json_string_value(json_object_get(root, "timezone")) ?: "", &c->zone))
        fail("unknown timezone", NULL);
    c->org = eng_org_new(c->zone);
    const json_t *hours = json_object_get(root, "business_hours");
    if (hours && !json_is_null(hours)) {
        eng_week_t week;
        if (codec_week_from_json(hours, "business_hours", &week, field, sizeof(field)) ||
            eng_org_set_business_hours(c->org, &week))
            fail("bad business hours at", field);
    }
    int32_t closures[MAX_ITEMS];
    size_t closure_count = 0, i;
    const json_t *v;
    json_array_foreach(json_object_get(root, "closures"), i, v)
    {
        if (closure_count == MAX_ITEMS ||
            tz_parse_date(json_string_value(v) ?: "", &closures[closure_count]))
            fail("bad closure date", json_string_value(v));
        closure_count++;
    }
    eng_org_set_closures(c->org, closures, closure_count);

    json_array_foreach(json_object_get(root, "resources"), i, v)
    {
        if (c->resource_count == MAX_ITEMS)
            fail("too many resources", NULL);
        named_resource_t *nr = &c->resources[c->resource_count];
        nr->key = json_string_value(json_object_get(v, "key"));
        nr->name = json_string_value(json_object_get(v, "name"));
        if (!nr->key || !nr->name)
            fail("a resource needs a key and a name", NULL);
        eng_id_t id = {{0}};
        id.bytes[15] = (uint8_t)(c->resource_count + 1);
        nr->resource = eng_resource_new(c->org, &id, c->zone);
        eng_week_t week;
        if (codec_week_from_json(json_object_get(v, "working_hours"), "working_hours", &week, field,
                                 sizeof(field)) ||
            eng_resource_set_week(nr->resource, &week))
            fail("bad working hours at", field);
        c->resource_count++;
    }

    json_array_foreach(json_object_get(root, "services"), i, v)
    {
        if (c->service_count == MAX_ITEMS)
            fail("too many services", NULL);
        named_service_t *ns = &c->services[c->service_count];
        ns->key = json_string_value(json_object_get(v, "key"));
        ns->name = json_string_value(json_object_get(v, "name"));
        if (!ns->key || !ns->name)
            fail("a service needs a key and a name", NULL);
        eng_service_spec_t spec = {
            .duration_minutes = json_int(v, "duration_minutes", 0),
            .interval_minutes = json_int(v, "slot_interval_minutes", 0),
            .buffer_before_minutes = json_int(v, "buffer_before_minutes", 0),
            .buffer_after_minutes = json_int(v, "buffer_after_minutes", 0),
            .min_notice_minutes = json_int(v, "min_notice_minutes", 0),
            .max_advance_days = json_int(v, "max_advance_days", -1),
        };
        if (eng_service_new(c->org, &spec, &ns->service))
            fail("bad service timing", ns->name);
        ns->duration = spec.duration_minutes;
        size_t g;
        const json_t *group;
        json_array_foreach(json_object_get(v, "requirements"), g, group)
        {
            eng_resource_t *members[MAX_ITEMS];
            size_t m, count = 0;
            const json_t *key;
            json_array_foreach(json_object_get(group, "resource_ids"), m, key)
            {
                if (count < MAX_ITEMS)
                    members[count++] = find_resource(c, json_string_value(key) ?: "")->resource;
            }
            const char *mode = json_string_value(json_object_get(group, "mode"));
            eng_group_mode_t gm = mode && strcmp(mode, "all") == 0 ? ENG_GROUP_ALL : ENG_GROUP_ANY;
            if (eng_service_add_group(ns->service, gm, members, count))
                fail("bad requirement group in", ns->name);
        }
        c->service_count++;
    }

    int32_t today = tz_local_day(c->zone, now);
    uint64_t key = 1;
    json_array_foreach(json_object_get(root, "bookings"), i, v)
    {
        const named_service_t *ns =
            find_service(c, json_string_value(json_object_get(v, "service")) ?: "");
        uint16_t minute;
        if (eng_parse_wall_minutes(json_string_value(json_object_get(v, "time")) ?: "", false,
                                   &minute))
            fail("bad booking time", NULL);
        int64_t start =
            tz_from_wall(c->zone, (int64_t)(today + json_int(v, "day", 1)) * 86400 + minute * 60);
        const eng_service_spec_t *spec = eng_service_spec(ns->service);
        size_t m;
        const json_t *rkey;
        json_array_foreach(json_object_get(v, "resource_ids"), m, rkey)
        {
            eng_busy_t b = {.start = start,
                            .end = start + spec->duration_minutes * 60,
                            .buffer_before = (uint16_t)spec->buffer_before_minutes,
                            .buffer_after = (uint16_t)spec->buffer_after_minutes,
                            .kind = ENG_BUSY_BOOKING,
                            .stamp = now - 86400,
                            .key = key};
            eng_resource_add_busy(find_resource(c, json_string_value(rkey) ?: "")->resource, &b);
        }
        key++;
    }
}

static void print_slot(const clinic_t *c, const eng_slots_t *out, size_t i)
{
    static const char *const weekdays[7] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    char start[40];
    const eng_slot_t *s = &out->slots[i];
    codec_format_instant(c->zone, s->start, start, sizeof(start));
    printf("  %s %s  ", weekdays[tz_weekday(tz_local_day(c->zone, s->start))], start);
    for (uint32_t k = 0; k < s->resource_count; k++)
        printf("%s%s", k ? ", " : "", name_of(c, out->resources[s->first_resource + k]));
    printf("\n");
}

int main(int argc, char **argv)
{
    const char *path = "config/demo-clinic.json";
    int64_t now = (int64_t)time(NULL);
    int days = 7;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--now") == 0 && i + 1 < argc) {
            if (codec_parse_instant(argv[++i], &now))
                fail("--now wants an RFC 3339 instant", argv[i]);
        } else if (strcmp(argv[i], "--days") == 0 && i + 1 < argc) {
            days = atoi(argv[++i]);
            if (days < 1 || days > 62)
                fail("--days wants 1 to 62", NULL);
        } else if (strcmp(argv[i], "--help") == 0 || argv[i][0] == '-') {
            printf("usage: slotd-engine-demo [CLINIC.json] [--now RFC3339] [--days N]\n");
            return strcmp(argv[i], "--help") == 0 ? 0 : 2;
        } else {
            path = argv[i];
        }
    }
    json_error_t error;
    json_t *root = json_load_file(path, 0, &error);
    if (root == NULL)
        fail("cannot read the clinic file", error.text);

    clinic_t clinic = {0};
    load(&clinic, root, now);
    char now_text[40];
    codec_format_instant(clinic.zone, now, now_text, sizeof(now_text));
    printf("%s (%s), now %s\n", json_string_value(json_object_get(root, "name")),
           tz_zone_name(clinic.zone), now_text);
    printf("%d resources, %d services\n", clinic.resource_count, clinic.service_count);

    eng_workspace_t *ws = eng_workspace_new();
    int32_t today = tz_local_day(clinic.zone, now);
    int64_t from = tz_from_wall(clinic.zone, (int64_t)today * 86400);
    int64_t to = tz_from_wall(clinic.zone, (int64_t)(today + days) * 86400);
    for (int i = 0; i < clinic.service_count; i++) {
        const named_service_t *ns = &clinic.services[i];
        eng_query_t q = {.service = ns->service, .from = from, .to = to, .now = now, .per_day = 2};
        eng_slots_t out;
        eng_slots(ws, &q, &out);
        printf("\n%s (%d min): the first two slots of each day, next %d days\n", ns->name,
               ns->duration, days);
        if (out.count == 0)
            printf("  (none)\n");
        for (size_t k = 0; k < out.count; k++)
            print_slot(&clinic, &out, k);
    }

    /* What a booking of the first cleaning slot would take. */
    const named_service_t *first = &clinic.services[0];
    eng_query_t q = {.service = first->service, .from = from, .to = to, .now = now, .limit = 1};
    eng_slots_t out;
    eng_slots(ws, &q, &out);
    if (out.count) {
        char start[40];
        codec_format_instant(clinic.zone, out.slots[0].start, start, sizeof(start));
        eng_check_t check = {.service = first->service, .start = out.slots[0].start, .now = now};
        eng_resource_t *const *picked;
        size_t picked_count;
        int rc = eng_check_booking(ws, &check, &picked, &picked_count);
        printf("\nBooking %s at %s: %s", first->name, start,
               rc ? eng_strerror(rc) : "accepted, with ");
        for (size_t k = 0; rc == 0 && k < picked_count; k++)
            printf("%s%s", k ? " and " : "", name_of(&clinic, picked[k]));
        printf("\n");
        check.start += 60;
        rc = eng_check_booking(ws, &check, &picked, &picked_count);
        codec_format_instant(clinic.zone, check.start, start, sizeof(start));
        printf("Booking %s at %s: %s\n", first->name, start, rc ? eng_strerror(rc) : "accepted");
    }
    eng_workspace_free(ws);
    eng_org_free(clinic.org);
    json_decref(root);
    tz_shutdown();
    return 0;
}
