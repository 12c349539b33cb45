/*
 * cconv_conv2d_pack_f32/_f64: the weights packed once, as the channels-last driver would pack
 * them per call (its cl_pack_weights_), for calls that repeat one layer.  Instantiated per
 * element type by conv2d_driver.c after the entry points, whose checks and kernel choice it
 * shares, so that a call and its packing always agree on the path.
 */

cconv_status DRV_FN(cconv_conv2d_pack_)(const cconv_conv2d_params *p, const DRV_T *weight,
                                        const DRV_T *bias, cconv_conv2d_packed **packed)
{
    if (!packed) return CCONV_ERR_INVALID_ARGUMENT;
    *packed = NULL;
    const cconv_kernel_set *set;
    cconv_status status = DRV_FN(resolve_set_)(p, &set);
    if (status != CCONV_OK) return status;
    /* Nothing to compute, or the planar kernels (weights read in place): nothing to pack. */
    if (p->batch == 0 || p->out_channels == 0 || p->out_height == 0 || p->out_width == 0 ||
        p->in_channels == 0 || !cconv_conv2d_cl_suits(p, (int64_t)set->DRV_SET(vl)))
        return CCONV_OK;
    if (!weight) return CCONV_ERR_INVALID_ARGUMENT;
    cconv_conv2d_cl_plan plan;
    status = DRV_FN(cl_plan_)(p, set, &plan);
    if (status != CCONV_OK) return status;
    cconv_conv2d_packed *pk = cconv_conv2d_packed_new(&plan, set, sizeof(DRV_T), bias != NULL);
    cconv_loop_result result = CCONV_LOOP_ITEM_FAILED;
    if (pk)
        result = DRV_FN(cl_pack_weights_)(&plan, p, weight, bias, (DRV_T *)pk->weight,
                                          (DRV_T *)pk->bias);
    cconv_conv2d_cl_plan_free(&plan);
    if (result != CCONV_LOOP_DONE) {
        cconv_conv2d_packed_destroy(pk);
        return result == CCONV_LOOP_POLL_STOPPED ? CCONV_ERR_INTERRUPTED : CCONV_ERR_NO_MEMORY;
    }
    *packed = pk;
    return CCONV_OK;
}
