/*
 * The codec: the JSON and text forms of the API's building blocks — UUIDs, WEEK objects, local-date
 * lists and RFC 3339 instants. Parsers report the offending field as a path
 * ("working_hours.mon[1]") for the error envelope's details.field.
 */
#ifndef SLOTD_CODEC_H
#define SLOTD_CODEC_H

#include <jansson.h>
#include <stddef.h>

#include "slotd/engine.h"

/** Size of a field-path buffer: long enough for every path the API names. */
#define CODEC_FIELD_MAX 128

/**
 * Parses a WEEK object ({"mon":[["09:00","13:00"],...],...}; a missing or
 * empty day is closed) into *week, normalized. `name` is the field's own path
 * ("working_hours"). Returns 0, or an ENG_ error with `field` naming the day or
 * range at fault (unknown day keys are errors too).
 */
int codec_week_from_json(const json_t *value, const char *name, eng_week_t *week, char *field,
                         size_t field_size);

/** One day's hours ([["10:00","14:00"]], [] = closed), as for date overrides. */
int codec_day_hours_from_json(const json_t *value, const char *name, eng_day_hours_t *hours,
                              char *field, size_t field_size);

/** The JSON form of a week (days with no hours as []). New reference. */
json_t *codec_week_to_json(const eng_week_t *week);

/**
 * The same WEEK object with its days in calendar order, mon to sun (a WEEK read
 * back from a jsonb column comes with its keys sorted alphabetically). Takes
 * the caller's reference to `week` and returns a new one; anything but an
 * object (null) is returned as it is.
 */
json_t *codec_week_ordered(json_t *week);

/**
 * Parses an RFC 3339 instant with an offset or Z, with or without seconds and
 * fractions (dropped): "2026-03-30T09:00:00+02:00". Returns 0, ENG_EINVAL
 * (malformed), or ENG_ERANGE when the instant, offset applied, lies outside
 * [TZ_MIN_INSTANT, TZ_MAX_INSTANT) (tz.h).
 */
int codec_parse_instant(const char *text, int64_t *instant);

/** Room for an instant's text with its terminating NUL. */
#define CODEC_INSTANT_MAX 26

/**
 * Writes an instant in a zone as "YYYY-MM-DDTHH:MM:SS+HH:MM" ("...Z" in UTC)
 * into out (CODEC_INSTANT_MAX bytes), NUL-terminated; returns its length.
 */
size_t codec_write_instant(tz_zone_t *zone, int64_t instant, char *out);

/** The same, into a buffer of any size (truncated to fit). */
void codec_format_instant(tz_zone_t *zone, int64_t instant, char *buffer, size_t size);

/** Parses a UUID in its canonical text form (any case). Returns 0 or ENG_EINVAL. */
int codec_parse_uuid(const char *text, eng_id_t *id);

/** Formats a UUID in canonical lowercase form into `text` (37 bytes). */
void codec_format_uuid(const eng_id_t *id, char *text);

/**
 * Whether `text` is an absolute http:// or https:// URL (scheme in any case)
 * with a host, and nothing but printable ASCII without spaces: what slotd
 * accepts where it will call out (provider base URLs, an ICS feed).
 */
bool codec_is_http_url(const char *text);

/**
 * Reads JSON text as json_loadb(text, length, flags, error) does, with the same values, the
 * same refusals and the same error report, only faster for the bodies clients send: a quick
 * reader takes objects, arrays, strings (no \u escapes), whole numbers and literals, and
 * leaves anything else (and anything wrong) to jansson. Flags: JSON_REJECT_DUPLICATES and
 * JSON_DECODE_ANY (with others jansson reads it all). New reference, or NULL.
 */
json_t *codec_json_load(const char *text, size_t length, size_t flags, json_error_t *error);

/** The quick reader alone: the value, or NULL for whatever it leaves to jansson (a test's
 *  view of which reader answered). */
json_t *codec_json_fast(const char *text, size_t length, size_t flags);

#endif
