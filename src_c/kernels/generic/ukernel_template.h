/*
 * Portable conv2d micro-kernel, instantiated by conv2d_generic.c for each (type, MR, NR).
 * Plain C with fixed-size accumulator arrays and unit-stride inner loops over NR, so the compiler
 * keeps the tile in vector registers and vectorises the v loop with the baseline instruction set.
 * Needs: UK_T (element type), UK_MR, UK_NR, UK_NAME.
 */
static void UK_NAME(size_t channels, size_t taps, const UK_T *CCONV_RESTRICT input,
                    size_t channel_stride, const ptrdiff_t *CCONV_RESTRICT tap_offsets,
                    const UK_T *CCONV_RESTRICT weights, size_t weight_stride,
                    const UK_T *CCONV_RESTRICT bias, UK_T *CCONV_RESTRICT output,
                    size_t output_stride)
{
    UK_T acc[UK_MR][UK_NR];
    for (size_t m = 0; m < UK_MR; m++) {
        const UK_T start = bias ? bias[m] : (UK_T)0;
        for (size_t v = 0; v < UK_NR; v++) acc[m][v] = start;
    }
    for (size_t c = 0; c < channels; c++) {
        const UK_T *CCONV_RESTRICT in_c = input + c * channel_stride;
        const UK_T *CCONV_RESTRICT w_c = weights + c * taps;
        for (size_t t = 0; t < taps; t++) {
            const UK_T *CCONV_RESTRICT x = in_c + tap_offsets[t];
            for (size_t m = 0; m < UK_MR; m++) {
                const UK_T w = w_c[m * weight_stride + t];
                for (size_t v = 0; v < UK_NR; v++) acc[m][v] += w * x[v];
            }
        }
    }
    for (size_t m = 0; m < UK_MR; m++) {
        for (size_t v = 0; v < UK_NR; v++) output[m * output_stride + v] = acc[m][v];
    }
}
