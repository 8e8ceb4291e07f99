/* test_pool.c — the fork-join pool: every thread runs each region exactly once with
 * its own ith and the pool's nth, the caller sees all the region's writes when run
 * returns, many regions in a row (back to back and with pauses long enough for the
 * workers to sleep), 1 to 4 threads, destroy with idle threads, and the scratch
 * and gradient blocks of gc_pool_reserve and gc_pool_reserve_grads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <time.h>

#include "core/pool.h"

#define MAXT 4

struct count {
    int nth_seen[MAXT];
    int runs[MAXT]; /* regions run by each ith */
    long sum[MAXT]; /* a value each thread writes for the caller to read */
    int round;
};

static void count_fn(void *arg, int ith, int nth)
{
    struct count *c = arg;
    c->nth_seen[ith] = nth;
    c->runs[ith]++;
    c->sum[ith] += (long)c->round * (ith + 1);
}

static void nap(long ns)
{
    struct timespec ts = {0, ns};
    nanosleep(&ts, NULL);
}

static void each_thread_once_per_region(void **s)
{
    (void)s;
    for (int nth = 1; nth <= MAXT; nth++) {
        struct gc_error err = {0};
        struct gc_pool *p = gc_pool_create(nth, &err);
        assert_non_null(p);
        assert_int_equal(gc_pool_threads(p), nth);
        struct count c;
        memset(&c, 0, sizeof c);
        const int regions = 2000;
        long want = 0;
        for (int r = 1; r <= regions; r++) {
            c.round = r;
            want += r;
            gc_pool_run(p, count_fn, &c);
            /* every share of this region is done and visible */
            for (int t = 0; t < nth; t++)
                assert_int_equal(c.runs[t], r);
            if (r % 500 == 0)
                nap(2000000); /* 2 ms: long enough for the workers to go to sleep */
        }
        for (int t = 0; t < nth; t++) {
            assert_int_equal(c.nth_seen[t], nth);
            assert_int_equal(c.sum[t], want * (t + 1));
        }
        for (int t = nth; t < MAXT; t++)
            assert_int_equal(c.runs[t], 0);
        assert_int_equal(gc_pool_regions(p), nth > 1 ? (uint64_t)regions : 0);
        gc_pool_destroy(p);
    }
}

/* Threads split an array by ith/nth as the kernels do; the caller checks the whole. */
struct fill {
    int *a;
    int n, val;
};

static void fill_fn(void *arg, int ith, int nth)
{
    struct fill *f = arg;
    int b = f->n * ith / nth, e = f->n * (ith + 1) / nth;
    for (int i = b; i < e; i++)
        f->a[i] += f->val + i;
}

static void split_work_adds_up(void **s)
{
    (void)s;
    enum { N = 1003 };
    static int a[N];
    for (int nth = 1; nth <= MAXT; nth++) {
        memset(a, 0, sizeof a);
        struct gc_pool *p = gc_pool_create(nth, NULL);
        assert_non_null(p);
        struct fill f = {a, N, 0};
        for (int r = 0; r < 300; r++) {
            f.val = r;
            gc_pool_run(p, fill_fn, &f);
        }
        for (int i = 0; i < N; i++)
            assert_int_equal(a[i], 300 * 299 / 2 + 300 * i);
        gc_pool_destroy(p);
    }
}

static void destroy_idle_and_unused(void **s)
{
    (void)s;
    /* never used: the workers are still in their first wait */
    for (int nth = 1; nth <= MAXT; nth++)
        gc_pool_destroy(gc_pool_create(nth, NULL));
    /* used, then idle long enough to sleep */
    struct gc_pool *p = gc_pool_create(3, NULL);
    assert_non_null(p);
    struct count c;
    memset(&c, 0, sizeof c);
    gc_pool_run(p, count_fn, &c);
    nap(5000000);
    gc_pool_destroy(p);
    assert_int_equal(c.runs[0] + c.runs[1] + c.runs[2], 3);
    gc_pool_destroy(NULL);
    /* NULL runs inline */
    memset(&c, 0, sizeof c);
    gc_pool_run(NULL, count_fn, &c);
    assert_int_equal(c.runs[0], 1);
    assert_int_equal(c.nth_seen[0], 1);
    assert_int_equal(gc_pool_threads(NULL), 1);
}

/* The scratch: zeroed, each thread's block on a cache line of its own (a per-thread
 * size that is not a whole number of lines is rounded up), growing, never shrinking,
 * and the shared block's contents kept when only the per-thread one grows. */
static void scratch_blocks(void **s)
{
    (void)s;
    for (int nth = 1; nth <= MAXT; nth++) {
        struct gc_pool *p = gc_pool_create(nth, NULL);
        assert_non_null(p);
        struct gc_error err = {0};
        assert_int_equal(gc_pool_reserve(p, 1000, 1001, &err), 0);
        float *sh = gc_pool_shared(p);
        assert_int_equal((uintptr_t)sh % 64, 0);
        for (int t = 0; t < nth; t++) {
            float *b = gc_pool_thread_scratch(p, t);
            assert_int_equal((uintptr_t)b % 64, 0);
            for (int i = 0; i < 1001; i++)
                assert_true(b[i] == 0.0f);
            for (int i = 0; i < 1001; i++)
                b[i] = (float)(t + 1);
        }
        /* the blocks do not overlap */
        for (int t = 0; t < nth; t++)
            assert_true(gc_pool_thread_scratch(p, t)[1000] == (float)(t + 1));
        sh[999] = 7.0f;
        assert_int_equal(gc_pool_reserve(p, 10, 3000, &err), 0); /* shared: no smaller */
        assert_ptr_equal(gc_pool_shared(p), sh);
        assert_true(sh[999] == 7.0f);
        for (int t = 0; t < nth; t++) {
            float *b = gc_pool_thread_scratch(p, t);
            assert_int_equal((uintptr_t)b % 64, 0);
            assert_true(b[2999] == 0.0f);
        }
        gc_pool_destroy(p);
    }
}

/* The threads' gradient blocks: none on 1 thread, one per thread 1.. on more, each on a
 * cache line, zeroed, apart, and grown (zeroed again) only when asked for more. */
static void gradient_blocks(void **s)
{
    (void)s;
    struct gc_error err = {0};
    struct gc_pool *one = gc_pool_create(1, NULL);
    assert_int_equal(gc_pool_reserve_grads(one, 1000, &err), 0);
    gc_pool_destroy(one);
    for (int nth = 2; nth <= MAXT; nth++) {
        struct gc_pool *p = gc_pool_create(nth, NULL);
        assert_non_null(p);
        assert_int_equal(gc_pool_reserve_grads(p, 1001, &err), 0);
        for (int t = 1; t < nth; t++) {
            float *g = gc_pool_thread_grads(p, t);
            assert_int_equal((uintptr_t)g % 64, 0);
            for (int i = 0; i < 1001; i++)
                assert_true(g[i] == 0.0f);
            for (int i = 0; i < 1001; i++)
                g[i] = (float)t;
        }
        for (int t = 1; t < nth; t++)
            assert_true(gc_pool_thread_grads(p, t)[1000] == (float)t);
        float *g1 = gc_pool_thread_grads(p, 1);
        assert_int_equal(gc_pool_reserve_grads(p, 500, &err), 0); /* no smaller */
        assert_ptr_equal(gc_pool_thread_grads(p, 1), g1);
        assert_int_equal(gc_pool_reserve_grads(p, 5000, &err), 0);
        for (int t = 1; t < nth; t++) {
            float *g = gc_pool_thread_grads(p, t);
            assert_int_equal((uintptr_t)g % 64, 0);
            assert_true(g[0] == 0.0f && g[4999] == 0.0f);
        }
        gc_pool_destroy(p);
    }
}

static void bad_sizes(void **s)
{
    (void)s;
    struct gc_error err = {0};
    assert_null(gc_pool_create(0, &err));
    assert_int_equal(err.code, GC_EINVAL);
    assert_null(gc_pool_create(-3, &err));
    assert_null(gc_pool_create(100000, &err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_thread_once_per_region),
        cmocka_unit_test(split_work_adds_up),
        cmocka_unit_test(destroy_idle_and_unused),
        cmocka_unit_test(scratch_blocks),
        cmocka_unit_test(gradient_blocks),
        cmocka_unit_test(bad_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
