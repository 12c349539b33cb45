/* The adaptive pooling entry points: the adaptive template instantiated for float and double. */
#include <math.h>
#include <stdlib.h>

#include "cconv.h"
#include "pool/pool2d_common.h"

#define AP_T float
#define AP_CODE int32_t
#define AP_SUFFIX f32
#include "adaptive_pool2d_template.h"
#undef AP_T
#undef AP_CODE
#undef AP_SUFFIX

#define AP_T double
#define AP_CODE int64_t
#define AP_SUFFIX f64
#include "adaptive_pool2d_template.h"
#undef AP_T
#undef AP_CODE
#undef AP_SUFFIX
