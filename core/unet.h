/* unet.h — the image-to-image networks: a U-Net generator and a conditional PatchGAN
 * discriminator (pix2pix, Isola et al. 2017), built as core/model.h models.
 *
 * U-Net on (cin, S, S) -> (cout, S, S). The encoder halves the side with 4x4 stride-2
 * convolutions while the side stays even and the half at least 2 (at most
 * GC_UNET_MAX_DEPTH times): 28 -> 14 -> 7, 32 -> ... -> 2, 256 -> ... -> 2. Channels
 * are width x 1, 2, 4, 8, 8, ... Every encoder block but the first is leaky ReLU 0.2,
 * the convolution and batch norm (none at the innermost); when the innermost side is 4
 * or more (an odd side stopped the halving) two 3x3 stride-1 blocks follow there, so
 * that the centre of the image still sees its surroundings. The decoder mirrors it:
 * ReLU, a 4x4 stride-2 transposed convolution, batch norm, then the encoder's output of
 * that side concatenated along the channels (the skip); the last block goes to cout
 * channels with tanh. Batch norm only when bn is set (model.batch_norm).
 *
 * PatchGAN on (cin + cout, S, S): the pair (input, output) along the channels, 4x4
 * stride-2 convolutions (2 of them, 3 for S >= 128) doubling from width (up to 8x),
 * leaky ReLU 0.2, batch norm after the first; then a 3x3 block doubling once more and a
 * 3x3 convolution to one logit per position: a map of (S/4)^2 (or (S/8)^2) patch
 * verdicts, each seeing 26 (54) pixels square.
 *
 * Weights are drawn as pix2pix draws them: N(0, 0.02), batch-norm gamma N(1, 0.02). The
 * models are finalized, without an optimizer or a pool; the caller owns them. */
#ifndef GC_UNET_H
#define GC_UNET_H

#include "core/error.h"
#include "core/rng.h"

struct gc_model;

#define GC_UNET_MAX_DEPTH 7

/* The number of encoder halvings for a side (0 when the side is odd or below 4). */
int gc_unet_depth(int side);

struct gc_model *gc_unet_create(int max_batch, int cin, int cout, int side, int width, int bn,
                                struct gc_rng *rng, struct gc_error *err);
struct gc_model *gc_patchgan_create(int max_batch, int cin, int cout, int side, int width, int bn,
                                    struct gc_rng *rng, struct gc_error *err);

#endif
