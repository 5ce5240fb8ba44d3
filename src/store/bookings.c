/*
 * The typed store for bookings and holds (see bookings.h). The SQL is in
 * sql/bookings.sql; this file alone knows its parameter positions and result
 * columns.
 *
 * A new booking is one pipelined transaction of one statement (booking_create,
 * which calls slotd_book): BEGIN, the statement and COMMIT go out together,
 * one round trip. Everything that used to depend on a statement's answer (the
 * key's lookup, the hold, the find-or-create of the customer) is decided
 * inside the function, each step a statement of its own that in READ
 * COMMITTED sees what committed before it; the answer is rendered there and
 * kept under the key before COMMIT, so a replay answers exactly the bytes the
 * first request answered. Whatever slotd_book answers besides 'created' wrote
 * nothing, so its COMMIT is harmless.
 *
 * A reschedule still reads, decides and writes (the domain judges the new time
 * with the booking's own time taken out of the index), one statement at a time.
 * Holds, reschedules and bookings take the resources' locks the same way, in
 * id order (slotd_take_locks), before they write occupancy.
 *
 * Whatever a callback must see after the transaction (the booking) is copied
 * out of the pool's result into one allocation, freed with the operation.
 */
#include "store/bookings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "log/log.h"
#include "slotd/alloc.h"
#include "slotd/codec.h"
#include "store/keys.h"
#include "store_sql.h"

/* The columns of booking_select. */
enum {
    COL_ID,
    COL_STATUS,
    COL_SERVICE,
    COL_START,
    COL_END,
    COL_RESOURCES,
    COL_CUSTOMER_ID,
    COL_CUSTOMER_NAME,
    COL_CUSTOMER_PHONE,
    COL_CUSTOMER_EMAIL,
    COL_NOTES,
    COL_SOURCE,
    COL_EXTERNAL_REF,
    COL_CREATED,
    COL_UPDATED,
    COL_ORGANIZATION_TIMEZONE,
    COL_EXTERNAL_EVENTS
};

/* The parameters of booking_create. */
enum { CREATE_VALUES = 22 };

struct store_booking_op {
    store_tx_t *tx;
    store_operation_t *operation; /* a single statement instead of a transaction */
    char organization[37];
    /* the booking transaction */
    char *create_values[CREATE_VALUES]; /* booking_create's parameters */
    int64_t now;
    store_booking_done_cb done;
    eng_id_t *resources; /* the created booking's */
    size_t resource_count;
    uint64_t xid; /* the transaction that booked, moved, cancelled or held (0: not known) */
    void *arg;
    /* the other operations' callbacks */
    store_booking_cb booking_cb;
    store_hold_cb hold_cb;
    /* per attempt */
    int error; /* why this attempt rolled back */
    int replay_status;
    char *replay_response;
    char *response;
    store_booking_t *booking;
    /* changing a booking, and holds */
    eng_id_t target;        /* the booking or hold acted on */
    const char *change;     /* the statement that changes the booking */
    char *change_values[6]; /* its parameters after the organization and the id */
    int change_count;
    store_hold_write_t hold;
    eng_id_t *hold_resources;
    store_hold_release_cb release_cb;
    store_remember_cb remember_cb;
    /* moving */
    store_booking_move_fn move;
    eng_id_t *released;
    size_t released_count;
};

static int64_t integer(const PGresult *res, int row, int col)
{
    return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/* "id,id,..." into a new array (caller frees); false when an id is malformed. */
static bool parse_ids(const char *text, eng_id_t **ids, size_t *count)
{
    size_t n = *text ? 1 : 0;
    for (const char *p = text; *p; p++)
        n += *p == ',';
    *ids = slotd_calloc(n ? n : 1, sizeof(**ids));
    *count = n;
    for (size_t i = 0; i < n; i++) {
        char one[37];
        if (strlen(text) < 36)
            return false;
        memcpy(one, text, 36);
        one[36] = 0;
        if (codec_parse_uuid(one, &(*ids)[i]) != 0)
            return false;
        text += 36 + (text[36] == ',');
    }
    return true;
}

/* booking_select's parameters for one booking; `values` has 12 entries. */
static void one_booking(const char *organization, const char *booking, const char **values)
{
    memset(values, 0, 12 * sizeof(*values));
    values[0] = organization;
    values[1] = booking;
    values[11] = "1";
}

/* Text appended to a copy's blob. */
static const char *blob_text(char **cursor, const char *text)
{
    if (text == NULL)
        return NULL;
    size_t n = strlen(text) + 1;
    char *out = *cursor;
    memcpy(out, text, n);
    *cursor += n;
    return out;
}

/* The external events of a booking_select row (a JSON array), or NULL when unreadable. */
static json_t *read_external_events(const PGresult *res, int row)
{
    json_t *events = json_loads(PQgetvalue(res, row, COL_EXTERNAL_EVENTS), 0, NULL);
    bool ok = json_is_array(events);
    size_t i;
    json_t *event;
    json_array_foreach(events, i, event)
    {
        ok &= json_is_string(json_object_get(event, "connection_id")) &&
              json_is_string(json_object_get(event, "provider")) &&
              json_is_string(json_object_get(event, "external_id"));
    }
    if (!ok) {
        json_decref(events);
        return NULL;
    }
    return events;
}

/* A row of booking_select, copied into one allocation (freed with free()); NULL when a row
 * cannot be read. */
static store_booking_t *read_booking(const PGresult *res, int row)
{
    size_t text_bytes = 0;
    static const int text_cols[] = {
        COL_STATUS, COL_CUSTOMER_NAME, COL_CUSTOMER_PHONE, COL_CUSTOMER_EMAIL,
        COL_NOTES,  COL_SOURCE,        COL_EXTERNAL_REF,   COL_ORGANIZATION_TIMEZONE};
    for (size_t i = 0; i < sizeof(text_cols) / sizeof(text_cols[0]); i++)
        text_bytes += (size_t)PQgetlength(res, row, text_cols[i]) + 1;
    /* The events' texts are shorter than the JSON that holds them. */
    json_t *events = read_external_events(res, row);
    size_t event_count = json_array_size(events);
    text_bytes += (size_t)PQgetlength(res, row, COL_EXTERNAL_EVENTS) + 1;
    eng_id_t *ids;
    size_t id_count;
    bool ok = parse_ids(PQgetvalue(res, row, COL_RESOURCES), &ids, &id_count) && events;
    store_booking_t *b =
        slotd_calloc(1, sizeof(*b) + event_count * sizeof(store_booking_external_t) +
                            (id_count + 1) * sizeof(eng_id_t) + text_bytes);
    store_booking_external_t *external = (store_booking_external_t *)(b + 1);
    eng_id_t *copied = (eng_id_t *)(external + event_count);
    memcpy(copied, ids, id_count * sizeof(eng_id_t));
    free(ids);
    char *cursor = (char *)(copied + id_count + 1);
    for (size_t i = 0; i < event_count; i++) {
        json_t *event = json_array_get(events, i);
        ok &= codec_parse_uuid(json_string_value(json_object_get(event, "connection_id")),
                               &external[i].connection_id) == 0;
        external[i].provider =
            blob_text(&cursor, json_string_value(json_object_get(event, "provider")));
        external[i].external_id =
            blob_text(&cursor, json_string_value(json_object_get(event, "external_id")));
    }
    json_decref(events);
    b->external_events = external;
    b->external_event_count = event_count;
    ok &= codec_parse_uuid(PQgetvalue(res, row, COL_ID), &b->id) == 0;
    ok &= codec_parse_uuid(PQgetvalue(res, row, COL_SERVICE), &b->service_id) == 0;
    ok &= codec_parse_uuid(PQgetvalue(res, row, COL_CUSTOMER_ID), &b->customer_id) == 0;
    b->resources = copied;
    b->resource_count = id_count;
    b->status = blob_text(&cursor, PQgetvalue(res, row, COL_STATUS));
    b->start = integer(res, row, COL_START);
    b->end = integer(res, row, COL_END);
    b->customer_name = blob_text(&cursor, PQgetvalue(res, row, COL_CUSTOMER_NAME));
    b->customer_phone = blob_text(&cursor, store_nullable(res, row, COL_CUSTOMER_PHONE));
    b->customer_email = blob_text(&cursor, store_nullable(res, row, COL_CUSTOMER_EMAIL));
    b->notes = blob_text(&cursor, store_nullable(res, row, COL_NOTES));
    b->source = blob_text(&cursor, PQgetvalue(res, row, COL_SOURCE));
    b->external_ref = blob_text(&cursor, store_nullable(res, row, COL_EXTERNAL_REF));
    b->created_at = integer(res, row, COL_CREATED);
    b->updated_at = integer(res, row, COL_UPDATED);
    b->organization_timezone = blob_text(&cursor, PQgetvalue(res, row, COL_ORGANIZATION_TIMEZONE));
    if (!ok) {
        log_error("store_unreadable_row", "table", "bookings", "id", PQgetvalue(res, row, COL_ID),
                  NULL);
        free(b);
        return NULL;
    }
    return b;
}

static store_booking_op_t *op_new(const eng_id_t *organization, void *arg)
{
    store_booking_op_t *op = slotd_calloc(1, sizeof(*op));
    codec_format_uuid(organization, op->organization);
    op->arg = arg;
    return op;
}

/* A transaction id in column `column` of `res`'s first row (0: none, or no such column). */
static uint64_t xid_of(const PGresult *res, int column)
{
    if (PQntuples(res) < 1 || PQnfields(res) <= column || PQgetisnull(res, 0, column))
        return 0;
    return strtoull(PQgetvalue(res, 0, column), NULL, 10);
}

static void reset_attempt(store_booking_op_t *op)
{
    op->error = 0;
    op->replay_status = 0;
    free(op->replay_response);
    free(op->response);
    free(op->booking);
    free(op->resources);
    op->replay_response = op->response = NULL;
    op->booking = NULL;
    op->resources = NULL;
    op->resource_count = 0;
    op->xid = 0;
}

static void op_free(store_booking_op_t *op)
{
    reset_attempt(op);
    for (int i = 0; i < CREATE_VALUES; i++)
        free(op->create_values[i]);
    for (int i = 0; i < op->change_count; i++)
        free(op->change_values[i]);
    free(op->hold_resources);
    free(op->released);
    free(op);
}

bool store_booking_op_sent(const store_booking_op_t *op)
{
    return op->tx ? store_tx_commit_sent(op->tx)
                  : op->operation != NULL && store_operation_sent(op->operation);
}

void store_booking_op_cancel(store_booking_op_t *op)
{
    if (op->tx)
        store_tx_cancel(op->tx);
    if (op->operation)
        store_operation_cancel(op->operation);
    op_free(op);
}

/* A transaction's end as the typed store's code: the attempt's own reason for a rollback,
 * an overlap, or the database's trouble. */
static int tx_error(const store_booking_op_t *op, const store_tx_outcome_t *outcome)
{
    switch (outcome->error) {
    case STORE_OK:
        return 0;
    case STORE_E_ROLLED_BACK:
        return op->error ? op->error : STORE_EINTERNAL;
    case STORE_E_EXCLUSION_VIOLATION:
        return STORE_BOOKING_EOVERLAP;
    case STORE_E_OUTCOME_UNKNOWN:
        return STORE_EOUTCOME;
    case STORE_E_CONNECTION:
    case STORE_E_TIMEOUT:
    case STORE_E_QUERY_CANCELED:
    case STORE_E_ADMIN_SHUTDOWN:
    case STORE_E_CLOSED:
    case STORE_E_SERIALIZATION_FAILURE:
    case STORE_E_DEADLOCK:
        return STORE_EUNAVAILABLE;
    default:
        log_error("store_unexpected_error", "what", "booking transaction", "sqlstate",
                  outcome->sqlstate ? outcome->sqlstate : "", NULL);
        return STORE_EINTERNAL;
    }
}

static void roll_back(store_tx_t *tx, store_booking_op_t *op, int error)
{
    op->error = error;
    store_tx_rollback(tx);
}

/* Starts a transaction of `body` for an operation; NULL (the operation freed) when refused. */
static store_booking_op_t *begin(store_pool_t *pool, store_booking_op_t *op, bool pipeline,
                                 store_tx_body_cb body, store_tx_done_cb done)
{
    store_tx_options_t options = {
        .isolation = STORE_TX_READ_COMMITTED, .max_retries = 2, .pipeline = pipeline};
    op->tx = store_tx_begin(pool, &options, body, done, op);
    if (op->tx == NULL) {
        op_free(op);
        return NULL;
    }
    return op;
}

/* ---- the booking transaction ----------------------------------------------------------------- */

/* What slotd_book answered besides 'created', as the typed store's code. */
static int create_outcome_error(const char *outcome)
{
    static const struct {
        const char *name;
        int error;
    } outcomes[] = {{"replay", STORE_BOOKING_EREPLAY},
                    {"mismatch", STORE_BOOKING_EMISMATCH},
                    {"in_progress", STORE_BOOKING_EIN_PROGRESS},
                    {"refused", STORE_BOOKING_EREFUSED},
                    {"hold_not_found", STORE_ENOTFOUND},
                    {"hold_gone", STORE_BOOKING_EHOLD_GONE},
                    {"hold_other", STORE_BOOKING_EHOLD_OTHER},
                    {"hold_resources", STORE_BOOKING_EHOLD_RESOURCES}};
    for (size_t i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++)
        if (strcmp(outcome, outcomes[i].name) == 0)
            return outcomes[i].error;
    return STORE_EINTERNAL;
}

/* Pipelined: the statement's row arrives with COMMIT already sent, so this only takes note.
 * Every outcome but 'created' wrote nothing: committing it is harmless. */
static void on_created(store_tx_t *tx, const PGresult *res, void *arg)
{
    store_booking_op_t *op = arg;
    (void)tx;
    if (PQntuples(res) != 1) {
        op->error = STORE_EINTERNAL;
        return;
    }
    const char *outcome = PQgetvalue(res, 0, 0);
    if (strcmp(outcome, "created") != 0) {
        op->error = create_outcome_error(outcome);
        if (op->error == STORE_BOOKING_EREPLAY) {
            op->replay_status = (int)integer(res, 0, 1);
            op->replay_response = slotd_strdup(PQgetvalue(res, 0, 2));
        }
        return;
    }
    op->response = slotd_strdup(PQgetvalue(res, 0, 2));
    if (!parse_ids(PQgetvalue(res, 0, 4), &op->resources, &op->resource_count) ||
        op->resource_count == 0)
        op->error = STORE_EINTERNAL;
    if (PQnfields(res) > 5 && !PQgetisnull(res, 0, 5))
        op->xid = xid_of(res, 5);
}

static void create_body(store_tx_t *tx, void *arg)
{
    store_booking_op_t *op = arg;
    reset_attempt(op);
    store_tx_query(tx, "booking_create", CREATE_VALUES, (const char *const *)op->create_values,
                   on_created, op);
    store_tx_commit(tx);
}

static void create_done(const store_tx_outcome_t *outcome, void *arg)
{
    store_booking_op_t *op = arg;
    op->tx = NULL;
    store_booking_outcome_t result = {.error = outcome->error == STORE_OK ? op->error
                                                                          : tx_error(op, outcome)};
    if (result.error == 0) {
        result.status = 201;
        result.response = op->response;
        result.resources = op->resources;
        result.resource_count = op->resource_count;
        result.xid = op->xid;
    } else if (result.error == STORE_BOOKING_EREPLAY) {
        result.status = op->replay_status;
        result.response = op->replay_response;
    }
    op->done(op->arg, &result);
    op_free(op);
}

static char *copied(const char *text)
{
    return text ? slotd_strdup(text) : NULL;
}

static char *number(int64_t value)
{
    char text[24];
    snprintf(text, sizeof(text), "%lld", (long long)value);
    return slotd_strdup(text);
}

store_booking_op_t *store_bookings_create(store_pool_t *pool, const eng_id_t *organization,
                                          const store_booking_request_t *request,
                                          store_booking_done_cb done, void *arg)
{
    store_booking_op_t *op = op_new(organization, arg);
    const store_booking_write_t *w = &request->write;
    char hash[67], hold[37], service[37];
    store_key_hash_text(request->request_hash, hash);
    codec_format_uuid(&request->hold_id, hold);
    codec_format_uuid(&w->service_id, service);
    char **v = op->create_values;
    v[0] = slotd_strdup(op->organization);
    v[1] = copied(request->idempotency_key);
    v[2] = slotd_strdup(hash);
    v[3] = number(request->now);
    v[4] = slotd_strdup(request->accepted ? "true" : "false");
    v[5] = request->has_hold ? slotd_strdup(hold) : NULL;
    v[6] = slotd_strdup(service);
    v[7] = number(w->start);
    v[8] = request->has_hold ? NULL : number(w->end);
    v[9] = number(request->buffer_before);
    v[10] = number(request->buffer_after);
    v[11] = store_ids_literal(w->resources, w->resource_count);
    const char *texts[] = {w->customer_name,  w->customer_phone, w->customer_phone_normalized,
                           w->customer_email, w->status,         w->notes,
                           w->source,         w->external_ref,   w->actor,
                           request->zone};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        v[12 + i] = copied(texts[i]);
    op->done = done;
    return begin(pool, op, true, create_body, create_done);
}

/* A moved booking read back: it ends the transaction. */
static void on_booking_read(store_tx_t *tx, const PGresult *res, void *arg)
{
    store_booking_op_t *op = arg;
    if (PQntuples(res) != 1 || (op->booking = read_booking(res, 0)) == NULL) {
        roll_back(tx, op, STORE_EINTERNAL);
        return;
    }
    store_tx_commit(tx);
}

static void on_inserted(store_tx_t *tx, const PGresult *res, void *arg)
{
    store_booking_op_t *op = arg;
    if (PQntuples(res) != 1) {
        roll_back(tx, op, STORE_EINTERNAL);
        return;
    }
    op->xid = xid_of(res, 3);
    const char *values[12];
    one_booking(op->organization, PQgetvalue(res, 0, 0), values);
    store_tx_query(tx, "booking_select", 12, values, on_booking_read, op);
}

/* ---- moving ---------------------------------------------------------------------------------- */

/* "resource,occupancy,padded start,padded end;..." into a new array (caller frees). */
static bool parse_occupied(const char *text, store_occupied_t **out, size_t *count)
{
    size_t n = *text ? 1 : 0;
    for (const char *p = text; *p; p++)
        n += *p == ';';
    store_occupied_t *list = slotd_calloc(n ? n : 1, sizeof(*list));
    *out = list;
    *count = n;
    for (size_t i = 0; i < n; i++) {
        char resource[37], occupancy[37];
        long long lower, upper;
        int used = 0;
        if (sscanf(text, "%36[0-9a-f-],%36[0-9a-f-],%lld,%lld%n", resource, occupancy, &lower,
                   &upper, &used) != 4 ||
            codec_parse_uuid(resource, &list[i].resource) != 0 ||
            codec_parse_uuid(occupancy, &list[i].occupancy) != 0)
            return false;
        list[i].padded_start = lower;
        list[i].padded_end = upper;
        text += used + (text[used] == ';');
    }
    return true;
}

static void on_locked_for_move(store_tx_t *tx, const PGresult *res, void *arg)
{
    store_booking_op_t *op = arg;
    if (PQntuples(res) != 1) {
        roll_back(tx, op, STORE_ENOTFOUND);
        return;
    }
    if (strcmp(PQgetvalue(res, 0, 1), "cancelled") == 0) {
        roll_back(tx, op, STORE_ECONFLICT);
        return;
    }
    store_booking_held_t held = {
        .start = integer(res, 0, 2), .end = integer(res, 0, 3), .created_at = integer(res, 0, 4)};
    store_occupied_t *occupied;
    bool ok = codec_parse_uuid(PQgetvalue(res, 0, 0), &held.service_id) == 0;
    ok &= parse_occupied(PQgetvalue(res, 0, 5), &occupied, &held.occupied_count);
    held.occupied = occupied;
    store_booking_write_t w;
    memset(&w, 0, sizeof(w));
    if (!ok) {
        roll_back(tx, op, STORE_EINTERNAL);
    } else if (op->move(op->arg, &held, &w) != 0) {
        roll_back(tx, op, STORE_BOOKING_EREFUSED);
    } else {
        free(op->released);
        op->released = slotd_calloc(held.occupied_count + 1, sizeof(eng_id_t));
        op->released_count = held.occupied_count;
        for (size_t i = 0; i < held.occupied_count; i++)
            op->released[i] = occupied[i].resource;
        char booking[37], times[7][24];
        codec_format_uuid(&op->target, booking);
        const int64_t values_of[7] = {w.start,    w.end,    w.padded_start, w.padded_end,
                                      held.start, held.end, op->now};
        for (int i = 0; i < 7; i++)
            snprintf(times[i], sizeof(times[i]), "%lld", (long long)values_of[i]);
        char *resources = store_ids_literal(w.resources, w.resource_count);
        char *old_resources = store_ids_literal(op->released, op->released_count);
        /* the locks of every resource whose occupancy it writes, old and new, in id order,
         * before any row of them is touched */
        eng_id_t *both = slotd_calloc(w.resource_count + op->released_count + 1, sizeof(*both));
        memcpy(both, w.resources, w.resource_count * sizeof(*both));
        memcpy(both + w.resource_count, op->released, op->released_count * sizeof(*both));
        char *locked = store_ids_literal(both, w.resource_count + op->released_count);
        const char *lock[2] = {op->organization, locked};
        store_tx_query(tx, "booking_locks", 2, lock, NULL, NULL);
        free(locked);
        free(both);
        const char *expired[5] = {op->organization, resources, times[2], times[3], times[6]};
        store_tx_query(tx, "occupancy_clear_expired", 5, expired, NULL, NULL);
        const char *release[2] = {op->organization, booking};
        store_tx_query(tx, "booking_release", 2, release, NULL, NULL);
        const char *values[11] = {op->organization, booking,  times[0],     times[1],
                                  resources,        times[2], times[3],     w.actor,
                                  times[4],         times[5], old_resources};
        store_tx_query(tx, "booking_move", 11, values, on_inserted, op);
        free(resources);
        free(old_resources);
    }
    free(occupied);
}

static void move_done(const store_tx_outcome_t *outcome, void *arg)
{
    store_booking_op_t *op = arg;
    op->tx = NULL;
    store_booking_outcome_t result = {.error = tx_error(op, outcome)};
    if (result.error == 0) {
        result.booking = op->booking;
        result.released = op->released;
        result.released_count = op->released_count;
        result.xid = op->xid;
    }
    op->done(op->arg, &result);
    op_free(op);
}

static void move_body(store_tx_t *tx, void *arg)
{
    store_booking_op_t *op = arg;
    reset_attempt(op);
    char booking[37];
    codec_format_uuid(&op->target, booking);
    const char *values[2] = {op->organization, booking};
    store_tx_query(tx, "booking_lock", 2, values, on_locked_for_move, op);
}

store_booking_op_t *store_bookings_reschedule(store_pool_t *pool, const eng_id_t *organization,
                                              const eng_id_t *id, int64_t now,
                                              store_booking_move_fn move,
                                              store_booking_done_cb done, void *arg)
{
    store_booking_op_t *op = op_new(organization, arg);
    op->target = *id;
    op->now = now;
    op->move = move;
    op->done = done;
    return begin(pool, op, false, move_body, move_done);
}

/* ---- reading and cancelling ------------------------------------------------------------------ */

static void on_got(store_operation_t *operation, const PGresult *res, int error)
{
    store_booking_op_t *op = operation->arg;
    store_booking_t *booking = NULL;
    op->operation = NULL;
    if (!error && PQntuples(res) != 1)
        error = STORE_ENOTFOUND;
    if (!error && (booking = read_booking(res, 0)) == NULL)
        error = STORE_EINTERNAL;
    op->booking_cb(op->arg, error, booking);
    free(booking);
    op_free(op);
}

store_booking_op_t *store_bookings_get(store_pool_t *pool, const eng_id_t *organization,
                                       const eng_id_t *id, store_booking_cb cb, void *arg)
{
    store_booking_op_t *op = op_new(organization, arg);
    char booking[37];
    codec_format_uuid(id, booking);
    op->booking_cb = cb;
    const char *values[12];
    one_booking(op->organization, booking, values);
    op->operation = store_operation_start(pool, "booking_select", 12, values, on_got, NULL, op);
    if (op->operation == NULL) {
        op_free(op);
        return NULL;
    }
    return op;
}

/* Pipelined: the statements are all sent with COMMIT, so their callbacks only take note.
 * A change that was not made (an unknown booking, a move not allowed) changed nothing:
 * committing it is harmless. */
static void on_changed(store_tx_t *tx, const PGresult *res, void *arg)
{
    store_booking_op_t *op = arg;
    (void)tx;
    if (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 0), "t") != 0)
        op->error = STORE_ENOTFOUND;
    else if (strcmp(PQgetvalue(res, 0, 1), "t") != 0)
        op->error = STORE_ECONFLICT;
    else
        op->xid = xid_of(res, 4); /* booking_cancel's, when it changed occupancy */
}

static void on_changed_read(store_tx_t *tx, const PGresult *res, void *arg)
{
    store_booking_op_t *op = arg;
    (void)tx;
    if (PQntuples(res) == 1)
        op->booking = read_booking(res, 0);
    if (op->booking == NULL && op->error == 0)
        op->error = PQntuples(res) == 1 ? STORE_EINTERNAL : STORE_ENOTFOUND;
}

static void change_body(store_tx_t *tx, void *arg)
{
    store_booking_op_t *op = arg;
    reset_attempt(op);
    char booking[37];
    codec_format_uuid(&op->target, booking);
    const char *values[8] = {op->organization, booking};
    for (int i = 0; i < op->change_count; i++)
        values[2 + i] = op->change_values[i];
    store_tx_query(tx, op->change, 2 + op->change_count, values, on_changed, op);
    const char *select[12];
    one_booking(op->organization, booking, select);
    store_tx_query(tx, "booking_select", 12, select, on_changed_read, op);
    store_tx_commit(tx);
}

static void change_done(const store_tx_outcome_t *outcome, void *arg)
{
    store_booking_op_t *op = arg;
    op->tx = NULL;
    int error = outcome->error == STORE_OK ? op->error : tx_error(op, outcome);
    if (!error && op->booking)
        op->booking->xid = op->xid;
    op->booking_cb(op->arg, error, error ? NULL : op->booking);
    op_free(op);
}

/* A change of one booking and its reading back, in one pipelined transaction; `values` are
 * the statement's parameters after the organization and the id (copied). */
static store_booking_op_t *change(store_pool_t *pool, const eng_id_t *organization,
                                  const eng_id_t *id, const char *statement, int count,
                                  const char *const *values, store_booking_cb cb, void *arg)
{
    store_booking_op_t *op = op_new(organization, arg);
    op->target = *id;
    op->change = statement;
    op->change_count = count;
    for (int i = 0; i < count; i++)
        op->change_values[i] = values[i] ? slotd_strdup(values[i]) : NULL;
    op->booking_cb = cb;
    return begin(pool, op, true, change_body, change_done);
}

store_booking_op_t *store_bookings_cancel(store_pool_t *pool, const eng_id_t *organization,
                                          const eng_id_t *id, const char *reason, const char *actor,
                                          store_booking_cb cb, void *arg)
{
    const char *values[2] = {reason, actor};
    return change(pool, organization, id, "booking_cancel", 2, values, cb, arg);
}

store_booking_op_t *store_bookings_patch(store_pool_t *pool, const eng_id_t *organization,
                                         const eng_id_t *id, const char *status, bool notes_set,
                                         const char *notes, const char *actor, store_booking_cb cb,
                                         void *arg)
{
    const char *values[4] = {status, notes_set ? "true" : "false", notes, actor};
    return change(pool, organization, id, "booking_patch", 4, values, cb, arg);
}

/* ---- holds ----------------------------------------------------------------------------------- */

static void on_hold_inserted(store_tx_t *tx, const PGresult *res, void *arg)
{
    store_booking_op_t *op = arg;
    (void)tx;
    if (PQntuples(res) != 1 || codec_parse_uuid(PQgetvalue(res, 0, 0), &op->target) != 0)
        op->error = STORE_EINTERNAL; /* pipelined: taken note of, answered 500 */
    else
        op->xid = xid_of(res, 2);
}

static void hold_body(store_tx_t *tx, void *arg)
{
    store_booking_op_t *op = arg;
    const store_hold_write_t *w = &op->hold;
    reset_attempt(op);
    char *resources = store_ids_literal(w->resources, w->resource_count);
    char service[37], times[6][24];
    codec_format_uuid(&w->service_id, service);
    const int64_t values_of[6] = {w->start,        w->end,        w->expires_at,
                                  w->padded_start, w->padded_end, w->now};
    for (int i = 0; i < 6; i++)
        snprintf(times[i], sizeof(times[i]), "%lld", (long long)values_of[i]);
    const char *lock[2] = {op->organization, resources};
    store_tx_query(tx, "booking_locks", 2, lock, NULL, NULL);
    const char *expired[5] = {op->organization, resources, times[3], times[4], times[5]};
    store_tx_query(tx, "occupancy_clear_expired", 5, expired, NULL, NULL);
    const char *values[8] = {op->organization, service,   times[0], times[1],
                             times[2],         resources, times[3], times[4]};
    store_tx_query(tx, "hold_insert", 8, values, on_hold_inserted, op);
    store_tx_commit(tx);
    free(resources);
}

static void hold_done(const store_tx_outcome_t *outcome, void *arg)
{
    store_booking_op_t *op = arg;
    op->tx = NULL;
    int error = outcome->error == STORE_OK ? op->error : tx_error(op, outcome);
    op->hold_cb(op->arg, error, error ? NULL : &op->target, error ? 0 : op->xid);
    op_free(op);
}

store_booking_op_t *store_holds_create(store_pool_t *pool, const eng_id_t *organization,
                                       const store_hold_write_t *write, store_hold_cb cb, void *arg)
{
    store_booking_op_t *op = op_new(organization, arg);
    op->hold = *write;
    op->hold_resources = slotd_calloc(write->resource_count + 1, sizeof(eng_id_t));
    memcpy(op->hold_resources, write->resources, write->resource_count * sizeof(eng_id_t));
    op->hold.resources = op->hold_resources;
    op->hold_cb = cb;
    return begin(pool, op, true, hold_body, hold_done);
}

static void on_released(store_operation_t *operation, const PGresult *res, int error)
{
    store_booking_op_t *op = operation->arg;
    eng_id_t *ids = NULL;
    size_t count = 0;
    op->operation = NULL;
    if (!error && (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 0), "t") != 0))
        error = STORE_ENOTFOUND;
    if (!error && !parse_ids(PQgetvalue(res, 0, 1), &ids, &count))
        error = STORE_EINTERNAL;
    op->release_cb(op->arg, error, ids, error ? 0 : count, error ? 0 : xid_of(res, 2));
    free(ids);
    op_free(op);
}

store_booking_op_t *store_holds_release(store_pool_t *pool, const eng_id_t *organization,
                                        const eng_id_t *id, int64_t now, store_hold_release_cb cb,
                                        void *arg)
{
    store_booking_op_t *op = op_new(organization, arg);
    char hold[37], clock[24];
    codec_format_uuid(id, hold);
    snprintf(clock, sizeof(clock), "%lld", (long long)now);
    op->release_cb = cb;
    const char *values[3] = {op->organization, hold, clock};
    op->operation = store_operation_start(pool, "hold_release", 3, values, on_released, NULL, op);
    if (op->operation == NULL) {
        op_free(op);
        return NULL;
    }
    return op;
}

/* ---- a refusal kept under its key ------------------------------------------------------------ */

static void on_remembered(store_operation_t *operation, const PGresult *res, int error)
{
    (void)res;
    store_booking_op_t *op = operation->arg;
    op->operation = NULL;
    op->remember_cb(op->arg, error);
    op_free(op);
}

store_booking_op_t *store_bookings_remember(store_pool_t *pool, const eng_id_t *organization,
                                            const char *key, const uint8_t request_hash[32],
                                            int status, const char *response, store_remember_cb cb,
                                            void *arg)
{
    store_booking_op_t *op = op_new(organization, arg);
    char hash[67], code[12];
    store_key_hash_text(request_hash, hash);
    snprintf(code, sizeof(code), "%d", status);
    op->remember_cb = cb;
    const char *values[5] = {op->organization, key, hash, code, response};
    op->operation =
        store_operation_start(pool, "idempotency_remember", 5, values, on_remembered, NULL, op);
    if (op->operation == NULL) {
        op_free(op);
        return NULL;
    }
    return op;
}

/* ---- lists ----------------------------------------------------------------------------------- */

/* The rows of a page: at most `limit` of them; one more means another page. */
static int page_rows(const PGresult *res, int limit, bool *more)
{
    int rows = PQntuples(res);
    *more = rows > limit;
    return rows < limit ? rows : limit;
}

static void on_booking_page(store_operation_t *operation, const PGresult *res, int error)
{
    store_booking_list_cb cb = (store_booking_list_cb)operation->callback;
    bool more = false;
    int rows = error ? 0 : page_rows(res, (int)operation->extra, &more);
    store_booking_t **items = slotd_calloc((size_t)rows + 1, sizeof(*items));
    for (int row = 0; row < rows && !error; row++)
        if ((items[row] = read_booking(res, row)) == NULL)
            error = STORE_EINTERNAL;
    cb(operation->arg, error, error ? NULL : (const store_booking_t *const *)items,
       error ? 0 : (size_t)rows, more);
    for (int row = 0; row < rows; row++)
        free(items[row]);
    free(items);
}

/* Formats an optional id into `text` (37 bytes): the text, or NULL. */
static const char *optional_id(const eng_id_t *id, char *text)
{
    if (id == NULL)
        return NULL;
    codec_format_uuid(id, text);
    return text;
}

store_operation_t *store_bookings_list(store_pool_t *pool, const eng_id_t *organization,
                                       const store_booking_filter_t *f, int limit,
                                       store_booking_list_cb cb, void *arg)
{
    char org[37], resource[37], service[37], customer[37], cursor[37];
    char from[24], to[24], after[24], fetch[16];
    codec_format_uuid(organization, org);
    snprintf(from, sizeof(from), "%lld", (long long)f->from);
    snprintf(to, sizeof(to), "%lld", (long long)f->to);
    snprintf(after, sizeof(after), "%lld", (long long)f->cursor_start);
    snprintf(fetch, sizeof(fetch), "%d", limit + 1);
    const char *values[12] = {org,
                              NULL,
                              f->has_from ? from : NULL,
                              f->has_to ? to : NULL,
                              optional_id(f->resource, resource),
                              f->status,
                              f->phone_normalized,
                              optional_id(f->service, service),
                              optional_id(f->customer, customer),
                              f->has_cursor ? after : NULL,
                              f->has_cursor ? optional_id(&f->cursor_id, cursor) : NULL,
                              fetch};
    store_operation_t *operation = store_operation_start(pool, "booking_select", 12, values,
                                                         on_booking_page, (void (*)(void))cb, arg);
    if (operation)
        operation->extra = limit;
    return operation;
}

static void on_customer_page(store_operation_t *operation, const PGresult *res, int error)
{
    store_customer_list_cb cb = (store_customer_list_cb)operation->callback;
    bool more = false;
    int rows = error ? 0 : page_rows(res, (int)operation->extra, &more);
    store_customer_t *items = slotd_calloc((size_t)rows + 1, sizeof(*items));
    for (int row = 0; row < rows && !error; row++) {
        store_customer_t *c = &items[row];
        if (codec_parse_uuid(PQgetvalue(res, row, 0), &c->id) != 0)
            error = STORE_EINTERNAL;
        c->name = PQgetvalue(res, row, 1);
        c->phone = store_nullable(res, row, 2);
        c->email = store_nullable(res, row, 3);
        c->created_at = integer(res, row, 4);
        c->updated_at = integer(res, row, 5);
        c->organization_timezone = PQgetvalue(res, row, 6);
    }
    cb(operation->arg, error, error ? NULL : items, error ? 0 : (size_t)rows, more);
    free(items);
}

store_operation_t *store_customers_list(store_pool_t *pool, const eng_id_t *organization,
                                        const eng_id_t *id, const char *phone_normalized,
                                        const char *email_lower, const eng_id_t *cursor, int limit,
                                        store_customer_list_cb cb, void *arg)
{
    char org[37], one[37], after[37], fetch[16];
    codec_format_uuid(organization, org);
    snprintf(fetch, sizeof(fetch), "%d", limit + 1);
    const char *values[6] = {org,         optional_id(id, one),       phone_normalized,
                             email_lower, optional_id(cursor, after), fetch};
    store_operation_t *operation = store_operation_start(pool, "customer_select", 6, values,
                                                         on_customer_page, (void (*)(void))cb, arg);
    if (operation)
        operation->extra = limit;
    return operation;
}

static void on_history(store_operation_t *operation, const PGresult *res, int error)
{
    store_audit_list_cb cb = (store_audit_list_cb)operation->callback;
    bool more = false;
    if (!error && (PQntuples(res) < 1 || strcmp(PQgetvalue(res, 0, 0), "t") != 0))
        error = STORE_ENOTFOUND;
    int rows = error ? 0 : page_rows(res, (int)operation->extra, &more);
    if (rows == 1 && PQgetisnull(res, 0, 1))
        rows = 0; /* the booking exists and has no row (after the cursor) */
    store_audit_t *items = slotd_calloc((size_t)rows + 1, sizeof(*items));
    for (int row = 0; row < rows; row++) {
        store_audit_t *a = &items[row];
        a->id = integer(res, row, 1);
        a->at = integer(res, row, 2);
        a->actor = PQgetvalue(res, row, 3);
        a->action = PQgetvalue(res, row, 4);
        a->old_value = store_nullable(res, row, 5);
        a->new_value = store_nullable(res, row, 6);
        a->organization_timezone = PQgetvalue(res, row, 7);
    }
    cb(operation->arg, error, error ? NULL : items, error ? 0 : (size_t)rows, more);
    free(items);
}

store_operation_t *store_bookings_history(store_pool_t *pool, const eng_id_t *organization,
                                          const eng_id_t *id, int64_t after, int limit,
                                          store_audit_list_cb cb, void *arg)
{
    char org[37], booking[37], cursor[24], fetch[16];
    codec_format_uuid(organization, org);
    codec_format_uuid(id, booking);
    snprintf(cursor, sizeof(cursor), "%lld", (long long)after);
    snprintf(fetch, sizeof(fetch), "%d", limit + 1);
    const char *values[4] = {org, booking, after >= 0 ? cursor : NULL, fetch};
    store_operation_t *operation = store_operation_start(pool, "booking_history", 4, values,
                                                         on_history, (void (*)(void))cb, arg);
    if (operation)
        operation->extra = limit;
    return operation;
}

/* ---- the sweep ------------------------------------------------------------------------------- */

static void on_swept(store_operation_t *operation, const PGresult *res, int error)
{
    store_sweep_cb cb = (store_sweep_cb)operation->callback;
    long holds = 0, keys = 0, changes = 0;
    if (!error && PQntuples(res) == 1) {
        holds = strtol(PQgetvalue(res, 0, 0), NULL, 10);
        keys = strtol(PQgetvalue(res, 0, 1), NULL, 10);
        changes = strtol(PQgetvalue(res, 0, 2), NULL, 10);
    }
    cb(operation->arg, error, holds, keys, changes);
}

store_operation_t *store_bookings_sweep(store_pool_t *pool, int64_t now, int batch,
                                        store_sweep_cb cb, void *arg)
{
    char clock[24], limit[16];
    snprintf(clock, sizeof(clock), "%lld", (long long)now);
    snprintf(limit, sizeof(limit), "%d", batch);
    const char *values[2] = {clock, limit};
    return store_operation_start(pool, "booking_sweep", 2, values, on_swept, (void (*)(void))cb,
                                 arg);
}
