/*
 * Outbound HTTP on the libuv loop: libcurl's multi interface driven by the
 * loop's own poll handles and one timer. Calendar sync and webhooks sit on
 * it; nothing here blocks the loop.
 *
 * libcurl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION: one
 * uv_poll_t per socket, closed when libcurl says REMOVE) and when to wake it
 * (CURLMOPT_TIMERFUNCTION: one uv_timer_t). Name resolution runs in
 * libcurl's resolver thread (Debian's libcurl4-openssl is built with the
 * threaded resolver, "AsynchDNS"; io_http_new() logs a warning if a build
 * without it is linked), so even a slow DNS server never stalls the loop.
 *
 * Every request has a deadline for the whole exchange (connect, send,
 * receive) and a cap on the size of the answer. Redirects are not followed
 * and only http and https URLs are accepted.
 *
 * Ownership: io_http_new() allocates the client, io_http_close() frees it
 * once its handles are closed. io_http_start() copies everything it is given.
 * A request's callback runs exactly once, on the loop, never from inside
 * io_http_start(), unless the request was cancelled first; the response it
 * gets is valid only during the call.
 */
#ifndef SLOTD_IO_HTTP_CLIENT_H
#define SLOTD_IO_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct io_http io_http_t;
typedef struct io_http_request io_http_request_t;

/** Why a request got no answer. An HTTP status, even 500, is an answer, not an error. */
typedef enum {
    IO_HTTP_OK = 0,
    IO_HTTP_E_TIMEOUT = -1,   /**< the deadline passed */
    IO_HTTP_E_CONNECT = -2,   /**< no connection: refused, unreachable */
    IO_HTTP_E_RESOLVE = -3,   /**< the host name did not resolve */
    IO_HTTP_E_TOO_LARGE = -4, /**< the answer exceeded max_response_bytes */
    IO_HTTP_E_CLOSED = -5,    /**< the client was closed first */
    IO_HTTP_E_TRANSFER = -6,  /**< anything else: TLS, protocol, a reset connection */
    IO_HTTP_E_PRIVATE = -7,   /**< public_only, and the host's address is not a public one */
} io_http_error_t;

typedef struct {
    const char *name, *value;
} io_http_header_t;

typedef struct {
    int error;                       /**< IO_HTTP_OK or an io_http_error_t */
    long status;                     /**< the HTTP status, 0 when there was no answer */
    const io_http_header_t *headers; /**< the final answer's, in order */
    size_t header_count;
    const char *body; /**< NUL-terminated (the NUL not counted); "" when none */
    size_t body_len;
    const char *error_text;     /**< libcurl's explanation when error != 0, for logs */
    io_http_request_t *request; /**< the request answered (for io_http_response_take_body) */
} io_http_response_t;

typedef void (*io_http_done_cb)(const io_http_response_t *response, void *arg);

typedef struct {
    const char *method; /**< NULL: GET, or POST when there is a body */
    const char *url;
    const char *const *headers; /**< "Name: value" lines */
    size_t header_count;
    const char *body; /**< NULL: none */
    size_t body_len;
    uint64_t timeout_ms;         /**< the whole exchange; 0: 10 s */
    uint64_t connect_timeout_ms; /**< 0: the smaller of timeout_ms and 5 s */
    size_t max_response_bytes;   /**< body cap; 0: 8 MiB */
    bool public_only;            /**< connect only to public addresses (io/address.h): webhooks */
} io_http_request_options_t;

/** A client on `loop`. Never NULL. */
io_http_t *io_http_new(uv_loop_t *loop);

/**
 * Starts a request. Returns it, valid until its callback returns or it is
 * cancelled; NULL, without any callback, when the client is closing or the
 * options are unusable (no URL, not http/https).
 */
io_http_request_t *io_http_start(io_http_t *http, const io_http_request_options_t *options,
                                 io_http_done_cb done, void *arg);

/** Abandons a request: its callback never runs. From inside its own callback (where the
 *  request is still valid) it does nothing: the request is freed when the callback returns. */
void io_http_cancel(io_http_request_t *request);

/** The answer's body, taken over by the caller (who frees it; NUL-terminated, its length in
 *  *length) rather than copied: for large bodies. From inside the request's callback only;
 *  response->body is not to be read afterwards. NULL when there is none. */
char *io_http_response_take_body(const io_http_response_t *response, size_t *length);

/** A header of the answer by name (case-insensitive; the first of several), or NULL. */
const char *io_http_response_header(const io_http_response_t *response, const char *name);

/** The loop the client runs on. */
uv_loop_t *io_http_loop(const io_http_t *http);

/** Requests started and not finished. */
size_t io_http_active(const io_http_t *http);

/** True when name resolution runs off the calling thread (libcurl's threaded resolver). */
int io_http_resolves_asynchronously(void);

/**
 * Fails every request in flight with IO_HTTP_E_CLOSED (their callbacks run
 * from inside this call), then frees the client; `on_closed(arg)` once its
 * handles are closed.
 */
void io_http_close(io_http_t *http, void (*on_closed)(void *), void *arg);

#endif
