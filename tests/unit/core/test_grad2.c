/* test_grad2.c — second-order passes: every layer's double backward against central
 * finite differences of its own first-order backward, and the model-level parameter
 * gradient of a function of the input gradient (gc_model_input_grad_backward) against
 * finite differences on small nets of every layer kind, with batch norm in train and
 * eval mode, spectral norm, and split over threads. The same quantities against
 * PyTorch's autograd.grad(create_graph=True) are in test_torch_ref.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/act.h"
#include "core/batchnorm.h"
#include "core/conv.h"
#include "core/linear.h"
#include "core/model.h"
#include "core/pool.h"
#include "core/rng.h"
#include "layer_check.h"
#include "model_check.h"

/* ---- finite differences of a scalar ----------------------------------------------- */

/* A scalar of the values behind some float pointers, in double. */
typedef double (*objective_fn)(void *ctx);

struct fd {
    objective_fn f;
    void *ctx;
    double l0;
    int checked, kinks, bad;
};

static int close_enough(double a, double b, double rel)
{
    return fabs(a - b) <= 2e-3 + rel * fabs(b);
}

/* Checks d f / d *v = analytic with central differences at a few step sizes. An input
 * gradient holds the relus' masks, so a function of it jumps where a step flips one;
 * across such a jump one side (one piece) must agree. */
static void fd_one(struct fd *st, float *v, double analytic, const char *what, size_t at)
{
    const float keep = *v;
    st->checked++;
    for (double h = 4e-3; h > 1e-4; h /= 8) {
        *v = (float)(keep + h);
        double hp = (double)*v - keep;
        double lp = st->f(st->ctx);
        *v = (float)(keep - h);
        double hm = keep - (double)*v;
        double lm = st->f(st->ctx);
        *v = keep;
        double central = (lp - lm) / (hp + hm);
        if (close_enough(analytic, central, 2e-2))
            return;
        if (close_enough(analytic, (lp - st->l0) / hp, 5e-2) ||
            close_enough(analytic, (st->l0 - lm) / hm, 5e-2)) {
            st->kinks++;
            return;
        }
        if (getenv("FD_VERBOSE"))
            print_message("%s[%zu] (h %g): analytic %g numeric %g\n", what, at, h, analytic,
                          central);
    }
    st->bad++;
}

static void fd_all(struct fd *st, float *v, const float *analytic, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        fd_one(st, &v[i], analytic[i], what, i);
}

static void fd_done(const struct fd *st)
{
    if (st->bad)
        fail_msg("%d of %d second-order gradients off", st->bad, st->checked);
    if (st->kinks > 2 + st->checked / 8)
        fail_msg("%d of %d gradients agree only on one side", st->kinks, st->checked);
}

/* ---- one layer: P = <v, dx(dy, x, w)> ------------------------------------------------ */

enum kind { K_LINEAR, K_CONV, K_CONVT, K_BN, K_BN_EVAL, K_TANH, K_SIGMOID, K_LEAKY };

struct layer_case {
    enum kind kind;
    int n, c, h, w, oc, k, s, p; /* conv shapes; linear: c inputs, oc outputs */
    struct gc_conv cv;
    size_t in, out, nw;
    float *x, *wt, *dy, *v, *y, *rmean, *rvar, *smean, *sinv, *ws;
};

static void layer_forward_stats(struct layer_case *L)
{
    /* the forward fills y (tanh, sigmoid) and the saved statistics (batch norm) */
    size_t cnt = (size_t)L->n * L->out;
    if (L->kind == K_TANH)
        gc_tanh_forward(L->y, L->x, cnt);
    else if (L->kind == K_SIGMOID)
        gc_sigmoid_forward(L->y, L->x, cnt);
    else if (L->kind == K_BN)
        gc_batchnorm_forward(L->y, L->x, L->wt, NULL, NULL, NULL, L->smean, L->sinv, L->n, L->c,
                             L->h * L->w, 1e-5f, 0.1f, 1, 0, L->c);
}

/* dx of the layer's first-order backward into dx (zeroed here). */
static void layer_backward(struct layer_case *L, float *dx)
{
    memset(dx, 0, (size_t)L->n * L->in * sizeof *dx);
    size_t cnt = (size_t)L->n * L->out;
    switch (L->kind) {
    case K_LINEAR:
        gc_linear_backward(dx, NULL, NULL, L->dy, L->x, L->wt, L->n, L->c, L->oc, 0);
        break;
    case K_CONV:
        gc_conv2d_backward(&L->cv, L->n, dx, 1, NULL, NULL, L->dy, L->x, L->wt, L->ws);
        break;
    case K_CONVT:
        gc_convt2d_backward(&L->cv, L->n, dx, 1, NULL, NULL, L->dy, L->x, L->wt, L->ws);
        break;
    case K_BN:
        layer_forward_stats(L);
        gc_batchnorm_backward(dx, 1, NULL, NULL, L->dy, L->x, L->wt, L->smean, L->sinv, L->n, L->c,
                              L->h * L->w, 0, L->c);
        break;
    case K_BN_EVAL:
        for (int i = 0; i < L->n; i++)
            for (int ch = 0; ch < L->c; ch++)
                for (int j = 0; j < L->h * L->w; j++) {
                    size_t o = ((size_t)i * L->c + ch) * L->h * L->w + j;
                    dx[o] = (float)(L->dy[o] * L->wt[ch] / sqrt((double)L->rvar[ch] + 1e-5));
                }
        break;
    case K_TANH:
        layer_forward_stats(L);
        gc_tanh_backward(dx, 1, L->dy, L->y, cnt);
        break;
    case K_SIGMOID:
        layer_forward_stats(L);
        gc_sigmoid_backward(dx, 1, L->dy, L->y, cnt);
        break;
    case K_LEAKY:
        gc_leaky_relu_backward(dx, 1, L->dy, L->x, cnt, 0.2f);
        break;
    }
}

static double layer_objective(void *ctx)
{
    struct layer_case *L = ctx;
    float *dx = lc_zeros((size_t)L->n * L->in);
    layer_backward(L, dx);
    double s = 0.0;
    for (size_t i = 0; i < (size_t)L->n * L->in; i++)
        s += (double)L->v[i] * dx[i];
    free(dx);
    return s;
}

static void layer_setup(struct layer_case *L, uint64_t seed)
{
    struct gc_rng r;
    gc_rng_init(&r, seed, 3);
    struct gc_error err = {0};
    switch (L->kind) {
    case K_LINEAR:
        L->in = (size_t)L->c;
        L->out = (size_t)L->oc;
        L->nw = (size_t)L->c * L->oc;
        break;
    case K_CONV:
    case K_CONVT:
        assert_int_equal((L->kind == K_CONV ? gc_conv2d_init : gc_convt2d_init)(
                             &L->cv, L->n, L->c, L->h, L->w, L->oc, L->k, L->s, L->p, &err),
                         0);
        L->in = (size_t)L->c * L->h * L->w;
        L->out = (size_t)L->oc * L->cv.oh * L->cv.ow;
        L->nw = (size_t)L->c * L->oc * L->k * L->k;
        L->ws = lc_zeros(gc_conv_workspace(&L->cv));
        break;
    case K_BN:
    case K_BN_EVAL:
        L->in = L->out = (size_t)L->c * L->h * L->w;
        L->nw = (size_t)L->c;
        break;
    default:
        L->in = L->out = (size_t)L->c * L->h * L->w;
        L->nw = 0;
        break;
    }
    L->x = lc_random(&r, (size_t)L->n * L->in);
    L->dy = lc_random(&r, (size_t)L->n * L->out);
    L->v = lc_random(&r, (size_t)L->n * L->in);
    L->wt = lc_random(&r, L->nw);
    L->y = lc_zeros((size_t)L->n * L->out);
    L->smean = lc_zeros((size_t)L->c);
    L->sinv = lc_zeros((size_t)L->c);
    L->rmean = lc_zeros((size_t)L->c);
    L->rvar = lc_zeros((size_t)L->c);
    if (L->kind == K_BN || L->kind == K_BN_EVAL) /* gamma away from 0, running var > 0 */
        for (size_t i = 0; i < L->nw; i++) {
            L->wt[i] = 0.5f + 0.5f * (L->wt[i] + 1.0f);
            L->rvar[i] = 0.3f + (float)i * 0.2f;
        }
}

static void layer_free(struct layer_case *L)
{
    free(L->x), free(L->wt), free(L->dy), free(L->v), free(L->y), free(L->rmean), free(L->rvar);
    free(L->smean), free(L->sinv), free(L->ws);
}

/* The layer's second-order kernel: ggout (written), ggin and dw (accumulated). */
static void layer_backward2(struct layer_case *L, float *ggout, float *ggin, float *dw)
{
    size_t cnt = (size_t)L->n * L->out;
    switch (L->kind) {
    case K_LINEAR:
        gc_linear_backward2(ggout, dw, L->v, L->dy, L->wt, L->n, L->c, L->oc);
        break;
    case K_CONV:
        gc_conv2d_backward2(&L->cv, L->n, ggout, dw, L->v, L->dy, L->wt, L->ws);
        break;
    case K_CONVT:
        gc_convt2d_backward2(&L->cv, L->n, ggout, dw, L->v, L->dy, L->wt, L->ws);
        break;
    case K_BN:
        layer_forward_stats(L);
        gc_batchnorm_backward2(ggout, ggin, dw, L->v, L->dy, L->x, L->wt, L->smean, L->sinv, L->n,
                               L->c, L->h * L->w, 0, L->c);
        break;
    case K_BN_EVAL:
        gc_batchnorm_eval_backward2(ggout, dw, L->v, L->dy, L->wt, L->rvar, 1e-5f, L->n, L->c,
                                    L->h * L->w, 0, L->c);
        break;
    case K_TANH:
        layer_forward_stats(L);
        gc_tanh_backward2(ggout, ggin, L->v, L->dy, L->y, cnt);
        break;
    case K_SIGMOID:
        layer_forward_stats(L);
        gc_sigmoid_backward2(ggout, ggin, L->v, L->dy, L->y, cnt);
        break;
    case K_LEAKY:
        memset(ggout, 0, cnt * sizeof *ggout);
        gc_leaky_relu_backward(ggout, 1, L->v, L->x, cnt, 0.2f);
        break;
    }
}

static void check_layer(struct layer_case L, uint64_t seed)
{
    layer_setup(&L, seed);
    float *ggout = lc_zeros((size_t)L.n * L.out);
    float *ggin = lc_zeros((size_t)L.n * L.in);
    float *dw = lc_zeros(L.nw);
    layer_backward2(&L, ggout, ggin, dw);
    struct fd st = {.f = layer_objective, .ctx = &L};
    st.l0 = layer_objective(&L);
    fd_all(&st, L.dy, ggout, (size_t)L.n * L.out, "ggout");
    fd_all(&st, L.x, ggin, (size_t)L.n * L.in, "ggin");
    fd_all(&st, L.wt, dw, L.nw, "dweight");
    fd_done(&st);
    /* accumulation: a second call adds the same again to ggin and dw */
    float *ggin2 = lc_zeros((size_t)L.n * L.in), *dw2 = lc_zeros(L.nw);
    memcpy(ggin2, ggin, (size_t)L.n * L.in * sizeof *ggin2);
    memcpy(dw2, dw, L.nw * sizeof *dw2);
    layer_backward2(&L, ggout, ggin2, dw2);
    for (size_t i = 0; i < (size_t)L.n * L.in; i++)
        assert_float_equal(ggin2[i], 2.0f * ggin[i], 1e-5f + 1e-5f * fabsf(ggin[i]));
    for (size_t i = 0; i < L.nw; i++)
        assert_float_equal(dw2[i], 2.0f * dw[i], 1e-5f + 1e-5f * fabsf(dw[i]));
    free(ggout), free(ggin), free(dw), free(ggin2), free(dw2);
    layer_free(&L);
}

static void linear_second_order(void **s)
{
    (void)s;
    check_layer((struct layer_case){.kind = K_LINEAR, .n = 3, .c = 5, .oc = 4}, 1);
}

static void conv2d_second_order(void **s)
{
    (void)s;
    check_layer(
        (struct layer_case){
            .kind = K_CONV, .n = 2, .c = 2, .h = 6, .w = 5, .oc = 3, .k = 4, .s = 2, .p = 1},
        2);
    check_layer(
        (struct layer_case){
            .kind = K_CONV, .n = 2, .c = 3, .h = 5, .w = 5, .oc = 2, .k = 3, .s = 1, .p = 1},
        3);
}

static void convt2d_second_order(void **s)
{
    (void)s;
    check_layer(
        (struct layer_case){
            .kind = K_CONVT, .n = 2, .c = 3, .h = 3, .w = 4, .oc = 2, .k = 4, .s = 2, .p = 1},
        4);
}

static void batchnorm_second_order(void **s)
{
    (void)s;
    /* features (S = 1) and channels (S = 12), train mode, then eval mode */
    check_layer((struct layer_case){.kind = K_BN, .n = 5, .c = 3, .h = 1, .w = 1}, 5);
    check_layer((struct layer_case){.kind = K_BN, .n = 3, .c = 2, .h = 3, .w = 4}, 6);
    check_layer((struct layer_case){.kind = K_BN_EVAL, .n = 3, .c = 2, .h = 2, .w = 3}, 7);
}

static void activations_second_order(void **s)
{
    (void)s;
    check_layer((struct layer_case){.kind = K_TANH, .n = 2, .c = 3, .h = 2, .w = 2}, 8);
    check_layer((struct layer_case){.kind = K_SIGMOID, .n = 2, .c = 3, .h = 2, .w = 2}, 9);
    check_layer((struct layer_case){.kind = K_LEAKY, .n = 2, .c = 3, .h = 2, .w = 2}, 10);
}

/* ---- a model: P = sum (a g + g^2 / 2) of its input gradient g --------------------- */

struct net {
    struct gc_model *m;
    int n, train;
    size_t in, out;
    float *x, *r, *a, *g;
};

static void input_grad(struct net *t)
{
    memset(t->g, 0, (size_t)t->n * t->in * sizeof *t->g);
    gc_model_forward(t->m, t->x, t->n, t->train);
    gc_model_input_grad(t->m, t->r, t->g);
}

static double penalty_of(void *ctx)
{
    struct net *t = ctx;
    input_grad(t);
    double p = 0.0;
    for (size_t i = 0; i < (size_t)t->n * t->in; i++)
        p += (double)t->a[i] * t->g[i] + 0.5 * (double)t->g[i] * t->g[i];
    return p;
}

/* dP/d(parameters) of the model's second-order passes into ga (np floats). */
static void penalty_grads(struct net *t, float *ga)
{
    size_t np;
    gc_model_zero_grad(t->m);
    input_grad(t);
    float *v = lc_alloc((size_t)t->n * t->in);
    for (size_t i = 0; i < (size_t)t->n * t->in; i++)
        v[i] = t->a[i] + t->g[i];
    gc_model_input_grad_backward(t->m, v);
    const float *g = gc_model_grads(t->m, &np);
    memcpy(ga, g, np * sizeof *ga);
    free(v);
}

static void net_init(struct net *t, struct gc_model *m, int n, int train, uint64_t seed)
{
    struct gc_error err = {0};
    t->m = m;
    t->n = n;
    t->train = train;
    t->in = gc_model_in_size(m);
    t->out = gc_model_out_size(m);
    assert_int_equal(gc_model_grad2_enable(m, &err), 0);
    assert_true(gc_model_grad2_enabled(m));
    struct gc_rng r;
    gc_rng_init(&r, seed, 5);
    t->x = lc_random(&r, (size_t)n * t->in);
    t->r = lc_random(&r, (size_t)n * t->out);
    t->a = lc_random(&r, (size_t)n * t->in);
    t->g = lc_zeros((size_t)n * t->in);
}

static void net_free(struct net *t)
{
    gc_model_destroy(t->m);
    free(t->x), free(t->r), free(t->a), free(t->g);
}

static void check_net(struct gc_model *m, int n, int train, uint64_t seed)
{
    struct net t;
    net_init(&t, m, n, train, seed);
    size_t np;
    float *p = gc_model_params(m, &np);
    float *ga = lc_alloc(np);
    penalty_grads(&t, ga);
    struct fd st = {.f = penalty_of, .ctx = &t};
    st.l0 = penalty_of(&t);
    fd_all(&st, p, ga, np, "param");
    fd_done(&st);
    int nonzero = 0;
    for (size_t i = 0; i < np; i++)
        nonzero += ga[i] != 0.0f;
    assert_true(nonzero > (int)np / 2);
    free(ga);
    net_free(&t);
}

/* linear(6) -> BN -> leaky relu -> linear(4) -> tanh -> linear(1), on 5 features */
static struct gc_model *mlp(int max_batch, uint64_t seed)
{
    struct gc_error err = {0};
    struct gc_model *m = gc_model_create(max_batch, 5, 1, 1, &err);
    assert_non_null(m);
    assert_int_equal(gc_model_add_linear(m, 6, 1, &err), 0);
    assert_int_equal(gc_model_add_batchnorm(m, 1e-5f, 0.1f, &err), 0);
    assert_int_equal(gc_model_add_leaky_relu(m, 0.2f, &err), 0);
    assert_int_equal(gc_model_add_linear(m, 4, 1, &err), 0);
    assert_int_equal(gc_model_add_tanh(m, &err), 0);
    assert_int_equal(gc_model_add_linear(m, 1, 1, &err), 0);
    struct gc_rng rng;
    gc_rng_init(&rng, seed, 0);
    assert_int_equal(gc_model_finalize(m, GC_INIT_DEFAULT, &rng, &err), 0);
    mc_shake_bn(m, seed);
    return m;
}

/* linear(6) -> tanh -> linear(4) -> sigmoid -> linear(1), on 5 features: the tanh's
 * input gradient starts from its adj term (the sigmoid's is the highest) inside the
 * backward, where an activation otherwise writes over its output gradient */
static struct gc_model *curved_mlp(int max_batch, uint64_t seed)
{
    struct gc_error err = {0};
    struct gc_model *m = gc_model_create(max_batch, 5, 1, 1, &err);
    assert_non_null(m);
    assert_int_equal(gc_model_add_linear(m, 6, 1, &err), 0);
    assert_int_equal(gc_model_add_tanh(m, &err), 0);
    assert_int_equal(gc_model_add_linear(m, 4, 1, &err), 0);
    assert_int_equal(gc_model_add_sigmoid(m, &err), 0);
    assert_int_equal(gc_model_add_linear(m, 1, 1, &err), 0);
    struct gc_rng rng;
    gc_rng_init(&rng, seed, 0);
    assert_int_equal(gc_model_finalize(m, GC_INIT_DEFAULT, &rng, &err), 0);
    return m;
}

/* conv2d(3,k3,s1,p1) -> BN -> relu -> convT(2,k4,s2,p1) -> sigmoid -> reshape ->
 * linear(2), on 2x5x5 */
static struct gc_model *convnet(int max_batch, uint64_t seed)
{
    struct gc_error err = {0};
    struct gc_model *m = gc_model_create(max_batch, 2, 5, 5, &err);
    assert_non_null(m);
    assert_int_equal(gc_model_add_conv2d(m, 3, 3, 1, 1, 1, &err), 0);
    assert_int_equal(gc_model_add_batchnorm(m, 1e-5f, 0.1f, &err), 0);
    assert_int_equal(gc_model_add_relu(m, &err), 0);
    assert_int_equal(gc_model_add_convt2d(m, 2, 4, 2, 1, 1, &err), 0);
    assert_int_equal(gc_model_add_sigmoid(m, &err), 0);
    assert_int_equal(gc_model_add_reshape(m, 4, 10, 5, &err), 0);
    assert_int_equal(gc_model_add_linear(m, 2, 1, &err), 0);
    struct gc_rng rng;
    gc_rng_init(&rng, seed, 0);
    assert_int_equal(gc_model_finalize(m, GC_INIT_DEFAULT, &rng, &err), 0);
    mc_shake_bn(m, seed);
    return m;
}

static void mlp_penalty_gradients(void **s)
{
    (void)s;
    check_net(mlp(6, 1), 4, 1, 21);
    /* eval mode: batch norm is a fixed affine map; move its statistics first */
    struct gc_model *m = mlp(6, 2);
    struct gc_rng r;
    gc_rng_init(&r, 3, 0);
    float x[6 * 5];
    for (int k = 0; k < 4; k++) {
        gc_rng_fill_normal(&r, x, 30, 0.5f, 2.0f);
        gc_model_forward(m, x, 6, 1);
    }
    check_net(m, 3, 0, 22);
    check_net(curved_mlp(4, 4), 4, 1, 24);
}

static void convnet_penalty_gradients(void **s)
{
    (void)s;
    check_net(convnet(3, 3), 3, 1, 23);
}

static void discriminator_penalty_gradients(void **s)
{
    (void)s;
    check_net(mc_small_d(4, 1, 0, 4), 4, 1, 24);
    check_net(mc_small_d(4, 0, 0, 5), 3, 1, 25);
}

/* Spectral norm: the finite differences move W with u and v fixed, which is what the
 * backward assumes; an eval forward does no power iteration. */
static void spectral_norm_penalty_gradients(void **s)
{
    (void)s;
    struct gc_model *m = mc_small_d(4, 0, 1, 6);
    struct gc_rng r;
    gc_rng_init(&r, 4, 0);
    float x[4 * 64];
    gc_rng_fill_normal(&r, x, 4 * 64, 0.0f, 1.0f);
    for (int k = 0; k < 3; k++) /* a few power iterations */
        gc_model_forward(m, x, 4, 1);
    check_net(m, 4, 0, 26);
}

/* Split over two threads with every region parallel: the same gradients to rounding. */
static void threads_agree(void **s)
{
    (void)s;
    struct gc_error err = {0};
    struct gc_pool *pool = gc_pool_create(2, &err);
    assert_non_null(pool);
    for (int bn = 0; bn <= 1; bn++) {
        struct net a, b;
        net_init(&a, mc_small_d(8, bn, 1, 7), 8, 1, 27);
        net_init(&b, mc_small_d(8, bn, 1, 7), 8, 1, 27);
        assert_int_equal(gc_model_set_pool(b.m, pool, &err), 0);
        gc_model_set_split_threshold(b.m, 0.0);
        size_t np;
        gc_model_params(a.m, &np);
        float *ga = lc_alloc(np), *gb = lc_alloc(np);
        penalty_grads(&a, ga);
        penalty_grads(&b, gb);
        double scale = 0.0;
        for (size_t i = 0; i < np; i++)
            scale = fmax(scale, fabs(ga[i]));
        for (size_t i = 0; i < np; i++)
            if (fabs(ga[i] - gb[i]) > 1e-5 * scale + 1e-6)
                fail_msg("bn %d: parameter %zu: one thread %g, two %g", bn, i, ga[i], gb[i]);
        /* and the input gradient itself */
        for (size_t i = 0; i < (size_t)a.n * a.in; i++)
            assert_float_equal(a.g[i], b.g[i], 1e-5f);
        free(ga), free(gb);
        net_free(&a);
        net_free(&b);
    }
    gc_pool_destroy(pool);
}

/* The penalty's pass adds to what the gradients hold, like every backward. */
static void accumulates_onto_gradients(void **s)
{
    (void)s;
    struct net t;
    net_init(&t, mc_small_d(4, 1, 0, 8), 4, 1, 28);
    size_t np;
    gc_model_params(t.m, &np);
    float *once = lc_alloc(np);
    penalty_grads(&t, once);
    float *g = gc_model_grads(t.m, &np);
    float *v = lc_alloc((size_t)t.n * t.in);
    input_grad(&t);
    for (size_t i = 0; i < (size_t)t.n * t.in; i++)
        v[i] = t.a[i] + t.g[i];
    /* grads hold `once`; one more pass of the same forward doubles them */
    gc_model_input_grad_backward(t.m, v);
    for (size_t i = 0; i < np; i++)
        assert_float_equal(g[i], 2.0f * once[i], 1e-6f + 1e-5f * fabsf(once[i]));
    free(once), free(v);
    net_free(&t);
}

/* A model with a concat layer (the U-Net's skips) has no second-order passes: enabling
 * them is refused by name, not run wrong. */
static void concat_is_refused(void **s)
{
    (void)s;
    struct gc_error err = {0};
    struct gc_model *m = gc_model_create(2, 1, 4, 4, &err);
    assert_non_null(m);
    assert_int_equal(gc_model_add_conv2d(m, 2, 3, 1, 1, 1, &err), 0);
    assert_int_equal(gc_model_add_leaky_relu(m, 0.2f, &err), 0);
    assert_int_equal(gc_model_add_concat(m, 0, &err), 0);
    struct gc_rng rng;
    gc_rng_init(&rng, 3, 0);
    assert_int_equal(gc_model_finalize(m, GC_INIT_DEFAULT, &rng, &err), 0);
    assert_int_equal(gc_model_grad2_enable(m, &err), GC_EINVAL);
    assert_non_null(strstr(err.msg, "concat"));
    assert_false(gc_model_grad2_enabled(m));
    gc_model_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(linear_second_order),
        cmocka_unit_test(conv2d_second_order),
        cmocka_unit_test(convt2d_second_order),
        cmocka_unit_test(batchnorm_second_order),
        cmocka_unit_test(activations_second_order),
        cmocka_unit_test(mlp_penalty_gradients),
        cmocka_unit_test(convnet_penalty_gradients),
        cmocka_unit_test(discriminator_penalty_gradients),
        cmocka_unit_test(spectral_norm_penalty_gradients),
        cmocka_unit_test(threads_agree),
        cmocka_unit_test(accumulates_onto_gradients),
        cmocka_unit_test(concat_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
