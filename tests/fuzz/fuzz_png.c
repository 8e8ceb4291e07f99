/* fuzz_png.c — libFuzzer driver for the PNG decoder and what the png-dir dataset does
 * with each file (core/image.h: gc_png_decode, then gc_picture_fit to 1 and 3 channels).
 *
 * A decoded picture must have sane dimensions and be fully readable (ASan checks every
 * byte of w x h x c); fitting it must succeed for any picture the decoder accepts. */
#include <stdint.h>
#include <stdlib.h>

#include "core/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gc_picture p = {0};
    struct gc_error err = {0};
    if (gc_png_decode(data, size, &p, &err) != 0) {
        if (p.pix || err.code >= 0)
            abort(); /* a failed decode leaves nothing to free and says why */
        return 0;
    }
    if (p.w < 1 || p.h < 1 || p.w > 16384 || p.h > 16384 || p.c < 1 || p.c > 4 || !p.pix)
        abort();
    unsigned sum = 0;
    for (size_t i = 0; i < (size_t)p.w * p.h * p.c; i++)
        sum += p.pix[i];
    uint8_t gray[8 * 8], rgb[3 * 12 * 12];
    if (gc_picture_fit(&p, 8, 1, gray, &err) != 0 || gc_picture_fit(&p, 12, 3, rgb, &err) != 0)
        abort();
    gc_picture_fini(&p);
    volatile unsigned sink = sum; /* keeps the reads */
    (void)sink;
    return 0;
}
