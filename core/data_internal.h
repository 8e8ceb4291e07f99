/* data_internal.h — a dataset's insides, shared by the rooms of core/data.
 *
 * Internal to the data*.c files (data.c: files, IDX, Fashion-MNIST, the mixtures and
 * the loader; data_png.c: PNG folders; data_classes.c: class lists): only they include
 * it. Everyone else sees struct gc_dataset as the opaque handle of core/data.h. */
#ifndef GC_DATA_INTERNAL_H
#define GC_DATA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/data.h"

struct gc_dataset {
    enum gc_dataset_kind kind;
    int c, h, w;
    size_t count;
    uint8_t *images; /* count x c x h x w */
    uint8_t *labels; /* count, or NULL */
    /* the size of the label space: fashion-mnist 10 (whatever the mask), idx the
     * largest label + 1, png-dir its class folders, the mixtures their modes; 0 when
     * unlabelled */
    int nclasses;
    char (*names)[GC_CLASS_NAME_MAX]; /* png-dir: nclasses folder names, else NULL */
    float centers[25 * 2];
    int nmodes;
    float sigma;
    char key[64];
};

/* Reads a whole file (at most 4 GiB) into *out (malloc'ed, the caller frees it). */
int gc_data_read_whole(const char *path, uint8_t **out, size_t *len, struct gc_error *err);

/* A warning line through warn (when not NULL), at most one path plus 300 bytes. */
void gc_data_warnf(gc_warn_fn warn, void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The png-dir kind into d (data_png.c): the folder's PNGs, or when it has none at its
 * top level, one class per subfolder that holds PNGs. */
int gc_data_open_png_dir(struct gc_dataset *d, const struct gc_dataset_spec *s, gc_warn_fn warn,
                         void *warn_ctx, struct gc_error *err);

/* The class folders of a png-dir spec, by listing folders only (no image is read).
 * GC_EINVAL saying why when the folder has no classes. */
int gc_data_png_classes(const struct gc_dataset_spec *s, struct gc_class_list *out,
                        struct gc_error *err);

/* The labels of an idx spec's labels_path (IDX1, gzip or not): *labels (count bytes,
 * malloc'ed) and *count. Messages name the file. */
int gc_data_read_labels(const char *path, uint8_t **labels, size_t *count, struct gc_error *err);

#endif
