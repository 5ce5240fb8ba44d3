/*
 * One asynchronous PostgreSQL connection on the libuv loop: the one state
 * machine that every database connection of slotd runs (each pool connection
 * and the LISTEN connection).
 *
 *   WAITING --timer--> CONNECTING --PQconnectPoll ok--> UP
 *      ^                   |                              |
 *      +--- backoff <------+ (failure, deadline) <--------+ (socket error, reset)
 *
 * Connecting is PQconnectStartParams with TCP keepalives, driven by
 * PQconnectPoll and bounded by a deadline (libpq's connect_timeout does not
 * apply to asynchronous connects). libpq may close its socket and open another
 * (the next address of a host) under the same descriptor number, so the poll
 * handle is dropped and re-created on every connect step and whenever the
 * socket changes. A failed attempt or a lost connection reconnects after an
 * exponential backoff with jitter, which resets once the owner declares the
 * connection healthy.
 *
 * The core knows nothing of what runs on the connection. Once UP it reads
 * whatever the server sends (PQconsumeInput) and hands the connection to the
 * owner's `input` callback, which takes results and notifications off it; the
 * owner sends commands itself (PQsend...) and then calls io_pgconn_sent() so
 * that the core flushes the output as the socket allows.
 *
 * Ownership and re-entrancy: io_pgconn_new() allocates; io_pgconn_close()
 * frees once the handles are closed (memory is freed only in close callbacks,
 * so the object stays valid inside any callback, even one that closes it).
 * Callbacks run on the loop, never from inside an io_pgconn_* call except
 * `down`, which io_pgconn_reset() and io_pgconn_close() call synchronously so
 * that an owner has one place where its in-flight work fails.
 */
#ifndef SLOTD_IO_PGCONN_H
#define SLOTD_IO_PGCONN_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

typedef struct io_pgconn io_pgconn_t;

typedef enum {
    IO_PG_WAITING,    /**< down, a reconnect is scheduled */
    IO_PG_CONNECTING, /**< an attempt is under way */
    IO_PG_UP,         /**< connected: commands may be sent */
    IO_PG_CLOSED,     /**< io_pgconn_close() was called */
} io_pg_state_t;

typedef struct {
    /** Connected (non-blocking mode set): send the session's setup. */
    void (*up)(io_pgconn_t *conn, PGconn *pg, void *arg);
    /** Input arrived and was consumed: take results (PQisBusy/PQgetResult) and PQnotifies. */
    void (*input)(io_pgconn_t *conn, PGconn *pg, void *arg);
    /** A connection that was UP is gone (lost, reset or closing): fail what ran on it. The
     *  PGconn is already finished. */
    void (*down)(io_pgconn_t *conn, void *arg);
    /** An attempt to connect failed (the next one follows after the backoff); optional. */
    void (*attempt_failed)(io_pgconn_t *conn, void *arg);
} io_pgconn_callbacks_t;

typedef struct {
    const char *url;             /**< a conninfo string or URL (copied) */
    const char *application;     /**< application_name (copied) */
    uint64_t connect_timeout_ms; /**< 0: 10 s */
    uint64_t backoff_min_ms;     /**< first retry delay; 0: 50 ms */
    uint64_t backoff_max_ms;     /**< 0: 5 s */
} io_pgconn_options_t;

/** Starts connecting at once. Never NULL. */
io_pgconn_t *io_pgconn_new(uv_loop_t *loop, const io_pgconn_options_t *options,
                           const io_pgconn_callbacks_t *callbacks, void *arg);

io_pg_state_t io_pgconn_state(const io_pgconn_t *conn);

/** The libpq connection while UP, else NULL. Owned by the core: never PQfinish it. */
PGconn *io_pgconn_pg(io_pgconn_t *conn);

/** Call after every PQsend...: flushes what fits and watches the socket for the rest. */
void io_pgconn_sent(io_pgconn_t *conn);

/** The owner found the connection usable (set up): the next failure backs off from the minimum. */
void io_pgconn_healthy(io_pgconn_t *conn);

/**
 * True from a failed attempt or a broken connection until the owner calls
 * io_pgconn_healthy() again: the database is unreachable for now, so work for it
 * is better refused at once than queued (also while the next attempt runs).
 */
bool io_pgconn_failing(const io_pgconn_t *conn);

/**
 * Drops the connection (calling `down` if it was UP) and reconnects: at once when
 * `at_once` (the connection was fine, e.g. a query overran its deadline), else after
 * the backoff. Closing the socket is how slotd cancels a query without blocking:
 * PQcancel is synchronous, and PostgreSQL 15's libpq has no asynchronous cancel.
 */
void io_pgconn_reset(io_pgconn_t *conn, bool at_once);

/** Closes for good (`down` first if UP); `on_closed(arg)` runs once the handles are closed and
 *  the object is freed. No other callback runs after this call. */
void io_pgconn_close(io_pgconn_t *conn, void (*on_closed)(void *), void *arg);

#endif
