/*
 * The in-memory index (see index.h for what it keeps and when): its public
 * API, the queries it runs for the scheduler, and the LISTEN connection.
 *
 * The work scheduler (scheduler.c) decides what runs when; this file is its
 * host: it starts a rebuild (pages of the four load statements, applied by the
 * loader, loader.c, into organizations built aside and swapped in at the end)
 * or a reload (one query for one resource or service, applied in one step),
 * and reports each end back. It also logs: every failed query writes one JSON
 * line naming the work, the SQLSTATE and the delay before its retry.
 *
 * The index queries through a pool of its own, whose statement_timeout is the
 * load timeout rather than the request timeout: loading is not a request.
 *
 * The LISTEN connection (store/listen.c) hands every notification to
 * on_notification; when it (re)connects it asks for a full rebuild.
 */
#include "index/index.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "index/internal.h"
#include "index/load_statements.h"
#include "index/scheduler.h"
#include "store/listen.h"
#include "store/pool.h"
#include "slotd/alloc.h"
#include "slotd/codec.h"
#include "log/log.h"

/* The names the LISTEN block uses for work. */
typedef idx_work_kind_t work_kind_t;
#define WORK_ALL IDX_WORK_ALL
#define WORK_ORG IDX_WORK_ORG
#define WORK_RESOURCE IDX_WORK_RESOURCE
#define WORK_SERVICE IDX_WORK_SERVICE

#define ZERO_UUID "00000000-0000-0000-0000-000000000000"

/* One stream of pages through a key range: [after, hi) in (organization_id, id) order. */
typedef struct {
    char after_org[37], after_id[37]; /* the last key of the page before */
    const char *hi;                   /* organization ids below this, or NULL: all */
    bool done;
    bool held; /* its next page waits until the queue has room (QUEUED_MAX) */
} stream_t;

#define STREAMS 2

/* Pages received and not applied yet, at most: when PostgreSQL is faster than the loop, a
 * stream asks for its next page only once the loop has caught up, so a load holds a few
 * pages at a time whatever the size of the dataset. */
#define QUEUED_MAX 4

/* A page received and not applied yet: the pool's result, kept, and how far in (a resource
 * row is applied a few busy entries at a time: `resource` holds the rest). */
typedef struct {
    PGresult *res;
    int step, stream, row;
    bool in_row; /* the row's resource is begun and `resource` holds what is left of it */
    idx_resource_load_t resource;
} queued_page_t;

typedef struct {
    bool all;
    eng_id_t org;
    int step;
    uint64_t seq;              /* which rebuild a query's answer belongs to */
    stream_t streams[STREAMS]; /* the resources of a full rebuild come in two halves */
    int stream_count, pending;
    idmap_t built;
    index_org_t **orgs;
    size_t org_count, org_capacity;
    queued_page_t *queue; /* pages in the order they arrived: [head, queue_count) */
    size_t queue_head, queue_count, queue_capacity;
    uint64_t started_ns;
} rebuild_t;

/* A committed transaction's change of one resource's occupancy. */
/* A kind of change that satisfies a wait of any kind: one handed to a reload. */
#define CHANGE_ANY (-1)

typedef struct {
    uint64_t xid;
    eng_id_t org, resource;
    int kind; /* a store_change_kind_t, or CHANGE_ANY (seen only) */
} change_key_t;

/* A write waiting until the index shows its transaction's changes of one resource. */
typedef struct {
    change_key_t key;
    store_index_done_cb done;
    void *arg;
    uint64_t deadline_ns;
    bool shown; /* applied: told once the loop's turn has applied everything it received */
} change_wait_t;

/* A write whose change has not come by then waits for a reload of the resource instead. */
#define CHANGE_WAIT_MS 1000
/* Changes of the kinds writers wait for, applied or handed to a reload, are kept this long
 * (a write's answer may come after its notification), however many come meanwhile (a
 * sweep deletes a thousand holds at once), up to CHANGES_SEEN_MAX of them. */
#define CHANGES_SEEN_MS (2 * CHANGE_WAIT_MS)
#define CHANGES_SEEN_MIN 512
#define CHANGES_SEEN_MAX 65536

typedef struct {
    change_key_t key;
    bool applied; /* else a reload of the resource was asked for in its place */
    uint64_t at_ns;
} change_seen_t;

struct changes {
    change_wait_t *waits;
    size_t count, capacity;
    change_seen_t *seen; /* a ring of seen_capacity (a power of two), oldest at seen_first */
    size_t seen_first, seen_count, seen_capacity;
    uv_check_t check; /* tells the writes shown, at the end of the loop turn */
    uv_timer_t timer; /* hands writes that waited too long to a reload */
};

struct store_index {
    uv_loop_t *loop;
    store_index_notice_cb notice_cb; /* payloads of tables the index does not keep */
    void *notice_arg;
    store_pool_t *pool; /* the index's own */
    char *url;
    int page_rows;
    uint64_t budget_ns; /* loop time one turn may spend applying loads and freeing */
    idmap_t orgs;
    idmap_t reloads; /* resource or service id -> its reload_t while its query is queued or runs */
    index_org_t **org_list;
    size_t org_count, org_capacity;
    bool closing;
    idx_sched_t *sched;
    rebuild_t *rebuild;
    uint64_t rebuild_seq;
    struct aside *asides;  /* large resource reloads being built aside, oldest first */
    index_org_t **retired; /* replaced organizations, freed a few per turn */
    size_t retired_count, retired_capacity;
    uv_idle_t apply_idle; /* runs once per loop turn while pages or retired ones wait */
    uv_timer_t retry_timer;
    bool clock_frozen;
    char frozen_now[32]; /* RFC 3339, for the queries' $3 */
    store_index_stats_t stats;
    idx_tally_t tally;
    uv_prepare_t lag_prepare;
    uint64_t lag_last_ns, lag_last_idle_ns, lag_last_cpu_ns;
    store_listen_t *listen;
    struct changes changes; /* writes waiting for their transaction's changes */
    int open_handles;
    void (*on_closed)(void *);
    void *on_closed_arg;
};

static void request(store_index_t *ix, work_kind_t kind, const eng_id_t *org, const eng_id_t *id)
{
    if (ix->closing)
        return;
    idx_work_t w = {.kind = kind};
    if (org)
        w.org = *org;
    if (id)
        w.id = *id;
    idx_sched_request(ix->sched, &w, NULL, NULL);
}

/* ---- the public API ------------------------------------------------------------------------ */

index_org_t *store_index_org(store_index_t *ix, const eng_id_t *id)
{
    return ix->sched && idx_sched_ready(ix->sched) ? idmap_get(&ix->orgs, id) : NULL;
}

eng_org_t *index_org_engine(index_org_t *org)
{
    return org->engine;
}

eng_resource_t *index_org_resource(index_org_t *org, const eng_id_t *id)
{
    return idx_org_resource(org, id);
}

eng_location_t *index_org_location(index_org_t *org, const eng_id_t *id)
{
    return idx_org_location(org, id);
}

eng_service_t *index_org_service(index_org_t *org, const eng_id_t *id, bool *bookable)
{
    idx_service_entry_t *e = idmap_get(&org->services, id);
    if (e == NULL || e->deleted)
        return NULL;
    *bookable = e->bookable;
    return e->service;
}

bool store_index_ready(const store_index_t *ix)
{
    return ix->sched && idx_sched_ready(ix->sched);
}

void store_index_stats(const store_index_t *ix, store_index_stats_t *stats)
{
    *stats = ix->stats;
    stats->skipped_rows = ix->tally.skipped;
    idx_sched_stats_t ss = {0};
    if (ix->sched)
        idx_sched_stats(ix->sched, &ss);
    stats->load_failures = ss.failures;
    stats->organizations = ix->org_count;
    stats->resources = stats->services = stats->busy_entries = stats->busy_bytes = 0;
    /* from each organization's totals: visiting every resource of 10,000 organizations
     * would hold the loop for milliseconds */
    for (size_t i = 0; i < ix->org_count; i++) {
        index_org_t *org = ix->org_list[i];
        stats->resources += org->resources.count;
        stats->busy_entries += org->busy_entries;
        stats->busy_bytes += org->busy_bytes;
        stats->services += org->services.count;
    }
}

void store_index_refresh(store_index_t *ix, index_kind_t kind, const eng_id_t *org,
                         const eng_id_t *id, store_index_done_cb done, void *arg)
{
    idx_work_t w = {.kind = kind == INDEX_ORGANIZATION ? IDX_WORK_ORG
                            : kind == INDEX_RESOURCE   ? IDX_WORK_RESOURCE
                                                       : IDX_WORK_SERVICE,
                    .org = *org};
    if (kind != INDEX_ORGANIZATION)
        w.id = *id;
    if (ix->closing) {
        done(arg, ENG_EUNAVAILABLE);
        return;
    }
    idx_sched_request(ix->sched, &w, done, arg);
}

void store_index_freeze_clock(store_index_t *ix, int64_t now)
{
    tz_zone_t *utc;
    tz_zone_find("UTC", &utc);
    codec_format_instant(utc, now, ix->frozen_now, sizeof(ix->frozen_now));
    ix->clock_frozen = true;
    idx_freeze_series_clock(now);
}

/* ---- queries ------------------------------------------------------------------------------- */

static const char *clock_value(const store_index_t *ix)
{
    return ix->clock_frozen ? ix->frozen_now : NULL;
}

static const char *const work_names[] = {"rebuild all", "rebuild organization", "reload resource",
                                         "reload service"};

/* Reports a failed item to the scheduler, and logs it with the delay of its retry. */
static void failed(store_index_t *ix, const idx_work_t *w, const char *sqlstate)
{
    uint64_t delay = idx_sched_done(ix->sched, w, IDX_FAILED);
    char org[37] = "", id[37] = "";
    if (w->kind != IDX_WORK_ALL)
        codec_format_uuid(&w->org, org);
    if (w->kind == IDX_WORK_RESOURCE || w->kind == IDX_WORK_SERVICE)
        codec_format_uuid(&w->id, id);
    log_line_t line;
    log_begin(&line, LOG_WARN, "index_query_failed");
    log_str(&line, "work", work_names[w->kind]);
    log_str(&line, "organization_id", org);
    log_str(&line, "id", id);
    log_str(&line, "sqlstate", sqlstate ? sqlstate : "");
    log_int(&line, "retry_ms", (long long)delay);
    log_end(&line);
}

typedef struct {
    store_index_t *index;
    idx_work_t work;
    store_query_t *query; /* valid until on_reload runs */
} reload_t;

/*
 * A resource's reload too large for one turn of the loop (an imported calendar of thousands
 * of events and series): its busy time is built aside, in a scratch organization's resource,
 * a step per turn like a rebuild's rows, while queries keep being answered from the busy time
 * the resource had; then the row is applied to the resource and the busy time put in place in
 * one step (eng_resource_swap_busy). A rebuild that starts meanwhile, or an organization
 * replaced or gone, drops it (the work is deferred, as a reload's result would be).
 */
#define ASIDE_BYTES (128 * 1024) /* a row this large is loaded aside */

typedef struct aside {
    struct aside *next;
    idx_work_t work;
    PGresult *res;
    index_org_t *org; /* the organization when it began */
    eng_org_t *scratch;
    eng_resource_t *resource;
    idx_resource_load_t load;
    bool began;
} aside_t;

static bool row_is_large(const PGresult *res, int row)
{
    size_t bytes = 0;
    for (int col = 0; col < PQnfields(res); col++)
        bytes += (size_t)PQgetlength(res, row, col);
    return bytes >= ASIDE_BYTES;
}

static void aside_free(aside_t *a)
{
    PQclear(a->res);
    if (a->scratch)
        eng_org_free(a->scratch);
    free(a);
}

static void on_apply_idle(uv_idle_t *idle);

/* Takes a resource's reload result to build aside; false when it is not worth it. */
static bool load_aside(store_index_t *ix, index_org_t *org, const idx_work_t *w,
                       const PGresult *res)
{
    if (w->kind != IDX_WORK_RESOURCE || PQntuples(res) != 1 || !row_is_large(res, 0))
        return false;
    PGresult *kept = store_result_keep(res);
    if (kept == NULL)
        return false; /* applied at once then */
    char id[37];
    codec_format_uuid(&w->id, id);
    log_info("index_reload_aside", "resource_id", id, NULL);
    aside_t *a = slotd_calloc(1, sizeof(*a));
    a->work = *w;
    a->res = kept;
    a->org = org;
    aside_t **tail = &ix->asides;
    while (*tail)
        tail = &(*tail)->next;
    *tail = a;
    uv_idle_start(&ix->apply_idle, on_apply_idle);
    return true;
}

static void load_aside_step(store_index_t *ix);
static void relink_services(store_index_t *ix, index_org_t *org, const eng_id_t *id);

static void on_reload(const PGresult *res, const char *sqlstate, void *arg)
{
    reload_t *rl = arg;
    store_index_t *ix = rl->index;
    idx_work_t w = rl->work;
    if (idmap_get(&ix->reloads, &w.id) == rl)
        idmap_remove(&ix->reloads, &w.id);
    free(rl);
    if (ix->closing)
        return;
    if (res == NULL || sqlstate) {
        failed(ix, &w, sqlstate);
        return;
    }
    if (idx_sched_covered(ix->sched, &w.org)) {
        /* a rebuild started meanwhile, maybe from an older snapshot: load again after it */
        idx_sched_done(ix->sched, &w, IDX_DEFERRED);
        return;
    }
    index_org_t *org = idmap_get(&ix->orgs, &w.org);
    if (org == NULL) {
        idx_sched_done(ix->sched, &w, IDX_GONE);
        return;
    }
    if (load_aside(ix, org, &w, res))
        return; /* done in steps (load_aside_step) */
    for (int row = 0; row < PQntuples(res); row++) {
        if (w.kind == IDX_WORK_SERVICE) {
            idx_load_service(org, res, row, &ix->tally);
            continue;
        }
        eng_id_t id;
        /* a resource that just became usable may be named by services loaded before it:
         * reload those (only those) so that they link it */
        if (idx_load_resource(org, res, row, &id, &ix->tally))
            relink_services(ix, org, &id);
    }
    if (PQntuples(res) == 0 && w.kind == IDX_WORK_RESOURCE) {
        idx_resource_entry_t *e = idmap_get(&org->resources, &w.id);
        if (e) { /* gone from the database entirely */
            e->deleted = true;
            eng_resource_set_active(e->resource, false);
        }
    }
    ix->stats.reloads++;
    idx_sched_done(ix->sched, &w, IDX_APPLIED);
}

static void start_reload(store_index_t *ix, const idx_work_t *w)
{
    char org[37], id[37];
    codec_format_uuid(&w->org, org);
    codec_format_uuid(&w->id, id);
    reload_t *rl = slotd_malloc(sizeof(*rl));
    rl->index = ix;
    rl->work = *w;
    store_query_t *q;
    if (w->kind == IDX_WORK_RESOURCE) {
        const char *values[7] = {org, id, clock_value(ix), ZERO_UUID, ZERO_UUID, NULL, NULL};
        q = store_query_binary(ix->pool, "idx_resources", 7, values, on_reload, rl);
    } else {
        const char *values[5] = {org, id, ZERO_UUID, ZERO_UUID, NULL};
        q = store_query(ix->pool, "idx_services", 5, values, on_reload, rl);
    }
    if (q == NULL) {
        free(rl);
        failed(ix, w, NULL);
        return;
    }
    rl->query = q;
    if (idmap_get(&ix->reloads, &w->id) == NULL) /* else another organization's: never joined */
        idmap_put(&ix->reloads, &w->id, rl);
}

/* ---- rebuilds ------------------------------------------------------------------------------ */

static const char *const rebuild_statements[] = {"idx_orgs", "idx_locations", "idx_resources",
                                                 "idx_services"};

static void free_rebuild(rebuild_t *rb, bool with_orgs)
{
    for (size_t i = 0; with_orgs && i < rb->org_count; i++)
        idx_free_org(rb->orgs[i]);
    for (size_t i = rb->queue_head; i < rb->queue_count; i++)
        PQclear(rb->queue[i].res);
    free(rb->queue);
    idmap_free(&rb->built);
    free(rb->orgs);
    free(rb);
}

/* Hands an organization that was replaced to the loop turns that free it. */
static void retire(store_index_t *ix, index_org_t *org)
{
    ix->retired =
        slotd_grow(ix->retired, &ix->retired_capacity, ix->retired_count + 1, sizeof(*ix->retired));
    ix->retired[ix->retired_count++] = org;
}

static void finish_rebuild(store_index_t *ix)
{
    rebuild_t *rb = ix->rebuild;
    ix->rebuild = NULL;
    if (rb->all) {
        /* everything is replaced: the rebuild's map and list become the index's, in one
         * step whatever their size, and the old organizations are freed in later turns */
        ix->retired = slotd_grow(ix->retired, &ix->retired_capacity,
                                 ix->retired_count + ix->org_count, sizeof(*ix->retired));
        if (ix->org_count)
            memcpy(ix->retired + ix->retired_count, ix->org_list,
                   ix->org_count * sizeof(*ix->org_list));
        ix->retired_count += ix->org_count;
        idmap_free(&ix->orgs);
        free(ix->org_list);
        ix->orgs = rb->built;
        ix->org_list = rb->orgs;
        ix->org_count = rb->org_count;
        ix->org_capacity = rb->org_capacity;
        rb->built = (idmap_t){0};
        rb->orgs = NULL;
        rb->org_count = rb->org_capacity = 0;
    } else {
        for (size_t i = 0; i < ix->org_count; i++) {
            if (memcmp(&ix->org_list[i]->id, &rb->org, sizeof(eng_id_t)) == 0) {
                retire(ix, ix->org_list[i]);
                ix->org_list[i] = ix->org_list[--ix->org_count];
                break;
            }
        }
    }
    for (size_t i = 0; i < rb->org_count; i++) {
        ix->org_list =
            slotd_grow(ix->org_list, &ix->org_capacity, ix->org_count + 1, sizeof(*ix->org_list));
        ix->org_list[ix->org_count++] = rb->orgs[i];
        idmap_put(&ix->orgs, &rb->orgs[i]->id, rb->orgs[i]);
    }
    bool gone = !rb->all && rb->org_count == 0;
    if (gone) {
        /* the organization is gone: drop it from the map too */
        idmap_remove(&ix->orgs, &rb->org);
    }
    ix->stats.rebuilds++;
    if (rb->all) {
        bool first = !idx_sched_ready(ix->sched);
        store_index_stats_t st;
        store_index_stats(ix, &st);
        log_line_t line;
        log_begin(&line, LOG_INFO, first ? "index_loaded" : "index_reloaded");
        log_int(&line, "organizations", (long long)st.organizations);
        log_int(&line, "resources", (long long)st.resources);
        log_int(&line, "services", (long long)st.services);
        log_int(&line, "busy_entries", (long long)st.busy_entries);
        log_int(&line, "busy_bytes", (long long)st.busy_bytes);
        log_int(&line, "skipped_rows", (long long)st.skipped_rows);
        log_ms(&line, "ms", (double)(uv_hrtime() - rb->started_ns) / 1e6);
        log_end(&line);
        ix->stats.last_load_ms = (uv_hrtime() - rb->started_ns) / 1000000;
    }
    idx_work_t w = {.kind = rb->all ? IDX_WORK_ALL : IDX_WORK_ORG, .org = rb->org};
    free_rebuild(rb, false);
    idx_sched_done(ix->sched, &w, gone ? IDX_GONE : IDX_APPLIED);
}

/* The rebuild's organization a row of steps 1-3 belongs to, or NULL. */
static index_org_t *row_org(rebuild_t *rb, const PGresult *res, int row)
{
    eng_id_t org_id;
    return idx_parse_id(res, row, 0, &org_id) ? idmap_get(&rb->built, &org_id) : NULL;
}

/* Applies one step of the page's current row to the rebuild: a whole row, or a resource's
 * next STORE_INDEX_BUSY_PER_STEP busy entries; moves to the next row once the row is done. */
static void apply_step(store_index_t *ix, rebuild_t *rb, queued_page_t *page)
{
    const PGresult *res = page->res;
    int row = page->row;
    index_org_t *org = page->step == 0 ? NULL : row_org(rb, res, row);
    eng_id_t id;
    if (page->step == 0) {
        org = idx_load_org(res, row, &ix->tally);
        if (org) {
            idmap_put(&rb->built, &org->id, org);
            rb->orgs =
                slotd_grow(rb->orgs, &rb->org_capacity, rb->org_count + 1, sizeof(*rb->orgs));
            rb->orgs[rb->org_count++] = org;
        }
    } else if (org == NULL) {
        /* not an organization of this rebuild */
    } else if (page->step == 1) {
        idx_load_location(org, res, row, &ix->tally);
    } else if (page->step == 2) {
        if (!page->in_row)
            page->in_row = idx_resource_begin(org, res, row, &id, &page->resource, &ix->tally);
        if (page->in_row &&
            !idx_resource_busy(org, &page->resource, STORE_INDEX_BUSY_PER_STEP, &ix->tally))
            return; /* more of this resource next step */
        page->in_row = false;
    } else {
        idx_load_service(org, res, row, &ix->tally);
    }
    page->row++;
}

static void on_apply_idle(uv_idle_t *idle);
static bool release_held(store_index_t *ix);
static void rebuild_failed(store_index_t *ix, const char *sqlstate);

static bool has_work(const store_index_t *ix)
{
    return ix->retired_count > 0 || ix->asides != NULL ||
           (ix->rebuild && ix->rebuild->queue_head < ix->rebuild->queue_count);
}

/*
 * One loop turn's share of the work that would otherwise pause the loop: apply rows of
 * the pages received (in the order they came: organizations before their locations,
 * resources before the services naming them) and free organizations that were replaced,
 * until the turn's budget is spent; at least one row or organization each turn, so the
 * work always advances. A rebuild whose last page is applied is swapped in here.
 */
static void apply_some(store_index_t *ix)
{
    uint64_t started = uv_hrtime(), now = started;
    bool any = false;
    while (!any || now - started < ix->budget_ns) {
        rebuild_t *rb = ix->rebuild;
        if (rb && rb->queue_head < rb->queue_count) {
            queued_page_t *page = &rb->queue[rb->queue_head];
            if (page->row < PQntuples(page->res))
                apply_step(ix, rb, page);
            now = uv_hrtime();
            if (page->row >= PQntuples(page->res)) {
                PQclear(page->res);
                rb->queue_head++;
                if (!release_held(ix))
                    rebuild_failed(ix, NULL);
            }
        } else if (ix->asides) {
            load_aside_step(ix);
            now = uv_hrtime();
        } else if (ix->retired_count > 0) {
            idx_free_org(ix->retired[--ix->retired_count]);
            now = uv_hrtime();
        } else {
            break;
        }
        any = true;
    }
    if (any)
        ix->stats.apply_turns++;
    rebuild_t *rb = ix->rebuild;
    if (rb && rb->step == 4 && rb->pending == 0 && rb->queue_head == rb->queue_count)
        finish_rebuild(ix);
    if (has_work(ix))
        uv_idle_start(&ix->apply_idle, on_apply_idle);
    else
        uv_idle_stop(&ix->apply_idle);
}

/* The services that name a resource that just became usable link it once reloaded. */
static void relink_services(store_index_t *ix, index_org_t *org, const eng_id_t *id)
{
    for (size_t k = 0; k < org->services.capacity; k++) {
        idx_service_entry_t *se = org->services.entries[k].value;
        if (se && idx_service_names(se, id))
            request(ix, WORK_SERVICE, &org->id, &se->id);
    }
}

/* One step of the oldest reload built aside: its start, some of its busy time, or its end. */
static void load_aside_step(store_index_t *ix)
{
    aside_t *a = ix->asides;
    index_org_t *org = idmap_get(&ix->orgs, &a->work.org);
    bool covered = idx_sched_covered(ix->sched, &a->work.org);
    if (org != a->org || covered) {
        /* a rebuild runs: load again after it; replaced by one that ended meanwhile (whose
         * snapshot is newer): done; gone: gone */
        ix->asides = a->next;
        idx_sched_done(ix->sched, &a->work,
                       covered       ? IDX_DEFERRED
                       : org == NULL ? IDX_GONE
                                     : IDX_APPLIED);
        aside_free(a);
        return;
    }
    eng_id_t id;
    if (!a->began) {
        tz_zone_t *utc;
        tz_zone_find("UTC", &utc);
        a->scratch = eng_org_new(utc);
        eng_id_t zero = {{0}};
        a->resource = eng_resource_new(a->scratch, &zero, utc);
        a->began = true;
        if (!idx_resource_begin_aside(org, a->res, 0, &id, &a->load, a->resource, &ix->tally)) {
            ix->asides = a->next;
            idx_sched_done(ix->sched, &a->work, IDX_APPLIED);
            aside_free(a);
        }
        return;
    }
    if (!idx_resource_busy(org, &a->load, STORE_INDEX_BUSY_PER_STEP, &ix->tally))
        return; /* more next step */
    /* the row itself into the organization's resource, then the busy time built aside */
    idx_resource_load_t live;
    ix->asides = a->next;
    if (idx_resource_begin(org, a->res, 0, &id, &live, &ix->tally)) {
        eng_resource_swap_busy(live.resource, a->resource);
        org->busy_entries += eng_resource_busy_count(live.resource);
        org->busy_bytes += eng_resource_busy_bytes(live.resource);
        if (live.became_usable)
            relink_services(ix, org, &id);
    }
    ix->stats.reloads++;
    idx_sched_done(ix->sched, &a->work, IDX_APPLIED);
    aside_free(a);
}

static void on_apply_idle(uv_idle_t *idle)
{
    store_index_t *ix = idle->data;
    if (!ix->closing)
        apply_some(ix);
}

static void rebuild_failed(store_index_t *ix, const char *sqlstate)
{
    rebuild_t *rb = ix->rebuild;
    /* try the whole rebuild again after the scheduler's delay */
    idx_work_t w = {.kind = rb->all ? IDX_WORK_ALL : IDX_WORK_ORG, .org = rb->org};
    free_rebuild(rb, true);
    ix->rebuild = NULL;
    failed(ix, &w, sqlstate);
}

/* A page asked for: which rebuild and which of its streams. */
typedef struct {
    store_index_t *index;
    uint64_t seq;
    int stream;
} page_t;

static bool rebuild_send(store_index_t *ix, int stream);

/* Starts the streams of the rebuild's current step. */
static bool step_start(store_index_t *ix)
{
    rebuild_t *rb = ix->rebuild;
    static const char *const middle_org = "7fffffff-ffff-ffff-ffff-ffffffffffff",
                             *const middle_id = "ffffffff-ffff-ffff-ffff-ffffffffffff",
                             *const middle = "80000000-0000-0000-0000-000000000000";
    rb->stream_count = rb->all && rb->step == 2 ? STREAMS : 1;
    for (int i = 0; i < rb->stream_count; i++) {
        stream_t *st = &rb->streams[i];
        *st = (stream_t){0};
        snprintf(st->after_org, sizeof(st->after_org), "%s", i == 0 ? ZERO_UUID : middle_org);
        snprintf(st->after_id, sizeof(st->after_id), "%s", i == 0 ? ZERO_UUID : middle_id);
        st->hi = rb->stream_count > 1 && i == 0 ? middle : NULL;
    }
    rb->pending = 0;
    for (int i = 0; i < rb->stream_count; i++)
        if (!rebuild_send(ix, i))
            return false;
    return true;
}

/* Asks for the next page of every stream held back, while the queue has room; false when
 * the pool refuses. */
static bool release_held(store_index_t *ix)
{
    rebuild_t *rb = ix->rebuild;
    for (int i = 0; rb && i < rb->stream_count; i++) {
        if (!rb->streams[i].held || rb->queue_count - rb->queue_head >= QUEUED_MAX)
            continue;
        rb->streams[i].held = false;
        if (!rebuild_send(ix, i))
            return false;
    }
    return true;
}

/* A page arrived: ask for the stream's next one at once (PostgreSQL prepares it while
 * the loop applies this one) unless the queue is full, and queue this one, to be applied
 * a budget at a time over the next loop turns (apply_some). The page is the pool's
 * result itself, kept rather than copied: this callback does no work that grows with
 * the page. */
static void on_rebuild_rows(const PGresult *res, const char *sqlstate, void *arg)
{
    page_t page = *(page_t *)arg;
    free(arg);
    store_index_t *ix = page.index;
    rebuild_t *rb = ix->rebuild;
    if (ix->closing || rb == NULL || rb->seq != page.seq)
        return; /* an answer for a rebuild that failed meanwhile */
    rb->pending--;
    if (res == NULL || sqlstate) {
        rebuild_failed(ix, sqlstate);
        return;
    }
    stream_t *st = &rb->streams[page.stream];
    int rows = PQntuples(res), step = rb->step;
    bool sent = true;
    if (rows == ix->page_rows) {
        /* a full page: the next one starts after its last key */
        eng_id_t last_org = {{0}}, last_id = {{0}};
        if (step > 0)
            idx_parse_id(res, rows - 1, 0, &last_org);
        idx_parse_id(res, rows - 1, step == 0 ? 0 : 1, &last_id);
        codec_format_uuid(&last_org, st->after_org);
        codec_format_uuid(&last_id, st->after_id);
        if (rb->queue_count - rb->queue_head + 1 < QUEUED_MAX)
            sent = rebuild_send(ix, page.stream);
        else
            st->held = true;
    } else {
        st->done = true;
    }
    bool step_done = true;
    for (int i = 0; i < rb->stream_count; i++)
        step_done &= rb->streams[i].done;
    if (step_done && sent) {
        rb->step++;
        if (rb->step < 4)
            sent = step_start(ix);
    }
    if (!sent) {
        rebuild_failed(ix, NULL);
        return;
    }
    PGresult *kept = rows ? store_result_keep(res) : NULL;
    if (rows && kept == NULL) /* refused only outside a query callback: copy, to be safe */
        kept = PQcopyResult(res, PG_COPYRES_ATTRS | PG_COPYRES_TUPLES);
    if (rows && kept == NULL)
        slotd_out_of_memory();
    if (kept) {
        if (rb->queue_head == rb->queue_count)
            rb->queue_head = rb->queue_count = 0;
        rb->queue =
            slotd_grow(rb->queue, &rb->queue_capacity, rb->queue_count + 1, sizeof(*rb->queue));
        rb->queue[rb->queue_count++] =
            (queued_page_t){.res = kept, .step = step, .stream = page.stream};
    }
    /* an empty last page may finish the rebuild: apply_some swaps it in */
    uv_idle_start(&ix->apply_idle, on_apply_idle);
}

/* Asks for the next page of one stream of the current step; false when the pool refuses. */
static bool rebuild_send(store_index_t *ix, int stream)
{
    rebuild_t *rb = ix->rebuild;
    stream_t *st = &rb->streams[stream];
    char org[37], limit[16];
    codec_format_uuid(&rb->org, org);
    snprintf(limit, sizeof(limit), "%d", ix->page_rows);
    const char *only = rb->all ? NULL : org;
    const char *values[7];
    int count;
    if (rb->step == 0) {
        values[0] = only, values[1] = st->after_id, values[2] = limit;
        count = 3;
    } else if (rb->step == 1) {
        values[0] = only, values[1] = st->after_org, values[2] = st->after_id, values[3] = limit;
        count = 4;
    } else if (rb->step == 2) {
        values[0] = only, values[1] = NULL, values[2] = clock_value(ix);
        values[3] = st->after_org, values[4] = st->after_id, values[5] = limit;
        values[6] = st->hi;
        count = 7;
    } else {
        values[0] = only, values[1] = NULL, values[2] = st->after_org, values[3] = st->after_id;
        values[4] = limit;
        count = 5;
    }
    page_t *page = slotd_malloc(sizeof(*page));
    *page = (page_t){ix, rb->seq, stream};
    store_query_t *(*query)(store_pool_t *, const char *, int, const char *const *, store_query_cb,
                            void *) =
        rb->step == 2 ? store_query_binary : store_query; /* see idx_resources */
    if (query(ix->pool, rebuild_statements[rb->step], count, values, on_rebuild_rows, page) ==
        NULL) {
        free(page);
        return false;
    }
    rb->pending++;
    return true;
}

static void start_rebuild(store_index_t *ix, const idx_work_t *w)
{
    rebuild_t *rb = slotd_calloc(1, sizeof(*rb));
    rb->all = w->kind == IDX_WORK_ALL;
    rb->org = w->org;
    rb->seq = ++ix->rebuild_seq;
    rb->started_ns = uv_hrtime();
    ix->rebuild = rb;
    if (!step_start(ix))
        rebuild_failed(ix, NULL);
}

/* ---- the scheduler's host ----------------------------------------------------------------- */

static void host_start(void *host, const idx_work_t *w)
{
    store_index_t *ix = host;
    if (w->kind == IDX_WORK_ALL || w->kind == IDX_WORK_ORG)
        start_rebuild(ix, w);
    else
        start_reload(ix, w);
}

static bool host_not_sent(void *host, const idx_work_t *w)
{
    store_index_t *ix = host;
    const reload_t *rl = idmap_get(&ix->reloads, &w->id);
    return rl && rl->work.kind == w->kind && memcmp(&rl->work.org, &w->org, sizeof(w->org)) == 0 &&
           !store_query_sent(rl->query);
}

static bool host_org_known(void *host, const eng_id_t *org)
{
    return idmap_get(&((store_index_t *)host)->orgs, org) != NULL;
}

static void on_retry_timer(uv_timer_t *timer)
{
    store_index_t *ix = timer->data;
    if (!ix->closing)
        idx_sched_retry_due(ix->sched);
}

static void host_arm_retry(void *host, uint64_t delay_ms)
{
    store_index_t *ix = host;
    uv_timer_start(&ix->retry_timer, on_retry_timer, delay_ms, 0);
}

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The loop's longest pause: once per loop turn, just before the loop waits for I/O, the
 * time since the previous turn less the time the loop spent waiting (libuv's idle-time
 * metric; the service turns it on) is the time callbacks held the loop. Nothing wakes an
 * idle loop for it. The thread's CPU time over the same turn tells work on the loop from
 * the process waiting for a core while it was runnable, which counts in the pause too; the
 * longest pause keeps its own turn's CPU time beside it, so the two can be read together. */
static void on_lag_prepare(uv_prepare_t *prepare)
{
    store_index_t *ix = prepare->data;
    uint64_t now = uv_hrtime(), idle = uv_metrics_idle_time(ix->loop), cpu = thread_cpu_ns();
    if (ix->lag_last_ns) {
        uint64_t waited = idle - ix->lag_last_idle_ns;
        uint64_t elapsed = now - ix->lag_last_ns;
        uint64_t busy_us = (elapsed > waited ? elapsed - waited : 0) / 1000;
        uint64_t cpu_us = (cpu > ix->lag_last_cpu_ns ? cpu - ix->lag_last_cpu_ns : 0) / 1000;
        if (busy_us > ix->stats.loop_max_pause_us) {
            ix->stats.loop_max_pause_us = busy_us;
            ix->stats.loop_max_pause_cpu_us = cpu_us;
        }
        if (cpu_us > ix->stats.loop_max_turn_cpu_us)
            ix->stats.loop_max_turn_cpu_us = cpu_us;
    }
    ix->lag_last_ns = now;
    ix->lag_last_idle_ns = idle;
    ix->lag_last_cpu_ns = cpu;
}

void store_index_reset_pause(store_index_t *ix)
{
    ix->stats.loop_max_pause_us = 0;
    ix->stats.loop_max_turn_cpu_us = 0;
    ix->stats.loop_max_pause_cpu_us = 0;
    ix->lag_last_ns = 0;
}

static void handle_closed(uv_handle_t *handle);

/* ---- life ---------------------------------------------------------------------------------- */

static void free_index(store_index_t *ix)
{
    void (*cb)(void *) = ix->on_closed;
    void *arg = ix->on_closed_arg;
    for (size_t i = 0; i < ix->org_count; i++)
        idx_free_org(ix->org_list[i]);
    free(ix->org_list);
    for (size_t i = 0; i < ix->retired_count; i++)
        idx_free_org(ix->retired[i]);
    free(ix->retired);
    idmap_free(&ix->orgs);
    idmap_free(&ix->reloads);
    free(ix->url);
    free(ix->changes.waits);
    free(ix->changes.seen);
    free(ix);
    if (cb)
        cb(arg);
}

static void handle_closed(uv_handle_t *handle)
{
    store_index_t *ix = handle->data;
    if (--ix->open_handles == 0 && ix->closing)
        free_index(ix);
}

static void on_pool_closed(void *arg)
{
    store_index_t *ix = arg;
    if (--ix->open_handles == 0 && ix->closing)
        free_index(ix);
}

/* ---- LISTEN (store/listen.c) ------------------------------------------------------------- */

void store_index_on_notice(store_index_t *ix, store_index_notice_cb cb, void *arg)
{
    ix->notice_cb = cb;
    ix->notice_arg = arg;
}

/* One entry of an occupancy notification (migration 0023): [id, padded start, padded end,
 * start, end, stamp, booking, active], instants in microseconds since 1970. False when it
 * cannot be read or its padded range is not finite; *active false: it holds nothing. */
static bool change_entry(json_t *e, eng_busy_t *busy, bool *active)
{
    eng_id_t id;
    json_t *v[8];
    if (!json_is_array(e) || json_array_size(e) != 8)
        return false;
    for (size_t i = 0; i < 8; i++)
        v[i] = json_array_get(e, i);
    if (!json_is_string(v[0]) || codec_parse_uuid(json_string_value(v[0]), &id) != 0 ||
        !json_is_integer(v[1]) || !json_is_integer(v[2]) || !json_is_boolean(v[6]) ||
        !json_is_boolean(v[7]))
        return false;
    for (size_t i = 1; i <= 5; i++) /* instants past what the engine holds: not read */
        if (json_is_integer(v[i]) && llabs(json_integer_value(v[i])) > (1LL << 62))
            return false;
    bool timed = json_is_integer(v[3]) && json_is_integer(v[4]);
    int64_t lower = idx_seconds_of_us(json_integer_value(v[1]));
    int64_t upper = idx_seconds_of_us(json_integer_value(v[2]));
    int64_t start = timed ? idx_seconds_of_us(json_integer_value(v[3])) : 0;
    int64_t end = timed ? idx_seconds_of_us(json_integer_value(v[4])) : 0;
    int64_t stamp = json_is_integer(v[5]) ? idx_seconds_of_us(json_integer_value(v[5])) : 0;
    idx_occupancy_busy(lower, upper, timed, start, end, stamp, json_is_true(v[6]), &id, busy);
    *active = json_is_true(v[7]);
    return true;
}

/*
 * Applies a change of a resource's occupancy as notified, in place of a reload: the row
 * before leaves the resource's busy time, the row after joins it. Changes arrive from the log
 * (store/listen.c) in the order written, and the changes of one row in the order their
 * transactions committed, so applied one by one they keep the busy time what the database holds, as
 * long as nothing applied later predates them: false (the caller reloads the resource, as
 * for any other change) when a reload of the resource runs or is due (its snapshot may
 * predate this change), when a rebuild covers the organization, when the resource is not in
 * the index, or when the change cannot be read. A change that arrives after a reload whose
 * snapshot already held it is applied again, which ends where the database is: the same
 * entries leave and join in the same order.
 */
static bool apply_change(store_index_t *ix, const eng_id_t *org_id, const eng_id_t *resource,
                         json_t *j)
{
    json_t *old = json_object_get(j, "old"), *now = json_object_get(j, "new");
    if ((old == NULL && now == NULL) || !idx_sched_ready(ix->sched) ||
        idx_sched_covered(ix->sched, org_id) || idx_sched_reloading(ix->sched, org_id, resource))
        return false;
    index_org_t *org = idmap_get(&ix->orgs, org_id);
    eng_resource_t *r = org ? idx_org_resource(org, resource) : NULL;
    eng_busy_t before, after;
    bool before_active = false, after_active = false;
    if (r == NULL || (old && !change_entry(old, &before, &before_active)) ||
        (now && !change_entry(now, &after, &after_active)))
        return false;
    size_t count = eng_resource_busy_count(r), bytes = eng_resource_busy_bytes(r);
    if (before_active)
        eng_resource_remove_busy(r, &before); /* absent when a reload already dropped it */
    int rc = after_active ? eng_resource_add_busy(r, &after) : 0;
    if (rc == ENG_EEXISTS) { /* a reload already added it: take this one */
        eng_resource_remove_busy(r, &after);
        rc = eng_resource_add_busy(r, &after);
    }
    org->busy_entries = org->busy_entries - count + eng_resource_busy_count(r);
    org->busy_bytes = org->busy_bytes - bytes + eng_resource_busy_bytes(r);
    if (rc != 0)
        return false; /* refused by the engine: a reload skips and counts it */
    ix->stats.changes++;
    return true;
}

/* ---- writes waiting for their transaction's changes --------------------------------------- */

/* Whether change `seen` is what `wait` waits for. */
static bool same_change(const change_key_t *seen, const change_key_t *wait)
{
    return seen->xid == wait->xid && (seen->kind == CHANGE_ANY || seen->kind == wait->kind) &&
           memcmp(&seen->org, &wait->org, sizeof(seen->org)) == 0 &&
           memcmp(&seen->resource, &wait->resource, sizeof(seen->resource)) == 0;
}

/* A wait handed to the scheduler: told once a reload of the resource that reaches the
 * database after now is applied (the transaction committed before). */
static void wait_for_reload(store_index_t *ix, const change_wait_t *wait)
{
    idx_work_t w = {.kind = IDX_WORK_RESOURCE, .org = wait->key.org, .id = wait->key.resource};
    idx_sched_request(ix->sched, &w, wait->done, wait->arg);
}

static void remove_wait(struct changes *c, size_t i)
{
    c->waits[i] = c->waits[--c->count];
}

/* Tells the writes whose changes this turn applied; they are told after the turn, so that
 * every change of their transaction the turn received is applied first. */
static void on_changes_check(uv_check_t *check)
{
    store_index_t *ix = check->data;
    struct changes *c = &ix->changes;
    uv_check_stop(check);
    for (size_t i = 0; i < c->count;) {
        if (!c->waits[i].shown) {
            i++;
            continue;
        }
        change_wait_t wait = c->waits[i];
        remove_wait(c, i);
        wait.done(wait.arg, 0); /* may add waits: they go at the end */
    }
}

/* Writes that waited past CHANGE_WAIT_MS for their change (a notification lost, or a
 * transaction that changed nothing the index keeps) wait for a reload instead. */
static void on_changes_timer(uv_timer_t *timer)
{
    store_index_t *ix = timer->data;
    struct changes *c = &ix->changes;
    uint64_t now = uv_hrtime();
    for (size_t i = 0; i < c->count;) {
        if (c->waits[i].shown || c->waits[i].deadline_ns > now) {
            i++;
            continue;
        }
        change_wait_t wait = c->waits[i];
        remove_wait(c, i);
        wait_for_reload(ix, &wait);
    }
    if (c->count == 0)
        uv_timer_stop(timer);
}

/* Every write still waiting for a change waits for a reload (after the LISTEN connection was
 * lost: its change may never come). */
static void changes_to_reloads(store_index_t *ix)
{
    struct changes *c = &ix->changes;
    while (c->count > 0) {
        change_wait_t wait = c->waits[--c->count];
        if (wait.shown)
            wait.done(wait.arg, 0);
        else
            wait_for_reload(ix, &wait);
    }
}

/* A transaction's change of a resource, applied (or, not applied, handed to a reload): the
 * writes waiting for it follow it. */
static void change_seen(store_index_t *ix, const change_key_t *key, bool applied)
{
    struct changes *c = &ix->changes;
    uint64_t now = uv_hrtime();
    while (c->seen_count > 0 &&
           c->seen[c->seen_first].at_ns + CHANGES_SEEN_MS * 1000000ull <= now) {
        c->seen_first = (c->seen_first + 1) & (c->seen_capacity - 1);
        c->seen_count--;
    }
    if (c->seen_count == c->seen_capacity && c->seen_capacity < CHANGES_SEEN_MAX) {
        size_t capacity = c->seen_capacity ? c->seen_capacity * 2 : CHANGES_SEEN_MIN;
        change_seen_t *grown = slotd_calloc(capacity, sizeof(*grown));
        for (size_t n = 0; n < c->seen_count; n++)
            grown[n] = c->seen[(c->seen_first + n) & (c->seen_capacity - 1)];
        free(c->seen);
        c->seen = grown;
        c->seen_capacity = capacity;
        c->seen_first = 0;
    } else if (c->seen_count == c->seen_capacity) { /* full of young ones: the oldest goes */
        c->seen_first = (c->seen_first + 1) & (c->seen_capacity - 1);
        c->seen_count--;
    }
    c->seen[(c->seen_first + c->seen_count++) & (c->seen_capacity - 1)] =
        (change_seen_t){.key = *key, .applied = applied, .at_ns = now};
    for (size_t i = 0; i < c->count;) {
        if (!same_change(key, &c->waits[i].key)) {
            i++;
        } else if (applied) {
            c->waits[i++].shown = true;
            uv_check_start(&c->check, on_changes_check);
        } else {
            change_wait_t wait = c->waits[i];
            remove_wait(c, i);
            wait_for_reload(ix, &wait);
        }
    }
}

void store_index_await_change(store_index_t *ix, const eng_id_t *org, const eng_id_t *resource,
                              store_change_t change, store_index_done_cb done, void *arg)
{
    if (ix->closing) {
        done(arg, ENG_EUNAVAILABLE);
        return;
    }
    /* the change is committed: every index reads it from the log now, this one too */
    store_listen_wake(ix->listen);
    change_wait_t wait = {
        .key = {.xid = change.xid, .org = *org, .resource = *resource, .kind = (int)change.kind},
        .done = done,
        .arg = arg,
        .deadline_ns = uv_hrtime() + CHANGE_WAIT_MS * 1000000ull};
    struct changes *c = &ix->changes;
    /* the newest first: the last word on the key */
    for (size_t n = c->seen_count; n-- > 0;) {
        size_t i = (c->seen_first + n) & (c->seen_capacity - 1);
        if (!same_change(&c->seen[i].key, &wait.key))
            continue;
        if (c->seen[i].applied)
            done(arg, 0);
        else
            wait_for_reload(ix, &wait);
        return;
    }
    c->waits = slotd_grow(c->waits, &c->capacity, c->count + 1, sizeof(*c->waits));
    c->waits[c->count++] = wait;
    if (!uv_is_active((uv_handle_t *)&c->timer))
        uv_timer_start(&c->timer, on_changes_timer, CHANGE_WAIT_MS / 4, CHANGE_WAIT_MS / 4);
}

/* No kind a writer waits for (a row inactive before and after). */
#define CHANGE_NONE (-2)

/* The kind of an occupancy change as a writer waits for it: a booking's or a hold's active
 * row there (inserted, moved there, made active) or gone (deleted, moved away, made inactive;
 * entries: [id, padded start, padded end, start, end, stamp, booking, active]). */
static int change_kind(json_t *change)
{
    json_t *before = json_object_get(change, "old"), *after = json_object_get(change, "new");
    bool was = json_is_true(json_array_get(before, 7)), is = json_is_true(json_array_get(after, 7));
    if (is)
        return json_is_true(json_array_get(after, 6)) ? STORE_CHANGE_BOOKED : STORE_CHANGE_HELD;
    if (was)
        return json_is_true(json_array_get(before, 6)) ? STORE_CHANGE_UNBOOKED
                                                       : STORE_CHANGE_UNHELD;
    return CHANGE_NONE;
}

static void on_notification(const char *payload, void *arg)
{
    store_index_t *ix = arg;
    json_t *j = json_loads(payload, 0, NULL);
    const char *table = json_string_value(json_object_get(j, "table"));
    eng_id_t org, id;
    bool has_org =
        codec_parse_uuid(json_string_value(json_object_get(j, "organization_id")) ?: "", &org) == 0;
    const char *id_text = json_string_value(json_object_get(j, "id"));
    const char *resource_text = json_string_value(json_object_get(j, "resource_id"));
    if (table && has_org && strcmp(table, "api_keys") == 0) {
        if (ix->notice_cb)
            ix->notice_cb(ix->notice_arg, table, &org);
    } else if (table && has_org) {
        if (strcmp(table, "organizations") == 0 || strcmp(table, "locations") == 0)
            request(ix, WORK_ORG, &org, NULL);
        else if (strcmp(table, "resources") == 0 && id_text && codec_parse_uuid(id_text, &id) == 0)
            request(ix, WORK_RESOURCE, &org, &id);
        else if (resource_text && codec_parse_uuid(resource_text, &id) == 0) {
            bool occupancy = strcmp(table, "occupancy") == 0;
            bool applied = occupancy && apply_change(ix, &org, &id, j);
            if (!applied)
                request(ix, WORK_RESOURCE, &org, &id);
            const char *xid = json_string_value(json_object_get(j, "xid"));
            int kind = applied ? change_kind(j) : CHANGE_ANY;
            if (occupancy && xid && *xid && kind != CHANGE_NONE) {
                change_key_t key = {
                    .xid = strtoull(xid, NULL, 10), .org = org, .resource = id, .kind = kind};
                change_seen(ix, &key, applied);
            }
        } else if ((strcmp(table, "services") == 0 || strcmp(table, "service_requirements") == 0) &&
                   id_text && codec_parse_uuid(id_text, &id) == 0)
            request(ix, WORK_SERVICE, &org, &id);
    }
    json_decref(j);
}

/* Listening (again): notifications may have been missed meanwhile, so load everything. */
static void on_listen_connected(void *arg)
{
    store_index_t *ix = arg;
    request(ix, WORK_ALL, NULL, NULL);
    changes_to_reloads(ix);     /* their changes may have been missed */
    ix->changes.seen_count = 0; /* and the database may be another (a failover) */
    if (ix->notice_cb)          /* whatever else was announced meanwhile is unknown too */
        ix->notice_cb(ix->notice_arg, "api_keys", NULL);
}

static void on_listen_closed(void *arg)
{
    store_index_t *ix = arg;
    if (--ix->open_handles == 0 && ix->closing)
        free_index(ix);
}

store_index_t *store_index_new(const store_index_options_t *options)
{
    store_index_t *ix = slotd_calloc(1, sizeof(*ix));
    ix->loop = options->loop;
    ix->url = slotd_strdup(options->url);
    ix->page_rows = options->page_rows > 0 ? options->page_rows : 200;
    ix->budget_ns =
        (options->apply_budget_us > 0 ? (uint64_t)options->apply_budget_us : 2000) * 1000;
    store_pool_options_t pool = {
        .url = options->url,
        .size = 2,
        .statement_timeout_ms = options->load_timeout_ms > 0 ? options->load_timeout_ms : 60000,
        .statements = idx_load_statements,
        .statement_count = idx_load_statement_count,
        .max_queue = 1000000};
    ix->pool = store_pool_new(ix->loop, &pool);
    idx_sched_host_t host = {host_start, host_org_known, host_arm_retry, ix, host_not_sent};
    ix->sched = idx_sched_new(&host);
    uv_timer_init(ix->loop, &ix->retry_timer);
    ix->retry_timer.data = ix;
    uv_prepare_init(ix->loop, &ix->lag_prepare);
    ix->lag_prepare.data = ix;
    uv_prepare_start(&ix->lag_prepare, on_lag_prepare);
    uv_unref((uv_handle_t *)&ix->lag_prepare);
    uv_idle_init(ix->loop, &ix->apply_idle);
    ix->apply_idle.data = ix;
    uv_check_init(ix->loop, &ix->changes.check);
    ix->changes.check.data = ix;
    uv_timer_init(ix->loop, &ix->changes.timer);
    ix->changes.timer.data = ix;
    /* the retry timer, the loop-pause and idle handles, the pool, LISTEN, the changes' check
     * and timer */
    ix->open_handles = 7;
    /* the first full load starts once LISTEN is in place */
    ix->listen = store_listen_start(ix->loop, options->url, "slotd_changes", on_notification,
                                    on_listen_connected, ix);
    return ix;
}

void store_index_close(store_index_t *ix, void (*on_closed)(void *), void *arg)
{
    ix->closing = true;
    log_line_t line; /* what the index did while it ran */
    log_begin(&line, LOG_INFO, "index_closed");
    log_int(&line, "reloads", (long long)ix->stats.reloads);
    log_int(&line, "rebuilds", (long long)ix->stats.rebuilds);
    log_int(&line, "changes", (long long)ix->stats.changes);
    store_listen_stats_t heard;
    store_listen_stats(ix->listen, &heard);
    log_int(&line, "log_reads", (long long)heard.reads);
    log_int(&line, "wakes_sent", (long long)heard.wakes);
    log_end(&line);
    ix->on_closed = on_closed;
    ix->on_closed_arg = arg;
    /* whoever still waits is told the index will not show their write */
    while (ix->changes.count > 0) {
        change_wait_t wait = ix->changes.waits[--ix->changes.count];
        wait.done(wait.arg, wait.shown ? 0 : ENG_EUNAVAILABLE);
    }
    idx_sched_close(ix->sched, ENG_EUNAVAILABLE);
    ix->sched = NULL;
    if (ix->rebuild) {
        free_rebuild(ix->rebuild, true);
        ix->rebuild = NULL;
    }
    while (ix->asides) {
        aside_t *a = ix->asides;
        ix->asides = a->next;
        aside_free(a);
    }
    store_listen_close(ix->listen, on_listen_closed, ix);
    store_pool_close(ix->pool, on_pool_closed, ix);
    uv_timer_stop(&ix->retry_timer);
    uv_prepare_stop(&ix->lag_prepare);
    uv_idle_stop(&ix->apply_idle);
    uv_close((uv_handle_t *)&ix->apply_idle, handle_closed);
    uv_close((uv_handle_t *)&ix->retry_timer, handle_closed);
    uv_close((uv_handle_t *)&ix->lag_prepare, handle_closed);
    uv_close((uv_handle_t *)&ix->changes.check, handle_closed);
    uv_close((uv_handle_t *)&ix->changes.timer, handle_closed);
}
