/*
 * One asynchronous typed-store operation: the single owner and the single
 * cancel path of whatever the typed store functions (locations.h, ...) run on
 * the pool for a caller.
 *
 * A typed function starts an operation and returns it; the pool's raw result
 * never leaves the store: the operation turns it into structs and calls the
 * caller's typed callback exactly once, on the loop, then frees itself. A
 * caller that no longer wants the answer (its request ended) calls
 * store_operation_cancel(): the callback then never runs and the operation is
 * freed at once. Statement names, parameter positions and column numbers stay
 * inside src/store.
 */
#ifndef SLOTD_STORE_OPERATION_H
#define SLOTD_STORE_OPERATION_H

#include <libpq-fe.h>

#include "codec/secret.h"
#include "slotd/engine.h"
#include "store/pool.h"

/** What a typed store operation may answer besides success (0). */
enum {
    STORE_ENOTFOUND = -1,    /**< no such live object in the caller's organization */
    STORE_ECONFLICT = -2,    /**< refused because of other rows (e.g. a location still used) */
    STORE_EUNAVAILABLE = -3, /**< the database did not answer (connection, timeout, overload) */
    STORE_EINTERNAL = -4,    /**< anything unexpected (logged with its SQLSTATE) */
    STORE_EBUSY = -5,        /**< the pool refused to queue the operation */
    STORE_EREFERENCE = -6,   /**< a row the write names (e.g. a resource's location) is not a
                                  live one of the organization */
    STORE_EOUTCOME = -7      /**< the connection was lost after the statement was sent: it may
                                  or may not have taken effect */
};

typedef struct store_operation store_operation_t;

/** Forgets an operation: its callback will not run. The operation is freed. */
void store_operation_cancel(store_operation_t *operation);

/** True once its statement is on the wire (cancelling no longer keeps it from running). */
bool store_operation_sent(const store_operation_t *operation);

/* ---- for the typed store files only --------------------------------------------------- */

/** Turns one result of the pool into the caller's typed answer, and calls it back. */
typedef void (*store_operation_result_fn)(store_operation_t *operation, const PGresult *result,
                                          int error);

struct store_operation {
    store_query_t *query;
    store_operation_result_fn on_result;
    void (*callback)(void); /**< the caller's typed callback, cast back by on_result */
    void *arg;
    long extra;  /**< the typed function's own (e.g. a page size) */
    void *state; /**< the typed function's own, released by free_state with the operation */
    void (*free_state)(void *state);
};

/**
 * Runs `statement` (text parameters, copied) and hands its result to
 * `on_result` with error 0, or with a negative STORE_E* code (result NULL).
 * The operation is freed after on_result returns. Returns NULL, without
 * calling back, when the pool refuses the query.
 */
store_operation_t *store_operation_start(store_pool_t *pool, const char *statement, int count,
                                         const char *const *values,
                                         store_operation_result_fn on_result,
                                         void (*callback)(void), void *arg);

/**
 * From an operation's on_result: runs `statement` next, as the same operation
 * (its caller's callback and its cancel path stay), and hands its result to
 * `on_result`; the operation is then freed after that. Returns false when the
 * pool refuses the query: the operation is then freed once the running
 * on_result returns, which must answer the caller itself (STORE_EBUSY).
 */
bool store_operation_then(store_operation_t *operation, store_pool_t *pool, const char *statement,
                          int count, const char *const *values,
                          store_operation_result_fn on_result);

/**
 * Starts a list statement of an organization's objects in id order: $1 the
 * organization, $2 the cursor (the last id of the previous page, or NULL), $3
 * one row more than the page, whose presence means another page. `limit` is
 * kept in operation->extra for on_result. NULL when the pool refuses it.
 */
store_operation_t *store_operation_start_page(store_pool_t *pool, const char *statement,
                                              const eng_id_t *organization, const eng_id_t *cursor,
                                              int limit, store_operation_result_fn on_result,
                                              void (*callback)(void), void *arg);

/* ---- reading and writing column values ------------------------------------------------ */

/** A nullable text column: NULL when SQL NULL. */
const char *store_nullable(const PGresult *res, int row, int col);

/** PostgreSQL's uuid[] literal of `ids`, {id,id,...}; caller frees. */
char *store_ids_literal(const eng_id_t *ids, size_t count);

/** A WEEK as stored (compact JSON text); caller frees. */
char *store_week_text(const eng_week_t *week);

/** Parses a stored WEEK (JSON text); 0, or STORE_EINTERNAL when it is not one. */
int store_week_parse(const char *text, eng_week_t *week);

/** PostgreSQL's date[] literal of local dates (days since 1970-01-01): {YYYY-MM-DD,...};
 *  caller frees. */
char *store_dates_literal(const int32_t *days, size_t count);

/** A local date (days since 1970-01-01) as YYYY-MM-DD into `text` (16 bytes). */
void store_date_text(int32_t day, char *text);

/** Parses a JSON array of YYYY-MM-DD dates of at most `max` items into *days (caller frees);
 *  0, or STORE_EINTERNAL. */
int store_dates_parse(const char *json_text, size_t max, int32_t **days, size_t *count);

/** `length` bytes of `plain` sealed with `key` and `aad` (codec/secret.h), as PostgreSQL's hex
 *  bytea text, \x and hex digits (caller frees; NULL when sealing failed). Logs nothing. */
char *store_secret_seal(const codec_secret_key_t *key, const void *aad, size_t aad_length,
                        const char *plain, size_t length);

/** Opens what store_secret_seal sealed (bytea text as the database answers it): 0 with
 *  *plain (NUL-terminated, *length bytes; wipe and free with codec_secret_free), or
 *  STORE_EINTERNAL (*plain NULL). Logs nothing: the caller names the row. */
int store_secret_open(const codec_secret_key_t *key, const void *aad, size_t aad_length,
                      const char *bytea_text, char **plain, size_t *length);

#endif
