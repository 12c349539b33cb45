/* The reference transposed convolution, one per element type, from the definition in cconv.h:
 * every output sums the input pixels that reach it, found by dividing back (no phases, no
 * driver).  Accumulates in double.  Single-threaded; params->run is ignored. */
#include "cconv.h"

#define REF_T float
#define REF_NAME cconv_conv_transpose2d_ref_f32
#include "conv_transpose2d_ref_template.h"
#undef REF_T
#undef REF_NAME

#define REF_T double
#define REF_NAME cconv_conv_transpose2d_ref_f64
#include "conv_transpose2d_ref_template.h"
#undef REF_T
#undef REF_NAME
