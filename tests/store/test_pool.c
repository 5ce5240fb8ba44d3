/*
 * The asynchronous pool against a real PostgreSQL, driven by a real libuv
 * loop. Every test ends by closing the pool and proving the loop has nothing
 * left open.
 */
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "pool_fixture.h"
#include "store/pool.h"
#include "test.h"

static const store_statement_t statements[] = {
    {"add", "SELECT $1::int + $2::int"},
    {"divide", "SELECT 1 / $1::int"},
    {"sleep", "SELECT pg_sleep($1::float8)"},
};

typedef struct {
    int done, failed, errors;
    int sum;
    char last_state[8];
    int order[64];
} tally_t;

static void count_result(const PGresult *res, const char *state, void *arg)
{
    tally_t *t = arg;
    if (res == NULL) {
        t->failed++;
    } else if (state) {
        t->errors++;
        snprintf(t->last_state, sizeof(t->last_state), "%s", state);
    } else {
        int v = atoi(PQgetvalue(res, 0, 0));
        if (t->done < 64)
            t->order[t->done] = v;
        t->sum += v;
    }
    t->done++;
}

typedef pool_fixture_t fixture_t;

static void open_pool(fixture_t *f, int size, int timeout_ms, size_t max_queue)
{
    pool_fixture_open(f, NULL,
                      (store_pool_options_t){.size = size,
                                             .statement_timeout_ms = timeout_ms,
                                             .statements = statements,
                                             .statement_count = 3,
                                             .max_queue = max_queue});
}

static void close_pool(fixture_t *f)
{
    pool_fixture_close(f);
}

static void run_until(uv_loop_t *loop, const int *counter, int target)
{
    for (int spins = 0; *counter < target && spins < 200000; spins++)
        uv_run(loop, UV_RUN_ONCE);
    CHECK(*counter >= target);
}

static void add(store_pool_t *pool, int a, int b, tally_t *t)
{
    char x[16], y[16];
    snprintf(x, sizeof(x), "%d", a);
    snprintf(y, sizeof(y), "%d", b);
    const char *values[2] = {x, y};
    CHECK(store_query(pool, "add", 2, values, count_result, t) != NULL);
}

TEST(pool_runs_queued_queries_on_prepared_statements)
{
    fixture_t f;
    open_pool(&f, 3, 5000, 1000);
    tally_t t = {0};
    for (int i = 1; i <= 50; i++)
        add(f.pool, i, 0, &t);
    run_until(&f.loop, &t.done, 50);
    CHECK_EQ(t.sum, 50 * 51 / 2);
    CHECK_EQ(t.failed + t.errors, 0);
    /* every connection comes up, whether or not it was needed */
    for (int spins = 0; store_pool_ready_count(f.pool) < 3 && spins < 100000; spins++)
        uv_run(&f.loop, UV_RUN_ONCE);
    CHECK_EQ(store_pool_ready_count(f.pool), 3);
    close_pool(&f);
}

TEST(pool_single_connection_keeps_fifo_order)
{
    fixture_t f;
    open_pool(&f, 1, 5000, 1000);
    tally_t t = {0};
    for (int i = 0; i < 20; i++)
        add(f.pool, i, 100, &t);
    run_until(&f.loop, &t.done, 20);
    for (int i = 0; i < 20; i++)
        CHECK_EQ(t.order[i], 100 + i);
    close_pool(&f);
}

/* A binary query's result comes in binary format, and a callback may keep it. */
typedef struct {
    int done;
    PGresult *kept[2];
} kept_t;

static void keep_result(const PGresult *res, const char *state, void *arg)
{
    kept_t *k = arg;
    CHECK(res != NULL && state == NULL);
    if (k->done < 2)
        k->kept[k->done] = store_result_keep(res);
    k->done++;
}

TEST(pool_binary_results_can_be_kept_past_the_callback)
{
    fixture_t f;
    open_pool(&f, 1, 5000, 1000);
    kept_t k = {0};
    const char *values[2] = {"40", "2"};
    CHECK(store_query_binary(f.pool, "add", 2, values, keep_result, &k) != NULL);
    CHECK(store_query(f.pool, "add", 2, values, keep_result, &k) != NULL);
    run_until(&f.loop, &k.done, 2);
    /* the pool has gone on to other work; the results are still whole */
    CHECK(k.kept[0] != NULL && k.kept[1] != NULL);
    CHECK_EQ(PQfformat(k.kept[0], 0), 1);
    CHECK_EQ(PQgetlength(k.kept[0], 0, 0), 4);
    const unsigned char *v = (const unsigned char *)PQgetvalue(k.kept[0], 0, 0);
    CHECK_EQ(v[0] << 24 | v[1] << 16 | v[2] << 8 | v[3], 42);
    CHECK_EQ(PQfformat(k.kept[1], 0), 0);
    CHECK(strcmp(PQgetvalue(k.kept[1], 0, 0), "42") == 0);
    /* only the result being handed out can be kept */
    CHECK(store_result_keep(k.kept[0]) == NULL);
    PQclear(k.kept[0]);
    PQclear(k.kept[1]);
    close_pool(&f);
}

TEST(pool_reports_sql_errors_by_sqlstate)
{
    fixture_t f;
    open_pool(&f, 1, 5000, 1000);
    tally_t t = {0};
    const char *zero[1] = {"0"};
    CHECK(store_query(f.pool, "divide", 1, zero, count_result, &t) != NULL);
    add(f.pool, 1, 2, &t); /* the connection is still good afterwards */
    run_until(&f.loop, &t.done, 2);
    CHECK_EQ(t.errors, 1);
    CHECK(strcmp(t.last_state, "22012") == 0);
    CHECK_EQ(t.sum, 3);
    close_pool(&f);
}

TEST(pool_statement_timeout_ends_slow_queries)
{
    fixture_t f;
    open_pool(&f, 1, 200, 1000);
    tally_t t = {0};
    const char *long_sleep[1] = {"30"};
    CHECK(store_query(f.pool, "sleep", 1, long_sleep, count_result, &t) != NULL);
    run_until(&f.loop, &t.done, 1);
    CHECK(strcmp(t.last_state, "57014") == 0); /* query_canceled */
    close_pool(&f);
}

TEST(pool_reconnects_after_the_server_drops_its_connections)
{
    fixture_t f;
    open_pool(&f, 2, 5000, 1000);
    tally_t t = {0};
    add(f.pool, 1, 1, &t);
    run_until(&f.loop, &t.done, 1);
    test_db_exec(f.db, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE application_name = 'slotd' AND datname = current_database()");
    /* queries now may meet a dead connection (they fail) and later ones succeed */
    int succeeded_before = t.done - t.failed - t.errors;
    int refused = 0;
    for (int round = 0; round < 400 && t.done - t.failed - t.errors < succeeded_before + 5;
         round++) {
        const char *v[2] = {"2", "2"};
        if (store_query(f.pool, "add", 2, v, count_result, &t) == NULL) {
            /* every connection down, waiting to retry: refused at once */
            refused++;
            uv_run(&f.loop, UV_RUN_NOWAIT);
            usleep(10000);
            continue;
        }
        run_until(&f.loop, &t.done, t.done + 1);
    }
    CHECK(t.done - t.failed - t.errors >= succeeded_before + 5);
    CHECK_EQ(t.errors, 0);
    (void)refused;
    close_pool(&f);
}

TEST(pool_cancelled_query_never_calls_back_and_close_fails_the_queue)
{
    fixture_t f;
    open_pool(&f, 1, 5000, 1000);
    tally_t cancelled = {0}, kept = {0}, queued = {0};
    const char *v[2] = {"1", "1"};
    store_query_t *q = store_query(f.pool, "add", 2, v, count_result, &cancelled);
    store_query_cancel(q);
    CHECK(store_query(f.pool, "add", 2, v, count_result, &kept) != NULL);
    run_until(&f.loop, &kept.done, 1);
    CHECK_EQ(cancelled.done, 0);
    const char *nap[1] = {"0.2"};
    CHECK(store_query(f.pool, "sleep", 1, nap, count_result, &queued) != NULL);
    CHECK(store_query(f.pool, "add", 2, v, count_result, &queued) != NULL);
    store_pool_close(f.pool, NULL, NULL);
    f.pool = NULL;
    uv_run(&f.loop, UV_RUN_DEFAULT);
    CHECK_EQ(queued.done, 2);
    CHECK_EQ(queued.failed, 2);
    close_pool(&f);
}

TEST(pool_refuses_queries_past_its_queue_limit)
{
    fixture_t f;
    open_pool(&f, 1, 5000, 2);
    tally_t t = {0};
    const char *v[2] = {"1", "1"};
    CHECK(store_query(f.pool, "add", 2, v, count_result, &t) != NULL);
    CHECK(store_query(f.pool, "add", 2, v, count_result, &t) != NULL);
    CHECK(store_query(f.pool, "add", 2, v, count_result, &t) == NULL);
    run_until(&f.loop, &t.done, 2);
    close_pool(&f);
}
