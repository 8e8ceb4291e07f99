/* comm.h — the communicator a run trains through when it spans several processes
 * (ranks): which rank this is, how many there are, element-wise sums across every
 * rank and a broadcast from one of them.
 *
 * Core knows only this interface; an implementation (daemon/comm_mpi.c over MPI, a
 * test's threads) fills struct gc_comm_ops. A NULL communicator, or one of size 1, is
 * the one-process default: every call returns 0 at once and touches nothing, so a
 * run of one process takes exactly the code paths it took before ranks existed.
 *
 * Every rank must make the same calls in the same order with the same sizes (a
 * collective call). The result of a sum is the same bits on every rank.
 *
 * Errors: a dead rank, a rank that did not answer within the implementation's
 * timeout, or any other failure of the transport makes a call return GC_ECOMM. The
 * first failure sticks: every later call fails at once with the same error (the
 * numbers in between are garbage), so a trainer may make several calls and check
 * gc_comm_failed() once per step. After a failure the communicator is unusable; the
 * process ends the job (the MPI implementation aborts every rank).
 *
 * Threads: a communicator is used by one thread at a time (the trainer's). The
 * counters are read by that thread too. */
#ifndef GC_COMM_H
#define GC_COMM_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* What an implementation provides; each returns 0 or a negative code with err set. */
struct gc_comm_ops {
    /* buf[i] = the sum over ranks of buf[i], on every rank (in place) */
    int (*sum_f32)(void *ctx, float *buf, size_t n, struct gc_error *err);
    int (*sum_f64)(void *ctx, double *buf, size_t n, struct gc_error *err);
    /* len bytes of root's buf into every other rank's buf */
    int (*bcast)(void *ctx, void *buf, size_t len, int root, struct gc_error *err);
};

struct gc_comm {
    int rank, size;
    const struct gc_comm_ops *ops; /* NULL when size is 1 */
    void *ctx;                     /* the implementation's */
    struct gc_error err;           /* the first failure; code 0 while none */
    /* what the calls cost since gc_comm_init (or the caller's last reset) */
    uint64_t calls;
    uint64_t bytes; /* this rank's payload: n x element size of each call */
    double seconds; /* wall time inside the calls, waiting for slower ranks included */
};

/* Sets up a communicator of size ranks (ops may be NULL only for size 1). */
void gc_comm_init(struct gc_comm *c, int rank, int size, const struct gc_comm_ops *ops, void *ctx);

/* The collective calls; 0, or GC_ECOMM (also after an earlier failure). c may be NULL
 * (one process). */
int gc_comm_sum_f32(struct gc_comm *c, float *buf, size_t n);
int gc_comm_sum_f64(struct gc_comm *c, double *buf, size_t n);
int gc_comm_bcast(struct gc_comm *c, void *buf, size_t len, int root);

/* 0 while every call succeeded; otherwise the first failure's code, with its message
 * copied into err (when not NULL). */
int gc_comm_failed(const struct gc_comm *c, struct gc_error *err);

/* Ranks of c: 1 for NULL. */
static inline int gc_comm_size(const struct gc_comm *c)
{
    return c ? c->size : 1;
}
/* This rank: 0 for NULL. */
static inline int gc_comm_rank(const struct gc_comm *c)
{
    return c ? c->rank : 0;
}

#endif
