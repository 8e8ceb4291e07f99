/* test_linear.c — the fully connected layer against a double-precision reference:
 * forward, finite-difference gradients, accumulation and NULL skips; in bf16, the
 * float32 layer on inputs rounded to bfloat16, and float32 where a GEMM is too narrow
 * for bfloat16 to pay. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/blas.h"
#include "core/linear.h"
#include "layer_check.h"

struct lin_case {
    int n, in, out;
};

static const struct lin_case cases[] = {{3, 7, 5}, {1, 13, 9}, {5, 1, 6}, {4, 33, 17}};
/* every GEMM of these wide and deep enough for bf16 (blas.h: over 16 columns and deep) */
static const struct lin_case wide[] = {{17, 33, 17}, {20, 40, 24}};

/* out (n,o) = inp (n,i) · w (o,i)ᵀ + b */
static void ref_linear(const struct lin_case *c, const double *inp, const double *w,
                       const double *b, double *out)
{
    for (int i = 0; i < c->n; i++)
        for (int o = 0; o < c->out; o++) {
            double s = b ? b[o] : 0.0;
            for (int k = 0; k < c->in; k++)
                s += inp[i * c->in + k] * w[o * c->in + k];
            out[i * c->out + o] = s;
        }
}

static double *to_double(const float *x, size_t n)
{
    double *d = malloc(n * sizeof(double));
    assert_non_null(d);
    for (size_t i = 0; i < n; i++)
        d[i] = x[i];
    return d;
}

static void forward_matches_reference(void **state)
{
    const struct lin_case *c = *state;
    struct gc_rng r;
    gc_rng_init(&r, 3, 0);
    size_t ni = (size_t)c->n * c->in, nw = (size_t)c->out * c->in, no = (size_t)c->n * c->out;
    float *inp = lc_random(&r, ni), *w = lc_random(&r, nw), *b = lc_random(&r, c->out);
    float *out = lc_alloc(no);
    double *di = to_double(inp, ni), *dw = to_double(w, nw), *db = to_double(b, c->out);
    double *want = malloc(no * sizeof(double));
    assert_non_null(want);
    for (int with_bias = 0; with_bias < 2; with_bias++) {
        memset(out, 0x7f, no * sizeof(float)); /* the forward must not read out */
        gc_linear_forward(out, inp, w, with_bias ? b : NULL, c->n, c->in, c->out, 0);
        ref_linear(c, di, dw, with_bias ? db : NULL, want);
        assert_int_equal(lc_mismatches("out", out, want, no, 1e-5, 1e-5), 0);
    }
    free(inp);
    free(w);
    free(b);
    free(out);
    free(di);
    free(dw);
    free(db);
    free(want);
}

static double loss(const struct lin_case *c, const double *inp, const double *w, const double *b,
                   const double *r, double *scratch)
{
    ref_linear(c, inp, w, b, scratch);
    double s = 0.0;
    for (int i = 0; i < c->n * c->out; i++)
        s += scratch[i] * r[i];
    return s;
}

static void fd(const struct lin_case *c, double *x, size_t nx, double *g, const double *inp,
               const double *w, const double *b, const double *r, double *scratch)
{
    for (size_t i = 0; i < nx; i++) {
        double keep = x[i];
        x[i] = keep + LC_FD_STEP;
        double lp = loss(c, inp, w, b, r, scratch);
        x[i] = keep - LC_FD_STEP;
        double lm = loss(c, inp, w, b, r, scratch);
        x[i] = keep;
        g[i] = (lp - lm) / (2 * LC_FD_STEP);
    }
}

static void backward_matches_finite_differences(void **state)
{
    const struct lin_case *c = *state;
    struct gc_rng r;
    gc_rng_init(&r, 4, 0);
    size_t ni = (size_t)c->n * c->in, nw = (size_t)c->out * c->in, no = (size_t)c->n * c->out;
    float *inp = lc_random(&r, ni), *w = lc_random(&r, nw), *b = lc_random(&r, c->out);
    float *dout = lc_random(&r, no);
    double *di = to_double(inp, ni), *dw = to_double(w, nw), *db = to_double(b, c->out);
    double *dr = to_double(dout, no);
    double *scratch = malloc(no * sizeof(double)), *gi = malloc(ni * sizeof(double));
    double *gw = malloc(nw * sizeof(double)), *gb = malloc(c->out * sizeof(double));
    assert_true(scratch && gi && gw && gb);
    fd(c, di, ni, gi, di, dw, db, dr, scratch);
    fd(c, dw, nw, gw, di, dw, db, dr, scratch);
    fd(c, db, c->out, gb, di, dw, db, dr, scratch);

    float *ai = lc_zeros(ni), *aw = lc_zeros(nw), *ab = lc_zeros(c->out);
    gc_linear_backward(ai, aw, ab, dout, inp, w, c->n, c->in, c->out, 0);
    assert_int_equal(lc_mismatches("dinp", ai, gi, ni, LC_GRAD_ATOL, LC_GRAD_RTOL), 0);
    assert_int_equal(lc_mismatches("dweight", aw, gw, nw, LC_GRAD_ATOL, LC_GRAD_RTOL), 0);
    assert_int_equal(lc_mismatches("dbias", ab, gb, c->out, LC_GRAD_ATOL, LC_GRAD_RTOL), 0);

    /* accumulate: a second call doubles; NULL gradients are skipped */
    gc_linear_backward(ai, NULL, NULL, dout, inp, w, c->n, c->in, c->out, 0);
    gc_linear_backward(NULL, aw, NULL, dout, inp, w, c->n, c->in, c->out, 0);
    gc_linear_backward(NULL, NULL, ab, dout, inp, w, c->n, c->in, c->out, 0);
    gc_linear_backward(NULL, NULL, NULL, dout, inp, w, c->n, c->in, c->out, 0);
    for (size_t i = 0; i < ni; i++)
        gi[i] *= 2;
    for (size_t i = 0; i < nw; i++)
        gw[i] *= 2;
    for (int i = 0; i < c->out; i++)
        gb[i] *= 2;
    assert_int_equal(lc_mismatches("2 dinp", ai, gi, ni, LC_GRAD_ATOL, LC_GRAD_RTOL), 0);
    assert_int_equal(lc_mismatches("2 dweight", aw, gw, nw, LC_GRAD_ATOL, LC_GRAD_RTOL), 0);
    assert_int_equal(lc_mismatches("2 dbias", ab, gb, c->out, LC_GRAD_ATOL, LC_GRAD_RTOL), 0);

    free(inp);
    free(w);
    free(b);
    free(dout);
    free(di);
    free(dw);
    free(db);
    free(dr);
    free(scratch);
    free(gi);
    free(gw);
    free(gb);
    free(ai);
    free(aw);
    free(ab);
}

/* bf16: the GEMMs' inputs rounded to bfloat16, float32 sums, so the float32 layer on
 * rounded inputs, weights and dout to float32 rounding; the bias adds in float32 (it
 * seeds the output) and its gradient sums dout outside any GEMM. */
static void bf16_matches_float32_on_rounded_inputs(void **state)
{
    const struct lin_case *c = *state;
    if (!gc_gemm_bf16_available()) {
        print_message("this CPU has no AVX512-BF16: bf16 layers run in float32\n");
        skip();
    }
    struct gc_rng r;
    gc_rng_init(&r, 6, 0);
    size_t ni = (size_t)c->n * c->in, nw = (size_t)c->out * c->in, no = (size_t)c->n * c->out;
    float *inp = lc_random(&r, ni), *w = lc_random(&r, nw), *b = lc_random(&r, c->out);
    float *dout = lc_random(&r, no);
    float *ri = lc_bf16_copy(inp, ni), *rw = lc_bf16_copy(w, nw), *rd = lc_bf16_copy(dout, no);
    float *out = lc_alloc(no), *want = lc_alloc(no);
    gc_linear_forward(out, inp, w, b, c->n, c->in, c->out, 1);
    gc_linear_forward(want, ri, rw, b, c->n, c->in, c->out, 0);
    double *dw_ = to_double(want, no);
    assert_int_equal(lc_mismatches("bf16 out", out, dw_, no, 1e-5, 1e-5), 0);
    float *ai = lc_zeros(ni), *aw = lc_zeros(nw), *ab = lc_zeros(c->out);
    float *hi = lc_zeros(ni), *hw = lc_zeros(nw), *hb = lc_zeros(c->out);
    gc_linear_backward(ai, aw, ab, dout, inp, w, c->n, c->in, c->out, 1);
    gc_linear_backward(hi, hw, NULL, rd, ri, rw, c->n, c->in, c->out, 0);
    gc_linear_backward(NULL, NULL, hb, dout, inp, w, c->n, c->in, c->out, 0);
    double *wi = to_double(hi, ni), *ww = to_double(hw, nw);
    assert_int_equal(lc_mismatches("bf16 dinp", ai, wi, ni, 1e-5, 1e-5), 0);
    assert_int_equal(lc_mismatches("bf16 dweight", aw, ww, nw, 1e-5, 1e-5), 0);
    assert_memory_equal(ab, hb, (size_t)c->out * sizeof(float));
    float *all[] = {inp, w, b, dout, ri, rw, rd, out, want, ai, aw, ab, hi, hw, hb};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        free(all[i]);
    free(dw_);
    free(wi);
    free(ww);
}

/* A layer too narrow for bfloat16 to pay (an output of 16 or fewer, a batch or input of
 * 16 or fewer: a D's one-output head) runs those GEMMs in float32, bf16 or not: the same
 * bits as the float32 layer. */
static void narrow_bf16_runs_float32(void **state)
{
    (void)state;
    static const struct lin_case narrow[] = {{64, 40, 1}, {8, 40, 24}, {20, 16, 24}};
    struct gc_rng r;
    gc_rng_init(&r, 8, 0);
    for (size_t q = 0; q < sizeof narrow / sizeof narrow[0]; q++) {
        const struct lin_case *c = &narrow[q];
        size_t ni = (size_t)c->n * c->in, nw = (size_t)c->out * c->in, no = (size_t)c->n * c->out;
        float *inp = lc_random(&r, ni), *w = lc_random(&r, nw), *dout = lc_random(&r, no);
        float *o16 = lc_alloc(no), *o32 = lc_alloc(no);
        float *i16 = lc_zeros(ni), *i32 = lc_zeros(ni), *w16 = lc_zeros(nw), *w32 = lc_zeros(nw);
        gc_linear_forward(o16, inp, w, NULL, c->n, c->in, c->out, 1);
        gc_linear_forward(o32, inp, w, NULL, c->n, c->in, c->out, 0);
        gc_linear_backward(i16, w16, NULL, dout, inp, w, c->n, c->in, c->out, 1);
        gc_linear_backward(i32, w32, NULL, dout, inp, w, c->n, c->in, c->out, 0);
        /* forward (N = out, K = in), dinp (N = in, K = out), dweight (N = in, K = n):
         * each runs float32 when one of its two is 16 or less */
        if (c->out <= 16 || c->in <= 16) {
            assert_memory_equal(o16, o32, no * sizeof(float));
            assert_memory_equal(i16, i32, ni * sizeof(float));
        }
        if (c->n <= 16 || c->in <= 16)
            assert_memory_equal(w16, w32, nw * sizeof(float));
        float *all[] = {inp, w, dout, o16, o32, i16, i32, w16, w32};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            free(all[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate(forward_matches_reference, (void *)&cases[0]),
        cmocka_unit_test_prestate(forward_matches_reference, (void *)&cases[1]),
        cmocka_unit_test_prestate(forward_matches_reference, (void *)&cases[2]),
        cmocka_unit_test_prestate(forward_matches_reference, (void *)&cases[3]),
        cmocka_unit_test_prestate(backward_matches_finite_differences, (void *)&cases[0]),
        cmocka_unit_test_prestate(backward_matches_finite_differences, (void *)&cases[1]),
        cmocka_unit_test_prestate(backward_matches_finite_differences, (void *)&cases[2]),
        cmocka_unit_test_prestate(backward_matches_finite_differences, (void *)&cases[3]),
        cmocka_unit_test_prestate(bf16_matches_float32_on_rounded_inputs, (void *)&wide[0]),
        cmocka_unit_test_prestate(bf16_matches_float32_on_rounded_inputs, (void *)&wide[1]),
        cmocka_unit_test(narrow_bf16_runs_float32),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
