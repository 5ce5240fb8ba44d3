/*
 * An asynchronous PostgreSQL connection pool on the libuv loop.
 *
 * A fixed number of connections, each an io_pgconn_t (the loop's one libpq
 * connection core: connect with a deadline and keepalives, reconnect with
 * backoff): once connected, a connection sets its statement_timeout,
 * prepares the pool's statements and then runs work one item at a time.
 * Work waits in one FIFO queue for a free connection; it is either a single
 * statement (store_query) or a transaction (store_tx_begin): BEGIN, the
 * statements its owner queues, then COMMIT or ROLLBACK, all on one connection.
 * A broken connection fails its work and reconnects; the pool never blocks the
 * loop. Every connection runs with statement_timeout, so no statement waits on
 * the server forever, and a transaction has a deadline of its own.
 *
 * Ownership: the caller allocates nothing; store_pool_new() returns the pool,
 * store_pool_close() shuts it down and frees it once its handles are closed.
 * A query's or a transaction's final callback runs exactly once, on the loop,
 * unless it was cancelled first, in which case it never runs.
 */
#ifndef SLOTD_STORE_POOL_H
#define SLOTD_STORE_POOL_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct store_pool store_pool_t;
typedef struct store_query store_query_t;
typedef struct store_tx store_tx_t;

/**
 * What went wrong with a statement or a transaction, from its SQLSTATE (or from
 * the pool itself). 0 is success; every error is negative.
 */
typedef enum {
    STORE_OK = 0,
    STORE_E_UNIQUE_VIOLATION = -1,      /**< 23505 */
    STORE_E_EXCLUSION_VIOLATION = -2,   /**< 23P01: e.g. an overlapping booking */
    STORE_E_FOREIGN_KEY_VIOLATION = -3, /**< 23503 */
    STORE_E_CHECK_VIOLATION = -4,       /**< 23514 */
    STORE_E_NOT_NULL_VIOLATION = -5,    /**< 23502 */
    STORE_E_SERIALIZATION_FAILURE = -6, /**< 40001: retried by transactions */
    STORE_E_DEADLOCK = -7,              /**< 40P01: retried by transactions */
    STORE_E_QUERY_CANCELED = -8,        /**< 57014: statement_timeout */
    STORE_E_ADMIN_SHUTDOWN = -9,        /**< 57P01..57P03: the server is going away */
    STORE_E_CONNECTION = -10,           /**< class 08, or the connection was lost */
    STORE_E_DATA = -11,                 /**< class 22: a value the server refused */
    STORE_E_TIMEOUT = -12,              /**< the transaction's deadline passed */
    STORE_E_ROLLED_BACK = -13,          /**< the owner asked for a rollback */
    STORE_E_CLOSED = -14,               /**< the pool is closing */
    STORE_E_OTHER = -15,                /**< any other SQLSTATE */
    STORE_E_OUTCOME_UNKNOWN = -16,      /**< COMMIT was sent but its answer never came (the
                                             deadline, or the connection was lost): the
                                             transaction may have committed */
} store_error_t;

/** The error for a SQLSTATE (NULL: STORE_OK). */
store_error_t store_error_from_sqlstate(const char *sqlstate);

/**
 * True for a SQLSTATE that says "not now" rather than "this is wrong": the
 * connection or the server went away (class 08, 57P01..57P03), it is out of
 * resources (class 53), a timeout (57014), a serialization failure or
 * deadlock (40001, 40P01), a lock not available (55P03), or a read-only
 * server (25006, a standby after a failover). The same request may succeed
 * later: answer 503, not 500.
 */
bool store_sqlstate_is_transient(const char *sqlstate);

/** A short English name of a store_error_t, for logs. */
const char *store_strerror(int error);

/** A prepared statement every connection knows by name. */
typedef struct {
    const char *name;
    const char *sql;
} store_statement_t;

/**
 * SQLSTATE 08007 (transaction resolution unknown): the connection was lost
 * after the statement was sent, so it may or may not have taken effect.
 */
#define STORE_SQLSTATE_OUTCOME_UNKNOWN "08007"

/**
 * Called once per query with its result (owned by the pool: valid only during
 * the call) or NULL when the query could not run or its answer was lost.
 * `sqlstate` is the error's SQLSTATE, or with a NULL result
 * STORE_SQLSTATE_OUTCOME_UNKNOWN when the statement had been sent (the
 * connection was lost meanwhile), else NULL (it never ran: pool closing).
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

/**
 * store_query with the result in PostgreSQL's binary format (every column's
 * PQfformat 1): for bulk reads whose values the caller decodes itself, which
 * costs both sides less than formatting and parsing text.
 */
store_query_t *store_query_binary(store_pool_t *pool, const char *statement, int count,
                                  const char *const *values, store_query_cb cb, void *arg);

/**
 * From inside a query's callback: keeps its result past the callback, which the
 * caller then owns (PQclear it). Spares a copy of a large result.
 */
PGresult *store_result_keep(const PGresult *result);

/** Forgets a query: its callback will not run. A query not yet sent never runs; one that
 *  was sent runs to its end on the server all the same. */
void store_query_cancel(store_query_t *query);

/** True once the query is on the wire: cancelling it no longer keeps it from taking effect. */
bool store_query_sent(const store_query_t *query);

/* ---- transactions ---------------------------------------------------------------------------- */

typedef enum {
    STORE_TX_READ_COMMITTED,
    STORE_TX_REPEATABLE_READ,
    STORE_TX_SERIALIZABLE,
} store_tx_isolation_t;

typedef struct {
    store_tx_isolation_t isolation;
    /** From store_tx_begin to the end of COMMIT, queue wait and retries included;
     *  0: 5 s. On expiry the running statement is abandoned by closing its connection
     *  (the server then rolls back), and the pool reconnects it at once. */
    uint64_t timeout_ms;
    /** Further attempts after a serialization failure or a deadlock; 0: none. */
    int max_retries;
    /** Send the whole transaction at once, in libpq's pipeline mode: `body` then runs
     *  before BEGIN and must queue every statement and call store_tx_commit there;
     *  BEGIN, the statements and COMMIT go out together and their results come back
     *  in one round trip. Statements' callbacks still get their rows, in order, but
     *  cannot queue more. For transactions that know all their statements up front. */
    bool pipeline;
} store_tx_options_t;

/**
 * Runs at the start of every attempt, the transaction open: queue its statements
 * (store_tx_query) and end it (store_tx_commit or store_tx_rollback), here or
 * later from a statement's callback. On a retry it runs again from the start, so
 * it must not depend on what an earlier attempt's callbacks saw.
 */
typedef void (*store_tx_body_cb)(store_tx_t *tx, void *arg);

/** A statement's rows (owned by the pool: valid only during the call); runs only on success. */
typedef void (*store_tx_result_cb)(store_tx_t *tx, const PGresult *result, void *arg);

typedef struct {
    int error;            /**< STORE_OK when committed, else a store_error_t */
    const char *sqlstate; /**< the failed statement's SQLSTATE, or NULL */
    int attempts;         /**< 1 + retries made */
} store_tx_outcome_t;

/** The transaction is over: committed (error 0), or rolled back / abandoned. */
typedef void (*store_tx_done_cb)(const store_tx_outcome_t *outcome, void *arg);

/**
 * Queues a transaction. Once a connection is free: BEGIN at `isolation`, then `body`.
 * A statement that fails rolls the transaction back (the statements queued after it
 * never run); a serialization failure or deadlock then starts a new attempt after a
 * short random delay, up to `max_retries` times within the deadline. A lost
 * connection is not retried: it ends the transaction with STORE_E_CONNECTION. If
 * the connection is lost or the deadline passes while COMMIT is in flight, whether
 * the server committed is unknown: the caller must check before repeating (closing the
 * pool from a callback of a pipelined transaction is such a case: its COMMIT is already
 * sent). `body` and `done` run on the loop, never from inside this call; `done` exactly
 * once. Returns the
 * transaction, valid until `done` returns or store_tx_cancel; or NULL without any
 * callback when the pool refuses it, as store_query does.
 */
store_tx_t *store_tx_begin(store_pool_t *pool, const store_tx_options_t *options,
                           store_tx_body_cb body, store_tx_done_cb done, void *arg);

/**
 * Queues a prepared statement in the transaction (values copied; NULL is SQL NULL);
 * statements run one after another, in order. `cb` may be NULL. Only while the
 * transaction is open (from `body` or a statement's callback onwards, before
 * commit or rollback); otherwise ignored.
 */
void store_tx_query(store_tx_t *tx, const char *statement, int count, const char *const *values,
                    store_tx_result_cb cb, void *arg);

/** COMMIT once the queued statements have succeeded. */
void store_tx_commit(store_tx_t *tx);

/** ROLLBACK now (queued statements are dropped); `done` gets STORE_E_ROLLED_BACK. */
void store_tx_rollback(store_tx_t *tx);

/** The attempt running now, from 1. */
int store_tx_attempt(const store_tx_t *tx);

/** True once the transaction's COMMIT is on the wire: it may commit whatever happens now. */
bool store_tx_commit_sent(const store_tx_t *tx);

/**
 * Forgets a transaction: none of its callbacks run again, and it rolls back —
 * unless its COMMIT is already on the wire (after store_tx_commit was acted
 * on, or for a pipelined transaction once sent): then it may still commit.
 */
void store_tx_cancel(store_tx_t *tx);

/** Connections that are connected and prepared. */
int store_pool_ready_count(const store_pool_t *pool);

/** Queries waiting for a connection, and connections busy. */
size_t store_pool_queued(const store_pool_t *pool);
int store_pool_busy(const store_pool_t *pool);

/**
 * Closes every connection; queued and running queries get NULL, transactions
 * STORE_E_CLOSED. `on_closed` runs once all
 * handles are closed and the pool is freed.
 */
void store_pool_close(store_pool_t *pool, void (*on_closed)(void *), void *arg);

#endif
