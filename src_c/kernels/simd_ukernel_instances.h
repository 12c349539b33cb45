/*
 * Instantiates simd_ukernel_template.h for every row count 1..8 of one (type, ISA): the includer
 * defines the vector vocabulary, UK_NV and UK_INSTANCE(mr) (the function name for mr rows).
 * Sets with a smaller mr_max simply leave the larger instances out of their table; define
 * UK_MR_MAX to 4 to skip compiling them.
 */
#ifndef UK_MR_MAX
#define UK_MR_MAX 8
#define UK_MR_MAX_DEFAULTED
#endif

#define UK_MR 1
#define UK_NAME UK_INSTANCE(1)
#include "simd_ukernel_template.h"
#undef UK_MR
#undef UK_NAME
#define UK_MR 2
#define UK_NAME UK_INSTANCE(2)
#include "simd_ukernel_template.h"
#undef UK_MR
#undef UK_NAME
#define UK_MR 3
#define UK_NAME UK_INSTANCE(3)
#include "simd_ukernel_template.h"
#undef UK_MR
#undef UK_NAME
#define UK_MR 4
#define UK_NAME UK_INSTANCE(4)
#include "simd_ukernel_template.h"
#undef UK_MR
#undef UK_NAME
#if UK_MR_MAX > 4
#define UK_MR 5
#define UK_NAME UK_INSTANCE(5)
#include "simd_ukernel_template.h"
#undef UK_MR
#undef UK_NAME
#define UK_MR 6
#define UK_NAME UK_INSTANCE(6)
#include "simd_ukernel_template.h"
#undef UK_MR
#undef UK_NAME
#define UK_MR 7
#define UK_NAME UK_INSTANCE(7)
#include "simd_ukernel_template.h"
#undef UK_MR
#undef UK_NAME
#define UK_MR 8
#define UK_NAME UK_INSTANCE(8)
#include "simd_ukernel_template.h"
#undef UK_MR
#undef UK_NAME
#endif

#ifdef UK_MR_MAX_DEFAULTED
#undef UK_MR_MAX
#undef UK_MR_MAX_DEFAULTED
#endif
