/* data.c — datasets (Fashion-MNIST, IDX with or without labels, the 2D mixtures; PNG
 * folders are in data_png.c, class lists in data_classes.c) and the loader.
 *
 * Files are read whole into memory and, when they start with the gzip magic, inflated
 * with zlib; the IDX parser in image.c then checks the header against the size. Images
 * are kept as bytes (a 60,000-image training split is 47 MB) and turned into floats
 * one batch at a time. The loader derives each epoch's order from the RNG state at the
 * start of that epoch, so its whole position is (epoch, index, that state): small,
 * and restoring it rebuilds the very same permutation. */
#include "core/data.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/data_internal.h"
#include "core/image.h"

#define LOADER_TAG 0x4c445231u /* "LDR1" */
#define MAX_FILE ((size_t)1 << 32)

/* ---- reading files ------------------------------------------------------------- */

int gc_data_read_whole(const char *path, uint8_t **out, size_t *len, struct gc_error *err)
{
    *out = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return gc_error_set(err, errno == ENOENT ? GC_ENOTFOUND : GC_EIO, "%s: %s", path,
                            strerror(errno));
    size_t cap = 1 << 16, n = 0;
    uint8_t *b = malloc(cap);
    int rc = 0;
    while (b) {
        if (n == cap) {
            if (cap >= MAX_FILE) {
                rc = gc_error_set(err, GC_ETOOBIG, "%s: larger than 4 GiB", path);
                break;
            }
            uint8_t *nb = realloc(b, cap * 2);
            if (!nb)
                break;
            b = nb;
            cap *= 2;
        }
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                rc = gc_error_set(err, GC_EIO, "%s: read error", path);
            break;
        }
    }
    fclose(f);
    if (!b)
        return gc_error_set(err, GC_ENOMEM, "%s: out of memory reading", path);
    if (rc) {
        free(b);
        return rc;
    }
    *out = b;
    *len = n;
    return 0;
}

/* Inflates a gzip member; the trailer's size (mod 2^32) is only a first guess. */
static int gunzip(const char *path, const uint8_t *src, size_t len, uint8_t **out, size_t *olen,
                  struct gc_error *err)
{
    size_t cap = len >= 18 ? (size_t)(src[len - 4] | src[len - 3] << 8 | src[len - 2] << 16 |
                                      (uint32_t)src[len - 1] << 24)
                           : 0;
    /* deflate expands at most about 1032:1, so a larger claim is a lie: trusting it
     * let a 20-byte file make us allocate up to 4 GiB before inflating a byte */
    if (cap < 4096 || cap > MAX_FILE || cap / 1032 > len)
        cap = len * 4 + 4096;
    uint8_t *b = malloc(cap);
    if (!b)
        return gc_error_set(err, GC_ENOMEM, "%s: out of memory inflating", path);
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
        free(b);
        return gc_error_set(err, GC_ENOMEM, "%s: cannot start zlib", path);
    }
    zs.next_in = (Bytef *)src;
    zs.avail_in = (uInt)(len > UINT32_MAX ? UINT32_MAX : len);
    int zrc = Z_OK, rc = 0;
    size_t n = 0;
    for (;;) {
        if (n == cap) {
            if (cap >= MAX_FILE) {
                rc = gc_error_set(err, GC_ETOOBIG, "%s: inflates to more than 4 GiB", path);
                break;
            }
            uint8_t *nb = realloc(b, cap * 2);
            if (!nb) {
                rc = gc_error_set(err, GC_ENOMEM, "%s: out of memory inflating", path);
                break;
            }
            b = nb;
            cap *= 2;
        }
        zs.next_out = b + n;
        size_t room = cap - n;
        zs.avail_out = (uInt)(room > UINT32_MAX ? UINT32_MAX : room);
        uInt before = zs.avail_out;
        zrc = inflate(&zs, Z_NO_FLUSH);
        n += before - zs.avail_out;
        if (zrc == Z_STREAM_END)
            break;
        if (zrc == Z_BUF_ERROR && zs.avail_in == 0) {
            rc = gc_error_set(err, GC_ECORRUPT, "%s: gzip stream is truncated", path);
            break;
        }
        if (zrc != Z_OK && zrc != Z_BUF_ERROR) {
            rc = gc_error_set(err, GC_ECORRUPT, "%s: corrupt gzip data (%s)", path,
                              zs.msg ? zs.msg : "zlib error");
            break;
        }
        if (zrc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
            rc = gc_error_set(err, GC_ECORRUPT, "%s: gzip stream is truncated", path);
            break;
        }
    }
    inflateEnd(&zs);
    if (rc) {
        free(b);
        return rc;
    }
    *out = b;
    *olen = n;
    return 0;
}

void gc_data_warnf(gc_warn_fn warn, void *ctx, const char *fmt, ...)
{
    if (!warn)
        return;
    char msg[GC_PATH_MAX + 300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    warn(ctx, msg);
}

/* Reads a file and inflates it when it starts with the gzip magic 1f 8b. */
static int read_maybe_gz(const char *path, uint8_t **out, size_t *len, struct gc_error *err)
{
    uint8_t *raw;
    size_t n;
    int rc = gc_data_read_whole(path, &raw, &n, err);
    if (rc)
        return rc;
    if (n >= 2 && raw[0] == 0x1f && raw[1] == 0x8b) {
        rc = gunzip(path, raw, n, out, len, err);
        free(raw);
        return rc;
    }
    *out = raw;
    *len = n;
    return 0;
}

/* An IDX file of one expected rank; *data is a view into *buf which the caller frees. */
static int read_idx(const char *path, int want_ndim, uint8_t **buf, uint32_t dims[4],
                    const uint8_t **data, struct gc_error *err)
{
    size_t len = 0;
    int rc = read_maybe_gz(path, buf, &len, err);
    if (rc)
        return rc;
    int nd;
    rc = gc_idx_decode(*buf, len, &nd, dims, data, err);
    if (!rc && nd != want_ndim)
        rc = gc_error_set(err, GC_ECORRUPT, "idx: has %d dimensions, want %d (magic 0x%08x)", nd,
                          want_ndim, 0x800u + (unsigned)want_ndim);
    if (rc) {
        free(*buf);
        *buf = NULL;
        return gc_error_prefix(err, "%s", path);
    }
    return 0;
}

/* ---- the kinds ----------------------------------------------------------------- */

static int open_fashion(struct gc_dataset *d, const struct gc_dataset_spec *s, struct gc_error *err)
{
    const char *dir = s->path[0] ? s->path : GC_FASHION_MNIST_DIR;
    const char *pre = s->test_split ? "t10k" : "train";
    if (s->classes & ~((1u << GC_FASHION_MNIST_CLASSES) - 1))
        return gc_error_set(err, GC_EINVAL, "dataset.classes: classes are 0 to 9");
    char ipath[GC_PATH_MAX + 64], lpath[GC_PATH_MAX + 64];
    uint8_t *ibuf = NULL, *lbuf = NULL;
    uint32_t idims[4], ldims[4];
    const uint8_t *img, *lab;
    int rc = 0;
    /* the Debian package ships .gz files; unpacked copies work too */
    snprintf(ipath, sizeof(ipath), "%s/%s-images-idx3-ubyte.gz", dir, pre);
    FILE *probe = fopen(ipath, "rb");
    const char *ext = probe ? ".gz" : "";
    if (probe)
        fclose(probe);
    snprintf(ipath, sizeof(ipath), "%s/%s-images-idx3-ubyte%s", dir, pre, ext);
    snprintf(lpath, sizeof(lpath), "%s/%s-labels-idx1-ubyte%s", dir, pre, ext);
    if ((rc = read_idx(ipath, 3, &ibuf, idims, &img, err)) ||
        (rc = read_idx(lpath, 1, &lbuf, ldims, &lab, err)))
        goto out;
    if (ldims[0] != idims[0]) {
        rc = gc_error_set(err, GC_ECORRUPT, "%s: %u labels for %u images", lpath, ldims[0],
                          idims[0]);
        goto out;
    }
    size_t per = (size_t)idims[1] * idims[2], keep = 0;
    for (size_t i = 0; i < idims[0]; i++) {
        if (lab[i] >= GC_FASHION_MNIST_CLASSES) {
            rc = gc_error_set(err, GC_ECORRUPT, "%s: label %u at %zu is not a class 0-9", lpath,
                              lab[i], i);
            goto out;
        }
        keep += !s->classes || (s->classes >> lab[i] & 1);
    }
    if (keep == 0) {
        rc = gc_error_set(err, GC_EINVAL, "dataset.classes: no image of these classes");
        goto out;
    }
    d->images = malloc(keep * per);
    d->labels = malloc(keep);
    if (!d->images || !d->labels) {
        rc = gc_error_set(err, GC_ENOMEM, "out of memory for %zu images", keep);
        goto out;
    }
    for (size_t i = 0; i < idims[0]; i++) {
        if (s->classes && !(s->classes >> lab[i] & 1))
            continue;
        memcpy(d->images + d->count * per, img + i * per, per);
        d->labels[d->count++] = lab[i];
    }
    d->c = 1;
    d->h = (int)idims[1];
    d->w = (int)idims[2];
    d->nclasses = GC_FASHION_MNIST_CLASSES;
out:
    free(ibuf);
    free(lbuf);
    return rc;
}

/* An idx dataset from the file's bytes (gzipped or not); name is the path for messages. */
static int idx_from_bytes(struct gc_dataset *d, const char *name, const uint8_t *raw, size_t len,
                          struct gc_error *err)
{
    uint8_t *inflated = NULL;
    if (len >= 2 && raw[0] == 0x1f && raw[1] == 0x8b) {
        int rc = gunzip(name, raw, len, &inflated, &len, err);
        if (rc)
            return rc;
        raw = inflated;
    }
    uint32_t dims[4];
    const uint8_t *img;
    int nd;
    int rc = gc_idx_decode(raw, len, &nd, dims, &img, err);
    if (!rc && nd != 3)
        rc =
            gc_error_set(err, GC_ECORRUPT, "idx: has %d dimensions, want 3 (magic 0x00000803)", nd);
    if (rc) {
        free(inflated);
        return gc_error_prefix(err, "%s", name);
    }
    if (dims[1] > GC_MAX_IMAGE || dims[2] > GC_MAX_IMAGE) {
        free(inflated);
        return gc_error_set(err, GC_EINVAL, "%s: images of %ux%u are larger than %d", name, dims[1],
                            dims[2], GC_MAX_IMAGE);
    }
    size_t bytes = (size_t)dims[0] * dims[1] * dims[2];
    d->images = malloc(bytes);
    if (!d->images) {
        free(inflated);
        return gc_error_set(err, GC_ENOMEM, "%s: out of memory", name);
    }
    memcpy(d->images, img, bytes);
    free(inflated);
    d->count = dims[0];
    d->c = 1;
    d->h = (int)dims[1];
    d->w = (int)dims[2];
    return 0;
}

int gc_data_read_labels(const char *path, uint8_t **labels, size_t *count, struct gc_error *err)
{
    uint8_t *buf;
    uint32_t dims[4];
    const uint8_t *lab;
    int rc = read_idx(path, 1, &buf, dims, &lab, err);
    if (rc)
        return rc;
    *labels = malloc(dims[0]);
    if (!*labels) {
        free(buf);
        return gc_error_set(err, GC_ENOMEM, "%s: out of memory", path);
    }
    memcpy(*labels, lab, dims[0]);
    *count = dims[0];
    free(buf);
    return 0;
}

static int open_idx(struct gc_dataset *d, const struct gc_dataset_spec *s, struct gc_error *err)
{
    uint8_t *raw;
    size_t len;
    int rc = gc_data_read_whole(s->path, &raw, &len, err);
    if (rc)
        return rc;
    rc = idx_from_bytes(d, s->path, raw, len, err);
    free(raw);
    if (rc || !s->labels_path[0])
        return rc;
    size_t n;
    if ((rc = gc_data_read_labels(s->labels_path, &d->labels, &n, err)))
        return rc;
    if (n != d->count)
        return gc_error_set(err, GC_ECORRUPT, "%s: %zu labels for the %zu images of %s",
                            s->labels_path, n, d->count, s->path);
    for (size_t i = 0; i < n; i++)
        if (d->labels[i] >= d->nclasses)
            d->nclasses = d->labels[i] + 1;
    return 0;
}

static void setup_points(struct gc_dataset *d)
{
    d->c = 2;
    d->h = d->w = 1;
    d->nmodes = gc_dataset_kind_modes(d->kind);
    d->nclasses = d->nmodes; /* a point's class is the mode it was drawn from */
    if (d->kind == GC_DATA_RING8) {
        d->sigma = 0.01f;
        for (int k = 0; k < 8; k++) {
            double a = 2.0 * M_PI * k / 8.0;
            d->centers[2 * k] = (float)cos(a);
            d->centers[2 * k + 1] = (float)sin(a);
        }
    } else {
        d->sigma = 0.05f;
        for (int k = 0; k < 25; k++) {
            d->centers[2 * k] = (float)(-4 + 2 * (k / 5));
            d->centers[2 * k + 1] = (float)(-4 + 2 * (k % 5));
        }
    }
}

/* Keeps n of the images (and labels), image floor(i * count / n) for i < n. */
static int keep_subset(struct gc_dataset *d, size_t n, struct gc_error *err)
{
    if (n > d->count)
        return gc_error_set(err, GC_EINVAL,
                            "dataset.subset: %zu images asked for, the dataset has %zu", n,
                            d->count);
    size_t sz = (size_t)d->c * d->h * d->w;
    for (size_t i = 0; i < n; i++) {
        size_t j = (size_t)((unsigned long long)i * d->count / n); /* j >= i */
        memmove(d->images + i * sz, d->images + j * sz, sz);
        if (d->labels)
            d->labels[i] = d->labels[j];
    }
    d->count = n;
    return 0;
}

struct gc_dataset *gc_dataset_open(const struct gc_dataset_spec *spec, gc_warn_fn warn,
                                   void *warn_ctx, struct gc_error *err)
{
    struct gc_dataset *d = calloc(1, sizeof(*d));
    if (!d) {
        gc_error_set(err, GC_ENOMEM, "out of memory");
        return NULL;
    }
    d->kind = spec->kind;
    int rc = 0;
    switch (spec->kind) {
    case GC_DATA_FASHION_MNIST:
        rc = open_fashion(d, spec, err);
        break;
    case GC_DATA_IDX:
        rc = spec->path[0] ? open_idx(d, spec, err)
                           : gc_error_set(err, GC_EINVAL, "dataset.path: required for idx");
        break;
    case GC_DATA_PNG_DIR:
        rc = spec->path[0] ? gc_data_open_png_dir(d, spec, warn, warn_ctx, err)
                           : gc_error_set(err, GC_EINVAL, "dataset.path: required for png-dir");
        break;
    case GC_DATA_RING8:
    case GC_DATA_GRID25:
        setup_points(d);
        break;
    default:
        rc = gc_error_set(err, GC_EINVAL, "dataset: unknown kind %d", (int)spec->kind);
    }
    if (!rc && spec->subset > 0 && !gc_dataset_is_points(d))
        rc = keep_subset(d, (size_t)spec->subset, err);
    if (rc) {
        gc_dataset_destroy(d);
        return NULL;
    }
    if (gc_dataset_is_points(d))
        snprintf(d->key, sizeof(d->key), "%s", gc_dataset_name(d->kind));
    else
        snprintf(d->key, sizeof(d->key), "%s-%dx%dx%d", gc_dataset_name(d->kind), d->c, d->h, d->w);
    return d;
}

struct gc_dataset *gc_dataset_open_idx_bytes(const uint8_t *bytes, size_t len, const char *name,
                                             struct gc_error *err)
{
    struct gc_dataset *d = calloc(1, sizeof(*d));
    if (!d) {
        gc_error_set(err, GC_ENOMEM, "out of memory");
        return NULL;
    }
    d->kind = GC_DATA_IDX;
    if (idx_from_bytes(d, name, bytes, len, err) != 0) {
        gc_dataset_destroy(d);
        return NULL;
    }
    snprintf(d->key, sizeof(d->key), "%s-%dx%dx%d", gc_dataset_name(d->kind), d->c, d->h, d->w);
    return d;
}

struct gc_dataset *gc_dataset_from_images(enum gc_dataset_kind kind, int c, int h, int w,
                                          size_t count, uint8_t *images, struct gc_error *err)
{
    struct gc_dataset *d = calloc(1, sizeof(*d));
    if (!d) {
        free(images);
        gc_error_set(err, GC_ENOMEM, "out of memory");
        return NULL;
    }
    d->kind = kind;
    d->c = c;
    d->h = h;
    d->w = w;
    d->count = count;
    d->images = images;
    snprintf(d->key, sizeof(d->key), "%s-%dx%dx%d", gc_dataset_name(kind), c, h, w);
    return d;
}

void gc_dataset_destroy(struct gc_dataset *d)
{
    if (!d)
        return;
    free(d->images);
    free(d->labels);
    free(d->names);
    free(d);
}

enum gc_dataset_kind gc_dataset_kind(const struct gc_dataset *d)
{
    return d->kind;
}

int gc_dataset_is_points(const struct gc_dataset *d)
{
    return d->kind == GC_DATA_RING8 || d->kind == GC_DATA_GRID25;
}

void gc_dataset_shape(const struct gc_dataset *d, int *c, int *h, int *w)
{
    *c = d->c;
    *h = d->h;
    *w = d->w;
}

size_t gc_dataset_sample_size(const struct gc_dataset *d)
{
    return (size_t)d->c * d->h * d->w;
}

size_t gc_dataset_count(const struct gc_dataset *d)
{
    return d->count;
}

int gc_dataset_nclasses(const struct gc_dataset *d)
{
    return d->nclasses;
}

const uint8_t *gc_dataset_images(const struct gc_dataset *d)
{
    return d->images;
}

const uint8_t *gc_dataset_labels(const struct gc_dataset *d)
{
    return d->labels;
}

const char *gc_dataset_key(const struct gc_dataset *d)
{
    return d->key;
}

/* Bytes to [-1, 1]: exact in float for every byte value. */
static void to_float(const uint8_t *src, size_t n, float *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = src[i] / 127.5f - 1.0f;
}

int gc_dataset_get(const struct gc_dataset *d, size_t first, size_t n, float *out, int *labels,
                   struct gc_error *err)
{
    if (gc_dataset_is_points(d))
        return gc_error_set(err, GC_EINVAL, "%s has no stored images", d->key);
    if (first > d->count || n > d->count - first)
        return gc_error_set(err, GC_EINVAL, "images %zu..%zu asked of %zu", first, first + n,
                            d->count);
    size_t per = gc_dataset_sample_size(d);
    to_float(d->images + first * per, n * per, out);
    if (labels && d->labels)
        for (size_t i = 0; i < n; i++)
            labels[i] = d->labels[first + i];
    return 0;
}

int gc_dataset_get_spread(const struct gc_dataset *d, size_t n, float *out, int *labels,
                          struct gc_error *err)
{
    if (gc_dataset_is_points(d))
        return gc_error_set(err, GC_EINVAL, "%s has no stored images", d->key);
    if (n == 0 || n > d->count)
        return gc_error_set(err, GC_EINVAL, "%zu images asked of %zu", n, d->count);
    size_t per = gc_dataset_sample_size(d);
    for (size_t i = 0; i < n; i++) {
        size_t j = (size_t)((uint64_t)i * d->count / n); /* count < 2^32: no overflow */
        to_float(d->images + j * per, per, out + i * per);
        if (labels && d->labels)
            labels[i] = d->labels[j];
    }
    return 0;
}

void gc_dataset_eval_spec(const struct gc_dataset_spec *train, struct gc_dataset_spec *out)
{
    *out = *train;
    out->subset = 0;
    if (train->kind == GC_DATA_FASHION_MNIST)
        out->test_split = 1;
}

/* One point of the mixture into out[0..1] and its mode into *label (either NULL:
 * drawn and dropped, the RNG moves on the same). */
static void draw_point(const struct gc_dataset *d, struct gc_rng *rng, float *out, int *label)
{
    int k = (int)gc_rng_below(rng, (uint64_t)d->nmodes);
    float x = d->centers[2 * k] + d->sigma * gc_rng_normal(rng);
    float y = d->centers[2 * k + 1] + d->sigma * gc_rng_normal(rng);
    if (out) {
        out[0] = x;
        out[1] = y;
    }
    if (label)
        *label = k;
}

void gc_dataset_draw_points(const struct gc_dataset *d, struct gc_rng *rng, size_t n, float *out,
                            int *labels)
{
    for (size_t i = 0; i < n; i++)
        draw_point(d, rng, out + 2 * i, labels ? labels + i : NULL);
}

int gc_dataset_kind_modes(enum gc_dataset_kind k)
{
    return k == GC_DATA_RING8 ? 8 : k == GC_DATA_GRID25 ? 25 : 0;
}

int gc_dataset_modes(const struct gc_dataset *d, const float **centers, float *sigma)
{
    *centers = d->nmodes ? d->centers : NULL;
    *sigma = d->sigma;
    return d->nmodes;
}

/* ---- loader -------------------------------------------------------------------- */

struct gc_loader {
    const struct gc_dataset *d;
    struct gc_rng rng;       /* current */
    struct gc_rng rng_epoch; /* as it was before this epoch's shuffle */
    uint32_t *order;
    uint64_t epoch;
    size_t index;
};

static void new_order(struct gc_loader *l)
{
    for (size_t i = 0; i < l->d->count; i++)
        l->order[i] = (uint32_t)i;
    l->rng_epoch = l->rng;
    gc_rng_shuffle(&l->rng, l->order, l->d->count);
    l->index = 0;
}

struct gc_loader *gc_loader_create(const struct gc_dataset *d, uint64_t seed, uint64_t stream,
                                   struct gc_error *err)
{
    if (d->count > UINT32_MAX) {
        gc_error_set(err, GC_ETOOBIG, "dataset of %zu images is too large", d->count);
        return NULL;
    }
    struct gc_loader *l = calloc(1, sizeof(*l));
    if (l && d->count)
        l->order = malloc(d->count * sizeof(uint32_t));
    if (!l || (d->count && !l->order)) {
        free(l);
        gc_error_set(err, GC_ENOMEM, "out of memory for the loader");
        return NULL;
    }
    l->d = d;
    gc_rng_init(&l->rng, seed, stream);
    l->rng_epoch = l->rng;
    if (!gc_dataset_is_points(d))
        new_order(l);
    return l;
}

void gc_loader_destroy(struct gc_loader *l)
{
    if (!l)
        return;
    free(l->order);
    free(l);
}

void gc_loader_next(struct gc_loader *l, size_t n, float *out, int *labels)
{
    gc_loader_next_part(l, n, 0, n, out, labels);
}

void gc_loader_next_part(struct gc_loader *l, size_t n, size_t first, size_t count, float *out,
                         int *labels)
{
    const struct gc_dataset *d = l->d;
    size_t per = gc_dataset_sample_size(d);
    for (size_t i = 0; i < n; i++) {
        int mine = i >= first && i - first < count;
        float *o = mine ? out + (i - first) * per : NULL;
        if (gc_dataset_is_points(d)) {
            draw_point(d, &l->rng, o, mine && labels ? labels + (i - first) : NULL);
            continue;
        }
        if (l->index == d->count) {
            l->epoch++;
            new_order(l);
        }
        uint32_t j = l->order[l->index++];
        if (!mine)
            continue;
        to_float(d->images + (size_t)j * per, per, o);
        if (labels && d->labels)
            labels[i - first] = d->labels[j];
    }
}

uint64_t gc_loader_epoch(const struct gc_loader *l)
{
    return l->epoch;
}

size_t gc_loader_index(const struct gc_loader *l)
{
    return l->index;
}

void gc_loader_save(const struct gc_loader *l, struct gc_buf *b)
{
    uint8_t st[GC_RNG_BYTES];
    int points = gc_dataset_is_points(l->d);
    gc_buf_put_u32(b, LOADER_TAG);
    gc_buf_put_u64(b, l->d->count);
    gc_buf_put_u64(b, l->epoch);
    gc_buf_put_u64(b, l->index);
    /* point sets have no order to rebuild: their position is the current state */
    gc_rng_save(points ? &l->rng : &l->rng_epoch, st);
    gc_buf_put(b, st, sizeof(st));
}

int gc_loader_load(struct gc_loader *l, struct gc_reader *r, struct gc_error *err)
{
    uint32_t tag;
    uint64_t count, epoch, index;
    uint8_t st[GC_RNG_BYTES];
    int rc;
    if ((rc = gc_reader_u32(r, &tag, err)) || (rc = gc_reader_u64(r, &count, err)) ||
        (rc = gc_reader_u64(r, &epoch, err)) || (rc = gc_reader_u64(r, &index, err)) ||
        (rc = gc_reader_get(r, st, sizeof(st), err)))
        return gc_error_prefix(err, "loader position");
    if (tag != LOADER_TAG)
        return gc_error_set(err, GC_ECORRUPT, "loader position: bad tag 0x%08x", tag);
    if (count != l->d->count)
        return gc_error_set(err, GC_ECORRUPT,
                            "loader position: saved for %llu images, the dataset has %zu",
                            (unsigned long long)count, l->d->count);
    if (index > count)
        return gc_error_set(err, GC_ECORRUPT, "loader position: index %llu past %llu",
                            (unsigned long long)index, (unsigned long long)count);
    l->epoch = epoch;
    if (gc_dataset_is_points(l->d)) {
        gc_rng_load(&l->rng, st);
        l->rng_epoch = l->rng;
        l->index = 0;
        return 0;
    }
    gc_rng_load(&l->rng, st);
    new_order(l);
    l->index = (size_t)index;
    return 0;
}
