/* data.h — datasets and the batch loader.
 *
 * A gc_dataset is opened from a struct gc_dataset_spec (docs/spec.md):
 *
 *   fashion-mnist  gzipped IDX files under /usr/share/datasets/fashion-mnist (or
 *                  spec->path when not empty): train (60,000) or test (10,000) split,
 *                  optional class bit mask, labels kept. Shape (1,28,28).
 *   idx            any IDX3 ubyte image file (gz or not, told apart by the gzip magic
 *                  1f 8b), n x h x w. Labelled when spec->labels_path names an IDX1
 *                  file of n labels (gz or not; another count is GC_ECORRUPT). Shape
 *                  (1,h,w).
 *   png-dir        every *.png of a folder, in byte order of the file names (so the
 *                  same folder always gives the same dataset), scaled so the shorter
 *                  side is image_size (area average down, bilinear up), center-cropped
 *                  to image_size x image_size, converted to `channels` (1 or 3; alpha
 *                  is composited over black). Unreadable files are skipped with a
 *                  warning through the warn callback; a folder with no readable image
 *                  is an error. A folder without PNGs at its top level is read one
 *                  level down, one class per subfolder that holds PNGs (classes
 *                  numbered in byte order of the folder names; a class without a
 *                  readable image is an error). Shape (channels,image_size,image_size).
 *   ring8, grid25  the PacGAN mixtures, drawn on the fly: ring8 has 8 modes at
 *                  (cos 2πk/8, sin 2πk/8), sigma 0.01; grid25 has 25 modes at
 *                  {-4,-2,0,2,4}^2, sigma 0.05; every mode equally likely. Shape
 *                  (2,1,1): one point is the vector (x, y); its label is its mode.
 *
 * spec->subset > 0 keeps that many of an image set's images (after the class mask),
 * spread evenly over it: image floor(i * count / subset); more than the set holds is
 * GC_EINVAL. Images stay in memory as uint8 (N,C,H,W); batches come out as float
 * (N,C,H,W) in [-1, 1] (x / 127.5 - 1). 2D points come out as (N,2) floats.
 *
 * Errors: GC_ENOTFOUND (missing file or folder), GC_ECORRUPT (bad magic, dimensions,
 * size, gzip stream; no image in a folder), GC_EINVAL (bad spec), GC_ENOMEM, GC_EIO.
 * Messages name the file. Nothing here prints or exits.
 *
 * Threads: a dataset is read-only once opened and may be shared by threads; a loader
 * belongs to one thread. */
#ifndef GC_DATA_H
#define GC_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/rng.h"
#include "core/serial.h"
#include "core/spec.h"

/* The default folder of the Debian package dataset-fashion-mnist. */
#define GC_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"
#define GC_FASHION_MNIST_CLASSES 10

/* ---- classes ----------------------------------------------------------------------
 * A labelled set's classes: each has its label (its number in the data: Fashion-MNIST's
 * 0-9, an idx label byte, a png-dir folder's place in name order, a mixture's mode) and
 * a name (Fashion-MNIST's "Sneaker", the png-dir folder; the label in decimal for idx
 * and the mixtures). A list holds the classes a run trains with, in label order; a
 * class's place in the list is its index in a conditional model. */
#define GC_MAX_CLASSES 256
#define GC_CLASS_NAME_MAX 128 /* bytes of a name with its NUL */

struct gc_class {
    int label;
    char name[GC_CLASS_NAME_MAX];
};

struct gc_class_list {
    int n; /* 0: unlabelled */
    struct gc_class c[GC_MAX_CLASSES];
};

/* The place in l of the class with this label, or -1. */
int gc_class_list_find_label(const struct gc_class_list *l, int label);
/* The place in l of the class with exactly this name, or -1. */
int gc_class_list_find_name(const struct gc_class_list *l, const char *name);
/* 1 when a and b hold the same labels and names in the same order. */
int gc_class_list_equal(const struct gc_class_list *a, const struct gc_class_list *b);
/* The list as text, one class a line, "LABEL NAME\n" (names are printable, without
 * line breaks), malloc'ed (NULL: no memory); "" for an empty list. */
char *gc_class_list_to_text(const struct gc_class_list *l);
/* Reads what gc_class_list_to_text wrote; GC_ECORRUPT on anything else. */
int gc_class_list_from_text(const char *text, struct gc_class_list *out, struct gc_error *err);

struct gc_dataset;

/* Receives one warning line (a skipped file); may be NULL. */
typedef void (*gc_warn_fn)(void *ctx, const char *msg);

/* Opens the dataset. The caller owns the result (gc_dataset_destroy). Returns NULL
 * with err set on failure. */
struct gc_dataset *gc_dataset_open(const struct gc_dataset_spec *spec, gc_warn_fn warn,
                                   void *warn_ctx, struct gc_error *err);
void gc_dataset_destroy(struct gc_dataset *d);
/* The idx kind from the bytes of the file (gzipped or not) instead of spec->path, with
 * the same checks; name stands for the path in messages. For the fuzzer and for callers
 * that hold the file in memory already. */
struct gc_dataset *gc_dataset_open_idx_bytes(const uint8_t *bytes, size_t len, const char *name,
                                             struct gc_error *err);

/* A dataset of images already in memory: count images of (c, h, w) bytes (planar), kept
 * in this order, no labels, kind as given (the key names it). images is taken: freed
 * with the dataset, or at once on failure. For sets made from others (a held-out
 * split, pairs of images). */
struct gc_dataset *gc_dataset_from_images(enum gc_dataset_kind kind, int c, int h, int w,
                                          size_t count, uint8_t *images, struct gc_error *err);

enum gc_dataset_kind gc_dataset_kind(const struct gc_dataset *d);
/* 1 for ring8 / grid25 (points drawn on the fly, no stored images). */
int gc_dataset_is_points(const struct gc_dataset *d);
/* Per-sample shape: (C,H,W) for images, (2,1,1) for points. */
void gc_dataset_shape(const struct gc_dataset *d, int *c, int *h, int *w);
/* Floats per sample: C*H*W (2 for points). */
size_t gc_dataset_sample_size(const struct gc_dataset *d);
/* Stored images (0 for the point sets). */
size_t gc_dataset_count(const struct gc_dataset *d);
/* The size of the label space when labelled (10 for fashion-mnist, whatever the mask;
 * the largest label + 1 for idx; the class folders of png-dir; the modes of a
 * mixture), else 0. */
int gc_dataset_nclasses(const struct gc_dataset *d);
/* The classes the set holds (fashion-mnist: those of the mask; idx: the labels that
 * occur; png-dir: every class folder; the mixtures: every mode) into out; out->n = 0
 * when unlabelled. */
void gc_dataset_classes(const struct gc_dataset *d, struct gc_class_list *out);
/* The classes the spec's data holds, as gc_dataset_classes gives them once opened,
 * found without reading images (a png-dir's folders are listed, an idx labels file is
 * read). GC_EINVAL with a message that says why when the data has no labels
 * ("png-dir: DIR holds its PNG files at the top level, ..."); GC_ENOTFOUND, GC_EIO,
 * GC_ECORRUPT for files that cannot be read. */
int gc_dataset_spec_classes(const struct gc_dataset_spec *spec, struct gc_class_list *out,
                            struct gc_error *err);

/* Borrowed views: the images, count x C x H x W bytes (NULL for points), and the labels,
 * count bytes (NULL when unlabelled and for points, whose labels come with each draw).
 * Valid until gc_dataset_destroy. */
const uint8_t *gc_dataset_images(const struct gc_dataset *d);
const uint8_t *gc_dataset_labels(const struct gc_dataset *d);

/* Images [first, first + n) in stored order as floats in [-1, 1] into out
 * (n x sample_size); labels (n ints) when not NULL and the set is labelled, else
 * left alone. GC_EINVAL when the range is out of bounds or the set has points. */
int gc_dataset_get(const struct gc_dataset *d, size_t first, size_t n, float *out, int *labels,
                   struct gc_error *err);

/* n images spread evenly over the stored order (image floor(i * count / n) for
 * i < n), as floats in [-1, 1]; labels as in gc_dataset_get. Real images for the
 * evaluation: unlike the first n, they are not biased by how files are ordered or
 * named. GC_EINVAL when n is 0 or more than the count, or the set has points. */
int gc_dataset_get_spread(const struct gc_dataset *d, size_t n, float *out, int *labels,
                          struct gc_error *err);

/* The spec of the real images an evaluation compares against: Fashion-MNIST's test
 * split (same classes and folder) for fashion-mnist; the same data for every other
 * kind (idx and png-dir have no held-out split; the 2D sets are drawn fresh). Always
 * the whole set: a subset the run trains on is not the measure of what it learned. */
void gc_dataset_eval_spec(const struct gc_dataset_spec *train, struct gc_dataset_spec *out);

/* Point sets: n points (n x 2 floats) drawn from the mixture with rng: a mode chosen
 * uniformly, then centre + sigma * N(0, I); the modes into labels (n ints) when not
 * NULL. Asserts the set has points. */
void gc_dataset_draw_points(const struct gc_dataset *d, struct gc_rng *rng, size_t n, float *out,
                            int *labels);
/* Point sets: the mode centres (k x 2 floats, borrowed) and sigma; returns k
 * (8 or 25), 0 for image sets (then *centers = NULL, *sigma = 0). */
int gc_dataset_modes(const struct gc_dataset *d, const float **centers, float *sigma);
/* The number of modes of a point set by its kind alone (8, 25), 0 for image sets. */
int gc_dataset_kind_modes(enum gc_dataset_kind k);

/* A short key that names the data and its shape, for caches:
 * "fashion-mnist-1x28x28", "idx-1x28x28", "png-dir-3x64x64", "ring8". */
const char *gc_dataset_key(const struct gc_dataset *d);

/* ---- the loader ----------------------------------------------------------------
 * Walks a dataset in a fresh random order each epoch, from its own RNG stream
 * (seed, stream). A batch that runs past the end of an epoch takes the rest of the
 * epoch, reshuffles, and continues from the new order. For point sets every batch is
 * drawn fresh from the loader's RNG. The position (epoch, index, RNG state) saves to
 * bytes and loads back so a resumed run sees exactly the batches it would have seen. */
struct gc_loader;

/* The dataset is borrowed and must outlive the loader. The caller owns the loader. */
struct gc_loader *gc_loader_create(const struct gc_dataset *d, uint64_t seed, uint64_t stream,
                                   struct gc_error *err);
void gc_loader_destroy(struct gc_loader *l);

/* The next n samples as floats (n x sample_size, [-1, 1] for images); labels (n ints)
 * when not NULL and the dataset is labelled (point sets: the modes drawn). */
void gc_loader_next(struct gc_loader *l, size_t n, float *out, int *labels);

/* The part [first, first + count) of the next n samples (count <= n - first): the
 * loader moves on by n exactly as gc_loader_next does, but only the part is decoded
 * into out (count x sample_size) and labels (count ints). The ranks of one run each
 * take their part of the same batch this way. */
void gc_loader_next_part(struct gc_loader *l, size_t n, size_t first, size_t count, float *out,
                         int *labels);

/* Completed epochs and the index into the current one (0 for point sets). */
uint64_t gc_loader_epoch(const struct gc_loader *l);
size_t gc_loader_index(const struct gc_loader *l);

/* Appends the position to b (a fixed GC_LOADER_BYTES bytes). Check b->oom after. */
#define GC_LOADER_BYTES (4 + 8 + 8 + 8 + GC_RNG_BYTES)
void gc_loader_save(const struct gc_loader *l, struct gc_buf *b);
/* Reads a position written by gc_loader_save for a dataset of the same size;
 * GC_ECORRUPT on a short read, a bad tag, a count that differs or an index past the
 * end. On error the loader is unchanged. */
int gc_loader_load(struct gc_loader *l, struct gc_reader *r, struct gc_error *err);

#endif
