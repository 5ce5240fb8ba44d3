/* A test's own PostgreSQL cluster (see private_pg.h), driven through scripts/pg.sh. */
#include "private_pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "test.h"

/* Runs scripts/pg.sh VERB on the cluster; its first line of output into out (may be NULL). */
static int pg_sh(const test_pg_t *pg, const char *verb, const char *extra, char *out, size_t size)
{
    const char *source = getenv("SLOTD_SOURCE_DIR");
    CHECK(source != NULL);
    char command[1024];
    snprintf(command, sizeof(command), "SLOTD_PG_FAST_DISK=1 '%s/scripts/pg.sh' %s '%s/data' %s",
             source, verb, pg->dir, extra ? extra : "");
    FILE *p = popen(command, "r");
    CHECK(p != NULL);
    char line[512] = "";
    if (fgets(line, sizeof(line), p) == NULL)
        line[0] = 0;
    int rc = pclose(p);
    line[strcspn(line, "\n")] = 0;
    if (out)
        snprintf(out, size, "%s", line);
    return rc;
}

void test_pg_start(test_pg_t *pg)
{
    memset(pg, 0, sizeof(*pg));
    snprintf(pg->dir, sizeof(pg->dir), "/tmp/slotd-test-private-pg.XXXXXX");
    CHECK(mkdtemp(pg->dir) != NULL);
    chmod(pg->dir, 0755); /* reachable by the postgres user when the tests run as root */
    CHECK_EQ(pg_sh(pg, "start-free", NULL, pg->url, sizeof(pg->url)), 0);
    const char *port = strrchr(pg->url, ':');
    CHECK(port != NULL);
    pg->port = atoi(port + 1);
    CHECK(pg->port > 0);
    setenv("SLOTD_TEST_DATABASE_URL", pg->url, 1);
}

void test_pg_crash(test_pg_t *pg)
{
    CHECK_EQ(pg_sh(pg, "stop-now", NULL, NULL, 0), 0);
}

void test_pg_restart(test_pg_t *pg)
{
    char port[16];
    snprintf(port, sizeof(port), "%d", pg->port);
    CHECK_EQ(pg_sh(pg, "start", port, NULL, 0), 0);
}

void test_pg_remove(test_pg_t *pg)
{
    pg_sh(pg, "stop", NULL, NULL, 0);
    char command[256];
    snprintf(command, sizeof(command), "rm -rf '%s'", pg->dir);
    CHECK_EQ(system(command), 0);
}
