/* unet.c — the U-Net generator and the conditional PatchGAN discriminator of the
 * image-to-image tasks (see unet.h for their shapes). */
#include "core/unet.h"

#include "core/model.h"

#define LEAK 0.2f
#define BN_EPS 1e-5f
#define BN_MOMENTUM 0.1f
#define MAX_MULT 8 /* channels stop doubling at 8 x width, as in pix2pix */

int gc_unet_depth(int side)
{
    int d = 0;
    while (d < GC_UNET_MAX_DEPTH && side % 2 == 0 && side / 2 >= 2) {
        side /= 2;
        d++;
    }
    return d;
}

static int mult(int k)
{
    return k >= 3 ? MAX_MULT : 1 << k;
}

/* Appends an optional batch norm; rc carries the first error. */
static int maybe_bn(struct gc_model *m, int bn, int rc, struct gc_error *err)
{
    return !rc && bn ? gc_model_add_batchnorm(m, BN_EPS, BN_MOMENTUM, err) : rc;
}

static struct gc_model *finish(struct gc_model *m, int rc, struct gc_rng *rng, struct gc_error *err)
{
    if (!rc)
        rc = gc_model_finalize(m, GC_INIT_DCGAN, rng, err);
    if (rc) {
        gc_model_destroy(m);
        return NULL;
    }
    return m;
}

struct gc_model *gc_unet_create(int max_batch, int cin, int cout, int side, int width, int bn,
                                struct gc_rng *rng, struct gc_error *err)
{
    int depth = gc_unet_depth(side);
    if (depth < 1) {
        gc_error_set(err, GC_EINVAL, "unet: the image side %d must be even and at least 4", side);
        return NULL;
    }
    if (cout < 1 || width < 1) {
        gc_error_set(err, GC_EINVAL, "unet: %d output channels, width %d", cout, width);
        return NULL;
    }
    struct gc_model *m = gc_model_create(max_batch, cin, side, side, err);
    if (!m)
        return NULL;
    int skip[GC_UNET_MAX_DEPTH]; /* the layer that holds encoder level k's output */
    int rc = gc_model_add_conv2d(m, width, 4, 2, 1, 1, err);
    skip[0] = 0;
    for (int k = 1; k < depth && !rc; k++) {
        int inner = k == depth - 1;
        rc = gc_model_add_leaky_relu(m, LEAK, err);
        if (!rc)
            rc = gc_model_add_conv2d(m, width * mult(k), 4, 2, 1, !(bn && !inner), err);
        rc = maybe_bn(m, bn && !inner, rc, err);
        skip[k] = gc_model_nlayers(m) - 1;
    }
    if (side >> depth >= 4) /* the halving stopped early: widen the centre's view */
        for (int i = 0; i < 2 && !rc; i++) {
            rc = gc_model_add_leaky_relu(m, LEAK, err);
            if (!rc)
                rc = gc_model_add_conv2d(m, width * mult(depth - 1), 3, 1, 1, !bn, err);
            rc = maybe_bn(m, bn, rc, err);
        }
    for (int k = depth - 1; k >= 1 && !rc; k--) {
        rc = gc_model_add_relu(m, err);
        if (!rc)
            rc = gc_model_add_convt2d(m, width * mult(k - 1), 4, 2, 1, !bn, err);
        rc = maybe_bn(m, bn, rc, err);
        if (!rc)
            rc = gc_model_add_concat(m, skip[k - 1], err);
    }
    if (!rc)
        rc = gc_model_add_relu(m, err);
    if (!rc)
        rc = gc_model_add_convt2d(m, cout, 4, 2, 1, 1, err);
    if (!rc)
        rc = gc_model_add_tanh(m, err);
    return finish(m, rc, rng, err);
}

struct gc_model *gc_patchgan_create(int max_batch, int cin, int cout, int side, int width, int bn,
                                    struct gc_rng *rng, struct gc_error *err)
{
    int down = side >= 128 ? 3 : 2;
    if (side < 8) {
        gc_error_set(err, GC_EINVAL, "patchgan: the image side %d is below 8", side);
        return NULL;
    }
    struct gc_model *m = gc_model_create(max_batch, cin + cout, side, side, err);
    if (!m)
        return NULL;
    int rc = gc_model_add_conv2d(m, width, 4, 2, 1, 1, err);
    if (!rc)
        rc = gc_model_add_leaky_relu(m, LEAK, err);
    for (int k = 1; k <= down && !rc; k++) {
        /* the last block keeps the side: 3x3, stride 1 */
        int last = k == down;
        rc = gc_model_add_conv2d(m, width * mult(k), last ? 3 : 4, last ? 1 : 2, 1, !bn, err);
        rc = maybe_bn(m, bn, rc, err);
        if (!rc)
            rc = gc_model_add_leaky_relu(m, LEAK, err);
    }
    if (!rc)
        rc = gc_model_add_conv2d(m, 1, 3, 1, 1, 1, err);
    return finish(m, rc, rng, err);
}
