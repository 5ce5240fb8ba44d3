/* The id map (see idmap.h). UUIDs are random, so their first bytes hash well. */
#include "index/idmap.h"

#include <string.h>

#include "slotd/alloc.h"

static size_t slot_of(const eng_id_t *key, size_t capacity)
{
    uint64_t h;
    memcpy(&h, key->bytes, sizeof(h));
    uint64_t l;
    memcpy(&l, key->bytes + 8, sizeof(l));
    h ^= l * 0x9e3779b97f4a7c15ULL;
    h ^= h >> 29;
    return (size_t)h & (capacity - 1);
}

void *idmap_get(const idmap_t *map, const eng_id_t *key)
{
    if (map->capacity == 0)
        return NULL;
    for (size_t i = slot_of(key, map->capacity);; i = (i + 1) & (map->capacity - 1)) {
        const idmap_entry_t *e = &map->entries[i];
        if (e->value == NULL)
            return NULL;
        if (memcmp(&e->key, key, sizeof(*key)) == 0)
            return e->value;
    }
}

static void insert(idmap_entry_t *entries, size_t capacity, const eng_id_t *key, void *value,
                   size_t *count)
{
    for (size_t i = slot_of(key, capacity);; i = (i + 1) & (capacity - 1)) {
        idmap_entry_t *e = &entries[i];
        if (e->value == NULL) {
            e->key = *key;
            e->value = value;
            (*count)++;
            return;
        }
        if (memcmp(&e->key, key, sizeof(*key)) == 0) {
            e->value = value;
            return;
        }
    }
}

void idmap_put(idmap_t *map, const eng_id_t *key, void *value)
{
    if ((map->count + 1) * 2 > map->capacity) {
        size_t capacity = map->capacity ? map->capacity * 2 : 16;
        idmap_entry_t *entries = slotd_calloc(capacity, sizeof(idmap_entry_t));
        size_t count = 0;
        for (size_t i = 0; i < map->capacity; i++)
            if (map->entries[i].value)
                insert(entries, capacity, &map->entries[i].key, map->entries[i].value, &count);
        free(map->entries);
        map->entries = entries;
        map->capacity = capacity;
        map->count = count;
    }
    insert(map->entries, map->capacity, key, value, &map->count);
}

void *idmap_remove(idmap_t *map, const eng_id_t *key)
{
    if (map->capacity == 0)
        return NULL;
    size_t mask = map->capacity - 1, i = slot_of(key, map->capacity);
    while (map->entries[i].value && memcmp(&map->entries[i].key, key, sizeof(*key)) != 0)
        i = (i + 1) & mask;
    void *value = map->entries[i].value;
    if (value == NULL)
        return NULL;
    /* backward shift: move up every later entry of the run that may sit in the hole */
    for (size_t j = (i + 1) & mask; map->entries[j].value; j = (j + 1) & mask) {
        size_t home = slot_of(&map->entries[j].key, map->capacity);
        if (((j - home) & mask) >= ((j - i) & mask)) {
            map->entries[i] = map->entries[j];
            i = j;
        }
    }
    map->entries[i] = (idmap_entry_t){0};
    map->count--;
    return value;
}

void idmap_free(idmap_t *map)
{
    free(map->entries);
    *map = (idmap_t){0};
}
