/* gan_sample.c — generation from a trainer's generators (the weight average when
 * there is one; of asked classes when conditional), and the PNG and IDX encodings of
 * what it draws: the sample grid of images, the scatter plot of 2D points over the
 * true mixture, an IDX file. */
#include "core/gan_sample.h"

#include <stdlib.h>
#include <string.h>

#include "core/gan_cond.h"
#include "core/gan_internal.h"
#include "core/image.h"

#define SCATTER_SIZE 512 /* pixels of the 2D scatter plot */

int gc_trainer_generate_classes(struct gc_trainer *t, int n, uint64_t seed, const int *classes,
                                int cols, float *out, struct gc_error *err)
{
    if (n < 0)
        return gc_error_set(err, GC_EINVAL, "generate: n must be >= 0");
    if (classes && !t->nc)
        return gc_error_set(err, GC_EINVAL, "generate: classes asked of an unconditional run");
    for (int i = 0; classes && i < n; i++)
        if (classes[i] < 0 || classes[i] >= t->nc)
            return gc_error_set(err, GC_EINVAL, "generate: class %d of a run with %d", classes[i],
                                t->nc);
    if (n == 0)
        return 0;
    int z = t->spec.model.z_dim;
    int draws = cols > 0 && cols < n ? cols : n;
    float *noise = malloc((size_t)draws * z * sizeof(float));
    if (!noise)
        return gc_error_set(err, GC_ENOMEM, "generate: out of memory for %d samples", n);
    struct gc_rng r;
    gc_rng_init(&r, seed, GC_GAN_STREAM_GENERATE);
    gc_rng_fill_normal(&r, noise, (size_t)draws * z, 0.0f, 1.0f);
    /* sample i comes from generator i mod K; its noise is the i-th draw (the (i mod
     * cols)-th with cols) whatever K is */
    int K = t->K, B = t->B;
    for (int k = 0; k < K; k++) {
        int cnt = n > k ? (n - k + K - 1) / K : 0;
        /* the averaged weights with the trained G's BN running statistics */
        struct gc_model *g = t->g[k];
        if (t->gsample && cnt > 0) {
            size_t np;
            g = t->gsample;
            gc_model_copy_state(g, t->g[k], NULL); /* same shape: cannot fail */
            float *p = gc_model_params(g, &np);
            memcpy(p, t->ema[k], np * sizeof(float));
        }
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
    free(noise);
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
