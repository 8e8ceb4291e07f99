/* test_gemm.c — SGEMM against a plain double-precision triple loop, through three
 * paths: gc_sgemm (whatever it dispatches to), our AVX-512 kernel called directly
 * (gc_gemm_avx512, skipped with a message when the CPU lacks AVX-512) and our bfloat16
 * kernel (gc_gemm_bf16, skipped without AVX512-BF16), whose reference is the same loop
 * over the inputs rounded to bfloat16 (to nearest even): the products of two bfloat16
 * are exact in float32, so it meets the float32 tolerance against that reference.
 * gc_gemm_mapped, whose B and C are read and written through offsets (runs of
 * consecutive offsets broken as a convolution's pixel rows break them), is checked
 * against the same loop through the same offsets on both kernels; under valgrind,
 * which hides AVX-512, it takes its gc_sgemm path.
 *
 * Every check uses leading dimensions larger than needed: the padding of A and B holds
 * NaN (so reading it would poison the result) and the padding of C a sentinel that
 * must survive. With beta 0, C starts as NaN, which must never be read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "core/blas.h"
#include "core/gemm.h"
#include "layer_check.h"
#include "sanitized.h"

#define SENTINEL 12345.5f

enum { PATH_SGEMM, PATH_AVX512, PATH_BF16 };

static int run_gemm(int path, int ta, int tb, int m, int n, int k, float alpha, const float *a,
                    int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
    if (path == PATH_SGEMM) {
        gc_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return 0;
    }
    if (path == PATH_BF16)
        return gc_gemm_bf16(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return gc_gemm_avx512(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

/* An input as the path sees it. */
static double in(int path, float x)
{
    return path == PATH_BF16 ? lc_bf16(x) : x;
}

/* A stored matrix of rows x cols with row stride ld: random values, NaN padding. */
static float *stored(struct gc_rng *r, int rows, int cols, int ld)
{
    size_t n = (size_t)rows * ld;
    float *p = lc_random(r, n);
    for (int i = 0; i < rows; i++)
        for (int j = cols; j < ld; j++)
            p[(size_t)i * ld + j] = NAN;
    return p;
}

/* One call checked against the reference; returns the number of bad elements. */
static int check(int path, int ta, int tb, int m, int n, int k, float alpha, float beta, int pad,
                 unsigned seed)
{
    struct gc_rng r;
    gc_rng_init(&r, seed, 0);
    int ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n;
    int lda = ac + pad, ldb = bc + pad + 1, ldc = n + 2 * pad;
    float *a = stored(&r, ar, ac, lda), *b = stored(&r, br, bc, ldb);
    size_t nc = (size_t)m * ldc;
    float *c = lc_random(&r, nc);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < ldc; j++)
            if (j >= n)
                c[(size_t)i * ldc + j] = SENTINEL;
            else if (beta == 0.0f)
                c[(size_t)i * ldc + j] = NAN;
    double *want = calloc((size_t)m * n + 1, sizeof(double));
    float *got = lc_alloc((size_t)m * n);
    /* op(A) and op(B) as the path sees them, dense, then the loop in i, p, j order (the
     * sanitizer builds run this test too: a cache-friendly reference keeps it short) */
    double *da = malloc(((size_t)m * k + 1) * sizeof(double));
    double *db = malloc(((size_t)k * n + 1) * sizeof(double));
    assert_true(want && da && db);
    for (int i = 0; i < m; i++)
        for (int p = 0; p < k; p++)
            da[(size_t)i * k + p] = in(path, ta ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p]);
    for (int p = 0; p < k; p++)
        for (int j = 0; j < n; j++)
            db[(size_t)p * n + j] = in(path, tb ? b[(size_t)j * ldb + p] : b[(size_t)p * ldb + j]);
    for (int i = 0; i < m; i++) {
        double *w = want + (size_t)i * n;
        for (int p = 0; p < k; p++) {
            const double x = da[(size_t)i * k + p], *y = db + (size_t)p * n;
            for (int j = 0; j < n; j++)
                w[j] += x * y[j];
        }
        for (int j = 0; j < n; j++)
            w[j] = alpha * w[j] + (beta == 0.0f ? 0.0 : (double)beta * c[(size_t)i * ldc + j]);
    }
    free(da);
    free(db);
    assert_int_equal(run_gemm(path, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc), 0);
    int bad = 0;
    for (int i = 0; i < m; i++) {
        memcpy(got + (size_t)i * n, c + (size_t)i * ldc, (size_t)n * sizeof(float));
        for (int j = n; j < ldc; j++)
            if (c[(size_t)i * ldc + j] != SENTINEL) {
                if (!bad)
                    fprintf(stderr, "C padding [%d][%d] overwritten\n", i, j);
                bad++;
            }
    }
    /* float sums of k products of size <= 1 */
    bad += lc_mismatches("C", got, want, (size_t)m * n, 1e-5 + 2e-7 * k, 1e-5);
    if (bad)
        fprintf(stderr, "path %d ta %d tb %d m %d n %d k %d alpha %g beta %g pad %d: %d bad\n",
                path, ta, tb, m, n, k, alpha, beta, pad, bad);
    free(a);
    free(b);
    free(c);
    free(want);
    free(got);
    return bad;
}

static const float alphas[] = {1.0f, -0.5f};
static const float betas[] = {0.0f, 1.0f, 0.3f};

static int skip_without_avx512(int path)
{
    if (path == PATH_AVX512 && !gc_gemm_have_avx512()) {
        print_message("this CPU has no AVX-512 (or valgrind hides it): kernel path skipped\n");
        return 1;
    }
    if (path == PATH_BF16 && !gc_gemm_have_bf16()) {
        print_message("this CPU has no AVX512-BF16 (or valgrind hides it): bf16 path skipped\n");
        return 1;
    }
    return 0;
}

/* Under the sanitizers (where the kernels run instrumented, a few times slower) the
 * bfloat16 path takes every fourth shape of the long tests: its packing and kernel
 * share the float32 ones' loops, which run them all. */
static int thinned(int path, int i)
{
    return SANITIZED && path == PATH_BF16 && i % 4 != 0;
}

/* Odd sizes across m, n, k; the 24 transpose x alpha x beta combinations taken in turn,
 * so each one meets sizes below, at and above the register tile. */
static void odd_sizes(void **state)
{
    int path = (int)(intptr_t)*state;
    if (skip_without_avx512(path))
        skip();
    static const int sizes[] = {1, 3, 13, 31, 33, 100, 257};
    int ns = (int)(sizeof(sizes) / sizeof(sizes[0])), bad = 0, combo = 0;
    for (int im = 0; im < ns; im++)
        for (int in = 0; in < ns; in++)
            for (int ik = 0; ik < ns; ik++, combo++) {
                if (thinned(path, combo))
                    continue;
                int c = combo % 24;
                bad += check(path, c & 1, (c >> 1) & 1, sizes[im], sizes[in], sizes[ik],
                             alphas[(c >> 2) % 2], betas[(c >> 2) / 2 % 3], 1 + combo % 3,
                             (unsigned)combo);
            }
    assert_int_equal(bad, 0);
}

/* Every combination in full on a few shapes that span edges in all three sizes. */
static void all_combinations(void **state)
{
    int path = (int)(intptr_t)*state;
    if (skip_without_avx512(path))
        skip();
    static const int shapes[][3] = {{13, 33, 100}, {100, 257, 31}, {33, 1, 257}, {1, 31, 3}};
    int bad = 0;
    for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++)
        for (int t = 0; t < 4; t++)
            for (int ia = 0; ia < 2; ia++)
                for (int ib = 0; ib < 3; ib++)
                    bad += check(path, t & 1, t >> 1, shapes[s][0], shapes[s][1], shapes[s][2],
                                 alphas[ia], betas[ib], 3, (unsigned)(s * 100 + t * 10 + ia));
    assert_int_equal(bad, 0);
}

/* Sizes past one block in each loop (MC = 336 rows, KC = 1024 deep or 2048 for
 * bfloat16, NC = 1024 wide), and the shapes a DCGAN and a ring8 step send to gc_sgemm (core/conv.c,
 * linear.c). */
static void blocks_and_model_shapes(void **state)
{
    int path = (int)(intptr_t)*state;
    if (skip_without_avx512(path))
        skip();
    static const int shapes[][6] = {
        /* ta, tb, m, n, k, beta index */
        {0, 0, 700, 40, 600, 2},   {1, 1, 5, 4200, 3, 0},    {1, 0, 350, 70, 513, 1},
        {0, 0, 128, 686, 1024, 0}, {0, 1, 128, 1024, 49, 1}, {1, 0, 1024, 686, 128, 0},
        {0, 0, 64, 196, 17, 0},    {0, 1, 64, 16, 196, 1},   {1, 0, 16, 196, 64, 0},
        {0, 0, 64, 196, 16, 1},    {0, 1, 64, 1, 6272, 1},   {0, 0, 64, 6272, 1, 1},
        {0, 1, 100, 128, 128, 1},  {0, 0, 100, 128, 128, 1}, {1, 0, 128, 128, 100, 1},
        {0, 1, 100, 128, 2, 1},    {0, 1, 100, 2, 128, 1},   {1, 0, 2, 128, 100, 1},
        {1, 0, 20, 1030, 2050, 2}, {0, 1, 9, 1040, 1100, 1}, {0, 0, 340, 1030, 20, 2},
    };
    int bad = 0;
    for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
        if (thinned(path, (int)s))
            continue;
        const int *x = shapes[s];
        bad += check(path, x[0], x[1], x[2], x[3], x[4], 1.0f, betas[x[5]], 2, (unsigned)s);
    }
    assert_int_equal(bad, 0);
}

/* k == 0 or alpha == 0: C = beta * C (zeros for beta 0, even over NaN); m or n == 0:
 * nothing is touched. */
static void degenerate(void **state)
{
    int path = (int)(intptr_t)*state;
    if (skip_without_avx512(path))
        skip();
    float a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8}, c[4];
    for (int i = 0; i < 4; i++)
        c[i] = NAN;
    assert_int_equal(run_gemm(path, 0, 0, 2, 2, 0, 1.0f, a, 1, b, 2, 0.0f, c, 2), 0);
    for (int i = 0; i < 4; i++)
        assert_true(c[i] == 0.0f);
    for (int i = 0; i < 4; i++)
        c[i] = (float)i;
    assert_int_equal(run_gemm(path, 0, 0, 2, 2, 2, 0.0f, a, 2, b, 2, 0.5f, c, 2), 0);
    for (int i = 0; i < 4; i++)
        assert_true(c[i] == 0.5f * i);
    assert_int_equal(run_gemm(path, 0, 0, 0, 2, 2, 1.0f, a, 2, b, 2, 0.0f, c, 2), 0);
    assert_int_equal(run_gemm(path, 0, 0, 2, 0, 2, 1.0f, a, 2, b, 2, 0.0f, c, 2), 0);
    for (int i = 0; i < 4; i++)
        assert_true(c[i] == 0.5f * i);
}

/* Same inputs, same bits: twice in this thread and once in each of two other threads
 * running at the same time (each packs into its own buffers). */
struct det_job {
    int path;
    const float *a, *b;
    float *c;
};

enum { DM = 100, DN = 129, DK = 300 };

static void det_run(const struct det_job *j)
{
    assert_int_equal(run_gemm(j->path, 1, 0, DM, DN, DK, 0.7f, j->a, DM, j->b, DN, 0.0f, j->c, DN),
                     0);
}

static void *det_thread(void *p)
{
    det_run(p);
    return NULL;
}

static void deterministic(void **state)
{
    int path = (int)(intptr_t)*state;
    if (skip_without_avx512(path))
        skip();
    struct gc_rng r;
    gc_rng_init(&r, 9, 0);
    float *a = lc_random(&r, (size_t)DK * DM), *b = lc_random(&r, (size_t)DK * DN);
    float *c[4];
    for (int i = 0; i < 4; i++)
        c[i] = lc_alloc((size_t)DM * DN);
    struct det_job jobs[4];
    for (int i = 0; i < 4; i++)
        jobs[i] = (struct det_job){path, a, b, c[i]};
    det_run(&jobs[0]);
    det_run(&jobs[1]);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, det_thread, &jobs[2 + i]), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    for (int i = 1; i < 4; i++)
        assert_memory_equal(c[0], c[i], (size_t)DM * DN * sizeof(float));
    for (int i = 0; i < 4; i++)
        free(c[i]);
    free(a);
    free(b);
}

/* The bfloat16 path really rounds: against the float32 inputs its error is that of
 * 8-bit significands, far above the float32 tolerance, on a GEMM whose exact result
 * it meets once the inputs are rounded (checked above). */
static void bf16_rounds(void **state)
{
    (void)state;
    if (skip_without_avx512(PATH_BF16))
        skip();
    enum { M = 20, N = 40, K = 64 };
    struct gc_rng r;
    gc_rng_init(&r, 5, 0);
    float *a = lc_random(&r, (size_t)M * K), *b = lc_random(&r, (size_t)K * N);
    float *c = lc_alloc((size_t)M * N);
    assert_int_equal(gc_gemm_bf16(0, 0, M, N, K, 1.0f, a, K, b, N, 0.0f, c, N), 0);
    double worst = 0.0;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0.0;
            for (int p = 0; p < K; p++)
                s += (double)a[i * K + p] * b[p * N + j];
            double e = fabs(s - c[i * N + j]);
            worst = e > worst ? e : worst;
        }
    assert_true(worst > 1e-3);
    free(a);
    free(b);
    free(c);
}

/* Offsets of a pixel grid: runs of g consecutive offsets, G apart, from base. */
static int32_t *grid_offsets(int n, int g, int G, int base)
{
    int32_t *o = malloc((size_t)(n ? n : 1) * sizeof *o);
    assert_non_null(o);
    for (int i = 0; i < n; i++)
        o[i] = base + (i / g) * G + i % g;
    return o;
}

/* B handed over in bfloat16 pairs (as a convolution's images hand it): its k x n
 * elements at b[brow[p] + bcol[j]] rounded and paired into words, a row of words per
 * pair of k. With A packed for bfloat16 the GEMM gives want's bits (gc_gemm_mapped's on
 * the same B); with A in float32 it refuses, leaving C (c, the original) untouched. */
static void check_pairs(int bf16, const struct gc_gemm_packed_a *pa, int k, int n, const float *b,
                        const int32_t *brow, const int32_t *bcol, int span, float beta,
                        const float *want, float *c, int ldc, size_t csz,
                        const struct gc_gemm_map *cm)
{
    const int kp = (k + 1) / 2, ld = span + 3;
    int32_t *prow = malloc((size_t)kp * sizeof *prow);
    uint32_t *w = calloc((size_t)kp * ld + 16, sizeof *w);
    float *orig = malloc(csz * sizeof *orig);
    assert_non_null(prow);
    assert_non_null(w);
    assert_non_null(orig);
    memcpy(orig, c, csz * sizeof *orig);
    for (int q = 0; q < kp; q++) {
        prow[q] = q * ld;
        for (int j = 0; j < n && bf16; j++) {
            uint16_t lo, hi = 0;
            assert_int_equal(gc_gemm_to_bf16(&lo, &b[brow[2 * q] + bcol[j]], 1), 0);
            if (2 * q + 1 < k)
                assert_int_equal(gc_gemm_to_bf16(&hi, &b[brow[2 * q + 1] + bcol[j]], 1), 0);
            w[prow[q] + bcol[j]] = lo | (uint32_t)hi << 16;
        }
    }
    const struct gc_gemm_map pm = {prow, bcol};
    int rc = gc_gemm_mapped_a_pairs(pa, n, w, &pm, beta, c, ldc, cm);
    if (bf16) {
        assert_int_equal(rc, 0);
        assert_memory_equal(c, want, csz * sizeof(float));
    } else {
        assert_int_equal(rc, -1);
        assert_memory_equal(c, orig, csz * sizeof(float));
    }
    free(prow);
    free(w);
    free(orig);
}

/* One gc_gemm_mapped call against the double loop through the same maps. bmap: B is
 * read through offsets (stored rows far apart, in a scrambled order); cmap: C is
 * written through offsets, with rows one offset apart (overlapping, as col2im's) when
 * beta is 1, apart when beta is 0. Every float of C's buffer is checked: those the
 * maps do not reach must be untouched. Returns the number of bad elements. */
static int check_mapped(int bf16, int ta, int tb, int m, int n, int k, int bmapped, int cmapped,
                        float beta, unsigned seed)
{
    const int path = bf16 ? PATH_BF16 : PATH_AVX512;
    struct gc_rng r;
    gc_rng_init(&r, seed, 1);
    int ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n;
    int lda = ac + 1;
    float *a = stored(&r, ar, ac, lda);
    int gb = 1 + (int)(seed % 9), Gb = gb + 2 + (int)(seed % 3);
    int32_t *bcol = grid_offsets(bc, gb, Gb, 0);
    int span = bcol[bc - 1] + 1;
    int32_t *brow = malloc((size_t)br * sizeof *brow);
    assert_non_null(brow);
    for (int i = 0; i < br; i++) /* rows out of order: 7i mod br */
        brow[i] = (int32_t)((size_t)i * 7 % (size_t)br * (size_t)(span + 3));
    int ldb = bc + 2;
    size_t bsz = bmapped ? (size_t)br * (span + 3) + 16 : (size_t)br * ldb;
    float *b = lc_random(&r, bsz);
    struct gc_gemm_map bm = {brow, bcol};
    int gc = 1 + (int)(seed % 7), Gc = gc + 1 + (int)(seed % 4);
    int32_t *ccol = grid_offsets(n, gc, Gc, 0);
    int cspan = ccol[n - 1] + 1;
    int32_t *crow = grid_offsets(m, 1, beta != 0.0f ? 1 : cspan, 0);
    int ldc = n + 1;
    size_t csz = cmapped ? (size_t)crow[m - 1] + cspan + 16 : (size_t)m * ldc;
    float *c = lc_random(&r, csz);
    double *want = malloc(csz * sizeof(double));
    assert_non_null(want);
    for (size_t i = 0; i < csz; i++)
        want[i] = c[i];
    float *c2 = malloc(csz * sizeof(float)), *c3 = malloc(csz * sizeof(float));
    assert_non_null(c2);
    assert_non_null(c3);
    memcpy(c2, c, csz * sizeof(float));
    memcpy(c3, c, csz * sizeof(float));
    struct gc_gemm_map cm = {crow, ccol};
    if (cmapped && beta != 0.0f && beta != 1.0f)
        fail_msg("overlapping C is only checked with beta 0 or 1");
    if (!cmapped || beta == 0.0f)
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                want[cmapped ? (size_t)crow[i] + ccol[j] : (size_t)i * ldc + j] *= beta;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double sum = 0.0;
            for (int p = 0; p < k; p++) {
                double x = in(path, ta ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p]);
                int sr = tb ? j : p, sc = tb ? p : j;
                sum += x * in(path, bmapped ? b[brow[sr] + bcol[sc]] : b[(size_t)sr * ldb + sc]);
            }
            want[cmapped ? (size_t)crow[i] + ccol[j] : (size_t)i * ldc + j] += sum;
        }
    assert_int_equal(gc_gemm_mapped(bf16, ta, tb, m, n, k, 1.0f, a, lda, b, ldb,
                                    bmapped ? &bm : NULL, beta, c, ldc, cmapped ? &cm : NULL),
                     0);
    /* A packed ahead: the same bits */
    struct gc_gemm_packed_a pa;
    gc_gemm_pack_a(bf16, ta, m, k, a, lda, &pa);
    assert_int_equal(gc_gemm_mapped_a(&pa, tb, n, 1.0f, b, ldb, bmapped ? &bm : NULL, beta, c2, ldc,
                                      cmapped ? &cm : NULL),
                     0);
    assert_memory_equal(c, c2, csz * sizeof(float));
    if (!tb && bmapped)
        check_pairs(bf16, &pa, k, n, b, brow, bcol, span, beta, c, c3, ldc, csz,
                    cmapped ? &cm : NULL);
    /* an overlapping C adds up to m terms of size ~k in one float */
    int bad = lc_mismatches("C", c, want, csz, 1e-5 + 2e-7 * k * (cmapped ? m : 1), 1e-5);
    if (bad)
        fprintf(stderr, "bf16 %d ta %d tb %d m %d n %d k %d bmap %d cmap %d beta %g: %d bad\n",
                bf16, ta, tb, m, n, k, bmapped, cmapped, beta, bad);
    free(a);
    free(b);
    free(c);
    free(c2);
    free(c3);
    free(want);
    free(brow);
    free(bcol);
    free(crow);
    free(ccol);
    return bad;
}

/* Mapped B and C on both kernels: sizes below, at and above the tiles and the 16-lane
 * halves, runs of 1 to 9 offsets, every transpose. */
static void mapped(void **state)
{
    (void)state;
    if (!gc_gemm_have_avx512())
        print_message("no AVX-512 here: the mapped GEMM runs through gc_sgemm\n");
    static const int sizes[][3] = {{1, 1, 1},    {5, 17, 3},     {14, 32, 16}, {13, 33, 31},
                                   {30, 70, 40}, {40, 100, 257}, {3, 200, 9}};
    int bad = 0, combo = 0;
    for (int bf16 = 0; bf16 < 2; bf16++)
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
            for (int t = 0; t < 4; t++)
                for (int maps = 1; maps < 4; maps++, combo++) {
                    float beta = (maps & 2) ? (float)(combo % 2) : 0.5f;
                    bad += check_mapped(bf16 && gc_gemm_have_bf16(), t & 1, t >> 1, sizes[s][0],
                                        sizes[s][1], sizes[s][2], maps & 1, maps >> 1, beta,
                                        (unsigned)combo);
                }
    /* B in bfloat16 pairs over two k slices (2048 bfloat16 a slice) */
    if (gc_gemm_have_bf16())
        for (int cm = 0; cm < 2; cm++)
            bad += check_mapped(1, 0, 0, 30, 70, 2100 + cm, 1, cm, (float)cm, 99u + (unsigned)cm);
    assert_int_equal(bad, 0);
}

/* gc_gemm_pack_a over several row blocks and k slices (m past MC = 336, k past KC
 * 1024 floats and 2048 bfloat16): the GEMMs that use it give the bits of
 * gc_gemm_mapped, whose own results the tests above check; a second packing replaces
 * the first. */
static void packed_a_blocks(void **state)
{
    (void)state;
    if (skip_without_avx512(PATH_AVX512)) /* nothing is packed: gc_gemm_mapped runs */
        skip();
    static const int shapes[][3] = {{700, 45, 2300}, {337, 64, 1025}, {64, 700, 4200}};
    struct gc_rng r;
    gc_rng_init(&r, 41, 1);
    for (int bf16 = 0; bf16 < 2; bf16++)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
            for (int ta = 0; ta < 2; ta++) {
                int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
                int lda = ta ? m : k;
                float *a = lc_random(&r, (size_t)m * k), *a2 = lc_random(&r, (size_t)m * k);
                float *b = lc_random(&r, (size_t)k * n);
                float *c = lc_random(&r, (size_t)m * n);
                float *c2 = malloc((size_t)m * n * sizeof(float));
                assert_non_null(c2);
                memcpy(c2, c, (size_t)m * n * sizeof(float));
                struct gc_gemm_packed_a pa;
                gc_gemm_pack_a(bf16, ta, m, k, a2, lda, &pa); /* replaced next */
                gc_gemm_pack_a(bf16, ta, m, k, a, lda, &pa);
                assert_non_null(pa.packed);
                for (int rep = 0; rep < 2; rep++) { /* beta 1: the second call adds */
                    assert_int_equal(gc_gemm_mapped(bf16, ta, 0, m, n, k, 0.5f, a, lda, b, n, NULL,
                                                    1.0f, c, n, NULL),
                                     0);
                    assert_int_equal(
                        gc_gemm_mapped_a(&pa, 0, n, 0.5f, b, n, NULL, 1.0f, c2, n, NULL), 0);
                }
                assert_memory_equal(c, c2, (size_t)m * n * sizeof(float));
                free(a);
                free(a2);
                free(b);
                free(c);
                free(c2);
            }
}

#define BOTH(fn)                                                                                   \
    cmocka_unit_test_prestate(fn, (void *)(intptr_t)PATH_SGEMM),                                   \
        cmocka_unit_test_prestate(fn, (void *)(intptr_t)PATH_AVX512),                              \
        cmocka_unit_test_prestate(fn, (void *)(intptr_t)PATH_BF16)

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(odd_sizes),
        BOTH(all_combinations),
        BOTH(blocks_and_model_shapes),
        BOTH(degenerate),
        BOTH(deterministic),
        cmocka_unit_test(bf16_rounds),
        cmocka_unit_test(mapped),
        cmocka_unit_test(packed_a_blocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
