/*
 * The AVX2 depthwise 3x3 stride-2 kernel (contract: cconv_*_dw3x3s2_ukernel in
 * conv2d_kernels.h), written once for float and double.  Included by conv2d_avx2.c only, after it
 * defines
 *   DW_T, DW_V, DW_VL   element type, vector type, lanes
 *   DW_COUNT_MASK(n)    an integer-vector load mask of the first n lanes (0 <= n <= DW_VL)
 *   DW_ROW_MASK(in)     all lanes when `in`, else none
 *   DW_LANE0_MASK(in)   lane 0 when `in`, else none
 *   DW_LOADU(p)         unmasked load
 *   DW_LOADM(p, m)      masked load (masked-off lanes read as 0 and are never touched)
 *   DW_STOREM(p, m, v)  masked store
 *   DW_EVEN(a, b), DW_ODD(a, b)  lanes 0, 2, 4, ... (1, 3, 5, ...) of the pair a:b
 *   DW_SHIFT1(v)        v moved up one lane (lane 0 then repeats v's lane 0)
 *   DW_BLEND0(v, x)     v with lane 0 taken from x
 *   DW_FMA, DW_SET1, DW_NAME(stem), DW_KERNEL
 * (contract: planes 1 or 2, done one after the other)
 *
 * The scheme is the AVX-512 kernel's (kernels/avx512/dw3x3s2_template.h): the input plane is
 * read in place; for each input row, two loads from column c give kw = 0 and 1 (even and odd
 * lanes), two from column c+1 give kw = 2; columns past the row's end and rows outside the plane
 * come from the load masks as zeros.  Without two-source permutes, a tile that starts left of
 * the row (c < 0: the first tile when pad_left > 0) is computed from column c+2 instead, moved up
 * one lane, and lane 0 (column c+kw) is loaded alone, masked to zero when left of the row.  Four
 * output rows share their input rows.  Each output sums bias, then kh ascending, then kw
 * ascending.
 */

typedef struct DW_NAME(tile_) {
    size_t off0a, off0b, off1a, off1b;
    __m256i load0a, load0b, load1a, load1b;
    /* left tiles: lane 0 of kw comes from column lane0_col[kw], loaded when lane0_in[kw] */
    size_t lane0_col[3];
    int lane0_in[3];
    __m256i store;
} DW_NAME(tile_);

static void DW_NAME(pair_)(int64_t first, int64_t width, size_t *off_a, size_t *off_b,
                           __m256i *mask_a, __m256i *mask_b)
{
    int64_t b = first < 0 ? 0 : first;
    if (b > width) b = width; /* a pair wholly right of the row: masked off entirely */
    const int64_t n = width - b, na = n < DW_VL ? n : DW_VL, nb = n - na < DW_VL ? n - na : DW_VL;
    *off_a = (size_t)b;
    *off_b = (size_t)(b + na); /* at most one past the row's end, and then masked off */
    *mask_a = DW_COUNT_MASK(na);
    *mask_b = DW_COUNT_MASK(nb);
}

/* Returns 1 for a left tile (c < 0), whose vectors are computed from column c + 2. */
static int DW_NAME(tile_init_)(DW_NAME(tile_) *t, int64_t x0, int64_t out_width, int64_t in_width,
                               int64_t pad_left)
{
    const int64_t c = 2 * x0 - pad_left;
    const int left = c < 0;
    const int64_t base = left ? c + 2 : c; /* c >= -2: padding is at most 2 */
    DW_NAME(pair_)(base, in_width, &t->off0a, &t->off0b, &t->load0a, &t->load0b);
    DW_NAME(pair_)(base + 1, in_width, &t->off1a, &t->off1b, &t->load1a, &t->load1b);
    for (int kw = 0; kw < 3; kw++) {
        const int64_t col = c + kw;
        t->lane0_in[kw] = col >= 0 && col < in_width;
        t->lane0_col[kw] = t->lane0_in[kw] ? (size_t)col : 0;
    }
    const int64_t valid = out_width - x0 < DW_VL ? out_width - x0 : DW_VL;
    t->store = DW_COUNT_MASK(valid);
    return left;
}

/* R output rows from row y of one column tile; LEFT: the tile starts left of the row; FULL: an
 * interior block (every load inside the plane), which loads without masks. */
#define DW_DEFINE_ROWS(R, LEFT, FULL, SUFFIX)                                                            \
    static void DW_NAME(rows##R##SUFFIX)(const DW_NAME(tile_) *CCONV_RESTRICT t,                  \
                                         const DW_T *CCONV_RESTRICT input, int64_t in_height,     \
                                         int64_t in_width, int64_t first_row,                     \
                                         const DW_T *CCONV_RESTRICT weights, DW_V start,          \
                                         DW_T *CCONV_RESTRICT out, size_t out_width)              \
    {                                                                                             \
        DW_V acc[R];                                                                              \
        UK_UNROLL for (int r = 0; r < R; r++) acc[r] = start;                                     \
        UK_UNROLL for (int i = 0; i < 2 * R + 1; i++) {                                           \
            const int64_t h = first_row + i;                                                      \
            const int inside = h >= 0 && h < in_height;                                           \
            const DW_T *CCONV_RESTRICT row = input + (inside ? h * in_width : 0);                 \
            DW_V a0, b0, a1, b1;                                                                  \
            if (FULL) {                                                                           \
                a0 = DW_LOADU(row + t->off0a);                                                    \
                b0 = DW_LOADU(row + t->off0b);                                                    \
                a1 = DW_LOADU(row + t->off1a);                                                    \
                b1 = DW_LOADU(row + t->off1b);                                                    \
            } else {                                                                              \
                const __m256i rm = DW_ROW_MASK(inside);                                           \
                a0 = DW_LOADM(row + t->off0a, _mm256_and_si256(t->load0a, rm));                   \
                b0 = DW_LOADM(row + t->off0b, _mm256_and_si256(t->load0b, rm));                   \
                a1 = DW_LOADM(row + t->off1a, _mm256_and_si256(t->load1a, rm));                   \
                b1 = DW_LOADM(row + t->off1b, _mm256_and_si256(t->load1b, rm));                   \
            }                                                                                     \
            DW_V x[3];                                                                            \
            x[0] = DW_EVEN(a0, b0);                                                               \
            x[1] = DW_ODD(a0, b0);                                                                \
            x[2] = DW_ODD(a1, b1);                                                                \
            if (LEFT) {                                                                           \
                UK_UNROLL for (int kw = 0; kw < 3; kw++) {                                        \
                    const DW_V lane0 = DW_LOADM(                                                  \
                        row + t->lane0_col[kw], DW_LANE0_MASK(inside && t->lane0_in[kw]));          \
                    x[kw] = DW_BLEND0(DW_SHIFT1(x[kw]), lane0);                                   \
                }                                                                                 \
            }                                                                                     \
            UK_UNROLL for (int r = 0; r < R; r++) {                                               \
                const int kh = i - 2 * r;                                                         \
                if (kh >= 0 && kh < 3) {                                                          \
                    UK_UNROLL for (int kw = 0; kw < 3; kw++)                                      \
                        acc[r] = DW_FMA(DW_SET1(weights[kh * 3 + kw]), x[kw], acc[r]);            \
                }                                                                                 \
            }                                                                                     \
        }                                                                                         \
        UK_UNROLL for (int r = 0; r < R; r++)                                                     \
            DW_STOREM(out + (size_t)r * out_width, t->store, acc[r]);                             \
    }
DW_DEFINE_ROWS(1, 0, 0, _)
DW_DEFINE_ROWS(2, 0, 0, _)
DW_DEFINE_ROWS(3, 0, 0, _)
DW_DEFINE_ROWS(4, 0, 0, _)
DW_DEFINE_ROWS(4, 0, 1, _full_)
DW_DEFINE_ROWS(1, 1, 0, _left_)
DW_DEFINE_ROWS(2, 1, 0, _left_)
DW_DEFINE_ROWS(3, 1, 0, _left_)
DW_DEFINE_ROWS(4, 1, 0, _left_)
#undef DW_DEFINE_ROWS

#define DW_RUN_ROWS(SUFFIX)                                                                        \
    do {                                                                                          \
        for (; y + 4 <= end; y += 4) {                                                            \
            if (full && 2 * y - pt >= 0 && 2 * y - pt + 8 < H)                                    \
                DW_NAME(rows4_full_)(&t, input, H, W, 2 * y - pt, weights, start,                 \
                                     output + y * OW + x0, out_width);                            \
            else                                                                                  \
                DW_NAME(rows4##SUFFIX)(&t, input, H, W, 2 * y - pt, weights, start,               \
                                       output + y * OW + x0, out_width);                          \
        }                                                                                         \
        if (end - y == 3)                                                                         \
            DW_NAME(rows3##SUFFIX)(&t, input, H, W, 2 * y - pt, weights, start,                   \
                                   output + y * OW + x0, out_width);                              \
        else if (end - y == 2)                                                                    \
            DW_NAME(rows2##SUFFIX)(&t, input, H, W, 2 * y - pt, weights, start,                   \
                                   output + y * OW + x0, out_width);                              \
        else if (end - y == 1)                                                                    \
            DW_NAME(rows1##SUFFIX)(&t, input, H, W, 2 * y - pt, weights, start,                   \
                                   output + y * OW + x0, out_width);                              \
    } while (0)

static void DW_NAME(plane_)(const DW_T *input, size_t in_height, size_t in_width, size_t pad_top,
                            size_t pad_left, const DW_T *weights, const DW_T *bias, DW_T *output,
                            size_t out_width, size_t row_begin, size_t row_end)
{
    const int64_t H = (int64_t)in_height, W = (int64_t)in_width, OW = (int64_t)out_width;
    const int64_t pt = (int64_t)pad_top, end = (int64_t)row_end;
    const DW_V start = DW_SET1(bias ? bias[0] : (DW_T)0);
    for (int64_t x0 = 0; x0 < OW; x0 += DW_VL) {
        DW_NAME(tile_) t;
        const int left = DW_NAME(tile_init_)(&t, x0, OW, W, (int64_t)pad_left);
        /* every column the tile loads (c .. c + 2*DW_VL) inside the row */
        const int full = !left && 2 * x0 - (int64_t)pad_left + 2 * DW_VL < W;
        int64_t y = (int64_t)row_begin;
        if (left)
            DW_RUN_ROWS(_left_);
        else
            DW_RUN_ROWS(_);
    }
}
#undef DW_RUN_ROWS

/* The kernel-set entry: one plane after the other (16 vector registers leave no room for a
 * second plane's sums and inputs). */
static void DW_KERNEL(size_t planes, const DW_T *const *input, size_t in_height, size_t in_width,
                      size_t pad_top, size_t pad_left, const DW_T *const *weights,
                      const DW_T *const *bias, DW_T *const *output, size_t out_width,
                      size_t row_begin, size_t row_end)
{
    for (size_t q = 0; q < planes; q++)
        DW_NAME(plane_)(input[q], in_height, in_width, pad_top, pad_left, weights[q],
                        bias ? bias[q] : NULL, output[q], out_width, row_begin, row_end);
}
