/* conv2d by Winograd's minimal filtering, F(2x2, 3x3) and F(4x4, 3x3): the driver
 * (winograd_driver_template.h) instantiated for float and double, and the entry points of
 * cconv.h.  The transforms are per instruction set (kernels/winograd_transforms_template.h). */
#include <stdlib.h>
#include <string.h>

#include "cconv.h"
#include "conv2d_kernels.h"
#include "conv/conv2d_input.h"
#include "conv/winograd_plan.h"
#include "runtime/aligned_alloc.h"
#include "runtime/checked_math.h"
#include "runtime/thread_pool.h"

#define WG_CAT_(a, b) a##b
#define WG_CAT(a, b) WG_CAT_(a, b)
#define WG_FN(name) WG_CAT(name, WG_SUFFIX)

#define WG_T float
#define WG_SUFFIX f32
#define WG_LANES CCONV_WINOGRAD_LANES_F32
#define WG_UKERNEL cconv_f32_conv2d_ukernel
#define WG_SET(field) f32_##field
#define WG_SET_TYPE(kind) cconv_f32_##kind
#define WG_DIRECT cconv_conv2d_f32
#include "winograd_driver_template.h"
#undef WG_T
#undef WG_SUFFIX
#undef WG_LANES
#undef WG_UKERNEL
#undef WG_SET
#undef WG_SET_TYPE
#undef WG_DIRECT

#define WG_T double
#define WG_SUFFIX f64
#define WG_LANES CCONV_WINOGRAD_LANES_F64
#define WG_UKERNEL cconv_f64_conv2d_ukernel
#define WG_SET(field) f64_##field
#define WG_SET_TYPE(kind) cconv_f64_##kind
#define WG_DIRECT cconv_conv2d_f64
#include "winograd_driver_template.h"

cconv_status cconv_conv2d_winograd_check(const cconv_conv2d_params *params, int tile)
{
    if (!params) return CCONV_ERR_INVALID_ARGUMENT;
    return cconv_winograd_supported(params, tile);
}

cconv_status cconv_conv2d_winograd_f32(const cconv_conv2d_params *params, int tile,
                                       const void *input, const float *weight, const float *bias,
                                       float *output)
{
    if (!params) return CCONV_ERR_INVALID_ARGUMENT;
    return winograd_f32(params, tile, input, weight, NULL, bias, output);
}

cconv_status cconv_conv2d_winograd_f64(const cconv_conv2d_params *params, int tile,
                                       const void *input, const double *weight,
                                       const double *bias, double *output)
{
    if (!params) return CCONV_ERR_INVALID_ARGUMENT;
    return winograd_f64(params, tile, input, weight, NULL, bias, output);
}

cconv_status cconv_conv2d_winograd_workspace_bytes(const cconv_conv2d_params *params, int tile,
                                                   size_t elem_size, size_t *bytes)
{
    if (!bytes) return CCONV_ERR_INVALID_ARGUMENT;
    *bytes = 0;
    if (!params) return CCONV_ERR_INVALID_ARGUMENT;
    if (elem_size == sizeof(float)) return workspace_f32(params, tile, bytes);
    if (elem_size == sizeof(double)) return workspace_f64(params, tile, bytes);
    return CCONV_ERR_INVALID_ARGUMENT;
}

size_t cconv_conv2d_winograd_weights_elems(const cconv_conv2d_params *params, int tile,
                                           size_t elem_size)
{
    if (!params) return 0;
    if (elem_size == sizeof(float)) return weights_elems_f32(params, tile);
    if (elem_size == sizeof(double)) return weights_elems_f64(params, tile);
    return 0;
}

cconv_status cconv_conv2d_winograd_weights_f32(const cconv_conv2d_params *params, int tile,
                                               const float *weight, float *u, int *finite)
{
    if (!params || !finite) return CCONV_ERR_INVALID_ARGUMENT;
    return weights_f32(params, tile, weight, u, finite);
}

cconv_status cconv_conv2d_winograd_weights_f64(const cconv_conv2d_params *params, int tile,
                                               const double *weight, double *u, int *finite)
{
    if (!params || !finite) return CCONV_ERR_INVALID_ARGUMENT;
    return weights_f64(params, tile, weight, u, finite);
}

cconv_status cconv_conv2d_winograd_given_f32(const cconv_conv2d_params *params, int tile,
                                             const void *input, const float *weight,
                                             const float *u, const float *bias, float *output)
{
    if (!params || !u) return CCONV_ERR_INVALID_ARGUMENT;
    return winograd_f32(params, tile, input, weight, u, bias, output);
}

cconv_status cconv_conv2d_winograd_given_f64(const cconv_conv2d_params *params, int tile,
                                             const void *input, const double *weight,
                                             const double *u, const double *bias,
                                             double *output)
{
    if (!params || !u) return CCONV_ERR_INVALID_ARGUMENT;
    return winograd_f64(params, tile, input, weight, u, bias, output);
}
