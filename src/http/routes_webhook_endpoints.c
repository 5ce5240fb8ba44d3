/*
 * /v1/webhook-endpoints: an admin's outbound webhook endpoints.
 *
 *   POST   /v1/webhook-endpoints                  201, with its "secret" (shown only here)
 *   GET    /v1/webhook-endpoints                  a page of them, in id order
 *   GET    /v1/webhook-endpoints/{id}
 *   PATCH  /v1/webhook-endpoints/{id}             url, events, description, status
 *   DELETE /v1/webhook-endpoints/{id}             204; soft: its waiting messages never go
 *   GET    /v1/webhook-endpoints/{id}/deliveries  its attempts, newest first, in pages
 *
 * JSON in → domain (domain/webhooks.h) → JSON out. A URL given (POST, PATCH)
 * is resolved first, without blocking the loop (uv_getaddrinfo), and refused
 * (400 naming url) when any address it resolves to is loopback, link-local
 * or private, unless the webhook_allow_private setting allows them; the
 * delivery worker checks every connection again.
 */
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include "domain/webhooks.h"
#include "http/fields.h"
#include "http/routes.h"
#include "io/address.h"
#include "slotd/alloc.h"

static const char *const create_fields[] = {"url", "events", "description", NULL};
static const char *const patch_fields[] = {"url", "events", "description", "status", NULL};

/* A request's input, kept while its URL resolves; the secret of a new endpoint. */
typedef struct {
    domain_webhook_input_t input;
    eng_id_t id; /* PATCH */
    bool creating;
    char secret[DOMAIN_WEBHOOK_SECRET_SIZE];
} endpoint_state_t;

/* A name resolution in flight; freed by its callback, which a cancel only silences. */
typedef struct {
    uv_getaddrinfo_t req;
    http_ctx_t *ctx;
    bool cancelled;
} resolution_t;

static json_t *parsed(const char *answer)
{
    return json_loads(answer, JSON_DECODE_ANY, NULL);
}

/* A list of rendered answers as a JSON array, or NULL when one does not parse. */
static json_t *answers_json(const char *const *answers, size_t count)
{
    json_t *list = json_array();
    bool ok = true;
    for (size_t i = 0; i < count && ok; i++)
        ok = json_array_append_new(list, parsed(answers[i])) == 0;
    if (!ok) {
        json_decref(list);
        list = NULL;
    }
    return list;
}

static void respond_endpoint(http_ctx_t *ctx, int status, int error,
                             const store_webhook_endpoint_t *endpoint)
{
    json_t *body;
    if (error)
        http_respond_store_error(ctx, error, "webhook endpoint");
    else if ((body = http_rendered(ctx, parsed(endpoint->answer), "webhook endpoint")) != NULL)
        http_respond(ctx, status, body);
}

static void on_created(int error, const store_webhook_endpoint_t *endpoint, void *arg)
{
    http_ctx_t *ctx = arg;
    endpoint_state_t *st = ctx->state;
    json_t *body;
    http_wait_end(ctx);
    if (error) {
        http_respond_store_error(ctx, error, "organization");
    } else if ((body = http_rendered(ctx, parsed(endpoint->answer), "webhook endpoint")) != NULL) {
        json_object_set_new(body, "secret", json_string(st->secret));
        http_respond(ctx, 201, body);
    }
    http_wait_release(ctx);
}

static void on_got(int error, const store_webhook_endpoint_t *endpoint, void *arg)
{
    http_ctx_t *ctx = arg;
    http_wait_end(ctx);
    respond_endpoint(ctx, 200, error, endpoint);
    http_wait_release(ctx);
}

/* The URL is acceptable: the domain checks the rest and writes. */
static void write_endpoint(http_ctx_t *ctx)
{
    endpoint_state_t *st = ctx->state;
    domain_error_t error;
    if (st->creating)
        http_await(ctx,
                   domain_webhooks_create(http_pool(ctx), http_secret_key(ctx), &ctx->organization,
                                          &st->input, st->secret, on_created, ctx, &error),
                   &error);
    else
        http_await(ctx,
                   domain_webhooks_update(http_pool(ctx), &ctx->organization, &st->id, &st->input,
                                          on_got, ctx, &error),
                   &error);
}

static void refuse_private(http_ctx_t *ctx)
{
    http_respond_invalid(ctx, "url",
                         "url resolves to a loopback, link-local or private address; webhooks go "
                         "only to public addresses (unless webhook_allow_private is set).");
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    resolution_t *r = req->data;
    http_ctx_t *ctx = r->ctx;
    bool cancelled = r->cancelled;
    bool public = status == 0 && res != NULL;
    for (struct addrinfo *a = res; a && public; a = a->ai_next)
    public = io_address_public(a->ai_addr);
    uv_freeaddrinfo(res);
    free(r);
    if (cancelled)
        return;
    http_wait_end(ctx);
    if (status != 0)
        http_respond_invalid(ctx, "url", "url's host name does not resolve.");
    else if (!public)
        refuse_private(ctx);
    else
        write_endpoint(ctx);
    http_wait_release(ctx);
}

static void cancel_resolution(void *operation)
{
    resolution_t *r = operation;
    r->cancelled = true;
    uv_cancel((uv_req_t *)&r->req); /* its callback still runs, and frees it */
}

/* Resolves the URL's host unless private addresses are allowed, then writes. */
static void check_then_write(http_ctx_t *ctx)
{
    endpoint_state_t *st = ctx->state;
    store_webhook_write_t write;
    char *events, host[256];
    domain_error_t error;
    if (domain_webhook_check(&st->input, st->creating, &write, &events, &error) != 0) {
        http_respond_domain_error(ctx, &error);
        return;
    }
    free(events);
    if (write.url == NULL || http_webhook_allow_private(ctx)) {
        write_endpoint(ctx);
        return;
    }
    if (!domain_webhook_url_host(write.url, host, sizeof(host))) {
        http_respond_invalid(ctx, "url", "url must name a host.");
        return;
    }
    resolution_t *r = slotd_calloc(1, sizeof(*r));
    r->ctx = ctx;
    r->req.data = r;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    if (uv_getaddrinfo(http_loop(ctx), &r->req, on_resolved, host, NULL, &hints) != 0) {
        free(r);
        http_respond_invalid(ctx, "url", "url's host name does not resolve.");
        return;
    }
    http_wait(ctx, r, cancel_resolution, NULL);
}

/* The events as received: an array of texts (DOMAIN_MALFORMED: not one). */
static void decode_events(const json_t *value, domain_webhook_input_t *input)
{
    input->events_given = http_received(value, json_is_array(value));
    if (input->events_given != DOMAIN_GIVEN)
        return;
    size_t i;
    json_t *item;
    input->event_count = json_array_size(value);
    json_array_foreach(value, i, item)
    {
        if (!json_is_string(item)) {
            input->events_given = DOMAIN_MALFORMED;
            return;
        }
        if (i < DOMAIN_WEBHOOK_EVENTS_MAX)
            input->events[i] = json_string_value(item);
    }
}

static endpoint_state_t *decode(http_ctx_t *ctx, const char *const *fields, bool creating)
{
    if (!http_body_object(ctx) || !http_fields_known(ctx, ctx->body, fields))
        return NULL;
    endpoint_state_t *st = slotd_calloc(1, sizeof(*st));
    ctx->state = st;
    ctx->free_state = free;
    st->creating = creating;
    st->input.url = http_text_of(ctx->body, "url");
    st->input.description = http_text_of(ctx->body, "description");
    st->input.status = http_text_of(ctx->body, "status");
    decode_events(json_object_get(ctx->body, "events"), &st->input);
    return st;
}

void http_webhook_endpoints_create(http_ctx_t *ctx)
{
    if (decode(ctx, create_fields, true))
        check_then_write(ctx);
}

void http_webhook_endpoints_patch(http_ctx_t *ctx)
{
    char id_text[37];
    eng_id_t id;
    endpoint_state_t *st;
    if (http_path_id(ctx, 0, "webhook endpoint", id_text, &id) &&
        (st = decode(ctx, patch_fields, false)) != NULL) {
        st->id = id;
        check_then_write(ctx);
    }
}

static void on_page(int error, const store_webhook_endpoint_t *items, size_t count, bool more,
                    void *arg)
{
    http_ctx_t *ctx = arg;
    http_wait_end(ctx);
    if (error) {
        http_respond_store_error(ctx, error, "webhook endpoint");
    } else {
        const char **answers = slotd_calloc(count ? count : 1, sizeof(*answers));
        for (size_t i = 0; i < count; i++)
            answers[i] = items[i].answer;
        http_respond_items(ctx, answers_json(answers, count), more ? &items[count - 1].id : NULL,
                           "webhook endpoint");
        free(answers);
    }
    http_wait_release(ctx);
}

static store_operation_t *start_list(http_ctx_t *ctx, const eng_id_t *cursor, int limit,
                                     domain_error_t *error)
{
    return domain_started(store_webhook_endpoints_list(http_pool(ctx), &ctx->organization, cursor,
                                                       limit, on_page, ctx),
                          error);
}

void http_webhook_endpoints_list(http_ctx_t *ctx)
{
    http_await_page(ctx, start_list);
}

void http_webhook_endpoints_get(http_ctx_t *ctx)
{
    char id_text[37];
    eng_id_t id;
    domain_error_t error;
    if (http_path_id(ctx, 0, "webhook endpoint", id_text, &id))
        http_await(ctx,
                   domain_started(store_webhook_endpoints_get(http_pool(ctx), &ctx->organization,
                                                              &id, on_got, ctx),
                                  &error),
                   &error);
}

static void on_deleted(int error, void *arg)
{
    http_ctx_t *ctx = arg;
    http_wait_end(ctx);
    if (error)
        http_respond_store_error(ctx, error, "webhook endpoint");
    else
        http_respond_empty(ctx);
    http_wait_release(ctx);
}

void http_webhook_endpoints_delete(http_ctx_t *ctx)
{
    char id_text[37];
    eng_id_t id;
    domain_error_t error;
    if (http_path_id(ctx, 0, "webhook endpoint", id_text, &id))
        http_await(ctx,
                   domain_started(store_webhook_endpoints_delete(http_pool(ctx), &ctx->organization,
                                                                 &id, on_deleted, ctx),
                                  &error),
                   &error);
}

/* {"items","next_cursor"}: the cursor is the page's last delivery's number. */
static void respond_deliveries(http_ctx_t *ctx, const char *const *answers, size_t count,
                               int64_t next)
{
    json_t *list = answers_json(answers, count);
    char cursor[24];
    snprintf(cursor, sizeof(cursor), "%lld", (long long)next);
    json_t *body = list ? json_pack("{s:o, s:o}", "items", list, "next_cursor",
                                    next ? json_string(cursor) : json_null())
                        : NULL;
    if ((body = http_rendered(ctx, body, "deliveries")) != NULL)
        http_respond(ctx, 200, body);
}

static void on_deliveries(int error, const char *const *answers, size_t count, int64_t next,
                          void *arg)
{
    http_ctx_t *ctx = arg;
    http_wait_end(ctx);
    if (!error)
        respond_deliveries(ctx, answers, count, next);
    else
        http_respond_store_error(ctx, error, "webhook endpoint");
    http_wait_release(ctx);
}

/* ?limit= (1 to 1000, default 100) and ?cursor= (a next_cursor: a delivery's number). */
static bool deliveries_page(http_ctx_t *ctx, int *limit, int64_t *cursor)
{
    char buffer[64];
    const char *v = http_query_param(ctx, "limit", buffer, sizeof(buffer));
    char *end;
    *limit = 100;
    *cursor = 0;
    if (v) {
        long n = strtol(v, &end, 10);
        if (*v == 0 || *end || n < 1 || n > 1000) {
            http_respond_invalid(ctx, "limit", "limit must be a whole number from 1 to 1000.");
            return false;
        }
        *limit = (int)n;
    }
    if ((v = http_query_param(ctx, "cursor", buffer, sizeof(buffer))) != NULL) {
        long long n = strtoll(v, &end, 10);
        if (*v == 0 || *end || n < 1) {
            http_respond_invalid(ctx, "cursor",
                                 "cursor must be a next_cursor from an earlier page.");
            return false;
        }
        *cursor = n;
    }
    return true;
}

void http_webhook_endpoints_deliveries(http_ctx_t *ctx)
{
    char id_text[37];
    eng_id_t id;
    int limit;
    int64_t cursor;
    domain_error_t error;
    if (http_path_id(ctx, 0, "webhook endpoint", id_text, &id) &&
        deliveries_page(ctx, &limit, &cursor))
        http_await(ctx,
                   domain_started(store_webhook_deliveries(http_pool(ctx), &ctx->organization, &id,
                                                           cursor, limit, on_deliveries, ctx),
                                  &error),
                   &error);
}
