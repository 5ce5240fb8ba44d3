/*
 * The caller's organization, the domain's rules: a name of 1–200 characters
 * and an IANA zone, both required to be text when sent (neither can be
 * cleared), WEEK business hours (validated by the codec when decoded, null
 * clears them), at most 1000 closure dates, a language of the voice tools (en,
 * es, pl or de), and at most 10 distinct reminder offsets of 1 to 525600
 * minutes (a year) before a booking's start.
 *
 * Each function runs on the loop. It either refuses its input (returns NULL,
 * `error` filled with DOMAIN_EINVALID), or starts the store operation and
 * returns it (NULL with DOMAIN_EBUSY when the store refused it): the result
 * then reaches `cb` once, unless the caller cancels the operation.
 */
#ifndef SLOTD_DOMAIN_ORGANIZATION_H
#define SLOTD_DOMAIN_ORGANIZATION_H

#include "domain/domain.h"
#include "store/organization.h"

/** The changes of a PATCH: only what is received or set changes. The name and the zone come
 *  as received (`write`'s are not read); neither may be null. */
typedef struct {
    domain_text_t name, timezone, language;
    store_organization_write_t write; /**< the hours, closures and reminder offsets */
} domain_organization_input_t;

/** Checks the changes of a PATCH. */
int domain_organization_check(const domain_organization_input_t *input, domain_error_t *error);

store_operation_t *domain_organization_get(store_pool_t *pool, const eng_id_t *organization,
                                           store_organization_cb cb, void *arg,
                                           domain_error_t *error);

store_operation_t *domain_organization_update(store_pool_t *pool, const eng_id_t *organization,
                                              const domain_organization_input_t *input,
                                              store_organization_cb cb, void *arg,
                                              domain_error_t *error);

#endif
