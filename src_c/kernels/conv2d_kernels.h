/*
 * The contract between the portable driver and the per-instruction-set micro-kernels.
 * Internal to the C core: not part of the public header.
 *
 * A conv2d micro-kernel computes a tile of `mr` output channels x NR consecutive output positions
 * of a packed input band.  The driver has already folded padding, stride and dilation into the
 * packing and into one offset per kernel tap (see conv2d_driver_template.h), so the kernel is the
 * same for every configuration:
 *
 *   for m < mr, v < NR:
 *     output[m*output_stride + v] = bias[m] (or 0 when bias is NULL)
 *         + sum over c < channels, t < taps of
 *           weights[m*weight_stride + c*taps + t] * input[c*channel_stride + tap_offsets[t] + v]
 *
 * Summation order per output is fixed (bias, then channels ascending, then taps ascending), so
 * results do not depend on how the driver splits the work between threads.
 * Every input position the kernel touches lies inside the band buffer; positions that do not
 * belong to a valid output hold finite values and their results are discarded by the driver.
 */
#ifndef CCONV_CONV2D_KERNELS_H
#define CCONV_CONV2D_KERNELS_H

#include <stddef.h>

#if defined(_MSC_VER) && !defined(__clang__)
#define CCONV_RESTRICT __restrict
#else
#define CCONV_RESTRICT restrict
#endif

/* The largest tile any micro-kernel computes: output channels, and vectors of positions. */
#define CCONV_MAX_MR 8
#define CCONV_MAX_NV 8

typedef void (*cconv_f32_conv2d_ukernel)(size_t channels, size_t taps,
                                         const float *input, size_t channel_stride,
                                         const ptrdiff_t *tap_offsets,
                                         const float *weights, size_t weight_stride,
                                         const float *bias, float *output, size_t output_stride);

typedef void (*cconv_f64_conv2d_ukernel)(size_t channels, size_t taps,
                                         const double *input, size_t channel_stride,
                                         const ptrdiff_t *tap_offsets,
                                         const double *weights, size_t weight_stride,
                                         const double *bias, double *output,
                                         size_t output_stride);

/* Single-filter stride-1 kernels over several output rows (dilation 1 along the rows), the shape
 * of depthwise layers and image filters.  They compute R output rows x nv*vl positions:
 *   output[r*output_row_stride + v] = bias[0] (or 0)
 *       + sum over kh < kernel_height, kw < kernel_width (in that order) of
 *         weights[kh*kernel_width + kw] * input[(r + kh)*row_stride + col_offsets[kw] + v]
 * Each input row vector is loaded once and used by every output row it reaches (up to
 * kernel_height), where the one-row kernel loads it for each.  The sum order is the general
 * kernel's (taps ascending), so both give bitwise the same outputs. */
#define CCONV_ROWS_R 4

typedef void (*cconv_f32_rows_ukernel)(size_t kernel_height, size_t kernel_width,
                                       const float *input, size_t row_stride,
                                       const ptrdiff_t *col_offsets, const float *weights,
                                       const float *bias, float *output,
                                       size_t output_row_stride);
typedef void (*cconv_f64_rows_ukernel)(size_t kernel_height, size_t kernel_width,
                                       const double *input, size_t row_stride,
                                       const ptrdiff_t *col_offsets, const double *weights,
                                       const double *bias, double *output,
                                       size_t output_row_stride);

/* Packing helper for stride 2: even[k] = src[2k], odd[k] = src[2k+1] for k < n.  Optional
 * (NULL: the driver's portable loop). */
typedef void (*cconv_f32_deinterleave2)(const float *src, size_t n, float *even, float *odd);
typedef void (*cconv_f64_deinterleave2)(const double *src, size_t n, double *even, double *odd);

/* Depthwise k x k kernels of stride s = 1 or 2 that read the input in place, k = 3, 5 or 7 (one
 * input and one output channel per group, dilation 1, padding at most k - 1 on every side):
 * `planes` (1 or 2) output planes of the same
 * geometry, rows [row_begin, row_end), every column, each read straight from its unpadded input
 * plane (no packing):
 *   output[q][y*out_width + x] = bias[q][0] (or 0 when bias is NULL)
 *       + sum over kh < k, kw < k (in that order) of
 *         weights[q][kh*k + kw] * in_q(s*y - pad_top + kh, s*x - pad_left + kw)
 * where in_q(h, w) is input[q][h*in_width + w] inside the plane and 0 outside (padding).  Only
 * the outputs' rows [row_begin, row_end) are written, and no input outside the planes is read.
 * Two planes at once let a kernel keep more independent sums in flight; the results are the
 * same as one plane at a time. */
typedef void (*cconv_f32_dw_inplace_ukernel)(size_t planes, const float *const *input,
                                             size_t in_height, size_t in_width, size_t pad_top,
                                             size_t pad_left, const float *const *weights,
                                             const float *const *bias, float *const *output,
                                             size_t out_width, size_t row_begin,
                                             size_t row_end);
typedef void (*cconv_f64_dw_inplace_ukernel)(size_t planes, const double *const *input,
                                             size_t in_height, size_t in_width, size_t pad_top,
                                             size_t pad_left, const double *const *weights,
                                             const double *const *bias, double *const *output,
                                             size_t out_width, size_t row_begin,
                                             size_t row_end);
/* The most planes one call of such a kernel takes. */
#define CCONV_DW_INPLACE_MAX_PLANES 2
/* The kernels a set may have: [s - 1][(k - 3) / 2] for s = 1, 2 and k = 3, 5, 7. */
#define CCONV_DW_INPLACE_SIZES 3

/* The output stage, kernels/epilogue_template.h compiled with the set's flags:
 *   out[i] = clamp(leaky(src[i] + (residual ? residual[i] : 0)), lo, hi),
 *   leaky(x) = x < 0 ? x * slope : x.
 * out may be src (in place); residual does not overlap either. */
typedef void (*cconv_f32_epilogue)(float *out, const float *src, const float *residual, size_t n,
                                   float slope, float lo, float hi);
typedef void (*cconv_f64_epilogue)(double *out, const double *src, const double *residual,
                                   size_t n, double slope, double lo, double hi);

/* Channels-last kernels (inputs and outputs whose channels are contiguous: NHWC), cl_mr output
 * positions x nv vectors of vl consecutive output channels (1 <= nv <= cl_nv_max).  Position m
 * reads the pixel at input + pos_offsets[m] (plus tap_offsets[t] for tap t) and writes its nv*vl
 * channels at output + out_offsets[m].  Dense (every output channel sums `channels` input
 * channels):
 *   output[out_offsets[m] + k] = bias[k] (or 0)
 *       + sum over t < taps, c < channels (in that order) of
 *         weights[(t*channels + c)*nv*vl + k] * input[pos_offsets[m] + tap_offsets[t] + c]
 * Depthwise (output channel k reads input channel k):
 *   output[out_offsets[m] + k] = bias[k] (or 0)
 *       + sum over t < taps of weights[t*nv*vl + k] * input[pos_offsets[m] + tap_offsets[t] + k]
 * for k < nv*vl; bias, when given, has nv*vl entries.  A depthwise sum is the planar kernels'
 * (bitwise the same outputs); a dense one visits the taps outside the channels, where the
 * planar kernels do the opposite, so the two layouts round differently. */
#define CCONV_MAX_CL_NV 4
/* The most positions a channels-last kernel computes. */
#define CCONV_MAX_CL_MR 8

typedef void (*cconv_f32_cl_ukernel)(size_t channels, size_t taps, const float *input,
                                     const ptrdiff_t *pos_offsets, const ptrdiff_t *tap_offsets,
                                     const float *weights, const float *bias, float *output,
                                     const ptrdiff_t *out_offsets);
typedef void (*cconv_f64_cl_ukernel)(size_t channels, size_t taps, const double *input,
                                     const ptrdiff_t *pos_offsets, const ptrdiff_t *tap_offsets,
                                     const double *weights, const double *bias, double *output,
                                     const ptrdiff_t *out_offsets);
typedef void (*cconv_f32_dwc_ukernel)(size_t taps, const float *input,
                                      const ptrdiff_t *pos_offsets, const ptrdiff_t *tap_offsets,
                                      const float *weights, const float *bias, float *output,
                                      const ptrdiff_t *out_offsets);
typedef void (*cconv_f64_dwc_ukernel)(size_t taps, const double *input,
                                      const ptrdiff_t *pos_offsets, const ptrdiff_t *tap_offsets,
                                      const double *weights, const double *bias, double *output,
                                      const ptrdiff_t *out_offsets);

/* Depthwise channels-last kernels for 3 kernel columns (dilation 1) at column stride 1 or 2:
 * cl_mr positions along one row, position m's kernel row kh at
 * input + row_offsets[kh] + m * sw * col_stride:
 *   output[out_offsets[m] + k] = bias[k] (or 0)
 *       + sum over kh < rows, kw < 3 (in that order) of
 *         weights[(kh*3 + kw)*nv*vl + k] * input[row_offsets[kh] + (m*sw + kw)*col_stride + k]
 * The general depthwise kernel's sums, with each input column loaded once per kernel row. */
typedef void (*cconv_f32_dwc3_ukernel)(size_t rows, const float *input, ptrdiff_t col_stride,
                                       const ptrdiff_t *row_offsets, const float *weights,
                                       const float *bias, float *output,
                                       const ptrdiff_t *out_offsets);
typedef void (*cconv_f64_dwc3_ukernel)(size_t rows, const double *input, ptrdiff_t col_stride,
                                       const ptrdiff_t *row_offsets, const double *weights,
                                       const double *bias, double *output,
                                       const ptrdiff_t *out_offsets);

/* Winograd F(m x m, 3x3) transforms (kernels/winograd_transforms_template.h, m = 2 or 4), on
 * blocks of CCONV_WINOGRAD_LANES_* channels (one 64-byte line); the layouts are described there.
 *   input:  an (m+2) x (m+2) tile of packed input, element (r, k) of lane l at
 *           src[r*row_stride + k*col_stride + l], into dst[point*point_stride + l];
 *   weight: the 3x3 kernels g[l*lane_stride + kh*3 + kw] of the first `count` lanes (zeros for
 *           the rest) into dst[point*point_stride + l];
 *   output: the products src[point*point_stride + l] into y[(r*m + s)*lanes + l], plus bias[l]
 *           (when not NULL).
 * input and weight add (v - v) of every value written into chk[l] (NaN once one is not
 * finite). */
#define CCONV_WINOGRAD_LANES_F32 16
#define CCONV_WINOGRAD_LANES_F64 8
typedef void (*cconv_f32_winograd_input)(const float *src, ptrdiff_t row_stride,
                                         ptrdiff_t col_stride, float *dst,
                                         ptrdiff_t point_stride, float *chk);
typedef void (*cconv_f64_winograd_input)(const double *src, ptrdiff_t row_stride,
                                         ptrdiff_t col_stride, double *dst,
                                         ptrdiff_t point_stride, double *chk);
typedef void (*cconv_f32_winograd_weight)(const float *g, ptrdiff_t lane_stride, int count,
                                          float *dst, ptrdiff_t point_stride, float *chk);
typedef void (*cconv_f64_winograd_weight)(const double *g, ptrdiff_t lane_stride, int count,
                                          double *dst, ptrdiff_t point_stride, double *chk);
typedef void (*cconv_f32_winograd_output)(const float *src, ptrdiff_t point_stride,
                                          const float *bias, float *y);
typedef void (*cconv_f64_winograd_output)(const double *src, ptrdiff_t point_stride,
                                          const double *bias, double *y);

/* One instruction set's kernels, per element type.  ukernels[mr-1][nv-1] computes mr output
 * channels x nv*vl consecutive positions.  It exists for every 1 <= mr <= mr_max with
 * 1 <= nv <= nv_max (the main tile is mr_max x nv_max*vl; narrower ones finish a band without
 * computing a mostly wasted full tile), and for mr = 1 up to nv = wide_nv: the single-row tile of
 * groups with one filter (depthwise, single-channel images), where a tall tile has nothing to
 * reuse the input for and a wider one amortises the call and tap overheads instead. */
typedef struct cconv_kernel_set {
    const char *name;
    int (*cpu_supports)(void);
    size_t f32_mr_max, f32_vl, f32_nv_max, f32_wide_nv;
    cconv_f32_conv2d_ukernel f32_ukernels[CCONV_MAX_MR][CCONV_MAX_NV];
    size_t f64_mr_max, f64_vl, f64_nv_max, f64_wide_nv;
    cconv_f64_conv2d_ukernel f64_ukernels[CCONV_MAX_MR][CCONV_MAX_NV];
    /* rows[R-1][nv-1] for R <= CCONV_ROWS_R, nv <= rows_nv; rows_nv = 0: none in this set. */
    size_t f32_rows_nv;
    cconv_f32_rows_ukernel f32_rows[CCONV_ROWS_R][CCONV_MAX_NV];
    size_t f64_rows_nv;
    cconv_f64_rows_ukernel f64_rows[CCONV_ROWS_R][CCONV_MAX_NV];
    cconv_f32_deinterleave2 f32_deinterleave2;
    cconv_f64_deinterleave2 f64_deinterleave2;
    /* Optional, per kernel size (NULL: the general path handles these layers). */
    cconv_f32_dw_inplace_ukernel f32_dw_inplace[2][CCONV_DW_INPLACE_SIZES];
    cconv_f64_dw_inplace_ukernel f64_dw_inplace[2][CCONV_DW_INPLACE_SIZES];
    /* Required. */
    cconv_f32_epilogue f32_epilogue;
    cconv_f64_epilogue f64_epilogue;
    /* Channels-last kernels (required): cl_mr positions, [nv-1] for nv <= cl_nv_max; the
     * vector length is the planar kernels' vl. */
    size_t f32_cl_mr, f32_cl_nv_max;
    cconv_f32_cl_ukernel f32_cl[CCONV_MAX_CL_NV];
    cconv_f32_dwc_ukernel f32_dwc[CCONV_MAX_CL_NV];
    size_t f64_cl_mr, f64_cl_nv_max;
    cconv_f64_cl_ukernel f64_cl[CCONV_MAX_CL_NV];
    cconv_f64_dwc_ukernel f64_dwc[CCONV_MAX_CL_NV];
    /* The 3-column depthwise kernels (required): [sw-1][nv-1] for nv <= dwc3_nv_max, cl_mr
     * positions. */
    size_t f32_dwc3_nv_max;
    cconv_f32_dwc3_ukernel f32_dwc3[2][CCONV_MAX_CL_NV];
    size_t f64_dwc3_nv_max;
    cconv_f64_dwc3_ukernel f64_dwc3[2][CCONV_MAX_CL_NV];
    /* The Winograd transforms (required): [0] for F(2x2, 3x3), [1] for F(4x4, 3x3). */
    cconv_f32_winograd_input f32_winograd_input[2];
    cconv_f32_winograd_weight f32_winograd_weight[2];
    cconv_f32_winograd_output f32_winograd_output[2];
    cconv_f64_winograd_input f64_winograd_input[2];
    cconv_f64_winograd_weight f64_winograd_weight[2];
    cconv_f64_winograd_output f64_winograd_output[2];
} cconv_kernel_set;

/* The table built by dispatch.c from kernels/kernel_list.h; index 0 is generic. */
const cconv_kernel_set *cconv_kernel_set_at(int index);

#endif /* CCONV_CONV2D_KERNELS_H */
