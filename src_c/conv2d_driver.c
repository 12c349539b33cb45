/* The conv2d entry points: the driver template instantiated for float and double. */
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "cconv.h"
#include "conv2d_kernels.h"
#include "conv2d_plan.h"

#define DRV_T float
#define DRV_SUFFIX f32
#define DRV_UKERNEL cconv_f32_conv2d_ukernel
#define DRV_SET_MR f32_mr_max
#define DRV_SET_NR f32_nr
#define DRV_SET_UKERNELS f32_ukernels
#include "conv2d_driver_template.h"
#undef DRV_T
#undef DRV_SUFFIX
#undef DRV_UKERNEL
#undef DRV_SET_MR
#undef DRV_SET_NR
#undef DRV_SET_UKERNELS

#define DRV_T double
#define DRV_SUFFIX f64
#define DRV_UKERNEL cconv_f64_conv2d_ukernel
#define DRV_SET_MR f64_mr_max
#define DRV_SET_NR f64_nr
#define DRV_SET_UKERNELS f64_ukernels
#include "conv2d_driver_template.h"
