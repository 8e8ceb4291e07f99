/* test_spec.c — run spec defaults, limits and combinations (core/spec.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "core/spec.h"

/* gc_spec_check with the first problem on one line in err, "field: message". */
static int check(const struct gc_spec *s, struct gc_error *err)
{
    struct gc_field_errors fe;
    int rc = gc_spec_check(s, &fe);
    assert_int_equal(gc_field_errors_summary(&fe, err), rc);
    return rc;
}

static void defaults_follow_dataset_and_loss(void **state)
{
    (void)state;
    struct gc_spec s;
    struct gc_error err = {0};
    gc_spec_defaults(&s, GC_DATA_RING8, GC_LOSS_NONSATURATING);
    assert_int_equal(s.model.arch, GC_ARCH_MLP);
    assert_int_equal(s.train.d_steps, 1);
    assert_int_equal(s.opt_d.kind, GC_OPTIM_ADAM);
    assert_int_equal(s.train.steps, 20000);
    assert_int_equal(s.train.lr_decay.on, 1); /* 2D: decayed rates, no weight average */
    assert_true(s.tricks.ema == 0.0f);
    assert_int_equal(check(&s, &err), 0);

    gc_spec_defaults(&s, GC_DATA_FASHION_MNIST, GC_LOSS_WASSERSTEIN);
    assert_int_equal(s.model.arch, GC_ARCH_DCGAN);
    assert_int_equal(s.train.d_steps, 5);
    assert_int_equal(s.opt_d.kind, GC_OPTIM_RMSPROP);
    assert_true(s.opt_d.lr == 5e-5f);
    assert_true(s.tricks.weight_clip == 0.01f);
    assert_int_equal(check(&s, &err), 0);
}

static void names_round_trip(void **state)
{
    (void)state;
    for (int i = 0; i <= GC_DATA_GRID25; i++)
        assert_int_equal(gc_dataset_from_name(gc_dataset_name(i)), i);
    for (int i = 0; i <= GC_LOSS_HINGE; i++)
        assert_int_equal(gc_loss_from_name(gc_loss_name(i)), i);
    for (int i = 0; i <= GC_OPTIM_RMSPROP; i++)
        assert_int_equal(gc_optim_from_name(gc_optim_name(i)), i);
    assert_int_equal(gc_loss_from_name("least-squares"), GC_LOSS_LEAST_SQUARES);
    assert_int_equal(gc_dataset_from_name("mnist"), -1);
    assert_int_equal(gc_arch_from_name(NULL), -1);
}

/* Each case breaks one field and names the path the error must start with. */
static void out_of_range_fields_named(void **state)
{
    (void)state;
    struct gc_spec s;
    struct gc_error err;
#define EXPECT_BAD(prefix, stmt)                                                                   \
    do {                                                                                           \
        gc_spec_defaults(&s, GC_DATA_RING8, GC_LOSS_NONSATURATING);                                \
        stmt;                                                                                      \
        memset(&err, 0, sizeof err);                                                               \
        assert_int_equal(check(&s, &err), GC_EINVAL);                                              \
        assert_true(strncmp(err.msg, prefix, strlen(prefix)) == 0);                                \
    } while (0)
    EXPECT_BAD("train.steps", s.train.steps = 0);
    EXPECT_BAD("train.steps", s.train.steps = GC_MAX_STEPS + 1);
    EXPECT_BAD("train.batch_size", s.train.batch_size = 4097);
    EXPECT_BAD("train.d_steps", s.train.d_steps = 0);
    EXPECT_BAD("train.seed", s.train.seed = GC_MAX_SEED + 1);
    EXPECT_BAD("model.z_dim", s.model.z_dim = 0);
    EXPECT_BAD("model.g_width", s.model.g_width = 1025);
    EXPECT_BAD("tricks.generators", s.tricks.generators = 17);
    EXPECT_BAD("tricks.unrolled_steps", s.tricks.unrolled_steps = 21);
    EXPECT_BAD("optimizer.g.lr", s.opt_g.lr = 0);
    EXPECT_BAD("optimizer.d.beta1", s.opt_d.beta1 = 1.0f);
    EXPECT_BAD("name", s.name[0] = '\0');
    EXPECT_BAD("name", s.name[0] = '\n');
    EXPECT_BAD("every.log", s.every.log = -1);
    EXPECT_BAD("train.lr_decay.start", (s.train.lr_decay.on = 1, s.train.lr_decay.start = 1.0f));
    EXPECT_BAD("train.lr_decay.start", (s.train.lr_decay.on = 1, s.train.lr_decay.start = -0.1f));
    EXPECT_BAD("train.lr_decay.factor", (s.train.lr_decay.on = 1, s.train.lr_decay.factor = 0.0f));
    EXPECT_BAD("train.lr_decay.factor", (s.train.lr_decay.on = 1, s.train.lr_decay.factor = 1.5f));
    EXPECT_BAD("train.lr_decay.shape",
               (s.train.lr_decay.on = 1, s.train.lr_decay.shape = (enum gc_decay_shape)7));
    EXPECT_BAD("tricks.ema", s.tricks.ema = 1.0f);
    EXPECT_BAD("tricks.ema", s.tricks.ema = -0.5f);
    EXPECT_BAD("tricks.ema", s.tricks.ema = NAN);
}

/* The schedule's multiplier at given steps (100 steps, decay from half-way to 0.01). */
static void lr_decay_values_at_steps(void **state)
{
    (void)state;
    struct gc_spec s;
    struct gc_error err = {0};
    gc_spec_defaults(&s, GC_DATA_FASHION_MNIST, GC_LOSS_NONSATURATING);
    assert_int_equal(s.train.lr_decay.on, 0); /* images: constant rates */
    s.train.steps = 100;
    assert_float_equal(gc_spec_lr_scale(&s, 0), 1.0f, 0.0f);
    assert_float_equal(gc_spec_lr_scale(&s, 99), 1.0f, 0.0f);

    s.train.lr_decay = (struct gc_lr_decay_spec){1, 0.5f, 0.01f, GC_DECAY_LINEAR};
    assert_int_equal(check(&s, &err), 0);
    assert_float_equal(gc_spec_lr_scale(&s, 0), 1.0f, 0.0f);
    assert_float_equal(gc_spec_lr_scale(&s, 49), 1.0f, 0.0f);
    assert_float_equal(gc_spec_lr_scale(&s, 50), 1.0f - 0.99f / 50.0f, 1e-6f);
    assert_float_equal(gc_spec_lr_scale(&s, 74), 1.0f - 0.99f * 25.0f / 50.0f, 1e-6f);
    assert_float_equal(gc_spec_lr_scale(&s, 99), 0.01f, 0.0f);
    for (int64_t i = 1; i < 100; i++) /* never rises */
        assert_true(gc_spec_lr_scale(&s, i) <= gc_spec_lr_scale(&s, i - 1));

    s.train.lr_decay.shape = GC_DECAY_STEP;
    assert_float_equal(gc_spec_lr_scale(&s, 49), 1.0f, 0.0f);
    assert_float_equal(gc_spec_lr_scale(&s, 50), 0.01f, 0.0f);
    assert_float_equal(gc_spec_lr_scale(&s, 99), 0.01f, 0.0f);

    /* start 0: the first step already decays; start near 1: the last step does */
    s.train.lr_decay = (struct gc_lr_decay_spec){1, 0.0f, 0.5f, GC_DECAY_LINEAR};
    assert_float_equal(gc_spec_lr_scale(&s, 0), 1.0f - 0.5f / 100.0f, 1e-6f);
    s.train.lr_decay.start = 0.999f;
    assert_float_equal(gc_spec_lr_scale(&s, 98), 1.0f, 0.0f);
    assert_float_equal(gc_spec_lr_scale(&s, 99), 0.5f, 0.0f);

    /* off again: the fields keep their values but do nothing */
    s.train.lr_decay.on = 0;
    assert_float_equal(gc_spec_lr_scale(&s, 99), 1.0f, 0.0f);
    assert_string_equal(gc_decay_shape_name(GC_DECAY_STEP), "step");
    assert_int_equal(gc_decay_shape_from_name("linear"), GC_DECAY_LINEAR);
    assert_int_equal(gc_decay_shape_from_name("cosine"), -1);
}

static void wrong_combinations_rejected(void **state)
{
    (void)state;
    struct gc_spec s;
    struct gc_error err;
    EXPECT_BAD("dataset.classes", s.dataset.classes = 3);
    EXPECT_BAD("dataset.path", strcpy(s.dataset.path, "x"));
    EXPECT_BAD("model.arch", s.model.arch = GC_ARCH_DCGAN);
    EXPECT_BAD("model.patch", s.model.patch = 1);
    EXPECT_BAD("tricks.label_smoothing", (s.tricks.smoothing = GC_SMOOTH_RANGE,
                                          s.tricks.smooth_lo = 0.9f, s.tricks.smooth_hi = 0.8f));
    EXPECT_BAD("tricks.generators", (s.tricks.generators = 4, s.loss = GC_LOSS_HINGE));

    gc_spec_defaults(&s, GC_DATA_IDX, GC_LOSS_NONSATURATING);
    assert_int_equal(check(&s, &err), GC_EINVAL);
    assert_non_null(strstr(err.msg, "dataset.path"));
    strcpy(s.dataset.path, "/tmp/x.idx");
    assert_int_equal(check(&s, &err), 0);

    gc_spec_defaults(&s, GC_DATA_PNG_DIR, GC_LOSS_HINGE);
    strcpy(s.dataset.path, "/tmp/pngs");
    s.dataset.channels = 2;
    assert_int_equal(check(&s, &err), GC_EINVAL);
    assert_non_null(strstr(err.msg, "dataset.channels"));
}

static void label_smoothing_accepted_in_range(void **state)
{
    (void)state;
    struct gc_spec s;
    struct gc_error err;
    gc_spec_defaults(&s, GC_DATA_FASHION_MNIST, GC_LOSS_NONSATURATING);
    s.tricks.smoothing = GC_SMOOTH_RANGE;
    s.tricks.smooth_lo = 0.8f;
    s.tricks.smooth_hi = 1.0f;
    assert_int_equal(check(&s, &err), 0);
    s.tricks.smoothing = GC_SMOOTH_FIXED;
    s.tricks.smooth_lo = s.tricks.smooth_hi = 0.9f;
    assert_int_equal(check(&s, &err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_follow_dataset_and_loss),
        cmocka_unit_test(names_round_trip),
        cmocka_unit_test(out_of_range_fields_named),
        cmocka_unit_test(wrong_combinations_rejected),
        cmocka_unit_test(label_smoothing_accepted_in_range),
        cmocka_unit_test(lr_decay_values_at_steps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
