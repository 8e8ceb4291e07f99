/* conv_planes.h — how core/conv.c lays an image out for its GEMMs. Internal to
 * conv.c and conv_planes.c.
 *
 * Both directions of a convolution go through "phase planes" of the zero-padded image
 * side: plane r of channel c holds the padded columns r, r+s, r+2s, ... of every padded
 * row, so
 *
 *     padded[c][oy*s + ki][ox*s + kj] = plane[c][kj % s][oy*s + ki][ox + kj / s]
 *
 * and a row of col for fixed (c, ki, kj, oy) is a contiguous run of gw floats of one
 * plane: element ((c, ki, kj), (oy, ox)) is at row_offset(c, ki, kj) + oy*s*wt + ox,
 * and only building (or folding back) the planes walks the image with stride s.
 * Only kj % s < min(s, k) occurs, hence nph = min(s, k) planes.
 *
 * bfloat16 images: with stride 2 and an even kernel, the two rows (c, ki, 2j) and
 * (c, ki, 2j + 1) of col that the bfloat16 kernel multiplies as one pair hold, at pixel
 * (oy, ox), the padded pixels (oy*2 + ki, ox*2 + 2j) and the one right of it: one
 * 32-bit word of the padded image rounded to bfloat16, at word (oy*2 + ki) * wt + ox + j
 * of its channel. So a group's images are rounded once, and packing col for the GEMM
 * becomes a copy of words (gc_gemm_mapped_a_pairs) instead of two float loads, a
 * rounding and a shuffle a word: the same words, so the same bits. The images take wt
 * words a padded row. */
#ifndef GC_CONV_PLANES_H
#define GC_CONV_PLANES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct geom {
    int ch, ih, iw; /* image side */
    int k, s, p;
    int gh, gw;      /* grid side */
    int nph, hp, wt; /* phase planes: count, rows, columns (see conv_build_phases) */
};

/* floats of one sample's phase planes */
size_t conv_phase_floats(const struct geom *g);
/* The phase planes of img (one sample, channels x ih x iw) into pb. */
void conv_build_phases(const struct geom *g, const float *restrict img, float *restrict pb);
/* The planes, cropped of the padding, into img (the adjoint of conv_build_phases):
 * added to img's own values with add, else img = bias (0 without) + the planes. */
void conv_fold_phases(const struct geom *g, const float *restrict pb, float *restrict img, int add,
                      const float *bias);
/* dst[0..n) = v */
void conv_fill_row(float *restrict dst, float v, int n);
/* Offsets into a group's planes (ps floats a sample) of col's rows (c, ki, kj) and of
 * its columns, pixel q of the group's sample j at j * ps + oy*s*wt + ox. */
void conv_plane_offsets(const struct geom *g, size_t ps, int m, int32_t *row, int32_t *col);

/* 32-bit words of one sample's bfloat16 image */
size_t conv_pair_words(const struct geom *g);
/* The zero-padded image img rounded to bfloat16 at h, through f (room for one sample's
 * padded image in floats, 2 conv_pair_words). */
void conv_build_pairs(const struct geom *g, const float *restrict img, uint16_t *restrict h,
                      float *restrict f);
/* Offsets in words of col's pairs of rows (c, ki, j) and of its columns, pixel q of the
 * group's sample j at j * psw + oy*2*wt + ox. */
void conv_pair_offsets(const struct geom *g, size_t psw, int m, int32_t *row, int32_t *col);

/* dst[0..n) = src[0..n) in 8-float blocks (fixed-size memcpy compiles to one vector
 * move), the last block overlapping the one before instead of a scalar tail. */
static inline void conv_copy_row(float *restrict dst, const float *restrict src, int n)
{
    if (n < 8) {
        for (int j = 0; j < n; j++)
            dst[j] = src[j];
        return;
    }
    if (n <= 16) {
        /* spelled out: the loop below becomes a call to libc's memcpy, whose
         * overhead is most of the cost of the 14-float rows of the 14x14 layers */
        memcpy(dst, src, 8 * sizeof(float));
        memcpy(dst + n - 8, src + n - 8, 8 * sizeof(float));
        return;
    }
    int j = 0;
    for (; j + 8 <= n; j += 8)
        memcpy(dst + j, src + j, 8 * sizeof(float));
    if (j < n)
        memcpy(dst + n - 8, src + n - 8, 8 * sizeof(float));
}

#endif
