/*
 * The typed store for services (see services.h). The SQL is in
 * sql/services.sql; this file alone knows its parameter positions and result
 * columns. Rows are read into store_service_t with strings pointing into the
 * pool's result (valid during the callback), the price into cents and the
 * requirement groups (JSON in the row) into lists of ids, so callers never see
 * SQL text forms. A row the service cannot read is an internal error, never a
 * half-filled struct.
 */
#include "store/services.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "slotd/alloc.h"
#include "slotd/codec.h"

/* The columns of every statement that answers services; writes add the missing resource's. */
enum {
    COL_ID,
    COL_NAME,
    COL_DURATION,
    COL_SLOT_INTERVAL,
    COL_BUFFER_BEFORE,
    COL_BUFFER_AFTER,
    COL_MIN_NOTICE,
    COL_MAX_ADVANCE,
    COL_PRICE,
    COL_CURRENCY,
    COL_ACTIVE,
    COL_CREATED,
    COL_UPDATED,
    COL_ORGANIZATION_TIMEZONE,
    COL_REQUIREMENTS,
    COL_MISSING_GROUP,
    COL_MISSING_MEMBER
};

static int32_t integer(const PGresult *res, int row, int col)
{
    return (int32_t)strtol(PQgetvalue(res, row, col), NULL, 10);
}

/* A nullable integer column: false when SQL NULL. */
static bool nullable_integer(const PGresult *res, int row, int col, int32_t *out)
{
    *out = PQgetisnull(res, row, col) ? 0 : integer(res, row, col);
    return !PQgetisnull(res, row, col);
}

/* numeric(12, 2) as text ("180.00") into cents; 0, or STORE_EINTERNAL. */
static int parse_price(const char *text, int64_t *cents)
{
    char *end;
    long long whole = strtoll(text, &end, 10);
    if (end == text || whole < 0 || end[0] != '.' || end[1] < '0' || end[1] > '9' || end[2] < '0' ||
        end[2] > '9' || end[3] != 0)
        return STORE_EINTERNAL;
    *cents = (int64_t)whole * 100 + (end[1] - '0') * 10 + (end[2] - '0');
    return 0;
}

/* The groups' JSON, [{"resource_ids":[...],"mode":...}], into allocated lists. */
static int parse_requirements(const char *text, store_requirement_t **out, size_t *count)
{
    json_t *list = json_loads(text, 0, NULL);
    int rc = json_is_array(list) && json_array_size(list) <= ENG_MAX_GROUPS ? 0 : STORE_EINTERNAL;
    size_t n = rc ? 0 : json_array_size(list);
    store_requirement_t *groups = slotd_calloc(n ? n : 1, sizeof(*groups));
    for (size_t g = 0; g < n && rc == 0; g++) {
        const json_t *group = json_array_get(list, g),
                     *ids = json_object_get(group, "resource_ids");
        const char *mode = json_string_value(json_object_get(group, "mode"));
        if (!json_is_array(ids) || json_array_size(ids) > ENG_MAX_GROUP_MEMBERS || mode == NULL) {
            rc = STORE_EINTERNAL;
            break;
        }
        eng_id_t *members = slotd_calloc(json_array_size(ids) + 1, sizeof(*members));
        groups[g].all = strcmp(mode, "all") == 0;
        groups[g].resource_ids = members;
        groups[g].resource_count = json_array_size(ids);
        for (size_t k = 0; k < groups[g].resource_count && rc == 0; k++) {
            const char *member = json_string_value(json_array_get(ids, k));
            if (member == NULL || codec_parse_uuid(member, &members[k]) != 0)
                rc = STORE_EINTERNAL;
        }
    }
    json_decref(list);
    *out = groups;
    *count = n;
    return rc;
}

static void free_row(store_service_t *service)
{
    for (size_t g = 0; service->settings.requirements && g < service->settings.requirement_count;
         g++)
        free((void *)service->settings.requirements[g].resource_ids);
    free((void *)service->settings.requirements);
    service->settings.requirements = NULL;
}

/* Reads one row; out->settings.requirements is allocated (release with free_row). */
static int read_row(const PGresult *res, int row, store_service_t *out)
{
    memset(out, 0, sizeof(*out));
    if (codec_parse_uuid(PQgetvalue(res, row, COL_ID), &out->id) != 0)
        return STORE_EINTERNAL;
    out->settings.name = PQgetvalue(res, row, COL_NAME);
    out->settings.duration_minutes = integer(res, row, COL_DURATION);
    out->settings.has_slot_interval =
        nullable_integer(res, row, COL_SLOT_INTERVAL, &out->settings.slot_interval_minutes);
    out->settings.buffer_before_minutes = integer(res, row, COL_BUFFER_BEFORE);
    out->settings.buffer_after_minutes = integer(res, row, COL_BUFFER_AFTER);
    out->settings.min_notice_minutes = integer(res, row, COL_MIN_NOTICE);
    out->settings.has_max_advance =
        nullable_integer(res, row, COL_MAX_ADVANCE, &out->settings.max_advance_days);
    out->settings.currency = store_nullable(res, row, COL_CURRENCY);
    out->settings.active = strcmp(PQgetvalue(res, row, COL_ACTIVE), "t") == 0;
    out->organization_timezone = PQgetvalue(res, row, COL_ORGANIZATION_TIMEZONE);
    out->created_at = strtoll(PQgetvalue(res, row, COL_CREATED), NULL, 10);
    out->updated_at = strtoll(PQgetvalue(res, row, COL_UPDATED), NULL, 10);
    const char *price = store_nullable(res, row, COL_PRICE);
    out->settings.has_price = price != NULL;
    int rc = price ? parse_price(price, &out->settings.price_cents) : 0;
    store_requirement_t *groups;
    if (parse_requirements(PQgetvalue(res, row, COL_REQUIREMENTS), &groups,
                           &out->settings.requirement_count) != 0)
        rc = STORE_EINTERNAL;
    out->settings.requirements = groups;
    if (rc)
        log_error("store_unreadable_row", "table", "services", "id", PQgetvalue(res, row, COL_ID),
                  NULL);
    return rc;
}

static void on_one(store_operation_t *operation, const PGresult *res, int error)
{
    store_service_cb cb = (store_service_cb)operation->callback;
    store_service_t service = {0};
    if (!error && PQntuples(res) != 1)
        error = STORE_ENOTFOUND;
    if (!error)
        error = read_row(res, 0, &service);
    cb(error, error ? NULL : &service, operation->arg);
    free_row(&service);
}

/* A write answers one row: the service, or the first resource named that is not live. */
static void on_written(store_operation_t *operation, const PGresult *res, int error)
{
    store_service_write_cb cb = (store_service_write_cb)operation->callback;
    store_service_t service = {0};
    int group = -1, member = -1;
    if (!error && PQntuples(res) != 1) {
        error = STORE_EINTERNAL;
    } else if (!error && !PQgetisnull(res, 0, COL_MISSING_GROUP)) {
        error = STORE_EREFERENCE;
        group = integer(res, 0, COL_MISSING_GROUP);
        member = integer(res, 0, COL_MISSING_MEMBER);
    } else if (!error && PQgetisnull(res, 0, COL_ID)) {
        error = STORE_ENOTFOUND;
    } else if (!error) {
        error = read_row(res, 0, &service);
    }
    cb(error, error ? NULL : &service, group, member, operation->arg);
    free_row(&service);
}

/* The text parameters of a write (NULL where SQL NULL), kept until the operation copied them. */
typedef struct {
    char text[7][32];
    const char *duration, *slot_interval, *buffer_before, *buffer_after, *min_notice, *max_advance,
        *price;
    char *groups; /* JSON, or NULL when the groups are not written */
} params_t;

static const char *number(char *buffer, bool given, int64_t value)
{
    if (!given)
        return NULL;
    snprintf(buffer, 32, "%" PRId64, value);
    return buffer;
}

static const char *flag(bool value)
{
    return value ? "true" : "false";
}

/* The groups as the statements take them: [{"resource_ids":[...],"mode":...}]. */
static char *groups_json(const store_requirement_t *groups, size_t count)
{
    json_t *list = json_array();
    for (size_t g = 0; g < count; g++) {
        json_t *ids = json_array();
        for (size_t k = 0; k < groups[g].resource_count; k++) {
            char id[37];
            codec_format_uuid(&groups[g].resource_ids[k], id);
            json_array_append_new(ids, json_string(id));
        }
        json_array_append_new(list, json_pack("{s:o, s:s}", "resource_ids", ids, "mode",
                                              groups[g].all ? "all" : "any"));
    }
    char *text = json_dumps(list, JSON_COMPACT);
    json_decref(list);
    return text;
}

/* A nullable field's value goes as NULL when it is null; a PATCH that does not set it sends
 * its flag false, and the statement then ignores the value. */
static void fill_params(const store_service_write_t *write, params_t *p)
{
    p->duration = number(p->text[0], write->duration_set, write->settings.duration_minutes);
    p->slot_interval = number(p->text[1], write->settings.has_slot_interval,
                              write->settings.slot_interval_minutes);
    p->buffer_before =
        number(p->text[2], write->buffer_before_set, write->settings.buffer_before_minutes);
    p->buffer_after =
        number(p->text[3], write->buffer_after_set, write->settings.buffer_after_minutes);
    p->min_notice = number(p->text[4], write->min_notice_set, write->settings.min_notice_minutes);
    p->max_advance =
        number(p->text[5], write->settings.has_max_advance, write->settings.max_advance_days);
    p->price = NULL;
    if (write->settings.has_price) {
        snprintf(p->text[6], sizeof(p->text[6]), "%" PRId64 ".%02d",
                 write->settings.price_cents / 100, (int)(write->settings.price_cents % 100));
        p->price = p->text[6];
    }
    p->groups = write->requirements_set
                    ? groups_json(write->settings.requirements, write->settings.requirement_count)
                    : NULL;
}

store_operation_t *store_services_insert(store_pool_t *pool, const eng_id_t *organization,
                                         const store_service_write_t *write,
                                         store_service_write_cb cb, void *arg)
{
    char org[37];
    codec_format_uuid(organization, org);
    params_t p;
    fill_params(write, &p);
    const char *values[12] = {org,
                              write->settings.name,
                              p.duration,
                              p.slot_interval,
                              p.buffer_before,
                              p.buffer_after,
                              p.min_notice,
                              p.max_advance,
                              p.price,
                              write->settings.currency,
                              flag(write->settings.active),
                              p.groups ? p.groups : "[]"};
    store_operation_t *operation = store_operation_start(pool, "service_insert", 12, values,
                                                         on_written, (void (*)(void))cb, arg);
    free(p.groups);
    return operation;
}

store_operation_t *store_services_update(store_pool_t *pool, const eng_id_t *organization,
                                         const eng_id_t *id, const store_service_write_t *write,
                                         store_service_write_cb cb, void *arg)
{
    char org[37], service[37];
    codec_format_uuid(organization, org);
    codec_format_uuid(id, service);
    params_t p;
    fill_params(write, &p);
    const char *values[17] = {org,
                              service,
                              write->settings.name,
                              p.duration,
                              flag(write->slot_interval_set),
                              p.slot_interval,
                              p.buffer_before,
                              p.buffer_after,
                              p.min_notice,
                              flag(write->max_advance_set),
                              p.max_advance,
                              flag(write->price_set),
                              p.price,
                              flag(write->currency_set),
                              write->settings.currency,
                              write->active_set ? flag(write->settings.active) : NULL,
                              p.groups};
    store_operation_t *operation = store_operation_start(pool, "service_update", 17, values,
                                                         on_written, (void (*)(void))cb, arg);
    free(p.groups);
    return operation;
}

store_operation_t *store_services_get(store_pool_t *pool, const eng_id_t *organization,
                                      const eng_id_t *id, store_service_cb cb, void *arg)
{
    char org[37], service[37];
    codec_format_uuid(organization, org);
    codec_format_uuid(id, service);
    const char *values[2] = {org, service};
    return store_operation_start(pool, "service_get", 2, values, on_one, (void (*)(void))cb, arg);
}

/* The list asks for one row more than the page: its presence means another page. */
static void on_list(store_operation_t *operation, const PGresult *res, int error)
{
    store_service_list_cb cb = (store_service_list_cb)operation->callback;
    int limit = (int)operation->extra;
    int rows = error ? 0 : PQntuples(res);
    int page = rows < limit ? rows : limit;
    store_service_t *items = slotd_calloc(page ? (size_t)page : 1, sizeof(*items));
    for (int row = 0; row < page && !error; row++)
        error = read_row(res, row, &items[row]);
    cb(error, error ? NULL : items, error ? 0 : (size_t)page, !error && rows > limit,
       operation->arg);
    for (int row = 0; row < page; row++)
        free_row(&items[row]);
    free(items);
}

store_operation_t *store_services_list(store_pool_t *pool, const eng_id_t *organization,
                                       const eng_id_t *cursor, int limit, store_service_list_cb cb,
                                       void *arg)
{
    return store_operation_start_page(pool, "service_list", organization, cursor, limit, on_list,
                                      (void (*)(void))cb, arg);
}

static void on_deleted(store_operation_t *operation, const PGresult *res, int error)
{
    store_service_delete_cb cb = (store_service_delete_cb)operation->callback;
    eng_id_t id;
    if (!error && PQntuples(res) != 1)
        error = STORE_ENOTFOUND;
    if (!error && codec_parse_uuid(PQgetvalue(res, 0, 0), &id) != 0)
        error = STORE_EINTERNAL;
    cb(error, error ? NULL : &id, operation->arg);
}

store_operation_t *store_services_delete(store_pool_t *pool, const eng_id_t *organization,
                                         const eng_id_t *id, store_service_delete_cb cb, void *arg)
{
    char org[37], service[37];
    codec_format_uuid(organization, org);
    codec_format_uuid(id, service);
    const char *values[2] = {org, service};
    return store_operation_start(pool, "service_delete", 2, values, on_deleted, (void (*)(void))cb,
                                 arg);
}
