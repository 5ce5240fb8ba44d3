/*
 * Locations (branches): POST/GET /v1/locations, GET/PATCH/DELETE /v1/locations/{id}.
 *
 * A location's zone defaults to the organization's; its business hours, when
 * set, bound its resources instead of the organization's. Deleting a location
 * that still has resources is refused (409 conflict): move or delete them first.
 */
#include <stdio.h>
#include <string.h>

#include "http/fields.h"
#include "http/routes.h"
#include "slotd/codec.h"

/* LOCATION_COLUMNS: id, name, address, phone, zone, business_hours, closures, created,
 * updated, org zone */
static json_t *location_json(const PGresult *res, int row)
{
    return json_pack(
        "{s:s, s:s, s:o, s:o, s:s, s:o, s:o, s:o, s:o}", "id", PQgetvalue(res, row, 0), "name",
        PQgetvalue(res, row, 1), "address", http_text_column(res, row, 2), "phone",
        http_text_column(res, row, 3), "timezone", PQgetvalue(res, row, 4), "business_hours",
        codec_week_ordered(http_json_column(res, row, 5, json_null())), "closures",
        http_json_column(res, row, 6, json_array()), "created_at",
        http_instant_column(res, row, 7, 9), "updated_at", http_instant_column(res, row, 8, 9));
}

static const char *const location_fields[] = {"name",           "address",  "phone", "timezone",
                                              "business_hours", "closures", "id",    NULL};

/* A location write answers once the organization is rebuilt in the index. */
static void respond_written(http_ctx_t *ctx, int status, const PGresult *res, const char *sqlstate)
{
    if (sqlstate)
        http_respond_database_error(ctx, sqlstate);
    else if (PQntuples(res) != 1)
        http_respond_not_found(ctx, "location");
    else
        http_respond_after_index(ctx, status, location_json(res, 0), INDEX_ORGANIZATION,
                                 &ctx->organization);
}

static void on_created(http_ctx_t *ctx, const PGresult *res, const char *sqlstate)
{
    respond_written(ctx, 201, res, sqlstate);
}

static void on_patched(http_ctx_t *ctx, const PGresult *res, const char *sqlstate)
{
    respond_written(ctx, 200, res, sqlstate);
}

void http_locations_create(http_ctx_t *ctx)
{
    const char *name, *address, *phone, *zone;
    char *hours = NULL, *closures = NULL;
    bool present;
    if (http_body_object(ctx) && http_fields_known(ctx, ctx->body, location_fields) &&
        http_field_string(ctx, ctx->body, "name", 1, 200, true, false, &name, &present) &&
        http_field_string(ctx, ctx->body, "address", 1, 500, false, true, &address, &present) &&
        http_field_string(ctx, ctx->body, "phone", 1, 50, false, true, &phone, &present) &&
        http_field_zone(ctx, ctx->body, "timezone", true, &zone, &present) &&
        http_field_week(ctx, ctx->body, "business_hours", false, true, &hours, &present) &&
        http_field_dates(ctx, ctx->body, "closures", &closures, &present)) {
        const char *values[7] = {
            ctx->organization_text, name, address, phone, zone, hours, closures};
        http_query(ctx, "loc_insert", 7, values, on_created);
    }
    free(hours);
    free(closures);
}

void http_locations_patch(http_ctx_t *ctx)
{
    char id[37], *hours = NULL, *closures = NULL;
    eng_id_t parsed;
    const char *name, *address, *phone, *zone;
    bool present, address_sent, phone_sent, zone_sent, hours_sent;
    if (http_path_id(ctx, 0, "location", id, &parsed) && http_body_object(ctx) &&
        http_fields_known(ctx, ctx->body, location_fields) &&
        http_field_string(ctx, ctx->body, "name", 1, 200, false, false, &name, &present) &&
        http_field_string(ctx, ctx->body, "address", 1, 500, false, true, &address,
                          &address_sent) &&
        http_field_string(ctx, ctx->body, "phone", 1, 50, false, true, &phone, &phone_sent) &&
        http_field_zone(ctx, ctx->body, "timezone", true, &zone, &zone_sent) &&
        http_field_week(ctx, ctx->body, "business_hours", false, true, &hours, &hours_sent) &&
        http_field_dates(ctx, ctx->body, "closures", &closures, &present)) {
        const char *values[12] = {ctx->organization_text,
                                  id,
                                  name,
                                  address_sent ? "true" : "false",
                                  address,
                                  phone_sent ? "true" : "false",
                                  phone,
                                  zone_sent ? "true" : "false",
                                  zone,
                                  hours_sent ? "true" : "false",
                                  hours,
                                  closures};
        http_query(ctx, "loc_update", 12, values, on_patched);
    }
    free(hours);
    free(closures);
}

void http_locations_get(http_ctx_t *ctx)
{
    http_route_get(ctx, "location", "loc_get", location_json);
}

void http_locations_list(http_ctx_t *ctx)
{
    http_route_list(ctx, "loc_list", location_json);
}

/* loc_delete: live resources, rows deleted, does it (still) exist */
static void on_deleted(http_ctx_t *ctx, const PGresult *res, const char *sqlstate)
{
    if (sqlstate) {
        http_respond_database_error(ctx, sqlstate);
    } else if (strcmp(PQgetvalue(res, 0, 1), "1") == 0) {
        http_respond_after_index(ctx, 204, NULL, INDEX_ORGANIZATION, &ctx->organization);
    } else if (strcmp(PQgetvalue(res, 0, 2), "t") == 0) {
        http_respond_error(ctx, 409, "conflict",
                           "The location still has resources; move or delete them first.",
                           json_pack("{s:i}", "resources", atoi(PQgetvalue(res, 0, 0))));
    } else {
        http_respond_not_found(ctx, "location");
    }
}

void http_locations_delete(http_ctx_t *ctx)
{
    char id[37];
    eng_id_t parsed;
    if (!http_path_id(ctx, 0, "location", id, &parsed))
        return;
    const char *values[2] = {ctx->organization_text, id};
    http_query(ctx, "loc_delete", 2, values, on_deleted);
}
