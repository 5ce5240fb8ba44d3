/*
 * A connection that LISTENs on one channel and hands every notification to
 * its owner: the index's way of hearing about changes made by any program.
 *
 * It runs on the loop's libpq connection core (io/pgconn.h), so it connects
 * with a deadline and keepalives and reconnects with backoff like every other
 * connection. Once LISTEN has succeeded on a new connection, `on_connected`
 * runs: notifications sent while it was down are lost, so its owner must
 * reload whatever it keeps. Only notifications that arrive after that are
 * passed on.
 *
 * Ownership: store_listen_start() allocates; store_listen_close() frees once
 * the handles are closed and then calls `on_closed`. Callbacks run on the
 * loop, never after store_listen_close().
 */
#ifndef SLOTD_STORE_LISTEN_H
#define SLOTD_STORE_LISTEN_H

#include <uv.h>

typedef struct store_listen store_listen_t;

/** A notification's payload (valid during the call). */
typedef void (*store_listen_notify_cb)(const char *payload, void *arg);

/** LISTEN is in place on a new connection: anything may have been missed before. */
typedef void (*store_listen_connected_cb)(void *arg);

/** Starts connecting to `url` (copied) to LISTEN on `channel` (copied). Never NULL. */
store_listen_t *store_listen_start(uv_loop_t *loop, const char *url, const char *channel,
                                   store_listen_notify_cb on_notify,
                                   store_listen_connected_cb on_connected, void *arg);

/** Stops listening; `on_closed(arg)` once everything is freed. */
void store_listen_close(store_listen_t *listen, void (*on_closed)(void *), void *arg);

#endif
