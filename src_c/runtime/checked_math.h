/* 64-bit size arithmetic that reports overflow instead of wrapping. */
#ifndef CCONV_CHECKED_MATH_H
#define CCONV_CHECKED_MATH_H

#include <stdint.h>

/* *r = a * b for non-negative a, b; returns 0 on overflow. */
static inline int cconv_mul(int64_t a, int64_t b, int64_t *r)
{
    if (a < 0 || b < 0) return 0;
    if (a != 0 && b > INT64_MAX / a) return 0;
    *r = a * b;
    return 1;
}

/* *r = a + b for non-negative a, b; returns 0 on overflow. */
static inline int cconv_add(int64_t a, int64_t b, int64_t *r)
{
    if (a < 0 || b < 0 || a > INT64_MAX - b) return 0;
    *r = a + b;
    return 1;
}

/* ceil(a / b) for a >= 0, b >= 1, without forming a + b - 1: a padding or shift near 2^62 and a
 * stride as large would overflow it. */
static inline int64_t cconv_ceil_div(int64_t a, int64_t b) { return a / b + (a % b != 0); }

/* Product of n non-negative factors; returns 0 on overflow. */
static inline int cconv_mul_all(const int64_t *factors, int n, int64_t *r)
{
    int64_t acc = 1;
    for (int i = 0; i < n; i++) {
        if (!cconv_mul(acc, factors[i], &acc)) return 0;
    }
    *r = acc;
    return 1;
}

#endif
