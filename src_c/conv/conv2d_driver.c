/* The conv2d entry points: the planar and channels-last drivers, the entry points and the
 * weight packing, instantiated for float and double. */
#include <stdlib.h>
#include <string.h>

#include "cconv.h"
#include "conv2d_kernels.h"
#include "conv/conv2d_cl_plan.h"
#include "conv/conv2d_input.h"
#include "conv/conv2d_packed.h"
#include "conv/conv2d_plan.h"
#include "runtime/checked_math.h"
#include "runtime/thread_pool.h"
#include "runtime/transpose.h"

#define DRV_T float
#define DRV_SUFFIX f32
#define DRV_UKERNEL cconv_f32_conv2d_ukernel
#define DRV_DEINTERLEAVE cconv_f32_deinterleave2
#define DRV_SET(field) f32_##field
#define DRV_TRANSPOSE cconv_transpose_f32
#include "conv2d_driver_template.h"
#include "conv2d_cl_weights_template.h"
#include "conv2d_cl_driver_template.h"
#include "conv2d_entry_template.h"
#include "conv2d_pack_template.h"
#undef DRV_T
#undef DRV_SUFFIX
#undef DRV_UKERNEL
#undef DRV_DEINTERLEAVE
#undef DRV_SET
#undef DRV_TRANSPOSE
#undef DRV_FN
#undef DRV_CAT
#undef DRV_CAT_

#define DRV_T double
#define DRV_SUFFIX f64
#define DRV_UKERNEL cconv_f64_conv2d_ukernel
#define DRV_DEINTERLEAVE cconv_f64_deinterleave2
#define DRV_SET(field) f64_##field
#define DRV_TRANSPOSE cconv_transpose_f64
#include "conv2d_driver_template.h"
#include "conv2d_cl_weights_template.h"
#include "conv2d_cl_driver_template.h"
#include "conv2d_entry_template.h"
#include "conv2d_pack_template.h"

cconv_status cconv_conv2d_workspace_bytes(const cconv_conv2d_params *params, size_t elem_size,
                                          size_t *bytes)
{
    if (!bytes) return CCONV_ERR_INVALID_ARGUMENT;
    *bytes = 0;
    if (elem_size == sizeof(float)) return workspace_f32(params, bytes);
    if (elem_size == sizeof(double)) return workspace_f64(params, bytes);
    return CCONV_ERR_INVALID_ARGUMENT;
}

const char *cconv_conv2d_kernels_used(const cconv_conv2d_params *params, size_t elem_size)
{
    if (elem_size == sizeof(float)) return kernels_used_f32(params);
    if (elem_size == sizeof(double)) return kernels_used_f64(params);
    return NULL;
}
