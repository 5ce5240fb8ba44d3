/*
 * Services and their requirement groups in the database, as structs: the
 * typed store for the domain layer. Every function runs on the loop, starts
 * one operation on the pool and returns it (store_operation_cancel forgets
 * it), or NULL when the pool refuses it (then nothing is called back). A
 * callback runs once, on the loop; the structs it receives (and their
 * strings and lists) are valid only during the call.
 *
 * A write that names resources is one statement: it writes nothing unless
 * every resource named is a live one of the organization.
 */
#ifndef SLOTD_STORE_SERVICES_H
#define SLOTD_STORE_SERVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slotd/engine.h"
#include "store/operation.h"

/** One requirement group: a booking takes one of its resources (any) or all of them. */
typedef struct {
    bool all; /**< mode "all"; else "any" */
    const eng_id_t *resource_ids;
    size_t resource_count;
} store_requirement_t;

/** A service's settings, as a read answers them and a write gives them. */
typedef struct {
    const char *name;
    int32_t duration_minutes;
    bool has_slot_interval; /**< false: null, the duration */
    int32_t slot_interval_minutes;
    int32_t buffer_before_minutes, buffer_after_minutes, min_notice_minutes;
    bool has_max_advance; /**< false: null, no horizon */
    int32_t max_advance_days;
    bool has_price;
    int64_t price_cents;  /**< when has_price */
    const char *currency; /**< NULL: none */
    bool active;
    const store_requirement_t *requirements; /**< in position order */
    size_t requirement_count;
} store_service_settings_t;

/** A service as stored. */
typedef struct {
    eng_id_t id;
    store_service_settings_t settings;
    const char *organization_timezone;
    int64_t created_at, updated_at; /**< UTC seconds */
} store_service_t;

/**
 * What a write sets. An insert sets every field (the nullable ones as their
 * has_* say); for PATCH, only the fields marked `*_set` (or a non-NULL name)
 * change, and requirements, when set, replace the groups.
 */
typedef struct {
    store_service_settings_t settings; /**< name NULL: unchanged (PATCH) */
    bool duration_set, slot_interval_set, buffer_before_set, buffer_after_set, min_notice_set,
        max_advance_set, price_set, currency_set, active_set, requirements_set;
} store_service_write_t;

/** One service: error 0 with `service`, or a negative STORE_E* code (service NULL). */
typedef void (*store_service_cb)(int error, const store_service_t *service, void *arg);

/**
 * A write: error 0 with `service`; STORE_EREFERENCE when a requirement names
 * a resource that is not a live one of the organization, `group` and `member`
 * (from 0) saying which, or both -1 when the database refused a resource
 * deleted while the write ran; STORE_ENOTFOUND (PATCH) when the service is
 * not a live one of the organization; or another STORE_E* code.
 */
typedef void (*store_service_write_cb)(int error, const store_service_t *service, int group,
                                       int member, void *arg);

/** A page of services: `more` when another page follows the last item. */
typedef void (*store_service_list_cb)(int error, const store_service_t *items, size_t count,
                                      bool more, void *arg);

/** A deletion: 0 with the service's `id`, or STORE_ENOTFOUND (or another STORE_E* code). */
typedef void (*store_service_delete_cb)(int error, const eng_id_t *id, void *arg);

store_operation_t *store_services_insert(store_pool_t *pool, const eng_id_t *organization,
                                         const store_service_write_t *write,
                                         store_service_write_cb cb, void *arg);

store_operation_t *store_services_update(store_pool_t *pool, const eng_id_t *organization,
                                         const eng_id_t *id, const store_service_write_t *write,
                                         store_service_write_cb cb, void *arg);

store_operation_t *store_services_get(store_pool_t *pool, const eng_id_t *organization,
                                      const eng_id_t *id, store_service_cb cb, void *arg);

/** Up to `limit` services in id order, after `cursor` (NULL: from the start). */
store_operation_t *store_services_list(store_pool_t *pool, const eng_id_t *organization,
                                       const eng_id_t *cursor, int limit, store_service_list_cb cb,
                                       void *arg);

/** Soft-deletes a service: it stops being offered, its bookings stay. */
store_operation_t *store_services_delete(store_pool_t *pool, const eng_id_t *organization,
                                         const eng_id_t *id, store_service_delete_cb cb, void *arg);

#endif
