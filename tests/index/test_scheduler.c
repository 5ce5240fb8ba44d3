/*
 * The index's work scheduler on its own: no database and no loop. The test is
 * the scheduler's host: it records what the scheduler starts, completes those
 * items in the order and with the outcome each test chooses, and fires the
 * retry timer by hand. Coalescing, deferral behind rebuilds, retry with
 * backoff and the life of waiters are checked step by step.
 */
#include <string.h>

#include "index/scheduler.h"
#include "test.h"

typedef struct {
    idx_work_t started[64];
    int count;
    bool org_known;
    uint64_t armed_ms;
    int arms;
    bool unsent; /* what host_not_sent answers: the reload started last is still queued */
} host_t;

static void host_start(void *arg, const idx_work_t *w)
{
    host_t *h = arg;
    CHECK(h->count < 64);
    h->started[h->count++] = *w;
}

static bool host_org_known(void *arg, const eng_id_t *org)
{
    (void)org;
    return ((host_t *)arg)->org_known;
}

static void host_arm(void *arg, uint64_t ms)
{
    host_t *h = arg;
    h->armed_ms = ms;
    h->arms++;
}

static bool host_not_sent(void *arg, const idx_work_t *w)
{
    (void)w;
    return ((host_t *)arg)->unsent;
}

static idx_sched_t *sched_new(host_t *h)
{
    memset(h, 0, sizeof(*h));
    h->org_known = true;
    idx_sched_host_t host = {host_start, host_org_known, host_arm, h, host_not_sent};
    return idx_sched_new(&host);
}

static eng_id_t id_of(int n)
{
    eng_id_t id = {{0}};
    id.bytes[0] = (uint8_t)n;
    id.bytes[15] = 0x5a;
    return id;
}

static idx_work_t all_work(void)
{
    return (idx_work_t){.kind = IDX_WORK_ALL};
}

static idx_work_t org_work(int org)
{
    return (idx_work_t){.kind = IDX_WORK_ORG, .org = id_of(org)};
}

static idx_work_t resource_work(int org, int id)
{
    return (idx_work_t){.kind = IDX_WORK_RESOURCE, .org = id_of(org), .id = id_of(id)};
}

typedef struct {
    int calls, status;
} waiter_t;

static void on_wait(void *arg, int status)
{
    waiter_t *w = arg;
    w->calls++;
    w->status = status;
}

/* The `i`th work the scheduler started is `w` (same kind, organization and id). */
static bool same_started(const host_t *h, int i, const idx_work_t *w)
{
    return i >= 0 && i < h->count && h->started[i].kind == w->kind &&
           memcmp(&h->started[i].org, &w->org, sizeof(w->org)) == 0 &&
           memcmp(&h->started[i].id, &w->id, sizeof(w->id)) == 0;
}

/* Loads everything: the first full rebuild, applied. */
static void load_all(idx_sched_t *s, host_t *h)
{
    idx_work_t all = all_work();
    idx_sched_request(s, &all, NULL, NULL);
    CHECK_EQ(h->started[h->count - 1].kind, IDX_WORK_ALL);
    idx_sched_done(s, &all, IDX_APPLIED);
    CHECK(idx_sched_ready(s));
}

/* Loaded, and the first reload of `r` started, waited for by `a`. */
static idx_sched_t *sched_reloading(host_t *h, const idx_work_t *r, waiter_t *a)
{
    idx_sched_t *s = sched_new(h);
    load_all(s, h);
    idx_sched_request(s, r, on_wait, a);
    CHECK_EQ(h->count, 2);
    return s;
}

/* Nothing in flight or waiting any more; closes. */
static void close_idle(idx_sched_t *s)
{
    idx_sched_stats_t st;
    idx_sched_stats(s, &st);
    CHECK_EQ(st.inflight_entries, 0);
    idx_sched_close(s, ENG_EUNAVAILABLE);
}

TEST(index_sched_reloads_wait_for_the_first_load)
{
    host_t h;
    idx_sched_t *s = sched_new(&h);
    idx_work_t r = resource_work(1, 10);
    waiter_t w = {0};
    idx_sched_request(s, &r, on_wait, &w);
    CHECK_EQ(h.count, 0); /* not ready: deferred */
    idx_work_t all = all_work();
    idx_sched_request(s, &all, NULL, NULL);
    CHECK_EQ(h.count, 1);
    idx_sched_done(s, &all, IDX_APPLIED);
    CHECK_EQ(h.count, 2);
    CHECK_EQ(h.started[1].kind, IDX_WORK_RESOURCE);
    CHECK_EQ(w.calls, 0);
    idx_sched_done(s, &r, IDX_APPLIED);
    CHECK_EQ(w.calls, 1);
    CHECK_EQ(w.status, 0);
    idx_sched_stats_t st;
    idx_sched_stats(s, &st);
    CHECK_EQ(st.inflight_entries, 0); /* freed once idle */
    CHECK_EQ(st.deferred, 0);
    idx_sched_close(s, ENG_EUNAVAILABLE);
}

TEST(index_sched_coalesces_reloads_of_one_object)
{
    host_t h;
    idx_work_t r = resource_work(1, 10);
    waiter_t a = {0}, b = {0}, c = {0};
    idx_sched_t *s = sched_reloading(&h, &r, &a);
    /* two more while the first is in flight: one more reload, not two */
    idx_sched_request(s, &r, on_wait, &b);
    idx_sched_request(s, &r, on_wait, &c);
    CHECK_EQ(h.count, 2);
    idx_sched_done(s, &r, IDX_APPLIED);
    CHECK_EQ(a.calls, 1);
    CHECK_EQ(b.calls, 0); /* the first reload may predate their writes */
    CHECK_EQ(c.calls, 0);
    CHECK_EQ(h.count, 3);
    idx_sched_done(s, &r, IDX_APPLIED);
    CHECK_EQ(b.calls, 1);
    CHECK_EQ(c.calls, 1);
    CHECK_EQ(h.count, 3);
    close_idle(s);
}

TEST(index_sched_a_request_joins_a_reload_whose_query_has_not_been_sent)
{
    host_t h;
    idx_work_t r = resource_work(1, 10);
    waiter_t a = {0}, b = {0}, c = {0};
    idx_sched_t *s = sched_reloading(&h, &r, &a);
    /* its query still waits for a connection: its snapshot will come after b's write */
    h.unsent = true;
    idx_sched_request(s, &r, on_wait, &b);
    idx_sched_request(s, &r, NULL, NULL); /* a notification */
    CHECK_EQ(h.count, 2);
    /* on the wire now: a request from here on needs one more */
    h.unsent = false;
    idx_sched_request(s, &r, on_wait, &c);
    idx_sched_done(s, &r, IDX_APPLIED);
    CHECK_EQ(a.calls, 1);
    CHECK_EQ(b.calls, 1);
    CHECK_EQ(c.calls, 0);
    CHECK_EQ(h.count, 3);
    idx_sched_done(s, &r, IDX_APPLIED);
    CHECK_EQ(c.calls, 1);
    CHECK_EQ(h.count, 3);
    close_idle(s);
}

TEST(index_sched_a_failed_unsent_reload_keeps_the_waiters_that_joined_it)
{
    host_t h;
    idx_work_t r = resource_work(1, 10);
    waiter_t a = {0}, b = {0};
    idx_sched_t *s = sched_reloading(&h, &r, &a);
    h.unsent = true;
    idx_sched_request(s, &r, on_wait, &b);
    h.unsent = false;
    CHECK(idx_sched_done(s, &r, IDX_FAILED) > 0);
    CHECK_EQ(a.calls, 0);
    CHECK_EQ(b.calls, 0);
    idx_sched_retry_due(s);
    CHECK_EQ(h.count, 3);
    idx_sched_done(s, &r, IDX_APPLIED);
    CHECK_EQ(a.calls, 1);
    CHECK_EQ(b.calls, 1);
    close_idle(s);
}

TEST(index_sched_defers_reloads_behind_a_rebuild)
{
    host_t h;
    idx_sched_t *s = sched_new(&h);
    load_all(s, &h);
    idx_work_t o = org_work(1), r = resource_work(1, 10), other = resource_work(2, 20);
    idx_sched_request(s, &o, NULL, NULL);
    CHECK_EQ(h.count, 2);
    CHECK(idx_sched_covered(s, &o.org));
    waiter_t w = {0};
    idx_sched_request(s, &r, on_wait, &w);
    idx_sched_request(s, &other, NULL, NULL);
    CHECK_EQ(h.count, 3); /* the other organization's reload runs at once */
    CHECK(memcmp(&h.started[2].id, &other.id, sizeof(eng_id_t)) == 0);
    idx_sched_done(s, &o, IDX_APPLIED);
    CHECK_EQ(h.count, 4); /* then the deferred one */
    CHECK(memcmp(&h.started[3].id, &r.id, sizeof(eng_id_t)) == 0);
    idx_sched_done(s, &r, IDX_APPLIED);
    CHECK_EQ(w.calls, 1);
    idx_sched_done(s, &other, IDX_APPLIED);

    /* a reload that lands while a rebuild covers it is loaded again after the rebuild,
     * and its waiter waits for that */
    waiter_t v = {0};
    idx_sched_request(s, &r, on_wait, &v);
    CHECK_EQ(h.count, 5);
    idx_sched_request(s, &o, NULL, NULL);
    CHECK_EQ(h.count, 6);
    idx_sched_done(s, &r, IDX_DEFERRED);
    CHECK_EQ(v.calls, 0);
    idx_sched_done(s, &o, IDX_APPLIED);
    CHECK_EQ(h.count, 7);
    CHECK_EQ(h.started[6].kind, IDX_WORK_RESOURCE);
    idx_sched_done(s, &r, IDX_APPLIED);
    CHECK_EQ(v.calls, 1);
    idx_sched_close(s, ENG_EUNAVAILABLE);
}

TEST(index_sched_a_second_full_rebuild_waits_for_the_first)
{
    host_t h;
    idx_sched_t *s = sched_new(&h);
    idx_work_t all = all_work(), o = org_work(3);
    idx_sched_request(s, &all, NULL, NULL);
    idx_sched_request(s, &all, NULL, NULL);
    idx_sched_request(s, &o, NULL, NULL);
    CHECK_EQ(h.count, 1);
    idx_sched_done(s, &all, IDX_APPLIED);
    CHECK_EQ(h.count, 2);
    CHECK_EQ(h.started[1].kind, IDX_WORK_ALL);
    idx_sched_done(s, &all, IDX_APPLIED);
    CHECK_EQ(h.count, 3);
    CHECK_EQ(h.started[2].kind, IDX_WORK_ORG);
    idx_sched_done(s, &o, IDX_APPLIED);
    idx_sched_close(s, ENG_EUNAVAILABLE);
}

TEST(index_sched_failed_reload_keeps_its_waiters_until_the_retry_lands)
{
    host_t h;
    idx_sched_t *s = sched_new(&h);
    load_all(s, &h);
    idx_work_t r = resource_work(1, 10);
    waiter_t w = {0};
    idx_sched_request(s, &r, on_wait, &w);
    CHECK_EQ(idx_sched_done(s, &r, IDX_FAILED), 500);
    CHECK_EQ(w.calls, 0); /* not acknowledged: the index does not show it */
    CHECK_EQ(h.arms, 1);
    CHECK_EQ(h.armed_ms, 500);
    idx_sched_retry_due(s);
    CHECK_EQ(h.count, 3);
    CHECK_EQ(idx_sched_done(s, &r, IDX_FAILED), 1000); /* backs off */
    CHECK_EQ(w.calls, 0);
    idx_sched_retry_due(s);
    CHECK_EQ(idx_sched_done(s, &r, IDX_FAILED), 2000);
    idx_sched_retry_due(s);
    CHECK_EQ(idx_sched_done(s, &r, IDX_APPLIED), 0);
    CHECK_EQ(w.calls, 1);
    CHECK_EQ(w.status, 0);
    idx_sched_stats_t st;
    idx_sched_stats(s, &st);
    CHECK_EQ(st.failures, 3);
    CHECK_EQ(st.retries, 3);
    CHECK_EQ(st.backoff_ms, 0);
    CHECK_EQ(st.inflight_entries, 0);
    /* after a success the next failure starts from the first delay again */
    idx_sched_request(s, &r, NULL, NULL);
    CHECK_EQ(idx_sched_done(s, &r, IDX_FAILED), 500);
    idx_sched_close(s, ENG_EUNAVAILABLE);
}

TEST(index_sched_backoff_is_capped)
{
    host_t h;
    idx_sched_t *s = sched_new(&h);
    idx_work_t all = all_work();
    idx_sched_request(s, &all, NULL, NULL);
    uint64_t last = 0;
    for (int i = 0; i < 40; i++) {
        last = idx_sched_done(s, &all, IDX_FAILED);
        CHECK(last >= 500 && last <= 30000);
        idx_sched_retry_due(s);
    }
    CHECK_EQ(last, 30000);
    CHECK(!idx_sched_ready(s));
    idx_sched_done(s, &all, IDX_APPLIED);
    CHECK(idx_sched_ready(s));
    idx_sched_close(s, ENG_EUNAVAILABLE);
}

TEST(index_sched_reloads_wait_while_a_failed_rebuild_waits_for_its_retry)
{
    host_t h;
    idx_sched_t *s = sched_new(&h);
    load_all(s, &h);
    idx_work_t o = org_work(1), r = resource_work(1, 10);
    waiter_t ow = {0}, rw = {0};
    idx_sched_request(s, &o, on_wait, &ow);
    idx_sched_done(s, &o, IDX_FAILED);
    CHECK_EQ(ow.calls, 0);
    CHECK(idx_sched_covered(s, &o.org));
    idx_sched_request(s, &r, on_wait, &rw);
    CHECK_EQ(h.count, 2); /* deferred behind the rebuild's retry */
    idx_sched_retry_due(s);
    CHECK_EQ(h.count, 3);
    CHECK_EQ(h.started[2].kind, IDX_WORK_ORG);
    idx_sched_done(s, &o, IDX_APPLIED);
    CHECK_EQ(ow.calls, 1);
    CHECK_EQ(h.count, 4);
    CHECK_EQ(h.started[3].kind, IDX_WORK_RESOURCE);
    idx_sched_done(s, &r, IDX_APPLIED);
    CHECK_EQ(rw.calls, 1);
    idx_sched_close(s, ENG_EUNAVAILABLE);
}

TEST(index_sched_waiters_of_a_deleted_organization_are_released)
{
    host_t h;
    idx_sched_t *s = sched_new(&h);
    load_all(s, &h);
    idx_work_t o = org_work(1), r = resource_work(1, 10);
    waiter_t a = {0}, b = {0};
    idx_sched_request(s, &r, on_wait, &a); /* in flight */
    idx_sched_request(s, &o, NULL, NULL);  /* the organization is deleted meanwhile */
    idx_sched_request(s, &r, on_wait, &b); /* deferred behind the rebuild */
    idx_sched_done(s, &o, IDX_GONE);
    CHECK_EQ(b.calls, 1); /* the index shows the organization gone */
    CHECK_EQ(a.calls, 0);
    idx_sched_done(s, &r, IDX_GONE); /* the reload in flight finds it gone too */
    CHECK_EQ(a.calls, 1);
    idx_sched_stats_t st;
    idx_sched_stats(s, &st);
    CHECK_EQ(st.inflight_entries, 0);
    CHECK_EQ(st.deferred, 0);
    CHECK_EQ(st.waiters, 0);
    idx_sched_close(s, ENG_EUNAVAILABLE);
}

TEST(index_sched_unknown_organization_is_loaded_first)
{
    host_t h;
    idx_sched_t *s = sched_new(&h);
    load_all(s, &h);
    h.org_known = false;
    idx_work_t r = resource_work(7, 70);
    waiter_t w = {0};
    idx_sched_request(s, &r, on_wait, &w);
    CHECK_EQ(h.count, 2);
    CHECK_EQ(h.started[1].kind, IDX_WORK_ORG);
    h.org_known = true;
    idx_work_t o = org_work(7);
    idx_sched_done(s, &o, IDX_APPLIED);
    CHECK_EQ(h.started[2].kind, IDX_WORK_RESOURCE);
    idx_sched_done(s, &r, IDX_APPLIED);
    CHECK_EQ(w.calls, 1);
    idx_sched_close(s, ENG_EUNAVAILABLE);
}

TEST(index_sched_close_calls_every_waiter_with_a_status)
{
    host_t h;
    idx_sched_t *s = sched_new(&h);
    idx_work_t r = resource_work(1, 10), o = org_work(2);
    waiter_t a = {0}, b = {0}, c = {0};
    idx_sched_request(s, &r, on_wait, &a);
    idx_sched_request(s, &o, on_wait, &b);
    idx_sched_close(s, ENG_EUNAVAILABLE);
    CHECK_EQ(a.calls, 1);
    CHECK_EQ(a.status, ENG_EUNAVAILABLE);
    CHECK_EQ(b.calls, 1);
    CHECK_EQ(b.status, ENG_EUNAVAILABLE);
    (void)c;
}

/* Two organizations may hold objects with the same id (one copied from the other): their
 * reloads are each their own, and a waiter is released by its own organization's reload. */
TEST(index_sched_keeps_the_same_id_in_two_organizations_apart)
{
    host_t h;
    idx_sched_t *s = sched_new(&h);
    load_all(s, &h);
    idx_work_t a = resource_work(1, 10), b = resource_work(2, 10);
    waiter_t wa = {0}, wb = {0};
    idx_sched_request(s, &a, on_wait, &wa);
    idx_sched_request(s, &b, on_wait, &wb);
    int started = h.count;
    CHECK(same_started(&h, started - 2, &a) && same_started(&h, started - 1, &b));
    idx_sched_stats_t st;
    idx_sched_stats(s, &st);
    CHECK_EQ(st.inflight_entries, 2);
    idx_sched_done(s, &a, IDX_APPLIED);
    CHECK_EQ(wa.calls, 1);
    CHECK_EQ(wb.calls, 0); /* organization 2's object is not reloaded yet */
    idx_sched_done(s, &b, IDX_APPLIED);
    CHECK_EQ(wb.calls, 1);
    idx_sched_stats(s, &st);
    CHECK_EQ(st.inflight_entries, 0);
    idx_sched_close(s, ENG_EUNAVAILABLE);
}
