/*
 * slotd serve --workers N: a supervisor process and N worker processes.
 *
 * The supervisor migrates (cli_serve did, before calling here), makes sure no
 * other process listens on the address, then starts N copies of this program
 * running `serve` with the same arguments, marked as workers by the
 * environment (SLOTD_WORKER=number, SLOTD_SUPERVISOR=its pid), each in a
 * session of its own (a terminal's Ctrl-C reaches the supervisor, which
 * passes it on once). The program started is /proc/self/exe: the very code
 * that migrated, even once its file was replaced by an upgrade. Each worker is
 * a whole service: its own loop, pool, LISTEN connection and index, and its
 * own listening socket on the shared address with SO_REUSEPORT, so the
 * kernel spreads new connections over the workers and no process hands
 * connections to another. Workers share nothing but the database: a write
 * made through one reaches the others' indexes through NOTIFY.
 *
 * Why the probe: a socket with SO_REUSEPORT shares its port with any later
 * one of the same user that sets it too, so a second slotd started by mistake
 * would silently take half the traffic. Before its workers exist, the
 * supervisor binds the address once without SO_REUSEPORT (and lets it go):
 * that bind fails while anything listens there, including another slotd's
 * workers.
 *
 * Logs: each worker's standard output is a pipe to the supervisor, which
 * passes its lines on whole, tagged with the worker's number.
 *
 * Supervision: a worker that exits while the service runs (a crash, a kill)
 * is logged and started again after a second; one that fails within its
 * first second twice in a row stops the whole service (it cannot start: a
 * bad setting, a taken address), exit status 1. The first SIGTERM or SIGINT
 * is passed on to every worker as SIGTERM (each drains as a single process
 * does); further signals are only logged until the third, which kills the
 * workers. Workers ask the kernel for SIGTERM if the supervisor dies, so
 * none outlives it. The supervisor exits once every worker has: 0 when all
 * drained, else 1.
 */
#include "cli/workers.h"

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "log/log.h"
#include "slotd/alloc.h"

#define RESTART_DELAY_MS 1000
#define START_GRACE_MS 1000
#define FORCE_AFTER_SIGNALS 3

typedef struct supervisor supervisor_t;

typedef struct {
    supervisor_t *supervisor;
    int index;
    uv_process_t process;
    uv_timer_t restart;
    bool running;
    uint64_t started_at; /* uv_now when started */
    bool started_before; /* this start replaces a worker that exited */
    int quick_failures;  /* exits within START_GRACE_MS in a row */
} worker_t;

struct supervisor {
    uv_loop_t *loop;
    uv_signal_t sigterm, sigint;
    uv_timer_t force;
    const char *exe;
    char **args;
    int count;
    worker_t *workers;
    int running; /* process handles open: started, not yet closed after their exit */
    int relays;  /* workers' outputs still open */
    int signals;
    bool stopping;
    bool failed; /* a worker did not drain, or could not start */
    int shutdown_timeout_ms;
};

static void start_worker(worker_t *w);
static void maybe_finish(supervisor_t *sv);

/* Everything is over once no worker runs: close what keeps the loop alive. */
static void maybe_finish(supervisor_t *sv)
{
    if (!sv->stopping || sv->running > 0 || sv->relays > 0)
        return;
    uv_close((uv_handle_t *)&sv->sigterm, NULL);
    uv_close((uv_handle_t *)&sv->sigint, NULL);
    /* closing them restored the default action: a signal now would kill the process while
     * it writes its last lines */
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    uv_close((uv_handle_t *)&sv->force, NULL);
    for (int i = 0; i < sv->count; i++)
        uv_close((uv_handle_t *)&sv->workers[i].restart, NULL);
}

static void signal_workers(supervisor_t *sv, int signum)
{
    for (int i = 0; i < sv->count; i++)
        if (sv->workers[i].running)
            uv_process_kill(&sv->workers[i].process, signum);
}

static void stop(supervisor_t *sv)
{
    if (sv->stopping)
        return;
    sv->stopping = true;
    for (int i = 0; i < sv->count; i++)
        uv_timer_stop(&sv->workers[i].restart);
    signal_workers(sv, SIGTERM);
    maybe_finish(sv);
}

static void on_force(uv_timer_t *timer)
{
    supervisor_t *sv = timer->data;
    log_warn("workers_killed", "cause", "workers did not stop in time", NULL);
    sv->failed = true;
    signal_workers(sv, SIGKILL);
}

static void on_restart(uv_timer_t *timer)
{
    worker_t *w = timer->data;
    if (!w->supervisor->stopping)
        start_worker(w);
}

static void on_worker_closed(uv_handle_t *handle)
{
    worker_t *w = handle->data;
    w->supervisor->running--;
    maybe_finish(w->supervisor);
}

static void on_worker_exit(uv_process_t *process, int64_t status, int term_signal)
{
    worker_t *w = process->data;
    supervisor_t *sv = w->supervisor;
    w->running = false;
    bool quick = uv_now(sv->loop) - w->started_at < START_GRACE_MS;
    log_line_t line;
    log_begin(&line, sv->stopping ? LOG_INFO : LOG_WARN, "worker_exited");
    log_int(&line, "worker", w->index + 1);
    log_int(&line, "pid", process->pid);
    log_int(&line, "status", (long long)status);
    log_int(&line, "signal", term_signal);
    log_end(&line);
    if (sv->stopping) {
        if (status != 0 || term_signal != 0)
            sv->failed = true;
    } else {
        w->quick_failures = quick ? w->quick_failures + 1 : 0;
        if (w->quick_failures >= 2) {
            log_error("worker_cannot_start", "cause",
                      "a worker failed twice at start; stopping the service", NULL);
            sv->failed = true;
            stop(sv);
        } else {
            uv_timer_start(&w->restart, on_restart, RESTART_DELAY_MS, 0);
        }
    }
    uv_close((uv_handle_t *)process, on_worker_closed);
}

/*
 * A worker's standard output, read by the supervisor: the workers' lines reach
 * the supervisor's own output whole, one at a time, each with the worker's
 * number added ("worker":N), never interleaved mid-line as writes of several
 * processes to one pipe can be. Open until the worker's end of it closes.
 */
typedef struct {
    uv_pipe_t pipe; /* first: the handle is the relay */
    supervisor_t *supervisor;
    int worker; /* number, from 1 */
    char *pending;
    size_t length; /* of a line not ended yet */
} relay_t;

#define RELAY_MAX_LINE (4 * LOG_LINE_MAX) /* a longer "line" is passed on as it is */

/* One whole line of a worker (without its newline), tagged when it is a JSON object. */
static void relay_line(relay_t *r, const char *text, size_t length)
{
    char tagged[RELAY_MAX_LINE + 32];
    if (length > 1 && text[0] == '{' && text[length - 1] == '}' && length <= RELAY_MAX_LINE) {
        int n = snprintf(tagged, sizeof(tagged), "%.*s,\"worker\":%d}\n", (int)(length - 1), text,
                         r->worker);
        log_raw_line(tagged, (size_t)n);
        return;
    }
    memcpy(tagged, text, length < RELAY_MAX_LINE ? length : RELAY_MAX_LINE);
    length = length < RELAY_MAX_LINE ? length : RELAY_MAX_LINE;
    tagged[length] = '\n';
    log_raw_line(tagged, length + 1);
}

static void relay_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    relay_t *r = (relay_t *)handle;
    (void)suggested;
    /* read into the pending line's free room: lines never need copying twice */
    buf->base = r->pending + r->length;
    buf->len = RELAY_MAX_LINE - r->length;
}

static void relay_closed(uv_handle_t *handle)
{
    relay_t *r = (relay_t *)handle;
    supervisor_t *sv = r->supervisor;
    free(r->pending);
    free(r);
    sv->relays--;
    maybe_finish(sv);
}

static void relay_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf)
{
    relay_t *r = (relay_t *)stream;
    (void)buf;
    if (n < 0) { /* the worker's end closed: what is left is its last line */
        if (r->length > 0)
            relay_line(r, r->pending, r->length);
        r->length = 0;
        uv_close((uv_handle_t *)stream, relay_closed);
        return;
    }
    r->length += (size_t)n;
    size_t start = 0;
    for (size_t i = r->length - (size_t)n; i < r->length; i++) {
        if (r->pending[i] == '\n') {
            relay_line(r, r->pending + start, i - start);
            start = i + 1;
        }
    }
    if (start == 0 && r->length == RELAY_MAX_LINE) { /* no end in sight: pass it on */
        relay_line(r, r->pending, r->length);
        start = r->length;
    }
    memmove(r->pending, r->pending + start, r->length - start);
    r->length -= start;
}

static void start_worker(worker_t *w)
{
    supervisor_t *sv = w->supervisor;
    char index[16], parent[32];
    snprintf(index, sizeof(index), "%d", w->index + 1);
    snprintf(parent, sizeof(parent), "%ld", (long)getpid());
    setenv("SLOTD_WORKER", index, 1);
    setenv("SLOTD_SUPERVISOR", parent, 1);
    if (w->started_before) /* started again: the others serve until its index is loaded */
        setenv("SLOTD_WORKER_RESTARTED", "1", 1);
    relay_t *relay = slotd_calloc(1, sizeof(*relay));
    relay->supervisor = sv;
    relay->worker = w->index + 1;
    relay->pending = slotd_malloc(RELAY_MAX_LINE);
    uv_pipe_init(sv->loop, &relay->pipe, 0);
    sv->relays++;
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_INHERIT_FD, .data.fd = 0},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&relay->pipe},
        {.flags = UV_INHERIT_FD, .data.fd = 2}};
    /* UV_PROCESS_DETACHED: a session of its own, so that a terminal's Ctrl-C reaches the
     * supervisor only, which passes it on once (a worker counts the signals it gets) */
    uv_process_options_t options = {.exit_cb = on_worker_exit,
                                    .file = sv->exe,
                                    .args = sv->args,
                                    .flags = UV_PROCESS_DETACHED,
                                    .stdio_count = 3,
                                    .stdio = stdio};
    memset(&w->process, 0, sizeof(w->process));
    w->process.data = w;
    w->started_at = uv_now(sv->loop);
    int rc = uv_spawn(sv->loop, &w->process, &options);
    unsetenv("SLOTD_WORKER");
    unsetenv("SLOTD_SUPERVISOR");
    unsetenv("SLOTD_WORKER_RESTARTED");
    if (rc == 0)
        uv_read_start((uv_stream_t *)&relay->pipe, relay_alloc, relay_read);
    else
        uv_close((uv_handle_t *)&relay->pipe, relay_closed);
    if (rc != 0) {
        log_error("worker_spawn_failed", "cause", uv_strerror(rc), NULL);
        uv_close((uv_handle_t *)&w->process, NULL);
        sv->failed = true;
        stop(sv);
        return;
    }
    w->running = true;
    w->started_before = true;
    sv->running++; /* until its handle is closed, after it exited */
    log_line_t line;
    log_begin(&line, LOG_INFO, "worker_started");
    log_int(&line, "worker", w->index + 1);
    log_int(&line, "pid", w->process.pid);
    log_end(&line);
}

static void on_signal(uv_signal_t *handle, int signum)
{
    supervisor_t *sv = handle->data;
    const char *name = signum == SIGTERM ? "SIGTERM" : "SIGINT";
    sv->signals++;
    if (sv->signals >= FORCE_AFTER_SIGNALS) {
        log_warn("shutdown_forced", "signal", name, NULL);
        sv->failed = true;
        signal_workers(sv, SIGKILL);
        return;
    }
    if (sv->signals > 1) {
        log_info("shutdown_in_progress", "signal", name, "note",
                 "workers are draining; a third signal stops them at once", NULL);
        return;
    }
    log_info("shutdown", "signal", name, NULL);
    /* a worker's own deadline ends its drain; this one ends a worker that hangs */
    uv_timer_start(&sv->force, on_force, (uint64_t)sv->shutdown_timeout_ms + 5000, 0);
    stop(sv);
}

bool cli_workers_address_free(const struct sockaddr *addr, char *error, size_t size)
{
    int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(error, size, "%s", strerror(errno));
        return false;
    }
    int on = 1; /* as libuv binds: connections in TIME_WAIT do not count */
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    socklen_t length =
        addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    bool free_ = bind(fd, addr, length) == 0;
    if (!free_)
        snprintf(error, size, "%s", strerror(errno));
    close(fd);
    return free_;
}

int cli_workers_run(int count, int shutdown_timeout_ms, int argc, char **argv)
{
    /* this very program, even after its file was replaced on disk (an upgrade): a worker
     * started again must run the code that migrated the database, not a newer one */
    supervisor_t sv = {
        .count = count, .shutdown_timeout_ms = shutdown_timeout_ms, .exe = "/proc/self/exe"};
    /* the workers run `slotd serve` with the same arguments */
    sv.args = slotd_calloc((size_t)argc + 2, sizeof(char *));
    char name[4096];
    size_t size = sizeof(name);
    sv.args[0] = uv_exepath(name, &size) == 0 ? name : "slotd"; /* what ps shows */
    for (int i = 0; i < argc; i++)
        sv.args[i + 1] = argv[i];
    uv_loop_t loop;
    uv_loop_init(&loop);
    sv.loop = &loop;
    int log_rc = log_start(&loop, 1, 0);
    if (log_rc != 0)
        log_warn("log_synchronous", "cause", uv_strerror(log_rc), NULL);
    uv_signal_init(&loop, &sv.sigterm);
    uv_signal_init(&loop, &sv.sigint);
    sv.sigterm.data = sv.sigint.data = &sv;
    uv_signal_start(&sv.sigterm, on_signal, SIGTERM);
    uv_signal_start(&sv.sigint, on_signal, SIGINT);
    uv_timer_init(&loop, &sv.force);
    sv.force.data = &sv;
    sv.workers = slotd_calloc((size_t)count, sizeof(worker_t));
    for (int i = 0; i < count; i++) {
        worker_t *w = &sv.workers[i];
        w->supervisor = &sv;
        w->index = i;
        uv_timer_init(&loop, &w->restart);
        w->restart.data = w;
    }
    log_line_t line;
    log_begin(&line, LOG_INFO, "workers_starting");
    log_int(&line, "workers", count);
    log_end(&line);
    for (int i = 0; i < count && !sv.stopping; i++)
        start_worker(&sv.workers[i]);
    uv_run(&loop, UV_RUN_DEFAULT);
    log_info("stopped", "how", sv.failed ? "forced" : "drained", NULL);
    log_stop();
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    free(sv.workers);
    free(sv.args);
    return sv.failed ? 1 : 0;
}

int cli_worker_begin(bool *restarted)
{
    const char *index = getenv("SLOTD_WORKER");
    const char *parent = getenv("SLOTD_SUPERVISOR");
    *restarted = getenv("SLOTD_WORKER_RESTARTED") != NULL;
    if (index == NULL || parent == NULL)
        return 0;
    int worker = atoi(index);
    pid_t supervisor = (pid_t)atol(parent);
    unsetenv("SLOTD_WORKER");
    unsetenv("SLOTD_SUPERVISOR");
    unsetenv("SLOTD_WORKER_RESTARTED");
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != supervisor) /* it died before the request above took effect */
        raise(SIGTERM);
    return worker;
}
