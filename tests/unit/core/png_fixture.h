/* png_fixture.h — builds PNG files of any colour type and bit depth for the tests,
 * with libpng's classic writer (the code under test only writes 8-bit images), and
 * makes scratch folders. Included by test_image.c and test_data.c. */
#ifndef TEST_PNG_FIXTURE_H
#define TEST_PNG_FIXTURE_H

#include <dirent.h>
#include <png.h>
#include <unistd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fx_mem {
    uint8_t *p;
    size_t len, cap;
};

static inline void fx_write(png_structp png, png_bytep data, png_size_t n)
{
    struct fx_mem *m = png_get_io_ptr(png);
    if (m->len + n > m->cap) {
        m->cap = (m->len + n) * 2;
        m->p = realloc(m->p, m->cap);
    }
    memcpy(m->p + m->len, data, n);
    m->len += n;
}

static inline void fx_flush(png_structp png)
{
    (void)png;
}

static inline int fx_channels(int color_type)
{
    switch (color_type) {
    case PNG_COLOR_TYPE_GRAY:
    case PNG_COLOR_TYPE_PALETTE:
        return 1;
    case PNG_COLOR_TYPE_GRAY_ALPHA:
        return 2;
    case PNG_COLOR_TYPE_RGB:
        return 3;
    default:
        return 4;
    }
}

/* samples: w*h*channels values (palette indices for palette images) at `depth` bits.
 * plte: npal RGB triples; trns: npal alpha values or NULL; interlace: Adam7 when 1.
 * Returns malloc'ed bytes. */
static inline uint8_t *fx_png_ex(int w, int h, int color_type, int depth, const uint16_t *samples,
                                 const uint8_t *plte, int npal, const uint8_t *trns, int interlace,
                                 size_t *len)
{
    struct fx_mem m = {0};
    int c = fx_channels(color_type);
    size_t rowbytes = ((size_t)w * c * depth + 7) / 8;
    uint8_t *pix = calloc((size_t)h, rowbytes);
    png_bytep *rows = malloc(sizeof(png_bytep) * (size_t)h);
    for (int y = 0; y < h; y++) {
        uint8_t *row = pix + (size_t)y * rowbytes;
        rows[y] = row;
        for (int i = 0; i < w * c; i++) {
            unsigned v = samples[(size_t)y * w * c + i];
            if (depth == 16) {
                row[2 * i] = (uint8_t)(v >> 8);
                row[2 * i + 1] = (uint8_t)v;
            } else if (depth == 8) {
                row[i] = (uint8_t)v;
            } else {
                size_t bit = (size_t)i * depth;
                row[bit / 8] |= (uint8_t)(v << (8 - depth - bit % 8));
            }
        }
    }
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return NULL; /* never happens with the fixtures' valid parameters */
    }
    png_set_write_fn(png, &m, fx_write, fx_flush);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, color_type,
                 interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        png_color pal[256];
        for (int i = 0; i < npal; i++) {
            pal[i].red = plte[3 * i];
            pal[i].green = plte[3 * i + 1];
            pal[i].blue = plte[3 * i + 2];
        }
        png_set_PLTE(png, info, pal, npal);
        if (trns)
            png_set_tRNS(png, info, trns, npal, NULL);
    }
    png_write_info(png, info);
    png_write_image(png, rows); /* handles the Adam7 passes itself */
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(rows);
    free(pix);
    *len = m.len;
    return m.p;
}

static inline uint8_t *fx_png(int w, int h, int color_type, int depth, const uint16_t *samples,
                              const uint8_t *plte, int npal, const uint8_t *trns, size_t *len)
{
    return fx_png_ex(w, h, color_type, depth, samples, plte, npal, trns, 0, len);
}

static inline void fx_save(const char *dir, const char *name, const uint8_t *p, size_t len)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    if (len)
        fwrite(p, 1, len, f);
    fclose(f);
}

/* A fresh folder under $TMPDIR (or /tmp); the caller removes it with fx_rmdir. */
static inline void fx_tmpdir(char *out, size_t n)
{
    const char *t = getenv("TMPDIR");
    snprintf(out, n, "%s/gctest-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(out))
        abort();
}

/* Removes a flat folder made by fx_tmpdir (files only, no subfolders). */
static inline void fx_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char path[1200];
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
                unlink(path);
            }
        closedir(d);
    }
    rmdir(dir);
}

#endif
