/* gemm_pack.h — the packing of core/gemm.c's operands into the orders its kernels read,
 * for float32 and for bfloat16 pairs. Internal to gemm.c and gemm_pack.c.
 *
 * A is packed into slivers of h <= MR rows (dst[sliver][k][MR]), B into panels of NR
 * columns (dst[panel][k][NR]); the bfloat16 kind holds two k in each 32-bit word (the
 * even one in the low half, an odd last k paired with zero), rounded to nearest even.
 * Edges are zero-padded. B may be given through offsets (struct gemm_src): element
 * (r, c) of the stored matrix at p[row[r] + col[c]], read in runs of consecutive
 * offsets with masked loads (the im2col matrix of a convolution straight from the
 * phase planes of its image).
 *
 * The functions need AVX-512 (and AVX512-BF16 for the bf16 ones); their callers check
 * the CPU first. No state: any thread. */
#ifndef GC_GEMM_PACK_H
#define GC_GEMM_PACK_H

#include <stdint.h>

#if defined(__x86_64__) || defined(__i386__)
#define GEMM_X86 1
#else
#define GEMM_X86 0
#endif

/* Register tile: MR rows x NR columns of C, NR/16 zmm per row. 14 x 32 keeps 28
 * accumulators, two B vectors and one broadcast in the 32 zmm registers: 28 FMAs for
 * 16 loads per k, enough independent chains to cover the FMA latency on two pipes. */
#define MR 14
#define NR 32

#define TARGET __attribute__((target("avx512f,avx512vl,fma")))
#define TARGET_BF16 __attribute__((target("avx512f,avx512vl,avx512bw,avx512bf16,fma")))

/* A stored matrix: element (r, c) at p[r * ld + c], or at p[row[r] + col[c]] when row is
 * not NULL. With pairs, p holds 32-bit words already in bfloat16 pairs, a row per pair
 * of k (see gc_gemm_mapped_a_pairs): packing copies them as they are. */
struct gemm_src {
    const float *p;
    int ld;
    const int32_t *row, *col;
    int pairs;
};

/* The runs of a 16-lane vector read through column offsets: lanes m[i] come from
 * consecutive offsets, lane l of run i from p + off[i] + l. */
struct gemm_runs {
    int n;
    uint16_t m[16];
    int32_t off[16];
};

/* The runs of col[0..len), len <= 16 (lanes past len stay zero). */
void gemm_find_runs(const int32_t *col, int len, struct gemm_runs *r);

#if GEMM_X86
/* op(B)[p0:p0+kc, j0:j0+nc] into NR-wide panels; op(B)(p, j) is stored (p, j), or (j, p)
 * with trans_b. */
void gemm_pack_b(const struct gemm_src *b, int trans_b, int kc, int nc, int p0, int j0, void *dst);
void gemm_pack_b_bf16(const struct gemm_src *b, int trans_b, int kc, int nc, int p0, int j0,
                      void *dst);
/* op(A)[i0:i0+mc, p0:p0+kc] into slivers of h rows; op(A)(i, p) is a[i*lda + p], or
 * a[p*lda + i] with trans_a. */
void gemm_pack_a(int trans_a, int mc, int h, int kc, const float *a, int lda, int i0, int p0,
                 void *dst);
void gemm_pack_a_bf16(int trans_a, int mc, int h, int kc, const float *a, int lda, int i0, int p0,
                      void *dst);
#endif

#endif
