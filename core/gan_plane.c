/* gan_plane.c — G's density and D's output over the plane of a 2D run (see
 * gan_plane.h). */
#include "core/gan_plane.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/gan_cond.h"
#include "core/gan_internal.h"
#include "core/image.h"
#include "core/serial.h"

#define PLANE_MAGIC 0x4c504347u /* "GCPL" little-endian */
#define PLANE_VERSION 1u

/* D's output for the n inputs of the last forward (out: n x nout logits) as d_real
 * reports it. */
static float d_value(const struct gc_trainer *t, const float *logit)
{
    if (t->K > 1) {
        /* softmax probability of the "real" class K */
        float mx = logit[0];
        for (int j = 1; j < t->nout; j++)
            mx = logit[j] > mx ? logit[j] : mx;
        double s = 0.0;
        for (int j = 0; j < t->nout; j++)
            s += exp((double)(logit[j] - mx));
        return (float)(exp((double)(logit[t->K] - mx)) / s);
    }
    if (t->spec.loss == GC_LOSS_MINIMAX || t->spec.loss == GC_LOSS_NONSATURATING)
        return (float)(1.0 / (1.0 + exp(-(double)logit[0])));
    return logit[0];
}

/* The mode (its label: a 2D point's class) nearest to p. */
static int nearest(const float *p, const float *centers, int k)
{
    int best = 0;
    float bd = INFINITY;
    for (int i = 0; i < k; i++) {
        float dx = p[0] - centers[2 * i], dy = p[1] - centers[2 * i + 1], d = dx * dx + dy * dy;
        if (d < bd) {
            bd = d;
            best = i;
        }
    }
    return best;
}

int gc_trainer_plane(struct gc_trainer *t, const float *pts, int n, uint8_t **out, size_t *len,
                     struct gc_error *err)
{
    if (!t->is2d || !t->data)
        return gc_error_set(err, GC_EINVAL, "plane: only 2D sets have one");
    const float *centers = NULL;
    float sigma = 0.0f;
    int k = gc_dataset_modes(t->data, &centers, &sigma);
    float range = gc_scatter_range(centers, k);
    const int S = GC_PLANE_SIZE;
    size_t cells = (size_t)S * S;
    float *density = calloc(cells, sizeof(float));
    float *dout = malloc(cells * sizeof(float));
    float *grid = malloc((size_t)t->b * 2 * sizeof(float));
    int *cls = t->nc ? malloc((size_t)t->b * sizeof(int)) : NULL;
    if (!density || !dout || !grid || (t->nc && !cls)) {
        free(density), free(dout), free(grid), free(cls);
        return gc_error_set(err, GC_ENOMEM, "plane: out of memory");
    }
    float cell = 2.0f * range / (float)S;
    for (int i = 0; i < n; i++) {
        float x = pts[2 * i], y = pts[2 * i + 1];
        int col = (int)floorf((x + range) / cell), row = (int)floorf((range - y) / cell);
        if (col >= 0 && col < S && row >= 0 && row < S)
            density[(size_t)row * S + col] += 1.0f / (float)n;
    }
    /* D over the cells' centres, at most a batch (this rank's part) at a time; a conditional D
     * judges each cell as a sample of the class of its nearest mode */
    for (size_t c0 = 0; c0 < cells; c0 += (size_t)t->b) {
        int m = (int)(cells - c0 < (size_t)t->b ? cells - c0 : (size_t)t->b);
        for (int j = 0; j < m; j++) {
            size_t c = c0 + (size_t)j;
            grid[2 * j] = -range + ((float)(c % S) + 0.5f) * cell;
            grid[2 * j + 1] = range - ((float)(c / S) + 0.5f) * cell;
            if (cls)
                cls[j] = nearest(grid + 2 * j, centers, k);
        }
        if (cls)
            gc_gan_cond_map_labels(t, cls, m);
        const float *o = gc_gan_d_forward(t, t->d, t->emb, grid, cls, m, 0);
        for (int j = 0; j < m; j++)
            dout[c0 + (size_t)j] = d_value(t, o + (size_t)j * t->nout);
    }
    free(grid);
    free(cls);
    struct gc_buf b;
    gc_buf_init(&b);
    int raw = t->K == 1 && t->spec.loss != GC_LOSS_MINIMAX && t->spec.loss != GC_LOSS_NONSATURATING;
    gc_buf_put_u32(&b, (uint32_t)S);
    gc_buf_put_u32(&b, (uint32_t)k);
    gc_buf_put_u32(&b, (uint32_t)raw);
    gc_buf_put_f32s(&b, &range, 1);
    gc_buf_put_f32s(&b, &sigma, 1);
    gc_buf_put_f32s(&b, centers, 2 * (size_t)k);
    gc_buf_put_f32s(&b, density, cells);
    gc_buf_put_f32s(&b, dout, cells);
    free(density);
    free(dout);
    int rc;
    if (b.oom)
        rc = gc_error_set(err, GC_ENOMEM, "plane: out of memory");
    else
        rc = gc_frame_seal(PLANE_MAGIC, PLANE_VERSION, b.data, b.len, out, len, err);
    gc_buf_fini(&b);
    return rc;
}

float gc_plane_f32(const uint8_t *arr, size_t i)
{
    const uint8_t *p = arr + 4 * i;
    uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

int gc_plane_parse(const uint8_t *bytes, size_t len, struct gc_plane *p, struct gc_error *err)
{
    const uint8_t *pl;
    size_t n;
    int rc = gc_frame_open("plane", PLANE_MAGIC, PLANE_VERSION, bytes, len, &pl, &n, err);
    if (rc)
        return rc;
    struct gc_reader r;
    gc_reader_init(&r, pl, n);
    uint32_t size, k, raw;
    if ((rc = gc_reader_u32(&r, &size, err)) || (rc = gc_reader_u32(&r, &k, err)) ||
        (rc = gc_reader_u32(&r, &raw, err)) || (rc = gc_reader_f32s(&r, &p->range, 1, err)) ||
        (rc = gc_reader_f32s(&r, &p->sigma, 1, err)))
        return rc;
    if (size == 0 || size > 1024 || k > 1024 || raw > 1)
        return gc_error_set(err, GC_ECORRUPT, "plane: bad header (size %u, %u modes)", size, k);
    size_t need = 4 * (2 * (size_t)k + 2 * (size_t)size * size);
    if (n - r.off != need)
        return gc_error_set(err, GC_ECORRUPT, "plane: %zu bytes of data, the header says %zu",
                            n - r.off, need);
    p->size = (int)size;
    p->k = (int)k;
    p->raw = (int)raw;
    p->centers = pl + r.off;
    p->density = p->centers + 8 * (size_t)k;
    p->d = p->density + 4 * (size_t)size * size;
    return 0;
}
