/*
 * Retell's X-Retell-Signature (see retell.h for the rules, each one the
 * SDK's). The header is parsed by hand, byte by byte within its length, in
 * the order of the SDK's regular expression `^v=(\d+),d=([0-9a-f]+)$/i`
 * and its checks after it; the HMAC is computed over the body and the
 * timestamp's decimal text in one EVP_MAC pass (no copy of the body), and
 * compared with the header's digest by CRYPTO_memcmp, so the time a refusal
 * takes says nothing of how much of the digest matched.
 */
#include "agent/retell.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdio.h>
#include <string.h>

#define DIGEST_BYTES 32
/* Number.MAX_SAFE_INTEGER: the largest timestamp the SDK takes */
#define MAX_SAFE_INTEGER 9007199254740991LL

/* `v=<digits>,d=<64 hex>` into *timestamp and digest; false when the header is not that. */
static bool parse(const char *header, size_t length, int64_t *timestamp,
                  unsigned char digest[DIGEST_BYTES])
{
    size_t i = 0;
    if (length < 2 || (header[0] != 'v' && header[0] != 'V') || header[1] != '=')
        return false;
    i = 2;
    size_t first = i;
    long long value = 0;
    bool safe = true;
    for (; i < length && header[i] >= '0' && header[i] <= '9'; i++) {
        /* past MAX_SAFE_INTEGER the digits still have to be digits: keep reading */
        if (safe && value > (MAX_SAFE_INTEGER - (header[i] - '0')) / 10)
            safe = false;
        else if (safe)
            value = value * 10 + (header[i] - '0');
    }
    if (i == first || !safe)
        return false;
    if (length - i < 3 || header[i] != ',' || (header[i + 1] != 'd' && header[i + 1] != 'D') ||
        header[i + 2] != '=')
        return false;
    i += 3;
    if (length - i != 2 * DIGEST_BYTES)
        return false;
    for (size_t k = 0; k < DIGEST_BYTES; k++) {
        int high = OPENSSL_hexchar2int((unsigned char)header[i + 2 * k]),
            low = OPENSSL_hexchar2int((unsigned char)header[i + 2 * k + 1]);
        if (high < 0 || low < 0)
            return false;
        digest[k] = (unsigned char)(high << 4 | low);
    }
    *timestamp = value;
    return true;
}

/* HMAC-SHA256(key, body || stamp) into mac; false when OpenSSL fails. */
static bool hmac(const char *key, const char *body, size_t length, const char *stamp,
                 unsigned char mac[DIGEST_BYTES])
{
    EVP_MAC *algorithm = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = algorithm ? EVP_MAC_CTX_new(algorithm) : NULL;
    char digest_name[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
                           OSSL_PARAM_construct_end()};
    size_t mac_length = 0;
    bool ok = ctx != NULL &&
              EVP_MAC_init(ctx, (const unsigned char *)key, strlen(key), params) == 1 &&
              (length == 0 || EVP_MAC_update(ctx, (const unsigned char *)body, length) == 1) &&
              EVP_MAC_update(ctx, (const unsigned char *)stamp, strlen(stamp)) == 1 &&
              EVP_MAC_final(ctx, mac, &mac_length, DIGEST_BYTES) == 1 && mac_length == DIGEST_BYTES;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(algorithm);
    return ok;
}

bool retell_signature_valid(const char *api_key, const char *body, size_t length,
                            const char *header, size_t header_length, int64_t now_ms)
{
    int64_t timestamp;
    unsigned char claimed[DIGEST_BYTES], mac[DIGEST_BYTES];
    if (api_key == NULL || api_key[0] == 0 || header == NULL || (body == NULL && length > 0) ||
        !parse(header, header_length, &timestamp, claimed))
        return false;
    /* |now - timestamp| without overflow: the true distance is below 2^64 */
    uint64_t distance = now_ms >= timestamp ? (uint64_t)now_ms - (uint64_t)timestamp
                                            : (uint64_t)timestamp - (uint64_t)now_ms;
    if (distance > RETELL_SIGNATURE_TOLERANCE_MS)
        return false;
    char stamp[24];
    snprintf(stamp, sizeof(stamp), "%lld", (long long)timestamp);
    bool valid =
        hmac(api_key, body, length, stamp, mac) && CRYPTO_memcmp(mac, claimed, DIGEST_BYTES) == 0;
    OPENSSL_cleanse(mac, sizeof(mac));
    return valid;
}
