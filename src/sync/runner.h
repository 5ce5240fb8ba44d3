/*
 * The sync runner: pulls calendar connections on the service's loop.
 *
 * Once a second it claims the connections that are due (store/sync.h: never
 * one that another process or instance holds), up to its concurrency, opens
 * their credentials, runs one pull each (sync/pull.h) and writes what each
 * found in one transaction: a full listing replaces the connection's busy
 * events, an incremental one changes those it names. Busy events that slotd
 * pushed itself are never stored as foreign busy time. The index follows by
 * NOTIFY, on every instance.
 *
 * When: the next incremental pull of a connection is due sync_interval_seconds
 * after the last, shifted by up to a tenth of the interval either way so that
 * connections spread out; a full listing runs when asked for, when there is no
 * sync state yet, and once a day after the organization's sync_nightly_hour
 * (local time). A failure records last_error and waits longer each time
 * (doubling from the interval up to 6 hours, at least what the provider's
 * Retry-After asks); refused credentials mark the connection broken until
 * new ones are given.
 *
 * sync_runner_run_once() is the same work for the command line: one pass over
 * the matching connections, due or not, then a summary.
 */
#ifndef SLOTD_SYNC_RUNNER_H
#define SLOTD_SYNC_RUNNER_H

#include <stdbool.h>
#include <jansson.h>
#include <stdint.h>
#include <uv.h>

#include "codec/secret.h"
#include "io/http_client.h"
#include "slotd/engine.h"
#include "store/pool.h"

/** Where the providers are and who slotd is to them (the settings of the same names). */
typedef struct {
    const char *google_api_url, *google_token_url;
    const char *microsoft_graph_url, *microsoft_login_url;
    const char *calcom_api_url;
    const char *google_client_id, *google_client_secret;
    const char *microsoft_client_id, *microsoft_client_secret;
    const char *public_url; /**< where providers reach slotd's webhooks; NULL: no watches */
    int interval_seconds;
    int nightly_hour;
} sync_settings_t;

typedef struct {
    uv_loop_t *loop;
    store_pool_t *pool;
    io_http_t *http;
    const codec_secret_key_t *key;
    sync_settings_t settings; /* strings must outlive the runner */
    int concurrency;          /**< pulls at once, and pushes at once; 0: 4 */
    int provider_concurrency; /**< of those, of one provider; 0: 2 */
    /** A pass's progress after each connection (done of total), or NULL. */
    void (*progress)(int done, int total, void *arg);
    void *progress_arg;
    /** The clock: NULL for the real one (tests freeze it). */
    int64_t (*now)(void *arg);
    void *now_arg;
} sync_runner_options_t;

typedef struct sync_runner sync_runner_t;

/** Starts claiming due connections once a second. */
sync_runner_t *sync_runner_start(const sync_runner_options_t *options);

/** What a pass did. */
typedef struct {
    int pulled, failed;
    long events;     /**< busy events written */
    int pushed;      /**< outbox rows delivered */
    int connections; /**< a pass's: connections pulled or pushed to */
    /** A pass's failures, [{"connection_id","booking_id"?,"error"}]; the runner's, valid until
     *  it is closed (NULL outside a pass). */
    const json_t *errors;
} sync_summary_t;

/**
 * One pass (no timer): claims every live pulling connection that matches (NULL: any), due or
 * not (`full`: each a full listing), pulls them `concurrency` at a time, delivers the matching
 * outbox rows that are due (`full`: every undone one), each once, and calls `done` once all
 * are written. Runs on options->loop.
 */
sync_runner_t *sync_runner_run_once(const sync_runner_options_t *options,
                                    const eng_id_t *organization, const eng_id_t *connection,
                                    bool full, void (*done)(const sync_summary_t *, void *),
                                    void *arg);

/** Counters for /metrics. */
void sync_runner_summary(const sync_runner_t *runner, sync_summary_t *summary);

/** Stops claiming, abandons pulls in flight (their claims run out) and frees the runner once
 *  its writes in flight have ended; `on_closed` then. */
void sync_runner_close(sync_runner_t *runner, void (*on_closed)(void *), void *arg);

#endif
