/*
 * Services and their requirement groups, the domain's rules: a name of 1–200
 * characters and a duration of 1–10080 minutes (both required to create); a
 * slot interval of 1–10080 minutes or null (the duration); buffers before and
 * after of 0–1440 minutes and a minimum notice of 0–525600 minutes (each 0
 * when absent at creation); a maximum advance of 0–3660 days or null (no
 * horizon); a price of at most 10 digits and 2 decimals, as text ("180.00")
 * or a number held to whole cents (0.001 is refused, not rounded), or null;
 * an ISO 4217 currency code (three capital letters) or null; active (true
 * when absent at creation). Requirements (required to create) are 1–8
 * groups, each {"resource_ids":[1–256 ids, none listed twice],"mode":"any" or
 * "all"}; every resource named must be a live one of the organization (the
 * store answers STORE_EREFERENCE, naming the first that is not).
 *
 * Each function runs on the loop. It either refuses its input (returns NULL,
 * `error` filled with DOMAIN_EINVALID), or starts the store operation and
 * returns it (NULL with DOMAIN_EBUSY when the store refused it): the result
 * then reaches `cb` once, unless the caller cancels the operation.
 */
#ifndef SLOTD_DOMAIN_SERVICES_H
#define SLOTD_DOMAIN_SERVICES_H

#include "domain/domain.h"
#include "store/services.h"

/** A requirement group as received. */
typedef struct {
    domain_given_t given;         /**< DOMAIN_GIVEN: an object; anything else: MALFORMED */
    const char *mode;             /**< NULL: absent or not text */
    domain_given_t list;          /**< resource_ids: DOMAIN_GIVEN when it is a list */
    size_t count;                 /**< the list's length */
    const eng_id_t *resource_ids; /**< its first `readable` items */
    size_t readable;              /**< the items before the first that is not an id */
} domain_group_t;

/** A price as received: text ("180.00") or a JSON number. */
typedef struct {
    domain_given_t given;
    const char *text; /**< when given as text */
    bool is_number;
    double number; /**< when is_number */
} domain_price_t;

/** A service to create or the changes of a PATCH (only what is given changes). */
typedef struct {
    domain_text_t name;
    domain_whole_t duration_minutes, slot_interval_minutes, buffer_before_minutes,
        buffer_after_minutes, min_notice_minutes, max_advance_days;
    domain_price_t price;
    domain_text_t currency;
    domain_given_t active; /**< DOMAIN_GIVEN: true or false, as active_value says */
    bool active_value;
    domain_given_t requirements; /**< DOMAIN_GIVEN: a list, its groups below */
    const domain_group_t *groups;
    size_t group_count;
} domain_service_input_t;

/**
 * Checks a service's fields (`create`: name, duration and requirements are
 * required, and absent fields take their defaults) and fills `write`; its
 * requirements point into `groups` and into the input's ids.
 */
int domain_service_check(const domain_service_input_t *input, bool create,
                         store_service_write_t *write, store_requirement_t groups[ENG_MAX_GROUPS],
                         domain_error_t *error);

store_operation_t *domain_services_create(store_pool_t *pool, const eng_id_t *organization,
                                          const domain_service_input_t *input,
                                          store_service_write_cb cb, void *arg,
                                          domain_error_t *error);

store_operation_t *domain_services_update(store_pool_t *pool, const eng_id_t *organization,
                                          const eng_id_t *id, const domain_service_input_t *input,
                                          store_service_write_cb cb, void *arg,
                                          domain_error_t *error);

store_operation_t *domain_services_get(store_pool_t *pool, const eng_id_t *organization,
                                       const eng_id_t *id, store_service_cb cb, void *arg,
                                       domain_error_t *error);

store_operation_t *domain_services_list(store_pool_t *pool, const eng_id_t *organization,
                                        const eng_id_t *cursor, int limit, store_service_list_cb cb,
                                        void *arg, domain_error_t *error);

/** A soft delete: the service stops being offered, its bookings stay. */
store_operation_t *domain_services_delete(store_pool_t *pool, const eng_id_t *organization,
                                          const eng_id_t *id, store_service_delete_cb cb, void *arg,
                                          domain_error_t *error);

#endif
