/* Transposed convolution (conv2d's input gradient): the parameter check, the geometry of each
 * output phase, weights packed once for many calls, and the driver template instantiated for
 * float and double.  The phases run on
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

/* ---- Packed weights (cconv.h's cconv_conv_transpose2d_packed) ----------------------------- */

struct cconv_conv_transpose2d_packed {
    size_t elem_size;
    /* What the packing is valid for. */
    int64_t in_channels, out_channels, groups, kernel_height, kernel_width;
    int64_t stride_h, stride_w, pad_top, pad_left, dilation_h, dilation_w;
    int with_bias;
    /* The row and column phases some tap reaches, ascending (at most kH and kW of them, however
     * large the stride); phase pair (a, b) is slot a * col_count + b. */
    int64_t row_count, col_count;
    int64_t *row_phases, *col_phases;
    size_t *offsets;             /* per slot: where its reversed taps start in weights */
    size_t weight_elems;
    void *weights;
    cconv_conv2d_packed **conv;  /* per slot: its channels-last packing, or NULL */
};

/* The distinct phases r = (k * dilation - pad) mod stride of the kernel taps k, ascending, into
 * phases (room for `kernel`); returns how many. */
static int64_t reached_phases(int64_t kernel, int64_t stride, int64_t pad, int64_t dilation,
                              int64_t *phases)
{
    int64_t count = 0;
    for (int64_t k = 0; k < kernel; k++) {
        int64_t r = (k * dilation - pad) % stride;
        if (r < 0) r += stride;
        int64_t at = count;
        while (at > 0 && phases[at - 1] > r) at--;
        if (at > 0 && phases[at - 1] == r) continue;
        memmove(phases + at + 1, phases + at, (size_t)(count - at) * sizeof(int64_t));
        phases[at] = r;
        count++;
    }
    return count;
}

/* The taps of phase r along one axis (what a phase's packing depends on: not the sizes). */
static void phase_taps(cconv_transpose_axis *a, int64_t r, int64_t kernel, int64_t stride,
                       int64_t pad, int64_t dilation)
{
    cconv_transpose_axis_plan(a, r, r + 1, 1, kernel, stride, pad, dilation);
}

void cconv_conv_transpose2d_packed_destroy(cconv_conv_transpose2d_packed *pk)
{
    if (!pk) return;
    if (pk->conv) {
        for (int64_t i = 0; i < pk->row_count * pk->col_count; i++)
            cconv_conv2d_packed_destroy(pk->conv[i]);
    }
    free(pk->conv);
    free(pk->row_phases);
    free(pk->col_phases);
    free(pk->offsets);
    free(pk->weights);
    free(pk);
}

size_t cconv_conv_transpose2d_packed_bytes(const cconv_conv_transpose2d_packed *pk)
{
    if (!pk) return 0;
    size_t bytes = pk->weight_elems * pk->elem_size;
    for (int64_t i = 0; i < pk->row_count * pk->col_count; i++)
        bytes += cconv_conv2d_packed_bytes(pk->conv[i]);
    return bytes;
}

/* A packed set for p (checked, with channels), its phases and offsets filled, its storage
 * allocated; NULL when out of memory. */
static cconv_conv_transpose2d_packed *transpose_packed_new(const cconv_conv_transpose2d_params *p,
                                                           size_t elem_size, int with_bias)
{
    cconv_conv_transpose2d_packed *pk =
        (cconv_conv_transpose2d_packed *)calloc(1, sizeof(*pk));
    if (!pk) return NULL;
    pk->elem_size = elem_size;
    pk->in_channels = p->in_channels;
    pk->out_channels = p->out_channels;
    pk->groups = p->groups;
    pk->kernel_height = p->kernel_height;
    pk->kernel_width = p->kernel_width;
    pk->stride_h = p->stride_h;
    pk->stride_w = p->stride_w;
    pk->pad_top = p->pad_top;
    pk->pad_left = p->pad_left;
    pk->dilation_h = p->dilation_h;
    pk->dilation_w = p->dilation_w;
    pk->with_bias = with_bias;
    pk->row_phases = (int64_t *)malloc((size_t)p->kernel_height * sizeof(int64_t));
    pk->col_phases = (int64_t *)malloc((size_t)p->kernel_width * sizeof(int64_t));
    if (!pk->row_phases || !pk->col_phases) goto fail;
    pk->row_count = reached_phases(p->kernel_height, p->stride_h, p->pad_top, p->dilation_h,
                                   pk->row_phases);
    pk->col_count = reached_phases(p->kernel_width, p->stride_w, p->pad_left, p->dilation_w,
                                   pk->col_phases);
    const size_t slots = (size_t)(pk->row_count * pk->col_count);
    pk->offsets = (size_t *)malloc(slots * sizeof(size_t));
    pk->conv = (cconv_conv2d_packed **)calloc(slots, sizeof(cconv_conv2d_packed *));
    if (!pk->offsets || !pk->conv) goto fail;
    /* Every tap belongs to exactly one phase pair: the phases together hold the whole weight
     * (whose size the parameter check bounded). */
    const size_t per_tap = (size_t)(p->out_channels * (p->in_channels / p->groups));
    size_t at = 0;
    for (int64_t a = 0; a < pk->row_count; a++) {
        cconv_transpose_axis rows;
        phase_taps(&rows, pk->row_phases[a], p->kernel_height, p->stride_h, p->pad_top,
                   p->dilation_h);
        for (int64_t b = 0; b < pk->col_count; b++) {
            cconv_transpose_axis cols;
            phase_taps(&cols, pk->col_phases[b], p->kernel_width, p->stride_w, p->pad_left,
                       p->dilation_w);
            pk->offsets[a * pk->col_count + b] = at;
            at += per_tap * (size_t)(rows.taps * cols.taps);
        }
    }
    pk->weight_elems = at;
    pk->weights = malloc(at * elem_size + 1);
    if (!pk->weights) goto fail;
    return pk;
fail:
    cconv_conv_transpose2d_packed_destroy(pk);
    return NULL;
}

/* 1 when a call with p, of this element size, with or without a bias, may read pk. */
static int transpose_packed_fits(const cconv_conv_transpose2d_packed *pk,
                                 const cconv_conv_transpose2d_params *p, size_t elem_size,
                                 int with_bias)
{
    return pk->elem_size == elem_size && pk->in_channels == p->in_channels &&
           pk->out_channels == p->out_channels && pk->groups == p->groups &&
           pk->kernel_height == p->kernel_height && pk->kernel_width == p->kernel_width &&
           pk->stride_h == p->stride_h && pk->stride_w == p->stride_w &&
           pk->pad_top == p->pad_top && pk->pad_left == p->pad_left &&
           pk->dilation_h == p->dilation_h && pk->dilation_w == p->dilation_w &&
           pk->with_bias == (with_bias != 0);
}

/* The slot of phase pair (rh, rw), which some tap reaches along both axes. */
static int64_t transpose_packed_slot(const cconv_conv_transpose2d_packed *pk, int64_t rh,
                                     int64_t rw)
{
    int64_t a = 0, b = 0;
    while (pk->row_phases[a] != rh) a++;
    while (pk->col_phases[b] != rw) b++;
    return a * pk->col_count + b;
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
