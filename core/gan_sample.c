/* gan_sample.c — generation from a trainer's generators (the weight average when
 * there is one; of asked classes when conditional), and the PNG and IDX encodings of
 * what it draws: the sample grid of images, the scatter plot of 2D points over the
 * true mixture, an IDX file; and a generator as an ONNX model. */
#include "core/gan_sample.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gan_cond.h"
#include "core/gan_internal.h"
#include "core/image.h"
#include "core/model_onnx.h"

#define SCATTER_SIZE 512 /* pixels of the 2D scatter plot */

struct gc_model *gc_gan_sampling_g(struct gc_trainer *t, int k)
{
    if (!t->gsample)
        return t->g[k];
    /* the averaged weights with the trained G's BN running statistics */
    size_t np;
    gc_model_copy_state(t->gsample, t->g[k], NULL); /* same shape: cannot fail */
    float *p = gc_model_params(t->gsample, &np);
    memcpy(p, t->ema[k], np * sizeof(float));
    return t->gsample;
}

/* n samples from draws noise vectors (sample i takes vector i mod draws) and classes
 * (NULL: in turn; ignored by an unconditional run). Sample i comes from generator i
 * mod K, its noise and class the same whatever K is. */
static void draw(struct gc_trainer *t, int n, const float *noise, int draws, const int *classes,
                 float *out)
{
    int z = t->spec.model.z_dim;
    int K = t->K, B = t->b; /* the models hold this rank's part of a batch */
    for (int k = 0; k < K; k++) {
        int cnt = n > k ? (n - k + K - 1) / K : 0;
        if (cnt == 0)
            continue;
        struct gc_model *g = gc_gan_sampling_g(t, k);
        for (int done = 0; done < cnt;) {
            int m = cnt - done < B ? cnt - done : B;
            for (int j = 0; j < m; j++) {
                size_t i = (size_t)(done + j) * K + k;
                memcpy(t->noise + (size_t)j * z, noise + (i % (size_t)draws) * z,
                       (size_t)z * sizeof(float));
                if (t->nc)
                    t->y[j] = classes ? classes[i] : (int)(i % (size_t)t->nc);
            }
            const float *y = gc_gan_g_forward(t, g, t->noise, t->y, m, 0);
            for (int j = 0; j < m; j++) {
                size_t i = (size_t)(done + j) * K + k;
                memcpy(out + i * t->dsize, y + (size_t)j * t->dsize, t->dsize * sizeof(float));
            }
            done += m;
        }
    }
}

static int check_classes(const struct gc_trainer *t, int n, const int *classes,
                         struct gc_error *err);

int gc_trainer_generate_classes(struct gc_trainer *t, int n, uint64_t seed, const int *classes,
                                int cols, float *out, struct gc_error *err)
{
    int rc = check_classes(t, n, classes, err);
    if (rc || n == 0)
        return rc;
    int z = t->spec.model.z_dim;
    int draws = cols > 0 && cols < n ? cols : n;
    float *noise = malloc((size_t)draws * z * sizeof(float));
    if (!noise)
        return gc_error_set(err, GC_ENOMEM, "generate: out of memory for %d samples", n);
    struct gc_rng r;
    gc_rng_init(&r, seed, GC_GAN_STREAM_GENERATE);
    gc_rng_fill_normal(&r, noise, (size_t)draws * z, 0.0f, 1.0f);
    draw(t, n, noise, draws, classes, out);
    free(noise);
    return 0;
}

/* What generate_classes and generate_from_classes both check of the classes asked. */
static int check_classes(const struct gc_trainer *t, int n, const int *classes,
                         struct gc_error *err)
{
    if (t->task)
        return gc_error_set(err, GC_EINVAL,
                            "generate: a %s run translates images (POST .../translate); it "
                            "draws nothing from noise",
                            gc_task_name(t->spec.task.kind));
    if (n < 0)
        return gc_error_set(err, GC_EINVAL, "generate: n must be >= 0");
    if (classes && !t->nc)
        return gc_error_set(err, GC_EINVAL, "generate: classes asked of an unconditional run");
    for (int i = 0; classes && i < n; i++)
        if (classes[i] < 0 || classes[i] >= t->nc)
            return gc_error_set(err, GC_EINVAL, "generate: class %d of a run with %d", classes[i],
                                t->nc);
    return 0;
}

int gc_trainer_generate_from(struct gc_trainer *t, int n, const float *noise, float *out,
                             struct gc_error *err)
{
    return gc_trainer_generate_from_classes(t, n, noise, n, NULL, out, err);
}

int gc_trainer_generate_from_classes(struct gc_trainer *t, int n, const float *noise, int draws,
                                     const int *classes, float *out, struct gc_error *err)
{
    int rc = check_classes(t, n, classes, err);
    if (rc)
        return rc;
    if (n > 0 && draws < 1)
        return gc_error_set(err, GC_EINVAL, "generate: no noise to draw %d samples from", n);
    if (n > 0)
        draw(t, n, noise, draws, classes, out);
    return 0;
}

int gc_trainer_generate(struct gc_trainer *t, int n, uint64_t seed, float *out,
                        struct gc_error *err)
{
    return gc_trainer_generate_classes(t, n, seed, NULL, 0, out, err);
}

const struct gc_class_list *gc_trainer_classes(const struct gc_trainer *t)
{
    return t->nc ? t->classes : NULL;
}

int gc_trainer_export_onnx(struct gc_trainer *t, int k, const char *version, uint8_t **out,
                           size_t *len, struct gc_error *err)
{
    if (k < 0 || k >= t->K)
        return gc_error_set(err, GC_EINVAL, "export: generator %d of %d (0 to %d)", k, t->K,
                            t->K - 1);
    if (t->task) /* its G takes an image, not the noise z the export is made for */
        return gc_error_set(err, GC_EUNSUPPORTED,
                            "export: a %s run's generator translates images; the ONNX export "
                            "covers generators of noise",
                            gc_task_name(t->spec.task.kind));
    struct gc_model *g = gc_gan_sampling_g(t, k);
    struct gc_onnx *graph = gc_onnx_create("ganctl_generator");
    if (!graph)
        return gc_error_set(err, GC_ENOMEM, "export: out of memory");
    int rc = gc_model_onnx_nodes(g, NULL, graph, "g", "z", "x", err);
    if (rc) {
        gc_onnx_destroy(graph);
        return rc;
    }
    /* a conditional G's input is the noise, then the one-hot class */
    int64_t zd[2] = {-1, t->g_in};
    int64_t xd[4] = {-1, t->c, t->h, t->w};
    int nd = 4;
    if (t->is2d)
        xd[1] = 2, nd = 2;
    char zdoc[192], xdoc[160], doc[256], step[32], zdim[16], gen[32];
    if (t->nc)
        snprintf(zdoc, sizeof zdoc,
                 "N vectors: %d floats of noise from N(0, 1), then the class one-hot (%d "
                 "floats, the run's classes in order)",
                 t->spec.model.z_dim, t->nc);
    else
        snprintf(zdoc, sizeof zdoc, "noise: N vectors of %d floats, each drawn from N(0, 1)",
                 t->spec.model.z_dim);
    if (t->is2d)
        snprintf(xdoc, sizeof xdoc, "N points (x, y) of %s", gc_dataset_name(t->spec.dataset.kind));
    else
        snprintf(xdoc, sizeof xdoc, "N images, %d x %d x %d (C, H, W), pixels in [-1, 1]", t->c,
                 t->h, t->w);
    snprintf(doc, sizeof doc,
             "the generator of a ganctl run (%s, %s) at step %lld%s; generator %d of %d",
             gc_dataset_name(t->spec.dataset.kind), gc_arch_name(t->spec.model.arch),
             (long long)t->step, t->gsample ? ", weight average (tricks.ema)" : "", k, t->K);
    snprintf(step, sizeof step, "%lld", (long long)t->step);
    snprintf(zdim, sizeof zdim, "%d", t->spec.model.z_dim);
    snprintf(gen, sizeof gen, "%d of %d", k, t->K);
    const char *const meta[][2] = {
        {"dataset", gc_dataset_name(t->spec.dataset.kind)},
        {"step", step},
        {"z_dim", zdim},
        {"generator", gen},
    };
    struct gc_onnx_value in = {"z", zd, 2, zdoc}, outv = {"x", xd, nd, xdoc};
    rc = gc_onnx_finish(graph, &in, &outv, version, doc, meta, 4, out, len, err);
    gc_onnx_destroy(graph);
    return rc;
}

void gc_trainer_sample_shape(const struct gc_trainer *t, int *c, int *h, int *w)
{
    if (t->is2d) {
        *c = 1, *h = 1, *w = 2;
        return;
    }
    *c = t->c, *h = t->h, *w = t->w;
}

int gc_trainer_encode_png(const struct gc_trainer *t, const float *samples, int n, uint8_t **out,
                          size_t *len, struct gc_error *err)
{
    if (n < 1)
        return gc_error_set(err, GC_EINVAL, "png: need at least one sample");
    if (t->is2d) {
        const float *centers = NULL;
        float sigma = 0.0f;
        int k = t->data ? gc_dataset_modes(t->data, &centers, &sigma) : 0;
        return gc_scatter_png(samples, n, centers, k, sigma, gc_scatter_range(centers, k),
                              SCATTER_SIZE, out, len, err);
    }
    int cols = n == GC_GAN_SAMPLE_IMAGES ? GC_GAN_GRID_COLS : 0;
    return gc_image_grid_png(samples, n, t->c, t->h, t->w, cols, out, len, err);
}

int gc_trainer_encode_grid(const struct gc_trainer *t, const float *samples, int n, int cols,
                           uint8_t **out, size_t *len, struct gc_error *err)
{
    if (n < 1)
        return gc_error_set(err, GC_EINVAL, "png: need at least one sample");
    if (t->is2d)
        return gc_trainer_encode_png(t, samples, n, out, len, err);
    return gc_image_grid_png(samples, n, t->c, t->h, t->w, cols, out, len, err);
}

int gc_trainer_encode_idx(const struct gc_trainer *t, const float *samples, int n, uint8_t **out,
                          size_t *len, struct gc_error *err)
{
    if (t->is2d)
        return gc_error_set(err, GC_EINVAL, "idx: %s is a set of 2D points, not images",
                            gc_dataset_name(t->spec.dataset.kind));
    if (n < 1)
        return gc_error_set(err, GC_EINVAL, "idx: need at least one sample");
    size_t total = (size_t)n * t->dsize;
    uint8_t *pix = malloc(total);
    if (!pix)
        return gc_error_set(err, GC_ENOMEM, "idx: out of memory");
    gc_image_to_u8(samples, total, pix);
    int rc = gc_idx_encode(pix, n, t->c, t->h, t->w, out, len, err);
    free(pix);
    return rc;
}
