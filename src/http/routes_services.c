/*
 * Services: POST/GET /v1/services, GET/PATCH/DELETE /v1/services/{id}.
 *
 * A write that names resources first asks the database which of them exist in
 * the caller's organization (not the index, which may lag a just-created
 * resource by a few milliseconds), then writes the service and its requirement
 * groups in one statement.
 */
#include <stdio.h>
#include <string.h>

#include "http/fields.h"
#include "http/routes.h"
#include "slotd/alloc.h"
#include "slotd/codec.h"

#define FIELD_COUNT 17

/* What a create or a patch carries from validation to the write. */
typedef struct {
    char *values[FIELD_COUNT];
    int count;
    char **ids; /* every resource id named, for the existence check */
    size_t id_count;
    char **id_fields; /* the field path of each id */
    bool patch;
} service_write_t;

static void free_write(void *p)
{
    service_write_t *w = p;
    for (int i = 0; i < FIELD_COUNT; i++)
        free(w->values[i]);
    for (size_t i = 0; i < w->id_count; i++) {
        free(w->ids[i]);
        free(w->id_fields[i]);
    }
    free(w->ids);
    free(w->id_fields);
    free(w);
}

static char *copy(const char *s)
{
    return s ? slotd_strdup(s) : NULL;
}

static char *number(long long n)
{
    char buffer[32];
    snprintf(buffer, sizeof(buffer), "%lld", n);
    return slotd_strdup(buffer);
}

/* SERVICE_COLUMNS + requirements: id, name, duration, interval, bb, ba, notice, advance, price,
 * currency, active, created, updated, org zone, requirements */
static json_t *service_json(const PGresult *res, int row)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(PQgetvalue(res, row, 0)));
    json_object_set_new(o, "name", json_string(PQgetvalue(res, row, 1)));
    static const char *const ints[] = {"duration_minutes",      "slot_interval_minutes",
                                       "buffer_before_minutes", "buffer_after_minutes",
                                       "min_notice_minutes",    "max_advance_days"};
    for (int i = 0; i < 6; i++)
        json_object_set_new(o, ints[i], http_integer_column(res, row, 2 + i));
    json_object_set_new(o, "price", http_text_column(res, row, 8));
    json_object_set_new(o, "currency", http_text_column(res, row, 9));
    json_object_set_new(o, "active", json_boolean(strcmp(PQgetvalue(res, row, 10), "t") == 0));
    json_object_set_new(o, "requirements", http_json_column(res, row, 14, json_array()));
    json_object_set_new(o, "created_at", http_instant_column(res, row, 11, 13));
    json_object_set_new(o, "updated_at", http_instant_column(res, row, 12, 13));
    return o;
}

/* Validates "requirements" into normalized JSON text, collecting the ids. */
static bool requirements(http_ctx_t *ctx, const json_t *value, service_write_t *w, char **text)
{
    if (!json_is_array(value) || json_array_size(value) == 0 ||
        json_array_size(value) > ENG_MAX_GROUPS) {
        http_respond_invalid(ctx, "requirements",
                             "requirements is a list of 1 to 8 groups: "
                             "[{\"resource_ids\":[...],\"mode\":\"any\"}].");
        return false;
    }
    json_t *normalized = json_array();
    size_t g;
    json_t *group;
    json_array_foreach(value, g, group)
    {
        char field[CODEC_FIELD_MAX];
        snprintf(field, sizeof(field), "requirements[%zu]", g);
        static const char *const allowed[] = {"resource_ids", "mode", NULL};
        const char *mode = json_string_value(json_object_get(group, "mode"));
        json_t *ids = json_object_get(group, "resource_ids");
        if (!json_is_object(group) || !http_fields_known(ctx, group, allowed)) {
            if (!json_is_object(group))
                http_respond_invalid(ctx, field,
                                     "A group is {\"resource_ids\":[...],\"mode\":...}.");
            json_decref(normalized);
            return false;
        }
        if (mode == NULL || (strcmp(mode, "any") != 0 && strcmp(mode, "all") != 0)) {
            snprintf(field, sizeof(field), "requirements[%zu].mode", g);
            http_respond_invalid(ctx, field, "mode must be any or all.");
            json_decref(normalized);
            return false;
        }
        if (!json_is_array(ids) || json_array_size(ids) == 0 ||
            json_array_size(ids) > ENG_MAX_GROUP_MEMBERS) {
            snprintf(field, sizeof(field), "requirements[%zu].resource_ids", g);
            http_respond_invalid(ctx, field, "resource_ids lists 1 to 256 resource ids.");
            json_decref(normalized);
            return false;
        }
        json_t *clean = json_array();
        size_t k;
        json_t *id;
        json_array_foreach(ids, k, id)
        {
            eng_id_t parsed;
            char text37[37];
            snprintf(field, sizeof(field), "requirements[%zu].resource_ids[%zu]", g, k);
            bool repeated = false;
            if (json_is_string(id) && codec_parse_uuid(json_string_value(id), &parsed) == 0) {
                codec_format_uuid(&parsed, text37);
                for (size_t j = 0; j < json_array_size(clean); j++)
                    repeated |= strcmp(json_string_value(json_array_get(clean, j)), text37) == 0;
            }
            if (!json_is_string(id) || codec_parse_uuid(json_string_value(id), &parsed) != 0 ||
                repeated) {
                http_respond_invalid(ctx, field,
                                     repeated ? "A resource is listed twice in this group."
                                              : "Not a resource id.");
                json_decref(clean);
                json_decref(normalized);
                return false;
            }
            json_array_append_new(clean, json_string(text37));
            w->ids = slotd_realloc(w->ids, (w->id_count + 1) * sizeof(char *));
            w->id_fields = slotd_realloc(w->id_fields, (w->id_count + 1) * sizeof(char *));
            w->ids[w->id_count] = slotd_strdup(text37);
            w->id_fields[w->id_count++] = slotd_strdup(field);
        }
        json_array_append_new(normalized,
                              json_pack("{s:o, s:s}", "resource_ids", clean, "mode", mode));
    }
    *text = json_dumps(normalized, JSON_COMPACT);
    json_decref(normalized);
    return true;
}

/* price: "180.00" or 180 or null; up to 10 digits and 2 decimals. A number is held to the
 * same rule as a string: 0.001 is refused, not rounded to a cent. */
static bool price(http_ctx_t *ctx, const json_t *value, char **text)
{
    char buffer[40];
    const char *s = NULL;
    if (json_is_string(value)) {
        s = json_string_value(value);
    } else if (json_is_number(value) && json_number_value(value) >= 0 &&
               json_number_value(value) < 1e10) {
        double v = json_number_value(value);
        snprintf(buffer, sizeof(buffer), "%.2f", v);
        /* whole cents only: the nearest cent must give back the number itself */
        if (strtod(buffer, NULL) == v)
            s = buffer;
    }
    bool ok = s != NULL && *s != 0 && strlen(s) <= 13;
    int digits = 0, decimals = -1;
    for (const char *p = s; ok && *p; p++) {
        if (*p == '.' && decimals < 0)
            decimals = 0;
        else if (*p >= '0' && *p <= '9')
            decimals < 0 ? digits++ : decimals++;
        else
            ok = false;
    }
    ok = ok && digits >= 1 && digits <= 10 && decimals != 0 && decimals <= 2;
    if (!ok) {
        http_respond_invalid(ctx, "price", "price is a decimal like \"180.00\", or null.");
        return false;
    }
    *text = slotd_strdup(s);
    return true;
}

static bool currency(http_ctx_t *ctx, const json_t *value, char **text)
{
    const char *s = json_string_value(value);
    bool ok = s && strlen(s) == 3;
    for (int i = 0; ok && i < 3; i++)
        ok = s[i] >= 'A' && s[i] <= 'Z';
    if (!ok) {
        http_respond_invalid(ctx, "currency",
                             "currency is an ISO 4217 code like \"PLN\", or null.");
        return false;
    }
    *text = slotd_strdup(s);
    return true;
}

static const char *const service_fields[] = {"name",
                                             "duration_minutes",
                                             "slot_interval_minutes",
                                             "buffer_before_minutes",
                                             "buffer_after_minutes",
                                             "min_notice_minutes",
                                             "max_advance_days",
                                             "price",
                                             "currency",
                                             "active",
                                             "requirements",
                                             NULL};

/* Parses the body into w (positions as in svc_update). Returns false after answering. */
static bool parse_service(http_ctx_t *ctx, service_write_t *w, bool creating)
{
    const json_t *b = ctx->body;
    const char *name;
    long long duration = 0, interval = 0, before = 0, after = 0, notice = 0, advance = 0;
    bool present, interval_sent, interval_null, advance_sent, advance_null, active = true,
                                                                            active_sent;
    bool duration_sent, before_sent, after_sent, notice_sent;
    if (!http_fields_known(ctx, b, service_fields) ||
        !http_field_string(ctx, b, "name", 1, 200, creating, false, &name, &present) ||
        !http_field_int(ctx, b, "duration_minutes", 1, ENG_MAX_DURATION_MINUTES, creating, false,
                        &duration, &duration_sent, NULL) ||
        !http_field_int(ctx, b, "slot_interval_minutes", 1, ENG_MAX_DURATION_MINUTES, false, true,
                        &interval, &interval_sent, &interval_null) ||
        !http_field_int(ctx, b, "buffer_before_minutes", 0, ENG_MAX_BUFFER_MINUTES, false, false,
                        &before, &before_sent, NULL) ||
        !http_field_int(ctx, b, "buffer_after_minutes", 0, ENG_MAX_BUFFER_MINUTES, false, false,
                        &after, &after_sent, NULL) ||
        !http_field_int(ctx, b, "min_notice_minutes", 0, ENG_MAX_NOTICE_MINUTES, false, false,
                        &notice, &notice_sent, NULL) ||
        !http_field_int(ctx, b, "max_advance_days", 0, ENG_MAX_HORIZON_DAYS, false, true, &advance,
                        &advance_sent, &advance_null) ||
        !http_field_bool(ctx, b, "active", &active, &active_sent))
        return false;
    const json_t *p = json_object_get(b, "price"), *c = json_object_get(b, "currency");
    char *price_text = NULL, *currency_text = NULL, *groups = NULL;
    if ((p && !json_is_null(p) && !price(ctx, p, &price_text)) ||
        (c && !json_is_null(c) && !currency(ctx, c, &currency_text))) {
        free(price_text);
        free(currency_text);
        return false;
    }
    const json_t *req = json_object_get(b, "requirements");
    if (creating && req == NULL) {
        http_respond_invalid(ctx, "requirements", "requirements is required.");
        free(price_text);
        free(currency_text);
        return false;
    }
    if (req && !requirements(ctx, req, w, &groups)) {
        free(price_text);
        free(currency_text);
        return false;
    }
    /* svc_update's parameter order ($3..$17); create maps it below */
    w->values[2] = copy(name);
    w->values[3] = duration_sent ? number(duration) : NULL;
    w->values[4] = copy(interval_sent ? "true" : "false");
    w->values[5] = interval_sent && !interval_null ? number(interval) : NULL;
    w->values[6] = before_sent || creating ? number(before) : NULL;
    w->values[7] = after_sent || creating ? number(after) : NULL;
    w->values[8] = notice_sent || creating ? number(notice) : NULL;
    w->values[9] = copy(advance_sent ? "true" : "false");
    w->values[10] = advance_sent && !advance_null ? number(advance) : NULL;
    w->values[11] = copy(p ? "true" : "false");
    w->values[12] = price_text;
    w->values[13] = copy(c ? "true" : "false");
    w->values[14] = currency_text;
    w->values[15] = active_sent || creating ? copy(active ? "true" : "false") : NULL;
    w->values[16] = groups;
    return true;
}

static void on_written(http_ctx_t *ctx, const PGresult *res, const char *sqlstate)
{
    service_write_t *w = ctx->state;
    if (sqlstate && strcmp(sqlstate, "23503") == 0) /* a resource deleted since the check */
        http_respond_invalid(ctx, "requirements", "No such resource.");
    else if (sqlstate)
        http_respond_database_error(ctx, sqlstate);
    else if (PQntuples(res) != 1)
        http_respond_not_found(ctx, "service");
    else {
        eng_id_t id;
        if (codec_parse_uuid(PQgetvalue(res, 0, 0), &id) == 0)
            http_respond_after_index(ctx, w->patch ? 200 : 201, service_json(res, 0), INDEX_SERVICE,
                                     &id);
        else
            http_respond(ctx, w->patch ? 200 : 201, service_json(res, 0));
    }
}

static void write_service(http_ctx_t *ctx)
{
    service_write_t *w = ctx->state;
    w->values[0] = copy(ctx->organization_text);
    if (w->patch) {
        http_query(ctx, "svc_update", 17, (const char *const *)w->values, on_written);
        return;
    }
    const char *values[12] = {w->values[0],  w->values[2],  w->values[3],  w->values[5],
                              w->values[6],  w->values[7],  w->values[8],  w->values[10],
                              w->values[12], w->values[14], w->values[15], w->values[16]};
    http_query(ctx, "svc_insert", 12, values, on_written);
}

static void on_resources_checked(http_ctx_t *ctx, const PGresult *res, const char *sqlstate)
{
    service_write_t *w = ctx->state;
    if (sqlstate) {
        http_respond_database_error(ctx, sqlstate);
        return;
    }
    for (size_t i = 0; i < w->id_count; i++) {
        bool found = false;
        for (int row = 0; row < PQntuples(res) && !found; row++)
            found = strcmp(PQgetvalue(res, row, 0), w->ids[i]) == 0;
        if (!found) {
            http_respond_invalid(ctx, w->id_fields[i], "No such resource.");
            return;
        }
    }
    write_service(ctx);
}

static void check_then_write(http_ctx_t *ctx)
{
    service_write_t *w = ctx->state;
    if (w->id_count == 0) {
        write_service(ctx);
        return;
    }
    size_t size = 3;
    for (size_t i = 0; i < w->id_count; i++)
        size += strlen(w->ids[i]) + 1;
    char *array = slotd_malloc(size), *p = array;
    *p++ = '{';
    for (size_t i = 0; i < w->id_count; i++) {
        if (i)
            *p++ = ',';
        strcpy(p, w->ids[i]);
        p += strlen(w->ids[i]);
    }
    *p++ = '}';
    *p = 0;
    const char *values[2] = {ctx->organization_text, array};
    http_query(ctx, "svc_check_resources", 2, values, on_resources_checked);
    free(array);
}

void http_services_create(http_ctx_t *ctx)
{
    if (!http_body_object(ctx))
        return;
    service_write_t *w = slotd_calloc(1, sizeof(*w));
    ctx->state = w;
    ctx->free_state = free_write;
    if (parse_service(ctx, w, true))
        check_then_write(ctx);
}

void http_services_patch(http_ctx_t *ctx)
{
    char id[37];
    eng_id_t parsed;
    if (!http_path_id(ctx, 0, "service", id, &parsed) || !http_body_object(ctx))
        return;
    service_write_t *w = slotd_calloc(1, sizeof(*w));
    w->patch = true;
    ctx->state = w;
    ctx->free_state = free_write;
    if (!parse_service(ctx, w, false))
        return;
    w->values[1] = copy(id);
    check_then_write(ctx);
}

void http_services_get(http_ctx_t *ctx)
{
    http_route_get(ctx, "service", "svc_get", service_json);
}

void http_services_list(http_ctx_t *ctx)
{
    http_route_list(ctx, "svc_list", service_json);
}

static void on_deleted(http_ctx_t *ctx, const PGresult *res, const char *sqlstate)
{
    eng_id_t id;
    if (sqlstate)
        http_respond_database_error(ctx, sqlstate);
    else if (PQntuples(res) != 1)
        http_respond_not_found(ctx, "service");
    else if (codec_parse_uuid(PQgetvalue(res, 0, 0), &id) == 0)
        http_respond_after_index(ctx, 204, NULL, INDEX_SERVICE, &id);
    else
        http_respond_empty(ctx);
}

void http_services_delete(http_ctx_t *ctx)
{
    char id[37];
    eng_id_t parsed;
    if (!http_path_id(ctx, 0, "service", id, &parsed))
        return;
    const char *values[2] = {ctx->organization_text, id};
    http_query(ctx, "svc_delete", 2, values, on_deleted);
}
