/* fuzz_idx.c — libFuzzer driver for the IDX reader of core/data.h: the bytes of an idx
 * dataset file, gzipped or not (gc_dataset_open_idx_bytes, which is what
 * gc_dataset_open does with the file), and the plain parser gc_idx_decode.
 *
 * An accepted file must give a dataset whose every image can be read, and a loader
 * over it must walk and save/restore its position. */
#include <stdint.h>
#include <stdlib.h>

#include "core/data.h"
#include "core/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gc_error err = {0};
    int nd;
    uint32_t dims[4];
    const uint8_t *view;
    if (gc_idx_decode(data, size, &nd, dims, &view, &err) == 0) {
        size_t n = 1;
        for (int i = 0; i < nd; i++)
            n *= dims[i];
        if (nd < 1 || nd > 4 || view < data || view + n != data + size)
            abort(); /* the view is exactly the rest of the file */
    }

    struct gc_dataset *d = gc_dataset_open_idx_bytes(data, size, "fuzz.idx", &err);
    if (!d)
        return 0;
    int c, h, w;
    gc_dataset_shape(d, &c, &h, &w);
    size_t count = gc_dataset_count(d), per = gc_dataset_sample_size(d);
    if (c != 1 || h < 1 || w < 1 || count < 1 || per != (size_t)h * w)
        abort();
    float *x = malloc(2 * per * sizeof *x);
    if (!x)
        abort();
    if (gc_dataset_get(d, count - 1, 1, x, NULL, &err) != 0 ||
        gc_dataset_get(d, 0, 1, x, NULL, &err) != 0)
        abort();
    if (gc_dataset_get(d, count, 1, x, NULL, &err) == 0)
        abort(); /* past the end */
    for (size_t i = 0; i < per; i++)
        if (!(x[i] >= -1.0f && x[i] <= 1.0f))
            abort();
    struct gc_loader *l = gc_loader_create(d, 7, 0, &err);
    if (!l)
        abort();
    gc_loader_next(l, 2, x, NULL);
    struct gc_buf b;
    gc_buf_init(&b);
    gc_loader_save(l, &b);
    if (b.oom || b.len != GC_LOADER_BYTES)
        abort();
    struct gc_reader r;
    gc_reader_init(&r, b.data, b.len);
    if (gc_loader_load(l, &r, &err) != 0)
        abort();
    gc_buf_fini(&b);
    gc_loader_destroy(l);
    free(x);
    gc_dataset_destroy(d);
    return 0;
}
