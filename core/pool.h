/* pool.h — a fork-join thread pool: run one function on every thread and wait.
 *
 * gc_pool_run(pool, fn, arg) calls fn(arg, ith, nth) once on each of the pool's nth
 * threads (the caller is ith 0) and returns when every call has returned; everything
 * the calls wrote is then visible to the caller. A kernel splits its work by ith/nth
 * (samples, channels or a parameter range) and takes no locks.
 *
 * Threads: one caller at a time per pool, and fn must not call gc_pool_run on the
 * same pool. A pool of 1 thread starts no thread and runs fn inline.
 *
 * A pool also holds the scratch memory of what runs on it (gc_pool_reserve), which
 * that one-caller rule lets the models on it share. */
#ifndef GC_POOL_H
#define GC_POOL_H

#include <stddef.h>
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
/* Scratch memory for what runs on the pool. One caller at a time runs passes on a pool,
 * so every model that runs on it can share one scratch instead of holding its own
 * (a trainer's generator and discriminator never run at once): a block of at least
 * `shared` floats for the passes' buffers and one of at least `per_thread` floats for
 * each thread. Reserving grows them (zeroed) to the largest asked for, never shrinks
 * them; the pointers below hold until the next reserve. The caller only, between
 * regions; GC_ENOMEM leaves the old blocks as they were. */
int gc_pool_reserve(struct gc_pool *p, size_t shared, size_t per_thread, struct gc_error *err);
float *gc_pool_shared(const struct gc_pool *p);
float *gc_pool_thread_scratch(const struct gc_pool *p, int ith);
/* Gradient blocks of threads 1 .. nth - 1, shared the same way: a model whose backward
 * splits samples has each of those threads accumulate its parameter gradients into its
 * block, adds the blocks into its own gradients at the end and clears them
 * (gc_model_reduce_grads), so every block reads all zeros between passes, whichever
 * model ran last. Sharing them also keeps them warm: a 64x64 DCGAN's G had blocks of
 * its own, untouched for a whole step before its one backward, and the worker's share
 * of G's convt1 regions ran 11-17% longer than the caller's (on grads), of its first
 * layer 1.6-2x; with D's backwards through the same blocks in between, 6-9% and even.
 * (And one set of blocks instead of G's and D's: 10.6 MB less at 64x64, 2 threads.)
 * Reserving grows each block (zeroed, on a cache line) to at least `nparams` floats,
 * never shrinks it; as gc_pool_reserve otherwise. A pool of 1 thread has none. */
int gc_pool_reserve_grads(struct gc_pool *p, size_t nparams, struct gc_error *err);
/* Thread ith's block, 1 <= ith < nth. */
float *gc_pool_thread_grads(const struct gc_pool *p, int ith);
/* Gives the scratch's pages (and the gradient blocks') back to the system between
 * passes; they read as zeros when a pass touches them again. */
void gc_pool_release_scratch(struct gc_pool *p);
/* The same for any block of scratch: the whole pages inside [p, p + bytes). */
void gc_pool_release_pages(void *p, size_t bytes);
/* Regions that ran on more than one thread so far (tests and benchmarks: whether a
 * model's work was split, and how many regions a step costs). Read by the caller. */
uint64_t gc_pool_regions(const struct gc_pool *p);

#endif
