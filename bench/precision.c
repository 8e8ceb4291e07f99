/* precision.c — what train.precision "bf16" costs in quality: the Fashion-MNIST
 * reference DCGAN (spec defaults) trained for the same steps in float32 and in bf16,
 * several seeds each, and the FID of each run at its last step.
 *
 * Every FID here is computed the same way, whoever made the images: 5,000 samples of
 * G (eval mode: BN's running statistics), rounded to bytes as a PNG would keep them,
 * against 5,000 images spread over the test split, on the features of the evaluation
 * classifier (cached under --cache; trained there once, about a minute). --fid-of
 * takes IDX files of generated images instead (bench/ref_torch.py --dump writes them
 * for PyTorch's runs, float32 and bf16 autocast), so the two engines are compared on
 * one yardstick.
 *
 *   precision [--steps N] [--seeds S] [--seed0 K] [--threads T] [--cache DIR]
 *             [--precisions float32,bf16]
 *   precision --fid-of FILE.idx [FILE.idx ...] [--cache DIR]
 *
 * One JSON line per run ({"precision", "seed", "steps", "fid", "seconds", "ran"}: "ran"
 * is the precision the run really had), then the mean and spread of each precision
 * and the ratio of the bf16 mean to the float32 one. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/blas.h"
#include "core/classifier.h"
#include "core/data.h"
#include "core/eval.h"
#include "core/gan.h"
#include "core/image.h"

#define NGEN GC_EVAL_IMAGES
#define SIDE 784 /* 1 x 28 x 28 */
#define MAX_SEEDS 64

struct yardstick {
    struct gc_classifier *clf;
    struct gc_gauss real;
    float *feat;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The classifier and the Gaussian of the real features, as a run's evaluation has them. */
static int yardstick_init(struct yardstick *y, const char *cache, struct gc_error *err)
{
    struct gc_dataset_spec ds = {.kind = GC_DATA_FASHION_MNIST}, es;
    gc_dataset_eval_spec(&ds, &es);
    y->clf = gc_classifier_get(cache, &ds, 1, NULL, NULL, NULL, err);
    if (!y->clf)
        return err->code;
    struct gc_dataset *d = gc_dataset_open(&es, NULL, NULL, err);
    if (!d)
        return err->code;
    float *real = malloc((size_t)NGEN * SIDE * sizeof(float));
    y->feat = malloc((size_t)NGEN * GC_CLASSIFIER_FEATURES * sizeof(float));
    int rc = !real || !y->feat ? gc_error_set(err, GC_ENOMEM, "out of memory") : 0;
    if (!rc)
        rc = gc_dataset_get_spread(d, NGEN, real, NULL, err);
    if (!rc)
        rc = gc_classifier_features(y->clf, real, NGEN, y->feat, err);
    if (!rc)
        rc = gc_gauss_fit(&y->real, y->feat, NGEN, GC_CLASSIFIER_FEATURES, err);
    free(real);
    gc_dataset_destroy(d);
    return rc;
}

/* FID of NGEN images given as bytes (n x 784). */
static int fid_of_bytes(struct yardstick *y, const uint8_t *img, double *fid, struct gc_error *err)
{
    float *x = malloc((size_t)NGEN * SIDE * sizeof(float));
    if (!x)
        return gc_error_set(err, GC_ENOMEM, "out of memory");
    for (size_t i = 0; i < (size_t)NGEN * SIDE; i++)
        x[i] = img[i] / 127.5f - 1.0f;
    struct gc_gauss g = {0};
    int rc = gc_classifier_features(y->clf, x, NGEN, y->feat, err);
    if (!rc)
        rc = gc_gauss_fit(&g, y->feat, NGEN, GC_CLASSIFIER_FEATURES, err);
    if (!rc)
        rc = gc_frechet(&y->real, &g, fid, err);
    gc_gauss_fini(&g);
    free(x);
    return rc;
}

struct run {
    double fid, seconds;
    int ran_bf16;
};

static int train_one(struct yardstick *y, int bf16, uint64_t seed, long steps, int threads,
                     struct run *out, struct gc_error *err)
{
    struct gc_spec s;
    gc_spec_defaults(&s, GC_DATA_FASHION_MNIST, GC_LOSS_NONSATURATING);
    s.train.steps = steps;
    s.train.seed = seed;
    s.train.precision = bf16 ? GC_PRECISION_BF16 : GC_PRECISION_FLOAT32;
    s.every.log = s.every.sample = s.every.checkpoint = s.every.eval = 0;
    struct gc_field_errors fe;
    if (gc_spec_check(&s, &fe))
        return gc_field_errors_summary(&fe, err);
    struct gc_trainer_opts o = {.threads = threads, .load_data = 1};
    struct gc_trainer *t = gc_trainer_create(&s, &o, err);
    if (!t)
        return err->code;
    double t0 = now();
    int rc = gc_trainer_run(t, NULL, err);
    out->seconds = now() - t0;
    out->ran_bf16 = gc_trainer_precision(t) == GC_PRECISION_BF16;
    float *gen = malloc((size_t)NGEN * SIDE * sizeof(float));
    uint8_t *img = malloc((size_t)NGEN * SIDE);
    if (!rc && (!gen || !img))
        rc = gc_error_set(err, GC_ENOMEM, "out of memory");
    if (!rc)
        rc = gc_trainer_generate(t, NGEN, seed + 1000, gen, err);
    if (!rc) {
        gc_image_to_u8(gen, (size_t)NGEN * SIDE, img);
        rc = fid_of_bytes(y, img, &out->fid, err);
    }
    free(gen);
    free(img);
    gc_trainer_destroy(t);
    return rc;
}

static int fid_of_file(struct yardstick *y, const char *path, struct gc_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return gc_error_set(err, GC_ENOTFOUND, "%s: cannot open", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *bytes = len > 0 ? malloc((size_t)len) : NULL;
    int rc = !bytes || fread(bytes, 1, (size_t)len, f) != (size_t)len
                 ? gc_error_set(err, GC_EIO, "%s: cannot read", path)
                 : 0;
    fclose(f);
    int ndim;
    uint32_t dims[4];
    const uint8_t *data;
    if (!rc)
        rc = gc_idx_decode(bytes, (size_t)len, &ndim, dims, &data, err);
    if (!rc && (ndim != 3 || dims[0] < NGEN || dims[1] != 28 || dims[2] != 28))
        rc = gc_error_set(err, GC_EINVAL, "%s: want at least %d images of 28x28", path, NGEN);
    double fid;
    if (!rc)
        rc = fid_of_bytes(y, data, &fid, err);
    if (!rc)
        printf("{\"file\": \"%s\", \"fid\": %.3f}\n", path, fid);
    free(bytes);
    return rc;
}

static void summary(const char *name, const double *v, int n, double *mean)
{
    double m = 0, q = 0;
    for (int i = 0; i < n; i++)
        m += v[i] / n;
    for (int i = 0; i < n; i++)
        q += (v[i] - m) * (v[i] - m);
    double sd = n > 1 ? sqrt(q / (n - 1)) : 0;
    printf("%-8s FID %.2f +/- %.2f over %d seeds\n", name, m, sd, n);
    *mean = m;
}

int main(int argc, char **argv)
{
    long steps = 2000;
    int seeds = 5, seed0 = 0, threads = 1, nfiles = 0;
    const char *cache = "var/bench-cache", *precisions = "float32,bf16";
    const char *files[64];
    gc_blas_init();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--fid-of")) {
            while (i + 1 < argc && strncmp(argv[i + 1], "--", 2) && nfiles < 64)
                files[nfiles++] = argv[++i];
            continue;
        }
        if (!v) {
            fprintf(stderr, "usage: precision [--steps N] [--seeds S] [--seed0 K] [--threads T] "
                            "[--cache DIR] [--precisions float32,bf16] | --fid-of FILE...\n");
            return 2;
        }
        if (!strcmp(a, "--steps"))
            steps = atol(v);
        else if (!strcmp(a, "--seeds"))
            seeds = atoi(v);
        else if (!strcmp(a, "--seed0"))
            seed0 = atoi(v);
        else if (!strcmp(a, "--threads"))
            threads = atoi(v);
        else if (!strcmp(a, "--cache"))
            cache = v;
        else if (!strcmp(a, "--precisions"))
            precisions = v;
        else {
            fprintf(stderr, "precision: unknown option %s\n", a);
            return 2;
        }
        i++;
    }
    if (steps < 1 || seeds < 1 || seeds > MAX_SEEDS || threads < 1 || seed0 < 0) {
        fprintf(stderr, "precision: bad --steps, --seeds, --seed0 or --threads\n");
        return 2;
    }
    struct gc_error err = {0};
    struct yardstick y = {0};
    if (yardstick_init(&y, cache, &err)) {
        fprintf(stderr, "precision: %s\n", err.msg);
        return 1;
    }
    int rc = 0;
    for (int i = 0; i < nfiles && !rc; i++)
        if ((rc = fid_of_file(&y, files[i], &err)))
            fprintf(stderr, "precision: %s\n", err.msg);
    if (nfiles)
        return rc ? 1 : 0;
    double fids[2][MAX_SEEDS], mean[2] = {0, 0};
    int want[2] = {strstr(precisions, "float32") != NULL, strstr(precisions, "bf16") != NULL};
    for (int s = 0; s < seeds; s++)
        for (int p = 0; p < 2; p++) {
            if (!want[p])
                continue;
            struct run r;
            uint64_t seed = (uint64_t)(seed0 + s + 1);
            if (train_one(&y, p, seed, steps, threads, &r, &err)) {
                fprintf(stderr, "precision: %s\n", err.msg);
                return 1;
            }
            fids[p][s] = r.fid;
            printf("{\"precision\": \"%s\", \"ran\": \"%s\", \"seed\": %llu, \"steps\": %ld, "
                   "\"fid\": %.3f, \"seconds\": %.1f}\n",
                   p ? "bf16" : "float32", r.ran_bf16 ? "bf16" : "float32",
                   (unsigned long long)seed, steps, r.fid, r.seconds);
            fflush(stdout);
        }
    for (int p = 0; p < 2; p++)
        if (want[p])
            summary(p ? "bf16" : "float32", fids[p], seeds, &mean[p]);
    if (want[0] && want[1])
        printf("bf16 / float32 mean FID: %.3f\n", mean[1] / mean[0]);
    gc_gauss_fini(&y.real);
    gc_classifier_destroy(y.clf);
    free(y.feat);
    return 0;
}
