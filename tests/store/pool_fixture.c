/* The pool tests' fixture (see pool_fixture.h). */
#include "pool_fixture.h"

#include "db.h"
#include "store/migrations.h"
#include "store/statements.h"
#include "test.h"

void pool_fixture_open(pool_fixture_t *f, const char *setup_sql, store_pool_options_t options)
{
    const char *url;
    f->db = test_db_create(&url);
    if (setup_sql)
        test_db_exec(f->db, setup_sql);
    uv_loop_init(&f->loop);
    options.url = url;
    f->pool = store_pool_new(&f->loop, &options);
}

void pool_fixture_open_migrated(pool_fixture_t *f)
{
    store_pool_options_t options = {.size = 1,
                                    .statement_timeout_ms = 5000,
                                    .statements = store_statements,
                                    .statement_count = store_statement_count,
                                    .max_queue = 16};
    pool_fixture_open(f, NULL, options);
    char error[1024] = "";
    CHECK(store_migrate(f->db, error, sizeof(error)) >= 0);
}

void pool_fixture_close(pool_fixture_t *f)
{
    if (f->pool)
        store_pool_close(f->pool, NULL, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    CHECK_EQ(uv_loop_close(&f->loop), 0);
    test_db_drop(f->db);
}
