/*
 * Locations (branches) in the database, as structs: the typed store for the
 * domain layer. Every function runs on the loop, starts one operation on the
 * pool and returns it (store_operation_cancel forgets it), or NULL when the
 * pool refuses it (then nothing is called back). A callback runs once, on the
 * loop; the structs it receives (and their strings) are valid only during
 * the call.
 */
#ifndef SLOTD_STORE_LOCATIONS_H
#define SLOTD_STORE_LOCATIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slotd/engine.h"
#include "store/operation.h"

#define STORE_MAX_CLOSURES 1000

/** A location as stored. */
typedef struct {
    eng_id_t id;
    const char *name;
    const char *address;  /**< NULL: none */
    const char *phone;    /**< NULL: none */
    const char *timezone; /**< the zone in effect: its own, else the organization's */
    const char *organization_timezone;
    bool has_business_hours;
    eng_week_t business_hours; /**< when has_business_hours */
    const int32_t *closures;   /**< local dates (days since 1970-01-01), as given */
    size_t closure_count;
    int64_t created_at, updated_at; /**< UTC seconds */
} store_location_t;

/** What a write sets. For PATCH, only the fields marked `*_set` (or non-NULL name) change. */
typedef struct {
    const char *name; /**< NULL: unchanged (PATCH) */
    bool address_set, phone_set, timezone_set, business_hours_set, closures_set;
    const char *address; /**< NULL with address_set: cleared */
    const char *phone;
    const char *timezone;             /**< NULL: the organization's */
    const eng_week_t *business_hours; /**< NULL: none */
    const int32_t *closures;
    size_t closure_count;
} store_location_write_t;

/** One location: error 0 with `location`, or a negative STORE_E* code (location NULL). */
typedef void (*store_location_cb)(int error, const store_location_t *location, void *arg);

/** A page of locations: `more` when another page follows the last item. */
typedef void (*store_location_list_cb)(int error, const store_location_t *items, size_t count,
                                       bool more, void *arg);

/** A deletion: 0, STORE_ENOTFOUND, or STORE_ECONFLICT with the live resources in `resources`. */
typedef void (*store_location_delete_cb)(int error, long resources, void *arg);

store_operation_t *store_locations_insert(store_pool_t *pool, const eng_id_t *organization,
                                          const store_location_write_t *write, store_location_cb cb,
                                          void *arg);

/** STORE_ENOTFOUND when the location is not a live one of the organization. */
store_operation_t *store_locations_update(store_pool_t *pool, const eng_id_t *organization,
                                          const eng_id_t *id, const store_location_write_t *write,
                                          store_location_cb cb, void *arg);

store_operation_t *store_locations_get(store_pool_t *pool, const eng_id_t *organization,
                                       const eng_id_t *id, store_location_cb cb, void *arg);

/** Up to `limit` locations in id order, after `cursor` (NULL: from the start). */
store_operation_t *store_locations_list(store_pool_t *pool, const eng_id_t *organization,
                                        const eng_id_t *cursor, int limit,
                                        store_location_list_cb cb, void *arg);

/** Soft-deletes a location that no live resource uses. */
store_operation_t *store_locations_delete(store_pool_t *pool, const eng_id_t *organization,
                                          const eng_id_t *id, store_location_delete_cb cb,
                                          void *arg);

#endif
