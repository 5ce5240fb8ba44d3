/*
 * The typed store of outbound webhooks (see webhooks.h). The SQL is in
 * sql/webhooks.sql; this file alone knows its parameter positions and result
 * columns, and it alone seals an endpoint's secret.
 */
#include "store/webhooks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "slotd/alloc.h"
#include "slotd/codec.h"
#include "store/connections.h"

/* The columns of every statement that answers endpoints. */
enum { COL_ID, COL_ANSWER };

static int read_endpoint(const PGresult *res, int row, store_webhook_endpoint_t *out)
{
    if (codec_parse_uuid(PQgetvalue(res, row, COL_ID), &out->id) != 0)
        return STORE_EINTERNAL;
    out->answer = PQgetvalue(res, row, COL_ANSWER);
    return 0;
}

static void on_one(store_operation_t *operation, const PGresult *res, int error)
{
    store_webhook_endpoint_cb cb = (store_webhook_endpoint_cb)operation->callback;
    store_webhook_endpoint_t endpoint;
    if (!error && PQntuples(res) != 1)
        error = STORE_ENOTFOUND;
    if (!error)
        error = read_endpoint(res, 0, &endpoint);
    cb(error, error ? NULL : &endpoint, operation->arg);
}

store_operation_t *store_webhook_endpoints_insert(store_pool_t *pool, const codec_secret_key_t *key,
                                                  const eng_id_t *organization, const eng_id_t *id,
                                                  const store_webhook_write_t *write,
                                                  const char *secret, store_webhook_endpoint_cb cb,
                                                  void *arg)
{
    char org[37], endpoint[37];
    char *sealed = store_connection_seal(key, organization, id, STORE_WEBHOOK_SECRET_PURPOSE,
                                         secret, strlen(secret));
    if (sealed == NULL) {
        log_error("secret_not_sealed", "table", "webhook_endpoints", NULL);
        return NULL;
    }
    codec_format_uuid(organization, org);
    codec_format_uuid(id, endpoint);
    const char *values[6] = {org, endpoint, write->url, write->events, write->description, sealed};
    store_operation_t *operation = store_operation_start(pool, "webhook_endpoint_insert", 6, values,
                                                         on_one, (void (*)(void))cb, arg);
    free(sealed);
    return operation;
}

/* Starts a statement whose parameters are the organization and the endpoint. */
static store_operation_t *start_by_id(store_pool_t *pool, const char *statement,
                                      const eng_id_t *organization, const eng_id_t *id,
                                      store_operation_result_fn on_result, void (*cb)(void),
                                      void *arg)
{
    char org[37], endpoint[37];
    codec_format_uuid(organization, org);
    codec_format_uuid(id, endpoint);
    const char *values[2] = {org, endpoint};
    return store_operation_start(pool, statement, 2, values, on_result, cb, arg);
}

store_operation_t *store_webhook_endpoints_get(store_pool_t *pool, const eng_id_t *organization,
                                               const eng_id_t *id, store_webhook_endpoint_cb cb,
                                               void *arg)
{
    return start_by_id(pool, "webhook_endpoint_get", organization, id, on_one, (void (*)(void))cb,
                       arg);
}

/* The list asks for one row more than the page: its presence means another page. */
static void on_list(store_operation_t *operation, const PGresult *res, int error)
{
    store_webhook_endpoint_list_cb cb = (store_webhook_endpoint_list_cb)operation->callback;
    int limit = (int)operation->extra;
    int rows = error ? 0 : PQntuples(res);
    int page = rows < limit ? rows : limit;
    store_webhook_endpoint_t *items = slotd_calloc(page ? (size_t)page : 1, sizeof(*items));
    for (int row = 0; row < page && !error; row++)
        error = read_endpoint(res, row, &items[row]);
    cb(error, error ? NULL : items, error ? 0 : (size_t)page, !error && rows > limit,
       operation->arg);
    free(items);
}

store_operation_t *store_webhook_endpoints_list(store_pool_t *pool, const eng_id_t *organization,
                                                const eng_id_t *cursor, int limit,
                                                store_webhook_endpoint_list_cb cb, void *arg)
{
    return store_operation_start_page(pool, "webhook_endpoint_list", organization, cursor, limit,
                                      on_list, (void (*)(void))cb, arg);
}

store_operation_t *store_webhook_endpoints_update(store_pool_t *pool, const eng_id_t *organization,
                                                  const eng_id_t *id,
                                                  const store_webhook_write_t *write,
                                                  store_webhook_endpoint_cb cb, void *arg)
{
    char org[37], endpoint[37];
    codec_format_uuid(organization, org);
    codec_format_uuid(id, endpoint);
    const char *values[7] = {org,
                             endpoint,
                             write->url,
                             write->events,
                             write->description_set ? "true" : "false",
                             write->description,
                             write->status};
    return store_operation_start(pool, "webhook_endpoint_update", 7, values, on_one,
                                 (void (*)(void))cb, arg);
}

static void on_deleted(store_operation_t *operation, const PGresult *res, int error)
{
    store_webhook_done_cb cb = (store_webhook_done_cb)operation->callback;
    if (!error && PQntuples(res) != 1)
        error = STORE_ENOTFOUND;
    cb(error, operation->arg);
}

store_operation_t *store_webhook_endpoints_delete(store_pool_t *pool, const eng_id_t *organization,
                                                  const eng_id_t *id, store_webhook_done_cb cb,
                                                  void *arg)
{
    return start_by_id(pool, "webhook_endpoint_delete", organization, id, on_deleted,
                       (void (*)(void))cb, arg);
}

/* No row: no such endpoint; a row of NULLs: an endpoint without (more) attempts. */
static void on_deliveries(store_operation_t *operation, const PGresult *res, int error)
{
    store_webhook_deliveries_cb cb = (store_webhook_deliveries_cb)operation->callback;
    int limit = (int)operation->extra;
    int rows = error ? 0 : PQntuples(res);
    if (!error && rows == 0)
        error = STORE_ENOTFOUND;
    if (!error && PQgetisnull(res, 0, 0))
        rows = 0;
    int page = rows < limit ? rows : limit;
    const char **answers = slotd_calloc(page ? (size_t)page : 1, sizeof(*answers));
    for (int row = 0; row < page; row++)
        answers[row] = PQgetvalue(res, row, 1);
    int64_t next = rows > limit ? strtoll(PQgetvalue(res, page - 1, 0), NULL, 10) : 0;
    cb(error, answers, error ? 0 : (size_t)page, error ? 0 : next, operation->arg);
    free(answers);
}

store_operation_t *store_webhook_deliveries(store_pool_t *pool, const eng_id_t *organization,
                                            const eng_id_t *endpoint, int64_t cursor, int limit,
                                            store_webhook_deliveries_cb cb, void *arg)
{
    char org[37], id[37], after[24], rows[16];
    codec_format_uuid(organization, org);
    codec_format_uuid(endpoint, id);
    snprintf(after, sizeof(after), "%lld", (long long)cursor);
    snprintf(rows, sizeof(rows), "%d", limit + 1);
    const char *values[4] = {org, id, cursor > 0 ? after : NULL, rows};
    store_operation_t *operation = store_operation_start(pool, "webhook_deliveries", 4, values,
                                                         on_deliveries, (void (*)(void))cb, arg);
    if (operation)
        operation->extra = limit;
    return operation;
}

/* ---- the delivery worker ------------------------------------------------------------ */

enum {
    CLAIM_ORG,
    CLAIM_ID,
    CLAIM_ENDPOINT,
    CLAIM_URL,
    CLAIM_SECRET,
    CLAIM_EVENT,
    CLAIM_TYPE,
    CLAIM_BODY
};

static void on_claimed(store_operation_t *operation, const PGresult *res, int error)
{
    store_webhook_claim_cb cb = (store_webhook_claim_cb)operation->callback;
    int rows = error ? 0 : PQntuples(res);
    store_webhook_message_t *items = slotd_calloc(rows ? (size_t)rows : 1, sizeof(*items));
    int count = 0;
    for (int row = 0; row < rows; row++) {
        store_webhook_message_t *m = &items[count];
        if (codec_parse_uuid(PQgetvalue(res, row, CLAIM_ORG), &m->organization) != 0 ||
            codec_parse_uuid(PQgetvalue(res, row, CLAIM_ENDPOINT), &m->endpoint) != 0 ||
            PQgetisnull(res, row, CLAIM_BODY)) {
            log_error("store_unreadable_row", "table", "webhook_messages", "id",
                      PQgetvalue(res, row, CLAIM_ID), NULL);
            continue;
        }
        m->id = strtoll(PQgetvalue(res, row, CLAIM_ID), NULL, 10);
        m->url = PQgetvalue(res, row, CLAIM_URL);
        m->secret = PQgetvalue(res, row, CLAIM_SECRET);
        m->event_id = PQgetvalue(res, row, CLAIM_EVENT);
        m->type = PQgetvalue(res, row, CLAIM_TYPE);
        m->body = PQgetvalue(res, row, CLAIM_BODY);
        count++;
    }
    cb(error, items, (size_t)count, operation->arg);
    free(items);
}

store_operation_t *store_webhook_claim(store_pool_t *pool, int limit, int hold_seconds,
                                       store_webhook_claim_cb cb, void *arg)
{
    char rows[16], hold[16];
    snprintf(rows, sizeof(rows), "%d", limit);
    snprintf(hold, sizeof(hold), "%d", hold_seconds);
    const char *values[2] = {rows, hold};
    return store_operation_start(pool, "webhook_claim", 2, values, on_claimed, (void (*)(void))cb,
                                 arg);
}

static void on_attempted(store_operation_t *operation, const PGresult *res, int error)
{
    store_webhook_attempted_cb cb = (store_webhook_attempted_cb)operation->callback;
    bool disabled = !error && PQntuples(res) == 1 && PQgetvalue(res, 0, 1)[0] == 't';
    cb(error, disabled, operation->arg);
}

store_operation_t *store_webhook_attempted(store_pool_t *pool, const eng_id_t *organization,
                                           int64_t message, long status, const char *error,
                                           long duration_ms, const char *schedule,
                                           store_webhook_attempted_cb cb, void *arg)
{
    char org[37], id[24], code[16], duration[24], reason[501];
    codec_format_uuid(organization, org);
    snprintf(id, sizeof(id), "%lld", (long long)message);
    snprintf(code, sizeof(code), "%ld", status);
    snprintf(duration, sizeof(duration), "%ld", duration_ms);
    if (error)
        snprintf(reason, sizeof(reason), "%s", error);
    const char *values[6] = {org,      id,      status ? code : NULL, error ? reason : NULL,
                             duration, schedule};
    return store_operation_start(pool, "webhook_attempted", 6, values, on_attempted,
                                 (void (*)(void))cb, arg);
}
