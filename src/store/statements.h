/*
 * Every SQL statement the service runs, prepared on each pool connection: the
 * named statements of the files in src/store/sql, listed by the generated file (see
 * embed_sql.cmake). Each one names organization_id in its WHERE clause or its
 * keys: a statement can never reach another organization's rows.
 */
#ifndef SLOTD_STORE_STATEMENTS_H
#define SLOTD_STORE_STATEMENTS_H

#include "store/pool.h"

extern const store_statement_t store_statements[];
extern const size_t store_statement_count;

#endif
