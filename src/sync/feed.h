/*
 * One pull of an ICS feed (provider `ics`): a GET of the feed's URL through the
 * HTTP client (libcurl multi, on the loop), conditional on the validators the
 * last pull kept (If-None-Match with its ETag, If-Modified-Since with its
 * Last-Modified) unless a full pull is asked for; the body read on a worker
 * thread (ics_read, libical), resolved on the loop in steps of RESOLVE_STEP
 * records (the zone table is the loop's), and written as the store takes it on
 * a worker again.
 *
 * The result is the feed's whole busy time (replacing the connection's), or
 * `unchanged`: a 304, or a body identical to the last one (its SHA-256 is
 * kept with the validators), when the pull was not a full one. The state
 * handed back is the new validators as JSON, {"etag","last_modified",
 * "sha256"}, to give to the next pull. 429 and 5xx end with SYNC_E_RATE (and
 * the feed's Retry-After), 401/403/404/410 with SYNC_E_PROVIDER, no answer
 * with SYNC_E_NETWORK; a body over ICS_MAX_BYTES, or one that ics refuses,
 * with SYNC_E_PROVIDER and the reason.
 */
#ifndef SLOTD_SYNC_FEED_H
#define SLOTD_SYNC_FEED_H

#include "io/http_client.h"
#include "sync/ics.h"

#define SYNC_FEED_TIMEOUT_MS 60000

typedef struct {
    const char *url;
    const char *state; /**< the last pull's validators (JSON), or NULL */
    bool full;         /**< unconditional: the body is read whatever it is */
    tz_zone_t *zone;   /**< the resource's (floating times, dates) */
} sync_feed_input_t;

typedef struct {
    int error; /**< SYNC_OK or a sync_error_t (pull.h) */
    char message[300];
    int64_t retry_after;
    bool unchanged;
    /** the busy time in parts (ics_busy_json_parts), when neither failed nor unchanged */
    const char *const *upsert_parts;
    size_t upsert_part_count;
    long busy_count;   /**< events and series in it */
    const char *state; /**< the validators to keep (NULL on failure) */
    size_t bytes;      /**< the body's size */
} sync_feed_result_t;

typedef struct sync_feed sync_feed_t;
typedef void (*sync_feed_done_cb)(const sync_feed_result_t *result, void *arg);

/** Starts a pull (the input is copied); `done` runs once, on the loop, never from inside this
 *  call. NULL when the URL is not one the client takes. */
sync_feed_t *sync_feed_start(io_http_t *http, const sync_feed_input_t *input,
                             sync_feed_done_cb done, void *arg);

/** Abandons a pull: `done` never runs (a body being read on a worker is freed when it ends). */
void sync_feed_cancel(sync_feed_t *feed);

#endif
