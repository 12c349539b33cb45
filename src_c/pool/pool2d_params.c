/* Validation of the pooling parameter structs and PyTorch's output-size rule, all in checked
 * 64-bit math. */
#include "cconv.h"
#include "pool/pool2d_common.h"
#include "runtime/checked_math.h"

/* floor(a / b) for b > 0 and any sign of a (PyTorch's div_rtn). */
static int64_t floor_div(int64_t a, int64_t b)
{
    const int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

int64_t cconv_pool2d_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad_before,
                                 int64_t pad_after, int64_t dilation, int ceil_mode)
{
    if (in < 0 || kernel < 1 || stride < 1 || dilation < 1 || pad_before < 0 || pad_after < 0 ||
        (ceil_mode != 0 && ceil_mode != 1))
        return -1;
    int64_t padded, span;
    if (!cconv_add(in, pad_before, &padded) || !cconv_add(padded, pad_after, &padded)) return -1;
    if (!cconv_mul(dilation, kernel - 1, &span) || !cconv_add(span, 1, &span)) return -1;
    /* padded - span + (stride - 1): both terms below 2**63, so compute it in two steps. */
    int64_t numerator = padded - span;
    if (ceil_mode) {
        if (numerator > 0 && numerator > INT64_MAX - (stride - 1)) return -1;
        numerator += stride - 1;
    }
    int64_t out = floor_div(numerator, stride) + 1;
    /* ceil_mode: the last window must start inside the input or its leading padding. */
    if (ceil_mode) {
        const int64_t lead = in + pad_before; /* fits: padded did */
        if (out - 1 >= lead / stride + (lead % stride != 0)) out--;
    }
    return out >= 1 ? out : -1;
}

/* Whether every window along one axis holds at least one input pixel.  Only windows that start
 * in the leading padding can miss: their first tap at or after 0 is start mod dilation, which is
 * inside the input whenever dilation <= in. */
static int windows_reach_input(int64_t in, int64_t stride, int64_t pad_before, int64_t dilation,
                               int64_t out)
{
    if (dilation <= in) return 1;
    for (int64_t y = 0; y < out; y++) {
        int64_t offset;
        if (!cconv_mul(y, stride, &offset) || offset >= pad_before) break;
        if (cconv_pool_first_tap(offset - pad_before, dilation) >= in) return 0;
    }
    return 1;
}

/* Whether n*c*rows*cols elements of 8 bytes fit in 64-bit (and size_t) byte arithmetic. */
static int fits(int64_t n, int64_t c, int64_t rows, int64_t cols)
{
    const int64_t dims[] = {n, c, rows, cols, (int64_t)sizeof(double)};
    int64_t bytes;
    return cconv_mul_all(dims, 5, &bytes) && (uint64_t)bytes <= (uint64_t)SIZE_MAX;
}

cconv_status cconv_pool2d_check(const cconv_pool2d_params *p)
{
    if (!p) return CCONV_ERR_INVALID_ARGUMENT;
    if (p->batch < 0 || p->channels < 0 || p->in_height < 1 || p->in_width < 1)
        return CCONV_ERR_INVALID_ARGUMENT;
    if (p->kernel_height < 1 || p->kernel_width < 1 || p->pad_top < 0 || p->pad_bottom < 0 ||
        p->pad_left < 0 || p->pad_right < 0)
        return CCONV_ERR_INVALID_ARGUMENT;
    /* PyTorch's rule: padding at most half the kernel, so every window overlaps the input. */
    if (p->pad_top > p->kernel_height / 2 || p->pad_bottom > p->kernel_height / 2 ||
        p->pad_left > p->kernel_width / 2 || p->pad_right > p->kernel_width / 2)
        return CCONV_ERR_INVALID_ARGUMENT;
    if ((p->count_include_pad != 0 && p->count_include_pad != 1))
        return CCONV_ERR_INVALID_ARGUMENT;
    const int64_t oh = cconv_pool2d_output_size(p->in_height, p->kernel_height, p->stride_h,
                                                p->pad_top, p->pad_bottom, p->dilation_h,
                                                p->ceil_mode);
    const int64_t ow = cconv_pool2d_output_size(p->in_width, p->kernel_width, p->stride_w,
                                                p->pad_left, p->pad_right, p->dilation_w,
                                                p->ceil_mode);
    if (oh < 1 || ow < 1 || oh != p->out_height || ow != p->out_width)
        return CCONV_ERR_INVALID_ARGUMENT;
    if (!windows_reach_input(p->in_height, p->stride_h, p->pad_top, p->dilation_h, oh) ||
        !windows_reach_input(p->in_width, p->stride_w, p->pad_left, p->dilation_w, ow))
        return CCONV_ERR_INVALID_ARGUMENT;
    if (!fits(p->batch, p->channels, p->in_height, p->in_width) ||
        !fits(p->batch, p->channels, oh, ow))
        return CCONV_ERR_OVERFLOW;
    return CCONV_OK;
}

cconv_status cconv_adaptive_pool2d_check(const cconv_adaptive_pool2d_params *p)
{
    if (!p) return CCONV_ERR_INVALID_ARGUMENT;
    if (p->batch < 0 || p->channels < 0 || p->in_height < 1 || p->in_width < 1 ||
        p->out_height < 0 || p->out_width < 0)
        return CCONV_ERR_INVALID_ARGUMENT;
    /* The window bounds compute (i+1)*in + out - 1 for i < out. */
    int64_t t;
    if (!cconv_mul(p->out_height + 1, p->in_height, &t) || !cconv_add(t, p->out_height, &t) ||
        !cconv_mul(p->out_width + 1, p->in_width, &t) || !cconv_add(t, p->out_width, &t))
        return CCONV_ERR_OVERFLOW;
    if (!fits(p->batch, p->channels, p->in_height, p->in_width) ||
        !fits(p->batch, p->channels, p->out_height, p->out_width))
        return CCONV_ERR_OVERFLOW;
    return CCONV_OK;
}

cconv_status cconv_max_pool2d_backward_check(const cconv_adaptive_pool2d_params *p)
{
    if (!p) return CCONV_ERR_INVALID_ARGUMENT;
    if (p->batch < 0 || p->channels < 0 || p->in_height < 1 || p->in_width < 1 ||
        p->out_height < 0 || p->out_width < 0)
        return CCONV_ERR_INVALID_ARGUMENT;
    if (!fits(p->batch, p->channels, p->in_height, p->in_width) ||
        !fits(p->batch, p->channels, p->out_height, p->out_width))
        return CCONV_ERR_OVERFLOW;
    return CCONV_OK;
}
