/* Allocation, checks and release of packed weights; see conv2d_packed.h.  The packing itself is
 * the channels-last driver's (conv2d_cl_driver_template.h), instantiated per element type. */
#include <stdlib.h>

#include "conv/conv2d_packed.h"
#include "runtime/aligned_alloc.h"

cconv_conv2d_packed *cconv_conv2d_packed_new(const cconv_conv2d_cl_plan *plan, const void *set,
                                             size_t elem_size, int with_bias)
{
    cconv_conv2d_packed *pk = (cconv_conv2d_packed *)calloc(1, sizeof(*pk));
    if (!pk) return NULL;
    pk->set = set;
    pk->elem_size = elem_size;
    pk->block_groups = plan->block_groups;
    pk->group_out = plan->group_out;
    pk->padded_out = plan->padded_out;
    pk->reduce = plan->reduce;
    pk->taps = plan->taps;
    pk->vl = plan->vl;
    pk->block = plan->block;
    pk->weight_elems = plan->weight_elems;
    pk->bias_elems = with_bias ? plan->bias_elems : 0;
    /* (The plan checked weight_elems * elem_size against overflow.) */
    pk->weight = cconv_aligned_calloc(pk->weight_elems * elem_size);
    pk->bias = with_bias ? cconv_aligned_calloc(pk->bias_elems * elem_size) : NULL;
    if (!pk->weight || (with_bias && !pk->bias)) {
        cconv_conv2d_packed_destroy(pk);
        return NULL;
    }
    return pk;
}

int cconv_conv2d_packed_fits(const cconv_conv2d_packed *pk, const cconv_conv2d_cl_plan *plan,
                             const void *set, size_t elem_size, int with_bias)
{
    return pk->set == set && pk->elem_size == elem_size &&
           pk->block_groups == plan->block_groups && pk->group_out == plan->group_out &&
           pk->padded_out == plan->padded_out && pk->reduce == plan->reduce &&
           pk->taps == plan->taps && pk->vl == plan->vl && pk->block == plan->block &&
           pk->weight_elems == plan->weight_elems && (pk->bias != NULL) == (with_bias != 0);
}

size_t cconv_conv2d_packed_bytes(const cconv_conv2d_packed *pk)
{
    if (!pk) return 0;
    return (pk->weight_elems + pk->bias_elems) * pk->elem_size;
}

void cconv_conv2d_packed_destroy(cconv_conv2d_packed *pk)
{
    if (!pk) return;
    cconv_aligned_free(pk->weight);
    cconv_aligned_free(pk->bias);
    free(pk);
}
