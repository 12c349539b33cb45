/*
 * The plan of a channels-last conv2d call: input and output whose channels are contiguous (NHWC
 * arrays seen through their axes), computed by the channels-last kernels (conv2d_kernels.h),
 * which vectorise over output channels instead of positions.
 *
 * Every output position (n, y, x) reads pixel (y*sh + kh*dh - pad_top, x*sw + kw*dw - pad_left)
 * for tap (kh, kw).  Where the input can be read as it is (the computation's type, channel
 * stride 1), a position's pixel is an address in it and a tap an offset from there, and only
 * the tiles that reach into the padding gather their taps' pixels into a small buffer; otherwise
 * each band of output rows gets its input rows packed channels-last, padded by the border rule,
 * converted to the computation's type, and (for depthwise layers with a channel multiplier)
 * each channel repeated once per filter that reads it:
 *   sub-image a (row phase row_phases[a]) row i, column q, channel k holds padded pixel
 *   ((band_start + i) * sh + row_phases[a], q) channel k,
 * so that tap (kh, kw) of position (y, x) is at offset
 *   a(kh)*sub_size + ((kh*dh / sh + y) * packed_width + x*sw + kw*dw) * packed_channels.
 * Output channels go in blocks of nv vectors: the weights are repacked once per call, block
 * after block, as the kernels read them, zero beyond the last filter.
 */
#ifndef CCONV_CONV2D_CL_PLAN_H
#define CCONV_CONV2D_CL_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "cconv.h"
#include "conv/conv2d_plan.h"

typedef struct cconv_conv2d_cl_plan {
    /* Sizes, input strides and reading rules, output layout and stage (no band fields). */
    cconv_conv2d_plan common;
    int64_t kernel_height, kernel_width, dilation_h, dilation_w;
    /* Depthwise (one input channel per group, several groups): output channel o reads packed
     * channel o, the input channel o / multiplier repeated; the dwc kernels.  Otherwise dense:
     * each group's filters read the group's input channels; the cl kernels. */
    int depthwise;
    int64_t multiplier;
    /* Depthwise, 3 kernel columns (dilation 1), column stride 1 or 2, read in place: inner
     * tiles run the dwc3 kernels (positions along a row). */
    int dwc3;
    int64_t taps;
    int64_t vl, mr, nv;         /* kernel tile: mr positions x nv vectors of vl channels */
    int64_t block;              /* nv * vl output channels per block */
    int64_t block_groups;       /* groups the blocks are counted in: groups, or 1 (depthwise) */
    int64_t group_out;          /* output channels per block group: O/groups, or O */
    int64_t padded_out;         /* group_out rounded up to vl: a block group's packed width */
    int64_t blocks;             /* per block group */
    int64_t reduce;             /* channels each output sums: C/groups (1 for depthwise) */
    /* Input: read in place, or packed per band.  In place with padding, the tiles whose
     * positions all have every tap inside the input (output rows [inner_y0, inner_y1), columns
     * [inner_x0, inner_x1)) read it directly; the others gather their taps' pixels, border
     * rule applied, into a small per-thread buffer: position m's tap t at
     * (m * taps + t) * gather_stride, gather_taps[t] = t * gather_stride. */
    int in_place, gather;
    int64_t gather_stride;
    int64_t inner_y0, inner_y1, inner_x0, inner_x1;
    ptrdiff_t *gather_taps;
    size_t gather_elems;        /* per thread, slack included (0 without gather) */
    int64_t packed_channels, packed_width;
    int64_t row_phase_count;
    int64_t *row_phases;
    int64_t sub_rows, sub_size; /* elements of one sub-image */
    int64_t band_rows, bands;
    ptrdiff_t *tap_offsets;     /* taps entries (in the phase list's block) */
    /* Work: items of (image, band, block group, chunk of chunk_blocks blocks), in that order of
     * significance, so consecutive items share their packed band. */
    int64_t chunk_blocks, chunks, items;
    int threads;
    size_t weight_elems;        /* packed weights: block_groups * padded_out * reduce * taps */
    size_t bias_elems;          /* packed bias: block_groups * padded_out */
    size_t band_elems;          /* per thread, slack included (0 in place) */
    size_t tile_elems;          /* per thread: mr * block */
    size_t workspace_bytes;
} cconv_conv2d_cl_plan;

/* Whether a call with these (checked) parameters runs the channels-last kernels of a set with
 * vector length vl: input or output channels-last, and output channels enough to fill vectors. */
int cconv_conv2d_cl_suits(const cconv_conv2d_params *p, int64_t vl);

/* Fills plan for a kernel tile of mr positions x up to nv_max vectors of vl elements of
 * elem_size bytes (dwc3_nv_max: the 3-column depthwise kernels' limit, 0 for none).  Allocates
 * the tap offsets; release with cconv_conv2d_cl_plan_free. */
cconv_status cconv_conv2d_cl_plan_init(cconv_conv2d_cl_plan *plan, const cconv_conv2d_params *p,
                                       size_t elem_size, int64_t mr, int64_t nv_max, int64_t vl,
                                       int64_t dwc3_nv_max);
void cconv_conv2d_cl_plan_free(cconv_conv2d_cl_plan *plan);

#endif
