/*
 * GET and PATCH /v1/organization: the caller's own organization.
 *
 * Each handler reads as JSON in → domain call → JSON out: the PATCH body is
 * decoded into a domain_organization_input_t (types only: WEEK, dates; the
 * name and zone as received, for the domain to word their refusal), the domain
 * checks the rules and runs the typed store, and the organization that comes
 * back is rendered here. A PATCH answers once the organization is rebuilt in
 * the index (read your writes). The Retell API key is write-only: a PATCH
 * takes it (integrations.retell_api_key), the organization shows only
 * integrations.retell_api_key_set.
 */
#include <stdlib.h>
#include <string.h>

#include "domain/organization.h"
#include "http/fields.h"
#include "http/routes.h"
#include "slotd/codec.h"

/* The API's form of the organization, or NULL when a stored text is not valid UTF-8. */
static json_t *organization_json(const store_organization_t *organization)
{
    char id[37], day[16];
    codec_format_uuid(&organization->id, id);
    json_t *closures = json_array();
    for (size_t i = 0; i < organization->closure_count; i++) {
        store_date_text(organization->closures[i], day);
        json_array_append_new(closures, json_string(day));
    }
    /* "o" steals even when json_pack fails, and a NULL value makes it fail: no leak, no crash */
    json_t *reminders = json_array();
    for (size_t i = 0; i < organization->reminder_offset_count; i++)
        json_array_append_new(reminders, json_integer(organization->reminder_offsets[i]));
    return json_pack(
        "{s:s, s:s, s:s, s:o, s:o, s:s, s:o, s:{s:b}}", "id", id, "name", organization->name,
        "timezone", organization->timezone, "business_hours",
        organization->has_business_hours ? codec_week_to_json(&organization->business_hours)
                                         : json_null(),
        "closures", closures, "language", organization->language, "reminder_offsets_minutes",
        reminders, "integrations", "retell_api_key_set", organization->retell_api_key_set);
}

static void respond(http_ctx_t *ctx, bool written, int error,
                    const store_organization_t *organization)
{
    json_t *body;
    http_wait_end(ctx);
    if (error)
        http_respond_store_error(ctx, error, "organization");
    else if ((body = http_rendered(ctx, organization_json(organization), "organization")) != NULL &&
             written)
        http_respond_after_index(ctx, 200, body, INDEX_ORGANIZATION, &ctx->organization);
    else if (body)
        http_respond(ctx, 200, body);
    http_wait_release(ctx);
}

static void on_got(int error, const store_organization_t *organization, void *arg)
{
    respond(arg, false, error, organization);
}

static void on_patched(int error, const store_organization_t *organization, void *arg)
{
    respond(arg, true, error, organization);
}

void http_organization_get(http_ctx_t *ctx)
{
    domain_error_t error;
    http_await(ctx,
               domain_organization_get(http_pool(ctx), &ctx->organization, on_got, ctx, &error),
               &error);
}

/* A WEEK or null into the input; false after answering 400. */
static bool decode_hours(http_ctx_t *ctx, json_t *value, eng_week_t *week,
                         store_organization_write_t *write)
{
    write->business_hours_set = true;
    if (json_is_null(value))
        return true;
    char field[CODEC_FIELD_MAX];
    int rc = codec_week_from_json(value, "business_hours", week, field, sizeof(field));
    if (rc) {
        http_respond_invalid(
            ctx, field,
            rc == ENG_ERANGE_OVERLAP ? "Ranges of one day must not overlap."
            : rc == ENG_ERANGE_ORDER
                ? "A range must end after it starts."
                : "Hours are a WEEK object: {\"mon\":[[\"09:00\",\"17:00\"]],...}.");
        return false;
    }
    write->business_hours = week;
    return true;
}

/* A list of whole minutes into the input; false after answering 400. */
static bool decode_reminders(http_ctx_t *ctx, json_t *value, int32_t *reminders,
                             store_organization_write_t *write)
{
    bool ok = json_is_array(value) && json_array_size(value) <= STORE_MAX_REMINDER_OFFSETS;
    size_t i;
    json_t *v;
    json_array_foreach(value, i, v)
    {
        ok &= json_is_integer(v) && json_integer_value(v) >= 1 &&
              json_integer_value(v) <= STORE_MAX_REMINDER_MINUTES;
        if (ok)
            reminders[i] = (int32_t)json_integer_value(v);
    }
    if (!ok) {
        http_respond_invalid(ctx, "reminder_offsets_minutes",
                             "Give at most 10 distinct whole minutes from 1 to 525600, e.g. "
                             "[1440, 120].");
        return false;
    }
    write->reminders_set = true;
    write->reminder_offsets = reminders;
    write->reminder_offset_count = json_array_size(value);
    return true;
}

/* The integrations object into the input (types only: the domain words every refusal). */
static void decode_integrations(json_t *value, domain_organization_input_t *input)
{
    input->integrations = http_received(value, json_is_object(value));
    if (!json_is_object(value))
        return;
    input->retell_api_key = http_text_of(value, "retell_api_key");
    const char *key;
    json_t *v;
    json_object_foreach(value, key, v)
    {
        if (input->integrations_unknown == NULL && strcmp(key, "retell_api_key") != 0)
            input->integrations_unknown = key;
    }
}

/* Decodes the body, field by field in the order sent; false after answering 400. */
static bool decode(http_ctx_t *ctx, domain_organization_input_t *input, eng_week_t *week,
                   int32_t **closures, int32_t *reminders)
{
    store_organization_write_t *write = &input->write;
    memset(input, 0, sizeof(*input));
    if (!json_is_object(ctx->body)) {
        http_respond_invalid(ctx, "body", "Send a JSON object with the fields to change.");
        return false;
    }
    const char *key;
    json_t *value;
    json_object_foreach(ctx->body, key, value)
    {
        if (strcmp(key, "name") == 0) {
            input->name = http_text_of(ctx->body, key);
        } else if (strcmp(key, "timezone") == 0) {
            input->timezone = http_text_of(ctx->body, key);
        } else if (strcmp(key, "business_hours") == 0) {
            if (!decode_hours(ctx, value, week, write))
                return false;
        } else if (strcmp(key, "closures") == 0) {
            if (!json_is_array(value)) {
                http_respond_invalid(ctx, "closures",
                                     "Give a list of dates (YYYY-MM-DD), at most 1000.");
                return false;
            }
            if (!http_field_day_list(ctx, ctx->body, "closures", closures, &write->closure_count,
                                     &write->closures_set))
                return false;
            write->closures = *closures;
        } else if (strcmp(key, "language") == 0) {
            input->language = http_text_of(ctx->body, key);
        } else if (strcmp(key, "reminder_offsets_minutes") == 0) {
            if (!decode_reminders(ctx, value, reminders, write))
                return false;
        } else if (strcmp(key, "integrations") == 0) {
            decode_integrations(value, input);
        } else if (strcmp(key, "id") != 0) {
            http_respond_invalid(ctx, key, "Unknown field.");
            return false;
        }
    }
    return true;
}

void http_organization_patch(http_ctx_t *ctx)
{
    domain_organization_input_t input;
    domain_error_t error;
    eng_week_t week;
    int32_t *closures = NULL, reminders[STORE_MAX_REMINDER_OFFSETS];
    if (decode(ctx, &input, &week, &closures, reminders))
        http_await(ctx,
                   domain_organization_update(http_pool(ctx), http_secret_key(ctx),
                                              &ctx->organization, &input, on_patched, ctx, &error),
                   &error);
    free(closures);
}
