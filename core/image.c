/* image.c — PNG (libpng) and IDX in memory, sample grids and scatter plots.
 *
 * Decoding uses libpng's classic API so that every colour type and depth goes through
 * the same explicit transforms (expand, scale 16 to 8 bits) with no gamma handling
 * behind our back; libpng reports errors by longjmp, so the setjmp sits in a small
 * function whose own locals are never touched after it, and everything that must
 * survive an error lives in a struct owned by the caller's frame. Encoding uses the
 * simplified write API, which cannot longjmp into our code. */
#include "core/image.h"

#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SIDE 16384

void gc_picture_fini(struct gc_picture *p)
{
    if (!p)
        return;
    free(p->pix);
    memset(p, 0, sizeof(*p));
}

/* ---- PNG decoding ------------------------------------------------------------- */

struct png_dec {
    const uint8_t *src;
    size_t len, off;
    char msg[200];
    png_structp png;
    png_infop info;
    png_bytep *rows;
    uint8_t *pix;
    int w, h, c;
};

static void dec_read(png_structp png, png_bytep out, png_size_t n)
{
    struct png_dec *d = png_get_io_ptr(png);
    if (n > d->len - d->off)
        png_error(png, "file is truncated");
    memcpy(out, d->src + d->off, n);
    d->off += n;
}

static void dec_error(png_structp png, png_const_charp msg)
{
    struct png_dec *d = png_get_error_ptr(png);
    snprintf(d->msg, sizeof(d->msg), "%s", msg);
    png_longjmp(png, 1);
}

static void dec_warning(png_structp png, png_const_charp msg)
{
    (void)png, (void)msg; /* benign chunk complaints; the image still decodes */
}

/* Returns 0, or 1 when libpng failed (d->msg says why), 2 when out of memory,
 * 3 when too big. Only d is touched after setjmp. */
static int dec_run(struct png_dec *d)
{
    if (setjmp(png_jmpbuf(d->png)))
        return 1;
    png_set_read_fn(d->png, d, dec_read);
    png_set_user_limits(d->png, MAX_SIDE, MAX_SIDE);
    png_read_info(d->png, d->info);
    int ct = png_get_color_type(d->png, d->info);
    int depth = png_get_bit_depth(d->png, d->info);
    if (ct == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(d->png);
    if (ct == PNG_COLOR_TYPE_GRAY && depth < 8)
        png_set_expand_gray_1_2_4_to_8(d->png);
    if (png_get_valid(d->png, d->info, PNG_INFO_tRNS))
        png_set_tRNS_to_alpha(d->png);
    if (depth == 16)
        png_set_scale_16(d->png);
    png_set_interlace_handling(d->png);
    png_read_update_info(d->png, d->info);
    d->w = (int)png_get_image_width(d->png, d->info);
    d->h = (int)png_get_image_height(d->png, d->info);
    d->c = png_get_channels(d->png, d->info);
    size_t rowbytes = png_get_rowbytes(d->png, d->info);
    if (d->c < 1 || d->c > 4 || rowbytes != (size_t)d->w * (size_t)d->c)
        png_error(d->png, "unexpected pixel layout after transforms");
    d->pix = malloc(rowbytes * (size_t)d->h);
    d->rows = malloc(sizeof(*d->rows) * (size_t)d->h);
    if (!d->pix || !d->rows)
        return 2;
    for (int y = 0; y < d->h; y++)
        d->rows[y] = d->pix + (size_t)y * rowbytes;
    png_read_image(d->png, d->rows);
    return 0;
}

int gc_png_decode(const uint8_t *bytes, size_t len, struct gc_picture *out, struct gc_error *err)
{
    memset(out, 0, sizeof(*out));
    if (len < 8 || png_sig_cmp(bytes, 0, 8))
        return gc_error_set(err, GC_ECORRUPT, "not a PNG file (bad signature)");
    struct png_dec d = {.src = bytes, .len = len};
    d.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &d, dec_error, dec_warning);
    if (!d.png)
        return gc_error_set(err, GC_ENOMEM, "out of memory creating a PNG reader");
    d.info = png_create_info_struct(d.png);
    int rc;
    if (!d.info)
        rc = 2;
    else
        rc = dec_run(&d);
    png_destroy_read_struct(&d.png, d.info ? &d.info : NULL, NULL);
    free(d.rows);
    if (rc != 0) {
        free(d.pix);
        if (rc == 2)
            return gc_error_set(err, GC_ENOMEM, "out of memory decoding a PNG");
        if (strstr(d.msg, "exceeds user limit") || strstr(d.msg, "too large"))
            return gc_error_set(err, GC_ETOOBIG, "PNG is larger than %d pixels on a side",
                                MAX_SIDE);
        return gc_error_set(err, GC_ECORRUPT, "bad PNG: %s", d.msg);
    }
    out->w = d.w;
    out->h = d.h;
    out->c = d.c;
    out->pix = d.pix;
    return 0;
}

/* ---- scale and crop ------------------------------------------------------------ */

/* Resampling taps along one axis: output index o reads src[idx[o*k + j]] * wt[o*k + j]
 * for j < k. */
struct taps {
    int k;
    int *idx;
    float *wt;
};

/* n source samples scaled to `scaled` samples, of which outputs [off, off + m) are
 * kept: area averaging when shrinking, bilinear (pixel centres aligned) otherwise. */
static int taps_build(struct taps *t, int n, int scaled, int off, int m)
{
    double s = (double)scaled / n;
    t->k = s < 1.0 ? (int)ceil(1.0 / s) + 1 : 2;
    t->idx = calloc((size_t)m * (size_t)t->k, sizeof(int));
    t->wt = calloc((size_t)m * (size_t)t->k, sizeof(float));
    if (!t->idx || !t->wt)
        return -1;
    for (int o = 0; o < m; o++) {
        int *ix = t->idx + (size_t)o * t->k;
        float *w = t->wt + (size_t)o * t->k;
        int X = o + off;
        if (s < 1.0) {
            double a = X / s, b = (X + 1) / s;
            int j = 0;
            for (int i = (int)floor(a); i < n && i < b && j < t->k; i++) {
                double lo = i > a ? i : a, hi = i + 1 < b ? i + 1 : b;
                if (hi <= lo)
                    continue;
                ix[j] = i;
                w[j] = (float)((hi - lo) * s);
                j++;
            }
        } else {
            double c = (X + 0.5) / s - 0.5;
            if (c < 0)
                c = 0;
            if (c > n - 1)
                c = n - 1;
            int i0 = (int)floor(c);
            int i1 = i0 + 1 < n ? i0 + 1 : i0;
            double f = c - i0;
            ix[0] = i0;
            w[0] = (float)(1.0 - f);
            ix[1] = i1;
            w[1] = (float)f;
        }
    }
    return 0;
}

static void taps_free(struct taps *t)
{
    free(t->idx);
    free(t->wt);
}

int gc_picture_fit(const struct gc_picture *p, int size, int channels, uint8_t *out,
                   struct gc_error *err)
{
    if (size < 1 || (channels != 1 && channels != 3) || p->w < 1 || p->h < 1 || p->c < 1 ||
        p->c > 4)
        return gc_error_set(err, GC_EINVAL, "picture_fit: bad size %d, channels %d or picture",
                            size, channels);
    /* the shorter side becomes exactly size; the longer keeps the aspect ratio */
    int sw, sh;
    if (p->w <= p->h) {
        sw = size;
        sh = (int)lround((double)p->h * size / p->w);
        if (sh < size)
            sh = size;
    } else {
        sh = size;
        sw = (int)lround((double)p->w * size / p->h);
        if (sw < size)
            sw = size;
    }
    size_t plane = (size_t)p->w * p->h;
    float *src = malloc(sizeof(float) * plane * channels);
    float *tmp = malloc(sizeof(float) * (size_t)p->h * size * channels);
    struct taps tx = {0}, ty = {0};
    int rc = 0;
    if (!src || !tmp || taps_build(&tx, p->w, sw, (sw - size) / 2, size) ||
        taps_build(&ty, p->h, sh, (sh - size) / 2, size)) {
        rc = gc_error_set(err, GC_ENOMEM, "out of memory scaling a picture");
        goto out;
    }
    /* to planar float in the target channels, alpha composited over black */
    int has_alpha = p->c == 2 || p->c == 4;
    int color = p->c >= 3;
    for (size_t i = 0; i < plane; i++) {
        const uint8_t *px = p->pix + i * p->c;
        float a = has_alpha ? px[p->c - 1] / 255.0f : 1.0f;
        float r = px[0], g = color ? px[1] : px[0], b = color ? px[2] : px[0];
        if (channels == 1) {
            src[i] = a * (color ? 0.299f * r + 0.587f * g + 0.114f * b : r);
        } else {
            src[i] = a * r;
            src[plane + i] = a * g;
            src[2 * plane + i] = a * b;
        }
    }
    for (int ch = 0; ch < channels; ch++) {
        const float *s = src + ch * plane;
        float *t = tmp + (size_t)ch * p->h * size;
        for (int y = 0; y < p->h; y++)
            for (int x = 0; x < size; x++) {
                float v = 0;
                for (int j = 0; j < tx.k; j++)
                    v += tx.wt[x * tx.k + j] * s[(size_t)y * p->w + tx.idx[x * tx.k + j]];
                t[(size_t)y * size + x] = v;
            }
        uint8_t *o = out + (size_t)ch * size * size;
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++) {
                float v = 0;
                for (int j = 0; j < ty.k; j++)
                    v += ty.wt[y * ty.k + j] * t[(size_t)ty.idx[y * ty.k + j] * size + x];
                long q = lroundf(v);
                o[(size_t)y * size + x] = (uint8_t)(q < 0 ? 0 : q > 255 ? 255 : q);
            }
    }
out:
    taps_free(&tx);
    taps_free(&ty);
    free(src);
    free(tmp);
    return rc;
}

/* ---- PNG encoding -------------------------------------------------------------- */

int gc_png_encode(const uint8_t *pix, int w, int h, int c, uint8_t **out, size_t *len,
                  struct gc_error *err)
{
    static const png_uint_32 formats[] = {PNG_FORMAT_GRAY, PNG_FORMAT_GA, PNG_FORMAT_RGB,
                                          PNG_FORMAT_RGBA};
    *out = NULL;
    *len = 0;
    if (w < 1 || h < 1 || w > MAX_SIDE || h > MAX_SIDE || c < 1 || c > 4)
        return gc_error_set(err, GC_EINVAL, "png: bad image %dx%d with %d channels", w, h, c);
    png_image img;
    memset(&img, 0, sizeof(img));
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)w;
    img.height = (png_uint_32)h;
    img.format = formats[c - 1];
    png_alloc_size_t size = 0;
    /* first pass measures, second writes */
    if (!png_image_write_to_memory(&img, NULL, &size, 0, pix, 0, NULL))
        return gc_error_set(err, GC_EIO, "png: %s", img.message);
    uint8_t *buf = malloc(size);
    if (!buf) {
        png_image_free(&img);
        return gc_error_set(err, GC_ENOMEM, "png: out of memory");
    }
    if (!png_image_write_to_memory(&img, buf, &size, 0, pix, 0, NULL)) {
        free(buf);
        return gc_error_set(err, GC_EIO, "png: %s", img.message);
    }
    *out = buf;
    *len = size;
    return 0;
}

void gc_image_to_u8(const float *x, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++) {
        float v = (x[i] + 1.0f) * 127.5f;
        /* written so that NaN fails both tests and lands on 0 */
        out[i] = v >= 255.0f ? 255 : v > 0.0f ? (uint8_t)lroundf(v) : 0;
    }
}

int gc_image_grid_png(const float *x, int n, int c, int h, int w, int cols, uint8_t **out,
                      size_t *len, struct gc_error *err)
{
    const int gap = 2;
    const uint8_t bg = 64;
    *out = NULL;
    *len = 0;
    if (n < 1 || (c != 1 && c != 3) || h < 1 || w < 1 || cols < 0)
        return gc_error_set(err, GC_EINVAL, "grid: bad shape n=%d c=%d h=%d w=%d", n, c, h, w);
    if (cols == 0)
        cols = (int)ceil(sqrt((double)n));
    if (cols > n)
        cols = n;
    int rows = (n + cols - 1) / cols;
    long W = (long)cols * (w + gap) + gap, H = (long)rows * (h + gap) + gap;
    if (W > MAX_SIDE || H > MAX_SIDE)
        return gc_error_set(err, GC_ETOOBIG, "grid: %ldx%ld pixels is too large", W, H);
    uint8_t *img = malloc((size_t)W * H * c);
    uint8_t *cell = malloc((size_t)c * h * w);
    if (!img || !cell) {
        free(img);
        free(cell);
        return gc_error_set(err, GC_ENOMEM, "grid: out of memory");
    }
    memset(img, bg, (size_t)W * H * c);
    size_t per = (size_t)c * h * w;
    for (int i = 0; i < n; i++) {
        gc_image_to_u8(x + i * per, per, cell);
        long x0 = gap + (long)(i % cols) * (w + gap), y0 = gap + (long)(i / cols) * (h + gap);
        for (int y = 0; y < h; y++)
            for (int xx = 0; xx < w; xx++)
                for (int ch = 0; ch < c; ch++)
                    img[((y0 + y) * W + x0 + xx) * c + ch] = cell[((size_t)ch * h + y) * w + xx];
    }
    int rc = gc_png_encode(img, (int)W, (int)H, c, out, len, err);
    free(img);
    free(cell);
    return rc;
}

/* ---- scatter plot -------------------------------------------------------------- */

static void put_px(uint8_t *img, int size, long x, long y, const uint8_t rgb[3])
{
    if (x < 0 || y < 0 || x >= size || y >= size)
        return;
    memcpy(img + ((size_t)y * size + x) * 3, rgb, 3);
}

float gc_scatter_range(const float *centers, int k)
{
    float m = 0;
    for (int i = 0; i < 2 * k; i++)
        m = fmaxf(m, fabsf(centers[i]));
    if (m == 0)
        return 1.5f;
    return ceilf(m * 1.5f * 2.0f) / 2.0f;
}

int gc_scatter_png(const float *pts, int n, const float *centers, int k, float sigma, float range,
                   int size, uint8_t **out, size_t *len, struct gc_error *err)
{
    static const uint8_t white[3] = {255, 255, 255}, axis[3] = {210, 210, 210},
                         dot[3] = {30, 90, 200}, ring[3] = {220, 30, 30};
    *out = NULL;
    *len = 0;
    if (n < 0 || k < 0 || size < 16 || size > MAX_SIDE || !(range > 0) || (k > 0 && !centers))
        return gc_error_set(err, GC_EINVAL, "scatter: bad arguments (n=%d k=%d size=%d)", n, k,
                            size);
    uint8_t *img = malloc((size_t)size * size * 3);
    if (!img)
        return gc_error_set(err, GC_ENOMEM, "scatter: out of memory");
    for (size_t i = 0; i < (size_t)size * size; i++)
        memcpy(img + i * 3, white, 3);
    double scale = (size - 1) / (2.0 * range);
    long zero = lround(range * scale);
    for (long i = 0; i < size; i++) {
        put_px(img, size, zero, i, axis);
        put_px(img, size, i, zero, axis);
    }
    for (int i = 0; i < n; i++) {
        float x = pts[2 * i], y = pts[2 * i + 1];
        if (!(fabsf(x) <= range && fabsf(y) <= range))
            continue;
        long px = lround((x + range) * scale), py = lround((range - y) * scale);
        for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++)
                put_px(img, size, px + dx, py + dy, dot);
    }
    /* rings last so they stay visible under dense clouds of points */
    double r = 3.0 * sigma * scale;
    if (r < 3.0)
        r = 3.0;
    for (int m = 0; m < k; m++) {
        double cx = (centers[2 * m] + range) * scale, cy = (range - centers[2 * m + 1]) * scale;
        long r0 = (long)ceil(r) + 1;
        for (long y = lround(cy) - r0; y <= lround(cy) + r0; y++)
            for (long x = lround(cx) - r0; x <= lround(cx) + r0; x++) {
                double d = hypot(x - cx, y - cy);
                if (fabs(d - r) <= 0.75)
                    put_px(img, size, x, y, ring);
            }
    }
    int rc = gc_png_encode(img, size, size, 3, out, len, err);
    free(img);
    return rc;
}

/* ---- IDX ----------------------------------------------------------------------- */

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int gc_idx_encode(const uint8_t *pix, int n, int c, int h, int w, uint8_t **out, size_t *len,
                  struct gc_error *err)
{
    *out = NULL;
    *len = 0;
    if (n < 1 || c < 1 || h < 1 || w < 1)
        return gc_error_set(err, GC_EINVAL, "idx: bad shape n=%d c=%d h=%d w=%d", n, c, h, w);
    int ndim = c == 1 ? 3 : 4;
    size_t hdr = 4 + 4 * (size_t)ndim, plane = (size_t)h * w, body = (size_t)n * c * plane;
    uint8_t *b = malloc(hdr + body);
    if (!b)
        return gc_error_set(err, GC_ENOMEM, "idx: out of memory");
    b[0] = b[1] = 0;
    b[2] = 0x08;
    b[3] = (uint8_t)ndim;
    put_be32(b + 4, (uint32_t)n);
    put_be32(b + 8, (uint32_t)h);
    put_be32(b + 12, (uint32_t)w);
    if (c == 1) {
        memcpy(b + hdr, pix, body);
    } else {
        put_be32(b + 16, (uint32_t)c);
        uint8_t *o = b + hdr;
        for (int i = 0; i < n; i++)
            for (size_t p = 0; p < plane; p++)
                for (int ch = 0; ch < c; ch++)
                    *o++ = pix[((size_t)i * c + ch) * plane + p];
    }
    *out = b;
    *len = hdr + body;
    return 0;
}

int gc_idx_decode(const uint8_t *bytes, size_t len, int *ndim, uint32_t dims[4],
                  const uint8_t **data, struct gc_error *err)
{
    if (len < 4)
        return gc_error_set(err, GC_ECORRUPT, "idx: file is %zu bytes, too short for a header",
                            len);
    uint32_t magic = get_be32(bytes);
    int nd = bytes[3];
    if (bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 0x08 || nd < 1 || nd > 4)
        return gc_error_set(err, GC_ECORRUPT,
                            "idx: bad magic 0x%08x (want 0x000008NN, unsigned bytes, 1-4 dims)",
                            magic);
    size_t hdr = 4 + 4 * (size_t)nd;
    if (len < hdr)
        return gc_error_set(err, GC_ECORRUPT, "idx: file is %zu bytes, header needs %zu", len, hdr);
    uint64_t total = 1;
    for (int i = 0; i < nd; i++) {
        dims[i] = get_be32(bytes + 4 + 4 * i);
        if (dims[i] == 0)
            return gc_error_set(err, GC_ECORRUPT, "idx: dimension %d is 0", i);
        total *= dims[i];
        if (total > ((uint64_t)1 << 40))
            return gc_error_set(err, GC_ECORRUPT, "idx: dimensions are absurdly large");
    }
    for (int i = nd; i < 4; i++)
        dims[i] = 1;
    if (len - hdr != total)
        return gc_error_set(err, GC_ECORRUPT, "idx: file is %zu bytes, header says %llu", len,
                            (unsigned long long)(hdr + total));
    *ndim = nd;
    *data = bytes + hdr;
    return 0;
}
