/*
 * slotd serve --workers N, black-box: the workers share one address, a write
 * made through one reaches every worker's index, a killed worker is replaced,
 * a second instance on the same address is refused, and one SIGTERM to the
 * supervisor drains them all (api_stop checks the exit status 0).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api_client.h"
#include "db.h"
#include "test.h"

static const char *const two_workers[] = {"SLOTD_WORKERS=2", "SLOTD_NOW=2026-03-27T08:00:00+01:00",
                                          NULL};

/* The worker that answered one /healthz on a new connection (0: not a worker). */
static int healthz_worker(api_server_t *s)
{
    json_t *r = api_expect(s, 200, "GET", "/healthz", NULL, NULL);
    int worker = (int)json_integer_value(json_object_get(r, "worker"));
    json_decref(r);
    return worker;
}

/* Both workers answer within `tries` new connections. */
static bool both_answer(api_server_t *s, int tries)
{
    bool seen[3] = {false, false, false};
    for (int i = 0; i < tries && !(seen[1] && seen[2]); i++) {
        int worker = healthz_worker(s);
        CHECK(worker == 1 || worker == 2);
        seen[worker] = true;
    }
    return seen[1] && seen[2];
}

/* The supervisor's children, from /proc (at most `max`). */
static int children(pid_t parent, pid_t *pids, int max)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)parent, (int)parent);
    FILE *f = fopen(path, "r");
    int n = 0;
    long pid;
    while (f && n < max && fscanf(f, "%ld", &pid) == 1)
        pids[n++] = (pid_t)pid;
    if (f)
        fclose(f);
    return n;
}

TEST(workers_share_the_address_and_each_follows_writes_made_through_another)
{
    api_server_t s;
    api_start(&s, two_workers);
    api_wait_ready(&s);
    pid_t pids[4];
    CHECK_EQ(children(s.pid, pids, 4), 2);
    CHECK(both_answer(&s, 200));

    /* a staff member and a service, written through whichever worker takes the requests */
    char anna[40], service[40], path[256];
    api_create_staff_service(&s, "{\"fri\":[[\"09:00\",\"12:00\"]]}", anna, service);
    snprintf(path, sizeof(path), "/v1/slots?service_id=%s&from=2026-03-27&to=2026-03-28", service);
    /* every worker offers the slots: 40 answers in a row, over new connections, all three */
    int in_a_row = 0;
    for (int i = 0; i < 2000 && in_a_row < 40; i++) {
        in_a_row = api_slot_count(&s, path) == 3 ? in_a_row + 1 : 0;
        if (in_a_row == 0)
            usleep(5000);
    }
    CHECK_EQ(in_a_row, 40);
    api_stop(&s);
}

TEST(workers_a_killed_worker_is_replaced)
{
    api_server_t s;
    api_start(&s, two_workers);
    api_wait_ready(&s);
    pid_t before[4], after[4];
    CHECK_EQ(children(s.pid, before, 4), 2);
    kill(before[0], SIGKILL);
    /* replaced after about a second; meanwhile the other worker answers (connections the
     * kernel had already queued on the killed worker's socket are reset with it) */
    int n = 0, answered = 0;
    for (int i = 0; i < 500; i++) {
        n = children(s.pid, after, 4);
        if (n == 2 && after[0] != before[0] && after[1] != before[0])
            break;
        answered += api_answers(&s);
        usleep(10000);
    }
    CHECK(answered > 0);
    CHECK_EQ(n, 2);
    CHECK(after[0] != before[0] && after[1] != before[0]);
    /* the new worker accepts connections only once its index is loaded: no new connection is
     * ever told "not ready" meanwhile */
    for (int i = 0; i < 200; i++) {
        json_t *r = NULL;
        int status = api_call(&s, "GET", "/readyz", NULL, NULL, &r);
        json_decref(r);
        CHECK_EQ(status, 200);
    }
    CHECK(both_answer(&s, 400));
    api_stop(&s);
}

TEST(workers_a_second_instance_on_the_same_address_is_refused)
{
    api_server_t s;
    api_start(&s, two_workers);
    char args[512], out[4096];
    /* with workers or without, while the first one's workers listen */
    snprintf(args, sizeof(args),
             "serve --listen 127.0.0.1:%d --workers 2 --database-url '%s' >/dev/null 2>&1", s.port,
             s.url);
    CHECK_EQ(test_run_slotd(args, out, sizeof(out)), 1);
    snprintf(args, sizeof(args),
             "serve --listen 127.0.0.1:%d --workers 1 --database-url '%s' >/dev/null 2>&1", s.port,
             s.url);
    CHECK_EQ(test_run_slotd(args, out, sizeof(out)), 1);
    CHECK(both_answer(&s, 200));
    api_stop(&s);
}

/* Ctrl-C in a terminal signals the whole foreground group: twice here. The workers hear it
 * once, from the supervisor, and drain (a worker stops at once only at its third signal). */
TEST(workers_drain_after_two_ctrl_c)
{
    api_server_t s;
    api_start(&s, two_workers);
    api_wait_ready(&s);
    kill(-s.pid, SIGINT);
    usleep(20000);
    kill(-s.pid, SIGINT);
    int status = 0;
    for (int i = 0; i < 1500 && waitpid(s.pid, &status, WNOHANG) == 0; i++)
        usleep(10000);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    s.pid = 0; /* reaped */
    test_db_drop(s.db);
}

/* The log's reader goes away (a pipe closed): the supervisor must survive its next line. */
TEST(workers_supervisor_survives_a_closed_log_pipe)
{
    api_server_t s;
    api_start(&s, two_workers); /* for its database and organization */
    char listen[32];
    int port = api_free_port(), out[2];
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
    CHECK(pipe(out) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(out[1], 1);
        close(out[0]);
        close(out[1]);
        setenv("SLOTD_DATABASE_URL", s.url, 1);
        execl(getenv("SLOTD_BIN"), "slotd", "serve", "--workers", "2", "--listen", listen,
              (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    api_server_t other = s;
    other.port = port;
    snprintf(other.base, sizeof(other.base), "http://127.0.0.1:%d", port);
    for (int i = 0; i < 500 && !api_answers(&other); i++)
        usleep(10000);
    CHECK(api_answers(&other));
    close(out[0]); /* nobody reads the log any more */
    pid_t workers[4];
    CHECK_EQ(children(pid, workers, 4), 2);
    kill(workers[0], SIGKILL); /* the supervisor logs it, and starts another */
    usleep(1500000);
    int status;
    CHECK(waitpid(pid, &status, WNOHANG) == 0); /* still running */
    CHECK_EQ(children(pid, workers, 4), 2);
    kill(pid, SIGTERM);
    CHECK(waitpid(pid, &status, 0) == pid);
    api_stop(&s);
}

/* A port 0 would give each worker another random port. */
TEST(workers_refuse_port_zero)
{
    char out[4096];
    CHECK_EQ(test_run_slotd("serve --listen 127.0.0.1:0 --workers 2 --database-url "
                            "postgresql://x@127.0.0.1:1/x >/dev/null 2>&1",
                            out, sizeof(out)),
             2);
}

TEST(workers_refuse_a_bad_count)
{
    char out[4096];
    CHECK_EQ(test_run_slotd("serve --workers 65 --database-url postgresql://x@127.0.0.1:1/x "
                            ">/dev/null 2>&1",
                            out, sizeof(out)),
             2);
    CHECK_EQ(test_run_slotd("serve --workers two --database-url postgresql://x@127.0.0.1:1/x "
                            ">/dev/null 2>&1",
                            out, sizeof(out)),
             2);
}
