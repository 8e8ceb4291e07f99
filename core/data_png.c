/* data_png.c — the png-dir dataset: a folder of PNG files, or a folder of class
 * folders.
 *
 * A folder with PNG files at its top level is one unlabelled set of them (its
 * subfolders are not read). A folder with none there is read one level down: each
 * subfolder that holds PNG files is a class, named by the folder, and the classes are
 * numbered in byte order of their names, as the files inside each are read: the same
 * tree always gives the same dataset and the same labels (torchvision's ImageFolder
 * numbers classes the same way). Folders whose names start with "." are skipped. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/data_internal.h"
#include "core/image.h"

/* A growing, sortable list of names. */
struct names {
    char **v;
    size_t n, cap;
};

static void names_free(struct names *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int names_add(struct names *l, const char *s)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 64;
        char **nv = realloc(l->v, nc * sizeof *nv);
        if (!nv)
            return GC_ENOMEM;
        l->v = nv;
        l->cap = nc;
    }
    if (!(l->v[l->n] = strdup(s)))
        return GC_ENOMEM;
    l->n++;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_png_name(const char *name)
{
    size_t l = strlen(name);
    return l >= 5 && strcasecmp(name + l - 4, ".png") == 0;
}

/* The *.png files of a folder into png and, when dirs is not NULL, its subfolders
 * (symbolic links to folders count) into dirs, each list sorted. */
static int list_dir(const char *path, struct names *png, struct names *dirs, struct gc_error *err)
{
    DIR *dir = opendir(path);
    if (!dir)
        return gc_error_set(err, errno == ENOENT ? GC_ENOTFOUND : GC_EIO, "%s: %s", path,
                            strerror(errno));
    int rc = 0;
    struct dirent *e;
    while (!rc && (e = readdir(dir))) {
        if (e->d_name[0] == '.')
            continue;
        if (is_png_name(e->d_name)) {
            rc = names_add(png, e->d_name);
            continue;
        }
        if (!dirs || e->d_type == DT_REG)
            continue;
        if (e->d_type != DT_DIR) {
            char sub[GC_PATH_MAX + 256];
            struct stat st;
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            if (stat(sub, &st) != 0 || !S_ISDIR(st.st_mode))
                continue;
        }
        rc = names_add(dirs, e->d_name);
    }
    closedir(dir);
    if (rc)
        return gc_error_set(err, GC_ENOMEM, "%s: out of memory listing", path);
    if (png->n)
        qsort(png->v, png->n, sizeof *png->v, cmp_str);
    if (dirs && dirs->n)
        qsort(dirs->v, dirs->n, sizeof *dirs->v, cmp_str);
    return 0;
}

/* The subfolders of root that hold PNG files, checked as class names; files (when not
 * NULL) gets each class's PNG names, one list per class. */
static int class_folders(const char *root, const struct names *dirs, struct names *classes,
                         struct names *files, struct gc_error *err)
{
    for (size_t i = 0; i < dirs->n; i++) {
        char sub[GC_PATH_MAX + 256];
        snprintf(sub, sizeof sub, "%s/%s", root, dirs->v[i]);
        struct names png = {0};
        int rc = list_dir(sub, &png, NULL, err);
        if (rc || png.n == 0) {
            names_free(&png);
            if (rc == GC_ENOMEM)
                return rc;
            continue; /* an unreadable or image-less folder is not a class */
        }
        const char *name = dirs->v[i];
        size_t len = strlen(name);
        for (size_t k = 0; k < len && !rc; k++)
            if ((unsigned char)name[k] < 0x20 || name[k] == 0x7f)
                rc = gc_error_set(err, GC_EINVAL,
                                  "png-dir: the name of class folder %zu (in name order) holds "
                                  "a control character; class names must be printable",
                                  classes->n);
        if (!rc && len >= GC_CLASS_NAME_MAX)
            rc = gc_error_set(err, GC_EINVAL,
                              "png-dir: class folder name '%.40s...' is longer than %d bytes", name,
                              GC_CLASS_NAME_MAX - 1);
        if (!rc && classes->n == GC_MAX_CLASSES)
            rc = gc_error_set(err, GC_EINVAL, "png-dir: %s has more than %d class folders", root,
                              GC_MAX_CLASSES);
        if (!rc && names_add(classes, name))
            rc = gc_error_set(err, GC_ENOMEM, "png-dir: out of memory");
        if (rc) {
            names_free(&png);
            return rc;
        }
        if (files)
            files[classes->n - 1] = png;
        else
            names_free(&png);
    }
    return 0;
}

/* Decodes the PNGs `files` of folder dir into d's next rows (space for them is
 * there), with label (or none when < 0); unreadable files are skipped with a warning.
 * *loaded counts the images kept. */
static int load_files(struct gc_dataset *d, const char *dir, const struct names *files, int label,
                      const struct gc_dataset_spec *s, gc_warn_fn warn, void *warn_ctx,
                      size_t *loaded, struct gc_error *err)
{
    size_t per = (size_t)s->channels * s->image_size * s->image_size;
    *loaded = 0;
    for (size_t i = 0; i < files->n; i++) {
        char path[GC_PATH_MAX + 512];
        snprintf(path, sizeof(path), "%s/%s", dir, files->v[i]);
        struct gc_error e2 = {0};
        uint8_t *bytes;
        size_t len;
        struct gc_picture pic = {0};
        int r = gc_data_read_whole(path, &bytes, &len, &e2);
        if (!r) {
            r = gc_png_decode(bytes, len, &pic, &e2);
            free(bytes);
        }
        if (!r)
            r = gc_picture_fit(&pic, s->image_size, s->channels, d->images + d->count * per, &e2);
        gc_picture_fini(&pic);
        if (r == GC_ENOMEM)
            return gc_error_set(err, r, "%s", e2.msg);
        if (r) {
            if (label < 0)
                gc_data_warnf(warn, warn_ctx, "png-dir: skipping %s: %s", files->v[i], e2.msg);
            else
                gc_data_warnf(warn, warn_ctx, "png-dir: skipping %s/%s: %s", d->names[label],
                              files->v[i], e2.msg);
            continue;
        }
        if (label >= 0)
            d->labels[d->count] = (uint8_t)label;
        d->count++;
        (*loaded)++;
    }
    return 0;
}

static int open_flat(struct gc_dataset *d, const struct gc_dataset_spec *s, const struct names *png,
                     gc_warn_fn warn, void *warn_ctx, struct gc_error *err)
{
    size_t per = (size_t)s->channels * s->image_size * s->image_size, loaded;
    if (png->n && !(d->images = malloc(png->n * per)))
        return gc_error_set(err, GC_ENOMEM, "%s: out of memory for %zu images", s->path, png->n);
    int rc = load_files(d, s->path, png, -1, s, warn, warn_ctx, &loaded, err);
    if (!rc && d->count == 0)
        rc = gc_error_set(err, GC_ECORRUPT, "%s: no readable PNG image (%zu *.png files)", s->path,
                          png->n);
    return rc;
}

static int open_classes(struct gc_dataset *d, const struct gc_dataset_spec *s,
                        const struct names *dirs, gc_warn_fn warn, void *warn_ctx,
                        struct gc_error *err)
{
    struct names classes = {0};
    struct names *files = calloc(GC_MAX_CLASSES, sizeof *files);
    if (!files)
        return gc_error_set(err, GC_ENOMEM, "png-dir: out of memory");
    int rc = class_folders(s->path, dirs, &classes, files, err);
    if (!rc && classes.n == 0)
        rc = gc_error_set(err, GC_ECORRUPT,
                          "%s: no readable PNG image (0 *.png files, and no subfolder holds any)",
                          s->path);
    size_t total = 0, per = (size_t)s->channels * s->image_size * s->image_size;
    for (size_t k = 0; k < classes.n; k++)
        total += files[k].n;
    if (!rc) {
        d->images = malloc(total * per);
        d->labels = malloc(total);
        d->names = calloc(classes.n, sizeof *d->names);
        if (!d->images || !d->labels || !d->names)
            rc = gc_error_set(err, GC_ENOMEM, "%s: out of memory for %zu images", s->path, total);
    }
    for (size_t k = 0; !rc && k < classes.n; k++) {
        snprintf(d->names[k], sizeof d->names[k], "%s", classes.v[k]);
        d->nclasses = (int)k + 1;
        char sub[GC_PATH_MAX + 256];
        snprintf(sub, sizeof sub, "%s/%s", s->path, classes.v[k]);
        size_t loaded;
        rc = load_files(d, sub, &files[k], (int)k, s, warn, warn_ctx, &loaded, err);
        if (!rc && loaded == 0)
            rc = gc_error_set(err, GC_ECORRUPT,
                              "%s: class folder '%s' has no readable PNG image (%zu *.png files)",
                              s->path, classes.v[k], files[k].n);
    }
    for (size_t k = 0; k < GC_MAX_CLASSES; k++)
        names_free(&files[k]);
    free(files);
    names_free(&classes);
    return rc;
}

int gc_data_open_png_dir(struct gc_dataset *d, const struct gc_dataset_spec *s, gc_warn_fn warn,
                         void *warn_ctx, struct gc_error *err)
{
    int size = s->image_size, ch = s->channels;
    if (size < GC_MIN_IMAGE || size > GC_MAX_IMAGE || (ch != 1 && ch != 3))
        return gc_error_set(err, GC_EINVAL, "png-dir: image_size %d or channels %d out of range",
                            size, ch);
    struct names png = {0}, dirs = {0};
    int rc = list_dir(s->path, &png, &dirs, err);
    if (!rc)
        rc = png.n ? open_flat(d, s, &png, warn, warn_ctx, err)
                   : open_classes(d, s, &dirs, warn, warn_ctx, err);
    names_free(&png);
    names_free(&dirs);
    if (rc)
        return rc;
    d->c = ch;
    d->h = d->w = size;
    return 0;
}

int gc_data_png_classes(const struct gc_dataset_spec *s, struct gc_class_list *out,
                        struct gc_error *err)
{
    out->n = 0;
    struct names png = {0}, dirs = {0}, classes = {0};
    int rc = list_dir(s->path, &png, &dirs, err);
    if (!rc && png.n)
        rc = gc_error_set(err, GC_EINVAL,
                          "png-dir: %s holds its PNG files at the top level, so they have no "
                          "class; put each class's PNGs in a subfolder named after it",
                          s->path);
    if (!rc)
        rc = class_folders(s->path, &dirs, &classes, NULL, err);
    if (!rc && classes.n == 0)
        rc = gc_error_set(err, GC_EINVAL,
                          "png-dir: %s has no subfolder with PNG files; a labelled png-dir has "
                          "one subfolder per class, named after it",
                          s->path);
    for (size_t k = 0; !rc && k < classes.n; k++) {
        out->c[k].label = (int)k;
        snprintf(out->c[k].name, sizeof out->c[k].name, "%s", classes.v[k]);
        out->n = (int)k + 1;
    }
    names_free(&png);
    names_free(&dirs);
    names_free(&classes);
    return rc;
}
