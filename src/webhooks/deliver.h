/*
 * The webhook delivery worker: sends the outbox (migration 0020) on the
 * service's loop.
 *
 * Twice a second it claims the messages that may go (store/webhooks.h: each
 * its endpoint's first undone message, so delivery is in order per endpoint,
 * and never one another process holds), up to its concurrency, and POSTs
 * each to its endpoint, signed as Standard Webhooks specify (webhook-id: the
 * message's, the same on every retry; webhook-timestamp; webhook-signature),
 * through the project's HTTP client: 10 s for the whole exchange, answers cut
 * off past 64 KiB, redirects not followed, and (unless private addresses are
 * allowed) only public addresses connected to. Each attempt is recorded; a
 * 2xx is the message done, anything else is retried after the schedule's next
 * delay, and a 410 disables the endpoint. A claim is held for a minute: a
 * process that dies mid-attempt leaves the message to be tried again then.
 */
#ifndef SLOTD_WEBHOOKS_DELIVER_H
#define SLOTD_WEBHOOKS_DELIVER_H

#include <stdbool.h>
#include <uv.h>

#include "codec/secret.h"
#include "io/http_client.h"
#include "store/pool.h"

/** The delays (seconds) before each retry, after the first attempt. */
#define WEBHOOK_DEFAULT_RETRY_SCHEDULE "{5,300,1800,7200,18000,36000,36000}"

typedef struct {
    uv_loop_t *loop;
    store_pool_t *pool;
    io_http_t *http;
    const codec_secret_key_t *key; /**< opens the endpoints' secrets; must outlive the worker */
    const char *retry_schedule;    /**< int[] literal of the delays; NULL: the default */
    bool allow_private;            /**< deliver to loopback, link-local and private addresses */
    int concurrency;               /**< deliveries at once; 0: 8 */
} webhook_worker_options_t;

typedef struct webhook_worker webhook_worker_t;

webhook_worker_t *webhook_worker_start(const webhook_worker_options_t *options);

/** Stops: deliveries in flight are abandoned (their claims lapse, and they go again later);
 *  `on_closed(arg)` once its handles are closed, after which the worker is freed. */
void webhook_worker_close(webhook_worker_t *worker, void (*on_closed)(void *), void *arg);

#endif
