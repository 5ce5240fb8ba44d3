/*
 * The index's work scheduler (see scheduler.h for its rules).
 *
 * State: whether a rebuild runs (and of what), whether a full rebuild waits for
 * it, the deferred list (work waiting for a rebuild or the first load), the
 * retry list, the consecutive failure count that sets the backoff, a map from
 * object id to its reload state (in flight, dirty, its waiters) and the list
 * of organization waiters. A reload state lives only while something is in
 * flight or waiting: it is freed as soon as the object is idle.
 *
 * Waiters are collected before any of them is called, and every list is left
 * consistent first, so a waiter may ask for more work from its callback.
 */
#include "index/scheduler.h"

#include <stdlib.h>
#include <string.h>

#include "index/idmap.h"
#include "slotd/alloc.h"

#define RETRY_FIRST_MS 500
#define RETRY_MAX_MS 30000

typedef struct {
    idx_waiter_cb done;
    void *arg;
} waiter_t;

typedef struct {
    waiter_t *items;
    size_t count, capacity;
} waiters_t;

typedef struct {
    idx_work_t *items;
    size_t count, capacity;
} work_list_t;

/* One object's reloads: `current` waits for the one in flight, `next` for the one after.
 * Keyed by (organization, id): nothing stops two organizations' rows from sharing an id
 * (one copied from another), so the map's entry for an id is a chain of them. */
typedef struct inflight {
    eng_id_t org;
    bool loading, dirty;
    waiters_t current, next;
    struct inflight *same_id; /* another organization's object with this id */
} inflight_t;

/* A waiter of an organization's next rebuild; armed once such a rebuild runs. */
typedef struct {
    eng_id_t org;
    waiter_t waiter;
    bool armed;
} org_waiter_t;

struct idx_sched {
    idx_sched_host_t host;
    bool ready, closing;
    bool rebuilding, rebuilding_all, pending_all;
    eng_id_t rebuilding_org;
    work_list_t deferred, retry;
    unsigned failures_in_a_row;
    idmap_t inflight;
    org_waiter_t *org_waiters;
    size_t org_waiter_count, org_waiter_capacity;
    idx_sched_stats_t stats;
};

static void dispatch(idx_sched_t *s, const idx_work_t *w);

static bool same_id(const eng_id_t *a, const eng_id_t *b)
{
    return memcmp(a, b, sizeof(*a)) == 0;
}

static bool is_rebuild(const idx_work_t *w)
{
    return w->kind == IDX_WORK_ALL || w->kind == IDX_WORK_ORG;
}

static void waiters_add(waiters_t *list, waiter_t w)
{
    list->items = slotd_grow(list->items, &list->capacity, list->count + 1, sizeof(waiter_t));
    list->items[list->count++] = w;
}

/* Appends every waiter of `from` to `to`, emptying `from`. */
static void waiters_move(waiters_t *to, waiters_t *from)
{
    for (size_t i = 0; i < from->count; i++)
        waiters_add(to, from->items[i]);
    free(from->items);
    *from = (waiters_t){0};
}

static void waiters_call(waiters_t *list, int status)
{
    waiters_t taken = *list;
    *list = (waiters_t){0};
    for (size_t i = 0; i < taken.count; i++)
        taken.items[i].done(taken.items[i].arg, status);
    free(taken.items);
}

static void work_push(work_list_t *list, const idx_work_t *w)
{
    /* the same work twice would only repeat it */
    for (size_t i = 0; i < list->count; i++)
        if (list->items[i].kind == w->kind && same_id(&list->items[i].org, &w->org) &&
            same_id(&list->items[i].id, &w->id))
            return;
    list->items = slotd_grow(list->items, &list->capacity, list->count + 1, sizeof(idx_work_t));
    list->items[list->count++] = *w;
}

static bool rebuild_covers(const idx_sched_t *s, const eng_id_t *org)
{
    return s->rebuilding && (s->rebuilding_all || same_id(&s->rebuilding_org, org));
}

bool idx_sched_covered(const idx_sched_t *s, const eng_id_t *org)
{
    if (rebuild_covers(s, org))
        return true;
    for (size_t i = 0; i < s->retry.count; i++) {
        const idx_work_t *w = &s->retry.items[i];
        if (w->kind == IDX_WORK_ALL || (w->kind == IDX_WORK_ORG && same_id(&w->org, org)))
            return true;
    }
    return false;
}

static inflight_t *inflight_find(idx_sched_t *s, const eng_id_t *org, const eng_id_t *id)
{
    inflight_t *f = idmap_get(&s->inflight, id);
    while (f && !same_id(&f->org, org))
        f = f->same_id;
    return f;
}

bool idx_sched_reloading(idx_sched_t *s, const eng_id_t *org, const eng_id_t *id)
{
    inflight_t *f = inflight_find(s, org, id);
    if (f && (f->loading || f->dirty))
        return true;
    for (size_t i = 0; i < s->retry.count; i++) { /* failed: its retry reads after this */
        const idx_work_t *w = &s->retry.items[i];
        if ((w->kind == IDX_WORK_RESOURCE || w->kind == IDX_WORK_SERVICE) &&
            same_id(&w->org, org) && same_id(&w->id, id))
            return true;
    }
    return false;
}

static inflight_t *inflight_of(idx_sched_t *s, const eng_id_t *org, const eng_id_t *id)
{
    inflight_t *f = inflight_find(s, org, id);
    if (f == NULL) {
        f = slotd_calloc(1, sizeof(*f));
        f->org = *org;
        f->same_id = idmap_get(&s->inflight, id);
        idmap_put(&s->inflight, id, f);
    }
    return f;
}

/* Frees an object's reload state once nothing is in flight or waiting. */
static void inflight_settle(idx_sched_t *s, const eng_id_t *org, const eng_id_t *id)
{
    inflight_t *head = idmap_get(&s->inflight, id), **link = &head;
    while (*link && !same_id(&(*link)->org, org))
        link = &(*link)->same_id;
    inflight_t *f = *link;
    if (f && !f->loading && !f->dirty && f->current.count == 0 && f->next.count == 0) {
        *link = f->same_id;
        if (head)
            idmap_put(&s->inflight, id, head);
        else
            idmap_remove(&s->inflight, id);
        free(f->current.items);
        free(f->next.items);
        free(f);
    }
}

static void start(idx_sched_t *s, const idx_work_t *w)
{
    s->stats.started++;
    s->host.start(s->host.host, w);
}

static void start_rebuild(idx_sched_t *s, const idx_work_t *w)
{
    s->rebuilding = true;
    s->rebuilding_all = w->kind == IDX_WORK_ALL;
    s->rebuilding_org = w->org;
    for (size_t i = 0; i < s->org_waiter_count; i++)
        if (s->rebuilding_all || same_id(&s->org_waiters[i].org, &w->org))
            s->org_waiters[i].armed = true;
    start(s, w);
}

static void start_reload(idx_sched_t *s, const idx_work_t *w)
{
    inflight_t *f = inflight_of(s, &w->org, &w->id);
    if (f->loading) {
        if (!f->dirty && s->host.not_sent && s->host.not_sent(s->host.host, w)) {
            /* not on the wire yet: it will read what was committed before this request */
            waiters_move(&f->current, &f->next);
            return;
        }
        f->dirty = true;
        return;
    }
    f->loading = true;
    /* who waited for "the next reload" waits for this one */
    waiters_move(&f->current, &f->next);
    start(s, w);
}

static void dispatch(idx_sched_t *s, const idx_work_t *w)
{
    if (s->closing)
        return;
    if (is_rebuild(w)) {
        if (!s->rebuilding)
            start_rebuild(s, w);
        else if (w->kind == IDX_WORK_ALL)
            s->pending_all = true;
        else
            work_push(&s->deferred, w);
        return;
    }
    if (!s->ready || idx_sched_covered(s, &w->org)) {
        work_push(&s->deferred, w);
        return;
    }
    if (!s->host.org_known(s->host.host, &w->org)) {
        /* an organization not loaded yet: load it, then this object again */
        work_push(&s->deferred, w);
        idx_work_t org = {.kind = IDX_WORK_ORG, .org = w->org};
        dispatch(s, &org);
        return;
    }
    start_reload(s, w);
}

void idx_sched_request(idx_sched_t *s, const idx_work_t *work, idx_waiter_cb done, void *arg)
{
    if (s->closing) {
        if (done)
            done(arg, ENG_EUNAVAILABLE);
        return;
    }
    idx_work_t w = *work;
    if (w.kind == IDX_WORK_ALL)
        w.org = (eng_id_t){{0}};
    if (is_rebuild(&w))
        w.id = (eng_id_t){{0}};
    if (done && is_rebuild(&w)) {
        /* served by the next rebuild of the organization (or of all) that starts */
        s->org_waiters = slotd_grow(s->org_waiters, &s->org_waiter_capacity,
                                    s->org_waiter_count + 1, sizeof(org_waiter_t));
        s->org_waiters[s->org_waiter_count++] = (org_waiter_t){w.org, {done, arg}, false};
    } else if (done) {
        waiters_add(&inflight_of(s, &w.org, &w.id)->next, (waiter_t){done, arg});
    }
    dispatch(s, &w);
}

static uint64_t schedule_retry(idx_sched_t *s, const idx_work_t *w)
{
    s->stats.failures++;
    work_push(&s->retry, w);
    unsigned n = s->failures_in_a_row < 16 ? s->failures_in_a_row : 16;
    s->failures_in_a_row++;
    uint64_t delay = (uint64_t)RETRY_FIRST_MS << n;
    if (delay > RETRY_MAX_MS)
        delay = RETRY_MAX_MS;
    s->stats.backoff_ms = delay;
    s->host.arm_retry(s->host.host, delay);
    return delay;
}

/* Takes the work deferred for a vanished organization off the list, and releases its
 * waiters: the index shows the organization gone, which is what was committed. */
static void drop_org_work(idx_sched_t *s, const eng_id_t *org, waiters_t *release)
{
    size_t kept = 0;
    for (size_t i = 0; i < s->deferred.count; i++) {
        idx_work_t *w = &s->deferred.items[i];
        if (!same_id(&w->org, org)) {
            s->deferred.items[kept++] = *w;
            continue;
        }
        inflight_t *f = is_rebuild(w) ? NULL : inflight_find(s, &w->org, &w->id);
        if (f) {
            waiters_move(release, &f->next);
            if (!f->loading) /* one in flight finds the organization gone itself */
                waiters_move(release, &f->current);
            f->dirty = false;
            inflight_settle(s, &w->org, &w->id);
        }
    }
    s->deferred.count = kept;
}

static void rebuild_done(idx_sched_t *s, const idx_work_t *w, idx_outcome_t outcome)
{
    s->rebuilding = false;
    waiters_t release = {0};
    if (outcome == IDX_FAILED || outcome == IDX_DEFERRED) {
        for (size_t i = 0; i < s->org_waiter_count; i++)
            s->org_waiters[i].armed = false; /* the retry serves them */
        if (outcome == IDX_FAILED)
            schedule_retry(s, w);
        else
            work_push(&s->deferred, w);
    } else {
        if (w->kind == IDX_WORK_ALL)
            s->ready = true;
        size_t kept = 0;
        for (size_t i = 0; i < s->org_waiter_count; i++) {
            org_waiter_t *ow = &s->org_waiters[i];
            if (ow->armed && (w->kind == IDX_WORK_ALL || same_id(&ow->org, &w->org)))
                waiters_add(&release, ow->waiter);
            else
                s->org_waiters[kept++] = *ow;
        }
        s->org_waiter_count = kept;
        if (outcome == IDX_GONE && w->kind == IDX_WORK_ORG)
            drop_org_work(s, &w->org, &release);
    }
    /* what waited for the rebuild */
    if (s->pending_all) {
        s->pending_all = false;
        idx_work_t all = {.kind = IDX_WORK_ALL};
        dispatch(s, &all);
    } else if (!s->rebuilding && s->ready) {
        work_list_t taken = s->deferred;
        s->deferred = (work_list_t){0};
        for (size_t i = 0; i < taken.count; i++)
            dispatch(s, &taken.items[i]);
        free(taken.items);
    }
    waiters_call(&release, 0);
}

static void reload_done(idx_sched_t *s, const idx_work_t *w, idx_outcome_t outcome)
{
    inflight_t *f = inflight_of(s, &w->org, &w->id);
    f->loading = false;
    waiters_t release = {0};
    if (outcome == IDX_FAILED || outcome == IDX_DEFERRED) {
        /* not shown yet: whoever waited for this reload waits for the one that will be */
        waiters_t later = f->current;
        f->current = (waiters_t){0};
        waiters_move(&later, &f->next);
        f->next = later;
        if (outcome == IDX_FAILED)
            schedule_retry(s, w);
        else
            work_push(&s->deferred, w);
    } else {
        waiters_move(&release, &f->current);
        if (outcome == IDX_GONE) {
            waiters_move(&release, &f->next);
            f->dirty = false;
        }
    }
    if (f->dirty && !s->closing) {
        f->dirty = false;
        dispatch(s, w);
    }
    inflight_settle(s, &w->org, &w->id);
    waiters_call(&release, 0);
}

uint64_t idx_sched_done(idx_sched_t *s, const idx_work_t *work, idx_outcome_t outcome)
{
    if (s->closing)
        return 0;
    if (outcome == IDX_APPLIED || outcome == IDX_GONE) {
        s->failures_in_a_row = 0;
        s->stats.backoff_ms = 0;
    }
    size_t failures = s->stats.failures;
    if (is_rebuild(work))
        rebuild_done(s, work, outcome);
    else
        reload_done(s, work, outcome);
    return s->stats.failures != failures ? s->stats.backoff_ms : 0;
}

void idx_sched_retry_due(idx_sched_t *s)
{
    work_list_t taken = s->retry;
    s->retry = (work_list_t){0};
    /* rebuilds first: reloads of the organizations they cover then wait for them */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < taken.count; i++)
            if (is_rebuild(&taken.items[i]) == (pass == 0)) {
                s->stats.retries++;
                dispatch(s, &taken.items[i]);
            }
    free(taken.items);
}

bool idx_sched_ready(const idx_sched_t *s)
{
    return s->ready;
}

void idx_sched_stats(const idx_sched_t *s, idx_sched_stats_t *stats)
{
    *stats = s->stats;
    stats->deferred = s->deferred.count;
    stats->pending_retries = s->retry.count;
    stats->waiters = s->org_waiter_count;
    stats->inflight_entries = 0;
    for (size_t i = 0; i < s->inflight.capacity; i++)
        for (inflight_t *f = s->inflight.entries[i].value; f; f = f->same_id) {
            stats->inflight_entries++;
            stats->waiters += f->current.count + f->next.count;
        }
}

idx_sched_t *idx_sched_new(const idx_sched_host_t *host)
{
    idx_sched_t *s = slotd_calloc(1, sizeof(*s));
    s->host = *host;
    return s;
}

void idx_sched_close(idx_sched_t *s, int status)
{
    s->closing = true;
    waiters_t release = {0};
    for (size_t i = 0; i < s->inflight.capacity; i++) {
        inflight_t *f = s->inflight.entries[i].value;
        while (f) {
            inflight_t *next = f->same_id;
            waiters_move(&release, &f->current);
            waiters_move(&release, &f->next);
            free(f);
            f = next;
        }
    }
    idmap_free(&s->inflight);
    for (size_t i = 0; i < s->org_waiter_count; i++)
        waiters_add(&release, s->org_waiters[i].waiter);
    free(s->org_waiters);
    free(s->deferred.items);
    free(s->retry.items);
    free(s);
    waiters_call(&release, status);
}
