/* thread_comm.h — a communicator whose ranks are threads of one process, for the unit
 * tests of everything that trains across ranks (core/comm.h) without MPI.
 *
 * The ranks meet at a barrier in every call: each posts its buffer, then each adds
 * every rank's buffer in rank order into a scratch copy (so the sum is the same bits
 * on every rank, as MPI's is), meets the others again (no buffer is overwritten while
 * another rank still reads it) and copies the sum back. A broadcast copies the root's
 * buffer. Faults for the tests: a call number at which every call fails (a dead rank),
 * and a call number at which one rank's sum is nudged (ranks that drift apart).
 *
 * DESIGN: one mutex and one condition variable guard the barrier (arrived, gen) and
 * the posted buffers; a rank reads the others' buffers only between the two barriers
 * of a call, when no rank writes them. */
#ifndef GC_TEST_THREAD_COMM_H
#define GC_TEST_THREAD_COMM_H

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/comm.h"

#define TC_MAX_RANKS 8

struct tc_shared {
    int n;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int arrived;
    uint64_t gen;
    void *buf[TC_MAX_RANKS];
    uint64_t calls[TC_MAX_RANKS]; /* each rank's calls so far */
    uint64_t fail_at;             /* 1-based call from which every call fails; 0: never */
    uint64_t nudge_at;            /* 1-based call whose sum rank nudge_rank nudges */
    int nudge_rank;
};

struct tc_rank {
    struct tc_shared *sh;
    int rank;
    struct gc_comm comm;
};

static void tc_barrier(struct tc_shared *sh)
{
    pthread_mutex_lock(&sh->mu);
    uint64_t gen = sh->gen;
    if (++sh->arrived == sh->n) {
        sh->arrived = 0;
        sh->gen++;
        pthread_cond_broadcast(&sh->cv);
    } else {
        while (gen == sh->gen)
            pthread_cond_wait(&sh->cv, &sh->mu);
    }
    pthread_mutex_unlock(&sh->mu);
}

/* 0 to go on; a failure from fail_at on (every rank fails the same call). */
static int tc_enter(struct tc_rank *r, void *buf, struct gc_error *err)
{
    struct tc_shared *sh = r->sh;
    uint64_t call = ++sh->calls[r->rank];
    if (sh->fail_at && call >= sh->fail_at)
        return gc_error_set(err, GC_ECOMM, "rank %d: no answer from rank %d within the timeout",
                            r->rank, (r->rank + 1) % sh->n);
    sh->buf[r->rank] = buf;
    tc_barrier(sh);
    return 0;
}

#define TC_SUM(name, type)                                                                         \
    static int name(void *ctx, type *buf, size_t n, struct gc_error *err)                          \
    {                                                                                              \
        struct tc_rank *r = ctx;                                                                   \
        struct tc_shared *sh = r->sh;                                                              \
        if (tc_enter(r, buf, err))                                                                 \
            return GC_ECOMM;                                                                       \
        type *sum = malloc(n * sizeof *sum);                                                       \
        for (size_t i = 0; i < n; i++) {                                                           \
            type s = 0;                                                                            \
            for (int k = 0; k < sh->n; k++)                                                        \
                s += ((const type *)sh->buf[k])[i];                                                \
            sum[i] = s;                                                                            \
        }                                                                                          \
        if (sh->nudge_at == sh->calls[r->rank] && r->rank == sh->nudge_rank)                       \
            sum[0] += (type)1e-3 * (sum[0] != 0 ? sum[0] : 1);                                     \
        tc_barrier(sh);                                                                            \
        memcpy(buf, sum, n * sizeof *sum);                                                         \
        free(sum);                                                                                 \
        return 0;                                                                                  \
    }
TC_SUM(tc_sum_f32, float)
TC_SUM(tc_sum_f64, double)

static int tc_bcast(void *ctx, void *buf, size_t len, int root, struct gc_error *err)
{
    struct tc_rank *r = ctx;
    if (tc_enter(r, buf, err))
        return GC_ECOMM;
    if (r->rank != root)
        memcpy(buf, r->sh->buf[root], len);
    tc_barrier(r->sh);
    return 0;
}

static const struct gc_comm_ops tc_ops = {tc_sum_f32, tc_sum_f64, tc_bcast};

/* n ranks (1..TC_MAX_RANKS) sharing sh; ranks[k].comm is rank k's communicator. */
static void tc_init(struct tc_shared *sh, struct tc_rank *ranks, int n)
{
    memset(sh, 0, sizeof *sh);
    sh->n = n;
    pthread_mutex_init(&sh->mu, NULL);
    pthread_cond_init(&sh->cv, NULL);
    for (int k = 0; k < n; k++) {
        ranks[k].sh = sh;
        ranks[k].rank = k;
        gc_comm_init(&ranks[k].comm, k, n, &tc_ops, &ranks[k]);
    }
}

static void tc_fini(struct tc_shared *sh)
{
    pthread_cond_destroy(&sh->cv);
    pthread_mutex_destroy(&sh->mu);
}

#endif
