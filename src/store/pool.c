/*
 * The asynchronous connection pool (see pool.h).
 *
 * Each connection is a small state machine:
 *
 *   DOWN --start--> CONNECTING --PQconnectPoll ok--> PREPARING (one PQsendPrepare
 *   per statement, in turn) --> IDLE <--> BUSY (one query)
 *        ^                                      |
 *        +--- backoff timer <--- BROKEN <-------+ (socket error, bad result)
 *
 * The socket of a connection changes on reconnect, so its uv_poll_t is closed
 * and re-created each time; a connection holds at most one poll handle and one
 * timer. Queries are plain heap objects in a FIFO list; a cancelled query is
 * marked and skipped (or, when running, its result is dropped).
 */
#include "store/pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slotd/alloc.h"

typedef enum { DOWN, CONNECTING, PREPARING, IDLE, BUSY, CLOSING } conn_state_t;

typedef struct conn {
    store_pool_t *pool;
    PGconn *pg;
    conn_state_t state;
    uv_poll_t *poll; /* NULL when none */
    int fd;          /* the socket `poll` watches */
    uv_timer_t timer;
    size_t prepared; /* statements prepared so far */
    store_query_t *query;
    uint64_t backoff_ms;
    PGresult *pending; /* the current query's result, kept until the end */
} conn_t;

struct store_query {
    store_query_t *next;
    store_pool_t *pool;
    char *statement;
    int count;
    char **values;
    store_query_cb cb;
    void *arg;
    bool cancelled;
};

struct store_pool {
    uv_loop_t *loop;
    store_pool_options_t options;
    char *url;
    conn_t *conns;
    store_query_t *head, *tail;
    size_t queued;
    bool closing;
    int open_handles;
    void (*on_closed)(void *);
    void *on_closed_arg;
};

static void conn_start(conn_t *c);
static void conn_timer_fired(uv_timer_t *timer);
static void conn_update_poll(conn_t *c, int events);
static void dispatch(store_pool_t *pool);

static void free_query(store_query_t *q)
{
    for (int i = 0; i < q->count; i++)
        free(q->values[i]);
    free(q->values);
    free(q->statement);
    free(q);
}

static void finish_query(store_query_t *q, const PGresult *result)
{
    const char *state = NULL;
    ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
    if (result && status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
        /* Every other status is an error, SQLSTATE or not (libpq's own have none). */
        state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
        if (state == NULL)
            state = "08006";
    }
    if (!q->cancelled)
        q->cb(result, state, q->arg);
    free_query(q);
}

static void handle_closed(uv_handle_t *handle)
{
    store_pool_t *pool = handle->data;
    if (handle->type == UV_POLL)
        free(handle);
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

static void drop_poll(conn_t *c)
{
    if (c->poll) {
        uv_poll_stop(c->poll);
        c->poll->data = c->pool;
        uv_close((uv_handle_t *)c->poll, handle_closed);
        c->poll = NULL;
    }
}

/* The connection failed: fail its query, and try again after a backoff. */
static void conn_broken(conn_t *c)
{
    drop_poll(c);
    if (c->pending) {
        PQclear(c->pending);
        c->pending = NULL;
    }
    if (c->pg) {
        PQfinish(c->pg);
        c->pg = NULL;
    }
    if (c->query) {
        store_query_t *q = c->query;
        c->query = NULL;
        finish_query(q, NULL);
    }
    if (c->pool->closing) {
        c->state = CLOSING;
        return;
    }
    c->state = DOWN;
    c->backoff_ms = c->backoff_ms ? c->backoff_ms * 2 : 50;
    if (c->backoff_ms > 5000)
        c->backoff_ms = 5000;
    uv_timer_start(&c->timer, conn_timer_fired, c->backoff_ms, 0);
}

static void conn_timer_fired(uv_timer_t *timer)
{
    conn_start(timer->data);
}

static bool send_next_prepare(conn_t *c)
{
    const store_statement_t *st = &c->pool->options.statements[c->prepared];
    if (!PQsendPrepare(c->pg, st->name, st->sql, 0, NULL)) {
        fprintf(stderr, "slotd: cannot prepare %s: %s", st->name, PQerrorMessage(c->pg));
        return false;
    }
    conn_update_poll(c, UV_READABLE | UV_WRITABLE);
    return true;
}

static void conn_ready(conn_t *c)
{
    c->state = IDLE;
    c->backoff_ms = 0;
    conn_update_poll(c, UV_READABLE); /* to notice a dropped connection */
    dispatch(c->pool);
}

/* Reads every available result of the current command. Returns false when
 * the connection broke; *done is set when the command finished. */
static bool read_results(conn_t *c, bool *done)
{
    *done = false;
    if (!PQconsumeInput(c->pg))
        return false;
    while (!PQisBusy(c->pg)) {
        PGresult *res = PQgetResult(c->pg);
        if (res == NULL) {
            *done = true;
            return true;
        }
        if (c->pending)
            PQclear(c->pending);
        c->pending = res;
    }
    return true;
}

static void on_poll(uv_poll_t *handle, int status, int events)
{
    conn_t *c = handle->data;
    if (status < 0) {
        conn_broken(c);
        return;
    }
    if (c->state == CONNECTING) {
        /* libpq may close the socket and open another (the next address) under the
         * same descriptor number: never trust the old registration. */
        drop_poll(c);
        PostgresPollingStatusType s = PQconnectPoll(c->pg);
        if (s == PGRES_POLLING_FAILED) {
            fprintf(stderr, "slotd: database connection failed: %s", PQerrorMessage(c->pg));
            conn_broken(c);
        } else if (s == PGRES_POLLING_OK) {
            if (PQsetnonblocking(c->pg, 1) != 0) {
                conn_broken(c);
                return;
            }
            uv_timer_stop(&c->timer); /* the connect deadline */
            c->state = PREPARING;
            c->prepared = 0;
            char sql[96];
            snprintf(sql, sizeof(sql), "SET statement_timeout = %d",
                     c->pool->options.statement_timeout_ms);
            if (!PQsendQuery(c->pg, sql))
                conn_broken(c);
            else
                conn_update_poll(c, UV_READABLE | UV_WRITABLE);
        } else {
            conn_update_poll(c, s == PGRES_POLLING_READING ? UV_READABLE : UV_WRITABLE);
        }
        return;
    }
    if (events & UV_WRITABLE) {
        int f = PQflush(c->pg);
        if (f < 0) {
            conn_broken(c);
            return;
        }
        if (f == 0)
            conn_update_poll(c, UV_READABLE);
    }
    if (!(events & UV_READABLE))
        return;
    bool done;
    if (!read_results(c, &done)) {
        conn_broken(c);
        return;
    }
    if (!done)
        return;
    PGresult *res = c->pending;
    c->pending = NULL;
    if (c->state == PREPARING) {
        bool ok = res && PQresultStatus(res) == PGRES_COMMAND_OK;
        if (!ok)
            fprintf(stderr, "slotd: preparing statements failed: %s",
                    res ? PQresultErrorMessage(res) : "no result\n");
        PQclear(res);
        if (!ok) {
            conn_broken(c);
            return;
        }
        if (c->prepared < c->pool->options.statement_count) {
            if (!send_next_prepare(c))
                conn_broken(c);
            c->prepared++;
            return;
        }
        conn_ready(c);
        return;
    }
    if (c->state == BUSY) {
        store_query_t *q = c->query;
        c->query = NULL;
        /* mark the connection's health before the callback can queue more work */
        bool healthy = PQstatus(c->pg) == CONNECTION_OK;
        c->state = healthy ? IDLE : DOWN;
        finish_query(q, res);
        PQclear(res);
        if (!healthy) {
            conn_broken(c);
            return;
        }
        dispatch(c->pool);
        return;
    }
    /* IDLE and readable: a notice, or the server went away. */
    PQclear(res);
    if (PQstatus(c->pg) != CONNECTION_OK)
        conn_broken(c);
}

static void conn_update_poll(conn_t *c, int events)
{
    /* libpq may move to another socket while connecting (another address) */
    if (c->poll && c->fd != PQsocket(c->pg))
        drop_poll(c);
    if (c->poll == NULL) {
        c->fd = PQsocket(c->pg);
        c->poll = slotd_malloc(sizeof(uv_poll_t));
        if (uv_poll_init(c->pool->loop, c->poll, c->fd) != 0) {
            free(c->poll);
            c->poll = NULL;
            conn_broken(c);
            return;
        }
        c->poll->data = c;
        c->pool->open_handles++;
    }
    uv_poll_start(c->poll, events, on_poll);
}

PGconn *store_connect_start(const char *url, const char *application)
{
    /* keepalives notice a connection that died silently; connect_timeout does not
     * apply to asynchronous connects, so callers bound the connect with a timer */
    const char *keywords[] = {"dbname",
                              "application_name",
                              "keepalives",
                              "keepalives_idle",
                              "keepalives_interval",
                              "keepalives_count",
                              NULL};
    const char *values[] = {url, application, "1", "30", "10", "3", NULL};
    PGconn *pg = PQconnectStartParams(keywords, values, 1);
    if (pg != NULL && (PQstatus(pg) == CONNECTION_BAD || PQsocket(pg) < 0)) {
        PQfinish(pg);
        pg = NULL;
    }
    return pg;
}

static void on_connect_deadline(uv_timer_t *timer)
{
    conn_t *c = timer->data;
    if (c->state == CONNECTING) {
        fprintf(stderr, "slotd: database connection timed out\n");
        conn_broken(c);
    }
}

static void conn_start(conn_t *c)
{
    if (c->pool->closing)
        return;
    c->pg = store_connect_start(c->pool->url, "slotd");
    if (c->pg == NULL) {
        conn_broken(c);
        return;
    }
    c->state = CONNECTING;
    uv_timer_start(&c->timer, on_connect_deadline, 10000, 0);
    conn_update_poll(c, UV_WRITABLE);
}

store_pool_t *store_pool_new(uv_loop_t *loop, const store_pool_options_t *options)
{
    store_pool_t *pool = slotd_calloc(1, sizeof(*pool));
    pool->loop = loop;
    pool->options = *options;
    pool->url = slotd_strdup(options->url);
    pool->conns = slotd_calloc((size_t)options->size, sizeof(conn_t));
    for (int i = 0; i < options->size; i++) {
        conn_t *c = &pool->conns[i];
        c->pool = pool;
        uv_timer_init(loop, &c->timer);
        c->timer.data = c;
        pool->open_handles++;
        conn_start(c);
    }
    return pool;
}

static void run_query(conn_t *c, store_query_t *q)
{
    c->query = q;
    c->state = BUSY;
    if (!PQsendQueryPrepared(c->pg, q->statement, q->count, (const char *const *)q->values, NULL,
                             NULL, 0)) {
        /* The connection is dead: give the query back to the queue (no callback
         * from here, which may run inside store_query) and reconnect. */
        c->query = NULL;
        q->next = c->pool->head;
        c->pool->head = q;
        if (c->pool->tail == NULL)
            c->pool->tail = q;
        c->pool->queued++;
        conn_broken(c);
        return;
    }
    conn_update_poll(c, UV_READABLE | UV_WRITABLE);
}

static void dispatch(store_pool_t *pool)
{
    for (int i = 0; i < pool->options.size && pool->head; i++) {
        conn_t *c = &pool->conns[i];
        if (c->state != IDLE)
            continue;
        store_query_t *q = pool->head;
        pool->head = q->next;
        if (pool->head == NULL)
            pool->tail = NULL;
        pool->queued--;
        if (q->cancelled) {
            free_query(q);
            i--; /* the connection is still free */
            continue;
        }
        run_query(c, q);
    }
}

store_query_t *store_query(store_pool_t *pool, const char *statement, int count,
                           const char *const *values, store_query_cb cb, void *arg)
{
    store_query_t *q = slotd_calloc(1, sizeof(*q));
    q->pool = pool;
    q->statement = slotd_strdup(statement);
    q->count = count;
    q->values = slotd_calloc((size_t)(count ? count : 1), sizeof(char *));
    for (int i = 0; i < count; i++)
        q->values[i] = values[i] ? slotd_strdup(values[i]) : NULL;
    q->cb = cb;
    q->arg = arg;
    bool all_down = true; /* every connection failed and waits to retry: fail fast */
    for (int i = 0; i < pool->options.size && all_down; i++)
        all_down = pool->conns[i].state == DOWN;
    if (pool->closing || pool->queued >= pool->options.max_queue || all_down) {
        free_query(q); /* refused: the caller answers at once, no callback */
        return NULL;
    }
    if (pool->tail)
        pool->tail->next = q;
    else
        pool->head = q;
    pool->tail = q;
    pool->queued++;
    dispatch(pool);
    return q;
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
        n += pool->conns[i].state == IDLE || pool->conns[i].state == BUSY;
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
        n += pool->conns[i].state == BUSY;
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
        finish_query(q, NULL);
    }
    pool->tail = NULL;
    pool->queued = 0;
    for (int i = 0; i < pool->options.size; i++) {
        conn_t *c = &pool->conns[i];
        conn_broken(c);
        uv_timer_stop(&c->timer);
        c->timer.data = pool;
        uv_close((uv_handle_t *)&c->timer, handle_closed);
    }
}
