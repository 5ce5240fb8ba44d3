/*
 * The sync runner (see runner.h): claim, pull, write, on the loop.
 */
#include "sync/runner.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log/log.h"
#include "slotd/alloc.h"
#include "slotd/codec.h"
#include "store/keys.h"
#include "store/sync.h"
#include "sync/feed.h"
#include "sync/pull.h"
#include "sync/push.h"
#include "sync/watch.h"

#define WATCH_RENEW_SECONDS 86400 /* a watch expiring within a day is made anew */

#define TICK_MS 1000
#define HOLD_SECONDS 600 /* a claim outlives any pull's requests */
/* A push's claim outlives its requests (SYNC_PUSH_MAX_REQUESTS of SYNC_PUSH_TIMEOUT_MS, two token
 * refreshes of 10 s): a crashed process's pushes are taken up by another after this long. */
#define PUSH_HOLD_SECONDS 120
#define ONCE_HOLD_SECONDS 3600    /* a command line's pass holds its connections longer */
#define ONCE_LIMIT 10000          /* connections one pass takes */
#define BACKOFF_MAX_SECONDS 21600 /* 6 hours */
#define WINDOW_PAST_SECONDS 86400
#define WINDOW_AHEAD_SECONDS (400LL * 86400) /* past the longest booking horizon */

typedef struct job {
    struct job *next;
    sync_runner_t *runner;
    eng_id_t organization, id;
    sync_provider_t provider;
    char *calendar_id, *sync_token, *access_token, *credentials;
    size_t credentials_length;
    int64_t access_expires;
    tz_zone_t *zone;
    bool full;
    int failures;
    int64_t watch_expires;
    char *pulled_access_token; /* the pull's token, for making a watch after it */
    sync_pull_t *pull;
    sync_feed_t *feed; /* an ics connection's pull */
    store_tx_t *tx;
    sync_watch_t *watch;
    store_operation_t *watch_write;
} job_t;

/* An outbox row being delivered. */
typedef struct push_job {
    struct push_job *next;
    sync_runner_t *runner;
    store_push_item_t item; /* its strings copied below */
    char *strings[8];
    size_t credentials_length;
    sync_push_t *push;
    store_tx_t *tx;
    bool failed; /* the provider did not take it */
} push_job_t;

struct sync_runner {
    sync_runner_options_t options;
    store_operation_t *claiming_pushes;
    push_job_t *pushes;
    int pushes_in_flight;
    uv_timer_t timer;
    bool timer_started;
    store_operation_t *claiming;
    job_t *jobs;
    int in_flight; /* jobs pulling or writing */
    /* run_once */
    bool once, force_full, claimed_once;
    eng_id_t organization, connection;
    bool has_organization, has_connection;
    void (*once_done)(const sync_summary_t *, void *);
    void *once_arg;
    job_t *waiting[SYNC_PROVIDERS]; /* a pass's claims not started yet, by provider */
    int claimed;                    /* a pass's connections */
    bool pushes_done;               /* a pass found no more outbox rows to deliver */
    json_t *errors;                 /* a pass's failures */
    eng_id_t *touched;              /* a pass's connections, pulled or pushed to */
    int64_t *tried;                 /* a pass's outbox rows, each delivered at most once */
    size_t touched_count, touched_capacity, tried_count, tried_capacity;
    sync_summary_t summary;
    bool closing;
    void (*on_closed)(void *);
    void *closed_arg;
};

static int64_t now_of(const sync_runner_t *r)
{
    return r->options.now ? r->options.now(r->options.now_arg) : (int64_t)time(NULL);
}

static int concurrency(const sync_runner_t *r)
{
    return r->options.concurrency > 0 ? r->options.concurrency : 4;
}

static int provider_concurrency(const sync_runner_t *r)
{
    return r->options.provider_concurrency > 0 ? r->options.provider_concurrency : 2;
}

static bool waiting_none(const sync_runner_t *r)
{
    for (int p = 0; p < SYNC_PROVIDERS; p++)
        if (r->waiting[p])
            return false;
    return true;
}

static void job_free(job_t *j)
{
    free(j->calendar_id);
    free(j->sync_token);
    codec_secret_free(j->access_token, j->access_token ? strlen(j->access_token) : 0);
    codec_secret_free(j->credentials, j->credentials_length);
    codec_secret_free(j->pulled_access_token,
                      j->pulled_access_token ? strlen(j->pulled_access_token) : 0);
    free(j);
}

static void unlink_job(sync_runner_t *r, job_t *j)
{
    for (job_t **p = &r->jobs; *p; p = &(*p)->next)
        if (*p == j) {
            *p = j->next;
            return;
        }
}

static void on_timer_closed(uv_handle_t *handle)
{
    sync_runner_t *r = handle->data;
    if (r->on_closed)
        r->on_closed(r->closed_arg);
    json_decref(r->errors);
    free(r->touched);
    free(r->tried);
    free(r);
}

/* Frees the runner once closing and nothing it started is left. */
static void maybe_closed(sync_runner_t *r)
{
    if (!r->closing || r->in_flight > 0 || r->claiming || r->pushes_in_flight > 0 ||
        r->claiming_pushes)
        return;
    if (r->timer_started) {
        r->timer_started = false;
        uv_close((uv_handle_t *)&r->timer, on_timer_closed);
    }
}

static void start_jobs(sync_runner_t *r);

/* A pass ends once: with its summary, or (failed = -1) when the database refused its claim. */
static void report_once(sync_runner_t *r, bool refused)
{
    if (!r->once || r->once_done == NULL)
        return;
    sync_summary_t failed = {.failed = -1};
    void (*done)(const sync_summary_t *, void *) = r->once_done;
    r->once_done = NULL;
    done(refused ? &failed : &r->summary, r->once_arg);
}

/* A pass is over when its claims are made, none is waiting or running, and no outbox row is
 * left to deliver. */
static void maybe_report(sync_runner_t *r)
{
    if (r->once && r->claimed_once && r->in_flight == 0 && waiting_none(r) && r->pushes_done &&
        r->pushes_in_flight == 0 && r->claiming_pushes == NULL)
        report_once(r, false);
}

/* A pass's failure, for its summary. */
static void pass_error(sync_runner_t *r, const eng_id_t *connection, const eng_id_t *booking,
                       const char *error)
{
    if (!r->once)
        return;
    char c[37], b[37];
    codec_format_uuid(connection, c);
    if (booking)
        codec_format_uuid(booking, b);
    json_array_append_new(r->errors, json_pack("{s:s, s:s?, s:s}", "connection_id", c, "booking_id",
                                               booking ? b : NULL, "error", error));
}

/* A connection the pass works on, counted once. */
static void pass_touched(sync_runner_t *r, const eng_id_t *connection)
{
    for (size_t i = 0; i < r->touched_count; i++)
        if (memcmp(&r->touched[i], connection, sizeof(*connection)) == 0)
            return;
    r->touched =
        slotd_grow(r->touched, &r->touched_capacity, r->touched_count + 1, sizeof(*r->touched));
    r->touched[r->touched_count++] = *connection;
    r->summary.connections = (int)r->touched_count;
}

/* A job is over: counted, freed; a pass reports once its last one ends. */
static void job_over(sync_runner_t *r, job_t *j, bool ok, long events)
{
    unlink_job(r, j);
    bool counted = j->failures == -1; /* a pull that went on to make a watch */
    job_free(j);
    r->in_flight--;
    if (ok || counted) {
        r->summary.pulled++;
        r->summary.events += events;
    } else {
        r->summary.failed++;
    }
    if (r->closing) {
        maybe_closed(r);
        return;
    }
    if (r->once && r->options.progress)
        r->options.progress(r->summary.pulled + r->summary.failed, r->claimed,
                            r->options.progress_arg);
    start_jobs(r);
    maybe_report(r);
}

/* ---- writing a pull's result ----------------------------------------------------------------- */

typedef struct {
    job_t *job;
    bool ok;
    long events;
} written_t;

static void on_watch_written(int error, void *arg)
{
    job_t *j = arg;
    j->watch_write = NULL;
    if (error) {
        char id[37];
        codec_format_uuid(&j->id, id);
        log_warn("sync_watch_not_kept", "connection_id", id, NULL);
    }
    job_over(j->runner, j, true, 0);
}

static void on_watch(const sync_watch_result_t *res, void *arg)
{
    job_t *j = arg;
    sync_runner_t *r = j->runner;
    j->watch = NULL;
    char id[37];
    codec_format_uuid(&j->id, id);
    if (res->error) {
        log_warn("sync_watch_failed", "connection_id", id, "cause", res->message, NULL);
        job_over(r, j, true, 0);
        return;
    }
    uint8_t hash[32];
    store_key_hash(res->secret, strlen(res->secret), hash);
    log_info("sync_watching", "connection_id", id, NULL);
    j->watch_write = store_sync_watch_set(r->options.pool, &j->organization, &j->id, res->id, hash,
                                          res->resource_id, res->expires, on_watch_written, j);
    if (j->watch_write == NULL)
        job_over(r, j, true, 0);
}

/* After a good pull: a watch channel or subscription when webhooks can reach slotd and the
 * connection's expires within a day (or it has none). True when one is being made. */
static bool make_watch(sync_runner_t *r, job_t *j)
{
    const sync_settings_t *s = &r->options.settings;
    if (s->public_url == NULL || j->provider == SYNC_CALCOM || j->provider == SYNC_ICS ||
        j->pulled_access_token == NULL || j->watch_expires > now_of(r) + WATCH_RENEW_SECONDS)
        return false;
    sync_watch_input_t in = {.provider = j->provider,
                             .api_url = j->provider == SYNC_GOOGLE ? s->google_api_url
                                                                   : s->microsoft_graph_url,
                             .access_token = j->pulled_access_token,
                             .calendar_id = j->calendar_id,
                             .public_url = s->public_url,
                             .now = now_of(r)};
    j->watch = sync_watch_start(r->options.http, &in, on_watch, j);
    return j->watch != NULL;
}

static void on_written(int error, void *arg)
{
    written_t *w = arg;
    job_t *j = w->job;
    j->tx = NULL;
    if (error) {
        char id[37];
        codec_format_uuid(&j->id, id);
        log_warn("sync_write_failed", "connection_id", id, NULL);
        pass_error(j->runner, &j->id, NULL, "the pull's result could not be written");
    }
    bool ok = w->ok && !error;
    long events = w->events;
    free(w);
    if (ok && !j->runner->closing && make_watch(j->runner, j)) {
        /* counted now; the watch ends the job */
        j->runner->summary.events += events;
        j->failures = -1; /* marks the pull as counted */
        return;
    }
    job_over(j->runner, j, ok, events);
}

/* When the next pull is due: the interval, shifted by up to a tenth either way; after
 * failures, longer (doubling), and never sooner than the provider asked. */
static int64_t next_pull(const sync_runner_t *r, const job_t *j, bool failed, int64_t retry_after)
{
    int64_t interval =
        r->options.settings.interval_seconds > 0 ? r->options.settings.interval_seconds : 300;
    int64_t wait = interval;
    if (failed) {
        for (int k = 0; k <= j->failures && wait < BACKOFF_MAX_SECONDS; k++)
            wait *= 2;
        if (wait > BACKOFF_MAX_SECONDS)
            wait = BACKOFF_MAX_SECONDS;
        if (retry_after > wait)
            wait = retry_after;
    }
    int64_t spread = wait / 10;
    if (spread > 0)
        wait += (int64_t)(rand() % (2 * spread + 1)) - spread;
    return now_of(r) + (wait > 1 ? wait : 1);
}

/* The credentials with a rotated refresh token (caller frees), or NULL. */
static char *rotated_credentials(const job_t *j, const char *refresh_token)
{
    json_t *c = json_loadb(j->credentials, j->credentials_length, 0, NULL);
    if (!json_is_object(c)) {
        json_decref(c);
        return NULL;
    }
    json_object_set_new(c, "refresh_token", json_string(refresh_token));
    char *text = json_dumps(c, JSON_COMPACT);
    json_decref(c);
    return text;
}

static void write_out(job_t *j, int error_code, const char *message, int64_t retry_after,
                      store_sync_result_t *out, const char *upserts, const char *deletes,
                      long busy);

static void write_result(job_t *j, const sync_pull_result_t *res)
{
    json_t *upserts = json_array(), *deletes = json_array();
    long busy = 0;
    /* an event may come more than once in one pull: its last appearance wins */
    json_t *last = json_object();
    for (size_t i = 0; i < res->count; i++)
        json_object_set_new(last, res->events[i].id, json_integer((json_int_t)i));
    for (size_t i = 0; i < res->count; i++) {
        const sync_event_t *e = &res->events[i];
        if (json_integer_value(json_object_get(last, e->id)) != (json_int_t)i)
            continue;
        if (e->busy && !e->removed && !e->ours) {
            json_array_append_new(upserts,
                                  json_pack("{s:s, s:I, s:I, s:b, s:s?}", "id", e->id, "start",
                                            (json_int_t)e->start, "end", (json_int_t)e->end,
                                            "all_day", e->all_day, "summary", e->summary));
            busy++;
        } else {
            json_array_append_new(deletes, json_string(e->id));
        }
    }
    json_decref(last);
    char *credentials = res->refresh_token ? rotated_credentials(j, res->refresh_token) : NULL;
    if (res->access_token && res->error == SYNC_OK)
        j->pulled_access_token = slotd_strdup(res->access_token);
    store_sync_result_t out = {.broken = res->error == SYNC_E_AUTH,
                               .full = res->full,
                               .sync_token = res->sync_state,
                               .access_token = res->access_token,
                               .access_expires = res->access_expires,
                               .credentials = credentials};
    char *upserts_text = json_array_size(upserts) ? json_dumps(upserts, JSON_COMPACT) : NULL;
    char *deletes_text = json_array_size(deletes) ? json_dumps(deletes, JSON_COMPACT) : NULL;
    json_decref(upserts);
    json_decref(deletes);
    write_out(j, res->error, res->message, res->retry_after, &out, upserts_text, deletes_text,
              busy);
    free(upserts_text);
    free(deletes_text);
    codec_secret_free(credentials, credentials ? strlen(credentials) : 0);
}

/* Writes a pull's result (`out` with its error, clock, events and next pull still to fill in);
 * takes the lists. */
static void write_out(job_t *j, int error_code, const char *message, int64_t retry_after,
                      store_sync_result_t *out, const char *upserts, const char *deletes, long busy)
{
    sync_runner_t *r = j->runner;
    bool failed = error_code != SYNC_OK;
    char error[300];
    snprintf(error, sizeof(error), "%s", message);
    out->now = now_of(r);
    out->error = failed ? error : NULL;
    out->upserts_json = upserts;
    out->deletes_json = deletes;
    out->next_sync_at = next_pull(r, j, failed, retry_after);
    char id[37];
    codec_format_uuid(&j->id, id);
    if (failed) {
        log_warn("sync_pull_failed", "connection_id", id, "cause", error, NULL);
        pass_error(r, &j->id, NULL, error);
    } else
        log_info("sync_pulled", "connection_id", id, "full", out->full ? "true" : "false", NULL);
    written_t *w = slotd_calloc(1, sizeof(*w));
    *w = (written_t){j, !failed, busy};
    j->tx = store_sync_finish(r->options.pool, r->options.key, &j->organization, &j->id, out,
                              on_written, w);
    if (j->tx == NULL) {
        free(w);
        job_over(r, j, false, 0);
    }
}

/* An ICS feed's pull: its whole busy time replaces the connection's (one-off events and series),
 * or nothing changes. */
static void on_fed(const sync_feed_result_t *res, void *arg)
{
    job_t *j = arg;
    j->feed = NULL;
    bool replace = res->error == SYNC_OK && !res->unchanged;
    store_sync_result_t out = {.full = replace,
                               .sync_token = res->state,
                               .upsert_parts = replace ? res->upsert_parts : NULL,
                               .upsert_part_count = replace ? res->upsert_part_count : 0};
    write_out(j, res->error, res->message, res->retry_after, &out, NULL, NULL,
              replace ? res->busy_count : 0);
}

static void on_pulled(const sync_pull_result_t *res, void *arg)
{
    job_t *j = arg;
    j->pull = NULL;
    write_result(j, res);
}

/* A result for a connection that could not be pulled at all. */
static void refuse_job(job_t *j, int error, const char *message)
{
    sync_pull_result_t res = {.error = error};
    snprintf(res.message, sizeof(res.message), "%s", message);
    write_result(j, &res);
}

/* ---- starting pulls -------------------------------------------------------------------------- */

static const char *text_of(const json_t *object, const char *key, const char *fallback)
{
    const char *value = json_string_value(json_object_get(object, key));
    return value && value[0] ? value : fallback;
}

static void start_job(sync_runner_t *r, job_t *j)
{
    r->in_flight++;
    j->next = r->jobs;
    r->jobs = j;
    if (j->credentials == NULL) {
        /* not broken: an instance with another secret_key must not break every connection */
        refuse_job(j, SYNC_E_PROVIDER,
                   "the stored credentials do not open with this process's secret_key");
        return;
    }
    json_t *c = json_loadb(j->credentials, j->credentials_length, 0, NULL);
    if (j->provider == SYNC_ICS) {
        sync_feed_input_t in = {.url = text_of(c, "url", NULL),
                                .state = j->sync_token,
                                .full = j->full,
                                .zone = j->zone};
        j->feed = sync_feed_start(r->options.http, &in, on_fed, j);
        json_decref(c);
        return;
    }
    const sync_settings_t *s = &r->options.settings;
    int64_t now = now_of(r);
    bool google = j->provider == SYNC_GOOGLE, microsoft = j->provider == SYNC_MICROSOFT;
    sync_pull_input_t in = {
        .provider = j->provider,
        .api_url = google      ? s->google_api_url
                   : microsoft ? s->microsoft_graph_url
                               : s->calcom_api_url,
        .token_url = google      ? s->google_token_url
                     : microsoft ? s->microsoft_login_url
                                 : NULL,
        .client_id = text_of(c, "client_id", google ? s->google_client_id : s->microsoft_client_id),
        .client_secret = text_of(c, "client_secret",
                                 google ? s->google_client_secret : s->microsoft_client_secret),
        .tenant = text_of(c, "tenant", NULL),
        .refresh_token = text_of(c, "refresh_token", NULL),
        .api_key = text_of(c, "api_key", NULL),
        .access_token = j->access_token,
        .access_expires = j->access_expires,
        .calendar_id = j->calendar_id,
        .sync_state = j->full ? NULL : j->sync_token,
        .window_start = now - WINDOW_PAST_SECONDS,
        .window_end = now + WINDOW_AHEAD_SECONDS,
        .zone = j->zone,
        .now = now};
    j->pull = sync_pull_start(r->options.http, &in, on_pulled, j);
    json_decref(c);
    if (j->pull == NULL)
        refuse_job(j, SYNC_E_PROVIDER, "the provider's settings are not usable URLs");
}

/* Pulls running of one provider. */
static int pulls_of(const sync_runner_t *r, sync_provider_t provider)
{
    int n = 0;
    for (const job_t *j = r->jobs; j; j = j->next)
        n += j->provider == provider;
    return n;
}

/* A pass starts its waiting claims up to the concurrency, each provider's up to its own, taking
 * the providers in turn. A start may end at once and start others: each is taken off first. */
static void start_jobs(sync_runner_t *r)
{
    for (bool started = true; started;) {
        started = false;
        for (int p = 0; p < SYNC_PROVIDERS && r->in_flight < concurrency(r); p++) {
            job_t *j = r->waiting[p];
            if (j && pulls_of(r, (sync_provider_t)p) < provider_concurrency(r)) {
                r->waiting[p] = j->next;
                start_job(r, j);
                started = true;
            }
        }
    }
}

/* What a claim may take: the room left overall and each provider's. */
static store_sync_rooms_t pull_rooms(const sync_runner_t *r, int room)
{
    int left[SYNC_PROVIDERS];
    for (int p = 0; p < SYNC_PROVIDERS; p++) {
        left[p] = provider_concurrency(r) - pulls_of(r, (sync_provider_t)p);
        left[p] = left[p] < 0 ? 0 : left[p] < room ? left[p] : room;
    }
    return (store_sync_rooms_t){.google = left[SYNC_GOOGLE],
                                .microsoft = left[SYNC_MICROSOFT],
                                .calcom = left[SYNC_CALCOM],
                                .ics = left[SYNC_ICS]};
}

static job_t *job_of(sync_runner_t *r, const store_sync_claim_t *c)
{
    job_t *j = slotd_calloc(1, sizeof(*j));
    j->runner = r;
    j->organization = c->organization;
    j->id = c->id;
    j->provider = sync_provider_named(c->provider);
    j->calendar_id = c->calendar_id ? slotd_strdup(c->calendar_id) : NULL;
    j->sync_token = c->sync_token ? slotd_strdup(c->sync_token) : NULL;
    j->access_token = c->access_token ? slotd_strdup(c->access_token) : NULL;
    j->access_expires = c->access_expires;
    if (c->credentials) {
        j->credentials = slotd_malloc(c->credentials_length + 1);
        memcpy(j->credentials, c->credentials, c->credentials_length + 1);
        j->credentials_length = c->credentials_length;
    }
    if (tz_zone_find(c->timezone, &j->zone) != 0)
        tz_zone_find("UTC", &j->zone);
    j->full = c->full || r->force_full;
    j->failures = c->failures;
    j->watch_expires = c->watch_expires;
    return j;
}

static void on_claimed(int error, const store_sync_claim_t *claims, size_t count, void *arg)
{
    sync_runner_t *r = arg;
    r->claiming = NULL;
    if (r->closing) {
        maybe_closed(r); /* claims not started run out by themselves */
        return;
    }
    r->claimed_once = true;
    if (error && r->once) {
        report_once(r, true); /* the database did not answer the claim */
        return;
    }
    for (size_t i = 0; !error && i < count; i++) {
        job_t *j = job_of(r, &claims[i]);
        r->claimed++;
        if (r->once)
            pass_touched(r, &j->id);
        if (r->once) {
            j->next = r->waiting[j->provider];
            r->waiting[j->provider] = j;
        } else {
            start_job(r, j);
        }
    }
    start_jobs(r);
    maybe_report(r);
}

static void claim(sync_runner_t *r)
{
    int room = r->once ? ONCE_LIMIT : concurrency(r) - r->in_flight;
    store_sync_rooms_t rooms =
        r->once ? (store_sync_rooms_t){ONCE_LIMIT, ONCE_LIMIT, ONCE_LIMIT, ONCE_LIMIT}
                : pull_rooms(r, room);
    if (r->closing || r->claiming || room <= 0 ||
        rooms.google + rooms.microsoft + rooms.calcom + rooms.ics == 0)
        return;
    store_sync_claim_options_t o = {.now = now_of(r),
                                    .limit = room,
                                    .rooms = rooms,
                                    .hold_seconds = r->once ? ONCE_HOLD_SECONDS : HOLD_SECONDS,
                                    .connection = r->has_connection ? &r->connection : NULL,
                                    .organization = r->has_organization ? &r->organization : NULL,
                                    .due_only = !r->once,
                                    .nightly_hour = r->options.settings.nightly_hour};
    r->claiming = store_sync_claim(r->options.pool, r->options.key, &o, on_claimed, r);
}

/* ---- pushing the outbox ---------------------------------------------------------------------- */

static void push_job_free(push_job_t *j)
{
    for (size_t i = 0; i < sizeof(j->strings) / sizeof(j->strings[0]); i++)
        if (j->strings[i]) {
            memset(j->strings[i], 0, strlen(j->strings[i]));
            free(j->strings[i]);
        }
    free(j);
}

static void claim_pushes(sync_runner_t *r);

static void push_over(sync_runner_t *r, push_job_t *j)
{
    for (push_job_t **p = &r->pushes; *p; p = &(*p)->next)
        if (*p == j) {
            *p = j->next;
            break;
        }
    push_job_free(j);
    r->pushes_in_flight--;
    if (r->closing) {
        maybe_closed(r);
        return;
    }
    if (r->once) {
        claim_pushes(r);
        maybe_report(r);
    }
}

static void on_push_written(int error, void *arg)
{
    push_job_t *j = arg;
    j->tx = NULL;
    if (error) {
        char id[37];
        codec_format_uuid(&j->item.booking, id);
        log_warn("sync_push_write_failed", "booking_id", id, NULL);
        pass_error(j->runner, &j->item.connection, &j->item.booking,
                   "the delivery could not be recorded");
    } else if (!j->failed) {
        j->runner->summary.pushed++;
    }
    push_over(j->runner, j);
}

static void on_pushed(const sync_push_result_t *res, void *arg)
{
    push_job_t *j = arg;
    sync_runner_t *r = j->runner;
    j->push = NULL;
    int64_t wait = 30;
    for (int k = 1; k < j->item.attempts && wait < 3600; k++)
        wait *= 2;
    char booking[37], connection[37];
    codec_format_uuid(&j->item.booking, booking);
    codec_format_uuid(&j->item.connection, connection);
    j->failed = res->error != 0;
    if (res->error) {
        log_warn("sync_push_failed", "booking_id", booking, "connection_id", connection, "cause",
                 res->message, NULL);
        pass_error(r, &j->item.connection, &j->item.booking, res->message);
    } else if (res->set_mapping || res->clear_mapping)
        log_info("sync_pushed", "booking_id", booking, "connection_id", connection, NULL);
    char *credentials = NULL;
    if (res->refresh_token && j->item.credentials) {
        json_t *c = json_loads(j->item.credentials, 0, NULL);
        json_object_set_new(c, "refresh_token", json_string(res->refresh_token));
        credentials = json_is_object(c) ? json_dumps(c, JSON_COMPACT) : NULL;
        json_decref(c);
    }
    store_push_result_t out = {.now = now_of(r),
                               .error = res->error ? res->message : NULL,
                               .revoked = res->revoked,
                               .retry_at = now_of(r) + (wait < 3600 ? wait : 3600),
                               .set_mapping = res->set_mapping,
                               .clear_mapping = res->clear_mapping,
                               .external_id = res->external_id,
                               .start = res->start,
                               .access_token = res->access_token,
                               .access_expires = res->access_expires,
                               .credentials = credentials};
    j->tx = store_push_finish(r->options.pool, r->options.key, &j->item, &out, on_push_written, j);
    codec_secret_free(credentials, credentials ? strlen(credentials) : 0);
    if (j->tx == NULL)
        push_over(r, j);
}

static void on_pushes_claimed(int error, const store_push_item_t *items, size_t count, void *arg)
{
    sync_runner_t *r = arg;
    r->claiming_pushes = NULL;
    if (r->closing) {
        maybe_closed(r);
        return;
    }
    if (r->once && (error || count == 0)) {
        if (error)
            json_array_append_new(r->errors,
                                  json_pack("{s:s}", "error", "the outbox could not be read"));
        r->pushes_done = r->pushes_in_flight == 0 || error;
        maybe_report(r);
        return;
    }
    for (size_t i = 0; !error && i < count; i++) {
        push_job_t *j = slotd_calloc(1, sizeof(*j));
        j->runner = r;
        j->item = items[i];
        const char **fields[] = {&j->item.provider,       &j->item.calendar_id,
                                 &j->item.credentials,    &j->item.access_token,
                                 &j->item.service_name,   &j->item.customer_name,
                                 &j->item.customer_email, &j->item.external_id};
        for (size_t k = 0; k < 8; k++)
            if (*fields[k])
                *fields[k] = j->strings[k] = slotd_strdup(*fields[k]);
        j->item.timezone = NULL; /* the zone is read at once: not kept */
        j->next = r->pushes;
        r->pushes = j;
        r->pushes_in_flight++;
        if (r->once) {
            pass_touched(r, &j->item.connection);
            r->tried =
                slotd_grow(r->tried, &r->tried_capacity, r->tried_count + 1, sizeof(*r->tried));
            r->tried[r->tried_count++] = j->item.outbox_id;
        }
        store_push_item_t item = j->item;
        item.timezone = items[i].timezone;
        j->push = sync_push_start(r->options.loop, r->options.http, &r->options.settings, &item,
                                  now_of(r), on_pushed, j);
    }
}

/* Takes due outbox rows: up to the concurrency, each provider's up to its own, one at a time per
 * connection (a connection being pushed to is left out). */
static void claim_pushes(sync_runner_t *r)
{
    int room = concurrency(r) - r->pushes_in_flight;
    if (r->closing || r->claiming_pushes || room <= 0 || r->pushes_done)
        return;
    int left[SYNC_PROVIDERS];
    for (int p = 0; p < SYNC_PROVIDERS; p++)
        left[p] = provider_concurrency(r);
    eng_id_t busy[64];
    size_t busy_count = 0;
    for (const push_job_t *j = r->pushes; j; j = j->next) {
        left[sync_provider_named(j->item.provider)]--;
        if (busy_count < sizeof(busy) / sizeof(busy[0]))
            busy[busy_count++] = j->item.connection;
    }
    for (int p = 0; p < SYNC_PROVIDERS; p++)
        left[p] = left[p] < 0 ? 0 : left[p] < room ? left[p] : room;
    if (left[SYNC_GOOGLE] + left[SYNC_MICROSOFT] + left[SYNC_CALCOM] == 0)
        return;
    store_push_claim_options_t o = {.now = now_of(r),
                                    .limit = room,
                                    .hold_seconds = PUSH_HOLD_SECONDS,
                                    .rooms = {.google = left[SYNC_GOOGLE],
                                              .microsoft = left[SYNC_MICROSOFT],
                                              .calcom = left[SYNC_CALCOM]},
                                    .busy = busy,
                                    .busy_count = busy_count,
                                    .connection = r->has_connection ? &r->connection : NULL,
                                    .organization = r->has_organization ? &r->organization : NULL,
                                    .due_only = !(r->once && r->force_full),
                                    .tried = r->tried,
                                    .tried_count = r->tried_count};
    r->claiming_pushes =
        store_push_claim(r->options.pool, r->options.key, &o, on_pushes_claimed, r);
    if (r->claiming_pushes == NULL && r->once && r->pushes_in_flight == 0) {
        json_array_append_new(r->errors,
                              json_pack("{s:s}", "error", "the outbox could not be read"));
        r->pushes_done = true;
    }
}

static void on_tick(uv_timer_t *timer)
{
    claim(timer->data);
    claim_pushes(timer->data);
}

static sync_runner_t *runner_new(const sync_runner_options_t *options)
{
    sync_runner_t *r = slotd_calloc(1, sizeof(*r));
    r->options = *options;
    r->errors = json_array();
    r->summary.errors = r->errors;
    uv_timer_init(options->loop, &r->timer);
    r->timer.data = r;
    r->timer_started = true;
    return r;
}

sync_runner_t *sync_runner_start(const sync_runner_options_t *options)
{
    sync_runner_t *r = runner_new(options);
    uv_timer_start(&r->timer, on_tick, 0, TICK_MS);
    return r;
}

static void on_once_tick(uv_timer_t *timer)
{
    sync_runner_t *r = timer->data;
    claim(r);
    if (r->claiming == NULL && !r->claimed_once) {
        report_once(r, true); /* the pool refused the claim */
        return;
    }
    claim_pushes(r);
}

sync_runner_t *sync_runner_run_once(const sync_runner_options_t *options,
                                    const eng_id_t *organization, const eng_id_t *connection,
                                    bool full, void (*done)(const sync_summary_t *, void *),
                                    void *arg)
{
    sync_runner_t *r = runner_new(options);
    r->once = true;
    r->force_full = full;
    r->once_done = done;
    r->once_arg = arg;
    if (organization) {
        r->organization = *organization;
        r->has_organization = true;
    }
    if (connection) {
        r->connection = *connection;
        r->has_connection = true;
    }
    uv_timer_start(&r->timer, on_once_tick, 0, 0);
    return r;
}

void sync_runner_summary(const sync_runner_t *runner, sync_summary_t *summary)
{
    *summary = runner->summary;
}

void sync_runner_close(sync_runner_t *r, void (*on_closed)(void *), void *arg)
{
    r->closing = true;
    r->on_closed = on_closed;
    r->closed_arg = arg;
    uv_timer_stop(&r->timer);
    if (r->claiming) {
        store_operation_cancel(r->claiming);
        r->claiming = NULL;
    }
    if (r->claiming_pushes) {
        store_operation_cancel(r->claiming_pushes);
        r->claiming_pushes = NULL;
    }
    for (push_job_t *j = r->pushes, *next; j; j = next) {
        next = j->next;
        if (j->push) { /* abandoned: its claim runs out and it is delivered again */
            sync_push_cancel(j->push);
            j->push = NULL;
            push_over(r, j);
        }
    }
    for (int p = 0; p < SYNC_PROVIDERS; p++)
        while (r->waiting[p]) {
            job_t *j = r->waiting[p];
            r->waiting[p] = j->next;
            job_free(j);
        }
    /* pulls are abandoned (their claims run out); writes already sent end by themselves */
    for (job_t *j = r->jobs, *next; j; j = next) {
        next = j->next;
        if (j->watch)
            sync_watch_cancel(j->watch);
        if (j->pull || j->watch || j->feed) {
            if (j->pull)
                sync_pull_cancel(j->pull);
            if (j->feed)
                sync_feed_cancel(j->feed);
            unlink_job(r, j);
            job_free(j);
            r->in_flight--;
        }
    }
    maybe_closed(r);
}
