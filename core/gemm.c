/* gemm.c — blocked GEMM with AVX-512 micro-kernels, on float32 or on bfloat16 inputs
 * (see gemm.h).
 *
 * Loops in the BLIS order: for each NC-wide column block of C and each KC-deep slice
 * of k, op(B) is packed into NR-wide panels (KC x NR each; with one row block, each
 * panel just before its tiles: see gemm_run); for each MC-tall row block, op(A) is
 * packed into MR-tall slivers; then the micro-kernel computes one MR x NR tile of C
 * from one sliver and one panel with MR x NR/16 zmm accumulators. Packing
 * (gemm_pack.c) pads edges with zeros, so the kernel always runs full tiles and only
 * its stores are masked (rows by count, columns by mask). The bfloat16 kind packs
 * pairs of k into 32-bit words, rounding as it packs, and its kernel adds them with
 * vdpbf16ps: twice the multiply-adds of an FMA per instruction, and half the bytes per
 * panel.
 *
 * B and C may be given through offsets (gc_gemm_mapped): B is then packed from them,
 * and a tile of C is computed into a small buffer and added (or stored) run by run.
 * Without the kernels (no AVX-512), a mapped GEMM spells the operands out into this
 * thread's buffers and runs gc_sgemm.
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

#include "core/blas.h"
#include "core/gemm_pack.h"

#if GEMM_X86
#include <immintrin.h>
#endif

/* Deep k slices: a tile of C is loaded and stored once per slice, and measured on this
 * machine's cores (Zen 5: 48 KB L1, 1 MB L2) a 2048^3 SGEMM ran at 148 GFLOP/s with
 * KC = 256 (a B panel of 32 KB held in L1), 178 with 1024 and 183 with 4096, the DCGAN
 * 64x64 step 5% faster with 1024: the panels (128 KB) and the A block (MC x KC, 1.4 MB)
 * stream from L2 and L3 behind the prefetchers, and fewer passes over C pay for it.
 * NC keeps the packed B block at 4 MB (KC x NC floats) a thread. */
#define KC 1024
#define MC (MR * 24)
#define NC 1024

/* Per-thread packing buffers (see gemm.h for why a pthread key); x is where a mapped
 * GEMM without the kernels spells its operands out. */
struct pack_ws {
    float *a, *b, *x, *pa;          /* pa: the A of gc_gemm_pack_a */
    size_t acap, bcap, xcap, pacap; /* floats */
};

static pthread_once_t ws_once = PTHREAD_ONCE_INIT;
static pthread_key_t ws_key;
static int ws_key_ok;

static void ws_free(void *p)
{
    struct pack_ws *ws = p;
    free(ws->a);
    free(ws->b);
    free(ws->x);
    free(ws->pa);
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
 * operand, so both packed operands hold k in pairs, a 32-bit word per (row or column,
 * k pair) (gemm_pack.h). The products of two bfloat16 are exact in float32, so only the
 * sums round, as in the float32 kernel. */

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
typedef void (*pack_b_fn)(const struct gemm_src *, int, int, int, int, int, void *);

struct gemm_kind {
    int kc;    /* depth of a k slice */
    int pairs; /* 1: two k per packed word (bfloat16) */
    pack_a_fn pack_a;
    pack_b_fn pack_b;
    const kernel_fn *kernels;
};

static const struct gemm_kind kind_f32 = {KC, 0, gemm_pack_a, gemm_pack_b, kernels};
/* a bfloat16 panel of 2 KC deep takes the bytes of a float32 one of KC */
static const struct gemm_kind kind_bf16 = {2 * KC, 1, gemm_pack_a_bf16, gemm_pack_b_bf16,
                                           kernels_bf16};

/* The mr-row tile t (rows NR floats apart) into C through cmap at rows i0.., over the
 * panel's column runs r: C = t + beta * C, run by run (C's elements may share
 * addresses when beta is not 0: each row is added in turn). */
TARGET static void scatter_tile(const float *t, int mr, const struct gemm_runs r[2],
                                const struct gc_gemm_map *cmap, float *c, int i0, float beta)
{
    const __m512 vb = _mm512_set1_ps(beta);
    for (int i = 0; i < mr; i++) {
        float *q = c + cmap->row[i0 + i];
        for (int half = 0; half < 2; half++) {
            const __m512 v = _mm512_loadu_ps(t + (size_t)i * NR + 16 * half);
            for (int k = 0; k < r[half].n; k++) {
                float *o = q + r[half].off[k];
                __mmask16 m = r[half].m[k];
                __m512 x = v;
                if (beta != 0.0f)
                    x = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m, o), v);
                _mm512_mask_storeu_ps(o, m, x);
            }
        }
    }
}

/* Packs B's slice [pc, pc + kc) x [jc, jc + nc) for kind kd: words already paired are
 * copied as they are (rows pc / 2 on, a row a pair of k; pc is even, see a_blocks). */
static void pack_b(const struct gemm_kind *kd, const struct gemm_src *b, int trans_b, int kc,
                   int nc, int pc, int jc, void *dst)
{
    if (b->pairs)
        gemm_pack_b(b, 0, (kc + 1) / 2, nc, pc / 2, jc, dst);
    else
        kd->pack_b(b, trans_b, kc, nc, pc, jc, dst);
}

/* The blocks of op(A) (m x k): k slices of kc_max (kw_max packed words), row blocks of
 * mc_max, nic of them. They depend only on the kind and the shape, so an A packed ahead
 * (gc_gemm_pack_a) has the blocks every GEMM of its shape would pack. */
struct a_blocks {
    int kc_max, mc_max, kw_max, nic;
    size_t words; /* room of one packed block: mc_max rows of kw_max words */
};

static struct a_blocks a_blocks(const struct gemm_kind *kd, int m, int k)
{
    struct a_blocks ab;
    /* slices of an even depth but the last, so that pairs never straddle two */
    ab.kc_max = block_size(k, kd->kc, kd->pairs ? 2 : 1);
    ab.mc_max = block_size(m, MC, MR);
    ab.kw_max = kd->pairs ? (ab.kc_max + 1) / 2 : ab.kc_max;
    ab.nic = (m + ab.mc_max - 1) / ab.mc_max;
    ab.words = (size_t)ab.mc_max * ab.kw_max;
    return ab;
}

/* The height of the slivers of an mc-row block: near-equal, 64 rows as 13+13+13+13+12,
 * not 14x4+8, and 16 as 8+8, not 14+2, whose two rows would leave the FMA pipes waiting
 * on four dependency chains. */
static int sliver_height(int mc)
{
    int ns = (mc + MR - 1) / MR;
    return (mc + ns - 1) / ns;
}

/* The GEMM; with apre not NULL, op(A) comes packed ahead by gc_gemm_pack_a (block
 * (k slice p, row block i) at apre + (p * nic + i) * words) instead of from a. */
static int gemm_run(const struct gemm_kind *kd, int trans_a, int trans_b, int m, int n, int k,
                    float alpha, const float *a, int lda, const int32_t *apre,
                    const struct gemm_src *b, float beta, float *c, int ldc,
                    const struct gc_gemm_map *cmap)
{
    /* a tile of a mapped C, before it goes out */
    float tile[MR * NR] __attribute__((aligned(64)));
    const struct a_blocks ab = a_blocks(kd, m, k);
    const int kc_max = ab.kc_max, mc_max = ab.mc_max, kw_max = ab.kw_max;
    /* With one row block, each panel of B meets one block of A: it is packed just
     * before its tiles run, while they read it, into a buffer of one panel (KC x NR)
     * instead of a whole KC x NC block (4 MB), and the columns need no blocks (A is
     * packed once a slice). Each element of C sums the same k slices in the same
     * order either way, so the bits are the same. */
    const int one_block = m <= mc_max;
    int nc_max = one_block ? n : block_size(n, NC, NR);
    struct pack_ws *ws = ws_get(apre ? 0 : ab.words, (size_t)(one_block ? NR : nc_max) * kw_max);
    if (!ws)
        return -1;
    for (int jc = 0; jc < n; jc += nc_max) {
        int nc = n - jc < nc_max ? n - jc : nc_max;
        for (int pc = 0; pc < k; pc += kc_max) {
            int kc = k - pc < kc_max ? k - pc : kc_max;
            int kw = kd->pairs ? (kc + 1) / 2 : kc; /* packed words per row or column */
            /* later k slices add to what the first one wrote */
            float bet = pc == 0 ? beta : 1.0f;
            if (!one_block)
                pack_b(kd, b, trans_b, kc, nc, pc, jc, ws->b);
            for (int ic = 0; ic < m; ic += mc_max) {
                int mc = m - ic < mc_max ? m - ic : mc_max, h = sliver_height(mc);
                const int32_t *ablk = (const int32_t *)ws->a;
                if (apre)
                    ablk = apre + ((size_t)(pc / kc_max) * ab.nic + ic / mc_max) * ab.words;
                else
                    kd->pack_a(trans_a, mc, h, kc, a, lda, ic, pc, ws->a);
                for (int jr = 0; jr < nc; jr += NR) {
                    int nr = nc - jr;
                    __mmask16 m0 = lanes(nr), m1 = lanes(nr - 16);
                    const int32_t *bp = (const int32_t *)ws->b;
                    if (one_block)
                        pack_b(kd, b, trans_b, kc, nr < NR ? nr : NR, pc, jc + jr, ws->b);
                    else
                        bp += (size_t)jr * kw;
                    struct gemm_runs runs[2];
                    if (cmap) {
                        gemm_find_runs(cmap->col + jc + jr, nr < 16 ? nr : 16, &runs[0]);
                        gemm_find_runs(cmap->col + jc + jr + 16, nr < 32 ? nr - 16 : 16, &runs[1]);
                    }
                    for (int ir = 0; ir < mc; ir += h) {
                        int mr = mc - ir < h ? mc - ir : h;
                        const int32_t *ap = ablk + (size_t)(ir / h) * MR * kw;
                        if (!cmap) {
                            float *ct = c + (size_t)(ic + ir) * ldc + jc + jr;
                            kd->kernels[mr - 1](kw, ap, bp, ct, ldc, m0, m1, alpha, bet);
                            continue;
                        }
                        kd->kernels[mr - 1](kw, ap, bp, tile, NR, 0xffff, 0xffff, alpha, 0.0f);
                        scatter_tile(tile, mr, runs, cmap, c, ic + ir, bet);
                    }
                }
            }
        }
    }
    return 0;
}

#endif

/* C[0:m, 0:n] = beta * C, without reading C when beta is 0 (the k == 0 or alpha == 0
 * case, as cblas does it); through cmap when not NULL. */
static void scale_c(int m, int n, float beta, float *c, int ldc, const struct gc_gemm_map *cmap)
{
    if (!cmap && beta == 0.0f) {
        for (int i = 0; i < m; i++)
            memset(c + (size_t)i * ldc, 0, (size_t)n * sizeof(float));
        return;
    }
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            float *e = cmap ? c + cmap->row[i] + cmap->col[j] : c + (size_t)i * ldc + j;
            if (beta == 0.0f)
                *e = 0.0f;
            else if (beta != 1.0f)
                *e *= beta;
        }
}

/* A mapped GEMM without the kernels: op(B) and C spelled out densely in this thread's
 * buffer, gc_sgemm, then C back through its map. */
static int mapped_by_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
                           const float *a, int lda, const float *b, int ldb,
                           const struct gc_gemm_map *bmap, float beta, float *c, int ldc,
                           const struct gc_gemm_map *cmap)
{
    int br = trans_b ? n : k, bc = trans_b ? k : n;
    size_t nb = bmap ? (size_t)br * bc : 0, nc = cmap ? (size_t)m * n : 0;
    struct pack_ws *ws = ws_get(0, 0);
    if (!ws || ws_grow(&ws->x, &ws->xcap, nb + nc + 1))
        return -1;
    float *bx = ws->x, *cx = ws->x + nb;
    if (bmap) {
        for (int r = 0; r < br; r++)
            for (int q = 0; q < bc; q++)
                bx[(size_t)r * bc + q] = b[bmap->row[r] + bmap->col[q]];
        b = bx;
        ldb = bc;
    }
    if (!cmap) {
        gc_sgemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return 0;
    }
    gc_sgemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, 0.0f, cx, n);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            float *e = c + cmap->row[i] + cmap->col[j];
            *e = beta == 0.0f ? cx[(size_t)i * n + j] : cx[(size_t)i * n + j] + beta * *e;
        }
    return 0;
}

int gc_gemm_mapped(int bf16, int trans_a, int trans_b, int m, int n, int k, float alpha,
                   const float *a, int lda, const float *b, int ldb, const struct gc_gemm_map *bmap,
                   float beta, float *c, int ldc, const struct gc_gemm_map *cmap)
{
    if (m <= 0 || n <= 0)
        return 0;
    if (k <= 0 || alpha == 0.0f) {
        scale_c(m, n, beta, c, ldc, cmap);
        return 0;
    }
#if GEMM_X86
    const struct gemm_src bs = {b, ldb, bmap ? bmap->row : NULL, bmap ? bmap->col : NULL, 0};
    if (bf16 && gc_gemm_have_bf16() &&
        gemm_run(&kind_bf16, trans_a, trans_b, m, n, k, alpha, a, lda, NULL, &bs, beta, c, ldc,
                 cmap) == 0)
        return 0;
    if (gc_gemm_have_avx512() && gemm_run(&kind_f32, trans_a, trans_b, m, n, k, alpha, a, lda, NULL,
                                          &bs, beta, c, ldc, cmap) == 0)
        return 0;
#else
    (void)bf16;
#endif
    return mapped_by_sgemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, bmap, beta, c, ldc,
                           cmap);
}

#if GEMM_X86
/* Slivers of op(A) packed for kind kd: those of each block, block after block. */
static size_t a_slivers(const struct gemm_kind *kd, int m, int k)
{
    const struct a_blocks ab = a_blocks(kd, m, k);
    size_t ns = 0;
    for (int ic = 0; ic < m; ic += ab.mc_max) {
        int mc = m - ic < ab.mc_max ? m - ic : ab.mc_max, h = sliver_height(mc);
        ns += (size_t)((mc + h - 1) / h);
    }
    return ns * (size_t)((k + ab.kc_max - 1) / ab.kc_max);
}

/* Slivers [s0, s1) of op(A), counted as a_slivers counts them, into their places in
 * dst: block (k slice p, row block i) at (p * nic + i) * words, its slivers MR x kw
 * words apart (gemm_run reads them there). */
static void pack_a_slivers(const struct gemm_kind *kd, int trans_a, int m, int k, const float *a,
                           int lda, size_t s0, size_t s1, int32_t *dst)
{
    const struct a_blocks ab = a_blocks(kd, m, k);
    size_t s = 0; /* the first sliver of the block */
    for (int pc = 0; pc < k; pc += ab.kc_max) {
        int kc = k - pc < ab.kc_max ? k - pc : ab.kc_max;
        int kw = kd->pairs ? (kc + 1) / 2 : kc;
        for (int ic = 0; ic < m; ic += ab.mc_max, dst += ab.words) {
            int mc = m - ic < ab.mc_max ? m - ic : ab.mc_max, h = sliver_height(mc);
            size_t ns = (size_t)((mc + h - 1) / h);
            size_t b = s0 > s ? s0 : s, e = s1 < s + ns ? s1 : s + ns;
            if (b < e) {
                int r0 = (int)(b - s) * h, r1 = (int)(e - s) * h < mc ? (int)(e - s) * h : mc;
                kd->pack_a(trans_a, r1 - r0, h, kc, a, lda, ic + r0, pc,
                           dst + (b - s) * MR * (size_t)kw);
            }
            s += ns;
        }
    }
}

/* The kind an A packed for bf16 takes on this CPU; NULL without the kernels. */
static const struct gemm_kind *pack_kind(int bf16)
{
    if (bf16 && gc_gemm_have_bf16())
        return &kind_bf16;
    return gc_gemm_have_avx512() ? &kind_f32 : NULL;
}
#endif

void gc_gemm_pack_a(int bf16, int trans_a, int m, int k, const float *a, int lda,
                    struct gc_gemm_packed_a *out)
{
    *out = (struct gc_gemm_packed_a){bf16, trans_a, m, k, a, lda, 0, NULL};
#if GEMM_X86
    const struct gemm_kind *kd = pack_kind(bf16);
    if (m <= 0 || k <= 0 || !kd)
        return;
    struct pack_ws *ws = ws_get(0, 0);
    if (!ws || ws_grow(&ws->pa, &ws->pacap, gc_gemm_packed_a_words(kd == &kind_bf16, m, k)))
        return; /* the GEMMs pack A themselves */
    pack_a_slivers(kd, trans_a, m, k, a, lda, 0, SIZE_MAX, (int32_t *)ws->pa);
    out->packed_bf16 = kd == &kind_bf16;
    out->packed = ws->pa;
#endif
}

size_t gc_gemm_packed_a_words(int bf16, int m, int k)
{
#if GEMM_X86
    if (m <= 0 || k <= 0)
        return 0;
    const struct a_blocks ab = a_blocks(bf16 ? &kind_bf16 : &kind_f32, m, k);
    return (size_t)((k + ab.kc_max - 1) / ab.kc_max) * ab.nic * ab.words;
#else
    (void)bf16, (void)m, (void)k;
    return 0;
#endif
}

void gc_gemm_pack_a_part(int bf16, int trans_a, int m, int k, const float *a, int lda, void *buf,
                         size_t cap, int ith, int nth, struct gc_gemm_packed_a *out)
{
    *out = (struct gc_gemm_packed_a){bf16, trans_a, m, k, a, lda, 0, NULL};
#if GEMM_X86
    const struct gemm_kind *kd = pack_kind(bf16);
    if (m <= 0 || k <= 0 || !kd || !buf || cap < gc_gemm_packed_a_words(kd == &kind_bf16, m, k))
        return;
    const size_t ns = a_slivers(kd, m, k);
    pack_a_slivers(kd, trans_a, m, k, a, lda, ns * (size_t)ith / (size_t)nth,
                   ns * (size_t)(ith + 1) / (size_t)nth, buf);
    out->packed_bf16 = kd == &kind_bf16;
    out->packed = buf;
#else
    (void)buf, (void)cap, (void)ith, (void)nth;
#endif
}

int gc_gemm_mapped_a(const struct gc_gemm_packed_a *A, int trans_b, int n, float alpha,
                     const float *b, int ldb, const struct gc_gemm_map *bmap, float beta, float *c,
                     int ldc, const struct gc_gemm_map *cmap)
{
#if GEMM_X86
    const struct gemm_src bs = {b, ldb, bmap ? bmap->row : NULL, bmap ? bmap->col : NULL, 0};
    if (A->packed && n > 0 && alpha != 0.0f &&
        gemm_run(A->packed_bf16 ? &kind_bf16 : &kind_f32, A->trans_a, trans_b, A->m, n, A->k, alpha,
                 A->a, A->lda, A->packed, &bs, beta, c, ldc, cmap) == 0)
        return 0;
#endif
    return gc_gemm_mapped(A->bf16, A->trans_a, trans_b, A->m, n, A->k, alpha, A->a, A->lda, b, ldb,
                          bmap, beta, c, ldc, cmap);
}

int gc_gemm_mapped_a_pairs(const struct gc_gemm_packed_a *A, int n, const uint32_t *b,
                           const struct gc_gemm_map *bmap, float beta, float *c, int ldc,
                           const struct gc_gemm_map *cmap)
{
#if GEMM_X86
    if (!A->bf16 || !gc_gemm_have_bf16())
        return -1;
    if (n <= 0 || A->m <= 0)
        return 0;
    if (A->k <= 0) {
        scale_c(A->m, n, beta, c, ldc, cmap);
        return 0;
    }
    const struct gemm_src bs = {(const float *)b, 0, bmap->row, bmap->col, 1};
    return gemm_run(&kind_bf16, A->trans_a, 0, A->m, n, A->k, 1.0f, A->a, A->lda,
                    A->packed_bf16 ? A->packed : NULL, &bs, beta, c, ldc, cmap);
#else
    (void)A, (void)n, (void)b, (void)bmap, (void)beta, (void)c, (void)ldc, (void)cmap;
    return -1;
#endif
}

#if GEMM_X86
TARGET_BF16 static void to_bf16(uint16_t *dst, const float *src, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256((__m256i *)(dst + i),
                            (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(src + i)));
    if (i < n) {
        __mmask16 m = lanes((int)(n - i));
        _mm256_mask_storeu_epi16(dst + i, m,
                                 (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, src + i)));
    }
}
#endif

int gc_gemm_to_bf16(uint16_t *dst, const float *src, size_t n)
{
#if GEMM_X86
    if (!gc_gemm_have_bf16())
        return -1;
    to_bf16(dst, src, n);
    return 0;
#else
    (void)dst, (void)src, (void)n;
    return -1;
#endif
}

/* A plain GEMM of one kind; -1 (C untouched) without the CPU's support or buffers. */
static int plain_gemm(int bf16, int trans_a, int trans_b, int m, int n, int k, float alpha,
                      const float *a, int lda, const float *b, int ldb, float beta, float *c,
                      int ldc)
{
    if (!(bf16 ? gc_gemm_have_bf16() : gc_gemm_have_avx512()))
        return -1;
#if GEMM_X86
    if (m <= 0 || n <= 0)
        return 0;
    if (k <= 0 || alpha == 0.0f) {
        scale_c(m, n, beta, c, ldc, NULL);
        return 0;
    }
    const struct gemm_src bs = {b, ldb, NULL, NULL, 0};
    return gemm_run(bf16 ? &kind_bf16 : &kind_f32, trans_a, trans_b, m, n, k, alpha, a, lda, NULL,
                    &bs, beta, c, ldc, NULL);
#else
    return -1;
#endif
}

int gc_gemm_avx512(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                   int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
    return plain_gemm(0, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

int gc_gemm_bf16(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                 int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
    return plain_gemm(1, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
