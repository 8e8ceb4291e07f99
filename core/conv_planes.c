/* conv_planes.c — the phase planes of a zero-padded image, and its bfloat16 images
 * (see conv_planes.h): building them from an image, folding them back, the offsets of
 * col's rows and columns into them. */
#include "core/conv_planes.h"

#include <string.h>
#ifdef __AVX2__
#include <immintrin.h>
#endif

#include "core/gemm.h"

size_t conv_phase_floats(const struct geom *g)
{
    return (size_t)g->ch * g->nph * g->hp * g->wt;
}

/* Stride 2 (the DCGAN layers), one image row against its two phase rows: the even
 * pixels x = 2u go to ev[u], the odd ones to od[u]. With AVX2 sixteen pixels move in
 * a few shuffles instead of sixteen strided scalar accesses; the strided loops were a
 * third of im2col and of col2im of the 28x28 layers. */
static void split_row2(float *restrict ev, float *restrict od, const float *restrict src, int iw)
{
    int x = 0;
#ifdef __AVX2__
    for (; x + 16 <= iw; x += 16) {
        __m256 a = _mm256_loadu_ps(src + x), b = _mm256_loadu_ps(src + x + 8);
        /* shuffle takes pixels 0,2 | 4,6 of each 128-bit lane; the permute puts the
         * lanes in order */
        __m256 e = _mm256_shuffle_ps(a, b, 0x88), o = _mm256_shuffle_ps(a, b, 0xdd);
        e = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), 0xd8));
        o = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(o), 0xd8));
        _mm256_storeu_ps(ev + x / 2, e);
        _mm256_storeu_ps(od + x / 2, o);
    }
    for (; x + 8 <= iw; x += 8) { /* the same on 128 bits: rows of 14 */
        __m128 a = _mm_loadu_ps(src + x), b = _mm_loadu_ps(src + x + 4);
        _mm_storeu_ps(ev + x / 2, _mm_shuffle_ps(a, b, 0x88));
        _mm_storeu_ps(od + x / 2, _mm_shuffle_ps(a, b, 0xdd));
    }
#endif
    for (; x + 1 < iw; x += 2) {
        ev[x / 2] = src[x];
        od[x / 2] = src[x + 1];
    }
    if (x < iw)
        ev[x / 2] = src[x];
}

/* dst[2u] = b + ev[u], dst[2u + 1] = b + od[u] over an image row, b being dst's own
 * value when add (the adjoint of split_row2) or the constant c: the one write of a
 * stride-2 output, whose every pixel comes from one phase (c + v are the bits that
 * filling dst with c and adding v gave). Inlined with add known. */
static inline __attribute__((always_inline)) void merge_row2_op(float *restrict dst,
                                                                const float *restrict ev,
                                                                const float *restrict od, int iw,
                                                                int add, float c)
{
    int x = 0;
#ifdef __AVX2__
    const __m256 c8 = _mm256_set1_ps(c);
    const __m128 c4 = _mm_set1_ps(c);
    for (; x + 16 <= iw; x += 16) {
        __m256 e = _mm256_loadu_ps(ev + x / 2), o = _mm256_loadu_ps(od + x / 2);
        __m256 lo = _mm256_unpacklo_ps(e, o), hi = _mm256_unpackhi_ps(e, o);
        __m256 d0 = _mm256_permute2f128_ps(lo, hi, 0x20), d1 = _mm256_permute2f128_ps(lo, hi, 0x31);
        __m256 b0 = add ? _mm256_loadu_ps(dst + x) : c8,
               b1 = add ? _mm256_loadu_ps(dst + x + 8) : c8;
        _mm256_storeu_ps(dst + x, _mm256_add_ps(b0, d0));
        _mm256_storeu_ps(dst + x + 8, _mm256_add_ps(b1, d1));
    }
    for (; x + 8 <= iw; x += 8) {
        __m128 e = _mm_loadu_ps(ev + x / 2), o = _mm_loadu_ps(od + x / 2);
        __m128 b0 = add ? _mm_loadu_ps(dst + x) : c4, b1 = add ? _mm_loadu_ps(dst + x + 4) : c4;
        _mm_storeu_ps(dst + x, _mm_add_ps(b0, _mm_unpacklo_ps(e, o)));
        _mm_storeu_ps(dst + x + 4, _mm_add_ps(b1, _mm_unpackhi_ps(e, o)));
    }
#endif
    for (; x + 1 < iw; x += 2) {
        dst[x] = (add ? dst[x] : c) + ev[x / 2];
        dst[x + 1] = (add ? dst[x + 1] : c) + od[x / 2];
    }
    if (x < iw)
        dst[x] = (add ? dst[x] : c) + ev[x / 2];
}

static void merge_row2(float *restrict dst, const float *restrict ev, const float *restrict od,
                       int iw)
{
    merge_row2_op(dst, ev, od, iw, 1, 0.0f);
}

static void merge_row2_onto(float *restrict dst, const float *restrict ev, const float *restrict od,
                            int iw, float c)
{
    merge_row2_op(dst, ev, od, iw, 0, c);
}

/* Stride 2 with both phases (k >= 2): padded column x + p of pixel x lies in phase
 * (x + p) % 2 at column (x + p) / 2, so the even pixels go to phase p % 2 from
 * column p / 2 and the odd ones to the other phase from column (p + 1) / 2. */
static void build_phases2(const struct geom *g, const float *restrict img, float *restrict pb)
{
    const int re = g->p % 2, ro = 1 - re, oe = g->p / 2, oo = (g->p + 1) / 2;
    const int ne = (g->iw + 1) / 2, no = g->iw / 2; /* even and odd pixels of a row */
    const size_t plane_sz = (size_t)g->hp * g->wt;
    for (int c = 0; c < g->ch; c++) {
        const float *img_c = img + (size_t)c * g->ih * g->iw;
        float *pe = pb + ((size_t)c * 2 + re) * plane_sz,
              *po = pb + ((size_t)c * 2 + ro) * plane_sz;
        for (int yp = 0; yp < g->hp; yp++) {
            float *de = pe + (size_t)yp * g->wt, *dd = po + (size_t)yp * g->wt;
            int y = yp - g->p;
            if (y < 0 || y >= g->ih) {
                memset(de, 0, sizeof(float) * g->wt);
                memset(dd, 0, sizeof(float) * g->wt);
                continue;
            }
            for (int t = 0; t < oe; t++)
                de[t] = 0.0f;
            for (int t = oe + ne; t < g->wt; t++)
                de[t] = 0.0f;
            for (int t = 0; t < oo; t++)
                dd[t] = 0.0f;
            for (int t = oo + no; t < g->wt; t++)
                dd[t] = 0.0f;
            split_row2(de + oe, dd + oo, img_c + (size_t)y * g->iw, g->iw);
        }
    }
}

/* img += the planes or, with set, img = bias (0 without) + the planes. */
static void fold_phases2(const struct geom *g, const float *restrict pb, float *restrict img,
                         int set, const float *bias)
{
    const int re = g->p % 2, ro = 1 - re, oe = g->p / 2, oo = (g->p + 1) / 2;
    const size_t plane_sz = (size_t)g->hp * g->wt;
    for (int c = 0; c < g->ch; c++) {
        float *img_c = img + (size_t)c * g->ih * g->iw;
        const float *pe = pb + ((size_t)c * 2 + re) * plane_sz;
        const float *po = pb + ((size_t)c * 2 + ro) * plane_sz;
        const float b = bias ? bias[c] : 0.0f;
        for (int y = 0; y < g->ih; y++) {
            size_t row = (size_t)(y + g->p) * g->wt;
            if (set)
                merge_row2_onto(img_c + (size_t)y * g->iw, pe + row + oe, po + row + oo, g->iw, b);
            else
                merge_row2(img_c + (size_t)y * g->iw, pe + row + oe, po + row + oo, g->iw);
        }
    }
}

void conv_build_phases(const struct geom *g, const float *restrict img, float *restrict pb)
{
    if (g->s == 2 && g->nph == 2) {
        build_phases2(g, img, pb);
        return;
    }
    for (int c = 0; c < g->ch; c++) {
        const float *plane = img + (size_t)c * g->ih * g->iw;
        for (int r = 0; r < g->nph; r++) {
            float *ph = pb + ((size_t)c * g->nph + r) * g->hp * g->wt;
            /* the t whose padded column t*s + r - p lands inside [0, iw) */
            int t0 = 0, t1 = g->wt;
            while (t0 < t1 && t0 * g->s + r - g->p < 0)
                t0++;
            while (t1 > t0 && (t1 - 1) * g->s + r - g->p >= g->iw)
                t1--;
            for (int yp = 0; yp < g->hp; yp++) {
                float *dst = ph + (size_t)yp * g->wt;
                int y = yp - g->p;
                if (y < 0 || y >= g->ih || t0 == t1) {
                    memset(dst, 0, sizeof(float) * g->wt);
                    continue;
                }
                const float *src = plane + (size_t)y * g->iw + (t0 * g->s + r - g->p);
                for (int t = 0; t < t0; t++)
                    dst[t] = 0.0f;
                for (int t = t0; t < t1; t++)
                    dst[t] = src[(t - t0) * g->s];
                for (int t = t1; t < g->wt; t++)
                    dst[t] = 0.0f;
            }
        }
    }
}

/* dst[0..n) = v. Kept out of line and with a trip count known to be a multiple of 8:
 * -O2 vectorizes only such simple loops, and the scalar store loop it made otherwise
 * was a third of the time of the 1->64 conv's forward when that filled out with the
 * bias (it now fills the convt2d outputs and conv2d's ones row). */
__attribute__((noinline)) void conv_fill_row(float *restrict dst, float v, int n)
{
    const int n8 = n & ~7;
    for (int j = 0; j < n8; j++)
        dst[j] = v;
    for (int j = n8; j < n; j++)
        dst[j] = v;
}

/* out (oc, pix) = bias broadcast along pix */
static void fill_bias(float *out, const float *bias, int oc, int pix)
{
    for (int c = 0; c < oc; c++)
        conv_fill_row(out + (size_t)c * pix, bias[c], pix);
}

/* The planes, cropped of the padding, into img (the adjoint of conv_build_phases): added to
 * img's own values with add, else img = bias (0 without) + the planes. Stride 2 writes
 * img once (each pixel comes from one phase); other strides fill img first. */
void conv_fold_phases(const struct geom *g, const float *restrict pb, float *restrict img, int add,
                      const float *bias)
{
    if (g->s == 2 && g->nph == 2) {
        fold_phases2(g, pb, img, !add, bias);
        return;
    }
    if (!add && bias)
        fill_bias(img, bias, g->ch, g->ih * g->iw);
    else if (!add)
        memset(img, 0, sizeof(float) * g->ch * g->ih * g->iw);
    for (int c = 0; c < g->ch; c++) {
        float *plane = img + (size_t)c * g->ih * g->iw;
        for (int r = 0; r < g->nph; r++) {
            const float *ph = pb + ((size_t)c * g->nph + r) * g->hp * g->wt;
            int t0 = 0, t1 = g->wt;
            while (t0 < t1 && t0 * g->s + r - g->p < 0)
                t0++;
            while (t1 > t0 && (t1 - 1) * g->s + r - g->p >= g->iw)
                t1--;
            for (int y = 0; y < g->ih && t0 < t1; y++) {
                const float *src = ph + (size_t)(y + g->p) * g->wt;
                float *dst = plane + (size_t)y * g->iw + (t0 * g->s + r - g->p);
                for (int t = t0; t < t1; t++)
                    dst[(t - t0) * g->s] += src[t];
            }
        }
    }
}

/* Offsets into a group's planes: of col's rows (c, ki, kj), and of its columns, pixel
 * q of the group's sample j at j * ps + oy*s*wt + ox (see the top of the file). */
void conv_plane_offsets(const struct geom *g, size_t ps, int m, int32_t *row, int32_t *col)
{
    for (int c = 0; c < g->ch; c++)
        for (int ki = 0; ki < g->k; ki++)
            for (int kj = 0; kj < g->k; kj++)
                *row++ =
                    (int32_t)((((size_t)c * g->nph + kj % g->s) * g->hp + ki) * g->wt + kj / g->s);
    for (int j = 0; j < m; j++)
        for (int oy = 0; oy < g->gh; oy++)
            for (int ox = 0; ox < g->gw; ox++)
                *col++ = (int32_t)((size_t)j * ps + (size_t)oy * g->s * g->wt + ox);
}

/* ---- bfloat16 images (see conv_planes.h) ---------------------------------------------- */

size_t conv_pair_words(const struct geom *g)
{
    return (size_t)g->ch * g->hp * g->wt;
}

/* The zero-padded image img rounded to bfloat16, hp rows of 2 wt halves a channel: laid
 * out in floats at f first (ch * hp * 2 wt of them), then rounded in one call, which
 * costs less than a call a row on the 4- and 8-pixel rows of the small layers. */
void conv_build_pairs(const struct geom *g, const float *restrict img, uint16_t *restrict h,
                      float *restrict f)
{
    const size_t rowh = 2 * (size_t)g->wt, n = (size_t)g->ch * g->hp * rowh;
    float *d = f;
    for (int c = 0; c < g->ch; c++) {
        const float *img_c = img + (size_t)c * g->ih * g->iw;
        for (int yp = 0; yp < g->hp; yp++, d += rowh) {
            int y = yp - g->p;
            if (y < 0 || y >= g->ih) {
                memset(d, 0, rowh * sizeof *d);
                continue;
            }
            /* a pixel or two of padding each side: loops, not calls to memset */
            for (int x = 0; x < g->p; x++)
                d[x] = 0.0f;
            conv_copy_row(d + g->p, img_c + (size_t)y * g->iw, g->iw);
            for (size_t x = (size_t)g->p + g->iw; x < rowh; x++)
                d[x] = 0.0f;
        }
    }
    gc_gemm_to_bf16(h, f, n);
}

/* Offsets in words of col's pairs of rows (c, ki, j) and of its columns, pixel q of the
 * group's sample j at j * psw + oy*2*wt + ox. */
void conv_pair_offsets(const struct geom *g, size_t psw, int m, int32_t *row, int32_t *col)
{
    for (int c = 0; c < g->ch; c++)
        for (int ki = 0; ki < g->k; ki++)
            for (int j = 0; j < g->k / 2; j++)
                *row++ = (int32_t)(((size_t)c * g->hp + ki) * g->wt + j);
    for (int j = 0; j < m; j++)
        for (int oy = 0; oy < g->gh; oy++)
            for (int ox = 0; ox < g->gw; ox++)
                *col++ = (int32_t)((size_t)j * psw + (size_t)oy * 2 * g->wt + ox);
}
