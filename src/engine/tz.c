/*
 * Time zones: instant <-> wall time, cached per (zone, local date).
 *
 * The only zone primitive taken from libical is "UTC offset in force at an
 * instant", which reads the system zoneinfo and is right. Everything else is
 * built here on top of it, because libical 3.0's own local -> UTC conversion is
 * wrong in gaps and overlaps.
 *
 * Cache. For each day number D the zone keeps a tz_day_t: the offset transitions
 * whose instants fall in [D*86400 - 16h, (D+1)*86400 + 16h), at most two, and the
 * offsets around them. That window contains
 *   - every instant whose UTC day is D (so tz_offset_at() of such an instant is
 *     answered from D's entry), and
 *   - every instant that a wall time of local date D can map to, since offsets
 *     lie within +-16h (so tz_from_wall() of such a wall time is answered from
 *     D's entry too).
 * Entries are built 512 days at a time: the zone's transitions over the block
 * are found by probing libical every two hours and bisecting each change to the
 * second, then each day takes the transitions of its window. A day whose window
 * holds more than two transitions (none in the real tz database since 1900)
 * takes the slow path, which probes around the one value asked for. Days
 * outside the cached years never reach libical (whose lookups there grow with
 * the distance: seconds per query in year 9999): before 1900 the zone keeps the
 * offset of 1900-01-01, after them that of 2200-12-31. Instants the service
 * accepts lie within TZ_MIN_YEAR..TZ_MAX_YEAR, inside the cache with a margin,
 * so every lookup they cause is a cached one. Two transitions less than two hours apart that cancel
 * each other out would be missed by the block scan; the tz database has none.
 *
 * A cached lookup is a division, an array index and at most two comparisons;
 * a libical lookup takes a lock and tens of nanoseconds, and building a block
 * costs about 0.5 ms once per zone and 512 days.
 */
#include "slotd/tz.h"

#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slotd/alloc.h"

#define BLOCK_SHIFT 9
#define BLOCK_DAYS (1 << BLOCK_SHIFT)
#define FIRST_YEAR 1900
#define LAST_YEAR 2200
#define WINDOW_MARGIN (16 * 3600)
#define SCAN_STEP (2 * 3600)
#define SLOW_SCAN_STEP (15 * 60)
#define MAX_DAY_TRANSITIONS 2
#define COMPLEX_DAY 0xff
#define MAX_SEGMENT_TRANSITIONS 16

/* The offsets in force around at most MAX_SEGMENT_TRANSITIONS transitions:
 * offset[i] is in force on [at[i-1], at[i]). */
typedef struct {
    int count;
    int64_t at[MAX_SEGMENT_TRANSITIONS];
    int32_t offset[MAX_SEGMENT_TRANSITIONS + 1];
} segments_t;

typedef struct {
    int64_t at[MAX_DAY_TRANSITIONS];
    int32_t offset[MAX_DAY_TRANSITIONS + 1];
    uint8_t count; /* 0..2, or COMPLEX_DAY */
} tz_day_t;

struct tz_zone {
    char *name;
    char *definition; /* a zone made from a VTIMEZONE: its text; NULL: a system zone */
    icaltimezone *ical;
    int32_t first_day; /* day number of FIRST_YEAR-01-01 */
    int32_t block_count;
    tz_day_t **blocks;
    int32_t last_index;     /* of LAST_YEAR-12-31 */
    tz_day_t before, after; /* the constant offsets outside the cached years */
    bool edges_known;
};

static tz_zone_t **zones;
static size_t zone_count;

static int32_t ical_offset(const tz_zone_t *zone, int64_t instant)
{
    struct icaltimetype utc =
        icaltime_from_timet_with_zone((time_t)instant, 0, icaltimezone_get_utc_timezone());
    int is_daylight = 0;
    return icaltimezone_get_utc_offset_of_utc_time(zone->ical, &utc, &is_daylight);
}

/* Collects the transitions in [from, to) into out, probing every `step` seconds
 * and bisecting each change to the second. Returns false when more than `max`
 * were found (out then holds the first max). out->offset[0] is the offset at
 * `from`. */
static bool scan_transitions(const tz_zone_t *zone, int64_t from, int64_t to, int64_t step,
                             int64_t *at, int32_t *offset, int max, int *count)
{
    int n = 0;
    int32_t previous = ical_offset(zone, from);
    offset[0] = previous;
    for (int64_t t = from; t < to;) {
        int64_t next = t + step < to ? t + step : to;
        int32_t o = ical_offset(zone, next);
        if (o != previous) {
            int64_t lo = t, hi = next; /* offset(lo) == previous, offset(hi) != previous */
            while (hi - lo > 1) {
                int64_t mid = lo + (hi - lo) / 2;
                if (ical_offset(zone, mid) == previous)
                    lo = mid;
                else
                    hi = mid;
            }
            if (n == max) {
                *count = n;
                return false;
            }
            at[n] = hi;
            offset[n + 1] = ical_offset(zone, hi);
            previous = offset[n + 1];
            n++;
            t = hi;
            continue;
        }
        t = next;
    }
    *count = n;
    return true;
}

static int32_t segments_offset_at(const int64_t *at, const int32_t *offset, int count,
                                  int64_t instant)
{
    int i = 0;
    while (i < count && at[i] <= instant)
        i++;
    return offset[i];
}

static int64_t segments_from_wall(const int64_t *at, const int32_t *offset, int count, int64_t wall)
{
    bool found = false;
    int64_t best = 0;
    for (int i = 0; i <= count; i++) {
        int64_t t = wall - offset[i];
        if ((i == 0 || t >= at[i - 1]) && (i == count || t < at[i]) && (!found || t < best)) {
            best = t;
            found = true;
        }
    }
    if (found)
        return best;
    /* In a gap: the wall time lies past the end of segment i (in its offset) and
     * before the start of segment i+1 (in its offset). Reading it with the offset
     * before the gap moves it forward by the gap's length. */
    for (int i = 0; i < count; i++)
        if (wall - offset[i] >= at[i] && wall - offset[i + 1] < at[i])
            return wall - offset[i];
    return wall - offset[0];
}

static void slow_segments(const tz_zone_t *zone, int64_t center, segments_t *s)
{
    scan_transitions(zone, center - WINDOW_MARGIN - TZ_SECONDS_PER_DAY,
                     center + WINDOW_MARGIN + TZ_SECONDS_PER_DAY, SLOW_SCAN_STEP, s->at, s->offset,
                     MAX_SEGMENT_TRANSITIONS, &s->count);
}

static void build_block(tz_zone_t *zone, int32_t block)
{
    int32_t first = zone->first_day + block * BLOCK_DAYS;
    int64_t from = (int64_t)first * TZ_SECONDS_PER_DAY - WINDOW_MARGIN;
    int64_t to = (int64_t)(first + BLOCK_DAYS) * TZ_SECONDS_PER_DAY + WINDOW_MARGIN;

    /* A block of 512 days has at most a few dozen transitions in any real zone;
     * a zone with more is served by the slow path for the days it cannot fit. */
    enum { MAX_BLOCK = 256 };
    int64_t at[MAX_BLOCK];
    int32_t offset[MAX_BLOCK + 1];
    int count;
    bool complete = scan_transitions(zone, from, to, SCAN_STEP, at, offset, MAX_BLOCK, &count);

    tz_day_t *days = slotd_calloc(BLOCK_DAYS, sizeof(*days));
    int k = 0; /* first transition at or after the current window's start */
    for (int32_t i = 0; i < BLOCK_DAYS; i++) {
        int64_t window_start = (int64_t)(first + i) * TZ_SECONDS_PER_DAY - WINDOW_MARGIN;
        int64_t window_end = (int64_t)(first + i + 1) * TZ_SECONDS_PER_DAY + WINDOW_MARGIN;
        while (k < count && at[k] < window_start)
            k++;
        tz_day_t *d = &days[i];
        d->offset[0] = offset[k];
        int n = 0;
        while (k + n < count && at[k + n] < window_end)
            n++;
        bool reaches_unscanned = !complete && (k + n == count);
        if (n > MAX_DAY_TRANSITIONS || reaches_unscanned) {
            d->count = COMPLEX_DAY;
            continue;
        }
        for (int j = 0; j < n; j++) {
            d->at[j] = at[k + j];
            d->offset[j + 1] = offset[k + j + 1];
        }
        d->count = (uint8_t)n;
    }
    zone->blocks[block] = days;
}

static const tz_day_t *day_entry(tz_zone_t *zone, int32_t day);

/* The offsets outside the cached years: the first cached day's first offset,
 * the last cached day's last. */
static void learn_edges(tz_zone_t *zone)
{
    zone->edges_known = true;
    int32_t last_day = tz_days_from_civil(LAST_YEAR + 1, 1, 1) - 1;
    const tz_day_t *first = day_entry(zone, zone->first_day);
    const tz_day_t *last = day_entry(zone, last_day);
    zone->before.offset[0] =
        first ? first->offset[0] : ical_offset(zone, (int64_t)zone->first_day * TZ_SECONDS_PER_DAY);
    zone->after.offset[0] = last ? last->offset[last->count]
                                 : ical_offset(zone, (int64_t)last_day * TZ_SECONDS_PER_DAY);
}

/* The cached entry of a day, or NULL when the day takes the slow path. */
static const tz_day_t *day_entry(tz_zone_t *zone, int32_t day)
{
    int64_t index = (int64_t)day - zone->first_day;
    if (index < 0 || index > zone->last_index) {
        if (!zone->edges_known)
            learn_edges(zone);
        return index < 0 ? &zone->before : &zone->after;
    }
    int32_t block = (int32_t)(index >> BLOCK_SHIFT);
    if (zone->blocks[block] == NULL)
        build_block(zone, block);
    const tz_day_t *d = &zone->blocks[block][index & (BLOCK_DAYS - 1)];
    return d->count == COMPLEX_DAY ? NULL : d;
}

int32_t tz_offset_at(tz_zone_t *zone, int64_t instant)
{
    const tz_day_t *d = day_entry(zone, tz_day_of(instant));
    if (d != NULL) {
        if (d->count == 0)
            return d->offset[0];
        return segments_offset_at(d->at, d->offset, d->count, instant);
    }
    return ical_offset(zone, instant);
}

int64_t tz_from_wall(tz_zone_t *zone, int64_t wall)
{
    const tz_day_t *d = day_entry(zone, tz_day_of(wall));
    if (d != NULL) {
        if (d->count == 0)
            return wall - d->offset[0];
        return segments_from_wall(d->at, d->offset, d->count, wall);
    }
    segments_t s;
    slow_segments(zone, wall, &s);
    return segments_from_wall(s.at, s.offset, s.count, wall);
}

int64_t tz_next_change(tz_zone_t *zone, int64_t after, int64_t limit)
{
    /* Day D's entry holds every transition from D*86400 - 16h on, so walking the
     * days from after's finds the first one after it. */
    for (int32_t day = tz_day_of(after); (int64_t)day * TZ_SECONDS_PER_DAY <= limit; day++) {
        const tz_day_t *d = day_entry(zone, day);
        if (d == NULL) {
            int32_t offset = tz_offset_at(zone, after);
            int64_t end = (int64_t)(day + 1) * TZ_SECONDS_PER_DAY;
            int64_t hi = end < limit ? end : limit;
            if (tz_offset_at(zone, hi) == offset) {
                if (hi == limit)
                    return INT64_MAX;
                continue;
            }
            int64_t lo = after > (int64_t)day * TZ_SECONDS_PER_DAY
                             ? after
                             : (int64_t)day * TZ_SECONDS_PER_DAY;
            while (hi - lo > 1) {
                int64_t mid = lo + (hi - lo) / 2;
                if (tz_offset_at(zone, mid) == offset)
                    lo = mid;
                else
                    hi = mid;
            }
            return hi;
        }
        for (int j = 0; j < d->count; j++) {
            if (d->at[j] > after)
                return d->at[j] <= limit ? d->at[j] : INT64_MAX;
        }
    }
    return INT64_MAX;
}

/* IANA names are ASCII letters, digits and "/_+-"; anything else (a path, a
 * dot) is refused before any file is looked at. */
static bool plausible_zone_name(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > 64 || name[0] == '/' || name[len - 1] == '/')
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '/' || c == '_' || c == '+' || c == '-';
        if (!ok || (c == '/' && name[i + 1] == '/'))
            return false;
    }
    return true;
}

/*
 * The names that are zones: those of the tz database's Zone lines and Link
 * lines, read once from its compact form (tzdata.zi: "Z name ..." and
 * "L target name"), less "Factory" (a placeholder zone, "-00"). The zoneinfo
 * directory also holds files that are not zones of this list and must not be
 * taken for them: right/... (leap seconds counted: every wall time off),
 * posix/..., posixrules, localtime. Without tzdata.zi (a system without the
 * tz database's source form) the list is empty and the same names are
 * refused by their shape instead.
 */
static char **known_names;
static size_t known_count;
static bool known_loaded;

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void load_known_names(void)
{
    known_loaded = true;
    const char *dir = getenv("TZDIR");
    char path[512];
    snprintf(path, sizeof(path), "%s/tzdata.zi", dir && dir[0] ? dir : "/usr/share/zoneinfo");
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    char line[512];
    size_t capacity = 0;
    while (fgets(line, sizeof(line), f)) {
        char name[128];
        bool zone = line[0] == 'Z' && line[1] == ' ' && sscanf(line + 2, "%127s", name) == 1;
        bool link = line[0] == 'L' && line[1] == ' ' && sscanf(line + 2, "%*s %127s", name) == 1;
        if ((!zone && !link) || strcmp(name, "Factory") == 0 || !plausible_zone_name(name))
            continue;
        known_names = slotd_grow(known_names, &capacity, known_count + 1, sizeof(char *));
        known_names[known_count++] = slotd_strdup(name);
    }
    fclose(f);
    qsort(known_names, known_count, sizeof(char *), compare_names);
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Is `name` a zone of the tz database (a canonical name or a link)? */
static bool is_zone_name(const char *name)
{
    if (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0)
        return true;
    if (!plausible_zone_name(name))
        return false;
    if (!known_loaded)
        load_known_names();
    if (known_count > 0)
        return bsearch(&name, known_names, known_count, sizeof(char *), compare_names) != NULL;
    return !starts_with(name, "right/") && !starts_with(name, "posix/") &&
           strcmp(name, "posixrules") != 0 && strcmp(name, "localtime") != 0 &&
           strcmp(name, "Factory") != 0;
}

static tz_zone_t *zone_add(const char *name, icaltimezone *ical);

int tz_zone_find(const char *name, tz_zone_t **out)
{
    for (size_t i = 0; i < zone_count; i++) {
        if (zones[i]->definition == NULL && strcmp(zones[i]->name, name) == 0) {
            *out = zones[i];
            return TZ_OK;
        }
    }
    if (!is_zone_name(name))
        return TZ_EUNKNOWN;
    icaltimezone *ical;
    if (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0)
        ical = icaltimezone_get_utc_timezone();
    else
        ical = icaltimezone_get_builtin_timezone(name);
    if (ical == NULL)
        return TZ_EUNKNOWN;

    *out = zone_add(name, ical);
    return TZ_OK;
}

static tz_zone_t *zone_add(const char *name, icaltimezone *ical)
{
    tz_zone_t *zone = slotd_calloc(1, sizeof(*zone));
    zone->name = slotd_strdup(name);
    zone->ical = ical;
    zone->first_day = tz_days_from_civil(FIRST_YEAR, 1, 1);
    int32_t days = tz_days_from_civil(LAST_YEAR + 1, 1, 1) - zone->first_day;
    zone->block_count = (days + BLOCK_DAYS - 1) / BLOCK_DAYS;
    zone->last_index = days - 1;
    zone->blocks = slotd_calloc((size_t)zone->block_count, sizeof(*zone->blocks));
    zones = slotd_realloc(zones, (zone_count + 1) * sizeof(*zones));
    zones[zone_count++] = zone;
    return zone;
}

int tz_zone_define(const char *definition, tz_zone_t **out)
{
    for (size_t i = 0; i < zone_count; i++) {
        if (zones[i]->definition && strcmp(zones[i]->definition, definition) == 0) {
            *out = zones[i];
            return TZ_OK;
        }
    }
    icalcomponent *c = icalparser_parse_string(definition);
    icalerror_clear_errno();
    if (c && icalcomponent_isa(c) != ICAL_VTIMEZONE_COMPONENT) {
        icalcomponent *inner = icalcomponent_get_first_component(c, ICAL_VTIMEZONE_COMPONENT);
        if (inner)
            icalcomponent_remove_component(c, inner);
        icalcomponent_free(c);
        c = inner;
    }
    if (c == NULL || icalcomponent_get_first_component(c, ICAL_XSTANDARD_COMPONENT) == NULL) {
        if (c)
            icalcomponent_free(c);
        return TZ_EINVAL;
    }
    icaltimezone *ical = icaltimezone_new();
    if (!icaltimezone_set_component(ical, c)) {
        icalcomponent_free(c);
        icaltimezone_free(ical, 1);
        return TZ_EINVAL;
    }
    const char *tzid = icaltimezone_get_tzid(ical);
    tz_zone_t *zone = zone_add(tzid ? tzid : "VTIMEZONE", ical);
    zone->definition = slotd_strdup(definition);
    *out = zone;
    return TZ_OK;
}

int tz_zone_find_or_define(const char *name, const char *definition, tz_zone_t **out)
{
    if (name && tz_zone_find(name, out) == TZ_OK)
        return TZ_OK;
    if (definition && tz_zone_define(definition, out) == TZ_OK)
        return TZ_OK;
    return TZ_EUNKNOWN;
}

const char *tz_zone_name(const tz_zone_t *zone)
{
    return zone->name;
}

void tz_shutdown(void)
{
    for (size_t i = 0; i < zone_count; i++) {
        for (int32_t b = 0; b < zones[i]->block_count; b++)
            free(zones[i]->blocks[b]);
        free(zones[i]->blocks);
        if (zones[i]->definition)
            icaltimezone_free(zones[i]->ical, 1);
        free(zones[i]->definition);
        free(zones[i]->name);
        free(zones[i]);
    }
    free(zones);
    zones = NULL;
    zone_count = 0;
    for (size_t i = 0; i < known_count; i++)
        free(known_names[i]);
    free(known_names);
    known_names = NULL;
    known_count = 0;
    known_loaded = false;
    icaltimezone_free_builtin_timezones();
}
