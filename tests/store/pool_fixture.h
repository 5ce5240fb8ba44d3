/*
 * The pool tests' fixture: a fresh database (migrated, for the typed store
 * tests), a real libuv loop, and a pool on them; closing it proves the loop
 * has nothing left open.
 */
#ifndef SLOTD_TEST_POOL_FIXTURE_H
#define SLOTD_TEST_POOL_FIXTURE_H

#include "store/pool.h"

typedef struct {
    PGconn *db;
    uv_loop_t loop;
    store_pool_t *pool;
} pool_fixture_t;

/** Creates the database, runs `setup_sql` on it (unless NULL), and starts a pool with
 *  `options` (its url is filled in here). */
void pool_fixture_open(pool_fixture_t *f, const char *setup_sql, store_pool_options_t options);

/** A migrated database and a pool of one connection with the service's statements: what the
 *  typed store tests start from. The pool connects (and prepares its statements) only once
 *  the loop runs. */
void pool_fixture_open_migrated(pool_fixture_t *f);

/** Closes the pool (unless the test did and set it NULL), runs the loop dry, proves it has
 *  nothing left open, and drops the database. */
void pool_fixture_close(pool_fixture_t *f);

#endif
