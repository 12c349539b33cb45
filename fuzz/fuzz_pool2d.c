/*
 * libFuzzer target for the pooling entry points of the cconv C core (built and run by
 * fuzz/run_fuzz.sh, like fuzz_conv2d.c).
 *
 * Each input is decoded into one pooling configuration.  The first byte picks the mode:
 *   even: small sizes and parameters that may be valid or not.  When cconv_pool2d_check accepts
 *         them, max pooling (with indices), average pooling, both gradients, and the adaptive
 *         pools to an output size the bytes pick, run on the fast path (instruction-set path and
 *         threads from the bytes) and on the reference kernels, on exactly-sized heap buffers,
 *         in float32 and float64, with the input read contiguously or through padded rows and
 *         reversed columns (NaN in every gap); max values and indices must be identical, sums
 *         agree within rounding.  When the check refuses them, every windowed entry point must
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

#define FAIL(...)                                                                               \
    do {                                                                                        \
        fprintf(stderr, "fuzz_pool2d: " __VA_ARGS__);                                           \
        fprintf(stderr, "\n");                                                                  \
        abort();                                                                                \
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

/* Both types through one macro: run every operation on fast path and reference, compare. */
#define RUN_TYPE(T, SUFFIX)                                                                     \
    static void run_##SUFFIX(cconv_pool2d_params *p, reader *r, int64_t oh_a, int64_t ow_a,    \
                             int layout)                                                        \
    {                                                                                           \
        const int64_t N = p->batch, C = p->channels, H = p->in_height, W = p->in_width;        \
        const int64_t OH = p->out_height, OW = p->out_width;                                   \
        const int64_t n_in = N * C * H * W, n_out = N * C * OH * OW;                           \
        const int64_t n_ad = N * C * oh_a * ow_a, n_buf = n_out > n_ad ? n_out : n_ad;       \
        /* layout 1: rows padded by 3 and columns reversed, NaN in the gaps. */                 \
        const int64_t row = layout ? W + 3 : W, plane = H * row;                               \
        const int64_t strides[4] = {C * plane, plane, row, layout ? -1 : 1};                    \
        const int64_t first = layout ? W - 1 : 0;                                               \
        T *buf = (T *)malloc((size_t)(N * C * plane + 1) * sizeof(T));                         \
        T *in = (T *)malloc((size_t)(n_in + 1) * sizeof(T));                                    \
        T *o1 = (T *)malloc((size_t)(n_buf + 1) * sizeof(T));                                   \
        T *o2 = (T *)malloc((size_t)(n_buf + 1) * sizeof(T));                                   \
        int64_t *i1 = (int64_t *)malloc((size_t)(n_buf + 1) * sizeof(int64_t));                \
        int64_t *i2 = (int64_t *)malloc((size_t)(n_buf + 1) * sizeof(int64_t));                 \
        T *g1 = (T *)malloc((size_t)(n_in + 1) * sizeof(T));                                    \
        T *g2 = (T *)malloc((size_t)(n_in + 1) * sizeof(T));                                    \
        if (!buf || !in || !o1 || !o2 || !i1 || !i2 || !g1 || !g2) FAIL("out of memory");      \
        for (int64_t k = 0; k < N * C * plane; k++) buf[k] = (T)NAN;                            \
        for (int64_t nc = 0; nc < N * C; nc++)                                                  \
            for (int64_t h = 0; h < H; h++)                                                     \
                for (int64_t w = 0; w < W; w++) {                                               \
                    const T v = (T)value(r);                                                    \
                    in[(nc * H + h) * W + w] = v;                                               \
                    buf[nc * plane + h * row + first + w * strides[3]] = v;                     \
                }                                                                               \
        cconv_pool2d_params q = *p;                                                             \
        q.input_strides = layout ? strides : NULL;                                              \
        const T *src = layout ? buf + first : in;                                               \
        /* Max pooling: values and indices identical to the reference. */                       \
        if (cconv_max_pool2d_##SUFFIX(&q, src, o1, i1) != CCONV_OK) FAIL("max refused");        \
        if (cconv_max_pool2d_ref_##SUFFIX(p, in, o2, i2) != CCONV_OK) FAIL("max ref refused");  \
        for (int64_t k = 0; k < n_out; k++)                                                     \
            if (!same(o1[k], o2[k]) || i1[k] != i2[k]) FAIL("max differs at %lld", (long long)k); \
        /* Its gradient, from those indices and grad_output = the values (NaN/inf included). */ \
        cconv_adaptive_pool2d_params a = {N, C, H, W, OH, OW, NULL, NULL, NULL, p->run};        \
        for (int64_t k = 0; k < n_out; k++) o2[k] = isfinite(o1[k]) ? o1[k] : (T)1;             \
        if (cconv_max_pool2d_backward_##SUFFIX(&a, o2, i1, g1) != CCONV_OK) FAIL("max bwd");    \
        if (cconv_max_pool2d_backward_ref_##SUFFIX(&a, o2, i1, g2) != CCONV_OK) FAIL("mbwd ref"); \
        for (int64_t k = 0; k < n_in; k++)                                                      \
            if (!close_enough(g1[k], g2[k])) FAIL("max backward differs at %lld", (long long)k); \
        /* Average pooling and its gradient (dilation 1 only). */                               \
        if (p->dilation_h == 1 && p->dilation_w == 1) {                                         \
            if (cconv_avg_pool2d_##SUFFIX(&q, src, o1) != CCONV_OK) FAIL("avg refused");        \
            if (cconv_avg_pool2d_ref_##SUFFIX(p, in, o2) != CCONV_OK) FAIL("avg ref refused");  \
            for (int64_t k = 0; k < n_out; k++)                                                 \
                if (!close_enough(o1[k], o2[k])) FAIL("avg differs at %lld", (long long)k);     \
            for (int64_t k = 0; k < n_out; k++) o2[k] = (T)(k % 7) - (T)3;                      \
            cconv_pool2d_params b = *p;                                                         \
            if (cconv_avg_pool2d_backward_##SUFFIX(&b, o2, g1) != CCONV_OK) FAIL("avg bwd");    \
            if (cconv_avg_pool2d_backward_ref_##SUFFIX(&b, o2, g2) != CCONV_OK) FAIL("abwd ref"); \
            for (int64_t k = 0; k < n_in; k++)                                                  \
                if (!close_enough(g1[k], g2[k])) FAIL("avg backward differs at %lld",           \
                                                      (long long)k);                            \
        } else if (cconv_avg_pool2d_##SUFFIX(&q, src, o1) != CCONV_ERR_INVALID_ARGUMENT) {      \
            FAIL("dilated average pooling accepted");                                          \
        }                                                                                       \
        /* Adaptive pools to (oh_a, ow_a). */                                                  \
        cconv_adaptive_pool2d_params ad = {N, C, H, W, oh_a, ow_a, NULL, NULL, NULL, p->run};  \
        ad.input_strides = q.input_strides;                                                     \
        if (cconv_adaptive_max_pool2d_##SUFFIX(&ad, src, o1, i1) != CCONV_OK) FAIL("amax");     \
        ad.input_strides = NULL;                                                                \
        if (cconv_adaptive_max_pool2d_ref_##SUFFIX(&ad, in, o2, i2) != CCONV_OK) FAIL("amax r"); \
        for (int64_t k = 0; k < n_ad; k++)                                                      \
            if (!same(o1[k], o2[k]) || i1[k] != i2[k]) FAIL("adaptive max differs");            \
        ad.input_strides = q.input_strides;                                                     \
        if (cconv_adaptive_avg_pool2d_##SUFFIX(&ad, src, o1) != CCONV_OK) FAIL("aavg");         \
        ad.input_strides = NULL;                                                                \
        if (cconv_adaptive_avg_pool2d_ref_##SUFFIX(&ad, in, o2) != CCONV_OK) FAIL("aavg ref");  \
        for (int64_t k = 0; k < n_ad; k++)                                                      \
            if (!close_enough(o1[k], o2[k])) FAIL("adaptive avg differs at %lld", (long long)k); \
        for (int64_t k = 0; k < n_ad; k++) o2[k] = (T)(k % 5) - (T)2;                           \
        if (cconv_adaptive_avg_pool2d_backward_##SUFFIX(&ad, o2, g1) != CCONV_OK) FAIL("abwd"); \
        if (cconv_adaptive_avg_pool2d_backward_ref_##SUFFIX(&ad, o2, g2) != CCONV_OK)           \
            FAIL("adaptive backward ref");                                                     \
        for (int64_t k = 0; k < n_in; k++)                                                      \
            if (!close_enough(g1[k], g2[k])) FAIL("adaptive backward differs");                 \
        free(buf);                                                                              \
        free(in);                                                                               \
        free(o1);                                                                               \
        free(o2);                                                                               \
        free(i1);                                                                               \
        free(i2);                                                                               \
        free(g1);                                                                               \
        free(g2);                                                                               \
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
        p.channels = take_range(&r, 0, 3);
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
    const int layout = (int)take_range(&r, 0, 1);
    run_f32(&p, &r, oh_a, ow_a, layout);
    run_f64(&p, &r, oh_a, ow_a, layout);
    return 0;
}
