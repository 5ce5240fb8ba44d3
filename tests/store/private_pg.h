/*
 * A PostgreSQL cluster of one test's own (scripts/pg.sh), for tests that stop,
 * crash or restart the database: the shared throwaway cluster serves every
 * other test at the same time and must stay up.
 */
#ifndef SLOTD_TEST_PRIVATE_PG_H
#define SLOTD_TEST_PRIVATE_PG_H

typedef struct {
    char dir[128]; /* the cluster's parent directory; data in dir/data */
    char url[256]; /* of its database "slotd" */
    int port;
} test_pg_t;

/**
 * initdb and start on a free port. It is also made the cluster of
 * test_db_create() (SLOTD_TEST_DATABASE_URL), so the usual fixtures run on
 * it. fsync is off (the machine does not crash, only PostgreSQL does) but
 * every commit is written out before it is acknowledged, so a commit survives
 * test_pg_crash().
 */
void test_pg_start(test_pg_t *pg);

/** Stops PostgreSQL as a crash would (immediate shutdown). */
void test_pg_crash(test_pg_t *pg);

/** Starts it again on the same port (after a crash: with recovery). */
void test_pg_restart(test_pg_t *pg);

/** Stops it and removes its files. */
void test_pg_remove(test_pg_t *pg);

#endif
