/*
 * API keys (see keys.h): making them, reading their organization out of them,
 * hashing them, and the typed store of keys (SQL in sql/api_keys.sql; this
 * file alone knows its parameter positions and result columns). A key is
 * shown once, at creation; the database keeps its hash, its role, an
 * optional name and the prefix that listings show so that a person can tell
 * keys apart.
 */
#include "store/keys.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "slotd/alloc.h"
#include "slotd/codec.h"
#include "store_sql.h"

void store_random_bytes(uint8_t *out, size_t count)
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
    store_random_bytes(secret, sizeof(secret));
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

/* The columns of every statement that answers keys. */
enum { COL_ID, COL_ROLE, COL_NAME, COL_PREFIX, COL_CREATED };

static int read_key(const PGresult *res, int row, store_api_key_t *out)
{
    memset(out, 0, sizeof(*out));
    if (codec_parse_uuid(PQgetvalue(res, row, COL_ID), &out->id) != 0)
        return STORE_EINTERNAL;
    out->role = PQgetvalue(res, row, COL_ROLE);
    out->name = store_nullable(res, row, COL_NAME);
    out->prefix = store_nullable(res, row, COL_PREFIX);
    out->created_at = strtoll(PQgetvalue(res, row, COL_CREATED), NULL, 10);
    return 0;
}

static void on_one(store_operation_t *operation, const PGresult *res, int error)
{
    store_api_key_cb cb = (store_api_key_cb)operation->callback;
    store_api_key_t key;
    if (!error && PQntuples(res) != 1)
        error = STORE_ENOTFOUND;
    if (!error)
        error = read_key(res, 0, &key);
    cb(error, error ? NULL : &key, operation->arg);
}

store_operation_t *store_keys_insert(store_pool_t *pool, const eng_id_t *organization,
                                     const char *key, const char *role, const char *name,
                                     store_api_key_cb cb, void *arg)
{
    uint8_t hash[STORE_KEY_HASH_LENGTH];
    char org[37], hash_text[2 + 2 * STORE_KEY_HASH_LENGTH + 1], prefix[STORE_KEY_PREFIX_LENGTH + 1];
    codec_format_uuid(organization, org);
    store_key_hash(key, STORE_KEY_LENGTH, hash);
    store_key_hash_text(hash, hash_text);
    memcpy(prefix, key, STORE_KEY_PREFIX_LENGTH);
    prefix[STORE_KEY_PREFIX_LENGTH] = 0;
    const char *values[5] = {org, hash_text, role, name, prefix};
    return store_operation_start(pool, "key_insert", 5, values, on_one, (void (*)(void))cb, arg);
}

store_operation_t *store_keys_get(store_pool_t *pool, const eng_id_t *organization,
                                  const eng_id_t *id, store_api_key_cb cb, void *arg)
{
    char org[37], key[37];
    codec_format_uuid(organization, org);
    codec_format_uuid(id, key);
    const char *values[2] = {org, key};
    return store_operation_start(pool, "key_get", 2, values, on_one, (void (*)(void))cb, arg);
}

/* The list asks for one row more than the page: its presence means another page. */
static void on_list(store_operation_t *operation, const PGresult *res, int error)
{
    store_api_key_list_cb cb = (store_api_key_list_cb)operation->callback;
    int limit = (int)operation->extra;
    int rows = error ? 0 : PQntuples(res);
    int page = rows < limit ? rows : limit;
    store_api_key_t *items = slotd_calloc(page ? (size_t)page : 1, sizeof(*items));
    for (int row = 0; row < page && !error; row++)
        error = read_key(res, row, &items[row]);
    cb(error, error ? NULL : items, error ? 0 : (size_t)page, !error && rows > limit,
       operation->arg);
    free(items);
}

store_operation_t *store_keys_list(store_pool_t *pool, const eng_id_t *organization,
                                   const eng_id_t *cursor, int limit, store_api_key_list_cb cb,
                                   void *arg)
{
    return store_operation_start_page(pool, "key_list", organization, cursor, limit, on_list,
                                      (void (*)(void))cb, arg);
}

/* key_revoke answers 'revoked', 'not_found' or 'last_admin'. */
static void on_revoked(store_operation_t *operation, const PGresult *res, int error)
{
    store_api_key_revoke_cb cb = (store_api_key_revoke_cb)operation->callback;
    if (!error) {
        const char *outcome = PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "";
        error = strcmp(outcome, "revoked") == 0      ? 0
                : strcmp(outcome, "last_admin") == 0 ? STORE_ECONFLICT
                                                     : STORE_ENOTFOUND;
    }
    cb(error, operation->arg);
}

store_operation_t *store_keys_revoke(store_pool_t *pool, const eng_id_t *organization,
                                     const eng_id_t *id, store_api_key_revoke_cb cb, void *arg)
{
    char org[37], key[37];
    codec_format_uuid(organization, org);
    codec_format_uuid(id, key);
    const char *values[2] = {org, key};
    return store_operation_start(pool, "key_revoke", 2, values, on_revoked, (void (*)(void))cb,
                                 arg);
}
