/* gemm.c — blocked GEMM with AVX-512 micro-kernels, on float32 or on bfloat16 inputs
 * (see gemm.h).
 *
 * Loops in the BLIS order: for each NC-wide column block of C and each KC-deep slice
 * of k, op(B) is packed into NR-wide panels (KC x NR, one L1-sized panel each); for
 * each MC-tall row block, op(A) is packed into MR-tall slivers (the block stays in L2);
 * then the micro-kernel computes one MR x NR tile of C from one sliver and one panel
 * with MR x NR/16 zmm accumulators. Packing pads edges with zeros, so the kernel always
 * runs full tiles and only its stores are masked (rows by count, columns by mask).
 * Operands stored across the packed order (A untransposed, B transposed: the weight
 * of a convolution, the im2col matrix of a weight gradient) are packed through 16 x 16
 * transposes in registers. The bfloat16 kind packs pairs of k into 32-bit words,
 * rounding as it packs, and its kernel adds them with vdpbf16ps: twice the
 * multiply-adds of an FMA per instruction, and half the bytes per panel.
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
#define TARGET_BF16 __attribute__((target("avx512f,avx512vl,avx512bw,avx512bf16,fma")))

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

int gc_gemm_have_bf16(void)
{
#if GEMM_X86
    return gc_gemm_have_avx512() && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512bf16");
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

/* r[0..rows) = the first kt floats of rows rows of s (ld apart), zero past them; r[rows..16)
 * = 0. */
TARGET static inline void load_rows(__m512 r[16], const float *s, size_t ld, int rows, int kt)
{
    __mmask16 mk = lanes(kt);
    for (int i = 0; i < 16; i++)
        r[i] = i < rows ? _mm512_maskz_loadu_ps(mk, s + (size_t)i * ld) : _mm512_setzero_ps();
}

/* Transposes the 16 x 16 block r in registers: afterwards r[j] holds what was column j.
 * Four rounds of shuffles (pairs of floats, pairs of doubles, then 128-bit lanes twice),
 * 64 in all: a quarter of a shuffle a float, where the gathers that packed the
 * transposed operands before took about one load a float. */
TARGET static inline void transpose16(__m512 r[16])
{
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        __m512d a = _mm512_castps_pd(t[i]), b = _mm512_castps_pd(t[i + 1]);
        __m512d c = _mm512_castps_pd(t[i + 2]), d = _mm512_castps_pd(t[i + 3]);
        r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    /* r[4i + j], 128-bit lane l: rows 4i..4i+3 of column 4l + j */
    for (int j = 0; j < 4; j++) {
        t[j] = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x88);
        t[4 + j] = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xdd);
        t[8 + j] = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x88);
        t[12 + j] = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xdd);
    }
    for (int j = 0; j < 4; j++) {
        r[j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0x88);
        r[8 + j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0xdd);
        r[4 + j] = _mm512_shuffle_f32x4(t[4 + j], t[12 + j], 0x88);
        r[12 + j] = _mm512_shuffle_f32x4(t[4 + j], t[12 + j], 0xdd);
    }
}

/* ---- float32 ------------------------------------------------------------------------ */

/* Packs op(B)[p0:p0+kc, j0:j0+nc] as NR-wide panels: dst[panel][p][j], zero-padded to
 * NR columns. op(B)(p,j) is b[p*ldb + j], or b[j*ldb + p] when trans_b. */
TARGET static void pack_b(int trans_b, int kc, int nc, const float *b, int ldb, int p0, int j0,
                          void *dstv)
{
    float *dst = dstv;
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
            continue;
        }
        /* rows of the stored B are columns of op(B): 16 x 16 blocks transposed */
        const float *s = b + (size_t)(j0 + jp) * ldb + p0;
        for (int pb = 0; pb < kc; pb += 16) {
            int kt = kc - pb < 16 ? kc - pb : 16;
            for (int half = 0; half < 2; half++) {
                __m512 r[16];
                load_rows(r, s + (size_t)half * 16 * ldb + pb, (size_t)ldb, nr - 16 * half, kt);
                transpose16(r);
                for (int t = 0; t < kt; t++)
                    _mm512_store_ps(d + (size_t)(pb + t) * NR + 16 * half, r[t]);
            }
        }
    }
}

/* Packs op(A)[i0:i0+mc, p0:p0+kc] as slivers of h <= MR rows, each laid out
 * dst[sliver][p][i] with MR floats per p (zero beyond its rows). op(A)(i,p) is
 * a[i*lda + p], or a[p*lda + i] when trans_a. */
TARGET static void pack_a(int trans_a, int mc, int h, int kc, const float *a, int lda, int i0,
                          int p0, void *dstv)
{
    float *dst = dstv;
    const __mmask16 ms = lanes(MR);
    for (int ip = 0; ip < mc; ip += h) {
        int mr = mc - ip < h ? mc - ip : h;
        float *d = dst + (size_t)(ip / h) * MR * kc;
        if (trans_a) {
            __mmask16 ml = lanes(mr);
            const float *s = a + (size_t)p0 * lda + i0 + ip;
            for (int p = 0; p < kc; p++, s += lda, d += MR)
                _mm512_mask_storeu_ps(d, ms, _mm512_maskz_loadu_ps(ml, s));
            continue;
        }
        /* the sliver's rows in 16 x 16 blocks, transposed */
        const float *s = a + (size_t)(i0 + ip) * lda + p0;
        for (int pb = 0; pb < kc; pb += 16) {
            int kt = kc - pb < 16 ? kc - pb : 16;
            __m512 r[16];
            load_rows(r, s + pb, (size_t)lda, mr, kt);
            transpose16(r);
            for (int t = 0; t < kt; t++)
                _mm512_mask_storeu_ps(d + (size_t)(pb + t) * MR, ms, r[t]);
        }
    }
}

/* One tile: C[0:rows, 0:nr] = alpha * (sliver ap · panel bp) + beta * C, ROWS a
 * constant after inlining so the accumulators live in registers. The sliver is
 * zero-padded, so the rows beyond ROWS are never needed and never computed. STEP is
 * the multiply-add of one k step (two for bfloat16) into acc0[i] and acc1[i] from the
 * broadcast av and the panel's vectors b0 and b1; ap and bp advance by one k step. */
#define KERNEL_BODY(ROWS, BCAST, STEP)                                                             \
    do {                                                                                           \
        __m512 acc0[ROWS], acc1[ROWS];                                                             \
        _Pragma("GCC unroll 16") for (int i = 0; i < (ROWS); i++) acc0[i] = acc1[i] =              \
            _mm512_setzero_ps();                                                                   \
        for (int p = 0; p < kw; p++) {                                                             \
            __m512i b0 = _mm512_load_si512(bp), b1 = _mm512_load_si512(bp + 16);                   \
            _Pragma("GCC unroll 16") for (int i = 0; i < (ROWS); i++)                              \
            {                                                                                      \
                __m512i av = BCAST(ap + i);                                                        \
                STEP(acc0[i], av, b0);                                                             \
                STEP(acc1[i], av, b1);                                                             \
            }                                                                                      \
            ap += MR;                                                                              \
            bp += NR;                                                                              \
        }                                                                                          \
        __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);                              \
        _Pragma("GCC unroll 16") for (int i = 0; i < (ROWS); i++)                                  \
        {                                                                                          \
            float *r = c + (size_t)i * ldc;                                                        \
            __m512 x0 = acc0[i], x1 = acc1[i];                                                     \
            if (alpha != 1.0f) {                                                                   \
                x0 = _mm512_mul_ps(va, x0);                                                        \
                x1 = _mm512_mul_ps(va, x1);                                                        \
            }                                                                                      \
            if (beta != 0.0f) {                                                                    \
                x0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, r), x0);                        \
                x1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, r + 16), x1);                   \
            }                                                                                      \
            _mm512_mask_storeu_ps(r, m0, x0);                                                      \
            _mm512_mask_storeu_ps(r + 16, m1, x1);                                                 \
        }                                                                                          \
    } while (0)

/* A packed operand is read as 32-bit words: one float, or one pair of bfloat16. */
typedef void (*kernel_fn)(int, const int32_t *, const int32_t *, float *, int, __mmask16, __mmask16,
                          float, float);

#define F32_BCAST(p) _mm512_castps_si512(_mm512_set1_ps(*(const float *)(p)))
#define F32_STEP(acc, a, b)                                                                        \
    (acc) = _mm512_fmadd_ps(_mm512_castsi512_ps(a), _mm512_castsi512_ps(b), (acc))

#define KERNEL(ROWS)                                                                               \
    TARGET static void kernel_##ROWS(int kw, const int32_t *ap, const int32_t *bp, float *c,       \
                                     int ldc, __mmask16 m0, __mmask16 m1, float alpha, float beta) \
    {                                                                                              \
        KERNEL_BODY(ROWS, F32_BCAST, F32_STEP);                                                    \
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

/* kernels[r - 1] computes r rows: edge slivers run only the rows they have */
static const kernel_fn kernels[MR] = {kernel_1,  kernel_2,  kernel_3,  kernel_4, kernel_5,
                                      kernel_6,  kernel_7,  kernel_8,  kernel_9, kernel_10,
                                      kernel_11, kernel_12, kernel_13, kernel_14};

/* ---- bfloat16 inputs, float32 sums -------------------------------------------------
 *
 * vdpbf16ps adds to each float lane the products of one pair of bfloat16 from each
 * operand: so both packed operands hold k in pairs, a 32-bit word per (row or column,
 * k pair), the even k in the low half. Slivers are dst[sliver][q][i] (MR words per k
 * pair q), panels dst[panel][q][j] (NR words); an odd last k pairs with a zero. Packing
 * rounds to nearest even (vcvtne2ps2bf16); the products of two bfloat16 are exact in
 * float32, so only the sums round, as in the float32 kernel. */

/* The words of 16 pairs (x[i], y[i]). */
TARGET_BF16 static inline __m512i bf16_pairs(__m512 x, __m512 y)
{
    const __m512i idx = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24,
                                         8, 23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    return _mm512_permutexvar_epi16(idx, (__m512i)_mm512_cvtne2ps_pbh(y, x));
}

/* pack_b for bfloat16: the same panels with each k pair in one word (see above). */
TARGET_BF16 static void pack_b_bf16(int trans_b, int kc, int nc, const float *b, int ldb, int p0,
                                    int j0, void *dstv)
{
    int32_t *dst = dstv;
    const int kq = (kc + 1) / 2;
    for (int jp = 0; jp < nc; jp += NR) {
        int nr = nc - jp < NR ? nc - jp : NR;
        int32_t *d = dst + (size_t)jp * kq;
        if (!trans_b) {
            __mmask16 m[2] = {lanes(nr), lanes(nr - 16)};
            const float *s = b + (size_t)p0 * ldb + j0 + jp;
            for (int p = 0; p < kc; p += 2, s += 2 * (size_t)ldb, d += NR)
                for (int half = 0; half < 2; half++) {
                    __m512 x = _mm512_maskz_loadu_ps(m[half], s + 16 * half);
                    __m512 y = p + 1 < kc ? _mm512_maskz_loadu_ps(m[half], s + ldb + 16 * half)
                                          : _mm512_setzero_ps();
                    _mm512_store_si512(d + 16 * half, bf16_pairs(x, y));
                }
            continue;
        }
        const float *s = b + (size_t)(j0 + jp) * ldb + p0;
        for (int pb = 0; pb < kc; pb += 16) {
            int kt = kc - pb < 16 ? kc - pb : 16;
            for (int half = 0; half < 2; half++) {
                __m512 r[16];
                load_rows(r, s + (size_t)half * 16 * ldb + pb, (size_t)ldb, nr - 16 * half, kt);
                transpose16(r);
                for (int t = 0; t < kt; t += 2)
                    _mm512_store_si512(d + (size_t)(pb + t) / 2 * NR + 16 * half,
                                       bf16_pairs(r[t], r[t + 1]));
            }
        }
    }
}

/* pack_a for bfloat16 (see above). */
TARGET_BF16 static void pack_a_bf16(int trans_a, int mc, int h, int kc, const float *a, int lda,
                                    int i0, int p0, void *dstv)
{
    int32_t *dst = dstv;
    const int kq = (kc + 1) / 2;
    const __mmask16 ms = lanes(MR);
    for (int ip = 0; ip < mc; ip += h) {
        int mr = mc - ip < h ? mc - ip : h;
        int32_t *d = dst + (size_t)(ip / h) * MR * kq;
        if (trans_a) {
            __mmask16 ml = lanes(mr);
            const float *s = a + (size_t)p0 * lda + i0 + ip;
            for (int p = 0; p < kc; p += 2, s += 2 * (size_t)lda, d += MR) {
                __m512 x = _mm512_maskz_loadu_ps(ml, s);
                __m512 y = p + 1 < kc ? _mm512_maskz_loadu_ps(ml, s + lda) : _mm512_setzero_ps();
                _mm512_mask_storeu_epi32(d, ms, bf16_pairs(x, y));
            }
            continue;
        }
        const float *s = a + (size_t)(i0 + ip) * lda + p0;
        for (int pb = 0; pb < kc; pb += 16) {
            int kt = kc - pb < 16 ? kc - pb : 16;
            __m512 r[16];
            load_rows(r, s + pb, (size_t)lda, mr, kt);
            transpose16(r);
            for (int t = 0; t < kt; t += 2)
                _mm512_mask_storeu_epi32(d + (size_t)(pb + t) / 2 * MR, ms,
                                         bf16_pairs(r[t], r[t + 1]));
        }
    }
}

#define BF16_BCAST(p) _mm512_set1_epi32(*(p))
#define BF16_STEP(acc, a, b) (acc) = _mm512_dpbf16_ps((acc), (__m512bh)(a), (__m512bh)(b))

#define KERNEL_BF16(ROWS)                                                                          \
    TARGET_BF16 static void kernel_bf16_##ROWS(int kw, const int32_t *ap, const int32_t *bp,       \
                                               float *c, int ldc, __mmask16 m0, __mmask16 m1,      \
                                               float alpha, float beta)                            \
    {                                                                                              \
        KERNEL_BODY(ROWS, BF16_BCAST, BF16_STEP);                                                  \
    }

KERNEL_BF16(1)
KERNEL_BF16(2)
KERNEL_BF16(3)
KERNEL_BF16(4)
KERNEL_BF16(5)
KERNEL_BF16(6)
KERNEL_BF16(7)
KERNEL_BF16(8)
KERNEL_BF16(9)
KERNEL_BF16(10)
KERNEL_BF16(11)
KERNEL_BF16(12)
KERNEL_BF16(13)
KERNEL_BF16(14)

static const kernel_fn kernels_bf16[MR] = {
    kernel_bf16_1,  kernel_bf16_2,  kernel_bf16_3,  kernel_bf16_4, kernel_bf16_5,
    kernel_bf16_6,  kernel_bf16_7,  kernel_bf16_8,  kernel_bf16_9, kernel_bf16_10,
    kernel_bf16_11, kernel_bf16_12, kernel_bf16_13, kernel_bf16_14};

/* ---- the blocked loops, for either kind ------------------------------------------- */

typedef void (*pack_a_fn)(int, int, int, int, const float *, int, int, int, void *);
typedef void (*pack_b_fn)(int, int, int, const float *, int, int, int, void *);

struct gemm_kind {
    int kc;    /* depth of a k slice */
    int pairs; /* 1: two k per packed word (bfloat16) */
    pack_a_fn pack_a;
    pack_b_fn pack_b;
    const kernel_fn *kernels;
};

static const struct gemm_kind kind_f32 = {KC, 0, pack_a, pack_b, kernels};
/* a bfloat16 panel of 2 KC deep takes the L1 bytes of a float32 one of KC */
static const struct gemm_kind kind_bf16 = {2 * KC, 1, pack_a_bf16, pack_b_bf16, kernels_bf16};

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

static int gemm_run(const struct gemm_kind *kd, int trans_a, int trans_b, int m, int n, int k,
                    float alpha, const float *a, int lda, const float *b, int ldb, float beta,
                    float *c, int ldc)
{
    if (m <= 0 || n <= 0)
        return 0;
    if (k <= 0 || alpha == 0.0f) {
        scale_c(m, n, beta, c, ldc);
        return 0;
    }
    /* slices of an even depth but the last, so that pairs never straddle two */
    int kc_max = block_size(k, kd->kc, kd->pairs ? 2 : 1);
    int mc_max = block_size(m, MC, MR);
    int nc_max = block_size(n, NC, NR);
    int kw_max = kd->pairs ? (kc_max + 1) / 2 : kc_max;
    struct pack_ws *ws = ws_get((size_t)mc_max * kw_max, (size_t)nc_max * kw_max);
    if (!ws)
        return -1;
    for (int jc = 0; jc < n; jc += nc_max) {
        int nc = n - jc < nc_max ? n - jc : nc_max;
        for (int pc = 0; pc < k; pc += kc_max) {
            int kc = k - pc < kc_max ? k - pc : kc_max;
            int kw = kd->pairs ? (kc + 1) / 2 : kc; /* packed words per row or column */
            /* later k slices add to what the first one wrote */
            float bet = pc == 0 ? beta : 1.0f;
            kd->pack_b(trans_b, kc, nc, b, ldb, pc, jc, ws->b);
            for (int ic = 0; ic < m; ic += mc_max) {
                int mc = m - ic < mc_max ? m - ic : mc_max;
                /* near-equal slivers: 64 rows as 13+13+13+13+12, not 14x4+8, and 16
                 * as 8+8, not 14+2, whose two rows would leave the FMA pipes waiting
                 * on four dependency chains */
                int ns = (mc + MR - 1) / MR, h = (mc + ns - 1) / ns;
                kd->pack_a(trans_a, mc, h, kc, a, lda, ic, pc, ws->a);
                for (int jr = 0; jr < nc; jr += NR) {
                    int nr = nc - jr;
                    __mmask16 m0 = lanes(nr), m1 = lanes(nr - 16);
                    const int32_t *bp = (const int32_t *)ws->b + (size_t)jr * kw;
                    for (int ir = 0; ir < mc; ir += h) {
                        int mr = mc - ir < h ? mc - ir : h;
                        float *ct = c + (size_t)(ic + ir) * ldc + jc + jr;
                        kd->kernels[mr - 1](kw, (const int32_t *)ws->a + (size_t)(ir / h) * MR * kw,
                                            bp, ct, ldc, m0, m1, alpha, bet);
                    }
                }
            }
        }
    }
    return 0;
}

int gc_gemm_avx512(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                   int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
    if (!gc_gemm_have_avx512())
        return -1;
    return gemm_run(&kind_f32, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

int gc_gemm_bf16(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                 int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
    if (!gc_gemm_have_bf16())
        return -1;
    return gemm_run(&kind_bf16, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

#else /* not x86 */

int gc_gemm_avx512(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                   int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
    (void)trans_a, (void)trans_b, (void)m, (void)n, (void)k, (void)alpha, (void)a;
    (void)lda, (void)b, (void)ldb, (void)beta, (void)c, (void)ldc;
    return -1;
}

int gc_gemm_bf16(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                 int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
    (void)trans_a, (void)trans_b, (void)m, (void)n, (void)k, (void)alpha, (void)a;
    (void)lda, (void)b, (void)ldb, (void)beta, (void)c, (void)ldc;
    return -1;
}

#endif
