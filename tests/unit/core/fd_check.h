/* fd_check.h — the finite-difference check of a model's gradients, shared by the unit
 * tests of core/model (test_model.c, test_unet.c). Static functions for a cmocka test
 * that includes core/model.h and core/rng.h first.
 *
 * fd_check(m, n, layer, train, seed) runs n random inputs through m, takes the
 * objective sum(r * output of layer) with random r, and checks the backward's input
 * gradient and every parameter gradient against central differences. */
#ifndef GC_TEST_FD_CHECK_H
#define GC_TEST_FD_CHECK_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/model.h"
#include "core/rng.h"

static size_t layer_size(const struct gc_model *m, int layer)
{
    int c, h, w;
    gc_model_layer_output(m, layer, &c, &h, &w);
    return (size_t)c * h * w;
}

/* sum(r * output of layer), in double */
static double objective(struct gc_model *m, const float *x, int n, const float *r, int layer,
                        int train)
{
    gc_model_forward(m, x, n, train);
    const float *y = gc_model_layer_output(m, layer, NULL, NULL, NULL);
    size_t cnt = (size_t)n * layer_size(m, layer);
    double s = 0;
    for (size_t i = 0; i < cnt; i++)
        s += (double)r[i] * y[i];
    return s;
}

struct fd_stats {
    int checked, refined, kinks, bad;
    double worst;
};

static int near(double analytic, double numeric, double rel)
{
    return fabs(analytic - numeric) <= 2e-3 + rel * fabs(numeric);
}

/* Checks d(objective)/d(*v) against central differences. When the step was too large
 * for the curvature (batch norm over few values) or crossed a kink of a relu, a step 8
 * times smaller, or one side of the kink (one linear piece), must agree; kinks are rare
 * and fd_check bounds how many there may be. */
static void fd_one(struct fd_stats *st, struct gc_model *m, const float *x, int n, const float *r,
                   int layer, int train, float *v, double analytic, double l0)
{
    const float keep = *v;
    st->checked++;
    for (double h = 4e-3; h > 1e-4; h /= 8) {
        *v = (float)(keep + h);
        double hp = (double)*v - keep; /* the step float really took */
        double lp = objective(m, x, n, r, layer, train);
        *v = (float)(keep - h);
        double hm = keep - (double)*v;
        double lm = objective(m, x, n, r, layer, train);
        *v = keep;
        double central = (lp - lm) / (hp + hm);
        if (near(analytic, central, 2e-2)) {
            st->refined += h < 4e-3; /* curvature: a smaller step was needed */
            return;
        }
        if (near(analytic, (lp - l0) / hp, 5e-2) || near(analytic, (l0 - lm) / hm, 5e-2)) {
            st->kinks++;
            return;
        }
        if (getenv("FD_VERBOSE"))
            print_message("fd #%d (h %g): analytic %g numeric %g (%g, %g)\n", st->checked - 1, h,
                          analytic, central, (lp - l0) / hp, (l0 - lm) / hm);
    }
    st->bad++;
    st->worst = fmax(st->worst, fabs(analytic));
}

/* Checks the input gradient and every parameter gradient of sum(r * layer output);
 * at most a fraction kink_frac of them may agree only on one side of a kink (a relu
 * after batch norm in train mode has many units near 0, and a step in any input moves
 * all of them). */
static void fd_check_kinks(struct gc_model *m, int n, int layer, int train, uint64_t seed,
                           double kink_frac)
{
    struct gc_rng rng;
    gc_rng_init(&rng, seed, 1);
    size_t in = gc_model_in_size(m), out = layer_size(m, layer);
    float *x = malloc(n * in * sizeof *x);
    float *r = malloc(n * out * sizeof *r);
    float *dx = malloc(n * in * sizeof *dx);
    gc_rng_fill_normal(&rng, x, n * in, 0, 1);
    gc_rng_fill_normal(&rng, r, n * out, 0, 1);
    for (size_t i = 0; i < n * in; i++)
        dx[i] = 0.5f; /* the backward accumulates onto what is there */
    size_t np;
    float *p = gc_model_params(m, &np);
    float *g = gc_model_grads(m, &np);
    float *ga = malloc(np * sizeof *ga);

    gc_model_zero_grad(m);
    gc_model_forward(m, x, n, train);
    if (layer == gc_model_nlayers(m) - 1)
        gc_model_backward(m, r, dx);
    else
        gc_model_backward_from(m, layer, r, dx);
    memcpy(ga, g, np * sizeof *ga);

    struct fd_stats st = {0};
    const double l0 = objective(m, x, n, r, layer, train);
    for (size_t i = 0; i < n * in; i++)
        fd_one(&st, m, x, n, r, layer, train, &x[i], dx[i] - 0.5, l0);
    int nonzero = 0;
    for (size_t j = 0; j < np; j++) {
        fd_one(&st, m, x, n, r, layer, train, &p[j], ga[j], l0);
        nonzero += ga[j] != 0.0f;
    }
    /* a kink within the smallest step on one side and curvature on the other fails
     * both one-sided tests: with many kinks a few such points are expected, while a
     * wrong backward puts off every gradient it feeds (a layer's weights, all inputs) */
    if (st.bad > (kink_frac > 0.02 ? kink_frac * st.checked / 20 : 0))
        fail_msg("%d of %d gradients off (largest %g)", st.bad, st.checked, st.worst);
    if (getenv("FD_VERBOSE"))
        print_message("fd: %d checked, %d with a smaller step, %d near a kink\n", st.checked,
                      st.refined, st.kinks);
    if (st.kinks > 2 + kink_frac * st.checked)
        fail_msg("%d of %d gradients agree only on one side", st.kinks, st.checked);
    if (st.refined > st.checked / 6)
        fail_msg("%d of %d gradients agree only with a smaller step", st.refined, st.checked);
    assert_true(nonzero > 0);
    free(x);
    free(r);
    free(dx);
    free(ga);
}

static inline void fd_check(struct gc_model *m, int n, int layer, int train, uint64_t seed)
{
    fd_check_kinks(m, n, layer, train, seed, 0.02);
}

#endif
