/*
 * ICS feeds (RFC 5545) read into busy time: the `ics` connections' pull.
 *
 * Two steps, so that the slow one runs off the loop:
 *
 * 1. ics_read() parses the feed with libical and walks its VEVENTs into
 *    plain records: wall times with the TZID they were given in, the RRULE
 *    text, EXDATEs, RDATEs, RECURRENCE-IDs, DURATION, TRANSP, STATUS, and the
 *    feed's VTIMEZONE definitions. It touches no zone table and may run on a
 *    worker thread (uv_queue_work).
 * 2. ics_resolve(), on the loop, turns the records into one-off events and
 *    series by the zones: a TZID names a system zone, else the feed's own
 *    VTIMEZONE of that name (a zone slotd then keeps by its definition);
 *    floating times and dates are in the calendar's X-WR-TIMEZONE when the
 *    system knows it, else in the resource's zone; all-day events are whole
 *    local days of their zone (a DATE may carry a TZID). A recurring
 *    event stays a series (expanded lazily by the engine, in its own zone,
 *    as far as any query reaches); an overridden occurrence (RECURRENCE-ID)
 *    leaves its series as an EXDATE and becomes a one-off of its own when it
 *    is busy; RDATEs are one-offs of the series' length. TRANSP:TRANSPARENT
 *    and STATUS:CANCELLED events are not busy.
 *
 * A feed is taken whole or not at all: anything slotd cannot read exactly
 * (not iCalendar, truncated, nested deeper than ICS_MAX_DEPTH, more than
 * ICS_MAX_EVENTS events, a time outside 1970..2199, a TZID neither the system
 * nor the feed defines, a rule that never matches or that the engine does not
 * expand) refuses the feed with a message naming the event: the connection's
 * busy time stays as it was.
 */
#ifndef SLOTD_SYNC_ICS_H
#define SLOTD_SYNC_ICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slotd/tz.h"
#include "sync/events.h"

#define ICS_MAX_BYTES (16 * 1024 * 1024)
#define ICS_MAX_EVENTS 100000
#define ICS_MAX_DEPTH 8
#define ICS_MAX_SERIES_EXDATES 20000

/** A time as the feed gave it. */
typedef struct {
    int64_t wall; /**< wall seconds (dates: their midnight) */
    char *tzid;   /**< TZID, or NULL: UTC when utc, else floating */
    bool utc;     /**< ...Z */
    bool is_date; /**< VALUE=DATE */
    bool present;
} ics_time_t;

typedef struct {
    char *uid, *summary, *rrule;
    ics_time_t start, end, recurrence_id;
    int64_t duration; /**< DURATION in seconds (when given) */
    bool has_duration;
    bool duration_nominal; /**< DURATION in days or weeks: wall time */
    bool busy;             /**< not TRANSPARENT, not CANCELLED */
    ics_time_t *exdates, *rdates;
    size_t exdate_count, rdate_count;
} ics_record_t;

typedef struct {
    char *tzid, *definition; /**< a VTIMEZONE of the feed: its TZID and its text */
} ics_zone_def_t;

typedef struct {
    ics_record_t *records;
    size_t count;
    ics_zone_def_t *zones;
    size_t zone_count;
    char *default_tzid;       /**< the calendar's X-WR-TIMEZONE, or NULL */
    ics_record_t **overrides; /**< the records with a RECURRENCE-ID, by UID */
    size_t override_count;
} ics_feed_t;

/** Reads `text` (length bytes; need not be NUL-terminated). 0, or -1 with a message. Any
 *  thread; free with ics_feed_free in either case. */
int ics_read(const char *text, size_t length, ics_feed_t *feed, char *error, size_t error_size);
void ics_feed_free(ics_feed_t *feed);

/** A recurring event of a feed. */
typedef struct {
    char *id, *summary, *rrule;
    int64_t start_wall;       /**< DTSTART's wall time in its zone */
    char *zone;               /**< its zone's name (NULL: floating, the resource's) */
    char *vtimezone;          /**< the feed's definition when the zone is not the system's */
    int32_t duration_seconds; /**< wall seconds when nominal, else real */
    bool nominal, all_day;
    int64_t *exdates; /**< wall starts in the series' zone */
    size_t exdate_count;
    int64_t first_start, first_end; /**< instants of DTSTART and its end */
} ics_series_t;

typedef struct {
    sync_event_t *events; /**< one-off busy events */
    size_t count;
    ics_series_t *series;
    size_t series_count;
    size_t event_capacity, series_capacity;
} ics_busy_t;

/** The busy time of a read feed (on the loop: it uses the zone table). `zone`: the resource's.
 *  0, or -1 with a message (the feed is refused). Free with ics_busy_free in either case. */
int ics_resolve(const ics_feed_t *feed, tz_zone_t *zone, ics_busy_t *busy, char *error,
                size_t error_size);
void ics_busy_free(ics_busy_t *busy);

/** ics_resolve in steps, so that a large feed does not hold the loop: resolves records from
 *  *next on, at most `max` of them (busy starts zeroed). 1: more to do, 0: done (then call
 *  ics_busy_finish), -1: the feed is refused (the message in error). On the loop. */
int ics_resolve_step(const ics_feed_t *feed, tz_zone_t *zone, ics_busy_t *busy, size_t *next,
                     size_t max, char *error, size_t error_size);

/** The last of resolving: events of one UID named apart. Any thread. */
void ics_busy_finish(ics_busy_t *busy);

/** The busy time as the store takes it, JSON lists of {"id","start","end","all_day",
 *  "summary"} and for series also "rrule","start_local","timezone","vtimezone","duration",
 *  "nominal","exdates", at most `per_part` items each; NULL and *count 0 when there is none
 *  (caller frees the texts and the list). Any thread. */
char **ics_busy_json_parts(const ics_busy_t *busy, size_t per_part, size_t *count);

/** The zone a series names: a system zone by name, else one made from its VTIMEZONE text (kept
 *  for the process's life, one per definition); NULL zone name: `fallback`. NULL when neither
 *  works. */
tz_zone_t *ics_series_zone(const char *name, const char *vtimezone, tz_zone_t *fallback);

#endif
