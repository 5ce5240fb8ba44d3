/*
 * Starting and steering the fake providers (see fake.h).
 */
#include "fake.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

static void copy_url(const json_t *ready, const char *key, char *out, size_t size)
{
    const char *value = json_string_value(json_object_get(ready, key));
    CHECK(value != NULL && strlen(value) < size);
    snprintf(out, size, "%s", value);
}

/* The fake started last: stopped when the test exits, also when a CHECK fails, so that no
 * fake outlives its test (and holds the test's output open). */
static pid_t running;

static void stop_running(void)
{
    if (running > 0) {
        kill(running, SIGTERM);
        waitpid(running, NULL, 0);
        running = 0;
    }
}

json_t *fake_spawn(const char *script_name, pid_t *pid)
{
    const char *source = getenv("SLOTD_SOURCE_DIR");
    CHECK(source != NULL);
    char script[1024];
    snprintf(script, sizeof(script), "%s/tests/%s", source, script_name);
    int out[2];
    CHECK(pipe(out) == 0);
    *pid = fork();
    CHECK(*pid >= 0);
    if (*pid == 0) {
        dup2(out[1], STDOUT_FILENO);
        close(out[0]);
        close(out[1]);
        execlp("node", "node", script, "--port", "0", (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    running = *pid;
    atexit(stop_running);
    FILE *f = fdopen(out[0], "r");
    char line[2048];
    CHECK(f != NULL && fgets(line, sizeof(line), f) != NULL); /* the ready line */
    fclose(f); /* later lines (none are expected) would meet a closed pipe: it ignores it */
    json_t *ready = json_loads(line, 0, NULL);
    CHECK(ready != NULL);
    return ready;
}

void fake_start(fake_t *fake)
{
    memset(fake, 0, sizeof(*fake));
    json_t *ready = fake_spawn("fakes/providers.js", &fake->pid);
    copy_url(ready, "base", fake->base, sizeof(fake->base));
    copy_url(ready, "google_api_url", fake->google_api_url, sizeof(fake->google_api_url));
    copy_url(ready, "google_token_url", fake->google_token_url, sizeof(fake->google_token_url));
    copy_url(ready, "microsoft_graph_url", fake->microsoft_graph_url,
             sizeof(fake->microsoft_graph_url));
    copy_url(ready, "microsoft_login_url", fake->microsoft_login_url,
             sizeof(fake->microsoft_login_url));
    copy_url(ready, "calcom_api_url", fake->calcom_api_url, sizeof(fake->calcom_api_url));
    copy_url(ready, "ics_url", fake->ics_url, sizeof(fake->ics_url));
    json_decref(ready);
}

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
    char **text = arg;
    size_t old = *text ? strlen(*text) : 0;
    *text = realloc(*text, old + size * n + 1);
    CHECK(*text != NULL);
    memcpy(*text + old, data, size * n);
    (*text)[old + size * n] = 0;
    return size * n;
}

json_t *fake_call(fake_t *fake, const char *method, const char *path, const char *body)
{
    char url[1024];
    snprintf(url, sizeof(url), "%s%s", fake->base, path);
    CURL *curl = curl_easy_init();
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    char *text = NULL;
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    if (body)
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &text);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    if (rc != CURLE_OK || status < 200 || status > 299) {
        fprintf(stderr, "fake %s %s: %s, HTTP %ld: %s\n", method, path, curl_easy_strerror(rc),
                status, text ? text : "");
        exit(1);
    }
    json_t *answer = json_loads(text ? text : "null", JSON_DECODE_ANY, NULL);
    free(text);
    return answer;
}

void fake_stop(fake_t *fake)
{
    if (fake->pid > 0) {
        kill(fake->pid, SIGTERM);
        waitpid(fake->pid, NULL, 0);
        if (running == fake->pid)
            running = 0;
        fake->pid = 0;
    }
}
