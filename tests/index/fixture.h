/*
 * What the index's database tests share: a database of their own with the schema, a loop,
 * and an index on them; running the loop for a while or until the index is ready; and a
 * waiter that records how store_index_refresh called back.
 */
#ifndef SLOTD_TEST_INDEX_FIXTURE_H
#define SLOTD_TEST_INDEX_FIXTURE_H

#include <libpq-fe.h>
#include <stdint.h>
#include <uv.h>

#include "index/index.h"

typedef struct {
    PGconn *db;
    const char *url;
    uv_loop_t loop;
    store_index_t *index; /**< made by the test, with the options it studies */
} fixture_t;

/** A fresh database with the schema applied, and an initialized loop. */
void fixture_open(fixture_t *f);

/** Runs the loop for about `ms` milliseconds. */
void run_for(fixture_t *f, uint64_t ms);

/** Runs the loop until the index is ready (at most `max_ms`), and checks that it is. */
void wait_ready(fixture_t *f, uint64_t max_ms);

/** Closes the index and the loop (checking nothing is left open) and drops the database. */
void teardown(fixture_t *f);

/** How a refresh called back: how many times, and with which status. */
typedef struct {
    int calls, status;
} waited_t;

/** A store_index_refresh callback recording into a waited_t. */
void on_done(void *arg, int status);

#endif
