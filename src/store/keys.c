/*
 * API keys (see keys.h).
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
