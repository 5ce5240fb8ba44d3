/*
 * Database faults, black-box: while slotd's database refuses connections,
 * slot queries keep answering from memory and /readyz says the service is
 * not ready; once the database is back, the pool and LISTEN reconnect and the
 * index catches up with what others wrote while slotd was cut off (their
 * NOTIFY reached no one). And PostgreSQL itself crashing and restarting, on a
 * cluster of the test's own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api_client.h"
#include "db.h"
#include "private_pg.h"
#include "test.h"

static const char *const frozen[] = {"SLOTD_NOW=2026-03-27T08:00:00+01:00", NULL};

TEST(faults_slots_answer_from_memory_while_the_database_is_down_and_catch_up_after)
{
    api_server_t s;
    api_start(&s, frozen);
    api_wait_ready(&s);
    char anna[40], service[40], path[256], sql[1024];
    api_create_staff_service(&s, "{\"fri\":[[\"09:00\",\"12:00\"]]}", anna, service);
    snprintf(path, sizeof(path), "/v1/slots?service_id=%s&from=2026-03-27&to=2026-03-28", service);
    CHECK(api_slots_become(&s, path, 3)); /* the key is cached from here on */

    /* another program keeps one session open; every other one is cut and no new one is let in */
    PGconn *other = PQconnectdb(s.url);
    CHECK(PQstatus(other) == CONNECTION_OK);
    PGconn *super = PQconnectdb(getenv("SLOTD_TEST_DATABASE_URL"));
    const char *dbname = strrchr(s.url, '/') + 1;
    snprintf(sql, sizeof(sql),
             "ALTER DATABASE %s ALLOW_CONNECTIONS false; SELECT pg_terminate_backend(pid) FROM "
             "pg_stat_activity WHERE datname = '%s' AND pid <> %d",
             dbname, dbname, PQbackendPID(other));
    test_db_exec(super, sql);

    /* not ready, but the slots still come from memory */
    CHECK_EQ(api_readyz_becomes(&s, 503), 503);
    CHECK_EQ(api_slot_count(&s, path), 3);
    /* a configuration read needs the database: 503, and says why */
    json_t *r = api_expect(&s, 503, "GET", "/v1/services", s.admin_key, NULL);
    CHECK(strcmp(api_error_code(r), "unavailable") == 0);
    json_decref(r);

    /* meanwhile the other program blocks Friday 10:00-11:00: nobody hears its NOTIFY */
    snprintf(sql, sizeof(sql),
             "INSERT INTO blocks (organization_id, resource_id, starts_at, ends_at) VALUES "
             "('%s', '%s', '2026-03-27T10:00:00+01:00', '2026-03-27T11:00:00+01:00')",
             s.organization_id, anna);
    test_db_exec(other, sql);
    usleep(300000);
    CHECK_EQ(api_slot_count(&s, path), 3); /* still the answer from before: nothing was heard */

    /* the database is back: ready again, and the block is in the index */
    snprintf(sql, sizeof(sql), "ALTER DATABASE %s ALLOW_CONNECTIONS true", dbname);
    test_db_exec(super, sql);
    CHECK_EQ(api_readyz_becomes(&s, 200), 200);
    CHECK(api_slots_become(&s, path, 2));
    json_decref(api_expect(&s, 200, "GET", "/v1/services", s.admin_key, NULL));
    PQfinish(other);
    PQfinish(super);
    api_stop(&s);
}

/* PostgreSQL itself crashes and comes back on the same address: slotd goes on answering slots
 * from memory meanwhile, reconnects by itself, and takes writes again. */
TEST(faults_postgres_crashes_and_restarts_under_a_running_service)
{
    test_pg_t pg;
    test_pg_start(&pg);
    api_server_t s;
    api_start(&s, frozen);
    api_wait_ready(&s);
    char anna[40], service[40], path[256];
    api_create_staff_service(&s, "{\"fri\":[[\"09:00\",\"12:00\"]]}", anna, service);
    snprintf(path, sizeof(path), "/v1/slots?service_id=%s&from=2026-03-27&to=2026-03-28", service);
    CHECK(api_slots_become(&s, path, 3));
    PQfinish(s.db); /* the test's own session ends with the server */
    s.db = NULL;

    test_pg_crash(&pg);
    CHECK_EQ(api_readyz_becomes(&s, 503), 503);
    for (int i = 0; i < 20; i++) /* from memory, with the cached key */
        CHECK_EQ(api_slot_count(&s, path), 3);
    json_t *r = api_expect(&s, 503, "GET", "/v1/services", s.admin_key, NULL);
    json_decref(r);

    test_pg_restart(&pg);
    CHECK_EQ(api_readyz_becomes(&s, 200), 200);
    /* writes work again and reach the index */
    char block[256];
    snprintf(block, sizeof(block), "/v1/resources/%s/blocks", anna);
    json_decref(api_expect(&s, 201, "POST", block, s.admin_key,
                           "{\"start\":\"2026-03-27T10:00:00+01:00\",\"end\":\"2026-03-27T11:00:"
                           "00+01:00\"}"));
    CHECK_EQ(api_slot_count(&s, path), 2);
    s.db = PQconnectdb(s.url);
    api_stop(&s);
    test_pg_remove(&pg);
}

/* A POST run in a child process, so the test can act on the database meanwhile: its status,
 * its error message and how long it took arrive through a pipe. */
typedef struct {
    pid_t pid;
    int out;
} pending_post_t;

static void post_in_background(api_server_t *s, const char *path, const char *body,
                               pending_post_t *p)
{
    int fds[2];
    CHECK(pipe(fds) == 0);
    p->pid = fork();
    if (p->pid == 0) {
        close(fds[0]);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        json_t *r = NULL;
        int status = api_call(s, "POST", path, s->admin_key, body, &r);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        const char *message =
            json_string_value(json_object_get(json_object_get(r, "error"), "message"));
        dprintf(fds[1], "%d %ld %s", status,
                (long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000),
                message ? message : "");
        _exit(0);
    }
    close(fds[1]);
    p->out = fds[0];
}

/* The POST's status; its message and duration (ms) into the buffers. */
static int post_result(pending_post_t *p, char *message, size_t size, long *ms)
{
    char text[512] = "";
    ssize_t n = read(p->out, text, sizeof(text) - 1);
    text[n > 0 ? n : 0] = 0;
    close(p->out);
    waitpid(p->pid, NULL, 0);
    int status = 0, used = 0;
    sscanf(text, "%d %ld %n", &status, ms, &used);
    snprintf(message, size, "%s", text + used);
    return status;
}

/* Waits until a slotd connection waits for a lock (its statement is on the wire). */
static void wait_for_blocked_statement(PGconn *conn)
{
    for (int i = 0; i < 500; i++) {
        if (atoi(test_db_value(conn, "SELECT count(*) FROM pg_stat_activity WHERE "
                                     "application_name = 'slotd' AND wait_event_type = 'Lock' "
                                     "AND datname = current_database()")) > 0)
            return;
        usleep(10000);
    }
    CHECK(!"a slotd statement waits for the lock");
}

/* POST /v1/resources in the background, held up on the server by a lock that another
 * session takes first; returns that session. */
static PGconn *hold_up_a_resource_insert(api_server_t *s, pending_post_t *p)
{
    PGconn *lock = PQconnectdb(s->url);
    test_db_exec(lock, "BEGIN; LOCK TABLE resources IN SHARE ROW EXCLUSIVE MODE");
    post_in_background(s, "/v1/resources",
                       "{\"kind\":\"room\",\"name\":\"Room\",\"working_hours\":{}}", p);
    wait_for_blocked_statement(s->db);
    return lock;
}

/* The POST's answer (as post_result), then the lock is released. */
static int let_the_insert_go(PGconn *lock, pending_post_t *p, char *message, size_t size, long *ms)
{
    int status = post_result(p, message, size, ms);
    test_db_exec(lock, "ROLLBACK");
    PQfinish(lock);
    return status;
}

static const char *const short_deadline[] = {"SLOTD_REQUEST_TIMEOUT_MS=1000", NULL};

/* A write whose statement is on the wire when its deadline passes is not answered "try
 * again" (it might still commit): it waits for the database's own answer. */
TEST(faults_a_write_in_flight_at_its_deadline_gets_the_database_answer)
{
    api_server_t s;
    api_start(&s, short_deadline);
    api_wait_ready(&s);
    pending_post_t p;
    PGconn *lock = hold_up_a_resource_insert(&s, &p);
    char message[256];
    long ms = 0;
    int status = let_the_insert_go(lock, &p, message, sizeof(message), &ms);
    /* the database cancelled it (its statement timeout): rolled back, safe to try again */
    CHECK_EQ(status, 503);
    CHECK(strstr(message, "database") != NULL);
    CHECK(strstr(message, "request did not finish") == NULL); /* not the deadline's own */
    CHECK(ms >= 1000);
    CHECK(strcmp(test_db_value(s.db, "SELECT count(*) FROM resources"), "0") == 0);
    api_stop(&s);
}

/* The connection is lost while a write waits on the server (PostgreSQL stops at once: no
 * error reaches the statement, the socket just closes): slotd cannot know whether it
 * committed, and says so instead of "try again". */
TEST(faults_a_write_whose_answer_is_lost_is_reported_as_unknown)
{
    test_pg_t pg;
    test_pg_start(&pg);
    api_server_t s;
    api_start(&s, NULL);
    api_wait_ready(&s);
    pending_post_t p;
    PGconn *lock = hold_up_a_resource_insert(&s, &p);
    test_pg_crash(&pg); /* the lock still held: the insert is waiting */
    PQfinish(lock);
    PQfinish(s.db);
    char message[256];
    long ms = 0;
    int status = post_result(&p, message, sizeof(message), &ms);
    CHECK_EQ(status, 503);
    CHECK(strstr(message, "may or may not have been made") != NULL);
    test_pg_restart(&pg);
    s.db = PQconnectdb(s.url);
    api_stop(&s);
    test_pg_remove(&pg);
}

/* ---- crashes under a booking load ------------------------------------------------------------ */

#define CLIENTS 4

/* CLIENTS processes book distinct hours one after another, each writing the id of every
 * booking it was told is made (201) to `out`, until their requests fail. */
static void book_until_it_fails(api_server_t *s, const char *service, int first_hour, int out)
{
    for (int c = 0; c < CLIENTS; c++) {
        if (fork() != 0)
            continue;
        for (int i = c;; i += CLIENTS) {
            int hour = first_hour + i;
            time_t start = 1774656000 + (time_t)hour * 3600; /* from 2026-03-28T00:00:00Z */
            struct tm tm;
            gmtime_r(&start, &tm);
            char when[32], body[512];
            strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
            snprintf(body, sizeof(body),
                     "{\"service_id\":\"%s\",\"start\":\"%s\","
                     "\"customer\":{\"name\":\"Caller %d\",\"phone\":\"+4860%07d\"}}",
                     service, when, hour, hour);
            json_t *r = NULL;
            /* api_call ends this process when the server is gone */
            int status = api_call(s, "POST", "/v1/bookings", s->admin_key, body, &r);
            if (status == 201)
                dprintf(out, "%s\n", api_id(r));
            json_decref(r);
            if (status != 201 && status != 409)
                _exit(0);
        }
    }
}

/* Waits for the clients; returns the ids of the bookings they were told are made, as a SQL
 * array literal, and how many. */
static char *confirmed_ids(int in, int *count)
{
    for (int c = 0; c < CLIENTS; c++)
        wait(NULL);
    static char text[1 << 20];
    size_t length = 0;
    ssize_t n;
    while ((n = read(in, text + length, sizeof(text) - 1 - length)) > 0)
        length += (size_t)n;
    text[length] = 0;
    close(in);
    static char array[1 << 20];
    size_t at = (size_t)snprintf(array, sizeof(array), "'{");
    *count = 0;
    for (char *id = strtok(text, "\n"); id; id = strtok(NULL, "\n"))
        at += (size_t)snprintf(array + at, sizeof(array) - at, "%s%s", (*count)++ ? "," : "", id);
    snprintf(array + at, sizeof(array) - at, "}'::uuid[]");
    return array;
}

/* Every booking a client was told is made is there, and nothing is half written: each
 * booking has its occupancy and its audit row, each occupancy row its booking or hold. */
static void expect_every_confirmed_booking(PGconn *db, const char *ids, int count)
{
    char sql[1 << 20];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM bookings WHERE id = ANY (%s)", ids);
    CHECK_EQ(atoi(test_db_value(db, sql)), count);
    CHECK(strcmp(test_db_value(db, "SELECT count(*) FROM bookings b WHERE NOT EXISTS (SELECT 1 "
                                   "FROM occupancy o WHERE o.booking_id = b.id) OR NOT EXISTS "
                                   "(SELECT 1 FROM booking_audit a WHERE a.booking_id = b.id)"),
                 "0") == 0);
    CHECK(strcmp(test_db_value(db, "SELECT count(*) FROM occupancy o WHERE o.booking_id IS NOT "
                                   "NULL AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.id = "
                                   "o.booking_id)"),
                 "0") == 0);
}

static const char *const every_hour[] = {"SLOTD_NOW=2026-03-27T08:00:00Z", NULL};

/* kill -9 of slotd in the middle of a booking load, then an immediate stop of PostgreSQL in
 * the middle of another: afterwards every booking whose 201 a client received is in the
 * database, and nothing half written is. */
TEST(faults_crashes_under_a_booking_load_lose_no_confirmed_booking)
{
    test_pg_t pg;
    test_pg_start(&pg);
    api_server_t s;
    api_start(&s, every_hour);
    api_wait_ready(&s);
    char anna[40], service[40];
    api_create_staff_service(&s,
                             "{\"mon\":[[\"00:00\",\"24:00\"]],\"tue\":[[\"00:00\",\"24:00\"]],"
                             "\"wed\":[[\"00:00\",\"24:00\"]],\"thu\":[[\"00:00\",\"24:00\"]],"
                             "\"fri\":[[\"00:00\",\"24:00\"]],\"sat\":[[\"00:00\",\"24:00\"]],"
                             "\"sun\":[[\"00:00\",\"24:00\"]]}",
                             anna, service);

    /* slotd killed */
    int fds[2];
    CHECK(pipe(fds) == 0);
    book_until_it_fails(&s, service, 0, fds[1]);
    close(fds[1]);
    usleep(700000);
    kill(s.pid, SIGKILL);
    waitpid(s.pid, NULL, 0);
    int count;
    const char *ids = confirmed_ids(fds[0], &count);
    CHECK(count > 0);
    expect_every_confirmed_booking(s.db, ids, count);

    /* PostgreSQL stopped at once under a new load */
    api_restart(&s, every_hour);
    api_wait_ready(&s);
    CHECK(pipe(fds) == 0);
    book_until_it_fails(&s, service, 200, fds[1]);
    close(fds[1]);
    usleep(700000);
    PQfinish(s.db);
    test_pg_crash(&pg);
    ids = confirmed_ids(fds[0], &count);
    CHECK(count > 0);
    test_pg_restart(&pg);
    s.db = PQconnectdb(s.url);
    CHECK(PQstatus(s.db) == CONNECTION_OK);
    expect_every_confirmed_booking(s.db, ids, count);
    api_stop(&s);
    test_pg_remove(&pg);
}
