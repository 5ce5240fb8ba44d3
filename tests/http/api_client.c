/*
 * The black-box API test client (see api_client.h).
 *
 * Every response it receives is also appended, when SLOTD_API_LOG names a
 * file, as one JSON line {method, path, status, content_type, body} to that
 * file. After the tests, the test command (scripts/test.sh) validates each
 * line against src/http/openapi.yaml (tests/openapi/check.sh), so the document
 * cannot drift from what the service answers. One write() per line on an O_APPEND descriptor keeps
 * the lines of tests running in parallel whole.
 */
#include "api_client.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "test.h"

int api_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    socklen_t len = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

typedef struct {
    char *data;
    size_t len;
} buffer_t;

static size_t collect(char *ptr, size_t size, size_t n, void *arg)
{
    buffer_t *b = arg;
    b->data = realloc(b->data, b->len + size * n + 1);
    memcpy(b->data + b->len, ptr, size * n);
    b->len += size * n;
    b->data[b->len] = 0;
    return size * n;
}

/* Appends one received response to the SLOTD_API_LOG file, if set. */
static void log_response(CURL *curl, const char *method, const char *path, long status,
                         const buffer_t *b)
{
    const char *file = getenv("SLOTD_API_LOG");
    if (!file || !*file)
        return;
    const char *type = NULL;
    curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type);
    json_t *line =
        json_pack("{s:s, s:s, s:I, s:s?, s:s%}", "method", method, "path", path, "status",
                  (json_int_t)status, "content_type", type, "body", b->data ? b->data : "", b->len);
    CHECK(line != NULL); /* the body is not UTF-8: a defect of its own */
    char *text = json_dumps(line, JSON_COMPACT);
    size_t len = strlen(text);
    text = realloc(text, len + 2);
    text[len++] = '\n';
    int fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    CHECK(fd >= 0);
    CHECK(write(fd, text, len) == (ssize_t)len);
    close(fd);
    free(text);
    json_decref(line);
}

int api_call(api_server_t *s, const char *method, const char *path, const char *key,
             const char *body, json_t **response)
{
    return api_call_headers(s, method, path, key, NULL, body, response);
}

int api_call_headers(api_server_t *s, const char *method, const char *path, const char *key,
                     const char *const *extra_headers, const char *body, json_t **response)
{
    CURL *curl = curl_easy_init();
    char url[512];
    snprintf(url, sizeof(url), "%s%s", s->base, path);
    buffer_t b = {0};
    struct curl_slist *headers = NULL;
    char auth[256];
    if (key) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key);
        headers = curl_slist_append(headers, auth);
    }
    headers = curl_slist_append(headers, "Content-Type: application/json");
    for (size_t i = 0; extra_headers && extra_headers[i]; i++)
        headers = curl_slist_append(headers, extra_headers[i]);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
    if (body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    CURLcode rc = curl_easy_perform(curl);
    if (rc != CURLE_OK) {
        fprintf(stderr, "%s %s: %s\n", method, path, curl_easy_strerror(rc));
        exit(1);
    }
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    log_response(curl, method, path, status, &b);
    if (response)
        *response = b.data ? json_loads(b.data, 0, NULL) : NULL;
    free(b.data);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return (int)status;
}

int api_get_text(api_server_t *s, const char *path, char *buffer, size_t size)
{
    CURL *curl = curl_easy_init();
    char url[512];
    snprintf(url, sizeof(url), "%s%s", s->base, path);
    buffer_t b = {0};
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
    CHECK(curl_easy_perform(curl) == CURLE_OK);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    log_response(curl, "GET", path, status, &b);
    snprintf(buffer, size, "%s", b.data ? b.data : "");
    free(b.data);
    curl_easy_cleanup(curl);
    return (int)status;
}

const char *api_error_code(const json_t *response)
{
    const json_t *error = json_object_get(response, "error");
    if (!json_is_object(error))
        return "";
    CHECK(json_is_object(json_object_get(error, "details")));
    CHECK(json_is_string(json_object_get(error, "message")));
    const char *code = json_string_value(json_object_get(error, "code"));
    return code ? code : "";
}

static void parse_created(const char *out, char *key, char *org_id)
{
    json_t *j = json_loads(out, 0, NULL);
    CHECK(j != NULL);
    snprintf(key, 128, "%s", json_string_value(json_object_get(j, "api_key")));
    if (org_id)
        snprintf(org_id, 40, "%s", json_string_value(json_object_get(j, "organization_id")));
    json_decref(j);
}

void api_create_org(api_server_t *s, const char *name, char *key, char *org_id)
{
    char args[1024], out[4096];
    snprintf(args, sizeof(args),
             "org create --name '%s' --timezone Europe/Warsaw --database-url '%s'", name, s->url);
    CHECK_EQ(test_run_slotd(args, out, sizeof(out)), 0);
    parse_created(out, key, org_id);
}

void api_create_key(api_server_t *s, const char *org_id, const char *role, char *key)
{
    char args[1024], out[4096];
    snprintf(args, sizeof(args), "key create --org %s --role %s --database-url '%s'", org_id, role,
             s->url);
    CHECK_EQ(test_run_slotd(args, out, sizeof(out)), 0);
    parse_created(out, key, NULL);
}

const char *api_id(const json_t *object)
{
    static char ring[8][40];
    static int next;
    char *buf = ring[next++ % 8];
    const char *id = json_string_value(json_object_get(object, "id"));
    CHECK(id != NULL);
    snprintf(buf, 40, "%s", id);
    return buf;
}

json_t *api_expect(api_server_t *s, int status, const char *method, const char *path,
                   const char *key, const char *body)
{
    json_t *r = NULL;
    int got = api_call(s, method, path, key, body, &r);
    if (got != status) {
        char *text = r ? json_dumps(r, JSON_COMPACT) : NULL;
        fprintf(stderr, "%s %s: expected %d, got %d: %s\n", method, path, status, got,
                text ? text : "(no JSON body)");
        exit(1);
    }
    return r;
}

int api_readyz_becomes(api_server_t *s, int status)
{
    int got = 0;
    for (int i = 0; i < 1500 && got != status; i++) {
        got = api_call(s, "GET", "/readyz", NULL, NULL, NULL);
        if (got != status)
            usleep(10000);
    }
    return got;
}

void api_wait_ready(api_server_t *s)
{
    CHECK_EQ(api_readyz_becomes(s, 200), 200);
}

static void spawn(api_server_t *s, const char *const *env);

void api_restart(api_server_t *s, const char *const *env)
{
    kill(s->pid, SIGTERM);
    int status = 0;
    for (int i = 0; i < 1500 && waitpid(s->pid, &status, WNOHANG) == 0; i++)
        usleep(10000);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    spawn(s, env);
}

void api_start(api_server_t *s, const char *const *env)
{
    memset(s, 0, sizeof(*s));
    curl_global_init(CURL_GLOBAL_DEFAULT);
    s->db = test_db_create(&s->url);
    /* the schema and the organization first, from the command line: they never wait for the
     * server, nor depend on which process answers first on the port */
    char args[1024], out[4096];
    snprintf(args, sizeof(args), "migrate --database-url '%s'", s->url);
    CHECK_EQ(test_run_slotd(args, out, sizeof(out)), 0);
    api_create_org(s, "Test Clinic", s->admin_key, s->organization_id);
    s->port = api_free_port();
    snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%d", s->port);
    spawn(s, env);
}

bool api_answers(api_server_t *s)
{
    CURL *curl = curl_easy_init();
    char url[128];
    snprintf(url, sizeof(url), "%s/healthz", s->base);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 500L);
    CURLcode rc = curl_easy_perform(curl);
    curl_easy_cleanup(curl);
    return rc == CURLE_OK;
}

void api_start_peer(api_server_t *peer, const api_server_t *first, const char *const *env)
{
    *peer = *first;
    peer->db = NULL;
    peer->peer = true;
    peer->port = api_free_port();
    snprintf(peer->base, sizeof(peer->base), "http://127.0.0.1:%d", peer->port);
    spawn(peer, env);
}

static void spawn(api_server_t *s, const char *const *env)
{
    char listen[32];
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", s->port);
    const char *bin = getenv("SLOTD_BIN");
    CHECK(bin != NULL);
    s->pid = fork();
    if (s->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a failed test */
        setpgid(0, 0); /* a group of its own, as a shell gives a command: kill(-pid) is Ctrl-C */
        setenv("SLOTD_DATABASE_URL", s->url, 1);
        for (size_t i = 0; env && env[i]; i++) {
            const char *at = strstr(env[i], "{base}"); /* the server's own URL, once known */
            if (at == NULL) {
                putenv((char *)env[i]);
                continue;
            }
            char *entry = malloc(strlen(env[i]) + sizeof(s->base));
            CHECK(entry != NULL);
            sprintf(entry, "%.*s%s%s", (int)(at - env[i]), env[i], s->base, at + 6);
            putenv(entry);
        }
        if (!getenv("SLOTD_TEST_VERBOSE"))
            freopen("/dev/null", "w", stdout);
        execl(bin, bin, "serve", "--listen", listen, (char *)NULL);
        _exit(127);
    }
    /* wait for /healthz: it answers once the migrations are applied (a loaded machine, an
     * ASan build and 21 migrations can take more than ten seconds) */
    bool answered = false;
    for (int i = 0; i < 6000 && !answered; i++) {
        answered = api_answers(s);
        int status;
        CHECK(waitpid(s->pid, &status, WNOHANG) == 0); /* still running */
        if (!answered)
            usleep(10000);
    }
    CHECK(answered);
}

void api_stop(api_server_t *s)
{
    kill(s->pid, SIGTERM);
    int status = 0;
    for (int i = 0; i < 1500 && waitpid(s->pid, &status, WNOHANG) == 0; i++)
        usleep(10000);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (s->peer)
        return;
    test_db_drop(s->db);
    curl_global_cleanup();
}

void api_create_staff_service(api_server_t *s, const char *working_hours, char *staff_id,
                              char *service_id)
{
    char body[1024];
    snprintf(body, sizeof(body), "{\"kind\":\"staff\",\"name\":\"Anna\",\"working_hours\":%s}",
             working_hours);
    json_t *r = api_expect(s, 201, "POST", "/v1/resources", s->admin_key, body);
    snprintf(staff_id, 40, "%s", api_id(r));
    json_decref(r);
    snprintf(body, sizeof(body),
             "{\"name\":\"Check-up\",\"duration_minutes\":60,\"requirements\":[{\"resource_ids\":"
             "[\"%s\"],\"mode\":\"any\"}]}",
             staff_id);
    r = api_expect(s, 201, "POST", "/v1/services", s->admin_key, body);
    snprintf(service_id, 40, "%s", api_id(r));
    json_decref(r);
}

void api_expect_invalid(api_server_t *s, const char *method, const char *path, const char *body,
                        const char *field, const char *message)
{
    json_t *r;
    int status = api_call(s, method, path, s->admin_key, body, &r);
    json_t *error = json_object_get(r, "error");
    const char *got_field =
        json_string_value(json_object_get(json_object_get(error, "details"), "field"));
    const char *got_message = json_string_value(json_object_get(error, "message"));
    if (status != 400 || strcmp(api_error_code(r), "invalid_request") != 0 || !got_field ||
        strcmp(got_field, field) != 0 || !got_message || strcmp(got_message, message) != 0) {
        fprintf(stderr, "%s %s %s: status %d, field %s, message %s (expected %s: %s)\n", method,
                path, body, status, got_field ? got_field : "(none)",
                got_message ? got_message : "(none)", field, message);
        exit(1);
    }
    json_decref(r);
}

int api_slot_count(api_server_t *s, const char *path)
{
    json_t *r = NULL;
    int status = api_call(s, "GET", path, s->admin_key, NULL, &r);
    int count = status == 200 ? (int)json_array_size(json_object_get(r, "slots")) : -1;
    json_decref(r);
    return count;
}

bool api_slots_become(api_server_t *s, const char *path, int count)
{
    for (int i = 0; i < 1000; i++) {
        if (api_slot_count(s, path) == count)
            return true;
        usleep(10000);
    }
    return false;
}

int api_race_post(api_server_t *s, const char *key, const char *header, const char *path,
                  const char *body, int n)
{
    int pipes[2];
    CHECK(pipe(pipes) == 0);
    for (int i = 0; i < n; i++) {
        if (fork() == 0) {
            close(pipes[1]);
            char go;
            /* everyone waits for the starting signal: the write end closing */
            CHECK(read(pipes[0], &go, 1) == 0);
            json_t *r;
            const char *headers[2] = {header, NULL};
            int status = api_call_headers(s, "POST", path, key, header ? headers : NULL, body, &r);
            const json_t *details = json_object_get(json_object_get(r, "error"), "details");
            int ok = status == 201 ||
                     (status == 409 && strcmp(api_error_code(r), "slot_unavailable") == 0 &&
                      json_array_size(json_object_get(details, "alternatives")) > 0) ||
                     (status == 409 && strcmp(api_error_code(r), "idempotency_in_progress") == 0);
            _exit(status == 201 ? 0 : ok ? 1 : 2);
        }
    }
    close(pipes[0]);
    close(pipes[1]);
    int created = 0;
    for (int i = 0; i < n; i++) {
        int status;
        CHECK(wait(&status) > 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) < 2);
        created += WEXITSTATUS(status) == 0;
    }
    return created;
}

static size_t collect_header(char *ptr, size_t size, size_t n, void *arg)
{
    api_text_t *t = arg;
    size_t length = size * n;
    if (length > 5 && strncasecmp(ptr, "etag:", 5) == 0) {
        size_t i = 5;
        while (i < length && ptr[i] == ' ')
            i++;
        size_t end = length;
        while (end > i && (ptr[end - 1] == '\r' || ptr[end - 1] == '\n'))
            end--;
        snprintf(t->etag, sizeof(t->etag), "%.*s", (int)(end - i), ptr + i);
    }
    return length;
}

int api_get_text_headers(api_server_t *s, const char *path, const char *key,
                         const char *const *extra_headers, api_text_t *out)
{
    CURL *curl = curl_easy_init();
    char url[1024], auth[256];
    snprintf(url, sizeof(url), "%s%s", s->base, path);
    buffer_t b = {0};
    struct curl_slist *headers = NULL;
    if (key) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key);
        headers = curl_slist_append(headers, auth);
    }
    for (size_t i = 0; extra_headers && extra_headers[i]; i++)
        headers = curl_slist_append(headers, extra_headers[i]);
    memset(out, 0, sizeof(*out));
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, collect_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
    CHECK(curl_easy_perform(curl) == CURLE_OK);
    long status = 0;
    const char *type = NULL;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type);
    snprintf(out->content_type, sizeof(out->content_type), "%s", type ? type : "");
    log_response(curl, "GET", path, status, &b);
    out->body = b.data ? b.data : strdup("");
    out->length = b.len;
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return (int)status;
}

int api_log_begin(char *path)
{
    snprintf(path, 32, "%s", "slotd-log-XXXXXX");
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    int saved = dup(1);
    CHECK(freopen(path, "w", stdout) != NULL);
    return saved;
}

int api_log_end(const char *path, int saved, const char *secret)
{
    fflush(stdout);
    dup2(saved, 1);
    FILE *in = fopen(path, "r");
    CHECK(in != NULL);
    char line[8192];
    int lines = 0;
    while (fgets(line, sizeof(line), in)) {
        lines++;
        if (strstr(line, secret)) {
            fprintf(stderr, "a secret in the log: %s", line);
            exit(1);
        }
    }
    fclose(in);
    unlink(path);
    return lines;
}
