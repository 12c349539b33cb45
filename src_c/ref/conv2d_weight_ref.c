/* The reference weight gradient, one per element type, straight from the definition in cconv.h
 * (a sum over every image, output row and column, in double).  Single-threaded; params->run is
 * ignored. */
#include "cconv.h"

#define REF_T float
#define REF_NAME cconv_conv2d_weight_ref_f32
#include "conv2d_weight_ref_template.h"
#undef REF_T
#undef REF_NAME

#define REF_T double
#define REF_NAME cconv_conv2d_weight_ref_f64
#include "conv2d_weight_ref_template.h"
#undef REF_T
#undef REF_NAME
