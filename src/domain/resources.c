/*
 * Resources and their date overrides: the rules (see resources.h), then the
 * typed store. A refused input never reaches the database, so a bad request
 * changes nothing. The rules are checked in the order of the fields of the
 * API's resource, so the field a refusal names does not depend on the edge.
 */
#include "domain/resources.h"

#include <string.h>

static int check_kind(domain_error_t *error, const char *kind)
{
    int rc = domain_check_text(error, "kind", kind, 1, 20);
    if (rc == 0 && kind && strcmp(kind, "staff") != 0 && strcmp(kind, "room") != 0 &&
        strcmp(kind, "equipment") != 0)
        rc = domain_invalid(error, "kind", "kind must be staff, room or equipment.");
    return rc;
}

int domain_resource_check(const domain_resource_input_t *input, bool create, domain_error_t *error)
{
    int rc = create ? domain_check_required(error, "kind", input->kind != NULL) : 0;
    if (rc == 0)
        rc = check_kind(error, input->kind);
    if (rc == 0 && create)
        rc = domain_check_required(error, "name", input->name != NULL);
    if (rc == 0)
        rc = domain_check_text(error, "name", input->name, 1, 200);
    if (rc == 0)
        rc = domain_check_text(error, "email", input->email, 1, 320);
    if (rc == 0)
        rc = domain_check_text(error, "phone", input->phone, 1, 50);
    if (rc == 0)
        rc = domain_check_zone(error, "timezone", input->timezone);
    if (rc == 0 && create)
        rc = domain_check_required(error, "working_hours", input->working_hours != NULL);
    return rc;
}

store_operation_t *domain_resources_create(store_pool_t *pool, const eng_id_t *organization,
                                           const domain_resource_input_t *input,
                                           store_resource_cb cb, void *arg, domain_error_t *error)
{
    if (domain_resource_check(input, true, error) != 0)
        return NULL;
    return domain_started(store_resources_insert(pool, organization, input, cb, arg), error);
}

store_operation_t *domain_resources_update(store_pool_t *pool, const eng_id_t *organization,
                                           const eng_id_t *id, const domain_resource_input_t *input,
                                           store_resource_cb cb, void *arg, domain_error_t *error)
{
    if (domain_resource_check(input, false, error) != 0)
        return NULL;
    return domain_started(store_resources_update(pool, organization, id, input, cb, arg), error);
}

store_operation_t *domain_resources_get(store_pool_t *pool, const eng_id_t *organization,
                                        const eng_id_t *id, store_resource_cb cb, void *arg,
                                        domain_error_t *error)
{
    return domain_started(store_resources_get(pool, organization, id, cb, arg), error);
}

store_operation_t *domain_resources_list(store_pool_t *pool, const eng_id_t *organization,
                                         const eng_id_t *cursor, int limit,
                                         store_resource_list_cb cb, void *arg,
                                         domain_error_t *error)
{
    return domain_started(store_resources_list(pool, organization, cursor, limit, cb, arg), error);
}

store_operation_t *domain_resources_delete(store_pool_t *pool, const eng_id_t *organization,
                                           const eng_id_t *id, store_resource_done_cb cb, void *arg,
                                           domain_error_t *error)
{
    return domain_started(store_resources_delete(pool, organization, id, cb, arg), error);
}

store_operation_t *domain_overrides_put(store_pool_t *pool, const eng_id_t *organization,
                                        const eng_id_t *resource, int32_t day,
                                        const eng_day_hours_t *hours, store_override_cb cb,
                                        void *arg, domain_error_t *error)
{
    if (hours == NULL) {
        domain_invalid(error, "hours", "hours is required: [[\"10:00\",\"14:00\"]], [] = off.");
        return NULL;
    }
    return domain_started(store_overrides_put(pool, organization, resource, day, hours, cb, arg),
                          error);
}

store_operation_t *domain_overrides_delete(store_pool_t *pool, const eng_id_t *organization,
                                           const eng_id_t *resource, int32_t day,
                                           store_resource_done_cb cb, void *arg,
                                           domain_error_t *error)
{
    return domain_started(store_overrides_delete(pool, organization, resource, day, cb, arg),
                          error);
}

store_operation_t *domain_overrides_list(store_pool_t *pool, const eng_id_t *organization,
                                         const eng_id_t *resource, const int32_t *from,
                                         const int32_t *to, const int32_t *after, int limit,
                                         store_override_list_cb cb, void *arg,
                                         domain_error_t *error)
{
    return domain_started(
        store_overrides_list(pool, organization, resource, from, to, after, limit, cb, arg), error);
}
