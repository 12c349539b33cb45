/*
 * The AVX-512 depthwise k x k kernels of stride 1 and 2 that read the input in place (contract:
 * cconv_*_dw_inplace_ukernel in conv2d_kernels.h), written once for float and double, every odd
 * k and both strides.  Included by conv2d_avx512.c only, once per type, kernel size and stride,
 * after it defines
 *   DW_K, DW_S          the kernel size (3, 5 or 7) and the stride (1 or 2)
 *   DW_T, DW_V, DW_VL   element type, vector type, lanes
 *   DW_MASK             the lane mask type (__mmask16 / __mmask8)
 *   DW_LOADZ(m, p)      masked load, zeros in the masked-off lanes (never touches them)
 *   DW_PERM(m, a, i, b) two-source permute with zeroing mask
 *   DW_FMA, DW_SET1     as in simd_ukernel_template.h
 *   DW_STOREM(p, m, v)  masked store
 *   DW_IOTA(first)      index vector first, first+DW_S, first+2*DW_S, ...
 *   DW_NAME(stem)       a helper's name for this type, kernel size and stride
 *   DW_KERNEL           the kernel's name (cconv_<type>_dwconv<k>x<k>s<s>_4x<VL>__avx512)
 *
 * It reads the input plane directly, no packing.  A tile is DW_VL output columns x0.. of up to 4
 * output rows.  For each input row it needs DW_K vectors, input columns c+kw+DW_S*j (j < DW_VL,
 * kw < DW_K, c = DW_S*x0 - pad_left).  A pair of loads from one column covers 2*DW_VL columns:
 * at stride 2, the pair from column c + 2p gives kw = 2p and 2p+1 (its even and odd lanes), so
 * (DW_K+1)/2 pairs serve a row; at stride 1, the pair from column c gives every kw (a window of
 * DW_VL lanes shifted by kw).  Padding never reaches the loop: everything that depends on the
 * borders is worked out once per column tile, as load masks (columns past the row's end read as
 * zero, without touching memory), permute indices and permute lane masks (columns left of the
 * row read as zero), and once per input row as a row mask (rows outside the plane read as zero).
 * So the same straight-line code serves the interior and every edge, and padded taps still
 * multiply a zero (an infinite weight gives NaN there, as the oracle does).  Four output rows
 * share their input rows (DW_S*3 + DW_K input rows per 4 output rows, not 4*DW_K); two planes go
 * through each tile together, for twice the independent FMA chains (planes = 1 or 2: the
 * caller's choice).  Each output sums bias, then kh ascending, then kw ascending.
 */

#define DW_PAIRS (DW_S == 2 ? (DW_K + 1) / 2 : 1)
#define DW_PAIR_OF(kw) (DW_S == 2 ? (kw) / 2 : 0) /* the pair that serves kernel column kw */

/* Everything a column tile needs from one input row: where each load pair starts, its load
 * masks, and for each kw the permute index and lane mask. */
typedef struct DW_NAME(tile_) {
    size_t off_a[DW_PAIRS], off_b[DW_PAIRS];
    DW_MASK load_a[DW_PAIRS], load_b[DW_PAIRS];
    __m512i idx[DW_K];
    DW_MASK lane[DW_K];
    DW_MASK store;
} DW_NAME(tile_);

/* Lanes j < DW_VL whose column first + DW_S*j lies in [0, width). */
static DW_MASK DW_NAME(lane_mask_)(int64_t first, int64_t width)
{
    int64_t lo = first < 0 ? cconv_ceil_div(-first, DW_S) : 0;
    int64_t hi = width - first > 0 ? cconv_ceil_div(width - first, DW_S) : 0;
    if (hi > DW_VL) hi = DW_VL;
    if (lo > hi) lo = hi;
    const uint32_t upto_hi = hi >= 32 ? 0xFFFFFFFFu : (1u << hi) - 1u;
    const uint32_t below_lo = (1u << lo) - 1u;
    return (DW_MASK)(upto_hi & ~below_lo);
}

/* A load pair from column `first` (clamped into the row): offsets and masks of its two vectors,
 * and the column its first lane holds. */
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
    const int64_t c = DW_S * x0 - pad_left;
    for (int p = 0; p < DW_PAIRS; p++) {
        int64_t base;
        DW_NAME(pair_)(c + 2 * p, in_width, &t->off_a[p], &t->off_b[p], &t->load_a[p],
                       &t->load_b[p], &base);
        /* Index of column c+kw+DW_S*j in its pair: below 2*DW_VL for every column inside the
         * row (the pair starts at c+2p, or at 0 when that is left of the row; at stride 1,
         * kw < DW_K <= DW_VL + 1).  Lanes left of the row get a negative index, whose low bits
         * pick some loaded value, and are zeroed by the lane mask. */
        for (int kw = 0; kw < DW_K; kw++) {
            if (DW_PAIR_OF(kw) != p) continue;
            t->idx[kw] = DW_IOTA(c + kw - base);
            t->lane[kw] = DW_NAME(lane_mask_)(c + kw, in_width);
        }
    }
    const int64_t valid = out_width - x0 < DW_VL ? out_width - x0 : DW_VL;
    t->store = (DW_MASK)((1u << valid) - 1u);
}

/* R output rows from row y of one column tile, in P planes at once (the same geometry, their own
 * input, weights and output): each output's sum is one dependent chain of FMAs (see the file
 * comment for its order), and the rows of one plane start DW_S input rows apart, so one plane
 * keeps too few chains in flight to hide the FMA latency; two planes double them. */
#define DW_DEFINE_ROWS(R, P)                                                                       \
    static void DW_NAME(rows##R##x##P##_)(const DW_NAME(tile_) *CCONV_RESTRICT t,                 \
                                          const DW_T *const *input, int64_t in_height,            \
                                          int64_t in_width, int64_t first_row,                    \
                                          const DW_T *const *w, const DW_V *start,                \
                                          DW_T *const *out, size_t at, size_t out_width)          \
    {                                                                                             \
        DW_V acc[P][R];                                                                           \
        UK_UNROLL for (int q = 0; q < P; q++) {                                                   \
            UK_UNROLL for (int r = 0; r < R; r++) acc[q][r] = start[q];                           \
        }                                                                                         \
        UK_UNROLL for (int i = 0; i < DW_S * (R - 1) + DW_K; i++) {                               \
            const int64_t h = first_row + i;                                                      \
            const int inside = h >= 0 && h < in_height;                                           \
            const DW_MASK rm = (DW_MASK)(inside ? ~0u : 0u);                                      \
            DW_V x[P][DW_K];                                                                      \
            UK_UNROLL for (int q = 0; q < P; q++) {                                               \
                const DW_T *CCONV_RESTRICT row = input[q] + (inside ? h * in_width : 0);          \
                UK_UNROLL for (int p = 0; p < DW_PAIRS; p++) {                                    \
                    const DW_V a = DW_LOADZ(t->load_a[p] & rm, row + t->off_a[p]);                \
                    const DW_V b = DW_LOADZ(t->load_b[p] & rm, row + t->off_b[p]);                \
                    UK_UNROLL for (int kw = 0; kw < DW_K; kw++) {                                 \
                        if (DW_PAIR_OF(kw) == p)                                                  \
                            x[q][kw] = DW_PERM(t->lane[kw], a, t->idx[kw], b);                    \
                    }                                                                             \
                }                                                                                 \
            }                                                                                     \
            UK_UNROLL for (int r = 0; r < R; r++) {                                               \
                const int kh = i - DW_S * r;                                                      \
                if (kh >= 0 && kh < DW_K) {                                                       \
                    UK_UNROLL for (int kw = 0; kw < DW_K; kw++) {                                 \
                        UK_UNROLL for (int q = 0; q < P; q++)                                     \
                            acc[q][r] = DW_FMA(DW_SET1(w[q][kh * DW_K + kw]), x[q][kw],           \
                                               acc[q][r]);                                        \
                    }                                                                             \
                }                                                                                 \
            }                                                                                     \
        }                                                                                         \
        UK_UNROLL for (int q = 0; q < P; q++) {                                                   \
            UK_UNROLL for (int r = 0; r < R; r++)                                                 \
                DW_STOREM(out[q] + at + (size_t)r * out_width, t->store, acc[q][r]);             \
        }                                                                                         \
    }
DW_DEFINE_ROWS(1, 1)
DW_DEFINE_ROWS(2, 1)
DW_DEFINE_ROWS(3, 1)
DW_DEFINE_ROWS(4, 1)
DW_DEFINE_ROWS(1, 2)
DW_DEFINE_ROWS(2, 2)
DW_DEFINE_ROWS(3, 2)
DW_DEFINE_ROWS(4, 2)
#undef DW_DEFINE_ROWS

/* Every row range of every column tile of P planes. */
#define DW_DEFINE_PLANES(P)                                                                        \
    static void DW_NAME(planes##P##_)(const DW_T *const *input, int64_t H, int64_t W,             \
                                      int64_t pad_top, int64_t pad_left, const DW_T *const *w,    \
                                      const DW_V *start, DW_T *const *output, int64_t OW,         \
                                      int64_t row_begin, int64_t row_end)                         \
    {                                                                                             \
        /* Column tiles outside, rows inside: a tile's setup is done once per plane, and the      \
         * rows it reads (a plane of a typical depthwise layer is a few KB) stay in L1. */        \
        for (int64_t x0 = 0; x0 < OW; x0 += DW_VL) {                                              \
            DW_NAME(tile_) t;                                                                     \
            DW_NAME(tile_init_)(&t, x0, OW, W, pad_left);                                         \
            int64_t y = row_begin;                                                                \
            for (; y + 4 <= row_end; y += 4)                                                      \
                DW_NAME(rows4x##P##_)(&t, input, H, W, DW_S * y - pad_top, w, start, output,       \
                                      (size_t)(y * OW + x0), (size_t)OW);                         \
            switch (row_end - y) {                                                                \
            case 3:                                                                               \
                DW_NAME(rows3x##P##_)(&t, input, H, W, DW_S * y - pad_top, w, start, output,       \
                                      (size_t)(y * OW + x0), (size_t)OW);                         \
                break;                                                                            \
            case 2:                                                                               \
                DW_NAME(rows2x##P##_)(&t, input, H, W, DW_S * y - pad_top, w, start, output,       \
                                      (size_t)(y * OW + x0), (size_t)OW);                         \
                break;                                                                            \
            case 1:                                                                               \
                DW_NAME(rows1x##P##_)(&t, input, H, W, DW_S * y - pad_top, w, start, output,       \
                                      (size_t)(y * OW + x0), (size_t)OW);                         \
                break;                                                                            \
            default:                                                                              \
                break;                                                                            \
            }                                                                                     \
        }                                                                                         \
    }
DW_DEFINE_PLANES(1)
DW_DEFINE_PLANES(2)
#undef DW_DEFINE_PLANES

static void DW_KERNEL(size_t planes, const DW_T *const *input, size_t in_height, size_t in_width,
                      size_t pad_top, size_t pad_left, const DW_T *const *weights,
                      const DW_T *const *bias, DW_T *const *output, size_t out_width,
                      size_t row_begin, size_t row_end)
{
    DW_V start[2];
    for (size_t q = 0; q < planes && q < 2; q++) start[q] = DW_SET1(bias ? bias[q][0] : (DW_T)0);
    if (planes == 2)
        DW_NAME(planes2_)(input, (int64_t)in_height, (int64_t)in_width, (int64_t)pad_top,
                          (int64_t)pad_left, weights, start, output, (int64_t)out_width,
                          (int64_t)row_begin, (int64_t)row_end);
    else
        DW_NAME(planes1_)(input, (int64_t)in_height, (int64_t)in_width, (int64_t)pad_top,
                          (int64_t)pad_left, weights, start, output, (int64_t)out_width,
                          (int64_t)row_begin, (int64_t)row_end);
}

#undef DW_PAIRS
#undef DW_PAIR_OF
