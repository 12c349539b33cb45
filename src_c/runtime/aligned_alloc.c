/* Cache-line-aligned scratch buffers, done by hand for portability (C99 has no aligned_alloc);
 * large ones come from, and go back to, the scratch cache (runtime/scratch_cache.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aligned_alloc.h"
#include "scratch_cache.h"

/* 64-byte alignment (one cache line, one AVX-512 vector).  Just before the aligned block: the
 * pointer malloc returned and the size it was asked for (the block's capacity, which the
 * scratch cache needs to reuse it), times two, plus one for a block that may go back to the
 * cache: only cconv_aligned_scratch's.  A zeroed block is never reused, since zeroing a large
 * kept block costs more than calloc's fresh pages when a call touches few of them (a packed
 * band that a 1x1 layer reads in place only at a channel's end). */
#define CCONV_ALIGN 64
#define CCONV_HEADER (2 * sizeof(size_t) > sizeof(void *) + sizeof(size_t) \
                          ? 2 * sizeof(size_t) : sizeof(void *) + sizeof(size_t))

static void *aligned_in(void *raw, size_t tagged_capacity)
{
    uintptr_t start = (uintptr_t)raw + CCONV_HEADER;
    uintptr_t aligned = (start + CCONV_ALIGN - 1) & ~(uintptr_t)(CCONV_ALIGN - 1);
    memcpy((char *)aligned - sizeof(void *), &raw, sizeof(void *));
    memcpy((char *)aligned - sizeof(void *) - sizeof(size_t), &tagged_capacity, sizeof(size_t));
    return (void *)aligned;
}

static void *aligned_block(size_t bytes, int reusable)
{
    if (bytes > (SIZE_MAX >> 1) - CCONV_ALIGN - CCONV_HEADER) return NULL;
    const size_t want = bytes + CCONV_ALIGN + CCONV_HEADER;
    size_t capacity = 0;
    void *raw = reusable ? cconv_scratch_take(want, &capacity) : NULL;
    if (raw) return aligned_in(raw, capacity * 2 + 1);
    raw = calloc(1, want);
    return raw ? aligned_in(raw, want * 2 + (size_t)reusable) : NULL;
}

void *cconv_aligned_calloc(size_t bytes) { return aligned_block(bytes, 0); }

void *cconv_aligned_scratch(size_t bytes) { return aligned_block(bytes, 1); }

size_t cconv_aligned_footprint(size_t bytes) { return bytes + CCONV_ALIGN + CCONV_HEADER; }

void cconv_aligned_free(void *ptr)
{
    if (!ptr) return;
    void *raw;
    size_t capacity;
    memcpy(&raw, (char *)ptr - sizeof(void *), sizeof(void *));
    memcpy(&capacity, (char *)ptr - sizeof(void *) - sizeof(size_t), sizeof(size_t));
    if (!(capacity & 1) || !cconv_scratch_keep(raw, capacity >> 1)) free(raw);
}
