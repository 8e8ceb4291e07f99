/* gemm_pack.c — packing core/gemm.c's operands (see gemm_pack.h).
 *
 * Operands stored across the packed order (A untransposed, B transposed: the weight
 * of a convolution, the im2col matrix of a weight gradient) go through 16 x 16
 * transposes in registers: a quarter of a shuffle a float, where gathers took about
 * one load a float. A B given through offsets is read row by row in runs: a row of a
 * convolution's im2col matrix over the pixels of a panel is a few runs of one phase
 * plane (one per output row the panel spans), so each run is one masked load. */
#include "core/gemm_pack.h"

#include <stddef.h>

#if GEMM_X86
#include <immintrin.h>
#endif

void gemm_find_runs(const int32_t *col, int len, struct gemm_runs *r)
{
    r->n = 0;
    int s = 0;
    for (int l = 1; l <= len; l++) {
        if (l < len && col[l] == col[l - 1] + 1)
            continue;
        r->m[r->n] = (uint16_t)(((1u << l) - 1) & ~((1u << s) - 1));
        r->off[r->n] = col[s] - s;
        r->n++;
        s = l;
    }
}

#if GEMM_X86

/* Lanes [0, n) of a 16-lane mask (n may be <= 0 or > 16). */
static inline __mmask16 lanes(int n)
{
    return n >= 16 ? (__mmask16)0xffff : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1);
}

/* Columns [c0, c0 + len) of a stored matrix, as a row loader reads them. */
struct colset {
    int c0, len;
    struct gemm_runs runs; /* mapped sources */
};

static void colset_make(const struct gemm_src *s, int c0, int len, struct colset *cs)
{
    cs->c0 = c0;
    cs->len = len < 0 ? 0 : len > 16 ? 16 : len;
    if (s->row)
        gemm_find_runs(s->col + c0, cs->len, &cs->runs);
}

/* Row r of s over the columns of cs, zero past them. A run's lanes are read from
 * q + off + lane: the masked load touches only those lanes' addresses. */
TARGET static inline __m512 load_row(const struct gemm_src *s, int r, const struct colset *cs)
{
    if (!s->row)
        return _mm512_maskz_loadu_ps(lanes(cs->len), s->p + (size_t)r * s->ld + cs->c0);
    const float *q = s->p + s->row[r];
    __m512 v = _mm512_setzero_ps();
    for (int i = 0; i < cs->runs.n; i++)
        v = _mm512_mask_loadu_ps(v, cs->runs.m[i], q + cs->runs.off[i]);
    return v;
}

/* r[0..rows) = rows r0.. of s over cs, r[rows..16) = 0. */
TARGET static inline void load_rows(__m512 r[16], const struct gemm_src *s, int r0, int rows,
                                    const struct colset *cs)
{
    for (int i = 0; i < 16; i++)
        r[i] = i < rows ? load_row(s, r0 + i, cs) : _mm512_setzero_ps();
}

/* Transposes the 16 x 16 block r in registers: afterwards r[j] holds what was column j.
 * Pairs of floats, pairs of doubles, then 128-bit lanes twice: 64 shuffles. */
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

/* The words of 16 bfloat16 pairs (x[i], y[i]), rounded to nearest even. */
TARGET_BF16 static inline __m512i bf16_pairs(__m512 x, __m512 y)
{
    const __m512i idx = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24,
                                         8, 23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    return _mm512_permutexvar_epi16(idx, (__m512i)_mm512_cvtne2ps_pbh(y, x));
}

/* A pack_b in two kinds: STORE(d, t, half, v...) writes the packed values of k step t
 * (float32: one row; bfloat16: rows t and t + 1) of the 16 columns of half. */
#define PACK_B_BODY(WORD, PAIRS)                                                                   \
    do {                                                                                           \
        WORD *dst = dstv;                                                                          \
        const int kw = PAIRS ? (kc + 1) / 2 : kc;                                                  \
        const int step = PAIRS ? 2 : 1;                                                            \
        for (int jp = 0; jp < nc; jp += NR) {                                                      \
            const int nr = nc - jp < NR ? nc - jp : NR;                                            \
            WORD *d = dst + (size_t)jp * kw;                                                       \
            if (!trans_b) {                                                                        \
                struct colset cs[2];                                                               \
                colset_make(b, j0 + jp, nr, &cs[0]);                                               \
                colset_make(b, j0 + jp + 16, nr - 16, &cs[1]);                                     \
                for (int p = 0; p < kc; p += step, d += NR)                                        \
                    for (int half = 0; half < 2; half++) {                                         \
                        __m512 x = load_row(b, p0 + p, &cs[half]);                                 \
                        if (PAIRS) {                                                               \
                            __m512 y = p + 1 < kc ? load_row(b, p0 + p + 1, &cs[half])             \
                                                  : _mm512_setzero_ps();                           \
                            _mm512_store_si512(d + 16 * half, PACK_PAIR(x, y));                    \
                        } else {                                                                   \
                            _mm512_store_si512(d + 16 * half, _mm512_castps_si512(x));             \
                        }                                                                          \
                    }                                                                              \
                continue;                                                                          \
            }                                                                                      \
            /* rows of the stored B are columns of op(B): 16 x 16 blocks transposed */             \
            for (int pb = 0; pb < kc; pb += 16) {                                                  \
                const int kt = kc - pb < 16 ? kc - pb : 16;                                        \
                struct colset cs;                                                                  \
                colset_make(b, p0 + pb, kt, &cs);                                                  \
                for (int half = 0; half < 2; half++) {                                             \
                    __m512 r[16];                                                                  \
                    load_rows(r, b, j0 + jp + 16 * half, nr - 16 * half, &cs);                     \
                    transpose16(r);                                                                \
                    for (int t = 0; t < kt; t += step) {                                           \
                        WORD *o = d + (size_t)(pb + t) / step * NR + 16 * half;                    \
                        if (PAIRS)                                                                 \
                            _mm512_store_si512(o, PACK_PAIR(r[t], r[t + 1]));                      \
                        else                                                                       \
                            _mm512_store_si512(o, _mm512_castps_si512(r[t]));                      \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    } while (0)

/* op(A) slivers in two kinds, as PACK_B_BODY. */
#define PACK_A_BODY(WORD, PAIRS)                                                                   \
    do {                                                                                           \
        WORD *dst = dstv;                                                                          \
        const int kw = PAIRS ? (kc + 1) / 2 : kc;                                                  \
        const int step = PAIRS ? 2 : 1;                                                            \
        const __mmask16 ms = lanes(MR);                                                            \
        const struct gemm_src src = {a, lda, NULL, NULL, 0};                                       \
        for (int ip = 0; ip < mc; ip += h) {                                                       \
            const int mr = mc - ip < h ? mc - ip : h;                                              \
            WORD *d = dst + (size_t)(ip / h) * MR * kw;                                            \
            if (trans_a) {                                                                         \
                struct colset cs;                                                                  \
                colset_make(&src, i0 + ip, mr, &cs);                                               \
                for (int p = 0; p < kc; p += step, d += MR) {                                      \
                    __m512 x = load_row(&src, p0 + p, &cs);                                        \
                    if (PAIRS) {                                                                   \
                        __m512 y =                                                                 \
                            p + 1 < kc ? load_row(&src, p0 + p + 1, &cs) : _mm512_setzero_ps();    \
                        _mm512_mask_storeu_epi32(d, ms, PACK_PAIR(x, y));                          \
                    } else {                                                                       \
                        _mm512_mask_storeu_epi32(d, ms, _mm512_castps_si512(x));                   \
                    }                                                                              \
                }                                                                                  \
                continue;                                                                          \
            }                                                                                      \
            /* the sliver's rows in 16 x 16 blocks, transposed */                                  \
            for (int pb = 0; pb < kc; pb += 16) {                                                  \
                const int kt = kc - pb < 16 ? kc - pb : 16;                                        \
                struct colset cs;                                                                  \
                colset_make(&src, p0 + pb, kt, &cs);                                               \
                __m512 r[16];                                                                      \
                load_rows(r, &src, i0 + ip, mr, &cs);                                              \
                transpose16(r);                                                                    \
                for (int t = 0; t < kt; t += step) {                                               \
                    WORD *o = d + (size_t)(pb + t) / step * MR;                                    \
                    if (PAIRS)                                                                     \
                        _mm512_mask_storeu_epi32(o, ms, PACK_PAIR(r[t], r[t + 1]));                \
                    else                                                                           \
                        _mm512_mask_storeu_epi32(o, ms, _mm512_castps_si512(r[t]));                \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    } while (0)

/* float32 never pairs: the PAIRS branches are dead code there */
#define PACK_PAIR(x, y) ((void)(y), _mm512_castps_si512(x))

TARGET void gemm_pack_b(const struct gemm_src *b, int trans_b, int kc, int nc, int p0, int j0,
                        void *dstv)
{
    PACK_B_BODY(int32_t, 0);
}

TARGET void gemm_pack_a(int trans_a, int mc, int h, int kc, const float *a, int lda, int i0, int p0,
                        void *dstv)
{
    PACK_A_BODY(int32_t, 0);
}

#undef PACK_PAIR
#define PACK_PAIR(x, y) bf16_pairs((x), (y))

TARGET_BF16 void gemm_pack_b_bf16(const struct gemm_src *b, int trans_b, int kc, int nc, int p0,
                                  int j0, void *dstv)
{
    PACK_B_BODY(int32_t, 1);
}

TARGET_BF16 void gemm_pack_a_bf16(int trans_a, int mc, int h, int kc, const float *a, int lda,
                                  int i0, int p0, void *dstv)
{
    PACK_A_BODY(int32_t, 1);
}

#endif
