/*
 * /v1/api-keys: an admin creates, lists and revokes its organization's keys.
 *
 * A key is generated here (store_key_generate), shown once in the 201 answer,
 * and stored as its SHA-256 with a role, an optional name and a prefix that
 * listings show instead of the key. Revocation goes through the database
 * function slotd_revoke_key, which refuses to take an organization's last
 * admin key (409) and whose UPDATE the api_keys trigger announces to every
 * instance; this instance forgets the organization's cached keys before it
 * answers, so the revoked key is refused from the very next request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/routes.h"
#include "slotd/codec.h"
#include "store/keys.h"

#define KEY_NAME_MAX 200
#define KEY_LIST_DEFAULT 100
#define KEY_LIST_MAX 1000

static json_t *nullable_text(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? json_null() : json_string(PQgetvalue(res, row, col));
}

/* Renders a row of key_insert / key_list / key_get: id, role, name, prefix, created_at. */
static json_t *key_json(const PGresult *res, int row)
{
    return json_pack("{s:s, s:s, s:o, s:o, s:s}", "id", PQgetvalue(res, row, 0), "role",
                     PQgetvalue(res, row, 1), "name", nullable_text(res, row, 2), "prefix",
                     nullable_text(res, row, 3), "created_at", PQgetvalue(res, row, 4));
}

static void on_created(http_ctx_t *ctx, const PGresult *res, const char *sqlstate)
{
    if (!http_single_row(ctx, res, sqlstate, "organization"))
        return;
    json_t *key = key_json(res, 0);
    json_object_set_new(key, "api_key", json_string(ctx->state));
    http_respond(ctx, 201, key);
}

void http_api_keys_create(http_ctx_t *ctx)
{
    if (!json_is_object(ctx->body)) {
        http_respond_invalid(ctx, "body", "Send a JSON object: {\"role\":\"agent\"}.");
        return;
    }
    const char *role = NULL, *name = NULL, *field;
    json_t *value;
    json_object_foreach(ctx->body, field, value)
    {
        if (strcmp(field, "role") == 0) {
            role = json_string_value(value);
            if (role == NULL ||
                (strcmp(role, "admin") && strcmp(role, "agent") && strcmp(role, "sync"))) {
                http_respond_invalid(ctx, "role", "role must be \"admin\", \"agent\" or \"sync\".");
                return;
            }
        } else if (strcmp(field, "name") == 0) {
            if (json_is_null(value))
                continue;
            name = json_string_value(value);
            if (name == NULL || name[0] == 0 || strlen(name) > KEY_NAME_MAX) {
                http_respond_invalid(ctx, "name", "name must be text of 1 to 200 bytes, or null.");
                return;
            }
        } else {
            http_respond_invalid(ctx, field, "Unknown field.");
            return;
        }
    }
    if (role == NULL) {
        http_respond_invalid(ctx, "role", "role is required: \"admin\", \"agent\" or \"sync\".");
        return;
    }
    char *key = malloc(STORE_KEY_LENGTH + 1);
    store_key_generate(&ctx->organization, key);
    ctx->state = key;
    ctx->free_state = free;
    uint8_t hash[STORE_KEY_HASH_LENGTH];
    char hash_text[2 + 2 * STORE_KEY_HASH_LENGTH + 1], prefix[STORE_KEY_PREFIX_LENGTH + 1];
    store_key_hash(key, STORE_KEY_LENGTH, hash);
    store_key_hash_text(hash, hash_text);
    memcpy(prefix, key, STORE_KEY_PREFIX_LENGTH);
    prefix[STORE_KEY_PREFIX_LENGTH] = 0;
    const char *values[5] = {ctx->organization_text, hash_text, role, name, prefix};
    http_query(ctx, "key_insert", 5, values, on_created);
}

static void on_list(http_ctx_t *ctx, const PGresult *res, const char *sqlstate)
{
    if (sqlstate) {
        http_respond_database_error(ctx, sqlstate);
        return;
    }
    int limit = *(int *)ctx->state;
    json_t *items = json_array();
    int n = PQntuples(res);
    for (int row = 0; row < n && row < limit; row++)
        json_array_append_new(items, key_json(res, row));
    json_t *next = n > limit ? json_string(PQgetvalue(res, limit - 1, 0)) : json_null();
    http_respond(ctx, 200, json_pack("{s:o, s:o}", "items", items, "next_cursor", next));
}

void http_api_keys_list(http_ctx_t *ctx)
{
    char limit_text[16], cursor_text[64], fetch[16];
    int limit = KEY_LIST_DEFAULT;
    if (http_query_param(ctx, "limit", limit_text, sizeof(limit_text))) {
        limit = atoi(limit_text); /* digits only, at most 9: checked by the router */
        if (limit < 1 || limit > KEY_LIST_MAX) {
            http_respond_invalid(ctx, "limit", "limit must be a whole number from 1 to 1000.");
            return;
        }
    }
    const char *cursor = http_query_param(ctx, "cursor", cursor_text, sizeof(cursor_text));
    eng_id_t id;
    if (cursor && codec_parse_uuid(cursor, &id) != 0) {
        http_respond_invalid(ctx, "cursor", "cursor must be a next_cursor from an earlier page.");
        return;
    }
    int *state = malloc(sizeof(int));
    *state = limit;
    ctx->state = state;
    ctx->free_state = free;
    snprintf(fetch, sizeof(fetch), "%d", limit + 1);
    const char *values[3] = {ctx->organization_text, cursor, fetch};
    http_query(ctx, "key_list", 3, values, on_list);
}

static void on_get(http_ctx_t *ctx, const PGresult *res, const char *sqlstate)
{
    if (sqlstate)
        http_respond_database_error(ctx, sqlstate);
    else if (PQntuples(res) != 1)
        http_respond_not_found(ctx, "API key");
    else
        http_respond(ctx, 200, key_json(res, 0));
}

/* The path's key id, canonical, into text (37 bytes); answers 404 when it is not an id. */
static bool key_id(http_ctx_t *ctx, char *text)
{
    eng_id_t id;
    if (codec_parse_uuid(ctx->params[0], &id) != 0) {
        http_respond_not_found(ctx, "API key");
        return false;
    }
    codec_format_uuid(&id, text);
    return true;
}

void http_api_keys_get(http_ctx_t *ctx)
{
    char id[37];
    if (!key_id(ctx, id))
        return;
    const char *values[2] = {ctx->organization_text, id};
    http_query(ctx, "key_get", 2, values, on_get);
}

static void on_revoked(http_ctx_t *ctx, const PGresult *res, const char *sqlstate)
{
    if (sqlstate) {
        http_respond_database_error(ctx, sqlstate);
        return;
    }
    const char *outcome = PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "";
    if (strcmp(outcome, "revoked") == 0) {
        http_server_forget_keys(ctx->server, &ctx->organization);
        http_respond_empty(ctx);
    } else if (strcmp(outcome, "last_admin") == 0) {
        http_respond_error(ctx, 409, "conflict",
                           "This is the organization's last admin key; create another admin key "
                           "before revoking it.",
                           NULL);
    } else {
        http_respond_not_found(ctx, "API key");
    }
}

void http_api_keys_revoke(http_ctx_t *ctx)
{
    char id[37];
    if (!key_id(ctx, id))
        return;
    const char *values[2] = {ctx->organization_text, id};
    http_query(ctx, "key_revoke", 2, values, on_revoked);
}
