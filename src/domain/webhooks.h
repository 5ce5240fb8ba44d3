/*
 * Outbound webhook endpoints, the domain's rules: an http:// or https:// URL
 * (10 to 2048 characters), 1 to 6 distinct known events, an optional
 * description of up to 500 characters, and (PATCH) a status of "active" or
 * "disabled". Creating one needs the secret_key setting, which seals its
 * signing secret at rest (503 unavailable naming it otherwise); the secret,
 * "whsec_" and the base64 of 24 random bytes, is made here and shown once.
 *
 * Whether the URL's host resolves to a private address is the edge's to ask
 * (it resolves without blocking the loop) before it calls create or update;
 * domain_webhook_url_host gives it the host to resolve.
 *
 * Each function runs on the loop and either refuses its input (NULL, `error`
 * filled) or starts the store operation and returns it.
 */
#ifndef SLOTD_DOMAIN_WEBHOOKS_H
#define SLOTD_DOMAIN_WEBHOOKS_H

#include "domain/domain.h"
#include "store/webhooks.h"

#define DOMAIN_WEBHOOK_EVENTS_MAX 6
#define DOMAIN_WEBHOOK_URL_MAX 2048
#define DOMAIN_WEBHOOK_DESCRIPTION_MAX 500
/** "whsec_", the base64 of 24 bytes, a NUL. */
#define DOMAIN_WEBHOOK_SECRET_SIZE (6 + 32 + 1)

/** An endpoint's fields as received. `events` holds `event_count` texts when
 *  events_given is DOMAIN_GIVEN (an array of texts; DOMAIN_MALFORMED: not one). */
typedef struct {
    domain_text_t url, description, status;
    domain_given_t events_given;
    const char *events[DOMAIN_WEBHOOK_EVENTS_MAX];
    size_t event_count; /**< may exceed DOMAIN_WEBHOOK_EVENTS_MAX: only that many are kept */
} domain_webhook_input_t;

/** Whether `name` is an event an endpoint may take. */
bool domain_webhook_event_known(const char *name);

/** The host of an http(s) URL (without brackets, user or port) into `host`; false when
 *  there is none or it does not fit. */
bool domain_webhook_url_host(const char *url, char *host, size_t size);

/** Checks an input (`creating`: url and events are required, status is not taken) into
 *  *write; *events is the events' text[] literal (caller frees; NULL when not given). */
int domain_webhook_check(const domain_webhook_input_t *input, bool creating,
                         store_webhook_write_t *write, char **events, domain_error_t *error);

/** Makes the endpoint's secret into `secret` (DOMAIN_WEBHOOK_SECRET_SIZE bytes) and stores
 *  the endpoint; `key` NULL: refused as unavailable. */
store_operation_t *domain_webhooks_create(store_pool_t *pool, const codec_secret_key_t *key,
                                          const eng_id_t *organization,
                                          const domain_webhook_input_t *input, char *secret,
                                          store_webhook_endpoint_cb cb, void *arg,
                                          domain_error_t *error);

store_operation_t *domain_webhooks_update(store_pool_t *pool, const eng_id_t *organization,
                                          const eng_id_t *id, const domain_webhook_input_t *input,
                                          store_webhook_endpoint_cb cb, void *arg,
                                          domain_error_t *error);

#endif
