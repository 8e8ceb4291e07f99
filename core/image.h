/* image.h — PNG and IDX encoding and decoding, sample grids and 2D scatter plots.
 *
 * Everything works in memory: encoders return a malloc'ed buffer that the caller frees;
 * decoders read borrowed bytes. libpng errors are caught (no longjmp escapes) and
 * returned as GC_ECORRUPT (decoding) or GC_ENOMEM / GC_EIO (encoding).
 * No globals; every function may be called from any thread. */
#ifndef GC_IMAGE_H
#define GC_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* A decoded picture: w x h pixels of c interleaved 8-bit channels (HWC),
 * c = 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA. pix is malloc'ed, freed by
 * gc_picture_fini. */
struct gc_picture {
    int w, h, c;
    uint8_t *pix;
};

void gc_picture_fini(struct gc_picture *p);

/* Decodes a PNG of any colour type and depth: palettes expand to RGB(A), tRNS to
 * alpha, 1/2/4-bit gray to 8 bits, 16-bit samples scale to 8 bits. Images larger
 * than 16384 on a side are refused (GC_ETOOBIG). GC_ECORRUPT for anything that is
 * not a valid PNG. */
int gc_png_decode(const uint8_t *bytes, size_t len, struct gc_picture *out, struct gc_error *err);

/* Scales p so its shorter side is `size` (area average when shrinking, bilinear when
 * growing), crops the centre size x size, and converts to `channels` (1: luma
 * 0.299 R + 0.587 G + 0.114 B; 3: gray replicated) with alpha composited over black.
 * out is channels x size x size bytes, planar (CHW). */
int gc_picture_fit(const struct gc_picture *p, int size, int channels, uint8_t *out,
                   struct gc_error *err);

/* Encodes raw 8-bit pixels (w x h, c interleaved channels, c in 1..4) as a PNG. */
int gc_png_encode(const uint8_t *pix, int w, int h, int c, uint8_t **out, size_t *len,
                  struct gc_error *err);

/* Float [-1, 1] to byte: round((x + 1) * 127.5), clamped to 0..255 (NaN -> 0). */
void gc_image_to_u8(const float *x, size_t n, uint8_t *out);

/* A PNG grid of n images x (n, c, h, w), floats in [-1, 1], c = 1 or 3: cols columns
 * (0 = ceil(sqrt(n))), a 2-pixel gap of dark gray between and around cells. */
int gc_image_grid_png(const float *x, int n, int c, int h, int w, int cols, uint8_t **out,
                      size_t *len, struct gc_error *err);

/* A size x size PNG scatter plot of n 2D points (n x 2 floats) over the true mixture:
 * a white background, light axes through 0, each mode centre drawn as a red circle of
 * radius 3 sigma (at least 3 pixels) and every point as a blue 3x3 dot. The view is
 * the square [-range, range]^2; points outside are skipped. gc_scatter_range gives
 * the fixed range used for a dataset's modes (1.5 for ring8, 6 for grid25), so plots
 * of one run are comparable over steps. centers may be NULL when k = 0. */
int gc_scatter_png(const float *pts, int n, const float *centers, int k, float sigma, float range,
                   int size, uint8_t **out, size_t *len, struct gc_error *err);
/* 1.5 x the largest |coordinate| of the centres, rounded up to a half unit (1.5 when
 * k = 0). */
float gc_scatter_range(const float *centers, int k);

/* IDX of uint8 images given planar (n, c, h, w): magic 0x00000803 with dims n, h, w
 * for c = 1; magic 0x00000804 with dims n, h, w, c (pixels interleaved) otherwise.
 * Big-endian dims, as the IDX format says. */
int gc_idx_encode(const uint8_t *pix, int n, int c, int h, int w, uint8_t **out, size_t *len,
                  struct gc_error *err);

/* Parses an uncompressed IDX file of unsigned bytes (type 0x08) with 1 to 4 dims:
 * checks the magic, that no dim is 0, and that the file is exactly header + data.
 * *data points into bytes (borrowed). GC_ECORRUPT with a message saying what is
 * wrong ("bad magic 0x12345678", "file is 1000 bytes, header says 7840016"). */
int gc_idx_decode(const uint8_t *bytes, size_t len, int *ndim, uint32_t dims[4],
                  const uint8_t **data, struct gc_error *err);

#endif
