/*
 * slotd's settings: defaults, then the JSON config file (--config), then the
 * environment (SLOTD_*), then command-line flags. config/slotd.example.json
 * documents every setting.
 */
#ifndef SLOTD_CLI_CONFIG_H
#define SLOTD_CLI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/secret.h"

/** The most `serve` processes one machine runs. */
#define SLOTD_MAX_WORKERS 64

typedef struct {
    char *database_url;        /**< "database_url" / SLOTD_DATABASE_URL */
    char *listen;              /**< "listen" / SLOTD_LISTEN, host:port */
    int pool_size;             /**< "pool_size" / SLOTD_POOL_SIZE: database connections */
    int request_timeout_ms;    /**< "request_timeout_ms" / SLOTD_REQUEST_TIMEOUT_MS */
    int shutdown_timeout_ms;   /**< "shutdown_timeout_ms" / SLOTD_SHUTDOWN_TIMEOUT_MS */
    int shutdown_delay_ms;     /**< "shutdown_delay_ms" / SLOTD_SHUTDOWN_DELAY_MS */
    int index_load_timeout_ms; /**< "index_load_timeout_ms" / SLOTD_INDEX_LOAD_TIMEOUT_MS */
    int max_connections;       /**< "max_connections" / SLOTD_MAX_CONNECTIONS, per process */
    int workers;               /**< "workers" / SLOTD_WORKERS: processes; 0: one per core */
    bool now_frozen;           /**< SLOTD_NOW given (tests and demos only) */
    int64_t now;               /**< the frozen clock */
    /* calendar sync: provider base URLs (http or https), OAuth clients, and when to pull */
    char *google_api_url;          /**< "google_api_url" / SLOTD_GOOGLE_API_URL */
    char *google_token_url;        /**< "google_token_url" / SLOTD_GOOGLE_TOKEN_URL */
    char *microsoft_graph_url;     /**< "microsoft_graph_url" / SLOTD_MICROSOFT_GRAPH_URL */
    char *microsoft_login_url;     /**< "microsoft_login_url" / SLOTD_MICROSOFT_LOGIN_URL */
    char *calcom_api_url;          /**< "calcom_api_url" / SLOTD_CALCOM_API_URL */
    char *google_client_id;        /**< "google_client_id" / SLOTD_GOOGLE_CLIENT_ID; NULL: none */
    char *google_client_secret;    /**< "google_client_secret" / SLOTD_GOOGLE_CLIENT_SECRET */
    char *microsoft_client_id;     /**< "microsoft_client_id" / SLOTD_MICROSOFT_CLIENT_ID */
    char *microsoft_client_secret; /**< "microsoft_client_secret" / SLOTD_MICROSOFT_CLIENT_SECRET */
    char *public_url;              /**< "public_url" / SLOTD_PUBLIC_URL; NULL: no webhooks */
    int sync_interval_seconds;     /**< "sync_interval_seconds" / SLOTD_SYNC_INTERVAL_SECONDS */
    int sync_nightly_hour;         /**< "sync_nightly_hour" / SLOTD_SYNC_NIGHTLY_HOUR, 0-23 */
    int sync_concurrency;          /**< "sync_concurrency": pulls, and pushes, at once */
    int sync_provider_concurrency; /**< "sync_provider_concurrency": of those, per provider */
    /** "webhook_retry_schedule_seconds" / SLOTD_WEBHOOK_RETRY_SCHEDULE: the delays before
     *  each retry of a webhook, as PostgreSQL's int[] literal; NULL: the default */
    char *webhook_retry_schedule;
    /** "webhook_allow_private" / SLOTD_WEBHOOK_ALLOW_PRIVATE: endpoints may be loopback,
     *  link-local or private addresses (tests, on-premises) */
    bool webhook_allow_private;
    /** "secret_key" / SLOTD_SECRET_KEY (32 bytes, base64): seals credentials at rest */
    bool has_secret_key;
    codec_secret_key_t secret_key;
} slotd_config_t;

/**
 * Fills *config from defaults, the file (NULL: none) and the environment.
 * Returns 0, or -1 with a message in `error` (nothing is left to free). Free
 * with slotd_config_free().
 */
int slotd_config_load(slotd_config_t *config, const char *file, char *error, size_t error_size);

/** Sets an integer setting from text, min..max; 0, or -1 with a message naming `name`. */
int slotd_config_int(int *setting, const char *text, const char *name, int min, int max,
                     char *error, size_t error_size);

/** Replaces a string setting (copied). */
void slotd_config_set(char **setting, const char *value);

/** Frees the settings and wipes the secret key. */
void slotd_config_free(slotd_config_t *config);

#endif
