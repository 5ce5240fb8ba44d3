/* Per-test databases (see db.h). */
#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

static char database[64];
static char url[512];

static PGconn *connect_to(const char *target)
{
    PGconn *conn = PQconnectdb(target);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "cannot connect to %s: %s", target, PQerrorMessage(conn));
        exit(1);
    }
    return conn;
}

static const char *base_url(void)
{
    const char *base = getenv("SLOTD_TEST_DATABASE_URL");
    if (base == NULL || *base == 0) {
        fprintf(stderr, "SLOTD_TEST_DATABASE_URL is not set: run the tests with scripts/test.sh, "
                        "which starts a throwaway PostgreSQL\n");
        exit(1);
    }
    return base;
}

PGconn *test_db_create(const char **out_url)
{
    PGconn *admin = connect_to(base_url());
    snprintf(database, sizeof(database), "slotd_test_%d", (int)getpid());
    char sql[128];
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", database);
    test_db_exec(admin, sql);
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", database);
    test_db_exec(admin, sql);
    PQfinish(admin);
    /* the same server and user, another database */
    PQconninfoOption *opts = PQconninfoParse(base_url(), NULL);
    const char *host = "127.0.0.1", *port = "5432", *user = "slotd";
    for (PQconninfoOption *o = opts; o && o->keyword; o++) {
        if (o->val && strcmp(o->keyword, "host") == 0)
            host = o->val;
        if (o->val && strcmp(o->keyword, "port") == 0)
            port = o->val;
        if (o->val && strcmp(o->keyword, "user") == 0)
            user = o->val;
    }
    snprintf(url, sizeof(url), "postgresql://%s@%s:%s/%s", user, host, port, database);
    PQconninfoFree(opts);
    if (out_url)
        *out_url = url;
    return connect_to(url);
}

void test_db_drop(PGconn *conn)
{
    PQfinish(conn);
    PGconn *admin = connect_to(base_url());
    char sql[128];
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", database);
    test_db_exec(admin, sql);
    PQfinish(admin);
}

void test_db_exec(PGconn *conn, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType s = PQresultStatus(res);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        fprintf(stderr, "SQL failed: %s\n%s", sql, PQresultErrorMessage(res));
        exit(1);
    }
    PQclear(res);
}

const char *test_db_error(PGconn *conn, const char *sql)
{
    static char state[8];
    PGresult *res = PQexec(conn, sql);
    ExecStatusType s = PQresultStatus(res);
    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) {
        fprintf(stderr, "SQL succeeded, expected an error: %s\n", sql);
        exit(1);
    }
    snprintf(state, sizeof(state), "%s", PQresultErrorField(res, PG_DIAG_SQLSTATE));
    PQclear(res);
    return state;
}

const char *test_db_value(PGconn *conn, const char *sql)
{
    static char value[1024];
    PGresult *res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) < 1) {
        fprintf(stderr, "query gave no row: %s\n%s", sql, PQresultErrorMessage(res));
        exit(1);
    }
    snprintf(value, sizeof(value), "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return value;
}

int test_run_slotd(const char *args, char *out, size_t size)
{
    const char *bin = getenv("SLOTD_BIN");
    CHECK(bin != NULL);
    char command[2048];
    snprintf(command, sizeof(command), "%s %s", bin, args);
    FILE *p = popen(command, "r");
    CHECK(p != NULL);
    size_t n = fread(out, 1, size - 1, p);
    out[n] = 0;
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
