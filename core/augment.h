/* augment.h — DiffAugment (Zhao et al. 2020): random, differentiable augmentations of
 * images that a GAN applies to real and generated batches alike before D, so that D
 * cannot memorize a small training set while G still learns the un-augmented images
 * (the gradient flows back through the augmentation).
 *
 * The policy is a set of GC_AUG_* bits; they apply in this order, with the reference
 * implementation's ranges for images in [-1, 1], each drawn once per sample:
 *   color        brightness: x + b, b ~ U[-0.5, 0.5);
 *                saturation: (x - mean over channels) s + that mean, s ~ U[0, 2);
 *                contrast: (x - mean over the image) c + that mean, c ~ U[0.5, 1.5)
 *   translation  shift by (ty, tx) pixels, each ~ U{-r..r}, r = round(side / 8),
 *                zeros shifted in: y[i][j] = x[i + ty][j + tx] inside, else 0
 *   cutout       a square of side round(side / 2) set to 0, its centre (cy, cx) with
 *                cy ~ U{0..H - 1 + (side even)}, clipped at the border
 * Every operation is linear in x for a given draw, so the backward is the transposed
 * map. Shapes (N, C, H, W). Pure functions over caller memory; no allocation. */
#ifndef GC_AUGMENT_H
#define GC_AUGMENT_H

#include "core/rng.h"

enum {
    GC_AUG_COLOR = 1u,
    GC_AUG_TRANSLATION = 2u,
    GC_AUG_CUTOUT = 4u,
};
#define GC_AUG_ALL (GC_AUG_COLOR | GC_AUG_TRANSLATION | GC_AUG_CUTOUT)

/* One sample's draw. Parts the policy leaves out are the identity (b 0, s 1, c 1, no
 * shift, no cutout). */
struct gc_augment {
    float brightness, saturation, contrast;
    int ty, tx;       /* translation: rows, columns */
    int cy, cx;       /* cutout centre */
    int cut_h, cut_w; /* cutout side; 0: none */
};

/* Draws n samples' augmentations for images of h x w from rng, operation by operation
 * over the batch (as the reference draws each operation's tensor). */
void gc_augment_draw(struct gc_rng *rng, unsigned policy, int n, int h, int w,
                     struct gc_augment *a);
/* y = the augmentation of x, (N, C, H, W); y must not overlap x. */
void gc_augment_forward(const struct gc_augment *a, int n, int c, int h, int w, const float *x,
                        float *y);
/* dx += the transposed map of dy: the gradient through the augmentation. */
void gc_augment_backward(const struct gc_augment *a, int n, int c, int h, int w, const float *dy,
                         float *dx);

#endif
