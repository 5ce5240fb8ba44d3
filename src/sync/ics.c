/*
 * ICS feeds read into busy time (see ics.h).
 */
#include "sync/ics.h"

#include <jansson.h>
#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "slotd/alloc.h"
#include "slotd/engine.h"

#define MAX_SERIES_SECONDS (31 * 86400) /* the engine's longest recurring occurrence */
#define MAX_DATES 10000                 /* EXDATEs or RDATEs of one event */

/* ---- reading (any thread) ------------------------------------------------------------------- */

static char *copy_text(const char *text)
{
    return text ? slotd_strdup(text) : NULL;
}

/* Is this the start of a line "BEGIN:" or "END:" (case-insensitive), and which. */
static int line_kind(const char *line, size_t length)
{
    if (length >= 6 && strncasecmp(line, "BEGIN:", 6) == 0)
        return 1;
    if (length >= 4 && strncasecmp(line, "END:", 4) == 0)
        return -1;
    return 0;
}

/* What libical is not asked to judge: the feed starts with BEGIN:VCALENDAR, its components
 * nest at most ICS_MAX_DEPTH deep, and it ends where it began (not truncated). */
static int check_shape(const char *text, size_t length, char *error, size_t size)
{
    size_t at = 0;
    if (length >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        at = 3; /* a byte order mark */
    while (at < length && (text[at] == '\r' || text[at] == '\n' || text[at] == ' '))
        at++;
    if (length - at < 15 || strncasecmp(text + at, "BEGIN:VCALENDAR", 15) != 0) {
        snprintf(error, size, "the feed is not iCalendar (it does not begin with BEGIN:VCALENDAR)");
        return -1;
    }
    int depth = 0;
    bool closed = false;
    for (size_t i = at; i < length;) {
        const char *line = text + i;
        const char *nl = memchr(line, '\n', length - i);
        size_t n = nl ? (size_t)(nl - line) : length - i;
        int kind = line_kind(line, n);
        if (closed && kind != 0) {
            snprintf(error, size, "the feed has components after its END:VCALENDAR");
            return -1;
        }
        depth += kind;
        if (depth > ICS_MAX_DEPTH) {
            snprintf(error, size, "the feed nests components deeper than %d", ICS_MAX_DEPTH);
            return -1;
        }
        if (depth < 0) {
            snprintf(error, size, "the feed ends a component it did not begin");
            return -1;
        }
        if (depth == 0 && kind < 0)
            closed = true;
        i += n + 1;
    }
    if (!closed) {
        snprintf(error, size, "the feed is truncated (no END:VCALENDAR)");
        return -1;
    }
    return 0;
}

static int64_t wall_of(struct icaltimetype t)
{
    return (int64_t)tz_days_from_civil(t.year, t.month, t.day) * TZ_SECONDS_PER_DAY +
           (t.is_date ? 0 : t.hour * 3600 + t.minute * 60 + t.second);
}

static bool year_ok(struct icaltimetype t)
{
    return t.year >= TZ_MIN_YEAR && t.year <= TZ_MAX_YEAR;
}

/* A DTSTART/DTEND/RECURRENCE-ID/EXDATE/RDATE property's time; false when it has none or it is
 * outside the supported years. */
static bool time_of(icalproperty *p, struct icaltimetype t, ics_time_t *out)
{
    if (icaltime_is_null_time(t) || !year_ok(t))
        return false;
    icalparameter *tzid = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
    if (tzid && strlen(icalparameter_get_tzid(tzid) ? icalparameter_get_tzid(tzid) : "") > 256)
        return false; /* no zone is named so */
    *out = (ics_time_t){
        .wall = wall_of(t),
        .utc = icaltime_is_utc(t),
        .is_date = t.is_date,
        .present = true,
        .tzid = tzid && !icaltime_is_utc(t) ? copy_text(icalparameter_get_tzid(tzid)) : NULL};
    return true;
}

/* Reads one kind of date list property (EXDATE or RDATE) into *list. */
static int read_dates(icalcomponent *e, icalproperty_kind kind, ics_time_t **list, size_t *count)
{
    size_t capacity = 0;
    for (icalproperty *p = icalcomponent_get_first_property(e, kind); p;
         p = icalcomponent_get_next_property(e, kind)) {
        struct icaltimetype t;
        if (kind == ICAL_EXDATE_PROPERTY) {
            /* the value itself: libical's getter looks the TZID up in its zone table, which
             * the loop's thread uses meanwhile */
            t = icalvalue_get_datetime(icalproperty_get_value(p));
        } else {
            struct icaldatetimeperiodtype d = icalproperty_get_rdate(p);
            t = icaltime_is_null_time(d.time) ? d.period.start : d.time;
        }
        if (*count >= MAX_DATES)
            return -1;
        *list = slotd_grow(*list, &capacity, *count + 1, sizeof(ics_time_t));
        if (!time_of(p, t, &(*list)[*count]))
            return -1;
        (*count)++;
    }
    return 0;
}

static void record_free(ics_record_t *r)
{
    free(r->uid);
    free(r->summary);
    free(r->rrule);
    free(r->start.tzid);
    free(r->end.tzid);
    free(r->recurrence_id.tzid);
    for (size_t i = 0; i < r->exdate_count; i++)
        free(r->exdates[i].tzid);
    for (size_t i = 0; i < r->rdate_count; i++)
        free(r->rdates[i].tzid);
    free(r->exdates);
    free(r->rdates);
}

void ics_feed_free(ics_feed_t *feed)
{
    for (size_t i = 0; i < feed->count; i++)
        record_free(&feed->records[i]);
    free(feed->records);
    for (size_t i = 0; i < feed->zone_count; i++) {
        free(feed->zones[i].tzid);
        free(feed->zones[i].definition);
    }
    free(feed->zones);
    free(feed->default_tzid);
    free(feed->overrides);
    *feed = (ics_feed_t){0};
}

/* One VEVENT into a record; -1 with a message naming it when it cannot be read. */
static int read_event(icalcomponent *e, ics_record_t *r, char *error, size_t size)
{
    const char *uid = icalcomponent_get_uid(e);
    if (uid == NULL || uid[0] == 0 || strlen(uid) > 900) {
        snprintf(error, size, "an event has no UID (or one over 900 bytes)");
        return -1;
    }
    r->uid = slotd_strdup(uid);
    const char *summary = icalcomponent_get_summary(e);
    if (summary)
        r->summary = sync_text_cut(summary, SYNC_SUMMARY_MAX);
    icalproperty *p = icalcomponent_get_first_property(e, ICAL_DTSTART_PROPERTY);
    if (p == NULL || !time_of(p, icalproperty_get_dtstart(p), &r->start)) {
        snprintf(error, size, "event %.200s: no DTSTART, or one outside 1970..2199", uid);
        return -1;
    }
    p = icalcomponent_get_first_property(e, ICAL_DTEND_PROPERTY);
    if (p && !time_of(p, icalproperty_get_dtend(p), &r->end)) {
        snprintf(error, size, "event %.200s: a DTEND outside 1970..2199", uid);
        return -1;
    }
    p = icalcomponent_get_first_property(e, ICAL_DURATION_PROPERTY);
    if (p && !r->end.present) {
        struct icaldurationtype d = icalproperty_get_duration(p);
        if (icaldurationtype_is_bad_duration(d) || d.is_neg) {
            snprintf(error, size, "event %.200s: an unreadable DURATION", uid);
            return -1;
        }
        r->has_duration = true;
        r->duration_nominal = (d.days || d.weeks) && !d.hours && !d.minutes && !d.seconds;
        r->duration = (int64_t)icaldurationtype_as_int(d);
    }
    p = icalcomponent_get_first_property(e, ICAL_RECURRENCEID_PROPERTY);
    if (p && !time_of(p, icalproperty_get_recurrenceid(p), &r->recurrence_id)) {
        snprintf(error, size, "event %.200s: a RECURRENCE-ID outside 1970..2199", uid);
        return -1;
    }
    p = icalcomponent_get_first_property(e, ICAL_RRULE_PROPERTY);
    if (p) {
        const char *rule = icalproperty_get_value_as_string(p);
        if (rule == NULL || strlen(rule) > 1024) {
            snprintf(error, size, "event %.200s: an unreadable RRULE", uid);
            return -1;
        }
        r->rrule = slotd_strdup(rule);
    }
    if (read_dates(e, ICAL_EXDATE_PROPERTY, &r->exdates, &r->exdate_count) != 0 ||
        read_dates(e, ICAL_RDATE_PROPERTY, &r->rdates, &r->rdate_count) != 0) {
        snprintf(error, size,
                 "event %.200s: an EXDATE or RDATE unreadable, outside 1970..2199, "
                 "or more than 10000 of them",
                 uid);
        return -1;
    }
    icalproperty *transp = icalcomponent_get_first_property(e, ICAL_TRANSP_PROPERTY);
    bool transparent = transp && icalproperty_get_transp(transp) == ICAL_TRANSP_TRANSPARENT;
    bool cancelled = icalcomponent_get_status(e) == ICAL_STATUS_CANCELLED;
    r->busy = !transparent && !cancelled;
    return 0;
}

/* A busy series' rule, checked here (off the loop: the engine's check looks at no zone), and
 * a COUNT made an UNTIL at its last occurrence, so that the engine expands it from where it is
 * needed rather than from its start. A series that blocks nothing is not looked at. */
static int check_rule(ics_record_t *r, char *error, size_t size)
{
    if (r->rrule == NULL || r->recurrence_id.present || !r->busy)
        return 0;
    /* a series whose UNTIL is before its start (one that ended, as calendars keep them) has
     * no occurrence and blocks nothing: it is not a rule that never matches */
    struct icalrecurrencetype rule = icalrecurrencetype_from_string(r->rrule);
    icalerror_clear_errno();
    if (!icaltime_is_null_time(rule.until)) {
        int64_t until = wall_of(rule.until) + (rule.until.is_date ? TZ_SECONDS_PER_DAY - 1 : 0);
        if (icaltime_is_utc(rule.until))
            until += 16 * 3600; /* a wall time is within 16 hours of its instant */
        if (until < r->start.wall) {
            r->busy = false;
            return 0;
        }
    }
    eng_recurrence_t spec = {.rrule = r->rrule,
                             .start_wall = r->start.wall,
                             .duration_seconds = 60,
                             .kind = ENG_BUSY_EXTERNAL};
    int rc = eng_recurrence_check(&spec);
    if (rc != 0) {
        snprintf(error, size, "event %.200s: %s", r->uid,
                 rc == ENG_ERRULE
                     ? "its RRULE never matches, or repeats more often than daily (not supported)"
                     : "its RRULE cannot be used");
        return -1;
    }
    char *bounded = eng_recurrence_bounded(&spec);
    if (bounded) {
        free(r->rrule);
        r->rrule = bounded;
    }
    return 0;
}

static int compare_uids(const void *a, const void *b);

int ics_read(const char *text, size_t length, ics_feed_t *feed, char *error, size_t size)
{
    *feed = (ics_feed_t){0};
    if (length > ICS_MAX_BYTES) {
        snprintf(error, size, "the feed is larger than %d MiB", ICS_MAX_BYTES / (1024 * 1024));
        return -1;
    }
    if (check_shape(text, length, error, size) != 0)
        return -1;
    char *copy = slotd_malloc(length + 1);
    memcpy(copy, text, length);
    copy[length] = 0;
    icalcomponent *root = icalparser_parse_string(copy);
    free(copy);
    icalerror_clear_errno();
    if (root == NULL || icalcomponent_isa(root) != ICAL_VCALENDAR_COMPONENT) {
        if (root)
            icalcomponent_free(root);
        snprintf(error, size, "the feed is not iCalendar libical can read");
        return -1;
    }
    int rc = 0;
    size_t capacity = 0, zone_capacity = 0;
    for (icalproperty *p = icalcomponent_get_first_property(root, ICAL_X_PROPERTY); p;
         p = icalcomponent_get_next_property(root, ICAL_X_PROPERTY)) {
        const char *name = icalproperty_get_x_name(p), *value = icalproperty_get_x(p);
        if (name && value && strcasecmp(name, "X-WR-TIMEZONE") == 0 && strlen(value) < 256 &&
            feed->default_tzid == NULL)
            feed->default_tzid = slotd_strdup(value);
    }
    for (icalcomponent *z = icalcomponent_get_first_component(root, ICAL_VTIMEZONE_COMPONENT); z;
         z = icalcomponent_get_next_component(root, ICAL_VTIMEZONE_COMPONENT)) {
        icalproperty *tzid = icalcomponent_get_first_property(z, ICAL_TZID_PROPERTY);
        if (tzid == NULL || feed->zone_count >= 1000)
            continue;
        const char *definition = icalcomponent_as_ical_string(z);
        if (definition && strlen(definition) > 65536) {
            snprintf(error, size, "the feed's VTIMEZONE %.100s is longer than 64 KiB",
                     icalproperty_get_tzid(tzid));
            rc = -1;
            break;
        }
        feed->zones =
            slotd_grow(feed->zones, &zone_capacity, feed->zone_count + 1, sizeof(ics_zone_def_t));
        feed->zones[feed->zone_count++] =
            (ics_zone_def_t){slotd_strdup(icalproperty_get_tzid(tzid)),
                             slotd_strdup(icalcomponent_as_ical_string(z))};
    }
    for (icalcomponent *e = icalcomponent_get_first_component(root, ICAL_VEVENT_COMPONENT); e;
         e = icalcomponent_get_next_component(root, ICAL_VEVENT_COMPONENT)) {
        if (feed->count >= ICS_MAX_EVENTS) {
            snprintf(error, size, "the feed has more than %d events", ICS_MAX_EVENTS);
            rc = -1;
            break;
        }
        feed->records = slotd_grow(feed->records, &capacity, feed->count + 1, sizeof(ics_record_t));
        ics_record_t *r = &feed->records[feed->count++];
        *r = (ics_record_t){0};
        if (read_event(e, r, error, size) != 0 || check_rule(r, error, size) != 0) {
            rc = -1;
            break;
        }
    }
    icalcomponent_free(root);
    icalmemory_free_ring();
    icalerror_clear_errno();
    if (rc == 0) { /* the overrides by UID, for the resolver */
        feed->overrides = slotd_malloc((feed->count + 1) * sizeof(*feed->overrides));
        for (size_t i = 0; i < feed->count; i++)
            if (feed->records[i].recurrence_id.present)
                feed->overrides[feed->override_count++] = &feed->records[i];
        qsort(feed->overrides, feed->override_count, sizeof(*feed->overrides), compare_uids);
    }
    return rc;
}

/* ---- resolving (the loop) ------------------------------------------------------------------- */

void ics_busy_free(ics_busy_t *busy)
{
    for (size_t i = 0; i < busy->count; i++) {
        free(busy->events[i].id);
        free(busy->events[i].summary);
    }
    free(busy->events);
    for (size_t i = 0; i < busy->series_count; i++) {
        ics_series_t *s = &busy->series[i];
        free(s->id);
        free(s->summary);
        free(s->rrule);
        free(s->zone);
        free(s->vtimezone);
        free(s->exdates);
    }
    free(busy->series);
    *busy = (ics_busy_t){0};
}

tz_zone_t *ics_series_zone(const char *name, const char *vtimezone, tz_zone_t *fallback)
{
    tz_zone_t *zone = NULL;
    if (name == NULL)
        return fallback;
    return tz_zone_find_or_define(name, vtimezone, &zone) == TZ_OK ? zone : NULL;
}

typedef struct {
    const ics_feed_t *feed;
    const ics_record_t *const *overrides; /* the feed's records with a RECURRENCE-ID, by UID */
    size_t override_count;
    tz_zone_t *resource_zone;
    ics_busy_t *busy;
    char *error;
    size_t error_size;
} resolver_t;

static const char *definition_of(const ics_feed_t *feed, const char *tzid)
{
    for (size_t i = 0; tzid && i < feed->zone_count; i++)
        if (strcmp(feed->zones[i].tzid, tzid) == 0)
            return feed->zones[i].definition;
    return NULL;
}

/* The TZID a time is in: its own, "UTC", the calendar's X-WR-TIMEZONE when the system knows it,
 * or NULL (floating: the resource's zone). */
static const char *tzid_of(resolver_t *x, const ics_time_t *t)
{
    tz_zone_t *zone;
    if (t->utc)
        return "UTC";
    if (t->tzid)
        return t->tzid;
    if (x->feed->default_tzid && tz_zone_find(x->feed->default_tzid, &zone) == TZ_OK)
        return x->feed->default_tzid;
    return NULL;
}

/* The zone of a time (see tzid_of); NULL: a TZID neither the system nor the feed defines. */
static tz_zone_t *zone_of(resolver_t *x, const ics_time_t *t)
{
    const char *tzid = tzid_of(x, t);
    return ics_series_zone(tzid, definition_of(x->feed, tzid), x->resource_zone);
}

static int64_t instant_of(resolver_t *x, const ics_time_t *t, tz_zone_t *zone)
{
    (void)x;
    return tz_from_wall(zone, t->wall);
}

static int refuse(resolver_t *x, const ics_record_t *r, const char *what)
{
    snprintf(x->error, x->error_size, "event %.200s: %s", r->uid, what);
    return -1;
}

static void add_event(resolver_t *x, const char *id, const char *suffix, const ics_record_t *r,
                      int64_t start, int64_t end, bool all_day)
{
    if (end <= start)
        return; /* an instant in time blocks nothing */
    ics_busy_t *b = x->busy;
    b->events = slotd_grow(b->events, &b->event_capacity, b->count + 1, sizeof(sync_event_t));
    size_t n = strlen(id) + (suffix ? strlen(suffix) + 1 : 0) + 1;
    char *full = slotd_malloc(n);
    snprintf(full, n, "%s%s%s", id, suffix ? "/" : "", suffix ? suffix : "");
    b->events[b->count++] = (sync_event_t){.id = full,
                                           .busy = true,
                                           .all_day = all_day,
                                           .start = start,
                                           .end = end,
                                           .summary = copy_text(r->summary)};
}

/* The end of an event that starts at `start` (wall in zone): DTEND, DURATION, or the default
 * (a date: one day; a time: none). *nominal: the length is wall time. */
static int length_of(resolver_t *x, const ics_record_t *r, tz_zone_t *zone, int64_t *length,
                     bool *nominal)
{
    *nominal = r->start.is_date;
    if (r->end.present) {
        tz_zone_t *end_zone = zone_of(x, &r->end);
        if (end_zone == NULL)
            return refuse(x, r, "its DTEND names a TZID the feed does not define");
        bool same = end_zone == zone && r->end.is_date == r->start.is_date;
        *nominal = same;
        *length = same ? r->end.wall - r->start.wall
                       : tz_from_wall(end_zone, r->end.wall) - tz_from_wall(zone, r->start.wall);
    } else if (r->has_duration) {
        *nominal = r->duration_nominal || r->start.is_date;
        *length = r->duration;
    } else {
        *length = r->start.is_date ? TZ_SECONDS_PER_DAY : 0;
    }
    return 0;
}

/* A recurrence's or EXDATE's time as a wall time of the series' zone. */
static int64_t wall_in(resolver_t *x, const ics_time_t *t, tz_zone_t *zone, int64_t time_of_day)
{
    if (t->is_date)
        return t->wall + time_of_day;
    tz_zone_t *own = zone_of(x, t);
    if (own == NULL || own == zone)
        return t->wall;
    return tz_to_wall(zone, tz_from_wall(own, t->wall));
}

/* The range of x->overrides with the UID of r. */
static size_t overrides_of(const resolver_t *x, const ics_record_t *r, size_t *end)
{
    size_t low = 0, high = x->override_count;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        if (strcmp(x->overrides[mid]->uid, r->uid) < 0)
            low = mid + 1;
        else
            high = mid;
    }
    *end = low;
    while (*end < x->override_count && strcmp(x->overrides[*end]->uid, r->uid) == 0)
        (*end)++;
    return low;
}

static int add_series(resolver_t *x, const ics_record_t *r, tz_zone_t *zone, int64_t length,
                      bool nominal)
{
    if (length > MAX_SERIES_SECONDS)
        return refuse(x, r, "a recurring event longer than 31 days");
    ics_busy_t *b = x->busy;
    int64_t time_of_day = r->start.wall - (int64_t)tz_day_of(r->start.wall) * TZ_SECONDS_PER_DAY;
    size_t exdate_count = 0, exdate_capacity = 0;
    int64_t *exdates = slotd_grow(NULL, &exdate_capacity, r->exdate_count + 1, sizeof(int64_t));
    for (size_t i = 0; i < r->exdate_count; i++)
        exdates[exdate_count++] = wall_in(x, &r->exdates[i], zone, time_of_day);
    /* overrides of its occurrences leave them out */
    size_t end, from = overrides_of(x, r, &end);
    for (size_t i = from; i < end; i++) {
        exdates = slotd_grow(exdates, &exdate_capacity, exdate_count + 1, sizeof(int64_t));
        exdates[exdate_count++] = wall_in(x, &x->overrides[i]->recurrence_id, zone, time_of_day);
    }
    if (exdate_count > ICS_MAX_SERIES_EXDATES) {
        free(exdates);
        return refuse(x, r, "more than 20000 EXDATEs and overridden occurrences");
    }
    if (length <= 0) { /* instants: nothing busy */
        free(exdates);
        return 0;
    }
    b->series =
        slotd_grow(b->series, &b->series_capacity, b->series_count + 1, sizeof(ics_series_t));
    const char *tzid = tzid_of(x, &r->start);
    bool system = false;
    tz_zone_t *found;
    if (tzid)
        system = tz_zone_find(tzid, &found) == TZ_OK;
    int64_t first = tz_from_wall(zone, r->start.wall);
    b->series[b->series_count++] = (ics_series_t){
        .id = slotd_strdup(r->uid),
        .summary = copy_text(r->summary),
        .rrule = slotd_strdup(r->rrule),
        .start_wall = r->start.wall,
        .zone = copy_text(tzid),
        .vtimezone = tzid && !system ? copy_text(definition_of(x->feed, tzid)) : NULL,
        .duration_seconds = (int32_t)length,
        .nominal = nominal,
        .all_day = r->start.is_date,
        .exdates = exdates,
        .exdate_count = exdate_count,
        .first_start = first,
        .first_end = nominal ? tz_from_wall(zone, r->start.wall + length) : first + length};
    return 0;
}

/* Is an RDATE an occurrence that an EXDATE leaves out or an override replaces? */
static bool rdate_left_out(resolver_t *x, const ics_record_t *r, const ics_time_t *rdate,
                           tz_zone_t *zone)
{
    int64_t wall = wall_in(x, rdate, zone, 0);
    for (size_t i = 0; i < r->exdate_count; i++)
        if (wall_in(x, &r->exdates[i], zone, 0) == wall)
            return true;
    size_t end, i = overrides_of(x, r, &end);
    for (; i < end; i++)
        if (wall_in(x, &x->overrides[i]->recurrence_id, zone, 0) == wall)
            return true;
    return false;
}

static int resolve_record(resolver_t *x, const ics_record_t *r)
{
    tz_zone_t *zone = zone_of(x, &r->start);
    if (zone == NULL)
        return refuse(x, r, "its DTSTART names a TZID the feed does not define");
    int64_t length;
    bool nominal;
    if (length_of(x, r, zone, &length, &nominal) != 0)
        return -1;
    if (length < 0)
        return refuse(x, r, "it ends before it starts");
    if (r->rrule && !r->recurrence_id.present) {
        if (r->busy && add_series(x, r, zone, length, nominal) != 0)
            return -1;
    } else if (r->busy) {
        int64_t start = instant_of(x, &r->start, zone);
        int64_t end = nominal ? tz_from_wall(zone, r->start.wall + length) : start + length;
        char suffix[40];
        if (r->recurrence_id.present)
            snprintf(suffix, sizeof(suffix), "%lld", (long long)r->recurrence_id.wall);
        add_event(x, r->uid, r->recurrence_id.present ? suffix : NULL, r, start, end,
                  r->start.is_date);
    }
    for (size_t i = 0; r->busy && i < r->rdate_count; i++) {
        tz_zone_t *own = zone_of(x, &r->rdates[i]);
        if (own == NULL)
            return refuse(x, r, "an RDATE names a TZID the feed does not define");
        if (rdate_left_out(x, r, &r->rdates[i], zone))
            continue;
        int64_t start = tz_from_wall(own, r->rdates[i].wall);
        int64_t end = nominal ? tz_from_wall(own, r->rdates[i].wall + length) : start + length;
        char suffix[48];
        snprintf(suffix, sizeof(suffix), "rdate/%lld", (long long)start);
        add_event(x, r->uid, suffix, r, start, end, r->rdates[i].is_date);
    }
    return 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(**(char *const *const *)a, **(char *const *const *)b);
}

/* Events of one feed that share a UID (two VEVENTs without RECURRENCE-ID, say) each keep their
 * busy time: all but one are named <uid>#2, #3, ... */
static void name_duplicates(ics_busy_t *busy)
{
    size_t n = busy->count + busy->series_count;
    char ***names = slotd_malloc((n + 1) * sizeof(*names));
    for (size_t i = 0; i < busy->count; i++)
        names[i] = &busy->events[i].id;
    for (size_t i = 0; i < busy->series_count; i++)
        names[busy->count + i] = &busy->series[i].id;
    qsort(names, n, sizeof(*names), compare_names);
    for (size_t i = 1, first = 0; i < n; i++) {
        if (strcmp(*names[i], *names[first]) != 0) {
            first = i;
            continue;
        }
        size_t length = strlen(*names[i]) + 24;
        char *renamed = slotd_malloc(length);
        snprintf(renamed, length, "%s#%zu", *names[i], i - first + 1);
        free(*names[i]);
        *names[i] = renamed;
    }
    free(names);
}

static int compare_uids(const void *a, const void *b)
{
    const ics_record_t *x = *(const ics_record_t *const *)a, *y = *(const ics_record_t *const *)b;
    return strcmp(x->uid, y->uid);
}

int ics_resolve_step(const ics_feed_t *feed, tz_zone_t *zone, ics_busy_t *busy, size_t *next,
                     size_t max, char *error, size_t error_size)
{
    resolver_t x = {.feed = feed,
                    .overrides = (const ics_record_t *const *)feed->overrides,
                    .override_count = feed->override_count,
                    .resource_zone = zone,
                    .busy = busy,
                    .error = error,
                    .error_size = error_size};
    for (size_t end = *next + max; *next < feed->count && *next < end; (*next)++)
        if (resolve_record(&x, &feed->records[*next]) != 0)
            return -1;
    return *next < feed->count;
}

void ics_busy_finish(ics_busy_t *busy)
{
    name_duplicates(busy);
}

int ics_resolve(const ics_feed_t *feed, tz_zone_t *zone, ics_busy_t *busy, char *error,
                size_t error_size)
{
    *busy = (ics_busy_t){0};
    size_t next = 0;
    int rc;
    while ((rc = ics_resolve_step(feed, zone, busy, &next, 1000, error, error_size)) > 0)
        ;
    if (rc == 0)
        ics_busy_finish(busy);
    return rc;
}

char **ics_busy_json_parts(const ics_busy_t *busy, size_t per_part, size_t *count)
{
    size_t total = busy->count + busy->series_count, capacity = 0;
    char **parts = NULL;
    *count = 0;
    json_t *upserts = NULL;
    for (size_t i = 0; i < total; i++) {
        if (upserts == NULL)
            upserts = json_array();
        if (i < busy->count) {
            const sync_event_t *e = &busy->events[i];
            json_array_append_new(upserts,
                                  json_pack("{s:s, s:I, s:I, s:b, s:s?}", "id", e->id, "start",
                                            (json_int_t)e->start, "end", (json_int_t)e->end,
                                            "all_day", e->all_day, "summary", e->summary));
        } else {
            const ics_series_t *s = &busy->series[i - busy->count];
            json_t *exdates = json_array();
            for (size_t k = 0; k < s->exdate_count; k++)
                json_array_append_new(exdates, json_integer((json_int_t)s->exdates[k]));
            json_array_append_new(
                upserts,
                json_pack("{s:s, s:I, s:I, s:b, s:s?, s:s, s:I, s:s?, s:s?, s:i, s:b, s:o}", "id",
                          s->id, "start", (json_int_t)s->first_start, "end",
                          (json_int_t)s->first_end, "all_day", s->all_day, "summary", s->summary,
                          "rrule", s->rrule, "start_local", (json_int_t)s->start_wall, "timezone",
                          s->zone, "vtimezone", s->vtimezone, "duration", (int)s->duration_seconds,
                          "nominal", s->nominal, "exdates", exdates));
        }
        if (json_array_size(upserts) == per_part || i + 1 == total) {
            parts = slotd_grow(parts, &capacity, *count + 1, sizeof(*parts));
            parts[(*count)++] = json_dumps(upserts, JSON_COMPACT);
            json_decref(upserts);
            upserts = NULL;
        }
    }
    return parts;
}
