/*
 * The organization: the rules (see organization.h), then the typed store. A
 * refused input never reaches the database, so a bad request changes nothing.
 */
#include "domain/organization.h"

#include <string.h>

#include "slotd/tz.h"

int domain_organization_check(const domain_organization_input_t *input, domain_error_t *error)
{
    const store_organization_write_t *write = &input->write;
    tz_zone_t *zone;
    int rc = domain_check_given_text(error, "name", &input->name, 1, 200, false);
    if (rc)
        return rc;
    if (input->timezone.given != DOMAIN_ABSENT &&
        (input->timezone.given != DOMAIN_GIVEN || tz_zone_find(input->timezone.text, &zone)))
        return domain_invalid(error, "timezone",
                              "timezone must be an IANA time zone, e.g. Europe/Warsaw.");
    if (input->language.given != DOMAIN_ABSENT &&
        (input->language.given != DOMAIN_GIVEN ||
         (strcmp(input->language.text, "en") != 0 && strcmp(input->language.text, "es") != 0 &&
          strcmp(input->language.text, "pl") != 0 && strcmp(input->language.text, "de") != 0)))
        return domain_invalid(error, "language", "language must be one of en, es, pl, de.");
    if (write->reminders_set) {
        bool ok = write->reminder_offset_count <= STORE_MAX_REMINDER_OFFSETS;
        for (size_t i = 0; ok && i < write->reminder_offset_count; i++) {
            int32_t m = write->reminder_offsets[i];
            ok = m >= 1 && m <= STORE_MAX_REMINDER_MINUTES;
            for (size_t k = 0; ok && k < i; k++)
                ok = write->reminder_offsets[k] != m;
        }
        if (!ok)
            return domain_invalid(error, "reminder_offsets_minutes",
                                  "Give at most %d distinct whole minutes from 1 to %d, e.g. "
                                  "[1440, 120].",
                                  STORE_MAX_REMINDER_OFFSETS, STORE_MAX_REMINDER_MINUTES);
    }
    if (write->closures_set && write->closure_count > STORE_MAX_ORGANIZATION_CLOSURES)
        return domain_invalid(error, "closures", "Give a list of dates (YYYY-MM-DD), at most %d.",
                              STORE_MAX_ORGANIZATION_CLOSURES);
    return 0;
}

store_operation_t *domain_organization_get(store_pool_t *pool, const eng_id_t *organization,
                                           store_organization_cb cb, void *arg,
                                           domain_error_t *error)
{
    return domain_started(store_organization_get(pool, organization, cb, arg), error);
}

store_operation_t *domain_organization_update(store_pool_t *pool, const eng_id_t *organization,
                                              const domain_organization_input_t *input,
                                              store_organization_cb cb, void *arg,
                                              domain_error_t *error)
{
    if (domain_organization_check(input, error) != 0)
        return NULL;
    store_organization_write_t write = input->write;
    write.name = input->name.given == DOMAIN_GIVEN ? input->name.text : NULL;
    write.timezone = input->timezone.given == DOMAIN_GIVEN ? input->timezone.text : NULL;
    write.language = input->language.given == DOMAIN_GIVEN ? input->language.text : NULL;
    return domain_started(store_organization_update(pool, organization, &write, cb, arg), error);
}
