/*
 * The one list of instruction-set kernel sets, lowest first.  dispatch.c builds its table from it,
 * and the tests walk the same table through cconv_simd_count()/cconv_simd_name().
 * To add a set: write kernels/<isa>/, define cconv_kernels_<isa> there, and add it here.
 */
#ifndef CCONV_KERNEL_LIST_H
#define CCONV_KERNEL_LIST_H

#include "conv2d_kernels.h"

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)
#define CCONV_ARCH_X86 1
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
#define CCONV_ARCH_ARM64 1
#endif

extern const cconv_kernel_set cconv_kernels_generic;

#define CCONV_KERNEL_SETS(X) X(generic)

#endif /* CCONV_KERNEL_LIST_H */
