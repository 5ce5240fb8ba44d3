/*
 * The typed store for services against a real PostgreSQL and a real loop:
 * structs in, structs out (the price in cents, the requirement groups as
 * lists of ids), organizations kept apart, a write naming a resource that is
 * not live refused whole with its place (also when the resource is deleted
 * while the write runs), pages in id order, rows the service cannot read
 * refused whole, and one cancel path after which the callback never runs.
 */
#include <string.h>

#include "db.h"
#include "loop.h"
#include "pool_fixture.h"
#include "slotd/codec.h"
#include "store/services.h"
#include "test.h"

#define ORG "00000000-0000-0000-0000-0000000000a1"
#define OTHER "00000000-0000-0000-0000-0000000000a2"
#define ANNA "00000000-0000-0000-0000-0000000000b1"
#define ROOM "00000000-0000-0000-0000-0000000000b2"
#define GONE "00000000-0000-0000-0000-0000000000b3"
#define FOREIGN "00000000-0000-0000-0000-0000000000b4"

typedef struct {
    pool_fixture_t pool;
    eng_id_t org, other, anna, room, gone, foreign;
} fixture_t;

/* What a callback saw, copied out of the structs (valid only during the call). */
typedef struct {
    int calls, error, group, member;
    eng_id_t id;
    char name[256], currency[8];
    int32_t duration, buffer_after, slot_interval;
    bool has_slot_interval, has_max_advance, has_price, active;
    int64_t price_cents;
    size_t groups, first_count, count;
    bool first_all, last_all, more;
    eng_id_t first_member;
} seen_t;

static void open_fixture(fixture_t *f)
{
    pool_fixture_open_migrated(&f->pool);
    test_db_exec(f->pool.db, "INSERT INTO organizations (id, name, timezone) VALUES "
                             "('" ORG "', 'A', 'Europe/Warsaw'), ('" OTHER "', 'B', 'UTC');"
                             "INSERT INTO resources (organization_id, id, kind, name) VALUES "
                             "('" ORG "', '" ANNA "', 'staff', 'Anna'),"
                             "('" ORG "', '" ROOM "', 'room', 'Room 1'),"
                             "('" ORG "', '" GONE "', 'staff', 'Gone'),"
                             "('" OTHER "', '" FOREIGN "', 'staff', 'Elsewhere');"
                             "UPDATE resources SET deleted_at = now() WHERE id = '" GONE "'");
    codec_parse_uuid(ORG, &f->org);
    codec_parse_uuid(OTHER, &f->other);
    codec_parse_uuid(ANNA, &f->anna);
    codec_parse_uuid(ROOM, &f->room);
    codec_parse_uuid(GONE, &f->gone);
    codec_parse_uuid(FOREIGN, &f->foreign);
}

static void see_service(seen_t *seen, const store_service_t *service)
{
    const store_service_settings_t *s = &service->settings;
    seen->id = service->id;
    snprintf(seen->name, sizeof(seen->name), "%s", s->name);
    snprintf(seen->currency, sizeof(seen->currency), "%s", s->currency ? s->currency : "");
    seen->duration = s->duration_minutes;
    seen->buffer_after = s->buffer_after_minutes;
    seen->has_slot_interval = s->has_slot_interval;
    seen->slot_interval = s->slot_interval_minutes;
    seen->has_max_advance = s->has_max_advance;
    seen->has_price = s->has_price;
    seen->price_cents = s->price_cents;
    seen->active = s->active;
    seen->groups = s->requirement_count;
    if (s->requirement_count) {
        seen->first_count = s->requirements[0].resource_count;
        seen->first_all = s->requirements[0].all;
        seen->first_member = s->requirements[0].resource_ids[0];
        seen->last_all = s->requirements[s->requirement_count - 1].all;
    }
}

static void on_service(int error, const store_service_t *service, void *arg)
{
    seen_t *seen = arg;
    seen->calls++;
    seen->error = error;
    if (service)
        see_service(seen, service);
}

static void on_written(int error, const store_service_t *service, int group, int member, void *arg)
{
    seen_t *seen = arg;
    on_service(error, service, arg);
    seen->group = group;
    seen->member = member;
}

static void on_services(int error, const store_service_t *items, size_t count, bool more, void *arg)
{
    seen_t *seen = arg;
    seen->calls++;
    seen->error = error;
    seen->count = count;
    seen->more = more;
    if (count)
        see_service(seen, &items[count - 1]);
}

static void on_deleted(int error, const eng_id_t *id, void *arg)
{
    seen_t *seen = arg;
    seen->calls++;
    seen->error = error;
    if (id)
        seen->id = *id;
}

static void wait_for(fixture_t *f, const seen_t *seen)
{
    test_loop_run_until(&f->pool.loop, &seen->calls, 1);
    CHECK_EQ(seen->calls, 1);
}

static int count_rows(fixture_t *f, const char *table)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
    return atoi(test_db_value(f->pool.db, sql));
}

/* A service `name` of 45 minutes needing `groups`, 180.00 PLN, buffers 0 and 10, active. */
static store_service_write_t new_service(const char *name, const store_requirement_t *groups,
                                         size_t count)
{
    return (store_service_write_t){.settings = {.name = name,
                                                .duration_minutes = 45,
                                                .buffer_after_minutes = 10,
                                                .has_price = true,
                                                .price_cents = 18000,
                                                .currency = "PLN",
                                                .active = true,
                                                .requirements = groups,
                                                .requirement_count = count},
                                   .duration_set = true,
                                   .buffer_before_set = true,
                                   .buffer_after_set = true,
                                   .min_notice_set = true,
                                   .requirements_set = true};
}

/* Inserts new_service("Cleaning", ...); returns what the insert answered. */
static seen_t insert(fixture_t *f, const store_requirement_t *groups, size_t count)
{
    store_service_write_t write = new_service("Cleaning", groups, count);
    seen_t seen = {0};
    CHECK(store_services_insert(f->pool.pool, &f->org, &write, on_written, &seen) != NULL);
    wait_for(f, &seen);
    return seen;
}

TEST(typed_services_round_trip_structs_within_one_organization)
{
    fixture_t f;
    open_fixture(&f);
    eng_id_t both[2] = {f.anna, f.room};
    store_requirement_t groups[2] = {{.all = false, .resource_ids = both, .resource_count = 2},
                                     {.all = true, .resource_ids = &f.room, .resource_count = 1}};
    seen_t created = insert(&f, groups, 2);
    CHECK_EQ(created.error, 0);
    CHECK(strcmp(created.name, "Cleaning") == 0 && created.duration == 45);
    CHECK(created.has_price && created.price_cents == 18000);
    CHECK(strcmp(created.currency, "PLN") == 0 && created.buffer_after == 10);
    CHECK(!created.has_slot_interval && !created.has_max_advance && created.active);
    CHECK_EQ(created.groups, 2);
    CHECK(created.first_count == 2 && !created.first_all && created.last_all);
    CHECK(memcmp(&created.first_member, &f.anna, sizeof(eng_id_t)) == 0);

    seen_t got = {0};
    CHECK(store_services_get(f.pool.pool, &f.org, &created.id, on_service, &got) != NULL);
    wait_for(&f, &got);
    CHECK_EQ(got.error, 0);
    CHECK(got.groups == 2 && got.first_count == 2 && got.last_all);
    CHECK_EQ(got.price_cents, 18000);

    seen_t foreign = {0};
    CHECK(store_services_get(f.pool.pool, &f.other, &created.id, on_service, &foreign) != NULL);
    wait_for(&f, &foreign);
    CHECK_EQ(foreign.error, STORE_ENOTFOUND);

    /* a PATCH changes only what it sets: an interval, the price cleared, one group */
    store_service_write_t patch = {.settings = {.has_slot_interval = true,
                                                .slot_interval_minutes = 15,
                                                .requirements = &groups[1],
                                                .requirement_count = 1},
                                   .slot_interval_set = true,
                                   .price_set = true,
                                   .requirements_set = true};
    seen_t patched = {0};
    CHECK(store_services_update(f.pool.pool, &f.org, &created.id, &patch, on_written, &patched) !=
          NULL);
    wait_for(&f, &patched);
    CHECK_EQ(patched.error, 0);
    CHECK(patched.has_slot_interval && patched.slot_interval == 15 && !patched.has_price);
    CHECK(strcmp(patched.name, "Cleaning") == 0 && strcmp(patched.currency, "PLN") == 0);
    CHECK(patched.groups == 1 && patched.first_all);
    CHECK_EQ(count_rows(&f, "service_requirements"), 1);

    /* a PATCH that leaves the groups alone answers them as they are */
    seen_t renamed = {0};
    store_service_write_t rename = {.settings = {.name = "Polishing"}};
    CHECK(store_services_update(f.pool.pool, &f.org, &created.id, &rename, on_written, &renamed) !=
          NULL);
    wait_for(&f, &renamed);
    CHECK(renamed.error == 0 && strcmp(renamed.name, "Polishing") == 0 && renamed.groups == 1);

    seen_t deleted = {0}, again = {0}, after = {0};
    CHECK(store_services_delete(f.pool.pool, &f.org, &created.id, on_deleted, &deleted) != NULL);
    wait_for(&f, &deleted);
    CHECK_EQ(deleted.error, 0);
    CHECK(memcmp(&deleted.id, &created.id, sizeof(eng_id_t)) == 0);
    CHECK(store_services_delete(f.pool.pool, &f.org, &created.id, on_deleted, &again) != NULL);
    wait_for(&f, &again);
    CHECK_EQ(again.error, STORE_ENOTFOUND);
    CHECK(store_services_get(f.pool.pool, &f.org, &created.id, on_service, &after) != NULL);
    wait_for(&f, &after);
    CHECK_EQ(after.error, STORE_ENOTFOUND);
    pool_fixture_close(&f.pool);
}

TEST(typed_services_refuse_a_resource_that_is_not_live_naming_its_place_and_write_nothing)
{
    fixture_t f;
    open_fixture(&f);
    /* deleted, or another organization's: the first such id, in the order given */
    eng_id_t first[1] = {f.anna}, second[3] = {f.room, f.gone, f.foreign};
    store_requirement_t groups[2] = {{.resource_ids = first, .resource_count = 1},
                                     {.resource_ids = second, .resource_count = 3}};
    seen_t refused = insert(&f, groups, 2);
    CHECK_EQ(refused.error, STORE_EREFERENCE);
    CHECK(refused.group == 1 && refused.member == 1);
    CHECK_EQ(count_rows(&f, "services"), 0);
    CHECK_EQ(count_rows(&f, "service_requirements"), 0);
    second[1] = f.anna;
    refused = insert(&f, groups, 2);
    CHECK(refused.error == STORE_EREFERENCE && refused.group == 1 && refused.member == 2);

    /* a PATCH is refused the same way and changes nothing, even its other fields */
    seen_t created = insert(&f, groups, 1);
    CHECK_EQ(created.error, 0);
    store_service_write_t patch = {
        .settings = {.name = "Renamed", .requirements = &groups[1], .requirement_count = 1},
        .requirements_set = true};
    seen_t patched = {0};
    CHECK(store_services_update(f.pool.pool, &f.org, &created.id, &patch, on_written, &patched) !=
          NULL);
    wait_for(&f, &patched);
    CHECK(patched.error == STORE_EREFERENCE && patched.group == 0 && patched.member == 2);
    CHECK(strcmp(test_db_value(f.pool.db, "SELECT name FROM services"), "Cleaning") == 0);

    /* a missing service with live resources is not found */
    eng_id_t unknown;
    codec_parse_uuid("00000000-0000-0000-0000-0000000000ff", &unknown);
    seen_t missing = {0};
    patch.settings.requirements = &groups[0];
    CHECK(store_services_update(f.pool.pool, &f.org, &unknown, &patch, on_written, &missing) !=
          NULL);
    wait_for(&f, &missing);
    CHECK(missing.error == STORE_ENOTFOUND && missing.group == -1);
    pool_fixture_close(&f.pool);
}

/* The check and the write are one statement; a resource deleted by a transaction that
 * commits while the write runs is caught by the database's trigger: refused, nothing written,
 * no place (the statement's own check saw the resource live). */
TEST(typed_services_refuse_a_resource_deleted_while_the_write_runs)
{
    fixture_t f;
    open_fixture(&f);
    char conninfo[512];
    PGconn *db = f.pool.db;
    snprintf(conninfo, sizeof(conninfo), "host=%s port=%s dbname=%s user=%s", PQhost(db),
             PQport(db), PQdb(db), PQuser(db));
    PGconn *deleter = PQconnectdb(conninfo);
    CHECK(PQstatus(deleter) == CONNECTION_OK);
    test_db_exec(deleter, "BEGIN; UPDATE resources SET deleted_at = now() WHERE id = '" ANNA "'");
    store_requirement_t group = {.resource_ids = &f.anna, .resource_count = 1};
    store_service_write_t write = new_service("Cleaning", &group, 1);
    seen_t seen = {0};
    CHECK(store_services_insert(f.pool.pool, &f.org, &write, on_written, &seen) != NULL);
    /* the write reaches the server and waits on the deletion's lock */
    bool waiting = false;
    for (int i = 0; i < 200 && !waiting; i++) {
        test_loop_run_for(&f.pool.loop, 25);
        waiting = strcmp(test_db_value(db, "SELECT count(*) FROM pg_stat_activity "
                                           "WHERE datname = current_database() "
                                           "AND wait_event_type = 'Lock'"),
                         "1") == 0;
    }
    CHECK(waiting);
    CHECK_EQ(seen.calls, 0);
    test_db_exec(deleter, "COMMIT");
    wait_for(&f, &seen);
    CHECK(seen.error == STORE_EREFERENCE && seen.group == -1 && seen.member == -1);
    CHECK_EQ(count_rows(&f, "services"), 0);
    PQfinish(deleter);
    pool_fixture_close(&f.pool);
}

TEST(typed_services_list_pages_in_id_order)
{
    fixture_t f;
    open_fixture(&f);
    store_requirement_t group = {.resource_ids = &f.anna, .resource_count = 1};
    for (int i = 0; i < 3; i++)
        CHECK_EQ(insert(&f, &group, 1).error, 0);
    seen_t first = {0};
    CHECK(store_services_list(f.pool.pool, &f.org, NULL, 2, on_services, &first) != NULL);
    wait_for(&f, &first);
    CHECK(first.error == 0 && first.count == 2 && first.more);
    CHECK_EQ(first.groups, 1);
    seen_t rest = {0};
    CHECK(store_services_list(f.pool.pool, &f.org, &first.id, 2, on_services, &rest) != NULL);
    wait_for(&f, &rest);
    CHECK(rest.error == 0 && rest.count == 1 && !rest.more);
    CHECK(memcmp(&rest.id, &first.id, sizeof(eng_id_t)) > 0); /* after the cursor */
    seen_t none = {0};
    CHECK(store_services_list(f.pool.pool, &f.other, NULL, 2, on_services, &none) != NULL);
    wait_for(&f, &none);
    CHECK(none.error == 0 && none.count == 0 && !none.more);
    pool_fixture_close(&f.pool);
}

/* Another program wrote groups the service cannot read: the row is refused whole. */
TEST(typed_services_refuse_rows_whose_groups_cannot_be_read)
{
    fixture_t f;
    open_fixture(&f);
    store_requirement_t group = {.resource_ids = &f.anna, .resource_count = 1};
    seen_t created = insert(&f, &group, 1);
    CHECK_EQ(created.error, 0);
    /* a null among the ids (the trigger counts only the ids that are there) */
    test_db_exec(f.pool.db, "UPDATE service_requirements "
                            "SET resource_ids = array_append(resource_ids, NULL)");
    seen_t null_member = {0};
    CHECK(store_services_get(f.pool.pool, &f.org, &created.id, on_service, &null_member) != NULL);
    wait_for(&f, &null_member);
    CHECK_EQ(null_member.error, STORE_EINTERNAL);
    /* a group without a mode */
    test_db_exec(f.pool.db,
                 "UPDATE service_requirements SET resource_ids = ARRAY['" ANNA "']::uuid[];"
                 "ALTER TABLE service_requirements ALTER COLUMN mode DROP NOT NULL;"
                 "UPDATE service_requirements SET mode = NULL");
    seen_t unreadable = {0}, page = {0};
    CHECK(store_services_get(f.pool.pool, &f.org, &created.id, on_service, &unreadable) != NULL);
    wait_for(&f, &unreadable);
    CHECK_EQ(unreadable.error, STORE_EINTERNAL);
    CHECK(store_services_list(f.pool.pool, &f.org, NULL, 10, on_services, &page) != NULL);
    wait_for(&f, &page);
    CHECK(page.error == STORE_EINTERNAL && page.count == 0);
    pool_fixture_close(&f.pool);
}

TEST(typed_services_cancelled_operation_never_calls_back)
{
    fixture_t f;
    open_fixture(&f);
    store_requirement_t group = {.resource_ids = &f.anna, .resource_count = 1};
    store_service_write_t write = new_service("Never", &group, 1);
    seen_t seen = {0};
    store_operation_t *operation =
        store_services_insert(f.pool.pool, &f.org, &write, on_written, &seen);
    CHECK(operation != NULL);
    store_operation_cancel(operation);
    seen_t later = insert(&f, &group, 1);
    CHECK_EQ(later.error, 0);
    CHECK_EQ(seen.calls, 0);
    pool_fixture_close(&f.pool);
}
