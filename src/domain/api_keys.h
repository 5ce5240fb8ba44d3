/*
 * API keys, the domain's rules: a role of "admin", "agent" or "sync"
 * (required), and an optional name of 1–200 bytes. A key is made here, for
 * the organization, and handed to the caller once: only its hash is stored.
 *
 * Each function runs on the loop. It either refuses its input (returns NULL,
 * `error` filled with DOMAIN_EINVALID), or starts the store operation and
 * returns it (NULL with DOMAIN_EBUSY when the store refused it): the result
 * then reaches `cb` once, unless the caller cancels the operation.
 */
#ifndef SLOTD_DOMAIN_API_KEYS_H
#define SLOTD_DOMAIN_API_KEYS_H

#include "domain/domain.h"
#include "store/keys.h"

#define DOMAIN_KEY_NAME_MAX 200

/** A key to create, as received: a null name is none. */
typedef struct {
    domain_text_t role, name;
} domain_api_key_input_t;

int domain_api_key_check(const domain_api_key_input_t *input, domain_error_t *error);

/** Makes a key into `key` (STORE_KEY_LENGTH + 1 bytes: shown once, never stored) and stores
 *  it; STORE_ENOTFOUND in the callback when the organization is not a live one. */
store_operation_t *domain_api_keys_create(store_pool_t *pool, const eng_id_t *organization,
                                          const domain_api_key_input_t *input, char *key,
                                          store_api_key_cb cb, void *arg, domain_error_t *error);

store_operation_t *domain_api_keys_get(store_pool_t *pool, const eng_id_t *organization,
                                       const eng_id_t *id, store_api_key_cb cb, void *arg,
                                       domain_error_t *error);

store_operation_t *domain_api_keys_list(store_pool_t *pool, const eng_id_t *organization,
                                        const eng_id_t *cursor, int limit, store_api_key_list_cb cb,
                                        void *arg, domain_error_t *error);

/** Refused (STORE_ECONFLICT in the callback) for the organization's last admin key. */
store_operation_t *domain_api_keys_revoke(store_pool_t *pool, const eng_id_t *organization,
                                          const eng_id_t *id, store_api_key_revoke_cb cb, void *arg,
                                          domain_error_t *error);

#endif
