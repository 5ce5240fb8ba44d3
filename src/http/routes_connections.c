/*
 * Calendar connections of a resource (admin and sync keys):
 *   POST /v1/resources/{id}/calendar-connections
 *        {"provider","direction"?,"calendar_id"?,"credentials","calcom"?}
 *   GET /v1/resources/{id}/calendar-connections
 *   GET/PATCH/DELETE /v1/calendar-connections/{id}
 *
 * Each handler reads as JSON in → domain call → JSON out: the body is decoded
 * into a domain_connection_input_t (each field as received), the domain
 * checks the rules and runs the typed store, and what comes back is rendered
 * here. A PATCH is checked against the connection as it is, so it reads it
 * first (GET), then changes it if it is still so (else 409). Credentials go
 * in and are never rendered: no answer, log line or error message holds them
 * (a refusal names the field, never echoes its value). DELETE answers once
 * the resource is rebuilt in the index without the busy time the connection
 * brought (read your writes).
 */
#include <stdlib.h>
#include <string.h>

#include "domain/connections.h"
#include "http/fields.h"
#include "http/routes.h"
#include "slotd/alloc.h"
#include "slotd/codec.h"

static const char *const create_fields[] = {"provider",    "direction", "calendar_id",
                                            "credentials", "calcom",    NULL};
static const char *const patch_fields[] = {"provider", "direction", "calendar_id", "credentials",
                                           "calcom",   "status",    NULL};

static json_t *instant_or_null(const store_connection_t *c, bool set, int64_t instant)
{
    return set ? http_json_instant(c->organization_timezone, instant) : json_null();
}

/* The API's form of a connection (never its credentials), or NULL when a stored text is not
 * valid UTF-8. */
static json_t *connection_json(const store_connection_t *c)
{
    char id[37], resource[37];
    codec_format_uuid(&c->id, id);
    codec_format_uuid(&c->resource_id, resource);
    json_t *calcom =
        strcmp(c->provider, "calcom") == 0
            ? json_pack("{s:o}", "event_type_id",
                        c->calcom_event_type_id ? json_integer((json_int_t)c->calcom_event_type_id)
                                                : json_null())
            : json_null();
    /* "o" steals even when json_pack fails, and a NULL value makes it fail: no leak, no crash */
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:I, s:o, s:o}", "id", id,
                     "resource_id", resource, "provider", c->provider, "direction", c->direction,
                     "calendar_id", http_json_text(c->calendar_id), "status", c->status,
                     "last_sync_at", instant_or_null(c, c->synced, c->last_sync_at),
                     "last_full_sync_at", instant_or_null(c, c->fully_synced, c->last_full_sync_at),
                     "last_error", http_json_text(c->last_error), "calcom", calcom, "busy_events",
                     (json_int_t)c->busy_events, "created_at",
                     http_json_instant(c->organization_timezone, c->created_at), "updated_at",
                     http_json_instant(c->organization_timezone, c->updated_at));
}

/* Answers one connection (`status` 201 or 200), or the store's error (404 naming `missing`). */
static void respond_connection(http_ctx_t *ctx, int status, int error,
                               const store_connection_t *connection, const char *missing)
{
    json_t *body;
    if (error == STORE_ECONFLICT)
        http_respond_error(ctx, 409, "conflict",
                           "The connection changed while this change was being checked; send "
                           "it again.",
                           NULL);
    else if (error)
        http_respond_store_error(ctx, error, missing);
    else if ((body = http_rendered(ctx, connection_json(connection), "calendar connection")))
        http_respond(ctx, status, body);
}

static void on_created(int error, const store_connection_t *connection, void *arg)
{
    http_ctx_t *ctx = arg;
    http_wait_end(ctx);
    respond_connection(ctx, 201, error, connection, "resource");
    http_wait_release(ctx);
}

static void on_got(int error, const store_connection_t *connection, void *arg)
{
    http_ctx_t *ctx = arg;
    http_wait_end(ctx);
    respond_connection(ctx, 200, error, connection, "calendar connection");
    http_wait_release(ctx);
}

/* The keys of an object that is none of `known` (NULL: none). */
static const char *unknown_key(const json_t *object, const char *const *known)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)object, key, value)
    {
        bool found = false;
        for (size_t i = 0; known[i] && !found; i++)
            found = strcmp(key, known[i]) == 0;
        if (!found)
            return key;
    }
    return NULL;
}

/* Decodes a body into the domain's input (types only); false after answering 400. */
static bool decode(http_ctx_t *ctx, const char *const *fields, domain_connection_input_t *input)
{
    static const char *const credential_keys[] = {"refresh_token", "client_id", "client_secret",
                                                  "tenant",        "api_key",   "webhook_secret",
                                                  "url",           NULL};
    static const char *const calcom_keys[] = {"event_type_id", NULL};
    if (!http_body_object(ctx) || !http_fields_known(ctx, ctx->body, fields))
        return false;
    const json_t *credentials = json_object_get(ctx->body, "credentials");
    const json_t *calcom = json_object_get(ctx->body, "calcom");
    bool credentials_object = json_is_object(credentials), calcom_object = json_is_object(calcom);
    const json_t *c = credentials_object ? credentials : NULL;
    *input = (domain_connection_input_t){
        .provider = http_text_of(ctx->body, "provider"),
        .direction = http_text_of(ctx->body, "direction"),
        .calendar_id = http_text_of(ctx->body, "calendar_id"),
        .status = http_text_of(ctx->body, "status"),
        .credentials = {.given = http_received(credentials, credentials_object),
                        .refresh_token = http_text_of(c, "refresh_token"),
                        .client_id = http_text_of(c, "client_id"),
                        .client_secret = http_text_of(c, "client_secret"),
                        .tenant = http_text_of(c, "tenant"),
                        .api_key = http_text_of(c, "api_key"),
                        .webhook_secret = http_text_of(c, "webhook_secret"),
                        .url = http_text_of(c, "url"),
                        .unknown = c ? unknown_key(c, credential_keys) : NULL},
        .calcom = http_received(calcom, calcom_object),
        .event_type_id = http_whole_of(calcom_object ? calcom : NULL, "event_type_id"),
        .calcom_unknown = calcom_object ? unknown_key(calcom, calcom_keys) : NULL};
    return true;
}

/* The resource named in the path (answered 404 when it is not an id). */
static bool path_resource(http_ctx_t *ctx, eng_id_t *resource)
{
    char text[37];
    return http_path_id(ctx, 0, "resource", text, resource);
}

void http_connections_create(http_ctx_t *ctx)
{
    eng_id_t resource;
    domain_connection_input_t input;
    domain_error_t error;
    if (path_resource(ctx, &resource) && decode(ctx, create_fields, &input))
        http_await(ctx,
                   domain_connections_create(http_pool(ctx), http_secret_key(ctx),
                                             &ctx->organization, &resource, &input, on_created, ctx,
                                             &error),
                   &error);
}

static void on_page(int error, const store_connection_t *items, size_t count, bool more, void *arg)
{
    http_ctx_t *ctx = arg;
    http_wait_end(ctx);
    json_t *list = error ? NULL : json_array();
    for (size_t i = 0; list && i < count; i++) {
        if (json_array_append_new(list, connection_json(&items[i])) != 0) {
            json_decref(list); /* a stored text that is not valid UTF-8: 500 */
            list = NULL;
        }
    }
    if (error)
        http_respond_store_error(ctx, error, "resource");
    else
        http_respond_items(ctx, list, more ? &items[count - 1].id : NULL, "calendar connection");
    http_wait_release(ctx);
}

static store_operation_t *start_page(http_ctx_t *ctx, const eng_id_t *cursor, int limit,
                                     domain_error_t *error)
{
    eng_id_t resource;
    codec_parse_uuid(ctx->params[0], &resource); /* checked by the handler */
    return domain_connections_list(http_pool(ctx), &ctx->organization, &resource, cursor, limit,
                                   on_page, ctx, error);
}

void http_connections_list(http_ctx_t *ctx)
{
    eng_id_t resource;
    if (path_resource(ctx, &resource))
        http_await_page(ctx, start_page);
}

void http_connections_get(http_ctx_t *ctx)
{
    char id_text[37];
    eng_id_t id;
    domain_error_t error;
    if (http_path_id(ctx, 0, "calendar connection", id_text, &id))
        http_await(
            ctx,
            domain_connections_get(http_pool(ctx), &ctx->organization, &id, on_got, ctx, &error),
            &error);
}

/* ---- PATCH: read the connection, then change it as it was read ---------------------------- */

static void on_patched(int error, const store_connection_t *connection, void *arg)
{
    http_ctx_t *ctx = arg;
    http_wait_end(ctx);
    respond_connection(ctx, 200, error, connection, "calendar connection");
    http_wait_release(ctx);
}

static void on_current(int error, const store_connection_t *current, void *arg)
{
    http_ctx_t *ctx = arg;
    domain_error_t refusal;
    http_wait_end(ctx);
    if (error)
        respond_connection(ctx, 200, error, NULL, "calendar connection");
    else
        http_await(ctx,
                   domain_connections_update(http_pool(ctx), http_secret_key(ctx),
                                             &ctx->organization, current, ctx->state, on_patched,
                                             ctx, &refusal),
                   &refusal);
    http_wait_release(ctx);
}

void http_connections_patch(http_ctx_t *ctx)
{
    char id_text[37];
    eng_id_t id;
    domain_error_t error;
    domain_connection_input_t *input = slotd_calloc(1, sizeof(*input));
    ctx->state = input; /* points into ctx->body, which lives as long */
    ctx->free_state = free;
    if (http_path_id(ctx, 0, "calendar connection", id_text, &id) &&
        decode(ctx, patch_fields, input))
        http_await(ctx,
                   domain_connections_get(http_pool(ctx), &ctx->organization, &id, on_current, ctx,
                                          &error),
                   &error);
}

static void on_deleted(int error, const eng_id_t *resource, void *arg)
{
    http_ctx_t *ctx = arg;
    http_wait_end(ctx);
    if (error)
        http_respond_store_error(ctx, error, "calendar connection");
    else
        http_respond_after_index(ctx, 204, NULL, INDEX_RESOURCE, resource);
    http_wait_release(ctx);
}

void http_connections_delete(http_ctx_t *ctx)
{
    char id_text[37];
    eng_id_t id;
    domain_error_t error;
    if (http_path_id(ctx, 0, "calendar connection", id_text, &id))
        http_await(ctx,
                   domain_connections_delete(http_pool(ctx), &ctx->organization, &id, on_deleted,
                                             ctx, &error),
                   &error);
}

/* ---- POST /v1/calendar-connections/{id}/sync ----------------------------------------------- */

static void on_sync_requested(int error, const char *status, const char *direction,
                              const char *provider, void *arg)
{
    (void)provider; /* every provider is pulled */
    http_ctx_t *ctx = arg;
    http_wait_end(ctx);
    if (error)
        http_respond_store_error(ctx, error, "calendar connection");
    else if (strcmp(direction, "push") == 0)
        http_respond_error(ctx, 409, "conflict", "This connection only pushes: nothing to pull.",
                           NULL);
    else if (strcmp(status, "active") != 0)
        http_respond_error(ctx, 409, "conflict",
                           strcmp(status, "paused") == 0
                               ? "The connection is paused: PATCH its status to active first."
                               : "The connection is broken: PATCH new credentials first.",
                           NULL);
    else
        http_respond(ctx, 202,
                     json_pack("{s:s, s:s, s:b}", "id", ctx->params[0], "status", "queued", "full",
                               ((json_t *)ctx->state) == json_true()));
    http_wait_release(ctx);
}

void http_connections_sync(http_ctx_t *ctx)
{
    static const char *const fields[] = {"full", NULL};
    char id_text[37];
    eng_id_t id;
    domain_error_t error;
    bool full = false, present;
    if (!http_path_id(ctx, 0, "calendar connection", id_text, &id) || !http_body_object(ctx) ||
        !http_fields_known(ctx, ctx->body, fields) ||
        !http_field_bool(ctx, ctx->body, "full", &full, &present))
        return;
    ctx->state = full ? json_true() : json_false(); /* for the answer; never freed */
    http_await(ctx,
               domain_connections_sync(http_pool(ctx), &ctx->organization, &id, full,
                                       on_sync_requested, ctx, &error),
               &error);
}
