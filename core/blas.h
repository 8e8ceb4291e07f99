/* blas.h — the one door to OpenBLAS.
 *
 * gc_sgemm is row-major C = alpha * op(A) op(B) + beta * C through cblas_sgemm.
 * OpenBLAS keeps one thread count for the whole process: gc_blas_set_threads sets it
 * (the daemon sets it once, from the cores shared out among workers). */
#ifndef GC_BLAS_H
#define GC_BLAS_H

void gc_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
              const float *b, int ldb, float beta, float *c, int ldc);
void gc_blas_set_threads(int n);
int gc_blas_threads(void);
/* Number of online cores (>= 1). */
int gc_cpu_count(void);

#endif
