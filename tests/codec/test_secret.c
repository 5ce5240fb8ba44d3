/*
 * Secrets at rest (src/codec/secret.c): what is sealed opens with the same
 * key and additional data only; any other key, other data or a changed byte
 * is refused, and nothing of the plaintext comes out.
 */
#include <string.h>

#include "codec/secret.h"
#include "test.h"

/* 32 bytes: 0x00, 0x01, ... 0x1f */
static const char *const key_text = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
/* 32 bytes of 0xff */
static const char *const other_key_text = "//////////////////////////////////////////8=";

static const char aad[] = "organization 1, connection 2";
static const char plain[] = "{\"refresh_token\":\"1//0gZ-secret\"}";

static codec_secret_key_t key_of(const char *text)
{
    codec_secret_key_t key;
    CHECK_EQ(codec_secret_key_parse(text, &key), 0);
    return key;
}

static void seal(const codec_secret_key_t *key, uint8_t **sealed, size_t *length)
{
    CHECK_EQ(codec_secret_seal(key, aad, sizeof(aad), plain, strlen(plain), sealed, length), 0);
    CHECK_EQ(*length, strlen(plain) + CODEC_SECRET_OVERHEAD);
}

/* Opening must fail with `expected`, and hand out nothing. */
static void expect_refused(const codec_secret_key_t *key, const void *data, size_t data_length,
                           const uint8_t *sealed, size_t length, int expected)
{
    char *out = (char *)1;
    size_t out_length = 99;
    CHECK_EQ(codec_secret_open(key, data, data_length, sealed, length, &out, &out_length),
             expected);
    CHECK(out == NULL);
    CHECK_EQ(out_length, 0);
}

TEST(secret_key_is_32_bytes_of_base64)
{
    codec_secret_key_t key = key_of(key_text);
    for (int i = 0; i < CODEC_SECRET_KEY_BYTES; i++)
        CHECK_EQ(key.bytes[i], i);
    const char *refused[] = {
        "",
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",      /* padding missing */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==",     /* 31 bytes */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gIQ==", /* 34 bytes */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd*h8=",     /* not base64 */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8 ",     /* a space for the padding */
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        CHECK_EQ(codec_secret_key_parse(refused[i], &key), CODEC_SECRET_EINVAL);
    CHECK_EQ(codec_secret_key_parse(NULL, &key), CODEC_SECRET_EINVAL);
}

TEST(secret_round_trip_with_a_fresh_nonce_each_time)
{
    codec_secret_key_t key = key_of(key_text);
    uint8_t *a, *b;
    size_t a_length, b_length;
    seal(&key, &a, &a_length);
    seal(&key, &b, &b_length);
    /* the same plaintext twice: other nonces, other bytes; the plaintext is not in them */
    CHECK(memcmp(a + 1, b + 1, CODEC_SECRET_NONCE_BYTES) != 0);
    CHECK(memcmp(a, b, a_length) != 0);
    CHECK(memmem(a, a_length, "secret", 6) == NULL);
    char *out;
    size_t out_length;
    CHECK_EQ(codec_secret_open(&key, aad, sizeof(aad), a, a_length, &out, &out_length), 0);
    CHECK_EQ(out_length, strlen(plain));
    CHECK(strcmp(out, plain) == 0);
    codec_secret_free(out, out_length);
    CHECK_EQ(codec_secret_open(&key, aad, sizeof(aad), b, b_length, &out, &out_length), 0);
    CHECK(strcmp(out, plain) == 0);
    codec_secret_free(out, out_length);
    /* an empty plaintext and no additional data are values too */
    uint8_t *empty;
    size_t empty_length;
    CHECK_EQ(codec_secret_seal(&key, NULL, 0, "", 0, &empty, &empty_length), 0);
    CHECK_EQ(empty_length, CODEC_SECRET_OVERHEAD);
    CHECK_EQ(codec_secret_open(&key, NULL, 0, empty, empty_length, &out, &out_length), 0);
    CHECK_EQ(out_length, 0);
    CHECK(out[0] == 0);
    codec_secret_free(out, out_length);
    free(empty);
    free(a);
    free(b);
}

TEST(secret_tampered_value_does_not_open)
{
    codec_secret_key_t key = key_of(key_text);
    uint8_t *sealed;
    size_t length;
    seal(&key, &sealed, &length);
    /* every single flipped bit, of the nonce, the ciphertext or the tag */
    for (size_t i = 1; i < length; i++) {
        for (int bit = 0; bit < 8; bit++) {
            sealed[i] ^= (uint8_t)(1u << bit);
            expect_refused(&key, aad, sizeof(aad), sealed, length, CODEC_SECRET_EOPEN);
            sealed[i] ^= (uint8_t)(1u << bit);
        }
    }
    /* truncated, the tag cut short, or too short to be a value at all */
    expect_refused(&key, aad, sizeof(aad), sealed, length - 1, CODEC_SECRET_EOPEN);
    expect_refused(&key, aad, sizeof(aad), sealed, CODEC_SECRET_OVERHEAD - 1, CODEC_SECRET_EINVAL);
    /* an unknown version */
    sealed[0] = 2;
    expect_refused(&key, aad, sizeof(aad), sealed, length, CODEC_SECRET_EINVAL);
    free(sealed);
}

TEST(secret_wrong_key_does_not_open)
{
    codec_secret_key_t key = key_of(key_text), other = key_of(other_key_text);
    uint8_t *sealed;
    size_t length;
    seal(&key, &sealed, &length);
    expect_refused(&other, aad, sizeof(aad), sealed, length, CODEC_SECRET_EOPEN);
    /* one bit of the key is enough */
    key.bytes[31] ^= 1;
    expect_refused(&key, aad, sizeof(aad), sealed, length, CODEC_SECRET_EOPEN);
    free(sealed);
}

TEST(secret_wrong_additional_data_does_not_open)
{
    codec_secret_key_t key = key_of(key_text);
    uint8_t *sealed;
    size_t length;
    seal(&key, &sealed, &length);
    char moved[sizeof(aad)];
    memcpy(moved, aad, sizeof(aad));
    moved[sizeof(aad) - 2] = '3'; /* the same value in another connection's row */
    expect_refused(&key, moved, sizeof(moved), sealed, length, CODEC_SECRET_EOPEN);
    expect_refused(&key, aad, sizeof(aad) - 1, sealed, length, CODEC_SECRET_EOPEN);
    expect_refused(&key, NULL, 0, sealed, length, CODEC_SECRET_EOPEN);
    free(sealed);
}
