/*
 * An asynchronous PostgreSQL connection pool on the libuv loop.
 *
 * A fixed number of connections, each driven by a uv_poll_t on its socket:
 * connect (PQconnectStart/PQconnectPoll), prepare the pool's statements, then
 * run queued queries one at a time (PQsendQueryPrepared). Queries wait in one
 * FIFO queue for a free connection. A broken connection fails its query (the
 * callback gets no result) and reconnects with exponential backoff; the pool
 * never blocks the loop. Every connection runs with statement_timeout, so no
 * query waits on the server forever.
 *
 * Ownership: the caller allocates nothing; store_pool_new() returns the pool,
 * store_pool_close() shuts it down and frees it once its handles are closed.
 * A query's callback runs exactly once, on the loop, unless the query was
 * cancelled first (store_query_cancel), in which case it never runs.
 */
#ifndef SLOTD_STORE_POOL_H
#define SLOTD_STORE_POOL_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

typedef struct store_pool store_pool_t;
typedef struct store_query store_query_t;

/** A prepared statement every connection knows by name. */
typedef struct {
    const char *name;
    const char *sql;
} store_statement_t;

/**
 * Called once per query with its result (owned by the pool: valid only during
 * the call) or NULL when the query could not run (connection lost, pool
 * closing). `sqlstate` is the error's SQLSTATE or NULL.
 */
typedef void (*store_query_cb)(const PGresult *result, const char *sqlstate, void *arg);

typedef struct {
    const char *url;
    int size;                 /**< connections */
    int statement_timeout_ms; /**< per statement, server side */
    const store_statement_t *statements;
    size_t statement_count;
    size_t max_queue; /**< queued queries before refusing (503) */
} store_pool_options_t;

/**
 * Starts an asynchronous connection (PQconnectStartParams) with TCP keepalives;
 * NULL when it failed at once. The caller polls it and bounds it with a timer.
 */
PGconn *store_connect_start(const char *url, const char *application);

/** Starts connecting. The pool is usable at once; queries wait for a connection. */
store_pool_t *store_pool_new(uv_loop_t *loop, const store_pool_options_t *options);

/**
 * Queues a prepared statement with text parameters (copied; NULL is SQL NULL).
 * Returns the query, valid until its callback returns or it is cancelled; or
 * NULL, without calling back, when the pool refuses it (closing, every
 * connection down and waiting to retry, or max_queue queries already waiting).
 */
store_query_t *store_query(store_pool_t *pool, const char *statement, int count,
                           const char *const *values, store_query_cb cb, void *arg);

/** Forgets a query: its callback will not run. */
void store_query_cancel(store_query_t *query);

/** Connections that are connected and prepared. */
int store_pool_ready_count(const store_pool_t *pool);

/** Queries waiting for a connection, and connections busy. */
size_t store_pool_queued(const store_pool_t *pool);
int store_pool_busy(const store_pool_t *pool);

/**
 * Closes every connection; queued queries get NULL. `on_closed` runs once all
 * handles are closed and the pool is freed.
 */
void store_pool_close(store_pool_t *pool, void (*on_closed)(void *), void *arg);

#endif
