/*
 * Schema migrations.
 *
 * Migrations are numbered SQL files compiled into the binary. slotd_migrations
 * records what was applied. Each migration runs in one transaction together
 * with its record, holding a transaction-level advisory lock: two slotd
 * processes starting together apply each migration exactly once, and a failed
 * migration leaves nothing behind. Running it again is a no-op.
 */
#include "store/migrations.h"

#include <stdbool.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An arbitrary constant naming slotd's migration lock. */
#define MIGRATION_LOCK "7383001"

static bool run(PGconn *conn, const char *sql, char *error, size_t size)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType status = PQresultStatus(res);
    bool ok = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
    if (!ok)
        snprintf(error, size, "%s", PQresultErrorMessage(res));
    PQclear(res);
    return ok;
}

/* 1 when migration `version` is recorded as applied, 0 when not, -1 on error. Each
 * migration is looked up by its own number, so one that was added below an applied one
 * (branches merged in another order) still runs. */
static int is_applied(PGconn *conn, int version, char *error, size_t size)
{
    char number[16];
    snprintf(number, sizeof(number), "%d", version);
    const char *params[1] = {number};
    PGresult *res = PQexecParams(conn, "SELECT 1 FROM slotd_migrations WHERE version = $1", 1, NULL,
                                 params, NULL, NULL, 0);
    int applied = -1;
    if (PQresultStatus(res) == PGRES_TUPLES_OK)
        applied = PQntuples(res) > 0;
    else
        snprintf(error, size, "%s", PQresultErrorMessage(res));
    PQclear(res);
    return applied;
}

int store_migrate(PGconn *conn, char *error, size_t size)
{
    /* The bookkeeping table is created under the lock too: two concurrent
     * CREATE TABLE IF NOT EXISTS can collide in the catalog. */
    if (!run(conn,
             "SET client_min_messages = warning;"
             "BEGIN; SELECT pg_advisory_xact_lock(" MIGRATION_LOCK ");"
             "CREATE TABLE IF NOT EXISTS slotd_migrations ("
             " version integer PRIMARY KEY, name text NOT NULL,"
             " applied_at timestamptz NOT NULL DEFAULT now());"
             "COMMIT",
             error, size)) {
        run(conn, "ROLLBACK", error + strlen(error), 0);
        return -1;
    }
    int applied = 0;
    for (size_t i = 0; i < store_migration_count; i++) {
        const store_migration_t *m = &store_migrations[i];
        if (!run(conn, "BEGIN; SELECT pg_advisory_xact_lock(" MIGRATION_LOCK ")", error, size))
            return -1;
        int done = is_applied(conn, m->version, error, size);
        if (done < 0 || (!done && !run(conn, m->sql, error, size))) {
            run(conn, "ROLLBACK", error + strlen(error), 0);
            return -1;
        }
        if (!done) {
            const char *params[2];
            char number[16];
            snprintf(number, sizeof(number), "%d", m->version);
            params[0] = number;
            params[1] = m->name;
            PGresult *res =
                PQexecParams(conn, "INSERT INTO slotd_migrations (version, name) VALUES ($1, $2)",
                             2, NULL, params, NULL, NULL, 0);
            bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
            if (!ok)
                snprintf(error, size, "%s", PQresultErrorMessage(res));
            PQclear(res);
            if (!ok) {
                run(conn, "ROLLBACK", error + strlen(error), 0);
                return -1;
            }
            applied++;
        }
        if (!run(conn, "COMMIT", error, size))
            return -1;
    }
    return applied;
}
