/*
 * The plan of one conv2d call: every derived size, the band/tile geometry and the work split.
 * Type-independent; the driver template instantiates the loops for each element type.
 *
 * How the driver turns any padding, stride and dilation into one simple micro-kernel:
 * the output rows are cut into bands of `band_rows` rows.  For each band, each input channel of the
 * group is copied into a zero-padded "plane" made of polyphase sub-images, one for each row phase
 * ph and column phase pw that some kernel tap reads (at most min(stride_h, kH) x min(stride_w, kW)
 * of the stride_h x stride_w phases, so a stride far larger than the kernel costs no memory):
 * sub-image (ph, pw) row i, column q holds padded input pixel
 *   ((band_start + i) * stride_h + ph,  q * stride_w + pw).
 * Output position (y, x) of the band, flattened as j = y * sub_width + x, then reads tap (kh, kw)
 * at a constant offset from j:
 *   sub-image ((kh*dh) % sh, (kw*dw) % sw), row y + (kh*dh) / sh, column x + (kw*dw) / sw.
 * So every tap is one offset, every tile of NR consecutive j is a unit-stride vector, and padding
 * never reaches an inner loop.  Columns x >= out_width of the flattened rows are computed and thrown
 * away (the cost is (sub_width - out_width) / sub_width, a few percent for typical layers).
 */
#ifndef CCONV_CONV2D_PLAN_H
#define CCONV_CONV2D_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "cconv.h"
#include "runtime/aligned_alloc.h"

typedef struct cconv_conv2d_plan {
    int64_t batch, in_channels, in_height, in_width, out_channels, groups;
    int64_t group_in_channels, group_out_channels; /* Cg = C/groups, Og = O/groups */
    int64_t out_height, out_width;
    int64_t kernel_width;
    int64_t stride_h, stride_w, pad_top, pad_left;
    /* Element strides of the input along N, C, H, W, and whether they are the C-contiguous ones
     * (which the paths that read the input in place need). */
    int64_t in_stride_n, in_stride_c, in_stride_h, in_stride_w;
    int in_contiguous;
    /* How the input is read: its element type (cconv_dtype: SAME reads it as the computation's
     * type) and the border mode of its padding, with the constant of CCONV_PAD_ZEROS. */
    cconv_dtype input_dtype;
    cconv_padding_mode padding_mode;
    double padding_value;
    /* Element strides of the output along N, O, OH, OW, and whether its rows are contiguous
     * (stride OW between rows, 1 between columns): only then may tiles store straight into it,
     * with their rounded-up rows spilling into the next row; otherwise every tile goes through
     * the tile buffer. */
    int64_t out_stride_n, out_stride_c, out_stride_h, out_stride_w;
    int out_rows_contiguous;
    /* The output stage (see cconv_conv2d_params): applied to each tile's outputs right after they
     * are written, when `staged`: out = clamp(leaky(out + residual)). */
    int staged;
    const void *residual;
    double slope, lo, hi;
    /* The row and column phases some tap reads, ascending; sub-image (row_phases[a],
     * col_phases[b]) is number a * col_phase_count + b of a packed plane. */
    int64_t row_phase_count, col_phase_count;
    int64_t *row_phases, *col_phases;
    int64_t taps;          /* kH * kW */
    int64_t sub_width;     /* Wq = ceil(padded width / stride_w) */
    int64_t band_rows;     /* output rows per band */
    int64_t bands;
    int64_t sub_rows;      /* rows of each sub-image: band_rows + (kH-1)*dh / sh */
    int64_t sub_size;      /* sub_rows * sub_width */
    int64_t plane_stride;  /* elements per packed channel, slack for the last tile included */
    int64_t mr_max, nr;    /* micro-kernel tile: mr_max output channels x nr positions */
    int64_t vl;            /* vector length: the last tile of a row/band is rounded up to it only */
    int row_tiles;         /* tiles follow output rows and store straight into the output */
    int in_place;          /* stride 1, no padding, contiguous input: tiles read the input itself,
                              unpacked */
    int64_t max_offset;    /* the largest tap offset */
    int weights_outer;     /* per item: loop over output-channel blocks outside the tiles */
    int rows;              /* single filter, stride 1, dilation 1 along the rows: the multi-row
                              kernels (mr_max is then their row count) */
    int dw_k;              /* depthwise k x k stride 1 or 2 read in place (k, else 0): whole
                              output planes (or row ranges of them) straight from the input, no
                              band, no tile (see cconv_conv2d_plan_init_planes) */
    int64_t dw_units_per_image; /* groups of consecutive output planes per image, for dw_k */
    int64_t out_chunk;     /* output channels per work item, a multiple of mr_max */
    int64_t out_chunks;    /* per group */
    int64_t items;         /* batch * groups * bands * out_chunks */
    int threads;
    size_t band_bytes;     /* per thread: the packed band */
    size_t tile_bytes;     /* per thread: one mr_max x nr output tile */
    size_t workspace_bytes; /* every temporary buffer of the call, all threads together */
    ptrdiff_t *tap_offsets; /* taps entries, from the tile start (in the phase lists' block) */
} cconv_conv2d_plan;

/* Fills plan for params (already checked) and a micro-kernel tile of mr_max x nr elements of
 * elem_size bytes (nr a multiple of vl).  Allocates tap_offsets; release with
 * cconv_conv2d_plan_free. */
cconv_status cconv_conv2d_plan_init(cconv_conv2d_plan *plan, const cconv_conv2d_params *p,
                                    size_t elem_size, int64_t mr_max, int64_t nr, int64_t vl);
/* The plan of a per-plane kernel (one that reads the input plane in place and writes one
 * output plane): work items are (image, output channel, row range), items = batch * out_channels
 * * bands, with band_rows output rows each; nothing is packed, so no band, tile or tap offsets
 * (workspace_bytes = 0).  The row ranges only exist to keep every thread busy when there are
 * few planes; the outputs do not depend on them. */
cconv_status cconv_conv2d_plan_init_planes(cconv_conv2d_plan *plan, const cconv_conv2d_params *p,
                                           int64_t planes_per_item);
void cconv_conv2d_plan_free(cconv_conv2d_plan *plan);
/* Fills the sizes, the input's strides and reading rules, the output layout and the output stage
 * of plan (part of every plan init), zeroing the rest. */
void cconv_conv2d_plan_basics(cconv_conv2d_plan *plan, const cconv_conv2d_params *p);
/* The distinct values (k * dilation) % stride for k < kernel, ascending, into phases (room for
 * `kernel` values); returns how many. */
int64_t cconv_conv2d_used_phases(int64_t kernel, int64_t dilation, int64_t stride,
                                 int64_t *phases);
/* Index of `phase` in an ascending list that holds it. */
int64_t cconv_conv2d_phase_slot(const int64_t *phases, int64_t count, int64_t phase);
/* How many threads the work split provides for (at least two with a handoff). */
int64_t cconv_conv2d_split_threads(const cconv_conv2d_params *p, int threads);
/* Fills only the output layout and the output stage of plan (part of both inits above). */
void cconv_conv2d_plan_layout(cconv_conv2d_plan *plan, const cconv_conv2d_params *p);
/* 1 when every input channel is a C-contiguous H x W plane (rows of stride W, columns of stride
 * 1), wherever the channels themselves lie: what kernels that read whole planes in place need. */
int cconv_conv2d_input_planes_contiguous(const cconv_conv2d_params *p);

#endif
