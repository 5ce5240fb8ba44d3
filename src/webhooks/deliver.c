/*
 * The webhook delivery worker (see deliver.h): a timer that claims (and, while
 * claims keep finding messages, a claim at once after each recorded attempt),
 * one HTTP request per claimed message, and one statement recording each attempt.
 */
#include "webhooks/deliver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log/log.h"
#include "slotd/alloc.h"
#include "slotd/codec.h"
#include "store/connections.h"
#include "store/webhooks.h"
#include "webhooks/sign.h"

#define TICK_MS 500
#define HOLD_SECONDS 60
#define TIMEOUT_MS 10000
#define MAX_ANSWER_BYTES (64 * 1024)

typedef struct delivery {
    struct delivery *prev, *next;
    webhook_worker_t *worker;
    eng_id_t organization;
    int64_t message;
    uint64_t started_ms;
    io_http_request_t *request;
    store_operation_t *recording;
} delivery_t;

struct webhook_worker {
    webhook_worker_options_t options;
    char *schedule;
    uv_timer_t timer;
    uv_idle_t soon; /* one claim at the end of this loop turn, however many attempts ended */
    bool soon_started;
    store_operation_t *claiming;
    bool more;              /* the last claim found messages: more may wait behind them */
    delivery_t *deliveries; /* in flight: sending, or recording */
    int active;
    bool closing;
    void (*on_closed)(void *);
    void *on_closed_arg;
};

static void unlink_delivery(delivery_t *d)
{
    webhook_worker_t *w = d->worker;
    if (d->prev)
        d->prev->next = d->next;
    else
        w->deliveries = d->next;
    if (d->next)
        d->next->prev = d->prev;
    w->active--;
    free(d);
}

static void claim(webhook_worker_t *w);

static void on_soon(uv_idle_t *idle)
{
    webhook_worker_t *w = idle->data;
    uv_idle_stop(idle);
    w->soon_started = false;
    claim(w);
}

static void on_recorded(int error, bool disabled, void *arg)
{
    delivery_t *d = arg;
    webhook_worker_t *w = d->worker;
    d->recording = NULL;
    if (error || disabled) {
        char org[37], id[24];
        codec_format_uuid(&d->organization, org);
        snprintf(id, sizeof(id), "%lld", (long long)d->message);
        if (error)
            log_warn("webhook_attempt_not_recorded", "organization_id", org, "message_id", id,
                     NULL);
        else
            log_info("webhook_endpoint_disabled", "organization_id", org, "message_id", id, "cause",
                     "410 Gone", NULL);
    }
    unlink_delivery(d);
    /* the endpoint's next message may go now: claim this loop turn rather than at the next
     * tick, so that a burst drains at the pace of its deliveries; attempts that end in the
     * same turn share one claim */
    if (w->more && !w->closing && !w->soon_started) {
        w->soon_started = true;
        uv_idle_start(&w->soon, on_soon);
    }
}

static const char *error_text(const io_http_response_t *response)
{
    switch (response->error) {
    case IO_HTTP_E_TIMEOUT:
        return "timeout: no answer within 10 s";
    case IO_HTTP_E_CONNECT:
        return "connect: the endpoint refused or could not be reached";
    case IO_HTTP_E_RESOLVE:
        return "resolve: the endpoint's host name did not resolve";
    case IO_HTTP_E_TOO_LARGE:
        return "too_large: the answer exceeded 64 KiB";
    case IO_HTTP_E_PRIVATE:
        return "private_address: the endpoint's host is not a public address";
    case IO_HTTP_E_CLOSED:
        return "closed: the service stopped";
    default:
        return "transfer: the exchange failed";
    }
}

static void on_answered(const io_http_response_t *response, void *arg)
{
    delivery_t *d = arg;
    webhook_worker_t *w = d->worker;
    d->request = NULL;
    long duration = (long)(uv_now(w->options.loop) - d->started_ms);
    long status = response->error ? 0 : response->status;
    d->recording = store_webhook_attempted(w->options.pool, &d->organization, d->message, status,
                                           response->error ? error_text(response) : NULL, duration,
                                           w->schedule, on_recorded, d);
    if (d->recording == NULL)
        unlink_delivery(d); /* the claim lapses: it goes again */
}

/* Signs and sends one message; false when it cannot go (its claim lapses). */
static bool send_message(webhook_worker_t *w, delivery_t *d, const store_webhook_message_t *m)
{
    char *secret = NULL;
    size_t secret_length = 0;
    if (store_connection_open(w->options.key, &m->organization, &m->endpoint,
                              STORE_WEBHOOK_SECRET_PURPOSE, m->secret, &secret,
                              &secret_length) != 0)
        return false;
    int64_t now = (int64_t)time(NULL);
    char signature[WEBHOOK_SIGNATURE_SIZE];
    size_t body_length = strlen(m->body);
    int signed_rc = webhook_sign(secret, m->event_id, now, m->body, body_length, signature);
    codec_secret_free(secret, secret_length);
    if (signed_rc != 0)
        return false;
    char id_header[160], timestamp_header[48], signature_header[80];
    snprintf(id_header, sizeof(id_header), "webhook-id: %s", m->event_id);
    snprintf(timestamp_header, sizeof(timestamp_header), "webhook-timestamp: %lld", (long long)now);
    snprintf(signature_header, sizeof(signature_header), "webhook-signature: %s", signature);
    const char *headers[] = {"Content-Type: application/json", "User-Agent: slotd-webhooks",
                             id_header, timestamp_header, signature_header};
    io_http_request_options_t request = {.method = "POST",
                                         .url = m->url,
                                         .headers = headers,
                                         .header_count = sizeof(headers) / sizeof(headers[0]),
                                         .body = m->body,
                                         .body_len = body_length,
                                         .timeout_ms = TIMEOUT_MS,
                                         .max_response_bytes = MAX_ANSWER_BYTES,
                                         .public_only = !w->options.allow_private};
    d->started_ms = uv_now(w->options.loop);
    d->request = io_http_start(w->options.http, &request, on_answered, d);
    return d->request != NULL;
}

static void deliver(webhook_worker_t *w, const store_webhook_message_t *m)
{
    delivery_t *d = slotd_calloc(1, sizeof(*d));
    d->worker = w;
    d->organization = m->organization;
    d->message = m->id;
    d->next = w->deliveries;
    if (d->next)
        d->next->prev = d;
    w->deliveries = d;
    w->active++;
    if (!send_message(w, d, m)) {
        char id[24];
        snprintf(id, sizeof(id), "%lld", (long long)m->id);
        log_warn("webhook_not_sent", "message_id", id, "cause", "its secret did not open", NULL);
        unlink_delivery(d);
    }
}

static void on_claimed(int error, const store_webhook_message_t *items, size_t count, void *arg)
{
    webhook_worker_t *w = arg;
    w->claiming = NULL;
    w->more = !error && count > 0;
    for (size_t i = 0; !error && i < count; i++)
        deliver(w, &items[i]);
}

static void claim(webhook_worker_t *w)
{
    int room = w->options.concurrency - w->active;
    if (w->closing || w->claiming || room <= 0)
        return;
    w->claiming = store_webhook_claim(w->options.pool, room, HOLD_SECONDS, on_claimed, w);
}

static void on_tick(uv_timer_t *timer)
{
    claim(timer->data);
}

webhook_worker_t *webhook_worker_start(const webhook_worker_options_t *options)
{
    webhook_worker_t *w = slotd_calloc(1, sizeof(*w));
    w->options = *options;
    if (w->options.concurrency <= 0)
        w->options.concurrency = 8;
    w->schedule = slotd_strdup(options->retry_schedule ? options->retry_schedule
                                                       : WEBHOOK_DEFAULT_RETRY_SCHEDULE);
    uv_timer_init(options->loop, &w->timer);
    w->timer.data = w;
    uv_timer_start(&w->timer, on_tick, TICK_MS, TICK_MS);
    uv_idle_init(options->loop, &w->soon);
    w->soon.data = w;
    return w;
}

static void on_timer_closed(uv_handle_t *handle)
{
    webhook_worker_t *w = handle->data;
    void (*cb)(void *) = w->on_closed;
    void *arg = w->on_closed_arg;
    free(w->schedule);
    free(w);
    if (cb)
        cb(arg);
}

/* The idle handle is closed first, then the timer, whose close frees the worker. */
static void on_soon_closed(uv_handle_t *handle)
{
    webhook_worker_t *w = handle->data;
    uv_close((uv_handle_t *)&w->timer, on_timer_closed);
}

void webhook_worker_close(webhook_worker_t *w, void (*on_closed)(void *), void *arg)
{
    w->closing = true;
    w->on_closed = on_closed;
    w->on_closed_arg = arg;
    if (w->claiming)
        store_operation_cancel(w->claiming);
    w->claiming = NULL;
    while (w->deliveries) {
        delivery_t *d = w->deliveries;
        if (d->request)
            io_http_cancel(d->request);
        if (d->recording)
            store_operation_cancel(d->recording);
        unlink_delivery(d);
    }
    uv_timer_stop(&w->timer);
    uv_idle_stop(&w->soon);
    uv_close((uv_handle_t *)&w->soon, on_soon_closed);
}
