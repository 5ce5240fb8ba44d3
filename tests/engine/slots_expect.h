/*
 * Expectations for behaviour tests: a scenario's slots, checked against a list
 * of RFC 3339 starts, and against the reference implementation too.
 */
#ifndef SLOTD_TEST_SLOTS_EXPECT_H
#define SLOTD_TEST_SLOTS_EXPECT_H

#include "scenario.h"

/** Checks the engine's slot starts (and the reference's) against `starts`. */
void expect_starts(const scenario_t *s, const char *const *starts, size_t count, const char *file,
                   int line);

/** Checks one slot's resources (scenario indices, in id order). */
void expect_resources(const scenario_t *s, const char *start, const int *resources, int count,
                      const char *file, int line);

#define EXPECT_SLOTS(s, ...)                                                                       \
    do {                                                                                           \
        const char *expected_[] = {__VA_ARGS__};                                                   \
        expect_starts(s, expected_, sizeof(expected_) / sizeof(expected_[0]), __FILE__, __LINE__); \
    } while (0)

#define EXPECT_NO_SLOTS(s) expect_starts(s, NULL, 0, __FILE__, __LINE__)

#define EXPECT_RESOURCES(s, start, ...)                                                            \
    do {                                                                                           \
        const int expected_[] = {__VA_ARGS__};                                                     \
        expect_resources(s, start, expected_, sizeof(expected_) / sizeof(expected_[0]), __FILE__,  \
                         __LINE__);                                                                \
    } while (0)

#endif
