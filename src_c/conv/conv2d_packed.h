/*
 * Packed weights (cconv.h's cconv_conv2d_packed): what a channels-last call would repack per
 * call, made once.  The packed layout depends on the kernel set and on the plan's block
 * geometry, never on the spatial size or batch; a packed set records that geometry so that a
 * call whose plan would pack differently refuses it instead of reading the wrong layout.
 */
#ifndef CCONV_CONV2D_PACKED_H
#define CCONV_CONV2D_PACKED_H

#include <stddef.h>
#include <stdint.h>

#include "cconv.h"
#include "conv/conv2d_cl_plan.h"

struct cconv_conv2d_packed {
    const void *set;      /* the kernel set (cconv_kernel_set) it was packed for */
    size_t elem_size;     /* 4 or 8 */
    /* The channels-last plan's weight geometry (see conv2d_cl_plan.h). */
    int64_t block_groups, group_out, padded_out, reduce, taps, vl, block;
    size_t weight_elems, bias_elems;
    void *weight;         /* block_groups * padded_out * reduce * taps, 64-byte aligned */
    void *bias;           /* block_groups * padded_out, or NULL when packed without bias */
};

/* Allocates a packed set for plan (bias storage when with_bias), weights zeroed; NULL when out
 * of memory. */
cconv_conv2d_packed *cconv_conv2d_packed_new(const cconv_conv2d_cl_plan *plan, const void *set,
                                             size_t elem_size, int with_bias);
/* 1 when a call with this plan, kernel set and element size, with or without a bias, may read
 * packed as its weights. */
int cconv_conv2d_packed_fits(const cconv_conv2d_packed *packed, const cconv_conv2d_cl_plan *plan,
                             const void *set, size_t elem_size, int with_bias);

#endif
