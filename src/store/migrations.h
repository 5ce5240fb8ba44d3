/*
 * The schema migrations compiled into slotd (the SQL files in src/store/migrations),
 * and applying them.
 */
#ifndef SLOTD_STORE_MIGRATIONS_H
#define SLOTD_STORE_MIGRATIONS_H

#include <libpq-fe.h>
#include <stddef.h>

typedef struct {
    int version;
    const char *name;
    const char *sql;
} store_migration_t;

/** Every migration, in ascending version order. */
extern const store_migration_t store_migrations[];
extern const size_t store_migration_count;

/**
 * Applies the migrations not yet recorded in slotd_migrations, each in its own
 * transaction, under an advisory lock so that concurrent migrators wait for each
 * other. Blocking (runs before the loop starts). Returns the number applied
 * (0 when up to date), or -1 with a message in `error` (size error_size).
 */
int store_migrate(PGconn *conn, char *error, size_t error_size);

#endif
