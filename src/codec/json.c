/*
 * Request bodies read quickly. jansson's reader spends most of its time in its lexer (about
 * 6 us for a 160-byte MCP request, against under 1 us to build the same values); this one
 * reads the JSON that clients send every day (objects, arrays, strings with or without the
 * short escapes, whole numbers, true, false, null) straight into jansson values. Whatever it
 * does not take on (a \u escape, a real number, a duplicate key, deep nesting, or anything
 * wrong) it leaves whole to jansson, so what is accepted, rejected and reported is always
 * jansson's own answer.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slotd/codec.h"

/* Nesting deeper than this is left to jansson (its own limit is 2048). */
#define FAST_DEPTH_MAX 64
/* Whole numbers of up to this many digits cannot overflow a json_int_t. */
#define FAST_DIGITS_MAX 18

typedef struct {
    const unsigned char *p, *end;
    int depth;
} reader_t;

static json_t *read_value(reader_t *r);

static void skip_space(reader_t *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t'))
        r->p++;
}

/* The length of the UTF-8 sequence at p (2 to 4), or 0 when it is one jansson refuses:
 * overlong, a surrogate, above U+10FFFF, or cut short. */
static size_t utf8_length(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t n;
    uint32_t value;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        value = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        value = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        value = c & 0x07;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        value = (value << 6) | (p[i] & 0x3f);
    }
    if ((n == 3 && value < 0x800) || (n == 4 && value < 0x10000) || value > 0x10ffff ||
        (value >= 0xd800 && value <= 0xdfff))
        return 0;
    return n;
}

/* A string's text (after its opening quote), decoded into *out (malloc'ed when it had
 * escapes, else pointing into the input) with *length. False: not one for this reader. */
static bool read_text(reader_t *r, const char **out, size_t *length, char **owned)
{
    const unsigned char *start = r->p;
    bool escaped = false;
    *owned = NULL;
    while (r->p < r->end && *r->p != '"') {
        unsigned c = *r->p;
        if (c == '\\') {
            escaped = true;
            if (r->end - r->p < 2)
                return false;
            r->p += 2;
        } else if (c < 0x20) {
            return false;
        } else if (c < 0x80) {
            r->p++;
        } else {
            size_t n = utf8_length(r->p, r->end);
            if (n == 0)
                return false;
            r->p += n;
        }
    }
    if (r->p >= r->end)
        return false;
    size_t raw = (size_t)(r->p - start);
    r->p++; /* the closing quote */
    if (!escaped) {
        *out = (const char *)start;
        *length = raw;
        return true;
    }
    char *text = malloc(raw + 1), *q = text;
    if (text == NULL)
        return false;
    for (const unsigned char *s = start; s < start + raw; s++) {
        if (*s != '\\') {
            *q++ = (char)*s;
            continue;
        }
        switch (*++s) {
        case '"':
        case '\\':
        case '/':
            *q++ = (char)*s;
            break;
        case 'b':
            *q++ = '\b';
            break;
        case 'f':
            *q++ = '\f';
            break;
        case 'n':
            *q++ = '\n';
            break;
        case 'r':
            *q++ = '\r';
            break;
        case 't':
            *q++ = '\t';
            break;
        default: /* \u (left to jansson) or a wrong escape */
            free(text);
            return false;
        }
    }
    *owned = text;
    *out = text;
    *length = (size_t)(q - text);
    return true;
}

static json_t *read_string(reader_t *r)
{
    const char *text;
    size_t length;
    char *owned;
    if (!read_text(r, &text, &length, &owned))
        return NULL;
    json_t *value = json_stringn_nocheck(text, length);
    free(owned);
    return value;
}

static json_t *read_number(reader_t *r)
{
    bool negative = r->p < r->end && *r->p == '-';
    if (negative)
        r->p++;
    const unsigned char *digits = r->p;
    while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
        r->p++;
    size_t n = (size_t)(r->p - digits);
    if (n == 0 || n > FAST_DIGITS_MAX || (n > 1 && digits[0] == '0'))
        return NULL;
    if (r->p < r->end && (*r->p == '.' || *r->p == 'e' || *r->p == 'E'))
        return NULL; /* a real number: jansson's */
    json_int_t value = 0;
    for (size_t i = 0; i < n; i++)
        value = value * 10 + (digits[i] - '0');
    return json_integer(negative ? -value : value);
}

static bool literal(reader_t *r, const char *word, size_t n)
{
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
        return false;
    r->p += n;
    return true;
}

static json_t *read_object(reader_t *r)
{
    json_t *object = json_object();
    skip_space(r);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
        return object;
    }
    for (;;) {
        const char *key;
        size_t length;
        char *owned;
        skip_space(r);
        if (r->p >= r->end || *r->p != '"')
            break;
        r->p++;
        if (!read_text(r, &key, &length, &owned))
            break;
        bool seen = json_object_getn(object, key, length) != NULL; /* duplicates: jansson's */
        json_t *value = NULL;
        skip_space(r);
        if (!seen && r->p < r->end && *r->p == ':') {
            r->p++;
            value = read_value(r);
        }
        if (value == NULL || json_object_setn_new_nocheck(object, key, length, value) != 0) {
            free(owned);
            break;
        }
        free(owned);
        skip_space(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == '}') {
            r->p++;
            return object;
        }
        break;
    }
    json_decref(object);
    return NULL;
}

static json_t *read_array(reader_t *r)
{
    json_t *array = json_array();
    skip_space(r);
    if (r->p < r->end && *r->p == ']') {
        r->p++;
        return array;
    }
    for (;;) {
        json_t *value = read_value(r);
        if (value == NULL || json_array_append_new(array, value) != 0)
            break;
        skip_space(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == ']') {
            r->p++;
            return array;
        }
        break;
    }
    json_decref(array);
    return NULL;
}

static json_t *read_value(reader_t *r)
{
    skip_space(r);
    if (r->p >= r->end)
        return NULL;
    json_t *value = NULL;
    switch (*r->p) {
    case '{':
    case '[':
        if (r->depth >= FAST_DEPTH_MAX)
            return NULL;
        r->depth++;
        value = *r->p++ == '{' ? read_object(r) : read_array(r);
        r->depth--;
        return value;
    case '"':
        r->p++;
        return read_string(r);
    case 't':
        return literal(r, "true", 4) ? json_true() : NULL;
    case 'f':
        return literal(r, "false", 5) ? json_false() : NULL;
    case 'n':
        return literal(r, "null", 4) ? json_null() : NULL;
    default:
        return read_number(r);
    }
}

json_t *codec_json_fast(const char *text, size_t length, size_t flags)
{
    if (text == NULL || (flags & ~(size_t)(JSON_REJECT_DUPLICATES | JSON_DECODE_ANY)))
        return NULL; /* jansson's other flags: jansson's reading */
    reader_t r = {(const unsigned char *)text, (const unsigned char *)text + length, 0};
    skip_space(&r);
    if (r.p >= r.end || (!(flags & JSON_DECODE_ANY) && *r.p != '{' && *r.p != '['))
        return NULL;
    json_t *value = read_value(&r);
    skip_space(&r);
    if (value && r.p != r.end) { /* something after the value: jansson says what */
        json_decref(value);
        return NULL;
    }
    return value;
}

json_t *codec_json_load(const char *text, size_t length, size_t flags, json_error_t *error)
{
    json_t *value = codec_json_fast(text, length, flags);
    if (value == NULL)
        return json_loadb(text, length, flags, error);
    if (error) /* as jansson leaves it after a success */
        *error = (json_error_t){.line = -1, .column = -1, .source = "<buffer>"};
    return value;
}
