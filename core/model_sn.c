/* model_sn.c — spectral normalization of linear and conv2d weights (see model_sn.h).
 *
 * DESIGN. A normalized layer's weight W (rows O, columns I: linear (O, I), conv2d
 * (OC, C*K*K)) stays in params; snuv holds, per such layer, u (O floats), v (I) and
 * sigma (1), and wsn the normalized weight W / sigma that the kernels read
 * (gc_model_weight). As in PyTorch's torch.nn.utils.spectral_norm:
 *   - every forward in train mode runs one power iteration,
 *       v = normalize(Wᵀ u),  u = normalize(W v),  normalize(x) = x / max(|x|, 1e-12);
 *   - every forward (train or eval) then takes sigma = uᵀ W v and W / sigma, so an
 *     eval forward after an optimizer step sees the new W with the stored u, v;
 *   - u and v are constants of the backward: with G = dL/d(W / sigma),
 *       dL/dW = (G - <G, W / sigma> u vᵀ) / sigma.
 * The first forward in train mode after finalize iterates from the random u, v of
 * gc_model_sn_init (PyTorch does no iteration at wrapping time either).
 *
 * Gradients of the parameters accumulate over several backward passes (a D update
 * backs through its real and its fake batch), each belonging to its own forward and
 * so to its own sigma, u and v. The kernels accumulate G into the layer's slot of
 * grads; a backward that forms parameter gradients first moves what the slot holds
 * into snstash and clears it (stash), and afterwards turns the slot's G into dL/dW
 * and adds the stash back (unstash). The conversion is linear in G, so the sum over
 * passes is the sum of each pass's own gradient.
 *
 * Products run in double on the caller's thread: two matrix-vector products and two
 * passes over W per forward, small next to the layer's GEMMs; nothing is allocated
 * after finalize. u and v are state
 * (model_state.c saves and copies them); sigma and wsn are recomputed by every
 * forward. */
#include "core/model_sn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/model_internal.h"

#define SN_EPS 1e-12

static int sn_rows(const struct gc_layer *l)
{
    return l->oc;
}

static int sn_cols(const struct gc_layer *l)
{
    return (int)(l->w_n / (size_t)l->oc);
}

int gc_model_spectral_norm(struct gc_model *m, struct gc_error *err)
{
    if (m->finalized)
        return gc_error_set(err, GC_ESTATE, "spectral norm: the model is already finalized");
    if (m->nlayers == 0)
        return gc_error_set(err, GC_EINVAL, "spectral norm: no layer to normalize");
    struct gc_layer *l = &m->layers[m->nlayers - 1];
    if (l->kind != GC_LAYER_LINEAR && l->kind != GC_LAYER_CONV2D)
        return gc_error_set(err, GC_EINVAL, "spectral norm: applies to linear and conv2d, not %s",
                            gc_model_kind_name(l->kind));
    if (!l->sn) {
        l->sn = 1;
        m->nsn++;
    }
    return 0;
}

int gc_model_sn_alloc(struct gc_model *m, struct gc_error *err)
{
    size_t nuv = 0, nw = 0, ncols = 1;
    for (int i = 0; i < m->nlayers; i++) {
        struct gc_layer *l = &m->layers[i];
        if (!l->sn)
            continue;
        if ((size_t)sn_cols(l) > ncols)
            ncols = (size_t)sn_cols(l);
        l->sn_off = nuv;
        nuv += (size_t)sn_rows(l) + (size_t)sn_cols(l) + 1;
        l->wsn_off = nw;
        nw += l->w_n;
    }
    if (!m->nsn)
        return 0;
    m->nsnuv = nuv;
    m->nwsn = nw;
    m->snuv = calloc(nuv, sizeof(float));
    m->wsn = calloc(nw, sizeof(float));
    m->snstash = calloc(nw, sizeof(float));
    m->snacc = calloc(ncols, sizeof(double));
    if (!m->snuv || !m->wsn || !m->snstash || !m->snacc)
        return gc_error_set(err, GC_ENOMEM, "spectral norm: out of memory for %zu weights", nw);
    return 0;
}

/* x /= max(|x|, eps), the norm in double */
static void normalize(float *x, int n)
{
    double s = 0.0;
    for (int i = 0; i < n; i++)
        s += (double)x[i] * x[i];
    double d = sqrt(s);
    if (d < SN_EPS)
        d = SN_EPS;
    for (int i = 0; i < n; i++)
        x[i] = (float)(x[i] / d);
}

void gc_model_sn_init(struct gc_model *m, struct gc_rng *rng)
{
    for (int i = 0; i < m->nlayers; i++) {
        const struct gc_layer *l = &m->layers[i];
        if (!l->sn)
            continue;
        float *u = m->snuv + l->sn_off, *v = u + sn_rows(l);
        gc_rng_fill_normal(rng, u, (size_t)sn_rows(l), 0.0f, 1.0f);
        normalize(u, sn_rows(l));
        gc_rng_fill_normal(rng, v, (size_t)sn_cols(l), 0.0f, 1.0f);
        normalize(v, sn_cols(l));
    }
}

/* out = W v (rows) */
static void mat_vec(const float *w, int rows, int cols, const float *v, float *out)
{
    for (int r = 0; r < rows; r++) {
        const float *row = w + (size_t)r * cols;
        double s = 0.0;
        for (int c = 0; c < cols; c++)
            s += (double)row[c] * v[c];
        out[r] = (float)s;
    }
}

/* out = Wᵀ u (cols), summed row by row so that W is read in order */
static void mat_t_vec(const float *w, int rows, int cols, const float *u, double *acc, float *out)
{
    for (int c = 0; c < cols; c++)
        acc[c] = 0.0;
    for (int r = 0; r < rows; r++) {
        const float *row = w + (size_t)r * cols;
        double ur = u[r];
        for (int c = 0; c < cols; c++)
            acc[c] += ur * row[c];
    }
    for (int c = 0; c < cols; c++)
        out[c] = (float)acc[c];
}

void gc_model_sn_refresh(struct gc_model *m, int train)
{
    for (int i = 0; i < m->nlayers; i++) {
        const struct gc_layer *l = &m->layers[i];
        if (!l->sn)
            continue;
        const int rows = sn_rows(l), cols = sn_cols(l);
        const float *w = m->params + l->w_off;
        float *u = m->snuv + l->sn_off, *v = u + rows, *sigma = v + cols;
        float *out = m->wsn + l->wsn_off; /* W v goes here first: w_n >= rows */
        if (train) {
            mat_t_vec(w, rows, cols, u, m->snacc, v);
            normalize(v, cols);
            mat_vec(w, rows, cols, v, u);
            normalize(u, rows);
        }
        mat_vec(w, rows, cols, v, out);
        double s = 0.0;
        for (int r = 0; r < rows; r++)
            s += (double)u[r] * out[r];
        *sigma = (float)s;
        const float inv = (float)(1.0 / s);
        for (size_t k = 0; k < l->w_n; k++)
            out[k] = w[k] * inv;
    }
}

void gc_model_sn_stash(struct gc_model *m)
{
    for (int i = 0; i < m->nlayers; i++) {
        const struct gc_layer *l = &m->layers[i];
        if (!l->sn)
            continue;
        memcpy(m->snstash + l->wsn_off, m->grads + l->w_off, l->w_n * sizeof(float));
        memset(m->grads + l->w_off, 0, l->w_n * sizeof(float));
    }
}

void gc_model_sn_unstash(struct gc_model *m)
{
    for (int i = 0; i < m->nlayers; i++) {
        const struct gc_layer *l = &m->layers[i];
        if (!l->sn)
            continue;
        const int rows = sn_rows(l), cols = sn_cols(l);
        const float *u = m->snuv + l->sn_off, *v = u + rows, sigma = v[cols];
        const float *ws = m->wsn + l->wsn_off, *st = m->snstash + l->wsn_off;
        float *g = m->grads + l->w_off;
        double dot = 0.0;
        for (size_t k = 0; k < l->w_n; k++)
            dot += (double)g[k] * ws[k];
        const double inv = 1.0 / sigma;
        for (int r = 0; r < rows; r++) {
            const double cu = dot * u[r];
            float *gr = g + (size_t)r * cols;
            const float *sr = st + (size_t)r * cols;
            for (int c = 0; c < cols; c++)
                gr[c] = sr[c] + (float)((gr[c] - cu * v[c]) * inv);
        }
    }
}

static const struct gc_layer *sn_layer(const struct gc_model *m, int layer)
{
    if (!m->finalized || layer < 0 || layer >= m->nlayers || !m->layers[layer].sn)
        return NULL;
    return &m->layers[layer];
}

float *gc_model_layer_sn_u(struct gc_model *m, int layer, int *rows)
{
    const struct gc_layer *l = sn_layer(m, layer);
    if (rows)
        *rows = l ? sn_rows(l) : 0;
    return l ? m->snuv + l->sn_off : NULL;
}

float *gc_model_layer_sn_v(struct gc_model *m, int layer, int *cols)
{
    const struct gc_layer *l = sn_layer(m, layer);
    if (cols)
        *cols = l ? sn_cols(l) : 0;
    return l ? m->snuv + l->sn_off + sn_rows(l) : NULL;
}

float gc_model_layer_sigma(const struct gc_model *m, int layer)
{
    const struct gc_layer *l = sn_layer(m, layer);
    return l ? m->snuv[l->sn_off + (size_t)sn_rows(l) + (size_t)sn_cols(l)] : 0.0f;
}
