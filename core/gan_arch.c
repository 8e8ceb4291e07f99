/* gan_arch.c — the GAN engine's architectures: the MLP and DCGAN generators and
 * discriminators, the DCGAN geometry of each image side, and the fingerprint of the
 * state's shape that a checkpoint carries. */
#include "core/gan_arch.h"

#include "core/gan_internal.h"
#include "core/unet.h"

#define BN_EPS 1e-5f
#define BN_MOMENTUM 0.1f
#define LEAK 0.2f

/* DCGAN geometry: the number of up/down blocks and the start side for a square image. */
static int dcgan_blocks(int side, int *s0)
{
    switch (side) {
    case 28:
        *s0 = 7;
        return 2;
    case 32:
        *s0 = 4;
        return 3;
    case 64:
        *s0 = 4;
        return 4;
    case 128:
        *s0 = 4;
        return 5;
    default:
        return 0;
    }
}

/* The end of every model build: finalize and choose the optimizer after the layers
 * went in without error (rc), or destroy the half-built model. */
static struct gc_model *finish_model(struct gc_model *m, int rc, enum gc_init init,
                                     struct gc_rng *rng, const struct gc_optim_spec *opt,
                                     struct gc_error *err)
{
    if (!rc)
        rc = gc_model_finalize(m, init, rng, err);
    if (!rc)
        rc = gc_model_set_optim(m, opt, err);
    if (rc) {
        gc_model_destroy(m);
        return NULL;
    }
    return m;
}

/* A finalized model of core/unet.h with the spec's optimizer, or NULL. */
static struct gc_model *with_optim(struct gc_model *m, const struct gc_optim_spec *opt,
                                   struct gc_error *err)
{
    if (m && gc_model_set_optim(m, opt, err)) {
        gc_model_destroy(m);
        return NULL;
    }
    return m;
}

struct gc_model *gc_gan_build_g(const struct gc_trainer *t, struct gc_rng *rng,
                                struct gc_error *err)
{
    const struct gc_model_spec *ms = &t->spec.model;
    if (ms->arch == GC_ARCH_UNET)
        return with_optim(
            gc_unet_create(t->B, t->cin, t->c, t->h, ms->g_width, ms->batch_norm, rng, err),
            &t->spec.opt_g, err);
    int bn = ms->batch_norm;
    /* a conditional G's input is z then the one-hot class (t->g_in floats) */
    struct gc_model *m = gc_model_create(t->b, t->g_in, 1, 1, err);
    if (!m)
        return NULL;
    int rc = 0;
    enum gc_init init = GC_INIT_DEFAULT;
    if (ms->arch == GC_ARCH_MLP) {
        for (int i = 0; i < ms->layers && !rc; i++) {
            rc = gc_model_add_linear(m, ms->hidden, 1, err);
            if (!rc && bn)
                rc = gc_model_add_batchnorm(m, BN_EPS, BN_MOMENTUM, err);
            if (!rc)
                rc = gc_model_add_relu(m, err);
        }
        if (!rc)
            rc = gc_model_add_linear(m, (int)t->dsize, 1, err);
        if (!rc && !t->is2d) {
            rc = gc_model_add_tanh(m, err);
            if (!rc)
                rc = gc_model_add_reshape(m, t->c, t->h, t->w, err);
        }
    } else {
        /* linear z -> c0 x s0 x s0, then blocks of convT (4, 2, 1) halving the
         * channels, the last to the image channels with a bias and tanh */
        int s0 = 0;
        int nb = dcgan_blocks(t->h, &s0);
        int ch = ms->g_width << (nb - 1);
        init = GC_INIT_DCGAN;
        rc = gc_model_add_linear(m, ch * s0 * s0, !bn, err);
        if (!rc && bn)
            rc = gc_model_add_batchnorm(m, BN_EPS, BN_MOMENTUM, err);
        if (!rc)
            rc = gc_model_add_relu(m, err);
        if (!rc)
            rc = gc_model_add_reshape(m, ch, s0, s0, err);
        for (int i = 0; i < nb - 1 && !rc; i++) {
            rc = gc_model_add_convt2d(m, ch / 2, 4, 2, 1, !bn, err);
            if (!rc && bn)
                rc = gc_model_add_batchnorm(m, BN_EPS, BN_MOMENTUM, err);
            if (!rc)
                rc = gc_model_add_relu(m, err);
            ch /= 2;
        }
        if (!rc)
            rc = gc_model_add_convt2d(m, t->c, 4, 2, 1, 1, err);
        if (!rc)
            rc = gc_model_add_tanh(m, err);
    }
    return finish_model(m, rc, init, rng, &t->spec.opt_g, err);
}

/* Batch norm in D's inner blocks: model.d_batch_norm, or model.batch_norm when null. */
static int d_batch_norm(const struct gc_model_spec *ms)
{
    return ms->d_batch_norm >= 0 ? ms->d_batch_norm : ms->batch_norm;
}

/* Appends a linear or conv2d layer of D, spectrally normalized when the spec says. */
static int d_weight_layer(struct gc_model *m, const struct gc_model_spec *ms, int rc,
                          struct gc_error *err)
{
    if (!rc && ms->spectral_norm)
        rc = gc_model_spectral_norm(m, err);
    return rc;
}

struct gc_model *gc_gan_build_d(const struct gc_trainer *t, struct gc_rng *rng,
                                struct gc_error *err)
{
    const struct gc_model_spec *ms = &t->spec.model;
    int bn = d_batch_norm(ms);
    if (ms->arch == GC_ARCH_UNET)
        return with_optim(gc_patchgan_create(t->B, t->cin, t->c, t->h, ms->d_width, bn, rng, err),
                          &t->spec.opt_d, err);
    int nlogits = t->K > 1 ? t->K + 1 : 1;
    /* conditioning concat: the class as nc more input maps (an MLP: nc more values) */
    int extra = t->d_in - (int)t->dsize;
    struct gc_model *m;
    if (!extra)
        m = gc_model_create(t->b, t->c, t->h, t->w, err);
    else if (ms->arch == GC_ARCH_MLP)
        m = gc_model_create(t->b, t->d_in, 1, 1, err);
    else
        m = gc_model_create(t->b, t->c + extra / (t->h * t->w), t->h, t->w, err);
    if (!m)
        return NULL;
    int rc = 0;
    enum gc_init init = GC_INIT_DEFAULT;
    if (ms->arch == GC_ARCH_MLP) {
        for (int i = 0; i < ms->layers && !rc; i++) {
            rc = d_weight_layer(m, ms, gc_model_add_linear(m, ms->hidden, 1, err), err);
            if (!rc)
                rc = gc_model_add_leaky_relu(m, LEAK, err);
        }
        if (!rc)
            rc = d_weight_layer(m, ms, gc_model_add_linear(m, nlogits, 1, err), err);
    } else {
        int s0 = 0;
        int nb = dcgan_blocks(t->h, &s0);
        int ch = ms->d_width;
        init = GC_INIT_DCGAN;
        rc = d_weight_layer(m, ms, gc_model_add_conv2d(m, ch, 4, 2, 1, 1, err), err);
        if (!rc)
            rc = gc_model_add_leaky_relu(m, LEAK, err);
        for (int i = 0; i < nb - 1 && !rc; i++) {
            rc = d_weight_layer(m, ms, gc_model_add_conv2d(m, ch * 2, 4, 2, 1, !bn, err), err);
            if (!rc && bn)
                rc = gc_model_add_batchnorm(m, BN_EPS, BN_MOMENTUM, err);
            if (!rc)
                rc = gc_model_add_leaky_relu(m, LEAK, err);
            ch *= 2;
        }
        /* PatchGAN: one logit per position of the last feature map, each seeing its
         * receptive field; otherwise one logit per image */
        if (!rc && ms->patch)
            rc = d_weight_layer(m, ms, gc_model_add_conv2d(m, 1, 3, 1, 1, 1, err), err);
        else if (!rc)
            rc = d_weight_layer(m, ms, gc_model_add_linear(m, nlogits, 1, err), err);
    }
    return finish_model(m, rc, init, rng, &t->spec.opt_d, err);
}

int gc_gan_sample_shape(struct gc_trainer *t, struct gc_error *err)
{
    const struct gc_dataset_spec *ds = &t->spec.dataset;
    if (t->data) {
        gc_dataset_shape(t->data, &t->c, &t->h, &t->w);
    } else if (ds->kind == GC_DATA_FASHION_MNIST) {
        t->c = 1, t->h = 28, t->w = 28;
    } else if (ds->kind == GC_DATA_PNG_DIR) {
        t->c = ds->channels, t->h = ds->image_size, t->w = ds->image_size;
    } else {
        return gc_error_set(err, GC_EINVAL, "dataset: shape unknown without the data");
    }
    if (t->is2d) {
        t->c = 2, t->h = 1, t->w = 1;
    }
    t->dsize = (size_t)t->c * t->h * t->w;
    if (t->spec.model.arch == GC_ARCH_DCGAN) {
        int s0;
        if (t->h != t->w || !dcgan_blocks(t->h, &s0))
            return gc_error_set(err, GC_EINVAL,
                                "model.arch: dcgan takes 28x28, 32x32, 64x64 or 128x128 images, "
                                "not %dx%d (use dataset.image_size 32, 64 or 128, or arch mlp)",
                                t->w, t->h);
        if (t->c != 1 && t->c != 3)
            return gc_error_set(err, GC_EINVAL, "model.arch: dcgan takes 1 or 3 channels, not %d",
                                t->c);
    }
    return 0;
}

/* FNV-1a over the 8 bytes of v */
static uint64_t fnv_add(uint64_t h, int64_t v)
{
    uint64_t x = (uint64_t)v;
    for (int b = 0; b < 8; b++) {
        h ^= (x >> (8 * b)) & 0xff;
        h *= 0x100000001b3ull;
    }
    return h;
}

uint64_t gc_gan_shape_fingerprint(const struct gc_trainer *t)
{
    const struct gc_spec *s = &t->spec;
    const struct gc_task_spec *ts = &s->task;
    int64_t v[21] = {s->dataset.kind,
                     t->c,
                     t->h,
                     t->w,
                     s->model.arch,
                     s->model.z_dim,
                     s->model.g_width,
                     s->model.d_width,
                     s->model.hidden,
                     s->model.layers,
                     s->model.batch_norm,
                     s->model.patch,
                     t->K,
                     s->opt_g.kind,
                     s->opt_d.kind};
    size_t nv = 15;
    /* a class count or a task's fields join only when there are some, so older
     * checkpoints keep their print */
    if (t->nc) {
        v[nv++] = t->nc;
        v[nv++] = s->model.conditioning;
    }
    if (ts->on) {
        v[nv++] = ts->kind;
        v[nv++] = ts->factor;
        v[nv++] = ts->mask;
        v[nv++] = t->cin;
    }
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < nv; i++)
        h = fnv_add(h, v[i]);
    /* fields that came later enter only when set, so that the checkpoints of specs
     * from before them still match */
    if (s->model.spectral_norm)
        h = fnv_add(h, 0x534e); /* "SN" */
    if (d_batch_norm(&s->model) != s->model.batch_norm)
        h = fnv_add(h, 0x44424e00 + d_batch_norm(&s->model)); /* "DBN" */
    return h;
}
