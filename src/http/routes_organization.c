/*
 * GET and PATCH /v1/organization: the caller's own organization.
 */
#include <stdio.h>
#include <string.h>

#include "http/fields.h"
#include "http/routes.h"
#include "slotd/codec.h"

/* Renders a row of org_get / org_update. */
static json_t *organization_json(const PGresult *res)
{
    return json_pack("{s:s, s:s, s:s, s:o, s:o}", "id", PQgetvalue(res, 0, 0), "name",
                     PQgetvalue(res, 0, 1), "timezone", PQgetvalue(res, 0, 2), "business_hours",
                     codec_week_ordered(http_json_column(res, 0, 3, json_null())), "closures",
                     http_json_column(res, 0, 4, json_array()));
}

static void on_row(http_ctx_t *ctx, const PGresult *res, const char *sqlstate)
{
    if (http_single_row(ctx, res, sqlstate, "organization"))
        http_respond(ctx, 200, organization_json(res));
}

static void on_patched(http_ctx_t *ctx, const PGresult *res, const char *sqlstate)
{
    if (sqlstate)
        http_respond_database_error(ctx, sqlstate);
    else if (PQntuples(res) != 1)
        http_respond_not_found(ctx, "organization");
    else
        http_respond_after_index(ctx, 200, organization_json(res), INDEX_ORGANIZATION,
                                 &ctx->organization);
}

void http_organization_get(http_ctx_t *ctx)
{
    const char *values[1] = {ctx->organization_text};
    http_query(ctx, "org_get", 1, values, on_row);
}

void http_organization_patch(http_ctx_t *ctx)
{
    if (!json_is_object(ctx->body)) {
        http_respond_invalid(ctx, "body", "Send a JSON object with the fields to change.");
        return;
    }
    const char *name = NULL, *timezone = NULL;
    char *hours_text = NULL, *closures = NULL;
    bool hours_sent = false;
    const char *key;
    json_t *value;
    json_object_foreach(ctx->body, key, value)
    {
        if (strcmp(key, "name") == 0) {
            name = json_string_value(value);
            if (name == NULL || strlen(name) == 0 || strlen(name) > 200) {
                http_respond_invalid(ctx, "name", "name must be text of 1 to 200 characters.");
                goto done;
            }
        } else if (strcmp(key, "timezone") == 0) {
            tz_zone_t *zone;
            timezone = json_string_value(value);
            if (timezone == NULL || tz_zone_find(timezone, &zone)) {
                http_respond_invalid(ctx, "timezone",
                                     "timezone must be an IANA time zone, e.g. Europe/Warsaw.");
                goto done;
            }
        } else if (strcmp(key, "business_hours") == 0) {
            hours_sent = true;
            if (!json_is_null(value)) {
                eng_week_t week;
                char field[CODEC_FIELD_MAX];
                int rc = codec_week_from_json(value, "business_hours", &week, field, sizeof(field));
                if (rc) {
                    http_respond_invalid(
                        ctx, field,
                        rc == ENG_ERANGE_OVERLAP ? "Ranges of one day must not overlap."
                        : rc == ENG_ERANGE_ORDER
                            ? "A range must end after it starts."
                            : "Hours are a WEEK object: {\"mon\":[[\"09:00\",\"17:00\"]],...}.");
                    goto done;
                }
                json_t *normalized = codec_week_to_json(&week);
                hours_text = json_dumps(normalized, JSON_COMPACT);
                json_decref(normalized);
            }
        } else if (strcmp(key, "closures") == 0) {
            bool present;
            if (!http_field_dates(ctx, ctx->body, "closures", &closures, &present))
                goto done;
        } else if (strcmp(key, "id") != 0) {
            http_respond_invalid(ctx, key, "Unknown field.");
            goto done;
        }
    }
    const char *values[6] = {ctx->organization_text,        name,    timezone, hours_text,
                             hours_sent ? "true" : "false", closures};
    http_query(ctx, "org_update", 6, values, on_patched);
done:
    free(hours_text);
    free(closures);
}
