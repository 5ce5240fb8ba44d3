/*
 * Calendar sync in the database: claiming the connections due for a pull, and
 * writing what a pull found in one transaction. The typed store for the sync
 * runner (src/sync/runner.c); the SQL is in sql/sync.sql.
 *
 * A claim holds a connection for a while (FOR UPDATE SKIP LOCKED, then
 * sync_claimed_until), so that processes and instances never pull one
 * connection at once; finishing releases it. Credentials and the access
 * token come back opened with the secret key (wiped when the callback
 * returns) and go back sealed.
 */
#ifndef SLOTD_STORE_SYNC_H
#define SLOTD_STORE_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/secret.h"
#include "slotd/engine.h"
#include "store/operation.h"

/** A connection taken for a pull. */
typedef struct {
    eng_id_t organization, id, resource;
    const char *provider;    /**< google, microsoft, calcom */
    const char *calendar_id; /**< NULL: the provider's default */
    const char *credentials; /**< the opened JSON text, or NULL when it does not open */
    size_t credentials_length;
    const char *sync_token;   /**< the provider's state, or NULL */
    const char *access_token; /**< a kept access token, or NULL */
    int64_t access_expires;
    const char *timezone; /**< the resource's zone in effect */
    bool full;            /**< this pull must list everything */
    int failures;         /**< pulls failed in a row before this one */
} store_sync_claim_t;

typedef void (*store_sync_claim_cb)(int error, const store_sync_claim_t *claims, size_t count,
                                    void *arg);

typedef struct {
    int64_t now;
    int limit;
    int hold_seconds;
    const eng_id_t *connection;   /**< NULL: any */
    const eng_id_t *organization; /**< NULL: any */
    bool due_only;                /**< false: every matching live pulling connection */
    int nightly_hour;             /**< the organization's local hour of the full listing */
} store_sync_claim_options_t;

/** Claims connections to pull; `key` must outlive the operation. */
store_operation_t *store_sync_claim(store_pool_t *pool, const codec_secret_key_t *key,
                                    const store_sync_claim_options_t *options,
                                    store_sync_claim_cb cb, void *arg);

/** What a pull found, to write. */
typedef struct {
    int64_t now;
    const char *error;        /**< NULL: the pull succeeded; else what to record as last_error */
    bool broken;              /**< the credentials were refused */
    bool full;                /**< replace the connection's events */
    const char *sync_token;   /**< the new state, or NULL to keep */
    const char *upserts_json; /**< [{"id","start","end","all_day","summary"}], or NULL */
    const char *deletes_json; /**< ["id", ...], or NULL */
    const char *access_token; /**< plaintext to seal and keep, or NULL */
    int64_t access_expires;
    const char *credentials; /**< new credentials JSON to seal (a rotated token), or NULL */
    int64_t next_sync_at;
} store_sync_result_t;

typedef void (*store_sync_done_cb)(int error, void *arg);

/** Writes a pull's result and releases the claim, in one transaction. */
store_tx_t *store_sync_finish(store_pool_t *pool, const codec_secret_key_t *key,
                              const eng_id_t *organization, const eng_id_t *id,
                              const store_sync_result_t *result, store_sync_done_cb cb, void *arg);

/** A pull asked for now: 0 with the connection's status, direction and provider, or
 *  STORE_ENOTFOUND and the STORE_E* codes. */
typedef void (*store_sync_request_cb)(int error, const char *status, const char *direction,
                                      const char *provider, void *arg);

store_operation_t *store_sync_request(store_pool_t *pool, const eng_id_t *organization,
                                      const eng_id_t *id, bool full, store_sync_request_cb cb,
                                      void *arg);

#endif
