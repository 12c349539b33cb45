/*
 * The aarch64 NEON kernel set (NEON and FMA are baseline on aarch64, so no extra flags).
 * Tile: up to 4 output channels x 4 q-register vectors (16 f32 / 8 f64 positions): 16
 * accumulators + 4 input vectors + 1 weight of the 32 vector registers.
 * The whole file compiles to nothing on other architectures.
 */
#include "kernel_list.h"

#if defined(__aarch64__) || defined(_M_ARM64)
#include <arm_neon.h>

#include "cpu_features.h"

#define UK_NV 4
#define UK_MR_MAX 4

/* ---- float32: 4 lanes ---- */
#define UK_T float
#define UK_V float32x4_t
#define UK_VL 4
#define UK_LOADU(p) vld1q_f32(p)
#define UK_STOREU(p, v) vst1q_f32(p, v)
#define UK_SET1(x) vdupq_n_f32(x)
/* vfmaq_f32(acc, b, c) = acc + b * c, one fused rounding. */
#define UK_FMA(a, b, c) vfmaq_f32(c, a, b)
#define UK_INSTANCE(mr) cconv_f32_conv2d_##mr##x16__neon
#include "simd_ukernel_instances.h"
#undef UK_INSTANCE
#undef UK_T
#undef UK_V
#undef UK_VL
#undef UK_LOADU
#undef UK_STOREU
#undef UK_SET1
#undef UK_FMA

/* ---- float64: 2 lanes ---- */
#define UK_T double
#define UK_V float64x2_t
#define UK_VL 2
#define UK_LOADU(p) vld1q_f64(p)
#define UK_STOREU(p, v) vst1q_f64(p, v)
#define UK_SET1(x) vdupq_n_f64(x)
#define UK_FMA(a, b, c) vfmaq_f64(c, a, b)
#define UK_INSTANCE(mr) cconv_f64_conv2d_##mr##x8__neon
#include "simd_ukernel_instances.h"
#undef UK_INSTANCE

const cconv_kernel_set cconv_kernels_neon = {
    "neon",
    cconv_cpu_has_neon,
    4, 16,
    {cconv_f32_conv2d_1x16__neon, cconv_f32_conv2d_2x16__neon, cconv_f32_conv2d_3x16__neon,
     cconv_f32_conv2d_4x16__neon},
    4, 8,
    {cconv_f64_conv2d_1x8__neon, cconv_f64_conv2d_2x8__neon, cconv_f64_conv2d_3x8__neon,
     cconv_f64_conv2d_4x8__neon},
};
#endif
