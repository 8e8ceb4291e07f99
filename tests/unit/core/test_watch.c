/* test_watch.c — the collapse watchdog's detectors (core/watch.h) on figures made up to
 * sit just inside and just past each threshold: a detector fires where its rule says,
 * not a step before, once, and again only after a calm window; the evaluation rule
 * waits for the warmup and its patience; the state survives a checkpoint. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "core/serial.h"
#include "core/watch.h"

static struct gc_spec spec_of(enum gc_loss loss)
{
    struct gc_spec s;
    gc_spec_defaults(&s, GC_DATA_RING8, loss);
    s.train.steps = 10000;
    s.watch.window = 10;
    return s;
}

static const struct gc_watch_step calm = {1.38, 0.70, 0.5, 0.49, 2.0, 1.0};

/* Feeds steps [from, to) of f; the step of the first firing (its alert in *a), or -1. */
static int64_t feed(struct gc_watch *w, const struct gc_spec *s, int64_t from, int64_t to,
                    struct gc_watch_step f, struct gc_watch_alert *a)
{
    for (int64_t t = from; t < to; t++)
        if (gc_watch_on_step(w, s, t, &f, a))
            return t;
    return -1;
}

static void calm_figures_fire_nothing(void **state)
{
    (void)state;
    struct gc_spec s = spec_of(GC_LOSS_NONSATURATING);
    struct gc_watch w;
    struct gc_watch_alert a;
    gc_watch_init(&w);
    assert_int_equal(feed(&w, &s, 1, 2000, calm, &a), -1);
    assert_true(gc_watch_calm(&w));
    /* off watches nothing, NaN included */
    s.watch.action = GC_WATCH_OFF;
    struct gc_watch_step nan = calm;
    nan.loss_d = NAN;
    assert_int_equal(feed(&w, &s, 1, 5, nan, &a), -1);
}

static void divergence_nan_loss_and_gradients(void **state)
{
    (void)state;
    struct gc_spec s = spec_of(GC_LOSS_NONSATURATING);
    struct gc_watch w;
    struct gc_watch_alert a;
    gc_watch_init(&w);
    struct gc_watch_step f = calm;
    f.gn_g = INFINITY;
    assert_int_equal(feed(&w, &s, 1, 3, f, &a), 1);
    assert_int_equal(a.kind, GC_WATCH_DIVERGENCE);
    assert_non_null(strstr(a.message, "grad_norm_g is Inf at step 1"));

    /* |loss| at loss_max is fine, just past it is not */
    gc_watch_init(&w);
    f = calm;
    f.loss_g = -1000.0;
    assert_int_equal(feed(&w, &s, 1, 50, f, &a), -1);
    f.loss_g = -1000.5;
    assert_int_equal(feed(&w, &s, 50, 60, f, &a), 50);
    assert_non_null(strstr(a.message, "loss_g"));
    /* once: the same condition does not fire again until a window is calm */
    assert_int_equal(feed(&w, &s, 51, 100, f, &a), -1);
    assert_int_equal(feed(&w, &s, 100, 110, calm, &a), -1);
    assert_int_equal(feed(&w, &s, 110, 111, f, &a), 110);

    /* gradients: their level is the mean of the first window (2.0 for D); 1000x it is
     * still fine, more is not */
    gc_watch_init(&w);
    assert_int_equal(feed(&w, &s, 1, 11, calm, &a), -1);
    f = calm;
    f.gn_d = 2000.0;
    assert_int_equal(feed(&w, &s, 11, 20, f, &a), -1);
    f.gn_d = 2001.0;
    assert_int_equal(feed(&w, &s, 20, 30, f, &a), 20);
    assert_non_null(strstr(a.message, "grad_norm_d"));
    assert_non_null(strstr(a.message, "explode"));
}

static void d_winning_needs_a_window(void **state)
{
    (void)state;
    struct gc_spec s = spec_of(GC_LOSS_MINIMAX);
    struct gc_watch w;
    struct gc_watch_alert a;
    gc_watch_init(&w);
    struct gc_watch_step f = calm;
    f.d_real = 0.99;
    f.d_fake = 0.01;
    /* 9 steps in a row, a break, then 10 in a row: fires at the 10th */
    assert_int_equal(feed(&w, &s, 1, 10, f, &a), -1);
    assert_int_equal(feed(&w, &s, 10, 11, calm, &a), -1);
    assert_int_equal(feed(&w, &s, 11, 30, f, &a), 20);
    assert_int_equal(a.kind, GC_WATCH_D_WINNING);
    assert_false(gc_watch_calm(&w));
    /* on the margin: not winning */
    gc_watch_init(&w);
    f.d_real = 0.98;
    assert_int_equal(feed(&w, &s, 1, 100, f, &a), -1);
    /* a raw-score loss has no probabilities to read */
    struct gc_spec h = spec_of(GC_LOSS_HINGE);
    gc_watch_init(&w);
    f.d_real = 5.0;
    f.d_fake = -5.0;
    assert_int_equal(feed(&w, &h, 1, 100, f, &a), -1);
}

static void g_gradient_vanishing(void **state)
{
    (void)state;
    struct gc_spec s = spec_of(GC_LOSS_HINGE);
    struct gc_watch w;
    struct gc_watch_alert a;
    gc_watch_init(&w);
    assert_int_equal(feed(&w, &s, 1, 11, calm, &a), -1); /* level: 1.0 */
    struct gc_watch_step f = calm;
    f.gn_g = 1.1e-3; /* above the factor (1e-3) */
    assert_int_equal(feed(&w, &s, 11, 40, f, &a), -1);
    f.gn_g = 0.9e-3;
    assert_int_equal(feed(&w, &s, 40, 60, f, &a), 49);
    assert_int_equal(a.kind, GC_WATCH_D_WINNING);
    assert_non_null(strstr(a.message, "vanishes"));
}

static int eval(struct gc_watch *w, const struct gc_spec *s, int64_t step, const char *name,
                double v, struct gc_watch_alert *a)
{
    const char *names[2] = {"high_quality", name};
    double values[2] = {0.5, v};
    return gc_watch_on_eval(w, s, step, names, values, 2, a);
}

static void mode_collapse_after_warmup_with_patience(void **state)
{
    (void)state;
    struct gc_spec s = spec_of(GC_LOSS_NONSATURATING);
    struct gc_watch w;
    struct gc_watch_alert a;
    gc_watch_init(&w);
    /* warmup: 10% of 10,000 steps; a fall before it counts for nothing */
    assert_int_equal(eval(&w, &s, 500, "modes_covered", 8, &a), 0);
    assert_int_equal(eval(&w, &s, 900, "modes_covered", 0, &a), 0);
    assert_int_equal(eval(&w, &s, 950, "modes_covered", 0, &a), 0);
    /* best 20 from step 1000; 15 is 25% down and not worse; 14 is, twice to fire */
    assert_int_equal(eval(&w, &s, 1000, "modes_covered", 20, &a), 0);
    assert_int_equal(eval(&w, &s, 1100, "modes_covered", 15, &a), 0);
    assert_int_equal(eval(&w, &s, 1200, "modes_covered", 14, &a), 0);
    assert_int_equal(eval(&w, &s, 1300, "modes_covered", 16, &a), 0); /* back: patience again */
    assert_int_equal(eval(&w, &s, 1400, "modes_covered", 14, &a), 0);
    assert_int_equal(eval(&w, &s, 1500, "modes_covered", 3, &a), 1);
    assert_int_equal(a.kind, GC_WATCH_MODE_COLLAPSE);
    assert_non_null(strstr(a.message, "modes_covered 3 at step 1500"));
    assert_non_null(strstr(a.message, "best 20"));
    int have = 0;
    assert_true(gc_watch_score(&w, &have) == 3.0 && have);
    /* a count must lose two: 4 -> 3 is noise, 4 -> 2 is not */
    gc_watch_init(&w);
    eval(&w, &s, 1000, "modes_covered", 4, &a);
    assert_int_equal(eval(&w, &s, 1100, "modes_covered", 3, &a), 0);
    assert_int_equal(eval(&w, &s, 1200, "modes_covered", 3, &a), 0);
    assert_int_equal(eval(&w, &s, 1300, "modes_covered", 2, &a), 0);
    assert_int_equal(eval(&w, &s, 1400, "modes_covered", 2, &a), 1);
    /* a min figure rises: fid 40 -> 50.1 (over 25% worse) twice */
    gc_watch_init(&w);
    eval(&w, &s, 1000, "fid", 40, &a);
    assert_int_equal(eval(&w, &s, 1100, "fid", 50, &a), 0);
    assert_int_equal(eval(&w, &s, 1200, "fid", 50.1, &a), 0);
    assert_int_equal(eval(&w, &s, 1300, "fid", 51, &a), 1);
    assert_true(gc_watch_score(&w, &have) == -51.0 && have);
}

static void state_survives_a_checkpoint(void **state)
{
    (void)state;
    struct gc_spec s = spec_of(GC_LOSS_MINIMAX);
    struct gc_watch w, back;
    struct gc_watch_alert a;
    gc_watch_init(&w);
    struct gc_watch_step f = calm;
    f.d_real = 0.995;
    f.d_fake = 0.001;
    feed(&w, &s, 1, 7, f, &a);
    eval(&w, &s, 1000, "modes_covered", 6, &a);
    w.rollbacks = 2;
    w.lr_mult = 0.25f;
    struct gc_buf b;
    gc_buf_init(&b);
    gc_watch_save(&w, &b);
    struct gc_reader r;
    gc_reader_init(&r, b.data, b.len);
    struct gc_error err = {0};
    assert_int_equal(gc_watch_load(&back, &r, &err), 0);
    assert_int_equal(r.off, b.len);
    assert_memory_equal(&w, &back, sizeof w);
    /* both go on the same: the window completes 4 steps later in each */
    assert_int_equal(feed(&w, &s, 7, 20, f, &a), 10);
    assert_int_equal(feed(&back, &s, 7, 20, f, &a), 10);
    /* short or absurd bytes are refused */
    gc_reader_init(&r, b.data, b.len - 1);
    assert_int_equal(gc_watch_load(&back, &r, &err), GC_ECORRUPT);
    float bad = 2.0f;
    memcpy(b.data + b.len - 4, &bad, 4);
    gc_reader_init(&r, b.data, b.len);
    assert_int_equal(gc_watch_load(&back, &r, &err), GC_ECORRUPT);
    gc_buf_fini(&b);
    /* after a rollback every detector starts again; bests and rollbacks stay */
    gc_watch_rearm(&w);
    assert_true(gc_watch_calm(&w));
    assert_int_equal(w.rollbacks, 2);
    int have = 0;
    assert_true(gc_watch_score(&w, &have) == 6.0 && have);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(calm_figures_fire_nothing),
        cmocka_unit_test(divergence_nan_loss_and_gradients),
        cmocka_unit_test(d_winning_needs_a_window),
        cmocka_unit_test(g_gradient_vanishing),
        cmocka_unit_test(mode_collapse_after_warmup_with_patience),
        cmocka_unit_test(state_survives_a_checkpoint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
