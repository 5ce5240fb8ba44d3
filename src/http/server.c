/*
 * The HTTP server (see server.h for the request life cycle).
 *
 * Invariants:
 *   - A context is settled exactly once: by its answer, its deadline, or its
 *     client going away. Settling stops the deadline timer, cancels a pending
 *     query, writes the log line and the metrics, and lowers the in-flight count.
 *   - A context is freed only when nothing refers to it: the request (until h2o
 *     disposes of the request's memory pool), the deadline timer (until its
 *     close callback), and a pending query (until its callback or cancellation).
 *   - The JSON envelope is the only error format a client sees; no C error
 *     string or SQL text leaves the process.
 *
 * Authentication: "Authorization: Bearer sk_<org>_<secret>". The key's SHA-256
 * is looked up by (organization_id, key_hash); positive answers are cached for a
 * minute (compared in constant time), so a hot key costs no query.
 */
#include "http/server.h"

#include <h2o.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "slotd/alloc.h"
#include "slotd/codec.h"
#include "store/keys.h"

#define KEY_CACHE_SIZE 256
#define KEY_CACHE_SECONDS 60
#define H2O_ENTITY_LIMIT (8 * 1024 * 1024) /* h2o's own refusal; ours is HTTP_BODY_LIMIT */

static const double bucket_ms[] = {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000};
#define BUCKETS (sizeof(bucket_ms) / sizeof(bucket_ms[0]))

typedef struct {
    uint64_t count;
    uint64_t by_class[6]; /* 1xx..5xx, and 499 (client went away) in [0] */
    uint64_t buckets[BUCKETS + 1];
    double seconds;
} route_metrics_t;

typedef struct {
    uint8_t hash[STORE_KEY_HASH_LENGTH];
    eng_id_t organization;
    http_role_t role;
    int64_t until;
} key_entry_t;

typedef struct {
    h2o_handler_t super;
    http_server_t *server;
} handler_t;

struct http_server {
    uv_loop_t *loop;
    http_server_options_t options;
    h2o_globalconf_t config;
    h2o_context_t context;
    h2o_accept_ctx_t accept;
    uv_tcp_t listener;
    bool listener_open;
    int inflight; /* requests not yet settled */
    int live;     /* contexts not yet freed */
    bool stopping;
    void (*on_idle)(void *);
    void *idle_arg;
    uint32_t id_prefix;
    uint64_t id_counter;
    bool clock_frozen;
    int64_t frozen_now;
    key_entry_t keys[KEY_CACHE_SIZE];
    route_metrics_t *metrics; /* one per route, plus one for unmatched requests */
};

static const char *const role_names[] = {"none", "sync", "agent", "admin", "any"};

store_index_t *http_index(http_ctx_t *ctx)
{
    return ctx->server->options.index;
}

index_org_t *http_index_org(http_ctx_t *ctx)
{
    return store_index_org(ctx->server->options.index, &ctx->organization);
}

int64_t http_now(const http_server_t *server)
{
    return server->clock_frozen ? server->frozen_now : (int64_t)time(NULL);
}

void http_server_freeze_clock(http_server_t *server, int64_t now)
{
    server->clock_frozen = true;
    server->frozen_now = now;
}

static uint64_t monotonic_ns(void)
{
    return uv_hrtime();
}

/* ---- context life ------------------------------------------------------------------ */

static void maybe_idle(http_server_t *server);

static void unref(http_ctx_t *ctx)
{
    if (--ctx->refs > 0)
        return;
    json_decref(ctx->body);
    json_decref(ctx->after_index_body);
    if (ctx->free_state)
        ctx->free_state(ctx->state);
    free(ctx->path_copy);
    http_server_t *server = ctx->server;
    free(ctx);
    server->live--;
    maybe_idle(server);
}

static void on_timer_closed(uv_handle_t *handle)
{
    http_ctx_t *ctx = handle->data;
    free(handle);
    unref(ctx);
}

static const char *reason_of(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 422:
        return "Unprocessable Entity";
    case 429:
        return "Too Many Requests";
    case 503:
        return "Service Unavailable";
    default:
        return status >= 500 ? "Internal Server Error" : "Error";
    }
}

static void record(http_ctx_t *ctx, int status)
{
    http_server_t *s = ctx->server;
    double ms = (double)(monotonic_ns() - ctx->started_ns) / 1e6;
    size_t index = ctx->route ? (size_t)(ctx->route - s->options.routes) : s->options.route_count;
    route_metrics_t *m = &s->metrics[index];
    m->count++;
    m->by_class[status == 499 ? 0 : (status / 100 > 5 ? 5 : status / 100)]++;
    size_t b = 0;
    while (b < BUCKETS && ms > bucket_ms[b])
        b++;
    m->buckets[b]++;
    m->seconds += ms / 1000;
    /* One JSON line per request. */
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    printf("{\"ts\":\"%s\",\"request_id\":\"%s\",\"route\":\"%s\",\"status\":%d,"
           "\"duration_ms\":%.3f%s%s%s}\n",
           when, ctx->request_id, ctx->route ? ctx->route->name : "unmatched", status, ms,
           ctx->organization_text[0] ? ",\"organization_id\":\"" : "", ctx->organization_text,
           ctx->organization_text[0] ? "\"" : "");
    fflush(stdout);
}

/* Settles the request: the one place that answers, logs, and lets go. */
static void settle(http_ctx_t *ctx, int status, const char *body, size_t length)
{
    if (ctx->settled)
        return;
    ctx->settled = true;
    ctx->status = status;
    if (ctx->deadline) {
        uv_timer_stop(ctx->deadline);
        uv_close((uv_handle_t *)ctx->deadline, on_timer_closed);
        ctx->deadline = NULL;
    }
    if (ctx->query) {
        store_query_cancel(ctx->query);
        ctx->query = NULL;
        unref(ctx); /* the query's reference: its callback will not come */
    }
    if (ctx->wait_operation) {
        void *operation = ctx->wait_operation;
        ctx->wait_operation = NULL;
        ctx->wait_cancel(operation);
        unref(ctx); /* http_wait's reference: the operation will not call back */
    }
    h2o_req_t *req = ctx->req;
    if (req) {
        static h2o_generator_t generator = {NULL, NULL};
        req->res.status = status;
        req->res.reason = reason_of(status);
        h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-request-id"), 0, NULL,
                              ctx->request_id, strlen(ctx->request_id));
        if (length && !ctx->plain_text) {
            h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                           H2O_STRLIT("application/json"));
        }
        req->res.content_length = length;
        h2o_start_response(req, &generator);
        h2o_iovec_t buf = h2o_iovec_init(NULL, 0);
        if (length) {
            buf.base = h2o_mem_alloc_pool(&req->pool, length);
            memcpy(buf.base, body, length);
            buf.len = length;
        }
        h2o_send(req, &buf, length ? 1 : 0, H2O_SEND_STATE_FINAL);
    }
    record(ctx, req ? status : 499);
    ctx->server->inflight--;
    maybe_idle(ctx->server);
}

static void on_dispose(void *p)
{
    http_ctx_t *ctx = *(http_ctx_t **)p;
    ctx->req = NULL;
    settle(ctx, 499, NULL, 0); /* the client went away before an answer */
    unref(ctx);
}

static void send_after_index(http_ctx_t *ctx)
{
    json_t *body = ctx->after_index_body;
    ctx->after_index_body = NULL;
    ctx->after_index = false;
    if (body)
        http_respond(ctx, ctx->after_index_status, body);
    else
        settle(ctx, ctx->after_index_status, NULL, 0);
}

static void on_deadline(uv_timer_t *timer)
{
    http_ctx_t *ctx = timer->data;
    if (ctx->after_index) {
        send_after_index(ctx); /* committed: say so, even if the index is slow */
        return;
    }
    http_respond_error(ctx, 503, "unavailable",
                       "The request did not finish in time; please try again.", NULL);
}

static void on_index_done(void *arg)
{
    http_ctx_t *ctx = arg;
    if (ctx->after_index && !ctx->settled)
        send_after_index(ctx);
    unref(ctx);
}

void http_respond_after_index(http_ctx_t *ctx, int status, json_t *body, index_kind_t kind,
                              const eng_id_t *id)
{
    if (ctx->settled || ctx->server->options.index == NULL) {
        if (body)
            http_respond(ctx, status, body);
        else
            settle(ctx, status, NULL, 0);
        return;
    }
    ctx->after_index = true;
    ctx->after_index_body = body;
    ctx->after_index_status = status;
    ctx->refs++;
    store_index_refresh(ctx->server->options.index, kind, &ctx->organization, id, on_index_done,
                        ctx);
}

/* ---- answers --------------------------------------------------------------------------- */

void http_respond(http_ctx_t *ctx, int status, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (text == NULL) { /* a json_pack that failed (text that is not UTF-8): never strlen(NULL) */
        fprintf(stderr, "slotd: request %s: an answer could not be rendered\n", ctx->request_id);
        static const char internal[] = "{\"error\":{\"code\":\"internal\",\"message\":"
                                       "\"Something went wrong on our side.\",\"details\":{}}}";
        settle(ctx, 500, internal, sizeof(internal) - 1);
        return;
    }
    settle(ctx, status, text, strlen(text));
    free(text);
}

void http_respond_raw(http_ctx_t *ctx, int status, const char *json, size_t length)
{
    settle(ctx, status, json, length);
}

void http_respond_empty(http_ctx_t *ctx)
{
    settle(ctx, 204, NULL, 0);
}

void http_respond_error(http_ctx_t *ctx, int status, const char *code, const char *message,
                        json_t *details)
{
    http_respond(ctx, status,
                 json_pack("{s:{s:s, s:s, s:o}}", "error", "code", code, "message", message,
                           "details", details ? details : json_object()));
}

void http_respond_invalid(http_ctx_t *ctx, const char *field, const char *message)
{
    http_respond_error(ctx, 400, "invalid_request", message, json_pack("{s:s}", "field", field));
}

void http_respond_not_found(http_ctx_t *ctx, const char *what)
{
    char message[128];
    snprintf(message, sizeof(message), "No such %s.", what);
    http_respond_error(ctx, 404, "not_found", message, NULL);
}

void http_respond_database_error(http_ctx_t *ctx, const char *sqlstate)
{
    if (sqlstate == NULL || strncmp(sqlstate, "08", 2) == 0 || strcmp(sqlstate, "57014") == 0 ||
        strncmp(sqlstate, "53", 2) == 0 || strcmp(sqlstate, "57P01") == 0) {
        http_respond_error(ctx, 503, "unavailable",
                           "The database is not answering; please try again.", NULL);
        return;
    }
    fprintf(stderr, "slotd: request %s: unexpected database error %s\n", ctx->request_id, sqlstate);
    http_respond_error(ctx, 500, "internal", "Something went wrong on our side.", NULL);
}

/* ---- queries ------------------------------------------------------------------------------- */

typedef void (*query_cb_t)(http_ctx_t *, const PGresult *, const char *);

static void on_query_done(const PGresult *result, const char *sqlstate, void *arg)
{
    http_ctx_t *ctx = arg;
    query_cb_t cb = (query_cb_t)ctx->pending_cb;
    ctx->query = NULL;
    if (!ctx->settled) {
        if (result == NULL)
            http_respond_database_error(ctx, NULL);
        else
            cb(ctx, result, sqlstate);
    }
    unref(ctx);
}

void http_query(http_ctx_t *ctx, const char *statement, int count, const char *const *values,
                void (*cb)(http_ctx_t *ctx, const PGresult *result, const char *sqlstate))
{
    ctx->pending_cb = (void *)cb;
    ctx->refs++;
    ctx->query =
        store_query(ctx->server->options.pool, statement, count, values, on_query_done, ctx);
    if (ctx->query == NULL) {
        ctx->refs--;
        http_respond_error(ctx, 503, "unavailable", "The service is busy; please try again.", NULL);
    }
}

/* ---- operations of other layers ----------------------------------------------------------- */

void http_wait(http_ctx_t *ctx, void *operation, void (*cancel)(void *operation))
{
    ctx->wait_operation = operation;
    ctx->wait_cancel = cancel;
    ctx->refs++;
}

void http_wait_end(http_ctx_t *ctx)
{
    ctx->wait_operation = NULL;
}

void http_wait_release(http_ctx_t *ctx)
{
    unref(ctx);
}

store_pool_t *http_pool(http_ctx_t *ctx)
{
    return ctx->server->options.pool;
}

/* ---- request parsing ----------------------------------------------------------------------- */

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes %XX and '+' (a space) in place; false on a bad escape. */
static bool url_decode(char *s)
{
    char *out = s;
    for (; *s; s++) {
        if (*s == '%') {
            int hi = hex_digit(s[1]), lo = hi >= 0 ? hex_digit(s[2]) : -1;
            if (hi < 0 || lo < 0)
                return false;
            *out++ = (char)(hi * 16 + lo);
            s += 2;
        } else {
            *out++ = *s == '+' ? ' ' : *s;
        }
    }
    *out = 0;
    return true;
}

int http_query_param_all(http_ctx_t *ctx, const char *name, char *values, size_t size, int max)
{
    h2o_req_t *req = ctx->req;
    if (req == NULL || req->query_at == SIZE_MAX)
        return 0;
    const char *q = req->path.base + req->query_at + 1;
    const char *end = req->path.base + req->path.len;
    size_t name_len = strlen(name);
    int n = 0;
    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(q, '=', (size_t)(stop - q));
        if (eq && (size_t)(eq - q) == name_len && memcmp(q, name, name_len) == 0) {
            size_t len = (size_t)(stop - eq - 1);
            if (n < max) {
                char *out = values + (size_t)n * size;
                if (len >= size)
                    return -1;
                memcpy(out, eq + 1, len);
                out[len] = 0;
                if (!url_decode(out))
                    return -1;
            }
            n++;
        }
        q = stop + 1;
    }
    return n;
}

const char *http_query_param(http_ctx_t *ctx, const char *name, char *buffer, size_t size)
{
    return http_query_param_all(ctx, name, buffer, size, 1) >= 1 ? buffer : NULL;
}

/* Matches a path against a pattern, filling ctx->params from ":name" segments. */
static bool match(const char *pattern, char *path, http_ctx_t *ctx)
{
    int n = 0;
    const char *p = pattern;
    char *s = path;
    while (*p && *s) {
        if (*p != '/' || *s != '/')
            return false;
        p++;
        s++;
        const char *p_end = strchr(p, '/');
        size_t p_len = p_end ? (size_t)(p_end - p) : strlen(p);
        char *s_end = strchr(s, '/');
        size_t s_len = s_end ? (size_t)(s_end - s) : strlen(s);
        if (*p == ':') {
            if (s_len == 0 || n == HTTP_MAX_PATH_PARAMS)
                return false;
            ctx->params[n++] = s;
        } else if (p_len != s_len || memcmp(p, s, p_len) != 0) {
            return false;
        }
        p += p_len;
        s += s_len;
    }
    if (*p || *s)
        return false;
    /* terminate the parameters inside the copy */
    for (int i = 0; i < n; i++) {
        char *slash = strchr(ctx->params[i], '/');
        if (slash)
            *slash = 0;
    }
    return true;
}

/* ---- authentication ------------------------------------------------------------------------- */

static void run_handler(http_ctx_t *ctx)
{
    const http_route_t *route = ctx->route;
    bool allowed =
        ctx->role == HTTP_ROLE_ADMIN ||
        (!route->admin_only && (route->reads == HTTP_ROLE_ANY || ctx->role == route->reads));
    if (!allowed) {
        http_respond_error(ctx, 403, "forbidden", "This API key's role may not do that.",
                           json_pack("{s:s}", "role", role_names[ctx->role]));
        return;
    }
    h2o_req_t *req = ctx->req;
    if (req && req->entity.base != NULL && req->entity.len > 0) {
        json_error_t error;
        ctx->body = json_loadb(req->entity.base, req->entity.len, JSON_REJECT_DUPLICATES, &error);
        if (ctx->body == NULL) {
            http_respond_invalid(ctx, "body", "The request body is not valid JSON.");
            return;
        }
    }
    route->handler(ctx);
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
    const char *role = PQgetvalue(result, 0, 0);
    ctx->role = strcmp(role, "admin") == 0   ? HTTP_ROLE_ADMIN
                : strcmp(role, "agent") == 0 ? HTTP_ROLE_AGENT
                                             : HTTP_ROLE_SYNC;
    /* remember it */
    http_server_t *s = ctx->server;
    key_entry_t *slot = &s->keys[0];
    for (size_t i = 0; i < KEY_CACHE_SIZE; i++)
        if (s->keys[i].until < slot->until)
            slot = &s->keys[i];
    memcpy(slot->hash, ctx->key_hash, STORE_KEY_HASH_LENGTH);
    slot->organization = ctx->organization;
    slot->role = ctx->role;
    slot->until = (int64_t)time(NULL) + KEY_CACHE_SECONDS;
    run_handler(ctx);
}

static void authenticate(http_ctx_t *ctx, h2o_req_t *req)
{
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    const char *key = NULL;
    size_t key_len = 0;
    if (i >= 0) {
        h2o_iovec_t v = req->headers.entries[i].value;
        if (v.len > 7 && strncasecmp(v.base, "Bearer ", 7) == 0) {
            key = v.base + 7;
            key_len = v.len - 7;
        }
    }
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
    for (size_t k = 0; k < KEY_CACHE_SIZE; k++) {
        key_entry_t *e = &s->keys[k];
        if (e->until > now && CRYPTO_memcmp(e->hash, ctx->key_hash, STORE_KEY_HASH_LENGTH) == 0 &&
            memcmp(&e->organization, &ctx->organization, sizeof(eng_id_t)) == 0) {
            ctx->role = e->role;
            run_handler(ctx);
            return;
        }
    }
    char hex[2 + 2 * STORE_KEY_HASH_LENGTH + 1] = "\\x";
    for (size_t k = 0; k < STORE_KEY_HASH_LENGTH; k++)
        snprintf(hex + 2 + 2 * k, 3, "%02x", ctx->key_hash[k]);
    const char *values[2] = {ctx->organization_text, hex};
    http_query(ctx, "auth_key", 2, values, on_key_row);
}

/* ---- the h2o handler ------------------------------------------------------------------------ */

static bool method_is(h2o_req_t *req, const char *method)
{
    return req->method.len == strlen(method) &&
           memcmp(req->method.base, method, req->method.len) == 0;
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    http_server_t *s = ((handler_t *)self)->server;
    http_ctx_t *ctx = slotd_calloc(1, sizeof(*ctx));
    ctx->server = s;
    ctx->req = req;
    ctx->refs = 1;
    s->live++;
    ctx->started_ns = monotonic_ns();
    snprintf(ctx->request_id, sizeof(ctx->request_id), "%08" PRIx32 "%08" PRIx64, s->id_prefix,
             ++s->id_counter);
    http_ctx_t **link = h2o_mem_alloc_shared(&req->pool, sizeof(*link), on_dispose);
    *link = ctx;
    s->inflight++;

    ctx->deadline = slotd_malloc(sizeof(uv_timer_t));
    uv_timer_init(s->loop, ctx->deadline);
    ctx->deadline->data = ctx;
    ctx->refs++;
    uv_timer_start(ctx->deadline, on_deadline, (uint64_t)s->options.request_timeout_ms, 0);

    if (s->stopping) {
        /* Shutting down: the pool and the index may be gone already. */
        req->http1_is_persistent = 0;
        http_respond_error(ctx, 503, "unavailable", "The service is shutting down.", NULL);
        return 0;
    }

    /* route */
    ctx->path_copy = slotd_malloc(req->path_normalized.len + 1);
    memcpy(ctx->path_copy, req->path_normalized.base, req->path_normalized.len);
    ctx->path_copy[req->path_normalized.len] = 0;
    bool path_known = false;
    for (size_t i = 0; i < s->options.route_count && !ctx->route; i++) {
        const http_route_t *r = &s->options.routes[i];
        char scratch[1024];
        if (strlen(ctx->path_copy) >= sizeof(scratch))
            break;
        strcpy(scratch, ctx->path_copy);
        http_ctx_t probe = {0};
        if (!match(r->pattern, scratch, &probe))
            continue;
        path_known = true;
        if (method_is(req, r->method)) {
            ctx->route = r;
            match(r->pattern, ctx->path_copy, ctx);
        }
    }
    if (ctx->route == NULL) {
        if (path_known)
            http_respond_error(ctx, 405, "method_not_allowed",
                               "This path does not take that method.", NULL);
        else
            http_respond_error(ctx, 404, "not_found", "No such route.", NULL);
        return 0;
    }

    if (req->entity.base != NULL && req->entity.len > HTTP_BODY_LIMIT) {
        http_respond_error(ctx, 413, "payload_too_large", "The request body is larger than 1 MiB.",
                           NULL);
        return 0;
    }
    if (ctx->route->reads == HTTP_ROLE_NONE)
        ctx->route->handler(ctx);
    else
        authenticate(ctx, req);
    return 0;
}

/* ---- operations routes ---------------------------------------------------------------------- */

static void write_metrics(http_server_t *s, FILE *out);

static void on_healthz(http_ctx_t *ctx)
{
    http_respond(ctx, 200, json_pack("{s:s}", "status", "ok"));
}

static void on_readyz(http_ctx_t *ctx)
{
    http_server_t *s = ctx->server;
    bool database = store_pool_ready_count(s->options.pool) > 0;
    bool rest = s->options.index == NULL || store_index_ready(s->options.index);
    if (database && rest && !s->stopping)
        http_respond(ctx, 200, json_pack("{s:s}", "status", "ready"));
    else
        http_respond_error(ctx, 503, "unavailable",
                           s->stopping ? "The service is shutting down."
                           : !database ? "The database is not answering."
                                       : "The service is still loading its index.",
                           NULL);
}

static void on_metrics(http_ctx_t *ctx)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    write_metrics(ctx->server, out);
    fclose(out);
    h2o_req_t *req = ctx->req;
    if (req && !ctx->settled) {
        /* plain text, not JSON: set the type before settling */
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                       H2O_STRLIT("text/plain; version=0.0.4"));
    }
    ctx->plain_text = true;
    settle(ctx, 200, text, size);
    free(text);
}

static const http_route_t operations_routes[] = {
    {"GET", "/healthz", "GET /healthz", HTTP_ROLE_NONE, false, on_healthz},
    {"GET", "/readyz", "GET /readyz", HTTP_ROLE_NONE, false, on_readyz},
    {"GET", "/metrics", "GET /metrics", HTTP_ROLE_NONE, false, on_metrics},
};

static void write_metrics(http_server_t *s, FILE *out)
{
    fprintf(out, "# HELP slotd_http_requests_total HTTP requests by route and status class.\n"
                 "# TYPE slotd_http_requests_total counter\n");
    static const char *const classes[] = {"499", "1xx", "2xx", "3xx", "4xx", "5xx"};
    for (size_t i = 0; i <= s->options.route_count; i++) {
        const char *name = i < s->options.route_count ? s->options.routes[i].name : "unmatched";
        for (int c = 0; c < 6; c++)
            if (s->metrics[i].by_class[c])
                fprintf(out, "slotd_http_requests_total{route=\"%s\",status=\"%s\"} %" PRIu64 "\n",
                        name, classes[c], s->metrics[i].by_class[c]);
    }
    fprintf(out, "# HELP slotd_http_request_duration_seconds Time to answer, by route.\n"
                 "# TYPE slotd_http_request_duration_seconds histogram\n");
    for (size_t i = 0; i <= s->options.route_count; i++) {
        const route_metrics_t *m = &s->metrics[i];
        if (m->count == 0)
            continue;
        const char *name = i < s->options.route_count ? s->options.routes[i].name : "unmatched";
        uint64_t cumulative = 0;
        for (size_t b = 0; b < BUCKETS; b++) {
            cumulative += m->buckets[b];
            fprintf(out,
                    "slotd_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %" PRIu64
                    "\n",
                    name, bucket_ms[b] / 1000, cumulative);
        }
        fprintf(out,
                "slotd_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %" PRIu64 "\n"
                "slotd_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
                "slotd_http_request_duration_seconds_count{route=\"%s\"} %" PRIu64 "\n",
                name, m->count, name, m->seconds, name, m->count);
    }
    fprintf(out,
            "# HELP slotd_db_pool_connections Database connections by state.\n"
            "# TYPE slotd_db_pool_connections gauge\n"
            "slotd_db_pool_connections{state=\"ready\"} %d\n"
            "slotd_db_pool_connections{state=\"busy\"} %d\n"
            "# HELP slotd_db_pool_queued Queries waiting for a connection.\n"
            "# TYPE slotd_db_pool_queued gauge\n"
            "slotd_db_pool_queued %zu\n"
            "# HELP slotd_http_inflight Requests being answered.\n"
            "# TYPE slotd_http_inflight gauge\n"
            "slotd_http_inflight %d\n",
            store_pool_ready_count(s->options.pool), store_pool_busy(s->options.pool),
            store_pool_queued(s->options.pool), s->inflight);
    if (s->options.index) {
        store_index_stats_t st;
        store_index_stats(s->options.index, &st);
        fprintf(out,
                "# HELP slotd_index_ready Whether the in-memory index is loaded.\n"
                "# TYPE slotd_index_ready gauge\n"
                "slotd_index_ready %d\n"
                "# HELP slotd_index_objects Objects in the in-memory index.\n"
                "# TYPE slotd_index_objects gauge\n"
                "slotd_index_objects{kind=\"organizations\"} %zu\n"
                "slotd_index_objects{kind=\"resources\"} %zu\n"
                "slotd_index_objects{kind=\"services\"} %zu\n"
                "slotd_index_objects{kind=\"busy_entries\"} %zu\n"
                "# HELP slotd_index_busy_bytes Memory held by busy-time trees.\n"
                "# TYPE slotd_index_busy_bytes gauge\n"
                "slotd_index_busy_bytes %zu\n"
                "# HELP slotd_index_refreshes_total Reloads of one object and rebuilds.\n"
                "# TYPE slotd_index_refreshes_total counter\n"
                "slotd_index_refreshes_total{kind=\"reload\"} %" PRIu64 "\n"
                "slotd_index_refreshes_total{kind=\"rebuild\"} %" PRIu64 "\n",
                store_index_ready(s->options.index) ? 1 : 0, st.organizations, st.resources,
                st.services, st.busy_entries, st.busy_bytes, st.reloads, st.rebuilds);
    }
}

/* ---- start and stop -------------------------------------------------------------------------- */

static void on_accept(uv_stream_t *listener, int status)
{
    http_server_t *s = listener->data;
    if (status != 0)
        return;
    uv_tcp_t *conn = slotd_malloc(sizeof(*conn));
    uv_tcp_init(listener->loop, conn);
    if (uv_accept(listener, (uv_stream_t *)conn) != 0) {
        uv_close((uv_handle_t *)conn, (uv_close_cb)free);
        return;
    }
    uv_tcp_nodelay(conn, 1);
    h2o_socket_t *sock = h2o_uv_socket_create((uv_stream_t *)conn, (uv_close_cb)free);
    h2o_accept(&s->accept, sock);
}

static bool parse_listen(const char *listen, struct sockaddr_storage *addr)
{
    const char *colon = strrchr(listen, ':');
    if (colon == NULL || colon == listen)
        return false;
    char host[64];
    size_t host_len = (size_t)(colon - listen);
    if (host_len >= sizeof(host))
        return false;
    memcpy(host, listen, host_len);
    host[host_len] = 0;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535)
        return false;
    if (host[0] == '[' && host[host_len - 1] == ']') {
        host[host_len - 1] = 0;
        return uv_ip6_addr(host + 1, (int)port, (struct sockaddr_in6 *)addr) == 0;
    }
    return uv_ip4_addr(host, (int)port, (struct sockaddr_in *)addr) == 0;
}

http_server_t *http_server_start(const http_server_options_t *options)
{
    struct sockaddr_storage addr;
    if (!parse_listen(options->listen, &addr)) {
        fprintf(stderr, "slotd: cannot listen on \"%s\": give host:port, e.g. 127.0.0.1:8080\n",
                options->listen);
        return NULL;
    }
    http_server_t *s = slotd_calloc(1, sizeof(*s));
    s->loop = options->loop;
    s->options = *options;
    /* the operations routes come after the API's */
    size_t total = options->route_count + sizeof(operations_routes) / sizeof(operations_routes[0]);
    http_route_t *routes = slotd_malloc(total * sizeof(http_route_t));
    memcpy(routes, options->routes, options->route_count * sizeof(http_route_t));
    memcpy(routes + options->route_count, operations_routes, sizeof(operations_routes));
    s->options.routes = routes;
    s->options.route_count = total;
    s->metrics = slotd_calloc(total + 1, sizeof(route_metrics_t));
    uint32_t prefix = 0;
    if (getrandom(&prefix, sizeof(prefix), 0) != sizeof(prefix))
        prefix = (uint32_t)time(NULL);
    s->id_prefix = prefix;

    h2o_config_init(&s->config);
    s->config.max_request_entity_size = H2O_ENTITY_LIMIT;
    h2o_hostconf_t *host =
        h2o_config_register_host(&s->config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    handler_t *handler = (handler_t *)h2o_create_handler(path, sizeof(*handler));
    handler->super.on_req = on_req;
    handler->server = s;
    h2o_context_init(&s->context, s->loop, &s->config);
    s->accept.ctx = &s->context;
    s->accept.hosts = s->config.hosts;

    uv_tcp_init(s->loop, &s->listener);
    s->listener.data = s;
    s->listener_open = true;
    int rc = uv_tcp_bind(&s->listener, (struct sockaddr *)&addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&s->listener, 1024, on_accept);
    if (rc != 0) {
        fprintf(stderr, "slotd: cannot listen on %s: %s\n", options->listen, uv_strerror(rc));
        uv_close((uv_handle_t *)&s->listener, NULL);
        uv_run(s->loop, UV_RUN_NOWAIT);
        h2o_context_dispose(&s->context);
        h2o_config_dispose(&s->config);
        free(routes);
        free(s->metrics);
        free(s);
        return NULL;
    }
    return s;
}

static void on_listener_closed(uv_handle_t *handle)
{
    http_server_t *s = handle->data;
    s->listener_open = false;
    maybe_idle(s);
}

/* Idle once stopping, not listening, and no request is waiting for an answer.
 * h2o 2.2 cannot close idle keep-alive connections on demand, so the server's
 * h2o context is not disposed under them: the process ends with the loop. */
static void maybe_idle(http_server_t *s)
{
    if (!s->stopping || s->inflight > 0 || s->listener_open || s->on_idle == NULL)
        return;
    void (*cb)(void *) = s->on_idle;
    s->on_idle = NULL;
    cb(s->idle_arg);
}

void http_server_stop(http_server_t *s, void (*on_idle)(void *), void *arg)
{
    s->stopping = true;
    s->on_idle = on_idle;
    s->idle_arg = arg;
    uv_close((uv_handle_t *)&s->listener, on_listener_closed);
}
