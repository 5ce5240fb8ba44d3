/*
 * The HTTP server's core (see server.h for a request's life, internal.h for
 * how the parts divide the work).
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
 * Memory a client can pin: an answer is copied into its request's pool and
 * held there until the client has read it. Cleartext HTTP/2 is off, so a
 * connection carries one request at a time and pins at most one answer; the
 * answers of all connections together are bounded by the response budget
 * (`pinned_bytes`, released when h2o disposes of the request): an answer that
 * would exceed it is replaced by a 503. The loop's answer buffer gives its
 * memory back after an answer larger than HTTP_BUFFER_KEEP.
 */
#include "http/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "log/log.h"
#include "slotd/alloc.h"

/* h2o reads a whole body before a handler sees it: it refuses (plain-text 413) any larger
 * than this, so that a connection holds little more than HTTP_BODY_LIMIT. Bodies between
 * the two get the API's own 413. */
#define H2O_ENTITY_LIMIT (HTTP_BODY_LIMIT + 64 * 1024)
#define DEFAULT_MAX_CONNECTIONS 1000
#define DEFAULT_RESPONSE_BUDGET (64 * 1024 * 1024)
#define HTTP_BUFFER_KEEP (1024 * 1024)
/* The largest buffer a request gives back that the loop keeps for the next one. */
#define HTTP_SPARE_KEEP (64 * 1024)

typedef struct {
    h2o_handler_t super;
    http_server_t *server;
} handler_t;

/* Sends no more than the one buffer it was given: nothing to pull or stop. */
static h2o_generator_t final_generator = {NULL, NULL};

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

eng_workspace_t *http_workspace(http_ctx_t *ctx)
{
    http_server_t *s = ctx->server;
    if (s->workspace == NULL)
        s->workspace = eng_workspace_new();
    return s->workspace;
}

http_buffer_t *http_buffer(http_ctx_t *ctx)
{
    ctx->server->buffer.size = 0;
    return &ctx->server->buffer;
}

http_buffer_t http_buffer_take(http_ctx_t *ctx)
{
    http_server_t *s = ctx->server;
    http_buffer_t b = {0};
    if (s->spare_count > 0)
        b = s->spares[--s->spare_count];
    b.size = 0;
    return b;
}

void http_buffer_give(http_ctx_t *ctx, http_buffer_t *b)
{
    http_server_t *s = ctx->server;
    if (b->data && s->spare_count < HTTP_SPARE_BUFFERS && b->capacity <= HTTP_SPARE_KEEP)
        s->spares[s->spare_count++] = *b;
    else
        free(b->data);
    *b = (http_buffer_t){0};
}

void http_buffer_reserve(http_buffer_t *b, size_t length)
{
    if (b->size + length + 1 > b->capacity) {
        b->capacity = b->size + length + 1;
        b->data = slotd_realloc(b->data, b->capacity);
    }
}

void http_buffer_append(http_buffer_t *b, const char *text, size_t length)
{
    b->data = slotd_grow(b->data, &b->capacity, b->size + length + 1, 1);
    if (length == 0)
        return; /* text may be NULL then */
    memcpy(b->data + b->size, text, length);
    b->size += length;
}

/* Which bytes a JSON string cannot carry as they are: 0 for none, else the letter of their
 * short escape, or 'u' for \u00XX. */
static const char json_escapes[256] = {
    ['\0'] = 'u', [1] = 'u',    [2] = 'u',    [3] = 'u',     [4] = 'u',    [5] = 'u',
    [6] = 'u',    [7] = 'u',    ['\b'] = 'b', ['\t'] = 't',  ['\n'] = 'n', [11] = 'u',
    ['\f'] = 'f', ['\r'] = 'r', [14] = 'u',   [15] = 'u',    [16] = 'u',   [17] = 'u',
    [18] = 'u',   [19] = 'u',   [20] = 'u',   [21] = 'u',    [22] = 'u',   [23] = 'u',
    [24] = 'u',   [25] = 'u',   [26] = 'u',   [27] = 'u',    [28] = 'u',   [29] = 'u',
    [30] = 'u',   [31] = 'u',   ['"'] = '"',  ['\\'] = '\\', [0x7f] = 'u',
};

void http_buffer_append_json_string(http_buffer_t *b, const char *text, size_t length)
{
    static const char hex[] = "0123456789abcdef";
    /* room for the bytes as they are and the quotes; an escape makes room for the rest's
     * worst case (6 bytes each), so that text with nothing to escape is never sized six
     * times over */
    b->data = slotd_grow(b->data, &b->capacity, b->size + length + 3, 1);
    char *out = b->data + b->size;
    const unsigned char *p = (const unsigned char *)(length ? text : ""), *end = p + length;
    *out++ = '"';
    while (p < end) {
        /* the run of bytes that go as they are, copied at once */
        const unsigned char *run = p;
        while (p < end && json_escapes[*p] == 0)
            p++;
        if (p > run) {
            memcpy(out, run, (size_t)(p - run));
            out += p - run;
        }
        if (p == end)
            break;
        size_t at = (size_t)(out - b->data), worst = at + 6 * (size_t)(end - p) + 2;
        if (worst > b->capacity) {
            b->data = slotd_grow(b->data, &b->capacity, worst, 1);
            out = b->data + at;
        }
        char escape = json_escapes[*p];
        *out++ = '\\';
        if (escape == 'u') {
            memcpy(out, "u00", 3);
            out[3] = hex[*p >> 4];
            out[4] = hex[*p & 15];
            out += 5;
        } else {
            *out++ = escape;
        }
        p++;
    }
    *out++ = '"';
    b->size = (size_t)(out - b->data);
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
    case 304:
        return "Not Modified";
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

static const char budget_refusal[] =
    "{\"error\":{\"code\":\"unavailable\",\"message\":\"The service is answering too much at "
    "once; please try again.\",\"details\":{}}}";

/* Settles the request: the one place that answers, logs, and lets go. */
void http__settle(http_ctx_t *ctx, int status, const char *body, size_t length)
{
    if (ctx->settled)
        return;
    ctx->settled = true;
    http_server_t *s = ctx->server;
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
        if (length > 0 && s->pinned_bytes + length > s->options.response_budget_bytes) {
            status = 503;
            body = budget_refusal;
            length = sizeof(budget_refusal) - 1;
            ctx->plain_text = false;
            s->budget_refusals++;
        }
        req->res.status = status;
        req->res.reason = reason_of(status);
        h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-request-id"), 0, NULL,
                              ctx->request_id, strlen(ctx->request_id));
        if (length && !ctx->plain_text) {
            h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                           H2O_STRLIT("application/json"));
        }
        req->res.content_length = length;
        h2o_start_response(req, &final_generator);
        h2o_iovec_t buf = h2o_iovec_init(NULL, 0);
        if (length) {
            buf.base = h2o_mem_alloc_pool(&req->pool, length);
            memcpy(buf.base, body, length);
            buf.len = length;
            ctx->pinned_bytes = length;
            s->pinned_bytes += length;
        }
        h2o_send(req, &buf, length ? 1 : 0, H2O_SEND_STATE_FINAL);
    }
    ctx->status = req ? status : 499;
    http__record(ctx, ctx->status);
    /* the answer is copied out: after a spike, give the buffer's memory back */
    s->buffer.size = 0;
    if (s->buffer.capacity > HTTP_BUFFER_KEEP) {
        free(s->buffer.data);
        s->buffer.data = NULL;
        s->buffer.capacity = 0;
    }
    s->inflight--;
    maybe_idle(s);
}

static void on_dispose(void *p)
{
    http_ctx_t *ctx = *(http_ctx_t **)p;
    ctx->req = NULL;
    ctx->server->pinned_bytes -= ctx->pinned_bytes;
    ctx->pinned_bytes = 0;
    http__settle(ctx, 499, NULL, 0); /* the client went away before an answer */
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
        http__settle(ctx, ctx->after_index_status, NULL, 0);
}

/* A write whose statement is on the wire: cancelling it would not stop it, so "try again"
 * could make it twice. */
static bool write_in_flight(const http_ctx_t *ctx)
{
    const h2o_req_t *req = ctx->req;
    if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) ||
        h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD")))
        return false;
    return store_query_sent(ctx->query) ||
           (ctx->wait_operation && ctx->wait_sent && ctx->wait_sent(ctx->wait_operation));
}

/*
 * The request's deadline. Most requests answer 503 now (what they were
 * waiting for is cancelled: a query not yet sent never runs). A write whose
 * statement is already on the wire may still commit, so it gets one more
 * request timeout for its real answer (the statement's own timeout, the same
 * length, ends it on the server well within it); past that, or when its
 * answer is lost, the client is told that the outcome is unknown.
 */
static void on_deadline(uv_timer_t *timer)
{
    http_ctx_t *ctx = timer->data;
    if (ctx->after_index) {
        send_after_index(ctx); /* committed: say so, even if the index is slow */
        return;
    }
    if (!ctx->overtime && write_in_flight(ctx)) {
        ctx->overtime = true;
        log_warn("request_overtime", "request_id", ctx->request_id, "cause",
                 "a write was in flight at the deadline: waiting for its answer", NULL);
        uv_timer_start(timer, on_deadline, (uint64_t)ctx->server->options.request_timeout_ms, 0);
        return;
    }
    if (ctx->on_timeout)
        ctx->on_timeout(ctx, ctx->overtime);
    else if (ctx->overtime)
        http_respond_outcome_unknown(ctx);
    else
        http_respond_error(ctx, 503, "unavailable",
                           "The request did not finish in time; please try again.", NULL);
}

void http_respond_outcome_unknown(http_ctx_t *ctx)
{
    http_respond_error(ctx, 503, "unavailable",
                       "The database's answer was lost: the change may or may not have been "
                       "made. Check before trying again.",
                       NULL);
}

static void on_index_done(void *arg, int status)
{
    http_ctx_t *ctx = arg;
    (void)status; /* answered either way: the write is committed */
    if (ctx->after_index_pending > 0)
        ctx->after_index_pending--;
    if (ctx->after_index && !ctx->settled && ctx->after_index_pending == 0)
        send_after_index(ctx);
    unref(ctx);
}

/* Answers at once (false) when there is nothing to wait for; else keeps the answer until
 * `waits` reloads are done, each holding a reference to the context (true). */
static bool hold_for_index(http_ctx_t *ctx, int status, json_t *body, size_t waits)
{
    if (waits == 0 || ctx->settled || ctx->server->options.index == NULL) {
        if (body)
            http_respond(ctx, status, body);
        else
            http__settle(ctx, status, NULL, 0);
        return false;
    }
    ctx->after_index = true;
    ctx->after_index_body = body;
    ctx->after_index_status = status;
    /* every reload counted before the first may call back (it may, at once) */
    ctx->after_index_pending = (int)waits;
    ctx->refs += (int)waits;
    return true;
}

void http_respond_after_index(http_ctx_t *ctx, int status, json_t *body, index_kind_t kind,
                              const eng_id_t *id)
{
    if (hold_for_index(ctx, status, body, 1))
        store_index_refresh(ctx->server->options.index, kind, &ctx->organization, id, on_index_done,
                            ctx);
}

void http_respond_after_index_resources(http_ctx_t *ctx, int status, json_t *body,
                                        const eng_id_t *resources, size_t count)
{
    if (!hold_for_index(ctx, status, body, count))
        return;
    for (size_t i = 0; i < count; i++)
        store_index_refresh(ctx->server->options.index, INDEX_RESOURCE, &ctx->organization,
                            &resources[i], on_index_done, ctx);
}

void http_respond_after_changes(http_ctx_t *ctx, int status, json_t *body,
                                const eng_id_t *resources, const store_change_t *changes,
                                size_t count)
{
    if (!hold_for_index(ctx, status, body, count))
        return;
    for (size_t i = 0; i < count; i++) {
        if (changes && changes[i].xid)
            store_index_await_change(ctx->server->options.index, &ctx->organization, &resources[i],
                                     changes[i], on_index_done, ctx);
        else
            store_index_refresh(ctx->server->options.index, INDEX_RESOURCE, &ctx->organization,
                                &resources[i], on_index_done, ctx);
    }
}

void http_respond_after_change(http_ctx_t *ctx, int status, json_t *body, const eng_id_t *resources,
                               size_t count, uint64_t xid, store_change_kind_t kind)
{
    store_change_t *changes = slotd_calloc(count + 1, sizeof(*changes));
    for (size_t i = 0; i < count; i++)
        changes[i] = (store_change_t){.xid = xid, .kind = kind};
    http_respond_after_changes(ctx, status, body, resources, changes, count);
    free(changes);
}

void http_respond_raw_after_changes(http_ctx_t *ctx, int status, const char *json,
                                    const eng_id_t *resources, const store_change_t *changes,
                                    size_t count)
{
    json_t *body = json_loads(json, 0, NULL);
    if (body == NULL) {
        http_respond_internal(ctx, "an answer that is not JSON");
        return;
    }
    http_respond_after_changes(ctx, status, body, resources, changes, count);
}

const char *http_request_header(http_ctx_t *ctx, const char *name, size_t *length)
{
    h2o_req_t *req = ctx->req;
    if (req == NULL)
        return NULL;
    ssize_t i = h2o_find_header_by_str(&req->headers, name, strlen(name), -1);
    if (i < 0)
        return NULL;
    *length = req->headers.entries[i].value.len;
    return req->headers.entries[i].value.base;
}

/* ---- answers --------------------------------------------------------------------------- */

void http_respond_header(http_ctx_t *ctx, const char *name, const char *value)
{
    h2o_req_t *req = ctx->req;
    if (req == NULL || ctx->settled)
        return;
    size_t name_length = strlen(name), value_length = strlen(value);
    char *n = h2o_mem_alloc_pool(&req->pool, name_length + 1);
    char *v = h2o_mem_alloc_pool(&req->pool, value_length + 1);
    memcpy(n, name, name_length + 1);
    memcpy(v, value, value_length + 1);
    h2o_add_header_by_str(&req->pool, &req->res.headers, n, name_length, 1, NULL, v, value_length);
}

void http_respond(http_ctx_t *ctx, int status, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (text == NULL) { /* jansson refuses only what it cannot write (invalid UTF-8) */
        http_respond_internal(ctx, "an answer that cannot be written as JSON");
        return;
    }
    http__settle(ctx, status, text, strlen(text));
    free(text);
}

void http_respond_raw(http_ctx_t *ctx, int status, const char *json, size_t length)
{
    http__settle(ctx, status, json, length);
}

const char *http_request_host(http_ctx_t *ctx, size_t *length)
{
    const h2o_req_t *req = ctx->req;
    if (req == NULL || req->input.authority.len == 0)
        return NULL;
    *length = req->input.authority.len;
    return req->input.authority.base;
}

const char *http_request_body(http_ctx_t *ctx, size_t *length)
{
    h2o_req_t *req = ctx->req;
    *length = req && req->entity.base ? req->entity.len : 0;
    return req ? req->entity.base : NULL;
}

void http_respond_text(http_ctx_t *ctx, int status, const char *content_type, const char *text,
                       size_t length)
{
    h2o_req_t *req = ctx->req;
    if (req && !ctx->settled)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, content_type,
                       strlen(content_type));
    ctx->plain_text = true;
    http__settle(ctx, status, text, length);
}

void http_respond_buffer(http_ctx_t *ctx, int status)
{
    http__settle(ctx, status, ctx->server->buffer.data, ctx->server->buffer.size);
}

void http_respond_empty(http_ctx_t *ctx)
{
    http__settle(ctx, 204, NULL, 0);
}

void http_respond_status(http_ctx_t *ctx, int status)
{
    http__settle(ctx, status, NULL, 0);
}

json_t *http_error_body(const char *code, const char *message, json_t *details)
{
    return json_pack("{s:{s:s, s:s, s:o}}", "error", "code", code, "message", message, "details",
                     details ? details : json_object());
}

void http_respond_error(http_ctx_t *ctx, int status, const char *code, const char *message,
                        json_t *details)
{
    http_respond(ctx, status, http_error_body(code, message, details));
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

void http_respond_internal(http_ctx_t *ctx, const char *what)
{
    log_error("internal_error", "request_id", ctx->request_id, "route",
              ctx->route ? ctx->route->name : "unmatched", "cause", what, NULL);
    http_respond_error(ctx, 500, "internal", "Something went wrong on our side.", NULL);
}

static const char database_unavailable[] = "The database is unavailable; please try again.";

void http_respond_database_error(http_ctx_t *ctx, const char *sqlstate)
{
    if (sqlstate && strcmp(sqlstate, STORE_SQLSTATE_OUTCOME_UNKNOWN) == 0) {
        http_respond_outcome_unknown(ctx);
        return;
    }
    if (sqlstate == NULL || store_sqlstate_is_transient(sqlstate)) {
        http_respond_error(ctx, 503, "unavailable",
                           strcmp(sqlstate ? sqlstate : "", "57014") == 0
                               ? "The database did not answer in time; please try again."
                               : database_unavailable,
                           NULL);
        return;
    }
    char cause[64];
    snprintf(cause, sizeof(cause), "database error %s", sqlstate);
    http_respond_internal(ctx, cause);
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
    store_pool_t *pool = ctx->server->options.pool;
    ctx->pending_cb = (void *)cb;
    ctx->refs++;
    ctx->query = store_query(pool, statement, count, values, on_query_done, ctx);
    if (ctx->query == NULL) {
        ctx->refs--;
        http_respond_refused(ctx);
    }
}

void http_respond_refused(http_ctx_t *ctx)
{
    /* refused at once: every connection is down, or the queue is full */
    http_respond_error(ctx, 503, "unavailable",
                       store_pool_ready_count(ctx->server->options.pool) == 0
                           ? database_unavailable
                           : "Too many requests are waiting for the database; please try again.",
                       NULL);
}

/* ---- operations of other layers ----------------------------------------------------------- */

void http_wait(http_ctx_t *ctx, void *operation, void (*cancel)(void *operation),
               bool (*sent)(const void *operation))
{
    ctx->wait_operation = operation;
    ctx->wait_cancel = cancel;
    ctx->wait_sent = sent;
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

void http_public_url(http_ctx_t *ctx, char *out, size_t size)
{
    const char *url = ctx->server->options.public_url ? ctx->server->options.public_url : "";
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        n--;
    snprintf(out, size, "%.*s", (int)n, url);
}

const codec_secret_key_t *http_secret_key(http_ctx_t *ctx)
{
    return ctx->server->options.secret_key;
}

bool http_webhook_allow_private(http_ctx_t *ctx)
{
    return ctx->server->options.webhook_allow_private;
}

uv_loop_t *http_loop(http_ctx_t *ctx)
{
    return ctx->server->options.loop;
}

/* ---- the h2o handler ------------------------------------------------------------------------ */

/* Two Content-Length headers that disagree make the body's end ambiguous (the
 * rest could be read as another request): refuse, and close the connection.
 * h2o keeps only the first Content-Length, so the request's head is read from
 * the connection's input, where it still is while the request is handled
 * (HTTP/1 only; cleartext HTTP/2 is off, and HTTP/2 frames lengths itself). */
static bool content_length_ambiguous(h2o_req_t *req)
{
    if (req->version >= 0x200 || req->conn->callbacks->get_socket == NULL)
        return false;
    h2o_socket_t *sock = req->conn->callbacks->get_socket(req->conn);
    if (sock == NULL || sock->input == NULL)
        return false;
    const char *p = sock->input->bytes, *end = p + sock->input->size;
    if ((size_t)(end - p) < req->method.len || memcmp(p, req->method.base, req->method.len) != 0)
        return false; /* not this request's head */
    const char *head_end = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
    if (head_end == NULL)
        return false;
    const char *first = NULL;
    size_t first_len = 0;
    static const char name[] = "content-length:";
    for (const char *line = memchr(p, '\n', (size_t)(head_end - p)); line && line < head_end;
         line = memchr(line, '\n', (size_t)(head_end - line))) {
        line++;
        const char *eol = memchr(line, '\r', (size_t)(head_end + 2 - line));
        if (eol == NULL)
            break;
        if ((size_t)(eol - line) > sizeof(name) - 1 &&
            strncasecmp(line, name, sizeof(name) - 1) == 0) {
            const char *v = line + sizeof(name) - 1, *v_end = eol;
            while (v < v_end && (*v == ' ' || *v == '\t'))
                v++;
            while (v_end > v && (v_end[-1] == ' ' || v_end[-1] == '\t'))
                v_end--;
            if (memchr(v, ',', (size_t)(v_end - v)))
                return true;
            if (first == NULL) {
                first = v;
                first_len = (size_t)(v_end - v);
            } else if (first_len != (size_t)(v_end - v) || memcmp(first, v, first_len) != 0) {
                return true;
            }
        }
        line = eol;
    }
    return false;
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    http_server_t *s = ((handler_t *)self)->server;
    http_ctx_t *ctx = slotd_calloc(1, sizeof(*ctx));
    ctx->server = s;
    ctx->req = req;
    ctx->refs = 1;
    s->live++;
    ctx->started_ns = uv_hrtime();
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
    if (content_length_ambiguous(req)) {
        req->http1_is_persistent = 0;
        http_respond_error(ctx, 400, "invalid_request",
                           "The request has Content-Length headers that disagree.",
                           json_pack("{s:s}", "field", "Content-Length"));
        return 0;
    }
    if (!http__route(ctx, req))
        return 0;
    if (req->entity.base != NULL && req->entity.len > HTTP_BODY_LIMIT) {
        http_respond_error(ctx, 413, "payload_too_large", "The request body is larger than 1 MiB.",
                           NULL);
        return 0;
    }
    if (!http__check_query(ctx, req))
        return 0;
    if (ctx->route->roles == HTTP_ROLES_PUBLIC ||
        ((ctx->route->flags & HTTP_ROUTE_SIGNED) &&
         h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1) < 0))
        http__run_handler(ctx);
    else
        http__authenticate(ctx, req);
    return 0;
}

/* ---- start and stop -------------------------------------------------------------------------- */

/* A client connection: counted while open, so that their number (and the request body
 * each may hold) stays bounded. */
typedef struct {
    uv_tcp_t tcp; /* first: the handle is the connection */
    http_server_t *server;
} connection_t;

static void on_connection_closed(uv_handle_t *handle)
{
    connection_t *c = (connection_t *)handle;
    c->server->connections--;
    free(c);
}

static void on_accept(uv_stream_t *listener, int status)
{
    http_server_t *s = listener->data;
    if (status != 0)
        return;
    connection_t *c = slotd_malloc(sizeof(*c));
    c->server = s;
    s->connections++;
    uv_tcp_init(listener->loop, &c->tcp);
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
        uv_close((uv_handle_t *)&c->tcp, on_connection_closed);
        return;
    }
    if (s->connections > s->options.max_connections) {
        s->connections_refused++;
        uv_close((uv_handle_t *)&c->tcp, on_connection_closed);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    h2o_socket_t *sock = h2o_uv_socket_create((uv_stream_t *)&c->tcp, on_connection_closed);
    h2o_accept(&s->accept, sock);
}

bool http_parse_listen(const char *listen, struct sockaddr_storage *addr)
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

int http_listen_port(const struct sockaddr_storage *addr)
{
    return ntohs(addr->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)addr)->sin6_port
                                             : ((const struct sockaddr_in *)addr)->sin_port);
}

http_server_t *http_server_start(const http_server_options_t *options)
{
    struct sockaddr_storage addr;
    if (!http_parse_listen(options->listen, &addr)) {
        log_error("listen_failed", "listen", options->listen, "cause",
                  "give host:port, e.g. 127.0.0.1:8080", NULL);
        return NULL;
    }
    http_server_t *s = slotd_calloc(1, sizeof(*s));
    s->loop = options->loop;
    s->options = *options;
    if (s->options.response_budget_bytes == 0)
        s->options.response_budget_bytes = DEFAULT_RESPONSE_BUDGET;
    if (s->options.max_connections <= 0)
        s->options.max_connections = DEFAULT_MAX_CONNECTIONS;
    /* the operations routes come after the API's */
    size_t total = options->route_count + http__operations_route_count;
    http_route_t *routes = slotd_malloc(total * sizeof(http_route_t));
    memcpy(routes, options->routes, options->route_count * sizeof(http_route_t));
    memcpy(routes + options->route_count, http__operations_routes,
           http__operations_route_count * sizeof(http_route_t));
    s->options.routes = routes;
    s->options.route_count = total;
    s->metrics = slotd_calloc(total + 1, sizeof(http_route_metrics_t));
    uint32_t prefix = 0;
    if (getrandom(&prefix, sizeof(prefix), 0) != sizeof(prefix))
        prefix = (uint32_t)time(NULL);
    s->id_prefix = prefix;

    h2o_config_init(&s->config);
    s->config.max_request_entity_size = H2O_ENTITY_LIMIT;
    /* No cleartext HTTP/2 (neither Upgrade: h2c nor prior knowledge): one
     * request at a time per connection keeps what a client can pin bounded. */
    s->config.http1.upgrade_to_http2 = 0;
    h2o_hostconf_t *host =
        h2o_config_register_host(&s->config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    handler_t *handler = (handler_t *)h2o_create_handler(path, sizeof(*handler));
    handler->super.on_req = on_req;
    handler->server = s;
    h2o_context_init(&s->context, s->loop, &s->config);
    s->accept.ctx = &s->context;
    s->accept.hosts = s->config.hosts;

    uv_tcp_init_ex(s->loop, &s->listener, addr.ss_family);
    s->listener.data = s;
    s->listener_open = true;
    int rc = 0;
    if (options->reuse_port) {
        uv_os_fd_t fd;
        int on = 1;
        rc = uv_fileno((uv_handle_t *)&s->listener, &fd);
        if (rc == 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0)
            rc = uv_translate_sys_error(errno);
    }
    if (rc == 0)
        rc = uv_tcp_bind(&s->listener, (struct sockaddr *)&addr, 0);
    if (rc == 0 && !options->listen_later)
        rc = http_server_listen(s);
    if (rc != 0) {
        log_error("listen_failed", "listen", options->listen, "cause", uv_strerror(rc), NULL);
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

int http_server_listen(http_server_t *s)
{
    return uv_listen((uv_stream_t *)&s->listener, 1024, on_accept);
}

static void on_listener_closed(uv_handle_t *handle)
{
    http_server_t *s = handle->data;
    s->listener_open = false;
    maybe_idle(s);
}

void http_server_announce_stop(http_server_t *server)
{
    server->stop_announced = true;
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
