/*
 * Busy time of one resource: a balanced interval tree.
 *
 * Every booking, hold, block and synced external event that makes a resource
 * busy is one entry. Bookings and holds are stored padded with their own
 * service's buffers, [start - buffer_before, end + buffer_after), which is the
 * interval that makes the resource busy (docs/design.md, availability rule 2).
 *
 * The tree is an AVL tree ordered by (padded start, key) and augmented with the
 * largest padded end of each subtree, so that insert and remove take O(log n)
 * and the entries overlapping a window are found in O(log n + k), in order of
 * start. Nodes live in one array per tree and link by 32-bit index, which keeps
 * an entry at 48 bytes.
 */
#ifndef SLOTD_BUSY_H
#define SLOTD_BUSY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slotd/errors.h"

/** What makes a resource busy. */
typedef enum {
    ENG_BUSY_BOOKING = 0, /**< an active booking; stamp = created_at */
    ENG_BUSY_HOLD = 1,    /**< a hold; stamp = expires_at (busy while now < stamp) */
    ENG_BUSY_BLOCK = 2,   /**< time off, a break, a meeting (never padded) */
    ENG_BUSY_EXTERNAL = 3 /**< a busy event synced from an external calendar */
} eng_busy_kind_t;

/** Largest buffer, in minutes, a busy entry can be padded with. */
#define ENG_MAX_BUFFER_MINUTES 1440
/** Longest busy entry, in seconds (ten years). */
#define ENG_MAX_BUSY_SECONDS (3660LL * 86400)

/** One busy entry as the caller describes it. */
typedef struct {
    int64_t start;          /**< instant, unpadded */
    int64_t end;            /**< instant, unpadded, > start */
    uint16_t buffer_before; /**< minutes of padding before (bookings and holds only) */
    uint16_t buffer_after;  /**< minutes of padding after (bookings and holds only) */
    eng_busy_kind_t kind;
    int64_t stamp; /**< bookings: created_at; holds: expires_at; others: unused */
    uint64_t key;  /**< the caller's handle, unique among entries with the same start */
} eng_busy_t;

/** An entry found by a query: its padded interval and what it is. */
typedef struct {
    int64_t start; /**< padded */
    int64_t end;   /**< padded */
    int64_t stamp;
    uint64_t key;
    eng_busy_kind_t kind;
    int64_t unpadded_start;
} eng_busy_hit_t;

typedef struct eng_busy_node eng_busy_node_t;

/** The tree. Zero-initialize (or eng_busy_tree_init) before use. */
typedef struct {
    eng_busy_node_t *nodes; /**< nodes[i - 1] is node i; 0 means "none" */
    size_t capacity;
    uint32_t used;      /**< nodes handed out, including freed ones */
    uint32_t free_list; /**< first freed node, linked through its left field */
    uint32_t root;
    size_t count;
} eng_busy_tree_t;

void eng_busy_tree_init(eng_busy_tree_t *tree);

/** Frees the tree's memory; the tree is empty afterwards and can be reused. */
void eng_busy_tree_free(eng_busy_tree_t *tree);

/**
 * Adds an entry (copied). Returns 0, ENG_EEXISTS when an entry with the same
 * padded start and key exists, or ENG_EINVAL for end <= start, a buffer over
 * ENG_MAX_BUFFER_MINUTES or a length over ENG_MAX_BUSY_SECONDS.
 */
int eng_busy_tree_insert(eng_busy_tree_t *tree, const eng_busy_t *busy);

/**
 * Removes the entry with the padded start (start - buffer_before) and key of
 * `busy`. Returns 0 or ENG_ENOTFOUND.
 */
int eng_busy_tree_remove(eng_busy_tree_t *tree, const eng_busy_t *busy);

/**
 * Appends to *hits every entry whose padded interval overlaps [from, to), in
 * order of padded start; *hits grows as needed (the caller frees it).
 * Returns the number appended.
 */
size_t eng_busy_tree_query(const eng_busy_tree_t *tree, int64_t from, int64_t to,
                           eng_busy_hit_t **hits, size_t *count, size_t *capacity);

/** Bytes the tree holds in memory (its node array, including spare room). */
size_t eng_busy_tree_bytes(const eng_busy_tree_t *tree);

/** Size of one node, for the record. */
size_t eng_busy_node_size(void);

/**
 * Calls fn for every entry, in order; fn may not modify the tree. Used to
 * rebuild derived state and in tests.
 */
void eng_busy_tree_walk(const eng_busy_tree_t *tree, void (*fn)(const eng_busy_hit_t *, void *),
                        void *arg);

/** Checks the AVL and max-end invariants; returns 0 when they hold. For tests. */
int eng_busy_tree_check(const eng_busy_tree_t *tree);

#endif
