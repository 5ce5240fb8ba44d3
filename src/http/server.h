/*
 * The HTTP server: libh2o on the libuv loop, routing, authentication, the
 * error envelope, deadlines, request logs and metrics (its parts: internal.h).
 *
 * A request's life: h2o calls on_req; the server makes an http_ctx_t (heap,
 * reference counted), finds the route (404, or 405 with Allow), checks the
 * query string against the parameters the route declares (400 naming the
 * parameter), checks the API key (from a small cache, or the database) against
 * the route's set of roles, and calls the route's handler. A handler answers
 * at once or later, from a database callback (http_query). Whatever happens
 * first — the answer, the deadline (503), or the client going away — settles
 * the request; later events find it settled and do nothing. The context is
 * freed when the request is gone and no query or timer refers to it any more.
 *
 * Everything runs on the server's loop; nothing here is thread-safe.
 */
#ifndef SLOTD_HTTP_SERVER_H
#define SLOTD_HTTP_SERVER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "codec/secret.h"
#include "slotd/engine.h"
#include "store/index.h"
#include "store/pool.h"

#define HTTP_BODY_LIMIT (1024 * 1024)
#define HTTP_MAX_PATH_PARAMS 4

typedef enum {
    HTTP_ROLE_NONE = 0, /**< no key (public routes) */
    HTTP_ROLE_SYNC,
    HTTP_ROLE_AGENT,
    HTTP_ROLE_ADMIN,
    HTTP_ROLE_ANY /**< not a role: kept for source compatibility */
} http_role_t;

/**
 * A set of roles: the roles that may call a route. "Agents may write
 * bookings" is a POST route whose set is HTTP_ROLES_STAFF.
 */
typedef unsigned http_roles_t;
#define HTTP_ROLE_BIT(role) (1u << (role))
#define HTTP_ROLES_PUBLIC 0u /**< no key needed */
#define HTTP_ROLES_ADMIN HTTP_ROLE_BIT(HTTP_ROLE_ADMIN)
#define HTTP_ROLES_STAFF (HTTP_ROLES_ADMIN | HTTP_ROLE_BIT(HTTP_ROLE_AGENT))
#define HTTP_ROLES_SYNC (HTTP_ROLES_ADMIN | HTTP_ROLE_BIT(HTTP_ROLE_SYNC))
#define HTTP_ROLES_EVERY (HTTP_ROLES_STAFF | HTTP_ROLE_BIT(HTTP_ROLE_SYNC))

typedef struct http_server http_server_t;
typedef struct http_ctx http_ctx_t;

typedef void (*http_handler_t)(http_ctx_t *ctx);

/** What a query parameter's value must look like; checked before the handler runs. */
typedef enum {
    HTTP_PARAM_TEXT,  /**< any text without control characters or surrounding spaces */
    HTTP_PARAM_ID,    /**< a UUID */
    HTTP_PARAM_COUNT, /**< a whole number written with digits only (no sign, no space) */
} http_param_kind_t;

/** A query parameter a route takes. */
typedef struct {
    const char *name;
    http_param_kind_t kind;
    unsigned short max_length; /**< decoded bytes (ids: 36) */
    bool repeated;             /**< may be given more than once */
} http_param_t;

/**
 * A route: method, a path pattern with ":name" segments, who may call it, the
 * query parameters it takes (ended by {NULL}; NULL: none), its handler.
 * Anything else in the query string is refused with 400 before the handler.
 */
typedef struct {
    const char *method;
    const char *pattern;
    const char *name;   /**< for logs and metrics, e.g. "GET /v1/organization" */
    http_roles_t roles; /**< who may call it; HTTP_ROLES_PUBLIC: no key */
    const http_param_t *params;
    http_handler_t handler;
    unsigned flags; /**< HTTP_ROUTE_* */
} http_route_t;

/** The handler reads the body itself (http_request_body): it is not parsed as JSON first. */
#define HTTP_ROUTE_RAW_BODY 1u
/** A request without an Authorization header reaches the handler unauthenticated (role
 *  HTTP_ROLE_NONE): the handler proves who sent it otherwise (a signature), or refuses. */
#define HTTP_ROUTE_SIGNED 2u

/** What a handler sees of its request. */
struct http_ctx {
    http_server_t *server;
    const http_route_t *route;
    eng_id_t organization; /**< the caller's organization (authenticated routes) */
    char organization_text[37];
    http_role_t role;
    const char *params[HTTP_MAX_PATH_PARAMS]; /**< ":name" segments, in order, NUL-terminated */
    json_t *body;                             /**< the parsed JSON body, or NULL */
    void *state;                              /**< the handler's own, freed with the context */
    void (*free_state)(void *state);
    /** The handler's own answer when the request runs out of time (NULL: 503 with the error
     *  envelope); `outcome_unknown` when a write was in flight and its answer never came. It
     *  must answer; what the request waited for is cancelled as it does. */
    void (*on_timeout)(http_ctx_t *ctx, bool outcome_unknown);
    /* private */
    void *req;
    int refs;
    bool settled;
    uint64_t started_ns;
    uv_timer_t *deadline;
    store_query_t *query;
    void *wait_operation; /* an operation of another layer (http_wait) */
    void (*wait_cancel)(void *operation);
    bool (*wait_sent)(const void *operation);
    bool overtime; /* past the deadline, waiting for a write's answer (see on_deadline) */
    char request_id[24];
    int status;
    char *path_copy;
    void *pending_cb;
    json_t *after_index_body; /* an answer waiting for the index */
    int after_index_status;
    bool after_index;
    int after_index_pending; /* reloads still awaited */
    uint8_t key_hash[32];
    uint64_t key_generation; /* the key cache's generation when its lookup started */
    bool plain_text;
    size_t pinned_bytes; /* the answer's bytes held until the client has them */
};

typedef struct {
    uv_loop_t *loop;
    const char *listen; /**< "host:port" */
    store_pool_t *pool;
    store_index_t *index; /**< the in-memory index; readiness waits for it */
    int request_timeout_ms;
    const http_route_t *routes;
    size_t route_count;
    /** answer bytes all clients may hold unread at once (0: 64 MiB); past it, 503 */
    size_t response_budget_bytes;
    /** client connections open at once (0: 1000); one more is closed at once. Each may hold
     *  a request body of up to HTTP_BODY_LIMIT while it arrives. */
    int max_connections;
    /** one of several processes sharing the address: listen with SO_REUSEPORT */
    bool reuse_port;
    /** which of those processes, from 1 (GET /healthz says it); 0: the only one */
    int worker;
    /** bind now (so that a taken address fails at once) but accept connections only once
     *  http_server_listen() is called */
    bool listen_later;
    /** the `secret_key` setting, which seals credentials at rest; NULL: not set. Not copied:
     *  it must outlive the server */
    const codec_secret_key_t *secret_key;
    /** the `webhook_allow_private` setting: webhook endpoints may be private addresses */
    bool webhook_allow_private;
    /** the `public_url` setting (where clients reach the service), for the links answers
     *  give; NULL: not set (links are paths). Not copied */
    const char *public_url;
} http_server_options_t;

/** Starts accepting connections (after listen_later); 0 or a libuv error code. */
int http_server_listen(http_server_t *s);

/** Parses "host:port" (IPv4, or [IPv6]); false when it is not one. */
bool http_parse_listen(const char *listen, struct sockaddr_storage *addr);

/** The port of a parsed listen address. */
int http_listen_port(const struct sockaddr_storage *addr);

/** Starts listening. Returns NULL after logging why (address in use, bad address). */
http_server_t *http_server_start(const http_server_options_t *options);

/**
 * Stops accepting; in-flight requests finish (or hit their deadline). `on_idle`
 * runs once the listener is closed and no request waits for an answer. Open
 * keep-alive connections stay until the process ends, so the server (and
 * h2o's context) lives as long as the process: stop the loop after on_idle.
 */
void http_server_stop(http_server_t *server, void (*on_idle)(void *), void *arg);

/** Says that a stop is coming: /readyz answers 503 from now on, while every other route is
 *  served as before, so that a load balancer takes the instance out before it stops
 *  accepting. */
void http_server_announce_stop(http_server_t *server);

/** Forgets cached keys of an organization (NULL: of every organization): a key of it was
 *  revoked (on this or another instance), or notifications may have been missed. */
void http_server_forget_keys(http_server_t *server, const eng_id_t *organization);

/* ---- for handlers ----------------------------------------------------------------- */

/** Adds a header to the answer that has not been sent yet (name and value copied). */
void http_respond_header(http_ctx_t *ctx, const char *name, const char *value);

/** Answers with a JSON value (stolen) and a status. */
void http_respond(http_ctx_t *ctx, int status, json_t *body);

/** Answers with JSON text already serialized (copied). */
void http_respond_raw(http_ctx_t *ctx, int status, const char *json, size_t length);

/** Answers `length` bytes of `text` that is not JSON, with its Content-Type. */
void http_respond_text(http_ctx_t *ctx, int status, const char *content_type, const char *text,
                       size_t length);

/**
 * Answers a committed write once this instance's index shows it (read your
 * writes): `body` (stolen; NULL for 204) is sent after the index reloaded the
 * resource or service `id`. Should the reload outlast the deadline, the answer
 * is sent then anyway: the write is committed either way.
 */
void http_respond_after_index(http_ctx_t *ctx, int status, json_t *body, index_kind_t kind,
                              const eng_id_t *id);

/**
 * As http_respond_after_index, once the index has reloaded every one of
 * `count` resources (a booking or hold holds several).
 */
void http_respond_after_index_resources(http_ctx_t *ctx, int status, json_t *body,
                                        const eng_id_t *resources, size_t count);

/**
 * As http_respond_after_index_resources, where committed change changes[i] (its transaction
 * and kind) is the last its transaction made of resources[i]: waits until the index has
 * applied that notified change, with no reload (store_index_await_change); an xid of 0 (not
 * known), or no changes, waits for a reload.
 */
void http_respond_after_changes(http_ctx_t *ctx, int status, json_t *body,
                                const eng_id_t *resources, const store_change_t *changes,
                                size_t count);

/** As http_respond_after_changes, where transaction `xid` made one change of `kind` the last
 *  of each of `count` resources. */
void http_respond_after_change(http_ctx_t *ctx, int status, json_t *body, const eng_id_t *resources,
                               size_t count, uint64_t xid, store_change_kind_t kind);

/** As http_respond_after_changes, the answer serialized JSON (copied). */
void http_respond_raw_after_changes(http_ctx_t *ctx, int status, const char *json,
                                    const eng_id_t *resources, const store_change_t *changes,
                                    size_t count);

/**
 * A request header's value (the first of that name, matched without regard to
 * case), or NULL; valid while the request is.
 */
const char *http_request_header(http_ctx_t *ctx, const char *name, size_t *length);

/** The host (and port) the request was sent to: HTTP/1.1's Host header, which h2o keeps apart
 *  from the other headers (http_request_header does not find it); NULL when there is none. */
const char *http_request_host(http_ctx_t *ctx, size_t *length);

/** The request's body as received (not NUL-terminated; NULL when there is none or the client
 *  is gone), for checking a signature over its exact bytes. */
const char *http_request_body(http_ctx_t *ctx, size_t *length);

/**
 * The loop's reusable answer buffer, emptied; write into it, then send it with
 * http_respond_buffer. One per server (its loop runs one handler at a time).
 */
typedef struct {
    char *data;
    size_t size, capacity;
} http_buffer_t;
http_buffer_t *http_buffer(http_ctx_t *ctx);

/** Appends to the buffer. */
void http_buffer_append(http_buffer_t *buffer, const char *text, size_t length);

/** A buffer for a request to keep across its waits (an answer written in several steps): one
 *  the loop kept, emptied, or a new one. Give it back with http_buffer_give when done. */
http_buffer_t http_buffer_take(http_ctx_t *ctx);

/** Gives a taken buffer back to the loop for the next request (or frees it); *buffer is empty
 *  afterwards. */
void http_buffer_give(http_ctx_t *ctx, http_buffer_t *buffer);

/** Makes room for `length` more bytes at once: one allocation for an answer of known size
 *  instead of a growth at every append. */
void http_buffer_reserve(http_buffer_t *buffer, size_t length);

/** Appends a string literal. */
#define HTTP_APPEND_LITERAL(buffer, text) http_buffer_append((buffer), "" text, sizeof(text) - 1)

/** Appends `length` bytes of UTF-8 text as a JSON string: quoted, with ", \\ and control
 *  characters escaped. */
void http_buffer_append_json_string(http_buffer_t *buffer, const char *text, size_t length);

/** Sends the buffer as a JSON answer, and gives its memory back after a large one. */
void http_respond_buffer(http_ctx_t *ctx, int status);

/** The loop's engine workspace (made on first use, freed with the server). */
eng_workspace_t *http_workspace(http_ctx_t *ctx);

/** Answers 204 No Content. */
void http_respond_empty(http_ctx_t *ctx);

/** Answers a status with no body (202 Accepted, ...). */
void http_respond_status(http_ctx_t *ctx, int status);

/**
 * Answers with the error envelope: {"error":{"code","message","details"}};
 * `details` is stolen (NULL: {}).
 */
void http_respond_error(http_ctx_t *ctx, int status, const char *code, const char *message,
                        json_t *details);

/** The error envelope alone: {"error":{"code","message","details"}} (details stolen). */
json_t *http_error_body(const char *code, const char *message, json_t *details);

/** 400 invalid_request naming the field at fault. */
void http_respond_invalid(http_ctx_t *ctx, const char *field, const char *message);

/** 404 not_found. */
void http_respond_not_found(http_ctx_t *ctx, const char *what);

/** 500 internal, logged with the request id and `what` (never shown to the client). */
void http_respond_internal(http_ctx_t *ctx, const char *what);

/** 503 for work the pool refused to queue: the database is unreachable, or too much waits. */
void http_respond_refused(http_ctx_t *ctx);

/** 503 for a write whose outcome is unknown (its answer was lost or is too late). */
void http_respond_outcome_unknown(http_ctx_t *ctx);

/** 503 for a database that did not answer (saying so when a write may have taken effect:
 *  STORE_SQLSTATE_OUTCOME_UNKNOWN), 500 for anything else unexpected. */
void http_respond_database_error(http_ctx_t *ctx, const char *sqlstate);

/**
 * Runs a prepared statement for the request; `cb` runs only while the request
 * is still waiting for its answer (never after the deadline or a disconnect).
 * Answers 503 itself when the pool refuses the query.
 */
void http_query(http_ctx_t *ctx, const char *statement, int count, const char *const *values,
                void (*cb)(http_ctx_t *ctx, const PGresult *result, const char *sqlstate));

/**
 * The request waits for an asynchronous operation of another layer (a domain
 * or typed-store call): should the request settle first (deadline, client
 * gone), `cancel(operation)` runs and the operation's callback must then never
 * come. Holds a reference to the context: the operation's callback calls
 * http_wait_end() first, answers, then http_wait_release(). `sent` (may be
 * NULL) says whether the operation's statement is on the wire: a write that
 * is then past its deadline waits for its answer instead (see on_deadline).
 */
void http_wait(http_ctx_t *ctx, void *operation, void (*cancel)(void *operation),
               bool (*sent)(const void *operation));

/** The awaited operation is over (it calls back now): nothing is left to cancel. */
void http_wait_end(http_ctx_t *ctx);

/** Drops the reference http_wait took; the context may be freed. */
void http_wait_release(http_ctx_t *ctx);

/** What became of a booking request, as /metrics counts it (slotd_booking_outcomes_total). */
typedef enum {
    HTTP_BOOKING_CREATED,
    HTTP_BOOKING_CONFLICT, /**< 409 slot_unavailable, with alternatives */
    HTTP_BOOKING_REPLAY,   /**< an idempotent replay */
    HTTP_BOOKING_HOLD_EXPIRED,
    HTTP_BOOKING_ERROR, /**< the service's or the database's fault (5xx) */
    HTTP_BOOKING_OUTCOMES
} http_booking_outcome_t;

/** Counts one booking request's outcome. */
void http_count_booking(http_ctx_t *ctx, http_booking_outcome_t outcome);

/** The database pool, for the domain and typed-store calls of handlers. */
store_pool_t *http_pool(http_ctx_t *ctx);

/** The `public_url` setting without a trailing slash into `out` ("" when not set). */
void http_public_url(http_ctx_t *ctx, char *out, size_t size);

/** The `secret_key` setting, or NULL when it is not set. */
const codec_secret_key_t *http_secret_key(http_ctx_t *ctx);

/** The `webhook_allow_private` setting. */
bool http_webhook_allow_private(http_ctx_t *ctx);

/** The server's loop (for a handler's own asynchronous work, e.g. name resolution). */
uv_loop_t *http_loop(http_ctx_t *ctx);

/**
 * A query-string parameter's decoded value (in `buffer`), or NULL when absent.
 * The server has checked every parameter against the route's declaration
 * before the handler runs (unknown names, bad escapes, %00, lengths, kinds all
 * answered 400), so a buffer of the declared length + 1 always suffices.
 */
const char *http_query_param(http_ctx_t *ctx, const char *name, char *buffer, size_t size);

/**
 * Every value of a repeated query parameter, decoded, into values[i] (each of
 * `size` bytes). Returns how many there are (more than `max` means too many;
 * only `max` are stored), or -1 when one is malformed or too long.
 */
int http_query_param_all(http_ctx_t *ctx, const char *name, char *values, size_t size, int max);

/** The index, and the caller's organization in it (NULL while loading: answer 503). */
store_index_t *http_index(http_ctx_t *ctx);
index_org_t *http_index_org(http_ctx_t *ctx);

/** The current time, honouring a frozen clock (SLOTD_NOW). */
int64_t http_now(const http_server_t *server);
void http_server_freeze_clock(http_server_t *server, int64_t now);

#endif
