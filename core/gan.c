/* gan.c — placeholder until the engine lands: every call fails clearly. */
#include "core/gan.h"

#include <stdlib.h>

struct gc_trainer {
    int unused;
};

struct gc_trainer *gc_trainer_create(const struct gc_spec *spec, const struct gc_trainer_opts *opts,
                                     struct gc_error *err)
{
    (void)spec;
    (void)opts;
    gc_error_set(err, GC_EUNSUPPORTED, "the training engine is not built yet");
    return NULL;
}
void gc_trainer_destroy(struct gc_trainer *t)
{
    free(t);
}
int gc_trainer_restore(struct gc_trainer *t, const uint8_t *bytes, size_t len, struct gc_error *err)
{
    (void)t, (void)bytes, (void)len;
    return gc_error_set(err, GC_EUNSUPPORTED, "the training engine is not built yet");
}
int gc_trainer_run(struct gc_trainer *t, const struct gc_train_hooks *hooks, struct gc_error *err)
{
    (void)t, (void)hooks;
    return gc_error_set(err, GC_EUNSUPPORTED, "the training engine is not built yet");
}
int64_t gc_trainer_step(const struct gc_trainer *t)
{
    (void)t;
    return 0;
}
int gc_trainer_checkpoint(struct gc_trainer *t, uint8_t **out, size_t *len, struct gc_error *err)
{
    (void)t, (void)out, (void)len;
    return gc_error_set(err, GC_EUNSUPPORTED, "the training engine is not built yet");
}
void gc_trainer_sample_shape(const struct gc_trainer *t, int *c, int *h, int *w)
{
    (void)t;
    *c = *h = *w = 0;
}
int gc_trainer_generate(struct gc_trainer *t, int n, uint64_t seed, float *out, struct gc_error *err)
{
    (void)t, (void)n, (void)seed, (void)out;
    return gc_error_set(err, GC_EUNSUPPORTED, "the training engine is not built yet");
}
int gc_trainer_encode_png(const struct gc_trainer *t, const float *samples, int n, uint8_t **out,
                          size_t *len, struct gc_error *err)
{
    (void)t, (void)samples, (void)n, (void)out, (void)len;
    return gc_error_set(err, GC_EUNSUPPORTED, "the training engine is not built yet");
}
int gc_trainer_encode_idx(const struct gc_trainer *t, const float *samples, int n, uint8_t **out,
                          size_t *len, struct gc_error *err)
{
    (void)t, (void)samples, (void)n, (void)out, (void)len;
    return gc_error_set(err, GC_EUNSUPPORTED, "the training engine is not built yet");
}
