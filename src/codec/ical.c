/*
 * iCalendar text (see ical.h): a content line is built unfolded, then copied
 * into the calendar's text with a CRLF and a space inserted before any octet
 * that would make a line longer than 75 octets, moved back to the start of
 * the UTF-8 character it would split.
 */
#include "codec/ical.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slotd/alloc.h"
#include "slotd/tz.h"

static void put(char **data, size_t *size, size_t *capacity, const char *bytes, size_t length)
{
    *data = slotd_grow(*data, capacity, *size + length + 1, 1);
    memcpy(*data + *size, bytes, length);
    *size += length;
    (*data)[*size] = 0;
}

static void line_put(codec_ical_t *ics, const char *bytes, size_t length)
{
    put(&ics->line, &ics->line_size, &ics->line_capacity, bytes, length);
}

static void out_put(codec_ical_t *ics, const char *bytes, size_t length)
{
    put(&ics->data, &ics->size, &ics->capacity, bytes, length);
}

void codec_ical_free(codec_ical_t *ics)
{
    free(ics->data);
    free(ics->line);
    *ics = (codec_ical_t){0};
}

void codec_ical_begin(codec_ical_t *ics, const char *name)
{
    ics->line_size = 0;
    line_put(ics, name, strlen(name));
}

/* A control character TEXT does not allow (HTAB is allowed; line breaks are escaped). */
static bool forbidden_control(unsigned char c)
{
    return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f;
}

void codec_ical_param(codec_ical_t *ics, const char *name, const char *value)
{
    line_put(ics, ";", 1);
    line_put(ics, name, strlen(name));
    line_put(ics, "=\"", 2);
    for (const char *p = value; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            line_put(ics, "'", 1);
        else if (c == '\n' || c == '\r')
            line_put(ics, " ", 1);
        else if (!forbidden_control(c))
            line_put(ics, p, 1);
    }
    line_put(ics, "\"", 1);
}

void codec_ical_raw(codec_ical_t *ics, const char *value)
{
    line_put(ics, ":", 1);
    line_put(ics, value, strlen(value));
}

void codec_ical_text(codec_ical_t *ics, const char *text)
{
    line_put(ics, ":", 1);
    for (const char *p = text; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '\\' || c == ';' || c == ',') {
            char escaped[2] = {'\\', (char)c};
            line_put(ics, escaped, 2);
        } else if (c == '\r' || c == '\n') {
            if (c == '\r' && p[1] == '\n')
                p++; /* CRLF is one line break */
            line_put(ics, "\\n", 2);
        } else if (!forbidden_control(c)) {
            line_put(ics, p, 1);
        }
    }
}

void codec_ical_end(codec_ical_t *ics)
{
    const char *p = ics->line ? ics->line : "";
    size_t left = ics->line_size;
    size_t room = CODEC_ICAL_FOLD; /* the first line's octets; then 74 after the space */
    while (left > room) {
        size_t cut = room;
        while (cut > 0 && ((unsigned char)p[cut] & 0xC0) == 0x80)
            cut--; /* never inside a UTF-8 character */
        if (cut == 0)
            cut = room; /* not UTF-8 at all: cut where the octets end */
        out_put(ics, p, cut);
        out_put(ics, "\r\n ", 3);
        p += cut;
        left -= cut;
        room = CODEC_ICAL_FOLD - 1;
    }
    out_put(ics, p, left);
    out_put(ics, "\r\n", 2);
    ics->line_size = 0;
}

void codec_ical_line(codec_ical_t *ics, const char *name, const char *value)
{
    codec_ical_begin(ics, name);
    codec_ical_raw(ics, value);
    codec_ical_end(ics);
}

void codec_ical_text_line(codec_ical_t *ics, const char *name, const char *text)
{
    codec_ical_begin(ics, name);
    codec_ical_text(ics, text);
    codec_ical_end(ics);
}

void codec_ical_format_time(int64_t instant, char *out)
{
    int32_t day = tz_day_of(instant);
    int64_t second = instant - (int64_t)day * TZ_SECONDS_PER_DAY;
    tz_date_t date = tz_civil_from_days(day);
    char text[64]; /* the supported years have four digits: 16 characters and the NUL */
    snprintf(text, sizeof(text), "%04d%02d%02dT%02d%02d%02dZ", (int)date.year, (int)date.month,
             (int)date.day, (int)(second / 3600), (int)(second / 60 % 60), (int)(second % 60));
    memcpy(out, text, 16);
    out[16] = 0;
}

void codec_ical_time_line(codec_ical_t *ics, const char *name, int64_t instant)
{
    char text[17];
    codec_ical_format_time(instant, text);
    codec_ical_line(ics, name, text);
}
