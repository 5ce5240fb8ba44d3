/*
 * Writing iCalendar (RFC 5545) text: content lines ended by CRLF and folded
 * at 75 octets (a continuation line begins with one space; a fold never
 * splits a UTF-8 character), TEXT values escaped (\ ; , and line breaks),
 * parameter values quoted, and UTC date-times (YYYYMMDDTHHMMSSZ).
 *
 * A line is built in parts — its name, its parameters, its value — then
 * ended, which folds it into the calendar's text:
 *
 *     codec_ical_begin(&ics, "ATTENDEE");
 *     codec_ical_param(&ics, "CN", name);
 *     codec_ical_raw(&ics, "mailto:a@example.com");
 *     codec_ical_end(&ics);
 *
 * Text is taken as UTF-8, as every text of the service is stored; control
 * characters other than line breaks and tabs (which iCalendar's TEXT does not
 * allow) are left out.
 */
#ifndef SLOTD_CODEC_ICAL_H
#define SLOTD_CODEC_ICAL_H

#include <stddef.h>
#include <stdint.h>

/** Octets of a content line before it is folded (CRLF not counted). */
#define CODEC_ICAL_FOLD 75

/** A calendar's text being written; zero-initialized is empty. */
typedef struct {
    char *data; /**< NUL-terminated once anything is written */
    size_t size, capacity;
    char *line; /**< the content line being built */
    size_t line_size, line_capacity;
} codec_ical_t;

/** Frees the text and the line being built. */
void codec_ical_free(codec_ical_t *ics);

/** Starts a content line with its name ("SUMMARY", "DTSTART"). */
void codec_ical_begin(codec_ical_t *ics, const char *name);

/** Adds a parameter, its value always quoted (a DQUOTE in it becomes an apostrophe, line
 *  breaks become spaces). */
void codec_ical_param(codec_ical_t *ics, const char *name, const char *value);

/** Adds ":" and a value written as is (a URI, a number, a keyword). */
void codec_ical_raw(codec_ical_t *ics, const char *value);

/** Adds ":" and a TEXT value, escaped. */
void codec_ical_text(codec_ical_t *ics, const char *text);

/** Ends the line: folds it into the calendar's text with CRLF. */
void codec_ical_end(codec_ical_t *ics);

/** A whole line NAME:value (value written as is). */
void codec_ical_line(codec_ical_t *ics, const char *name, const char *value);

/** A whole line NAME:text (TEXT, escaped). */
void codec_ical_text_line(codec_ical_t *ics, const char *name, const char *text);

/** A whole line NAME:YYYYMMDDTHHMMSSZ for UTC seconds. */
void codec_ical_time_line(codec_ical_t *ics, const char *name, int64_t instant);

/** UTC seconds as YYYYMMDDTHHMMSSZ into `out` (17 bytes). */
void codec_ical_format_time(int64_t instant, char *out);

#endif
