/*
 * The organization: the rules (see organization.h), then the typed store. A
 * refused input never reaches the database, so a bad request changes nothing.
 */
#include "domain/organization.h"

#include <stdio.h>
#include <string.h>

#include "slotd/tz.h"

/* Refuses with DOMAIN_EUNAVAILABLE: `what` needs the secret_key setting, which is not set. */
static int needs_secret_key(domain_error_t *error, const char *what)
{
    error->code = DOMAIN_EUNAVAILABLE;
    snprintf(error->field, sizeof(error->field), "%s", "secret_key");
    snprintf(error->message, sizeof(error->message),
             "%s needs the secret_key setting (SLOTD_SECRET_KEY), which encrypts it; it is not "
             "set.",
             what);
    return DOMAIN_EUNAVAILABLE;
}

/* The integrations of a PATCH: an object of known fields, a Retell API key that is text. */
static int check_integrations(const codec_secret_key_t *key,
                              const domain_organization_input_t *input, domain_error_t *error)
{
    if (input->integrations == DOMAIN_ABSENT)
        return 0;
    if (input->integrations != DOMAIN_GIVEN)
        return domain_invalid(error, "integrations",
                              "integrations must be an object: {\"retell_api_key\":\"...\"} "
                              "(null clears the key).");
    if (input->integrations_unknown) {
        char field[CODEC_FIELD_MAX];
        snprintf(field, sizeof(field), "integrations.%s", input->integrations_unknown);
        return domain_invalid(error, field, "Unknown field.");
    }
    const domain_text_t *retell = &input->retell_api_key;
    if (retell->given == DOMAIN_ABSENT || retell->given == DOMAIN_NULL)
        return 0;
    int rc = domain_check_given_text(error, "integrations.retell_api_key", retell, 1,
                                     DOMAIN_RETELL_API_KEY_MAX, false);
    if (rc)
        return rc;
    return key == NULL ? needs_secret_key(error, "A Retell API key") : 0;
}

int domain_organization_check(const codec_secret_key_t *key,
                              const domain_organization_input_t *input, domain_error_t *error)
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
    return check_integrations(key, input, error);
}

store_operation_t *domain_organization_get(store_pool_t *pool, const eng_id_t *organization,
                                           store_organization_cb cb, void *arg,
                                           domain_error_t *error)
{
    return domain_started(store_organization_get(pool, organization, cb, arg), error);
}

store_operation_t *domain_organization_update(store_pool_t *pool, const codec_secret_key_t *key,
                                              const eng_id_t *organization,
                                              const domain_organization_input_t *input,
                                              store_organization_cb cb, void *arg,
                                              domain_error_t *error)
{
    if (domain_organization_check(key, input, error) != 0)
        return NULL;
    store_organization_write_t write = input->write;
    write.name = input->name.given == DOMAIN_GIVEN ? input->name.text : NULL;
    write.timezone = input->timezone.given == DOMAIN_GIVEN ? input->timezone.text : NULL;
    write.language = input->language.given == DOMAIN_GIVEN ? input->language.text : NULL;
    write.retell_api_key_set =
        input->retell_api_key.given == DOMAIN_GIVEN || input->retell_api_key.given == DOMAIN_NULL;
    write.retell_api_key =
        input->retell_api_key.given == DOMAIN_GIVEN ? input->retell_api_key.text : NULL;
    return domain_started(store_organization_update(pool, key, organization, &write, cb, arg),
                          error);
}

store_operation_t *domain_organization_retell_key(store_pool_t *pool, const codec_secret_key_t *key,
                                                  const eng_id_t *organization,
                                                  store_organization_retell_key_cb cb, void *arg,
                                                  domain_error_t *error)
{
    if (key == NULL) {
        needs_secret_key(error, "A Retell API key");
        return NULL;
    }
    return domain_started(store_organization_retell_key(pool, key, organization, cb, arg), error);
}
