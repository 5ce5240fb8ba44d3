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

#define STORE_KEY_LENGTH (3 + 32 + 1 + 48)
#define STORE_KEY_HASH_LENGTH 32

/** Makes a new key for an organization into `key` (STORE_KEY_LENGTH + 1 bytes). */
void store_key_generate(const eng_id_t *organization, char *key);

/** Splits a key: its organization id. False when it is not a well-formed key. */
bool store_key_organization(const char *key, size_t length, eng_id_t *organization);

/** SHA-256 of the key's text. */
void store_key_hash(const char *key, size_t length, uint8_t hash[STORE_KEY_HASH_LENGTH]);

#endif
