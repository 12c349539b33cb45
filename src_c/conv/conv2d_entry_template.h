/*
 * The conv2d entry points of one element type, after the planar and channels-last drivers
 * (conv2d_driver_template.h, conv2d_cl_driver_template.h): the checks, the cases no kernel
 * runs, and the choice between the two drivers.
 */

static cconv_status DRV_FN(resolve_set_)(const cconv_conv2d_params *p,
                                         const cconv_kernel_set **set)
{
    cconv_status status = cconv_conv2d_check(p);
    if (status != CCONV_OK) return status;
    if (!cconv_dtype_valid(p->input_dtype, sizeof(DRV_T))) return CCONV_ERR_INVALID_ARGUMENT;
    const int simd = p->run.simd < 0 ? cconv_simd_best() : p->run.simd;
    if (!cconv_simd_supported(simd)) return CCONV_ERR_UNSUPPORTED_SIMD;
    *set = cconv_kernel_set_at(simd);
    return CCONV_OK;
}

/* Bytes of temporary memory a call with these parameters allocates (all threads). */
static cconv_status DRV_FN(workspace_)(const cconv_conv2d_params *p, size_t *bytes)
{
    const cconv_kernel_set *set;
    *bytes = 0;
    cconv_status status = DRV_FN(resolve_set_)(p, &set);
    if (status != CCONV_OK) return status;
    if (p->batch == 0 || p->out_channels == 0 || p->out_height == 0 || p->out_width == 0)
        return CCONV_OK;
    if (p->in_channels == 0) return CCONV_OK;
    if (cconv_conv2d_cl_suits(p, (int64_t)set->DRV_SET(vl))) {
        cconv_conv2d_cl_plan cl;
        status = DRV_FN(cl_plan_)(p, set, &cl);
        if (status != CCONV_OK) return status;
        *bytes = cl.workspace_bytes;
        cconv_conv2d_cl_plan_free(&cl);
        return CCONV_OK;
    }
    cconv_conv2d_plan plan;
    status = DRV_FN(make_plan_)(p, set, &plan);
    if (status != CCONV_OK) return status;
    *bytes = plan.workspace_bytes;
    cconv_conv2d_plan_free(&plan);
    return CCONV_OK;
}

/* Which kernels a call runs (see cconv_conv2d_kernels_used). */
static const char *DRV_FN(kernels_used_)(const cconv_conv2d_params *p)
{
    const cconv_kernel_set *set;
    if (DRV_FN(resolve_set_)(p, &set) != CCONV_OK) return NULL;
    if (p->batch == 0 || p->out_channels == 0 || p->out_height == 0 || p->out_width == 0 ||
        p->in_channels == 0)
        return "none";
    if (cconv_conv2d_cl_suits(p, (int64_t)set->DRV_SET(vl)))
        return p->in_channels == p->groups && p->groups > 1 ? "channels-last depthwise"
                                                             : "channels-last";
    cconv_conv2d_plan plan;
    if (DRV_FN(make_plan_)(p, set, &plan) != CCONV_OK) return NULL;
    static const char *const dw_names[2][3] = {
        {"planar dw3x3s1", "planar dw5x5s1", "planar dw7x7s1"},
        {"planar dw3x3s2", "planar dw5x5s2", "planar dw7x7s2"}};
    const char *name = plan.dw_k   ? dw_names[plan.stride_h - 1][(plan.dw_k - 3) / 2]
                       : plan.rows ? "planar rows"
                                   : "planar";
    cconv_conv2d_plan_free(&plan);
    return name;
}

cconv_status DRV_FN(cconv_conv2d_)(const cconv_conv2d_params *p, const void *input,
                                   const DRV_T *weight, const DRV_T *bias, DRV_T *output)
{
    const cconv_kernel_set *set;
    cconv_status status = DRV_FN(resolve_set_)(p, &set);
    if (status != CCONV_OK) return status;
    if (p->batch == 0 || p->out_channels == 0 || p->out_height == 0 || p->out_width == 0)
        return CCONV_OK;
    if (p->in_channels == 0) {
        /* Filters of depth 0: every output is its bias (then the output stage).  Handled here
         * because the kernel size is then unbounded by the weight's (empty) memory and must not
         * size any table. */
        if (!output) return CCONV_ERR_INVALID_ARGUMENT;
        cconv_conv2d_plan plan;
        memset(&plan, 0, sizeof(plan));
        cconv_conv2d_plan_layout(&plan, p);
        for (int64_t n = 0; n < p->batch; n++) {
            for (int64_t o = 0; o < p->out_channels; o++) {
                const DRV_T value = bias ? bias[o] : (DRV_T)0;
                for (int64_t y = 0; y < p->out_height; y++) {
                    DRV_T *row = output + n * plan.out_stride_n + o * plan.out_stride_c +
                                 y * plan.out_stride_h;
                    for (int64_t x = 0; x < p->out_width; x++) {
                        DRV_T *at = row + x * plan.out_stride_w;
                        *at = value;
                        if (plan.staged) DRV_FN(stage_)(&plan, set, output, at, at, 1);
                    }
                }
            }
        }
        return CCONV_OK;
    }
    if (!input || !weight || !output) return CCONV_ERR_INVALID_ARGUMENT;

    if (cconv_conv2d_cl_suits(p, (int64_t)set->DRV_SET(vl)))
        return DRV_FN(conv2d_cl_)(p, set, input, weight, bias, output);
    return DRV_FN(conv2d_planar_)(p, set, input, weight, bias, output);
}
