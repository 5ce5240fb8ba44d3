/*
 * The HTTP client on a real libuv loop against a real HTTP server on
 * 127.0.0.1 that the test runs on the same loop: a small libuv TCP server
 * that reads one request per connection and answers by path.
 *
 *   /hello      200, "hello", X-Reply: hello
 *   /echo       200, "<method> <body>", X-Seen: <the request's X-Test header>
 *   /status/404 404, "nope"
 *   /n/<i>      200, "<i>"
 *   /big        200, 1 MiB of 'x'
 *   /silent     never answers
 *
 * Every test ends by closing the client and the server and proving the loop
 * has nothing left open.
 */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "io/http_client.h"
#include "loop.h"
#include "test.h"

/* ---- the server ---- */

typedef struct client {
    struct client *next;
    uv_tcp_t tcp;
    char *data;
    size_t len, capacity;
    bool answered, closing;
} client_t;

typedef struct {
    uv_tcp_t tcp;
    int port;
    client_t *clients;
    int requests;
} server_t;

static server_t server;

static void client_closed(uv_handle_t *handle)
{
    client_t *c = handle->data;
    client_t **p = &server.clients;
    while (*p != c)
        p = &(*p)->next;
    *p = c->next;
    free(c->data);
    free(c);
}

static void close_client(client_t *c)
{
    if (!c->closing) {
        c->closing = true;
        uv_close((uv_handle_t *)&c->tcp, client_closed);
    }
}

typedef struct {
    uv_write_t req;
    client_t *client;
    char data[];
} write_t;

static void on_written(uv_write_t *req, int status)
{
    (void)status;
    write_t *w = (write_t *)req;
    close_client(w->client);
    free(w);
}

static void answer(client_t *c, int status, const char *extra_header, const char *body,
                   size_t body_len)
{
    char head[512];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n", status,
                     body_len, extra_header ? extra_header : "");
    size_t total = (size_t)n + body_len;
    write_t *w = malloc(sizeof(*w) + total); /* kept until written */
    w->client = c;
    memcpy(w->data, head, (size_t)n);
    memcpy(w->data + n, body, body_len);
    uv_buf_t buf = uv_buf_init(w->data, (unsigned)total);
    uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1, on_written);
}

/* Header value from the request text, copied into out. */
static bool request_header(const char *request, const char *name, char *out, size_t size)
{
    size_t name_len = strlen(name);
    for (const char *line = strstr(request, "\r\n"); line && line[2] != '\r';
         line = strstr(line + 2, "\r\n")) {
        const char *h = line + 2;
        if (strncasecmp(h, name, name_len) == 0 && h[name_len] == ':') {
            const char *v = h + name_len + 1;
            while (*v == ' ')
                v++;
            size_t len = strcspn(v, "\r");
            snprintf(out, size, "%.*s", (int)len, v);
            return true;
        }
    }
    return false;
}

static void respond(client_t *c, const char *request, const char *body, size_t body_len)
{
    char method[16], path[256];
    if (sscanf(request, "%15s %255s", method, path) != 2) {
        close_client(c);
        return;
    }
    server.requests++;
    if (strcmp(path, "/hello") == 0) {
        answer(c, 200, "X-Reply: hello\r\n", "hello", 5);
    } else if (strcmp(path, "/echo") == 0) {
        char seen[128] = "", header[160], text[4096];
        request_header(request, "X-Test", seen, sizeof(seen));
        snprintf(header, sizeof(header), "X-Seen: %s\r\n", seen);
        int n = snprintf(text, sizeof(text), "%s %.*s", method, (int)body_len, body);
        answer(c, 200, header, text, (size_t)n);
    } else if (strcmp(path, "/status/404") == 0) {
        answer(c, 404, NULL, "nope", 4);
    } else if (strncmp(path, "/n/", 3) == 0) {
        answer(c, 200, NULL, path + 3, strlen(path + 3));
    } else if (strcmp(path, "/big") == 0) {
        size_t size = 1u << 20;
        char *big = malloc(size);
        memset(big, 'x', size);
        answer(c, 200, NULL, big, size);
        free(big);
    } /* /silent: never */
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    client_t *c = handle->data;
    if (c->capacity - c->len < suggested) {
        c->capacity = c->len + suggested;
        c->data = realloc(c->data, c->capacity + 1);
    }
    *buf = uv_buf_init(c->data + c->len, (unsigned)(c->capacity - c->len));
}

static void on_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf)
{
    (void)buf;
    client_t *c = stream->data;
    if (n < 0) {
        close_client(c);
        return;
    }
    c->len += (size_t)n;
    c->data[c->len] = '\0';
    char *end = c->answered ? NULL : strstr(c->data, "\r\n\r\n");
    if (end == NULL)
        return;
    char length[32] = "0";
    request_header(c->data, "Content-Length", length, sizeof(length));
    size_t body_len = (size_t)atol(length);
    size_t head_len = (size_t)(end - c->data) + 4;
    if (c->len < head_len + body_len)
        return;
    c->answered = true;
    respond(c, c->data, c->data + head_len, body_len);
}

static void on_connection(uv_stream_t *listener, int status)
{
    CHECK_EQ(status, 0);
    client_t *c = calloc(1, sizeof(*c));
    uv_tcp_init(listener->loop, &c->tcp);
    c->tcp.data = c;
    c->next = server.clients;
    server.clients = c;
    CHECK_EQ(uv_accept(listener, (uv_stream_t *)&c->tcp), 0);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static void server_start(uv_loop_t *loop)
{
    memset(&server, 0, sizeof(server));
    server.port = test_loop_listen(loop, &server.tcp, on_connection);
}

static void server_stop(void)
{
    for (client_t *c = server.clients; c; c = c->next)
        close_client(c);
    uv_close((uv_handle_t *)&server.tcp, NULL);
}

/* ---- the client side ---- */

typedef struct {
    int done;
    int error;
    long status;
    char body[256];
    size_t body_len;
    char reply_header[64], seen_header[64];
    bool had_reply_header;
} result_t;

static void on_done(const io_http_response_t *response, void *arg)
{
    result_t *r = arg;
    r->done++;
    r->error = response->error;
    r->status = response->status;
    r->body_len = response->body_len;
    snprintf(r->body, sizeof(r->body), "%s", response->body);
    const char *reply = io_http_response_header(response, "x-reply");
    r->had_reply_header = reply != NULL;
    snprintf(r->reply_header, sizeof(r->reply_header), "%s", reply ? reply : "");
    const char *seen = io_http_response_header(response, "X-Seen");
    snprintf(r->seen_header, sizeof(r->seen_header), "%s", seen ? seen : "");
}

typedef struct {
    uv_loop_t loop;
    io_http_t *http;
    char url[128];
} fixture_t;

static void open_fixture(fixture_t *f)
{
    uv_loop_init(&f->loop);
    server_start(&f->loop);
    f->http = io_http_new(&f->loop);
}

static const char *url(fixture_t *f, const char *path)
{
    snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d%s", server.port, path);
    return f->url;
}

static void close_fixture(fixture_t *f)
{
    if (f->http)
        io_http_close(f->http, NULL, NULL);
    server_stop();
    uv_run(&f->loop, UV_RUN_DEFAULT);
    CHECK_EQ(uv_loop_close(&f->loop), 0);
}

static io_http_request_t *get(fixture_t *f, const char *path, uint64_t timeout_ms, result_t *r)
{
    io_http_request_options_t options = {.url = url(f, path), .timeout_ms = timeout_ms};
    io_http_request_t *req = io_http_start(f->http, &options, on_done, r);
    CHECK(req != NULL);
    return req;
}

TEST(http_client_returns_status_headers_and_body)
{
    fixture_t f;
    open_fixture(&f);
    result_t hello = {0}, missing = {0};
    get(&f, "/hello", 5000, &hello);
    get(&f, "/status/404", 5000, &missing);
    CHECK_EQ(hello.done + missing.done, 0); /* never from inside io_http_start */
    CHECK_EQ(io_http_active(f.http), 2);
    test_loop_run_until(&f.loop, &hello.done, 1);
    test_loop_run_until(&f.loop, &missing.done, 1);
    CHECK_EQ(hello.error, IO_HTTP_OK);
    CHECK_EQ(hello.status, 200);
    CHECK(strcmp(hello.body, "hello") == 0);
    CHECK_EQ(hello.body_len, 5);
    CHECK(strcmp(hello.reply_header, "hello") == 0); /* looked up case-insensitively */
    CHECK_EQ(missing.error, IO_HTTP_OK);             /* a status is an answer */
    CHECK_EQ(missing.status, 404);
    CHECK(strcmp(missing.body, "nope") == 0);
    CHECK(!missing.had_reply_header);
    CHECK_EQ(io_http_active(f.http), 0);
    close_fixture(&f);
}

TEST(http_client_sends_method_headers_and_body)
{
    fixture_t f;
    open_fixture(&f);
    const char *headers[] = {"X-Test: 42", "Content-Type: text/plain"};
    result_t post = {0}, put = {0};
    io_http_request_options_t options = {.url = url(&f, "/echo"),
                                         .headers = headers,
                                         .header_count = 2,
                                         .body = "payload",
                                         .body_len = 7,
                                         .timeout_ms = 5000};
    CHECK(io_http_start(f.http, &options, on_done, &post) != NULL);
    options.method = "PUT";
    options.body = "other\0binary";
    options.body_len = 5;
    CHECK(io_http_start(f.http, &options, on_done, &put) != NULL);
    test_loop_run_until(&f.loop, &post.done, 1);
    test_loop_run_until(&f.loop, &put.done, 1);
    CHECK(strcmp(post.body, "POST payload") == 0);
    CHECK(strcmp(post.seen_header, "42") == 0);
    CHECK(strcmp(put.body, "PUT other") == 0);
    close_fixture(&f);
}

TEST(http_client_times_out_a_silent_server)
{
    fixture_t f;
    open_fixture(&f);
    result_t r = {0};
    uint64_t start = uv_hrtime();
    get(&f, "/silent", 200, &r);
    test_loop_run_until(&f.loop, &r.done, 1);
    uint64_t elapsed_ms = (uv_hrtime() - start) / 1000000;
    CHECK_EQ(r.error, IO_HTTP_E_TIMEOUT);
    CHECK_EQ(r.status, 0);
    CHECK(elapsed_ms >= 190 && elapsed_ms < 1500);
    close_fixture(&f);
}

TEST(http_client_runs_many_requests_at_once)
{
    fixture_t f;
    open_fixture(&f);
    enum { N = 300 };
    static result_t results[N];
    memset(results, 0, sizeof(results));
    int done = 0;
    for (int i = 0; i < N; i++) {
        char path[32];
        snprintf(path, sizeof(path), "/n/%d", i);
        get(&f, path, 10000, &results[i]);
    }
    CHECK_EQ(io_http_active(f.http), N);
    uint64_t start = uv_hrtime();
    for (int i = 0; i < N; i++)
        test_loop_run_until(&f.loop, &results[i].done, 1);
    for (int i = 0; i < N; i++)
        done += results[i].done;
    CHECK_EQ(done, N);
    for (int i = 0; i < N; i++) {
        char expected[16];
        snprintf(expected, sizeof(expected), "%d", i);
        CHECK_EQ(results[i].error, IO_HTTP_OK);
        CHECK_EQ(results[i].done, 1);
        CHECK(strcmp(results[i].body, expected) == 0);
    }
    CHECK_EQ(server.requests, N);
    fprintf(stderr, "%d concurrent requests in %.1f ms\n", N, (double)(uv_hrtime() - start) / 1e6);
    close_fixture(&f);
}

TEST(http_client_cancelled_request_never_calls_back)
{
    fixture_t f;
    open_fixture(&f);
    result_t silent = {0}, answered = {0}, kept = {0};
    io_http_request_t *a = get(&f, "/silent", 5000, &silent);
    io_http_request_t *b = get(&f, "/hello", 5000, &answered);
    get(&f, "/hello", 5000, &kept);
    /* let both reach the server, then cancel: one waits, one may have its answer in flight */
    for (int spins = 0; server.requests < 3 && spins < 100000; spins++)
        uv_run(&f.loop, UV_RUN_NOWAIT);
    io_http_cancel(a);
    io_http_cancel(b);
    CHECK_EQ(io_http_active(f.http), kept.done ? 0 : 1);
    test_loop_run_until(&f.loop, &kept.done, 1);
    for (int i = 0; i < 20; i++)
        uv_run(&f.loop, UV_RUN_NOWAIT);
    CHECK_EQ(silent.done + answered.done, 0);
    CHECK_EQ(kept.error, IO_HTTP_OK);
    close_fixture(&f);
}

TEST(http_client_reports_connection_refused)
{
    fixture_t f;
    open_fixture(&f);
    char target[64];
    snprintf(target, sizeof(target), "http://127.0.0.1:%d/hello", test_loop_free_port(&f.loop));
    result_t r = {0};
    io_http_request_options_t options = {.url = target, .timeout_ms = 5000};
    CHECK(io_http_start(f.http, &options, on_done, &r) != NULL);
    test_loop_run_until(&f.loop, &r.done, 1);
    CHECK_EQ(r.error, IO_HTTP_E_CONNECT);
    CHECK_EQ(r.status, 0);
    close_fixture(&f);
}

TEST(http_client_refuses_oversized_answers_and_foreign_schemes)
{
    fixture_t f;
    open_fixture(&f);
    result_t big = {0}, fits = {0}, file = {0};
    io_http_request_options_t options = {
        .url = url(&f, "/big"), .timeout_ms = 5000, .max_response_bytes = 1000};
    CHECK(io_http_start(f.http, &options, on_done, &big) != NULL);
    options.max_response_bytes = 2u << 20;
    CHECK(io_http_start(f.http, &options, on_done, &fits) != NULL);
    test_loop_run_until(&f.loop, &big.done, 1);
    test_loop_run_until(&f.loop, &fits.done, 1);
    CHECK_EQ(big.error, IO_HTTP_E_TOO_LARGE);
    CHECK_EQ(fits.error, IO_HTTP_OK);
    CHECK_EQ(fits.body_len, 1u << 20);
    io_http_request_options_t local = {.url = "file:///etc/passwd", .timeout_ms = 1000};
    io_http_request_t *req = io_http_start(f.http, &local, on_done, &file);
    if (req)
        test_loop_run_until(&f.loop, &file.done, 1);
    CHECK(req == NULL || file.error != IO_HTTP_OK); /* never read */
    close_fixture(&f);
}

TEST(http_client_resolves_names_off_the_loop)
{
    CHECK(io_http_resolves_asynchronously());
    fixture_t f;
    open_fixture(&f);
    char target[64];
    snprintf(target, sizeof(target), "http://localhost:%d/hello", server.port);
    result_t r = {0};
    io_http_request_options_t options = {.url = target, .timeout_ms = 5000};
    CHECK(io_http_start(f.http, &options, on_done, &r) != NULL);
    test_loop_run_until(&f.loop, &r.done, 1);
    /* localhost may resolve to ::1 first, where nothing listens: curl then tries 127.0.0.1 */
    CHECK_EQ(r.error, IO_HTTP_OK);
    CHECK(strcmp(r.body, "hello") == 0);
    close_fixture(&f);
}

static io_http_t *closing_client;

static void close_from_callback(const io_http_response_t *response, void *arg)
{
    on_done(response, arg);
    io_http_close(closing_client, NULL, NULL);
}

TEST(http_client_close_fails_requests_in_flight)
{
    fixture_t f;
    open_fixture(&f);
    result_t silent = {0}, other = {0};
    get(&f, "/silent", 5000, &silent);
    get(&f, "/silent", 5000, &other);
    io_http_close(f.http, NULL, NULL);
    CHECK_EQ(silent.done, 1);
    CHECK_EQ(other.done, 1);
    CHECK_EQ(silent.error, IO_HTTP_E_CLOSED);
    f.http = NULL;
    /* closing from inside a callback is allowed too */
    f.http = io_http_new(&f.loop);
    closing_client = f.http;
    result_t first = {0}, second = {0};
    io_http_request_options_t options = {.url = url(&f, "/hello"), .timeout_ms = 5000};
    CHECK(io_http_start(f.http, &options, close_from_callback, &first) != NULL);
    options.url = url(&f, "/silent");
    CHECK(io_http_start(f.http, &options, on_done, &second) != NULL);
    test_loop_run_until(&f.loop, &first.done, 1);
    CHECK_EQ(first.error, IO_HTTP_OK);
    CHECK_EQ(second.done, 1);
    CHECK_EQ(second.error, IO_HTTP_E_CLOSED);
    f.http = NULL;
    close_fixture(&f);
}

/* A request that cancels itself from its own callback, where the request is still valid. */
typedef struct {
    result_t result;
    io_http_request_t *request;
} self_cancel_t;

static void cancel_from_callback(const io_http_response_t *response, void *arg)
{
    self_cancel_t *s = arg;
    on_done(response, &s->result);
    io_http_cancel(s->request);
}

TEST(http_client_request_may_cancel_itself_from_its_callback)
{
    fixture_t f;
    open_fixture(&f);
    self_cancel_t answered = {0}, closed = {0};
    io_http_request_options_t options = {.url = url(&f, "/hello"), .timeout_ms = 5000};
    answered.request = io_http_start(f.http, &options, cancel_from_callback, &answered);
    CHECK(answered.request != NULL);
    test_loop_run_until(&f.loop, &answered.result.done, 1);
    CHECK_EQ(answered.result.error, IO_HTTP_OK);
    CHECK(strcmp(answered.result.body, "hello") == 0);
    CHECK_EQ(io_http_active(f.http), 0);
    /* the same when the callback comes from closing the client */
    options.url = url(&f, "/silent");
    closed.request = io_http_start(f.http, &options, cancel_from_callback, &closed);
    CHECK(closed.request != NULL);
    io_http_close(f.http, NULL, NULL);
    f.http = NULL;
    CHECK_EQ(closed.result.done, 1);
    CHECK_EQ(closed.result.error, IO_HTTP_E_CLOSED);
    /* the client still works after a self-cancel: a fresh one on the same loop answers */
    f.http = io_http_new(&f.loop);
    result_t after = {0};
    get(&f, "/hello", 5000, &after);
    test_loop_run_until(&f.loop, &after.done, 1);
    CHECK_EQ(after.error, IO_HTTP_OK);
    CHECK_EQ(answered.result.done + closed.result.done, 2); /* each called back exactly once */
    close_fixture(&f);
}
