/* gemm.c — blocked SGEMM with an AVX-512 micro-kernel (see gemm.h).
 *
 * Loops in the BLIS order: for each NC-wide column block of C and each KC-deep slice
 * of k, op(B) is packed into NR-wide panels (KC x NR, one L1-sized panel each); for
 * each MC-tall row block, op(A) is packed into MR-tall slivers (the block stays in L2);
 * then the micro-kernel computes one MR x NR tile of C from one sliver and one panel
 * with MR x NR/16 zmm accumulators. Packing pads edges with zeros, so the kernel always
 * runs full tiles and only its stores are masked (rows by count, columns by mask).
 *
 * The AVX-512 code carries its own target attribute, so this file builds under any
 * -march (the valgrind build uses haswell); gc_gemm_avx512 checks the CPU at run time.
 *
 * Blocking is fixed and depends only on the shape, so the order of every sum (and so
 * every bit of the result) is the same on each call and thread. */
#include "core/gemm.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define GEMM_X86 1
#include <immintrin.h>
#else
#define GEMM_X86 0
#endif

/* Register tile: MR rows x NR columns of C, NR/16 zmm per row. 14 x 32 keeps 28
 * accumulators, two B vectors and one broadcast in the 32 zmm registers: 28 FMAs for
 * 16 loads per k, enough independent chains to cover the FMA latency on two pipes. */
#define MR 14
#define NR 32
/* KC x NR floats of a B panel (32 KB) stay in the 48 KB L1 while the kernel walks the
 * A slivers; MC x KC floats of A (336 KB) stay in L2; KC x NC of B in L3. */
#define KC 256
#define MC (MR * 24)
#define NC 4096

#define TARGET __attribute__((target("avx512f,avx512vl,fma")))

/* Per-thread packing buffers (see gemm.h for why a pthread key). */
struct pack_ws {
    float *a, *b;
    size_t acap, bcap; /* floats */
};

static pthread_once_t ws_once = PTHREAD_ONCE_INIT;
static pthread_key_t ws_key;
static int ws_key_ok;

static void ws_free(void *p)
{
    struct pack_ws *ws = p;
    free(ws->a);
    free(ws->b);
    free(ws);
}

static void ws_make_key(void)
{
    ws_key_ok = pthread_key_create(&ws_key, ws_free) == 0;
}

/* Grows buf to at least n floats (64-byte aligned); 0 ok, -1 out of memory. */
static int ws_grow(float **buf, size_t *cap, size_t n)
{
    if (*cap >= n)
        return 0;
    size_t bytes = (n * sizeof(float) + 63) & ~(size_t)63;
    float *p = aligned_alloc(64, bytes);
    if (!p)
        return -1;
    free(*buf);
    *buf = p;
    *cap = n;
    return 0;
}

/* This thread's buffers with room for na floats of A and nb of B, or NULL. */
static struct pack_ws *ws_get(size_t na, size_t nb)
{
    pthread_once(&ws_once, ws_make_key);
    if (!ws_key_ok)
        return NULL;
    struct pack_ws *ws = pthread_getspecific(ws_key);
    if (!ws) {
        ws = calloc(1, sizeof(*ws));
        if (!ws)
            return NULL;
        if (pthread_setspecific(ws_key, ws) != 0) {
            free(ws);
            return NULL;
        }
    }
    if (ws_grow(&ws->a, &ws->acap, na) != 0 || ws_grow(&ws->b, &ws->bcap, nb) != 0)
        return NULL;
    return ws;
}

/* Splits len into ceil(len/max) near-equal blocks; returns the block size, a multiple
 * of unit (so only the last block has a partial tile). */
static int block_size(int len, int max, int unit)
{
    int nb = (len + max - 1) / max;
    int bs = (len + nb - 1) / nb;
    return (bs + unit - 1) / unit * unit;
}

int gc_gemm_have_avx512(void)
{
#if GEMM_X86
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

#if GEMM_X86

/* Lanes [0, n) of a 16-lane mask (n may be <= 0 or > 16). */
static inline __mmask16 lanes(int n)
{
    return n >= 16 ? (__mmask16)0xffff : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1);
}

/* Packs op(B)[p0:p0+kc, j0:j0+nc] as NR-wide panels: dst[panel][p][j], zero-padded to
 * NR columns. op(B)(p,j) is b[p*ldb + j], or b[j*ldb + p] when trans_b. */
TARGET static void pack_b(int trans_b, int kc, int nc, const float *b, int ldb, int p0, int j0,
                          float *dst)
{
    for (int jp = 0; jp < nc; jp += NR) {
        int nr = nc - jp < NR ? nc - jp : NR;
        float *d = dst + (size_t)jp * kc;
        if (!trans_b) {
            __mmask16 m0 = lanes(nr), m1 = lanes(nr - 16);
            const float *s = b + (size_t)p0 * ldb + j0 + jp;
            for (int p = 0; p < kc; p++, s += ldb, d += NR) {
                _mm512_store_ps(d, _mm512_maskz_loadu_ps(m0, s));
                _mm512_store_ps(d + 16, _mm512_maskz_loadu_ps(m1, s + 16));
            }
        } else {
            /* rows of the stored B are columns of op(B): gather one p across the NR
             * rows at a time (strided scalar copies cost as much as the kernel on the
             * small shapes) */
            __m512i idx = _mm512_mullo_epi32(
                _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                _mm512_set1_epi32(ldb));
            __mmask16 m0 = lanes(nr), m1 = lanes(nr - 16);
            const float *s0 = b + (size_t)(j0 + jp) * ldb + p0;
            const float *s1 = s0 + (size_t)16 * ldb;
            for (int p = 0; p < kc; p++, d += NR) {
                _mm512_store_ps(d, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m0, idx,
                                                              s0 + p, 4));
                _mm512_store_ps(d + 16, m1 ? _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m1,
                                                                       idx, s1 + p, 4)
                                           : _mm512_setzero_ps());
            }
        }
    }
}

/* Packs op(A)[i0:i0+mc, p0:p0+kc] as slivers of h <= MR rows, each laid out
 * dst[sliver][p][i] with MR floats per p (zero beyond its rows). op(A)(i,p) is
 * a[i*lda + p], or a[p*lda + i] when trans_a. */
TARGET static void pack_a(int trans_a, int mc, int h, int kc, const float *a, int lda, int i0,
                          int p0, float *dst)
{
    for (int ip = 0; ip < mc; ip += h) {
        int mr = mc - ip < h ? mc - ip : h;
        float *d = dst + (size_t)(ip / h) * MR * kc;
        if (trans_a) {
            __mmask16 ml = lanes(mr), ms = lanes(MR);
            const float *s = a + (size_t)p0 * lda + i0 + ip;
            for (int p = 0; p < kc; p++, s += lda, d += MR)
                _mm512_mask_storeu_ps(d, ms, _mm512_maskz_loadu_ps(ml, s));
        } else {
            /* one p across the MR rows per gather, as in pack_b */
            __m512i idx = _mm512_mullo_epi32(
                _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                _mm512_set1_epi32(lda));
            __mmask16 ml = lanes(mr), ms = lanes(MR);
            const float *s = a + (size_t)(i0 + ip) * lda + p0;
            for (int p = 0; p < kc; p++, d += MR)
                _mm512_mask_storeu_ps(
                    d, ms, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), ml, idx, s + p, 4));
        }
    }
}

/* One tile: C[0:rows, 0:nr] = alpha * (sliver ap · panel bp) + beta * C, ROWS a
 * constant after inlining so the accumulators live in registers. The sliver is
 * zero-padded, so the rows beyond ROWS are never needed and never computed. */
#define KERNEL_BODY(ROWS)                                                                    \
    do {                                                                                     \
        __m512 acc0[ROWS], acc1[ROWS];                                                       \
        _Pragma("GCC unroll 16") for (int i = 0; i < (ROWS); i++) acc0[i] = acc1[i] =        \
            _mm512_setzero_ps();                                                             \
        for (int p = 0; p < kc; p++) {                                                       \
            __m512 b0 = _mm512_load_ps(bp), b1 = _mm512_load_ps(bp + 16);                    \
            _Pragma("GCC unroll 16") for (int i = 0; i < (ROWS); i++)                        \
            {                                                                                \
                __m512 av = _mm512_set1_ps(ap[i]);                                           \
                acc0[i] = _mm512_fmadd_ps(av, b0, acc0[i]);                                  \
                acc1[i] = _mm512_fmadd_ps(av, b1, acc1[i]);                                  \
            }                                                                                \
            ap += MR;                                                                        \
            bp += NR;                                                                        \
        }                                                                                    \
        __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);                        \
        _Pragma("GCC unroll 16") for (int i = 0; i < (ROWS); i++)                            \
        {                                                                                    \
            float *r = c + (size_t)i * ldc;                                                  \
            __m512 x0 = acc0[i], x1 = acc1[i];                                               \
            if (alpha != 1.0f) {                                                             \
                x0 = _mm512_mul_ps(va, x0);                                                  \
                x1 = _mm512_mul_ps(va, x1);                                                  \
            }                                                                                \
            if (beta != 0.0f) {                                                              \
                x0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, r), x0);                  \
                x1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, r + 16), x1);             \
            }                                                                                \
            _mm512_mask_storeu_ps(r, m0, x0);                                                \
            _mm512_mask_storeu_ps(r + 16, m1, x1);                                           \
        }                                                                                    \
    } while (0)

#define KERNEL(ROWS)                                                                         \
    TARGET static void kernel_##ROWS(int kc, const float *ap, const float *bp, float *c,     \
                                     int ldc, __mmask16 m0, __mmask16 m1, float alpha,       \
                                     float beta)                                             \
    {                                                                                        \
        KERNEL_BODY(ROWS);                                                                   \
    }

KERNEL(1)
KERNEL(2)
KERNEL(3)
KERNEL(4)
KERNEL(5)
KERNEL(6)
KERNEL(7)
KERNEL(8)
KERNEL(9)
KERNEL(10)
KERNEL(11)
KERNEL(12)
KERNEL(13)
KERNEL(14)

typedef void (*kernel_fn)(int, const float *, const float *, float *, int, __mmask16, __mmask16,
                          float, float);
/* kernels[r - 1] computes r rows: edge slivers run only the rows they have */
static const kernel_fn kernels[MR] = {kernel_1,  kernel_2,  kernel_3,  kernel_4, kernel_5,
                                      kernel_6,  kernel_7,  kernel_8,  kernel_9, kernel_10,
                                      kernel_11, kernel_12, kernel_13, kernel_14};

/* C[0:m, 0:n] = beta * C, without reading C when beta is 0 (the k == 0 or alpha == 0
 * case, as cblas does it). */
static void scale_c(int m, int n, float beta, float *c, int ldc)
{
    for (int i = 0; i < m; i++) {
        float *r = c + (size_t)i * ldc;
        if (beta == 0.0f)
            memset(r, 0, (size_t)n * sizeof(float));
        else if (beta != 1.0f)
            for (int j = 0; j < n; j++)
                r[j] *= beta;
    }
}

int gc_gemm_avx512(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                   int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
    if (!gc_gemm_have_avx512())
        return -1;
    if (m <= 0 || n <= 0)
        return 0;
    if (k <= 0 || alpha == 0.0f) {
        scale_c(m, n, beta, c, ldc);
        return 0;
    }
    int kc_max = block_size(k, KC, 1);
    int mc_max = block_size(m, MC, MR);
    int nc_max = block_size(n, NC, NR);
    struct pack_ws *ws = ws_get((size_t)mc_max * kc_max, (size_t)nc_max * kc_max);
    if (!ws)
        return -1;
    for (int jc = 0; jc < n; jc += nc_max) {
        int nc = n - jc < nc_max ? n - jc : nc_max;
        for (int pc = 0; pc < k; pc += kc_max) {
            int kc = k - pc < kc_max ? k - pc : kc_max;
            /* later k slices add to what the first one wrote */
            float bet = pc == 0 ? beta : 1.0f;
            pack_b(trans_b, kc, nc, b, ldb, pc, jc, ws->b);
            for (int ic = 0; ic < m; ic += mc_max) {
                int mc = m - ic < mc_max ? m - ic : mc_max;
                /* near-equal slivers: 64 rows as 13+13+13+13+12, not 14x4+8, and 16
                 * as 8+8, not 14+2, whose two rows would leave the FMA pipes waiting
                 * on four dependency chains */
                int ns = (mc + MR - 1) / MR, h = (mc + ns - 1) / ns;
                pack_a(trans_a, mc, h, kc, a, lda, ic, pc, ws->a);
                for (int jr = 0; jr < nc; jr += NR) {
                    int nr = nc - jr;
                    __mmask16 m0 = lanes(nr), m1 = lanes(nr - 16);
                    const float *bp = ws->b + (size_t)jr * kc;
                    for (int ir = 0; ir < mc; ir += h) {
                        int mr = mc - ir < h ? mc - ir : h;
                        float *ct = c + (size_t)(ic + ir) * ldc + jc + jr;
                        kernels[mr - 1](kc, ws->a + (size_t)(ir / h) * MR * kc, bp, ct, ldc, m0,
                                        m1, alpha, bet);
                    }
                }
            }
        }
    }
    return 0;
}

#else /* not x86 */

int gc_gemm_avx512(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                   int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
    (void)trans_a, (void)trans_b, (void)m, (void)n, (void)k, (void)alpha, (void)a;
    (void)lda, (void)b, (void)ldb, (void)beta, (void)c, (void)ldc;
    return -1;
}

#endif
