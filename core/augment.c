/* augment.c — DiffAugment's color, translation and cutout (see augment.h).
 *
 * The three color steps fold into one affine map per sample: with x1 = x + b, m the
 * mean over channels of x1 at a pixel and M the mean of x1 over the image (saturation
 * keeps every pixel's channel mean, so the contrast step's mean is M too),
 *     color(x) = c (s x1 + (1 - s) m) + (1 - c) M.
 * The forward reads each output pixel's source through the shift and the cutout, so
 * no intermediate image is stored. The backward runs the transposed maps in the
 * other order: an input pixel's gradient is the output gradient at the pixel it moved
 * to (0 where the cutout or the border took it), then the color map's transpose:
 *     d2 = c d3 + (1 - c) sum(d3) / N,  dx = s d2 + (1 - s) (channel mean of d2). */
#include "core/augment.h"

#include <string.h>

/* int(x + 0.5) of the reference for x = side * ratio >= 0 */
static int round_ratio(int side, int num, int den)
{
    return (int)((double)side * num / den + 0.5);
}

void gc_augment_draw(struct gc_rng *rng, unsigned policy, int n, int h, int w, struct gc_augment *a)
{
    for (int i = 0; i < n; i++)
        a[i] = (struct gc_augment){0.0f, 1.0f, 1.0f, 0, 0, 0, 0, 0, 0};
    if (policy & GC_AUG_COLOR) {
        for (int i = 0; i < n; i++)
            a[i].brightness = gc_rng_uniform(rng) - 0.5f;
        for (int i = 0; i < n; i++)
            a[i].saturation = gc_rng_uniform(rng) * 2.0f;
        for (int i = 0; i < n; i++)
            a[i].contrast = gc_rng_uniform(rng) + 0.5f;
    }
    if (policy & GC_AUG_TRANSLATION) {
        int ry = round_ratio(h, 1, 8), rx = round_ratio(w, 1, 8);
        for (int i = 0; i < n; i++)
            a[i].ty = (int)gc_rng_below(rng, (uint64_t)(2 * ry + 1)) - ry;
        for (int i = 0; i < n; i++)
            a[i].tx = (int)gc_rng_below(rng, (uint64_t)(2 * rx + 1)) - rx;
    }
    if (policy & GC_AUG_CUTOUT) {
        int sh = round_ratio(h, 1, 2), sw = round_ratio(w, 1, 2);
        for (int i = 0; i < n; i++) {
            a[i].cut_h = sh;
            a[i].cy = (int)gc_rng_below(rng, (uint64_t)(h + 1 - sh % 2));
        }
        for (int i = 0; i < n; i++) {
            a[i].cut_w = sw;
            a[i].cx = (int)gc_rng_below(rng, (uint64_t)(w + 1 - sw % 2));
        }
    }
}

/* The input pixel that output pixel (i, j) of an h x w image shows, as an offset into
 * a channel; -1 where it shows 0 (shifted in from outside, or cut out). */
static long source(const struct gc_augment *a, int i, int j, int h, int w)
{
    if (a->cut_h) {
        int y0 = a->cy - a->cut_h / 2, x0 = a->cx - a->cut_w / 2;
        if (i >= y0 && i < y0 + a->cut_h && j >= x0 && j < x0 + a->cut_w)
            return -1;
    }
    int si = i + a->ty, sj = j + a->tx;
    if (si < 0 || si >= h || sj < 0 || sj >= w)
        return -1;
    return (long)si * w + sj;
}

void gc_augment_forward(const struct gc_augment *a, int n, int c, int h, int w, const float *x,
                        float *y)
{
    const size_t hw = (size_t)h * w, sz = (size_t)c * hw;
    for (int s = 0; s < n; s++) {
        const struct gc_augment *p = &a[s];
        const float *xs = x + s * sz;
        float *ys = y + s * sz;
        double sum = 0.0;
        for (size_t k = 0; k < sz; k++)
            sum += xs[k];
        const float b = p->brightness, sat = p->saturation, con = p->contrast;
        const float big_m = (float)(sum / (double)sz) + b;
        for (int i = 0; i < h; i++) {
            for (int j = 0; j < w; j++) {
                long at = source(p, i, j, h, w);
                size_t o = (size_t)i * w + j, src = (size_t)at;
                if (at < 0) {
                    for (int ch = 0; ch < c; ch++)
                        ys[ch * hw + o] = 0.0f;
                    continue;
                }
                float m = 0.0f;
                for (int ch = 0; ch < c; ch++)
                    m += xs[ch * hw + src] + b;
                m /= (float)c;
                for (int ch = 0; ch < c; ch++) {
                    float x1 = xs[ch * hw + src] + b;
                    float x2 = sat * x1 + (1.0f - sat) * m;
                    ys[ch * hw + o] = con * x2 + (1.0f - con) * big_m;
                }
            }
        }
    }
}

void gc_augment_backward(const struct gc_augment *a, int n, int c, int h, int w, const float *dy,
                         float *dx)
{
    const size_t hw = (size_t)h * w, sz = (size_t)c * hw;
    for (int s = 0; s < n; s++) {
        const struct gc_augment *p = &a[s];
        const float *ds = dy + s * sz;
        float *xs = dx + s * sz;
        /* d3 at input pixel (i, j) is dy at the output pixel it moved to */
        double sum = 0.0;
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++) {
                if (source(p, i, j, h, w) < 0)
                    continue;
                for (int ch = 0; ch < c; ch++)
                    sum += ds[ch * hw + (size_t)i * w + j];
            }
        const float sat = p->saturation, con = p->contrast;
        const float shift = (float)((1.0 - con) * sum / (double)sz);
        for (int si = 0; si < h; si++) {
            for (int sj = 0; sj < w; sj++) {
                /* the output pixel showing this one, if any (a shift is one to one) */
                int i = si - p->ty, j = sj - p->tx;
                int in = i >= 0 && i < h && j >= 0 && j < w && source(p, i, j, h, w) >= 0;
                size_t o = (size_t)i * w + j, src = (size_t)si * w + sj;
                float mean = 0.0f; /* of d2 over the channels */
                for (int ch = 0; ch < c; ch++)
                    mean += con * (in ? ds[ch * hw + o] : 0.0f) + shift;
                mean /= (float)c;
                for (int ch = 0; ch < c; ch++) {
                    float d2 = con * (in ? ds[ch * hw + o] : 0.0f) + shift;
                    xs[ch * hw + src] += sat * d2 + (1.0f - sat) * mean;
                }
            }
        }
    }
}
