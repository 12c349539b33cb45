/*
 * Portable channels-last kernels (see conv2d_kernels.h), instantiated by conv2d_generic.c for
 * each type: CL_MR positions x CL_NR consecutive channels, plain C arrays with unit-stride inner
 * loops over the channels so the compiler vectorises them with the baseline instruction set.
 * Needs: UK_T, CL_MR, CL_NR, CL_NAME (dense), DWC_NAME (depthwise), DWC3_NAME(sw) (depthwise,
 * 3 kernel columns, column stride sw).
 */
static void CL_NAME(size_t channels, size_t taps, const UK_T *CCONV_RESTRICT input,
                    const ptrdiff_t *CCONV_RESTRICT pos_offsets,
                    const ptrdiff_t *CCONV_RESTRICT tap_offsets,
                    const UK_T *CCONV_RESTRICT weights, const UK_T *CCONV_RESTRICT bias,
                    UK_T *CCONV_RESTRICT output, const ptrdiff_t *CCONV_RESTRICT out_offsets)
{
    UK_T acc[CL_MR][CL_NR];
    for (size_t m = 0; m < CL_MR; m++) {
        for (size_t k = 0; k < CL_NR; k++) acc[m][k] = bias ? bias[k] : (UK_T)0;
    }
    const UK_T *CCONV_RESTRICT w = weights;
    for (size_t t = 0; t < taps; t++) {
        for (size_t c = 0; c < channels; c++, w += CL_NR) {
            const ptrdiff_t at = tap_offsets[t] + (ptrdiff_t)c;
            for (size_t m = 0; m < CL_MR; m++) {
                const UK_T x = input[pos_offsets[m] + at];
                for (size_t k = 0; k < CL_NR; k++) acc[m][k] += w[k] * x;
            }
        }
    }
    for (size_t m = 0; m < CL_MR; m++) {
        for (size_t k = 0; k < CL_NR; k++) output[out_offsets[m] + (ptrdiff_t)k] = acc[m][k];
    }
}

static void DWC_NAME(size_t taps, const UK_T *CCONV_RESTRICT input,
                     const ptrdiff_t *CCONV_RESTRICT pos_offsets,
                     const ptrdiff_t *CCONV_RESTRICT tap_offsets,
                     const UK_T *CCONV_RESTRICT weights, const UK_T *CCONV_RESTRICT bias,
                     UK_T *CCONV_RESTRICT output, const ptrdiff_t *CCONV_RESTRICT out_offsets)
{
    UK_T acc[CL_MR][CL_NR];
    for (size_t m = 0; m < CL_MR; m++) {
        for (size_t k = 0; k < CL_NR; k++) acc[m][k] = bias ? bias[k] : (UK_T)0;
    }
    for (size_t t = 0; t < taps; t++) {
        const UK_T *CCONV_RESTRICT w = weights + t * CL_NR;
        for (size_t m = 0; m < CL_MR; m++) {
            const UK_T *CCONV_RESTRICT x = input + pos_offsets[m] + tap_offsets[t];
            for (size_t k = 0; k < CL_NR; k++) acc[m][k] += w[k] * x[k];
        }
    }
    for (size_t m = 0; m < CL_MR; m++) {
        for (size_t k = 0; k < CL_NR; k++) output[out_offsets[m] + (ptrdiff_t)k] = acc[m][k];
    }
}

/* The 3-column depthwise kernels: each input column read once per kernel row, for the positions
 * it reaches. */
#define CL_DEFINE_DWC3(SW)                                                                         \
    static void DWC3_NAME(SW)(size_t rows, const UK_T *CCONV_RESTRICT input, ptrdiff_t col_stride, \
                              const ptrdiff_t *CCONV_RESTRICT row_offsets,                         \
                              const UK_T *CCONV_RESTRICT weights, const UK_T *CCONV_RESTRICT bias, \
                              UK_T *CCONV_RESTRICT output,                                         \
                              const ptrdiff_t *CCONV_RESTRICT out_offsets)                         \
    {                                                                                              \
        UK_T acc[CL_MR][CL_NR];                                                                    \
        for (size_t m = 0; m < CL_MR; m++) {                                                       \
            for (size_t k = 0; k < CL_NR; k++) acc[m][k] = bias ? bias[k] : (UK_T)0;               \
        }                                                                                          \
        for (size_t kh = 0; kh < rows; kh++) {                                                     \
            const UK_T *CCONV_RESTRICT row = input + row_offsets[kh];                              \
            const UK_T *CCONV_RESTRICT w = weights + kh * 3 * CL_NR;                               \
            for (int j = 0; j < (CL_MR - 1) * SW + 3; j++) {                                       \
                const UK_T *CCONV_RESTRICT x = row + j * col_stride;                               \
                for (int kw = 0; kw < 3; kw++) {                                                   \
                    if (j - kw >= 0 && (j - kw) % SW == 0 && (j - kw) / SW < CL_MR) {              \
                        UK_T *a = acc[(j - kw) / SW];                                              \
                        for (size_t k = 0; k < CL_NR; k++) a[k] += w[kw * CL_NR + k] * x[k];       \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
        for (size_t m = 0; m < CL_MR; m++) {                                                       \
            for (size_t k = 0; k < CL_NR; k++) output[out_offsets[m] + (ptrdiff_t)k] = acc[m][k];  \
        }                                                                                          \
    }
CL_DEFINE_DWC3(1)
CL_DEFINE_DWC3(2)
#undef CL_DEFINE_DWC3
