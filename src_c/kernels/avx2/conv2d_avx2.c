/*
 * The AVX2 + FMA kernel set (compiled with this folder's flags only, run only after
 * cconv_cpu_has_avx2_fma()).  Tile: up to 4 output channels x 3 ymm vectors (24 f32 / 12 f64
 * positions): 12 accumulators + 3 input vectors + 1 weight broadcast = the 16 ymm registers.
 */
#include <immintrin.h>

#include "cpu_features.h"
#include "kernel_list.h"

#define UK_NV 3
#define UK_MR_MAX 4

/* ---- float32: 8 lanes ---- */
#define UK_T float
#define UK_V __m256
#define UK_VL 8
#define UK_LOADU(p) _mm256_loadu_ps(p)
#define UK_STOREU(p, v) _mm256_storeu_ps(p, v)
#define UK_SET1(x) _mm256_set1_ps(x)
#define UK_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define UK_INSTANCE(mr) cconv_f32_conv2d_##mr##x24__avx2
#include "simd_ukernel_instances.h"
#undef UK_INSTANCE
#undef UK_T
#undef UK_V
#undef UK_VL
#undef UK_LOADU
#undef UK_STOREU
#undef UK_SET1
#undef UK_FMA

/* ---- float64: 4 lanes ---- */
#define UK_T double
#define UK_V __m256d
#define UK_VL 4
#define UK_LOADU(p) _mm256_loadu_pd(p)
#define UK_STOREU(p, v) _mm256_storeu_pd(p, v)
#define UK_SET1(x) _mm256_set1_pd(x)
#define UK_FMA(a, b, c) _mm256_fmadd_pd(a, b, c)
#define UK_INSTANCE(mr) cconv_f64_conv2d_##mr##x12__avx2
#include "simd_ukernel_instances.h"
#undef UK_INSTANCE

const cconv_kernel_set cconv_kernels_avx2 = {
    "avx2",
    cconv_cpu_has_avx2_fma,
    4, 24,
    {cconv_f32_conv2d_1x24__avx2, cconv_f32_conv2d_2x24__avx2, cconv_f32_conv2d_3x24__avx2,
     cconv_f32_conv2d_4x24__avx2},
    4, 12,
    {cconv_f64_conv2d_1x12__avx2, cconv_f64_conv2d_2x12__avx2, cconv_f64_conv2d_3x12__avx2,
     cconv_f64_conv2d_4x12__avx2},
};
