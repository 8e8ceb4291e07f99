/* bench_gemm.c — our AVX-512 SGEMM (core/gemm.h) against cblas_sgemm on the shapes a
 * training step sends to gc_sgemm, and our bfloat16 kernel (gc_gemm_bf16, where the CPU
 * has AVX512-BF16) on the same shapes.
 *
 * The shapes are the ones gc_sgemm sees in one step of the reference DCGAN (from
 * core/conv.c and core/linear.c: transposes, sizes and leading dimensions) and of the
 * ring8 MLP GAN (batch 100, hidden 128, z 16, 2-D data), plus a square one for scale.
 * For each shape both run in alternating rounds (so both meet the same background
 * load), each round repeats the call for about 20 ms of this thread's CPU time, and the
 * best round counts. Both run on one thread, as the engine calls them: its threads
 * are its pool's, each calling gc_sgemm with OpenBLAS on one thread (core/blas.h). Also
 * prints what gc_sgemm picks for the shape and the largest difference between the two
 * results relative to the largest |C|, a sanity check, not a test. The bf16 column is
 * GFLOP/s too (two flops a multiply-add), so bf16/ours is its speed-up on the shape.
 * The 64x64 shapes are those of the DCGAN paper's net at batch 64.
 *
 *   bench_gemm [--rounds R] */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/blas.h"
#include "core/gemm.h"

struct shape {
    const char *what;
    int ta, tb, m, n, k, lda, ldb, ldc;
    float beta;
    int per_step; /* calls in one training step */
};

/* lda/ldb/ldc as the layers pass them (conv's column buffer rows are padded) */
static const struct shape shapes[] = {
    {"dcgan D conv2 fwd", 0, 0, 128, 686, 1024, 1024, 694, 694, 0.0f, 16},
    {"dcgan D conv2 dW", 0, 1, 128, 1024, 49, 49, 694, 1024, 1.0f, 192},
    {"dcgan D conv2 dX", 1, 0, 1024, 686, 128, 1024, 694, 694, 0.0f, 20},
    {"dcgan G convt1 fwd", 1, 0, 1024, 392, 128, 1024, 694, 694, 0.0f, 5},
    {"dcgan G convt1 dX", 0, 0, 128, 392, 1024, 1024, 694, 694, 0.0f, 4},
    {"dcgan conv1 fwd", 0, 0, 64, 196, 17, 17, 204, 196, 0.0f, 192},
    {"dcgan conv1 dW", 0, 1, 64, 16, 196, 196, 204, 16, 1.0f, 192},
    {"dcgan conv1 dX", 1, 0, 16, 196, 64, 16, 196, 204, 0.0f, 192},
    {"dcgan convt2 dX", 0, 0, 64, 196, 16, 16, 204, 196, 1.0f, 64},
    {"dcgan G fc fwd", 0, 1, 64, 6272, 100, 100, 100, 6272, 0.0f, 2},
    {"dcgan G fc dW", 1, 0, 6272, 100, 64, 6272, 100, 100, 1.0f, 1},
    {"dcgan D fc fwd", 0, 1, 64, 1, 6272, 6272, 6272, 1, 1.0f, 3},
    {"dcgan D fc dX", 0, 0, 64, 6272, 1, 1, 6272, 6272, 1.0f, 3},
    {"ring8 hidden fwd", 0, 1, 100, 128, 128, 128, 128, 128, 1.0f, 15},
    {"ring8 hidden dX", 0, 0, 100, 128, 128, 128, 128, 128, 1.0f, 12},
    {"ring8 hidden dW", 1, 0, 128, 128, 100, 128, 128, 128, 1.0f, 9},
    {"ring8 G in fwd", 0, 1, 100, 128, 16, 16, 16, 128, 1.0f, 2},
    {"ring8 D in fwd", 0, 1, 100, 128, 2, 2, 2, 128, 1.0f, 3},
    {"ring8 G out fwd", 0, 1, 100, 2, 128, 128, 128, 2, 1.0f, 2},
    {"ring8 D out fwd", 0, 1, 100, 1, 128, 128, 128, 1, 1.0f, 3},
    {"ring8 G out dW", 1, 0, 2, 128, 100, 2, 128, 128, 1.0f, 1},
    {"dcgan64 D conv2 fwd", 0, 0, 128, 256, 1024, 1024, 264, 256, 0.0f, 0},
    {"dcgan64 D conv3 fwd", 0, 0, 256, 640, 2048, 2048, 648, 648, 0.0f, 0},
    {"dcgan64 D conv4 dW", 0, 1, 512, 4096, 640, 648, 648, 4096, 1.0f, 0},
    {"dcgan64 D conv3 dX", 1, 0, 2048, 640, 256, 2048, 648, 648, 0.0f, 0},
    {"dcgan64 G convt1 fwd", 1, 0, 4096, 640, 512, 4096, 648, 648, 0.0f, 0},
    {"dcgan64 G convt3 fwd", 1, 0, 1024, 256, 128, 1024, 256, 264, 0.0f, 0},
    /* D's one-output head at 64x64, and where bf16 starts to pay (core/blas.c) */
    {"dcgan64 D fc fwd", 0, 1, 64, 1, 8192, 8192, 8192, 1, 1.0f, 0},
    {"dcgan64 D fc dX", 0, 0, 64, 8192, 1, 1, 8192, 8192, 1.0f, 0},
    {"dcgan64 D fc dW", 1, 0, 1, 8192, 64, 1, 8192, 8192, 1.0f, 0},
    {"64x16x8192", 0, 1, 64, 16, 8192, 8192, 8192, 16, 1.0f, 0},
    {"64x32x8192", 0, 1, 64, 32, 8192, 8192, 8192, 32, 1.0f, 0},
    {"64x8192x16", 0, 0, 64, 8192, 16, 16, 8192, 8192, 1.0f, 0},
    {"64x8192x32", 0, 0, 64, 8192, 32, 32, 8192, 8192, 1.0f, 0},
    {"square 1024", 0, 0, 1024, 1024, 1024, 1024, 1024, 1024, 0.0f, 0},
};

/* Both run on this thread alone: its CPU clock leaves out the time other processes on
 * the shared cores take from it. */
static const clockid_t clock_id = CLOCK_THREAD_CPUTIME_ID;

static double now(void)
{
    struct timespec ts;
    clock_gettime(clock_id, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static float *filled(size_t n, unsigned seed)
{
    float *x = malloc((n ? n : 1) * sizeof(float));
    if (!x) {
        fprintf(stderr, "bench_gemm: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        x[i] = (float)((seed >> 9) & 0xffff) / 32768.0f - 1.0f;
    }
    return x;
}

/* 0: ours, 1: cblas_sgemm, 2: ours on bfloat16 inputs */
static void call(int which, const struct shape *s, const float *a, const float *b, float *c)
{
    if (which == 2)
        gc_gemm_bf16(s->ta, s->tb, s->m, s->n, s->k, 1.0f, a, s->lda, b, s->ldb, s->beta, c,
                     s->ldc);
    else if (which == 0)
        gc_gemm_avx512(s->ta, s->tb, s->m, s->n, s->k, 1.0f, a, s->lda, b, s->ldb, s->beta, c,
                       s->ldc);
    else
        cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans,
                    s->tb ? CblasTrans : CblasNoTrans, s->m, s->n, s->k, 1.0f, a, s->lda, b, s->ldb,
                    s->beta, c, s->ldc);
}

/* GFLOP/s of `reps` calls */
static double rate(int which, const struct shape *s, const float *a, const float *b, float *c,
                   int reps)
{
    double t0 = now();
    for (int r = 0; r < reps; r++)
        call(which, s, a, b, c);
    double dt = now() - t0;
    return 2.0 * s->m * s->n * (double)s->k * reps / dt * 1e-9;
}

int main(int argc, char **argv)
{
    int rounds = 7;
    gc_blas_init();
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_gemm [--rounds R]\n");
            return 2;
        }
    }
    if (!gc_gemm_have_avx512()) {
        printf("bench_gemm: this CPU has no AVX-512; our kernel does not run here\n");
        return 0;
    }
    printf("GFLOP/s (thread CPU time), best of %d alternating rounds, one thread each\n", rounds);
    int bf16 = gc_gemm_have_bf16();
    printf("%-20s %2s %5s %5s %5s %4s %8s %8s %6s %6s %9s %8s %9s\n", "shape", "tr", "m", "n", "k",
           "beta", "ours", "cblas", "ratio", "calls", "max diff", "bf16", "bf16/ours");
    /* per model (0 dcgan, 1 ring8): GEMM seconds per step of ours, cblas, the faster */
    double t[2][3] = {{0}};
    for (size_t si = 0; si < sizeof(shapes) / sizeof(shapes[0]); si++) {
        const struct shape *s = &shapes[si];
        size_t na = (size_t)(s->ta ? s->k : s->m) * s->lda;
        size_t nb = (size_t)(s->tb ? s->n : s->k) * s->ldb;
        size_t nc = (size_t)s->m * s->ldc;
        float *a = filled(na, 1), *b = filled(nb, 2), *c0 = filled(nc, 3), *c1 = filled(nc, 4);
        float *c2 = filled(nc, 5);
        /* the difference check: the same C in, once each */
        memcpy(c1, c0, nc * sizeof(float));
        call(0, s, a, b, c0);
        call(1, s, a, b, c1);
        double diff = 0, big = 0;
        for (size_t i = 0; i < nc; i++) {
            diff = fmax(diff, fabs((double)c0[i] - c1[i]));
            big = fmax(big, fabs((double)c1[i]));
        }
        /* repetitions for ~20 ms at ~100 GFLOP/s */
        double fl = 2.0 * s->m * s->n * (double)s->k;
        int reps = (int)(2e9 / fl);
        if (reps < 1)
            reps = 1;
        double best[3] = {0, 0, 0};
        float *cs[3] = {c0, c1, c2};
        for (int r = 0; r < rounds; r++)
            for (int w = 0; w < 2 + bf16; w++) {
                double g = rate(w, s, a, b, cs[w], reps);
                if (g > best[w])
                    best[w] = g;
            }
        char tr[3] = {s->ta ? 'T' : 'N', s->tb ? 'T' : 'N', 0};
        printf("%-20s %2s %5d %5d %5d %4g %8.1f %8.1f %6.2f %6d %9.1e", s->what, tr, s->m, s->n,
               s->k, s->beta, best[0], best[1], best[0] / best[1], s->per_step,
               big > 0 ? diff / big : diff);
        if (bf16)
            printf(" %8.1f %9.2f\n", best[2], best[2] / best[0]);
        else
            printf(" %8s %9s\n", "-", "-");
        /* time per training step spent in this shape by each */
        int mi = !strncmp(s->what, "ring8", 5);
        t[mi][0] += s->per_step * fl / (best[0] * 1e9);
        t[mi][1] += s->per_step * fl / (best[1] * 1e9);
        t[mi][2] += s->per_step * fl / (fmax(best[0], best[1]) * 1e9);
        free(a);
        free(b);
        free(c0);
        free(c1);
        free(c2);
    }
    for (int mi = 0; mi < 2; mi++)
        printf("%s GEMM ms per step (shapes weighted by calls): ours %.3f, cblas %.3f,"
               " the faster of each %.3f\n",
               mi ? "ring8" : "dcgan", t[mi][0] * 1e3, t[mi][1] * 1e3, t[mi][2] * 1e3);
    return 0;
}
