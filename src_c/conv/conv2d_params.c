/* Validation of the parameter struct and the output-size formula, all in checked 64-bit math. */
#include "cconv.h"
#include "runtime/checked_math.h"

int64_t cconv_conv2d_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad_before,
                                 int64_t pad_after, int64_t dilation)
{
    if (in < 0 || kernel < 1 || stride < 1 || dilation < 1 || pad_before < 0 || pad_after < 0)
        return -1;
    int64_t padded, span;
    if (!cconv_add(in, pad_before, &padded) || !cconv_add(padded, pad_after, &padded)) return -1;
    if (!cconv_mul(dilation, kernel - 1, &span) || !cconv_add(span, 1, &span)) return -1;
    if (span > padded) return -1;
    return (padded - span) / stride + 1;
}

cconv_status cconv_conv2d_check(const cconv_conv2d_params *p)
{
    if (!p) return CCONV_ERR_INVALID_ARGUMENT;
    if (p->batch < 0 || p->in_channels < 0 || p->in_height < 0 || p->in_width < 0 ||
        p->out_channels < 0 || p->groups < 1)
        return CCONV_ERR_INVALID_ARGUMENT;
    if (p->in_channels % p->groups != 0 || p->out_channels % p->groups != 0)
        return CCONV_ERR_INVALID_ARGUMENT;
    if ((int)p->activation < (int)CCONV_ACTIVATION_NONE ||
        (int)p->activation > (int)CCONV_ACTIVATION_CLAMP)
        return CCONV_ERR_INVALID_ARGUMENT;
    if ((int)p->padding_mode < (int)CCONV_PAD_ZEROS ||
        (int)p->padding_mode > (int)CCONV_PAD_SYMMETRIC)
        return CCONV_ERR_INVALID_ARGUMENT;
    /* A border that repeats input pixels needs some (only the constant one fills empty input). */
    if (p->padding_mode != CCONV_PAD_ZEROS && (p->in_height == 0 || p->in_width == 0))
        return CCONV_ERR_INVALID_ARGUMENT;
    if ((int)p->input_dtype < (int)CCONV_DTYPE_SAME || (int)p->input_dtype > (int)CCONV_DTYPE_I16)
        return CCONV_ERR_INVALID_ARGUMENT;
    const int64_t oh = cconv_conv2d_output_size(p->in_height, p->kernel_height, p->stride_h,
                                                p->pad_top, p->pad_bottom, p->dilation_h);
    const int64_t ow = cconv_conv2d_output_size(p->in_width, p->kernel_width, p->stride_w,
                                                p->pad_left, p->pad_right, p->dilation_w);
    if (oh < 0 || ow < 0) return CCONV_ERR_INVALID_ARGUMENT;
    if (oh != p->out_height || ow != p->out_width) return CCONV_ERR_INVALID_ARGUMENT;

    /* Every array's byte size must fit in int64 (so also in size_t on 64-bit targets). */
    const int64_t in_dims[] = {p->batch, p->in_channels, p->in_height, p->in_width,
                               (int64_t)sizeof(double)};
    const int64_t w_dims[] = {p->out_channels, p->in_channels / p->groups, p->kernel_height,
                              p->kernel_width, (int64_t)sizeof(double)};
    const int64_t out_dims[] = {p->batch, p->out_channels, oh, ow, (int64_t)sizeof(double)};
    int64_t bytes;
    if (!cconv_mul_all(in_dims, 5, &bytes) || (uint64_t)bytes > (uint64_t)SIZE_MAX)
        return CCONV_ERR_OVERFLOW;
    if (!cconv_mul_all(w_dims, 5, &bytes) || (uint64_t)bytes > (uint64_t)SIZE_MAX)
        return CCONV_ERR_OVERFLOW;
    if (!cconv_mul_all(out_dims, 5, &bytes) || (uint64_t)bytes > (uint64_t)SIZE_MAX)
        return CCONV_ERR_OVERFLOW;
    return CCONV_OK;
}
