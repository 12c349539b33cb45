/*
 * The output stage of a convolution, written once in portable C and compiled by each
 * instruction-set folder with its own flags (the compiler vectorises it with that set's vectors):
 *   out[i] = clamp(leaky(src[i] + residual[i]), lo, hi)
 * where leaky(x) = x < 0 ? x * slope : x.  The driver runs it on each tile right after the
 * micro-kernel wrote it, while the tile is in L1, so conv + bias + residual + activation is one
 * pass over the output.  NaN passes through every step (each comparison with NaN is false), as
 * in PyTorch.  Needs EP_T (element type) and EP_NAME.
 */
static void EP_NAME(EP_T *out, const EP_T *src, const EP_T *CCONV_RESTRICT residual,
                    size_t n, EP_T slope, EP_T lo, EP_T hi)
{
    /* src may be out itself (the tile in place), so neither is restrict. */
    if (residual) {
        for (size_t i = 0; i < n; i++) {
            EP_T x = src[i] + residual[i];
            x = x < (EP_T)0 ? x * slope : x;
            x = x < lo ? lo : x;
            out[i] = x > hi ? hi : x;
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            EP_T x = src[i];
            x = x < (EP_T)0 ? x * slope : x;
            x = x < lo ? lo : x;
            out[i] = x > hi ? hi : x;
        }
    }
}
