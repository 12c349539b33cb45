/*
 * Channels-last max and average pooling: the loop pool2d_forward_template.h runs when the input's
 * channel stride is 1 and it has enough channels (cconv_pool_channels_last).  Included by it,
 * inside its PF_T / PF_CODE / PF_FN / R definitions, after pool2d_cl_window_template.h.
 *
 * A work item is a band of output rows of one image.  Each output pixel's window is clipped to
 * the taps that lie inside the input (padding taps are -inf or 0, which change nothing), then
 * reduced a block or run of channels at a time by the window loops
 * (pool2d_cl_window_template.h), whose channels are contiguous vectors; no inner loop branches
 * on a border.  The output (and the indices, laid out as it) may have any strides.
 */

typedef struct PF_FN(cl_call_) {
    const cconv_pool2d_params *p;
    cconv_pool_layout in, out;
    const PF_T *input;
    PF_T *output;
    int64_t *indices; /* NULL: none (or average pooling) */
    int average;
    int coded;        /* the plane's flat indices fit PF_CODE */
    int64_t band_rows, bands;
    /* Per output column x, at [3x], [3x+1], [3x+2]: the kernel columns [j0, j1) that read inside
     * the input, and the window's width as average pooling counts it. */
    const int64_t *columns;
} PF_FN(cl_call_);

/* The kernel taps t in [*t0, *t1) of a window starting at `start` (maybe in the padding) whose
 * input position start + t*dilation lies in [0, in).  The check made sure there is one. */
static void PF_FN(cl_taps_)(int64_t start, int64_t kernel, int64_t dilation, int64_t in,
                            int64_t *t0, int64_t *t1)
{
    *t0 = start >= 0 ? 0 : cconv_ceil_div(-start, dilation);
    *t1 = (in - 1 - start) / dilation + 1;
    if (*t1 > kernel) *t1 = kernel;
}

/* Sums: acc[0 .. count) = the sums of channels c0 .. c0+count over the window, row-major.  The
 * block's sums stay in registers across the taps (a loop over a constant number of channels). */
#define PF_CL_SUM(count)                                                                       \
    PF_T m[PF_CL_BLOCK];                                                                       \
    for (int64_t c = 0; c < (count); c++) m[c] = (PF_T)0;                                      \
    for (int64_t a = 0; a < w->rows; a++) {                                                    \
        const PF_T *row = w->first + c0 + a * w->row_step;                                     \
        for (int64_t b = 0; b < w->cols; b++) {                                                \
            const PF_T *R s = row + b * w->col_step;                                           \
            for (int64_t c = 0; c < (count); c++) m[c] += s[c];                                \
        }                                                                                      \
    }                                                                                          \
    for (int64_t c = 0; c < (count); c++) acc[c] = m[c];

static void PF_FN(cl_sum_block_)(const PF_FN(cl_window_) *w, int64_t c0, PF_T *R acc)
{
    PF_CL_SUM(PF_CL_BLOCK)
}
static void PF_FN(cl_sum_part_)(const PF_FN(cl_window_) *w, int64_t c0, int64_t n, PF_T *R acc)
{
    PF_CL_SUM(n)
}
#undef PF_CL_SUM

/* Writes count channels of one output pixel from acc (and where), divided by d when d != 0. */
static void PF_FN(cl_store_)(PF_T *R dst, int64_t *R ix, int64_t step, const PF_T *R acc,
                             const int64_t *R where, int64_t count, PF_T d)
{
    if (d != (PF_T)0) {
        if (step == 1) {
            for (int64_t c = 0; c < count; c++) dst[c] = acc[c] / d;
        } else {
            for (int64_t c = 0; c < count; c++) dst[c * step] = acc[c] / d;
        }
        return;
    }
    if (step == 1) {
        for (int64_t c = 0; c < count; c++) dst[c] = acc[c];
    } else {
        for (int64_t c = 0; c < count; c++) dst[c * step] = acc[c];
    }
    if (ix) {
        for (int64_t c = 0; c < count; c++) ix[c * step] = where[c];
    }
}

/* Average pooling of one output pixel: blocks of PF_CL_BLOCK channels, the last one ending at
 * channel C and overlapping the one before it (recomputing a few channels to the same values),
 * so that every block of an image of PF_CL_BLOCK channels or more runs the constant trip count;
 * fewer channels make one short block. */
static void PF_FN(cl_average_pixel_)(const PF_FN(cl_window_) *w, int64_t C, PF_T *dst,
                                     int64_t step, PF_T d)
{
    PF_T acc[PF_CL_BLOCK];
    if (C < PF_CL_BLOCK) {
        PF_FN(cl_sum_part_)(w, 0, C, acc);
        PF_FN(cl_store_)(dst, NULL, step, acc, NULL, C, d);
        return;
    }
    for (int64_t c0 = 0; c0 < C; c0 += PF_CL_BLOCK) {
        const int64_t start = c0 + PF_CL_BLOCK > C ? C - PF_CL_BLOCK : c0;
        PF_FN(cl_sum_block_)(w, start, acc);
        PF_FN(cl_store_)(dst + start * step, NULL, step, acc, NULL, PF_CL_BLOCK, d);
    }
}

/* Max pooling of one output pixel: runs of up to CCONV_POOL_CL_RUN channels. */
static void PF_FN(cl_max_pixel_)(const PF_FN(cl_call_) *c, const PF_FN(cl_window_) *w,
                                 int64_t at)
{
    PF_T acc[CCONV_POOL_CL_RUN];
    PF_CODE code[CCONV_POOL_CL_RUN];
    int64_t where[CCONV_POOL_CL_RUN];
    const int64_t C = c->p->channels, step = c->out.c;
    for (int64_t c0 = 0; c0 < C; c0 += CCONV_POOL_CL_RUN) {
        const int64_t n = C - c0 < CCONV_POOL_CL_RUN ? C - c0 : CCONV_POOL_CL_RUN;
        int64_t *ix = c->indices ? c->indices + at + c0 * step : NULL;
        if (!ix) {
            PF_FN(cl_max_)(w, c0, n, acc, NULL);
        } else if (c->coded) {
            PF_FN(cl_max_)(w, c0, n, acc, code);
            for (int64_t i = 0; i < n; i++) where[i] = (int64_t)code[i];
        } else {
            PF_FN(cl_max_wide_)(w, c0, n, acc, where);
        }
        PF_FN(cl_store_)(c->output + at + c0 * step, ix, step, acc, where, n, (PF_T)0);
    }
}

static cconv_status PF_FN(cl_item_)(void *context, int64_t item, void *scratch)
{
    (void)scratch;
    const PF_FN(cl_call_) *c = (const PF_FN(cl_call_) *)context;
    const cconv_pool2d_params *p = c->p;
    const int64_t n = item / c->bands, band = item % c->bands;
    const int64_t H = p->in_height, W = p->in_width, OH = p->out_height, OW = p->out_width;
    const int64_t dH = p->dilation_h, dW = p->dilation_w;
    const PF_T *image = c->input + n * c->in.n;
    const int64_t y0 = band * c->band_rows;
    const int64_t y1 = y0 + c->band_rows < OH ? y0 + c->band_rows : OH;
    for (int64_t y = y0; y < y1; y++) {
        const int64_t top = y * p->stride_h - p->pad_top;
        int64_t i0, i1;
        PF_FN(cl_taps_)(top, p->kernel_height, dH, H, &i0, &i1);
        const int64_t rows =
            PF_FN(window_count_)(top, p->kernel_height, H, p->pad_bottom, p->count_include_pad);
        for (int64_t x = 0; x < OW; x++) {
            const int64_t *col = c->columns + 3 * x;
            const int64_t ih = top + i0 * dH, iw = x * p->stride_w - p->pad_left + col[0] * dW;
            const PF_FN(cl_window_) w = {image + ih * c->in.h + iw * c->in.w,
                                         i1 - i0,
                                         col[1] - col[0],
                                         dH * c->in.h,
                                         dW * c->in.w,
                                         ih * W + iw,
                                         dH * W,
                                         dW};
            const int64_t at = n * c->out.n + y * c->out.h + x * c->out.w;
            if (!c->average) {
                PF_FN(cl_max_pixel_)(c, &w, at);
                continue;
            }
            /* The divisor, as the planar loop computes it. */
            const PF_T d = (PF_T)(p->divisor != 0 ? p->divisor : rows * col[2]);
            PF_FN(cl_average_pixel_)(&w, p->channels, c->output + at, c->out.c, d);
        }
    }
    return CCONV_OK;
}

/* Called by pool2d_ after every check, for a channels-last input (cconv_pool_channels_last). */
static cconv_status PF_FN(cl_pool2d_)(const cconv_pool2d_params *p, cconv_pool_layout in,
                                      cconv_pool_layout out, const PF_T *input, PF_T *output,
                                      int64_t *indices, int average)
{
    PF_FN(cl_call_) c;
    c.p = p;
    c.in = in;
    c.out = out;
    c.input = input;
    c.output = output;
    c.indices = indices;
    c.average = average;
    /* Flat indices run to H*W - 1; the check keeps H*W inside 64 bits. */
    c.coded = sizeof(PF_CODE) == sizeof(int64_t) ||
              p->in_height * p->in_width - 1 <= (int64_t)INT32_MAX;
    /* Bands of about 32K taps, as in the planar loop (counted in double: the product of sizes
     * that the check bounded one by one may pass 64 bits). */
    const double taps_per_row = (double)p->out_width * (double)p->kernel_height *
                                (double)p->kernel_width * (double)p->channels;
    c.band_rows = taps_per_row >= 32768.0 ? 1 : (int64_t)(32768.0 / taps_per_row);
    if (c.band_rows > p->out_height) c.band_rows = p->out_height;
    c.bands = (p->out_height + c.band_rows - 1) / c.band_rows;
    /* The output's columns are as many as the (existing) output's elements: 3 of them fit. */
    int64_t *columns = (int64_t *)malloc((size_t)p->out_width * 3 * sizeof(int64_t));
    if (!columns) return CCONV_ERR_NO_MEMORY;
    for (int64_t x = 0; x < p->out_width; x++) {
        const int64_t left = x * p->stride_w - p->pad_left;
        PF_FN(cl_taps_)(left, p->kernel_width, p->dilation_w, p->in_width, &columns[3 * x],
                        &columns[3 * x + 1]);
        columns[3 * x + 2] = PF_FN(window_count_)(left, p->kernel_width, p->in_width,
                                                  p->pad_right, p->count_include_pad);
    }
    c.columns = columns;
    const cconv_status status =
        cconv_pool_parallel(&p->run, p->batch * c.bands, 0, PF_FN(cl_item_), &c);
    free(columns);
    return status;
}
