/*
 * The domain layer: the rules the API promises, between the edges (HTTP
 * routes, and the voice tools to come) and the typed store. An edge decodes
 * its input into the domain's structs, calls a domain function, and renders
 * what comes back; it never checks a rule itself, so every edge enforces the
 * same ones. Where a field's message covers its type as well as its range
 * ("a whole number from 1 to 10080"), the edge says how it received the
 * field (domain_given_t) and the domain words the refusal.
 *
 * A domain function either refuses its input with a domain_error_t (the field
 * at fault in the API's notation, e.g. "closures[2]", and a message for
 * people), or starts the store operation and returns it; its result reaches
 * the caller's typed callback, on the loop.
 */
#ifndef SLOTD_DOMAIN_DOMAIN_H
#define SLOTD_DOMAIN_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>

#include "slotd/codec.h"

/** Why a domain function refused. */
typedef enum {
    DOMAIN_OK = 0,
    DOMAIN_EINVALID = -1,    /**< the input breaks a rule: `field` and `message` say which */
    DOMAIN_EBUSY = -2,       /**< the store refused to queue the work: try again */
    DOMAIN_EUNAVAILABLE = -3 /**< a setting the work needs is not set: `field` names the
                                  setting, `message` says so */
} domain_code_t;

typedef struct {
    domain_code_t code;
    char field[CODEC_FIELD_MAX];
    char message[320]; /**< the longest, a block's RRULE rule, is 232 characters */
} domain_error_t;

/**
 * How an edge received a field: absent, null, a value of the field's type, or
 * a value of another type. The domain refuses a value of another type with
 * the field's own message (the same as for a value out of its range), so
 * every edge words its refusals alike.
 */
typedef enum { DOMAIN_ABSENT = 0, DOMAIN_NULL, DOMAIN_GIVEN, DOMAIN_MALFORMED } domain_given_t;

/** A whole number as received (`value` when DOMAIN_GIVEN). */
typedef struct {
    domain_given_t given;
    long long value;
} domain_whole_t;

/** A text as received (`text` when DOMAIN_GIVEN). */
typedef struct {
    domain_given_t given;
    const char *text;
} domain_text_t;

/** `operation`; or, when the store refused to start it (NULL), fills `error` with
 *  DOMAIN_EBUSY. */
struct store_operation *domain_started(struct store_operation *operation, domain_error_t *error);

/** Fills `error` with DOMAIN_EINVALID for `field`; returns DOMAIN_EINVALID. */
int domain_invalid(domain_error_t *error, const char *field, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/** Unicode characters (code points) of valid UTF-8 text; -1 when it is not valid UTF-8. */
long domain_text_length(const char *text);

/** Refuses a required field that was not `given` ("name is required."). */
int domain_check_required(domain_error_t *error, const char *field, bool given);

/**
 * Checks a text field: valid UTF-8, no NUL, min..max characters. `text` NULL
 * passes (absent or null: the caller decides whether that is allowed).
 */
int domain_check_text(domain_error_t *error, const char *field, const char *text, long min,
                      long max);

/**
 * Checks a text as received: min..max characters as domain_check_text; null
 * or a value that is not text is refused with the same message; absent passes
 * unless `required` ("F is required.").
 */
int domain_check_given_text(domain_error_t *error, const char *field, const domain_text_t *text,
                            long min, long max, bool required);

/** Checks an IANA zone name; NULL passes. */
int domain_check_zone(domain_error_t *error, const char *field, const char *zone);

/**
 * Checks a whole number: min..max ("F must be a whole number from MIN to
 * MAX[, or null]."), null only when `nullable`; absent passes unless
 * `required` ("F is required.").
 */
int domain_check_whole(domain_error_t *error, const char *field, const domain_whole_t *number,
                       long long min, long long max, bool nullable, bool required);

/** Checks closure dates: at most `max`, each listed once (duplicates are refused). */
int domain_check_dates(domain_error_t *error, const char *field, const int32_t *days, size_t count,
                       size_t max);

#endif
