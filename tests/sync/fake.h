/*
 * The fake calendar providers (tests/fakes/providers.js) from a C test: start
 * it on a free port of 127.0.0.1, steer it through its control API (/_fake/),
 * stop it. Control calls block (libcurl's easy interface): call them between
 * runs of the loop, never from a callback.
 */
#ifndef SLOTD_TEST_FAKE_H
#define SLOTD_TEST_FAKE_H

#include <jansson.h>
#include <sys/types.h>

typedef struct {
    pid_t pid;
    char base[64];
    char google_api_url[128], google_token_url[128];
    char microsoft_graph_url[128], microsoft_login_url[128];
    char calcom_api_url[128];
    char ics_url[128]; /**< feeds: <ics_url>/<name> */
} fake_t;

/** Starts a node script of tests/ (`script_name`, e.g. "fakes/providers.js") on a free port
 *  (--port 0) and answers its ready line's JSON (caller decrefs); the process is stopped when
 *  the test exits, unless fake_stop stopped it. Fails the test when it does not come up. */
json_t *fake_spawn(const char *script_name, pid_t *pid);

/** Starts the fake (fails the test when it does not come up). */
void fake_start(fake_t *fake);

/** A control request: `body` JSON text or NULL. Returns the answer's JSON (caller decrefs);
 *  fails the test unless the status is 200. */
json_t *fake_call(fake_t *fake, const char *method, const char *path, const char *body);

void fake_stop(fake_t *fake);

#endif
