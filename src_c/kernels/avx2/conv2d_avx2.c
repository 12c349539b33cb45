/*
 * The AVX2 + FMA kernel set (compiled with this folder's flags only, run only after
 * cconv_cpu_has_avx2_fma()).  Main tile: 4 output channels x 3 ymm vectors (24 f32 / 12 f64
 * positions): 12 accumulators + 3 input vectors + 1 weight broadcast of the 16 ymm registers.
 * Single-row tiles go up to 8 vectors.  The tile list below is also the table.
 */
#include <immintrin.h>
#include <stdint.h>

#include "runtime/cpu_features.h"
#include "kernel_list.h"
#include "simd_ukernel_template.h"

/* ---- float: 8 lanes ---- */
#define UK_T float
#define UK_V __m256
#define UK_VL 8
#define UK_LOADU(p) _mm256_loadu_ps(p)
#define UK_STOREU(p, v) _mm256_storeu_ps(p, v)
#define UK_SET1(x) _mm256_set1_ps(x)
#define UK_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define F32_TILES(X) \
    X(cconv_f32_conv2d_1x8__avx2, 1, 1) \
    X(cconv_f32_conv2d_1x16__avx2, 1, 2) \
    X(cconv_f32_conv2d_1x24__avx2, 1, 3) \
    X(cconv_f32_conv2d_1x32__avx2, 1, 4) \
    X(cconv_f32_conv2d_1x40__avx2, 1, 5) \
    X(cconv_f32_conv2d_1x48__avx2, 1, 6) \
    X(cconv_f32_conv2d_1x56__avx2, 1, 7) \
    X(cconv_f32_conv2d_1x64__avx2, 1, 8) \
    X(cconv_f32_conv2d_2x8__avx2, 2, 1) \
    X(cconv_f32_conv2d_2x16__avx2, 2, 2) \
    X(cconv_f32_conv2d_2x24__avx2, 2, 3) \
    X(cconv_f32_conv2d_3x8__avx2, 3, 1) \
    X(cconv_f32_conv2d_3x16__avx2, 3, 2) \
    X(cconv_f32_conv2d_3x24__avx2, 3, 3) \
    X(cconv_f32_conv2d_4x8__avx2, 4, 1) \
    X(cconv_f32_conv2d_4x16__avx2, 4, 2) \
    X(cconv_f32_conv2d_4x24__avx2, 4, 3)
F32_TILES(UK_DEFINE)
#define F32_ROWS(X) \
    X(cconv_f32_rows_1x8__avx2, 1, 1) \
    X(cconv_f32_rows_1x16__avx2, 1, 2) \
    X(cconv_f32_rows_2x8__avx2, 2, 1) \
    X(cconv_f32_rows_2x16__avx2, 2, 2) \
    X(cconv_f32_rows_3x8__avx2, 3, 1) \
    X(cconv_f32_rows_3x16__avx2, 3, 2) \
    X(cconv_f32_rows_4x8__avx2, 4, 1) \
    X(cconv_f32_rows_4x16__avx2, 4, 2)
F32_ROWS(UK_DEFINE_ROWS)
/* Channels-last: 6 positions x 1..2 vectors of channels. */
#define F32_CL(X) \
    X(cconv_f32_cl_6x8__avx2, 6, 1) \
    X(cconv_f32_cl_6x16__avx2, 6, 2)
F32_CL(UK_DEFINE_CL)
#define F32_DWC(X) \
    X(cconv_f32_dwc_6x8__avx2, 6, 1) \
    X(cconv_f32_dwc_6x16__avx2, 6, 2)
F32_DWC(UK_DEFINE_DWC)
#define F32_DWC3(X) \
    X(cconv_f32_dwc3_6x8_s1__avx2, 6, 1, 1) \
    X(cconv_f32_dwc3_6x8_s2__avx2, 6, 1, 2)
F32_DWC3(UK_DEFINE_DWC3)
#undef UK_T
#undef UK_V
#undef UK_VL
#undef UK_LOADU
#undef UK_STOREU
#undef UK_SET1
#undef UK_FMA

/* ---- double: 4 lanes ---- */
#define UK_T double
#define UK_V __m256d
#define UK_VL 4
#define UK_LOADU(p) _mm256_loadu_pd(p)
#define UK_STOREU(p, v) _mm256_storeu_pd(p, v)
#define UK_SET1(x) _mm256_set1_pd(x)
#define UK_FMA(a, b, c) _mm256_fmadd_pd(a, b, c)
#define F64_TILES(X) \
    X(cconv_f64_conv2d_1x4__avx2, 1, 1) \
    X(cconv_f64_conv2d_1x8__avx2, 1, 2) \
    X(cconv_f64_conv2d_1x12__avx2, 1, 3) \
    X(cconv_f64_conv2d_1x16__avx2, 1, 4) \
    X(cconv_f64_conv2d_1x20__avx2, 1, 5) \
    X(cconv_f64_conv2d_1x24__avx2, 1, 6) \
    X(cconv_f64_conv2d_1x28__avx2, 1, 7) \
    X(cconv_f64_conv2d_1x32__avx2, 1, 8) \
    X(cconv_f64_conv2d_2x4__avx2, 2, 1) \
    X(cconv_f64_conv2d_2x8__avx2, 2, 2) \
    X(cconv_f64_conv2d_2x12__avx2, 2, 3) \
    X(cconv_f64_conv2d_3x4__avx2, 3, 1) \
    X(cconv_f64_conv2d_3x8__avx2, 3, 2) \
    X(cconv_f64_conv2d_3x12__avx2, 3, 3) \
    X(cconv_f64_conv2d_4x4__avx2, 4, 1) \
    X(cconv_f64_conv2d_4x8__avx2, 4, 2) \
    X(cconv_f64_conv2d_4x12__avx2, 4, 3)
F64_TILES(UK_DEFINE)
#define F64_ROWS(X) \
    X(cconv_f64_rows_1x4__avx2, 1, 1) \
    X(cconv_f64_rows_1x8__avx2, 1, 2) \
    X(cconv_f64_rows_2x4__avx2, 2, 1) \
    X(cconv_f64_rows_2x8__avx2, 2, 2) \
    X(cconv_f64_rows_3x4__avx2, 3, 1) \
    X(cconv_f64_rows_3x8__avx2, 3, 2) \
    X(cconv_f64_rows_4x4__avx2, 4, 1) \
    X(cconv_f64_rows_4x8__avx2, 4, 2)
F64_ROWS(UK_DEFINE_ROWS)
#define F64_CL(X) \
    X(cconv_f64_cl_6x4__avx2, 6, 1) \
    X(cconv_f64_cl_6x8__avx2, 6, 2)
F64_CL(UK_DEFINE_CL)
#define F64_DWC(X) \
    X(cconv_f64_dwc_6x4__avx2, 6, 1) \
    X(cconv_f64_dwc_6x8__avx2, 6, 2)
F64_DWC(UK_DEFINE_DWC)
#define F64_DWC3(X) \
    X(cconv_f64_dwc3_6x4_s1__avx2, 6, 1, 1) \
    X(cconv_f64_dwc3_6x4_s2__avx2, 6, 1, 2)
F64_DWC3(UK_DEFINE_DWC3)
#undef UK_T
#undef UK_V
#undef UK_VL
#undef UK_LOADU
#undef UK_STOREU
#undef UK_SET1
#undef UK_FMA

/* ---- depthwise 3x3 stride 2, read in place ---- */
#define DW_T float
#define DW_V __m256
#define DW_VL 8
#define DW_COUNT_MASK(n)                                                                          \
    _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
#define DW_ROW_MASK(in) _mm256_set1_epi32((in) ? -1 : 0)
#define DW_LANE0_MASK(in) _mm256_setr_epi32((in) ? -1 : 0, 0, 0, 0, 0, 0, 0, 0)
#define DW_LOADU(p) _mm256_loadu_ps(p)
#define DW_LOADM(p, m) _mm256_maskload_ps(p, m)
#define DW_STOREM(p, m, v) _mm256_maskstore_ps(p, m, v)
#define DW_EVEN(a, b)                                                                             \
    _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), 0xD8))
#define DW_ODD(a, b)                                                                              \
    _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0xDD)), 0xD8))
#define DW_SHIFT1(v) _mm256_permutevar8x32_ps(v, _mm256_setr_epi32(0, 0, 1, 2, 3, 4, 5, 6))
#define DW_BLEND0(v, x) _mm256_blend_ps(v, x, 1)
#define DW_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define DW_SET1(x) _mm256_set1_ps(x)
#define DW_NAME(stem) stem##f32
#define DW_KERNEL cconv_f32_dwconv3x3s2_4x8__avx2
#include "dw3x3s2_template.h"
#undef DW_T
#undef DW_V
#undef DW_VL
#undef DW_COUNT_MASK
#undef DW_ROW_MASK
#undef DW_LANE0_MASK
#undef DW_LOADU
#undef DW_LOADM
#undef DW_STOREM
#undef DW_EVEN
#undef DW_ODD
#undef DW_SHIFT1
#undef DW_BLEND0
#undef DW_FMA
#undef DW_SET1
#undef DW_NAME
#undef DW_KERNEL

#define DW_T double
#define DW_V __m256d
#define DW_VL 4
#define DW_COUNT_MASK(n)                                                                          \
    _mm256_cmpgt_epi64(_mm256_set1_epi64x((long long)(n)), _mm256_setr_epi64x(0, 1, 2, 3))
#define DW_ROW_MASK(in) _mm256_set1_epi64x((in) ? -1 : 0)
#define DW_LANE0_MASK(in) _mm256_setr_epi64x((in) ? -1 : 0, 0, 0, 0)
#define DW_LOADU(p) _mm256_loadu_pd(p)
#define DW_LOADM(p, m) _mm256_maskload_pd(p, m)
#define DW_STOREM(p, m, v) _mm256_maskstore_pd(p, m, v)
#define DW_EVEN(a, b) _mm256_permute4x64_pd(_mm256_unpacklo_pd(a, b), 0xD8)
#define DW_ODD(a, b) _mm256_permute4x64_pd(_mm256_unpackhi_pd(a, b), 0xD8)
#define DW_SHIFT1(v) _mm256_permute4x64_pd(v, 0x90)
#define DW_BLEND0(v, x) _mm256_blend_pd(v, x, 1)
#define DW_FMA(a, b, c) _mm256_fmadd_pd(a, b, c)
#define DW_SET1(x) _mm256_set1_pd(x)
#define DW_NAME(stem) stem##f64
#define DW_KERNEL cconv_f64_dwconv3x3s2_4x4__avx2
#include "dw3x3s2_template.h"
#undef DW_T
#undef DW_V
#undef DW_VL
#undef DW_COUNT_MASK
#undef DW_ROW_MASK
#undef DW_LANE0_MASK
#undef DW_LOADU
#undef DW_LOADM
#undef DW_STOREM
#undef DW_EVEN
#undef DW_ODD
#undef DW_SHIFT1
#undef DW_BLEND0
#undef DW_FMA
#undef DW_SET1
#undef DW_NAME
#undef DW_KERNEL

/* The output stage (kernels/epilogue_template.h), vectorised by the compiler with this set's
 * flags. */
#define EP_T float
#define EP_NAME cconv_f32_epilogue__avx2
#include "epilogue_template.h"
#undef EP_T
#undef EP_NAME
#define EP_T double
#define EP_NAME cconv_f64_epilogue__avx2
#include "epilogue_template.h"
#undef EP_T
#undef EP_NAME

/* The Winograd transforms (kernels/winograd_transforms_template.h), vectorised by the compiler
 * with this set's flags. */
#define WG_T float
#define WG_LANES CCONV_WINOGRAD_LANES_F32
#define WG_FN(name) cconv_f32_winograd_##name##__avx2
#include "winograd_transforms_template.h"
#undef WG_T
#undef WG_LANES
#undef WG_FN
#define WG_T double
#define WG_LANES CCONV_WINOGRAD_LANES_F64
#define WG_FN(name) cconv_f64_winograd_##name##__avx2
#include "winograd_transforms_template.h"
#undef WG_T
#undef WG_LANES
#undef WG_FN

const cconv_kernel_set cconv_kernels_avx2 = {
    "avx2",
    cconv_cpu_has_avx2_fma,
    4, 8, 3, 8,
    {F32_TILES(UK_ENTRY)},
    4, 4, 3, 8,
    {F64_TILES(UK_ENTRY)},
    2,
    {F32_ROWS(UK_ENTRY)},
    2,
    {F64_ROWS(UK_ENTRY)},
    NULL, /* stride-2 packing: the driver's loop */
    NULL,
    {{NULL}, {cconv_f32_dwconv3x3s2_4x8__avx2, NULL, NULL}}, /* others: the general path */
    {{NULL}, {cconv_f64_dwconv3x3s2_4x4__avx2, NULL, NULL}},
    cconv_f32_epilogue__avx2,
    cconv_f64_epilogue__avx2,
    6, 2, {F32_CL(UK_CL_ENTRY)}, {F32_DWC(UK_CL_ENTRY)},
    6, 2, {F64_CL(UK_CL_ENTRY)}, {F64_DWC(UK_CL_ENTRY)},
    1, {F32_DWC3(UK_DWC3_ENTRY)},
    1, {F64_DWC3(UK_DWC3_ENTRY)},
    {cconv_f32_winograd_input2__avx2, cconv_f32_winograd_input4__avx2},
    {cconv_f32_winograd_weight2__avx2, cconv_f32_winograd_weight4__avx2},
    {cconv_f32_winograd_output2__avx2, cconv_f32_winograd_output4__avx2},
    {cconv_f64_winograd_input2__avx2, cconv_f64_winograd_input4__avx2},
    {cconv_f64_winograd_weight2__avx2, cconv_f64_winograd_weight4__avx2},
    {cconv_f64_winograd_output2__avx2, cconv_f64_winograd_output4__avx2},
};
