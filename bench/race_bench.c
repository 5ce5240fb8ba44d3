/*
 * How long slotd takes to settle a race: N clients ask for the same slot at the
 * same instant, and the round is over when the last of them has its answer.
 * Run by bench/booking_bench.sh, which starts the database and the service and
 * creates the organization.
 *
 *   bench_race URL KEY SERVICE_ID RESOURCE_ID FIRST_EPOCH STEP_SECONDS ROUNDS N
 *
 * Round r asks for the start FIRST_EPOCH + r * STEP_SECONDS on RESOURCE_ID
 * (a free slot): N POST /v1/bookings, each for a customer of its own, go out
 * together over N connections opened beforehand (one libcurl multi handle, so
 * the requests leave one after another within a fraction of a millisecond).
 * Every round must end with exactly one 201 and N - 1 409 slot_unavailable
 * answers that offer alternatives, or the program stops with exit status 1.
 * Prints the p50, p99 and max of the rounds' times, from the first request
 * sent to the last answer received, in milliseconds.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    CURL *curl;
    struct curl_slist *headers;
    char body[1024];
    char *answer;
    size_t length;
} client_t;

static size_t collect(char *ptr, size_t size, size_t n, void *arg)
{
    client_t *c = arg;
    char *grown = realloc(c->answer, c->length + size * n + 1);
    if (grown == NULL)
        return 0;
    c->answer = grown;
    memcpy(c->answer + c->length, ptr, size * n);
    c->length += size * n;
    c->answer[c->length] = 0;
    return size * n;
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int compare(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Runs every client's request at once; false when a transfer failed. */
static int run_all(CURLM *multi, client_t *clients, int n)
{
    for (int i = 0; i < n; i++) {
        clients[i].length = 0;
        curl_multi_add_handle(multi, clients[i].curl);
    }
    int running = n, ok = 1;
    while (running > 0) {
        curl_multi_perform(multi, &running);
        if (running > 0)
            curl_multi_poll(multi, NULL, 0, 1000, NULL);
    }
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(multi, &left)) != NULL)
        if (msg->msg == CURLMSG_DONE && msg->data.result != CURLE_OK)
            ok = 0;
    for (int i = 0; i < n; i++)
        curl_multi_remove_handle(multi, clients[i].curl);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc != 9) {
        fprintf(stderr, "usage: bench_race URL KEY SERVICE_ID RESOURCE_ID FIRST_EPOCH "
                        "STEP_SECONDS ROUNDS N\n");
        return 2;
    }
    const char *base = argv[1], *key = argv[2], *service = argv[3], *resource = argv[4];
    long long first = atoll(argv[5]), step = atoll(argv[6]);
    int rounds = atoi(argv[7]), n = atoi(argv[8]);
    if (rounds < 1 || n < 2 || step < 1) {
        fprintf(stderr, "bench_race: bad arguments\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)n);
    client_t *clients = calloc((size_t)n, sizeof(*clients));
    char auth[256], url[512];
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key);
    for (int i = 0; i < n; i++) {
        client_t *c = &clients[i];
        c->curl = curl_easy_init();
        c->headers = curl_slist_append(NULL, auth);
        c->headers = curl_slist_append(c->headers, "Content-Type: application/json");
        curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->headers);
        curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);
        curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, 10000L);
    }
    /* N connections, opened and kept: N requests at once need one each */
    snprintf(url, sizeof(url), "%s/healthz", base);
    for (int i = 0; i < n; i++)
        curl_easy_setopt(clients[i].curl, CURLOPT_URL, url);
    if (!run_all(multi, clients, n)) {
        fprintf(stderr, "bench_race: %s does not answer\n", url);
        return 1;
    }
    snprintf(url, sizeof(url), "%s/v1/bookings", base);
    double *times = calloc((size_t)rounds, sizeof(double));
    for (int r = 0; r < rounds; r++) {
        time_t start = (time_t)(first + r * step);
        struct tm tm;
        char instant[32];
        strftime(instant, sizeof(instant), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&start, &tm));
        for (int i = 0; i < n; i++) {
            client_t *c = &clients[i];
            snprintf(c->body, sizeof(c->body),
                     "{\"service_id\":\"%s\",\"start\":\"%s\",\"resource_ids\":[\"%s\"],"
                     "\"customer\":{\"name\":\"Caller %d\",\"phone\":\"+48 7%04d%04d\"}}",
                     service, instant, resource, i, r, i);
            curl_easy_setopt(c->curl, CURLOPT_URL, url);
            curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, c->body);
        }
        double sent = now_ms();
        if (!run_all(multi, clients, n)) {
            fprintf(stderr, "bench_race: a request of round %d failed\n", r);
            return 1;
        }
        times[r] = now_ms() - sent;
        int created = 0, refused = 0;
        for (int i = 0; i < n; i++) {
            long status = 0;
            curl_easy_getinfo(clients[i].curl, CURLINFO_RESPONSE_CODE, &status);
            const char *answer = clients[i].answer ? clients[i].answer : "";
            if (status == 201)
                created++;
            else if (status == 409 && strstr(answer, "\"slot_unavailable\"") &&
                     strstr(answer, "\"alternatives\":[{"))
                refused++;
            else
                fprintf(stderr, "bench_race: round %d answered %ld: %s\n", r, status, answer);
        }
        if (created != 1 || refused != n - 1) {
            fprintf(stderr,
                    "bench_race: round %d (%s): %d created, %d refused with "
                    "alternatives, of %d\n",
                    r, instant, created, refused, n);
            return 1;
        }
    }
    qsort(times, (size_t)rounds, sizeof(double), compare);
    printf("rounds %d of %d requests for one slot, each exactly one 201 and %d 409s with "
           "alternatives; settled after: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
           rounds, n, n - 1, times[rounds / 2], times[(rounds * 99) / 100], times[rounds - 1]);
    for (int i = 0; i < n; i++) {
        curl_slist_free_all(clients[i].headers);
        curl_easy_cleanup(clients[i].curl);
        free(clients[i].answer);
    }
    free(clients);
    free(times);
    curl_multi_cleanup(multi);
    curl_global_cleanup();
    return 0;
}
