/*
 * The AVX-512 kernel set (AVX-512F; compiled with this folder's flags only, run only after
 * cconv_cpu_has_avx512()).  Main tile: 4 output channels x 4 zmm vectors (64 f32 / 32 f64
 * positions): 16 accumulators + 4 input vectors + 1 weight broadcast.  Measured on Zen 4 with 64
 * channels x 9 taps from L2: 4x64 runs at the FMA peak (116.8 of 115.7 GFLOP/s measured with a
 * pure FMA loop), 8x48 at 92% (eight weight streams), 6x64 at 99%.  Single-row tiles go up to 8
 * vectors; multi-row kernels up to 4 rows x 4 vectors.  The tile lists below are also the table.
 */
#include "runtime/checked_math.h"
#include <immintrin.h>
#include <stdint.h>

#include "runtime/cpu_features.h"
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
#define F32_ROWS(X) \
    X(cconv_f32_rows_1x16__avx512, 1, 1) \
    X(cconv_f32_rows_1x32__avx512, 1, 2) \
    X(cconv_f32_rows_1x48__avx512, 1, 3) \
    X(cconv_f32_rows_1x64__avx512, 1, 4) \
    X(cconv_f32_rows_2x16__avx512, 2, 1) \
    X(cconv_f32_rows_2x32__avx512, 2, 2) \
    X(cconv_f32_rows_2x48__avx512, 2, 3) \
    X(cconv_f32_rows_2x64__avx512, 2, 4) \
    X(cconv_f32_rows_3x16__avx512, 3, 1) \
    X(cconv_f32_rows_3x32__avx512, 3, 2) \
    X(cconv_f32_rows_3x48__avx512, 3, 3) \
    X(cconv_f32_rows_3x64__avx512, 3, 4) \
    X(cconv_f32_rows_4x16__avx512, 4, 1) \
    X(cconv_f32_rows_4x32__avx512, 4, 2) \
    X(cconv_f32_rows_4x48__avx512, 4, 3) \
    X(cconv_f32_rows_4x64__avx512, 4, 4)
F32_ROWS(UK_DEFINE_ROWS)
/* Channels-last: 6 positions x 1..4 vectors of channels. */
#define F32_CL(X) \
    X(cconv_f32_cl_6x16__avx512, 6, 1) \
    X(cconv_f32_cl_6x32__avx512, 6, 2) \
    X(cconv_f32_cl_6x48__avx512, 6, 3) \
    X(cconv_f32_cl_6x64__avx512, 6, 4)
F32_CL(UK_DEFINE_CL)
#define F32_DWC(X) \
    X(cconv_f32_dwc_6x16__avx512, 6, 1) \
    X(cconv_f32_dwc_6x32__avx512, 6, 2) \
    X(cconv_f32_dwc_6x48__avx512, 6, 3) \
    X(cconv_f32_dwc_6x64__avx512, 6, 4)
F32_DWC(UK_DEFINE_DWC)
#define F32_DWC3(X) \
    X(cconv_f32_dwc3_6x16_s1__avx512, 6, 1, 1) \
    X(cconv_f32_dwc3_6x32_s1__avx512, 6, 2, 1) \
    X(cconv_f32_dwc3_6x16_s2__avx512, 6, 1, 2) \
    X(cconv_f32_dwc3_6x32_s2__avx512, 6, 2, 2)
F32_DWC3(UK_DEFINE_DWC3)
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
#define F64_ROWS(X) \
    X(cconv_f64_rows_1x8__avx512, 1, 1) \
    X(cconv_f64_rows_1x16__avx512, 1, 2) \
    X(cconv_f64_rows_1x24__avx512, 1, 3) \
    X(cconv_f64_rows_1x32__avx512, 1, 4) \
    X(cconv_f64_rows_2x8__avx512, 2, 1) \
    X(cconv_f64_rows_2x16__avx512, 2, 2) \
    X(cconv_f64_rows_2x24__avx512, 2, 3) \
    X(cconv_f64_rows_2x32__avx512, 2, 4) \
    X(cconv_f64_rows_3x8__avx512, 3, 1) \
    X(cconv_f64_rows_3x16__avx512, 3, 2) \
    X(cconv_f64_rows_3x24__avx512, 3, 3) \
    X(cconv_f64_rows_3x32__avx512, 3, 4) \
    X(cconv_f64_rows_4x8__avx512, 4, 1) \
    X(cconv_f64_rows_4x16__avx512, 4, 2) \
    X(cconv_f64_rows_4x24__avx512, 4, 3) \
    X(cconv_f64_rows_4x32__avx512, 4, 4)
F64_ROWS(UK_DEFINE_ROWS)
#define F64_CL(X) \
    X(cconv_f64_cl_6x8__avx512, 6, 1) \
    X(cconv_f64_cl_6x16__avx512, 6, 2) \
    X(cconv_f64_cl_6x24__avx512, 6, 3) \
    X(cconv_f64_cl_6x32__avx512, 6, 4)
F64_CL(UK_DEFINE_CL)
#define F64_DWC(X) \
    X(cconv_f64_dwc_6x8__avx512, 6, 1) \
    X(cconv_f64_dwc_6x16__avx512, 6, 2) \
    X(cconv_f64_dwc_6x24__avx512, 6, 3) \
    X(cconv_f64_dwc_6x32__avx512, 6, 4)
F64_DWC(UK_DEFINE_DWC)
#define F64_DWC3(X) \
    X(cconv_f64_dwc3_6x8_s1__avx512, 6, 1, 1) \
    X(cconv_f64_dwc3_6x16_s1__avx512, 6, 2, 1) \
    X(cconv_f64_dwc3_6x8_s2__avx512, 6, 1, 2) \
    X(cconv_f64_dwc3_6x16_s2__avx512, 6, 2, 2)
F64_DWC3(UK_DEFINE_DWC3)
#undef UK_T
#undef UK_V
#undef UK_VL
#undef UK_LOADU
#undef UK_STOREU
#undef UK_SET1
#undef UK_FMA

/* Stride-2 packing: two vectors in, their even and odd lanes out (one two-source permute each);
 * the tail goes through masked loads and stores, so nothing past src[2n) is read. */
static void cconv_f32_deinterleave2__avx512(const float *src, size_t n, float *even, float *odd)
{
    const __m512i idx_even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
                                               28, 30);
    const __m512i idx_odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27,
                                              29, 31);
    size_t k = 0;
    for (; k + 16 <= n; k += 16) {
        const __m512 a = _mm512_loadu_ps(src + 2 * k), b = _mm512_loadu_ps(src + 2 * k + 16);
        _mm512_storeu_ps(even + k, _mm512_permutex2var_ps(a, idx_even, b));
        _mm512_storeu_ps(odd + k, _mm512_permutex2var_ps(a, idx_odd, b));
    }
    if (k < n) {
        const size_t rest = n - k; /* 1..15 pairs: 2..30 source values */
        const __mmask16 lo = (__mmask16)(rest >= 8 ? 0xFFFFu : (1u << (2 * rest)) - 1u);
        const __mmask16 hi = (__mmask16)(rest > 8 ? (1u << (2 * rest - 16)) - 1u : 0u);
        const __mmask16 out = (__mmask16)((1u << rest) - 1u);
        const __m512 a = _mm512_maskz_loadu_ps(lo, src + 2 * k);
        const __m512 b = _mm512_maskz_loadu_ps(hi, src + 2 * k + 16);
        _mm512_mask_storeu_ps(even + k, out, _mm512_permutex2var_ps(a, idx_even, b));
        _mm512_mask_storeu_ps(odd + k, out, _mm512_permutex2var_ps(a, idx_odd, b));
    }
}

static void cconv_f64_deinterleave2__avx512(const double *src, size_t n, double *even,
                                            double *odd)
{
    const __m512i idx_even = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
    const __m512i idx_odd = _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15);
    size_t k = 0;
    for (; k + 8 <= n; k += 8) {
        const __m512d a = _mm512_loadu_pd(src + 2 * k), b = _mm512_loadu_pd(src + 2 * k + 8);
        _mm512_storeu_pd(even + k, _mm512_permutex2var_pd(a, idx_even, b));
        _mm512_storeu_pd(odd + k, _mm512_permutex2var_pd(a, idx_odd, b));
    }
    if (k < n) {
        const size_t rest = n - k; /* 1..7 pairs */
        const __mmask8 lo = (__mmask8)(rest >= 4 ? 0xFFu : (1u << (2 * rest)) - 1u);
        const __mmask8 hi = (__mmask8)(rest > 4 ? (1u << (2 * rest - 8)) - 1u : 0u);
        const __mmask8 out = (__mmask8)((1u << rest) - 1u);
        const __m512d a = _mm512_maskz_loadu_pd(lo, src + 2 * k);
        const __m512d b = _mm512_maskz_loadu_pd(hi, src + 2 * k + 8);
        _mm512_mask_storeu_pd(even + k, out, _mm512_permutex2var_pd(a, idx_even, b));
        _mm512_mask_storeu_pd(odd + k, out, _mm512_permutex2var_pd(a, idx_odd, b));
    }
}

/* ---- depthwise k x k, stride 1 and 2, read in place (k = 3, 5, 7) ---- */
#define DW_MASK __mmask16
#define DW_T float
#define DW_V __m512
#define DW_VL 16
#define DW_LOADZ(m, p) _mm512_maskz_loadu_ps(m, p)
#define DW_PERM(m, a, i, b) _mm512_maskz_permutex2var_ps(m, a, i, b)
#define DW_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define DW_SET1(x) _mm512_set1_ps(x)
#define DW_STOREM(p, m, v) _mm512_mask_storeu_ps(p, m, v)
#define DW_IOTA1(first)                                                                           \
    _mm512_add_epi32(_mm512_set1_epi32((int)(first)),                                             \
                     _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15))
#define DW_IOTA2(first)                                                                           \
    _mm512_add_epi32(_mm512_set1_epi32((int)(first)),                                             \
                     _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30))
#define DW_S 1
#define DW_IOTA(first) DW_IOTA1(first)
#define DW_K 3
#define DW_NAME(stem) stem##f32_k3s1
#define DW_KERNEL cconv_f32_dwconv3x3s1_4x16__avx512
#include "dw_inplace_template.h"
#undef DW_K
#undef DW_NAME
#undef DW_KERNEL
#define DW_K 5
#define DW_NAME(stem) stem##f32_k5s1
#define DW_KERNEL cconv_f32_dwconv5x5s1_4x16__avx512
#include "dw_inplace_template.h"
#undef DW_K
#undef DW_NAME
#undef DW_KERNEL
#define DW_K 7
#define DW_NAME(stem) stem##f32_k7s1
#define DW_KERNEL cconv_f32_dwconv7x7s1_4x16__avx512
#include "dw_inplace_template.h"
#undef DW_K
#undef DW_NAME
#undef DW_KERNEL
#undef DW_S
#undef DW_IOTA
#define DW_S 2
#define DW_IOTA(first) DW_IOTA2(first)
#define DW_K 3
#define DW_NAME(stem) stem##f32_k3s2
#define DW_KERNEL cconv_f32_dwconv3x3s2_4x16__avx512
#include "dw_inplace_template.h"
#undef DW_K
#undef DW_NAME
#undef DW_KERNEL
#define DW_K 5
#define DW_NAME(stem) stem##f32_k5s2
#define DW_KERNEL cconv_f32_dwconv5x5s2_4x16__avx512
#include "dw_inplace_template.h"
#undef DW_K
#undef DW_NAME
#undef DW_KERNEL
#undef DW_S
#undef DW_IOTA
#undef DW_MASK
#undef DW_T
#undef DW_V
#undef DW_VL
#undef DW_LOADZ
#undef DW_PERM
#undef DW_FMA
#undef DW_SET1
#undef DW_STOREM
#undef DW_IOTA1
#undef DW_IOTA2

#define DW_MASK __mmask8
#define DW_T double
#define DW_V __m512d
#define DW_VL 8
#define DW_LOADZ(m, p) _mm512_maskz_loadu_pd(m, p)
#define DW_PERM(m, a, i, b) _mm512_maskz_permutex2var_pd(m, a, i, b)
#define DW_FMA(a, b, c) _mm512_fmadd_pd(a, b, c)
#define DW_SET1(x) _mm512_set1_pd(x)
#define DW_STOREM(p, m, v) _mm512_mask_storeu_pd(p, m, v)
#define DW_IOTA1(first)                                                                           \
    _mm512_add_epi64(_mm512_set1_epi64((long long)(first)),                                       \
                     _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7))
#define DW_IOTA2(first)                                                                           \
    _mm512_add_epi64(_mm512_set1_epi64((long long)(first)),                                       \
                     _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14))
#define DW_S 1
#define DW_IOTA(first) DW_IOTA1(first)
#define DW_K 3
#define DW_NAME(stem) stem##f64_k3s1
#define DW_KERNEL cconv_f64_dwconv3x3s1_4x8__avx512
#include "dw_inplace_template.h"
#undef DW_K
#undef DW_NAME
#undef DW_KERNEL
#define DW_K 5
#define DW_NAME(stem) stem##f64_k5s1
#define DW_KERNEL cconv_f64_dwconv5x5s1_4x8__avx512
#include "dw_inplace_template.h"
#undef DW_K
#undef DW_NAME
#undef DW_KERNEL
#define DW_K 7
#define DW_NAME(stem) stem##f64_k7s1
#define DW_KERNEL cconv_f64_dwconv7x7s1_4x8__avx512
#include "dw_inplace_template.h"
#undef DW_K
#undef DW_NAME
#undef DW_KERNEL
#undef DW_S
#undef DW_IOTA
#define DW_S 2
#define DW_IOTA(first) DW_IOTA2(first)
#define DW_K 3
#define DW_NAME(stem) stem##f64_k3s2
#define DW_KERNEL cconv_f64_dwconv3x3s2_4x8__avx512
#include "dw_inplace_template.h"
#undef DW_K
#undef DW_NAME
#undef DW_KERNEL
#define DW_K 5
#define DW_NAME(stem) stem##f64_k5s2
#define DW_KERNEL cconv_f64_dwconv5x5s2_4x8__avx512
#include "dw_inplace_template.h"
#undef DW_K
#undef DW_NAME
#undef DW_KERNEL
#undef DW_S
#undef DW_IOTA
#undef DW_MASK
#undef DW_T
#undef DW_V
#undef DW_VL
#undef DW_LOADZ
#undef DW_PERM
#undef DW_FMA
#undef DW_SET1
#undef DW_STOREM
#undef DW_IOTA1
#undef DW_IOTA2

/* The output stage (kernels/epilogue_template.h), vectorised by the compiler with this set's
 * flags. */
#define EP_T float
#define EP_NAME cconv_f32_epilogue__avx512
#include "epilogue_template.h"
#undef EP_T
#undef EP_NAME
#define EP_T double
#define EP_NAME cconv_f64_epilogue__avx512
#include "epilogue_template.h"
#undef EP_T
#undef EP_NAME

/* The Winograd transforms (kernels/winograd_transforms_template.h), vectorised by the compiler
 * with this set's flags. */
#define WG_T float
#define WG_LANES CCONV_WINOGRAD_LANES_F32
#define WG_FN(name) cconv_f32_winograd_##name##__avx512
#include "winograd_transforms_template.h"
#undef WG_T
#undef WG_LANES
#undef WG_FN
#define WG_T double
#define WG_LANES CCONV_WINOGRAD_LANES_F64
#define WG_FN(name) cconv_f64_winograd_##name##__avx512
#include "winograd_transforms_template.h"
#undef WG_T
#undef WG_LANES
#undef WG_FN

const cconv_kernel_set cconv_kernels_avx512 = {
    "avx512",
    cconv_cpu_has_avx512,
    4, 16, 4, 8,
    {F32_TILES(UK_ENTRY)},
    4, 8, 4, 8,
    {F64_TILES(UK_ENTRY)},
    4,
    {F32_ROWS(UK_ENTRY)},
    4,
    {F64_ROWS(UK_ENTRY)},
    cconv_f32_deinterleave2__avx512,
    cconv_f64_deinterleave2__avx512,
    /* 7x7 stride 2 (in no common network) takes the general path: its kernel, the largest,
     * took most of this file's compile time under AddressSanitizer. */
    {{cconv_f32_dwconv3x3s1_4x16__avx512, cconv_f32_dwconv5x5s1_4x16__avx512,
      cconv_f32_dwconv7x7s1_4x16__avx512},
     {cconv_f32_dwconv3x3s2_4x16__avx512, cconv_f32_dwconv5x5s2_4x16__avx512, NULL}},
    {{cconv_f64_dwconv3x3s1_4x8__avx512, cconv_f64_dwconv5x5s1_4x8__avx512,
      cconv_f64_dwconv7x7s1_4x8__avx512},
     {cconv_f64_dwconv3x3s2_4x8__avx512, cconv_f64_dwconv5x5s2_4x8__avx512, NULL}},
    cconv_f32_epilogue__avx512,
    cconv_f64_epilogue__avx512,
    6, 4, {F32_CL(UK_CL_ENTRY)}, {F32_DWC(UK_CL_ENTRY)},
    6, 4, {F64_CL(UK_CL_ENTRY)}, {F64_DWC(UK_CL_ENTRY)},
    2, {F32_DWC3(UK_DWC3_ENTRY)},
    2, {F64_DWC3(UK_DWC3_ENTRY)},
    {cconv_f32_winograd_input2__avx512, cconv_f32_winograd_input4__avx512},
    {cconv_f32_winograd_weight2__avx512, cconv_f32_winograd_weight4__avx512},
    {cconv_f32_winograd_output2__avx512, cconv_f32_winograd_output4__avx512},
    {cconv_f64_winograd_input2__avx512, cconv_f64_winograd_input4__avx512},
    {cconv_f64_winograd_weight2__avx512, cconv_f64_winograd_weight4__avx512},
    {cconv_f64_winograd_output2__avx512, cconv_f64_winograd_output4__avx512},
};
