/*
 * The caller's organization in the database, as structs: the typed store for
 * the domain layer. Every function runs on the loop, starts one operation on
 * the pool and returns it (store_operation_cancel forgets it), or NULL when
 * the pool refuses it (then nothing is called back). A callback runs once, on
 * the loop; the struct it receives (and its strings) is valid only during the
 * call.
 */
#ifndef SLOTD_STORE_ORGANIZATION_H
#define SLOTD_STORE_ORGANIZATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slotd/engine.h"
#include "store/operation.h"

#define STORE_MAX_ORGANIZATION_CLOSURES 1000
#define STORE_MAX_REMINDER_OFFSETS 10
#define STORE_MAX_REMINDER_MINUTES 525600 /* a year */

/** An organization as stored. */
typedef struct {
    eng_id_t id;
    const char *name;
    const char *timezone;
    bool has_business_hours;
    eng_week_t business_hours; /**< when has_business_hours */
    const int32_t *closures;   /**< local dates (days since 1970-01-01), as given */
    size_t closure_count;
    const char *language;                                 /**< en, es, pl or de */
    int32_t reminder_offsets[STORE_MAX_REMINDER_OFFSETS]; /**< minutes before a start */
    size_t reminder_offset_count;
} store_organization_t;

/** What a PATCH changes: a non-NULL name or zone, and the fields marked `*_set`. */
typedef struct {
    const char *name;     /**< NULL: unchanged */
    const char *timezone; /**< NULL: unchanged */
    bool business_hours_set, closures_set;
    const eng_week_t *business_hours; /**< NULL with business_hours_set: cleared */
    const int32_t *closures;
    size_t closure_count;
    const char *language; /**< NULL: unchanged */
    bool reminders_set;
    const int32_t *reminder_offsets;
    size_t reminder_offset_count;
} store_organization_write_t;

/** The organization: error 0 with `organization`, or a negative STORE_E* code (NULL). */
typedef void (*store_organization_cb)(int error, const store_organization_t *organization,
                                      void *arg);

/** STORE_ENOTFOUND when the organization is not a live one. */
store_operation_t *store_organization_get(store_pool_t *pool, const eng_id_t *organization,
                                          store_organization_cb cb, void *arg);

/** STORE_ENOTFOUND when the organization is not a live one. */
store_operation_t *store_organization_update(store_pool_t *pool, const eng_id_t *organization,
                                             const store_organization_write_t *write,
                                             store_organization_cb cb, void *arg);

#endif
