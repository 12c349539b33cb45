/*
 * The plan of one Winograd conv2d call (3x3 kernels, stride 1, dilation 1): tile grid,
 * segments, passes over output channels, buffer sizes and the work split.  Type-independent;
 * winograd_driver_template.h runs it.
 *
 * The output of each image is cut into m x m tiles (m = 2 or 4), tiles_h x tiles_w of them
 * (the last row and column of tiles may reach past the output: those outputs are computed and
 * dropped).  A tile needs an a x a input tile (a = m + 2), and its transform has P = a * a
 * points.  For each point t the multiply stage is a matrix product over the group's channels:
 *   M_t[tile][o] = sum over c < Cg of V_t[tile][c] * U_t[c][o]
 * run by the planar micro-kernels with the tiles as their "output channels" (mr tiles) and the
 * output channels as their "positions" (vectors of o), taps = 1: so small images with many
 * channels (7x7x512: 4 tiles) still fill whole vectors.
 *
 * Work: for each group, for each pass of o_pass output channels,
 *   phase U: U for the pass's filters (shared by the threads), items (lane block of output
 *            channels, block of input channels);
 *   phase F: items (segment, chunk of o_chunk output channels), each fused: the segment's input
 *            tiles packed and transformed into V (kept per thread: the next item of the same
 *            segment reuses it), the P products into M (per thread), and the output transform,
 *            written through the output strides with bias and the output stage.
 * A segment is up to `seg` consecutive tiles in (image, tile row, tile column) order: it runs
 * across tile rows and images, so that the products see many tiles (the GEMM's rows) even when
 * an image has few (7x7 outputs are 4 or 16 tiles), and each U panel loaded is used by them all.  Passes exist only to
 * keep U within the temporary memory cap (max(8 MB, a quarter of the output)); so do the
 * segment length and, with many threads, the thread count.  None of these choices changes the
 * arithmetic of any output: each is computed by the same transforms and the same micro-kernel sum
 * (bias-free, channels ascending) whatever the split, so results are bitwise identical at any
 * thread count.
 */
#ifndef CCONV_WINOGRAD_PLAN_H
#define CCONV_WINOGRAD_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "cconv.h"
#include "conv/conv2d_plan.h"

typedef struct cconv_winograd_plan {
    /* Sizes, input strides and reading rules, output layout and output stage (only the fields
     * cconv_conv2d_plan_basics fills). */
    cconv_conv2d_plan base;
    int64_t m, a, points;          /* output tile, input tile, transform points a * a */
    int64_t lanes;                 /* the transforms' lane block (channels at once) */
    int64_t cg, og;                /* input / output channels per group */
    int64_t cg_pad;                /* V's tile stride: cg rounded up to lanes */
    int64_t tiles_h, tiles_w;      /* tile grid of one image */
    int64_t tiles;                 /* batch * tiles_h * tiles_w */
    int64_t seg;                   /* tiles per segment (the last may be shorter) */
    int64_t segments;              /* ceil(tiles / seg) */
    int64_t run_max;               /* the most tiles of one tile row in a segment */
    int64_t cols;                  /* packed input columns of the longest run: m * run_max + 2 */
    int64_t o_pass, o_passes;      /* output channels per pass, passes per group */
    int64_t u_stride;              /* U's row length: o_pass rounded up to lanes */
    int64_t o_chunk, o_chunks;     /* output channels per phase-F item, items per segment */
    int64_t mc_stride;             /* M's row length: o_chunk rounded up to lanes */
    int64_t u_cblock, u_cblocks;   /* phase U: input channels per item, items per lane block */
    int64_t mr, nr, vl;            /* micro-kernel tile: mr tiles x nr output channels */
    int threads;
    size_t u_bytes;                /* the shared U of one pass */
    size_t v_bytes, m_bytes, pack_bytes, row_bytes; /* per participant */
    size_t workspace_bytes;        /* every buffer of the call, all participants together */
} cconv_winograd_plan;

/* Whether the Winograd path computes these parameters with tile m (2 or 4): a 3x3 kernel,
 * stride 1 and dilation 1 on both axes (any padding, border mode, groups, input dtype that
 * conv2d takes, layout).  Returns CCONV_OK or CCONV_ERR_INVALID_ARGUMENT (after
 * cconv_conv2d_check's own status). */
cconv_status cconv_winograd_supported(const cconv_conv2d_params *p, int m);

/* Fills plan for params that cconv_winograd_supported accepts and that have something to
 * compute (no empty size), for elements of elem_size bytes, lanes of the transforms, and the
 * micro-kernel tile (mr_max tiles x nv_max vectors of vl output channels).  u_given: the caller
 * holds U for every output channel (cconv_conv2d_winograd_weights_*): one pass per group, U's
 * row length og rounded up to lanes, and no U among the temporary buffers.
 * CCONV_ERR_NO_MEMORY when even the smallest split does not fit the memory cap. */
cconv_status cconv_winograd_plan_init(cconv_winograd_plan *plan, const cconv_conv2d_params *p,
                                      int m, size_t elem_size, int64_t lanes, int64_t mr_max,
                                      int64_t nv_max, int64_t vl, int u_given);

/* The memory cap every conv2d path keeps its temporary buffers within, in bytes:
 * max(8 MB, a quarter of the output's bytes). */
size_t cconv_winograd_memory_cap(const cconv_conv2d_params *p, size_t elem_size);

#endif
