/*
 * /v1/api-keys over real HTTP: create, list, get, revoke; revocation takes
 * effect at once on the instance that revoked and on another instance on the
 * same database; the last admin key stays.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api_client.h"
#include "db.h"
#include "test.h"

TEST(server_api_keys_are_created_listed_and_revoked_by_admins)
{
    api_server_t s;
    api_start(&s, NULL);
    json_t *r = api_expect(&s, 201, "POST", "/v1/api-keys", s.admin_key,
                           "{\"role\":\"agent\",\"name\":\"Phone agent\"}");
    char agent[128], agent_id[40], path[128];
    snprintf(agent, sizeof(agent), "%s", json_string_value(json_object_get(r, "api_key")));
    snprintf(agent_id, sizeof(agent_id), "%s", api_id(r));
    CHECK(strcmp(json_string_value(json_object_get(r, "role")), "agent") == 0);
    CHECK(strcmp(json_string_value(json_object_get(r, "name")), "Phone agent") == 0);
    CHECK(json_is_string(json_object_get(r, "created_at")));
    CHECK(strncmp(json_string_value(json_object_get(r, "prefix")), agent,
                  strlen(json_string_value(json_object_get(r, "prefix")))) == 0);
    json_decref(r);
    /* the new key works, with its role */
    json_decref(api_expect(&s, 200, "GET", "/v1/organization", agent, NULL));
    json_decref(api_expect(&s, 403, "GET", "/v1/api-keys", agent, NULL));
    json_decref(api_expect(&s, 403, "POST", "/v1/api-keys", agent, "{\"role\":\"admin\"}"));
    /* listed and read without the key itself */
    r = api_expect(&s, 200, "GET", "/v1/api-keys", s.admin_key, NULL);
    CHECK_EQ(json_array_size(json_object_get(r, "items")), 2);
    CHECK(json_is_null(json_object_get(r, "next_cursor")));
    char *text = json_dumps(r, JSON_COMPACT);
    CHECK(strstr(text, agent) == NULL && strstr(text, "api_key") == NULL);
    free(text);
    json_decref(r);
    r = api_expect(&s, 200, "GET", "/v1/api-keys?limit=1", s.admin_key, NULL);
    CHECK_EQ(json_array_size(json_object_get(r, "items")), 1);
    CHECK(json_is_string(json_object_get(r, "next_cursor")));
    json_decref(r);
    snprintf(path, sizeof(path), "/v1/api-keys/%s", agent_id);
    r = api_expect(&s, 200, "GET", path, s.admin_key, NULL);
    CHECK(json_object_get(r, "api_key") == NULL);
    json_decref(r);
    /* bad input changes nothing */
    json_decref(api_expect(&s, 400, "POST", "/v1/api-keys", s.admin_key, "{\"role\":\"owner\"}"));
    json_decref(api_expect(&s, 400, "POST", "/v1/api-keys", s.admin_key, "{}"));
    json_decref(api_expect(&s, 400, "POST", "/v1/api-keys", s.admin_key,
                           "{\"role\":\"agent\",\"id\":\"x\"}"));
    json_decref(api_expect(&s, 404, "GET", "/v1/api-keys/abc", s.admin_key, NULL));
    r = api_expect(&s, 200, "GET", "/v1/api-keys", s.admin_key, NULL);
    CHECK_EQ(json_array_size(json_object_get(r, "items")), 2);
    json_decref(r);
    /* revoked: refused from the very next request (the key was cached) */
    json_decref(api_expect(&s, 204, "DELETE", path, s.admin_key, NULL));
    json_decref(api_expect(&s, 401, "GET", "/v1/organization", agent, NULL));
    json_decref(api_expect(&s, 404, "GET", path, s.admin_key, NULL));
    json_decref(api_expect(&s, 404, "DELETE", path, s.admin_key, NULL));
    /* another organization's key ids are unknown here */
    char other_key[128], other_org[40];
    api_create_org(&s, "Other", other_key, other_org);
    r = api_expect(&s, 200, "GET", "/v1/api-keys", other_key, NULL);
    char other_id[40];
    snprintf(other_id, sizeof(other_id), "%s",
             api_id(json_array_get(json_object_get(r, "items"), 0)));
    json_decref(r);
    snprintf(path, sizeof(path), "/v1/api-keys/%s", other_id);
    json_decref(api_expect(&s, 404, "GET", path, s.admin_key, NULL));
    json_decref(api_expect(&s, 404, "DELETE", path, s.admin_key, NULL));
    api_stop(&s);
}

TEST(server_api_keys_keep_the_last_admin_key)
{
    api_server_t s;
    api_start(&s, NULL);
    json_t *r = api_expect(&s, 200, "GET", "/v1/api-keys", s.admin_key, NULL);
    char path[128];
    snprintf(path, sizeof(path), "/v1/api-keys/%s",
             api_id(json_array_get(json_object_get(r, "items"), 0)));
    json_decref(r);
    r = api_expect(&s, 409, "DELETE", path, s.admin_key, NULL);
    CHECK(strcmp(api_error_code(r), "conflict") == 0);
    json_decref(r);
    json_decref(api_expect(&s, 200, "GET", "/v1/organization", s.admin_key, NULL));
    /* with a second admin key, the first may go */
    r = api_expect(&s, 201, "POST", "/v1/api-keys", s.admin_key, "{\"role\":\"admin\"}");
    char second[128];
    snprintf(second, sizeof(second), "%s", json_string_value(json_object_get(r, "api_key")));
    json_decref(r);
    json_decref(api_expect(&s, 204, "DELETE", path, second, NULL));
    json_decref(api_expect(&s, 401, "GET", "/v1/organization", s.admin_key, NULL));
    api_stop(&s);
}

/* Starts a second `slotd serve` on the database of `a`, on `port`; returns its pid once
 * /healthz answers. */
static pid_t second_instance(api_server_t *a, api_server_t *b)
{
    *b = *a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK(bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0);
    socklen_t len = sizeof(addr);
    getsockname(fd, (struct sockaddr *)&addr, &len);
    close(fd);
    b->port = ntohs(addr.sin_port);
    snprintf(b->base, sizeof(b->base), "http://127.0.0.1:%d", b->port);
    char listen[32];
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", b->port);
    const char *bin = getenv("SLOTD_BIN");
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        setenv("SLOTD_DATABASE_URL", a->url, 1);
        if (!getenv("SLOTD_TEST_VERBOSE"))
            freopen("/dev/null", "w", stdout);
        execl(bin, bin, "serve", "--listen", listen, (char *)NULL);
        _exit(127);
    }
    b->pid = pid;
    for (int i = 0; i < 1000; i++) { /* until it listens */
        int c = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in to = {.sin_family = AF_INET,
                                 .sin_port = htons((uint16_t)b->port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int rc = connect(c, (struct sockaddr *)&to, sizeof(to));
        close(c);
        if (rc == 0)
            break;
        usleep(10000);
    }
    api_wait_ready(b);
    return pid;
}

TEST(server_api_key_revocation_reaches_another_instance_at_once)
{
    api_server_t a, b;
    api_start(&a, NULL);
    second_instance(&a, &b);
    json_t *r = api_expect(&a, 201, "POST", "/v1/api-keys", a.admin_key, "{\"role\":\"agent\"}");
    char agent[128], path[128];
    snprintf(agent, sizeof(agent), "%s", json_string_value(json_object_get(r, "api_key")));
    snprintf(path, sizeof(path), "/v1/api-keys/%s", api_id(r));
    json_decref(r);
    /* b caches the key */
    json_decref(api_expect(&b, 200, "GET", "/v1/organization", agent, NULL));
    json_decref(api_expect(&b, 200, "GET", "/v1/organization", agent, NULL));
    uint64_t revoked = (uint64_t)time(NULL);
    json_decref(api_expect(&a, 204, "DELETE", path, a.admin_key, NULL));
    /* b refuses it within moments (NOTIFY), far before its cache would expire */
    int status = 200;
    for (int i = 0; i < 200 && status == 200; i++) {
        status = api_call(&b, "GET", "/v1/organization", agent, NULL, NULL);
        if (status == 200)
            usleep(10000);
    }
    CHECK_EQ(status, 401);
    CHECK((uint64_t)time(NULL) - revoked <= 3);
    kill(b.pid, SIGTERM);
    int exit_status = 0;
    waitpid(b.pid, &exit_status, 0);
    CHECK(WIFEXITED(exit_status) && WEXITSTATUS(exit_status) == 0);
    api_stop(&a);
}

/* A revocation announced while an instance's LISTEN connection is down is missed; when the
 * connection is back, the instance forgets every cached key. */
TEST(server_api_key_revoked_while_listen_is_down_is_refused_once_it_is_back)
{
    api_server_t s;
    api_start(&s, NULL);
    api_wait_ready(&s);
    json_t *r = api_expect(&s, 201, "POST", "/v1/api-keys", s.admin_key, "{\"role\":\"agent\"}");
    char agent[128], sql[512];
    snprintf(agent, sizeof(agent), "%s", json_string_value(json_object_get(r, "api_key")));
    char key_id[40];
    snprintf(key_id, sizeof(key_id), "%s", api_id(r));
    json_decref(r);
    json_decref(api_expect(&s, 200, "GET", "/v1/organization", agent, NULL)); /* cached */
    /* cut the LISTEN connection and revoke in the same breath, behind the service's back */
    PGconn *admin = PQconnectdb(s.url);
    snprintf(sql, sizeof(sql),
             "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = "
             "'slotd-listen' AND datname = current_database()");
    test_db_exec(admin, sql);
    snprintf(sql, sizeof(sql), "UPDATE api_keys SET revoked_at = now() WHERE id = '%s'", key_id);
    test_db_exec(admin, sql);
    PQfinish(admin);
    int status = 200;
    for (int i = 0; i < 500 && status == 200; i++) {
        status = api_call(&s, "GET", "/v1/organization", agent, NULL, NULL);
        if (status == 200)
            usleep(10000);
    }
    CHECK_EQ(status, 401); /* within seconds, not the cache's minute */
    api_stop(&s);
}
