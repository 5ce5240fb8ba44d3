/*
 * The domain's rules for resources and their date overrides, called directly
 * as every edge calls them: each refusal names the field at fault with the
 * API's message, in the order of the resource's fields, and a refused input
 * never reaches the store (these tests give no pool at all: reaching it would
 * crash).
 */
#include <string.h>

#include "domain/resources.h"
#include "test.h"

static const eng_week_t closed_week;

/* A valid resource to create; tests change one field at a time. */
static domain_resource_input_t valid(void)
{
    return (domain_resource_input_t){
        .kind = "staff", .name = "Anna", .working_hours = &closed_week};
}

static void expect_refused(const domain_resource_input_t *input, bool create, const char *field,
                           const char *message)
{
    domain_error_t error = {0};
    int rc = domain_resource_check(input, create, &error);
    if (rc != DOMAIN_EINVALID || error.code != DOMAIN_EINVALID || strcmp(error.field, field) != 0 ||
        strcmp(error.message, message) != 0) {
        fprintf(stderr, "rc %d, field %s, message %s (expected %s: %s)\n", rc, error.field,
                error.message, field, message);
        exit(1);
    }
}

static void expect_accepted(const domain_resource_input_t *input, bool create)
{
    domain_error_t error = {0};
    CHECK_EQ(domain_resource_check(input, create, &error), 0);
}

/* `count` copies of a two-byte character (static buffer). */
static const char *characters(int count)
{
    static char text[1024];
    char *p = text;
    for (int i = 0; i < count; i++)
        p += sprintf(p, "\xc5\xbc"); /* ż */
    return text;
}

TEST(domain_resource_create_requires_kind_name_and_working_hours)
{
    domain_resource_input_t input = valid();
    expect_accepted(&input, true);
    input.kind = NULL;
    expect_refused(&input, true, "kind", "kind is required.");
    input = valid();
    input.name = NULL;
    expect_refused(&input, true, "name", "name is required.");
    input = valid();
    input.working_hours = NULL;
    expect_refused(&input, true, "working_hours", "working_hours is required.");
    /* a PATCH changes only what it sends: nothing is required */
    expect_accepted(&(domain_resource_input_t){0}, false);
}

TEST(domain_resource_kind_is_staff_room_or_equipment)
{
    const char *kinds[3] = {"staff", "room", "equipment"};
    for (int i = 0; i < 3; i++)
        expect_accepted(&(domain_resource_input_t){.kind = kinds[i]}, false);
    expect_refused(&(domain_resource_input_t){.kind = "robot"}, false, "kind",
                   "kind must be staff, room or equipment.");
    expect_refused(&(domain_resource_input_t){.kind = "Staff"}, false, "kind",
                   "kind must be staff, room or equipment.");
    expect_refused(&(domain_resource_input_t){.kind = ""}, false, "kind",
                   "kind must be text of 1 to 20 characters.");
}

TEST(domain_resource_text_limits_count_characters_not_bytes)
{
    expect_accepted(&(domain_resource_input_t){.name = characters(200)}, false); /* 400 bytes */
    expect_refused(&(domain_resource_input_t){.name = characters(201)}, false, "name",
                   "name must be text of 1 to 200 characters.");
    expect_refused(&(domain_resource_input_t){.name = ""}, false, "name",
                   "name must be text of 1 to 200 characters.");
    expect_accepted(&(domain_resource_input_t){.phone = characters(50)}, false);
    expect_refused(&(domain_resource_input_t){.phone = characters(51)}, false, "phone",
                   "phone must be text of 1 to 50 characters.");
    expect_accepted(&(domain_resource_input_t){.email = characters(320)}, false);
    expect_refused(&(domain_resource_input_t){.email = characters(321)}, false, "email",
                   "email must be text of 1 to 320 characters.");
    expect_refused(&(domain_resource_input_t){.email_set = true, .email = ""}, false, "email",
                   "email must be text of 1 to 320 characters.");
    /* text that is not UTF-8, from an edge that did not check it */
    expect_refused(&(domain_resource_input_t){.name = "caf\xe9"}, false, "name",
                   "name must be text of 1 to 200 characters.");
    /* cleared (null) email and phone are not text to check */
    expect_accepted(&(domain_resource_input_t){.email_set = true, .phone_set = true}, false);
}

TEST(domain_resource_zone_is_an_iana_name)
{
    expect_accepted(&(domain_resource_input_t){.timezone_set = true, .timezone = "Asia/Tokyo"},
                    false);
    expect_accepted(&(domain_resource_input_t){.timezone_set = true}, false); /* inherited */
    expect_refused(&(domain_resource_input_t){.timezone_set = true, .timezone = "Nowhere"}, false,
                   "timezone", "Use an IANA time zone, e.g. Europe/Warsaw.");
}

TEST(domain_resource_names_the_first_field_at_fault_in_api_order)
{
    domain_resource_input_t input = {
        .kind = "robot", .name = "", .email = "", .phone = "", .timezone = "Nowhere"};
    const char *fields[5] = {"kind", "name", "email", "phone", "timezone"};
    for (int i = 0; i < 5; i++) {
        domain_error_t error = {0};
        CHECK_EQ(domain_resource_check(&input, true, &error), DOMAIN_EINVALID);
        CHECK(strcmp(error.field, fields[i]) == 0);
        /* mend the field at fault: the next one is named */
        const char **mend[5] = {&input.kind, &input.name, &input.email, &input.phone,
                                &input.timezone};
        *mend[i] = i == 0 ? "room" : i == 4 ? "UTC" : "x";
    }
    expect_refused(&input, true, "working_hours", "working_hours is required.");
}

TEST(domain_resource_refusals_never_reach_the_store)
{
    eng_id_t organization = {{0}}, id = {{0}};
    domain_error_t error = {0};
    domain_resource_input_t input = valid();
    input.kind = "robot";
    CHECK(domain_resources_create(NULL, &organization, &input, NULL, NULL, &error) == NULL);
    CHECK(error.code == DOMAIN_EINVALID && strcmp(error.field, "kind") == 0);
    error = (domain_error_t){0};
    input = (domain_resource_input_t){.name = ""};
    CHECK(domain_resources_update(NULL, &organization, &id, &input, NULL, NULL, &error) == NULL);
    CHECK(error.code == DOMAIN_EINVALID && strcmp(error.field, "name") == 0);
}

TEST(domain_override_requires_its_hours)
{
    eng_id_t organization = {{0}}, resource = {{0}};
    domain_error_t error = {0};
    CHECK(domain_overrides_put(NULL, &organization, &resource, test_day("2026-03-28"), NULL, NULL,
                               NULL, &error) == NULL);
    CHECK(error.code == DOMAIN_EINVALID && strcmp(error.field, "hours") == 0);
    CHECK(strcmp(error.message, "hours is required: [[\"10:00\",\"14:00\"]], [] = off.") == 0);
}
