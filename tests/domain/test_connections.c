/*
 * The domain's rules for calendar connections, called directly as every edge
 * calls them: what a connection to create or a change becomes for the store
 * (the defaults of each provider, only what a PATCH sends), the plaintext
 * handed over to be sealed (exactly the credentials sent, nothing else), and
 * the secret_key refusal that comes before any other.
 */
#include <string.h>

#include "domain/connections.h"
#include "test.h"

static const codec_secret_key_t key = {{1}};

/* A text given (NULL: absent). */
static domain_text_t text(const char *value)
{
    return (domain_text_t){value ? DOMAIN_GIVEN : DOMAIN_ABSENT, value};
}

static domain_connection_input_t google(void)
{
    domain_connection_input_t input = {.provider = text("google")};
    input.credentials.given = DOMAIN_GIVEN;
    input.credentials.refresh_token = text("1//tok");
    input.credentials.client_id = text("id.apps");
    return input;
}

TEST(domain_connection_defaults_and_the_plaintext_to_seal)
{
    domain_connection_input_t input = google();
    store_connection_write_t write;
    domain_error_t error = {0};
    char *plain;
    CHECK_EQ(domain_connection_check(&key, NULL, &input, &write, &plain, &error), 0);
    CHECK(strcmp(write.provider, "google") == 0 && strcmp(write.direction, "both") == 0);
    CHECK(strcmp(write.calendar_id, "primary") == 0);
    CHECK(!write.event_type_set && write.status == NULL);
    /* the keys sent, in the API's order, as compact JSON */
    CHECK(strcmp(plain, "{\"refresh_token\":\"1//tok\",\"client_id\":\"id.apps\"}") == 0);
    CHECK(write.credentials == plain && write.credentials_length == strlen(plain));
    codec_secret_free(plain, write.credentials_length);

    domain_connection_input_t ics = {.provider = text("ics")};
    ics.credentials.given = DOMAIN_GIVEN;
    ics.credentials.url = text("https://example.com/feed.ics?token=x");
    CHECK_EQ(domain_connection_check(&key, NULL, &ics, &write, &plain, &error), 0);
    CHECK(strcmp(write.direction, "pull") == 0 && write.calendar_id == NULL);
    CHECK(strcmp(plain, "{\"url\":\"https://example.com/feed.ics?token=x\"}") == 0);
    codec_secret_free(plain, write.credentials_length);
}

TEST(domain_connection_patch_changes_only_what_it_sends)
{
    store_connection_t current = {.provider = "calcom", .direction = "pull"};
    domain_connection_input_t input = {.status = text("paused")};
    store_connection_write_t write;
    domain_error_t error = {0};
    char *plain;
    /* no key is needed for a change without credentials */
    CHECK_EQ(domain_connection_check(NULL, &current, &input, &write, &plain, &error), 0);
    CHECK(plain == NULL && write.credentials == NULL);
    CHECK(write.direction == NULL && !write.calendar_id_set && !write.event_type_set);
    CHECK(strcmp(write.status, "paused") == 0);
    /* pushing needs an event type; sent with it, it is set */
    input = (domain_connection_input_t){.direction = text("push"), .calcom = DOMAIN_GIVEN};
    input.event_type_id = (domain_whole_t){DOMAIN_GIVEN, 42};
    CHECK_EQ(domain_connection_check(NULL, &current, &input, &write, &plain, &error), 0);
    CHECK(strcmp(write.direction, "push") == 0);
    CHECK(write.event_type_set && write.calcom_event_type_id == 42);
    /* a stored event type is enough; clearing it while pushing is refused */
    current =
        (store_connection_t){.provider = "calcom", .direction = "both", .calcom_event_type_id = 42};
    input = (domain_connection_input_t){.calcom = DOMAIN_NULL};
    CHECK_EQ(domain_connection_check(NULL, &current, &input, &write, &plain, &error),
             DOMAIN_EINVALID);
    CHECK(strcmp(error.field, "calcom.event_type_id") == 0);
    input.direction = text("pull");
    CHECK_EQ(domain_connection_check(NULL, &current, &input, &write, &plain, &error), 0);
    CHECK(write.event_type_set && write.calcom_event_type_id == 0);
}

TEST(domain_connection_without_secret_key_is_refused_first)
{
    domain_connection_input_t input = {.provider = text("caldav")}; /* not even a provider */
    store_connection_write_t write;
    domain_error_t error = {0};
    char *plain;
    CHECK_EQ(domain_connection_check(NULL, NULL, &input, &write, &plain, &error),
             DOMAIN_EUNAVAILABLE);
    CHECK(error.code == DOMAIN_EUNAVAILABLE && strcmp(error.field, "secret_key") == 0);
    CHECK(strstr(error.message, "SLOTD_SECRET_KEY") != NULL);
    /* new credentials of a PATCH need it too */
    store_connection_t current = {.provider = "google", .direction = "both"};
    input = google();
    input.provider = text(NULL);
    CHECK_EQ(domain_connection_check(NULL, &current, &input, &write, &plain, &error),
             DOMAIN_EUNAVAILABLE);
    CHECK(plain == NULL);
    /* with it, a refused credential leaves nothing to seal */
    input.credentials.tenant = text("contoso");
    CHECK_EQ(domain_connection_check(&key, &current, &input, &write, &plain, &error),
             DOMAIN_EINVALID);
    CHECK(plain == NULL && write.credentials == NULL);
    CHECK(strcmp(error.field, "credentials.tenant") == 0);
}
