/*
 * The channels-last gradients of max and average pooling: the loops pool2d_backward_template.h
 * runs when grad_input has channel stride 1 and enough channels (cconv_pool_channels_last).
 * Included by it, inside its PB_T / PB_FN / R definitions.
 *
 * A work item is a block of channels of one image, which it zeroes and then fills in row-major
 * output order, as the planar loop fills a plane: every element of grad_input receives its
 * contributions in the same order, so both layouts give the same bits at any thread count.
 * Average pooling adds each output pixel's gradient vector (divided by its divisor) to the
 * channel vectors of its window's input pixels, contiguous loops the compiler vectorises, and
 * zeroes each input row just before the first window that reaches it (the windows' rows only
 * move down), so that the row is still in cache when it is added to; max pooling adds each
 * element at its index, anywhere in the image, so zeroes the whole image first.
 */

/* Zeroes channels [0, count) of every pixel of rows [h0, h1) of one image of grad_input (gi
 * points at its first channel). */
static void PB_FN(cl_zero_rows_)(PB_T *gi, cconv_pool_layout l, int64_t h0, int64_t h1,
                                 int64_t W, int64_t count)
{
    if (l.w == count && (l.h == W * count || h1 - h0 <= 1)) { /* one contiguous run */
        PB_T *R run = gi + h0 * l.h;
        for (int64_t k = 0; k < (h1 - h0) * W * count; k++) run[k] = (PB_T)0;
        return;
    }
    for (int64_t h = h0; h < h1; h++) {
        for (int64_t w = 0; w < W; w++) {
            PB_T *R px = gi + h * l.h + w * l.w;
            for (int64_t k = 0; k < count; k++) px[k] = (PB_T)0;
        }
    }
}

static cconv_status PB_FN(cl_avg_item_)(void *context, int64_t item, void *scratch)
{
    (void)scratch;
    const PB_FN(call_) *c = (const PB_FN(call_) *)context;
    const cconv_pool2d_params *p = c->p;
    const int64_t H = p->in_height, W = p->in_width, OH = p->out_height, OW = p->out_width;
    const int64_t n = item / c->blocks, c0 = (item % c->blocks) * c->block;
    const int64_t count = p->channels - c0 < c->block ? p->channels - c0 : c->block;
    PB_T *gi = c->grad_input + n * c->gi.n + c0;
    const PB_T *go = c->grad_output + n * c->go.n + c0 * c->go.c;
    const int include = p->count_include_pad;
    PB_T g[CCONV_POOL_CL_RUN];
    int64_t zeroed = 0; /* rows [0, zeroed) are zeroed */
    for (int64_t y = 0; y < OH; y++) {
        int64_t h0, h1, w0, w1;
        const int64_t rows = PB_FN(window_)(y * p->stride_h - p->pad_top, p->kernel_height, H,
                                            p->pad_bottom, include, &h0, &h1);
        if (h1 > zeroed) {
            PB_FN(cl_zero_rows_)(gi, c->gi, zeroed, h1, W, count);
            zeroed = h1;
        }
        for (int64_t x = 0; x < OW; x++) {
            const int64_t cols = PB_FN(window_)(x * p->stride_w - p->pad_left, p->kernel_width,
                                                W, p->pad_right, include, &w0, &w1);
            /* The divisor, and the division, as the planar loop makes them. */
            const PB_T d = (PB_T)(p->divisor != 0 ? p->divisor : rows * cols);
            const PB_T *src = go + y * c->go.h + x * c->go.w;
            if (c->go.c == 1) {
                for (int64_t k = 0; k < count; k++) g[k] = src[k] / d;
            } else {
                for (int64_t k = 0; k < count; k++) g[k] = src[k * c->go.c] / d;
            }
            for (int64_t ih = h0; ih < h1; ih++) {
                for (int64_t iw = w0; iw < w1; iw++) {
                    PB_T *R px = gi + ih * c->gi.h + iw * c->gi.w;
                    for (int64_t k = 0; k < count; k++) px[k] += g[k];
                }
            }
        }
    }
    PB_FN(cl_zero_rows_)(gi, c->gi, zeroed, H, W, count); /* rows no window reaches */
    return CCONV_OK;
}

static cconv_status PB_FN(cl_max_item_)(void *context, int64_t item, void *scratch)
{
    (void)scratch;
    const PB_FN(call_) *c = (const PB_FN(call_) *)context;
    const cconv_adaptive_pool2d_params *a = c->a;
    const int64_t H = a->in_height, W = a->in_width, OH = a->out_height, OW = a->out_width;
    const int64_t n = item / c->blocks, c0 = (item % c->blocks) * c->block;
    const int64_t count = a->channels - c0 < c->block ? a->channels - c0 : c->block;
    const int64_t *idx = c->indices + n * c->ix.n + c0 * c->ix.c;
    /* Every index first, so that a bad one writes nothing outside the image. */
    for (int64_t y = 0; y < OH; y++) {
        for (int64_t x = 0; x < OW; x++) {
            const int64_t *at = idx + y * c->ix.h + x * c->ix.w;
            for (int64_t k = 0; k < count; k++) {
                if (at[k * c->ix.c] < 0 || at[k * c->ix.c] >= H * W)
                    return CCONV_ERR_INVALID_ARGUMENT;
            }
        }
    }
    PB_T *gi = c->grad_input + n * c->gi.n + c0;
    PB_FN(cl_zero_rows_)(gi, c->gi, 0, H, W, count);
    const PB_T *go = c->grad_output + n * c->go.n + c0 * c->go.c;
    const int64_t gh = c->gi.h, gw = c->gi.w, ic = c->ix.c, oc = c->go.c;
    /* Pixels one after the other, rows too (an (H, W, C) image): the index times the pixel
     * stride addresses the pixel. */
    const int flat = (gh == W * gw || H == 1);
    for (int64_t y = 0; y < OH; y++) {
        for (int64_t x = 0; x < OW; x++) {
            const int64_t *R at = idx + y * c->ix.h + x * c->ix.w;
            const PB_T *R src = go + y * c->go.h + x * c->go.w;
            if (flat && ic == 1 && oc == 1) { /* channels-last indices and grad_output */
                for (int64_t k = 0; k < count; k++) gi[at[k] * gw + k] += src[k];
            } else if (flat) {
                for (int64_t k = 0; k < count; k++) gi[at[k * ic] * gw + k] += src[k * oc];
            } else {
                for (int64_t k = 0; k < count; k++) {
                    const int64_t i = at[k * ic];
                    gi[(i / W) * gh + (i % W) * gw + k] += src[k * oc];
                }
            }
        }
    }
    return CCONV_OK;
}

/* Runs fn over blocks of channels of every image of grad_input (channel stride 1). */
static cconv_status PB_FN(cl_run_)(PB_FN(call_) *c, const cconv_run_options *run, int64_t batch,
                                   int64_t channels, cconv_pool_item_fn fn)
{
    c->block = cconv_pool_channel_block(run, batch, channels);
    c->blocks = (channels + c->block - 1) / c->block;
    return cconv_pool_parallel(run, batch * c->blocks, 0, fn, c);
}
