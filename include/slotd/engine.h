/*
 * The availability engine: an organization's rules and busy time in memory,
 * and the slot queries and booking checks of docs/design.md ("Availability — the
 * exact rules").
 *
 * Pure computation: no I/O, no event loop, no database, nothing that blocks.
 * The service loads the engine from PostgreSQL and keeps it in step; tests and
 * benchmarks drive it directly.
 *
 * Ownership: an eng_org_t owns its locations, resources and services; they are
 * created through the organization, live until eng_org_free(), and are never
 * freed one by one (deleting a resource is eng_resource_set_active(false): its
 * bookings stay). Every setter copies what it is given. Query results live in
 * an eng_workspace_t owned by the caller and stay valid until the workspace's
 * next query. Nothing here is thread-safe: one loop owns an organization.
 *
 * Units: instants are int64_t seconds since the epoch (UTC); local dates are day
 * numbers (tz.h); wall times of day are minutes 0..1440; durations, steps,
 * buffers and notice are whole minutes; the horizon is whole days.
 */
#ifndef SLOTD_ENGINE_H
#define SLOTD_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slotd/busy.h"
#include "slotd/errors.h"
#include "slotd/tz.h"

/* ---- limits ---------------------------------------------------------------- */

#define ENG_MAX_DAY_RANGES 16                 /**< ranges in one day's hours */
#define ENG_MAX_DURATION_MINUTES 10080        /**< a service lasts at most 7 days */
#define ENG_MAX_NOTICE_MINUTES 525600         /**< a year */
#define ENG_MAX_HORIZON_DAYS 3660             /**< ten years */
#define ENG_MAX_WINDOW_SECONDS (62LL * 86400) /**< slot query window */
#define ENG_MAX_GROUPS 8
#define ENG_MAX_GROUP_MEMBERS 256

/* ---- hours ----------------------------------------------------------------- */

/** A range of wall time within one day, minutes since local midnight. */
typedef struct {
    uint16_t start; /**< 0..1439 */
    uint16_t end;   /**< start+1..1440 (1440 is "24:00") */
} eng_hours_range_t;

/** One day's hours: sorted, non-overlapping, touching ranges merged. */
typedef struct {
    uint8_t count;
    eng_hours_range_t ranges[ENG_MAX_DAY_RANGES];
} eng_day_hours_t;

/** Weekly hours; day[0] is Monday. A day with no range is closed. */
typedef struct {
    eng_day_hours_t day[7];
} eng_week_t;

/**
 * Validates a day's ranges as given and brings them to the stored form (sorted,
 * touching ranges merged). Returns 0, ENG_ERANGE_ORDER (a range does not end
 * after it starts or lies outside 00:00..24:00) or ENG_ERANGE_OVERLAP; *bad is
 * then the index of the offending range as given.
 */
int eng_day_hours_normalize(eng_day_hours_t *hours, int *bad);

/** Parses "HH:MM" (00:00..23:59, and 24:00 when allow_24) into minutes. */
int eng_parse_wall_minutes(const char *text, bool allow_24, uint16_t *minutes);

/* ---- configuration ---------------------------------------------------------- */

typedef struct eng_org eng_org_t;
typedef struct eng_location eng_location_t;
typedef struct eng_resource eng_resource_t;
typedef struct eng_service eng_service_t;

/** A 16-byte identifier (a UUID); resources sort by it. */
typedef struct {
    uint8_t bytes[16];
} eng_id_t;

/** A new, empty organization in a zone, with no business-hours limit. */
eng_org_t *eng_org_new(tz_zone_t *zone);
void eng_org_free(eng_org_t *org);
tz_zone_t *eng_org_zone(const eng_org_t *org);
void eng_org_set_zone(eng_org_t *org, tz_zone_t *zone);

/**
 * Business hours bounding every resource without location hours of its own;
 * NULL removes the limit. Each day must be normalized-valid (see
 * eng_day_hours_normalize); returns 0 or that function's error.
 */
int eng_org_set_business_hours(eng_org_t *org, const eng_week_t *hours);

/** The closure dates (local dates in the organization's zone). Copied. */
void eng_org_set_closures(eng_org_t *org, const int32_t *days, size_t count);

/** A location (branch) of the organization, owned by it. */
eng_location_t *eng_location_new(eng_org_t *org, tz_zone_t *zone);
void eng_location_set_zone(eng_location_t *location, tz_zone_t *zone);
int eng_location_set_business_hours(eng_location_t *location, const eng_week_t *hours);
void eng_location_set_closures(eng_location_t *location, const int32_t *days, size_t count);

/** A resource (staff, room, equipment), owned by the organization; active, no hours. */
eng_resource_t *eng_resource_new(eng_org_t *org, const eng_id_t *id, tz_zone_t *zone);
const eng_id_t *eng_resource_id(const eng_resource_t *resource);
void eng_resource_set_zone(eng_resource_t *resource, tz_zone_t *zone);
void eng_resource_set_location(eng_resource_t *resource, eng_location_t *location);
/** An inactive resource is never offered; its busy time is kept. */
void eng_resource_set_active(eng_resource_t *resource, bool active);
int eng_resource_set_week(eng_resource_t *resource, const eng_week_t *week);

/**
 * Forgets a resource's hours, overrides, busy time and recurring blocks (for a
 * reload from the database); its id, zone, location and active flag stay.
 */
void eng_resource_reset(eng_resource_t *resource);

/**
 * Exchanges two resources' busy time and recurring blocks (of any organizations): an index
 * builds a resource's busy time aside, in steps, and puts it in place at once.
 */
void eng_resource_swap_busy(eng_resource_t *a, eng_resource_t *b);

/** Replaces one local date's weekly hours (count 0 = not working that day). */
int eng_resource_set_override(eng_resource_t *resource, int32_t day, const eng_day_hours_t *hours);
/** Removes a date override; ENG_ENOTFOUND when there is none. */
int eng_resource_clear_override(eng_resource_t *resource, int32_t day);

/** Adds or removes busy time (see busy.h; removal matches start, buffer_before, kind and key). */
int eng_resource_add_busy(eng_resource_t *resource, const eng_busy_t *busy);
int eng_resource_remove_busy(eng_resource_t *resource, const eng_busy_t *busy);

/** Removes holds that expired at or before `now`; returns how many. */
size_t eng_resource_expire_holds(eng_resource_t *resource, int64_t now);

/** Number of busy entries and the bytes they take. */
size_t eng_resource_busy_count(const eng_resource_t *resource);
size_t eng_resource_busy_bytes(const eng_resource_t *resource);

/**
 * Adds a recurring block: an RFC 5545 RRULE (FREQ DAILY or coarser; UNTIL or
 * COUNT optional) expanded from `start_wall` (wall seconds in the resource's
 * zone) in floating wall time, each occurrence converted to an instant and
 * busy for `duration_minutes` real minutes. `exdates_wall` lists wall starts
 * of occurrences that are left out. `key` identifies the block for removal.
 * Refused with ENG_ERRULE: more than one BYHOUR, BYMINUTE or BYSECOND value
 * (sub-daily), an UNTIL before the start, COUNT with UNTIL, and a rule with no
 * occurrence within 9 years of its start. Occurrences stop at the end of the
 * supported range (tz.h). Returns 0, ENG_ERRULE, ENG_ERANGE (a start outside
 * the supported years), ENG_EDURATION or ENG_EEXISTS.
 */
int eng_resource_add_recurring_block(eng_resource_t *resource, uint64_t key, const char *rrule,
                                     int64_t start_wall, int32_t duration_minutes,
                                     const int64_t *exdates_wall, size_t exdate_count);

/**
 * A recurrence in general: what eng_resource_add_recurring_block makes, and
 * what an imported calendar's recurring event is (its own zone, a duration
 * in seconds, busy as an external event).
 */
typedef struct {
    const char *rrule;
    int64_t start_wall;       /**< the first start, wall seconds in `zone` */
    tz_zone_t *zone;          /**< where the rule is expanded; NULL: the resource's zone */
    int32_t duration_seconds; /**< 1 s to 31 days */
    /** The end of each occurrence is its start's wall time plus the duration, converted on its
     *  own (an all-day event ends at a local midnight also across a DST change); else the
     *  duration is real seconds from the start. */
    bool nominal;
    const int64_t *exdates_wall; /**< wall starts (in `zone`) of occurrences left out */
    size_t exdate_count;
    eng_busy_kind_t kind; /**< ENG_BUSY_BLOCK or ENG_BUSY_EXTERNAL */
    /** No occurrence starting before this wall time is ever made (0: from the start): a
     *  series begun years ago is not expanded through its past. A rule with COUNT still
     *  counts from its start. */
    int64_t expand_from_wall;
    /** The caller knows `key` is not the key of another recurrence of the resource (an index
     *  loading rows by their ids): it is not looked for among them. */
    bool key_unique;
} eng_recurrence_t;

/** Adds a recurrence under `key`; the same checks and answers as eng_resource_add_recurring_block
 *  (ENG_EDURATION: not 1 s to 31 days). */
int eng_resource_add_recurrence(eng_resource_t *resource, uint64_t key,
                                const eng_recurrence_t *recurrence);

/** A recurrence with COUNT as the same rule bounded by an UNTIL at its last occurrence's wall
 *  time (caller frees), so that it can be expanded from anywhere rather than from its start;
 *  NULL when it has no COUNT or cannot be used. Thread-safe (no zone is looked at). */
char *eng_recurrence_bounded(const eng_recurrence_t *recurrence);

/** Checks a recurrence as eng_resource_add_recurrence would (thread-safe: no zone is looked
 *  at). */
int eng_recurrence_check(const eng_recurrence_t *recurrence);
int eng_resource_remove_recurring_block(eng_resource_t *resource, uint64_t key);

/** Checks a recurring block as eng_resource_add_recurring_block would: 0, ENG_ERRULE,
 *  ENG_ERANGE or ENG_EDURATION. */
int eng_recurring_block_check(const char *rrule, int64_t start_wall, int32_t duration_minutes);

/**
 * The concrete occurrences of a resource's recurring blocks that overlap
 * [from, to), appended to *out as busy entries of the recurrence's kind (ENG_BUSY_BLOCK for
 * blocks) with its key (sorted by start). *out grows as needed; the caller frees it.
 */
size_t eng_resource_recurring_occurrences(eng_resource_t *resource, int64_t from, int64_t to,
                                          eng_busy_t **out, size_t *count, size_t *capacity);

/** A service's timing. */
typedef struct {
    int32_t duration_minutes;      /**< 1..ENG_MAX_DURATION_MINUTES */
    int32_t interval_minutes;      /**< step between starts; 0 = the duration */
    int32_t buffer_before_minutes; /**< 0..ENG_MAX_BUFFER_MINUTES */
    int32_t buffer_after_minutes;  /**< 0..ENG_MAX_BUFFER_MINUTES */
    int32_t min_notice_minutes;    /**< 0..ENG_MAX_NOTICE_MINUTES */
    int32_t max_advance_days;      /**< -1 = no horizon, else 0..ENG_MAX_HORIZON_DAYS */
} eng_service_spec_t;

typedef enum { ENG_GROUP_ANY = 0, ENG_GROUP_ALL = 1 } eng_group_mode_t;

/** Validates a spec: 0 or ENG_EDURATION. */
int eng_service_spec_check(const eng_service_spec_t *spec);

/** A service of the organization, owned by it, with no requirement groups yet. */
int eng_service_new(eng_org_t *org, const eng_service_spec_t *spec, eng_service_t **out);
int eng_service_set_spec(eng_service_t *service, const eng_service_spec_t *spec);
const eng_service_spec_t *eng_service_spec(const eng_service_t *service);

/**
 * Appends a requirement group. Members must be resources of the service's
 * organization, at least one, at most ENG_MAX_GROUP_MEMBERS, no repeats.
 * Returns 0, ENG_EINVAL or ENG_ELIMIT.
 */
int eng_service_add_group(eng_service_t *service, eng_group_mode_t mode,
                          eng_resource_t *const *members, size_t count);
void eng_service_clear_groups(eng_service_t *service);

/* ---- queries ---------------------------------------------------------------- */

/** A slot: [start, end) and the resources that could serve it. */
typedef struct {
    int64_t start;
    int64_t end;
    uint32_t first_resource; /**< index into eng_slots_t.resources */
    uint32_t resource_count;
} eng_slot_t;

typedef struct {
    const eng_slot_t *slots;
    size_t count;
    eng_resource_t *const *resources; /**< each slot's resources, sorted by id */
} eng_slots_t;

/**
 * Scratch memory and results of queries. Reusing one workspace makes queries
 * allocation-free once it has grown to fit them.
 */
typedef struct eng_workspace eng_workspace_t;
eng_workspace_t *eng_workspace_new(void);
void eng_workspace_free(eng_workspace_t *workspace);

/** A slot query (docs/design.md, rules 1-10). */
typedef struct {
    const eng_service_t *service;
    int64_t from, to; /**< the window; to - from at most ENG_MAX_WINDOW_SECONDS */
    int64_t now;      /**< the clock */
    tz_zone_t *zone;  /**< display zone Z; NULL = the organization's */
    /** resource_id filter: an `any` group that contains any of these offers only
     *  them; groups containing none are unaffected; when no group contains any,
     *  nothing is offered. count 0 = no filter. */
    eng_resource_t *const *resources;
    size_t resource_count;
    const eng_location_t *location; /**< only this location's resources; NULL = all */
    uint32_t limit;                 /**< 0 = no limit */
    uint32_t per_day;               /**< 0 = no limit; per local date in Z */
} eng_query_t;

/**
 * Computes the slots of a query into the workspace. Returns 0, or ENG_EWINDOW
 * (to < from, or longer than ENG_MAX_WINDOW_SECONDS) or ENG_EINVAL.
 *
 * Work: combining the requirement groups costs O(n log n) in the free spans of
 * their members and yields at most as many ranges as those spans, so a query's
 * work is bounded by the input limits (ENG_MAX_GROUPS groups of at most
 * ENG_MAX_GROUP_MEMBERS, a window of at most ENG_MAX_WINDOW_SECONDS, the busy
 * entries in it); 3 groups of 128 staff over 62 days take milliseconds.
 */
int eng_slots(eng_workspace_t *workspace, const eng_query_t *query, eng_slots_t *out);

/** A booking check: would `start` be offered now with these resources? */
typedef struct {
    const eng_service_t *service;
    int64_t start;
    int64_t now;
    tz_zone_t *zone; /**< the zone the client read the slot in; NULL = the organization's */
    eng_resource_t *const *pinned; /**< resources the booking must use (some or all) */
    size_t pinned_count;
} eng_check_t;

/**
 * Checks a booking against the rules (window and limits aside) and picks its
 * resources. The start is accepted when it would be offered with the pinned
 * resources as the resource filter (what GET /v1/slots?resource_id= shows), or
 * without a filter with every pinned resource among those serving it (what
 * GET /v1/slots shows): a start a client was shown is always bookable with the
 * resources it was shown with.
 *
 * Resources: every member of each `all` group, and per `any` group the pinned
 * member, else the serving member with the fewest active bookings on that
 * local date (organization's zone), then the one whose latest booking was
 * created longest ago (never booked first), then the lowest id. A resource in
 * two groups may serve both and is listed once.
 *
 * The look-back to where the grid of the start began is followed range by
 * range, without emitting the starts before it: a check costs what the ranges
 * of that look-back cost, however far ahead the start lies.
 *
 * On success returns 0 and *picked (valid until the workspace's next call,
 * sorted by id) and *picked_count. Returns ENG_EUNAVAILABLE when the start
 * would not be offered, ENG_ERESOURCE when a pinned resource is not in any
 * group of the service, is pinned twice, or two are pinned in one `any` group.
 */
int eng_check_booking(eng_workspace_t *workspace, const eng_check_t *check,
                      eng_resource_t *const **picked, size_t *picked_count);

/**
 * The admin override check: is [start - bb, end + ba) free of every active
 * booking and unexpired hold of each resource (the no-overlap rule alone)?
 * Returns 0 or ENG_EUNAVAILABLE.
 */
int eng_check_no_overlap(eng_workspace_t *workspace, const eng_service_t *service, int64_t start,
                         int64_t end, int64_t now, eng_resource_t *const *resources, size_t count);

/**
 * A booking longer (or shorter) than its service: does [start, end) lie inside
 * the free time of each resource for the service (availability rules 1-3:
 * open time, closures, and every busy entry — bookings, live holds, blocks,
 * recurring blocks, external events — widened by the service's buffers)?
 * Returns 0, ENG_EUNAVAILABLE, or ENG_EINVAL (no service, end <= start, or
 * longer than ENG_MAX_DURATION_MINUTES).
 */
int eng_check_span(eng_workspace_t *workspace, const eng_service_t *service, int64_t start,
                   int64_t end, int64_t now, eng_resource_t *const *resources, size_t count);

/**
 * The admin override's check and pick: hours, notice, horizon and the grid are
 * skipped; the no-overlap rule is not. Resources: the pinned ones, every
 * member of each `all` group, and per `any` group without a pinned member its
 * first member, by id, whose [start - bb, end + ba) is free (as
 * eng_check_no_overlap). On success returns 0 and *picked (valid until the
 * workspace's next call, sorted by id); ENG_ERESOURCE as eng_check_booking;
 * ENG_EUNAVAILABLE when a resource it needs is taken.
 */
int eng_check_override(eng_workspace_t *workspace, const eng_check_t *check, int64_t end,
                       eng_resource_t *const **picked, size_t *picked_count);

#endif
