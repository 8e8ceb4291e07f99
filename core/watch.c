/* watch.c — the collapse watchdog's detectors (see watch.h). */
#include "core/watch.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/metrics.h"

/* The watched figures, most telling first (the score is the first one present). */
static const enum gc_metric_id watched[GC_WATCH_FIGURES] = {
    GC_M_MODES_COVERED, GC_M_FID, GC_M_CLASS_COVERAGE, GC_M_SWD, GC_M_DIVERSITY,
};

void gc_watch_init(struct gc_watch *w)
{
    memset(w, 0, sizeof *w);
    for (int k = 0; k < GC_WATCH_KINDS; k++)
        w->armed[k] = 1;
    w->lr_mult = 1.0f;
}

const char *gc_watch_kind_name(enum gc_watch_kind k)
{
    switch (k) {
    case GC_WATCH_DIVERGENCE:
        return "divergence";
    case GC_WATCH_D_WINNING:
        return "d_winning";
    case GC_WATCH_MODE_COLLAPSE:
        return "mode_collapse";
    default:
        return "?";
    }
}

/* Fires kind when armed: disarms it and fills *a. */
static int fire(struct gc_watch *w, enum gc_watch_kind kind, struct gc_watch_alert *a,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fire(struct gc_watch *w, enum gc_watch_kind kind, struct gc_watch_alert *a,
                const char *fmt, ...)
{
    w->clear[kind] = 0;
    if (!w->armed[kind])
        return 0;
    w->armed[kind] = 0;
    a->kind = kind;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->message, sizeof a->message, fmt, ap);
    va_end(ap);
    return 1;
}

/* A step on which kind's conditions were clear: armed again after a window of them. */
static void clear(struct gc_watch *w, const struct gc_spec *s, enum gc_watch_kind kind)
{
    if (++w->clear[kind] >= s->watch.window)
        w->armed[kind] = 1;
}

static int divergence(struct gc_watch *w, const struct gc_spec *s, int64_t step,
                      const struct gc_watch_step *f, struct gc_watch_alert *a)
{
    const struct gc_watch_spec *ws = &s->watch;
    const char *names[4] = {"loss_d", "loss_g", "grad_norm_d", "grad_norm_g"};
    double v[4] = {f->loss_d, f->loss_g, f->gn_d, f->gn_g};
    for (int i = 0; i < 4; i++)
        if (!isfinite(v[i]))
            return fire(w, GC_WATCH_DIVERGENCE, a, "%s is %s at step %lld", names[i],
                        isnan(v[i]) ? "NaN" : "Inf", (long long)step);
    for (int i = 0; i < 2; i++)
        if (fabs(v[i]) > ws->loss_max)
            return fire(w, GC_WATCH_DIVERGENCE, a,
                        "%s %.4g at step %lld is past watch.loss_max %g: the loss runs away",
                        names[i], v[i], (long long)step, (double)ws->loss_max);
    if (w->level_n < ws->window) {
        w->level_gd += f->gn_d;
        w->level_gg += f->gn_g;
        if (++w->level_n == ws->window) {
            w->level_gd /= (double)ws->window;
            w->level_gg /= (double)ws->window;
        }
    } else {
        double level[2] = {w->level_gd, w->level_gg};
        for (int i = 0; i < 2; i++)
            if (level[i] > 0 && v[2 + i] > ws->grad_factor * level[i])
                return fire(w, GC_WATCH_DIVERGENCE, a,
                            "%s %.4g at step %lld is %.0fx its level over the first %lld steps "
                            "(%.4g): the gradients explode",
                            names[2 + i], v[2 + i], (long long)step, v[2 + i] / level[i],
                            (long long)ws->window, level[i]);
    }
    clear(w, s, GC_WATCH_DIVERGENCE);
    return 0;
}

static int d_winning(struct gc_watch *w, const struct gc_spec *s, int64_t step,
                     const struct gc_watch_step *f, struct gc_watch_alert *a)
{
    const struct gc_watch_spec *ws = &s->watch;
    int probs = s->loss == GC_LOSS_MINIMAX || s->loss == GC_LOSS_NONSATURATING;
    double m = ws->d_margin;
    if (probs && f->d_real > 1.0 - m && f->d_fake < m)
        w->dwin++;
    else
        w->dwin = 0;
    int level = w->level_n == ws->window && w->level_gg > 0;
    if (level && f->gn_g < ws->vanish_factor * w->level_gg)
        w->vanish++;
    else
        w->vanish = 0;
    if (w->dwin >= ws->window)
        return fire(w, GC_WATCH_D_WINNING, a,
                    "D(x) %.3f and D(G(z)) %.3f for %lld steps to step %lld (watch.d_margin %g): "
                    "D tells every sample apart",
                    f->d_real, f->d_fake, (long long)w->dwin, (long long)step, m);
    if (w->vanish >= ws->window)
        return fire(w, GC_WATCH_D_WINNING, a,
                    "grad_norm_g %.3g for %lld steps to step %lld, %.2gx its level (%.3g): G's "
                    "gradient vanishes",
                    f->gn_g, (long long)w->vanish, (long long)step, f->gn_g / w->level_gg,
                    w->level_gg);
    if (w->dwin == 0 && w->vanish == 0)
        clear(w, s, GC_WATCH_D_WINNING);
    return 0;
}

int gc_watch_on_step(struct gc_watch *w, const struct gc_spec *s, int64_t step,
                     const struct gc_watch_step *f, struct gc_watch_alert *a)
{
    if (s->watch.action == GC_WATCH_OFF)
        return 0;
    /* both always run, so their counts and levels follow every step */
    int fired = divergence(w, s, step, f, a);
    struct gc_watch_alert b;
    if (d_winning(w, s, step, f, &b) && !fired) {
        *a = b;
        fired = 1;
    }
    return fired;
}

int gc_watch_on_eval(struct gc_watch *w, const struct gc_spec *s, int64_t step,
                     const char *const *names, const double *values, int n,
                     struct gc_watch_alert *a)
{
    const struct gc_watch_spec *ws = &s->watch;
    if (ws->action == GC_WATCH_OFF)
        return 0;
    int fired = 0, any_worse = 0;
    for (int i = 0; i < GC_WATCH_FIGURES; i++) {
        const struct gc_metric_info *info = gc_metric_info(watched[i]);
        int j = 0;
        while (j < n && strcmp(names[j], info->name) != 0)
            j++;
        if (j == n || !isfinite(values[j]))
            continue;
        double v = values[j];
        w->last[i] = v;
        /* the evaluation rule starts after the warmup: early figures swing widely */
        if (step < llround((double)ws->warmup * (double)s->train.steps))
            continue;
        if (!w->have[i]) {
            w->have[i] = 1;
            w->best[i] = v;
            continue;
        }
        int max = info->goal == GC_GOAL_MAX;
        double wr = ws->eval_worsen;
        int worse = max ? v < w->best[i] * (1.0 - wr) : v > w->best[i] * (1.0 + wr);
        /* a count (modes, classes) must lose two: one mode more or less is noise */
        if (info->format == GC_FMT_COUNT && w->best[i] - v < 2.0)
            worse = 0;
        if (!worse) {
            w->worse[i] = 0;
            if (max ? v > w->best[i] : v < w->best[i])
                w->best[i] = v;
            continue;
        }
        any_worse = 1;
        if (++w->worse[i] >= ws->eval_patience && !fired)
            fired = fire(w, GC_WATCH_MODE_COLLAPSE, a,
                         "%s %.4g at step %lld, %s than its best %.4g for %d evaluations "
                         "(watch.eval_worsen %g)",
                         info->name, v, (long long)step, max ? "lower" : "higher", w->best[i],
                         w->worse[i], (double)wr);
    }
    if (!any_worse)
        w->armed[GC_WATCH_MODE_COLLAPSE] = 1;
    return fired;
}

void gc_watch_rearm(struct gc_watch *w)
{
    w->dwin = w->vanish = 0;
    for (int k = 0; k < GC_WATCH_KINDS; k++) {
        w->armed[k] = 1;
        w->clear[k] = 0;
    }
    for (int i = 0; i < GC_WATCH_FIGURES; i++)
        w->worse[i] = 0;
}

int gc_watch_calm(const struct gc_watch *w)
{
    if (w->dwin || w->vanish)
        return 0;
    for (int i = 0; i < GC_WATCH_FIGURES; i++)
        if (w->worse[i])
            return 0;
    for (int k = 0; k < GC_WATCH_KINDS; k++)
        if (!w->armed[k])
            return 0;
    return 1;
}

double gc_watch_score(const struct gc_watch *w, int *have)
{
    for (int i = 0; i < GC_WATCH_FIGURES; i++) {
        if (!w->have[i])
            continue;
        *have = 1;
        return gc_metric_info(watched[i])->goal == GC_GOAL_MAX ? w->last[i] : -w->last[i];
    }
    *have = 0;
    return 0.0;
}

/* ---- checkpoints: u32 fields in order, doubles as their bits ---- */

static void put_f64(struct gc_buf *b, double x)
{
    uint64_t u;
    memcpy(&u, &x, 8);
    gc_buf_put_u64(b, u);
}

static int get_f64(struct gc_reader *r, double *x, struct gc_error *err)
{
    uint64_t u;
    int rc = gc_reader_u64(r, &u, err);
    if (!rc)
        memcpy(x, &u, 8);
    return rc;
}

void gc_watch_save(const struct gc_watch *w, struct gc_buf *b)
{
    gc_buf_put_u64(b, (uint64_t)w->level_n);
    put_f64(b, w->level_gd);
    put_f64(b, w->level_gg);
    gc_buf_put_u64(b, (uint64_t)w->dwin);
    gc_buf_put_u64(b, (uint64_t)w->vanish);
    for (int k = 0; k < GC_WATCH_KINDS; k++) {
        gc_buf_put_u64(b, (uint64_t)w->clear[k]);
        gc_buf_put_u32(b, (uint32_t)w->armed[k]);
    }
    for (int i = 0; i < GC_WATCH_FIGURES; i++) {
        put_f64(b, w->best[i]);
        put_f64(b, w->last[i]);
        gc_buf_put_u32(b, (uint32_t)w->have[i]);
        gc_buf_put_u32(b, (uint32_t)w->worse[i]);
    }
    gc_buf_put_u32(b, (uint32_t)w->rollbacks);
    gc_buf_put_f32s(b, &w->lr_mult, 1);
}

int gc_watch_load(struct gc_watch *w, struct gc_reader *r, struct gc_error *err)
{
    struct gc_watch x;
    gc_watch_init(&x);
    uint64_t u;
    uint32_t v;
    int rc = 0;
#define U64(dst)                                                                                   \
    do {                                                                                           \
        if (!rc && !(rc = gc_reader_u64(r, &u, err)))                                              \
            dst = (int64_t)u;                                                                      \
    } while (0)
#define U32(dst)                                                                                   \
    do {                                                                                           \
        if (!rc && !(rc = gc_reader_u32(r, &v, err)))                                              \
            dst = (int)v;                                                                          \
    } while (0)
    U64(x.level_n);
    if (!rc)
        rc = get_f64(r, &x.level_gd, err);
    if (!rc)
        rc = get_f64(r, &x.level_gg, err);
    U64(x.dwin);
    U64(x.vanish);
    for (int k = 0; k < GC_WATCH_KINDS; k++) {
        U64(x.clear[k]);
        U32(x.armed[k]);
    }
    for (int i = 0; i < GC_WATCH_FIGURES; i++) {
        if (!rc)
            rc = get_f64(r, &x.best[i], err);
        if (!rc)
            rc = get_f64(r, &x.last[i], err);
        U32(x.have[i]);
        U32(x.worse[i]);
    }
    U32(x.rollbacks);
    if (!rc)
        rc = gc_reader_f32s(r, &x.lr_mult, 1, err);
#undef U64
#undef U32
    if (rc)
        return gc_error_prefix(err, "checkpoint: watch");
    if (!(x.lr_mult > 0.0f && x.lr_mult <= 1.0f) || x.rollbacks < 0 || x.level_n < 0)
        return gc_error_set(err, GC_ECORRUPT, "checkpoint: watch: bad state");
    *w = x;
    return 0;
}
