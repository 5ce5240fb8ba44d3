/*
 * The process around the server: signals during the drain, the command
 * line's errors and --version, and the log's one JSON format.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api_client.h"
#include "db.h"
#include "test.h"

/* Starts slotd with `env` and a PATCH that waits on the organization's row, locked by the
 * returned connection (COMMIT it to let the PATCH finish); *client is the process whose
 * exit status says whether the PATCH was answered 200. */
static PGconn *start_with_waiting_patch(api_server_t *s, const char *const *env, pid_t *client)
{
    api_start(s, env);
    api_wait_ready(s);
    PGconn *holder = PQconnectdb(s->url);
    char sql[256];
    test_db_exec(holder, "BEGIN");
    snprintf(sql, sizeof(sql), "SELECT 1 FROM organizations WHERE id = '%s' FOR UPDATE",
             s->organization_id);
    test_db_exec(holder, sql);
    *client = fork();
    if (*client == 0) {
        int status =
            api_call(s, "PATCH", "/v1/organization", s->admin_key, "{\"name\":\"Renamed\"}", NULL);
        _exit(status == 200 ? 0 : 1);
    }
    usleep(300000); /* the PATCH is waiting on the lock */
    return holder;
}

/* A request that is still running: a slow query keeps the drain waiting. */
TEST(server_second_sigterm_does_not_cut_the_drain_short)
{
    /* the request deadline is long enough for the drain to be seen */
    static const char *const env[] = {"SLOTD_REQUEST_TIMEOUT_MS=3000", NULL};
    api_server_t s;
    pid_t client;
    PGconn *holder = start_with_waiting_patch(&s, env, &client);
    kill(s.pid, SIGINT);
    usleep(100000);
    kill(s.pid, SIGTERM); /* what a script's trap sends after Ctrl-C */
    usleep(300000);
    int status = 0;
    CHECK_EQ(waitpid(s.pid, &status, WNOHANG), 0); /* still draining */
    test_db_exec(holder, "COMMIT");                /* the PATCH can finish */
    PQfinish(holder);
    int client_status = 0;
    waitpid(client, &client_status, 0);
    CHECK(WIFEXITED(client_status) && WEXITSTATUS(client_status) == 0); /* answered 200 */
    for (int i = 0; i < 500 && waitpid(s.pid, &status, WNOHANG) == 0; i++)
        usleep(10000);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    s.pid = 0;
    test_db_drop(s.db);
}

TEST(server_shutdown_delay_fails_readyz_first_and_serves_meanwhile)
{
    static const char *const env[] = {"SLOTD_SHUTDOWN_DELAY_MS=1000", NULL};
    api_server_t s;
    api_start(&s, env);
    api_wait_ready(&s);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    kill(s.pid, SIGTERM);
    CHECK_EQ(api_readyz_becomes(&s, 503), 503);
    /* everything else is still served, on new connections too */
    json_decref(api_expect(&s, 200, "GET", "/v1/organization", s.admin_key, NULL));
    json_decref(api_expect(&s, 200, "GET", "/healthz", NULL, NULL));
    int status = 0;
    CHECK_EQ(waitpid(s.pid, &status, WNOHANG), 0);
    for (int i = 0; i < 500 && waitpid(s.pid, &status, WNOHANG) == 0; i++)
        usleep(10000);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    double waited = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    CHECK(waited >= 1.0); /* it stopped accepting only after the delay */
    s.pid = 0;
    test_db_drop(s.db);
}

TEST(server_third_signal_stops_at_once)
{
    static const char *const env[] = {"SLOTD_REQUEST_TIMEOUT_MS=4000", NULL};
    api_server_t s;
    pid_t client;
    PGconn *holder = start_with_waiting_patch(&s, env, &client);
    for (int i = 0; i < 3; i++) { /* apart: signals of one kind do not queue */
        kill(s.pid, SIGTERM);
        usleep(100000);
    }
    int status = 0;
    for (int i = 0; i < 200 && waitpid(s.pid, &status, WNOHANG) == 0; i++)
        usleep(10000);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1); /* forced, before the deadline */
    test_db_exec(holder, "COMMIT");
    PQfinish(holder);
    waitpid(client, NULL, 0);
    test_db_drop(s.db);
}

/* Runs slotd with arguments; stderr into err. Returns the exit code. */
static int run_slotd(const char *args, char *err, size_t size)
{
    char command[512];
    snprintf(command, sizeof(command), "%s %s 2>&1 >/dev/null", getenv("SLOTD_BIN"), args);
    FILE *p = popen(command, "r");
    size_t n = fread(err, 1, size - 1, p);
    err[n] = 0;
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(server_cli_says_what_is_wrong)
{
    char err[4096];
    CHECK_EQ(run_slotd("bogus", err, sizeof(err)), 2);
    CHECK(strstr(err, "unknown command \"bogus\"") != NULL);
    CHECK_EQ(run_slotd("org create", err, sizeof(err)), 2);
    CHECK(strstr(err, "missing --name") != NULL);
    CHECK_EQ(run_slotd("org create --name X", err, sizeof(err)), 2);
    CHECK(strstr(err, "missing --timezone") != NULL);
    CHECK_EQ(run_slotd("key create --org x", err, sizeof(err)), 2);
    CHECK(strstr(err, "missing --role") != NULL);
    CHECK_EQ(run_slotd("org delete", err, sizeof(err)), 2);
    CHECK(strstr(err, "unknown command \"org delete\"") != NULL);
    char out[256];
    CHECK_EQ(test_run_slotd("--version", out, sizeof(out)), 0);
    CHECK(strncmp(out, "slotd ", 6) == 0 && strlen(out) > 7);
}

TEST(server_log_lines_are_json_with_ts_level_and_event)
{
    /* run the service with its output in a file, make a request, stop it */
    char path[] = "slotd-log-XXXXXX"; /* in the test's working directory */
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    static const char *env[] = {"SLOTD_TEST_VERBOSE=1", NULL};
    int saved = dup(1);
    FILE *f = freopen(path, "w", stdout); /* the child inherits this stdout */
    CHECK(f != NULL);
    api_server_t s;
    api_start(&s, env);
    api_wait_ready(&s);
    json_decref(api_expect(&s, 200, "GET", "/v1/organization", s.admin_key, NULL));
    api_stop(&s);
    fflush(stdout);
    dup2(saved, 1);
    FILE *in = fopen(path, "r");
    char line[4096];
    int lines = 0, requests = 0, lifecycle = 0;
    while (fgets(line, sizeof(line), in)) {
        json_t *j = json_loads(line, 0, NULL);
        CHECK(j != NULL); /* every line is one JSON object */
        CHECK(json_is_string(json_object_get(j, "ts")));
        CHECK(json_is_string(json_object_get(j, "level")));
        const char *event = json_string_value(json_object_get(j, "event"));
        CHECK(event != NULL);
        if (strcmp(event, "listening") == 0 || strcmp(event, "shutdown") == 0 ||
            strcmp(event, "stopped") == 0)
            lifecycle++;
        if (strcmp(event, "request") == 0) {
            requests++;
            CHECK(json_is_integer(json_object_get(j, "status")));
            CHECK(json_is_string(json_object_get(j, "request_id")));
        }
        lines++;
        json_decref(j);
    }
    fclose(in);
    unlink(path);
    CHECK(lines >= 4);
    CHECK_EQ(lifecycle, 3); /* listening, shutdown, stopped */
    CHECK(requests >= 1);
}
