/*
 * Typed-store operations (see operation.h): one query on the pool (or a few,
 * one after another: store_operation_then), whose result is translated into
 * the caller's types before the operation frees itself. The SQLSTATE of an unexpected failure is
 * logged here, where it is known, so that callers see only STORE_E* codes; a foreign-key violation
 * (23503) is a write naming a row that is not there, STORE_EREFERENCE.
 */
#include "store/operation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "log/log.h"
#include "slotd/alloc.h"
#include "slotd/codec.h"
#include "slotd/tz.h"

static void free_operation(store_operation_t *operation)
{
    if (operation->free_state)
        operation->free_state(operation->state);
    free(operation);
}

static void on_query_done(const PGresult *result, const char *sqlstate, void *arg)
{
    store_operation_t *operation = arg;
    int error = 0;
    operation->query = NULL;
    if (result == NULL) {
        error = sqlstate && strcmp(sqlstate, STORE_SQLSTATE_OUTCOME_UNKNOWN) == 0
                    ? STORE_EOUTCOME
                    : STORE_EUNAVAILABLE;
    } else if (sqlstate) {
        error = store_sqlstate_is_transient(sqlstate) ? STORE_EUNAVAILABLE
                : strcmp(sqlstate, "23503") == 0      ? STORE_EREFERENCE
                                                      : STORE_EINTERNAL;
        if (error == STORE_EINTERNAL)
            log_error("store_unexpected_error", "sqlstate", sqlstate, NULL);
    }
    operation->on_result(operation, error ? NULL : result, error);
    if (operation->query == NULL) /* else on_result ran the next statement (store_operation_then) */
        free_operation(operation);
}

bool store_operation_then(store_operation_t *operation, store_pool_t *pool, const char *statement,
                          int count, const char *const *values, store_operation_result_fn on_result)
{
    operation->on_result = on_result;
    operation->query = store_query(pool, statement, count, values, on_query_done, operation);
    return operation->query != NULL;
}

store_operation_t *store_operation_start(store_pool_t *pool, const char *statement, int count,
                                         const char *const *values,
                                         store_operation_result_fn on_result,
                                         void (*callback)(void), void *arg)
{
    store_operation_t *operation = slotd_calloc(1, sizeof(*operation));
    operation->on_result = on_result;
    operation->callback = callback;
    operation->arg = arg;
    operation->query = store_query(pool, statement, count, values, on_query_done, operation);
    if (operation->query == NULL) {
        free(operation);
        return NULL;
    }
    return operation;
}

store_operation_t *store_operation_start_page(store_pool_t *pool, const char *statement,
                                              const eng_id_t *organization, const eng_id_t *cursor,
                                              int limit, store_operation_result_fn on_result,
                                              void (*callback)(void), void *arg)
{
    char org[37], after[37], fetch[16];
    codec_format_uuid(organization, org);
    if (cursor)
        codec_format_uuid(cursor, after);
    snprintf(fetch, sizeof(fetch), "%d", limit + 1);
    const char *values[3] = {org, cursor ? after : NULL, fetch};
    store_operation_t *operation =
        store_operation_start(pool, statement, 3, values, on_result, callback, arg);
    if (operation)
        operation->extra = limit;
    return operation;
}

bool store_operation_sent(const store_operation_t *operation)
{
    return store_query_sent(operation->query);
}

void store_operation_cancel(store_operation_t *operation)
{
    if (operation->query)
        store_query_cancel(operation->query);
    free_operation(operation);
}

const char *store_nullable(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

char *store_ids_literal(const eng_id_t *ids, size_t count)
{
    char *text = slotd_malloc(3 + count * 37), *p = text;
    *p++ = '{';
    for (size_t i = 0; i < count; i++) {
        if (i)
            *p++ = ',';
        codec_format_uuid(&ids[i], p);
        p += 36;
    }
    *p++ = '}';
    *p = 0;
    return text;
}

char *store_week_text(const eng_week_t *week)
{
    json_t *value = codec_week_to_json(week);
    char *text = json_dumps(value, JSON_COMPACT);
    json_decref(value);
    return text;
}

int store_week_parse(const char *text, eng_week_t *week)
{
    json_t *value = json_loads(text, 0, NULL);
    char field[CODEC_FIELD_MAX];
    int rc = value && codec_week_from_json(value, "week", week, field, sizeof(field)) == 0
                 ? 0
                 : STORE_EINTERNAL;
    json_decref(value);
    return rc;
}

char *store_dates_literal(const int32_t *days, size_t count)
{
    char *text = slotd_malloc(3 + count * 16), *p = text;
    *p++ = '{';
    for (size_t i = 0; i < count; i++) {
        tz_date_t d = tz_civil_from_days(days[i]);
        p += sprintf(p, "%s%04d-%02d-%02d", i ? "," : "", (int)d.year, (int)d.month, (int)d.day);
    }
    *p++ = '}';
    *p = 0;
    return text;
}

void store_date_text(int32_t day, char *text)
{
    tz_date_t d = tz_civil_from_days(day);
    snprintf(text, 16, "%04d-%02d-%02d", (int)d.year, (int)d.month, (int)d.day);
}

int store_dates_parse(const char *json_text, size_t max, int32_t **days, size_t *count)
{
    json_t *list = json_loads(json_text, 0, NULL);
    int rc = 0;
    *days = NULL;
    *count = 0;
    if (!json_is_array(list) || json_array_size(list) > max) {
        rc = STORE_EINTERNAL;
    } else {
        size_t i;
        const json_t *day;
        int32_t *out = slotd_malloc((json_array_size(list) + 1) * sizeof(*out));
        json_array_foreach(list, i, day)
        {
            if (!json_is_string(day) || tz_parse_date(json_string_value(day), &out[i]) != 0)
                rc = STORE_EINTERNAL;
        }
        *days = out;
        *count = json_array_size(list);
    }
    json_decref(list);
    return rc;
}

char *store_secret_seal(const codec_secret_key_t *key, const void *aad, size_t aad_length,
                        const char *plain, size_t length)
{
    uint8_t *sealed;
    size_t sealed_length;
    if (codec_secret_seal(key, aad, aad_length, plain, length, &sealed, &sealed_length) != 0)
        return NULL;
    static const char hex[] = "0123456789abcdef";
    char *text = slotd_malloc(3 + 2 * sealed_length), *p = text;
    *p++ = '\\';
    *p++ = 'x';
    for (size_t i = 0; i < sealed_length; i++) {
        *p++ = hex[sealed[i] >> 4];
        *p++ = hex[sealed[i] & 15];
    }
    *p = 0;
    free(sealed);
    return text;
}

int store_secret_open(const codec_secret_key_t *key, const void *aad, size_t aad_length,
                      const char *bytea_text, char **plain, size_t *length)
{
    size_t sealed_length;
    unsigned char *sealed = PQunescapeBytea((const unsigned char *)bytea_text, &sealed_length);
    *plain = NULL;
    int rc = sealed == NULL ? STORE_EINTERNAL
             : codec_secret_open(key, aad, aad_length, sealed, sealed_length, plain, length) != 0
                 ? STORE_EINTERNAL
                 : 0;
    PQfreemem(sealed);
    return rc;
}
