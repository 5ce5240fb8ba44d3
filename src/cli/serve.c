/*
 * slotd serve: migrate, then run the service on one libuv loop until SIGTERM
 * or SIGINT. Shutdown: stop accepting, let in-flight requests finish (each has
 * its own deadline) for at most shutdown_timeout_ms, close the database pool,
 * leave the loop with nothing open.
 *
 * With shutdown_delay_ms, /readyz answers 503 for that long before the drain
 * begins, every other route served as before: a load balancer checking it takes
 * the instance out of rotation while it still accepts.
 *
 * Signals: the first SIGTERM or SIGINT starts that drain. A second one is
 * only logged — a terminal's Ctrl-C and a supervisor's (or a script's trap)
 * SIGTERM often arrive together, and must not cut the drain short. A third
 * one, or the shutdown deadline, stops at once (exit status 1).
 *
 * Every line the service writes goes through the log module (one JSON line
 * each); once the loop runs, writing never blocks it.
 */
#include <getopt.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "cli/commands.h"
#include "cli/config.h"
#include "cli/workers.h"
#include "http/routes.h"
#include "http/server.h"
#include "slotd/codec.h"
#include "log/log.h"
#include "slotd/alloc.h"
#include "store/bookings.h"
#include "store/keys.h"
#include "store/migrations.h"
#include "store/statements.h"
#include "sync/runner.h"
#include "webhooks/deliver.h"

#define FORCE_AFTER_SIGNALS 3
/* The sweep of expired holds, old idempotency keys and the log of occupancy changes: how
 * often, and how many holds and keys at most per run (of the log, ten times as many; a run that
 * reaches either runs again at once). */
#define SWEEP_INTERVAL_MS 60000
#define SWEEP_BATCH 1000

typedef struct {
    uv_loop_t *loop;
    uv_signal_t sigterm, sigint;
    uv_timer_t shutdown_deadline;
    uv_timer_t stop_delay; /* between announcing the stop (/readyz 503) and stopping */
    uv_timer_t sweep;
    store_operation_t *sweeping;  /* the sweep's query in flight */
    bool sweeps;                  /* this process sweeps (one per instance) */
    uv_timer_t listen_when_ready; /* a restarted worker: accept once the index is loaded */
    http_server_t *server;
    store_pool_t *pool;
    store_index_t *index;
    io_http_t *http;            /* calendar sync's outbound HTTP */
    sync_runner_t *sync;        /* pulls calendar connections (with a secret_key only) */
    webhook_worker_t *webhooks; /* delivers outbound webhooks (with a secret_key only) */
    int signals;                /* SIGTERM/SIGINT received */
    bool forced;                /* stopped by the deadline or a third signal, not by the drain */
    int shutdown_timeout_ms;
    int shutdown_delay_ms;
} service_t;

static void on_index_closed(void *arg)
{
    service_t *svc = arg;
    svc->index = NULL;
    uv_close((uv_handle_t *)&svc->sweep, NULL);
    uv_close((uv_handle_t *)&svc->sigterm, NULL);
    uv_close((uv_handle_t *)&svc->sigint, NULL);
    /* closing them restored the default action: a signal now would kill the process while
     * it writes its last lines */
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    uv_close((uv_handle_t *)&svc->listen_when_ready, NULL);
    uv_close((uv_handle_t *)&svc->stop_delay, NULL);
    /* Idle keep-alive connections may remain: they end with the process. */
    uv_stop(svc->loop);
}

/* The pool closes first: its pending queries call back into the index. */
static void on_pool_closed(void *arg)
{
    service_t *svc = arg;
    svc->pool = NULL;
    store_index_close(svc->index, on_index_closed, svc);
}

static void close_pool(service_t *svc)
{
    if (svc->pool) {
        store_pool_t *pool = svc->pool;
        store_pool_close(pool, on_pool_closed, svc);
    }
}

static void on_http_closed(void *arg)
{
    service_t *svc = arg;
    svc->http = NULL;
    close_pool(svc);
}

/* Calendar sync stops first (its writes in flight end), then webhook deliveries, then their
 * HTTP client, then the pool. */
static void on_webhooks_closed(void *arg)
{
    service_t *svc = arg;
    svc->webhooks = NULL;
    if (svc->http)
        io_http_close(svc->http, on_http_closed, svc);
    else
        close_pool(svc);
}

static void on_sync_closed(void *arg)
{
    service_t *svc = arg;
    svc->sync = NULL;
    if (svc->webhooks)
        webhook_worker_close(svc->webhooks, on_webhooks_closed, svc);
    else
        on_webhooks_closed(svc);
}

static void on_server_idle(void *arg)
{
    service_t *svc = arg;
    uv_timer_stop(&svc->shutdown_deadline);
    if (svc->sync)
        sync_runner_close(svc->sync, on_sync_closed, svc);
    else
        on_sync_closed(svc);
}

static void on_shutdown_deadline(uv_timer_t *timer)
{
    service_t *svc = timer->data;
    log_warn("shutdown_deadline", "cause", "requests still in flight; stopping now", NULL);
    svc->forced = true;
    uv_stop(svc->loop);
}

/* The drain: no more connections, in-flight requests finish within the shutdown timeout. */
static void begin_stop(uv_timer_t *timer)
{
    service_t *svc = timer->data;
    uv_timer_start(&svc->shutdown_deadline, on_shutdown_deadline,
                   (uint64_t)svc->shutdown_timeout_ms, 0);
    if (svc->server)
        http_server_stop(svc->server, on_server_idle, svc);
}

void cli_sync_options(const slotd_config_t *c, sync_runner_options_t *o)
{
    o->key = &c->secret_key;
    o->concurrency = c->sync_concurrency;
    o->provider_concurrency = c->sync_provider_concurrency;
    o->settings = (sync_settings_t){.google_api_url = c->google_api_url,
                                    .google_token_url = c->google_token_url,
                                    .microsoft_graph_url = c->microsoft_graph_url,
                                    .microsoft_login_url = c->microsoft_login_url,
                                    .calcom_api_url = c->calcom_api_url,
                                    .google_client_id = c->google_client_id,
                                    .google_client_secret = c->google_client_secret,
                                    .microsoft_client_id = c->microsoft_client_id,
                                    .microsoft_client_secret = c->microsoft_client_secret,
                                    .public_url = c->public_url,
                                    .interval_seconds = c->sync_interval_seconds,
                                    .nightly_hour = c->sync_nightly_hour};
}

static void on_signal(uv_signal_t *handle, int signum)
{
    service_t *svc = handle->data;
    const char *name = signum == SIGTERM ? "SIGTERM" : "SIGINT";
    svc->signals++;
    if (svc->signals >= FORCE_AFTER_SIGNALS) {
        log_warn("shutdown_forced", "signal", name, NULL);
        svc->forced = true;
        uv_stop(svc->loop);
        return;
    }
    if (svc->signals > 1) {
        log_info("shutdown_in_progress", "signal", name, "note",
                 "draining; a third signal stops at once", NULL);
        return;
    }
    log_info("shutdown", "signal", name, NULL);
    uv_timer_stop(&svc->sweep);
    if (svc->shutdown_delay_ms > 0 && svc->server) {
        /* a load balancer sees /readyz fail and stops sending before the listener closes */
        http_server_announce_stop(svc->server);
        uv_timer_start(&svc->stop_delay, begin_stop, (uint64_t)svc->shutdown_delay_ms, 0);
        return;
    }
    begin_stop(&svc->stop_delay);
}

static void on_sweep(uv_timer_t *timer);

static void on_swept(void *arg, int error, long holds, long keys, long changes)
{
    service_t *svc = arg;
    svc->sweeping = NULL;
    if (error) {
        if (svc->signals == 0) /* at shutdown the closing pool ends it: say nothing */
            log_warn("sweep_failed", "cause", "the database did not answer; the next run retries",
                     NULL);
        return;
    }
    if (holds || keys || changes) {
        log_line_t line;
        log_begin(&line, LOG_INFO, "swept");
        log_int(&line, "expired_holds", holds);
        log_int(&line, "idempotency_keys", keys);
        log_int(&line, "occupancy_changes", changes);
        log_end(&line);
    }
    /* a full batch means more are waiting: go on at once, unless shutting down */
    if ((holds >= SWEEP_BATCH || keys >= SWEEP_BATCH || changes >= SWEEP_BATCH * 10) &&
        svc->signals == 0)
        uv_timer_start(&svc->sweep, on_sweep, 0, SWEEP_INTERVAL_MS);
}

/* Deletes expired holds no booking met, idempotency keys past their 24 hours and the log of
 * occupancy changes past its ten minutes. */
static void on_sweep(uv_timer_t *timer)
{
    service_t *svc = timer->data;
    if (svc->sweeping || svc->pool == NULL || svc->server == NULL)
        return;
    svc->sweeping =
        store_bookings_sweep(svc->pool, http_now(svc->server), SWEEP_BATCH, on_swept, svc);
}

static void on_listen_when_ready(uv_timer_t *timer)
{
    service_t *svc = timer->data;
    /* what /readyz asks: the index loaded and the database answering */
    if (svc->signals > 0 || !store_index_ready(svc->index) ||
        store_pool_ready_count(svc->pool) == 0)
        return;
    uv_timer_stop(timer);
    int rc = http_server_listen(svc->server);
    if (rc != 0) {
        log_error("listen_failed", "cause", uv_strerror(rc), NULL);
        svc->forced = true;
        uv_stop(svc->loop);
        return;
    }
    log_info("accepting", "cause", "ready: the index is loaded and the database answers", NULL);
}

/* A key of an organization changed on some instance: forget its cached keys here. */
static void on_notice(void *arg, const char *table, const eng_id_t *organization)
{
    service_t *svc = arg;
    (void)table;
    if (svc->server)
        http_server_forget_keys(svc->server, organization);
}

/* The server of a finished run: still reachable, for its memory ends with the process. */
static http_server_t *running_server;

enum { OPT_DATABASE_URL = 1000, OPT_CONFIG, OPT_LISTEN, OPT_WORKERS, OPT_HELP };

int cli_serve(int argc, char **argv)
{
    static const char help[] =
        "usage: slotd serve [options]\n"
        "Applies migrations, then serves the HTTP API until SIGTERM or SIGINT.\n"
        "  --listen HOST:PORT   address to listen on (else SLOTD_LISTEN, else 127.0.0.1:8080)\n"
        "  --database-url URL   PostgreSQL URL (else SLOTD_DATABASE_URL, else the config file)\n"
        "  --config FILE        JSON settings file (see config/slotd.example.json)\n"
        "  --workers N          processes sharing the address (else SLOTD_WORKERS, else the\n"
        "                       config file, else one per core); each keeps its own index\n"
        "  --help               this text\n"
        "SLOTD_NOW=<RFC 3339 instant> freezes the service's clock (tests and demos only).\n";
    static const struct option options[] = {
        {"database-url", required_argument, NULL, OPT_DATABASE_URL},
        {"config", required_argument, NULL, OPT_CONFIG},
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"workers", required_argument, NULL, OPT_WORKERS},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0}};
    const char *config_file = NULL, *database_url = NULL, *listen = NULL, *workers = NULL;
    bool restarted;
    int worker = cli_worker_begin(&restarted); /* 0 unless started by a supervisor */
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (opt == OPT_HELP) {
            fputs(help, stdout);
            return 0;
        }
        if (opt == OPT_DATABASE_URL)
            database_url = optarg;
        else if (opt == OPT_CONFIG)
            config_file = optarg;
        else if (opt == OPT_LISTEN)
            listen = optarg;
        else if (opt == OPT_WORKERS)
            workers = optarg;
        else {
            fputs(help, stderr);
            return 2;
        }
    }
    if (optind != argc) {
        fputs(help, stderr);
        return 2;
    }
    slotd_config_t config;
    char error[1024];
    if (slotd_config_load(&config, config_file, error, sizeof(error))) {
        log_error("config_invalid", "cause", error, NULL);
        return 2;
    }
    if (database_url)
        slotd_config_set(&config.database_url, database_url);
    if (listen)
        slotd_config_set(&config.listen, listen);
    if (workers && slotd_config_int(&config.workers, workers, "--workers", 0, SLOTD_MAX_WORKERS,
                                    error, sizeof(error))) {
        log_error("config_invalid", "cause", error, NULL);
        slotd_config_free(&config);
        return 2;
    }
    if (config.workers == 0) {
        unsigned cores = uv_available_parallelism();
        config.workers = cores > SLOTD_MAX_WORKERS ? SLOTD_MAX_WORKERS : (int)cores;
    }
    if (config.database_url == NULL) {
        log_error("config_invalid", "cause",
                  "no database: give --database-url or set SLOTD_DATABASE_URL", NULL);
        slotd_config_free(&config);
        return 2;
    }

    struct sockaddr_storage listen_addr;
    if (worker == 0 && config.workers > 1 && http_parse_listen(config.listen, &listen_addr) &&
        http_listen_port(&listen_addr) == 0) {
        log_error("config_invalid", "cause",
                  "port 0 would give each worker a port of its own: name the port", NULL);
        slotd_config_free(&config);
        return 2;
    }

    /* Migrate first, blocking: nothing is served before the schema is right. A worker's
     * supervisor has done it. */
    int applied = 0;
    if (worker == 0) {
        PGconn *conn = PQconnectdb(config.database_url);
        if (PQstatus(conn) != CONNECTION_OK) {
            log_error("database_connect_failed", "cause", PQerrorMessage(conn), NULL);
            PQfinish(conn);
            slotd_config_free(&config);
            return 1;
        }
        applied = store_migrate(conn, error, sizeof(error));
        PQfinish(conn);
        if (applied < 0) {
            log_error("migration_failed", "cause", error, NULL);
            slotd_config_free(&config);
            return 1;
        }
    }
    /* a reader of the log that goes away must not end the process */
    signal(SIGPIPE, SIG_IGN);
    if (worker == 0 && config.workers > 1) {
        struct sockaddr_storage addr;
        int rc = 1;
        if (!http_parse_listen(config.listen, &addr))
            log_error("listen_failed", "listen", config.listen, "cause",
                      "give host:port, e.g. 127.0.0.1:8080", NULL);
        else if (!cli_workers_address_free((struct sockaddr *)&addr, error, sizeof(error)))
            log_error("listen_failed", "listen", config.listen, "cause", error, NULL);
        else
            rc = cli_workers_run(config.workers,
                                 config.shutdown_delay_ms + config.shutdown_timeout_ms, argc, argv);
        slotd_config_free(&config);
        return rc;
    }

    /* modules that still print their own lines write whole lines */
    setvbuf(stdout, NULL, _IOLBF, 0);
    service_t svc = {0};
    static uv_loop_t loop_storage; /* static: may outlive this call with connections open */
    uv_loop_t *loop = &loop_storage;
    uv_loop_init(loop);
    uv_loop_configure(loop, UV_METRICS_IDLE_TIME); /* for the loop-pause metric */
    svc.loop = loop;
    /* initialized now, started once serving: closing them ends every run */
    uv_signal_init(loop, &svc.sigterm);
    uv_signal_init(loop, &svc.sigint);
    uv_timer_init(loop, &svc.sweep);
    svc.sweep.data = &svc;
    svc.sweeps = worker <= 1; /* the only process, or the first worker */
    uv_timer_init(loop, &svc.listen_when_ready);
    uv_timer_init(loop, &svc.stop_delay);
    svc.sigterm.data = svc.sigint.data = svc.listen_when_ready.data = svc.stop_delay.data = &svc;
    int log_rc = log_start(loop, 1, 0);
    if (log_rc != 0)
        log_warn("log_synchronous", "cause", uv_strerror(log_rc), NULL);
    store_pool_options_t pool_options = {.url = config.database_url,
                                         .size = config.pool_size,
                                         .statement_timeout_ms = config.request_timeout_ms,
                                         .statements = store_statements,
                                         .statement_count = store_statement_count,
                                         .max_queue = 10000};
    svc.pool = store_pool_new(loop, &pool_options);
    store_index_options_t index_options = {
        .loop = loop, .url = config.database_url, .load_timeout_ms = config.index_load_timeout_ms};
    svc.index = store_index_new(&index_options);
    http_server_options_t server_options = {.loop = loop,
                                            .listen = config.listen,
                                            .pool = svc.pool,
                                            .index = svc.index,
                                            .request_timeout_ms = config.request_timeout_ms,
                                            .routes = http_api_routes,
                                            .route_count = http_api_route_count,
                                            .max_connections = config.max_connections,
                                            .reuse_port = worker > 0,
                                            .listen_later = restarted,
                                            .worker = worker,
                                            .secret_key =
                                                config.has_secret_key ? &config.secret_key : NULL,
                                            .webhook_allow_private = config.webhook_allow_private,
                                            .public_url = config.public_url};
    svc.server = http_server_start(&server_options);
    int rc = 0;
    if (svc.server == NULL) {
        rc = 1;
        store_pool_close(svc.pool, on_pool_closed, &svc);
    } else {
        if (config.now_frozen) {
            char now[40];
            tz_zone_t *utc;
            tz_zone_find("UTC", &utc);
            codec_format_instant(utc, config.now, now, sizeof(now));
            http_server_freeze_clock(svc.server, config.now);
            store_index_freeze_clock(svc.index, config.now);
            log_warn("clock_frozen", "now", now, "cause", "SLOTD_NOW", NULL);
        }
        uv_timer_init(loop, &svc.shutdown_deadline);
        svc.shutdown_deadline.data = &svc;
        uv_signal_start(&svc.sigterm, on_signal, SIGTERM);
        uv_signal_start(&svc.sigint, on_signal, SIGINT);
        store_index_on_notice(svc.index, on_notice, &svc);
        if (svc.sweeps)
            uv_timer_start(&svc.sweep, on_sweep, SWEEP_INTERVAL_MS, SWEEP_INTERVAL_MS);
        if (restarted)
            uv_timer_start(&svc.listen_when_ready, on_listen_when_ready, 10, 10);
        log_line_t line;
        log_begin(&line, LOG_INFO, "listening");
        log_str(&line, "listen", config.listen);
        log_int(&line, "migrations_applied", applied); /* a supervisor adds "worker" */
        log_end(&line);
        svc.shutdown_timeout_ms = config.shutdown_timeout_ms;
        svc.shutdown_delay_ms = config.shutdown_delay_ms;
        if (config.has_secret_key) {
            svc.http = io_http_new(loop);
            sync_runner_options_t sync_options = {.loop = loop, .pool = svc.pool, .http = svc.http};
            cli_sync_options(&config, &sync_options);
            svc.sync = sync_runner_start(&sync_options);
            webhook_worker_options_t webhook_options = {
                .loop = loop,
                .pool = svc.pool,
                .http = svc.http,
                .key = &config.secret_key,
                .retry_schedule = config.webhook_retry_schedule,
                .allow_private = config.webhook_allow_private};
            svc.webhooks = webhook_worker_start(&webhook_options);
        }
    }
    uv_run(loop, UV_RUN_DEFAULT);
    if (svc.forced)
        rc = 1;
    log_info("stopped", "how", svc.forced ? "forced" : "drained", NULL);
    log_stop();
    if (svc.server == NULL) {
        uv_run(loop, UV_RUN_NOWAIT);
        uv_loop_close(loop);
    } else {
        running_server = svc.server; /* lives with the process: see http_server_stop */
    }
    slotd_config_free(&config);
    return rc;
}
