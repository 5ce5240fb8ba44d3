/*
 * /v1/api-keys: an admin creates, lists and revokes its organization's keys.
 *
 * Each handler reads as JSON in → domain call → JSON out. The domain makes a
 * key (store_key_generate) and stores its SHA-256 with a role, an optional
 * name and a prefix that listings show instead of the key; the key itself is
 * shown once, in the 201 answer. Revocation goes through the database
 * function slotd_revoke_key, which refuses to take an organization's last
 * admin key (409) and whose UPDATE the api_keys trigger announces to every
 * instance; this instance forgets the organization's cached keys before it
 * answers, so the revoked key is refused from the very next request.
 */
#include <stdlib.h>
#include <string.h>

#include "domain/api_keys.h"
#include "http/fields.h"
#include "http/routes.h"
#include "slotd/codec.h"

/* The API's form of a key, or NULL when a stored text is not valid UTF-8. */
static json_t *key_json(const store_api_key_t *key)
{
    char id[37];
    codec_format_uuid(&key->id, id);
    /* "o" steals even when json_pack fails, and a NULL value makes it fail: no leak, no crash */
    return json_pack("{s:s, s:s, s:o, s:o, s:o}", "id", id, "role", key->role, "name",
                     http_json_text(key->name), "prefix", http_json_text(key->prefix), "created_at",
                     http_json_instant("UTC", key->created_at));
}

static void on_created(int error, const store_api_key_t *key, void *arg)
{
    http_ctx_t *ctx = arg;
    json_t *body;
    http_wait_end(ctx);
    if (error) {
        http_respond_store_error(ctx, error, "organization");
    } else if ((body = http_rendered(ctx, key_json(key), "API key")) != NULL) {
        json_object_set_new(body, "api_key", json_string(ctx->state));
        http_respond(ctx, 201, body);
    }
    http_wait_release(ctx);
}

/* Decodes a body into the domain's input (types only); false after answering 400. */
static bool decode(http_ctx_t *ctx, domain_api_key_input_t *input)
{
    memset(input, 0, sizeof(*input));
    if (!json_is_object(ctx->body)) {
        http_respond_invalid(ctx, "body", "Send a JSON object: {\"role\":\"agent\"}.");
        return false;
    }
    const char *field;
    json_t *value;
    json_object_foreach(ctx->body, field, value)
    {
        if (strcmp(field, "role") == 0) {
            input->role = http_text_of(ctx->body, field);
        } else if (strcmp(field, "name") == 0) {
            input->name = http_text_of(ctx->body, field);
        } else {
            http_respond_invalid(ctx, field, "Unknown field.");
            return false;
        }
    }
    return true;
}

void http_api_keys_create(http_ctx_t *ctx)
{
    domain_api_key_input_t input;
    domain_error_t error;
    if (!decode(ctx, &input))
        return;
    char *key = malloc(STORE_KEY_LENGTH + 1);
    ctx->state = key;
    ctx->free_state = free;
    http_await(ctx,
               domain_api_keys_create(http_pool(ctx), &ctx->organization, &input, key, on_created,
                                      ctx, &error),
               &error);
}

static void on_page(int error, const store_api_key_t *items, size_t count, bool more, void *arg)
{
    http_ctx_t *ctx = arg;
    http_wait_end(ctx);
    if (error) {
        http_respond_store_error(ctx, error, "API key");
    } else {
        json_t *list = json_array();
        bool ok = true;
        for (size_t i = 0; i < count && ok; i++)
            ok = json_array_append_new(list, key_json(&items[i])) == 0;
        if (!ok) {
            json_decref(list);
            list = NULL;
        }
        http_respond_items(ctx, list, more ? &items[count - 1].id : NULL, "API key");
    }
    http_wait_release(ctx);
}

static store_operation_t *start_list(http_ctx_t *ctx, const eng_id_t *cursor, int limit,
                                     domain_error_t *error)
{
    return domain_api_keys_list(http_pool(ctx), &ctx->organization, cursor, limit, on_page, ctx,
                                error);
}

void http_api_keys_list(http_ctx_t *ctx)
{
    http_await_page(ctx, start_list);
}

static void on_got(int error, const store_api_key_t *key, void *arg)
{
    http_ctx_t *ctx = arg;
    json_t *body;
    http_wait_end(ctx);
    if (error)
        http_respond_store_error(ctx, error, "API key");
    else if ((body = http_rendered(ctx, key_json(key), "API key")) != NULL)
        http_respond(ctx, 200, body);
    http_wait_release(ctx);
}

void http_api_keys_get(http_ctx_t *ctx)
{
    char id_text[37];
    eng_id_t id;
    domain_error_t error;
    if (http_path_id(ctx, 0, "API key", id_text, &id))
        http_await(
            ctx, domain_api_keys_get(http_pool(ctx), &ctx->organization, &id, on_got, ctx, &error),
            &error);
}

static void on_revoked(int error, void *arg)
{
    http_ctx_t *ctx = arg;
    http_wait_end(ctx);
    if (error == 0) {
        http_server_forget_keys(ctx->server, &ctx->organization);
        http_respond_empty(ctx);
    } else if (error == STORE_ECONFLICT) {
        http_respond_error(ctx, 409, "conflict",
                           "This is the organization's last admin key; create another admin key "
                           "before revoking it.",
                           NULL);
    } else {
        http_respond_store_error(ctx, error, "API key");
    }
    http_wait_release(ctx);
}

void http_api_keys_revoke(http_ctx_t *ctx)
{
    char id_text[37];
    eng_id_t id;
    domain_error_t error;
    if (http_path_id(ctx, 0, "API key", id_text, &id))
        http_await(ctx,
                   domain_api_keys_revoke(http_pool(ctx), &ctx->organization, &id, on_revoked, ctx,
                                          &error),
                   &error);
}
