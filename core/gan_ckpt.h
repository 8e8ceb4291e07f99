/* gan_ckpt.h — checkpoints of a GAN trainer: its whole training state as bytes, and
 * back. Part of the engine's public API: core/gan.h includes it.
 *
 * A restored trainer continues bit for bit as if it had never stopped, given the same
 * spec and thread count. Same threads rule as core/gan.h: the thread that owns the
 * trainer. */
#ifndef GC_GAN_CKPT_H
#define GC_GAN_CKPT_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

struct gc_trainer;

/* Serializes the whole training state; *out is malloc'ed, the caller frees it. */
int gc_trainer_checkpoint(struct gc_trainer *t, uint8_t **out, size_t *len, struct gc_error *err);

/* Restores everything from checkpoint bytes written by this spec's trainer. Rejects
 * a wrong magic, version, size, checksum or a checkpoint of another model shape. */
int gc_trainer_restore(struct gc_trainer *t, const uint8_t *bytes, size_t len,
                       struct gc_error *err);

#endif
