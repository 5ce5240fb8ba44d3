/*
 * Outbound webhook endpoints: the rules (see webhooks.h), then the typed
 * store. A refused input never reaches the database.
 */
#include "domain/webhooks.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slotd/alloc.h"
#include "store/keys.h"

static const char *const known_events[] = {"booking.created",   "booking.rescheduled",
                                           "booking.cancelled", "booking.updated",
                                           "booking.reminder",  "calendar_connection.broken"};

#define EVENT_COUNT (sizeof(known_events) / sizeof(known_events[0]))

bool domain_webhook_event_known(const char *name)
{
    for (size_t i = 0; i < EVENT_COUNT; i++)
        if (strcmp(name, known_events[i]) == 0)
            return true;
    return false;
}

bool domain_webhook_url_host(const char *url, char *host, size_t size)
{
    const char *p = strstr(url, "://");
    if (p == NULL)
        return false;
    p += 3;
    size_t authority = strcspn(p, "/?#");
    const char *at = memchr(p, '@', authority);
    while (at) { /* the host follows the last '@' of the authority */
        authority -= (size_t)(at + 1 - p);
        p = at + 1;
        at = memchr(p, '@', authority);
    }
    size_t length;
    if (authority > 0 && p[0] == '[') {
        const char *close = memchr(p, ']', authority);
        if (close == NULL)
            return false;
        p++;
        length = (size_t)(close - p);
    } else {
        const char *colon = memchr(p, ':', authority);
        length = colon ? (size_t)(colon - p) : authority;
    }
    if (length == 0 || length >= size)
        return false;
    memcpy(host, p, length);
    host[length] = 0;
    return true;
}

static int check_url(const domain_text_t *url, bool required, domain_error_t *error)
{
    if (url->given == DOMAIN_ABSENT && !required)
        return 0;
    if (url->given == DOMAIN_ABSENT)
        return domain_check_required(error, "url", false);
    if (url->given != DOMAIN_GIVEN || !codec_is_http_url(url->text) || strlen(url->text) < 10 ||
        strlen(url->text) > DOMAIN_WEBHOOK_URL_MAX)
        return domain_invalid(error, "url",
                              "url must be an http:// or https:// URL with a host, of 10 to %d "
                              "characters.",
                              DOMAIN_WEBHOOK_URL_MAX);
    return 0;
}

/* The events as PostgreSQL's text[] literal (known names need no quoting). */
static char *events_literal(const domain_webhook_input_t *input)
{
    size_t size = 3;
    for (size_t i = 0; i < input->event_count; i++)
        size += strlen(input->events[i]) + 1;
    char *text = slotd_malloc(size), *p = text;
    *p++ = '{';
    for (size_t i = 0; i < input->event_count; i++)
        p += sprintf(p, "%s%s", i ? "," : "", input->events[i]);
    *p++ = '}';
    *p = 0;
    return text;
}

static int check_events(const domain_webhook_input_t *input, bool required, domain_error_t *error)
{
    if (input->events_given == DOMAIN_ABSENT)
        return required ? domain_check_required(error, "events", false) : 0;
    if (input->events_given != DOMAIN_GIVEN || input->event_count == 0 ||
        input->event_count > DOMAIN_WEBHOOK_EVENTS_MAX)
        return domain_invalid(error, "events",
                              "events must be a list of 1 to %d event names: booking.created, "
                              "booking.rescheduled, booking.cancelled, booking.updated, "
                              "booking.reminder, calendar_connection.broken.",
                              DOMAIN_WEBHOOK_EVENTS_MAX);
    for (size_t i = 0; i < input->event_count; i++) {
        if (!domain_webhook_event_known(input->events[i]))
            return domain_invalid(error, "events", "events[%zu] is not an event slotd sends.", i);
        for (size_t j = 0; j < i; j++)
            if (strcmp(input->events[i], input->events[j]) == 0)
                return domain_invalid(error, "events", "events[%zu] is listed twice.", i);
    }
    return 0;
}

static int check_status(const domain_webhook_input_t *input, bool creating, domain_error_t *error)
{
    const domain_text_t *status = &input->status;
    if (status->given == DOMAIN_ABSENT)
        return 0;
    if (creating)
        return domain_invalid(error, "status", "Unknown field.");
    if (status->given != DOMAIN_GIVEN ||
        (strcmp(status->text, "active") != 0 && strcmp(status->text, "disabled") != 0))
        return domain_invalid(error, "status", "status must be \"active\" or \"disabled\".");
    return 0;
}

int domain_webhook_check(const domain_webhook_input_t *input, bool creating,
                         store_webhook_write_t *write, char **events, domain_error_t *error)
{
    memset(write, 0, sizeof(*write));
    *events = NULL;
    int rc = check_url(&input->url, creating, error);
    if (rc == 0)
        rc = check_events(input, creating, error);
    if (rc == 0 && input->description.given != DOMAIN_NULL)
        rc = domain_check_given_text(error, "description", &input->description, 1,
                                     DOMAIN_WEBHOOK_DESCRIPTION_MAX, false);
    if (rc == 0)
        rc = check_status(input, creating, error);
    if (rc)
        return rc;
    write->url = input->url.given == DOMAIN_GIVEN ? input->url.text : NULL;
    write->description_set = input->description.given != DOMAIN_ABSENT;
    write->description = input->description.given == DOMAIN_GIVEN ? input->description.text : NULL;
    write->status = input->status.given == DOMAIN_GIVEN ? input->status.text : NULL;
    if (input->events_given == DOMAIN_GIVEN)
        write->events = *events = events_literal(input);
    return 0;
}

/* "whsec_" and the base64 of 24 random bytes (32 characters, no padding). */
static void make_secret(char *secret)
{
    uint8_t bytes[24];
    store_random_bytes(bytes, sizeof(bytes));
    memcpy(secret, "whsec_", 6);
    EVP_EncodeBlock((unsigned char *)secret + 6, bytes, (int)sizeof(bytes));
}

/* A version 4 UUID from the kernel's randomness. */
static void make_id(eng_id_t *id)
{
    store_random_bytes(id->bytes, sizeof(id->bytes));
    id->bytes[6] = (uint8_t)((id->bytes[6] & 0x0f) | 0x40);
    id->bytes[8] = (uint8_t)((id->bytes[8] & 0x3f) | 0x80);
}

store_operation_t *domain_webhooks_create(store_pool_t *pool, const codec_secret_key_t *key,
                                          const eng_id_t *organization,
                                          const domain_webhook_input_t *input, char *secret,
                                          store_webhook_endpoint_cb cb, void *arg,
                                          domain_error_t *error)
{
    if (key == NULL) {
        error->code = DOMAIN_EUNAVAILABLE;
        snprintf(error->field, sizeof(error->field), "%s", "secret_key");
        snprintf(error->message, sizeof(error->message), "%s",
                 "Webhook endpoints need the secret_key setting (SLOTD_SECRET_KEY), which "
                 "encrypts their signing secrets; it is not set.");
        return NULL;
    }
    store_webhook_write_t write;
    char *events;
    if (domain_webhook_check(input, true, &write, &events, error) != 0)
        return NULL;
    eng_id_t id;
    make_id(&id);
    make_secret(secret);
    store_operation_t *operation = domain_started(
        store_webhook_endpoints_insert(pool, key, organization, &id, &write, secret, cb, arg),
        error);
    free(events);
    return operation;
}

store_operation_t *domain_webhooks_update(store_pool_t *pool, const eng_id_t *organization,
                                          const eng_id_t *id, const domain_webhook_input_t *input,
                                          store_webhook_endpoint_cb cb, void *arg,
                                          domain_error_t *error)
{
    store_webhook_write_t write;
    char *events;
    if (domain_webhook_check(input, false, &write, &events, error) != 0)
        return NULL;
    store_operation_t *operation = domain_started(
        store_webhook_endpoints_update(pool, organization, id, &write, cb, arg), error);
    free(events);
    return operation;
}
