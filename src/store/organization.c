/*
 * The typed store for the organization (see organization.h). The SQL is in
 * sql/organization.sql; this file alone knows its parameter positions and
 * result columns. A row is read into store_organization_t with strings
 * pointing into the pool's result (valid during the callback), business hours
 * parsed back into a WEEK and closures into day numbers. A row the service
 * cannot read (another program wrote invalid hours) is an internal error,
 * never a half-filled struct. The Retell API key is sealed and opened here
 * alone (see organization.h); its additional data is the organization's id.
 */
#include "store/organization.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "slotd/alloc.h"
#include "slotd/codec.h"

/* The columns of organization_get and organization_update. */
enum {
    COL_ID,
    COL_NAME,
    COL_TIMEZONE,
    COL_BUSINESS_HOURS,
    COL_CLOSURES,
    COL_LANGUAGE,
    COL_REMINDERS,
    COL_RETELL_KEY_SET
};

/* Reads the row; out->closures is allocated (the caller frees it). */
static int read_row(const PGresult *res, store_organization_t *out)
{
    memset(out, 0, sizeof(*out));
    if (codec_parse_uuid(PQgetvalue(res, 0, COL_ID), &out->id) != 0)
        return STORE_EINTERNAL;
    out->name = PQgetvalue(res, 0, COL_NAME);
    out->timezone = PQgetvalue(res, 0, COL_TIMEZONE);
    int rc = 0;
    const char *hours = store_nullable(res, 0, COL_BUSINESS_HOURS);
    if (hours) {
        out->has_business_hours = true;
        rc = store_week_parse(hours, &out->business_hours);
    }
    int32_t *days;
    if (store_dates_parse(PQgetvalue(res, 0, COL_CLOSURES), STORE_MAX_ORGANIZATION_CLOSURES, &days,
                          &out->closure_count) != 0)
        rc = STORE_EINTERNAL;
    out->closures = days;
    out->language = PQgetvalue(res, 0, COL_LANGUAGE);
    json_t *reminders = json_loads(PQgetvalue(res, 0, COL_REMINDERS), 0, NULL);
    size_t i;
    json_t *v;
    json_array_foreach(reminders, i, v)
    {
        if (out->reminder_offset_count < STORE_MAX_REMINDER_OFFSETS)
            out->reminder_offsets[out->reminder_offset_count++] = (int32_t)json_integer_value(v);
    }
    if (!json_is_array(reminders))
        rc = STORE_EINTERNAL;
    json_decref(reminders);
    out->retell_api_key_set = strcmp(PQgetvalue(res, 0, COL_RETELL_KEY_SET), "t") == 0;
    if (rc)
        log_error("store_unreadable_row", "table", "organizations", "id",
                  PQgetvalue(res, 0, COL_ID), NULL);
    return rc;
}

static void on_one(store_operation_t *operation, const PGresult *res, int error)
{
    store_organization_cb cb = (store_organization_cb)operation->callback;
    store_organization_t organization = {0};
    if (!error && PQntuples(res) != 1)
        error = STORE_ENOTFOUND;
    if (!error)
        error = read_row(res, &organization);
    cb(error, error ? NULL : &organization, operation->arg);
    free((void *)organization.closures);
}

store_operation_t *store_organization_get(store_pool_t *pool, const eng_id_t *organization,
                                          store_organization_cb cb, void *arg)
{
    char org[37];
    codec_format_uuid(organization, org);
    const char *values[1] = {org};
    return store_operation_start(pool, "organization_get", 1, values, on_one, (void (*)(void))cb,
                                 arg);
}

store_operation_t *store_organization_update(store_pool_t *pool, const codec_secret_key_t *key,
                                             const eng_id_t *organization,
                                             const store_organization_write_t *write,
                                             store_organization_cb cb, void *arg)
{
    char *sealed = NULL;
    if (write->retell_api_key_set && write->retell_api_key &&
        (sealed = store_secret_seal(key, organization->bytes, sizeof(organization->bytes),
                                    write->retell_api_key, strlen(write->retell_api_key))) ==
            NULL) {
        log_error("secret_not_sealed", "table", "organizations", "what", "retell_api_key", NULL);
        return NULL;
    }
    char org[37];
    codec_format_uuid(organization, org);
    char *hours = write->business_hours ? store_week_text(write->business_hours) : NULL;
    char *closures =
        write->closures_set ? store_dates_literal(write->closures, write->closure_count) : NULL;
    char reminders[16 * STORE_MAX_REMINDER_OFFSETS + 4] = "{";
    for (size_t i = 0; write->reminders_set && i < write->reminder_offset_count; i++)
        snprintf(reminders + strlen(reminders), sizeof(reminders) - strlen(reminders), "%s%d",
                 i ? "," : "", (int)write->reminder_offsets[i]);
    strcat(reminders, "}");
    const char *values[10] = {org,
                              write->name,
                              write->timezone,
                              hours,
                              write->business_hours_set ? "true" : "false",
                              closures,
                              write->language,
                              write->reminders_set ? reminders : NULL,
                              sealed,
                              write->retell_api_key_set ? "true" : "false"};
    store_operation_t *operation = store_operation_start(pool, "organization_update", 10, values,
                                                         on_one, (void (*)(void))cb, arg);
    free(hours);
    free(closures);
    free(sealed);
    return operation;
}

/* ---- the Retell API key, opened --------------------------------------------------------- */

typedef struct {
    const codec_secret_key_t *key;
    eng_id_t organization;
} retell_key_state_t;

static void on_retell_key(store_operation_t *operation, const PGresult *res, int error)
{
    store_organization_retell_key_cb cb = (store_organization_retell_key_cb)operation->callback;
    retell_key_state_t *st = operation->state;
    if (!error && PQntuples(res) != 1)
        error = STORE_ENOTFOUND;
    char *plain = NULL;
    size_t length = 0;
    const char *sealed = error ? NULL : store_nullable(res, 0, 0);
    if (sealed &&
        (error = store_secret_open(st->key, st->organization.bytes, sizeof(st->organization.bytes),
                                   sealed, &plain, &length)) != 0) {
        char org[37];
        codec_format_uuid(&st->organization, org);
        log_error("credentials_unreadable", "table", "organizations", "id", org, "what",
                  "retell_api_key", NULL);
    }
    cb(error, error ? NULL : plain, operation->arg);
    codec_secret_free(plain, length);
}

store_operation_t *store_organization_retell_key(store_pool_t *pool, const codec_secret_key_t *key,
                                                 const eng_id_t *organization,
                                                 store_organization_retell_key_cb cb, void *arg)
{
    char org[37];
    codec_format_uuid(organization, org);
    const char *values[1] = {org};
    store_operation_t *operation = store_operation_start(pool, "organization_retell_key", 1, values,
                                                         on_retell_key, (void (*)(void))cb, arg);
    if (operation == NULL)
        return NULL;
    retell_key_state_t *st = slotd_calloc(1, sizeof(*st));
    *st = (retell_key_state_t){key, *organization};
    operation->state = st;
    operation->free_state = free;
    return operation;
}
