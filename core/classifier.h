/* classifier.h — the small CNN behind fid, class_coverage and classifier_score.
 *
 * For 28x28x1 labelled sets (Fashion-MNIST), built on core/model.h:
 *   conv 1->32 k4 s2 p1, relu, conv 32->64 k4 s2 p1, relu (64x7x7),
 *   linear 3136->128, relu  [the 128 penultimate features], linear 128->10 [logits].
 * Two strided convolutions rather than a full-resolution first layer: five times less
 * work per image, so training on the whole split fits in a minute or two on 2 cores.
 * Trained with softmax cross-entropy and Adam (lr 1e-3) on the training split, inputs
 * in [-1, 1] as the loader gives them.
 *
 * gc_classifier_get() loads it from a cache file in cache_dir, named by the dataset key
 * and GC_CLASSIFIER_VERSION ("classifier-fashion-mnist-1x28x28-v1.bin"), and trains and
 * writes it when the file is missing, unreadable or corrupt (the file is written to a
 * temporary name and renamed, so a crash never leaves half a file under the real name).
 *
 * Threads: a classifier is used by one thread at a time (its model holds the
 * activations of the last forward). Training runs on a pool of its own of
 * opts->threads threads; features and probabilities on the pool lent by
 * gc_classifier_set_pool, or on the caller's thread. OpenBLAS stays on one thread
 * (gc_blas_init, core/blas.h). */
#ifndef GC_CLASSIFIER_H
#define GC_CLASSIFIER_H

#include <stddef.h>
#include <stdint.h>

#include "core/data.h"
#include "core/error.h"
#include "core/spec.h"

#define GC_CLASSIFIER_VERSION 1
#define GC_CLASSIFIER_FEATURES 128
#define GC_CLASSIFIER_CLASSES 10

struct gc_classifier;
struct gc_pool;

struct gc_classifier_opts {
    size_t train_limit; /* images per epoch, taken in turn from the shuffled stream; 0 = all */
    int epochs;         /* passes over those images (>= 1) */
    int batch;          /* minibatch size (>= 1) */
    uint64_t seed;      /* init and data order */
    int threads;        /* threads of the training's own pool (0 or 1: the caller's) */
    gc_warn_fn log;     /* progress lines ("classifier: epoch 1/2, loss 0.41"); may be NULL */
    void *log_ctx;
};

/* The defaults used by gc_classifier_get: the whole train split, 3 epochs (the last at
 * lr 2.5e-4 with fresh Adam moments), batch 64, seed 1, one thread. */
void gc_classifier_default_opts(struct gc_classifier_opts *o);

/* 1 when the dataset can have a classifier (labelled, 1x28x28). */
int gc_classifier_supported(const struct gc_dataset *d);

/* Trains a new classifier on train (labelled, 1x28x28; GC_EUNSUPPORTED otherwise).
 * The caller owns the result. */
struct gc_classifier *gc_classifier_train(const struct gc_dataset *train,
                                          const struct gc_classifier_opts *o, struct gc_error *err);

/* Loads the classifier for `data` (any split or class mask of fashion-mnist; the
 * classifier always learns the full train split found in data->path or the default
 * folder) from cache_dir, or trains it with the default options and stores it there.
 * cache_dir NULL or "": train without caching. threads: the training's pool, as
 * gc_classifier_opts.threads. *trained (when not NULL) is set to 1 when it had to
 * train. GC_EUNSUPPORTED for datasets without labels or of another shape. The caller
 * owns the result. */
struct gc_classifier *gc_classifier_get(const char *cache_dir, const struct gc_dataset_spec *data,
                                        int threads, gc_warn_fn log, void *log_ctx, int *trained,
                                        struct gc_error *err);

void gc_classifier_destroy(struct gc_classifier *c);

/* Runs features and probabilities on pool from now on (borrowed: it must outlive the
 * classifier or be replaced first; NULL runs them on the caller). As
 * gc_model_set_pool: GC_ENOMEM when the per-thread buffers cannot be had. */
int gc_classifier_set_pool(struct gc_classifier *c, struct gc_pool *pool, struct gc_error *err);

/* Serialized form (the model's gc_model_serialize bytes, which carry a magic, a
 * version and a CRC) and back; load fails with GC_ECORRUPT on anything else. */
int gc_classifier_serialize(const struct gc_classifier *c, uint8_t **out, size_t *len,
                            struct gc_error *err);
struct gc_classifier *gc_classifier_deserialize(const uint8_t *bytes, size_t len,
                                                struct gc_error *err);

/* x is n x 784 floats in [-1, 1]. features: n x GC_CLASSIFIER_FEATURES (after the relu);
 * probs: n x GC_CLASSIFIER_CLASSES softmax probabilities. Works in chunks, any n. */
int gc_classifier_features(struct gc_classifier *c, const float *x, size_t n, float *out,
                           struct gc_error *err);
int gc_classifier_probs(struct gc_classifier *c, const float *x, size_t n, float *out,
                        struct gc_error *err);
/* Fraction of the labelled dataset classified correctly. */
int gc_classifier_accuracy(struct gc_classifier *c, const struct gc_dataset *d, double *acc,
                           struct gc_error *err);

#endif
