/*
 * slotd sync: one pass of calendar sync, for cron and operators. Pulls every
 * live pulling connection (or those of --org, or --connection), due or not,
 * each a full listing with --full, writes what each found exactly as the
 * service does, and delivers their outbox rows that are due (with --full every
 * undone one), each once. Prints
 * {"connections","pulled","pushed","errors","failed","events"} and exits 0
 * when nothing failed (1 otherwise, 2 on a usage error). On a terminal a
 * progress bar comes before the summary; otherwise the summary alone.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "cli/commands.h"
#include "io/http_client.h"
#include "slotd/codec.h"
#include "store/statements.h"

static const char help[] =
    "usage: slotd sync [--org ID] [--connection ID] [--full] [options]\n"
    "Syncs calendar connections once: pulls every live connection that pulls (Google,\n"
    "Microsoft, Cal.com), or those of one organization, or one connection, due or not, and\n"
    "pushes their bookings' changes that are due. With --full each pull is a full listing that\n"
    "replaces the busy time it brought, and every pending push is tried, due or not. Needs\n"
    "secret_key. Prints {\"connections\",\"pulled\",\"pushed\",\"errors\":[...],\"failed\",\n"
    "\"events\"}: connections worked on, pulls and pushes done, each failure\n"
    "({\"connection_id\",\"booking_id\"?,\"error\"}), failed pulls, busy events written; exits 1\n"
    "when anything failed.\n"
    "  --database-url URL   the database (default: SLOTD_DATABASE_URL)\n"
    "  --config FILE        a configuration file (see config/slotd.example.json)\n";

enum { OPT_DATABASE_URL = 1, OPT_CONFIG, OPT_ORG, OPT_CONNECTION, OPT_FULL, OPT_HELP };

typedef struct {
    uv_loop_t *loop;
    store_pool_t *pool;
    io_http_t *http;
    sync_runner_t *runner;
    sync_summary_t summary;
    char *output;  /* the summary's JSON; NULL: the database did not answer */
    size_t errors; /* failures, of pulls and of pushes */
} pass_t;

static void on_pool_closed(void *arg)
{
    pass_t *p = arg;
    p->pool = NULL;
}

static void on_http_closed(void *arg)
{
    pass_t *p = arg;
    store_pool_close(p->pool, on_pool_closed, p);
}

static void on_runner_closed(void *arg)
{
    pass_t *p = arg;
    io_http_close(p->http, on_http_closed, p);
}

/* A bar on a terminal: "[#####.....] 5/10". */
static void progress(int done, int total, void *arg)
{
    (void)arg;
    int width = 30, filled = total > 0 ? done * width / total : width;
    fprintf(stdout, "\r[");
    for (int i = 0; i < width; i++)
        fputc(i < filled ? '#' : '.', stdout);
    fprintf(stdout, "] %d/%d", done, total);
    fflush(stdout);
}

static void on_pass(const sync_summary_t *summary, void *arg)
{
    pass_t *p = arg;
    p->summary = *summary;
    if (summary->failed >= 0) {
        json_t *out = json_pack("{s:i, s:i, s:i, s:O, s:i, s:I}", "connections",
                                summary->connections, "pulled", summary->pulled, "pushed",
                                summary->pushed, "errors", summary->errors, "failed",
                                summary->failed, "events", (json_int_t)summary->events);
        p->output = json_dumps(out, JSON_COMPACT);
        p->errors = json_array_size(summary->errors);
        json_decref(out);
    }
    sync_runner_close(p->runner, on_runner_closed, p);
}

static int usage_error(const char *what)
{
    fprintf(stderr, "slotd sync: %s\n%s", what, help);
    return 2;
}

int cli_sync(int argc, char **argv)
{
    static const struct option options[] = {
        {"database-url", required_argument, NULL, OPT_DATABASE_URL},
        {"config", required_argument, NULL, OPT_CONFIG},
        {"org", required_argument, NULL, OPT_ORG},
        {"connection", required_argument, NULL, OPT_CONNECTION},
        {"full", no_argument, NULL, OPT_FULL},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0}};
    const char *url = NULL, *file = NULL;
    eng_id_t org, connection;
    bool has_org = false, has_connection = false, full = false;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (opt == OPT_HELP)
            return (fputs(help, stdout), 0);
        if (opt == OPT_DATABASE_URL)
            url = optarg;
        else if (opt == OPT_CONFIG)
            file = optarg;
        else if (opt == OPT_FULL)
            full = true;
        else if (opt == OPT_ORG && codec_parse_uuid(optarg, &org) == 0)
            has_org = true;
        else if (opt == OPT_CONNECTION && codec_parse_uuid(optarg, &connection) == 0)
            has_connection = true;
        else if (opt == OPT_ORG || opt == OPT_CONNECTION)
            return usage_error(opt == OPT_ORG ? "--org must be an organization id (a UUID)"
                                              : "--connection must be a connection id (a UUID)");
        else
            return usage_error("unknown option");
    }
    if (optind < argc)
        return usage_error("unexpected argument");
    slotd_config_t config;
    char error[512];
    if (slotd_config_load(&config, file, error, sizeof(error))) {
        fprintf(stderr, "slotd: %s\n", error);
        return 1;
    }
    if (url)
        slotd_config_set(&config.database_url, url);
    int rc = 1;
    if (config.database_url == NULL) {
        fprintf(stderr, "slotd: no database: give --database-url or set SLOTD_DATABASE_URL\n");
    } else if (!config.has_secret_key) {
        fprintf(stderr, "slotd: sync needs secret_key (SLOTD_SECRET_KEY): it opens the "
                        "connections' credentials\n");
    } else {
        uv_loop_t loop;
        uv_loop_init(&loop);
        pass_t pass = {.loop = &loop};
        store_pool_options_t pool_options = {.url = config.database_url,
                                             .size = 2,
                                             .statement_timeout_ms = 30000,
                                             .statements = store_statements,
                                             .statement_count = store_statement_count,
                                             .max_queue = 10000};
        pass.pool = store_pool_new(&loop, &pool_options);
        pass.http = io_http_new(&loop);
        sync_runner_options_t sync_options = {.loop = &loop, .pool = pass.pool, .http = pass.http};
        cli_sync_options(&config, &sync_options);
        bool terminal = isatty(STDOUT_FILENO);
        if (terminal)
            sync_options.progress = progress; /* nothing but the summary when not a terminal */
        pass.runner =
            sync_runner_run_once(&sync_options, has_org ? &org : NULL,
                                 has_connection ? &connection : NULL, full, on_pass, &pass);
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
        if (terminal && pass.summary.pulled + pass.summary.failed > 0)
            fputc('\n', stdout);
        if (pass.output) {
            printf("%s\n", pass.output);
            free(pass.output);
            rc = pass.errors == 0 && pass.summary.failed == 0 ? 0 : 1;
        } else {
            fprintf(stderr, "slotd: sync: the database did not answer\n");
        }
    }
    slotd_config_free(&config);
    return rc;
}
