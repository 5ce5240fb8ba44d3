/*
 * Resources (staff, rooms, equipment) and their date overrides:
 *   POST/GET /v1/resources, GET/PATCH/DELETE /v1/resources/{id},
 *   GET /v1/resources/{id}/overrides, PUT/DELETE /v1/resources/{id}/overrides/{date}.
 *
 * Writes go to PostgreSQL; the index follows through NOTIFY. DELETE is a soft
 * delete: the resource stops being offered, its bookings stay.
 */
#include <stdio.h>
#include <string.h>

#include "http/fields.h"
#include "http/routes.h"
#include "slotd/codec.h"

/* RESOURCE_COLUMNS: id, kind, name, location_id, email, phone, zone, working_hours, active,
 * created, updated, organization zone */
static json_t *resource_json(const PGresult *res, int row)
{
    return json_pack(
        "{s:s, s:s, s:s, s:o, s:o, s:o, s:s, s:o, s:b, s:o, s:o}", "id", PQgetvalue(res, row, 0),
        "kind", PQgetvalue(res, row, 1), "name", PQgetvalue(res, row, 2), "location_id",
        http_text_column(res, row, 3), "email", http_text_column(res, row, 4), "phone",
        http_text_column(res, row, 5), "timezone", PQgetvalue(res, row, 6), "working_hours",
        codec_week_ordered(http_json_column(res, row, 7, json_object())), "active",
        strcmp(PQgetvalue(res, row, 8), "t") == 0, "created_at",
        http_instant_column(res, row, 9, 11), "updated_at", http_instant_column(res, row, 10, 11));
}

/* Answers with a resource row once the index has it. */
static void respond_resource(http_ctx_t *ctx, int status, const PGresult *res)
{
    eng_id_t id;
    if (codec_parse_uuid(PQgetvalue(res, 0, 0), &id) != 0) {
        http_respond(ctx, status, resource_json(res, 0));
        return;
    }
    http_respond_after_index(ctx, status, resource_json(res, 0), INDEX_RESOURCE, &id);
}

static void on_created(http_ctx_t *ctx, const PGresult *res, const char *sqlstate)
{
    if (sqlstate)
        http_respond_database_error(ctx, sqlstate);
    else if (PQntuples(res) != 1)
        http_respond_invalid(ctx, "location_id", "No such location.");
    else
        respond_resource(ctx, 201, res);
}

static const char *const resource_fields[] = {
    "kind", "name", "location_id", "email", "phone", "timezone", "working_hours", "active", NULL};

static bool valid_kind(http_ctx_t *ctx, const char *kind)
{
    if (kind == NULL || strcmp(kind, "staff") == 0 || strcmp(kind, "room") == 0 ||
        strcmp(kind, "equipment") == 0)
        return true;
    http_respond_invalid(ctx, "kind", "kind must be staff, room or equipment.");
    return false;
}

void http_resources_create(http_ctx_t *ctx)
{
    const char *kind, *name, *email, *phone, *zone;
    char location[37], *hours = NULL;
    bool present, location_null, active = true;
    if (!http_body_object(ctx) || !http_fields_known(ctx, ctx->body, resource_fields) ||
        !http_field_string(ctx, ctx->body, "kind", 1, 20, true, false, &kind, &present) ||
        !valid_kind(ctx, kind) ||
        !http_field_string(ctx, ctx->body, "name", 1, 200, true, false, &name, &present) ||
        !http_field_uuid(ctx, ctx->body, "location_id", true, location, &present, &location_null) ||
        !http_field_string(ctx, ctx->body, "email", 1, 320, false, true, &email, &present) ||
        !http_field_string(ctx, ctx->body, "phone", 1, 50, false, true, &phone, &present) ||
        !http_field_zone(ctx, ctx->body, "timezone", true, &zone, &present) ||
        !http_field_bool(ctx, ctx->body, "active", &active, &present) ||
        !http_field_week(ctx, ctx->body, "working_hours", true, false, &hours, &present))
        return;
    const char *values[9] = {ctx->organization_text,
                             kind,
                             name,
                             location_null ? NULL : location,
                             email,
                             phone,
                             zone,
                             hours,
                             active ? "true" : "false"};
    http_query(ctx, "res_insert", 9, values, on_created);
    free(hours);
}

void http_resources_get(http_ctx_t *ctx)
{
    http_route_get(ctx, "resource", "res_get", resource_json);
}

void http_resources_list(http_ctx_t *ctx)
{
    http_route_list(ctx, "res_list", resource_json);
}

/* A PATCH that changed nothing: the resource is missing, or the location is. */
static void on_exists_after_patch(http_ctx_t *ctx, const PGresult *res, const char *sqlstate)
{
    if (sqlstate)
        http_respond_database_error(ctx, sqlstate);
    else if (PQntuples(res) == 0)
        http_respond_not_found(ctx, "resource");
    else
        http_respond_invalid(ctx, "location_id", "No such location.");
}

static void on_patched(http_ctx_t *ctx, const PGresult *res, const char *sqlstate)
{
    if (sqlstate) {
        http_respond_database_error(ctx, sqlstate);
    } else if (PQntuples(res) != 1) {
        char id[37];
        eng_id_t parsed;
        if (http_path_id(ctx, 0, "resource", id, &parsed)) {
            const char *values[2] = {ctx->organization_text, id};
            http_query(ctx, "res_exists", 2, values, on_exists_after_patch);
        }
    } else {
        respond_resource(ctx, 200, res);
    }
}

void http_resources_patch(http_ctx_t *ctx)
{
    char id[37], location[37], *hours = NULL;
    eng_id_t parsed;
    const char *kind, *name, *email, *phone, *zone;
    bool location_sent, location_null, email_sent, phone_sent, zone_sent, active_sent, unused;
    bool active = true;
    if (!http_path_id(ctx, 0, "resource", id, &parsed) || !http_body_object(ctx) ||
        !http_fields_known(ctx, ctx->body, resource_fields) ||
        !http_field_string(ctx, ctx->body, "kind", 1, 20, false, false, &kind, &unused) ||
        !valid_kind(ctx, kind) ||
        !http_field_string(ctx, ctx->body, "name", 1, 200, false, false, &name, &unused) ||
        !http_field_uuid(ctx, ctx->body, "location_id", true, location, &location_sent,
                         &location_null) ||
        !http_field_string(ctx, ctx->body, "email", 1, 320, false, true, &email, &email_sent) ||
        !http_field_string(ctx, ctx->body, "phone", 1, 50, false, true, &phone, &phone_sent) ||
        !http_field_zone(ctx, ctx->body, "timezone", true, &zone, &zone_sent) ||
        !http_field_bool(ctx, ctx->body, "active", &active, &active_sent) ||
        !http_field_week(ctx, ctx->body, "working_hours", false, false, &hours, &unused))
        return;
    const char *values[14] = {ctx->organization_text,
                              id,
                              kind,
                              name,
                              location_sent ? "true" : "false",
                              location_null ? NULL : location,
                              email_sent ? "true" : "false",
                              email,
                              phone_sent ? "true" : "false",
                              phone,
                              zone_sent ? "true" : "false",
                              zone,
                              hours,
                              active_sent ? (active ? "true" : "false") : NULL};
    http_query(ctx, "res_update", 14, values, on_patched);
    free(hours);
}

/* The resource named in the path, once a write to it (or its overrides) committed. */
static void respond_after_path_resource(http_ctx_t *ctx, int status, json_t *body)
{
    eng_id_t id;
    if (ctx->params[0] && codec_parse_uuid(ctx->params[0], &id) == 0)
        http_respond_after_index(ctx, status, body, INDEX_RESOURCE, &id);
    else if (body)
        http_respond(ctx, status, body);
    else
        http_respond_empty(ctx);
}

static void on_deleted(http_ctx_t *ctx, const PGresult *res, const char *sqlstate)
{
    if (sqlstate)
        http_respond_database_error(ctx, sqlstate);
    else if (PQntuples(res) != 1)
        http_respond_not_found(ctx, "resource");
    else
        respond_after_path_resource(ctx, 204, NULL);
}

void http_resources_delete(http_ctx_t *ctx)
{
    char id[37];
    eng_id_t parsed;
    if (!http_path_id(ctx, 0, "resource", id, &parsed))
        return;
    const char *values[2] = {ctx->organization_text, id};
    http_query(ctx, "res_delete", 2, values, on_deleted);
}

/* ---- date overrides ------------------------------------------------------------------------ */

static json_t *override_json(const PGresult *res, int row, int first)
{
    return json_pack("{s:s, s:o}", "date", PQgetvalue(res, row, first), "hours",
                     http_json_column(res, row, first + 1, json_array()));
}

static bool path_date(http_ctx_t *ctx, int index, char *text11)
{
    int32_t day;
    if (ctx->params[index] == NULL || tz_parse_date(ctx->params[index], &day) != 0) {
        http_respond_invalid(ctx, "date", "The date must be YYYY-MM-DD.");
        return false;
    }
    snprintf(text11, 11, "%s", ctx->params[index]);
    return true;
}

static void on_override_put(http_ctx_t *ctx, const PGresult *res, const char *sqlstate)
{
    if (sqlstate)
        http_respond_database_error(ctx, sqlstate);
    else if (PQntuples(res) != 1)
        http_respond_not_found(ctx, "resource");
    else
        respond_after_path_resource(ctx, strcmp(PQgetvalue(res, 0, 2), "t") == 0 ? 201 : 200,
                                    override_json(res, 0, 0));
}

void http_overrides_put(http_ctx_t *ctx)
{
    char id[37], date[11], field[CODEC_FIELD_MAX];
    eng_id_t parsed;
    static const char *const allowed[] = {"hours", NULL}; /* the date is the path's */
    if (!http_path_id(ctx, 0, "resource", id, &parsed) || !path_date(ctx, 1, date) ||
        !http_body_object(ctx) || !http_fields_known(ctx, ctx->body, allowed))
        return;
    const json_t *value = json_object_get(ctx->body, "hours");
    eng_day_hours_t hours;
    if (value == NULL) {
        http_respond_invalid(ctx, "hours", "hours is required: [[\"10:00\",\"14:00\"]], [] = off.");
        return;
    }
    int rc = codec_day_hours_from_json(value, "hours", &hours, field, sizeof(field));
    if (rc) {
        http_respond_invalid(ctx, field,
                             rc == ENG_ERANGE_OVERLAP ? "Ranges of one day must not overlap."
                             : rc == ENG_ERANGE_ORDER
                                 ? "A range must end after it starts."
                                 : "hours is a list of [\"HH:MM\",\"HH:MM\"].");
        return;
    }
    /* store the normalized form: the week's JSON form of one day */
    eng_week_t week = {0};
    week.day[0] = hours;
    json_t *whole = codec_week_to_json(&week);
    char *text = json_dumps(json_object_get(whole, "mon"), JSON_COMPACT);
    json_decref(whole);
    const char *values[4] = {ctx->organization_text, id, date, text};
    http_query(ctx, "ovr_put", 4, values, on_override_put);
    free(text);
}

static void on_override_deleted(http_ctx_t *ctx, const PGresult *res, const char *sqlstate)
{
    if (sqlstate)
        http_respond_database_error(ctx, sqlstate);
    else if (PQntuples(res) != 1)
        http_respond_not_found(ctx, "override");
    else
        respond_after_path_resource(ctx, 204, NULL);
}

void http_overrides_delete(http_ctx_t *ctx)
{
    char id[37], date[11];
    eng_id_t parsed;
    if (!http_path_id(ctx, 0, "resource", id, &parsed) || !path_date(ctx, 1, date))
        return;
    const char *values[3] = {ctx->organization_text, id, date};
    http_query(ctx, "ovr_delete", 3, values, on_override_deleted);
}

static json_t *override_item(const PGresult *res, int row)
{
    return override_json(res, row, 1);
}

static void on_override_list(http_ctx_t *ctx, const PGresult *res, const char *sqlstate)
{
    if (sqlstate) {
        http_respond_database_error(ctx, sqlstate);
        return;
    }
    if (PQntuples(res) < 1 || strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
        http_respond_not_found(ctx, "resource");
        return;
    }
    int limit = ((route_state_t *)ctx->state)->limit;
    json_t *items = json_array();
    int n = 0;
    for (int row = 0; row < PQntuples(res); row++) {
        if (PQgetisnull(res, row, 1))
            continue;
        if (n++ < limit)
            json_array_append_new(items, override_item(res, row));
    }
    json_t *next = n > limit ? json_string(PQgetvalue(res, limit - 1, 1)) : json_null();
    http_respond(ctx, 200, json_pack("{s:o, s:o}", "items", items, "next_cursor", next));
}

void http_overrides_list(http_ctx_t *ctx)
{
    char id[37], buffers[3][64], fetch[16];
    eng_id_t parsed;
    if (!http_path_id(ctx, 0, "resource", id, &parsed))
        return;
    const char *names[3] = {"from", "to", "cursor"};
    const char *dates[3];
    for (int i = 0; i < 3; i++) {
        int32_t day;
        dates[i] = http_query_param(ctx, names[i], buffers[i], sizeof(buffers[i]));
        if (dates[i] && tz_parse_date(dates[i], &day) != 0) {
            char message[128];
            snprintf(message, sizeof(message),
                     "%s is not a date of the calendar: use YYYY-MM-DD, e.g. 2026-03-01.",
                     names[i]);
            http_respond_invalid(ctx, names[i], message);
            return;
        }
    }
    int limit = 100;
    char limit_buffer[32];
    const char *limit_text = http_query_param(ctx, "limit", limit_buffer, sizeof(limit_buffer));
    if (limit_text) {
        char *end;
        long n = strtol(limit_text, &end, 10);
        if (*limit_text == 0 || *end || n < 1 || n > 1000) {
            http_respond_invalid(ctx, "limit", "limit must be a whole number from 1 to 1000.");
            return;
        }
        limit = (int)n;
    }
    route_state_t *state = calloc(1, sizeof(*state));
    state->limit = limit;
    ctx->state = state;
    ctx->free_state = free;
    snprintf(fetch, sizeof(fetch), "%d", limit + 1);
    const char *values[6] = {ctx->organization_text, id, dates[0], dates[1], dates[2], fetch};
    http_query(ctx, "ovr_list", 6, values, on_override_list);
}
