/*
 * Pushing one booking to one connected calendar (an outbox row, see
 * store/sync.h): makes the calendar agree with the booking as it is now.
 *
 * - The booking holds the connection's resource: the calendar gets an event
 *   at its time, titled "<service> — <customer>", carrying the booking's id
 *   (Google: the event id "slotd" + the booking id's hex digits, chosen by
 *   slotd, so a retry never makes a second event, and the private extended
 *   property slotdBookingId; Graph: transactionId "slotd-<booking id>", the
 *   id Graph gives kept; Cal.com: a booking of the connection's event type,
 *   metadata slotd_booking_id, moved by rescheduling, its new uid kept).
 * - It does not (cancelled, moved to another resource): the event goes
 *   (Google, Graph: deleted; Cal.com: cancelled). An event already gone is fine.
 *
 * The access token is refreshed first when it is missing or about to expire,
 * and once more after a 401. A push that would need more than
 * SYNC_PUSH_MAX_REQUESTS requests fails (and is retried later).
 */
#ifndef SLOTD_SYNC_PUSH_H
#define SLOTD_SYNC_PUSH_H

#include "io/http_client.h"
#include "store/sync.h"
#include "sync/runner.h"

/** A push's requests to the calendar: at most this many, each within this time (token
 *  refreshes, two at most, come on top with the pull's deadline). */
#define SYNC_PUSH_MAX_REQUESTS 4
#define SYNC_PUSH_TIMEOUT_MS 15000

typedef struct {
    int error; /**< 0, or a sync_error_t */
    char message[256];
    bool set_mapping, clear_mapping;
    /** the credentials were refused (a revoked grant, an API key or token refused after a
     *  refresh): the connection is broken until new ones */
    bool revoked;
    const char *external_id;
    int64_t start;
    const char *access_token; /**< a new one to keep, or NULL */
    int64_t access_expires;
    const char *refresh_token; /**< a rotated one, or NULL */
} sync_push_result_t;

typedef struct sync_push sync_push_t;

/** Starts a push (the item is copied); `done` once, on the loop, never from inside this call.
 *  `settings` must outlive it. */
sync_push_t *sync_push_start(uv_loop_t *loop, io_http_t *http, const sync_settings_t *settings,
                             const store_push_item_t *item, int64_t now,
                             void (*done)(const sync_push_result_t *, void *), void *arg);

void sync_push_cancel(sync_push_t *push);

/** Google's event id of a booking: "slotd" and its 32 hex digits (41 bytes with the NUL). */
void sync_google_event_id(const eng_id_t *booking, char out[41]);

#endif
