/*
 * The in-memory index: every organization's availability data as engine
 * objects, loaded from PostgreSQL at start and kept in step by NOTIFY and the
 * log of occupancy changes (store/listen.h).
 *
 * Loading: all organizations at once (organizations, locations, resources with
 * their overrides, blocks and busy time from a day ago on, services with their
 * requirement groups), read in pages in key order and applied one page per
 * loop turn, built aside and swapped in when complete; /readyz waits for it.
 * Loading runs on connections of its own, under its own statement timeout.
 * A row that cannot be used is skipped, logged and counted (skipped_rows): it
 * never fails the load of anything else. A failed query is retried after a
 * delay that doubles up to 30 s, with one log line each time. Refreshing: a dedicated connection
 * LISTENs on slotd_changes; a change to a resource (its row, overrides, blocks, occupancy) reloads
 * that resource, a change to a service reloads that service, a change to an organization or a
 * location rebuilds that organization. Each reload is one query whose result
 * is applied in one step on the loop, so a slot query never sees half of a
 * reload; reloads of one object are coalesced (one in flight, one more queued).
 * A lost LISTEN connection reconnects and rebuilds everything, since
 * notifications may have been missed meanwhile.
 *
 * Everything runs on the loop; pointers returned stay valid until the loop's
 * next callback (a rebuild may replace an organization between callbacks).
 */
#ifndef SLOTD_INDEX_INDEX_H
#define SLOTD_INDEX_INDEX_H

#include <stdbool.h>
#include <uv.h>

#include "slotd/engine.h"

typedef struct store_index store_index_t;

/** An organization in the index. */
typedef struct index_org index_org_t;

typedef struct {
    uv_loop_t *loop;
    const char *url;     /**< the database; the index opens its own connections */
    int load_timeout_ms; /**< statement_timeout of its queries (0: 60000) */
    int page_rows;       /**< rows per page of a load (0: 200) */
    int apply_budget_us; /**< loop time one turn may spend applying a load (0: 2000) */
} store_index_options_t;

/** Busy entries of one resource a turn applies between two looks at its budget: the
 *  smallest step of a load, so a resource with a great deal of busy time spreads over
 *  turns. */
#define STORE_INDEX_BUSY_PER_STEP 256

/** Starts loading and listening. The index owns its connections; close it with store_index_close.
 */
store_index_t *store_index_new(const store_index_options_t *options);

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
 * `id` unused), now (after a committed write) and calls `done` exactly once:
 * with 0 once the index shows it (a client that wrote through this instance
 * reads its write back from it; an organization deleted meanwhile counts as
 * shown), or with ENG_EUNAVAILABLE when the index closes first. A failed
 * reload does not call it: it waits for the successful retry, so a caller
 * that must answer sooner bounds the wait itself. `done` runs on the loop,
 * possibly at once.
 */
typedef enum { INDEX_RESOURCE, INDEX_SERVICE, INDEX_ORGANIZATION } index_kind_t;
typedef void (*store_index_done_cb)(void *arg, int status);
void store_index_refresh(store_index_t *index, index_kind_t kind, const eng_id_t *org,
                         const eng_id_t *id, store_index_done_cb done, void *arg);

/**
 * Which of its transaction's changes of a resource's occupancy a writer waits for: the last
 * one the transaction makes there (a booking first deletes the hold it consumes and expired
 * holds in its way, a hold the expired holds in its way, a reschedule the booking's old rows).
 */
typedef enum {
    STORE_CHANGE_BOOKED,   /**< a booking's row is there, active (booked, moved there) */
    STORE_CHANGE_UNBOOKED, /**< a booking's active row is gone or inactive (cancelled, moved) */
    STORE_CHANGE_HELD,     /**< a hold's row is there, active (held) */
    STORE_CHANGE_UNHELD    /**< a hold's active row is gone or inactive (released) */
} store_change_kind_t;

/** A committed transaction's change a writer waits for; xid 0: not known (a reload). */
typedef struct {
    uint64_t xid;
    store_change_kind_t kind;
} store_change_t;

/**
 * As store_index_refresh of a resource, after transaction `change.xid` (committed) changed
 * its occupancy: `done` runs once the index has applied the change of that kind as notified,
 * with no query (or, when the change is not applied so — a reload of the resource was due, or
 * nothing came within a second, or the LISTEN connection was lost — once a reload that reached
 * the database after the call is applied). The same calling rules as store_index_refresh.
 */
void store_index_await_change(store_index_t *index, const eng_id_t *org, const eng_id_t *resource,
                              store_change_t change, store_index_done_cb done, void *arg);

/**
 * Notifications on slotd_changes about tables the index does not keep (today
 * api_keys) are passed to `cb(arg, table, organization)` on the loop, as they
 * arrive; with a NULL organization (every organization's) whenever the LISTEN
 * connection is (re)established, since notifications may have been missed. One
 * callback; NULL removes it.
 */
typedef void (*store_index_notice_cb)(void *arg, const char *table, const eng_id_t *organization);
void store_index_on_notice(store_index_t *index, store_index_notice_cb cb, void *arg);

/** Uses a frozen clock (SLOTD_NOW) for what counts as past busy time. */
void store_index_freeze_clock(store_index_t *index, int64_t now);

/** Counters for logs and metrics. */
typedef struct {
    size_t organizations, resources, services, busy_entries, busy_bytes;
    uint64_t reloads, rebuilds;
    uint64_t changes;           /**< occupancy changes applied as notified, without a reload */
    uint64_t skipped_rows;      /**< rows (or entries in them) the loader could not use */
    uint64_t load_failures;     /**< queries of the index that failed (each retried) */
    uint64_t last_load_ms;      /**< duration of the last full load */
    uint64_t loop_max_pause_us; /**< the loop's longest pause seen (see store_index_reset_pause) */
    /** The most CPU time the loop's thread spent in one turn: a pause longer than this
     *  was the process waiting for a core, not work on the loop. */
    uint64_t loop_max_turn_cpu_us;
    /** The CPU time of the turn of the longest pause: the rest of that pause was the
     *  process runnable and waiting for a core (or off the CPU in a system call). */
    uint64_t loop_max_pause_cpu_us;
    uint64_t apply_turns; /**< loop turns that applied load rows or freed replaced data */
} store_index_stats_t;
void store_index_stats(const store_index_t *index, store_index_stats_t *stats);

/** Starts measuring the loop's longest pause afresh. */
void store_index_reset_pause(store_index_t *index);

/**
 * Calls every waiter left (ENG_EUNAVAILABLE), closes the index's connections
 * and frees everything; `on_closed` once its handles are closed.
 */
void store_index_close(store_index_t *index, void (*on_closed)(void *), void *arg);

#endif
