/*
 * The in-memory index (see index.h for what it keeps and when).
 *
 * Work items. Everything the index does is one of: rebuild all organizations,
 * rebuild one organization, reload one resource, reload one service. At most
 * one rebuild runs at a time; reloads that arrive meanwhile wait in `deferred`
 * and run after the swap (the rebuild's snapshot may predate them). Reloads of
 * one object are coalesced: while one is in flight a second request only marks
 * it dirty, and it runs once more when the first lands. A failed query puts its
 * item on the retry list, which a timer drains.
 *
 * The LISTEN connection is a small state machine of its own (connect, LISTEN,
 * read notifications); when it (re)connects it asks for a full rebuild.
 */
#include "store/index.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slotd/alloc.h"
#include "slotd/codec.h"
#include "store/idmap.h"

typedef enum { WORK_ALL, WORK_ORG, WORK_RESOURCE, WORK_SERVICE } work_kind_t;

typedef struct {
    work_kind_t kind;
    eng_id_t org, id;
} work_t;

/* Work waiting for something: for a rebuild to finish, or for a retry. */
typedef struct {
    work_t *items;
    size_t count, capacity;
} work_list_t;

typedef struct {
    eng_id_t id;
    eng_resource_t *resource;
    bool deleted;
} resource_entry_t;

typedef struct {
    eng_id_t id;
    eng_service_t *service;
    bool deleted, bookable;
} service_entry_t;

typedef struct {
    eng_id_t id;
    eng_location_t *location;
    bool deleted;
} location_entry_t;

struct index_org {
    eng_id_t id;
    eng_org_t *engine;
    idmap_t resources, services, locations;
    void **owned; /* every entry, for freeing */
    size_t owned_count, owned_capacity;
};

typedef struct {
    void (*done)(void *);
    void *arg;
} waiter_t;

/* Someone waiting for an organization's next rebuild; armed once a rebuild that
 * started after the wait began is running. */
typedef struct {
    eng_id_t org;
    waiter_t waiter;
    bool armed;
} org_waiter_t;

typedef struct {
    bool loading, dirty;
    waiter_t *current, *next; /* waiting for the reload in flight / the one after it */
    size_t current_count, next_count, next_capacity;
} inflight_t;

typedef struct {
    bool all;
    eng_id_t org;
    int step;
    idmap_t built;
    index_org_t **orgs;
    size_t org_count, org_capacity;
    uint64_t started_ns;
} rebuild_t;

typedef enum { LISTEN_DOWN, LISTEN_CONNECTING, LISTEN_SUBSCRIBING, LISTEN_UP } listen_state_t;

struct store_index {
    uv_loop_t *loop;
    store_index_notice_cb notice_cb; /* payloads of tables the index does not keep */
    void *notice_arg;
    store_pool_t *pool;
    char *url;
    idmap_t orgs;
    index_org_t **org_list;
    size_t org_count, org_capacity;
    bool ready, closing;
    rebuild_t *rebuild;
    work_list_t deferred;
    bool pending_all;
    work_list_t retry;
    uv_timer_t retry_timer;
    idmap_t inflight; /* object id -> inflight_t */
    org_waiter_t *org_waiters;
    size_t org_waiter_count, org_waiter_capacity;
    bool clock_frozen;
    char frozen_now[32]; /* RFC 3339, for the queries' $3 */
    store_index_stats_t stats;
    /* LISTEN */
    PGconn *listen_pg;
    listen_state_t listen_state;
    uv_poll_t *listen_poll;
    int listen_fd;
    uv_timer_t listen_timer;
    uint64_t listen_backoff_ms;
    int open_handles;
    void (*on_closed)(void *);
    void *on_closed_arg;
};

static void request(store_index_t *ix, work_kind_t kind, const eng_id_t *org, const eng_id_t *id);

/* Does the rebuild in progress (if any) replace this organization? */
static bool rebuild_covers(const store_index_t *ix, const eng_id_t *org)
{
    return ix->rebuild &&
           (ix->rebuild->all || memcmp(&ix->rebuild->org, org, sizeof(eng_id_t)) == 0);
}

static void work_push(work_list_t *list, const work_t *w)
{
    /* the same work twice would only repeat it */
    for (size_t i = 0; i < list->count; i++)
        if (list->items[i].kind == w->kind &&
            memcmp(&list->items[i].org, &w->org, sizeof(eng_id_t)) == 0 &&
            memcmp(&list->items[i].id, &w->id, sizeof(eng_id_t)) == 0)
            return;
    list->items = slotd_grow(list->items, &list->capacity, list->count + 1, sizeof(work_t));
    list->items[list->count++] = *w;
}

/* Requests everything on the list again (the list is emptied first). */
static void work_replay(store_index_t *ix, work_list_t *list)
{
    work_list_t taken = *list;
    *list = (work_list_t){0};
    for (size_t i = 0; i < taken.count; i++)
        request(ix, taken.items[i].kind, &taken.items[i].org, &taken.items[i].id);
    free(taken.items);
}
static void start_rebuild(store_index_t *ix, bool all, const eng_id_t *org);

/* ---- organizations ---------------------------------------------------------------------- */

static void *own(index_org_t *org, size_t size)
{
    void *p = slotd_calloc(1, size);
    org->owned = slotd_grow(org->owned, &org->owned_capacity, org->owned_count + 1, sizeof(void *));
    org->owned[org->owned_count++] = p;
    return p;
}

static void free_org(index_org_t *org)
{
    if (org == NULL)
        return;
    eng_org_free(org->engine);
    idmap_free(&org->resources);
    idmap_free(&org->services);
    idmap_free(&org->locations);
    for (size_t i = 0; i < org->owned_count; i++)
        free(org->owned[i]);
    free(org->owned);
    free(org);
}

index_org_t *store_index_org(store_index_t *ix, const eng_id_t *id)
{
    return ix->ready ? idmap_get(&ix->orgs, id) : NULL;
}

eng_org_t *index_org_engine(index_org_t *org)
{
    return org->engine;
}

eng_resource_t *index_org_resource(index_org_t *org, const eng_id_t *id)
{
    resource_entry_t *e = idmap_get(&org->resources, id);
    return e && !e->deleted ? e->resource : NULL;
}

eng_location_t *index_org_location(index_org_t *org, const eng_id_t *id)
{
    location_entry_t *e = idmap_get(&org->locations, id);
    return e && !e->deleted ? e->location : NULL;
}

eng_service_t *index_org_service(index_org_t *org, const eng_id_t *id, bool *bookable)
{
    service_entry_t *e = idmap_get(&org->services, id);
    if (e == NULL || e->deleted)
        return NULL;
    *bookable = e->bookable;
    return e->service;
}

bool store_index_ready(const store_index_t *ix)
{
    return ix->ready;
}

void store_index_stats(const store_index_t *ix, store_index_stats_t *stats)
{
    *stats = ix->stats;
    stats->organizations = ix->org_count;
    stats->resources = stats->services = stats->busy_entries = stats->busy_bytes = 0;
    for (size_t i = 0; i < ix->org_count; i++) {
        index_org_t *org = ix->org_list[i];
        for (size_t k = 0; k < org->resources.capacity; k++) {
            resource_entry_t *e = org->resources.entries[k].value;
            if (e == NULL)
                continue;
            stats->resources++;
            stats->busy_entries += eng_resource_busy_count(e->resource);
            stats->busy_bytes += eng_resource_busy_bytes(e->resource);
        }
        stats->services += org->services.count;
    }
}

/* ---- applying rows ----------------------------------------------------------------------- */

static tz_zone_t *zone_named(const char *name)
{
    tz_zone_t *zone;
    if (tz_zone_find(name, &zone) == 0)
        return zone;
    fprintf(stderr, "slotd: index: unknown time zone \"%s\" in the database; using UTC\n", name);
    tz_zone_find("UTC", &zone);
    return zone;
}

static bool parse_id(const PGresult *res, int row, int col, eng_id_t *id)
{
    return !PQgetisnull(res, row, col) && codec_parse_uuid(PQgetvalue(res, row, col), id) == 0;
}

static json_t *json_column(const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return NULL;
    return json_loads(PQgetvalue(res, row, col), 0, NULL);
}

static void apply_dates(const PGresult *res, int row, int col,
                        void (*set)(void *target, const int32_t *days, size_t count), void *target)
{
    json_t *list = json_column(res, row, col);
    int32_t *days = slotd_malloc((json_array_size(list) + 1) * sizeof(int32_t));
    size_t n = 0, i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        if (json_is_string(v) && tz_parse_date(json_string_value(v), &days[n]) == 0)
            n++;
    }
    set(target, days, n);
    free(days);
    json_decref(list);
}

static void set_org_closures(void *org, const int32_t *days, size_t n)
{
    eng_org_set_closures(org, days, n);
}

static void set_location_closures(void *location, const int32_t *days, size_t n)
{
    eng_location_set_closures(location, days, n);
}

static bool week_of(const PGresult *res, int row, int col, eng_week_t *week)
{
    json_t *value = json_column(res, row, col);
    char field[CODEC_FIELD_MAX];
    bool ok = value && codec_week_from_json(value, "hours", week, field, sizeof(field)) == 0;
    json_decref(value);
    return ok;
}

/* organizations: id, timezone, business_hours, closures */
static void apply_org_row(rebuild_t *rb, const PGresult *res, int row)
{
    index_org_t *org = slotd_calloc(1, sizeof(*org));
    if (!parse_id(res, row, 0, &org->id)) {
        free(org);
        return;
    }
    org->engine = eng_org_new(zone_named(PQgetvalue(res, row, 1)));
    eng_week_t week;
    if (week_of(res, row, 2, &week))
        eng_org_set_business_hours(org->engine, &week);
    apply_dates(res, row, 3, set_org_closures, org->engine);
    idmap_put(&rb->built, &org->id, org);
    rb->orgs = slotd_grow(rb->orgs, &rb->org_capacity, rb->org_count + 1, sizeof(*rb->orgs));
    rb->orgs[rb->org_count++] = org;
}

/* locations: organization_id, id, timezone, business_hours, closures, deleted */
static void apply_location_row(index_org_t *org, const PGresult *res, int row)
{
    eng_id_t id;
    if (!parse_id(res, row, 1, &id))
        return;
    location_entry_t *e = idmap_get(&org->locations, &id);
    tz_zone_t *zone =
        PQgetisnull(res, row, 2) ? eng_org_zone(org->engine) : zone_named(PQgetvalue(res, row, 2));
    if (e == NULL) {
        e = own(org, sizeof(*e));
        e->id = id;
        e->location = eng_location_new(org->engine, zone);
        idmap_put(&org->locations, &id, e);
    }
    eng_location_set_zone(e->location, zone);
    eng_week_t week;
    eng_location_set_business_hours(e->location, week_of(res, row, 3, &week) ? &week : NULL);
    apply_dates(res, row, 4, set_location_closures, e->location);
    e->deleted = strcmp(PQgetvalue(res, row, 5), "t") == 0;
}

static int64_t integer_at(const json_t *array, size_t i)
{
    return json_integer_value(json_array_get(array, i));
}

static uint64_t key_of(const char *uuid_text)
{
    eng_id_t id = {{0}};
    uint64_t key = 0;
    if (uuid_text && codec_parse_uuid(uuid_text, &id) == 0)
        memcpy(&key, id.bytes, sizeof(key));
    return key;
}

/* Wall seconds of "YYYY-MM-DDTHH:MM:SS"; false when malformed. */
static bool wall_of(const char *text, int64_t *wall)
{
    int32_t day, h, m, s;
    char date[11];
    if (text == NULL || strlen(text) != 19)
        return false;
    memcpy(date, text, 10);
    date[10] = 0;
    if (tz_parse_date(date, &day) || !tz_parse_digits(text + 11, 2, &h) ||
        !tz_parse_digits(text + 14, 2, &m) || !tz_parse_digits(text + 17, 2, &s))
        return false;
    *wall = (int64_t)day * 86400 + h * 3600 + m * 60 + s;
    return true;
}

/* resources: organization_id, id, location_id, zone, working_hours, active, deleted,
 * overrides, blocks, busy. Returns whether the resource was not usable (unknown or
 * deleted) before and is now: services naming it must then link it again. */
static bool apply_resource_row(index_org_t *org, const PGresult *res, int row)
{
    eng_id_t id;
    if (!parse_id(res, row, 1, &id))
        return false;
    resource_entry_t *e = idmap_get(&org->resources, &id);
    bool was_usable = e != NULL && !e->deleted;
    tz_zone_t *zone = zone_named(PQgetvalue(res, row, 3));
    if (e == NULL) {
        e = own(org, sizeof(*e));
        e->id = id;
        e->resource = eng_resource_new(org->engine, &id, zone);
        idmap_put(&org->resources, &id, e);
    }
    eng_resource_t *r = e->resource;
    eng_resource_reset(r);
    eng_resource_set_zone(r, zone);
    eng_id_t location_id;
    eng_resource_set_location(
        r, parse_id(res, row, 2, &location_id) ? index_org_location(org, &location_id) : NULL);
    e->deleted = strcmp(PQgetvalue(res, row, 6), "t") == 0;
    eng_resource_set_active(r, !e->deleted && strcmp(PQgetvalue(res, row, 5), "t") == 0);
    eng_week_t week;
    if (week_of(res, row, 4, &week))
        eng_resource_set_week(r, &week);

    json_t *overrides = json_column(res, row, 7);
    size_t i;
    json_t *v;
    json_array_foreach(overrides, i, v)
    {
        int32_t day;
        eng_day_hours_t hours;
        char field[CODEC_FIELD_MAX];
        if (tz_parse_date(json_string_value(json_array_get(v, 0)) ?: "", &day) == 0 &&
            codec_day_hours_from_json(json_array_get(v, 1), "hours", &hours, field,
                                      sizeof(field)) == 0)
            eng_resource_set_override(r, day, &hours);
    }
    json_decref(overrides);

    /* blocks: [starts_at, ends_at, rrule, start_local, duration, exdates, id] */
    json_t *blocks = json_column(res, row, 8);
    json_array_foreach(blocks, i, v)
    {
        uint64_t key = key_of(json_string_value(json_array_get(v, 6)));
        const char *rrule = json_string_value(json_array_get(v, 2));
        if (rrule == NULL) {
            eng_busy_t b = {.start = integer_at(v, 0),
                            .end = integer_at(v, 1),
                            .kind = ENG_BUSY_BLOCK,
                            .key = key};
            eng_resource_add_busy(r, &b);
            continue;
        }
        int64_t start;
        if (!wall_of(json_string_value(json_array_get(v, 3)), &start))
            continue;
        json_t *ex = json_array_get(v, 5);
        int64_t *exdates = slotd_malloc((json_array_size(ex) + 1) * sizeof(int64_t));
        size_t n = 0, k;
        json_t *x;
        json_array_foreach(ex, k, x)
        {
            if (wall_of(json_string_value(x), &exdates[n]))
                n++;
        }
        eng_resource_add_recurring_block(r, key, rrule, start, (int32_t)integer_at(v, 4), exdates,
                                         n);
        free(exdates);
    }
    json_decref(blocks);

    /* busy: [padded start, padded end, start, end, created_at|expires_at, is booking, id] */
    json_t *busy = json_column(res, row, 9);
    json_array_foreach(busy, i, v)
    {
        int64_t lower = integer_at(v, 0), upper = integer_at(v, 1);
        int64_t start = integer_at(v, 2), end = integer_at(v, 3);
        if (start < lower || end > upper || end <= start) {
            start = lower; /* occupancy written by hand: take it as it is */
            end = upper;
        }
        eng_busy_t b = {.start = start,
                        .end = end,
                        .buffer_before = (uint16_t)((start - lower) / 60),
                        .buffer_after = (uint16_t)((upper - end) / 60),
                        .kind =
                            json_is_true(json_array_get(v, 5)) ? ENG_BUSY_BOOKING : ENG_BUSY_HOLD,
                        .stamp = integer_at(v, 4),
                        .key = key_of(json_string_value(json_array_get(v, 6)))};
        eng_resource_add_busy(r, &b);
    }
    json_decref(busy);
    return !was_usable && !e->deleted;
}

static int32_t int_or(const PGresult *res, int row, int col, int32_t fallback)
{
    return PQgetisnull(res, row, col) ? fallback : atoi(PQgetvalue(res, row, col));
}

/* services: organization_id, id, duration, interval, bb, ba, notice, advance, active, deleted,
 * requirements [[mode, [ids]], ...] */
static void apply_service_row(index_org_t *org, const PGresult *res, int row)
{
    eng_id_t id;
    if (!parse_id(res, row, 1, &id))
        return;
    eng_service_spec_t spec = {.duration_minutes = int_or(res, row, 2, 1),
                               .interval_minutes = int_or(res, row, 3, 0),
                               .buffer_before_minutes = int_or(res, row, 4, 0),
                               .buffer_after_minutes = int_or(res, row, 5, 0),
                               .min_notice_minutes = int_or(res, row, 6, 0),
                               .max_advance_days = int_or(res, row, 7, -1)};
    service_entry_t *e = idmap_get(&org->services, &id);
    if (e == NULL) {
        e = own(org, sizeof(*e));
        e->id = id;
        if (eng_service_new(org->engine, &spec, &e->service) != 0) {
            fprintf(stderr, "slotd: index: service with impossible timing skipped\n");
            return; /* the entry stays unmapped */
        }
        idmap_put(&org->services, &id, e);
    } else if (eng_service_set_spec(e->service, &spec) != 0) {
        e->bookable = false;
        return;
    }
    e->deleted = strcmp(PQgetvalue(res, row, 9), "t") == 0;
    e->bookable = strcmp(PQgetvalue(res, row, 8), "t") == 0;
    eng_service_clear_groups(e->service);
    json_t *groups = json_column(res, row, 10);
    size_t g;
    json_t *group;
    if (json_array_size(groups) == 0)
        e->bookable = false;
    json_array_foreach(groups, g, group)
    {
        const char *mode = json_string_value(json_array_get(group, 0));
        json_t *ids = json_array_get(group, 1);
        eng_resource_t **members = slotd_malloc((json_array_size(ids) + 1) * sizeof(*members));
        size_t n = 0, k;
        json_t *member;
        json_array_foreach(ids, k, member)
        {
            eng_id_t rid;
            eng_resource_t *r;
            if (json_is_string(member) && codec_parse_uuid(json_string_value(member), &rid) == 0 &&
                (r = index_org_resource(org, &rid)) != NULL)
                members[n++] = r;
        }
        eng_group_mode_t gm = mode && strcmp(mode, "all") == 0 ? ENG_GROUP_ALL : ENG_GROUP_ANY;
        /* A group that lost members it needs can never be satisfied. */
        if (n == 0 || (gm == ENG_GROUP_ALL && n != json_array_size(ids)) ||
            eng_service_add_group(e->service, gm, members, n) != 0)
            e->bookable = false;
        free(members);
    }
    json_decref(groups);
}

/* ---- queries ----------------------------------------------------------------------------- */

static void on_retry_timer(uv_timer_t *timer)
{
    store_index_t *ix = timer->data;
    work_replay(ix, &ix->retry);
}

static void schedule_retry(store_index_t *ix, const work_t *w)
{
    if (ix->closing)
        return;
    work_push(&ix->retry, w);
    uv_timer_start(&ix->retry_timer, on_retry_timer, 500, 0);
}

static void format_id(const eng_id_t *id, char *text)
{
    codec_format_uuid(id, text);
}

typedef struct {
    store_index_t *index;
    work_t work;
} reload_t;

static inflight_t *inflight_of(store_index_t *ix, const eng_id_t *id)
{
    inflight_t *f = idmap_get(&ix->inflight, id);
    if (f == NULL) {
        f = slotd_calloc(1, sizeof(*f));
        idmap_put(&ix->inflight, id, f);
    }
    return f;
}

static void start_reload(store_index_t *ix, const work_t *w);

static void release_waiters(waiter_t *waiters, size_t count)
{
    for (size_t i = 0; i < count; i++)
        waiters[i].done(waiters[i].arg);
    free(waiters);
}

static void on_reload(const PGresult *res, const char *sqlstate, void *arg)
{
    reload_t *rl = arg;
    store_index_t *ix = rl->index;
    inflight_t *f = inflight_of(ix, &rl->work.id);
    f->loading = false;
    waiter_t *waiters = f->current;
    size_t waiter_count = f->current_count;
    f->current = NULL;
    f->current_count = 0;
    if (res == NULL || sqlstate) {
        schedule_retry(ix, &rl->work);
    } else if (rebuild_covers(ix, &rl->work.org)) {
        /* a rebuild started meanwhile, maybe from an older snapshot: load again after
         * it, and whoever waited for this reload waits for that one */
        work_push(&ix->deferred, &rl->work);
        for (size_t i = 0; i < waiter_count; i++) {
            f->next = slotd_grow(f->next, &f->next_capacity, f->next_count + 1, sizeof(waiter_t));
            f->next[f->next_count++] = waiters[i];
        }
        waiter_count = 0;
    } else {
        index_org_t *org = idmap_get(&ix->orgs, &rl->work.org);
        if (org) {
            bool relink = false;
            for (int row = 0; row < PQntuples(res); row++) {
                if (rl->work.kind == WORK_RESOURCE)
                    relink |= apply_resource_row(org, res, row);
                else
                    apply_service_row(org, res, row);
            }
            /* a resource that just became usable may be named by services loaded
             * before it: reload them so that they link it */
            for (size_t k = 0; relink && k < org->services.capacity; k++) {
                service_entry_t *se = org->services.entries[k].value;
                if (se)
                    request(ix, WORK_SERVICE, &org->id, &se->id);
            }
            if (PQntuples(res) == 0 && rl->work.kind == WORK_RESOURCE) {
                resource_entry_t *e = idmap_get(&org->resources, &rl->work.id);
                if (e) { /* gone from the database entirely */
                    e->deleted = true;
                    eng_resource_set_active(e->resource, false);
                }
            }
            ix->stats.reloads++;
        }
    }
    if (f->dirty && !ix->closing) {
        f->dirty = false;
        start_reload(ix, &rl->work);
    }
    free(rl);
    release_waiters(waiters, waiter_count);
}

static const char *clock_value(const store_index_t *ix)
{
    return ix->clock_frozen ? ix->frozen_now : NULL;
}

static void start_reload(store_index_t *ix, const work_t *w)
{
    inflight_t *f = inflight_of(ix, &w->id);
    if (f->loading) {
        f->dirty = true;
        return;
    }
    char org[37], id[37];
    format_id(&w->org, org);
    format_id(&w->id, id);
    const char *values[3] = {org, id, clock_value(ix)};
    reload_t *rl = slotd_malloc(sizeof(*rl));
    rl->index = ix;
    rl->work = *w;
    f->loading = true;
    /* who waited for "the next reload" waits for this one */
    f->current = f->next;
    f->current_count = f->next_count;
    f->next = NULL;
    f->next_count = f->next_capacity = 0;
    if (store_query(ix->pool, w->kind == WORK_RESOURCE ? "idx_resources" : "idx_services",
                    w->kind == WORK_RESOURCE ? 3 : 2, values, on_reload, rl) == NULL) {
        f->loading = false;
        free(rl);
        waiter_t *waiters = f->current;
        size_t count = f->current_count;
        f->current = NULL;
        f->current_count = 0;
        schedule_retry(ix, w);
        release_waiters(waiters, count);
    }
}

void store_index_refresh(store_index_t *ix, index_kind_t kind, const eng_id_t *org,
                         const eng_id_t *id, void (*done)(void *arg), void *arg)
{
    if (kind == INDEX_ORGANIZATION) {
        if (ix->closing) {
            done(arg);
            return;
        }
        /* served by the next rebuild of the organization that starts from now on */
        ix->org_waiters = slotd_grow(ix->org_waiters, &ix->org_waiter_capacity,
                                     ix->org_waiter_count + 1, sizeof(org_waiter_t));
        ix->org_waiters[ix->org_waiter_count++] = (org_waiter_t){*org, {done, arg}, false};
        request(ix, WORK_ORG, org, NULL);
        return;
    }
    if (ix->closing) {
        done(arg);
        return;
    }
    /* The waiter rides on the object's next reload: at once, or after the load or
     * rebuild in progress (request() defers the reload until then). */
    inflight_t *f = inflight_of(ix, id);
    f->next = slotd_grow(f->next, &f->next_capacity, f->next_count + 1, sizeof(waiter_t));
    f->next[f->next_count++] = (waiter_t){done, arg};
    request(ix, kind == INDEX_RESOURCE ? WORK_RESOURCE : WORK_SERVICE, org, id);
}

void store_index_freeze_clock(store_index_t *ix, int64_t now)
{
    tz_zone_t *utc;
    tz_zone_find("UTC", &utc);
    codec_format_instant(utc, now, ix->frozen_now, sizeof(ix->frozen_now));
    ix->clock_frozen = true;
}

/* ---- rebuilds ------------------------------------------------------------------------------ */

static const char *const rebuild_statements[] = {"idx_orgs", "idx_locations", "idx_resources",
                                                 "idx_services"};

static void rebuild_step(store_index_t *ix);

static void finish_rebuild(store_index_t *ix)
{
    rebuild_t *rb = ix->rebuild;
    ix->rebuild = NULL;
    if (rb->all) {
        for (size_t i = 0; i < ix->org_count; i++)
            free_org(ix->org_list[i]);
        idmap_free(&ix->orgs);
        ix->org_count = 0;
    } else {
        for (size_t i = 0; i < ix->org_count; i++) {
            if (memcmp(&ix->org_list[i]->id, &rb->org, sizeof(eng_id_t)) == 0) {
                free_org(ix->org_list[i]);
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
    if (!rb->all && rb->org_count == 0) {
        /* the organization is gone: drop it from the map too (rebuild the map), and
         * forget work waiting for it, or it would ask for this rebuild forever */
        idmap_free(&ix->orgs);
        for (size_t i = 0; i < ix->org_count; i++)
            idmap_put(&ix->orgs, &ix->org_list[i]->id, ix->org_list[i]);
        size_t kept = 0;
        for (size_t i = 0; i < ix->deferred.count; i++) {
            work_t *w = &ix->deferred.items[i];
            if (memcmp(&w->org, &rb->org, sizeof(eng_id_t)) != 0) {
                ix->deferred.items[kept++] = *w;
                continue;
            }
            inflight_t *f = idmap_get(&ix->inflight, &w->id);
            if (f && !f->loading) {
                waiter_t *waiters = f->next;
                size_t count = f->next_count;
                f->next = NULL;
                f->next_count = f->next_capacity = 0;
                release_waiters(waiters, count);
            }
        }
        ix->deferred.count = kept;
    }
    ix->stats.rebuilds++;
    if (rb->all) {
        bool first = !ix->ready;
        ix->ready = true;
        store_index_stats_t st;
        store_index_stats(ix, &st);
        printf("{\"msg\":\"index %s\",\"organizations\":%zu,\"resources\":%zu,\"services\":%zu,"
               "\"busy_entries\":%zu,\"busy_bytes\":%zu,\"ms\":%.1f}\n",
               first ? "loaded" : "reloaded", st.organizations, st.resources, st.services,
               st.busy_entries, st.busy_bytes, (double)(uv_hrtime() - rb->started_ns) / 1e6);
        fflush(stdout);
    }
    idmap_free(&rb->built);
    free(rb->orgs);
    waiter_t *waiters = NULL;
    size_t waiter_count = 0;
    /* the organization waiters this rebuild served */
    size_t kept = 0;
    for (size_t i = 0; i < ix->org_waiter_count; i++) {
        org_waiter_t *w = &ix->org_waiters[i];
        if (w->armed && (rb->all || memcmp(&w->org, &rb->org, sizeof(eng_id_t)) == 0)) {
            waiters = slotd_realloc(waiters, (waiter_count + 1) * sizeof(waiter_t));
            waiters[waiter_count++] = w->waiter;
        } else {
            ix->org_waiters[kept++] = *w;
        }
    }
    ix->org_waiter_count = kept;
    free(rb);
    release_waiters(waiters, waiter_count);

    /* what waited for the rebuild */
    if (ix->pending_all) {
        ix->pending_all = false;
        start_rebuild(ix, true, NULL);
        return;
    }
    work_replay(ix, &ix->deferred);
}

static void on_rebuild_rows(const PGresult *res, const char *sqlstate, void *arg)
{
    store_index_t *ix = arg;
    rebuild_t *rb = ix->rebuild;
    if (rb == NULL)
        return;
    if (res == NULL || sqlstate) {
        /* try the whole rebuild again shortly */
        work_t w = {.kind = rb->all ? WORK_ALL : WORK_ORG, .org = rb->org};
        for (size_t i = 0; i < rb->org_count; i++)
            free_org(rb->orgs[i]);
        idmap_free(&rb->built);
        free(rb->orgs);
        for (size_t i = 0; i < ix->org_waiter_count; i++)
            ix->org_waiters[i].armed = false; /* the retry will serve them */
        free(rb);
        ix->rebuild = NULL;
        schedule_retry(ix, &w);
        return;
    }
    for (int row = 0; row < PQntuples(res); row++) {
        if (rb->step == 0) {
            apply_org_row(rb, res, row);
            continue;
        }
        eng_id_t org_id;
        index_org_t *org;
        if (!parse_id(res, row, 0, &org_id) || (org = idmap_get(&rb->built, &org_id)) == NULL)
            continue;
        if (rb->step == 1)
            apply_location_row(org, res, row);
        else if (rb->step == 2)
            apply_resource_row(org, res, row);
        else
            apply_service_row(org, res, row);
    }
    rb->step++;
    if (rb->step == 4)
        finish_rebuild(ix);
    else
        rebuild_step(ix);
}

static void rebuild_step(store_index_t *ix)
{
    rebuild_t *rb = ix->rebuild;
    char org[37];
    format_id(&rb->org, org);
    const char *values[3] = {rb->all ? NULL : org, NULL, clock_value(ix)};
    int count = rb->step == 2 ? 3 : rb->step == 3 ? 2 : 1;
    if (store_query(ix->pool, rebuild_statements[rb->step], count, values, on_rebuild_rows, ix) ==
        NULL)
        on_rebuild_rows(NULL, NULL, ix);
}

static void start_rebuild(store_index_t *ix, bool all, const eng_id_t *org)
{
    if (ix->closing)
        return;
    if (ix->rebuild) {
        if (all)
            ix->pending_all = true;
        else {
            work_t w = {.kind = WORK_ORG, .org = *org};
            work_push(&ix->deferred, &w);
        }
        return;
    }
    rebuild_t *rb = slotd_calloc(1, sizeof(*rb));
    rb->all = all;
    if (org)
        rb->org = *org;
    for (size_t i = 0; i < ix->org_waiter_count; i++)
        if (all || memcmp(&ix->org_waiters[i].org, org, sizeof(eng_id_t)) == 0)
            ix->org_waiters[i].armed = true;
    rb->started_ns = uv_hrtime();
    ix->rebuild = rb;
    rebuild_step(ix);
}

static void request(store_index_t *ix, work_kind_t kind, const eng_id_t *org, const eng_id_t *id)
{
    if (ix->closing)
        return;
    work_t w = {.kind = kind};
    if (org)
        w.org = *org;
    if (id)
        w.id = *id;
    if (kind == WORK_ALL) {
        start_rebuild(ix, true, NULL);
        return;
    }
    if (kind == WORK_ORG) {
        start_rebuild(ix, false, org);
        return;
    }
    if (!ix->ready || rebuild_covers(ix, org)) {
        work_push(&ix->deferred, &w);
        return;
    }
    if (idmap_get(&ix->orgs, org) == NULL) {
        /* an organization we do not know yet: load it, then this object again */
        work_push(&ix->deferred, &w);
        start_rebuild(ix, false, org);
        return;
    }
    start_reload(ix, &w);
}

/* ---- LISTEN ---------------------------------------------------------------------------------- */

static void listen_start(store_index_t *ix);

static void handle_closed(uv_handle_t *handle)
{
    store_index_t *ix = handle->data;
    if (handle->type == UV_POLL)
        free(handle);
    if (--ix->open_handles == 0 && ix->closing) {
        void (*cb)(void *) = ix->on_closed;
        void *arg = ix->on_closed_arg;
        for (size_t i = 0; i < ix->org_count; i++)
            free_org(ix->org_list[i]);
        free(ix->org_list);
        idmap_free(&ix->orgs);
        for (size_t i = 0; i < ix->inflight.capacity; i++) {
            inflight_t *f = ix->inflight.entries[i].value;
            if (f) {
                free(f->current);
                free(f->next);
                free(f);
            }
        }
        idmap_free(&ix->inflight);
        free(ix->deferred.items);
        free(ix->retry.items);
        free(ix->org_waiters);
        free(ix->url);
        free(ix);
        if (cb)
            cb(arg);
    }
}

static void listen_drop_poll(store_index_t *ix)
{
    if (ix->listen_poll) {
        uv_poll_stop(ix->listen_poll);
        ix->listen_poll->data = ix;
        uv_close((uv_handle_t *)ix->listen_poll, handle_closed);
        ix->listen_poll = NULL;
    }
}

static void on_listen_timer(uv_timer_t *timer)
{
    listen_start(timer->data);
}

static void listen_broken(store_index_t *ix)
{
    listen_drop_poll(ix);
    if (ix->listen_pg) {
        PQfinish(ix->listen_pg);
        ix->listen_pg = NULL;
    }
    ix->listen_state = LISTEN_DOWN;
    if (ix->closing)
        return;
    ix->listen_backoff_ms = ix->listen_backoff_ms ? ix->listen_backoff_ms * 2 : 100;
    if (ix->listen_backoff_ms > 5000)
        ix->listen_backoff_ms = 5000;
    uv_timer_start(&ix->listen_timer, on_listen_timer, ix->listen_backoff_ms, 0);
}

void store_index_on_notice(store_index_t *ix, store_index_notice_cb cb, void *arg)
{
    ix->notice_cb = cb;
    ix->notice_arg = arg;
}

static void on_notification(store_index_t *ix, const char *payload)
{
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
        else if (resource_text && codec_parse_uuid(resource_text, &id) == 0)
            request(ix, WORK_RESOURCE, &org, &id);
        else if ((strcmp(table, "services") == 0 || strcmp(table, "service_requirements") == 0) &&
                 id_text && codec_parse_uuid(id_text, &id) == 0)
            request(ix, WORK_SERVICE, &org, &id);
    }
    json_decref(j);
}

static void listen_update_poll(store_index_t *ix, int events);

static void on_listen_poll(uv_poll_t *handle, int status, int events)
{
    store_index_t *ix = handle->data;
    (void)events;
    if (status < 0) {
        listen_broken(ix);
        return;
    }
    if (ix->listen_state == LISTEN_CONNECTING) {
        /* libpq may move to another socket under the same descriptor number */
        listen_drop_poll(ix);
        PostgresPollingStatusType s = PQconnectPoll(ix->listen_pg);
        if (s == PGRES_POLLING_FAILED) {
            listen_broken(ix);
        } else if (s == PGRES_POLLING_OK) {
            uv_timer_stop(&ix->listen_timer); /* the connect deadline */
            PQsetnonblocking(ix->listen_pg, 1);
            ix->listen_state = LISTEN_SUBSCRIBING;
            if (!PQsendQuery(ix->listen_pg, "LISTEN slotd_changes"))
                listen_broken(ix);
            else
                listen_update_poll(ix, UV_READABLE | UV_WRITABLE);
        } else {
            listen_update_poll(ix, s == PGRES_POLLING_READING ? UV_READABLE : UV_WRITABLE);
        }
        return;
    }
    if (PQflush(ix->listen_pg) == 0)
        listen_update_poll(ix, UV_READABLE);
    if (!PQconsumeInput(ix->listen_pg)) {
        listen_broken(ix);
        return;
    }
    while (!PQisBusy(ix->listen_pg)) {
        PGresult *res = PQgetResult(ix->listen_pg);
        if (res == NULL)
            break;
        bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        PQclear(res);
        if (ix->listen_state == LISTEN_SUBSCRIBING) {
            if (!ok) {
                listen_broken(ix);
                return;
            }
            /* Listening now: load everything (again), as changes may have been missed. */
            ix->listen_state = LISTEN_UP;
            ix->listen_backoff_ms = 0;
            request(ix, WORK_ALL, NULL, NULL);
        }
    }
    PGnotify *n;
    while ((n = PQnotifies(ix->listen_pg)) != NULL) {
        if (ix->listen_state == LISTEN_UP)
            on_notification(ix, n->extra);
        PQfreemem(n);
    }
    if (PQstatus(ix->listen_pg) != CONNECTION_OK)
        listen_broken(ix);
}

static void listen_update_poll(store_index_t *ix, int events)
{
    if (ix->listen_poll && ix->listen_fd != PQsocket(ix->listen_pg))
        listen_drop_poll(ix);
    if (ix->listen_poll == NULL) {
        ix->listen_fd = PQsocket(ix->listen_pg);
        ix->listen_poll = slotd_malloc(sizeof(uv_poll_t));
        if (uv_poll_init(ix->loop, ix->listen_poll, ix->listen_fd) != 0) {
            free(ix->listen_poll);
            ix->listen_poll = NULL;
            listen_broken(ix);
            return;
        }
        ix->listen_poll->data = ix;
        ix->open_handles++;
    }
    uv_poll_start(ix->listen_poll, events, on_listen_poll);
}

static void on_listen_connect_deadline(uv_timer_t *timer)
{
    store_index_t *ix = timer->data;
    if (ix->listen_state == LISTEN_CONNECTING) {
        fprintf(stderr, "slotd: the LISTEN connection timed out\n");
        listen_broken(ix);
    }
}

static void listen_start(store_index_t *ix)
{
    if (ix->closing)
        return;
    ix->listen_pg = store_connect_start(ix->url, "slotd-listen");
    if (ix->listen_pg == NULL) {
        listen_broken(ix);
        return;
    }
    ix->listen_state = LISTEN_CONNECTING;
    uv_timer_start(&ix->listen_timer, on_listen_connect_deadline, 10000, 0);
    listen_update_poll(ix, UV_WRITABLE);
}

/* ---- life --------------------------------------------------------------------------------------
 */

store_index_t *store_index_new(uv_loop_t *loop, store_pool_t *pool, const char *url)
{
    store_index_t *ix = slotd_calloc(1, sizeof(*ix));
    ix->loop = loop;
    ix->pool = pool;
    ix->url = slotd_strdup(url);
    uv_timer_init(loop, &ix->retry_timer);
    ix->retry_timer.data = ix;
    uv_timer_init(loop, &ix->listen_timer);
    ix->listen_timer.data = ix;
    ix->open_handles = 2;
    listen_start(ix); /* the first full load starts once LISTEN is in place */
    return ix;
}

void store_index_close(store_index_t *ix, void (*on_closed)(void *), void *arg)
{
    ix->closing = true;
    ix->on_closed = on_closed;
    ix->on_closed_arg = arg;
    listen_broken(ix);
    uv_timer_stop(&ix->retry_timer);
    uv_timer_stop(&ix->listen_timer);
    uv_close((uv_handle_t *)&ix->retry_timer, handle_closed);
    uv_close((uv_handle_t *)&ix->listen_timer, handle_closed);
}
