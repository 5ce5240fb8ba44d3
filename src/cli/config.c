/*
 * Settings (see config.h). Unknown keys in the file are errors, so that a typo
 * does not silently keep a default.
 */
#include "cli/config.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slotd/alloc.h"
#include "slotd/codec.h"

void slotd_config_set(char **setting, const char *value)
{
    free(*setting);
    *setting = value ? slotd_strdup(value) : NULL;
}

int slotd_config_int(int *setting, const char *text, const char *name, int min, int max,
                     char *error, size_t size)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (*text == 0 || *end != 0 || v < min || v > max) {
        snprintf(error, size, "%s must be a whole number from %d to %d", name, min, max);
        return -1;
    }
    *setting = (int)v;
    return 0;
}

static int load_file(slotd_config_t *c, const char *file, char *error, size_t size)
{
    json_error_t jerr;
    json_t *root = json_load_file(file, 0, &jerr);
    if (root == NULL) {
        snprintf(error, size, "config file %s: %s (line %d)", file, jerr.text, jerr.line);
        return -1;
    }
    int rc = 0;
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value)
    {
        char number[32];
        if (json_is_integer(value))
            snprintf(number, sizeof(number), "%lld", (long long)json_integer_value(value));
        if (strcmp(key, "database_url") == 0 && json_is_string(value)) {
            slotd_config_set(&c->database_url, json_string_value(value));
        } else if (strcmp(key, "listen") == 0 && json_is_string(value)) {
            slotd_config_set(&c->listen, json_string_value(value));
        } else if (strcmp(key, "pool_size") == 0 && json_is_integer(value)) {
            rc = slotd_config_int(&c->pool_size, number, "pool_size", 1, 100, error, size);
        } else if (strcmp(key, "request_timeout_ms") == 0 && json_is_integer(value)) {
            rc = slotd_config_int(&c->request_timeout_ms, number, "request_timeout_ms", 10, 600000,
                                  error, size);
        } else if (strcmp(key, "shutdown_timeout_ms") == 0 && json_is_integer(value)) {
            rc = slotd_config_int(&c->shutdown_timeout_ms, number, "shutdown_timeout_ms", 0, 600000,
                                  error, size);
        } else if (strcmp(key, "shutdown_delay_ms") == 0 && json_is_integer(value)) {
            rc = slotd_config_int(&c->shutdown_delay_ms, number, "shutdown_delay_ms", 0, 600000,
                                  error, size);
        } else if (strcmp(key, "index_load_timeout_ms") == 0 && json_is_integer(value)) {
            rc = slotd_config_int(&c->index_load_timeout_ms, number, "index_load_timeout_ms", 100,
                                  3600000, error, size);
        } else if (strcmp(key, "max_connections") == 0 && json_is_integer(value)) {
            rc = slotd_config_int(&c->max_connections, number, "max_connections", 1, 100000, error,
                                  size);
        } else if (strcmp(key, "workers") == 0 && json_is_integer(value)) {
            rc =
                slotd_config_int(&c->workers, number, "workers", 0, SLOTD_MAX_WORKERS, error, size);
        } else if (key[0] != '_') { /* "_comment" keys are allowed */
            snprintf(error, size, "config file %s: unknown or mistyped setting \"%s\"", file, key);
            rc = -1;
        }
        if (rc)
            break;
    }
    json_decref(root);
    return rc;
}

int slotd_config_load(slotd_config_t *c, const char *file, char *error, size_t size)
{
    memset(c, 0, sizeof(*c));
    slotd_config_set(&c->listen, "127.0.0.1:8080");
    c->pool_size = 4;
    c->request_timeout_ms = 5000;
    c->shutdown_timeout_ms = 10000;
    c->index_load_timeout_ms = 120000;
    c->max_connections = 1000;
    if (file && load_file(c, file, error, size))
        return -1;
    const char *env;
    if ((env = getenv("SLOTD_DATABASE_URL")) && *env)
        slotd_config_set(&c->database_url, env);
    if ((env = getenv("SLOTD_LISTEN")) && *env)
        slotd_config_set(&c->listen, env);
    if ((env = getenv("SLOTD_POOL_SIZE")) && *env &&
        slotd_config_int(&c->pool_size, env, "SLOTD_POOL_SIZE", 1, 100, error, size))
        return -1;
    if ((env = getenv("SLOTD_REQUEST_TIMEOUT_MS")) && *env &&
        slotd_config_int(&c->request_timeout_ms, env, "SLOTD_REQUEST_TIMEOUT_MS", 10, 600000, error,
                         size))
        return -1;
    if ((env = getenv("SLOTD_SHUTDOWN_TIMEOUT_MS")) && *env &&
        slotd_config_int(&c->shutdown_timeout_ms, env, "SLOTD_SHUTDOWN_TIMEOUT_MS", 0, 600000,
                         error, size))
        return -1;
    if ((env = getenv("SLOTD_SHUTDOWN_DELAY_MS")) && *env &&
        slotd_config_int(&c->shutdown_delay_ms, env, "SLOTD_SHUTDOWN_DELAY_MS", 0, 600000, error,
                         size))
        return -1;
    if ((env = getenv("SLOTD_INDEX_LOAD_TIMEOUT_MS")) && *env &&
        slotd_config_int(&c->index_load_timeout_ms, env, "SLOTD_INDEX_LOAD_TIMEOUT_MS", 100,
                         3600000, error, size))
        return -1;
    if ((env = getenv("SLOTD_MAX_CONNECTIONS")) && *env &&
        slotd_config_int(&c->max_connections, env, "SLOTD_MAX_CONNECTIONS", 1, 100000, error, size))
        return -1;
    if ((env = getenv("SLOTD_WORKERS")) && *env &&
        slotd_config_int(&c->workers, env, "SLOTD_WORKERS", 0, SLOTD_MAX_WORKERS, error, size))
        return -1;
    if ((env = getenv("SLOTD_NOW")) && *env) {
        if (codec_parse_instant(env, &c->now)) {
            snprintf(error, size, "SLOTD_NOW must be an RFC 3339 instant, not \"%s\"", env);
            return -1;
        }
        c->now_frozen = true;
    }
    return 0;
}

void slotd_config_free(slotd_config_t *c)
{
    free(c->database_url);
    free(c->listen);
    memset(c, 0, sizeof(*c));
}
