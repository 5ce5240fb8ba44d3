/*
 * The engine's internal structures, shared by its files and by nothing else.
 */
#ifndef SLOTD_ENGINE_INTERNAL_H
#define SLOTD_ENGINE_INTERNAL_H

#include <libical/ical.h>

#include "slotd/engine.h"

/* ---- spans: sorted lists of instant intervals (ranges.c) ---------------------- */

typedef struct {
    int64_t start, end;
} eng_span_t;

typedef struct {
    eng_span_t *v;
    size_t count, capacity;
} eng_spans_t;

void eng_spans_clear(eng_spans_t *s);
void eng_spans_free(eng_spans_t *s);
/** Makes room for at least `extra` more spans. */
void eng_spans_reserve(eng_spans_t *s, size_t extra);

static inline void eng_spans_push(eng_spans_t *s, int64_t start, int64_t end)
{
    if (s->count == s->capacity)
        eng_spans_reserve(s, 1);
    s->v[s->count].start = start;
    s->v[s->count].end = end;
    s->count++;
}

/** Sorts by (start, longest first), stably; fast when the list is made of a
 *  few sorted runs. `scratch` is grown as needed. */
void eng_spans_sort(eng_spans_t *s, eng_spans_t *scratch);
/** Sorts by start, drops empty spans, merges overlapping and touching ones. */
void eng_spans_normalize(eng_spans_t *s);
/** out = a ∩ b; a and b normalized; out normalized. */
void eng_spans_intersect(const eng_spans_t *a, const eng_spans_t *b, eng_spans_t *out);
/** out = a − b; a and b normalized; out normalized. */
void eng_spans_subtract(const eng_spans_t *a, const eng_spans_t *b, eng_spans_t *out);

/** Index of the first element of the sorted v[0..n) greater than x. */
static inline size_t eng_upper_bound(const int64_t *v, size_t n, int64_t x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v[mid] <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* ---- configuration objects (org.c, rules.c) ----------------------------------- */

typedef struct {
    int32_t day;
    eng_day_hours_t hours;
} eng_override_t;

typedef struct {
    uint64_t key;
    int freq;  /* icalrecurrencetype_frequency (the rule itself, 3 KB, is not kept) */
    int count; /* COUNT, 0: none */
    icalrecur_iterator *iterator; /* NULL once exhausted (or never made: fast) */
    /* fast: a DAILY or WEEKLY rule with no BY part but BYDAY, a MONTHLY one with no BY part but
     * BYMONTHDAY, or a YEARLY one with none, expanded here rather than by libical (whose
     * iterator costs tens of microseconds an occurrence) */
    bool fast, fast_done;
    uint8_t mask;                 /* weekdays (bit 0 Monday) */
    uint32_t month_days;          /* MONTHLY, YEARLY: days of the month (bit d) */
    uint32_t month_days_from_end; /* and from its end (bit d: the d-th last) */
    int32_t first_month;          /* the start's month (year * 12 + month - 1) */
    int32_t interval;             /* days (DAILY) or weeks (WEEKLY) */
    int32_t week_start;           /* WEEKLY: the first weekday of a week (0 Monday) */
    int32_t first_day;            /* the start's day, and the start of its period */
    int32_t next_day;             /* the next day to look at */
    int32_t time_of_day;          /* seconds */
    int32_t count_left;           /* COUNT: occurrences still to make, -1: no COUNT */
    bool until_is_utc;
    int64_t until; /* INT64_MAX = none; an instant when until_is_utc, else wall seconds */
    int64_t start_wall;
    int32_t duration_seconds;
    bool nominal;     /* the end is the start's wall time + duration, converted */
    tz_zone_t *zone;  /* NULL: the resource's */
    uint8_t kind;     /* eng_busy_kind_t */
    int64_t *exdates; /* wall seconds, sorted */
    size_t exdate_count;
    int64_t expanded_to;  /* wall start of the last occurrence generated, kept or not */
    int64_t *occurrences; /* wall starts expanded so far, sorted */
    size_t occurrence_count, occurrence_capacity;
} eng_recurring_t;

struct eng_location {
    eng_org_t *org;
    tz_zone_t *zone;
    bool has_hours;
    eng_week_t hours;
    int32_t *closures;
    size_t closure_count;
};

struct eng_resource {
    eng_org_t *org;
    eng_id_t id;
    tz_zone_t *zone;
    eng_location_t *location;
    bool active;
    eng_week_t week;
    eng_override_t *overrides; /* sorted by day */
    size_t override_count, override_capacity;
    eng_busy_tree_t busy;
    eng_recurring_t **recurring;
    size_t recurring_count, recurring_capacity;
    int64_t last_booking_created; /* INT64_MIN when it has no booking */
};

typedef struct {
    eng_group_mode_t mode;
    eng_resource_t **members;
    size_t count;
} eng_group_t;

struct eng_service {
    eng_org_t *org;
    eng_service_spec_t spec;
    eng_group_t groups[ENG_MAX_GROUPS];
    size_t group_count;
};

struct eng_org {
    tz_zone_t *zone;
    bool has_hours;
    eng_week_t hours;
    int32_t *closures;
    size_t closure_count;
    eng_location_t **locations;
    size_t location_count;
    eng_resource_t **resources;
    size_t resource_count;
    eng_service_t **services;
    size_t service_count;
};

/** The hours of a local date: the override if there is one, else the week's day. */
const eng_day_hours_t *eng_resource_day_hours(const eng_resource_t *r, int32_t day);

/** Frees a resource's recurring blocks (org.c frees the rest). */
void eng_recurring_free(eng_recurring_t *rec);

/** Appends to out the instants [start, end) of `hours` on local days first..last in zone. */
void eng_hours_to_spans(tz_zone_t *zone, const eng_week_t *week, const eng_resource_t *r,
                        int32_t first, int32_t last, eng_spans_t *out);

#endif
