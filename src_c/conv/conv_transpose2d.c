/* Transposed convolution (conv2d's input gradient): the parameter check, the geometry of each
 * output phase, and the driver template instantiated for float and double.  The phases run on
 * conv2d's driver: see conv_transpose2d_template.h. */
#include <stdlib.h>
#include <string.h>

#include "cconv.h"
#include "runtime/checked_math.h"

/* One axis of one output phase: which kernel taps reach it and which input rows they read. */
typedef struct cconv_transpose_axis {
    int64_t outputs;               /* outputs of the phase along the axis */
    int64_t taps;                  /* kernel taps reaching it (0: only the bias does) */
    int64_t first_tap, tap_step;   /* the taps: first_tap, first_tap - tap_step, ... >= 0 */
    int64_t dilation;              /* of the phase's dense correlation */
    int64_t in_first, in_count;    /* the input rows it reads */
    int64_t pad_before, pad_after; /* zero rows around them */
} cconv_transpose_axis;

static int64_t gcd(int64_t a, int64_t b)
{
    while (b) {
        const int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Phase r (0 <= r < out) of an axis of `out` outputs, `in` inputs, a kernel of `kernel` taps. */
static void cconv_transpose_axis_plan(cconv_transpose_axis *a, int64_t r, int64_t out, int64_t in,
                                      int64_t kernel, int64_t stride, int64_t pad,
                                      int64_t dilation)
{
    memset(a, 0, sizeof(*a));
    a->outputs = (out - r) / stride + ((out - r) % stride != 0);
    const int64_t g = gcd(stride, dilation);
    a->tap_step = stride / g;
    a->dilation = dilation / g;
    /* The reaching taps are one residue class modulo tap_step: find its largest member. */
    a->first_tap = -1;
    for (int64_t k = kernel - 1; k >= 0 && kernel - 1 - k < a->tap_step; k--) {
        const int64_t rest = (r + pad - k * dilation) % stride;
        if (rest == 0) {
            a->first_tap = k;
            break;
        }
    }
    if (a->first_tap < 0) return;
    a->taps = a->first_tap / a->tap_step + 1;
    /* Output q of the phase reads input q + e for the taps' offsets e = e_first, e_first +
     * dilation, ... (exact divisions). */
    const int64_t e_first = (r + pad - a->first_tap * dilation) / stride;
    const int64_t e_last = e_first + (a->taps - 1) * a->dilation;
    a->in_first = e_first > 0 ? e_first : 0;
    const int64_t end = a->outputs + e_last < in ? a->outputs + e_last : in;
    if (end <= a->in_first) return; /* no input row reaches the phase */
    a->in_count = end - a->in_first;
    a->pad_before = a->in_first - e_first;
    a->pad_after = a->outputs + e_last - end;
}

cconv_status cconv_conv_transpose2d_check(const cconv_conv_transpose2d_params *p)
{
    if (!p) return CCONV_ERR_INVALID_ARGUMENT;
    if (p->batch < 0 || p->in_channels < 0 || p->in_height < 0 || p->in_width < 0 ||
        p->out_channels < 0 || p->out_height < 0 || p->out_width < 0 || p->groups < 1 ||
        p->kernel_height < 1 || p->kernel_width < 1 || p->stride_h < 1 || p->stride_w < 1 ||
        p->dilation_h < 1 || p->dilation_w < 1 || p->pad_top < 0 || p->pad_left < 0)
        return CCONV_ERR_INVALID_ARGUMENT;
    if (p->in_channels % p->groups != 0 || p->out_channels % p->groups != 0)
        return CCONV_ERR_INVALID_ARGUMENT;
    const int64_t in_dims[] = {p->batch, p->in_channels, p->in_height, p->in_width,
                               (int64_t)sizeof(double)};
    const int64_t w_dims[] = {p->in_channels, p->out_channels / p->groups, p->kernel_height,
                              p->kernel_width, (int64_t)sizeof(double)};
    const int64_t out_dims[] = {p->batch, p->out_channels, p->out_height, p->out_width,
                                (int64_t)sizeof(double)};
    int64_t bytes;
    if (!cconv_mul_all(in_dims, 5, &bytes) || (uint64_t)bytes > (uint64_t)SIZE_MAX ||
        !cconv_mul_all(w_dims, 5, &bytes) || (uint64_t)bytes > (uint64_t)SIZE_MAX ||
        !cconv_mul_all(out_dims, 5, &bytes) || (uint64_t)bytes > (uint64_t)SIZE_MAX)
        return CCONV_ERR_OVERFLOW;
    /* With no input pixel or no output, no phase is computed: the output is the bias. */
    if (p->batch == 0 || p->in_channels == 0 || p->in_height == 0 || p->in_width == 0 ||
        p->out_channels == 0 || p->out_height == 0 || p->out_width == 0)
        return CCONV_OK;
    /* The phase arithmetic forms phase + pad +- dilation * (kernel - 1) + out, phases being
     * below out. */
    int64_t span_h, span_w, t;
    if (!cconv_mul(p->dilation_h, p->kernel_height - 1, &span_h) ||
        !cconv_mul(p->dilation_w, p->kernel_width - 1, &span_w) ||
        !cconv_add(span_h, p->pad_top, &t) || !cconv_add(t, p->out_height, &t) ||
        !cconv_add(t, p->out_height, &t) || !cconv_add(span_w, p->pad_left, &t) ||
        !cconv_add(t, p->out_width, &t) || !cconv_add(t, p->out_width, &t))
        return CCONV_ERR_OVERFLOW;
    return CCONV_OK;
}

/* The entry points cconv_conv_transpose2d_f32 and _f64. */
#define TR_T float
#define TR_SUFFIX f32
#include "conv_transpose2d_template.h"
#undef TR_T
#undef TR_SUFFIX

#define TR_T double
#define TR_SUFFIX f64
#include "conv_transpose2d_template.h"
#undef TR_T
#undef TR_SUFFIX
