/*
 * The LISTEN connection against a real PostgreSQL: it reports when it is
 * listening, passes on notifications sent to its channel (and only those),
 * and after its backend is terminated it reconnects and says so again, so
 * that its owner reloads what it may have missed. It reads the log of
 * occupancy changes (migration 0027) and passes on each change once, in the
 * order written, when woken and on its own, and reconnects when a read fails,
 * runs past its statement timeout or finds the log swept past it.
 */
#include <string.h>

#include "db.h"
#include "loop.h"
#include "store/listen.h"
#include "store/migrations.h"
#include "test.h"

typedef struct {
    int connected, notified;
    char last[128];
    char all[4096]; /* every payload, one per line */
} heard_t;

static void on_notify(const char *payload, void *arg)
{
    heard_t *h = arg;
    h->notified++;
    snprintf(h->last, sizeof(h->last), "%s", payload);
    size_t used = strlen(h->all);
    snprintf(h->all + used, sizeof(h->all) - used, "%s\n", payload);
}

static PGconn *migrated_db(const char **url)
{
    PGconn *db = test_db_create(url);
    char error[1024] = "";
    CHECK(store_migrate(db, error, sizeof(error)) > 0);
    return db;
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
    PGconn *db = migrated_db(&url);
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

static void log_change(PGconn *db, const char *op)
{
    char sql[256];
    snprintf(sql, sizeof(sql),
             "INSERT INTO occupancy_changes (payload) VALUES ('{\"op\": \"%s\"}')", op);
    test_db_exec(db, sql);
}

/* Changes in the log are passed on once each, in the order written, transactions in the order
 * they committed: when a wake is heard, on the periodic read with no wake at all, and on
 * store_listen_wake(), whose wake every other listener hears; a transaction still open is
 * passed on once it commits, not before. The wakes themselves are not passed on. */
TEST(listen_reads_the_change_log_once_each_in_order)
{
    const char *url;
    PGconn *db = migrated_db(&url);
    PGconn *open_tx = PQconnectdb(url);
    CHECK(PQstatus(open_tx) == CONNECTION_OK);
    uv_loop_t loop;
    uv_loop_init(&loop);
    heard_t a = {0}, b = {0};
    store_listen_t *la =
        store_listen_start(&loop, url, "slotd_changes", on_notify, on_connected, &a);
    store_listen_t *lb =
        store_listen_start(&loop, url, "slotd_changes", on_notify, on_connected, &b);
    test_loop_run_until(&loop, &a.connected, 1);
    test_loop_run_until(&loop, &b.connected, 1);

    /* an open transaction writes first and commits last */
    test_db_exec(open_tx, "BEGIN");
    log_change(open_tx, "late");
    test_db_exec(db, "BEGIN");
    log_change(db, "one");
    log_change(db, "two");
    test_db_exec(db, "SELECT pg_notify('slotd_changes', '{\"table\": \"occupancy_changes\"}')");
    test_db_exec(db, "COMMIT");
    test_loop_run_until(&loop, &a.notified, 2);
    test_loop_run_until(&loop, &b.notified, 2);
    /* with no wake: the periodic read */
    log_change(db, "three");
    test_loop_run_until(&loop, &a.notified, 3);
    test_loop_run_until(&loop, &b.notified, 3);
    test_db_exec(open_tx, "COMMIT");
    test_loop_run_until(&loop, &a.notified, 4);
    test_loop_run_until(&loop, &b.notified, 4);
    const char *expected = "{\"op\": \"one\"}\n{\"op\": \"two\"}\n{\"op\": \"three\"}\n"
                           "{\"op\": \"late\"}\n";
    CHECK(strcmp(a.all, expected) == 0);
    CHECK(strcmp(b.all, expected) == 0);

    /* one listener's own wake reaches every listener */
    test_db_exec(db, "LISTEN slotd_changes");
    log_change(db, "four");
    store_listen_wake(la);
    test_loop_run_until(&loop, &a.notified, 5);
    test_loop_run_until(&loop, &b.notified, 5);
    int wakes = 0;
    for (int tries = 0; wakes == 0 && tries < 100; tries++) {
        uv_sleep(10);
        PQconsumeInput(db);
        PGnotify *n;
        while ((n = PQnotifies(db)) != NULL) {
            wakes += strcmp(n->extra, "{\"table\": \"occupancy_changes\"}") == 0;
            PQfreemem(n);
        }
    }
    CHECK_EQ(wakes, 1);
    /* nothing twice, and no wake passed on */
    uint64_t until = uv_now(&loop) + 300;
    while (uv_now(&loop) < until)
        uv_run(&loop, UV_RUN_ONCE);
    CHECK_EQ(a.notified, 5);
    CHECK_EQ(b.notified, 5);
    CHECK(strcmp(b.last, "{\"op\": \"four\"}") == 0);

    /* a burst of wakes from elsewhere (reads spaced, some wakes waiting for the next):
     * every change once, in order */
    a.all[0] = b.all[0] = '\0';
    for (int i = 0; i < 30; i++) {
        char op[16];
        snprintf(op, sizeof(op), "burst%02d", i);
        test_db_exec(db, "BEGIN");
        log_change(db, op);
        test_db_exec(db, "SELECT pg_notify('slotd_changes', '{\"table\": \"occupancy_changes\"}')");
        test_db_exec(db, "COMMIT");
        uv_run(&loop, UV_RUN_NOWAIT);
    }
    test_loop_run_until(&loop, &b.notified, 35);
    test_loop_run_until(&loop, &a.notified, 35);
    char burst[1024] = "";
    for (int i = 0; i < 30; i++) {
        size_t used = strlen(burst);
        snprintf(burst + used, sizeof(burst) - used, "{\"op\": \"burst%02d\"}\n", i);
    }
    CHECK(strcmp(a.all, burst) == 0);
    CHECK(strcmp(b.all, burst) == 0);

    /* a read that fails reconnects, so that the owner loads everything again */
    test_db_exec(db, "ALTER TABLE occupancy_changes RENAME TO occupancy_changes_away");
    test_loop_run_until(&loop, &a.connected, 2);
    test_db_exec(db, "ALTER TABLE occupancy_changes_away RENAME TO occupancy_changes");
    uint64_t settled = uv_now(&loop) + 500; /* a reconnect under way lands first */
    while (uv_now(&loop) < settled)
        uv_run(&loop, UV_RUN_ONCE);
    log_change(db, "five");
    test_loop_run_until(&loop, &a.notified, 36);
    CHECK(strcmp(a.last, "{\"op\": \"five\"}") == 0);

    /* a read that cannot answer (the log locked) fails at the statement timeout and
     * reconnects; once the lock goes, changes flow again */
    int before_lock = a.connected;
    test_db_exec(open_tx, "BEGIN; LOCK TABLE occupancy_changes IN ACCESS EXCLUSIVE MODE");
    test_loop_run_until(&loop, &a.connected, before_lock + 1);
    test_db_exec(open_tx, "COMMIT");
    log_change(db, "six");
    test_loop_run_until(&loop, &a.notified, 37);
    CHECK(strcmp(a.last, "{\"op\": \"six\"}") == 0);

    /* the log swept past what a listener has not read: it reconnects too */
    int connected = a.connected;
    test_db_exec(db, "UPDATE occupancy_change_horizon SET below = "
                     "(pg_current_xact_id()::text::bigint + 1)::text::xid8");
    test_loop_run_until(&loop, &a.connected, connected + 1);

    int closed = 0;
    store_listen_close(la, count_closed, &closed);
    store_listen_close(lb, count_closed, &closed);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_EQ(closed, 2);
    CHECK_EQ(uv_loop_close(&loop), 0);
    PQfinish(open_tx);
    test_db_drop(db);
}
