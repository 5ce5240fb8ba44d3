/* The busy-time interval tree. */
#include "test.h"

#include <string.h>

#include "slotd/busy.h"

static eng_busy_t entry(int64_t start, int64_t end, uint64_t key)
{
    return (eng_busy_t){.start = start, .end = end, .kind = ENG_BUSY_BLOCK, .key = key};
}

/* A naive model: the same entries in a flat array. */
typedef struct {
    int64_t start, end;
    uint64_t key;
    bool live;
} model_t;

static uint64_t rng_state = 88172645463325252ULL;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

TEST(busy_query_finds_exactly_the_overlapping_entries_in_order)
{
    eng_busy_tree_t tree;
    eng_busy_tree_init(&tree);
    enum { N = 3000 };
    static model_t model[N];
    for (int i = 0; i < N; i++) {
        int64_t start = (int64_t)(rnd() % 100000);
        int64_t end = start + 1 + (int64_t)(rnd() % 500);
        model[i] = (model_t){start, end, (uint64_t)i, true};
        CHECK_EQ(eng_busy_tree_insert(&tree, &(eng_busy_t){.start = start,
                                                           .end = end,
                                                           .kind = ENG_BUSY_BLOCK,
                                                           .key = (uint64_t)i}),
                 0);
    }
    /* remove a third, checking the invariants as we go */
    for (int i = 0; i < N; i += 3) {
        eng_busy_t e = entry(model[i].start, model[i].end, model[i].key);
        CHECK_EQ(eng_busy_tree_remove(&tree, &e), 0);
        CHECK_EQ(eng_busy_tree_remove(&tree, &e), ENG_ENOTFOUND);
        model[i].live = false;
        if (i % 300 == 0)
            CHECK_EQ(eng_busy_tree_check(&tree), 0);
    }
    CHECK_EQ(eng_busy_tree_check(&tree), 0);
    eng_busy_hit_t *hits = NULL;
    size_t count = 0, capacity = 0;
    for (int q = 0; q < 500; q++) {
        int64_t from = (int64_t)(rnd() % 100000), to = from + 1 + (int64_t)(rnd() % 2000);
        count = 0;
        eng_busy_tree_query(&tree, from, to, &hits, &count, &capacity);
        size_t expected = 0;
        for (int i = 0; i < N; i++)
            expected += model[i].live && model[i].start < to && model[i].end > from;
        CHECK_EQ(count, expected);
        for (size_t k = 0; k < count; k++) {
            CHECK(hits[k].start < to && hits[k].end > from);
            CHECK(model[hits[k].key].live);
            if (k > 0)
                CHECK(hits[k - 1].start <= hits[k].start);
        }
    }
    free(hits);
    eng_busy_tree_free(&tree);
}

TEST(busy_bookings_are_stored_padded_with_their_own_buffers)
{
    eng_busy_tree_t tree;
    eng_busy_tree_init(&tree);
    eng_busy_t b = {.start = 36000,
                    .end = 38700,
                    .buffer_before = 5,
                    .buffer_after = 10,
                    .kind = ENG_BUSY_BOOKING,
                    .stamp = 7,
                    .key = 1};
    CHECK_EQ(eng_busy_tree_insert(&tree, &b), 0);
    eng_busy_hit_t *hits = NULL;
    size_t count = 0, capacity = 0;
    eng_busy_tree_query(&tree, 0, 100000, &hits, &count, &capacity);
    CHECK_EQ(count, 1);
    CHECK_EQ(hits[0].start, 36000 - 300);
    CHECK_EQ(hits[0].end, 38700 + 600);
    CHECK_EQ(hits[0].unpadded_start, 36000);
    CHECK_EQ(hits[0].stamp, 7);
    /* the padding counts for overlap: a query ending just inside the before-buffer finds it */
    count = 0;
    eng_busy_tree_query(&tree, 0, 35701, &hits, &count, &capacity);
    CHECK_EQ(count, 1);
    count = 0;
    eng_busy_tree_query(&tree, 0, 35700, &hits, &count, &capacity);
    CHECK_EQ(count, 0);
    /* blocks are never padded */
    eng_busy_t block = {
        .start = 50000, .end = 51000, .buffer_before = 30, .kind = ENG_BUSY_BLOCK, .key = 2};
    CHECK_EQ(eng_busy_tree_insert(&tree, &block), 0);
    count = 0;
    eng_busy_tree_query(&tree, 49000, 50001, &hits, &count, &capacity);
    CHECK_EQ(count, 1);
    CHECK_EQ(hits[0].start, 50000);
    CHECK_EQ(eng_busy_tree_remove(&tree, &b), 0);
    CHECK_EQ(eng_busy_tree_remove(&tree, &block), 0);
    CHECK_EQ(tree.count, 0);
    free(hits);
    eng_busy_tree_free(&tree);
}

TEST(busy_rejects_empty_duplicate_and_oversized_entries)
{
    eng_busy_tree_t tree;
    eng_busy_tree_init(&tree);
    eng_busy_t e = entry(100, 100, 1);
    CHECK_EQ(eng_busy_tree_insert(&tree, &e), ENG_EINVAL);
    e = entry(100, 50, 1);
    CHECK_EQ(eng_busy_tree_insert(&tree, &e), ENG_EINVAL);
    e = entry(0, ENG_MAX_BUSY_SECONDS + 1, 1);
    CHECK_EQ(eng_busy_tree_insert(&tree, &e), ENG_EINVAL);
    e = (eng_busy_t){.start = 0,
                     .end = 60,
                     .buffer_after = ENG_MAX_BUFFER_MINUTES + 1,
                     .kind = ENG_BUSY_BOOKING,
                     .key = 1};
    CHECK_EQ(eng_busy_tree_insert(&tree, &e), ENG_EINVAL);
    e = entry(100, 200, 1);
    CHECK_EQ(eng_busy_tree_insert(&tree, &e), 0);
    CHECK_EQ(eng_busy_tree_insert(&tree, &e), ENG_EEXISTS);
    e = entry(100, 300, 2); /* same start, other key: fine */
    CHECK_EQ(eng_busy_tree_insert(&tree, &e), 0);
    CHECK_EQ(tree.count, 2);
    CHECK_EQ(eng_busy_tree_check(&tree), 0);
    eng_busy_tree_free(&tree);
}

TEST(busy_node_is_48_bytes_and_storage_stays_under_64_per_entry)
{
    CHECK_EQ(eng_busy_node_size(), 48);
    eng_busy_tree_t tree;
    eng_busy_tree_init(&tree);
    for (int i = 0; i < 100000; i++) {
        eng_busy_t e = entry(i * 100, i * 100 + 50, (uint64_t)i);
        CHECK_EQ(eng_busy_tree_insert(&tree, &e), 0);
    }
    CHECK(eng_busy_tree_bytes(&tree) <= 64 * tree.count);
    CHECK_EQ(eng_busy_tree_check(&tree), 0);
    eng_busy_tree_free(&tree);
}
