/*
 * A small test harness. Each TEST(name) registers itself; `test_engine NAME`
 * runs one test in its own process (ctest registers every name, so each has its
 * own timeout), `test_engine` alone runs them all. A failed CHECK prints where
 * and what, and exits non-zero. Every test ends by releasing the zone table, so
 * LeakSanitizer sees whatever a test leaks.
 */
#ifndef SLOTD_TEST_H
#define SLOTD_TEST_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef void (*test_fn)(void);
void test_register(const char *name, test_fn fn);

#define TEST(name)                                                                                 \
    static void test_##name(void);                                                                 \
    __attribute__((constructor)) static void register_##name(void)                                 \
    {                                                                                              \
        test_register(#name, test_##name);                                                         \
    }                                                                                              \
    static void test_##name(void)

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#define CHECK_EQ(a, b)                                                                             \
    do {                                                                                           \
        int64_t a_ = (int64_t)(a), b_ = (int64_t)(b);                                              \
        if (a_ != b_) {                                                                            \
            fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %" PRId64 ", %s == %" PRId64 "\n",      \
                    __FILE__, __LINE__, #a, a_, #b, b_);                                           \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

/** An instant from RFC 3339 text with an offset: "2026-03-29T01:30:00+01:00" or "...Z"
 *  (seconds optional). Aborts the test on malformed text. */
int64_t test_instant(const char *text);

/** Wall seconds from "YYYY-MM-DDTHH:MM". */
int64_t test_wall(const char *text);

/** Day number of "YYYY-MM-DD". */
int32_t test_day(const char *text);

/** A zone by name (aborts the test when unknown). */
struct tz_zone;
struct tz_zone *test_zone(const char *name);

/** Formats an instant as local "YYYY-MM-DDTHH:MM+HH:MM" in a zone (static buffer ring). */
const char *test_format(struct tz_zone *zone, int64_t instant);

/**
 * Runs `node $SLOTD_SOURCE_DIR/<script> args...` (args NULL-terminated) and returns what it
 * printed (NUL-terminated; *length, when not NULL, its bytes; the caller frees). A script that
 * does not exit 0 fails the test, with what it printed and a hint to `npm ci` its folder.
 */
char *test_node(const char *script, const char *const *args, size_t *length);

#endif
