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
    CHECK(answered > 10);
    CHECK_EQ(n, 2);
    CHECK(after[0] != before[0] && after[1] != before[0]);
    api_wait_ready(&s);
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
