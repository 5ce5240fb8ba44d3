/*
 * The operations routes — GET /healthz (the process answers), GET /readyz
 * (the database answers, the index is loaded, not shutting down), GET
 * /metrics (Prometheus text) — and the metrics themselves: per route, a count
 * by status class and a latency histogram, kept in the server (one per loop);
 * and the one log line of every request.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "http/internal.h"
#include "log/log.h"

const double http_bucket_ms[HTTP_BUCKETS] = {0.1, 0.25, 0.5, 1,   2.5, 5,   10,
                                             25,  50,   100, 250, 500, 1000};

void http__record(http_ctx_t *ctx, int status)
{
    http_server_t *s = ctx->server;
    double ms = (double)(uv_hrtime() - ctx->started_ns) / 1e6;
    size_t index = ctx->route ? (size_t)(ctx->route - s->options.routes) : s->options.route_count;
    http_route_metrics_t *m = &s->metrics[index];
    m->count++;
    m->by_class[status == 499 ? 0 : (status / 100 > 5 ? 5 : status / 100)]++;
    size_t b = 0;
    while (b < HTTP_BUCKETS && ms > http_bucket_ms[b])
        b++;
    m->buckets[b]++;
    m->seconds += ms / 1000;
    log_line_t line;
    log_begin(&line, LOG_INFO, "request");
    log_str(&line, "request_id", ctx->request_id);
    log_str(&line, "route", ctx->route ? ctx->route->name : "unmatched");
    log_int(&line, "status", status);
    log_ms(&line, "duration_ms", ms);
    if (ctx->organization_text[0])
        log_str(&line, "organization_id", ctx->organization_text);
    log_end(&line);
}

static void write_metrics(http_server_t *s, FILE *out);

void http_count_booking(http_ctx_t *ctx, http_booking_outcome_t outcome)
{
    ctx->server->booking_outcomes[outcome]++;
}

/* The booking outcomes, named as /metrics shows them. */
static void write_booking_outcomes(const http_server_t *s, FILE *out)
{
    static const char *const names[HTTP_BOOKING_OUTCOMES] = {"created", "conflict", "replay",
                                                             "hold_expired", "error"};
    fprintf(out, "# HELP slotd_booking_outcomes_total POST /v1/bookings by outcome: created, "
                 "conflict (409 with alternatives), replay (Idempotency-Key), hold_expired, "
                 "error.\n"
                 "# TYPE slotd_booking_outcomes_total counter\n");
    for (int i = 0; i < HTTP_BOOKING_OUTCOMES; i++)
        fprintf(out, "slotd_booking_outcomes_total{outcome=\"%s\"} %" PRIu64 "\n", names[i],
                s->booking_outcomes[i]);
}

static void on_healthz(http_ctx_t *ctx)
{
    http_server_t *s = ctx->server;
    json_t *body = json_pack("{s:s}", "status", "ok");
    if (s->options.worker > 0)
        json_object_set_new(body, "worker", json_integer(s->options.worker));
    http_respond(ctx, 200, body);
}

static void on_readyz(http_ctx_t *ctx)
{
    http_server_t *s = ctx->server;
    bool database = store_pool_ready_count(s->options.pool) > 0;
    bool rest = s->options.index == NULL || store_index_ready(s->options.index);
    bool stopping = s->stopping || s->stop_announced;
    if (database && rest && !stopping)
        http_respond(ctx, 200, json_pack("{s:s}", "status", "ready"));
    else
        http_respond_error(ctx, 503, "unavailable",
                           stopping    ? "The service is shutting down."
                           : !database ? "The database is not answering."
                                       : "The service is still loading its index.",
                           NULL);
}

static void on_metrics(http_ctx_t *ctx)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    write_metrics(ctx->server, out);
    fclose(out);
    http_respond_text(ctx, 200, "text/plain; version=0.0.4", text, size);
    free(text);
}

const http_route_t http__operations_routes[] = {
    {"GET", "/healthz", "GET /healthz", HTTP_ROLES_PUBLIC, NULL, on_healthz, 0},
    {"GET", "/readyz", "GET /readyz", HTTP_ROLES_PUBLIC, NULL, on_readyz, 0},
    {"GET", "/metrics", "GET /metrics", HTTP_ROLES_PUBLIC, NULL, on_metrics, 0},
};
const size_t http__operations_route_count =
    sizeof(http__operations_routes) / sizeof(http__operations_routes[0]);

static void write_metrics(http_server_t *s, FILE *out)
{
    write_booking_outcomes(s, out);
    fprintf(out, "# HELP slotd_http_requests_total HTTP requests by route and status class.\n"
                 "# TYPE slotd_http_requests_total counter\n");
    static const char *const classes[] = {"499", "1xx", "2xx", "3xx", "4xx", "5xx"};
    for (size_t i = 0; i <= s->options.route_count; i++) {
        const char *name = i < s->options.route_count ? s->options.routes[i].name : "unmatched";
        for (int c = 0; c < 6; c++)
            if (s->metrics[i].by_class[c])
                fprintf(out, "slotd_http_requests_total{route=\"%s\",status=\"%s\"} %" PRIu64 "\n",
                        name, classes[c], s->metrics[i].by_class[c]);
    }
    fprintf(out, "# HELP slotd_http_request_duration_seconds Time to answer, by route.\n"
                 "# TYPE slotd_http_request_duration_seconds histogram\n");
    for (size_t i = 0; i <= s->options.route_count; i++) {
        const http_route_metrics_t *m = &s->metrics[i];
        if (m->count == 0)
            continue;
        const char *name = i < s->options.route_count ? s->options.routes[i].name : "unmatched";
        uint64_t cumulative = 0;
        for (size_t b = 0; b < HTTP_BUCKETS; b++) {
            cumulative += m->buckets[b];
            fprintf(out,
                    "slotd_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %" PRIu64
                    "\n",
                    name, http_bucket_ms[b] / 1000, cumulative);
        }
        fprintf(out,
                "slotd_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %" PRIu64 "\n"
                "slotd_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
                "slotd_http_request_duration_seconds_count{route=\"%s\"} %" PRIu64 "\n",
                name, m->count, name, m->seconds, name, m->count);
    }
    fprintf(out,
            "# HELP slotd_db_pool_connections Database connections by state.\n"
            "# TYPE slotd_db_pool_connections gauge\n"
            "slotd_db_pool_connections{state=\"ready\"} %d\n"
            "slotd_db_pool_connections{state=\"busy\"} %d\n"
            "# HELP slotd_db_pool_queued Queries waiting for a connection.\n"
            "# TYPE slotd_db_pool_queued gauge\n"
            "slotd_db_pool_queued %zu\n"
            "# HELP slotd_http_connections Client connections open.\n"
            "# TYPE slotd_http_connections gauge\n"
            "slotd_http_connections %d\n"
            "# HELP slotd_http_connections_refused_total Connections closed at once because "
            "max_connections were open.\n"
            "# TYPE slotd_http_connections_refused_total counter\n"
            "slotd_http_connections_refused_total %" PRIu64 "\n"
            "# HELP slotd_http_inflight Requests being answered.\n"
            "# TYPE slotd_http_inflight gauge\n"
            "slotd_http_inflight %d\n"
            "# HELP slotd_http_pinned_bytes Answer bytes that clients have not read yet.\n"
            "# TYPE slotd_http_pinned_bytes gauge\n"
            "slotd_http_pinned_bytes %zu\n"
            "# HELP slotd_http_budget_refusals_total Answers replaced by 503 for the response "
            "budget.\n"
            "# TYPE slotd_http_budget_refusals_total counter\n"
            "slotd_http_budget_refusals_total %" PRIu64 "\n"
            "# HELP slotd_log_dropped_lines_total Log lines dropped because output was slow.\n"
            "# TYPE slotd_log_dropped_lines_total counter\n"
            "slotd_log_dropped_lines_total %" PRIu64 "\n",
            store_pool_ready_count(s->options.pool), store_pool_busy(s->options.pool),
            store_pool_queued(s->options.pool), s->connections, s->connections_refused, s->inflight,
            s->pinned_bytes, s->budget_refusals, log_dropped());
    if (s->options.index) {
        store_index_stats_t st;
        store_index_stats(s->options.index, &st);
        fprintf(out,
                "# HELP slotd_index_ready Whether the in-memory index is loaded.\n"
                "# TYPE slotd_index_ready gauge\n"
                "slotd_index_ready %d\n"
                "# HELP slotd_index_objects Objects in the in-memory index.\n"
                "# TYPE slotd_index_objects gauge\n"
                "slotd_index_objects{kind=\"organizations\"} %zu\n"
                "slotd_index_objects{kind=\"resources\"} %zu\n"
                "slotd_index_objects{kind=\"services\"} %zu\n"
                "slotd_index_objects{kind=\"busy_entries\"} %zu\n"
                "# HELP slotd_index_busy_bytes Memory held by busy-time trees.\n"
                "# TYPE slotd_index_busy_bytes gauge\n"
                "slotd_index_busy_bytes %zu\n"
                "# HELP slotd_index_refreshes_total Reloads of one object, rebuilds, and "
                "occupancy changes applied as notified.\n"
                "# TYPE slotd_index_refreshes_total counter\n"
                "slotd_index_refreshes_total{kind=\"reload\"} %" PRIu64 "\n"
                "slotd_index_refreshes_total{kind=\"rebuild\"} %" PRIu64 "\n"
                "slotd_index_refreshes_total{kind=\"change\"} %" PRIu64 "\n",
                store_index_ready(s->options.index) ? 1 : 0, st.organizations, st.resources,
                st.services, st.busy_entries, st.busy_bytes, st.reloads, st.rebuilds, st.changes);
        fprintf(out,
                "# HELP slotd_index_skipped_rows_total Rows the index could not use (logged).\n"
                "# TYPE slotd_index_skipped_rows_total counter\n"
                "slotd_index_skipped_rows_total %" PRIu64 "\n"
                "# HELP slotd_index_load_failures_total Index queries that failed (retried).\n"
                "# TYPE slotd_index_load_failures_total counter\n"
                "slotd_index_load_failures_total %" PRIu64 "\n"
                "# HELP slotd_loop_max_pause_seconds The loop's longest pause since start.\n"
                "# TYPE slotd_loop_max_pause_seconds gauge\n"
                "slotd_loop_max_pause_seconds %.6f\n"
                "# HELP slotd_loop_max_turn_cpu_seconds The most CPU time one loop turn took "
                "since start.\n"
                "# TYPE slotd_loop_max_turn_cpu_seconds gauge\n"
                "slotd_loop_max_turn_cpu_seconds %.6f\n"
                "# HELP slotd_loop_max_pause_cpu_seconds The CPU time the loop spent in the turn "
                "of its longest pause.\n"
                "# TYPE slotd_loop_max_pause_cpu_seconds gauge\n"
                "slotd_loop_max_pause_cpu_seconds %.6f\n",
                st.skipped_rows, st.load_failures, (double)st.loop_max_pause_us / 1e6,
                (double)st.loop_max_turn_cpu_us / 1e6, (double)st.loop_max_pause_cpu_us / 1e6);
    }
}
