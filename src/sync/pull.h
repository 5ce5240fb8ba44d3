/*
 * One pull of a calendar connection: on the loop, through the HTTP client
 * (libcurl multi), with no database in sight. The caller hands in the
 * connection's credentials and sync state; the pull refreshes the OAuth access
 * token when it is missing or about to expire, pages through the provider's
 * listing, and hands back every event it read (see events.h), the new sync
 * state and the tokens to keep.
 *
 * - Google Calendar: events.list with singleEvents=true (recurring events
 *   arrive as their instances); incremental with the stored syncToken, else a
 *   full listing from `window_start`; pages by nextPageToken; the last page's
 *   nextSyncToken is the new state. 410 (the token is gone) restarts as a full
 *   listing, once.
 * - Microsoft Graph: calendarView/delta over [window_start, window_end) in UTC
 *   (Prefer: outlook.timezone="UTC"); follows @odata.nextLink; the last
 *   page's @odata.deltaLink is the new state and is fetched as it is next
 *   time. 410, or a 400/404 syncStateNotFound or resyncRequired, restarts as
 *   a full round, once. The rotated refresh token is handed back.
 * - Cal.com: the connected user's bookings overlapping the window, every time
 *   (Cal.com has no incremental listing), paged by skip.
 *
 * A 401 from the API refreshes the token and repeats the request once. A
 * revoked grant (invalid_grant) or a refused API key ends the pull with
 * SYNC_E_AUTH: the connection needs new credentials. 429, the rate-limit 403s
 * and 5xx end it with SYNC_E_RATE and the provider's Retry-After (seconds; 0:
 * none given), for the caller's backoff. A pull reads at most
 * SYNC_PULL_MAX_PAGES pages of at most SYNC_PULL_MAX_PAGE_BYTES, SYNC_PULL_MAX_EVENTS events,
 * for at most SYNC_PULL_MAX_MS.
 */
#ifndef SLOTD_SYNC_PULL_H
#define SLOTD_SYNC_PULL_H

#include "io/http_client.h"
#include "sync/events.h"

#define SYNC_PULL_MAX_PAGES 1000
#define SYNC_PULL_MAX_EVENTS 50000
/** The largest page read: each page is parsed on the loop, so its size bounds that pause. */
#define SYNC_PULL_MAX_PAGE_BYTES (2 * 1024 * 1024)
/** The longest a pull may take (its claim is held longer: no other process takes it meanwhile). */
#define SYNC_PULL_MAX_MS (8 * 60 * 1000)

typedef enum {
    SYNC_OK = 0,
    SYNC_E_AUTH = -1,     /**< credentials refused: the connection is broken until new ones */
    SYNC_E_RATE = -2,     /**< throttled or the provider's trouble: retry later */
    SYNC_E_PROVIDER = -3, /**< an answer slotd cannot use (the message says which) */
    SYNC_E_NETWORK = -4,  /**< no answer: connection, timeout */
    SYNC_E_LIMIT = -5,    /**< more pages or events than a pull reads */
} sync_error_t;

typedef struct {
    sync_provider_t provider;
    const char *api_url;   /**< google_api_url, microsoft_graph_url or calcom_api_url */
    const char *token_url; /**< google_token_url, or microsoft_login_url (the tenant is added) */
    const char *client_id, *client_secret, *tenant; /**< OAuth (tenant: Microsoft; NULL: common) */
    const char *refresh_token;                      /**< Google, Microsoft */
    const char *api_key;                            /**< Cal.com */
    const char *access_token;                       /**< a token kept from before, or NULL */
    int64_t access_expires;                         /**< when it expires (instant) */
    const char *calendar_id;          /**< NULL: primary (Google) / the default calendar (Graph) */
    const char *sync_state;           /**< NULL: a full listing */
    int64_t window_start, window_end; /**< what a full listing covers (Google: from start) */
    tz_zone_t *zone;                  /**< the resource's zone (all-day events without one) */
    int64_t now;
    uint64_t timeout_ms; /**< each request's; 0: 10 s */
    bool token_only;     /**< only make sure of a usable access token (for a push) */
} sync_pull_input_t;

typedef struct {
    int error; /**< SYNC_OK or a sync_error_t */
    char message[256];
    int64_t retry_after; /**< SYNC_E_RATE: seconds the provider asked for, 0: none */
    bool full;           /**< the events are the whole window (replace), not changes (merge) */
    sync_event_t *events;
    size_t count, skipped;
    const char *sync_state;   /**< the new state (NULL: none, e.g. Cal.com) */
    const char *access_token; /**< the token used, to keep, and when it expires */
    int64_t access_expires;
    const char *refresh_token; /**< a rotated refresh token to store, or NULL */
    int requests;              /**< HTTP requests made */
} sync_pull_result_t;

typedef struct sync_pull sync_pull_t;

typedef void (*sync_pull_done_cb)(const sync_pull_result_t *result, void *arg);

/** Starts a pull (the input is copied). `done` runs once, on the loop, never from inside this
 *  call; the result is valid during the call. NULL when the client refuses to start. */
sync_pull_t *sync_pull_start(io_http_t *http, const sync_pull_input_t *input,
                             sync_pull_done_cb done, void *arg);

/** Abandons a pull: `done` never runs. */
void sync_pull_cancel(sync_pull_t *pull);

/** An answer's Retry-After in seconds (under a day; 0: none or not a number of seconds). */
int64_t sync_retry_after(const io_http_response_t *res);

/** `text` percent-encoded for a URL's path segment or query value (caller frees). */
char *sync_url_escape(const char *text);

#endif
