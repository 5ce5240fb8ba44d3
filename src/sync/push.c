/*
 * Pushing a booking to a connected calendar (see push.h).
 */
#include "sync/push.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "slotd/alloc.h"
#include "slotd/codec.h"
#include "sync/pull.h"

#define REFRESH_MARGIN_SECONDS 60
#define CALCOM_API_VERSION "2024-08-13"

/* ACT_FIND: a Cal.com booking that an earlier attempt may have made without hearing the answer
 * (a crash, a timeout) is looked for by its metadata before anything else is done. */
typedef enum { ACT_NONE, ACT_UPSERT, ACT_CREATE, ACT_DELETE, ACT_RESCHEDULE, ACT_FIND } act_t;

struct sync_push {
    io_http_t *http;
    const sync_settings_t *settings;
    sync_provider_t provider;
    eng_id_t booking;
    char *calendar_id, *credentials, *external_id, *summary, *customer, *email, *zone;
    char *access_token, *refresh_token;
    int64_t access_expires, start, end, external_start, event_type, now;
    bool has_external_start, refreshed, new_token, no_credentials, present;
    int sent; /* requests made to the calendar */
    act_t act;
    io_http_request_t *request;
    sync_pull_t *token;
    uv_timer_t *later; /* defers a push with nothing to send, so `done` never runs inside start */
    char result_id[1100];
    void (*done)(const sync_push_result_t *, void *);
    void *arg;
};

void sync_google_event_id(const eng_id_t *booking, char out[41])
{
    static const char hex[] = "0123456789abcdef";
    memcpy(out, "slotd", 5);
    for (int i = 0; i < 16; i++) {
        out[5 + 2 * i] = hex[booking->bytes[i] >> 4];
        out[6 + 2 * i] = hex[booking->bytes[i] & 15];
    }
    out[37] = 0;
}

static char *copy(const char *text)
{
    return text ? slotd_strdup(text) : NULL;
}

static void on_timer_closed(uv_handle_t *handle)
{
    free(handle);
}

static void push_free(sync_push_t *p)
{
    if (p->later)
        uv_close((uv_handle_t *)p->later, on_timer_closed);
    free(p->calendar_id);
    if (p->credentials)
        memset(p->credentials, 0, strlen(p->credentials));
    free(p->credentials);
    free(p->external_id);
    free(p->summary);
    free(p->customer);
    free(p->email);
    free(p->zone);
    if (p->access_token)
        memset(p->access_token, 0, strlen(p->access_token));
    free(p->access_token);
    if (p->refresh_token)
        memset(p->refresh_token, 0, strlen(p->refresh_token));
    free(p->refresh_token);
    free(p);
}

void sync_push_cancel(sync_push_t *p)
{
    if (p->request)
        io_http_cancel(p->request);
    if (p->token)
        sync_pull_cancel(p->token);
    push_free(p);
}

static void finish_as(sync_push_t *p, int error, bool revoked, const char *message)
{
    sync_push_result_t r = {.error = error,
                            .revoked = revoked,
                            .start = p->start,
                            .access_token = p->new_token ? p->access_token : NULL,
                            .access_expires = p->access_expires,
                            .refresh_token = p->refresh_token};
    if (!error && (p->act == ACT_UPSERT || p->act == ACT_CREATE || p->act == ACT_RESCHEDULE)) {
        r.set_mapping = true;
        r.external_id = p->result_id;
    } else if (!error && p->act == ACT_DELETE) {
        r.clear_mapping = true;
    }
    if (message)
        snprintf(r.message, sizeof(r.message), "%s", message);
    p->done(&r, p->arg);
    push_free(p);
}

static void finish(sync_push_t *p, int error, const char *message)
{
    finish_as(p, error, false, message);
}

static void act(sync_push_t *p);

static void on_token(const sync_pull_result_t *res, void *arg)
{
    sync_push_t *p = arg;
    p->token = NULL;
    if (res->error) {
        /* the token endpoint's invalid_grant: the grant is revoked */
        finish_as(p, res->error, res->error == SYNC_E_AUTH, res->message);
        return;
    }
    free(p->access_token);
    p->access_token = copy(res->access_token);
    p->access_expires = res->access_expires;
    p->new_token = true;
    if (res->refresh_token) {
        free(p->refresh_token);
        p->refresh_token = copy(res->refresh_token);
    }
    act(p);
}

/* A fresh access token (`force`: even if the kept one looks good), then act. */
static void token_then_act(sync_push_t *p, bool force)
{
    bool fresh = p->access_token && p->access_expires > p->now + REFRESH_MARGIN_SECONDS;
    if (p->provider == SYNC_CALCOM || (fresh && !force)) {
        act(p);
        return;
    }
    json_t *c = json_loads(p->credentials ? p->credentials : "{}", 0, NULL);
    const sync_settings_t *s = p->settings;
    bool google = p->provider == SYNC_GOOGLE;
    const char *id = json_string_value(json_object_get(c, "client_id"));
    const char *secret = json_string_value(json_object_get(c, "client_secret"));
    sync_pull_input_t in = {
        .provider = p->provider,
        .api_url = google ? s->google_api_url : s->microsoft_graph_url,
        .token_url = google ? s->google_token_url : s->microsoft_login_url,
        .client_id = id       ? id
                     : google ? s->google_client_id
                              : s->microsoft_client_id,
        .client_secret = secret   ? secret
                         : google ? s->google_client_secret
                                  : s->microsoft_client_secret,
        .tenant = json_string_value(json_object_get(c, "tenant")),
        .refresh_token = p->refresh_token ? p->refresh_token
                                          : json_string_value(json_object_get(c, "refresh_token")),
        .now = p->now,
        .token_only = true};
    p->token = sync_pull_start(p->http, &in, on_token, p);
    json_decref(c);
    if (p->token == NULL)
        finish(p, SYNC_E_PROVIDER, "the provider's token settings are not usable");
}

/* ---- the requests ---------------------------------------------------------------------------- */

static void on_answer(const io_http_response_t *res, void *arg);

static void send_request(sync_push_t *p, const char *method, const char *url, json_t *body)
{
    if (++p->sent > SYNC_PUSH_MAX_REQUESTS) {
        json_decref(body);
        finish(p, SYNC_E_PROVIDER, "push: the calendar's answers go round in circles");
        return;
    }
    char authorization[4200], said[64];
    const char *secret = p->provider == SYNC_CALCOM ? NULL : p->access_token;
    json_t *c = p->provider == SYNC_CALCOM
                    ? json_loads(p->credentials ? p->credentials : "{}", 0, NULL)
                    : NULL;
    if (c)
        secret = json_string_value(json_object_get(c, "api_key"));
    snprintf(authorization, sizeof(authorization), "Authorization: Bearer %s",
             secret ? secret : "");
    json_decref(c);
    snprintf(said, sizeof(said), "cal-api-version: %s", CALCOM_API_VERSION);
    const char *headers[4] = {authorization, "Accept: application/json",
                              "Content-Type: application/json", said};
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    io_http_request_options_t options = {.method = method,
                                         .url = url,
                                         .headers = headers,
                                         .header_count = p->provider == SYNC_CALCOM ? 4 : 3,
                                         .body = text,
                                         .body_len = text ? strlen(text) : 0,
                                         .timeout_ms = SYNC_PUSH_TIMEOUT_MS};
    p->request = io_http_start(p->http, &options, on_answer, p);
    memset(authorization, 0, sizeof(authorization));
    free(text);
    if (p->request == NULL)
        finish(p, SYNC_E_PROVIDER, "the provider's URL is not usable");
}

static json_t *google_event(const sync_push_t *p, bool with_id)
{
    char start[CODEC_INSTANT_MAX], end[CODEC_INSTANT_MAX], id[41], booking[37];
    sync_utc_text(p->start, true, start);
    sync_utc_text(p->end, true, end);
    sync_google_event_id(&p->booking, id);
    codec_format_uuid(&p->booking, booking);
    json_t *e = json_pack("{s:s, s:{s:s}, s:{s:s}, s:s, s:{s:{s:s}}}", "summary", p->summary,
                          "start", "dateTime", start, "end", "dateTime", end, "transparency",
                          "opaque", "extendedProperties", "private", "slotdBookingId", booking);
    if (with_id)
        json_object_set_new(e, "id", json_string(id));
    /* an event deleted at Google keeps its id as cancelled: made again, it must show */
    json_object_set_new(e, "status", json_string("confirmed"));
    return e;
}

static json_t *graph_event(const sync_push_t *p, bool with_transaction)
{
    char start[CODEC_INSTANT_MAX], end[CODEC_INSTANT_MAX], booking[37], transaction[48];
    sync_utc_text(p->start, false, start);
    sync_utc_text(p->end, false, end);
    codec_format_uuid(&p->booking, booking);
    snprintf(transaction, sizeof(transaction), "slotd-%s", booking);
    json_t *e = json_pack("{s:s, s:{s:s, s:s}, s:{s:s, s:s}, s:s}", "subject", p->summary, "start",
                          "dateTime", start, "timeZone", "UTC", "end", "dateTime", end, "timeZone",
                          "UTC", "showAs", "busy");
    if (with_transaction)
        json_object_set_new(e, "transactionId", json_string(transaction));
    return e;
}

static void act(sync_push_t *p)
{
    const sync_settings_t *s = p->settings;
    char url[2400], event_id[41];
    char *calendar = sync_url_escape(p->calendar_id ? p->calendar_id : "primary");
    char *external = p->external_id ? sync_url_escape(p->external_id) : NULL;
    switch (p->provider) {
    case SYNC_GOOGLE:
        sync_google_event_id(&p->booking, event_id);
        snprintf(p->result_id, sizeof(p->result_id), "%s", event_id);
        if (p->act == ACT_DELETE) {
            snprintf(url, sizeof(url), "%s/calendars/%s/events/%s", s->google_api_url, calendar,
                     external ? external : event_id);
            send_request(p, "DELETE", url, NULL);
        } else if (p->act == ACT_UPSERT) {
            snprintf(url, sizeof(url), "%s/calendars/%s/events/%s", s->google_api_url, calendar,
                     event_id);
            send_request(p, "PUT", url, google_event(p, false));
        } else {
            snprintf(url, sizeof(url), "%s/calendars/%s/events", s->google_api_url, calendar);
            send_request(p, "POST", url, google_event(p, true));
        }
        break;
    case SYNC_MICROSOFT:
        if (p->act == ACT_DELETE || p->act == ACT_UPSERT) {
            snprintf(url, sizeof(url), "%s/me/events/%s", s->microsoft_graph_url,
                     external ? external : "");
            send_request(p, p->act == ACT_DELETE ? "DELETE" : "PATCH", url,
                         p->act == ACT_DELETE ? NULL : graph_event(p, false));
        } else {
            if (p->calendar_id)
                snprintf(url, sizeof(url), "%s/me/calendars/%s/events", s->microsoft_graph_url,
                         calendar);
            else
                snprintf(url, sizeof(url), "%s/me/events", s->microsoft_graph_url);
            send_request(p, "POST", url, graph_event(p, true));
        }
        break;
    case SYNC_CALCOM: {
        char start[CODEC_INSTANT_MAX], booking[37];
        sync_utc_text(p->start, true, start);
        codec_format_uuid(&p->booking, booking);
        if (p->act == ACT_FIND) {
            char *name = sync_url_escape(p->customer);
            snprintf(url, sizeof(url), "%s/bookings?eventTypeIds=%lld&attendeeName=%s&take=100",
                     s->calcom_api_url, (long long)p->event_type, name);
            free(name);
            send_request(p, "GET", url, NULL);
        } else if (p->act == ACT_DELETE) {
            snprintf(url, sizeof(url), "%s/bookings/%s/cancel", s->calcom_api_url, external);
            send_request(
                p, "POST", url,
                json_pack("{s:s}", "cancellationReason", "Cancelled in the clinic's schedule"));
        } else if (p->act == ACT_RESCHEDULE) {
            snprintf(url, sizeof(url), "%s/bookings/%s/reschedule", s->calcom_api_url, external);
            send_request(p, "POST", url, json_pack("{s:s}", "start", start));
        } else {
            json_t *attendee =
                json_pack("{s:s, s:s}", "name", p->customer, "timeZone", p->zone ? p->zone : "UTC");
            if (p->email)
                json_object_set_new(attendee, "email", json_string(p->email));
            snprintf(url, sizeof(url), "%s/bookings", s->calcom_api_url);
            send_request(p, "POST", url,
                         json_pack("{s:s, s:I, s:o, s:{s:s}}", "start", start, "eventTypeId",
                                   (json_int_t)p->event_type, "attendee", attendee, "metadata",
                                   "slotd_booking_id", booking));
        }
        break;
    }
    case SYNC_ICS: /* never pushed to (the outbox leaves feeds out) */
        finish(p, SYNC_E_PROVIDER, "an ICS feed is not pushed to");
        break;
    }
    free(calendar);
    free(external);
}

/* After ACT_FIND: the Cal.com booking an earlier attempt made, if any, is taken as the one
 * (moved or cancelled as the booking now asks); else the push goes on as if none was made. */
static void on_found(sync_push_t *p, const json_t *root)
{
    char booking[37];
    codec_format_uuid(&p->booking, booking);
    const char *uid = NULL;
    int64_t at = 0;
    size_t i;
    const json_t *b;
    json_array_foreach(json_object_get(root, "data"), i, b)
    {
        const char *mark =
            json_string_value(json_object_get(json_object_get(b, "metadata"), "slotd_booking_id"));
        const char *status = json_string_value(json_object_get(b, "status"));
        const char *id = json_string_value(json_object_get(b, "uid"));
        if (mark && strcmp(mark, booking) == 0 && status &&
            (strcmp(status, "accepted") == 0 || strcmp(status, "pending") == 0) && id &&
            strlen(id) < sizeof(p->result_id) &&
            codec_parse_instant(json_string_value(json_object_get(b, "start")), &at) == 0)
            uid = id;
    }
    if (uid == NULL) {
        p->act = p->present ? ACT_CREATE : ACT_NONE;
        if (p->act == ACT_NONE)
            finish(p, 0, NULL);
        else
            act(p);
        return;
    }
    free(p->external_id);
    p->external_id = slotd_strdup(uid);
    snprintf(p->result_id, sizeof(p->result_id), "%s", uid);
    if (p->present && at == p->start) {
        p->act = ACT_CREATE; /* made already: recorded as made */
        finish(p, 0, NULL);
        return;
    }
    p->act = p->present ? ACT_RESCHEDULE : ACT_DELETE;
    act(p);
}

static void on_answer(const io_http_response_t *res, void *arg)
{
    sync_push_t *p = arg;
    p->request = NULL;
    char message[256];
    if (res->error) {
        snprintf(message, sizeof(message), "push: %s", res->error_text);
        finish(p, SYNC_E_NETWORK, message);
        return;
    }
    long status = res->status;
    json_t *root = json_loadb(res->body, res->body_len, 0, NULL);
    bool ok = status >= 200 && status < 300;
    if (ok && p->act == ACT_FIND) {
        on_found(p, root);
        json_decref(root);
        return;
    }
    if (ok && p->act != ACT_DELETE && p->provider != SYNC_GOOGLE) {
        const json_t *data = p->provider == SYNC_CALCOM ? json_object_get(root, "data") : root;
        const char *id =
            json_string_value(json_object_get(data, p->provider == SYNC_CALCOM ? "uid" : "id"));
        if (id && id[0] && strlen(id) < sizeof(p->result_id))
            snprintf(p->result_id, sizeof(p->result_id), "%s", id);
        else if (p->act == ACT_UPSERT && p->external_id)
            snprintf(p->result_id, sizeof(p->result_id), "%s", p->external_id);
        else
            ok = false;
    }
    json_decref(root);
    if (ok) {
        finish(p, 0, NULL);
    } else if (p->act == ACT_DELETE && (status == 404 || status == 410)) {
        finish(p, 0, NULL); /* gone already */
    } else if (p->act == ACT_UPSERT && (status == 404 || status == 410)) {
        p->act = ACT_CREATE; /* the event went meanwhile: make it again */
        act(p);
    } else if (p->act == ACT_CREATE && p->provider == SYNC_GOOGLE && status == 409) {
        p->act = ACT_UPSERT; /* ours already (a retry): update it */
        act(p);
    } else if (status == 401 && p->provider != SYNC_CALCOM && !p->refreshed) {
        p->refreshed = true;
        token_then_act(p, true);
    } else {
        snprintf(message, sizeof(message), "push: HTTP %ld", status);
        /* refused with a token just refreshed, or Cal.com's API key refused: revoked; a 403
         * may be a rate limit or a calendar not writable, and breaks nothing */
        finish_as(p,
                  status == 401 || status == 403   ? SYNC_E_AUTH
                  : status == 429 || status >= 500 ? SYNC_E_RATE
                                                   : SYNC_E_PROVIDER,
                  status == 401, message);
    }
}

/* The push's first step, on the loop's next turn. */
static void on_later(uv_timer_t *timer)
{
    sync_push_t *p = timer->data;
    if (p->no_credentials)
        finish(p, SYNC_E_AUTH, "the stored credentials do not open with this secret_key");
    else if (p->act == ACT_NONE)
        finish(p, 0, NULL);
    else
        token_then_act(p, false);
}

sync_push_t *sync_push_start(uv_loop_t *loop, io_http_t *http, const sync_settings_t *settings,
                             const store_push_item_t *item, int64_t now,
                             void (*done)(const sync_push_result_t *, void *), void *arg)
{
    sync_push_t *p = slotd_calloc(1, sizeof(*p));
    p->http = http;
    p->settings = settings;
    p->provider = sync_provider_named(item->provider);
    p->booking = item->booking;
    p->calendar_id = copy(item->calendar_id);
    p->credentials = copy(item->credentials);
    p->external_id = copy(item->external_id);
    p->customer = copy(item->customer_name);
    p->email = copy(item->customer_email);
    p->zone = copy(item->timezone);
    size_t n = strlen(item->service_name) + strlen(item->customer_name) + 8;
    p->summary = slotd_malloc(n);
    snprintf(p->summary, n, "%s \xe2\x80\x94 %s", item->service_name, item->customer_name);
    p->access_token = copy(item->access_token);
    p->access_expires = item->access_expires;
    p->start = item->start;
    p->end = item->end;
    p->has_external_start = item->has_external_start;
    p->external_start = item->external_start;
    p->event_type = item->calcom_event_type_id;
    p->now = now;
    p->done = done;
    p->arg = arg;
    p->present = item->present;
    /* a retry may follow an attempt that made the event but never heard so */
    bool retry = item->attempts > 1 && item->external_id == NULL;
    if (!item->live)
        p->act = ACT_NONE; /* the connection no longer pushes: what was pushed stays */
    else if (retry && p->provider == SYNC_CALCOM)
        p->act = ACT_FIND;
    else if (!item->present)
        p->act = item->external_id || (retry && p->provider == SYNC_GOOGLE) ? ACT_DELETE : ACT_NONE;
    else if (p->provider == SYNC_CALCOM)
        p->act = !item->external_id                                                ? ACT_CREATE
                 : item->has_external_start && item->external_start == item->start ? ACT_NONE
                                                                                   : ACT_RESCHEDULE;
    else
        p->act = item->external_id ? ACT_UPSERT : ACT_CREATE;
    p->no_credentials = item->credentials == NULL && p->act != ACT_NONE;
    p->later = slotd_calloc(1, sizeof(*p->later));
    uv_timer_init(loop, p->later);
    p->later->data = p;
    uv_timer_start(p->later, on_later, 0, 0);
    return p;
}
