/* classifier.c — the evaluation CNN: build, train, cache, features and probabilities.
 *
 * The cache holds only the parameters (a model without an optimizer, serialized with
 * gc_model_serialize, which frames it with a magic, a version and a CRC): a trained
 * model is copied into a fresh one before writing, so Adam's moments stay out of the
 * file. Loading builds the same architecture and deserializes into it; any failure
 * (missing, short, corrupt, other architecture) means "train again". */
#include "core/classifier.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/loss.h"
#include "core/model.h"
#include "core/pool.h"

#define MAX_BATCH 128
#define SIDE 28
#define PIXELS (SIDE * SIDE)

struct gc_classifier {
    struct gc_model *m;
    int feat_layer; /* index of the relu after the 128-unit linear layer */
};

static void logf_(gc_warn_fn log, void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void logf_(gc_warn_fn log, void *ctx, const char *fmt, ...)
{
    if (!log)
        return;
    char msg[GC_PATH_MAX + 1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log(ctx, msg);
}

void gc_classifier_default_opts(struct gc_classifier_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->train_limit = 0;
    o->epochs = 3;
    o->batch = 64;
    o->seed = 1;
    o->threads = 1;
}

int gc_classifier_supported(const struct gc_dataset *d)
{
    int c, h, w;
    gc_dataset_shape(d, &c, &h, &w);
    return gc_dataset_labels(d) && gc_dataset_nclasses(d) == GC_CLASSIFIER_CLASSES && c == 1 &&
           h == SIDE && w == SIDE;
}

/* The architecture of classifier.h; the caller owns the result. */
static struct gc_classifier *build(uint64_t seed, struct gc_error *err)
{
    struct gc_classifier *c = calloc(1, sizeof(*c));
    if (!c) {
        gc_error_set(err, GC_ENOMEM, "classifier: out of memory");
        return NULL;
    }
    c->m = gc_model_create(MAX_BATCH, 1, SIDE, SIDE, err);
    struct gc_rng rng;
    gc_rng_init(&rng, seed, 0);
    struct gc_model *m = c->m;
    if (!m || gc_model_add_conv2d(m, 32, 4, 2, 1, 1, err) || gc_model_add_relu(m, err) ||
        gc_model_add_conv2d(m, 64, 4, 2, 1, 1, err) || gc_model_add_relu(m, err) ||
        gc_model_add_linear(m, GC_CLASSIFIER_FEATURES, 1, err) || gc_model_add_relu(m, err) ||
        gc_model_add_linear(m, GC_CLASSIFIER_CLASSES, 1, err) ||
        gc_model_finalize(m, GC_INIT_DEFAULT, &rng, err)) {
        gc_classifier_destroy(c);
        return NULL;
    }
    c->feat_layer = gc_model_nlayers(m) - 2;
    return c;
}

void gc_classifier_destroy(struct gc_classifier *c)
{
    if (!c)
        return;
    gc_model_destroy(c->m);
    free(c);
}

int gc_classifier_set_pool(struct gc_classifier *c, struct gc_pool *pool, struct gc_error *err)
{
    return gc_model_set_pool(c->m, pool, err);
}

struct gc_classifier *gc_classifier_train(const struct gc_dataset *train,
                                          const struct gc_classifier_opts *o, struct gc_error *err)
{
    if (!gc_classifier_supported(train)) {
        gc_error_set(err, GC_EUNSUPPORTED,
                     "classifier: %s is not a labelled 10-class 1x28x28 dataset",
                     gc_dataset_key(train));
        return NULL;
    }
    if (o->epochs < 1 || o->batch < 1 || o->batch > MAX_BATCH) {
        gc_error_set(err, GC_EINVAL, "classifier: epochs >= 1 and batch 1..%d", MAX_BATCH);
        return NULL;
    }
    struct gc_classifier *c = build(o->seed, err);
    if (!c)
        return NULL;
    struct gc_optim_spec adam = {
        .kind = GC_OPTIM_ADAM, .lr = 1e-3f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f};
    struct gc_loader *ld = NULL;
    struct gc_pool *pool = NULL;
    float *x = malloc(sizeof(float) * (size_t)o->batch * PIXELS);
    float *dlogits = malloc(sizeof(float) * (size_t)o->batch * GC_CLASSIFIER_CLASSES);
    int *labels = malloc(sizeof(int) * (size_t)o->batch);
    if (!x || !dlogits || !labels) {
        gc_error_set(err, GC_ENOMEM, "classifier: out of memory");
        goto fail;
    }
    if (gc_model_set_optim(c->m, &adam, err))
        goto fail;
    /* a pool of its own for the training only: a classifier outlives its training,
     * and serves on whatever pool its user lends it (gc_classifier_set_pool) */
    pool = gc_pool_create(o->threads > 1 ? o->threads : 1, err);
    if (!pool || gc_model_set_pool(c->m, pool, err))
        goto fail;
    ld = gc_loader_create(train, o->seed, 1, err);
    if (!ld)
        goto fail;
    size_t count = gc_dataset_count(train);
    size_t per_epoch = o->train_limit && o->train_limit < count ? o->train_limit : count;
    size_t steps = (per_epoch + (size_t)o->batch - 1) / (size_t)o->batch;
    /* with a limit, each "epoch" is a fresh random draw of that many images from the
     * loader's shuffled stream, so a subset still sees every class evenly */
    for (int ep = 0; ep < o->epochs; ep++) {
        /* the last of several epochs runs at a quarter of the rate: Adam restarts with
         * fresh moments and settles into the minimum instead of bouncing around it */
        if (ep > 0 && ep == o->epochs - 1) {
            adam.lr *= 0.25f;
            if (gc_model_set_optim(c->m, &adam, err))
                goto fail;
        }
        double loss_sum = 0;
        for (size_t s = 0; s < steps; s++) {
            gc_loader_next(ld, (size_t)o->batch, x, labels);
            const float *logits = gc_model_forward(c->m, x, o->batch, 1);
            memset(dlogits, 0, sizeof(float) * (size_t)o->batch * GC_CLASSIFIER_CLASSES);
            float loss = gc_softmax_xent(dlogits, logits, labels, o->batch, GC_CLASSIFIER_CLASSES,
                                         1.0f, NULL);
            if (!isfinite(loss)) {
                gc_error_set(err, GC_ENUMERIC, "classifier: loss is %f at epoch %d step %zu",
                             (double)loss, ep + 1, s);
                goto fail;
            }
            loss_sum += loss;
            gc_model_zero_grad(c->m);
            gc_model_backward(c->m, dlogits, NULL);
            gc_model_step(c->m);
        }
        logf_(o->log, o->log_ctx, "classifier: epoch %d/%d, mean loss %.4f", ep + 1, o->epochs,
              loss_sum / (double)steps);
    }
    /* the model's scratch leaves the pool with it */
    if (gc_model_set_pool(c->m, NULL, err))
        goto fail;
    gc_loader_destroy(ld);
    free(x);
    free(dlogits);
    free(labels);
    gc_pool_destroy(pool);
    return c;
fail:
    gc_classifier_destroy(c); /* before the pool its model may borrow */
    gc_pool_destroy(pool);
    gc_loader_destroy(ld);
    free(x);
    free(dlogits);
    free(labels);
    return NULL;
}

int gc_classifier_serialize(const struct gc_classifier *c, uint8_t **out, size_t *len,
                            struct gc_error *err)
{
    /* a fresh model without optimizer state, holding the trained parameters */
    struct gc_classifier *bare = build(0, err);
    if (!bare)
        return err ? err->code : GC_ENOMEM;
    size_t n, nb;
    float *src = gc_model_params(c->m, &n);
    float *dst = gc_model_params(bare->m, &nb);
    if (n != nb) {
        gc_classifier_destroy(bare);
        return gc_error_set(err, GC_ESTATE, "classifier: parameter counts differ");
    }
    memcpy(dst, src, n * sizeof(float));
    int rc = gc_model_serialize(bare->m, out, len, err);
    gc_classifier_destroy(bare);
    return rc;
}

struct gc_classifier *gc_classifier_deserialize(const uint8_t *bytes, size_t len,
                                                struct gc_error *err)
{
    struct gc_classifier *c = build(0, err);
    if (!c)
        return NULL;
    int rc = gc_model_deserialize(c->m, bytes, len, err);
    if (rc) {
        /* another architecture is as unusable here as a broken file */
        if (err && rc == GC_EINVAL)
            err->code = GC_ECORRUPT;
        gc_classifier_destroy(c);
        return NULL;
    }
    return c;
}

/* Runs x through the model in chunks; copies `width` floats per sample of layer
 * `layer` (or of the logits turned into probabilities when layer < 0) into out. */
static int run_chunks(struct gc_classifier *c, const float *x, size_t n, int layer, float *out)
{
    for (size_t i = 0; i < n; i += MAX_BATCH) {
        int b = (int)(n - i < MAX_BATCH ? n - i : MAX_BATCH);
        const float *logits = gc_model_forward(c->m, x + i * PIXELS, b, 0);
        if (layer >= 0) {
            int lc, lh, lw;
            const float *f = gc_model_layer_output(c->m, layer, &lc, &lh, &lw);
            memcpy(out + i * GC_CLASSIFIER_FEATURES, f,
                   sizeof(float) * (size_t)b * GC_CLASSIFIER_FEATURES);
            continue;
        }
        for (int s = 0; s < b; s++) {
            const float *z = logits + (size_t)s * GC_CLASSIFIER_CLASSES;
            float *p = out + (i + (size_t)s) * GC_CLASSIFIER_CLASSES;
            float mx = z[0];
            for (int k = 1; k < GC_CLASSIFIER_CLASSES; k++)
                mx = fmaxf(mx, z[k]);
            double sum = 0;
            for (int k = 0; k < GC_CLASSIFIER_CLASSES; k++)
                sum += p[k] = expf(z[k] - mx);
            for (int k = 0; k < GC_CLASSIFIER_CLASSES; k++)
                p[k] = (float)(p[k] / sum);
        }
    }
    return 0;
}

int gc_classifier_features(struct gc_classifier *c, const float *x, size_t n, float *out,
                           struct gc_error *err)
{
    (void)err;
    return run_chunks(c, x, n, c->feat_layer, out);
}

int gc_classifier_probs(struct gc_classifier *c, const float *x, size_t n, float *out,
                        struct gc_error *err)
{
    (void)err;
    return run_chunks(c, x, n, -1, out);
}

int gc_classifier_accuracy(struct gc_classifier *c, const struct gc_dataset *d, double *acc,
                           struct gc_error *err)
{
    if (!gc_classifier_supported(d))
        return gc_error_set(err, GC_EUNSUPPORTED, "classifier: %s has no usable labels",
                            gc_dataset_key(d));
    size_t n = gc_dataset_count(d), right = 0;
    float *x = malloc(sizeof(float) * MAX_BATCH * PIXELS);
    float *p = malloc(sizeof(float) * MAX_BATCH * GC_CLASSIFIER_CLASSES);
    int *lab = malloc(sizeof(int) * MAX_BATCH);
    int rc = 0;
    if (!x || !p || !lab) {
        rc = gc_error_set(err, GC_ENOMEM, "classifier: out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i += MAX_BATCH) {
        size_t b = n - i < MAX_BATCH ? n - i : MAX_BATCH;
        if ((rc = gc_dataset_get(d, i, b, x, lab, err)) ||
            (rc = gc_classifier_probs(c, x, b, p, err)))
            goto out;
        for (size_t s = 0; s < b; s++) {
            const float *q = p + s * GC_CLASSIFIER_CLASSES;
            int best = 0;
            for (int k = 1; k < GC_CLASSIFIER_CLASSES; k++)
                if (q[k] > q[best])
                    best = k;
            right += best == lab[s];
        }
    }
    *acc = (double)right / (double)n;
out:
    free(x);
    free(p);
    free(lab);
    return rc;
}

/* ---- the cache ----------------------------------------------------------------- */

static int read_file(const char *path, uint8_t **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    uint8_t *b = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 1 << 20;
            uint8_t *nb = realloc(b, cap);
            if (!nb) {
                free(b);
                fclose(f);
                return -1;
            }
            b = nb;
        }
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(b);
        return -1;
    }
    *out = b;
    *len = n;
    return 0;
}

/* Writes to a temporary name in the same folder, then renames over the real one. */
static int write_file(const char *path, const uint8_t *p, size_t len, struct gc_error *err)
{
    char tmp[GC_PATH_MAX + 256];
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= sizeof(tmp))
        return gc_error_set(err, GC_EINVAL, "cache path is too long");
    int fd = mkstemp(tmp);
    if (fd < 0)
        return gc_error_set(err, GC_EIO, "%s: %s", tmp, strerror(errno));
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, p + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return gc_error_set(err, GC_EIO, "%s: %s", tmp, strerror(e));
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        unlink(tmp);
        return gc_error_set(err, GC_EIO, "%s: %s", tmp, strerror(errno));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return gc_error_set(err, GC_EIO, "%s: %s", path, strerror(e));
    }
    return 0;
}

struct gc_classifier *gc_classifier_get(const char *cache_dir, const struct gc_dataset_spec *data,
                                        int threads, gc_warn_fn log, void *log_ctx, int *trained,
                                        struct gc_error *err)
{
    if (trained)
        *trained = 0;
    if (data->kind != GC_DATA_FASHION_MNIST) {
        gc_error_set(err, GC_EUNSUPPORTED, "classifier: only fashion-mnist has labels");
        return NULL;
    }
    char path[GC_PATH_MAX + 128] = "";
    int cached = cache_dir && cache_dir[0];
    if (cached) {
        /* the key of the training split: every split and class mask shares it */
        if ((size_t)snprintf(path, sizeof(path), "%s/classifier-%s-%dx%dx%d-v%d.bin", cache_dir,
                             gc_dataset_name(data->kind), 1, SIDE, SIDE,
                             GC_CLASSIFIER_VERSION) >= sizeof(path)) {
            gc_error_set(err, GC_EINVAL, "classifier: cache folder name is too long");
            return NULL;
        }
        uint8_t *bytes;
        size_t len;
        if (read_file(path, &bytes, &len) == 0) {
            struct gc_error e2 = {0};
            struct gc_classifier *c = gc_classifier_deserialize(bytes, len, &e2);
            free(bytes);
            if (c)
                return c;
            logf_(log, log_ctx, "classifier: cache %s is unusable (%s); training again", path,
                  e2.msg);
        }
    }
    struct gc_dataset_spec ts = *data;
    ts.test_split = 0;
    ts.classes = 0;
    ts.image_size = 0;
    ts.channels = 0;
    ts.subset = 0; /* the whole split, whatever the run trains on */
    struct gc_dataset *train = gc_dataset_open(&ts, NULL, NULL, err);
    if (!train) {
        gc_error_prefix(err, "classifier");
        return NULL;
    }
    struct gc_classifier_opts o;
    gc_classifier_default_opts(&o);
    o.log = log;
    o.log_ctx = log_ctx;
    o.threads = threads;
    logf_(log, log_ctx, "classifier: training on %zu images of %s", gc_dataset_count(train),
          gc_dataset_key(train));
    struct gc_classifier *c = gc_classifier_train(train, &o, err);
    gc_dataset_destroy(train);
    if (!c)
        return NULL;
    if (trained)
        *trained = 1;
    if (cached) {
        uint8_t *bytes;
        size_t len;
        struct gc_error e2 = {0};
        /* one level, as for a fresh data directory; an error shows at the write */
        if (mkdir(cache_dir, 0755) == 0)
            logf_(log, log_ctx, "classifier: created %s", cache_dir);
        if (gc_classifier_serialize(c, &bytes, &len, &e2) == 0) {
            if (write_file(path, bytes, len, &e2) != 0)
                logf_(log, log_ctx, "classifier: could not cache: %s", e2.msg);
            free(bytes);
        } else {
            logf_(log, log_ctx, "classifier: could not serialize: %s", e2.msg);
        }
    }
    return c;
}
