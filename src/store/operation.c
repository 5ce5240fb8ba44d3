/*
 * Typed-store operations (see operation.h): one query on the pool, whose
 * result is translated into the caller's types before the operation frees
 * itself. The SQLSTATE of an unexpected failure is logged here, where it is
 * known, so that callers see only STORE_E* codes.
 */
#include "store/operation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slotd/alloc.h"

/* The SQLSTATEs that mean "the database did not answer" rather than "this is wrong". */
static bool is_unavailable(const char *sqlstate)
{
    return strncmp(sqlstate, "08", 2) == 0 || strcmp(sqlstate, "57014") == 0 ||
           strncmp(sqlstate, "53", 2) == 0 || strcmp(sqlstate, "57P01") == 0;
}

static void on_query_done(const PGresult *result, const char *sqlstate, void *arg)
{
    store_operation_t *operation = arg;
    int error = 0;
    operation->query = NULL;
    if (result == NULL) {
        error = STORE_EUNAVAILABLE;
    } else if (sqlstate) {
        error = is_unavailable(sqlstate) ? STORE_EUNAVAILABLE : STORE_EINTERNAL;
        if (error == STORE_EINTERNAL)
            fprintf(stderr, "slotd: store: unexpected database error %s\n", sqlstate);
    }
    operation->on_result(operation, error ? NULL : result, error);
    free(operation);
}

store_operation_t *store_operation_start(store_pool_t *pool, const char *statement, int count,
                                         const char *const *values,
                                         store_operation_result_fn on_result,
                                         void (*callback)(void), void *arg)
{
    store_operation_t *operation = slotd_calloc(1, sizeof(*operation));
    operation->on_result = on_result;
    operation->callback = callback;
    operation->arg = arg;
    operation->query = store_query(pool, statement, count, values, on_query_done, operation);
    if (operation->query == NULL) {
        free(operation);
        return NULL;
    }
    return operation;
}

void store_operation_cancel(store_operation_t *operation)
{
    if (operation->query)
        store_query_cancel(operation->query);
    free(operation);
}
