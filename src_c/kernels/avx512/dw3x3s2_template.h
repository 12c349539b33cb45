/*
 * The AVX-512 depthwise 3x3 stride-2 kernel (contract: cconv_*_dw3x3s2_ukernel in
 * conv2d_kernels.h), written once for float and double.  Included by conv2d_avx512.c only, after
 * it defines
 *   DW_T, DW_V, DW_VL   element type, vector type, lanes
 *   DW_MASK             the lane mask type (__mmask16 / __mmask8)
 *   DW_LOADZ(m, p)      masked load, zeros in the masked-off lanes (never touches them)
 *   DW_PERM(m, a, i, b) two-source permute with zeroing mask
 *   DW_FMA, DW_SET1     as in simd_ukernel_template.h
 *   DW_STOREM(p, m, v)  masked store
 *   DW_IOTA2(first)     index vector first, first+2, first+4, ...
 *   DW_NAME(stem)       a helper's name for this type
 *   DW_KERNEL           the kernel's name (cconv_<type>_dwconv3x3s2_4x<VL>__avx512)
 *
 * It reads the input plane directly, no packing.  A tile is DW_VL output columns x0.. of up to 4
 * output rows.  For each input row it needs three vectors, input columns c+kw+2k (k < DW_VL,
 * kw < 3, c = 2*x0 - pad_left): two loads from column c give kw = 0 and 1 (even and odd lanes),
 * two from column c+1 give kw = 2 (odd lanes).  Padding never reaches the loop: everything that
 * depends on the borders is worked out once per column tile, as load masks (columns past the
 * row's end read as zero, without touching memory), permute indices and permute lane masks
 * (columns left of the row read as zero), and once per input row as a row mask (rows outside the
 * plane read as zero).  So the same straight-line code serves the interior and every edge, and
 * padded taps still multiply a zero (an infinite weight gives NaN there, as the oracle does).
 * Four output rows share their input rows (9 input rows per 4 output rows, not 12) and give four
 * independent FMA chains per tile.  Each output sums bias, then kh ascending, then kw ascending.
 */

/* Everything a column tile needs from one input row: where the two load pairs start, their load
 * masks, and for each kw the permute index and lane mask. */
typedef struct DW_NAME(tile_) {
    size_t off0a, off0b, off1a, off1b;
    DW_MASK load0a, load0b, load1a, load1b;
    __m512i idx0, idx1, idx2;
    DW_MASK lane0, lane1, lane2;
    DW_MASK store;
} DW_NAME(tile_);

/* Lanes k < DW_VL whose column first + 2k lies in [0, width). */
static DW_MASK DW_NAME(lane_mask_)(int64_t first, int64_t width)
{
    int64_t lo = first < 0 ? (-first + 1) / 2 : 0;
    int64_t hi = width - first > 0 ? (width - first + 1) / 2 : 0;
    if (hi > DW_VL) hi = DW_VL;
    if (lo > hi) lo = hi;
    const uint32_t upto_hi = hi >= 32 ? 0xFFFFFFFFu : (1u << hi) - 1u;
    const uint32_t below_lo = (1u << lo) - 1u;
    return (DW_MASK)(upto_hi & ~below_lo);
}

/* A load pair from column `first` (clamped into the row): offsets and masks of its two vectors. */
static void DW_NAME(pair_)(int64_t first, int64_t width, size_t *off_a, size_t *off_b,
                           DW_MASK *mask_a, DW_MASK *mask_b, int64_t *base)
{
    int64_t b = first < 0 ? 0 : first;
    if (b > width) b = width; /* a pair wholly right of the row: masked off entirely */
    const int64_t n = width - b, na = n < DW_VL ? n : DW_VL, nb = n - na < DW_VL ? n - na : DW_VL;
    *off_a = (size_t)b;
    *off_b = (size_t)(b + na); /* at most one past the row's end, and then masked off */
    *mask_a = (DW_MASK)(na >= 32 ? 0xFFFFFFFFu : (1u << na) - 1u);
    *mask_b = (DW_MASK)(nb >= 32 ? 0xFFFFFFFFu : (1u << nb) - 1u);
    *base = b;
}

static void DW_NAME(tile_init_)(DW_NAME(tile_) *t, int64_t x0, int64_t out_width,
                                int64_t in_width, int64_t pad_left)
{
    const int64_t c = 2 * x0 - pad_left;
    int64_t base0, base1;
    DW_NAME(pair_)(c, in_width, &t->off0a, &t->off0b, &t->load0a, &t->load0b, &base0);
    DW_NAME(pair_)(c + 1, in_width, &t->off1a, &t->off1b, &t->load1a, &t->load1b, &base1);
    /* Index of column c+kw+2k in its pair; lanes left of the row get a negative index, whose low
     * bits pick some loaded value, and are zeroed by the lane mask. */
    t->idx0 = DW_IOTA2(c - base0);
    t->idx1 = DW_IOTA2(c + 1 - base0);
    t->idx2 = DW_IOTA2(c + 2 - base1);
    t->lane0 = DW_NAME(lane_mask_)(c, in_width);
    t->lane1 = DW_NAME(lane_mask_)(c + 1, in_width);
    t->lane2 = DW_NAME(lane_mask_)(c + 2, in_width);
    const int64_t valid = out_width - x0 < DW_VL ? out_width - x0 : DW_VL;
    t->store = (DW_MASK)((1u << valid) - 1u);
}

/* R output rows from row y of one column tile; see the file comment for the order of the sums. */
#define DW_DEFINE_ROWS(R)                                                                          \
    static void DW_NAME(rows##R##_)(const DW_NAME(tile_) *CCONV_RESTRICT t,                       \
                                    const DW_T *CCONV_RESTRICT input, int64_t in_height,          \
                                    int64_t in_width, int64_t first_row, const DW_V *w,           \
                                    DW_V start, DW_T *CCONV_RESTRICT out, size_t out_width)       \
    {                                                                                             \
        DW_V acc[R];                                                                              \
        UK_UNROLL for (int r = 0; r < R; r++) acc[r] = start;                                     \
        UK_UNROLL for (int i = 0; i < 2 * R + 1; i++) {                                           \
            const int64_t h = first_row + i;                                                      \
            const int inside = h >= 0 && h < in_height;                                           \
            const DW_T *CCONV_RESTRICT row = input + (inside ? h * in_width : 0);                 \
            const DW_MASK rm = (DW_MASK)(inside ? ~0u : 0u);                                      \
            const DW_V a0 = DW_LOADZ(t->load0a & rm, row + t->off0a);                             \
            const DW_V b0 = DW_LOADZ(t->load0b & rm, row + t->off0b);                             \
            const DW_V a1 = DW_LOADZ(t->load1a & rm, row + t->off1a);                             \
            const DW_V b1 = DW_LOADZ(t->load1b & rm, row + t->off1b);                             \
            const DW_V x0 = DW_PERM(t->lane0, a0, t->idx0, b0);                                   \
            const DW_V x1 = DW_PERM(t->lane1, a0, t->idx1, b0);                                   \
            const DW_V x2 = DW_PERM(t->lane2, a1, t->idx2, b1);                                   \
            UK_UNROLL for (int r = 0; r < R; r++) {                                               \
                const int kh = i - 2 * r;                                                         \
                if (kh >= 0 && kh < 3) {                                                          \
                    acc[r] = DW_FMA(w[kh * 3 + 0], x0, acc[r]);                                   \
                    acc[r] = DW_FMA(w[kh * 3 + 1], x1, acc[r]);                                   \
                    acc[r] = DW_FMA(w[kh * 3 + 2], x2, acc[r]);                                   \
                }                                                                                 \
            }                                                                                     \
        }                                                                                         \
        UK_UNROLL for (int r = 0; r < R; r++)                                                     \
            DW_STOREM(out + (size_t)r * out_width, t->store, acc[r]);                             \
    }
DW_DEFINE_ROWS(1)
DW_DEFINE_ROWS(2)
DW_DEFINE_ROWS(3)
DW_DEFINE_ROWS(4)
#undef DW_DEFINE_ROWS

static void DW_KERNEL(const DW_T *input, size_t in_height, size_t in_width,
                                    size_t pad_top, size_t pad_left, const DW_T *weights,
                                    const DW_T *bias, DW_T *output, size_t out_width,
                                    size_t row_begin, size_t row_end)
{
    const int64_t H = (int64_t)in_height, W = (int64_t)in_width, OW = (int64_t)out_width;
    DW_V w[9];
    for (int k = 0; k < 9; k++) w[k] = DW_SET1(weights[k]);
    const DW_V start = DW_SET1(bias ? bias[0] : (DW_T)0);
    /* Column tiles outside, rows inside: a tile's setup is done once per plane, and the rows
     * it reads (a plane of a typical depthwise layer is a few KB) stay in L1 for the next. */
    for (int64_t x0 = 0; x0 < OW; x0 += DW_VL) {
        DW_NAME(tile_) t;
        DW_NAME(tile_init_)(&t, x0, OW, W, (int64_t)pad_left);
        int64_t y = (int64_t)row_begin;
        const int64_t end = (int64_t)row_end;
        for (; y + 4 <= end; y += 4)
            DW_NAME(rows4_)(&t, input, H, W, 2 * y - (int64_t)pad_top, w, start,
                            output + y * OW + x0, out_width);
        switch (end - y) {
        case 3:
            DW_NAME(rows3_)(&t, input, H, W, 2 * y - (int64_t)pad_top, w, start,
                            output + y * OW + x0, out_width);
            break;
        case 2:
            DW_NAME(rows2_)(&t, input, H, W, 2 * y - (int64_t)pad_top, w, start,
                            output + y * OW + x0, out_width);
            break;
        case 1:
            DW_NAME(rows1_)(&t, input, H, W, 2 * y - (int64_t)pad_top, w, start,
                            output + y * OW + x0, out_width);
            break;
        default:
            break;
        }
    }
}
