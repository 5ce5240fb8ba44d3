/*
 * Matching spoken names (src/agent/names.c): folding (case, accents, marks,
 * punctuation, other scripts), exact matches winning over partial ones, every
 * word of the query beginning a word of the name, ambiguity and nothing found.
 */
#include <string.h>

#include "agent/names.h"
#include "test.h"

#define CHECK_FOLD(text, expected)                                                                 \
    do {                                                                                           \
        char out_[NAMES_FOLDED_MAX];                                                               \
        names_fold((text), out_);                                                                  \
        if (strcmp(out_, (expected)) != 0) {                                                       \
            fprintf(stderr, "%s:%d: fold(\"%s\") = \"%s\", expected \"%s\"\n", __FILE__, __LINE__, \
                    (text), out_, (expected));                                                     \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

TEST(names_fold_case_accents_and_punctuation)
{
    CHECK_FOLD("Anna Kowalska", "anna kowalska");
    CHECK_FOLD("  ZOË  O'Brien-Smith ", "zoe o brien smith");
    CHECK_FOLD("Łukasz Żółć", "lukasz zolc");
    CHECK_FOLD("Straße", "strasse");
    CHECK_FOLD("Ærøskøbing", "aeroskobing");
    CHECK_FOLD("Épilation", "epilation");
    CHECK_FOLD("Mani–pedi (45 min)", "mani pedi 45 min");
    CHECK_FOLD("Zoe\xcc\x88", "zoe"); /* a combining diaeresis */
    CHECK_FOLD("Jürgen’s", "jurgen s");
    CHECK_FOLD("Влад", "Влад"); /* another script: kept as it is */
    CHECK_FOLD("bad\xff byte", "bad byte");
    CHECK_FOLD("", "");
    CHECK_FOLD("!!!", "");
    char long_name[1000], out[NAMES_FOLDED_MAX];
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = 0;
    CHECK(names_fold(long_name, out) < NAMES_FOLDED_MAX);
}

static names_match_t match(const char *query, const char *const *names, size_t count)
{
    char folded[8][NAMES_FOLDED_MAX];
    const char *list[8];
    for (size_t i = 0; i < count; i++) {
        names_fold(names[i], folded[i]);
        list[i] = folded[i];
    }
    names_match_t m;
    names_match(query, list, count, &m);
    return m;
}

TEST(names_match_exact_partial_ambiguous_and_none)
{
    const char *staff[] = {"Anna Kowalska", "Anna Nowak", "Ben", "Annabel Lee"};
    names_match_t m = match("anna", staff, 4);
    CHECK_EQ(m.count, 3); /* Anna Kowalska, Anna Nowak, Annabel Lee: "anna" begins each */
    CHECK(!m.exact);
    m = match("ANNA KOWALSKÁ", staff, 4);
    CHECK_EQ(m.count, 1);
    CHECK(m.exact);
    CHECK_EQ(m.matches[0], 0);
    m = match("kowalska anna", staff, 4);
    CHECK_EQ(m.count, 1);
    CHECK_EQ(m.matches[0], 0);
    m = match("now", staff, 4);
    CHECK_EQ(m.count, 1);
    CHECK_EQ(m.matches[0], 1);
    m = match("ben", staff, 4);
    CHECK_EQ(m.count, 1);
    CHECK(m.exact);
    m = match("zed", staff, 4);
    CHECK_EQ(m.count, 0);
    m = match("   ", staff, 4);
    CHECK_EQ(m.count, 0);
    m = match("owalska", staff, 4); /* inside a word: no */
    CHECK_EQ(m.count, 0);
    /* an exact name wins over the longer names it begins */
    const char *services[] = {"Cut", "Cut and colour", "Cut & beard"};
    m = match("cut", services, 3);
    CHECK_EQ(m.count, 1);
    CHECK(m.exact);
    m = match("cut col", services, 3);
    CHECK_EQ(m.count, 1);
    CHECK_EQ(m.matches[0], 1);
    /* every candidate counted and kept, in the given order */
    const char *many[] = {"a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8"};
    m = match("a", many, 8);
    CHECK_EQ(m.count, 8);
    CHECK_EQ(m.kept, 8);
    CHECK_EQ(m.matches[7], 7);
}
