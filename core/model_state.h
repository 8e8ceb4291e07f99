/* model_state.h — a model's state (parameters, optimizer moments and step, BN running
 * statistics) copied between models, saved as a checkpoint section, and framed as a
 * stand-alone buffer. Part of the model's API: core/model.h includes it. */
#ifndef GC_MODEL_STATE_H
#define GC_MODEL_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/serial.h"

struct gc_model;

/* gc_model_serialize's frame: magic "GCMD" (little-endian bytes 'G','C','M','D') and
 * the format version this build reads and writes. */
#define GC_MODEL_MAGIC 0x444d4347u
#define GC_MODEL_VERSION 1u

/* Copies parameters, optimizer state and BN running stats between two models of the
 * same architecture without allocating (the unrolled GAN's look-ahead copy of D).
 * GC_EINVAL naming the first layer that differs; GC_ESTATE before finalize. */
int gc_model_copy_state(struct gc_model *dst, const struct gc_model *src, struct gc_error *err);

/* Appends / reads the model's state (a fingerprint of the architecture, parameters,
 * optimizer moments and step, BN running stats) as one section of a serial buffer.
 * Load rejects a state of another architecture. */
int gc_model_save(const struct gc_model *m, struct gc_buf *b);
int gc_model_load(struct gc_model *m, struct gc_reader *r, struct gc_error *err);
/* A stand-alone buffer: magic, format version, length, the state, CRC-32. */
int gc_model_serialize(const struct gc_model *m, uint8_t **out, size_t *len, struct gc_error *err);
int gc_model_deserialize(struct gc_model *m, const uint8_t *bytes, size_t len,
                         struct gc_error *err);

#endif
