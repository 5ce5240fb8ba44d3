/*
 * iCalendar out in the database (SQL in sql/feeds.sql): the feed tokens of
 * resources, a resource's feed of bookings, one booking as an invitation.
 *
 * A feed token is 64 hex digits of randomness, shown once; the database keeps
 * its SHA-256 only. As everywhere in the typed store, each function runs on
 * the loop, starts one operation and returns it (store_operation_cancel
 * forgets it), or NULL when the pool refuses it; the structs a callback gets
 * are valid only during the call.
 */
#ifndef SLOTD_STORE_FEEDS_H
#define SLOTD_STORE_FEEDS_H

#include <stddef.h>
#include <stdint.h>

#include "slotd/engine.h"
#include "store/operation.h"
#include "store/pool.h"

#define STORE_FEED_TOKEN_LENGTH 64

/** Makes a new feed token into `token` (STORE_FEED_TOKEN_LENGTH + 1 bytes). */
void store_feed_token_generate(char *token);

/** error 0 when the resource's token is set, else STORE_ENOTFOUND (no such live resource of
 *  the organization) or another STORE_E* code. */
typedef void (*store_feed_token_cb)(int error, void *arg);

/** Makes `token` the feed token of the resource (the one before stops working). */
store_operation_t *store_feed_token_set(store_pool_t *pool, const eng_id_t *organization,
                                        const eng_id_t *resource, const char *token,
                                        store_feed_token_cb cb, void *arg);

/** One booking of a feed, or of an invitation (the fields a feed has no use for are NULL). */
typedef struct {
    eng_id_t id;
    const char *status;
    int64_t start, end, updated_at; /**< UTC seconds */
    int64_t sequence;               /**< how many times it changed since it was made */
    const char *service_name, *customer_name;
    const char *customer_phone, *customer_email, *notes; /**< NULL: none */
    const char *organization_name;                       /**< invitations */
    const char *location_address; /**< invitations: NULL when its resources have none */
} store_feed_booking_t;

/** A resource's feed: its organization and name, and its bookings by start. */
typedef struct {
    eng_id_t organization;
    const char *resource_name;
    const store_feed_booking_t *bookings;
    size_t count;
} store_feed_t;

/** error 0 with the feed, or STORE_ENOTFOUND (no such token for the resource, or no such live
 *  resource) or another STORE_E* code. */
typedef void (*store_feed_cb)(int error, const store_feed_t *feed, void *arg);

/** The feed of `resource` if `token` is its token: the bookings holding it, not cancelled,
 *  that end after `since`. */
store_operation_t *store_feed_get(store_pool_t *pool, const eng_id_t *resource, const char *token,
                                  size_t token_length, int64_t since, store_feed_cb cb, void *arg);

/** error 0 with the booking, or STORE_ENOTFOUND or another STORE_E* code. */
typedef void (*store_invitation_cb)(int error, const store_feed_booking_t *booking, void *arg);

/** A booking of the organization as an invitation (cancelled ones too). */
store_operation_t *store_booking_invitation(store_pool_t *pool, const eng_id_t *organization,
                                            const eng_id_t *booking, store_invitation_cb cb,
                                            void *arg);

#endif
