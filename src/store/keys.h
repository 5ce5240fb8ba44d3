/*
 * API keys: "sk_<organization id as 32 hex digits>_<48 hex digits of secret>".
 *
 * The organization id inside the key lets the service find the key's row by
 * (organization_id, key_hash) — a primary-key-path lookup that stays local to
 * one shard when the schema is distributed by organization. Only the SHA-256 of
 * the whole key is stored; the key itself is shown once, when it is created.
 */
#ifndef SLOTD_STORE_KEYS_H
#define SLOTD_STORE_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slotd/engine.h"
#include "store/pool.h"

#define STORE_KEY_LENGTH (3 + 32 + 1 + 48)
#define STORE_KEY_HASH_LENGTH 32
/** What listings show of a key: "sk_", the organization, "_" and 6 digits of the secret. */
#define STORE_KEY_PREFIX_LENGTH (3 + 32 + 1 + 6)

/** Makes a new key for an organization into `key` (STORE_KEY_LENGTH + 1 bytes). */
void store_key_generate(const eng_id_t *organization, char *key);

/** Splits a key: its organization id. False when it is not a well-formed key. */
bool store_key_organization(const char *key, size_t length, eng_id_t *organization);

/** SHA-256 of the key's text. */
void store_key_hash(const char *key, size_t length, uint8_t hash[STORE_KEY_HASH_LENGTH]);

/** The hash as PostgreSQL's bytea text, "\\x" and 64 hex digits, into `text` (67 bytes). */
void store_key_hash_text(const uint8_t hash[STORE_KEY_HASH_LENGTH], char *text);

/**
 * The statements the HTTP layer runs on keys, prepared on every pool
 * connection with the others (add them to the pool's list):
 *   key_auth    ($1 organization, $2 hash)          → role, id of a live key
 *   key_insert  ($1 organization, $2 hash, $3 role, $4 name, $5 prefix)
 *                                                   → id, role, name, prefix, created_at
 *   key_list    ($1 organization, $2 cursor id or NULL, $3 rows) → the same columns, by id
 *   key_get     ($1 organization, $2 id)            → the same columns
 *   key_revoke  ($1 organization, $2 id)            → 'revoked' | 'not_found' | 'last_admin'
 * created_at is RFC 3339 text in UTC.
 */
extern const store_statement_t store_key_statements[];
extern const size_t store_key_statement_count;

#endif
