/* The reference pooling kernels, one per element type, from a single template. */
#include <math.h>

#include "cconv.h"

#define REF_T float
#define REF_SUFFIX f32
#include "pool2d_ref_template.h"
#undef REF_T
#undef REF_SUFFIX

#define REF_T double
#define REF_SUFFIX f64
#include "pool2d_ref_template.h"
#undef REF_T
#undef REF_SUFFIX
