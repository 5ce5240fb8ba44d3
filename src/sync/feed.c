/*
 * One pull of an ICS feed (see feed.h).
 */
#include "sync/feed.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slotd/alloc.h"
#include "sync/pull.h"

#define UPSERT_PART 1000 /* events or series a statement writes (a few hundred KB) */
#define RESOLVE_STEP 250 /* records resolved in one turn of the loop (about a millisecond) */

struct sync_feed {
    sync_feed_input_t in;
    char *url, *etag, *last_modified, *sha256; /* the input's, and the old validators */
    char *new_etag, *new_last_modified, *state;
    sync_feed_done_cb done;
    void *arg;
    io_http_request_t *request;
    uv_loop_t *loop;
    uv_timer_t later; /* a refusal before any request is told on the loop's next turn */
    bool later_used;
    /* the worker's, then the loop's steps */
    uv_work_t work;
    uv_idle_t step; /* resolving in steps: once a turn of the loop (a timer of 0 ms started from
                     * its own callback would run again in the same turn) */
    bool step_used;
    ics_busy_t busy;
    long busy_count;
    size_t next;
    char **parts;
    size_t part_count;
    char resolve_error[300];
    char *body;
    size_t length;
    ics_feed_t feed;
    int read_rc;
    char read_error[300];
    char body_sha256[65];
    bool abandoned, working;
};

static char *copy(const char *text)
{
    return text ? slotd_strdup(text) : NULL;
}

static void feed_free(sync_feed_t *f)
{
    free(f->url);
    free(f->etag);
    free(f->last_modified);
    free(f->sha256);
    free(f->new_etag);
    free(f->new_last_modified);
    free(f->state);
    free(f->body);
    ics_feed_free(&f->feed);
    ics_busy_free(&f->busy);
    for (size_t i = 0; i < f->part_count; i++)
        free(f->parts[i]);
    free(f->parts);
    free(f);
}

static void on_handle_closed(uv_handle_t *handle)
{
    sync_feed_t *f = handle->data;
    if (handle == (uv_handle_t *)&f->later)
        f->later_used = false;
    else
        f->step_used = false;
    if (!f->later_used && !f->step_used)
        feed_free(f);
}

/* Frees the feed: through its timers' closes when they were started. */
static void feed_release(sync_feed_t *f)
{
    bool later = f->later_used, step = f->step_used;
    if (later)
        uv_close((uv_handle_t *)&f->later, on_handle_closed);
    if (step)
        uv_close((uv_handle_t *)&f->step, on_handle_closed);
    if (!later && !step)
        feed_free(f);
}

static void finish(sync_feed_t *f, sync_feed_result_t *r)
{
    f->done(r, f->arg);
    feed_release(f);
}

static void fail(sync_feed_t *f, int error, int64_t retry_after, const char *message)
{
    sync_feed_result_t r = {.error = error, .retry_after = retry_after, .bytes = f->length};
    snprintf(r.message, sizeof(r.message), "%s", message);
    finish(f, &r);
}

/* The validators to keep, as JSON. */
static char *state_of(const char *etag, const char *last_modified, const char *sha256)
{
    json_t *s = json_pack("{s:s?, s:s?, s:s?}", "etag", etag, "last_modified", last_modified,
                          "sha256", sha256);
    char *text = json_dumps(s, JSON_COMPACT);
    json_decref(s);
    return text;
}

static void sha256_hex(const char *body, size_t length, char out[65])
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(body, length, digest, &n, EVP_sha256(), NULL);
    for (unsigned int i = 0; i < n && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

static void on_work(uv_work_t *work)
{
    sync_feed_t *f = work->data;
    sha256_hex(f->body, f->length, f->body_sha256);
    if (f->in.full || f->sha256 == NULL || strcmp(f->sha256, f->body_sha256) != 0)
        f->read_rc = ics_read(f->body, f->length, &f->feed, f->read_error, sizeof(f->read_error));
}

/* The busy time made, written as the store takes it (a worker's). */
static void on_write_work(uv_work_t *work)
{
    sync_feed_t *f = work->data;
    ics_feed_free(&f->feed); /* freeing 20,000 records is milliseconds too */
    ics_busy_finish(&f->busy);
    f->parts = ics_busy_json_parts(&f->busy, UPSERT_PART, &f->part_count);
    f->busy_count = (long)(f->busy.count + f->busy.series_count);
    ics_busy_free(&f->busy);
}

/* A worker's job is over: false when the feed was abandoned meanwhile (it is freed now) or the
 * job did not run (the pull fails). */
static bool worked(sync_feed_t *f, int status)
{
    f->working = false;
    if (f->abandoned) {
        feed_release(f);
        return false;
    }
    if (status != 0) {
        fail(f, SYNC_E_PROVIDER, 0, "the feed could not be read");
        return false;
    }
    return true;
}

static void on_written(uv_work_t *work, int status)
{
    sync_feed_t *f = work->data;
    if (!worked(f, status))
        return;
    f->state = state_of(f->new_etag, f->new_last_modified, f->body_sha256);
    sync_feed_result_t r = {.state = f->state,
                            .bytes = f->length,
                            .upsert_parts = (const char *const *)f->parts,
                            .upsert_part_count = f->part_count,
                            .busy_count = f->busy_count};
    finish(f, &r);
}

/* One step of resolving on the loop; the next on the loop's next turn, the last hands the
 * result to a worker. */
static void on_step(uv_idle_t *idle)
{
    sync_feed_t *f = idle->data;
    int rc = ics_resolve_step(&f->feed, f->in.zone, &f->busy, &f->next, RESOLVE_STEP,
                              f->resolve_error, sizeof(f->resolve_error));
    if (rc > 0)
        return; /* the next step on the next turn */
    uv_idle_stop(&f->step);
    if (rc < 0) {
        fail(f, SYNC_E_PROVIDER, 0, f->resolve_error);
        return;
    }
    f->working = true;
    if (uv_queue_work(f->loop, &f->work, on_write_work, on_written) != 0) {
        f->working = false;
        fail(f, SYNC_E_PROVIDER, 0, "the feed could not be read");
    }
}

static void on_worked(uv_work_t *work, int status)
{
    sync_feed_t *f = work->data;
    if (!worked(f, status))
        return;
    free(f->body);
    f->body = NULL;
    bool same = !f->in.full && f->sha256 && strcmp(f->sha256, f->body_sha256) == 0;
    if (same) {
        f->state = state_of(f->new_etag, f->new_last_modified, f->body_sha256);
        sync_feed_result_t r = {.state = f->state, .bytes = f->length, .unchanged = true};
        finish(f, &r);
    } else if (f->read_rc != 0) {
        fail(f, SYNC_E_PROVIDER, 0, f->read_error);
    } else {
        uv_idle_init(f->loop, &f->step);
        f->step.data = f;
        f->step_used = true;
        uv_idle_start(&f->step, on_step);
    }
}

static void on_answer(const io_http_response_t *res, void *arg)
{
    sync_feed_t *f = arg;
    f->request = NULL;
    char message[300];
    if (res->error == IO_HTTP_E_TOO_LARGE) {
        snprintf(message, sizeof(message), "the feed is larger than %d MiB",
                 ICS_MAX_BYTES / (1024 * 1024));
        fail(f, SYNC_E_PROVIDER, 0, message);
        return;
    }
    if (res->error) {
        snprintf(message, sizeof(message), "the feed did not answer (%s)",
                 res->error_text ? res->error_text : "no answer");
        fail(f, SYNC_E_NETWORK, 0, message);
        return;
    }
    if (res->status == 304) {
        f->state = state_of(f->etag, f->last_modified, f->sha256);
        sync_feed_result_t r = {.unchanged = true, .state = f->state};
        finish(f, &r);
        return;
    }
    if (res->status != 200) {
        snprintf(message, sizeof(message), "the feed answered HTTP %ld", res->status);
        bool later = res->status == 429 || res->status >= 500;
        fail(f, later ? SYNC_E_RATE : SYNC_E_PROVIDER, later ? sync_retry_after(res) : 0, message);
        return;
    }
    f->new_etag = copy(io_http_response_header(res, "ETag"));
    f->new_last_modified = copy(io_http_response_header(res, "Last-Modified"));
    f->body = io_http_response_take_body(res, &f->length); /* megabytes: not copied */
    if (f->body == NULL) {
        f->body = slotd_malloc(1);
        f->body[0] = 0;
    }
    f->work.data = f;
    f->working = true;
    if (uv_queue_work(f->loop, &f->work, on_work, on_worked) != 0) {
        f->working = false;
        fail(f, SYNC_E_PROVIDER, 0, "the feed could not be read");
    }
}

static void on_later(uv_timer_t *timer)
{
    fail(timer->data, SYNC_E_PROVIDER, 0, "the feed's URL is not an http or https URL");
}

sync_feed_t *sync_feed_start(io_http_t *http, const sync_feed_input_t *input,
                             sync_feed_done_cb done, void *arg)
{
    sync_feed_t *f = slotd_calloc(1, sizeof(*f));
    f->in = *input;
    f->url = copy(input->url);
    f->in.url = f->url;
    f->done = done;
    f->arg = arg;
    f->loop = io_http_loop(http);
    json_t *state = input->state ? json_loads(input->state, 0, NULL) : NULL;
    f->etag = copy(json_string_value(json_object_get(state, "etag")));
    f->last_modified = copy(json_string_value(json_object_get(state, "last_modified")));
    f->sha256 = copy(json_string_value(json_object_get(state, "sha256")));
    json_decref(state);
    f->in.state = NULL;
    char if_none[1100], if_since[200];
    const char *headers[3] = {"Accept: text/calendar, */*;q=0.5"};
    size_t count = 1;
    if (!input->full && f->etag && strlen(f->etag) < 1000) {
        snprintf(if_none, sizeof(if_none), "If-None-Match: %s", f->etag);
        headers[count++] = if_none;
    }
    if (!input->full && f->last_modified && strlen(f->last_modified) < 100) {
        snprintf(if_since, sizeof(if_since), "If-Modified-Since: %s", f->last_modified);
        headers[count++] = if_since;
    }
    io_http_request_options_t options = {.url = f->url,
                                         .headers = headers,
                                         .header_count = count,
                                         .timeout_ms = SYNC_FEED_TIMEOUT_MS,
                                         .max_response_bytes = ICS_MAX_BYTES};
    f->request = f->url ? io_http_start(http, &options, on_answer, f) : NULL;
    if (f->request == NULL) {
        uv_timer_init(f->loop, &f->later);
        f->later.data = f;
        f->later_used = true;
        uv_timer_start(&f->later, on_later, 0, 0);
    }
    return f;
}

void sync_feed_cancel(sync_feed_t *f)
{
    if (f->request)
        io_http_cancel(f->request);
    f->request = NULL;
    if (f->working) {
        f->abandoned = true; /* freed when the worker ends */
        return;
    }
    if (f->later_used)
        uv_timer_stop(&f->later);
    if (f->step_used)
        uv_idle_stop(&f->step);
    feed_release(f);
}
