/*
 * Register-blocked conv2d micro-kernel, written once over a tiny vector vocabulary and
 * instantiated by each instruction-set folder (kernels/<isa>/) with that folder's intrinsics.
 * This header holds no instruction-set code itself: the includer defines
 *   UK_T            element type (float or double)
 *   UK_V            vector type holding UK_VL elements
 *   UK_LOADU(p)     unaligned load of UK_VL elements
 *   UK_STOREU(p, v) unaligned store
 *   UK_SET1(x)      broadcast one element (compilers fold a broadcast from memory into the FMA)
 *   UK_FMA(a, b, c) a * b + c, fused
 *   UK_MR, UK_NV    tile: UK_MR output channels x UK_NV vectors of consecutive positions
 *   UK_NAME         function name, cconv_<type>_conv2d_<MR>x<NR>__<isa>
 * The contract is the one in conv2d_kernels.h: every output sums bias, then channels ascending,
 * then taps ascending, each step one fused multiply-add, so the result of an output never
 * depends on the tile it was computed in.
 *
 * The UK_MR x UK_NV accumulators stay in registers for the whole channel x tap loop; each step
 * loads UK_NV input vectors once and reuses each for UK_MR broadcast weights.
 */
#ifndef UK_UNROLL
/* Full unrolling of the constant-trip tile loops, so the accumulator arrays become registers. */
#if defined(__clang__)
#define UK_UNROLL _Pragma("unroll")
#elif defined(__GNUC__)
#define UK_UNROLL _Pragma("GCC unroll 16")
#else
#define UK_UNROLL
#endif
#endif

static void UK_NAME(size_t channels, size_t taps, const UK_T *CCONV_RESTRICT input,
                    size_t channel_stride, const ptrdiff_t *CCONV_RESTRICT tap_offsets,
                    const UK_T *CCONV_RESTRICT weights, size_t weight_stride,
                    const UK_T *CCONV_RESTRICT bias, UK_T *CCONV_RESTRICT output,
                    size_t output_stride)
{
    UK_V acc[UK_MR][UK_NV];
    UK_UNROLL for (int m = 0; m < UK_MR; m++) {
        const UK_V start = UK_SET1(bias ? bias[m] : (UK_T)0);
        UK_UNROLL for (int v = 0; v < UK_NV; v++) acc[m][v] = start;
    }
    for (size_t c = 0; c < channels; c++) {
        const UK_T *CCONV_RESTRICT in_c = input + c * channel_stride;
        const UK_T *CCONV_RESTRICT w_c = weights + c * taps;
        for (size_t t = 0; t < taps; t++) {
            const UK_T *CCONV_RESTRICT x = in_c + tap_offsets[t];
            UK_V xv[UK_NV];
            UK_UNROLL for (int v = 0; v < UK_NV; v++) xv[v] = UK_LOADU(x + v * UK_VL);
            UK_UNROLL for (int m = 0; m < UK_MR; m++) {
                const UK_V w = UK_SET1(w_c[(size_t)m * weight_stride + t]);
                UK_UNROLL for (int v = 0; v < UK_NV; v++) acc[m][v] = UK_FMA(w, xv[v], acc[m][v]);
            }
        }
    }
    UK_UNROLL for (int m = 0; m < UK_MR; m++) {
        UK_UNROLL for (int v = 0; v < UK_NV; v++) {
            UK_STOREU(output + (size_t)m * output_stride + v * UK_VL, acc[m][v]);
        }
    }
}
