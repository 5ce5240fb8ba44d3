/*
 * Engine microbenchmark: slot queries against a realistic organization.
 *
 * A clinic in Europe/Warsaw with business hours, 20 staff working Monday to
 * Saturday 08:00-18:00 with a lunch break, and a 30-minute service (10 minutes
 * after-buffer, 15-minute step) that needs any one of 10 of them. Each staff
 * member has 8 bookings (45 minutes, buffers 0/10, never overlapping) on every
 * working day for a year: about 50,000 bookings. Queries ask for 7 days of slots starting at a
 * random day of that year, as a voice agent would.
 *
 * Printed: the median and p99 time per query, queries per second on one core,
 * bytes per stored busy interval, and the same queries against the same clinic
 * holding 10x the bookings (ten years), side by side.
 *
 * Then the combination of requirement groups (rule 4) at its widest: a
 * service needing one of each of 3 groups of 128 staff, and one of each of 2
 * groups of 256, every member with her own bookings, queried over the longest
 * window (62 days). Printed: the median and worst time of a few such queries.
 *
 * Usage: bench_engine [queries]   (default 20000)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slotd/engine.h"

#define STAFF 20
#define GROUP 10

typedef struct {
    eng_org_t *org;
    eng_resource_t *staff[STAFF];
    eng_service_t *service;
    size_t bookings;
    int32_t first_day;
} clinic_t;

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void build(clinic_t *c, tz_zone_t *zone, int32_t first_day, int days)
{
    memset(c, 0, sizeof(*c));
    c->first_day = first_day;
    c->org = eng_org_new(zone);
    eng_week_t business = {0};
    for (int d = 0; d < 6; d++) {
        business.day[d].count = 1;
        business.day[d].ranges[0] = (eng_hours_range_t){7 * 60, 19 * 60};
    }
    eng_org_set_business_hours(c->org, &business);
    eng_week_t week = {0};
    for (int d = 0; d < 6; d++) {
        week.day[d].count = 2;
        week.day[d].ranges[0] = (eng_hours_range_t){8 * 60, 13 * 60};
        week.day[d].ranges[1] = (eng_hours_range_t){13 * 60 + 30, 18 * 60};
    }
    for (int i = 0; i < STAFF; i++) {
        eng_id_t id = {{0}};
        id.bytes[0] = (uint8_t)(i * 37 + 11);
        id.bytes[15] = (uint8_t)i;
        c->staff[i] = eng_resource_new(c->org, &id, zone);
        eng_resource_set_week(c->staff[i], &week);
    }
    eng_service_spec_t spec = {.duration_minutes = 30,
                               .interval_minutes = 15,
                               .buffer_after_minutes = 10,
                               .max_advance_days = -1};
    eng_service_new(c->org, &spec, &c->service);
    eng_service_add_group(c->service, ENG_GROUP_ANY, c->staff, GROUP);

    /* 8 bookings of 45 minutes (plus the 10-minute after-buffer) per working day,
     * on a 15-minute grid, none overlapping another of the same staff member (the
     * database would refuse that): 4 in the morning's 20 quarter hours
     * (08:00-13:00) and 4 in the afternoon's 18 (13:30-18:00), each taking 4
     * quarters, the spare quarters spread at random between them. */
    static const int segment_start[2] = {8 * 60, 13 * 60 + 30};
    static const int segment_quarters[2] = {20, 18};
    uint64_t key = 1;
    for (int i = 0; i < STAFF; i++) {
        for (int32_t day = first_day; day < first_day + days; day++) {
            if (tz_weekday(day) == 6)
                continue;
            int64_t previous_end = INT64_MIN;
            for (int seg = 0; seg < 2; seg++) {
                int slack = segment_quarters[seg] - 4 * 4, cursor = 0;
                for (int k = 0; k < 4; k++) {
                    int skip = slack > 0 ? (int)(next_random() % (uint64_t)(slack + 1)) : 0;
                    slack -= skip;
                    cursor += skip;
                    int minute = segment_start[seg] + cursor * 15;
                    cursor += 4;
                    int64_t start = tz_from_wall(zone, (int64_t)day * 86400 + minute * 60);
                    eng_busy_t b = {.start = start,
                                    .end = start + 45 * 60,
                                    .buffer_after = 10,
                                    .kind = ENG_BUSY_BOOKING,
                                    .stamp = start - 86400 * 7,
                                    .key = key};
                    key++;
                    if (start < previous_end) {
                        fprintf(stderr, "bench: generated overlapping bookings\n");
                        exit(1);
                    }
                    previous_end = b.end + 10 * 60;
                    if (eng_resource_add_busy(c->staff[i], &b) == 0)
                        c->bookings++;
                }
            }
        }
    }
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct {
    double median_us, p99_us, per_second, mean_slots;
} result_t;

static result_t run(clinic_t *c, eng_workspace_t *ws, const int32_t *days, int n)
{
    tz_zone_t *zone = eng_org_zone(c->org);
    double *times = malloc(sizeof(double) * (size_t)n);
    size_t slots = 0;
    double total_start = now_seconds();
    for (int i = 0; i < n; i++) {
        int64_t from = tz_from_wall(zone, (int64_t)days[i] * 86400);
        eng_query_t q = {
            .service = c->service, .from = from, .to = from + 7 * 86400, .now = from - 86400};
        eng_slots_t out;
        double t0 = now_seconds();
        eng_slots(ws, &q, &out);
        times[i] = now_seconds() - t0;
        slots += out.count;
    }
    double total = now_seconds() - total_start;
    qsort(times, (size_t)n, sizeof(double), compare_double);
    result_t r = {times[n / 2] * 1e6, times[(size_t)((double)n * 0.99)] * 1e6, n / total,
                  (double)slots / n};
    free(times);
    return r;
}

static double bytes_per_interval(const clinic_t *c)
{
    size_t bytes = 0, count = 0;
    for (int i = 0; i < STAFF; i++) {
        bytes += eng_resource_busy_bytes(c->staff[i]);
        count += eng_resource_busy_count(c->staff[i]);
    }
    return (double)bytes / (double)count;
}

/* A service needing one member of each of `groups` groups of `members` staff,
 * each staff member with 4 bookings a working day at her own random times.
 * Returns the median and worst time of `n` 62-day queries, in milliseconds. */
static void wide_groups(tz_zone_t *zone, int32_t first_day, int groups, int members, int n,
                        double *median_ms, double *worst_ms, double *mean_slots)
{
    eng_org_t *org = eng_org_new(zone);
    eng_week_t week = {0};
    for (int d = 0; d < 6; d++) {
        week.day[d].count = 1;
        week.day[d].ranges[0] = (eng_hours_range_t){8 * 60, 18 * 60};
    }
    size_t total = (size_t)groups * (size_t)members;
    eng_resource_t **staff = malloc(sizeof(*staff) * total);
    uint64_t key = 1;
    for (size_t i = 0; i < total; i++) {
        eng_id_t id = {{0}};
        id.bytes[0] = (uint8_t)(i >> 8);
        id.bytes[1] = (uint8_t)i;
        staff[i] = eng_resource_new(org, &id, zone);
        eng_resource_set_week(staff[i], &week);
        for (int32_t day = first_day; day < first_day + 70; day++) {
            if (tz_weekday(day) == 6)
                continue;
            for (int k = 0; k < 4; k++) {
                int minute = 8 * 60 + k * 150 + (int)(next_random() % 8) * 15;
                int64_t start = tz_from_wall(zone, (int64_t)day * 86400 + minute * 60);
                eng_busy_t b = {.start = start,
                                .end = start + 45 * 60,
                                .kind = ENG_BUSY_BOOKING,
                                .stamp = start - 86400,
                                .key = key++};
                eng_resource_add_busy(staff[i], &b);
            }
        }
    }
    eng_service_spec_t spec = {
        .duration_minutes = 30, .interval_minutes = 15, .max_advance_days = -1};
    eng_service_t *service;
    eng_service_new(org, &spec, &service);
    for (int g = 0; g < groups; g++)
        eng_service_add_group(service, ENG_GROUP_ANY, staff + (size_t)g * (size_t)members,
                              (size_t)members);

    eng_workspace_t *ws = eng_workspace_new();
    double *times = malloc(sizeof(double) * (size_t)n);
    size_t slots = 0;
    for (int i = 0; i < n; i++) {
        int64_t from = tz_from_wall(zone, (int64_t)(first_day + i % 7) * 86400);
        eng_query_t q = {.service = service,
                         .from = from,
                         .to = from + ENG_MAX_WINDOW_SECONDS,
                         .now = from - 86400};
        eng_slots_t out;
        double t0 = now_seconds();
        eng_slots(ws, &q, &out);
        times[i] = now_seconds() - t0;
        slots += out.count;
    }
    qsort(times, (size_t)n, sizeof(double), compare_double);
    *median_ms = times[n / 2] * 1e3;
    *worst_ms = times[n - 1] * 1e3;
    *mean_slots = (double)slots / n;
    free(times);
    eng_workspace_free(ws);
    free(staff);
    eng_org_free(org);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 20000;
    if (n < 100)
        n = 100;
    tz_zone_t *zone;
    if (tz_zone_find("Europe/Warsaw", &zone) != 0) {
        fprintf(stderr, "no zone data\n");
        return 1;
    }
    int32_t first = tz_days_from_civil(2026, 1, 1);

    double t0 = now_seconds();
    clinic_t year, decade;
    build(&year, zone, first, 365);
    double load_year = now_seconds() - t0;
    t0 = now_seconds();
    build(&decade, zone, first, 3650);
    double load_decade = now_seconds() - t0;

    /* The same random weeks (within the first year) for both. */
    int32_t *days = malloc(sizeof(int32_t) * (size_t)n);
    for (int i = 0; i < n; i++)
        days[i] = first + (int32_t)(next_random() % 358);

    eng_workspace_t *ws = eng_workspace_new();
    run(&year, ws, days, n < 2000 ? n : 2000); /* warm caches: zone days, workspace */
    run(&decade, ws, days, n < 2000 ? n : 2000);
    result_t a = run(&year, ws, days, n);
    result_t b = run(&decade, ws, days, n);

    printf("slotd engine benchmark: 7-day slot queries, any 1 of %d staff (of %d), "
           "Europe/Warsaw, %d queries each\n\n",
           GROUP, STAFF, n);
    printf("%-28s %16s %16s %10s\n", "", "1 year", "10 years", "ratio");
    printf("%-28s %16zu %16zu %9.1fx\n", "stored bookings", year.bookings, decade.bookings,
           (double)decade.bookings / (double)year.bookings);
    printf("%-28s %14.2f s %14.2f s\n", "load time", load_year, load_decade);
    printf("%-28s %13.2f us %13.2f us %9.2fx\n", "median per query", a.median_us, b.median_us,
           b.median_us / a.median_us);
    printf("%-28s %13.2f us %13.2f us %9.2fx\n", "p99 per query", a.p99_us, b.p99_us,
           b.p99_us / a.p99_us);
    printf("%-28s %16.0f %16.0f\n", "queries/s (one core)", a.per_second, b.per_second);
    printf("%-28s %16.1f %16.1f\n", "slots per query (mean)", a.mean_slots, b.mean_slots);
    printf("%-28s %16.1f %16.1f\n", "bytes per busy interval", bytes_per_interval(&year),
           bytes_per_interval(&decade));
    printf("\ntargets: median <= 20 us, p99 <= 50 us, <= 64 bytes per busy interval, "
           "10x bookings <= 1.5x per query\n");

    printf("\n62-day queries of a service needing one member of each of several groups:\n");
    printf("%-28s %16s %16s %16s\n", "", "median", "worst", "slots (mean)");
    static const int shapes[][2] = {{3, 128}, {2, 256}};
    for (int i = 0; i < 2; i++) {
        double median, worst, mean;
        wide_groups(zone, first, shapes[i][0], shapes[i][1], 15, &median, &worst, &mean);
        char label[64];
        snprintf(label, sizeof(label), "%d groups of %d staff", shapes[i][0], shapes[i][1]);
        printf("%-28s %13.2f ms %13.2f ms %16.1f\n", label, median, worst, mean);
    }
    printf("target: milliseconds per query\n");

    eng_workspace_free(ws);
    free(days);
    eng_org_free(year.org);
    eng_org_free(decade.org);
    tz_shutdown();
    return 0;
}
