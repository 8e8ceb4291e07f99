/* test_torch_ref.c — second derivatives, gradient penalties and spectral norm against
 * PyTorch: every layer's double backward against autograd.grad(create_graph=True), the
 * R1 and WGAN-GP penalties of a small DCGAN-shaped discriminator (with batch norm; with
 * spectral norm on every layer) and their parameter gradients, and spectral norm's
 * power iteration and backward. The values come from the committed fixture
 * tests/unit/core/fixtures/torch_grad2.bin, written by gen_torch_grad2.py next to it;
 * run from the repository's root. */
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
#include "layer_check.h"
#include "model_check.h"

#define FIXTURE "tests/unit/core/fixtures/torch_grad2.bin"
#define FIXTURE_MAGIC 0x32544347u /* "GCT2" */
#define FIXTURE_VERSION 1u
#define MAX_RECORDS 256

/* ---- the fixture -------------------------------------------------------------------- */

struct record {
    char name[64];
    int dims[6], ndim;
    size_t n;
    float *data;
};

static struct record recs[MAX_RECORDS];
static int nrecs;

static uint32_t rd_u32(FILE *f)
{
    uint8_t b[4];
    assert_int_equal(fread(b, 1, 4, f), 4);
    return b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static int load_fixture(void **state)
{
    (void)state;
    FILE *f = fopen(FIXTURE, "rb");
    if (!f) {
        print_error("%s is missing (run the tests from the repository's root)\n", FIXTURE);
        return -1;
    }
    if (rd_u32(f) != FIXTURE_MAGIC || rd_u32(f) != FIXTURE_VERSION) {
        print_error("%s: not a fixture of version %u\n", FIXTURE, FIXTURE_VERSION);
        fclose(f);
        return -1;
    }
    nrecs = (int)rd_u32(f);
    assert_true(nrecs > 0 && nrecs <= MAX_RECORDS);
    for (int i = 0; i < nrecs; i++) {
        struct record *r = &recs[i];
        uint32_t len = rd_u32(f);
        assert_true(len < sizeof r->name);
        assert_int_equal(fread(r->name, 1, len, f), len);
        r->name[len] = 0;
        r->ndim = (int)rd_u32(f);
        assert_true(r->ndim <= 6);
        r->n = 1;
        for (int d = 0; d < r->ndim; d++) {
            r->dims[d] = (int)rd_u32(f);
            r->n *= (size_t)r->dims[d];
        }
        r->data = lc_alloc(r->n);
        for (size_t k = 0; k < r->n; k++) {
            uint32_t u = rd_u32(f);
            memcpy(&r->data[k], &u, 4);
        }
    }
    fclose(f);
    return 0;
}

static int free_fixture(void **state)
{
    (void)state;
    for (int i = 0; i < nrecs; i++)
        free(recs[i].data);
    return 0;
}

static const struct record *rec(const char *name)
{
    for (int i = 0; i < nrecs; i++)
        if (strcmp(recs[i].name, name) == 0)
            return &recs[i];
    fail_msg("the fixture has no %s", name);
    return NULL;
}

static float *val(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static float *val(const char *fmt, ...)
{
    char name[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    return rec(name)->data;
}

static size_t count(const char *name)
{
    return rec(name)->n;
}

/* got (float) against the fixture's record, relative to the record's largest value. */
static void expect(const char *what, const float *got, const char *name, double rtol)
{
    const struct record *r = rec(name);
    double scale = 0.0;
    for (size_t i = 0; i < r->n; i++)
        scale = fmax(scale, fabs(r->data[i]));
    for (size_t i = 0; i < r->n; i++)
        if (!(fabs((double)got[i] - r->data[i]) <= rtol * scale + 1e-6))
            fail_msg("%s (%s)[%zu]: got %.7g, PyTorch %.7g", what, name, i, got[i], r->data[i]);
}

/* ---- layers ------------------------------------------------------------------------- */

/* dx, ggout, ggin and the weight gradients of one layer against the fixture's prefix. */
struct got {
    float *dx, *ggout, *ggin, *g0, *g1;
};

static struct got got_for(const char *p)
{
    char b[64];
    struct got g;
    snprintf(b, sizeof b, "%s.x", p);
    g.dx = lc_zeros(count(b));
    g.ggin = lc_zeros(count(b));
    snprintf(b, sizeof b, "%s.dy", p);
    g.ggout = lc_zeros(count(b));
    g.g0 = lc_zeros(256);
    g.g1 = lc_zeros(256);
    return g;
}

static void expect_layer(const char *p, struct got *g, int nweights)
{
    char b[64];
    snprintf(b, sizeof b, "%s.dx", p);
    expect("dx", g->dx, b, 1e-5);
    snprintf(b, sizeof b, "%s.ggout", p);
    expect("ggout", g->ggout, b, 1e-5);
    snprintf(b, sizeof b, "%s.ggin", p);
    expect("ggin", g->ggin, b, 1e-5);
    if (nweights > 0) {
        snprintf(b, sizeof b, "%s.g0", p);
        expect("dweight", g->g0, b, 1e-5);
    }
    if (nweights > 1) {
        snprintf(b, sizeof b, "%s.g1", p);
        expect("dbias", g->g1, b, 1e-5);
    }
    free(g->dx), free(g->ggout), free(g->ggin), free(g->g0), free(g->g1);
}

static void linear_against_torch(void **s)
{
    (void)s;
    struct got g = got_for("linear");
    const float *x = val("linear.x"), *w = val("linear.p0"), *dy = val("linear.dy");
    gc_linear_backward(g.dx, NULL, NULL, dy, x, w, 3, 5, 4, 0);
    gc_linear_backward2(g.ggout, g.g0, val("linear.v"), dy, w, 3, 5, 4);
    expect_layer("linear", &g, 1);
}

static void conv_against_torch(void **s)
{
    (void)s;
    struct gc_error err = {0};
    struct gc_conv L;
    assert_int_equal(gc_conv2d_init(&L, 2, 2, 6, 5, 3, 4, 2, 1, &err), 0);
    float *ws = lc_zeros(gc_conv_workspace(&L));
    struct got g = got_for("conv2d");
    const float *x = val("conv2d.x"), *w = val("conv2d.p0"), *dy = val("conv2d.dy");
    gc_conv2d_backward(&L, 2, g.dx, 1, NULL, NULL, dy, x, w, ws);
    gc_conv2d_backward2(&L, 2, g.ggout, g.g0, val("conv2d.v"), dy, w, ws);
    expect_layer("conv2d", &g, 1);
    free(ws);

    assert_int_equal(gc_convt2d_init(&L, 2, 3, 3, 4, 2, 4, 2, 1, &err), 0);
    ws = lc_zeros(gc_conv_workspace(&L));
    g = got_for("convt2d");
    x = val("convt2d.x"), w = val("convt2d.p0"), dy = val("convt2d.dy");
    gc_convt2d_backward(&L, 2, g.dx, 1, NULL, NULL, dy, x, w, ws);
    gc_convt2d_backward2(&L, 2, g.ggout, g.g0, val("convt2d.v"), dy, w, ws);
    expect_layer("convt2d", &g, 1);
    free(ws);
}

static void batchnorm_train(const char *p, int n, int c, int sp)
{
    struct got g = got_for(p);
    const float *x = val("%s.x", p), *gamma = val("%s.p0", p), *beta = val("%s.p1", p);
    const float *dy = val("%s.dy", p);
    float *y = lc_zeros((size_t)n * c * sp), *mean = lc_zeros(c), *inv = lc_zeros(c);
    gc_batchnorm_forward(y, x, gamma, beta, NULL, NULL, mean, inv, n, c, sp, 1e-5f, 0.1f, 1, 0, c);
    gc_batchnorm_backward(g.dx, 1, NULL, NULL, dy, x, gamma, mean, inv, n, c, sp, 0, c);
    gc_batchnorm_backward2(g.ggout, g.ggin, g.g0, val("%s.v", p), dy, x, gamma, mean, inv, n, c, sp,
                           0, c);
    expect_layer(p, &g, 2); /* dP/dbeta is 0: g1 stays zero */
    free(y), free(mean), free(inv);
}

static void batchnorm_against_torch(void **s)
{
    (void)s;
    batchnorm_train("bn1d", 5, 3, 1);
    batchnorm_train("bn2d", 3, 2, 12);
    struct got g = got_for("bn_eval");
    const float *gamma = val("bn_eval.p0"), *rvar = val("bn_eval.rvar"), *dy = val("bn_eval.dy");
    for (int i = 0; i < 3; i++) /* the eval backward: a fixed scale per channel */
        for (int ch = 0; ch < 2; ch++)
            for (int j = 0; j < 6; j++) {
                size_t o = ((size_t)i * 2 + ch) * 6 + j;
                g.dx[o] = (float)(dy[o] * gamma[ch] / sqrt((double)rvar[ch] + 1e-5));
            }
    gc_batchnorm_eval_backward2(g.ggout, g.g0, val("bn_eval.v"), dy, gamma, rvar, 1e-5f, 3, 2, 6, 0,
                                2);
    expect_layer("bn_eval", &g, 2);
}

static void activations_against_torch(void **s)
{
    (void)s;
    const size_t n = 24;
    struct got g = got_for("leaky");
    gc_leaky_relu_backward(g.dx, 1, val("leaky.dy"), val("leaky.x"), n, 0.2f);
    gc_leaky_relu_backward(g.ggout, 1, val("leaky.v"), val("leaky.x"), n, 0.2f);
    expect_layer("leaky", &g, 0);
    const char *names[2] = {"tanh", "sigmoid"};
    for (int k = 0; k < 2; k++) {
        g = got_for(names[k]);
        float *y = lc_zeros(n);
        const float *x = val("%s.x", names[k]), *dy = val("%s.dy", names[k]);
        const float *v = val("%s.v", names[k]);
        if (k == 0) {
            gc_tanh_forward(y, x, n);
            gc_tanh_backward(g.dx, 1, dy, y, n);
            gc_tanh_backward2(g.ggout, g.ggin, v, dy, y, n);
        } else {
            gc_sigmoid_forward(y, x, n);
            gc_sigmoid_backward(g.dx, 1, dy, y, n);
            gc_sigmoid_backward2(g.ggout, g.ggin, v, dy, y, n);
        }
        expect_layer(names[k], &g, 0);
        free(y);
    }
}

/* ---- discriminators ------------------------------------------------------------------ */

/* The fixture's D as a model: its parameters in ganctl's order are PyTorch's. */
static struct gc_model *fixture_d(const char *p, int bn, int sn)
{
    struct gc_error err = {0};
    struct gc_model *m = mc_small_d(4, bn, sn, 1);
    assert_int_equal(gc_model_grad2_enable(m, &err), 0);
    size_t np, off = 0;
    float *params = gc_model_params(m, &np);
    for (int i = 0;; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s.p%d", p, i);
        int found = 0;
        for (int k = 0; k < nrecs; k++)
            found |= strcmp(recs[k].name, name) == 0;
        if (!found)
            break;
        memcpy(params + off, rec(name)->data, count(name) * sizeof(float));
        off += count(name);
    }
    assert_int_equal(off, np);
    return m;
}

/* Sets the u and v of the normalized layers (conv, conv, linear) to the fixture's. */
static void set_uv(struct gc_model *m, const char *p, const char *suffix)
{
    const char *names[3] = {"c1", "c2", "fc"};
    int layers[3] = {0, 2, 4};
    for (int k = 0; k < 3; k++) {
        int rows, cols;
        float *u = gc_model_layer_sn_u(m, layers[k], &rows);
        float *v = gc_model_layer_sn_v(m, layers[k], &cols);
        assert_non_null(u);
        memcpy(u, val("%s.%s.u%s", p, names[k], suffix), (size_t)rows * sizeof *u);
        memcpy(v, val("%s.%s.v%s", p, names[k], suffix), (size_t)cols * sizeof *v);
    }
}

static void expect_uv(struct gc_model *m, const char *p, const char *suffix)
{
    const char *names[3] = {"c1", "c2", "fc"};
    int layers[3] = {0, 2, 4};
    for (int k = 0; k < 3; k++) {
        char b[64];
        snprintf(b, sizeof b, "%s.%s.u%s", p, names[k], suffix);
        expect("u", gc_model_layer_sn_u(m, layers[k], NULL), b, 1e-5);
        snprintf(b, sizeof b, "%s.%s.v%s", p, names[k], suffix);
        expect("v", gc_model_layer_sn_v(m, layers[k], NULL), b, 1e-5);
    }
}

/* R1 (gamma 10) on the real batch, then WGAN-GP (lambda 10) at the interpolates: the
 * penalties' values and parameter gradients against PyTorch's. */
static void penalties(const char *p, int bn, int sn)
{
    struct gc_model *m = fixture_d(p, bn, sn);
    if (sn)
        set_uv(m, p, "");
    const int n = 4, ds = 64;
    float ones[4] = {1, 1, 1, 1}, g[4 * 64], v[4 * 64], x[4 * 64];
    size_t np;
    char b[64];

    /* R1 = 5 mean |g|^2, dP/dg = 10 g / n */
    gc_model_zero_grad(m);
    gc_model_forward(m, val("%s.real", p), n, 1);
    if (sn)
        expect_uv(m, p, "1");
    memset(g, 0, sizeof g);
    gc_model_input_grad(m, ones, g);
    double r1 = 0.0;
    for (int i = 0; i < n * ds; i++) {
        r1 += 5.0 * g[i] * g[i] / n;
        v[i] = 10.0f * g[i] / n;
    }
    gc_model_input_grad_backward(m, v);
    assert_float_equal(r1, val("%s.r1", p)[0], 1e-4 * fabs(val("%s.r1", p)[0]));
    float *grads = gc_model_grads(m, &np);
    size_t off = 0;
    for (int i = 0; off < np; i++) {
        snprintf(b, sizeof b, "%s.r1.g%d", p, i);
        expect("r1 gradient", grads + off, b, 2e-4);
        off += count(b);
    }

    /* WGAN-GP = 10 mean (|g| - 1)^2 */
    const float *real = val("%s.real", p), *fake = val("%s.fake", p), *eps = val("%s.eps", p);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < ds; j++)
            x[i * ds + j] = eps[i] * real[i * ds + j] + (1.0f - eps[i]) * fake[i * ds + j];
    gc_model_zero_grad(m);
    gc_model_forward(m, x, n, 1);
    memset(g, 0, sizeof g);
    gc_model_input_grad(m, ones, g);
    double gp = 0.0;
    for (int i = 0; i < n; i++) {
        double sq = 0.0;
        for (int j = 0; j < ds; j++)
            sq += (double)g[i * ds + j] * g[i * ds + j];
        double norm = sqrt(sq);
        gp += 10.0 * (norm - 1.0) * (norm - 1.0) / n;
        for (int j = 0; j < ds; j++)
            v[i * ds + j] = (float)(20.0 * (norm - 1.0) / (norm * n)) * g[i * ds + j];
    }
    gc_model_input_grad_backward(m, v);
    assert_float_equal(gp, val("%s.gp", p)[0], 1e-4 * fabs(val("%s.gp", p)[0]));
    off = 0;
    for (int i = 0; off < np; i++) {
        snprintf(b, sizeof b, "%s.gp.g%d", p, i);
        expect("wgan-gp gradient", grads + off, b, 2e-4);
        off += count(b);
    }
    gc_model_destroy(m);
}

static void penalties_with_batch_norm(void **s)
{
    (void)s;
    penalties("d_bn", 1, 0);
}

static void penalties_with_spectral_norm(void **s)
{
    (void)s;
    penalties("d_sn", 0, 1);
}

/* ---- spectral norm ----------------------------------------------------------------- */

static void spectral_norm_against_torch(void **s)
{
    (void)s;
    const char *names[2] = {"sn_linear", "sn_conv"};
    for (int k = 0; k < 2; k++) {
        const char *p = names[k];
        struct gc_error err = {0};
        struct gc_model *m =
            k == 0 ? gc_model_create(2, 7, 1, 1, &err) : gc_model_create(2, 2, 5, 5, &err);
        assert_non_null(m);
        if (k == 0)
            assert_int_equal(gc_model_add_linear(m, 5, 1, &err), 0);
        else
            assert_int_equal(gc_model_add_conv2d(m, 3, 3, 1, 0, 1, &err), 0);
        assert_int_equal(gc_model_spectral_norm(m, &err), 0);
        struct gc_rng rng;
        gc_rng_init(&rng, 1, 0);
        assert_int_equal(gc_model_finalize(m, GC_INIT_DEFAULT, &rng, &err), 0);
        size_t nw, nb;
        float *w = gc_model_layer_weight(m, 0, &nw);
        assert_int_equal(nw, count(k ? "sn_conv.w" : "sn_linear.w"));
        memcpy(w, val("%s.w", p), nw * sizeof *w);
        float *bias = gc_model_layer_bias(m, 0, &nb);
        memset(bias, 0, nb * sizeof *bias);
        int rows, cols;
        float *u = gc_model_layer_sn_u(m, 0, &rows), *v = gc_model_layer_sn_v(m, 0, &cols);
        assert_true(rows == 5 - 2 * k && cols == (k ? 18 : 7));
        memcpy(u, val("%s.u0", p), (size_t)rows * sizeof *u);
        memcpy(v, val("%s.v0", p), (size_t)cols * sizeof *v);
        gc_model_zero_grad(m);
        gc_model_forward(m, val("%s.x", p), 2, 1);
        char b[64];
        snprintf(b, sizeof b, "%s.u1", p);
        expect("u", gc_model_layer_sn_u(m, 0, NULL), b, 1e-5);
        snprintf(b, sizeof b, "%s.v1", p);
        expect("v", gc_model_layer_sn_v(m, 0, NULL), b, 1e-5);
        assert_float_equal(gc_model_layer_sigma(m, 0), val("%s.sigma", p)[0], 1e-5);
        gc_model_backward(m, val("%s.r", p), NULL);
        snprintf(b, sizeof b, "%s.gw", p);
        expect("raw weight gradient", gc_model_layer_dweight(m, 0, NULL), b, 1e-4);
        gc_model_destroy(m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(linear_against_torch),
        cmocka_unit_test(conv_against_torch),
        cmocka_unit_test(batchnorm_against_torch),
        cmocka_unit_test(activations_against_torch),
        cmocka_unit_test(penalties_with_batch_norm),
        cmocka_unit_test(penalties_with_spectral_norm),
        cmocka_unit_test(spectral_norm_against_torch),
    };
    return cmocka_run_group_tests(tests, load_fixture, free_fixture);
}
