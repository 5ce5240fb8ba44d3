/*
 * Resources (staff, rooms, equipment) and their date overrides in the
 * database, as structs: the typed store for the domain layer. Every function
 * runs on the loop, starts one operation on the pool and returns it
 * (store_operation_cancel forgets it), or NULL when the pool refuses it (then
 * nothing is called back). A callback runs once, on the loop; the structs it
 * receives (and their strings) are valid only during the call.
 */
#ifndef SLOTD_STORE_RESOURCES_H
#define SLOTD_STORE_RESOURCES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slotd/engine.h"
#include "store/operation.h"

/** A resource as stored. */
typedef struct {
    eng_id_t id;
    const char *kind; /**< "staff", "room" or "equipment" */
    const char *name;
    bool has_location;
    eng_id_t location_id; /**< when has_location */
    const char *email;    /**< NULL: none */
    const char *phone;    /**< NULL: none */
    const char *timezone; /**< the zone in effect: its own, else its location's, else the
                               organization's */
    const char *organization_timezone;
    eng_week_t working_hours;
    bool active;
    int64_t created_at, updated_at; /**< UTC seconds */
} store_resource_t;

/**
 * What a write sets. For PATCH, only the fields marked `*_set` (or non-NULL
 * kind, name, working_hours) change; an insert takes kind, name and
 * working_hours, the rest when given, and is active unless active_set says
 * otherwise.
 */
typedef struct {
    const char *kind; /**< NULL: unchanged (PATCH) */
    const char *name; /**< NULL: unchanged (PATCH) */
    bool location_set, email_set, phone_set, timezone_set, active_set;
    const eng_id_t *location_id; /**< NULL: none (with location_set: cleared) */
    const char *email;           /**< NULL with email_set: cleared */
    const char *phone;
    const char *timezone;            /**< NULL: its location's, else the organization's */
    const eng_week_t *working_hours; /**< NULL: unchanged (PATCH) */
    bool active;
} store_resource_write_t;

/** A date override: a resource's hours on one local date instead of its working hours. */
typedef struct {
    int32_t day;           /**< local date: days since 1970-01-01 */
    eng_day_hours_t hours; /**< no range: off that day */
} store_override_t;

/**
 * One resource: error 0 with `resource`, or a negative STORE_E* code
 * (resource NULL): STORE_ENOTFOUND when it is not a live one of the
 * organization, STORE_EREFERENCE when the location a write names is not.
 */
typedef void (*store_resource_cb)(int error, const store_resource_t *resource, void *arg);

/** A page of resources: `more` when another page follows the last item. */
typedef void (*store_resource_list_cb)(int error, const store_resource_t *items, size_t count,
                                       bool more, void *arg);

/** A deletion (of a resource or an override): 0, STORE_ENOTFOUND, or another STORE_E* code. */
typedef void (*store_resource_done_cb)(int error, void *arg);

/** An override written: `created` when the date had none before. */
typedef void (*store_override_cb)(int error, const store_override_t *override, bool created,
                                  void *arg);

/** A page of overrides in date order: `more` when another page follows the last item. */
typedef void (*store_override_list_cb)(int error, const store_override_t *items, size_t count,
                                       bool more, void *arg);

/** STORE_EREFERENCE when write->location_id is not a live location of the organization. */
store_operation_t *store_resources_insert(store_pool_t *pool, const eng_id_t *organization,
                                          const store_resource_write_t *write, store_resource_cb cb,
                                          void *arg);

/** STORE_ENOTFOUND when the resource is not a live one of the organization (whatever the
 *  location), else STORE_EREFERENCE when the location it is given is not. */
store_operation_t *store_resources_update(store_pool_t *pool, const eng_id_t *organization,
                                          const eng_id_t *id, const store_resource_write_t *write,
                                          store_resource_cb cb, void *arg);

store_operation_t *store_resources_get(store_pool_t *pool, const eng_id_t *organization,
                                       const eng_id_t *id, store_resource_cb cb, void *arg);

/** Up to `limit` resources in id order, after `cursor` (NULL: from the start). */
store_operation_t *store_resources_list(store_pool_t *pool, const eng_id_t *organization,
                                        const eng_id_t *cursor, int limit,
                                        store_resource_list_cb cb, void *arg);

/** Soft-deletes a resource: it stops being offered, its bookings stay. */
store_operation_t *store_resources_delete(store_pool_t *pool, const eng_id_t *organization,
                                          const eng_id_t *id, store_resource_done_cb cb, void *arg);

/** Sets the hours of a live resource on `day` (replacing an override of that date). */
store_operation_t *store_overrides_put(store_pool_t *pool, const eng_id_t *organization,
                                       const eng_id_t *resource, int32_t day,
                                       const eng_day_hours_t *hours, store_override_cb cb,
                                       void *arg);

/** Removes the override of `day`; STORE_ENOTFOUND when a live resource has none that day. */
store_operation_t *store_overrides_delete(store_pool_t *pool, const eng_id_t *organization,
                                          const eng_id_t *resource, int32_t day,
                                          store_resource_done_cb cb, void *arg);

/**
 * Up to `limit` overrides of a live resource (else STORE_ENOTFOUND) in date
 * order, from `from` to `to` (both included) and after `after`; each NULL:
 * unbounded.
 */
store_operation_t *store_overrides_list(store_pool_t *pool, const eng_id_t *organization,
                                        const eng_id_t *resource, const int32_t *from,
                                        const int32_t *to, const int32_t *after, int limit,
                                        store_override_list_cb cb, void *arg);

#endif
