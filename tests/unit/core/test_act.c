/* test_act.c — activations: forwards against libm in double, backwards against finite
 * differences, in-place forwards, accumulation, and sigmoid at extreme inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/act.h"
#include "layer_check.h"

#define N 257
#define SLOPE 0.2f

enum { RELU, LEAKY, TANH, SIGMOID, NACT };
static const char *const names[NACT] = {"relu", "leaky_relu", "tanh", "sigmoid"};

static double ref(int act, double x)
{
    switch (act) {
    case RELU:
        return x > 0 ? x : 0;
    case LEAKY:
        return x > 0 ? x : SLOPE * x;
    case TANH:
        return tanh(x);
    default:
        return 1.0 / (1.0 + exp(-x));
    }
}

static void forward(int act, float *out, const float *inp, size_t n)
{
    switch (act) {
    case RELU:
        gc_relu_forward(out, inp, n);
        break;
    case LEAKY:
        gc_leaky_relu_forward(out, inp, n, SLOPE);
        break;
    case TANH:
        gc_tanh_forward(out, inp, n);
        break;
    default:
        gc_sigmoid_forward(out, inp, n);
    }
}

/* relu and leaky relu take the forward's input, tanh and sigmoid its output */
static void backward_as(int act, float *dinp, int add, const float *dout, const float *inp,
                        const float *out, size_t n)
{
    switch (act) {
    case RELU:
        gc_relu_backward(dinp, add, dout, inp, n);
        break;
    case LEAKY:
        gc_leaky_relu_backward(dinp, add, dout, inp, n, SLOPE);
        break;
    case TANH:
        gc_tanh_backward(dinp, add, dout, out, n);
        break;
    default:
        gc_sigmoid_backward(dinp, add, dout, out, n);
    }
}

static void backward(int act, float *dinp, const float *dout, const float *inp, const float *out,
                     size_t n)
{
    backward_as(act, dinp, 1, dout, inp, out, n);
}

/* inputs in [-4, 4], kept away from the kinks of relu at 0 where no derivative exists */
static float *inputs(uint64_t seed)
{
    struct gc_rng r;
    gc_rng_init(&r, seed, 0);
    float *x = lc_random(&r, N);
    for (int i = 0; i < N; i++) {
        x[i] *= 4.0f;
        if (fabsf(x[i]) < 0.01f)
            x[i] = 0.5f;
    }
    return x;
}

static void forward_matches_libm(void **state)
{
    int act = (int)(intptr_t)*state;
    float *x = inputs(1 + act), *y = lc_alloc(N);
    double want[N];
    for (int i = 0; i < N; i++)
        want[i] = ref(act, x[i]);
    forward(act, y, x, N);
    assert_int_equal(lc_mismatches(names[act], y, want, N, 1e-6, 1e-6), 0);
    forward(act, x, x, N); /* in place */
    assert_int_equal(lc_mismatches(names[act], x, want, N, 1e-6, 1e-6), 0);
    free(x);
    free(y);
}

static void backward_matches_finite_differences(void **state)
{
    int act = (int)(intptr_t)*state;
    struct gc_rng r;
    gc_rng_init(&r, 50 + act, 0);
    float *x = inputs(10 + act), *y = lc_alloc(N), *dout = lc_random(&r, N);
    float *dx = lc_random(&r, N), *dx0 = lc_alloc(N);
    memcpy(dx0, dx, N * sizeof(float));
    forward(act, y, x, N);
    double want[N];
    for (int i = 0; i < N; i++) {
        double h = LC_FD_STEP;
        double d = (ref(act, (double)x[i] + h) - ref(act, (double)x[i] - h)) / (2 * h);
        /* backward adds to what dx holds */
        want[i] = dx0[i] + d * dout[i];
    }
    backward(act, dx, dout, x, y, N);
    assert_int_equal(lc_mismatches(names[act], dx, want, N, 1e-4, 1e-4), 0);
    free(x);
    free(y);
    free(dout);
    free(dx);
    free(dx0);
}

/* Written (add 0) over NaN, which a read would spread, dinp gets the bits that adding
 * into zeros gives, -0 included: a dout of -0 comes out +0 both ways. */
static void written_is_added_into_zeros(void **state)
{
    int act = (int)(intptr_t)*state;
    struct gc_rng r;
    gc_rng_init(&r, 70 + act, 0);
    float *x = inputs(20 + act), *y = lc_alloc(N), *dout = lc_random(&r, N);
    dout[3] = -0.0f;
    float *added = lc_zeros(N), *written = lc_alloc(N);
    memset(written, 0xff, N * sizeof(float));
    forward(act, y, x, N);
    backward_as(act, added, 1, dout, x, y, N);
    backward_as(act, written, 0, dout, x, y, N);
    assert_memory_equal(written, added, N * sizeof(float));
    assert_false(signbit(written[3]));
    free(x);
    free(y);
    free(dout);
    free(added);
    free(written);
}

static void sigmoid_saturates_without_nan(void **state)
{
    (void)state;
    float x[6] = {-1000.0f, -100.0f, -20.0f, 20.0f, 100.0f, 1000.0f}, y[6];
    gc_sigmoid_forward(y, x, 6);
    for (int i = 0; i < 6; i++) {
        assert_true(isfinite(y[i]));
        assert_true(y[i] >= 0.0f && y[i] <= 1.0f);
    }
    assert_true(y[0] == 0.0f);
    assert_true(y[5] == 1.0f);
    assert_true(y[2] > 0.0f && y[2] < 1e-8f);
    float t[2] = {-1000.0f, 1000.0f}, ty[2];
    gc_tanh_forward(ty, t, 2);
    assert_true(ty[0] == -1.0f && ty[1] == 1.0f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate(forward_matches_libm, (void *)(intptr_t)RELU),
        cmocka_unit_test_prestate(forward_matches_libm, (void *)(intptr_t)LEAKY),
        cmocka_unit_test_prestate(forward_matches_libm, (void *)(intptr_t)TANH),
        cmocka_unit_test_prestate(forward_matches_libm, (void *)(intptr_t)SIGMOID),
        cmocka_unit_test_prestate(backward_matches_finite_differences, (void *)(intptr_t)RELU),
        cmocka_unit_test_prestate(backward_matches_finite_differences, (void *)(intptr_t)LEAKY),
        cmocka_unit_test_prestate(backward_matches_finite_differences, (void *)(intptr_t)TANH),
        cmocka_unit_test_prestate(backward_matches_finite_differences, (void *)(intptr_t)SIGMOID),
        cmocka_unit_test_prestate(written_is_added_into_zeros, (void *)(intptr_t)RELU),
        cmocka_unit_test_prestate(written_is_added_into_zeros, (void *)(intptr_t)LEAKY),
        cmocka_unit_test_prestate(written_is_added_into_zeros, (void *)(intptr_t)TANH),
        cmocka_unit_test_prestate(written_is_added_into_zeros, (void *)(intptr_t)SIGMOID),
        cmocka_unit_test(sigmoid_saturates_without_nan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
