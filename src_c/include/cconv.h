/*
 * cconv public C interface: the parameter struct, status codes and entry points.
 *
 * Layout conventions (C-contiguous, except that the input may have any strides: see
 * cconv_conv2d_params.input_strides):
 *   input  (N, C, H, W)
 *   weight (O, C/groups, kH, kW)   -- O filters, each a stack of C/groups kernels
 *   bias   (O,) or NULL
 *   output (N, O, OH, OW)
 * The computation is cross-correlation (no kernel flip), as in every deep-learning library.
 *
 * No entry point prints, exits or aborts: each returns a cconv_status.
 */
#ifndef CCONV_H
#define CCONV_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cconv_status {
    CCONV_OK = 0,
    CCONV_ERR_INVALID_ARGUMENT = 1, /* a size or parameter out of its domain */
    CCONV_ERR_OVERFLOW = 2,         /* a product of sizes does not fit in 64 bits */
    CCONV_ERR_NO_MEMORY = 3,        /* a temporary buffer could not be allocated */
    CCONV_ERR_UNSUPPORTED_SIMD = 4, /* the requested instruction-set path cannot run here */
    CCONV_ERR_INTERRUPTED = 5       /* the poll callback asked to stop; output is incomplete */
} cconv_status;

/* Called by the calling thread between work items, about every 0.1 s and only in calls that last
 * longer (further apart when one call of it takes long); a non-zero return stops the work early
 * with CCONV_ERR_INTERRUPTED (how Python's Ctrl-C reaches a running call). */
typedef int (*cconv_poll_fn)(void *context);

/* How a call runs, the same for every operation. */
typedef struct cconv_run_options {
    int threads;            /* <= 0: cconv_max_threads() */
    int simd;               /* index into the instruction-set table; -1: best usable path */
    cconv_poll_fn poll;     /* optional, NULL for none */
    void *poll_context;     /* passed to poll and handoff */
    /* Optional (NULL for none): called once on the calling thread near the end of a long call,
     * when about handoff_seconds of work remain; the rest goes on on a pool thread meanwhile
     * (even at threads = 1), so a callback that blocks overlaps its wait with the computation.
     * (The Python binding takes the GIL back there when a busy thread holds it.)  It may not
     * be called at all, e.g. in a call cut into a single work item. */
    void (*handoff)(void *context);
    double handoff_seconds;
} cconv_run_options;

/* What a convolution's output stage applies after the residual: y = f(conv + bias + residual). */
typedef enum cconv_activation {
    CCONV_ACTIVATION_NONE = 0,
    CCONV_ACTIVATION_RELU = 1,       /* max(y, 0) */
    CCONV_ACTIVATION_RELU6 = 2,      /* min(max(y, 0), 6) */
    CCONV_ACTIVATION_LEAKY_RELU = 3, /* y < 0 ? alpha * y : y */
    CCONV_ACTIVATION_CLAMP = 4       /* min(max(y, alpha), beta) (hardtanh) */
} cconv_activation;

/* What a convolution sees outside the input (PyTorch's padding modes, plus NumPy's "symmetric"),
 * for a row a b c d:
 *   ZEROS      k k k | a b c d | k k k     (the constant padding_value k, 0 by default)
 *   REFLECT    d c b | a b c d | c b a     (the edge pixel not repeated: OpenCV's REFLECT_101)
 *   REPLICATE  a a a | a b c d | d d d
 *   CIRCULAR   b c d | a b c d | a b c
 *   SYMMETRIC  c b a | a b c d | d c b     (the edge pixel repeated: OpenCV's REFLECT)
 * Padding wider than the input continues the pattern (numpy.pad's rule); the modes other than
 * ZEROS need a non-empty input. */
typedef enum cconv_padding_mode {
    CCONV_PAD_ZEROS = 0,
    CCONV_PAD_REFLECT = 1,
    CCONV_PAD_REPLICATE = 2,
    CCONV_PAD_CIRCULAR = 3,
    CCONV_PAD_SYMMETRIC = 4
} cconv_padding_mode;

/* The element type of an input that differs from the computation's (float for the _f32 entry
 * points, double for _f64): converted exactly as it is packed, block by block, never as a whole
 * copy.  CCONV_DTYPE_SAME: the computation's own type. */
typedef enum cconv_dtype {
    CCONV_DTYPE_SAME = 0,
    CCONV_DTYPE_F32 = 1, /* (for the _f64 entry points) */
    CCONV_DTYPE_U8 = 2,
    CCONV_DTYPE_I8 = 3,
    CCONV_DTYPE_U16 = 4,
    CCONV_DTYPE_I16 = 5
} cconv_dtype;

/* Weights (and bias) packed once, in the layout a kernel path reads them, for calls that repeat
 * one layer (see cconv_conv2d_pack_f32).  Opaque; immutable once made, so any number of calls
 * on any threads may read one at a time. */
typedef struct cconv_conv2d_packed cconv_conv2d_packed;

typedef struct cconv_conv2d_params {
    int64_t batch;          /* N */
    int64_t in_channels;    /* C */
    int64_t in_height;      /* H */
    int64_t in_width;       /* W */
    int64_t out_channels;   /* O */
    int64_t kernel_height;  /* kH */
    int64_t kernel_width;   /* kW */
    int64_t stride_h, stride_w;
    int64_t pad_top, pad_bottom, pad_left, pad_right;
    int64_t dilation_h, dilation_w;
    int64_t groups;
    int64_t out_height;     /* must equal cconv_conv2d_output_size(...) */
    int64_t out_width;
    /* NULL: the input is C-contiguous.  Otherwise its element strides along N, C, H and W (any
     * sign; 0 for a broadcast axis): element (n, c, h, w) is input[n*s[0] + c*s[1] + h*s[2] +
     * w*s[3]], where `input` points at element (0, 0, 0, 0).  A channels-last input (channel
     * stride 1, as an (N, H, W, C) array seen through its axes) runs the channels-last kernels.
     * The weight is always C-contiguous. */
    const int64_t *input_strides;
    /* NULL: the output is C-contiguous.  Otherwise its element strides along N, O, OH and OW,
     * e.g. those of an (N, OH, OW, O) array, or a strided view into a larger array such as every
     * other row and column of it; elements of the view must not overlap. */
    const int64_t *output_strides;
    /* The input's element type, when it is not the computation's (see cconv_dtype). */
    cconv_dtype input_dtype;
    /* The border (see cconv_padding_mode) and, for CCONV_PAD_ZEROS, its constant value. */
    cconv_padding_mode padding_mode;
    double padding_value;
    /* The output stage: out = activation(conv + bias + residual).  residual: NULL, or an array
     * of the output's shape and element type laid out as the output is (the same strides),
     * overlapping neither the output nor the other operands. */
    const void *residual;
    cconv_activation activation;
    double activation_alpha, activation_beta;
    /* NULL: a call that repacks the weights (the channels-last kernels) does so itself, once per
     * call.  Otherwise weights packed by cconv_conv2d_pack_f32/_f64 of the same element type,
     * from parameters with the same weight shape, groups, column stride and dilation and the
     * same instruction-set path (the batch, spatial size, row stride and dilation, padding,
     * border, layout strides and output stage may differ); with bias packed exactly when the
     * call has one.  The call then reads them instead of repacking; one whose kernels need a
     * different packing returns CCONV_ERR_INVALID_ARGUMENT.  Calls that read the weights in
     * place (the planar kernels) ignore it: they still need `weight` (and `bias`), always. */
    const cconv_conv2d_packed *packed_weights;
    cconv_run_options run;
} cconv_conv2d_params;

/* floor((in + pad_before + pad_after - dilation*(kernel-1) - 1) / stride) + 1, or -1 when the
 * arguments are out of range, overflow, or the dilated kernel is larger than the padded input. */
int64_t cconv_conv2d_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad_before,
                                 int64_t pad_after, int64_t dilation);

/* Checks every field of params, including that the output size matches and that every array
 * extent fits in 64-bit byte arithmetic. */
cconv_status cconv_conv2d_check(const cconv_conv2d_params *params);

/* The fast path: driver + the selected instruction-set micro-kernels. */
/* input is of the computation's type (float, double), or of params->input_dtype. */
cconv_status cconv_conv2d_f32(const cconv_conv2d_params *params, const void *input,
                              const float *weight, const float *bias, float *output);
cconv_status cconv_conv2d_f64(const cconv_conv2d_params *params, const void *input,
                              const double *weight, const double *bias, double *output);

/* Packs weight (and bias, which may be NULL) as a call with these parameters would repack them
 * per call, into *packed (release with cconv_conv2d_packed_destroy); params->packed_weights is
 * ignored.  Sets *packed to NULL, with CCONV_OK, when such a call packs nothing (it runs the
 * planar kernels, which read the weights in place, or has nothing to compute).  input_dtype,
 * residual and the output stage do not matter; the input and output strides do (they choose
 * the kernels).  The packed weights are a copy: weight and bias may change or go afterwards. */
cconv_status cconv_conv2d_pack_f32(const cconv_conv2d_params *params, const float *weight,
                                   const float *bias, cconv_conv2d_packed **packed);
cconv_status cconv_conv2d_pack_f64(const cconv_conv2d_params *params, const double *weight,
                                   const double *bias, cconv_conv2d_packed **packed);
/* Bytes the packed weights and bias hold (0 for NULL). */
size_t cconv_conv2d_packed_bytes(const cconv_conv2d_packed *packed);
/* Releases packed weights (NULL: nothing). */
void cconv_conv2d_packed_destroy(cconv_conv2d_packed *packed);

/* Sets *bytes to the temporary memory (all threads, every buffer) that cconv_conv2d_f32
 * (elem_size 4) or cconv_conv2d_f64 (elem_size 8) allocates for these parameters. */
cconv_status cconv_conv2d_workspace_bytes(const cconv_conv2d_params *params, size_t elem_size,
                                          size_t *bytes);

/* Which kernels cconv_conv2d_f32 (elem_size 4) or _f64 (8) runs for these parameters, for tests
 * and benchmarks: "channels-last", "channels-last depthwise", "planar", "planar rows",
 * "planar dw<k>x<k>s<s>" (the depthwise kernels that read the input in place: k = 3, 5, 7,
 * s = 1, 2), or "none" (nothing to compute); NULL for invalid parameters. */
const char *cconv_conv2d_kernels_used(const cconv_conv2d_params *params, size_t elem_size);

/* ---- conv2d by Winograd's minimal filtering (3x3 kernels, stride 1, dilation 1) -----------------
 * F(tile x tile, 3x3) with tile 2 or 4: each tile x tile block of outputs from a (tile+2)^2 input
 * tile, with (tile+2)^2 / tile^2 multiply-adds per output and input channel instead of 9 (4 for
 * tile 2, 2.25 for tile 4), at the price of rounding errors a few times larger than the direct
 * path's (still far inside 1e-4 of the sum of |terms| in float32: benchmarks/winograd_accuracy.py
 * measures them).
 * The same parameters and results as cconv_conv2d_f32/_f64 otherwise: any padding, border mode,
 * groups, input dtype, input and output strides, bias, residual and activation; results bitwise
 * identical at any thread count; temporary memory within max(8 MB, a quarter of the output).
 * An input or weight value that is not finite (or a transform that overflows) makes the call
 * compute everything on the direct path instead, since Winograd mixes all pixels of an input
 * tile into each of its outputs (an infinity would turn outputs that never see it into NaN).
 * Empty sizes are the direct path's too. */
/* CCONV_OK when the Winograd path computes these parameters with this tile (a 3x3 kernel,
 * stride 1 and dilation 1 along both axes, tile 2 or 4, and cconv_conv2d_check's rules), else
 * CCONV_ERR_INVALID_ARGUMENT (or the check's status). */
cconv_status cconv_conv2d_winograd_check(const cconv_conv2d_params *params, int tile);
cconv_status cconv_conv2d_winograd_f32(const cconv_conv2d_params *params, int tile,
                                       const void *input, const float *weight, const float *bias,
                                       float *output);
cconv_status cconv_conv2d_winograd_f64(const cconv_conv2d_params *params, int tile,
                                       const void *input, const double *weight,
                                       const double *bias, double *output);
/* Temporary memory (all threads, every buffer) cconv_conv2d_winograd_f32 (elem_size 4) or _f64
 * (8) allocates for these parameters and tile. */
cconv_status cconv_conv2d_winograd_workspace_bytes(const cconv_conv2d_params *params, int tile,
                                                   size_t elem_size, size_t *bytes);
/* Weights transformed once, for repeated calls with the same weights (cconv.Conv2d): U of every
 * group and output channel, groups * (tile+2)^2 * (C/groups) * round_up(O/groups, lanes)
 * elements (cconv_conv2d_winograd_weights_elems; 0 for parameters the path does not compute),
 * made with the transforms of params->simd, so that a call given it computes bitwise what
 * cconv_conv2d_winograd_f32/_f64 computes.  *finite is 0 when a weight or a transformed value is
 * not finite: such a U must not be given to a call (the call without it falls back to the direct
 * path).  Only the weight shape, groups and SIMD path of params matter. */
size_t cconv_conv2d_winograd_weights_elems(const cconv_conv2d_params *params, int tile,
                                           size_t elem_size);
cconv_status cconv_conv2d_winograd_weights_f32(const cconv_conv2d_params *params, int tile,
                                               const float *weight, float *u, int *finite);
cconv_status cconv_conv2d_winograd_weights_f64(const cconv_conv2d_params *params, int tile,
                                               const double *weight, double *u, int *finite);
/* cconv_conv2d_winograd_f32/_f64 with U given (from the call above with the same weights, tile
 * and SIMD path): no weight transform, and no U among the temporary buffers.  weight is still
 * read when an input value that is not finite sends the call to the direct path. */
cconv_status cconv_conv2d_winograd_given_f32(const cconv_conv2d_params *params, int tile,
                                             const void *input, const float *weight,
                                             const float *u, const float *bias, float *output);
cconv_status cconv_conv2d_winograd_given_f64(const cconv_conv2d_params *params, int tile,
                                             const void *input, const double *weight,
                                             const double *u, const double *bias,
                                             double *output);

/* The reference kernels: plain loops straight from the definition, the baseline every faster
 * path is tested against.  Single-threaded; params->threads and params->simd are ignored. */
cconv_status cconv_conv2d_ref_f32(const cconv_conv2d_params *params, const void *input,
                                  const float *weight, const float *bias, float *output);
cconv_status cconv_conv2d_ref_f64(const cconv_conv2d_params *params, const void *input,
                                  const double *weight, const double *bias, double *output);

/* ---- Transposed convolution, which is also conv2d's input gradient ----------------------------
 *   input  (N, C, H, W)            (conv2d's grad_output, for the input gradient)
 *   weight (C, O/groups, kH, kW)   (conv2d's weight, read the other way round)
 *   output (N, O, OH, OW):
 *   output[n, o, y, x] = bias[o] + sum of input[n, c, i, j] * weight[c, o % (O/groups), ky, kx]
 *     over the c of o's group and every (i, j, ky, kx) with
 *     y = i * stride_h - pad_top + ky * dilation_h,  x = j * stride_w - pad_left + kx * dilation_w.
 * The output size is given (any OH, OW >= 0): padding at the far end and PyTorch's
 * output_padding only decide it.  Computed by splitting the output into its stride_h x stride_w
 * phases, each a dense convolution of the input with the kernel taps that reach it (no zeros
 * inserted between input pixels, no column buffer), on conv2d's driver and micro-kernels. */
typedef struct cconv_conv_transpose2d_params {
    int64_t batch, in_channels, in_height, in_width;
    int64_t out_channels, kernel_height, kernel_width;
    int64_t stride_h, stride_w;
    int64_t pad_top, pad_left;
    int64_t dilation_h, dilation_w;
    int64_t groups;
    int64_t out_height, out_width;
    const int64_t *input_strides;  /* as in cconv_conv2d_params; the weight C-contiguous */
    const int64_t *output_strides; /* as in cconv_conv2d_params (NULL: C-contiguous) */
    /* NULL: each call reorders the weight into its phases' kernels (and, for channels-last
     * phases, repacks those).  Otherwise made by cconv_conv_transpose2d_pack_f32/_f64 of the
     * same element type for the same channels, groups, kernel, stride, padding and dilation
     * (any batch and spatial size), with bias exactly when the call has one; another set is
     * CCONV_ERR_INVALID_ARGUMENT.  The call still needs weight and bias. */
    const struct cconv_conv_transpose2d_packed *packed_weights;
    cconv_run_options run;
} cconv_conv_transpose2d_params;

/* A transposed convolution's weights packed once: each stride phase's reversed kernel taps and,
 * where the packing call's phases ran the channels-last kernels, their packings too.  Opaque
 * and immutable, like cconv_conv2d_packed. */
typedef struct cconv_conv_transpose2d_packed cconv_conv_transpose2d_packed;

/* Packs weight (bias may be NULL) as a call with these parameters would per call, into *packed
 * (release with cconv_conv_transpose2d_packed_destroy; NULL with CCONV_OK when there is nothing
 * to pack: no channels).  A copy: weight and bias may change afterwards. */
cconv_status cconv_conv_transpose2d_pack_f32(const cconv_conv_transpose2d_params *params,
                                             const float *weight, const float *bias,
                                             cconv_conv_transpose2d_packed **packed);
cconv_status cconv_conv_transpose2d_pack_f64(const cconv_conv_transpose2d_params *params,
                                             const double *weight, const double *bias,
                                             cconv_conv_transpose2d_packed **packed);
size_t cconv_conv_transpose2d_packed_bytes(const cconv_conv_transpose2d_packed *packed);
void cconv_conv_transpose2d_packed_destroy(cconv_conv_transpose2d_packed *packed);

cconv_status cconv_conv_transpose2d_check(const cconv_conv_transpose2d_params *params);
cconv_status cconv_conv_transpose2d_f32(const cconv_conv_transpose2d_params *params,
                                        const float *input, const float *weight,
                                        const float *bias, float *output);
cconv_status cconv_conv_transpose2d_f64(const cconv_conv_transpose2d_params *params,
                                        const double *input, const double *weight,
                                        const double *bias, double *output);
cconv_status cconv_conv_transpose2d_ref_f32(const cconv_conv_transpose2d_params *params,
                                            const float *input, const float *weight,
                                            const float *bias, float *output);
cconv_status cconv_conv_transpose2d_ref_f64(const cconv_conv_transpose2d_params *params,
                                            const double *input, const double *weight,
                                            const double *bias, double *output);

/* ---- conv2d's weight gradient ------------------------------------------------------------------
 *   input       (N, C, H, W)             (conv2d's input)
 *   grad_output (N, O, OH, OW)           (C-contiguous)
 *   grad_weight (O, C/groups, kH, kW):
 *   grad_weight[o, c, ky, kx] = sum over n, y < OH, x < OW of grad_output[n, o, y, x] *
 *       input[n, g * C/groups + c, y * stride_h - pad_top + ky * dilation_h,
 *                                  x * stride_w - pad_left + kx * dilation_w]
 *   (g = o's group; input pixels outside the image are 0).  For each kernel tap it is a matrix
 *   product over (n, y, x): the micro-kernels run it with grad_output as their weights and a
 *   zero-padded, channels-last copy of a few images of the input as their input (no im2col). */
typedef struct cconv_conv2d_weight_params {
    int64_t batch, in_channels, in_height, in_width;
    int64_t out_channels, kernel_height, kernel_width;
    int64_t stride_h, stride_w;
    int64_t pad_top, pad_left;
    int64_t dilation_h, dilation_w;
    int64_t groups;
    int64_t out_height, out_width; /* grad_output's */
    const int64_t *input_strides;  /* as in cconv_conv2d_params */
    cconv_run_options run;
} cconv_conv2d_weight_params;

cconv_status cconv_conv2d_weight_check(const cconv_conv2d_weight_params *params);
cconv_status cconv_conv2d_weight_f32(const cconv_conv2d_weight_params *params,
                                     const float *input, const float *grad_output,
                                     float *grad_weight);
cconv_status cconv_conv2d_weight_f64(const cconv_conv2d_weight_params *params,
                                     const double *input, const double *grad_output,
                                     double *grad_weight);
cconv_status cconv_conv2d_weight_ref_f32(const cconv_conv2d_weight_params *params,
                                         const float *input, const float *grad_output,
                                         float *grad_weight);
cconv_status cconv_conv2d_weight_ref_f64(const cconv_conv2d_weight_params *params,
                                         const double *input, const double *grad_output,
                                         double *grad_weight);
/* Temporary memory cconv_conv2d_weight_f32 (elem_size 4) or _f64 (8) allocates. */
cconv_status cconv_conv2d_weight_workspace_bytes(const cconv_conv2d_weight_params *params,
                                                 size_t elem_size, size_t *bytes);
/* ---- Pooling ------------------------------------------------------------------------------
 * PyTorch's meaning throughout (torch.nn.functional.max_pool2d, avg_pool2d, adaptive_*_pool2d).
 * Every plane (n, c) is pooled on its own: input (N, C, H, W) -> output (N, C, OH, OW), both with
 * H, W >= 1.  Indices are int64, PyTorch's convention: h*W + w within the input plane.
 * Every array may have any strides, given as in cconv_conv2d_params.input_strides (NULL:
 * C-contiguous): the array read (the input forward, grad_output backward) in input_strides, the
 * array written (the output forward, and max pooling's indices laid out as it; grad_input
 * backward) in output_strides; elements of a written array must not overlap.  When the array
 * read forward, or written backward, is channels-last (channel stride 1, as an (N, H, W, C)
 * array seen through its axes) and C >= 12, a channels-last loop runs: each output pixel's
 * channels are a contiguous vector, pooled over the window's pixels.
 * Every output, and every element of an input gradient, is computed by one work item in a fixed
 * order, the same in both loops, so results are bitwise the same at any thread count and in
 * either layout. */

/* Max and average pooling over kernel_height x kernel_width windows. */
typedef struct cconv_pool2d_params {
    int64_t batch;          /* N */
    int64_t channels;       /* C */
    int64_t in_height;      /* H */
    int64_t in_width;       /* W */
    int64_t kernel_height, kernel_width;
    int64_t stride_h, stride_w;
    /* Implicit padding (-inf for max, 0 for average), each side at most kernel / 2. */
    int64_t pad_top, pad_bottom, pad_left, pad_right;
    int64_t dilation_h, dilation_w; /* max pooling only: average pooling needs 1 */
    int ceil_mode;          /* 0 or 1: see cconv_pool2d_output_size */
    int count_include_pad;  /* average: 1 divides by the window clipped to the padded input,
                               0 by the input pixels it covers */
    int64_t divisor;        /* average: 0 for the above, else every sum is divided by this */
    int64_t out_height;     /* must equal cconv_pool2d_output_size(...) */
    int64_t out_width;
    /* NULL: the array read is C-contiguous; else its element strides along N, C, H, W.  It is
     * the input (N, C, H, W) forward and grad_output (N, C, OH, OW) backward. */
    const int64_t *input_strides;
    /* The same for the array written: the output (N, C, OH, OW) forward, and max pooling's
     * indices, laid out as the output; grad_input (N, C, H, W) backward. */
    const int64_t *output_strides;
    cconv_run_options run;
} cconv_pool2d_params;

/* PyTorch's pooling output size: floor((in + pad_before + pad_after - dilation*(kernel-1) - 1
 * + (ceil_mode ? stride-1 : 0)) / stride) + 1, less one when ceil_mode makes the last window start
 * past the input and its leading padding (at or after in + pad_before).  -1 when an argument is
 * out of range, overflows, or the result is below 1. */
int64_t cconv_pool2d_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad_before,
                                 int64_t pad_after, int64_t dilation, int ceil_mode);

/* Checks every field (sizes, pads <= kernel / 2, output sizes, byte sizes in 64 bits), and that
 * every window holds at least one input pixel (a large dilation can make a window skip the
 * input entirely; such configurations are refused). */
cconv_status cconv_pool2d_check(const cconv_pool2d_params *params);

/* Max pooling.  A window's value is its largest input, or NaN when it holds a NaN; its index is
 * that of the first largest (row-major order), of the last NaN, or of its first input pixel when
 * every input is -inf, exactly as PyTorch.  indices may be NULL. */
cconv_status cconv_max_pool2d_f32(const cconv_pool2d_params *params, const float *input,
                                  float *output, int64_t *indices);
cconv_status cconv_max_pool2d_f64(const cconv_pool2d_params *params, const double *input,
                                  double *output, int64_t *indices);
/* Average pooling (dilation must be 1): the window's input pixels summed in row-major order,
 * divided by divisor, or by the window's size as count_include_pad says. */
cconv_status cconv_avg_pool2d_f32(const cconv_pool2d_params *params, const float *input,
                                  float *output);
cconv_status cconv_avg_pool2d_f64(const cconv_pool2d_params *params, const double *input,
                                  double *output);
/* Gradient of average pooling: grad_input (N, C, H, W) from grad_output (N, C, OH, OW), with
 * params as for the forward call. */
cconv_status cconv_avg_pool2d_backward_f32(const cconv_pool2d_params *params,
                                           const float *grad_output, float *grad_input);
cconv_status cconv_avg_pool2d_backward_f64(const cconv_pool2d_params *params,
                                           const double *grad_output, double *grad_input);

/* Adaptive pooling: output row y pools input rows [floor(y*H/OH), ceil((y+1)*H/OH)), and the
 * same along the columns.  OH, OW may be 0 (an empty output). */
typedef struct cconv_adaptive_pool2d_params {
    int64_t batch, channels, in_height, in_width;
    int64_t out_height, out_width;
    const int64_t *input_strides;  /* as in cconv_pool2d_params */
    const int64_t *output_strides; /* as in cconv_pool2d_params */
    /* cconv_max_pool2d_backward_*: the element strides of the indices (N, C, OH, OW), which it
     * reads; NULL: C-contiguous.  (Adaptive max pooling writes its indices laid out as its
     * output and ignores this.) */
    const int64_t *indices_strides;
    cconv_run_options run;
} cconv_adaptive_pool2d_params;

cconv_status cconv_adaptive_pool2d_check(const cconv_adaptive_pool2d_params *params);
/* The window's sum divided by its height, then by its width (PyTorch's rounding). */
cconv_status cconv_adaptive_avg_pool2d_f32(const cconv_adaptive_pool2d_params *params,
                                           const float *input, float *output);
cconv_status cconv_adaptive_avg_pool2d_f64(const cconv_adaptive_pool2d_params *params,
                                           const double *input, double *output);
/* Values and indices as for cconv_max_pool2d_f32; indices may be NULL. */
cconv_status cconv_adaptive_max_pool2d_f32(const cconv_adaptive_pool2d_params *params,
                                           const float *input, float *output,
                                           int64_t *indices);
cconv_status cconv_adaptive_max_pool2d_f64(const cconv_adaptive_pool2d_params *params,
                                           const double *input, double *output,
                                           int64_t *indices);
cconv_status cconv_adaptive_avg_pool2d_backward_f32(const cconv_adaptive_pool2d_params *params,
                                                    const float *grad_output,
                                                    float *grad_input);
cconv_status cconv_adaptive_avg_pool2d_backward_f64(const cconv_adaptive_pool2d_params *params,
                                                    const double *grad_output,
                                                    double *grad_input);

/* Gradient of max pooling, windowed or adaptive: grad_input (N, C, H, W) is zero except that
 * each grad_output element (N, C, OH, OW) is added at its index, in row-major output order.  The
 * shape fields mean what they mean in cconv_adaptive_pool2d_params; indices are laid out as
 * indices_strides says, and each must lie in [0, H*W) (else CCONV_ERR_INVALID_ARGUMENT, with
 * grad_input incomplete). */
cconv_status cconv_max_pool2d_backward_f32(const cconv_adaptive_pool2d_params *params,
                                           const float *grad_output, const int64_t *indices,
                                           float *grad_input);
cconv_status cconv_max_pool2d_backward_f64(const cconv_adaptive_pool2d_params *params,
                                           const double *grad_output, const int64_t *indices,
                                           double *grad_input);
cconv_status cconv_max_pool2d_backward_check(const cconv_adaptive_pool2d_params *params);

/* The reference kernels of pooling: plain loops straight from the definitions, single-threaded
 * (run.threads and run.simd are ignored), the baseline the fast paths are tested against. */
cconv_status cconv_max_pool2d_ref_f32(const cconv_pool2d_params *params, const float *input,
                                      float *output, int64_t *indices);
cconv_status cconv_max_pool2d_ref_f64(const cconv_pool2d_params *params, const double *input,
                                      double *output, int64_t *indices);
cconv_status cconv_avg_pool2d_ref_f32(const cconv_pool2d_params *params, const float *input,
                                      float *output);
cconv_status cconv_avg_pool2d_ref_f64(const cconv_pool2d_params *params, const double *input,
                                      double *output);
cconv_status cconv_avg_pool2d_backward_ref_f32(const cconv_pool2d_params *params,
                                               const float *grad_output, float *grad_input);
cconv_status cconv_avg_pool2d_backward_ref_f64(const cconv_pool2d_params *params,
                                               const double *grad_output, double *grad_input);
cconv_status cconv_adaptive_avg_pool2d_ref_f32(const cconv_adaptive_pool2d_params *params,
                                               const float *input, float *output);
cconv_status cconv_adaptive_avg_pool2d_ref_f64(const cconv_adaptive_pool2d_params *params,
                                               const double *input, double *output);
cconv_status cconv_adaptive_max_pool2d_ref_f32(const cconv_adaptive_pool2d_params *params,
                                               const float *input, float *output,
                                               int64_t *indices);
cconv_status cconv_adaptive_max_pool2d_ref_f64(const cconv_adaptive_pool2d_params *params,
                                               const double *input, double *output,
                                               int64_t *indices);
cconv_status cconv_adaptive_avg_pool2d_backward_ref_f32(
    const cconv_adaptive_pool2d_params *params, const float *grad_output, float *grad_input);
cconv_status cconv_adaptive_avg_pool2d_backward_ref_f64(
    const cconv_adaptive_pool2d_params *params, const double *grad_output, double *grad_input);
cconv_status cconv_max_pool2d_backward_ref_f32(const cconv_adaptive_pool2d_params *params,
                                               const float *grad_output, const int64_t *indices,
                                               float *grad_input);
cconv_status cconv_max_pool2d_backward_ref_f64(const cconv_adaptive_pool2d_params *params,
                                               const double *grad_output,
                                               const int64_t *indices, double *grad_input);

/* Instruction-set paths.  Index 0 is always "generic".  Paths are listed from lowest to highest. */
int cconv_simd_count(void);
const char *cconv_simd_name(int index);
int cconv_simd_supported(int index);   /* 1 when this CPU and OS can run the path */
int cconv_simd_find(const char *name); /* index of the named path, or -1 */
int cconv_simd_best(void);             /* the highest usable path */

/* Threads: calls run on the calling thread and up to threads-1 helpers of cconv's own pool. */
int cconv_max_threads(void);           /* what threads <= 0 resolves to: OMP_NUM_THREADS when set,
                                          else the cores this process may run on */

const char *cconv_status_message(cconv_status status);

#ifdef __cplusplus
}
#endif

#endif /* CCONV_H */
