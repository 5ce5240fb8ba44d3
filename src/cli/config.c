/*
 * Settings (see config.h). Unknown keys in the file are errors, so that a typo
 * does not silently keep a default. The settings of calendar sync are read
 * from one table (the same key, variable and check for the file and the
 * environment). A refused secret_key is named, never shown.
 */
#include "cli/config.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stddef.h>
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

/* A text setting of calendar sync: its file key, its variable, whether it is a URL. */
typedef struct {
    const char *key, *env;
    size_t offset; /* of its char * in slotd_config_t */
    bool url;
} text_setting_t;

static const text_setting_t text_settings[] = {
    {"google_api_url", "SLOTD_GOOGLE_API_URL", offsetof(slotd_config_t, google_api_url), true},
    {"google_token_url", "SLOTD_GOOGLE_TOKEN_URL", offsetof(slotd_config_t, google_token_url),
     true},
    {"microsoft_graph_url", "SLOTD_MICROSOFT_GRAPH_URL",
     offsetof(slotd_config_t, microsoft_graph_url), true},
    {"microsoft_login_url", "SLOTD_MICROSOFT_LOGIN_URL",
     offsetof(slotd_config_t, microsoft_login_url), true},
    {"calcom_api_url", "SLOTD_CALCOM_API_URL", offsetof(slotd_config_t, calcom_api_url), true},
    {"google_client_id", "SLOTD_GOOGLE_CLIENT_ID", offsetof(slotd_config_t, google_client_id),
     false},
    {"google_client_secret", "SLOTD_GOOGLE_CLIENT_SECRET",
     offsetof(slotd_config_t, google_client_secret), false},
    {"microsoft_client_id", "SLOTD_MICROSOFT_CLIENT_ID",
     offsetof(slotd_config_t, microsoft_client_id), false},
    {"microsoft_client_secret", "SLOTD_MICROSOFT_CLIENT_SECRET",
     offsetof(slotd_config_t, microsoft_client_secret), false},
    {"public_url", "SLOTD_PUBLIC_URL", offsetof(slotd_config_t, public_url), true},
};

/* A whole-number setting of calendar sync. */
typedef struct {
    const char *key, *env;
    size_t offset; /* of its int in slotd_config_t */
    int min, max;
} int_setting_t;

static const int_setting_t int_settings[] = {
    {"sync_interval_seconds", "SLOTD_SYNC_INTERVAL_SECONDS",
     offsetof(slotd_config_t, sync_interval_seconds), 1, 86400},
    {"sync_nightly_hour", "SLOTD_SYNC_NIGHTLY_HOUR", offsetof(slotd_config_t, sync_nightly_hour), 0,
     23},
    {"sync_concurrency", "SLOTD_SYNC_CONCURRENCY", offsetof(slotd_config_t, sync_concurrency), 1,
     64},
    {"sync_provider_concurrency", "SLOTD_SYNC_PROVIDER_CONCURRENCY",
     offsetof(slotd_config_t, sync_provider_concurrency), 1, 64},
};

#define COUNT(table) (sizeof(table) / sizeof(table[0]))

static int set_text(slotd_config_t *c, const text_setting_t *setting, const char *name,
                    const char *value, char *error, size_t size)
{
    if (setting->url && !codec_is_http_url(value)) {
        snprintf(error, size, "%s must be an http:// or https:// URL with a host", name);
        return -1;
    }
    slotd_config_set((char **)((char *)c + setting->offset), value);
    return 0;
}

/* The secret key, named `name` in a refusal (which never shows the value). */
static int set_secret_key(slotd_config_t *c, const char *name, const char *value, char *error,
                          size_t size)
{
    if (codec_secret_key_parse(value, &c->secret_key) != 0) {
        snprintf(error, size,
                 "%s must be 32 bytes written in base64 (44 characters, as `openssl rand -base64 "
                 "32` prints)",
                 name);
        return -1;
    }
    c->has_secret_key = true;
    return 0;
}

/* webhook_retry_schedule_seconds: 1 to 20 whole numbers of seconds (0 to 7 days), separated
 * by commas, kept as PostgreSQL's int[] literal. */
static int set_retry_schedule(slotd_config_t *c, const char *name, const char *text, char *error,
                              size_t size)
{
    char literal[20 * 8 + 3], *p = literal;
    int count = 0;
    const char *at = text;
    *p++ = '{';
    while (*at && count < 20) {
        char *end;
        long v = strtol(at, &end, 10);
        if (end == at || v < 0 || v > 604800 || (*end != ',' && *end != 0))
            break;
        p += sprintf(p, "%s%ld", count ? "," : "", v);
        count++;
        at = *end ? end + 1 : end;
    }
    if (count == 0 || *at != 0 || text[strlen(text) - 1] == ',') {
        snprintf(error, size,
                 "%s must be 1 to 20 whole numbers of seconds (0 to 604800) separated by commas, "
                 "e.g. 5,300,1800",
                 name);
        return -1;
    }
    *p++ = '}';
    *p = 0;
    slotd_config_set(&c->webhook_retry_schedule, literal);
    return 0;
}

/* webhook_allow_private from the environment: true or 1, false or 0. */
static int set_allow_private(slotd_config_t *c, const char *name, const char *text, char *error,
                             size_t size)
{
    if (strcmp(text, "true") == 0 || strcmp(text, "1") == 0)
        c->webhook_allow_private = true;
    else if (strcmp(text, "false") == 0 || strcmp(text, "0") == 0)
        c->webhook_allow_private = false;
    else {
        snprintf(error, size, "%s must be true, 1, false or 0", name);
        return -1;
    }
    return 0;
}

/* A webhook setting of the file: as file_sync_setting. */
static int file_webhook_setting(slotd_config_t *c, const char *key, const json_t *value,
                                char *error, size_t size)
{
    if (strcmp(key, "webhook_allow_private") == 0 && json_is_boolean(value)) {
        c->webhook_allow_private = json_is_true(value);
        return 1;
    }
    if (strcmp(key, "webhook_retry_schedule_seconds") == 0 && json_is_string(value))
        return set_retry_schedule(c, key, json_string_value(value), error, size) ? -1 : 1;
    return 0;
}

/* A calendar sync setting of the file: 1 when `key` is one and was set, -1 when its value is
 * refused (message in `error`), 0 when `key` is not one of them. */
static int file_sync_setting(slotd_config_t *c, const char *key, const json_t *value, char *error,
                             size_t size)
{
    if (strcmp(key, "secret_key") == 0 && json_is_string(value))
        return set_secret_key(c, key, json_string_value(value), error, size) ? -1 : 1;
    for (size_t i = 0; i < COUNT(text_settings); i++)
        if (strcmp(key, text_settings[i].key) == 0 && json_is_string(value))
            return set_text(c, &text_settings[i], key, json_string_value(value), error, size) ? -1
                                                                                              : 1;
    for (size_t i = 0; i < COUNT(int_settings); i++) {
        const int_setting_t *setting = &int_settings[i];
        if (strcmp(key, setting->key) == 0 && json_is_integer(value)) {
            char number[32];
            snprintf(number, sizeof(number), "%lld", (long long)json_integer_value(value));
            return slotd_config_int((int *)((char *)c + setting->offset), number, key, setting->min,
                                    setting->max, error, size)
                       ? -1
                       : 1;
        }
    }
    return 0;
}

/* The calendar sync settings of the environment; 0, or -1 with a message. */
static int env_sync_settings(slotd_config_t *c, char *error, size_t size)
{
    const char *env;
    if ((env = getenv("SLOTD_SECRET_KEY")) && *env &&
        set_secret_key(c, "SLOTD_SECRET_KEY", env, error, size))
        return -1;
    for (size_t i = 0; i < COUNT(text_settings); i++)
        if ((env = getenv(text_settings[i].env)) && *env &&
            set_text(c, &text_settings[i], text_settings[i].env, env, error, size))
            return -1;
    for (size_t i = 0; i < COUNT(int_settings); i++) {
        const int_setting_t *setting = &int_settings[i];
        if ((env = getenv(setting->env)) && *env &&
            slotd_config_int((int *)((char *)c + setting->offset), env, setting->env, setting->min,
                             setting->max, error, size))
            return -1;
    }
    if ((env = getenv("SLOTD_WEBHOOK_RETRY_SCHEDULE")) && *env &&
        set_retry_schedule(c, "SLOTD_WEBHOOK_RETRY_SCHEDULE", env, error, size))
        return -1;
    if ((env = getenv("SLOTD_WEBHOOK_ALLOW_PRIVATE")) && *env &&
        set_allow_private(c, "SLOTD_WEBHOOK_ALLOW_PRIVATE", env, error, size))
        return -1;
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
        } else if ((rc = file_sync_setting(c, key, value, error, size)) != 0 ||
                   (rc = file_webhook_setting(c, key, value, error, size)) != 0) {
            rc = rc < 0 ? -1 : 0;
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

static int load(slotd_config_t *c, const char *file, char *error, size_t size)
{
    memset(c, 0, sizeof(*c));
    slotd_config_set(&c->listen, "127.0.0.1:8080");
    c->pool_size = 4;
    c->request_timeout_ms = 5000;
    c->shutdown_timeout_ms = 10000;
    c->index_load_timeout_ms = 120000;
    c->max_connections = 1000;
    slotd_config_set(&c->google_api_url, "https://www.googleapis.com/calendar/v3");
    slotd_config_set(&c->google_token_url, "https://oauth2.googleapis.com/token");
    slotd_config_set(&c->microsoft_graph_url, "https://graph.microsoft.com/v1.0");
    slotd_config_set(&c->microsoft_login_url, "https://login.microsoftonline.com");
    slotd_config_set(&c->calcom_api_url, "https://api.cal.com/v2");
    c->sync_interval_seconds = 300;
    c->sync_nightly_hour = 3;
    c->sync_concurrency = 4;
    c->sync_provider_concurrency = 2;
    if (file && load_file(c, file, error, size))
        return -1;
    if (env_sync_settings(c, error, size))
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

int slotd_config_load(slotd_config_t *c, const char *file, char *error, size_t size)
{
    if (load(c, file, error, size) == 0)
        return 0;
    slotd_config_free(c); /* the caller has nothing to free after a refusal */
    return -1;
}

void slotd_config_free(slotd_config_t *c)
{
    free(c->database_url);
    free(c->listen);
    free(c->webhook_retry_schedule);
    for (size_t i = 0; i < COUNT(text_settings); i++)
        free(*(char **)((char *)c + text_settings[i].offset));
    OPENSSL_cleanse(&c->secret_key, sizeof(c->secret_key));
    memset(c, 0, sizeof(*c));
}
