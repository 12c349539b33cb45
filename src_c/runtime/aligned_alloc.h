/* Cache-line-aligned scratch buffers for the drivers' per-thread work areas; large ones are kept
 * between calls by the scratch cache (runtime/scratch_cache.h). */
#ifndef CCONV_ALIGNED_ALLOC_H
#define CCONV_ALIGNED_ALLOC_H

#include <stddef.h>

/* A zeroed block of `bytes` aligned to 64 bytes (one cache line, one AVX-512 vector), or NULL.
 * Zeroed so that slack positions a kernel reads but whose results are thrown away always hold
 * finite values.  Release with cconv_aligned_free. */
void *cconv_aligned_calloc(size_t bytes);
/* The same block, zeroed only when newly allocated: one taken from the scratch cache (the only
 * blocks that go back there when freed) holds what its last user left, finite or not.  For
 * buffers whose every position that is read is written first, or read only into lanes whose
 * results are thrown away without any check. */
void *cconv_aligned_scratch(size_t bytes);
/* What cconv_aligned_calloc(bytes) takes from the heap (alignment slack included). */
size_t cconv_aligned_footprint(size_t bytes);
void cconv_aligned_free(void *ptr);

#endif
