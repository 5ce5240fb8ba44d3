/*
 * Allocation that never returns NULL.
 *
 * slotd cannot do anything useful after running out of memory half way through
 * an operation, and code that checks every allocation for NULL mostly tests the
 * checks. So, as in h2o, these wrappers abort the process with a message
 * instead; callers never see NULL. Memory they return is freed with free().
 */
#ifndef SLOTD_ALLOC_H
#define SLOTD_ALLOC_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline void slotd_out_of_memory(void)
{
    fputs("slotd: out of memory\n", stderr);
    abort();
}

static inline void *slotd_malloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (p == NULL)
        slotd_out_of_memory();
    return p;
}

static inline void *slotd_calloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (p == NULL)
        slotd_out_of_memory();
    return p;
}

static inline void *slotd_realloc(void *old, size_t size)
{
    void *p = realloc(old, size ? size : 1);
    if (p == NULL)
        slotd_out_of_memory();
    return p;
}

static inline char *slotd_strdup(const char *s)
{
    size_t len = strlen(s) + 1;
    char *p = slotd_malloc(len);
    memcpy(p, s, len);
    return p;
}

/**
 * Grows an array so that it holds at least `need` elements of `size` bytes:
 * *capacity is updated, the (possibly moved) array returned. Growth is by half,
 * so an array that grew to n elements wastes at most a third of its bytes.
 */
static inline void *slotd_grow(void *array, size_t *capacity, size_t need, size_t size)
{
    if (need <= *capacity)
        return array;
    size_t cap = *capacity + *capacity / 2;
    if (cap < need)
        cap = need;
    if (cap < 8)
        cap = 8;
    *capacity = cap;
    return slotd_realloc(array, cap * size);
}

#endif
