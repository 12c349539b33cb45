/*
 * What the channels-last loops of windowed and adaptive pooling share: one output pixel's
 * window, and its maxima over a run of its channels, which are contiguous in the input (channel
 * stride 1).  Each tap of the window is a vector of channels, so the loops run along the
 * channels and the compiler vectorises them with the baseline instruction set.  (Their sums
 * differ in order, so each has its own: pool2d_forward_cl_template.h,
 * adaptive_pool2d_cl_template.h.)
 *
 * Every channel meets the window's taps in row-major order, as in the planar loops
 * (pool2d_forward_template.h, adaptive_pool2d_template.h): the same maxima, the same
 * tie-breaking for indices, the same sums, bit for bit.
 *
 * Instantiated once per element type, inside the includer's definitions: CW_T (element type),
 * CW_CODE (a signed integer as wide as CW_T), CW_FN(name) (a name with the type's suffix), R
 * (restrict) and CW_RUN (channels per run of maxima).
 * Included by pool2d_forward_template.h and adaptive_pool2d_template.h.
 */

/* The taps of one output pixel's window that lie inside the input: tap (a, b), a < rows,
 * b < cols, is the channel vector at first + a*row_step + b*col_step, and its flat index in the
 * input plane is flat0 + a*row_flat + b*col_flat.  rows and cols are >= 1. */
typedef struct CW_FN(cl_window_) {
    const CW_T *first;
    int64_t rows, cols, row_step, col_step;
    int64_t flat0, row_flat, col_flat;
} CW_FN(cl_window_);

/* Maxima.  Compilers do not keep a block of conditional maxima in registers (the NaN rule's
 * selects stay scalar there), so these run over a run of up to CW_RUN channels in memory (acc,
 * which stays in L1), one vectorised pass per CW_FUSE taps of the window in row-major order:
 * each pass loads and stores acc once for its taps, as the planar loop's fused passes do.
 * The NaN rule (a NaN tap wins and stays) is combined with | rather than || so that the loops
 * have no branch to vectorise. */
#define CW_FUSE 4
#define CW_MAX_STEP(v)                                                                         \
    do {                                                                                       \
        const CW_T v_ = (v);                                                                   \
        m = ((v_ > m) | (v_ != v_)) ? v_ : m;                                                  \
    } while (0)
#define CW_CODE_STEP(v, here)                                                                  \
    do {                                                                                       \
        const CW_T v_ = (v);                                                                   \
        const int t_ = (v_ > m) | (v_ != v_);                                                  \
        m = t_ ? v_ : m;                                                                       \
        k = t_ ? (here) : k;                                                                   \
    } while (0)

/* acc[i] = max(acc[i], s[0][i], .., s[taps-1][i]) for i < n, taps 1 to CW_FUSE. */
static void CW_FN(cl_max_pass_)(CW_T *R acc, const CW_T *const *s, int taps, int64_t n)
{
    const CW_T *R s0 = s[0];
    const CW_T *R s1 = s[taps > 1 ? 1 : 0];
    const CW_T *R s2 = s[taps > 2 ? 2 : 0];
    const CW_T *R s3 = s[taps > 3 ? 3 : 0];
    if (taps == 4) {
        for (int64_t i = 0; i < n; i++) {
            CW_T m = acc[i];
            CW_MAX_STEP(s0[i]);
            CW_MAX_STEP(s1[i]);
            CW_MAX_STEP(s2[i]);
            CW_MAX_STEP(s3[i]);
            acc[i] = m;
        }
    } else if (taps == 3) {
        for (int64_t i = 0; i < n; i++) {
            CW_T m = acc[i];
            CW_MAX_STEP(s0[i]);
            CW_MAX_STEP(s1[i]);
            CW_MAX_STEP(s2[i]);
            acc[i] = m;
        }
    } else if (taps == 2) {
        for (int64_t i = 0; i < n; i++) {
            CW_T m = acc[i];
            CW_MAX_STEP(s0[i]);
            CW_MAX_STEP(s1[i]);
            acc[i] = m;
        }
    } else {
        for (int64_t i = 0; i < n; i++) {
            CW_T m = acc[i];
            CW_MAX_STEP(s0[i]);
            acc[i] = m;
        }
    }
}

/* The same, and where each maximum came from: code[i] = here[t] of the tap that won (CW_CODE,
 * as wide as CW_T, so that one comparison mask selects both). */
static void CW_FN(cl_code_pass_)(CW_T *R acc, CW_CODE *R code, const CW_T *const *s,
                                 const CW_CODE *here, int taps, int64_t n)
{
    const CW_T *R s0 = s[0];
    const CW_T *R s1 = s[taps > 1 ? 1 : 0];
    const CW_T *R s2 = s[taps > 2 ? 2 : 0];
    const CW_T *R s3 = s[taps > 3 ? 3 : 0];
    const CW_CODE h0 = here[0], h1 = here[taps > 1 ? 1 : 0];
    const CW_CODE h2 = here[taps > 2 ? 2 : 0], h3 = here[taps > 3 ? 3 : 0];
    if (taps == 4) {
        for (int64_t i = 0; i < n; i++) {
            CW_T m = acc[i];
            CW_CODE k = code[i];
            CW_CODE_STEP(s0[i], h0);
            CW_CODE_STEP(s1[i], h1);
            CW_CODE_STEP(s2[i], h2);
            CW_CODE_STEP(s3[i], h3);
            acc[i] = m;
            code[i] = k;
        }
    } else if (taps == 3) {
        for (int64_t i = 0; i < n; i++) {
            CW_T m = acc[i];
            CW_CODE k = code[i];
            CW_CODE_STEP(s0[i], h0);
            CW_CODE_STEP(s1[i], h1);
            CW_CODE_STEP(s2[i], h2);
            acc[i] = m;
            code[i] = k;
        }
    } else if (taps == 2) {
        for (int64_t i = 0; i < n; i++) {
            CW_T m = acc[i];
            CW_CODE k = code[i];
            CW_CODE_STEP(s0[i], h0);
            CW_CODE_STEP(s1[i], h1);
            acc[i] = m;
            code[i] = k;
        }
    } else {
        for (int64_t i = 0; i < n; i++) {
            CW_T m = acc[i];
            CW_CODE k = code[i];
            CW_CODE_STEP(s0[i], h0);
            acc[i] = m;
            code[i] = k;
        }
    }
}

/* acc[0 .. n) = the maxima of channels c0 .. c0+n (n <= CW_RUN) over the window; with code,
 * also the flat index of each (code[i] starts at the window's first tap: PyTorch's index when
 * every input is -inf). */
static void CW_FN(cl_max_)(const CW_FN(cl_window_) *w, int64_t c0, int64_t n, CW_T *R acc,
                           CW_CODE *R code)
{
    for (int64_t i = 0; i < n; i++) acc[i] = -(CW_T)INFINITY;
    if (code) {
        for (int64_t i = 0; i < n; i++) code[i] = (CW_CODE)w->flat0;
    }
    const CW_T *taps[CW_FUSE];
    CW_CODE here[CW_FUSE];
    int pending = 0;
    for (int64_t a = 0; a < w->rows; a++) {
        const CW_T *row = w->first + c0 + a * w->row_step;
        const int64_t row_flat = w->flat0 + a * w->row_flat;
        for (int64_t b = 0; b < w->cols; b++) {
            taps[pending] = row + b * w->col_step;
            here[pending] = (CW_CODE)(row_flat + b * w->col_flat);
            if (++pending < CW_FUSE) continue;
            if (code)
                CW_FN(cl_code_pass_)(acc, code, taps, here, pending, n);
            else
                CW_FN(cl_max_pass_)(acc, taps, pending, n);
            pending = 0;
        }
    }
    if (pending && code) CW_FN(cl_code_pass_)(acc, code, taps, here, pending, n);
    if (pending && !code) CW_FN(cl_max_pass_)(acc, taps, pending, n);
}

/* cl_max_ with 64-bit indices, for float32 planes of 2**31 pixels or more (whatever the compiler
 * makes of mixing widths). */
static void CW_FN(cl_max_wide_)(const CW_FN(cl_window_) *w, int64_t c0, int64_t n, CW_T *R acc,
                                int64_t *R where)
{
    for (int64_t i = 0; i < n; i++) {
        acc[i] = -(CW_T)INFINITY;
        where[i] = w->flat0;
    }
    for (int64_t a = 0; a < w->rows; a++) {
        const CW_T *row = w->first + c0 + a * w->row_step;
        for (int64_t b = 0; b < w->cols; b++) {
            const CW_T *R s = row + b * w->col_step;
            const int64_t here = w->flat0 + a * w->row_flat + b * w->col_flat;
            for (int64_t i = 0; i < n; i++) {
                const CW_T v = s[i];
                const int take = (v > acc[i]) | (v != v);
                acc[i] = take ? v : acc[i];
                where[i] = take ? here : where[i];
            }
        }
    }
}

#undef CW_FUSE
#undef CW_MAX_STEP
#undef CW_CODE_STEP
