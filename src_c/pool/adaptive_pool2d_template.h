/*
 * Adaptive average and max pooling and the adaptive average gradient, instantiated once per
 * element type by adaptive_pool2d.c.  Needs AP_T (element type) and AP_SUFFIX (f32/f64).
 *
 * Output (y, x) pools the input window rows [start(y), end(y)) x columns [start(x), end(x))
 * (pool2d_common.h).  Forward work items are bands of output rows of one plane; the gradient
 * scatters, so its items are whole planes (see pool2d_backward_template.h).  Every array may have
 * any strides; a channels-last input forward, or grad_input backward, runs
 * adaptive_pool2d_cl_template.h instead.
 */
#define AP_CAT_(a, b) a##b
#define AP_CAT(a, b) AP_CAT_(a, b)
#define AP_FN(name) AP_CAT(name, AP_SUFFIX)
#define R CCONV_POOL_RESTRICT

/* Partial sums: element i of the window in row-major order goes to lane i % AP_LANES, and the
 * lanes are added pairwise at the end.  A fixed order, whatever the threads and the input's
 * strides (so the same bits everywhere), that vectorises over a contiguous window (global
 * pooling of a C-contiguous plane) with enough independent sums to hide the adder's latency, and
 * loses less precision than one running sum over a large window. */
#define AP_LANES 32

typedef struct AP_FN(call_) {
    const cconv_adaptive_pool2d_params *p;
    cconv_pool_layout in;  /* the array read: input forward, grad_output backward */
    cconv_pool_layout out; /* the array written (and forward, the indices) */
    const AP_T *input;
    AP_T *output;
    int64_t *indices;
    int average;
    int64_t band_rows, bands; /* forward: output rows per work item, items per image */
    int64_t block, blocks;    /* the channels-last gradient: channels per item, items per image */
} AP_FN(call_);

static AP_T AP_FN(window_sum_)(const AP_T *first, int64_t rows, int64_t cols, int64_t row_step,
                               int64_t col_step)
{
    AP_T lane[AP_LANES] = {0};
    if (col_step == 1 && (row_step == cols || rows == 1)) { /* one contiguous run */
        const int64_t count = rows * cols;
        int64_t k = 0;
        for (; k + AP_LANES <= count; k += AP_LANES) {
            for (int l = 0; l < AP_LANES; l++) lane[l] += first[k + l];
        }
        for (int l = 0; k + l < count; l++) lane[l] += first[k + l];
    } else {
        int l = 0;
        for (int64_t r = 0; r < rows; r++) {
            const AP_T *src = first + r * row_step;
            for (int64_t k = 0; k < cols; k++) {
                lane[l] += src[k * col_step];
                l = l + 1 == AP_LANES ? 0 : l + 1;
            }
        }
    }
    for (int width = AP_LANES / 2; width > 0; width /= 2) {
        for (int l = 0; l < width; l++) lane[l] += lane[l + width];
    }
    return lane[0];
}

static cconv_status AP_FN(forward_item_)(void *context, int64_t item, void *scratch)
{
    (void)scratch;
    const AP_FN(call_) *c = (const AP_FN(call_) *)context;
    const cconv_adaptive_pool2d_params *p = c->p;
    const int64_t H = p->in_height, W = p->in_width, OH = p->out_height, OW = p->out_width;
    const int64_t plane = item / c->bands, band = item % c->bands;
    const int64_t n = plane / p->channels, ch = plane % p->channels;
    const AP_T *in_plane = c->input + n * c->in.n + ch * c->in.c;
    const int64_t y0 = band * c->band_rows;
    const int64_t y1 = y0 + c->band_rows < OH ? y0 + c->band_rows : OH;
    for (int64_t y = y0; y < y1; y++) {
        const int64_t h0 = cconv_adaptive_start(y, OH, H), h1 = cconv_adaptive_end(y, OH, H);
        const int64_t row = n * c->out.n + ch * c->out.c + y * c->out.h;
        AP_T *o = c->output + row;
        int64_t *ix = c->indices ? c->indices + row : NULL;
        const int64_t step = c->out.w;
        for (int64_t x = 0; x < OW; x++) {
            const int64_t w0 = cconv_adaptive_start(x, OW, W), w1 = cconv_adaptive_end(x, OW, W);
            const AP_T *first = in_plane + h0 * c->in.h + w0 * c->in.w;
            if (c->average) {
                /* Divided by the height, then by the width: PyTorch's rounding. */
                o[x * step] = AP_FN(window_sum_)(first, h1 - h0, w1 - w0, c->in.h, c->in.w) /
                              (AP_T)(h1 - h0) / (AP_T)(w1 - w0);
                continue;
            }
            /* PyTorch's scan: row-major, the first largest wins, a NaN wins and the last NaN
             * stays; all -inf keeps the first pixel. */
            AP_T best = -(AP_T)INFINITY;
            int64_t where = h0 * W + w0;
            for (int64_t ih = h0; ih < h1; ih++) {
                const AP_T *r = in_plane + ih * c->in.h;
                for (int64_t iw = w0; iw < w1; iw++) {
                    const AP_T v = r[iw * c->in.w];
                    if ((v > best) | (v != v)) {
                        best = v;
                        where = ih * W + iw;
                    }
                }
            }
            o[x * step] = best;
            if (ix) ix[x * step] = where;
        }
    }
    return CCONV_OK;
}

#define CW_T AP_T
#define CW_CODE AP_CODE
#define CW_FN AP_FN
#define CW_RUN CCONV_POOL_CL_RUN
#include "pool2d_cl_window_template.h"
#undef CW_T
#undef CW_CODE
#undef CW_FN
#undef CW_RUN
#include "adaptive_pool2d_cl_template.h"

static cconv_status AP_FN(forward_)(const cconv_adaptive_pool2d_params *p, const AP_T *input,
                                    AP_T *output, int64_t *indices, int average)
{
    cconv_status status = cconv_adaptive_pool2d_check(p);
    if (status != CCONV_OK) return status;
    status = cconv_pool_check_simd(&p->run);
    if (status != CCONV_OK) return status;
    const int64_t planes = p->batch * p->channels;
    if (planes == 0 || p->out_height == 0 || p->out_width == 0) return CCONV_OK;
    if (!input || !output) return CCONV_ERR_INVALID_ARGUMENT;
    AP_FN(call_) c;
    c.p = p;
    c.in = cconv_pool_layout_of(p->input_strides, p->channels, p->in_height, p->in_width);
    c.out = cconv_pool_layout_of(p->output_strides, p->channels, p->out_height, p->out_width);
    c.input = input;
    c.output = output;
    c.indices = average ? NULL : indices;
    c.average = average;
    if (cconv_pool_channels_last(c.in, p->channels)) return AP_FN(cl_forward_)(&c);
    /* Bands of about 32K pixels read (a window is at most in/out + 1 wide). */
    const int64_t window = (p->in_height / p->out_height + 1) * (p->in_width / p->out_width + 1);
    const int64_t per_row = p->out_width * window;
    c.band_rows = per_row >= 32768 ? 1 : 32768 / per_row;
    if (c.band_rows > p->out_height) c.band_rows = p->out_height;
    c.bands = (p->out_height + c.band_rows - 1) / c.band_rows;
    return cconv_pool_parallel(&p->run, planes * c.bands, 0, AP_FN(forward_item_), &c);
}

static cconv_status AP_FN(avg_backward_plane_)(void *context, int64_t plane, void *scratch)
{
    (void)scratch;
    const AP_FN(call_) *c = (const AP_FN(call_) *)context;
    const cconv_adaptive_pool2d_params *p = c->p;
    const int64_t H = p->in_height, W = p->in_width, OH = p->out_height, OW = p->out_width;
    const int64_t n = plane / p->channels, ch = plane % p->channels;
    AP_T *gi = c->output + n * c->out.n + ch * c->out.c;
    const int64_t gh = c->out.h, gw = c->out.w;
    for (int64_t ih = 0; ih < H; ih++) {
        for (int64_t iw = 0; iw < W; iw++) gi[ih * gh + iw * gw] = (AP_T)0;
    }
    const AP_T *go = c->input + n * c->in.n + ch * c->in.c;
    for (int64_t y = 0; y < OH; y++) {
        const int64_t h0 = cconv_adaptive_start(y, OH, H), h1 = cconv_adaptive_end(y, OH, H);
        for (int64_t x = 0; x < OW; x++) {
            const int64_t w0 = cconv_adaptive_start(x, OW, W), w1 = cconv_adaptive_end(x, OW, W);
            const AP_T g = go[y * c->in.h + x * c->in.w] / (AP_T)(h1 - h0) / (AP_T)(w1 - w0);
            for (int64_t ih = h0; ih < h1; ih++) {
                AP_T *r = gi + ih * gh;
                if (gw == 1) {
                    for (int64_t iw = w0; iw < w1; iw++) r[iw] += g;
                } else {
                    for (int64_t iw = w0; iw < w1; iw++) r[iw * gw] += g;
                }
            }
        }
    }
    return CCONV_OK;
}

cconv_status AP_CAT(cconv_adaptive_avg_pool2d_, AP_SUFFIX)(
    const cconv_adaptive_pool2d_params *params, const AP_T *input, AP_T *output)
{
    return AP_FN(forward_)(params, input, output, NULL, 1);
}

cconv_status AP_CAT(cconv_adaptive_max_pool2d_, AP_SUFFIX)(
    const cconv_adaptive_pool2d_params *params, const AP_T *input, AP_T *output,
    int64_t *indices)
{
    return AP_FN(forward_)(params, input, output, indices, 0);
}

cconv_status AP_CAT(cconv_adaptive_avg_pool2d_backward_, AP_SUFFIX)(
    const cconv_adaptive_pool2d_params *p, const AP_T *grad_output, AP_T *grad_input)
{
    cconv_status status = cconv_adaptive_pool2d_check(p);
    if (status != CCONV_OK) return status;
    status = cconv_pool_check_simd(&p->run);
    if (status != CCONV_OK) return status;
    const int64_t planes = p->batch * p->channels;
    if (planes == 0) return CCONV_OK;
    if (!grad_input || (p->out_height * p->out_width > 0 && !grad_output))
        return CCONV_ERR_INVALID_ARGUMENT;
    AP_FN(call_) c;
    c.p = p;
    c.in = cconv_pool_layout_of(p->input_strides, p->channels, p->out_height, p->out_width);
    c.out = cconv_pool_layout_of(p->output_strides, p->channels, p->in_height, p->in_width);
    c.input = grad_output;
    c.output = grad_input;
    c.indices = NULL;
    c.average = 1;
    c.band_rows = c.bands = 1;
    if (cconv_pool_channels_last(c.out, p->channels)) return AP_FN(cl_backward_)(&c);
    return cconv_pool_parallel(&p->run, planes, 0, AP_FN(avg_backward_plane_), &c);
}

#undef AP_LANES
#undef R
#undef AP_FN
#undef AP_CAT
#undef AP_CAT_
