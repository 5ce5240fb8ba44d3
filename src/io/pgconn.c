/*
 * One asynchronous PostgreSQL connection (see pgconn.h for the states).
 *
 * Handles: one timer for the life of the object (the connect deadline while
 * CONNECTING, the backoff while WAITING) and at most one poll handle, on the
 * socket libpq uses right now. `generation` counts the libpq connections this
 * object has had: a callback that drops or replaces the connection bumps it,
 * and the code that called the callback sees that and stops touching the old
 * one. The object is freed when its last handle's close callback runs after
 * io_pgconn_close(), never earlier, so a callback may close it freely.
 */
#include "io/pgconn.h"

#include <stdio.h>
#include <stdlib.h>

#include "slotd/alloc.h"
#include "log/log.h"

struct io_pgconn {
    uv_loop_t *loop;
    char *url, *application;
    uint64_t connect_timeout_ms, backoff_min_ms, backoff_max_ms;
    io_pgconn_callbacks_t callbacks;
    void *arg;
    io_pg_state_t state;
    PGconn *pg;
    uv_poll_t *poll; /* NULL when none */
    int fd;          /* the socket `poll` watches */
    int events;      /* what `poll` watches */
    uv_timer_t timer;
    uint64_t backoff_ms; /* the last delay; 0 after a healthy connection */
    bool failing;        /* an attempt failed or a connection broke since the last healthy one */
    uint64_t generation;
    uint32_t jitter_state;
    int open_handles;
    void (*on_closed)(void *);
    void *on_closed_arg;
};

static void on_poll(uv_poll_t *handle, int status, int events);
static void start_attempt(io_pgconn_t *c);

static void handle_closed(uv_handle_t *handle)
{
    io_pgconn_t *c = handle->data;
    if (handle->type == UV_POLL)
        free(handle);
    if (--c->open_handles == 0 && c->state == IO_PG_CLOSED) {
        void (*cb)(void *) = c->on_closed;
        void *arg = c->on_closed_arg;
        free(c->url);
        free(c->application);
        free(c);
        if (cb)
            cb(arg);
    }
}

static void drop_poll(io_pgconn_t *c)
{
    if (c->poll) {
        uv_poll_stop(c->poll);
        c->poll->data = c;
        uv_close((uv_handle_t *)c->poll, handle_closed);
        c->poll = NULL;
    }
}

/* Finishes the libpq connection and its poll handle; true if it was UP. */
static bool drop_connection(io_pgconn_t *c)
{
    bool was_up = c->state == IO_PG_UP;
    drop_poll(c);
    if (c->pg) {
        PQfinish(c->pg);
        c->pg = NULL;
    }
    c->generation++;
    return was_up;
}

static void on_timer(uv_timer_t *timer)
{
    io_pgconn_t *c = timer->data;
    if (c->state == IO_PG_WAITING) {
        start_attempt(c);
    } else if (c->state == IO_PG_CONNECTING) {
        log_line_t line;
        log_begin(&line, LOG_WARN, "database_connect_timeout");
        log_str(&line, "connection", c->application);
        log_int(&line, "timeout_ms", (long long)c->connect_timeout_ms);
        log_end(&line);
        io_pgconn_reset(c, false);
    }
}

/* Down now; the next attempt after `delay_ms`. Calls `down` last, as it may close us. */
static void go_down(io_pgconn_t *c, uint64_t delay_ms, bool failure)
{
    bool was_up = drop_connection(c);
    if (failure)
        c->failing = true;
    if (was_up && failure)
        log_warn("database_connection_lost", "connection", c->application, NULL);
    c->state = IO_PG_WAITING;
    uv_timer_start(&c->timer, on_timer, delay_ms, 0);
    if (was_up && c->callbacks.down)
        c->callbacks.down(c, c->arg);
    else if (!was_up && failure && c->callbacks.attempt_failed)
        c->callbacks.attempt_failed(c, c->arg);
}

/* The next backoff: doubling from the minimum up to the maximum, then drawn from its upper
 * half, so that connections that failed together do not all retry together. */
static uint64_t next_backoff(io_pgconn_t *c)
{
    c->backoff_ms = c->backoff_ms ? c->backoff_ms * 2 : c->backoff_min_ms;
    if (c->backoff_ms > c->backoff_max_ms)
        c->backoff_ms = c->backoff_max_ms;
    c->jitter_state ^= c->jitter_state << 13;
    c->jitter_state ^= c->jitter_state >> 17;
    c->jitter_state ^= c->jitter_state << 5;
    uint64_t half = c->backoff_ms / 2;
    return c->backoff_ms - half + (half ? c->jitter_state % (half + 1) : 0);
}

static void watch(io_pgconn_t *c, int events)
{
    int fd = PQsocket(c->pg);
    if (c->poll && c->fd != fd)
        drop_poll(c);
    if (c->poll == NULL) {
        c->poll = slotd_malloc(sizeof(uv_poll_t));
        if (fd < 0 || uv_poll_init(c->loop, c->poll, fd) != 0) {
            free(c->poll);
            c->poll = NULL;
            go_down(c, next_backoff(c), true);
            return;
        }
        c->fd = fd;
        c->poll->data = c;
        c->open_handles++;
        c->events = 0;
    }
    if (c->events != events) {
        uv_poll_start(c->poll, events, on_poll);
        c->events = events;
    }
}

static PGconn *connect_start(const io_pgconn_t *c)
{
    /* keepalives notice a connection that died silently */
    const char *keywords[] = {"dbname",
                              "application_name",
                              "keepalives",
                              "keepalives_idle",
                              "keepalives_interval",
                              "keepalives_count",
                              NULL};
    const char *values[] = {c->url, c->application, "1", "30", "10", "3", NULL};
    PGconn *pg = PQconnectStartParams(keywords, values, 1);
    if (pg != NULL && (PQstatus(pg) == CONNECTION_BAD || PQsocket(pg) < 0)) {
        log_warn("database_connect_failed", "connection", c->application, "cause",
                 PQerrorMessage(pg), NULL);
        PQfinish(pg);
        pg = NULL;
    }
    return pg;
}

static void start_attempt(io_pgconn_t *c)
{
    c->pg = connect_start(c);
    if (c->pg == NULL) {
        go_down(c, next_backoff(c), true);
        return;
    }
    c->state = IO_PG_CONNECTING;
    uv_timer_start(&c->timer, on_timer, c->connect_timeout_ms, 0);
    watch(c, UV_WRITABLE);
}

static void connect_step(io_pgconn_t *c)
{
    /* libpq may close the socket and open another under the same number: never trust the
     * old registration */
    drop_poll(c);
    PostgresPollingStatusType s = PQconnectPoll(c->pg);
    if (s == PGRES_POLLING_FAILED) {
        log_warn("database_connect_failed", "connection", c->application, "cause",
                 PQerrorMessage(c->pg), NULL);
        go_down(c, next_backoff(c), true);
        return;
    }
    if (s != PGRES_POLLING_OK) {
        watch(c, s == PGRES_POLLING_READING ? UV_READABLE : UV_WRITABLE);
        return;
    }
    if (PQsetnonblocking(c->pg, 1) != 0) {
        go_down(c, next_backoff(c), true);
        return;
    }
    uv_timer_stop(&c->timer); /* the connect deadline */
    c->state = IO_PG_UP;
    uint64_t generation = c->generation;
    watch(c, UV_READABLE); /* to notice a dropped connection */
    if (c->generation == generation && c->state == IO_PG_UP && c->callbacks.up)
        c->callbacks.up(c, c->pg, c->arg);
}

static void on_poll(uv_poll_t *handle, int status, int events)
{
    io_pgconn_t *c = handle->data;
    if (status < 0) {
        go_down(c, next_backoff(c), true);
        return;
    }
    if (c->state == IO_PG_CONNECTING) {
        connect_step(c);
        return;
    }
    if (c->state != IO_PG_UP)
        return;
    if (events & UV_WRITABLE) {
        int f = PQflush(c->pg);
        if (f < 0) {
            go_down(c, next_backoff(c), true);
            return;
        }
        if (f == 0)
            watch(c, UV_READABLE);
    }
    if (!(events & UV_READABLE))
        return;
    if (!PQconsumeInput(c->pg)) {
        go_down(c, next_backoff(c), true);
        return;
    }
    uint64_t generation = c->generation;
    if (c->callbacks.input)
        c->callbacks.input(c, c->pg, c->arg);
    if (c->generation != generation || c->state != IO_PG_UP)
        return;
    if (PQstatus(c->pg) != CONNECTION_OK)
        go_down(c, next_backoff(c), true);
}

io_pgconn_t *io_pgconn_new(uv_loop_t *loop, const io_pgconn_options_t *options,
                           const io_pgconn_callbacks_t *callbacks, void *arg)
{
    io_pgconn_t *c = slotd_calloc(1, sizeof(*c));
    c->loop = loop;
    c->url = slotd_strdup(options->url);
    c->application = slotd_strdup(options->application ? options->application : "slotd");
    c->connect_timeout_ms = options->connect_timeout_ms ? options->connect_timeout_ms : 10000;
    c->backoff_min_ms = options->backoff_min_ms ? options->backoff_min_ms : 50;
    c->backoff_max_ms = options->backoff_max_ms ? options->backoff_max_ms : 5000;
    if (c->backoff_max_ms < c->backoff_min_ms)
        c->backoff_max_ms = c->backoff_min_ms;
    c->callbacks = *callbacks;
    c->arg = arg;
    c->jitter_state = (uint32_t)(uv_hrtime() ^ (uintptr_t)c) | 1;
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    c->open_handles = 1;
    start_attempt(c);
    return c;
}

io_pg_state_t io_pgconn_state(const io_pgconn_t *conn)
{
    return conn->state;
}

PGconn *io_pgconn_pg(io_pgconn_t *conn)
{
    return conn->state == IO_PG_UP ? conn->pg : NULL;
}

void io_pgconn_sent(io_pgconn_t *conn)
{
    if (conn->state != IO_PG_UP)
        return;
    int f = PQflush(conn->pg);
    if (f < 0) {
        /* not from here: the owner is in the middle of its own call */
        watch(conn, UV_READABLE | UV_WRITABLE);
        return;
    }
    watch(conn, f == 0 ? UV_READABLE : UV_READABLE | UV_WRITABLE);
}

void io_pgconn_healthy(io_pgconn_t *conn)
{
    conn->backoff_ms = 0;
    conn->failing = false;
}

bool io_pgconn_failing(const io_pgconn_t *conn)
{
    return conn->failing;
}

void io_pgconn_reset(io_pgconn_t *conn, bool at_once)
{
    if (conn->state == IO_PG_CLOSED)
        return;
    if (conn->state == IO_PG_WAITING && !at_once)
        return; /* a retry is scheduled already */
    go_down(conn, at_once ? 0 : next_backoff(conn), !at_once);
}

void io_pgconn_close(io_pgconn_t *conn, void (*on_closed)(void *), void *arg)
{
    if (conn->state == IO_PG_CLOSED)
        return;
    bool was_up = drop_connection(conn);
    conn->state = IO_PG_CLOSED;
    conn->on_closed = on_closed;
    conn->on_closed_arg = arg;
    uv_timer_stop(&conn->timer);
    if (was_up && conn->callbacks.down)
        conn->callbacks.down(conn, conn->arg);
    uv_close((uv_handle_t *)&conn->timer, handle_closed);
}
