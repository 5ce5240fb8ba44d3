/*
 * The HTTP server's parts, and what they share (not for handlers: they see
 * server.h only).
 *
 *   server.c  the core: a request's life (context, settle once, deadline),
 *             answers, queries, the response budget, start and stop;
 *   router.c  matching a path to a route (404, 405 with Allow) and checking
 *             and reading the query string against the route's parameters;
 *   auth.c    the Authorization header, API keys (a cache dropped on
 *             revocation), the route's set of roles;
 *   ops.c     /healthz, /readyz, /metrics and the metrics they report.
 *
 * Everything a loop needs lives in its http_server_t — the per-loop context:
 * the key cache, the metrics, the answer buffer and the engine workspace. No
 * part keeps state of its own in file-scope variables.
 */
#ifndef SLOTD_HTTP_INTERNAL_H
#define SLOTD_HTTP_INTERNAL_H

#include <h2o.h>

#include "http/server.h"
#include "store/keys.h"

/* The key cache: sets of HTTP_KEY_CACHE_WAYS entries, chosen by the key's hash, so a lookup
 * compares a few entries however many organizations call (about 1 MiB per loop). */
#define HTTP_KEY_CACHE_SIZE 16384
#define HTTP_KEY_CACHE_WAYS 8
#define HTTP_KEY_CACHE_SECONDS 60
/* Buffers given back by requests that the loop keeps for the next ones (http_buffer_take). */
#define HTTP_SPARE_BUFFERS 8

extern const double http_bucket_ms[];
#define HTTP_BUCKETS 13

typedef struct {
    uint64_t count;
    uint64_t by_class[6]; /* 1xx..5xx, and 499 (client went away) in [0] */
    uint64_t buckets[HTTP_BUCKETS + 1];
    double seconds;
} http_route_metrics_t;

typedef struct {
    uint8_t hash[STORE_KEY_HASH_LENGTH];
    eng_id_t organization;
    http_role_t role;
    int64_t until;
} http_key_entry_t;

struct http_server {
    uv_loop_t *loop;
    http_server_options_t options; /* routes: the API's, then the operations routes */
    h2o_globalconf_t config;
    h2o_context_t context;
    h2o_accept_ctx_t accept;
    uv_tcp_t listener;
    bool listener_open;
    int inflight; /* requests not yet settled */
    int live;     /* contexts not yet freed */
    bool stopping;
    bool stop_announced; /* /readyz says 503 before the listener closes */
    void (*on_idle)(void *);
    void *idle_arg;
    uint32_t id_prefix;
    uint64_t id_counter;
    bool clock_frozen;
    int64_t frozen_now;
    http_key_entry_t keys[HTTP_KEY_CACHE_SIZE];
    uint64_t keys_generation;      /* bumped by every forget: older lookups are not cached */
    http_route_metrics_t *metrics; /* one per route, plus one for unmatched requests */
    size_t pinned_bytes;           /* answer bytes clients have not taken yet */
    uint64_t budget_refusals;      /* answers refused for the response budget */
    uint64_t booking_outcomes[HTTP_BOOKING_OUTCOMES];
    int connections;              /* client connections open */
    uint64_t connections_refused; /* closed at once: max_connections were open */
    http_buffer_t buffer;
    http_buffer_t spares[HTTP_SPARE_BUFFERS]; /* given back by requests, for the next to take */
    size_t spare_count;
    eng_workspace_t *workspace;
    struct http_tools_cache *tools; /* the voice tools' directories of names (tools.c) */
};

/* server.c */
void http__settle(http_ctx_t *ctx, int status, const char *body, size_t length);

/* router.c */
/** Finds the route of a request into ctx->route (and its path parameters); answers 404 or 405
 *  itself and returns false when there is none. */
bool http__route(http_ctx_t *ctx, h2o_req_t *req);

/** Checks the query string against ctx->route's parameters; answers 400 itself. */
bool http__check_query(http_ctx_t *ctx, h2o_req_t *req);

/* auth.c */
/** Authenticates (a cached key, or a query), checks the route's roles, parses the body,
 *  and runs the handler; answers 401/403/400 itself. */
void http__authenticate(http_ctx_t *ctx, h2o_req_t *req);

/** Runs the handler of a public route (parses the body first). */
void http__run_handler(http_ctx_t *ctx);

/* ops.c */
extern const http_route_t http__operations_routes[];
extern const size_t http__operations_route_count;

/** Counts a settled request in its route's metrics and writes its log line. */
void http__record(http_ctx_t *ctx, int status);

#endif
