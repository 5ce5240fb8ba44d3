/*
 * The domain's rules for services, called directly as every edge calls them:
 * each refusal names the field at fault with the API's message, in the order
 * of the service's fields; a value of the wrong type gets the field's own
 * message; the price is held to whole cents however it is given; and a
 * refused input never reaches the store (these tests give no pool at all:
 * reaching it would crash).
 */
#include <string.h>

#include "domain/services.h"
#include "slotd/codec.h"
#include "test.h"

static eng_id_t ids[3];
static domain_group_t one_group;

static domain_whole_t whole(long long value)
{
    return (domain_whole_t){DOMAIN_GIVEN, value};
}

/* A valid service to create (one "any" group of two resources); tests change one field. */
static domain_service_input_t valid(void)
{
    codec_parse_uuid("00000000-0000-0000-0000-0000000000b1", &ids[0]);
    codec_parse_uuid("00000000-0000-0000-0000-0000000000b2", &ids[1]);
    codec_parse_uuid("00000000-0000-0000-0000-0000000000b1", &ids[2]); /* ids[0] again */
    one_group = (domain_group_t){.given = DOMAIN_GIVEN,
                                 .mode = "any",
                                 .list = DOMAIN_GIVEN,
                                 .count = 2,
                                 .resource_ids = ids,
                                 .readable = 2};
    return (domain_service_input_t){.name = {DOMAIN_GIVEN, "Cleaning"},
                                    .duration_minutes = whole(45),
                                    .requirements = DOMAIN_GIVEN,
                                    .groups = &one_group,
                                    .group_count = 1};
}

static void expect_refused(const domain_service_input_t *input, bool create, const char *field,
                           const char *message)
{
    domain_error_t error = {0};
    store_service_write_t write;
    store_requirement_t groups[ENG_MAX_GROUPS];
    int rc = domain_service_check(input, create, &write, groups, &error);
    if (rc != DOMAIN_EINVALID || error.code != DOMAIN_EINVALID || strcmp(error.field, field) != 0 ||
        strcmp(error.message, message) != 0) {
        fprintf(stderr, "rc %d, field %s, message %s (expected %s: %s)\n", rc, error.field,
                error.message, field, message);
        exit(1);
    }
}

/* Checks an accepted input; its write stays valid while `groups` does. */
static store_service_write_t accepted(const domain_service_input_t *input, bool create,
                                      store_requirement_t *groups)
{
    domain_error_t error = {0};
    store_service_write_t write;
    CHECK_EQ(domain_service_check(input, create, &write, groups, &error), 0);
    return write;
}

TEST(domain_service_create_requires_name_duration_and_requirements)
{
    store_requirement_t groups[ENG_MAX_GROUPS];
    domain_service_input_t input = valid();
    accepted(&input, true, groups);
    input.name.given = DOMAIN_ABSENT;
    expect_refused(&input, true, "name", "name is required.");
    input = valid();
    input.duration_minutes.given = DOMAIN_ABSENT;
    expect_refused(&input, true, "duration_minutes", "duration_minutes is required.");
    input = valid();
    input.requirements = DOMAIN_ABSENT;
    expect_refused(&input, true, "requirements", "requirements is required.");
    /* a PATCH changes only what it sends: nothing is required, nothing is set */
    store_service_write_t write = accepted(&(domain_service_input_t){0}, false, groups);
    CHECK(write.settings.name == NULL && !write.duration_set && !write.requirements_set &&
          !write.price_set && !write.active_set && !write.buffer_before_set);
}

TEST(domain_service_create_takes_the_defaults_of_absent_fields)
{
    store_requirement_t groups[ENG_MAX_GROUPS];
    domain_service_input_t input = valid();
    store_service_write_t write = accepted(&input, true, groups);
    CHECK(write.buffer_before_set && write.settings.buffer_before_minutes == 0);
    CHECK(write.buffer_after_set && write.min_notice_set && write.settings.min_notice_minutes == 0);
    CHECK(write.active_set && write.settings.active);
    CHECK(!write.settings.has_slot_interval && !write.settings.has_max_advance);
    CHECK(!write.settings.has_price && write.settings.currency == NULL);
    CHECK_EQ(write.settings.requirement_count, 1);
    CHECK(!write.settings.requirements[0].all);
    CHECK_EQ(write.settings.requirements[0].resource_count, 2);
    input.active = DOMAIN_GIVEN;
    input.active_value = false;
    write = accepted(&input, true, groups);
    CHECK(write.active_set && !write.settings.active);
}

TEST(domain_service_whole_numbers_keep_their_ranges_whatever_their_type)
{
    domain_service_input_t input = valid();
    input.duration_minutes = whole(0);
    expect_refused(&input, true, "duration_minutes",
                   "duration_minutes must be a whole number from 1 to 10080.");
    input.duration_minutes = (domain_whole_t){DOMAIN_MALFORMED, 0};
    expect_refused(&input, true, "duration_minutes",
                   "duration_minutes must be a whole number from 1 to 10080.");
    input.duration_minutes = (domain_whole_t){DOMAIN_NULL, 0};
    expect_refused(&input, true, "duration_minutes",
                   "duration_minutes must be a whole number from 1 to 10080.");
    input = valid();
    input.buffer_after_minutes = whole(-5);
    expect_refused(&input, true, "buffer_after_minutes",
                   "buffer_after_minutes must be a whole number from 0 to 1440.");
    input = valid();
    input.min_notice_minutes = whole(525601);
    expect_refused(&input, true, "min_notice_minutes",
                   "min_notice_minutes must be a whole number from 0 to 525600.");
    /* nullable ones say so, and null clears them */
    input = valid();
    input.max_advance_days = whole(3661);
    expect_refused(&input, true, "max_advance_days",
                   "max_advance_days must be a whole number from 0 to 3660, or null.");
    input.max_advance_days = (domain_whole_t){DOMAIN_MALFORMED, 0};
    expect_refused(&input, true, "max_advance_days",
                   "max_advance_days must be a whole number from 0 to 3660, or null.");
    store_requirement_t groups[ENG_MAX_GROUPS];
    domain_service_input_t patch = {.slot_interval_minutes = {DOMAIN_NULL, 0},
                                    .max_advance_days = whole(60)};
    store_service_write_t write = accepted(&patch, false, groups);
    CHECK(write.slot_interval_set && !write.settings.has_slot_interval);
    CHECK(write.max_advance_set && write.settings.has_max_advance);
    CHECK_EQ(write.settings.max_advance_days, 60);
    /* a number past int32 is refused, not wrapped */
    patch = (domain_service_input_t){.duration_minutes = whole(4294967341LL)};
    expect_refused(&patch, false, "duration_minutes",
                   "duration_minutes must be a whole number from 1 to 10080.");
}

TEST(domain_service_name_and_active_refuse_other_types_with_their_own_message)
{
    domain_service_input_t input = valid();
    input.name = (domain_text_t){DOMAIN_MALFORMED, NULL};
    expect_refused(&input, true, "name", "name must be text of 1 to 200 characters.");
    input.name = (domain_text_t){DOMAIN_NULL, NULL};
    expect_refused(&input, true, "name", "name must be text of 1 to 200 characters.");
    input.name = (domain_text_t){DOMAIN_GIVEN, ""};
    expect_refused(&input, true, "name", "name must be text of 1 to 200 characters.");
    input = valid();
    input.active = DOMAIN_MALFORMED;
    expect_refused(&input, true, "active", "active must be true or false.");
    input.active = DOMAIN_NULL;
    expect_refused(&input, true, "active", "active must be true or false.");
}

static void expect_price(const domain_price_t *price, bool ok, int64_t cents)
{
    store_requirement_t groups[ENG_MAX_GROUPS];
    domain_service_input_t input = {.price = *price};
    if (!ok) {
        expect_refused(&input, false, "price", "price is a decimal like \"180.00\", or null.");
        return;
    }
    store_service_write_t write = accepted(&input, false, groups);
    CHECK(write.price_set && write.settings.has_price);
    CHECK_EQ(write.settings.price_cents, cents);
}

static void expect_price_text(const char *text, bool ok, int64_t cents)
{
    expect_price(&(domain_price_t){.given = DOMAIN_GIVEN, .text = text}, ok, cents);
}

static void expect_price_number(double number, bool ok, int64_t cents)
{
    expect_price(&(domain_price_t){.given = DOMAIN_GIVEN, .is_number = true, .number = number}, ok,
                 cents);
}

TEST(domain_service_price_is_whole_cents_as_text_or_number)
{
    expect_price_text("180.00", true, 18000);
    expect_price_text("180.5", true, 18050);
    expect_price_text("180", true, 18000);
    expect_price_text("0.01", true, 1);
    expect_price_text("9999999999.99", true, 999999999999LL);
    expect_price_text("12.345", false, 0);
    expect_price_text("180.", false, 0);
    expect_price_text(".5", false, 0);
    expect_price_text("-1", false, 0);
    expect_price_text("1e3", false, 0);
    expect_price_text("", false, 0);
    expect_price_text("12345678901", false, 0);
    expect_price_number(180, true, 18000);
    expect_price_number(0.1, true, 10);
    expect_price_number(19.99, true, 1999);
    expect_price_number(0.001, false, 0);
    expect_price_number(-1, false, 0);
    expect_price_number(1e10, false, 0);
    expect_price(&(domain_price_t){.given = DOMAIN_MALFORMED}, false, 0);
    /* null clears the price */
    store_requirement_t groups[ENG_MAX_GROUPS];
    store_service_write_t write =
        accepted(&(domain_service_input_t){.price = {.given = DOMAIN_NULL}}, false, groups);
    CHECK(write.price_set && !write.settings.has_price);
}

TEST(domain_service_currency_is_three_capital_letters_or_null)
{
    store_requirement_t groups[ENG_MAX_GROUPS];
    store_service_write_t write =
        accepted(&(domain_service_input_t){.currency = {DOMAIN_GIVEN, "PLN"}}, false, groups);
    CHECK(write.currency_set && strcmp(write.settings.currency, "PLN") == 0);
    write = accepted(&(domain_service_input_t){.currency = {DOMAIN_NULL, NULL}}, false, groups);
    CHECK(write.currency_set && write.settings.currency == NULL);
    const char *message = "currency is an ISO 4217 code like \"PLN\", or null.";
    const char *refused[3] = {"pln", "PL", "PLNX"};
    for (int i = 0; i < 3; i++)
        expect_refused(&(domain_service_input_t){.currency = {DOMAIN_GIVEN, refused[i]}}, false,
                       "currency", message);
    expect_refused(&(domain_service_input_t){.currency = {DOMAIN_MALFORMED, NULL}}, false,
                   "currency", message);
}

TEST(domain_service_requirements_are_one_to_eight_groups_of_distinct_ids)
{
    const char *groups_message = "requirements is a list of 1 to 8 groups: "
                                 "[{\"resource_ids\":[...],\"mode\":\"any\"}].";
    domain_service_input_t input = valid();
    input.group_count = 0;
    expect_refused(&input, true, "requirements", groups_message);
    input.group_count = 9;
    expect_refused(&input, true, "requirements", groups_message);
    input = valid();
    input.requirements = DOMAIN_NULL;
    expect_refused(&input, true, "requirements", groups_message);
    input.requirements = DOMAIN_MALFORMED;
    expect_refused(&input, true, "requirements", groups_message);

    input = valid();
    one_group.given = DOMAIN_MALFORMED;
    expect_refused(&input, true, "requirements[0]",
                   "A group is {\"resource_ids\":[...],\"mode\":...}.");
    input = valid();
    one_group.mode = "some";
    expect_refused(&input, true, "requirements[0].mode", "mode must be any or all.");
    one_group.mode = NULL;
    expect_refused(&input, true, "requirements[0].mode", "mode must be any or all.");
    const char *ids_message = "resource_ids lists 1 to 256 resource ids.";
    input = valid();
    one_group.count = one_group.readable = 0;
    expect_refused(&input, true, "requirements[0].resource_ids", ids_message);
    one_group.count = 257;
    expect_refused(&input, true, "requirements[0].resource_ids", ids_message);
    input = valid();
    one_group.list = DOMAIN_MALFORMED;
    expect_refused(&input, true, "requirements[0].resource_ids", ids_message);

    /* the first item that is not an id, or the second listing of one */
    input = valid();
    one_group.readable = 1;
    expect_refused(&input, true, "requirements[0].resource_ids[1]", "Not a resource id.");
    input = valid();
    one_group.count = one_group.readable = 3;
    expect_refused(&input, true, "requirements[0].resource_ids[2]",
                   "A resource is listed twice in this group.");

    /* the same resource in two groups is allowed; "all" is kept */
    domain_group_t two[2] = {one_group, one_group};
    two[0].count = two[0].readable = 2;
    two[1].count = two[1].readable = 1;
    two[1].mode = "all";
    input = (domain_service_input_t){.requirements = DOMAIN_GIVEN, .groups = two, .group_count = 2};
    store_requirement_t groups[ENG_MAX_GROUPS];
    store_service_write_t write = accepted(&input, false, groups);
    CHECK(write.requirements_set && write.settings.requirement_count == 2);
    CHECK(!write.settings.requirements[0].all && write.settings.requirements[1].all);
    CHECK(memcmp(&write.settings.requirements[1].resource_ids[0], &ids[0], sizeof(eng_id_t)) == 0);
    two[1].mode = "any";
    two[1].given = DOMAIN_MALFORMED;
    expect_refused(&input, false, "requirements[1]",
                   "A group is {\"resource_ids\":[...],\"mode\":...}.");
}

TEST(domain_service_names_the_first_field_at_fault_in_api_order)
{
    domain_service_input_t input = valid();
    input.name = (domain_text_t){DOMAIN_MALFORMED, NULL};
    input.duration_minutes = whole(0);
    input.active = DOMAIN_MALFORMED;
    input.price = (domain_price_t){.given = DOMAIN_MALFORMED};
    input.requirements = DOMAIN_ABSENT;
    expect_refused(&input, true, "name", "name must be text of 1 to 200 characters.");
    input.name = (domain_text_t){DOMAIN_GIVEN, "Cleaning"};
    expect_refused(&input, true, "duration_minutes",
                   "duration_minutes must be a whole number from 1 to 10080.");
    input.duration_minutes = whole(45);
    expect_refused(&input, true, "active", "active must be true or false.");
    input.active = DOMAIN_ABSENT;
    expect_refused(&input, true, "price", "price is a decimal like \"180.00\", or null.");
    input.price.given = DOMAIN_ABSENT;
    expect_refused(&input, true, "requirements", "requirements is required.");
}
