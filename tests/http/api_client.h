/*
 * Black-box API tests: a real `slotd serve` on a fresh database and a free
 * port, spoken to over real HTTP (libcurl).
 */
#ifndef SLOTD_TEST_API_CLIENT_H
#define SLOTD_TEST_API_CLIENT_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <sys/types.h>

typedef struct {
    pid_t pid;
    int port;
    PGconn *db;
    const char *url;
    char base[64];
    char admin_key[128];
    char organization_id[40];
    bool peer; /* shares another server's database (api_start_peer) */
} api_server_t;

/** Working hours (WEEK JSON): Monday to Friday, 09:00–17:00. */
#define API_WEEKDAYS_9_TO_5                                                                        \
    "{\"mon\":[[\"09:00\",\"17:00\"]],\"tue\":[[\"09:00\",\"17:00\"]],"                            \
    "\"wed\":[[\"09:00\",\"17:00\"]],\"thu\":[[\"09:00\",\"17:00\"]],"                             \
    "\"fri\":[[\"09:00\",\"17:00\"]]}"

/** The clock the booking and agent tests freeze: Friday 2026-03-27 08:00 in Warsaw (+01:00);
 *  the clocks move on Sunday 29 March, so Monday 30 March is +02:00. */
#define API_FRIDAY_BEFORE_DST "SLOTD_NOW=2026-03-27T08:00:00+01:00"

/** Starts slotd serve (extra environment "NAME=value" entries, NULL-terminated; "{base}" in
 *  a value stands for the server's own URL) and creates an organization with an admin key. */
void api_start(api_server_t *s, const char *const *env);

/** Starts another slotd serve on `first`'s database (its organization and key too) and on
 *  a port of its own: a second instance. Stop it before `first`. */
void api_start_peer(api_server_t *peer, const api_server_t *first, const char *const *env);

/** Sends this process's stdout (which servers started now inherit, with SLOTD_TEST_VERBOSE
 *  their log) to a new file in the working directory: its name into `path` (32 bytes);
 *  returns the old stdout for api_log_end. */
int api_log_begin(char *path);

/** Restores stdout (`saved` from api_log_begin), fails the test when a line of the log holds
 *  `secret`, removes the file; returns how many lines it had. */
int api_log_end(const char *path, int saved, const char *secret);

/** A free TCP port on 127.0.0.1. */
int api_free_port(void);

/** SIGTERM, and checks that slotd exits 0 within the shutdown deadline. */
void api_stop(api_server_t *s);

/** Stops slotd (cleanly) and starts a new one on the same database and port. */
void api_restart(api_server_t *s, const char *const *env);

/** True when a HEAD /healthz is answered at all (no check of the answer: false on a failed
 *  connection). */
bool api_answers(api_server_t *s);

/** Polls /readyz until it answers `status` (about 15 s at most); returns the last answer. */
int api_readyz_becomes(api_server_t *s, int status);

/** Waits until /readyz answers 200 (the index is loaded). */
void api_wait_ready(api_server_t *s);

/** The "id" of a JSON object (static buffer ring). */
const char *api_id(const json_t *object);

/** Calls and checks the status, printing the body when it differs; returns the body. */
json_t *api_expect(api_server_t *s, int status, const char *method, const char *path,
                   const char *key, const char *body);

/** Creates another organization; its admin key and id into the buffers. */
void api_create_org(api_server_t *s, const char *name, char *key, char *org_id);

/** Creates a key of a role for an organization. */
void api_create_key(api_server_t *s, const char *org_id, const char *role, char *key);

/** A staff member working `working_hours` (WEEK JSON) and a 60-minute service that needs
 *  them: their ids into `staff_id` and `service_id` (40 bytes each). */
void api_create_staff_service(api_server_t *s, const char *working_hours, char *staff_id,
                              char *service_id);

/** A request (with the admin key) that must be refused with 400 invalid_request naming
 *  `field` with `message`; prints what came instead and fails the test. */
void api_expect_invalid(api_server_t *s, const char *method, const char *path, const char *body,
                        const char *field, const char *message);

/** How many slots GET `path` answers (-1 when it is not 200). */
int api_slot_count(api_server_t *s, const char *path);

/** Polls GET `path` until it has `count` slots (about 10 s at most); false if it never has. */
bool api_slots_become(api_server_t *s, const char *path, int count);

/**
 * `n` processes POST `body` to `path` with `key` (and `header`, e.g. an Idempotency-Key, or
 * NULL) at the same instant; returns how many got 201. Every other answer must be 409:
 * slot_unavailable with alternatives, or idempotency_in_progress (else the test fails).
 */
int api_race_post(api_server_t *s, const char *key, const char *header, const char *path,
                  const char *body, int n);

/** One request. Returns the status; *body gets the parsed JSON (or NULL). */
int api_call(api_server_t *s, const char *method, const char *path, const char *key,
             const char *body, json_t **response);

/** api_call with more request headers ("Name: value", NULL-terminated). */
int api_call_headers(api_server_t *s, const char *method, const char *path, const char *key,
                     const char *const *headers, const char *body, json_t **response);

/** A GET whose body is text; returns the status, the body in buffer. */
int api_get_text(api_server_t *s, const char *path, char *buffer, size_t size);

/** A text answer: its body (malloc'd, NUL-terminated), Content-Type and ETag. */
typedef struct {
    char *body;
    size_t length;
    char content_type[128];
    char etag[128];
} api_text_t;

/** A GET whose answer is text, with `key` (NULL: none) and more request headers ("Name:
 *  value", NULL-terminated, or NULL); returns the status. Free out->body. */
int api_get_text_headers(api_server_t *s, const char *path, const char *key,
                         const char *const *headers, api_text_t *out);

/** The error code of an error envelope ("" when not one); checks details is an object. */
const char *api_error_code(const json_t *response);

#endif
