/* test_cond.c — class conditioning (model.conditional): the projection term against a
 * double reference and finite differences; D's gradients through each conditioning
 * (its parameters, the class embedding's, the input's) against finite differences of
 * the engine's own forward; checkpoints of conditional runs that continue bit for bit
 * with the tricks on; the class-per-row sample grid; what is refused. Small models on a
 * tiny labelled idx set, so that the file also runs under valgrind. The training
 * results (class_accuracy) are in test_gan.c (ring8) and test_classifier.c
 * (Fashion-MNIST). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/blas.h"
#include "core/data.h"
#include "core/gan.h"
#include "core/image.h"
#include "core/model.h"
#include "core/projection.h"
#include "tests/unit/core/layer_check.h"
#include "tests/unit/core/png_fixture.h"

#define SIDE 28
#define COUNT 48
#define CLASSES 3

static char dir[512];
static char images_path[600], labels_path[600];

/* A tiny labelled idx set: COUNT images of SIDE x SIDE, each class a bright square in
 * its own corner over noise, labels 2, 5 and 9 (the numbers are not 0..n-1 on purpose). */
static const int labels_of[CLASSES] = {2, 5, 9};

static void write_idx_set(void)
{
    size_t ilen = 16 + (size_t)COUNT * SIDE * SIDE, llen = 8 + COUNT;
    uint8_t *img = calloc(1, ilen), *lab = calloc(1, llen);
    const uint8_t ih[16] = {0, 0, 8, 3, 0, 0, 0, COUNT, 0, 0, 0, SIDE, 0, 0, 0, SIDE};
    const uint8_t lh[8] = {0, 0, 8, 1, 0, 0, 0, COUNT};
    memcpy(img, ih, 16);
    memcpy(lab, lh, 8);
    struct gc_rng r;
    gc_rng_init(&r, 3, 0);
    for (int i = 0; i < COUNT; i++) {
        int k = i % CLASSES;
        uint8_t *p = img + 16 + (size_t)i * SIDE * SIDE;
        for (int j = 0; j < SIDE * SIDE; j++)
            p[j] = (uint8_t)gc_rng_below(&r, 40);
        for (int y = 0; y < 10; y++)
            for (int x = 0; x < 10; x++)
                p[(y + (k == 1) * 18) * SIDE + x + (k == 2) * 18] = 250;
        lab[8 + i] = (uint8_t)labels_of[k];
    }
    fx_save(dir, "img-idx3-ubyte", img, ilen);
    fx_save(dir, "lab-idx1-ubyte", lab, llen);
    free(img);
    free(lab);
}

static int setup(void **state)
{
    (void)state;
    fx_tmpdir(dir, sizeof dir);
    snprintf(images_path, sizeof images_path, "%s/img-idx3-ubyte", dir);
    snprintf(labels_path, sizeof labels_path, "%s/lab-idx1-ubyte", dir);
    write_idx_set();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fx_rmdir(dir);
    return 0;
}

static struct gc_spec cond_spec(enum gc_arch arch, enum gc_conditioning cond)
{
    struct gc_spec s;
    gc_spec_defaults(&s, GC_DATA_IDX, GC_LOSS_NONSATURATING);
    snprintf(s.dataset.path, sizeof s.dataset.path, "%s", images_path);
    snprintf(s.dataset.labels_path, sizeof s.dataset.labels_path, "%s", labels_path);
    s.model.arch = arch;
    s.model.conditional = 1;
    s.model.conditioning = cond;
    s.model.z_dim = 6;
    s.model.g_width = 4;
    s.model.d_width = 4;
    s.model.hidden = 8;
    s.model.layers = 1;
    s.train.batch_size = 4;
    s.train.steps = 6;
    s.every = (struct gc_every_spec){0, 0, 0, 0};
    return s;
}

static struct gc_trainer *make(const struct gc_spec *s)
{
    struct gc_error err = {0};
    struct gc_field_errors fe;
    if (gc_spec_check(s, &fe))
        fail_msg("spec: %s: %s", fe.e[0].field, fe.e[0].message);
    struct gc_trainer_opts o = {.threads = 1, .cache_dir = NULL, .load_data = 1};
    struct gc_trainer *t = gc_trainer_create(s, &o, &err);
    if (!t)
        fail_msg("create: %s", err.msg);
    return t;
}

/* ---- the projection term ------------------------------------------------------------- */

static void projection_matches_reference_and_fd(void **state)
{
    (void)state;
    const int shapes[2][3] = {{2, 7, 1}, {1, 3, 5}}; /* (o, c, p): a linear head, a patch map */
    for (int s = 0; s < 2; s++) {
        int n = 3, o = shapes[s][0], c = shapes[s][1], p = shapes[s][2];
        struct gc_rng r;
        gc_rng_init(&r, 11, (uint64_t)s);
        size_t nf = (size_t)n * c * p, ne = (size_t)n * o * c, no = (size_t)n * o * p;
        float *feat = lc_random(&r, nf), *emb = lc_random(&r, ne), *base = lc_random(&r, no);
        float *out = lc_alloc(no), *w = lc_random(&r, no);
        float *dfeat = lc_zeros(nf), *demb = lc_zeros(ne);
        double *want = malloc(no * sizeof(double)), *gf = malloc(nf * sizeof(double)),
               *ge = malloc(ne * sizeof(double));
        memcpy(out, base, no * sizeof(float));
        gc_projection_forward(out, feat, emb, n, o, c, p);
        for (int i = 0; i < n; i++)
            for (int k = 0; k < o; k++)
                for (int q = 0; q < p; q++) {
                    double v = base[((size_t)i * o + k) * p + q];
                    for (int j = 0; j < c; j++)
                        v += (double)emb[((size_t)i * o + k) * c + j] *
                             feat[((size_t)i * c + j) * p + q];
                    want[((size_t)i * o + k) * p + q] = v;
                }
        assert_int_equal(lc_mismatches("projection out", out, want, no, 1e-5, 1e-5), 0);
        /* backward of sum(out * w) against central differences of the forward */
        gc_projection_backward(dfeat, demb, w, feat, emb, n, o, c, p);
        float *vars[2] = {feat, emb};
        double *grads[2] = {gf, ge};
        size_t sizes[2] = {nf, ne};
        for (int v = 0; v < 2; v++)
            for (size_t k = 0; k < sizes[v]; k++) {
                float keep = vars[v][k];
                double l[2];
                for (int sgn = 0; sgn < 2; sgn++) {
                    vars[v][k] = keep + (sgn ? -1.0f : 1.0f) * (float)LC_FD_STEP;
                    memcpy(out, base, no * sizeof(float));
                    gc_projection_forward(out, feat, emb, n, o, c, p);
                    l[sgn] = 0;
                    for (size_t m = 0; m < no; m++)
                        l[sgn] += (double)out[m] * w[m];
                }
                vars[v][k] = keep;
                grads[v][k] = (l[0] - l[1]) / (2 * LC_FD_STEP);
            }
        assert_int_equal(lc_mismatches("dfeat", dfeat, gf, nf, 1e-3, 1e-3), 0);
        assert_int_equal(lc_mismatches("demb", demb, ge, ne, 1e-3, 1e-3), 0);
        free(feat), free(emb), free(base), free(out), free(w), free(dfeat), free(demb);
        free(want), free(gf), free(ge);
    }
}

/* ---- D's gradients through the engine ------------------------------------------------ */

/* sum(logits * w) in double for the trainer's D on (x, y). */
static double d_loss(struct gc_trainer *t, const float *x, const int *y, const float *w, int no)
{
    const float *out = gc_trainer_test_d_forward(t, x, y);
    double l = 0;
    for (int i = 0; i < no; i++)
        l += (double)out[i] * w[i];
    return l;
}

/* Central differences of sum(logits * w) at up to `count` coordinates of v (n floats)
 * spread over it, against grad; returns the mismatches. D's leaky ReLUs, coupled
 * through batch norm, make the loss piecewise linear with many kinks close together, so
 * as in test_model.c a coordinate passes when the difference at one of a few shrinking
 * steps (the step float really took) agrees, or one side of it does (a kink within the
 * step), and few may need the one side. */
static int fd_check(const char *what, struct gc_trainer *t, float *v, size_t n, const float *grad,
                    const float *x, const int *y, const float *w, int no, int count)
{
    int bad = 0, kinks = 0;
    if ((size_t)count > n)
        count = (int)n;
    const double l0 = d_loss(t, x, y, w, no);
    for (int k = 0; k < count; k++) {
        size_t i = (size_t)k * n / (size_t)count;
        float keep = v[i];
        double num = 0.0, a = grad[i];
        int ok = 0;
        double side[2] = {0, 0};
        for (double h = 1e-3; h > 1e-5 && !ok; h /= 4) {
            v[i] = (float)(keep + h);
            double hp = (double)v[i] - keep, lp = d_loss(t, x, y, w, no);
            v[i] = (float)(keep - h);
            double hm = keep - (double)v[i], lm = d_loss(t, x, y, w, no);
            v[i] = keep;
            num = (lp - lm) / (hp + hm);
            ok = fabs(a - num) <= 2e-3 + 2e-2 * fabs(num);
            side[0] = (lp - l0) / hp;
            side[1] = (l0 - lm) / hm;
        }
        /* a kink inside the smallest step: one side of it is one linear piece */
        if (!ok && (fabs(a - side[0]) <= 2e-3 + 5e-2 * fabs(a) ||
                    fabs(a - side[1]) <= 2e-3 + 5e-2 * fabs(a))) {
            ok = 1;
            kinks++;
        }
        if (!ok) {
            if (!bad)
                fprintf(stderr, "%s[%zu]: backward %.6g, differences %.6g\n", what, i,
                        (double)grad[i], num);
            bad++;
        }
    }
    if (kinks > 2 + count / 20) {
        fprintf(stderr, "%s: %d of %d agree on one side only\n", what, kinks, count);
        bad++;
    }
    return bad;
}

static void check_d_gradients(const struct gc_spec *s)
{
    struct gc_trainer *t = make(s);
    struct gc_model *d = gc_trainer_test_model(t, GC_TEST_D);
    struct gc_model *emb = gc_trainer_test_model(t, GC_TEST_EMB);
    int B = s->train.batch_size, no = B * (int)gc_model_out_size(d);
    size_t per = (size_t)SIDE * SIDE, nx = (size_t)B * per;
    struct gc_rng r;
    gc_rng_init(&r, 5, 1);
    float *x = lc_random(&r, nx), *w = lc_random(&r, (size_t)no), *dx = lc_zeros(nx);
    int y[4] = {0, 2, 1, 2};
    gc_trainer_test_d_forward(t, x, y);
    gc_trainer_test_d_backward(t, w, dx);
    size_t np, ng;
    float *p = gc_model_params(d, &np);
    float *g = malloc(np * sizeof(float));
    memcpy(g, gc_model_grads(d, &ng), np * sizeof(float));
    assert_int_equal(fd_check("D", t, p, np, g, x, y, w, no, 30), 0);
    if (emb) {
        size_t ne;
        float *pe = gc_model_params(emb, &ne);
        float *ge = malloc(ne * sizeof(float));
        memcpy(ge, gc_model_grads(emb, &ng), ne * sizeof(float));
        /* the embedding is (nout x pc) x classes: every class of y has a column */
        assert_int_equal(fd_check("embedding", t, pe, ne, ge, x, y, w, no, 30), 0);
        free(ge);
    } else {
        assert_int_equal(s->model.conditioning, GC_COND_CONCAT);
    }
    assert_int_equal(fd_check("x", t, x, nx, dx, x, y, w, no, 30), 0);
    /* the class changes the logits */
    const float *out = gc_trainer_test_d_forward(t, x, y);
    float first = out[0];
    int y2[4] = {1, 2, 1, 2};
    out = gc_trainer_test_d_forward(t, x, y2);
    assert_true(out[0] != first);
    free(x), free(w), free(dx), free(g);
    gc_trainer_destroy(t);
}

static void d_gradients_match_finite_differences(void **state)
{
    (void)state;
    struct {
        enum gc_arch arch;
        enum gc_conditioning cond;
        int patch, generators;
    } cases[] = {
        {GC_ARCH_MLP, GC_COND_PROJECTION, 0, 1},   {GC_ARCH_MLP, GC_COND_CONCAT, 0, 1},
        {GC_ARCH_DCGAN, GC_COND_PROJECTION, 0, 1}, {GC_ARCH_DCGAN, GC_COND_CONCAT, 0, 1},
        {GC_ARCH_DCGAN, GC_COND_PROJECTION, 1, 1}, /* one embedding per patch position */
        {GC_ARCH_DCGAN, GC_COND_PROJECTION, 0, 3}, /* MAD-GAN: one per output */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct gc_spec s = cond_spec(cases[i].arch, cases[i].cond);
        s.model.patch = cases[i].patch;
        s.tricks.generators = cases[i].generators;
        /* batch norm couples every sample's leaky ReLUs: kinks everywhere within a
         * difference step. Its backward has its own checks (test_batchnorm.c,
         * test_model.c); here it would only blur what is under test. */
        s.model.batch_norm = 0;
        print_message("%s %s%s%s\n", gc_arch_name(cases[i].arch),
                      gc_conditioning_name(cases[i].cond), cases[i].patch ? " patch" : "",
                      cases[i].generators > 1 ? " mad-gan" : "");
        check_d_gradients(&s);
    }
}

/* ---- checkpoints ----------------------------------------------------------------------- */

struct rec {
    uint8_t *ckpt;
    size_t len;
    int64_t step, pause_at, polls;
};

static int rec_ckpt(void *ctx, int64_t step, const uint8_t *b, size_t len, struct gc_error *err)
{
    (void)err;
    struct rec *r = ctx;
    free(r->ckpt);
    r->ckpt = malloc(len);
    memcpy(r->ckpt, b, len);
    r->len = len;
    r->step = step;
    return 0;
}

/* Asks to pause before the pause_at-th step of this run (polls counts the steps). */
static int rec_control(void *ctx)
{
    struct rec *r = ctx;
    return r->pause_at && ++r->polls >= r->pause_at ? GC_STOP_PAUSE : GC_CONTINUE;
}

/* The spec trained straight through, and paused at step 3, restored into a fresh
 * trainer and finished: the same final checkpoint, byte for byte. */
static void resume_matches(const struct gc_spec *s)
{
    struct gc_error err = {0};
    struct rec a = {0}, b = {0};
    struct gc_train_hooks ha = {.ctx = &a, .checkpoint = rec_ckpt};
    struct gc_trainer *t = make(s);
    assert_int_equal(gc_trainer_run(t, &ha, &err), 0);
    gc_trainer_destroy(t);
    b.pause_at = 4;
    struct gc_train_hooks hb = {.ctx = &b, .checkpoint = rec_ckpt, .control = rec_control};
    t = make(s);
    b.step = 0;
    assert_int_equal(gc_trainer_run(t, &hb, &err), GC_ESTOPPED);
    gc_trainer_destroy(t);
    assert_true(b.step >= 1 && b.step < s->train.steps);
    t = make(s);
    if (gc_trainer_restore(t, b.ckpt, b.len, &err))
        fail_msg("restore: %s", err.msg);
    b.pause_at = 0;
    assert_int_equal(gc_trainer_run(t, &hb, &err), 0);
    gc_trainer_destroy(t);
    assert_int_equal(a.step, s->train.steps);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.ckpt, b.ckpt, a.len);
    free(a.ckpt);
    free(b.ckpt);
}

static void checkpoints_resume_bit_for_bit(void **state)
{
    (void)state;
    /* projection with feature matching (by class), the weight average, label smoothing
     * and the rate schedule; concat with the unrolled look-ahead (its embedding copy
     * comes along) and MAD-GAN; the Wasserstein critic with clipping */
    struct gc_spec s = cond_spec(GC_ARCH_DCGAN, GC_COND_PROJECTION);
    s.every.checkpoint = 100;
    s.tricks.feature_matching = 1;
    s.tricks.ema = 0.9f;
    s.tricks.smoothing = GC_SMOOTH_RANGE;
    s.tricks.smooth_lo = 0.8f;
    s.tricks.smooth_hi = 1.0f;
    s.train.lr_decay = (struct gc_lr_decay_spec){1, 0.3f, 0.1f, GC_DECAY_LINEAR};
    resume_matches(&s);
    s = cond_spec(GC_ARCH_DCGAN, GC_COND_CONCAT);
    s.every.checkpoint = 100;
    s.tricks.unrolled_steps = 2;
    resume_matches(&s);
    s = cond_spec(GC_ARCH_MLP, GC_COND_PROJECTION);
    s.every.checkpoint = 100;
    s.tricks.unrolled_steps = 1;
    resume_matches(&s);
    s = cond_spec(GC_ARCH_MLP, GC_COND_CONCAT);
    s.every.checkpoint = 100;
    s.tricks.generators = 2;
    resume_matches(&s);
    gc_spec_defaults(&s, GC_DATA_IDX, GC_LOSS_WASSERSTEIN);
    struct gc_spec w = cond_spec(GC_ARCH_DCGAN, GC_COND_PROJECTION);
    w.loss = GC_LOSS_WASSERSTEIN;
    w.opt_g = w.opt_d = s.opt_d;
    w.train.d_steps = 2;
    w.tricks.weight_clip = 0.01f;
    w.every.checkpoint = 100;
    resume_matches(&w);
}

static void checkpoint_refuses_other_classes_and_conditioning(void **state)
{
    (void)state;
    struct gc_spec s = cond_spec(GC_ARCH_MLP, GC_COND_PROJECTION);
    s.train.steps = 1;
    s.every.checkpoint = 1;
    struct rec a = {0};
    struct gc_train_hooks h = {.ctx = &a, .checkpoint = rec_ckpt};
    struct gc_error err = {0};
    struct gc_trainer *t = make(&s);
    assert_int_equal(gc_trainer_run(t, &h, &err), 0);
    gc_trainer_destroy(t);

    /* the same run restores; the other conditioning, or unconditional, does not */
    t = make(&s);
    assert_int_equal(gc_trainer_restore(t, a.ckpt, a.len, &err), 0);
    gc_trainer_destroy(t);
    struct gc_spec o = s;
    o.model.conditioning = GC_COND_CONCAT;
    t = make(&o);
    assert_int_equal(gc_trainer_restore(t, a.ckpt, a.len, &err), GC_EINVAL);
    gc_trainer_destroy(t);
    o = s;
    o.model.conditional = 0;
    t = make(&o);
    assert_int_equal(gc_trainer_restore(t, a.ckpt, a.len, &err), GC_EINVAL);
    gc_trainer_destroy(t);

    /* the same number of classes under other labels: the data changed */
    uint8_t lab[8 + COUNT] = {0, 0, 8, 1, 0, 0, 0, COUNT};
    for (int i = 0; i < COUNT; i++)
        lab[8 + i] = (uint8_t)(1 + i % CLASSES);
    fx_save(dir, "other-idx1-ubyte", lab, sizeof lab);
    o = s;
    snprintf(o.dataset.labels_path, sizeof o.dataset.labels_path, "%s/other-idx1-ubyte", dir);
    t = make(&o);
    assert_int_equal(gc_trainer_restore(t, a.ckpt, a.len, &err), GC_EINVAL);
    assert_non_null(strstr(err.msg, "classes changed"));
    gc_trainer_destroy(t);
    free(a.ckpt);
}

/* ---- generation and the sample grid ---------------------------------------------------- */

/* What a short run reported: its last sample grid, its evaluations with an swd. */
struct reported {
    struct gc_picture pic;
    int swd;
};

static int keep_png(void *ctx, int64_t step, const uint8_t *png, size_t len, struct gc_error *err)
{
    (void)step, (void)err;
    struct reported *r = ctx;
    gc_picture_fini(&r->pic);
    assert_int_equal(gc_png_decode(png, len, &r->pic, NULL), 0);
    return 0;
}

static int count_eval(void *ctx, int64_t step, const struct gc_metric *m, int n,
                      struct gc_error *err)
{
    (void)step, (void)err;
    struct reported *r = ctx;
    for (int i = 0; i < n; i++) {
        assert_string_not_equal(m[i].name, "class_accuracy"); /* no classifier for idx */
        r->swd += strcmp(m[i].name, "swd") == 0 && isfinite(m[i].value);
    }
    return 0;
}

static void grid_has_a_row_per_class(void **state)
{
    (void)state;
    struct gc_spec s = cond_spec(GC_ARCH_DCGAN, GC_COND_PROJECTION);
    s.train.steps = 2;
    s.every.sample = 2;
    s.every.eval = 2; /* the evaluation asks for the real side's classes: swd alone here */
    struct reported got = {{0}, 0};
    struct gc_picture pic;
    struct gc_train_hooks h = {.ctx = &got, .sample = keep_png, .eval = count_eval};
    struct gc_error err = {0};
    struct gc_trainer *t = make(&s);
    assert_int_equal(gc_trainer_run(t, &h, &err), 0);
    assert_int_equal(got.swd, 1);
    pic = got.pic;
    /* 8 columns, one row per class, 2-pixel gaps around cells */
    assert_int_equal(pic.w, 8 * (SIDE + 2) + 2);
    assert_int_equal(pic.h, CLASSES * (SIDE + 2) + 2);
    gc_picture_fini(&pic);

    const struct gc_class_list *cl = gc_trainer_classes(t);
    assert_non_null(cl);
    assert_int_equal(cl->n, CLASSES);
    for (int k = 0; k < CLASSES; k++) {
        assert_int_equal(cl->c[k].label, labels_of[k]);
        char name[8];
        snprintf(name, sizeof name, "%d", labels_of[k]);
        assert_string_equal(cl->c[k].name, name);
    }

    /* with cols, a row of the grid of class k is n samples of class k alone, and each
     * column keeps its noise across the rows: a class changes the image (to rounding:
     * a batch of another size may sum in another order) */
    size_t per = (size_t)SIDE * SIDE;
    float *grid = malloc(2 * 4 * per * sizeof(float)), *row = malloc(4 * per * sizeof(float));
    int two[8] = {1, 1, 1, 1, 2, 2, 2, 2}, one[4] = {2, 2, 2, 2};
    assert_int_equal(gc_trainer_generate_classes(t, 8, 7, two, 4, grid, &err), 0);
    assert_int_equal(gc_trainer_generate_classes(t, 4, 7, one, 4, row, &err), 0);
    float worst = 0.0f, apart = 0.0f;
    for (size_t i = 0; i < 4 * per; i++) {
        worst = fmaxf(worst, fabsf(grid[4 * per + i] - row[i]));
        apart = fmaxf(apart, fabsf(grid[i] - row[i]));
    }
    assert_true(worst < 1e-5f);
    assert_true(apart > worst); /* the class weighs more than rounding, even untrained */
    /* NULL classes take them in turn */
    int turn[6] = {0, 1, 2, 0, 1, 2};
    float *a = malloc(6 * per * sizeof(float)), *b = malloc(6 * per * sizeof(float));
    assert_int_equal(gc_trainer_generate(t, 6, 3, a, &err), 0);
    assert_int_equal(gc_trainer_generate_classes(t, 6, 3, turn, 0, b, &err), 0);
    assert_memory_equal(a, b, 6 * per * sizeof(float));
    /* a place out of range */
    int bad[1] = {CLASSES};
    assert_int_equal(gc_trainer_generate_classes(t, 1, 3, bad, 0, a, &err), GC_EINVAL);
    gc_trainer_destroy(t);

    /* an unconditional run takes no classes */
    s.model.conditional = 0;
    t = make(&s);
    assert_null(gc_trainer_classes(t));
    assert_int_equal(gc_trainer_generate_classes(t, 1, 3, one, 0, a, &err), GC_EINVAL);
    gc_trainer_destroy(t);
    free(grid), free(row), free(a), free(b);
}

/* ---- what is refused -------------------------------------------------------------------- */

static void data_without_labels_is_refused(void **state)
{
    (void)state;
    struct gc_error err = {0};
    struct gc_trainer_opts o = {.threads = 1, .load_data = 1};
    /* a png-dir of PNGs at its top level has no classes */
    char png_dir[600];
    snprintf(png_dir, sizeof png_dir, "%s/flat", dir);
    assert_int_equal(mkdir(png_dir, 0700), 0);
    uint16_t px[16 * 16] = {0};
    size_t len;
    uint8_t *png = fx_png(16, 16, 0, 8, px, NULL, 0, NULL, &len);
    fx_save(png_dir, "a.png", png, len);
    free(png);
    struct gc_spec s;
    gc_spec_defaults(&s, GC_DATA_PNG_DIR, GC_LOSS_NONSATURATING);
    snprintf(s.dataset.path, sizeof s.dataset.path, "%s", png_dir);
    s.model.conditional = 1;
    assert_int_equal(gc_spec_check(&s, NULL), 0);
    assert_null(gc_trainer_create(&s, &o, &err));
    assert_int_equal(err.code, GC_EINVAL);
    assert_non_null(strstr(err.msg, "model.conditional"));
    assert_non_null(strstr(err.msg, "top level"));
    fx_rmdir(png_dir);
    rmdir(png_dir);
}

int main(void)
{
    gc_blas_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(projection_matches_reference_and_fd),
        cmocka_unit_test(d_gradients_match_finite_differences),
        cmocka_unit_test(checkpoints_resume_bit_for_bit),
        cmocka_unit_test(checkpoint_refuses_other_classes_and_conditioning),
        cmocka_unit_test(grid_has_a_row_per_class),
        cmocka_unit_test(data_without_labels_is_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
