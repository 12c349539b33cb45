/*
 * Channels-last adaptive pooling and its average gradient: the loops adaptive_pool2d_template.h
 * runs when the input forward, or grad_input backward, has channel stride 1 and enough channels
 * (cconv_pool_channels_last).  Included by it, inside its AP_T / AP_CODE / AP_FN / R / AP_LANES
 * definitions, after pool2d_cl_window_template.h.
 *
 * Forward, a work item is a band of output rows of one image, and each output pixel's window is
 * reduced along its channel vectors: maxima by the window loops, sums into AP_LANES partial sums
 * per channel in the planar loop's order (element i of the window, row-major, to lane
 * i % AP_LANES, the lanes added pairwise), so that both layouts give the same bits.  The gradient
 * scatters, so its items are blocks of channels of one image, which each zeroes and then fills
 * in row-major output order, as the planar loop does plane by plane.
 */
/* Channels per run of average pooling's partial sums: AP_LANES of them in 32 KB (about L1).  The
 * lanes lie AP_LANE_STRIDE apart, 64 bytes more than a run: rows a power of two apart would
 * share their addresses' low 12 bits with the input's pixels (also a power of two apart, often),
 * and the CPU then stalls loads of the input behind stores to the lanes (4K aliasing). */
#define AP_LANE_RUN (32768 / AP_LANES / (int)sizeof(AP_T))
#define AP_LANE_STRIDE (AP_LANE_RUN + 64 / (int)sizeof(AP_T))

/* Average pooling of one output pixel, written at dst, step elements apart: runs of up to
 * AP_LANE_RUN channels, each summed into AP_LANES partial sums per channel (`lanes`, the work
 * item's scratch: AP_LANES rows, AP_LANE_STRIDE apart) in the planar loop's order: element i of
 * the window (row-major) into lane i % AP_LANES, then the lanes added pairwise, then divided by
 * the window's height and by its width (PyTorch's rounding).  The window is walked once per run,
 * in memory order, each pixel's run of channels one contiguous vector. */
static void AP_FN(cl_average_pixel_)(const AP_FN(cl_window_) *w, int64_t C, AP_T *dst,
                                     int64_t step, AP_T *R lanes)
{
    const AP_T rows = (AP_T)w->rows, cols = (AP_T)w->cols;
    for (int64_t c0 = 0; c0 < C; c0 += AP_LANE_RUN) {
        const int64_t n = C - c0 < AP_LANE_RUN ? C - c0 : AP_LANE_RUN;
        for (int64_t k = 0; k < AP_LANES * AP_LANE_STRIDE; k++) lanes[k] = (AP_T)0;
        int l = 0;
        for (int64_t a = 0; a < w->rows; a++) {
            const AP_T *row = w->first + c0 + a * w->row_step;
            for (int64_t b = 0; b < w->cols; b++) {
                const AP_T *R s = row + b * w->col_step;
                AP_T *R sums = lanes + l * AP_LANE_STRIDE;
                for (int64_t c = 0; c < n; c++) sums[c] += s[c];
                l = l + 1 == AP_LANES ? 0 : l + 1;
            }
        }
        for (int width = AP_LANES / 2; width > 0; width /= 2) {
            for (int k = 0; k < width; k++) {
                AP_T *R to = lanes + k * AP_LANE_STRIDE;
                const AP_T *R from = lanes + (k + width) * AP_LANE_STRIDE;
                for (int64_t c = 0; c < n; c++) to[c] += from[c];
            }
        }
        AP_T *R o = dst + c0 * step;
        for (int64_t c = 0; c < n; c++) o[c * step] = lanes[c] / rows / cols;
    }
}

/* Max pooling of one output pixel: runs of up to CCONV_POOL_CL_RUN channels. */
static void AP_FN(cl_max_pixel_)(const AP_FN(call_) *c, const AP_FN(cl_window_) *w, int64_t at,
                                 int coded)
{
    AP_T acc[CCONV_POOL_CL_RUN];
    AP_CODE code[CCONV_POOL_CL_RUN];
    int64_t where[CCONV_POOL_CL_RUN];
    const int64_t C = c->p->channels, step = c->out.c;
    for (int64_t c0 = 0; c0 < C; c0 += CCONV_POOL_CL_RUN) {
        const int64_t n = C - c0 < CCONV_POOL_CL_RUN ? C - c0 : CCONV_POOL_CL_RUN;
        AP_T *R o = c->output + at + c0 * step;
        int64_t *R ix = c->indices ? c->indices + at + c0 * step : NULL;
        if (!ix) {
            AP_FN(cl_max_)(w, c0, n, acc, NULL);
        } else if (coded) {
            AP_FN(cl_max_)(w, c0, n, acc, code);
            for (int64_t i = 0; i < n; i++) where[i] = (int64_t)code[i];
        } else {
            AP_FN(cl_max_wide_)(w, c0, n, acc, where);
        }
        for (int64_t i = 0; i < n; i++) o[i * step] = acc[i];
        if (ix) {
            for (int64_t i = 0; i < n; i++) ix[i * step] = where[i];
        }
    }
}

static cconv_status AP_FN(cl_forward_item_)(void *context, int64_t item, void *scratch)
{
    const AP_FN(call_) *c = (const AP_FN(call_) *)context;
    const cconv_adaptive_pool2d_params *p = c->p;
    const int64_t H = p->in_height, W = p->in_width, OH = p->out_height, OW = p->out_width;
    const int64_t n = item / c->bands, band = item % c->bands;
    const AP_T *image = c->input + n * c->in.n;
    /* Flat indices run to H*W - 1; the check keeps H*W inside 64 bits. */
    const int coded = sizeof(AP_CODE) == sizeof(int64_t) || H * W - 1 <= (int64_t)INT32_MAX;
    const int64_t y0 = band * c->band_rows;
    const int64_t y1 = y0 + c->band_rows < OH ? y0 + c->band_rows : OH;
    for (int64_t y = y0; y < y1; y++) {
        const int64_t h0 = cconv_adaptive_start(y, OH, H), h1 = cconv_adaptive_end(y, OH, H);
        for (int64_t x = 0; x < OW; x++) {
            const int64_t w0 = cconv_adaptive_start(x, OW, W), w1 = cconv_adaptive_end(x, OW, W);
            const AP_FN(cl_window_) w = {image + h0 * c->in.h + w0 * c->in.w,
                                         h1 - h0,
                                         w1 - w0,
                                         c->in.h,
                                         c->in.w,
                                         h0 * W + w0,
                                         W,
                                         1};
            const int64_t at = n * c->out.n + y * c->out.h + x * c->out.w;
            if (c->average)
                AP_FN(cl_average_pixel_)(&w, p->channels, c->output + at, c->out.c,
                                         (AP_T *)scratch);
            else
                AP_FN(cl_max_pixel_)(c, &w, at, coded);
        }
    }
    return CCONV_OK;
}

/* Called by forward_ after every check, with c filled but for the bands. */
static cconv_status AP_FN(cl_forward_)(AP_FN(call_) *c)
{
    const cconv_adaptive_pool2d_params *p = c->p;
    /* Bands of about 32K elements read (a window is at most in/out + 1 wide), counted in double:
     * the product may pass 64 bits. */
    const double window = (double)(p->in_height / p->out_height + 1) *
                          (double)(p->in_width / p->out_width + 1);
    const double per_row = (double)p->out_width * window * (double)p->channels;
    c->band_rows = per_row >= 32768.0 ? 1 : (int64_t)(32768.0 / per_row);
    if (c->band_rows > p->out_height) c->band_rows = p->out_height;
    c->bands = (p->out_height + c->band_rows - 1) / c->band_rows;
    const size_t lanes = c->average ? AP_LANES * AP_LANE_STRIDE * sizeof(AP_T) : 0;
    return cconv_pool_parallel(&p->run, p->batch * c->bands, lanes, AP_FN(cl_forward_item_), c);
}

/* Zeroes channels [0, count) of every pixel of rows [h0, h1) of one image of grad_input (gi
 * points at its first channel). */
static void AP_FN(cl_zero_rows_)(AP_T *gi, cconv_pool_layout l, int64_t h0, int64_t h1,
                                 int64_t W, int64_t count)
{
    if (l.w == count && (l.h == W * count || h1 - h0 <= 1)) { /* one contiguous run */
        AP_T *R run = gi + h0 * l.h;
        for (int64_t k = 0; k < (h1 - h0) * W * count; k++) run[k] = (AP_T)0;
        return;
    }
    for (int64_t h = h0; h < h1; h++) {
        for (int64_t w = 0; w < W; w++) {
            AP_T *R px = gi + h * l.h + w * l.w;
            for (int64_t k = 0; k < count; k++) px[k] = (AP_T)0;
        }
    }
}

/* The gradient of average pooling over one block of channels of one image (item = image *
 * blocks + block), zeroing each input row just before the first window that reaches it (the
 * windows' rows only move down), so that it is still in cache when it is added to. */
static cconv_status AP_FN(cl_backward_item_)(void *context, int64_t item, void *scratch)
{
    (void)scratch;
    const AP_FN(call_) *c = (const AP_FN(call_) *)context;
    const cconv_adaptive_pool2d_params *p = c->p;
    const int64_t H = p->in_height, W = p->in_width, OH = p->out_height, OW = p->out_width;
    const int64_t n = item / c->blocks, c0 = (item % c->blocks) * c->block;
    const int64_t count = p->channels - c0 < c->block ? p->channels - c0 : c->block;
    AP_T *gi = c->output + n * c->out.n + c0; /* channel stride 1 */
    const int64_t gh = c->out.h, gw = c->out.w;
    const AP_T *go = c->input + n * c->in.n + c0 * c->in.c;
    AP_T g[CCONV_POOL_CL_RUN];
    int64_t zeroed = 0; /* rows [0, zeroed) are zeroed */
    for (int64_t y = 0; y < OH; y++) {
        const int64_t h0 = cconv_adaptive_start(y, OH, H), h1 = cconv_adaptive_end(y, OH, H);
        if (h1 > zeroed) {
            AP_FN(cl_zero_rows_)(gi, c->out, zeroed, h1, W, count);
            zeroed = h1;
        }
        for (int64_t x = 0; x < OW; x++) {
            const int64_t w0 = cconv_adaptive_start(x, OW, W), w1 = cconv_adaptive_end(x, OW, W);
            const AP_T *src = go + y * c->in.h + x * c->in.w;
            const AP_T rows = (AP_T)(h1 - h0), cols = (AP_T)(w1 - w0);
            for (int64_t k = 0; k < count; k++) g[k] = src[k * c->in.c] / rows / cols;
            for (int64_t ih = h0; ih < h1; ih++) {
                for (int64_t iw = w0; iw < w1; iw++) {
                    AP_T *R px = gi + ih * gh + iw * gw;
                    for (int64_t k = 0; k < count; k++) px[k] += g[k];
                }
            }
        }
    }
    AP_FN(cl_zero_rows_)(gi, c->out, zeroed, H, W, count); /* OH = 0: nothing reached */
    return CCONV_OK;
}

/* Called by the gradient's entry point after every check, with c filled. */
static cconv_status AP_FN(cl_backward_)(AP_FN(call_) *c)
{
    const cconv_adaptive_pool2d_params *p = c->p;
    c->block = cconv_pool_channel_block(&p->run, p->batch, p->channels);
    c->blocks = (p->channels + c->block - 1) / c->block;
    return cconv_pool_parallel(&p->run, p->batch * c->blocks, 0, AP_FN(cl_backward_item_), c);
}

#undef AP_LANE_RUN
#undef AP_LANE_STRIDE
