/*
 * libcurl multi on the libuv loop (see http_client.h).
 *
 * libcurl owns the transfers; we only give it events. Its socket callback
 * attaches a socket_t (one uv_poll_t) to each socket it wants watched and
 * closes it on CURL_POLL_REMOVE, which libcurl sends before it closes the
 * socket; its timer callback arms our one timer, and we call
 * curl_multi_socket_action from the loop (never from inside a libcurl
 * callback, which libcurl forbids). After every action, finished transfers
 * are collected and their callbacks run.
 *
 * Re-entrancy: a request's callback may start or cancel requests, or close
 * the client. Collection stops as soon as the client is closing; the client
 * itself is freed only when the last handle's close callback has run, so it
 * stays valid while anything on the stack still refers to it.
 */
#include "io/http_client.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "io/address.h"
#include "log/log.h"
#include "slotd/alloc.h"

typedef struct socket_ctx {
    struct socket_ctx *prev, *next;
    io_http_t *http;
    uv_poll_t poll;
    curl_socket_t fd;
} socket_ctx_t;

struct io_http_request {
    io_http_request_t *prev, *next;
    io_http_t *http;
    CURL *easy;
    struct curl_slist *request_headers;
    io_http_done_cb done;
    void *arg;
    char *body;
    size_t body_len, body_capacity, max_body;
    bool too_large;
    bool refused;   /* public_only, and an address was not a public one */
    bool finishing; /* its callback is running: a cancel from there is a no-op */
    io_http_header_t *headers;
    size_t header_count, header_capacity;
    char error_text[CURL_ERROR_SIZE];
};

struct io_http {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    io_http_request_t *requests; /* in flight */
    size_t active;
    socket_ctx_t *sockets; /* watched */
    bool closing;
    int open_handles;
    void (*on_closed)(void *);
    void *on_closed_arg;
};

char *io_http_response_take_body(const io_http_response_t *response, size_t *length)
{
    io_http_request_t *r = response->request;
    char *body = r ? r->body : NULL;
    *length = body ? r->body_len : 0;
    if (r) {
        r->body = NULL;
        r->body_len = r->body_capacity = 0;
    }
    return body;
}

static void collect_finished(io_http_t *http);

static void release(io_http_t *http)
{
    if (--http->open_handles == 0 && http->closing) {
        void (*cb)(void *) = http->on_closed;
        void *arg = http->on_closed_arg;
        free(http);
        if (cb)
            cb(arg);
    }
}

static void socket_closed(uv_handle_t *handle)
{
    socket_ctx_t *s = handle->data;
    io_http_t *http = s->http;
    free(s);
    release(http);
}

static void timer_closed(uv_handle_t *handle)
{
    release(handle->data);
}

static void forget_socket(socket_ctx_t *s)
{
    io_http_t *http = s->http;
    if (s->prev)
        s->prev->next = s->next;
    else
        http->sockets = s->next;
    if (s->next)
        s->next->prev = s->prev;
    uv_poll_stop(&s->poll);
    uv_close((uv_handle_t *)&s->poll, socket_closed);
}

static void on_socket_event(uv_poll_t *handle, int status, int events)
{
    socket_ctx_t *s = handle->data;
    io_http_t *http = s->http;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    int running;
    curl_multi_socket_action(http->multi, s->fd, flags, &running);
    collect_finished(http);
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    io_http_t *http = userp;
    socket_ctx_t *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            curl_multi_assign(http->multi, fd, NULL);
            forget_socket(s);
        }
        return 0;
    }
    if (s == NULL) {
        s = slotd_calloc(1, sizeof(*s));
        s->http = http;
        s->fd = fd;
        if (uv_poll_init_socket(http->loop, &s->poll, fd) != 0) {
            free(s);
            return -1; /* libcurl fails the transfer */
        }
        s->poll.data = s;
        http->open_handles++;
        s->next = http->sockets;
        if (s->next)
            s->next->prev = s;
        http->sockets = s;
        curl_multi_assign(http->multi, fd, s);
    }
    int events = 0;
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    uv_poll_start(&s->poll, events, on_socket_event);
    return 0;
}

static void on_timer(uv_timer_t *timer)
{
    io_http_t *http = timer->data;
    int running;
    curl_multi_socket_action(http->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    collect_finished(http);
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    io_http_t *http = userp;
    if (timeout_ms < 0)
        uv_timer_stop(&http->timer);
    else /* 0 too goes through the loop: libcurl must not be called from here */
        uv_timer_start(&http->timer, on_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

/* ---- requests -------------------------------------------------------------------------------- */

static void unlink_request(io_http_request_t *r)
{
    io_http_t *http = r->http;
    if (r->prev)
        r->prev->next = r->next;
    else
        http->requests = r->next;
    if (r->next)
        r->next->prev = r->prev;
    http->active--;
    curl_multi_remove_handle(http->multi, r->easy);
}

static void clear_headers(io_http_request_t *r)
{
    for (size_t i = 0; i < r->header_count; i++) {
        free((char *)r->headers[i].name);
        free((char *)r->headers[i].value);
    }
    r->header_count = 0;
}

static void free_request(io_http_request_t *r)
{
    curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->request_headers);
    clear_headers(r);
    free(r->headers);
    free(r->body);
    free(r);
}

static int error_of(const io_http_request_t *r, CURLcode code)
{
    switch (code) {
    case CURLE_OK:
        return IO_HTTP_OK;
    case CURLE_OPERATION_TIMEDOUT:
        return IO_HTTP_E_TIMEOUT;
    case CURLE_COULDNT_CONNECT:
        return r->refused ? IO_HTTP_E_PRIVATE : IO_HTTP_E_CONNECT;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return IO_HTTP_E_RESOLVE;
    case CURLE_WRITE_ERROR:
        return r->too_large ? IO_HTTP_E_TOO_LARGE : IO_HTTP_E_TRANSFER;
    default:
        return IO_HTTP_E_TRANSFER;
    }
}

/* Unlinks, calls back and frees. The callback may cancel the request (it is valid until the
 * callback returns): `finishing` makes that a no-op, since the request is unlinked already and
 * freed here. */
static void finish(io_http_request_t *r, int error, const char *error_text)
{
    unlink_request(r);
    io_http_response_t response = {.error = error,
                                   .headers = r->headers,
                                   .header_count = error ? 0 : r->header_count,
                                   .body = "",
                                   .error_text = error ? error_text : NULL,
                                   .request = r};
    if (error == IO_HTTP_OK) {
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &response.status);
        if (r->body) {
            response.body = r->body;
            response.body_len = r->body_len;
        }
    }
    r->finishing = true;
    r->done(&response, r->arg);
    free_request(r);
}

static void collect_finished(io_http_t *http)
{
    CURLMsg *msg;
    int left;
    while (!http->closing && (msg = curl_multi_info_read(http->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        io_http_request_t *r;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        CURLcode code = msg->data.result;
        const char *text = r->error_text[0] ? r->error_text : curl_easy_strerror(code);
        finish(r, error_of(r, code), text);
    }
}

static size_t on_body(char *data, size_t size, size_t count, void *userp)
{
    io_http_request_t *r = userp;
    size_t n = size * count;
    if (r->body_len + n > r->max_body) {
        r->too_large = true;
        return 0; /* libcurl ends the transfer with CURLE_WRITE_ERROR */
    }
    if (r->body_len + n + 1 > r->body_capacity) {
        size_t capacity = r->body_capacity ? r->body_capacity : 1024;
        while (capacity < r->body_len + n + 1)
            capacity *= 2;
        r->body = slotd_realloc(r->body, capacity);
        r->body_capacity = capacity;
    }
    memcpy(r->body + r->body_len, data, n);
    r->body_len += n;
    r->body[r->body_len] = '\0';
    return n;
}

static char *trimmed_copy(const char *start, const char *end)
{
    while (start < end && (*start == ' ' || *start == '\t'))
        start++;
    while (end > start && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
        end--;
    char *s = slotd_malloc((size_t)(end - start) + 1);
    memcpy(s, start, (size_t)(end - start));
    s[end - start] = '\0';
    return s;
}

static size_t on_header(char *line, size_t size, size_t count, void *userp)
{
    io_http_request_t *r = userp;
    size_t n = size * count;
    if (n >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        clear_headers(r); /* a new answer (after 100 Continue): only the final one counts */
        return n;
    }
    const char *colon = memchr(line, ':', n);
    if (colon == NULL)
        return n; /* the blank line at the end */
    if (r->header_count == r->header_capacity) {
        r->header_capacity = r->header_capacity ? r->header_capacity * 2 : 16;
        r->headers = slotd_realloc(r->headers, r->header_capacity * sizeof(io_http_header_t));
    }
    r->headers[r->header_count].name = trimmed_copy(line, colon);
    r->headers[r->header_count].value = trimmed_copy(colon + 1, line + n);
    r->header_count++;
    return n;
}

/* public_only: a connection only to a public address (checked on the address libcurl is about
 * to connect to, after resolution, so a name cannot resolve to a private one in between). */
static curl_socket_t open_public(void *userp, curlsocktype purpose, struct curl_sockaddr *address)
{
    io_http_request_t *r = userp;
    if (purpose != CURLSOCKTYPE_IPCXN || !io_address_public(&address->addr)) {
        r->refused = true;
        return CURL_SOCKET_BAD;
    }
    return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

io_http_request_t *io_http_start(io_http_t *http, const io_http_request_options_t *options,
                                 io_http_done_cb done, void *arg)
{
    if (http->closing || options->url == NULL)
        return NULL;
    io_http_request_t *r = slotd_calloc(1, sizeof(*r));
    r->http = http;
    r->done = done;
    r->arg = arg;
    r->max_body = options->max_response_bytes ? options->max_response_bytes : 8u << 20;
    r->easy = curl_easy_init();
    if (r->easy == NULL)
        slotd_out_of_memory();
    uint64_t timeout = options->timeout_ms ? options->timeout_ms : 10000;
    uint64_t connect_timeout = options->connect_timeout_ms ? options->connect_timeout_ms
                               : timeout < 5000            ? timeout
                                                           : 5000;
    const char *method = options->method ? options->method : options->body ? "POST" : "GET";
    CURL *e = r->easy;
    bool ok = curl_easy_setopt(e, CURLOPT_URL, options->url) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_PRIVATE, r) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)connect_timeout) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_WRITEDATA, r) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_HEADERDATA, r) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->error_text) == CURLE_OK;
    /* every connection checked: no proxy of the environment in between, and none reused
     * from the multi handle's cache (made for another request, unchecked) */
    if (ok && options->public_only)
        ok = curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_public) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, r) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_PROXY, "") == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L) == CURLE_OK;
    if (ok && options->body) {
        ok = curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)options->body_len) ==
                 CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, options->body) == CURLE_OK;
    }
    if (ok && strcmp(method, "HEAD") == 0)
        ok = curl_easy_setopt(e, CURLOPT_NOBODY, 1L) == CURLE_OK;
    else if (ok && strcmp(method, options->body ? "POST" : "GET") != 0)
        ok = curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method) == CURLE_OK;
    /* no "Expect: 100-continue" wait before a body, unless the caller asks for it */
    r->request_headers = curl_slist_append(NULL, "Expect:");
    for (size_t i = 0; i < options->header_count; i++)
        r->request_headers = curl_slist_append(r->request_headers, options->headers[i]);
    if (r->request_headers == NULL)
        slotd_out_of_memory();
    ok = ok && curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->request_headers) == CURLE_OK;
    if (!ok || curl_multi_add_handle(http->multi, e) != CURLM_OK) {
        free_request(r);
        return NULL;
    }
    r->next = http->requests;
    if (r->next)
        r->next->prev = r;
    http->requests = r;
    http->active++;
    return r;
}

void io_http_cancel(io_http_request_t *request)
{
    if (request == NULL || request->finishing)
        return; /* from inside its own callback: finish() frees it when the callback returns */
    unlink_request(request);
    free_request(request);
}

const char *io_http_response_header(const io_http_response_t *response, const char *name)
{
    for (size_t i = 0; i < response->header_count; i++)
        if (strcasecmp(response->headers[i].name, name) == 0)
            return response->headers[i].value;
    return NULL;
}

uv_loop_t *io_http_loop(const io_http_t *http)
{
    return http->loop;
}

size_t io_http_active(const io_http_t *http)
{
    return http->active;
}

int io_http_resolves_asynchronously(void)
{
    return (curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_ASYNCHDNS) != 0;
}

io_http_t *io_http_new(uv_loop_t *loop)
{
    static bool initialized;
    if (!initialized) {
        /* once, on the thread that builds the loop, before any request */
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            slotd_out_of_memory();
        initialized = true;
        if (!io_http_resolves_asynchronously())
            log_warn("http_client_blocking_dns", "cause",
                     "libcurl has no threaded resolver: a slow DNS lookup will pause the loop",
                     NULL);
    }
    io_http_t *http = slotd_calloc(1, sizeof(*http));
    http->loop = loop;
    http->multi = curl_multi_init();
    if (http->multi == NULL)
        slotd_out_of_memory();
    curl_multi_setopt(http->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(http->multi, CURLMOPT_SOCKETDATA, http);
    curl_multi_setopt(http->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(http->multi, CURLMOPT_TIMERDATA, http);
    uv_timer_init(loop, &http->timer);
    http->timer.data = http;
    http->open_handles = 1;
    return http;
}

void io_http_close(io_http_t *http, void (*on_closed)(void *), void *arg)
{
    if (http->closing)
        return;
    http->closing = true;
    http->on_closed = on_closed;
    http->on_closed_arg = arg;
    while (http->requests)
        finish(http->requests, IO_HTTP_E_CLOSED, "the HTTP client was closed");
    curl_multi_setopt(http->multi, CURLMOPT_TIMERFUNCTION, NULL);
    curl_multi_cleanup(http->multi);
    http->multi = NULL;
    /* sockets libcurl closed without a REMOVE (its connection cache at cleanup) */
    while (http->sockets)
        forget_socket(http->sockets);
    uv_timer_stop(&http->timer);
    uv_close((uv_handle_t *)&http->timer, timer_closed);
}
