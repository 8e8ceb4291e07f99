/* gan_sample.h — drawing from a GAN trainer's generators (of given classes when the
 * run is conditional), and encoding what they draw. Part of the engine's public API: core/gan.h
 * includes it.
 *
 * Same threads rule as core/gan.h: the thread that owns the trainer. Generation runs
 * G in eval mode and touches no training state, so a run drawing samples between its
 * steps checkpoints the same bytes as one that does not. */
#ifndef GC_GAN_SAMPLE_H
#define GC_GAN_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

struct gc_trainer;
struct gc_class_list;

/* Shape of one sample: (c, h, w) for images, (1, 1, 2) for 2D points. */
void gc_trainer_sample_shape(const struct gc_trainer *t, int *c, int *h, int *w);

/* Draws n samples from the generator(s) in eval mode with noise from seed; out holds
 * n*c*h*w floats, images in [-1, 1] (NCHW), points as (x, y). Evenly from all K
 * generators with MAD-GAN. With tricks.ema the samples come from the averaged weights
 * (with the trained G's BN running statistics); so do sample grids and evaluations. */
int gc_trainer_generate(struct gc_trainer *t, int n, uint64_t seed, float *out,
                        struct gc_error *err);
/* The same for a conditional run with the classes asked: classes holds n places in
 * gc_trainer_classes' list (NULL: sample i is of class i mod the number of classes,
 * which is also what gc_trainer_generate gives a conditional run). cols > 0 gives
 * sample i the noise of draw i mod cols, so a grid of cols columns whose rows differ
 * in class only holds the same noise down each column; 0: draw i. GC_EINVAL for
 * classes asked of an unconditional run or a place out of range. */
int gc_trainer_generate_classes(struct gc_trainer *t, int n, uint64_t seed, const int *classes,
                                int cols, float *out, struct gc_error *err);
/* The classes of a conditional run (core/data.h: label and name of each, in the order
 * of their places), NULL for an unconditional one. Borrowed from the trainer. */
const struct gc_class_list *gc_trainer_classes(const struct gc_trainer *t);

/* The same from given noise: noise holds n x z_dim floats, sample i drawn from
 * generator i mod K with the i-th vector (a conditional run: of class i mod its number
 * of classes). */
int gc_trainer_generate_from(struct gc_trainer *t, int n, const float *noise, float *out,
                             struct gc_error *err);
/* The same with classes as gc_trainer_generate_classes takes them: sample i gets noise
 * vector i mod draws (noise holds draws x z_dim floats) and class classes[i]. */
int gc_trainer_generate_from_classes(struct gc_trainer *t, int n, const float *noise, int draws,
                                     const int *classes, float *out, struct gc_error *err);

/* Generator k (0..K-1) as an ONNX model (core/onnx.h: IR 7, opset 13; docs/api.md):
 * input "z" float (N, z_dim) (a conditional run: (N, z_dim + classes), the noise then
 * the class one-hot), output "x" float (N, C, H, W), or (N, 2) for 2D sets, as
 * gc_trainer_generate_from computes it for that noise: eval mode, batch norm with its
 * running statistics, the averaged weights with tricks.ema. version is the producer's
 * version. *out malloc'ed, the caller frees it. */
int gc_trainer_export_onnx(struct gc_trainer *t, int k, const char *version, uint8_t **out,
                           size_t *len, struct gc_error *err);

/* Encoders for what gc_trainer_generate returns; *out malloc'ed, the caller frees it.
 * png: a grid of images (8 x 8 for the 64 of a sample grid), or a scatter plot of
 * points over the true mixture (2D).
 * idx: uint8 images as an IDX file, n×h×w (c = 1) or n×h×w×c. */
int gc_trainer_encode_png(const struct gc_trainer *t, const float *samples, int n, uint8_t **out,
                          size_t *len, struct gc_error *err);
/* A grid of cols columns (0: about square) instead; 2D points as encode_png. */
int gc_trainer_encode_grid(const struct gc_trainer *t, const float *samples, int n, int cols,
                           uint8_t **out, size_t *len, struct gc_error *err);
int gc_trainer_encode_idx(const struct gc_trainer *t, const float *samples, int n, uint8_t **out,
                          size_t *len, struct gc_error *err);

#endif
