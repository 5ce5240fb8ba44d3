/*
 * Slot queries and booking checks: docs/design.md "Availability — the exact rules",
 * steps 1 to 10, in that order.
 *
 * The computation works on a domain around the query window: [from - 1 min,
 * to + d + 1 min] for a slot query. Free ranges are cut at the domain's edges;
 * that changes no answer, because
 *   - a range that ends before `from` holds no slot (every start is >= from) and
 *     so snaps nothing;
 *   - every range that starts before `from` starts before the earliest start E,
 *     so its grid begins at E rounded up, wherever it really starts; two such
 *     ranges emit the same grid and their relative order does not matter;
 *   - no slot may start at or after `to`, so a range's end past to + d only
 *     matters for dropping contained ranges, and a range contained in another
 *     emits nothing the other does not (its first start snaps onto the other's
 *     grid, or lies past the other's last slot and so past its own end).
 * The last point also makes rule 4's dropping of contained ranges neutral for
 * the output; it is done anyway, as written. Free ranges shorter than the
 * duration are dropped as soon as they are known: they cannot hold a slot, and
 * whatever is derived from them is shorter still. The differential test checks
 * all of this against a reference that keeps three days on either side.
 *
 * The booking check asks whether a start "would be offered with the window
 * aside": E then depends only on the clock, and the grid of a range can depend
 * on slots emitted from earlier ranges, arbitrarily far back when ranges chain.
 * It is computed over a window that starts at F and grows backwards until F is
 * at or before E, or no combined range lies across (F - step, F) — then nothing
 * before F can reach the grid after it. The starts of that window are not
 * emitted one by one (from a range open around the clock for years that is
 * millions of them): each range's starts are a progression, and grid_has()
 * follows the progressions, so a check costs what its window's ranges cost.
 */
#include "internal.h"

#include "slotd/alloc.h"

typedef struct {
    eng_resource_t *resource;
    size_t first, count; /* free spans in workspace->pool */
    size_t cursor;
    bool serves;
} candidate_t;

typedef struct {
    eng_group_mode_t mode;
    size_t first, count; /* candidate indices in workspace->members */
} group_work_t;

typedef struct {
    const eng_location_t *location;
    eng_spans_t spans; /* where resources of this location may be open */
} limit_t;

struct eng_workspace {
    eng_busy_hit_t *hits;
    size_t hit_count, hit_capacity;
    eng_busy_t *recurring;
    size_t recurring_count, recurring_capacity;
    eng_spans_t open, busy, tmp, closures;
    limit_t *limits;
    size_t limit_count, limit_capacity;
    candidate_t *candidates;
    size_t candidate_count, candidate_capacity;
    uint16_t *members;
    size_t member_count, member_capacity;
    group_work_t groups[ENG_MAX_GROUPS];
    size_t group_count;
    eng_span_t *pool;
    size_t pool_count, pool_capacity;
    eng_spans_t ranges, next_ranges, group_spans, sort_scratch;
    eng_span_t *progressions; /* grid_has() */
    size_t progression_capacity;
    int64_t *emitted;
    size_t emitted_count, emitted_capacity;
    int64_t *merge_scratch;
    size_t merge_scratch_capacity;
    eng_slot_t *slots;
    size_t slot_count, slot_capacity;
    eng_resource_t **slot_resources;
    size_t slot_resource_count, slot_resource_capacity;
    eng_resource_t **picked;
    size_t picked_capacity;
};

/* Everything one computation needs, resolved from a query or a check. */
typedef struct {
    const eng_service_t *service;
    int64_t from, to, now;
    tz_zone_t *zone;
    eng_resource_t *const *filter;
    size_t filter_count;
    const eng_location_t *location;
    int64_t duration, step, before, after; /* seconds */
    int64_t domain_start, domain_end;
} compute_t;

eng_workspace_t *eng_workspace_new(void)
{
    return slotd_calloc(1, sizeof(eng_workspace_t));
}

void eng_workspace_free(eng_workspace_t *ws)
{
    if (ws == NULL)
        return;
    free(ws->hits);
    free(ws->recurring);
    eng_spans_free(&ws->open);
    eng_spans_free(&ws->busy);
    eng_spans_free(&ws->tmp);
    eng_spans_free(&ws->closures);
    for (size_t i = 0; i < ws->limit_capacity; i++)
        eng_spans_free(&ws->limits[i].spans);
    free(ws->limits);
    free(ws->candidates);
    free(ws->members);
    free(ws->pool);
    eng_spans_free(&ws->ranges);
    eng_spans_free(&ws->next_ranges);
    eng_spans_free(&ws->group_spans);
    eng_spans_free(&ws->sort_scratch);
    free(ws->progressions);
    free(ws->emitted);
    free(ws->merge_scratch);
    free(ws->slots);
    free(ws->slot_resources);
    free(ws->picked);
    free(ws);
}

static int compare_ids(const eng_resource_t *a, const eng_resource_t *b)
{
    return memcmp(a->id.bytes, b->id.bytes, sizeof(a->id.bytes));
}

static bool in_list(eng_resource_t *const *list, size_t count, const eng_resource_t *r)
{
    for (size_t i = 0; i < count; i++)
        if (list[i] == r)
            return true;
    return false;
}

static size_t candidate_index(eng_workspace_t *ws, eng_resource_t *r)
{
    for (size_t i = 0; i < ws->candidate_count; i++)
        if (ws->candidates[i].resource == r)
            return i;
    return SIZE_MAX;
}

/* Step 0: the candidates of every group after the filters. Returns false when
 * some group can never be satisfied (then there is no slot). */
static bool choose_candidates(eng_workspace_t *ws, const compute_t *c)
{
    const eng_service_t *s = c->service;
    ws->candidate_count = 0;
    ws->member_count = 0;
    ws->group_count = 0;
    if (s->group_count == 0)
        return false;

    bool filter_used = false;
    bool eligible[ENG_MAX_GROUPS][ENG_MAX_GROUP_MEMBERS];
    for (size_t g = 0; g < s->group_count; g++) {
        const eng_group_t *group = &s->groups[g];
        bool filtered = false;
        if (group->mode == ENG_GROUP_ANY && c->filter_count > 0)
            for (size_t m = 0; m < group->count && !filtered; m++)
                filtered = in_list(c->filter, c->filter_count, group->members[m]);
        filter_used |= filtered;
        size_t usable = 0;
        for (size_t m = 0; m < group->count; m++) {
            const eng_resource_t *r = group->members[m];
            bool ok = r->active && (c->location == NULL || r->location == c->location) &&
                      (!filtered || in_list(c->filter, c->filter_count, r));
            eligible[g][m] = ok;
            usable += ok;
            if (!ok && group->mode == ENG_GROUP_ALL)
                return false;
        }
        if (usable == 0)
            return false;
    }
    if (c->filter_count > 0 && !filter_used) {
        /* A filter naming only members of `all` groups still applies to them. */
        bool named = false;
        for (size_t g = 0; g < s->group_count && !named; g++)
            for (size_t m = 0; m < s->groups[g].count && !named; m++)
                named = in_list(c->filter, c->filter_count, s->groups[g].members[m]);
        if (!named)
            return false;
    }

    /* Distinct candidates, sorted by id so that every resource list comes out sorted. */
    for (size_t g = 0; g < s->group_count; g++) {
        for (size_t m = 0; m < s->groups[g].count; m++) {
            eng_resource_t *r = s->groups[g].members[m];
            if (!eligible[g][m] || candidate_index(ws, r) != SIZE_MAX)
                continue;
            ws->candidates = slotd_grow(ws->candidates, &ws->candidate_capacity,
                                        ws->candidate_count + 1, sizeof(candidate_t));
            size_t j = ws->candidate_count++;
            while (j > 0 && compare_ids(ws->candidates[j - 1].resource, r) > 0) {
                ws->candidates[j] = ws->candidates[j - 1];
                j--;
            }
            ws->candidates[j] = (candidate_t){.resource = r};
        }
    }
    for (size_t g = 0; g < s->group_count; g++) {
        group_work_t *gw = &ws->groups[ws->group_count++];
        gw->mode = s->groups[g].mode;
        gw->first = ws->member_count;
        for (size_t m = 0; m < s->groups[g].count; m++) {
            if (!eligible[g][m])
                continue;
            ws->members = slotd_grow(ws->members, &ws->member_capacity, ws->member_count + 1,
                                     sizeof(uint16_t));
            ws->members[ws->member_count++] =
                (uint16_t)candidate_index(ws, s->groups[g].members[m]);
        }
        gw->count = ws->member_count - gw->first;
    }
    return true;
}

static void add_closures(eng_spans_t *out, tz_zone_t *zone, const int32_t *days, size_t count,
                         int32_t first, int32_t last)
{
    for (size_t i = 0; i < count; i++) {
        if (days[i] < first || days[i] > last)
            continue;
        int64_t midnight = (int64_t)days[i] * TZ_SECONDS_PER_DAY;
        eng_spans_push(out, tz_from_wall(zone, midnight),
                       tz_from_wall(zone, midnight + TZ_SECONDS_PER_DAY));
    }
}

/* The local dates whose hours can reach the domain: a date's hours lie within
 * that date, except that a skipped date (Samoa, 2011-12-30) moves forward. */
static void local_days(tz_zone_t *zone, const compute_t *c, int32_t *first, int32_t *last)
{
    *first = tz_local_day(zone, c->domain_start) - 1;
    *last = tz_local_day(zone, c->domain_end);
}

/* Rule 1, the part shared by every resource of a location (or of none): the
 * bounding business hours minus the closures. Computed once per query. */
static const eng_spans_t *location_limit(eng_workspace_t *ws, const compute_t *c,
                                         const eng_location_t *loc)
{
    for (size_t i = 0; i < ws->limit_count; i++)
        if (ws->limits[i].location == loc)
            return &ws->limits[i].spans;
    if (ws->limit_count == ws->limit_capacity) {
        size_t old = ws->limit_capacity;
        ws->limits = slotd_grow(ws->limits, &ws->limit_capacity, old + 1, sizeof(limit_t));
        memset(ws->limits + old, 0, (ws->limit_capacity - old) * sizeof(limit_t));
    }
    limit_t *limit = &ws->limits[ws->limit_count++];
    limit->location = loc;
    eng_spans_t *spans = &limit->spans;
    eng_spans_clear(spans);

    const eng_org_t *org = c->service->org;
    int32_t first, last;
    if (loc && loc->has_hours) {
        local_days(loc->zone, c, &first, &last);
        eng_hours_to_spans(loc->zone, &loc->hours, NULL, first, last, spans);
    } else if (org->has_hours) {
        local_days(org->zone, c, &first, &last);
        eng_hours_to_spans(org->zone, &org->hours, NULL, first, last, spans);
    } else {
        eng_spans_push(spans, c->domain_start - 2 * TZ_SECONDS_PER_DAY,
                       c->domain_end + 2 * TZ_SECONDS_PER_DAY);
    }
    eng_spans_normalize(spans);

    eng_spans_clear(&ws->closures);
    local_days(org->zone, c, &first, &last);
    add_closures(&ws->closures, org->zone, org->closures, org->closure_count, first, last);
    if (loc) {
        local_days(loc->zone, c, &first, &last);
        add_closures(&ws->closures, loc->zone, loc->closures, loc->closure_count, first, last);
    }
    if (ws->closures.count) {
        eng_spans_normalize(&ws->closures);
        eng_spans_subtract(spans, &ws->closures, &ws->tmp);
        eng_spans_t swap = *spans;
        *spans = ws->tmp;
        ws->tmp = swap;
    }
    return spans;
}

/* Rules 1-3 for one candidate: open time minus widened busy time, spans
 * shorter than the duration dropped, appended to the pool. */
static void free_time(eng_workspace_t *ws, const compute_t *c, candidate_t *cand)
{
    eng_resource_t *r = cand->resource;
    int32_t first, last;
    local_days(r->zone, c, &first, &last);
    eng_spans_clear(&ws->open);
    eng_hours_to_spans(r->zone, NULL, r, first, last, &ws->open);
    eng_spans_normalize(&ws->open);
    eng_spans_intersect(&ws->open, location_limit(ws, c, r->location), &ws->tmp);

    /* Busy entries are stored padded with their own buffers; widen them by the
     * service's: [start - after, end + before). */
    eng_spans_clear(&ws->busy);
    ws->hit_count = 0;
    eng_busy_tree_query(&r->busy, c->domain_start - c->before, c->domain_end + c->after, &ws->hits,
                        &ws->hit_count, &ws->hit_capacity);
    /* Hits come in order of start, so widened they stay in order: merge them
     * as they come. */
    for (size_t i = 0; i < ws->hit_count; i++) {
        const eng_busy_hit_t *h = &ws->hits[i];
        if (h->kind == ENG_BUSY_HOLD && h->stamp <= c->now)
            continue;
        int64_t start = h->start - c->after, end = h->end + c->before;
        eng_span_t *tail = ws->busy.count ? &ws->busy.v[ws->busy.count - 1] : NULL;
        if (tail && start <= tail->end) {
            if (end > tail->end)
                tail->end = end;
        } else {
            eng_spans_push(&ws->busy, start, end);
        }
    }
    if (r->recurring_count) {
        ws->recurring_count = 0;
        eng_resource_recurring_occurrences(r, c->domain_start - c->before, c->domain_end + c->after,
                                           &ws->recurring, &ws->recurring_count,
                                           &ws->recurring_capacity);
        for (size_t i = 0; i < ws->recurring_count; i++)
            eng_spans_push(&ws->busy, ws->recurring[i].start - c->after,
                           ws->recurring[i].end + c->before);
        eng_spans_normalize(&ws->busy);
    }
    eng_spans_subtract(&ws->tmp, &ws->busy, &ws->open);

    cand->first = ws->pool_count;
    for (size_t i = 0; i < ws->open.count; i++) {
        if (ws->open.v[i].end - ws->open.v[i].start < c->duration)
            continue;
        ws->pool = slotd_grow(ws->pool, &ws->pool_capacity, ws->pool_count + 1, sizeof(eng_span_t));
        ws->pool[ws->pool_count++] = ws->open.v[i];
    }
    cand->count = ws->pool_count - cand->first;
}

static void candidate_spans(const eng_workspace_t *ws, size_t index, eng_spans_t *view)
{
    const candidate_t *cand = &ws->candidates[index];
    view->v = ws->pool + cand->first;
    view->count = view->capacity = cand->count;
}

/* One group's ranges into out: an `all` group's intersection, or every
 * member's ranges side by side for an `any` group. */
static void group_ranges(eng_workspace_t *ws, const compute_t *c, const group_work_t *g,
                         eng_spans_t *out)
{
    eng_spans_clear(out);
    if (g->mode == ENG_GROUP_ANY) {
        for (size_t m = 0; m < g->count; m++) {
            eng_spans_t view;
            candidate_spans(ws, ws->members[g->first + m], &view);
            for (size_t i = 0; i < view.count; i++)
                eng_spans_push(out, view.v[i].start, view.v[i].end);
        }
        return;
    }
    eng_spans_t acc = {0}, view;
    candidate_spans(ws, ws->members[g->first], &view);
    for (size_t i = 0; i < view.count; i++)
        eng_spans_push(&acc, view.v[i].start, view.v[i].end);
    for (size_t m = 1; m < g->count; m++) {
        candidate_spans(ws, ws->members[g->first + m], &view);
        eng_spans_intersect(&acc, &view, &ws->tmp);
        eng_spans_clear(&acc);
        for (size_t i = 0; i < ws->tmp.count; i++)
            eng_spans_push(&acc, ws->tmp.v[i].start, ws->tmp.v[i].end);
    }
    for (size_t i = 0; i < acc.count; i++)
        if (acc.v[i].end - acc.v[i].start >= c->duration)
            eng_spans_push(out, acc.v[i].start, acc.v[i].end);
    eng_spans_free(&acc);
}

/* Sorts spans by start (the longest first among equal starts) and keeps the
 * maximal ones: in that order a span is a duplicate of, or contained in,
 * another exactly when an earlier one reaches at least as far. What is left is
 * strictly increasing in start and in end (a "chain"). */
static void keep_maximal(eng_spans_t *s, eng_spans_t *scratch)
{
    eng_spans_sort(s, scratch);
    size_t out = 0;
    int64_t reach = INT64_MIN;
    for (size_t i = 0; i < s->count; i++) {
        if (s->v[i].end <= reach)
            continue;
        reach = s->v[i].end;
        s->v[out++] = s->v[i];
    }
    s->count = out;
}

/* For each span x of chain `a`, the intersection of x with the span of chain
 * `b` that starts last at or before x (the one of them that reaches furthest),
 * appended to out when it is at least `duration` long. */
static void intersect_from(const eng_spans_t *a, const eng_spans_t *b, int64_t duration,
                           eng_spans_t *out)
{
    size_t j = 0;
    for (size_t i = 0; i < a->count; i++) {
        const eng_span_t *x = &a->v[i];
        while (j < b->count && b->v[j].start <= x->start)
            j++;
        if (j == 0)
            continue;
        int64_t end = x->end < b->v[j - 1].end ? x->end : b->v[j - 1].end;
        if (end - x->start >= duration)
            eng_spans_push(out, x->start, end);
    }
}

/*
 * Rule 4: combine the groups into ws->ranges, sorted by start, without empty,
 * duplicate or contained ranges.
 *
 * The rule's text forms every combination of one range per group; this keeps
 * only what survives its last step, without forming the rest:
 *   - a range contained in another of its group (or of a partial combination)
 *     yields only intersections contained in those of the other, so each
 *     group, and each partial combination, is first reduced to its maximal
 *     ranges: a chain, increasing in start and in end;
 *   - a maximal intersection of x and y of two chains starts at x's start or at y's;
 *     if at x's, y starts at or before x, and the last such y of its chain
 *     reaches at least as far as y, so it is that one's intersection with x.
 *     The candidates "each x with the last y starting at or before it", and the
 *     same the other way round, are at most |A| + |B| and contain every
 *     intersection; their maximal ones are the answer.
 * So combining costs O(n log n) in the ranges of the groups, and the combined
 * ranges never outnumber them: the work of any query is bounded by its free
 * spans, which the input limits bound (ENG_MAX_GROUPS groups of at most
 * ENG_MAX_GROUP_MEMBERS members, a window of at most ENG_MAX_WINDOW_SECONDS).
 * Ranges shorter than the duration are dropped as they are formed: every
 * intersection with them is shorter still.
 */
static void combine_groups(eng_workspace_t *ws, const compute_t *c)
{
    group_ranges(ws, c, &ws->groups[0], &ws->ranges);
    keep_maximal(&ws->ranges, &ws->sort_scratch);
    for (size_t g = 1; g < ws->group_count && ws->ranges.count > 0; g++) {
        group_ranges(ws, c, &ws->groups[g], &ws->group_spans);
        keep_maximal(&ws->group_spans, &ws->sort_scratch);
        eng_spans_clear(&ws->next_ranges);
        intersect_from(&ws->ranges, &ws->group_spans, c->duration, &ws->next_ranges);
        intersect_from(&ws->group_spans, &ws->ranges, c->duration, &ws->next_ranges);
        keep_maximal(&ws->next_ranges, &ws->sort_scratch);
        eng_spans_t swap = ws->ranges;
        ws->ranges = ws->next_ranges;
        ws->next_ranges = swap;
    }
}

/* Rule 6: the largest of 60, 30, 20, 15, 10, 5 minutes dividing the step, else 1. */
static int64_t alignment_unit(int64_t step_minutes)
{
    static const int units[] = {60, 30, 20, 15, 10, 5};
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (step_minutes % units[i] == 0)
            return units[i];
    return 1;
}

/* The first instant at or after t whose wall time in zone has seconds 0 and a
 * minute of the hour that is a multiple of the unit (unit_seconds = 60 * u,
 * which divides an hour, so this is "wall seconds divisible by unit_seconds"). */
static int64_t align_up(tz_zone_t *zone, int64_t t, int64_t unit_seconds)
{
    for (;;) {
        int32_t offset = tz_offset_at(zone, t);
        int64_t rem = (t + offset) % unit_seconds;
        if (rem < 0)
            rem += unit_seconds;
        if (rem == 0)
            return t;
        int64_t next = t + (unit_seconds - rem);
        int64_t change = tz_next_change(zone, t, next);
        if (change == INT64_MAX)
            return next;
        t = change; /* the offset changes before `next`: continue from the change */
    }
}

/* Index of the first emitted slot after t. */
static size_t emitted_after(const eng_workspace_t *ws, int64_t t)
{
    return eng_upper_bound(ws->emitted, ws->emitted_count, t);
}

/* Merges the sorted run v[mid..end) into the sorted v[0..mid), in place,
 * from the back; `run` is scratch for end - mid values. */
static void merge_tail(int64_t *v, size_t mid, size_t end, int64_t *run)
{
    if (mid == 0 || mid == end || v[mid - 1] < v[mid])
        return;
    size_t extra = end - mid;
    memcpy(run, v + mid, extra * sizeof(int64_t));
    size_t a = mid, b = extra, k = end;
    while (b > 0) {
        if (a > 0 && v[a - 1] > run[b - 1])
            v[--k] = v[--a];
        else
            v[--k] = run[--b];
    }
}

/* Rule 8's resource_ids: every candidate that serves the slot being emitted. */
static void append_serving(eng_workspace_t *ws)
{
    for (size_t k = 0; k < ws->candidate_count; k++) {
        if (!ws->candidates[k].serves)
            continue;
        ws->slot_resources = slotd_grow(ws->slot_resources, &ws->slot_resource_capacity,
                                        ws->slot_resource_count + 1, sizeof(eng_resource_t *));
        ws->slot_resources[ws->slot_resource_count++] = ws->candidates[k].resource;
    }
}

/* Rule 5: the earliest start, E = max(from, now + max(notice, 1 minute)). */
static int64_t earliest_start(const compute_t *c)
{
    int64_t notice = (int64_t)c->service->spec.min_notice_minutes * 60;
    int64_t earliest = c->now + (notice > 60 ? notice : 60);
    return earliest < c->from ? c->from : earliest;
}

/* Rules 5-7: the grid of starts, into ws->emitted (sorted, unique). */
static void generate(eng_workspace_t *ws, const compute_t *c)
{
    int64_t earliest = earliest_start(c);
    int64_t unit = alignment_unit(c->step / 60) * 60;

    ws->emitted_count = 0;
    for (size_t i = 0; i < ws->ranges.count; i++) {
        const eng_span_t *range = &ws->ranges.v[i];
        int64_t t = range->start > earliest ? range->start : earliest;
        if (t >= c->to || t + c->duration > range->end)
            continue;
        t = align_up(c->zone, t, unit);
        size_t after = emitted_after(ws, t);
        if (after > 0) {
            int64_t s = ws->emitted[after - 1];
            if (t < s + c->step)
                t = s >= range->start ? s : s + c->step;
        }
        /* The range's new starts, in order, merged into the emitted list in
         * one pass from the back (only the tail after the first one moves). */
        size_t first_new = ws->emitted_count, cursor = emitted_after(ws, t - 1);
        for (; t + c->duration <= range->end && t < c->to; t += c->step) {
            while (cursor < first_new && ws->emitted[cursor] < t)
                cursor++;
            if (cursor < first_new && ws->emitted[cursor] == t)
                continue;
            ws->emitted = slotd_grow(ws->emitted, &ws->emitted_capacity, ws->emitted_count + 1,
                                     sizeof(int64_t));
            ws->emitted[ws->emitted_count++] = t;
        }
        ws->merge_scratch = slotd_grow(ws->merge_scratch, &ws->merge_scratch_capacity,
                                       ws->emitted_count - first_new, sizeof(int64_t));
        merge_tail(ws->emitted, first_new, ws->emitted_count, ws->merge_scratch);
    }
}

/* Rules 8-10: qualify each start, apply the horizon, per_day and limit. */
static void qualify(eng_workspace_t *ws, const compute_t *c, uint32_t per_day, uint32_t limit)
{
    const eng_service_spec_t *spec = &c->service->spec;
    ws->slot_count = 0;
    ws->slot_resource_count = 0;
    for (size_t k = 0; k < ws->candidate_count; k++)
        ws->candidates[k].cursor = 0;

    int32_t last_day = INT32_MAX;
    if (spec->max_advance_days >= 0)
        last_day = tz_local_day(c->zone, c->now) + spec->max_advance_days;
    int32_t current_day = INT32_MIN;
    uint32_t on_day = 0;

    for (size_t i = 0; i < ws->emitted_count; i++) {
        int64_t t = ws->emitted[i];
        for (size_t k = 0; k < ws->candidate_count; k++) {
            candidate_t *cand = &ws->candidates[k];
            const eng_span_t *spans = ws->pool + cand->first;
            while (cand->cursor < cand->count && spans[cand->cursor].end < t + c->duration)
                cand->cursor++;
            cand->serves = cand->cursor < cand->count && spans[cand->cursor].start <= t;
        }
        bool ok = true;
        for (size_t g = 0; g < ws->group_count && ok; g++) {
            const group_work_t *gw = &ws->groups[g];
            size_t serving = 0;
            for (size_t m = 0; m < gw->count; m++)
                serving += ws->candidates[ws->members[gw->first + m]].serves;
            ok = gw->mode == ENG_GROUP_ANY ? serving > 0 : serving == gw->count;
        }
        if (!ok)
            continue;
        if (last_day != INT32_MAX || per_day) {
            int32_t day = tz_local_day(c->zone, t);
            if (day > last_day)
                break; /* starts only grow from here */
            if (day != current_day) {
                current_day = day;
                on_day = 0;
            }
            if (per_day && on_day >= per_day)
                continue;
            on_day++;
        }
        ws->slots =
            slotd_grow(ws->slots, &ws->slot_capacity, ws->slot_count + 1, sizeof(eng_slot_t));
        eng_slot_t *slot = &ws->slots[ws->slot_count++];
        slot->start = t;
        slot->end = t + c->duration;
        slot->first_resource = (uint32_t)ws->slot_resource_count;
        append_serving(ws);
        slot->resource_count = (uint32_t)(ws->slot_resource_count - slot->first_resource);
        if (limit && ws->slot_count == limit)
            break;
    }
}

/* Rules 1-4: the combined ranges of a computation into ws->ranges (none when
 * no group can be satisfied). */
static bool compute_ranges(eng_workspace_t *ws, compute_t *c, int64_t margin)
{
    const eng_service_spec_t *spec = &c->service->spec;
    c->duration = (int64_t)spec->duration_minutes * 60;
    c->step =
        (int64_t)(spec->interval_minutes ? spec->interval_minutes : spec->duration_minutes) * 60;
    c->before = (int64_t)spec->buffer_before_minutes * 60;
    c->after = (int64_t)spec->buffer_after_minutes * 60;
    c->domain_start = c->from - margin;
    c->domain_end = c->to + c->duration + 60;
    if (c->zone == NULL)
        c->zone = c->service->org->zone;

    ws->slot_count = 0;
    ws->emitted_count = 0;
    ws->ranges.count = 0;
    ws->pool_count = 0;
    ws->limit_count = 0;
    if (c->to <= c->from || !choose_candidates(ws, c))
        return false;
    for (size_t k = 0; k < ws->candidate_count; k++)
        free_time(ws, c, &ws->candidates[k]);
    combine_groups(ws, c);
    return true;
}

static void compute(eng_workspace_t *ws, compute_t *c, int64_t margin, uint32_t per_day,
                    uint32_t limit)
{
    if (!compute_ranges(ws, c, margin))
        return;
    generate(ws, c);
    qualify(ws, c, per_day, limit);
}

int eng_slots(eng_workspace_t *ws, const eng_query_t *q, eng_slots_t *out)
{
    if (q->service == NULL || (q->resource_count > 0 && q->resources == NULL))
        return ENG_EINVAL;
    if (q->to < q->from || q->to - q->from > ENG_MAX_WINDOW_SECONDS)
        return ENG_EWINDOW;
    compute_t c = {.service = q->service,
                   .from = q->from,
                   .to = q->to,
                   .now = q->now,
                   .zone = q->zone,
                   .filter = q->resources,
                   .filter_count = q->resource_count,
                   .location = q->location};
    compute(ws, &c, 60, q->per_day, q->limit);
    out->slots = ws->slots;
    out->count = ws->slot_count;
    out->resources = ws->slot_resources;
    return ENG_OK;
}

/* ---- one start, without the starts before it ---------------------------------- */

/*
 * generate() emits, for each combined range in order, an arithmetic progression
 * of step c->step: its first element is the range's aligned start, snapped to
 * the latest start emitted at or before it. Whether one instant is emitted can
 * so be found from the progressions alone, in time proportional to the ranges
 * rather than to the starts before it (which, for a booking check whose grid
 * was set by a range that began years earlier, are millions). Only starts
 * within a step before a range's aligned start can move it, and aligned starts
 * never decrease, so a progression that ends a step or more before one is
 * dropped for good.
 */
static bool grid_has(eng_workspace_t *ws, const compute_t *c, int64_t target)
{
    int64_t earliest = earliest_start(c);
    int64_t unit = alignment_unit(c->step / 60) * 60;

    size_t active = 0; /* progressions [first, last] in ws->progressions */
    bool found = false;
    for (size_t i = 0; i < ws->ranges.count && !found; i++) {
        const eng_span_t *range = &ws->ranges.v[i];
        int64_t t = range->start > earliest ? range->start : earliest;
        if (t >= c->to || t + c->duration > range->end)
            continue;
        t = align_up(c->zone, t, unit);
        size_t kept = 0;
        bool has_latest = false;
        int64_t latest = 0;
        for (size_t k = 0; k < active; k++) {
            eng_span_t p = ws->progressions[k];
            if (p.end <= t - c->step)
                continue;
            ws->progressions[kept++] = p;
            if (p.start > t)
                continue;
            int64_t top = p.end < t ? p.end : t;
            int64_t e = p.start + (top - p.start) / c->step * c->step;
            if (!has_latest || e > latest)
                latest = e;
            has_latest = true;
        }
        active = kept;
        if (has_latest && t < latest + c->step)
            t = latest >= range->start ? latest : latest + c->step;
        int64_t bound = range->end - c->duration < c->to - 1 ? range->end - c->duration : c->to - 1;
        if (t > bound)
            continue;
        int64_t last = t + (bound - t) / c->step * c->step;
        found = target >= t && target <= last && (target - t) % c->step == 0;
        ws->progressions =
            slotd_grow(ws->progressions, &ws->progression_capacity, active + 1, sizeof(eng_span_t));
        ws->progressions[active++] = (eng_span_t){t, last};
    }
    return found;
}

/* Rules 8-9 for one start emitted by the grid: into ws->slots[0] when it qualifies. */
static bool qualify_one(eng_workspace_t *ws, const compute_t *c, int64_t t)
{
    const eng_service_spec_t *spec = &c->service->spec;
    if (spec->max_advance_days >= 0 &&
        tz_local_day(c->zone, t) > tz_local_day(c->zone, c->now) + spec->max_advance_days)
        return false;
    for (size_t k = 0; k < ws->candidate_count; k++) {
        candidate_t *cand = &ws->candidates[k];
        const eng_span_t *spans = ws->pool + cand->first;
        cand->serves = false;
        for (size_t i = 0; i < cand->count && !cand->serves; i++)
            cand->serves = spans[i].start <= t && spans[i].end >= t + c->duration;
    }
    for (size_t g = 0; g < ws->group_count; g++) {
        const group_work_t *gw = &ws->groups[g];
        size_t serving = 0;
        for (size_t m = 0; m < gw->count; m++)
            serving += ws->candidates[ws->members[gw->first + m]].serves;
        if (gw->mode == ENG_GROUP_ANY ? serving == 0 : serving != gw->count)
            return false;
    }
    ws->slot_count = 0;
    ws->slot_resource_count = 0;
    ws->slots = slotd_grow(ws->slots, &ws->slot_capacity, 1, sizeof(eng_slot_t));
    eng_slot_t *slot = &ws->slots[ws->slot_count++];
    *slot = (eng_slot_t){.start = t, .end = t + c->duration};
    append_serving(ws);
    slot->resource_count = (uint32_t)ws->slot_resource_count;
    return true;
}

/* ---- booking check ------------------------------------------------------------ */

/* Pinned resources must be members of the service, at most one per `any` group. */
static int check_pinned(const eng_service_t *s, eng_resource_t *const *pinned, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        bool member = false;
        for (size_t g = 0; g < s->group_count; g++)
            member |= in_list(s->groups[g].members, s->groups[g].count, pinned[i]);
        if (!member || in_list(pinned, i, pinned[i]))
            return ENG_ERESOURCE;
    }
    for (size_t g = 0; g < s->group_count; g++) {
        if (s->groups[g].mode != ENG_GROUP_ANY)
            continue;
        size_t n = 0;
        for (size_t i = 0; i < count; i++)
            n += in_list(s->groups[g].members, s->groups[g].count, pinned[i]);
        if (n > 1)
            return ENG_ERESOURCE;
    }
    return ENG_OK;
}

/* Does a combined range lie across (from - step, from)? Then slots before the
 * window could shift the grid inside it. */
static bool window_is_cut(const eng_workspace_t *ws, int64_t from, int64_t step)
{
    for (size_t i = 0; i < ws->ranges.count; i++)
        if (ws->ranges.v[i].start < from && ws->ranges.v[i].end > from - step)
            return true;
    return false;
}

typedef struct {
    size_t bookings;
    int64_t latest_created;
} pick_key_t;

static pick_key_t pick_key(eng_workspace_t *ws, eng_resource_t *r, int64_t day_start,
                           int64_t day_end)
{
    pick_key_t key = {0, r->last_booking_created};
    int64_t pad = (int64_t)ENG_MAX_BUFFER_MINUTES * 60;
    ws->hit_count = 0;
    eng_busy_tree_query(&r->busy, day_start - pad, day_end + pad, &ws->hits, &ws->hit_count,
                        &ws->hit_capacity);
    for (size_t i = 0; i < ws->hit_count; i++) {
        const eng_busy_hit_t *h = &ws->hits[i];
        if (h->kind == ENG_BUSY_BOOKING && h->unpadded_start >= day_start &&
            h->unpadded_start < day_end)
            key.bookings++;
    }
    return key;
}

static bool better_pick(pick_key_t a, const eng_resource_t *ra, pick_key_t b,
                        const eng_resource_t *rb)
{
    if (a.bookings != b.bookings)
        return a.bookings < b.bookings;
    if (a.latest_created != b.latest_created)
        return a.latest_created < b.latest_created; /* INT64_MIN: never booked */
    return compare_ids(ra, rb) < 0;
}

/* Computes, window aside, whether `check->start` is offered with the given
 * resource filter; on success *slot is that slot in the workspace. */
static bool offered(eng_workspace_t *ws, const eng_check_t *check, eng_resource_t *const *filter,
                    size_t filter_count, int64_t earliest, const eng_slot_t **slot)
{
    int64_t t = check->start;
    int64_t from = t - TZ_SECONDS_PER_DAY;
    for (;;) {
        if (from < earliest)
            from = earliest;
        compute_t c = {.service = check->service,
                       .from = from,
                       .to = t + 1,
                       .now = check->now,
                       .zone = check->zone,
                       .filter = filter,
                       .filter_count = filter_count};
        /* A margin wide enough to see every range across (from - step, from). */
        compute_ranges(ws, &c,
                       TZ_SECONDS_PER_DAY + (int64_t)c.service->spec.duration_minutes * 60 +
                           (int64_t)c.service->spec.interval_minutes * 60);
        if (from <= earliest || !window_is_cut(ws, from, c.step)) {
            if (!grid_has(ws, &c, t) || !qualify_one(ws, &c, t))
                return false;
            *slot = &ws->slots[0];
            return true;
        }
        from -= 2 * (t - from);
    }
}

/* Sorts the n resources picked by id and hands them out. */
static void sort_picked(eng_workspace_t *ws, size_t n, eng_resource_t *const **picked,
                        size_t *picked_count)
{
    for (size_t i = 1; i < n; i++) {
        eng_resource_t *x = ws->picked[i];
        size_t j = i;
        while (j > 0 && compare_ids(ws->picked[j - 1], x) > 0) {
            ws->picked[j] = ws->picked[j - 1];
            j--;
        }
        ws->picked[j] = x;
    }
    *picked = ws->picked;
    *picked_count = n;
}

int eng_check_booking(eng_workspace_t *ws, const eng_check_t *check, eng_resource_t *const **picked,
                      size_t *picked_count)
{
    const eng_service_t *s = check->service;
    if (s == NULL || (check->pinned_count > 0 && check->pinned == NULL))
        return ENG_EINVAL;
    int rc = check_pinned(s, check->pinned, check->pinned_count);
    if (rc)
        return rc;

    int64_t t = check->start;
    int64_t notice = (int64_t)s->spec.min_notice_minutes * 60;
    int64_t earliest = check->now + (notice > 60 ? notice : 60);
    if (t < earliest)
        return ENG_EUNAVAILABLE;

    /* Offered with the pinned resources as the filter (what GET /slots with
     * resource_id shows), or offered without a filter with every pinned resource
     * among those that serve it (what GET /slots shows without one). */
    const eng_slot_t *slot = NULL;
    bool ok = offered(ws, check, check->pinned, check->pinned_count, earliest, &slot);
    if (!ok && check->pinned_count > 0) {
        ok = offered(ws, check, NULL, 0, earliest, &slot);
        for (size_t i = 0; ok && i < check->pinned_count; i++)
            ok = in_list(ws->slot_resources + slot->first_resource, slot->resource_count,
                         check->pinned[i]);
    }
    if (!ok)
        return ENG_EUNAVAILABLE;

    /* Pick: every member of an `all` group; per `any` group the pinned member, or
     * the best serving one. A resource in two groups may serve both. */
    eng_resource_t *const *serving = ws->slot_resources + slot->first_resource;
    size_t serving_count = slot->resource_count;
    tz_zone_t *org_zone = s->org->zone;
    int32_t day = tz_local_day(org_zone, t);
    int64_t day_start = tz_from_wall(org_zone, (int64_t)day * TZ_SECONDS_PER_DAY);
    int64_t day_end = tz_from_wall(org_zone, (int64_t)(day + 1) * TZ_SECONDS_PER_DAY);

    size_t n = 0;
    for (size_t g = 0; g < s->group_count; g++) {
        const eng_group_t *group = &s->groups[g];
        ws->picked = slotd_grow(ws->picked, &ws->picked_capacity, n + group->count,
                                sizeof(eng_resource_t *));
        if (group->mode == ENG_GROUP_ALL) {
            for (size_t m = 0; m < group->count; m++)
                if (!in_list(ws->picked, n, group->members[m]))
                    ws->picked[n++] = group->members[m];
            continue;
        }
        eng_resource_t *best = NULL;
        pick_key_t best_key = {0};
        for (size_t m = 0; m < group->count; m++) {
            eng_resource_t *r = group->members[m];
            if (!in_list(serving, serving_count, r))
                continue;
            if (in_list(check->pinned, check->pinned_count, r)) {
                best = r;
                break;
            }
            pick_key_t key = pick_key(ws, r, day_start, day_end);
            if (best == NULL || better_pick(key, r, best_key, best)) {
                best = r;
                best_key = key;
            }
        }
        if (best == NULL)
            return ENG_EUNAVAILABLE; /* unreachable: the slot qualified */
        if (!in_list(ws->picked, n, best))
            ws->picked[n++] = best;
    }
    sort_picked(ws, n, picked, picked_count);
    return ENG_OK;
}

int eng_check_no_overlap(eng_workspace_t *ws, const eng_service_t *service, int64_t start,
                         int64_t end, int64_t now, eng_resource_t *const *resources, size_t count)
{
    if (service == NULL || end <= start)
        return ENG_EINVAL;
    int64_t from = start - (int64_t)service->spec.buffer_before_minutes * 60;
    int64_t to = end + (int64_t)service->spec.buffer_after_minutes * 60;
    for (size_t i = 0; i < count; i++) {
        ws->hit_count = 0;
        eng_busy_tree_query(&resources[i]->busy, from, to, &ws->hits, &ws->hit_count,
                            &ws->hit_capacity);
        for (size_t k = 0; k < ws->hit_count; k++) {
            const eng_busy_hit_t *h = &ws->hits[k];
            if (h->kind == ENG_BUSY_BOOKING || (h->kind == ENG_BUSY_HOLD && h->stamp > now))
                return ENG_EUNAVAILABLE;
        }
    }
    return ENG_OK;
}

int eng_check_span(eng_workspace_t *ws, const eng_service_t *service, int64_t start, int64_t end,
                   int64_t now, eng_resource_t *const *resources, size_t count)
{
    if (service == NULL || end <= start || end - start > (int64_t)ENG_MAX_DURATION_MINUTES * 60)
        return ENG_EINVAL;
    const eng_service_spec_t *spec = &service->spec;
    /* Rules 1-3 over the span alone: free spans shorter than it are dropped, so the one
     * left, if any, must contain it. */
    compute_t c = {.service = service,
                   .from = start,
                   .to = end,
                   .now = now,
                   .zone = service->org->zone,
                   .duration = end - start,
                   .before = (int64_t)spec->buffer_before_minutes * 60,
                   .after = (int64_t)spec->buffer_after_minutes * 60,
                   .domain_start = start - 60,
                   .domain_end = end + 60};
    ws->pool_count = 0;
    ws->limit_count = 0;
    for (size_t i = 0; i < count; i++) {
        candidate_t cand = {.resource = resources[i]};
        free_time(ws, &c, &cand);
        bool inside = false;
        for (size_t k = 0; k < cand.count && !inside; k++)
            inside = ws->pool[cand.first + k].start <= start && ws->pool[cand.first + k].end >= end;
        if (!inside)
            return ENG_EUNAVAILABLE;
    }
    return ENG_OK;
}

int eng_check_override(eng_workspace_t *ws, const eng_check_t *check, int64_t end,
                       eng_resource_t *const **picked, size_t *picked_count)
{
    const eng_service_t *s = check->service;
    if (s == NULL || end <= check->start || (check->pinned_count > 0 && check->pinned == NULL))
        return ENG_EINVAL;
    int rc = check_pinned(s, check->pinned, check->pinned_count);
    if (rc)
        return rc;
    size_t n = 0;
    for (size_t g = 0; g < s->group_count; g++) {
        const eng_group_t *group = &s->groups[g];
        ws->picked = slotd_grow(ws->picked, &ws->picked_capacity, n + group->count,
                                sizeof(eng_resource_t *));
        eng_resource_t *chosen = NULL;
        for (size_t m = 0; m < group->count; m++) {
            eng_resource_t *r = group->members[m];
            bool needed =
                group->mode == ENG_GROUP_ALL || in_list(check->pinned, check->pinned_count, r);
            if (!needed)
                continue;
            /* an override skips the rules of time, never a resource taken out of service */
            if (!r->active ||
                eng_check_no_overlap(ws, s, check->start, end, check->now, &r, 1) != ENG_OK)
                return ENG_EUNAVAILABLE;
            chosen = r;
            if (!in_list(ws->picked, n, r))
                ws->picked[n++] = r;
        }
        if (group->mode == ENG_GROUP_ALL || chosen)
            continue;
        /* members in id order: the first free one */
        for (size_t m = 0; m < group->count; m++) {
            eng_resource_t *r = group->members[m];
            if (!r->active ||
                eng_check_no_overlap(ws, s, check->start, end, check->now, &r, 1) != ENG_OK)
                continue;
            if (chosen == NULL || compare_ids(r, chosen) < 0)
                chosen = r;
        }
        if (chosen == NULL)
            return ENG_EUNAVAILABLE;
        if (!in_list(ws->picked, n, chosen))
            ws->picked[n++] = chosen;
    }
    sort_picked(ws, n, picked, picked_count);
    return ENG_OK;
}
