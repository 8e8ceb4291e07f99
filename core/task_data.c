/* task_data.c — pairs of images from two folders and the held-out split of the
 * image-to-image runs (see task_data.h). */
#include "core/task_data.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/image.h"

#define MAX_PNG_BYTES ((size_t)64 << 20)

static int is_png_name(const struct dirent *e)
{
    size_t l = strlen(e->d_name);
    return l > 4 && strcasecmp(e->d_name + l - 4, ".png") == 0;
}

/* byte order, as png-dir sorts, not the locale's */
static int by_bytes(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* Reads, decodes and fits one PNG into out (ch x size x size bytes). */
static int fit_file(const char *dir, const char *name, int size, int ch, uint8_t *out,
                    struct gc_error *err)
{
    char path[GC_PATH_MAX + 300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return gc_error_set(err, errno == ENOENT ? GC_ENOTFOUND : GC_EIO, "%s", strerror(errno));
    uint8_t *bytes = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (len == cap) {
            size_t nc = cap ? 2 * cap : 1 << 16;
            uint8_t *nb = nc <= MAX_PNG_BYTES ? realloc(bytes, nc) : NULL;
            if (!nb) {
                rc = gc_error_set(err, nc > MAX_PNG_BYTES ? GC_ETOOBIG : GC_ENOMEM,
                                  "larger than %zu MiB or out of memory", MAX_PNG_BYTES >> 20);
                break;
            }
            bytes = nb;
            cap = nc;
        }
        size_t got = fread(bytes + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    fclose(f);
    struct gc_picture pic = {0};
    if (!rc)
        rc = gc_png_decode(bytes, len, &pic, err);
    free(bytes);
    if (!rc)
        rc = gc_picture_fit(&pic, size, ch, out, err);
    gc_picture_fini(&pic);
    return rc;
}

static void warn_skip(gc_warn_fn warn, void *ctx, const char *name, const char *why)
{
    if (!warn)
        return;
    char msg[600];
    snprintf(msg, sizeof msg, "paired: skipping %.200s: %.300s", name, why);
    warn(ctx, msg);
}

struct gc_dataset *gc_task_open_paired(const struct gc_spec *spec, gc_warn_fn warn, void *ctx,
                                       struct gc_error *err)
{
    const char *tdir = spec->dataset.path, *sdir = spec->task.source_path;
    int size = spec->dataset.image_size, ch = spec->dataset.channels;
    struct dirent **names = NULL;
    int n = scandir(tdir, &names, is_png_name, by_bytes);
    if (n < 0) {
        gc_error_set(err, errno == ENOENT ? GC_ENOTFOUND : GC_EIO, "%s: %s", tdir, strerror(errno));
        return NULL;
    }
    size_t half = (size_t)ch * size * size, count = 0;
    uint8_t *images = n ? malloc((size_t)n * 2 * half) : NULL;
    int rc =
        n && !images ? gc_error_set(err, GC_ENOMEM, "%s: out of memory for %d pairs", tdir, n) : 0;
    for (int i = 0; i < n && !rc; i++) {
        struct gc_error e2 = {0};
        uint8_t *item = images + count * 2 * half;
        int r = fit_file(sdir, names[i]->d_name, size, ch, item, &e2);
        if (r == GC_ENOTFOUND) {
            warn_skip(warn, ctx, names[i]->d_name, "no input of that name in task.source_path");
            continue;
        }
        if (!r)
            r = fit_file(tdir, names[i]->d_name, size, ch, item + half, &e2);
        if (r == GC_ENOMEM)
            rc = gc_error_set(err, r, "%s", e2.msg);
        else if (r)
            warn_skip(warn, ctx, names[i]->d_name, e2.msg);
        else
            count++;
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (!rc && count == 0)
        rc = gc_error_set(err, GC_ECORRUPT,
                          "%s: no PNG with a readable namesake in %s (%d *.png files)", tdir, sdir,
                          n);
    if (rc) {
        free(images);
        return NULL;
    }
    return gc_dataset_from_images(GC_DATA_PNG_DIR, 2 * ch, size, size, count, images, err);
}

static int held_out(size_t i, size_t count)
{
    return count < 10 ? i == count - 1 : i % 10 == 9;
}

int gc_task_split(const struct gc_dataset *all, struct gc_dataset **train, struct gc_dataset **held,
                  struct gc_error *err)
{
    *train = *held = NULL;
    size_t count = gc_dataset_count(all), per = gc_dataset_sample_size(all), nh = 0;
    if (count < 2)
        return gc_error_set(err, GC_EINVAL,
                            "dataset: %zu image; a task needs at least 2 (one to hold out)", count);
    for (size_t i = 0; i < count; i++)
        nh += held_out(i, count);
    uint8_t *a = malloc((count - nh) * per), *b = malloc(nh * per);
    if (!a || !b) {
        free(a);
        free(b);
        return gc_error_set(err, GC_ENOMEM, "dataset: out of memory for the held-out split");
    }
    const uint8_t *src = gc_dataset_images(all);
    size_t ia = 0, ib = 0;
    for (size_t i = 0; i < count; i++) {
        if (held_out(i, count))
            memcpy(b + ib++ * per, src + i * per, per);
        else
            memcpy(a + ia++ * per, src + i * per, per);
    }
    int c, h, w;
    gc_dataset_shape(all, &c, &h, &w);
    enum gc_dataset_kind k = gc_dataset_kind(all);
    *train = gc_dataset_from_images(k, c, h, w, count - nh, a, err);
    *held = gc_dataset_from_images(k, c, h, w, nh, b, err);
    if (!*train || !*held) {
        gc_dataset_destroy(*train);
        gc_dataset_destroy(*held);
        *train = *held = NULL;
        return err ? err->code : GC_ENOMEM;
    }
    return 0;
}
