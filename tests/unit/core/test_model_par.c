/* test_model_par.c — a model split across a pool against the same model on one
 * thread: a DCGAN-shaped generator and discriminator, an MLP and a net with skips
 * (concat layers), with 2 and 3 threads,
 * forward (BN train and eval), backward, backward_from a hidden layer, backward_input,
 * zero_grad, grad_norm, clip and SGD steps agree to rounding (the batch sums are
 * added in another order), Adam, SGD, RMSprop and clip give the same bits on equal
 * gradients, the work really ran in parallel regions, and two runs with the same
 * thread count give the same bits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/blas.h"
#include "core/model.h"
#include "core/pool.h"
#include "core/rng.h"

#define OK(x) assert_int_equal((x), 0)

/* The scenarios step with SGD: Adam turns a gradient that is zero up to rounding into
 * a full step of either sign, so two summation orders part after a step. Adam itself
 * is checked on equal gradients (updates_are_the_same_bits). */
static const struct gc_optim_spec sgd = {GC_OPTIM_SGD, 0.01f, 0.5f, 0.0f, 0.0f};
static const struct gc_optim_spec adam = {GC_OPTIM_ADAM, 0.01f, 0.5f, 0.999f, 1e-8f};
static const struct gc_optim_spec rmsprop = {GC_OPTIM_RMSPROP, 0.01f, 0.0f, 0.9f, 1e-8f};

/* z 16 -> linear 392 -> BN -> relu -> (8,7,7) -> convT 4 (14x14) -> BN -> relu ->
 * convT 1 (28x28) -> tanh */
static struct gc_model *gen(int b)
{
    struct gc_error err = {0};
    struct gc_model *m = gc_model_create(b, 16, 1, 1, &err);
    assert_non_null(m);
    OK(gc_model_add_linear(m, 8 * 7 * 7, 0, &err));
    OK(gc_model_add_batchnorm(m, 1e-5f, 0.1f, &err));
    OK(gc_model_add_relu(m, &err));
    OK(gc_model_add_reshape(m, 8, 7, 7, &err));
    OK(gc_model_add_convt2d(m, 4, 4, 2, 1, 0, &err));
    OK(gc_model_add_batchnorm(m, 1e-5f, 0.1f, &err));
    OK(gc_model_add_relu(m, &err));
    OK(gc_model_add_convt2d(m, 1, 4, 2, 1, 1, &err));
    OK(gc_model_add_tanh(m, &err));
    return m;
}

/* 1x28x28 -> conv 4 (14x14) -> leaky -> conv 8 (7x7) -> BN -> leaky -> linear 1 */
static struct gc_model *disc(int b)
{
    struct gc_error err = {0};
    struct gc_model *m = gc_model_create(b, 1, 28, 28, &err);
    assert_non_null(m);
    OK(gc_model_add_conv2d(m, 4, 4, 2, 1, 1, &err));
    OK(gc_model_add_leaky_relu(m, 0.2f, &err));
    OK(gc_model_add_conv2d(m, 8, 4, 2, 1, 0, &err));
    OK(gc_model_add_batchnorm(m, 1e-5f, 0.1f, &err));
    OK(gc_model_add_leaky_relu(m, 0.2f, &err));
    OK(gc_model_add_linear(m, 1, 1, &err));
    return m;
}

/* 2 -> 128 -> relu -> 128 -> BN -> relu -> 2 -> sigmoid */
static struct gc_model *mlp(int b)
{
    struct gc_error err = {0};
    struct gc_model *m = gc_model_create(b, 2, 1, 1, &err);
    assert_non_null(m);
    OK(gc_model_add_linear(m, 128, 1, &err));
    OK(gc_model_add_relu(m, &err));
    OK(gc_model_add_linear(m, 128, 0, &err)); /* a bias before BN has no gradient */
    OK(gc_model_add_batchnorm(m, 1e-5f, 0.1f, &err));
    OK(gc_model_add_relu(m, &err));
    OK(gc_model_add_linear(m, 2, 1, &err));
    OK(gc_model_add_sigmoid(m, &err));
    return m;
}

/* 2x16x16 -> conv 4 (8x8) [0] -> leaky [1] -> conv 8 (4x4) [2] -> BN [3] -> relu [4]
 * -> convT 4 (8x8) [5] -> BN [6] -> concat [1] [7] -> concat [0] [8] (12x8x8) -> relu
 * -> convT 2 (16x16) -> tanh: skips from an activation and from a conv, around a BN */
static struct gc_model *skips(int b)
{
    struct gc_error err = {0};
    struct gc_model *m = gc_model_create(b, 2, 16, 16, &err);
    assert_non_null(m);
    OK(gc_model_add_conv2d(m, 4, 4, 2, 1, 1, &err));
    OK(gc_model_add_leaky_relu(m, 0.2f, &err));
    OK(gc_model_add_conv2d(m, 8, 4, 2, 1, 0, &err));
    OK(gc_model_add_batchnorm(m, 1e-5f, 0.1f, &err));
    OK(gc_model_add_relu(m, &err));
    OK(gc_model_add_convt2d(m, 4, 4, 2, 1, 0, &err));
    OK(gc_model_add_batchnorm(m, 1e-5f, 0.1f, &err));
    OK(gc_model_add_concat(m, 1, &err));
    OK(gc_model_add_concat(m, 0, &err));
    OK(gc_model_add_relu(m, &err));
    OK(gc_model_add_convt2d(m, 2, 4, 2, 1, 1, &err));
    OK(gc_model_add_tanh(m, &err));
    return m;
}

typedef struct gc_model *(*build_fn)(int b);

static struct gc_model *make(build_fn build, int b, struct gc_pool *pool)
{
    struct gc_model *m = build(b);
    struct gc_rng r;
    gc_rng_init(&r, 7, 1);
    OK(gc_model_finalize(m, GC_INIT_DCGAN, &r, NULL));
    /* generic BN parameters, so that their gradients are not special */
    for (int i = 0; i < gc_model_nlayers(m); i++)
        if (gc_model_layer_kind(m, i) == GC_LAYER_BATCHNORM) {
            size_t n;
            float *g = gc_model_layer_weight(m, i, &n);
            gc_rng_fill_uniform(&r, g, n, 0.5f, 1.5f);
            g = gc_model_layer_bias(m, i, &n);
            gc_rng_fill_uniform(&r, g, n, -0.5f, 0.5f);
        }
    OK(gc_model_set_optim(m, &sgd, NULL));
    OK(gc_model_set_pool(m, pool, NULL));
    /* these models are small: split every region, as a DCGAN at batch 64 would */
    gc_model_set_split_threshold(m, 0.0);
    return m;
}

/* |a - b| small against the larger of the two vectors' magnitudes. The convolutions
 * group the samples of each thread's share into one GEMM, so a weight gradient's sums
 * are regrouped by the thread count: on the U-Net with skips the largest difference
 * measured is 2.2e-5 of the scale (a weight gradient of its innermost conv), the
 * other models stay under 1e-5. */
static void close_vec(const float *a, const float *b, size_t n, int what)
{
    double scale = 1e-6;
    for (size_t i = 0; i < n; i++) {
        scale = fmax(scale, fabs(a[i]));
        scale = fmax(scale, fabs(b[i]));
    }
    for (size_t i = 0; i < n; i++)
        if (!(fabs((double)a[i] - b[i]) <= 5e-5 * scale + 1e-6 * fabs(a[i])))
            fail_msg("part %d [%zu]: %.9g vs %.9g (scale %g)", what, i, a[i], b[i], scale);
}

static void fill(float *x, size_t n, uint64_t seed)
{
    struct gc_rng r;
    gc_rng_init(&r, seed, 3);
    gc_rng_fill_uniform(&r, x, n, -1.0f, 1.0f);
}

/* One scenario on a model: returns (in out) a trace of everything it produced. */
#define MAX_PARTS 64

struct trace {
    float *v;
    size_t n, cap;
    size_t part[MAX_PARTS + 1]; /* start of each put */
    int nparts;
};

static void put(struct trace *t, const float *x, size_t n)
{
    if (t->n + n > t->cap) {
        t->cap = 2 * (t->n + n);
        t->v = realloc(t->v, t->cap * sizeof(float));
        assert_non_null(t->v);
    }
    memcpy(t->v + t->n, x, n * sizeof(float));
    assert_true(t->nparts < MAX_PARTS);
    t->part[t->nparts++] = t->n;
    t->n += n;
    t->part[t->nparts] = t->n;
}

/* part by part: each against its own magnitude */
static void close_trace(const struct trace *a, const struct trace *b)
{
    assert_int_equal(a->nparts, b->nparts);
    for (int k = 0; k < a->nparts; k++) {
        assert_int_equal(a->part[k + 1] - a->part[k], b->part[k + 1] - b->part[k]);
        close_vec(a->v + a->part[k], b->v + b->part[k], a->part[k + 1] - a->part[k], k);
    }
}

/* the same bits, then both traces freed */
static void same_trace(struct trace *a, struct trace *b)
{
    assert_int_equal(a->n, b->n);
    assert_memory_equal(a->v, b->v, a->n * sizeof(float));
    free(a->v);
    free(b->v);
}

static void put_grads(struct trace *t, struct gc_model *m)
{
    size_t np;
    const float *g = gc_model_grads(m, &np);
    put(t, g, np);
}

static void put_params(struct trace *t, struct gc_model *m)
{
    size_t np;
    const float *p = gc_model_params(m, &np);
    put(t, p, np);
}

/* scenario gives the scratch pages back between its passes when set */
static int release_scratch;

static void release(struct gc_model *m)
{
    if (release_scratch)
        gc_model_release_scratch(m);
}

static void scenario(struct gc_model *m, int n, struct trace *t)
{
    const size_t in = gc_model_in_size(m), out = gc_model_out_size(m);
    const int nl = gc_model_nlayers(m);
    size_t np;
    float *x = malloc(n * in * sizeof(float)), *dout = malloc(n * out * sizeof(float));
    float *dinp = malloc(n * in * sizeof(float));
    assert_true(x && dout && dinp);
    for (int step = 0; step < 3; step++) {
        fill(x, n * in, 10 + step);
        fill(dout, n * out, 20 + step);
        gc_model_zero_grad(m);
        put(t, gc_model_forward(m, x, n, 1), n * out);
        memset(dinp, 0, n * in * sizeof(float));
        gc_model_backward(m, dout, dinp);
        put(t, dinp, n * in);
        put_grads(t, m);
        float norm = gc_model_grad_norm(m);
        put(t, &norm, 1);
        gc_model_step(m);
        put_params(t, m);
        release(m);
    }
    /* backward from a hidden layer, accumulating on the gradients left above */
    {
        int layer = nl - 2, c, h, w;
        gc_model_forward(m, x, n, 1);
        gc_model_layer_output(m, layer, &c, &h, &w);
        size_t hs = (size_t)c * h * w;
        float *dh = malloc(n * hs * sizeof(float));
        assert_non_null(dh);
        fill(dh, n * hs, 30);
        memset(dinp, 0, n * in * sizeof(float));
        gc_model_backward_from(m, layer, dh, dinp);
        put(t, dinp, n * in);
        put_grads(t, m);
        release(m);
        /* input gradient only: the parameter gradients stay as they are */
        const float *grads = gc_model_grads(m, &np);
        float *before = malloc(np * sizeof(float));
        assert_non_null(before);
        memcpy(before, grads, np * sizeof(float));
        memset(dinp, 0, n * in * sizeof(float));
        gc_model_backward_input(m, nl - 1, dout, dinp);
        put(t, dinp, n * in);
        assert_memory_equal(before, grads, np * sizeof(float));
        free(before);
        free(dh);
    }
    /* eval mode: running statistics, and BN's eval backward */
    put(t, gc_model_forward(m, x, n, 0), n * out);
    memset(dinp, 0, n * in * sizeof(float));
    gc_model_backward(m, dout, dinp);
    put(t, dinp, n * in);
    put_grads(t, m);
    gc_model_clip(m, 0.01f);
    put_params(t, m);
    free(x);
    free(dout);
    free(dinp);
}

static void compare(build_fn build, int b, int n)
{
    struct trace ref = {0};
    struct gc_model *m1 = make(build, b, NULL);
    scenario(m1, n, &ref);
    gc_model_destroy(m1);
    for (int nth = 2; nth <= 3; nth++) {
        struct gc_pool *pool = gc_pool_create(nth, NULL);
        assert_non_null(pool);
        struct trace a = {0}, c = {0};
        struct gc_model *m = make(build, b, pool);
        scenario(m, n, &a);
        uint64_t regions = gc_pool_regions(pool);
        assert_true(regions > 10); /* the work was split, not run inline */
        gc_model_destroy(m);
        close_trace(&a, &ref);
        /* the same thread count again: the same bits, and a clone shares the pool */
        struct gc_model *src = make(build, b, pool);
        m = gc_model_clone(src, NULL);
        assert_non_null(m);
        gc_model_destroy(src);
        scenario(m, n, &c);
        assert_true(gc_pool_regions(pool) > 2 * regions - 5);
        gc_model_destroy(m);
        same_trace(&c, &a);
        gc_pool_destroy(pool);
    }
    free(ref.v);
}

static void generator_matches_one_thread(void **s)
{
    (void)s;
    compare(gen, 16, 16);
    compare(gen, 16, 5); /* a batch smaller than the largest, not a multiple of nth */
}

static void discriminator_matches_one_thread(void **s)
{
    (void)s;
    compare(disc, 16, 16);
}

static void skips_match_one_thread(void **s)
{
    (void)s;
    compare(skips, 16, 16);
    compare(skips, 16, 7);
}

static void mlp_matches_one_thread(void **s)
{
    (void)s;
    compare(mlp, 64, 64);
}

/* A batch smaller than the thread count: some threads get no sample. The
 * discriminator: the generator's first batch norm is over features, and over two
 * samples it maps each feature to -1 and +1 but for eps, so its input gradient is a
 * difference that cancels all but a few hundredths of its terms: two summation
 * orders of the same GEMMs part in the fifth digit of the gradient of z. */
static void tiny_batch(void **s)
{
    (void)s;
    struct gc_pool *pool = gc_pool_create(3, NULL);
    assert_non_null(pool);
    struct trace a = {0}, ref = {0};
    struct gc_model *m1 = make(disc, 16, NULL), *m = make(disc, 16, pool);
    scenario(m1, 2, &ref);
    scenario(m, 2, &a);
    close_trace(&a, &ref);
    gc_model_destroy(m);
    gc_model_destroy(m1);
    gc_pool_destroy(pool);
    free(a.v);
    free(ref.v);
}

/* Split by samples, the threads pack each region's conv weights between them ahead of
 * it, where one thread packs each weight as it meets it: a forward and an input
 * gradient agree with one thread's to rounding (col2im's chunks regroup with the
 * samples a thread takes, so the bits may part), in float32 and in bf16, whose packing
 * differs. A misplaced or missing part of a packed weight would be far off. (The
 * packed weight against each call's own, bit for bit: test_conv.) */
static void packed_ahead_weights_match_one_thread(void **s)
{
    (void)s;
    const build_fn builds[] = {gen, disc, skips};
    struct gc_pool *pool = gc_pool_create(3, NULL);
    assert_non_null(pool);
    for (int bf16 = 0; bf16 < 2; bf16++)
        for (size_t b = 0; b < sizeof builds / sizeof builds[0]; b++) {
            struct gc_model *m1 = make(builds[b], 16, NULL), *m3 = make(builds[b], 16, pool);
            gc_model_set_precision(m1, bf16);
            gc_model_set_precision(m3, bf16);
            const size_t in = gc_model_in_size(m1), out = gc_model_out_size(m1);
            float *x = malloc(16 * in * sizeof(float)), *dout = malloc(16 * out * sizeof(float));
            float *d1 = calloc(16 * in, sizeof(float)), *d3 = calloc(16 * in, sizeof(float));
            assert_true(x && dout && d1 && d3);
            fill(x, 16 * in, 40 + b);
            fill(dout, 16 * out, 50 + b);
            const uint64_t before = gc_pool_regions(pool);
            const float *y1 = gc_model_forward(m1, x, 16, 1), *y3 = gc_model_forward(m3, x, 16, 1);
            close_vec(y1, y3, 16 * out, 10 + (int)b);
            gc_model_backward_input(m1, gc_model_nlayers(m1) - 1, dout, d1);
            gc_model_backward_input(m3, gc_model_nlayers(m3) - 1, dout, d3);
            close_vec(d1, d3, 16 * in, (int)b);
            assert_true(gc_pool_regions(pool) > before);
            free(x);
            free(dout);
            free(d1);
            free(d3);
            gc_model_destroy(m1);
            gc_model_destroy(m3);
        }
    gc_pool_destroy(pool);
}

/* Back to no pool: inline again, the same bits as a model that never had one. */
static void pool_can_be_removed(void **s)
{
    (void)s;
    struct gc_pool *pool = gc_pool_create(2, NULL);
    assert_non_null(pool);
    struct trace a = {0}, ref = {0};
    struct gc_model *m1 = make(mlp, 64, NULL), *m = make(mlp, 64, pool);
    OK(gc_model_set_pool(m, NULL, NULL));
    gc_pool_destroy(pool);
    scenario(m1, 64, &ref);
    scenario(m, 64, &a);
    same_trace(&a, &ref);
    gc_model_destroy(m);
    gc_model_destroy(m1);
    struct gc_error err = {0};
    struct gc_model *raw = mlp(4); /* not finalized */
    assert_int_equal(gc_model_set_pool(raw, NULL, &err), GC_ESTATE);
    gc_model_destroy(raw);
}

/* The scratch given back between passes (as a trainer does before a checkpoint)
 * changes no bit, off a pool (the model's own scratch) and on pools of one thread and
 * of three: no pass reads what an earlier one left in it, and the private gradient
 * blocks are zero between passes. */
static void released_scratch_keeps_the_bits(void **s)
{
    (void)s;
    const build_fn builds[] = {gen, disc, skips, mlp};
    for (int nth = 0; nth <= 3; nth += nth ? 2 : 1) {
        struct gc_pool *pool = nth ? gc_pool_create(nth, NULL) : NULL;
        assert_true(!nth || pool);
        for (size_t k = 0; k < sizeof builds / sizeof builds[0]; k++) {
            int b = builds[k] == mlp ? 64 : 16;
            struct trace a = {0}, ref = {0};
            struct gc_model *m1 = make(builds[k], b, pool), *m = make(builds[k], b, pool);
            scenario(m1, b, &ref);
            release_scratch = 1;
            scenario(m, b, &a);
            release_scratch = 0;
            same_trace(&a, &ref);
            gc_model_destroy(m);
            gc_model_destroy(m1);
        }
        gc_pool_destroy(pool);
    }
}

/* One step of a model on its batch: forward, backward with an input gradient, update. */
static void one_step(struct gc_model *m, int n, int step, struct trace *t)
{
    const size_t in = gc_model_in_size(m), out = gc_model_out_size(m);
    float *x = malloc(n * in * sizeof(float)), *dout = malloc(n * out * sizeof(float));
    float *dinp = calloc(n * in, sizeof(float));
    assert_true(x && dout && dinp);
    fill(x, n * in, 50 + step);
    fill(dout, n * out, 60 + step);
    gc_model_zero_grad(m);
    put(t, gc_model_forward(m, x, n, 1), n * out);
    gc_model_backward(m, dout, dinp);
    put(t, dinp, n * in);
    put_grads(t, m);
    gc_model_step(m);
    put_params(t, m);
    free(x);
    free(dout);
    free(dinp);
}

/* Models on one pool share its scratch (gradient buffers, conv workspaces) and the
 * threads' parameter gradient blocks: a generator and a discriminator taking turns on
 * one pool give the bits each gives on a pool of its own, whichever reserved the larger
 * scratch and blocks first (a block left unclear by one model's backward would reach
 * the other's gradients); off the pool again, a model has scratch of its own. */
static void models_share_the_pool_scratch(void **s)
{
    (void)s;
    for (int nth = 1; nth <= 3; nth += 2) {
        struct gc_pool *own_g = gc_pool_create(nth, NULL), *own_d = gc_pool_create(nth, NULL);
        struct gc_pool *both = gc_pool_create(nth, NULL);
        assert_true(own_g && own_d && both);
        struct gc_model *g1 = make(gen, 16, own_g), *d1 = make(disc, 16, own_d);
        struct gc_model *d2 = make(disc, 16, both), *g2 = make(gen, 16, both);
        struct trace a = {0}, ref = {0};
        for (int step = 0; step < 3; step++) {
            one_step(g1, 16, step, &ref);
            one_step(d1, 16, step, &ref);
            one_step(g2, 16, step, &a);
            one_step(d2, 16, step, &a);
        }
        OK(gc_model_set_pool(g2, NULL, NULL));
        OK(gc_model_set_pool(g1, NULL, NULL));
        gc_model_destroy(d2);
        gc_pool_destroy(both);
        one_step(g1, 16, 3, &ref);
        one_step(g2, 16, 3, &a);
        same_trace(&a, &ref);
        gc_model_destroy(g1);
        gc_model_destroy(d1);
        gc_model_destroy(g2);
        gc_pool_destroy(own_g);
        gc_pool_destroy(own_d);
    }
}

/* Updates split by parameter range compute each parameter as one thread does: the
 * same bits, given the same gradients. */
static void updates_are_the_same_bits(void **s)
{
    (void)s;
    const struct gc_optim_spec *opts[] = {&adam, &sgd, &rmsprop};
    struct gc_pool *pool = gc_pool_create(3, NULL);
    assert_non_null(pool);
    for (int k = 0; k < 3; k++) {
        struct gc_model *a = make(gen, 16, NULL), *b = make(gen, 16, pool);
        OK(gc_model_set_optim(a, opts[k], NULL));
        OK(gc_model_set_optim(b, opts[k], NULL));
        size_t np, np2;
        float *ga = gc_model_grads(a, &np), *gb = gc_model_grads(b, &np2);
        assert_int_equal(np, np2);
        uint64_t r0 = gc_pool_regions(pool);
        for (int step = 0; step < 3; step++) {
            fill(ga, np, 40 + step);
            memcpy(gb, ga, np * sizeof(float));
            gc_model_step(a);
            gc_model_step(b);
        }
        gc_model_clip(a, 0.02f);
        gc_model_clip(b, 0.02f);
        assert_true(gc_pool_regions(pool) >= r0 + 4);
        float *pa = gc_model_params(a, &np), *pb = gc_model_params(b, &np2);
        assert_memory_equal(pa, pb, np * sizeof(float));
        /* the norm: partial sums in another order */
        assert_float_equal(gc_model_grad_norm(b), gc_model_grad_norm(a),
                           1e-6 * gc_model_grad_norm(a));
        gc_model_zero_grad(b);
        for (size_t i = 0; i < np; i++)
            assert_true(gb[i] == 0.0f);
        gc_model_destroy(a);
        gc_model_destroy(b);
    }
    gc_pool_destroy(pool);
}

int main(void)
{
    /* the pool's threads call SGEMM each: OpenBLAS on one thread (core/blas.h) */
    gc_blas_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(generator_matches_one_thread),
        cmocka_unit_test(discriminator_matches_one_thread),
        cmocka_unit_test(mlp_matches_one_thread),
        cmocka_unit_test(skips_match_one_thread),
        cmocka_unit_test(tiny_batch),
        cmocka_unit_test(packed_ahead_weights_match_one_thread),
        cmocka_unit_test(pool_can_be_removed),
        cmocka_unit_test(updates_are_the_same_bits),
        cmocka_unit_test(released_scratch_keeps_the_bits),
        cmocka_unit_test(models_share_the_pool_scratch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
