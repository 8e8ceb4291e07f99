/* test_spec.c — run spec defaults, limits and combinations (core/spec.c), the list of
 * field errors, and the table of fields (core/spec_fields.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/spec.h"
#include "core/spec_fields.h"

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
    EXPECT_BAD("train.ranks", s.train.ranks = 0);
    EXPECT_BAD("train.ranks", s.train.ranks = GC_MAX_RANKS + 1);
    /* ring8's batch of 100 does not split into 3 equal parts */
    EXPECT_BAD("train.ranks: must divide train.batch_size (100)", s.train.ranks = 3);
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
    /* a conditional idx run needs its labels file; only idx takes one */
    s.model.conditional = 1;
    assert_int_equal(check(&s, &err), GC_EINVAL);
    assert_non_null(strstr(err.msg, "dataset.labels_path: a conditional idx run needs"));
    strcpy(s.dataset.labels_path, "/tmp/x-labels.idx");
    assert_int_equal(check(&s, &err), 0);
    /* every trick goes with a conditional run, with either conditioning */
    s.tricks.generators = 3;
    s.tricks.feature_matching = 1;
    s.tricks.ema = 0.99f;
    s.model.patch = 0;
    s.model.conditioning = GC_COND_CONCAT;
    assert_int_equal(check(&s, &err), 0);
    s.tricks.generators = 1;
    s.tricks.unrolled_steps = 3;
    s.model.patch = 1;
    s.model.conditioning = GC_COND_PROJECTION;
    assert_int_equal(check(&s, &err), 0);
    gc_spec_defaults(&s, GC_DATA_FASHION_MNIST, GC_LOSS_NONSATURATING);
    strcpy(s.dataset.labels_path, "/tmp/x-labels.idx");
    assert_int_equal(check(&s, &err), GC_EINVAL);
    assert_non_null(strstr(err.msg, "dataset.labels_path: only idx takes a labels file"));
    gc_spec_defaults(&s, GC_DATA_RING8, GC_LOSS_WASSERSTEIN);
    s.model.conditional = 1;
    s.model.conditioning = (enum gc_conditioning)2;
    assert_int_equal(check(&s, &err), GC_EINVAL);
    assert_non_null(strstr(err.msg, "model.conditioning"));

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

/* Five problems in five sections, limits and rules mixed: all five in one call, in
 * the order of the fields, with the messages users have always seen. */
static void every_problem_at_once(void **state)
{
    (void)state;
    struct gc_spec s;
    struct gc_field_errors fe;
    gc_spec_defaults(&s, GC_DATA_RING8, GC_LOSS_NONSATURATING);
    s.every.eval = -1;
    s.tricks.ema = 5.0f;
    s.opt_d.beta1 = 1.0f;
    s.train.steps = 0;
    s.dataset.classes = 1u << 3; /* ring8 has no classes */
    assert_int_equal(gc_spec_check(&s, &fe), GC_EINVAL);
    assert_int_equal(fe.n, 5);
    assert_int_equal(fe.dropped, 0);
    static const char *const want[][2] = {
        {"dataset.classes", "only fashion-mnist has classes"},
        {"train.steps", "must be between 1 and 10000000"},
        {"optimizer.d.beta1", "must be in [0, 1)"},
        {"tricks.ema", "must be a decay in (0, 1), e.g. 0.999"},
        {"every.eval", "must be between 0 and 10000000"},
    };
    for (int i = 0; i < 5; i++) {
        assert_string_equal(fe.e[i].field, want[i][0]);
        assert_string_equal(fe.e[i].message, want[i][1]);
    }

    /* one error a field: the limit, not the rules that would follow from it */
    gc_spec_defaults(&s, GC_DATA_RING8, GC_LOSS_HINGE);
    s.tricks.generators = 99;
    assert_int_equal(gc_spec_check(&s, &fe), GC_EINVAL);
    assert_int_equal(fe.n, 1);
    assert_string_equal(fe.e[0].message, "must be between 1 and 16");

    /* no list: the verdict alone */
    assert_int_equal(gc_spec_check(&s, NULL), GC_EINVAL);
    gc_spec_defaults(&s, GC_DATA_RING8, GC_LOSS_HINGE);
    assert_int_equal(gc_spec_check(&s, &fe), 0);
    assert_int_equal(fe.n, 0);
    assert_int_equal(gc_spec_check(&s, NULL), 0);
}

/* The list holds GC_MAX_FIELD_ERRORS and counts the rest; long texts are cut whole,
 * never in the middle of a character. */
static void field_errors_are_bounded(void **state)
{
    (void)state;
    struct gc_field_errors fe;
    gc_field_errors_init(&fe);
    for (int i = 0; i < 100; i++)
        assert_int_equal(gc_field_errors_add(&fe, "f", "problem %d", i), GC_EINVAL);
    assert_int_equal(fe.n, GC_MAX_FIELD_ERRORS);
    assert_int_equal(fe.dropped, 100 - GC_MAX_FIELD_ERRORS);
    assert_string_equal(fe.e[GC_MAX_FIELD_ERRORS - 1].message, "problem 31");
    struct gc_error err = {0};
    assert_int_equal(gc_field_errors_summary(&fe, &err), GC_EINVAL);
    assert_string_equal(err.msg, "f: problem 0 (and 99 more)");

    char two[1000] = "", three[1000] = "";
    for (int i = 0; i < 300; i++)
        strcat(two, "\xc3\xa9"); /* é: 2 bytes */
    for (int i = 0; i < 300; i++)
        strcat(three, "\xe2\x82\xac"); /* €: 3 bytes */
    gc_field_errors_init(&fe);
    gc_field_errors_add(&fe, two, "%s", three);
    gc_field_errors_add(&fe, "", "whole spec");
    assert_int_equal(fe.n, 2);
    size_t nf = strlen(fe.e[0].field), nm = strlen(fe.e[0].message);
    assert_true(nf < GC_FIELD_PATH_MAX && nf >= GC_FIELD_PATH_MAX - 2 && nf % 2 == 0);
    assert_true(nm < GC_FIELD_MESSAGE_MAX && nm >= GC_FIELD_MESSAGE_MAX - 3 && nm % 3 == 0);
    assert_int_equal(gc_field_errors_find(&fe, ""), 1);
    assert_int_equal(gc_field_errors_find(&fe, "x"), -1);

    gc_field_errors_init(&fe);
    gc_field_errors_add(&fe, "", "not valid JSON");
    assert_int_equal(gc_field_errors_summary(&fe, &err), GC_EINVAL);
    assert_string_equal(err.msg, "not valid JSON"); /* no field, no ": " */
    gc_field_errors_init(&fe);
    assert_int_equal(gc_field_errors_summary(&fe, &err), 0);
}

static size_t size_of_type(const struct gc_spec_field *f)
{
    switch (f->type) {
    case GC_FIELD_INT:
    case GC_FIELD_BOOL:
    case GC_FIELD_ENUM:
    case GC_FIELD_SMOOTHING:
        return sizeof(int);
    case GC_FIELD_INT64:
        return sizeof(int64_t);
    case GC_FIELD_U64:
        return sizeof(uint64_t);
    case GC_FIELD_FLOAT:
        return sizeof(float);
    case GC_FIELD_CLASSES:
        return sizeof(uint32_t);
    case GC_FIELD_FLAGS:
        return sizeof(unsigned);
    case GC_FIELD_PATH:
        return GC_PATH_MAX;
    case GC_FIELD_STRING:
        return f->size > 1 ? f->size : 0;
    case GC_FIELD_OBJECT:
        return f->null == GC_NULL_OFF ? sizeof(int) : 0;
    }
    return (size_t)-1;
}

/* Every row fits the struct: its parent section comes before it, its size is its
 * type's, no two rows share bytes, and what it says about names and limits holds. */
static void table_matches_struct(void **state)
{
    (void)state;
    int n;
    const struct gc_spec_field *t = gc_spec_fields(&n);
    assert_true(n > 40);
    for (int i = 0; i < n; i++) {
        const struct gc_spec_field *f = &t[i];
        assert_true(f->doc && f->doc[0]);
        assert_ptr_equal(gc_spec_field_find(f->path), f); /* paths are unique */
        assert_true(strlen(f->path) < 64);
        char parent[64];
        snprintf(parent, sizeof parent, "%s", f->path);
        char *dot = strrchr(parent, '.');
        if (dot) {
            *dot = '\0';
            const struct gc_spec_field *p = gc_spec_field_find(parent);
            assert_non_null(p);
            assert_int_equal(p->type, GC_FIELD_OBJECT);
            assert_true(p < f);
        }
        assert_true(gc_spec_field_in(f, dot ? parent : ""));
        assert_string_equal(gc_spec_field_key(f), dot ? dot + 1 : f->path);
        if (size_of_type(f) != f->size) {
            print_error("%s: size %zu, its type takes %zu\n", f->path, f->size, size_of_type(f));
            fail();
        }
        assert_true(f->offset + f->size <= sizeof(struct gc_spec));
        if (f->type == GC_FIELD_ENUM || f->type == GC_FIELD_FLAGS) {
            assert_true(f->n_names > 0);
            for (int k = 0; k < f->n_names; k++)
                assert_true(f->names[k] && f->names[k][0]);
        }
        assert_true(f->min <= f->max);
        assert_true(f->fmin <= f->fmax);
        if (f->null == GC_NULL_OFF && (f->type == GC_FIELD_INT || f->type == GC_FIELD_FLOAT))
            assert_non_null(f->off_msg); /* a given 0 is refused with it */
        for (int j = 0; j < i; j++)      /* no overlap */
            if (t[j].size && f->size)
                assert_true(t[j].offset + t[j].size <= f->offset ||
                            f->offset + f->size <= t[j].offset);
    }
    assert_null(gc_spec_field_find("train.nope"));
    assert_null(gc_spec_field_find(""));
    assert_null(gc_spec_field_find("train.lr_decay.start.x"));
    assert_false(gc_spec_field_in(gc_spec_field_find("train.lr_decay.start"), "train"));
    assert_true(gc_spec_field_in(gc_spec_field_find("train.lr_decay"), "train"));
    assert_true(gc_spec_field_in(gc_spec_field_find("loss"), ""));
}

/* The check takes every limit from the table: just inside passes, just outside fails
 * at that field. */
static void limits_come_from_the_table(void **state)
{
    (void)state;
    int n;
    const struct gc_spec_field *t = gc_spec_fields(&n);
    struct gc_spec s;
    struct gc_field_errors fe;
    int tried = 0;
    for (int i = 0; i < n; i++) {
        const struct gc_spec_field *f = &t[i];
        char *v = (char *)&s + f->offset;
        for (int k = 0; k < 4; k++) {
            int ok = k < 2;
            /* ring8: train.lr_decay is on, so its fields are checked too; so are those
             * of the gradient penalty, turned on for them; the task's fields on an image
             * set with a task */
            if (strncmp(f->path, "task", 4) == 0) {
                struct gc_task_spec task = {.on = 1, .factor = 4};
                gc_spec_defaults(&s, GC_DATA_FASHION_MNIST, GC_LOSS_NONSATURATING);
                gc_spec_task_defaults(&s, &task);
            } else {
                gc_spec_defaults(
                    &s, strcmp(f->path, "dataset.subset") ? GC_DATA_RING8 : GC_DATA_FASHION_MNIST,
                    GC_LOSS_NONSATURATING);
            }
            /* train.ranks must also divide the batch (a rule): the largest batch does */
            s.train.batch_size = GC_MAX_BATCH;
            s.tricks.penalty.on = !strncmp(f->path, "tricks.gradient_penalty.", 24);
            int ranged = f->min != 0 || f->max != 0;
            if ((f->type == GC_FIELD_INT || f->type == GC_FIELD_INT64) && ranged) {
                int64_t x = k == 0 ? f->min : k == 1 ? f->max : k == 2 ? f->min - 1 : f->max + 1;
                if (f->null == GC_NULL_OFF && x == 0)
                    continue; /* 0 is "off", not a value */
                if (f->type == GC_FIELD_INT)
                    *(int *)v = (int)x;
                else
                    *(int64_t *)v = x;
            } else if (f->type == GC_FIELD_U64 && ranged && k != 2) {
                *(uint64_t *)v = k == 0   ? (uint64_t)f->min
                                 : k == 1 ? (uint64_t)f->max
                                          : (uint64_t)f->max + 1;
            } else if (f->type == GC_FIELD_FLOAT && f->fmin < f->fmax) {
                int open = k == 0 || k == 2 ? (f->flags & GC_FIELD_MIN_OPEN) != 0
                                            : (f->flags & GC_FIELD_MAX_OPEN) != 0;
                double edge = k == 0 || k == 2 ? f->fmin : f->fmax;
                double out = k == 0 || k == 2 ? -1.0 : 1.0;
                float x = ok ? (open ? nextafterf((float)edge, (float)(edge - out)) : (float)edge)
                             : (open ? (float)edge : nextafterf((float)edge, (float)(edge + out)));
                if (f->null == GC_NULL_OFF && x == 0.0f)
                    continue; /* 0 is "off", not a value */
                *(float *)v = x;
            } else if (f->type == GC_FIELD_ENUM && !ok) {
                /* -1 is null where null is allowed */
                *(int *)v = k == 3 ? f->n_names : f->null == GC_NULL_DEFAULT ? -2 : -1;
            } else if (f->type == GC_FIELD_FLAGS && !ok) {
                *(unsigned *)v = 1u << f->n_names;
            } else {
                continue;
            }
            tried++;
            int rc = gc_spec_check(&s, &fe);
            if (ok ? rc != 0 : (rc != GC_EINVAL || gc_field_errors_find(&fe, f->path) < 0)) {
                print_error("%s, case %d: rc %d, first error %s: %s\n", f->path, k, rc,
                            fe.n ? fe.e[0].field : "-", fe.n ? fe.e[0].message : "-");
                fail();
            }
        }
    }
    assert_true(tried > 60);
}

/* docs/spec.md names every field of the table (as `path`), so a field added to the
 * table without its documentation fails here. Sections that take null (train.lr_decay)
 * are fields too; the others are only headings. Run from the repository's root. */
static void docs_name_every_field(void **state)
{
    (void)state;
    FILE *f = fopen("docs/spec.md", "rb");
    assert_non_null(f);
    static char doc[1 << 17];
    size_t len = fread(doc, 1, sizeof doc - 1, f);
    fclose(f);
    assert_true(len > 0 && len < sizeof doc - 1);
    doc[len] = 0;
    int n, missing = 0;
    const struct gc_spec_field *t = gc_spec_fields(&n);
    for (int i = 0; i < n; i++) {
        if (t[i].type == GC_FIELD_OBJECT && t[i].null == GC_NULL_NEVER)
            continue;
        char want[300];
        snprintf(want, sizeof want, "`%s`", t[i].path);
        if (!strstr(doc, want)) {
            print_error("docs/spec.md does not name %s\n", want);
            missing++;
        }
    }
    assert_int_equal(missing, 0);
}

/* Ranks train the run of one process: what draws its randomness per process (the
 * penalty's interpolates, DiffAugment) is refused on several, at train.ranks. */
static void ranks_refuse_per_process_draws(void **state)
{
    (void)state;
    struct gc_spec s;
    struct gc_field_errors fe;
    gc_spec_defaults(&s, GC_DATA_FASHION_MNIST, GC_LOSS_WASSERSTEIN);
    s.train.ranks = 2;
    assert_int_equal(gc_spec_check(&s, &fe), 0);
    s.tricks.weight_clip = 0.0f;
    s.tricks.penalty = (struct gc_penalty_spec){1, GC_PENALTY_WGAN_GP, 10.0f, 1};
    assert_int_equal(gc_spec_check(&s, &fe), GC_EINVAL);
    assert_true(gc_field_errors_find(&fe, "train.ranks") >= 0);
    s.train.ranks = 1;
    assert_int_equal(gc_spec_check(&s, &fe), 0);
    gc_spec_defaults(&s, GC_DATA_FASHION_MNIST, GC_LOSS_NONSATURATING);
    s.tricks.diffaugment = 1;
    assert_int_equal(gc_spec_check(&s, &fe), 0);
    s.train.ranks = 2;
    assert_int_equal(gc_spec_check(&s, &fe), GC_EINVAL);
    assert_true(gc_field_errors_find(&fe, "train.ranks") >= 0);
}

/* A task's defaults and the rules that tie it to the dataset, the architecture and the
 * tricks, each reported at the field a user would change. */
static void task_defaults_and_rules(void **state)
{
    (void)state;
    struct gc_spec s;
    struct gc_field_errors fe;
    struct gc_task_spec sr = {.on = 1, .kind = GC_TASK_SUPER_RESOLUTION, .factor = 4};
    gc_spec_defaults(&s, GC_DATA_FASHION_MNIST, GC_LOSS_NONSATURATING);
    gc_spec_task_defaults(&s, &sr);
    assert_int_equal(s.model.arch, GC_ARCH_UNET);
    assert_true(s.model.patch && s.tricks.l1_weight == 100.0f);
    assert_int_equal(gc_spec_check(&s, &fe), 0);
    /* off: the unconditional defaults stay */
    struct gc_spec plain;
    struct gc_task_spec off = sr;
    off.on = 0;
    gc_spec_defaults(&plain, GC_DATA_FASHION_MNIST, GC_LOSS_NONSATURATING);
    gc_spec_task_defaults(&plain, &off);
    assert_int_equal(plain.model.arch, GC_ARCH_DCGAN);

    struct {
        const char *field;
        struct gc_spec s;
    } bad[13];
    int n = 0;
#define BAD(f, stmt)                                                                               \
    do {                                                                                           \
        bad[n].field = f;                                                                          \
        bad[n].s = s;                                                                              \
        struct gc_spec *x = &bad[n++].s;                                                           \
        stmt;                                                                                      \
    } while (0)
    BAD("task.factor", x->task.factor = 3);
    BAD("task.kind", x->task.kind = GC_TASK_COLORIZE); /* fashion-mnist is gray */
    BAD("model.arch", x->model.arch = GC_ARCH_DCGAN);
    BAD("model.patch", x->model.patch = 0);
    BAD("task.source_path", snprintf(x->task.source_path, 8, "inputs"));
    BAD("dataset.name", x->task.kind = GC_TASK_PAIRED);
    BAD("tricks.generators", x->tricks.generators = 2);
    BAD("tricks.feature_matching", x->tricks.feature_matching = 1);
    BAD("train.ranks", x->train.ranks = 2); /* the batch (16) would divide */
    BAD("tricks.gradient_penalty", x->tricks.penalty.on = 1);
    BAD("tricks.diffaugment", x->tricks.diffaugment = 1);
    BAD("model.spectral_norm", x->model.spectral_norm = 1);
    /* a task's G draws from its input image: no class to condition on */
    BAD("model.conditional", x->model.conditional = 1);
#undef BAD
    for (int i = 0; i < n; i++) {
        assert_int_equal(gc_spec_check(&bad[i].s, &fe), GC_EINVAL);
        if (gc_field_errors_find(&fe, bad[i].field) < 0)
            fail_msg("%s: not reported (first: %s: %s)", bad[i].field, fe.e[0].field,
                     fe.e[0].message);
    }
    /* unet without a task; a task on a 2D set; an odd png-dir side */
    plain.model.arch = GC_ARCH_UNET;
    assert_int_equal(gc_spec_check(&plain, &fe), GC_EINVAL);
    assert_true(gc_field_errors_find(&fe, "model.arch") >= 0);
    gc_spec_defaults(&plain, GC_DATA_RING8, GC_LOSS_NONSATURATING);
    gc_spec_task_defaults(&plain, &sr);
    assert_int_equal(gc_spec_check(&plain, &fe), GC_EINVAL);
    assert_true(gc_field_errors_find(&fe, "task") >= 0);
    gc_spec_defaults(&plain, GC_DATA_PNG_DIR, GC_LOSS_NONSATURATING);
    gc_spec_task_defaults(&plain, &sr);
    snprintf(plain.dataset.path, sizeof plain.dataset.path, "p");
    plain.dataset.image_size = 30; /* even, but not a multiple of 4 */
    assert_int_equal(gc_spec_check(&plain, &fe), GC_EINVAL);
    assert_true(gc_field_errors_find(&fe, "task.factor") >= 0);
    plain.dataset.image_size = 33;
    assert_int_equal(gc_spec_check(&plain, &fe), GC_EINVAL);
    assert_true(gc_field_errors_find(&fe, "dataset.image_size") >= 0);
    plain.dataset.image_size = 32;
    plain.task.kind = GC_TASK_COLORIZE; /* png-dir's default channels: 3 */
    assert_int_equal(gc_spec_check(&plain, &fe), 0);
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
        cmocka_unit_test(every_problem_at_once),
        cmocka_unit_test(field_errors_are_bounded),
        cmocka_unit_test(table_matches_struct),
        cmocka_unit_test(limits_come_from_the_table),
        cmocka_unit_test(docs_name_every_field),
        cmocka_unit_test(task_defaults_and_rules),
        cmocka_unit_test(ranks_refuse_per_process_draws),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
