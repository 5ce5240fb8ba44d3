/*
 * The libpq connection core on a real libuv loop: against the test cluster
 * (comes up, notices a terminated backend and comes back, resets at once on
 * request, closes from inside its own callback), against a closed port
 * (waits and retries), and against a TCP server that accepts but never
 * speaks (the connect deadline ends the attempt). Every test ends by proving
 * the loop has nothing left open.
 */
#include <string.h>

#include "db.h"
#include "io/pgconn.h"
#include "loop.h"
#include "test.h"

typedef struct {
    int up, down, closed;
    bool close_on_down;
    int backend_pid;
    bool asked_pid;
} events_t;

static void on_up(io_pgconn_t *conn, PGconn *pg, void *arg)
{
    events_t *e = arg;
    e->up++;
    e->backend_pid = PQbackendPID(pg);
    io_pgconn_healthy(conn);
}

static void on_input(io_pgconn_t *conn, PGconn *pg, void *arg)
{
    (void)conn;
    (void)arg;
    while (!PQisBusy(pg)) {
        PGresult *res = PQgetResult(pg);
        if (res == NULL)
            break;
        PQclear(res);
    }
}

static void count_closed(void *arg)
{
    ((events_t *)arg)->closed++;
}

static void on_down(io_pgconn_t *conn, void *arg)
{
    events_t *e = arg;
    e->down++;
    if (e->close_on_down) {
        io_pgconn_close(conn, count_closed, e);
        CHECK_EQ(io_pgconn_state(conn), IO_PG_CLOSED);
    }
}

static const io_pgconn_callbacks_t callbacks = {.up = on_up, .input = on_input, .down = on_down};

static void finish(uv_loop_t *loop)
{
    uv_run(loop, UV_RUN_DEFAULT);
    CHECK_EQ(uv_loop_close(loop), 0);
}

TEST(pgconn_comes_back_after_its_backend_is_terminated)
{
    const char *url;
    PGconn *db = test_db_create(&url);
    uv_loop_t loop;
    uv_loop_init(&loop);
    events_t e = {0};
    io_pgconn_options_t options = {.url = url, .application = "slotd-test-core"};
    io_pgconn_t *conn = io_pgconn_new(&loop, &options, &callbacks, &e);
    CHECK_EQ(io_pgconn_state(conn), IO_PG_CONNECTING);
    CHECK(io_pgconn_pg(conn) == NULL);
    test_loop_run_until(&loop, &e.up, 1);
    CHECK_EQ(io_pgconn_state(conn), IO_PG_UP);
    CHECK(io_pgconn_pg(conn) != NULL);
    int first_pid = e.backend_pid;
    char sql[64];
    snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%d)", first_pid);
    test_db_exec(db, sql);
    test_loop_run_until(&loop, &e.down, 1);
    test_loop_run_until(&loop, &e.up, 2);
    CHECK(e.backend_pid != first_pid);
    /* a reset at once: down now, up again without a backoff */
    uint64_t start = uv_hrtime();
    io_pgconn_reset(conn, true);
    CHECK_EQ(e.down, 2);
    CHECK_EQ(io_pgconn_state(conn), IO_PG_WAITING);
    test_loop_run_until(&loop, &e.up, 3);
    CHECK((uv_hrtime() - start) / 1000000 < 1000);
    io_pgconn_close(conn, count_closed, &e);
    CHECK_EQ(e.down, 3); /* closing an UP connection is a down, once */
    finish(&loop);
    CHECK_EQ(e.closed, 1);
    test_db_drop(db);
}

TEST(pgconn_may_close_from_its_down_callback)
{
    const char *url;
    PGconn *db = test_db_create(&url);
    uv_loop_t loop;
    uv_loop_init(&loop);
    events_t e = {.close_on_down = true};
    io_pgconn_options_t options = {.url = url, .application = "slotd-test-core"};
    (void)io_pgconn_new(&loop, &options, &callbacks, &e);
    test_loop_run_until(&loop, &e.up, 1);
    char sql[64];
    snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%d)", e.backend_pid);
    test_db_exec(db, sql);
    test_loop_run_until(&loop, &e.closed, 1); /* freed now: `conn` must not be touched */
    finish(&loop);
    CHECK_EQ(e.down, 1);
    CHECK_EQ(e.up, 1);
    test_db_drop(db);
}

static void free_handle(uv_handle_t *handle)
{
    free(handle);
}

static int slammed;

static void on_slam_connection(uv_stream_t *listener, int status)
{
    CHECK_EQ(status, 0);
    uv_tcp_t *client = malloc(sizeof(*client));
    uv_tcp_init(listener->loop, client);
    CHECK_EQ(uv_accept(listener, (uv_stream_t *)client), 0);
    slammed++;
    uv_close((uv_handle_t *)client, free_handle);
}

TEST(pgconn_retries_a_failing_server_with_backoff)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    /* a server that hangs up on every connection at once */
    uv_tcp_t server;
    int port = test_loop_listen(&loop, &server, on_slam_connection);
    server.data = NULL;
    char url[128];
    snprintf(url, sizeof(url), "postgresql://nobody@127.0.0.1:%d/none?sslmode=disable", port);
    events_t e = {0};
    io_pgconn_options_t options = {
        .url = url, .application = "slotd-test-core", .backoff_min_ms = 20, .backoff_max_ms = 40};
    io_pgconn_t *conn = io_pgconn_new(&loop, &options, &callbacks, &e);
    test_loop_run_for(&loop, 400);
    /* it kept trying, but waited between attempts: 20, 40, 40, ... ms, each drawn from the
     * upper half of the backoff */
    CHECK(slammed >= 5);
    CHECK(slammed <= 25);
    CHECK_EQ(e.up + e.down, 0); /* never up, so never down */
    io_pgconn_close(conn, NULL, NULL);
    uv_close((uv_handle_t *)&server, NULL);
    finish(&loop);
}

static void on_silent_connection(uv_stream_t *listener, int status)
{
    CHECK_EQ(status, 0);
    uv_tcp_t *client = malloc(sizeof(*client));
    uv_tcp_init(listener->loop, client);
    CHECK_EQ(uv_accept(listener, (uv_stream_t *)client), 0);
    listener->data = client; /* never read, never answered; closed by the test */
}

TEST(pgconn_connect_deadline_ends_an_attempt_that_hangs)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    uv_tcp_t server;
    int port = test_loop_listen(&loop, &server, on_silent_connection);
    server.data = NULL;
    char url[128];
    snprintf(url, sizeof(url), "postgresql://nobody@127.0.0.1:%d/none?sslmode=disable", port);
    events_t e = {0};
    io_pgconn_options_t options = {.url = url,
                                   .application = "slotd-test-core",
                                   .connect_timeout_ms = 200,
                                   .backoff_min_ms = 5000};
    io_pgconn_t *conn = io_pgconn_new(&loop, &options, &callbacks, &e);
    test_loop_run_for(&loop, 100);
    CHECK_EQ(io_pgconn_state(conn), IO_PG_CONNECTING); /* accepted, waiting for the server */
    test_loop_run_for(&loop, 400);
    CHECK_EQ(io_pgconn_state(conn), IO_PG_WAITING); /* the deadline gave up on it */
    io_pgconn_close(conn, NULL, NULL);
    if (server.data)
        uv_close((uv_handle_t *)server.data, free_handle);
    uv_close((uv_handle_t *)&server, NULL);
    finish(&loop);
}
