/*
 * Calendar connections: the rules (see connections.h), then the typed store.
 * A refused input never reaches the database. Fields are checked in the
 * order of the API's body: provider, direction, calendar_id, credentials,
 * calcom, status; then what depends on several of them (what an ics feed or
 * a pushing calcom connection needs). A PATCH is checked against the
 * connection as it is (its provider, its direction and event type where the
 * PATCH leaves them), and the store changes it only if it is still so.
 *
 * Which credentials each provider takes is one table; the plaintext handed
 * to the store is compact JSON of exactly the keys that were sent, so
 * nothing but known credentials is ever sealed.
 */
#include "domain/connections.h"

#include <jansson.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "slotd/codec.h"

/* One key of a credentials object: its name, where the edge put it, its longest text. */
typedef struct {
    const char *name;
    size_t offset; /* of its domain_text_t in domain_credentials_input_t */
    long max;
} credential_t;

static const credential_t credentials_known[] = {
    {"refresh_token", offsetof(domain_credentials_input_t, refresh_token), 4096},
    {"client_id", offsetof(domain_credentials_input_t, client_id), 1024},
    {"client_secret", offsetof(domain_credentials_input_t, client_secret), 1024},
    {"tenant", offsetof(domain_credentials_input_t, tenant), 256},
    {"api_key", offsetof(domain_credentials_input_t, api_key), 1024},
    {"webhook_secret", offsetof(domain_credentials_input_t, webhook_secret), 1024},
    {"url", offsetof(domain_credentials_input_t, url), 2048},
};
#define CREDENTIALS_KNOWN (sizeof(credentials_known) / sizeof(credentials_known[0]))
#define BIT(i) (1u << (i))

/* A provider: which of credentials_known it takes and which it requires (bits), and whether
 * it has calendars of its own (calendar_id). */
typedef struct {
    const char *name;
    unsigned takes, requires;
    bool calendars;
    const char *default_direction, *default_calendar;
} provider_t;

static const provider_t providers[] = {
    {"google", BIT(0) | BIT(1) | BIT(2), BIT(0), true, "both", "primary"},
    {"microsoft", BIT(0) | BIT(1) | BIT(2) | BIT(3), BIT(0), true, "both", NULL},
    {"calcom", BIT(4) | BIT(5), BIT(4), false, "both", NULL},
    {"ics", BIT(6), BIT(6), false, "pull", NULL},
};

static const provider_t *provider_named(const char *name)
{
    for (size_t i = 0; name && i < sizeof(providers) / sizeof(providers[0]); i++)
        if (strcmp(name, providers[i].name) == 0)
            return &providers[i];
    return NULL;
}

/* The value of a text as received: NULL unless given. */
static const char *given(const domain_text_t *text)
{
    return text->given == DOMAIN_GIVEN ? text->text : NULL;
}

static const domain_text_t *credential_of(const domain_credentials_input_t *input, size_t i)
{
    return (const domain_text_t *)((const char *)input + credentials_known[i].offset);
}

/* Checks the credentials object for `provider` and makes its plaintext (compact JSON of the
 * keys sent; caller frees with codec_secret_free). */
static int check_credentials(const provider_t *provider, const domain_credentials_input_t *input,
                             char **plain, domain_error_t *error)
{
    char field[CODEC_FIELD_MAX];
    if (input->given != DOMAIN_GIVEN)
        return domain_invalid(error, "credentials",
                              "credentials must be an object of the provider's credentials.");
    if (input->unknown) {
        snprintf(field, sizeof(field), "credentials.%s", input->unknown);
        return domain_invalid(error, field, "Unknown field.");
    }
    /* another provider's credentials first: the likelier mistake than a missing one */
    for (size_t i = 0; i < CREDENTIALS_KNOWN; i++) {
        snprintf(field, sizeof(field), "credentials.%s", credentials_known[i].name);
        if ((provider->takes & BIT(i)) == 0 && credential_of(input, i)->given != DOMAIN_ABSENT)
            return domain_invalid(error, field, "%s is not a credential of %s connections.", field,
                                  provider->name);
    }
    json_t *object = json_object();
    int rc = 0;
    for (size_t i = 0; i < CREDENTIALS_KNOWN && rc == 0; i++) {
        const domain_text_t *text = credential_of(input, i);
        snprintf(field, sizeof(field), "credentials.%s", credentials_known[i].name);
        if ((provider->takes & BIT(i)) == 0)
            continue;
        rc = domain_check_given_text(error, field, text, 1, credentials_known[i].max,
                                     (provider->requires & BIT(i)) != 0);
        if (rc == 0 && given(text))
            json_object_set_new(object, credentials_known[i].name, json_string(given(text)));
    }
    if (rc == 0 && (provider->takes & BIT(6)) && !codec_is_http_url(given(&input->url)))
        rc = domain_invalid(error, "credentials.url",
                            "credentials.url must be an http:// or https:// URL (a webcal:// "
                            "feed is served at its https:// address).");
    *plain = rc == 0 ? json_dumps(object, JSON_COMPACT) : NULL;
    json_decref(object);
    return rc;
}

static bool pushes(const char *direction)
{
    return strcmp(direction, "pull") != 0;
}

/* provider, direction and calendar_id; `current` NULL for a new connection. */
static int check_fields(const store_connection_t *current, const domain_connection_input_t *input,
                        const provider_t **provider, store_connection_write_t *write,
                        domain_error_t *error)
{
    int rc = 0;
    if (current && input->provider.given != DOMAIN_ABSENT)
        return domain_invalid(error, "provider",
                              "provider cannot be changed: create another connection.");
    *provider = provider_named(current ? current->provider : given(&input->provider));
    if (*provider == NULL)
        return current ? domain_invalid(error, "provider", "The connection's provider is unknown.")
                       : domain_invalid(error, "provider",
                                        "provider must be one of google, microsoft, calcom, ics.");
    const char *direction = given(&input->direction);
    if (input->direction.given != DOMAIN_ABSENT &&
        (direction == NULL || (strcmp(direction, "pull") != 0 && strcmp(direction, "push") != 0 &&
                               strcmp(direction, "both") != 0)))
        return domain_invalid(error, "direction", "direction must be one of pull, push, both.");
    write->provider = (*provider)->name;
    write->direction = direction ? direction : current ? NULL : (*provider)->default_direction;
    if (strcmp((*provider)->name, "ics") == 0 && direction && strcmp(direction, "pull") != 0)
        return domain_invalid(error, "direction",
                              "direction of an ics connection must be pull: a feed is read, "
                              "never written.");
    if (input->calendar_id.given != DOMAIN_ABSENT && input->calendar_id.given != DOMAIN_NULL &&
        !(*provider)->calendars)
        return domain_invalid(error, "calendar_id",
                              "calendar_id is not used by %s connections; leave it out.",
                              (*provider)->name);
    if (input->calendar_id.given != DOMAIN_NULL)
        rc = domain_check_given_text(error, "calendar_id", &input->calendar_id, 1, 1024, false);
    write->calendar_id_set = input->calendar_id.given != DOMAIN_ABSENT;
    write->calendar_id = given(&input->calendar_id);
    if (current == NULL && !write->calendar_id_set)
        write->calendar_id = (*provider)->default_calendar;
    return rc;
}

/* calcom {"event_type_id"} and status; then what a pushing calcom connection needs. */
static int check_calcom_and_status(const store_connection_t *current, const provider_t *provider,
                                   const domain_connection_input_t *input,
                                   store_connection_write_t *write, domain_error_t *error)
{
    bool calcom = strcmp(provider->name, "calcom") == 0;
    if (input->calcom != DOMAIN_ABSENT && !calcom)
        return domain_invalid(error, "calcom", "calcom is only for calcom connections.");
    if (input->calcom == DOMAIN_MALFORMED || (input->calcom == DOMAIN_NULL && !current))
        return domain_invalid(error, "calcom", "calcom must be an object: {\"event_type_id\": N}.");
    if (input->calcom_unknown) {
        char field[CODEC_FIELD_MAX];
        snprintf(field, sizeof(field), "calcom.%s", input->calcom_unknown);
        return domain_invalid(error, field, "Unknown field.");
    }
    int rc = 0;
    if (input->calcom == DOMAIN_GIVEN) {
        rc = domain_check_whole(error, "calcom.event_type_id", &input->event_type_id, 1,
                                DOMAIN_CALCOM_EVENT_TYPE_MAX, false, true);
        write->event_type_set = true;
        write->calcom_event_type_id = input->event_type_id.value;
    } else if (input->calcom == DOMAIN_NULL) {
        write->event_type_set = true; /* cleared */
    }
    if (rc)
        return rc;
    const char *status = given(&input->status);
    if (input->status.given != DOMAIN_ABSENT &&
        (!current || status == NULL ||
         (strcmp(status, "active") != 0 && strcmp(status, "paused") != 0)))
        return current ? domain_invalid(error, "status",
                                        "status must be active or paused (broken is set by the "
                                        "service when a sync fails).")
                       : domain_invalid(error, "status", "Unknown field.");
    write->status = status;
    const char *direction = write->direction ? write->direction : current->direction;
    int64_t event_type = write->event_type_set ? write->calcom_event_type_id
                         : current             ? current->calcom_event_type_id
                                               : 0;
    if (calcom && pushes(direction) && event_type == 0)
        return domain_invalid(error, "calcom.event_type_id",
                              "calcom.event_type_id is required while a calcom connection "
                              "pushes (direction push or both).");
    return 0;
}

int domain_connection_check(const codec_secret_key_t *key, const store_connection_t *current,
                            const domain_connection_input_t *input, store_connection_write_t *write,
                            char **credentials, domain_error_t *error)
{
    memset(write, 0, sizeof(*write));
    *credentials = NULL;
    if (key == NULL && (current == NULL || input->credentials.given != DOMAIN_ABSENT)) {
        error->code = DOMAIN_EUNAVAILABLE;
        snprintf(error->field, sizeof(error->field), "%s", "secret_key");
        snprintf(error->message, sizeof(error->message), "%s",
                 "Calendar connections need the secret_key setting (SLOTD_SECRET_KEY), which "
                 "encrypts their credentials; it is not set.");
        return DOMAIN_EUNAVAILABLE;
    }
    if (current == NULL && input->provider.given == DOMAIN_ABSENT)
        return domain_check_required(error, "provider", false);
    const provider_t *provider = NULL; /* set by check_fields when it passes */
    int rc = check_fields(current, input, &provider, write, error);
    if (rc == 0 && (current == NULL || input->credentials.given != DOMAIN_ABSENT)) {
        if (current == NULL && input->credentials.given == DOMAIN_ABSENT)
            return domain_check_required(error, "credentials", false);
        rc = check_credentials(provider, &input->credentials, credentials, error);
    }
    if (rc == 0)
        rc = check_calcom_and_status(current, provider, input, write, error);
    if (rc == 0 && *credentials) {
        write->credentials = *credentials;
        write->credentials_length = strlen(*credentials);
    } else if (*credentials) {
        codec_secret_free(*credentials, strlen(*credentials));
        *credentials = NULL;
    }
    return rc;
}

store_operation_t *domain_connections_create(store_pool_t *pool, const codec_secret_key_t *key,
                                             const eng_id_t *organization, const eng_id_t *resource,
                                             const domain_connection_input_t *input,
                                             store_connection_cb cb, void *arg,
                                             domain_error_t *error)
{
    store_connection_write_t write;
    char *credentials;
    if (domain_connection_check(key, NULL, input, &write, &credentials, error) != 0)
        return NULL;
    store_operation_t *operation = domain_started(
        store_connections_insert(pool, key, organization, resource, &write, cb, arg), error);
    codec_secret_free(credentials, write.credentials_length);
    return operation;
}

store_operation_t *domain_connections_get(store_pool_t *pool, const eng_id_t *organization,
                                          const eng_id_t *id, store_connection_cb cb, void *arg,
                                          domain_error_t *error)
{
    return domain_started(store_connections_get(pool, organization, id, cb, arg), error);
}

store_operation_t *domain_connections_list(store_pool_t *pool, const eng_id_t *organization,
                                           const eng_id_t *resource, const eng_id_t *cursor,
                                           int limit, store_connection_list_cb cb, void *arg,
                                           domain_error_t *error)
{
    return domain_started(
        store_connections_list(pool, organization, resource, cursor, limit, cb, arg), error);
}

store_operation_t *domain_connections_update(store_pool_t *pool, const codec_secret_key_t *key,
                                             const eng_id_t *organization,
                                             const store_connection_t *current,
                                             const domain_connection_input_t *input,
                                             store_connection_cb cb, void *arg,
                                             domain_error_t *error)
{
    store_connection_write_t write;
    char *credentials;
    if (domain_connection_check(key, current, input, &write, &credentials, error) != 0)
        return NULL;
    store_operation_t *operation = domain_started(
        store_connections_update(pool, key, organization, &current->id, current, &write, cb, arg),
        error);
    codec_secret_free(credentials, write.credentials_length);
    return operation;
}

store_operation_t *domain_connections_sync(store_pool_t *pool, const eng_id_t *organization,
                                           const eng_id_t *id, bool full, store_sync_request_cb cb,
                                           void *arg, domain_error_t *error)
{
    return domain_started(store_sync_request(pool, organization, id, full, cb, arg), error);
}

store_operation_t *domain_connections_delete(store_pool_t *pool, const eng_id_t *organization,
                                             const eng_id_t *id, store_connection_delete_cb cb,
                                             void *arg, domain_error_t *error)
{
    return domain_started(store_connections_delete(pool, organization, id, cb, arg), error);
}
