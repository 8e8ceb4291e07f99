/* gemm.h — our own blocked SGEMM with an AVX-512 micro-kernel.
 *
 * OpenBLAS pinned to its AVX2 kernels (OPENBLAS_CORETYPE=Haswell, as on the build
 * machine) reaches about half of the AVX-512 FMA peak. gc_gemm_avx512 is an SGEMM in the BLIS
 * manner: op(B) is packed into KC x NR panels and op(A) into MR x KC slivers (packing
 * absorbs both transposes and any leading dimension), and a register-tiled micro-kernel
 * runs over the packed panels. gc_sgemm (core/blas.h) decides when to use it.
 *
 * Semantics are exactly gc_sgemm's: row-major C (m,n) = alpha * op(A) op(B) + beta * C,
 * op(A) (m,k), op(B) (k,n); A is (m,k) with row stride lda, or (k,m) when trans_a; B is
 * (k,n) with row stride ldb, or (n,k) when trans_b; C has row stride ldc. Only the m x n
 * elements of C are read or written (padding between rows is left untouched); with
 * beta == 0, C is never read (it may hold NaN). The result depends only on the shape
 * and the inputs: the same bits on every call and every thread.
 *
 * Buffers: each calling thread packs into its own buffers, held in a pthread key (made
 * once with pthread_once), grown on first need and freed when the thread exits (the
 * main thread's stay until the process ends: at most ~5.5 MB a thread, plus the
 * weight gc_gemm_pack_a packed last: up to the largest layer's, 8 MB in float32 and 4
 * in bfloat16 for the 64x64 DCGAN, 0.5 MB for the 28x28 one; the threads of a model's
 * pool pack into one buffer of the pool's instead: gc_gemm_pack_a_part). Calls
 * come from several threads at once (concurrent runs, the trainer's pool), so shared
 * buffers would need a lock; caller-provided stack tiles cannot hold a KC x NC panel
 * of B (up to 4 MB). After a thread's first call at a given size nothing is allocated.
 *
 * Thread-safety: every function here may be called from any number of threads at once. */
#ifndef GC_GEMM_H
#define GC_GEMM_H

#include <stdint.h>
#include <stddef.h>

/* 1 when the CPU (as CPUID reports it) has AVX-512F and FMA, so gc_gemm_avx512 runs;
 * 0 otherwise (other CPUs, and under valgrind, whose CPUID hides AVX-512). */
int gc_gemm_have_avx512(void);

/* 1 when the CPU also has AVX512-BF16 (and AVX512-BW), so gc_gemm_bf16 runs. */
int gc_gemm_have_bf16(void);

/* The AVX-512 SGEMM, with gc_sgemm's arguments. Returns 0 when done; -1 without
 * touching C when it cannot run: the CPU lacks AVX-512 (see gc_gemm_have_avx512) or the
 * packing buffers could not be allocated. The caller then falls back to cblas.
 * Also the test hook that forces this path. */
int gc_gemm_avx512(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                   int lda, const float *b, int ldb, float beta, float *c, int ldc);

/* The same GEMM on bfloat16 inputs: op(A) and op(B) rounded to bfloat16 (to nearest
 * even) as they are packed, products and sums in float32 (vdpbf16ps), alpha, beta and C
 * in float32. Returns -1 without touching C when the CPU lacks AVX512-BF16 (see
 * gc_gemm_have_bf16) or buffers could not be allocated. The same bits for the same
 * inputs and shape, as gc_gemm_avx512. */
int gc_gemm_bf16(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                 int lda, const float *b, int ldb, float beta, float *c, int ldc);

/* A matrix given through offsets: its element (r, c) is at base[row[r] + col[c]] (row
 * has one offset per row, col one per column; offsets may be negative relative to
 * base as long as every element is inside the caller's buffer). It is how a
 * convolution hands its im2col matrix over without forming it: element
 * ((channel, ki, kj), pixel) is one float of the phase planes of its image.
 * Borrowed; plain data. */
struct gc_gemm_map {
    const int32_t *row;
    const int32_t *col;
};

/* The GEMM with op(B) and/or C given through maps (NULL: the usual ldb / ldc): bmap
 * describes the stored B (k x n, or n x k with trans_b) at b, cmap the m x n C at c.
 * bf16 as gc_gemm_bf16 where the CPU has it (float32 otherwise). With cmap and beta
 * != 0, elements of C may share an address: C(i, j) is added to it for each in turn
 * (col2im); with beta == 0 they must not. Runs our kernels (a tile of a mapped C goes
 * through a small buffer); without AVX-512 it spells the mapped operands out into
 * this thread's buffers and runs gc_sgemm. Returns 0, or -1 (C untouched) when no
 * buffer could be had. The same bits for the same inputs, maps and shape. */
int gc_gemm_mapped(int bf16, int trans_a, int trans_b, int m, int n, int k, float alpha,
                   const float *a, int lda, const float *b, int ldb, const struct gc_gemm_map *bmap,
                   float beta, float *c, int ldc, const struct gc_gemm_map *cmap);

/* op(A) packed once for several GEMMs that share it: a layer's weight, met by each
 * group of samples of a batch, is packed once a layer call instead of once a group.
 * Made by gc_gemm_pack_a into this thread's buffer, it holds until this thread's next
 * gc_gemm_pack_a, so the GEMMs that use it run on the same thread, and a must not
 * change in between. Plain data. */
struct gc_gemm_packed_a {
    int bf16, trans_a, m, k; /* as given */
    const float *a;
    int lda;
    int packed_bf16;    /* the kind packed: bfloat16 where asked and the CPU has it */
    const void *packed; /* NULL: not packed (no AVX-512, no memory); the GEMMs pack A */
};

/* Packs op(A) (m x k; (k x m) stored when trans_a, row stride lda) for
 * gc_gemm_mapped_a. Cannot fail: without the kernels or the memory it packs nothing
 * and the GEMMs run as gc_gemm_mapped would. */
void gc_gemm_pack_a(int bf16, int trans_a, int m, int k, const float *a, int lda,
                    struct gc_gemm_packed_a *out);

/* gc_gemm_pack_a into a buffer the caller shares between threads, each packing its part:
 * the threads of a pool running one layer on their shares of a batch pack its weight
 * once between them instead of once each. buf holds cap 32-bit words, at least
 * gc_gemm_packed_a_words(bf16, m, k) of the kind packed (float32's is the larger);
 * call ith of nth packs the ith of nth near-equal runs of A's slivers. Once every part
 * is done (the end of a pool region), out, the same on every thread, is what
 * gc_gemm_pack_a would have made, in buf. Without the kernels, or with too small a
 * buf, it packs nothing (out->packed NULL). */
size_t gc_gemm_packed_a_words(int bf16, int m, int k);
void gc_gemm_pack_a_part(int bf16, int trans_a, int m, int k, const float *a, int lda, void *buf,
                         size_t cap, int ith, int nth, struct gc_gemm_packed_a *out);

/* gc_gemm_mapped with op(A) from A: the same bits as gc_gemm_mapped(A->bf16,
 * A->trans_a, trans_b, A->m, n, A->k, alpha, A->a, A->lda, ...), without packing A. */
int gc_gemm_mapped_a(const struct gc_gemm_packed_a *A, int trans_b, int n, float alpha,
                     const float *b, int ldb, const struct gc_gemm_map *bmap, float beta, float *c,
                     int ldc, const struct gc_gemm_map *cmap);

/* op(B) handed over already rounded and paired for the bfloat16 kernel: b holds 32-bit
 * words, each the bfloat16 of two consecutive k of op(B) (the even k in the low half;
 * an odd k's last word pairs it with zero), rounded to nearest even as packing would
 * round them (gc_gemm_to_bf16), and bmap has a row per pair ((A->k + 1) / 2) and a
 * column per column of op(B) (k x n, not transposed). Packing B is then a copy: a
 * convolution of stride 2 and even kernel finds each pair of its im2col matrix as two
 * adjacent pixels of its padded image in bfloat16. Otherwise gc_gemm_mapped_a with
 * alpha 1, and the same bits as it on the same values. Returns -1 (C untouched) unless
 * A was made for bfloat16 and the CPU has AVX512-BF16, or when no buffer could be had. */
int gc_gemm_mapped_a_pairs(const struct gc_gemm_packed_a *A, int n, const uint32_t *b,
                           const struct gc_gemm_map *bmap, float beta, float *c, int ldc,
                           const struct gc_gemm_map *cmap);
/* dst[0..n) = src rounded to bfloat16 (to nearest even, as the kernels' packing rounds).
 * Returns -1 (dst untouched) when the CPU lacks AVX512-BF16. */
int gc_gemm_to_bf16(uint16_t *dst, const float *src, size_t n);
#endif
