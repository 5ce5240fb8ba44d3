/*
 * The index's loader: rows of the load statements (load_statements.c) become
 * engine objects.
 *
 * Every value another program may have written is checked before it reaches
 * the engine, and every engine call that can refuse is checked after: a row
 * (or one block, override or busy interval inside a row's JSON arrays) that
 * cannot be used is skipped, logged and counted, never allowed to stop the
 * load of anything else. No statement converts a timestamp in a way that fails
 * on one that is not finite, so one `infinity` cannot fail the whole query.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
    if (PQgetisnull(res, row, col))
        return false;
    if (PQfformat(res, col) == 0)
        return codec_parse_uuid(PQgetvalue(res, row, col), id) == 0;
    if (PQgetlength(res, row, col) != (int)sizeof(id->bytes))
        return false;
    memcpy(id->bytes, PQgetvalue(res, row, col), sizeof(id->bytes));
    return true;
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
    const char *v = PQgetvalue(res, row, col);
    return PQfformat(res, col) == 0 ? strcmp(v, "t") == 0
                                    : PQgetlength(res, row, col) == 1 && v[0] == 1;
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

/* A series of an imported calendar: ["external", zone, rrule, start_local, duration seconds,
 * exdates, id, nominal, vtimezone], expanded from a day before now on. */
static int64_t series_clock; /* 0: the real clock */

void idx_freeze_series_clock(int64_t now)
{
    series_clock = now;
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

/* ---- busy time and one-off blocks: arrays in PostgreSQL's binary format ----------------------
 *
 * An array value: int32 dimensions, int32 has-nulls flag, uint32 element type, then per
 * dimension int32 size and int32 lower bound, then each element as an int32 length (-1:
 * NULL) and that many bytes; all big-endian. A timestamptz is int64 microseconds since
 * 2000-01-01 UTC, infinity the largest int64 and -infinity the smallest. */

#define PG_EPOCH_US INT64_C(946684800000000) /* 2000-01-01 in Unix microseconds */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A cursor over an array column; an SQL NULL or a value that is not a one-dimensional
 * array is an empty one. */
static idx_array_t array_of(const PGresult *res, int row, int col)
{
    idx_array_t a = {0};
    if (PQgetisnull(res, row, col))
        return a;
    const unsigned char *p = (const unsigned char *)PQgetvalue(res, row, col);
    const unsigned char *end = p + PQgetlength(res, row, col);
    if (end - p < 12 || be32(p) != 1 || end - p < 20)
        return a;
    a.p = p + 20;
    a.end = end;
    a.left = be32(p + 12);
    return a;
}

/* The next element: its bytes (NULL for an SQL NULL) and length; false past the end. */
static bool array_next(idx_array_t *a, const unsigned char **value, int32_t *length)
{
    if (a->left == 0 || a->end - a->p < 4)
        return false;
    int32_t n = (int32_t)be32(a->p);
    a->p += 4;
    a->left--;
    *value = NULL;
    *length = 0;
    if (n >= 0 && a->end - a->p >= n) {
        *value = a->p;
        *length = n;
        a->p += n;
    } else if (n >= 0) {
        a->left = 0; /* truncated: nothing more can be read */
    }
    return true;
}

int64_t idx_seconds_of_us(int64_t unix_us)
{
    int64_t seconds = unix_us / 1000000, rest = unix_us % 1000000; /* no overflow at the ends */
    return seconds + (rest >= 500000) - (rest <= -500000);
}

/* The next element as epoch seconds (rounded to the nearest second, halves away from zero,
 * as extract(epoch ...)::bigint does); false when it is NULL or not finite. */
static bool next_instant(idx_array_t *a, int64_t *seconds)
{
    const unsigned char *v;
    int32_t n;
    if (!array_next(a, &v, &n) || v == NULL || n != 8)
        return false;
    uint64_t u = (uint64_t)be32(v) << 32 | be32(v + 4);
    int64_t us = (int64_t)u;
    if (us == INT64_MAX || us == INT64_MIN || us > INT64_MAX - PG_EPOCH_US)
        return false;
    *seconds = idx_seconds_of_us(us + PG_EPOCH_US);
    return true;
}

static bool next_bool(idx_array_t *a)
{
    const unsigned char *v;
    int32_t n;
    return array_next(a, &v, &n) && v && n == 1 && v[0] == 1;
}

/* The next element as an id; false when it is NULL. */
static bool next_id(idx_array_t *a, eng_id_t *id)
{
    const unsigned char *v;
    int32_t n;
    if (!array_next(a, &v, &n) || v == NULL || n != (int32_t)sizeof(id->bytes))
        return false;
    memcpy(id->bytes, v, sizeof(id->bytes));
    return true;
}

/* The engine's key of an entry: the first 8 bytes of its id (0 without one). */
static uint64_t key_of_id(const eng_id_t *id, bool has_id)
{
    uint64_t key = 0;
    if (has_id)
        memcpy(&key, id->bytes, sizeof(key));
    return key;
}

/* The next element as text into `out` (NUL-terminated, cut to size); false when NULL. */
static bool next_text(idx_array_t *a, char *out, size_t size)
{
    const unsigned char *v;
    int32_t n;
    out[0] = 0;
    if (!array_next(a, &v, &n) || v == NULL)
        return false;
    size_t length = (size_t)n < size - 1 ? (size_t)n : size - 1;
    memcpy(out, v, length);
    out[length] = 0;
    return true;
}

/* The next element as an integer of 4 or 8 bytes; false when NULL. */
static bool next_integer(idx_array_t *a, int64_t *out)
{
    const unsigned char *v;
    int32_t n;
    if (!array_next(a, &v, &n) || v == NULL || (n != 4 && n != 8))
        return false;
    uint64_t u = n == 8 ? (uint64_t)be32(v) << 32 | be32(v + 4) : be32(v);
    *out = n == 8 ? (int64_t)u : (int64_t)(int32_t)(uint32_t)u;
    return true;
}

/* One series of an imported calendar (external_busy_events with an rrule): its rule, zone (NULL:
 * the resource's), DTSTART's wall time, length, nominal flag, the zone's VTIMEZONE when the
 * system lacks it, left-out wall starts ("n,n,..."), id; expanded from a day before now on. */
static void load_one_series(index_org_t *org, idx_resource_load_t *load, idx_tally_t *tally)
{
    idx_array_t *c = load->series;
    static char rrule[1100], zone_name[260], definition[65600], exdates_text[300000];
    int64_t start = 0, duration = 0;
    /* every array advances by one, whatever is NULL */
    bool has_rule = next_text(&c[0], rrule, sizeof(rrule));
    bool has_zone = next_text(&c[1], zone_name, sizeof(zone_name));
    bool has_start = next_integer(&c[2], &start);
    bool has_duration = next_integer(&c[3], &duration);
    bool ok = has_rule && has_start && has_duration;
    bool nominal = next_bool(&c[4]);
    bool has_definition = next_text(&c[5], definition, sizeof(definition));
    next_text(&c[6], exdates_text, sizeof(exdates_text));
    eng_id_t id;
    bool has_id = next_id(&c[7], &id);
    const char *reason = NULL;
    tz_zone_t *zone = NULL;
    if (!ok)
        reason = "external series that cannot be read";
    else if (has_zone &&
             tz_zone_find_or_define(zone_name, has_definition ? definition : NULL, &zone) != TZ_OK)
        reason = "external series in a zone that cannot be used";
    if (reason == NULL) {
        size_t count = 0, capacity = 0;
        int64_t *exdates = NULL;
        for (char *p = exdates_text, *next; *p; p = next) {
            long long wall = strtoll(p, &next, 10);
            if (next == p)
                break;
            exdates = slotd_grow(exdates, &capacity, count + 1, sizeof(*exdates));
            exdates[count++] = wall;
            if (*next == ',')
                next++;
        }
        tz_zone_t *wall_zone = zone ? zone : load->zone;
        int64_t now = series_clock ? series_clock : (int64_t)time(NULL);
        eng_recurrence_t spec = {.rrule = rrule,
                                 .start_wall = start,
                                 .zone = zone,
                                 .duration_seconds = (int32_t)duration,
                                 .nominal = nominal,
                                 .exdates_wall = exdates,
                                 .exdate_count = count,
                                 .kind = ENG_BUSY_EXTERNAL,
                                 .expand_from_wall = tz_to_wall(wall_zone, now - 86400),
                                 .key_unique = true}; /* the key of the row's own id */
        if (eng_resource_add_recurrence(load->resource, key_of_id(&id, has_id), &spec) != 0)
            reason = "external series refused by the engine";
        free(exdates);
    }
    if (reason)
        skip(tally, "external_busy_events", &org->id, has_id ? &id : NULL, reason);
}

void idx_occupancy_busy(int64_t lower, int64_t upper, bool timed, int64_t start, int64_t end,
                        int64_t stamp, bool booking, const eng_id_t *id, eng_busy_t *out)
{
    if (!timed || start < lower || end > upper || end <= start ||
        (start - lower) / 60 > UINT16_MAX || (upper - end) / 60 > UINT16_MAX) {
        start = lower; /* occupancy written by hand: take it as it is */
        end = upper;
    }
    *out = (eng_busy_t){.start = start,
                        .end = end,
                        .buffer_before = (uint16_t)((start - lower) / 60),
                        .buffer_after = (uint16_t)((upper - end) / 60),
                        .kind = booking ? ENG_BUSY_BOOKING : ENG_BUSY_HOLD,
                        .stamp = stamp,
                        .key = key_of_id(id, id != NULL)};
}

/* One occupancy entry: padded start and end, start, end, the booking's creation or the hold's
 * expiry, whether a booking, id. */
static void load_one_busy(index_org_t *org, eng_resource_t *r, idx_array_t *c, idx_tally_t *tally)
{
    int64_t lower, upper, start, end, stamp;
    bool padded = next_instant(&c[0], &lower);
    padded &= next_instant(&c[1], &upper);
    bool timed = next_instant(&c[2], &start);
    timed &= next_instant(&c[3], &end);
    if (!next_instant(&c[4], &stamp))
        stamp = 0;
    bool booking = next_bool(&c[5]);
    eng_id_t busy_id;
    bool has_id = next_id(&c[6], &busy_id);
    if (!padded) {
        skip(tally, "occupancy", &org->id, has_id ? &busy_id : NULL,
             "busy time that is not finite");
        return;
    }
    eng_busy_t b;
    idx_occupancy_busy(lower, upper, timed, start, end, stamp, booking, has_id ? &busy_id : NULL,
                       &b);
    if (eng_resource_add_busy(r, &b) != 0)
        skip(tally, "occupancy", &org->id, has_id ? &busy_id : NULL,
             "busy time refused by the engine");
}

/* One one-off block (kind ENG_BUSY_BLOCK, `table` "blocks") or busy event of an external
 * calendar (ENG_BUSY_EXTERNAL, "external_busy_events"): start, end, id. */
static void load_one_block(index_org_t *org, eng_resource_t *r, idx_array_t *b,
                           eng_busy_kind_t kind, const char *table, idx_tally_t *tally)
{
    int64_t start, end;
    bool ok = next_instant(&b[0], &start);
    ok &= next_instant(&b[1], &end);
    eng_id_t block_id;
    bool has_id = next_id(&b[2], &block_id);
    bool block = kind == ENG_BUSY_BLOCK;
    const char *reason = NULL;
    if (!ok) {
        reason = block ? "block with a time that is not finite"
                       : "external event with a time that is not finite";
    } else {
        eng_busy_t busy = {
            .start = start, .end = end, .kind = kind, .key = key_of_id(&block_id, has_id)};
        if (eng_resource_add_busy(r, &busy) != 0)
            reason = block ? "block refused by the engine" : "external event refused by the engine";
    }
    if (reason)
        skip(tally, table, &org->id, has_id ? &block_id : NULL, reason);
}

/* resources: organization_id, id, location_id, zone, working_hours, active, deleted,
 * overrides, recurring blocks, then busy time as arrays (padded start, padded end, start,
 * end, creation or expiry, booking, id), one-off blocks as arrays (start, end, id),
 * busy events of external calendars as arrays (start, end, id) and their series as arrays
 * (see load_one_series) */
/* The row into the organization's resource, or with `into` into that resource aside (which
 * the caller puts in place later with eng_resource_swap_busy): nothing of the organization
 * changes then. */
static bool begin(index_org_t *org, const PGresult *res, int row, eng_id_t *id,
                  idx_resource_load_t *load, eng_resource_t *into, idx_tally_t *tally)
{
    if (!idx_parse_id(res, row, 1, id)) {
        skip(tally, "resources", &org->id, NULL, "malformed id");
        return false;
    }
    tz_zone_t *zone = zone_named(PQgetvalue(res, row, 3));
    eng_resource_t *r = into;
    bool became_usable = false;
    if (into == NULL) {
        idx_resource_entry_t *e = idmap_get(&org->resources, id);
        bool was_usable = e != NULL && !e->deleted;
        if (e == NULL) {
            e = own(org, sizeof(*e));
            e->id = *id;
            e->resource = eng_resource_new(org->engine, id, zone);
            idmap_put(&org->resources, id, e);
        }
        r = e->resource;
        org->busy_entries -= eng_resource_busy_count(r);
        org->busy_bytes -= eng_resource_busy_bytes(r);
        e->deleted = is_true(res, row, 6);
        became_usable = !was_usable && !e->deleted;
        eng_id_t location_id;
        eng_resource_set_location(r, idx_parse_id(res, row, 2, &location_id)
                                         ? idx_org_location(org, &location_id)
                                         : NULL);
        eng_resource_set_active(r, !e->deleted && is_true(res, row, 5));
    }
    eng_resource_reset(r);
    eng_resource_set_zone(r, zone);
    eng_week_t week;
    if (week_of(res, row, 4, &week) && eng_resource_set_week(r, &week) != 0)
        skip(tally, "resources", &org->id, id, "working hours refused (ignored)");

    json_t *overrides = json_column(res, row, 7);
    load_overrides(org, r, id, overrides, tally);
    json_decref(overrides);
    json_t *recurring = json_column(res, row, 8);
    load_recurring(org, r, recurring, tally);
    json_decref(recurring);
    *load = (idx_resource_load_t){
        .resource = r, .became_usable = became_usable, .counted = into == NULL};
    for (int i = 0; i < IDX_BUSY_ARRAYS; i++)
        load->busy[i] = array_of(res, row, 9 + i);
    for (int i = 0; i < IDX_BLOCK_ARRAYS; i++) {
        load->blocks[i] = array_of(res, row, 9 + IDX_BUSY_ARRAYS + i);
        load->external[i] = array_of(res, row, 9 + IDX_BUSY_ARRAYS + IDX_BLOCK_ARRAYS + i);
    }
    for (int i = 0; i < IDX_SERIES_ARRAYS; i++)
        load->series[i] = array_of(res, row, 9 + IDX_BUSY_ARRAYS + 2 * IDX_BLOCK_ARRAYS + i);
    load->zone = zone;
    return true;
}

bool idx_resource_begin(index_org_t *org, const PGresult *res, int row, eng_id_t *id,
                        idx_resource_load_t *load, idx_tally_t *tally)
{
    return begin(org, res, row, id, load, NULL, tally);
}

bool idx_resource_begin_aside(index_org_t *org, const PGresult *res, int row, eng_id_t *id,
                              idx_resource_load_t *load, eng_resource_t *into, idx_tally_t *tally)
{
    return begin(org, res, row, id, load, into, tally);
}

static bool busy_left(const idx_resource_load_t *load)
{
    return load->busy[0].left > 0 || load->blocks[0].left > 0 || load->external[0].left > 0 ||
           load->series[0].left > 0;
}

bool idx_resource_busy(index_org_t *org, idx_resource_load_t *load, size_t max, idx_tally_t *tally)
{
    for (size_t n = 0; n < max && busy_left(load); n++) {
        if (load->busy[0].left > 0)
            load_one_busy(org, load->resource, load->busy, tally);
        else if (load->blocks[0].left > 0)
            load_one_block(org, load->resource, load->blocks, ENG_BUSY_BLOCK, "blocks", tally);
        else if (load->external[0].left > 0)
            load_one_block(org, load->resource, load->external, ENG_BUSY_EXTERNAL,
                           "external_busy_events", tally);
        else
            load_one_series(org, load, tally);
    }
    if (busy_left(load))
        return false;
    if (load->counted) {
        org->busy_entries += eng_resource_busy_count(load->resource);
        org->busy_bytes += eng_resource_busy_bytes(load->resource);
    }
    return true;
}

bool idx_load_resource(index_org_t *org, const PGresult *res, int row, eng_id_t *id,
                       idx_tally_t *tally)
{
    idx_resource_load_t load;
    if (!idx_resource_begin(org, res, row, id, &load, tally))
        return false;
    idx_resource_busy(org, &load, SIZE_MAX, tally);
    return load.became_usable;
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
