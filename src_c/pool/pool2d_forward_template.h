/*
 * Max and average pooling, instantiated once per element type by pool2d_forward.c.
 * Needs PF_T (element type), PF_CODE (a signed integer as wide as PF_T) and PF_SUFFIX (f32/f64).
 *
 * A work item is a band of output rows of one plane.  Each output row is computed in place in
 * the output: set to -inf (max) or 0 (average), then, for each window row that lies inside the
 * input (ascending) and each kernel column (ascending), one pass over the output columns whose
 * tap lies inside that input row.  For stride 1 and 2 along a contiguous row the pass reads the
 * row at a constant stride and compiles to vector code; taps in the padding are never visited
 * (they are -inf or 0, which change nothing), so no inner loop branches on a border, and every
 * output meets its taps in PyTorch's row-major order: the same value, the same tie-breaking for
 * indices, and for average pooling the same sum, bit for bit.  Kernels 2 or 3 wide fuse their
 * columns into one pass over the output columns they all read inside the input, and stride-2
 * rows are split into their even and odd columns once; the loops are pool2d_passes_template.h.
 * An output whose rows are not contiguous is computed row by row in scratch and copied out.
 *
 * A channels-last input runs pool2d_forward_cl_template.h instead.
 */
#define PF_CAT_(a, b) a##b
#define PF_CAT(a, b) PF_CAT_(a, b)
#define PF_FN(name) PF_CAT(name, PF_SUFFIX)
#define R CCONV_POOL_RESTRICT
/* Pass numbers of one output row: as wide as PF_T; rows with more passes than this (kernels of
 * thousands of taps) record flat indices directly, with scalar code. */
#define PF_MAX_PASSES 4096
/* Rows wider than this are read at stride 2 rather than split (the split rows of one thread's
 * scratch then stay within 64 x 64K elements). */
#define PF_SPLIT_MAX_WIDTH 65536
/* Channels per block of the channels-last loop (pool2d_common.h). */
#define PF_CL_BLOCK CCONV_POOL_CL_BLOCK(PF_T)

#include "pool2d_passes_template.h"


typedef struct PF_FN(call_) {
    const cconv_pool2d_params *p;
    cconv_pool_layout in, out;
    int out_rows_contiguous; /* 0: each output row is computed in scratch, then copied out */
    const PF_T *input;
    PF_T *output;
    int64_t *indices;  /* NULL: none (or average pooling) */
    int average;
    int64_t band_rows, bands;
    /* Indices through pass numbers (max_code_pass_) when a row's passes fit PF_CODE and
     * max_passes: per-thread scratch holds out_width codes, then max_passes bases. */
    int coded;
    int64_t max_passes;
    /* Stride 2 along contiguous rows: each input row is split once into its even and odd
     * columns (kept for the next output rows in split_slots slots, one per kernel row), so that
     * every kernel column's pass reads unit-stride vectors instead of deinterleaving again. */
    int64_t split_slots, split_half; /* 0 slots: no split */
    /* Per kernel column j, the output columns whose tap lies inside the input: [lo, hi) at
     * column_range[2j], [2j+1] (NULL for kernels too wide to tabulate: computed per row).  The
     * same for every row, and two integer divisions each, so computed once per call. */
    const int64_t *column_range;
    /* Kernels 2 or 3 wide with unit-stride sources (split rows, or stride 1 along contiguous
     * rows): the output columns [fused_lo, fused_hi) where every kernel column reads inside the
     * input go through one fused pass per kernel row.  fused_hi = fused_lo: not fused. */
    int64_t fused_lo, fused_hi;
} PF_FN(call_);

/* The output columns [*lo, *hi) whose kernel column j reads inside the input. */
static void PF_FN(columns_)(const cconv_pool2d_params *p, int64_t j, int64_t *lo, int64_t *hi)
{
    const int64_t sW = p->stride_w, W = p->in_width;
    const int64_t c0 = j * p->dilation_w - p->pad_left; /* input column of output 0's tap j */
    *lo = c0 >= 0 ? 0 : cconv_ceil_div(-c0, sW);
    *hi = c0 >= W ? 0 : (W - 1 - c0) / sW + 1;
    if (*hi > p->out_width) *hi = p->out_width;
}

/* One thread's scratch, as an item sees it (pointers into its slot_bytes block). */
typedef struct PF_FN(scratch_) {
    PF_CODE *code;  /* out_width pass numbers, or NULL */
    int64_t *base;  /* max_passes flat-index bases */
    PF_T *split;    /* split_slots rows of 2 * split_half elements: even, then odd columns */
    int64_t *tags;  /* which input row each split slot holds (-1: none) */
    PF_T *row;      /* an output row and its indices, when the output's rows are not contiguous */
    int64_t *row_indices;
} PF_FN(scratch_);

/* The even and odd columns of input row ih (row points at it): from its slot when the previous
 * output row already split it, else split now. */
static const PF_T *PF_FN(split_row_)(const PF_FN(call_) *c, const PF_FN(scratch_) *s,
                                     const PF_T *R row, int64_t ih)
{
    const int64_t slot = ih % c->split_slots, half = c->split_half, W = c->p->in_width;
    PF_T *R even = s->split + slot * 2 * half;
    if (s->tags[slot] == ih) return even;
    PF_T *R odd = even + half;
    for (int64_t q = 0; q < W / 2; q++) {
        even[q] = row[2 * q];
        odd[q] = row[2 * q + 1];
    }
    if (W % 2) even[W / 2] = row[W - 1];
    s->tags[slot] = ih;
    return even;
}

/* Input pixels of the window along one axis (average pooling's divisor): the window clipped to
 * the padded input (count_include_pad) or to the input itself. */
static int64_t PF_FN(window_count_)(int64_t start, int64_t kernel, int64_t in, int64_t pad_after,
                                    int include_pad)
{
    int64_t end = start + kernel;
    if (include_pad) return (end < in + pad_after ? end : in + pad_after) - start;
    if (end > in) end = in;
    return end - (start > 0 ? start : 0);
}

/* Output row y of one plane. */
static void PF_FN(pool_row_)(const PF_FN(call_) *c, const PF_FN(scratch_) *s,
                             const PF_T *in_plane, PF_T *o, int64_t *ix, int64_t y,
                             int64_t full_lo, int64_t full_hi)
{
    PF_CODE *code = s->code;
    int64_t *base = s->base;
    const cconv_pool2d_params *p = c->p;
    const int64_t H = p->in_height, W = p->in_width, OW = p->out_width;
    const int64_t sW = p->stride_w, dW = p->dilation_w, kW = p->kernel_width;
    const int64_t top = y * p->stride_h - p->pad_top;
    const PF_T init = c->average ? (PF_T)0 : -(PF_T)INFINITY;
    for (int64_t x = 0; x < OW; x++) o[x] = init;
    if (code) {
        for (int64_t x = 0; x < OW; x++) code[x] = -1;
    } else if (ix) {
        for (int64_t x = 0; x < OW; x++) ix[x] = -1;
    }
    int64_t row_passes = 0; /* window rows read so far: pass numbers row_passes*kW + j */
    const int64_t xa = c->fused_lo, xb = c->fused_hi;
    for (int64_t i = 0; i < p->kernel_height; i++) {
        const int64_t ih = top + i * p->dilation_h;
        if (ih < 0) continue;
        if (ih >= H) break;
        const PF_T *row = in_plane + ih * c->in.h;
        const PF_T *split = c->split_slots ? PF_FN(split_row_)(c, s, row, ih) : NULL;
        const int64_t pass0 = row_passes++ * kW;
        const PF_T *fused[3] = {NULL, NULL, NULL};
        for (int64_t j = 0; j < kW; j++) {
            const int64_t c0 = j * dW - p->pad_left; /* input column of output 0's tap j */
            if (c0 >= W) break;
            int64_t x_lo, x_hi;
            if (c->column_range) {
                x_lo = c->column_range[2 * j];
                x_hi = c->column_range[2 * j + 1];
            } else {
                PF_FN(columns_)(p, j, &x_lo, &x_hi);
            }
            if (code) base[pass0 + j] = ih * W + c0;
            /* The columns left and right of the fused range, or all of them. */
            for (int part = 0; part < 2; part++) {
                int64_t lo = x_lo, hi = x_hi;
                if (xb > xa) {
                    if (part == 0 && hi > xa) hi = xa;
                    if (part == 1 && lo < xb) lo = xb;
                } else if (part == 1) {
                    break;
                }
                if (lo >= hi) continue;
                const int64_t n = hi - lo, col = lo * sW + c0;
                const PF_T *src = split ? split + (col % 2) * c->split_half + col / 2
                                        : row + col * c->in.w;
                /* With two or more taps, sW < W: the step stays inside the row's extent. */
                const int64_t step = split ? 1 : n > 1 ? sW * c->in.w : 0;
                if (code)
                    PF_FN(max_code_pass_)(o + lo, code + lo, src, n, step, (PF_CODE)(pass0 + j));
                else if (ix)
                    PF_FN(max_index_pass_)(o + lo, ix + lo, src, n, step, ih * W + col, sW);
                else if (c->average)
                    PF_FN(sum_pass_)(o + lo, src, n, step);
                else
                    PF_FN(max_pass_)(o + lo, src, n, step);
            }
            if (xb > xa) {
                const int64_t col = xa * sW + c0;
                fused[j] = split ? split + (col % 2) * c->split_half + col / 2 : row + col;
            }
        }
        if (xb > xa) { /* every column reads inside the input there, so fused[0..kW) are set */
            if (code)
                PF_FN(code_fused_)(o + xa, code + xa, fused[0], fused[1], fused[2], xb - xa,
                                   (PF_CODE)pass0);
            else if (c->average)
                PF_FN(sum_fused_)(o + xa, fused[0], fused[1], fused[2], xb - xa);
            else if (!ix)
                PF_FN(max_fused_)(o + xa, fused[0], fused[1], fused[2], xb - xa);
        }
    }
    if (ix) {
        if (code) {
            for (int64_t x = 0; x < OW; x++) ix[x] = code[x] >= 0 ? base[code[x]] + x * sW : -1;
        }
        /* Windows whose inputs are all -inf: PyTorch's index, the window's first input pixel. */
        const int64_t first_row = cconv_pool_first_tap(top, p->dilation_h) * W;
        for (int64_t x = 0; x < OW; x++) {
            if (ix[x] < 0) ix[x] = first_row + cconv_pool_first_tap(x * sW - p->pad_left, dW);
        }
    }
    if (!c->average) return;
    if (p->divisor != 0) {
        const PF_T d = (PF_T)p->divisor;
        for (int64_t x = 0; x < OW; x++) o[x] /= d;
        return;
    }
    /* Divided as PyTorch does: by the int64 window size converted to PF_T. */
    const int include = p->count_include_pad;
    const int64_t rows = PF_FN(window_count_)(top, p->kernel_height, H, p->pad_bottom, include);
    for (int64_t x = 0; x < OW; x++) {
        if (x == full_lo && full_hi > full_lo) {
            const PF_T d = (PF_T)(rows * kW);
            for (; x < full_hi; x++) o[x] /= d;
            if (x >= OW) break;
        }
        const int64_t cols =
            PF_FN(window_count_)(x * sW - p->pad_left, kW, W, p->pad_right, include);
        o[x] /= (PF_T)(rows * cols);
    }
}

static cconv_status PF_FN(pool_item_)(void *context, int64_t item, void *scratch)
{
    const PF_FN(call_) *c = (const PF_FN(call_) *)context;
    const cconv_pool2d_params *p = c->p;
    const int64_t plane = item / c->bands, band = item % c->bands;
    const int64_t n = plane / p->channels, ch = plane % p->channels;
    const int64_t OH = p->out_height, OW = p->out_width;
    const PF_T *in_plane = c->input + n * c->in.n + ch * c->in.c;
    /* The indices are laid out as the output. */
    const int64_t out_plane = n * c->out.n + ch * c->out.c;
    /* The columns whose window is whole (kernel_width taps counted): one divisor for them. */
    int64_t full_lo = 0, full_hi = 0;
    if (c->average && p->divisor == 0) {
        full_lo = OW;
        for (int64_t x = 0; x < OW; x++) {
            const int64_t cols = PF_FN(window_count_)(x * p->stride_w - p->pad_left,
                                                      p->kernel_width, p->in_width,
                                                      p->pad_right, p->count_include_pad);
            if (cols == p->kernel_width) {
                if (full_lo == OW) full_lo = x;
                full_hi = x + 1;
            }
        }
    }
    const int64_t y0 = band * c->band_rows;
    const int64_t y1 = y0 + c->band_rows < OH ? y0 + c->band_rows : OH;
    /* The slot's layout (see pool2d_): OW codes and max_passes bases (8 bytes each), the
     * output row's indices and values, then the split rows and their tags. */
    PF_FN(scratch_) s = {NULL, NULL, NULL, NULL, NULL, NULL};
    int64_t *words = (int64_t *)scratch;
    if (c->coded) {
        s.code = (PF_CODE *)words;
        s.base = words + OW;
        words += OW + c->max_passes;
    }
    if (!c->out_rows_contiguous) {
        s.row_indices = words;
        s.row = (PF_T *)(words + OW);
        words += 2 * OW; /* OW values of at most 8 bytes */
    }
    if (c->split_slots) {
        s.tags = words;
        s.split = (PF_T *)(words + c->split_slots);
        for (int64_t k = 0; k < c->split_slots; k++) s.tags[k] = -1; /* a new plane */
    }
    for (int64_t y = y0; y < y1; y++) {
        const int64_t at = out_plane + y * c->out.h;
        if (c->out_rows_contiguous) {
            PF_FN(pool_row_)(c, &s, in_plane, c->output + at, c->indices ? c->indices + at : NULL,
                             y, full_lo, full_hi);
            continue;
        }
        int64_t *ix = c->indices ? s.row_indices : NULL;
        PF_FN(pool_row_)(c, &s, in_plane, s.row, ix, y, full_lo, full_hi);
        for (int64_t x = 0; x < OW; x++) c->output[at + x * c->out.w] = s.row[x];
        if (ix) {
            for (int64_t x = 0; x < OW; x++) c->indices[at + x * c->out.w] = ix[x];
        }
    }
    return CCONV_OK;
}

#define CW_T PF_T
#define CW_CODE PF_CODE
#define CW_FN PF_FN
#define CW_RUN CCONV_POOL_CL_RUN
#include "pool2d_cl_window_template.h"
#undef CW_T
#undef CW_CODE
#undef CW_FN
#undef CW_RUN
#include "pool2d_forward_cl_template.h"

static cconv_status PF_FN(pool2d_)(const cconv_pool2d_params *p, const PF_T *input,
                                   PF_T *output, int64_t *indices, int average)
{
    cconv_status status = cconv_pool2d_check(p);
    if (status != CCONV_OK) return status;
    if (average && (p->dilation_h != 1 || p->dilation_w != 1)) return CCONV_ERR_INVALID_ARGUMENT;
    status = cconv_pool_check_simd(&p->run);
    if (status != CCONV_OK) return status;
    const int64_t planes = p->batch * p->channels;
    if (planes == 0) return CCONV_OK;
    if (!input || !output) return CCONV_ERR_INVALID_ARGUMENT;
    const cconv_pool_layout in =
        cconv_pool_layout_of(p->input_strides, p->channels, p->in_height, p->in_width);
    const cconv_pool_layout out =
        cconv_pool_layout_of(p->output_strides, p->channels, p->out_height, p->out_width);
    if (cconv_pool_channels_last(in, p->channels))
        return PF_FN(cl_pool2d_)(p, in, out, input, output, average ? NULL : indices, average);
    PF_FN(call_) c;
    c.p = p;
    c.in = in;
    c.out = out;
    c.out_rows_contiguous = out.w == 1 || p->out_width == 1;
    c.input = input;
    c.output = output;
    c.indices = average ? NULL : indices;
    c.average = average;
    /* Bands of about 32K taps, so that a single large image still splits between threads.  The
     * split depends on the shape only (and no output depends on the split anyway). */
    const int64_t taps_per_row = p->out_width * p->kernel_height * p->kernel_width;
    c.band_rows = taps_per_row >= 32768 ? 1 : 32768 / taps_per_row;
    if (c.band_rows > p->out_height) c.band_rows = p->out_height;
    c.bands = (p->out_height + c.band_rows - 1) / c.band_rows;
    /* A row makes at most (window rows inside the input) x (kernel columns) passes. */
    const int64_t rows = p->kernel_height < p->in_height ? p->kernel_height : p->in_height;
    c.max_passes = rows * p->kernel_width; /* rows, kernel_width <= 2**62 / 8: no overflow */
    if (p->kernel_width > PF_MAX_PASSES || c.max_passes > PF_MAX_PASSES) c.max_passes = 0;
    c.coded = c.indices != NULL && c.max_passes > 0;
    c.split_half = (p->in_width + 1) / 2;
    c.split_slots = 0;
    if (p->stride_w == 2 && c.in.w == 1 && p->out_width > 1 && p->kernel_height <= 64 &&
        p->in_width <= PF_SPLIT_MAX_WIDTH)
        c.split_slots = p->kernel_height;
    /* Sizes bounded by the limits above and by the output row: no overflow. */
    const size_t slot_bytes =
        (c.coded ? (size_t)(p->out_width + c.max_passes) * sizeof(int64_t) : 0) +
        (c.out_rows_contiguous ? 0 : (size_t)(2 * p->out_width) * sizeof(int64_t)) +
        (size_t)c.split_slots * (sizeof(int64_t) + (size_t)(2 * c.split_half) * sizeof(PF_T));
    int64_t *ranges = NULL;
    if (p->kernel_width <= PF_MAX_PASSES) {
        ranges = (int64_t *)malloc((size_t)p->kernel_width * 2 * sizeof(int64_t));
        if (!ranges) return CCONV_ERR_NO_MEMORY;
        for (int64_t j = 0; j < p->kernel_width; j++)
            PF_FN(columns_)(p, j, &ranges[2 * j], &ranges[2 * j + 1]);
    }
    c.column_range = ranges;
    /* The fused range: every kernel column inside the input, unit-stride sources, and no
     * scalar index path (which records flat indices pass by pass). */
    c.fused_lo = c.fused_hi = 0;
    if (ranges && (p->kernel_width == 2 || p->kernel_width == 3) &&
        (c.split_slots || (p->stride_w == 1 && c.in.w == 1)) && !(c.indices && !c.coded)) {
        int64_t lo = 0, hi = p->out_width;
        for (int64_t j = 0; j < p->kernel_width; j++) {
            if (ranges[2 * j] > lo) lo = ranges[2 * j];
            if (ranges[2 * j + 1] < hi) hi = ranges[2 * j + 1];
        }
        if (hi > lo) {
            c.fused_lo = lo;
            c.fused_hi = hi;
        }
    }
    status = cconv_pool_parallel(&p->run, planes * c.bands, slot_bytes, PF_FN(pool_item_), &c);
    free(ranges);
    return status;
}

cconv_status PF_CAT(cconv_max_pool2d_, PF_SUFFIX)(const cconv_pool2d_params *params,
                                                   const PF_T *input, PF_T *output,
                                                   int64_t *indices)
{
    return PF_FN(pool2d_)(params, input, output, indices, 0);
}

cconv_status PF_CAT(cconv_avg_pool2d_, PF_SUFFIX)(const cconv_pool2d_params *params,
                                                   const PF_T *input, PF_T *output)
{
    return PF_FN(pool2d_)(params, input, output, NULL, 1);
}

#undef R
#undef PF_MAX_PASSES
#undef PF_SPLIT_MAX_WIDTH
#undef PF_CL_BLOCK
#undef PF_FN
#undef PF_CAT
#undef PF_CAT_
