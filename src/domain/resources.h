/*
 * Resources (staff, rooms, equipment) and their date overrides, the domain's
 * rules: a kind of staff, room or equipment and a name of 1–200 characters
 * (both required to create), an email of 1–320 and a phone of 1–50 characters
 * (both optional), an IANA zone (absent: its location's, else the
 * organization's), WEEK working hours (required to create; validated by the
 * codec when decoded). An override gives one date's hours (required; [] is a
 * day off). The location a resource names must be a live one: the store
 * answers STORE_EREFERENCE when it is not.
 *
 * Each function runs on the loop. It either refuses its input (returns NULL,
 * `error` filled with DOMAIN_EINVALID), or starts the store operation and
 * returns it (NULL with DOMAIN_EBUSY when the store refused it): the result
 * then reaches `cb` once, unless the caller cancels the operation.
 */
#ifndef SLOTD_DOMAIN_RESOURCES_H
#define SLOTD_DOMAIN_RESOURCES_H

#include "domain/domain.h"
#include "store/resources.h"

/** A resource to create or the changes of a PATCH (only what is set changes). */
typedef store_resource_write_t domain_resource_input_t;

/** Checks a resource's fields; `create`: kind, name and working hours are required. */
int domain_resource_check(const domain_resource_input_t *input, bool create, domain_error_t *error);

store_operation_t *domain_resources_create(store_pool_t *pool, const eng_id_t *organization,
                                           const domain_resource_input_t *input,
                                           store_resource_cb cb, void *arg, domain_error_t *error);

store_operation_t *domain_resources_update(store_pool_t *pool, const eng_id_t *organization,
                                           const eng_id_t *id, const domain_resource_input_t *input,
                                           store_resource_cb cb, void *arg, domain_error_t *error);

store_operation_t *domain_resources_get(store_pool_t *pool, const eng_id_t *organization,
                                        const eng_id_t *id, store_resource_cb cb, void *arg,
                                        domain_error_t *error);

store_operation_t *domain_resources_list(store_pool_t *pool, const eng_id_t *organization,
                                         const eng_id_t *cursor, int limit,
                                         store_resource_list_cb cb, void *arg,
                                         domain_error_t *error);

/** A soft delete: the resource stops being offered, its bookings stay. */
store_operation_t *domain_resources_delete(store_pool_t *pool, const eng_id_t *organization,
                                           const eng_id_t *id, store_resource_done_cb cb, void *arg,
                                           domain_error_t *error);

/** Sets a resource's hours on `day`; `hours` NULL (not given) is refused. */
store_operation_t *domain_overrides_put(store_pool_t *pool, const eng_id_t *organization,
                                        const eng_id_t *resource, int32_t day,
                                        const eng_day_hours_t *hours, store_override_cb cb,
                                        void *arg, domain_error_t *error);

store_operation_t *domain_overrides_delete(store_pool_t *pool, const eng_id_t *organization,
                                           const eng_id_t *resource, int32_t day,
                                           store_resource_done_cb cb, void *arg,
                                           domain_error_t *error);

/** Overrides in date order from `from` to `to` (included), after `after`; NULL: unbounded. */
store_operation_t *domain_overrides_list(store_pool_t *pool, const eng_id_t *organization,
                                         const eng_id_t *resource, const int32_t *from,
                                         const int32_t *to, const int32_t *after, int limit,
                                         store_override_list_cb cb, void *arg,
                                         domain_error_t *error);

#endif
