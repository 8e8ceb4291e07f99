/* test_model.c — the model: every gradient of two small nets against central finite
 * differences (train and eval mode, and from a hidden layer), initialization, clone and
 * copy_state, gradient norm and clipping, builder errors, and the checkpoint round trip
 * with its rejections. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model.h"
#include "core/rng.h"
#include "tests/unit/core/fd_check.h"

static struct gc_model *must(struct gc_model *m)
{
    assert_non_null(m);
    return m;
}

#define OK(call)                                                                                   \
    do {                                                                                           \
        struct gc_error e_ = {0};                                                                  \
        int rc_ = (call);                                                                          \
        if (rc_ != 0)                                                                              \
            fail_msg("%s failed: %d %s", #call, rc_, e_.msg);                                      \
    } while (0)

/* linear(6) -> BN over N -> leaky relu -> linear(4) -> tanh, on 5 features */
static struct gc_model *mlp(int max_batch, uint64_t seed)
{
    struct gc_error err = {0};
    struct gc_model *m = must(gc_model_create(max_batch, 5, 1, 1, &err));
    assert_int_equal(gc_model_add_linear(m, 6, 1, &err), 0);
    assert_int_equal(gc_model_add_batchnorm(m, 1e-5f, 0.1f, &err), 0);
    assert_int_equal(gc_model_add_leaky_relu(m, 0.2f, &err), 0);
    assert_int_equal(gc_model_add_linear(m, 4, 1, &err), 0);
    assert_int_equal(gc_model_add_tanh(m, &err), 0);
    struct gc_rng rng;
    gc_rng_init(&rng, seed, 0);
    assert_int_equal(gc_model_finalize(m, GC_INIT_DEFAULT, &rng, &err), 0);
    return m;
}

/* conv2d(3,k3,s1,p1) -> BN over NHW -> relu -> convT(2,k4,s2,p1) -> sigmoid ->
 * reshape(4,12,6) -> linear(3), on 2x6x6 */
static struct gc_model *convnet(int max_batch, uint64_t seed)
{
    struct gc_error err = {0};
    struct gc_model *m = must(gc_model_create(max_batch, 2, 6, 6, &err));
    assert_int_equal(gc_model_add_conv2d(m, 3, 3, 1, 1, 1, &err), 0);
    assert_int_equal(gc_model_add_batchnorm(m, 1e-5f, 0.1f, &err), 0);
    assert_int_equal(gc_model_add_relu(m, &err), 0);
    assert_int_equal(gc_model_add_convt2d(m, 2, 4, 2, 1, 1, &err), 0);
    assert_int_equal(gc_model_add_sigmoid(m, &err), 0);
    assert_int_equal(gc_model_add_reshape(m, 4, 12, 6, &err), 0);
    assert_int_equal(gc_model_add_linear(m, 3, 1, &err), 0);
    struct gc_rng rng;
    gc_rng_init(&rng, seed, 0);
    assert_int_equal(gc_model_finalize(m, GC_INIT_DEFAULT, &rng, &err), 0);
    int c, h, w;
    gc_model_out_shape(m, &c, &h, &w);
    assert_true(c == 3 && h == 1 && w == 1);
    return m;
}

/* Gives BN layers a generic gamma and beta, so their gradients are not special. */
static void shake_bn(struct gc_model *m, uint64_t seed)
{
    struct gc_rng r;
    gc_rng_init(&r, seed, 9);
    for (int i = 0; i < gc_model_nlayers(m); i++) {
        if (gc_model_layer_kind(m, i) != GC_LAYER_BATCHNORM)
            continue;
        size_t n;
        float *g = gc_model_layer_weight(m, i, &n);
        gc_rng_fill_uniform(&r, g, n, 0.5f, 1.5f);
        float *b = gc_model_layer_bias(m, i, &n);
        gc_rng_fill_uniform(&r, b, n, -0.5f, 0.5f);
    }
}

static void mlp_gradients_train(void **s)
{
    (void)s;
    struct gc_model *m = mlp(8, 1);
    shake_bn(m, 1);
    fd_check(m, 4, gc_model_nlayers(m) - 1, 1, 11);
    gc_model_destroy(m);
}

static void mlp_gradients_eval(void **s)
{
    (void)s;
    struct gc_model *m = mlp(8, 2);
    shake_bn(m, 2);
    /* move the running statistics away from (0, 1) first */
    struct gc_rng r;
    gc_rng_init(&r, 3, 0);
    float x[8 * 5];
    for (int k = 0; k < 5; k++) {
        gc_rng_fill_normal(&r, x, 40, 1.0f, 2.0f);
        gc_model_forward(m, x, 8, 1);
    }
    fd_check(m, 3, gc_model_nlayers(m) - 1, 0, 12);
    gc_model_destroy(m);
}

static void convnet_gradients_train(void **s)
{
    (void)s;
    struct gc_model *m = convnet(4, 3);
    shake_bn(m, 3);
    fd_check(m, 3, gc_model_nlayers(m) - 1, 1, 13);
    /* eval mode: BN over NHW with running statistics moved away from (0, 1) */
    struct gc_rng r;
    gc_rng_init(&r, 4, 0);
    float x[4 * 72];
    for (int k = 0; k < 5; k++) {
        gc_rng_fill_normal(&r, x, 4 * 72, 0.5f, 2.0f);
        gc_model_forward(m, x, 4, 1);
    }
    fd_check(m, 2, gc_model_nlayers(m) - 1, 0, 16);
    gc_model_destroy(m);
}

static void backward_from_hidden_layer(void **s)
{
    (void)s;
    struct gc_model *m = convnet(4, 4);
    shake_bn(m, 4);
    /* at the output of the relu (layer 2): the layers above get no gradient */
    fd_check(m, 2, 2, 1, 14);
    size_t n;
    const float *dw = gc_model_layer_dweight(m, 6, &n);
    for (size_t i = 0; i < n; i++)
        assert_true(dw[i] == 0.0f);
    gc_model_destroy(m);

    m = mlp(4, 5);
    fd_check(m, 4, 2, 1, 15); /* after the leaky relu: feature matching's layer */
    gc_model_destroy(m);
}

static void backward_without_dinp(void **s)
{
    (void)s;
    /* dinp NULL gives the same parameter gradients */
    struct gc_model *m = convnet(4, 6);
    float x[3 * 72], dout[3 * 3], dx[3 * 72] = {0};
    struct gc_rng r;
    gc_rng_init(&r, 6, 0);
    gc_rng_fill_normal(&r, x, 3 * 72, 0, 1);
    gc_rng_fill_normal(&r, dout, 9, 0, 1);
    size_t np;
    float *g = gc_model_grads(m, &np);
    float *g1 = malloc(np * sizeof *g1);
    gc_model_zero_grad(m);
    gc_model_forward(m, x, 3, 1);
    gc_model_backward(m, dout, dx);
    memcpy(g1, g, np * sizeof *g1);
    gc_model_zero_grad(m);
    gc_model_forward(m, x, 3, 1);
    gc_model_backward(m, dout, NULL);
    assert_memory_equal(g1, g, np * sizeof *g1);
    free(g1);
    gc_model_destroy(m);
}

static void backward_input_only(void **s)
{
    (void)s;
    /* the same input gradient as the full backward, in train and eval mode, and the
     * parameter gradients left exactly as they were */
    for (int train = 0; train <= 1; train++) {
        struct gc_model *m = convnet(4, 7);
        float x[3 * 72], dout[3 * 3], dx0[3 * 72] = {0}, dx1[3 * 72] = {0};
        struct gc_rng r;
        gc_rng_init(&r, 7, 0);
        gc_rng_fill_normal(&r, x, 3 * 72, 0, 1);
        gc_rng_fill_normal(&r, dout, 9, 0, 1);
        size_t np;
        float *g = gc_model_grads(m, &np);
        gc_model_zero_grad(m);
        gc_model_forward(m, x, 3, train);
        gc_model_backward(m, dout, dx0);
        float *g1 = malloc(np * sizeof *g1);
        memcpy(g1, g, np * sizeof *g1);
        int nonzero = 0;
        for (size_t i = 0; i < np; i++)
            nonzero += g1[i] != 0.0f;
        assert_true(nonzero > 0);
        gc_model_forward(m, x, 3, train);
        gc_model_backward_input(m, gc_model_nlayers(m) - 1, dout, dx1);
        assert_memory_equal(g1, g, np * sizeof *g1);
        assert_memory_equal(dx0, dx1, sizeof dx0);
        free(g1);
        gc_model_destroy(m);
    }
}

static void init_default_and_dcgan(void **s)
{
    (void)s;
    struct gc_model *m = convnet(2, 7);
    size_t n;
    /* conv2d fan-in 2*3*3 = 18; convT fan-in is dim 1 of (3,2,4,4): 2*4*4 = 32;
     * linear 288 */
    const int layers[3] = {0, 3, 6};
    const double fan[3] = {18, 32, 288};
    for (int k = 0; k < 3; k++) {
        double bound = 1 / sqrt(fan[k]), mx = 0;
        const float *w = gc_model_layer_weight(m, layers[k], &n);
        for (size_t i = 0; i < n; i++) {
            assert_true(fabs(w[i]) <= bound);
            mx = fmax(mx, fabs(w[i]));
        }
        assert_true(mx > 0.8 * bound); /* spread over the whole range */
        const float *b = gc_model_layer_bias(m, layers[k], &n);
        for (size_t i = 0; i < n; i++)
            assert_true(fabs(b[i]) <= bound);
    }
    const float *gamma = gc_model_layer_weight(m, 1, &n);
    const float *beta = gc_model_layer_bias(m, 1, &n);
    for (size_t i = 0; i < n; i++)
        assert_true(gamma[i] == 1.0f && beta[i] == 0.0f);
    assert_null(gc_model_layer_weight(m, 2, &n)); /* relu has no parameters */
    assert_int_equal(n, 0);
    gc_model_destroy(m);

    struct gc_error err = {0};
    m = must(gc_model_create(2, 16, 1, 1, &err));
    OK(gc_model_add_linear(m, 512, 1, &e_));
    OK(gc_model_add_batchnorm(m, 1e-5f, 0.1f, &e_));
    struct gc_rng rng;
    gc_rng_init(&rng, 8, 0);
    OK(gc_model_finalize(m, GC_INIT_DCGAN, &rng, &e_));
    const float *w = gc_model_layer_weight(m, 0, &n);
    double s1 = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) {
        s1 += w[i];
        s2 += (double)w[i] * w[i];
    }
    assert_float_equal(s1 / n, 0.0, 0.002);
    assert_float_equal(sqrt(s2 / n), 0.02, 0.002);
    const float *b = gc_model_layer_bias(m, 0, &n);
    for (size_t i = 0; i < n; i++)
        assert_true(b[i] == 0.0f);
    gamma = gc_model_layer_weight(m, 1, &n);
    s1 = 0;
    int differ = 0;
    for (size_t i = 0; i < n; i++) {
        s1 += gamma[i];
        differ += gamma[i] != 1.0f;
    }
    assert_float_equal(s1 / n, 1.0, 0.005);
    assert_true(differ > 500);
    beta = gc_model_layer_bias(m, 1, &n);
    for (size_t i = 0; i < n; i++)
        assert_true(beta[i] == 0.0f);
    gc_model_destroy(m);
}

static const struct gc_optim_spec adam = {GC_OPTIM_ADAM, 0.01f, 0.5f, 0.999f, 1e-8f};

/* One training step on sum(out * t): the same sequence for every copy. */
static void train_steps(struct gc_model *m, int steps, uint64_t seed)
{
    struct gc_rng r;
    gc_rng_init(&r, seed, 2);
    size_t in = gc_model_in_size(m), out = gc_model_out_size(m);
    float x[4 * 72], t[4 * 4];
    assert_true(in <= 72 && out <= 4);
    for (int k = 0; k < steps; k++) {
        gc_rng_fill_normal(&r, x, 4 * in, 0, 1);
        gc_rng_fill_normal(&r, t, 4 * out, 0, 1);
        gc_model_zero_grad(m);
        gc_model_forward(m, x, 4, 1);
        gc_model_backward(m, t, NULL);
        gc_model_step(m);
    }
}

static void out_on(struct gc_model *m, float *y, int train)
{
    float x[4 * 72];
    struct gc_rng r;
    gc_rng_init(&r, 99, 0);
    gc_rng_fill_normal(&r, x, 4 * gc_model_in_size(m), 0, 1);
    const float *o = gc_model_forward(m, x, 4, train);
    memcpy(y, o, 4 * gc_model_out_size(m) * sizeof *y);
}

static void clone_and_copy_state(void **s)
{
    (void)s;
    struct gc_model *a = convnet(4, 20);
    OK(gc_model_set_optim(a, &adam, &e_));
    train_steps(a, 3, 1);
    struct gc_error err = {0};
    struct gc_model *b = gc_model_clone(a, &err);
    assert_non_null(b);
    float ya[12], yb[12];
    out_on(a, ya, 0);
    out_on(b, yb, 0);
    assert_memory_equal(ya, yb, sizeof ya); /* same params and BN running stats */

    /* training the clone leaves the source alone; training both alike keeps them equal */
    size_t np;
    float *pa = gc_model_params(a, &np);
    float *keep = malloc(np * sizeof *keep);
    memcpy(keep, pa, np * sizeof *keep);
    train_steps(b, 2, 5);
    assert_memory_equal(keep, gc_model_params(a, &np), np * sizeof *keep);
    train_steps(a, 2, 5);
    assert_memory_equal(gc_model_params(a, &np), gc_model_params(b, &np), np * sizeof *keep);

    /* copy_state into a model of another init: identical afterwards, independent */
    struct gc_model *c = convnet(4, 21);
    out_on(c, yb, 0);
    out_on(a, ya, 0);
    assert_memory_not_equal(ya, yb, sizeof ya);
    OK(gc_model_copy_state(c, a, &e_));
    out_on(c, yb, 0);
    assert_memory_equal(ya, yb, sizeof ya);
    memcpy(keep, gc_model_params(a, &np), np * sizeof *keep);
    train_steps(c, 1, 6); /* c has a's optimizer and step count too */
    assert_memory_equal(keep, gc_model_params(a, &np), np * sizeof *keep);
    train_steps(a, 1, 6);
    assert_memory_equal(gc_model_params(a, &np), gc_model_params(c, &np), np * sizeof *keep);

    /* another architecture is refused */
    struct gc_model *d = mlp(4, 1);
    assert_int_equal(gc_model_copy_state(d, a, &err), GC_EINVAL);
    assert_non_null(strstr(err.msg, "architecture"));
    free(keep);
    gc_model_destroy(a);
    gc_model_destroy(b);
    gc_model_destroy(c);
    gc_model_destroy(d);
    gc_model_destroy(NULL);
}

static void grad_norm_and_clip(void **s)
{
    (void)s;
    struct gc_model *m = mlp(4, 30);
    float x[4 * 5], t[4 * 4];
    struct gc_rng r;
    gc_rng_init(&r, 30, 0);
    gc_rng_fill_normal(&r, x, 20, 0, 1);
    gc_rng_fill_normal(&r, t, 16, 0, 1);
    gc_model_zero_grad(m);
    assert_float_equal(gc_model_grad_norm(m), 0.0, 0.0);
    gc_model_forward(m, x, 4, 1);
    gc_model_backward(m, t, NULL);
    /* the norm over the per-layer views covers every gradient once */
    double sq = 0;
    for (int l = 0; l < gc_model_nlayers(m); l++) {
        size_t n;
        const float *g = gc_model_layer_dweight(m, l, &n);
        for (size_t i = 0; i < n; i++)
            sq += (double)g[i] * g[i];
        g = gc_model_layer_dbias(m, l, &n);
        for (size_t i = 0; i < n; i++)
            sq += (double)g[i] * g[i];
    }
    assert_true(sq > 0);
    assert_float_equal(gc_model_grad_norm(m), sqrt(sq), 1e-5 * sqrt(sq));
    /* backward twice doubles the gradient: it accumulates */
    gc_model_forward(m, x, 4, 1);
    gc_model_backward(m, t, NULL);
    assert_float_equal(gc_model_grad_norm(m), 2 * sqrt(sq), 1e-4 * sqrt(sq));

    size_t np;
    float *p = gc_model_params(m, &np);
    float *keep = malloc(np * sizeof *keep);
    memcpy(keep, p, np * sizeof *keep);
    gc_model_clip(m, 0.1f);
    int clipped = 0;
    for (size_t i = 0; i < np; i++) {
        assert_true(p[i] >= -0.1f && p[i] <= 0.1f);
        if (fabsf(keep[i]) <= 0.1f)
            assert_true(p[i] == keep[i]);
        else
            clipped++;
    }
    assert_true(clipped > 0);
    free(keep);
    gc_model_destroy(m);
}

static void expect_err(int rc, int code, const struct gc_error *err, const char *msg)
{
    assert_int_equal(rc, code);
    if (!strstr(err->msg, msg))
        fail_msg("message \"%s\" lacks \"%s\"", err->msg, msg);
}

static void builder_errors(void **s)
{
    (void)s;
    struct gc_error err = {0};
    assert_null(gc_model_create(0, 1, 1, 1, &err));
    assert_int_equal(err.code, GC_EINVAL);
    assert_null(gc_model_create(4, 3, 0, 2, &err));

    struct gc_model *m = must(gc_model_create(4, 3, 2, 2, &err));
    expect_err(gc_model_add_conv2d(m, 8, 4, 1, 0, 1, &err), GC_EINVAL, &err,
               "conv2d: kernel 4 is larger than the padded input 2x2");
    expect_err(gc_model_add_conv2d(m, 0, 1, 1, 0, 1, &err), GC_EINVAL, &err, "conv2d");
    expect_err(gc_model_add_conv2d(m, 4, 3, 0, 1, 1, &err), GC_EINVAL, &err, "stride");
    expect_err(gc_model_add_convt2d(m, 4, 3, 1, 5, 1, &err), GC_EINVAL, &err, "convt2d");
    expect_err(gc_model_add_linear(m, 0, 1, &err), GC_EINVAL, &err, "linear");
    expect_err(gc_model_add_batchnorm(m, 0.0f, 0.1f, &err), GC_EINVAL, &err, "eps");
    expect_err(gc_model_add_batchnorm(m, 1e-5f, 1.5f, &err), GC_EINVAL, &err, "momentum");
    expect_err(gc_model_add_reshape(m, 5, 1, 1, &err), GC_EINVAL, &err, "reshape");
    expect_err(gc_model_add_leaky_relu(m, NAN, &err), GC_EINVAL, &err, "slope");
    assert_int_equal(gc_model_nlayers(m), 0); /* failed builders add nothing */

    struct gc_rng rng;
    gc_rng_init(&rng, 1, 0);
    expect_err(gc_model_finalize(m, GC_INIT_DEFAULT, &rng, &err), GC_EINVAL, &err, "no layers");
    OK(gc_model_add_reshape(m, 12, 1, 1, &e_));
    OK(gc_model_add_linear(m, 2, 0, &e_));
    assert_int_equal(gc_model_nlayers(m), 2);
    size_t n;
    struct gc_optim_spec o = adam;
    expect_err(gc_model_set_optim(m, &o, &err), GC_ESTATE, &err, "not finalized");
    OK(gc_model_finalize(m, GC_INIT_DEFAULT, &rng, &e_));
    assert_null(gc_model_layer_bias(m, 1, &n)); /* bias 0 */
    expect_err(gc_model_add_relu(m, &err), GC_ESTATE, &err, "finalized");
    expect_err(gc_model_finalize(m, GC_INIT_DEFAULT, &rng, &err), GC_ESTATE, &err, "finalized");
    o.lr = -1;
    expect_err(gc_model_set_optim(m, &o, &err), GC_EINVAL, &err, "learning rate");
    o = adam;
    o.beta1 = 1.0f;
    expect_err(gc_model_set_optim(m, &o, &err), GC_EINVAL, &err, "betas");
    gc_model_destroy(m);
}

static void other_optimizers_step(void **s)
{
    (void)s;
    /* sgd and rmsprop run through the model and move the parameters */
    const struct gc_optim_spec specs[2] = {{GC_OPTIM_SGD, 0.01f, 0.9f, 0.0f, 0.0f},
                                           {GC_OPTIM_RMSPROP, 0.001f, 0.0f, 0.99f, 1e-8f}};
    for (int k = 0; k < 2; k++) {
        struct gc_model *m = mlp(4, 40);
        struct gc_model *c = must(gc_model_clone(m, NULL));
        OK(gc_model_set_optim(m, &specs[k], &e_));
        train_steps(m, 2, 3);
        size_t np;
        float *p = gc_model_params(m, &np), *q = gc_model_params(c, &np);
        int moved = 0;
        for (size_t i = 0; i < np; i++)
            moved += p[i] != q[i];
        assert_true(moved > (int)np / 2);
        gc_model_destroy(m);
        gc_model_destroy(c);
    }
}

static void checkpoint_round_trip(void **s)
{
    (void)s;
    struct gc_model *a = convnet(4, 50);
    OK(gc_model_set_optim(a, &adam, &e_));
    train_steps(a, 3, 7);
    uint8_t *bytes;
    size_t len;
    OK(gc_model_serialize(a, &bytes, &len, &e_));

    struct gc_model *b = convnet(4, 51); /* other init, no optimizer yet */
    OK(gc_model_deserialize(b, bytes, len, &e_));
    /* everything comes back bit for bit: saving again gives the same bytes */
    uint8_t *again;
    size_t len2;
    OK(gc_model_serialize(b, &again, &len2, &e_));
    assert_int_equal(len, len2);
    for (size_t i = 0; i < len; i++)
        if (bytes[i] != again[i])
            fail_msg("re-saved state differs at byte %zu of %zu", i, len);
    free(again);
    size_t np;
    gc_model_params(a, &np);
    assert_memory_equal(gc_model_params(a, &np), gc_model_params(b, &np), np * sizeof(float));
    float ya[12], yb[12];
    out_on(a, ya, 0); /* eval mode: the running statistics */
    out_on(b, yb, 0);
    assert_memory_equal(ya, yb, sizeof ya);

    /* continuing after the load is bit-identical to not stopping (moments and step) */
    train_steps(a, 3, 8);
    train_steps(b, 3, 8);
    assert_memory_equal(gc_model_params(a, &np), gc_model_params(b, &np), np * sizeof(float));

    /* a fresh optimizer (no moments, step 0) would have gone elsewhere */
    struct gc_model *c = convnet(4, 51);
    OK(gc_model_deserialize(c, bytes, len, &e_));
    OK(gc_model_set_optim(c, &adam, &e_));
    train_steps(c, 3, 8);
    assert_memory_not_equal(gc_model_params(a, &np), gc_model_params(c, &np), np * sizeof(float));
    free(bytes);
    gc_model_destroy(a);
    gc_model_destroy(b);
    gc_model_destroy(c);
}

static void checkpoint_rejections(void **s)
{
    (void)s;
    struct gc_model *a = mlp(4, 60);
    OK(gc_model_set_optim(a, &adam, &e_));
    train_steps(a, 1, 1);
    uint8_t *bytes;
    size_t len;
    OK(gc_model_serialize(a, &bytes, &len, &e_));
    struct gc_model *b = mlp(4, 61);
    struct gc_error err = {0};

    bytes[len / 2] ^= 0x01;
    expect_err(gc_model_deserialize(b, bytes, len, &err), GC_ECORRUPT, &err,
               "model: checksum mismatch");
    bytes[len / 2] ^= 0x01;
    expect_err(gc_model_deserialize(b, bytes, len - 9, &err), GC_ECORRUPT, &err,
               "model: truncated (");
    expect_err(gc_model_deserialize(b, bytes, 10, &err), GC_ECORRUPT, &err, "model: truncated");
    bytes[1] ^= 0xff;
    expect_err(gc_model_deserialize(b, bytes, len, &err), GC_ECORRUPT, &err, "model: bad magic");
    bytes[1] ^= 0xff;
    bytes[4] = 3;
    char want[64];
    snprintf(want, sizeof want, "model: format version 3, this build reads %u", GC_MODEL_VERSION);
    expect_err(gc_model_deserialize(b, bytes, len, &err), GC_ECORRUPT, &err, want);
    bytes[4] = (uint8_t)GC_MODEL_VERSION;
    OK(gc_model_deserialize(b, bytes, len, &e_)); /* undamaged again */

    /* another architecture: a wider hidden layer */
    struct gc_model *c = must(gc_model_create(4, 5, 1, 1, &err));
    OK(gc_model_add_linear(c, 7, 1, &e_));
    OK(gc_model_add_batchnorm(c, 1e-5f, 0.1f, &e_));
    OK(gc_model_add_leaky_relu(c, 0.2f, &e_));
    OK(gc_model_add_linear(c, 4, 1, &e_));
    OK(gc_model_add_tanh(c, &e_));
    struct gc_rng rng;
    gc_rng_init(&rng, 1, 0);
    OK(gc_model_finalize(c, GC_INIT_DEFAULT, &rng, &e_));
    expect_err(gc_model_deserialize(c, bytes, len, &err), GC_EINVAL, &err,
               "other architecture at layer 0 (saved linear 5x1x1 -> 6x1x1, this model has "
               "linear 5x1x1 -> 7x1x1)");
    struct gc_model *d = convnet(4, 1);
    expect_err(gc_model_deserialize(d, bytes, len, &err), GC_EINVAL, &err, "other architecture");

    /* the section inside a larger buffer, read with a reader: short reads are caught */
    struct gc_buf buf;
    gc_buf_init(&buf);
    OK(gc_model_save(a, &buf));
    train_steps(b, 1, 9); /* b now differs from the saved state */
    uint8_t *before;
    size_t blen;
    OK(gc_model_serialize(b, &before, &blen, &e_));
    for (size_t cut = 0; cut < buf.len; cut += buf.len / 13 + 1) {
        struct gc_reader r;
        gc_reader_init(&r, buf.data, cut);
        expect_err(gc_model_load(b, &r, &err), GC_ECORRUPT, &err, "model");
    }
    /* a rejected state leaves the model as it was */
    uint8_t *after;
    size_t alen;
    OK(gc_model_serialize(b, &after, &alen, &e_));
    assert_int_equal(blen, alen);
    assert_true(memcmp(before, after, blen) == 0);
    free(before);
    free(after);
    struct gc_reader r;
    gc_reader_init(&r, buf.data, buf.len);
    OK(gc_model_load(b, &r, &e_));
    assert_int_equal(r.off, buf.len);
    gc_buf_fini(&buf);
    free(bytes);
    gc_model_destroy(a);
    gc_model_destroy(b);
    gc_model_destroy(c);
    gc_model_destroy(d);
}

static void layer_outputs_and_sizes(void **s)
{
    (void)s;
    struct gc_model *m = convnet(4, 70);
    assert_int_equal(gc_model_in_size(m), 72);
    assert_int_equal(gc_model_out_size(m), 3);
    assert_int_equal(gc_model_max_batch(m), 4);
    assert_int_equal(gc_model_layer_kind(m, 3), GC_LAYER_CONVT2D);
    float x[2 * 72];
    struct gc_rng r;
    gc_rng_init(&r, 70, 0);
    gc_rng_fill_normal(&r, x, 144, 0, 1);
    const float *y = gc_model_forward(m, x, 2, 1);
    int c, h, w;
    const float *relu = gc_model_layer_output(m, 2, &c, &h, &w);
    assert_true(c == 3 && h == 6 && w == 6);
    int pos = 0;
    for (int i = 0; i < 2 * 108; i++) {
        assert_true(relu[i] >= 0.0f);
        pos += relu[i] > 0.0f;
    }
    assert_true(pos > 50);
    const float *sig = gc_model_layer_output(m, 4, &c, &h, &w);
    assert_true(c == 2 && h == 12 && w == 12);
    /* the reshape is a view of the sigmoid's output */
    const float *re = gc_model_layer_output(m, 5, &c, &h, &w);
    assert_true(c == 4 && h == 12 && w == 6 && re == sig);
    assert_ptr_equal(y, gc_model_layer_output(m, 6, NULL, NULL, NULL));
    /* the input is copied: changing it after the forward changes nothing */
    float y0[6];
    memcpy(y0, y, sizeof y0);
    x[0] += 1.0f;
    gc_model_zero_grad(m);
    float dout[6] = {1, 1, 1, 1, 1, 1};
    gc_model_backward(m, dout, NULL);
    assert_memory_equal(y0, gc_model_layer_output(m, 6, NULL, NULL, NULL), sizeof y0);
    gc_model_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mlp_gradients_train),     cmocka_unit_test(mlp_gradients_eval),
        cmocka_unit_test(convnet_gradients_train), cmocka_unit_test(backward_from_hidden_layer),
        cmocka_unit_test(backward_without_dinp),   cmocka_unit_test(init_default_and_dcgan),
        cmocka_unit_test(clone_and_copy_state),    cmocka_unit_test(grad_norm_and_clip),
        cmocka_unit_test(builder_errors),          cmocka_unit_test(other_optimizers_step),
        cmocka_unit_test(checkpoint_round_trip),   cmocka_unit_test(checkpoint_rejections),
        cmocka_unit_test(layer_outputs_and_sizes), cmocka_unit_test(backward_input_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
