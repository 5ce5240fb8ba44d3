/*
 * Outbound webhooks in the database (the tables of migration 0020): the typed
 * store of an organization's endpoints and of their delivery log, for the
 * domain layer, and the delivery worker's two statements (claim the messages
 * that may go, record an attempt). As for connections.h, every function runs
 * on the loop, starts one operation and returns it, or NULL when the pool
 * refuses it; a callback runs once, with values valid only during the call.
 *
 * Endpoints and deliveries come back as the API renders them (JSON text made
 * by the database), never with the secret: it is sealed here, with the
 * service's secret key and the endpoint's id (store_connection_seal, purpose
 * "webhook_secret"), before it leaves for the database, and only the worker
 * reads it back (sealed) to sign with it.
 */
#ifndef SLOTD_STORE_WEBHOOKS_H
#define SLOTD_STORE_WEBHOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/secret.h"
#include "slotd/engine.h"
#include "store/operation.h"

/** What sealing an endpoint's secret is bound to, besides the organization and the id. */
#define STORE_WEBHOOK_SECRET_PURPOSE "webhook_secret"

/** An endpoint: its id and its API form (JSON text). */
typedef struct {
    eng_id_t id;
    const char *answer;
} store_webhook_endpoint_t;

/** What a write sets; for an update, NULL (or description_set false) leaves a field. */
typedef struct {
    const char *url;
    const char *events; /**< PostgreSQL text[] literal */
    bool description_set;
    const char *description; /**< NULL with description_set: cleared */
    const char *status;      /**< update only */
} store_webhook_write_t;

/** One endpoint (STORE_ENOTFOUND: no such live one of the organization). */
typedef void (*store_webhook_endpoint_cb)(int error, const store_webhook_endpoint_t *endpoint,
                                          void *arg);

/** A page of endpoints in id order: `more` when another page follows. */
typedef void (*store_webhook_endpoint_list_cb)(int error, const store_webhook_endpoint_t *items,
                                               size_t count, bool more, void *arg);

/** A deletion: 0 or STORE_ENOTFOUND. */
typedef void (*store_webhook_done_cb)(int error, void *arg);

/** A page of an endpoint's attempts, newest first (each JSON text); `next` the cursor of the
 *  next page, 0 on the last. */
typedef void (*store_webhook_deliveries_cb)(int error, const char *const *answers, size_t count,
                                            int64_t next, void *arg);

/** Stores a new endpoint with id `id` and `secret` (sealed here with `key`, which must
 *  outlive the operation); STORE_ENOTFOUND when the organization is not a live one. */
store_operation_t *store_webhook_endpoints_insert(store_pool_t *pool, const codec_secret_key_t *key,
                                                  const eng_id_t *organization, const eng_id_t *id,
                                                  const store_webhook_write_t *write,
                                                  const char *secret, store_webhook_endpoint_cb cb,
                                                  void *arg);

store_operation_t *store_webhook_endpoints_get(store_pool_t *pool, const eng_id_t *organization,
                                               const eng_id_t *id, store_webhook_endpoint_cb cb,
                                               void *arg);

/** Up to `limit` live endpoints in id order, after `cursor` (NULL: the first). */
store_operation_t *store_webhook_endpoints_list(store_pool_t *pool, const eng_id_t *organization,
                                                const eng_id_t *cursor, int limit,
                                                store_webhook_endpoint_list_cb cb, void *arg);

store_operation_t *store_webhook_endpoints_update(store_pool_t *pool, const eng_id_t *organization,
                                                  const eng_id_t *id,
                                                  const store_webhook_write_t *write,
                                                  store_webhook_endpoint_cb cb, void *arg);

/** Soft-deletes an endpoint: its waiting messages are never sent. */
store_operation_t *store_webhook_endpoints_delete(store_pool_t *pool, const eng_id_t *organization,
                                                  const eng_id_t *id, store_webhook_done_cb cb,
                                                  void *arg);

/** Up to `limit` attempts of a live endpoint, newest first, older than `cursor` (0: the
 *  newest); STORE_ENOTFOUND when the endpoint is not a live one. */
store_operation_t *store_webhook_deliveries(store_pool_t *pool, const eng_id_t *organization,
                                            const eng_id_t *endpoint, int64_t cursor, int limit,
                                            store_webhook_deliveries_cb cb, void *arg);

/* ---- the delivery worker ------------------------------------------------------------ */

/** A message claimed for an attempt. */
typedef struct {
    eng_id_t organization, endpoint;
    int64_t id;
    const char *url;
    const char *secret; /**< sealed (bytea text): open with store_connection_open */
    const char *event_id, *type, *body;
} store_webhook_message_t;

typedef void (*store_webhook_claim_cb)(int error, const store_webhook_message_t *items,
                                       size_t count, void *arg);

/** An attempt recorded: `disabled` when its 410 disabled the endpoint. */
typedef void (*store_webhook_attempted_cb)(int error, bool disabled, void *arg);

/** Claims up to `limit` messages that may go now (each its endpoint's first undone one),
 *  held for `hold_seconds`. */
store_operation_t *store_webhook_claim(store_pool_t *pool, int limit, int hold_seconds,
                                       store_webhook_claim_cb cb, void *arg);

/** Records an attempt of a claimed message: `status` the HTTP status (0: no answer),
 *  `error` why there was none (or NULL), `schedule` the delays before each retry
 *  (PostgreSQL int[] literal). */
store_operation_t *store_webhook_attempted(store_pool_t *pool, const eng_id_t *organization,
                                           int64_t message, long status, const char *error,
                                           long duration_ms, const char *schedule,
                                           store_webhook_attempted_cb cb, void *arg);

#endif
