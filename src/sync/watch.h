/*
 * Provider webhooks, from slotd's side: making a Google watch channel or a
 * Microsoft Graph subscription for a connection (when public_url is set), so
 * that the provider tells slotd about changes within seconds instead of the
 * next periodic pull; and checking what arrives.
 *
 * A watch carries a secret of 32 random bytes (hex) that the provider sends
 * back with every notification (Google: X-Goog-Channel-Token; Graph:
 * clientState); slotd keeps only its SHA-256. Google channels live 7 days,
 * Graph subscriptions 3 days; the runner makes a new one after a pull once the
 * old one expires within a day. Cal.com webhooks are made by the Cal.com user
 * with the secret they give slotd (`webhook_secret`): their signature is
 * HMAC-SHA256 of the body with it, in hex (X-Cal-Signature-256).
 */
#ifndef SLOTD_SYNC_WATCH_H
#define SLOTD_SYNC_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/http_client.h"
#include "sync/events.h"

#define SYNC_WATCH_SECRET_TEXT 65 /* 64 hex digits and a NUL */

typedef struct {
    sync_provider_t provider; /**< Google or Microsoft */
    const char *api_url;
    const char *access_token;
    const char *calendar_id; /**< NULL: primary / the default calendar */
    const char *public_url;  /**< where the provider reaches slotd (no trailing slash needed) */
    int64_t now;
} sync_watch_input_t;

typedef struct {
    int error;               /**< 0, or a sync_error_t */
    char message[200];       /**< why not */
    const char *id;          /**< the channel's or subscription's id */
    const char *secret;      /**< the secret it carries back (keep its hash only) */
    const char *resource_id; /**< Google's resourceId, or NULL */
    int64_t expires;
} sync_watch_result_t;

typedef struct sync_watch sync_watch_t;

/** Makes a watch; `done` once, on the loop (never from inside this call). NULL: refused. */
sync_watch_t *sync_watch_start(io_http_t *http, const sync_watch_input_t *input,
                               void (*done)(const sync_watch_result_t *, void *), void *arg);

void sync_watch_cancel(sync_watch_t *watch);

/** Whether `signature` (hex, any case) is HMAC-SHA256(secret, body): constant time. */
bool sync_calcom_signature_ok(const char *secret, const void *body, size_t length,
                              const char *signature);

/** Constant-time comparison of two 32-byte hashes. */
bool sync_hash_equal(const uint8_t a[32], const uint8_t b[32]);

#endif
