/* task.h — the image-to-image tasks' data: what G receives for a target image, what
 * a user's picture becomes, the naive baselines, and the figures that compare an output
 * with its target (PSNR, SSIM, L1).
 *
 * Images are planar (C,H,W) floats in [-1, 1], as the datasets give them; n images are
 * n such blocks one after the other. The figures are taken on [0, 1] (x / 2 + 0.5,
 * clamped), as image papers report them. Pure functions of their arguments: no
 * globals, any thread. */
#ifndef GC_TASK_H
#define GC_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "core/spec.h"

/* The Sobel step (in [-1, 1] units) above which a pixel is an edge. */
#define GC_TASK_EDGE_THRESHOLD 0.5f

/* Channels of G's input for targets of c channels: c (super-resolution, paired), c + 1
 * (inpainting: the image and its mask), 1 (edges, colorize). */
int gc_task_in_channels(const struct gc_task_spec *t, int c);

/* The hole of image `index` for a side: [x0, x1) x [y0, y1). center: the centre square
 * of half the side; random: a rectangle of a quarter to a half of the side in each
 * direction, placed anywhere, drawn from an RNG seeded with seed. */
void gc_task_hole(enum gc_mask_kind mask, int h, int w, uint64_t seed, int *x0, int *y0, int *x1,
                  int *y1);

/* G's input for each of n targets (n x c x h x w) into in (n x cin x h x w). Random
 * holes of image i come from gc_task_hole(seed + i). scratch holds c x h x w floats.
 * Not for paired (its inputs are read, not made). */
void gc_task_make_inputs(const struct gc_task_spec *t, const float *target, int n, int c, int h,
                         int w, uint64_t seed, float *in, float *scratch);

/* Block average: x (c, h, w) to out (c, h/f, w/f). */
void gc_task_downsample(const float *x, int c, int h, int w, int f, float *out);
/* Bicubic upscaling (Keys, a = -0.5; edges repeated): x (c, h, w) to out
 * (c, h*f, w*f), clamped to [-1, 1]. */
void gc_task_bicubic(const float *x, int c, int h, int w, int f, float *out);
/* Luma (0.299 R + 0.587 G + 0.114 B; a gray image is its own) of x (c, h, w) into
 * out (h, w). */
void gc_task_luma(const float *x, int c, int h, int w, float *out);
/* Edge map of x (c, h, w) into out (h, w): -1 (black) where the Sobel step of the luma
 * exceeds GC_TASK_EDGE_THRESHOLD, +1 elsewhere. scratch holds h x w floats. */
void gc_task_edges(const float *x, int c, int h, int w, float *out, float *scratch);

/* Inpainting: where the mask plane of in (its last channel) marks the hole, out keeps
 * g's pixels, elsewhere the input's (n images of c channels; in has c + 1). */
void gc_task_compose(const float *in, const float *g, int n, int c, int h, int w, float *out);

/* Colorize: G's colours y (n x 3 x h x w) shifted per pixel by the same amount in every
 * channel so that their luma is the gray input's (n x h x w): out_c = y_c + x -
 * luma(y). The structure comes from the input, G chooses only the colour (as colour
 * models that predict a Lab image's ab and keep its L do). */
void gc_task_keep_luma(const float *in, const float *y, int n, int h, int w, float *out);
/* The gradient of gc_task_keep_luma's output, d (n x 3 x h x w), turned in place into
 * the gradient of y: d_k - w_k (d_0 + d_1 + d_2), w the luma weights. */
void gc_task_keep_luma_backward(float *d, int n, int h, int w);

/* The naive baseline of each of n inputs into out (n x c x h x w): the bicubic input
 * itself (super-resolution), the hole filled with the mean colour of the rest
 * (inpainting), the gray replicated (colorize), mean (c x h x w, the mean training
 * image) for edges and paired. */
void gc_task_baseline(const struct gc_task_spec *t, const float *in, const float *mean, int n,
                      int c, int h, int w, float *out);

/* Figures of n images of `size` floats (c x h x w) against their targets, averaged
 * over the images: PSNR in dB (capped at 100), SSIM (Wang et al. 2004: an 11x11
 * Gaussian window of sigma 1.5, or the largest odd window the side allows, over the
 * positions where it fits, per channel), and the mean absolute difference. */
double gc_task_psnr(const float *x, const float *y, int n, size_t size);
double gc_task_ssim(const float *x, const float *y, int n, int c, int h, int w);
double gc_task_l1(const float *x, const float *y, int n, size_t size);

#endif
