/*
 * Transposed convolution, instantiated once per element type by conv_transpose2d.c.
 * Needs: TR_T (element type), TR_SUFFIX (f32/f64).
 *
 * Output row y receives input row i through kernel row ky exactly when
 *   y = i * stride - pad_top + ky * dilation.
 * Split the output rows by phase r = y mod stride, y = r + stride * q: the kernel rows that reach
 * phase r are those with (r + pad_top - ky * dilation) divisible by the stride, and for them
 *   i = q + e(ky),  e(ky) = (r + pad_top - ky * dilation) / stride.
 * Those ky are spaced by stride / g (g = gcd(stride, dilation)), so taken from the largest down
 * their e(ky) rise by dilation / g: phase r is the plain correlation of the input with those
 * kernel rows, reversed, at dilation dilation / g, stride 1, starting e_min rows into the input
 * (padding where e_min < 0).  The same holds for columns.  Each of the stride_h x stride_w
 * phases is then one conv2d call on the ordinary driver and micro-kernels, writing every
 * stride-th row and column of the output through output strides: no zero is inserted between
 * input pixels and no column buffer is made.
 */
#define TR_CAT_(a, b) a##b
#define TR_CAT(a, b) TR_CAT_(a, b)
#define TR_FN(name) TR_CAT(name, TR_SUFFIX)

/* Every output of one phase is its bias (no kernel tap or no input pixel reaches it). */
static void TR_FN(fill_phase_)(const cconv_conv_transpose2d_params *p, const TR_T *bias,
                               TR_T *out, const int64_t strides[4], int64_t rows, int64_t cols)
{
    for (int64_t n = 0; n < p->batch; n++) {
        for (int64_t o = 0; o < p->out_channels; o++) {
            const TR_T value = bias ? bias[o] : (TR_T)0;
            for (int64_t q = 0; q < rows; q++) {
                TR_T *row = out + n * strides[0] + o * strides[1] + q * strides[2];
                for (int64_t x = 0; x < cols; x++) row[x * strides[3]] = value;
            }
        }
    }
}

/* The phase's kernel taps, reversed (w2[o][c][tj][ti] = weight[c'][o'][ky_j][kx_i] for o's group
 * g: c' = g * C/groups + c, o' = o mod O/groups).  The weight is read in its own order (input
 * channels outside), so that its reads stream; each output channel's row of w2 is then filled
 * front to back, one cache line per row in use.  (Read in place through strides instead, the
 * weight of a deep layer, megabytes with a stride of O/groups kernels between input channels,
 * defeats the prefetchers: measured 2x slower than this copy plus a plain conv2d.) */
static void TR_FN(pack_phase_weights_)(const cconv_conv_transpose2d_params *p,
                                       const TR_T *weight, const cconv_transpose_axis *rows,
                                       const cconv_transpose_axis *cols, TR_T *packed)
{
    const int64_t Cg = p->in_channels / p->groups, Og = p->out_channels / p->groups;
    const int64_t kH = p->kernel_height, kW = p->kernel_width;
    const int64_t taps = rows->taps * cols->taps, row = Cg * taps;
    for (int64_t g = 0; g < p->groups; g++) {
        for (int64_t c = 0; c < Cg; c++) {
            const TR_T *w = weight + (g * Cg + c) * Og * kH * kW;
            for (int64_t o = 0; o < Og; o++, w += kH * kW) {
                TR_T *dst = packed + (g * Og + o) * row + c * taps;
                for (int64_t tj = 0; tj < rows->taps; tj++) {
                    const int64_t ky = rows->first_tap - tj * rows->tap_step;
                    for (int64_t ti = 0; ti < cols->taps; ti++)
                        *dst++ = w[ky * kW + cols->first_tap - ti * cols->tap_step];
                }
            }
        }
    }
}

/* The conv2d call of phase (rows, cols): its parameters into c (with in_st, phase_st, which
 * must outlive it). */
static void TR_FN(phase_params_)(const cconv_conv_transpose2d_params *p,
                                 const cconv_transpose_axis *rows,
                                 const cconv_transpose_axis *cols, const int64_t *in_st,
                                 const int64_t *phase_st, cconv_conv2d_params *c)
{
    memset(c, 0, sizeof(*c));
    c->batch = p->batch;
    c->in_channels = p->in_channels;
    c->in_height = rows->in_count;
    c->in_width = cols->in_count;
    c->out_channels = p->out_channels;
    c->kernel_height = rows->taps;
    c->kernel_width = cols->taps;
    c->stride_h = c->stride_w = 1;
    c->pad_top = rows->pad_before;
    c->pad_bottom = rows->pad_after;
    c->pad_left = cols->pad_before;
    c->pad_right = cols->pad_after;
    c->dilation_h = rows->dilation;
    c->dilation_w = cols->dilation;
    c->groups = p->groups;
    c->out_height = rows->outputs;
    c->out_width = cols->outputs;
    c->input_strides = in_st;
    c->output_strides = phase_st;
    c->run = p->run;
}

/* The element strides of the input (element (0, 0, 0, 0) at `input`) and of the output, and
 * those of one output phase, whose rows and columns are stride apart (it has one row when
 * stride_h >= OH, and then that step is never taken: it is clamped so that it cannot
 * overflow). */
static void TR_FN(strides_)(const cconv_conv_transpose2d_params *p, int64_t in_st[4],
                            int64_t out_st[4], int64_t phase_st[4])
{
    const int64_t OH = p->out_height, OW = p->out_width, plane = OH * OW;
    if (p->input_strides) {
        memcpy(in_st, p->input_strides, 4 * sizeof(int64_t));
    } else if (p->in_channels == 0 || p->in_height == 0 || p->in_width == 0) {
        /* An empty input is never read, and its other sizes may be huge: their products could
         * overflow. */
        in_st[0] = in_st[1] = in_st[2] = in_st[3] = 0;
    } else {
        in_st[3] = 1;
        in_st[2] = p->in_width;
        in_st[1] = p->in_height * p->in_width;
        in_st[0] = p->in_channels * in_st[1];
    }
    out_st[0] = p->out_channels * plane;
    out_st[1] = plane;
    out_st[2] = OW;
    out_st[3] = 1;
    if (p->output_strides) memcpy(out_st, p->output_strides, 4 * sizeof(int64_t));
    phase_st[0] = out_st[0];
    phase_st[1] = out_st[1];
    phase_st[2] = (p->stride_h < OH ? p->stride_h : 1) * out_st[2];
    phase_st[3] = (p->stride_w < OW ? p->stride_w : 1) * out_st[3];
}

cconv_status TR_FN(cconv_conv_transpose2d_)(const cconv_conv_transpose2d_params *p,
                                            const TR_T *input, const TR_T *weight,
                                            const TR_T *bias, TR_T *output)
{
    cconv_status status = cconv_conv_transpose2d_check(p);
    if (status != CCONV_OK) return status;
    const cconv_conv_transpose2d_packed *given = p->packed_weights;
    if (given && !transpose_packed_fits(given, p, sizeof(TR_T), bias != NULL))
        return CCONV_ERR_INVALID_ARGUMENT;
    if (p->batch == 0 || p->out_channels == 0 || p->out_height == 0 || p->out_width == 0)
        return CCONV_OK;
    if (!output) return CCONV_ERR_INVALID_ARGUMENT;
    const int64_t OH = p->out_height, OW = p->out_width, sh = p->stride_h, sw = p->stride_w;
    const int empty_input = p->in_channels == 0 || p->in_height == 0 || p->in_width == 0;
    if (!empty_input && (!input || !weight)) return CCONV_ERR_INVALID_ARGUMENT;

    int64_t in_st[4], out_st[4], phase_st[4];
    TR_FN(strides_)(p, in_st, out_st, phase_st);
    if (empty_input) { /* every output is its bias */
        TR_FN(fill_phase_)(p, bias, output, out_st, OH, OW);
        return CCONV_OK;
    }

    /* The reversed taps of one phase (no larger than the whole kernel), unless packed. */
    const int64_t Cg = p->in_channels / p->groups;
    TR_T *packed = NULL;
    if (!given) {
        packed = (TR_T *)malloc((size_t)(p->out_channels * Cg * p->kernel_height *
                                          p->kernel_width) * sizeof(TR_T) + 1);
        if (!packed) return CCONV_ERR_NO_MEMORY;
    }
    const int64_t phases_h = sh < OH ? sh : OH, phases_w = sw < OW ? sw : OW;
    for (int64_t rh = 0; rh < phases_h && status == CCONV_OK; rh++) {
        cconv_transpose_axis rows;
        cconv_transpose_axis_plan(&rows, rh, OH, p->in_height, p->kernel_height, sh, p->pad_top,
                                  p->dilation_h);
        for (int64_t rw = 0; rw < phases_w && status == CCONV_OK; rw++) {
            cconv_transpose_axis cols;
            cconv_transpose_axis_plan(&cols, rw, OW, p->in_width, p->kernel_width, sw,
                                      p->pad_left, p->dilation_w);
            TR_T *out = output + rh * out_st[2] + rw * out_st[3];
            if (rows.taps == 0 || cols.taps == 0 || rows.in_count == 0 || cols.in_count == 0) {
                TR_FN(fill_phase_)(p, bias, out, phase_st, rows.outputs, cols.outputs);
                continue;
            }
            cconv_conv2d_params c;
            TR_FN(phase_params_)(p, &rows, &cols, in_st, phase_st, &c);
            const TR_T *phase_weight = packed;
            if (given) {
                const int64_t slot = transpose_packed_slot(given, rh, rw);
                phase_weight = (const TR_T *)given->weights + given->offsets[slot];
                c.packed_weights = given->conv[slot];
            } else {
                TR_FN(pack_phase_weights_)(p, weight, &rows, &cols, packed);
            }
            /* The handoff comes once, near the end of the whole call: in its last phase. */
            if (rh != phases_h - 1 || rw != phases_w - 1) c.run.handoff = NULL;
            status = TR_CAT(cconv_conv2d_, TR_SUFFIX)(
                &c, input + rows.in_first * in_st[2] + cols.in_first * in_st[3], phase_weight,
                bias, out);
        }
    }
    free(packed);
    return status;
}

cconv_status TR_FN(cconv_conv_transpose2d_pack_)(const cconv_conv_transpose2d_params *p,
                                                 const TR_T *weight, const TR_T *bias,
                                                 cconv_conv_transpose2d_packed **packed)
{
    if (!packed) return CCONV_ERR_INVALID_ARGUMENT;
    *packed = NULL;
    cconv_status status = cconv_conv_transpose2d_check(p);
    if (status != CCONV_OK) return status;
    if (p->in_channels == 0 || p->out_channels == 0) return CCONV_OK;
    if (!weight) return CCONV_ERR_INVALID_ARGUMENT;
    cconv_conv_transpose2d_packed *pk = transpose_packed_new(p, sizeof(TR_T), bias != NULL);
    if (!pk) return CCONV_ERR_NO_MEMORY;
    /* Every phase pair's reversed taps, whatever the sizes. */
    for (int64_t a = 0; a < pk->row_count; a++) {
        cconv_transpose_axis rows;
        phase_taps(&rows, pk->row_phases[a], p->kernel_height, p->stride_h, p->pad_top,
                   p->dilation_h);
        for (int64_t b = 0; b < pk->col_count; b++) {
            cconv_transpose_axis cols;
            phase_taps(&cols, pk->col_phases[b], p->kernel_width, p->stride_w, p->pad_left,
                       p->dilation_w);
            TR_FN(pack_phase_weights_)(p, weight, &rows, &cols,
                                       (TR_T *)pk->weights + pk->offsets[a * pk->col_count + b]);
        }
    }
    /* And, for the phases of a call with these sizes and layouts that run the channels-last
     * kernels, those kernels' packing of them (their layout does not depend on the sizes). */
    const int64_t OH = p->out_height, OW = p->out_width;
    if (p->batch > 0 && OH > 0 && OW > 0 && p->in_height > 0 && p->in_width > 0) {
        int64_t in_st[4], out_st[4], phase_st[4];
        TR_FN(strides_)(p, in_st, out_st, phase_st);
        const int64_t phases_h = p->stride_h < OH ? p->stride_h : OH;
        const int64_t phases_w = p->stride_w < OW ? p->stride_w : OW;
        for (int64_t rh = 0; rh < phases_h && status == CCONV_OK; rh++) {
            cconv_transpose_axis rows;
            cconv_transpose_axis_plan(&rows, rh, OH, p->in_height, p->kernel_height,
                                      p->stride_h, p->pad_top, p->dilation_h);
            for (int64_t rw = 0; rw < phases_w && status == CCONV_OK; rw++) {
                cconv_transpose_axis cols;
                cconv_transpose_axis_plan(&cols, rw, OW, p->in_width, p->kernel_width,
                                          p->stride_w, p->pad_left, p->dilation_w);
                if (rows.taps == 0 || cols.taps == 0 || rows.in_count == 0 ||
                    cols.in_count == 0)
                    continue;
                cconv_conv2d_params c;
                TR_FN(phase_params_)(p, &rows, &cols, in_st, phase_st, &c);
                const int64_t slot = transpose_packed_slot(pk, rh, rw);
                status = TR_CAT(cconv_conv2d_pack_, TR_SUFFIX)(
                    &c, (const TR_T *)pk->weights + pk->offsets[slot], bias, &pk->conv[slot]);
            }
        }
    }
    if (status != CCONV_OK) {
        cconv_conv_transpose2d_packed_destroy(pk);
        return status;
    }
    *packed = pk;
    return CCONV_OK;
}

#undef TR_FN
#undef TR_CAT
#undef TR_CAT_
