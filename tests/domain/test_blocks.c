/*
 * The domain's rules for blocks, the organization and API keys, called
 * directly as every edge calls them: each refusal names the field at fault
 * with the API's message, and a refused input never reaches the store (these
 * tests give no pool at all: reaching it would crash). And the expansion of a
 * listing, as the engine makes a resource busy.
 */
#include <string.h>

#include "domain/api_keys.h"
#include "domain/blocks.h"
#include "domain/organization.h"
#include "test.h"

static void expect_error(int rc, const domain_error_t *error, const char *field,
                         const char *message)
{
    if (rc != DOMAIN_EINVALID || error->code != DOMAIN_EINVALID ||
        strcmp(error->field, field) != 0 || strcmp(error->message, message) != 0) {
        fprintf(stderr, "rc %d, field %s, message %s (expected %s: %s)\n", rc, error->field,
                error->message, field, message);
        exit(1);
    }
}

static void expect_block_refused(const domain_block_input_t *input, const char *field,
                                 const char *message)
{
    domain_error_t error = {0};
    store_block_t write;
    expect_error(domain_block_check(input, &write, &error), &error, field, message);
}

/* A text given (NULL: absent). */
static domain_text_t text(const char *value)
{
    return (domain_text_t){value ? DOMAIN_GIVEN : DOMAIN_ABSENT, value};
}

static domain_block_input_t once(const char *start, const char *end)
{
    return (domain_block_input_t){.start = text(start), .end = text(end)};
}

static domain_block_input_t daily(const char *start_local, long long minutes)
{
    return (domain_block_input_t){.rrule = text("FREQ=DAILY"),
                                  .start_local = text(start_local),
                                  .duration_minutes = {DOMAIN_GIVEN, minutes}};
}

TEST(domain_block_one_off_is_two_instants_in_order)
{
    domain_block_input_t input = once("2026-03-27T10:00:00.75+01:00", "2026-03-27T11:00:00Z");
    input.reason = text("dentist");
    store_block_t write;
    domain_error_t error = {0};
    CHECK_EQ(domain_block_check(&input, &write, &error), 0);
    CHECK(!write.recurring && strcmp(write.reason, "dentist") == 0);
    CHECK_EQ(write.start, 1774602000); /* 09:00Z, the fraction dropped */
    CHECK_EQ(write.end - write.start, 2 * 3600);
    input = once("2026-03-27T10:00:00Z", "2026-03-27T10:00:00Z");
    expect_block_refused(&input, "end", "end must be after start, by at most ten years.");
    input = once("2026-03-27T10:00:00Z", "2036-04-10T10:00:00Z"); /* 3667 days: over 3660 */
    expect_block_refused(&input, "end", "end must be after start, by at most ten years.");
    input = once("2200-01-01T00:00:00Z", "2200-01-02T00:00:00Z");
    expect_block_refused(&input, "start", "start must lie in 1970-01-01..2199-12-31 (UTC).");
    input = once("2026-03-27T10:00:00Z", NULL);
    expect_block_refused(&input, "end", "end must be an RFC 3339 instant.");
}

TEST(domain_block_recurring_is_a_rule_a_local_start_and_minutes)
{
    domain_block_input_t input = daily("2026-03-27T09:00:30", 60);
    store_block_t write;
    domain_error_t error = {0};
    CHECK_EQ(domain_block_check(&input, &write, &error), 0);
    CHECK(write.recurring && strcmp(write.rrule, "FREQ=DAILY") == 0);
    CHECK_EQ(write.start_local, 1774602030); /* wall seconds: 09:00:30 */
    CHECK_EQ(write.duration_minutes, 60);
    input = daily("2026-03-27T24:00", 60);
    expect_block_refused(&input, "start_local",
                         "start_local is a local date and time, YYYY-MM-DDTHH:MM, in 1970..2199.");
    input = daily("2026-03-27T09:00", 0);
    expect_block_refused(&input, "duration_minutes",
                         "duration_minutes must be a whole number from 1 to 44640.");
    input = daily("2026-03-27T09:00", 60);
    input.duration_minutes.given = DOMAIN_MALFORMED; /* sent, but not a number */
    expect_block_refused(&input, "duration_minutes",
                         "duration_minutes must be a whole number from 1 to 44640.");
    input = daily("2026-03-27T09:00", 60);
    input.duration_minutes.given = DOMAIN_NULL;
    expect_block_refused(&input, "duration_minutes",
                         "duration_minutes must be a whole number from 1 to 44640.");
    input.duration_minutes.given = DOMAIN_ABSENT;
    expect_block_refused(&input, "duration_minutes", "duration_minutes is required.");
    input = daily("2026-03-27T09:00", 60);
    input.rrule = text("FREQ=HOURLY");
    expect_block_refused(&input, "rrule",
                         "rrule must be an RFC 5545 rule, daily or less often (at most one "
                         "BYHOUR, BYMINUTE and BYSECOND value), with an occurrence within 9 years "
                         "of start_local; COUNT and UNTIL are optional (not both), and UNTIL may "
                         "not precede start_local.");
}

TEST(domain_block_is_one_kind_and_its_texts_come_first)
{
    expect_block_refused(&(domain_block_input_t){0}, "start",
                         "Send either start and end, or rrule, start_local and duration_minutes.");
    domain_block_input_t input = daily("2026-03-27T09:00", 60);
    input.start = text("2026-03-27T10:00:00Z");
    expect_block_refused(&input, "rrule",
                         "Send either start and end, or rrule, start_local and duration_minutes.");
    /* sent as something other than text: refused as text out of bounds, in field order */
    input = once(NULL, "x");
    input.start.given = DOMAIN_MALFORMED;
    input.rrule.given = DOMAIN_NULL;
    expect_block_refused(&input, "start", "start must be text of 1 to 64 characters.");
    input.start = text("x");
    expect_block_refused(&input, "rrule", "rrule must be text of 1 to 1024 characters.");
    input = once("2026-03-27T10:00:00Z", "2026-03-27T11:00:00Z");
    input.reason = text("");
    expect_block_refused(&input, "reason", "reason must be text of 1 to 500 characters.");
    /* a null reason is none */
    input.reason.given = DOMAIN_NULL;
    store_block_t write;
    domain_error_t error = {0};
    CHECK_EQ(domain_block_check(&input, &write, &error), 0);
    CHECK(write.reason == NULL);
}

TEST(domain_block_refusals_never_reach_the_store)
{
    eng_id_t organization = {{0}}, resource = {{0}};
    domain_error_t error = {0};
    domain_block_input_t input = once("2026-03-27T11:00:00Z", "2026-03-27T10:00:00Z");
    CHECK(domain_blocks_create(NULL, &organization, &resource, &input, NULL, NULL, &error) == NULL);
    CHECK(error.code == DOMAIN_EINVALID && strcmp(error.field, "end") == 0);
    error = (domain_error_t){0};
    CHECK(domain_blocks_list(NULL, &organization, &resource, 0, 62 * 86400 + 1, NULL, NULL,
                             &error) == NULL);
    expect_error(DOMAIN_EINVALID, &error, "to", "to must follow from, by at most 62 days.");
    error = (domain_error_t){0};
    CHECK(domain_blocks_list(NULL, &organization, &resource, 1, 0, NULL, NULL, &error) == NULL);
    CHECK(strcmp(error.field, "to") == 0);
}

TEST(domain_block_occurrences_expand_in_the_resources_zone_by_start)
{
    tz_zone_t *warsaw;
    CHECK_EQ(tz_zone_find("Europe/Warsaw", &warsaw), 0);
    int64_t from = 1774566000, to = from + 4 * 86400; /* 2026-03-27..30 local, DST on the 29th */
    int64_t wall = 1774602000;                        /* 2026-03-27T09:00 wall */
    int64_t skipped = wall + 86400, unsupported = -86400;
    int64_t exdates[2] = {skipped, unsupported};
    store_block_t blocks[3] = {
        {.recurring = true,
         .rrule = "FREQ=DAILY",
         .start_local = wall,
         .duration_minutes = 60,
         .exdates = exdates,
         .exdate_count = 2},
        {.start = from + 10 * 3600, .end = from + 11 * 3600, .reason = "dentist"},
        /* a row the engine cannot expand has no occurrence */
        {.recurring = true, .rrule = "FREQ=SECONDLY", .start_local = wall, .duration_minutes = 5},
    };
    store_block_list_t list = {"Europe/Warsaw", "Europe/Warsaw", blocks, 3};
    domain_block_occurrence_t *items;
    size_t count = domain_block_occurrences(&list, warsaw, from, to, &items);
    CHECK_EQ(count, 4); /* the 27th, the one-off, the 29th and the 30th (the 28th left out) */
    CHECK(items[0].block == 0 && items[0].start == wall - 3600);
    CHECK(items[1].block == 1 && items[1].start == from + 10 * 3600);
    CHECK(items[2].block == 0 && items[2].start == wall + 2 * 86400 - 2 * 3600); /* CEST */
    CHECK_EQ(items[2].end - items[2].start, 3600);
    CHECK(items[3].block == 0 && items[3].start == wall + 3 * 86400 - 2 * 3600);
    free(items);
}

TEST(domain_organization_rules)
{
    domain_error_t error = {0};
    domain_organization_input_t input = {.name = {DOMAIN_MALFORMED, NULL}};
    expect_error(domain_organization_check(NULL, &input, &error), &error, "name",
                 "name must be text of 1 to 200 characters.");
    input = (domain_organization_input_t){.name = text("")};
    expect_error(domain_organization_check(NULL, &input, &error), &error, "name",
                 "name must be text of 1 to 200 characters.");
    input = (domain_organization_input_t){.timezone = text("Nowhere")};
    expect_error(domain_organization_check(NULL, &input, &error), &error, "timezone",
                 "timezone must be an IANA time zone, e.g. Europe/Warsaw.");
    input = (domain_organization_input_t){.timezone = {DOMAIN_NULL, NULL}};
    expect_error(domain_organization_check(NULL, &input, &error), &error, "timezone",
                 "timezone must be an IANA time zone, e.g. Europe/Warsaw.");
    static int32_t days[1001];
    input = (domain_organization_input_t){
        .write = {.closures_set = true, .closures = days, .closure_count = 1001}};
    expect_error(domain_organization_check(NULL, &input, &error), &error, "closures",
                 "Give a list of dates (YYYY-MM-DD), at most 1000.");
    /* as many as allowed, a date listed twice (the organization always took it) */
    input.write.closure_count = 1000;
    CHECK_EQ(domain_organization_check(NULL, &input, &error), 0);
    input = (domain_organization_input_t){.name = text("Clinic"), .timezone = text("UTC")};
    CHECK_EQ(domain_organization_check(NULL, &input, &error), 0);
    eng_id_t organization = {{0}};
    input.name = text("");
    CHECK(domain_organization_update(NULL, NULL, &organization, &input, NULL, NULL, &error) ==
          NULL);
    CHECK(strcmp(error.field, "name") == 0);
}

TEST(domain_organization_retell_api_key_rules)
{
    domain_error_t error = {0};
    codec_secret_key_t key = {{0}};
    domain_organization_input_t input = {.integrations = DOMAIN_MALFORMED};
    expect_error(domain_organization_check(&key, &input, &error), &error, "integrations",
                 "integrations must be an object: {\"retell_api_key\":\"...\"} (null clears the "
                 "key).");
    input.integrations = DOMAIN_NULL;
    expect_error(domain_organization_check(&key, &input, &error), &error, "integrations",
                 "integrations must be an object: {\"retell_api_key\":\"...\"} (null clears the "
                 "key).");
    input = (domain_organization_input_t){.integrations = DOMAIN_GIVEN,
                                          .integrations_unknown = "vapi_secret",
                                          .retell_api_key = text("key_1")};
    expect_error(domain_organization_check(&key, &input, &error), &error,
                 "integrations.vapi_secret", "Unknown field.");
    input.integrations_unknown = NULL;
    CHECK_EQ(domain_organization_check(&key, &input, &error), 0);
    input.retell_api_key = text("");
    expect_error(domain_organization_check(&key, &input, &error), &error,
                 "integrations.retell_api_key",
                 "integrations.retell_api_key must be text of 1 to 1024 characters.");
    input.retell_api_key = (domain_text_t){DOMAIN_MALFORMED, NULL};
    expect_error(domain_organization_check(&key, &input, &error), &error,
                 "integrations.retell_api_key",
                 "integrations.retell_api_key must be text of 1 to 1024 characters.");
    /* a key to seal needs the secret_key setting; clearing one or an empty object does not */
    input.retell_api_key = text("key_1");
    CHECK_EQ(domain_organization_check(NULL, &input, &error), DOMAIN_EUNAVAILABLE);
    CHECK(strcmp(error.field, "secret_key") == 0 && strstr(error.message, "secret_key"));
    input.retell_api_key = (domain_text_t){DOMAIN_NULL, NULL};
    CHECK_EQ(domain_organization_check(NULL, &input, &error), 0);
    input.retell_api_key = (domain_text_t){DOMAIN_ABSENT, NULL};
    CHECK_EQ(domain_organization_check(NULL, &input, &error), 0);
    /* the read needs the setting too */
    eng_id_t organization = {{0}};
    CHECK(domain_organization_retell_key(NULL, NULL, &organization, NULL, NULL, &error) == NULL);
    CHECK(error.code == DOMAIN_EUNAVAILABLE && strcmp(error.field, "secret_key") == 0);
}

TEST(domain_api_key_rules)
{
    domain_error_t error = {0};
    expect_error(domain_api_key_check(&(domain_api_key_input_t){0}, &error), &error, "role",
                 "role is required: \"admin\", \"agent\" or \"sync\".");
    expect_error(domain_api_key_check(&(domain_api_key_input_t){.role = text("owner")}, &error),
                 &error, "role", "role must be \"admin\", \"agent\" or \"sync\".");
    char name[202];
    memset(name, 'k', 201);
    name[201] = 0;
    expect_error(domain_api_key_check(&(domain_api_key_input_t){.name = text(name)}, &error),
                 &error, "name", "name must be text of 1 to 200 bytes, or null.");
    name[200] = 0;
    const char *roles[3] = {"admin", "agent", "sync"};
    for (int i = 0; i < 3; i++)
        CHECK_EQ(domain_api_key_check(
                     &(domain_api_key_input_t){.role = text(roles[i]), .name = text(name)}, &error),
                 0);
    /* a null name is none; a role that is not text is not a role */
    CHECK_EQ(
        domain_api_key_check(
            &(domain_api_key_input_t){.role = text("sync"), .name = {DOMAIN_NULL, NULL}}, &error),
        0);
    expect_error(
        domain_api_key_check(&(domain_api_key_input_t){.role = {DOMAIN_MALFORMED, NULL}}, &error),
        &error, "role", "role must be \"admin\", \"agent\" or \"sync\".");
    /* refused before a key is made: nothing is stored, the buffer is left alone */
    char key[STORE_KEY_LENGTH + 1] = "";
    eng_id_t organization = {{0}};
    CHECK(domain_api_keys_create(NULL, &organization, &(domain_api_key_input_t){0}, key, NULL, NULL,
                                 &error) == NULL);
    CHECK(key[0] == 0);
}
