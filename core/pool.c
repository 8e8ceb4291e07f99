/* pool.c — a fork-join pool: nth - 1 worker threads plus the caller run one function.
 *
 * DESIGN. A training step runs about a hundred short parallel regions (one per run of
 * layers, one per optimizer step), each from a few microseconds to a few milliseconds,
 * with the caller doing small serial work in between. Starting threads per region or
 * handing work through a queue would cost more than the smaller regions, so the pool
 * is a generation counter:
 *
 *   gc_pool_run  stores fn and arg, sets pending = nth - 1 and increments gen (under
 *                the mutex, release), broadcasts `work`, runs its own share (ith 0),
 *                then waits for pending to reach 0.
 *   a worker     waits for gen to move past the last generation it ran, runs its
 *                share, and decrements pending; the last one to finish broadcasts
 *                `done` under the mutex.
 *
 * Both waits spin first (SPIN_ITERS pause instructions, a few microseconds), because
 * the next region usually comes within that time, and then sleep on a condition
 * variable, so an idle pool (a run paused, the daemon between runs) costs no CPU. The
 * counters are C11 atomics: fn and arg are plain fields written before the release
 * increment of gen and read after a worker's acquire load of it; a worker's results
 * are published by its acq_rel decrement of pending, which the caller loads with
 * acquire. Sleepers check the counters under the mutex that the other side holds
 * while it changes them, so no wake-up is lost. TSan sees every edge (atomics and the
 * mutex), and there is no data race for it to report.
 *
 * Stopping: destroy sets stop and moves gen under the mutex; workers see the new
 * generation, find stop set and return. */
#include "core/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/mem.h"

/* Pauses of a waiting thread before it sleeps. A pause is 10 to 140 cycles depending
 * on the core, so this is from a few to some tens of microseconds: longer than the
 * gap between the regions of one step, far shorter than any idle time. (100 to 20000
 * changed the DCGAN step by under 3%, loaded or not; -DSPIN_ITERS=n to measure.) */
#ifndef SPIN_ITERS
#define SPIN_ITERS 2000
#endif

struct worker {
    struct gc_pool *pool;
    int ith;
};

struct gc_pool {
    int nth;
    pthread_t *th;
    struct worker *wk;
    int started;      /* threads to join */
    uint64_t regions; /* calls of gc_pool_run that used the threads (caller only) */

    gc_pool_fn fn; /* of the current generation */
    void *arg;
    atomic_uint gen;
    atomic_int pending;
    atomic_int stop;

    pthread_mutex_t mu;
    pthread_cond_t work, done;

    /* gc_pool_reserve's scratch: shared, and nth blocks of nscratch floats */
    float *shared, *scratch;
    size_t nshared, nscratch;
    /* gc_pool_reserve_grads': nth - 1 blocks of ngrads floats (threads 1..) */
    float *grads;
    size_t ngrads;
};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void *worker_main(void *varg)
{
    struct worker *w = varg;
    struct gc_pool *p = w->pool;
    unsigned seen = 0;
    for (;;) {
        unsigned g = atomic_load_explicit(&p->gen, memory_order_acquire);
        for (int i = 0; g == seen && i < SPIN_ITERS; i++) {
            cpu_relax();
            g = atomic_load_explicit(&p->gen, memory_order_acquire);
        }
        if (g == seen) {
            pthread_mutex_lock(&p->mu);
            while ((g = atomic_load_explicit(&p->gen, memory_order_acquire)) == seen)
                pthread_cond_wait(&p->work, &p->mu);
            pthread_mutex_unlock(&p->mu);
        }
        seen = g;
        if (atomic_load_explicit(&p->stop, memory_order_acquire))
            return NULL;
        p->fn(p->arg, w->ith, p->nth);
        if (atomic_fetch_sub_explicit(&p->pending, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_broadcast(&p->done);
            pthread_mutex_unlock(&p->mu);
        }
    }
}

int gc_pool_threads(const struct gc_pool *p)
{
    return p ? p->nth : 1;
}

uint64_t gc_pool_regions(const struct gc_pool *p)
{
    return p ? p->regions : 0;
}

void gc_pool_destroy(struct gc_pool *p)
{
    if (!p)
        return;
    if (p->started) {
        pthread_mutex_lock(&p->mu);
        atomic_store_explicit(&p->stop, 1, memory_order_release);
        atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
        pthread_cond_broadcast(&p->work);
        pthread_mutex_unlock(&p->mu);
        for (int i = 0; i < p->started; i++)
            pthread_join(p->th[i], NULL);
    }
    if (p->nth > 1) {
        pthread_cond_destroy(&p->done);
        pthread_cond_destroy(&p->work);
        pthread_mutex_destroy(&p->mu);
    }
    free(p->th);
    free(p->wk);
    gc_free64(p->shared);
    gc_free64(p->scratch);
    gc_free64(p->grads);
    free(p);
}

/* n floats rounded up to whole cache lines, so that the block after starts on one */
static size_t whole_lines(size_t n)
{
    return (n + 15) & ~(size_t)15;
}

int gc_pool_reserve(struct gc_pool *p, size_t shared, size_t per_thread, struct gc_error *err)
{
    float *s = NULL, *t = NULL;
    per_thread = whole_lines(per_thread); /* each thread's block on a line of its own */
    if (shared > p->nshared && !(s = gc_zalloc64(shared, sizeof *s)))
        return gc_error_set(err, GC_ENOMEM, "pool: out of memory for %zu floats of scratch",
                            shared);
    if (per_thread > p->nscratch && !(t = gc_zalloc64((size_t)p->nth * per_thread, sizeof *t))) {
        gc_free64(s);
        return gc_error_set(err, GC_ENOMEM,
                            "pool: out of memory for %d threads' %zu floats of scratch", p->nth,
                            per_thread);
    }
    if (s) {
        gc_free64(p->shared);
        p->shared = s;
        p->nshared = shared;
    }
    if (t) {
        gc_free64(p->scratch);
        p->scratch = t;
        p->nscratch = per_thread;
    }
    return 0;
}

int gc_pool_reserve_grads(struct gc_pool *p, size_t nparams, struct gc_error *err)
{
    nparams = whole_lines(nparams); /* each thread's block on a line of its own */
    if (p->nth < 2 || nparams <= p->ngrads)
        return 0;
    /* the blocks read all zeros between passes: nothing to carry over */
    float *g = gc_zalloc64((size_t)(p->nth - 1) * nparams, sizeof *g);
    if (!g)
        return gc_error_set(err, GC_ENOMEM,
                            "pool: out of memory for %d threads' %zu floats of gradients",
                            p->nth - 1, nparams);
    gc_free64(p->grads);
    p->grads = g;
    p->ngrads = nparams;
    return 0;
}

float *gc_pool_thread_grads(const struct gc_pool *p, int ith)
{
    return p->grads + (size_t)(ith - 1) * p->ngrads;
}

float *gc_pool_shared(const struct gc_pool *p)
{
    return p->shared;
}

float *gc_pool_thread_scratch(const struct gc_pool *p, int ith)
{
    return p->scratch + (size_t)ith * p->nscratch;
}

/* MADV_DONTNEED, not posix_madvise, whose DONTNEED glibc ignores. */
void gc_pool_release_pages(void *p, size_t bytes)
{
    if (!p || !bytes)
        return;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t b = ((uintptr_t)p + page - 1) & ~(page - 1);
    uintptr_t e = ((uintptr_t)p + bytes) & ~(page - 1);
    if (e > b)
        madvise((void *)b, e - b, MADV_DONTNEED);
}

void gc_pool_release_scratch(struct gc_pool *p)
{
    gc_pool_release_pages(p->shared, p->nshared * sizeof(float));
    gc_pool_release_pages(p->scratch, (size_t)p->nth * p->nscratch * sizeof(float));
    if (p->nth > 1)
        gc_pool_release_pages(p->grads, (size_t)(p->nth - 1) * p->ngrads * sizeof(float));
}

struct gc_pool *gc_pool_create(int nthreads, struct gc_error *err)
{
    if (nthreads < 1 || nthreads > 1024) {
        gc_error_set(err, GC_EINVAL, "pool: %d threads outside [1, 1024]", nthreads);
        return NULL;
    }
    struct gc_pool *p = calloc(1, sizeof *p);
    if (!p) {
        gc_error_set(err, GC_ENOMEM, "pool: out of memory");
        return NULL;
    }
    p->nth = nthreads;
    atomic_init(&p->gen, 0);
    atomic_init(&p->pending, 0);
    atomic_init(&p->stop, 0);
    if (nthreads == 1)
        return p;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    p->th = calloc((size_t)nthreads - 1, sizeof *p->th);
    p->wk = calloc((size_t)nthreads - 1, sizeof *p->wk);
    if (!p->th || !p->wk) {
        gc_pool_destroy(p);
        gc_error_set(err, GC_ENOMEM, "pool: out of memory");
        return NULL;
    }
    for (int i = 0; i < nthreads - 1; i++) {
        p->wk[i].pool = p;
        p->wk[i].ith = i + 1;
        if (pthread_create(&p->th[i], NULL, worker_main, &p->wk[i]) != 0) {
            gc_pool_destroy(p);
            gc_error_set(err, GC_ENOMEM, "pool: cannot start thread %d of %d", i + 1, nthreads);
            return NULL;
        }
        p->started++;
    }
    return p;
}

void gc_pool_run(struct gc_pool *p, gc_pool_fn fn, void *arg)
{
    if (!p || p->nth == 1) {
        fn(arg, 0, 1);
        return;
    }
    p->regions++;
    p->fn = fn;
    p->arg = arg;
    atomic_store_explicit(&p->pending, p->nth - 1, memory_order_relaxed);
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    fn(arg, 0, p->nth);
    int left = atomic_load_explicit(&p->pending, memory_order_acquire);
    for (int i = 0; left && i < SPIN_ITERS; i++) {
        cpu_relax();
        left = atomic_load_explicit(&p->pending, memory_order_acquire);
    }
    if (left) {
        pthread_mutex_lock(&p->mu);
        while (atomic_load_explicit(&p->pending, memory_order_acquire))
            pthread_cond_wait(&p->done, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }
}
