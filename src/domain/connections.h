/*
 * Calendar connections of a resource, the domain's rules:
 *
 * - provider: google, microsoft, calcom or ics; set once (a PATCH may not
 *   change it).
 * - direction: pull, push or both (default both; pull for ics, and an ics
 *   feed is pull only).
 * - calendar_id: text of 1–1024 characters or null, for google (default
 *   "primary") and microsoft (default: the user's default calendar, null)
 *   only.
 * - credentials: an object of the provider's texts, replaced whole when
 *   sent: google {refresh_token, client_id?, client_secret?}, microsoft the
 *   same and tenant?, calcom {api_key, webhook_secret?}, ics {url} (an
 *   http:// or https:// URL). Any other key is refused, naming it.
 * - calcom: {"event_type_id": N} (1..2^53−1), for calcom only, required while
 *   a calcom connection pushes (direction push or both).
 * - status (PATCH only): active or paused; broken is the service's to set.
 *
 * Credentials are sealed at rest with the `secret_key` setting: without it,
 * creating a connection (or sending new credentials) is refused with
 * DOMAIN_EUNAVAILABLE naming the setting, before anything else is checked.
 *
 * Each function runs on the loop. It either refuses its input (returns NULL,
 * `error` filled), or starts the store operation and returns it (NULL with
 * DOMAIN_EBUSY when the store refused it): the result then reaches `cb` once,
 * unless the caller cancels the operation.
 */
#ifndef SLOTD_DOMAIN_CONNECTIONS_H
#define SLOTD_DOMAIN_CONNECTIONS_H

#include "domain/domain.h"
#include "store/connections.h"
#include "store/sync.h"

/** The largest Cal.com event type id taken (2^53 − 1: exact in every JSON reader). */
#define DOMAIN_CALCOM_EVENT_TYPE_MAX 9007199254740991LL

/** The credentials object as received: how it came, each known key's text, and the first key
 *  that is none of them (NULL: none). */
typedef struct {
    domain_given_t given; /**< DOMAIN_GIVEN: an object; DOMAIN_MALFORMED: anything else */
    domain_text_t refresh_token, client_id, client_secret, tenant, api_key, webhook_secret, url;
    const char *unknown;
} domain_credentials_input_t;

/** A connection to create, or the changes of a PATCH, as received. */
typedef struct {
    domain_text_t provider, direction, calendar_id, status;
    domain_credentials_input_t credentials;
    domain_given_t calcom;        /**< the "calcom" object: DOMAIN_GIVEN when an object */
    domain_whole_t event_type_id; /**< calcom.event_type_id */
    const char *calcom_unknown;   /**< a key of "calcom" other than event_type_id, or NULL */
} domain_connection_input_t;

/**
 * Checks a connection to create (`current` NULL) or a change of `current`, and fills `write`
 * (whose texts point into `input`, or are constants). The credentials to seal, when sent, are
 * made into compact JSON text in *credentials (the caller frees it with codec_secret_free, of
 * write->credentials_length bytes); *credentials is NULL otherwise. `key` is the secret_key
 * setting (NULL: not set).
 */
int domain_connection_check(const codec_secret_key_t *key, const store_connection_t *current,
                            const domain_connection_input_t *input, store_connection_write_t *write,
                            char **credentials, domain_error_t *error);

store_operation_t *domain_connections_create(store_pool_t *pool, const codec_secret_key_t *key,
                                             const eng_id_t *organization, const eng_id_t *resource,
                                             const domain_connection_input_t *input,
                                             store_connection_cb cb, void *arg,
                                             domain_error_t *error);

store_operation_t *domain_connections_get(store_pool_t *pool, const eng_id_t *organization,
                                          const eng_id_t *id, store_connection_cb cb, void *arg,
                                          domain_error_t *error);

store_operation_t *domain_connections_list(store_pool_t *pool, const eng_id_t *organization,
                                           const eng_id_t *resource, const eng_id_t *cursor,
                                           int limit, store_connection_list_cb cb, void *arg,
                                           domain_error_t *error);

/** Changes `current` (the connection as just read): STORE_ECONFLICT in the callback when it
 *  changed meanwhile (read it and check the change again). */
store_operation_t *domain_connections_update(store_pool_t *pool, const codec_secret_key_t *key,
                                             const eng_id_t *organization,
                                             const store_connection_t *current,
                                             const domain_connection_input_t *input,
                                             store_connection_cb cb, void *arg,
                                             domain_error_t *error);

/** Deletes a connection and the busy time it brought. */
/** Asks for a pull of a connection now (`full`: a full listing): the store's answer (see
 *  store_sync_request); the route tells a connection that will not be pulled apart. */
store_operation_t *domain_connections_sync(store_pool_t *pool, const eng_id_t *organization,
                                           const eng_id_t *id, bool full, store_sync_request_cb cb,
                                           void *arg, domain_error_t *error);

store_operation_t *domain_connections_delete(store_pool_t *pool, const eng_id_t *organization,
                                             const eng_id_t *id, store_connection_delete_cb cb,
                                             void *arg, domain_error_t *error);

#endif
