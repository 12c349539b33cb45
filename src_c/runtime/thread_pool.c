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

/* How long a helper that runs out of work watches for the next loop before it sleeps.  Waking a
 * sleeping thread can take a millisecond or more (a virtual CPU may have to be woken first), as
 * long as a whole layer of a small network; a short watch covers the Python code between the
 * calls of a network, and costs a neighbour little when no call follows. */
#define CCONV_SPIN_SECONDS 1e-4

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

double cconv_monotonic_time(void) { return cconv_monotonic_seconds(); }

/* One running parallel loop.  It lives on its caller's stack; helpers touch it only between
 * joining (which needs it on the pool's list) and leaving (which the caller waits for). */
typedef struct job {
    const cconv_parallel_loop *loop;
    volatile int64_t next_item;  /* atomic: the next item nobody has taken */
    volatile int64_t done_items; /* atomic: items finished, for the handoff's estimate */
    volatile int stop;           /* atomic: a cconv_loop_result other than DONE stops the loop */
    /* Guarded by the pool's lock: */
    int helpers_wanted;          /* helpers that may still join */
    int helpers_inside;          /* helpers that joined and have not left */
    int next_slot;
    int lost_in_fork;            /* the process forked while helpers were inside */
    int spread;                  /* participants should run on different CPUs (see helper_main) */
    cconv_cpu_set cpus_taken;    /* the CPUs the participants run on, as far as known */
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
    int cores;            /* usable cores, read when the first helper starts */
    job *running;         /* every running loop, the ones wanting helpers first */
    volatile int posted;  /* atomic: bumped whenever a loop starts wanting helpers */
} pool = {CCONV_MUTEX_INIT, CCONV_COND_INIT, 0, 0, 0, 0, 0, NULL, 0};

/* Lock held: tells helpers that a loop wants them, the sleeping ones and the watching ones. */
static void post_work(int wanted)
{
    cconv_atomic_store_int(&pool.posted, cconv_atomic_load_int(&pool.posted) + 1);
    for (int i = 0; i < wanted && i < pool.idle; i++) cconv_cond_signal(&pool.work);
}

/* Lock not held: watches pool.posted for up to CCONV_SPIN_SECONDS; 1 when it moved. */
static int watch_for_work(int seen)
{
    const double until = cconv_monotonic_seconds() + CCONV_SPIN_SECONDS;
    for (;;) {
        for (int i = 0; i < 64; i++) {
            if (cconv_atomic_load_int(&pool.posted) != seen) return 1;
            cconv_cpu_relax();
        }
        if (cconv_monotonic_seconds() > until) return 0;
    }
}

static void start_helpers(int wanted);

/* Asks for one more helper for j, beyond loop->threads - 1 (the handoff's). */
static void recruit_helper(job *j)
{
    cconv_mutex_lock(&pool.lock);
    j->helpers_wanted++;
    /* With no helper asleep, one may be watching; if none is, a new one looks for a loop as it
     * starts. */
    if (pool.idle == 0) start_helpers(pool.helpers + 1);
    post_work(1);
    cconv_mutex_unlock(&pool.lock);
}

/* The calling thread's checks between its items: Ctrl-C polling and the handoff.  Returns 1
 * when the caller must take no more items (the loop stops, or helpers finish it). */
typedef struct caller_state {
    double start, next_poll, poll_interval;
    int handoff_pending;
    int64_t items_run;   /* by the caller */
} caller_state;

static int between_items(job *j, caller_state *c)
{
    const cconv_parallel_loop *loop = j->loop;
    if (!loop->poll && !c->handoff_pending) return 0;
    const double now = cconv_monotonic_seconds();
    if (c->handoff_pending) {
        /* Hand off when the rest takes no longer than handoff_seconds plus one more item of the
         * caller's: later, the loop could end before the next check. */
        const int64_t done = cconv_atomic_fetch_add(&j->done_items, 0);
        const double elapsed = now - c->start;
        const double remaining = elapsed * (double)(loop->items - done) / (double)done;
        if (remaining <= loop->handoff_seconds + elapsed / (double)c->items_run) {
            c->handoff_pending = 0;
            if (done < loop->items) recruit_helper(j);
            loop->handoff(loop->handoff_context);
            c->next_poll = 1e300; /* the rest is shorter than a poll interval */
            /* The helpers inside take every item left; the caller joins them only when there
             * are none (no thread could be started, or none has woken yet), so the call never
             * runs more threads than it was given. */
            cconv_mutex_lock(&pool.lock);
            const int helped = j->helpers_inside > 0;
            cconv_mutex_unlock(&pool.lock);
            return helped;
        }
    }
    if (loop->poll && now >= c->next_poll) {
        /* A poll may wait for Python's GIL behind a busy thread: space the polls so that they
         * never cost more than about 5% of the call. */
        const int stop = loop->poll(loop->poll_context);
        const double after = cconv_monotonic_seconds(), took = after - now;
        c->poll_interval = took * 20.0 > CCONV_POLL_INTERVAL ? took * 20.0 : CCONV_POLL_INTERVAL;
        c->next_poll = after + c->poll_interval;
        if (stop) {
            cconv_atomic_store_int(&j->stop, CCONV_LOOP_POLL_STOPPED);
            return 1;
        }
    }
    return 0;
}

/* Takes items until none is left or the loop stops; the caller (c != NULL) also checks between
 * its items. */
static void take_items(job *j, int slot, caller_state *c)
{
    const cconv_parallel_loop *loop = j->loop;
    while (!cconv_atomic_load_int(&j->stop)) {
        const int64_t item = cconv_atomic_fetch_add(&j->next_item, 1);
        if (item >= loop->items) break;
        if (loop->run(loop->context, item, slot)) {
            cconv_atomic_store_int(&j->stop, CCONV_LOOP_ITEM_FAILED);
            break;
        }
        cconv_atomic_fetch_add(&j->done_items, 1);
        if (c) {
            c->items_run++;
            if (between_items(j, c)) break;
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
    int watched = 0; /* whether a whole watch has passed with no loop posted */
    for (;;) {
        job *j = wanting_job();
        if (!j && !watched) {
            /* A loop posted during the watch may have been taken by another helper: then watch
             * again, since more may follow (a network's next layer). */
            const int seen = cconv_atomic_load_int(&pool.posted);
            cconv_mutex_unlock(&pool.lock);
            watched = !watch_for_work(seen);
            cconv_mutex_lock(&pool.lock);
            continue;
        }
        if (!j) {
            pool.idle++;
            cconv_cond_wait(&pool.work, &pool.lock);
            pool.idle--;
            watched = 0;
            continue;
        }
        watched = 0;
        j->helpers_wanted--;
        j->helpers_inside++;
        const int slot = j->next_slot++;
        /* A helper woken on a CPU where another participant of the loop runs moves to another
         * one.  Linux wakes a thread on its last CPU or the waker's when it counts the idle
         * ones as unavailable, as a virtual machine's halted vCPUs often are after a pause:
         * measured here, 2-thread calls made 50 ms apart then ran both threads on one vCPU
         * (3.4 ms a call, slower than 1 thread's 2.6 ms; 1.4 ms with the threads apart). */
        const int cpu = j->spread ? cconv_current_cpu() : -1;
        const int crowded = cconv_cpu_set_has(&j->cpus_taken, cpu);
        cconv_cpu_set taken;
        cconv_cpu_set_clear(&taken);
        if (crowded) taken = j->cpus_taken;
        else cconv_cpu_set_add(&j->cpus_taken, cpu);
        cconv_mutex_unlock(&pool.lock);
        if (crowded && cconv_move_off_cpus(&taken)) {
            cconv_mutex_lock(&pool.lock);
            cconv_cpu_set_add(&j->cpus_taken, cconv_current_cpu());
            cconv_mutex_unlock(&pool.lock);
        }
        take_items(j, slot, NULL);
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
    pool.posted = 0;
    cconv_cond_init(&pool.work); /* its waiters were not copied */
    cconv_mutex_unlock(&pool.lock);
}

/* Starts helpers until `wanted` exist (lock held). */
static void start_helpers(int wanted)
{
    if (!pool.fork_hooked) pool.fork_hooked = cconv_at_fork(before_fork, after_fork_parent,
                                                             after_fork_child) ? 1 : -1;
    if (pool.fork_hooked < 0) return; /* no fork safety, no helpers */
    if (!pool.cores) pool.cores = cconv_usable_cores();
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

static void caller_start(const cconv_parallel_loop *loop, caller_state *c)
{
    c->start = cconv_monotonic_seconds();
    c->poll_interval = CCONV_POLL_INTERVAL;
    c->next_poll = c->start + c->poll_interval;
    c->handoff_pending = loop->handoff != NULL;
    c->items_run = 0;
}

static cconv_loop_result run_alone(const cconv_parallel_loop *loop)
{
    job j;
    caller_state c;
    memset(&j, 0, sizeof(j));
    j.loop = loop;
    caller_start(loop, &c);
    c.handoff_pending = 0;
    take_items(&j, 0, &c);
    return (cconv_loop_result)j.stop;
}

cconv_loop_result cconv_parallel_run(const cconv_parallel_loop *loop)
{
    int64_t helpers = (int64_t)loop->threads - 1;
    if (helpers > loop->items - 1) helpers = loop->items - 1;
    if (helpers < 0) helpers = 0;
    /* A handoff needs the loop on the pool's list, where a recruited helper can find it. */
    if (helpers == 0 && (!loop->handoff || loop->items < 2)) return run_alone(loop);

    job j;
    caller_state c;
    memset(&j, 0, sizeof(j));
    j.loop = loop;
    j.helpers_wanted = (int)helpers;
    j.next_slot = 1;
    cconv_cond_init(&j.helpers_left);

    cconv_mutex_lock(&pool.lock);
    if (helpers > 0) start_helpers((int)helpers);
    /* Spreading threads over CPUs only while there are enough for all of them. */
    j.spread = pool.cores > 1 && loop->threads <= pool.cores;
    cconv_cpu_set_clear(&j.cpus_taken);
    if (j.spread) cconv_cpu_set_add(&j.cpus_taken, cconv_current_cpu());
    j.next = pool.running;
    pool.running = &j;
    post_work((int)helpers);
    cconv_mutex_unlock(&pool.lock);

    caller_start(loop, &c);
    take_items(&j, 0, &c);

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
