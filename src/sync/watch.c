/*
 * Watch channels and subscriptions, and webhook signatures (see watch.h).
 */
#include "sync/watch.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "slotd/alloc.h"
#include "slotd/codec.h"
#include "sync/pull.h"

#define GOOGLE_TTL_SECONDS 604800     /* 7 days, Google's default and most */
#define GRAPH_TTL_SECONDS (3 * 86400) /* under Graph's limit for events (4230 minutes) */

struct sync_watch {
    io_http_request_t *request;
    sync_provider_t provider;
    char secret[SYNC_WATCH_SECRET_TEXT];
    int64_t now;
    void (*done)(const sync_watch_result_t *, void *);
    void *arg;
};

static void hex(const uint8_t *bytes, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * n] = 0;
}

void sync_watch_cancel(sync_watch_t *w)
{
    if (w->request)
        io_http_cancel(w->request);
    OPENSSL_cleanse(w->secret, sizeof(w->secret));
    free(w);
}

static void on_answer(const io_http_response_t *res, void *arg)
{
    sync_watch_t *w = arg;
    w->request = NULL;
    sync_watch_result_t r = {.secret = w->secret};
    json_t *root = res->error ? NULL : json_loadb(res->body, res->body_len, 0, NULL);
    const char *id = json_string_value(json_object_get(root, "id"));
    bool ok = (res->status == 200 || res->status == 201) && id && id[0] && strlen(id) <= 256;
    if (ok && w->provider == SYNC_GOOGLE) {
        r.resource_id = json_string_value(json_object_get(root, "resourceId"));
        const char *ms = json_string_value(json_object_get(root, "expiration"));
        r.expires = ms ? strtoll(ms, NULL, 10) / 1000 : w->now + GOOGLE_TTL_SECONDS;
    } else if (ok) {
        const char *until = json_string_value(json_object_get(root, "expirationDateTime"));
        if (until == NULL || codec_parse_instant(until, &r.expires) != 0)
            r.expires = w->now + GRAPH_TTL_SECONDS;
    }
    if (ok) {
        r.id = id;
    } else {
        r.error = res->error ? SYNC_E_NETWORK : SYNC_E_PROVIDER;
        snprintf(r.message, sizeof(r.message), "%s: HTTP %ld",
                 w->provider == SYNC_GOOGLE ? "watch channel" : "subscription", res->status);
    }
    w->done(&r, w->arg);
    json_decref(root);
    sync_watch_cancel(w);
}

sync_watch_t *sync_watch_start(io_http_t *http, const sync_watch_input_t *in,
                               void (*done)(const sync_watch_result_t *, void *), void *arg)
{
    uint8_t random[48];
    if (in->provider == SYNC_CALCOM || RAND_bytes(random, sizeof(random)) != 1)
        return NULL;
    sync_watch_t *w = slotd_calloc(1, sizeof(*w));
    w->provider = in->provider;
    w->now = in->now;
    w->done = done;
    w->arg = arg;
    hex(random, 32, w->secret);
    char channel[37];
    random[32 + 6] = (random[32 + 6] & 0x0f) | 0x40; /* a version 4 UUID */
    random[32 + 8] = (random[32 + 8] & 0x3f) | 0x80;
    eng_id_t channel_id;
    memcpy(channel_id.bytes, random + 32, 16);
    codec_format_uuid(&channel_id, channel);
    OPENSSL_cleanse(random, sizeof(random));
    size_t n = strlen(in->public_url);
    while (n > 0 && in->public_url[n - 1] == '/')
        n--;
    char address[1100], url[2200];
    json_t *body;
    char *calendar = sync_url_escape(in->calendar_id ? in->calendar_id : "primary");
    if (in->provider == SYNC_GOOGLE) {
        snprintf(address, sizeof(address), "%.*s/v1/webhooks/google", (int)n, in->public_url);
        snprintf(url, sizeof(url), "%s/calendars/%s/events/watch", in->api_url, calendar);
        body = json_pack("{s:s, s:s, s:s, s:s, s:{s:s}}", "id", channel, "type", "web_hook",
                         "address", address, "token", w->secret, "params", "ttl", "604800");
    } else {
        char resource[1100], until[CODEC_INSTANT_MAX];
        sync_utc_text(in->now + GRAPH_TTL_SECONDS, true, until);
        snprintf(address, sizeof(address), "%.*s/v1/webhooks/microsoft", (int)n, in->public_url);
        snprintf(url, sizeof(url), "%s/subscriptions", in->api_url);
        if (in->calendar_id)
            snprintf(resource, sizeof(resource), "me/calendars/%s/events", calendar);
        else
            snprintf(resource, sizeof(resource), "me/events");
        body = json_pack("{s:s, s:s, s:s, s:s, s:s}", "changeType", "created,updated,deleted",
                         "notificationUrl", address, "resource", resource, "expirationDateTime",
                         until, "clientState", w->secret);
    }
    free(calendar);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    char authorization[4200];
    snprintf(authorization, sizeof(authorization), "Authorization: Bearer %s",
             in->access_token ? in->access_token : "");
    const char *headers[3] = {authorization, "Content-Type: application/json",
                              "Accept: application/json"};
    io_http_request_options_t options = {.method = "POST",
                                         .url = url,
                                         .headers = headers,
                                         .header_count = 3,
                                         .body = text,
                                         .body_len = strlen(text),
                                         .timeout_ms = 15000};
    w->request = io_http_start(http, &options, on_answer, w);
    OPENSSL_cleanse(authorization, sizeof(authorization));
    OPENSSL_cleanse(text, strlen(text));
    free(text);
    if (w->request == NULL) {
        sync_watch_cancel(w);
        return NULL;
    }
    return w;
}

bool sync_hash_equal(const uint8_t a[32], const uint8_t b[32])
{
    return CRYPTO_memcmp(a, b, 32) == 0;
}

bool sync_calcom_signature_ok(const char *secret, const void *body, size_t length,
                              const char *signature)
{
    uint8_t mac[32];
    unsigned int mac_length = 0;
    if (secret == NULL || signature == NULL || strlen(signature) != 64 ||
        HMAC(EVP_sha256(), secret, (int)strlen(secret), body, length, mac, &mac_length) == NULL ||
        mac_length != sizeof(mac))
        return false;
    char expected[65];
    hex(mac, sizeof(mac), expected);
    char given[65];
    for (size_t i = 0; i < 64; i++)
        given[i] =
            (char)(signature[i] >= 'A' && signature[i] <= 'F' ? signature[i] + 32 : signature[i]);
    given[64] = 0;
    return CRYPTO_memcmp(expected, given, 64) == 0;
}
