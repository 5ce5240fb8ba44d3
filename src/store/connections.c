/*
 * The typed store for calendar connections (see connections.h). The SQL is in
 * sql/connections.sql; this file alone knows its parameter positions and
 * result columns, and it alone seals and opens credentials: they enter as
 * plaintext, leave for PostgreSQL only as a sealed bytea (hex text), and come
 * back opened only to store_connections_credentials' caller. The additional
 * data of a sealed value is the organization's id followed by the
 * connection's (16 bytes each), so a value copied into another row, of this
 * organization or another, does not open there.
 */
#include "store/connections.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "slotd/alloc.h"
#include "slotd/codec.h"

/* The columns of every statement that answers connections (connection_list: after one). */
enum {
    COL_ID,
    COL_RESOURCE,
    COL_PROVIDER,
    COL_DIRECTION,
    COL_CALENDAR,
    COL_EVENT_TYPE,
    COL_STATUS,
    COL_LAST_SYNC,
    COL_LAST_FULL_SYNC,
    COL_LAST_ERROR,
    COL_BUSY_EVENTS,
    COL_CREATED,
    COL_UPDATED,
    COL_ORGANIZATION_TIMEZONE
};

static int64_t integer(const PGresult *res, int row, int col)
{
    return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/* Reads the connection whose columns start at `first`. */
static int read_row(const PGresult *res, int row, int first, store_connection_t *out)
{
    memset(out, 0, sizeof(*out));
    if (codec_parse_uuid(PQgetvalue(res, row, first + COL_ID), &out->id) != 0 ||
        codec_parse_uuid(PQgetvalue(res, row, first + COL_RESOURCE), &out->resource_id) != 0) {
        log_error("store_unreadable_row", "table", "calendar_connections", "id",
                  PQgetvalue(res, row, first + COL_ID), NULL);
        return STORE_EINTERNAL;
    }
    out->provider = PQgetvalue(res, row, first + COL_PROVIDER);
    out->direction = PQgetvalue(res, row, first + COL_DIRECTION);
    out->calendar_id = store_nullable(res, row, first + COL_CALENDAR);
    if (!PQgetisnull(res, row, first + COL_EVENT_TYPE))
        out->calcom_event_type_id = integer(res, row, first + COL_EVENT_TYPE);
    out->status = PQgetvalue(res, row, first + COL_STATUS);
    out->synced = !PQgetisnull(res, row, first + COL_LAST_SYNC);
    out->last_sync_at = integer(res, row, first + COL_LAST_SYNC);
    out->fully_synced = !PQgetisnull(res, row, first + COL_LAST_FULL_SYNC);
    out->last_full_sync_at = integer(res, row, first + COL_LAST_FULL_SYNC);
    out->last_error = store_nullable(res, row, first + COL_LAST_ERROR);
    out->busy_events = (long)integer(res, row, first + COL_BUSY_EVENTS);
    out->created_at = integer(res, row, first + COL_CREATED);
    out->updated_at = integer(res, row, first + COL_UPDATED);
    out->organization_timezone = PQgetvalue(res, row, first + COL_ORGANIZATION_TIMEZONE);
    return 0;
}

/* One row: a connection; a row of NULLs: changed meanwhile; none: not found. */
static void on_one(store_operation_t *operation, const PGresult *res, int error)
{
    store_connection_cb cb = (store_connection_cb)operation->callback;
    store_connection_t connection;
    if (!error && PQntuples(res) != 1)
        error = STORE_ENOTFOUND;
    if (!error && PQgetisnull(res, 0, COL_ID))
        error = STORE_ECONFLICT;
    if (!error)
        error = read_row(res, 0, 0, &connection);
    cb(error, error ? NULL : &connection, operation->arg);
}

/* The additional data of a connection's sealed credentials. */
static void aad_of(const eng_id_t *organization, const eng_id_t *id, uint8_t aad[32])
{
    memcpy(aad, organization->bytes, 16);
    memcpy(aad + 16, id->bytes, 16);
}

/* ... and of another secret of the connection: the ids, then what it is. */
static size_t purpose_aad(const eng_id_t *organization, const eng_id_t *id, const char *purpose,
                          uint8_t aad[64])
{
    aad_of(organization, id, aad);
    size_t n = purpose ? strlen(purpose) : 0;
    if (n > 32)
        n = 32;
    if (n > 0)
        memcpy(aad + 32, purpose, n);
    return 32 + n;
}

char *store_connection_seal(const codec_secret_key_t *key, const eng_id_t *organization,
                            const eng_id_t *id, const char *purpose, const char *plain,
                            size_t length)
{
    uint8_t aad[64];
    size_t aad_length = purpose_aad(organization, id, purpose, aad);
    return store_secret_seal(key, aad, aad_length, plain, length);
}

int store_connection_open(const codec_secret_key_t *key, const eng_id_t *organization,
                          const eng_id_t *id, const char *purpose, const char *bytea_text,
                          char **plain, size_t *length)
{
    uint8_t aad[64];
    size_t aad_length = purpose_aad(organization, id, purpose, aad);
    int rc = store_secret_open(key, aad, aad_length, bytea_text, plain, length);
    if (rc) {
        char connection[37];
        codec_format_uuid(id, connection);
        log_error("credentials_unreadable", "table", "calendar_connections", "id", connection,
                  "what", purpose ? purpose : "credentials", NULL);
    }
    return rc;
}

/* ---- insert: the id first, then the row ------------------------------------------------- */

typedef struct {
    store_pool_t *pool;
    const codec_secret_key_t *key;
    eng_id_t organization, resource;
    char *provider, *direction, *calendar_id;
    int64_t event_type;
    char *credentials; /* the plaintext: wiped with the state */
    size_t credentials_length;
} insert_state_t;

static void free_insert_state(void *state)
{
    insert_state_t *st = state;
    free(st->provider);
    free(st->direction);
    free(st->calendar_id);
    codec_secret_free(st->credentials, st->credentials_length);
    free(st);
}

static void on_new_id(store_operation_t *operation, const PGresult *res, int error)
{
    store_connection_cb cb = (store_connection_cb)operation->callback;
    insert_state_t *st = operation->state;
    eng_id_t id;
    if (!error && PQntuples(res) != 1)
        error = STORE_ENOTFOUND;
    if (!error && codec_parse_uuid(PQgetvalue(res, 0, 0), &id) != 0)
        error = STORE_EINTERNAL;
    char *sealed = NULL;
    if (!error &&
        (sealed = store_connection_seal(st->key, &st->organization, &id, NULL, st->credentials,
                                        st->credentials_length)) == NULL) {
        log_error("credentials_not_sealed", "table", "calendar_connections", NULL);
        error = STORE_EINTERNAL;
    }
    if (!error) {
        char org[37], connection[37], owner[37], event_type[24];
        codec_format_uuid(&st->organization, org);
        codec_format_uuid(&id, connection);
        codec_format_uuid(&st->resource, owner);
        snprintf(event_type, sizeof(event_type), "%lld", (long long)st->event_type);
        const char *values[8] = {
            org,           connection,      owner,  st->provider,
            st->direction, st->calendar_id, sealed, st->event_type ? event_type : NULL};
        if (!store_operation_then(operation, st->pool, "connection_insert", 8, values, on_one))
            error = STORE_EBUSY;
    }
    free(sealed);
    if (error)
        cb(error, NULL, operation->arg);
}

store_operation_t *store_connections_insert(store_pool_t *pool, const codec_secret_key_t *key,
                                            const eng_id_t *organization, const eng_id_t *resource,
                                            const store_connection_write_t *write,
                                            store_connection_cb cb, void *arg)
{
    char org[37], owner[37];
    codec_format_uuid(organization, org);
    codec_format_uuid(resource, owner);
    const char *values[2] = {org, owner};
    store_operation_t *operation = store_operation_start(pool, "connection_new_id", 2, values,
                                                         on_new_id, (void (*)(void))cb, arg);
    if (operation == NULL)
        return NULL;
    insert_state_t *st = slotd_calloc(1, sizeof(*st));
    *st = (insert_state_t){.pool = pool,
                           .key = key,
                           .organization = *organization,
                           .resource = *resource,
                           .provider = slotd_strdup(write->provider),
                           .direction = slotd_strdup(write->direction),
                           .calendar_id =
                               write->calendar_id ? slotd_strdup(write->calendar_id) : NULL,
                           .event_type = write->calcom_event_type_id,
                           .credentials = slotd_malloc(write->credentials_length + 1),
                           .credentials_length = write->credentials_length};
    memcpy(st->credentials, write->credentials, write->credentials_length);
    st->credentials[write->credentials_length] = 0;
    operation->state = st;
    operation->free_state = free_insert_state;
    return operation;
}

/* ---- reading ------------------------------------------------------------------------------ */

store_operation_t *store_connections_get(store_pool_t *pool, const eng_id_t *organization,
                                         const eng_id_t *id, store_connection_cb cb, void *arg)
{
    char org[37], connection[37];
    codec_format_uuid(organization, org);
    codec_format_uuid(id, connection);
    const char *values[2] = {org, connection};
    return store_operation_start(pool, "connection_get", 2, values, on_one, (void (*)(void))cb,
                                 arg);
}

/* The list asks for one row more than the page: its presence means another page. Its first
 * column says whether the resource is a live one; a NULL id, that it has no connection. */
static void on_list(store_operation_t *operation, const PGresult *res, int error)
{
    store_connection_list_cb cb = (store_connection_list_cb)operation->callback;
    int limit = (int)operation->extra;
    if (!error && (PQntuples(res) < 1 || strcmp(PQgetvalue(res, 0, 0), "t") != 0))
        error = STORE_ENOTFOUND;
    int rows = error ? 0 : PQntuples(res);
    if (rows == 1 && PQgetisnull(res, 0, 1 + COL_ID))
        rows = 0;
    int page = rows < limit ? rows : limit;
    store_connection_t *items = slotd_calloc(page ? (size_t)page : 1, sizeof(*items));
    for (int row = 0; row < page && !error; row++)
        error = read_row(res, row, 1, &items[row]);
    if (error)
        cb(error, NULL, 0, false, operation->arg);
    else
        cb(0, items, (size_t)page, rows > limit, operation->arg);
    free(items);
}

store_operation_t *store_connections_list(store_pool_t *pool, const eng_id_t *organization,
                                          const eng_id_t *resource, const eng_id_t *cursor,
                                          int limit, store_connection_list_cb cb, void *arg)
{
    char org[37], after[37], owner[37], fetch[16];
    codec_format_uuid(organization, org);
    if (cursor)
        codec_format_uuid(cursor, after);
    codec_format_uuid(resource, owner);
    snprintf(fetch, sizeof(fetch), "%d", limit + 1);
    const char *values[4] = {org, cursor ? after : NULL, fetch, owner};
    store_operation_t *operation =
        store_operation_start(pool, "connection_list", 4, values, on_list, (void (*)(void))cb, arg);
    if (operation)
        operation->extra = limit;
    return operation;
}

/* ---- changing ----------------------------------------------------------------------------- */

store_operation_t *store_connections_update(store_pool_t *pool, const codec_secret_key_t *key,
                                            const eng_id_t *organization, const eng_id_t *id,
                                            const store_connection_t *checked,
                                            const store_connection_write_t *write,
                                            store_connection_cb cb, void *arg)
{
    char org[37], connection[37], checked_type[24], event_type[24];
    codec_format_uuid(organization, org);
    codec_format_uuid(id, connection);
    snprintf(checked_type, sizeof(checked_type), "%lld", (long long)checked->calcom_event_type_id);
    snprintf(event_type, sizeof(event_type), "%lld", (long long)write->calcom_event_type_id);
    char *sealed = NULL;
    if (write->credentials &&
        (sealed = store_connection_seal(key, organization, id, NULL, write->credentials,
                                        write->credentials_length)) == NULL) {
        log_error("credentials_not_sealed", "table", "calendar_connections", "id", connection,
                  NULL);
        return NULL;
    }
    const char *values[11] = {org,
                              connection,
                              checked->direction,
                              checked->calcom_event_type_id ? checked_type : NULL,
                              write->direction,
                              write->calendar_id_set ? "true" : "false",
                              write->calendar_id,
                              sealed,
                              write->event_type_set ? "true" : "false",
                              write->calcom_event_type_id ? event_type : NULL,
                              write->status};
    store_operation_t *operation = store_operation_start(pool, "connection_update", 11, values,
                                                         on_one, (void (*)(void))cb, arg);
    free(sealed);
    return operation;
}

static void on_deleted(store_operation_t *operation, const PGresult *res, int error)
{
    store_connection_delete_cb cb = (store_connection_delete_cb)operation->callback;
    eng_id_t resource;
    if (!error && PQntuples(res) != 1)
        error = STORE_ENOTFOUND;
    if (!error && codec_parse_uuid(PQgetvalue(res, 0, 0), &resource) != 0)
        error = STORE_EINTERNAL;
    cb(error, error ? NULL : &resource, operation->arg);
}

store_operation_t *store_connections_delete(store_pool_t *pool, const eng_id_t *organization,
                                            const eng_id_t *id, store_connection_delete_cb cb,
                                            void *arg)
{
    char org[37], connection[37];
    codec_format_uuid(organization, org);
    codec_format_uuid(id, connection);
    const char *values[2] = {org, connection};
    return store_operation_start(pool, "connection_delete", 2, values, on_deleted,
                                 (void (*)(void))cb, arg);
}

/* ---- credentials -------------------------------------------------------------------------- */

typedef struct {
    const codec_secret_key_t *key;
    eng_id_t organization, id;
} open_state_t;

static void on_credentials(store_operation_t *operation, const PGresult *res, int error)
{
    store_connection_credentials_cb cb = (store_connection_credentials_cb)operation->callback;
    open_state_t *st = operation->state;
    if (!error && PQntuples(res) != 1)
        error = STORE_ENOTFOUND;
    char *plain = NULL;
    size_t length = 0;
    if (!error)
        error = store_connection_open(st->key, &st->organization, &st->id, NULL,
                                      PQgetvalue(res, 0, 0), &plain, &length);
    cb(error, error ? NULL : plain, length, operation->arg);
    codec_secret_free(plain, length);
}

store_operation_t *store_connections_credentials(store_pool_t *pool, const codec_secret_key_t *key,
                                                 const eng_id_t *organization, const eng_id_t *id,
                                                 store_connection_credentials_cb cb, void *arg)
{
    char org[37], connection[37];
    codec_format_uuid(organization, org);
    codec_format_uuid(id, connection);
    const char *values[2] = {org, connection};
    store_operation_t *operation = store_operation_start(pool, "connection_credentials", 2, values,
                                                         on_credentials, (void (*)(void))cb, arg);
    if (operation == NULL)
        return NULL;
    open_state_t *st = slotd_calloc(1, sizeof(*st));
    *st = (open_state_t){key, *organization, *id};
    operation->state = st;
    operation->free_state = free;
    return operation;
}
