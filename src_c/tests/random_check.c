/*
 * Random-configuration check of the C core, for sanitizer and warning builds (not part of the
 * package build).  Every compiled SIMD path the CPU runs, at 1-3 threads, against the reference
 * kernel, on random shapes, strides, paddings, dilations and groups, border modes, channels-first
 * and channels-last layouts and uint8 input; plus bitwise identity of
 * each path across thread counts and the workspace size query; and the same for conv2d's two
 * gradients (conv2d_weight, conv_transpose2d as the input gradient).  Exit status 0 when all
 * pass.
 *
 *   build the core's .c files (the folders of setup.py's BASELINE_DIRS) with
 *     gcc -std=c99 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -pthread
 *         -Wall -Wextra -Isrc_c/include -Isrc_c -Isrc_c/kernels
 *         -DCCONV_HAVE_AVX2=1 -DCCONV_HAVE_AVX512=1
 *   and each kernels/<isa> folder with the same plus its flags from setup.py, then link this file
 *   with them (-lm) and run:  ./random_check [configs] [seed]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cconv.h"

static unsigned long long rng_state;
static unsigned rnd(unsigned n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)((rng_state >> 33) % n);
}
static double rnd_value(void) { return (double)rnd(2001) / 1000.0 - 1.0; }

/* How many checked configurations ran each kind of kernel on the highest usable path. */
static const char *kernel_names[] = {
    "planar",         "planar rows",    "planar dw3x3s1", "planar dw5x5s1",
    "planar dw7x7s1", "planar dw3x3s2", "planar dw5x5s2", "planar dw7x7s2",
    "channels-last",  "channels-last depthwise"};
#define KERNEL_KINDS ((int)(sizeof(kernel_names) / sizeof(kernel_names[0])))
static int kernel_counts[KERNEL_KINDS];

static void tally(const cconv_conv2d_params *p, size_t elem_size)
{
    cconv_conv2d_params q = *p;
    q.run.simd = -1;
    const char *name = cconv_conv2d_kernels_used(&q, elem_size);
    for (int i = 0; name && i < KERNEL_KINDS; i++) {
        if (strcmp(name, kernel_names[i]) == 0) kernel_counts[i]++;
    }
}

/* Element strides (N, C, H, W) of an array of these extents, channels first or last. */
static void layout_strides(int64_t n, int64_t c, int64_t h, int64_t w, int channels_last,
                           int64_t *strides)
{
    (void)n;
    if (channels_last) {
        strides[0] = h * w * c;
        strides[1] = 1;
        strides[2] = w * c;
        strides[3] = c;
    } else {
        strides[0] = c * h * w;
        strides[1] = h * w;
        strides[2] = w;
        strides[3] = 1;
    }
}

/* |got - want| <= tol * (sum of |terms|), the bound of a sum of products.  The input and the
 * output are laid out channels first or last (layout 0: both first, 1: both last, 2: input last,
 * output first); a uint8 input (u8) is converted by the core; the border is p's. */
#define DEFINE_CHECK(T, SUFFIX)                                                                   \
    static int check_##SUFFIX(const cconv_conv2d_params *p, double tol, int layout, int u8)      \
    {                                                                                             \
        const size_t nin = (size_t)(p->batch * p->in_channels * p->in_height * p->in_width);     \
        const size_t nw = (size_t)(p->out_channels * (p->in_channels / p->groups) *              \
                                   p->kernel_height * p->kernel_width);                          \
        const size_t nout = (size_t)(p->batch * p->out_channels * p->out_height * p->out_width); \
        T *in = malloc((nin + 1) * sizeof(T)), *w = malloc((nw + 1) * sizeof(T));                \
        unsigned char *in8 = malloc(nin + 1);                                                     \
        T *b = malloc((size_t)(p->out_channels + 1) * sizeof(T));                                \
        T *ref = malloc((nout + 1) * sizeof(T)), *abs_ref = malloc((nout + 1) * sizeof(T));      \
        T *got = malloc((nout + 1) * sizeof(T)), *first = malloc((nout + 1) * sizeof(T));        \
        T *abs_in = malloc((nin + 1) * sizeof(T)), *abs_w = malloc((nw + 1) * sizeof(T));        \
        T *abs_b = malloc((size_t)(p->out_channels + 1) * sizeof(T));                            \
        int failures = 0;                                                                         \
        for (size_t i = 0; i < nin; i++) {                                                        \
            in8[i] = (unsigned char)rnd(256);                                                     \
            in[i] = u8 ? (T)in8[i] : (T)rnd_value();                                              \
            abs_in[i] = fabs(in[i]);                                                              \
        }                                                                                         \
        for (size_t i = 0; i < nw; i++) abs_w[i] = fabs(w[i] = (T)rnd_value());                   \
        for (int64_t i = 0; i < p->out_channels; i++) abs_b[i] = fabs(b[i] = (T)rnd_value());     \
        const int use_bias = rnd(2);                                                              \
        int64_t in_strides[4], out_strides[4];                                                    \
        layout_strides(p->batch, p->in_channels, p->in_height, p->in_width, layout != 0,         \
                       in_strides);                                                               \
        layout_strides(p->batch, p->out_channels, p->out_height, p->out_width, layout == 1,      \
                       out_strides);                                                              \
        cconv_conv2d_params q = *p;                                                               \
        /* (NULL for channels first: contiguous, as most callers pass it) */                   \
        q.input_strides = layout != 0 ? in_strides : NULL;                                        \
        q.output_strides = layout == 1 ? out_strides : NULL;                                      \
        cconv_conv2d_params bound_q = q;                                                          \
        bound_q.padding_value = fabs(p->padding_value);                                           \
        if (u8) q.input_dtype = CCONV_DTYPE_U8;                                                   \
        const void *input = u8 ? (const void *)in8 : (const void *)in;                            \
        tally(&q, sizeof(T));                                                                     \
        if (cconv_conv2d_ref_##SUFFIX(&q, input, w, use_bias ? b : NULL, ref) != CCONV_OK ||      \
            cconv_conv2d_ref_##SUFFIX(&bound_q, abs_in, abs_w, use_bias ? abs_b : NULL,           \
                                      abs_ref) != CCONV_OK) {                                     \
            printf("reference failed\n");                                                        \
            failures++;                                                                           \
        }                                                                                         \
        for (int simd = 0; simd < cconv_simd_count() && !failures; simd++) {                      \
            if (!cconv_simd_supported(simd)) continue;                                            \
            q.run.simd = simd;                                                                    \
            for (int threads = 1; threads <= 3; threads++) {                                      \
                q.run.threads = threads;                                                          \
                for (size_t i = 0; i < nout; i++) got[i] = (T)NAN;                                \
                size_t ws = 0;                                                                    \
                if (cconv_conv2d_workspace_bytes(&q, sizeof(T), &ws) != CCONV_OK) failures++;     \
                if (cconv_conv2d_##SUFFIX(&q, input, w, use_bias ? b : NULL, got) != CCONV_OK) {  \
                    printf("%s: status error\n", cconv_simd_name(simd));                         \
                    failures++;                                                                   \
                    break;                                                                        \
                }                                                                                 \
                for (size_t i = 0; i < nout; i++) {                                               \
                    const double err = fabs((double)got[i] - (double)ref[i]);                     \
                    if (!(err <= tol * (double)abs_ref[i] + 1e-30)) {                             \
                        printf("%s threads=%d (%s): output %zu got %g want %g\n",                \
                               cconv_simd_name(simd), threads,                                    \
                               cconv_conv2d_kernels_used(&q, sizeof(T)), i, (double)got[i],      \
                               (double)ref[i]);                                                   \
                        failures++;                                                               \
                        break;                                                                    \
                    }                                                                             \
                }                                                                                 \
                if (threads == 1) memcpy(first, got, nout * sizeof(T));                           \
                else if (memcmp(first, got, nout * sizeof(T)) != 0) {                             \
                    printf("%s: threads=%d not bitwise equal to threads=1\n",                    \
                           cconv_simd_name(simd), threads);                                       \
                    failures++;                                                                   \
                }                                                                                 \
            }                                                                                     \
        }                                                                                         \
        free(in); free(in8); free(w); free(b); free(ref); free(abs_ref); free(got); free(first);  \
        free(abs_in); free(abs_w); free(abs_b);                                                   \
        return failures;                                                                          \
    }

DEFINE_CHECK(float, f32)
DEFINE_CHECK(double, f64)

/* conv2d's two gradients for p's geometry (the weight gradient, and the input gradient as a
 * transposed convolution): each path at 1-3 threads against the reference, within the bound of
 * a sum of products, and bitwise the same at every thread count. */
#define DEFINE_GRAD_CHECK(T, SUFFIX)                                                              \
    static int compare_##SUFFIX(const char *what, int simd, int threads, const T *got,           \
                                const T *ref, const T *bound, const T *first, size_t n,          \
                                double tol)                                                       \
    {                                                                                             \
        for (size_t i = 0; i < n; i++) {                                                          \
            if (!(fabs((double)got[i] - (double)ref[i]) <= tol * (double)bound[i] + 1e-30)) {     \
                printf("%s %s threads=%d: element %zu got %g want %g\n", what,                    \
                       cconv_simd_name(simd), threads, i, (double)got[i], (double)ref[i]);        \
                return 1;                                                                         \
            }                                                                                     \
        }                                                                                         \
        if (threads > 1 && memcmp(first, got, n * sizeof(T)) != 0) {                              \
            printf("%s %s: threads=%d not bitwise equal to threads=1\n", what,                    \
                   cconv_simd_name(simd), threads);                                               \
            return 1;                                                                             \
        }                                                                                         \
        return 0;                                                                                 \
    }                                                                                             \
    static int check_grads_##SUFFIX(const cconv_conv2d_params *p, double tol)                    \
    {                                                                                             \
        const size_t nin = (size_t)(p->batch * p->in_channels * p->in_height * p->in_width);     \
        const size_t nw = (size_t)(p->out_channels * (p->in_channels / p->groups) *              \
                                   p->kernel_height * p->kernel_width);                          \
        const size_t nout = (size_t)(p->batch * p->out_channels * p->out_height * p->out_width); \
        const size_t most = nin > nw ? nin : nw;                                                  \
        T *x = malloc(nin * sizeof(T)), *ax = malloc(nin * sizeof(T));                            \
        T *g = malloc(nout * sizeof(T)), *ag = malloc(nout * sizeof(T));                          \
        T *w = malloc(nw * sizeof(T)), *aw = malloc(nw * sizeof(T));                              \
        T *got = malloc(most * sizeof(T)), *ref = malloc(most * sizeof(T));                       \
        T *bound = malloc(most * sizeof(T)), *first = malloc(most * sizeof(T));                   \
        int failures = 0;                                                                         \
        for (size_t i = 0; i < nin; i++) ax[i] = fabs(x[i] = (T)rnd_value());                     \
        for (size_t i = 0; i < nout; i++) ag[i] = fabs(g[i] = (T)rnd_value());                    \
        for (size_t i = 0; i < nw; i++) aw[i] = fabs(w[i] = (T)rnd_value());                      \
        cconv_conv2d_weight_params wp;                                                            \
        memset(&wp, 0, sizeof(wp));                                                               \
        wp.batch = p->batch;                                                                      \
        wp.in_channels = p->in_channels;                                                          \
        wp.in_height = p->in_height;                                                              \
        wp.in_width = p->in_width;                                                                \
        wp.out_channels = p->out_channels;                                                        \
        wp.kernel_height = p->kernel_height;                                                      \
        wp.kernel_width = p->kernel_width;                                                        \
        wp.stride_h = p->stride_h;                                                                \
        wp.stride_w = p->stride_w;                                                                \
        wp.pad_top = p->pad_top;                                                                  \
        wp.pad_left = p->pad_left;                                                                \
        wp.dilation_h = p->dilation_h;                                                            \
        wp.dilation_w = p->dilation_w;                                                            \
        wp.groups = p->groups;                                                                    \
        wp.out_height = p->out_height;                                                            \
        wp.out_width = p->out_width;                                                              \
        cconv_conv_transpose2d_params tp;                                                         \
        memset(&tp, 0, sizeof(tp));                                                               \
        tp.batch = p->batch;                                                                      \
        tp.in_channels = p->out_channels;                                                         \
        tp.in_height = p->out_height;                                                             \
        tp.in_width = p->out_width;                                                               \
        tp.out_channels = p->in_channels;                                                         \
        tp.kernel_height = p->kernel_height;                                                      \
        tp.kernel_width = p->kernel_width;                                                        \
        tp.stride_h = p->stride_h;                                                                \
        tp.stride_w = p->stride_w;                                                                \
        tp.pad_top = p->pad_top;                                                                  \
        tp.pad_left = p->pad_left;                                                                \
        tp.dilation_h = p->dilation_h;                                                            \
        tp.dilation_w = p->dilation_w;                                                            \
        tp.groups = p->groups;                                                                    \
        tp.out_height = p->in_height;                                                             \
        tp.out_width = p->in_width;                                                               \
        for (int op = 0; op < 2 && !failures; op++) {                                             \
            const size_t n = op == 0 ? nw : nin;                                                  \
            cconv_status s1 = op == 0 ? cconv_conv2d_weight_ref_##SUFFIX(&wp, x, g, ref)          \
                                      : cconv_conv_transpose2d_ref_##SUFFIX(&tp, g, w, NULL, ref);\
            cconv_status s2 = op == 0 ? cconv_conv2d_weight_ref_##SUFFIX(&wp, ax, ag, bound)      \
                                      : cconv_conv_transpose2d_ref_##SUFFIX(&tp, ag, aw, NULL,    \
                                                                            bound);               \
            if (s1 != CCONV_OK || s2 != CCONV_OK) {                                               \
                printf("gradient reference failed\n");                                           \
                failures++;                                                                       \
            }                                                                                     \
            for (int simd = 0; simd < cconv_simd_count() && !failures; simd++) {                  \
                if (!cconv_simd_supported(simd)) continue;                                        \
                for (int threads = 1; threads <= 3 && !failures; threads++) {                     \
                    wp.run.simd = tp.run.simd = simd;                                             \
                    wp.run.threads = tp.run.threads = threads;                                    \
                    for (size_t i = 0; i < n; i++) got[i] = (T)NAN;                               \
                    cconv_status st = op == 0 ? cconv_conv2d_weight_##SUFFIX(&wp, x, g, got)      \
                                              : cconv_conv_transpose2d_##SUFFIX(&tp, g, w, NULL,  \
                                                                                got);             \
                    if (st != CCONV_OK) {                                                         \
                        printf("gradient %d: status %d\n", op, st);                              \
                        failures++;                                                               \
                        break;                                                                    \
                    }                                                                             \
                    failures += compare_##SUFFIX(op == 0 ? "weight gradient" : "input gradient", \
                                                 simd, threads, got, ref, bound, first, n, tol);  \
                    if (threads == 1) memcpy(first, got, n * sizeof(T));                          \
                }                                                                                 \
            }                                                                                     \
        }                                                                                         \
        free(x); free(ax); free(g); free(ag); free(w); free(aw);                                  \
        free(got); free(ref); free(bound); free(first);                                           \
        return failures;                                                                          \
    }

DEFINE_GRAD_CHECK(float, f32)
DEFINE_GRAD_CHECK(double, f64)

int main(int argc, char **argv)
{
    const int configs = argc > 1 ? atoi(argv[1]) : 300;
    rng_state = argc > 2 ? strtoull(argv[2], NULL, 10) : 12345;
    int failures = 0, run = 0;
    for (int i = 0; i < configs && failures == 0; i++) {
        cconv_conv2d_params p;
        memset(&p, 0, sizeof(p));
        p.groups = 1 + (int64_t)(rnd(4) == 0 ? rnd(6) : 0);
        p.batch = 1 + rnd(2);
        p.in_channels = p.groups * (1 + rnd(rnd(3) == 0 ? 40 : 6));
        p.out_channels = p.groups * (1 + rnd(rnd(3) == 0 ? 20 : 10));
        p.in_height = 1 + rnd(30);
        p.in_width = 1 + rnd(rnd(4) == 0 ? 140 : 40);
        p.kernel_height = 1 + rnd(7);
        p.kernel_width = 1 + rnd(7);
        p.stride_h = 1 + rnd(3);
        p.stride_w = 1 + rnd(3);
        p.dilation_h = 1 + rnd(3);
        p.dilation_w = 1 + rnd(3);
        p.pad_top = rnd(4);
        p.pad_bottom = rnd(4);
        p.pad_left = rnd(4);
        p.pad_right = rnd(4);
        if (rnd(4) == 0) { /* depthwise / single-channel, stride 1: the multi-row kernels */
            p.groups = 1 + rnd(4);
            p.in_channels = p.out_channels = p.groups;
            p.kernel_height = 2 + rnd(7);
            p.stride_h = p.stride_w = 1;
            p.dilation_h = 1;
            p.in_width = 1 + rnd(150);
        }
        /* Depthwise k x k (k = 3, 5, 7), stride 1 or 2, padding < k: the in-place kernels, which
         * also need zero padding, channels-first arrays and input of the computation's type
         * (most such configurations get them below). */
        const int in_place_dw = rnd(4) == 0;
        if (in_place_dw) {
            const int64_t k = 3 + 2 * (int64_t)rnd(3);
            p.groups = 1 + rnd(5);
            p.in_channels = p.groups;
            p.out_channels = p.groups * (1 + rnd(2));
            p.kernel_height = p.kernel_width = k;
            p.stride_h = p.stride_w = 1 + rnd(2);
            p.dilation_h = p.dilation_w = 1;
            p.pad_top = rnd((unsigned)k);
            p.pad_bottom = rnd((unsigned)k);
            p.pad_left = rnd((unsigned)k);
            p.pad_right = rnd((unsigned)k);
            p.in_width = 1 + rnd(80);
        }
        if (rnd(4) == 0) { /* wide enough for the channels-last kernels */
            p.groups = rnd(2) ? 1 : 1 + rnd(3);
            p.in_channels = p.groups * (1 + rnd(24));
            p.out_channels = p.groups * (8 + rnd(40));
            if (rnd(3) == 0) { /* depthwise, maybe with a multiplier */
                p.groups = p.in_channels = 8 + rnd(40);
                p.out_channels = p.groups * (1 + (rnd(3) == 0));
            }
            p.in_height = 6 + rnd(20);
            p.in_width = 6 + rnd(30);
        }
        /* The border: a constant (zero or not) or a mode that repeats pixels. */
        if (rnd(3) == 0) p.padding_mode = (cconv_padding_mode)(1 + rnd(4));
        else if (rnd(3) == 0) p.padding_value = 4.0 * rnd_value();
        int layout = (int)rnd(3), u8 = rnd(5) == 0;
        if (in_place_dw && rnd(4) != 0) {
            p.padding_mode = CCONV_PAD_ZEROS;
            p.padding_value = 0.0;
            layout = 0;
            u8 = 0;
        }
        p.out_height = cconv_conv2d_output_size(p.in_height, p.kernel_height, p.stride_h,
                                                p.pad_top, p.pad_bottom, p.dilation_h);
        p.out_width = cconv_conv2d_output_size(p.in_width, p.kernel_width, p.stride_w, p.pad_left,
                                               p.pad_right, p.dilation_w);
        if (p.out_height < 1 || p.out_width < 1) continue;
        run++;
        failures += check_f32(&p, 1e-4, layout, u8);
        failures += check_f64(&p, 1e-12, layout, u8);
        /* (the gradients have no border modes) */
        p.padding_mode = CCONV_PAD_ZEROS;
        p.padding_value = 0.0;
        if (!failures) failures += check_grads_f32(&p, 1e-4);
        if (!failures) failures += check_grads_f64(&p, 1e-12);
        if (failures)
            printf("config N=%lld C=%lld H=%lld W=%lld O=%lld k=%lldx%lld s=%lld,%lld "
                   "d=%lld,%lld pad=%lld,%lld,%lld,%lld g=%lld\n",
                   (long long)p.batch, (long long)p.in_channels, (long long)p.in_height,
                   (long long)p.in_width, (long long)p.out_channels, (long long)p.kernel_height,
                   (long long)p.kernel_width, (long long)p.stride_h, (long long)p.stride_w,
                   (long long)p.dilation_h, (long long)p.dilation_w, (long long)p.pad_top,
                   (long long)p.pad_bottom, (long long)p.pad_left, (long long)p.pad_right,
                   (long long)p.groups);
        if (failures) printf("layout %d u8 %d mode %d value %g\n", layout, u8,
                             (int)p.padding_mode, p.padding_value);
    }
    printf("paths run:");
    for (int simd = 0; simd < cconv_simd_count(); simd++) {
        if (cconv_simd_supported(simd)) printf(" %s", cconv_simd_name(simd));
    }
    printf("\nkernels (f32 and f64 calls):");
    for (int i = 0; i < KERNEL_KINDS; i++) printf(" %s %d,", kernel_names[i], kernel_counts[i]);
    printf("\n%d configurations, %s\n", run, failures ? "FAILED" : "all paths match");
    return failures ? 1 : 0;
}
