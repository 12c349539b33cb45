/*
 * The little of the operating system that the thread pool needs: a mutex, condition variables,
 * detached threads, atomic counters, a monotonic clock, the number of usable cores and a fork
 * hook.  POSIX threads everywhere but Windows, which gets its native SRW locks and condition
 * variables, and on Linux the CPU a thread runs on and a way to move it off one.  Internal to the
 * C core (the thread pool and the scratch cache).
 */
#ifndef CCONV_OS_THREADS_H
#define CCONV_OS_THREADS_H

#include <stdint.h>
#include <stdlib.h>

#if defined(_WIN32)
#define CCONV_THREADS_WIN32 1
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#include <process.h>

typedef SRWLOCK cconv_mutex;
typedef CONDITION_VARIABLE cconv_cond;
#define CCONV_MUTEX_INIT SRWLOCK_INIT
#define CCONV_COND_INIT CONDITION_VARIABLE_INIT

static inline void cconv_mutex_lock(cconv_mutex *m) { AcquireSRWLockExclusive(m); }
static inline void cconv_mutex_unlock(cconv_mutex *m) { ReleaseSRWLockExclusive(m); }
static inline void cconv_cond_init(cconv_cond *c) { InitializeConditionVariable(c); }
static inline void cconv_cond_destroy(cconv_cond *c) { (void)c; }
static inline void cconv_cond_wait(cconv_cond *c, cconv_mutex *m)
{
    SleepConditionVariableSRW(c, m, INFINITE, 0);
}
static inline void cconv_cond_signal(cconv_cond *c) { WakeConditionVariable(c); }

typedef struct {
    void (*fn)(void *);
    void *arg;
} cconv_thread_start_;

static inline unsigned __stdcall cconv_thread_entry_(void *start)
{
    cconv_thread_start_ s = *(cconv_thread_start_ *)start;
    HeapFree(GetProcessHeap(), 0, start);
    s.fn(s.arg);
    return 0;
}

/* Starts fn(arg) on a new thread that nobody joins; returns 0 when the thread could not start. */
static inline int cconv_thread_start_detached(void (*fn)(void *), void *arg)
{
    cconv_thread_start_ *s =
        (cconv_thread_start_ *)HeapAlloc(GetProcessHeap(), 0, sizeof(cconv_thread_start_));
    if (!s) return 0;
    s->fn = fn;
    s->arg = arg;
    uintptr_t handle = _beginthreadex(NULL, 0, cconv_thread_entry_, s, 0, NULL);
    if (!handle) {
        HeapFree(GetProcessHeap(), 0, s);
        return 0;
    }
    CloseHandle((HANDLE)handle);
    return 1;
}

static inline double cconv_monotonic_seconds(void)
{
    LARGE_INTEGER now, frequency;
    QueryPerformanceCounter(&now);
    QueryPerformanceFrequency(&frequency);
    return (double)now.QuadPart / (double)frequency.QuadPart;
}

static inline int cconv_usable_cores(void)
{
    DWORD_PTR process_mask = 0, system_mask = 0;
    int count = 0;
    if (GetProcessAffinityMask(GetCurrentProcess(), &process_mask, &system_mask)) {
        for (; process_mask; process_mask &= process_mask - 1) count++;
    }
    if (count < 1) {
        SYSTEM_INFO info;
        GetSystemInfo(&info);
        count = (int)info.dwNumberOfProcessors;
    }
    return count;
}

/* Windows has no fork. */
static inline int cconv_at_fork(void (*prepare)(void), void (*parent)(void), void (*child)(void))
{
    (void)prepare;
    (void)parent;
    (void)child;
    return 1;
}

#else /* POSIX */
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sched.h>
#endif

typedef pthread_mutex_t cconv_mutex;
typedef pthread_cond_t cconv_cond;
#define CCONV_MUTEX_INIT PTHREAD_MUTEX_INITIALIZER
#define CCONV_COND_INIT PTHREAD_COND_INITIALIZER

static inline void cconv_mutex_lock(cconv_mutex *m) { (void)pthread_mutex_lock(m); }
static inline void cconv_mutex_unlock(cconv_mutex *m) { (void)pthread_mutex_unlock(m); }
static inline void cconv_cond_init(cconv_cond *c) { (void)pthread_cond_init(c, NULL); }
static inline void cconv_cond_destroy(cconv_cond *c) { (void)pthread_cond_destroy(c); }
static inline void cconv_cond_wait(cconv_cond *c, cconv_mutex *m) { (void)pthread_cond_wait(c, m); }
static inline void cconv_cond_signal(cconv_cond *c) { (void)pthread_cond_signal(c); }

typedef struct {
    void (*fn)(void *);
    void *arg;
} cconv_thread_start_;

static inline void *cconv_thread_entry_(void *start)
{
    cconv_thread_start_ s = *(cconv_thread_start_ *)start;
    free(start);
    s.fn(s.arg);
    return NULL;
}

static inline int cconv_thread_start_detached(void (*fn)(void *), void *arg)
{
    cconv_thread_start_ *s = (cconv_thread_start_ *)malloc(sizeof(cconv_thread_start_));
    if (!s) return 0;
    s->fn = fn;
    s->arg = arg;
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0) {
        free(s);
        return 0;
    }
    pthread_t thread;
    int ok = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0 &&
             pthread_create(&thread, &attr, cconv_thread_entry_, s) == 0;
    pthread_attr_destroy(&attr);
    if (!ok) free(s);
    return ok;
}

static inline double cconv_monotonic_seconds(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + 1e-9 * (double)now.tv_nsec;
}

static inline int cconv_usable_cores(void)
{
#if defined(__linux__) && defined(CPU_COUNT)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
#endif
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    return online > 0 ? (int)(online < 4096 ? online : 4096) : 1;
}

static inline int cconv_at_fork(void (*prepare)(void), void (*parent)(void), void (*child)(void))
{
    return pthread_atfork(prepare, parent, child) == 0;
}
#endif

/* A hint to the CPU inside a spin-wait loop (lets a sibling hyperthread run, saves power). */
#if defined(_MSC_VER) && !defined(__clang__) && (defined(_M_X64) || defined(_M_IX86))
#include <intrin.h>
static inline void cconv_cpu_relax(void) { _mm_pause(); }
#elif (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
static inline void cconv_cpu_relax(void) { __builtin_ia32_pause(); }
#elif (defined(__GNUC__) || defined(__clang__)) && defined(__aarch64__)
static inline void cconv_cpu_relax(void) { __asm__ volatile("yield"); }
#else
static inline void cconv_cpu_relax(void) {}
#endif

/* Atomic operations on counters shared between the threads of one parallel loop. */
#if defined(_MSC_VER) && !defined(__clang__)
static inline int64_t cconv_atomic_fetch_add(volatile int64_t *p, int64_t v)
{
    return InterlockedExchangeAdd64((volatile LONG64 *)p, v);
}
static inline int cconv_atomic_load_int(volatile int *p) { return (int)InterlockedOr((volatile LONG *)p, 0); }
static inline void cconv_atomic_store_int(volatile int *p, int v)
{
    InterlockedExchange((volatile LONG *)p, (LONG)v);
}
#else
static inline int64_t cconv_atomic_fetch_add(volatile int64_t *p, int64_t v)
{
    return __atomic_fetch_add(p, v, __ATOMIC_RELAXED);
}
static inline int cconv_atomic_load_int(volatile int *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void cconv_atomic_store_int(volatile int *p, int v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
#endif

/* Where the pool's threads run (Linux; elsewhere -1 and no moves, the scheduler decides).
 * cconv_current_cpu: the CPU the calling thread runs on now.  cconv_move_off_cpus: moves the
 * calling thread to a CPU it may run on that is not in `taken` (a cpu_set_t), then gives it back
 * every CPU it could run on before, so the user's affinity is kept; 1 when it moved. */
#if defined(__linux__) && defined(_GNU_SOURCE) && defined(CPU_COUNT) && defined(CPU_SETSIZE)
#define CCONV_HAVE_CPU_MOVES 1
typedef cpu_set_t cconv_cpu_set;
static inline int cconv_current_cpu(void) { return sched_getcpu(); }
static inline void cconv_cpu_set_clear(cconv_cpu_set *s) { CPU_ZERO(s); }
static inline void cconv_cpu_set_add(cconv_cpu_set *s, int cpu)
{
    if (cpu >= 0 && cpu < CPU_SETSIZE) CPU_SET(cpu, s);
}
static inline int cconv_cpu_set_has(const cconv_cpu_set *s, int cpu)
{
    return cpu >= 0 && cpu < CPU_SETSIZE && CPU_ISSET(cpu, s);
}
static inline int cconv_move_off_cpus(const cconv_cpu_set *taken)
{
    cpu_set_t allowed, others;
    if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) return 0;
    CPU_AND(&others, &allowed, &allowed);
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (CPU_ISSET(cpu, taken)) CPU_CLR(cpu, &others);
    }
    if (CPU_COUNT(&others) == 0 || sched_setaffinity(0, sizeof(others), &others) != 0) return 0;
    (void)sched_setaffinity(0, sizeof(allowed), &allowed);
    return 1;
}
#else
typedef int cconv_cpu_set;
static inline int cconv_current_cpu(void) { return -1; }
static inline void cconv_cpu_set_clear(cconv_cpu_set *s) { *s = 0; }
static inline void cconv_cpu_set_add(cconv_cpu_set *s, int cpu) { (void)s; (void)cpu; }
static inline int cconv_cpu_set_has(const cconv_cpu_set *s, int cpu)
{
    (void)s;
    (void)cpu;
    return 0;
}
static inline int cconv_move_off_cpus(const cconv_cpu_set *taken)
{
    (void)taken;
    return 0;
}
#endif

#endif /* CCONV_OS_THREADS_H */
