/*
 * Blocks (time off, breaks, meetings) of a resource in the database, as
 * structs: the typed store for the domain layer. Every function runs on the
 * loop, starts one operation on the pool and returns it
 * (store_operation_cancel forgets it), or NULL when the pool refuses it (then
 * nothing is called back). A callback runs once, on the loop; the structs it
 * receives (and their strings) are valid only during the call.
 *
 * A block is one-off (an instant range) or recurring (an RFC 5545 rule
 * expanded in the resource's zone from a local start, for a number of
 * minutes, minus the local starts in its exdates).
 */
#ifndef SLOTD_STORE_BLOCKS_H
#define SLOTD_STORE_BLOCKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slotd/engine.h"
#include "store/operation.h"

/** A block as stored. */
typedef struct {
    eng_id_t id;
    bool recurring;
    int64_t start, end;       /**< one-off: UTC seconds */
    const char *rrule;        /**< recurring: the rule */
    int64_t start_local;      /**< recurring: the local start, wall seconds */
    int32_t duration_minutes; /**< recurring */
    const char *reason;       /**< NULL: none */
    const int64_t *exdates;   /**< recurring, in a listing: wall starts left out */
    size_t exdate_count;
} store_block_t;

/** A resource's blocks that may reach a window. */
typedef struct {
    const char *timezone; /**< the resource's zone in effect */
    const char *organization_timezone;
    const store_block_t *items; /**< every recurring block, the one-off ones that overlap */
    size_t count;
} store_block_list_t;

/** A created block: error 0 with `block` and the organization's zone, or a negative STORE_E*
 *  code (STORE_ENOTFOUND: the resource is not a live one of the organization). */
typedef void (*store_block_cb)(int error, const store_block_t *block,
                               const char *organization_timezone, void *arg);

/** A listing: error 0 with `list`, or a negative STORE_E* code (STORE_ENOTFOUND: no such
 *  resource). */
typedef void (*store_block_list_cb)(int error, const store_block_list_t *list, void *arg);

/** A deletion: 0, or STORE_ENOTFOUND when the block (or its resource) is not a live one. */
typedef void (*store_block_delete_cb)(int error, void *arg);

/** Creates `write` (its id and exdates are not read). */
store_operation_t *store_blocks_insert(store_pool_t *pool, const eng_id_t *organization,
                                       const eng_id_t *resource, const store_block_t *write,
                                       store_block_cb cb, void *arg);

/** The blocks of a resource that may reach [from, to) (UTC seconds). */
store_operation_t *store_blocks_list(store_pool_t *pool, const eng_id_t *organization,
                                     const eng_id_t *resource, int64_t from, int64_t to,
                                     store_block_list_cb cb, void *arg);

/** A booking's, live hold's or external calendar event's busy time on a resource. */
typedef struct {
    bool hold;                        /**< a hold */
    bool external;                    /**< a busy event of a calendar connection */
    eng_id_t id;                      /**< the booking's, the hold's or the event's */
    int64_t padded_start, padded_end; /**< what the resource is busy for */
    int64_t start, end;               /**< its own time (an external event's is not padded) */
    eng_id_t connection_id;           /**< external: its calendar connection */
    const char *summary;              /**< external: its title, or NULL */
    /** external: a series' rule as JSON (see busy_list in blocks.sql), or NULL; start/end are
     *  then its first occurrence's */
    const char *series;
} store_occupied_time_t;

/** A resource's busy time that may reach a window: its blocks (as block listing gives them),
 *  the bookings and holds holding it, by padded start, then its external events, by start. */
typedef struct {
    store_block_list_t blocks;
    const store_occupied_time_t *occupied;
    size_t occupied_count;
} store_busy_list_t;

/** error 0 with `list`, or a negative STORE_E* code (STORE_ENOTFOUND: no such resource). */
typedef void (*store_busy_list_cb)(int error, const store_busy_list_t *list, void *arg);

/** The busy time of a resource that may reach [from, to) (UTC seconds): live holds by `now`. */
store_operation_t *store_busy_list(store_pool_t *pool, const eng_id_t *organization,
                                   const eng_id_t *resource, int64_t from, int64_t to, int64_t now,
                                   store_busy_list_cb cb, void *arg);

/** Soft-deletes a block. */
store_operation_t *store_blocks_delete(store_pool_t *pool, const eng_id_t *organization,
                                       const eng_id_t *resource, const eng_id_t *id,
                                       store_block_delete_cb cb, void *arg);

#endif
