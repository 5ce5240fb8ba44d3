/*
 * Calendar connections of a resource in the database, as structs: the typed
 * store for the domain layer. Every function runs on the loop, starts one
 * operation on the pool and returns it (store_operation_cancel forgets it), or
 * NULL when the pool refuses it (then nothing is called back). A callback runs
 * once, on the loop; the structs it receives (and their strings) are valid
 * only during the call.
 *
 * Credentials are sealed here, with the service's secret key, before they
 * leave for the database (codec/secret.h: AES-256-GCM, the organization's and
 * the connection's ids as additional data), and opened only by
 * store_connections_credentials; no other answer carries them. A new
 * connection's id is chosen by the database first (connection_new_id), so
 * that its credentials are sealed with it, then the row is written: two
 * statements, one operation. The plaintext the store was given is copied for
 * that time and wiped when the operation ends.
 */
#ifndef SLOTD_STORE_CONNECTIONS_H
#define SLOTD_STORE_CONNECTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/secret.h"
#include "slotd/engine.h"
#include "store/operation.h"

/** A connection as stored (its credentials aside). */
typedef struct {
    eng_id_t id, resource_id;
    const char *provider;         /**< google, microsoft, calcom, ics */
    const char *direction;        /**< pull, push, both */
    const char *calendar_id;      /**< NULL: none (the provider's default, or unused) */
    int64_t calcom_event_type_id; /**< 0: none */
    const char *status;           /**< active, broken, paused */
    bool synced, fully_synced;    /**< whether last_sync_at / last_full_sync_at are set */
    int64_t last_sync_at, last_full_sync_at; /**< UTC seconds */
    const char *last_error;                  /**< NULL: none */
    long busy_events;                        /**< busy events it brought */
    int64_t created_at, updated_at;          /**< UTC seconds */
    const char *organization_timezone;
} store_connection_t;

/** What a write sets. For an update, only what is set (non-NULL, or marked `*_set`) changes. */
typedef struct {
    const char *provider;  /**< insert only */
    const char *direction; /**< NULL: unchanged (update) */
    bool calendar_id_set;
    const char *calendar_id; /**< NULL with calendar_id_set: cleared */
    bool event_type_set;
    int64_t calcom_event_type_id; /**< 0 with event_type_set: cleared */
    const char *credentials;      /**< the plaintext (JSON text) to seal; NULL: unchanged */
    size_t credentials_length;
    const char *status; /**< update only; NULL: unchanged */
} store_connection_write_t;

/** One connection: error 0 with `connection`, or a negative STORE_E* code (connection NULL):
 *  STORE_ENOTFOUND (no such live connection, or resource), STORE_ECONFLICT (an update whose
 *  connection changed since it was checked). */
typedef void (*store_connection_cb)(int error, const store_connection_t *connection, void *arg);

/** A page of a resource's connections: `more` when another page follows the last item;
 *  STORE_ENOTFOUND when the resource is not a live one. */
typedef void (*store_connection_list_cb)(int error, const store_connection_t *items, size_t count,
                                         bool more, void *arg);

/** A deletion: 0 with the connection's resource, or STORE_ENOTFOUND (resource NULL). */
typedef void (*store_connection_delete_cb)(int error, const eng_id_t *resource, void *arg);

/** Opened credentials: 0 with the plaintext (`length` bytes and a NUL, wiped after the call),
 *  STORE_ENOTFOUND, or STORE_EINTERNAL when they do not open (another key, or a value that
 *  was not sealed for this row: logged with the connection's id). */
typedef void (*store_connection_credentials_cb)(int error, const char *credentials, size_t length,
                                                void *arg);

/** Creates a connection of `resource` (write->credentials required); `key` must outlive the
 *  operation. */
store_operation_t *store_connections_insert(store_pool_t *pool, const codec_secret_key_t *key,
                                            const eng_id_t *organization, const eng_id_t *resource,
                                            const store_connection_write_t *write,
                                            store_connection_cb cb, void *arg);

store_operation_t *store_connections_get(store_pool_t *pool, const eng_id_t *organization,
                                         const eng_id_t *id, store_connection_cb cb, void *arg);

/** Up to `limit` connections of a resource in id order, after `cursor` (NULL: the first). */
store_operation_t *store_connections_list(store_pool_t *pool, const eng_id_t *organization,
                                          const eng_id_t *resource, const eng_id_t *cursor,
                                          int limit, store_connection_list_cb cb, void *arg);

/**
 * Changes a connection as `write` says, provided it still has the direction and Cal.com event
 * type of `checked` (what the change was checked against; else STORE_ECONFLICT). New
 * credentials are sealed with `key` (NULL only when write->credentials is NULL) and make a
 * broken connection active again unless write->status says otherwise.
 */
store_operation_t *store_connections_update(store_pool_t *pool, const codec_secret_key_t *key,
                                            const eng_id_t *organization, const eng_id_t *id,
                                            const store_connection_t *checked,
                                            const store_connection_write_t *write,
                                            store_connection_cb cb, void *arg);

/** Soft-deletes a connection and deletes the busy events it brought, in one statement. */
store_operation_t *store_connections_delete(store_pool_t *pool, const eng_id_t *organization,
                                            const eng_id_t *id, store_connection_delete_cb cb,
                                            void *arg);

/**
 * A secret of a connection sealed with `key` for that row, as PostgreSQL's hex bytea text
 * (caller frees; NULL when sealing failed). `purpose` NULL: its credentials; else another
 * secret of it (the sync's "access" token), bound to that name too, so that neither opens
 * as the other.
 */
char *store_connection_seal(const codec_secret_key_t *key, const eng_id_t *organization,
                            const eng_id_t *id, const char *purpose, const char *plain,
                            size_t length);

/** Opens what store_connection_seal sealed (bytea text as the database answers it): 0 with
 *  *plain (wipe and free with codec_secret_free), or STORE_EINTERNAL, logged with the id. */
int store_connection_open(const codec_secret_key_t *key, const eng_id_t *organization,
                          const eng_id_t *id, const char *purpose, const char *bytea_text,
                          char **plain, size_t *length);

/** A live connection's credentials, opened with `key` (which must outlive the operation). */
store_operation_t *store_connections_credentials(store_pool_t *pool, const codec_secret_key_t *key,
                                                 const eng_id_t *organization, const eng_id_t *id,
                                                 store_connection_credentials_cb cb, void *arg);

#endif
