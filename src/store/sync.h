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
    const char *timezone;  /**< the resource's zone in effect */
    bool full;             /**< this pull must list everything */
    int failures;          /**< pulls failed in a row before this one */
    int64_t watch_expires; /**< when its watch channel or subscription expires; 0: none */
} store_sync_claim_t;

typedef void (*store_sync_claim_cb)(int error, const store_sync_claim_t *claims, size_t count,
                                    void *arg);

/** How many connections of each provider a claim may take. */
typedef struct {
    int google, microsoft, calcom, ics; /* ics: pulls only */
} store_sync_rooms_t;

typedef struct {
    int64_t now;
    int limit;
    int hold_seconds;
    store_sync_rooms_t rooms;     /**< at most this many of each provider, within `limit` */
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
    /** or the same in parts (each a JSON list), each written by its own statement, one at a
     *  time rather than all sent at once: a feed's megabytes do not fill the loop's turn */
    const char *const *upsert_parts;
    size_t upsert_part_count;
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

/** An outbox row taken for delivery: a booking to push to a connection. */
typedef struct {
    eng_id_t organization, connection, booking;
    int64_t outbox_id;
    int attempts;
    const char *provider, *calendar_id;
    const char *credentials; /**< opened, or NULL when they do not open */
    size_t credentials_length;
    const char *access_token; /**< opened, or NULL */
    int64_t access_expires;
    int64_t calcom_event_type_id; /**< 0: none */
    bool live;                    /**< the connection still pushes and is active */
    bool present;                 /**< the booking still holds the connection's resource */
    int64_t start, end;
    const char *service_name, *customer_name, *customer_email; /**< email: NULL when none */
    const char *external_id; /**< what the calendar has of it, or NULL */
    bool has_external_start;
    int64_t external_start;
    const char *timezone; /**< the resource's zone */
} store_push_item_t;

typedef void (*store_push_claim_cb)(int error, const store_push_item_t *items, size_t count,
                                    void *arg);

typedef struct {
    int64_t now;
    int limit;
    int hold_seconds;
    store_sync_rooms_t rooms; /**< at most this many rows of each provider's connections */
    const eng_id_t *busy;     /**< connections not to take a row of (being pushed to) */
    size_t busy_count;
    const eng_id_t *connection;   /**< NULL: any */
    const eng_id_t *organization; /**< NULL: any */
    bool due_only;                /**< false: undone rows, due or not */
    const int64_t *tried;         /**< outbox rows not to take (a pass tried them already) */
    size_t tried_count;
} store_push_claim_options_t;

/** Claims outbox rows to deliver: the earliest undone one of each booking and connection, at
 *  most one per connection; `key` must outlive the operation. */
store_operation_t *store_push_claim(store_pool_t *pool, const codec_secret_key_t *key,
                                    const store_push_claim_options_t *options,
                                    store_push_claim_cb cb, void *arg);

/** A delivery's end. */
typedef struct {
    int64_t now;
    const char *error; /**< NULL: delivered; else tried again at retry_at */
    bool revoked;      /**< the credentials were refused: the connection becomes broken */
    int64_t retry_at;
    bool set_mapping;   /**< the calendar now has it as external_id (at start) */
    bool clear_mapping; /**< the calendar no longer has it */
    const char *external_id;
    int64_t start;
    const char *access_token; /**< to seal and keep, or NULL */
    int64_t access_expires;
    const char *credentials; /**< re-sealed credentials (rotated token), or NULL */
} store_push_result_t;

store_tx_t *store_push_finish(store_pool_t *pool, const codec_secret_key_t *key,
                              const store_push_item_t *item, const store_push_result_t *result,
                              store_sync_done_cb cb, void *arg);

/** Keeps the watch channel (Google) or subscription (Graph) made for a connection. */
store_operation_t *store_sync_watch_set(store_pool_t *pool, const eng_id_t *organization,
                                        const eng_id_t *id, const char *watch_id,
                                        const uint8_t secret_hash[32], const char *resource_id,
                                        int64_t expires, store_sync_done_cb cb, void *arg);

/** The connection a provider's webhook names. */
typedef struct {
    eng_id_t organization, id;
    const char *provider;
    const uint8_t *secret_hash; /**< by watch: the SHA-256 its secret must have */
    const char *credentials;    /**< by connection id: the opened credentials (wiped after) */
} store_webhook_target_t;

/** 0 with the target, or STORE_ENOTFOUND (no such live, active connection: refuse) and the
 *  STORE_E* codes. */
typedef void (*store_webhook_cb)(int error, const store_webhook_target_t *target, void *arg);

/** By a Google channel's or a Graph subscription's id. */
store_operation_t *store_webhook_watch(store_pool_t *pool, const char *watch_id,
                                       store_webhook_cb cb, void *arg);

/** By the connection's own id (Cal.com), its credentials opened with `key`. */
store_operation_t *store_webhook_connection(store_pool_t *pool, const codec_secret_key_t *key,
                                            const eng_id_t *id, store_webhook_cb cb, void *arg);

#endif
