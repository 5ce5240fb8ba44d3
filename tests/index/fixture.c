/* The index tests' shared fixture (see fixture.h). */
#include "fixture.h"

#include "db.h"
#include "loop.h"
#include "store/migrations.h"
#include "test.h"

void fixture_open(fixture_t *f)
{
    f->db = test_db_create(&f->url);
    char error[512];
    CHECK(store_migrate(f->db, error, sizeof(error)) >= 0);
    uv_loop_init(&f->loop);
    f->index = NULL;
}

void run_for(fixture_t *f, uint64_t ms)
{
    test_loop_run_for(&f->loop, ms);
}

void wait_ready(fixture_t *f, uint64_t max_ms)
{
    for (uint64_t waited = 0; !store_index_ready(f->index) && waited < max_ms; waited += 20)
        run_for(f, 20);
    CHECK(store_index_ready(f->index));
}

void teardown(fixture_t *f)
{
    store_index_close(f->index, NULL, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    CHECK_EQ(uv_loop_close(&f->loop), 0);
    test_db_drop(f->db);
}

void on_done(void *arg, int status)
{
    waited_t *w = arg;
    w->calls++;
    w->status = status;
}
