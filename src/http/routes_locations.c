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
        "address", http_json_text(location->address), "phone", http_json_text(location->phone),
        "timezone", location->timezone, "business_hours",
        location->has_business_hours ? codec_week_to_json(&location->business_hours) : json_null(),
        "closures", closures, "created_at",
        http_json_instant(location->organization_timezone, location->created_at), "updated_at",
        http_json_instant(location->organization_timezone, location->updated_at));
}

static void respond_written(http_ctx_t *ctx, int status, int error,
                            const store_location_t *location)
{
    json_t *body;
    http_wait_end(ctx);
    if (error)
        http_respond_store_error(ctx, error, "location");
    else if ((body = http_rendered(ctx, location_json(location), "location")) != NULL)
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
        http_await(ctx,
                   domain_locations_create(http_pool(ctx), &ctx->organization, &input, on_created,
                                           ctx, &error),
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
        http_await(ctx,
                   domain_locations_update(http_pool(ctx), &ctx->organization, &id, &input,
                                           on_patched, ctx, &error),
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
    else if ((body = http_rendered(ctx, location_json(location), "location")) != NULL)
        http_respond(ctx, 200, body);
    http_wait_release(ctx);
}

void http_locations_get(http_ctx_t *ctx)
{
    char id_text[37];
    eng_id_t id;
    domain_error_t error;
    if (http_path_id(ctx, 0, "location", id_text, &id))
        http_await(
            ctx, domain_locations_get(http_pool(ctx), &ctx->organization, &id, on_got, ctx, &error),
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
        if (!ok) {
            json_decref(list);
            list = NULL;
        }
        http_respond_items(ctx, list, more ? &items[count - 1].id : NULL, "location");
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
    http_await(ctx,
               domain_locations_list(http_pool(ctx), &ctx->organization,
                                     has_cursor ? &cursor : NULL, limit, on_page, ctx, &error),
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
        http_await(ctx,
                   domain_locations_delete(http_pool(ctx), &ctx->organization, &id, on_deleted, ctx,
                                           &error),
                   &error);
}
