/*
 * A fresh database per test, on the throwaway cluster that the test command
 * starts (SLOTD_TEST_DATABASE_URL names a database on it). Each test gets its
 * own database, so tests run in parallel without seeing each other.
 */
#ifndef SLOTD_TEST_DB_H
#define SLOTD_TEST_DB_H

#include <libpq-fe.h>

/** Creates an empty database; returns a connection to it and its URL (static). */
PGconn *test_db_create(const char **url);

/** Drops the database created by test_db_create (closes `conn`). */
void test_db_drop(PGconn *conn);

/** Runs SQL, failing the test unless it succeeds. */
void test_db_exec(PGconn *conn, const char *sql);

/** Runs SQL expected to fail; returns its SQLSTATE (static buffer). */
const char *test_db_error(PGconn *conn, const char *sql);

/** The first column of the first row of a query, as text (static buffer). */
const char *test_db_value(PGconn *conn, const char *sql);

/** Runs the slotd binary with arguments; its stdout into out (size), returns its exit code. */
int test_run_slotd(const char *args, char *out, size_t size);

#endif
