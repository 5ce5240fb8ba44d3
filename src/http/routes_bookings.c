/*
 * Bookings, holds and customers: POST and GET /v1/bookings, GET and PATCH
 * /v1/bookings/{id}, POST /v1/bookings/{id}/cancel and /reschedule,
 * GET /v1/bookings/{id}/history, POST /v1/holds, DELETE /v1/holds/{id},
 * GET /v1/customers, /v1/customers/{id} and /v1/customers/{id}/bookings.
 *
 * Each handler reads as JSON in → domain call → JSON out: the body is decoded
 * into a domain_booking_input_t (types only), the domain applies the rules,
 * asks the engine and runs the store's transaction, and what comes back is
 * rendered here. A refusal for want of free time is 409 slot_unavailable with
 * details.alternatives; a hold that does not match is 409 conflict.
 *
 * Idempotency-Key (1–255 characters): the key and a SHA-256 of the method,
 * the path and the body (its keys sorted, so spacing and order do not count)
 * go to the domain; a replay answers the first answer's status and exact
 * bytes. A booking that was written is kept under its key in its own
 * transaction, and answered with the text kept (rendered by the booking's
 * statement in the same form as booking_json renders it); a refusal that
 * decided on the state of things (409) is kept right after, before it is
 * answered, so its retry replays it too. A 400, 404, 422 or 5xx is never kept:
 * a retry is judged afresh.
 *
 * Instants are rendered in the request's `tz` (the body's, for a booking or
 * hold; the query's, for reads), else in the organization's zone. Writes are
 * answered once this instance's index shows them (read your writes), and only
 * after COMMIT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/bookings.h"
#include "http/fields.h"
#include "http/routes.h"
#include "log/log.h"
#include "slotd/alloc.h"
#include "slotd/codec.h"
#include "store/keys.h"

#define IDEMPOTENCY_KEY_MAX 255

static const char *const booking_fields[] = {
    "service_id", "start",        "resource_ids", "hold_id", "tz",       "customer", "notes",
    "source",     "external_ref", "status",       "end",     "override", NULL};
static const char *const customer_fields[] = {"name", "phone", "email", NULL};
static const char *const hold_fields[] = {"service_id", "start",       "resource_ids",
                                          "tz",         "ttl_seconds", NULL};
static const char *const cancel_fields[] = {"reason", NULL};
static const char *const patch_fields[] = {"status", "notes", NULL};
static const char *const reschedule_fields[] = {"start", "resource_ids", "tz", NULL};

/* What a request keeps while the domain works: its input, and the zone it is answered in. */
typedef struct {
    domain_booking_input_t input;
    char zone[64];
    char actor[64];
    char key[IDEMPOTENCY_KEY_MAX + 1];
    /* lists */
    store_booking_filter_t filter;
    eng_id_t customer;
    int limit;
    char status[24];
} booking_state_t;

static booking_state_t *state_of(http_ctx_t *ctx)
{
    if (ctx->state == NULL) {
        ctx->state = calloc(1, sizeof(booking_state_t));
        if (ctx->state == NULL)
            abort();
        ctx->free_state = free;
    }
    return ctx->state;
}

/* The audit rows' actor: the caller's key, by role. */
static const char *actor_of(http_ctx_t *ctx, booking_state_t *state)
{
    snprintf(state->actor, sizeof(state->actor), "{\"kind\":\"api_key\",\"role\":\"%s\"}",
             ctx->role == HTTP_ROLE_ADMIN ? "admin" : "agent");
    return state->actor;
}

static domain_context_t context_of(http_ctx_t *ctx)
{
    return (domain_context_t){.pool = http_pool(ctx),
                              .index = http_index(ctx),
                              .workspace = http_workspace(ctx),
                              .organization = ctx->organization};
}

/* ---- rendering ------------------------------------------------------------------------------- */

static json_t *ids_json(const eng_id_t *ids, size_t count)
{
    json_t *list = json_array();
    for (size_t i = 0; i < count; i++) {
        char text[37];
        codec_format_uuid(&ids[i], text);
        json_array_append_new(list, json_string(text));
    }
    return list;
}

static json_t *id_json(const eng_id_t *id)
{
    char text[37];
    codec_format_uuid(id, text);
    return json_string(text);
}

/* The zone answers are rendered in: the request's, else the organization's. */
static const char *zone_of(const booking_state_t *state, const char *organization_zone)
{
    return state && state->zone[0] ? state->zone : organization_zone;
}

/* The events a booking is in connected calendars. */
static json_t *external_events_json(const store_booking_t *b)
{
    json_t *list = json_array();
    for (size_t i = 0; i < b->external_event_count; i++) {
        const store_booking_external_t *e = &b->external_events[i];
        json_array_append_new(list, json_pack("{s:o, s:s, s:o}", "connection_id",
                                              id_json(&e->connection_id), "provider", e->provider,
                                              "external_id", http_json_text(e->external_id)));
    }
    return list;
}

json_t *http_booking_json(const store_booking_t *b, const char *zone)
{
    json_t *customer = json_pack("{s:o, s:s, s:o, s:o}", "id", id_json(&b->customer_id), "name",
                                 b->customer_name, "phone", http_json_text(b->customer_phone),
                                 "email", http_json_text(b->customer_email));
    return json_pack("{s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:o, s:o, s:o, s:o}", "id",
                     id_json(&b->id), "status", b->status, "service_id", id_json(&b->service_id),
                     "start", http_json_instant(zone, b->start), "end",
                     http_json_instant(zone, b->end), "resource_ids",
                     ids_json(b->resources, b->resource_count), "customer", customer, "notes",
                     http_json_text(b->notes), "source", b->source, "external_ref",
                     http_json_text(b->external_ref), "external_events", external_events_json(b),
                     "created_at", http_json_instant(zone, b->created_at), "updated_at",
                     http_json_instant(zone, b->updated_at));
}

json_t *http_refusal_json(const domain_refusal_t *refusal, const char *zone, int *status)
{
    char message[128];
    switch (refusal->kind) {
    case DOMAIN_REFUSAL_NOT_FOUND:
        *status = 404;
        snprintf(message, sizeof(message), "No such %s.", refusal->what);
        return http_error_body("not_found", message, NULL);
    case DOMAIN_REFUSAL_CONFLICT:
        *status = 409;
        return http_error_body("conflict", refusal->message, NULL);
    case DOMAIN_REFUSAL_INVALID:
        *status = 400;
        return http_error_body("invalid_request", refusal->message,
                               json_pack("{s:s}", "field", refusal->field));
    case DOMAIN_REFUSAL_UNAVAILABLE:
        break;
    default:
        *status = 503;
        return http_error_body("unavailable", "Availability is still loading; please try again.",
                               NULL);
    }
    json_t *alternatives = json_array();
    for (size_t i = 0; i < refusal->alternative_count; i++) {
        const domain_slot_t *slot = &refusal->alternatives[i];
        json_array_append_new(alternatives,
                              json_pack("{s:o, s:o, s:o}", "start",
                                        http_json_instant(zone, slot->start), "end",
                                        http_json_instant(zone, slot->end), "resource_ids",
                                        ids_json(slot->resources, slot->resource_count)));
    }
    *status = 409;
    return http_error_body("slot_unavailable", refusal->message,
                           json_pack("{s:o}", "alternatives", alternatives));
}

/* Why the rules said no, in the request's zone (else the organization's). */
static json_t *refusal_body(http_ctx_t *ctx, const domain_refusal_t *refusal, int *status)
{
    const char *zone = zone_of(ctx->state, NULL);
    if (zone == NULL) {
        index_org_t *org = http_index_org(ctx);
        zone = org ? tz_zone_name(eng_org_zone(index_org_engine(org))) : "UTC";
    }
    return http_refusal_json(refusal, zone, status);
}

/* Answers why the rules said no. */
static void respond_refusal(http_ctx_t *ctx, const domain_refusal_t *refusal)
{
    int status;
    json_t *body = refusal_body(ctx, refusal, &status);
    http_respond(ctx, status, body);
}

/* ---- decoding -------------------------------------------------------------------------------- */

/* An instant field; false after answering 400. */
static bool field_instant(http_ctx_t *ctx, const json_t *object, const char *name, bool required,
                          int64_t *out, bool *present)
{
    const char *text;
    if (!http_field_text(ctx, object, name, false, &text, present))
        return false;
    if (text == NULL && required) {
        char message[64];
        snprintf(message, sizeof(message), "%s is required.", name);
        http_respond_invalid(ctx, name, message);
        return false;
    }
    if (text && codec_parse_instant(text, out) != 0) {
        char message[96];
        snprintf(message, sizeof(message), "%s must be an RFC 3339 instant with an offset.", name);
        http_respond_invalid(ctx, name, message);
        return false;
    }
    return true;
}

/* A required id field. */
static bool field_id(http_ctx_t *ctx, const json_t *object, const char *name, bool required,
                     eng_id_t *id, bool *present)
{
    char text[37];
    bool is_null;
    if (!http_field_uuid(ctx, object, name, false, text, present, &is_null))
        return false;
    if (is_null && required) {
        char message[64];
        snprintf(message, sizeof(message), "%s is required.", name);
        http_respond_invalid(ctx, name, message);
        return false;
    }
    if (!is_null)
        codec_parse_uuid(text, id);
    return true;
}

/* resource_ids: a list of at most DOMAIN_MAX_PINNED ids. */
static bool field_ids(http_ctx_t *ctx, const json_t *object, eng_id_t *ids, size_t *count)
{
    const json_t *list = json_object_get(object, "resource_ids");
    *count = 0;
    if (list == NULL || json_is_null(list))
        return true;
    if (!json_is_array(list) || json_array_size(list) > DOMAIN_MAX_PINNED) {
        http_respond_invalid(ctx, "resource_ids", "resource_ids must be a list of at most 64 ids.");
        return false;
    }
    size_t i;
    const json_t *item;
    json_array_foreach(list, i, item)
    {
        if (!json_is_string(item) || codec_parse_uuid(json_string_value(item), &ids[i]) != 0) {
            char field[48];
            snprintf(field, sizeof(field), "resource_ids[%zu]", i);
            http_respond_invalid(ctx, field, "An id is a UUID.");
            return false;
        }
    }
    *count = json_array_size(list);
    return true;
}

/* The body's tz: a zone, kept by name for the answer. */
static bool field_zone(http_ctx_t *ctx, booking_state_t *state)
{
    const char *name;
    bool present;
    if (!http_field_zone(ctx, ctx->body, "tz", false, &name, &present))
        return false;
    if (name) {
        tz_zone_find(name, &state->input.zone);
        snprintf(state->zone, sizeof(state->zone), "%s", name);
    }
    return true;
}

/* What every booking and hold request shares: service, start, pinned resources, tz. */
static bool decode_slot(http_ctx_t *ctx, booking_state_t *state)
{
    domain_booking_input_t *in = &state->input;
    bool present;
    in->now = http_now(ctx->server);
    in->admin = ctx->role == HTTP_ROLE_ADMIN;
    in->actor = actor_of(ctx, state);
    return field_id(ctx, ctx->body, "service_id", true, &in->service_id, &present) &&
           field_instant(ctx, ctx->body, "start", true, &in->start, &present) &&
           field_ids(ctx, ctx->body, in->pinned, &in->pinned_count) && field_zone(ctx, state);
}

/* A text of the customer object, named "customer.<name>" when refused. */
static bool customer_text(http_ctx_t *ctx, const json_t *customer, const char *name,
                          const char **out)
{
    char field[32];
    const json_t *v = json_object_get(customer, name);
    *out = NULL;
    snprintf(field, sizeof(field), "customer.%s", name);
    if (v == NULL || json_is_null(v))
        return true;
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
        http_respond_invalid(ctx, field, "Must be text.");
        return false;
    }
    *out = json_string_value(v);
    return true;
}

static bool decode_customer(http_ctx_t *ctx, domain_booking_input_t *in)
{
    const json_t *customer = json_object_get(ctx->body, "customer");
    if (!json_is_object(customer)) {
        http_respond_invalid(ctx, "customer", "customer (an object with a name) is required.");
        return false;
    }
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)customer, key, value)
    {
        bool known = false;
        for (const char *const *f = customer_fields; *f; f++)
            known |= strcmp(*f, key) == 0;
        if (!known) {
            char field[CODEC_FIELD_MAX];
            snprintf(field, sizeof(field), "customer.%s", key);
            http_respond_invalid(ctx, field, "Unknown field.");
            return false;
        }
    }
    if (!customer_text(ctx, customer, "name", &in->customer_name) ||
        !customer_text(ctx, customer, "phone", &in->customer_phone) ||
        !customer_text(ctx, customer, "email", &in->customer_email))
        return false;
    if (in->customer_name == NULL) {
        http_respond_invalid(ctx, "customer.name", "customer.name is required.");
        return false;
    }
    return true;
}

/* The Idempotency-Key header, and the request's hash; false after answering 400. */
static bool decode_key(http_ctx_t *ctx, booking_state_t *state)
{
    size_t length;
    const char *key = http_request_header(ctx, "idempotency-key", &length);
    if (key == NULL)
        return true;
    bool printable = length >= 1 && length <= IDEMPOTENCY_KEY_MAX;
    for (size_t i = 0; i < length && printable; i++)
        printable = key[i] >= 0x20 && key[i] <= 0x7e; /* printable ASCII: as stored, as shown */
    if (!printable) {
        http_respond_invalid(ctx, "Idempotency-Key",
                             "Idempotency-Key must be 1 to 255 characters of printable ASCII.");
        return false;
    }
    memcpy(state->key, key, length);
    state->key[length] = 0;
    state->input.idempotency_key = state->key;
    char *body = json_dumps(ctx->body, JSON_COMPACT | JSON_SORT_KEYS);
    size_t size = strlen(ctx->route->name) + 1 + strlen(body) + 1;
    char *request = malloc(size);
    if (request == NULL)
        abort();
    snprintf(request, size, "%s\n%s", ctx->route->name, body);
    store_key_hash(request, strlen(request), state->input.request_hash);
    free(request);
    free(body);
    return true;
}

static bool decode_booking(http_ctx_t *ctx, booking_state_t *state)
{
    domain_booking_input_t *in = &state->input;
    bool present;
    if (!http_body_object(ctx) || !http_fields_known(ctx, ctx->body, booking_fields) ||
        !decode_slot(ctx, state) ||
        !field_id(ctx, ctx->body, "hold_id", false, &in->hold_id, &in->has_hold) ||
        !decode_customer(ctx, in) ||
        !http_field_text(ctx, ctx->body, "notes", true, &in->notes, &present) ||
        !http_field_text(ctx, ctx->body, "source", false, &in->source, &present) ||
        !http_field_text(ctx, ctx->body, "external_ref", true, &in->external_ref, &present) ||
        !http_field_text(ctx, ctx->body, "status", false, &in->status, &present) ||
        !field_instant(ctx, ctx->body, "end", false, &in->end, &in->has_end) ||
        !http_field_bool(ctx, ctx->body, "override", &in->override, &present))
        return false;
    in->has_hold = in->has_hold && !json_is_null(json_object_get(ctx->body, "hold_id"));
    return decode_key(ctx, state);
}

/* ---- POST /v1/bookings ----------------------------------------------------------------------- */

/* Counts what became of a POST /v1/bookings for /metrics. */
static void count_outcome(http_ctx_t *ctx, int error, const domain_refusal_t *refusal)
{
    if (error == 0)
        http_count_booking(ctx, HTTP_BOOKING_CREATED);
    else if (error == STORE_BOOKING_EREPLAY)
        http_count_booking(ctx, HTTP_BOOKING_REPLAY);
    else if (error == STORE_BOOKING_EHOLD_GONE)
        http_count_booking(ctx, HTTP_BOOKING_HOLD_EXPIRED);
    else if (refusal && refusal->kind == DOMAIN_REFUSAL_UNAVAILABLE)
        http_count_booking(ctx, HTTP_BOOKING_CONFLICT);
    else if (error == STORE_EUNAVAILABLE || error == STORE_EINTERNAL || error == STORE_EBUSY ||
             error == STORE_EOUTCOME || (refusal && refusal->kind == DOMAIN_REFUSAL_LOADING))
        http_count_booking(ctx, HTTP_BOOKING_ERROR);
}

/* A refusal kept under the request's key: answered as it was kept. */
typedef struct {
    http_ctx_t *ctx;
    store_booking_op_t *op;
    int status;
    char *response;
} remembered_t;

static void on_remembered(void *arg, int error)
{
    remembered_t *r = arg;
    http_ctx_t *ctx = r->ctx;
    http_wait_end(ctx);
    if (error)
        log_warn("idempotency_refusal_not_kept", "request_id", ctx->request_id, NULL);
    http_respond_raw(ctx, r->status, r->response, strlen(r->response));
    free(r->response);
    free(r);
    http_wait_release(ctx);
}

static void cancel_remember(void *arg)
{
    remembered_t *r = arg;
    store_booking_op_cancel(r->op);
    free(r->response);
    free(r);
}

static bool remember_sent(const void *arg)
{
    const remembered_t *r = arg;
    return store_booking_op_sent(r->op);
}

/* Answers a refusal of the booking transaction; with an Idempotency-Key, a refusal that
 * decided on the state of things (409) is kept under the key first, so that a retry replays
 * this very answer. A 404 is not kept: this instance's index may not show an object another
 * instance has just made. Should keeping it fail, the refusal is answered all the same:
 * the retry is then judged afresh. */
static void respond_keyed_refusal(http_ctx_t *ctx, const domain_refusal_t *refusal)
{
    booking_state_t *state = ctx->state;
    int status;
    json_t *body = refusal_body(ctx, refusal, &status);
    if (state->input.idempotency_key == NULL || status != 409) {
        http_respond(ctx, status, body);
        return;
    }
    remembered_t *r = slotd_calloc(1, sizeof(*r));
    r->ctx = ctx;
    r->status = status;
    r->response = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    domain_context_t context = context_of(ctx);
    domain_error_t error;
    r->op = r->response ? domain_bookings_remember(&context, &state->input, status, r->response,
                                                   on_remembered, r, &error)
                        : NULL;
    if (r->op == NULL) {
        if (r->response)
            http_respond_raw(ctx, status, r->response, strlen(r->response));
        else
            http_respond_internal(ctx, "rendering a refusal");
        free(r->response);
        free(r);
        return;
    }
    http_wait(ctx, r, cancel_remember, remember_sent);
}

static void on_booked(void *arg, const store_booking_outcome_t *outcome,
                      const domain_refusal_t *refusal)
{
    http_ctx_t *ctx = arg;
    http_wait_end(ctx);
    count_outcome(ctx, outcome->error, refusal);
    switch (outcome->error) {
    case 0: {
        json_t *body = json_loads(outcome->response, 0, NULL);
        if (body)
            http_respond_after_change(ctx, 201, body, outcome->resources, outcome->resource_count,
                                      outcome->xid, STORE_CHANGE_BOOKED);
        else
            http_respond_internal(ctx, "an answer that is not JSON");
        break;
    }
    case STORE_BOOKING_EREPLAY:
        http_respond_raw(ctx, outcome->status, outcome->response, strlen(outcome->response));
        break;
    case STORE_BOOKING_EMISMATCH:
        http_respond_error(ctx, 422, "idempotency_key_mismatch",
                           "This Idempotency-Key was used with a different request.", NULL);
        break;
    case STORE_BOOKING_EIN_PROGRESS:
        http_respond_error(ctx, 409, "idempotency_in_progress",
                           "A request with this Idempotency-Key is still running; retry shortly.",
                           NULL);
        break;
    default:
        if (store_booking_refused(outcome->error))
            respond_keyed_refusal(ctx, refusal);
        else
            http_respond_store_error(ctx, outcome->error, "booking");
    }
    http_wait_release(ctx);
}

static void cancel_booking_op(void *op)
{
    domain_booking_op_cancel(op);
}

static bool booking_op_sent(const void *op)
{
    return domain_booking_op_sent(op);
}

/* Waits for a booking or hold, or answers why the domain refused it at once. */
static void await_decision(http_ctx_t *ctx, domain_booking_op_t *op, domain_refusal_t *refusal,
                           const domain_error_t *error)
{
    if (op)
        http_wait(ctx, op, cancel_booking_op, booking_op_sent);
    else if (refusal->kind != DOMAIN_REFUSAL_NONE)
        respond_refusal(ctx, refusal);
    else
        http_respond_domain_error(ctx, error);
    domain_refusal_clear(refusal);
}

void http_bookings_create(http_ctx_t *ctx)
{
    booking_state_t *state = state_of(ctx);
    if (!decode_booking(ctx, state))
        return;
    domain_context_t context = context_of(ctx);
    domain_refusal_t refusal;
    domain_error_t error;
    domain_booking_op_t *op =
        domain_bookings_create(&context, &state->input, on_booked, ctx, &refusal, &error);
    if (op == NULL)
        count_outcome(ctx, error.code == DOMAIN_EBUSY ? STORE_EBUSY : STORE_BOOKING_EREFUSED,
                      &refusal);
    await_decision(ctx, op, &refusal, &error);
}

/* ---- GET /v1/bookings/{id}, POST /v1/bookings/{id}/cancel ------------------------------------ */

static void cancel_store_op(void *op)
{
    store_booking_op_cancel(op);
}

static bool store_op_sent(const void *op)
{
    return store_booking_op_sent(op);
}

/* The query's tz, kept for the answer; false after answering 400. */
static bool query_zone(http_ctx_t *ctx)
{
    char buffer[66];
    const char *tz = http_query_param(ctx, "tz", buffer, sizeof(buffer));
    tz_zone_t *zone;
    if (tz == NULL)
        return true;
    if (tz_zone_find(tz, &zone) != 0) {
        http_respond_invalid(ctx, "tz", "tz must be an IANA time zone, e.g. Europe/Warsaw.");
        return false;
    }
    snprintf(state_of(ctx)->zone, sizeof(state_of(ctx)->zone), "%s", tz);
    return true;
}

static void respond_booking(http_ctx_t *ctx, int error, const store_booking_t *booking,
                            bool changed)
{
    json_t *body;
    http_wait_end(ctx);
    if (error)
        http_respond_store_error(ctx, error, "booking");
    else if ((body = http_rendered(
                  ctx,
                  http_booking_json(booking, zone_of(ctx->state, booking->organization_timezone)),
                  "booking")) != NULL) {
        if (changed) /* cancelled: its rows no longer hold anything */
            http_respond_after_change(ctx, 200, body, booking->resources, booking->resource_count,
                                      booking->xid, STORE_CHANGE_UNBOOKED);
        else
            http_respond(ctx, 200, body);
    }
    http_wait_release(ctx);
}

static void on_booking(void *arg, int error, const store_booking_t *booking)
{
    respond_booking(arg, error, booking, false);
}

static void on_cancelled(void *arg, int error, const store_booking_t *booking)
{
    respond_booking(arg, error, booking, true);
}

/* Waits for a store operation, or answers the domain's refusal. */
static void await_store(http_ctx_t *ctx, store_booking_op_t *op, const domain_error_t *error)
{
    if (op)
        http_wait(ctx, op, cancel_store_op, store_op_sent);
    else
        http_respond_domain_error(ctx, error);
}

void http_bookings_get(http_ctx_t *ctx)
{
    char id_text[37];
    eng_id_t id;
    domain_error_t error;
    if (!http_path_id(ctx, 0, "booking", id_text, &id) || !query_zone(ctx))
        return;
    domain_context_t context = context_of(ctx);
    await_store(ctx, domain_bookings_get(&context, &id, on_booking, ctx, &error), &error);
}

void http_bookings_cancel(http_ctx_t *ctx)
{
    char id_text[37];
    eng_id_t id;
    domain_error_t error;
    const char *reason = NULL;
    bool present;
    if (!http_path_id(ctx, 0, "booking", id_text, &id) || !query_zone(ctx))
        return;
    if (ctx->body && (!http_body_object(ctx) || !http_fields_known(ctx, ctx->body, cancel_fields) ||
                      !http_field_text(ctx, ctx->body, "reason", true, &reason, &present)))
        return;
    domain_context_t context = context_of(ctx);
    await_store(ctx,
                domain_bookings_cancel(&context, &id, reason, actor_of(ctx, state_of(ctx)),
                                       on_cancelled, ctx, &error),
                &error);
}

/* ---- POST /v1/bookings/{id}/reschedule ------------------------------------------------------- */

static void on_moved(void *arg, const store_booking_outcome_t *outcome,
                     const domain_refusal_t *refusal)
{
    http_ctx_t *ctx = arg;
    json_t *body;
    http_wait_end(ctx);
    if (outcome->error == 0) {
        const store_booking_t *b = outcome->booking;
        body = http_rendered(
            ctx, http_booking_json(b, zone_of(ctx->state, b->organization_timezone)), "booking");
        /* the index must show both: the time it took and the time it left */
        size_t count = b->resource_count + outcome->released_count;
        eng_id_t *resources = slotd_calloc(count + 1, sizeof(*resources));
        store_change_t *changes = slotd_calloc(count + 1, sizeof(*changes));
        memcpy(resources, b->resources, b->resource_count * sizeof(*resources));
        memcpy(resources + b->resource_count, outcome->released,
               outcome->released_count * sizeof(*resources));
        for (size_t i = 0; i < count; i++)
            changes[i] = (store_change_t){.xid = outcome->xid,
                                          .kind = i < b->resource_count ? STORE_CHANGE_BOOKED
                                                                        : STORE_CHANGE_UNBOOKED};
        if (body)
            http_respond_after_changes(ctx, 200, body, resources, changes, count);
        free(resources);
        free(changes);
    } else if (outcome->error == STORE_ECONFLICT) {
        http_respond_error(ctx, 409, "conflict", "A cancelled booking cannot be rescheduled.",
                           NULL);
    } else if (outcome->error == STORE_BOOKING_EREFUSED ||
               outcome->error == STORE_BOOKING_EOVERLAP) {
        respond_refusal(ctx, refusal);
    } else {
        http_respond_store_error(ctx, outcome->error, "booking");
    }
    http_wait_release(ctx);
}

void http_bookings_reschedule(http_ctx_t *ctx)
{
    char id_text[37];
    eng_id_t id;
    domain_error_t error;
    booking_state_t *state = state_of(ctx);
    bool present;
    domain_booking_input_t *in = &state->input;
    if (!http_path_id(ctx, 0, "booking", id_text, &id) || !http_body_object(ctx) ||
        !http_fields_known(ctx, ctx->body, reschedule_fields) ||
        !field_instant(ctx, ctx->body, "start", true, &in->start, &present) ||
        !field_ids(ctx, ctx->body, in->pinned, &in->pinned_count) || !field_zone(ctx, state))
        return;
    in->now = http_now(ctx->server);
    in->actor = actor_of(ctx, state);
    domain_context_t context = context_of(ctx);
    domain_booking_op_t *op = domain_bookings_reschedule(&context, &id, in, on_moved, ctx, &error);
    if (op)
        http_wait(ctx, op, cancel_booking_op, booking_op_sent);
    else
        http_respond_domain_error(ctx, &error);
}

/* ---- PATCH /v1/bookings/{id} ----------------------------------------------------------------- */

static void on_patched(void *arg, int error, const store_booking_t *booking)
{
    http_ctx_t *ctx = arg;
    if (error == STORE_ECONFLICT) {
        http_wait_end(ctx);
        http_respond_error(ctx, 409, "conflict",
                           "That status move is not allowed: pending→confirmed, "
                           "confirmed→completed or no_show.",
                           NULL);
        http_wait_release(ctx);
        return;
    }
    respond_booking(ctx, error, booking, false);
}

void http_bookings_patch(http_ctx_t *ctx)
{
    char id_text[37];
    eng_id_t id;
    domain_error_t error;
    const char *status, *notes;
    bool present, notes_set;
    if (!http_path_id(ctx, 0, "booking", id_text, &id) || !query_zone(ctx) ||
        !http_body_object(ctx) || !http_fields_known(ctx, ctx->body, patch_fields) ||
        !http_field_text(ctx, ctx->body, "status", false, &status, &present) ||
        !http_field_text(ctx, ctx->body, "notes", true, &notes, &notes_set))
        return;
    domain_context_t context = context_of(ctx);
    await_store(ctx,
                domain_bookings_patch(&context, &id, status, notes_set, notes,
                                      actor_of(ctx, state_of(ctx)), on_patched, ctx, &error),
                &error);
}

/* ---- POST /v1/holds, DELETE /v1/holds/{id} --------------------------------------------------- */

json_t *http_hold_json(const eng_id_t *id, const store_hold_write_t *hold, const char *zone)
{
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "id", id_json(id), "service_id",
                     id_json(&hold->service_id), "start", http_json_instant(zone, hold->start),
                     "end", http_json_instant(zone, hold->end), "resource_ids",
                     ids_json(hold->resources, hold->resource_count), "expires_at",
                     http_json_instant(zone, hold->expires_at));
}

static void on_held(void *arg, int error, const eng_id_t *id, const store_hold_write_t *hold,
                    uint64_t xid, const domain_refusal_t *refusal)
{
    http_ctx_t *ctx = arg;
    http_wait_end(ctx);
    if (error == STORE_BOOKING_EOVERLAP) {
        respond_refusal(ctx, refusal);
    } else if (error) {
        http_respond_store_error(ctx, error, "hold");
    } else {
        const char *zone = zone_of(ctx->state, NULL);
        index_org_t *org = http_index_org(ctx);
        if (zone == NULL)
            zone = org ? tz_zone_name(eng_org_zone(index_org_engine(org))) : "UTC";
        json_t *body = http_hold_json(id, hold, zone);
        if (http_rendered(ctx, body, "hold"))
            http_respond_after_change(ctx, 201, body, hold->resources, hold->resource_count, xid,
                                      STORE_CHANGE_HELD);
    }
    http_wait_release(ctx);
}

void http_holds_create(http_ctx_t *ctx)
{
    booking_state_t *state = state_of(ctx);
    long long ttl = 0;
    bool present, is_null;
    if (!http_body_object(ctx) || !http_fields_known(ctx, ctx->body, hold_fields) ||
        !decode_slot(ctx, state) ||
        !http_field_int(ctx, ctx->body, "ttl_seconds", 1, DOMAIN_HOLD_TTL_MAX, false, false, &ttl,
                        &present, &is_null))
        return;
    state->input.ttl_seconds = (int)ttl;
    domain_context_t context = context_of(ctx);
    domain_refusal_t refusal;
    domain_error_t error;
    await_decision(ctx,
                   domain_holds_create(&context, &state->input, on_held, ctx, &refusal, &error),
                   &refusal, &error);
}

static void on_released(void *arg, int error, const eng_id_t *resources, size_t count, uint64_t xid)
{
    http_ctx_t *ctx = arg;
    http_wait_end(ctx);
    if (error)
        http_respond_store_error(ctx, error, "hold");
    else
        http_respond_after_change(ctx, 204, NULL, resources, count, xid, STORE_CHANGE_UNHELD);
    http_wait_release(ctx);
}

void http_holds_release(http_ctx_t *ctx)
{
    char id_text[37];
    eng_id_t id;
    domain_error_t error;
    if (!http_path_id(ctx, 0, "hold", id_text, &id))
        return;
    domain_context_t context = context_of(ctx);
    await_store(
        ctx, domain_holds_release(&context, &id, http_now(ctx->server), on_released, ctx, &error),
        &error);
}

/* ---- GET /v1/bookings, GET /v1/customers/{id}/bookings --------------------------------------- */

static void on_booking_page(void *arg, int error, const store_booking_t *const *items, size_t count,
                            bool more)
{
    http_ctx_t *ctx = arg;
    http_wait_end(ctx);
    if (error) {
        http_respond_store_error(ctx, error, "booking");
    } else {
        json_t *list = json_array();
        bool ok = true;
        for (size_t i = 0; i < count && ok; i++)
            ok =
                json_array_append_new(
                    list, http_booking_json(
                              items[i], zone_of(ctx->state, items[i]->organization_timezone))) == 0;
        char cursor[64] = "";
        if (more && count > 0) {
            char id[37];
            codec_format_uuid(&items[count - 1]->id, id);
            snprintf(cursor, sizeof(cursor), "%lld.%s", (long long)items[count - 1]->start, id);
        }
        json_t *body = ok ? json_pack("{s:o, s:o}", "items", list, "next_cursor",
                                      cursor[0] ? json_string(cursor) : json_null())
                          : NULL;
        if (!ok)
            json_decref(list);
        if (http_rendered(ctx, body, "booking"))
            http_respond(ctx, 200, body);
    }
    http_wait_release(ctx);
}

/* An optional window bound; false after answering 400. */
static bool optional_bound(http_ctx_t *ctx, const char *name, bool end, bool *has, int64_t *out)
{
    char buffer[64];
    *has = http_query_param(ctx, name, buffer, sizeof(buffer)) != NULL;
    if (!*has)
        return true;
    tz_zone_t *zone = NULL;
    const booking_state_t *state = ctx->state;
    if (state->zone[0])
        tz_zone_find(state->zone, &zone);
    else if (http_index_org(ctx))
        zone = eng_org_zone(index_org_engine(http_index_org(ctx)));
    else
        tz_zone_find("UTC", &zone);
    return http_query_bound(ctx, name, zone, end, out);
}

/* ?limit= and the bookings' cursor ("<start>.<id>"); false after answering 400. */
static bool booking_page_params(http_ctx_t *ctx, booking_state_t *state)
{
    char limit_text[16], cursor_text[72], id[40];
    long long start;
    const char *limit = http_query_param(ctx, "limit", limit_text, sizeof(limit_text));
    const char *cursor = http_query_param(ctx, "cursor", cursor_text, sizeof(cursor_text));
    state->limit = limit ? atoi(limit) : 100;
    if (state->limit < 1 || state->limit > 1000) {
        http_respond_invalid(ctx, "limit", "limit must be from 1 to 1000.");
        return false;
    }
    if (cursor) {
        if (sscanf(cursor, "%lld.%36s", &start, id) != 2 ||
            codec_parse_uuid(id, &state->filter.cursor_id) != 0) {
            http_respond_invalid(ctx, "cursor", "cursor must be a next_cursor of this list.");
            return false;
        }
        state->filter.has_cursor = true;
        state->filter.cursor_start = start;
    }
    return true;
}

/* from, to, status, tz, limit and cursor: what both booking lists take. */
static bool booking_list_params(http_ctx_t *ctx, booking_state_t *state)
{
    store_booking_filter_t *f = &state->filter;
    if (!query_zone(ctx) || !optional_bound(ctx, "from", false, &f->has_from, &f->from) ||
        !optional_bound(ctx, "to", true, &f->has_to, &f->to) || !booking_page_params(ctx, state))
        return false;
    f->status = http_query_param(ctx, "status", state->status, sizeof(state->status));
    return true;
}

void http_bookings_list(http_ctx_t *ctx)
{
    booking_state_t *state = state_of(ctx);
    char resource_text[40], service_text[40], phone_text[64];
    eng_id_t resource, service;
    domain_error_t error;
    if (!booking_list_params(ctx, state))
        return;
    if (http_query_param(ctx, "resource_id", resource_text, sizeof(resource_text)) &&
        codec_parse_uuid(resource_text, &resource) == 0)
        state->filter.resource = &resource;
    if (http_query_param(ctx, "service_id", service_text, sizeof(service_text)) &&
        codec_parse_uuid(service_text, &service) == 0)
        state->filter.service = &service;
    const char *phone = http_query_param(ctx, "customer_phone", phone_text, sizeof(phone_text));
    domain_context_t context = context_of(ctx);
    http_await(ctx,
               domain_bookings_list(&context, &state->filter, phone, state->limit, on_booking_page,
                                    ctx, &error),
               &error);
}

/* The customer exists: now their bookings. */
static void on_customer_of_bookings(void *arg, int error, const store_customer_t *items,
                                    size_t count, bool more)
{
    http_ctx_t *ctx = arg;
    booking_state_t *state = ctx->state;
    domain_error_t refusal;
    (void)items;
    (void)more;
    http_wait_end(ctx);
    if (error || count == 0) {
        http_respond_store_error(ctx, error ? error : STORE_ENOTFOUND, "customer");
    } else {
        state->filter.customer = &state->customer;
        domain_context_t context = context_of(ctx);
        http_await(ctx,
                   domain_bookings_list(&context, &state->filter, NULL, state->limit,
                                        on_booking_page, ctx, &refusal),
                   &refusal);
    }
    http_wait_release(ctx);
}

void http_customers_bookings(http_ctx_t *ctx)
{
    booking_state_t *state = state_of(ctx);
    char id_text[37];
    domain_error_t error;
    if (!http_path_id(ctx, 0, "customer", id_text, &state->customer) ||
        !booking_list_params(ctx, state))
        return;
    domain_context_t context = context_of(ctx);
    http_await(ctx,
               domain_customers_list(&context, &state->customer, NULL, NULL, NULL, 1,
                                     on_customer_of_bookings, ctx, &error),
               &error);
}

/* ---- GET /v1/customers, GET /v1/customers/{id} ----------------------------------------------- */

static json_t *customer_json(const store_customer_t *c)
{
    return json_pack("{s:o, s:s, s:o, s:o, s:o, s:o}", "id", id_json(&c->id), "name", c->name,
                     "phone", http_json_text(c->phone), "email", http_json_text(c->email),
                     "created_at", http_json_instant(c->organization_timezone, c->created_at),
                     "updated_at", http_json_instant(c->organization_timezone, c->updated_at));
}

static void on_customer_page(void *arg, int error, const store_customer_t *items, size_t count,
                             bool more)
{
    http_ctx_t *ctx = arg;
    http_wait_end(ctx);
    if (error) {
        http_respond_store_error(ctx, error, "customer");
    } else {
        json_t *list = json_array();
        bool ok = true;
        for (size_t i = 0; i < count && ok; i++)
            ok = json_array_append_new(list, customer_json(&items[i])) == 0;
        if (!ok) {
            json_decref(list);
            list = NULL;
        }
        http_respond_items(ctx, list, more && count ? &items[count - 1].id : NULL, "customer");
    }
    http_wait_release(ctx);
}

void http_customers_list(http_ctx_t *ctx)
{
    char phone_text[64], email_text[330], cursor_text[37];
    const char *phone = http_query_param(ctx, "phone", phone_text, sizeof(phone_text));
    const char *email = http_query_param(ctx, "email", email_text, sizeof(email_text));
    int limit;
    bool has_cursor;
    eng_id_t cursor;
    domain_error_t error;
    if (!http_list_params(ctx, &limit, cursor_text, &has_cursor) ||
        (has_cursor && codec_parse_uuid(cursor_text, &cursor) != 0))
        return;
    domain_context_t context = context_of(ctx);
    http_await(ctx,
               domain_customers_list(&context, NULL, phone, email, has_cursor ? &cursor : NULL,
                                     limit, on_customer_page, ctx, &error),
               &error);
}

static void on_customer(void *arg, int error, const store_customer_t *items, size_t count,
                        bool more)
{
    http_ctx_t *ctx = arg;
    json_t *body;
    (void)more;
    http_wait_end(ctx);
    if (error || count == 0)
        http_respond_store_error(ctx, error ? error : STORE_ENOTFOUND, "customer");
    else if ((body = http_rendered(ctx, customer_json(&items[0]), "customer")) != NULL)
        http_respond(ctx, 200, body);
    http_wait_release(ctx);
}

void http_customers_get(http_ctx_t *ctx)
{
    char id_text[37];
    eng_id_t id;
    domain_error_t error;
    if (!http_path_id(ctx, 0, "customer", id_text, &id))
        return;
    domain_context_t context = context_of(ctx);
    http_await(ctx,
               domain_customers_list(&context, &id, NULL, NULL, NULL, 1, on_customer, ctx, &error),
               &error);
}

/* ---- GET /v1/bookings/{id}/history
 * --------------------------------------------------------------- */

/* The API's name of an audit action; a change of status reads as such. */
static const char *action_name(const store_audit_t *a, const json_t *new_value)
{
    if (strcmp(a->action, "create") == 0 || strcmp(a->action, "import") == 0)
        return "created";
    if (strcmp(a->action, "cancel") == 0)
        return "cancelled";
    if (strcmp(a->action, "reschedule") == 0)
        return "rescheduled";
    return json_object_get(new_value, "status") ? "status_changed" : "updated";
}

/* An audit row's old or new fields, instants rendered in `zone`; null when there are none. */
static json_t *audit_fields(const char *text, const char *zone)
{
    json_t *value = text ? json_loads(text, 0, NULL) : NULL;
    if (!json_is_object(value)) {
        json_decref(value);
        return json_null();
    }
    static const char *const instants[] = {"start", "end", NULL};
    for (const char *const *name = instants; *name; name++) {
        const json_t *v = json_object_get(value, *name);
        int64_t at;
        if (json_is_string(v) && codec_parse_instant(json_string_value(v), &at) == 0)
            json_object_set_new(value, *name, http_json_instant(zone, at));
    }
    return value;
}

static void on_history(void *arg, int error, const store_audit_t *items, size_t count, bool more)
{
    http_ctx_t *ctx = arg;
    http_wait_end(ctx);
    if (error) {
        http_respond_store_error(ctx, error, "booking");
        http_wait_release(ctx);
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < count; i++) {
        const store_audit_t *a = &items[i];
        const char *zone = zone_of(ctx->state, a->organization_timezone);
        json_t *actor = json_loads(a->actor, 0, NULL);
        json_t *new_value = audit_fields(a->new_value, zone);
        json_array_append_new(
            list, json_pack("{s:o, s:s, s:o, s:o, s:o}", "at", http_json_instant(zone, a->at),
                            "action", action_name(a, new_value), "actor",
                            json_is_object(actor) ? actor : json_pack("{s:s}", "kind", "system"),
                            "old", audit_fields(a->old_value, zone), "new", new_value));
        if (!json_is_object(actor))
            json_decref(actor);
    }
    char cursor[24] = "";
    if (more && count)
        snprintf(cursor, sizeof(cursor), "%lld", (long long)items[count - 1].id);
    json_t *body = json_pack("{s:o, s:o}", "items", list, "next_cursor",
                             cursor[0] ? json_string(cursor) : json_null());
    if (http_rendered(ctx, body, "history"))
        http_respond(ctx, 200, body);
    http_wait_release(ctx);
}

void http_bookings_history(http_ctx_t *ctx)
{
    char id_text[37], limit_text[16], cursor_text[72];
    eng_id_t id;
    domain_error_t error;
    if (!http_path_id(ctx, 0, "booking", id_text, &id) || !query_zone(ctx))
        return;
    const char *limit_param = http_query_param(ctx, "limit", limit_text, sizeof(limit_text));
    const char *cursor = http_query_param(ctx, "cursor", cursor_text, sizeof(cursor_text));
    int limit = limit_param ? atoi(limit_param) : 100;
    char *end = NULL;
    long long after = cursor ? strtoll(cursor, &end, 10) : -1;
    if (limit < 1 || limit > 1000) {
        http_respond_invalid(ctx, "limit", "limit must be from 1 to 1000.");
        return;
    }
    if (cursor && (end == cursor || *end || after < 0)) {
        http_respond_invalid(ctx, "cursor", "cursor must be a next_cursor of this list.");
        return;
    }
    domain_context_t context = context_of(ctx);
    http_await(ctx, domain_bookings_history(&context, &id, after, limit, on_history, ctx, &error),
               &error);
}
