/*
 * The caller's organization in the database, as structs: the typed store for
 * the domain layer. Every function runs on the loop, starts one operation on
 * the pool and returns it (store_operation_cancel forgets it), or NULL when
 * the pool refuses it (then nothing is called back). A callback runs once, on
 * the loop; the struct it receives (and its strings) is valid only during the
 * call.
 *
 * The Retell API key is write-only: sealed here with the service's secret key
 * (codec/secret.h; the organization's 16 id bytes as additional data, so a
 * sealed key copied to another organization's row does not open there)
 * before it leaves for the database, read back only as "set or not", and
 * opened only for store_organization_retell_key's caller.
 */
#ifndef SLOTD_STORE_ORGANIZATION_H
#define SLOTD_STORE_ORGANIZATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/secret.h"
#include "slotd/engine.h"
#include "store/operation.h"

#define STORE_MAX_ORGANIZATION_CLOSURES 1000
#define STORE_MAX_REMINDER_OFFSETS 10
#define STORE_MAX_REMINDER_MINUTES 525600 /* a year */

/** An organization as stored. */
typedef struct {
    eng_id_t id;
    const char *name;
    const char *timezone;
    bool has_business_hours;
    eng_week_t business_hours; /**< when has_business_hours */
    const int32_t *closures;   /**< local dates (days since 1970-01-01), as given */
    size_t closure_count;
    const char *language;                                 /**< en, es, pl or de */
    int32_t reminder_offsets[STORE_MAX_REMINDER_OFFSETS]; /**< minutes before a start */
    size_t reminder_offset_count;
    bool retell_api_key_set; /**< whether a Retell API key is stored (never the key) */
} store_organization_t;

/** What a PATCH changes: a non-NULL name or zone, and the fields marked `*_set`. */
typedef struct {
    const char *name;     /**< NULL: unchanged */
    const char *timezone; /**< NULL: unchanged */
    bool business_hours_set, closures_set;
    const eng_week_t *business_hours; /**< NULL with business_hours_set: cleared */
    const int32_t *closures;
    size_t closure_count;
    const char *language; /**< NULL: unchanged */
    bool reminders_set;
    const int32_t *reminder_offsets;
    size_t reminder_offset_count;
    bool retell_api_key_set;
    const char *retell_api_key; /**< the plaintext to seal; NULL with retell_api_key_set:
                                     cleared */
} store_organization_write_t;

/** The organization: error 0 with `organization`, or a negative STORE_E* code (NULL). */
typedef void (*store_organization_cb)(int error, const store_organization_t *organization,
                                      void *arg);

/** STORE_ENOTFOUND when the organization is not a live one. */
store_operation_t *store_organization_get(store_pool_t *pool, const eng_id_t *organization,
                                          store_organization_cb cb, void *arg);

/**
 * STORE_ENOTFOUND when the organization is not a live one. A Retell API key to set is sealed
 * with `key` before this returns (`key` may be NULL only when write->retell_api_key is NULL;
 * the plaintext is not kept); NULL, logged, when sealing fails.
 */
store_operation_t *store_organization_update(store_pool_t *pool, const codec_secret_key_t *key,
                                             const eng_id_t *organization,
                                             const store_organization_write_t *write,
                                             store_organization_cb cb, void *arg);

/** The opened Retell API key: error 0 with `api_key` (NUL-terminated; wiped and freed when
 *  the callback returns: copy it to keep it) or NULL when none is set, or a negative STORE_E*
 *  code with NULL. */
typedef void (*store_organization_retell_key_cb)(int error, const char *api_key, void *arg);

/**
 * Reads and opens the organization's Retell API key with `key` (the secret_key setting,
 * borrowed until the callback: the server's lives as long as the service). STORE_ENOTFOUND
 * when the organization is not a live one; STORE_EINTERNAL, logged with the organization's
 * id, when the stored key does not open (another secret_key, a tampered or copied value).
 */
store_operation_t *store_organization_retell_key(store_pool_t *pool, const codec_secret_key_t *key,
                                                 const eng_id_t *organization,
                                                 store_organization_retell_key_cb cb, void *arg);

#endif
