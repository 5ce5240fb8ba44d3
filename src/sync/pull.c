/*
 * One pull of a calendar connection (see pull.h): token refresh, then the
 * provider's pages, each request started from the previous one's callback.
 */
#include "sync/pull.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slotd/alloc.h"
#include "slotd/codec.h"

#define REFRESH_MARGIN_SECONDS 60 /* a token this close to expiry is refreshed first */
#define GOOGLE_PAGE_SIZE "250"
#define GRAPH_PAGE_SIZE "100"
#define CALCOM_PAGE_SIZE "100"
#define CALCOM_API_VERSION "2024-08-13"
#define GRAPH_SCOPE "https://graph.microsoft.com/Calendars.ReadWrite offline_access"

struct sync_pull {
    io_http_t *http;
    sync_pull_input_t in;
    char *owned[12]; /* copies of the input's strings */
    sync_pull_done_cb done;
    void *arg;
    io_http_request_t *request;
    char *access_token, *refresh_token;
    int64_t access_expires;
    bool refreshed; /* the token was refreshed after a 401: a second 401 is final */
    bool restarted; /* a full listing after the provider dropped the sync state */
    bool full;
    char *page; /* the next page's token, link or skip */
    char *sync_state;
    sync_event_t *events;
    size_t count, capacity, skipped;
    int pages, requests;
    bool starting, start_failed; /* inside sync_pull_start: a refusal is its NULL, no callback */
    uv_loop_t *loop;
    uint64_t started_ms;
};

static bool oauth(const sync_pull_t *p)
{
    return p->in.provider != SYNC_CALCOM;
}

char *sync_url_escape(const char *text)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(text);
    char *out = slotd_malloc(3 * n + 1), *o = out;
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        bool plain = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
                     (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || *c == '.' || *c == '~';
        if (plain) {
            *o++ = (char)*c;
        } else {
            *o++ = '%';
            *o++ = hex[*c >> 4];
            *o++ = hex[*c & 15];
        }
    }
    *o = 0;
    return out;
}

static void result_free_events(sync_pull_t *p)
{
    for (size_t i = 0; i < p->count; i++) {
        free(p->events[i].id);
        free(p->events[i].summary);
        free(p->events[i].booking_id);
    }
    free(p->events);
    p->events = NULL;
    p->count = p->capacity = 0;
}

static void pull_free(sync_pull_t *p)
{
    result_free_events(p);
    for (size_t i = 0; i < sizeof(p->owned) / sizeof(p->owned[0]); i++)
        free(p->owned[i]);
    free(p->access_token);
    free(p->refresh_token);
    free(p->page);
    free(p->sync_state);
    free(p);
}

void sync_pull_cancel(sync_pull_t *pull)
{
    if (pull->request)
        io_http_cancel(pull->request);
    pull_free(pull);
}

/* Ends the pull: `done` with what it has, then frees it. */
static void finish(sync_pull_t *p, int error, int64_t retry_after, const char *format,
                   const char *detail)
{
    sync_pull_result_t r = {.error = error,
                            .retry_after = retry_after,
                            .full = p->full,
                            .events = error ? NULL : p->events,
                            .count = error ? 0 : p->count,
                            .skipped = p->skipped,
                            .sync_state = error ? NULL : p->sync_state,
                            .access_token = p->access_token,
                            .access_expires = p->access_expires,
                            .refresh_token = p->refresh_token,
                            .requests = p->requests};
    if (format)
        snprintf(r.message, sizeof(r.message), format, detail ? detail : "");
    p->done(&r, p->arg);
    pull_free(p);
}

/* The provider's own words about an error answer, for last_error: Google's and Graph's
 * error.message, or an OAuth error and its description; never more than fits. */
static void provider_says(const io_http_response_t *res, char *out, size_t size)
{
    json_t *root = json_loadb(res->body, res->body_len, 0, NULL);
    const json_t *error = json_object_get(root, "error");
    const char *what = json_string_value(json_object_get(error, "message"));
    const char *code = json_string_value(json_object_get(error, "code"));
    if (json_is_string(error)) {
        code = json_string_value(error);
        what = json_string_value(json_object_get(root, "error_description"));
    }
    snprintf(out, size, "HTTP %ld%s%s%s%s", res->status, code ? " " : "", code ? code : "",
             what ? ": " : "", what ? what : "");
    json_decref(root);
}

/* Google's error reason (error.errors[0].reason) or Graph's error.code, or "". */
static const char *error_reason(json_t *root)
{
    const json_t *error = json_object_get(root, "error");
    const char *reason = json_string_value(
        json_object_get(json_array_get(json_object_get(error, "errors"), 0), "reason"));
    if (reason == NULL)
        reason = json_string_value(json_object_get(error, "code"));
    return reason ? reason : "";
}

int64_t sync_retry_after(const io_http_response_t *res)
{
    const char *value = io_http_response_header(res, "retry-after");
    long long seconds = value ? strtoll(value, NULL, 10) : 0;
    return seconds > 0 && seconds < 86400 ? seconds : 0;
}

static bool throttled(const io_http_response_t *res, const char *reason)
{
    return res->status == 429 || res->status >= 500 ||
           (res->status == 403 && (strcmp(reason, "rateLimitExceeded") == 0 ||
                                   strcmp(reason, "userRateLimitExceeded") == 0 ||
                                   strcmp(reason, "ApplicationThrottled") == 0));
}

static void send_request(sync_pull_t *p, const char *method, const char *url,
                         const char *const *headers, size_t header_count, const char *body,
                         io_http_done_cb cb)
{
    io_http_request_options_t options = {.method = method,
                                         .url = url,
                                         .headers = headers,
                                         .header_count = header_count,
                                         .body = body,
                                         .body_len = body ? strlen(body) : 0,
                                         .timeout_ms = p->in.timeout_ms,
                                         .max_response_bytes = SYNC_PULL_MAX_PAGE_BYTES};
    p->requests++;
    p->request = io_http_start(p->http, &options, cb, p);
    if (p->request == NULL && p->starting)
        p->start_failed = true;
    else if (p->request == NULL)
        finish(p, SYNC_E_NETWORK, 0, "the HTTP client refused the request", NULL);
}

static void list_page(sync_pull_t *p);
static void on_token(const io_http_response_t *res, void *arg);

/* The refresh_token grant (form-encoded, as both providers take it). */
static void refresh(sync_pull_t *p)
{
    char *token = sync_url_escape(p->in.refresh_token ? p->in.refresh_token : "");
    char *id = sync_url_escape(p->in.client_id ? p->in.client_id : "");
    char *secret = sync_url_escape(p->in.client_secret ? p->in.client_secret : "");
    char *scope = sync_url_escape(GRAPH_SCOPE);
    size_t size = strlen(token) + strlen(id) + strlen(secret) + strlen(scope) + 128;
    char *body = slotd_malloc(size);
    snprintf(body, size,
             "grant_type=refresh_token&refresh_token=%s&client_id=%s&client_secret=%s%s%s", token,
             id, secret, p->in.provider == SYNC_MICROSOFT ? "&scope=" : "",
             p->in.provider == SYNC_MICROSOFT ? scope : "");
    char *url;
    if (p->in.provider == SYNC_MICROSOFT) {
        char *tenant = sync_url_escape(p->in.tenant ? p->in.tenant : "common");
        size_t n = strlen(p->in.token_url) + strlen(tenant) + 32;
        url = slotd_malloc(n);
        snprintf(url, n, "%s/%s/oauth2/v2.0/token", p->in.token_url, tenant);
        free(tenant);
    } else {
        url = slotd_strdup(p->in.token_url);
    }
    static const char *const headers[] = {"Content-Type: application/x-www-form-urlencoded",
                                          "Accept: application/json"};
    send_request(p, "POST", url, headers, 2, body, on_token);
    free(url);
    free(body);
    free(token);
    free(id);
    free(secret);
    free(scope);
}

static void on_token(const io_http_response_t *res, void *arg)
{
    sync_pull_t *p = arg;
    p->request = NULL;
    char said[200];
    if (res->error) {
        finish(p, SYNC_E_NETWORK, 0, "token endpoint: %s", res->error_text);
        return;
    }
    json_t *root = json_loadb(res->body, res->body_len, 0, NULL);
    const char *error = json_string_value(json_object_get(root, "error"));
    const char *token = json_string_value(json_object_get(root, "access_token"));
    provider_says(res, said, sizeof(said));
    if (res->status == 200 && token && token[0]) {
        free(p->access_token);
        p->access_token = slotd_strdup(token);
        json_int_t expires = json_integer_value(json_object_get(root, "expires_in"));
        p->access_expires = p->in.now + (expires > 0 ? expires : 3600);
        const char *rotated = json_string_value(json_object_get(root, "refresh_token"));
        if (rotated && rotated[0] &&
            (p->in.refresh_token == NULL || strcmp(rotated, p->in.refresh_token) != 0)) {
            free(p->refresh_token);
            p->refresh_token = slotd_strdup(rotated);
        }
        json_decref(root);
        if (p->in.token_only)
            finish(p, SYNC_OK, 0, NULL, NULL);
        else
            list_page(p);
        return;
    }
    bool refused =
        error && (strcmp(error, "invalid_grant") == 0 || strcmp(error, "invalid_client") == 0 ||
                  strcmp(error, "unauthorized_client") == 0);
    json_decref(root);
    if (refused)
        finish(p, SYNC_E_AUTH, 0, "the provider refused the credentials (%s)", said);
    else if (res->status == 429 || res->status >= 500)
        finish(p, SYNC_E_RATE, sync_retry_after(res), "token endpoint: %s", said);
    else
        finish(p, SYNC_E_PROVIDER, 0, "token endpoint: %s", said);
}

static void on_page(const io_http_response_t *res, void *arg);

/* The URL of the next page to read (caller frees). */
static char *page_url(sync_pull_t *p)
{
    const sync_pull_input_t *in = &p->in;
    char from[CODEC_INSTANT_MAX], to[CODEC_INSTANT_MAX];
    sync_utc_text(in->window_start, true, from);
    sync_utc_text(in->window_end, true, to);
    char *url;
    size_t n;
    if (in->provider == SYNC_GOOGLE) {
        char *calendar = sync_url_escape(in->calendar_id ? in->calendar_id : "primary");
        char *state = sync_url_escape(!p->full && in->sync_state ? in->sync_state : "");
        char *page = sync_url_escape(p->page ? p->page : "");
        n = strlen(in->api_url) + strlen(calendar) + strlen(state) + strlen(page) + 160;
        url = slotd_malloc(n);
        snprintf(url, n, "%s/calendars/%s/events?singleEvents=true&maxResults=%s%s%s%s%s%s%s",
                 in->api_url, calendar, GOOGLE_PAGE_SIZE,
                 p->full ? "&timeMin=" : "&syncToken=", p->full ? from : state,
                 p->full ? "&timeMax=" : "", p->full ? to : "", p->page ? "&pageToken=" : "", page);
        free(calendar);
        free(state);
        free(page);
        return url;
    }
    if (in->provider == SYNC_MICROSOFT) {
        /* Graph's links are followed only to the configured Graph: the token goes with them */
        const char *link = p->page ? p->page : !p->full ? in->sync_state : NULL;
        if (link && strncmp(link, in->api_url, strlen(in->api_url)) == 0)
            return slotd_strdup(link);
        if (link)
            return NULL;
        char *calendar = in->calendar_id ? sync_url_escape(in->calendar_id) : NULL;
        n = strlen(in->api_url) + (calendar ? strlen(calendar) : 0) + 160;
        url = slotd_malloc(n);
        snprintf(url, n, "%s/me%s%s/calendarView/delta?startDateTime=%s&endDateTime=%s",
                 in->api_url, calendar ? "/calendars/" : "", calendar ? calendar : "", from, to);
        free(calendar);
        return url;
    }
    n = strlen(in->api_url) + 160;
    url = slotd_malloc(n);
    snprintf(url, n, "%s/bookings?take=%s&skip=%s&afterStart=%s&beforeEnd=%s", in->api_url,
             CALCOM_PAGE_SIZE, p->page ? p->page : "0", from, to);
    return url;
}

static void list_page(sync_pull_t *p)
{
    if (p->pages >= SYNC_PULL_MAX_PAGES) {
        finish(p, SYNC_E_LIMIT, 0, "more than %s pages in one pull", "1000");
        return;
    }
    const char *secret = p->in.provider == SYNC_CALCOM ? p->in.api_key : p->access_token;
    size_t n = strlen(secret ? secret : "") + 32;
    char *authorization = slotd_malloc(n);
    snprintf(authorization, n, "Authorization: Bearer %s", secret ? secret : "");
    const char *headers[4] = {authorization, "Accept: application/json"};
    size_t count = 2;
    if (p->in.provider == SYNC_MICROSOFT) {
        headers[count++] = "Prefer: outlook.timezone=\"UTC\"";
        headers[count++] = "Prefer: odata.maxpagesize=" GRAPH_PAGE_SIZE;
    } else if (p->in.provider == SYNC_CALCOM) {
        headers[count++] = "cal-api-version: " CALCOM_API_VERSION;
    }
    char *url = page_url(p);
    if (url == NULL) {
        free(authorization);
        finish(p, SYNC_E_PROVIDER, 0, "a link to another host than %s", p->in.api_url);
        return;
    }
    if (uv_now(p->loop) - p->started_ms > SYNC_PULL_MAX_MS) {
        free(url);
        free(authorization);
        finish(p, SYNC_E_LIMIT, 0, "a pull may take %s at most", "8 minutes");
        return;
    }
    send_request(p, "GET", url, headers, count, NULL, on_page);
    free(url);
    free(authorization);
}

/* The provider dropped the sync state: read the whole window again, once. */
static bool state_gone(const sync_pull_t *p, const io_http_response_t *res, const char *reason)
{
    if (p->in.provider == SYNC_CALCOM)
        return false;
    return res->status == 410 ||
           (p->in.provider == SYNC_MICROSOFT && (res->status == 400 || res->status == 404) &&
            (strcmp(reason, "syncStateNotFound") == 0 || strcmp(reason, "resyncRequired") == 0 ||
             strcmp(reason, "SyncStateNotFound") == 0));
}

static bool take_page(sync_pull_t *p, const io_http_response_t *res)
{
    sync_page_t page;
    char error[128];
    if (sync_page_parse(p->in.provider, res->body, res->body_len, p->in.zone, &page, error,
                        sizeof(error)) != 0) {
        finish(p, SYNC_E_PROVIDER, 0, "unreadable page: %s", error);
        return false;
    }
    if (p->count + page.count > SYNC_PULL_MAX_EVENTS) {
        sync_page_free(&page);
        finish(p, SYNC_E_LIMIT, 0, "more than %s events in one pull", "50000");
        return false;
    }
    p->events =
        slotd_grow(p->events, &p->capacity, p->count + page.count + 1, sizeof(sync_event_t));
    memcpy(p->events + p->count, page.events, page.count * sizeof(sync_event_t));
    p->count += page.count;
    p->skipped += page.skipped;
    free(page.events); /* the events' strings moved into the pull */
    free(p->page);
    p->page = page.next_page;
    if (page.sync_state) {
        free(p->sync_state);
        p->sync_state = page.sync_state;
    }
    p->pages++;
    return true;
}

static void on_page(const io_http_response_t *res, void *arg)
{
    sync_pull_t *p = arg;
    p->request = NULL;
    char said[200];
    if (res->error) {
        finish(p, SYNC_E_NETWORK, 0, "%s", res->error_text);
        return;
    }
    if (res->status == 200) {
        if (!take_page(p, res))
            return;
        if (p->page)
            list_page(p);
        else
            finish(p, SYNC_OK, 0, NULL, NULL);
        return;
    }
    json_t *root = json_loadb(res->body, res->body_len, 0, NULL);
    char reason[64];
    snprintf(reason, sizeof(reason), "%s", error_reason(root));
    json_decref(root);
    provider_says(res, said, sizeof(said));
    if (res->status == 401 && oauth(p) && !p->refreshed) {
        p->refreshed = true;
        refresh(p);
    } else if (res->status == 401 || (res->status == 403 && p->in.provider == SYNC_CALCOM)) {
        finish(p, SYNC_E_AUTH, 0, "the provider refused the credentials (%s)", said);
    } else if (state_gone(p, res, reason) && !p->restarted) {
        p->restarted = p->full = true;
        p->pages = 0;
        p->skipped = 0;
        result_free_events(p);
        free(p->page);
        p->page = NULL;
        list_page(p);
    } else if (throttled(res, reason)) {
        finish(p, SYNC_E_RATE, sync_retry_after(res), "%s", said);
    } else {
        finish(p, SYNC_E_PROVIDER, 0, "%s", said);
    }
}

sync_pull_t *sync_pull_start(io_http_t *http, const sync_pull_input_t *input,
                             sync_pull_done_cb done, void *arg)
{
    sync_pull_t *p = slotd_calloc(1, sizeof(*p));
    p->http = http;
    p->in = *input;
    p->done = done;
    p->arg = arg;
    const char **strings[] = {&p->in.api_url,       &p->in.token_url,    &p->in.client_id,
                              &p->in.client_secret, &p->in.tenant,       &p->in.refresh_token,
                              &p->in.api_key,       &p->in.access_token, &p->in.calendar_id,
                              &p->in.sync_state};
    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
        if (*strings[i])
            *strings[i] = p->owned[i] = slotd_strdup(*strings[i]);
    p->full = p->in.sync_state == NULL || p->in.provider == SYNC_CALCOM;
    if (p->in.access_token) {
        p->access_token = slotd_strdup(p->in.access_token);
        p->access_expires = p->in.access_expires;
    }
    bool need_token = oauth(p) && (p->access_token == NULL ||
                                   p->access_expires <= p->in.now + REFRESH_MARGIN_SECONDS);
    if (p->in.api_url == NULL || (oauth(p) && p->in.token_url == NULL)) {
        pull_free(p);
        return NULL;
    }
    p->loop = io_http_loop(http);
    p->started_ms = uv_now(p->loop);
    p->starting = true;
    if (need_token)
        refresh(p);
    else if (p->in.token_only)
        p->start_failed = true; /* nothing to do: the caller checks before asking */
    else
        list_page(p);
    p->starting = false;
    if (p->start_failed) {
        pull_free(p);
        return NULL;
    }
    return p;
}
