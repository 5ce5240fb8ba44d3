/*
 * The typed store for resources and their date overrides against a real
 * PostgreSQL and a real loop: structs in, structs out, organizations kept
 * apart, a missing resource told from a missing location, overrides paged by
 * date, rows the service cannot read refused whole, and one cancel path after
 * which the callback never runs.
 */
#include <string.h>

#include "db.h"
#include "loop.h"
#include "pool_fixture.h"
#include "slotd/codec.h"
#include "slotd/tz.h"
#include "store/resources.h"
#include "test.h"

#define ORG "00000000-0000-0000-0000-0000000000a1"
#define OTHER "00000000-0000-0000-0000-0000000000a2"
#define LOCATION "00000000-0000-0000-0000-0000000000c1"
#define GONE_LOCATION "00000000-0000-0000-0000-0000000000c2"
#define UNKNOWN "00000000-0000-0000-0000-0000000000ff"

/* Working hours with every day closed. */
static const eng_week_t closed_week;

typedef struct {
    pool_fixture_t pool;
    eng_id_t org, other, location, gone_location, unknown;
} fixture_t;

/* What a callback saw, copied out of the structs (valid only during the call). */
typedef struct {
    int calls, error;
    eng_id_t id;
    char kind[16], name[256], timezone[64];
    bool has_location, has_email, active, created;
    eng_id_t location;
    uint16_t monday_start;
    size_t count;
    bool more;
    int32_t days[8];
    int first_ranges;
} seen_t;

static void open_fixture(fixture_t *f)
{
    pool_fixture_open_migrated(&f->pool);
    test_db_exec(f->pool.db,
                 "INSERT INTO organizations (id, name, timezone) VALUES "
                 "('" ORG "', 'A', 'Europe/Warsaw'), ('" OTHER "', 'B', 'UTC');"
                 "INSERT INTO locations (organization_id, id, name, timezone) VALUES "
                 "('" ORG "', '" LOCATION "', 'North', 'Europe/London'),"
                 "('" ORG "', '" GONE_LOCATION "', 'Closed', NULL);"
                 "UPDATE locations SET deleted_at = now() WHERE id = '" GONE_LOCATION "'");
    codec_parse_uuid(ORG, &f->org);
    codec_parse_uuid(OTHER, &f->other);
    codec_parse_uuid(LOCATION, &f->location);
    codec_parse_uuid(GONE_LOCATION, &f->gone_location);
    codec_parse_uuid(UNKNOWN, &f->unknown);
}

/* Counts an answer of any kind: its error, and for a page its size. */
static seen_t *seen_answer(void *arg, int error, size_t count, bool more)
{
    seen_t *seen = arg;
    seen->calls++;
    seen->error = error;
    seen->count = count;
    seen->more = more;
    return seen;
}

static void on_resource(int error, const store_resource_t *resource, void *arg)
{
    seen_t *seen = seen_answer(arg, error, 0, false);
    if (resource) {
        seen->id = resource->id;
        snprintf(seen->kind, sizeof(seen->kind), "%s", resource->kind);
        snprintf(seen->name, sizeof(seen->name), "%s", resource->name);
        snprintf(seen->timezone, sizeof(seen->timezone), "%s", resource->timezone);
        seen->has_location = resource->has_location;
        seen->location = resource->location_id;
        seen->has_email = resource->email != NULL;
        seen->active = resource->active;
        seen->monday_start = resource->working_hours.day[0].ranges[0].start;
    }
}

static void on_resources(int error, const store_resource_t *items, size_t count, bool more,
                         void *arg)
{
    seen_t *seen = seen_answer(arg, error, count, more);
    if (count)
        seen->id = items[count - 1].id;
}

static void on_done(int error, void *arg)
{
    seen_answer(arg, error, 0, false);
}

static void on_override(int error, const store_override_t *override, bool created, void *arg)
{
    seen_t *seen = seen_answer(arg, error, 0, false);
    seen->created = created;
    if (override) {
        seen->days[0] = override->day;
        seen->first_ranges = override->hours.count;
    }
}

static void on_overrides(int error, const store_override_t *items, size_t count, bool more,
                         void *arg)
{
    seen_t *seen = seen_answer(arg, error, count, more);
    for (size_t i = 0; i < count && i < 8; i++)
        seen->days[i] = items[i].day;
    seen->first_ranges = count ? items[0].hours.count : -1;
}

static void wait_for(fixture_t *f, const seen_t *seen)
{
    test_loop_run_until(&f->pool.loop, &seen->calls, 1);
    CHECK_EQ(seen->calls, 1);
}

/* A resource of the organization with Monday 09:00-17:00; returns its id. */
static eng_id_t create(fixture_t *f, const store_resource_write_t *extra)
{
    eng_week_t week = {0};
    week.day[0].count = 1;
    week.day[0].ranges[0] = (eng_hours_range_t){9 * 60, 17 * 60};
    store_resource_write_t write = extra ? *extra : (store_resource_write_t){0};
    write.kind = write.kind ? write.kind : "staff";
    write.name = write.name ? write.name : "Anna";
    write.working_hours = &week;
    seen_t seen = {0};
    CHECK(store_resources_insert(f->pool.pool, &f->org, &write, on_resource, &seen) != NULL);
    wait_for(f, &seen);
    CHECK_EQ(seen.error, 0);
    return seen.id;
}

TEST(typed_resources_round_trip_structs_within_one_organization)
{
    fixture_t f;
    open_fixture(&f);
    store_resource_write_t with_location = {.kind = "room", .location_id = &f.location};
    eng_id_t room = create(&f, &with_location);

    seen_t got = {0};
    CHECK(store_resources_get(f.pool.pool, &f.org, &room, on_resource, &got) != NULL);
    wait_for(&f, &got);
    CHECK_EQ(got.error, 0);
    CHECK(strcmp(got.kind, "room") == 0 && strcmp(got.name, "Anna") == 0);
    CHECK(got.has_location && memcmp(&got.location, &f.location, sizeof(got.location)) == 0);
    CHECK(strcmp(got.timezone, "Europe/London") == 0); /* its location's zone */
    CHECK(got.active && !got.has_email);               /* active unless told otherwise */
    CHECK_EQ(got.monday_start, 9 * 60);

    seen_t foreign = {0};
    CHECK(store_resources_get(f.pool.pool, &f.other, &room, on_resource, &foreign) != NULL);
    wait_for(&f, &foreign);
    CHECK_EQ(foreign.error, STORE_ENOTFOUND);

    /* a PATCH changes only what it sets: the location cleared, an email, inactive */
    store_resource_write_t patch = {.location_set = true,
                                    .email_set = true,
                                    .email = "anna@example.com",
                                    .active_set = true,
                                    .active = false};
    seen_t patched = {0};
    CHECK(store_resources_update(f.pool.pool, &f.org, &room, &patch, on_resource, &patched) !=
          NULL);
    wait_for(&f, &patched);
    CHECK_EQ(patched.error, 0);
    CHECK(!patched.has_location && patched.has_email && !patched.active);
    CHECK(strcmp(patched.kind, "room") == 0 && patched.monday_start == 9 * 60);
    CHECK(strcmp(patched.timezone, "Europe/Warsaw") == 0); /* now the organization's */

    seen_t deleted = {0}, again = {0}, after = {0};
    CHECK(store_resources_delete(f.pool.pool, &f.org, &room, on_done, &deleted) != NULL);
    wait_for(&f, &deleted);
    CHECK_EQ(deleted.error, 0);
    CHECK(store_resources_delete(f.pool.pool, &f.org, &room, on_done, &again) != NULL);
    wait_for(&f, &again);
    CHECK_EQ(again.error, STORE_ENOTFOUND);
    CHECK(store_resources_get(f.pool.pool, &f.org, &room, on_resource, &after) != NULL);
    wait_for(&f, &after);
    CHECK_EQ(after.error, STORE_ENOTFOUND);
    pool_fixture_close(&f.pool);
}

TEST(typed_resources_list_pages_in_id_order)
{
    fixture_t f;
    open_fixture(&f);
    for (int i = 0; i < 3; i++)
        create(&f, NULL);
    seen_t first = {0};
    CHECK(store_resources_list(f.pool.pool, &f.org, NULL, 2, on_resources, &first) != NULL);
    wait_for(&f, &first);
    CHECK(first.error == 0 && first.count == 2 && first.more);
    seen_t second = {0};
    CHECK(store_resources_list(f.pool.pool, &f.org, &first.id, 2, on_resources, &second) != NULL);
    wait_for(&f, &second);
    CHECK(second.error == 0 && second.count == 1 && !second.more);
    seen_t foreign = {0};
    CHECK(store_resources_list(f.pool.pool, &f.other, NULL, 10, on_resources, &foreign) != NULL);
    wait_for(&f, &foreign);
    CHECK(foreign.error == 0 && foreign.count == 0 && !foreign.more);
    pool_fixture_close(&f.pool);
}

TEST(typed_resources_tell_a_missing_resource_from_a_missing_location)
{
    fixture_t f;
    open_fixture(&f);
    /* an insert naming a deleted, an unknown or another organization's location stores nothing */
    const eng_id_t *refused[2] = {&f.gone_location, &f.unknown};
    for (int i = 0; i < 2; i++) {
        store_resource_write_t write = {
            .kind = "staff", .name = "X", .working_hours = &closed_week, .location_id = refused[i]};
        seen_t seen = {0};
        CHECK(store_resources_insert(f.pool.pool, &f.org, &write, on_resource, &seen) != NULL);
        wait_for(&f, &seen);
        CHECK_EQ(seen.error, STORE_EREFERENCE);
    }
    seen_t foreign = {0};
    store_resource_write_t foreign_write = {
        .kind = "staff", .name = "X", .working_hours = &closed_week, .location_id = &f.location};
    CHECK(store_resources_insert(f.pool.pool, &f.other, &foreign_write, on_resource, &foreign) !=
          NULL);
    wait_for(&f, &foreign);
    CHECK_EQ(foreign.error, STORE_EREFERENCE);
    CHECK(strcmp(test_db_value(f.pool.db, "SELECT count(*) FROM resources"), "0") == 0);

    eng_id_t anna = create(&f, NULL);
    store_resource_write_t move = {
        .name = "Moved", .location_set = true, .location_id = &f.gone_location};
    seen_t moved = {0};
    CHECK(store_resources_update(f.pool.pool, &f.org, &anna, &move, on_resource, &moved) != NULL);
    wait_for(&f, &moved);
    CHECK_EQ(moved.error, STORE_EREFERENCE);
    CHECK(strcmp(test_db_value(f.pool.db, "SELECT name FROM resources"), "Anna") == 0);

    /* a missing resource is missing, whatever location the PATCH names */
    seen_t missing = {0};
    CHECK(store_resources_update(f.pool.pool, &f.org, &f.unknown, &move, on_resource, &missing) !=
          NULL);
    wait_for(&f, &missing);
    CHECK_EQ(missing.error, STORE_ENOTFOUND);
    seen_t other = {0};
    CHECK(store_resources_update(f.pool.pool, &f.other, &anna, &(store_resource_write_t){0},
                                 on_resource, &other) != NULL);
    wait_for(&f, &other);
    CHECK_EQ(other.error, STORE_ENOTFOUND);
    pool_fixture_close(&f.pool);
}

TEST(typed_overrides_put_replace_page_by_date_and_delete)
{
    fixture_t f;
    open_fixture(&f);
    eng_id_t anna = create(&f, NULL);
    const char *dates[3] = {"2026-04-02", "2026-03-28", "2026-03-30"};
    eng_day_hours_t hours = {.count = 1, .ranges = {{10 * 60, 14 * 60}}};
    for (int i = 0; i < 3; i++) {
        seen_t put = {0};
        CHECK(store_overrides_put(f.pool.pool, &f.org, &anna, test_day(dates[i]), &hours,
                                  on_override, &put) != NULL);
        wait_for(&f, &put);
        CHECK(put.error == 0 && put.created && put.days[0] == test_day(dates[i]));
        CHECK_EQ(put.first_ranges, 1);
    }
    seen_t replaced = {0};
    CHECK(store_overrides_put(f.pool.pool, &f.org, &anna, test_day("2026-03-28"),
                              &(eng_day_hours_t){0}, on_override, &replaced) != NULL);
    wait_for(&f, &replaced);
    CHECK(replaced.error == 0 && !replaced.created && replaced.first_ranges == 0);

    seen_t page = {0};
    CHECK(store_overrides_list(f.pool.pool, &f.org, &anna, NULL, NULL, NULL, 2, on_overrides,
                               &page) != NULL);
    wait_for(&f, &page);
    CHECK(page.error == 0 && page.count == 2 && page.more);
    CHECK(page.days[0] == test_day("2026-03-28") && page.days[1] == test_day("2026-03-30"));
    CHECK_EQ(page.first_ranges, 0); /* the day off it became */
    seen_t rest = {0};
    CHECK(store_overrides_list(f.pool.pool, &f.org, &anna, NULL, NULL, &page.days[1], 2,
                               on_overrides, &rest) != NULL);
    wait_for(&f, &rest);
    CHECK(rest.error == 0 && rest.count == 1 && !rest.more);
    CHECK_EQ(rest.days[0], test_day("2026-04-02"));
    int32_t from = test_day("2026-03-29"), to = test_day("2026-04-01");
    seen_t window = {0};
    CHECK(store_overrides_list(f.pool.pool, &f.org, &anna, &from, &to, NULL, 10, on_overrides,
                               &window) != NULL);
    wait_for(&f, &window);
    CHECK(window.error == 0 && window.count == 1 && window.days[0] == test_day("2026-03-30"));

    seen_t deleted = {0}, again = {0};
    CHECK(store_overrides_delete(f.pool.pool, &f.org, &anna, test_day("2026-03-30"), on_done,
                                 &deleted) != NULL);
    wait_for(&f, &deleted);
    CHECK_EQ(deleted.error, 0);
    CHECK(store_overrides_delete(f.pool.pool, &f.org, &anna, test_day("2026-03-30"), on_done,
                                 &again) != NULL);
    wait_for(&f, &again);
    CHECK_EQ(again.error, STORE_ENOTFOUND);
    pool_fixture_close(&f.pool);
}

TEST(typed_overrides_of_a_resource_that_is_not_live_are_not_found)
{
    fixture_t f;
    open_fixture(&f);
    eng_id_t anna = create(&f, NULL);
    seen_t empty = {0};
    CHECK(store_overrides_list(f.pool.pool, &f.org, &anna, NULL, NULL, NULL, 10, on_overrides,
                               &empty) != NULL);
    wait_for(&f, &empty);
    CHECK(empty.error == 0 && empty.count == 0 && !empty.more); /* live, with no override */
    seen_t put = {0}, listed = {0}, deleted = {0}, gone = {0};
    CHECK(store_overrides_put(f.pool.pool, &f.other, &anna, test_day("2026-03-28"),
                              &(eng_day_hours_t){0}, on_override, &put) != NULL);
    wait_for(&f, &put);
    CHECK_EQ(put.error, STORE_ENOTFOUND);
    CHECK(store_overrides_list(f.pool.pool, &f.other, &anna, NULL, NULL, NULL, 10, on_overrides,
                               &listed) != NULL);
    wait_for(&f, &listed);
    CHECK_EQ(listed.error, STORE_ENOTFOUND);
    CHECK(store_resources_delete(f.pool.pool, &f.org, &anna, on_done, &deleted) != NULL);
    wait_for(&f, &deleted);
    CHECK(store_overrides_put(f.pool.pool, &f.org, &anna, test_day("2026-03-28"),
                              &(eng_day_hours_t){0}, on_override, &gone) != NULL);
    wait_for(&f, &gone);
    CHECK_EQ(gone.error, STORE_ENOTFOUND);
    CHECK(strcmp(test_db_value(f.pool.db, "SELECT count(*) FROM resource_overrides"), "0") == 0);
    pool_fixture_close(&f.pool);
}

/* Hours another program wrote that are no WEEK (or no day's hours) are an internal error, not
 * a half-read struct. */
TEST(typed_resources_refuse_rows_whose_hours_cannot_be_read)
{
    fixture_t f;
    open_fixture(&f);
    eng_id_t anna = create(&f, NULL);
    test_db_exec(f.pool.db,
                 "UPDATE resources SET working_hours = '{\"mon\":[[\"17:00\",\"09:00\"]]}';"
                 "INSERT INTO resource_overrides (organization_id, resource_id, day, "
                 "hours) SELECT organization_id, id, '2026-03-28', '[[\"x\"]]' FROM "
                 "resources");
    seen_t got = {0}, listed = {0};
    CHECK(store_resources_get(f.pool.pool, &f.org, &anna, on_resource, &got) != NULL);
    wait_for(&f, &got);
    CHECK_EQ(got.error, STORE_EINTERNAL);
    CHECK(store_overrides_list(f.pool.pool, &f.org, &anna, NULL, NULL, NULL, 10, on_overrides,
                               &listed) != NULL);
    wait_for(&f, &listed);
    CHECK(listed.error == STORE_EINTERNAL && listed.count == 0);
    pool_fixture_close(&f.pool);
}

TEST(typed_resources_cancelled_operation_never_calls_back)
{
    fixture_t f;
    open_fixture(&f);
    seen_t never = {0};
    store_resource_write_t write = {
        .kind = "staff", .name = "Never", .working_hours = &closed_week};
    store_operation_t *operation =
        store_resources_insert(f.pool.pool, &f.org, &write, on_resource, &never);
    CHECK(operation != NULL);
    store_operation_cancel(operation);
    eng_id_t later = create(&f, NULL); /* runs the loop until the next answer */
    (void)later;
    CHECK_EQ(never.calls, 0);
    pool_fixture_close(&f.pool);
}
