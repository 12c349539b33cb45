/*
 * Blocked transposes for packing: dst[q * dst_stride + r] = src[r * src_stride + q * src_step]
 * for r < rows, q < cols (channel rows of an image row to pixel rows of a channels-last copy).
 * 4 x 4 blocks in registers where the baseline instruction set has them (SSE on x86-64, NEON on
 * aarch64) and the source rows are contiguous; scalar elsewhere.  Header-only (static inline).
 */
#ifndef CCONV_TRANSPOSE_H
#define CCONV_TRANSPOSE_H

#include <stddef.h>
#include <stdint.h>

#if defined(__SSE2__) || defined(_M_X64) || (defined(_M_IX86_FP) && _M_IX86_FP >= 2)
#include <emmintrin.h>
#define CCONV_TRANSPOSE_SSE 1
#elif defined(__ARM_NEON) || defined(_M_ARM64)
#include <arm_neon.h>
#define CCONV_TRANSPOSE_NEON 1
#endif

static inline void cconv_transpose_f32(const float *src, ptrdiff_t src_stride, ptrdiff_t src_step,
                                       float *dst, ptrdiff_t dst_stride, int64_t rows,
                                       int64_t cols)
{
    int64_t r0 = 0;
#if defined(CCONV_TRANSPOSE_SSE) || defined(CCONV_TRANSPOSE_NEON)
    if (src_step == 1) {
        for (; r0 + 4 <= rows; r0 += 4) {
            const float *s = src + r0 * src_stride;
            float *d = dst + r0;
            int64_t q = 0;
            for (; q + 4 <= cols; q += 4) {
#if defined(CCONV_TRANSPOSE_SSE)
                __m128 a = _mm_loadu_ps(s + q), b = _mm_loadu_ps(s + src_stride + q);
                __m128 c = _mm_loadu_ps(s + 2 * src_stride + q);
                __m128 e = _mm_loadu_ps(s + 3 * src_stride + q);
                _MM_TRANSPOSE4_PS(a, b, c, e);
                _mm_storeu_ps(d + q * dst_stride, a);
                _mm_storeu_ps(d + (q + 1) * dst_stride, b);
                _mm_storeu_ps(d + (q + 2) * dst_stride, c);
                _mm_storeu_ps(d + (q + 3) * dst_stride, e);
#else
                const float32x4x2_t ab = vtrnq_f32(vld1q_f32(s + q), vld1q_f32(s + src_stride + q));
                const float32x4x2_t ce = vtrnq_f32(vld1q_f32(s + 2 * src_stride + q),
                                                   vld1q_f32(s + 3 * src_stride + q));
                vst1q_f32(d + q * dst_stride,
                          vcombine_f32(vget_low_f32(ab.val[0]), vget_low_f32(ce.val[0])));
                vst1q_f32(d + (q + 1) * dst_stride,
                          vcombine_f32(vget_low_f32(ab.val[1]), vget_low_f32(ce.val[1])));
                vst1q_f32(d + (q + 2) * dst_stride,
                          vcombine_f32(vget_high_f32(ab.val[0]), vget_high_f32(ce.val[0])));
                vst1q_f32(d + (q + 3) * dst_stride,
                          vcombine_f32(vget_high_f32(ab.val[1]), vget_high_f32(ce.val[1])));
#endif
            }
            for (; q < cols; q++) {
                for (int64_t r = 0; r < 4; r++) d[q * dst_stride + r] = s[r * src_stride + q];
            }
        }
    }
#endif
    for (int64_t r = r0; r < rows; r++) {
        for (int64_t q = 0; q < cols; q++) dst[q * dst_stride + r] = src[r * src_stride + q * src_step];
    }
}

static inline void cconv_transpose_f64(const double *src, ptrdiff_t src_stride,
                                       ptrdiff_t src_step, double *dst, ptrdiff_t dst_stride,
                                       int64_t rows, int64_t cols)
{
    int64_t r0 = 0;
#if defined(CCONV_TRANSPOSE_SSE)
    if (src_step == 1) {
        for (; r0 + 2 <= rows; r0 += 2) {
            const double *s = src + r0 * src_stride;
            double *d = dst + r0;
            int64_t q = 0;
            for (; q + 2 <= cols; q += 2) {
                const __m128d a = _mm_loadu_pd(s + q), b = _mm_loadu_pd(s + src_stride + q);
                _mm_storeu_pd(d + q * dst_stride, _mm_unpacklo_pd(a, b));
                _mm_storeu_pd(d + (q + 1) * dst_stride, _mm_unpackhi_pd(a, b));
            }
            for (; q < cols; q++) {
                d[q * dst_stride] = s[q];
                d[q * dst_stride + 1] = s[src_stride + q];
            }
        }
    }
#endif
    for (int64_t r = r0; r < rows; r++) {
        for (int64_t q = 0; q < cols; q++) dst[q * dst_stride + r] = src[r * src_stride + q * src_step];
    }
}

#endif
