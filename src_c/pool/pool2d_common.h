/*
 * What every pooling entry point shares: an (N, C, rows, cols) array's strides and layout,
 * the window arithmetic, and one parallel loop over work items with per-thread scratch.
 * Internal to the C core.
 */
#ifndef CCONV_POOL2D_COMMON_H
#define CCONV_POOL2D_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "cconv.h"
#include "runtime/checked_math.h"

#if defined(_MSC_VER) && !defined(__clang__)
#define CCONV_POOL_RESTRICT __restrict
#else
#define CCONV_POOL_RESTRICT restrict
#endif

/* Element strides of the array a call reads: the given ones, or those of a C-contiguous
 * (N, C, rows, cols) array. */
typedef struct cconv_pool_layout {
    int64_t n, c, h, w;
} cconv_pool_layout;

static inline cconv_pool_layout cconv_pool_layout_of(const int64_t *strides, int64_t channels,
                                                     int64_t rows, int64_t cols)
{
    cconv_pool_layout l;
    if (strides) {
        l.n = strides[0];
        l.c = strides[1];
        l.h = strides[2];
        l.w = strides[3];
    } else { /* the caller's check made sure these products fit */
        l.w = 1;
        l.h = cols;
        l.c = rows * cols;
        l.n = channels * rows * cols;
    }
    return l;
}

/* Whether the channels-last loops run for an array of this layout: each pixel's channels a
 * contiguous vector (an (N, H, W, C) array seen through its axes), and enough of them.  Fewer
 * channels make vectors too short to pay for a loop per pixel: the planar loops then read the
 * array through its strides (measured on x86-64: 1.1x to 6x faster below 12 channels, slower
 * from 12 on). */
#define CCONV_POOL_CL_MIN_CHANNELS 12
static inline int cconv_pool_channels_last(cconv_pool_layout l, int64_t channels)
{
    return l.c == 1 && channels >= CCONV_POOL_CL_MIN_CHANNELS;
}

/* The channels-last loops (pool2d_cl_window_template.h) sum blocks of 64 bytes of channels (four
 * SSE or two AVX vectors, which stay in registers across a window's taps), and take maxima over
 * runs of up to CCONV_POOL_CL_RUN channels (in L1 while a window's taps pass over them). */
#define CCONV_POOL_CL_BLOCK(T) (64 / (int)sizeof(T))
#define CCONV_POOL_CL_RUN 256

/* Adaptive windows (PyTorch's start_index / end_index): output i of `out` pools input
 * [floor(i*in/out), ceil((i+1)*in/out)).  The check keeps (out+1)*in inside 64 bits. */
static inline int64_t cconv_adaptive_start(int64_t i, int64_t out, int64_t in)
{
    return (i * in) / out;
}
static inline int64_t cconv_adaptive_end(int64_t i, int64_t out, int64_t in)
{
    return ((i + 1) * in + out - 1) / out;
}

/* The first tap of a window starting at `start` (maybe negative: in the padding) that lies at or
 * after 0, taps being `dilation` apart: PyTorch's first input pixel of the window. */
static inline int64_t cconv_pool_first_tap(int64_t start, int64_t dilation)
{
    return start >= 0 ? start : start + cconv_ceil_div(-start, dilation) * dilation;
}

/* The channels of one work item of the channels-last gradients (which scatter, so that their
 * items are an image's channels rather than bands of rows): at most CCONV_POOL_CL_RUN, and fewer
 * (down to 16) until batch x blocks gives each of run's threads an item; no more, since each item
 * passes over its whole image, and short channel loops cost more per pixel.  Any split gives the
 * same results: each element's sum does not depend on it. */
int64_t cconv_pool_channel_block(const cconv_run_options *run, int64_t batch, int64_t channels);

/* Fails unless run->simd names a path this CPU can run (or is -1). */
cconv_status cconv_pool_check_simd(const cconv_run_options *run);

/* One work item: returns CCONV_OK or the status the call fails with.  `scratch` is this thread's
 * block of the loop's slot_bytes (zeroed when first handed out; NULL when slot_bytes is 0). */
typedef cconv_status (*cconv_pool_item_fn)(void *context, int64_t item, void *scratch);

/* Runs items 0 .. items-1 on the calling thread and run->threads - 1 pool helpers (see
 * runtime/thread_pool.h), with run's poll and handoff.  Returns CCONV_OK, the status of a failed
 * item, CCONV_ERR_NO_MEMORY when scratch could not be allocated, or CCONV_ERR_INTERRUPTED. */
cconv_status cconv_pool_parallel(const cconv_run_options *run, int64_t items, size_t slot_bytes,
                                 cconv_pool_item_fn fn, void *context);

#endif
