/*
 * Locations (branches): POST/GET /v1/locations, GET/PATCH/DELETE /v1/locations/{id}.
 *
 * Each handler reads as JSON in → domain call → JSON out: the body is decoded
 * into a domain_location_input_t (types only: text, WEEK, dates), the domain
 * checks the rules and runs the typed store, and the location that comes back
 * is rendered here. A location's zone defaults to the organization's; its
 * business hours, when set, bound its resources instead of the
 * organization's. Deleting a location that still has resources is refused
 * (409 conflict): move or delete them first. Writes answer once the
 * organization is rebuilt in the index (read your writes).
 */
#include <stdio.h>
#include <string.h>

#include "domain/locations.h"
#include "http/fields.h"
#include "http/routes.h"
#include "slotd/codec.h"
#include "slotd/tz.h"

/* The fields a client may send; id, created_at and updated_at are the service's. */
static const char *const location_fields[] = {"name",           "address",  "phone", "timezone",
                                              "business_hours", "closures", NULL};

static json_t *nullable_text(const char *text)
{
    return text ? json_string(text) : json_null();
}

static json_t *instant_json(const char *zone_name, int64_t instant)
{
    tz_zone_t *zone;
    if (tz_zone_find(zone_name, &zone) != 0)
        tz_zone_find("UTC", &zone);
    char text[40];
    codec_format_instant(zone, instant, text, sizeof(text));
    return json_string(text);
}

/* The API's form of a location, or NULL when a stored text is not valid UTF-8. */
static json_t *location_json(const store_location_t *location)
{
    char id[37];
    codec_format_uuid(&location->id, id);
    json_t *closures = json_array();
    for (size_t i = 0; i < location->closure_count; i++) {
        tz_date_t d = tz_civil_from_days(location->closures[i]);
        char day[16];
        snprintf(day, sizeof(day), "%04d-%02d-%02d", (int)d.year, (int)d.month, (int)d.day);
        json_array_append_new(closures, json_string(day));
    }
    /* "o" steals even when json_pack fails, and a NULL value makes it fail: no leak, no crash */
    return json_pack(
        "{s:s, s:s, s:o, s:o, s:s, s:o, s:o, s:o, s:o}", "id", id, "name", location->name,
        "address", nullable_text(location->address), "phone", nullable_text(location->phone),
        "timezone", location->timezone, "business_hours",
        location->has_business_hours ? codec_week_to_json(&location->business_hours) : json_null(),
        "closures", closures, "created_at",
        instant_json(location->organization_timezone, location->created_at), "updated_at",
        instant_json(location->organization_timezone, location->updated_at));
}

/* Answers with a rendered object, or 500 when it could not be rendered. */
static json_t *rendered(http_ctx_t *ctx, json_t *body)
{
    if (body == NULL)
        http_respond_store_error(ctx, STORE_EINTERNAL, "location");
    return body;
}

static void cancel_operation(void *operation)
{
    store_operation_cancel(operation);
}

/* Waits for `operation`, or answers the domain's refusal. */
static void await(http_ctx_t *ctx, store_operation_t *operation, const domain_error_t *error)
{
    if (operation)
        http_wait(ctx, operation, cancel_operation);
    else
        http_respond_domain_error(ctx, error);
}

static void respond_written(http_ctx_t *ctx, int status, int error,
                            const store_location_t *location)
{
    json_t *body;
    http_wait_end(ctx);
    if (error)
        http_respond_store_error(ctx, error, "location");
    else if ((body = rendered(ctx, location_json(location))) != NULL)
        http_respond_after_index(ctx, status, body, INDEX_ORGANIZATION, &ctx->organization);
    http_wait_release(ctx);
}

static void on_created(int error, const store_location_t *location, void *arg)
{
    respond_written(arg, 201, error, location);
}

static void on_patched(int error, const store_location_t *location, void *arg)
{
    respond_written(arg, 200, error, location);
}

/* Decodes a body into the domain's input; false after answering 400. */
static bool decode(http_ctx_t *ctx, domain_location_input_t *input, eng_week_t *week,
                   int32_t **closures)
{
    bool present, hours_null;
    memset(input, 0, sizeof(*input));
    if (!http_body_object(ctx) || !http_fields_known(ctx, ctx->body, location_fields) ||
        !http_field_text(ctx, ctx->body, "name", false, &input->name, &present) ||
        !http_field_text(ctx, ctx->body, "address", true, &input->address, &input->address_set) ||
        !http_field_text(ctx, ctx->body, "phone", true, &input->phone, &input->phone_set) ||
        !http_field_text(ctx, ctx->body, "timezone", true, &input->timezone,
                         &input->timezone_set) ||
        !http_field_week_value(ctx, ctx->body, "business_hours", true, week,
                               &input->business_hours_set, &hours_null) ||
        !http_field_day_list(ctx, ctx->body, "closures", closures, &input->closure_count,
                             &input->closures_set))
        return false;
    input->business_hours = input->business_hours_set && !hours_null ? week : NULL;
    input->closures = *closures;
    return true;
}

void http_locations_create(http_ctx_t *ctx)
{
    domain_location_input_t input;
    domain_error_t error;
    eng_week_t week;
    int32_t *closures = NULL;
    if (decode(ctx, &input, &week, &closures))
        await(ctx,
              domain_locations_create(http_pool(ctx), &ctx->organization, &input, on_created, ctx,
                                      &error),
              &error);
    free(closures);
}

void http_locations_patch(http_ctx_t *ctx)
{
    char id_text[37];
    eng_id_t id;
    domain_location_input_t input;
    domain_error_t error;
    eng_week_t week;
    int32_t *closures = NULL;
    if (http_path_id(ctx, 0, "location", id_text, &id) && decode(ctx, &input, &week, &closures))
        await(ctx,
              domain_locations_update(http_pool(ctx), &ctx->organization, &id, &input, on_patched,
                                      ctx, &error),
              &error);
    free(closures);
}

static void on_got(int error, const store_location_t *location, void *arg)
{
    http_ctx_t *ctx = arg;
    json_t *body;
    http_wait_end(ctx);
    if (error)
        http_respond_store_error(ctx, error, "location");
    else if ((body = rendered(ctx, location_json(location))) != NULL)
        http_respond(ctx, 200, body);
    http_wait_release(ctx);
}

void http_locations_get(http_ctx_t *ctx)
{
    char id_text[37];
    eng_id_t id;
    domain_error_t error;
    if (http_path_id(ctx, 0, "location", id_text, &id))
        await(ctx,
              domain_locations_get(http_pool(ctx), &ctx->organization, &id, on_got, ctx, &error),
              &error);
}

static void on_page(int error, const store_location_t *items, size_t count, bool more, void *arg)
{
    http_ctx_t *ctx = arg;
    http_wait_end(ctx);
    if (error) {
        http_respond_store_error(ctx, error, "location");
    } else {
        json_t *list = json_array();
        bool ok = true;
        for (size_t i = 0; i < count && ok; i++)
            ok = json_array_append_new(list, location_json(&items[i])) == 0;
        char cursor[37];
        if (more)
            codec_format_uuid(&items[count - 1].id, cursor);
        json_t *body = ok ? json_pack("{s:o, s:o}", "items", list, "next_cursor",
                                      more ? json_string(cursor) : json_null())
                          : NULL;
        if (!ok)
            json_decref(list);
        if (rendered(ctx, body))
            http_respond(ctx, 200, body);
    }
    http_wait_release(ctx);
}

void http_locations_list(http_ctx_t *ctx)
{
    int limit;
    char cursor_text[37];
    bool has_cursor;
    eng_id_t cursor;
    domain_error_t error;
    if (!http_list_params(ctx, &limit, cursor_text, &has_cursor))
        return;
    if (has_cursor)
        codec_parse_uuid(cursor_text, &cursor);
    await(ctx,
          domain_locations_list(http_pool(ctx), &ctx->organization, has_cursor ? &cursor : NULL,
                                limit, on_page, ctx, &error),
          &error);
}

static void on_deleted(int error, long resources, void *arg)
{
    http_ctx_t *ctx = arg;
    http_wait_end(ctx);
    if (error == 0)
        http_respond_after_index(ctx, 204, NULL, INDEX_ORGANIZATION, &ctx->organization);
    else if (error == STORE_ECONFLICT)
        http_respond_error(ctx, 409, "conflict",
                           "The location still has resources; move or delete them first.",
                           json_pack("{s:I}", "resources", (json_int_t)resources));
    else
        http_respond_store_error(ctx, error, "location");
    http_wait_release(ctx);
}

void http_locations_delete(http_ctx_t *ctx)
{
    char id_text[37];
    eng_id_t id;
    domain_error_t error;
    if (http_path_id(ctx, 0, "location", id_text, &id))
        await(ctx,
              domain_locations_delete(http_pool(ctx), &ctx->organization, &id, on_deleted, ctx,
                                      &error),
              &error);
}
