/*
 * Spans: sorted lists of half-open instant intervals [start, end), the currency
 * of the slot computation (open time, busy time, free time).
 *
 * A normalized list is sorted, has no empty span, and no two spans touch or
 * overlap. Intersection and subtraction are single merge passes over two
 * normalized lists, linear in their lengths.
 */
#include "internal.h"

#include "slotd/alloc.h"

void eng_spans_clear(eng_spans_t *s)
{
    s->count = 0;
}

void eng_spans_free(eng_spans_t *s)
{
    free(s->v);
    *s = (eng_spans_t){0};
}

void eng_spans_reserve(eng_spans_t *s, size_t extra)
{
    s->v = slotd_grow(s->v, &s->capacity, s->count + extra, sizeof(eng_span_t));
}

static inline bool span_before(const eng_span_t *a, const eng_span_t *b)
{
    return a->start < b->start || (a->start == b->start && a->end > b->end);
}

/* Natural merge sort: the lists sorted here are concatenations of sorted
 * lists (one per resource), so finding the runs and merging them pairwise
 * costs O(n log runs). */
void eng_spans_sort(eng_spans_t *s, eng_spans_t *scratch)
{
    size_t n = s->count;
    if (n < 2)
        return;
    scratch->count = 0;
    eng_spans_reserve(scratch, n);
    eng_span_t *from = s->v, *to = scratch->v;
    for (;;) {
        size_t runs = 0, i = 0;
        while (i < n) {
            size_t mid = i + 1;
            while (mid < n && !span_before(&from[mid], &from[mid - 1]))
                mid++;
            size_t end = mid;
            if (end < n) {
                end++;
                while (end < n && !span_before(&from[end], &from[end - 1]))
                    end++;
            }
            size_t a = i, b = mid, k = i;
            while (a < mid && b < end)
                to[k++] = span_before(&from[b], &from[a]) ? from[b++] : from[a++];
            while (a < mid)
                to[k++] = from[a++];
            while (b < end)
                to[k++] = from[b++];
            runs++;
            i = end;
        }
        eng_span_t *swap = from;
        from = to;
        to = swap;
        if (runs == 1)
            break;
    }
    if (from != s->v) {
        /* the sorted data ended up in scratch's array: trade arrays */
        eng_span_t *v = s->v;
        size_t capacity = s->capacity;
        s->v = scratch->v;
        s->capacity = scratch->capacity;
        scratch->v = v;
        scratch->capacity = capacity;
    }
    scratch->count = 0;
}

void eng_spans_normalize(eng_spans_t *s)
{
    /* Insertion sort: the lists built here are short and nearly sorted. */
    for (size_t i = 1; i < s->count; i++) {
        eng_span_t x = s->v[i];
        size_t j = i;
        while (j > 0 && s->v[j - 1].start > x.start) {
            s->v[j] = s->v[j - 1];
            j--;
        }
        s->v[j] = x;
    }
    size_t out = 0;
    for (size_t i = 0; i < s->count; i++) {
        eng_span_t x = s->v[i];
        if (x.end <= x.start)
            continue;
        if (out > 0 && x.start <= s->v[out - 1].end) {
            if (x.end > s->v[out - 1].end)
                s->v[out - 1].end = x.end;
            continue;
        }
        s->v[out++] = x;
    }
    s->count = out;
}

void eng_spans_intersect(const eng_spans_t *a, const eng_spans_t *b, eng_spans_t *out)
{
    eng_spans_clear(out);
    size_t i = 0, j = 0;
    while (i < a->count && j < b->count) {
        int64_t start = a->v[i].start > b->v[j].start ? a->v[i].start : b->v[j].start;
        int64_t end = a->v[i].end < b->v[j].end ? a->v[i].end : b->v[j].end;
        if (start < end)
            eng_spans_push(out, start, end);
        if (a->v[i].end < b->v[j].end)
            i++;
        else
            j++;
    }
}

void eng_spans_subtract(const eng_spans_t *a, const eng_spans_t *b, eng_spans_t *out)
{
    eng_spans_clear(out);
    size_t j = 0;
    for (size_t i = 0; i < a->count; i++) {
        int64_t start = a->v[i].start, end = a->v[i].end;
        while (j < b->count && b->v[j].end <= start)
            j++;
        size_t k = j;
        while (start < end && k < b->count && b->v[k].start < end) {
            if (b->v[k].start > start)
                eng_spans_push(out, start, b->v[k].start);
            if (b->v[k].end > start)
                start = b->v[k].end;
            k++;
        }
        if (start < end)
            eng_spans_push(out, start, end);
    }
}
