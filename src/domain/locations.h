/*
 * Locations (branches), the domain's rules: a name of 1–200 characters, an
 * address of 1–500 and a phone of 1–50 (both optional), an IANA zone (absent:
 * the organization's), WEEK business hours (validated by the codec when
 * decoded), and at most 1000 closure dates, each listed once.
 *
 * Each function runs on the loop. It either refuses its input (returns NULL,
 * `error` filled with DOMAIN_EINVALID), or starts the store operation and
 * returns it (NULL with DOMAIN_EBUSY when the store refused it): the result
 * then reaches `cb` once, unless the caller cancels the operation.
 */
#ifndef SLOTD_DOMAIN_LOCATIONS_H
#define SLOTD_DOMAIN_LOCATIONS_H

#include "domain/domain.h"
#include "store/locations.h"

/** A location to create or the changes of a PATCH (only what is set changes). */
typedef store_location_write_t domain_location_input_t;

/** Checks a location's fields; `create`: name is required. */
int domain_location_check(const domain_location_input_t *input, bool create, domain_error_t *error);

store_operation_t *domain_locations_create(store_pool_t *pool, const eng_id_t *organization,
                                           const domain_location_input_t *input,
                                           store_location_cb cb, void *arg, domain_error_t *error);

store_operation_t *domain_locations_update(store_pool_t *pool, const eng_id_t *organization,
                                           const eng_id_t *id, const domain_location_input_t *input,
                                           store_location_cb cb, void *arg, domain_error_t *error);

store_operation_t *domain_locations_get(store_pool_t *pool, const eng_id_t *organization,
                                        const eng_id_t *id, store_location_cb cb, void *arg,
                                        domain_error_t *error);

store_operation_t *domain_locations_list(store_pool_t *pool, const eng_id_t *organization,
                                         const eng_id_t *cursor, int limit,
                                         store_location_list_cb cb, void *arg,
                                         domain_error_t *error);

/** Refused (STORE_ECONFLICT in the callback) while live resources belong to the location. */
store_operation_t *domain_locations_delete(store_pool_t *pool, const eng_id_t *organization,
                                           const eng_id_t *id, store_location_delete_cb cb,
                                           void *arg, domain_error_t *error);

#endif
