/* pool.h — a fork-join thread pool: run one function on every thread and wait.
 *
 * gc_pool_run(pool, fn, arg) calls fn(arg, ith, nth) once on each of the pool's nth
 * threads (the caller is ith 0) and returns when every call has returned; everything
 * the calls wrote is then visible to the caller. A kernel splits its work by ith/nth
 * (samples, channels or a parameter range) and takes no locks.
 *
 * Threads: one caller at a time per pool, and fn must not call gc_pool_run on the
 * same pool. A pool of 1 thread starts no thread and runs fn inline. */
#ifndef GC_POOL_H
#define GC_POOL_H

#include <stdint.h>

#include "core/error.h"

struct gc_pool;

typedef void (*gc_pool_fn)(void *arg, int ith, int nth);

/* nthreads >= 1 (nthreads - 1 threads are started). NULL with err set on failure. */
struct gc_pool *gc_pool_create(int nthreads, struct gc_error *err);
void gc_pool_destroy(struct gc_pool *p);
void gc_pool_run(struct gc_pool *p, gc_pool_fn fn, void *arg);
/* Threads of the pool; 1 for NULL. */
int gc_pool_threads(const struct gc_pool *p);
/* Regions that ran on more than one thread so far (tests and benchmarks: whether a
 * model's work was split, and how many regions a step costs). Read by the caller. */
uint64_t gc_pool_regions(const struct gc_pool *p);

#endif
