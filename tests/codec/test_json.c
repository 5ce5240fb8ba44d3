/* The quick JSON reader against jansson's: whatever the quick one accepts, jansson accepts
 * with an equal value; what it leaves (or anything wrong) gets jansson's own answer. */
#include <string.h>

#include "slotd/codec.h"
#include "test.h"

static const size_t flag_sets[] = {0, JSON_REJECT_DUPLICATES, JSON_DECODE_ANY,
                                   JSON_REJECT_DUPLICATES | JSON_DECODE_ANY};

/* The quick reader's answer for `text` agrees with jansson's under every flag set; returns
 * how many of the flag sets the quick reader answered itself. */
static int agrees(const char *given, size_t length)
{
    /* a copy of exactly its length, no NUL after it: a read past the end is seen */
    char *text = malloc(length ? length : 1);
    memcpy(text, given, length);
    int taken = 0;
    for (size_t f = 0; f < sizeof(flag_sets) / sizeof(flag_sets[0]); f++) {
        json_error_t error;
        json_t *fast = codec_json_fast(text, length, flag_sets[f]);
        json_t *slow = json_loadb(text, length, flag_sets[f], &error);
        json_t *loaded = codec_json_load(text, length, flag_sets[f], &error);
        if (fast) {
            taken++;
            if (slow == NULL || !json_equal(fast, slow)) {
                fprintf(stderr, "the quick reader took %.*s (flags %zu), jansson: %s\n",
                        (int)length, text, flag_sets[f], slow ? "another value" : error.text);
                exit(1);
            }
            /* the same integers, not equal reals */
            char *a = json_dumps(fast, JSON_ENCODE_ANY | JSON_SORT_KEYS);
            char *b = json_dumps(slow, JSON_ENCODE_ANY | JSON_SORT_KEYS);
            CHECK(a && b && strcmp(a, b) == 0);
            free(a);
            free(b);
        }
        CHECK((loaded == NULL) == (slow == NULL));
        if (loaded)
            CHECK(json_equal(loaded, slow));
        json_decref(fast);
        json_decref(slow);
        json_decref(loaded);
    }
    free(text);
    return taken;
}

static int agrees_text(const char *text)
{
    return agrees(text, strlen(text));
}

TEST(json_quick_reader_takes_the_bodies_clients_send)
{
    static const char *const bodies[] = {
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/"
        "call\",\"params\":{\"name\":\"find_slots\","
        "\"arguments\":{\"service\":\"Consultation\",\"date\":\"2027-01-05\"}}}",
        "{ \"service_id\" : \"bd7942cc-9c61-4397-aa60-a843ad0585ce\",\n\t\"start\": "
        "\"2027-01-05T08:00:00Z\", \"resource_ids\": [\"a\", \"b\"], \"customer\": {\"name\": "
        "\"Zo\xc3\xab M\xc3\xbcller \xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x98\x80\", \"phone\": "
        "\"+48 700 000 001\"}, \"notes\": \"line\\nbreak \\\"quoted\\\" \\\\ \\/ \\t\\b\\f\\r\"}",
        "[1,-2,0,-0,123456789012345678,-123456789012345678,true,false,null,[],{},[[[]]],\"\"]",
        "  {\"a\":{\"b\":{\"c\":[{\"d\":null}]}}}  \r\n",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
        CHECK_EQ(agrees_text(bodies[i]), 4);
    /* a scalar at the top only with JSON_DECODE_ANY, as jansson */
    CHECK_EQ(agrees_text("\"text\""), 2);
    CHECK_EQ(agrees_text(" 42 "), 2);
    CHECK_EQ(agrees_text("null"), 2);
}

TEST(json_quick_reader_leaves_the_rest_to_jansson)
{
    /* valid JSON it leaves: \u escapes, reals, long numbers, duplicate keys, deep nesting */
    static const char *const valid[] = {
        "{\"name\":\"Caf\\u00e9\"}",
        "{\"emoji\":\"\\ud83d\\ude00\"}",
        "{\"x\":1.5}",
        "{\"x\":1e3}",
        "{\"x\":-0.0}",
        "{\"x\":1234567890123456789}",
        "{\"a\":1,\"a\":2}",
    };
    for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
        CHECK_EQ(agrees_text(valid[i]), 0);
        json_t *v = codec_json_load(valid[i], strlen(valid[i]), 0, NULL);
        CHECK(v != NULL); /* jansson read it */
        json_decref(v);
    }
    char deep[200];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    CHECK_EQ(agrees(deep, sizeof(deep)), 0);
    /* wrong JSON: refused, with jansson's report */
    static const char *const wrong[] = {
        "",
        "   ",
        "{",
        "{\"a\"}",
        "{\"a\":}",
        "{\"a\":1,}",
        "[1,]",
        "[01]",
        "[-]",
        "[+1]",
        "[1 2]",
        "{\"a\":1}x",
        "{\"a\":1} {}",
        "{a:1}",
        "['a']",
        "[tru]",
        "[truex]",
        "[nul]",
        "[\"tab\there\"]",
        "[\"\\x\"]",
        "[\"\\u12\"]",
        "[\"open]",
        "[\"\xc0\xaf\"]",               /* overlong */
        "[\"\xed\xa0\x80\"]",           /* a surrogate */
        "[\"\xf4\x90\x80\x80\"]",       /* above U+10FFFF */
        "[\"\xe2\x82\"]",               /* cut short */
        "[\"\x80\"]",                   /* a lone continuation byte */
        "[\"\\ud800\"]",                /* a lone surrogate escape */
        "{\"n\":\"\\u0000\"}",          /* NUL without JSON_ALLOW_NUL */
        "[99999999999999999999999999]", /* too big */
        "\xef\xbb\xbf{}",               /* a byte order mark */
    };
    for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
        CHECK_EQ(agrees_text(wrong[i]), 0);
        json_error_t error;
        CHECK(codec_json_load(wrong[i], strlen(wrong[i]), JSON_DECODE_ANY, &error) == NULL);
        CHECK(error.text[0] != 0);
    }
    /* a NUL byte inside the text */
    CHECK_EQ(agrees("{\"a\":\"b\0c\"}", 11), 0);
    CHECK_EQ(agrees("{\"a\":1}\0", 8), 0);
    /* flags it does not know: jansson's reading */
    json_t *v = codec_json_fast("[1]", 3, JSON_DECODE_INT_AS_REAL);
    CHECK(v == NULL);
    v = codec_json_load("[1]", 3, JSON_DECODE_INT_AS_REAL, NULL);
    CHECK(v && json_is_real(json_array_get(v, 0)));
    json_decref(v);
}

/* A small deterministic generator (xorshift), so a failure repeats. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

/* Every body cut short at every byte; nesting at the quick reader's depth and one past it;
 * keys that are equal once unescaped. */
TEST(json_quick_reader_agrees_with_jansson_on_cut_bodies_depth_and_escaped_keys)
{
    static const char *const bodies[] = {
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"params\":{\"a\":[1,-2,true,null,\"x\\n\"]}}",
        "{\"e\":\"Zo\xc3\xab \xf0\x9f\x98\x80\",\"n\":-123456789012345678}",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
        for (size_t cut = 0; cut <= strlen(bodies[i]); cut++)
            agrees(bodies[i], cut);
    char deep[200];
    for (int depth = 63; depth <= 66; depth++) {
        memset(deep, '[', (size_t)depth);
        memset(deep + depth, ']', (size_t)depth);
        agrees(deep, 2 * (size_t)depth);
    }
    agrees_text("{\"\\/\":1,\"/\":2}");
    json_t *v = codec_json_load("{\"\\/\":1,\"/\":2}", 15, JSON_REJECT_DUPLICATES, NULL);
    CHECK(v == NULL);
}

TEST(json_quick_reader_agrees_with_jansson_on_mutated_bodies)
{
    static const char *const seeds[] = {
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/"
        "call\",\"params\":{\"name\":\"find_slots\","
        "\"arguments\":{\"service\":\"Consultation\",\"date\":\"2027-01-05\"}}}",
        "{\"a\":[1,-20,true,false,null,{\"b\":\"c\\n\\\"d\"}],\"e\":\"Zo\xc3\xab "
        "\xf0\x9f\x98\x80\"}",
        "[{\"x\":0},[],{},\"\",123456789012345678]",
    };
    /* what a mutation puts in: the bytes that matter to a reader */
    static const char pieces[] = "{}[]\":,\\ \t\n0123456789-+.eEtrufalsn/bu\x01\x7f\x80\xbf\xc3"
                                 "\xe2\xed\xf0\xf4\xff"
                                 "\0";
    uint64_t state = 0x9e3779b97f4a7c15u;
    int taken = 0;
    char text[512];
    for (int round = 0; round < 40000; round++) {
        const char *seed = seeds[round % 3];
        size_t length = strlen(seed);
        memcpy(text, seed, length);
        int mutations = 1 + (int)(next_random(&state) % 4);
        for (int m = 0; m < mutations; m++) {
            size_t at = (size_t)(next_random(&state) % (length + 1));
            char piece = pieces[next_random(&state) % (sizeof(pieces) - 1)];
            switch (next_random(&state) % 4) {
            case 3: /* cut short */
                length = at;
                break;
            case 0: /* replace */
                if (at < length)
                    text[at] = piece;
                break;
            case 1: /* insert */
                if (length + 1 < sizeof(text)) {
                    memmove(text + at + 1, text + at, length - at);
                    text[at] = piece;
                    length++;
                }
                break;
            default: /* delete */
                if (at < length) {
                    memmove(text + at, text + at + 1, length - at - 1);
                    length--;
                }
            }
        }
        taken += agrees(text, length);
    }
    /* the generator reached both readers */
    CHECK(taken > 1000);
}
