/*
 * The index's work scheduler: what to load, when, and who is waiting for it.
 *
 * Everything the index does is one work item: rebuild all organizations,
 * rebuild one organization, reload one resource, reload one service. The
 * scheduler decides when each runs and knows nothing of PostgreSQL: its host
 * (the index) starts an item when told to (`start`) and reports how it ended
 * (idx_sched_done). A test drives it with completions of its own.
 *
 * Rules:
 * - At most one rebuild runs at a time. A full rebuild asked for meanwhile runs
 *   after it; an organization rebuild waits in the deferred list.
 * - Reloads wait (deferred) until the first full load is in place, and while a
 *   rebuild covering their organization runs or waits for its retry: the
 *   rebuild's snapshot may predate them, so they run after it lands.
 * - Reloads of one object are coalesced: one in flight; a request meanwhile
 *   marks it dirty and it runs once more when the first lands, unless the
 *   host says the one in flight has not reached the database yet (its query
 *   still waits for a connection): its snapshot then comes after the request,
 *   which simply joins it. Under load, when reloads queue, one reload serves
 *   every write to the object that queued behind it.
 * - A failed item goes to the retry list, replayed after a delay that doubles
 *   with each consecutive failure (500 ms up to 30 s) and returns to 500 ms
 *   after a success. Its waiters stay waiting for the successful retry.
 *
 * Waiters. A waiter of an object rides on the object's next reload that
 * reaches the database after the wait began; a waiter of an organization on the next rebuild of it
 * that starts after the wait began. Each waiter is called exactly once: with 0
 * once the index shows the state that was committed before the wait began (an
 * organization deleted meanwhile counts: the index shows it gone), or with
 * a negative ENG_E* code when the scheduler closes first.
 *
 * Ownership: idx_sched_new returns the scheduler; idx_sched_close calls every
 * waiter left and frees it. All calls on one thread (the loop); the host's
 * `start` may report completion from inside the call.
 */
#ifndef SLOTD_INDEX_SCHEDULER_H
#define SLOTD_INDEX_SCHEDULER_H

#include <stdbool.h>
#include <stdint.h>

#include "slotd/engine.h"

typedef enum { IDX_WORK_ALL, IDX_WORK_ORG, IDX_WORK_RESOURCE, IDX_WORK_SERVICE } idx_work_kind_t;

/** One work item; `org` unused for IDX_WORK_ALL, `id` only for reloads. */
typedef struct {
    idx_work_kind_t kind;
    eng_id_t org, id;
} idx_work_t;

/** How a started item ended. */
typedef enum {
    IDX_APPLIED,  /**< loaded and applied: the index shows it */
    IDX_FAILED,   /**< the query failed: retry it later */
    IDX_DEFERRED, /**< loaded but not applied (a rebuild covers it): run it again after */
    IDX_GONE,     /**< the organization does not exist (any more) */
} idx_outcome_t;

typedef void (*idx_waiter_cb)(void *arg, int status);

typedef struct {
    /** Runs `work` (copy it); report the end with idx_sched_done, maybe before returning. */
    void (*start)(void *host, const idx_work_t *work);
    /** Whether the index holds this organization. */
    bool (*org_known)(void *host, const eng_id_t *org);
    /** Calls idx_sched_retry_due after `delay_ms` (replacing an earlier request). */
    void (*arm_retry)(void *host, uint64_t delay_ms);
    void *host;
    /** Whether the reload of `work` it started has not been sent to the database yet (may be
     *  NULL: every started reload counts as sent). */
    bool (*not_sent)(void *host, const idx_work_t *work);
} idx_sched_host_t;

typedef struct idx_sched idx_sched_t;

typedef struct {
    uint64_t started, failures, retries;
    uint64_t backoff_ms; /**< the delay of the retry armed last, 0 after a success */
    size_t deferred, pending_retries, inflight_entries, waiters;
} idx_sched_stats_t;

/** A scheduler calling `host` (copied). */
idx_sched_t *idx_sched_new(const idx_sched_host_t *host);

/** Asks for `work`; `done` (may be NULL) is a waiter for it, called as described above. */
void idx_sched_request(idx_sched_t *s, const idx_work_t *work, idx_waiter_cb done, void *arg);

/** Reports the end of a started item; returns the retry delay when it failed, else 0. */
uint64_t idx_sched_done(idx_sched_t *s, const idx_work_t *work, idx_outcome_t outcome);

/** Whether a rebuild covering `org` runs or waits for its retry (results are then stale). */
bool idx_sched_covered(const idx_sched_t *s, const eng_id_t *org);

/** Whether a reload of the object runs (its query queued, on the wire, or its result being
 *  applied) or is due to run again: what it applies may predate a change committed now. */
bool idx_sched_reloading(idx_sched_t *s, const eng_id_t *org, const eng_id_t *id);

/** True once a full rebuild has been applied. */
bool idx_sched_ready(const idx_sched_t *s);

/** Replays the retry list (the host's timer calls it). */
void idx_sched_retry_due(idx_sched_t *s);

void idx_sched_stats(const idx_sched_t *s, idx_sched_stats_t *stats);

/** Calls every waiter left with `status` (negative), drops all work, frees `s`. */
void idx_sched_close(idx_sched_t *s, int status);

#endif
