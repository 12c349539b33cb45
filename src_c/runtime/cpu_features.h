/* Run-time CPU feature detection: what the CPU and the OS (saved register state) both allow. */
#ifndef CCONV_CPU_FEATURES_H
#define CCONV_CPU_FEATURES_H

int cconv_cpu_has_avx2_fma(void);  /* AVX2 + FMA3, with YMM state enabled by the OS */
int cconv_cpu_has_avx512(void);    /* AVX-512 F/CD/BW/DQ/VL, with ZMM state enabled by the OS */
int cconv_cpu_has_neon(void);      /* always on aarch64 */

#endif
