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
} slotd_config_t;

/**
 * Fills *config from defaults, the file (NULL: none) and the environment.
 * Returns 0, or -1 with a message in `error`. Free with slotd_config_free().
 */
int slotd_config_load(slotd_config_t *config, const char *file, char *error, size_t error_size);

/** Sets an integer setting from text, min..max; 0, or -1 with a message naming `name`. */
int slotd_config_int(int *setting, const char *text, const char *name, int min, int max,
                     char *error, size_t error_size);

/** Replaces a string setting (copied). */
void slotd_config_set(char **setting, const char *value);

void slotd_config_free(slotd_config_t *config);

#endif
