/* The scratch cache of scratch_cache.h.
 *
 * Why: every call allocates its packed bands, tiles and transforms (hundreds of KB to a few MB)
 * and frees them at the end.  glibc gives such blocks back to the kernel (munmap, or trimming
 * the heap top), so the next call page-faults them in again: measured at about 0.4 ms per
 * Winograd call of ResNet's 64-channel 56x56 layer (a quarter of its time) on a VM where a
 * page fault costs about a microsecond.  Kept here, a block is only re-zeroed.
 *
 * A few blocks, up to CCONV_SCRATCH_KEEP_BYTES in all, behind one mutex (calls from several
 * Python threads each take their own blocks).  Across fork the child gets the parent's blocks
 * (its memory is a copy) and a mutex that no thread holds.  Under AddressSanitizer nothing is
 * kept, so that every overrun of a block is still caught at its own size. */
#include <stdlib.h>

#include "runtime/os_threads.h"
#include "runtime/scratch_cache.h"

#if defined(__SANITIZE_ADDRESS__)
#define CCONV_SCRATCH_OFF 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CCONV_SCRATCH_OFF 1
#endif
#endif

#define CCONV_SCRATCH_SLOTS 32

static struct {
    cconv_mutex lock;
    void *block[CCONV_SCRATCH_SLOTS];
    size_t capacity[CCONV_SCRATCH_SLOTS];
    size_t total;
    int fork_hooked; /* 0: not yet, 1: hooked, -1: no fork hooks (then nothing is kept) */
} cache = {CCONV_MUTEX_INIT, {0}, {0}, 0, 0};

static void before_fork(void) { cconv_mutex_lock(&cache.lock); }
static void after_fork_parent(void) { cconv_mutex_unlock(&cache.lock); }
static void after_fork_child(void) { cconv_mutex_unlock(&cache.lock); }

void *cconv_scratch_take(size_t bytes, size_t *capacity)
{
#ifdef CCONV_SCRATCH_OFF
    (void)bytes;
    (void)capacity;
    return NULL;
#else
    if (bytes < CCONV_SCRATCH_MIN_BYTES) return NULL;
    void *found = NULL;
    cconv_mutex_lock(&cache.lock);
    int best = -1;
    for (int i = 0; i < CCONV_SCRATCH_SLOTS; i++) {
        /* The smallest block that fits, and never one over twice the request (the call's
         * memory stays near what its plan counts, and a larger block is left for a larger
         * request). */
        if (cache.block[i] && cache.capacity[i] >= bytes && cache.capacity[i] / 2 <= bytes &&
            (best < 0 || cache.capacity[i] < cache.capacity[best]))
            best = i;
    }
    if (best >= 0) {
        found = cache.block[best];
        *capacity = cache.capacity[best];
        cache.total -= cache.capacity[best];
        cache.block[best] = NULL;
        cache.capacity[best] = 0;
    }
    cconv_mutex_unlock(&cache.lock);
    return found;
#endif
}

int cconv_scratch_keep(void *block, size_t capacity)
{
#ifdef CCONV_SCRATCH_OFF
    (void)block;
    (void)capacity;
    return 0;
#else
    if (!block || capacity < CCONV_SCRATCH_MIN_BYTES || capacity > CCONV_SCRATCH_KEEP_BYTES)
        return 0;
    int kept = 0;
    cconv_mutex_lock(&cache.lock);
    if (!cache.fork_hooked) {
        /* (Registered under the lock, once; the handlers take the same lock.) */
        cache.fork_hooked =
            cconv_at_fork(before_fork, after_fork_parent, after_fork_child) ? 1 : -1;
    }
    if (cache.fork_hooked > 0 && cache.total + capacity <= CCONV_SCRATCH_KEEP_BYTES) {
        for (int i = 0; i < CCONV_SCRATCH_SLOTS; i++) {
            if (!cache.block[i]) {
                cache.block[i] = block;
                cache.capacity[i] = capacity;
                cache.total += capacity;
                kept = 1;
                break;
            }
        }
    }
    cconv_mutex_unlock(&cache.lock);
    return kept;
#endif
}
