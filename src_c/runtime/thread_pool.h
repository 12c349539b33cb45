/*
 * cconv's own thread pool: one parallel loop over independent work items, shared by every
 * operation's driver.  Internal to the C core.
 *
 * Why not OpenMP: libgomp cannot be used in a child process after fork once a parallel region
 * has run (the child's first parallel region waits forever for threads that were not copied),
 * and its end-of-region barrier makes the caller wait for every thread of the team, even one
 * that has not started yet because its core is busy.  This pool deals with both:
 *   - work is handed out one item at a time from a shared counter; the calling thread runs
 *     items too, and it waits at the end only for the helpers that took an item, so a helper
 *     that is slow to wake never holds the call back (at worst the caller runs every item);
 *   - pthread_atfork resets the pool in a child process, which starts fresh helpers on its
 *     first call.
 * Which thread runs an item never changes what the item computes: results are bitwise the same
 * at any thread count.
 */
#ifndef CCONV_THREAD_POOL_H
#define CCONV_THREAD_POOL_H

#include <stdint.h>

#include "cconv.h"

/* Runs work item `item`.  `slot` (0 .. threads-1) names the participant running it: the calling
 * thread is slot 0, and no two threads use the same slot during one loop, so per-slot scratch
 * needs no lock.  A non-zero return stops the loop (items not yet started are skipped). */
typedef int (*cconv_item_fn)(void *context, int64_t item, int slot);

typedef struct cconv_parallel_loop {
    int64_t items;
    int threads;           /* participants at most, the caller included; < 1 means 1 */
    cconv_item_fn run;
    void *context;
    cconv_poll_fn poll;    /* optional: asked on the calling thread between its items */
    void *poll_context;
    /* Optional: called once on the calling thread, between its items, when the loop's remaining
     * time (estimated from its progress so far) falls to handoff_seconds.  A pool helper is
     * recruited first, even when threads is 1, so the work goes on while the callback blocks
     * (the Python binding takes the GIL back there: the wait for a busy thread's switch interval
     * then overlaps the end of the computation instead of following it).  With a handoff the
     * loop may use one slot more than threads: slots 0 .. threads. */
    void (*handoff)(void *context);
    void *handoff_context;
    double handoff_seconds;
} cconv_parallel_loop;

typedef enum cconv_loop_result {
    CCONV_LOOP_DONE = 0,        /* every item ran */
    CCONV_LOOP_ITEM_FAILED = 1, /* an item returned non-zero */
    CCONV_LOOP_POLL_STOPPED = 2 /* the poll callback asked to stop */
} cconv_loop_result;

/* Runs the loop: the calling thread and up to threads-1 pool helpers take items until none is
 * left.  The poll callback is asked at most every CCONV_POLL_INTERVAL seconds (longer when one
 * poll itself takes long), never for a call shorter than that. */
cconv_loop_result cconv_parallel_run(const cconv_parallel_loop *loop);

#define CCONV_POLL_INTERVAL 0.1

/* Seconds on a monotonic clock (for the binding's own timing, e.g. of waits for the GIL). */
double cconv_monotonic_time(void);

/* What threads <= 0 means: OMP_NUM_THREADS when set to a positive number, else the cores this
 * process may run on.  Read once. */
int cconv_default_threads(void);

#endif
