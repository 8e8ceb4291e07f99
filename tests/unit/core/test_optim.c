/* test_optim.c — optimizer steps against the formulas of optim.h evaluated in double,
 * for three steps on small vectors, plus known closed-form values, clip and norm. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "core/optim.h"

#define N 4
static const float g_steps[3][N] = {
    {0.5f, -1.0f, 0.0f, 2.0f},
    {0.25f, -0.5f, 1.0f, -2.0f},
    {-0.75f, 0.1f, 0.3f, 1.0f},
};
static const float p0[N] = {1.0f, -2.0f, 0.5f, 0.0f};

static void close_rel(float got, double want)
{
    assert_float_equal(got, want, 1e-6 + 1e-5 * fabs(want));
}

static void adam_three_steps(void **s)
{
    (void)s;
    const double lr = 0.001, b1 = 0.5, b2 = 0.999, eps = 1e-8;
    float p[N], m[N] = {0}, v[N] = {0};
    double pd[N], md[N] = {0}, vd[N] = {0};
    memcpy(p, p0, sizeof p);
    for (int i = 0; i < N; i++)
        pd[i] = p0[i];
    for (int t = 1; t <= 3; t++) {
        gc_adam_step(p, g_steps[t - 1], m, v, N, (float)lr, (float)b1, (float)b2, (float)eps, t);
        for (int i = 0; i < N; i++) {
            double g = g_steps[t - 1][i];
            md[i] = b1 * md[i] + (1 - b1) * g;
            vd[i] = b2 * vd[i] + (1 - b2) * g * g;
            double mh = md[i] / (1 - pow(b1, t)), vh = vd[i] / (1 - pow(b2, t));
            pd[i] -= lr * mh / (sqrt(vh) + eps);
        }
        for (int i = 0; i < N; i++) {
            close_rel(p[i], pd[i]);
            close_rel(m[i], md[i]);
            close_rel(v[i], vd[i]);
        }
    }
}

static void adam_first_step_is_lr_sign(void **s)
{
    (void)s;
    /* with zero moments, the first bias-corrected step is lr * g / (|g| + eps) */
    float p[3] = {0, 0, 0}, g[3] = {3.0f, -0.01f, 0.0f}, m[3] = {0}, v[3] = {0};
    gc_adam_step(p, g, m, v, 3, 0.1f, 0.9f, 0.999f, 1e-8f, 1);
    assert_float_equal(p[0], -0.1, 1e-6);
    assert_float_equal(p[1], 0.1, 1e-5);
    assert_float_equal(p[2], 0.0, 0.0);
    assert_float_equal(m[0], 0.3, 1e-6);
    assert_float_equal(v[0], 0.009, 1e-6);
}

static void sgd_momentum_three_steps(void **s)
{
    (void)s;
    const double lr = 0.1, mu = 0.9;
    float p[N], vel[N] = {0};
    double pd[N], vd[N] = {0};
    memcpy(p, p0, sizeof p);
    for (int i = 0; i < N; i++)
        pd[i] = p0[i];
    for (int t = 0; t < 3; t++) {
        gc_sgd_step(p, g_steps[t], vel, N, (float)lr, (float)mu);
        for (int i = 0; i < N; i++) {
            vd[i] = mu * vd[i] + g_steps[t][i];
            pd[i] -= lr * vd[i];
            close_rel(p[i], pd[i]);
            close_rel(vel[i], vd[i]);
        }
    }
    /* by hand for element 0: v = .5, .7, -.12; p = .95, .88, .892 */
    assert_float_equal(p[0], 0.892, 1e-6);
}

static void sgd_plain(void **s)
{
    (void)s;
    float p[N];
    memcpy(p, p0, sizeof p);
    gc_sgd_step(p, g_steps[0], NULL, N, 0.5f, 0.0f);
    for (int i = 0; i < N; i++)
        close_rel(p[i], (double)p0[i] - 0.5 * g_steps[0][i]);
}

static void rmsprop_three_steps(void **s)
{
    (void)s;
    const double lr = 0.01, a = 0.99, eps = 1e-8;
    float p[N], sq[N] = {0};
    double pd[N], sd[N] = {0};
    memcpy(p, p0, sizeof p);
    for (int i = 0; i < N; i++)
        pd[i] = p0[i];
    for (int t = 0; t < 3; t++) {
        gc_rmsprop_step(p, g_steps[t], sq, N, (float)lr, (float)a, (float)eps);
        for (int i = 0; i < N; i++) {
            double g = g_steps[t][i];
            sd[i] = a * sd[i] + (1 - a) * g * g;
            pd[i] -= lr * g / (sqrt(sd[i]) + eps);
            close_rel(p[i], pd[i]);
            close_rel(sq[i], sd[i]);
        }
    }
    /* first step by hand: p -= lr * g / (|g| sqrt(1 - a)) = lr * sign(g) * 10 */
    float q[1] = {0}, g[1] = {2.0f}, z[1] = {0};
    gc_rmsprop_step(q, g, z, 1, 0.01f, 0.99f, 0.0f);
    assert_float_equal(q[0], -0.1, 1e-5);
}

static void clip_and_norm(void **s)
{
    (void)s;
    float p[5] = {-3.0f, -0.01f, 0.0f, 0.01f, 7.0f};
    gc_clip(p, 5, 0.01f);
    assert_true(p[0] == -0.01f && p[1] == -0.01f && p[2] == 0.0f && p[3] == 0.01f && p[4] == 0.01f);
    float g[3] = {3.0f, -4.0f, 12.0f};
    assert_float_equal(gc_l2_norm(g, 3), 13.0, 1e-6);
    assert_float_equal(gc_l2_norm(g, 0), 0.0, 0.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(adam_three_steps),         cmocka_unit_test(adam_first_step_is_lr_sign),
        cmocka_unit_test(sgd_momentum_three_steps), cmocka_unit_test(sgd_plain),
        cmocka_unit_test(rmsprop_three_steps),      cmocka_unit_test(clip_and_norm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
