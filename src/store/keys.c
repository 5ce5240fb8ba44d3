/*
 * API keys (see keys.h): making them, reading their organization out of them,
 * hashing them, and the SQL the service runs on them. A key is shown once, at
 * creation; the database keeps its hash, its role, an optional name and the
 * prefix that listings show so that a person can tell keys apart.
 */
#include "store/keys.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "slotd/codec.h"

static void random_bytes(uint8_t *out, size_t count)
{
    size_t done = 0;
    while (done < count) {
        ssize_t n = getrandom(out + done, count - done, 0);
        if (n <= 0) {
            fputs("slotd: no randomness from the kernel\n", stderr);
            abort();
        }
        done += (size_t)n;
    }
}

void store_key_generate(const eng_id_t *organization, char *key)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t secret[24];
    random_bytes(secret, sizeof(secret));
    char *p = key;
    memcpy(p, "sk_", 3);
    p += 3;
    for (int i = 0; i < 16; i++) {
        *p++ = hex[organization->bytes[i] >> 4];
        *p++ = hex[organization->bytes[i] & 15];
    }
    *p++ = '_';
    for (size_t i = 0; i < sizeof(secret); i++) {
        *p++ = hex[secret[i] >> 4];
        *p++ = hex[secret[i] & 15];
    }
    *p = 0;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

bool store_key_organization(const char *key, size_t length, eng_id_t *organization)
{
    if (length != STORE_KEY_LENGTH || memcmp(key, "sk_", 3) != 0 || key[35] != '_')
        return false;
    for (int i = 0; i < 16; i++) {
        int hi = hex_value(key[3 + 2 * i]), lo = hex_value(key[4 + 2 * i]);
        if (hi < 0 || lo < 0)
            return false;
        organization->bytes[i] = (uint8_t)(hi << 4 | lo);
    }
    for (size_t i = 36; i < length; i++)
        if (hex_value(key[i]) < 0)
            return false;
    return true;
}

void store_key_hash(const char *key, size_t length, uint8_t hash[STORE_KEY_HASH_LENGTH])
{
    SHA256((const unsigned char *)key, length, hash);
}

void store_key_hash_text(const uint8_t hash[STORE_KEY_HASH_LENGTH], char *text)
{
    static const char hex[] = "0123456789abcdef";
    text[0] = '\\';
    text[1] = 'x';
    for (size_t i = 0; i < STORE_KEY_HASH_LENGTH; i++) {
        text[2 + 2 * i] = hex[hash[i] >> 4];
        text[3 + 2 * i] = hex[hash[i] & 15];
    }
    text[2 + 2 * STORE_KEY_HASH_LENGTH] = 0;
}

#define KEY_COLUMNS                                                                                \
    "id, role, name, prefix, "                                                                     \
    "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "

const store_statement_t store_key_statements[] = {
    {"key_auth", "SELECT k.role, k.id FROM api_keys k JOIN organizations o ON o.id = "
                 "k.organization_id WHERE k.organization_id = $1 AND k.key_hash = $2::bytea "
                 "AND k.revoked_at IS NULL AND o.deleted_at IS NULL"},
    {"key_insert", "INSERT INTO api_keys (organization_id, key_hash, role, name, prefix) "
                   "SELECT $1, $2::bytea, $3, $4, $5 FROM organizations "
                   "WHERE id = $1 AND deleted_at IS NULL RETURNING " KEY_COLUMNS},
    {"key_list", "SELECT " KEY_COLUMNS "FROM api_keys WHERE organization_id = $1 "
                 "AND revoked_at IS NULL AND ($2::uuid IS NULL OR id > $2::uuid) "
                 "ORDER BY id LIMIT $3::int"},
    {"key_get", "SELECT " KEY_COLUMNS "FROM api_keys WHERE organization_id = $1 AND id = $2 "
                "AND revoked_at IS NULL"},
    {"key_revoke", "SELECT slotd_revoke_key($1, $2)"},
};

const size_t store_key_statement_count =
    sizeof(store_key_statements) / sizeof(store_key_statements[0]);
