/* blas.h — the one door to SGEMM and OpenBLAS.
 *
 * gc_sgemm is row-major C = alpha * op(A) op(B) + beta * C (op(A) (m,k), op(B) (k,n),
 * C (m,n); A stored (m,k) or, with trans_a, (k,m), each with its row stride; only the
 * m x n elements of C are touched; beta 0 never reads C). Where the CPU has AVX-512 and
 * OpenBLAS runs older kernels than that (a pinned OPENBLAS_CORETYPE, an older build), it
 * runs our own kernel (core/gemm.h) on the shapes where that measures faster, on the
 * calling thread; cblas_sgemm otherwise. Either way the same inputs and shape give the
 * same bits on every call and thread. Safe to call from several threads at once.
 *
 * Threads: OpenBLAS keeps one thread count for the whole process, and the engine does
 * its parallel work on its own pools (core/pool.h: each thread calls gc_sgemm on its
 * part), so OpenBLAS must run on one thread, or the two would oversubscribe the cores.
 * gc_blas_init() sets that, and ends the idle threads OpenBLAS started when it loaded;
 * nothing else changes it. */
#ifndef GC_BLAS_H
#define GC_BLAS_H

#include <stddef.h>

void gc_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
              const float *b, int ldb, float beta, float *c, int ldc);
/* gc_sgemm when bf16 is 0; otherwise the same product with op(A) and op(B) rounded to
 * bfloat16 and float32 sums (core/gemm.h gc_gemm_bf16), which needs AVX512-BF16: on
 * other CPUs, when its buffers cannot be had, or for a C of 16 columns or fewer or a
 * depth k of 16 or less (where rounding costs more than it saves: a one-output layer),
 * it is gc_sgemm. Same bits for the same inputs, shape and bf16. */
void gc_gemm(int bf16, int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
             int lda, const float *b, int ldb, float beta, float *c, int ldc);
/* 1 when gc_gemm(1, ...) runs on bfloat16 inputs on this CPU. */
int gc_gemm_bf16_available(void);
/* Call once at process start, before any thread that may call gc_sgemm exists (the
 * daemon's main(), a benchmark's, a test's): puts OpenBLAS on one thread for good and
 * ends its own threads. */
void gc_blas_init(void);
/* The BLAS that gc_sgemm runs, for a run's provenance: "OpenBLAS 0.3.21 Haswell" (its
 * version and the kernel core it picked), with " + ganctl AVX-512 SGEMM" when our
 * kernel takes the shapes it wins. */
void gc_blas_describe(char *out, size_t cap);
/* Number of online cores (>= 1). */
int gc_cpu_count(void);

#endif
