/* The pool tests' fixture (see pool_fixture.h). */
#include "pool_fixture.h"

#include "db.h"
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

void pool_fixture_close(pool_fixture_t *f)
{
    if (f->pool)
        store_pool_close(f->pool, NULL, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    CHECK_EQ(uv_loop_close(&f->loop), 0);
    test_db_drop(f->db);
}
