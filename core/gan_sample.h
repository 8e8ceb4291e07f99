/* gan_sample.h — drawing from a GAN trainer's generators, and encoding what they
 * draw. Part of the engine's public API: core/gan.h includes it.
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

/* Shape of one sample: (c, h, w) for images, (1, 1, 2) for 2D points. */
void gc_trainer_sample_shape(const struct gc_trainer *t, int *c, int *h, int *w);

/* Draws n samples from the generator(s) in eval mode with noise from seed; out holds
 * n*c*h*w floats, images in [-1, 1] (NCHW), points as (x, y). Evenly from all K
 * generators with MAD-GAN. With tricks.ema the samples come from the averaged weights
 * (with the trained G's BN running statistics); so do sample grids and evaluations. */
int gc_trainer_generate(struct gc_trainer *t, int n, uint64_t seed, float *out,
                        struct gc_error *err);

/* The same from given noise: noise holds n x z_dim floats, sample i drawn from
 * generator i mod K with the i-th vector. */
int gc_trainer_generate_from(struct gc_trainer *t, int n, const float *noise, float *out,
                             struct gc_error *err);

/* Generator k (0..K-1) as an ONNX model (core/onnx.h: IR 7, opset 13; docs/api.md):
 * input "z" float (N, z_dim), output "x" float (N, C, H, W), or (N, 2) for 2D sets, as
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
int gc_trainer_encode_idx(const struct gc_trainer *t, const float *samples, int n, uint8_t **out,
                          size_t *len, struct gc_error *err);

#endif
