/* The gradients of max and average pooling: the backward template instantiated for float and
 * double. */
#include <string.h>

#include "cconv.h"
#include "pool/pool2d_common.h"

#define PB_T float
#define PB_SUFFIX f32
#include "pool2d_backward_template.h"
#undef PB_T
#undef PB_SUFFIX

#define PB_T double
#define PB_SUFFIX f64
#include "pool2d_backward_template.h"
#undef PB_T
#undef PB_SUFFIX
