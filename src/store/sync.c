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
#include "store/keys.h"

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
    CLAIM_FAILURES,
    CLAIM_WATCH_EXPIRES
};

#define ACCESS_PURPOSE "access"

typedef struct {
    const codec_secret_key_t *key;
} claim_state_t;

/* An operation whose answer is opened with `key`: the key kept in its state. NULL as given. */
static store_operation_t *keep_key(store_operation_t *operation, const codec_secret_key_t *key)
{
    if (operation == NULL)
        return NULL;
    claim_state_t *st = slotd_calloc(1, sizeof(*st));
    st->key = key;
    operation->state = st;
    operation->free_state = free;
    return operation;
}

/* The secrets a claim opens: per row, its credentials and its access token, each wiped and
 * freed by opened_free. */
typedef struct {
    char **plain;
    size_t *lengths;
} opened_t;

static opened_t opened_new(int rows)
{
    return (opened_t){slotd_calloc(2 * (size_t)rows + 1, sizeof(char *)),
                      slotd_calloc(2 * (size_t)rows + 1, sizeof(size_t))};
}

static void opened_free(opened_t *o, size_t rows)
{
    for (size_t i = 0; i < 2 * rows; i++)
        codec_secret_free(o->plain[i], o->lengths[i]);
    free(o->plain);
    free(o->lengths);
}

/* Opens row `row`'s sealed credentials and access token (with its expiry) of connection `id`
 * into item `i` of `o`: what does not open stays NULL (the runner records it). */
static void open_secrets(const codec_secret_key_t *key, const eng_id_t *organization,
                         const eng_id_t *id, const PGresult *res, int row, const int columns[3],
                         opened_t *o, size_t i, const char **credentials,
                         size_t *credentials_length, const char **access_token,
                         int64_t *access_expires)
{
    char **plain = &o->plain[2 * i];
    size_t *length = &o->lengths[2 * i];
    if (store_connection_open(key, organization, id, NULL, PQgetvalue(res, row, columns[0]), plain,
                              length) == 0) {
        *credentials = *plain;
        *credentials_length = *length;
    }
    const char *access = store_nullable(res, row, columns[1]);
    if (access && store_connection_open(key, organization, id, ACCESS_PURPOSE, access, &plain[1],
                                        &length[1]) == 0) {
        *access_token = plain[1];
        *access_expires = strtoll(PQgetvalue(res, row, columns[2]), NULL, 10);
    }
}

static void on_claimed(store_operation_t *operation, const PGresult *res, int error)
{
    store_sync_claim_cb cb = (store_sync_claim_cb)operation->callback;
    claim_state_t *st = operation->state;
    int rows = error ? 0 : PQntuples(res);
    store_sync_claim_t *claims = slotd_calloc((size_t)rows + 1, sizeof(*claims));
    opened_t opened = opened_new(rows);
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
        const char *watch = store_nullable(res, row, CLAIM_WATCH_EXPIRES);
        c->watch_expires = watch ? strtoll(watch, NULL, 10) : 0;
        static const int columns[3] = {CLAIM_CREDENTIALS, CLAIM_ACCESS_TOKEN, CLAIM_ACCESS_EXPIRES};
        open_secrets(st->key, &c->organization, &c->id, res, row, columns, &opened, count,
                     &c->credentials, &c->credentials_length, &c->access_token, &c->access_expires);
        count++;
    }
    cb(error, claims, count, operation->arg);
    opened_free(&opened, count);
    free(claims);
}

/* A claim's rooms as its statement's parameters: Google's, Microsoft's, Cal.com's, ICS's. */
static void rooms_text(const store_sync_rooms_t *rooms, char text[4][16])
{
    snprintf(text[3], 16, "%d", rooms->ics);
    snprintf(text[0], 16, "%d", rooms->google);
    snprintf(text[1], 16, "%d", rooms->microsoft);
    snprintf(text[2], 16, "%d", rooms->calcom);
}

store_operation_t *store_sync_claim(store_pool_t *pool, const codec_secret_key_t *key,
                                    const store_sync_claim_options_t *o, store_sync_claim_cb cb,
                                    void *arg)
{
    char now[24], limit[16], hold[16], connection[37], organization[37], hour[8], rooms[4][16];
    snprintf(now, sizeof(now), "%lld", (long long)o->now);
    snprintf(limit, sizeof(limit), "%d", o->limit);
    snprintf(hold, sizeof(hold), "%d", o->hold_seconds);
    snprintf(hour, sizeof(hour), "%d", o->nightly_hour);
    rooms_text(&o->rooms, rooms);
    if (o->connection)
        codec_format_uuid(o->connection, connection);
    if (o->organization)
        codec_format_uuid(o->organization, organization);
    const char *values[11] = {now,
                              limit,
                              hold,
                              o->connection ? connection : NULL,
                              o->organization ? organization : NULL,
                              o->due_only ? "true" : "false",
                              hour,
                              rooms[0],
                              rooms[1],
                              rooms[2],
                              rooms[3]};
    return keep_key(
        store_operation_start(pool, "sync_claim", 11, values, on_claimed, (void (*)(void))cb, arg),
        key);
}

/* ---- finishing a pull ------------------------------------------------------------------------ */

typedef struct {
    char organization[37], id[37];
    char *values[11]; /* sync_done's, owned */
    char *upserts, *deletes;
    char **parts;
    size_t part_count;
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
    for (size_t i = 0; i < f->part_count; i++)
        free(f->parts[i]);
    free(f->parts);
    free(f);
}

static void finish_body(store_tx_t *tx, void *arg)
{
    finish_t *f = arg;
    const char *ids[2] = {f->organization, f->id};
    store_tx_query(tx, "sync_lock", 2, ids, NULL, NULL);
    if (f->full)
        store_tx_query(tx, "sync_events_clear", 2, ids, NULL, NULL);
    if (f->upserts) {
        const char *values[3] = {f->organization, f->id, f->upserts};
        store_tx_query(tx, "sync_events_upsert", 3, values, NULL, NULL);
    }
    for (size_t i = 0; i < f->part_count; i++) {
        const char *values[3] = {f->organization, f->id, f->parts[i]};
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
    if (ok && r->upsert_part_count) {
        f->parts = slotd_malloc(r->upsert_part_count * sizeof(*f->parts));
        for (size_t i = 0; i < r->upsert_part_count; i++)
            f->parts[i] = slotd_strdup(r->upsert_parts[i]);
        f->part_count = r->upsert_part_count;
    }
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
    store_tx_options_t options = {.isolation = STORE_TX_READ_COMMITTED,
                                  .pipeline = f->part_count <= 1};
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

/* ---- watches and the webhooks they bring ------------------------------------------------------
 */

static void on_watch_set(store_operation_t *operation, const PGresult *res, int error)
{
    (void)res;
    ((store_sync_done_cb)operation->callback)(error, operation->arg);
}

store_operation_t *store_sync_watch_set(store_pool_t *pool, const eng_id_t *organization,
                                        const eng_id_t *id, const char *watch_id,
                                        const uint8_t secret_hash[32], const char *resource_id,
                                        int64_t expires, store_sync_done_cb cb, void *arg)
{
    char org[37], connection[37], hash[67], until[24];
    codec_format_uuid(organization, org);
    codec_format_uuid(id, connection);
    store_key_hash_text(secret_hash, hash);
    snprintf(until, sizeof(until), "%lld", (long long)expires);
    const char *values[6] = {org, connection, watch_id, hash, resource_id, until};
    return store_operation_start(pool, "sync_watch_set", 6, values, on_watch_set,
                                 (void (*)(void))cb, arg);
}

/* Reads a webhook lookup's first row: the organization, the id and the provider. */
static int webhook_row(const PGresult *res, int error, store_webhook_target_t *t)
{
    if (!error && PQntuples(res) != 1)
        error = STORE_ENOTFOUND;
    if (!error && (codec_parse_uuid(PQgetvalue(res, 0, 0), &t->organization) != 0 ||
                   codec_parse_uuid(PQgetvalue(res, 0, 1), &t->id) != 0))
        error = STORE_EINTERNAL;
    if (!error)
        t->provider = PQgetvalue(res, 0, 2);
    return error;
}

static void on_webhook_watch(store_operation_t *operation, const PGresult *res, int error)
{
    store_webhook_cb cb = (store_webhook_cb)operation->callback;
    store_webhook_target_t t = {0};
    uint8_t hash[32] = {0};
    error = webhook_row(res, error, &t);
    if (!error) {
        size_t length;
        unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, 3), &length);
        if (raw && length == sizeof(hash))
            memcpy(hash, raw, sizeof(hash));
        else
            error = STORE_ENOTFOUND; /* no secret to compare with: nothing proves the caller */
        PQfreemem(raw);
        t.secret_hash = hash;
    }
    cb(error, error ? NULL : &t, operation->arg);
}

store_operation_t *store_webhook_watch(store_pool_t *pool, const char *watch_id,
                                       store_webhook_cb cb, void *arg)
{
    const char *values[1] = {watch_id};
    return store_operation_start(pool, "webhook_watch", 1, values, on_webhook_watch,
                                 (void (*)(void))cb, arg);
}

static void on_webhook_connection(store_operation_t *operation, const PGresult *res, int error)
{
    store_webhook_cb cb = (store_webhook_cb)operation->callback;
    claim_state_t *st = operation->state;
    store_webhook_target_t t = {0};
    char *plain = NULL;
    size_t length = 0;
    error = webhook_row(res, error, &t);
    if (!error)
        error = store_connection_open(st->key, &t.organization, &t.id, NULL, PQgetvalue(res, 0, 3),
                                      &plain, &length);
    t.credentials = plain;
    cb(error, error ? NULL : &t, operation->arg);
    codec_secret_free(plain, length);
}

store_operation_t *store_webhook_connection(store_pool_t *pool, const codec_secret_key_t *key,
                                            const eng_id_t *id, store_webhook_cb cb, void *arg)
{
    char connection[37];
    codec_format_uuid(id, connection);
    const char *values[1] = {connection};
    return keep_key(store_operation_start(pool, "webhook_connection", 1, values,
                                          on_webhook_connection, (void (*)(void))cb, arg),
                    key);
}

/* ---- the outbox: pushing bookings -------------------------------------------------------------
 */

enum {
    PUSH_ORGANIZATION,
    PUSH_ID,
    PUSH_CONNECTION,
    PUSH_BOOKING,
    PUSH_ATTEMPTS,
    PUSH_PROVIDER,
    PUSH_CALENDAR,
    PUSH_CREDENTIALS,
    PUSH_ACCESS_TOKEN,
    PUSH_ACCESS_EXPIRES,
    PUSH_EVENT_TYPE,
    PUSH_LIVE,
    PUSH_PRESENT,
    PUSH_START,
    PUSH_END,
    PUSH_SERVICE,
    PUSH_CUSTOMER,
    PUSH_EMAIL,
    PUSH_EXTERNAL_ID,
    PUSH_EXTERNAL_START,
    PUSH_TIMEZONE
};

static void on_push_claimed(store_operation_t *operation, const PGresult *res, int error)
{
    store_push_claim_cb cb = (store_push_claim_cb)operation->callback;
    claim_state_t *st = operation->state;
    int rows = error ? 0 : PQntuples(res);
    store_push_item_t *items = slotd_calloc((size_t)rows + 1, sizeof(*items));
    opened_t opened = opened_new(rows);
    size_t count = 0;
    for (int row = 0; row < rows; row++) {
        store_push_item_t *p = &items[count];
        if (codec_parse_uuid(PQgetvalue(res, row, PUSH_ORGANIZATION), &p->organization) != 0 ||
            codec_parse_uuid(PQgetvalue(res, row, PUSH_CONNECTION), &p->connection) != 0 ||
            codec_parse_uuid(PQgetvalue(res, row, PUSH_BOOKING), &p->booking) != 0)
            continue;
        p->outbox_id = strtoll(PQgetvalue(res, row, PUSH_ID), NULL, 10);
        p->attempts = atoi(PQgetvalue(res, row, PUSH_ATTEMPTS));
        p->provider = PQgetvalue(res, row, PUSH_PROVIDER);
        p->calendar_id = store_nullable(res, row, PUSH_CALENDAR);
        const char *type = store_nullable(res, row, PUSH_EVENT_TYPE);
        p->calcom_event_type_id = type ? strtoll(type, NULL, 10) : 0;
        p->live = strcmp(PQgetvalue(res, row, PUSH_LIVE), "t") == 0;
        p->present = strcmp(PQgetvalue(res, row, PUSH_PRESENT), "t") == 0;
        p->start = strtoll(PQgetvalue(res, row, PUSH_START), NULL, 10);
        p->end = strtoll(PQgetvalue(res, row, PUSH_END), NULL, 10);
        p->service_name = PQgetvalue(res, row, PUSH_SERVICE);
        p->customer_name = PQgetvalue(res, row, PUSH_CUSTOMER);
        p->customer_email = store_nullable(res, row, PUSH_EMAIL);
        p->external_id = store_nullable(res, row, PUSH_EXTERNAL_ID);
        const char *external_start = store_nullable(res, row, PUSH_EXTERNAL_START);
        p->has_external_start = external_start != NULL;
        p->external_start = external_start ? strtoll(external_start, NULL, 10) : 0;
        p->timezone = store_nullable(res, row, PUSH_TIMEZONE);
        static const int columns[3] = {PUSH_CREDENTIALS, PUSH_ACCESS_TOKEN, PUSH_ACCESS_EXPIRES};
        open_secrets(st->key, &p->organization, &p->connection, res, row, columns, &opened, count,
                     &p->credentials, &p->credentials_length, &p->access_token, &p->access_expires);
        count++;
    }
    cb(error, items, count, operation->arg);
    opened_free(&opened, count);
    free(items);
}

store_operation_t *store_push_claim(store_pool_t *pool, const codec_secret_key_t *key,
                                    const store_push_claim_options_t *o, store_push_claim_cb cb,
                                    void *arg)
{
    char clock[24], most[16], hold[16], rooms[4][16], connection[37], organization[37];
    snprintf(clock, sizeof(clock), "%lld", (long long)o->now);
    snprintf(most, sizeof(most), "%d", o->limit);
    snprintf(hold, sizeof(hold), "%d", o->hold_seconds);
    rooms_text(&o->rooms, rooms);
    if (o->connection)
        codec_format_uuid(o->connection, connection);
    if (o->organization)
        codec_format_uuid(o->organization, organization);
    char *busy = store_ids_literal(o->busy, o->busy_count);
    char *tried = slotd_malloc(3 + o->tried_count * 21), *t = tried;
    *t++ = '{';
    for (size_t i = 0; i < o->tried_count; i++)
        t += sprintf(t, "%s%lld", i ? "," : "", (long long)o->tried[i]);
    strcpy(t, "}");
    const char *values[11] = {clock,
                              most,
                              hold,
                              busy,
                              rooms[0],
                              rooms[1],
                              rooms[2],
                              o->connection ? connection : NULL,
                              o->organization ? organization : NULL,
                              o->due_only ? "true" : "false",
                              tried};
    store_operation_t *operation = store_operation_start(pool, "push_claim", 11, values,
                                                         on_push_claimed, (void (*)(void))cb, arg);
    free(busy);
    free(tried);
    return keep_key(operation, key);
}

typedef struct {
    char organization[37], connection[37], booking[37];
    char *values[8][6];
    const char *names[4];
    int counts[4], statements;
    store_sync_done_cb cb;
    void *arg;
} push_finish_t;

static void push_finish_free(push_finish_t *f)
{
    for (int i = 0; i < 8; i++)
        for (int k = 0; k < 6; k++)
            free(f->values[i][k]);
    free(f);
}

static void push_body(store_tx_t *tx, void *arg)
{
    push_finish_t *f = arg;
    for (int i = 0; i < f->statements; i++)
        store_tx_query(tx, f->names[i], f->counts[i], (const char *const *)f->values[i], NULL,
                       NULL);
    store_tx_commit(tx);
}

static void push_done(const store_tx_outcome_t *outcome, void *arg)
{
    push_finish_t *f = arg;
    f->cb(outcome->error == STORE_OK ? 0 : STORE_EUNAVAILABLE, f->arg);
    push_finish_free(f);
}

/* Adds a statement with its values (copied; NULL stays NULL). */
static void push_statement(push_finish_t *f, const char *name, int count, const char *const *v)
{
    int i = f->statements++;
    f->names[i] = name;
    f->counts[i] = count;
    for (int k = 0; k < count; k++)
        f->values[i][k] = v[k] ? slotd_strdup(v[k]) : NULL;
}

store_tx_t *store_push_finish(store_pool_t *pool, const codec_secret_key_t *key,
                              const store_push_item_t *item, const store_push_result_t *r,
                              store_sync_done_cb cb, void *arg)
{
    push_finish_t *f = slotd_calloc(1, sizeof(*f));
    f->cb = cb;
    f->arg = arg;
    codec_format_uuid(&item->organization, f->organization);
    codec_format_uuid(&item->connection, f->connection);
    codec_format_uuid(&item->booking, f->booking);
    char id[24], now[24], retry[24], start[24], expires[24];
    snprintf(id, sizeof(id), "%lld", (long long)item->outbox_id);
    snprintf(now, sizeof(now), "%lld", (long long)r->now);
    snprintf(retry, sizeof(retry), "%lld", (long long)r->retry_at);
    snprintf(start, sizeof(start), "%lld", (long long)r->start);
    snprintf(expires, sizeof(expires), "%lld", (long long)r->access_expires);
    if (r->set_mapping) {
        const char *v[6] = {f->organization, f->booking,     f->connection,
                            item->provider,  r->external_id, start};
        push_statement(f, "push_mapping_set", 6, v);
    } else if (r->clear_mapping) {
        const char *v[3] = {f->organization, f->booking, f->connection};
        push_statement(f, "push_mapping_clear", 3, v);
    }
    if (r->error) {
        const char *v[4] = {f->organization, id, r->error, retry};
        push_statement(f, "push_outbox_retry", 4, v);
    } else {
        const char *v[3] = {f->organization, id, now};
        push_statement(f, "push_outbox_done", 3, v);
    }
    if (r->revoked) {
        const char *v[3] = {f->organization, f->connection, r->error};
        push_statement(f, "push_broken", 3, v);
    }
    if (r->access_token || r->credentials) {
        char *access =
            r->access_token
                ? store_connection_seal(key, &item->organization, &item->connection, ACCESS_PURPOSE,
                                        r->access_token, strlen(r->access_token))
                : NULL;
        char *credentials =
            r->credentials ? store_connection_seal(key, &item->organization, &item->connection,
                                                   NULL, r->credentials, strlen(r->credentials))
                           : NULL;
        const char *v[5] = {f->organization, f->connection, access,
                            r->access_token ? expires : NULL, credentials};
        push_statement(f, "push_tokens", 5, v);
        free(access);
        free(credentials);
    }
    store_tx_options_t options = {.isolation = STORE_TX_READ_COMMITTED, .pipeline = true};
    store_tx_t *tx = store_tx_begin(pool, &options, push_body, push_done, f);
    if (tx == NULL)
        push_finish_free(f);
    return tx;
}
