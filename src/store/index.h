/*
 * The in-memory index: every organization's availability data as engine
 * objects, loaded from PostgreSQL at start and kept in step by NOTIFY.
 *
 * Loading: all organizations at once (organizations, locations, resources with
 * their overrides, blocks and busy time from a day ago on, services with their
 * requirement groups), built aside and swapped in when complete; /readyz waits
 * for it. Refreshing: a dedicated connection LISTENs on slotd_changes; a change
 * to a resource (its row, overrides, blocks, occupancy) reloads that resource,
 * a change to a service reloads that service, a change to an organization or a
 * location rebuilds that organization. Each reload is one query whose result
 * is applied in one step on the loop, so a slot query never sees half of a
 * reload; reloads of one object are coalesced (one in flight, one more queued).
 * A lost LISTEN connection reconnects and rebuilds everything, since
 * notifications may have been missed meanwhile.
 *
 * Everything runs on the loop; pointers returned stay valid until the loop's
 * next callback (a rebuild may replace an organization between callbacks).
 */
#ifndef SLOTD_STORE_INDEX_H
#define SLOTD_STORE_INDEX_H

#include <stdbool.h>
#include <uv.h>

#include "slotd/engine.h"
#include "store/pool.h"

typedef struct store_index store_index_t;

/** An organization in the index. */
typedef struct index_org index_org_t;

/** Starts loading (queries through `pool`) and listening (its own connection to `url`). */
store_index_t *store_index_new(uv_loop_t *loop, store_pool_t *pool, const char *url);

/** True once the first full load is in place. */
bool store_index_ready(const store_index_t *index);

/** An organization, or NULL (unknown, deleted, or not loaded yet). */
index_org_t *store_index_org(store_index_t *index, const eng_id_t *id);

eng_org_t *index_org_engine(index_org_t *org);

/** A resource that is not deleted, or NULL. */
eng_resource_t *index_org_resource(index_org_t *org, const eng_id_t *id);

/** A location that is not deleted, or NULL. */
eng_location_t *index_org_location(index_org_t *org, const eng_id_t *id);

/**
 * A service that is not deleted, or NULL. *bookable is false when it is
 * inactive or a requirement group has no usable member left: it then offers
 * no slot.
 */
eng_service_t *index_org_service(index_org_t *org, const eng_id_t *id, bool *bookable);

/**
 * Reloads one resource or service, or rebuilds the organization (INDEX_ORGANIZATION,
 * `id` unused), now (after a committed write) and calls
 * `done` once the index shows it: a client that wrote through this instance
 * reads its write back from it. `done` runs on the loop, possibly at once.
 */
typedef enum { INDEX_RESOURCE, INDEX_SERVICE, INDEX_ORGANIZATION } index_kind_t;
void store_index_refresh(store_index_t *index, index_kind_t kind, const eng_id_t *org,
                         const eng_id_t *id, void (*done)(void *arg), void *arg);

/**
 * Notifications on slotd_changes about tables the index does not keep (today
 * api_keys) are passed to `cb(arg, table, organization)` on the loop, as they
 * arrive. One callback; NULL removes it.
 */
typedef void (*store_index_notice_cb)(void *arg, const char *table, const eng_id_t *organization);
void store_index_on_notice(store_index_t *index, store_index_notice_cb cb, void *arg);

/** Uses a frozen clock (SLOTD_NOW) for what counts as past busy time. */
void store_index_freeze_clock(store_index_t *index, int64_t now);

/** Counters for logs and metrics. */
typedef struct {
    size_t organizations, resources, services, busy_entries, busy_bytes;
    uint64_t reloads, rebuilds;
} store_index_stats_t;
void store_index_stats(const store_index_t *index, store_index_stats_t *stats);

/**
 * Closes the LISTEN connection and frees everything; `on_closed` when its
 * handles are closed. Close the pool first: its pending queries call back here.
 */
void store_index_close(store_index_t *index, void (*on_closed)(void *), void *arg);

#endif
