/* fuzz_ckpt.c — libFuzzer driver for the checkpoint loaders: gc_trainer_restore on a
 * small ring8 trainer and gc_model_deserialize on a small model. Each input is fed to
 * both.
 *
 * A failed restore must leave the trainer usable: after every input the trainer takes a
 * fresh checkpoint and restores it again, which walks the whole state.
 *
 * Seeds: `FUZZ_CKPT_SEEDS=DIR build-fuzz/fuzz_ckpt -runs=0` writes a real checkpoint of
 * this trainer after two steps (trainer.ckpt) and a serialized model (model.bin) into
 * DIR; tests/fuzz/corpus/ckpt/ holds what it wrote. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gan.h"
#include "core/model.h"
#include "core/rng.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct gc_trainer *trainer;
static struct gc_model *model;

static void cleanup(void)
{
    gc_trainer_destroy(trainer);
    gc_model_destroy(model);
}

static void write_file(const char *dir, const char *name, const uint8_t *b, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b, 1, n, f) != n || fclose(f) != 0)
        abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    struct gc_error err = {0};
    struct gc_spec spec;
    gc_spec_defaults(&spec, GC_DATA_RING8, GC_LOSS_NONSATURATING);
    /* small: the loader runs on every input */
    spec.model.hidden = 8;
    spec.model.layers = 2;
    spec.model.z_dim = 2;
    spec.train.batch_size = 4;
    spec.train.steps = 2;
    spec.every.log = spec.every.sample = spec.every.checkpoint = spec.every.eval = 0;
    if (gc_spec_check(&spec, &err) != 0) {
        fprintf(stderr, "fuzz_ckpt: %s\n", err.msg);
        abort();
    }
    struct gc_rng rng;
    gc_rng_init(&rng, 1, 0);
    struct gc_trainer_opts opts = {.threads = 1, .cache_dir = NULL, .load_data = 1};
    trainer = gc_trainer_create(&spec, &opts, &err);
    model = gc_model_create(4, 1, 1, 3, &err);
    if (!trainer || !model || gc_model_add_linear(model, 4, 1, &err) != 0 ||
        gc_model_add_batchnorm(model, 1e-5f, 0.1f, &err) != 0 ||
        gc_model_add_relu(model, &err) != 0 || gc_model_add_linear(model, 2, 0, &err) != 0 ||
        gc_model_finalize(model, GC_INIT_DEFAULT, &rng, &err) != 0 ||
        gc_model_set_optim(model, &spec.opt_d, &err) != 0) {
        fprintf(stderr, "fuzz_ckpt: %s\n", err.msg);
        abort();
    }
    atexit(cleanup);
    const char *dir = getenv("FUZZ_CKPT_SEEDS");
    if (dir) {
        uint8_t *b;
        size_t n;
        if (gc_trainer_run(trainer, NULL, &err) != 0 ||
            gc_trainer_checkpoint(trainer, &b, &n, &err) != 0)
            abort();
        write_file(dir, "trainer.ckpt", b, n);
        free(b);
        if (gc_model_serialize(model, &b, &n, &err) != 0)
            abort();
        write_file(dir, "model.bin", b, n);
        free(b);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gc_error err = {0};
    gc_trainer_restore(trainer, data, size, &err);
    uint8_t *b;
    size_t n;
    if (gc_trainer_checkpoint(trainer, &b, &n, &err) != 0)
        abort();
    if (gc_trainer_restore(trainer, b, n, &err) != 0) {
        fprintf(stderr, "fuzz_ckpt: own checkpoint refused: %s\n", err.msg);
        abort();
    }
    free(b);

    gc_model_deserialize(model, data, size, &err);
    if (gc_model_serialize(model, &b, &n, &err) != 0)
        abort();
    if (gc_model_deserialize(model, b, n, &err) != 0)
        abort();
    free(b);
    return 0;
}
