/*
 * Register-blocked conv2d micro-kernel, written once over a tiny vector vocabulary and
 * instantiated by each instruction-set folder (kernels/<isa>/) with that folder's intrinsics.
 * This header holds no instruction-set code itself: before using UK_DEFINE the includer defines
 *   UK_T            element type (float or double)
 *   UK_V            vector type holding UK_VL elements
 *   UK_LOADU(p)     unaligned load of UK_VL elements
 *   UK_STOREU(p, v) unaligned store
 *   UK_SET1(x)      broadcast one element (compilers fold a broadcast from memory into the FMA)
 *   UK_FMA(a, b, c) a * b + c, fused
 * and UK_DEFINE(name, MR, NV) then defines one kernel: MR output channels x NV vectors of
 * consecutive positions (name: cconv_<type>_conv2d_<MR>x<NV*VL>__<isa>).
 *
 * The contract is the one in conv2d_kernels.h: every output sums bias, then channels ascending,
 * then taps ascending, each step one fused multiply-add, so the result of an output never depends
 * on the tile shape it was computed with.  The MR x NV accumulators stay in registers for the
 * whole channel x tap loop; each step loads NV input vectors once and reuses each for MR
 * broadcast weights.
 */
#ifndef CCONV_SIMD_UKERNEL_TEMPLATE_H
#define CCONV_SIMD_UKERNEL_TEMPLATE_H

/* Full unrolling of the constant-trip tile loops, so the accumulator arrays become registers. */
#if defined(__clang__)
#define UK_UNROLL _Pragma("unroll")
#elif defined(__GNUC__)
#define UK_UNROLL _Pragma("GCC unroll 16")
#else
#define UK_UNROLL
#endif

#define UK_DEFINE(name, MR, NV)                                                                    \
    static void name(size_t channels, size_t taps, const UK_T *CCONV_RESTRICT input,              \
                     size_t channel_stride, const ptrdiff_t *CCONV_RESTRICT tap_offsets,          \
                     const UK_T *CCONV_RESTRICT weights, size_t weight_stride,                    \
                     const UK_T *CCONV_RESTRICT bias, UK_T *CCONV_RESTRICT output,                \
                     size_t output_stride)                                                        \
    {                                                                                             \
        UK_V acc[MR][NV];                                                                         \
        UK_UNROLL for (int m = 0; m < MR; m++) {                                                  \
            const UK_V start = UK_SET1(bias ? bias[m] : (UK_T)0);                                 \
            UK_UNROLL for (int v = 0; v < NV; v++) acc[m][v] = start;                             \
        }                                                                                         \
        for (size_t c = 0; c < channels; c++) {                                                   \
            const UK_T *CCONV_RESTRICT in_c = input + c * channel_stride;                         \
            const UK_T *CCONV_RESTRICT w_c = weights + c * taps;                                  \
            for (size_t t = 0; t < taps; t++) {                                                   \
                const UK_T *CCONV_RESTRICT x = in_c + tap_offsets[t];                             \
                UK_V xv[NV];                                                                      \
                UK_UNROLL for (int v = 0; v < NV; v++) xv[v] = UK_LOADU(x + v * UK_VL);           \
                UK_UNROLL for (int m = 0; m < MR; m++) {                                          \
                    const UK_V w = UK_SET1(w_c[(size_t)m * weight_stride + t]);                   \
                    UK_UNROLL for (int v = 0; v < NV; v++)                                        \
                        acc[m][v] = UK_FMA(w, xv[v], acc[m][v]);                                  \
                }                                                                                 \
            }                                                                                     \
        }                                                                                         \
        UK_UNROLL for (int m = 0; m < MR; m++) {                                                  \
            UK_UNROLL for (int v = 0; v < NV; v++) {                                              \
                UK_STOREU(output + (size_t)m * output_stride + v * UK_VL, acc[m][v]);             \
            }                                                                                     \
        }                                                                                         \
    }

/* The single-filter multi-row kernel of conv2d_kernels.h: R output rows x NV vectors.  Input
 * row i (0 <= i < R + kernel_height - 1) is loaded once per column tap and feeds output rows
 * r = i - kh for kh < kernel_height (the r loop is unrolled, so the accumulators stay in
 * registers; the tests on i - r are the only branches, the same pattern every call).  For each
 * output the visiting order is kh ascending (i grows), then kw ascending: taps ascending. */
#define UK_DEFINE_ROWS(name, R, NV)                                                                \
    static void name(size_t kernel_height, size_t kernel_width,                                   \
                     const UK_T *CCONV_RESTRICT input, size_t row_stride,                         \
                     const ptrdiff_t *CCONV_RESTRICT col_offsets,                                 \
                     const UK_T *CCONV_RESTRICT weights, const UK_T *CCONV_RESTRICT bias,         \
                     UK_T *CCONV_RESTRICT output, size_t output_row_stride)                       \
    {                                                                                             \
        UK_V acc[R][NV];                                                                          \
        const UK_V start = UK_SET1(bias ? bias[0] : (UK_T)0);                                     \
        UK_UNROLL for (int r = 0; r < R; r++) {                                                   \
            UK_UNROLL for (int v = 0; v < NV; v++) acc[r][v] = start;                             \
        }                                                                                         \
        const ptrdiff_t in_rows = (ptrdiff_t)(R + kernel_height - 1);                             \
        const ptrdiff_t kh_count = (ptrdiff_t)kernel_height;                                      \
        for (ptrdiff_t i = 0; i < in_rows; i++) {                                                 \
            const UK_T *CCONV_RESTRICT row = input + (size_t)i * row_stride;                      \
            for (size_t kw = 0; kw < kernel_width; kw++) {                                        \
                const UK_T *CCONV_RESTRICT x = row + col_offsets[kw];                             \
                UK_V xv[NV];                                                                      \
                UK_UNROLL for (int v = 0; v < NV; v++) xv[v] = UK_LOADU(x + v * UK_VL);           \
                UK_UNROLL for (int r = 0; r < R; r++) {                                           \
                    if (i - r >= 0 && i - r < kh_count) {                                         \
                        const UK_V w = UK_SET1(weights[(size_t)(i - r) * kernel_width + kw]);     \
                        UK_UNROLL for (int v = 0; v < NV; v++)                                    \
                            acc[r][v] = UK_FMA(w, xv[v], acc[r][v]);                              \
                    }                                                                             \
                }                                                                                 \
            }                                                                                     \
        }                                                                                         \
        UK_UNROLL for (int r = 0; r < R; r++) {                                                   \
            UK_UNROLL for (int v = 0; v < NV; v++) {                                              \
                UK_STOREU(output + (size_t)r * output_row_stride + v * UK_VL, acc[r][v]);         \
            }                                                                                     \
        }                                                                                         \
    }

/* The channels-last kernels of conv2d_kernels.h: MR output positions x NV vectors of consecutive
 * output channels.  Dense: each step broadcasts one input channel of each position and
 * multiplies it into NV weight vectors (MR x NV FMAs per NV loads and MR broadcasts).  Taps
 * outside, channels inside: each tap reads MR runs of consecutive channels, which keeps the
 * input a tile touches in L1 however many channels there are. */
#define UK_DEFINE_CL(name, MR, NV)                                                                 \
    static void name(size_t channels, size_t taps, const UK_T *CCONV_RESTRICT input,              \
                     const ptrdiff_t *CCONV_RESTRICT pos_offsets,                                 \
                     const ptrdiff_t *CCONV_RESTRICT tap_offsets,                                 \
                     const UK_T *CCONV_RESTRICT weights, const UK_T *CCONV_RESTRICT bias,         \
                     UK_T *CCONV_RESTRICT output, const ptrdiff_t *CCONV_RESTRICT out_offsets)    \
    {                                                                                             \
        UK_V acc[MR][NV];                                                                         \
        const UK_T *CCONV_RESTRICT x[MR];                                                         \
        UK_UNROLL for (int v = 0; v < NV; v++) {                                                  \
            const UK_V start = bias ? UK_LOADU(bias + v * UK_VL) : UK_SET1((UK_T)0);              \
            UK_UNROLL for (int m = 0; m < MR; m++) acc[m][v] = start;                             \
        }                                                                                         \
        UK_UNROLL for (int m = 0; m < MR; m++) x[m] = input + pos_offsets[m];                     \
        const UK_T *CCONV_RESTRICT w = weights;                                                   \
        for (size_t t = 0; t < taps; t++) {                                                       \
            for (size_t c = 0; c < channels; c++, w += NV * UK_VL) {                              \
                const ptrdiff_t at = tap_offsets[t] + (ptrdiff_t)c;                               \
                UK_V wv[NV];                                                                      \
                UK_UNROLL for (int v = 0; v < NV; v++) wv[v] = UK_LOADU(w + v * UK_VL);           \
                UK_UNROLL for (int m = 0; m < MR; m++) {                                          \
                    const UK_V xb = UK_SET1(x[m][at]);                                            \
                    UK_UNROLL for (int v = 0; v < NV; v++)                                        \
                        acc[m][v] = UK_FMA(wv[v], xb, acc[m][v]);                                 \
                }                                                                                 \
            }                                                                                     \
        }                                                                                         \
        UK_UNROLL for (int m = 0; m < MR; m++) {                                                  \
            UK_UNROLL for (int v = 0; v < NV; v++)                                                \
                UK_STOREU(output + out_offsets[m] + v * UK_VL, acc[m][v]);                        \
        }                                                                                         \
    }

/* Depthwise channels-last: output channel k of a position sums input channel k of its taps, so
 * input and weights are both vectors over channels (bias, then taps ascending, as the planar
 * kernels sum a depthwise output). */
#define UK_DEFINE_DWC(name, MR, NV)                                                                \
    static void name(size_t taps, const UK_T *CCONV_RESTRICT input,                               \
                     const ptrdiff_t *CCONV_RESTRICT pos_offsets,                                 \
                     const ptrdiff_t *CCONV_RESTRICT tap_offsets,                                 \
                     const UK_T *CCONV_RESTRICT weights, const UK_T *CCONV_RESTRICT bias,         \
                     UK_T *CCONV_RESTRICT output, const ptrdiff_t *CCONV_RESTRICT out_offsets)    \
    {                                                                                             \
        UK_V acc[MR][NV];                                                                         \
        const UK_T *CCONV_RESTRICT x[MR];                                                         \
        UK_UNROLL for (int v = 0; v < NV; v++) {                                                  \
            const UK_V start = bias ? UK_LOADU(bias + v * UK_VL) : UK_SET1((UK_T)0);              \
            UK_UNROLL for (int m = 0; m < MR; m++) acc[m][v] = start;                             \
        }                                                                                         \
        UK_UNROLL for (int m = 0; m < MR; m++) x[m] = input + pos_offsets[m];                     \
        for (size_t t = 0; t < taps; t++) {                                                       \
            const UK_T *CCONV_RESTRICT w = weights + t * (NV * UK_VL);                            \
            const ptrdiff_t at = tap_offsets[t];                                                  \
            UK_V wv[NV];                                                                          \
            UK_UNROLL for (int v = 0; v < NV; v++) wv[v] = UK_LOADU(w + v * UK_VL);               \
            UK_UNROLL for (int m = 0; m < MR; m++) {                                              \
                UK_UNROLL for (int v = 0; v < NV; v++)                                            \
                    acc[m][v] = UK_FMA(wv[v], UK_LOADU(x[m] + at + v * UK_VL), acc[m][v]);        \
            }                                                                                     \
        }                                                                                         \
        UK_UNROLL for (int m = 0; m < MR; m++) {                                                  \
            UK_UNROLL for (int v = 0; v < NV; v++)                                                \
                UK_STOREU(output + out_offsets[m] + v * UK_VL, acc[m][v]);                        \
        }                                                                                         \
    }

/* Depthwise channels-last, 3 kernel columns, column stride SW (1 or 2), positions along a row:
 * position m reads input columns m*SW + kw.  Each input column is loaded once per kernel row and
 * feeds every position it reaches (3 with SW = 1, up to 2 with SW = 2), where the general
 * depthwise kernel loads it once per tap.  The sum order is the general kernel's (taps
 * ascending: kernel rows, then columns), so both give bitwise the same outputs. */
#define UK_DEFINE_DWC3(name, MR, NV, SW)                                                           \
    static void name(size_t rows, const UK_T *CCONV_RESTRICT input, ptrdiff_t col_stride,         \
                     const ptrdiff_t *CCONV_RESTRICT row_offsets,                                 \
                     const UK_T *CCONV_RESTRICT weights, const UK_T *CCONV_RESTRICT bias,         \
                     UK_T *CCONV_RESTRICT output, const ptrdiff_t *CCONV_RESTRICT out_offsets)    \
    {                                                                                             \
        UK_V acc[MR][NV];                                                                         \
        UK_UNROLL for (int v = 0; v < NV; v++) {                                                  \
            const UK_V start = bias ? UK_LOADU(bias + v * UK_VL) : UK_SET1((UK_T)0);              \
            UK_UNROLL for (int m = 0; m < MR; m++) acc[m][v] = start;                             \
        }                                                                                         \
        for (size_t kh = 0; kh < rows; kh++) {                                                    \
            const UK_T *CCONV_RESTRICT row = input + row_offsets[kh];                             \
            const UK_T *CCONV_RESTRICT w = weights + kh * 3 * (NV * UK_VL);                       \
            UK_V wv[3][NV];                                                                       \
            UK_UNROLL for (int kw = 0; kw < 3; kw++) {                                            \
                UK_UNROLL for (int v = 0; v < NV; v++)                                            \
                    wv[kw][v] = UK_LOADU(w + kw * (NV * UK_VL) + v * UK_VL);                      \
            }                                                                                     \
            UK_UNROLL for (int j = 0; j < (MR - 1) * SW + 3; j++) {                               \
                UK_V xv[NV];                                                                      \
                UK_UNROLL for (int v = 0; v < NV; v++)                                            \
                    xv[v] = UK_LOADU(row + j * col_stride + v * UK_VL);                           \
                UK_UNROLL for (int kw = 0; kw < 3; kw++) {                                        \
                    if (j - kw >= 0 && (j - kw) % SW == 0 && (j - kw) / SW < MR) {                \
                        UK_UNROLL for (int v = 0; v < NV; v++)                                    \
                            acc[(j - kw) / SW][v] =                                               \
                                UK_FMA(wv[kw][v], xv[v], acc[(j - kw) / SW][v]);                  \
                    }                                                                             \
                }                                                                                 \
            }                                                                                     \
        }                                                                                         \
        UK_UNROLL for (int m = 0; m < MR; m++) {                                                  \
            UK_UNROLL for (int v = 0; v < NV; v++)                                                \
                UK_STOREU(output + out_offsets[m] + v * UK_VL, acc[m][v]);                        \
        }                                                                                         \
    }

/* Table entry [NV-1] of a cconv_kernel_set channels-last array, and [SW-1][NV-1] of a dwc3 one. */
#define UK_CL_ENTRY(name, MR, NV) [NV - 1] = name,
#define UK_DWC3_ENTRY(name, MR, NV, SW) [SW - 1][NV - 1] = name,

/* Table entry [MR-1][NV-1] of a cconv_kernel_set ukernel array (C99 designated initializer). */
#define UK_ENTRY(name, MR, NV) [MR - 1][NV - 1] = name,

#endif
