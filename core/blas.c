/* blas.c — gc_sgemm (our AVX-512 SGEMM or cblas_sgemm) and OpenBLAS thread control
 * behind core/blas.h. */
#include "core/blas.h"

#include <cblas.h>
#include <unistd.h>

#include "core/gemm.h"

/* Shapes where our kernel loses to cblas: a C narrower than half the 32-wide register
 * tile (the D output layers, conv1's weight gradient with its 16 columns) or a k of a
 * few (ring8's 2-D input layer). Everything else it wins by 1.2-1.9x against OpenBLAS's
 * AVX2 kernels (the environment as set). Against OpenBLAS's own AVX-512 kernels
 * (OPENBLAS_CORETYPE unset) it ties on the big DCGAN shapes and loses 10-50% on the
 * small ones; the rule cannot see which kernels OpenBLAS runs, so it follows the
 * environment the service is deployed with. bench/bench_gemm measures each shape. */
static int ours_wins(int m, int n, int k)
{
    (void)m;
    return n > 16 && k >= 4;
}

void gc_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
              const float *b, int ldb, float beta, float *c, int ldc)
{
    /* gc_gemm_avx512 declines (-1, C untouched) without AVX-512 or buffers */
    if (ours_wins(m, n, k) &&
        gc_gemm_avx512(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) == 0)
        return;
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c,
                ldc);
}

void gc_blas_set_threads(int n)
{
    openblas_set_num_threads(n < 1 ? 1 : n);
}

int gc_blas_threads(void)
{
    return openblas_get_num_threads();
}

int gc_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (int)n;
}
