/* gan_arch.h — the architectures of the GAN engine: G and D from the spec.
 *
 * Internal to the GAN engine (core/gan_*.c); the shapes it builds are described in
 * core/gan.h (gc_trainer_create). Every function reads the trainer's spec and the
 * per-sample shape and changes nothing else of it, except gc_gan_sample_shape, which
 * sets that shape. */
#ifndef GC_GAN_ARCH_H
#define GC_GAN_ARCH_H

#include <stdint.h>

#include "core/error.h"
#include "core/rng.h"

struct gc_trainer;
struct gc_model;

/* Sets t->c, h, w and dsize from the opened dataset (t->data) or, without it, from
 * the spec alone; refuses a shape the spec's architecture cannot take (GC_EINVAL). */
int gc_gan_sample_shape(struct gc_trainer *t, struct gc_error *err);

/* A generator or the discriminator, finalized (weights drawn from rng) and with its
 * optimizer; NULL with err set on failure. The caller owns the model. */
struct gc_model *gc_gan_build_g(const struct gc_trainer *t, struct gc_rng *rng,
                                struct gc_error *err);
struct gc_model *gc_gan_build_d(const struct gc_trainer *t, struct gc_rng *rng,
                                struct gc_error *err);

/* A fingerprint of what fixes the shape of the training state: the data shape, the
 * models, the number of generators and the optimizers. A checkpoint carries it. */
uint64_t gc_gan_shape_fingerprint(const struct gc_trainer *t);

#endif
