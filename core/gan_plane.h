/* gan_plane.h — the plane of a 2D run: G's density and D's output over a grid of it.
 *
 * At each sample step of a 2D set (ring8, grid25) the engine measures, over the square
 * [-range, range]^2 of the scatter plot (gc_scatter_range) cut into GC_PLANE_SIZE x
 * GC_PLANE_SIZE cells: the share of the sample grid's 2,500 generated points in each
 * cell (G's density) and D's output at each cell's centre (D's decision surface: a
 * probability for minimax and nonsaturating, the probability of "real" with MAD-GAN,
 * the raw score for the other losses; a conditional D judges each cell as a sample of
 * the class of its nearest mode), with the mixture's modes and sigma. Where a
 * plain GAN collapses, the density piles onto a few modes while D's surface rises over
 * the ones G left: the picture of mode collapse.
 *
 * The plane travels as bytes (the engine's hook hands them to the store, the API reads
 * them back): magic "GCPL", version 1, little-endian
 *   u32 size | u32 k modes | u32 raw | f32 range | f32 sigma | 2k f32 centres |
 *   size^2 f32 density | size^2 f32 D output
 * rows from y = +range (top) down, columns from x = -range. raw is 1 when D's output is
 * a raw score rather than a probability. Plain data: thread-safe. */
#ifndef GC_GAN_PLANE_H
#define GC_GAN_PLANE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define GC_PLANE_SIZE 64

struct gc_trainer;

/* The plane of the trainer now, with G's density from the n points pts (n x 2), into
 * *out (malloc'ed, the caller frees). GC_EINVAL for an image set. Runs D in eval mode
 * on the grid: no training state changes. */
int gc_trainer_plane(struct gc_trainer *t, const float *pts, int n, uint8_t **out, size_t *len,
                     struct gc_error *err);

/* A plane read back: views into the bytes (borrowed); read a float of an array with
 * gc_plane_f32 (the arrays need not be aligned). */
struct gc_plane {
    int size, k, raw;
    float range, sigma;
    const uint8_t *centers, *density, *d; /* little-endian f32 arrays: 2k, size^2, size^2 */
};
/* Checks the frame and the sizes; GC_ECORRUPT naming what is wrong. */
int gc_plane_parse(const uint8_t *bytes, size_t len, struct gc_plane *p, struct gc_error *err);
/* The i-th float of an array of the plane. */
float gc_plane_f32(const uint8_t *arr, size_t i);

#endif
