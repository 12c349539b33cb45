/*
 * How conv2d reads its input, shared by the drivers and the reference kernel: the border rule
 * (which input pixel a padded position repeats) and the input's element type.
 */
#ifndef CCONV_CONV2D_INPUT_H
#define CCONV_CONV2D_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "cconv.h"

/* The input index that padded index i (any integer) of an axis of n >= 1 pixels reads under
 * mode, or -1 for the constant border (ZEROS) outside [0, n).  Wider padding continues the
 * pattern, as numpy.pad does. */
static inline int64_t cconv_border_index(int64_t i, int64_t n, cconv_padding_mode mode)
{
    if (i >= 0 && i < n) return i;
    switch (mode) {
    case CCONV_PAD_REPLICATE: return i < 0 ? 0 : n - 1;
    case CCONV_PAD_CIRCULAR: {
        const int64_t r = i % n;
        return r < 0 ? r + n : r;
    }
    case CCONV_PAD_REFLECT: { /* period 2(n - 1): 0 1 .. n-1 n-2 .. 1 */
        if (n == 1) return 0;
        const int64_t period = 2 * (n - 1);
        int64_t r = i % period;
        if (r < 0) r += period;
        return r < n ? r : period - r;
    }
    case CCONV_PAD_SYMMETRIC: { /* period 2n: 0 1 .. n-1 n-1 .. 0 */
        const int64_t period = 2 * n;
        int64_t r = i % period;
        if (r < 0) r += period;
        return r < n ? r : period - 1 - r;
    }
    default: return -1;
    }
}

/* Bytes per element of an input of type t, where `same` is the computation's element size. */
static inline size_t cconv_dtype_size(cconv_dtype t, size_t same)
{
    switch (t) {
    case CCONV_DTYPE_F32: return 4;
    case CCONV_DTYPE_U8:
    case CCONV_DTYPE_I8: return 1;
    case CCONV_DTYPE_U16:
    case CCONV_DTYPE_I16: return 2;
    default: return same;
    }
}

/* Whether the _f32 (same = 4) or _f64 (same = 8) entry points take an input of type t. */
static inline int cconv_dtype_valid(cconv_dtype t, size_t same)
{
    switch (t) {
    case CCONV_DTYPE_SAME:
    case CCONV_DTYPE_U8:
    case CCONV_DTYPE_I8:
    case CCONV_DTYPE_U16:
    case CCONV_DTYPE_I16: return 1;
    case CCONV_DTYPE_F32: return same == 8;
    default: return 0;
    }
}

/* Element i of an input of type t, as a double (exact for every type here).  `same`: the
 * computation's element size, for CCONV_DTYPE_SAME. */
static inline double cconv_load_element(const void *base, int64_t i, cconv_dtype t, size_t same)
{
    switch (t) {
    case CCONV_DTYPE_F32: return (double)((const float *)base)[i];
    case CCONV_DTYPE_U8: return (double)((const uint8_t *)base)[i];
    case CCONV_DTYPE_I8: return (double)((const int8_t *)base)[i];
    case CCONV_DTYPE_U16: return (double)((const uint16_t *)base)[i];
    case CCONV_DTYPE_I16: return (double)((const int16_t *)base)[i];
    default:
        return same == 4 ? (double)((const float *)base)[i] : ((const double *)base)[i];
    }
}

#endif
