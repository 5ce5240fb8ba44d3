/*
 * Authentication and authorization: "Authorization: Bearer sk_<org>_<secret>".
 *
 * The key's SHA-256 is looked up by (organization_id, key_hash). Positive
 * answers are cached in the server (per loop) for HTTP_KEY_CACHE_SECONDS and
 * compared in constant time, so a hot key costs no query. A revocation drops
 * the organization's cached keys at once: on this instance from the route that
 * revoked it, on every other one from the NOTIFY that the api_keys trigger
 * sends (the index forwards it, serve.c wires it to http_server_forget_keys).
 * Notifications sent while an instance's LISTEN connection is down are lost, so
 * when it is back the whole cache is dropped. A lookup that was running when a
 * revocation arrived answers its own request but is not cached (a generation
 * counter tells), so a stale answer can never outlive the revocation.
 *
 * Authorization: a route names the set of roles that may call it (server.h);
 * a key's role must be in it, else 403 naming the role.
 */
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http/internal.h"
#include "slotd/codec.h"

static const char *const role_names[] = {"none", "sync", "agent", "admin", "any"};

void http__run_handler(http_ctx_t *ctx)
{
    h2o_req_t *req = ctx->req;
    if (req && req->entity.base != NULL && req->entity.len > 0 &&
        !(ctx->route->flags & HTTP_ROUTE_RAW_BODY)) {
        json_error_t error;
        ctx->body =
            codec_json_load(req->entity.base, req->entity.len, JSON_REJECT_DUPLICATES, &error);
        if (ctx->body == NULL) {
            http_respond_invalid(ctx, "body", "The request body is not valid JSON.");
            return;
        }
    }
    ctx->route->handler(ctx);
}

static void authorize(http_ctx_t *ctx)
{
    if ((ctx->route->roles & HTTP_ROLE_BIT(ctx->role)) == 0) {
        http_respond_error(ctx, 403, "forbidden", "This API key's role may not do that.",
                           json_pack("{s:s}", "role", role_names[ctx->role]));
        return;
    }
    http__run_handler(ctx);
}

static http_role_t role_of(const char *text)
{
    return strcmp(text, "admin") == 0   ? HTTP_ROLE_ADMIN
           : strcmp(text, "agent") == 0 ? HTTP_ROLE_AGENT
                                        : HTTP_ROLE_SYNC;
}

/* The first entry of the key's set (the hash is SHA-256: its bytes are evenly spread). */
static http_key_entry_t *key_set(http_server_t *s, const uint8_t *hash)
{
    size_t sets = HTTP_KEY_CACHE_SIZE / HTTP_KEY_CACHE_WAYS;
    return &s->keys[((size_t)hash[0] | (size_t)hash[1] << 8 | (size_t)hash[2] << 16) % sets *
                    HTTP_KEY_CACHE_WAYS];
}

static void on_key_row(http_ctx_t *ctx, const PGresult *result, const char *sqlstate)
{
    if (sqlstate) {
        http_respond_database_error(ctx, sqlstate);
        return;
    }
    if (PQntuples(result) != 1) {
        http_respond_error(ctx, 401, "unauthorized", "The API key is not valid.", NULL);
        return;
    }
    ctx->role = role_of(PQgetvalue(result, 0, 0));
    http_server_t *s = ctx->server;
    if (ctx->key_generation != s->keys_generation) {
        /* a revocation came while the lookup ran: its answer may predate it, so use it for
         * this request (as if it had come a moment earlier) but do not remember it */
        authorize(ctx);
        return;
    }
    /* remember it, in place of the entry that expires first */
    http_key_entry_t *set = key_set(s, ctx->key_hash), *slot = set;
    for (size_t i = 1; i < HTTP_KEY_CACHE_WAYS; i++)
        if (set[i].until < slot->until)
            slot = &set[i];
    memcpy(slot->hash, ctx->key_hash, STORE_KEY_HASH_LENGTH);
    slot->organization = ctx->organization;
    slot->role = ctx->role;
    slot->until = (int64_t)time(NULL) + HTTP_KEY_CACHE_SECONDS;
    authorize(ctx);
}

void http_server_forget_keys(http_server_t *s, const eng_id_t *organization)
{
    s->keys_generation++;
    for (size_t i = 0; i < HTTP_KEY_CACHE_SIZE; i++)
        if (organization == NULL ||
            memcmp(&s->keys[i].organization, organization, sizeof(eng_id_t)) == 0)
            s->keys[i].until = 0;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* The token of "Bearer <token>", spaces around it allowed; NULL when there is none. */
static const char *bearer_token(h2o_req_t *req, size_t *length)
{
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    if (i < 0)
        return NULL;
    h2o_iovec_t v = req->headers.entries[i].value;
    const char *p = v.base, *end = v.base + v.len;
    while (p < end && is_space(*p))
        p++;
    if (end - p < 7 || strncasecmp(p, "Bearer", 6) != 0 || !is_space(p[6]))
        return NULL;
    p += 7;
    while (p < end && is_space(*p))
        p++;
    while (end > p && is_space(end[-1]))
        end--;
    if (p == end)
        return NULL;
    *length = (size_t)(end - p);
    return p;
}

void http__authenticate(http_ctx_t *ctx, h2o_req_t *req)
{
    size_t key_len = 0;
    const char *key = bearer_token(req, &key_len);
    if (key == NULL) {
        http_respond_error(ctx, 401, "unauthorized",
                           "Send an API key: Authorization: Bearer <key>.", NULL);
        return;
    }
    if (!store_key_organization(key, key_len, &ctx->organization)) {
        http_respond_error(ctx, 401, "unauthorized", "The API key is not valid.", NULL);
        return;
    }
    codec_format_uuid(&ctx->organization, ctx->organization_text);
    store_key_hash(key, key_len, ctx->key_hash);
    int64_t now = (int64_t)time(NULL);
    http_server_t *s = ctx->server;
    http_key_entry_t *set = key_set(s, ctx->key_hash);
    for (size_t k = 0; k < HTTP_KEY_CACHE_WAYS; k++) {
        http_key_entry_t *e = &set[k];
        if (e->until > now && CRYPTO_memcmp(e->hash, ctx->key_hash, STORE_KEY_HASH_LENGTH) == 0 &&
            memcmp(&e->organization, &ctx->organization, sizeof(eng_id_t)) == 0) {
            ctx->role = e->role;
            authorize(ctx);
            return;
        }
    }
    char hex[2 + 2 * STORE_KEY_HASH_LENGTH + 1];
    store_key_hash_text(ctx->key_hash, hex);
    const char *values[2] = {ctx->organization_text, hex};
    ctx->key_generation = s->keys_generation;
    http_query(ctx, "key_auth", 2, values, on_key_row);
}
