/*
 * Error codes of the availability engine. Every engine function returns 0 or
 * one of these (negative); eng_strerror() names them for logs, and the HTTP
 * layer maps them to its error envelope. They never reach a client as text.
 */
#ifndef SLOTD_ERRORS_H
#define SLOTD_ERRORS_H

enum {
    ENG_OK = 0,
    ENG_EINVAL = -1,         /**< malformed input (see the function's contract) */
    ENG_ERANGE_ORDER = -2,   /**< a range does not end after it starts */
    ENG_ERANGE_OVERLAP = -3, /**< two ranges of one day overlap */
    ENG_EZONE = -4,          /**< unknown time zone */
    ENG_EDURATION = -5,      /**< a duration, step, buffer, notice or horizon out of bounds */
    ENG_EWINDOW = -6,        /**< a query window inverted or longer than allowed */
    ENG_ERRULE = -7,         /**< a recurrence rule that cannot be used */
    ENG_ENOTFOUND = -8,      /**< no such entry */
    ENG_EEXISTS = -9,        /**< the entry exists already */
    ENG_ELIMIT = -10,        /**< too many ranges, groups or members */
    ENG_EUNAVAILABLE = -11,  /**< the slot would not be offered */
    ENG_ERESOURCE = -12,     /**< a resource that the service cannot use */
    ENG_ERANGE = -13,        /**< a date or instant outside the supported range (tz.h) */
};

/** A short English name of an error code, for logs. */
const char *eng_strerror(int code);

#endif
