/*
 * The domain layer: the rules the API promises, between the edges (HTTP
 * routes, and the voice tools to come) and the typed store. An edge decodes
 * its input into the domain's structs, calls a domain function, and renders
 * what comes back; it never checks a rule itself, so every edge enforces the
 * same ones.
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
    DOMAIN_EINVALID = -1, /**< the input breaks a rule: `field` and `message` say which */
    DOMAIN_EBUSY = -2     /**< the store refused to queue the work: try again */
} domain_code_t;

typedef struct {
    domain_code_t code;
    char field[CODEC_FIELD_MAX];
    char message[320]; /**< the longest, a block's RRULE rule, is 232 characters */
} domain_error_t;

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
 * domain_check_text for a field that, when `sent`, must be text: a NULL `text` then means
 * the edge could not read what was sent as text, refused with the same message.
 */
int domain_check_sent_text(domain_error_t *error, const char *field, bool sent, const char *text,
                           long min, long max);

/** Checks an IANA zone name; NULL passes. */
int domain_check_zone(domain_error_t *error, const char *field, const char *zone);

/** Checks closure dates: at most `max`, each listed once (duplicates are refused). */
int domain_check_dates(domain_error_t *error, const char *field, const int32_t *days, size_t count,
                       size_t max);

#endif
