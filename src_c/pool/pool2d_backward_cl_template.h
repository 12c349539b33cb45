/*
 * The channels-last gradients of max and average pooling: the loops pool2d_backward_template.h
 * runs when grad_input has channel stride 1 and enough channels (cconv_pool_channels_last).
 * Included by it, inside its PB_T / PB_FN / R definitions.
 *
 * A work item is a block of channels of one image, which it zeroes and then fills in row-major
 * output order, as the planar loop fills a plane: every element of grad_input receives its
 * contributions in the same order, so both layouts give the same bits at any thread count.
 * Average pooling adds each output pixel's gradient vector (divided by its divisor) to the
 * channel vectors of its window's input pixels, contiguous loops the compiler vectorises; max
 * pooling adds each element at its index.
 */

/* Zeroes channels [0, count) of every pixel of one image of grad_input (gi points at its first
 * channel). */
static void PB_FN(cl_zero_)(PB_T *gi, cconv_pool_layout l, int64_t H, int64_t W, int64_t count)
{
    for (int64_t h = 0; h < H; h++) {
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
    PB_FN(cl_zero_)(gi, c->gi, H, W, count);
    const PB_T *go = c->grad_output + n * c->go.n + c0 * c->go.c;
    const int include = p->count_include_pad;
    PB_T g[CCONV_POOL_CL_RUN];
    for (int64_t y = 0; y < OH; y++) {
        int64_t h0, h1, w0, w1;
        const int64_t rows = PB_FN(window_)(y * p->stride_h - p->pad_top, p->kernel_height, H,
                                            p->pad_bottom, include, &h0, &h1);
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
    PB_FN(cl_zero_)(gi, c->gi, H, W, count);
    const PB_T *go = c->grad_output + n * c->go.n + c0 * c->go.c;
    /* Pixels one after the other, rows too (an (H, W, C) image): the index times the pixel
     * stride addresses the pixel. */
    const int flat = (c->gi.h == W * c->gi.w || H == 1);
    for (int64_t y = 0; y < OH; y++) {
        for (int64_t x = 0; x < OW; x++) {
            const int64_t *at = idx + y * c->ix.h + x * c->ix.w;
            const PB_T *src = go + y * c->go.h + x * c->go.w;
            for (int64_t k = 0; k < count; k++) {
                const int64_t i = at[k * c->ix.c];
                const int64_t pixel = flat ? i * c->gi.w : (i / W) * c->gi.h + (i % W) * c->gi.w;
                gi[pixel + k] += src[k * c->go.c];
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
