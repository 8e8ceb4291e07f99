/* gan_eval.c — the evaluation of a trainer: the real side (the evaluation split, its
 * spread images, the classifier and the Gaussian of the real features, made once),
 * and the figures of one evaluation, named from core/metrics.h. */
#include "core/gan_eval.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/eval_sets.h"
#include "core/gan_cond.h"
#include "core/gan_internal.h"
#include "core/gan_sample.h"
#include "core/gan_task.h"
#include "core/metrics.h"

#define EVAL_MAX_FLOATS (1u << 24) /* cap of real (and generated) floats kept for swd */

static void warn_cb(void *ctx, const char *msg)
{
    gc_gan_log(ctx, msg);
}

/* Whether two specs open the same images: the evaluation split is then the training
 * data itself (idx, png-dir, a run on the test split), shared instead of loaded twice. */
static int same_data(const struct gc_dataset_spec *a, const struct gc_dataset_spec *b)
{
    return a->kind == b->kind && a->test_split == b->test_split && a->classes == b->classes &&
           strcmp(a->path, b->path) == 0 && a->image_size == b->image_size &&
           a->channels == b->channels && a->subset == b->subset;
}

int gc_gan_eval_real(struct gc_trainer *t, struct gc_error *err)
{
    if (t->eval_real)
        return 0;
    if (!t->eval_data) {
        struct gc_dataset_spec es;
        gc_dataset_eval_spec(&t->spec.dataset, &es);
        if (t->data && same_data(&es, &t->spec.dataset)) {
            t->eval_data = t->data;
        } else {
            t->eval_data = gc_dataset_open(&es, warn_cb, t, err);
            if (!t->eval_data)
                return gc_error_prefix(err, "eval");
        }
    }
    size_t n = gc_dataset_count(t->eval_data);
    if (n > GC_EVAL_IMAGES)
        n = GC_EVAL_IMAGES;
    /* large images: keep the memory of the swd sets bounded */
    if (n * t->dsize > EVAL_MAX_FLOATS)
        n = EVAL_MAX_FLOATS / t->dsize;
    if (n < 2)
        return gc_error_set(err, GC_EINVAL, "eval: the dataset has fewer than 2 images");
    float *real = malloc(n * t->dsize * sizeof(float));
    t->eval_gen = t->eval_gen ? t->eval_gen : malloc(n * t->dsize * sizeof(float));
    if (t->nc) {
        t->eval_lab = t->eval_lab ? t->eval_lab : malloc(n * sizeof(int));
        t->eval_y = t->eval_y ? t->eval_y : malloc(n * sizeof(int));
    }
    if (!real || !t->eval_gen || (t->nc && (!t->eval_lab || !t->eval_y))) {
        free(real);
        return gc_error_set(err, GC_ENOMEM, "eval: out of memory for %zu images", n);
    }
    int rc = gc_dataset_get_spread(t->eval_data, n, real, t->eval_lab, err);
    if (rc) {
        free(real);
        return gc_error_prefix(err, "eval");
    }
    if (t->nc) {
        /* the generated side asks for the classes of the real side, image by image, so
         * both hold the classes in the same numbers */
        memcpy(t->eval_y, t->eval_lab, n * sizeof(int));
        gc_gan_cond_map_labels(t, t->eval_y, (int)n);
    }
    t->eval_real = real;
    t->eval_n = n;
    return 0;
}

/* The classifier and the Gaussian of the real features, for the sets it was made for
 * (Fashion-MNIST; another labelled set of its shape has other classes). */
static int eval_classifier(struct gc_trainer *t, struct gc_error *err)
{
    if (t->have_gauss || t->spec.dataset.kind != GC_DATA_FASHION_MNIST ||
        !gc_classifier_supported(t->eval_data))
        return 0;
    size_t n = t->eval_n;
    int rc;
    if (!t->clf) {
        int trained = 0;
        gc_gan_log(t, "eval: loading the evaluation classifier");
        t->clf = gc_classifier_get(t->cache_dir[0] ? t->cache_dir : NULL, &t->spec.dataset,
                                   t->threads, warn_cb, t, &trained, err);
        if (!t->clf)
            return gc_error_prefix(err, "eval");
        if ((rc = gc_classifier_set_pool(t->clf, t->pool, err)))
            return rc;
    }
    if (!t->eval_feat)
        t->eval_feat = malloc(n * GC_CLASSIFIER_FEATURES * sizeof(float));
    if (!t->eval_probs)
        t->eval_probs = malloc(n * GC_CLASSIFIER_CLASSES * sizeof(float));
    if (!t->eval_feat || !t->eval_probs)
        return gc_error_set(err, GC_ENOMEM, "eval: out of memory");
    size_t nf = n * GC_CLASSIFIER_FEATURES;
    if (!t->eval_real_feat)
        t->eval_real_feat = malloc(nf * sizeof(float));
    if (!t->eval_real_r2)
        t->eval_real_r2 = malloc(n * sizeof(double));
    if (!t->eval_real_feat || !t->eval_real_r2)
        return gc_error_set(err, GC_ENOMEM, "eval: out of memory");
    if ((rc = gc_classifier_features(t->clf, t->eval_real, n, t->eval_real_feat, err)) ||
        (rc = gc_gauss_fit(&t->real_gauss, t->eval_real_feat, n, GC_CLASSIFIER_FEATURES, err)) ||
        (rc = gc_knn_radii2(t->eval_real_feat, n, GC_CLASSIFIER_FEATURES, GC_PRDC_K,
                            t->eval_real_r2, err))) {
        gc_gauss_fini(&t->real_gauss);
        return rc;
    }
    t->have_gauss = 1;
    return 0;
}

static void put(struct gc_metric *m, int *n, enum gc_metric_id id, double v)
{
    assert(*n < GC_GAN_EVAL_MAX);
    m[(*n)++] = (struct gc_metric){gc_metric_name(id), v};
}

static int eval_points(struct gc_trainer *t, uint64_t seed, struct gc_metric *m, int *nm,
                       struct gc_error *err)
{
    const float *centers;
    float sigma;
    int k = gc_dataset_modes(t->data, &centers, &sigma);
    struct gc_mode_stats st;
    int rc;
    /* conditional: point i is asked for class i mod nc, every mode as often */
    if ((rc = gc_trainer_generate(t, GC_EVAL_POINTS, seed, t->samples, err)) ||
        (rc = gc_eval_modes(t->samples, GC_EVAL_POINTS, centers, k, sigma, &st, err)))
        return rc;
    put(m, nm, GC_M_MODES_COVERED, st.modes_covered);
    put(m, nm, GC_M_HIGH_QUALITY, st.high_quality);
    put(m, nm, GC_M_REVERSE_KL, st.reverse_kl);
    if (t->nc) {
        int *want = malloc(GC_EVAL_POINTS * sizeof(int));
        double acc;
        if (!want)
            return gc_error_set(err, GC_ENOMEM, "eval: out of memory");
        for (int i = 0; i < GC_EVAL_POINTS; i++)
            want[i] = t->classes->c[i % t->nc].label;
        rc = gc_mode_accuracy(t->samples, GC_EVAL_POINTS, centers, k, want, &acc, err);
        free(want);
        if (rc)
            return rc;
        put(m, nm, GC_M_CLASS_ACCURACY, acc);
    }
    return 0;
}

#define SPREAD_SAMPLES 256

/* The mean L2 distance between two of the first min(n, SPREAD_SAMPLES) samples x. */
static double spread(const float *x, size_t n, size_t dsize)
{
    if (n > SPREAD_SAMPLES)
        n = SPREAD_SAMPLES;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            const float *a = x + i * dsize, *b = x + j * dsize;
            double d2 = 0.0;
            for (size_t k = 0; k < dsize; k++) {
                double d = (double)a[k] - (double)b[k];
                d2 += d * d;
            }
            sum += sqrt(d2);
        }
    return n > 1 ? sum / ((double)n * (double)(n - 1) / 2.0) : 0.0;
}

static int eval_images(struct gc_trainer *t, uint64_t seed, struct gc_metric *m, int *nm,
                       struct gc_error *err)
{
    int rc;
    if ((rc = gc_gan_eval_real(t, err)) || (rc = eval_classifier(t, err)))
        return rc;
    size_t n = t->eval_n;
    if ((rc = gc_trainer_generate_classes(t, (int)n, seed, t->eval_y, 0, t->eval_gen, err)))
        return rc;
    /* the same directions at every step, so the swd curve compares like with like */
    struct gc_rng pr;
    gc_rng_init(&pr, t->spec.train.seed, GC_GAN_STREAM_SWD);
    double swd;
    if ((rc =
             gc_swd(t->eval_real, n, t->eval_gen, n, t->dsize, GC_SWD_PROJECTIONS, &pr, &swd, err)))
        return rc;
    put(m, nm, GC_M_SWD, swd);
    if (t->real_spread == 0.0)
        t->real_spread = spread(t->eval_real, n, t->dsize);
    if (t->real_spread > 0.0)
        put(m, nm, GC_M_DIVERSITY, spread(t->eval_gen, n, t->dsize) / t->real_spread);
    if (!t->have_gauss)
        return 0;
    struct gc_gauss gg;
    double fid, score;
    int cov;
    if ((rc = gc_classifier_features(t->clf, t->eval_gen, n, t->eval_feat, err)) ||
        (rc = gc_gauss_fit(&gg, t->eval_feat, n, GC_CLASSIFIER_FEATURES, err)))
        return rc;
    rc = gc_frechet(&t->real_gauss, &gg, &fid, err);
    gc_gauss_fini(&gg);
    if (rc || (rc = gc_classifier_probs(t->clf, t->eval_gen, n, t->eval_probs, err)) ||
        (rc = gc_class_stats(t->eval_probs, n, GC_CLASSIFIER_CLASSES, &cov, &score, err)))
        return rc;
    put(m, nm, GC_M_FID, fid);
    put(m, nm, GC_M_CLASS_COVERAGE, cov);
    put(m, nm, GC_M_CLASSIFIER_SCORE, score);
    /* the subsets of KID from the evaluation's own seed: the same step draws the same */
    struct gc_rng kr;
    gc_rng_init(&kr, seed, GC_GAN_STREAM_KID);
    double kid, kid_std;
    struct gc_prdc p;
    if ((rc = gc_kid(t->eval_real_feat, n, t->eval_feat, n, GC_CLASSIFIER_FEATURES, GC_KID_SUBSETS,
                     GC_KID_SUBSET_SIZE, &kr, &kid, &kid_std, err)) ||
        (rc = gc_prdc(t->eval_real_feat, t->eval_real_r2, n, t->eval_feat, n,
                      GC_CLASSIFIER_FEATURES, &p, err)))
        return rc;
    put(m, nm, GC_M_KID, kid);
    put(m, nm, GC_M_KID_STD, kid_std);
    put(m, nm, GC_M_PRECISION, p.precision);
    put(m, nm, GC_M_RECALL, p.recall);
    put(m, nm, GC_M_DENSITY, p.density);
    put(m, nm, GC_M_COVERAGE, p.coverage);
    if (t->nc) {
        /* the classifier's classes are Fashion-MNIST's labels */
        double acc;
        if ((rc = gc_class_accuracy(t->eval_probs, n, GC_CLASSIFIER_CLASSES, t->eval_lab, &acc,
                                    err)))
            return rc;
        put(m, nm, GC_M_CLASS_ACCURACY, acc);
    }
    return 0;
}

int gc_gan_evaluate(struct gc_trainer *t, struct gc_metric *m, int *n, struct gc_error *err)
{
    uint64_t seed = gc_gan_mix64(t->spec.train.seed ^ gc_gan_mix64((uint64_t)t->step));
    *n = 0;
    if (t->task)
        return gc_gan_task_evaluate(t, m, n, err);
    return t->is2d ? eval_points(t, seed, m, n, err) : eval_images(t, seed, m, n, err);
}
