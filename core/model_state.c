/* model_state.c — a model's state apart from its architecture: copied between two
 * models of the same layers, saved into and loaded from a checkpoint section, and
 * framed as a stand-alone buffer.
 *
 * Checkpoint section (gc_model_save), all little-endian:
 *   u32 "GCMS" | u32 nlayers | per layer 11 u32: kind, c, h, w, oc, oh, ow, k (a
 *   concat: its source layer), stride, pad, bias | u32 has_optim | u32 optim kind | f32 lr, beta1,
 * beta2, eps | u64 step | u64 nparams | params | u32 moment vectors (0..2) | moments | u64 bn
 * floats | per BN layer running mean (C), running var (C) gc_model_serialize frames it with
 * GC_MODEL_MAGIC and GC_MODEL_VERSION (model_state.h). */
#include "core/model_state.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "core/model_internal.h"

#define SECTION_TAG 0x534d4347u /* "GCMS" */
#define FP_FIELDS 11

/* The fields of a layer that make two architectures the same. */
static void fingerprint(const struct gc_layer *l, uint32_t f[FP_FIELDS])
{
    f[0] = (uint32_t)l->kind;
    f[1] = (uint32_t)l->c;
    f[2] = (uint32_t)l->h;
    f[3] = (uint32_t)l->w;
    f[4] = (uint32_t)l->oc;
    f[5] = (uint32_t)l->oh;
    f[6] = (uint32_t)l->ow;
    f[7] = (uint32_t)(l->kind == GC_LAYER_CONCAT ? l->src : l->k); /* which skip it takes */
    f[8] = (uint32_t)l->stride;
    f[9] = (uint32_t)l->pad;
    f[10] = (uint32_t)l->bias;
}

static void describe(const uint32_t f[FP_FIELDS], char *s, size_t len)
{
    const char *name = f[0] <= GC_LAYER_CONCAT ? gc_model_kind_name((enum gc_layer_kind)f[0]) : "?";
    snprintf(s, len, "%s %ux%ux%u -> %ux%ux%u", name, f[1], f[2], f[3], f[4], f[5], f[6]);
}

/* 0 when layer i of m has the fingerprint f (of another model's layer, `whose`: ""
 * or "saved "); else GC_EINVAL naming both. */
static int same_layer(const struct gc_model *m, int i, const uint32_t f[FP_FIELDS],
                      const char *whose, struct gc_error *err)
{
    uint32_t mine[FP_FIELDS];
    fingerprint(&m->layers[i], mine);
    if (memcmp(f, mine, sizeof mine) == 0)
        return 0;
    char so[96], sm[96];
    describe(f, so, sizeof so);
    describe(mine, sm, sizeof sm);
    return gc_error_set(err, GC_EINVAL,
                        "model: other architecture at layer %d (%s%s, this model has %s)", i, whose,
                        so, sm);
}

/* 0 when the layers of a and b match; else GC_EINVAL naming the first difference. */
static int same_arch(const struct gc_model *a, const struct gc_model *b, struct gc_error *err)
{
    if (a->nlayers != b->nlayers || a->c != b->c || a->h != b->h || a->w != b->w)
        return gc_error_set(err, GC_EINVAL,
                            "model: other architecture (%d layers on %dx%dx%d, "
                            "this model has %d on %dx%dx%d)",
                            b->nlayers, b->c, b->h, b->w, a->nlayers, a->c, a->h, a->w);
    for (int i = 0; i < a->nlayers; i++) {
        uint32_t fb[FP_FIELDS];
        fingerprint(&b->layers[i], fb);
        int rc = same_layer(a, i, fb, "", err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int gc_model_copy_state(struct gc_model *dst, const struct gc_model *src, struct gc_error *err)
{
    if (!dst->finalized || !src->finalized)
        return gc_error_set(err, GC_ESTATE, "model: copy between models not finalized");
    int rc = same_arch(dst, src, err);
    if (rc < 0)
        return rc;
    if (dst == src)
        return 0;
    memcpy(dst->params, src->params, src->nparams * sizeof(float));
    memcpy(dst->moments, src->moments, 2 * src->nparams * sizeof(float));
    memcpy(dst->bn, src->bn, src->nbn * sizeof(float));
    dst->has_optim = src->has_optim;
    dst->optim = src->optim;
    dst->step = src->step;
    return 0;
}

static uint32_t f32_bits(float x)
{
    uint32_t u;
    memcpy(&u, &x, 4);
    return u;
}

static float bits_f32(uint32_t u)
{
    float x;
    memcpy(&x, &u, 4);
    return x;
}

static int n_moments(const struct gc_model *m)
{
    if (!m->has_optim)
        return 0;
    return m->optim.kind == GC_OPTIM_ADAM ? 2 : 1;
}

int gc_model_save(const struct gc_model *m, struct gc_buf *b)
{
    assert(m->finalized);
    gc_buf_put_u32(b, SECTION_TAG);
    gc_buf_put_u32(b, (uint32_t)m->nlayers);
    for (int i = 0; i < m->nlayers; i++) {
        uint32_t f[FP_FIELDS];
        fingerprint(&m->layers[i], f);
        for (int j = 0; j < FP_FIELDS; j++)
            gc_buf_put_u32(b, f[j]);
    }
    gc_buf_put_u32(b, (uint32_t)m->has_optim);
    gc_buf_put_u32(b, (uint32_t)m->optim.kind);
    gc_buf_put_u32(b, f32_bits(m->optim.lr));
    gc_buf_put_u32(b, f32_bits(m->optim.beta1));
    gc_buf_put_u32(b, f32_bits(m->optim.beta2));
    gc_buf_put_u32(b, f32_bits(m->optim.eps));
    gc_buf_put_u64(b, (uint64_t)m->step);
    gc_buf_put_u64(b, (uint64_t)m->nparams);
    gc_buf_put_f32s(b, m->params, m->nparams);
    int nm = n_moments(m);
    gc_buf_put_u32(b, (uint32_t)nm);
    gc_buf_put_f32s(b, m->moments, (size_t)nm * m->nparams);
    size_t nrun = 0;
    for (int i = 0; i < m->nlayers; i++)
        if (m->layers[i].kind == GC_LAYER_BATCHNORM)
            nrun += 2 * (size_t)m->layers[i].c;
    gc_buf_put_u64(b, (uint64_t)nrun);
    for (int i = 0; i < m->nlayers; i++)
        if (m->layers[i].kind == GC_LAYER_BATCHNORM)
            gc_buf_put_f32s(b, m->bn + m->layers[i].bn_off, 2 * (size_t)m->layers[i].c);
    return b->oom ? GC_ENOMEM : 0;
}

/* Checks everything it can before it writes: the architecture, the counts, and that
 * the reader holds all the bytes they announce. A rejected state leaves the model as
 * it was. */
int gc_model_load(struct gc_model *m, struct gc_reader *r, struct gc_error *err)
{
    struct gc_error local;
    if (!err) /* the codes of reader errors are needed below */
        err = &local;
    if (!m->finalized)
        return gc_error_set(err, GC_ESTATE, "model: load into a model not finalized");
    uint32_t tag, nl, u;
    int rc;
    if ((rc = gc_reader_u32(r, &tag, err)) < 0)
        return gc_error_prefix(err, "model");
    if (tag != SECTION_TAG)
        return gc_error_set(err, GC_ECORRUPT, "model: not a model section (tag 0x%08x)", tag);
    if ((rc = gc_reader_u32(r, &nl, err)) < 0)
        return gc_error_prefix(err, "model");
    if (nl != (uint32_t)m->nlayers)
        return gc_error_set(err, GC_EINVAL,
                            "model: other architecture (%u layers saved, this "
                            "model has %d)",
                            nl, m->nlayers);
    for (int i = 0; i < m->nlayers; i++) {
        uint32_t fs[FP_FIELDS];
        for (int j = 0; j < FP_FIELDS; j++)
            if ((rc = gc_reader_u32(r, &fs[j], err)) < 0)
                return gc_error_prefix(err, "model");
        if ((rc = same_layer(m, i, fs, "saved ", err)) < 0)
            return rc;
    }
    uint32_t has_optim, kind, lr, b1, b2, eps;
    uint64_t step, np, nrun;
    if (gc_reader_u32(r, &has_optim, err) < 0 || gc_reader_u32(r, &kind, err) < 0 ||
        gc_reader_u32(r, &lr, err) < 0 || gc_reader_u32(r, &b1, err) < 0 ||
        gc_reader_u32(r, &b2, err) < 0 || gc_reader_u32(r, &eps, err) < 0 ||
        gc_reader_u64(r, &step, err) < 0 || gc_reader_u64(r, &np, err) < 0)
        return gc_error_prefix(err, "model");
    if (has_optim > 1 || kind > GC_OPTIM_RMSPROP || step > INT64_MAX)
        return gc_error_set(err, GC_ECORRUPT, "model: bad optimizer state");
    if (np != m->nparams)
        return gc_error_set(err, GC_ECORRUPT,
                            "model: %llu parameters saved, the architecture has "
                            "%zu",
                            (unsigned long long)np, m->nparams);
    struct gc_optim_spec o = {.kind = (enum gc_optim_kind)kind,
                              .lr = bits_f32(lr),
                              .beta1 = bits_f32(b1),
                              .beta2 = bits_f32(b2),
                              .eps = bits_f32(eps)};
    int want = !has_optim ? 0 : o.kind == GC_OPTIM_ADAM ? 2 : 1;
    size_t want_run = 0;
    for (int i = 0; i < m->nlayers; i++)
        if (m->layers[i].kind == GC_LAYER_BATCHNORM)
            want_run += 2 * (size_t)m->layers[i].c;
    /* the rest has a known size: params, u32, moments, u64, running stats */
    size_t rest = 4 * (m->nparams + (size_t)want * m->nparams + want_run) + 4 + 8;
    if (r->len - r->off < rest)
        return gc_error_set(err, GC_ECORRUPT,
                            "model: truncated (%zu bytes of state left, %zu "
                            "needed)",
                            r->len - r->off, rest);
    /* from here on no read can fail; the counts are checked on a copy of the reader */
    struct gc_reader peek = *r;
    peek.off += 4 * m->nparams;
    gc_reader_u32(&peek, &u, err);
    if (u != (uint32_t)want)
        return gc_error_set(err, GC_ECORRUPT,
                            "model: %u moment vectors saved, the optimizer "
                            "has %d",
                            u, want);
    peek.off += 4 * (size_t)want * m->nparams;
    gc_reader_u64(&peek, &nrun, err);
    if (nrun != want_run)
        return gc_error_set(err, GC_ECORRUPT,
                            "model: %llu batchnorm statistics saved, the "
                            "architecture has %zu",
                            (unsigned long long)nrun, want_run);
    gc_reader_f32s(r, m->params, m->nparams, err);
    gc_reader_u32(r, &u, err);
    memset(m->moments, 0, 2 * m->nparams * sizeof(float));
    gc_reader_f32s(r, m->moments, (size_t)want * m->nparams, err);
    gc_reader_u64(r, &nrun, err);
    for (int i = 0; i < m->nlayers; i++)
        if (m->layers[i].kind == GC_LAYER_BATCHNORM)
            gc_reader_f32s(r, m->bn + m->layers[i].bn_off, 2 * (size_t)m->layers[i].c, err);
    m->has_optim = (int)has_optim;
    m->optim = o;
    m->step = (int64_t)step;
    return 0;
}

int gc_model_serialize(const struct gc_model *m, uint8_t **out, size_t *len, struct gc_error *err)
{
    struct gc_buf b;
    gc_buf_init(&b);
    if (gc_model_save(m, &b) < 0) {
        gc_buf_fini(&b);
        *out = NULL;
        *len = 0;
        return gc_error_set(err, GC_ENOMEM, "model: out of memory while saving");
    }
    int rc = gc_frame_seal(GC_MODEL_MAGIC, GC_MODEL_VERSION, b.data, b.len, out, len, err);
    gc_buf_fini(&b);
    return rc;
}

int gc_model_deserialize(struct gc_model *m, const uint8_t *bytes, size_t len, struct gc_error *err)
{
    const uint8_t *p;
    size_t plen;
    int rc = gc_frame_open("model", GC_MODEL_MAGIC, GC_MODEL_VERSION, bytes, len, &p, &plen, err);
    if (rc < 0)
        return rc;
    struct gc_reader r;
    gc_reader_init(&r, p, plen);
    rc = gc_model_load(m, &r, err);
    if (rc < 0)
        return rc;
    if (r.off != r.len)
        return gc_error_set(err, GC_ECORRUPT, "model: %zu unread bytes after the state",
                            r.len - r.off);
    return 0;
}
