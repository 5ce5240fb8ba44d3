/*
 * Blocks of a resource, the domain's rules. A block is either one-off, a
 * start and an end (RFC 3339 instants in 1970..2199, the end after the start
 * by at most ten years), or recurring, an RFC 5545 rule (daily or less often,
 * as the availability engine expands it), a local start (YYYY-MM-DDTHH:MM[:SS])
 * and a duration of 1 to 44640 minutes; a reason of 1–500 characters may be
 * given to either. A listing covers a window of at most 62 days, and shows
 * the occurrences exactly as the engine makes the resource busy.
 *
 * Each function runs on the loop. It either refuses its input (returns NULL,
 * `error` filled with DOMAIN_EINVALID), or starts the store operation and
 * returns it (NULL with DOMAIN_EBUSY when the store refused it): the result
 * then reaches `cb` once, unless the caller cancels the operation.
 */
#ifndef SLOTD_DOMAIN_BLOCKS_H
#define SLOTD_DOMAIN_BLOCKS_H

#include "domain/domain.h"
#include "slotd/tz.h"
#include "store/blocks.h"

#define DOMAIN_BLOCK_MAX_MINUTES (31 * 24 * 60)
#define DOMAIN_BLOCK_MAX_WINDOW_DAYS 62

/** A block to create, as received (a value of another type is refused with the field's own
 *  message; a null reason is none). */
typedef struct {
    domain_text_t start, end;        /**< one-off: RFC 3339 instants */
    domain_text_t rrule;             /**< recurring */
    domain_text_t start_local;       /**< recurring: YYYY-MM-DDTHH:MM[:SS] */
    domain_whole_t duration_minutes; /**< recurring */
    domain_text_t reason;
} domain_block_input_t;

/** One occurrence of a block in a window: the index of its block in the listing. */
typedef struct {
    int64_t start, end;
    size_t block;
} domain_block_occurrence_t;

/** Checks a block and, when it passes, fills `write` (whose texts point into `input`). */
int domain_block_check(const domain_block_input_t *input, store_block_t *write,
                       domain_error_t *error);

store_operation_t *domain_blocks_create(store_pool_t *pool, const eng_id_t *organization,
                                        const eng_id_t *resource, const domain_block_input_t *input,
                                        store_block_cb cb, void *arg, domain_error_t *error);

/** The blocks that may reach [from, to); refused when the window is reversed or longer than
 *  62 days. Turn them into occurrences with domain_block_occurrences. */
store_operation_t *domain_blocks_list(store_pool_t *pool, const eng_id_t *organization,
                                      const eng_id_t *resource, int64_t from, int64_t to,
                                      store_block_list_cb cb, void *arg, domain_error_t *error);

/** The busy time of a resource that may reach [from, to), by the clock `now`: its blocks (turn
 *  them into occurrences with domain_block_occurrences) and the bookings and live holds holding
 *  it. The window as for domain_blocks_list. */
store_operation_t *domain_resource_busy(store_pool_t *pool, const eng_id_t *organization,
                                        const eng_id_t *resource, int64_t from, int64_t to,
                                        int64_t now, store_busy_list_cb cb, void *arg,
                                        domain_error_t *error);

/**
 * The occurrences of a listing's blocks in [from, to), by start: one-off blocks as listed,
 * recurring ones expanded in `zone` (the resource's) as the engine expands them. Returns how
 * many; *out is allocated (the caller frees it).
 */
/** The occurrences that overlap [from, to) of an imported calendar's series (the JSON of
 *  store_occupied_time_t.series), expanded as the engine does: in its own zone, else `zone`
 *  (the resource's). *out (caller frees) holds them by start; a rule that cannot be used has
 *  none. */
size_t domain_series_occurrences(const char *series, tz_zone_t *zone, int64_t from, int64_t to,
                                 domain_block_occurrence_t **out);

size_t domain_block_occurrences(const store_block_list_t *list, tz_zone_t *zone, int64_t from,
                                int64_t to, domain_block_occurrence_t **out);

store_operation_t *domain_blocks_delete(store_pool_t *pool, const eng_id_t *organization,
                                        const eng_id_t *resource, const eng_id_t *id,
                                        store_block_delete_cb cb, void *arg, domain_error_t *error);

#endif
