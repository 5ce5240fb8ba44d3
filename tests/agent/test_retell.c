/*
 * Retell's X-Retell-Signature (src/agent/retell.c) against Retell's own SDK: every
 * header here is made by the SDK (tests/agents/retell_sign.js, npm retell-sdk pinned in
 * tests/agents/package-lock.json; `npm ci` there first), and for every header, valid or
 * not, the SDK's verify at the same instant is asked too: the C function must answer
 * exactly as the SDK does. A signature made here with OpenSSL is checked by the SDK as
 * well, so the format is understood the same way in both directions.
 */
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/retell.h"
#include "test.h"

#define KEY "key_0123456789abcdef"
#define BODY                                                                                       \
    "{\"name\":\"find_slots\",\"call\":{\"call_id\":\"c1\"},\"args\":{\"service\":\"Zażółć\"}}"
#define STAMP 1700000000000LL

/* Runs tests/agents/retell_sign.js with `args` (NULL-terminated); its stdout, caller frees. */
static char *sdk(const char *const *args)
{
    return test_node("tests/agents/retell_sign.js", args, NULL);
}

/* The header the SDK makes for body under key at stamp (0: Retell.sign, now); caller frees. */
static char *sdk_sign(const char *key, const char *body, long long stamp)
{
    char at[24];
    snprintf(at, sizeof(at), "%lld", stamp);
    const char *args[] = {key, body, stamp ? at : NULL, NULL};
    char *header = sdk(args);
    header[strcspn(header, "\n")] = 0;
    return header;
}

/* Whether the SDK's verify accepts each of `headers` at now_ms (0: its own clock). */
static json_t *sdk_verify(const char *key, const char *body, json_t *headers, long long now_ms)
{
    json_t *query = json_pack("{s:s, s:s, s:O}", "api_key", key, "body", body, "headers", headers);
    if (now_ms)
        json_object_set_new(query, "now_ms", json_integer(now_ms));
    char *text = json_dumps(query, JSON_COMPACT);
    const char *args[] = {"--verify", text, NULL};
    char *answer = sdk(args);
    json_t *answers = json_loads(answer, 0, NULL);
    CHECK(json_is_array(answers) && json_array_size(answers) == json_array_size(headers));
    free(answer);
    free(text);
    json_decref(query);
    return answers;
}

static bool valid(const char *key, const char *body, const char *header, long long now_ms)
{
    return retell_signature_valid(key, body, strlen(body), header, strlen(header), now_ms);
}

/* The SDK and the C function agree on every header at now_ms; returns the answers. */
static json_t *agree(const char *key, const char *body, json_t *headers, long long now_ms)
{
    json_t *answers = sdk_verify(key, body, headers, now_ms);
    size_t i;
    json_t *header;
    json_array_foreach(headers, i, header)
    {
        bool expected = json_is_true(json_array_get(answers, i));
        if (valid(key, body, json_string_value(header), now_ms) != expected) {
            fprintf(stderr, "header %zu (%.80s): the SDK says %s, C differs\n", i,
                    json_string_value(header), expected ? "valid" : "invalid");
            exit(1);
        }
    }
    return answers;
}

static long long now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

TEST(retell_accepts_what_the_sdk_signs_now)
{
    char *header = sdk_sign(KEY, BODY, 0);
    CHECK(strncmp(header, "v=", 2) == 0);
    CHECK(valid(KEY, BODY, header, now_ms()));
    /* and the SDK, on its own clock, agrees */
    json_t *headers = json_pack("[s]", header);
    json_t *answers = agree(KEY, BODY, headers, now_ms());
    json_decref(answers);
    answers = sdk_verify(KEY, BODY, headers, 0);
    CHECK(json_is_true(json_array_get(answers, 0)));
    json_decref(answers);
    json_decref(headers);
    free(header);
}

TEST(retell_accepts_five_minutes_either_way_and_no_more)
{
    char *header = sdk_sign(KEY, BODY, STAMP);
    json_t *headers = json_pack("[s]", header);
    const long long at[] = {STAMP,          STAMP + 300000, STAMP - 300000,
                            STAMP + 300001, STAMP - 300001, STAMP + 3600000};
    const bool expected[] = {true, true, true, false, false, false};
    for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
        json_t *answers = agree(KEY, BODY, headers, at[i]);
        CHECK(json_is_true(json_array_get(answers, 0)) == expected[i]);
        json_decref(answers);
    }
    json_decref(headers);
    free(header);
}

TEST(retell_refuses_a_wrong_key_and_a_tampered_body)
{
    char *header = sdk_sign(KEY, BODY, STAMP);
    json_t *headers = json_pack("[s]", header);
    json_t *answers = agree("key_other", BODY, headers, STAMP);
    CHECK(json_is_false(json_array_get(answers, 0)));
    json_decref(answers);
    answers = agree(KEY, BODY " ", headers, STAMP);
    CHECK(json_is_false(json_array_get(answers, 0)));
    json_decref(answers);
    answers = agree(KEY, "{\"name\":\"cancel_booking\"}", headers, STAMP);
    CHECK(json_is_false(json_array_get(answers, 0)));
    json_decref(answers);
    /* a signature of another instant is another signature */
    char other[256];
    snprintf(other, sizeof(other), "v=%lld%s", STAMP + 1, strchr(header, ','));
    CHECK(!valid(KEY, BODY, other, STAMP));
    json_decref(headers);
    free(header);
}

/* Appends `text` to `headers` and frees it. */
static void append_owned(json_t *headers, char *text)
{
    json_array_append_new(headers, json_string(text));
    free(text);
}

/* "v=" + `zeros` zeros + the rest of `header` after "v=", or with `tail` appended; caller frees. */
static char *widened(const char *header, size_t zeros, const char *tail, size_t tail_repeat)
{
    size_t length = strlen(header) + zeros + strlen(tail) * tail_repeat + 1;
    char *text = malloc(length), *p = text;
    CHECK(text != NULL);
    memcpy(p, "v=", 2);
    p += 2;
    memset(p, '0', zeros);
    p += zeros;
    strcpy(p, header + 2);
    p += strlen(header + 2);
    for (size_t i = 0; i < tail_repeat; i++, p += strlen(tail))
        strcpy(p, tail);
    return text;
}

TEST(retell_reads_headers_as_the_sdk_reads_them)
{
    char *good = sdk_sign(KEY, BODY, STAMP);
    const char *hex = strchr(good, ',') + 3;
    CHECK(strlen(hex) == 64);
    char upper[128], hex_upper[65], v[512];
    for (size_t i = 0; good[i] && i < sizeof(upper) - 1; i++)
        upper[i] = (char)(good[i] >= 'a' && good[i] <= 'z' ? good[i] - 32 : good[i]),
        upper[i + 1] = 0;
    for (size_t i = 0; i < 65; i++)
        hex_upper[i] = (char)(hex[i] >= 'a' && hex[i] <= 'f' ? hex[i] - 32 : hex[i]);
    json_t *headers = json_array();
    /* 0..3 accepted by the SDK: as made, upper case (letters and digest), zeros before the
     * timestamp (the parsed number is what is signed) */
    json_array_append_new(headers, json_string(good));
    json_array_append_new(headers, json_string(upper));
    snprintf(v, sizeof(v), "v=%lld,d=%s", STAMP, hex_upper);
    json_array_append_new(headers, json_string(v));
    append_owned(headers, widened(good, 3, "", 0));
    size_t accepted = json_array_size(headers);
    const char *refused[] = {
        "",
        "v=",
        "d=",
        "v=,d=",
        ",",
        good + 1,              /* "=..." */
        strchr(good, ',') + 1, /* d=<hex> alone: v= missing */
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        json_array_append_new(headers, json_string(refused[i]));
    const char *formats[] = {
        "v=%lld",           /* d= missing */
        "v=%lld,%s",        /* no d= before the digest */
        "%lld,d=%s",        /* no v= */
        "v=%lld,d=",        /* empty digest */
        " v=%lld,d=%s",     /* space before */
        "v=%lld,d=%s ",     /* space after */
        "v=%lld,d=%s\n",    /* a line end after */
        "v=%lld, d=%s",     /* space after the comma */
        "v=%lld;d=%s",      /* another separator */
        "v=+%lld,d=%s",     /* a sign */
        "v=-%lld,d=%s",     /* a negative */
        "v=%lld.0,d=%s",    /* a fraction */
        "v=%lld,d=%s,v1=x", /* more after */
        "v=%lld,d=%sa",     /* 65 hex digits */
        "t=%lld,d=%s",      /* another name */
        "v=%lld,h=%s",      /* another name */
        "v = %lld,d=%s",    /* spaces around = */
        "vv=%lld,d=%s",     /* a doubled name */
    };
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        snprintf(v, sizeof(v), formats[i], STAMP, hex);
        json_array_append_new(headers, json_string(v));
    }
    snprintf(v, sizeof(v), "d=%s,v=%lld", hex, STAMP); /* the other order */
    json_array_append_new(headers, json_string(v));
    snprintf(v, sizeof(v), "v=%lld,d=%.63s", STAMP, hex); /* 63 hex digits */
    json_array_append_new(headers, json_string(v));
    snprintf(v, sizeof(v), "v=%lld,d=%.63sg", STAMP, hex); /* not hex */
    json_array_append_new(headers, json_string(v));
    snprintf(v, sizeof(v), "v=%lld,d=%.62s  ", STAMP, hex); /* blanks in the digest */
    json_array_append_new(headers, json_string(v));
    snprintf(v, sizeof(v), "v=%lld,d=%s", STAMP, hex);      /* digit for digit valid ... */
    v[strlen(v) - 1] = v[strlen(v) - 1] == '0' ? '1' : '0'; /* ... but one digit off */
    json_array_append_new(headers, json_string(v));
    /* huge: a digest of 20064 characters; a timestamp of 10000 digits (not a safe integer) */
    append_owned(headers, widened(good, 0, "ab", 10000));
    char *digits = malloc(10001);
    CHECK(digits != NULL);
    memset(digits, '7', 10000);
    digits[10000] = 0;
    char *huge_stamp = malloc(10000 + 200);
    CHECK(huge_stamp != NULL);
    snprintf(huge_stamp, 10000 + 200, "v=%s,d=%s", digits, hex);
    json_array_append_new(headers, json_string(huge_stamp));
    /* ... but 10000 zeros before the timestamp are still that timestamp */
    append_owned(headers, widened(good, 10000, "", 0));
    json_t *answers = agree(KEY, BODY, headers, STAMP);
    size_t i;
    json_t *answer;
    json_array_foreach(answers, i, answer)
    {
        bool expected = i < accepted || i == json_array_size(headers) - 1;
        if (json_is_true(answer) != expected) {
            fprintf(stderr, "header %zu: the SDK answered %s\n", i, expected ? "false" : "true");
            exit(1);
        }
    }
    /* what argv cannot carry to the SDK: a NUL inside, a header longer than its length */
    char with_nul[160];
    size_t n = strlen(good);
    memcpy(with_nul, good, n + 1);
    CHECK(retell_signature_valid(KEY, BODY, strlen(BODY), with_nul, n, STAMP));
    CHECK(!retell_signature_valid(KEY, BODY, strlen(BODY), with_nul, n + 1, STAMP));
    CHECK(!retell_signature_valid(KEY, BODY, strlen(BODY), with_nul, n - 1, STAMP));
    CHECK(!retell_signature_valid(KEY, BODY, strlen(BODY), NULL, 0, STAMP));
    CHECK(!retell_signature_valid(NULL, BODY, strlen(BODY), good, n, STAMP));
    json_decref(answers);
    json_decref(headers);
    free(digits);
    free(huge_stamp);
    free(good);
}

TEST(retell_largest_timestamp_is_the_largest_safe_integer)
{
    const long long largest = 9007199254740991LL;
    char *at_largest = sdk_sign(KEY, BODY, largest);
    char *past_largest = sdk_sign(KEY, BODY, largest + 1); /* signs; verify refuses it */
    json_t *headers = json_pack("[s, s]", at_largest, past_largest);
    json_t *answers = agree(KEY, BODY, headers, largest);
    CHECK(json_is_true(json_array_get(answers, 0)) && json_is_false(json_array_get(answers, 1)));
    json_decref(answers);
    json_decref(headers);
    free(at_largest);
    free(past_largest);
}

TEST(retell_empty_key_and_empty_body)
{
    /* the SDK cannot even sign with an empty key (Web Crypto refuses it): make one here */
    char stamp[24];
    snprintf(stamp, sizeof(stamp), "%lld", STAMP);
    unsigned char mac[32];
    unsigned int mac_length = 0;
    CHECK(HMAC(EVP_sha256(), "", 0, (const unsigned char *)stamp, strlen(stamp), mac,
               &mac_length) != NULL);
    char header[128];
    int p = snprintf(header, sizeof(header), "v=%s,d=", stamp);
    for (unsigned i = 0; i < mac_length; i++)
        p += snprintf(header + p, sizeof(header) - (size_t)p, "%02x", mac[i]);
    json_t *headers = json_pack("[s]", header);
    json_t *answers = agree("", "", headers, STAMP);
    CHECK(json_is_false(json_array_get(answers, 0)));
    json_decref(answers);
    json_decref(headers);
    /* an empty body is signed as any other */
    char *empty = sdk_sign(KEY, "", STAMP);
    CHECK(retell_signature_valid(KEY, NULL, 0, empty, strlen(empty), STAMP));
    CHECK(valid(KEY, "", empty, STAMP) && !valid(KEY, " ", empty, STAMP));
    free(empty);
}

TEST(retell_a_signature_made_here_verifies_in_the_sdk)
{
    /* HMAC-SHA256(key, body || decimal timestamp), as retell.h writes the format */
    long long now = now_ms();
    char message[512];
    snprintf(message, sizeof(message), "%s%lld", BODY, now);
    unsigned char mac[32];
    unsigned int mac_length = 0;
    CHECK(HMAC(EVP_sha256(), KEY, (int)strlen(KEY), (const unsigned char *)message, strlen(message),
               mac, &mac_length) != NULL);
    CHECK_EQ(mac_length, 32);
    char header[128];
    int p = snprintf(header, sizeof(header), "v=%lld,d=", now);
    for (unsigned i = 0; i < mac_length; i++)
        p += snprintf(header + p, sizeof(header) - (size_t)p, "%02X", mac[i]);
    json_t *headers = json_pack("[s]", header);
    json_t *answers = sdk_verify(KEY, BODY, headers, 0); /* Retell.verify, on its own clock */
    CHECK(json_is_true(json_array_get(answers, 0)));
    json_decref(answers);
    CHECK(valid(KEY, BODY, header, now));
    json_decref(headers);
}
