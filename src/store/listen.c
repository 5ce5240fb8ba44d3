/*
 * The LISTEN connection and the log of occupancy changes (see listen.h).
 *
 * On every new connection, one query: synchronous_commit off for this session
 * (its only transactions that write are wakes), a statement timeout for its
 * reads (READ_TIMEOUT_MS), LISTEN (the channel quoted as an identifier), and
 * the snapshot the log is read from. Once its four results are in,
 * `on_connected` runs and notifications are passed on.
 *
 * Then one read of the log at a time: the rows of the transactions committed
 * since the last read's snapshot, in the order they were written, with the
 * snapshot of this read; a wake to send rides on the read (its notification
 * leaves at the read's commit). A read is wanted on store_listen_wake() and
 * every POLL_MS, and on a wake heard from another process at once or, if the
 * last read started less than REMOTE_GAP_MS ago, that long after it; wanted
 * while one runs, another follows it. A read that fails (or runs past
 * READ_TIMEOUT_MS), one that finds rows it should see may have
 * been swept (the log's horizon above its last snapshot's xmin), or none
 * succeeding for READ_GAP_MS (the log keeps ten minutes) resets the
 * connection: the owner then loads everything again. A failed setup resets it
 * too; the core retries with backoff. A wake that may not have left with a
 * failed read goes with the next one.
 */
#include "store/listen.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/pgconn.h"
#include "slotd/alloc.h"
#include "log/log.h"

/* How often the log is read without a wake, and how long without a successful read before
 * the connection is reset (the log keeps its rows ten minutes, migration 0027). */
#define POLL_MS 100
#define READ_GAP_MS (5 * 60 * 1000)
/* A wake from another process starts a read at most this long after the last read started:
 * under a load of writes elsewhere, a process reads at most 200 times a second for them (its
 * own waits read at once). */
#define REMOTE_GAP_MS 5
/* A read that has not answered by then fails (statement_timeout), so the connection is reset
 * and everything loaded again rather than the index waiting on it. */
#define READ_TIMEOUT_MS 5000
/* The setup's statements: the two SETs and LISTEN answer no rows, the snapshot one. */
#define SETUP_RESULTS 4

/* The wake (migration 0027): the log has rows to read. */
static const char WAKE[] = "{\"table\": \"occupancy_changes\"}";

/* $1 the last read's snapshot, $2 whether to send the wake, $3 the channel, $4 the wake. One row
 * per change (the payload NULL when there is none), each with this read's snapshot and whether rows
 * this read should see may have been swept (the horizon above $1's xmin). The changes not visible
 * in $1 are those of transactions at or past its xmax or in progress then (its xip list): two
 * lookups of the xid index that stay small even while a long transaction holds the xmin back. */
static const char READ_SQL[] =
    "SELECT s.snapshot::text, c.payload::text, s.swept "
    "  FROM (SELECT pg_current_snapshot() AS snapshot, "
    "               coalesce((SELECT below > pg_snapshot_xmin($1::pg_snapshot) "
    "                           FROM occupancy_change_horizon), true) AS swept, "
    "               CASE WHEN $2::boolean THEN pg_notify($3, $4) END) s "
    "  LEFT JOIN LATERAL ("
    "        SELECT payload, seq FROM occupancy_changes "
    "         WHERE xid >= pg_snapshot_xmax($1::pg_snapshot) "
    "        UNION ALL "
    "        SELECT payload, seq FROM occupancy_changes "
    "         WHERE xid = ANY (ARRAY(SELECT pg_snapshot_xip($1::pg_snapshot)))) c ON true "
    " ORDER BY c.seq";

typedef enum {
    LISTEN_SETTING_UP, /* the setup's results are on their way */
    LISTEN_IDLE,
    LISTEN_READING, /* a read of the log is on its way */
} listen_state_t;

struct store_listen {
    io_pgconn_t *io;
    uv_loop_t *loop;
    uv_timer_t timer;
    uv_timer_t remote_timer; /* a read for another process's wake, REMOTE_GAP_MS after the last */
    int open_timers;
    bool remote_pending; /* remote_timer runs */
    uint64_t read_sent_ms;
    char *channel;
    listen_state_t state;
    int results;     /* the setup's results seen */
    bool failed;     /* a result of the current command failed */
    bool read_again; /* a read is wanted after the one on its way */
    bool wake;       /* a wake is to be sent with the next read */
    bool wake_sent;  /* the read on its way sends one */
    char *snapshot;  /* the last read's (or the setup's) */
    char *next_snapshot;
    uint64_t read_ok_ns; /* the last successful read (or the setup) */
    store_listen_stats_t stats;
    store_listen_notify_cb on_notify;
    store_listen_connected_cb on_connected;
    void *arg;
    void (*on_closed)(void *);
    void *on_closed_arg;
};

static void listen_up(io_pgconn_t *io, PGconn *pg, void *arg)
{
    store_listen_t *l = arg;
    l->state = LISTEN_SETTING_UP;
    l->results = 0;
    l->failed = false;
    char *quoted = PQescapeIdentifier(pg, l->channel, strlen(l->channel));
    bool sent = false;
    if (quoted) {
        size_t size = strlen(quoted) + 160;
        char *sql = slotd_malloc(size);
        snprintf(sql, size,
                 "SET synchronous_commit = off; SET statement_timeout = %d; LISTEN %s; "
                 "SELECT pg_current_snapshot()::text",
                 READ_TIMEOUT_MS, quoted);
        sent = PQsendQuery(pg, sql) == 1;
        free(sql);
        PQfreemem(quoted);
    }
    if (!sent) {
        log_error("listen_send_failed", "cause", PQerrorMessage(pg), NULL);
        io_pgconn_reset(io, false);
        return;
    }
    io_pgconn_sent(io);
}

static void set_snapshot(char **slot, const char *text)
{
    free(*slot);
    *slot = text ? slotd_strdup(text) : NULL;
}

static void send_read(store_listen_t *l)
{
    PGconn *pg = io_pgconn_pg(l->io);
    if (!pg || l->state != LISTEN_IDLE)
        return;
    const char *values[4] = {l->snapshot, l->wake ? "true" : "false", l->channel, WAKE};
    if (PQsendQueryParams(pg, READ_SQL, 4, NULL, values, NULL, NULL, 0) != 1) {
        log_error("changes_read_send_failed", "cause", PQerrorMessage(pg), NULL);
        io_pgconn_reset(l->io, false);
        return;
    }
    l->state = LISTEN_READING;
    l->read_sent_ms = uv_now(l->loop);
    if (l->remote_pending) { /* this read starts after that wake was heard: it covers it */
        uv_timer_stop(&l->remote_timer);
        l->remote_pending = false;
    }
    l->failed = false;
    l->wake_sent = l->wake;
    l->wake = false;
    l->read_again = false;
    set_snapshot(&l->next_snapshot, NULL);
    io_pgconn_sent(l->io);
}

static void want_read(store_listen_t *l)
{
    if (l->state == LISTEN_IDLE)
        send_read(l);
    else
        l->read_again = true;
}

static void on_remote_timer(uv_timer_t *timer)
{
    store_listen_t *l = timer->data;
    l->remote_pending = false;
    want_read(l);
}

/* Another process's wake: a read now, or REMOTE_GAP_MS after the last one started. */
static void want_remote_read(store_listen_t *l)
{
    if (l->remote_pending)
        return;
    uint64_t since = uv_now(l->loop) - l->read_sent_ms;
    if (since >= REMOTE_GAP_MS) {
        want_read(l);
        return;
    }
    l->remote_pending = true;
    uv_timer_start(&l->remote_timer, on_remote_timer, REMOTE_GAP_MS - since, 0);
}

/* A result of the setup. */
static bool setup_result(store_listen_t *l, PGresult *res)
{
    ExecStatusType status = PQresultStatus(res);
    bool last = l->results == SETUP_RESULTS - 1;
    bool ok = !last ? status == PGRES_COMMAND_OK : status == PGRES_TUPLES_OK && PQntuples(res) == 1;
    if (!ok) {
        log_error("listen_failed", "cause", PQresultErrorMessage(res), NULL);
        l->failed = true;
    } else if (last) {
        set_snapshot(&l->snapshot, PQgetvalue(res, 0, 0));
    }
    l->results++;
    return true;
}

/* The setup's results are all in. False: the connection was reset or closed. */
static bool setup_done(store_listen_t *l, PGconn *pg)
{
    if (l->failed || l->results != SETUP_RESULTS) {
        io_pgconn_reset(l->io, false);
        return false;
    }
    l->state = LISTEN_IDLE;
    l->read_ok_ns = uv_hrtime();
    io_pgconn_healthy(l->io);
    l->on_connected(l->arg);
    if (io_pgconn_pg(l->io) != pg)
        return false;
    if (l->wake) /* a change committed while this connection was set up */
        send_read(l);
    return true;
}

/* A result of a read: its rows' payloads are passed on. False: reset or closed meanwhile. */
static bool read_result(store_listen_t *l, PGconn *pg, PGresult *res)
{
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) < 1) {
        log_error("changes_read_failed", "cause", PQresultErrorMessage(res), NULL);
        l->failed = true;
        return true;
    }
    if (strcmp(PQgetvalue(res, 0, 2), "t") == 0) {
        log_warn("changes_swept_unread", NULL); /* the log no longer holds what it missed */
        l->failed = true;
        return true;
    }
    set_snapshot(&l->next_snapshot, PQgetvalue(res, 0, 0));
    for (int i = 0, n = PQntuples(res); i < n; i++) {
        if (PQgetisnull(res, i, 1))
            continue;
        l->on_notify(PQgetvalue(res, i, 1), l->arg);
        if (io_pgconn_pg(l->io) != pg)
            return false;
    }
    return true;
}

/* The read's results are all in. False: the connection was reset or closed. */
static bool read_done(store_listen_t *l)
{
    if (l->failed || !l->next_snapshot) {
        io_pgconn_reset(l->io, false);
        return false;
    }
    char *taken = l->next_snapshot;
    l->next_snapshot = l->snapshot;
    l->snapshot = taken;
    l->read_ok_ns = uv_hrtime();
    l->state = LISTEN_IDLE;
    l->stats.wakes += l->wake_sent;
    l->wake_sent = false;
    l->stats.reads++;
    if (l->read_again || l->wake)
        send_read(l);
    return true;
}

static void listen_input(io_pgconn_t *io, PGconn *pg, void *arg)
{
    store_listen_t *l = arg;
    while (l->state != LISTEN_IDLE && !PQisBusy(pg)) {
        PGresult *res = PQgetResult(pg);
        bool alive;
        if (res == NULL)
            alive = l->state == LISTEN_SETTING_UP ? setup_done(l, pg) : read_done(l);
        else {
            alive = l->state == LISTEN_SETTING_UP ? setup_result(l, res) : read_result(l, pg, res);
            PQclear(res);
        }
        if (!alive || io_pgconn_pg(io) != pg)
            return;
    }
    if (l->state == LISTEN_SETTING_UP)
        return; /* nothing is passed on before LISTEN is known to be in place */
    int self = PQbackendPID(pg);
    PGnotify *n;
    while ((n = PQnotifies(pg)) != NULL) {
        if (strcmp(n->extra, WAKE) == 0) {
            if (n->be_pid != self)
                want_remote_read(l);
        } else {
            l->on_notify(n->extra, l->arg);
        }
        PQfreemem(n);
        if (io_pgconn_pg(io) != pg)
            return;
    }
}

static void listen_down(io_pgconn_t *io, void *arg)
{
    store_listen_t *l = arg;
    (void)io;
    l->state = LISTEN_SETTING_UP; /* until the next connection's setup is done */
    l->wake |= l->wake_sent;      /* a wake that may not have left goes with the next read */
    l->read_again = l->wake_sent = false;
}

static void on_poll_timer(uv_timer_t *timer)
{
    store_listen_t *l = timer->data;
    if (l->state == LISTEN_SETTING_UP) /* down, or not set up yet */
        return;
    if ((uv_hrtime() - l->read_ok_ns) / 1000000 > READ_GAP_MS) {
        log_warn("changes_read_overdue", NULL);
        io_pgconn_reset(l->io, true);
        return;
    }
    want_read(l);
}

store_listen_t *store_listen_start(uv_loop_t *loop, const char *url, const char *channel,
                                   store_listen_notify_cb on_notify,
                                   store_listen_connected_cb on_connected, void *arg)
{
    store_listen_t *l = slotd_calloc(1, sizeof(*l));
    l->channel = slotd_strdup(channel);
    l->on_notify = on_notify;
    l->on_connected = on_connected;
    l->arg = arg;
    l->loop = loop;
    uv_timer_init(loop, &l->timer);
    l->timer.data = l;
    uv_timer_init(loop, &l->remote_timer);
    l->remote_timer.data = l;
    l->open_timers = 2;
    uv_timer_start(&l->timer, on_poll_timer, POLL_MS, POLL_MS);
    static const io_pgconn_callbacks_t callbacks = {
        .up = listen_up, .input = listen_input, .down = listen_down};
    io_pgconn_options_t options = {
        .url = url, .application = "slotd-listen", .backoff_min_ms = 100};
    l->io = io_pgconn_new(loop, &options, &callbacks, l);
    return l;
}

void store_listen_stats(const store_listen_t *listen, store_listen_stats_t *stats)
{
    *stats = listen->stats;
}

void store_listen_wake(store_listen_t *listen)
{
    listen->wake = true;
    want_read(listen);
}

static void listen_freed(uv_handle_t *handle)
{
    store_listen_t *l = handle->data;
    if (--l->open_timers > 0)
        return;
    void (*cb)(void *) = l->on_closed;
    void *cb_arg = l->on_closed_arg;
    free(l->channel);
    free(l->snapshot);
    free(l->next_snapshot);
    free(l);
    if (cb)
        cb(cb_arg);
}

static void listen_closed(void *arg)
{
    store_listen_t *l = arg;
    uv_close((uv_handle_t *)&l->timer, listen_freed);
    uv_close((uv_handle_t *)&l->remote_timer, listen_freed);
}

void store_listen_close(store_listen_t *listen, void (*on_closed)(void *), void *arg)
{
    listen->on_closed = on_closed;
    listen->on_closed_arg = arg;
    uv_timer_stop(&listen->timer);
    uv_timer_stop(&listen->remote_timer);
    io_pgconn_close(listen->io, listen_closed, listen);
}
