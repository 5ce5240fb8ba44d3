/*
 * Bookings and holds: the rules (see bookings.h), the engine's check and
 * pick, the alternatives, then the typed store.
 *
 * The engine's objects are reached through the index at the moment of each
 * decision and never kept across loop callbacks (a reload may replace them):
 * what a decision keeps is ids. A new booking is decided once, before its
 * transaction, so that the transaction is one statement sent at once; the
 * exclusion constraint has the last word. A refusal of a request with an
 * idempotency key is still sent (as not accepted), so that the statement
 * answers a replay first: a retry gets the first answer even when the slot is
 * now taken (by that very first request). A booking from a hold needs only the
 * service from the rules; the statement takes the hold's time and resources.
 */
#include "domain/bookings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slotd/alloc.h"

/* What a booking or a hold keeps between its decision and its end. */
struct domain_booking_op {
    domain_context_t context;
    domain_booking_input_t input;
    store_booking_op_t *store;
    domain_booking_done_cb done;
    domain_hold_done_cb hold_done;
    void *arg;
    domain_refusal_t refusal;
    bool trial; /* a decision only tried: a refusal needs no alternatives */
    /* the last decision */
    eng_id_t resources[ENG_MAX_GROUPS * ENG_MAX_GROUP_MEMBERS];
    size_t resource_count;
    int64_t end, padded_start, padded_end;
    store_hold_write_t hold;
    char phone[DOMAIN_PHONE_MAX + 1];
};

void domain_refusal_clear(domain_refusal_t *refusal)
{
    for (size_t i = 0; i < refusal->alternative_count; i++)
        free(refusal->alternatives[i].resources);
    memset(refusal, 0, sizeof(*refusal));
}

int domain_phone_normalize(const char *phone, char *out)
{
    size_t n = 0;
    for (const char *p = phone; *p; p++) {
        if (*p == ' ' || *p == '-' || *p == '.' || *p == '(' || *p == ')')
            continue;
        if (n >= DOMAIN_PHONE_MAX)
            return -1;
        out[n++] = *p;
    }
    out[n] = 0;
    if (n >= 2 && out[0] == '0' && out[1] == '0') {
        memmove(out + 1, out + 2, n - 1);
        out[0] = '+';
        n--;
    }
    size_t digits = 0;
    for (size_t i = out[0] == '+' ? 1 : 0; i < n; i++) {
        if (out[i] < '0' || out[i] > '9')
            return -1;
        digits++;
    }
    return digits >= 3 && digits <= 20 ? 0 : -1;
}

static bool one_of(const char *value, const char *const *allowed)
{
    for (; *allowed; allowed++)
        if (strcmp(value, *allowed) == 0)
            return true;
    return false;
}

int domain_booking_check(const domain_booking_input_t *input, domain_error_t *error)
{
    static const char *const statuses[] = {"confirmed", "pending", NULL};
    static const char *const sources[] = {"ai_agent", "dashboard", "import", "api", NULL};
    char phone[DOMAIN_PHONE_MAX + 1];
    if ((input->has_end || input->override) && !input->admin)
        return domain_invalid(error, input->has_end ? "end" : "override",
                              "Only admin keys may send %s.", input->has_end ? "end" : "override");
    if (input->has_end && input->end <= input->start)
        return domain_invalid(error, "end", "end must be after start.");
    if (input->has_end && input->end - input->start > (int64_t)ENG_MAX_DURATION_MINUTES * 60)
        return domain_invalid(error, "end", "A booking lasts at most 7 days.");
    if (input->status && !one_of(input->status, statuses))
        return domain_invalid(error, "status", "status must be \"confirmed\" or \"pending\".");
    if (input->source && !one_of(input->source, sources))
        return domain_invalid(error, "source",
                              "source must be ai_agent, dashboard, import or api.");
    int rc = domain_check_text(error, "notes", input->notes, 0, 5000);
    if (rc == 0)
        rc = domain_check_text(error, "external_ref", input->external_ref, 1, 255);
    if (rc == 0)
        rc = domain_check_text(error, "customer.name", input->customer_name, 1, 200);
    if (rc == 0)
        rc = domain_check_text(error, "customer.phone", input->customer_phone, 1, 50);
    if (rc == 0)
        rc = domain_check_text(error, "customer.email", input->customer_email, 3, 320);
    if (rc)
        return rc;
    if (input->customer_phone && domain_phone_normalize(input->customer_phone, phone) != 0)
        return domain_invalid(error, "customer.phone",
                              "A phone has 3 to 20 digits, optionally after a +.");
    if (input->customer_email && strchr(input->customer_email, '@') == NULL)
        return domain_invalid(error, "customer.email", "An email has an @.");
    return 0;
}

/* ---- deciding -------------------------------------------------------------------------------- */

static void refuse(domain_refusal_t *refusal, domain_refusal_kind_t kind, const char *what,
                   const char *message)
{
    refusal->kind = kind;
    refusal->what = what;
    snprintf(refusal->message, sizeof(refusal->message), "%s", message ? message : "");
}

/* Up to three free starts of the request's service (and pinned resources) closest to its
 * start, never the start itself, never in the past, within 14 days either side, by start. */
static void find_alternatives(domain_booking_op_t *op, index_org_t *org)
{
    const domain_booking_input_t *in = &op->input;
    domain_refusal_t *refusal = &op->refusal;
    bool bookable;
    eng_service_t *service = index_org_service(org, &in->service_id, &bookable);
    eng_resource_t *filter[DOMAIN_MAX_PINNED];
    size_t filter_count = 0;
    for (size_t i = 0; i < in->pinned_count; i++)
        if ((filter[filter_count] = index_org_resource(org, &in->pinned[i])) != NULL)
            filter_count++;
    if (service == NULL || !bookable || filter_count < in->pinned_count)
        return;
    int64_t span = (int64_t)DOMAIN_ALTERNATIVES_DAYS * TZ_SECONDS_PER_DAY;
    eng_query_t q = {.service = service,
                     .from = in->start - span > in->now ? in->start - span : in->now,
                     .to = in->start + span,
                     .now = in->now,
                     .zone = in->zone,
                     .resources = filter,
                     .resource_count = filter_count};
    eng_slots_t slots;
    if (q.to <= q.from || eng_slots(op->context.workspace, &q, &slots) != 0)
        return;
    /* The slots are sorted: the closest ones lie around where the start would be. */
    size_t after = 0;
    while (after < slots.count && slots.slots[after].start < in->start)
        after++;
    size_t before = after, next = after;
    if (next < slots.count && slots.slots[next].start == in->start)
        next++;
    size_t chosen[DOMAIN_MAX_ALTERNATIVES], n = 0;
    while (n < DOMAIN_MAX_ALTERNATIVES && (before > 0 || next < slots.count)) {
        bool take_before =
            next >= slots.count || (before > 0 && in->start - slots.slots[before - 1].start <=
                                                      slots.slots[next].start - in->start);
        chosen[n++] = take_before ? --before : next++;
    }
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && chosen[j - 1] > chosen[j]; j--) {
            size_t t = chosen[j];
            chosen[j] = chosen[j - 1];
            chosen[j - 1] = t;
        }
    for (size_t i = 0; i < n; i++) {
        const eng_slot_t *slot = &slots.slots[chosen[i]];
        domain_slot_t *alt = &refusal->alternatives[i];
        alt->start = slot->start;
        alt->end = slot->end;
        alt->resource_count = slot->resource_count;
        alt->resources = slotd_calloc(slot->resource_count + 1, sizeof(eng_id_t));
        for (uint32_t k = 0; k < slot->resource_count; k++)
            alt->resources[k] = *eng_resource_id(slots.resources[slot->first_resource + k]);
    }
    refusal->alternative_count = n;
}

static void refuse_unavailable(domain_booking_op_t *op, index_org_t *org)
{
    refuse(&op->refusal, DOMAIN_REFUSAL_UNAVAILABLE, NULL,
           "That time is not free; here are the nearest free slots.");
    if (!op->trial)
        find_alternatives(op, org);
}

/* The pinned resources, as the index has them; false after refusing an unknown one. */
static bool pinned_resources(domain_booking_op_t *op, index_org_t *org, eng_resource_t **out)
{
    for (size_t i = 0; i < op->input.pinned_count; i++)
        if ((out[i] = index_org_resource(org, &op->input.pinned[i])) == NULL) {
            refuse(&op->refusal, DOMAIN_REFUSAL_NOT_FOUND, "resource", NULL);
            return false;
        }
    return true;
}

static void keep_picked(domain_booking_op_t *op, eng_resource_t *const *picked, size_t count)
{
    op->resource_count = count;
    for (size_t i = 0; i < count; i++)
        op->resources[i] = *eng_resource_id(picked[i]);
}

/* The rules' decision for a booking or hold without a hold behind it: 0, or -1 with the
 * refusal filled. */
static int decide(domain_booking_op_t *op)
{
    const domain_booking_input_t *in = &op->input;
    domain_refusal_clear(&op->refusal);
    index_org_t *org = store_index_org(op->context.index, &op->context.organization);
    if (org == NULL) {
        refuse(&op->refusal, DOMAIN_REFUSAL_LOADING, NULL, NULL);
        return -1;
    }
    bool bookable;
    eng_service_t *service = index_org_service(org, &in->service_id, &bookable);
    if (service == NULL) {
        refuse(&op->refusal, DOMAIN_REFUSAL_NOT_FOUND, "service", NULL);
        return -1;
    }
    eng_resource_t *pinned[DOMAIN_MAX_PINNED];
    if (!pinned_resources(op, org, pinned))
        return -1;
    const eng_service_spec_t *spec = eng_service_spec(service);
    op->end = in->has_end ? in->end : in->start + (int64_t)spec->duration_minutes * 60;
    op->padded_start = in->start - (int64_t)spec->buffer_before_minutes * 60;
    op->padded_end = op->end + (int64_t)spec->buffer_after_minutes * 60;
    eng_check_t check = {.service = service,
                         .start = in->start,
                         .now = in->now,
                         .zone = in->zone,
                         .pinned = pinned,
                         .pinned_count = in->pinned_count};
    eng_resource_t *const *picked;
    size_t count;
    int rc;
    if (!bookable && !in->override)
        rc = ENG_EUNAVAILABLE;
    else if (in->override)
        rc = eng_check_override(op->context.workspace, &check, op->end, &picked, &count);
    else
        rc = eng_check_booking(op->context.workspace, &check, &picked, &count);
    if (rc == 0)
        keep_picked(op, picked, count);
    if (rc == 0 && in->has_end && !in->override) {
        /* a custom length: its start is a slot of the service, and all of it must lie in
         * each resource's free time */
        eng_resource_t *chosen[ENG_MAX_GROUPS * ENG_MAX_GROUP_MEMBERS];
        memcpy(chosen, picked, count * sizeof(*chosen));
        rc = eng_check_span(op->context.workspace, service, in->start, op->end, in->now, chosen,
                            count);
    }
    if (rc == ENG_ERESOURCE) {
        refuse(&op->refusal, DOMAIN_REFUSAL_INVALID, NULL,
               "resource_ids must name resources of the service, at most one per group "
               "that needs any one of them.");
        snprintf(op->refusal.field, sizeof(op->refusal.field), "resource_ids");
        return -1;
    }
    if (rc != 0) {
        refuse_unavailable(op, org);
        return -1;
    }
    return 0;
}

/* A booking from a hold takes the hold's time and resources, and the statement checks that
 * the request matches the hold; what the rules need here is the service's buffers (and the
 * pinned resources, which must be among the hold's): 0, or -1 with the refusal filled. */
static int decide_from_hold(domain_booking_op_t *op)
{
    const domain_booking_input_t *in = &op->input;
    domain_refusal_clear(&op->refusal);
    index_org_t *org = store_index_org(op->context.index, &op->context.organization);
    bool bookable;
    eng_service_t *service = org ? index_org_service(org, &in->service_id, &bookable) : NULL;
    if (service == NULL) {
        refuse(&op->refusal, org ? DOMAIN_REFUSAL_NOT_FOUND : DOMAIN_REFUSAL_LOADING, "service",
               NULL);
        return -1;
    }
    const eng_service_spec_t *spec = eng_service_spec(service);
    op->end = in->start; /* the hold's end, taken by the statement */
    op->padded_start = in->start - (int64_t)spec->buffer_before_minutes * 60;
    op->padded_end = op->end + (int64_t)spec->buffer_after_minutes * 60;
    op->resource_count = in->pinned_count;
    memcpy(op->resources, in->pinned, in->pinned_count * sizeof(eng_id_t));
    return 0;
}

/* ---- bookings -------------------------------------------------------------------------------- */

/* An overlap found by the database: the index may not show it yet, but the refusal is the
 * same, with the alternatives the index offers now. */
static void explain_overlap(domain_booking_op_t *op)
{
    index_org_t *org = store_index_org(op->context.index, &op->context.organization);
    domain_refusal_clear(&op->refusal);
    refuse(&op->refusal, DOMAIN_REFUSAL_UNAVAILABLE, NULL,
           "That time was just taken; here are the nearest free slots.");
    if (org)
        find_alternatives(op, org);
}

static void op_free(domain_booking_op_t *op)
{
    domain_refusal_clear(&op->refusal);
    free(op);
}

static void booking_done(void *arg, const store_booking_outcome_t *outcome)
{
    domain_booking_op_t *op = arg;
    if (outcome->error == STORE_BOOKING_EOVERLAP)
        explain_overlap(op);
    else if (outcome->error == STORE_ENOTFOUND)
        refuse(&op->refusal, DOMAIN_REFUSAL_NOT_FOUND, "hold", NULL);
    else if (outcome->error == STORE_BOOKING_EHOLD_GONE)
        refuse(&op->refusal, DOMAIN_REFUSAL_CONFLICT, NULL,
               "The hold has expired or was released.");
    else if (outcome->error == STORE_BOOKING_EHOLD_OTHER)
        refuse(&op->refusal, DOMAIN_REFUSAL_CONFLICT, NULL,
               "The hold is for another service or start.");
    else if (outcome->error == STORE_BOOKING_EHOLD_RESOURCES)
        refuse(&op->refusal, DOMAIN_REFUSAL_CONFLICT, NULL,
               "resource_ids must be among the hold's resources.");
    /* STORE_BOOKING_EREFUSED: the refusal decided before the transaction stands */
    op->done(op->arg, outcome, &op->refusal);
    op_free(op);
}

bool domain_booking_op_sent(const domain_booking_op_t *op)
{
    return op->store && store_booking_op_sent(op->store);
}

void domain_booking_op_cancel(domain_booking_op_t *op)
{
    if (op->store)
        store_booking_op_cancel(op->store);
    op_free(op);
}

static domain_booking_op_t *op_new(const domain_context_t *context,
                                   const domain_booking_input_t *input, void *arg)
{
    domain_booking_op_t *op = slotd_calloc(1, sizeof(*op));
    op->context = *context;
    op->input = *input;
    op->arg = arg;
    if (input->customer_phone)
        domain_phone_normalize(input->customer_phone, op->phone);
    return op;
}

/* A refusal of the rules, handed to the caller; the operation is freed. */
static domain_booking_op_t *refused(domain_booking_op_t *op, domain_refusal_t *refusal)
{
    *refusal = op->refusal;
    memset(&op->refusal, 0, sizeof(op->refusal)); /* the caller owns the alternatives now */
    op_free(op);
    return NULL;
}

static domain_booking_op_t *busy(domain_booking_op_t *op, domain_error_t *error)
{
    op_free(op);
    error->code = DOMAIN_EBUSY;
    return NULL;
}

domain_booking_op_t *domain_bookings_create(const domain_context_t *context,
                                            const domain_booking_input_t *input,
                                            domain_booking_done_cb done, void *arg,
                                            domain_refusal_t *refusal, domain_error_t *error)
{
    memset(refusal, 0, sizeof(*refusal));
    memset(error, 0, sizeof(*error));
    if (domain_booking_check(input, error) != 0)
        return NULL;
    if (input->customer_phone == NULL && input->customer_email == NULL) {
        domain_invalid(error, "customer.phone", "customer.phone or customer.email is required.");
        return NULL;
    }
    domain_booking_op_t *op = op_new(context, input, arg);
    op->done = done;
    bool accepted = (input->has_hold ? decide_from_hold(op) : decide(op)) == 0;
    if (!accepted && input->idempotency_key == NULL)
        return refused(op, refusal);
    const domain_booking_input_t *in = &op->input;
    store_booking_request_t request = {
        .idempotency_key = in->idempotency_key,
        .has_hold = in->has_hold,
        .hold_id = in->hold_id,
        .now = in->now,
        .accepted = accepted,
        .write = {.service_id = in->service_id,
                  .start = in->start,
                  .end = op->end,
                  .resources = op->resources,
                  .resource_count = accepted ? op->resource_count : 0,
                  .customer_name = in->customer_name,
                  .customer_phone = in->customer_phone,
                  .customer_phone_normalized = in->customer_phone ? op->phone : NULL,
                  .customer_email = in->customer_email,
                  .status = in->status ? in->status : "confirmed",
                  .notes = in->notes,
                  .source = in->source,
                  .external_ref = in->external_ref,
                  .actor = in->actor},
        .buffer_before = accepted ? in->start - op->padded_start : 0,
        .buffer_after = accepted ? op->padded_end - op->end : 0,
        .zone = in->zone ? tz_zone_name(in->zone) : NULL};
    memcpy(request.request_hash, in->request_hash, sizeof(request.request_hash));
    op->store =
        store_bookings_create(context->pool, &context->organization, &request, booking_done, op);
    return op->store ? op : busy(op, error);
}

/* ---- moving ---------------------------------------------------------------------------------- */

/* A booking's busy entry in the index, as the index loads it from its occupancy row. */
static eng_busy_t busy_of(const store_booking_held_t *booking, const store_occupied_t *row)
{
    uint64_t key;
    memcpy(&key, row->occupancy.bytes, sizeof(key));
    return (eng_busy_t){.start = booking->start,
                        .end = booking->end,
                        .buffer_before = (uint16_t)((booking->start - row->padded_start) / 60),
                        .buffer_after = (uint16_t)((row->padded_end - booking->end) / 60),
                        .kind = ENG_BUSY_BOOKING,
                        .stamp = booking->created_at,
                        .key = key};
}

/* Takes the booking's own busy time out of the index (removed[i] says which came out), or
 * puts it back. Nothing runs between the two: no query ever sees the index without it. */
static void own_time(domain_booking_op_t *op, const store_booking_held_t *booking, bool *removed,
                     bool put_back)
{
    index_org_t *org = store_index_org(op->context.index, &op->context.organization);
    for (size_t i = 0; org && i < booking->occupied_count; i++) {
        eng_resource_t *r = index_org_resource(org, &booking->occupied[i].resource);
        eng_busy_t busy = busy_of(booking, &booking->occupied[i]);
        if (r == NULL || booking->occupied[i].padded_start > booking->start ||
            booking->occupied[i].padded_end < booking->end)
            continue; /* a row written by hand: the index took it as it is */
        if (put_back && removed[i])
            eng_resource_add_busy(r, &busy);
        else if (!put_back)
            removed[i] = eng_resource_remove_busy(r, &busy) == 0;
    }
}

/* Where a move without resource_ids goes: it keeps as many of the booking's resources as can
 * serve the new time (the largest set of them the rules accept as pins, all of them first),
 * and the engine picks the rest; when none can, it picks anew. */
#define KEEP_SEARCH_MAX 6 /* resources whose subsets are tried; beyond, all or none */

/* Pins the booking's resources that `mask` names (all of them with mask 0) and decides. */
static int decide_pinning(domain_booking_op_t *op, const store_booking_held_t *booking,
                          unsigned mask)
{
    domain_booking_input_t *in = &op->input;
    in->pinned_count = 0;
    for (size_t i = 0; i < booking->occupied_count; i++)
        if (mask == 0 || (mask & (1u << i)))
            in->pinned[in->pinned_count++] = booking->occupied[i].resource;
    return decide(op);
}

static int decide_keeping(domain_booking_op_t *op, const store_booking_held_t *booking)
{
    domain_booking_input_t *in = &op->input;
    size_t n = booking->occupied_count;
    if (in->pinned_count > 0 || n == 0 || n > DOMAIN_MAX_PINNED)
        return decide(op);
    int rc = -1;
    op->trial = true;
    if (n > KEEP_SEARCH_MAX)
        rc = decide_pinning(op, booking, 0);
    for (int size = (int)n; n <= KEEP_SEARCH_MAX && size > 0 && rc != 0; size--)
        for (unsigned mask = (1u << n) - 1; mask > 0 && rc != 0; mask--)
            if (__builtin_popcount(mask) == size)
                rc = decide_pinning(op, booking, mask);
    op->trial = false;
    if (rc == 0)
        return 0;
    in->pinned_count = 0;
    return decide(op);
}

static int plan_move(void *arg, const store_booking_held_t *booking, store_booking_write_t *write)
{
    domain_booking_op_t *op = arg;
    domain_booking_input_t *in = &op->input;
    in->service_id = booking->service_id;
    in->has_end = true; /* the booking keeps its length, a custom one too */
    in->end = in->start + (booking->end - booking->start);
    bool *removed = slotd_calloc(booking->occupied_count + 1, sizeof(bool));
    own_time(op, booking, removed, false);
    int rc = decide_keeping(op, booking);
    own_time(op, booking, removed, true);
    free(removed);
    if (rc != 0)
        return rc;
    *write = (store_booking_write_t){.start = in->start,
                                     .end = op->end,
                                     .padded_start = op->padded_start,
                                     .padded_end = op->padded_end,
                                     .resources = op->resources,
                                     .resource_count = op->resource_count,
                                     .actor = in->actor};
    return 0;
}

domain_booking_op_t *domain_bookings_reschedule(const domain_context_t *context, const eng_id_t *id,
                                                const domain_booking_input_t *input,
                                                domain_booking_done_cb done, void *arg,
                                                domain_error_t *error)
{
    memset(error, 0, sizeof(*error));
    domain_booking_op_t *op = op_new(context, input, arg);
    op->done = done;
    op->store = store_bookings_reschedule(context->pool, &context->organization, id, input->now,
                                          plan_move, booking_done, op);
    return op->store ? op : busy(op, error);
}

/* ---- holds ----------------------------------------------------------------------------------- */

static void hold_done(void *arg, int error, const eng_id_t *id, uint64_t xid)
{
    domain_booking_op_t *op = arg;
    if (error == STORE_BOOKING_EOVERLAP)
        explain_overlap(op);
    op->hold_done(op->arg, error, id, &op->hold, xid, &op->refusal);
    op_free(op);
}

domain_booking_op_t *domain_holds_create(const domain_context_t *context,
                                         const domain_booking_input_t *input,
                                         domain_hold_done_cb done, void *arg,
                                         domain_refusal_t *refusal, domain_error_t *error)
{
    memset(refusal, 0, sizeof(*refusal));
    memset(error, 0, sizeof(*error));
    int ttl = input->ttl_seconds ? input->ttl_seconds : DOMAIN_HOLD_TTL_DEFAULT;
    if (ttl < 1 || ttl > DOMAIN_HOLD_TTL_MAX) {
        domain_invalid(error, "ttl_seconds", "ttl_seconds must be from 1 to %d.",
                       DOMAIN_HOLD_TTL_MAX);
        return NULL;
    }
    domain_booking_op_t *op = op_new(context, input, arg);
    op->hold_done = done;
    if (decide(op) != 0)
        return refused(op, refusal);
    op->hold = (store_hold_write_t){.service_id = input->service_id,
                                    .start = input->start,
                                    .end = op->end,
                                    .padded_start = op->padded_start,
                                    .padded_end = op->padded_end,
                                    .expires_at = input->now + ttl,
                                    .now = input->now,
                                    .resources = op->resources,
                                    .resource_count = op->resource_count};
    op->store = store_holds_create(context->pool, &context->organization, &op->hold, hold_done, op);
    return op->store ? op : busy(op, error);
}

/* ---- the rest -------------------------------------------------------------------------------- */

static store_booking_op_t *started(store_booking_op_t *op, domain_error_t *error)
{
    if (op == NULL)
        error->code = DOMAIN_EBUSY;
    return op;
}

store_booking_op_t *domain_bookings_get(const domain_context_t *context, const eng_id_t *id,
                                        store_booking_cb cb, void *arg, domain_error_t *error)
{
    return started(store_bookings_get(context->pool, &context->organization, id, cb, arg), error);
}

store_booking_op_t *domain_bookings_cancel(const domain_context_t *context, const eng_id_t *id,
                                           const char *reason, const char *actor,
                                           store_booking_cb cb, void *arg, domain_error_t *error)
{
    if (domain_check_text(error, "reason", reason, 0, 1000) != 0)
        return NULL;
    return started(
        store_bookings_cancel(context->pool, &context->organization, id, reason, actor, cb, arg),
        error);
}

store_booking_op_t *domain_bookings_patch(const domain_context_t *context, const eng_id_t *id,
                                          const char *status, bool notes_set, const char *notes,
                                          const char *actor, store_booking_cb cb, void *arg,
                                          domain_error_t *error)
{
    static const char *const statuses[] = {"confirmed", "completed", "no_show", NULL};
    if (status && strcmp(status, "cancelled") == 0) {
        domain_invalid(error, "status", "Cancel a booking with POST /v1/bookings/{id}/cancel.");
        return NULL;
    }
    if (status && !one_of(status, statuses)) {
        domain_invalid(error, "status", "status must be confirmed, completed or no_show.");
        return NULL;
    }
    if (domain_check_text(error, "notes", notes, 0, 5000) != 0)
        return NULL;
    return started(store_bookings_patch(context->pool, &context->organization, id, status,
                                        notes_set, notes, actor, cb, arg),
                   error);
}

store_booking_op_t *domain_holds_release(const domain_context_t *context, const eng_id_t *id,
                                         int64_t now, store_hold_release_cb cb, void *arg,
                                         domain_error_t *error)
{
    return started(store_holds_release(context->pool, &context->organization, id, now, cb, arg),
                   error);
}

store_booking_op_t *domain_bookings_remember(const domain_context_t *context,
                                             const domain_booking_input_t *input, int status,
                                             const char *response, store_remember_cb cb, void *arg,
                                             domain_error_t *error)
{
    return started(store_bookings_remember(context->pool, &context->organization,
                                           input->idempotency_key, input->request_hash, status,
                                           response, cb, arg),
                   error);
}

/* ---- lists ----------------------------------------------------------------------------------- */

store_operation_t *domain_bookings_list(const domain_context_t *context,
                                        const store_booking_filter_t *filter,
                                        const char *customer_phone, int limit,
                                        store_booking_list_cb cb, void *arg, domain_error_t *error)
{
    static const char *const statuses[] = {"pending", "confirmed", "completed",
                                           "no_show", "cancelled", NULL};
    store_booking_filter_t f = *filter;
    char phone[DOMAIN_PHONE_MAX + 1];
    if (f.status && !one_of(f.status, statuses)) {
        domain_invalid(error, "status",
                       "status must be pending, confirmed, completed, no_show or cancelled.");
        return NULL;
    }
    if (customer_phone) {
        if (domain_phone_normalize(customer_phone, phone) != 0) {
            domain_invalid(error, "customer_phone",
                           "A phone has 3 to 20 digits, optionally after a + (%%2B).");
            return NULL;
        }
        f.phone_normalized = phone;
    }
    return domain_started(
        store_bookings_list(context->pool, &context->organization, &f, limit, cb, arg), error);
}

store_operation_t *domain_customers_list(const domain_context_t *context, const eng_id_t *id,
                                         const char *phone, const char *email,
                                         const eng_id_t *cursor, int limit,
                                         store_customer_list_cb cb, void *arg,
                                         domain_error_t *error)
{
    char normalized[DOMAIN_PHONE_MAX + 1];
    if (phone && domain_phone_normalize(phone, normalized) != 0) {
        domain_invalid(error, "phone", "A phone has 3 to 20 digits, optionally after a + (%%2B).");
        return NULL;
    }
    if (email && strlen(email) > 320) {
        domain_invalid(error, "email", "An email has at most 320 characters.");
        return NULL;
    }
    /* the email is compared lower-cased by the statement (Unicode-aware), as stored ones are */
    return domain_started(store_customers_list(context->pool, &context->organization, id,
                                               phone ? normalized : NULL, email, cursor, limit, cb,
                                               arg),
                          error);
}

store_operation_t *domain_bookings_history(const domain_context_t *context, const eng_id_t *id,
                                           int64_t after, int limit, store_audit_list_cb cb,
                                           void *arg, domain_error_t *error)
{
    return domain_started(
        store_bookings_history(context->pool, &context->organization, id, after, limit, cb, arg),
        error);
}
