/*
 * Winograd's minimal-filtering transforms F(m x m, 3 x 3), m = 2 and 4, each on WG_LANES
 * independent lanes at once (input channels for the input transform, output channels for the
 * other two): plain loops over the lanes, which the compiler vectorises.  Every lane runs the
 * same operations in the same order, so a value never depends on the lane or the block it was
 * computed in.  Instantiated once per element type by each instruction set's kernel file, with
 * that set's flags (so the lane loops become its vectors; the portable build would give SSE2 at
 * best); the driver, conv/winograd_driver_template.h, takes them from the kernel set.
 * Needs: WG_T (element type), WG_LANES (CCONV_WINOGRAD_LANES_F32 or _F64), WG_FN(name).
 *
 * The matrices are Lavin and Gray's ("Fast Algorithms for Convolutional Neural Networks", 2016):
 * interpolation points 0, 1, -1 (and infinity) for F(2,3), 0, 1, -1, 2, -2 (and infinity) for
 * F(4,3).  With d an a x a input tile (a = m + 2), g a 3 x 3 kernel:
 *   V = B^T d B,  U = G g G^T,  Y = A^T (sum over channels of U * V) A   (m x m outputs)
 * Each 2-D transform is the 1-D one along the columns, then along the rows.  The 1-D formulas
 * below are those matrices with their common subexpressions shared.
 *
 * Memory layouts (strides in elements; lane l is always at offset +l, so lanes are contiguous):
 *   input tile element (r, k):   src[r * row_stride + k * col_stride]
 *   transformed point (i, j):    dst[(i * a + j) * point_stride]   (V, U and M alike)
 *   kernel tap (kh, kw) of lane l:  g[l * lane_stride + kh * 3 + kw]   (the weight's layout)
 *   output (r, s):               y[(r * m + s) * WG_LANES]            (a small local block)
 * The input and weight transforms add (v - v) of every value they write into chk[l]: it stays 0
 * while every value is finite, and becomes NaN otherwise (the caller then falls back to the
 * direct path, whose results Winograd's mixing of a tile's pixels would not reproduce).
 */

/* Stores the n rows of a transform's output, o[k][0 .. WG_LANES), at d + k * point_stride:
 * one copy loop per row, which the compiler vectorises (writing through d in the transform's own
 * loop would not be: for all it knows, the rows overlap). */
static void WG_FN(store_)(const WG_T *o, int n, WG_T *d, ptrdiff_t point_stride)
{
    for (int k = 0; k < n; k++) {
        WG_T *CCONV_RESTRICT dk = d + k * point_stride;
        const WG_T *CCONV_RESTRICT ok = o + k * WG_LANES;
        for (int l = 0; l < WG_LANES; l++) dk[l] = ok[l];
    }
}

/* ---- F(2x2, 3x3): 4 x 4 input tiles, 16 points ------------------------------------------ */

/* B^T for F(2,3), rows: x0 - x2, x1 + x2, x2 - x1, x1 - x3. */
#define WG_BT2(x0, x1, x2, x3, y0, y1, y2, y3)                                                    \
    do {                                                                                          \
        y0 = (x0) - (x2);                                                                         \
        y1 = (x1) + (x2);                                                                         \
        y2 = (x2) - (x1);                                                                         \
        y3 = (x1) - (x3);                                                                         \
    } while (0)

static void WG_FN(input2)(const WG_T *src, ptrdiff_t row_stride, ptrdiff_t col_stride,
                           WG_T *dst, ptrdiff_t point_stride, WG_T *chk)
{
    WG_T bad[WG_LANES] = {0}; /* (local: chk could alias dst, keeping the loop scalar) */
    WG_T t[4][4][WG_LANES];
    for (int k = 0; k < 4; k++) {
        const WG_T *x = src + k * col_stride;
        for (int l = 0; l < WG_LANES; l++) {
            WG_BT2(x[l], x[row_stride + l], x[2 * row_stride + l], x[3 * row_stride + l],
                   t[0][k][l], t[1][k][l], t[2][k][l], t[3][k][l]);
        }
    }
    for (int i = 0; i < 4; i++) {
        WG_T *d = dst + (i * 4) * point_stride;
        WG_T o[4][WG_LANES];
        for (int l = 0; l < WG_LANES; l++) {
            WG_T y0, y1, y2, y3;
            WG_BT2(t[i][0][l], t[i][1][l], t[i][2][l], t[i][3][l], y0, y1, y2, y3);
            o[0][l] = y0;
            o[1][l] = y1;
            o[2][l] = y2;
            o[3][l] = y3;
            bad[l] += ((y0 - y0) + (y1 - y1)) + ((y2 - y2) + (y3 - y3));
        }
        WG_FN(store_)(o[0], 4, d, point_stride);
    }
    for (int l = 0; l < WG_LANES; l++) chk[l] += bad[l];
}

/* G for F(2,3): g0, (g0 + g1 + g2) / 2, (g0 - g1 + g2) / 2, g2. */
#define WG_G2(g0, g1, g2, u0, u1, u2, u3)                                                         \
    do {                                                                                          \
        const WG_T s_ = ((g0) + (g2)) * (WG_T)0.5, h_ = (g1) * (WG_T)0.5;                         \
        u0 = (g0);                                                                                \
        u1 = s_ + h_;                                                                             \
        u2 = s_ - h_;                                                                             \
        u3 = (g2);                                                                                \
    } while (0)

/* Lanes >= count (a last, partial block of output channels) get zero kernels. */
static void WG_FN(weight2)(const WG_T *g, ptrdiff_t lane_stride, int count, WG_T *dst,
                            ptrdiff_t point_stride, WG_T *chk)
{
    WG_T bad[WG_LANES] = {0}; /* (local: chk could alias dst, keeping the loop scalar) */
    WG_T w[9][WG_LANES];
    WG_T t[4][3][WG_LANES];
    for (int l = 0; l < WG_LANES; l++) {
        for (int k = 0; k < 9; k++) w[k][l] = l < count ? g[l * lane_stride + k] : (WG_T)0;
    }
    for (int kw = 0; kw < 3; kw++) {
        for (int l = 0; l < WG_LANES; l++) {
            WG_G2(w[kw][l], w[3 + kw][l], w[6 + kw][l], t[0][kw][l], t[1][kw][l], t[2][kw][l],
                  t[3][kw][l]);
        }
    }
    for (int i = 0; i < 4; i++) {
        WG_T *d = dst + (i * 4) * point_stride;
        WG_T o[4][WG_LANES];
        for (int l = 0; l < WG_LANES; l++) {
            WG_T u0, u1, u2, u3;
            WG_G2(t[i][0][l], t[i][1][l], t[i][2][l], u0, u1, u2, u3);
            o[0][l] = u0;
            o[1][l] = u1;
            o[2][l] = u2;
            o[3][l] = u3;
            bad[l] += ((u0 - u0) + (u1 - u1)) + ((u2 - u2) + (u3 - u3));
        }
        WG_FN(store_)(o[0], 4, d, point_stride);
    }
    for (int l = 0; l < WG_LANES; l++) chk[l] += bad[l];
}

/* A^T for F(2,3): m0 + m1 + m2, m1 - m2 - m3. */
static void WG_FN(output2)(const WG_T *CCONV_RESTRICT src, ptrdiff_t point_stride,
                            const WG_T *CCONV_RESTRICT bias, WG_T *CCONV_RESTRICT y)
{
    WG_T t[2][4][WG_LANES];
    for (int j = 0; j < 4; j++) {
        const WG_T *s = src + j * point_stride;
        for (int l = 0; l < WG_LANES; l++) {
            const WG_T m0 = s[l], m1 = s[4 * point_stride + l], m2 = s[8 * point_stride + l];
            const WG_T m3 = s[12 * point_stride + l];
            t[0][j][l] = (m0 + m1) + m2;
            t[1][j][l] = (m1 - m2) - m3;
        }
    }
    for (int r = 0; r < 2; r++) {
        for (int l = 0; l < WG_LANES; l++) {
            const WG_T b = bias ? bias[l] : (WG_T)0;
            const WG_T m0 = t[r][0][l], m1 = t[r][1][l], m2 = t[r][2][l], m3 = t[r][3][l];
            y[(r * 2) * WG_LANES + l] = ((m0 + m1) + m2) + b;
            y[(r * 2 + 1) * WG_LANES + l] = ((m1 - m2) - m3) + b;
        }
    }
}

/* ---- F(4x4, 3x3): 6 x 6 input tiles, 36 points ------------------------------------------ */

/* B^T for F(4,3), rows:
 *   4 x0 - 5 x2 + x4,  (x3 + x4) - 4 (x1 + x2),  (x4 - x3) + 4 (x1 - x2),
 *   (x4 - x2) - 2 (x1 - x3),  (x4 - x2) + 2 (x1 - x3),  4 x1 - 5 x3 + x5. */
#define WG_BT4(x0, x1, x2, x3, x4, x5, y0, y1, y2, y3, y4, y5)                                    \
    do {                                                                                          \
        const WG_T p_ = (x3) + (x4), q_ = (x1) + (x2), r_ = (x4) - (x3), s_ = (x1) - (x2);        \
        const WG_T u_ = (x4) - (x2), v_ = ((x1) - (x3)) * (WG_T)2;                                \
        y0 = ((x0) * (WG_T)4 - (x2) * (WG_T)5) + (x4);                                            \
        y1 = p_ - q_ * (WG_T)4;                                                                   \
        y2 = r_ + s_ * (WG_T)4;                                                                   \
        y3 = u_ - v_;                                                                             \
        y4 = u_ + v_;                                                                             \
        y5 = ((x1) * (WG_T)4 - (x3) * (WG_T)5) + (x5);                                            \
    } while (0)

static void WG_FN(input4)(const WG_T *src, ptrdiff_t row_stride, ptrdiff_t col_stride,
                           WG_T *dst, ptrdiff_t point_stride, WG_T *chk)
{
    WG_T bad[WG_LANES] = {0}; /* (local: chk could alias dst, keeping the loop scalar) */
    WG_T t[6][6][WG_LANES];
    for (int k = 0; k < 6; k++) {
        const WG_T *x = src + k * col_stride;
        for (int l = 0; l < WG_LANES; l++) {
            WG_BT4(x[l], x[row_stride + l], x[2 * row_stride + l], x[3 * row_stride + l],
                   x[4 * row_stride + l], x[5 * row_stride + l], t[0][k][l], t[1][k][l],
                   t[2][k][l], t[3][k][l], t[4][k][l], t[5][k][l]);
        }
    }
    for (int i = 0; i < 6; i++) {
        WG_T *d = dst + (i * 6) * point_stride;
        WG_T o[6][WG_LANES];
        for (int l = 0; l < WG_LANES; l++) {
            WG_T y0, y1, y2, y3, y4, y5;
            WG_BT4(t[i][0][l], t[i][1][l], t[i][2][l], t[i][3][l], t[i][4][l], t[i][5][l], y0,
                   y1, y2, y3, y4, y5);
            o[0][l] = y0;
            o[1][l] = y1;
            o[2][l] = y2;
            o[3][l] = y3;
            o[4][l] = y4;
            o[5][l] = y5;
            bad[l] += (((y0 - y0) + (y1 - y1)) + ((y2 - y2) + (y3 - y3))) +
                      ((y4 - y4) + (y5 - y5));
        }
        WG_FN(store_)(o[0], 6, d, point_stride);
    }
    for (int l = 0; l < WG_LANES; l++) chk[l] += bad[l];
}

/* G for F(4,3), rows:
 *   g0 / 4,  -(g0 + g1 + g2) / 6,  -(g0 - g1 + g2) / 6,
 *   g0 / 24 + g1 / 12 + g2 / 6,  g0 / 24 - g1 / 12 + g2 / 6,  g2. */
#define WG_G4(g0, g1, g2, u0, u1, u2, u3, u4, u5)                                                 \
    do {                                                                                          \
        const WG_T s_ = (g0) + (g2), e_ = (g0) * (WG_T)(1.0 / 24) + (g2) * (WG_T)(1.0 / 6);       \
        const WG_T h_ = (g1) * (WG_T)(1.0 / 12);                                                  \
        u0 = (g0) * (WG_T)0.25;                                                                   \
        u1 = (s_ + (g1)) * (WG_T)(-1.0 / 6);                                                      \
        u2 = (s_ - (g1)) * (WG_T)(-1.0 / 6);                                                      \
        u3 = e_ + h_;                                                                             \
        u4 = e_ - h_;                                                                             \
        u5 = (g2);                                                                                \
    } while (0)

static void WG_FN(weight4)(const WG_T *g, ptrdiff_t lane_stride, int count, WG_T *dst,
                            ptrdiff_t point_stride, WG_T *chk)
{
    WG_T bad[WG_LANES] = {0}; /* (local: chk could alias dst, keeping the loop scalar) */
    WG_T w[9][WG_LANES];
    WG_T t[6][3][WG_LANES];
    for (int l = 0; l < WG_LANES; l++) {
        for (int k = 0; k < 9; k++) w[k][l] = l < count ? g[l * lane_stride + k] : (WG_T)0;
    }
    for (int kw = 0; kw < 3; kw++) {
        for (int l = 0; l < WG_LANES; l++) {
            WG_G4(w[kw][l], w[3 + kw][l], w[6 + kw][l], t[0][kw][l], t[1][kw][l], t[2][kw][l],
                  t[3][kw][l], t[4][kw][l], t[5][kw][l]);
        }
    }
    for (int i = 0; i < 6; i++) {
        WG_T *d = dst + (i * 6) * point_stride;
        WG_T o[6][WG_LANES];
        for (int l = 0; l < WG_LANES; l++) {
            WG_T u0, u1, u2, u3, u4, u5;
            WG_G4(t[i][0][l], t[i][1][l], t[i][2][l], u0, u1, u2, u3, u4, u5);
            o[0][l] = u0;
            o[1][l] = u1;
            o[2][l] = u2;
            o[3][l] = u3;
            o[4][l] = u4;
            o[5][l] = u5;
            bad[l] += (((u0 - u0) + (u1 - u1)) + ((u2 - u2) + (u3 - u3))) +
                      ((u4 - u4) + (u5 - u5));
        }
        WG_FN(store_)(o[0], 6, d, point_stride);
    }
    for (int l = 0; l < WG_LANES; l++) chk[l] += bad[l];
}

/* A^T for F(4,3), rows:
 *   m0 + (m1 + m2) + (m3 + m4),  (m1 - m2) + 2 (m3 - m4),  (m1 + m2) + 4 (m3 + m4),
 *   (m1 - m2) + 8 (m3 - m4) + m5. */
#define WG_AT4(m0, m1, m2, m3, m4, m5, y0, y1, y2, y3)                                            \
    do {                                                                                          \
        const WG_T a_ = (m1) + (m2), b_ = (m1) - (m2), c_ = (m3) + (m4), d_ = (m3) - (m4);        \
        y0 = ((m0) + a_) + c_;                                                                    \
        y1 = b_ + d_ * (WG_T)2;                                                                   \
        y2 = a_ + c_ * (WG_T)4;                                                                   \
        y3 = (b_ + d_ * (WG_T)8) + (m5);                                                          \
    } while (0)

static void WG_FN(output4)(const WG_T *CCONV_RESTRICT src, ptrdiff_t point_stride,
                            const WG_T *CCONV_RESTRICT bias, WG_T *CCONV_RESTRICT y)
{
    WG_T t[4][6][WG_LANES];
    for (int j = 0; j < 6; j++) {
        const WG_T *s = src + j * point_stride;
        for (int l = 0; l < WG_LANES; l++) {
            WG_AT4(s[l], s[6 * point_stride + l], s[12 * point_stride + l],
                   s[18 * point_stride + l], s[24 * point_stride + l], s[30 * point_stride + l],
                   t[0][j][l], t[1][j][l], t[2][j][l], t[3][j][l]);
        }
    }
    for (int r = 0; r < 4; r++) {
        WG_T *out = y + (r * 4) * WG_LANES;
        for (int l = 0; l < WG_LANES; l++) {
            const WG_T b = bias ? bias[l] : (WG_T)0;
            WG_T y0, y1, y2, y3;
            WG_AT4(t[r][0][l], t[r][1][l], t[r][2][l], t[r][3][l], t[r][4][l], t[r][5][l], y0,
                   y1, y2, y3);
            out[l] = y0 + b;
            out[WG_LANES + l] = y1 + b;
            out[2 * WG_LANES + l] = y2 + b;
            out[3 * WG_LANES + l] = y3 + b;
        }
    }
}
