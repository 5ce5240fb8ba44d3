/*
 * iCalendar text (src/codec/ical.c): TEXT escaping, quoted parameters, UTC
 * date-times, and folding at 75 octets that never splits a UTF-8 character.
 */
#include <string.h>

#include "codec/ical.h"
#include "test.h"

#define CHECK_STR_EQ(a, b)                                                                         \
    do {                                                                                           \
        if (strcmp((a), (b)) != 0) {                                                               \
            fprintf(stderr, "%s:%d: got\n%s\nwanted\n%s\n", __FILE__, __LINE__, (a), (b));         \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

/* Checks every physical line of `text` (CRLF-ended) is at most 75 octets and that
 * unfolding gives back `unfolded`. */
static void check_folded(const char *text, const char *unfolded)
{
    char joined[4096];
    size_t n = 0;
    const char *p = text;
    bool first = true;
    while (*p) {
        const char *crlf = strstr(p, "\r\n");
        CHECK(crlf != NULL);
        size_t length = (size_t)(crlf - p);
        CHECK(length <= CODEC_ICAL_FOLD);
        if (!first) {
            CHECK(p[0] == ' ');
            p++;
            length--;
        }
        /* a physical line never ends in the middle of a UTF-8 character */
        if (crlf[2] == ' ')
            CHECK(((unsigned char)crlf[3] & 0xC0) != 0x80);
        memcpy(joined + n, p, length);
        n += length;
        p = crlf + 2;
        first = false;
        if (*p != ' ')
            break;
    }
    CHECK(*p == 0);
    joined[n] = 0;
    CHECK_STR_EQ(joined, unfolded);
}

TEST(ical_text_escapes_backslash_semicolon_comma_and_line_breaks)
{
    codec_ical_t ics = {0};
    codec_ical_text_line(&ics, "SUMMARY", "a\\b;c,d\ne\r\nf\rg\x01h\ti");
    CHECK_STR_EQ(ics.data, "SUMMARY:a\\\\b\\;c\\,d\\ne\\nf\\ng"
                           "h\ti\r\n");
    codec_ical_free(&ics);
}

TEST(ical_params_are_quoted_without_dquotes)
{
    codec_ical_t ics = {0};
    codec_ical_begin(&ics, "ATTENDEE");
    codec_ical_param(&ics, "CN", "Smith, \"Jo\"; Jr.\n");
    codec_ical_raw(&ics, "mailto:jo@example.com");
    codec_ical_end(&ics);
    CHECK_STR_EQ(ics.data, "ATTENDEE;CN=\"Smith, 'Jo'; Jr. \":mailto:jo@example.com\r\n");
    codec_ical_free(&ics);
}

TEST(ical_short_lines_are_not_folded)
{
    codec_ical_t ics = {0};
    char value[76];
    memset(value, 'x', 75 - 8);
    value[75 - 8] = 0;
    codec_ical_text_line(&ics, "SUMMARY", value); /* exactly 75 octets */
    CHECK_EQ(strlen(ics.data), 77u);
    CHECK(strstr(ics.data, "\r\n ") == NULL);
    codec_ical_free(&ics);
}

TEST(ical_long_ascii_lines_fold_at_75_octets)
{
    codec_ical_t ics = {0};
    char value[301], line[320];
    for (int i = 0; i < 300; i++)
        value[i] = (char)('a' + i % 26);
    value[300] = 0;
    codec_ical_text_line(&ics, "DESCRIPTION", value);
    snprintf(line, sizeof(line), "DESCRIPTION:%s", value);
    check_folded(ics.data, line);
    /* the first line holds 75 octets, the next 74 after the space */
    CHECK(strncmp(ics.data + 75, "\r\n ", 3) == 0);
    CHECK(strncmp(ics.data + 75 + 3 + 74, "\r\n ", 3) == 0);
    codec_ical_free(&ics);
}

TEST(ical_folding_never_splits_a_utf8_character)
{
    /* two-, three- and four-octet characters at every offset against the fold */
    const char *pieces[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80"};
    for (int shift = 0; shift < 4; shift++) {
        for (int k = 0; k < 3; k++) {
            codec_ical_t ics = {0};
            char value[1024] = "", line[1100];
            for (int i = 0; i < shift; i++)
                strcat(value, "x");
            for (int i = 0; i < 60; i++)
                strcat(value, pieces[k]);
            codec_ical_text_line(&ics, "SUMMARY", value);
            snprintf(line, sizeof(line), "SUMMARY:%s", value);
            check_folded(ics.data, line);
            codec_ical_free(&ics);
        }
    }
}

TEST(ical_folds_an_escaped_name_with_emoji)
{
    codec_ical_t ics = {0};
    const char *name = "Nowak, Anna; \xf0\x9f\x98\x80 \xc5\xbc\xc3\xb3\xc5\x82w "
                       "(\xe2\x80\x9cZo\xc5\x9b\xe2\x80\x9d), a very long customer name, "
                       "longer than a line";
    codec_ical_text_line(&ics, "SUMMARY", name);
    check_folded(ics.data, "SUMMARY:Nowak\\, Anna\\; \xf0\x9f\x98\x80 \xc5\xbc\xc3\xb3\xc5\x82w "
                           "(\xe2\x80\x9cZo\xc5\x9b\xe2\x80\x9d)\\, a very long customer name\\, "
                           "longer than a line");
    codec_ical_free(&ics);
}

TEST(ical_times_are_utc_basic_format)
{
    char text[17];
    codec_ical_format_time(0, text);
    CHECK_STR_EQ(text, "19700101T000000Z");
    codec_ical_format_time(1772445605, text); /* 2026-03-02T10:00:05Z */
    CHECK_STR_EQ(text, "20260302T100005Z");
    codec_ical_format_time(-1, text);
    CHECK_STR_EQ(text, "19691231T235959Z");
    codec_ical_t ics = {0};
    codec_ical_time_line(&ics, "DTSTART", 951825600); /* 2000-02-29T12:00:00Z */
    CHECK_STR_EQ(ics.data, "DTSTART:20000229T120000Z\r\n");
    codec_ical_free(&ics);
}
