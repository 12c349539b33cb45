/*
 * The AVX-512 kernel set (AVX-512F; compiled with this folder's flags only, run only after
 * cconv_cpu_has_avx512()).  Main tile: 8 output channels x 3 zmm vectors (48 f32 / 24 f64
 * positions): 24 accumulators + 3 input vectors, weights broadcast from memory inside the FMA.
 * Single-row tiles go up to 8 vectors.  The tile list below is also the table.
 */
#include <immintrin.h>

#include "cpu_features.h"
#include "kernel_list.h"
#include "simd_ukernel_template.h"

/* ---- float: 16 lanes ---- */
#define UK_T float
#define UK_V __m512
#define UK_VL 16
#define UK_LOADU(p) _mm512_loadu_ps(p)
#define UK_STOREU(p, v) _mm512_storeu_ps(p, v)
#define UK_SET1(x) _mm512_set1_ps(x)
#define UK_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define F32_TILES(X) \
    X(cconv_f32_conv2d_1x16__avx512, 1, 1) \
    X(cconv_f32_conv2d_1x32__avx512, 1, 2) \
    X(cconv_f32_conv2d_1x48__avx512, 1, 3) \
    X(cconv_f32_conv2d_1x64__avx512, 1, 4) \
    X(cconv_f32_conv2d_1x80__avx512, 1, 5) \
    X(cconv_f32_conv2d_1x96__avx512, 1, 6) \
    X(cconv_f32_conv2d_1x112__avx512, 1, 7) \
    X(cconv_f32_conv2d_1x128__avx512, 1, 8) \
    X(cconv_f32_conv2d_2x16__avx512, 2, 1) \
    X(cconv_f32_conv2d_2x32__avx512, 2, 2) \
    X(cconv_f32_conv2d_2x48__avx512, 2, 3) \
    X(cconv_f32_conv2d_3x16__avx512, 3, 1) \
    X(cconv_f32_conv2d_3x32__avx512, 3, 2) \
    X(cconv_f32_conv2d_3x48__avx512, 3, 3) \
    X(cconv_f32_conv2d_4x16__avx512, 4, 1) \
    X(cconv_f32_conv2d_4x32__avx512, 4, 2) \
    X(cconv_f32_conv2d_4x48__avx512, 4, 3) \
    X(cconv_f32_conv2d_5x16__avx512, 5, 1) \
    X(cconv_f32_conv2d_5x32__avx512, 5, 2) \
    X(cconv_f32_conv2d_5x48__avx512, 5, 3) \
    X(cconv_f32_conv2d_6x16__avx512, 6, 1) \
    X(cconv_f32_conv2d_6x32__avx512, 6, 2) \
    X(cconv_f32_conv2d_6x48__avx512, 6, 3) \
    X(cconv_f32_conv2d_7x16__avx512, 7, 1) \
    X(cconv_f32_conv2d_7x32__avx512, 7, 2) \
    X(cconv_f32_conv2d_7x48__avx512, 7, 3) \
    X(cconv_f32_conv2d_8x16__avx512, 8, 1) \
    X(cconv_f32_conv2d_8x32__avx512, 8, 2) \
    X(cconv_f32_conv2d_8x48__avx512, 8, 3)
F32_TILES(UK_DEFINE)
#define F32_ROWS3(X) \
    X(cconv_f32_rows3_1x16__avx512, 1, 1) \
    X(cconv_f32_rows3_1x32__avx512, 1, 2) \
    X(cconv_f32_rows3_1x48__avx512, 1, 3) \
    X(cconv_f32_rows3_1x64__avx512, 1, 4) \
    X(cconv_f32_rows3_2x16__avx512, 2, 1) \
    X(cconv_f32_rows3_2x32__avx512, 2, 2) \
    X(cconv_f32_rows3_2x48__avx512, 2, 3) \
    X(cconv_f32_rows3_2x64__avx512, 2, 4) \
    X(cconv_f32_rows3_3x16__avx512, 3, 1) \
    X(cconv_f32_rows3_3x32__avx512, 3, 2) \
    X(cconv_f32_rows3_3x48__avx512, 3, 3) \
    X(cconv_f32_rows3_3x64__avx512, 3, 4) \
    X(cconv_f32_rows3_4x16__avx512, 4, 1) \
    X(cconv_f32_rows3_4x32__avx512, 4, 2) \
    X(cconv_f32_rows3_4x48__avx512, 4, 3) \
    X(cconv_f32_rows3_4x64__avx512, 4, 4)
F32_ROWS3(UK_DEFINE_ROWS3)
#undef UK_T
#undef UK_V
#undef UK_VL
#undef UK_LOADU
#undef UK_STOREU
#undef UK_SET1
#undef UK_FMA

/* ---- double: 8 lanes ---- */
#define UK_T double
#define UK_V __m512d
#define UK_VL 8
#define UK_LOADU(p) _mm512_loadu_pd(p)
#define UK_STOREU(p, v) _mm512_storeu_pd(p, v)
#define UK_SET1(x) _mm512_set1_pd(x)
#define UK_FMA(a, b, c) _mm512_fmadd_pd(a, b, c)
#define F64_TILES(X) \
    X(cconv_f64_conv2d_1x8__avx512, 1, 1) \
    X(cconv_f64_conv2d_1x16__avx512, 1, 2) \
    X(cconv_f64_conv2d_1x24__avx512, 1, 3) \
    X(cconv_f64_conv2d_1x32__avx512, 1, 4) \
    X(cconv_f64_conv2d_1x40__avx512, 1, 5) \
    X(cconv_f64_conv2d_1x48__avx512, 1, 6) \
    X(cconv_f64_conv2d_1x56__avx512, 1, 7) \
    X(cconv_f64_conv2d_1x64__avx512, 1, 8) \
    X(cconv_f64_conv2d_2x8__avx512, 2, 1) \
    X(cconv_f64_conv2d_2x16__avx512, 2, 2) \
    X(cconv_f64_conv2d_2x24__avx512, 2, 3) \
    X(cconv_f64_conv2d_3x8__avx512, 3, 1) \
    X(cconv_f64_conv2d_3x16__avx512, 3, 2) \
    X(cconv_f64_conv2d_3x24__avx512, 3, 3) \
    X(cconv_f64_conv2d_4x8__avx512, 4, 1) \
    X(cconv_f64_conv2d_4x16__avx512, 4, 2) \
    X(cconv_f64_conv2d_4x24__avx512, 4, 3) \
    X(cconv_f64_conv2d_5x8__avx512, 5, 1) \
    X(cconv_f64_conv2d_5x16__avx512, 5, 2) \
    X(cconv_f64_conv2d_5x24__avx512, 5, 3) \
    X(cconv_f64_conv2d_6x8__avx512, 6, 1) \
    X(cconv_f64_conv2d_6x16__avx512, 6, 2) \
    X(cconv_f64_conv2d_6x24__avx512, 6, 3) \
    X(cconv_f64_conv2d_7x8__avx512, 7, 1) \
    X(cconv_f64_conv2d_7x16__avx512, 7, 2) \
    X(cconv_f64_conv2d_7x24__avx512, 7, 3) \
    X(cconv_f64_conv2d_8x8__avx512, 8, 1) \
    X(cconv_f64_conv2d_8x16__avx512, 8, 2) \
    X(cconv_f64_conv2d_8x24__avx512, 8, 3)
F64_TILES(UK_DEFINE)
#define F64_ROWS3(X) \
    X(cconv_f64_rows3_1x8__avx512, 1, 1) \
    X(cconv_f64_rows3_1x16__avx512, 1, 2) \
    X(cconv_f64_rows3_1x24__avx512, 1, 3) \
    X(cconv_f64_rows3_1x32__avx512, 1, 4) \
    X(cconv_f64_rows3_2x8__avx512, 2, 1) \
    X(cconv_f64_rows3_2x16__avx512, 2, 2) \
    X(cconv_f64_rows3_2x24__avx512, 2, 3) \
    X(cconv_f64_rows3_2x32__avx512, 2, 4) \
    X(cconv_f64_rows3_3x8__avx512, 3, 1) \
    X(cconv_f64_rows3_3x16__avx512, 3, 2) \
    X(cconv_f64_rows3_3x24__avx512, 3, 3) \
    X(cconv_f64_rows3_3x32__avx512, 3, 4) \
    X(cconv_f64_rows3_4x8__avx512, 4, 1) \
    X(cconv_f64_rows3_4x16__avx512, 4, 2) \
    X(cconv_f64_rows3_4x24__avx512, 4, 3) \
    X(cconv_f64_rows3_4x32__avx512, 4, 4)
F64_ROWS3(UK_DEFINE_ROWS3)
#undef UK_T
#undef UK_V
#undef UK_VL
#undef UK_LOADU
#undef UK_STOREU
#undef UK_SET1
#undef UK_FMA

const cconv_kernel_set cconv_kernels_avx512 = {
    "avx512",
    cconv_cpu_has_avx512,
    8, 16, 3, 8,
    {F32_TILES(UK_ENTRY)},
    8, 8, 3, 8,
    {F64_TILES(UK_ENTRY)},
    4,
    {F32_ROWS3(UK_ENTRY)},
    4,
    {F64_ROWS3(UK_ENTRY)},
};
