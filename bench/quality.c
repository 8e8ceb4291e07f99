/* quality.c — the 2D mode-collapse table: ring8 and grid25 trained with the plain
 * (nonsaturating) GAN, the unrolled GAN (5 look-ahead steps) and MAD-GAN (K = 4),
 * several seeds each, evaluated with the PacGAN protocol (2,500 samples, a sample is
 * high quality within 3 sigma of its nearest mode). Prints mean +/- std of
 * modes_covered and high_quality next to the published figures.
 *
 *   quality [--seeds N] [--sets ring8,grid25] [--variants gan,unrolled,madgan]
 *           [--steps N] [--hidden N] [--layers N] [--z N] [--batch N] [--lr X]
 *           [--bn 0|1] [--decay START:FACTOR[:linear|step]|none] [--ema X|0]
 *           [--seed0 N] [--threads N] [--verbose]
 *
 * --decay and --ema set train.lr_decay and tricks.ema; --seed0 N runs seeds N+1 ..
 * N+seeds, so that the seeds of one table can be split over several processes.
 *
 * Without options every run uses the spec defaults of its dataset (core/spec.c), so
 * the table shows what a user gets from {"dataset":{"name":"ring8"}}; the options
 * override them for tuning. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/stats.h"
#include "core/blas.h"
#include "core/eval.h"
#include "core/gan.h"

struct opts {
    int seeds;
    const char *sets, *variants;
    long steps;
    int hidden, layers, z, batch, bn, threads, verbose, seed0;
    float lr;
    const char *decay; /* NULL: the spec default */
    float ema;         /* < 0: the spec default; 0 off */
};

struct result {
    struct gc_mode_stats st;
    int got;
};

static int on_eval(void *ctx, int64_t step, const struct gc_metric *m, int n, struct gc_error *err)
{
    (void)step, (void)err;
    struct result *r = ctx;
    for (int i = 0; i < n; i++) {
        if (strcmp(m[i].name, "modes_covered") == 0)
            r->st.modes_covered = (int)m[i].value;
        else if (strcmp(m[i].name, "high_quality") == 0)
            r->st.high_quality = m[i].value;
        else if (strcmp(m[i].name, "reverse_kl") == 0)
            r->st.reverse_kl = m[i].value;
    }
    r->got = 1;
    return 0;
}

static int run_one(const struct opts *o, enum gc_dataset_kind set, const char *variant,
                   uint64_t seed, struct gc_mode_stats *out)
{
    struct gc_spec s;
    gc_spec_defaults(&s, set, GC_LOSS_NONSATURATING);
    if (strcmp(variant, "unrolled") == 0)
        s.tricks.unrolled_steps = 5;
    else if (strcmp(variant, "madgan") == 0)
        s.tricks.generators = 4;
    if (o->steps > 0)
        s.train.steps = o->steps;
    if (o->hidden > 0)
        s.model.hidden = o->hidden;
    if (o->layers > 0)
        s.model.layers = o->layers;
    if (o->z > 0)
        s.model.z_dim = o->z;
    if (o->batch > 0)
        s.train.batch_size = o->batch;
    if (o->bn >= 0)
        s.model.batch_norm = o->bn;
    if (o->lr > 0) {
        s.opt_g.lr = o->lr;
        s.opt_d.lr = o->lr;
    }
    if (o->decay && strcmp(o->decay, "none") == 0) {
        s.train.lr_decay.on = 0;
    } else if (o->decay) {
        char shape[16] = "linear";
        s.train.lr_decay.on = 1;
        if (sscanf(o->decay, "%f:%f:%15s", &s.train.lr_decay.start, &s.train.lr_decay.factor,
                   shape) < 2 ||
            gc_decay_shape_from_name(shape) < 0) {
            fprintf(stderr, "quality: --decay wants START:FACTOR[:linear|step]\n");
            return -1;
        }
        s.train.lr_decay.shape = (enum gc_decay_shape)gc_decay_shape_from_name(shape);
    }
    if (o->ema >= 0)
        s.tricks.ema = o->ema;
    s.train.seed = seed;
    s.every = (struct gc_every_spec){0, 0, 0, s.train.steps};
    struct gc_error err = {0};
    struct gc_field_errors fe;
    if (gc_spec_check(&s, &fe)) {
        gc_field_errors_summary(&fe, &err);
        fprintf(stderr, "quality: %s\n", err.msg);
        return -1;
    }
    struct gc_trainer_opts to = {.threads = o->threads, .cache_dir = NULL, .load_data = 1};
    struct gc_trainer *t = gc_trainer_create(&s, &to, &err);
    if (!t) {
        fprintf(stderr, "quality: %s\n", err.msg);
        return -1;
    }
    struct result r = {0};
    struct gc_train_hooks h = {.ctx = &r, .eval = on_eval};
    int rc = gc_trainer_run(t, &h, &err);
    gc_trainer_destroy(t);
    if (rc || !r.got) {
        fprintf(stderr, "quality: %s %s seed %llu: %s\n", gc_dataset_name(set), variant,
                (unsigned long long)seed, err.msg);
        return -1;
    }
    *out = r.st;
    return 0;
}

static const char *published(enum gc_dataset_kind set, const char *variant)
{
    int ring = set == GC_DATA_RING8;
    if (strcmp(variant, "gan") == 0)
        return ring ? "6.3 / 98.2% (PacGAN T1)" : "17.3 / 94.8% (PacGAN T1)";
    if (strcmp(variant, "unrolled") == 0)
        return ring ? "7.6 (VEEGAN T1)" : "23.6 (VEEGAN T1)";
    return "-";
}

static int has(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; (p = strstr(p, word)); p += n)
        if ((p == list || p[-1] == ',') && (p[n] == 0 || p[n] == ','))
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    gc_blas_init();
    struct opts o = {.seeds = 5,
                     .sets = "ring8,grid25",
                     .variants = "gan,unrolled,madgan",
                     .bn = -1,
                     .ema = -1,
                     .threads = 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--verbose") == 0) {
            o.verbose = 1;
            continue;
        }
        if (!v) {
            fprintf(stderr, "quality: %s needs a value\n", a);
            return 2;
        }
        i++;
        if (strcmp(a, "--seeds") == 0)
            o.seeds = atoi(v);
        else if (strcmp(a, "--sets") == 0)
            o.sets = v;
        else if (strcmp(a, "--variants") == 0)
            o.variants = v;
        else if (strcmp(a, "--steps") == 0)
            o.steps = atol(v);
        else if (strcmp(a, "--hidden") == 0)
            o.hidden = atoi(v);
        else if (strcmp(a, "--layers") == 0)
            o.layers = atoi(v);
        else if (strcmp(a, "--z") == 0)
            o.z = atoi(v);
        else if (strcmp(a, "--batch") == 0)
            o.batch = atoi(v);
        else if (strcmp(a, "--bn") == 0)
            o.bn = atoi(v);
        else if (strcmp(a, "--lr") == 0)
            o.lr = (float)atof(v);
        else if (strcmp(a, "--decay") == 0)
            o.decay = v;
        else if (strcmp(a, "--ema") == 0)
            o.ema = (float)atof(v);
        else if (strcmp(a, "--seed0") == 0)
            o.seed0 = atoi(v);
        else if (strcmp(a, "--threads") == 0)
            o.threads = atoi(v);
        else {
            fprintf(stderr, "quality: unknown option %s\n", a);
            return 2;
        }
    }
    if (o.seeds < 1 || o.seeds > 100) {
        fprintf(stderr, "quality: --seeds must be 1 to 100\n");
        return 2;
    }
    static const char *const variants[] = {"gan", "unrolled", "madgan"};
    static const char *const vnames[] = {"GAN (nonsaturating)", "unrolled GAN (5)",
                                         "MAD-GAN (K=4)"};
    enum gc_dataset_kind sets[] = {GC_DATA_RING8, GC_DATA_GRID25};
    printf("%-8s %-20s %-16s %-16s %-24s %s\n", "dataset", "variant", "modes", "high quality",
           "published (modes / HQ)", "s/run");
    int status = 0;
    for (int si = 0; si < 2; si++) {
        if (!has(o.sets, gc_dataset_name(sets[si])))
            continue;
        for (int vi = 0; vi < 3; vi++) {
            if (!has(o.variants, variants[vi]))
                continue;
            double modes[100], hq[100];
            struct timespec t0, t1;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            int n = 0;
            for (int k = 0; k < o.seeds; k++) {
                struct gc_mode_stats st;
                if (run_one(&o, sets[si], variants[vi], (uint64_t)(k + 1 + o.seed0), &st)) {
                    status = 1;
                    continue;
                }
                if (o.verbose)
                    fprintf(stderr, "  %s %s seed %d: %d modes, hq %.3f, rkl %.3f\n",
                            gc_dataset_name(sets[si]), variants[vi], k + 1 + o.seed0,
                            st.modes_covered, st.high_quality, st.reverse_kl);
                modes[n] = st.modes_covered;
                hq[n] = 100.0 * st.high_quality;
                n++;
            }
            clock_gettime(CLOCK_MONOTONIC, &t1);
            if (!n)
                continue;
            double mm, ms, hm, hs;
            bench_mean_std(modes, n, &mm, &ms);
            bench_mean_std(hq, n, &hm, &hs);
            char a[32], b[32];
            snprintf(a, sizeof a, "%.1f +/- %.1f", mm, ms);
            snprintf(b, sizeof b, "%.1f%% +/- %.1f", hm, hs);
            double secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
            printf("%-8s %-20s %-16s %-16s %-24s %.1f\n", gc_dataset_name(sets[si]), vnames[vi], a,
                   b, published(sets[si], variants[vi]), secs / n);
            fflush(stdout);
        }
    }
    return status;
}
