/*
 * The typed store for resources and their date overrides (see resources.h).
 * The SQL is in sql/resources.sql; this file alone knows its parameter
 * positions and result columns. Rows are read into store_resource_t and
 * store_override_t with strings pointing into the pool's result (valid during
 * the callback), working hours parsed back into a WEEK, an override's hours
 * into one day's ranges and its date into a day number, so callers never see
 * SQL text forms. A row the service cannot read (another program wrote
 * invalid hours) is an internal error, never a half-filled struct.
 *
 * A write that names a location answers from one statement whether the
 * resource and the location are live ones, so a missing resource (404) is
 * told from a missing location (400) without a second query, and both are
 * judged on the same snapshot.
 */
#include "store/resources.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "slotd/alloc.h"
#include "slotd/codec.h"
#include "slotd/tz.h"

/* The columns of every statement that answers resources; resource_update adds the last two. */
enum {
    COL_ID,
    COL_KIND,
    COL_NAME,
    COL_LOCATION,
    COL_EMAIL,
    COL_PHONE,
    COL_TIMEZONE,
    COL_WORKING_HOURS,
    COL_ACTIVE,
    COL_CREATED,
    COL_UPDATED,
    COL_ORGANIZATION_TIMEZONE,
    COL_FOUND,
    COL_LOCATION_FOUND
};

static const char *boolean_text(bool value)
{
    return value ? "true" : "false";
}

static int read_resource(const PGresult *res, int row, store_resource_t *out)
{
    memset(out, 0, sizeof(*out));
    const char *location = store_nullable(res, row, COL_LOCATION);
    int rc = codec_parse_uuid(PQgetvalue(res, row, COL_ID), &out->id) == 0 &&
                     (location == NULL || codec_parse_uuid(location, &out->location_id) == 0)
                 ? store_week_parse(PQgetvalue(res, row, COL_WORKING_HOURS), &out->working_hours)
                 : STORE_EINTERNAL;
    out->kind = PQgetvalue(res, row, COL_KIND);
    out->name = PQgetvalue(res, row, COL_NAME);
    out->has_location = location != NULL;
    out->email = store_nullable(res, row, COL_EMAIL);
    out->phone = store_nullable(res, row, COL_PHONE);
    out->timezone = PQgetvalue(res, row, COL_TIMEZONE);
    out->organization_timezone = PQgetvalue(res, row, COL_ORGANIZATION_TIMEZONE);
    out->active = strcmp(PQgetvalue(res, row, COL_ACTIVE), "t") == 0;
    out->created_at = strtoll(PQgetvalue(res, row, COL_CREATED), NULL, 10);
    out->updated_at = strtoll(PQgetvalue(res, row, COL_UPDATED), NULL, 10);
    if (rc)
        log_error("store_unreadable_row", "table", "resources", "id", PQgetvalue(res, row, COL_ID),
                  NULL);
    return rc;
}

/* One resource from a write or a read. No row means operation->extra (0: STORE_ENOTFOUND);
 * resource_update always answers a row, saying which of the resource and its location was
 * not a live one when it updated nothing. */
static void on_resource(store_operation_t *operation, const PGresult *res, int error)
{
    store_resource_cb cb = (store_resource_cb)operation->callback;
    store_resource_t resource;
    if (!error && PQntuples(res) != 1)
        error = operation->extra ? (int)operation->extra : STORE_ENOTFOUND;
    if (!error && PQnfields(res) > COL_LOCATION_FOUND && PQgetisnull(res, 0, COL_ID))
        error =
            strcmp(PQgetvalue(res, 0, COL_FOUND), "t") != 0 ? STORE_ENOTFOUND : STORE_EREFERENCE;
    if (!error)
        error = read_resource(res, 0, &resource);
    cb(error, error ? NULL : &resource, operation->arg);
}

/* A resource write; `missing`: what a missing row means (resource_insert: the location). */
static store_operation_t *start_write(store_pool_t *pool, const char *statement, int count,
                                      const char *const *values, int missing, store_resource_cb cb,
                                      void *arg)
{
    store_operation_t *operation =
        store_operation_start(pool, statement, count, values, on_resource, (void (*)(void))cb, arg);
    if (operation)
        operation->extra = missing;
    return operation;
}

store_operation_t *store_resources_insert(store_pool_t *pool, const eng_id_t *organization,
                                          const store_resource_write_t *write, store_resource_cb cb,
                                          void *arg)
{
    char org[37], location[37];
    codec_format_uuid(organization, org);
    if (write->location_id)
        codec_format_uuid(write->location_id, location);
    char *hours = write->working_hours ? store_week_text(write->working_hours) : NULL;
    const char *values[9] = {org,
                             write->kind,
                             write->name,
                             write->location_id ? location : NULL,
                             write->email,
                             write->phone,
                             write->timezone,
                             hours,
                             boolean_text(!write->active_set || write->active)};
    store_operation_t *operation =
        start_write(pool, "resource_insert", 9, values, STORE_EREFERENCE, cb, arg);
    free(hours);
    return operation;
}

store_operation_t *store_resources_update(store_pool_t *pool, const eng_id_t *organization,
                                          const eng_id_t *id, const store_resource_write_t *write,
                                          store_resource_cb cb, void *arg)
{
    char org[37], resource[37], location[37];
    codec_format_uuid(organization, org);
    codec_format_uuid(id, resource);
    if (write->location_id)
        codec_format_uuid(write->location_id, location);
    char *hours = write->working_hours ? store_week_text(write->working_hours) : NULL;
    const char *values[14] = {org,
                              resource,
                              write->kind,
                              write->name,
                              boolean_text(write->location_set),
                              write->location_set && write->location_id ? location : NULL,
                              boolean_text(write->email_set),
                              write->email,
                              boolean_text(write->phone_set),
                              write->phone,
                              boolean_text(write->timezone_set),
                              write->timezone,
                              hours,
                              write->active_set ? boolean_text(write->active) : NULL};
    store_operation_t *operation = start_write(pool, "resource_update", 14, values, 0, cb, arg);
    free(hours);
    return operation;
}

/* The two parameters of a statement about one row of the organization: its id and the row's. */
typedef struct {
    char organization[37], id[37];
    const char *values[2];
} ids_t;

static const char *const *ids(ids_t *ids, const eng_id_t *organization, const eng_id_t *id)
{
    codec_format_uuid(organization, ids->organization);
    codec_format_uuid(id, ids->id);
    ids->values[0] = ids->organization;
    ids->values[1] = ids->id;
    return ids->values;
}

store_operation_t *store_resources_get(store_pool_t *pool, const eng_id_t *organization,
                                       const eng_id_t *id, store_resource_cb cb, void *arg)
{
    ids_t values;
    return store_operation_start(pool, "resource_get", 2, ids(&values, organization, id),
                                 on_resource, (void (*)(void))cb, arg);
}

/* The list asks for one row more than the page: its presence means another page. */
static void on_resource_list(store_operation_t *operation, const PGresult *res, int error)
{
    store_resource_list_cb cb = (store_resource_list_cb)operation->callback;
    int limit = (int)operation->extra;
    int rows = error ? 0 : PQntuples(res);
    int page = rows < limit ? rows : limit;
    store_resource_t *items = slotd_calloc(page ? (size_t)page : 1, sizeof(*items));
    for (int row = 0; row < page && !error; row++)
        error = read_resource(res, row, &items[row]);
    cb(error, error ? NULL : items, error ? 0 : (size_t)page, !error && rows > limit,
       operation->arg);
    free(items);
}

store_operation_t *store_resources_list(store_pool_t *pool, const eng_id_t *organization,
                                        const eng_id_t *cursor, int limit,
                                        store_resource_list_cb cb, void *arg)
{
    return store_operation_start_page(pool, "resource_list", organization, cursor, limit,
                                      on_resource_list, (void (*)(void))cb, arg);
}

/* A deletion answers the deleted row, or none when there was nothing to delete. */
static void on_done(store_operation_t *operation, const PGresult *res, int error)
{
    store_resource_done_cb cb = (store_resource_done_cb)operation->callback;
    if (!error && PQntuples(res) != 1)
        error = STORE_ENOTFOUND;
    cb(error, operation->arg);
}

store_operation_t *store_resources_delete(store_pool_t *pool, const eng_id_t *organization,
                                          const eng_id_t *id, store_resource_done_cb cb, void *arg)
{
    ids_t values;
    return store_operation_start(pool, "resource_delete", 2, ids(&values, organization, id),
                                 on_done, (void (*)(void))cb, arg);
}

/* ---- date overrides ------------------------------------------------------------------------ */

/* One day's hours as stored: the JSON form of a week's day, e.g. [["10:00","14:00"]]. */
static char *day_hours_text(const eng_day_hours_t *hours)
{
    eng_week_t week = {0};
    week.day[0] = *hours;
    json_t *whole = codec_week_to_json(&week);
    char *text = json_dumps(json_object_get(whole, "mon"), JSON_COMPACT);
    json_decref(whole);
    return text;
}

/* Reads an override from columns `date` and `date` + 1 (its hours). */
static int read_override(const PGresult *res, int row, int date, store_override_t *out)
{
    json_t *hours = json_loads(PQgetvalue(res, row, date + 1), 0, NULL);
    char field[CODEC_FIELD_MAX];
    int rc =
        tz_parse_date(PQgetvalue(res, row, date), &out->day) == 0 && hours &&
                codec_day_hours_from_json(hours, "hours", &out->hours, field, sizeof(field)) == 0
            ? 0
            : STORE_EINTERNAL;
    json_decref(hours);
    if (rc)
        log_error("store_unreadable_row", "table", "resource_overrides", "day",
                  PQgetvalue(res, row, date), NULL);
    return rc;
}

/* override_put answers the date, the hours, and whether the override is new. */
static void on_override(store_operation_t *operation, const PGresult *res, int error)
{
    store_override_cb cb = (store_override_cb)operation->callback;
    store_override_t override;
    if (!error && PQntuples(res) != 1)
        error = STORE_ENOTFOUND;
    if (!error)
        error = read_override(res, 0, 0, &override);
    cb(error, error ? NULL : &override, !error && strcmp(PQgetvalue(res, 0, 2), "t") == 0,
       operation->arg);
}

store_operation_t *store_overrides_put(store_pool_t *pool, const eng_id_t *organization,
                                       const eng_id_t *resource, int32_t day,
                                       const eng_day_hours_t *hours, store_override_cb cb,
                                       void *arg)
{
    ids_t values;
    ids(&values, organization, resource);
    char date[16], *text = day_hours_text(hours);
    store_date_text(day, date);
    const char *all[4] = {values.values[0], values.values[1], date, text};
    store_operation_t *operation =
        store_operation_start(pool, "override_put", 4, all, on_override, (void (*)(void))cb, arg);
    free(text);
    return operation;
}

store_operation_t *store_overrides_delete(store_pool_t *pool, const eng_id_t *organization,
                                          const eng_id_t *resource, int32_t day,
                                          store_resource_done_cb cb, void *arg)
{
    ids_t values;
    ids(&values, organization, resource);
    char date[16];
    store_date_text(day, date);
    const char *all[3] = {values.values[0], values.values[1], date};
    return store_operation_start(pool, "override_delete", 3, all, on_done, (void (*)(void))cb, arg);
}

/* override_list: whether the resource is live, then up to limit + 1 overrides (a row with a
 * NULL date when there is none); the row past the page means another page. */
static void on_override_list(store_operation_t *operation, const PGresult *res, int error)
{
    store_override_list_cb cb = (store_override_list_cb)operation->callback;
    int limit = (int)operation->extra;
    if (!error && (PQntuples(res) < 1 || strcmp(PQgetvalue(res, 0, 0), "t") != 0))
        error = STORE_ENOTFOUND;
    int rows = error || PQgetisnull(res, 0, 1) ? 0 : PQntuples(res);
    int page = rows < limit ? rows : limit;
    store_override_t *items = slotd_calloc(page ? (size_t)page : 1, sizeof(*items));
    for (int row = 0; row < page && !error; row++)
        error = read_override(res, row, 1, &items[row]);
    cb(error, error ? NULL : items, error ? 0 : (size_t)page, !error && rows > limit,
       operation->arg);
    free(items);
}

store_operation_t *store_overrides_list(store_pool_t *pool, const eng_id_t *organization,
                                        const eng_id_t *resource, const int32_t *from,
                                        const int32_t *to, const int32_t *after, int limit,
                                        store_override_list_cb cb, void *arg)
{
    ids_t values;
    ids(&values, organization, resource);
    char dates[3][16], fetch[16];
    const int32_t *bounds[3] = {from, to, after};
    const char *all[6] = {values.values[0], values.values[1]};
    for (int i = 0; i < 3; i++) {
        if (bounds[i])
            store_date_text(*bounds[i], dates[i]);
        all[2 + i] = bounds[i] ? dates[i] : NULL;
    }
    snprintf(fetch, sizeof(fetch), "%d", limit + 1);
    all[5] = fetch;
    store_operation_t *operation = store_operation_start(pool, "override_list", 6, all,
                                                         on_override_list, (void (*)(void))cb, arg);
    if (operation)
        operation->extra = limit;
    return operation;
}
