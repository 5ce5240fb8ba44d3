/*
 * Matching spoken names (names.h). The fold table covers U+00C0..U+017F; a
 * letter outside it is kept as it is (lower-cased when it is ASCII), so other
 * scripts still match themselves exactly.
 */
#include "agent/names.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* What each code point from U+00C0 to U+017F folds to (" " for × and ÷). */
static const char *const latin[] = {
    "a", "a", "a",  "a",  "a", "a", "ae", "c",  "e",  "e", "e", "e", "i",  "i",  "i", "i", "d", "n",
    "o", "o", "o",  "o",  "o", " ", "o",  "u",  "u",  "u", "u", "y", "th", "ss", "a", "a", "a", "a",
    "a", "a", "ae", "c",  "e", "e", "e",  "e",  "i",  "i", "i", "i", "d",  "n",  "o", "o", "o", "o",
    "o", " ", "o",  "u",  "u", "u", "u",  "y",  "th", "y", "a", "a", "a",  "a",  "a", "a", "c", "c",
    "c", "c", "c",  "c",  "c", "c", "d",  "d",  "d",  "d", "e", "e", "e",  "e",  "e", "e", "e", "e",
    "e", "e", "g",  "g",  "g", "g", "g",  "g",  "g",  "g", "h", "h", "h",  "h",  "i", "i", "i", "i",
    "i", "i", "i",  "i",  "i", "i", "ij", "ij", "j",  "j", "k", "k", "k",  "l",  "l", "l", "l", "l",
    "l", "l", "l",  "l",  "l", "n", "n",  "n",  "n",  "n", "n", "n", "n",  "n",  "o", "o", "o", "o",
    "o", "o", "oe", "oe", "r", "r", "r",  "r",  "r",  "r", "s", "s", "s",  "s",  "s", "s", "s", "s",
    "t", "t", "t",  "t",  "t", "t", "u",  "u",  "u",  "u", "u", "u", "u",  "u",  "u", "u", "u", "u",
    "w", "w", "y",  "y",  "y", "z", "z",  "z",  "z",  "z", "z", "s"};

/* The code point at *p (advancing it), or -1 for a byte that does not start valid UTF-8. */
static int32_t next_code_point(const unsigned char **p)
{
    const unsigned char *s = *p;
    int32_t c = s[0];
    int extra = c < 0x80             ? 0
                : (c & 0xe0) == 0xc0 ? 1
                : (c & 0xf0) == 0xe0 ? 2
                : (c & 0xf8) == 0xf0 ? 3
                                     : -1;
    if (extra < 0) {
        (*p)++;
        return -1;
    }
    c = extra == 0 ? c : c & (0x3f >> extra);
    for (int i = 1; i <= extra; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            (*p)++;
            return -1;
        }
        c = c << 6 | (s[i] & 0x3f);
    }
    *p = s + 1 + extra;
    return c;
}

static bool is_alnum_ascii(int32_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

size_t names_fold(const char *text, char *out)
{
    size_t n = 0;
    bool space = true; /* no leading space */
    const unsigned char *p = (const unsigned char *)text;
    while (*p) {
        const unsigned char *start = p;
        int32_t c = next_code_point(&p);
        const char *piece;
        char one[2] = {0, 0};
        size_t length;
        if (c >= 0xc0 && c <= 0x17f) {
            piece = latin[c - 0xc0];
            length = strlen(piece);
        } else if (is_alnum_ascii(c)) {
            one[0] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
            piece = one;
            length = 1;
        } else if (c >= 0x180 && c != 0x2019 && (c < 0x2000 || c > 0x206f) && c != 0xa0 &&
                   (c < 0x300 || c > 0x36f)) {
            piece = (const char *)start; /* another script: kept as it is */
            length = (size_t)(p - start);
        } else if (c >= 0x300 && c <= 0x36f) {
            continue; /* a combining mark: dropped */
        } else {
            piece = " ";
            length = 1;
        }
        if (piece[0] == ' ') {
            if (!space && n + 1 < NAMES_FOLDED_MAX)
                out[n++] = ' ';
            space = true;
            continue;
        }
        if (n + length >= NAMES_FOLDED_MAX)
            break;
        memcpy(out + n, piece, length);
        n += length;
        space = false;
    }
    while (n > 0 && out[n - 1] == ' ')
        n--;
    out[n] = 0;
    return n;
}

/* True when `word` (length `length`) begins one of the words of `name`. */
static bool begins_a_word(const char *name, const char *word, size_t length)
{
    for (const char *p = name; *p;) {
        if (strncmp(p, word, length) == 0)
            return true;
        const char *space = strchr(p, ' ');
        if (space == NULL)
            break;
        p = space + 1;
    }
    return false;
}

static bool every_word_begins(const char *name, const char *query)
{
    for (const char *w = query; *w;) {
        const char *space = strchr(w, ' ');
        size_t length = space ? (size_t)(space - w) : strlen(w);
        if (!begins_a_word(name, w, length))
            return false;
        w += length;
        if (*w == ' ')
            w++;
    }
    return true;
}

static void add(names_match_t *out, size_t i)
{
    if (out->kept < NAMES_MAX_CANDIDATES)
        out->matches[out->kept++] = i;
    out->count++;
}

void names_match(const char *query, const char *const *folded, size_t count, names_match_t *out)
{
    char q[NAMES_FOLDED_MAX];
    memset(out, 0, sizeof(*out));
    if (names_fold(query, q) == 0)
        return;
    for (size_t i = 0; i < count; i++)
        if (strcmp(folded[i], q) == 0)
            add(out, i);
    if (out->count > 0) {
        out->exact = 1;
        return;
    }
    for (size_t i = 0; i < count; i++)
        if (every_word_begins(folded[i], q))
            add(out, i);
}
