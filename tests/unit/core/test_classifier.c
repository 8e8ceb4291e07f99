/* test_classifier.c — the evaluation CNN, kept short for CI: a few seconds of training
 * on a subset must beat chance by far; features and probabilities have their shapes;
 * the cache round-trips, and a corrupt cache is retrained (on a tiny generated set, so
 * that path stays fast); a DCGAN run's fid, read through the cache, falls as it
 * trains; a conditional DCGAN draws the classes asked of it (class_accuracy). The full
 * training and its >= 90% figure live in bench/classifier_accuracy.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "core/blas.h"
#include "core/classifier.h"
#include "core/data.h"
#include "core/gan.h"
#include "core/image.h"
#include "tests/unit/core/png_fixture.h"
#include "tests/unit/core/sanitized.h"

#define CACHE_NAME "classifier-fashion-mnist-1x28x28-v1.bin"

static int have_fashion(void)
{
    struct stat st;
    return stat(GC_FASHION_MNIST_DIR "/train-images-idx3-ubyte.gz", &st) == 0 &&
           stat(GC_FASHION_MNIST_DIR "/t10k-images-idx3-ubyte.gz", &st) == 0;
}

static struct gc_dataset *open_split(const char *path, int test)
{
    struct gc_dataset_spec s;
    memset(&s, 0, sizeof(s));
    s.kind = GC_DATA_FASHION_MNIST;
    s.test_split = test;
    if (path)
        snprintf(s.path, sizeof(s.path), "%s", path);
    struct gc_error err = {0};
    struct gc_dataset *d = gc_dataset_open(&s, NULL, NULL, &err);
    if (!d)
        fail_msg("%s", err.msg);
    return d;
}

/* A classifier trained on `limit` images of train for `epochs` passes, on a pool of
 * as many threads as the machine has cores. */
static struct gc_classifier *train_subset(const struct gc_dataset *train, size_t limit, int epochs)
{
    struct gc_classifier_opts o;
    gc_classifier_default_opts(&o);
    o.train_limit = limit;
    o.epochs = epochs;
    o.threads = gc_cpu_count();
    struct gc_error err = {0};
    struct gc_classifier *c = gc_classifier_train(train, &o, &err);
    if (!c)
        fail_msg("%s", err.msg);
    return c;
}

/* Writes c's serialized bytes into a fresh folder (dir, n) under the name
 * gc_classifier_get looks for; returns the bytes (the caller frees them). */
static uint8_t *cache_in_tmpdir(const struct gc_classifier *c, char *dir, size_t n, size_t *len)
{
    uint8_t *bytes;
    struct gc_error err = {0};
    assert_int_equal(gc_classifier_serialize(c, &bytes, len, &err), 0);
    fx_tmpdir(dir, n);
    fx_save(dir, CACHE_NAME, bytes, *len);
    return bytes;
}

static void subset_beats_chance_and_caches(void **state)
{
    (void)state;
    if (!have_fashion())
        skip();
    struct gc_dataset *train = open_split(NULL, 0), *test = open_split(NULL, 1);
    struct gc_classifier *c = train_subset(train, 2000, 2);
    struct gc_error err = {0};
    /* accuracy on 2,000 test images spread over the split (the whole split is what
     * gc_classifier_accuracy does; it is checked on the tiny set below) */
    const size_t nt = 2000;
    float *xt = malloc(sizeof(float) * nt * 784);
    float *pt = malloc(sizeof(float) * nt * GC_CLASSIFIER_CLASSES);
    int *lt = malloc(sizeof(int) * nt);
    assert_int_equal(gc_dataset_get_spread(test, nt, xt, lt, &err), 0);
    assert_int_equal(gc_classifier_probs(c, xt, nt, pt, &err), 0);
    size_t right = 0;
    for (size_t i = 0; i < nt; i++) {
        int best = 0;
        for (int k = 1; k < GC_CLASSIFIER_CLASSES; k++)
            if (pt[i * GC_CLASSIFIER_CLASSES + k] > pt[i * GC_CLASSIFIER_CLASSES + best])
                best = k;
        right += best == lt[i];
    }
    double acc = (double)right / nt;
    print_message("subset classifier: %.1f%% on 2,000 test images\n", 100 * acc);
    assert_true(acc > 0.70); /* chance is 10% */
    free(xt);
    free(pt);
    free(lt);

    /* shapes and ranges of what the evaluation reads */
    const size_t n = 200;
    float *x = malloc(sizeof(float) * n * 784);
    float *f = malloc(sizeof(float) * n * GC_CLASSIFIER_FEATURES);
    float *p = malloc(sizeof(float) * n * GC_CLASSIFIER_CLASSES);
    float *p2 = malloc(sizeof(float) * n * GC_CLASSIFIER_CLASSES);
    assert_int_equal(gc_dataset_get(test, 0, n, x, NULL, &err), 0);
    assert_int_equal(gc_classifier_features(c, x, n, f, &err), 0);
    assert_int_equal(gc_classifier_probs(c, x, n, p, &err), 0);
    int nonzero = 0;
    for (size_t i = 0; i < n * GC_CLASSIFIER_FEATURES; i++) {
        assert_true(f[i] >= 0.0f); /* after the relu */
        nonzero += f[i] > 0;
    }
    assert_true(nonzero > (int)(n * GC_CLASSIFIER_FEATURES / 10));
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (int k = 0; k < GC_CLASSIFIER_CLASSES; k++)
            s += p[i * GC_CLASSIFIER_CLASSES + k];
        assert_true(fabs(s - 1.0) < 1e-4);
    }

    /* serialized form round trip, and the cache file is what gc_classifier_get loads */
    size_t len;
    char dir[512];
    uint8_t *bytes = cache_in_tmpdir(c, dir, sizeof(dir), &len);
    struct gc_dataset_spec spec;
    memset(&spec, 0, sizeof(spec));
    spec.kind = GC_DATA_FASHION_MNIST;
    spec.test_split = 1;
    spec.classes = 0x3;
    int trained = -1;
    struct gc_classifier *c2 = gc_classifier_get(dir, &spec, 0, NULL, NULL, &trained, &err);
    if (!c2)
        fail_msg("%s", err.msg);
    assert_int_equal(trained, 0);
    assert_int_equal(gc_classifier_probs(c2, x, n, p2, &err), 0);
    assert_memory_equal(p, p2, sizeof(float) * n * GC_CLASSIFIER_CLASSES);
    gc_classifier_destroy(c2);

    /* damaged bytes are refused */
    bytes[len / 2] ^= 0x40;
    assert_null(gc_classifier_deserialize(bytes, len, &err));
    assert_int_equal(err.code, GC_ECORRUPT);
    assert_null(gc_classifier_deserialize(bytes, 10, &err));
    free(bytes);
    fx_rmdir(dir);
    free(x);
    free(f);
    free(p);
    free(p2);
    gc_classifier_destroy(c);
    gc_dataset_destroy(train);
    gc_dataset_destroy(test);
}

static void save_gz(const char *dir, const char *name, const uint8_t *p, size_t len)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    gzFile g = gzopen(path, "wb");
    assert_non_null(g);
    assert_int_equal(gzwrite(g, p, (unsigned)len), (int)len);
    gzclose(g);
}

static void corrupt_cache_is_retrained(void **state)
{
    (void)state;
    /* a tiny labelled set in the Fashion-MNIST layout: class k is a bright band at row
     * 2k..2k+2 over a dark background, which a CNN learns in a moment */
    char dir[512];
    fx_tmpdir(dir, sizeof(dir));
    const int n = 640;
    uint8_t *pix = calloc((size_t)n * 784, 1);
    uint8_t *lab = malloc(8 + (size_t)n);
    memcpy(lab, (const uint8_t[]){0, 0, 8, 1, 0, 0, 0x02, 0x80}, 8);
    for (int i = 0; i < n; i++) {
        int k = i % 10;
        lab[8 + i] = (uint8_t)k;
        for (int y = 2 * k + 3; y < 2 * k + 6; y++)
            for (int x = 4; x < 24; x++)
                pix[(size_t)i * 784 + y * 28 + x] = (uint8_t)(200 + i % 50);
    }
    uint8_t *idx;
    size_t len;
    struct gc_error err = {0};
    assert_int_equal(gc_idx_encode(pix, n, 1, 28, 28, &idx, &len, &err), 0);
    save_gz(dir, "train-images-idx3-ubyte.gz", idx, len);
    save_gz(dir, "train-labels-idx1-ubyte.gz", lab, 8 + (size_t)n);
    fx_save(dir, CACHE_NAME, (const uint8_t *)"garbage that is no model", 24);

    struct gc_dataset_spec spec;
    memset(&spec, 0, sizeof(spec));
    spec.kind = GC_DATA_FASHION_MNIST;
    snprintf(spec.path, sizeof(spec.path), "%s", dir);
    int trained = -1;
    struct gc_classifier *c = gc_classifier_get(dir, &spec, 0, NULL, NULL, &trained, &err);
    if (!c)
        fail_msg("%s", err.msg);
    assert_int_equal(trained, 1);
    /* a cache folder that does not exist yet is created */
    char sub[600], file[700];
    snprintf(sub, sizeof(sub), "%s/cache", dir);
    snprintf(file, sizeof(file), "%s/" CACHE_NAME, sub);
    struct gc_classifier *c3 = gc_classifier_get(sub, &spec, 0, NULL, NULL, &trained, &err);
    assert_non_null(c3);
    assert_int_equal(trained, 1);
    struct stat st;
    assert_int_equal(stat(file, &st), 0);
    assert_true(st.st_size > 100000);
    unlink(file);
    rmdir(sub);
    gc_classifier_destroy(c3);
    struct gc_dataset *d = open_split(dir, 0);
    double acc;
    assert_int_equal(gc_classifier_accuracy(c, d, &acc, &err), 0);
    print_message("retrained on the tiny set: %.1f%%\n", 100 * acc);
    assert_true(acc > 0.9);
    gc_classifier_destroy(c);
    /* the rewritten cache is valid now: no second training */
    c = gc_classifier_get(dir, &spec, 0, NULL, NULL, &trained, &err);
    assert_non_null(c);
    assert_int_equal(trained, 0);
    gc_classifier_destroy(c);
    /* not every dataset has a classifier */
    spec.kind = GC_DATA_RING8;
    assert_null(gc_classifier_get(dir, &spec, 0, NULL, NULL, &trained, &err));
    assert_int_equal(err.code, GC_EUNSUPPORTED);
    gc_dataset_destroy(d);
    free(idx);
    free(pix);
    free(lab);
    fx_rmdir(dir);
}

/* ---- fid through a training run ---------------------------------------------------- */

struct evals {
    double fid, coverage, score, accuracy;
    int n;
    int trained; /* the run trained a classifier instead of reading the cache */
};

static void keep_log(void *ctx, const char *msg)
{
    struct evals *e = ctx;
    if (strstr(msg, "classifier: training"))
        e->trained = 1;
}

static int keep_eval(void *ctx, int64_t step, const struct gc_metric *m, int n,
                     struct gc_error *err)
{
    (void)step, (void)err;
    struct evals *e = ctx;
    e->n++;
    for (int i = 0; i < n; i++) {
        if (strcmp(m[i].name, "fid") == 0)
            e->fid = m[i].value;
        else if (strcmp(m[i].name, "class_coverage") == 0)
            e->coverage = m[i].value;
        else if (strcmp(m[i].name, "classifier_score") == 0)
            e->score = m[i].value;
        else if (strcmp(m[i].name, "class_accuracy") == 0)
            e->accuracy = m[i].value;
    }
    return 0;
}

/* A subset classifier of `limit` images and `epochs` passes, put in a fresh folder
 * (dir, n) where a run looks for its cache. */
static void cache_subset_classifier(char *dir, size_t n, size_t limit, int epochs)
{
    struct gc_dataset *train = open_split(NULL, 0);
    struct gc_classifier *c = train_subset(train, limit, epochs);
    size_t len;
    free(cache_in_tmpdir(c, dir, n, &len));
    gc_classifier_destroy(c);
    gc_dataset_destroy(train);
}

/* A narrow DCGAN on trousers and sneakers for `steps` steps, evaluated once at the
 * end with the classifier cached in dir. */
static struct evals dcgan_eval(const char *dir, int64_t steps)
{
    struct gc_spec s;
    gc_spec_defaults(&s, GC_DATA_FASHION_MNIST, GC_LOSS_NONSATURATING);
    s.dataset.classes = (1u << 1) | (1u << 7);
    s.model.g_width = 16;
    s.model.d_width = 16;
    s.train.steps = steps;
    s.train.batch_size = 32;
    s.every = (struct gc_every_spec){0, 0, 0, steps};
    struct gc_error err = {0};
    assert_int_equal(gc_spec_check(&s, NULL), 0);
    struct gc_trainer_opts o = {.threads = 1, .cache_dir = dir, .load_data = 1};
    struct gc_trainer *t = gc_trainer_create(&s, &o, &err);
    if (!t)
        fail_msg("create: %s", err.msg);
    struct evals e = {NAN, NAN, NAN, NAN, 0, 0};
    struct gc_train_hooks h = {.ctx = &e, .eval = keep_eval, .log = keep_log};
    if (gc_trainer_run(t, &h, &err))
        fail_msg("run: %s", err.msg);
    gc_trainer_destroy(t);
    assert_int_equal(e.n, 1);
    assert_int_equal(e.trained, 0);
    return e;
}

/* fid, class_coverage and classifier_score as a run computes them (the test split of
 * the two classes against as many generated images, through the cached classifier):
 * after 300 steps the DCGAN's fid is well below its value after 1 (about 245 against
 * 1,370), and the classifier finds more than one class among its samples (its first
 * noise falls in one); under the sanitizers a smaller classifier, 20 steps and no
 * result. The classifier is a subset one, trained here in seconds and put where the
 * run looks for its cache. */
static void fid_falls_as_a_dcgan_trains(void **state)
{
    (void)state;
    if (!have_fashion())
        skip();
    char dir[512];
    cache_subset_classifier(dir, sizeof dir, SANITIZED ? 256 : 2000, SANITIZED ? 1 : 2);

    struct evals first = dcgan_eval(dir, 1), last = dcgan_eval(dir, SANITIZED ? 20 : 300);
    print_message("dcgan fid %.2f -> %.2f, classes %.0f -> %.0f, score %.2f -> %.2f\n", first.fid,
                  last.fid, first.coverage, last.coverage, first.score, last.score);
    assert_true(isfinite(first.fid) && isfinite(last.fid));
    assert_true(last.fid >= 0.0 && first.coverage >= 1 && last.score >= 1.0 &&
                last.score <= GC_CLASSIFIER_CLASSES);
    if (!SANITIZED) {
        assert_true(last.fid < 0.5 * first.fid);
        assert_true(last.coverage >= 2 && last.coverage <= GC_CLASSIFIER_CLASSES);
    }
    fx_rmdir(dir);
}

/* ---- class_accuracy of a conditional run ------------------------------------------------ */

/* Conditional Fashion-MNIST, all ten classes: a narrow DCGAN (widths 16) told the class
 * of each sample learns to draw the class it is asked for. class_accuracy is how often
 * the evaluation classifier (here a subset one, cached where the run looks for it) gives
 * one of the evaluation's 5,000 samples the class asked of it. After 1,000 steps it was
 * 0.881, 0.893 and 0.884 on seeds 1-3 (chance is 0.1); under the sanitizers the path
 * runs 5 steps on two classes (Trouser and Sneaker, whose labels are not their places)
 * and no result is asserted. */
static void conditional_dcgan_draws_the_class_asked(void **state)
{
    (void)state;
    if (!have_fashion())
        skip();
    char dir[512];
    cache_subset_classifier(dir, sizeof dir, SANITIZED ? 256 : 6000, SANITIZED ? 1 : 2);
    struct gc_spec s;
    gc_spec_defaults(&s, GC_DATA_FASHION_MNIST, GC_LOSS_NONSATURATING);
    s.model.conditional = 1;
    s.model.g_width = s.model.d_width = 16;
    s.train.steps = SANITIZED ? 5 : 1000;
    if (SANITIZED) /* two classes: 2,000 test images to evaluate instead of 5,000 */
        s.dataset.classes = 1u << 1 | 1u << 7;
    s.every = (struct gc_every_spec){0, 0, 0, s.train.steps};
    struct gc_error err = {0};
    assert_int_equal(gc_spec_check(&s, NULL), 0);
    struct gc_trainer_opts o = {.threads = 1, .cache_dir = dir, .load_data = 1};
    struct gc_trainer *t = gc_trainer_create(&s, &o, &err);
    if (!t)
        fail_msg("create: %s", err.msg);
    struct evals e = {NAN, NAN, NAN, NAN, 0, 0};
    struct gc_train_hooks h = {.ctx = &e, .eval = keep_eval, .log = keep_log};
    if (gc_trainer_run(t, &h, &err))
        fail_msg("run: %s", err.msg);
    gc_trainer_destroy(t);
    print_message("conditional dcgan: class accuracy %.3f, fid %.2f after %lld steps\n", e.accuracy,
                  e.fid, (long long)s.train.steps);
    assert_int_equal(e.n, 1);
    assert_int_equal(e.trained, 0);
    assert_true(e.accuracy >= 0.0 && e.accuracy <= 1.0);
    if (!SANITIZED)
        assert_true(e.accuracy >= 0.8);
    fx_rmdir(dir);
}

int main(void)
{
    gc_blas_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(subset_beats_chance_and_caches),
        cmocka_unit_test(corrupt_cache_is_retrained),
        cmocka_unit_test(fid_falls_as_a_dcgan_trains),
        cmocka_unit_test(conditional_dcgan_draws_the_class_asked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
