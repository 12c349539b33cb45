/*
 * libFuzzer target for the pooling entry points of the cconv C core (built and run by
 * fuzz/run_fuzz.sh, like fuzz_conv2d.c).
 *
 * Each input is decoded into one pooling configuration.  The first byte picks the mode:
 *   even: small sizes and parameters that may be valid or not.  When cconv_pool2d_check accepts
 *         them, max pooling (with indices), average pooling, both gradients, and the adaptive
 *         pools to an output size the bytes pick, run on the fast path (instruction-set path and
 *         threads from the bytes) and on the reference kernels, on exactly-sized heap buffers,
 *         in float32 and float64, up to 15 channels.  The fast path's arrays (input, outputs,
 *         indices, gradients) are laid out as one of LAYOUTS says: contiguous, padded rows,
 *         reversed columns, channels-last (12 channels or more run the channels-last loops),
 *         channels-last with a gap channel, mixed (NaN in every gap); the reference runs on
 *         contiguous arrays.  Max values and indices must be identical, sums agree within
 *         rounding.  When the check refuses them, every windowed entry point must
 *         return that status without touching memory (NULL arrays are passed).
 *   odd:  every field is raw 64-bit data; the entry points must return a status without
 *         touching memory (NULL arrays) unless the check accepts a small configuration.
 * Any disagreement calls abort(); ASan and UBSan report memory errors and overflowing arithmetic.
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

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "fuzz_pool2d: " __VA_ARGS__);                                              \
        fprintf(stderr, "\n");                                                                     \
        abort();                                                                                   \
    } while (0)

/* The biggest array a run may allocate (elements). */
#define MAX_ELEMENTS ((int64_t)1 << 14)

static int64_t count4(int64_t a, int64_t b, int64_t c, int64_t d)
{
    if (a < 0 || b < 0 || c < 0 || d < 0) return -1;
    double n = (double)a * (double)b * (double)c * (double)d;
    return n > (double)MAX_ELEMENTS ? -1 : (int64_t)n;
}

/* Input values: small integers (ties), halves, NaN and infinities. */
static double value(reader *r)
{
    const uint8_t b = (uint8_t)take(r, 1);
    if (b == 0xFF) return NAN;
    if (b == 0xFE) return INFINITY;
    if (b == 0xFD) return -INFINITY;
    return ((int)(b % 17) - 8) * 0.5;
}

static int same(double a, double b) { return (isnan(a) && isnan(b)) || a == b; }

static int close_enough(double a, double b)
{
    if (same(a, b)) return 1;
    return fabs(a - b) <= 1e-5 * (fabs(a) + fabs(b) + 1.0);
}

/* How an (N, C, rows, cols) array lies in its buffer: element (n, c, h, w) at
 * first + n*s[0] + c*s[1] + h*s[2] + w*s[3] of a buffer of `size` elements. */
typedef struct layout {
    int64_t s[4];
    int64_t first, size;
} layout;

enum {
    CONTIGUOUS,        /* C-contiguous (N, C, H, W): strides NULL */
    PADDED_REVERSED,   /* rows padded by 3, columns reversed */
    PADDED_ROWS,       /* rows padded by 2 */
    CHANNELS_LAST,     /* an (N, H, W, C) array seen through its axes */
    CHANNELS_LAST_GAPS /* (N, H, W, C + 1), channel C a gap */
};

static layout make_layout(int kind, int64_t N, int64_t C, int64_t H, int64_t W)
{
    layout l = {{C * H * W, H * W, W, 1}, 0, N * C * H * W};
    const int64_t row = W + (kind == PADDED_REVERSED ? 3 : 2), pixel = C + 1;
    switch (kind) {
    case PADDED_REVERSED:
        l = (layout){{C * H * row, H * row, row, -1}, W - 1, N * C * H * row};
        break;
    case PADDED_ROWS:
        l = (layout){{C * H * row, H * row, row, 1}, 0, N * C * H * row};
        break;
    case CHANNELS_LAST:
        l = (layout){{H * W * C, 1, W * C, C}, 0, N * H * W * C};
        break;
    case CHANNELS_LAST_GAPS:
        l = (layout){{H * W * pixel, 1, W * pixel, pixel}, 0, N * H * W * pixel};
        break;
    }
    return l;
}

static int64_t at(const layout *l, int64_t n, int64_t c, int64_t h, int64_t w)
{
    return l->first + n * l->s[0] + c * l->s[1] + h * l->s[2] + w * l->s[3];
}

/* The strides to pass for a layout: NULL for CONTIGUOUS, else the layout's, with 0 along axes of
 * extent 1 (as the Python layer passes them) when `zero_unit_axes`. */
static const int64_t *strides_of(int kind, const layout *l, int64_t *buf, const int64_t dims[4],
                                 int zero_unit_axes)
{
    if (kind == CONTIGUOUS) return NULL;
    for (int i = 0; i < 4; i++) buf[i] = zero_unit_axes && dims[i] == 1 ? 0 : l->s[i];
    return buf;
}

/* The layouts of one run: the input, the outputs (values and indices) forward, grad_output,
 * grad_input and the indices backward.  Kind 0 is the original contiguous run, kind 1 the
 * original strided input; the others reach the channels-last loops (C >= 12) and the planar
 * loops writing through strides. */
static const int LAYOUTS[][5] = {
    {CONTIGUOUS, CONTIGUOUS, CONTIGUOUS, CONTIGUOUS, CONTIGUOUS},
    {PADDED_REVERSED, CONTIGUOUS, CONTIGUOUS, CONTIGUOUS, CONTIGUOUS},
    {CHANNELS_LAST, CHANNELS_LAST, CHANNELS_LAST, CHANNELS_LAST, CHANNELS_LAST},
    {CHANNELS_LAST_GAPS, PADDED_ROWS, CHANNELS_LAST_GAPS, PADDED_ROWS, CHANNELS_LAST},
    {PADDED_ROWS, CHANNELS_LAST_GAPS, PADDED_REVERSED, CHANNELS_LAST_GAPS, PADDED_ROWS},
};
#define N_LAYOUTS ((int)(sizeof(LAYOUTS) / sizeof(LAYOUTS[0])))

/* Both types through one macro: run every operation on the fast path, with the arrays laid out
 * as LAYOUTS[choice] says (NaN in every gap), and on the reference kernels with C-contiguous
 * arrays; compare element by element. */
#define RUN_TYPE(T, SUFFIX)                                                                        \
    /* A copy of contiguous src (N, C, rows, cols) laid out as l, NaN in the gaps. */              \
    static T *lay_out_##SUFFIX(const T *src, const layout *l, int64_t N, int64_t C,                \
                               int64_t rows, int64_t cols)                                         \
    {                                                                                              \
        T *buf = (T *)malloc((size_t)(l->size + 1) * sizeof(T));                                   \
        if (!buf) FAIL("out of memory");                                                           \
        for (int64_t k = 0; k < l->size; k++) buf[k] = (T)NAN;                                     \
        for (int64_t n = 0; n < N; n++)                                                            \
            for (int64_t c = 0; c < C; c++)                                                        \
                for (int64_t h = 0; h < rows; h++)                                                 \
                    for (int64_t w = 0; w < cols; w++)                                             \
                        buf[at(l, n, c, h, w)] = src[((n * C + c) * rows + h) * cols + w];         \
        return buf;                                                                                \
    }                                                                                              \
    /* Whether buf (laid out as l) holds want (contiguous), exactly or within rounding. */         \
    static int64_t differs_##SUFFIX(const T *buf, const layout *l, const T *want, int64_t N,       \
                                    int64_t C, int64_t rows, int64_t cols, int exact)              \
    {                                                                                              \
        for (int64_t n = 0; n < N; n++)                                                            \
            for (int64_t c = 0; c < C; c++)                                                        \
                for (int64_t h = 0; h < rows; h++)                                                 \
                    for (int64_t w = 0; w < cols; w++) {                                           \
                        const double g = buf[at(l, n, c, h, w)];                                   \
                        const double v = want[((n * C + c) * rows + h) * cols + w];                \
                        if (exact ? !same(g, v) : !close_enough(g, v)) return 1;                   \
                    }                                                                              \
        return 0;                                                                                  \
    }                                                                                              \
    static void run_##SUFFIX(cconv_pool2d_params *p, reader *r, int64_t oh_a, int64_t ow_a,        \
                             int choice)                                                           \
    {                                                                                              \
        const int64_t N = p->batch, C = p->channels, H = p->in_height, W = p->in_width;            \
        const int64_t OH = p->out_height, OW = p->out_width;                                       \
        const int64_t n_in = N * C * H * W, n_out = N * C * OH * OW;                               \
        const int64_t n_ad = N * C * oh_a * ow_a, n_buf = n_out > n_ad ? n_out : n_ad;             \
        const int *kind = LAYOUTS[choice];                                                         \
        const int64_t in_dims[4] = {N, C, H, W}, out_dims[4] = {N, C, OH, OW};                     \
        const int64_t ad_dims[4] = {N, C, oh_a, ow_a};                                             \
        /* The fast path's arrays: input, output and indices (forward), grad_output, grad_input    \
         * and indices (backward), in the run's layouts; windowed and adaptive outputs. */         \
        const layout L_in = make_layout(kind[0], N, C, H, W);                                      \
        const layout L_out = make_layout(kind[1], N, C, OH, OW);                                   \
        const layout L_aout = make_layout(kind[1], N, C, oh_a, ow_a);                              \
        const layout L_go = make_layout(kind[2], N, C, OH, OW);                                    \
        const layout L_ago = make_layout(kind[2], N, C, oh_a, ow_a);                               \
        const layout L_gi = make_layout(kind[3], N, C, H, W);                                      \
        const layout L_ix = make_layout(kind[4], N, C, OH, OW);                                    \
        const int zero_units = choice % 2; /* both stride conventions for extent-1 axes */         \
        int64_t s_in[4], s_out[4], s_aout[4], s_go[4], s_ago[4], s_gi[4], s_ix[4];                 \
        T *in = (T *)malloc((size_t)(n_in + 1) * sizeof(T));                                       \
        T *o2 = (T *)malloc((size_t)(n_buf + 1) * sizeof(T));                                      \
        T *g2 = (T *)malloc((size_t)(n_in + 1) * sizeof(T));                                       \
        T *go = (T *)malloc((size_t)(n_buf + 1) * sizeof(T));                                      \
        int64_t *i1 = (int64_t *)malloc((size_t)(n_buf + 1) * sizeof(int64_t));                    \
        int64_t *i2 = (int64_t *)malloc((size_t)(n_buf + 1) * sizeof(int64_t));                    \
        if (!in || !o2 || !g2 || !go || !i1 || !i2) FAIL("out of memory");                         \
        for (int64_t k = 0; k < n_in; k++) in[k] = (T)value(r);                                    \
        T *src = lay_out_##SUFFIX(in, &L_in, N, C, H, W);                                          \
        cconv_pool2d_params q = *p;                                                                \
        q.input_strides = strides_of(kind[0], &L_in, s_in, in_dims, zero_units);                   \
        q.output_strides = strides_of(kind[1], &L_out, s_out, out_dims, zero_units);               \
        /* Max pooling: values and indices identical to the reference. */                          \
        T *o1 = lay_out_##SUFFIX(in, &L_out, 0, 0, 0, 0); /* NaN only: nothing copied */           \
        int64_t *ix = (int64_t *)malloc((size_t)(L_out.size + 1) * sizeof(int64_t));               \
        if (!ix) FAIL("out of memory");                                                            \
        for (int64_t k = 0; k < L_out.size; k++) ix[k] = -7;                                       \
        if (cconv_max_pool2d_##SUFFIX(&q, src + L_in.first, o1 + L_out.first, ix + L_out.first)    \
            != CCONV_OK)                                                                           \
            FAIL("max refused");                                                                   \
        if (cconv_max_pool2d_ref_##SUFFIX(p, in, o2, i2) != CCONV_OK) FAIL("max ref refused");     \
        if (differs_##SUFFIX(o1, &L_out, o2, N, C, OH, OW, 1)) FAIL("max differs");                \
        for (int64_t n = 0; n < N; n++)                                                            \
            for (int64_t c = 0; c < C; c++)                                                        \
                for (int64_t h = 0; h < OH; h++)                                                   \
                    for (int64_t w = 0; w < OW; w++) {                                             \
                        const int64_t k = ((n * C + c) * OH + h) * OW + w;                         \
                        i1[k] = ix[at(&L_out, n, c, h, w)];                                        \
                        if (i1[k] != i2[k]) FAIL("max indices differ at %lld", (long long)k);      \
                    }                                                                              \
        /* Its gradient, from those indices and grad_output = the values (NaN/inf included),       \
         * both laid out for the backward pass. */                                                 \
        for (int64_t k = 0; k < n_out; k++) go[k] = isfinite(o2[k]) ? o2[k] : (T)1;                \
        T *go1 = lay_out_##SUFFIX(go, &L_go, N, C, OH, OW);                                        \
        int64_t *ix1 = (int64_t *)malloc((size_t)(L_ix.size + 1) * sizeof(int64_t));               \
        if (!ix1) FAIL("out of memory");                                                           \
        for (int64_t n = 0; n < N; n++)                                                            \
            for (int64_t c = 0; c < C; c++)                                                        \
                for (int64_t h = 0; h < OH; h++)                                                   \
                    for (int64_t w = 0; w < OW; w++)                                               \
                        ix1[at(&L_ix, n, c, h, w)] = i1[((n * C + c) * OH + h) * OW + w];          \
        T *g1 = lay_out_##SUFFIX(in, &L_gi, 0, 0, 0, 0);                                           \
        cconv_adaptive_pool2d_params a = {N, C, H, W, OH, OW, NULL, NULL, NULL, p->run};           \
        a.input_strides = strides_of(kind[2], &L_go, s_go, out_dims, zero_units);                  \
        a.output_strides = strides_of(kind[3], &L_gi, s_gi, in_dims, zero_units);                  \
        a.indices_strides = strides_of(kind[4], &L_ix, s_ix, out_dims, zero_units);                \
        if (cconv_max_pool2d_backward_##SUFFIX(&a, go1 + L_go.first, ix1 + L_ix.first,             \
                                               g1 + L_gi.first) != CCONV_OK)                       \
            FAIL("max backward refused");                                                          \
        cconv_adaptive_pool2d_params a_ref = {N, C, H, W, OH, OW, NULL, NULL, NULL, p->run};       \
        if (cconv_max_pool2d_backward_ref_##SUFFIX(&a_ref, go, i1, g2) != CCONV_OK)                \
            FAIL("max backward ref refused");                                                      \
        if (differs_##SUFFIX(g1, &L_gi, g2, N, C, H, W, 0)) FAIL("max backward differs");          \
        /* Average pooling and its gradient (dilation 1 only). */                                  \
        if (p->dilation_h == 1 && p->dilation_w == 1) {                                            \
            if (cconv_avg_pool2d_##SUFFIX(&q, src + L_in.first, o1 + L_out.first) != CCONV_OK)     \
                FAIL("avg refused");                                                               \
            if (cconv_avg_pool2d_ref_##SUFFIX(p, in, o2) != CCONV_OK) FAIL("avg ref refused");     \
            if (differs_##SUFFIX(o1, &L_out, o2, N, C, OH, OW, 0)) FAIL("avg differs");            \
            for (int64_t k = 0; k < n_out; k++) go[k] = (T)(k % 7) - (T)3;                         \
            free(go1);                                                                             \
            go1 = lay_out_##SUFFIX(go, &L_go, N, C, OH, OW);                                       \
            cconv_pool2d_params b = *p;                                                            \
            b.input_strides = a.input_strides;                                                     \
            b.output_strides = a.output_strides;                                                   \
            if (cconv_avg_pool2d_backward_##SUFFIX(&b, go1 + L_go.first, g1 + L_gi.first) !=       \
                CCONV_OK)                                                                          \
                FAIL("avg backward refused");                                                      \
            if (cconv_avg_pool2d_backward_ref_##SUFFIX(p, go, g2) != CCONV_OK)                     \
                FAIL("avg backward ref refused");                                                  \
            if (differs_##SUFFIX(g1, &L_gi, g2, N, C, H, W, 0)) FAIL("avg backward differs");      \
        } else if (cconv_avg_pool2d_##SUFFIX(&q, src + L_in.first, o1 + L_out.first) !=            \
                   CCONV_ERR_INVALID_ARGUMENT) {                                                   \
            FAIL("dilated average pooling accepted");                                              \
        }                                                                                          \
        /* Adaptive pools to (oh_a, ow_a), and the adaptive average gradient. */                   \
        T *ao = lay_out_##SUFFIX(in, &L_aout, 0, 0, 0, 0);                                         \
        int64_t *aix = (int64_t *)malloc((size_t)(L_aout.size + 1) * sizeof(int64_t));             \
        if (!aix) FAIL("out of memory");                                                           \
        cconv_adaptive_pool2d_params ad = {N, C, H, W, oh_a, ow_a, NULL, NULL, NULL, p->run};      \
        cconv_adaptive_pool2d_params ad_ref = ad;                                                  \
        ad.input_strides = q.input_strides;                                                        \
        ad.output_strides = strides_of(kind[1], &L_aout, s_aout, ad_dims, zero_units);             \
        if (cconv_adaptive_max_pool2d_##SUFFIX(&ad, src + L_in.first, ao + L_aout.first,           \
                                               aix + L_aout.first) != CCONV_OK)                    \
            FAIL("adaptive max refused");                                                          \
        if (cconv_adaptive_max_pool2d_ref_##SUFFIX(&ad_ref, in, o2, i2) != CCONV_OK)               \
            FAIL("adaptive max ref refused");                                                      \
        if (differs_##SUFFIX(ao, &L_aout, o2, N, C, oh_a, ow_a, 1)) FAIL("adaptive max differs");  \
        for (int64_t n = 0; n < N; n++)                                                            \
            for (int64_t c = 0; c < C; c++)                                                        \
                for (int64_t h = 0; h < oh_a; h++)                                                 \
                    for (int64_t w = 0; w < ow_a; w++)                                             \
                        if (aix[at(&L_aout, n, c, h, w)] !=                                        \
                            i2[((n * C + c) * oh_a + h) * ow_a + w])                               \
                            FAIL("adaptive max indices differ");                                   \
        if (cconv_adaptive_avg_pool2d_##SUFFIX(&ad, src + L_in.first, ao + L_aout.first) !=        \
            CCONV_OK)                                                                              \
            FAIL("adaptive avg refused");                                                          \
        if (cconv_adaptive_avg_pool2d_ref_##SUFFIX(&ad_ref, in, o2) != CCONV_OK)                   \
            FAIL("adaptive avg ref refused");                                                      \
        if (differs_##SUFFIX(ao, &L_aout, o2, N, C, oh_a, ow_a, 0)) FAIL("adaptive avg differs");  \
        for (int64_t k = 0; k < n_ad; k++) go[k] = (T)(k % 5) - (T)2;                              \
        T *ago = lay_out_##SUFFIX(go, &L_ago, N, C, oh_a, ow_a);                                   \
        ad.input_strides = strides_of(kind[2], &L_ago, s_ago, ad_dims, zero_units);                \
        ad.output_strides = a.output_strides;                                                      \
        if (cconv_adaptive_avg_pool2d_backward_##SUFFIX(&ad, ago + L_ago.first,                    \
                                                        g1 + L_gi.first) != CCONV_OK)              \
            FAIL("adaptive backward refused");                                                     \
        if (cconv_adaptive_avg_pool2d_backward_ref_##SUFFIX(&ad_ref, go, g2) != CCONV_OK)          \
            FAIL("adaptive backward ref refused");                                                 \
        if (differs_##SUFFIX(g1, &L_gi, g2, N, C, H, W, 0)) FAIL("adaptive backward differs");     \
        free(in);                                                                                  \
        free(src);                                                                                 \
        free(o1);                                                                                  \
        free(o2);                                                                                  \
        free(g1);                                                                                  \
        free(g2);                                                                                  \
        free(go);                                                                                  \
        free(go1);                                                                                 \
        free(ago);                                                                                 \
        free(ao);                                                                                  \
        free(ix);                                                                                  \
        free(ix1);                                                                                 \
        free(aix);                                                                                 \
        free(i1);                                                                                  \
        free(i2);                                                                                  \
    }

RUN_TYPE(float, f32)
RUN_TYPE(double, f64)

/* A refused configuration: every windowed entry point says so, touching nothing.  `checked` is
 * cconv_pool2d_check's status; average pooling refuses a dilation before the SIMD path. */
static void expect_refused(const cconv_pool2d_params *p, cconv_status want, cconv_status checked)
{
    const cconv_status want_avg =
        checked == CCONV_OK && (p->dilation_h != 1 || p->dilation_w != 1)
            ? CCONV_ERR_INVALID_ARGUMENT
            : want;
    if (cconv_max_pool2d_f32(p, NULL, NULL, NULL) != want ||
        cconv_max_pool2d_f64(p, NULL, NULL, NULL) != want ||
        cconv_avg_pool2d_f32(p, NULL, NULL) != want_avg ||
        cconv_avg_pool2d_backward_f64(p, NULL, NULL) != want_avg)
        FAIL("a refused configuration got another status than the check's %d", (int)want);
    /* The reference kernels ignore the instruction-set path, so only the check refuses there. */
    if (checked != CCONV_OK && (cconv_max_pool2d_ref_f32(p, NULL, NULL, NULL) != checked ||
                                cconv_avg_pool2d_ref_f64(p, NULL, NULL) != checked))
        FAIL("a reference kernel refused a configuration differently from the check");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader r = {data, size, 0};
    cconv_pool2d_params p;
    memset(&p, 0, sizeof(p));
    const uint8_t mode = (uint8_t)take(&r, 1);
    int64_t oh_a, ow_a;
    if (mode & 1) {
        int64_t *fields[] = {&p.batch, &p.channels, &p.in_height, &p.in_width,
                             &p.kernel_height, &p.kernel_width, &p.stride_h, &p.stride_w,
                             &p.pad_top, &p.pad_bottom, &p.pad_left, &p.pad_right,
                             &p.dilation_h, &p.dilation_w, &p.divisor, &p.out_height,
                             &p.out_width};
        for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
            *fields[i] = (int64_t)take(&r, 8);
        p.ceil_mode = (int)take(&r, 1);
        p.count_include_pad = (int)take(&r, 1);
        oh_a = (int64_t)take(&r, 8);
        ow_a = (int64_t)take(&r, 8);
        cconv_adaptive_pool2d_params a = {p.batch, p.channels, p.in_height, p.in_width, oh_a,
                                          ow_a, NULL, NULL, NULL, p.run};
        const cconv_status s = cconv_adaptive_pool2d_check(&a);
        if (s != CCONV_OK && cconv_adaptive_avg_pool2d_f32(&a, NULL, NULL) != s)
            FAIL("adaptive pooling refused differently from its check");
        (void)cconv_pool2d_output_size(p.in_height, p.kernel_height, p.stride_h, p.pad_top,
                                       p.pad_bottom, p.dilation_h, p.ceil_mode);
    } else {
        p.batch = take_range(&r, 0, 2);
        /* Up to 15 channels: the channels-last loops run from 12 (pool2d_common.h). */
        p.channels = take_range(&r, 0, 15);
        p.in_height = take_range(&r, 0, 12);
        p.in_width = take_range(&r, 0, 14);
        p.kernel_height = take_range(&r, 1, 6);
        p.kernel_width = take_range(&r, 1, 6);
        p.stride_h = take_range(&r, 1, 5);
        p.stride_w = take_range(&r, 1, 5);
        p.pad_top = take_range(&r, 0, 3);
        p.pad_bottom = take_range(&r, 0, 3);
        p.pad_left = take_range(&r, 0, 3);
        p.pad_right = take_range(&r, 0, 3);
        p.dilation_h = take_range(&r, 1, 4);
        p.dilation_w = take_range(&r, 1, 4);
        p.ceil_mode = (int)take_range(&r, 0, 1);
        p.count_include_pad = (int)take_range(&r, 0, 1);
        p.divisor = take_range(&r, -2, 3);
        p.out_height = cconv_pool2d_output_size(p.in_height, p.kernel_height, p.stride_h,
                                                p.pad_top, p.pad_bottom, p.dilation_h,
                                                p.ceil_mode);
        p.out_width = cconv_pool2d_output_size(p.in_width, p.kernel_width, p.stride_w,
                                               p.pad_left, p.pad_right, p.dilation_w,
                                               p.ceil_mode);
        if (take(&r, 1) == 0xFE) p.out_width += 1; /* an output of the wrong width */
        oh_a = take_range(&r, 0, 6);
        ow_a = take_range(&r, 0, 6);
    }
    p.run.threads = (int)take_range(&r, -1, 3);
    p.run.simd = (int)take_range(&r, -1, cconv_simd_count()); /* one past the table: refused */
    const cconv_status checked = cconv_pool2d_check(&p);
    cconv_status status = checked;
    if (status == CCONV_OK && (p.run.simd >= cconv_simd_count() ||
                               (p.run.simd >= 0 && !cconv_simd_supported(p.run.simd))))
        status = CCONV_ERR_UNSUPPORTED_SIMD;
    if (status != CCONV_OK) {
        expect_refused(&p, status, checked);
        return 0;
    }
    const int64_t n_in = count4(p.batch, p.channels, p.in_height, p.in_width);
    const int64_t n_out = count4(p.batch, p.channels, p.out_height, p.out_width);
    const int64_t n_ad = count4(p.batch, p.channels, oh_a, ow_a);
    if (n_in < 0 || n_out < 0 || n_ad < 0) return 0; /* too big to run here */
    const int layout = (int)take_range(&r, 0, N_LAYOUTS - 1);
    run_f32(&p, &r, oh_a, ow_a, layout);
    run_f64(&p, &r, oh_a, ow_a, layout);
    return 0;
}
