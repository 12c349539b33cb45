/* The thread pool of thread_pool.h: helpers that take items of open loops, reset across fork. */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT, clock_gettime under -std=c99 */
#endif
#include <stdlib.h>
#include <string.h>

#include "thread_pool.h"

#include "os_threads.h"

/* More helpers than this are never started (threads= is capped at 1024 by the Python layer). */
#define CCONV_MAX_HELPERS 1023

static int parse_thread_count(const char *text)
{
    if (!text) return 0;
    while (*text == ' ' || *text == '\t') text++;
    long value = 0;
    int digits = 0;
    for (; *text >= '0' && *text <= '9' && value < 100000; text++, digits++)
        value = value * 10 + (*text - '0');
    /* OMP_NUM_THREADS may list one count per nesting level ("4,2"): the first one is ours. */
    if (!digits || (*text && *text != ',' && *text != ' ')) return 0;
    return value >= 1 ? (int)(value < 1024 ? value : 1024) : 0;
}

/* Read once; two threads racing to fill it compute and store the same value. */
static volatile int default_threads_cached = 0;

int cconv_default_threads(void)
{
    int n = cconv_atomic_load_int(&default_threads_cached);
    if (n < 1) {
        n = parse_thread_count(getenv("OMP_NUM_THREADS"));
        if (n < 1) n = cconv_usable_cores();
        if (n < 1) n = 1;
        if (n > CCONV_MAX_HELPERS + 1) n = CCONV_MAX_HELPERS + 1;
        cconv_atomic_store_int(&default_threads_cached, n);
    }
    return n;
}

/* One running parallel loop.  It lives on its caller's stack; helpers touch it only between
 * joining (which needs it on the pool's list) and leaving (which the caller waits for). */
typedef struct job {
    const cconv_parallel_loop *loop;
    volatile int64_t next_item;  /* atomic: the next item nobody has taken */
    volatile int stop;           /* atomic: a cconv_loop_result other than DONE stops the loop */
    /* Guarded by the pool's lock: */
    int helpers_wanted;          /* helpers that may still join */
    int helpers_inside;          /* helpers that joined and have not left */
    int next_slot;
    int lost_in_fork;            /* the process forked while helpers were inside */
    cconv_cond helpers_left;     /* signalled when helpers_inside drops to 0 */
    struct job *next;            /* the pool's list of running loops */
} job;

/* The pool.  Its lock guards everything here and the guarded fields of each job. */
static struct {
    cconv_mutex lock;
    cconv_cond work;      /* idle helpers wait here for a loop that wants them */
    int helpers;          /* started and alive */
    int idle;             /* waiting on `work` */
    int start_failed;     /* the OS refused a thread: run with the helpers there are */
    int fork_hooked;
    job *running;         /* every running loop, the ones wanting helpers first */
} pool = {CCONV_MUTEX_INIT, CCONV_COND_INIT, 0, 0, 0, 0, NULL};

/* Takes items until none is left or the loop stops; the caller also polls between items. */
static void take_items(job *j, int slot, int caller)
{
    const cconv_parallel_loop *loop = j->loop;
    double next_poll = 0.0, interval = CCONV_POLL_INTERVAL;
    if (caller && loop->poll) next_poll = cconv_monotonic_seconds() + interval;
    while (!cconv_atomic_load_int(&j->stop)) {
        const int64_t item = cconv_atomic_fetch_add(&j->next_item, 1);
        if (item >= loop->items) break;
        if (loop->run(loop->context, item, slot)) {
            cconv_atomic_store_int(&j->stop, CCONV_LOOP_ITEM_FAILED);
            break;
        }
        if (caller && loop->poll) {
            const double now = cconv_monotonic_seconds();
            if (now >= next_poll) {
                /* A poll may wait for Python's GIL behind a busy thread: space the polls so that
                 * they never cost more than about 5% of the call. */
                const int stop = loop->poll(loop->poll_context);
                const double after = cconv_monotonic_seconds(), took = after - now;
                interval = took * 20.0 > CCONV_POLL_INTERVAL ? took * 20.0 : CCONV_POLL_INTERVAL;
                next_poll = after + interval;
                if (stop) {
                    cconv_atomic_store_int(&j->stop, CCONV_LOOP_POLL_STOPPED);
                    break;
                }
            }
        }
    }
}

/* The first running loop that still wants a helper, or NULL. */
static job *wanting_job(void)
{
    for (job *j = pool.running; j; j = j->next) {
        if (j->helpers_wanted > 0) return j;
    }
    return NULL;
}

static void helper_main(void *unused)
{
    (void)unused;
    cconv_mutex_lock(&pool.lock);
    for (;;) {
        job *j = wanting_job();
        if (!j) {
            pool.idle++;
            cconv_cond_wait(&pool.work, &pool.lock);
            pool.idle--;
            continue;
        }
        j->helpers_wanted--;
        j->helpers_inside++;
        const int slot = j->next_slot++;
        cconv_mutex_unlock(&pool.lock);
        take_items(j, slot, 0);
        cconv_mutex_lock(&pool.lock);
        if (--j->helpers_inside == 0) cconv_cond_signal(&j->helpers_left);
    }
}

/* Fork: the prepare hook takes the lock so that the child gets the pool in a consistent state;
 * the child then forgets the helpers, which were not copied, and starts new ones when needed. */
static void before_fork(void) { cconv_mutex_lock(&pool.lock); }
static void after_fork_parent(void) { cconv_mutex_unlock(&pool.lock); }
static void after_fork_child(void)
{
    /* A loop still running here belongs to the thread that forked (no other thread exists in
     * the child), which can only be inside its poll callback: the items its helpers had taken
     * are lost with them, so it reruns the loop on its own (see cconv_parallel_run). */
    for (job *j = pool.running; j; j = j->next) {
        if (j->helpers_inside > 0) j->lost_in_fork = 1;
        j->helpers_inside = 0;
        j->helpers_wanted = 0;
        cconv_cond_init(&j->helpers_left);
    }
    pool.running = NULL; /* loops of threads that do not exist here are never touched again */
    pool.helpers = pool.idle = pool.start_failed = 0;
    cconv_cond_init(&pool.work); /* its waiters were not copied */
    cconv_mutex_unlock(&pool.lock);
}

/* Starts helpers until `wanted` exist (lock held). */
static void start_helpers(int wanted)
{
    if (!pool.fork_hooked) pool.fork_hooked = cconv_at_fork(before_fork, after_fork_parent,
                                                             after_fork_child) ? 1 : -1;
    if (pool.fork_hooked < 0) return; /* no fork safety, no helpers */
    if (wanted > CCONV_MAX_HELPERS) wanted = CCONV_MAX_HELPERS;
    while (pool.helpers < wanted && !pool.start_failed) {
        if (cconv_thread_start_detached(helper_main, NULL)) {
            pool.helpers++;
        } else {
            pool.start_failed = 1;
        }
    }
}

static void unlist(job *j)
{
    for (job **p = &pool.running; *p; p = &(*p)->next) {
        if (*p == j) {
            *p = j->next;
            return;
        }
    }
}

static cconv_loop_result run_alone(const cconv_parallel_loop *loop)
{
    job j;
    memset(&j, 0, sizeof(j));
    j.loop = loop;
    take_items(&j, 0, 1);
    return (cconv_loop_result)j.stop;
}

cconv_loop_result cconv_parallel_run(const cconv_parallel_loop *loop)
{
    int64_t helpers = (int64_t)loop->threads - 1;
    if (helpers > loop->items - 1) helpers = loop->items - 1;
    if (helpers < 1) return run_alone(loop);

    job j;
    memset(&j, 0, sizeof(j));
    j.loop = loop;
    j.helpers_wanted = (int)helpers;
    j.next_slot = 1;
    cconv_cond_init(&j.helpers_left);

    cconv_mutex_lock(&pool.lock);
    start_helpers((int)helpers);
    j.next = pool.running;
    pool.running = &j;
    for (int i = 0; i < helpers && i < pool.idle; i++) cconv_cond_signal(&pool.work);
    cconv_mutex_unlock(&pool.lock);

    take_items(&j, 0, 1);

    cconv_mutex_lock(&pool.lock);
    unlist(&j);
    while (j.helpers_inside > 0) cconv_cond_wait(&j.helpers_left, &pool.lock);
    const int lost = j.lost_in_fork;
    cconv_mutex_unlock(&pool.lock);
    cconv_cond_destroy(&j.helpers_left);
    /* Items are independent and write only their own outputs: running them all again gives the
     * same result. */
    if (lost && j.stop != CCONV_LOOP_POLL_STOPPED) return run_alone(loop);
    return (cconv_loop_result)j.stop;
}
