/* fuzz_translate.c — libFuzzer driver for what POST /runs/{id}/translate does with a
 * user's bytes (core/gan.h: gc_trainer_translate_png) on two small task runs made once:
 * x4 super-resolution (takes 7x7) and inpainting (takes 28x28 with alpha), built without
 * their data, as the daemon builds them.
 *
 * Any input either fails with a negative code, a message and no output, or gives a PNG
 * of the run's 28x28 that decodes back. */
#include <stdint.h>
#include <stdlib.h>

#include "core/blas.h"
#include "core/gan.h"
#include "core/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct gc_trainer *make(enum gc_task_kind kind)
{
    struct gc_spec s;
    gc_spec_defaults(&s, GC_DATA_FASHION_MNIST, GC_LOSS_NONSATURATING);
    struct gc_task_spec t = {.on = 1, .kind = kind, .factor = 4};
    gc_spec_task_defaults(&s, &t);
    s.model.g_width = s.model.d_width = 4;
    s.train.batch_size = 2;
    struct gc_trainer_opts o = {.threads = 1, .load_data = 0};
    struct gc_trainer *tr = gc_trainer_create(&s, &o, NULL);
    if (!tr)
        abort();
    return tr;
}

static void one(struct gc_trainer *t, const uint8_t *data, size_t size)
{
    uint8_t *out = (uint8_t *)1;
    size_t len = 1;
    struct gc_error err = {0};
    int rc = gc_trainer_translate_png(t, data, size, &out, &len, &err);
    if (rc != 0) {
        if (out || len || rc >= 0 || !err.msg[0])
            abort(); /* a refusal gives nothing and says why */
        return;
    }
    struct gc_picture p = {0};
    if (gc_png_decode(out, len, &p, &err) != 0 || p.w != 28 || p.h != 28 || p.c != 1)
        abort();
    gc_picture_fini(&p);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct gc_trainer *sr, *inpaint;
    if (!sr) {
        gc_blas_init();
        sr = make(GC_TASK_SUPER_RESOLUTION);
        inpaint = make(GC_TASK_INPAINTING);
    }
    one(sr, data, size);
    one(inpaint, data, size);
    return 0;
}
