/*
 * Blocks (time off, breaks, meetings) of a resource:
 *   POST /v1/resources/{id}/blocks          {"start","end","reason"?} or
 *                                           {"rrule","start_local","duration_minutes","reason"?}
 *   GET /v1/resources/{id}/blocks?from=&to=  the concrete occurrences in a window
 *   DELETE /v1/resources/{id}/blocks/{block_id}
 *
 * A recurring block's RRULE is expanded in the resource's zone exactly as the
 * availability engine expands it (the listing runs the engine on the rows it
 * reads), so what the list shows is what makes the resource busy.
 */
#include <stdio.h>
#include <string.h>

#include "http/fields.h"
#include "http/routes.h"
#include "slotd/alloc.h"
#include "slotd/codec.h"

#define MAX_WINDOW_DAYS 62

static const char *const block_fields[] = {
    "start", "end", "rrule", "start_local", "duration_minutes", "reason", NULL};

/* "YYYY-MM-DDTHH:MM[:SS]" into wall seconds. */
static bool parse_local(const char *text, int64_t *wall)
{
    size_t len = strlen(text);
    if ((len != 16 && len != 19) || text[10] != 'T' || text[13] != ':' ||
        (len == 19 && text[16] != ':'))
        return false;
    char date[11];
    memcpy(date, text, 10);
    date[10] = 0;
    int32_t day, h, m, s = 0;
    if (tz_parse_date(date, &day) || !tz_parse_digits(text + 11, 2, &h) ||
        !tz_parse_digits(text + 14, 2, &m) || h > 23 || m > 59 ||
        (len == 19 && (!tz_parse_digits(text + 17, 2, &s) || s > 59)))
        return false;
    *wall = (int64_t)day * TZ_SECONDS_PER_DAY + h * 3600 + m * 60 + s;
    return true;
}

/* blk_insert: id, start, end, rrule, start_local, duration, reason, org zone */
static json_t *block_json(const PGresult *res, const char *resource_id)
{
    tz_zone_t *zone;
    if (tz_zone_find(PQgetvalue(res, 0, 7), &zone) != 0)
        tz_zone_find("UTC", &zone);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(PQgetvalue(res, 0, 0)));
    json_object_set_new(o, "resource_id", json_string(resource_id));
    for (int col = 1; col <= 2; col++) {
        char text[40];
        if (PQgetisnull(res, 0, col)) {
            json_object_set_new(o, col == 1 ? "start" : "end", json_null());
            continue;
        }
        codec_format_instant(zone, strtoll(PQgetvalue(res, 0, col), NULL, 10), text, sizeof(text));
        json_object_set_new(o, col == 1 ? "start" : "end", json_string(text));
    }
    json_object_set_new(o, "rrule", http_text_column(res, 0, 3));
    json_object_set_new(o, "start_local", http_text_column(res, 0, 4));
    json_object_set_new(o, "duration_minutes", http_integer_column(res, 0, 5));
    json_object_set_new(o, "reason", http_text_column(res, 0, 6));
    return o;
}

static void on_created(http_ctx_t *ctx, const PGresult *res, const char *sqlstate)
{
    eng_id_t id;
    if (sqlstate)
        http_respond_database_error(ctx, sqlstate);
    else if (PQntuples(res) != 1 || codec_parse_uuid(ctx->params[0], &id) != 0)
        http_respond_not_found(ctx, "resource");
    else
        http_respond_after_index(ctx, 201, block_json(res, ctx->params[0]), INDEX_RESOURCE, &id);
}

void http_blocks_create(http_ctx_t *ctx)
{
    char resource[37];
    eng_id_t parsed;
    const char *start_text, *end_text, *rrule, *start_local, *reason;
    long long duration = 0;
    bool present, duration_sent;
    if (!http_path_id(ctx, 0, "resource", resource, &parsed) || !http_body_object(ctx) ||
        !http_fields_known(ctx, ctx->body, block_fields) ||
        !http_field_string(ctx, ctx->body, "start", 1, 64, false, false, &start_text, &present) ||
        !http_field_string(ctx, ctx->body, "end", 1, 64, false, false, &end_text, &present) ||
        !http_field_string(ctx, ctx->body, "rrule", 1, 1024, false, false, &rrule, &present) ||
        !http_field_string(ctx, ctx->body, "start_local", 1, 32, false, false, &start_local,
                           &present) ||
        !http_field_int(ctx, ctx->body, "duration_minutes", 1, 31 * 24 * 60, false, false,
                        &duration, &duration_sent, NULL) ||
        !http_field_string(ctx, ctx->body, "reason", 1, 500, false, true, &reason, &present))
        return;
    bool once = start_text || end_text;
    bool recurring = rrule || start_local || duration_sent;
    if (once == recurring) {
        http_respond_invalid(ctx, once ? "rrule" : "start",
                             "Send either start and end, or rrule, start_local and "
                             "duration_minutes.");
        return;
    }
    char start[40] = "", end[40] = "", local[24] = "", minutes[16] = "";
    if (once) {
        int64_t s, e;
        int rc = start_text ? codec_parse_instant(start_text, &s) : ENG_EINVAL;
        if (rc) {
            http_respond_invalid(ctx, "start",
                                 rc == ENG_ERANGE
                                     ? "start must lie in 1970-01-01..2199-12-31 (UTC)."
                                     : "start must be an RFC 3339 instant.");
            return;
        }
        rc = end_text ? codec_parse_instant(end_text, &e) : ENG_EINVAL;
        if (rc) {
            http_respond_invalid(ctx, "end",
                                 rc == ENG_ERANGE ? "end must lie in 1970-01-01..2199-12-31 (UTC)."
                                                  : "end must be an RFC 3339 instant.");
            return;
        }
        if (e <= s || e - s > ENG_MAX_BUSY_SECONDS) {
            http_respond_invalid(ctx, "end", "end must be after start, by at most ten years.");
            return;
        }
        /* epoch seconds, not the client's text: fractions dropped, any offset */
        snprintf(start, sizeof(start), "%lld", (long long)s);
        snprintf(end, sizeof(end), "%lld", (long long)e);
    } else {
        int64_t wall;
        if (start_local == NULL || !parse_local(start_local, &wall)) {
            http_respond_invalid(ctx, "start_local",
                                 "start_local is a local date and time, YYYY-MM-DDTHH:MM, "
                                 "in 1970..2199.");
            return;
        }
        if (!duration_sent) {
            http_respond_invalid(ctx, "duration_minutes", "duration_minutes is required.");
            return;
        }
        if (rrule == NULL || eng_recurring_block_check(rrule, wall, (int32_t)duration) != 0) {
            http_respond_invalid(ctx, "rrule",
                                 "rrule must be an RFC 5545 rule, daily or less often (at most "
                                 "one BYHOUR, BYMINUTE and BYSECOND value), with an occurrence "
                                 "within 9 years of start_local; COUNT and UNTIL are optional "
                                 "(not both), and UNTIL may not precede start_local.");
            return;
        }
        snprintf(local, sizeof(local), "%s", start_local);
        snprintf(minutes, sizeof(minutes), "%lld", duration);
    }
    const char *values[8] = {ctx->organization_text, resource,
                             once ? start : NULL,    once ? end : NULL,
                             once ? NULL : rrule,    once ? NULL : local,
                             once ? NULL : minutes,  reason};
    http_query(ctx, "blk_insert", 8, values, on_created);
}

typedef struct {
    int64_t from, to;
    tz_zone_t *display; /* the request's tz, or NULL for the organization's */
} list_state_t;

typedef struct {
    int64_t start, end;
    int row;
} occurrence_t;

static int by_start(const void *a, const void *b)
{
    const occurrence_t *x = a, *y = b;
    return (x->start > y->start) - (x->start < y->start);
}

/* blk_list: exists, zone, org zone, id, start, end, rrule, start_local, duration, reason,
 * exdates */
static void on_list(http_ctx_t *ctx, const PGresult *res, const char *sqlstate)
{
    list_state_t *st = ctx->state;
    if (sqlstate) {
        http_respond_database_error(ctx, sqlstate);
        return;
    }
    if (PQntuples(res) < 1 || strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
        http_respond_not_found(ctx, "resource");
        return;
    }
    tz_zone_t *zone, *display = st->display;
    if (tz_zone_find(PQgetvalue(res, 0, 1), &zone) != 0)
        tz_zone_find("UTC", &zone);
    if (display == NULL && tz_zone_find(PQgetvalue(res, 0, 2), &display) != 0)
        display = zone;

    /* Expand with the engine, in the resource's zone, as availability does. */
    eng_org_t *org = eng_org_new(zone);
    eng_id_t scratch_id = {{0}};
    eng_resource_t *scratch = eng_resource_new(org, &scratch_id, zone);
    occurrence_t *items = NULL;
    size_t count = 0, capacity = 0;
    for (int row = 0; row < PQntuples(res); row++) {
        if (PQgetisnull(res, row, 3))
            continue;
        if (PQgetisnull(res, row, 6)) {
            items = slotd_grow(items, &capacity, count + 1, sizeof(*items));
            items[count++] = (occurrence_t){strtoll(PQgetvalue(res, row, 4), NULL, 10),
                                            strtoll(PQgetvalue(res, row, 5), NULL, 10), row};
            continue;
        }
        int64_t wall;
        json_t *ex = json_loads(PQgetvalue(res, row, 10), 0, NULL);
        int64_t *exdates = slotd_malloc((json_array_size(ex) + 1) * sizeof(int64_t));
        size_t n = 0, k;
        json_t *x;
        json_array_foreach(ex, k, x)
        {
            if (json_is_string(x) && parse_local(json_string_value(x), &exdates[n]))
                n++;
        }
        json_decref(ex);
        if (parse_local(PQgetvalue(res, row, 7), &wall))
            eng_resource_add_recurring_block(scratch, (uint64_t)row, PQgetvalue(res, row, 6), wall,
                                             atoi(PQgetvalue(res, row, 8)), exdates, n);
        free(exdates);
    }
    eng_busy_t *occurrences = NULL;
    size_t occurrence_count = 0, occurrence_capacity = 0;
    eng_resource_recurring_occurrences(scratch, st->from, st->to, &occurrences, &occurrence_count,
                                       &occurrence_capacity);
    for (size_t i = 0; i < occurrence_count; i++) {
        items = slotd_grow(items, &capacity, count + 1, sizeof(*items));
        items[count++] =
            (occurrence_t){occurrences[i].start, occurrences[i].end, (int)occurrences[i].key};
    }
    free(occurrences);
    eng_org_free(org);
    if (count > 1)
        qsort(items, count, sizeof(*items), by_start);

    json_t *list = json_array();
    for (size_t i = 0; i < count; i++) {
        int row = items[i].row;
        char start[40], end[40];
        codec_format_instant(display, items[i].start, start, sizeof(start));
        codec_format_instant(display, items[i].end, end, sizeof(end));
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:o, s:b}", "block_id",
                                              PQgetvalue(res, row, 3), "start", start, "end", end,
                                              "reason", http_text_column(res, row, 9), "recurring",
                                              !PQgetisnull(res, row, 6)));
    }
    free(items);
    http_respond(ctx, 200, json_pack("{s:o, s:n}", "items", list, "next_cursor"));
}

void http_blocks_list(http_ctx_t *ctx)
{
    char resource[37], tz_buffer[64];
    eng_id_t parsed;
    if (!http_path_id(ctx, 0, "resource", resource, &parsed))
        return;
    list_state_t *st = slotd_calloc(1, sizeof(*st));
    ctx->state = st;
    ctx->free_state = free;
    const char *tz = http_query_param(ctx, "tz", tz_buffer, sizeof(tz_buffer));
    if (tz && tz_zone_find(tz, &st->display) != 0) {
        http_respond_invalid(ctx, "tz", "tz must be an IANA time zone, e.g. Europe/Warsaw.");
        return;
    }
    /* dates are read in tz, else the organization's zone (from the index when loaded) */
    tz_zone_t *dates_zone = st->display;
    index_org_t *org = http_index_org(ctx);
    if (dates_zone == NULL)
        dates_zone = org ? eng_org_zone(index_org_engine(org)) : NULL;
    if (dates_zone == NULL)
        tz_zone_find("UTC", &dates_zone);
    const char *names[2] = {"from", "to"};
    int64_t bounds[2];
    for (int i = 0; i < 2; i++)
        if (!http_query_bound(ctx, names[i], dates_zone, i == 1, &bounds[i]))
            return;
    if (bounds[1] < bounds[0] || bounds[1] - bounds[0] > MAX_WINDOW_DAYS * TZ_SECONDS_PER_DAY) {
        http_respond_invalid(ctx, "to", "to must follow from, by at most 62 days.");
        return;
    }
    st->from = bounds[0];
    st->to = bounds[1];
    char from_text[32], to_text[32];
    snprintf(from_text, sizeof(from_text), "%lld", (long long)st->from);
    snprintf(to_text, sizeof(to_text), "%lld", (long long)st->to);
    const char *values[4] = {ctx->organization_text, resource, from_text, to_text};
    http_query(ctx, "blk_list", 4, values, on_list);
}

static void on_deleted(http_ctx_t *ctx, const PGresult *res, const char *sqlstate)
{
    eng_id_t id;
    if (sqlstate)
        http_respond_database_error(ctx, sqlstate);
    else if (PQntuples(res) != 1 || codec_parse_uuid(ctx->params[0], &id) != 0)
        http_respond_not_found(ctx, "block");
    else
        http_respond_after_index(ctx, 204, NULL, INDEX_RESOURCE, &id);
}

void http_blocks_delete(http_ctx_t *ctx)
{
    char resource[37], block[37];
    eng_id_t parsed;
    if (!http_path_id(ctx, 0, "resource", resource, &parsed) ||
        !http_path_id(ctx, 1, "block", block, &parsed))
        return;
    const char *values[3] = {ctx->organization_text, resource, block};
    http_query(ctx, "blk_delete", 3, values, on_deleted);
}
