/*
 * CPU feature detection with cpuid/xgetbv on x86 (gcc, clang and MSVC spellings), NEON by
 * definition on aarch64.  Compiled with the platform baseline: nothing here executes an
 * instruction the CPU might lack (xgetbv is only issued after cpuid reports OSXSAVE).
 */
#include "cpu_features.h"

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)
#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
static void cpuid(unsigned leaf, unsigned sub, unsigned r[4])
{
    int regs[4];
    __cpuidex(regs, (int)leaf, (int)sub);
    for (int i = 0; i < 4; i++) r[i] = (unsigned)regs[i];
}
static unsigned long long xgetbv0(void) { return _xgetbv(0); }
#else
#include <cpuid.h>
static void cpuid(unsigned leaf, unsigned sub, unsigned r[4])
{
    r[0] = r[1] = r[2] = r[3] = 0;
    if ((unsigned)__get_cpuid_max(0, 0) < leaf) return;
    __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
}
static unsigned long long xgetbv0(void)
{
    unsigned lo, hi;
    /* The xgetbv opcode, spelled out so no -mxsave flag is needed. */
    __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}
#endif

/* XCR0 bits: 1 SSE, 2 AVX (YMM upper), 5-7 opmask/ZMM upper halves/ZMM16-31. */
static unsigned long long os_saved_state(void)
{
    unsigned r[4];
    cpuid(1, 0, r);
    const unsigned osxsave = 1u << 27;
    if (!(r[2] & osxsave)) return 0;
    return xgetbv0();
}

static int detect_avx2_fma(void)
{
    unsigned l1[4], l7[4];
    cpuid(1, 0, l1);
    cpuid(7, 0, l7);
    const int avx = (l1[2] >> 28) & 1, fma = (l1[2] >> 12) & 1, avx2 = (l7[1] >> 5) & 1;
    return avx && fma && avx2 && (os_saved_state() & 0x6) == 0x6;
}

static int detect_avx512(void)
{
    unsigned l7[4];
    cpuid(7, 0, l7);
    const unsigned ebx = l7[1];
    const int f = (ebx >> 16) & 1, dq = (ebx >> 17) & 1, cd = (ebx >> 28) & 1,
              bw = (ebx >> 30) & 1, vl = (ebx >> 31) & 1;
    return detect_avx2_fma() && f && dq && cd && bw && vl &&
           (os_saved_state() & 0xE6) == 0xE6;
}

/* cpuid traps to the hypervisor in a virtual machine (thousands of cycles), and every conv2d call
 * asks, so each answer is computed once and kept.  The cache is an int written with the same
 * value by whichever thread gets there first: racing first calls at worst both run cpuid. */
static volatile int avx2_fma_cached = -1, avx512_cached = -1;

int cconv_cpu_has_avx2_fma(void)
{
    int v = avx2_fma_cached;
    if (v < 0) avx2_fma_cached = v = detect_avx2_fma();
    return v;
}

int cconv_cpu_has_avx512(void)
{
    int v = avx512_cached;
    if (v < 0) avx512_cached = v = detect_avx512();
    return v;
}
#else
int cconv_cpu_has_avx2_fma(void) { return 0; }
int cconv_cpu_has_avx512(void) { return 0; }
#endif

int cconv_cpu_has_neon(void)
{
#if defined(__aarch64__) || defined(_M_ARM64)
    return 1;
#else
    return 0;
#endif
}
