/*
 * The statements of the index's loading connections (see load_statements.c):
 * idx_orgs, idx_locations, idx_resources, idx_services.
 */
#ifndef SLOTD_INDEX_LOAD_STATEMENTS_H
#define SLOTD_INDEX_LOAD_STATEMENTS_H

#include "store/pool.h"

extern const store_statement_t idx_load_statements[];
extern const size_t idx_load_statement_count;

#endif
