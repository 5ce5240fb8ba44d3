/*
 * The LISTEN connection against a real PostgreSQL: it reports when it is
 * listening, passes on notifications sent to its channel (and only those),
 * and after its backend is terminated it reconnects and says so again, so
 * that its owner reloads what it may have missed.
 */
#include <string.h>

#include "db.h"
#include "loop.h"
#include "store/listen.h"
#include "test.h"

typedef struct {
    int connected, notified;
    char last[128];
} heard_t;

static void on_notify(const char *payload, void *arg)
{
    heard_t *h = arg;
    h->notified++;
    snprintf(h->last, sizeof(h->last), "%s", payload);
}

static void on_connected(void *arg)
{
    ((heard_t *)arg)->connected++;
}

static void count_closed(void *arg)
{
    (*(int *)arg)++;
}

TEST(listen_passes_notifications_and_reports_every_reconnect)
{
    const char *url;
    PGconn *db = test_db_create(&url);
    uv_loop_t loop;
    uv_loop_init(&loop);
    heard_t h = {0};
    /* a channel name that needs quoting */
    store_listen_t *l = store_listen_start(&loop, url, "Changes Here", on_notify, on_connected, &h);
    test_loop_run_until(&loop, &h.connected, 1);
    test_db_exec(db, "SELECT pg_notify('other', 'not for us')");
    test_db_exec(db, "SELECT pg_notify('Changes Here', 'first')");
    test_loop_run_until(&loop, &h.notified, 1);
    CHECK_EQ(h.notified, 1);
    CHECK(strcmp(h.last, "first") == 0);
    test_db_exec(db, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE application_name = 'slotd-listen' AND datname = current_database()");
    test_loop_run_until(&loop, &h.connected, 2);
    test_db_exec(db, "SELECT pg_notify('Changes Here', 'second')");
    test_loop_run_until(&loop, &h.notified, 2);
    CHECK(strcmp(h.last, "second") == 0);
    int closed = 0;
    store_listen_close(l, count_closed, &closed);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_EQ(closed, 1);
    CHECK_EQ(uv_loop_close(&loop), 0);
    test_db_drop(db);
}
