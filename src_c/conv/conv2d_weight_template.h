/*
 * conv2d's weight gradient, instantiated once per element type by conv2d_weight.c.
 * Needs: WG_T (element type), WG_SUFFIX (f32/f64), WG_SET(field) (kernel-set field).
 *
 * For one kernel tap (ky, kx), grad_weight[o, c, ky, kx] = sum over (n, y, x) of
 *   grad_output[n, o, y, x] * slab_n[y * stride_h + ky * dilation_h][x * stride_w + kx *
 *   dilation_w][c]
 * with slab_n the zero-padded, channels-last copy of image n (see wgrad_plan).  That is the
 * conv2d micro-kernel's own sum, read as
 *   channels = the band's output rows y, taps = its columns x (tap_offsets[x] = x*stride_w*C),
 *   weights  = grad_output's rows (weight_stride = OH * OW between output channels),
 *   input    = the slab at (ky, kx), input channels along the vectors (unit stride),
 * so one call gives an mr x nr tile of the gradient for one slab, with no im2col buffer; the
 * tiles of successive slabs are added up in a fixed order, each item owning its elements of the
 * gradient (results do not depend on threads).
 * Depthwise layers (one input channel per group) have nothing to put along the vectors and take
 * a direct loop instead.
 */
#define WG_CAT_(a, b) a##b
#define WG_CAT(a, b) WG_CAT_(a, b)
#define WG_FN(name) WG_CAT(name, WG_SUFFIX)
#define WG_UKERNEL WG_CAT(WG_CAT(cconv_, WG_SUFFIX), _conv2d_ukernel)

typedef struct WG_FN(wgrad_call_) {
    const cconv_conv2d_weight_params *p;
    const wgrad_plan *pl;
    const cconv_kernel_set *set;
    const WG_T *input, *grad_output;
    const int64_t *in_st;   /* the input's element strides */
    WG_T *chunk;            /* slabs_per_chunk slabs, then nr elements of slack */
    int64_t first_slab, slabs; /* the chunk: slabs first_slab .. first_slab + slabs - 1 */
    WG_T *grad_weight;
    WG_T **tiles;           /* per slot: two mr x nr tiles, the kernel's and the running sum */
} WG_FN(wgrad_call_);

/* Packs slab `item` of the chunk (image n, band b) channels-last with zero padding. */
static int WG_FN(wgrad_pack_)(void *context, int64_t item, int slot)
{
    const WG_FN(wgrad_call_) *c = (const WG_FN(wgrad_call_) *)context;
    const cconv_conv2d_weight_params *p = c->p;
    const wgrad_plan *pl = c->pl;
    (void)slot;
    const int64_t s = c->first_slab + item, n = s / pl->bands, band = s % pl->bands;
    const int64_t C = p->in_channels, H = p->in_height, W = p->in_width, Wp = pl->slab_cols;
    const int64_t first_row = band * pl->band_rows * p->stride_h - p->pad_top;
    WG_T *slab = c->chunk + item * pl->slab_stride;
    for (int64_t r = 0; r < pl->slab_rows; r++) {
        WG_T *dst = slab + r * Wp * C;
        const int64_t iy = first_row + r;
        if (iy < 0 || iy >= H) {
            memset(dst, 0, (size_t)(Wp * C) * sizeof(WG_T));
            continue;
        }
        /* Columns q with input column q - pad_left inside the image. */
        int64_t q_lo = p->pad_left, q_hi = p->pad_left + W;
        if (q_hi > Wp) q_hi = Wp;
        if (q_lo > q_hi) q_lo = q_hi;
        memset(dst, 0, (size_t)(q_lo * C) * sizeof(WG_T));
        memset(dst + q_hi * C, 0, (size_t)((Wp - q_hi) * C) * sizeof(WG_T));
        /* No column inside: the row pointer below would lie left of the row (pointer arithmetic
         * out of the array, which huge paddings can even wrap). */
        if (q_lo == q_hi) continue;
        /* A transpose (channel rows to pixel rows), in 16-channel blocks so that the rows
         * read and the pixels written stay in L1. */
        const int64_t block = 16;
        const WG_T *row = c->input + n * c->in_st[0] + iy * c->in_st[2] +
                          (q_lo - p->pad_left) * c->in_st[3];
        for (int64_t c0 = 0; c0 < C; c0 += block) {
            WG_CAT(cconv_transpose_, WG_SUFFIX)(row + c0 * c->in_st[1], (ptrdiff_t)c->in_st[1],
                                                (ptrdiff_t)c->in_st[3], dst + q_lo * C + c0,
                                                (ptrdiff_t)C, C - c0 < block ? C - c0 : block,
                                                q_hi - q_lo);
        }
    }
    return 0;
}

/* Work item (group, block of columns, block of output channels) over the chunk's slabs and every
 * kernel tap: the tiles of its slabs summed in order, one running sum per tap, then written
 * (first chunk) or added (later chunks) into its own elements of grad_weight, which for a
 * block of input channels and every tap are contiguous for each output channel. */
static int WG_FN(wgrad_item_)(void *context, int64_t item, int slot)
{
    const WG_FN(wgrad_call_) *c = (const WG_FN(wgrad_call_) *)context;
    const cconv_conv2d_weight_params *p = c->p;
    const wgrad_plan *pl = c->pl;
    WG_T *tile = c->tiles[slot];
    if (!tile) return 1;
    const int64_t tile_size = pl->mr * pl->nr;
    WG_T *acc = tile + tile_size; /* item_taps running sums */
    const int64_t ob = item % pl->o_blocks, cb = item / pl->o_blocks % pl->c_blocks;
    const int64_t g = item / (pl->o_blocks * pl->c_blocks);
    const int64_t C = p->in_channels, Wp = pl->slab_cols, OH = p->out_height, OW = p->out_width;
    const int64_t kW = p->kernel_width, taps = p->kernel_height * kW, Cg = pl->Cg;
    const int64_t o0 = g * pl->Og + ob * pl->mr;
    const int64_t mr = pl->Og - ob * pl->mr < pl->mr ? pl->Og - ob * pl->mr : pl->mr;
    const WG_UKERNEL kernel = c->set->WG_SET(ukernels)[mr - 1][pl->nv - 1];
    for (int64_t i = 0; i < c->slabs; i++) {
        const int64_t s = c->first_slab + i, n = s / pl->bands, band = s % pl->bands;
        const int64_t y0 = band * pl->band_rows;
        const int64_t rows = OH - y0 < pl->band_rows ? OH - y0 : pl->band_rows;
        const WG_T *slab = c->chunk + i * pl->slab_stride + g * Cg + cb * pl->nr;
        const WG_T *gy = c->grad_output + (n * p->out_channels + o0) * OH * OW + y0 * OW;
        for (int64_t t = 0; t < pl->item_taps; t++) {
            /* Folded, tap t is kernel row t and the columns hold (kx, c) pairs. */
            const int64_t ky = pl->folded ? t : t / kW, kx = pl->folded ? 0 : t % kW;
            WG_T *sum = acc + t * tile_size;
            kernel((size_t)rows, (size_t)OW,
                   slab + (ky * p->dilation_h * Wp + kx * p->dilation_w) * C,
                   (size_t)pl->row_step, pl->tap_offsets, gy, (size_t)(OH * OW), NULL,
                   i == 0 ? sum : tile, (size_t)pl->nr);
            for (int64_t m = 0; m < mr && i > 0; m++) {
                WG_T *CCONV_RESTRICT a = sum + m * pl->nr;
                const WG_T *CCONV_RESTRICT b = tile + m * pl->nr;
                for (int64_t v = 0; v < pl->nr; v++) a[v] += b[v];
            }
        }
    }
    /* grad_weight[o, c, ky, kx] for the block's channels, in memory order. */
    const int first_chunk = c->first_slab == 0;
    const int64_t c0 = pl->folded ? 0 : cb * pl->nr;
    const int64_t c1 = pl->folded ? Cg : (c0 + pl->nr < Cg ? c0 + pl->nr : Cg);
    for (int64_t m = 0; m < mr; m++) {
        WG_T *gw = c->grad_weight + ((o0 + m) * Cg + c0) * taps;
        for (int64_t ch = c0; ch < c1; ch++) {
            for (int64_t t = 0; t < taps; t++, gw++) {
                /* Folded: sum of kernel row t / kW, column (t % kW) * Cg + ch. */
                const WG_T value =
                    pl->folded ? acc[(t / kW) * tile_size + m * pl->nr + (t % kW) * Cg + ch]
                               : acc[t * tile_size + m * pl->nr + (ch - c0)];
                if (first_chunk) {
                    *gw = value;
                } else {
                    *gw += value;
                }
            }
        }
    }
    return 0;
}

/* Depthwise and channel-multiplier layers (one input channel per group): item o sums, for
 * each tap, rows of grad_output times the matching input rows (valid columns only). */
static int WG_FN(wgrad_depthwise_)(void *context, int64_t o, int slot)
{
    const WG_FN(wgrad_call_) *c = (const WG_FN(wgrad_call_) *)context;
    const cconv_conv2d_weight_params *p = c->p;
    const int64_t Og = p->out_channels / p->groups, ch = o / Og;
    const int64_t H = p->in_height, W = p->in_width, OH = p->out_height, OW = p->out_width;
    const int64_t kH = p->kernel_height, kW = p->kernel_width, sw = p->stride_w;
    (void)slot;
    WG_T *out = c->grad_weight + o * kH * kW;
    for (int64_t ky = 0; ky < kH; ky++) {
        for (int64_t kx = 0; kx < kW; kx++) {
            /* Output columns x whose input column x * sw - pad_left + kx * dw is inside. */
            const int64_t shift = kx * p->dilation_w - p->pad_left;
            int64_t x_lo = shift < 0 ? cconv_ceil_div(-shift, sw) : 0;
            int64_t x_hi = W - 1 - shift < 0 ? 0 : (W - 1 - shift) / sw + 1;
            if (x_hi > OW) x_hi = OW;
            double total = 0.0; /* a sum of many row sums: kept in double */
            for (int64_t n = 0; n < p->batch; n++) {
                const WG_T *gy = c->grad_output + (n * p->out_channels + o) * OH * OW;
                for (int64_t y = 0; y < OH; y++) {
                    const int64_t iy = y * p->stride_h - p->pad_top + ky * p->dilation_h;
                    if (iy < 0 || iy >= H || x_lo >= x_hi) continue;
                    const WG_T *CCONV_RESTRICT g = gy + y * OW;
                    const WG_T *CCONV_RESTRICT x = c->input + n * c->in_st[0] +
                                                   ch * c->in_st[1] + iy * c->in_st[2] +
                                                   shift * c->in_st[3];
                    WG_T row = (WG_T)0;
                    if (c->in_st[3] == 1 && sw == 1) {
                        for (int64_t j = x_lo; j < x_hi; j++) row += g[j] * x[j];
                    } else {
                        for (int64_t j = x_lo; j < x_hi; j++) row += g[j] * x[j * sw * c->in_st[3]];
                    }
                    total += (double)row;
                }
            }
            out[ky * kW + kx] = (WG_T)total;
        }
    }
    return 0;
}

static cconv_status WG_FN(wgrad_set_)(const cconv_conv2d_weight_params *p,
                                      const cconv_kernel_set **set)
{
    cconv_status status = cconv_conv2d_weight_check(p);
    if (status != CCONV_OK) return status;
    const int simd = p->run.simd < 0 ? cconv_simd_best() : p->run.simd;
    if (!cconv_simd_supported(simd)) return CCONV_ERR_UNSUPPORTED_SIMD;
    *set = cconv_kernel_set_at(simd);
    return CCONV_OK;
}

static int WG_FN(wgrad_is_depthwise_)(const cconv_conv2d_weight_params *p)
{
    return p->in_channels == p->groups;
}

static cconv_status WG_FN(wgrad_plan_)(const cconv_conv2d_weight_params *p,
                                       const cconv_kernel_set *set, wgrad_plan *pl)
{
    return wgrad_plan_init(pl, p, set, sizeof(WG_T), (int64_t)set->WG_SET(mr_max),
                           (int64_t)set->WG_SET(nv_max), (int64_t)set->WG_SET(vl));
}

static cconv_status WG_FN(wgrad_workspace_)(const cconv_conv2d_weight_params *p, size_t *bytes)
{
    const cconv_kernel_set *set;
    *bytes = 0;
    cconv_status status = WG_FN(wgrad_set_)(p, &set);
    if (status != CCONV_OK || p->out_channels == 0 || WG_FN(wgrad_is_depthwise_)(p) ||
        p->batch == 0 || p->out_height == 0 || p->out_width == 0 || p->in_channels == 0)
        return status;
    wgrad_plan pl;
    status = WG_FN(wgrad_plan_)(p, set, &pl);
    if (status == CCONV_OK) {
        const size_t e = sizeof(WG_T);
        *bytes = cconv_aligned_footprint((size_t)(pl.slabs_per_chunk * pl.slab_stride + pl.nr) *
                                         e) +
                 (size_t)(pl.threads + 1) *
                     cconv_aligned_footprint((size_t)((pl.item_taps + 1) * pl.mr * pl.nr) * e) +
                 (size_t)p->out_width * sizeof(ptrdiff_t);
    }
    wgrad_plan_free(&pl);
    return status;
}

static cconv_status WG_FN(wgrad_loop_)(const cconv_conv2d_weight_params *p, int64_t items,
                                       int threads, cconv_item_fn run, void *context, int last)
{
    const cconv_parallel_loop loop = {items,
                                      threads,
                                      run,
                                      context,
                                      p->run.poll,
                                      p->run.poll_context,
                                      last ? p->run.handoff : NULL,
                                      p->run.poll_context,
                                      p->run.handoff_seconds};
    const cconv_loop_result result = cconv_parallel_run(&loop);
    if (result == CCONV_LOOP_ITEM_FAILED) return CCONV_ERR_NO_MEMORY;
    return result == CCONV_LOOP_POLL_STOPPED ? CCONV_ERR_INTERRUPTED : CCONV_OK;
}

cconv_status WG_FN(cconv_conv2d_weight_)(const cconv_conv2d_weight_params *p, const WG_T *input,
                                         const WG_T *grad_output, WG_T *grad_weight)
{
    const cconv_kernel_set *set;
    cconv_status status = WG_FN(wgrad_set_)(p, &set);
    if (status != CCONV_OK) return status;
    const int64_t Cg = p->in_channels / p->groups;
    if (p->out_channels == 0 || Cg == 0) return CCONV_OK; /* no weight (kH * kW may not fit) */
    const int64_t taps = p->kernel_height * p->kernel_width;
    if (!grad_weight) return CCONV_ERR_INVALID_ARGUMENT;
    if (p->batch == 0 || p->out_height == 0 || p->out_width == 0 || p->in_height == 0 ||
        p->in_width == 0) {
        memset(grad_weight, 0, (size_t)(p->out_channels * Cg * taps) * sizeof(WG_T));
        return CCONV_OK;
    }
    if (!input || !grad_output) return CCONV_ERR_INVALID_ARGUMENT;

    int64_t in_st[4];
    if (p->input_strides) {
        memcpy(in_st, p->input_strides, sizeof(in_st));
    } else {
        in_st[3] = 1;
        in_st[2] = p->in_width;
        in_st[1] = p->in_height * p->in_width;
        in_st[0] = p->in_channels * in_st[1];
    }
    WG_FN(wgrad_call_) call;
    memset(&call, 0, sizeof(call));
    call.p = p;
    call.set = set;
    call.input = input;
    call.grad_output = grad_output;
    call.in_st = in_st;
    int threads = p->run.threads > 0 ? p->run.threads : cconv_max_threads();

    if (WG_FN(wgrad_is_depthwise_)(p)) {
        call.grad_weight = grad_weight; /* (O, 1, kH, kW): item o writes its own kernel */
        return WG_FN(wgrad_loop_)(p, p->out_channels, threads, WG_FN(wgrad_depthwise_), &call,
                                  1);
    }

    wgrad_plan pl;
    status = WG_FN(wgrad_plan_)(p, set, &pl);
    if (status != CCONV_OK) {
        wgrad_plan_free(&pl);
        return status;
    }
    call.pl = &pl;
    const int slots = pl.threads + 1; /* one more for a handoff's helper */
    call.grad_weight = grad_weight;
    call.chunk = (WG_T *)cconv_aligned_calloc(
        (size_t)(pl.slabs_per_chunk * pl.slab_stride + pl.nr) * sizeof(WG_T));
    call.tiles = (WG_T **)calloc((size_t)slots, sizeof(WG_T *));
    int ok = call.chunk && call.tiles;
    for (int t = 0; ok && t < slots; t++) {
        call.tiles[t] = (WG_T *)cconv_aligned_calloc((size_t)((pl.item_taps + 1) * pl.mr * pl.nr) *
                                                    sizeof(WG_T));
        ok = call.tiles[t] != NULL;
    }
    status = ok ? CCONV_OK : CCONV_ERR_NO_MEMORY;

    const int64_t total_slabs = p->batch * pl.bands;
    for (int64_t first = 0; first < total_slabs && status == CCONV_OK;
         first += pl.slabs_per_chunk) {
        call.first_slab = first;
        call.slabs = total_slabs - first < pl.slabs_per_chunk ? total_slabs - first
                                                               : pl.slabs_per_chunk;
        status = WG_FN(wgrad_loop_)(p, call.slabs, threads, WG_FN(wgrad_pack_), &call, 0);
        if (status == CCONV_OK)
            status = WG_FN(wgrad_loop_)(p, pl.items, pl.threads, WG_FN(wgrad_item_), &call,
                                        first + pl.slabs_per_chunk >= total_slabs);
    }

    for (int t = 0; call.tiles && t < slots; t++) cconv_aligned_free(call.tiles[t]);
    free(call.tiles);
    cconv_aligned_free(call.chunk);
    wgrad_plan_free(&pl);
    return status;
}

#undef WG_UKERNEL
#undef WG_FN
#undef WG_CAT
#undef WG_CAT_
