/*
 * The index's loader: rows of the load statements (load_statements.c) become
 * engine objects.
 *
 * Every value another program may have written is checked before it reaches
 * the engine, and every engine call that can refuse is checked after: a row
 * (or one block, override or busy interval inside a row's JSON arrays) that
 * cannot be used is skipped, logged and counted, never allowed to stop the
 * load of anything else. The statements already turn timestamps that are not
 * finite into JSON null, so one `infinity` cannot fail the whole query.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index/internal.h"
#include "slotd/alloc.h"
#include "slotd/codec.h"
#include "log/log.h"

void idx_log_skip(const char *table, const eng_id_t *org, const eng_id_t *id, const char *reason)
{
    char org_text[37] = "", id_text[37] = "";
    if (org)
        codec_format_uuid(org, org_text);
    if (id)
        codec_format_uuid(id, id_text);
    log_warn("index_row_skipped", "table", table, "organization_id", org_text, "id", id_text,
             "reason", reason, NULL);
}

static void skip(idx_tally_t *tally, const char *table, const eng_id_t *org, const eng_id_t *id,
                 const char *reason)
{
    tally->skipped++;
    idx_log_skip(table, org, id, reason);
}

static void *own(index_org_t *org, size_t size)
{
    void *p = slotd_calloc(1, size);
    org->owned = slotd_grow(org->owned, &org->owned_capacity, org->owned_count + 1, sizeof(void *));
    org->owned[org->owned_count++] = p;
    return p;
}

void idx_free_org(index_org_t *org)
{
    if (org == NULL)
        return;
    for (size_t i = 0; i < org->services.capacity; i++) {
        idx_service_entry_t *e = org->services.entries[i].value;
        if (e)
            free(e->named);
    }
    eng_org_free(org->engine);
    idmap_free(&org->resources);
    idmap_free(&org->services);
    idmap_free(&org->locations);
    for (size_t i = 0; i < org->owned_count; i++)
        free(org->owned[i]);
    free(org->owned);
    free(org);
}

eng_resource_t *idx_org_resource(index_org_t *org, const eng_id_t *id)
{
    idx_resource_entry_t *e = idmap_get(&org->resources, id);
    return e && !e->deleted ? e->resource : NULL;
}

eng_location_t *idx_org_location(index_org_t *org, const eng_id_t *id)
{
    idx_location_entry_t *e = idmap_get(&org->locations, id);
    return e && !e->deleted ? e->location : NULL;
}

bool idx_parse_id(const PGresult *res, int row, int col, eng_id_t *id)
{
    return !PQgetisnull(res, row, col) && codec_parse_uuid(PQgetvalue(res, row, col), id) == 0;
}

static tz_zone_t *zone_named(const char *name)
{
    tz_zone_t *zone;
    if (tz_zone_find(name, &zone) == 0)
        return zone;
    log_warn("index_unknown_zone", "zone", name, "using", "UTC", NULL);
    tz_zone_find("UTC", &zone);
    return zone;
}

static json_t *json_column(const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return NULL;
    return json_loads(PQgetvalue(res, row, col), 0, NULL);
}

static bool is_true(const PGresult *res, int row, int col)
{
    return strcmp(PQgetvalue(res, row, col), "t") == 0;
}

/* A list of dates (closures); entries that are not dates are dropped. */
static int32_t *dates_of(const PGresult *res, int row, int col, size_t *count)
{
    json_t *list = json_column(res, row, col);
    int32_t *days = slotd_malloc((json_array_size(list) + 1) * sizeof(int32_t));
    size_t n = 0, i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        if (json_is_string(v) && tz_parse_date(json_string_value(v), &days[n]) == 0)
            n++;
    }
    json_decref(list);
    *count = n;
    return days;
}

static bool week_of(const PGresult *res, int row, int col, eng_week_t *week)
{
    json_t *value = json_column(res, row, col);
    char field[CODEC_FIELD_MAX];
    bool ok = value && codec_week_from_json(value, "hours", week, field, sizeof(field)) == 0;
    json_decref(value);
    return ok;
}

index_org_t *idx_load_org(const PGresult *res, int row, idx_tally_t *tally)
{
    index_org_t *org = slotd_calloc(1, sizeof(*org));
    if (!idx_parse_id(res, row, 0, &org->id)) {
        free(org);
        skip(tally, "organizations", NULL, NULL, "malformed id");
        return NULL;
    }
    org->engine = eng_org_new(zone_named(PQgetvalue(res, row, 1)));
    eng_week_t week;
    if (week_of(res, row, 2, &week) && eng_org_set_business_hours(org->engine, &week) != 0)
        skip(tally, "organizations", &org->id, &org->id, "business hours refused (ignored)");
    size_t n;
    int32_t *days = dates_of(res, row, 3, &n);
    eng_org_set_closures(org->engine, days, n);
    free(days);
    return org;
}

/* locations: organization_id, id, timezone, business_hours, closures, deleted */
void idx_load_location(index_org_t *org, const PGresult *res, int row, idx_tally_t *tally)
{
    eng_id_t id;
    if (!idx_parse_id(res, row, 1, &id)) {
        skip(tally, "locations", &org->id, NULL, "malformed id");
        return;
    }
    idx_location_entry_t *e = idmap_get(&org->locations, &id);
    tz_zone_t *zone =
        PQgetisnull(res, row, 2) ? eng_org_zone(org->engine) : zone_named(PQgetvalue(res, row, 2));
    if (e == NULL) {
        e = own(org, sizeof(*e));
        e->id = id;
        e->location = eng_location_new(org->engine, zone);
        idmap_put(&org->locations, &id, e);
    }
    eng_location_set_zone(e->location, zone);
    eng_week_t week;
    bool has_week = week_of(res, row, 3, &week);
    if (eng_location_set_business_hours(e->location, has_week ? &week : NULL) != 0) {
        skip(tally, "locations", &org->id, &id, "business hours refused (ignored)");
        eng_location_set_business_hours(e->location, NULL);
    }
    size_t n;
    int32_t *days = dates_of(res, row, 4, &n);
    eng_location_set_closures(e->location, days, n);
    free(days);
    e->deleted = is_true(res, row, 5);
}

static uint64_t key_of(const char *uuid_text)
{
    eng_id_t id = {{0}};
    uint64_t key = 0;
    if (uuid_text && codec_parse_uuid(uuid_text, &id) == 0)
        memcpy(&key, id.bytes, sizeof(key));
    return key;
}

static bool uuid_of(const json_t *value, eng_id_t *id)
{
    return json_is_string(value) && codec_parse_uuid(json_string_value(value), id) == 0;
}

/* Wall seconds of "YYYY-MM-DDTHH:MM:SS"; false when malformed. */
static bool wall_of(const char *text, int64_t *wall)
{
    int32_t day, h, m, s;
    char date[11];
    if (text == NULL || strlen(text) != 19)
        return false;
    memcpy(date, text, 10);
    date[10] = 0;
    if (tz_parse_date(date, &day) || !tz_parse_digits(text + 11, 2, &h) ||
        !tz_parse_digits(text + 14, 2, &m) || !tz_parse_digits(text + 17, 2, &s))
        return false;
    *wall = (int64_t)day * 86400 + h * 3600 + m * 60 + s;
    return true;
}

static void load_overrides(index_org_t *org, eng_resource_t *r, const eng_id_t *id,
                           json_t *overrides, idx_tally_t *tally)
{
    size_t i;
    json_t *v;
    json_array_foreach(overrides, i, v)
    {
        int32_t day;
        eng_day_hours_t hours;
        char field[CODEC_FIELD_MAX];
        if (!json_is_string(json_array_get(v, 0)) ||
            tz_parse_date(json_string_value(json_array_get(v, 0)), &day) != 0 ||
            codec_day_hours_from_json(json_array_get(v, 1), "hours", &hours, field,
                                      sizeof(field)) != 0 ||
            eng_resource_set_override(r, day, &hours) != 0)
            skip(tally, "resource_overrides", &org->id, id, "override that cannot be used");
    }
}

/* Recurring blocks: [-, -, rrule, start_local, duration, exdates, id] */
static void load_recurring(index_org_t *org, eng_resource_t *r, json_t *blocks, idx_tally_t *tally)
{
    size_t i;
    json_t *v;
    json_array_foreach(blocks, i, v)
    {
        eng_id_t block_id = {{0}};
        bool has_id = uuid_of(json_array_get(v, 6), &block_id);
        uint64_t key = key_of(json_string_value(json_array_get(v, 6)));
        const char *rrule = json_string_value(json_array_get(v, 2));
        const char *reason = NULL;
        int64_t start;
        json_t *duration = json_array_get(v, 4);
        if (rrule == NULL || !wall_of(json_string_value(json_array_get(v, 3)), &start) ||
            !json_is_integer(duration)) {
            reason = "recurring block with a start that cannot be used";
        } else {
            json_t *ex = json_array_get(v, 5);
            int64_t *exdates = slotd_malloc((json_array_size(ex) + 1) * sizeof(int64_t));
            size_t n = 0, k;
            json_t *x;
            json_array_foreach(ex, k, x)
            {
                if (wall_of(json_string_value(x), &exdates[n]))
                    n++;
            }
            if (eng_resource_add_recurring_block(
                    r, key, rrule, start, (int32_t)json_integer_value(duration), exdates, n) != 0)
                reason = "recurring block refused by the engine";
            free(exdates);
        }
        if (reason)
            skip(tally, "blocks", &org->id, has_id ? &block_id : NULL, reason);
    }
}

/* The compact text of busy time and one-off blocks: entries separated by ';', fields by ','.
 * Reads one field as an integer; false when it is empty (a time that is not finite) or
 * malformed. Moves past the field and its ','. */
static bool next_integer(const char **p, int64_t *value)
{
    char *end;
    errno = 0;
    long long v = strtoll(*p, &end, 10);
    bool ok = end != *p && errno == 0;
    while (*end && *end != ',' && *end != ';') {
        ok = false;
        end++;
    }
    if (*end == ',')
        end++;
    *p = end;
    *value = v;
    return ok;
}

/* Reads one text field (at most size - 1 characters kept). */
static void next_text(const char **p, char *out, size_t size)
{
    size_t n = 0;
    const char *q = *p;
    for (; *q && *q != ',' && *q != ';'; q++)
        if (n + 1 < size)
            out[n++] = *q;
    out[n] = 0;
    if (*q == ',')
        q++;
    *p = q;
}

/* Moves past the rest of an entry and its ';'. */
static void next_entry(const char **p)
{
    while (**p && **p != ';')
        (*p)++;
    if (**p == ';')
        (*p)++;
}

/* One-off blocks: "start,end,id;..." */
static void load_blocks(index_org_t *org, eng_resource_t *r, const char *text, idx_tally_t *tally)
{
    for (const char *p = text; p && *p; next_entry(&p)) {
        int64_t start, end;
        char id_text[40];
        bool ok = next_integer(&p, &start);
        ok &= next_integer(&p, &end);
        next_text(&p, id_text, sizeof(id_text));
        eng_id_t block_id;
        bool has_id = codec_parse_uuid(id_text, &block_id) == 0;
        const char *reason = NULL;
        if (!ok) {
            reason = "block with a time that is not finite";
        } else {
            eng_busy_t b = {
                .start = start, .end = end, .kind = ENG_BUSY_BLOCK, .key = key_of(id_text)};
            if (eng_resource_add_busy(r, &b) != 0)
                reason = "block refused by the engine";
        }
        if (reason)
            skip(tally, "blocks", &org->id, has_id ? &block_id : NULL, reason);
    }
}

/* Busy time: "padded start,padded end,start,end,created_at|expires_at,t|f (booking),id;..." */
static void load_busy(index_org_t *org, eng_resource_t *r, const char *text, idx_tally_t *tally)
{
    for (const char *p = text; p && *p; next_entry(&p)) {
        int64_t lower, upper, start, end, stamp;
        char booking[4], id_text[40];
        bool padded = next_integer(&p, &lower);
        padded &= next_integer(&p, &upper);
        bool timed = next_integer(&p, &start);
        timed &= next_integer(&p, &end);
        if (!next_integer(&p, &stamp))
            stamp = 0;
        next_text(&p, booking, sizeof(booking));
        next_text(&p, id_text, sizeof(id_text));
        eng_id_t busy_id;
        bool has_id = codec_parse_uuid(id_text, &busy_id) == 0;
        if (!padded) {
            skip(tally, "occupancy", &org->id, has_id ? &busy_id : NULL,
                 "busy time that is not finite");
            continue;
        }
        if (!timed || start < lower || end > upper || end <= start ||
            (start - lower) / 60 > UINT16_MAX || (upper - end) / 60 > UINT16_MAX) {
            start = lower; /* occupancy written by hand: take it as it is */
            end = upper;
        }
        eng_busy_t b = {.start = start,
                        .end = end,
                        .buffer_before = (uint16_t)((start - lower) / 60),
                        .buffer_after = (uint16_t)((upper - end) / 60),
                        .kind = strcmp(booking, "t") == 0 ? ENG_BUSY_BOOKING : ENG_BUSY_HOLD,
                        .stamp = stamp,
                        .key = key_of(id_text)};
        if (eng_resource_add_busy(r, &b) != 0)
            skip(tally, "occupancy", &org->id, has_id ? &busy_id : NULL,
                 "busy time refused by the engine");
    }
}

/* resources: organization_id, id, location_id, zone, working_hours, active, deleted,
 * overrides, recurring blocks, busy, one-off blocks */
bool idx_load_resource(index_org_t *org, const PGresult *res, int row, eng_id_t *id,
                       idx_tally_t *tally)
{
    if (!idx_parse_id(res, row, 1, id)) {
        skip(tally, "resources", &org->id, NULL, "malformed id");
        return false;
    }
    idx_resource_entry_t *e = idmap_get(&org->resources, id);
    bool was_usable = e != NULL && !e->deleted;
    tz_zone_t *zone = zone_named(PQgetvalue(res, row, 3));
    if (e == NULL) {
        e = own(org, sizeof(*e));
        e->id = *id;
        e->resource = eng_resource_new(org->engine, id, zone);
        idmap_put(&org->resources, id, e);
    }
    eng_resource_t *r = e->resource;
    eng_resource_reset(r);
    eng_resource_set_zone(r, zone);
    eng_id_t location_id;
    eng_resource_set_location(
        r, idx_parse_id(res, row, 2, &location_id) ? idx_org_location(org, &location_id) : NULL);
    e->deleted = is_true(res, row, 6);
    eng_resource_set_active(r, !e->deleted && is_true(res, row, 5));
    eng_week_t week;
    if (week_of(res, row, 4, &week) && eng_resource_set_week(r, &week) != 0)
        skip(tally, "resources", &org->id, id, "working hours refused (ignored)");

    json_t *overrides = json_column(res, row, 7);
    load_overrides(org, r, id, overrides, tally);
    json_decref(overrides);
    json_t *recurring = json_column(res, row, 8);
    load_recurring(org, r, recurring, tally);
    json_decref(recurring);
    load_busy(org, r, PQgetisnull(res, row, 9) ? NULL : PQgetvalue(res, row, 9), tally);
    load_blocks(org, r, PQgetisnull(res, row, 10) ? NULL : PQgetvalue(res, row, 10), tally);
    return !was_usable && !e->deleted;
}

static int32_t int_or(const PGresult *res, int row, int col, int32_t fallback)
{
    return PQgetisnull(res, row, col) ? fallback : atoi(PQgetvalue(res, row, col));
}

bool idx_service_names(const idx_service_entry_t *service, const eng_id_t *resource)
{
    for (size_t i = 0; i < service->named_count; i++)
        if (memcmp(&service->named[i], resource, sizeof(*resource)) == 0)
            return true;
    return false;
}

/* One requirement group: its members that the index holds, into the service. Returns
 * whether the group can be satisfied. */
static bool load_group(index_org_t *org, idx_service_entry_t *e, json_t *group)
{
    const char *mode = json_string_value(json_array_get(group, 0));
    json_t *ids = json_array_get(group, 1);
    eng_resource_t **members = slotd_malloc((json_array_size(ids) + 1) * sizeof(*members));
    size_t n = 0, k;
    json_t *member;
    json_array_foreach(ids, k, member)
    {
        eng_id_t rid;
        eng_resource_t *r;
        if (!uuid_of(member, &rid))
            continue;
        e->named = slotd_realloc(e->named, (e->named_count + 1) * sizeof(eng_id_t));
        e->named[e->named_count++] = rid;
        if ((r = idx_org_resource(org, &rid)) != NULL)
            members[n++] = r;
    }
    eng_group_mode_t gm = mode && strcmp(mode, "all") == 0 ? ENG_GROUP_ALL : ENG_GROUP_ANY;
    /* A group that lost members it needs can never be satisfied. */
    bool ok = n > 0 && (gm == ENG_GROUP_ANY || n == json_array_size(ids)) &&
              eng_service_add_group(e->service, gm, members, n) == 0;
    free(members);
    return ok;
}

/* services: organization_id, id, duration, interval, bb, ba, notice, advance, active, deleted,
 * requirements [[mode, [ids]], ...] */
void idx_load_service(index_org_t *org, const PGresult *res, int row, idx_tally_t *tally)
{
    eng_id_t id;
    if (!idx_parse_id(res, row, 1, &id)) {
        skip(tally, "services", &org->id, NULL, "malformed id");
        return;
    }
    eng_service_spec_t spec = {.duration_minutes = int_or(res, row, 2, 1),
                               .interval_minutes = int_or(res, row, 3, 0),
                               .buffer_before_minutes = int_or(res, row, 4, 0),
                               .buffer_after_minutes = int_or(res, row, 5, 0),
                               .min_notice_minutes = int_or(res, row, 6, 0),
                               .max_advance_days = int_or(res, row, 7, -1)};
    idx_service_entry_t *e = idmap_get(&org->services, &id);
    if (e == NULL) {
        eng_service_t *service;
        if (eng_service_new(org->engine, &spec, &service) != 0) {
            skip(tally, "services", &org->id, &id, "service with impossible timing");
            return; /* unmapped: it offers nothing */
        }
        e = own(org, sizeof(*e));
        e->id = id;
        e->service = service;
        idmap_put(&org->services, &id, e);
    } else if (eng_service_set_spec(e->service, &spec) != 0) {
        skip(tally, "services", &org->id, &id, "service with impossible timing");
        e->bookable = false;
        return;
    }
    e->deleted = is_true(res, row, 9);
    e->bookable = is_true(res, row, 8);
    eng_service_clear_groups(e->service);
    free(e->named);
    e->named = NULL;
    e->named_count = 0;
    json_t *groups = json_column(res, row, 10);
    size_t g;
    json_t *group;
    if (json_array_size(groups) == 0)
        e->bookable = false;
    json_array_foreach(groups, g, group)
    {
        if (!load_group(org, e, group))
            e->bookable = false;
    }
    json_decref(groups);
}
