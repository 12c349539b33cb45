/*
 * The channels-last kernels' weights: repacked block after block as the kernels read them, once
 * per call by the channels-last driver (conv2d_cl_driver_template.h), or once for many calls by
 * cconv_conv2d_pack_* (conv2d_pack_template.h).  Instantiated per element type by
 * conv2d_driver.c; needs DRV_T, DRV_SUFFIX and DRV_TRANSPOSE (runtime/transpose.h's function for
 * DRV_T).
 */

/* Block b of block group g: its output channels' weights as [taps][reduce][width] (width = the
 * block's vectors), zero past the group's last filter; and their biases. */
static void DRV_FN(cl_pack_block_)(const cconv_conv2d_cl_plan *pl, const DRV_T *weight,
                                   const DRV_T *bias, int64_t g, int64_t b, DRV_T *packed_w,
                                   DRV_T *packed_b)
{
    const int64_t first = b * pl->block, out = pl->group_out;
    int64_t width = out - first < pl->block ? out - first : pl->block;
    width = (width + pl->vl - 1) / pl->vl * pl->vl;
    const int64_t valid = out - first < width ? out - first : width;
    const int64_t rt = pl->reduce * pl->taps;
    DRV_T *dst = packed_w + (g * pl->padded_out + first) * rt;
    const DRV_T *src = weight + (g * out + first) * rt;
    /* Source (c, t) goes to row t*reduce + c: per input channel, a transpose of the block's
     * filters' taps (4 x 4 blocks in registers where the baseline has them). */
    const int64_t taps = pl->taps, reduce = pl->reduce;
    for (int64_t c = 0; c < reduce; c++) {
        DRV_TRANSPOSE(src + c * taps, (ptrdiff_t)rt, 1, dst + c * width,
                      (ptrdiff_t)(reduce * width), valid, taps);
    }
    if (valid < width) { /* zero lanes past the group's last filter */
        for (int64_t j = 0; j < rt; j++) {
            for (int64_t k = valid; k < width; k++) dst[j * width + k] = (DRV_T)0;
        }
    }
    if (packed_b) {
        DRV_T *pb = packed_b + g * pl->padded_out + first;
        for (int64_t k = 0; k < width; k++) pb[k] = k < valid ? bias[g * out + first + k] : 0;
    }
}

typedef struct DRV_FN(cl_pack_call_) {
    const cconv_conv2d_cl_plan *pl;
    const DRV_T *weight, *bias;
    DRV_T *packed_w, *packed_b;
} DRV_FN(cl_pack_call_);

static int DRV_FN(cl_pack_one_)(void *context, int64_t item, int slot)
{
    const DRV_FN(cl_pack_call_) *c = (const DRV_FN(cl_pack_call_) *)context;
    (void)slot;
    DRV_FN(cl_pack_block_)(c->pl, c->weight, c->bias, item / c->pl->blocks,
                           item % c->pl->blocks, c->packed_w, c->packed_b);
    return 0;
}

/* Packs the weights (and bias, when not NULL) for plan into packed_w and packed_b, one work item
 * per block, on the call's threads. */
static cconv_loop_result DRV_FN(cl_pack_weights_)(const cconv_conv2d_cl_plan *plan,
                                                   const cconv_conv2d_params *p,
                                                   const DRV_T *weight, const DRV_T *bias,
                                                   DRV_T *packed_w, DRV_T *packed_b)
{
    DRV_FN(cl_pack_call_) pack = {plan, weight, bias, packed_w, packed_b};
    const cconv_parallel_loop pack_loop = {plan->block_groups * plan->blocks,
                                           plan->threads,
                                           DRV_FN(cl_pack_one_),
                                           &pack,
                                           p->run.poll,
                                           p->run.poll_context,
                                           NULL,
                                           NULL,
                                           0.0};
    return cconv_parallel_run(&pack_loop);
}
