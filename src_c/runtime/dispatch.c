/*
 * The instruction-set table, built once from kernels/kernel_list.h.  It holds no mutable state:
 * callers pick a path per call (cconv_run_options.simd), so nothing here needs a lock.
 */
#include <string.h>

#include "cconv.h"
#include "kernel_list.h"
#include "runtime/thread_pool.h"

#define CCONV_TABLE_ENTRY(isa) &cconv_kernels_##isa,
static const cconv_kernel_set *const kernel_table[] = {CCONV_KERNEL_SETS(CCONV_TABLE_ENTRY)};
#define KERNEL_TABLE_SIZE ((int)(sizeof(kernel_table) / sizeof(kernel_table[0])))

const cconv_kernel_set *cconv_kernel_set_at(int index)
{
    if (index < 0 || index >= KERNEL_TABLE_SIZE) return NULL;
    return kernel_table[index];
}

int cconv_simd_count(void) { return KERNEL_TABLE_SIZE; }

const char *cconv_simd_name(int index)
{
    const cconv_kernel_set *set = cconv_kernel_set_at(index);
    return set ? set->name : NULL;
}

int cconv_simd_supported(int index)
{
    const cconv_kernel_set *set = cconv_kernel_set_at(index);
    if (!set) return 0;
    return set->cpu_supports ? set->cpu_supports() : 1;
}

int cconv_simd_find(const char *name)
{
    if (!name) return -1;
    for (int i = 0; i < KERNEL_TABLE_SIZE; i++) {
        if (strcmp(kernel_table[i]->name, name) == 0) return i;
    }
    return -1;
}

int cconv_simd_best(void)
{
    for (int i = KERNEL_TABLE_SIZE - 1; i > 0; i--) {
        if (cconv_simd_supported(i)) return i;
    }
    return 0;
}

int cconv_max_threads(void) { return cconv_default_threads(); }

const char *cconv_status_message(cconv_status status)
{
    switch (status) {
    case CCONV_OK: return "success";
    case CCONV_ERR_INVALID_ARGUMENT: return "invalid argument";
    case CCONV_ERR_OVERFLOW: return "array sizes overflow 64-bit arithmetic";
    case CCONV_ERR_NO_MEMORY: return "out of memory for a temporary buffer";
    case CCONV_ERR_UNSUPPORTED_SIMD: return "the requested SIMD path cannot run on this CPU";
    case CCONV_ERR_INTERRUPTED: return "interrupted";
    }
    return "unknown status";
}
