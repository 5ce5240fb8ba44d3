/*
 * The caller's organization, the domain's rules: a name of 1–200 characters
 * and an IANA zone, both required to be text when sent (neither can be
 * cleared), WEEK business hours (validated by the codec when decoded, null
 * clears them), at most 1000 closure dates, a language of the voice tools (en,
 * es, pl or de), and at most 10 distinct reminder offsets of 1 to 525600
 * minutes (a year) before a booking's start. `integrations` is an object of
 * which only `retell_api_key` is known: a text of 1–1024 characters (the
 * organization's Retell API key, with which Retell signs its calls of the
 * voice tools) or null (cleared). The key is write-only (sealed at rest,
 * never returned nor logged: the organization shows only whether one is
 * set) and needs the `secret_key` setting, as calendar connections'
 * credentials do: without it, setting one is DOMAIN_EUNAVAILABLE naming the
 * setting (clearing one needs nothing).
 *
 * Each function runs on the loop. It either refuses its input (returns NULL,
 * `error` filled with DOMAIN_EINVALID), or starts the store operation and
 * returns it (NULL with DOMAIN_EBUSY when the store refused it): the result
 * then reaches `cb` once, unless the caller cancels the operation.
 */
#ifndef SLOTD_DOMAIN_ORGANIZATION_H
#define SLOTD_DOMAIN_ORGANIZATION_H

#include "domain/domain.h"
#include "store/organization.h"

/** The changes of a PATCH: only what is received or set changes. The name and the zone come
 *  as received (`write`'s are not read); neither may be null. */
typedef struct {
    domain_text_t name, timezone, language;
    store_organization_write_t write; /**< the hours, closures and reminder offsets */
    domain_given_t integrations;      /**< how `integrations` came (an object: DOMAIN_GIVEN) */
    const char *integrations_unknown; /**< a field of `integrations` that is not known, or NULL */
    domain_text_t retell_api_key;     /**< integrations.retell_api_key as received */
} domain_organization_input_t;

/** The longest Retell API key taken, in characters. */
#define DOMAIN_RETELL_API_KEY_MAX 1024

/** Checks the changes of a PATCH; `key` is the secret_key setting (NULL: not set). */
int domain_organization_check(const codec_secret_key_t *key,
                              const domain_organization_input_t *input, domain_error_t *error);

store_operation_t *domain_organization_get(store_pool_t *pool, const eng_id_t *organization,
                                           store_organization_cb cb, void *arg,
                                           domain_error_t *error);

/** `key` seals a Retell API key sent (the secret_key setting, NULL: not set). */
store_operation_t *domain_organization_update(store_pool_t *pool, const codec_secret_key_t *key,
                                              const eng_id_t *organization,
                                              const domain_organization_input_t *input,
                                              store_organization_cb cb, void *arg,
                                              domain_error_t *error);

/**
 * The organization's Retell API key, opened, for checking an X-Retell-Signature
 * (agent/retell.h): `cb` gets error 0 with the key, or 0 with NULL when none is set, or a
 * negative STORE_E* code with NULL (STORE_ENOTFOUND: no such live organization). The key
 * is wiped and freed as `cb` returns: use it there, do not keep it. `key` is the
 * secret_key setting: NULL refuses with DOMAIN_EUNAVAILABLE naming it (no Retell API key can
 * be stored without it). Runs on the loop.
 */
store_operation_t *domain_organization_retell_key(store_pool_t *pool, const codec_secret_key_t *key,
                                                  const eng_id_t *organization,
                                                  store_organization_retell_key_cb cb, void *arg,
                                                  domain_error_t *error);

#endif
