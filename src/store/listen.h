/*
 * A connection that LISTENs on one channel and hands every notification to
 * its owner, and reads the log of occupancy changes (migration 0027) for it:
 * the index's way of hearing about changes made by any program.
 *
 * Each change in the log is handed to `on_notify` as its payload, as if it
 * had been notified: the log is read when a wake is heard on the channel
 * (another process committed a change; at most one read every 5 ms for
 * those), when the owner calls
 * store_listen_wake() (it committed one itself) and every 100 ms; each read
 * hands on the changes of the transactions committed since the last one, in
 * the order they were written. The wakes themselves are not passed on.
 *
 * It runs on the loop's libpq connection core (io/pgconn.h), so it connects
 * with a deadline and keepalives and reconnects with backoff like every other
 * connection. Once LISTEN has succeeded on a new connection, `on_connected`
 * runs: notifications and changes sent while it was down are not passed on,
 * so its owner must reload whatever it keeps. Only those that come after
 * that are passed on. A read of the log that fails, one that finds the log
 * swept past what it has not read yet, or none for five minutes, reconnects
 * (and `on_connected` runs again).
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

/**
 * A change of occupancy was committed by this process: read the log now and wake every other
 * listener (one notification, sent with the read; wakes asked for meanwhile share it).
 */
void store_listen_wake(store_listen_t *listen);

/** What the connection did: reads of the log that succeeded and the wakes sent with those. */
typedef struct {
    unsigned long long reads, wakes;
} store_listen_stats_t;

void store_listen_stats(const store_listen_t *listen, store_listen_stats_t *stats);

/** Stops listening; `on_closed(arg)` once everything is freed. */
void store_listen_close(store_listen_t *listen, void (*on_closed)(void *), void *arg);

#endif
