/*
 * Bookings, holds and customers in the database, as structs: the typed store
 * for the domain layer (SQL in sql/bookings.sql), and the sweep of expired
 * holds and old idempotency keys.
 *
 * A booking is one transaction of one statement (slotd_book, migration 0010),
 * sent with BEGIN and COMMIT in one pipeline: the idempotency key taken and
 * looked up, the hold consumed, the customer's and the resources' locks taken,
 * expired holds in the way deleted, the customer found or created, the
 * booking, one occupancy row per resource and the audit row written, the
 * answer rendered and stored under the idempotency key. The occupancy table's
 * exclusion constraint decides overlaps (SQLSTATE 23P01). What to write is
 * decided by the caller before the transaction; a refusal of the rules is
 * still sent when the request has a key, so that the statement answers a
 * replay first.
 *
 * Every function runs on the loop and returns the operation, or NULL when the
 * pool refuses it (then nothing is called back). Callbacks run once, on the
 * loop, unless the operation is cancelled first; the structs they receive are
 * valid only during the call.
 */
#ifndef SLOTD_STORE_BOOKINGS_H
#define SLOTD_STORE_BOOKINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slotd/engine.h"
#include "store/operation.h"

/** Outcomes of the booking transaction besides 0 and the STORE_E* codes. */
enum {
    STORE_BOOKING_EREPLAY = -20,         /**< the key's first answer: `status` and `response` */
    STORE_BOOKING_EMISMATCH = -21,       /**< the key was used with another request */
    STORE_BOOKING_EIN_PROGRESS = -22,    /**< the key's first request is still running */
    STORE_BOOKING_EREFUSED = -23,        /**< the caller's rules refused (the caller knows why) */
    STORE_BOOKING_EOVERLAP = -24,        /**< a resource is taken at that time (23P01) */
    STORE_BOOKING_EHOLD_GONE = -25,      /**< the hold expired or was released */
    STORE_BOOKING_EHOLD_OTHER = -26,     /**< the hold is for another service or start */
    STORE_BOOKING_EHOLD_RESOURCES = -27, /**< a pinned resource is not among the hold's */
};

/** An event a booking is in a connected calendar (the provider's id for it). */
typedef struct {
    eng_id_t connection_id;
    const char *provider, *external_id;
} store_booking_external_t;

/** A booking as stored. */
typedef struct {
    eng_id_t id, service_id, customer_id;
    const char *status;
    int64_t start, end; /**< UTC seconds */
    const eng_id_t *resources;
    size_t resource_count;
    const char *customer_name, *customer_phone, *customer_email; /**< phone, email: NULL: none */
    const char *notes, *source, *external_ref;                   /**< NULL: none */
    int64_t created_at, updated_at;
    const char *organization_timezone;
    const store_booking_external_t *external_events; /**< sorted by connection */
    size_t external_event_count;
    /** read back after a cancel: the transaction that made its occupancy inactive (0: none, or
     *  not known; store_index_await_change) */
    uint64_t xid;
} store_booking_t;

/** What a booking writes, as the domain decided it. */
typedef struct {
    eng_id_t service_id;
    int64_t start, end;               /**< the booking's time */
    int64_t padded_start, padded_end; /**< what it occupies: its service's buffers added */
    const eng_id_t *resources;
    size_t resource_count;
    const char *customer_name, *customer_phone, *customer_phone_normalized, *customer_email;
    const char *status, *notes, *source, *external_ref; /**< source NULL: "api" */
    const char *actor;                                  /**< JSON text for the audit row */
} store_booking_write_t;

/** A new booking, as the caller sends it. Strings and arrays are copied. */
typedef struct {
    const char *idempotency_key; /**< NULL: none */
    uint8_t request_hash[32];    /**< SHA-256 of the request, with a key */
    bool has_hold;               /**< from a hold: its time and resources are taken, and
                                      `write.resources` are the pinned ones (each must be
                                      among the hold's); `write.end` is ignored */
    eng_id_t hold_id;
    int64_t now;                 /**< the service's clock: holds expire by it */
    bool accepted;               /**< false: the rules refused; only a kept answer is looked up */
    store_booking_write_t write; /**< padded_start, padded_end ignored: the buffers say */
    int64_t buffer_before, buffer_after; /**< seconds: occupied is [start − before, end + after) */
    const char *zone; /**< the answer's instants; NULL: the organization's zone */
} store_booking_request_t;

/** The transaction's end. */
typedef struct {
    int error;                      /**< 0: committed; STORE_E* or STORE_BOOKING_E* */
    const store_booking_t *booking; /**< moved: the booking as committed (created: NULL) */
    int status;                     /**< created: 201; replay: the first answer's */
    const char *response;           /**< created: the answer kept; replay: the stored one */
    const eng_id_t *resources;      /**< created: the booking's resources, sorted */
    size_t resource_count;
    const eng_id_t *released; /**< moved: the resources it held before */
    size_t released_count;
    /** created or moved: its transaction's id (0: not known), which the notifications of its
     *  occupancy carry: the index tells when it has applied them (store_index_await_change) */
    uint64_t xid;
} store_booking_outcome_t;

typedef void (*store_booking_done_cb)(void *arg, const store_booking_outcome_t *outcome);

/** True for the outcomes by which the transaction refused on the rules' grounds (taken, the hold
 *  gone or not matching, no such hold): the domain's refusal says why. */
static inline bool store_booking_refused(int error)
{
    return error == STORE_BOOKING_EREFUSED || error == STORE_BOOKING_EOVERLAP ||
           error == STORE_BOOKING_EHOLD_GONE || error == STORE_BOOKING_EHOLD_OTHER ||
           error == STORE_BOOKING_EHOLD_RESOURCES || error == STORE_ENOTFOUND;
}

typedef struct store_booking_op store_booking_op_t;

/** True once what the operation runs may take effect whatever happens now (its COMMIT, or
 *  its single statement, is on the wire). */
bool store_booking_op_sent(const store_booking_op_t *op);

/** Forgets an operation: no callback runs again (a transaction rolls back unless its
 *  COMMIT is already on its way). Frees it. */
void store_booking_op_cancel(store_booking_op_t *op);

/**
 * The booking transaction (see the top of this file). done gets 0 with the
 * answer (the booking in the API's form, rendered by the statement in
 * request->zone, as kept under the key) and its resources;
 * STORE_BOOKING_EREPLAY, _EMISMATCH or _EIN_PROGRESS for a key;
 * STORE_BOOKING_EREFUSED when request->accepted is false and nothing was kept;
 * STORE_ENOTFOUND (no such hold), STORE_BOOKING_EHOLD_GONE, _EHOLD_OTHER,
 * _EHOLD_RESOURCES; STORE_BOOKING_EOVERLAP; or a STORE_E* code. Nothing is
 * written unless it is 0.
 */
store_booking_op_t *store_bookings_create(store_pool_t *pool, const eng_id_t *organization,
                                          const store_booking_request_t *request,
                                          store_booking_done_cb done, void *arg);

/** One resource a booking occupies, as stored. */
typedef struct {
    eng_id_t resource, occupancy;
    int64_t padded_start, padded_end;
} store_occupied_t;

/** A booking about to move, as the transaction locked it. */
typedef struct {
    eng_id_t service_id;
    int64_t start, end, created_at;
    const store_occupied_t *occupied;
    size_t occupied_count;
} store_booking_held_t;

/** Decides, inside the transaction, where the booking moves: fills the time, padding,
 *  resources and actor of *write, or refuses (non-zero: STORE_BOOKING_EREFUSED). */
typedef int (*store_booking_move_fn)(void *arg, const store_booking_held_t *booking,
                                     store_booking_write_t *write);

/**
 * Moves a booking in one transaction: locks it, asks `move`, deletes what it
 * occupied (its old time never blocks its new one) and expired holds in the
 * way, writes its new time and occupancy and an audit row. done gets 0 with the
 * booking and the resources it held before, STORE_ENOTFOUND, STORE_ECONFLICT
 * (a cancelled booking), STORE_BOOKING_EREFUSED, STORE_BOOKING_EOVERLAP (the old
 * time is kept) or a STORE_E* code.
 */
store_booking_op_t *store_bookings_reschedule(store_pool_t *pool, const eng_id_t *organization,
                                              const eng_id_t *id, int64_t now,
                                              store_booking_move_fn move,
                                              store_booking_done_cb done, void *arg);

/** One booking: error 0 with it, or STORE_ENOTFOUND and the STORE_E* codes (NULL). */
typedef void (*store_booking_cb)(void *arg, int error, const store_booking_t *booking);

store_booking_op_t *store_bookings_get(store_pool_t *pool, const eng_id_t *organization,
                                       const eng_id_t *id, store_booking_cb cb, void *arg);

/** Cancels (once; a cancelled booking stays as it is) and answers the booking. */
store_booking_op_t *store_bookings_cancel(store_pool_t *pool, const eng_id_t *organization,
                                          const eng_id_t *id, const char *reason, const char *actor,
                                          store_booking_cb cb, void *arg);

/**
 * Changes status (NULL: unchanged) and notes (when notes_set; NULL clears them) and answers
 * the booking; STORE_ECONFLICT when the status move is not allowed (pending→confirmed,
 * confirmed→completed|no_show, or the same status again, are).
 */
store_booking_op_t *store_bookings_patch(store_pool_t *pool, const eng_id_t *organization,
                                         const eng_id_t *id, const char *status, bool notes_set,
                                         const char *notes, const char *actor, store_booking_cb cb,
                                         void *arg);

/** Which bookings a list shows (NULL / false: any). */
typedef struct {
    bool has_from, has_to;
    int64_t from, to; /**< the time overlaps [from, to) */
    const eng_id_t *resource, *service, *customer;
    const char *status;
    const char *phone_normalized; /**< the customer's */
    bool has_cursor;              /**< after this booking in (start, id) order */
    int64_t cursor_start;
    eng_id_t cursor_id;
} store_booking_filter_t;

/** A page, sorted by start and id; `more` when another page follows the last item. */
typedef void (*store_booking_list_cb)(void *arg, int error, const store_booking_t *const *items,
                                      size_t count, bool more);

store_operation_t *store_bookings_list(store_pool_t *pool, const eng_id_t *organization,
                                       const store_booking_filter_t *filter, int limit,
                                       store_booking_list_cb cb, void *arg);

/** A customer as stored. */
typedef struct {
    eng_id_t id;
    const char *name, *phone, *email; /**< phone, email: NULL: none */
    int64_t created_at, updated_at;
    const char *organization_timezone;
} store_customer_t;

typedef void (*store_customer_list_cb)(void *arg, int error, const store_customer_t *items,
                                       size_t count, bool more);

/** Customers by id order: one (`id`), or those matching the normalized phone and the
 *  lower-cased email (NULL: any), after `cursor`. */
store_operation_t *store_customers_list(store_pool_t *pool, const eng_id_t *organization,
                                        const eng_id_t *id, const char *phone_normalized,
                                        const char *email_lower, const eng_id_t *cursor, int limit,
                                        store_customer_list_cb cb, void *arg);

/** One audit row of a booking. */
typedef struct {
    int64_t id, at;
    const char *actor, *action;        /**< actor: JSON text; action: create, cancel, ... */
    const char *old_value, *new_value; /**< JSON text, or NULL */
    const char *organization_timezone;
} store_audit_t;

typedef void (*store_audit_list_cb)(void *arg, int error, const store_audit_t *items, size_t count,
                                    bool more);

/** A booking's audit rows, oldest first, after row `after` (negative: from the first);
 *  STORE_ENOTFOUND when there is no such booking. */
store_operation_t *store_bookings_history(store_pool_t *pool, const eng_id_t *organization,
                                          const eng_id_t *id, int64_t after, int limit,
                                          store_audit_list_cb cb, void *arg);

/** Whether a refusal was kept (error 0: kept, or another answer already holds the key). */
typedef void (*store_remember_cb)(void *arg, int error);

/**
 * Keeps a refusal of a keyed booking request (`status` 409 and its exact `response`) under
 * the key, so that a retry replays it: one statement of its own, since the refused
 * transaction wrote nothing. A request with the key running now, or an answer already kept,
 * wins.
 */
store_booking_op_t *store_bookings_remember(store_pool_t *pool, const eng_id_t *organization,
                                            const char *key, const uint8_t request_hash[32],
                                            int status, const char *response, store_remember_cb cb,
                                            void *arg);

/** A sweep's result: how many expired holds' occupancy rows, old keys and rows of the log of
 *  occupancy changes were deleted. */
typedef void (*store_sweep_cb)(void *arg, int error, long holds, long keys, long changes);

/**
 * The periodic sweep, across organizations: deletes at most `batch` occupancy
 * rows of holds expired by `now` (what no booking's transaction met) and at
 * most `batch` idempotency keys older than 24 hours; and at most ten times
 * `batch` rows of the log of occupancy changes whose transactions ended more
 * than ten minutes ago.
 */
store_operation_t *store_bookings_sweep(store_pool_t *pool, int64_t now, int batch,
                                        store_sweep_cb cb, void *arg);

/** A new hold: its id and its transaction's id (0: not known; store_index_await_change) (error
 *  0), or STORE_BOOKING_EOVERLAP and the STORE_E* codes. Expired holds in the way are deleted
 *  first. */
typedef void (*store_hold_cb)(void *arg, int error, const eng_id_t *id, uint64_t xid);

typedef struct {
    eng_id_t service_id;
    int64_t start, end, padded_start, padded_end, expires_at, now;
    const eng_id_t *resources;
    size_t resource_count;
} store_hold_write_t;

store_booking_op_t *store_holds_create(store_pool_t *pool, const eng_id_t *organization,
                                       const store_hold_write_t *write, store_hold_cb cb,
                                       void *arg);

/** Releases a hold (released or expired ones too): 0 with the resources it held and, when it
 *  deleted their occupancy, its transaction's id (else 0), or STORE_ENOTFOUND and the STORE_E*
 *  codes. */
typedef void (*store_hold_release_cb)(void *arg, int error, const eng_id_t *resources, size_t count,
                                      uint64_t xid);

store_booking_op_t *store_holds_release(store_pool_t *pool, const eng_id_t *organization,
                                        const eng_id_t *id, int64_t now, store_hold_release_cb cb,
                                        void *arg);

#endif
