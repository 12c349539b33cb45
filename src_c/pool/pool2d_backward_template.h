/*
 * The gradients of max and average pooling, instantiated once per element type by
 * pool2d_backward.c.  Needs PB_T (element type) and PB_SUFFIX (f32/f64).
 *
 * Both scatter: each grad_output element is added to the input pixels its window read.  Windows
 * may overlap and max indices may point anywhere in their plane, so a work item is one whole
 * plane, which it zeroes and then fills in row-major output order: every element of grad_input
 * receives its contributions in the same order at any thread count (PyTorch's order too).
 * Every array may have any strides; a channels-last grad_input runs
 * pool2d_backward_cl_template.h instead, whose items are blocks of channels of one image, filled
 * in the same order.
 */
#define PB_CAT_(a, b) a##b
#define PB_CAT(a, b) PB_CAT_(a, b)
#define PB_FN(name) PB_CAT(name, PB_SUFFIX)
#define R CCONV_POOL_RESTRICT

typedef struct PB_FN(call_) {
    const cconv_pool2d_params *p;          /* average pooling */
    const cconv_adaptive_pool2d_params *a; /* max pooling: the shapes only */
    cconv_pool_layout go;                  /* grad_output's strides */
    cconv_pool_layout gi;                  /* grad_input's */
    cconv_pool_layout ix;                  /* the indices' (max pooling) */
    const PB_T *grad_output;
    const int64_t *indices;
    PB_T *grad_input;
    int64_t block, blocks; /* channels-last: channels per work item, items per image */
} PB_FN(call_);

/* Zeroes one plane of grad_input (gi points at it). */
static void PB_FN(zero_plane_)(PB_T *gi, cconv_pool_layout l, int64_t H, int64_t W)
{
    for (int64_t h = 0; h < H; h++) {
        PB_T *row = gi + h * l.h;
        if (l.w == 1) {
            for (int64_t w = 0; w < W; w++) row[w] = (PB_T)0;
        } else {
            for (int64_t w = 0; w < W; w++) row[w * l.w] = (PB_T)0;
        }
    }
}

static cconv_status PB_FN(max_plane_)(void *context, int64_t plane, void *scratch)
{
    (void)scratch;
    const PB_FN(call_) *c = (const PB_FN(call_) *)context;
    const cconv_adaptive_pool2d_params *a = c->a;
    const int64_t OH = a->out_height, OW = a->out_width, W = a->in_width;
    const int64_t size = a->in_height * W;
    const int64_t n = plane / a->channels, ch = plane % a->channels;
    const int64_t *idx = c->indices + n * c->ix.n + ch * c->ix.c;
    /* Every index first, so that a bad one writes nothing outside the plane. */
    for (int64_t y = 0; y < OH; y++) {
        for (int64_t x = 0; x < OW; x++) {
            const int64_t k = idx[y * c->ix.h + x * c->ix.w];
            if (k < 0 || k >= size) return CCONV_ERR_INVALID_ARGUMENT;
        }
    }
    PB_T *gi = c->grad_input + n * c->gi.n + ch * c->gi.c;
    PB_FN(zero_plane_)(gi, c->gi, a->in_height, W);
    const PB_T *go = c->grad_output + n * c->go.n + ch * c->go.c;
    /* A contiguous plane (rows of W pixels one after the other) is addressed by the index. */
    const int flat = (c->gi.w == 1 || W == 1) && (c->gi.h == W || a->in_height == 1);
    for (int64_t y = 0; y < OH; y++) {
        for (int64_t x = 0; x < OW; x++) {
            const int64_t k = idx[y * c->ix.h + x * c->ix.w];
            const PB_T g = go[y * c->go.h + x * c->go.w];
            if (flat)
                gi[k] += g;
            else
                gi[(k / W) * c->gi.h + (k % W) * c->gi.w] += g;
        }
    }
    return CCONV_OK;
}

/* Input pixels of an average window along one axis: [*lo, *hi) and its divisor's share. */
static int64_t PB_FN(window_)(int64_t start, int64_t kernel, int64_t in, int64_t pad_after,
                              int include_pad, int64_t *lo, int64_t *hi)
{
    const int64_t end = start + kernel < in + pad_after ? start + kernel : in + pad_after;
    const int64_t padded = end - start;
    *lo = start > 0 ? start : 0;
    *hi = end < in ? end : in;
    return include_pad ? padded : *hi - *lo;
}

static cconv_status PB_FN(avg_plane_)(void *context, int64_t plane, void *scratch)
{
    (void)scratch;
    const PB_FN(call_) *c = (const PB_FN(call_) *)context;
    const cconv_pool2d_params *p = c->p;
    const int64_t H = p->in_height, W = p->in_width, OH = p->out_height, OW = p->out_width;
    const int64_t n = plane / p->channels, ch = plane % p->channels;
    PB_T *gi = c->grad_input + n * c->gi.n + ch * c->gi.c;
    const int64_t gh = c->gi.h, gw = c->gi.w;
    PB_FN(zero_plane_)(gi, c->gi, H, W);
    const PB_T *go = c->grad_output + n * c->go.n + ch * c->go.c;
    const int include = p->count_include_pad;
    for (int64_t y = 0; y < OH; y++) {
        int64_t h0, h1, w0, w1;
        const int64_t rows = PB_FN(window_)(y * p->stride_h - p->pad_top, p->kernel_height, H,
                                            p->pad_bottom, include, &h0, &h1);
        for (int64_t x = 0; x < OW; x++) {
            const int64_t cols = PB_FN(window_)(x * p->stride_w - p->pad_left, p->kernel_width,
                                                W, p->pad_right, include, &w0, &w1);
            const int64_t divisor = p->divisor != 0 ? p->divisor : rows * cols;
            const PB_T g = go[y * c->go.h + x * c->go.w] / (PB_T)divisor;
            for (int64_t ih = h0; ih < h1; ih++) {
                PB_T *r = gi + ih * gh;
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

#include "pool2d_backward_cl_template.h"

cconv_status PB_CAT(cconv_avg_pool2d_backward_, PB_SUFFIX)(const cconv_pool2d_params *p,
                                                            const PB_T *grad_output,
                                                            PB_T *grad_input)
{
    cconv_status status = cconv_pool2d_check(p);
    if (status != CCONV_OK) return status;
    if (p->dilation_h != 1 || p->dilation_w != 1) return CCONV_ERR_INVALID_ARGUMENT;
    status = cconv_pool_check_simd(&p->run);
    if (status != CCONV_OK) return status;
    const int64_t planes = p->batch * p->channels;
    if (planes == 0) return CCONV_OK;
    if (!grad_output || !grad_input) return CCONV_ERR_INVALID_ARGUMENT;
    PB_FN(call_) c;
    memset(&c, 0, sizeof(c));
    c.p = p;
    c.grad_output = grad_output;
    c.grad_input = grad_input;
    c.go = cconv_pool_layout_of(p->input_strides, p->channels, p->out_height, p->out_width);
    c.gi = cconv_pool_layout_of(p->output_strides, p->channels, p->in_height, p->in_width);
    if (cconv_pool_channels_last(c.gi, p->channels))
        return PB_FN(cl_run_)(&c, &p->run, p->batch, p->channels, PB_FN(cl_avg_item_));
    return cconv_pool_parallel(&p->run, planes, 0, PB_FN(avg_plane_), &c);
}

cconv_status PB_CAT(cconv_max_pool2d_backward_, PB_SUFFIX)(
    const cconv_adaptive_pool2d_params *a, const PB_T *grad_output, const int64_t *indices,
    PB_T *grad_input)
{
    cconv_status status = cconv_max_pool2d_backward_check(a);
    if (status != CCONV_OK) return status;
    status = cconv_pool_check_simd(&a->run);
    if (status != CCONV_OK) return status;
    const int64_t planes = a->batch * a->channels;
    if (planes == 0) return CCONV_OK;
    if (!grad_input) return CCONV_ERR_INVALID_ARGUMENT;
    if (a->out_height * a->out_width > 0 && (!grad_output || !indices))
        return CCONV_ERR_INVALID_ARGUMENT;
    PB_FN(call_) c;
    memset(&c, 0, sizeof(c));
    c.a = a;
    c.grad_output = grad_output;
    c.indices = indices;
    c.grad_input = grad_input;
    c.go = cconv_pool_layout_of(a->input_strides, a->channels, a->out_height, a->out_width);
    c.gi = cconv_pool_layout_of(a->output_strides, a->channels, a->in_height, a->in_width);
    c.ix = cconv_pool_layout_of(a->indices_strides, a->channels, a->out_height, a->out_width);
    if (cconv_pool_channels_last(c.gi, a->channels))
        return PB_FN(cl_run_)(&c, &a->run, a->batch, a->channels, PB_FN(cl_max_item_));
    return cconv_pool_parallel(&a->run, planes, 0, PB_FN(max_plane_), &c);
}

#undef R
#undef PB_FN
#undef PB_CAT
#undef PB_CAT_
