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

/* Each set is listed only when its folder was compiled (setup.py defines CCONV_HAVE_<ISA>) for
 * the architecture it targets. */
#if defined(CCONV_HAVE_AVX2) && defined(CCONV_ARCH_X86)
extern const cconv_kernel_set cconv_kernels_avx2;
#define CCONV_KERNEL_SET_AVX2_ENTRY(X) X(avx2)
#else
#define CCONV_KERNEL_SET_AVX2_ENTRY(X)
#endif

#if defined(CCONV_HAVE_AVX512) && defined(CCONV_ARCH_X86)
extern const cconv_kernel_set cconv_kernels_avx512;
#define CCONV_KERNEL_SET_AVX512_ENTRY(X) X(avx512)
#else
#define CCONV_KERNEL_SET_AVX512_ENTRY(X)
#endif

#if defined(CCONV_HAVE_NEON) && defined(CCONV_ARCH_ARM64)
extern const cconv_kernel_set cconv_kernels_neon;
#define CCONV_KERNEL_SET_NEON_ENTRY(X) X(neon)
#else
#define CCONV_KERNEL_SET_NEON_ENTRY(X)
#endif

#define CCONV_KERNEL_SETS(X)                                                                      \
    X(generic) CCONV_KERNEL_SET_AVX2_ENTRY(X) CCONV_KERNEL_SET_AVX512_ENTRY(X)                    \
        CCONV_KERNEL_SET_NEON_ENTRY(X)

#endif /* CCONV_KERNEL_LIST_H */
