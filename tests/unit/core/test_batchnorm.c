/* test_batchnorm.c — batch normalization against a textbook double-precision version:
 * train and eval forwards, the running statistics as PyTorch keeps them, and the
 * train-mode backward against finite differences (through the batch statistics). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/batchnorm.h"
#include "layer_check.h"

#define EPS 1e-5f
#define MOMENTUM 0.1f

struct bn_case {
    int n, c, s;
};

/* (N,C,H*W) for conv layers, S = 1 for feature layers, batch 1 with pixels */
static const struct bn_case cases[] = {{4, 3, 5}, {6, 5, 1}, {1, 2, 7}, {3, 7, 12}};

static double *to_double(const float *x, size_t n)
{
    double *d = malloc((n ? n : 1) * sizeof(double));
    assert_non_null(d);
    for (size_t i = 0; i < n; i++)
        d[i] = x[i];
    return d;
}

/* textbook train-mode batchnorm; mean and var (biased) out per channel if not NULL */
static void ref_train(const struct bn_case *c, const double *x, const double *g, const double *b,
                      double *y, double *mean_out, double *var_out)
{
    const int m = c->n * c->s;
    for (int ch = 0; ch < c->c; ch++) {
        double mean = 0, var = 0;
        for (int i = 0; i < c->n; i++)
            for (int j = 0; j < c->s; j++)
                mean += x[(i * c->c + ch) * c->s + j];
        mean /= m;
        for (int i = 0; i < c->n; i++)
            for (int j = 0; j < c->s; j++) {
                double d = x[(i * c->c + ch) * c->s + j] - mean;
                var += d * d;
            }
        var /= m;
        for (int i = 0; i < c->n; i++)
            for (int j = 0; j < c->s; j++) {
                int k = (i * c->c + ch) * c->s + j;
                y[k] = g[ch] * (x[k] - mean) / sqrt(var + EPS) + b[ch];
            }
        if (mean_out)
            mean_out[ch] = mean;
        if (var_out)
            var_out[ch] = var;
    }
}

struct bn_data {
    size_t nx;
    float *x, *g, *b, *rm, *rv, *sm, *si, *y;
};

static struct bn_data make_data(const struct bn_case *c, uint64_t seed)
{
    struct gc_rng r;
    gc_rng_init(&r, seed, 0);
    struct bn_data d;
    d.nx = (size_t)c->n * c->c * c->s;
    d.x = lc_random(&r, d.nx);
    for (size_t i = 0; i < d.nx; i++)
        d.x[i] = 2.0f * d.x[i] + 0.5f; /* mean and scale away from 0 and 1 */
    d.g = lc_random(&r, c->c);
    d.b = lc_random(&r, c->c);
    d.rm = lc_random(&r, c->c);
    d.rv = lc_random(&r, c->c);
    for (int i = 0; i < c->c; i++)
        d.rv[i] = 1.5f + d.rv[i];
    d.sm = lc_alloc(c->c);
    d.si = lc_alloc(c->c);
    d.y = lc_alloc(d.nx);
    return d;
}

static void free_data(struct bn_data *d)
{
    free(d->x);
    free(d->g);
    free(d->b);
    free(d->rm);
    free(d->rv);
    free(d->sm);
    free(d->si);
    free(d->y);
}

static void train_forward_and_running_stats(void **state)
{
    const struct bn_case *c = *state;
    struct bn_data d = make_data(c, 1);
    double *x = to_double(d.x, d.nx), *g = to_double(d.g, c->c), *b = to_double(d.b, c->c);
    double *rm0 = to_double(d.rm, c->c), *rv0 = to_double(d.rv, c->c);
    double *want = malloc(d.nx * sizeof(double)), *mean = malloc(c->c * sizeof(double));
    double *var = malloc(c->c * sizeof(double));
    assert_true(want && mean && var);
    ref_train(c, x, g, b, want, mean, var);
    gc_batchnorm_forward(d.y, d.x, d.g, d.b, d.rm, d.rv, d.sm, d.si, c->n, c->c, c->s, EPS,
                         MOMENTUM, 1, 0, c->c);
    assert_int_equal(lc_mismatches("out", d.y, want, d.nx, 1e-5, 1e-5), 0);

    const int m = c->n * c->s;
    double *w_rm = malloc(c->c * sizeof(double)), *w_rv = malloc(c->c * sizeof(double));
    double *w_inv = malloc(c->c * sizeof(double));
    assert_true(w_rm && w_rv && w_inv);
    for (int ch = 0; ch < c->c; ch++) {
        /* PyTorch: unbiased variance into the running estimate (biased when m == 1) */
        double unbiased = m > 1 ? var[ch] * m / (m - 1) : var[ch];
        w_rm[ch] = (1 - MOMENTUM) * rm0[ch] + MOMENTUM * mean[ch];
        w_rv[ch] = (1 - MOMENTUM) * rv0[ch] + MOMENTUM * unbiased;
        w_inv[ch] = 1.0 / sqrt(var[ch] + EPS);
    }
    assert_int_equal(lc_mismatches("running_mean", d.rm, w_rm, c->c, 1e-6, 1e-5), 0);
    assert_int_equal(lc_mismatches("running_var", d.rv, w_rv, c->c, 1e-6, 1e-5), 0);
    assert_int_equal(lc_mismatches("save_mean", d.sm, mean, c->c, 1e-6, 1e-5), 0);
    assert_int_equal(lc_mismatches("save_invstd", d.si, w_inv, c->c, 1e-6, 1e-5), 0);
    free(x);
    free(g);
    free(b);
    free(rm0);
    free(rv0);
    free(want);
    free(mean);
    free(var);
    free(w_rm);
    free(w_rv);
    free(w_inv);
    free_data(&d);
}

static void eval_forward_uses_running_stats(void **state)
{
    const struct bn_case *c = *state;
    struct bn_data d = make_data(c, 2);
    double *want = malloc(d.nx * sizeof(double));
    assert_non_null(want);
    float *rm = lc_alloc(c->c), *rv = lc_alloc(c->c);
    memcpy(rm, d.rm, c->c * sizeof(float));
    memcpy(rv, d.rv, c->c * sizeof(float));
    for (size_t k = 0; k < d.nx; k++) {
        int ch = (int)((k / c->s) % c->c);
        want[k] = d.g[ch] * ((double)d.x[k] - d.rm[ch]) / sqrt((double)d.rv[ch] + EPS) + d.b[ch];
    }
    /* save buffers are not needed in eval mode */
    gc_batchnorm_forward(d.y, d.x, d.g, d.b, d.rm, d.rv, NULL, NULL, c->n, c->c, c->s, EPS,
                         MOMENTUM, 0, 0, c->c);
    assert_int_equal(lc_mismatches("out", d.y, want, d.nx, 1e-5, 1e-5), 0);
    /* eval leaves the running statistics alone */
    assert_memory_equal(rm, d.rm, c->c * sizeof(float));
    assert_memory_equal(rv, d.rv, c->c * sizeof(float));
    /* in place */
    gc_batchnorm_forward(d.x, d.x, d.g, d.b, d.rm, d.rv, NULL, NULL, c->n, c->c, c->s, EPS,
                         MOMENTUM, 0, 0, c->c);
    assert_int_equal(lc_mismatches("in place", d.x, want, d.nx, 1e-5, 1e-5), 0);
    free(rm);
    free(rv);
    free(want);
    free_data(&d);
}

static double loss(const struct bn_case *c, const double *x, const double *g, const double *b,
                   const double *r, double *scratch, size_t nx)
{
    ref_train(c, x, g, b, scratch, NULL, NULL);
    double s = 0;
    for (size_t i = 0; i < nx; i++)
        s += scratch[i] * r[i];
    return s;
}

static void fd(const struct bn_case *c, double *v, size_t nv, double *grad, const double *x,
               const double *g, const double *b, const double *r, double *scratch, size_t nx)
{
    for (size_t i = 0; i < nv; i++) {
        double keep = v[i];
        v[i] = keep + LC_FD_STEP;
        double lp = loss(c, x, g, b, r, scratch, nx);
        v[i] = keep - LC_FD_STEP;
        double lm = loss(c, x, g, b, r, scratch, nx);
        v[i] = keep;
        grad[i] = (lp - lm) / (2 * LC_FD_STEP);
    }
}

static void backward_matches_finite_differences(void **state)
{
    const struct bn_case *c = *state;
    struct bn_data d = make_data(c, 3);
    struct gc_rng r;
    gc_rng_init(&r, 33, 0);
    float *dout = lc_random(&r, d.nx);
    double *x = to_double(d.x, d.nx), *g = to_double(d.g, c->c), *b = to_double(d.b, c->c);
    double *dr = to_double(dout, d.nx);
    double *scratch = malloc(d.nx * sizeof(double)), *gx = malloc(d.nx * sizeof(double));
    double *gg = malloc(c->c * sizeof(double)), *gb = malloc(c->c * sizeof(double));
    assert_true(scratch && gx && gg && gb);
    fd(c, x, d.nx, gx, x, g, b, dr, scratch, d.nx);
    fd(c, g, c->c, gg, x, g, b, dr, scratch, d.nx);
    fd(c, b, c->c, gb, x, g, b, dr, scratch, d.nx);

    gc_batchnorm_forward(d.y, d.x, d.g, d.b, d.rm, d.rv, d.sm, d.si, c->n, c->c, c->s, EPS,
                         MOMENTUM, 1, 0, c->c);
    float *ax = lc_zeros(d.nx), *ag = lc_zeros(c->c), *ab = lc_zeros(c->c);
    gc_batchnorm_backward(ax, 1, ag, ab, dout, d.x, d.g, d.sm, d.si, c->n, c->c, c->s, 0, c->c);
    assert_int_equal(lc_mismatches("dinp", ax, gx, d.nx, LC_GRAD_ATOL, LC_GRAD_RTOL), 0);
    assert_int_equal(lc_mismatches("dgamma", ag, gg, c->c, LC_GRAD_ATOL, LC_GRAD_RTOL), 0);
    assert_int_equal(lc_mismatches("dbeta", ab, gb, c->c, LC_GRAD_ATOL, LC_GRAD_RTOL), 0);

    /* accumulate, one gradient at a time, the others NULL */
    gc_batchnorm_backward(ax, 1, NULL, NULL, dout, d.x, d.g, d.sm, d.si, c->n, c->c, c->s, 0, c->c);
    gc_batchnorm_backward(NULL, 1, ag, NULL, dout, d.x, d.g, d.sm, d.si, c->n, c->c, c->s, 0, c->c);
    gc_batchnorm_backward(NULL, 1, NULL, ab, dout, d.x, d.g, d.sm, d.si, c->n, c->c, c->s, 0, c->c);
    for (size_t i = 0; i < d.nx; i++)
        gx[i] *= 2;
    for (int i = 0; i < c->c; i++) {
        gg[i] *= 2;
        gb[i] *= 2;
    }
    assert_int_equal(lc_mismatches("2 dinp", ax, gx, d.nx, LC_GRAD_ATOL, LC_GRAD_RTOL), 0);
    assert_int_equal(lc_mismatches("2 dgamma", ag, gg, c->c, LC_GRAD_ATOL, LC_GRAD_RTOL), 0);
    assert_int_equal(lc_mismatches("2 dbeta", ab, gb, c->c, LC_GRAD_ATOL, LC_GRAD_RTOL), 0);

    /* add_dinp 0 writes over whatever dinp held: the bits of adding into zeros */
    float *wx = lc_zeros(d.nx), *zx = lc_zeros(d.nx);
    for (size_t i = 0; i < d.nx; i++)
        wx[i] = 1e6f + (float)i;
    gc_batchnorm_backward(wx, 0, NULL, NULL, dout, d.x, d.g, d.sm, d.si, c->n, c->c, c->s, 0, c->c);
    gc_batchnorm_backward(zx, 1, NULL, NULL, dout, d.x, d.g, d.sm, d.si, c->n, c->c, c->s, 0, c->c);
    for (size_t i = 0; i < d.nx; i++)
        assert_true(wx[i] == zx[i]);
    free(wx);
    free(zx);

    free(dout);
    free(x);
    free(g);
    free(b);
    free(dr);
    free(scratch);
    free(gx);
    free(gg);
    free(gb);
    free(ax);
    free(ag);
    free(ab);
    free_data(&d);
}

/* a channel of large values with a tiny spread: a one-pass float variance
 * (E[x^2] - E[x]^2) would come out as noise or negative */
static void variance_of_offset_data(void **state)
{
    (void)state;
    const int n = 64, s = 196;
    float *x = lc_alloc((size_t)n * s), *y = lc_alloc((size_t)n * s);
    double mean = 0, var = 0;
    struct gc_rng r;
    gc_rng_init(&r, 8, 0);
    for (int i = 0; i < n * s; i++) {
        x[i] = 1000.0f + 0.01f * gc_rng_normal(&r);
        mean += x[i];
    }
    mean /= n * s;
    for (int i = 0; i < n * s; i++)
        var += (x[i] - mean) * (x[i] - mean);
    var /= n * s;
    float g = 1, b = 0, rm = 0, rv = 1, sm, si;
    gc_batchnorm_forward(y, x, &g, &b, &rm, &rv, &sm, &si, n, 1, s, EPS, MOMENTUM, 1, 0, 1);
    double want = 1.0 / sqrt(var + EPS);
    assert_true(fabs(si - want) < 1e-3 * want);
    free(x);
    free(y);
}

#define PER_CASE(fn)                                                                               \
    cmocka_unit_test_prestate(fn, (void *)&cases[0]),                                              \
        cmocka_unit_test_prestate(fn, (void *)&cases[1]),                                          \
        cmocka_unit_test_prestate(fn, (void *)&cases[2]),                                          \
        cmocka_unit_test_prestate(fn, (void *)&cases[3])

int main(void)
{
    const struct CMUnitTest tests[] = {
        PER_CASE(train_forward_and_running_stats),
        PER_CASE(eval_forward_uses_running_stats),
        PER_CASE(backward_matches_finite_differences),
        cmocka_unit_test(variance_of_offset_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
