/*
 * Wall-clock rules turned into instants: a resource's (or a location's, or the
 * organization's) hours over a run of local dates, and recurring blocks.
 *
 * Hours: each range of each local date is converted end by end with
 * tz_from_wall(), so a range that spans a DST change is as long in real time as
 * the clock says it is across that change, a start inside a gap moves forward,
 * and a range whose converted end is not after its converted start (possible
 * only inside a gap) is empty.
 *
 * Recurring blocks: libical 3.0 shifts occurrences after a gap when DTSTART
 * carries a zone, so rules are expanded in floating wall time and each
 * occurrence is converted afterwards, the same way as hours. Expansion is
 * lazy and resumable: occurrences are generated as far as the queries reach and
 * kept, so a query pays for expansion once. UNTIL is applied here rather than by
 * libical (which compares a UTC UNTIL with floating occurrences naively): a UTC
 * UNTIL against the occurrence's instant, a floating or DATE one against its
 * wall time. EXDATEs are wall times of left-out occurrences; COUNT counts them
 * (RFC 5545).
 *
 * Refused: sub-daily frequencies, and rules made sub-daily by more than one
 * BYHOUR, BYMINUTE or BYSECOND value; an UNTIL before the start; a rule with
 * no occurrence within PROBE_YEARS of its start (libical searches up to year
 * 2582 for one that never matches: 0.7 s of one call; the probe is bounded,
 * see has_occurrence). Expansion never looks
 * past the supported range (its iterator carries an UNTIL at TZ_MAX_YEAR's
 * end), so the search for a next occurrence that does not come stops there,
 * and a block holds at most MAX_OCCURRENCES.
 */
#include "internal.h"

#include "slotd/alloc.h"

#define WALL_MARGIN (16 * 3600) /* wall time is within 16 h of its instant */
#define MAX_OCCURRENCES 200000  /* per block: over 500 years of days */
#define MAX_BLOCK_MINUTES (31 * 24 * 60)
#define PROBE_YEARS 9 /* a yearly 29 February comes back within 8 years */

/* Values in one of libical's BY arrays (terminated by ICAL_RECURRENCE_ARRAY_MAX). */
static int by_count(const short *values, int size)
{
    int n = 0;
    while (n < size && values[n] != ICAL_RECURRENCE_ARRAY_MAX)
        n++;
    return n;
}

void eng_hours_to_spans(tz_zone_t *zone, const eng_week_t *week, const eng_resource_t *r,
                        int32_t first, int32_t last, eng_spans_t *out)
{
    for (int32_t day = first; day <= last; day++) {
        const eng_day_hours_t *h = r ? eng_resource_day_hours(r, day) : &week->day[tz_weekday(day)];
        int64_t midnight = (int64_t)day * TZ_SECONDS_PER_DAY;
        for (int i = 0; i < h->count; i++) {
            int64_t start = tz_from_wall(zone, midnight + h->ranges[i].start * 60);
            int64_t end = tz_from_wall(zone, midnight + h->ranges[i].end * 60);
            if (start < end)
                eng_spans_push(out, start, end);
        }
    }
}

static int64_t wall_of(struct icaltimetype t)
{
    return (int64_t)tz_days_from_civil(t.year, t.month, t.day) * TZ_SECONDS_PER_DAY +
           t.hour * 3600 + t.minute * 60 + t.second;
}

static struct icaltimetype floating_of(int64_t wall)
{
    struct icaltimetype t = icaltime_null_time();
    tz_date_t d = tz_civil_from_days(tz_day_of(wall));
    int64_t seconds = wall - (int64_t)tz_day_of(wall) * TZ_SECONDS_PER_DAY;
    t.year = d.year;
    t.month = d.month;
    t.day = d.day;
    t.hour = (int)(seconds / 3600);
    t.minute = (int)(seconds / 60 % 60);
    t.second = (int)(seconds % 60);
    t.is_date = 0;
    t.zone = NULL;
    return t;
}

void eng_recurring_free(eng_recurring_t *rec)
{
    if (rec->iterator)
        icalrecur_iterator_free(rec->iterator);
    free(rec->exdates);
    free(rec->occurrences);
    free(rec);
}

static int compare_wall(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The first occurrence of a rule bounded by an UNTIL at `limit`: is there one? */
static bool probe(struct icalrecurrencetype rule, int64_t start_wall, int64_t limit)
{
    rule.until = floating_of(limit);
    rule.count = 0;
    icalrecur_iterator *it = icalrecur_iterator_new(rule, floating_of(start_wall));
    if (it == NULL) {
        icalerror_clear_errno();
        return false;
    }
    struct icaltimetype next = icalrecur_iterator_next(it);
    icalrecur_iterator_free(it);
    icalerror_clear_errno();
    return !icaltime_is_null_time(next) && wall_of(next) <= limit;
}

/*
 * Does the rule have an occurrence by PROBE_YEARS after its start, and by
 * until_wall? libical honours UNTIL inside its search only for DAILY rules (a
 * coarser rule that never matches is searched for to year 2582: up to 0.9 s).
 * Every occurrence of a rule is a day that its BY parts, read as filters of
 * days (ordinals of BYDAY dropped, BYSETPOS and BYWEEKNO left out), all
 * match; so when the DAILY rule of those filters has no day, neither has the
 * rule, and that is found within the bound. Without ordinals, BYSETPOS or
 * BYWEEKNO a coarser rule is taken to match when its filters do (a rule whose
 * INTERVAL skips every matching period, e.g. every 4 years from a year after a
 * leap year on 29 February, is then accepted and simply has no occurrence);
 * with them, the rule itself is probed.
 */
static bool has_occurrence(struct icalrecurrencetype rule, int64_t start_wall, int64_t until_wall)
{
    int64_t limit = start_wall + (int64_t)PROBE_YEARS * 366 * TZ_SECONDS_PER_DAY;
    if (until_wall < limit)
        limit = until_wall;
    struct icalrecurrencetype filters = rule;
    bool plain = by_count(rule.by_set_pos, ICAL_BY_SETPOS_SIZE) == 0 &&
                 by_count(rule.by_week_no, ICAL_BY_WEEKNO_SIZE) == 0;
    for (int i = 0; i < by_count(rule.by_day, ICAL_BY_DAY_SIZE); i++) {
        plain &= icalrecurrencetype_day_position(rule.by_day[i]) == 0;
        filters.by_day[i] = (short)icalrecurrencetype_day_day_of_week(rule.by_day[i]);
    }
    filters.by_set_pos[0] = ICAL_RECURRENCE_ARRAY_MAX;
    filters.by_week_no[0] = ICAL_RECURRENCE_ARRAY_MAX;
    filters.freq = ICAL_DAILY_RECURRENCE;
    filters.interval = 1;
    if (!probe(filters, start_wall, limit))
        return false;
    if (rule.freq == ICAL_DAILY_RECURRENCE || !plain)
        return probe(rule, start_wall, limit);
    return true;
}

/* ---- the fast path: DAILY, WEEKLY, MONTHLY and YEARLY rules of the common forms -------------
 */

/* Does a day of a month match the rule's days of the month? */
static bool month_day_matches(const eng_recurring_t *rec, tz_date_t d)
{
    int from_end = tz_days_in_month(d.year, d.month) - d.day + 1;
    return ((rec->month_days >> d.day) & 1) || ((rec->month_days_from_end >> from_end) & 1);
}

/* MONTHLY with no BY part but BYMONTHDAY, or YEARLY with none at all, whose start is an
 * occurrence: its days of the month into rec. */
static bool fast_monthly(const struct icalrecurrencetype *rule, int64_t start_wall,
                         eng_recurring_t *rec)
{
    if (by_count(rule->by_second, ICAL_BY_SECOND_SIZE) ||
        by_count(rule->by_minute, ICAL_BY_MINUTE_SIZE) ||
        by_count(rule->by_hour, ICAL_BY_HOUR_SIZE) || by_count(rule->by_day, ICAL_BY_DAY_SIZE) ||
        by_count(rule->by_year_day, ICAL_BY_YEARDAY_SIZE) ||
        by_count(rule->by_week_no, ICAL_BY_WEEKNO_SIZE) ||
        by_count(rule->by_month, ICAL_BY_MONTH_SIZE) ||
        by_count(rule->by_set_pos, ICAL_BY_SETPOS_SIZE))
        return false;
    tz_date_t start = tz_civil_from_days(tz_day_of(start_wall));
    int n = by_count(rule->by_month_day, ICAL_BY_MONTHDAY_SIZE);
    if (rule->freq == ICAL_YEARLY_RECURRENCE && n)
        return false;
    rec->month_days = rec->month_days_from_end = 0;
    for (int i = 0; i < n; i++) {
        int v = rule->by_month_day[i];
        if (v >= 1 && v <= 31)
            rec->month_days |= 1u << v;
        else if (v <= -1 && v >= -31)
            rec->month_days_from_end |= 1u << -v;
        else
            return false;
    }
    if (n == 0)
        rec->month_days = 1u << start.day;
    rec->first_month = start.year * 12 + start.month - 1;
    return month_day_matches(rec, start);
}

/* Can the rule be expanded here: DAILY or WEEKLY, no BY part but BYDAY without ordinals, and
 * a start that is itself an occurrence (libical's reading of a start that is not one is kept
 * by sending such rules to libical); or MONTHLY or YEARLY as fast_monthly takes them? */
static bool fast_rule(const struct icalrecurrencetype *rule, int64_t start_wall, uint8_t *mask,
                      eng_recurring_t *rec)
{
    if (rule->freq == ICAL_MONTHLY_RECURRENCE || rule->freq == ICAL_YEARLY_RECURRENCE)
        return fast_monthly(rule, start_wall, rec);
    if ((rule->freq != ICAL_DAILY_RECURRENCE && rule->freq != ICAL_WEEKLY_RECURRENCE) ||
        by_count(rule->by_second, ICAL_BY_SECOND_SIZE) ||
        by_count(rule->by_minute, ICAL_BY_MINUTE_SIZE) ||
        by_count(rule->by_hour, ICAL_BY_HOUR_SIZE) ||
        by_count(rule->by_month_day, ICAL_BY_MONTHDAY_SIZE) ||
        by_count(rule->by_year_day, ICAL_BY_YEARDAY_SIZE) ||
        by_count(rule->by_week_no, ICAL_BY_WEEKNO_SIZE) ||
        by_count(rule->by_month, ICAL_BY_MONTH_SIZE) ||
        by_count(rule->by_set_pos, ICAL_BY_SETPOS_SIZE))
        return false;
    *mask = 0;
    for (int i = 0; i < by_count(rule->by_day, ICAL_BY_DAY_SIZE); i++) {
        if (icalrecurrencetype_day_position(rule->by_day[i]) != 0)
            return false;
        int ical_day = (int)icalrecurrencetype_day_day_of_week(rule->by_day[i]); /* 1 Sunday */
        if (ical_day < 1 || ical_day > 7)
            return false;
        *mask |= (uint8_t)(1u << ((ical_day + 5) % 7));
    }
    int start_weekday = tz_weekday(tz_day_of(start_wall));
    if (*mask == 0)
        *mask = rule->freq == ICAL_WEEKLY_RECURRENCE ? (uint8_t)(1u << start_weekday) : 0x7f;
    return (*mask >> start_weekday) & 1;
}

static int32_t floor_div(int32_t a, int32_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* The first day at or after `day` that is in a period the rule repeats in: DAILY every
 * interval days from the start, WEEKLY every interval weeks (of week_start) from the start's. */
static int32_t fast_period_day(const eng_recurring_t *rec, int32_t day)
{
    if (day < rec->first_day)
        return rec->first_day;
    if (rec->freq == ICAL_MONTHLY_RECURRENCE || rec->freq == ICAL_YEARLY_RECURRENCE) {
        int32_t months = rec->interval * (rec->freq == ICAL_YEARLY_RECURRENCE ? 12 : 1);
        tz_date_t d = tz_civil_from_days(day);
        int32_t offset = d.year * 12 + d.month - 1 - rec->first_month;
        int32_t past = offset % months;
        if (past == 0)
            return day;
        int32_t month = rec->first_month + offset - past + months; /* the next period's */
        return tz_days_from_civil(month / 12, month % 12 + 1, 1);
    }
    bool weekly = rec->freq == ICAL_WEEKLY_RECURRENCE;
    int32_t unit = weekly ? 7 : 1, length = rec->interval * unit;
    int32_t origin = rec->first_day;
    if (weekly) /* the start of the start's week */
        origin -= (tz_weekday(rec->first_day) - rec->week_start + 7) % 7;
    int32_t offset = day - origin, period = floor_div(offset, length);
    if (offset - period * length >= unit) /* past the period's days: the next period */
        return origin + (period + 1) * length;
    return day;
}

/* The next occurrence's wall start, or false when the rule has no more. */
static bool fast_next(eng_recurring_t *rec, int64_t *wall)
{
    int32_t last = tz_days_from_civil(TZ_MAX_YEAR + 1, 1, 1);
    bool monthly = rec->freq == ICAL_MONTHLY_RECURRENCE || rec->freq == ICAL_YEARLY_RECURRENCE;
    while (!rec->fast_done && rec->count_left != 0) {
        int32_t day = fast_period_day(rec, rec->next_day);
        if (day >= last)
            break;
        int32_t found = -1;
        if (monthly) { /* the rest of the month at once: one civil date a month */
            tz_date_t d = tz_civil_from_days(day);
            int length = tz_days_in_month(d.year, d.month);
            for (int dom = d.day; dom <= length && found < 0; dom++)
                if (((rec->month_days >> dom) & 1) ||
                    ((rec->month_days_from_end >> (length - dom + 1)) & 1))
                    found = day + (dom - d.day);
            rec->next_day = found >= 0 ? found + 1 : day + (length - d.day) + 1;
        } else {
            rec->next_day = day + 1;
            if ((rec->mask >> tz_weekday(day)) & 1)
                found = day;
        }
        if (found >= 0) {
            if (rec->count_left > 0)
                rec->count_left--;
            *wall = (int64_t)found * TZ_SECONDS_PER_DAY + rec->time_of_day;
            return true;
        }
    }
    rec->fast_done = true;
    return false;
}

static bool next_wall(eng_recurring_t *rec, int64_t *wall);
static bool expanding(const eng_recurring_t *rec);

/* Parses and checks a recurrence; on success *out is a new, unattached one. */
static int recurrence_new(uint64_t key, const eng_recurrence_t *spec, eng_recurring_t **out)
{
    int64_t start_wall = spec->start_wall;
    if (spec->duration_seconds < 1 || spec->duration_seconds > MAX_BLOCK_MINUTES * 60)
        return ENG_EDURATION;
    tz_date_t first = tz_civil_from_days(tz_day_of(start_wall));
    if (first.year < TZ_MIN_YEAR || first.year > TZ_MAX_YEAR)
        return ENG_ERANGE;
    if (spec->rrule == NULL || strlen(spec->rrule) > 1024)
        return ENG_ERRULE;

    icalerror_clear_errno();
    struct icalrecurrencetype rule = icalrecurrencetype_from_string(spec->rrule);
    if (rule.freq == ICAL_NO_RECURRENCE || rule.freq < ICAL_DAILY_RECURRENCE ||
        icalerrno == ICAL_MALFORMEDDATA_ERROR || rule.interval < 1 ||
        (rule.count > 0 && !icaltime_is_null_time(rule.until)) ||
        by_count(rule.by_hour, ICAL_BY_HOUR_SIZE) > 1 ||
        by_count(rule.by_minute, ICAL_BY_MINUTE_SIZE) > 1 ||
        by_count(rule.by_second, ICAL_BY_SECOND_SIZE) > 1) {
        icalerror_clear_errno();
        return ENG_ERRULE;
    }
    eng_recurring_t *rec = slotd_calloc(1, sizeof(*rec));
    rec->key = key;
    rec->until = INT64_MAX;
    rec->expanded_to = INT64_MIN;
    rec->zone = spec->zone;
    rec->nominal = spec->nominal;
    rec->kind = (uint8_t)spec->kind;
    if (!icaltime_is_null_time(rule.until)) {
        if (rule.until.is_date) {
            rec->until = wall_of(rule.until) + TZ_SECONDS_PER_DAY - 1;
        } else if (icaltime_is_utc(rule.until)) {
            rec->until_is_utc = true;
            rec->until = (int64_t)icaltime_as_timet(rule.until);
        } else {
            rec->until = wall_of(rule.until);
        }
        rule.until = icaltime_null_time();
    }
    /* The wall time the rule's UNTIL stands for at the latest (a UTC UNTIL is
     * within 16 h of its wall time). */
    int64_t until_wall = rec->until == INT64_MAX ? INT64_MAX
                         : rec->until_is_utc     ? rec->until + WALL_MARGIN
                                                 : rec->until;
    uint8_t mask = 0;
    rec->fast = fast_rule(&rule, start_wall, &mask, rec);
    /* a fast rule's start is an occurrence: it has one (by UNTIL when its start is) */
    if (until_wall < start_wall || (!rec->fast && !has_occurrence(rule, start_wall, until_wall))) {
        eng_recurring_free(rec);
        return ENG_ERRULE;
    }
    rec->freq = rule.freq;
    rec->count = rule.count;
    rec->start_wall = start_wall;
    rec->duration_seconds = spec->duration_seconds;
    if (rec->fast) {
        int ical_start = (int)rule.week_start; /* 0: none (Monday), 1 Sunday ... 7 Saturday */
        rec->mask = mask;
        rec->interval = rule.interval;
        rec->week_start = ical_start >= 1 && ical_start <= 7 ? (ical_start + 5) % 7 : 0;
        rec->first_day = rec->next_day = tz_day_of(start_wall);
        rec->time_of_day = (int32_t)(start_wall - (int64_t)rec->first_day * TZ_SECONDS_PER_DAY);
        rec->count_left = rule.count > 0 ? rule.count : -1;
        int64_t skip_to = spec->expand_from_wall - (int64_t)spec->duration_seconds - WALL_MARGIN;
        if (spec->expand_from_wall > 0 && skip_to > start_wall) {
            if (rule.count == 0) {
                rec->next_day = tz_day_of(skip_to);
            } else { /* counted from the start, cheaply: nothing is kept of the past */
                int64_t wall;
                eng_recurring_t probe = *rec;
                while (fast_next(&probe, &wall) && wall < skip_to) {
                    rec->next_day = probe.next_day;
                    rec->count_left = probe.count_left;
                }
            }
        }
        goto exdates;
    }
    struct icalrecurrencetype bounded = rule;
    bounded.until =
        floating_of((int64_t)tz_days_from_civil(TZ_MAX_YEAR + 1, 1, 2) * TZ_SECONDS_PER_DAY);
    rec->iterator = icalrecur_iterator_new(bounded, floating_of(start_wall));
    icalerror_clear_errno();
    if (rec->iterator == NULL) {
        eng_recurring_free(rec);
        return ENG_ERRULE;
    }
    /* A series begun long ago starts where it is needed (libical keeps the rule's phase); a
     * COUNT is counted from the start, so such a rule is expanded from there. */
    int64_t skip_to = spec->expand_from_wall - (int64_t)spec->duration_seconds - WALL_MARGIN;
    if (spec->expand_from_wall > 0 && rule.count == 0 && skip_to > start_wall) {
        icalrecur_iterator_set_start(rec->iterator, floating_of(skip_to));
        icalerror_clear_errno();
    }
exdates:;
    size_t exdate_count = spec->exdate_count;
    rec->exdates = slotd_malloc(exdate_count * sizeof(int64_t));
    if (exdate_count) {
        memcpy(rec->exdates, spec->exdates_wall, exdate_count * sizeof(int64_t));
        qsort(rec->exdates, exdate_count, sizeof(int64_t), compare_wall);
    }
    rec->exdate_count = exdate_count;
    *out = rec;
    return ENG_OK;
}

static eng_recurrence_t block_recurrence(const char *rrule, int64_t start_wall,
                                         int32_t duration_minutes, const int64_t *exdates_wall,
                                         size_t exdate_count)
{
    /* minutes past the limit stay past it in seconds */
    int32_t limit = MAX_BLOCK_MINUTES + 1;
    int32_t minutes = duration_minutes < 0       ? 0
                      : duration_minutes > limit ? limit
                                                 : duration_minutes;
    return (eng_recurrence_t){.rrule = rrule,
                              .start_wall = start_wall,
                              .duration_seconds = minutes * 60,
                              .exdates_wall = exdates_wall,
                              .exdate_count = exdate_count,
                              .kind = ENG_BUSY_BLOCK};
}

char *eng_recurrence_bounded(const eng_recurrence_t *recurrence)
{
    eng_recurring_t *rec;
    eng_recurrence_t spec = *recurrence;
    spec.exdates_wall = NULL; /* COUNT counts the left-out occurrences too */
    spec.exdate_count = 0;
    spec.expand_from_wall = 0;
    if (recurrence_new(0, &spec, &rec) != ENG_OK)
        return NULL;
    if (rec->count <= 0) {
        eng_recurring_free(rec);
        return NULL;
    }
    int64_t wall, last = INT64_MIN;
    while (expanding(rec) && next_wall(rec, &wall)) {
        if (rec->until != INT64_MAX && !rec->until_is_utc && wall > rec->until)
            break;
        last = wall;
    }
    eng_recurring_free(rec);
    struct icalrecurrencetype rule = icalrecurrencetype_from_string(spec.rrule);
    icalerror_clear_errno();
    if (last == INT64_MIN)
        return NULL;
    rule.count = 0;
    rule.until = floating_of(last);
    char *text = icalrecurrencetype_as_string_r(&rule);
    icalerror_clear_errno();
    char *copy = text ? slotd_strdup(text) : NULL;
    icalmemory_free_buffer(text);
    return copy;
}

int eng_recurrence_check(const eng_recurrence_t *recurrence)
{
    eng_recurring_t *rec;
    int rc = recurrence_new(0, recurrence, &rec);
    if (rc == ENG_OK)
        eng_recurring_free(rec);
    return rc;
}

int eng_recurring_block_check(const char *rrule, int64_t start_wall, int32_t duration_minutes)
{
    eng_recurrence_t spec = block_recurrence(rrule, start_wall, duration_minutes, NULL, 0);
    return eng_recurrence_check(&spec);
}

int eng_resource_add_recurrence(eng_resource_t *r, uint64_t key, const eng_recurrence_t *recurrence)
{
    for (size_t i = 0; !recurrence->key_unique && i < r->recurring_count; i++)
        if (r->recurring[i]->key == key)
            return ENG_EEXISTS;
    eng_recurring_t *rec;
    int rc = recurrence_new(key, recurrence, &rec);
    if (rc)
        return rc;
    r->recurring =
        slotd_grow(r->recurring, &r->recurring_capacity, r->recurring_count + 1, sizeof(rec));
    r->recurring[r->recurring_count++] = rec;
    return ENG_OK;
}

int eng_resource_add_recurring_block(eng_resource_t *r, uint64_t key, const char *rrule,
                                     int64_t start_wall, int32_t duration_minutes,
                                     const int64_t *exdates_wall, size_t exdate_count)
{
    eng_recurrence_t spec =
        block_recurrence(rrule, start_wall, duration_minutes, exdates_wall, exdate_count);
    return eng_resource_add_recurrence(r, key, &spec);
}

int eng_resource_remove_recurring_block(eng_resource_t *r, uint64_t key)
{
    for (size_t i = 0; i < r->recurring_count; i++) {
        if (r->recurring[i]->key == key) {
            eng_recurring_free(r->recurring[i]);
            r->recurring[i] = r->recurring[--r->recurring_count];
            return ENG_OK;
        }
    }
    return ENG_ENOTFOUND;
}

static int compare_busy_start(const void *a, const void *b)
{
    const eng_busy_t *x = a, *y = b;
    return (x->start > y->start) - (x->start < y->start);
}

static bool is_exdate(const eng_recurring_t *rec, int64_t wall)
{
    return rec->exdate_count &&
           bsearch(&wall, rec->exdates, rec->exdate_count, sizeof(int64_t), compare_wall) != NULL;
}

static void stop_expanding(eng_recurring_t *rec)
{
    rec->fast_done = true;
    if (rec->iterator) {
        icalrecur_iterator_free(rec->iterator);
        rec->iterator = NULL;
    }
}

/* Expands the rule until an occurrence at or past `wall_limit` was generated
 * (or the rule ends). */
/* The rule's next wall start, or false when it has no more. */
static bool next_wall(eng_recurring_t *rec, int64_t *wall)
{
    if (rec->fast)
        return fast_next(rec, wall);
    struct icaltimetype next = icalrecur_iterator_next(rec->iterator);
    if (icaltime_is_null_time(next))
        return false;
    *wall = wall_of(next);
    return true;
}

static bool expanding(const eng_recurring_t *rec)
{
    return rec->fast ? !rec->fast_done : rec->iterator != NULL;
}

static void expand(eng_recurring_t *rec, tz_zone_t *zone, int64_t wall_limit)
{
    while (expanding(rec) && rec->expanded_to < wall_limit) {
        int64_t wall;
        if (!next_wall(rec, &wall) || rec->occurrence_count == MAX_OCCURRENCES) {
            stop_expanding(rec);
            break;
        }
        rec->expanded_to = wall;
        if (rec->until != INT64_MAX) {
            int64_t compared = rec->until_is_utc ? tz_from_wall(zone, wall) : wall;
            if (compared > rec->until) {
                stop_expanding(rec);
                break;
            }
        }
        if (is_exdate(rec, wall))
            continue;
        rec->occurrences = slotd_grow(rec->occurrences, &rec->occurrence_capacity,
                                      rec->occurrence_count + 1, sizeof(int64_t));
        rec->occurrences[rec->occurrence_count++] = wall;
    }
    icalerror_clear_errno();
}

size_t eng_resource_recurring_occurrences(eng_resource_t *r, int64_t from, int64_t to,
                                          eng_busy_t **out, size_t *count, size_t *capacity)
{
    size_t before = *count;
    for (size_t k = 0; k < r->recurring_count; k++) {
        eng_recurring_t *rec = r->recurring[k];
        tz_zone_t *zone = rec->zone ? rec->zone : r->zone;
        expand(rec, zone, to + WALL_MARGIN);
        int64_t low = from - rec->duration_seconds - WALL_MARGIN;
        for (size_t i = eng_upper_bound(rec->occurrences, rec->occurrence_count, low);
             i < rec->occurrence_count && rec->occurrences[i] < to + WALL_MARGIN; i++) {
            int64_t wall = rec->occurrences[i];
            int64_t start = tz_from_wall(zone, wall);
            int64_t end = rec->nominal ? tz_from_wall(zone, wall + rec->duration_seconds)
                                       : start + rec->duration_seconds;
            if (start >= to || end <= from || end <= start)
                continue;
            *out = slotd_grow(*out, capacity, *count + 1, sizeof(eng_busy_t));
            (*out)[(*count)++] = (eng_busy_t){
                .start = start, .end = end, .kind = (eng_busy_kind_t)rec->kind, .key = rec->key};
        }
    }
    /* Blocks from several rules interleave: sort what was appended by start (many of them, as
     * an imported calendar's series make, with qsort). */
    if (*count - before > 32) {
        qsort(*out + before, *count - before, sizeof(eng_busy_t), compare_busy_start);
        return *count - before;
    }
    for (size_t i = before + 1; i < *count; i++) {
        eng_busy_t x = (*out)[i];
        size_t j = i;
        while (j > before && (*out)[j - 1].start > x.start) {
            (*out)[j] = (*out)[j - 1];
            j--;
        }
        (*out)[j] = x;
    }
    return *count - before;
}
