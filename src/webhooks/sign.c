/*
 * Standard Webhooks signatures (see sign.h), with OpenSSL's HMAC and base64.
 */
#include "webhooks/sign.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slotd/alloc.h"

/* The key bytes of "whsec_<base64>" into `key` (at most 64); their count, or -1. */
static int secret_key(const char *secret, unsigned char key[66])
{
    if (strncmp(secret, "whsec_", 6) != 0)
        return -1;
    const char *text = secret + 6;
    size_t length = strlen(text);
    if (length == 0 || length % 4 != 0 || length > 88)
        return -1;
    int n = EVP_DecodeBlock(key, (const unsigned char *)text, (int)length);
    if (n < 0)
        return -1;
    /* EVP_DecodeBlock counts the padding's zero bytes */
    for (size_t i = length; i > 0 && text[i - 1] == '='; i--)
        n--;
    return n;
}

int webhook_sign(const char *secret, const char *id, int64_t timestamp, const char *body,
                 size_t body_length, char *signature)
{
    unsigned char key[66], mac[EVP_MAX_MD_SIZE];
    int key_length = secret_key(secret, key);
    if (key_length <= 0)
        return -1;
    char prefix[160];
    int prefix_length = snprintf(prefix, sizeof(prefix), "%s.%lld.", id, (long long)timestamp);
    unsigned int mac_length = 0;
    bool ok = prefix_length > 0 && (size_t)prefix_length < sizeof(prefix);
    if (ok) {
        size_t length = (size_t)prefix_length + body_length;
        unsigned char *message = slotd_malloc(length + 1);
        memcpy(message, prefix, (size_t)prefix_length);
        memcpy(message + prefix_length, body, body_length);
        ok = HMAC(EVP_sha256(), key, key_length, message, length, mac, &mac_length) != NULL;
        free(message);
    }
    OPENSSL_cleanse(key, sizeof(key));
    if (!ok || mac_length != 32)
        return -1;
    memcpy(signature, "v1,", 3);
    EVP_EncodeBlock((unsigned char *)signature + 3, mac, (int)mac_length);
    return 0;
}
