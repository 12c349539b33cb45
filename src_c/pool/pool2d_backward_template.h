/*
 * The gradients of max and average pooling, instantiated once per element type by
 * pool2d_backward.c.  Needs PB_T (element type) and PB_SUFFIX (f32/f64).
 *
 * Both scatter: each grad_output element is added to the input pixels its window read.  Windows
 * may overlap and max indices may point anywhere in their plane, so a work item is one whole
 * plane, which it zeroes and then fills in row-major output order: every element of grad_input
 * receives its contributions in the same order at any thread count (PyTorch's order too).
 */
#define PB_CAT_(a, b) a##b
#define PB_CAT(a, b) PB_CAT_(a, b)
#define PB_FN(name) PB_CAT(name, PB_SUFFIX)

typedef struct PB_FN(call_) {
    const cconv_pool2d_params *p;          /* average pooling */
    const cconv_adaptive_pool2d_params *a; /* max pooling: the shapes only */
    cconv_pool_layout go;                  /* grad_output's strides */
    const PB_T *grad_output;
    const int64_t *indices;
    PB_T *grad_input;
} PB_FN(call_);

static cconv_status PB_FN(max_plane_)(void *context, int64_t plane, void *scratch)
{
    (void)scratch;
    const PB_FN(call_) *c = (const PB_FN(call_) *)context;
    const cconv_adaptive_pool2d_params *a = c->a;
    const int64_t OH = a->out_height, OW = a->out_width, size = a->in_height * a->in_width;
    const int64_t *idx = c->indices + plane * OH * OW;
    /* Every index first, so that a bad one writes nothing outside the plane. */
    for (int64_t k = 0; k < OH * OW; k++) {
        if (idx[k] < 0 || idx[k] >= size) return CCONV_ERR_INVALID_ARGUMENT;
    }
    PB_T *gi = c->grad_input + plane * size;
    for (int64_t k = 0; k < size; k++) gi[k] = (PB_T)0;
    const int64_t n = plane / a->channels, ch = plane % a->channels;
    const PB_T *go = c->grad_output + n * c->go.n + ch * c->go.c;
    for (int64_t y = 0; y < OH; y++) {
        for (int64_t x = 0; x < OW; x++) gi[idx[y * OW + x]] += go[y * c->go.h + x * c->go.w];
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
    PB_T *gi = c->grad_input + plane * H * W;
    for (int64_t k = 0; k < H * W; k++) gi[k] = (PB_T)0;
    const int64_t n = plane / p->channels, ch = plane % p->channels;
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
                PB_T *r = gi + ih * W;
                for (int64_t iw = w0; iw < w1; iw++) r[iw] += g;
            }
        }
    }
    return CCONV_OK;
}

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
    PB_FN(call_) c = {p, NULL, {0, 0, 0, 0}, grad_output, NULL, grad_input};
    c.go = cconv_pool_layout_of(p->input_strides, p->channels, p->out_height, p->out_width);
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
    PB_FN(call_) c = {NULL, a, {0, 0, 0, 0}, grad_output, indices, grad_input};
    c.go = cconv_pool_layout_of(a->input_strides, a->channels, a->out_height, a->out_width);
    return cconv_pool_parallel(&a->run, planes, 0, PB_FN(max_plane_), &c);
}

#undef PB_FN
#undef PB_CAT
#undef PB_CAT_
