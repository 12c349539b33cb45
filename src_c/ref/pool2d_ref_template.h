/*
 * Reference pooling, instantiated once per element type by pool2d_ref.c (REF_T, REF_SUFFIX).
 * Straight from the definitions, one output (or one input-gradient pixel) at a time, every tap
 * tested against the borders; sums accumulate in double.  The gradients are written as gathers
 * (each grad_input pixel sums the windows that read it), independent of the fast path's scatter.
 * No blocking, no vectorisation, no threads.
 */
#define REF_CAT_(a, b) a##b
#define REF_CAT(a, b) REF_CAT_(a, b)
#define REF_FN(name) REF_CAT(name, REF_SUFFIX)

/* The offset of element (n, c, h, w) of an array of shape (., C, rows, cols) with optional
 * strides (NULL: C-contiguous).  Every array, read or written, is addressed through it. */
static int64_t REF_FN(offset_)(const int64_t *strides, int64_t C, int64_t rows, int64_t cols,
                               int64_t n, int64_t c, int64_t h, int64_t w)
{
    if (strides) return n * strides[0] + c * strides[1] + h * strides[2] + w * strides[3];
    return ((n * C + c) * rows + h) * cols + w;
}

/* Element (n, c, h, w) of an array read through optional strides. */
static REF_T REF_FN(at_)(const REF_T *a, const int64_t *strides, int64_t C, int64_t rows,
                         int64_t cols, int64_t n, int64_t c, int64_t h, int64_t w)
{
    return a[REF_FN(offset_)(strides, C, rows, cols, n, c, h, w)];
}

cconv_status REF_CAT(cconv_max_pool2d_ref_, REF_SUFFIX)(const cconv_pool2d_params *p,
                                                         const REF_T *input, REF_T *output,
                                                         int64_t *indices)
{
    cconv_status status = cconv_pool2d_check(p);
    if (status != CCONV_OK) return status;
    const int64_t C = p->channels, H = p->in_height, W = p->in_width;
    const int64_t OH = p->out_height, OW = p->out_width;
    for (int64_t n = 0; n < p->batch; n++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t y = 0; y < OH; y++)
                for (int64_t x = 0; x < OW; x++) {
                    REF_T best = -(REF_T)INFINITY;
                    int64_t where = -1, first = -1;
                    for (int64_t i = 0; i < p->kernel_height; i++)
                        for (int64_t j = 0; j < p->kernel_width; j++) {
                            const int64_t h = y * p->stride_h - p->pad_top + i * p->dilation_h;
                            const int64_t w = x * p->stride_w - p->pad_left + j * p->dilation_w;
                            if (h < 0 || h >= H || w < 0 || w >= W) continue;
                            const REF_T v = REF_FN(at_)(input, p->input_strides, C, H, W, n, c,
                                                        h, w);
                            if (first < 0) first = h * W + w;
                            if (v > best || isnan(v)) {
                                best = v;
                                where = h * W + w;
                            }
                        }
                    /* The indices are laid out as the output. */
                    const int64_t o = REF_FN(offset_)(p->output_strides, C, OH, OW, n, c, y, x);
                    output[o] = best;
                    if (indices) indices[o] = where >= 0 ? where : first;
                }
    return CCONV_OK;
}

/* Average pooling's divisor for output (y, x): the override, or the taps inside the padded
 * input (count_include_pad) or inside the input. */
static int64_t REF_FN(avg_divisor_)(const cconv_pool2d_params *p, int64_t y, int64_t x)
{
    if (p->divisor != 0) return p->divisor;
    int64_t count = 0;
    for (int64_t i = 0; i < p->kernel_height; i++)
        for (int64_t j = 0; j < p->kernel_width; j++) {
            const int64_t h = y * p->stride_h - p->pad_top + i;
            const int64_t w = x * p->stride_w - p->pad_left + j;
            if (p->count_include_pad)
                count += h < p->in_height + p->pad_bottom && w < p->in_width + p->pad_right;
            else
                count += h >= 0 && h < p->in_height && w >= 0 && w < p->in_width;
        }
    return count;
}

cconv_status REF_CAT(cconv_avg_pool2d_ref_, REF_SUFFIX)(const cconv_pool2d_params *p,
                                                         const REF_T *input, REF_T *output)
{
    cconv_status status = cconv_pool2d_check(p);
    if (status != CCONV_OK) return status;
    if (p->dilation_h != 1 || p->dilation_w != 1) return CCONV_ERR_INVALID_ARGUMENT;
    const int64_t C = p->channels, H = p->in_height, W = p->in_width;
    const int64_t OH = p->out_height, OW = p->out_width;
    for (int64_t n = 0; n < p->batch; n++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t y = 0; y < OH; y++)
                for (int64_t x = 0; x < OW; x++) {
                    double sum = 0.0;
                    for (int64_t i = 0; i < p->kernel_height; i++)
                        for (int64_t j = 0; j < p->kernel_width; j++) {
                            const int64_t h = y * p->stride_h - p->pad_top + i;
                            const int64_t w = x * p->stride_w - p->pad_left + j;
                            if (h >= 0 && h < H && w >= 0 && w < W)
                                sum += (double)REF_FN(at_)(input, p->input_strides, C, H, W, n,
                                                           c, h, w);
                        }
                    output[REF_FN(offset_)(p->output_strides, C, OH, OW, n, c, y, x)] =
                        (REF_T)(sum / (double)REF_FN(avg_divisor_)(p, y, x));
                }
    return CCONV_OK;
}

cconv_status REF_CAT(cconv_avg_pool2d_backward_ref_, REF_SUFFIX)(const cconv_pool2d_params *p,
                                                                  const REF_T *grad_output,
                                                                  REF_T *grad_input)
{
    cconv_status status = cconv_pool2d_check(p);
    if (status != CCONV_OK) return status;
    if (p->dilation_h != 1 || p->dilation_w != 1) return CCONV_ERR_INVALID_ARGUMENT;
    const int64_t C = p->channels, H = p->in_height, W = p->in_width;
    const int64_t OH = p->out_height, OW = p->out_width;
    for (int64_t n = 0; n < p->batch; n++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t h = 0; h < H; h++)
                for (int64_t w = 0; w < W; w++) {
                    double sum = 0.0;
                    for (int64_t y = 0; y < OH; y++)
                        for (int64_t x = 0; x < OW; x++) {
                            const int64_t i = h - (y * p->stride_h - p->pad_top);
                            const int64_t j = w - (x * p->stride_w - p->pad_left);
                            if (i < 0 || i >= p->kernel_height || j < 0 || j >= p->kernel_width)
                                continue;
                            sum += (double)REF_FN(at_)(grad_output, p->input_strides, C, OH, OW,
                                                       n, c, y, x) /
                                   (double)REF_FN(avg_divisor_)(p, y, x);
                        }
                    grad_input[REF_FN(offset_)(p->output_strides, C, H, W, n, c, h, w)] =
                        (REF_T)sum;
                }
    return CCONV_OK;
}

cconv_status REF_CAT(cconv_adaptive_avg_pool2d_ref_, REF_SUFFIX)(
    const cconv_adaptive_pool2d_params *p, const REF_T *input, REF_T *output)
{
    cconv_status status = cconv_adaptive_pool2d_check(p);
    if (status != CCONV_OK) return status;
    const int64_t C = p->channels, H = p->in_height, W = p->in_width;
    const int64_t OH = p->out_height, OW = p->out_width;
    for (int64_t n = 0; n < p->batch; n++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t y = 0; y < OH; y++)
                for (int64_t x = 0; x < OW; x++) {
                    const int64_t h0 = (y * H) / OH, h1 = ((y + 1) * H + OH - 1) / OH;
                    const int64_t w0 = (x * W) / OW, w1 = ((x + 1) * W + OW - 1) / OW;
                    double sum = 0.0;
                    for (int64_t h = h0; h < h1; h++)
                        for (int64_t w = w0; w < w1; w++)
                            sum += (double)REF_FN(at_)(input, p->input_strides, C, H, W, n, c, h,
                                                       w);
                    output[REF_FN(offset_)(p->output_strides, C, OH, OW, n, c, y, x)] =
                        (REF_T)(sum / (double)((h1 - h0) * (w1 - w0)));
                }
    return CCONV_OK;
}

cconv_status REF_CAT(cconv_adaptive_max_pool2d_ref_, REF_SUFFIX)(
    const cconv_adaptive_pool2d_params *p, const REF_T *input, REF_T *output, int64_t *indices)
{
    cconv_status status = cconv_adaptive_pool2d_check(p);
    if (status != CCONV_OK) return status;
    const int64_t C = p->channels, H = p->in_height, W = p->in_width;
    const int64_t OH = p->out_height, OW = p->out_width;
    for (int64_t n = 0; n < p->batch; n++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t y = 0; y < OH; y++)
                for (int64_t x = 0; x < OW; x++) {
                    const int64_t h0 = (y * H) / OH, h1 = ((y + 1) * H + OH - 1) / OH;
                    const int64_t w0 = (x * W) / OW, w1 = ((x + 1) * W + OW - 1) / OW;
                    REF_T best = -(REF_T)INFINITY;
                    int64_t where = h0 * W + w0;
                    for (int64_t h = h0; h < h1; h++)
                        for (int64_t w = w0; w < w1; w++) {
                            const REF_T v = REF_FN(at_)(input, p->input_strides, C, H, W, n, c,
                                                        h, w);
                            if (v > best || isnan(v)) {
                                best = v;
                                where = h * W + w;
                            }
                        }
                    const int64_t o = REF_FN(offset_)(p->output_strides, C, OH, OW, n, c, y, x);
                    output[o] = best;
                    if (indices) indices[o] = where;
                }
    return CCONV_OK;
}

cconv_status REF_CAT(cconv_adaptive_avg_pool2d_backward_ref_, REF_SUFFIX)(
    const cconv_adaptive_pool2d_params *p, const REF_T *grad_output, REF_T *grad_input)
{
    cconv_status status = cconv_adaptive_pool2d_check(p);
    if (status != CCONV_OK) return status;
    const int64_t C = p->channels, H = p->in_height, W = p->in_width;
    const int64_t OH = p->out_height, OW = p->out_width;
    for (int64_t n = 0; n < p->batch; n++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t h = 0; h < H; h++)
                for (int64_t w = 0; w < W; w++) {
                    double sum = 0.0;
                    for (int64_t y = 0; y < OH; y++)
                        for (int64_t x = 0; x < OW; x++) {
                            const int64_t h0 = (y * H) / OH, h1 = ((y + 1) * H + OH - 1) / OH;
                            const int64_t w0 = (x * W) / OW, w1 = ((x + 1) * W + OW - 1) / OW;
                            if (h < h0 || h >= h1 || w < w0 || w >= w1) continue;
                            sum += (double)REF_FN(at_)(grad_output, p->input_strides, C, OH, OW,
                                                       n, c, y, x) /
                                   (double)((h1 - h0) * (w1 - w0));
                        }
                    grad_input[REF_FN(offset_)(p->output_strides, C, H, W, n, c, h, w)] =
                        (REF_T)sum;
                }
    return CCONV_OK;
}

cconv_status REF_CAT(cconv_max_pool2d_backward_ref_, REF_SUFFIX)(
    const cconv_adaptive_pool2d_params *p, const REF_T *grad_output, const int64_t *indices,
    REF_T *grad_input)
{
    cconv_status status = cconv_max_pool2d_backward_check(p);
    if (status != CCONV_OK) return status;
    const int64_t C = p->channels, H = p->in_height, W = p->in_width;
    const int64_t OH = p->out_height, OW = p->out_width;
    const int64_t *is = p->indices_strides;
    for (int64_t n = 0; n < p->batch; n++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t y = 0; y < OH; y++)
                for (int64_t x = 0; x < OW; x++) {
                    const int64_t k = indices[REF_FN(offset_)(is, C, OH, OW, n, c, y, x)];
                    if (k < 0 || k >= H * W) return CCONV_ERR_INVALID_ARGUMENT;
                }
    for (int64_t n = 0; n < p->batch; n++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t h = 0; h < H; h++)
                for (int64_t w = 0; w < W; w++) {
                    double sum = 0.0;
                    for (int64_t y = 0; y < OH; y++)
                        for (int64_t x = 0; x < OW; x++) {
                            if (indices[REF_FN(offset_)(is, C, OH, OW, n, c, y, x)] == h * W + w)
                                sum += (double)REF_FN(at_)(grad_output, p->input_strides, C, OH,
                                                           OW, n, c, y, x);
                        }
                    grad_input[REF_FN(offset_)(p->output_strides, C, H, W, n, c, h, w)] =
                        (REF_T)sum;
                }
    return CCONV_OK;
}

#undef REF_FN
#undef REF_CAT
#undef REF_CAT_
