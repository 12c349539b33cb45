/*
 * The Winograd conv2d driver of one element type (the loops of winograd_plan.h), instantiated by
 * conv2d_winograd.c; the transforms come from the kernel set.
 * Needs: WG_T, WG_LANES, WG_FN(name), WG_SET(field) (the kernel-set field for this type),
 * WG_SET_TYPE(kind) (the kernel type of that kind for this type),
 * WG_UKERNEL (its micro-kernel pointer type), WG_DIRECT (the direct entry point: the fallback).
 */


/* Per participant of a parallel loop: its buffers (allocated on its first item) and which
 * segment's V its buffer holds.  Padded to a cache line: participants write their own. */
typedef struct WG_FN(slot_) {
    WG_T *v, *mbuf, *pack, *rows;
    int64_t v_key; /* group * segments + segment, or -1 */
    int nonfinite; /* an input or a weight that is not finite (or overflows a transform) */
    int ready;
    char pad_[64 - 4 * sizeof(void *) - sizeof(int64_t) - 2 * sizeof(int)];
} WG_FN(slot_);

typedef struct WG_FN(call_) {
    const cconv_winograd_plan *pl;
    const cconv_kernel_set *set;
    const void *input;
    const WG_T *weight, *bias;
    WG_T *output;
    WG_T *u;                   /* the pass's U[point][c][o] (shared) */
    int64_t g;                 /* the pass: its group, */
    int64_t o_begin, o_count;  /* its output channels within the group, */
    int64_t o_chunks;          /* and phase-F items per segment */
    WG_SET_TYPE(winograd_input) input_tf;
    WG_SET_TYPE(winograd_weight) weight_tf;
    WG_SET_TYPE(winograd_output) output_tf;
    WG_FN(slot_) *slots;
} WG_FN(call_);

/* The lanes' check sums (see winograd_transforms_template.h): 1 when one is not 0. */
static int WG_FN(any_nonfinite_)(const WG_T *chk)
{
    int bad = 0;
    for (int l = 0; l < WG_LANES; l++) bad |= chk[l] != (WG_T)0;
    return bad;
}

/* d[q * WG_LANES] = source element at + q * stride, for q < count, converted to WG_T. */
#define WG_CONVERT_RUN(S)                                                                         \
    {                                                                                             \
        const S *s = (const S *)input + at;                                                       \
        for (int64_t q = 0; q < count; q++) d[q * WG_LANES] = (WG_T)s[q * stride];                \
    }

static void WG_FN(copy_run_)(cconv_dtype dtype, WG_T *d, const void *input, int64_t at,
                             int64_t count, int64_t stride)
{
    switch (dtype) {
    case CCONV_DTYPE_SAME: WG_CONVERT_RUN(WG_T) return;
    case CCONV_DTYPE_F32: WG_CONVERT_RUN(float) return;
    case CCONV_DTYPE_U8: WG_CONVERT_RUN(uint8_t) return;
    case CCONV_DTYPE_I8: WG_CONVERT_RUN(int8_t) return;
    case CCONV_DTYPE_U16: WG_CONVERT_RUN(uint16_t) return;
    case CCONV_DTYPE_I16: WG_CONVERT_RUN(int16_t) return;
    default: return; /* refused by the entry point */
    }
}
#undef WG_CONVERT_RUN

/* Positions q in [q_from, q_to) of a packed row (input column x0 + q of source row row_at)
 * that lie outside the input: the padding value, or the pixel the border mode repeats. */
static void WG_FN(border_)(const cconv_conv2d_plan *pl, WG_T *d, int64_t q_from, int64_t q_to,
                           int64_t x0, const void *input, int64_t row_at)
{
    for (int64_t q = q_from; q < q_to; q++) {
        const int64_t w = cconv_border_index(x0 + q, pl->in_width, pl->padding_mode);
        if (w < 0) {
            d[q * WG_LANES] = (WG_T)pl->padding_value;
        } else if (pl->input_dtype == CCONV_DTYPE_SAME) {
            d[q * WG_LANES] = ((const WG_T *)input)[row_at + w * pl->in_stride_w];
        } else {
            d[q * WG_LANES] = (WG_T)cconv_load_element(input, row_at + w * pl->in_stride_w,
                                                       pl->input_dtype, sizeof(WG_T));
        }
    }
}

/* Packs the input of a segment's tiles for `count` channels from channel c0 of image n:
 * pack[(r * cols + q) * WG_LANES + l] = input row m*ti - pad_top + r, column m*tj0 - pad_left + q
 * of channel c0 + l, for r < a, q < m*nt + 2, converted to WG_T, positions outside the input
 * holding what the border rule puts there.  Lanes >= count are left as they are (finite values,
 * whose transforms no product reads). */
static void WG_FN(pack_)(const cconv_winograd_plan *wp, const void *input, int64_t n, int64_t c0,
                         int64_t count, int64_t ti, int64_t tj0, int64_t nt, WG_T *pack)
{
    const cconv_conv2d_plan *pl = &wp->base;
    const int64_t m = wp->m, cols = m * nt + 2;
    const int64_t x0 = m * tj0 - pl->pad_left; /* input column of q = 0 */
    int64_t q_lo = x0 < 0 ? -x0 : 0, q_hi = pl->in_width - x0;
    if (q_lo > cols) q_lo = cols;
    if (q_hi > cols) q_hi = cols;
    if (q_hi < q_lo) q_hi = q_lo;
    const WG_T fill = (WG_T)pl->padding_value;
    for (int64_t r = 0; r < wp->a; r++) {
        const int64_t h = m * ti - pl->pad_top + r;
        const int64_t hb = cconv_border_index(h, pl->in_height, pl->padding_mode);
        for (int64_t l = 0; l < count; l++) {
            WG_T *d = pack + (r * wp->cols) * WG_LANES + l;
            if (hb < 0) {
                for (int64_t q = 0; q < cols; q++) d[q * WG_LANES] = fill;
                continue;
            }
            const int64_t row_at = n * pl->in_stride_n + (c0 + l) * pl->in_stride_c +
                                   hb * pl->in_stride_h;
            WG_FN(border_)(pl, d, 0, q_lo, x0, input, row_at);
            WG_FN(copy_run_)(pl->input_dtype, d + q_lo * WG_LANES, input,
                             row_at + (x0 + q_lo) * pl->in_stride_w, q_hi - q_lo,
                             pl->in_stride_w);
            WG_FN(border_)(pl, d, q_hi, cols, x0, input, row_at);
        }
    }
}

/* Copies `count` outputs of one output row from src to dst (column stride out_stride_w),
 * through the output stage when there is one (the residual read where dst is, in the output's
 * layout). */
static void WG_FN(store_run_)(const cconv_conv2d_plan *pl, const cconv_kernel_set *set,
                              const WG_T *output, WG_T *dst, const WG_T *src, int64_t count)
{
    const int64_t sw = pl->out_stride_w;
    if (pl->staged) {
        const WG_T *res = pl->residual ? (const WG_T *)pl->residual + (dst - output) : NULL;
        const WG_T slope = (WG_T)pl->slope, lo = (WG_T)pl->lo, hi = (WG_T)pl->hi;
        if (sw == 1) {
            set->WG_SET(epilogue)(dst, src, res, (size_t)count, slope, lo, hi);
            return;
        }
        for (int64_t x = 0; x < count; x++)
            set->WG_SET(epilogue)(dst + x * sw, src + x, res ? res + x * sw : NULL, 1, slope, lo,
                                  hi);
        return;
    }
    if (sw == 1) {
        memcpy(dst, src, (size_t)count * sizeof(WG_T));
        return;
    }
    for (int64_t x = 0; x < count; x++) dst[x * sw] = src[x];
}

static int WG_FN(slot_ready_)(const cconv_winograd_plan *pl, WG_FN(slot_) *s)
{
    if (s->ready) return 1;
    s->ready = 1;
    s->v_key = -1;
    /* V and M: every position the products or the output transform read is written first,
     * except lanes past a partial block, whose results are dropped (and never checked for
     * finiteness, unlike the packed input's). */
    s->v = (WG_T *)cconv_aligned_scratch(pl->v_bytes);
    s->mbuf = (WG_T *)cconv_aligned_scratch(pl->m_bytes);
    s->pack = (WG_T *)cconv_aligned_calloc(pl->pack_bytes);
    s->rows = (WG_T *)cconv_aligned_calloc(pl->row_bytes);
    return s->v && s->mbuf && s->pack && s->rows;
}

/* Phase U, one item: U[t][c][o] of the pass for the output channels of lane block `item /
 * u_cblocks` and the input channels of block `item % u_cblocks`. */
static int WG_FN(u_item_)(void *context, int64_t item, int slot)
{
    WG_FN(call_) *c = (WG_FN(call_) *)context;
    const cconv_winograd_plan *pl = c->pl;
    const int64_t o0 = (item / pl->u_cblocks) * WG_LANES, k = item % pl->u_cblocks;
    const int64_t c_begin = k * pl->u_cblock;
    const int64_t c_end = c_begin + pl->u_cblock < pl->cg ? c_begin + pl->u_cblock : pl->cg;
    const int count = (int)(c->o_count - o0 < WG_LANES ? c->o_count - o0 : WG_LANES);
    const WG_T *filters = c->weight + (c->g * pl->og + c->o_begin + o0) * pl->cg * 9;
    const ptrdiff_t point_stride = (ptrdiff_t)(pl->cg * pl->u_stride);
    WG_T chk[WG_LANES] = {0};
    for (int64_t ch = c_begin; ch < c_end; ch++)
        c->weight_tf(filters + ch * 9, (ptrdiff_t)(pl->cg * 9), count, c->u + ch * pl->u_stride + o0,
                     point_stride, chk);
    if (WG_FN(any_nonfinite_)(chk)) {
        c->slots[slot].nonfinite = 1;
        return 1;
    }
    return 0;
}

/* Tile k of the flat order (image, tile row, tile column): its image n, tile row ti and
 * column tj, and how many tiles from it on stay in that tile row, up to `limit`. */
static int64_t WG_FN(tile_run_)(const cconv_winograd_plan *pl, int64_t k, int64_t limit,
                                int64_t *n, int64_t *ti, int64_t *tj)
{
    const int64_t per_image = pl->tiles_h * pl->tiles_w;
    *n = k / per_image;
    *ti = (k % per_image) / pl->tiles_w;
    *tj = k % pl->tiles_w;
    return pl->tiles_w - *tj < limit ? pl->tiles_w - *tj : limit;
}

/* The V of segment s of group g into the slot: for each run of its tiles along one tile row and
 * each block of WG_LANES channels, the packed input, then each tile's input transform.
 * Returns 0 when a value is not finite. */
static int WG_FN(transform_segment_)(const WG_FN(call_) *c, WG_FN(slot_) *sl, int64_t s)
{
    const cconv_winograd_plan *pl = c->pl;
    const int64_t k0 = s * pl->seg;
    const int64_t nt = pl->tiles - k0 < pl->seg ? pl->tiles - k0 : pl->seg;
    const ptrdiff_t point_stride = (ptrdiff_t)(pl->seg * pl->cg_pad);
    WG_T chk[WG_LANES] = {0};
    int64_t n, ti, tj;
    for (int64_t k = 0; k < nt;) {
        const int64_t run = WG_FN(tile_run_)(pl, k0 + k, nt - k, &n, &ti, &tj);
        for (int64_t cb = 0; cb < pl->cg; cb += WG_LANES) {
            const int64_t count = pl->cg - cb < WG_LANES ? pl->cg - cb : WG_LANES;
            WG_FN(pack_)(pl, c->input, n, c->g * pl->cg + cb, count, ti, tj, run, sl->pack);
            for (int64_t t = 0; t < run; t++)
                c->input_tf(sl->pack + (pl->m * t) * WG_LANES, (ptrdiff_t)(pl->cols * WG_LANES),
                            WG_LANES, sl->v + (k + t) * pl->cg_pad + cb, point_stride, chk);
        }
        k += run;
    }
    return !WG_FN(any_nonfinite_)(chk);
}

/* The output transform of the segment's tiles k0 + k .. + run (one run along a tile row of
 * image n, tile row ti, from column tj) for the output channels [ol, ol + count) of the item:
 * each tile's m x m outputs into the rows buffer ([lane][r][x], x along the run), then each
 * output row's part through the output strides and the output stage. */
static void WG_FN(output_run_)(const WG_FN(call_) *c, WG_FN(slot_) *sl, int64_t k, int64_t run,
                               int64_t n, int64_t ti, int64_t tj, int64_t o_first, int64_t ol,
                               int64_t count, const WG_T *bias)
{
    const cconv_winograd_plan *pl = c->pl;
    const cconv_conv2d_plan *bp = &pl->base;
    const int64_t m = pl->m, row_len = m * pl->run_max, x0 = m * tj;
    const int64_t width = bp->out_width - x0 < m * run ? bp->out_width - x0 : m * run;
    WG_T y[36 * WG_LANES];
    for (int64_t t = 0; t < run; t++) {
        c->output_tf(sl->mbuf + (k + t) * pl->mc_stride + ol,
                     (ptrdiff_t)(pl->seg * pl->mc_stride), bias, y);
        for (int64_t l = 0; l < count; l++) {
            for (int64_t r = 0; r < m; r++) {
                WG_T *dst = sl->rows + (l * m + r) * row_len + m * t;
                for (int64_t q = 0; q < m; q++) dst[q] = y[(r * m + q) * WG_LANES + l];
            }
        }
    }
    for (int64_t l = 0; l < count; l++) {
        WG_T *plane = c->output + n * bp->out_stride_n + (o_first + ol + l) * bp->out_stride_c;
        for (int64_t r = 0; r < m && m * ti + r < bp->out_height; r++) {
            WG_FN(store_run_)(bp, c->set, c->output,
                              plane + (m * ti + r) * bp->out_stride_h + x0 * bp->out_stride_w,
                              sl->rows + (l * m + r) * row_len, width);
        }
    }
}

/* Phase F, one item: segment item / o_chunks, output channels of chunk item % o_chunks. */
static int WG_FN(f_item_)(void *context, int64_t item, int slot)
{
    WG_FN(call_) *c = (WG_FN(call_) *)context;
    const cconv_winograd_plan *pl = c->pl;
    WG_FN(slot_) *sl = &c->slots[slot];
    if (!WG_FN(slot_ready_)(pl, sl)) return 1;
    const int64_t s = item / c->o_chunks, j = item % c->o_chunks;
    const int64_t key = c->g * pl->segments + s;
    if (sl->v_key != key) {
        sl->v_key = -1;
        if (!WG_FN(transform_segment_)(c, sl, s)) {
            sl->nonfinite = 1;
            return 1;
        }
        sl->v_key = key;
    }
    const int64_t k0 = s * pl->seg;
    const int64_t nt = pl->tiles - k0 < pl->seg ? pl->tiles - k0 : pl->seg;
    const int64_t oj = j * pl->o_chunk; /* within the pass */
    const int64_t oc = c->o_count - oj < pl->o_chunk ? c->o_count - oj : pl->o_chunk;

    /* The products: for each point, M[tile][o] = V[tile][:] . U[:][o], mr tiles x nr output
     * channels per micro-kernel call, channels ascending (the kernel's order).  Each U panel
     * (all channels x nr) is loaded once per point and used for every tile of the segment. */
    static const ptrdiff_t no_offset[1] = {0};
    const WG_UKERNEL(*ukernels)[CCONV_MAX_NV] = c->set->WG_SET(ukernels);
    const size_t u_stride = (size_t)pl->u_stride, mc = (size_t)pl->mc_stride;
    for (int64_t t = 0; t < pl->points; t++) {
        const WG_T *vt = sl->v + t * pl->seg * pl->cg_pad;
        const WG_T *ut = c->u + t * pl->cg * pl->u_stride + oj;
        WG_T *mt = sl->mbuf + t * pl->seg * pl->mc_stride;
        for (int64_t ob = 0; ob < oc; ob += pl->nr) {
            const int64_t width = oc - ob < pl->nr ? oc - ob : pl->nr;
            const int64_t nv = (width + pl->vl - 1) / pl->vl;
            for (int64_t tq = 0; tq < nt; tq += pl->mr) {
                const int64_t mr = nt - tq < pl->mr ? nt - tq : pl->mr;
                ukernels[mr - 1][nv - 1]((size_t)pl->cg, 1, ut + ob, u_stride, no_offset,
                                         vt + tq * pl->cg_pad, (size_t)pl->cg_pad, NULL,
                                         mt + tq * pl->mc_stride + ob, mc);
            }
        }
    }

    /* The output transform, a lane block of output channels at a time, run by run. */
    const int64_t o_first = c->g * pl->og + c->o_begin + oj; /* absolute output channel */
    WG_T b[WG_LANES];
    for (int64_t ol = 0; ol < oc; ol += WG_LANES) {
        const int64_t count = oc - ol < WG_LANES ? oc - ol : WG_LANES;
        for (int64_t l = 0; l < WG_LANES; l++)
            b[l] = c->bias && l < count ? c->bias[o_first + ol + l] : (WG_T)0;
        int64_t n, ti, tj;
        for (int64_t k = 0; k < nt;) {
            const int64_t run = WG_FN(tile_run_)(pl, k0 + k, nt - k, &n, &ti, &tj);
            WG_FN(output_run_)(c, sl, k, run, n, ti, tj, o_first, ol, count,
                               c->bias ? b : NULL);
            k += run;
        }
    }
    return 0;
}

/* The call; u_given: U of every group and output channel from WG_FN(weights_) for these
 * parameters and tile (and finite weights), or NULL to transform the weights here. */
static cconv_status WG_FN(winograd_)(const cconv_conv2d_params *p, int m, const void *input,
                                     const WG_T *weight, const WG_T *u_given, const WG_T *bias,
                                     WG_T *output)
{
    cconv_status status = cconv_winograd_supported(p, m);
    if (status != CCONV_OK) return status;
    if (!cconv_dtype_valid(p->input_dtype, sizeof(WG_T))) return CCONV_ERR_INVALID_ARGUMENT;
    const int simd = p->run.simd < 0 ? cconv_simd_best() : p->run.simd;
    if (!cconv_simd_supported(simd)) return CCONV_ERR_UNSUPPORTED_SIMD;
    /* Nothing to transform (an empty size): the direct path's rules for these. */
    if (p->batch == 0 || p->out_channels == 0 || p->out_height == 0 || p->out_width == 0 ||
        p->in_channels == 0 || p->in_height == 0 || p->in_width == 0)
        return WG_DIRECT(p, input, weight, bias, output);
    if (!input || !weight || !output) return CCONV_ERR_INVALID_ARGUMENT;
    const cconv_kernel_set *set = cconv_kernel_set_at(simd);

    cconv_winograd_plan plan;
    status = cconv_winograd_plan_init(&plan, p, m, sizeof(WG_T), WG_LANES,
                                      (int64_t)set->WG_SET(mr_max), (int64_t)set->WG_SET(nv_max),
                                      (int64_t)set->WG_SET(vl), u_given != NULL);
    if (status != CCONV_OK) return status;
    WG_FN(call_) call;
    memset(&call, 0, sizeof(call));
    call.pl = &plan;
    call.set = set;
    call.input = input;
    call.weight = weight;
    call.bias = bias;
    call.output = output;
    call.input_tf = set->WG_SET(winograd_input)[m == 4];
    call.weight_tf = set->WG_SET(winograd_weight)[m == 4];
    call.output_tf = set->WG_SET(winograd_output)[m == 4];
    const int slots = plan.threads + (p->run.handoff != NULL);
    call.slots = (WG_FN(slot_) *)calloc((size_t)slots, sizeof(WG_FN(slot_)));
    /* Phase U writes every lane block of U that the products read (zero kernels in the lanes
     * past the last output channel). */
    call.u = u_given ? NULL : (WG_T *)cconv_aligned_scratch(plan.u_bytes);
    status = CCONV_OK;
    if (!call.slots || (!u_given && !call.u)) status = CCONV_ERR_NO_MEMORY;

    int nonfinite = 0;
    for (int64_t g = 0; g < p->groups && status == CCONV_OK; g++) {
        for (int64_t pass = 0; pass < plan.o_passes && status == CCONV_OK; pass++) {
            call.g = g;
            call.o_begin = pass * plan.o_pass;
            call.o_count = plan.og - call.o_begin < plan.o_pass ? plan.og - call.o_begin
                                                                 : plan.o_pass;
            call.o_chunks = (call.o_count + plan.o_chunk - 1) / plan.o_chunk;
            const int last = g == p->groups - 1 && pass == plan.o_passes - 1;
            const int64_t lane_blocks = (call.o_count + WG_LANES - 1) / WG_LANES;
            const cconv_parallel_loop u_loop = {lane_blocks * plan.u_cblocks, plan.threads,
                                                WG_FN(u_item_), &call, p->run.poll,
                                                p->run.poll_context, NULL, NULL, 0.0};
            /* The handoff (see cconv_run_options) belongs near the end of the whole call: only
             * the last loop gets it. */
            const cconv_parallel_loop f_loop = {plan.segments * call.o_chunks, plan.threads,
                                                WG_FN(f_item_), &call, p->run.poll,
                                                p->run.poll_context,
                                                last ? p->run.handoff : NULL,
                                                p->run.poll_context, p->run.handoff_seconds};
            /* (A given U holds every output channel of the group: one pass, no phase U.) */
            if (u_given)
                call.u = (WG_T *)u_given + g * plan.points * plan.cg * plan.u_stride;
            for (int phase = u_given ? 1 : 0; phase < 2 && status == CCONV_OK; phase++) {
                const cconv_loop_result result = cconv_parallel_run(phase ? &f_loop : &u_loop);
                for (int t = 0; t < slots; t++) nonfinite |= call.slots[t].nonfinite;
                if (nonfinite) status = CCONV_ERR_INVALID_ARGUMENT; /* (replaced below) */
                else if (result == CCONV_LOOP_ITEM_FAILED) status = CCONV_ERR_NO_MEMORY;
                else if (result == CCONV_LOOP_POLL_STOPPED) status = CCONV_ERR_INTERRUPTED;
            }
        }
    }
    if (call.slots) {
        for (int t = 0; t < slots; t++) {
            cconv_aligned_free(call.slots[t].v);
            cconv_aligned_free(call.slots[t].mbuf);
            cconv_aligned_free(call.slots[t].pack);
            cconv_aligned_free(call.slots[t].rows);
        }
        free(call.slots);
    }
    if (!u_given) cconv_aligned_free(call.u);
    /* A value that is not finite: Winograd mixes every pixel of a tile into each of its outputs
     * (an infinity would make NaN of outputs that never see it), so the direct path computes
     * the whole call instead, with the usual results. */
    if (nonfinite) return WG_DIRECT(p, input, weight, bias, output);
    return status;
}

/* Bytes of temporary memory WG_FN(winograd_) allocates for these parameters. */
static cconv_status WG_FN(workspace_)(const cconv_conv2d_params *p, int m, size_t *bytes)
{
    *bytes = 0;
    cconv_status status = cconv_winograd_supported(p, m);
    if (status != CCONV_OK) return status;
    const int simd = p->run.simd < 0 ? cconv_simd_best() : p->run.simd;
    if (!cconv_simd_supported(simd)) return CCONV_ERR_UNSUPPORTED_SIMD;
    if (p->batch == 0 || p->out_channels == 0 || p->out_height == 0 || p->out_width == 0 ||
        p->in_channels == 0 || p->in_height == 0 || p->in_width == 0)
        return CCONV_OK;
    const cconv_kernel_set *set = cconv_kernel_set_at(simd);
    cconv_winograd_plan plan;
    status = cconv_winograd_plan_init(&plan, p, m, sizeof(WG_T), WG_LANES,
                                      (int64_t)set->WG_SET(mr_max), (int64_t)set->WG_SET(nv_max),
                                      (int64_t)set->WG_SET(vl), 0);
    if (status == CCONV_OK) *bytes = plan.workspace_bytes;
    return status;
}

/* Elements of U for every group and output channel (what WG_FN(weights_) writes), or 0 for
 * parameters the path does not compute or whose U does not fit a size_t. */
static size_t WG_FN(weights_elems_)(const cconv_conv2d_params *p, int m)
{
    if (cconv_winograd_supported(p, m) != CCONV_OK || p->groups < 1) return 0;
    const int64_t a = m + 2, cg = p->in_channels / p->groups, og = p->out_channels / p->groups;
    const int64_t dims[] = {p->groups, a * a, cg, (og + WG_LANES - 1) / WG_LANES * WG_LANES};
    int64_t elems;
    if (!cconv_mul_all(dims, 4, &elems) || (uint64_t)elems > (uint64_t)(SIZE_MAX / sizeof(WG_T)))
        return 0;
    return (size_t)elems;
}

/* U[g][point][c][o] (o's row rounded up to WG_LANES, zero past og) of the weights, with the
 * transforms of p's SIMD path, as phase U computes it for a whole group; *finite is 0 when a
 * weight or a transformed value is not finite (then the call must not be given this U). */
static cconv_status WG_FN(weights_)(const cconv_conv2d_params *p, int m, const WG_T *weight,
                                    WG_T *u, int *finite)
{
    *finite = 0;
    if (!WG_FN(weights_elems_)(p, m) || !weight || !u) return CCONV_ERR_INVALID_ARGUMENT;
    const int simd = p->run.simd < 0 ? cconv_simd_best() : p->run.simd;
    if (!cconv_simd_supported(simd)) return CCONV_ERR_UNSUPPORTED_SIMD;
    const cconv_kernel_set *set = cconv_kernel_set_at(simd);
    const WG_SET_TYPE(winograd_weight) weight_tf = set->WG_SET(winograd_weight)[m == 4];
    const int64_t a = m + 2, cg = p->in_channels / p->groups, og = p->out_channels / p->groups;
    const int64_t stride = (og + WG_LANES - 1) / WG_LANES * WG_LANES;
    WG_T chk[WG_LANES] = {0};
    for (int64_t g = 0; g < p->groups; g++) {
        WG_T *ug = u + g * a * a * cg * stride;
        for (int64_t o0 = 0; o0 < stride; o0 += WG_LANES) {
            const int count = (int)(og - o0 < WG_LANES ? og - o0 : WG_LANES);
            const WG_T *filters = weight + (g * og + o0) * cg * 9;
            for (int64_t ch = 0; ch < cg; ch++)
                weight_tf(filters + ch * 9, (ptrdiff_t)(cg * 9), count, ug + ch * stride + o0,
                          (ptrdiff_t)(cg * stride), chk);
        }
    }
    *finite = !WG_FN(any_nonfinite_)(chk);
    return CCONV_OK;
}
