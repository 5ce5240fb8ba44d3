/*
 * Locations: the rules (see locations.h), then the typed store. A refused
 * input never reaches the database, so a bad request changes nothing.
 */
#include "domain/locations.h"

#include <string.h>

int domain_location_check(const domain_location_input_t *input, bool create, domain_error_t *error)
{
    if (create && input->name == NULL)
        return domain_invalid(error, "name", "name is required.");
    int rc = domain_check_text(error, "name", input->name, 1, 200);
    if (rc == 0)
        rc = domain_check_text(error, "address", input->address, 1, 500);
    if (rc == 0)
        rc = domain_check_text(error, "phone", input->phone, 1, 50);
    if (rc == 0)
        rc = domain_check_zone(error, "timezone", input->timezone);
    if (rc == 0 && input->closures_set)
        rc = domain_check_dates(error, "closures", input->closures, input->closure_count,
                                STORE_MAX_CLOSURES);
    return rc;
}

store_operation_t *domain_locations_create(store_pool_t *pool, const eng_id_t *organization,
                                           const domain_location_input_t *input,
                                           store_location_cb cb, void *arg, domain_error_t *error)
{
    if (domain_location_check(input, true, error) != 0)
        return NULL;
    return domain_started(store_locations_insert(pool, organization, input, cb, arg), error);
}

store_operation_t *domain_locations_update(store_pool_t *pool, const eng_id_t *organization,
                                           const eng_id_t *id, const domain_location_input_t *input,
                                           store_location_cb cb, void *arg, domain_error_t *error)
{
    if (domain_location_check(input, false, error) != 0)
        return NULL;
    return domain_started(store_locations_update(pool, organization, id, input, cb, arg), error);
}

store_operation_t *domain_locations_get(store_pool_t *pool, const eng_id_t *organization,
                                        const eng_id_t *id, store_location_cb cb, void *arg,
                                        domain_error_t *error)
{
    return domain_started(store_locations_get(pool, organization, id, cb, arg), error);
}

store_operation_t *domain_locations_list(store_pool_t *pool, const eng_id_t *organization,
                                         const eng_id_t *cursor, int limit,
                                         store_location_list_cb cb, void *arg,
                                         domain_error_t *error)
{
    return domain_started(store_locations_list(pool, organization, cursor, limit, cb, arg), error);
}

store_operation_t *domain_locations_delete(store_pool_t *pool, const eng_id_t *organization,
                                           const eng_id_t *id, store_location_delete_cb cb,
                                           void *arg, domain_error_t *error)
{
    return domain_started(store_locations_delete(pool, organization, id, cb, arg), error);
}
