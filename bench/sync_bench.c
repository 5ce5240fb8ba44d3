/*
 * The slot-query load of bench/sync_bench.sh: GET requests at a fixed rate
 * (open loop), whatever the answers' speed, until told to stop; one line per
 * answer, so that the script can split the run into phases afterwards (before
 * a sync, during it) by the time each request was due.
 *
 *   bench_sync_load URL KEY PATHS_FILE RATE CONNECTIONS STOP_FILE
 *
 * Request i is due at start + i / RATE and asks for a path picked at random
 * from PATHS_FILE (one a line) with the API key KEY, over at most CONNECTIONS
 * kept-alive connections (one libcurl multi handle). Its latency counts from
 * the moment it was due, not from when it left: a request that waits because
 * the server held the answers before it (every connection busy) counts that
 * wait, so a stall of the server shows in full and is not hidden by the load
 * slowing down with it. The program stops sending once STOP_FILE exists
 * (checked every 10 ms), waits for the answers still to come and exits.
 *
 * Prints on stdout, per answer: "DUE_US LATENCY_US STATUS", DUE_US the
 * request's due time in microseconds of the Unix epoch (the clock of bash's
 * $EPOCHREALTIME), STATUS the HTTP status (0: the transfer failed). At the end
 * on stderr: how many were sent, and the most that waited for a connection.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    CURL *curl;
    double due_us; /* 0: idle */
} client_t;

static size_t discard(char *ptr, size_t size, size_t n, void *arg)
{
    (void)ptr;
    (void)arg;
    return size * n;
}

static double epoch_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

/* The lines of `file`, without their newlines; their number in *count. */
static char **read_lines(const char *file, size_t *count)
{
    FILE *f = fopen(file, "r");
    if (f == NULL)
        return NULL;
    char **lines = NULL, line[4096];
    size_t n = 0, capacity = 0;
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (line[0] == 0)
            continue;
        if (n == capacity) {
            capacity = capacity ? 2 * capacity : 64;
            lines = realloc(lines, capacity * sizeof(*lines));
            if (lines == NULL)
                abort();
        }
        lines[n++] = strdup(line);
    }
    fclose(f);
    *count = n;
    return lines;
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: bench_sync_load URL KEY PATHS_FILE RATE CONNECTIONS STOP_FILE\n");
        return 2;
    }
    const char *base = argv[1], *key = argv[2], *stop_file = argv[6];
    double rate = atof(argv[4]);
    int n = atoi(argv[5]);
    size_t path_count = 0;
    char **paths = read_lines(argv[3], &path_count);
    if (rate <= 0 || n < 1 || paths == NULL || path_count == 0) {
        fprintf(stderr, "bench_sync_load: bad arguments (or no paths in %s)\n", argv[3]);
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)n);
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)n);
    client_t *clients = calloc((size_t)n, sizeof(*clients));
    char auth[256];
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key);
    struct curl_slist *headers = curl_slist_append(NULL, auth);
    for (int i = 0; i < n; i++) {
        clients[i].curl = curl_easy_init();
        curl_easy_setopt(clients[i].curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(clients[i].curl, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(clients[i].curl, CURLOPT_TIMEOUT_MS, 30000L);
        curl_easy_setopt(clients[i].curl, CURLOPT_PRIVATE, &clients[i]);
    }
    srand(7919);
    double interval_us = 1e6 / rate, start = epoch_us(), next_check = 0;
    long sent = 0, in_flight = 0, most_waiting = 0;
    int stopping = 0;
    char url[8192];
    while (!stopping || in_flight > 0) {
        double now = epoch_us();
        if (!stopping && now >= next_check) {
            stopping = access(stop_file, F_OK) == 0;
            next_check = now + 10000;
        }
        /* every request due by now goes out while a connection is free; the rest wait */
        long waiting = stopping ? 0 : (long)((now - start) / interval_us) + 1 - sent;
        if (waiting > most_waiting)
            most_waiting = waiting;
        for (int i = 0; i < n && waiting > 0; i++) {
            if (clients[i].due_us != 0)
                continue;
            clients[i].due_us = start + (double)sent * interval_us;
            snprintf(url, sizeof(url), "%s%s", base, paths[(size_t)rand() % path_count]);
            curl_easy_setopt(clients[i].curl, CURLOPT_URL, url);
            curl_multi_add_handle(multi, clients[i].curl);
            sent++;
            in_flight++;
            waiting--;
        }
        int running;
        curl_multi_perform(multi, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            client_t *c;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
            long status = 0;
            if (msg->data.result == CURLE_OK)
                curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
            printf("%.0f %.0f %ld\n", c->due_us, epoch_us() - c->due_us, status);
            curl_multi_remove_handle(multi, c->curl);
            c->due_us = 0;
            in_flight--;
        }
        /* until the next request is due, an answer comes, or libcurl has work (to the
         * microsecond: a request sent late would count the lateness as latency) */
        double wait_us = waiting > 0 ? 10000 : start + (double)sent * interval_us - epoch_us();
        long curl_ms = -1;
        curl_multi_timeout(multi, &curl_ms);
        if (curl_ms >= 0 && (double)curl_ms * 1000 < wait_us)
            wait_us = (double)curl_ms * 1000;
        if (wait_us > 10000)
            wait_us = 10000;
        if (wait_us <= 0)
            continue;
        fd_set read_fds, write_fds, error_fds;
        FD_ZERO(&read_fds);
        FD_ZERO(&write_fds);
        FD_ZERO(&error_fds);
        int max_fd = -1;
        curl_multi_fdset(multi, &read_fds, &write_fds, &error_fds, &max_fd);
        struct timeval timeout = {.tv_sec = 0, .tv_usec = (long)wait_us};
        select(max_fd + 1, &read_fds, &write_fds, &error_fds, &timeout); /* no fds: a sleep */
    }
    fprintf(stderr, "bench_sync_load: %ld requests sent, at most %ld waited for a connection\n",
            sent, most_waiting);
    for (int i = 0; i < n; i++)
        curl_easy_cleanup(clients[i].curl);
    curl_slist_free_all(headers);
    for (size_t i = 0; i < path_count; i++)
        free(paths[i]);
    free(paths);
    free(clients);
    curl_multi_cleanup(multi);
    curl_global_cleanup();
    return 0;
}
