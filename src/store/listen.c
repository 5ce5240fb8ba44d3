/*
 * The LISTEN connection (see listen.h).
 *
 * On every new connection: send LISTEN (the channel quoted as an identifier),
 * wait for its result, then call `on_connected` and start passing
 * notifications on. A failed LISTEN resets the connection, which the core
 * retries with backoff. The connection never runs anything else, so every
 * result that arrives is LISTEN's.
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

struct store_listen {
    io_pgconn_t *io;
    char *channel;
    bool subscribed; /* LISTEN succeeded on the current connection */
    store_listen_notify_cb on_notify;
    store_listen_connected_cb on_connected;
    void *arg;
    void (*on_closed)(void *);
    void *on_closed_arg;
};

static void listen_up(io_pgconn_t *io, PGconn *pg, void *arg)
{
    store_listen_t *l = arg;
    l->subscribed = false;
    char *quoted = PQescapeIdentifier(pg, l->channel, strlen(l->channel));
    bool sent = false;
    if (quoted) {
        size_t size = strlen(quoted) + 8;
        char *sql = slotd_malloc(size);
        snprintf(sql, size, "LISTEN %s", quoted);
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

static void listen_input(io_pgconn_t *io, PGconn *pg, void *arg)
{
    store_listen_t *l = arg;
    while (!PQisBusy(pg)) {
        PGresult *res = PQgetResult(pg);
        if (res == NULL)
            break;
        bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        if (!ok)
            log_error("listen_failed", "cause", PQresultErrorMessage(res), NULL);
        PQclear(res);
        if (l->subscribed)
            continue;
        if (!ok) {
            io_pgconn_reset(io, false);
            return;
        }
        l->subscribed = true;
        io_pgconn_healthy(io);
        l->on_connected(l->arg);
        if (io_pgconn_pg(io) != pg)
            return; /* closed from the callback */
    }
    PGnotify *n;
    while ((n = PQnotifies(pg)) != NULL) {
        if (l->subscribed)
            l->on_notify(n->extra, l->arg);
        PQfreemem(n);
        if (io_pgconn_pg(io) != pg)
            return;
    }
}

static void listen_down(io_pgconn_t *io, void *arg)
{
    store_listen_t *l = arg;
    (void)io;
    l->subscribed = false;
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
    static const io_pgconn_callbacks_t callbacks = {
        .up = listen_up, .input = listen_input, .down = listen_down};
    io_pgconn_options_t options = {
        .url = url, .application = "slotd-listen", .backoff_min_ms = 100};
    l->io = io_pgconn_new(loop, &options, &callbacks, l);
    return l;
}

static void listen_closed(void *arg)
{
    store_listen_t *l = arg;
    void (*cb)(void *) = l->on_closed;
    void *cb_arg = l->on_closed_arg;
    free(l->channel);
    free(l);
    if (cb)
        cb(cb_arg);
}

void store_listen_close(store_listen_t *listen, void (*on_closed)(void *), void *arg)
{
    listen->on_closed = on_closed;
    listen->on_closed_arg = arg;
    io_pgconn_close(listen->io, listen_closed, listen);
}
