/*
 * Secrets at rest (see secret.h): AES-256-GCM through OpenSSL's EVP interface,
 * a random nonce per value from RAND_bytes, and a version byte in front so
 * that another scheme (or a rotated key) can be told apart later.
 *
 * Opening checks the tag before anything of the plaintext is handed out: a
 * value that fails EVP_DecryptFinal_ex has its decrypted bytes wiped and is
 * refused as a whole.
 */
#include "codec/secret.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "slotd/alloc.h"

#define SECRET_VERSION 1

int codec_secret_key_parse(const char *base64, codec_secret_key_t *key)
{
    size_t length = base64 ? strlen(base64) : 0;
    /* 32 bytes are 44 characters of base64, the last one padding */
    if (length != 44 || base64[43] != '=' || base64[42] == '=')
        return CODEC_SECRET_EINVAL;
    unsigned char decoded[33]; /* EVP_DecodeBlock writes 3 bytes per 4 characters */
    int n = EVP_DecodeBlock(decoded, (const unsigned char *)base64, (int)length);
    int rc = CODEC_SECRET_EINVAL;
    if (n == 33) { /* the padding's byte is counted, as a zero */
        memcpy(key->bytes, decoded, CODEC_SECRET_KEY_BYTES);
        rc = 0;
    }
    OPENSSL_cleanse(decoded, sizeof(decoded));
    return rc;
}

int codec_secret_seal(const codec_secret_key_t *key, const void *aad, size_t aad_length,
                      const void *plain, size_t length, uint8_t **sealed, size_t *sealed_length)
{
    *sealed = NULL;
    *sealed_length = 0;
    if (length > INT32_MAX - CODEC_SECRET_OVERHEAD || aad_length > INT32_MAX)
        return CODEC_SECRET_ECRYPTO;
    uint8_t *out = slotd_malloc(length + CODEC_SECRET_OVERHEAD);
    uint8_t *nonce = out + 1, *cipher = nonce + CODEC_SECRET_NONCE_BYTES;
    out[0] = SECRET_VERSION;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, final = 0;
    bool ok =
        ctx != NULL && RAND_bytes(nonce, CODEC_SECRET_NONCE_BYTES) == 1 &&
        EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, CODEC_SECRET_NONCE_BYTES, NULL) == 1 &&
        EVP_EncryptInit_ex(ctx, NULL, NULL, key->bytes, nonce) == 1 &&
        (aad_length == 0 || EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aad_length) == 1) &&
        EVP_EncryptUpdate(ctx, cipher, &n, plain, (int)length) == 1 &&
        EVP_EncryptFinal_ex(ctx, cipher + n, &final) == 1 && (size_t)(n + final) == length &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, CODEC_SECRET_TAG_BYTES, cipher + length) ==
            1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) {
        codec_secret_free(out, length + CODEC_SECRET_OVERHEAD);
        return CODEC_SECRET_ECRYPTO;
    }
    *sealed = out;
    *sealed_length = length + CODEC_SECRET_OVERHEAD;
    return 0;
}

int codec_secret_open(const codec_secret_key_t *key, const void *aad, size_t aad_length,
                      const uint8_t *sealed, size_t sealed_length, char **plain,
                      size_t *plain_length)
{
    *plain = NULL;
    *plain_length = 0;
    if (sealed_length < CODEC_SECRET_OVERHEAD || sealed[0] != SECRET_VERSION ||
        sealed_length > INT32_MAX || aad_length > INT32_MAX)
        return CODEC_SECRET_EINVAL;
    size_t length = sealed_length - CODEC_SECRET_OVERHEAD;
    const uint8_t *nonce = sealed + 1, *cipher = nonce + CODEC_SECRET_NONCE_BYTES;
    char *out = slotd_malloc(length + 1);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, final = 0;
    bool ready =
        ctx != NULL && EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, CODEC_SECRET_NONCE_BYTES, NULL) == 1 &&
        EVP_DecryptInit_ex(ctx, NULL, NULL, key->bytes, nonce) == 1 &&
        (aad_length == 0 || EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aad_length) == 1) &&
        EVP_DecryptUpdate(ctx, (unsigned char *)out, &n, cipher, (int)length) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, CODEC_SECRET_TAG_BYTES,
                            (void *)(cipher + length)) == 1;
    /* the tag is checked here: a failure is a value that does not open */
    bool opened = ready && EVP_DecryptFinal_ex(ctx, (unsigned char *)out + n, &final) == 1 &&
                  (size_t)(n + final) == length;
    EVP_CIPHER_CTX_free(ctx);
    if (!opened) {
        codec_secret_free(out, length + 1);
        return ready ? CODEC_SECRET_EOPEN : CODEC_SECRET_ECRYPTO;
    }
    out[length] = 0;
    *plain = out;
    *plain_length = length;
    return 0;
}

void codec_secret_free(void *secret, size_t length)
{
    if (secret == NULL)
        return;
    OPENSSL_cleanse(secret, length);
    free(secret);
}
