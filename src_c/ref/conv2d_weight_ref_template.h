/* Reference weight gradient (REF_T, REF_NAME): see conv2d_weight_ref.c. */
cconv_status REF_NAME(const cconv_conv2d_weight_params *p, const REF_T *input,
                      const REF_T *grad_output, REF_T *grad_weight)
{
    cconv_status status = cconv_conv2d_weight_check(p);
    if (status != CCONV_OK) return status;
    const int64_t C = p->in_channels, H = p->in_height, W = p->in_width, O = p->out_channels;
    const int64_t KH = p->kernel_height, KW = p->kernel_width;
    const int64_t OH = p->out_height, OW = p->out_width;
    const int64_t Cg = C / p->groups, Og = O / p->groups;
    const int empty = p->batch == 0 || C == 0 || H == 0 || W == 0;
    const int64_t *st = p->input_strides;
    const int64_t sn = st ? st[0] : empty ? 0 : C * H * W, sc = st ? st[1] : empty ? 0 : H * W;
    const int64_t sy = st ? st[2] : W, sx = st ? st[3] : 1;

    for (int64_t o = 0; o < O; o++) {
        const int64_t g = o / Og;
        for (int64_t cg = 0; cg < Cg; cg++) {
            const int64_t c = g * Cg + cg;
            for (int64_t ky = 0; ky < KH; ky++) {
                for (int64_t kx = 0; kx < KW; kx++) {
                    double sum = 0.0;
                    for (int64_t n = 0; n < p->batch; n++) {
                        for (int64_t y = 0; y < OH; y++) {
                            const int64_t iy = y * p->stride_h - p->pad_top + ky * p->dilation_h;
                            if (iy < 0 || iy >= H) continue;
                            for (int64_t x = 0; x < OW; x++) {
                                const int64_t ix =
                                    x * p->stride_w - p->pad_left + kx * p->dilation_w;
                                if (ix < 0 || ix >= W) continue;
                                sum += (double)grad_output[((n * O + o) * OH + y) * OW + x] *
                                       (double)input[n * sn + c * sc + iy * sy + ix * sx];
                            }
                        }
                    }
                    grad_weight[((o * Cg + cg) * KH + ky) * KW + kx] = (REF_T)sum;
                }
            }
        }
    }
    return CCONV_OK;
}
