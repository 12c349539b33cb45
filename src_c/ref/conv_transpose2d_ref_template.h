/* Reference transposed convolution (REF_T, REF_NAME): see conv_transpose2d_ref.c. */
cconv_status REF_NAME(const cconv_conv_transpose2d_params *p, const REF_T *input,
                      const REF_T *weight, const REF_T *bias, REF_T *output)
{
    cconv_status status = cconv_conv_transpose2d_check(p);
    if (status != CCONV_OK) return status;
    const int64_t C = p->in_channels, H = p->in_height, W = p->in_width, O = p->out_channels;
    const int64_t KH = p->kernel_height, KW = p->kernel_width;
    const int64_t OH = p->out_height, OW = p->out_width;
    const int64_t Cg = C / p->groups, Og = O / p->groups;
    const int empty = p->batch == 0 || C == 0 || H == 0 || W == 0;
    const int64_t *st = p->input_strides;
    const int64_t sn = st ? st[0] : empty ? 0 : C * H * W, sc = st ? st[1] : empty ? 0 : H * W;
    const int64_t sy = st ? st[2] : W, sx = st ? st[3] : 1;
    const int64_t *ost = p->output_strides;
    /* An empty output may have huge sizes whose product overflows; nothing is written then. */
    const int empty_out = p->batch == 0 || O == 0 || OH == 0 || OW == 0;
    const int64_t osn = ost ? ost[0] : empty_out ? 0 : O * OH * OW;
    const int64_t osc = ost ? ost[1] : empty_out ? 0 : OH * OW;
    const int64_t osy = ost ? ost[2] : OW, osx = ost ? ost[3] : 1;

    for (int64_t n = 0; n < p->batch; n++) {
        for (int64_t o = 0; o < O; o++) {
            const int64_t g = o / Og;
            for (int64_t y = 0; y < OH; y++) {
                for (int64_t x = 0; x < OW; x++) {
                    double sum = bias ? (double)bias[o] : 0.0;
                    for (int64_t cg = 0; cg < Cg; cg++) {
                        const int64_t c = g * Cg + cg;
                        for (int64_t ky = 0; ky < KH; ky++) {
                            /* y = i * stride - pad + ky * dilation, solved for i. */
                            const int64_t ty = y + p->pad_top - ky * p->dilation_h;
                            if (ty < 0 || ty % p->stride_h) continue;
                            const int64_t i = ty / p->stride_h;
                            if (i >= H) continue;
                            for (int64_t kx = 0; kx < KW; kx++) {
                                const int64_t tx = x + p->pad_left - kx * p->dilation_w;
                                if (tx < 0 || tx % p->stride_w) continue;
                                const int64_t j = tx / p->stride_w;
                                if (j >= W) continue;
                                sum += (double)input[n * sn + c * sc + i * sy + j * sx] *
                                       (double)weight[((c * Og + o % Og) * KH + ky) * KW + kx];
                            }
                        }
                    }
                    output[n * osn + o * osc + y * osy + x * osx] = (REF_T)sum;
                }
            }
        }
    }
    return CCONV_OK;
}
