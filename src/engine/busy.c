/*
 * The busy-time interval tree (see include/slotd/busy.h for the contract).
 *
 * An AVL tree keyed by (padded start, key), each node augmented with the largest
 * padded end in its subtree. Overlap query: a subtree whose max_end is at or
 * before the window's start holds nothing of interest; a node starting at or
 * after the window's end ends the in-order walk. So a query visits O(log n)
 * nodes that hold nothing plus the k that overlap, and yields them sorted.
 *
 * Memory: nodes sit in one array and link by 1-based 32-bit index (0 = none);
 * freed nodes go on a free list threaded through `left`. The array grows by an
 * eighth at a time, so at most ~11% of it is spare, and a node is 48 bytes:
 * the padded end is kept as a 32-bit length, and the two buffers, the kind and
 * the AVL height share one 32-bit word.
 */
#include "slotd/busy.h"

#include "slotd/alloc.h"

struct eng_busy_node {
    int64_t start;   /* padded start */
    int64_t max_end; /* largest padded end in this subtree */
    int64_t stamp;
    uint64_t key;
    uint32_t length; /* padded end - padded start, seconds */
    uint32_t left, right;
    uint32_t packed; /* buffer_before:11 | buffer_after:11 | kind:2 | height:8 */
};

_Static_assert(sizeof(struct eng_busy_node) == 48, "a busy node is 48 bytes");

#define NODE(tree, i) (&(tree)->nodes[(i)-1])

static inline uint32_t pack(uint32_t before, uint32_t after, uint32_t kind, uint32_t height)
{
    return before | after << 11 | kind << 22 | height << 24;
}
static inline uint32_t node_before(const eng_busy_node_t *n)
{
    return n->packed & 0x7ff;
}
static inline uint32_t node_kind(const eng_busy_node_t *n)
{
    return (n->packed >> 22) & 3;
}
static inline int node_height_of(const eng_busy_tree_t *t, uint32_t i)
{
    return i ? (int)(NODE(t, i)->packed >> 24) : 0;
}
static inline int64_t node_end(const eng_busy_node_t *n)
{
    return n->start + n->length;
}

void eng_busy_tree_init(eng_busy_tree_t *tree)
{
    *tree = (eng_busy_tree_t){0};
}

void eng_busy_tree_free(eng_busy_tree_t *tree)
{
    free(tree->nodes);
    eng_busy_tree_init(tree);
}

size_t eng_busy_tree_bytes(const eng_busy_tree_t *tree)
{
    return tree->capacity * sizeof(eng_busy_node_t);
}

size_t eng_busy_node_size(void)
{
    return sizeof(eng_busy_node_t);
}

static int compare(int64_t start_a, uint64_t key_a, const eng_busy_node_t *b)
{
    if (start_a != b->start)
        return start_a < b->start ? -1 : 1;
    if (key_a != b->key)
        return key_a < b->key ? -1 : 1;
    return 0;
}

/* Recomputes height and max_end of node i from its children. */
static void update(eng_busy_tree_t *t, uint32_t i)
{
    eng_busy_node_t *n = NODE(t, i);
    int hl = node_height_of(t, n->left), hr = node_height_of(t, n->right);
    int64_t m = node_end(n);
    if (n->left && NODE(t, n->left)->max_end > m)
        m = NODE(t, n->left)->max_end;
    if (n->right && NODE(t, n->right)->max_end > m)
        m = NODE(t, n->right)->max_end;
    n->max_end = m;
    n->packed = (n->packed & 0x00ffffff) | (uint32_t)(1 + (hl > hr ? hl : hr)) << 24;
}

static uint32_t rotate_right(eng_busy_tree_t *t, uint32_t i)
{
    uint32_t l = NODE(t, i)->left;
    NODE(t, i)->left = NODE(t, l)->right;
    NODE(t, l)->right = i;
    update(t, i);
    update(t, l);
    return l;
}

static uint32_t rotate_left(eng_busy_tree_t *t, uint32_t i)
{
    uint32_t r = NODE(t, i)->right;
    NODE(t, i)->right = NODE(t, r)->left;
    NODE(t, r)->left = i;
    update(t, i);
    update(t, r);
    return r;
}

static uint32_t rebalance(eng_busy_tree_t *t, uint32_t i)
{
    update(t, i);
    eng_busy_node_t *n = NODE(t, i);
    int balance = node_height_of(t, n->left) - node_height_of(t, n->right);
    if (balance > 1) {
        eng_busy_node_t *l = NODE(t, n->left);
        if (node_height_of(t, l->left) < node_height_of(t, l->right))
            n->left = rotate_left(t, n->left);
        return rotate_right(t, i);
    }
    if (balance < -1) {
        eng_busy_node_t *r = NODE(t, n->right);
        if (node_height_of(t, r->right) < node_height_of(t, r->left))
            n->right = rotate_right(t, n->right);
        return rotate_left(t, i);
    }
    return i;
}

static uint32_t insert_at(eng_busy_tree_t *t, uint32_t i, uint32_t fresh, int *status)
{
    if (i == 0)
        return fresh;
    int c = compare(NODE(t, fresh)->start, NODE(t, fresh)->key, NODE(t, i));
    if (c == 0) {
        *status = ENG_EEXISTS;
        return i;
    }
    if (c < 0)
        NODE(t, i)->left = insert_at(t, NODE(t, i)->left, fresh, status);
    else
        NODE(t, i)->right = insert_at(t, NODE(t, i)->right, fresh, status);
    return *status ? i : rebalance(t, i);
}

static uint32_t allocate_node(eng_busy_tree_t *t)
{
    if (t->free_list) {
        uint32_t i = t->free_list;
        t->free_list = NODE(t, i)->left;
        return i;
    }
    if (t->used == t->capacity) {
        size_t cap = t->capacity + t->capacity / 8;
        if (cap < t->capacity + 16)
            cap = t->capacity + 16;
        t->nodes = slotd_realloc(t->nodes, cap * sizeof(eng_busy_node_t));
        t->capacity = cap;
    }
    return ++t->used;
}

static void release_node(eng_busy_tree_t *t, uint32_t i)
{
    NODE(t, i)->left = t->free_list;
    t->free_list = i;
}

int eng_busy_tree_insert(eng_busy_tree_t *tree, const eng_busy_t *b)
{
    if (b->end <= b->start || b->kind > ENG_BUSY_EXTERNAL ||
        b->buffer_before > ENG_MAX_BUFFER_MINUTES || b->buffer_after > ENG_MAX_BUFFER_MINUTES)
        return ENG_EINVAL;
    bool padded = b->kind == ENG_BUSY_BOOKING || b->kind == ENG_BUSY_HOLD;
    uint32_t before = padded ? b->buffer_before : 0, after = padded ? b->buffer_after : 0;
    int64_t start = b->start - (int64_t)before * 60, end = b->end + (int64_t)after * 60;
    if (end - start > ENG_MAX_BUSY_SECONDS)
        return ENG_EINVAL;

    uint32_t fresh = allocate_node(tree);
    eng_busy_node_t *n = NODE(tree, fresh);
    n->start = start;
    n->max_end = end;
    n->stamp = b->stamp;
    n->key = b->key;
    n->length = (uint32_t)(end - start);
    n->left = n->right = 0;
    n->packed = pack(before, after, (uint32_t)b->kind, 1);

    int status = 0;
    uint32_t root = insert_at(tree, tree->root, fresh, &status);
    if (status) {
        release_node(tree, fresh);
        return status;
    }
    tree->root = root;
    tree->count++;
    return ENG_OK;
}

/* Detaches the smallest node of subtree i into *min; returns the new subtree. */
static uint32_t remove_min(eng_busy_tree_t *t, uint32_t i, uint32_t *min)
{
    if (NODE(t, i)->left == 0) {
        *min = i;
        return NODE(t, i)->right;
    }
    NODE(t, i)->left = remove_min(t, NODE(t, i)->left, min);
    return rebalance(t, i);
}

static uint32_t remove_at(eng_busy_tree_t *t, uint32_t i, int64_t start, uint64_t key,
                          uint32_t *removed)
{
    if (i == 0)
        return 0;
    int c = compare(start, key, NODE(t, i));
    if (c < 0) {
        NODE(t, i)->left = remove_at(t, NODE(t, i)->left, start, key, removed);
    } else if (c > 0) {
        NODE(t, i)->right = remove_at(t, NODE(t, i)->right, start, key, removed);
    } else {
        *removed = i;
        uint32_t l = NODE(t, i)->left, r = NODE(t, i)->right;
        if (r == 0)
            return l;
        uint32_t min;
        r = remove_min(t, r, &min);
        NODE(t, min)->left = l;
        NODE(t, min)->right = r;
        return rebalance(t, min);
    }
    return *removed ? rebalance(t, i) : i;
}

int eng_busy_tree_remove(eng_busy_tree_t *tree, const eng_busy_t *b)
{
    bool padded = b->kind == ENG_BUSY_BOOKING || b->kind == ENG_BUSY_HOLD;
    int64_t start = b->start - (padded ? (int64_t)b->buffer_before * 60 : 0);
    uint32_t removed = 0;
    tree->root = remove_at(tree, tree->root, start, b->key, &removed);
    if (!removed)
        return ENG_ENOTFOUND;
    release_node(tree, removed);
    tree->count--;
    return ENG_OK;
}

static void fill_hit(const eng_busy_node_t *n, eng_busy_hit_t *h)
{
    h->start = n->start;
    h->end = node_end(n);
    h->stamp = n->stamp;
    h->key = n->key;
    h->kind = (eng_busy_kind_t)node_kind(n);
    h->unpadded_start = n->start + (int64_t)node_before(n) * 60;
}

typedef struct {
    const eng_busy_tree_t *tree;
    int64_t from, to;
    eng_busy_hit_t **hits;
    size_t *count, *capacity;
} query_t;

/* In-order walk of subtree i, pruned: returns false once a node starts at or
 * after the window's end (everything after it does too). */
static bool query_at(query_t *q, uint32_t i)
{
    if (i == 0)
        return true;
    const eng_busy_node_t *n = NODE(q->tree, i);
    if (n->max_end <= q->from)
        return true;
    if (!query_at(q, n->left))
        return false;
    if (n->start >= q->to)
        return false;
    if (node_end(n) > q->from) {
        *q->hits = slotd_grow(*q->hits, q->capacity, *q->count + 1, sizeof(eng_busy_hit_t));
        fill_hit(n, &(*q->hits)[(*q->count)++]);
    }
    return query_at(q, n->right);
}

/* A tree of at most this many nodes is prefetched whole before a query walks it. */
#define PREFETCH_NODES_MAX 128

size_t eng_busy_tree_query(const eng_busy_tree_t *tree, int64_t from, int64_t to,
                           eng_busy_hit_t **hits, size_t *count, size_t *capacity)
{
    size_t before = *count;
    if (from < to && tree->used <= PREFETCH_NODES_MAX) {
        /* A small tree is mostly read by any query of a week or more. When it is not in
         * the caches (one resource of one of many organizations, asked for at random),
         * the walk would wait for each node it reaches in turn; asked for all at once,
         * its lines arrive together. Changes no answer. */
        const char *bytes = (const char *)tree->nodes;
        for (size_t b = 0; b < tree->used * sizeof(eng_busy_node_t); b += 64)
            __builtin_prefetch(bytes + b);
    }
    if (from < to) {
        query_t q = {tree, from, to, hits, count, capacity};
        query_at(&q, tree->root);
    }
    return *count - before;
}

static void walk_at(const eng_busy_tree_t *t, uint32_t i,
                    void (*fn)(const eng_busy_hit_t *, void *), void *arg)
{
    if (i == 0)
        return;
    walk_at(t, NODE(t, i)->left, fn, arg);
    eng_busy_hit_t h;
    fill_hit(NODE(t, i), &h);
    fn(&h, arg);
    walk_at(t, NODE(t, i)->right, fn, arg);
}

void eng_busy_tree_walk(const eng_busy_tree_t *tree, void (*fn)(const eng_busy_hit_t *, void *),
                        void *arg)
{
    walk_at(tree, tree->root, fn, arg);
}

/* Returns the subtree's height, or -1 when an invariant is broken. */
static int check_at(const eng_busy_tree_t *t, uint32_t i, const eng_busy_node_t *low,
                    const eng_busy_node_t *high, size_t *count)
{
    if (i == 0)
        return 0;
    const eng_busy_node_t *n = NODE(t, i);
    if ((low && compare(n->start, n->key, low) <= 0) ||
        (high && compare(n->start, n->key, high) >= 0))
        return -1;
    int hl = check_at(t, n->left, low, n, count);
    int hr = check_at(t, n->right, n, high, count);
    if (hl < 0 || hr < 0 || hl - hr > 1 || hr - hl > 1)
        return -1;
    int64_t m = node_end(n);
    if (n->left && NODE(t, n->left)->max_end > m)
        m = NODE(t, n->left)->max_end;
    if (n->right && NODE(t, n->right)->max_end > m)
        m = NODE(t, n->right)->max_end;
    int h = 1 + (hl > hr ? hl : hr);
    if (m != n->max_end || h != node_height_of(t, i))
        return -1;
    (*count)++;
    return h;
}

int eng_busy_tree_check(const eng_busy_tree_t *tree)
{
    size_t count = 0;
    if (check_at(tree, tree->root, NULL, NULL, &count) < 0 || count != tree->count)
        return ENG_EINVAL;
    return ENG_OK;
}
