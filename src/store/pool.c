/*
 * The asynchronous connection pool (see pool.h).
 *
 * Each connection is an io_pgconn_t, which connects, reconnects and moves the
 * bytes; on top of it the pool keeps a small state machine of its own:
 *
 *   DOWN --up--> PREPARING (session settings, then one PQsendPrepare per
 *   statement, in turn) --> IDLE <--> BUSY (one query, or one transaction)
 *     ^                                        |
 *     +------------- down (lost, reset) <------+
 *
 * Work waits in one FIFO list of store_query_t entries; an entry with `tx` set
 * stands for a transaction. A cancelled entry is marked and skipped (or, when
 * running, its result is dropped).
 *
 * A transaction, once on a connection, goes BEGINNING (BEGIN sent) -> OPEN
 * (the owner's statements, one at a time) -> COMMITTING, or ROLLING_BACK after
 * a failed statement or on request; after a rollback caused by a serialization
 * failure or a deadlock it waits a random few milliseconds (WAITING_RETRY, on
 * the connection's timer) and begins again. A transaction's own timer holds
 * its deadline, from store_tx_begin on, so that it expires even while it waits
 * in the queue; when it fires on a connection, the connection is reset, because
 * PostgreSQL 15's libpq can cancel a query only with the blocking PQcancel;
 * the server ends the abandoned backend (and its transaction) when it notices
 * the closed socket, within client_connection_check_interval even in the
 * middle of a long statement.
 *
 * Re-entrancy: user callbacks run from the connection's input callback or
 * from `down`; they may queue work, cancel, or close the pool. Code that calls
 * back checks afterwards whether its connection is still the same one, and
 * whether the transaction it serves is still the connection's: closing the
 * pool from a callback ends the transaction (and frees its statements) before
 * the callback returns. Work is never started from inside a call of the
 * pool's owner (store_query, store_tx_begin, store_tx_cancel): those queue it
 * and start the pool's `kick` timer (0 ms), whose callback dispatches, so that
 * a transaction's body and its `done` only ever run from the loop.
 */
#include "store/pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/pgconn.h"
#include "slotd/alloc.h"
#include "log/log.h"

typedef enum { CONN_DOWN, CONN_PREPARING, CONN_IDLE, CONN_BUSY } conn_state_t;

typedef struct conn {
    store_pool_t *pool;
    io_pgconn_t *io;
    conn_state_t state;
    size_t prepared;       /* statements prepared so far */
    store_query_t *query;  /* the single statement running */
    store_tx_t *tx;        /* or the transaction running */
    bool awaiting;         /* a command was sent and its results have not all come */
    size_t pipeline_index; /* in pipeline mode: the command whose results come next */
    PGresult *pending;     /* the current command's result (its first error, else its last) */
    uv_timer_t timer;      /* a transaction's retry delay, or its deferred reset */
} conn_t;

struct store_query {
    store_query_t *next;
    store_pool_t *pool;
    char *statement;
    int count;
    char **values;
    store_query_cb cb;
    store_tx_result_cb tx_cb; /* a statement of a transaction */
    void *arg;
    store_tx_t *tx; /* this queue entry stands for a transaction */
    bool cancelled;
    bool sent;         /* on the wire: it may run to its end whatever happens here */
    int result_format; /* 1: binary results (store_query_binary) */
};

typedef enum {
    TX_QUEUED,
    TX_BEGINNING,
    TX_OPEN,
    TX_COMMITTING,
    TX_ROLLING_BACK,
    TX_WAITING_RETRY,
    TX_PIPELINE, /* everything sent in pipeline mode, results coming */
    TX_OVER
} tx_phase_t;

struct store_tx {
    store_pool_t *pool;
    conn_t *conn;         /* NULL while queued */
    store_query_t *entry; /* its queue entry while queued */
    store_tx_options_t options;
    store_tx_body_cb body;
    store_tx_done_cb done;
    void *arg;
    store_query_t *head, *tail; /* statements queued, not yet sent */
    store_query_t *running;
    tx_phase_t phase;
    bool commit_requested, rollback_requested, in_callback, cancelled;
    bool broken; /* a command could not be sent: the connection resets from the loop */
    int attempt;
    int error;
    char sqlstate[6];
    uint64_t deadline;         /* loop time, ms */
    uv_timer_t deadline_timer; /* the memory is freed in its close callback */
};

struct store_pool {
    uv_loop_t *loop;
    store_pool_options_t options;
    char *url;
    conn_t *conns;
    store_query_t *head, *tail;
    size_t queued;
    bool closing;
    uv_timer_t kick;  /* dispatches from the loop what a call of the owner queued */
    int open_handles; /* timers and connections not closed yet */
    uint32_t jitter_state;
    void (*on_closed)(void *);
    void *on_closed_arg;
};

static void dispatch(store_pool_t *pool);
static void pool_kick(store_pool_t *pool);
static void tx_start_attempt(conn_t *c);
static void tx_pump(conn_t *c);

/* ---- errors ---------------------------------------------------------------------------------- */

store_error_t store_error_from_sqlstate(const char *s)
{
    if (s == NULL || s[0] == '\0')
        return STORE_OK;
    static const struct {
        const char *state;
        store_error_t error;
    } exact[] = {
        {"23505", STORE_E_UNIQUE_VIOLATION},
        {"23P01", STORE_E_EXCLUSION_VIOLATION},
        {"23503", STORE_E_FOREIGN_KEY_VIOLATION},
        {"23514", STORE_E_CHECK_VIOLATION},
        {"23502", STORE_E_NOT_NULL_VIOLATION},
        {"40001", STORE_E_SERIALIZATION_FAILURE},
        {"40P01", STORE_E_DEADLOCK},
        {"57014", STORE_E_QUERY_CANCELED},
        {"57P01", STORE_E_ADMIN_SHUTDOWN},
        {"57P02", STORE_E_ADMIN_SHUTDOWN},
        {"57P03", STORE_E_ADMIN_SHUTDOWN},
    };
    for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
        if (strcmp(s, exact[i].state) == 0)
            return exact[i].error;
    if (strncmp(s, "08", 2) == 0)
        return STORE_E_CONNECTION;
    if (strncmp(s, "22", 2) == 0)
        return STORE_E_DATA;
    return STORE_E_OTHER;
}

bool store_sqlstate_is_transient(const char *s)
{
    static const char *const exact[] = {"57014", "57P01", "57P02", "57P03",
                                        "40001", "40P01", "55P03", "25006"};
    if (s == NULL)
        return false;
    if (strncmp(s, "08", 2) == 0 || strncmp(s, "53", 2) == 0)
        return true;
    for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
        if (strcmp(s, exact[i]) == 0)
            return true;
    return false;
}

const char *store_strerror(int error)
{
    switch (error) {
    case STORE_OK:
        return "ok";
    case STORE_E_UNIQUE_VIOLATION:
        return "unique violation";
    case STORE_E_EXCLUSION_VIOLATION:
        return "exclusion violation";
    case STORE_E_FOREIGN_KEY_VIOLATION:
        return "foreign key violation";
    case STORE_E_CHECK_VIOLATION:
        return "check violation";
    case STORE_E_NOT_NULL_VIOLATION:
        return "not-null violation";
    case STORE_E_SERIALIZATION_FAILURE:
        return "serialization failure";
    case STORE_E_DEADLOCK:
        return "deadlock";
    case STORE_E_QUERY_CANCELED:
        return "statement timeout";
    case STORE_E_ADMIN_SHUTDOWN:
        return "server shutting down";
    case STORE_E_CONNECTION:
        return "connection lost";
    case STORE_E_DATA:
        return "invalid data";
    case STORE_E_TIMEOUT:
        return "transaction deadline passed";
    case STORE_E_OUTCOME_UNKNOWN:
        return "commit outcome unknown";
    case STORE_E_ROLLED_BACK:
        return "rolled back";
    case STORE_E_CLOSED:
        return "pool closing";
    default:
        return "database error";
    }
}

/* The SQLSTATE of a failed result; NULL for success. libpq's own errors have none. */
static const char *result_sqlstate(const PGresult *result)
{
    ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
    if (result && (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK))
        return NULL;
    const char *state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : NULL;
    return state ? state : "08006";
}

/* ---- queue entries --------------------------------------------------------------------------- */

static store_query_t *new_query(store_pool_t *pool, const char *statement, int count,
                                const char *const *values)
{
    store_query_t *q = slotd_calloc(1, sizeof(*q));
    q->pool = pool;
    q->statement = statement ? slotd_strdup(statement) : NULL;
    q->count = count;
    q->values = slotd_calloc((size_t)(count ? count : 1), sizeof(char *));
    for (int i = 0; i < count; i++)
        q->values[i] = values[i] ? slotd_strdup(values[i]) : NULL;
    return q;
}

static void free_query(store_query_t *q)
{
    for (int i = 0; i < q->count; i++)
        free(q->values[i]);
    free(q->values);
    free(q->statement);
    free(q);
}

/* The result a query's callback is running with, until store_result_keep takes it. All
 * callbacks run on the loop's thread, one at a time. */
static PGresult *handed_out;

PGresult *store_result_keep(const PGresult *result)
{
    PGresult *kept = handed_out;
    if (kept == NULL || kept != result)
        return NULL;
    handed_out = NULL;
    return kept;
}

/* Calls a query's callback with `result` and frees the query; returns the result unless
 * the callback kept it. */
static PGresult *finish_query(store_query_t *q, PGresult *result)
{
    /* a statement sent on a connection that was then lost may or may not have taken effect */
    const char *sqlstate = result    ? result_sqlstate(result)
                           : q->sent ? STORE_SQLSTATE_OUTCOME_UNKNOWN
                                     : NULL;
    if (!q->cancelled) {
        PGresult *outer = handed_out; /* a callback may end a query of another pool */
        handed_out = result;
        q->cb(result, sqlstate, q->arg);
        if (handed_out != result)
            result = NULL;
        handed_out = outer;
    }
    free_query(q);
    return result;
}

static void enqueue(store_pool_t *pool, store_query_t *q)
{
    if (pool->tail)
        pool->tail->next = q;
    else
        pool->head = q;
    pool->tail = q;
    pool->queued++;
}

/* Refuses work when the pool is closing, full, or every connection failed and has not come back
 * (waiting to retry, or retrying): the caller answers at once instead of waiting for a
 * database that is not there. */
static bool pool_refuses(const store_pool_t *pool)
{
    bool all_down = true;
    for (int i = 0; i < pool->options.size && all_down; i++)
        all_down = io_pgconn_failing(pool->conns[i].io);
    return pool->closing || pool->queued >= pool->options.max_queue || all_down;
}

/* ---- transactions ---------------------------------------------------------------------------- */

static void tx_drop_statements(store_tx_t *tx)
{
    while (tx->head) {
        store_query_t *q = tx->head;
        tx->head = q->next;
        free_query(q);
    }
    tx->tail = NULL;
    if (tx->running) {
        free_query(tx->running);
        tx->running = NULL;
    }
}

static void pool_release(store_pool_t *pool);

static void tx_closed(uv_handle_t *handle)
{
    store_tx_t *tx = handle->data;
    store_pool_t *pool = tx->pool;
    free(tx);
    pool_release(pool);
}

/* The transaction is over: tell its owner, free it, and give the connection to the queue. */
static void tx_end(store_tx_t *tx, int error)
{
    conn_t *c = tx->conn;
    if (c) {
        uv_timer_stop(&c->timer);
        c->tx = NULL;
        if (c->state == CONN_BUSY)
            c->state = CONN_IDLE;
    }
    tx_drop_statements(tx);
    store_tx_outcome_t outcome = {
        .error = error, .sqlstate = tx->sqlstate[0] ? tx->sqlstate : NULL, .attempts = tx->attempt};
    tx->phase = TX_OVER; /* no call on it does anything any more */
    tx->conn = NULL;
    store_pool_t *pool = tx->pool;
    if (!tx->cancelled)
        tx->done(&outcome, tx->arg);
    tx->cancelled = true;
    uv_timer_stop(&tx->deadline_timer);
    uv_close((uv_handle_t *)&tx->deadline_timer, tx_closed);
    pool_kick(pool); /* tx_end may run inside a call of the owner (store_tx_cancel) */
}

static void tx_record_error(store_tx_t *tx, const char *sqlstate)
{
    if (tx->error)
        return; /* the first failure is the cause */
    tx->error = store_error_from_sqlstate(sqlstate);
    snprintf(tx->sqlstate, sizeof(tx->sqlstate), "%s", sqlstate);
}

static void on_tx_timer(uv_timer_t *timer);

/* A command could not be sent: the connection is dead. It is reset from the loop, not from
 * here, since this may run inside a call of the transaction's owner (which must not see its
 * `done` callback from inside its own call). */
static void tx_fail_later(conn_t *c)
{
    tx_record_error(c->tx, "08006");
    c->tx->broken = true;
    uv_timer_start(&c->timer, on_tx_timer, 0, 0);
}

/* Sends a command of the transaction's own (BEGIN, COMMIT, ROLLBACK). */
static void tx_send(conn_t *c, const char *sql)
{
    PGconn *pg = io_pgconn_pg(c->io);
    c->awaiting = true;
    if (pg == NULL || !PQsendQuery(pg, sql)) {
        tx_fail_later(c);
        return;
    }
    io_pgconn_sent(c->io);
}

static void tx_roll_back(conn_t *c)
{
    store_tx_t *tx = c->tx;
    tx_drop_statements(tx);
    tx->phase = TX_ROLLING_BACK;
    tx_send(c, "ROLLBACK");
}

static uint32_t pool_random(store_pool_t *pool)
{
    pool->jitter_state ^= pool->jitter_state << 13;
    pool->jitter_state ^= pool->jitter_state >> 17;
    pool->jitter_state ^= pool->jitter_state << 5;
    return pool->jitter_state;
}

static void on_tx_timer(uv_timer_t *timer)
{
    conn_t *c = timer->data;
    store_tx_t *tx = c->tx;
    if (tx == NULL)
        return;
    if (tx->broken) {
        io_pgconn_reset(c->io, false); /* down ends the transaction */
        return;
    }
    if (tx->phase == TX_WAITING_RETRY)
        tx_start_attempt(c);
}

/* The COMMIT is on the wire: whatever happens to the connection now, the server may commit. */
static bool tx_commit_sent(const store_tx_t *tx)
{
    return tx->phase == TX_COMMITTING || tx->phase == TX_PIPELINE;
}

bool store_tx_commit_sent(const store_tx_t *tx)
{
    return tx_commit_sent(tx);
}

static void on_tx_deadline(uv_timer_t *timer)
{
    store_tx_t *tx = timer->data;
    tx->error = tx_commit_sent(tx) ? STORE_E_OUTCOME_UNKNOWN : STORE_E_TIMEOUT;
    tx->sqlstate[0] = '\0';
    if (tx->phase == TX_QUEUED) {
        /* still waiting for a connection: leave the entry to be skipped */
        tx->entry->tx = NULL;
        tx->entry->cancelled = true;
        tx->entry = NULL;
        tx_end(tx, STORE_E_TIMEOUT);
        return;
    }
    if (tx->phase == TX_WAITING_RETRY) {
        tx_end(tx, STORE_E_TIMEOUT);
        return;
    }
    /* On a connection: abandon the statement by dropping the connection (see the top). */
    io_pgconn_reset(tx->conn->io, true); /* down ends the transaction */
}

/* After a rollback: retry a serialization failure or a deadlock, or end. */
static void tx_rolled_back(conn_t *c)
{
    store_tx_t *tx = c->tx;
    int error = tx->error ? tx->error : STORE_E_ROLLED_BACK;
    bool retryable = error == STORE_E_SERIALIZATION_FAILURE || error == STORE_E_DEADLOCK;
    if (retryable && !tx->cancelled && tx->attempt <= tx->options.max_retries) {
        uint64_t base = 10u << (tx->attempt < 5 ? tx->attempt - 1 : 4); /* 10 ms .. 160 ms */
        uint64_t delay = base / 2 + pool_random(c->pool) % base;
        uint64_t now = uv_now(c->pool->loop);
        if (now + delay < tx->deadline) {
            tx->phase = TX_WAITING_RETRY;
            uv_timer_start(&c->timer, on_tx_timer, delay, 0);
            return;
        }
    }
    tx_end(tx, error);
}

/* A pipelined attempt: the body queues everything first, then BEGIN, the statements,
 * COMMIT and a sync point go out together. */
static void tx_send_pipeline(conn_t *c, const char *begin)
{
    store_tx_t *tx = c->tx;
    tx->phase = TX_OPEN;
    tx->in_callback = true; /* collect, do not send */
    if (!tx->cancelled)
        tx->body(tx, tx->arg);
    if (c->tx != tx)
        return; /* the body closed the pool, which ended the transaction */
    tx->in_callback = false;
    if (tx->cancelled || tx->rollback_requested || !tx->commit_requested) {
        tx_end(tx, STORE_E_ROLLED_BACK); /* nothing was sent */
        return;
    }
    tx->phase = TX_PIPELINE;
    c->pipeline_index = 0;
    c->awaiting = false;
    PGconn *pg = io_pgconn_pg(c->io);
    bool ok =
        pg && PQenterPipelineMode(pg) && PQsendQueryParams(pg, begin, 0, NULL, NULL, NULL, NULL, 0);
    for (store_query_t *q = tx->head; ok && q; q = q->next)
        ok = PQsendQueryPrepared(pg, q->statement, q->count, (const char *const *)q->values, NULL,
                                 NULL, q->result_format);
    ok = ok && PQsendQueryParams(pg, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) && PQpipelineSync(pg);
    if (!ok) {
        tx_fail_later(c);
        return;
    }
    io_pgconn_sent(c->io);
}

/* A result of the pipeline: BEGIN (index 0), a statement (1..n), COMMIT (n + 1). Returns
 * false when the owner's callback ended the transaction or dropped the connection. */
static bool tx_pipeline_result(conn_t *c, PGconn *pg, const PGresult *res)
{
    store_tx_t *tx = c->tx;
    ExecStatusType status = PQresultStatus(res);
    if (status == PGRES_PIPELINE_ABORTED)
        return true; /* skipped after an earlier failure */
    const char *state = result_sqlstate(res);
    if (state) {
        tx_record_error(tx, state);
        return true;
    }
    if (c->pipeline_index == 0 || tx->head == NULL)
        return true; /* BEGIN or COMMIT */
    store_query_t *q = tx->head;
    if (q->tx_cb && !tx->cancelled) {
        tx->in_callback = true;
        q->tx_cb(tx, res, q->arg);
        if (c->tx != tx || io_pgconn_pg(c->io) != pg)
            return false;
        tx->in_callback = false;
    }
    return true;
}

/* Reads the pipeline's results up to its sync point, then ends or rolls back. */
static void tx_pipeline_input(conn_t *c, PGconn *pg)
{
    store_tx_t *tx = c->tx;
    while (!PQisBusy(pg)) {
        PGresult *res = PQgetResult(pg);
        if (res == NULL) { /* the end of one command's results */
            if (c->pipeline_index > 0 && tx->head) {
                store_query_t *q = tx->head;
                tx->head = q->next;
                if (tx->head == NULL)
                    tx->tail = NULL;
                free_query(q);
            }
            c->pipeline_index++;
            continue;
        }
        bool sync = PQresultStatus(res) == PGRES_PIPELINE_SYNC;
        bool same = sync || tx_pipeline_result(c, pg, res);
        PQclear(res);
        if (!same)
            return; /* the transaction is over, its statements freed */
        if (!sync)
            continue;
        if (!PQexitPipelineMode(pg)) {
            tx_record_error(tx, "08006");
            io_pgconn_reset(c->io, false);
            return;
        }
        if (tx->error == 0) {
            tx_end(tx, STORE_OK);
        } else if (PQtransactionStatus(pg) != PQTRANS_IDLE) {
            tx_roll_back(c);
        } else {
            tx_drop_statements(tx);
            tx_rolled_back(c);
        }
        return;
    }
}

static void tx_start_attempt(conn_t *c)
{
    store_tx_t *tx = c->tx;
    static const char *const begin[] = {
        [STORE_TX_READ_COMMITTED] = "BEGIN ISOLATION LEVEL READ COMMITTED",
        [STORE_TX_REPEATABLE_READ] = "BEGIN ISOLATION LEVEL REPEATABLE READ",
        [STORE_TX_SERIALIZABLE] = "BEGIN ISOLATION LEVEL SERIALIZABLE",
    };
    uint64_t now = uv_now(c->pool->loop);
    if (now >= tx->deadline) {
        tx->error = STORE_E_TIMEOUT;
        tx->sqlstate[0] = '\0';
        tx_end(tx, STORE_E_TIMEOUT);
        return;
    }
    tx->attempt++;
    tx->error = 0;
    tx->sqlstate[0] = '\0';
    tx->commit_requested = false;
    tx->rollback_requested = tx->cancelled;
    if (tx->options.pipeline) {
        tx_send_pipeline(c, begin[tx->options.isolation]);
        return;
    }
    tx->phase = TX_BEGINNING;
    tx_send(c, begin[tx->options.isolation]);
}

/* Sends the next thing the open transaction needs, unless its owner is being called. */
static void tx_pump(conn_t *c)
{
    store_tx_t *tx = c->tx;
    if (tx->in_callback || tx->phase != TX_OPEN || tx->running)
        return;
    if (tx->rollback_requested) {
        tx->error = STORE_E_ROLLED_BACK;
        tx_roll_back(c);
        return;
    }
    if (tx->head) {
        store_query_t *q = tx->head;
        tx->head = q->next;
        if (tx->head == NULL)
            tx->tail = NULL;
        tx->running = q;
        PGconn *pg = io_pgconn_pg(c->io);
        c->awaiting = true;
        if (pg == NULL ||
            !PQsendQueryPrepared(pg, q->statement, q->count, (const char *const *)q->values, NULL,
                                 NULL, q->result_format)) {
            tx_fail_later(c);
            return;
        }
        io_pgconn_sent(c->io);
        return;
    }
    if (tx->commit_requested) {
        tx->phase = TX_COMMITTING;
        tx_send(c, "COMMIT");
    }
    /* else: open, waiting for its owner (the deadline runs) */
}

/* A command of the transaction finished with `res` (owned by the caller). */
static void tx_command_done(conn_t *c, PGconn *pg, const PGresult *res)
{
    store_tx_t *tx = c->tx;
    const char *state = result_sqlstate(res);
    switch (tx->phase) {
    case TX_BEGINNING:
        if (state) {
            tx_record_error(tx, state);
            tx_end(tx, tx->error);
            return;
        }
        tx->phase = TX_OPEN;
        if (tx->cancelled) {
            tx->rollback_requested = true;
        } else {
            tx->in_callback = true;
            tx->body(tx, tx->arg);
            if (c->tx != tx || io_pgconn_pg(c->io) != pg)
                return; /* the body closed the pool, which ended the transaction */
            tx->in_callback = false;
        }
        tx_pump(c);
        return;
    case TX_OPEN: {
        store_query_t *q = tx->running;
        tx->running = NULL;
        if (state) {
            free_query(q);
            tx_record_error(tx, state);
            tx_roll_back(c);
            return;
        }
        if (q->tx_cb && !tx->cancelled) {
            tx->in_callback = true;
            q->tx_cb(tx, res, q->arg);
            if (c->tx != tx || io_pgconn_pg(c->io) != pg) {
                free_query(q); /* the callback closed the pool, which ended the transaction */
                return;
            }
            tx->in_callback = false;
        }
        free_query(q);
        tx_pump(c);
        return;
    }
    case TX_COMMITTING: {
        if (!state) {
            tx_end(tx, STORE_OK);
            return;
        }
        tx_record_error(tx, state);
        if (io_pgconn_pg(c->io) == pg && PQtransactionStatus(pg) != PQTRANS_IDLE)
            tx_roll_back(c);
        else
            tx_rolled_back(c);
        return;
    }
    case TX_ROLLING_BACK:
        tx_rolled_back(c);
        return;
    default:
        return;
    }
}

static void tx_free_unstarted(store_tx_t *tx, int error)
{
    tx->conn = NULL;
    tx_end(tx, error);
}

store_tx_t *store_tx_begin(store_pool_t *pool, const store_tx_options_t *options,
                           store_tx_body_cb body, store_tx_done_cb done, void *arg)
{
    if (pool_refuses(pool))
        return NULL;
    store_tx_t *tx = slotd_calloc(1, sizeof(*tx));
    tx->pool = pool;
    tx->options = *options;
    if (tx->options.timeout_ms == 0)
        tx->options.timeout_ms = 5000;
    if (tx->options.max_retries < 0)
        tx->options.max_retries = 0;
    tx->body = body;
    tx->done = done;
    tx->arg = arg;
    tx->phase = TX_QUEUED;
    tx->deadline = uv_now(pool->loop) + tx->options.timeout_ms;
    uv_timer_init(pool->loop, &tx->deadline_timer);
    tx->deadline_timer.data = tx;
    uv_timer_start(&tx->deadline_timer, on_tx_deadline, tx->options.timeout_ms, 0);
    pool->open_handles++;
    store_query_t *entry = new_query(pool, NULL, 0, NULL);
    entry->tx = tx;
    tx->entry = entry;
    /* queued and dispatched from the loop, so that neither the body nor `done` runs inside
     * this call */
    enqueue(pool, entry);
    pool_kick(pool);
    return tx;
}

void store_tx_query(store_tx_t *tx, const char *statement, int count, const char *const *values,
                    store_tx_result_cb cb, void *arg)
{
    if (tx->phase != TX_OPEN || tx->commit_requested || tx->rollback_requested)
        return;
    store_query_t *q = new_query(tx->pool, statement, count, values);
    q->tx_cb = cb;
    q->arg = arg;
    if (tx->tail)
        tx->tail->next = q;
    else
        tx->head = q;
    tx->tail = q;
    tx_pump(tx->conn);
}

void store_tx_commit(store_tx_t *tx)
{
    if (tx->phase != TX_OPEN || tx->rollback_requested)
        return;
    tx->commit_requested = true;
    tx_pump(tx->conn);
}

void store_tx_rollback(store_tx_t *tx)
{
    if (tx->phase != TX_OPEN || tx->commit_requested)
        return;
    tx->rollback_requested = true;
    if (tx->running == NULL)
        tx_pump(tx->conn);
}

int store_tx_attempt(const store_tx_t *tx)
{
    return tx->attempt;
}

void store_tx_cancel(store_tx_t *tx)
{
    if (tx == NULL || tx->cancelled)
        return;
    tx->cancelled = true;
    switch (tx->phase) {
    case TX_QUEUED:
        tx->entry->cancelled = true; /* dispatch frees both */
        return;
    case TX_WAITING_RETRY:
        tx_end(tx, STORE_E_ROLLED_BACK);
        return;
    case TX_OPEN:
        tx->commit_requested = false;
        tx->rollback_requested = true;
        if (tx->running == NULL)
            tx_pump(tx->conn);
        return;
    default:
        return; /* BEGIN, COMMIT or ROLLBACK in flight: it ends by itself, silently */
    }
}

/* ---- connections ----------------------------------------------------------------------------- */

static void pool_release(store_pool_t *pool)
{
    if (--pool->open_handles == 0 && pool->closing) {
        void (*cb)(void *) = pool->on_closed;
        void *arg = pool->on_closed_arg;
        free(pool->conns);
        free(pool->url);
        free(pool);
        if (cb)
            cb(arg);
    }
}

static void timer_closed(uv_handle_t *handle)
{
    pool_release(handle->data);
}

static void conn_closed(void *arg)
{
    pool_release(arg);
}

static bool send_next_prepare(conn_t *c, PGconn *pg)
{
    const store_statement_t *st = &c->pool->options.statements[c->prepared];
    c->prepared++;
    c->awaiting = true;
    if (!PQsendPrepare(pg, st->name, st->sql, 0, NULL)) {
        log_error("database_prepare_failed", "statement", st->name, "cause", PQerrorMessage(pg),
                  NULL);
        return false;
    }
    io_pgconn_sent(c->io);
    return true;
}

static void conn_up(io_pgconn_t *io, PGconn *pg, void *arg)
{
    conn_t *c = arg;
    (void)io;
    c->state = CONN_PREPARING;
    c->prepared = 0;
    c->awaiting = true;
    char sql[160];
    /* client_connection_check_interval: a backend whose client left (a transaction past its
     * deadline) stops within a second even in the middle of a long statement. slotd.wakes:
     * changes of occupancy written here wake the listeners from slotd's listening connection,
     * not from their own transaction (migration 0027) */
    snprintf(sql, sizeof(sql),
             "SET statement_timeout = %d; SET client_connection_check_interval = 1000; "
             "SET slotd.wakes = 'later'",
             c->pool->options.statement_timeout_ms);
    if (!PQsendQuery(pg, sql)) {
        io_pgconn_reset(c->io, false);
        return;
    }
    io_pgconn_sent(c->io);
}

/*
 * When every connection is failing (the database cannot be reached), what waits in the queue
 * would wait until its deadline for a connection that may never come: it is failed at once
 * instead, as never sent — a query's callback gets no result and no SQLSTATE, a
 * transaction STORE_E_CONNECTION — so the caller can say "the database is unavailable" now.
 * New work is refused meanwhile (pool_refuses). A callback may close the pool: the close
 * then takes what is left.
 */
static void fail_queue_if_unreachable(store_pool_t *pool)
{
    for (int i = 0; i < pool->options.size; i++)
        if (!io_pgconn_failing(pool->conns[i].io))
            return;
    while (pool->head && !pool->closing) {
        store_query_t *q = pool->head;
        pool->head = q->next;
        if (pool->head == NULL)
            pool->tail = NULL;
        pool->queued--;
        if (q->tx) {
            store_tx_t *tx = q->tx;
            tx->cancelled = tx->cancelled || q->cancelled;
            tx->entry = NULL;
            free_query(q);
            tx_free_unstarted(tx, STORE_E_CONNECTION);
        } else {
            finish_query(q, NULL);
        }
    }
}

static void conn_attempt_failed(io_pgconn_t *io, void *arg)
{
    conn_t *c = arg;
    (void)io;
    fail_queue_if_unreachable(c->pool);
}

static void conn_down(io_pgconn_t *io, void *arg)
{
    conn_t *c = arg;
    (void)io;
    c->state = CONN_DOWN;
    c->awaiting = false;
    if (c->pending) {
        PQclear(c->pending);
        c->pending = NULL;
    }
    uv_timer_stop(&c->timer);
    if (c->query) {
        store_query_t *q = c->query;
        c->query = NULL;
        finish_query(q, NULL);
    }
    if (c->tx) {
        store_tx_t *tx = c->tx;
        if (tx->error == 0)
            tx->error = tx_commit_sent(tx) ? STORE_E_OUTCOME_UNKNOWN
                        : c->pool->closing ? STORE_E_CLOSED
                                           : STORE_E_CONNECTION;
        tx_end(tx, tx->error);
    }
    fail_queue_if_unreachable(c->pool);
}

/* The connection's current command finished with `res` (owned here). */
static void command_done(conn_t *c, PGconn *pg, PGresult *res)
{
    if (c->state == CONN_PREPARING) {
        const char *state = result_sqlstate(res);
        if (state) {
            log_error("database_session_setup_failed", "sqlstate", state, "cause",
                      res ? PQresultErrorMessage(res) : "no result", NULL);
            PQclear(res);
            io_pgconn_reset(c->io, false);
            return;
        }
        PQclear(res);
        if (c->prepared < c->pool->options.statement_count) {
            if (!send_next_prepare(c, pg))
                io_pgconn_reset(c->io, false);
            return;
        }
        c->state = CONN_IDLE;
        io_pgconn_healthy(c->io);
        dispatch(c->pool);
        return;
    }
    if (c->state == CONN_BUSY && c->query) {
        store_query_t *q = c->query;
        c->query = NULL;
        c->state = CONN_IDLE; /* before the callback, which may queue more work */
        PQclear(finish_query(q, res));
        if (!c->pool->closing)
            dispatch(c->pool);
        return;
    }
    if (c->state == CONN_BUSY && c->tx) {
        tx_command_done(c, pg, res);
        PQclear(res);
        return;
    }
    PQclear(res);
}

static void conn_input(io_pgconn_t *io, PGconn *pg, void *arg)
{
    conn_t *c = arg;
    if (c->tx && c->tx->phase == TX_PIPELINE) {
        tx_pipeline_input(c, pg);
        if (io_pgconn_pg(io) != pg)
            return;
    }
    while (c->awaiting && !PQisBusy(pg)) {
        PGresult *res = PQgetResult(pg);
        if (res != NULL) {
            bool keep_pending = c->pending && result_sqlstate(c->pending) != NULL;
            if (keep_pending) {
                PQclear(res);
            } else {
                PQclear(c->pending);
                c->pending = res;
            }
            continue;
        }
        c->awaiting = false;
        PGresult *done = c->pending;
        c->pending = NULL;
        command_done(c, pg, done);
        if (io_pgconn_pg(io) != pg)
            return; /* the connection was reset or closed meanwhile */
    }
}

static void run_query(conn_t *c, store_query_t *q)
{
    PGconn *pg = io_pgconn_pg(c->io);
    c->query = q;
    c->state = CONN_BUSY;
    c->awaiting = true;
    if (pg == NULL ||
        !PQsendQueryPrepared(pg, q->statement, q->count, (const char *const *)q->values, NULL, NULL,
                             q->result_format)) {
        /* The connection is dead: give the query back to the queue (no callback from
         * here, which may run inside store_query) and reconnect. */
        c->query = NULL;
        q->next = c->pool->head;
        c->pool->head = q;
        if (c->pool->tail == NULL)
            c->pool->tail = q;
        c->pool->queued++;
        io_pgconn_reset(c->io, false);
        return;
    }
    q->sent = true;
    io_pgconn_sent(c->io);
}

static void run_tx(conn_t *c, store_tx_t *tx)
{
    c->tx = tx;
    c->state = CONN_BUSY;
    tx->conn = c;
    tx->entry = NULL;
    tx_start_attempt(c);
}

static void dispatch(store_pool_t *pool)
{
    for (int i = 0; i < pool->options.size && pool->head; i++) {
        conn_t *c = &pool->conns[i];
        if (c->state != CONN_IDLE)
            continue;
        store_query_t *q = pool->head;
        pool->head = q->next;
        if (pool->head == NULL)
            pool->tail = NULL;
        pool->queued--;
        i--; /* look at this connection again: it may still be free */
        if (q->tx) {
            store_tx_t *tx = q->tx;
            bool cancelled = q->cancelled;
            free_query(q);
            if (cancelled)
                tx_free_unstarted(tx, STORE_E_ROLLED_BACK);
            else
                run_tx(c, tx);
            continue;
        }
        if (q->cancelled) {
            free_query(q);
            continue;
        }
        run_query(c, q);
    }
}

static void on_kick(uv_timer_t *timer)
{
    store_pool_t *pool = timer->data;
    if (!pool->closing)
        dispatch(pool);
}

/* Dispatches from the loop, soon: never from inside the caller's own call. */
static void pool_kick(store_pool_t *pool)
{
    if (!pool->closing && pool->head && !uv_is_active((uv_handle_t *)&pool->kick))
        uv_timer_start(&pool->kick, on_kick, 0, 0);
}

store_pool_t *store_pool_new(uv_loop_t *loop, const store_pool_options_t *options)
{
    store_pool_t *pool = slotd_calloc(1, sizeof(*pool));
    pool->loop = loop;
    pool->options = *options;
    pool->url = slotd_strdup(options->url);
    pool->jitter_state = (uint32_t)uv_hrtime() | 1;
    pool->conns = slotd_calloc((size_t)options->size, sizeof(conn_t));
    uv_timer_init(loop, &pool->kick);
    pool->kick.data = pool;
    pool->open_handles++;
    static const io_pgconn_callbacks_t callbacks = {.up = conn_up,
                                                    .input = conn_input,
                                                    .down = conn_down,
                                                    .attempt_failed = conn_attempt_failed};
    io_pgconn_options_t io_options = {.url = pool->url, .application = "slotd"};
    for (int i = 0; i < options->size; i++) {
        conn_t *c = &pool->conns[i];
        c->pool = pool;
        uv_timer_init(loop, &c->timer);
        c->timer.data = c;
        pool->open_handles += 2;
    }
    /* every connection exists before any can call back into the pool */
    for (int i = 0; i < options->size; i++)
        pool->conns[i].io = io_pgconn_new(loop, &io_options, &callbacks, &pool->conns[i]);
    return pool;
}

static store_query_t *query_in(store_pool_t *pool, const char *statement, int count,
                               const char *const *values, int result_format, store_query_cb cb,
                               void *arg)
{
    if (pool_refuses(pool))
        return NULL; /* refused: the caller answers at once, no callback */
    store_query_t *q = new_query(pool, statement, count, values);
    q->cb = cb;
    q->arg = arg;
    q->result_format = result_format;
    enqueue(pool, q);
    pool_kick(pool); /* what it dispatches may be a transaction queued before this query */
    return q;
}

store_query_t *store_query(store_pool_t *pool, const char *statement, int count,
                           const char *const *values, store_query_cb cb, void *arg)
{
    return query_in(pool, statement, count, values, 0, cb, arg);
}

store_query_t *store_query_binary(store_pool_t *pool, const char *statement, int count,
                                  const char *const *values, store_query_cb cb, void *arg)
{
    return query_in(pool, statement, count, values, 1, cb, arg);
}

bool store_query_sent(const store_query_t *query)
{
    return query && query->sent;
}

void store_query_cancel(store_query_t *query)
{
    if (query)
        query->cancelled = true;
}

int store_pool_ready_count(const store_pool_t *pool)
{
    int n = 0;
    for (int i = 0; i < pool->options.size; i++)
        n += pool->conns[i].state == CONN_IDLE || pool->conns[i].state == CONN_BUSY;
    return n;
}

size_t store_pool_queued(const store_pool_t *pool)
{
    return pool->queued;
}

int store_pool_busy(const store_pool_t *pool)
{
    int n = 0;
    for (int i = 0; i < pool->options.size; i++)
        n += pool->conns[i].state == CONN_BUSY;
    return n;
}

void store_pool_close(store_pool_t *pool, void (*on_closed)(void *), void *arg)
{
    pool->closing = true;
    pool->on_closed = on_closed;
    pool->on_closed_arg = arg;
    while (pool->head) {
        store_query_t *q = pool->head;
        pool->head = q->next;
        if (q->tx) {
            store_tx_t *tx = q->tx;
            tx->cancelled = tx->cancelled || q->cancelled;
            free_query(q);
            tx_free_unstarted(tx, STORE_E_CLOSED);
        } else {
            finish_query(q, NULL);
        }
    }
    pool->tail = NULL;
    pool->queued = 0;
    uv_timer_stop(&pool->kick);
    uv_close((uv_handle_t *)&pool->kick, timer_closed);
    for (int i = 0; i < pool->options.size; i++) {
        conn_t *c = &pool->conns[i];
        io_pgconn_close(c->io, conn_closed, pool); /* down fails what runs on it */
        uv_timer_stop(&c->timer);
        c->timer.data = pool;
        uv_close((uv_handle_t *)&c->timer, timer_closed);
    }
}
