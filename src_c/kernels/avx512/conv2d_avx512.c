/*
 * The AVX-512 kernel set (AVX-512F; compiled with this folder's flags only, run only after
 * cconv_cpu_has_avx512()).  Main tile: 4 output channels x 4 zmm vectors (64 f32 / 32 f64
 * positions): 16 accumulators + 4 input vectors + 1 weight broadcast.  Measured on Zen 4 with 64
 * channels x 9 taps from L2: 4x64 runs at the FMA peak (116.8 of 115.7 GFLOP/s measured with a
 * pure FMA loop), 8x48 at 92% (eight weight streams), 6x64 at 99%.  Single-row tiles go up to 8
 * vectors; rows3 kernels up to 4 rows x 4 vectors.  The tile lists below are also the table.
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
    X(cconv_f32_conv2d_2x64__avx512, 2, 4) \
    X(cconv_f32_conv2d_3x16__avx512, 3, 1) \
    X(cconv_f32_conv2d_3x32__avx512, 3, 2) \
    X(cconv_f32_conv2d_3x48__avx512, 3, 3) \
    X(cconv_f32_conv2d_3x64__avx512, 3, 4) \
    X(cconv_f32_conv2d_4x16__avx512, 4, 1) \
    X(cconv_f32_conv2d_4x32__avx512, 4, 2) \
    X(cconv_f32_conv2d_4x48__avx512, 4, 3) \
    X(cconv_f32_conv2d_4x64__avx512, 4, 4)
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
    X(cconv_f64_conv2d_2x32__avx512, 2, 4) \
    X(cconv_f64_conv2d_3x8__avx512, 3, 1) \
    X(cconv_f64_conv2d_3x16__avx512, 3, 2) \
    X(cconv_f64_conv2d_3x24__avx512, 3, 3) \
    X(cconv_f64_conv2d_3x32__avx512, 3, 4) \
    X(cconv_f64_conv2d_4x8__avx512, 4, 1) \
    X(cconv_f64_conv2d_4x16__avx512, 4, 2) \
    X(cconv_f64_conv2d_4x24__avx512, 4, 3) \
    X(cconv_f64_conv2d_4x32__avx512, 4, 4)
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
    4, 16, 4, 8,
    {F32_TILES(UK_ENTRY)},
    4, 8, 4, 8,
    {F64_TILES(UK_ENTRY)},
    4,
    {F32_ROWS3(UK_ENTRY)},
    4,
    {F64_ROWS3(UK_ENTRY)},
};
