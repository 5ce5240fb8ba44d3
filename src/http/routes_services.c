/*
 * Services: POST/GET /v1/services, GET/PATCH/DELETE /v1/services/{id}.
 *
 * Each handler reads as JSON in → domain call → JSON out: the body is decoded
 * into a domain_service_input_t that says how each field was received
 * (absent, null, a value, or a value of the wrong type; the requirement
 * groups as lists of ids), the domain checks the rules and runs the typed
 * store, and the service that comes back is rendered here. A write names its
 * resources and is checked against them in one statement: a resource that is
 * not a live one of the organization is refused (400 naming its place in the
 * requirements) and nothing is written. Writes answer once the service is
 * reloaded in the index (read your writes).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/services.h"
#include "http/fields.h"
#include "http/routes.h"
#include "slotd/alloc.h"
#include "slotd/codec.h"

/* The fields a client may send; id, created_at and updated_at are the service's. */
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

static const char *const group_fields[] = {"resource_ids", "mode", NULL};

static json_t *nullable_integer(bool given, int32_t value)
{
    return given ? json_integer(value) : json_null();
}

static json_t *requirements_json(const store_service_t *service)
{
    json_t *list = json_array();
    for (size_t g = 0; g < service->settings.requirement_count; g++) {
        const store_requirement_t *group = &service->settings.requirements[g];
        json_t *ids = json_array();
        for (size_t k = 0; k < group->resource_count; k++) {
            char id[37];
            codec_format_uuid(&group->resource_ids[k], id);
            json_array_append_new(ids, json_string(id));
        }
        json_array_append_new(
            list, json_pack("{s:o, s:s}", "resource_ids", ids, "mode", group->all ? "all" : "any"));
    }
    return list;
}

/* The API's form of a service, or NULL when a stored text is not valid UTF-8. */
static json_t *service_json(const store_service_t *service)
{
    char id[37], price[32];
    codec_format_uuid(&service->id, id);
    if (service->settings.has_price)
        snprintf(price, sizeof(price), "%" PRId64 ".%02d", service->settings.price_cents / 100,
                 (int)(service->settings.price_cents % 100));
    /* "o" steals even when json_pack fails, and a NULL value makes it fail: no leak, no crash */
    return json_pack(
        "{s:s, s:s, s:i, s:o, s:i, s:i, s:i, s:o, s:o, s:o, s:b, s:o, s:o, s:o}", "id", id, "name",
        service->settings.name, "duration_minutes", (int)service->settings.duration_minutes,
        "slot_interval_minutes",
        nullable_integer(service->settings.has_slot_interval,
                         service->settings.slot_interval_minutes),
        "buffer_before_minutes", (int)service->settings.buffer_before_minutes,
        "buffer_after_minutes", (int)service->settings.buffer_after_minutes, "min_notice_minutes",
        (int)service->settings.min_notice_minutes, "max_advance_days",
        nullable_integer(service->settings.has_max_advance, service->settings.max_advance_days),
        "price", http_json_text(service->settings.has_price ? price : NULL), "currency",
        http_json_text(service->settings.currency), "active", service->settings.active,
        "requirements", requirements_json(service), "created_at",
        http_json_instant(service->organization_timezone, service->created_at), "updated_at",
        http_json_instant(service->organization_timezone, service->updated_at));
}

static void respond_written(http_ctx_t *ctx, int status, int error, const store_service_t *service,
                            int group, int member)
{
    json_t *body;
    http_wait_end(ctx);
    if (error == STORE_EREFERENCE) {
        /* no place: the database refused a resource deleted while the write ran */
        char field[CODEC_FIELD_MAX] = "requirements";
        if (group >= 0)
            snprintf(field, sizeof(field), "requirements[%d].resource_ids[%d]", group, member);
        http_respond_invalid(ctx, field, "No such resource.");
    } else if (error) {
        http_respond_store_error(ctx, error, "service");
    } else if ((body = http_rendered(ctx, service_json(service), "service")) != NULL) {
        http_respond_after_index(ctx, status, body, INDEX_SERVICE, &service->id);
    }
    http_wait_release(ctx);
}

static void on_created(int error, const store_service_t *service, int group, int member, void *arg)
{
    respond_written(arg, 201, error, service, group, member);
}

static void on_patched(int error, const store_service_t *service, int group, int member, void *arg)
{
    respond_written(arg, 200, error, service, group, member);
}

/* How a value was received: absent, null, or `typed` (of the field's type) or not. */
static domain_given_t received(const json_t *value, bool typed)
{
    if (value == NULL)
        return DOMAIN_ABSENT;
    if (json_is_null(value))
        return DOMAIN_NULL;
    return typed ? DOMAIN_GIVEN : DOMAIN_MALFORMED;
}

/* A string holding no NUL: the only text the domain takes. */
static bool is_text(const json_t *value)
{
    return json_is_string(value) && strlen(json_string_value(value)) == json_string_length(value);
}

static domain_text_t text_of(const json_t *object, const char *name)
{
    const json_t *value = json_object_get(object, name);
    domain_text_t text = {received(value, is_text(value)), json_string_value(value)};
    return text;
}

static domain_whole_t whole_of(const json_t *object, const char *name)
{
    const json_t *value = json_object_get(object, name);
    domain_whole_t number = {received(value, json_is_integer(value)), json_integer_value(value)};
    return number;
}

static domain_price_t price_of(const json_t *object)
{
    const json_t *value = json_object_get(object, "price");
    domain_price_t price = {received(value, is_text(value) || json_is_number(value)),
                            json_string_value(value), json_is_number(value),
                            json_number_value(value)};
    return price;
}

/* Decoded requirement groups, and the ids they point to (free_groups releases them). */
typedef struct {
    domain_group_t groups[ENG_MAX_GROUPS];
    size_t count;
} groups_t;

static void free_groups(groups_t *groups)
{
    for (size_t g = 0; g < groups->count; g++)
        free((void *)groups->groups[g].resource_ids);
}

/* One group: its ids up to the first that is not one (the domain refuses that one). */
static bool decode_group(http_ctx_t *ctx, const json_t *value, domain_group_t *group)
{
    const json_t *ids = json_object_get(value, "resource_ids");
    memset(group, 0, sizeof(*group));
    group->given = json_is_object(value) ? DOMAIN_GIVEN : DOMAIN_MALFORMED;
    if (group->given != DOMAIN_GIVEN)
        return true;
    if (!http_fields_known(ctx, value, group_fields))
        return false;
    group->mode = json_string_value(json_object_get(value, "mode"));
    group->list = received(ids, json_is_array(ids));
    group->count = json_array_size(ids);
    if (group->list != DOMAIN_GIVEN || group->count > ENG_MAX_GROUP_MEMBERS)
        return true;
    eng_id_t *parsed = slotd_calloc(group->count + 1, sizeof(*parsed));
    group->resource_ids = parsed;
    const json_t *item;
    while (group->readable < group->count &&
           json_is_string(item = json_array_get(ids, group->readable)) &&
           codec_parse_uuid(json_string_value(item), &parsed[group->readable]) == 0)
        group->readable++;
    return true;
}

/* Decodes a body into the domain's input; false after answering 400. */
static bool decode(http_ctx_t *ctx, domain_service_input_t *input, groups_t *groups)
{
    const json_t *body = ctx->body;
    memset(input, 0, sizeof(*input));
    groups->count = 0;
    if (!http_body_object(ctx) || !http_fields_known(ctx, body, service_fields))
        return false;
    input->name = text_of(body, "name");
    input->duration_minutes = whole_of(body, "duration_minutes");
    input->slot_interval_minutes = whole_of(body, "slot_interval_minutes");
    input->buffer_before_minutes = whole_of(body, "buffer_before_minutes");
    input->buffer_after_minutes = whole_of(body, "buffer_after_minutes");
    input->min_notice_minutes = whole_of(body, "min_notice_minutes");
    input->max_advance_days = whole_of(body, "max_advance_days");
    const json_t *active = json_object_get(body, "active");
    input->active = received(active, json_is_boolean(active));
    input->active_value = json_is_true(active);
    input->price = price_of(body);
    input->currency = text_of(body, "currency");
    const json_t *list = json_object_get(body, "requirements");
    input->requirements = received(list, json_is_array(list));
    input->group_count = json_array_size(list);
    input->groups = groups->groups;
    /* more groups than allowed: the domain refuses them by their number */
    if (input->requirements != DOMAIN_GIVEN || input->group_count > ENG_MAX_GROUPS)
        return true;
    for (; groups->count < input->group_count; groups->count++)
        if (!decode_group(ctx, json_array_get(list, groups->count), &groups->groups[groups->count]))
            return false;
    return true;
}

void http_services_create(http_ctx_t *ctx)
{
    domain_service_input_t input;
    domain_error_t error;
    groups_t groups = {.count = 0};
    if (decode(ctx, &input, &groups))
        http_await(ctx,
                   domain_services_create(http_pool(ctx), &ctx->organization, &input, on_created,
                                          ctx, &error),
                   &error);
    free_groups(&groups);
}

void http_services_patch(http_ctx_t *ctx)
{
    char id_text[37];
    eng_id_t id;
    domain_service_input_t input;
    domain_error_t error;
    groups_t groups = {.count = 0};
    if (http_path_id(ctx, 0, "service", id_text, &id) && decode(ctx, &input, &groups))
        http_await(ctx,
                   domain_services_update(http_pool(ctx), &ctx->organization, &id, &input,
                                          on_patched, ctx, &error),
                   &error);
    free_groups(&groups);
}

static void on_got(int error, const store_service_t *service, void *arg)
{
    http_ctx_t *ctx = arg;
    json_t *body;
    http_wait_end(ctx);
    if (error)
        http_respond_store_error(ctx, error, "service");
    else if ((body = http_rendered(ctx, service_json(service), "service")) != NULL)
        http_respond(ctx, 200, body);
    http_wait_release(ctx);
}

void http_services_get(http_ctx_t *ctx)
{
    char id_text[37];
    eng_id_t id;
    domain_error_t error;
    if (http_path_id(ctx, 0, "service", id_text, &id))
        http_await(
            ctx, domain_services_get(http_pool(ctx), &ctx->organization, &id, on_got, ctx, &error),
            &error);
}

static void on_page(int error, const store_service_t *items, size_t count, bool more, void *arg)
{
    http_ctx_t *ctx = arg;
    http_wait_end(ctx);
    if (error) {
        http_respond_store_error(ctx, error, "service");
    } else {
        json_t *list = json_array();
        bool ok = true;
        for (size_t i = 0; i < count && ok; i++)
            ok = json_array_append_new(list, service_json(&items[i])) == 0;
        if (!ok) {
            json_decref(list);
            list = NULL;
        }
        http_respond_items(ctx, list, more ? &items[count - 1].id : NULL, "service");
    }
    http_wait_release(ctx);
}

void http_services_list(http_ctx_t *ctx)
{
    int limit;
    eng_id_t after;
    const eng_id_t *cursor;
    domain_error_t error;
    if (!http_list_page(ctx, &limit, &after, &cursor))
        return;
    http_await(ctx,
               domain_services_list(http_pool(ctx), &ctx->organization, cursor, limit, on_page, ctx,
                                    &error),
               &error);
}

static void on_deleted(int error, const eng_id_t *id, void *arg)
{
    http_ctx_t *ctx = arg;
    http_wait_end(ctx);
    if (error == 0)
        http_respond_after_index(ctx, 204, NULL, INDEX_SERVICE, id);
    else
        http_respond_store_error(ctx, error, "service");
    http_wait_release(ctx);
}

void http_services_delete(http_ctx_t *ctx)
{
    char id_text[37];
    eng_id_t id;
    domain_error_t error;
    if (http_path_id(ctx, 0, "service", id_text, &id))
        http_await(ctx,
                   domain_services_delete(http_pool(ctx), &ctx->organization, &id, on_deleted, ctx,
                                          &error),
                   &error);
}
