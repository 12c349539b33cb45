/*
 * Reference conv2d, instantiated once per element type by conv2d_ref.c (REF_T, REF_NAME).
 * Straight from the definition: for every output pixel, sum over the filter's kernels and taps;
 * a padded tap reads the pixel its border mode repeats, or an explicit padding value.  Every input
 * element is read through cconv_load_element (any input type).  Accumulates in double for both
 * types so it is a stable baseline.  No blocking, no vectorisation, no cleverness.
 */
cconv_status REF_NAME(const cconv_conv2d_params *p, const void *input, const REF_T *weight,
                      const REF_T *bias, REF_T *output)
{
    cconv_status status = cconv_conv2d_check(p);
    if (status != CCONV_OK) return status;
    if (!cconv_dtype_valid(p->input_dtype, sizeof(REF_T))) return CCONV_ERR_INVALID_ARGUMENT;
    const int64_t C = p->in_channels, H = p->in_height, W = p->in_width, O = p->out_channels;
    const int64_t KH = p->kernel_height, KW = p->kernel_width;
    const int64_t OH = p->out_height, OW = p->out_width;
    const int64_t Cg = C / p->groups, Og = O / p->groups;
    /* With an empty input no element is read, and C * H * W may not fit in 64 bits. */
    const int empty = p->batch == 0 || C == 0 || H == 0 || W == 0;
    const int64_t *st = p->input_strides;
    const int64_t sn = st ? st[0] : empty ? 0 : C * H * W, sc = st ? st[1] : empty ? 0 : H * W;
    const int64_t sy = st ? st[2] : W, sx = st ? st[3] : 1;
    const int64_t *ost = p->output_strides;
    const int out_empty = p->batch == 0 || O == 0 || OH == 0 || OW == 0;
    const int64_t osn = ost ? ost[0] : out_empty ? 0 : O * OH * OW;
    const int64_t osc = ost ? ost[1] : out_empty ? 0 : OH * OW;
    const int64_t osy = ost ? ost[2] : OW, osx = ost ? ost[3] : 1;
    const REF_T *residual = (const REF_T *)p->residual;
    const cconv_padding_mode mode = p->padding_mode;
    /* The constant border as the computation's type sees it. */
    const double fill = (double)(REF_T)p->padding_value;

    for (int64_t n = 0; n < p->batch; n++) {
        for (int64_t o = 0; o < O; o++) {
            const int64_t g = o / Og;
            for (int64_t oy = 0; oy < OH; oy++) {
                for (int64_t ox = 0; ox < OW; ox++) {
                    double sum = 0.0;
                    for (int64_t cg = 0; cg < Cg; cg++) {
                        const int64_t c = g * Cg + cg;
                        for (int64_t ky = 0; ky < KH; ky++) {
                            const int64_t iy = cconv_border_index(
                                oy * p->stride_h + ky * p->dilation_h - p->pad_top, H, mode);
                            for (int64_t kx = 0; kx < KW; kx++) {
                                const int64_t ix = cconv_border_index(
                                    ox * p->stride_w + kx * p->dilation_w - p->pad_left, W, mode);
                                /* A padded tap multiplies an explicit value rather than being
                                 * skipped, so an inf or NaN weight gives NaN there as IEEE says
                                 * (0 * inf), exactly like zero padding in the fast path. */
                                const double x =
                                    iy >= 0 && ix >= 0
                                        ? cconv_load_element(input, n * sn + c * sc + iy * sy +
                                                                        ix * sx,
                                                             p->input_dtype, sizeof(REF_T))
                                        : fill;
                                sum += x * (double)weight[((o * Cg + cg) * KH + ky) * KW + kx];
                            }
                        }
                    }
                    if (bias) sum += (double)bias[o];
                    /* The output stage, straight from its definition (NaN passes through). */
                    REF_T y = (REF_T)sum;
                    const int64_t at = n * osn + o * osc + oy * osy + ox * osx;
                    if (residual) y += residual[at]; /* laid out as the output */
                    switch (p->activation) {
                    case CCONV_ACTIVATION_RELU: y = y < 0 ? (REF_T)0 : y; break;
                    case CCONV_ACTIVATION_RELU6:
                        y = y < 0 ? (REF_T)0 : y;
                        y = y > 6 ? (REF_T)6 : y;
                        break;
                    case CCONV_ACTIVATION_LEAKY_RELU:
                        y = y < 0 ? y * (REF_T)p->activation_alpha : y;
                        break;
                    case CCONV_ACTIVATION_CLAMP:
                        y = y < (REF_T)p->activation_alpha ? (REF_T)p->activation_alpha : y;
                        y = y > (REF_T)p->activation_beta ? (REF_T)p->activation_beta : y;
                        break;
                    default: break;
                    }
                    output[at] = y;
                }
            }
        }
    }
    return CCONV_OK;
}
