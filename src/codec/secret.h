/*
 * Secrets at rest: AES-256-GCM (OpenSSL EVP) under the service's `secret_key`.
 *
 * A sealed value is one version byte (1), a random 12-byte nonce, the
 * ciphertext (as long as the plaintext) and the 16-byte GCM tag. The caller
 * binds every value to where it is stored with additional authenticated data
 * (a calendar connection's organization and connection ids): a sealed value
 * copied to another row, a flipped bit, a truncation or another key all fail
 * to open, and nothing of the plaintext comes out. A fresh nonce per value
 * means sealing the same plaintext twice never gives the same bytes.
 *
 * Nothing here logs, and every buffer that held a plaintext or the key is
 * wiped (OPENSSL_cleanse) before it is freed. Thread-safe; no global state.
 */
#ifndef SLOTD_CODEC_SECRET_H
#define SLOTD_CODEC_SECRET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CODEC_SECRET_KEY_BYTES 32
#define CODEC_SECRET_NONCE_BYTES 12
#define CODEC_SECRET_TAG_BYTES 16
/** What sealing adds to a plaintext: the version byte, the nonce and the tag. */
#define CODEC_SECRET_OVERHEAD (1 + CODEC_SECRET_NONCE_BYTES + CODEC_SECRET_TAG_BYTES)

/** Errors: negative, as everywhere. */
enum {
    CODEC_SECRET_EINVAL = -1, /**< a key that is not 32 bytes of base64, or a malformed value */
    CODEC_SECRET_EOPEN = -2,  /**< the value does not open: other key, other AAD, tampered */
    CODEC_SECRET_ECRYPTO = -3 /**< OpenSSL failed (no randomness for a nonce, ...) */
};

/** A key: 32 bytes. */
typedef struct {
    uint8_t bytes[CODEC_SECRET_KEY_BYTES];
} codec_secret_key_t;

/**
 * Decodes a key written as standard base64 (RFC 4648, with its padding) of
 * exactly 32 bytes into *key. Returns 0 or CODEC_SECRET_EINVAL (nothing is
 * kept of a refused text).
 */
int codec_secret_key_parse(const char *base64, codec_secret_key_t *key);

/**
 * Seals `length` bytes of `plain` under `key`, binding `aad` (`aad_length`
 * bytes). *sealed is allocated (the caller frees it) and holds
 * length + CODEC_SECRET_OVERHEAD bytes, *sealed_length says so. Returns 0 or
 * CODEC_SECRET_ECRYPTO (then *sealed is NULL).
 */
int codec_secret_seal(const codec_secret_key_t *key, const void *aad, size_t aad_length,
                      const void *plain, size_t length, uint8_t **sealed, size_t *sealed_length);

/**
 * Opens what codec_secret_seal sealed with the same key and AAD. *plain is
 * allocated with one more byte, a NUL, after the *plain_length bytes of the
 * plaintext; the caller wipes and frees it with codec_secret_free. Returns 0,
 * CODEC_SECRET_EINVAL (too short, unknown version), CODEC_SECRET_EOPEN (the
 * tag does not verify) or CODEC_SECRET_ECRYPTO; on error *plain is NULL.
 */
int codec_secret_open(const codec_secret_key_t *key, const void *aad, size_t aad_length,
                      const uint8_t *sealed, size_t sealed_length, char **plain,
                      size_t *plain_length);

/** Wipes `length` bytes of `secret` and frees it (NULL is fine). */
void codec_secret_free(void *secret, size_t length);

#endif
