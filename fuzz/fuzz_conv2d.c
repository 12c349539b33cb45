/*
 * libFuzzer target for the cconv C core (built and run by fuzz/run_fuzz.sh).
 *
 * Each input is decoded into one conv2d call.  The first byte picks the mode:
 *   even: a bounded configuration (every size small, so one run takes microseconds) that may be
 *         valid or not.  When cconv_conv2d_check accepts it, the fast path (on the instruction-set
 *         path the bytes pick) and the reference kernel run on exactly-sized heap buffers, in
 *         float32 and float64, and must agree within the error bound of a sum of products; the
 *         input is laid out contiguously, channels-last, with padded rows or with reversed
 *         columns (read through input_strides, with NaN in every gap), an output stage
 *         (activation, residual), a border mode or constant, and (with the channels-last
 *         input) a channels-last output are drawn too.  When
 *         the check refuses it, every entry point must return the same error status.
 *   odd:  every field of the parameter struct is raw 64-bit data from the input; the entry
 *         points must return a status without touching memory (NULL arrays are passed unless the
 *         check accepts a small configuration, which then runs as above).
 * Every accepted bounded configuration also runs conv2d's two gradients (the weight gradient,
 * and the input gradient as a transposed convolution), fast against reference.
 * Any disagreement calls abort(), which libFuzzer reports as a crash; ASan and UBSan report
 * memory errors and undefined behaviour (overflowing size arithmetic included).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cconv.h"

typedef struct reader {
    const uint8_t *data;
    size_t size, pos;
} reader;

static uint64_t take(reader *r, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) {
        v = (v << 8) | (r->pos < r->size ? r->data[r->pos] : 0);
        r->pos++;
    }
    return v;
}

static int64_t take_range(reader *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(take(r, 1) % (uint64_t)(hi - lo + 1));
}

/* Mostly small values, sometimes one that probes overflow handling. */
static int64_t take_param(reader *r, int64_t lo, int64_t hi)
{
    const uint8_t kind = (uint8_t)take(r, 1);
    if (kind < 240) return take_range(r, lo, hi);
    static const int64_t edges[] = {0, -1, INT64_MAX, INT64_MIN, (int64_t)1 << 62,
                                    (int64_t)1 << 31, ((int64_t)1 << 32) + 1, 1000000000000};
    return edges[kind % (sizeof(edges) / sizeof(edges[0]))];
}

#define FAIL(...)                                                                               \
    do {                                                                                        \
        fprintf(stderr, "fuzz_conv2d: " __VA_ARGS__);                                           \
        fprintf(stderr, "\n");                                                                  \
        abort();                                                                                \
    } while (0)

static void print_params(const cconv_conv2d_params *p)
{
    fprintf(stderr,
            "N=%lld C=%lld H=%lld W=%lld O=%lld k=%lldx%lld stride=%lld,%lld "
            "pad=%lld,%lld,%lld,%lld dil=%lld,%lld groups=%lld out=%lldx%lld simd=%d\n",
            (long long)p->batch, (long long)p->in_channels, (long long)p->in_height,
            (long long)p->in_width, (long long)p->out_channels, (long long)p->kernel_height,
            (long long)p->kernel_width, (long long)p->stride_h, (long long)p->stride_w,
            (long long)p->pad_top, (long long)p->pad_bottom, (long long)p->pad_left,
            (long long)p->pad_right, (long long)p->dilation_h, (long long)p->dilation_w,
            (long long)p->groups, (long long)p->out_height, (long long)p->out_width, p->run.simd);
}

/* The biggest array a run may allocate (elements), so each execution stays fast. */
#define MAX_ELEMENTS ((int64_t)1 << 16)

static int small(int64_t a, int64_t b, int64_t c, int64_t d, int64_t *n)
{
    if (a < 0 || b < 0 || c < 0 || d < 0) return 0;
    const int64_t limit = MAX_ELEMENTS;
    int64_t v = 1;
    const int64_t f[4] = {a, b, c, d};
    for (int i = 0; i < 4; i++) {
        if (f[i] != 0 && v > limit / f[i]) return 0;
        v *= f[i];
    }
    *n = v;
    return 1;
}

/* Input layouts: the C core reads the input through cconv_conv2d_params.input_strides. */
enum { LAYOUT_CONTIGUOUS, LAYOUT_REVERSED_COLUMNS, LAYOUT_CHANNELS_LAST, LAYOUT_PADDED_ROWS,
       LAYOUT_COUNT };

/* Element strides of the layout and the offset of element (0, 0, 0, 0) in a buffer of
 * *buffer_elements, for a non-empty (hence small) input; the contiguous layout passes no
 * strides to the core. */
static void layout_strides(const cconv_conv2d_params *p, int layout, int64_t strides[4],
                           int64_t *origin, int64_t *buffer_elements)
{
    const int64_t N = p->batch, C = p->in_channels, H = p->in_height, W = p->in_width;
    int64_t pitch = W;
    strides[3] = 1;
    *origin = 0;
    if (layout == LAYOUT_PADDED_ROWS) pitch = W + 3;
    strides[2] = pitch;
    strides[1] = H * pitch;
    strides[0] = C * H * pitch;
    if (layout == LAYOUT_CHANNELS_LAST) {
        strides[3] = C;
        strides[2] = W * C;
        strides[1] = 1;
        strides[0] = H * W * C;
    }
    if (layout == LAYOUT_REVERSED_COLUMNS && W > 0) {
        strides[3] = -1;
        *origin = W - 1;
    }
    *buffer_elements = N * C * H * pitch;
}

/* The Winograd path (3x3, stride 1, dilation 1 layers) with both tiles against the reference.
 * Its error is not bounded output by output (the transforms mix a whole input tile, so an
 * output whose own terms are all 0 can still get rounding from its neighbours'), so the bound
 * is the largest of the sum-of-|terms| bounds over the output. */
#define DEFINE_WINOGRAD(T, SUFFIX, TOL)                                                         \
    static void check_winograd_##SUFFIX(const cconv_conv2d_params *q, const T *x, const T *w,  \
                                        const T *b, const T *ref, const T *bound,             \
                                        int64_t n_out)                                         \
    {                                                                                           \
        double worst = 0.0;                                                                     \
        for (int64_t i = 0; i < n_out; i++)                                                     \
            if ((double)bound[i] > worst) worst = (double)bound[i];                             \
        T *got = malloc(sizeof(T) * (size_t)(n_out ? n_out : 1));                               \
        if (!got) FAIL("malloc");                                                               \
        for (int tile = 2; tile <= 4; tile += 2) {                                              \
            if (cconv_conv2d_winograd_check(q, tile) != CCONV_OK) break;                        \
            for (int64_t i = 0; i < n_out; i++) got[i] = (T)NAN;                                \
            const cconv_status s = cconv_conv2d_winograd_##SUFFIX(q, tile, x, w, b, got);       \
            if (s == CCONV_ERR_NO_MEMORY) continue;                                             \
            if (s != CCONV_OK) {                                                                \
                print_params(q);                                                                \
                FAIL("winograd F%d status %d for checked parameters", tile, s);                 \
            }                                                                                   \
            for (int64_t i = 0; i < n_out; i++) {                                               \
                const double err = fabs((double)got[i] - (double)ref[i]);                       \
                if (!(err <= (TOL) * worst + 1e-30)) {                                          \
                    print_params(q);                                                            \
                    FAIL(#T " winograd F%d output %lld: %.9g reference %.9g (bound %.9g)",      \
                         tile, (long long)i, (double)got[i], (double)ref[i], worst);            \
                }                                                                               \
            }                                                                                   \
            /* The weights transformed once (cconv.Conv2d's path): bitwise the same output. */  \
            const size_t u_elems = cconv_conv2d_winograd_weights_elems(q, tile, sizeof(T));     \
            T *u = u_elems ? malloc(sizeof(T) * u_elems) : NULL;                                \
            T *again = malloc(sizeof(T) * (size_t)(n_out ? n_out : 1));                         \
            int finite = 0;                                                                     \
            if (u && again &&                                                                   \
                cconv_conv2d_winograd_weights_##SUFFIX(q, tile, w, u, &finite) == CCONV_OK &&   \
                finite) {                                                                       \
                const cconv_status s2 =                                                         \
                    cconv_conv2d_winograd_given_##SUFFIX(q, tile, x, w, u, b, again);           \
                if (s2 != CCONV_OK && s2 != CCONV_ERR_NO_MEMORY) {                              \
                    print_params(q);                                                            \
                    FAIL("winograd F%d with given weights: status %d", tile, s2);               \
                }                                                                               \
                if (s2 == CCONV_OK && memcmp(again, got, sizeof(T) * (size_t)n_out) != 0) {     \
                    print_params(q);                                                            \
                    FAIL("winograd F%d with given weights differs from the plain call", tile);  \
                }                                                                               \
            }                                                                                   \
            free(u);                                                                            \
            free(again);                                                                        \
        }                                                                                       \
        free(got);                                                                              \
    }

DEFINE_WINOGRAD(float, f32, 1e-4)
DEFINE_WINOGRAD(double, f64, 1e-12)

/* Runs fast and reference in one element type and compares them; T is float or double. */
#define DEFINE_RUN(T, SUFFIX, TOL)                                                              \
    static void run_##SUFFIX(const cconv_conv2d_params *p, reader *r, int64_t n_in,             \
                             int64_t n_w, int64_t n_out, int use_bias, int layout, int stage)   \
    {                                                                                           \
        T *x = malloc(sizeof(T) * (size_t)(n_in ? n_in : 1));                                  \
        T *w = malloc(sizeof(T) * (size_t)(n_w ? n_w : 1));                                    \
        T *b = use_bias ? malloc(sizeof(T) * (size_t)(p->out_channels ? p->out_channels : 1))   \
                        : NULL;                                                                 \
        T *fast = malloc(sizeof(T) * (size_t)(n_out ? n_out : 1));                             \
        T *ref = malloc(sizeof(T) * (size_t)(n_out ? n_out : 1));                              \
        T *ax = malloc(sizeof(T) * (size_t)(n_in ? n_in : 1));                                 \
        T *aw = malloc(sizeof(T) * (size_t)(n_w ? n_w : 1));                                   \
        T *ab = use_bias ? malloc(sizeof(T) * (size_t)(p->out_channels ? p->out_channels : 1))  \
                         : NULL;                                                                \
        T *bound = malloc(sizeof(T) * (size_t)(n_out ? n_out : 1));                            \
        if (!x || !w || !fast || !ref || !ax || !aw || !bound || (use_bias && (!b || !ab)))     \
            FAIL("malloc");                                                                     \
        /* Small signed values from the input bytes (cycled): exact in both types. */          \
        for (int64_t i = 0; i < n_in; i++) {                                                    \
            x[i] = (T)((int)take(r, 1) - 128) / (T)16;                                         \
            ax[i] = (T)fabs((double)x[i]);                                                      \
        }                                                                                       \
        for (int64_t i = 0; i < n_w; i++) {                                                     \
            w[i] = (T)((int)take(r, 1) - 128) / (T)32;                                         \
            aw[i] = (T)fabs((double)w[i]);                                                      \
        }                                                                                       \
        for (int64_t i = 0; use_bias && i < p->out_channels; i++) {                             \
            b[i] = (T)((int)take(r, 1) - 128) / (T)8;                                          \
            ab[i] = (T)fabs((double)b[i]);                                                      \
        }                                                                                       \
        for (int64_t i = 0; i < n_out; i++) fast[i] = ref[i] = (T)NAN;                          \
        /* The same values in the chosen layout; gaps hold NaN, which must never be read. */    \
        cconv_conv2d_params q = *p;                                                             \
        int64_t strides[4], origin = 0, n_buf = 0;                                              \
        if (n_in > 0) layout_strides(p, layout, strides, &origin, &n_buf);                      \
        T *xs = malloc(sizeof(T) * (size_t)(n_buf ? n_buf : 1));                               \
        if (!xs) FAIL("malloc");                                                                \
        for (int64_t i = 0; i < n_buf; i++) xs[i] = (T)NAN;                                     \
        for (int64_t i = 0; i < n_in; i++) {                                                    \
            const int64_t wi = i % p->in_width, hi = i / p->in_width % p->in_height;            \
            const int64_t ci = i / (p->in_width * p->in_height) % p->in_channels;               \
            const int64_t ni = i / (p->in_width * p->in_height * p->in_channels);               \
            xs[origin + ni * strides[0] + ci * strides[1] + hi * strides[2] +                   \
               wi * strides[3]] = x[i];                                                         \
        }                                                                                       \
        q.input_strides = layout == LAYOUT_CONTIGUOUS ? NULL : strides;                         \
        /* The output stage: an activation (slopes <= 1, so the error bound still holds) and,  \
         * for odd stages, a residual; the bound adds |residual|. */                           \
        T *res = malloc(sizeof(T) * (size_t)(n_out ? n_out : 1));                              \
        T *ares = malloc(sizeof(T) * (size_t)(n_out ? n_out : 1));                             \
        if (!res || !ares) FAIL("malloc");                                                      \
        for (int64_t i = 0; i < n_out; i++) {                                                   \
            res[i] = (T)((int)take(r, 1) - 128) / (T)8;                                        \
            ares[i] = (T)fabs((double)res[i]);                                                  \
        }                                                                                       \
        cconv_conv2d_params pb = *p;                                                            \
        /* A channels-last output (odd stages with the channels-last input): fast, reference   \
         * and bound all write it so, and the residual is laid out as it is. */                \
        int64_t out_strides[4];                                                                 \
        if (layout == LAYOUT_CHANNELS_LAST && (stage & 2) && n_out > 0) {                       \
            out_strides[1] = 1;                                                                 \
            out_strides[3] = p->out_channels;                                                   \
            out_strides[2] = p->out_width * p->out_channels;                                    \
            out_strides[0] = p->out_height * p->out_width * p->out_channels;                    \
            q.output_strides = pb.output_strides = out_strides;                                 \
        }                                                                                       \
        pb.padding_value = fabs(p->padding_value);                                              \
        if (stage & 1) {                                                                        \
            q.residual = res;                                                                   \
            pb.residual = ares;                                                                 \
        }                                                                                       \
        q.activation = (cconv_activation)(stage >> 1);                                          \
        q.activation_alpha = q.activation == CCONV_ACTIVATION_CLAMP ? -1.0 : 0.25;              \
        q.activation_beta = 2.0;                                                                \
        cconv_status s_fast = cconv_conv2d_##SUFFIX(&q, xs + origin, w, b, fast);               \
        cconv_status s_ref = cconv_conv2d_ref_##SUFFIX(&q, xs + origin, w, b, ref);             \
        cconv_status s_bound = cconv_conv2d_ref_##SUFFIX(&pb, ax, aw, ab, bound);               \
        const int simd_ok = p->run.simd < 0 || cconv_simd_supported(p->run.simd);                  \
        if (!simd_ok) {                                                                         \
            if (s_fast != CCONV_ERR_UNSUPPORTED_SIMD) FAIL("unsupported simd gave %d", s_fast); \
        } else if (s_fast == CCONV_ERR_NO_MEMORY) {                                             \
            /* The driver refuses scratch bands over its limit: allowed, never wrong. */        \
        } else if (s_fast != CCONV_OK || s_ref != CCONV_OK || s_bound != CCONV_OK) {            \
            print_params(p);                                                                    \
            FAIL("checked params but status fast=%d ref=%d", s_fast, s_ref);                   \
        } else {                                                                                \
            for (int64_t i = 0; i < n_out; i++) {                                               \
                const double err = fabs((double)fast[i] - (double)ref[i]);                      \
                if (!(err <= (TOL) * (double)bound[i] + 1e-30)) {                               \
                    print_params(p);                                                            \
                    FAIL(#T " output %lld: fast %.9g reference %.9g (bound %.9g)",             \
                         (long long)i, (double)fast[i], (double)ref[i], (double)bound[i]);     \
                }                                                                               \
            }                                                                                   \
            /* Weights packed once (cconv_conv2d_pack_*): the same outputs, bit for bit. */   \
            cconv_conv2d_packed *pk = NULL;                                                     \
            const cconv_status s_pack = cconv_conv2d_pack_##SUFFIX(&q, w, b, &pk);             \
            if (s_pack != CCONV_OK && s_pack != CCONV_ERR_NO_MEMORY) FAIL("pack: %d", s_pack); \
            if (pk) {                                                                           \
                T *again = malloc(sizeof(T) * (size_t)(n_out ? n_out : 1));                    \
                if (!again) FAIL("malloc");                                                     \
                for (int64_t i = 0; i < n_out; i++) again[i] = (T)NAN;                          \
                cconv_conv2d_params qp = q;                                                     \
                qp.packed_weights = pk;                                                         \
                const cconv_status s_again =                                                    \
                    cconv_conv2d_##SUFFIX(&qp, xs + origin, w, b, again);                       \
                if (s_again != CCONV_OK && s_again != CCONV_ERR_NO_MEMORY)                      \
                    FAIL("packed call: %d", s_again);                                           \
                if (s_again == CCONV_OK &&                                                      \
                    memcmp(again, fast, sizeof(T) * (size_t)n_out) != 0) {                      \
                    print_params(p);                                                            \
                    FAIL(#T " packed weights changed the output");                              \
                }                                                                               \
                free(again);                                                                    \
                cconv_conv2d_packed_destroy(pk);                                                \
            }                                                                                   \
        }                                                                                       \
        if (simd_ok && s_ref == CCONV_OK && s_bound == CCONV_OK)                                \
            check_winograd_##SUFFIX(&q, xs + origin, w, b, ref, bound, n_out);                  \
        free(x);                                                                                \
        free(xs);                                                                               \
        free(res);                                                                              \
        free(ares);                                                                             \
        free(w);                                                                                \
        free(b);                                                                                \
        free(fast);                                                                             \
        free(ref);                                                                              \
        free(ax);                                                                               \
        free(aw);                                                                               \
        free(ab);                                                                               \
        free(bound);                                                                            \
    }

DEFINE_RUN(float, f32, 1e-5)
DEFINE_RUN(double, f64, 1e-13)

/* conv2d's two gradients for the same geometry: the weight gradient (input x, grad_output g)
 * and the input gradient (the transposed convolution of g with w), fast against reference. */
#define DEFINE_GRADIENTS(T, SUFFIX, TOL)                                                        \
    static void check_close_##SUFFIX(const char *what, const T *fast, const T *ref,            \
                                     const T *bound, int64_t n, const cconv_conv2d_params *p)  \
    {                                                                                           \
        for (int64_t i = 0; i < n; i++) {                                                       \
            if (!(fabs((double)fast[i] - (double)ref[i]) <= (TOL) * (double)bound[i] + 1e-30)) {\
                print_params(p);                                                                \
                FAIL("%s " #T " element %lld: fast %.9g reference %.9g (bound %.9g)", what,     \
                     (long long)i, (double)fast[i], (double)ref[i], (double)bound[i]);          \
            }                                                                                   \
        }                                                                                       \
    }                                                                                           \
    static void run_gradients_##SUFFIX(const cconv_conv2d_params *p, reader *r, int64_t n_in,  \
                                       int64_t n_w, int64_t n_out)                              \
    {                                                                                           \
        const size_t ni = (size_t)(n_in ? n_in : 1), nw = (size_t)(n_w ? n_w : 1);              \
        const size_t no = (size_t)(n_out ? n_out : 1);                                          \
        T *x = malloc(ni * sizeof(T)), *ax = malloc(ni * sizeof(T));                            \
        T *g = malloc(no * sizeof(T)), *ag = malloc(no * sizeof(T));                            \
        T *w = malloc(nw * sizeof(T)), *aw = malloc(nw * sizeof(T));                            \
        T *f = malloc((ni > nw ? ni : nw) * sizeof(T)), *e = malloc((ni > nw ? ni : nw) * sizeof(T)); \
        T *bd = malloc((ni > nw ? ni : nw) * sizeof(T));                                        \
        if (!x || !ax || !g || !ag || !w || !aw || !f || !e || !bd) FAIL("malloc");             \
        for (int64_t i = 0; i < n_in; i++) ax[i] = (T)fabs((double)(x[i] = (T)((int)take(r, 1) - 128) / (T)16)); \
        for (int64_t i = 0; i < n_out; i++) ag[i] = (T)fabs((double)(g[i] = (T)((int)take(r, 1) - 128) / (T)16)); \
        for (int64_t i = 0; i < n_w; i++) aw[i] = (T)fabs((double)(w[i] = (T)((int)take(r, 1) - 128) / (T)32)); \
        cconv_conv2d_weight_params wp;                                                          \
        memset(&wp, 0, sizeof(wp));                                                             \
        wp.batch = p->batch; wp.in_channels = p->in_channels;                                   \
        wp.in_height = p->in_height; wp.in_width = p->in_width;                                 \
        wp.out_channels = p->out_channels; wp.kernel_height = p->kernel_height;                 \
        wp.kernel_width = p->kernel_width; wp.stride_h = p->stride_h; wp.stride_w = p->stride_w; \
        wp.pad_top = p->pad_top; wp.pad_left = p->pad_left; wp.dilation_h = p->dilation_h;     \
        wp.dilation_w = p->dilation_w; wp.groups = p->groups;                                   \
        wp.out_height = p->out_height; wp.out_width = p->out_width; wp.run = p->run;           \
        cconv_status sf = cconv_conv2d_weight_##SUFFIX(&wp, x, g, f);                          \
        cconv_status sr = cconv_conv2d_weight_ref_##SUFFIX(&wp, x, g, e);                      \
        cconv_status sb = cconv_conv2d_weight_ref_##SUFFIX(&wp, ax, ag, bd);                   \
        /* Strides or padding near 2**62 that the forward check accepts may make the gradient's \
         * own index arithmetic overflow: a refusal by all three alike is the right answer. */ \
        const int refused = sf == CCONV_ERR_OVERFLOW && sr == sf && sb == sf;                  \
        if (sf != CCONV_ERR_NO_MEMORY && sf != CCONV_ERR_UNSUPPORTED_SIMD && !refused) {       \
            if (sf != CCONV_OK || sr != CCONV_OK || sb != CCONV_OK)                             \
                { print_params(p); FAIL("weight gradient status fast=%d ref=%d", sf, sr); }    \
            check_close_##SUFFIX("weight gradient", f, e, bd, n_w, p);                          \
        }                                                                                       \
        cconv_conv_transpose2d_params tp;                                                       \
        memset(&tp, 0, sizeof(tp));                                                             \
        tp.batch = p->batch; tp.in_channels = p->out_channels;                                  \
        tp.in_height = p->out_height; tp.in_width = p->out_width;                               \
        tp.out_channels = p->in_channels; tp.kernel_height = p->kernel_height;                  \
        tp.kernel_width = p->kernel_width; tp.stride_h = p->stride_h; tp.stride_w = p->stride_w; \
        tp.pad_top = p->pad_top; tp.pad_left = p->pad_left; tp.dilation_h = p->dilation_h;     \
        tp.dilation_w = p->dilation_w; tp.groups = p->groups;                                   \
        tp.out_height = p->in_height; tp.out_width = p->in_width; tp.run = p->run;             \
        sf = cconv_conv_transpose2d_##SUFFIX(&tp, g, w, NULL, f);                              \
        sr = cconv_conv_transpose2d_ref_##SUFFIX(&tp, g, w, NULL, e);                          \
        sb = cconv_conv_transpose2d_ref_##SUFFIX(&tp, ag, aw, NULL, bd);                       \
        if (sf != CCONV_ERR_NO_MEMORY && sf != CCONV_ERR_UNSUPPORTED_SIMD &&                  \
            !(sf == CCONV_ERR_OVERFLOW && sr == sf && sb == sf)) {                              \
            if (sf != CCONV_OK || sr != CCONV_OK || sb != CCONV_OK)                             \
                { print_params(p); FAIL("input gradient status fast=%d ref=%d", sf, sr); }     \
            check_close_##SUFFIX("input gradient", f, e, bd, n_in, p);                          \
        }                                                                                       \
        free(x); free(ax); free(g); free(ag); free(w); free(aw); free(f); free(e); free(bd);    \
    }

DEFINE_GRADIENTS(float, f32, 1e-5)
DEFINE_GRADIENTS(double, f64, 1e-13)

/* The check refused p: every entry point must refuse it with the same status, whatever the
 * pointers (NULL here, so touching memory would crash). */
static void expect_refused(const cconv_conv2d_params *p, cconv_status want)
{
    const cconv_status got[4] = {
        cconv_conv2d_f32(p, NULL, NULL, NULL, NULL), cconv_conv2d_f64(p, NULL, NULL, NULL, NULL),
        cconv_conv2d_ref_f32(p, NULL, NULL, NULL, NULL),
        cconv_conv2d_ref_f64(p, NULL, NULL, NULL, NULL)};
    for (int i = 0; i < 4; i++) {
        if (got[i] != want) {
            print_params(p);
            FAIL("entry point %d returned %d for parameters the check refused with %d", i,
                 got[i], want);
        }
    }
}

static void run_checked(cconv_conv2d_params *p, reader *r)
{
    const cconv_status check = cconv_conv2d_check(p);
    if (check != CCONV_OK) {
        if (check != CCONV_ERR_INVALID_ARGUMENT && check != CCONV_ERR_OVERFLOW)
            FAIL("check returned %d", check);
        expect_refused(p, check);
        return;
    }
    int64_t n_in, n_w, n_out;
    if (!small(p->batch, p->in_channels, p->in_height, p->in_width, &n_in) ||
        !small(p->out_channels, p->in_channels / p->groups, p->kernel_height, p->kernel_width,
               &n_w) ||
        !small(p->batch, p->out_channels, p->out_height, p->out_width, &n_out))
        return; /* valid but too big to run quickly */
    const int use_bias = (int)(take(r, 1) & 1);
    /* An empty input (some extent 0, the others possibly huge) stays contiguous: its strides
     * could overflow, and no element is read anyway. */
    const int layout = n_in > 0 ? (int)(take(r, 1) % LAYOUT_COUNT) : LAYOUT_CONTIGUOUS;
    /* Activation (0 .. CCONV_ACTIVATION_CLAMP) times 2, plus 1 for a residual. */
    const int stage = (int)(take(r, 1) % (2 * (CCONV_ACTIVATION_CLAMP + 1)));
    run_f32(p, r, n_in, n_w, n_out, use_bias, layout, stage);
    run_f64(p, r, n_in, n_w, n_out, use_bias, layout, stage);
    /* (the gradients have no border modes) */
    if (p->padding_mode == CCONV_PAD_ZEROS && p->padding_value == 0.0) {
        run_gradients_f32(p, r, n_in, n_w, n_out);
        run_gradients_f64(p, r, n_in, n_w, n_out);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader r = {data, size, 0};
    cconv_conv2d_params p;
    memset(&p, 0, sizeof(p));
    const uint8_t mode = (uint8_t)take(&r, 1);
    if (mode & 1) {
        int64_t *fields[] = {&p.batch, &p.in_channels, &p.in_height, &p.in_width,
                             &p.out_channels, &p.kernel_height, &p.kernel_width, &p.stride_h,
                             &p.stride_w, &p.pad_top, &p.pad_bottom, &p.pad_left, &p.pad_right,
                             &p.dilation_h, &p.dilation_w, &p.groups, &p.out_height,
                             &p.out_width};
        for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
            *fields[i] = (int64_t)take(&r, 8);
        (void)cconv_conv2d_output_size(p.in_height, p.kernel_height, p.stride_h, p.pad_top,
                                       p.pad_bottom, p.dilation_h);
    } else {
        p.groups = take_param(&r, 1, 4);
        /* Up to 24 filters per group: enough to reach the channels-last kernels. */
        const int64_t cg = take_range(&r, 0, 4), og = take_range(&r, 0, take(&r, 1) & 1 ? 24 : 4);
        p.in_channels = cg * (p.groups > 0 && p.groups < 5 ? p.groups : 1);
        p.out_channels = og * (p.groups > 0 && p.groups < 5 ? p.groups : 1);
        if (take(&r, 1) == 0xFF) p.in_channels += 1; /* groups that do not divide */
        p.batch = take_param(&r, 0, 3);
        p.in_height = take_param(&r, 0, 14);
        p.in_width = take_param(&r, 0, 20);
        p.kernel_height = take_param(&r, 1, 6);
        p.kernel_width = take_param(&r, 1, 6);
        p.stride_h = take_param(&r, 1, 5);
        p.stride_w = take_param(&r, 1, 5);
        p.dilation_h = take_param(&r, 1, 4);
        p.dilation_w = take_param(&r, 1, 4);
        p.pad_top = take_param(&r, 0, 7);
        p.pad_bottom = take_param(&r, 0, 7);
        p.pad_left = take_param(&r, 0, 7);
        p.pad_right = take_param(&r, 0, 7);
        /* The border: mostly zeros, else a mode (5 is out of range: refused), and a constant. */
        const uint8_t border = (uint8_t)take(&r, 1);
        p.padding_mode = (cconv_padding_mode)(border < 128 ? 0 : border % 6);
        p.padding_value = (border & 1) && border < 128 ? (double)((int)take(&r, 1) - 128) / 16
                                                       : 0.0;
        p.out_height = cconv_conv2d_output_size(p.in_height, p.kernel_height, p.stride_h,
                                                p.pad_top, p.pad_bottom, p.dilation_h);
        p.out_width = cconv_conv2d_output_size(p.in_width, p.kernel_width, p.stride_w,
                                               p.pad_left, p.pad_right, p.dilation_w);
        if (take(&r, 1) == 0xFE) p.out_width += 1; /* an out= of the wrong width */
    }
    p.run.threads = (int)take_range(&r, -1, 3);
    p.run.simd = (int)take_range(&r, -1, cconv_simd_count()); /* one past the table: refused */
    run_checked(&p, &r);
    return 0;
}
