/*
 * Webhooks from calendar providers (no API key: each checks the provider's own
 * proof, see sync/watch.h):
 *
 *   POST /v1/webhooks/google                  a watch channel's notification: the channel id
 *                                             names the connection, its token must be the
 *                                             channel's secret; "sync" messages change nothing
 *   POST /v1/webhooks/microsoft               ?validationToken= is echoed (text/plain) when a
 *                                             subscription is made; a notification's
 *                                             subscriptionId and clientState must match
 *                                             (a POST of several: each is checked, each
 *                                             proven one acted on; 401 when none is)
 *   POST /v1/webhooks/calcom/{connection_id}  X-Cal-Signature-256 must be the HMAC-SHA256 of
 *                                             the body with the connection's webhook_secret
 *
 * A proven notification makes its connection due for an incremental pull now
 * (the runner takes it within a second); anything unproven is 401 and changes
 * nothing. The answers carry nothing of the connection.
 */
#include <stdlib.h>
#include <string.h>

#include "domain/domain.h"
#include "http/fields.h"
#include "http/routes.h"
#include "slotd/alloc.h"
#include "slotd/codec.h"
#include "store/keys.h"
#include "store/sync.h"
#include "sync/watch.h"

typedef struct {
    uint8_t secret_hash[32]; /* of the secret the notification carries */
    bool sync_message;       /* Google's first message of a channel: nothing to do */
    char *body;              /* Cal.com: the raw body, for its signature */
    size_t body_length;
    char signature[80];
    /* Microsoft: a POST may carry several notifications (several subscriptions): each is
     * checked in turn and each proven one's connection made due */
    bool batch;
    size_t next, proven;
} hook_state_t;

#define GRAPH_BATCH_MAX 100 /* notifications of one POST looked at */

static void free_hook(void *p)
{
    hook_state_t *st = p;
    free(st->body);
    free(st);
}

static hook_state_t *hook_state(http_ctx_t *ctx)
{
    hook_state_t *st = slotd_calloc(1, sizeof(*st));
    ctx->state = st;
    ctx->free_state = free_hook;
    return st;
}

static void refuse(http_ctx_t *ctx)
{
    http_respond_error(ctx, 401, "unauthorized", "This notification is not proven.", NULL);
}

static void next_notification(http_ctx_t *ctx);

static void on_requested(int error, const char *status, const char *direction, const char *provider,
                         void *arg)
{
    (void)status, (void)direction, (void)provider;
    http_ctx_t *ctx = arg;
    hook_state_t *st = ctx->state;
    http_wait_end(ctx);
    if (error && error != STORE_ENOTFOUND)
        http_respond_store_error(ctx, error, "calendar connection");
    else if (st->batch)
        next_notification(ctx); /* a batch's other notifications */
    else
        http_respond(ctx, 200, json_pack("{s:b}", "accepted", error == 0));
    http_wait_release(ctx);
}

/* The target is proven: its pull is due now. */
static void pull_now(http_ctx_t *ctx, const store_webhook_target_t *t)
{
    domain_error_t error;
    http_await(ctx,
               domain_started(store_sync_request(http_pool(ctx), &t->organization, &t->id, false,
                                                 on_requested, ctx),
                              &error),
               &error);
}

static void check_watch(http_ctx_t *ctx, const char *watch_id, const char *secret);

/* The batch's next notification, or the answer once all were looked at: 401 when none was
 * proven. */
static void next_notification(http_ctx_t *ctx)
{
    hook_state_t *st = ctx->state;
    const json_t *value = json_object_get(ctx->body, "value");
    if (st->next < json_array_size(value) && st->next < GRAPH_BATCH_MAX) {
        const json_t *n = json_array_get(value, st->next++);
        check_watch(ctx, json_string_value(json_object_get(n, "subscriptionId")),
                    json_string_value(json_object_get(n, "clientState")));
    } else if (st->proven == 0) {
        refuse(ctx);
    } else {
        http_respond(ctx, 200, json_pack("{s:b}", "accepted", true));
    }
}

static void on_watch(int error, const store_webhook_target_t *t, void *arg)
{
    http_ctx_t *ctx = arg;
    hook_state_t *st = ctx->state;
    http_wait_end(ctx);
    if (st->batch && (error == STORE_ENOTFOUND ||
                      (!error && !sync_hash_equal(t->secret_hash, st->secret_hash)))) {
        next_notification(ctx); /* this one unproven: the others may be */
    } else if (st->batch && !error) {
        st->proven++;
        pull_now(ctx, t);
    } else if (error == STORE_ENOTFOUND ||
               (!error && !sync_hash_equal(t->secret_hash, st->secret_hash)))
        refuse(ctx);
    else if (error)
        http_respond_store_error(ctx, error, "calendar connection");
    else if (st->sync_message)
        http_respond(ctx, 200, json_pack("{s:b}", "accepted", true));
    else
        pull_now(ctx, t);
    http_wait_release(ctx);
}

/* Looks the watch up and checks its secret (hashed into the state). */
static void check_watch(http_ctx_t *ctx, const char *watch_id, const char *secret)
{
    hook_state_t *st = ctx->state;
    if (watch_id == NULL || secret == NULL || watch_id[0] == 0 || strlen(watch_id) > 256) {
        if (st->batch)
            next_notification(ctx);
        else
            refuse(ctx);
        return;
    }
    store_key_hash(secret, strlen(secret), st->secret_hash);
    domain_error_t error;
    http_await(ctx,
               domain_started(store_webhook_watch(http_pool(ctx), watch_id, on_watch, ctx), &error),
               &error);
}

/* A header's value as a NUL-terminated copy in `out` (NULL when absent or too long). */
static const char *header(http_ctx_t *ctx, const char *name, char *out, size_t size)
{
    size_t length;
    const char *value = http_request_header(ctx, name, &length);
    if (value == NULL || length >= size)
        return NULL;
    memcpy(out, value, length);
    out[length] = 0;
    return out;
}

void http_webhooks_google(http_ctx_t *ctx)
{
    char channel[260], token[260], state[32];
    hook_state_t *st = hook_state(ctx);
    const char *resource_state = header(ctx, "x-goog-resource-state", state, sizeof(state));
    st->sync_message = resource_state && strcmp(resource_state, "sync") == 0;
    check_watch(ctx, header(ctx, "x-goog-channel-id", channel, sizeof(channel)),
                header(ctx, "x-goog-channel-token", token, sizeof(token)));
}

void http_webhooks_microsoft(http_ctx_t *ctx)
{
    char validation[1100];
    const char *token = http_query_param(ctx, "validationToken", validation, sizeof(validation));
    if (token) {
        /* the handshake of a subscription being made: the token back, as plain text */
        http_respond_text(ctx, 200, "text/plain; charset=utf-8", token, strlen(token));
        return;
    }
    hook_state(ctx)->batch = true;
    next_notification(ctx);
}

static void on_calcom(int error, const store_webhook_target_t *t, void *arg)
{
    http_ctx_t *ctx = arg;
    hook_state_t *st = ctx->state;
    http_wait_end(ctx);
    json_t *credentials = error ? NULL : json_loads(t->credentials, 0, NULL);
    const char *secret = json_string_value(json_object_get(credentials, "webhook_secret"));
    bool proven = !error && strcmp(t->provider, "calcom") == 0 &&
                  sync_calcom_signature_ok(secret, st->body, st->body_length, st->signature);
    json_decref(credentials);
    if (error && error != STORE_ENOTFOUND && error != STORE_EINTERNAL)
        http_respond_store_error(ctx, error, "calendar connection");
    else if (!proven)
        refuse(ctx);
    else
        pull_now(ctx, t);
    http_wait_release(ctx);
}

void http_webhooks_calcom(http_ctx_t *ctx)
{
    eng_id_t id;
    hook_state_t *st = hook_state(ctx);
    size_t length;
    const char *body = http_request_body(ctx, &length);
    if (codec_parse_uuid(ctx->params[0], &id) != 0 || http_secret_key(ctx) == NULL ||
        header(ctx, "x-cal-signature-256", st->signature, sizeof(st->signature)) == NULL) {
        refuse(ctx);
        return;
    }
    st->body_length = body ? length : 0;
    st->body = slotd_malloc(st->body_length + 1);
    if (st->body_length)
        memcpy(st->body, body, st->body_length);
    st->body[st->body_length] = 0;
    domain_error_t error;
    http_await(ctx,
               domain_started(store_webhook_connection(http_pool(ctx), http_secret_key(ctx), &id,
                                                       on_calcom, ctx),
                              &error),
               &error);
}
