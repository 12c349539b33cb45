/* Large scratch blocks kept between calls, so that the next call does not page them in again. */
#ifndef CCONV_SCRATCH_CACHE_H
#define CCONV_SCRATCH_CACHE_H

#include <stddef.h>

/* Blocks below this size are left to malloc (which reuses them cheaply by itself). */
#define CCONV_SCRATCH_MIN_BYTES ((size_t)64 * 1024)
/* The most bytes the cache holds while no call uses them. */
#define CCONV_SCRATCH_KEEP_BYTES ((size_t)32 * 1024 * 1024)

/* A kept block of at least `bytes` (and not wastefully larger), removed from the cache, with
 * its capacity in *capacity; NULL when none fits.  Its contents are whatever was left in it. */
void *cconv_scratch_take(size_t bytes, size_t *capacity);

/* Offers a block of `capacity` bytes (from malloc/calloc) to the cache: 1 when kept, 0 when
 * the caller must free it (too small, cache full, or caching off: see scratch_cache.c). */
int cconv_scratch_keep(void *block, size_t capacity);

#endif
