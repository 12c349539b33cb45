/* The parallel loop of the pooling entry points: the thread pool, plus per-thread scratch and a
 * status per thread so that an item can say why it failed. */
#include <stdlib.h>

#include "pool/pool2d_common.h"
#include "runtime/aligned_alloc.h"
#include "runtime/thread_pool.h"

cconv_status cconv_pool_check_simd(const cconv_run_options *run)
{
    if (run->simd < -1 || (run->simd >= 0 && !cconv_simd_supported(run->simd)))
        return CCONV_ERR_UNSUPPORTED_SIMD;
    return CCONV_OK;
}

int64_t cconv_pool_channel_block(const cconv_run_options *run, int64_t batch, int64_t channels)
{
    const int64_t threads = run->threads > 0 ? run->threads : cconv_default_threads();
    int64_t block = channels < CCONV_POOL_CL_RUN ? channels : CCONV_POOL_CL_RUN;
    while (block > 16 && batch * ((channels + block - 1) / block) < threads) {
        block = (block / 2 + 15) / 16 * 16;
    }
    return block;
}

/* Per participant: its scratch (made on its first item) and the status of its failed item.
 * Padded to a cache line so that participants do not share one. */
typedef struct pool_slot {
    void *scratch;
    cconv_status status;
    int ready;
    char pad_[64 - sizeof(void *) - sizeof(cconv_status) - sizeof(int)];
} pool_slot;

typedef struct pool_loop {
    cconv_pool_item_fn fn;
    void *context;
    size_t slot_bytes;
    pool_slot *slots;
} pool_loop;

static int run_pool_item(void *context, int64_t item, int slot)
{
    pool_loop *loop = (pool_loop *)context;
    pool_slot *s = &loop->slots[slot];
    if (!s->ready) {
        s->ready = 1;
        if (loop->slot_bytes) {
            s->scratch = cconv_aligned_calloc(loop->slot_bytes);
            if (!s->scratch) {
                s->status = CCONV_ERR_NO_MEMORY;
                return 1;
            }
        }
    }
    s->status = loop->fn(loop->context, item, s->scratch);
    return s->status != CCONV_OK;
}

cconv_status cconv_pool_parallel(const cconv_run_options *run, int64_t items, size_t slot_bytes,
                                  cconv_pool_item_fn fn, void *context)
{
    if (items <= 0) return CCONV_OK;
    int threads = run->threads > 0 ? run->threads : cconv_default_threads();
    if (threads < 1) threads = 1;
    if ((int64_t)threads > items) threads = (int)items;
    /* With a handoff the loop may use one slot more than threads (runtime/thread_pool.h). */
    const int slots = threads + (run->handoff != NULL);
    pool_loop loop = {fn, context, slot_bytes, NULL};
    loop.slots = (pool_slot *)calloc((size_t)slots, sizeof(pool_slot));
    if (!loop.slots) return CCONV_ERR_NO_MEMORY;
    const cconv_parallel_loop parallel = {items,        threads,           run_pool_item,
                                          &loop,        run->poll,         run->poll_context,
                                          run->handoff, run->poll_context, run->handoff_seconds};
    const cconv_loop_result result = cconv_parallel_run(&parallel);
    cconv_status status = CCONV_OK;
    for (int t = 0; t < slots; t++) {
        if (status == CCONV_OK && loop.slots[t].status != CCONV_OK) status = loop.slots[t].status;
        cconv_aligned_free(loop.slots[t].scratch);
    }
    free(loop.slots);
    if (result == CCONV_LOOP_POLL_STOPPED) return CCONV_ERR_INTERRUPTED;
    if (result == CCONV_LOOP_ITEM_FAILED && status == CCONV_OK) return CCONV_ERR_NO_MEMORY;
    return status;
}
