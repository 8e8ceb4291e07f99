/* gan_ckpt.c — the trainer's checkpoint: write and restore the training state.
 *
 * DETERMINISM. The training state is: the models (parameters, optimizer moments and
 * step, BN running statistics, a conditional run's class embedding), the noise, label
 * and class RNG states, the loader position, the step and the generator weight
 * average. A checkpoint holds exactly that, so a
 * restored trainer continues bit for bit (with the same thread count, since the
 * models' sums over the batch are split by threads). Evaluation and sample grids draw
 * from RNGs derived from (seed, step) and run G in eval mode, which touches no state
 * that training reads, so turning them on or off leaves the checkpoints unchanged.
 *
 * The payload, framed by gc_frame_seal (magic "GCCP", version 1), little-endian:
 *   u64 shape fingerprint | u64 step | u64 sample-grid seed | noise RNG | label RNG |
 *   u32 has loader | loader position | u32 K | K generator sections | D's section |
 *   [conditional runs: u32 "CND1" | u32 classes | per class u32 label, u32 name
 *    length, the name | class RNG | u32 has embedding | the embedding's section] |
 *   [the weight average: u32 "EMA1" | u32 K | per generator u64 n, n floats]
 *   [the watchdog: u32 "WDG1" | its state (gc_watch_save)]
 *   [DiffAugment's RNG: u32 "AUG1" | RNG] | [the penalty's RNG: u32 "GPN1" | RNG]
 * The models' sections are gc_model_save's (spectral norm's u and v are in D's). The
 * optional sections follow D only when their part of the spec is on, so a spec without
 * them writes exactly what it wrote before they existed. */
#include "core/gan_ckpt.h"

#include <string.h>

#include "core/gan_arch.h"
#include "core/gan_cond.h"
#include "core/gan_internal.h"
#include "core/serial.h"

#define CKPT_MAGIC 0x50434347u /* "GCCP" little-endian */
#define CKPT_VERSION 1u
/* The generator weight average follows D as an optional last section. Without ema
 * nothing follows D, exactly as in the checkpoints written before the average
 * existed, so those still load. */
#define CKPT_EMA_TAG 0x31414d45u /* "EMA1" */
/* The watchdog's state (core/watch.h) follows as another optional section when the
 * spec's watch is on. */
#define CKPT_WATCH_TAG 0x31474457u /* "WDG1" */
/* DiffAugment's and the gradient penalty's RNG streams, when those are on. */
#define CKPT_AUG_TAG 0x31475541u /* "AUG1" */
#define CKPT_GPN_TAG 0x314e5047u /* "GPN1" */

int gc_trainer_checkpoint(struct gc_trainer *t, uint8_t **out, size_t *len, struct gc_error *err)
{
    /* framed in place: the state is held once, not once more for the frame */
    struct gc_buf b;
    gc_buf_init(&b);
    gc_frame_start(&b);
    uint8_t rs[GC_RNG_BYTES];
    gc_buf_put_u64(&b, gc_gan_shape_fingerprint(t));
    gc_buf_put_u64(&b, (uint64_t)t->step);
    gc_buf_put_u64(&b, t->fixed_seed);
    gc_rng_save(&t->rng_noise, rs);
    gc_buf_put(&b, rs, sizeof rs);
    gc_rng_save(&t->rng_label, rs);
    gc_buf_put(&b, rs, sizeof rs);
    gc_buf_put_u32(&b, t->loader ? 1u : 0u);
    if (t->loader)
        gc_loader_save(t->loader, &b);
    gc_buf_put_u32(&b, (uint32_t)t->K);
    int rc = 0;
    for (int k = 0; k < t->K && !rc; k++)
        rc = gc_model_save(t->g[k], &b);
    if (!rc)
        rc = gc_model_save(t->d, &b);
    if (!rc)
        rc = gc_gan_cond_save(t, &b);
    if (!rc && t->gsample) {
        size_t n;
        gc_model_params(t->g[0], &n);
        gc_buf_put_u32(&b, CKPT_EMA_TAG);
        gc_buf_put_u32(&b, (uint32_t)t->K);
        for (int k = 0; k < t->K; k++) {
            gc_buf_put_u64(&b, (uint64_t)n);
            gc_buf_put_f32s(&b, t->ema[k], n);
        }
    }
    if (!rc && t->spec.watch.action != GC_WATCH_OFF) {
        gc_buf_put_u32(&b, CKPT_WATCH_TAG);
        gc_watch_save(&t->watch, &b);
    }
    if (!rc && t->aug) {
        gc_buf_put_u32(&b, CKPT_AUG_TAG);
        gc_rng_save(&t->rng_aug, rs);
        gc_buf_put(&b, rs, sizeof rs);
    }
    if (!rc && t->gp_x) {
        gc_buf_put_u32(&b, CKPT_GPN_TAG);
        gc_rng_save(&t->rng_penalty, rs);
        gc_buf_put(&b, rs, sizeof rs);
    }
    if (rc || b.oom) {
        gc_buf_fini(&b);
        return gc_error_set(err, GC_ENOMEM, "checkpoint: out of memory");
    }
    return gc_frame_finish(&b, CKPT_MAGIC, CKPT_VERSION, out, len, err);
}

/* The weight-average section after its tag: the average of each generator. A spec
 * without ema skips it, so its trained generators still serve. */
static int restore_ema(struct gc_trainer *t, struct gc_reader *r, struct gc_error *err)
{
    size_t n;
    gc_model_params(t->g[0], &n);
    uint32_t K;
    int rc;
    if ((rc = gc_reader_u32(r, &K, err)))
        return gc_error_prefix(err, "checkpoint: ema");
    if (K != (uint32_t)t->K)
        return gc_error_set(err, GC_ECORRUPT, "checkpoint: ema of %u generators, this spec %d", K,
                            t->K);
    for (int k = 0; k < t->K; k++) {
        uint64_t m;
        if ((rc = gc_reader_u64(r, &m, err)))
            return gc_error_prefix(err, "checkpoint: ema");
        if (m != (uint64_t)n)
            return gc_error_set(err, GC_ECORRUPT,
                                "checkpoint: ema of generator %d has %llu "
                                "parameters, the model %zu",
                                k, (unsigned long long)m, n);
        if (t->gsample)
            rc = gc_reader_f32s(r, t->ema[k], n, err);
        else if (n > (r->len - r->off) / sizeof(float))
            rc = gc_error_set(err, GC_ECORRUPT, "ema section is short");
        else
            r->off += n * sizeof(float);
        if (rc)
            return gc_error_prefix(err, "checkpoint: ema");
    }
    return 0;
}

/* The optional sections after the models, each behind its tag: the weight average
 * (EMA1), the watchdog's state (WDG1), DiffAugment's and the penalty's RNGs (AUG1,
 * GPN1). A checkpoint without the first (written before the average existed, or by a
 * spec without ema) leaves the average at G's weights, the state of step 0; one
 * without the second starts the watchdog afresh; one without an RNG keeps that stream
 * at its seed's start. What a spec without the part finds is skipped. */
static int restore_sections(struct gc_trainer *t, struct gc_reader *r, struct gc_error *err)
{
    int have_ema = 0, have_watch = 0, have_aug = 0, have_gpn = 0, rc;
    while (r->off < r->len) {
        uint32_t tag;
        uint8_t rs[GC_RNG_BYTES];
        if ((rc = gc_reader_u32(r, &tag, err)))
            return gc_error_prefix(err, "checkpoint");
        if (tag == CKPT_EMA_TAG && !have_ema) {
            if ((rc = restore_ema(t, r, err)))
                return rc;
            have_ema = 1;
        } else if (tag == CKPT_WATCH_TAG && !have_watch) {
            if ((rc = gc_watch_load(&t->watch, r, err)))
                return rc;
            have_watch = 1;
        } else if ((tag == CKPT_AUG_TAG && !have_aug) || (tag == CKPT_GPN_TAG && !have_gpn)) {
            int aug = tag == CKPT_AUG_TAG;
            if ((rc = gc_reader_get(r, rs, sizeof rs, err)))
                return gc_error_prefix(err, "checkpoint: %s", aug ? "diffaugment" : "penalty");
            if (aug && t->aug)
                gc_rng_load(&t->rng_aug, rs);
            if (!aug && t->gp_x)
                gc_rng_load(&t->rng_penalty, rs);
            have_aug |= aug;
            have_gpn |= !aug;
        } else {
            return gc_error_set(err, GC_ECORRUPT, "checkpoint: unknown section after the models");
        }
    }
    size_t n;
    gc_model_params(t->g[0], &n);
    for (int k = 0; k < t->K && t->gsample && !have_ema; k++)
        memcpy(t->ema[k], gc_model_params(t->g[k], &n), n * sizeof(float));
    if (!have_watch)
        gc_watch_init(&t->watch);
    return 0;
}

int gc_trainer_restore(struct gc_trainer *t, const uint8_t *bytes, size_t len, struct gc_error *err)
{
    const uint8_t *p;
    size_t plen;
    int rc = gc_frame_open("checkpoint", CKPT_MAGIC, CKPT_VERSION, bytes, len, &p, &plen, err);
    if (rc)
        return rc;
    struct gc_reader r;
    gc_reader_init(&r, p, plen);
    uint64_t fp, step, fixed;
    uint32_t has_loader, K;
    uint8_t rn[GC_RNG_BYTES], rl[GC_RNG_BYTES];
    if ((rc = gc_reader_u64(&r, &fp, err)))
        goto bad;
    if (fp != gc_gan_shape_fingerprint(t))
        return gc_error_set(err, GC_EINVAL,
                            "checkpoint: made for another model shape (dataset shape, "
                            "classes, architecture, widths, generators or optimizers differ "
                            "from this spec)");
    if ((rc = gc_reader_u64(&r, &step, err)) || (rc = gc_reader_u64(&r, &fixed, err)) ||
        (rc = gc_reader_get(&r, rn, sizeof rn, err)) ||
        (rc = gc_reader_get(&r, rl, sizeof rl, err)) || (rc = gc_reader_u32(&r, &has_loader, err)))
        goto bad;
    if (step > (uint64_t)t->spec.train.steps)
        return gc_error_set(err, GC_EINVAL, "checkpoint: at step %llu, past this spec's %lld steps",
                            (unsigned long long)step, (long long)t->spec.train.steps);
    if (has_loader > 1)
        return gc_error_set(err, GC_ECORRUPT, "checkpoint: bad data position tag");
    if (has_loader && t->loader) {
        if ((rc = gc_loader_load(t->loader, &r, err)))
            goto bad;
    } else if (has_loader) {
        uint8_t skip[GC_LOADER_BYTES];
        if ((rc = gc_reader_get(&r, skip, sizeof skip, err)))
            goto bad;
    } else if (t->loader) {
        return gc_error_set(err, GC_EINVAL, "checkpoint: holds no data position to train on");
    }
    if ((rc = gc_reader_u32(&r, &K, err)))
        goto bad;
    if (K != (uint32_t)t->K)
        return gc_error_set(err, GC_EINVAL, "checkpoint: has %u generators, this spec %d", K, t->K);
    for (int k = 0; k < t->K; k++)
        if ((rc = gc_model_load(t->g[k], &r, err))) {
            gc_error_prefix(err, "checkpoint: generator %d", k);
            return rc;
        }
    if ((rc = gc_model_load(t->d, &r, err))) {
        gc_error_prefix(err, "checkpoint: discriminator");
        return rc;
    }
    if ((rc = gc_gan_cond_load(t, &r, err)) || (rc = restore_sections(t, &r, err)))
        return rc;
    if (r.off != r.len)
        return gc_error_set(err, GC_ECORRUPT, "checkpoint: %zu trailing bytes", r.len - r.off);
    t->step = (int64_t)step;
    t->fixed_seed = fixed;
    gc_rng_load(&t->rng_noise, rn);
    gc_rng_load(&t->rng_label, rl);
    return 0;
bad:
    return gc_error_prefix(err, "checkpoint");
}
