/*
 * Services: the rules (see services.h), then the typed store. A refused input
 * never reaches the database, so a bad request changes nothing. The checks
 * run in the order of the API's fields, so a body with several faults is
 * refused for the first, as before the domain layer.
 */
#include "domain/services.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slotd/busy.h"

static const char *const price_message = "price is a decimal like \"180.00\", or null.";

/* A decimal of 1–10 digits and at most 2 decimals ("180", "180.5", "180.00") into cents. */
static bool price_text_cents(const char *text, int64_t *cents)
{
    int digits = 0, decimals = -1;
    int64_t whole = 0, fraction = 0;
    if (*text == 0 || strlen(text) > 13)
        return false;
    for (const char *p = text; *p; p++) {
        if (*p == '.' && decimals < 0) {
            decimals = 0;
        } else if (*p < '0' || *p > '9') {
            return false;
        } else if (decimals < 0) {
            digits++;
            whole = whole * 10 + (*p - '0');
        } else {
            decimals++;
            fraction = fraction * 10 + (*p - '0');
        }
    }
    if (digits < 1 || digits > 10 || decimals == 0 || decimals > 2)
        return false;
    *cents = whole * 100 + (decimals == 1 ? fraction * 10 : fraction);
    return true;
}

/* A number is held to the same rule as a text: whole cents only, the nearest cent must give
 * back the number itself. */
static bool price_number_cents(double number, int64_t *cents)
{
    char text[40];
    if (!(number >= 0 && number < 1e10))
        return false;
    snprintf(text, sizeof(text), "%.2f", number);
    return strtod(text, NULL) == number && price_text_cents(text, cents);
}

static int check_active(domain_given_t active, domain_error_t *error)
{
    if (active == DOMAIN_NULL || active == DOMAIN_MALFORMED)
        return domain_invalid(error, "active", "active must be true or false.");
    return 0;
}

static int check_price(const domain_price_t *price, store_service_write_t *write,
                       domain_error_t *error)
{
    write->price_set = price->given != DOMAIN_ABSENT;
    write->settings.has_price = price->given == DOMAIN_GIVEN;
    if (price->given == DOMAIN_MALFORMED ||
        (write->settings.has_price &&
         !(price->is_number ? price_number_cents(price->number, &write->settings.price_cents)
                            : price_text_cents(price->text, &write->settings.price_cents))))
        return domain_invalid(error, "price", "%s", price_message);
    return 0;
}

static int check_currency(const domain_text_t *currency, store_service_write_t *write,
                          domain_error_t *error)
{
    const char *code = currency->given == DOMAIN_GIVEN ? currency->text : NULL;
    bool ok = currency->given != DOMAIN_MALFORMED && (code == NULL || strlen(code) == 3);
    for (int i = 0; ok && code && i < 3; i++)
        ok = code[i] >= 'A' && code[i] <= 'Z';
    if (!ok)
        return domain_invalid(error, "currency",
                              "currency is an ISO 4217 code like \"PLN\", or null.");
    write->currency_set = currency->given != DOMAIN_ABSENT;
    write->settings.currency = code;
    return 0;
}

/* Refuses a part of group `g`: `part` follows "requirements[g]" in the field's name. */
static int group_refused(domain_error_t *error, size_t g, const char *part, const char *message)
{
    char field[CODEC_FIELD_MAX];
    snprintf(field, sizeof(field), "requirements[%zu]%s", g, part);
    return domain_invalid(error, field, "%s", message);
}

static int check_group(const domain_group_t *group, size_t g, store_requirement_t *out,
                       domain_error_t *error)
{
    if (group->given != DOMAIN_GIVEN)
        return group_refused(error, g, "", "A group is {\"resource_ids\":[...],\"mode\":...}.");
    if (group->mode == NULL || (strcmp(group->mode, "any") != 0 && strcmp(group->mode, "all") != 0))
        return group_refused(error, g, ".mode", "mode must be any or all.");
    if (group->list != DOMAIN_GIVEN || group->count == 0 || group->count > ENG_MAX_GROUP_MEMBERS)
        return group_refused(error, g, ".resource_ids",
                             "resource_ids lists 1 to 256 resource ids.");
    for (size_t k = 0; k < group->count; k++) {
        bool repeated = false;
        for (size_t j = 0; k < group->readable && j < k && !repeated; j++)
            repeated =
                memcmp(&group->resource_ids[j], &group->resource_ids[k], sizeof(eng_id_t)) == 0;
        if (k >= group->readable || repeated) {
            char part[48];
            snprintf(part, sizeof(part), ".resource_ids[%zu]", k);
            return group_refused(error, g, part,
                                 repeated ? "A resource is listed twice in this group."
                                          : "Not a resource id.");
        }
    }
    out->all = strcmp(group->mode, "all") == 0;
    out->resource_ids = group->resource_ids;
    out->resource_count = group->count;
    return 0;
}

static int check_requirements(const domain_service_input_t *input, bool create,
                              store_service_write_t *write,
                              store_requirement_t groups[ENG_MAX_GROUPS], domain_error_t *error)
{
    if (input->requirements == DOMAIN_ABSENT)
        return create ? domain_invalid(error, "requirements", "requirements is required.") : 0;
    if (input->requirements != DOMAIN_GIVEN || input->group_count == 0 ||
        input->group_count > ENG_MAX_GROUPS)
        return domain_invalid(error, "requirements",
                              "requirements is a list of 1 to 8 groups: "
                              "[{\"resource_ids\":[...],\"mode\":\"any\"}].");
    for (size_t g = 0; g < input->group_count; g++)
        if (check_group(&input->groups[g], g, &groups[g], error) != 0)
            return DOMAIN_EINVALID;
    write->requirements_set = true;
    write->settings.requirements = groups;
    write->settings.requirement_count = input->group_count;
    return 0;
}

/* A whole-number field into the write: *set when given (or null), *has when not null. */
static void take_whole(const domain_whole_t *number, bool *set, bool *has, int32_t *value)
{
    *set = number->given != DOMAIN_ABSENT;
    if (has)
        *has = number->given == DOMAIN_GIVEN;
    *value = number->given == DOMAIN_GIVEN ? (int32_t)number->value : 0;
}

int domain_service_check(const domain_service_input_t *input, bool create,
                         store_service_write_t *write, store_requirement_t groups[ENG_MAX_GROUPS],
                         domain_error_t *error)
{
    memset(write, 0, sizeof(*write));
    if (domain_check_given_text(error, "name", &input->name, 1, 200, create) ||
        domain_check_whole(error, "duration_minutes", &input->duration_minutes, 1,
                           ENG_MAX_DURATION_MINUTES, false, create) ||
        domain_check_whole(error, "slot_interval_minutes", &input->slot_interval_minutes, 1,
                           ENG_MAX_DURATION_MINUTES, true, false) ||
        domain_check_whole(error, "buffer_before_minutes", &input->buffer_before_minutes, 0,
                           ENG_MAX_BUFFER_MINUTES, false, false) ||
        domain_check_whole(error, "buffer_after_minutes", &input->buffer_after_minutes, 0,
                           ENG_MAX_BUFFER_MINUTES, false, false) ||
        domain_check_whole(error, "min_notice_minutes", &input->min_notice_minutes, 0,
                           ENG_MAX_NOTICE_MINUTES, false, false) ||
        domain_check_whole(error, "max_advance_days", &input->max_advance_days, 0,
                           ENG_MAX_HORIZON_DAYS, true, false) ||
        check_active(input->active, error) || check_price(&input->price, write, error) ||
        check_currency(&input->currency, write, error) ||
        check_requirements(input, create, write, groups, error))
        return DOMAIN_EINVALID;
    write->settings.name = input->name.given == DOMAIN_GIVEN ? input->name.text : NULL;
    take_whole(&input->duration_minutes, &write->duration_set, NULL,
               &write->settings.duration_minutes);
    take_whole(&input->slot_interval_minutes, &write->slot_interval_set,
               &write->settings.has_slot_interval, &write->settings.slot_interval_minutes);
    take_whole(&input->buffer_before_minutes, &write->buffer_before_set, NULL,
               &write->settings.buffer_before_minutes);
    take_whole(&input->buffer_after_minutes, &write->buffer_after_set, NULL,
               &write->settings.buffer_after_minutes);
    take_whole(&input->min_notice_minutes, &write->min_notice_set, NULL,
               &write->settings.min_notice_minutes);
    take_whole(&input->max_advance_days, &write->max_advance_set, &write->settings.has_max_advance,
               &write->settings.max_advance_days);
    write->active_set = input->active == DOMAIN_GIVEN;
    write->settings.active = write->active_set ? input->active_value : true;
    if (create) {
        /* absent at creation: buffers and notice 0, active (set above); the rest null */
        write->buffer_before_set = write->buffer_after_set = write->min_notice_set = true;
        write->active_set = true;
    }
    return 0;
}

store_operation_t *domain_services_create(store_pool_t *pool, const eng_id_t *organization,
                                          const domain_service_input_t *input,
                                          store_service_write_cb cb, void *arg,
                                          domain_error_t *error)
{
    store_service_write_t write;
    store_requirement_t groups[ENG_MAX_GROUPS];
    if (domain_service_check(input, true, &write, groups, error) != 0)
        return NULL;
    return domain_started(store_services_insert(pool, organization, &write, cb, arg), error);
}

store_operation_t *domain_services_update(store_pool_t *pool, const eng_id_t *organization,
                                          const eng_id_t *id, const domain_service_input_t *input,
                                          store_service_write_cb cb, void *arg,
                                          domain_error_t *error)
{
    store_service_write_t write;
    store_requirement_t groups[ENG_MAX_GROUPS];
    if (domain_service_check(input, false, &write, groups, error) != 0)
        return NULL;
    return domain_started(store_services_update(pool, organization, id, &write, cb, arg), error);
}

store_operation_t *domain_services_get(store_pool_t *pool, const eng_id_t *organization,
                                       const eng_id_t *id, store_service_cb cb, void *arg,
                                       domain_error_t *error)
{
    return domain_started(store_services_get(pool, organization, id, cb, arg), error);
}

store_operation_t *domain_services_list(store_pool_t *pool, const eng_id_t *organization,
                                        const eng_id_t *cursor, int limit, store_service_list_cb cb,
                                        void *arg, domain_error_t *error)
{
    return domain_started(store_services_list(pool, organization, cursor, limit, cb, arg), error);
}

store_operation_t *domain_services_delete(store_pool_t *pool, const eng_id_t *organization,
                                          const eng_id_t *id, store_service_delete_cb cb, void *arg,
                                          domain_error_t *error)
{
    return domain_started(store_services_delete(pool, organization, id, cb, arg), error);
}
