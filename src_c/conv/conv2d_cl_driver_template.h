/*
 * The channels-last conv2d driver loops (see conv2d_cl_plan.h), instantiated per element type
 * by conv2d_driver.c right after the planar driver, whose input readers (load_one_, copy_run_)
 * and output stage (stage_) it shares, and after the weights' packing
 * (conv2d_cl_weights_template.h).  Needs DRV_T, DRV_SUFFIX and DRV_SET(field).
 */

/* ---- input: a band of rows, channels-last, padded, converted, channels repeated ---- */

/* The packed channels of one source pixel (element index `at` of channel 0). */
static void DRV_FN(cl_pack_pixel_)(const cconv_conv2d_cl_plan *pl, DRV_T *dst, const void *input,
                                   int64_t at)
{
    const cconv_conv2d_plan *c = &pl->common;
    const int64_t C = c->in_channels, mult = pl->multiplier;
    if (mult == 1) {
        DRV_FN(copy_run_)(c, dst, input, at, C, 1, c->in_stride_c);
        return;
    }
    for (int64_t k = 0; k < C; k++) {
        const DRV_T v = DRV_FN(load_one_)(c, input, at + k * c->in_stride_c);
        for (int64_t j = 0; j < mult; j++) dst[k * mult + j] = v;
    }
}

static void DRV_FN(cl_pack_band_)(const cconv_conv2d_cl_plan *pl, const void *input, int64_t n,
                                  int64_t band, DRV_T *buf)
{
    const cconv_conv2d_plan *c = &pl->common;
    const int64_t Cp = pl->packed_channels, Wp = pl->packed_width, C = c->in_channels;
    const int64_t first_row = band * pl->band_rows, pad_left = c->pad_left;
    const DRV_T fill = (DRV_T)c->padding_value;
    /* Packed columns [q_lo, q_hi) read the row's own pixels; the rest are border. */
    int64_t q_lo = pad_left < Wp ? pad_left : Wp;
    int64_t q_hi = pad_left + c->in_width < Wp ? pad_left + c->in_width : Wp;
    if (q_hi < q_lo) q_hi = q_lo;
    /* One copy per row when the source row is already this layout. */
    const int whole_rows = pl->multiplier == 1 && c->input_dtype == CCONV_DTYPE_SAME &&
                           (C == 1 || c->in_stride_c == 1) &&
                           (c->in_width <= 1 || c->in_stride_w == C);
    for (int64_t a = 0; a < pl->row_phase_count; a++) {
        const int64_t ph = pl->row_phases[a];
        for (int64_t i = 0; i < pl->sub_rows; i++) {
            DRV_T *row = buf + a * pl->sub_size + i * Wp * Cp;
            const int64_t h = cconv_border_index((first_row + i) * c->stride_h + ph - c->pad_top,
                                                 c->in_height, c->padding_mode);
            if (h < 0) {
                for (int64_t k = 0; k < Wp * Cp; k++) row[k] = fill;
                continue;
            }
            const int64_t row_at = n * c->in_stride_n + h * c->in_stride_h;
            for (int64_t q = 0; q < Wp; q++) {
                if (q == q_lo && whole_rows && q_hi > q_lo) {
                    memcpy(row + q * Cp,
                           (const DRV_T *)input + row_at + (q - pad_left) * c->in_stride_w,
                           (size_t)((q_hi - q_lo) * Cp) * sizeof(DRV_T));
                    q = q_hi - 1;
                    continue;
                }
                const int64_t w = cconv_border_index(q - pad_left, c->in_width, c->padding_mode);
                if (w < 0) {
                    for (int64_t k = 0; k < Cp; k++) row[q * Cp + k] = fill;
                } else {
                    DRV_FN(cl_pack_pixel_)(pl, row + q * Cp, input, row_at + w * c->in_stride_w);
                }
            }
        }
    }
}

/* ---- the work items ---- */

/* Copies `count` channels of one output position from the tile to dst (channel stride
 * `stride`), through the output stage when there is one. */
static void DRV_FN(cl_store_)(const cconv_conv2d_plan *c, const cconv_kernel_set *set,
                              const DRV_T *output, DRV_T *dst, const DRV_T *src, int64_t count,
                              int64_t stride)
{
    if (stride == 1) {
        if (c->staged) {
            DRV_FN(stage_)(c, set, output, dst, src, count);
        } else {
            memcpy(dst, src, (size_t)count * sizeof(DRV_T));
        }
        return;
    }
    for (int64_t k = 0; k < count; k++) {
        dst[k * stride] = src[k];
        if (c->staged) DRV_FN(stage_)(c, set, output, dst + k * stride, dst + k * stride, 1);
    }
}

/* The taps of `count` output positions (ys[m], xs[m]) of image n, for positions whose taps reach
 * into the padding: channels [first, first + channels) of each tap's pixel (the border rule's
 * pixel, or the padding value) at gathered[(m * taps + t) * gather_stride]. */
static void DRV_FN(cl_gather_)(const cconv_conv2d_cl_plan *pl, const void *input, int64_t n,
                               const int64_t *ys, const int64_t *xs, int64_t count,
                               int64_t first, int64_t channels, DRV_T *gathered)
{
    const cconv_conv2d_plan *c = &pl->common;
    const DRV_T fill = (DRV_T)c->padding_value;
    const DRV_T *image = (const DRV_T *)input + n * c->in_stride_n + first;
    const int64_t kW = pl->kernel_width;
    for (int64_t m = 0; m < count; m++) {
        DRV_T *dst = gathered + m * pl->taps * pl->gather_stride;
        for (int64_t t = 0; t < pl->taps; t++, dst += pl->gather_stride) {
            const int64_t kh = t / kW, kw = t - kh * kW;
            const int64_t h = cconv_border_index(ys[m] * c->stride_h - c->pad_top +
                                                     kh * pl->dilation_h,
                                                 c->in_height, c->padding_mode);
            const int64_t w = cconv_border_index(xs[m] * c->stride_w - c->pad_left +
                                                     kw * pl->dilation_w,
                                                 c->in_width, c->padding_mode);
            if (h < 0 || w < 0) {
                for (int64_t k = 0; k < channels; k++) dst[k] = fill;
            } else {
                memcpy(dst, image + h * c->in_stride_h + w * c->in_stride_w,
                       (size_t)channels * sizeof(DRV_T));
            }
        }
    }
}

/* The blocks [b_begin, b_end) of a depthwise tile of `count` positions: channel k of position
 * m reads src + pos[m] + taps[t] + k and writes output + at[m] + k * out_stride_c.  With
 * dwc3_rows (positions along one row, 3 kernel columns), the dwc3 kernels run instead, kernel
 * row kh at src + pos[0] + dwc3_rows[kh]. */
#define CCONV_DWC3_MAX_ROWS 64
static void DRV_FN(cl_dw_tile_)(const cconv_conv2d_cl_plan *pl, const cconv_kernel_set *set,
                                const DRV_T *src, const ptrdiff_t *pos, const ptrdiff_t *taps,
                                const DRV_T *packed_w, const DRV_T *packed_b, DRV_T *output,
                                const ptrdiff_t *at, int64_t count, int64_t b_begin,
                                int64_t b_end, DRV_T *tile, const ptrdiff_t *dwc3_rows)
{
    const cconv_conv2d_plan *c = &pl->common;
    const int64_t mr = pl->mr, vl = pl->vl, osc = c->out_stride_c;
    ptrdiff_t block_at[CCONV_MAX_CL_MR], tile_at[CCONV_MAX_CL_MR];
    for (int64_t b = b_begin; b < b_end; b++) {
        const int64_t first = b * pl->block;
        const int64_t left = pl->group_out - first;
        const int64_t valid = left < pl->block ? left : pl->block;
        const int64_t nv = (valid + vl - 1) / vl, width = nv * vl;
        for (int64_t m = 0; m < mr; m++) {
            block_at[m] = at[m] + (ptrdiff_t)(first * osc);
            tile_at[m] = (ptrdiff_t)(m * width);
        }
        const int direct = osc == 1 && count == mr && valid == width;
        if (dwc3_rows) { /* consecutive positions of one row, from src + pos[0] */
            set->DRV_SET(dwc3)[pl->common.stride_w - 1][nv - 1](
                (size_t)pl->kernel_height, src + pos[0] + first,
                (ptrdiff_t)pl->common.in_stride_w, dwc3_rows, packed_w + first * pl->taps,
                packed_b ? packed_b + first : NULL, direct ? output : tile,
                direct ? block_at : tile_at);
        } else {
            set->DRV_SET(dwc)[nv - 1]((size_t)pl->taps, src + first, pos, taps,
                                      packed_w + first * pl->taps,
                                      packed_b ? packed_b + first : NULL, direct ? output : tile,
                                      direct ? block_at : tile_at);
        }
        for (int64_t m = 0; m < count && (!direct || c->staged); m++) {
            if (direct) {
                DRV_FN(stage_)(c, set, output, output + block_at[m], output + block_at[m], valid);
            } else {
                DRV_FN(cl_store_)(c, set, output, output + block_at[m], tile + tile_at[m], valid,
                                  osc);
            }
        }
    }
}

/* Output positions whose taps reach into the padding, collected until a tile is full. */
typedef struct DRV_FN(cl_border_) {
    int64_t ys[CCONV_MAX_CL_MR], xs[CCONV_MAX_CL_MR];
    int64_t count;
} DRV_FN(cl_border_);

/* Gathers the collected border positions' taps and runs them as one tile. */
static void DRV_FN(cl_dw_border_tile_)(const cconv_conv2d_cl_plan *pl,
                                       const cconv_kernel_set *set, const void *input,
                                       const DRV_T *packed_w, const DRV_T *packed_b,
                                       DRV_T *output, int64_t n, DRV_FN(cl_border_) *border,
                                       int64_t b_begin, int64_t b_end, DRV_T *gathered,
                                       DRV_T *tile)
{
    const cconv_conv2d_plan *c = &pl->common;
    const int64_t count = border->count;
    if (count == 0) return;
    const int64_t chunk_first = b_begin * pl->block;
    int64_t chunk_end = b_end * pl->block;
    if (chunk_end > pl->group_out) chunk_end = pl->group_out;
    DRV_FN(cl_gather_)(pl, input, n, border->ys, border->xs, count, chunk_first,
                       chunk_end - chunk_first, gathered + chunk_first);
    ptrdiff_t pos[CCONV_MAX_CL_MR], at[CCONV_MAX_CL_MR];
    for (int64_t m = 0; m < pl->mr; m++) {
        const int64_t k = m < count ? m : count - 1; /* extra lanes repeat the last position */
        pos[m] = (ptrdiff_t)(k * pl->taps * pl->gather_stride);
        at[m] = (ptrdiff_t)(n * c->out_stride_n + border->ys[k] * c->out_stride_h +
                            border->xs[k] * c->out_stride_w);
    }
    DRV_FN(cl_dw_tile_)(pl, set, gathered, pos, pl->gather_taps, packed_w, packed_b, output, at,
                        count, b_begin, b_end, tile, NULL);
    border->count = 0;
}

/* A depthwise work item read in place with padding: row by row, the columns whose taps are all
 * inside the input in tiles that read it directly (a row's last tile moves back to end at the
 * row's last such column rather than run short: its first positions are computed twice, to the
 * same values); the other positions, wherever they are, collected into tiles of their own that
 * gather their taps (every channel of the item, once for all its blocks). */
static void DRV_FN(cl_run_dw_rows_)(const cconv_conv2d_cl_plan *pl, const cconv_kernel_set *set,
                                    const void *input, const DRV_T *packed_w,
                                    const DRV_T *packed_b, DRV_T *output, int64_t n,
                                    int64_t first_row, int64_t rows, int64_t b_begin,
                                    int64_t b_end, DRV_T *gathered, DRV_T *tile)
{
    const cconv_conv2d_plan *c = &pl->common;
    const int64_t OW = c->out_width, mr = pl->mr;
    /* (A stride matters only between outputs: with one output along an axis it may be huge, and
     * its product with the element stride would overflow, so the step is 0 there.) */
    const int64_t in_row = c->out_height > 1 ? c->stride_h * c->in_stride_h : 0;
    const int64_t in_col = OW > 1 ? c->stride_w * c->in_stride_w : 0;
    const DRV_T *base = (const DRV_T *)input + n * c->in_stride_n;
    /* Where output (0, 0)'s tap (0, 0) lies from base: in the padding when there is some, so an
     * offset, never a pointer (with large strides one could leave the address space). */
    const int64_t origin = -c->pad_top * c->in_stride_h - c->pad_left * c->in_stride_w;
    DRV_FN(cl_border_) border;
    border.count = 0;
    ptrdiff_t pos[CCONV_MAX_CL_MR], at[CCONV_MAX_CL_MR];
    /* The dwc3 kernels' kernel rows: the tap offsets of kernel column 0. */
    ptrdiff_t dwc3_rows[CCONV_DWC3_MAX_ROWS];
    const ptrdiff_t *kernel_rows = NULL;
    if (pl->dwc3 && pl->kernel_height <= CCONV_DWC3_MAX_ROWS) {
        for (int64_t kh = 0; kh < pl->kernel_height; kh++) dwc3_rows[kh] = pl->tap_offsets[kh * 3];
        kernel_rows = dwc3_rows;
    }
    for (int64_t yr = 0; yr < rows; yr++) {
        const int64_t y = first_row + yr;
        const int inner_row = y >= pl->inner_y0 && y < pl->inner_y1;
        int64_t x0 = inner_row ? pl->inner_x0 : OW, x1 = inner_row ? pl->inner_x1 : OW;
        if (x0 > OW) x0 = OW;
        if (x1 > OW) x1 = OW;
        if (x1 < x0) x1 = x0;
        for (int64_t x = 0; x < OW; x++) {
            if (x == x0 && x1 > x0) { /* the inner columns, then on past them */
                for (int64_t p0 = x0; p0 < x1; p0 += mr) {
                    int64_t first = p0, count = x1 - p0 < mr ? x1 - p0 : mr;
                    if (count < mr && x1 - x0 >= mr) {
                        first = x1 - mr;
                        count = mr;
                    }
                    for (int64_t m = 0; m < mr; m++) {
                        const int64_t xm = first + (m < count ? m : count - 1);
                        at[m] = (ptrdiff_t)(n * c->out_stride_n + y * c->out_stride_h +
                                            xm * c->out_stride_w);
                        pos[m] = (ptrdiff_t)(origin + y * in_row + xm * in_col);
                    }
                    DRV_FN(cl_dw_tile_)(pl, set, base, pos, pl->tap_offsets, packed_w, packed_b,
                                        output, at, count, b_begin, b_end, tile,
                                        kernel_rows);
                }
                x = x1 - 1;
                continue;
            }
            border.ys[border.count] = y;
            border.xs[border.count] = x;
            if (++border.count == mr)
                DRV_FN(cl_dw_border_tile_)(pl, set, input, packed_w, packed_b, output, n,
                                           &border, b_begin, b_end, gathered, tile);
        }
    }
    DRV_FN(cl_dw_border_tile_)(pl, set, input, packed_w, packed_b, output, n, &border, b_begin,
                               b_end, gathered, tile);
}

static void DRV_FN(cl_run_item_)(const cconv_conv2d_cl_plan *pl, const cconv_kernel_set *set,
                                 const void *input, const DRV_T *packed_w,
                                 const DRV_T *packed_b, DRV_T *output, int64_t item,
                                 DRV_T *band_buf, DRV_T *tile, int64_t *packed_unit)
{
    const cconv_conv2d_plan *c = &pl->common;
    const int64_t chunk = item % pl->chunks, rest = item / pl->chunks;
    const int64_t g = rest % pl->block_groups, unit = rest / pl->block_groups;
    const int64_t band = unit % pl->bands, n = unit / pl->bands;
    const int64_t OW = c->out_width, first_row = band * pl->band_rows;
    int64_t rows = c->out_height - first_row;
    if (rows > pl->band_rows) rows = pl->band_rows;
    const int64_t positions = rows * OW, mr = pl->mr, vl = pl->vl;
    const int64_t sh = c->stride_h, sw = c->stride_w;
    const int64_t b_begin = chunk * pl->chunk_blocks;
    const int64_t b_end = b_begin + pl->chunk_blocks < pl->blocks ? b_begin + pl->chunk_blocks
                                                                  : pl->blocks;
    if (pl->depthwise && pl->in_place) {
        DRV_FN(cl_run_dw_rows_)(pl, set, input, packed_w, packed_b, output, n, first_row, rows,
                                b_begin, b_end, band_buf, tile);
        return;
    }

    const DRV_T *base;
    int64_t origin = 0; /* the offset of band row 0, column 0 from base */
    if (pl->in_place) {
        base = (const DRV_T *)input + n * c->in_stride_n;
    } else {
        if (*packed_unit != unit) {
            DRV_FN(cl_pack_band_)(pl, input, n, band, band_buf);
            *packed_unit = unit;
        }
        base = band_buf;
    }
    /* Offsets of band row y, column x: origin + y * in_row + x * in_col from `base` (in place,
     * the pixel its tap (0, 0) reads, which for border positions may lie outside the input:
     * those gather their taps instead; so origin stays an offset, never a pointer, which with
     * large strides could leave the address space). */
    /* (A stride matters only between outputs: with one output along an axis it may be huge, and
     * its product with the element stride would overflow, so the step is 0 there.) */
    const int64_t in_row = !pl->in_place        ? pl->packed_width * pl->packed_channels
                           : c->out_height > 1 ? sh * c->in_stride_h
                                               : 0;
    const int64_t in_col = OW <= 1        ? 0
                           : pl->in_place ? sw * c->in_stride_w
                                          : sw * pl->packed_channels;
    if (pl->in_place)
        origin = first_row * in_row - c->pad_top * c->in_stride_h - c->pad_left * c->in_stride_w;
    DRV_T *const gathered = band_buf;
    const int64_t osc = c->out_stride_c;
    ptrdiff_t pos[CCONV_MAX_CL_MR], at[CCONV_MAX_CL_MR], tile_at[CCONV_MAX_CL_MR];
    for (int64_t b = b_begin; b < b_end; b++) {
        const int64_t first = b * pl->block;
        const int64_t left = pl->group_out - first;
        const int64_t valid = left < pl->block ? left : pl->block;
        const int64_t nv = (valid + vl - 1) / vl, width = nv * vl;
        const DRV_T *w = packed_w + (g * pl->padded_out + first) * pl->reduce * pl->taps;
        const DRV_T *bb = packed_b ? packed_b + g * pl->padded_out + first : NULL;
        /* The block's input channels: the group's (dense), or its own (depthwise). */
        const DRV_T *in = base + (pl->depthwise ? first : g * pl->reduce);
        const int64_t o_first = g * pl->group_out + first;
        const ptrdiff_t out_base = (ptrdiff_t)(n * c->out_stride_n + o_first * osc);
        int64_t y0 = 0, x0 = 0; /* the tile's first position, band row y0, column x0 */
        for (int64_t p0 = 0; p0 < positions; p0 += mr) {
            const int64_t count = positions - p0 < mr ? positions - p0 : mr;
            int64_t y = y0, x = x0;
            int inner = 1;
            for (int64_t m = 0; m < count; m++) {
                pos[m] = (ptrdiff_t)(origin + y * in_row + x * in_col);
                at[m] = out_base + (ptrdiff_t)((first_row + y) * c->out_stride_h +
                                               x * c->out_stride_w);
                tile_at[m] = (ptrdiff_t)(m * width);
                if (pl->gather && inner)
                    inner = first_row + y >= pl->inner_y0 && first_row + y < pl->inner_y1 &&
                            x >= pl->inner_x0 && x < pl->inner_x1;
                if (++x == OW) {
                    x = 0;
                    y++;
                }
            }
            /* Lanes past the band's last position repeat it (their results are dropped). */
            for (int64_t m = count; m < mr; m++) {
                pos[m] = pos[count - 1];
                at[m] = at[count - 1];
                tile_at[m] = (ptrdiff_t)(m * width);
            }
            const DRV_T *src = in;
            const ptrdiff_t *taps = pl->tap_offsets;
            if (pl->gather && !inner) {
                /* A tile reaching into the padding: its taps' pixels, border rule applied. */
                int64_t ys[CCONV_MAX_CL_MR], xs[CCONV_MAX_CL_MR];
                for (int64_t m = 0, yy = y0, xx = x0; m < count; m++) {
                    ys[m] = first_row + yy;
                    xs[m] = xx;
                    if (++xx == OW) {
                        xx = 0;
                        yy++;
                    }
                }
                DRV_FN(cl_gather_)(pl, input, n, ys, xs, count, g * pl->reduce, pl->reduce,
                                   gathered);
                for (int64_t m = 0; m < mr; m++)
                    pos[m] = (ptrdiff_t)((m < count ? m : count - 1) * pl->taps *
                                         pl->gather_stride);
                src = gathered;
                taps = pl->gather_taps;
            }
            const int direct = osc == 1 && count == mr && valid == width;
            DRV_T *dst = direct ? output : tile;
            const ptrdiff_t *dst_at = direct ? at : tile_at;
            if (pl->depthwise) {
                set->DRV_SET(dwc)[nv - 1]((size_t)pl->taps, src, pos, taps, w, bb, dst, dst_at);
            } else {
                set->DRV_SET(cl)[nv - 1]((size_t)pl->reduce, (size_t)pl->taps, src, pos, taps, w,
                                         bb, dst, dst_at);
            }
            for (int64_t m = 0; m < count && (!direct || c->staged); m++) {
                if (direct) {
                    DRV_FN(stage_)(c, set, output, output + at[m], output + at[m], valid);
                } else {
                    DRV_FN(cl_store_)(c, set, output, output + at[m], tile + tile_at[m], valid,
                                      osc);
                }
            }
            x0 += mr;
            while (x0 >= OW) {
                x0 -= OW;
                y0++;
            }
        }
    }
}

typedef struct DRV_FN(cl_call_) {
    const cconv_conv2d_cl_plan *pl;
    const cconv_kernel_set *set;
    const void *input;
    const DRV_T *packed_w, *packed_b;
    DRV_T *output;
    DRV_FN(scratch_) *scratch;
} DRV_FN(cl_call_);

static int DRV_FN(cl_run_one_)(void *context, int64_t item, int slot)
{
    DRV_FN(cl_call_) *c = (DRV_FN(cl_call_) *)context;
    DRV_FN(scratch_) *s = &c->scratch[slot];
    if (!s->ready) {
        /* The packed band, or in place the buffer of gathered border taps. */
        const size_t band = (c->pl->in_place ? c->pl->gather_elems : c->pl->band_elems) *
                            sizeof(DRV_T);
        s->band_buf = band ? (DRV_T *)cconv_aligned_calloc(band) : NULL;
        s->tile = (DRV_T *)cconv_aligned_calloc(c->pl->tile_elems * sizeof(DRV_T));
        s->packed_unit = -1;
        s->ready = 1;
        if ((!s->band_buf && band) || !s->tile) return 1;
    }
    DRV_FN(cl_run_item_)(c->pl, c->set, c->input, c->packed_w, c->packed_b, c->output, item,
                         s->band_buf, s->tile, &s->packed_unit);
    return 0;
}

static cconv_status DRV_FN(cl_plan_)(const cconv_conv2d_params *p, const cconv_kernel_set *set,
                                     cconv_conv2d_cl_plan *plan)
{
    return cconv_conv2d_cl_plan_init(plan, p, sizeof(DRV_T), (int64_t)set->DRV_SET(cl_mr),
                                     (int64_t)set->DRV_SET(cl_nv_max),
                                     (int64_t)set->DRV_SET(vl),
                                     (int64_t)set->DRV_SET(dwc3_nv_max));
}

/* The channels-last path: the weights repacked for this call (or read from
 * p->packed_weights, packed once for many), then the kernels over the plan's work items. */
static cconv_status DRV_FN(conv2d_cl_)(const cconv_conv2d_params *p,
                                       const cconv_kernel_set *set, const void *input,
                                       const DRV_T *weight, const DRV_T *bias, DRV_T *output)
{
    cconv_conv2d_cl_plan plan;
    cconv_status status = DRV_FN(cl_plan_)(p, set, &plan);
    if (status != CCONV_OK) return status;
    const cconv_conv2d_packed *given = p->packed_weights;
    if (given && !cconv_conv2d_packed_fits(given, &plan, set, sizeof(DRV_T), bias != NULL)) {
        cconv_conv2d_cl_plan_free(&plan);
        return CCONV_ERR_INVALID_ARGUMENT;
    }
    DRV_T *own_w = NULL, *own_b = NULL;
    if (!given) {
        own_w = (DRV_T *)cconv_aligned_calloc(plan.weight_elems * sizeof(DRV_T));
        own_b = bias ? (DRV_T *)cconv_aligned_calloc(plan.bias_elems * sizeof(DRV_T)) : NULL;
    }
    const DRV_T *packed_w = given ? (const DRV_T *)given->weight : own_w;
    const DRV_T *packed_b = given ? (const DRV_T *)given->bias : own_b;
    const int slots = plan.threads + (p->run.handoff != NULL);
    DRV_FN(scratch_) *scratch =
        (DRV_FN(scratch_) *)calloc((size_t)slots, sizeof(DRV_FN(scratch_)));
    cconv_loop_result result = CCONV_LOOP_ITEM_FAILED;
    if (packed_w && (packed_b || !bias) && scratch) {
        result = given ? CCONV_LOOP_DONE
                       : DRV_FN(cl_pack_weights_)(&plan, p, weight, bias, own_w, own_b);
        if (result == CCONV_LOOP_DONE) {
            DRV_FN(cl_call_) call = {&plan, set, input, packed_w, packed_b, output, scratch};
            const cconv_parallel_loop loop = {plan.items,       plan.threads,
                                              DRV_FN(cl_run_one_), &call,
                                              p->run.poll,      p->run.poll_context,
                                              p->run.handoff,   p->run.poll_context,
                                              p->run.handoff_seconds};
            result = cconv_parallel_run(&loop);
        }
    }
    if (scratch) {
        for (int t = 0; t < slots; t++) {
            cconv_aligned_free(scratch[t].band_buf);
            cconv_aligned_free(scratch[t].tile);
        }
        free(scratch);
    }
    cconv_aligned_free(own_w);
    cconv_aligned_free(own_b);
    cconv_conv2d_cl_plan_free(&plan);
    if (result == CCONV_LOOP_ITEM_FAILED) return CCONV_ERR_NO_MEMORY;
    return result == CCONV_LOOP_POLL_STOPPED ? CCONV_ERR_INTERRUPTED : CCONV_OK;
}
