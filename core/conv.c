/* conv.c — 2D convolution and transposed convolution, NCHW float32, over GEMM.
 *
 * conv2d is, for each sample, out_n (OC, OH*OW) = weight (OC, C*K*K) · col with col
 * (C*K*K, OH*OW) the input patch of every output pixel (im2col). Backward: dweight +=
 * dout_n · colᵀ, and dcol = weightᵀ · dout_n folded back into dinp (col2im).
 *
 * convt2d is the adjoint of a conv2d whose input is convt2d's output: col (OC*K*K, H*W)
 * = weightᵀ · inp_n, scattered into out_n by col2im; its backward is conv2d's forward
 * (im2col of dout) for dinp and dweight. Both directions therefore share one im2col and
 * one col2im over an "image" side (channels, ih, iw) and a "grid" side (gh, gw) with
 * gh = (ih + 2P - K)/S + 1.
 *
 * col is never formed whole. Its element ((c, ki, kj), pixel) is one float of the
 * "phase planes" of the zero-padded image (core/conv_planes.h), at the sum of an offset
 * of its row and one of its column, so the GEMMs take col through those offsets
 * (core/gemm.h gc_gemm_mapped): im2col becomes part of packing B, read once from planes
 * a quarter of col's size, and col2im adds chunks of col, 128 columns at a time, into
 * zeroed planes, folded back into the image after (see col2im). In bf16 a stride-2
 * layer's im2col reads words of its bfloat16 image instead (gc_gemm_mapped_a_pairs).
 *
 * A GEMM takes a group of samples side by side, their planes one after the other
 * (see group_size); NCHW inputs and outputs are read and written through offsets as
 * well, and only the operand A of a weight gradient (the group's dout, or its input)
 * is copied side by side. */
#include "core/conv.h"

#include <stdint.h>
#include <string.h>

#include "core/blas.h"
#include "core/conv_planes.h"
#include "core/gemm.h"
#include "core/vec.h"

/* Largest element count of any tensor or matrix a layer touches: GEMM takes int
 * sizes and leading dimensions. */
#define CONV_MAX_ELEMS ((int64_t)INT32_MAX)

/* Samples per GEMM: enough for about GROUP_COLS columns, where a GEMM runs at full
 * speed and its operand A, packed once per call, is spread over enough work (the 7x7
 * and 4x4 grids alone made GEMMs a tenth and a fortieth as wide, and depth-16 weight
 * gradients); one sample of a grid that wide already. */
#define GROUP_COLS 640

/* Columns of col made at a time by col2im: a chunk of the 64x64 DCGAN's largest col
 * (4096 rows) is 2 MB, of the 28x28 one's 0.5 MB. */
#define COL_CHUNK 128

/* Narrower grids (a 1x1 grid, whose runs are single floats) add a run a few floats long
 * at a time, slower than the GEMM's tiles added through their runs (1x1 -> 4x4: 8.7 ms
 * against 13 for 64 samples): those keep the GEMM adding its tiles. */
#define COL_MIN_RUN 4

static int group_size(int n, int64_t gsz)
{
    int64_t nb = (GROUP_COLS + gsz - 1) / gsz;
    return nb < n ? (int)nb : n;
}

/* The geometry of the im2col/col2im pair of a layer (see the top of the file). */
static struct geom layer_geom(const struct gc_conv *L)
{
    struct geom g;
    g.k = L->k;
    g.s = L->stride;
    g.p = L->pad;
    if (!L->transposed) {
        g.ch = L->c;
        g.ih = L->h;
        g.iw = L->w;
        g.gh = L->oh;
        g.gw = L->ow;
    } else {
        g.ch = L->oc;
        g.ih = L->oh;
        g.iw = L->ow;
        g.gh = L->h;
        g.gw = L->w;
    }
    g.nph = g.s < g.k ? g.s : g.k;
    g.hp = g.ih + 2 * g.p;
    g.wt = (g.iw + 2 * g.p + g.s - 1) / g.s;
    return g;
}

static int check_shape(struct gc_conv *L, const char *what, int n, int c, int h, int w, int oc,
                       int k, int stride, int pad, int transposed, struct gc_error *err)
{
    memset(L, 0, sizeof *L);
    if (n <= 0 || c <= 0 || h <= 0 || w <= 0 || oc <= 0)
        return gc_error_set(err, GC_EINVAL,
                            "%s: sizes must be positive (n=%d c=%d h=%d w=%d oc=%d)", what, n, c, h,
                            w, oc);
    if (k < 1)
        return gc_error_set(err, GC_EINVAL, "%s: kernel size %d < 1", what, k);
    if (stride < 1)
        return gc_error_set(err, GC_EINVAL, "%s: stride %d < 1", what, stride);
    if (pad < 0 || pad >= k)
        return gc_error_set(err, GC_EINVAL, "%s: padding %d outside [0, kernel %d)", what, pad, k);
    int64_t oh, ow;
    if (!transposed) {
        oh = ((int64_t)h + 2 * (int64_t)pad - k) / stride + 1;
        ow = ((int64_t)w + 2 * (int64_t)pad - k) / stride + 1;
        if ((int64_t)h + 2 * (int64_t)pad < k || (int64_t)w + 2 * (int64_t)pad < k)
            oh = ow = 0;
    } else {
        oh = ((int64_t)h - 1) * stride - 2 * (int64_t)pad + k;
        ow = ((int64_t)w - 1) * stride - 2 * (int64_t)pad + k;
    }
    if (oh < 1 || ow < 1)
        return gc_error_set(err, GC_EINVAL,
                            "%s: output size %lldx%lld < 1 for input %dx%d, kernel %d, "
                            "stride %d, padding %d",
                            what, (long long)oh, (long long)ow, h, w, k, stride, pad);
    /* every product below stays far from int64 overflow: each factor is < 2^31 and
     * the running product is checked against 2^31 before the next factor */
    const int64_t lim = CONV_MAX_ELEMS;
    const int64_t kk = (int64_t)k * k;
    int64_t in_img = (int64_t)c * h;
    int64_t out_img = oh <= lim ? (int64_t)oc * oh : lim + 1;
    int ok = kk <= lim && in_img <= lim && (in_img *= w) <= lim && out_img <= lim &&
             (out_img *= ow) <= lim && in_img * n <= lim && out_img * n <= lim &&
             (int64_t)c * oc <= lim && (int64_t)c * oc * kk <= lim && (int64_t)c * kk <= lim &&
             (int64_t)oc * kk <= lim && oh * ow <= lim && (int64_t)h * w <= lim;
    int64_t cols = transposed ? (int64_t)h * w : oh * ow, nb = 1;
    if (ok) {
        /* the group's columns; conv2d's weight copy has one more column (see ws_layout) */
        nb = group_size(n, cols);
        ok = (int64_t)oc * (c * kk + 1) <= lim && (int64_t)(c > oc ? c : oc) * nb * cols <= lim;
    }
    if (ok) {
        /* the phase planes of the padded image side (see conv_build_phases), a group's worth
         * and as many ones after them: every offset into them is an int32 */
        int64_t ich = transposed ? oc : c, ih = transposed ? oh : h, iw = transposed ? ow : w;
        int64_t nph = stride < k ? stride : k;
        int64_t wt = (iw + 2 * (int64_t)pad + stride - 1) / stride;
        ok = ich * nph <= lim && ich * nph * (ih + 2 * (int64_t)pad) <= lim &&
             ich * nph * (ih + 2 * (int64_t)pad) * wt * 2 * nb <= lim;
    }
    if (!ok)
        return gc_error_set(err, GC_EINVAL,
                            "%s: sizes too large (n=%d c=%d %dx%d oc=%d k=%d): a tensor would "
                            "exceed %lld elements",
                            what, n, c, h, w, oc, k, (long long)lim);
    L->n = n;
    L->c = c;
    L->h = h;
    L->w = w;
    L->oc = oc;
    L->k = k;
    L->stride = stride;
    L->pad = pad;
    L->oh = (int)oh;
    L->ow = (int)ow;
    L->transposed = transposed;
    return 0;
}

int gc_conv2d_init(struct gc_conv *L, int n, int c, int h, int w, int oc, int k, int stride,
                   int pad, struct gc_error *err)
{
    return check_shape(L, "conv2d", n, c, h, w, oc, k, stride, pad, 0, err);
}

int gc_convt2d_init(struct gc_conv *L, int n, int c, int h, int w, int oc, int k, int stride,
                    int pad, struct gc_error *err)
{
    return check_shape(L, "convt2d", n, c, h, w, oc, k, stride, pad, 1, err);
}

/* Sum of x[0..n) in eight interleaved partial sums: one running sum is bound by the
 * latency of the add (4 cycles a float) and would cost a third of a backward pass. */
__attribute__((noinline)) static float sum_row(const float *restrict x, int n)
{
    float acc[8] = {0};
    const int n8 = n & ~7;
    for (int j = 0; j < n8; j += 8)
        for (int l = 0; l < 8; l++)
            acc[l] += x[j + l];
    float s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (int j = n8; j < n; j++)
        s += x[j];
    return s;
}

/* dbias[o] += sum over the batch and pixels of dout (n, oc, pix). */
static void bias_backward(float *dbias, const float *dout, int n, int oc, int pix)
{
    for (int i = 0; i < n; i++)
        for (int o = 0; o < oc; o++)
            dbias[o] += sum_row(dout + ((size_t)i * oc + o) * pix, pix);
}

int gc_conv_group(const struct gc_conv *L)
{
    const int gsz = L->transposed ? L->h * L->w : L->oh * L->ow;
    return group_size(L->n, gsz);
}

/* The workspace, in floats: the phase planes of a group (then as many ones, which
 * conv2d's bias row reads; or the group's bfloat16 images, see conv_build_pairs); conv2d's
 * weight with the bias as a last column; the A of a weight gradient, a group side by
 * side; the offsets (int32) of col's rows and columns, of an NCHW tensor's, and of col's
 * pairs of rows in the bfloat16 images; a chunk of col (see col2im). */
struct ws_layout {
    size_t ps; /* floats of one sample's planes */
    size_t pb, wb, tb, prow, pcol, trow, tcol, qrow, qcol, cb, total; /* offsets */
};

static struct ws_layout ws_layout(const struct gc_conv *L)
{
    const struct geom g = layer_geom(L);
    const size_t nb = (size_t)gc_conv_group(L);
    const size_t gsz = (size_t)g.gh * g.gw;
    const size_t rows = (size_t)g.ch * g.k * g.k;
    const size_t ch = (size_t)(L->c > L->oc ? L->c : L->oc);
    struct ws_layout w;
    w.ps = conv_phase_floats(&g);
    w.pb = 0;
    w.wb = w.pb + 2 * nb * w.ps;
    w.tb = w.wb + (L->transposed ? 0 : (size_t)L->oc * (rows + 1));
    w.prow = w.tb + ch * nb * gsz;
    w.pcol = w.prow + rows + 1;
    w.trow = w.pcol + nb * gsz;
    w.tcol = w.trow + ch;
    w.qrow = w.tcol + nb * gsz;
    w.qcol = w.qrow + (rows + 1) / 2 + 1;
    w.cb = w.qcol + nb * gsz;
    w.total = w.cb + rows * COL_CHUNK;
    return w;
}

size_t gc_conv_workspace(const struct gc_conv *L)
{
    return ws_layout(L).total;
}

/* Offsets of m NCHW samples (ch, gsz), sz floats apart, as a (ch, m * gsz) matrix. */
static void nchw_offsets(int ch, int gsz, size_t sz, int m, int32_t *row, int32_t *col)
{
    for (int c = 0; c < ch; c++)
        row[c] = (int32_t)((size_t)c * gsz);
    for (int j = 0; j < m; j++)
        for (int q = 0; q < gsz; q++)
            *col++ = (int32_t)((size_t)j * sz + q);
}

/* m NCHW slices (ch, gsz), sz floats apart, side by side into wide (ch, m * gsz). */
static void gather(float *restrict wide, const float *restrict t, size_t sz, int m, int ch, int gsz)
{
    const size_t ld = (size_t)m * gsz;
    for (int j = 0; j < m; j++)
        for (int c = 0; c < ch; c++)
            conv_copy_row(wide + (size_t)c * ld + (size_t)j * gsz, t + j * sz + (size_t)c * gsz,
                          gsz);
}

/* The planes of the group's samples [0, m) of img (NCHW, sz floats apart). */
static void build_group(const struct geom *g, const struct ws_layout *w, float *ws,
                        const float *img, size_t sz, int m)
{
    for (int j = 0; j < m; j++)
        conv_build_phases(g, img + j * sz, ws + w->pb + (size_t)j * w->ps);
}

/* ---- bfloat16 pairs: see core/conv_planes.h ---------------------------------------- */

/* The GEMM of col can take its rows in pairs from the bfloat16 images. */
static int pairs_ok(const struct gc_conv *L, const struct geom *g)
{
    return L->bf16 && g->s == 2 && g->k % 2 == 0 && gc_gemm_have_bf16();
}

/* The group's samples [0, m) of img (NCHW, sz floats apart) as bfloat16 images at pw,
 * through f (room for one sample's padded image in floats, 2 conv_pair_words). */
static void build_pair_group(const struct geom *g, uint32_t *pw, const float *img, size_t sz, int m,
                             float *f)
{
    for (int j = 0; j < m; j++)
        conv_build_pairs(g, img + j * sz, (uint16_t *)(pw + (size_t)j * conv_pair_words(g)), f);
}

/* The operand A a pass's GEMMs take from the weight: op(A) m x k of the stored (row
 * stride lda) weight, transposed or not. */
struct wop {
    int trans, m, k, lda;
};

static struct wop weight_op(const struct gc_conv *L, enum gc_conv_use use)
{
    const int ckk = L->c * L->k * L->k, okk = L->oc * L->k * L->k;
    if (!L->transposed)
        return use == GC_CONV_FORWARD ? (struct wop){0, L->oc, ckk, ckk}
                                      : (struct wop){1, ckk, L->oc, ckk};
    return use == GC_CONV_FORWARD ? (struct wop){1, okk, L->c, okk}
                                  : (struct wop){0, L->c, okk, okk};
}

size_t gc_conv_pack_words(const struct gc_conv *L, enum gc_conv_use use)
{
    const struct wop o = weight_op(L, use);
    size_t f = gc_gemm_packed_a_words(0, o.m, o.k), b = gc_gemm_packed_a_words(1, o.m, o.k);
    return f > b ? f : b;
}

void gc_conv_pack_weight(const struct gc_conv *L, enum gc_conv_use use, const float *weight,
                         void *buf, size_t cap, int ith, int nth, struct gc_gemm_packed_a *out)
{
    const struct wop o = weight_op(L, use);
    gc_gemm_pack_a_part(L->bf16, o.trans, o.m, o.k, weight, o.lda, buf, cap, ith, nth, out);
}

/* The weight packed for use: pre when it was packed ahead for this layer, weight and
 * precision, else packed here (this thread's buffer, until its next packing). */
static void pack_weight(const struct gc_conv *L, enum gc_conv_use use, const float *weight,
                        const struct gc_gemm_packed_a *pre, struct gc_gemm_packed_a *out)
{
    const struct wop o = weight_op(L, use);
    if (pre && pre->packed && pre->a == weight && pre->bf16 == L->bf16 && pre->trans_a == o.trans &&
        pre->m == o.m && pre->k == o.k && pre->lda == o.lda) {
        *out = *pre;
        return;
    }
    gc_gemm_pack_a(L->bf16, o.trans, o.m, o.k, weight, o.lda, out);
}

static void conv2d_forward(const struct gc_conv *L, int n, float *out, const float *inp,
                           const float *weight, const float *bias,
                           const struct gc_gemm_packed_a *pre, float *ws)
{
    const struct geom g = layer_geom(L);
    const struct ws_layout w = ws_layout(L);
    const int nb = gc_conv_group(L);
    const int ckk = L->c * L->k * L->k;
    const int pix = L->oh * L->ow;
    const size_t in_sz = (size_t)L->c * L->h * L->w, out_sz = (size_t)L->oc * pix;
    float *wb = ws + w.wb;
    int32_t *prow = (int32_t *)(ws + w.prow), *pcol = (int32_t *)(ws + w.pcol);
    int32_t *trow = (int32_t *)(ws + w.trow), *tcol = (int32_t *)(ws + w.tcol);
    /* The bias rides in the GEMM as one more column of the weight against a row of
     * ones (the ones after the planes, at the same column offsets): filling out with
     * the bias first and running the GEMM with beta = 1 costs a write and a read of
     * out, a tenth of the small 1->64 conv. */
    const int kb = bias ? ckk + 1 : ckk;
    const float *a = weight;
    int pairs = pairs_ok(L, &g);
    const size_t psw = conv_pair_words(&g);
    uint32_t *pw = (uint32_t *)(ws + w.pb);
    if (bias) {
        for (int o = 0; o < L->oc; o++) {
            memcpy(wb + (size_t)o * kb, weight + (size_t)o * ckk, sizeof(float) * ckk);
            wb[(size_t)o * kb + ckk] = bias[o];
        }
        a = wb;
        if (pairs) /* the pair (1, 0) after the images */
            for (size_t i = 0; i < (size_t)nb * psw; i++)
                pw[(size_t)nb * psw + i] = 0x3f80u;
        else
            conv_fill_row(ws + w.pb + (size_t)nb * w.ps, 1.0f, (int)((size_t)nb * w.ps));
    }
    conv_plane_offsets(&g, w.ps, nb, prow, pcol);
    prow[ckk] = (int32_t)((size_t)nb * w.ps); /* the ones */
    nchw_offsets(L->oc, pix, out_sz, nb, trow, tcol);
    const struct gc_gemm_map bmap = {prow, pcol}, cmap = {trow, tcol};
    int32_t *qrow = (int32_t *)(ws + w.qrow), *qcol = (int32_t *)(ws + w.qcol);
    if (pairs) {
        conv_pair_offsets(&g, psw, nb, qrow, qcol);
        qrow[ckk / 2] = (int32_t)((size_t)nb * psw);
    }
    const struct gc_gemm_map qmap = {qrow, qcol};
    struct gc_gemm_packed_a pa;
    if (bias) /* the weight and the bias as one operand */
        gc_gemm_pack_a(L->bf16, 0, L->oc, kb, a, kb, &pa);
    else
        pack_weight(L, GC_CONV_FORWARD, weight, pre, &pa);
    for (int i0 = 0; i0 < n; i0 += nb) {
        const int m = n - i0 < nb ? n - i0 : nb;
        if (pairs) {
            /* the floats in the room of the planes' ones, unused here */
            build_pair_group(&g, pw, inp + i0 * in_sz, in_sz, m, ws + w.pb + (size_t)nb * w.ps);
            if (gc_gemm_mapped_a_pairs(&pa, m * pix, pw, &qmap, 0.0f, out + i0 * out_sz, pix,
                                       m > 1 ? &cmap : NULL) == 0)
                continue;
            pairs = 0; /* no buffer: the float planes from here (they overwrite the images) */
            if (bias)
                conv_fill_row(ws + w.pb + (size_t)nb * w.ps, 1.0f, (int)((size_t)nb * w.ps));
        }
        build_group(&g, &w, ws, inp + i0 * in_sz, in_sz, m);
        /* one sample's output is a plain (oc, pix) matrix */
        gc_gemm_mapped_a(&pa, 0, m * pix, 1.0f, ws + w.pb, 0, &bmap, 0.0f, out + i0 * out_sz, pix,
                         m > 1 ? &cmap : NULL);
    }
}

/* col2im: the planes (zeroed) += col, col = A · B over the group's ncols columns (B plain
 * with row stride ldb, or through bmap), col's rows at the plane offsets prow, its
 * columns at pcol. col is made COL_CHUNK columns at a time into cb (rows x COL_CHUNK,
 * stored, not added) and added row by row along the chunk's runs of consecutive plane
 * offsets (a grid row each). A GEMM that added its 14x32 tiles into the planes itself
 * spent about 20 cycles on each 16-float add (a quarter of the bf16 convt2d forward),
 * most likely loads waiting on stores a few rows before that overlap them (the taps kj
 * and kj + 2 of a row land one float apart, ki and ki + 2 a grid row apart); reordering
 * a tile's rows or sweeping slivers did not help, adding whole rows of a chunk did: the
 * next overlapping row comes a chunk later. */
static void col2im(const struct gc_gemm_packed_a *A, int rows, const float *b, int ldb,
                   const struct gc_gemm_map *bmap, int ncols, const int32_t *prow,
                   const int32_t *pcol, float *planes, float *cb)
{
    int rq[COL_CHUNK], rl[COL_CHUNK];
    for (int j0 = 0; j0 < ncols; j0 += COL_CHUNK) {
        const int nc = ncols - j0 < COL_CHUNK ? ncols - j0 : COL_CHUNK;
        if (bmap) {
            const struct gc_gemm_map xm = {bmap->row, bmap->col + j0};
            gc_gemm_mapped_a(A, 0, nc, 1.0f, b, 0, &xm, 0.0f, cb, nc, NULL);
        } else {
            gc_gemm_mapped_a(A, 0, nc, 1.0f, b + j0, ldb, NULL, 0.0f, cb, nc, NULL);
        }
        int nr = 0;
        for (int q = 0; q < nc; nr++) {
            int q1 = q + 1;
            while (q1 < nc && pcol[j0 + q1] == pcol[j0 + q1 - 1] + 1)
                q1++;
            rq[nr] = q;
            rl[nr] = q1 - q;
            q = q1;
        }
        for (int r = 0; r < rows; r++) {
            float *dst = planes + prow[r];
            const float *src = cb + (size_t)r * nc;
            for (int u = 0; u < nr; u++)
                gc_add_row(dst + pcol[j0 + rq[u]], src + rq[u], rl[u]);
        }
    }
}

static void conv2d_backward(const struct gc_conv *L, int n, float *dinp, int add_dinp,
                            float *dweight, float *dbias, const float *dout, const float *inp,
                            const float *weight, const struct gc_gemm_packed_a *pre, float *ws)
{
    const struct geom g = layer_geom(L);
    const struct ws_layout w = ws_layout(L);
    const int nb = gc_conv_group(L);
    const int ckk = L->c * L->k * L->k;
    const int pix = L->oh * L->ow;
    const size_t in_sz = (size_t)L->c * L->h * L->w, out_sz = (size_t)L->oc * pix;
    float *tb = ws + w.tb, *pb = ws + w.pb;
    int32_t *prow = (int32_t *)(ws + w.prow), *pcol = (int32_t *)(ws + w.pcol);
    if (dbias)
        bias_backward(dbias, dout, n, L->oc, pix);
    conv_plane_offsets(&g, w.ps, nb, prow, pcol);
    const struct gc_gemm_map pmap = {prow, pcol};
    struct gc_gemm_packed_a wt; /* weightᵀ, for dinp */
    if (dinp)
        pack_weight(L, GC_CONV_DINP, weight, pre, &wt);
    for (int i0 = 0; i0 < n; i0 += nb) {
        const int m = n - i0 < nb ? n - i0 : nb;
        /* the group's dout as one (oc, m * pix) matrix */
        const float *d = dout + i0 * out_sz;
        if (m > 1) {
            gather(tb, d, out_sz, m, L->oc, pix);
            d = tb;
        }
        if (dweight) {
            /* the group's pixels are the depth of this GEMM: per sample, the 4x4 grids of
             * a 64x64 D gave a depth of 16 and ran at a third of the speed */
            build_group(&g, &w, ws, inp + i0 * in_sz, in_sz, m);
            gc_gemm_mapped(L->bf16, 0, 1, L->oc, ckk, m * pix, 1.0f, d, m * pix, pb, 0, &pmap, 1.0f,
                           dweight, ckk, NULL);
        }
        if (dinp) {
            /* dcol added into zeroed planes, folded back into each sample */
            memset(pb, 0, (size_t)m * w.ps * sizeof(float));
            if (g.gw >= COL_MIN_RUN)
                col2im(&wt, ckk, d, m * pix, NULL, m * pix, prow, pcol, pb, ws + w.cb);
            else
                gc_gemm_mapped_a(&wt, 0, m * pix, 1.0f, d, m * pix, NULL, 1.0f, pb, 0, &pmap);
            for (int j = 0; j < m; j++)
                conv_fold_phases(&g, pb + (size_t)j * w.ps, dinp + (i0 + j) * in_sz, add_dinp,
                                 NULL);
        }
    }
}

static void convt2d_forward(const struct gc_conv *L, int n, float *out, const float *inp,
                            const float *weight, const float *bias,
                            const struct gc_gemm_packed_a *pre, float *ws)
{
    const struct geom g = layer_geom(L);
    const struct ws_layout w = ws_layout(L);
    const int nb = gc_conv_group(L);
    const int okk = L->oc * L->k * L->k;
    const int hw = L->h * L->w;
    const int opix = L->oh * L->ow;
    const size_t in_sz = (size_t)L->c * hw, out_sz = (size_t)L->oc * opix;
    float *pb = ws + w.pb;
    int32_t *prow = (int32_t *)(ws + w.prow), *pcol = (int32_t *)(ws + w.pcol);
    int32_t *trow = (int32_t *)(ws + w.trow), *tcol = (int32_t *)(ws + w.tcol);
    conv_plane_offsets(&g, w.ps, nb, prow, pcol);
    nchw_offsets(L->c, hw, in_sz, nb, trow, tcol);
    const struct gc_gemm_map pmap = {prow, pcol}, xmap = {trow, tcol};
    struct gc_gemm_packed_a wt;
    pack_weight(L, GC_CONV_FORWARD, weight, pre, &wt);
    for (int i0 = 0; i0 < n; i0 += nb) {
        const int m = n - i0 < nb ? n - i0 : nb;
        /* col = weightᵀ · the group's input, added into zeroed planes */
        memset(pb, 0, (size_t)m * w.ps * sizeof(float));
        if (g.gw >= COL_MIN_RUN)
            col2im(&wt, okk, inp + i0 * in_sz, hw, m > 1 ? &xmap : NULL, m * hw, prow, pcol, pb,
                   ws + w.cb);
        else
            gc_gemm_mapped_a(&wt, 0, m * hw, 1.0f, inp + i0 * in_sz, hw, m > 1 ? &xmap : NULL, 1.0f,
                             pb, 0, &pmap);
        for (int j = 0; j < m; j++) /* out = bias + the planes */
            conv_fold_phases(&g, pb + (size_t)j * w.ps, out + (i0 + j) * out_sz, 0, bias);
    }
}

static void convt2d_backward(const struct gc_conv *L, int n, float *dinp, int add_dinp,
                             float *dweight, float *dbias, const float *dout, const float *inp,
                             const float *weight, const struct gc_gemm_packed_a *pre, float *ws)
{
    const struct geom g = layer_geom(L);
    const struct ws_layout w = ws_layout(L);
    const int nb = gc_conv_group(L);
    const int okk = L->oc * L->k * L->k;
    const int hw = L->h * L->w;
    const int opix = L->oh * L->ow;
    const size_t in_sz = (size_t)L->c * hw, out_sz = (size_t)L->oc * opix;
    float *tb = ws + w.tb, *pb = ws + w.pb;
    int32_t *prow = (int32_t *)(ws + w.prow), *pcol = (int32_t *)(ws + w.pcol);
    int32_t *trow = (int32_t *)(ws + w.trow), *tcol = (int32_t *)(ws + w.tcol);
    if (dbias)
        bias_backward(dbias, dout, n, L->oc, opix);
    if (!dinp && !dweight)
        return;
    conv_plane_offsets(&g, w.ps, nb, prow, pcol);
    nchw_offsets(L->c, hw, in_sz, nb, trow, tcol);
    const struct gc_gemm_map pmap = {prow, pcol}, xmap = {trow, tcol};
    struct gc_gemm_packed_a wp; /* the weight, for dinp */
    if (dinp)
        pack_weight(L, GC_CONV_DINP, weight, pre, &wp);
    /* dinp's col from bfloat16 images, after the planes dweight reads */
    int pairs = dinp && pairs_ok(L, &g);
    uint32_t *pw = (uint32_t *)(pb + (size_t)nb * w.ps);
    int32_t *qrow = (int32_t *)(ws + w.qrow), *qcol = (int32_t *)(ws + w.qcol);
    if (pairs)
        conv_pair_offsets(&g, conv_pair_words(&g), nb, qrow, qcol);
    const struct gc_gemm_map qmap = {qrow, qcol};
    for (int i0 = 0; i0 < n; i0 += nb) {
        const int m = n - i0 < nb ? n - i0 : nb;
        float *dx = dinp ? dinp + i0 * in_sz : NULL;
        const float beta = add_dinp ? 1.0f : 0.0f;
        if (pairs) {
            /* the floats in the room of the planes, built after */
            build_pair_group(&g, pw, dout + i0 * out_sz, out_sz, m, pb);
            if (gc_gemm_mapped_a_pairs(&wp, m * hw, pw, &qmap, beta, dx, hw, m > 1 ? &xmap : NULL))
                pairs = 0; /* no buffer: col from the planes from here */
            else
                dx = NULL;
        }
        /* im2col of the group's dout, read from its planes */
        if (dx || dweight)
            build_group(&g, &w, ws, dout + i0 * out_sz, out_sz, m);
        if (dx)
            gc_gemm_mapped_a(&wp, 0, m * hw, 1.0f, pb, 0, &pmap, beta, dx, hw,
                             m > 1 ? &xmap : NULL);
        if (dweight) {
            /* the group's pixels as the depth, as in conv2d's dweight */
            const float *x = inp + i0 * in_sz;
            if (m > 1) {
                gather(tb, x, in_sz, m, L->c, hw);
                x = tb;
            }
            gc_gemm_mapped(L->bf16, 0, 1, L->c, okk, m * hw, 1.0f, x, m * hw, pb, 0, &pmap, 1.0f,
                           dweight, okk, NULL);
        }
    }
}

void gc_conv2d_forward(const struct gc_conv *L, int n, float *out, const float *inp,
                       const float *weight, const float *bias, float *ws)
{
    conv2d_forward(L, n, out, inp, weight, bias, NULL, ws);
}

void gc_conv2d_backward(const struct gc_conv *L, int n, float *dinp, int add_dinp, float *dweight,
                        float *dbias, const float *dout, const float *inp, const float *weight,
                        float *ws)
{
    conv2d_backward(L, n, dinp, add_dinp, dweight, dbias, dout, inp, weight, NULL, ws);
}

void gc_convt2d_forward(const struct gc_conv *L, int n, float *out, const float *inp,
                        const float *weight, const float *bias, float *ws)
{
    convt2d_forward(L, n, out, inp, weight, bias, NULL, ws);
}

void gc_convt2d_backward(const struct gc_conv *L, int n, float *dinp, int add_dinp, float *dweight,
                         float *dbias, const float *dout, const float *inp, const float *weight,
                         float *ws)
{
    convt2d_backward(L, n, dinp, add_dinp, dweight, dbias, dout, inp, weight, NULL, ws);
}

void gc_conv_forward_packed(const struct gc_conv *L, int n, float *out, const float *inp,
                            const float *weight, const float *bias,
                            const struct gc_gemm_packed_a *w, float *ws)
{
    if (L->transposed)
        convt2d_forward(L, n, out, inp, weight, bias, w, ws);
    else
        conv2d_forward(L, n, out, inp, weight, bias, w, ws);
}

void gc_conv_backward_packed(const struct gc_conv *L, int n, float *dinp, int add_dinp,
                             float *dweight, float *dbias, const float *dout, const float *inp,
                             const float *weight, const struct gc_gemm_packed_a *w, float *ws)
{
    if (L->transposed)
        convt2d_backward(L, n, dinp, add_dinp, dweight, dbias, dout, inp, weight, w, ws);
    else
        conv2d_backward(L, n, dinp, add_dinp, dweight, dbias, dout, inp, weight, w, ws);
}

/* dinp = K_w(dout) is linear in dout and in w: dP/d(dout) = K_wᵀ(ggx), which is the
 * forward, and dP/dw = d<ggx, K_w(dout)>/dw = d<forward_w(ggx), dout>/dw, the forward's
 * weight gradient at input ggx. */
void gc_conv2d_backward2(const struct gc_conv *L, int n, float *ggout, float *dweight,
                         const float *ggx, const float *dout, const float *weight, float *ws)
{
    if (ggout)
        gc_conv2d_forward(L, n, ggout, ggx, weight, NULL, ws);
    if (dweight)
        gc_conv2d_backward(L, n, NULL, 0, dweight, NULL, dout, ggx, weight, ws);
}

void gc_convt2d_backward2(const struct gc_conv *L, int n, float *ggout, float *dweight,
                          const float *ggx, const float *dout, const float *weight, float *ws)
{
    if (ggout)
        gc_convt2d_forward(L, n, ggout, ggx, weight, NULL, ws);
    if (dweight)
        gc_convt2d_backward(L, n, NULL, 0, dweight, NULL, dout, ggx, weight, ws);
}
