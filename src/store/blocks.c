/*
 * The typed store for blocks (see blocks.h). The SQL is in sql/blocks.sql;
 * this file alone knows its parameter positions and result columns. Local
 * times come back as wall seconds and exdates as a JSON list of them, so
 * callers never see SQL text forms. A row the service cannot read is an
 * internal error, never a half-filled struct.
 */
#include "store/blocks.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "slotd/alloc.h"
#include "slotd/codec.h"

/* The columns of block_insert. */
enum {
    INS_ID,
    INS_START,
    INS_END,
    INS_RRULE,
    INS_START_LOCAL,
    INS_DURATION,
    INS_REASON,
    INS_ORGANIZATION_TIMEZONE
};

/* The columns of block_list: the resource's, then one block's (NULL id: none). */
enum {
    LIST_EXISTS,
    LIST_TIMEZONE,
    LIST_ORGANIZATION_TIMEZONE,
    LIST_ID,
    LIST_START,
    LIST_END,
    LIST_RRULE,
    LIST_START_LOCAL,
    LIST_DURATION,
    LIST_REASON,
    LIST_EXDATES,
    /* busy_list only: a booking's or hold's row */
    BUSY_KIND,
    BUSY_ID,
    BUSY_PADDED_START,
    BUSY_PADDED_END,
    BUSY_START,
    BUSY_END,
    BUSY_CONNECTION, /* an external event's */
    BUSY_SUMMARY,
    BUSY_PART,
    BUSY_SERIES /* an external series' rule (JSON) */
};

static int64_t integer(const PGresult *res, int row, int col)
{
    return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/* Reads a block from `row` starting at column `id` (the others follow it in the order of
 * store_block_t); the exdates are read by the caller. */
static int read_block(const PGresult *res, int row, int id, store_block_t *out)
{
    memset(out, 0, sizeof(*out));
    if (codec_parse_uuid(PQgetvalue(res, row, id), &out->id) != 0)
        return STORE_EINTERNAL;
    out->rrule = store_nullable(res, row, id + 3);
    out->recurring = out->rrule != NULL;
    out->reason = store_nullable(res, row, id + 6);
    if (!out->recurring) {
        out->start = integer(res, row, id + 1);
        out->end = integer(res, row, id + 2);
    } else if (PQgetisnull(res, row, id + 4) || PQgetisnull(res, row, id + 5)) {
        return STORE_EINTERNAL;
    } else {
        out->start_local = integer(res, row, id + 4);
        out->duration_minutes = (int32_t)integer(res, row, id + 5);
    }
    return 0;
}

static void on_inserted(store_operation_t *operation, const PGresult *res, int error)
{
    store_block_cb cb = (store_block_cb)operation->callback;
    store_block_t block;
    if (!error && PQntuples(res) != 1)
        error = STORE_ENOTFOUND;
    if (!error)
        error = read_block(res, 0, INS_ID, &block);
    cb(error, error ? NULL : &block, error ? NULL : PQgetvalue(res, 0, INS_ORGANIZATION_TIMEZONE),
       operation->arg);
}

store_operation_t *store_blocks_insert(store_pool_t *pool, const eng_id_t *organization,
                                       const eng_id_t *resource, const store_block_t *write,
                                       store_block_cb cb, void *arg)
{
    char org[37], owner[37], start[24], end[24], local[24], minutes[16];
    codec_format_uuid(organization, org);
    codec_format_uuid(resource, owner);
    snprintf(start, sizeof(start), "%lld", (long long)write->start);
    snprintf(end, sizeof(end), "%lld", (long long)write->end);
    int32_t day = tz_day_of(write->start_local);
    int64_t second = write->start_local - (int64_t)day * TZ_SECONDS_PER_DAY;
    store_date_text(day, local);
    snprintf(local + 10, sizeof(local) - 10, "T%02d:%02d:%02d", (int)(second / 3600),
             (int)(second / 60 % 60), (int)(second % 60));
    snprintf(minutes, sizeof(minutes), "%d", (int)write->duration_minutes);
    bool once = !write->recurring;
    const char *values[8] = {org,
                             owner,
                             once ? start : NULL,
                             once ? end : NULL,
                             once ? NULL : write->rrule,
                             once ? NULL : local,
                             once ? NULL : minutes,
                             write->reason};
    return store_operation_start(pool, "block_insert", 8, values, on_inserted, (void (*)(void))cb,
                                 arg);
}

/* A JSON list of wall seconds into *out (caller frees); false when it is not one. */
static bool read_exdates(const char *text, int64_t **out, size_t *count)
{
    json_t *list = json_loads(text, 0, NULL);
    bool ok = json_is_array(list);
    *out = slotd_malloc((json_array_size(list) + 1) * sizeof(**out));
    *count = 0;
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x)
    {
        ok = ok && json_is_integer(x);
        if (ok)
            (*out)[(*count)++] = json_integer_value(x);
    }
    json_decref(list);
    return ok;
}

/* The blocks of a block_list (or the block part of a busy_list) result, rows [0, rows):
 * a new array (exdates too; free with free_blocks), or NULL with *error set. */
static store_block_t *read_blocks(const PGresult *res, int rows, size_t *count, int *error)
{
    store_block_t *items = slotd_calloc(rows ? (size_t)rows : 1, sizeof(*items));
    *count = 0;
    for (int row = 0; row < rows && !*error; row++) {
        if (PQgetisnull(res, row, LIST_ID))
            continue;
        store_block_t *block = &items[(*count)++];
        *error = read_block(res, row, LIST_ID, block);
        int64_t *exdates = NULL;
        if (!*error && block->recurring &&
            !read_exdates(PQgetvalue(res, row, LIST_EXDATES), &exdates, &block->exdate_count))
            *error = STORE_EINTERNAL;
        block->exdates = exdates;
        if (*error)
            log_error("store_unreadable_row", "table", "blocks", "id",
                      PQgetvalue(res, row, LIST_ID), NULL);
    }
    return items;
}

static void free_blocks(store_block_t *items, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free((void *)items[i].exdates);
    free(items);
}

/* Whether a block_list or busy_list result names a live resource (error 0), else its code. */
static int resource_found(const PGresult *res, int error)
{
    if (!error && (PQntuples(res) < 1 || strcmp(PQgetvalue(res, 0, LIST_EXISTS), "t") != 0))
        return STORE_ENOTFOUND;
    return error;
}

static store_block_list_t block_list_of(const PGresult *res, const store_block_t *items,
                                        size_t count)
{
    return (store_block_list_t){PQgetvalue(res, 0, LIST_TIMEZONE),
                                PQgetvalue(res, 0, LIST_ORGANIZATION_TIMEZONE), items, count};
}

static void on_list(store_operation_t *operation, const PGresult *res, int error)
{
    store_block_list_cb cb = (store_block_list_cb)operation->callback;
    error = resource_found(res, error);
    size_t count = 0;
    store_block_t *items = read_blocks(res, error ? 0 : PQntuples(res), &count, &error);
    store_block_list_t list = {0};
    if (!error)
        list = block_list_of(res, items, count);
    cb(error, error ? NULL : &list, operation->arg);
    free_blocks(items, count);
}

/* A statement of a resource's window: $1 organization, $2 resource, $3 from, $4 to, and with a
 * clock $5 now. */
static store_operation_t *window_query(store_pool_t *pool, const char *statement,
                                       const eng_id_t *organization, const eng_id_t *resource,
                                       int64_t from, int64_t to, const int64_t *now,
                                       store_operation_result_fn on_result, void (*cb)(void),
                                       void *arg)
{
    char org[37], owner[37], after[24], before[24], clock[24];
    codec_format_uuid(organization, org);
    codec_format_uuid(resource, owner);
    snprintf(after, sizeof(after), "%lld", (long long)from);
    snprintf(before, sizeof(before), "%lld", (long long)to);
    snprintf(clock, sizeof(clock), "%lld", now ? (long long)*now : 0LL);
    const char *values[5] = {org, owner, after, before, clock};
    return store_operation_start(pool, statement, now ? 5 : 4, values, on_result, cb, arg);
}

store_operation_t *store_blocks_list(store_pool_t *pool, const eng_id_t *organization,
                                     const eng_id_t *resource, int64_t from, int64_t to,
                                     store_block_list_cb cb, void *arg)
{
    return window_query(pool, "block_list", organization, resource, from, to, NULL, on_list,
                        (void (*)(void))cb, arg);
}

static void on_busy(store_operation_t *operation, const PGresult *res, int error)
{
    store_busy_list_cb cb = (store_busy_list_cb)operation->callback;
    error = resource_found(res, error);
    int rows = error ? 0 : PQntuples(res), block_rows = 0;
    while (block_rows < rows && strcmp(PQgetvalue(res, block_rows, BUSY_PART), "0") == 0)
        block_rows++;
    size_t count = 0;
    store_block_t *items = read_blocks(res, block_rows, &count, &error);
    store_occupied_time_t *occupied =
        slotd_calloc((size_t)(rows - block_rows) + 1, sizeof(*occupied));
    size_t n = 0;
    for (int row = block_rows; row < rows && !error; row++) {
        store_occupied_time_t *o = &occupied[n++];
        o->hold = strcmp(PQgetvalue(res, row, BUSY_KIND), "hold") == 0;
        o->external = strcmp(PQgetvalue(res, row, BUSY_KIND), "external") == 0;
        if (codec_parse_uuid(PQgetvalue(res, row, BUSY_ID), &o->id) != 0 ||
            (o->external &&
             codec_parse_uuid(PQgetvalue(res, row, BUSY_CONNECTION), &o->connection_id) != 0))
            error = STORE_EINTERNAL;
        o->summary = store_nullable(res, row, BUSY_SUMMARY);
        o->series = store_nullable(res, row, BUSY_SERIES);
        o->padded_start = integer(res, row, BUSY_PADDED_START);
        o->padded_end = integer(res, row, BUSY_PADDED_END);
        o->start = integer(res, row, BUSY_START);
        o->end = integer(res, row, BUSY_END);
    }
    store_busy_list_t list = {0};
    if (!error)
        list = (store_busy_list_t){block_list_of(res, items, count), occupied, n};
    cb(error, error ? NULL : &list, operation->arg);
    free_blocks(items, count);
    free(occupied);
}

store_operation_t *store_busy_list(store_pool_t *pool, const eng_id_t *organization,
                                   const eng_id_t *resource, int64_t from, int64_t to, int64_t now,
                                   store_busy_list_cb cb, void *arg)
{
    return window_query(pool, "busy_list", organization, resource, from, to, &now, on_busy,
                        (void (*)(void))cb, arg);
}

static void on_deleted(store_operation_t *operation, const PGresult *res, int error)
{
    store_block_delete_cb cb = (store_block_delete_cb)operation->callback;
    if (!error && PQntuples(res) != 1)
        error = STORE_ENOTFOUND;
    cb(error, operation->arg);
}

store_operation_t *store_blocks_delete(store_pool_t *pool, const eng_id_t *organization,
                                       const eng_id_t *resource, const eng_id_t *id,
                                       store_block_delete_cb cb, void *arg)
{
    char org[37], owner[37], block[37];
    codec_format_uuid(organization, org);
    codec_format_uuid(resource, owner);
    codec_format_uuid(id, block);
    const char *values[3] = {org, owner, block};
    return store_operation_start(pool, "block_delete", 3, values, on_deleted, (void (*)(void))cb,
                                 arg);
}
