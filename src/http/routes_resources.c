/*
 * Resources (staff, rooms, equipment) and their date overrides:
 *   POST/GET /v1/resources, GET/PATCH/DELETE /v1/resources/{id},
 *   GET /v1/resources/{id}/overrides, PUT/DELETE /v1/resources/{id}/overrides/{date}.
 *
 * Each handler reads as JSON in → domain call → JSON out: the body is decoded
 * into a domain_resource_input_t or one day's hours (types only: text, an id,
 * WEEK, a date), the domain checks the rules and runs the typed store, and
 * what comes back is rendered here. A resource's zone defaults to its
 * location's, else the organization's; a location it names must be a live
 * one (400 location_id otherwise). DELETE is a soft delete: the resource
 * stops being offered, its bookings stay. Writes answer once the resource is
 * reloaded in the index (read your writes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/resources.h"
#include "http/fields.h"
#include "http/routes.h"
#include "slotd/codec.h"
#include "slotd/tz.h"

/* The fields a client may send; id, created_at and updated_at are the service's. */
static const char *const resource_fields[] = {
    "kind", "name", "location_id", "email", "phone", "timezone", "working_hours", "active", NULL};

/* The API's form of a resource, or NULL when a stored text is not valid UTF-8. */
static json_t *resource_json(const store_resource_t *resource)
{
    char id[37], location[37];
    codec_format_uuid(&resource->id, id);
    if (resource->has_location)
        codec_format_uuid(&resource->location_id, location);
    /* "o" steals even when json_pack fails, and a NULL value makes it fail: no leak, no crash */
    return json_pack(
        "{s:s, s:s, s:s, s:o, s:o, s:o, s:s, s:o, s:b, s:o, s:o}", "id", id, "kind", resource->kind,
        "name", resource->name, "location_id",
        http_json_text(resource->has_location ? location : NULL), "email",
        http_json_text(resource->email), "phone", http_json_text(resource->phone), "timezone",
        resource->timezone, "working_hours", codec_week_to_json(&resource->working_hours), "active",
        resource->active, "created_at",
        http_json_instant(resource->organization_timezone, resource->created_at), "updated_at",
        http_json_instant(resource->organization_timezone, resource->updated_at));
}

static void respond_written(http_ctx_t *ctx, int status, int error,
                            const store_resource_t *resource)
{
    json_t *body;
    http_wait_end(ctx);
    if (error == STORE_EREFERENCE)
        http_respond_invalid(ctx, "location_id", "No such location.");
    else if (error)
        http_respond_store_error(ctx, error, "resource");
    else if ((body = http_rendered(ctx, resource_json(resource), "resource")) != NULL)
        http_respond_after_index(ctx, status, body, INDEX_RESOURCE, &resource->id);
    http_wait_release(ctx);
}

static void on_created(int error, const store_resource_t *resource, void *arg)
{
    respond_written(arg, 201, error, resource);
}

static void on_patched(int error, const store_resource_t *resource, void *arg)
{
    respond_written(arg, 200, error, resource);
}

/* Decodes a body into the domain's input; false after answering 400. */
static bool decode(http_ctx_t *ctx, domain_resource_input_t *input, eng_week_t *week,
                   eng_id_t *location)
{
    bool present, hours_present, hours_null, location_null;
    char location_text[37];
    memset(input, 0, sizeof(*input));
    if (!http_body_object(ctx) || !http_fields_known(ctx, ctx->body, resource_fields) ||
        !http_field_text(ctx, ctx->body, "kind", false, &input->kind, &present) ||
        !http_field_text(ctx, ctx->body, "name", false, &input->name, &present) ||
        !http_field_uuid(ctx, ctx->body, "location_id", true, location_text, &input->location_set,
                         &location_null) ||
        !http_field_text(ctx, ctx->body, "email", true, &input->email, &input->email_set) ||
        !http_field_text(ctx, ctx->body, "phone", true, &input->phone, &input->phone_set) ||
        !http_field_text(ctx, ctx->body, "timezone", true, &input->timezone,
                         &input->timezone_set) ||
        !http_field_bool(ctx, ctx->body, "active", &input->active, &input->active_set) ||
        !http_field_week_value(ctx, ctx->body, "working_hours", false, week, &hours_present,
                               &hours_null))
        return false;
    if (!location_null && codec_parse_uuid(location_text, location) == 0)
        input->location_id = location;
    input->working_hours = hours_present ? week : NULL;
    return true;
}

void http_resources_create(http_ctx_t *ctx)
{
    domain_resource_input_t input;
    domain_error_t error;
    eng_week_t week;
    eng_id_t location;
    if (decode(ctx, &input, &week, &location))
        http_await(ctx,
                   domain_resources_create(http_pool(ctx), &ctx->organization, &input, on_created,
                                           ctx, &error),
                   &error);
}

void http_resources_patch(http_ctx_t *ctx)
{
    char id_text[37];
    eng_id_t id, location;
    domain_resource_input_t input;
    domain_error_t error;
    eng_week_t week;
    if (http_path_id(ctx, 0, "resource", id_text, &id) && decode(ctx, &input, &week, &location))
        http_await(ctx,
                   domain_resources_update(http_pool(ctx), &ctx->organization, &id, &input,
                                           on_patched, ctx, &error),
                   &error);
}

static void on_got(int error, const store_resource_t *resource, void *arg)
{
    http_ctx_t *ctx = arg;
    json_t *body;
    http_wait_end(ctx);
    if (error)
        http_respond_store_error(ctx, error, "resource");
    else if ((body = http_rendered(ctx, resource_json(resource), "resource")) != NULL)
        http_respond(ctx, 200, body);
    http_wait_release(ctx);
}

void http_resources_get(http_ctx_t *ctx)
{
    char id_text[37];
    eng_id_t id;
    domain_error_t error;
    if (http_path_id(ctx, 0, "resource", id_text, &id))
        http_await(
            ctx, domain_resources_get(http_pool(ctx), &ctx->organization, &id, on_got, ctx, &error),
            &error);
}

static void on_page(int error, const store_resource_t *items, size_t count, bool more, void *arg)
{
    http_ctx_t *ctx = arg;
    http_wait_end(ctx);
    if (error) {
        http_respond_store_error(ctx, error, "resource");
    } else {
        json_t *list = json_array();
        bool ok = true;
        for (size_t i = 0; i < count && ok; i++)
            ok = json_array_append_new(list, resource_json(&items[i])) == 0;
        if (!ok) {
            json_decref(list);
            list = NULL;
        }
        http_respond_items(ctx, list, more ? &items[count - 1].id : NULL, "resource");
    }
    http_wait_release(ctx);
}

void http_resources_list(http_ctx_t *ctx)
{
    int limit;
    eng_id_t after;
    const eng_id_t *cursor;
    domain_error_t error;
    if (http_list_page(ctx, &limit, &after, &cursor))
        http_await(ctx,
                   domain_resources_list(http_pool(ctx), &ctx->organization, cursor, limit, on_page,
                                         ctx, &error),
                   &error);
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

/* A deletion of the resource or of one of its overrides: 204, or 404 naming `what`. */
static void respond_deleted(http_ctx_t *ctx, int error, const char *what)
{
    http_wait_end(ctx);
    if (error)
        http_respond_store_error(ctx, error, what);
    else
        respond_after_path_resource(ctx, 204, NULL);
    http_wait_release(ctx);
}

static void on_deleted(int error, void *arg)
{
    respond_deleted(arg, error, "resource");
}

void http_resources_delete(http_ctx_t *ctx)
{
    char id_text[37];
    eng_id_t id;
    domain_error_t error;
    if (http_path_id(ctx, 0, "resource", id_text, &id))
        http_await(ctx,
                   domain_resources_delete(http_pool(ctx), &ctx->organization, &id, on_deleted, ctx,
                                           &error),
                   &error);
}

/* ---- date overrides ------------------------------------------------------------------------ */

/* The API's form of an override: {"date","hours"}, the hours as a WEEK's day. */
static json_t *override_json(const store_override_t *override)
{
    tz_date_t d = tz_civil_from_days(override->day);
    char date[16];
    snprintf(date, sizeof(date), "%04d-%02d-%02d", (int)d.year, (int)d.month, (int)d.day);
    eng_week_t week = {0};
    week.day[0] = override->hours;
    json_t *whole = codec_week_to_json(&week);
    json_t *hours = json_incref(json_object_get(whole, "mon"));
    json_decref(whole);
    return json_pack("{s:s, s:o}", "date", date, "hours", hours);
}

static bool path_date(http_ctx_t *ctx, int index, int32_t *day)
{
    if (ctx->params[index] == NULL || tz_parse_date(ctx->params[index], day) != 0) {
        http_respond_invalid(ctx, "date", "The date must be YYYY-MM-DD.");
        return false;
    }
    return true;
}

static void on_override_put(int error, const store_override_t *override, bool created, void *arg)
{
    http_ctx_t *ctx = arg;
    json_t *body;
    http_wait_end(ctx);
    if (error)
        http_respond_store_error(ctx, error, "resource");
    else if ((body = http_rendered(ctx, override_json(override), "override")) != NULL)
        respond_after_path_resource(ctx, created ? 201 : 200, body);
    http_wait_release(ctx);
}

/* The body's hours into *hours (NULL when absent: the domain requires them); false after
 * answering 400. */
static bool decode_hours(http_ctx_t *ctx, eng_day_hours_t *hours, const eng_day_hours_t **out)
{
    static const char *const allowed[] = {"hours", NULL}; /* the date is the path's */
    char field[CODEC_FIELD_MAX];
    *out = NULL;
    if (!http_body_object(ctx) || !http_fields_known(ctx, ctx->body, allowed))
        return false;
    const json_t *value = json_object_get(ctx->body, "hours");
    if (value == NULL)
        return true;
    int rc = codec_day_hours_from_json(value, "hours", hours, field, sizeof(field));
    if (rc) {
        http_respond_invalid(ctx, field,
                             rc == ENG_ERANGE_OVERLAP ? "Ranges of one day must not overlap."
                             : rc == ENG_ERANGE_ORDER
                                 ? "A range must end after it starts."
                                 : "hours is a list of [\"HH:MM\",\"HH:MM\"].");
        return false;
    }
    *out = hours;
    return true;
}

void http_overrides_put(http_ctx_t *ctx)
{
    char id_text[37];
    eng_id_t resource;
    int32_t day;
    eng_day_hours_t hours;
    const eng_day_hours_t *given;
    domain_error_t error;
    if (http_path_id(ctx, 0, "resource", id_text, &resource) && path_date(ctx, 1, &day) &&
        decode_hours(ctx, &hours, &given))
        http_await(ctx,
                   domain_overrides_put(http_pool(ctx), &ctx->organization, &resource, day, given,
                                        on_override_put, ctx, &error),
                   &error);
}

static void on_override_deleted(int error, void *arg)
{
    respond_deleted(arg, error, "override");
}

void http_overrides_delete(http_ctx_t *ctx)
{
    char id_text[37];
    eng_id_t resource;
    int32_t day;
    domain_error_t error;
    if (http_path_id(ctx, 0, "resource", id_text, &resource) && path_date(ctx, 1, &day))
        http_await(ctx,
                   domain_overrides_delete(http_pool(ctx), &ctx->organization, &resource, day,
                                           on_override_deleted, ctx, &error),
                   &error);
}

static void on_override_page(int error, const store_override_t *items, size_t count, bool more,
                             void *arg)
{
    http_ctx_t *ctx = arg;
    json_t *list = json_array();
    for (size_t i = 0; i < count; i++)
        json_array_append_new(list, override_json(&items[i]));
    /* the cursor is the page's last date */
    json_t *last = more ? json_object_get(json_array_get(list, count - 1), "date") : NULL;
    http_wait_end(ctx);
    if (error)
        http_respond_store_error(ctx, error, "resource");
    else
        http_respond(
            ctx, 200,
            json_pack("{s:O, s:O}", "items", list, "next_cursor", last ? last : json_null()));
    json_decref(list);
    http_wait_release(ctx);
}

/* ?from=, ?to= and ?cursor= (dates, each optional) and ?limit= (1..1000, default 100); false
 * after answering 400. */
static bool override_list_params(http_ctx_t *ctx, int32_t days[3], bool given[3], int *limit)
{
    static const char *const names[3] = {"from", "to", "cursor"};
    char buffer[64];
    for (int i = 0; i < 3; i++) {
        const char *text = http_query_param(ctx, names[i], buffer, sizeof(buffer));
        given[i] = text != NULL;
        if (text && tz_parse_date(text, &days[i]) != 0) {
            char message[128];
            snprintf(message, sizeof(message),
                     "%s is not a date of the calendar: use YYYY-MM-DD, e.g. 2026-03-01.",
                     names[i]);
            http_respond_invalid(ctx, names[i], message);
            return false;
        }
    }
    *limit = 100;
    const char *limit_text = http_query_param(ctx, "limit", buffer, sizeof(buffer));
    if (limit_text) {
        char *end;
        long n = strtol(limit_text, &end, 10);
        if (*limit_text == 0 || *end || n < 1 || n > 1000) {
            http_respond_invalid(ctx, "limit", "limit must be a whole number from 1 to 1000.");
            return false;
        }
        *limit = (int)n;
    }
    return true;
}

void http_overrides_list(http_ctx_t *ctx)
{
    char id_text[37];
    eng_id_t resource;
    int32_t days[3];
    bool given[3];
    int limit;
    domain_error_t error;
    if (http_path_id(ctx, 0, "resource", id_text, &resource) &&
        override_list_params(ctx, days, given, &limit))
        http_await(ctx,
                   domain_overrides_list(http_pool(ctx), &ctx->organization, &resource,
                                         given[0] ? &days[0] : NULL, given[1] ? &days[1] : NULL,
                                         given[2] ? &days[2] : NULL, limit, on_override_page, ctx,
                                         &error),
                   &error);
}
