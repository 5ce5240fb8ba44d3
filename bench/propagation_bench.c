/*
 * How long after a write is acknowledged by one slotd instance another
 * instance stops offering the slot it took: the cross-instance freshness of
 * the index (NOTIFY, reload, apply). Run by bench/propagation_bench.sh, which
 * starts the database and the two instances and creates the organization.
 *
 *   bench_propagation WRITER_URL READER_URL KEY SERVICE_ID RESOURCE_ID FIRST_DAY COUNT MODE
 *
 * For each of COUNT days from FIRST_DAY (YYYY-MM-DD, days the resource works
 * 09:00-12:00 in the organization's zone): first the reader must offer the
 * day's 09:00 slot; then one write through the writer takes 09:00-10:00 —
 * MODE "block" (POST /v1/resources/{id}/blocks) or "booking" (POST
 * /v1/bookings) — and from its acknowledgement the reader is asked again and
 * again, over one kept-alive connection, until the slot is gone. Prints the
 * p50, p99 and max of those delays in milliseconds and how many polls they
 * took. Each poll is a full slot query (well under a millisecond on
 * loopback), so the resolution is about one poll. SLOTD_BENCH_TRACE=1 prints
 * each write's delay and polls on stderr.
 */
#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    char *data;
    size_t length;
} buffer_t;

static size_t collect(char *ptr, size_t size, size_t n, void *arg)
{
    buffer_t *b = arg;
    char *grown = realloc(b->data, b->length + size * n + 1);
    if (grown == NULL)
        return 0;
    b->data = grown;
    memcpy(b->data + b->length, ptr, size * n);
    b->length += size * n;
    b->data[b->length] = 0;
    return size * n;
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* One request on a kept-alive handle; the status, the body in *b (reset first). */
static long request(CURL *curl, const char *method, const char *url, const char *key,
                    const char *body, buffer_t *b)
{
    char auth[256];
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key);
    struct curl_slist *headers = curl_slist_append(NULL, auth);
    headers = curl_slist_append(headers, "Content-Type: application/json");
    b->length = 0;
    if (b->data)
        b->data[0] = 0;
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    if (body == NULL)
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    long status = 0;
    if (curl_easy_perform(curl) == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    return status;
}

static int compare(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc != 9) {
        fprintf(stderr, "usage: bench_propagation WRITER_URL READER_URL KEY SERVICE_ID "
                        "RESOURCE_ID FIRST_DAY COUNT block|booking\n");
        return 2;
    }
    const char *writer_url = argv[1], *reader_url = argv[2], *key = argv[3], *service = argv[4],
               *resource = argv[5], *first_day = argv[6], *mode = argv[8];
    int count = atoi(argv[7]);
    bool booking = strcmp(mode, "booking") == 0;
    struct tm day = {0};
    if (count < 1 || strptime(first_day, "%Y-%m-%d", &day) == NULL ||
        (!booking && strcmp(mode, "block") != 0)) {
        fprintf(stderr, "bench_propagation: bad arguments\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *writer = curl_easy_init(), *reader = curl_easy_init();
    buffer_t b = {0};
    double *delays = calloc((size_t)count, sizeof(double));
    long polls_total = 0;
    day.tm_hour = 12;
    for (int i = 0; i < count; i++) {
        char date[16], url[1024], body[1024];
        strftime(date, sizeof(date), "%Y-%m-%d", &day);
        day.tm_mday++;
        timegm(&day); /* normalizes the date */
        snprintf(url, sizeof(url), "%s/v1/slots?service_id=%s&from=%s&to=%s&tz=UTC", reader_url,
                 service, date, date);
        char wanted[64];
        snprintf(wanted, sizeof(wanted), "\"start\":\"%sT09:00:00Z\"", date);
        /* the reader offers the slot before the write */
        int tries = 0;
        while (request(reader, "GET", url, key, NULL, &b) != 200 || !strstr(b.data, wanted)) {
            if (++tries > 5000) {
                fprintf(stderr, "bench_propagation: %s 09:00 is never offered:\n%s\n", date,
                        b.data ? b.data : "");
                return 1;
            }
        }
        char write_url[512];
        if (booking) {
            snprintf(write_url, sizeof(write_url), "%s/v1/bookings", writer_url);
            snprintf(body, sizeof(body),
                     "{\"service_id\":\"%s\",\"start\":\"%sT09:00:00Z\",\"resource_ids\":[\"%s\"],"
                     "\"customer\":{\"name\":\"Bench %d\",\"phone\":\"+4860%07d\"}}",
                     service, date, resource, i, i);
        } else {
            snprintf(write_url, sizeof(write_url), "%s/v1/resources/%s/blocks", writer_url,
                     resource);
            snprintf(body, sizeof(body),
                     "{\"start\":\"%sT09:00:00Z\",\"end\":\"%sT10:00:00Z\",\"reason\":\"bench\"}",
                     date, date);
        }
        long status = request(writer, "POST", write_url, key, body, &b);
        double acknowledged = now_ms();
        if (status != 201) {
            fprintf(stderr, "bench_propagation: the write answered %ld:\n%s\n", status,
                    b.data ? b.data : "");
            return 1;
        }
        long polls = 0;
        do {
            polls++;
        } while (request(reader, "GET", url, key, NULL, &b) != 200 || strstr(b.data, wanted));
        delays[i] = now_ms() - acknowledged;
        if (getenv("SLOTD_BENCH_TRACE"))
            fprintf(stderr, "%d %.2f %ld\n", i, delays[i], polls);
        polls_total += polls;
    }
    qsort(delays, (size_t)count, sizeof(double), compare);
    printf("writes %d (%s), reader stopped offering the slot after: p50 %.2f ms, p99 %.2f ms, "
           "max %.2f ms (%.1f polls per write on average)\n",
           count, mode, delays[count / 2], delays[(count * 99) / 100], delays[count - 1],
           (double)polls_total / count);
    free(delays);
    free(b.data);
    curl_easy_cleanup(writer);
    curl_easy_cleanup(reader);
    curl_global_cleanup();
    return 0;
}
