/*
 * The typed store for locations (see locations.h). The SQL is in
 * sql/locations.sql; this file alone knows its parameter positions and result
 * columns. Rows are read into store_location_t with strings pointing into the
 * pool's result (valid during the callback), business hours parsed back into
 * a WEEK and closures into day numbers, so callers never see SQL text forms.
 * A row the service cannot read (another program wrote invalid hours) is an
 * internal error, never a half-filled struct.
 */
#include "store/locations.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "slotd/alloc.h"
#include "slotd/codec.h"
#include "slotd/tz.h"

/* The columns of every statement that answers locations. */
enum {
    COL_ID,
    COL_NAME,
    COL_ADDRESS,
    COL_PHONE,
    COL_TIMEZONE,
    COL_BUSINESS_HOURS,
    COL_CLOSURES,
    COL_CREATED,
    COL_UPDATED,
    COL_ORGANIZATION_TIMEZONE
};

/* Reads one row; out->closures is allocated (release with free_row). */
static int read_row(const PGresult *res, int row, store_location_t *out)
{
    memset(out, 0, sizeof(*out));
    if (codec_parse_uuid(PQgetvalue(res, row, COL_ID), &out->id) != 0)
        return STORE_EINTERNAL;
    out->name = PQgetvalue(res, row, COL_NAME);
    out->address = store_nullable(res, row, COL_ADDRESS);
    out->phone = store_nullable(res, row, COL_PHONE);
    out->timezone = PQgetvalue(res, row, COL_TIMEZONE);
    out->organization_timezone = PQgetvalue(res, row, COL_ORGANIZATION_TIMEZONE);
    out->created_at = strtoll(PQgetvalue(res, row, COL_CREATED), NULL, 10);
    out->updated_at = strtoll(PQgetvalue(res, row, COL_UPDATED), NULL, 10);
    int rc = 0;
    const char *hours = store_nullable(res, row, COL_BUSINESS_HOURS);
    if (hours) {
        out->has_business_hours = true;
        rc = store_week_parse(hours, &out->business_hours);
    }
    int32_t *days;
    if (store_dates_parse(PQgetvalue(res, row, COL_CLOSURES), STORE_MAX_CLOSURES, &days,
                          &out->closure_count) != 0)
        rc = STORE_EINTERNAL;
    out->closures = days;
    if (rc)
        log_error("store_unreadable_row", "table", "locations", "id", PQgetvalue(res, row, COL_ID),
                  NULL);
    return rc;
}

static void free_row(store_location_t *location)
{
    free((void *)location->closures);
    location->closures = NULL;
}

static void on_one(store_operation_t *operation, const PGresult *res, int error)
{
    store_location_cb cb = (store_location_cb)operation->callback;
    store_location_t location = {0};
    if (!error && PQntuples(res) != 1)
        error = STORE_ENOTFOUND;
    if (!error)
        error = read_row(res, 0, &location);
    cb(error, error ? NULL : &location, operation->arg);
    free_row(&location);
}

store_operation_t *store_locations_insert(store_pool_t *pool, const eng_id_t *organization,
                                          const store_location_write_t *write, store_location_cb cb,
                                          void *arg)
{
    char org[37];
    codec_format_uuid(organization, org);
    char *hours = write->business_hours ? store_week_text(write->business_hours) : NULL;
    char *closures =
        write->closures_set ? store_dates_literal(write->closures, write->closure_count) : NULL;
    const char *values[7] = {org,   write->name, write->address, write->phone, write->timezone,
                             hours, closures};
    store_operation_t *operation =
        store_operation_start(pool, "location_insert", 7, values, on_one, (void (*)(void))cb, arg);
    free(hours);
    free(closures);
    return operation;
}

store_operation_t *store_locations_update(store_pool_t *pool, const eng_id_t *organization,
                                          const eng_id_t *id, const store_location_write_t *write,
                                          store_location_cb cb, void *arg)
{
    char org[37], location[37];
    codec_format_uuid(organization, org);
    codec_format_uuid(id, location);
    char *hours = write->business_hours ? store_week_text(write->business_hours) : NULL;
    char *closures =
        write->closures_set ? store_dates_literal(write->closures, write->closure_count) : NULL;
    const char *values[12] = {org,
                              location,
                              write->name,
                              write->address_set ? "true" : "false",
                              write->address,
                              write->phone_set ? "true" : "false",
                              write->phone,
                              write->timezone_set ? "true" : "false",
                              write->timezone,
                              write->business_hours_set ? "true" : "false",
                              hours,
                              closures};
    store_operation_t *operation =
        store_operation_start(pool, "location_update", 12, values, on_one, (void (*)(void))cb, arg);
    free(hours);
    free(closures);
    return operation;
}

store_operation_t *store_locations_get(store_pool_t *pool, const eng_id_t *organization,
                                       const eng_id_t *id, store_location_cb cb, void *arg)
{
    char org[37], location[37];
    codec_format_uuid(organization, org);
    codec_format_uuid(id, location);
    const char *values[2] = {org, location};
    return store_operation_start(pool, "location_get", 2, values, on_one, (void (*)(void))cb, arg);
}

/* The list asks for one row more than the page: its presence means another page. */
static void on_list(store_operation_t *operation, const PGresult *res, int error)
{
    store_location_list_cb cb = (store_location_list_cb)operation->callback;
    int limit = (int)operation->extra;
    if (error) {
        cb(error, NULL, 0, false, operation->arg);
        return;
    }
    int rows = PQntuples(res);
    int page = rows < limit ? rows : limit;
    store_location_t *items = slotd_calloc(page ? (size_t)page : 1, sizeof(*items));
    for (int row = 0; row < page && !error; row++)
        error = read_row(res, row, &items[row]);
    if (error)
        cb(error, NULL, 0, false, operation->arg);
    else
        cb(0, items, (size_t)page, rows > limit, operation->arg);
    for (int row = 0; row < page; row++)
        free_row(&items[row]);
    free(items);
}

store_operation_t *store_locations_list(store_pool_t *pool, const eng_id_t *organization,
                                        const eng_id_t *cursor, int limit,
                                        store_location_list_cb cb, void *arg)
{
    return store_operation_start_page(pool, "location_list", organization, cursor, limit, on_list,
                                      (void (*)(void))cb, arg);
}

/* location_delete answers: live resources, rows deleted, whether it (still) exists. */
static void on_delete(store_operation_t *operation, const PGresult *res, int error)
{
    store_location_delete_cb cb = (store_location_delete_cb)operation->callback;
    long resources = 0;
    if (!error) {
        resources = strtol(PQgetvalue(res, 0, 0), NULL, 10);
        if (strcmp(PQgetvalue(res, 0, 1), "1") == 0)
            error = 0;
        else if (strcmp(PQgetvalue(res, 0, 2), "t") == 0)
            error = STORE_ECONFLICT;
        else
            error = STORE_ENOTFOUND;
    }
    cb(error, resources, operation->arg);
}

store_operation_t *store_locations_delete(store_pool_t *pool, const eng_id_t *organization,
                                          const eng_id_t *id, store_location_delete_cb cb,
                                          void *arg)
{
    char org[37], location[37];
    codec_format_uuid(organization, org);
    codec_format_uuid(id, location);
    const char *values[2] = {org, location};
    return store_operation_start(pool, "location_delete", 2, values, on_delete, (void (*)(void))cb,
                                 arg);
}
