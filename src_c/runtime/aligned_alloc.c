/* Cache-line-aligned scratch buffers, done by hand for portability (C99 has no aligned_alloc). */
#include <stdint.h>
#include <stdlib.h>

#include "aligned_alloc.h"

/* 64-byte alignment (one cache line, one AVX-512 vector), done by hand for portability:
 * the pointer malloc returned is stored just before the aligned block. */
void *cconv_aligned_calloc(size_t bytes)
{
    const size_t align = 64;
    if (bytes > SIZE_MAX - align - sizeof(void *)) return NULL;
    void *raw = calloc(1, bytes + align + sizeof(void *));
    if (!raw) return NULL;
    uintptr_t start = (uintptr_t)raw + sizeof(void *);
    uintptr_t aligned = (start + align - 1) & ~(uintptr_t)(align - 1);
    ((void **)aligned)[-1] = raw;
    return (void *)aligned;
}

size_t cconv_aligned_footprint(size_t bytes) { return bytes + 64 + sizeof(void *); }

void cconv_aligned_free(void *ptr)
{
    if (ptr) free(((void **)ptr)[-1]);
}
