/* gan_cond.c — class conditioning around G and D (see gan_cond.h): the run's classes,
 * G's input with the one-hot class, D's input maps (concat) or its projection term,
 * their backward passes, the draw of G's classes, and the checkpoint section.
 *
 * The projection's embedding is a model of its own (one linear layer without bias from
 * the one-hot class to nout / pp x pc floats): a linear map of a one-hot vector is a table
 * lookup whose gradient reaches only the rows of the classes in the batch, and as a
 * model it gets D's optimizer, clipping, gradient norm, copy and checkpoint for free.
 * Its weights start as D's head does: N(0, 0.02) for the DCGAN, U(-1/sqrt(F),
 * 1/sqrt(F)) over its F = pc inputs of features for the MLP, so the class term starts
 * no larger than the logit it is added to.
 *
 * D's backward with the projection runs in two parts: D's head alone from the logits
 * down to its last features (gc_model_backward_range), where the projection's gradient
 * is added, then the rest of D from there. */
#include "core/gan_cond.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/gan_internal.h"
#include "core/projection.h"

#define CND_TAG 0x31444e43u /* "CND1" */

int gc_gan_cond_classes(struct gc_trainer *t, struct gc_error *err)
{
    for (int k = 0; k < 256; k++)
        t->dense[k] = -1;
    t->g_in = t->spec.model.z_dim;
    t->d_in = (int)t->dsize;
    if (!t->spec.model.conditional)
        return 0;
    t->classes = calloc(1, sizeof *t->classes);
    if (!t->classes)
        return gc_error_set(err, GC_ENOMEM, "conditional: out of memory");
    if (t->data)
        gc_dataset_classes(t->data, t->classes);
    if (t->classes->n == 0) {
        /* not opened (a png-dir or fashion-mnist run that only generates), or opened
         * without labels: the spec's listing says which classes there are, or why
         * there are none */
        int rc = gc_dataset_spec_classes(&t->spec.dataset, t->classes, err);
        if (rc == GC_EINVAL)
            return gc_error_prefix(err, "model.conditional");
        if (rc)
            return rc;
        if (t->data)
            return gc_error_set(err, GC_EINVAL,
                                "model.conditional: %s changed while it was read: it has "
                                "classes now, and had none",
                                t->spec.dataset.path);
    }
    t->nc = t->classes->n;
    for (int i = 0; i < t->nc; i++)
        t->dense[t->classes->c[i].label] = i;
    t->g_in += t->nc;
    if (t->spec.model.conditioning == GC_COND_CONCAT)
        t->d_in = (int)t->dsize + t->nc * (t->spec.model.arch == GC_ARCH_DCGAN ? t->h * t->w : 1);
    return 0;
}

/* The projection's sizes: a linear head's logits each see all features (one position),
 * a patch map's one logit per position sees the channels there. */
static void projection_shape(struct gc_trainer *t)
{
    int fc, fh, fw;
    gc_model_layer_output(t->d, t->feat_layer, &fc, &fh, &fw);
    if (t->spec.model.patch) {
        t->pc = fc;
        t->pp = fh * fw;
    } else {
        t->pc = (int)t->feat_size;
        t->pp = 1;
    }
}

static struct gc_model *build_embedding(struct gc_trainer *t, struct gc_rng *rng,
                                        struct gc_error *err)
{
    struct gc_model *m = gc_model_create(t->B, t->nc, 1, 1, err);
    if (!m)
        return NULL;
    int rc = gc_model_add_linear(m, t->nout / t->pp * t->pc, 0, err);
    if (!rc)
        rc = gc_model_finalize(m, GC_INIT_DEFAULT, rng, err);
    if (!rc)
        rc = gc_model_set_optim(m, &t->spec.opt_d, err);
    if (!rc)
        rc = gc_model_set_pool(m, t->pool, err);
    if (rc) {
        gc_model_destroy(m);
        return NULL;
    }
    size_t n;
    float *w = gc_model_params(m, &n);
    if (t->spec.model.arch == GC_ARCH_DCGAN) {
        gc_rng_fill_normal(rng, w, n, 0.0f, 0.02f);
    } else {
        float a = 1.0f / sqrtf((float)t->pc);
        gc_rng_fill_uniform(rng, w, n, -a, a);
    }
    return m;
}

int gc_gan_cond_create(struct gc_trainer *t, struct gc_error *err)
{
    if (!t->nc)
        return 0;
    struct gc_rng init;
    gc_rng_init(&init, t->spec.train.seed, GC_GAN_STREAM_INIT_EMB);
    size_t B = (size_t)t->B;
    t->y = malloc(B * sizeof(int));
    t->gin = malloc(B * (size_t)t->g_in * sizeof(float));
    t->fm_count = malloc((size_t)t->nc * sizeof(int));
    if (!t->y || !t->gin || !t->fm_count)
        return gc_error_set(err, GC_ENOMEM, "conditional: out of memory for the batch buffers");
    gc_rng_init(&t->rng_class, t->spec.train.seed, GC_GAN_STREAM_CLASS);
    if (t->spec.model.conditioning == GC_COND_CONCAT) {
        t->din = malloc(B * (size_t)t->d_in * sizeof(float));
        t->ddin = malloc(B * (size_t)t->d_in * sizeof(float));
        if (!t->din || !t->ddin)
            return gc_error_set(err, GC_ENOMEM, "conditional: out of memory for D's input maps");
        return 0;
    }
    projection_shape(t);
    t->emb = build_embedding(t, &init, err);
    if (!t->emb)
        return gc_error_prefix(err, "class embedding");
    if (t->dcopy && !(t->emb_copy = gc_model_clone(t->emb, err)))
        return gc_error_prefix(err, "class embedding");
    t->onehot = calloc(B * (size_t)t->nc, sizeof(float));
    t->dout = malloc(B * (size_t)t->nout * sizeof(float));
    t->dphi = malloc(B * t->feat_size * sizeof(float));
    t->demb = malloc(B * (size_t)(t->nout / t->pp) * t->pc * sizeof(float));
    if (!t->onehot || !t->dout || !t->dphi || !t->demb)
        return gc_error_set(err, GC_ENOMEM, "conditional: out of memory for the projection");
    return 0;
}

void gc_gan_cond_destroy(struct gc_trainer *t)
{
    gc_model_destroy(t->emb);
    gc_model_destroy(t->emb_copy);
    free(t->classes);
    free(t->gin);
    free(t->din);
    free(t->ddin);
    free(t->onehot);
    free(t->dout);
    free(t->dphi);
    free(t->demb);
    free(t->y);
    free(t->grid_y);
    free(t->eval_y);
    free(t->eval_lab);
    free(t->fm_count);
}

/* ---- forward and backward ------------------------------------------------------------ */

const float *gc_gan_g_forward(struct gc_trainer *t, struct gc_model *g, const float *noise,
                              const int *y, int n, int train)
{
    if (!t->nc)
        return gc_model_forward(g, noise, n, train);
    int z = t->spec.model.z_dim;
    for (int i = 0; i < n; i++) {
        float *row = t->gin + (size_t)i * t->g_in;
        memcpy(row, noise + (size_t)i * z, (size_t)z * sizeof(float));
        memset(row + z, 0, (size_t)t->nc * sizeof(float));
        row[z + y[i]] = 1.0f;
    }
    return gc_model_forward(g, t->gin, n, train);
}

const float *gc_gan_d_forward(struct gc_trainer *t, struct gc_model *d, struct gc_model *emb,
                              const float *x, const int *y, int n, int train)
{
    if (!t->nc)
        return gc_model_forward(d, x, n, train);
    if (t->spec.model.conditioning == GC_COND_CONCAT) {
        /* the sample, then nc maps (or nc values) of which the class's is all ones */
        size_t per = (size_t)t->d_in - t->dsize, map = per / (size_t)t->nc;
        for (int i = 0; i < n; i++) {
            float *row = t->din + (size_t)i * t->d_in;
            memcpy(row, x + (size_t)i * t->dsize, t->dsize * sizeof(float));
            memset(row + t->dsize, 0, per * sizeof(float));
            float *on = row + t->dsize + (size_t)y[i] * map;
            for (size_t k = 0; k < map; k++)
                on[k] = 1.0f;
        }
        return gc_model_forward(d, t->din, n, train);
    }
    const float *out = gc_model_forward(d, x, n, train);
    memcpy(t->dout, out, (size_t)n * t->nout * sizeof(float));
    memset(t->onehot, 0, (size_t)n * t->nc * sizeof(float));
    for (int i = 0; i < n; i++)
        t->onehot[(size_t)i * t->nc + y[i]] = 1.0f;
    const float *e = gc_model_forward(emb, t->onehot, n, train);
    int c, h, w;
    const float *phi = gc_model_layer_output(d, t->feat_layer, &c, &h, &w);
    gc_projection_forward(t->dout, phi, e, n, t->nout / t->pp, t->pc, t->pp);
    return t->dout;
}

/* Adds the image part of each row of t->ddin (D's input gradient with the maps) to dx. */
static void take_image_grad(const struct gc_trainer *t, int n, float *dx)
{
    for (int i = 0; i < n; i++) {
        const float *g = t->ddin + (size_t)i * t->d_in;
        float *o = dx + (size_t)i * t->dsize;
        for (size_t k = 0; k < t->dsize; k++)
            o[k] += g[k];
    }
}

static void backward_from(struct gc_model *d, int layer, const float *dout, float *dx, int params)
{
    if (params)
        gc_model_backward_from(d, layer, dout, dx);
    else
        gc_model_backward_input(d, layer, dout, dx);
}

void gc_gan_d_backward(struct gc_trainer *t, struct gc_model *d, struct gc_model *emb,
                       const float *dlog, float *dx, int params)
{
    int top = gc_model_nlayers(d) - 1;
    if (!t->nc) {
        backward_from(d, top, dlog, dx, params);
        return;
    }
    /* D only ever sees whole batches of t->B: the conditional buffers are sized so */
    int c, h, w;
    if (t->spec.model.conditioning == GC_COND_CONCAT) {
        if (!dx) {
            backward_from(d, top, dlog, NULL, params);
            return;
        }
        memset(t->ddin, 0, (size_t)t->B * t->d_in * sizeof(float));
        backward_from(d, top, dlog, t->ddin, params);
        take_image_grad(t, t->B, dx);
        return;
    }
    /* the head down to the features, the class term's gradient there, then the rest */
    size_t nf = (size_t)t->B * t->feat_size;
    memset(t->dphi, 0, nf * sizeof(float));
    gc_model_backward_range(d, top, t->feat_layer + 1, dlog, t->dphi, params);
    const float *phi = gc_model_layer_output(d, t->feat_layer, &c, &h, &w);
    const float *e = gc_model_layer_output(emb, 0, &c, &h, &w);
    size_t ne = (size_t)t->B * (t->nout / t->pp) * t->pc;
    if (params)
        memset(t->demb, 0, ne * sizeof(float));
    gc_projection_backward(t->dphi, params ? t->demb : NULL, dlog, phi, e, t->B, t->nout / t->pp,
                           t->pc, t->pp);
    if (params)
        gc_model_backward(emb, t->demb, NULL);
    backward_from(d, t->feat_layer, t->dphi, dx, params);
}

void gc_gan_d_backward_features(struct gc_trainer *t, struct gc_model *d, const float *dfeat,
                                float *dx)
{
    if (t->nc && t->spec.model.conditioning == GC_COND_CONCAT) {
        memset(t->ddin, 0, (size_t)t->B * t->d_in * sizeof(float));
        gc_model_backward_input(d, t->feat_layer, dfeat, t->ddin);
        take_image_grad(t, t->B, dx);
        return;
    }
    gc_model_backward_input(d, t->feat_layer, dfeat, dx);
}

/* ---- classes ------------------------------------------------------------------------- */

void gc_gan_cond_map_labels(const struct gc_trainer *t, int *y, int n)
{
    for (int i = 0; i < n; i++) {
        int k = y[i] >= 0 && y[i] < 256 ? t->dense[y[i]] : -1;
        y[i] = k >= 0 ? k : 0; /* every label of the data is a class of the run */
    }
}

void gc_gan_draw_classes(struct gc_trainer *t, int n, int *y)
{
    const uint8_t *lab = gc_dataset_labels(t->data);
    size_t count = gc_dataset_count(t->data);
    for (int i = 0; i < n; i++) {
        if (lab && count)
            y[i] = lab[gc_rng_below(&t->rng_class, count)];
        else
            y[i] = t->classes->c[gc_rng_below(&t->rng_class, (uint64_t)t->nc)].label;
    }
    gc_gan_cond_map_labels(t, y, n);
}

/* ---- checkpoint ---------------------------------------------------------------------- */

int gc_gan_cond_save(const struct gc_trainer *t, struct gc_buf *b)
{
    if (!t->nc)
        return 0;
    gc_buf_put_u32(b, CND_TAG);
    gc_buf_put_u32(b, (uint32_t)t->nc);
    for (int i = 0; i < t->nc; i++) {
        const struct gc_class *c = &t->classes->c[i];
        size_t len = strlen(c->name);
        gc_buf_put_u32(b, (uint32_t)c->label);
        gc_buf_put_u32(b, (uint32_t)len);
        gc_buf_put(b, c->name, len);
    }
    uint8_t rs[GC_RNG_BYTES];
    gc_rng_save(&t->rng_class, rs);
    gc_buf_put(b, rs, sizeof rs);
    gc_buf_put_u32(b, t->emb ? 1u : 0u);
    return t->emb ? gc_model_save(t->emb, b) : 0;
}

int gc_gan_cond_load(struct gc_trainer *t, struct gc_reader *r, struct gc_error *err)
{
    if (!t->nc)
        return 0;
    uint32_t tag, n, label, len, has_emb;
    int rc;
    if ((rc = gc_reader_u32(r, &tag, err)) || (rc = gc_reader_u32(r, &n, err)))
        return gc_error_prefix(err, "checkpoint: classes");
    if (tag != CND_TAG)
        return gc_error_set(err, GC_EINVAL,
                            "checkpoint: made for an unconditional run, this spec is conditional");
    if (n > GC_MAX_CLASSES)
        return gc_error_set(err, GC_ECORRUPT, "checkpoint: %u classes", n);
    struct gc_class_list *saved = calloc(1, sizeof *saved);
    if (!saved)
        return gc_error_set(err, GC_ENOMEM, "checkpoint: out of memory");
    for (uint32_t i = 0; i < n && !rc; i++) {
        if ((rc = gc_reader_u32(r, &label, err)) || (rc = gc_reader_u32(r, &len, err)))
            break;
        if (len >= GC_CLASS_NAME_MAX) {
            rc = gc_error_set(err, GC_ECORRUPT, "checkpoint: a class name of %u bytes", len);
            break;
        }
        saved->c[i].label = (int)label;
        rc = gc_reader_get(r, saved->c[i].name, len, err);
        saved->c[i].name[len] = '\0';
        saved->n = (int)i + 1;
    }
    if (!rc && !gc_class_list_equal(saved, t->classes))
        rc = gc_error_set(err, GC_EINVAL,
                          "checkpoint: made for %d classes ('%s' first), and the data now has "
                          "%d ('%s' first): the data's classes changed",
                          saved->n, saved->n ? saved->c[0].name : "", t->nc, t->classes->c[0].name);
    free(saved);
    if (rc)
        return rc == GC_EINVAL ? rc : gc_error_prefix(err, "checkpoint: classes");
    uint8_t rs[GC_RNG_BYTES];
    if ((rc = gc_reader_get(r, rs, sizeof rs, err)) || (rc = gc_reader_u32(r, &has_emb, err)))
        return gc_error_prefix(err, "checkpoint: classes");
    if (has_emb != (t->emb ? 1u : 0u))
        return gc_error_set(
            err, GC_EINVAL, "checkpoint: made with conditioning %s, this spec has %s",
            has_emb ? "projection" : "concat", gc_conditioning_name(t->spec.model.conditioning));
    if (t->emb && (rc = gc_model_load(t->emb, r, err)))
        return gc_error_prefix(err, "checkpoint: class embedding");
    gc_rng_load(&t->rng_class, rs);
    return 0;
}
