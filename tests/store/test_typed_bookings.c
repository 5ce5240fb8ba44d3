/*
 * The typed store for bookings against a real PostgreSQL and a real loop:
 * the periodic sweep deletes expired holds' occupancy and idempotency keys
 * past their 24 hours, of every organization, and nothing else.
 */
#include <string.h>

#include "db.h"
#include "pool_fixture.h"
#include "store/bookings.h"
#include "store/migrations.h"
#include "store/statements.h"
#include "test.h"

#define ORG_A "00000000-0000-0000-0000-0000000000a1"
#define ORG_B "00000000-0000-0000-0000-0000000000a2"

/* Two organizations, each with a resource, a service and two holds: one expired at
 * 2026-03-27 08:00 UTC, one expiring an hour later; and two keys each, one 25 hours old. */
static const char setup[] =
    "INSERT INTO organizations (id, name, timezone) VALUES "
    "('" ORG_A "', 'A', 'UTC'), ('" ORG_B "', 'B', 'UTC');"
    "INSERT INTO resources (organization_id, id, kind, name) "
    "SELECT id, id, 'staff', 'R' FROM organizations;"
    "INSERT INTO services (organization_id, id, name, duration_minutes) "
    "SELECT id, id, 'S', 60 FROM organizations;"
    "INSERT INTO holds (organization_id, id, service_id, starts_at, ends_at, expires_at) "
    "SELECT o.id, gen_random_uuid(), o.id, '2026-03-30 09:00Z'::timestamptz + (e.n || ' "
    "h')::interval, "
    "'2026-03-30 10:00Z'::timestamptz + (e.n || ' h')::interval, "
    "'2026-03-27 08:00Z'::timestamptz + (e.n || ' h')::interval "
    "FROM organizations o, (VALUES (0), (1)) e(n);"
    "INSERT INTO occupancy (organization_id, resource_id, hold_id, occupied, expires_at) "
    "SELECT organization_id, organization_id, id, tstzrange(starts_at, ends_at), expires_at "
    "FROM holds;"
    "INSERT INTO idempotency_keys (organization_id, key, request_hash, created_at) "
    "SELECT o.id, k.key, '\\x00'::bytea, now() - (k.age || ' h')::interval "
    "FROM organizations o, (VALUES ('old', 25), ('new', 1)) k(key, age);";

typedef struct {
    int calls, error;
    long holds, keys, changes;
} swept_t;

static void on_swept(void *arg, int error, long holds, long keys, long changes)
{
    swept_t *s = arg;
    s->calls++;
    s->error = error;
    s->holds = holds;
    s->keys = keys;
    s->changes = changes;
}

static void sweep(pool_fixture_t *f, int64_t now, int batch, swept_t *seen)
{
    memset(seen, 0, sizeof(*seen));
    CHECK(store_bookings_sweep(f->pool, now, batch, on_swept, seen) != NULL);
    for (int spins = 0; seen->calls == 0 && spins < 200000; spins++)
        uv_run(&f->loop, UV_RUN_ONCE);
    CHECK_EQ(seen->calls, 1);
    CHECK_EQ(seen->error, 0);
}

static long count(pool_fixture_t *f, const char *sql)
{
    PGresult *r = PQexec(f->db, sql);
    CHECK(PQresultStatus(r) == PGRES_TUPLES_OK);
    long n = strtol(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return n;
}

TEST(store_sweep_deletes_expired_holds_and_old_keys_of_every_organization)
{
    pool_fixture_t f;
    pool_fixture_open(&f, NULL,
                      (store_pool_options_t){.size = 1,
                                             .statement_timeout_ms = 5000,
                                             .statements = store_statements,
                                             .statement_count = store_statement_count,
                                             .max_queue = 16});
    char error[512] = "";
    CHECK(store_migrate(f.db, error, sizeof(error)) >= 0);
    test_db_exec(f.db, setup);
    int64_t now = 1774598400 + 60; /* 2026-03-27 08:01 UTC: the first hold of each expired */
    swept_t seen;
    sweep(&f, now, 1, &seen); /* a batch of one: one of each */
    CHECK_EQ(seen.holds, 1);
    CHECK_EQ(seen.keys, 1);
    sweep(&f, now, 100, &seen);
    CHECK_EQ(seen.holds, 1);
    CHECK_EQ(seen.keys, 1);
    sweep(&f, now, 100, &seen);
    CHECK_EQ(seen.holds, 0);
    CHECK_EQ(seen.keys, 0);
    CHECK_EQ(count(&f, "SELECT count(*) FROM occupancy"), 2);
    CHECK_EQ(count(&f, "SELECT count(*) FROM occupancy WHERE expires_at > "
                       "'2026-03-27 08:30Z'"),
             2);
    CHECK_EQ(count(&f, "SELECT count(*) FROM idempotency_keys WHERE key = 'new'"), 2);
    CHECK_EQ(count(&f, "SELECT count(*) FROM holds"), 4); /* the holds' own rows stay */
    pool_fixture_close(&f);
}
