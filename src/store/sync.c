/*
 * The typed store of calendar sync (see sync.h). This file alone knows the
 * parameter positions and result columns of sql/sync.sql.
 */
#include "store/sync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slotd/alloc.h"
#include "slotd/codec.h"
#include "store/connections.h"

/* The columns of sync_claim. */
enum {
    CLAIM_ORGANIZATION,
    CLAIM_ID,
    CLAIM_RESOURCE,
    CLAIM_PROVIDER,
    CLAIM_CALENDAR,
    CLAIM_CREDENTIALS,
    CLAIM_SYNC_TOKEN,
    CLAIM_ACCESS_TOKEN,
    CLAIM_ACCESS_EXPIRES,
    CLAIM_TIMEZONE,
    CLAIM_FULL,
    CLAIM_FAILURES
};

#define ACCESS_PURPOSE "access"

typedef struct {
    const codec_secret_key_t *key;
} claim_state_t;

static void on_claimed(store_operation_t *operation, const PGresult *res, int error)
{
    store_sync_claim_cb cb = (store_sync_claim_cb)operation->callback;
    claim_state_t *st = operation->state;
    int rows = error ? 0 : PQntuples(res);
    store_sync_claim_t *claims = slotd_calloc((size_t)rows + 1, sizeof(*claims));
    char **opened = slotd_calloc(2 * (size_t)rows + 1, sizeof(char *));
    size_t *lengths = slotd_calloc(2 * (size_t)rows + 1, sizeof(size_t));
    size_t count = 0;
    for (int row = 0; row < rows; row++) {
        store_sync_claim_t *c = &claims[count];
        if (codec_parse_uuid(PQgetvalue(res, row, CLAIM_ORGANIZATION), &c->organization) != 0 ||
            codec_parse_uuid(PQgetvalue(res, row, CLAIM_ID), &c->id) != 0 ||
            codec_parse_uuid(PQgetvalue(res, row, CLAIM_RESOURCE), &c->resource) != 0)
            continue;
        c->provider = PQgetvalue(res, row, CLAIM_PROVIDER);
        c->calendar_id = store_nullable(res, row, CLAIM_CALENDAR);
        c->sync_token = store_nullable(res, row, CLAIM_SYNC_TOKEN);
        c->timezone = PQgetvalue(res, row, CLAIM_TIMEZONE);
        c->full = strcmp(PQgetvalue(res, row, CLAIM_FULL), "t") == 0;
        c->failures = atoi(PQgetvalue(res, row, CLAIM_FAILURES));
        char **plain = &opened[2 * count];
        size_t *length = &lengths[2 * count];
        /* credentials that do not open stay NULL: the runner records it */
        if (store_connection_open(st->key, &c->organization, &c->id, NULL,
                                  PQgetvalue(res, row, CLAIM_CREDENTIALS), plain, length) == 0) {
            c->credentials = *plain;
            c->credentials_length = *length;
        }
        const char *access = store_nullable(res, row, CLAIM_ACCESS_TOKEN);
        if (access && store_connection_open(st->key, &c->organization, &c->id, ACCESS_PURPOSE,
                                            access, &plain[1], &length[1]) == 0) {
            c->access_token = plain[1];
            c->access_expires = strtoll(PQgetvalue(res, row, CLAIM_ACCESS_EXPIRES), NULL, 10);
        }
        count++;
    }
    cb(error, claims, count, operation->arg);
    for (size_t i = 0; i < 2 * count; i++)
        codec_secret_free(opened[i], lengths[i]);
    free(opened);
    free(lengths);
    free(claims);
}

store_operation_t *store_sync_claim(store_pool_t *pool, const codec_secret_key_t *key,
                                    const store_sync_claim_options_t *o, store_sync_claim_cb cb,
                                    void *arg)
{
    char now[24], limit[16], hold[16], connection[37], organization[37], hour[8];
    snprintf(now, sizeof(now), "%lld", (long long)o->now);
    snprintf(limit, sizeof(limit), "%d", o->limit);
    snprintf(hold, sizeof(hold), "%d", o->hold_seconds);
    snprintf(hour, sizeof(hour), "%d", o->nightly_hour);
    if (o->connection)
        codec_format_uuid(o->connection, connection);
    if (o->organization)
        codec_format_uuid(o->organization, organization);
    const char *values[7] = {now,
                             limit,
                             hold,
                             o->connection ? connection : NULL,
                             o->organization ? organization : NULL,
                             o->due_only ? "true" : "false",
                             hour};
    store_operation_t *operation =
        store_operation_start(pool, "sync_claim", 7, values, on_claimed, (void (*)(void))cb, arg);
    if (operation == NULL)
        return NULL;
    claim_state_t *st = slotd_calloc(1, sizeof(*st));
    st->key = key;
    operation->state = st;
    operation->free_state = free;
    return operation;
}

/* ---- finishing a pull ------------------------------------------------------------------------ */

typedef struct {
    char organization[37], id[37];
    char *values[11]; /* sync_done's, owned */
    char *upserts, *deletes;
    bool full;
    store_sync_done_cb cb;
    void *arg;
} finish_t;

static void finish_free(finish_t *f)
{
    for (size_t i = 0; i < sizeof(f->values) / sizeof(f->values[0]); i++)
        free(f->values[i]);
    free(f->upserts);
    free(f->deletes);
    free(f);
}

static void finish_body(store_tx_t *tx, void *arg)
{
    finish_t *f = arg;
    const char *ids[2] = {f->organization, f->id};
    if (f->full)
        store_tx_query(tx, "sync_events_clear", 2, ids, NULL, NULL);
    if (f->upserts) {
        const char *values[3] = {f->organization, f->id, f->upserts};
        store_tx_query(tx, "sync_events_upsert", 3, values, NULL, NULL);
    }
    if (f->deletes) {
        const char *values[3] = {f->organization, f->id, f->deletes};
        store_tx_query(tx, "sync_events_delete", 3, values, NULL, NULL);
    }
    store_tx_query(tx, "sync_done", 11, (const char *const *)f->values, NULL, NULL);
    store_tx_commit(tx);
}

static void finish_done(const store_tx_outcome_t *outcome, void *arg)
{
    finish_t *f = arg;
    int error = outcome->error == STORE_OK                  ? 0
                : outcome->error == STORE_E_OUTCOME_UNKNOWN ? STORE_EOUTCOME
                                                            : STORE_EUNAVAILABLE;
    f->cb(error, f->arg);
    finish_free(f);
}

static char *number(int64_t value)
{
    char text[24];
    snprintf(text, sizeof(text), "%lld", (long long)value);
    return slotd_strdup(text);
}

store_tx_t *store_sync_finish(store_pool_t *pool, const codec_secret_key_t *key,
                              const eng_id_t *organization, const eng_id_t *id,
                              const store_sync_result_t *r, store_sync_done_cb cb, void *arg)
{
    finish_t *f = slotd_calloc(1, sizeof(*f));
    codec_format_uuid(organization, f->organization);
    codec_format_uuid(id, f->id);
    f->cb = cb;
    f->arg = arg;
    bool ok = r->error == NULL;
    f->full = ok && r->full;
    f->upserts = ok && r->upserts_json ? slotd_strdup(r->upserts_json) : NULL;
    f->deletes = ok && r->deletes_json && !r->full ? slotd_strdup(r->deletes_json) : NULL;
    char **v = f->values;
    v[0] = slotd_strdup(f->organization);
    v[1] = slotd_strdup(f->id);
    v[2] = number(r->now);
    v[3] = r->sync_token ? slotd_strdup(r->sync_token) : NULL;
    v[4] = slotd_strdup(r->full ? "true" : "false");
    if (r->access_token) {
        v[5] = store_connection_seal(key, organization, id, ACCESS_PURPOSE, r->access_token,
                                     strlen(r->access_token));
        v[6] = number(r->access_expires);
    }
    if (r->credentials)
        v[7] = store_connection_seal(key, organization, id, NULL, r->credentials,
                                     strlen(r->credentials));
    v[8] = number(r->next_sync_at);
    v[9] = r->error ? slotd_strdup(r->error) : NULL;
    v[10] = slotd_strdup(r->broken ? "true" : "false");
    store_tx_options_t options = {.isolation = STORE_TX_READ_COMMITTED, .pipeline = true};
    store_tx_t *tx = store_tx_begin(pool, &options, finish_body, finish_done, f);
    if (tx == NULL)
        finish_free(f);
    return tx;
}

/* ---- a pull asked for ------------------------------------------------------------------------ */

static void on_requested(store_operation_t *operation, const PGresult *res, int error)
{
    store_sync_request_cb cb = (store_sync_request_cb)operation->callback;
    if (!error && PQntuples(res) != 1)
        error = STORE_ENOTFOUND;
    cb(error, error ? NULL : PQgetvalue(res, 0, 0), error ? NULL : PQgetvalue(res, 0, 1),
       error ? NULL : PQgetvalue(res, 0, 2), operation->arg);
}

store_operation_t *store_sync_request(store_pool_t *pool, const eng_id_t *organization,
                                      const eng_id_t *id, bool full, store_sync_request_cb cb,
                                      void *arg)
{
    char org[37], connection[37];
    codec_format_uuid(organization, org);
    codec_format_uuid(id, connection);
    const char *values[3] = {org, connection, full ? "true" : "false"};
    return store_operation_start(pool, "sync_request", 3, values, on_requested, (void (*)(void))cb,
                                 arg);
}
