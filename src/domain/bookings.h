/*
 * Bookings and holds, the domain's rules (docs/design.md "Bookings are
 * transactions", API "Bookings", "Holds", "Customers"):
 *
 * - a booking or hold of a service at a start is accepted exactly when the
 *   engine would offer that start now (in the zone the client read it in) with
 *   the pinned resources; the engine picks the rest. An admin's `override`
 *   skips hours, notice, horizon and grid, never the no-overlap rule; an
 *   admin's `end` sets a custom length, checked for overlaps over its whole span;
 * - a booking from a hold takes the hold's time and resources (service and
 *   start must be the hold's, pinned resources among the hold's: else
 *   `conflict`);
 * - the customer is found by normalized phone (spaces, dashes, dots and
 *   parentheses removed, a leading 00 turned into +) when a phone is given,
 *   else by lower-cased email;
 * - every refusal for want of free time carries up to three alternatives: free
 *   starts of the same service with the same pinned resources, closest to the
 *   requested start, never in the past, within 14 days either side, sorted.
 *
 * The engine's check runs first, on the loop, for a fast refusal; the
 * database's exclusion constraint decides (an overlap there is refused like
 * the engine's, with alternatives computed at that moment).
 *
 * Everything runs on the loop. A function either refuses at once (returns
 * NULL with `error` DOMAIN_EINVALID or DOMAIN_EBUSY, or with `refusal` filled
 * when the rules say no), or starts the store's work and returns it; the
 * result reaches the callback once, unless the caller cancels it
 * (domain_booking_op_cancel).
 */
#ifndef SLOTD_DOMAIN_BOOKINGS_H
#define SLOTD_DOMAIN_BOOKINGS_H

#include "domain/domain.h"
#include "index/index.h"
#include "store/bookings.h"

#define DOMAIN_MAX_PINNED 64
#define DOMAIN_MAX_ALTERNATIVES 3
#define DOMAIN_ALTERNATIVES_DAYS 14
#define DOMAIN_PHONE_MAX 50
#define DOMAIN_HOLD_TTL_DEFAULT 300
#define DOMAIN_HOLD_TTL_MAX 1800

/** A booking or hold request, decoded by an edge. Strings belong to the caller and must
 *  live until the callback has run (or the operation is cancelled). */
typedef struct {
    eng_id_t service_id;
    int64_t start;
    bool has_end; /**< admin only */
    int64_t end;
    bool override; /**< admin only */
    eng_id_t pinned[DOMAIN_MAX_PINNED];
    size_t pinned_count;
    bool has_hold;
    eng_id_t hold_id;
    tz_zone_t *zone; /**< where the client read the slot; NULL: the organization's */
    bool admin;      /**< the caller may send end and override */
    const char *customer_name, *customer_phone, *customer_email;
    const char *notes, *source, *external_ref, *status; /**< NULL: none / defaults */
    const char *actor;                                  /**< JSON text for the audit rows */
    const char *idempotency_key;                        /**< NULL: none */
    uint8_t request_hash[32];                           /**< with a key: the request's SHA-256 */
    int ttl_seconds;                                    /**< holds: 0 = the default */
    int64_t now;
} domain_booking_input_t;

/** A free slot offered instead. */
typedef struct {
    int64_t start, end;
    eng_id_t *resources; /**< sorted */
    size_t resource_count;
} domain_slot_t;

typedef enum {
    DOMAIN_REFUSAL_NONE = 0,
    DOMAIN_REFUSAL_NOT_FOUND,   /**< `what` names it: service, resource, hold, booking */
    DOMAIN_REFUSAL_UNAVAILABLE, /**< slot_unavailable, with alternatives */
    DOMAIN_REFUSAL_CONFLICT,    /**< the hold does not match, or is gone: `message` says */
    DOMAIN_REFUSAL_INVALID,     /**< 400: `field` and `message` */
    DOMAIN_REFUSAL_LOADING      /**< the index is not loaded yet: try again */
} domain_refusal_kind_t;

/** Why the rules said no. Free with domain_refusal_clear. */
typedef struct {
    domain_refusal_kind_t kind;
    const char *what;
    char field[CODEC_FIELD_MAX];
    char message[160];
    domain_slot_t alternatives[DOMAIN_MAX_ALTERNATIVES];
    size_t alternative_count;
} domain_refusal_t;

void domain_refusal_clear(domain_refusal_t *refusal);

/**
 * A phone as the customer rules compare it: spaces, dashes, dots and
 * parentheses removed, a leading 00 turned into +; then + and 3 to 20
 * digits. Returns 0 with `out` (at least DOMAIN_PHONE_MAX + 1 bytes), or -1.
 */
int domain_phone_normalize(const char *phone, char *out);

/** Checks a request's fields (texts, customer, status, source, admin-only fields). */
int domain_booking_check(const domain_booking_input_t *input, domain_error_t *error);

typedef struct domain_booking_op domain_booking_op_t;

void domain_booking_op_cancel(domain_booking_op_t *op);

/** True once its write is on the wire (see store_booking_op_sent). */
bool domain_booking_op_sent(const domain_booking_op_t *op);

/** The booking's end: the store's outcome, and when it is STORE_BOOKING_EREFUSED or
 *  STORE_BOOKING_EOVERLAP the refusal (with alternatives) that explains it. */
typedef void (*domain_booking_done_cb)(void *arg, const store_booking_outcome_t *outcome,
                                       const domain_refusal_t *refusal);

/** Where the rules find the organization's engine state, and scratch memory for it. */
typedef struct {
    store_pool_t *pool;
    store_index_t *index;
    eng_workspace_t *workspace;
    eng_id_t organization;
} domain_context_t;

/**
 * A new booking: decided by the rules now (a refusal without an idempotency key is
 * answered at once through `refusal`), then the store's one-statement transaction. done
 * gets the outcome: 0 with the answer the statement rendered in input->zone (the
 * organization's when NULL) and kept under the key.
 */
domain_booking_op_t *domain_bookings_create(const domain_context_t *context,
                                            const domain_booking_input_t *input,
                                            domain_booking_done_cb done, void *arg,
                                            domain_refusal_t *refusal, domain_error_t *error);

/**
 * Moves a booking to input->start (input: start, pinned, zone, actor, now; the
 * service is the booking's, its length kept). The booking's own old time does
 * not block the new one. done as for a new booking; outcome->released names
 * the resources it held before. A cancelled booking: STORE_ECONFLICT.
 */
domain_booking_op_t *domain_bookings_reschedule(const domain_context_t *context, const eng_id_t *id,
                                                const domain_booking_input_t *input,
                                                domain_booking_done_cb done, void *arg,
                                                domain_error_t *error);

/** A hold made: its id, what it holds and its transaction's id (0: not known), or an error
 *  (STORE_E*; with STORE_BOOKING_EOVERLAP the refusal carries alternatives). */
typedef void (*domain_hold_done_cb)(void *arg, int error, const eng_id_t *id,
                                    const store_hold_write_t *hold, uint64_t xid,
                                    const domain_refusal_t *refusal);

domain_booking_op_t *domain_holds_create(const domain_context_t *context,
                                         const domain_booking_input_t *input,
                                         domain_hold_done_cb done, void *arg,
                                         domain_refusal_t *refusal, domain_error_t *error);

/**
 * The rule for keyed requests: a refusal that decided on the state of things (409
 * slot_unavailable or conflict) is kept under the key with its exact answer, so that a retry
 * with the same key replays it, as it would a booking. input: idempotency_key, request_hash.
 */
store_booking_op_t *domain_bookings_remember(const domain_context_t *context,
                                             const domain_booking_input_t *input, int status,
                                             const char *response, store_remember_cb cb, void *arg,
                                             domain_error_t *error);

/** Reading, cancelling, releasing: the store's work, started (NULL with DOMAIN_EBUSY). */
store_booking_op_t *domain_bookings_get(const domain_context_t *context, const eng_id_t *id,
                                        store_booking_cb cb, void *arg, domain_error_t *error);

/** `reason`: at most 1000 characters, or NULL. */
store_booking_op_t *domain_bookings_cancel(const domain_context_t *context, const eng_id_t *id,
                                           const char *reason, const char *actor,
                                           store_booking_cb cb, void *arg, domain_error_t *error);

/** Status moves (confirmed, completed, no_show; "cancelled" goes through cancel: 400) and
 *  notes (at most 5000 characters). */
store_booking_op_t *domain_bookings_patch(const domain_context_t *context, const eng_id_t *id,
                                          const char *status, bool notes_set, const char *notes,
                                          const char *actor, store_booking_cb cb, void *arg,
                                          domain_error_t *error);

/** A list of bookings; `customer_phone` (raw, NULL: any) is compared normalized (400 naming
 *  "customer_phone" when it cannot be a phone); status one of the five (400 "status"). */
store_operation_t *domain_bookings_list(const domain_context_t *context,
                                        const store_booking_filter_t *filter,
                                        const char *customer_phone, int limit,
                                        store_booking_list_cb cb, void *arg, domain_error_t *error);

/** Customers: one (`id`), or by phone (compared normalized) and email (lower-cased). */
store_operation_t *domain_customers_list(const domain_context_t *context, const eng_id_t *id,
                                         const char *phone, const char *email,
                                         const eng_id_t *cursor, int limit,
                                         store_customer_list_cb cb, void *arg,
                                         domain_error_t *error);

store_operation_t *domain_bookings_history(const domain_context_t *context, const eng_id_t *id,
                                           int64_t after, int limit, store_audit_list_cb cb,
                                           void *arg, domain_error_t *error);

store_booking_op_t *domain_holds_release(const domain_context_t *context, const eng_id_t *id,
                                         int64_t now, store_hold_release_cb cb, void *arg,
                                         domain_error_t *error);

#endif
