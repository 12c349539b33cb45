/*
 * The planar conv2d driver loops, instantiated once per element type by conv2d_driver.c (with
 * the channels-last driver and the entry points after it).
 * Needs: DRV_T (element type), DRV_SUFFIX (f32/f64), DRV_UKERNEL (micro-kernel pointer type),
 * DRV_SET(field) (the kernel-set field for this type, e.g. f32_vl).
 * See conv2d_plan.h for the band layout; this file owns padding and edges so the micro-kernels
 * never branch on borders.
 */
#define DRV_CAT_(a, b) a##b
#define DRV_CAT(a, b) DRV_CAT_(a, b)
#define DRV_FN(name) DRV_CAT(name, DRV_SUFFIX)

/* Columns q of sub-image column phase pw whose source lies inside the row: [*q_lo, *q_hi). */
static void DRV_FN(phase_columns_)(const cconv_conv2d_plan *pl, int64_t pw, int64_t *q_lo,
                                   int64_t *q_hi)
{
    const int64_t sw = pl->stride_w, Wq = pl->sub_width;
    const int64_t a = pl->pad_left - pw, b = pl->in_width - 1 + pl->pad_left - pw;
    int64_t lo = a > 0 ? cconv_ceil_div(a, sw) : 0;
    int64_t hi = b >= 0 ? b / sw + 1 : 0;
    if (hi > Wq) hi = Wq;
    if (lo > hi) lo = hi;
    *q_lo = lo;
    *q_hi = hi;
}

/* Where input channel c of image n starts (its element (0, 0)), for an input of the
 * computation's own type (the paths that read it in place). */
static const DRV_T *DRV_FN(channel_)(const cconv_conv2d_plan *pl, const void *input, int64_t n,
                                     int64_t c)
{
    return (const DRV_T *)input + n * pl->in_stride_n + c * pl->in_stride_c;
}

/* Source element `at` (an index in the input's own elements), converted. */
static DRV_T DRV_FN(load_one_)(const cconv_conv2d_plan *pl, const void *input, int64_t at)
{
    if (pl->input_dtype == CCONV_DTYPE_SAME) return ((const DRV_T *)input)[at];
    return (DRV_T)cconv_load_element(input, at, pl->input_dtype, sizeof(DRV_T));
}

/* d[q] = source element at + (q * step) * stride, for q < count, converted to DRV_T.  (q * step)
 * stays below the row's width, so the product cannot overflow however large the two factors
 * are; step 1 and 2 are constant strides the compiler vectorises. */
#define DRV_CONVERT_RUN(S)                                                                        \
    {                                                                                             \
        const S *CCONV_RESTRICT s = (const S *)input + at;                                        \
        if (stride == 1 && step == 1) {                                                           \
            for (int64_t q = 0; q < count; q++) d[q] = (DRV_T)s[q];                               \
        } else if (stride == 1 && step == 2) {                                                    \
            for (int64_t q = 0; q < count; q++) d[q] = (DRV_T)s[2 * q];                           \
        } else {                                                                                  \
            for (int64_t q = 0; q < count; q++) d[q] = (DRV_T)s[(q * step) * stride];             \
        }                                                                                         \
    }

static void DRV_FN(copy_run_)(const cconv_conv2d_plan *pl, DRV_T *CCONV_RESTRICT d,
                              const void *input, int64_t at, int64_t count, int64_t step,
                              int64_t stride)
{
    switch (pl->input_dtype) {
    case CCONV_DTYPE_SAME:
        if (stride == 1 && step == 1) {
            memcpy(d, (const DRV_T *)input + at, (size_t)count * sizeof(DRV_T));
            return;
        }
        DRV_CONVERT_RUN(DRV_T)
        return;
    case CCONV_DTYPE_F32: DRV_CONVERT_RUN(float) return;
    case CCONV_DTYPE_U8: DRV_CONVERT_RUN(uint8_t) return;
    case CCONV_DTYPE_I8: DRV_CONVERT_RUN(int8_t) return;
    case CCONV_DTYPE_U16: DRV_CONVERT_RUN(uint16_t) return;
    case CCONV_DTYPE_I16: DRV_CONVERT_RUN(int16_t) return;
    default: return; /* refused by the entry point */
    }
}
#undef DRV_CONVERT_RUN

/* Sub-image columns [q_from, q_to) of column phase pw, which lie outside the input row: the
 * padding value, or (border modes) the pixels of source row `row_at` (the element index of its
 * column 0) that the mode repeats there. */
static void DRV_FN(border_columns_)(const cconv_conv2d_plan *pl, DRV_T *row, int64_t q_from,
                                    int64_t q_to, int64_t pw, const void *input, int64_t row_at)
{
    if (pl->padding_mode == CCONV_PAD_ZEROS) {
        const DRV_T fill = (DRV_T)pl->padding_value;
        for (int64_t q = q_from; q < q_to; q++) row[q] = fill;
        return;
    }
    for (int64_t q = q_from; q < q_to; q++) {
        const int64_t w = cconv_border_index(q * pl->stride_w + pw - pl->pad_left, pl->in_width,
                                             pl->padding_mode);
        row[q] = DRV_FN(load_one_)(pl, input, row_at + w * pl->in_stride_w);
    }
}

/* Whether padded row h of the band reads a source row (0: a row of the constant border), and
 * which: *row_at is the element index of its column 0 in channel c of image n (negative for
 * negative strides). */
static int DRV_FN(source_row_)(const cconv_conv2d_plan *pl, int64_t n, int64_t c, int64_t h,
                               int64_t *row_at)
{
    const int64_t hb = cconv_border_index(h, pl->in_height, pl->padding_mode);
    if (hb < 0) return 0;
    *row_at = n * pl->in_stride_n + c * pl->in_stride_c + hb * pl->in_stride_h;
    return 1;
}

/* Stride 2 along the rows, both column phases read, unit-stride rows of the computation's type,
 * with an instruction-set deinterleave: each source row is read once and split into its two
 * column phases; only the (at most two) edge columns of each phase that lack a partner in the
 * other are copied one by one. */
static void DRV_FN(pack_band_s2_)(const cconv_conv2d_plan *pl, DRV_DEINTERLEAVE deinterleave,
                                  const void *input, int64_t n, int64_t g, int64_t band,
                                  DRV_T *dst_band)
{
    const int64_t sh = pl->stride_h;
    const int64_t Wq = pl->sub_width, first_row = band * pl->band_rows, pad = pl->pad_left;
    const DRV_T fill = (DRV_T)pl->padding_value;
    int64_t lo0, hi0, lo1, hi1;
    DRV_FN(phase_columns_)(pl, 0, &lo0, &hi0);
    DRV_FN(phase_columns_)(pl, 1, &lo1, &hi1);
    const int64_t qa = lo0 > lo1 ? lo0 : lo1;
    int64_t qb = hi0 < hi1 ? hi0 : hi1;
    if (qb < qa) qb = qa;
    for (int64_t cg = 0; cg < pl->group_in_channels; cg++) {
        const int64_t c = g * pl->group_in_channels + cg;
        DRV_T *plane = dst_band + cg * pl->plane_stride;
        for (int64_t a = 0; a < pl->row_phase_count; a++) {
            const int64_t ph = pl->row_phases[a];
            DRV_T *sub0 = plane + (a * 2) * pl->sub_size, *sub1 = sub0 + pl->sub_size;
            for (int64_t i = 0; i < pl->sub_rows; i++) {
                int64_t row_at = 0;
                DRV_T *CCONV_RESTRICT r0 = sub0 + i * Wq;
                DRV_T *CCONV_RESTRICT r1 = sub1 + i * Wq;
                if (!DRV_FN(source_row_)(pl, n, c, (first_row + i) * sh + ph - pl->pad_top,
                                         &row_at)) {
                    for (int64_t q = 0; q < Wq; q++) r0[q] = fill;
                    for (int64_t q = 0; q < Wq; q++) r1[q] = fill;
                    continue;
                }
                /* Column q of phase pw is source column 2q + pw - pad. */
                const DRV_T *CCONV_RESTRICT s = (const DRV_T *)input + row_at;
                DRV_FN(border_columns_)(pl, r0, 0, lo0, 0, input, row_at);
                for (int64_t q = lo0; q < qa; q++) r0[q] = s[2 * q - pad];
                for (int64_t q = qb; q < hi0; q++) r0[q] = s[2 * q - pad];
                DRV_FN(border_columns_)(pl, r0, hi0, Wq, 0, input, row_at);
                DRV_FN(border_columns_)(pl, r1, 0, lo1, 1, input, row_at);
                for (int64_t q = lo1; q < qa; q++) r1[q] = s[2 * q + 1 - pad];
                for (int64_t q = qb; q < hi1; q++) r1[q] = s[2 * q + 1 - pad];
                DRV_FN(border_columns_)(pl, r1, hi1, Wq, 1, input, row_at);
                if (qb > qa) deinterleave(s + (2 * qa - pad), (size_t)(qb - qa), r0 + qa, r1 + qa);
            }
        }
    }
}

/* Copies the band's input rows of every channel in group g of image n into the polyphase planes,
 * converting them to the computation's type and writing the border for padding.  Per sub-image
 * column phase pw, the columns q whose source w = q*sw + pw - pad_left lies inside [0, W) are
 * one range [q_lo, q_hi): each row is then border, one unit- or constant-stride copy, border,
 * with no per-element branch. */
static void DRV_FN(pack_band_)(const cconv_conv2d_plan *pl, DRV_DEINTERLEAVE deinterleave,
                               const void *input, int64_t n, int64_t g, int64_t band,
                               DRV_T *dst_band)
{
    const int64_t sh = pl->stride_h, sw = pl->stride_w;
    const int64_t col_stride = pl->in_stride_w;
    const int64_t Wq = pl->sub_width, first_row = band * pl->band_rows;
    const DRV_T fill = (DRV_T)pl->padding_value;
    if (sw == 2 && pl->col_phase_count == 2 && col_stride == 1 && deinterleave &&
        pl->input_dtype == CCONV_DTYPE_SAME) {
        DRV_FN(pack_band_s2_)(pl, deinterleave, input, n, g, band, dst_band);
        return;
    }
    for (int64_t b = 0; b < pl->col_phase_count; b++) {
        const int64_t pw = pl->col_phases[b];
        int64_t q_lo, q_hi;
        DRV_FN(phase_columns_)(pl, pw, &q_lo, &q_hi);
        const int64_t count = q_hi - q_lo, src_first = q_lo * sw - (pl->pad_left - pw);
        for (int64_t cg = 0; cg < pl->group_in_channels; cg++) {
            const int64_t c = g * pl->group_in_channels + cg;
            DRV_T *plane = dst_band + cg * pl->plane_stride;
            for (int64_t a = 0; a < pl->row_phase_count; a++) {
                const int64_t ph = pl->row_phases[a];
                DRV_T *sub = plane + (a * pl->col_phase_count + b) * pl->sub_size;
                for (int64_t i = 0; i < pl->sub_rows; i++) {
                    int64_t row_at = 0;
                    DRV_T *CCONV_RESTRICT row = sub + i * Wq;
                    if (!DRV_FN(source_row_)(pl, n, c, (first_row + i) * sh + ph - pl->pad_top,
                                             &row_at)) {
                        for (int64_t q = 0; q < Wq; q++) row[q] = fill;
                        continue;
                    }
                    DRV_FN(border_columns_)(pl, row, 0, q_lo, pw, input, row_at);
                    if (count > 0)
                        DRV_FN(copy_run_)(pl, row + q_lo, input, row_at + src_first * col_stride,
                                          count, sw, col_stride);
                    DRV_FN(border_columns_)(pl, row, q_hi, Wq, pw, input, row_at);
                }
            }
        }
    }
}

/* The output stage on `count` outputs just written at dst (in the output), from src (dst itself,
 * or the tile buffer they are copied from): out = clamp(leaky(src + residual)), the residual
 * read at the same place as dst (the output is C-contiguous whenever a stage applies). */
static void DRV_FN(stage_)(const cconv_conv2d_plan *pl, const cconv_kernel_set *set,
                           const DRV_T *output, DRV_T *dst, const DRV_T *src, int64_t count)
{
    const DRV_T *residual = pl->residual ? (const DRV_T *)pl->residual + (dst - output) : NULL;
    set->DRV_SET(epilogue)(dst, src, residual, (size_t)count, (DRV_T)pl->slope, (DRV_T)pl->lo,
                           (DRV_T)pl->hi);
}

/* Copies `count` outputs of one output row from the tile buffer to dst (column stride
 * out_stride_w), through the output stage when there is one. */
static void DRV_FN(store_run_)(const cconv_conv2d_plan *pl, const cconv_kernel_set *set,
                               const DRV_T *output, DRV_T *dst, const DRV_T *src, int64_t count)
{
    if (pl->staged && pl->out_stride_w == 1) {
        DRV_FN(stage_)(pl, set, output, dst, src, count);
    } else if (pl->staged) {
        for (int64_t x = 0; x < count; x++)
            DRV_FN(stage_)(pl, set, output, dst + x * pl->out_stride_w, src + x, 1);
    } else if (pl->out_stride_w == 1) {
        memcpy(dst, src, (size_t)count * sizeof(DRV_T));
    } else {
        for (int64_t x = 0; x < count; x++) dst[x * pl->out_stride_w] = src[x];
    }
}

/* Copies the valid part of an mr x NR tile (flattened positions j0 .. j0+NR of the band) into the
 * output band (its first row, first channel), skipping the thrown-away columns x >= out_width. */
static void DRV_FN(store_tile_)(const cconv_conv2d_plan *pl, const cconv_kernel_set *set,
                                const DRV_T *output, const DRV_T *tile, int64_t mr, int64_t j0,
                                int64_t j_end, DRV_T *out_band)
{
    const int64_t Wq = pl->sub_width, OW = pl->out_width, nr = pl->nr;
    int64_t y = j0 / Wq, x = j0 - y * Wq;
    for (int64_t j = j0; j < j_end;) {
        int64_t run = Wq - x;
        if (run > j_end - j) run = j_end - j;
        int64_t valid = x < OW ? OW - x : 0;
        if (valid > run) valid = run;
        for (int64_t m = 0; m < mr && valid > 0; m++) {
            DRV_FN(store_run_)(pl, set, output,
                               out_band + m * pl->out_stride_c + y * pl->out_stride_h +
                                   x * pl->out_stride_w,
                               tile + m * nr + (j - j0), valid);
        }
        j += run;
        x += run;
        if (x == Wq) {
            x = 0;
            y++;
        }
    }
}

/* Where a tile of `extent` positions from flattened position j0 of the band reads its input: the
 * input itself when the plan allows and the reads stay inside each channel, else the packed band
 * (packed on first use, once per unit). */
static const DRV_T *DRV_FN(tile_input_)(const cconv_conv2d_plan *pl,
                                        DRV_DEINTERLEAVE deinterleave, const void *input,
                                        int64_t unit, int64_t j0, int64_t extent,
                                        DRV_T *band_buf, int64_t *packed_unit,
                                        size_t *channel_stride)
{
    const int64_t band = unit % pl->bands, image_group = unit / pl->bands;
    const int64_t g = image_group % pl->groups, n = image_group / pl->groups;
    const int64_t first_row = band * pl->band_rows;
    if (pl->in_place) { /* contiguous input: channels are planes of H*W */
        const int64_t plane = pl->in_height * pl->in_width;
        if (first_row * pl->in_width + j0 + extent + pl->max_offset <= plane) {
            *channel_stride = (size_t)plane;
            return DRV_FN(channel_)(pl, input, n, g * pl->group_in_channels) +
                   first_row * pl->in_width + j0;
        }
    }
    if (*packed_unit != unit) {
        DRV_FN(pack_band_)(pl, deinterleave, input, n, g, band, band_buf);
        *packed_unit = unit;
    }
    *channel_stride = (size_t)pl->plane_stride;
    return band_buf + j0;
}

/* Tile k of a band of `rows` output rows: where it starts in the flattened band (j0), how many
 * vectors it computes (nv), how many of its positions are valid outputs (valid, from j0), where it
 * starts in the output band (at) and whether it may store there directly.
 * Row tiles follow output rows and store in place: a row's last tile is rounded up to whole
 * vectors, and the extra lanes land in the following positions of the same channel and band,
 * which later tiles of the same channel overwrite (tiles of one channel always run in increasing
 * k).  Only a tile whose extra lanes would pass the band's end goes through the tile buffer.
 * Flattened tiles cover whole sub-image rows and go through the tile buffer unless the sub-image
 * has no thrown-away columns; the band's last one computes only the vectors it needs. */
typedef struct DRV_FN(tile_) {
    int64_t j0, nv, valid, at;
    int direct;
} DRV_FN(tile_);

static int64_t DRV_FN(tile_count_)(const cconv_conv2d_plan *pl, int64_t rows)
{
    if (pl->row_tiles) return rows * ((pl->out_width + pl->nr - 1) / pl->nr);
    return (rows * pl->sub_width + pl->nr - 1) / pl->nr;
}

static DRV_FN(tile_) DRV_FN(tile_at_)(const cconv_conv2d_plan *pl, int64_t rows, int64_t k)
{
    DRV_FN(tile_) t;
    const int64_t OW = pl->out_width, Wq = pl->sub_width, nr = pl->nr, vl = pl->vl;
    if (pl->row_tiles) {
        const int64_t per_row = (OW + nr - 1) / nr;
        const int64_t y = k / per_row, x0 = (k - y * per_row) * nr;
        t.valid = OW - x0 < nr ? OW - x0 : nr;
        t.nv = (t.valid + vl - 1) / vl;
        t.j0 = y * Wq + x0;
        t.at = y * OW + x0;
        t.direct = pl->out_rows_contiguous && t.at + t.nv * vl <= rows * OW;
    } else {
        const int64_t j_total = rows * Wq;
        t.j0 = k * nr;
        t.valid = j_total - t.j0 < nr ? j_total - t.j0 : nr;
        t.nv = (t.valid + vl - 1) / vl;
        t.at = t.j0;
        t.direct = pl->out_rows_contiguous && Wq == OW && t.j0 + t.nv * vl <= j_total;
    }
    return t;
}

static void DRV_FN(run_rows_)(const cconv_conv2d_plan *pl, const cconv_kernel_set *set,
                               const void *input, const DRV_T *weight, const DRV_T *bias,
                               DRV_T *output, int64_t unit, DRV_T *band_buf, DRV_T *tile,
                               int64_t *packed_unit);

static void DRV_FN(run_item_)(const cconv_conv2d_plan *pl, const cconv_kernel_set *set,
                              const void *input, const DRV_T *weight, const DRV_T *bias,
                              DRV_T *output, int64_t item, DRV_T *band_buf, DRV_T *tile,
                              int64_t *packed_unit)
{
    if (pl->dw_k) {
        /* The row range of up to CCONV_DW_INPLACE_MAX_PLANES consecutive output planes of one image,
         * read straight from their input planes. */
        const int64_t band = item % pl->bands, unit = item / pl->bands;
        const int64_t per_image = pl->dw_units_per_image;
        const int64_t o0 = (unit % per_image) * CCONV_DW_INPLACE_MAX_PLANES, n = unit / per_image;
        const int64_t planes = pl->out_channels - o0 < CCONV_DW_INPLACE_MAX_PLANES
                                   ? pl->out_channels - o0
                                   : CCONV_DW_INPLACE_MAX_PLANES;
        const int64_t H = pl->in_height, W = pl->in_width, OH = pl->out_height;
        const int64_t OW = pl->out_width, y0 = band * pl->band_rows, k = pl->dw_k;
        const int64_t y1 = y0 + pl->band_rows < OH ? y0 + pl->band_rows : OH;
        const DRV_T *in[CCONV_DW_INPLACE_MAX_PLANES], *w[CCONV_DW_INPLACE_MAX_PLANES];
        const DRV_T *b[CCONV_DW_INPLACE_MAX_PLANES];
        DRV_T *out[CCONV_DW_INPLACE_MAX_PLANES];
        for (int64_t q = 0; q < planes; q++) {
            const int64_t o = o0 + q;
            in[q] = DRV_FN(channel_)(pl, input, n, o / pl->group_out_channels);
            w[q] = weight + o * k * k;
            b[q] = bias ? bias + o : NULL;
            /* (This path is only planned for outputs with contiguous rows.) */
            out[q] = output + n * pl->out_stride_n + o * pl->out_stride_c;
        }
        set->DRV_SET(dw_inplace)[pl->stride_h - 1][(k - 3) / 2](
            (size_t)planes, in, (size_t)H, (size_t)W, (size_t)pl->pad_top, (size_t)pl->pad_left,
            w, bias ? b : NULL, out, (size_t)OW, (size_t)y0, (size_t)y1);
        for (int64_t q = 0; q < planes && pl->staged; q++) {
            DRV_T *rows_at = out[q] + y0 * OW;
            DRV_FN(stage_)(pl, set, output, rows_at, rows_at, (y1 - y0) * OW);
        }
        return;
    }
    const int64_t unit = item / pl->out_chunks, chunk = item % pl->out_chunks;
    if (pl->rows) {
        DRV_FN(run_rows_)(pl, set, input, weight, bias, output, unit, band_buf, tile,
                           packed_unit);
        return;
    }
    const DRV_UKERNEL(*ukernels)[CCONV_MAX_NV] = set->DRV_SET(ukernels);
    const int64_t band = unit % pl->bands, image_group = unit / pl->bands;
    const int64_t g = image_group % pl->groups, n = image_group / pl->groups;
    const int64_t first_row = band * pl->band_rows;
    int64_t rows = pl->out_height - first_row;
    if (rows > pl->band_rows) rows = pl->band_rows;
    const int64_t Og = pl->group_out_channels, Cg = pl->group_in_channels;
    const int64_t o_begin = g * Og + chunk * pl->out_chunk;
    int64_t o_end = o_begin + pl->out_chunk;
    if (o_end > (g + 1) * Og) o_end = (g + 1) * Og;

    const int64_t out_plane = pl->out_stride_c, mr_max = pl->mr_max;
    const size_t taps = (size_t)pl->taps, weight_stride = (size_t)(Cg * pl->taps);
    DRV_T *const out_first = output + n * pl->out_stride_n + o_begin * out_plane +
                             first_row * pl->out_stride_h;
    const DRV_T *const w_first = weight + o_begin * (int64_t)weight_stride;
    const int64_t tiles = DRV_FN(tile_count_)(pl, rows);
    const int64_t blocks = (o_end - o_begin + mr_max - 1) / mr_max;
    /* Loop order: the operand that is larger stays outside so it streams once; the smaller one
     * (the band's input, or the chunk's weights) is re-read from cache. */
    const int64_t outer = pl->weights_outer ? blocks : tiles;
    const int64_t inner = pl->weights_outer ? tiles : blocks;
    for (int64_t a = 0; a < outer; a++) {
        for (int64_t b = 0; b < inner; b++) {
            const int64_t k = pl->weights_outer ? b : a, block = pl->weights_outer ? a : b;
            const DRV_FN(tile_) t = DRV_FN(tile_at_)(pl, rows, k);
            size_t cs;
            const DRV_T *src =
                DRV_FN(tile_input_)(pl, set->DRV_SET(deinterleave2), input, unit, t.j0,
                                    t.nv * pl->vl, band_buf, packed_unit, &cs);
            const int64_t o0 = o_begin + block * mr_max;
            const int64_t mr = o_end - o0 < mr_max ? o_end - o0 : mr_max;
            DRV_T *out_band = out_first + (o0 - o_begin) * out_plane;
            ukernels[mr - 1][t.nv - 1]((size_t)Cg, taps, src, cs, pl->tap_offsets,
                                       w_first + (o0 - o_begin) * (int64_t)weight_stride,
                                       weight_stride, bias ? bias + o0 : NULL,
                                       t.direct ? out_band + t.at : tile,
                                       t.direct ? (size_t)out_plane : (size_t)pl->nr);
            if (!t.direct) {
                DRV_FN(store_tile_)(pl, set, output, tile, mr, t.j0, t.j0 + t.valid, out_band);
            } else if (pl->staged) {
                /* The valid outputs are one run from t.at (rows are contiguous); the extra lanes
                 * past it are overwritten later, and staged then. */
                for (int64_t m = 0; m < mr; m++) {
                    DRV_T *at = out_band + m * out_plane + t.at;
                    DRV_FN(stage_)(pl, set, output, at, at, t.valid);
                }
            }
        }
    }
}

/* A unit of a single-filter group with the multi-row kernels: groups of up to R output rows, and in
 * each, column tiles from the right end to the left.  Stores go straight to the output: a row's
 * last tile is rounded up to whole vectors, and its extra lanes land at the start of the next row
 * (never further: they are fewer than a vector, and a row with more than one tile is wider than
 * a vector), which is written later, by this group's first tile (tiles run right to left) or by
 * the next row of the same kernel call (rows are stored in order), or by the next group.  Only a
 * tile whose extra lanes would pass the band's end goes through the tile buffer. */
static void DRV_FN(run_rows_)(const cconv_conv2d_plan *pl, const cconv_kernel_set *set,
                               const void *input, const DRV_T *weight, const DRV_T *bias,
                               DRV_T *output, int64_t unit, DRV_T *band_buf, DRV_T *tile,
                               int64_t *packed_unit)
{
    const int64_t band = unit % pl->bands, image_group = unit / pl->bands;
    const int64_t g = image_group % pl->groups, n = image_group / pl->groups;
    const int64_t first_row = band * pl->band_rows;
    int64_t rows = pl->out_height - first_row;
    if (rows > pl->band_rows) rows = pl->band_rows;
    const int64_t OW = pl->out_width, Wq = pl->sub_width, nr = pl->nr, vl = pl->vl;
    const int64_t R = pl->mr_max, kernel_height = pl->taps / pl->kernel_width;
    const int64_t kernel_width = pl->kernel_width;
    const int64_t band_end = rows * OW, out_row = pl->out_stride_h;
    DRV_T *out_band = output + n * pl->out_stride_n + g * pl->out_stride_c + first_row * out_row;
    const DRV_T *filter = weight + g * pl->taps;
    const DRV_T *b = bias ? bias + g : NULL;
    const int64_t tiles_per_row = (OW + nr - 1) / nr;
    for (int64_t y = 0; y < rows; y += R) {
        const int64_t rr = rows - y < R ? rows - y : R;
        for (int64_t k = tiles_per_row - 1; k >= 0; k--) {
            const int64_t x0 = k * nr;
            const int64_t valid = OW - x0 < nr ? OW - x0 : nr;
            const int64_t nv = (valid + vl - 1) / vl;
            const int64_t at = y * OW + x0;
            const int direct =
                pl->out_rows_contiguous && (y + rr - 1) * OW + x0 + nv * vl <= band_end;
            size_t cs;
            const DRV_T *src = DRV_FN(tile_input_)(pl, set->DRV_SET(deinterleave2), input, unit,
                                                   y * Wq + x0,
                                                   (rr - 1) * Wq + nv * vl, band_buf,
                                                   packed_unit, &cs);
            set->DRV_SET(rows)[rr - 1][nv - 1]((size_t)kernel_height, (size_t)kernel_width, src,
                                               (size_t)Wq, pl->tap_offsets, filter, b,
                                               direct ? out_band + at : tile,
                                               direct ? (size_t)OW : (size_t)nr);
            for (int64_t r = 0; r < rr && (!direct || pl->staged); r++) {
                DRV_T *dst = out_band + (y + r) * out_row + x0 * pl->out_stride_w;
                if (direct) {
                    DRV_FN(stage_)(pl, set, output, dst, dst, valid);
                } else {
                    DRV_FN(store_run_)(pl, set, output, dst, tile + r * nr, valid);
                }
            }
        }
    }
}

/* The tile for this call: the set's main tile, or its wide single-row tile when every group has
 * one filter (nothing to share an input vector with).  Depends on the shape only, never on the
 * thread count, so every output is computed the same way whatever the split. */
static cconv_status DRV_FN(make_plan_)(const cconv_conv2d_params *p, const cconv_kernel_set *set,
                                       cconv_conv2d_plan *plan)
{
    const int64_t vl = (int64_t)set->DRV_SET(vl);
    const int single_filter = p->out_channels == p->groups;
    /* Depthwise (filters of depth 1, any multiplier) k x k, stride 1 or 2, k = 3, 5, 7: the
     * set's in-place kernel for that k and stride, which reads whole contiguous planes.  At
     * stride 1 only with two output planes or more per image: the kernels keep enough sums in
     * flight by running two planes together, and a lone plane (a gray image) is faster on the
     * multi-row kernels below. */
    const int64_t k = p->kernel_height, s = p->stride_h;
    const int dw_inplace_shape = k == p->kernel_width && (k == 3 || k == 5 || k == 7) &&
                                 (s == 1 || s == 2) && p->stride_w == s &&
                                 (s == 2 || p->out_channels >= 2);
    if (dw_inplace_shape && set->DRV_SET(dw_inplace)[s - 1][(k - 3) / 2] &&
        cconv_conv2d_input_planes_contiguous(p) && !p->output_strides &&
        p->input_dtype == CCONV_DTYPE_SAME && p->padding_mode == CCONV_PAD_ZEROS &&
        p->padding_value == 0.0 && p->in_channels == p->groups && p->dilation_h == 1 &&
        p->dilation_w == 1 && p->pad_top < k && p->pad_bottom < k && p->pad_left < k &&
        p->pad_right < k) {
        cconv_status status =
            cconv_conv2d_plan_init_planes(plan, p, CCONV_DW_INPLACE_MAX_PLANES);
        plan->dw_k = status == CCONV_OK ? (int)k : 0;
        return status;
    }
    /* One filter of depth 1 per group, several kernel rows, stride 1: the multi-row kernels,
     * which tile along output rows, when a row rounded up to whole vectors is at least half
     * their widest tile (narrower rows waste too many lanes: the flattened tiles of the general
     * kernel are faster on 7x7 and 14x14 planes).  The rounded row may be wider than the padded
     * input row (ConvNeXt's 7x7 on 56 columns: 64 > 62): its last tile then reads the first
     * columns of the next band row, which the plan's band holds (see its tile_end), for lanes
     * past the output row that are overwritten or dropped. */
    if (single_filter && p->in_channels == p->groups && set->DRV_SET(rows_nv) > 0 &&
        p->stride_h == 1 && p->stride_w == 1 && p->kernel_height >= 2 && p->dilation_h == 1) {
        cconv_status status = cconv_conv2d_plan_init(
            plan, p, sizeof(DRV_T), CCONV_ROWS_R, (int64_t)set->DRV_SET(rows_nv) * vl, vl);
        if (status != CCONV_OK) return status;
        if (2 * ((p->out_width + vl - 1) / vl * vl) >= plan->nr) {
            plan->row_tiles = plan->rows = 1;
            return CCONV_OK;
        }
        cconv_conv2d_plan_free(plan);
    }
    const int64_t mr = single_filter ? 1 : (int64_t)set->DRV_SET(mr_max);
    const int64_t nv = (int64_t)(single_filter ? set->DRV_SET(wide_nv) : set->DRV_SET(nv_max));
    return cconv_conv2d_plan_init(plan, p, sizeof(DRV_T), mr, nv * vl, vl);
}

/* Per participant of the parallel loop (see thread_pool.h): its band buffer and tile, made on its
 * first item, and which unit its band holds.  Padded to a cache line so that participants do not
 * share one. */
typedef struct DRV_FN(scratch_) {
    DRV_T *band_buf, *tile;
    int64_t packed_unit;
    int ready;
    char pad_[64 - 2 * sizeof(void *) - sizeof(int64_t) - sizeof(int)];
} DRV_FN(scratch_);

typedef struct DRV_FN(call_) {
    const cconv_conv2d_plan *pl;
    const cconv_kernel_set *set;
    const void *input;
    const DRV_T *weight, *bias;
    DRV_T *output;
    DRV_FN(scratch_) *scratch; /* plan.threads entries */
} DRV_FN(call_);

static int DRV_FN(run_one_)(void *context, int64_t item, int slot)
{
    DRV_FN(call_) *c = (DRV_FN(call_) *)context;
    DRV_FN(scratch_) *s = &c->scratch[slot];
    if (!s->ready) {
        /* Paths that pack nothing (band_bytes = tile_bytes = 0) allocate nothing. */
        const cconv_conv2d_plan *pl = c->pl;
        /* (Packed before any tile reads it; its slack after the sub-images feeds only lanes
         * whose outputs are dropped or overwritten.) */
        s->band_buf = pl->band_bytes ? (DRV_T *)cconv_aligned_scratch(pl->band_bytes) : NULL;
        s->tile = pl->tile_bytes ? (DRV_T *)cconv_aligned_calloc(pl->tile_bytes) : NULL;
        s->packed_unit = -1;
        s->ready = 1;
        if ((!s->band_buf && pl->band_bytes) || (!s->tile && pl->tile_bytes)) return 1;
    }
    DRV_FN(run_item_)(c->pl, c->set, c->input, c->weight, c->bias, c->output, item, s->band_buf,
                      s->tile, &s->packed_unit);
    return 0;
}

/* The planar path: the plan's kernels over packed (or in-place) bands of feature maps. */
static cconv_status DRV_FN(conv2d_planar_)(const cconv_conv2d_params *p,
                                           const cconv_kernel_set *set, const void *input,
                                           const DRV_T *weight, const DRV_T *bias,
                                           DRV_T *output)
{
    cconv_conv2d_plan plan;
    cconv_status status = DRV_FN(make_plan_)(p, set, &plan);
    if (status != CCONV_OK) return status;
    DRV_FN(call_) call = {&plan, set, input, weight, bias, output, NULL};
    /* One slot per thread, and one more for the helper a handoff recruits. */
    const int slots = plan.threads + (p->run.handoff != NULL);
    call.scratch = (DRV_FN(scratch_) *)calloc((size_t)slots, sizeof(DRV_FN(scratch_)));
    if (!call.scratch) {
        cconv_conv2d_plan_free(&plan);
        return CCONV_ERR_NO_MEMORY;
    }
    const cconv_parallel_loop loop = {plan.items,       plan.threads,     DRV_FN(run_one_),
                                      &call,            p->run.poll,      p->run.poll_context,
                                      p->run.handoff,   p->run.poll_context,
                                      p->run.handoff_seconds};
    const cconv_loop_result result = cconv_parallel_run(&loop);
    for (int t = 0; t < slots; t++) {
        cconv_aligned_free(call.scratch[t].band_buf);
        cconv_aligned_free(call.scratch[t].tile);
    }
    free(call.scratch);
    cconv_conv2d_plan_free(&plan);
    if (result == CCONV_LOOP_ITEM_FAILED) return CCONV_ERR_NO_MEMORY;
    return result == CCONV_LOOP_POLL_STOPPED ? CCONV_ERR_INTERRUPTED : CCONV_OK;
}

