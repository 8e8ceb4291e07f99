/* conditional.c — conditional Fashion-MNIST: the two ways D receives the class
 * (model.conditioning projection and concat) trained at equal steps over several
 * seeds, evaluated as a run evaluates (class_accuracy, fid, class_coverage on the
 * test split through the evaluation classifier, cached under --cache). Prints mean
 * +/- std of each figure and the seconds per run, and writes the final sample grid of
 * each conditioning's first seed (one row per class) to --grid-prefix when given.
 *
 *   conditional [--seeds N] [--seed0 N] [--steps N] [--conditioning projection,concat]
 *               [--width N] [--batch N] [--loss NAME] [--threads N] [--cache DIR]
 *               [--grid-prefix PATH] [--every N] [--verbose]
 *
 * Without options: 5 seeds, 5,000 steps, both conditionings, the spec defaults of
 * fashion-mnist (DCGAN of width 64, batch 64, Adam 2e-4) with model.conditional on.
 * --every N also evaluates every N steps and prints the curve of each run. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "bench/stats.h"
#include "core/blas.h"
#include "core/gan.h"

struct opts {
    int seeds, seed0, width, batch, threads, verbose;
    long steps, every;
    const char *conditionings, *cache, *grid_prefix, *loss;
};

struct result {
    double acc, fid, cov;
    int got;
    const char *grid; /* where the last sample grid goes, or NULL */
    int verbose;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int on_eval(void *ctx, int64_t step, const struct gc_metric *m, int n, struct gc_error *err)
{
    (void)err;
    struct result *r = ctx;
    for (int i = 0; i < n; i++) {
        if (strcmp(m[i].name, "class_accuracy") == 0)
            r->acc = m[i].value;
        else if (strcmp(m[i].name, "fid") == 0)
            r->fid = m[i].value;
        else if (strcmp(m[i].name, "class_coverage") == 0)
            r->cov = m[i].value;
    }
    r->got = 1;
    if (r->verbose)
        fprintf(stderr, "  step %6lld  class_accuracy %.3f  fid %7.2f  classes %.0f\n",
                (long long)step, r->acc, r->fid, r->cov);
    return 0;
}

static int on_sample(void *ctx, int64_t step, const uint8_t *png, size_t len, struct gc_error *err)
{
    (void)step, (void)err;
    struct result *r = ctx;
    if (!r->grid)
        return 0;
    FILE *f = fopen(r->grid, "wb");
    if (!f || fwrite(png, 1, len, f) != len) {
        if (f)
            fclose(f);
        return gc_error_set(err, GC_EIO, "cannot write %s", r->grid);
    }
    fclose(f);
    return 0;
}

static void on_log(void *ctx, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "  %s\n", msg);
}

static int run_one(const struct opts *o, enum gc_conditioning cond, uint64_t seed, const char *grid,
                   struct result *r, double *secs)
{
    struct gc_spec s;
    int loss = gc_loss_from_name(o->loss);
    gc_spec_defaults(&s, GC_DATA_FASHION_MNIST, loss < 0 ? GC_LOSS_NONSATURATING : loss);
    s.model.conditional = 1;
    s.model.conditioning = cond;
    s.train.steps = o->steps;
    s.train.seed = seed;
    if (o->width > 0)
        s.model.g_width = s.model.d_width = o->width;
    if (o->batch > 0)
        s.train.batch_size = o->batch;
    s.every = (struct gc_every_spec){0, grid ? o->steps : 0, 0, o->every > 0 ? o->every : o->steps};
    struct gc_field_errors fe;
    struct gc_error err = {0};
    if (gc_spec_check(&s, &fe)) {
        fprintf(stderr, "spec: %s: %s\n", fe.e[0].field, fe.e[0].message);
        return 1;
    }
    struct gc_trainer_opts to = {.threads = o->threads, .cache_dir = o->cache, .load_data = 1};
    struct gc_trainer *t = gc_trainer_create(&s, &to, &err);
    if (!t) {
        fprintf(stderr, "create: %s\n", err.msg);
        return 1;
    }
    memset(r, 0, sizeof *r);
    r->grid = grid;
    r->verbose = o->verbose;
    struct gc_train_hooks h = {.ctx = r, .eval = on_eval, .sample = on_sample, .log = on_log};
    double t0 = now_s();
    int rc = gc_trainer_run(t, &h, &err);
    *secs = now_s() - t0;
    gc_trainer_destroy(t);
    if (rc || !r->got) {
        fprintf(stderr, "run: %s\n", rc ? err.msg : "no evaluation");
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o = {.seeds = 5,
                     .steps = 5000,
                     .threads = 1,
                     .conditionings = "projection,concat",
                     .cache = "var/cache",
                     .loss = "nonsaturating"};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--verbose")) {
            o.verbose = 1;
            continue;
        }
        if (!v) {
            fprintf(stderr, "usage: see bench/conditional.c\n");
            return 2;
        }
        i++;
        if (!strcmp(a, "--seeds"))
            o.seeds = atoi(v);
        else if (!strcmp(a, "--seed0"))
            o.seed0 = atoi(v);
        else if (!strcmp(a, "--steps"))
            o.steps = atol(v);
        else if (!strcmp(a, "--every"))
            o.every = atol(v);
        else if (!strcmp(a, "--conditioning"))
            o.conditionings = v;
        else if (!strcmp(a, "--width"))
            o.width = atoi(v);
        else if (!strcmp(a, "--batch"))
            o.batch = atoi(v);
        else if (!strcmp(a, "--loss"))
            o.loss = v;
        else if (!strcmp(a, "--threads"))
            o.threads = atoi(v);
        else if (!strcmp(a, "--cache"))
            o.cache = v;
        else if (!strcmp(a, "--grid-prefix"))
            o.grid_prefix = v;
        else {
            fprintf(stderr, "unknown option %s\n", a);
            return 2;
        }
    }
    gc_blas_init();
    mkdir(o.cache, 0755);
    printf("conditional fashion-mnist, %ld steps, %d seeds, loss %s, width %d, batch %d\n", o.steps,
           o.seeds, o.loss, o.width, o.batch);
    printf("%-12s %-18s %-18s %-14s %s\n", "conditioning", "class_accuracy", "fid",
           "class_coverage", "seconds");
    char list[64];
    snprintf(list, sizeof list, "%s", o.conditionings);
    for (char *save = NULL, *c = strtok_r(list, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
        int cond = gc_conditioning_from_name(c);
        if (cond < 0) {
            fprintf(stderr, "unknown conditioning %s\n", c);
            return 2;
        }
        double acc[64], fid[64], cov[64], secs[64];
        int n = 0;
        for (int k = 0; k < o.seeds && k < 64; k++) {
            uint64_t seed = (uint64_t)(o.seed0 + k + 1);
            char grid[512];
            const char *g = NULL;
            if (o.grid_prefix && k == 0) {
                snprintf(grid, sizeof grid, "%s-%s.png", o.grid_prefix, c);
                g = grid;
            }
            struct result r;
            if (o.verbose)
                fprintf(stderr, "%s seed %llu\n", c, (unsigned long long)seed);
            if (run_one(&o, (enum gc_conditioning)cond, seed, g, &r, &secs[n]))
                return 1;
            acc[n] = r.acc;
            fid[n] = r.fid;
            cov[n] = r.cov;
            fprintf(stderr, "%s seed %llu: class_accuracy %.3f fid %.2f classes %.0f (%.0f s)\n", c,
                    (unsigned long long)seed, r.acc, r.fid, r.cov, secs[n]);
            n++;
        }
        double am, as, fm, fs, cm, cs, sm, ss;
        bench_mean_std(acc, n, &am, &as);
        bench_mean_std(fid, n, &fm, &fs);
        bench_mean_std(cov, n, &cm, &cs);
        bench_mean_std(secs, n, &sm, &ss);
        printf("%-12s %5.1f%% +/- %-8.1f %6.2f +/- %-7.2f %4.1f +/- %-5.1f %.0f +/- %.0f\n", c,
               100 * am, 100 * as, fm, fs, cm, cs, sm, ss);
        fflush(stdout);
    }
    return 0;
}
