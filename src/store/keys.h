/*
 * API keys: "sk_<organization id as 32 hex digits>_<48 hex digits of secret>".
 *
 * The organization id inside the key lets the service find the key's row by
 * (organization_id, key_hash) — a primary-key-path lookup that stays local to
 * one shard when the schema is distributed by organization. Only the SHA-256 of
 * the whole key is stored; the key itself is shown once, when it is created.
 * Below the key's own functions, the typed store of keys: structs in and out,
 * the SQL in sql/api_keys.sql.
 */
#ifndef SLOTD_STORE_KEYS_H
#define SLOTD_STORE_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slotd/engine.h"
#include "store/operation.h"
#include "store/pool.h"

#define STORE_KEY_LENGTH (3 + 32 + 1 + 48)
#define STORE_KEY_HASH_LENGTH 32
/** What listings show of a key: "sk_", the organization, "_" and 6 digits of the secret. */
#define STORE_KEY_PREFIX_LENGTH (3 + 32 + 1 + 6)

/** Fills `out` with `count` bytes from the kernel's randomness (aborts without it). */
void store_random_bytes(uint8_t *out, size_t count);

/** Makes a new key for an organization into `key` (STORE_KEY_LENGTH + 1 bytes). */
void store_key_generate(const eng_id_t *organization, char *key);

/** Splits a key: its organization id. False when it is not a well-formed key. */
bool store_key_organization(const char *key, size_t length, eng_id_t *organization);

/** SHA-256 of the key's text. */
void store_key_hash(const char *key, size_t length, uint8_t hash[STORE_KEY_HASH_LENGTH]);

/** The hash as PostgreSQL's bytea text, "\\x" and 64 hex digits, into `text` (67 bytes). */
void store_key_hash_text(const uint8_t hash[STORE_KEY_HASH_LENGTH], char *text);

/* ---- the typed store for keys: as for locations.h, every function runs on the loop, starts
 * one operation and returns it (store_operation_cancel forgets it), or NULL when the pool
 * refuses it; a callback runs once, with structs valid only during the call. ---- */

/** A live key as stored (never the key itself: only its hash is kept). */
typedef struct {
    eng_id_t id;
    const char *role;   /**< "admin", "agent" or "sync" */
    const char *name;   /**< NULL: none */
    const char *prefix; /**< NULL for keys made before prefixes were kept */
    int64_t created_at; /**< UTC seconds */
} store_api_key_t;

/** One key: error 0 with `key`, or a negative STORE_E* code (key NULL). */
typedef void (*store_api_key_cb)(int error, const store_api_key_t *key, void *arg);

/** A page of keys: `more` when another page follows the last item. */
typedef void (*store_api_key_list_cb)(int error, const store_api_key_t *items, size_t count,
                                      bool more, void *arg);

/** A revocation: 0, STORE_ENOTFOUND, or STORE_ECONFLICT when it is the organization's last
 *  admin key. */
typedef void (*store_api_key_revoke_cb)(int error, void *arg);

/** Stores `key` (STORE_KEY_LENGTH characters, from store_key_generate) as its hash and
 *  prefix; STORE_ENOTFOUND when the organization is not a live one. */
store_operation_t *store_keys_insert(store_pool_t *pool, const eng_id_t *organization,
                                     const char *key, const char *role, const char *name,
                                     store_api_key_cb cb, void *arg);

/** STORE_ENOTFOUND when the key is not a live one of the organization. */
store_operation_t *store_keys_get(store_pool_t *pool, const eng_id_t *organization,
                                  const eng_id_t *id, store_api_key_cb cb, void *arg);

/** Up to `limit` live keys in id order, after `cursor` (NULL: from the start). */
store_operation_t *store_keys_list(store_pool_t *pool, const eng_id_t *organization,
                                   const eng_id_t *cursor, int limit, store_api_key_list_cb cb,
                                   void *arg);

/** Revokes a key; the api_keys trigger announces it to every instance. */
store_operation_t *store_keys_revoke(store_pool_t *pool, const eng_id_t *organization,
                                     const eng_id_t *id, store_api_key_revoke_cb cb, void *arg);

#endif
