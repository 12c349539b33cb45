/* The max and average pooling entry points: the forward template instantiated for float and
 * double. */
#include <math.h>
#include <stdlib.h>

#include "cconv.h"
#include "pool/pool2d_common.h"

#define PF_T float
#define PF_CODE int32_t
#define PF_SUFFIX f32
#include "pool2d_forward_template.h"
#undef PF_T
#undef PF_CODE
#undef PF_SUFFIX

#define PF_T double
#define PF_CODE int64_t
#define PF_SUFFIX f64
#include "pool2d_forward_template.h"
#undef PF_T
#undef PF_CODE
#undef PF_SUFFIX
