/* task.c — the data side of the image-to-image tasks (see task.h): inputs made from
 * targets, the user's pictures' counterparts, baselines and figures. */
#include "core/task.h"

#include <math.h>
#include <string.h>

#include "core/rng.h"

static const float luma_w[3] = {0.299f, 0.587f, 0.114f}; /* ITU-R BT.601 */

int gc_task_in_channels(const struct gc_task_spec *t, int c)
{
    switch (t->kind) {
    case GC_TASK_INPAINTING:
        return c + 1;
    case GC_TASK_EDGES:
    case GC_TASK_COLORIZE:
        return 1;
    default:
        return c;
    }
}

void gc_task_hole(enum gc_mask_kind mask, int h, int w, uint64_t seed, int *x0, int *y0, int *x1,
                  int *y1)
{
    if (mask == GC_MASK_CENTER) {
        *x0 = w / 4, *y0 = h / 4;
        *x1 = *x0 + w / 2, *y1 = *y0 + h / 2;
        return;
    }
    struct gc_rng r;
    gc_rng_init(&r, seed, 0);
    int rw = w / 4 + (int)gc_rng_below(&r, (uint64_t)(w / 2 - w / 4 + 1));
    int rh = h / 4 + (int)gc_rng_below(&r, (uint64_t)(h / 2 - h / 4 + 1));
    *x0 = (int)gc_rng_below(&r, (uint64_t)(w - rw + 1));
    *y0 = (int)gc_rng_below(&r, (uint64_t)(h - rh + 1));
    *x1 = *x0 + rw, *y1 = *y0 + rh;
}

void gc_task_downsample(const float *x, int c, int h, int w, int f, float *out)
{
    int oh = h / f, ow = w / f;
    float inv = 1.0f / (float)(f * f);
    for (int ch = 0; ch < c; ch++)
        for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++) {
                float s = 0.0f;
                for (int a = 0; a < f; a++)
                    for (int b = 0; b < f; b++)
                        s += x[((size_t)ch * h + i * f + a) * w + j * f + b];
                out[((size_t)ch * oh + i) * ow + j] = s * inv;
            }
}

/* Keys' cubic convolution kernel with a = -0.5 (Matlab's and PIL's bicubic). */
static float cubic(float t)
{
    const float a = -0.5f;
    t = fabsf(t);
    if (t <= 1.0f)
        return ((a + 2.0f) * t - (a + 3.0f)) * t * t + 1.0f;
    if (t < 2.0f)
        return ((a * t - 5.0f * a) * t + 8.0f * a) * t - 4.0f * a;
    return 0.0f;
}

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

void gc_task_bicubic(const float *x, int c, int h, int w, int f, float *out)
{
    int oh = h * f, ow = w * f;
    for (int ch = 0; ch < c; ch++) {
        const float *p = x + (size_t)ch * h * w;
        for (int i = 0; i < oh; i++) {
            /* pixel centres: output i sits at (i + 0.5) / f - 0.5 in the input */
            float sy = ((float)i + 0.5f) / (float)f - 0.5f;
            int iy = (int)floorf(sy);
            float wy[4];
            for (int k = 0; k < 4; k++)
                wy[k] = cubic(sy - (float)(iy - 1 + k));
            for (int j = 0; j < ow; j++) {
                float sx = ((float)j + 0.5f) / (float)f - 0.5f;
                int ix = (int)floorf(sx);
                float s = 0.0f;
                for (int a = 0; a < 4; a++) {
                    const float *row = p + (size_t)clampi(iy - 1 + a, 0, h - 1) * w;
                    float r = 0.0f;
                    for (int b = 0; b < 4; b++)
                        r += cubic(sx - (float)(ix - 1 + b)) * row[clampi(ix - 1 + b, 0, w - 1)];
                    s += wy[a] * r;
                }
                out[((size_t)ch * oh + i) * ow + j] = s < -1.0f ? -1.0f : s > 1.0f ? 1.0f : s;
            }
        }
    }
}

void gc_task_luma(const float *x, int c, int h, int w, float *out)
{
    size_t hw = (size_t)h * w;
    if (c < 3) {
        memcpy(out, x, hw * sizeof *out);
        return;
    }
    for (size_t k = 0; k < hw; k++)
        out[k] = luma_w[0] * x[k] + luma_w[1] * x[hw + k] + luma_w[2] * x[2 * hw + k];
}

void gc_task_edges(const float *x, int c, int h, int w, float *out, float *l)
{
    gc_task_luma(x, c, h, w, l);
#define L(i, j) l[(size_t)clampi(i, 0, h - 1) * w + clampi(j, 0, w - 1)]
    for (int i = 0; i < h; i++)
        for (int j = 0; j < w; j++) {
            float gx = (L(i - 1, j + 1) + 2 * L(i, j + 1) + L(i + 1, j + 1)) -
                       (L(i - 1, j - 1) + 2 * L(i, j - 1) + L(i + 1, j - 1));
            float gy = (L(i + 1, j - 1) + 2 * L(i + 1, j) + L(i + 1, j + 1)) -
                       (L(i - 1, j - 1) + 2 * L(i - 1, j) + L(i - 1, j + 1));
            /* a step of height s gives 4 s: the magnitude / 4 is the step */
            float step = sqrtf(gx * gx + gy * gy) * 0.25f;
            out[(size_t)i * w + j] = step > GC_TASK_EDGE_THRESHOLD ? -1.0f : 1.0f;
        }
#undef L
}

void gc_task_make_inputs(const struct gc_task_spec *t, const float *target, int n, int c, int h,
                         int w, uint64_t seed, float *in, float *scratch)
{
    size_t hw = (size_t)h * w, tsz = (size_t)c * hw;
    size_t isz = (size_t)gc_task_in_channels(t, c) * hw;
    int f = t->factor;
    for (int i = 0; i < n; i++) {
        const float *y = target + (size_t)i * tsz;
        float *x = in + (size_t)i * isz;
        switch (t->kind) {
        case GC_TASK_SUPER_RESOLUTION:
            gc_task_downsample(y, c, h, w, f, scratch);
            gc_task_bicubic(scratch, c, h / f, w / f, f, x);
            break;
        case GC_TASK_INPAINTING: {
            int x0, y0, x1, y1;
            gc_task_hole(t->mask, h, w, seed + (uint64_t)i, &x0, &y0, &x1, &y1);
            memcpy(x, y, tsz * sizeof *x);
            float *m = x + tsz;
            for (int a = 0; a < h; a++)
                for (int b = 0; b < w; b++) {
                    int hole = a >= y0 && a < y1 && b >= x0 && b < x1;
                    m[(size_t)a * w + b] = hole ? 1.0f : -1.0f;
                    if (hole)
                        for (int ch = 0; ch < c; ch++)
                            x[(size_t)ch * hw + (size_t)a * w + b] = 0.0f;
                }
            break;
        }
        case GC_TASK_EDGES:
            gc_task_edges(y, c, h, w, x, scratch);
            break;
        case GC_TASK_COLORIZE:
            gc_task_luma(y, c, h, w, x);
            break;
        case GC_TASK_PAIRED:
            break; /* read from the source folder */
        }
    }
}

void gc_task_compose(const float *in, const float *g, int n, int c, int h, int w, float *out)
{
    size_t hw = (size_t)h * w, osz = (size_t)c * hw, isz = osz + hw;
    for (int i = 0; i < n; i++) {
        const float *x = in + (size_t)i * isz, *m = x + osz, *gi = g + (size_t)i * osz;
        float *o = out + (size_t)i * osz;
        for (int ch = 0; ch < c; ch++)
            for (size_t k = 0; k < hw; k++)
                o[ch * hw + k] = m[k] > 0.0f ? gi[ch * hw + k] : x[ch * hw + k];
    }
}

void gc_task_keep_luma(const float *in, const float *y, int n, int h, int w, float *out)
{
    size_t hw = (size_t)h * w;
    for (int i = 0; i < n; i++) {
        const float *x = in + (size_t)i * hw, *g = y + (size_t)i * 3 * hw;
        float *o = out + (size_t)i * 3 * hw;
        for (size_t k = 0; k < hw; k++) {
            float shift =
                x[k] - (luma_w[0] * g[k] + luma_w[1] * g[hw + k] + luma_w[2] * g[2 * hw + k]);
            for (int c = 0; c < 3; c++)
                o[c * hw + k] = g[c * hw + k] + shift;
        }
    }
}

void gc_task_keep_luma_backward(float *d, int n, int h, int w)
{
    size_t hw = (size_t)h * w;
    for (int i = 0; i < n; i++) {
        float *di = d + (size_t)i * 3 * hw;
        for (size_t k = 0; k < hw; k++) {
            float s = di[k] + di[hw + k] + di[2 * hw + k];
            for (int c = 0; c < 3; c++)
                di[c * hw + k] -= luma_w[c] * s;
        }
    }
}

void gc_task_baseline(const struct gc_task_spec *t, const float *in, const float *mean, int n,
                      int c, int h, int w, float *out)
{
    size_t hw = (size_t)h * w, osz = (size_t)c * hw;
    size_t isz = (size_t)gc_task_in_channels(t, c) * hw;
    for (int i = 0; i < n; i++) {
        const float *x = in + (size_t)i * isz;
        float *o = out + (size_t)i * osz;
        switch (t->kind) {
        case GC_TASK_SUPER_RESOLUTION:
            memcpy(o, x, osz * sizeof *o);
            break;
        case GC_TASK_INPAINTING: {
            const float *m = x + osz;
            for (int ch = 0; ch < c; ch++) {
                double s = 0.0;
                size_t k0 = 0;
                for (size_t k = 0; k < hw; k++)
                    if (m[k] <= 0.0f) {
                        s += x[ch * hw + k];
                        k0++;
                    }
                float fill = k0 ? (float)(s / (double)k0) : 0.0f;
                for (size_t k = 0; k < hw; k++)
                    o[ch * hw + k] = m[k] > 0.0f ? fill : x[ch * hw + k];
            }
            break;
        }
        case GC_TASK_COLORIZE:
            for (int ch = 0; ch < c; ch++)
                memcpy(o + ch * hw, x, hw * sizeof *o);
            break;
        case GC_TASK_EDGES:
        case GC_TASK_PAIRED:
            memcpy(o, mean, osz * sizeof *o);
            break;
        }
    }
}

static double unit(float v)
{
    double u = (double)v * 0.5 + 0.5;
    return u < 0.0 ? 0.0 : u > 1.0 ? 1.0 : u;
}

double gc_task_psnr(const float *x, const float *y, int n, size_t size)
{
    double sum = 0.0;
    for (int i = 0; i < n; i++) {
        double se = 0.0;
        for (size_t k = 0; k < size; k++) {
            double d = unit(x[(size_t)i * size + k]) - unit(y[(size_t)i * size + k]);
            se += d * d;
        }
        double mse = se / (double)size;
        sum += mse < 1e-10 ? 100.0 : -10.0 * log10(mse);
    }
    return n ? sum / n : 0.0;
}

double gc_task_l1(const float *x, const float *y, int n, size_t size)
{
    double s = 0.0;
    for (size_t k = 0; k < (size_t)n * size; k++)
        s += fabs(unit(x[k]) - unit(y[k]));
    return n ? s / ((double)n * size) : 0.0;
}

/* SSIM of one plane with a win x win Gaussian window over the positions it fits. */
static double ssim_plane(const float *x, const float *y, int h, int w, int win)
{
    const double c1 = 0.01 * 0.01, c2 = 0.03 * 0.03;
    double g[11], gs = 0.0;
    for (int k = 0; k < win; k++) {
        double d = k - (win - 1) / 2.0;
        g[k] = exp(-d * d / (2.0 * 1.5 * 1.5));
        gs += g[k];
    }
    for (int k = 0; k < win; k++)
        g[k] /= gs;
    double total = 0.0;
    int cnt = 0;
    for (int i = 0; i + win <= h; i++)
        for (int j = 0; j + win <= w; j++) {
            double mx = 0, my = 0, xx = 0, yy = 0, xy = 0;
            for (int a = 0; a < win; a++)
                for (int b = 0; b < win; b++) {
                    double wt = g[a] * g[b];
                    double u = unit(x[(size_t)(i + a) * w + j + b]);
                    double v = unit(y[(size_t)(i + a) * w + j + b]);
                    mx += wt * u, my += wt * v;
                    xx += wt * u * u, yy += wt * v * v, xy += wt * u * v;
                }
            double vx = xx - mx * mx, vy = yy - my * my, cv = xy - mx * my;
            total +=
                ((2 * mx * my + c1) * (2 * cv + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
            cnt++;
        }
    return cnt ? total / cnt : 0.0;
}

double gc_task_ssim(const float *x, const float *y, int n, int c, int h, int w)
{
    int side = h < w ? h : w;
    int win = side >= 11 ? 11 : (side % 2 ? side : side - 1);
    size_t hw = (size_t)h * w;
    double s = 0.0;
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++) {
            size_t o = ((size_t)i * c + ch) * hw;
            s += ssim_plane(x + o, y + o, h, w, win);
        }
    return n && c ? s / ((double)n * c) : 0.0;
}
