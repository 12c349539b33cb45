/*
 * The aarch64 NEON kernel set (NEON and FMA are baseline on aarch64, so no extra flags).
 * Main tile: 4 output channels x 4 q-register vectors (16 f32 / 8 f64 positions): 16
 * accumulators + 4 input vectors + 1 weight of the 32 vector registers.  Single-row tiles go up
 * to 8 vectors.  The whole file compiles to nothing on other architectures.
 */
#include "kernel_list.h"

#if defined(__aarch64__) || defined(_M_ARM64)
#include <arm_neon.h>

#include "runtime/cpu_features.h"
#include "simd_ukernel_template.h"

/* vfmaq(acc, b, c) = acc + b * c with one rounding; UK_FMA's argument order is (b, c, acc). */
/* ---- float: 4 lanes ---- */
#define UK_T float
#define UK_V float32x4_t
#define UK_VL 4
#define UK_LOADU(p) vld1q_f32(p)
#define UK_STOREU(p, v) vst1q_f32(p, v)
#define UK_SET1(x) vdupq_n_f32(x)
#define UK_FMA(a, b, c) vfmaq_f32(c, a, b)
#define F32_TILES(X) \
    X(cconv_f32_conv2d_1x4__neon, 1, 1) \
    X(cconv_f32_conv2d_1x8__neon, 1, 2) \
    X(cconv_f32_conv2d_1x12__neon, 1, 3) \
    X(cconv_f32_conv2d_1x16__neon, 1, 4) \
    X(cconv_f32_conv2d_1x20__neon, 1, 5) \
    X(cconv_f32_conv2d_1x24__neon, 1, 6) \
    X(cconv_f32_conv2d_1x28__neon, 1, 7) \
    X(cconv_f32_conv2d_1x32__neon, 1, 8) \
    X(cconv_f32_conv2d_2x4__neon, 2, 1) \
    X(cconv_f32_conv2d_2x8__neon, 2, 2) \
    X(cconv_f32_conv2d_2x12__neon, 2, 3) \
    X(cconv_f32_conv2d_2x16__neon, 2, 4) \
    X(cconv_f32_conv2d_3x4__neon, 3, 1) \
    X(cconv_f32_conv2d_3x8__neon, 3, 2) \
    X(cconv_f32_conv2d_3x12__neon, 3, 3) \
    X(cconv_f32_conv2d_3x16__neon, 3, 4) \
    X(cconv_f32_conv2d_4x4__neon, 4, 1) \
    X(cconv_f32_conv2d_4x8__neon, 4, 2) \
    X(cconv_f32_conv2d_4x12__neon, 4, 3) \
    X(cconv_f32_conv2d_4x16__neon, 4, 4)
F32_TILES(UK_DEFINE)
#define F32_ROWS(X) \
    X(cconv_f32_rows_1x4__neon, 1, 1) \
    X(cconv_f32_rows_1x8__neon, 1, 2) \
    X(cconv_f32_rows_1x12__neon, 1, 3) \
    X(cconv_f32_rows_1x16__neon, 1, 4) \
    X(cconv_f32_rows_2x4__neon, 2, 1) \
    X(cconv_f32_rows_2x8__neon, 2, 2) \
    X(cconv_f32_rows_2x12__neon, 2, 3) \
    X(cconv_f32_rows_2x16__neon, 2, 4) \
    X(cconv_f32_rows_3x4__neon, 3, 1) \
    X(cconv_f32_rows_3x8__neon, 3, 2) \
    X(cconv_f32_rows_3x12__neon, 3, 3) \
    X(cconv_f32_rows_3x16__neon, 3, 4) \
    X(cconv_f32_rows_4x4__neon, 4, 1) \
    X(cconv_f32_rows_4x8__neon, 4, 2) \
    X(cconv_f32_rows_4x12__neon, 4, 3) \
    X(cconv_f32_rows_4x16__neon, 4, 4)
F32_ROWS(UK_DEFINE_ROWS)
/* Channels-last: 6 positions x 1..4 vectors of channels. */
#define F32_CL(X) \
    X(cconv_f32_cl_6x4__neon, 6, 1) \
    X(cconv_f32_cl_6x8__neon, 6, 2) \
    X(cconv_f32_cl_6x12__neon, 6, 3) \
    X(cconv_f32_cl_6x16__neon, 6, 4)
F32_CL(UK_DEFINE_CL)
#define F32_DWC(X) \
    X(cconv_f32_dwc_6x4__neon, 6, 1) \
    X(cconv_f32_dwc_6x8__neon, 6, 2) \
    X(cconv_f32_dwc_6x12__neon, 6, 3) \
    X(cconv_f32_dwc_6x16__neon, 6, 4)
F32_DWC(UK_DEFINE_DWC)
#define F32_DWC3(X) \
    X(cconv_f32_dwc3_6x4_s1__neon, 6, 1, 1) \
    X(cconv_f32_dwc3_6x8_s1__neon, 6, 2, 1) \
    X(cconv_f32_dwc3_6x4_s2__neon, 6, 1, 2) \
    X(cconv_f32_dwc3_6x8_s2__neon, 6, 2, 2)
F32_DWC3(UK_DEFINE_DWC3)
#undef UK_T
#undef UK_V
#undef UK_VL
#undef UK_LOADU
#undef UK_STOREU
#undef UK_SET1
#undef UK_FMA

/* ---- double: 2 lanes ---- */
#define UK_T double
#define UK_V float64x2_t
#define UK_VL 2
#define UK_LOADU(p) vld1q_f64(p)
#define UK_STOREU(p, v) vst1q_f64(p, v)
#define UK_SET1(x) vdupq_n_f64(x)
#define UK_FMA(a, b, c) vfmaq_f64(c, a, b)
#define F64_TILES(X) \
    X(cconv_f64_conv2d_1x2__neon, 1, 1) \
    X(cconv_f64_conv2d_1x4__neon, 1, 2) \
    X(cconv_f64_conv2d_1x6__neon, 1, 3) \
    X(cconv_f64_conv2d_1x8__neon, 1, 4) \
    X(cconv_f64_conv2d_1x10__neon, 1, 5) \
    X(cconv_f64_conv2d_1x12__neon, 1, 6) \
    X(cconv_f64_conv2d_1x14__neon, 1, 7) \
    X(cconv_f64_conv2d_1x16__neon, 1, 8) \
    X(cconv_f64_conv2d_2x2__neon, 2, 1) \
    X(cconv_f64_conv2d_2x4__neon, 2, 2) \
    X(cconv_f64_conv2d_2x6__neon, 2, 3) \
    X(cconv_f64_conv2d_2x8__neon, 2, 4) \
    X(cconv_f64_conv2d_3x2__neon, 3, 1) \
    X(cconv_f64_conv2d_3x4__neon, 3, 2) \
    X(cconv_f64_conv2d_3x6__neon, 3, 3) \
    X(cconv_f64_conv2d_3x8__neon, 3, 4) \
    X(cconv_f64_conv2d_4x2__neon, 4, 1) \
    X(cconv_f64_conv2d_4x4__neon, 4, 2) \
    X(cconv_f64_conv2d_4x6__neon, 4, 3) \
    X(cconv_f64_conv2d_4x8__neon, 4, 4)
F64_TILES(UK_DEFINE)
#define F64_ROWS(X) \
    X(cconv_f64_rows_1x2__neon, 1, 1) \
    X(cconv_f64_rows_1x4__neon, 1, 2) \
    X(cconv_f64_rows_1x6__neon, 1, 3) \
    X(cconv_f64_rows_1x8__neon, 1, 4) \
    X(cconv_f64_rows_2x2__neon, 2, 1) \
    X(cconv_f64_rows_2x4__neon, 2, 2) \
    X(cconv_f64_rows_2x6__neon, 2, 3) \
    X(cconv_f64_rows_2x8__neon, 2, 4) \
    X(cconv_f64_rows_3x2__neon, 3, 1) \
    X(cconv_f64_rows_3x4__neon, 3, 2) \
    X(cconv_f64_rows_3x6__neon, 3, 3) \
    X(cconv_f64_rows_3x8__neon, 3, 4) \
    X(cconv_f64_rows_4x2__neon, 4, 1) \
    X(cconv_f64_rows_4x4__neon, 4, 2) \
    X(cconv_f64_rows_4x6__neon, 4, 3) \
    X(cconv_f64_rows_4x8__neon, 4, 4)
F64_ROWS(UK_DEFINE_ROWS)
#define F64_CL(X) \
    X(cconv_f64_cl_6x2__neon, 6, 1) \
    X(cconv_f64_cl_6x4__neon, 6, 2) \
    X(cconv_f64_cl_6x6__neon, 6, 3) \
    X(cconv_f64_cl_6x8__neon, 6, 4)
F64_CL(UK_DEFINE_CL)
#define F64_DWC(X) \
    X(cconv_f64_dwc_6x2__neon, 6, 1) \
    X(cconv_f64_dwc_6x4__neon, 6, 2) \
    X(cconv_f64_dwc_6x6__neon, 6, 3) \
    X(cconv_f64_dwc_6x8__neon, 6, 4)
F64_DWC(UK_DEFINE_DWC)
#define F64_DWC3(X) \
    X(cconv_f64_dwc3_6x2_s1__neon, 6, 1, 1) \
    X(cconv_f64_dwc3_6x4_s1__neon, 6, 2, 1) \
    X(cconv_f64_dwc3_6x2_s2__neon, 6, 1, 2) \
    X(cconv_f64_dwc3_6x4_s2__neon, 6, 2, 2)
F64_DWC3(UK_DEFINE_DWC3)
#undef UK_T
#undef UK_V
#undef UK_VL
#undef UK_LOADU
#undef UK_STOREU
#undef UK_SET1
#undef UK_FMA

/* Stride-2 packing with the structure loads that deinterleave in hardware. */
static void cconv_f32_deinterleave2__neon(const float *src, size_t n, float *even, float *odd)
{
    size_t k = 0;
    for (; k + 4 <= n; k += 4) {
        const float32x4x2_t v = vld2q_f32(src + 2 * k);
        vst1q_f32(even + k, v.val[0]);
        vst1q_f32(odd + k, v.val[1]);
    }
    for (; k < n; k++) {
        even[k] = src[2 * k];
        odd[k] = src[2 * k + 1];
    }
}

static void cconv_f64_deinterleave2__neon(const double *src, size_t n, double *even, double *odd)
{
    size_t k = 0;
    for (; k + 2 <= n; k += 2) {
        const float64x2x2_t v = vld2q_f64(src + 2 * k);
        vst1q_f64(even + k, v.val[0]);
        vst1q_f64(odd + k, v.val[1]);
    }
    for (; k < n; k++) {
        even[k] = src[2 * k];
        odd[k] = src[2 * k + 1];
    }
}

/* The output stage (kernels/epilogue_template.h), vectorised by the compiler with this set's
 * flags. */
#define EP_T float
#define EP_NAME cconv_f32_epilogue__neon
#include "epilogue_template.h"
#undef EP_T
#undef EP_NAME
#define EP_T double
#define EP_NAME cconv_f64_epilogue__neon
#include "epilogue_template.h"
#undef EP_T
#undef EP_NAME

/* The Winograd transforms (kernels/winograd_transforms_template.h), vectorised by the compiler
 * with this set's flags. */
#define WG_T float
#define WG_LANES CCONV_WINOGRAD_LANES_F32
#define WG_FN(name) cconv_f32_winograd_##name##__neon
#include "winograd_transforms_template.h"
#undef WG_T
#undef WG_LANES
#undef WG_FN
#define WG_T double
#define WG_LANES CCONV_WINOGRAD_LANES_F64
#define WG_FN(name) cconv_f64_winograd_##name##__neon
#include "winograd_transforms_template.h"
#undef WG_T
#undef WG_LANES
#undef WG_FN

const cconv_kernel_set cconv_kernels_neon = {
    "neon",
    cconv_cpu_has_neon,
    4, 4, 4, 8,
    {F32_TILES(UK_ENTRY)},
    4, 2, 4, 8,
    {F64_TILES(UK_ENTRY)},
    4,
    {F32_ROWS(UK_ENTRY)},
    4,
    {F64_ROWS(UK_ENTRY)},
    cconv_f32_deinterleave2__neon,
    cconv_f64_deinterleave2__neon,
    {{NULL}}, /* depthwise k x k read in place: the general path */
    {{NULL}},
    cconv_f32_epilogue__neon,
    cconv_f64_epilogue__neon,
    6, 4, {F32_CL(UK_CL_ENTRY)}, {F32_DWC(UK_CL_ENTRY)},
    6, 4, {F64_CL(UK_CL_ENTRY)}, {F64_DWC(UK_CL_ENTRY)},
    2, {F32_DWC3(UK_DWC3_ENTRY)},
    2, {F64_DWC3(UK_DWC3_ENTRY)},
    {cconv_f32_winograd_input2__neon, cconv_f32_winograd_input4__neon},
    {cconv_f32_winograd_weight2__neon, cconv_f32_winograd_weight4__neon},
    {cconv_f32_winograd_output2__neon, cconv_f32_winograd_output4__neon},
    {cconv_f64_winograd_input2__neon, cconv_f64_winograd_input4__neon},
    {cconv_f64_winograd_weight2__neon, cconv_f64_winograd_weight4__neon},
    {cconv_f64_winograd_output2__neon, cconv_f64_winograd_output4__neon},
};
#endif
