/*
 * The inner loops of max and average pooling (pool2d_forward_template.h): passes over a run of
 * outputs o[0 .. n) of one output row, each reading one kernel tap per output at a constant
 * stride (or, fused, the 2 or 3 taps of one kernel row), written so that the C compiler
 * vectorises them.  Included by pool2d_forward_template.h, inside its PF_T / PF_CODE / PF_FN / R
 * definitions.
 */
/* o[k] = max(o[k], src[k*step]) for k < n, a NaN tap winning (and staying) as in PyTorch.  The
 * comparisons are combined with | rather than || so that the loop has no branch to vectorise. */
static void PF_FN(max_pass_)(PF_T *R o, const PF_T *R src, int64_t n, int64_t step)
{
    if (step == 1) {
        for (int64_t k = 0; k < n; k++) {
            const PF_T v = src[k], m = o[k];
            o[k] = ((v > m) | (v != v)) ? v : m;
        }
    } else if (step == 2) {
        for (int64_t k = 0; k < n; k++) {
            const PF_T v = src[2 * k], m = o[k];
            o[k] = ((v > m) | (v != v)) ? v : m;
        }
    } else {
        for (int64_t k = 0; k < n; k++) {
            const PF_T v = src[k * step], m = o[k];
            o[k] = ((v > m) | (v != v)) ? v : m;
        }
    }
}

/* max_pass_ that also records where each new maximum came from: flat index first + k*index_step
 * of the input plane. */
#define PF_MAX_INDEX_LOOP(read, index_step)                                                        \
    for (int64_t k = 0; k < n; k++) {                                                          \
        const PF_T v = (read), m = o[k];                                                       \
        const int take = (v > m) | (v != v);                                                   \
        o[k] = take ? v : m;                                                                   \
        idx[k] = take ? first + k * (index_step) : idx[k];                                     \
    }

static void PF_FN(max_index_pass_)(PF_T *R o, int64_t *R idx, const PF_T *R src, int64_t n,
                                   int64_t step, int64_t first, int64_t index_step)
{
    /* The common strides spelled as constants, so that the compiler vectorises them. */
    if (step == 1 && index_step == 1) {
        PF_MAX_INDEX_LOOP(src[k], 1)
    } else if (step == 2 && index_step == 2) {
        PF_MAX_INDEX_LOOP(src[2 * k], 2)
    } else {
        PF_MAX_INDEX_LOOP(src[k * step], index_step)
    }
}
#undef PF_MAX_INDEX_LOOP

/* The vectorising form of max_index_pass_: the new maximum's pass number `pass` (PF_CODE, as
 * wide as PF_T so that one comparison mask selects both) instead of its flat index, which the
 * caller computes once per output from the pass's base. */
static void PF_FN(max_code_pass_)(PF_T *R o, PF_CODE *R code, const PF_T *R src, int64_t n,
                                  int64_t step, PF_CODE pass)
{
    if (step == 1) {
        for (int64_t k = 0; k < n; k++) {
            const PF_T v = src[k], m = o[k];
            const int take = (v > m) | (v != v);
            o[k] = take ? v : m;
            code[k] = take ? pass : code[k];
        }
    } else if (step == 2) {
        for (int64_t k = 0; k < n; k++) {
            const PF_T v = src[2 * k], m = o[k];
            const int take = (v > m) | (v != v);
            o[k] = take ? v : m;
            code[k] = take ? pass : code[k];
        }
    } else {
        for (int64_t k = 0; k < n; k++) {
            const PF_T v = src[k * step], m = o[k];
            const int take = (v > m) | (v != v);
            o[k] = take ? v : m;
            code[k] = take ? pass : code[k];
        }
    }
}

/* The kernel columns of a 2- or 3-wide kernel in one pass (a, b, d: unit-stride sources of
 * columns 0, 1, 2; d unused for 2), for the output columns where all of them lie inside the
 * input: each output still meets its taps in column order, so this computes exactly what one
 * pass per column does, with a third or half of the loads and stores of the output row. */
#define PF_MAX_STEP(v)                                                                         \
    do {                                                                                       \
        const PF_T v_ = (v);                                                                   \
        m = ((v_ > m) | (v_ != v_)) ? v_ : m;                                                  \
    } while (0)
#define PF_CODE_STEP(v, pass)                                                                  \
    do {                                                                                       \
        const PF_T v_ = (v);                                                                   \
        const int t_ = (v_ > m) | (v_ != v_);                                                  \
        m = t_ ? v_ : m;                                                                       \
        cd = t_ ? (PF_CODE)(pass) : cd;                                                        \
    } while (0)

static void PF_FN(max_fused_)(PF_T *R o, const PF_T *R a, const PF_T *R b, const PF_T *R d,
                              int64_t n)
{
    if (d) {
        for (int64_t k = 0; k < n; k++) {
            PF_T m = o[k];
            PF_MAX_STEP(a[k]);
            PF_MAX_STEP(b[k]);
            PF_MAX_STEP(d[k]);
            o[k] = m;
        }
    } else {
        for (int64_t k = 0; k < n; k++) {
            PF_T m = o[k];
            PF_MAX_STEP(a[k]);
            PF_MAX_STEP(b[k]);
            o[k] = m;
        }
    }
}

static void PF_FN(code_fused_)(PF_T *R o, PF_CODE *R code, const PF_T *R a, const PF_T *R b,
                               const PF_T *R d, int64_t n, PF_CODE pass)
{
    if (d) {
        for (int64_t k = 0; k < n; k++) {
            PF_T m = o[k];
            PF_CODE cd = code[k];
            PF_CODE_STEP(a[k], pass);
            PF_CODE_STEP(b[k], pass + 1);
            PF_CODE_STEP(d[k], pass + 2);
            o[k] = m;
            code[k] = cd;
        }
    } else {
        for (int64_t k = 0; k < n; k++) {
            PF_T m = o[k];
            PF_CODE cd = code[k];
            PF_CODE_STEP(a[k], pass);
            PF_CODE_STEP(b[k], pass + 1);
            o[k] = m;
            code[k] = cd;
        }
    }
}
#undef PF_MAX_STEP
#undef PF_CODE_STEP

/* The sums in column order: ((o + a) + b) + d, as one pass per column adds them. */
static void PF_FN(sum_fused_)(PF_T *R o, const PF_T *R a, const PF_T *R b, const PF_T *R d,
                              int64_t n)
{
    if (d) {
        for (int64_t k = 0; k < n; k++) o[k] = ((o[k] + a[k]) + b[k]) + d[k];
    } else {
        for (int64_t k = 0; k < n; k++) o[k] = (o[k] + a[k]) + b[k];
    }
}

/* o[k] += src[k*step] for k < n. */
static void PF_FN(sum_pass_)(PF_T *R o, const PF_T *R src, int64_t n, int64_t step)
{
    if (step == 1) {
        for (int64_t k = 0; k < n; k++) o[k] += src[k];
    } else if (step == 2) {
        for (int64_t k = 0; k < n; k++) o[k] += src[2 * k];
    } else {
        for (int64_t k = 0; k < n; k++) o[k] += src[k * step];
    }
}
