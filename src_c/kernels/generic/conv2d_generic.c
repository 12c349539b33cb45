/*
 * The generic kernel set: portable C, compiled with the platform baseline only, usable on every
 * CPU.  Tile: up to 4 output channels x 16 positions (f32) or 8 positions (f64).
 */
#include "kernel_list.h"

#define UK_NR 16
#define UK_T float
#define UK_MR 1
#define UK_NAME cconv_f32_conv2d_1x16__generic
#include "ukernel_template.h"
#undef UK_MR
#undef UK_NAME
#define UK_MR 2
#define UK_NAME cconv_f32_conv2d_2x16__generic
#include "ukernel_template.h"
#undef UK_MR
#undef UK_NAME
#define UK_MR 3
#define UK_NAME cconv_f32_conv2d_3x16__generic
#include "ukernel_template.h"
#undef UK_MR
#undef UK_NAME
#define UK_MR 4
#define UK_NAME cconv_f32_conv2d_4x16__generic
#include "ukernel_template.h"
#undef UK_MR
#undef UK_NAME
#undef UK_T
#undef UK_NR

#define UK_NR 8
#define UK_T double
#define UK_MR 1
#define UK_NAME cconv_f64_conv2d_1x8__generic
#include "ukernel_template.h"
#undef UK_MR
#undef UK_NAME
#define UK_MR 2
#define UK_NAME cconv_f64_conv2d_2x8__generic
#include "ukernel_template.h"
#undef UK_MR
#undef UK_NAME
#define UK_MR 3
#define UK_NAME cconv_f64_conv2d_3x8__generic
#include "ukernel_template.h"
#undef UK_MR
#undef UK_NAME
#define UK_MR 4
#define UK_NAME cconv_f64_conv2d_4x8__generic
#include "ukernel_template.h"
#undef UK_MR
#undef UK_NAME
#undef UK_T
#undef UK_NR

/* Channels-last: 4 positions x one "vector" of 16 (f32) or 8 (f64) channels. */
#define CL_MR 4
#define UK_T float
#define CL_NR 16
#define CL_NAME cconv_f32_cl_4x16__generic
#define DWC_NAME cconv_f32_dwc_4x16__generic
#define DWC3_NAME(SW) cconv_f32_dwc3_4x16_s##SW##__generic
#include "cl_ukernel_template.h"
#undef DWC3_NAME
#undef UK_T
#undef CL_NR
#undef CL_NAME
#undef DWC_NAME
#define UK_T double
#define CL_NR 8
#define CL_NAME cconv_f64_cl_4x8__generic
#define DWC_NAME cconv_f64_dwc_4x8__generic
#define DWC3_NAME(SW) cconv_f64_dwc3_4x8_s##SW##__generic
#include "cl_ukernel_template.h"
#undef DWC3_NAME
#undef UK_T
#undef CL_NR
#undef CL_NAME
#undef DWC_NAME
#undef CL_MR

/* One tile width per type (nv_max = wide_nv = 1, the "vector" being the whole 16- or 8-wide
 * row the compiler vectorises). */
/* The output stage (kernels/epilogue_template.h), vectorised by the compiler with this set's
 * flags. */
#define EP_T float
#define EP_NAME cconv_f32_epilogue__generic
#include "epilogue_template.h"
#undef EP_T
#undef EP_NAME
#define EP_T double
#define EP_NAME cconv_f64_epilogue__generic
#include "epilogue_template.h"
#undef EP_T
#undef EP_NAME

/* The Winograd transforms (kernels/winograd_transforms_template.h), vectorised by the compiler
 * with this set's flags. */
#define WG_T float
#define WG_LANES CCONV_WINOGRAD_LANES_F32
#define WG_FN(name) cconv_f32_winograd_##name##__generic
#include "winograd_transforms_template.h"
#undef WG_T
#undef WG_LANES
#undef WG_FN
#define WG_T double
#define WG_LANES CCONV_WINOGRAD_LANES_F64
#define WG_FN(name) cconv_f64_winograd_##name##__generic
#include "winograd_transforms_template.h"
#undef WG_T
#undef WG_LANES
#undef WG_FN

const cconv_kernel_set cconv_kernels_generic = {
    "generic",
    NULL, /* runs everywhere */
    4, 16, 1, 1,
    {{cconv_f32_conv2d_1x16__generic}, {cconv_f32_conv2d_2x16__generic},
     {cconv_f32_conv2d_3x16__generic}, {cconv_f32_conv2d_4x16__generic}},
    4, 8, 1, 1,
    {{cconv_f64_conv2d_1x8__generic}, {cconv_f64_conv2d_2x8__generic},
     {cconv_f64_conv2d_3x8__generic}, {cconv_f64_conv2d_4x8__generic}},
    0, {{NULL}}, /* no multi-row kernels: the general ones cover those shapes */
    0, {{NULL}},
    NULL, /* stride-2 packing: the driver's loop */
    NULL,
    {{NULL}}, /* depthwise k x k read in place: the general path */
    {{NULL}},
    cconv_f32_epilogue__generic,
    cconv_f64_epilogue__generic,
    4, 1, {cconv_f32_cl_4x16__generic}, {cconv_f32_dwc_4x16__generic},
    4, 1, {cconv_f64_cl_4x8__generic}, {cconv_f64_dwc_4x8__generic},
    1, {{cconv_f32_dwc3_4x16_s1__generic}, {cconv_f32_dwc3_4x16_s2__generic}},
    1, {{cconv_f64_dwc3_4x8_s1__generic}, {cconv_f64_dwc3_4x8_s2__generic}},
    {cconv_f32_winograd_input2__generic, cconv_f32_winograd_input4__generic},
    {cconv_f32_winograd_weight2__generic, cconv_f32_winograd_weight4__generic},
    {cconv_f32_winograd_output2__generic, cconv_f32_winograd_output4__generic},
    {cconv_f64_winograd_input2__generic, cconv_f64_winograd_input4__generic},
    {cconv_f64_winograd_weight2__generic, cconv_f64_winograd_weight4__generic},
    {cconv_f64_winograd_output2__generic, cconv_f64_winograd_output4__generic},
};
