/* The reference kernels, one per element type, from a single template. */
#include "cconv.h"
#include "conv/conv2d_input.h"

#define REF_T float
#define REF_NAME cconv_conv2d_ref_f32
#include "conv2d_ref_template.h"
#undef REF_T
#undef REF_NAME

#define REF_T double
#define REF_NAME cconv_conv2d_ref_f64
#include "conv2d_ref_template.h"
#undef REF_T
#undef REF_NAME
