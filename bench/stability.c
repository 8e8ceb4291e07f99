/* stability.c — the stability toolkit's table on Fashion-MNIST: each recipe trained
 * for the same number of steps on several seeds, evaluated on the test split with the
 * evaluation classifier (FID, KID, precision, recall) at evenly spaced steps, and for
 * the Wasserstein critics the estimate of the distance over the run.
 *
 *   stability [--variants LIST] [--seeds N] [--seed0 N] [--steps N] [--width N]
 *             [--subset N] [--evals N] [--threads N] [--cache DIR]
 *
 * Variants (default all): wgan-clip (loss wasserstein with its WGAN defaults: RMSprop
 * 5e-5, 5 critic steps, clipping at 0.01), wgan-gp (the preset), dcgan and sngan (the
 * presets), sn-dcgan (the dcgan preset with spectral norm in place of D's batch norm:
 * SNGAN's normalization at DCGAN's loss and rates), small and small-da (the dcgan
 * preset on --subset images, without and with DiffAugment color,translation,cutout). Every run: the
 * DCGAN architecture at widths
 * --width (default 32), batch 64, --steps (default 2000) steps, seeds seed0+1 ..
 * seed0+seeds. --evals N evaluations spread over the run (default 4).
 *
 * Prints a line per run ("run VARIANT SEED fid@STEP ... kid ... w=Q1/Q2/Q3/Q4 secs")
 * and a table of mean +/- std over the seeds per variant: the final FID, KID,
 * precision and recall, FID at the first evaluation, and for the Wasserstein losses
 * the mean estimate over each quarter of the run. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/augment.h"
#include "bench/stats.h"
#include "core/blas.h"
#include "core/gan.h"

#define MAX_EVALS 16
#define MAX_SEEDS 32

struct opts {
    const char *variants, *cache;
    int seeds, seed0, width, subset, evals, threads;
    long steps;
};

struct result {
    int nevals;
    int64_t step[MAX_EVALS];
    double fid[MAX_EVALS], kid, kid_std, precision, recall, density, coverage;
    double wsum[4];
    int wn[4];
    long steps;
};

static int on_eval(void *ctx, int64_t step, const struct gc_metric *m, int n, struct gc_error *err)
{
    (void)err;
    struct result *r = ctx;
    if (r->nevals >= MAX_EVALS)
        return 0;
    int k = r->nevals++;
    r->step[k] = step;
    for (int i = 0; i < n; i++) {
        double v = m[i].value;
        if (!strcmp(m[i].name, "fid"))
            r->fid[k] = v;
        else if (!strcmp(m[i].name, "kid"))
            r->kid = v;
        else if (!strcmp(m[i].name, "kid_std"))
            r->kid_std = v;
        else if (!strcmp(m[i].name, "precision"))
            r->precision = v;
        else if (!strcmp(m[i].name, "recall"))
            r->recall = v;
        else if (!strcmp(m[i].name, "density"))
            r->density = v;
        else if (!strcmp(m[i].name, "coverage"))
            r->coverage = v;
    }
    return 0;
}

static int on_metrics(void *ctx, int64_t step, const struct gc_metric *m, int n,
                      struct gc_error *err)
{
    (void)err;
    struct result *r = ctx;
    int q = (int)((step - 1) * 4 / r->steps);
    for (int i = 0; i < n; i++)
        if (!strcmp(m[i].name, "wasserstein") && q >= 0 && q < 4) {
            r->wsum[q] += m[i].value;
            r->wn[q]++;
        }
    return 0;
}

static int make_spec(const struct opts *o, const char *variant, uint64_t seed, struct gc_spec *s)
{
    int preset = GC_PRESET_NONE, loss = -1;
    if (!strcmp(variant, "wgan-clip"))
        loss = GC_LOSS_WASSERSTEIN;
    else if (!strcmp(variant, "wgan-gp"))
        preset = GC_PRESET_WGAN_GP;
    else if (!strcmp(variant, "sngan"))
        preset = GC_PRESET_SNGAN;
    else if (!strcmp(variant, "dcgan") || !strcmp(variant, "sn-dcgan") ||
             !strcmp(variant, "small") || !strcmp(variant, "small-da"))
        preset = GC_PRESET_DCGAN;
    else
        return -1;
    gc_spec_defaults_for(s, GC_DATA_FASHION_MNIST, loss, preset);
    s->model.g_width = s->model.d_width = o->width;
    s->train.steps = o->steps;
    s->train.seed = seed;
    if (!strncmp(variant, "small", 5))
        s->dataset.subset = o->subset;
    if (!strcmp(variant, "small-da"))
        s->tricks.diffaugment = GC_AUG_ALL;
    if (!strcmp(variant, "sn-dcgan")) {
        s->model.spectral_norm = 1;
        s->model.d_batch_norm = 0;
    }
    s->every = (struct gc_every_spec){o->steps / 100 > 0 ? o->steps / 100 : 1, 0, 0,
                                      o->steps / o->evals > 0 ? o->steps / o->evals : 1};
    return 0;
}

static int run_one(const struct opts *o, const char *variant, uint64_t seed, struct result *r)
{
    struct gc_spec s;
    if (make_spec(o, variant, seed, &s)) {
        fprintf(stderr, "stability: unknown variant %s\n", variant);
        return -1;
    }
    struct gc_error err = {0};
    struct gc_field_errors fe;
    if (gc_spec_check(&s, &fe)) {
        gc_field_errors_summary(&fe, &err);
        fprintf(stderr, "stability: %s: %s\n", variant, err.msg);
        return -1;
    }
    struct gc_trainer_opts to = {.threads = o->threads, .cache_dir = o->cache, .load_data = 1};
    struct gc_trainer *t = gc_trainer_create(&s, &to, &err);
    if (!t) {
        fprintf(stderr, "stability: %s: %s\n", variant, err.msg);
        return -1;
    }
    memset(r, 0, sizeof *r);
    r->steps = o->steps;
    struct gc_train_hooks h = {.ctx = r, .eval = on_eval, .metrics = on_metrics};
    int rc = gc_trainer_run(t, &h, &err);
    gc_trainer_destroy(t);
    if (rc || !r->nevals) {
        fprintf(stderr, "stability: %s seed %llu: %s\n", variant, (unsigned long long)seed,
                err.msg);
        return -1;
    }
    return 0;
}

static const char *pm(char *buf, size_t len, const double *x, int n, const char *fmt)
{
    double m, sd;
    bench_mean_std(x, n, &m, &sd);
    char f[32];
    snprintf(f, sizeof f, "%s +/- %s", fmt, fmt);
    snprintf(buf, len, f, m, sd);
    return buf;
}

int main(int argc, char **argv)
{
    gc_blas_init();
    struct opts o = {.variants = "wgan-clip,wgan-gp,dcgan,sngan,sn-dcgan,small,small-da",
                     .cache = "build/bench-cache",
                     .seeds = 5,
                     .width = 32,
                     .subset = 1000,
                     .evals = 4,
                     .threads = 1,
                     .steps = 2000};
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (!strcmp(a, "--variants"))
            o.variants = v;
        else if (!strcmp(a, "--cache"))
            o.cache = v;
        else if (!strcmp(a, "--seeds"))
            o.seeds = atoi(v);
        else if (!strcmp(a, "--seed0"))
            o.seed0 = atoi(v);
        else if (!strcmp(a, "--steps"))
            o.steps = atol(v);
        else if (!strcmp(a, "--width"))
            o.width = atoi(v);
        else if (!strcmp(a, "--subset"))
            o.subset = atoi(v);
        else if (!strcmp(a, "--evals"))
            o.evals = atoi(v);
        else if (!strcmp(a, "--threads"))
            o.threads = atoi(v);
        else {
            fprintf(stderr, "stability: unknown option %s\n", a);
            return 2;
        }
    }
    if (argc % 2 == 0 || o.seeds < 1 || o.seeds > MAX_SEEDS || o.evals < 1 || o.evals > MAX_EVALS ||
        o.steps < o.evals) {
        fprintf(stderr, "stability: usage: see bench/stability.c\n");
        return 2;
    }
    static const char *const all[] = {"wgan-clip", "wgan-gp", "dcgan",   "sngan",
                                      "sn-dcgan",  "small",   "small-da"};
    printf("%-10s %-18s %-18s %-18s %-14s %-14s %-18s %-28s %s\n", "variant", "FID (end)",
           "FID (first eval)", "KID", "precision", "recall", "density / coverage",
           "W estimate by quarter", "s/run");
    int status = 0;
    for (size_t vi = 0; vi < sizeof all / sizeof all[0]; vi++) {
        const char *v = all[vi];
        if (!bench_has(o.variants, v))
            continue;
        double fid[MAX_SEEDS], fid0[MAX_SEEDS], kid[MAX_SEEDS], pr[MAX_SEEDS], rc[MAX_SEEDS];
        double den[MAX_SEEDS], cov[MAX_SEEDS], wq[4][MAX_SEEDS], secs = 0.0;
        int n = 0, wants_w = !strncmp(v, "wgan", 4);
        for (int k = 0; k < o.seeds; k++) {
            struct result r;
            struct timespec t0, t1;
            uint64_t seed = (uint64_t)(k + 1 + o.seed0);
            clock_gettime(CLOCK_MONOTONIC, &t0);
            if (run_one(&o, v, seed, &r)) {
                status = 1;
                continue;
            }
            clock_gettime(CLOCK_MONOTONIC, &t1);
            double s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
            secs += s;
            printf("run %s %llu", v, (unsigned long long)seed);
            for (int e = 0; e < r.nevals; e++)
                printf(" fid@%lld=%.2f", (long long)r.step[e], r.fid[e]);
            printf(" kid=%.3f+/-%.3f precision=%.4f recall=%.4f density=%.4f coverage=%.4f", r.kid,
                   r.kid_std, r.precision, r.recall, r.density, r.coverage);
            for (int q = 0; q < 4 && wants_w; q++) {
                wq[q][n] = r.wn[q] ? r.wsum[q] / r.wn[q] : NAN;
                printf("%s%.4g", q ? "/" : " w=", wq[q][n]);
            }
            printf(" %.0fs\n", s);
            fflush(stdout);
            fid[n] = r.fid[r.nevals - 1];
            fid0[n] = r.fid[0];
            kid[n] = r.kid;
            pr[n] = r.precision;
            rc[n] = r.recall;
            den[n] = r.density;
            cov[n] = r.coverage;
            n++;
        }
        if (!n)
            continue;
        char a[40], b[40], c[40], d[40], e[40], f[40], w[80] = "-";
        if (wants_w) {
            w[0] = 0;
            for (int q = 0; q < 4; q++) {
                double m, sd;
                bench_mean_std(wq[q], n, &m, &sd);
                snprintf(w + strlen(w), sizeof w - strlen(w), "%s%.3g", q ? " / " : "", m);
            }
        }
        double dm, dsd, cm, csd;
        bench_mean_std(den, n, &dm, &dsd);
        bench_mean_std(cov, n, &cm, &csd);
        snprintf(f, sizeof f, "%.2f / %.2f", dm, cm);
        printf("%-10s %-18s %-18s %-18s %-14s %-14s %-18s %-28s %.0f\n", v,
               pm(a, sizeof a, fid, n, "%.1f"), pm(b, sizeof b, fid0, n, "%.1f"),
               pm(c, sizeof c, kid, n, "%.2f"), pm(d, sizeof d, pr, n, "%.2f"),
               pm(e, sizeof e, rc, n, "%.2f"), f, w, secs / n);
        fflush(stdout);
    }
    return status;
}
