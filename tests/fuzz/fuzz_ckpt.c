/* fuzz_ckpt.c — libFuzzer driver for the checkpoint loaders: gc_trainer_restore on a
 * small ring8 trainer (with spectral norm, the weight average and a gradient penalty, so
 * that every optional section is there), on a conditional one (its class section and
 * embedding), and gc_model_deserialize on a small model with a spectrally normalized
 * layer. Each input is fed to all three.
 *
 * A failed restore must leave the trainer usable: after every input the trainer takes a
 * fresh checkpoint and restores it again, which walks the whole state.
 *
 * The frame's CRC-32 would stop almost every mutation at the door, so each input is
 * also tried resealed: its length field and CRC rewritten to match (core/serial.h), so
 * mutations of the payload reach the section parsers behind the checksum.
 *
 * Seeds: `FUZZ_CKPT_SEEDS=DIR build-fuzz/fuzz_ckpt -runs=0` writes a real checkpoint of
 * each trainer after two steps (trainer.ckpt, trainer-cond.ckpt) and a serialized model
 * (model.bin) into DIR; tests/fuzz/corpus/ckpt/ holds what it wrote. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/blas.h"
#include "core/gan.h"
#include "core/model.h"
#include "core/rng.h"
#include "core/serial.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct gc_trainer *trainer, *cond;
static struct gc_model *model;

static void cleanup(void)
{
    gc_trainer_destroy(trainer);
    gc_trainer_destroy(cond);
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
    gc_blas_init(); /* as ganctld does at its start */
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
    spec.model.spectral_norm = 1;
    spec.tricks.ema = 0.9f;
    spec.tricks.penalty = (struct gc_penalty_spec){1, GC_PENALTY_WGAN_GP, 1.0f, 1};
    struct gc_field_errors fe;
    if (gc_spec_check(&spec, &fe) != 0) {
        gc_field_errors_summary(&fe, &err);
        fprintf(stderr, "fuzz_ckpt: %s\n", err.msg);
        abort();
    }
    struct gc_rng rng;
    gc_rng_init(&rng, 1, 0);
    struct gc_trainer_opts opts = {.threads = 1, .cache_dir = NULL, .load_data = 1};
    trainer = gc_trainer_create(&spec, &opts, &err);
    spec.model.conditional = 1; /* the modes are the classes */
    cond = trainer ? gc_trainer_create(&spec, &opts, &err) : NULL;
    model = gc_model_create(4, 1, 1, 3, &err);
    if (!trainer || !cond || !model || gc_model_add_linear(model, 4, 1, &err) != 0 ||
        gc_model_spectral_norm(model, &err) != 0 ||
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
        if (gc_trainer_run(cond, NULL, &err) != 0 || gc_trainer_checkpoint(cond, &b, &n, &err) != 0)
            abort();
        write_file(dir, "trainer-cond.ckpt", b, n);
        free(b);
        if (gc_model_serialize(model, &b, &n, &err) != 0)
            abort();
        write_file(dir, "model.bin", b, n);
        free(b);
    }
    return 0;
}

/* magic u32 | version u32 | payload length u64 | payload | CRC-32 u32, little-endian */
static uint8_t *reseal(const uint8_t *data, size_t size)
{
    if (size < 20)
        return NULL;
    uint8_t *b = malloc(size);
    if (!b)
        abort();
    memcpy(b, data, size);
    uint64_t payload = size - 20;
    for (int i = 0; i < 8; i++)
        b[8 + i] = (uint8_t)(payload >> (8 * i));
    uint32_t crc = gc_crc32(b, size - 4);
    for (int i = 0; i < 4; i++)
        b[size - 4 + i] = (uint8_t)(crc >> (8 * i));
    return b;
}

/* Restores t from the input; then t trains on and takes back its own checkpoint. */
static void restore(struct gc_trainer *t, const uint8_t *data, size_t size)
{
    struct gc_error err = {0};
    if (gc_trainer_restore(t, data, size, &err) == 0) {
        /* whatever a checkpoint says, training goes on from it (the spec's 2 steps) or
         * fails cleanly (a NaN is fine here; a crash or a hang is not) */
        int64_t step = gc_trainer_step(t);
        if (step < 0 || step > 2) {
            fprintf(stderr, "fuzz_ckpt: restored step %lld of a 2-step run\n", (long long)step);
            abort();
        }
        gc_trainer_run(t, NULL, &err);
    }
    uint8_t *b;
    size_t n;
    if (gc_trainer_checkpoint(t, &b, &n, &err) != 0)
        abort();
    if (gc_trainer_restore(t, b, n, &err) != 0) {
        fprintf(stderr, "fuzz_ckpt: own checkpoint refused: %s\n", err.msg);
        abort();
    }
    free(b);
}

static void one(const uint8_t *data, size_t size)
{
    struct gc_error err = {0};
    uint8_t *b;
    size_t n;
    restore(trainer, data, size);
    restore(cond, data, size);

    gc_model_deserialize(model, data, size, &err);
    if (gc_model_serialize(model, &b, &n, &err) != 0)
        abort();
    if (gc_model_deserialize(model, b, n, &err) != 0)
        abort();
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one(data, size);
    uint8_t *sealed = reseal(data, size);
    if (sealed) {
        one(sealed, size);
        free(sealed);
    }
    return 0;
}
