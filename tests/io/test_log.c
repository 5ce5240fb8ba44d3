/*
 * The log's lines: each one valid JSON whatever its values hold, a value too
 * long for the line cut (never inside an escape or a UTF-8 character) and the
 * line marked "cut":true. Lines written before log_start go straight to
 * standard output, which these tests read through a pipe.
 */
#include <jansson.h>
#include <string.h>
#include <unistd.h>

#include "log/log.h"
#include "test.h"

/* Writes one line with `value` (and a short field after it) and parses what came out. */
static json_t *line_with(const char *value)
{
    int fds[2];
    CHECK(pipe(fds) == 0);
    int saved = dup(1);
    dup2(fds[1], 1);
    log_line_t line;
    log_begin(&line, LOG_INFO, "test_line");
    log_str(&line, "value", value);
    log_int(&line, "after", 7);
    log_end(&line);
    dup2(saved, 1);
    close(saved);
    close(fds[1]);
    static char text[LOG_LINE_MAX * 2];
    ssize_t n = read(fds[0], text, sizeof(text) - 1);
    close(fds[0]);
    CHECK(n > 0 && (size_t)n <= LOG_LINE_MAX);
    text[n] = 0;
    CHECK(text[n - 1] == '\n');
    json_error_t error;
    json_t *j = json_loads(text, 0, &error);
    if (j == NULL)
        fprintf(stderr, "not JSON (%s): %s\n", error.text, text);
    CHECK(j != NULL);
    return j;
}

TEST(log_a_short_line_is_whole)
{
    json_t *j = line_with("a \"quoted\"\tvalue");
    CHECK(strcmp(json_string_value(json_object_get(j, "value")), "a \"quoted\"\tvalue") == 0);
    CHECK_EQ(json_integer_value(json_object_get(j, "after")), 7);
    CHECK(json_object_get(j, "cut") == NULL);
    json_decref(j);
}

TEST(log_a_value_too_long_is_cut_and_the_line_stays_json)
{
    static char value[LOG_LINE_MAX * 3];
    /* escapes all along: quotes, backslashes and control characters */
    for (size_t i = 0; i + 1 < sizeof(value); i++)
        value[i] = "ab\"\\\n\x01"[i % 6];
    value[sizeof(value) - 1] = 0;
    json_t *j = line_with(value);
    const char *got = json_string_value(json_object_get(j, "value"));
    CHECK(got != NULL && strlen(got) > LOG_LINE_MAX / 4);
    CHECK(strncmp(got, value, strlen(got)) == 0); /* a prefix of the value */
    CHECK(json_is_true(json_object_get(j, "cut")));
    json_decref(j);
}

TEST(log_a_long_value_is_never_cut_inside_a_character)
{
    for (size_t shift = 0; shift < 3; shift++) { /* each place a cut can fall */
        static char value[LOG_LINE_MAX * 3];
        size_t n = 0;
        for (size_t i = 0; i < shift; i++)
            value[n++] = 'x';
        while (n + 4 < sizeof(value)) { /* "ż€" : 2 and 3 bytes */
            memcpy(value + n, "\xc5\xbc\xe2\x82\xac", 5);
            n += 5;
        }
        value[n] = 0;
        json_t *j = line_with(value); /* jansson refuses invalid UTF-8 */
        CHECK(json_is_true(json_object_get(j, "cut")));
        json_decref(j);
    }
}
