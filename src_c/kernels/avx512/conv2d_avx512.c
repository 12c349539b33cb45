/*
 * The AVX-512 kernel set (AVX-512F; compiled with this folder's flags only, run only after
 * cconv_cpu_has_avx512()).  Tile: up to 8 output channels x 3 zmm vectors (48 f32 / 24 f64
 * positions): 24 accumulators, 3 input vectors, weights broadcast from memory inside the FMA.
 */
#include <immintrin.h>

#include "cpu_features.h"
#include "kernel_list.h"

#define UK_NV 3

/* ---- float32: 16 lanes ---- */
#define UK_T float
#define UK_V __m512
#define UK_VL 16
#define UK_LOADU(p) _mm512_loadu_ps(p)
#define UK_STOREU(p, v) _mm512_storeu_ps(p, v)
#define UK_SET1(x) _mm512_set1_ps(x)
#define UK_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define UK_INSTANCE(mr) cconv_f32_conv2d_##mr##x48__avx512
#include "simd_ukernel_instances.h"
#undef UK_INSTANCE
#undef UK_T
#undef UK_V
#undef UK_VL
#undef UK_LOADU
#undef UK_STOREU
#undef UK_SET1
#undef UK_FMA

/* ---- float64: 8 lanes ---- */
#define UK_T double
#define UK_V __m512d
#define UK_VL 8
#define UK_LOADU(p) _mm512_loadu_pd(p)
#define UK_STOREU(p, v) _mm512_storeu_pd(p, v)
#define UK_SET1(x) _mm512_set1_pd(x)
#define UK_FMA(a, b, c) _mm512_fmadd_pd(a, b, c)
#define UK_INSTANCE(mr) cconv_f64_conv2d_##mr##x24__avx512
#include "simd_ukernel_instances.h"
#undef UK_INSTANCE

const cconv_kernel_set cconv_kernels_avx512 = {
    "avx512",
    cconv_cpu_has_avx512,
    8, 48,
    {cconv_f32_conv2d_1x48__avx512, cconv_f32_conv2d_2x48__avx512,
     cconv_f32_conv2d_3x48__avx512, cconv_f32_conv2d_4x48__avx512,
     cconv_f32_conv2d_5x48__avx512, cconv_f32_conv2d_6x48__avx512,
     cconv_f32_conv2d_7x48__avx512, cconv_f32_conv2d_8x48__avx512},
    8, 24,
    {cconv_f64_conv2d_1x24__avx512, cconv_f64_conv2d_2x24__avx512,
     cconv_f64_conv2d_3x24__avx512, cconv_f64_conv2d_4x24__avx512,
     cconv_f64_conv2d_5x24__avx512, cconv_f64_conv2d_6x24__avx512,
     cconv_f64_conv2d_7x24__avx512, cconv_f64_conv2d_8x24__avx512},
};
