/*
 * slotd time: civil dates and IANA time zones.
 *
 * Inside slotd an instant is an int64_t of seconds since the Unix epoch (UTC).
 * Local wall time exists only at the edges, and is represented here as "wall
 * seconds": the number of seconds since 1970-01-01T00:00 of the local calendar,
 * i.e. days_from_civil(date) * 86400 + second of the day. Wall seconds are not
 * instants; only tz_from_wall() and tz_to_wall() cross between the two.
 *
 * Local -> instant follows RFC 5545 and java.time: a wall time inside a gap
 * (spring forward) is moved forward by the length of the gap; an ambiguous wall
 * time (fall back) takes the earlier instant.
 *
 * Zone data comes from the system zoneinfo through libical's instant -> offset
 * lookup; libical's own local -> UTC conversion is not used (it is wrong in gaps
 * and overlaps). The lookups are cached per (zone, local date).
 *
 * Not thread-safe: one process (one loop) owns the zone table.
 */
#ifndef SLOTD_TZ_H
#define SLOTD_TZ_H

#include <stdbool.h>
#include <stdint.h>

#define TZ_SECONDS_PER_DAY 86400

/*
 * The supported range. Dates from TZ_MIN_YEAR-01-01 to TZ_MAX_YEAR-12-31 and
 * instants in [TZ_MIN_INSTANT, TZ_MAX_INSTANT) (1970-01-01T00:00:00Z to
 * 2200-01-01T00:00:00Z) are what slotd accepts from anyone: the parsers refuse
 * the rest with TZ_ERANGE (ENG_ERANGE in the codec). Zone lookups of every
 * value in range, and of those a query derives from it, are cached; outside
 * the cached years a zone keeps the offset at their edge.
 */
#define TZ_MIN_YEAR 1970
#define TZ_MAX_YEAR 2199
#define TZ_MIN_INSTANT 0LL
#define TZ_MAX_INSTANT 7258118400LL

/** Error codes (negative). */
enum {
    TZ_OK = 0,
    TZ_EUNKNOWN = -1, /**< no such IANA zone on this system */
    TZ_EINVAL = -2,   /**< malformed text */
    TZ_ERANGE = -3,   /**< well-formed, outside the supported range */
};

typedef struct tz_zone tz_zone_t;

/** A calendar date (proleptic Gregorian). */
typedef struct {
    int32_t year;
    int32_t month; /**< 1..12 */
    int32_t day;   /**< 1..31 */
} tz_date_t;

/** Days since 1970-01-01 of a civil date. Valid for any int32 year. */
int32_t tz_days_from_civil(int32_t year, int32_t month, int32_t day);

/** The civil date of a day number (days since 1970-01-01). */
tz_date_t tz_civil_from_days(int32_t days);

/** The days of a month (1..12) of a year (proleptic Gregorian). */
int tz_days_in_month(int32_t year, int32_t month);

/** ISO weekday of a day number: 0 = Monday ... 6 = Sunday. */
int tz_weekday(int32_t days);

/** Floor division of an instant or wall-seconds value into a day number. */
static inline int32_t tz_day_of(int64_t seconds)
{
    int64_t d = seconds / TZ_SECONDS_PER_DAY;
    if (seconds % TZ_SECONDS_PER_DAY < 0)
        d--;
    return (int32_t)d;
}

/** Parses exactly `count` decimal digits; false when any is not a digit. */
bool tz_parse_digits(const char *text, int count, int32_t *out);

/**
 * Parses "YYYY-MM-DD" (exactly that form, a real calendar date) into a day
 * number. Returns 0, TZ_EINVAL, or TZ_ERANGE for a date outside
 * TZ_MIN_YEAR..TZ_MAX_YEAR.
 */
int tz_parse_date(const char *text, int32_t *days_out);

/** Whether an instant lies in [TZ_MIN_INSTANT, TZ_MAX_INSTANT). */
static inline bool tz_instant_supported(int64_t instant)
{
    return instant >= TZ_MIN_INSTANT && instant < TZ_MAX_INSTANT;
}

/**
 * Finds a zone by IANA name ("Europe/Warsaw", also "UTC"): a Zone or Link name
 * of the tz database, never other files of the zoneinfo directory
 * ("right/...", "posix/...", "localtime") nor its "Factory" placeholder. On success *out is a
 * process-lifetime object owned by the zone table (never freed by the caller).
 * Returns 0 or TZ_EUNKNOWN.
 */
int tz_zone_find(const char *name, tz_zone_t **out);

/** The zone's IANA name. */
const char *tz_zone_name(const tz_zone_t *zone);

/**
 * A zone defined by an iCalendar VTIMEZONE (its text, alone or inside a
 * VCALENDAR), for the zones a feed defines that the system does not know. The
 * same text gives the same zone; kept until tz_shutdown. TZ_EINVAL when it is
 * not a usable VTIMEZONE.
 */
int tz_zone_define(const char *definition, tz_zone_t **out);

/** A zone by its IANA name, else, when `definition` is given, the zone it defines (a TZID the
 *  system does not know, with the feed's VTIMEZONE). TZ_EUNKNOWN when neither works. */
int tz_zone_find_or_define(const char *name, const char *definition, tz_zone_t **out);

/** UTC offset in seconds (east positive) in force at an instant. */
int32_t tz_offset_at(tz_zone_t *zone, int64_t instant);

/** Wall seconds of an instant in a zone. */
static inline int64_t tz_to_wall(tz_zone_t *zone, int64_t instant)
{
    return instant + tz_offset_at(zone, instant);
}

/** Local date (day number) of an instant in a zone. */
static inline int32_t tz_local_day(tz_zone_t *zone, int64_t instant)
{
    return tz_day_of(tz_to_wall(zone, instant));
}

/**
 * The instant of a wall time in a zone, with the RFC 5545 policy: in a gap the
 * wall time moves forward by the gap's length, in an overlap the earlier
 * instant wins.
 */
int64_t tz_from_wall(tz_zone_t *zone, int64_t wall);

/**
 * The first instant in (after, limit] at which the zone's offset differs from
 * its offset at `after`, or INT64_MAX when there is none.
 */
int64_t tz_next_change(tz_zone_t *zone, int64_t after, int64_t limit);

/** Frees every zone and libical's zone cache. For clean shutdown and tests. */
void tz_shutdown(void);

#endif
