/*
 * The multi-machine layout, on loopback: two slotd instances on one database
 * behind HAProxy, configured by config/haproxy.example.cfg itself (with this
 * test's ports in place of the example's). Writes through the proxy reach
 * both instances' indexes, and stopping one instance loses no request.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api_client.h"
#include "db.h"
#include "test.h"

/* The shutdown delay as the example configuration asks for (above inter x fall). */
static const char *const frozen[] = {"SLOTD_NOW=2026-03-27T08:00:00+01:00",
                                     "SLOTD_SHUTDOWN_DELAY_MS=1500", NULL};

typedef struct {
    pid_t pid;
    api_server_t front; /* the proxy's address, with the instances' organization and key */
    char config[256];
} proxy_t;

/* Copies `text` into `out`, every "127.0.0.1:PORT" of `from` replaced by the same of `to`. */
static void replace_port(char *text, size_t size, int from, int to)
{
    char old[32], new_[32];
    snprintf(old, sizeof(old), "127.0.0.1:%d", from);
    snprintf(new_, sizeof(new_), "127.0.0.1:%d", to);
    char *at;
    while ((at = strstr(text, old)) != NULL) {
        size_t tail = strlen(at + strlen(old));
        CHECK(strlen(text) - strlen(old) + strlen(new_) < size);
        memmove(at + strlen(new_), at + strlen(old), tail + 1);
        memcpy(at, new_, strlen(new_));
    }
}

/* HAProxy in front of instances `a` and `b`, with the example configuration. */
static void proxy_start(proxy_t *p, const api_server_t *a, const api_server_t *b)
{
    const char *example = getenv("SLOTD_HAPROXY_EXAMPLE");
    CHECK(example != NULL);
    FILE *in = fopen(example, "r");
    CHECK(in != NULL);
    static char text[16384];
    size_t n = fread(text, 1, sizeof(text) - 1, in);
    fclose(in);
    text[n] = 0;
    p->front = *a;
    p->front.port = api_free_port();
    snprintf(p->front.base, sizeof(p->front.base), "http://127.0.0.1:%d", p->front.port);
    replace_port(text, sizeof(text), 8080, p->front.port);
    replace_port(text, sizeof(text), 8081, a->port);
    replace_port(text, sizeof(text), 8082, b->port);
    snprintf(p->config, sizeof(p->config), "/tmp/slotd-test-haproxy-%d.cfg", (int)getpid());
    FILE *out = fopen(p->config, "w");
    CHECK(out != NULL);
    fputs(text, out);
    fclose(out);
    p->pid = fork();
    if (p->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (!getenv("SLOTD_TEST_VERBOSE"))
            freopen("/dev/null", "w", stderr);
        execlp("haproxy", "haproxy", "-f", p->config, "-db", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500 && !api_answers(&p->front); i++)
        usleep(10000);
    CHECK(api_answers(&p->front));
}

static void proxy_stop(proxy_t *p)
{
    kill(p->pid, SIGTERM);
    waitpid(p->pid, NULL, 0);
    unlink(p->config);
}

/* Two instances on one database, the proxy in front, and a staff member with a service
 * written through the proxy; returns once both instances offer its slots (`path`). */
static void two_instances_behind_the_proxy(api_server_t *a, api_server_t *b, proxy_t *p,
                                           char *service, char *path)
{
    api_start(a, frozen);
    api_start_peer(b, a, frozen);
    api_wait_ready(a);
    api_wait_ready(b);
    proxy_start(p, a, b);
    char anna[40];
    api_create_staff_service(&p->front, "{\"fri\":[[\"09:00\",\"12:00\"]]}", anna, service);
    snprintf(path, 256, "/v1/slots?service_id=%s&from=2026-03-27&to=2026-03-28", service);
    int in_a_row = 0; /* asked directly, each instance, 10 times in a row */
    for (int i = 0; i < 1000 && in_a_row < 10; i++) {
        bool both = api_slot_count(a, path) == 3 && api_slot_count(b, path) == 3;
        in_a_row = both ? in_a_row + 1 : 0;
        if (!both)
            usleep(5000);
    }
    CHECK_EQ(in_a_row, 10);
}

TEST(haproxy_two_instances_serve_the_same_writes_and_one_may_stop)
{
    api_server_t a, b;
    proxy_t p;
    char service[40], path[256];
    two_instances_behind_the_proxy(&a, &b, &p, service, path);

    /* one instance stops: every request through the proxy is still answered */
    kill(a.pid, SIGTERM);
    for (int i = 0; i < 200; i++)
        CHECK_EQ(api_slot_count(&p.front, path), 3);
    int status = 0;
    CHECK(waitpid(a.pid, &status, 0) == a.pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    for (int i = 0; i < 50; i++)
        CHECK_EQ(api_slot_count(&p.front, path), 3);

    proxy_stop(&p);
    api_stop(&b);
    test_db_drop(a.db); /* `a` has exited already: what api_stop would do after */
}

/* The race of the booking tests, through the proxy: requests for one slot spread over both
 * instances at the same instant, and exactly one booking is made. */
TEST(haproxy_a_race_for_one_slot_through_the_proxy_books_it_once)
{
    api_server_t a, b;
    proxy_t p;
    char service[40], path[256], body[512];
    two_instances_behind_the_proxy(&a, &b, &p, service, path);
    const char *starts[] = {"2026-03-27T09:00:00+01:00", "2026-03-27T10:00:00+01:00"};
    for (int round = 0; round < 2; round++) {
        snprintf(body, sizeof(body),
                 "{\"service_id\":\"%s\",\"start\":\"%s\",\"customer\":{\"name\":\"Anna "
                 "Kowalska\",\"phone\":\"+48 601 234 567\"}}",
                 service, starts[round]);
        CHECK_EQ(api_race_post(&p.front, a.admin_key, NULL, "/v1/bookings", body, 24), 1);
    }
    CHECK(strcmp(test_db_value(a.db, "SELECT count(*) FROM bookings"), "2") == 0);
    proxy_stop(&p);
    api_stop(&b);
    api_stop(&a);
}
