/*
 * The typed store for blocks, the organization and API keys against a real
 * PostgreSQL and a real loop: structs in, structs out, organizations kept
 * apart, local times and exdates as wall seconds (fractions dropped), a
 * key's instant never rounded up, rows the service cannot read refused
 * whole, and one cancel path after which the callback never runs.
 */
#include <string.h>

#include "db.h"
#include "loop.h"
#include "pool_fixture.h"
#include "slotd/alloc.h"
#include "slotd/codec.h"
#include "store/blocks.h"
#include "store/keys.h"
#include "store/migrations.h"
#include "store/organization.h"
#include "store/statements.h"
#include "test.h"

#define ORG "00000000-0000-0000-0000-0000000000a1"
#define OTHER "00000000-0000-0000-0000-0000000000a2"
#define RESOURCE "00000000-0000-0000-0000-0000000000b1"
#define UNKNOWN "00000000-0000-0000-0000-0000000000ff"

/* 2026-03-27T10:00:00Z, and the same wall time as seconds of a local clock */
#define TEN_UTC 1774605600LL

typedef struct {
    pool_fixture_t pool;
    eng_id_t org, other, resource, unknown;
} fixture_t;

/* What a callback saw, copied out of the structs (valid only during the call). */
typedef struct {
    int calls, error;
    eng_id_t id;
    bool recurring, has_reason, has_hours, more;
    int64_t start, end, start_local, created_at;
    int32_t duration;
    size_t count, exdates;
    int64_t first_exdate;
    char text[128], zone[64], prefix[64];
    int32_t closures[4];
} seen_t;

static void open_fixture(fixture_t *f)
{
    store_pool_options_t options = {.size = 1,
                                    .statement_timeout_ms = 5000,
                                    .statements = store_statements,
                                    .statement_count = store_statement_count,
                                    .max_queue = 16};
    pool_fixture_open(&f->pool, NULL, options);
    char error[1024] = "";
    CHECK(store_migrate(f->pool.db, error, sizeof(error)) >= 0);
    test_db_exec(f->pool.db, "INSERT INTO organizations (id, name, timezone) VALUES "
                             "('" ORG "', 'A', 'Europe/Warsaw'), ('" OTHER "', 'B', 'UTC');"
                             "INSERT INTO resources (organization_id, id, kind, name, "
                             "working_hours) VALUES ('" ORG "', '" RESOURCE "', 'staff', 'Anna', "
                             "'{}')");
    codec_parse_uuid(ORG, &f->org);
    codec_parse_uuid(OTHER, &f->other);
    codec_parse_uuid(RESOURCE, &f->resource);
    codec_parse_uuid(UNKNOWN, &f->unknown);
}

static void close_fixture(fixture_t *f)
{
    pool_fixture_close(&f->pool);
}

static seen_t *seen_answer(void *arg, int error)
{
    seen_t *seen = arg;
    seen->calls++;
    seen->error = error;
    return seen;
}

static void wait_for(fixture_t *f, const seen_t *seen)
{
    test_loop_run_until(&f->pool.loop, &seen->calls, 1);
    CHECK_EQ(seen->calls, 1);
}

static void copy_block(seen_t *seen, const store_block_t *block)
{
    seen->id = block->id;
    seen->recurring = block->recurring;
    seen->start = block->start;
    seen->end = block->end;
    seen->start_local = block->start_local;
    seen->duration = block->duration_minutes;
    seen->has_reason = block->reason != NULL;
    snprintf(seen->text, sizeof(seen->text), "%s", block->rrule ? block->rrule : "");
    seen->exdates = block->exdate_count;
    seen->first_exdate = block->exdate_count ? block->exdates[0] : -1;
}

static void on_block(int error, const store_block_t *block, const char *organization_timezone,
                     void *arg)
{
    seen_t *seen = seen_answer(arg, error);
    if (block) {
        copy_block(seen, block);
        snprintf(seen->zone, sizeof(seen->zone), "%s", organization_timezone);
    }
}

/* A listing: its size and zone, and its recurring block (else its last one). */
static void on_blocks(int error, const store_block_list_t *list, void *arg)
{
    seen_t *seen = seen_answer(arg, error);
    if (list == NULL)
        return;
    seen->count = list->count;
    snprintf(seen->zone, sizeof(seen->zone), "%s", list->timezone);
    for (size_t i = 0; i < list->count; i++)
        if (list->items[i].recurring || i + 1 == list->count)
            copy_block(seen, &list->items[i]);
}

static void on_done(int error, void *arg)
{
    seen_answer(arg, error);
}

static seen_t insert_block(fixture_t *f, const eng_id_t *org, const store_block_t *write)
{
    seen_t seen = {0};
    CHECK(store_blocks_insert(f->pool.pool, org, &f->resource, write, on_block, &seen) != NULL);
    wait_for(f, &seen);
    return seen;
}

static seen_t list_blocks(fixture_t *f, const eng_id_t *org, const eng_id_t *resource)
{
    seen_t seen = {0};
    CHECK(store_blocks_list(f->pool.pool, org, resource, TEN_UTC - 86400, TEN_UTC + 86400,
                            on_blocks, &seen) != NULL);
    wait_for(f, &seen);
    return seen;
}

TEST(typed_blocks_round_trip_one_off_and_recurring)
{
    fixture_t f;
    open_fixture(&f);
    store_block_t once = {.start = TEN_UTC, .end = TEN_UTC + 3600, .reason = "dentist"};
    seen_t created = insert_block(&f, &f.org, &once);
    CHECK_EQ(created.error, 0);
    CHECK(!created.recurring && created.has_reason && strcmp(created.zone, "Europe/Warsaw") == 0);
    CHECK(created.start == TEN_UTC && created.end == TEN_UTC + 3600);
    store_block_t far = {.start = TEN_UTC + 5 * 86400, .end = TEN_UTC + 5 * 86400 + 60};
    CHECK_EQ(insert_block(&f, &f.org, &far).error, 0);
    store_block_t daily = {.recurring = true,
                           .rrule = "FREQ=DAILY",
                           .start_local = TEN_UTC + 30,
                           .duration_minutes = 45};
    seen_t recurring = insert_block(&f, &f.org, &daily);
    CHECK_EQ(recurring.error, 0);
    CHECK(recurring.recurring && !recurring.has_reason &&
          strcmp(recurring.text, "FREQ=DAILY") == 0);
    CHECK(recurring.start_local == TEN_UTC + 30 && recurring.duration == 45);

    /* an exdate written elsewhere, with a fraction: wall seconds, the fraction dropped */
    test_db_exec(f.pool.db, "UPDATE blocks SET exdates = '{\"2026-03-28 10:00:30.75\"}' "
                            "WHERE rrule IS NOT NULL");
    seen_t listed = list_blocks(&f, &f.org, &f.resource);
    CHECK_EQ(listed.error, 0);
    CHECK_EQ(listed.count, 2); /* the recurring one and the one-off that overlaps */
    CHECK(strcmp(listed.zone, "Europe/Warsaw") == 0);
    CHECK(listed.recurring && listed.exdates == 1);
    CHECK_EQ(listed.first_exdate, TEN_UTC + 86400 + 30);

    /* another organization sees no such resource */
    CHECK_EQ(list_blocks(&f, &f.other, &f.resource).error, STORE_ENOTFOUND);
    CHECK_EQ(insert_block(&f, &f.other, &once).error, STORE_ENOTFOUND);

    seen_t deleted = {0}, again = {0}, foreign = {0};
    CHECK(store_blocks_delete(f.pool.pool, &f.other, &f.resource, &created.id, on_done, &foreign) !=
          NULL);
    wait_for(&f, &foreign);
    CHECK_EQ(foreign.error, STORE_ENOTFOUND);
    CHECK(store_blocks_delete(f.pool.pool, &f.org, &f.resource, &created.id, on_done, &deleted) !=
          NULL);
    wait_for(&f, &deleted);
    CHECK_EQ(deleted.error, 0);
    CHECK(store_blocks_delete(f.pool.pool, &f.org, &f.resource, &created.id, on_done, &again) !=
          NULL);
    wait_for(&f, &again);
    CHECK_EQ(again.error, STORE_ENOTFOUND);
    listed = list_blocks(&f, &f.org, &f.resource);
    CHECK(listed.error == 0 && listed.count == 1 && listed.recurring);
    close_fixture(&f);
}

TEST(typed_blocks_of_a_resource_without_any_or_of_none)
{
    fixture_t f;
    open_fixture(&f);
    seen_t listed = list_blocks(&f, &f.org, &f.resource);
    CHECK(listed.error == 0 && listed.count == 0);
    CHECK(strcmp(listed.zone, "Europe/Warsaw") == 0);
    CHECK_EQ(list_blocks(&f, &f.org, &f.unknown).error, STORE_ENOTFOUND);
    test_db_exec(f.pool.db, "UPDATE resources SET deleted_at = now()");
    CHECK_EQ(list_blocks(&f, &f.org, &f.resource).error, STORE_ENOTFOUND);
    store_block_t once = {.start = TEN_UTC, .end = TEN_UTC + 60};
    CHECK_EQ(insert_block(&f, &f.org, &once).error, STORE_ENOTFOUND);
    close_fixture(&f);
}

TEST(typed_blocks_cancelled_operation_never_calls_back)
{
    fixture_t f;
    open_fixture(&f);
    seen_t never = {0};
    store_operation_t *operation = store_blocks_list(f.pool.pool, &f.org, &f.resource, TEN_UTC,
                                                     TEN_UTC + 60, on_blocks, &never);
    CHECK(operation != NULL);
    store_operation_cancel(operation);
    seen_t later = list_blocks(&f, &f.org, &f.resource);
    CHECK_EQ(later.error, 0);
    CHECK_EQ(never.calls, 0);
    close_fixture(&f);
}

static void on_organization(int error, const store_organization_t *organization, void *arg)
{
    seen_t *seen = seen_answer(arg, error);
    if (organization == NULL)
        return;
    seen->id = organization->id;
    snprintf(seen->text, sizeof(seen->text), "%s", organization->name);
    snprintf(seen->zone, sizeof(seen->zone), "%s", organization->timezone);
    seen->has_hours = organization->has_business_hours;
    seen->start =
        organization->has_business_hours ? organization->business_hours.day[1].ranges[0].start : -1;
    seen->count = organization->closure_count;
    for (size_t i = 0; i < organization->closure_count && i < 4; i++)
        seen->closures[i] = organization->closures[i];
    seen->more = organization->retell_api_key_set;
}

static seen_t update_organization_with(fixture_t *f, const codec_secret_key_t *key,
                                       const eng_id_t *org, const store_organization_write_t *write)
{
    seen_t seen = {0};
    CHECK(store_organization_update(f->pool.pool, key, org, write, on_organization, &seen) != NULL);
    wait_for(f, &seen);
    return seen;
}

static seen_t update_organization(fixture_t *f, const eng_id_t *org,
                                  const store_organization_write_t *write)
{
    return update_organization_with(f, NULL, org, write);
}

static void on_retell_key(int error, const char *api_key, void *arg)
{
    seen_t *seen = seen_answer(arg, error);
    seen->has_reason = api_key != NULL;
    snprintf(seen->text, sizeof(seen->text), "%s", api_key ? api_key : "");
}

static seen_t retell_key(fixture_t *f, const codec_secret_key_t *key, const eng_id_t *org)
{
    seen_t seen = {0};
    CHECK(store_organization_retell_key(f->pool.pool, key, org, on_retell_key, &seen) != NULL);
    wait_for(f, &seen);
    return seen;
}

TEST(typed_organization_retell_key_is_sealed_and_opens_only_for_its_organization)
{
    fixture_t f;
    open_fixture(&f);
    codec_secret_key_t key, other_key;
    CHECK_EQ(codec_secret_key_parse("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", &key), 0);
    CHECK_EQ(codec_secret_key_parse("//////////////////////////////////////////8=", &other_key), 0);
    seen_t none = retell_key(&f, &key, &f.org);
    CHECK(none.error == 0 && !none.has_reason); /* none set: 0 and NULL */
    store_organization_write_t write = {.retell_api_key_set = true,
                                        .retell_api_key = "key_Sekrit-retell"};
    seen_t patched = update_organization_with(&f, &key, &f.org, &write);
    CHECK(patched.error == 0 && patched.more && strcmp(patched.text, "A") == 0);
    seen_t got = retell_key(&f, &key, &f.org);
    CHECK(got.error == 0 && got.has_reason && strcmp(got.text, "key_Sekrit-retell") == 0);
    /* at rest: sealed, never the key */
    CHECK(strncmp(test_db_value(f.pool.db, "SELECT retell_api_key_sealed::text FROM "
                                           "organizations WHERE id = '" ORG "'"),
                  "\\x01", 4) == 0); /* the version byte of codec/secret.h */
    CHECK(strcmp(test_db_value(f.pool.db,
                               "SELECT position(convert_to('Sekrit', 'UTF8') IN "
                               "retell_api_key_sealed) FROM organizations WHERE id = '" ORG "'"),
                 "0") == 0);
    /* another secret key, or the value copied to another organization: does not open */
    CHECK_EQ(retell_key(&f, &other_key, &f.org).error, STORE_EINTERNAL);
    test_db_exec(f.pool.db, "UPDATE organizations SET retell_api_key_sealed = (SELECT "
                            "retell_api_key_sealed FROM organizations WHERE id = '" ORG "') "
                            "WHERE id = '" OTHER "'");
    CHECK_EQ(retell_key(&f, &key, &f.other).error, STORE_EINTERNAL);
    CHECK_EQ(retell_key(&f, &key, &f.unknown).error, STORE_ENOTFOUND);
    /* a PATCH of other fields keeps it; null clears it */
    write = (store_organization_write_t){.name = "Clinic"};
    CHECK(update_organization(&f, &f.org, &write).more);
    write = (store_organization_write_t){.retell_api_key_set = true};
    patched = update_organization(&f, &f.org, &write);
    CHECK(patched.error == 0 && !patched.more);
    got = retell_key(&f, &key, &f.org);
    CHECK(got.error == 0 && !got.has_reason);
    close_fixture(&f);
}

TEST(typed_organization_reads_and_changes_only_what_is_set)
{
    fixture_t f;
    open_fixture(&f);
    seen_t got = {0};
    CHECK(store_organization_get(f.pool.pool, &f.org, on_organization, &got) != NULL);
    wait_for(&f, &got);
    CHECK(got.error == 0 && memcmp(&got.id, &f.org, sizeof(got.id)) == 0);
    CHECK(strcmp(got.text, "A") == 0 && strcmp(got.zone, "Europe/Warsaw") == 0);
    CHECK(!got.has_hours && got.count == 0);

    eng_week_t week = {0};
    week.day[1].count = 1;
    week.day[1].ranges[0] = (eng_hours_range_t){8 * 60, 12 * 60};
    int32_t closures[2] = {test_day("2026-12-25"), test_day("2026-12-24")};
    store_organization_write_t write = {.name = "Clinic",
                                        .business_hours_set = true,
                                        .business_hours = &week,
                                        .closures_set = true,
                                        .closures = closures,
                                        .closure_count = 2};
    seen_t patched = update_organization(&f, &f.org, &write);
    CHECK(patched.error == 0 && strcmp(patched.text, "Clinic") == 0);
    CHECK(strcmp(patched.zone, "Europe/Warsaw") == 0 && patched.has_hours);
    CHECK_EQ(patched.start, 8 * 60);
    CHECK(patched.count == 2 && patched.closures[0] == closures[0]); /* in the order given */

    /* hours cleared; the zone changed; name and closures kept */
    write = (store_organization_write_t){.timezone = "UTC", .business_hours_set = true};
    patched = update_organization(&f, &f.org, &write);
    CHECK(patched.error == 0 && !patched.has_hours && strcmp(patched.text, "Clinic") == 0);
    CHECK(strcmp(patched.zone, "UTC") == 0 && patched.count == 2);

    CHECK_EQ(update_organization(&f, &f.unknown, &write).error, STORE_ENOTFOUND);
    test_db_exec(f.pool.db, "UPDATE organizations SET deleted_at = now() WHERE id = '" OTHER "'");
    seen_t gone = {0};
    CHECK(store_organization_get(f.pool.pool, &f.other, on_organization, &gone) != NULL);
    wait_for(&f, &gone);
    CHECK_EQ(gone.error, STORE_ENOTFOUND);

    /* hours another program wrote, which are not a WEEK: refused whole */
    test_db_exec(f.pool.db, "UPDATE organizations SET business_hours = '{\"mon\":\"all day\"}' "
                            "WHERE id = '" ORG "'");
    seen_t unreadable = {0};
    CHECK(store_organization_get(f.pool.pool, &f.org, on_organization, &unreadable) != NULL);
    wait_for(&f, &unreadable);
    CHECK_EQ(unreadable.error, STORE_EINTERNAL);
    close_fixture(&f);
}

static void copy_key(seen_t *seen, const store_api_key_t *key)
{
    seen->id = key->id;
    snprintf(seen->text, sizeof(seen->text), "%s", key->role);
    snprintf(seen->prefix, sizeof(seen->prefix), "%s", key->prefix ? key->prefix : "");
    seen->has_reason = key->name != NULL;
    seen->created_at = key->created_at;
}

static void on_key(int error, const store_api_key_t *key, void *arg)
{
    seen_t *seen = seen_answer(arg, error);
    if (key)
        copy_key(seen, key);
}

static void on_keys(int error, const store_api_key_t *items, size_t count, bool more, void *arg)
{
    seen_t *seen = seen_answer(arg, error);
    seen->count = count;
    seen->more = more;
    if (count)
        copy_key(seen, &items[count - 1]);
}

static seen_t insert_key(fixture_t *f, const eng_id_t *org, const char *role, const char *name,
                         char *key)
{
    seen_t seen = {0};
    store_key_generate(org, key);
    CHECK(store_keys_insert(f->pool.pool, org, key, role, name, on_key, &seen) != NULL);
    wait_for(f, &seen);
    return seen;
}

static int revoke_key(fixture_t *f, const eng_id_t *id)
{
    seen_t seen = {0};
    CHECK(store_keys_revoke(f->pool.pool, &f->org, id, on_done, &seen) != NULL);
    wait_for(f, &seen);
    return seen.error;
}

TEST(typed_keys_store_hashes_page_and_keep_the_last_admin)
{
    fixture_t f;
    open_fixture(&f);
    char key[STORE_KEY_LENGTH + 1], agent_key[STORE_KEY_LENGTH + 1];
    seen_t admin = insert_key(&f, &f.org, "admin", NULL, key);
    CHECK(admin.error == 0 && strcmp(admin.text, "admin") == 0 && !admin.has_reason);
    CHECK(strlen(admin.prefix) == STORE_KEY_PREFIX_LENGTH &&
          strncmp(admin.prefix, key, STORE_KEY_PREFIX_LENGTH) == 0);
    /* only the hash is stored, and it is the key's */
    PGresult *res = PQexec(f.pool.db, "SELECT encode(key_hash, 'hex') FROM api_keys");
    uint8_t hash[STORE_KEY_HASH_LENGTH];
    char hash_text[2 + 2 * STORE_KEY_HASH_LENGTH + 1];
    store_key_hash(key, strlen(key), hash);
    store_key_hash_text(hash, hash_text);
    CHECK(PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), hash_text + 2) == 0);
    PQclear(res);
    seen_t agent = insert_key(&f, &f.org, "agent", "front desk", agent_key);
    CHECK(agent.error == 0 && agent.has_reason);
    CHECK_EQ(insert_key(&f, &f.unknown, "agent", NULL, key).error, STORE_ENOTFOUND);

    /* a key's instant is never rounded up */
    test_db_exec(f.pool.db, "UPDATE api_keys SET created_at = '2026-03-27 10:00:00.9+00'");
    seen_t got = {0};
    CHECK(store_keys_get(f.pool.pool, &f.org, &agent.id, on_key, &got) != NULL);
    wait_for(&f, &got);
    CHECK(got.error == 0 && strcmp(got.text, "agent") == 0);
    CHECK_EQ(got.created_at, TEN_UTC);
    seen_t foreign = {0};
    CHECK(store_keys_get(f.pool.pool, &f.other, &agent.id, on_key, &foreign) != NULL);
    wait_for(&f, &foreign);
    CHECK_EQ(foreign.error, STORE_ENOTFOUND);

    seen_t page = {0}, rest = {0};
    CHECK(store_keys_list(f.pool.pool, &f.org, NULL, 1, on_keys, &page) != NULL);
    wait_for(&f, &page);
    CHECK(page.error == 0 && page.count == 1 && page.more);
    CHECK(store_keys_list(f.pool.pool, &f.org, &page.id, 1, on_keys, &rest) != NULL);
    wait_for(&f, &rest);
    CHECK(rest.error == 0 && rest.count == 1 && !rest.more);
    CHECK(memcmp(&rest.id, &page.id, sizeof(rest.id)) != 0);

    CHECK_EQ(revoke_key(&f, &admin.id), STORE_ECONFLICT); /* the last admin key */
    CHECK_EQ(revoke_key(&f, &agent.id), 0);
    CHECK_EQ(revoke_key(&f, &agent.id), STORE_ENOTFOUND);
    CHECK_EQ(revoke_key(&f, &f.unknown), STORE_ENOTFOUND);
    close_fixture(&f);
}
