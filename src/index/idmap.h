/*
 * A hash map from 16-byte ids (UUIDs) to pointers: open addressing with linear
 * probing, kept at most half full. The map never frees its values.
 */
#ifndef SLOTD_INDEX_IDMAP_H
#define SLOTD_INDEX_IDMAP_H

#include <stddef.h>

#include "slotd/engine.h"

typedef struct {
    eng_id_t key;
    void *value; /* NULL: empty slot */
} idmap_entry_t;

typedef struct {
    idmap_entry_t *entries;
    size_t capacity; /* a power of two, or 0 */
    size_t count;
} idmap_t;

/** The value stored for a key, or NULL. */
void *idmap_get(const idmap_t *map, const eng_id_t *key);

/** Stores a (non-NULL) value for a key, replacing any. */
void idmap_put(idmap_t *map, const eng_id_t *key, void *value);

/** Removes a key (if present) and returns its value, or NULL. */
void *idmap_remove(idmap_t *map, const eng_id_t *key);

/** Frees the map's table (not the values). */
void idmap_free(idmap_t *map);

#endif
