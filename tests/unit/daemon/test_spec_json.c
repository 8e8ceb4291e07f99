/* test_spec_json.c — the run spec's JSON parser: defaults, normalized form, every type
 * error with its field path, unknown fields, limits, combinations, dataset paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/spec_json.h"
#include "core/spec_fields.h"

/* Parses text; returns the rc and, on error, the errors array (caller decrefs). */
static int parse(const char *text, const char *base, struct gc_spec *out, json_t **errors)
{
    struct gc_field_errors fe;
    struct gc_error err = {0};
    int rc = ga_spec_parse(text, strlen(text), base, out, &fe, &err);
    if (rc != 0) {
        assert_int_equal(rc, GC_EINVAL);
        assert_true(fe.n > 0);
        assert_true(strlen(err.msg) > 0);
    }
    if (errors)
        *errors = rc ? ga_field_errors_to_value(&fe) : NULL;
    return rc;
}

/* 1 when errors holds an entry for field whose message is not empty. */
static int has_field(json_t *errors, const char *field)
{
    size_t i;
    json_t *e;
    json_array_foreach(errors, i, e)
    {
        const char *f = json_string_value(json_object_get(e, "field"));
        const char *m = json_string_value(json_object_get(e, "message"));
        if (f && strcmp(f, field) == 0 && m && *m)
            return 1;
    }
    return 0;
}

static void expect_error(const char *text, const char *field)
{
    struct gc_spec s;
    json_t *errors = NULL;
    int rc = parse(text, NULL, &s, &errors);
    if (rc == 0 || !has_field(errors, field)) {
        char *d = errors ? json_dumps(errors, 0) : NULL;
        print_error("spec %s: expected an error at '%s', got rc %d errors %s\n", text, field, rc,
                    d ? d : "(none)");
        free(d);
        json_decref(errors);
        fail();
    }
    json_decref(errors);
}

static void expect_ok(const char *text, struct gc_spec *out)
{
    json_t *errors = NULL;
    int rc = parse(text, NULL, out, &errors);
    if (rc != 0) {
        char *d = json_dumps(errors, 0);
        print_error("spec %s: expected ok, got %s\n", text, d ? d : "?");
        free(d);
        json_decref(errors);
        fail();
    }
}

static void ring8_defaults(void **state)
{
    (void)state;
    struct gc_spec s;
    expect_ok("{\"dataset\":{\"name\":\"ring8\"}}", &s);
    assert_int_equal(s.dataset.kind, GC_DATA_RING8);
    assert_int_equal(s.model.arch, GC_ARCH_MLP);
    assert_int_equal(s.loss, GC_LOSS_NONSATURATING);
    /* the 2D defaults of core/spec.c: 4 x 128, z 16, no batch norm, batch 100 (250 on
     * grid25), 1e-3 decayed to 1% over the second half of 20,000 steps */
    assert_int_equal(s.model.layers, 4);
    assert_int_equal(s.model.z_dim, 16);
    assert_int_equal(s.model.batch_norm, 0);
    assert_int_equal(s.train.steps, 20000);
    assert_int_equal(s.train.lr_decay.on, 1);
    assert_true(s.train.lr_decay.start == 0.5f && s.train.lr_decay.factor == 0.01f);
    assert_int_equal(s.train.lr_decay.shape, GC_DECAY_LINEAR);
    assert_true(s.tricks.ema == 0.0f);
    assert_int_equal(s.train.batch_size, 100);
    assert_int_equal(s.train.d_steps, 1);
    assert_int_equal(s.train.seed, 1);
    assert_int_equal(s.opt_g.kind, GC_OPTIM_ADAM);
    assert_true(s.opt_g.lr == 1e-3f);
    assert_true(s.opt_d.lr == 1e-3f);
    assert_int_equal(s.tricks.smoothing, GC_SMOOTH_NONE);
    assert_int_equal(s.tricks.generators, 1);
    assert_int_equal(s.every.sample, 200);
    assert_string_equal(s.name, "ring8-nonsaturating");
}

static void wasserstein_defaults(void **state)
{
    (void)state;
    struct gc_spec s;
    expect_ok("{\"dataset\":{\"name\":\"grid25\"},\"loss\":\"wasserstein\"}", &s);
    assert_int_equal(s.opt_g.kind, GC_OPTIM_RMSPROP);
    assert_true(s.opt_g.lr == 5e-5f);
    assert_int_equal(s.train.d_steps, 5);
    assert_true(s.tricks.weight_clip == 0.01f);
    assert_int_equal(s.train.batch_size, 250); /* grid25's own batch (core/spec.c) */
    /* given values win over the loss's defaults */
    expect_ok("{\"dataset\":{\"name\":\"grid25\"},\"loss\":\"wasserstein\","
              "\"train\":{\"d_steps\":2},\"tricks\":{\"weight_clip\":0.05}}",
              &s);
    assert_int_equal(s.train.d_steps, 2);
    assert_true(s.tricks.weight_clip == 0.05f);
}

static void normalized_has_every_field(void **state)
{
    (void)state;
    struct gc_spec s;
    expect_ok("{\"dataset\":{\"name\":\"ring8\"},\"train\":{\"steps\":300}}", &s);
    char *js = ga_spec_to_json(&s);
    assert_non_null(js);
    json_t *v = json_loads(js, JSON_REJECT_DUPLICATES, NULL);
    assert_non_null(v);
    const char *paths[][2] = {
        {"dataset", "name"},
        {"dataset", "split"},
        {"dataset", "classes"},
        {"dataset", "path"},
        {"dataset", "image_size"},
        {"dataset", "channels"},
        {"model", "arch"},
        {"model", "z_dim"},
        {"model", "g_width"},
        {"model", "d_width"},
        {"model", "hidden"},
        {"model", "layers"},
        {"model", "batch_norm"},
        {"model", "patch"},
        {"train", "steps"},
        {"train", "batch_size"},
        {"train", "d_steps"},
        {"train", "seed"},
        {"train", "lr_decay"},
        {"train", "precision"},
        {"tricks", "label_smoothing"},
        {"tricks", "feature_matching"},
        {"tricks", "unrolled_steps"},
        {"tricks", "generators"},
        {"tricks", "weight_clip"},
        {"tricks", "ema"},
        {"every", "log"},
        {"every", "sample"},
        {"every", "checkpoint"},
        {"every", "eval"},
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        json_t *sec = json_object_get(v, paths[i][0]);
        assert_non_null(sec);
        if (!json_object_get(sec, paths[i][1])) {
            print_error("missing %s.%s in %s\n", paths[i][0], paths[i][1], js);
            fail();
        }
    }
    assert_string_equal(json_string_value(json_object_get(v, "loss")), "nonsaturating");
    assert_string_equal(json_string_value(json_object_get(v, "name")), "ring8-nonsaturating");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(v, "train"), "steps")),
                     300);
    assert_true(json_is_null(json_object_get(json_object_get(v, "tricks"), "label_smoothing")));
    assert_true(json_is_null(json_object_get(json_object_get(v, "tricks"), "weight_clip")));
    json_t *g = json_object_get(json_object_get(v, "optimizer"), "g");
    assert_string_equal(json_string_value(json_object_get(g, "kind")), "adam");
    /* floats print short: 0.001, not 0.0010000000474974513 */
    assert_non_null(strstr(js, "\"lr\":0.001,"));
    json_decref(v);

    /* the normalized form parses back to the same spec */
    struct gc_spec back;
    expect_ok(js, &back);
    char *js2 = ga_spec_to_json(&back);
    assert_string_equal(js, js2);
    free(js);
    free(js2);
}

static void normalize_keeps_user_path(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_spec_json_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char file[PATH_MAX];
    snprintf(file, sizeof file, "%s/imgs.idx", dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs("x", f);
    fclose(f);
    const char *text = "{\"dataset\":{\"name\":\"idx\",\"path\":\"imgs.idx\","
                       "\"labels_path\":\"./imgs.idx\"},\"model\":{\"conditional\":true}}";
    struct gc_spec s;
    char *norm = NULL;
    struct gc_field_errors fe;
    struct gc_error err = {0};
    assert_int_equal(ga_spec_normalize(text, strlen(text), dir, &s, &norm, &fe, &err), 0);
    assert_non_null(norm);
    assert_non_null(strstr(norm, "\"path\":\"imgs.idx\""));
    assert_non_null(strstr(norm, "\"labels_path\":\"./imgs.idx\""));
    assert_non_null(strstr(norm, "\"conditional\":true,\"conditioning\":\"projection\""));
    char real[PATH_MAX];
    assert_non_null(realpath(file, real));
    assert_string_equal(s.dataset.path, real); /* the struct holds the resolved paths */
    assert_string_equal(s.dataset.labels_path, real);
    free(norm);
    /* a labels file outside the root, or missing, is refused by its own field */
    const char *out = "{\"dataset\":{\"name\":\"idx\",\"path\":\"imgs.idx\","
                      "\"labels_path\":\"../x\"}}";
    assert_int_equal(ga_spec_normalize(out, strlen(out), dir, &s, NULL, &fe, &err), GC_EINVAL);
    assert_int_equal(fe.n, 1);
    assert_string_equal(fe.e[0].field, "dataset.labels_path");
    assert_non_null(strstr(fe.e[0].message, "leaves the dataset root"));
    const char *gone = "{\"dataset\":{\"name\":\"idx\",\"path\":\"imgs.idx\","
                       "\"labels_path\":\"nope\"}}";
    assert_int_equal(ga_spec_normalize(gone, strlen(gone), dir, &s, NULL, &fe, &err), GC_EINVAL);
    assert_string_equal(fe.e[0].field, "dataset.labels_path");
    /* a stored spec resolves both again */
    const char *stored = "{\"dataset\":{\"name\":\"idx\",\"path\":\"imgs.idx\","
                         "\"labels_path\":\"imgs.idx\"}}";
    memset(&s, 0, sizeof s);
    assert_int_equal(ga_spec_parse_stored(stored, dir, &s, &err), 0);
    assert_string_equal(s.dataset.labels_path, real);
    unlink(file);
    rmdir(dir);
}

static void type_errors_name_the_field(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"[]", ""},
        {"\"ring8\"", ""},
        {"{\"name\":5}", "name"},
        {"{\"dataset\":\"ring8\"}", "dataset"},
        {"{\"dataset\":{\"name\":8}}", "dataset.name"},
        {"{\"dataset\":{\"name\":\"ring9\"}}", "dataset.name"},
        {"{\"dataset\":{\"name\":\"ring8\",\"split\":\"dev\"}}", "dataset.split"},
        {"{\"dataset\":{\"name\":\"ring8\",\"split\":1}}", "dataset.split"},
        {"{\"dataset\":{\"name\":\"fashion-mnist\",\"classes\":\"1\"}}", "dataset.classes"},
        {"{\"dataset\":{\"name\":\"fashion-mnist\",\"classes\":[1,\"2\"]}}", "dataset.classes[1]"},
        {"{\"dataset\":{\"name\":\"fashion-mnist\",\"classes\":[10]}}", "dataset.classes[0]"},
        {"{\"dataset\":{\"name\":\"fashion-mnist\",\"classes\":[1,1]}}", "dataset.classes[1]"},
        {"{\"dataset\":{\"name\":\"fashion-mnist\",\"classes\":[]}}", "dataset.classes"},
        {"{\"dataset\":{\"name\":\"idx\",\"path\":3}}", "dataset.path"},
        {"{\"dataset\":{\"name\":\"idx\",\"path\":\"a\",\"labels_path\":[]}}",
         "dataset.labels_path"},
        {"{\"model\":{\"conditional\":1}}", "model.conditional"},
        {"{\"model\":{\"conditioning\":\"both\"}}", "model.conditioning"},
        {"{\"dataset\":{\"name\":\"png-dir\",\"path\":\"a\",\"image_size\":\"32\"}}",
         "dataset.image_size"},
        {"{\"dataset\":{\"name\":\"png-dir\",\"path\":\"a\",\"channels\":1.5}}",
         "dataset.channels"},
        {"{\"dataset\":{\"name\":\"ring8\"},\"model\":[]}", "model"},
        {"{\"dataset\":{\"name\":\"ring8\"},\"model\":{\"arch\":\"resnet\"}}", "model.arch"},
        {"{\"dataset\":{\"name\":\"ring8\"},\"model\":{\"z_dim\":2.5}}", "model.z_dim"},
        {"{\"dataset\":{\"name\":\"ring8\"},\"model\":{\"hidden\":\"64\"}}", "model.hidden"},
        {"{\"dataset\":{\"name\":\"ring8\"},\"model\":{\"batch_norm\":1}}", "model.batch_norm"},
        {"{\"dataset\":{\"name\":\"ring8\"},\"model\":{\"patch\":\"no\"}}", "model.patch"},
        {"{\"dataset\":{\"name\":\"ring8\"},\"loss\":\"l2\"}", "loss"},
        {"{\"dataset\":{\"name\":\"ring8\"},\"loss\":null}", "loss"},
        {"{\"dataset\":{\"name\":\"ring8\"},\"train\":{\"steps\":\"100\"}}", "train.steps"},
        {"{\"dataset\":{\"name\":\"ring8\"},\"train\":{\"steps\":1e3}}", "train.steps"},
        {"{\"dataset\":{\"name\":\"ring8\"},\"train\":{\"batch_size\":true}}", "train.batch_size"},
        {"{\"dataset\":{\"name\":\"ring8\"},\"train\":{\"seed\":null}}", "train.seed"},
        {"{\"dataset\":{\"name\":\"ring8\"},\"optimizer\":{\"g\":{\"kind\":\"lbfgs\"}}}",
         "optimizer.g.kind"},
        {"{\"dataset\":{\"name\":\"ring8\"},\"optimizer\":{\"d\":{\"lr\":\"fast\"}}}",
         "optimizer.d.lr"},
        {"{\"dataset\":{\"name\":\"ring8\"},\"optimizer\":{\"d\":5}}", "optimizer.d"},
        {"{\"dataset\":{\"name\":\"ring8\"},\"tricks\":{\"label_smoothing\":\"0.9\"}}",
         "tricks.label_smoothing"},
        {"{\"dataset\":{\"name\":\"ring8\"},\"tricks\":{\"label_smoothing\":[0.9]}}",
         "tricks.label_smoothing"},
        {"{\"dataset\":{\"name\":\"ring8\"},\"tricks\":{\"label_smoothing\":[0.8,\"1\"]}}",
         "tricks.label_smoothing"},
        {"{\"dataset\":{\"name\":\"ring8\"},\"tricks\":{\"feature_matching\":0}}",
         "tricks.feature_matching"},
        {"{\"dataset\":{\"name\":\"ring8\"},\"tricks\":{\"weight_clip\":\"0.1\"}}",
         "tricks.weight_clip"},
        {"{\"dataset\":{\"name\":\"ring8\"},\"every\":{\"log\":1.5}}", "every.log"},
        {"{\"dataset\":{\"name\":\"ring8\"},\"every\":{\"eval\":false}}", "every.eval"},
        {"{\"dataset\":{\"name\":\"ring8\"},\"name\":\"a\\u0001b\"}", "name"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_error(cases[i][0], cases[i][1]);
}

static void unknown_fields_rejected(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"{\"dataset\":{\"name\":\"ring8\"},\"epochs\":3}", "epochs"},
        {"{\"dataset\":{\"name\":\"ring8\",\"size\":3}}", "dataset.size"},
        {"{\"dataset\":{\"name\":\"ring8\"},\"model\":{\"depth\":3}}", "model.depth"},
        {"{\"dataset\":{\"name\":\"ring8\"},\"train\":{\"lr\":3}}", "train.lr"},
        {"{\"dataset\":{\"name\":\"ring8\"},\"optimizer\":{\"e\":{}}}", "optimizer.e"},
        {"{\"dataset\":{\"name\":\"ring8\"},\"optimizer\":{\"g\":{\"momentum\":0.9}}}",
         "optimizer.g.momentum"},
        {"{\"dataset\":{\"name\":\"ring8\"},\"tricks\":{\"dropout\":0.5}}", "tricks.dropout"},
        {"{\"dataset\":{\"name\":\"ring8\"},\"every\":{\"print\":1}}", "every.print"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_error(cases[i][0], cases[i][1]);
}

static void limits(void **state)
{
    (void)state;
    struct gc_spec s;
    char buf[512];
    static const struct {
        const char *section, *key;
        long long lo, hi;
    } lim[] = {
        {"train", "steps", 1, 10000000}, {"train", "batch_size", 1, 4096},
        {"train", "d_steps", 1, 100},    {"model", "z_dim", 1, 4096},
        {"model", "hidden", 1, 4096},    {"model", "layers", 1, 16},
        {"tricks", "generators", 1, 16}, {"tricks", "unrolled_steps", 0, 20},
        {"every", "log", 0, 10000000},
    };
    for (size_t i = 0; i < sizeof lim / sizeof lim[0]; i++) {
        char field[64];
        snprintf(field, sizeof field, "%s.%s", lim[i].section, lim[i].key);
        long long ok[2] = {lim[i].lo, lim[i].hi}, bad[2] = {lim[i].lo - 1, lim[i].hi + 1};
        for (int k = 0; k < 2; k++) {
            snprintf(buf, sizeof buf, "{\"dataset\":{\"name\":\"ring8\"},\"%s\":{\"%s\":%lld}}",
                     lim[i].section, lim[i].key, ok[k]);
            expect_ok(buf, &s);
            snprintf(buf, sizeof buf, "{\"dataset\":{\"name\":\"ring8\"},\"%s\":{\"%s\":%lld}}",
                     lim[i].section, lim[i].key, bad[k]);
            expect_error(buf, field);
        }
    }
    /* widths of the dcgan arch on an image set: 1..1024 (no path check without a root) */
    expect_ok("{\"dataset\":{\"name\":\"fashion-mnist\"},\"model\":{\"g_width\":1024}}", &s);
    expect_error("{\"dataset\":{\"name\":\"fashion-mnist\"},\"model\":{\"g_width\":1025}}",
                 "model.g_width");
    expect_error("{\"dataset\":{\"name\":\"fashion-mnist\"},\"model\":{\"d_width\":0}}",
                 "model.d_width");
    /* values beyond int are reported as out of range, not wrapped */
    expect_error("{\"dataset\":{\"name\":\"ring8\"},\"train\":{\"batch_size\":4294967360}}",
                 "train.batch_size");
    /* seed 0..2^53 */
    expect_ok("{\"dataset\":{\"name\":\"ring8\"},\"train\":{\"seed\":9007199254740992}}", &s);
    assert_true(s.train.seed == 9007199254740992ULL);
    expect_error("{\"dataset\":{\"name\":\"ring8\"},\"train\":{\"seed\":9007199254740993}}",
                 "train.seed");
    expect_error("{\"dataset\":{\"name\":\"ring8\"},\"train\":{\"seed\":-1}}", "train.seed");
    /* image_size 8..256 for png-dir */
    expect_error("{\"dataset\":{\"name\":\"png-dir\",\"path\":\"p\",\"image_size\":7}}",
                 "dataset.image_size");
    expect_error("{\"dataset\":{\"name\":\"png-dir\",\"path\":\"p\",\"image_size\":257}}",
                 "dataset.image_size");
    expect_ok("{\"dataset\":{\"name\":\"png-dir\",\"path\":\"p\",\"image_size\":64,"
              "\"channels\":1}}",
              &s);
    assert_int_equal(s.dataset.image_size, 64);
    expect_error("{\"dataset\":{\"name\":\"png-dir\",\"path\":\"p\",\"channels\":2}}",
                 "dataset.channels");
    /* name 1..128 */
    char name[200];
    memset(name, 'a', 128);
    name[128] = 0;
    snprintf(buf, sizeof buf, "{\"dataset\":{\"name\":\"ring8\"},\"name\":\"%s\"}", name);
    expect_ok(buf, &s);
    assert_string_equal(s.name, name);
    snprintf(buf, sizeof buf, "{\"dataset\":{\"name\":\"ring8\"},\"name\":\"%sa\"}", name);
    expect_error(buf, "name");
    expect_error("{\"dataset\":{\"name\":\"ring8\"},\"name\":\"\"}", "name");
    /* learning rates */
    expect_error("{\"dataset\":{\"name\":\"ring8\"},\"optimizer\":{\"g\":{\"lr\":0}}}",
                 "optimizer.g.lr");
    expect_error("{\"dataset\":{\"name\":\"ring8\"},\"optimizer\":{\"d\":{\"beta1\":1}}}",
                 "optimizer.d.beta1");
}

static void every_range_error_reported(void **state)
{
    (void)state;
    struct gc_spec s;
    json_t *errors = NULL;
    const char *text = "{\"dataset\":{\"name\":\"ring8\"},\"train\":{\"steps\":0,\"batch_size\":0},"
                       "\"model\":{\"z_dim\":0},\"tricks\":{\"generators\":99}}";
    assert_int_equal(parse(text, NULL, &s, &errors), GC_EINVAL);
    assert_true(has_field(errors, "train.steps"));
    assert_true(has_field(errors, "train.batch_size"));
    assert_true(has_field(errors, "model.z_dim"));
    assert_true(has_field(errors, "tricks.generators"));
    json_decref(errors);
    /* type errors at several places at once, too */
    text = "{\"dataset\":{\"name\":\"ring8\"},\"train\":{\"steps\":\"1\"},\"every\":{\"log\":[]},"
           "\"bogus\":1}";
    assert_int_equal(parse(text, NULL, &s, &errors), GC_EINVAL);
    assert_true(has_field(errors, "train.steps"));
    assert_true(has_field(errors, "every.log"));
    assert_true(has_field(errors, "bogus"));
    json_decref(errors);
    /* and range errors beside type errors */
    text = "{\"dataset\":{\"name\":\"ring8\"},\"train\":{\"steps\":0,\"batch_size\":\"x\"},"
           "\"model\":{\"z_dim\":99999}}";
    assert_int_equal(parse(text, NULL, &s, &errors), GC_EINVAL);
    assert_true(has_field(errors, "train.steps"));
    assert_true(has_field(errors, "train.batch_size"));
    assert_true(has_field(errors, "model.z_dim"));
    assert_int_equal(json_array_size(errors), 3);
    json_decref(errors);
}

static void combinations(void **state)
{
    (void)state;
    expect_error("{\"dataset\":{\"name\":\"ring8\",\"classes\":[1]}}", "dataset.classes");
    expect_error("{\"dataset\":{\"name\":\"ring8\",\"split\":\"test\"}}", "dataset.split");
    expect_error("{\"dataset\":{\"name\":\"ring8\"},\"model\":{\"arch\":\"dcgan\"}}", "model.arch");
    expect_error("{\"dataset\":{\"name\":\"ring8\",\"path\":\"x\"}}", "dataset.path");
    expect_error("{\"dataset\":{\"name\":\"idx\"}}", "dataset.path");
    expect_error("{\"dataset\":{\"name\":\"ring8\",\"image_size\":32}}", "dataset.image_size");
    expect_error("{\"dataset\":{\"name\":\"ring8\"},\"loss\":\"hinge\","
                 "\"tricks\":{\"label_smoothing\":0.9}}",
                 "tricks.label_smoothing");
    expect_error("{\"dataset\":{\"name\":\"ring8\"},\"loss\":\"hinge\","
                 "\"tricks\":{\"generators\":2}}",
                 "tricks.generators");
    expect_error("{\"dataset\":{\"name\":\"ring8\"},\"model\":{\"patch\":true}}", "model.patch");
    expect_error("{\"dataset\":{\"name\":\"ring8\"},\"tricks\":{\"label_smoothing\":[0.9,0.8]}}",
                 "tricks.label_smoothing");
}

static void smoothing_and_classes_forms(void **state)
{
    (void)state;
    struct gc_spec s;
    expect_ok("{\"dataset\":{\"name\":\"ring8\"},\"tricks\":{\"label_smoothing\":0.9}}", &s);
    assert_int_equal(s.tricks.smoothing, GC_SMOOTH_FIXED);
    assert_true(s.tricks.smooth_lo == 0.9f && s.tricks.smooth_hi == 0.9f);
    expect_ok("{\"dataset\":{\"name\":\"ring8\"},\"tricks\":{\"label_smoothing\":[0.8,1.0]}}", &s);
    assert_int_equal(s.tricks.smoothing, GC_SMOOTH_RANGE);
    assert_true(s.tricks.smooth_lo == 0.8f && s.tricks.smooth_hi == 1.0f);
    char *js = ga_spec_to_json(&s);
    assert_non_null(strstr(js, "\"label_smoothing\":[0.8,1.0]"));
    free(js);
    expect_ok("{\"dataset\":{\"name\":\"ring8\"},\"tricks\":{\"label_smoothing\":null}}", &s);
    assert_int_equal(s.tricks.smoothing, GC_SMOOTH_NONE);
    expect_ok("{\"dataset\":{\"name\":\"fashion-mnist\",\"classes\":[0,3,9],\"split\":\"test\"}}",
              &s);
    assert_int_equal(s.dataset.classes, (1u << 0) | (1u << 3) | (1u << 9));
    assert_int_equal(s.dataset.test_split, 1);
    js = ga_spec_to_json(&s);
    assert_non_null(strstr(js, "\"classes\":[0,3,9]"));
    assert_non_null(strstr(js, "\"split\":\"test\""));
    free(js);
}

static void bad_json(void **state)
{
    (void)state;
    expect_error("{\"dataset\":{\"name\":\"ring8\"},\"dataset\":{\"name\":\"grid25\"}}", "");
    expect_error("{\"dataset\":", "");
    expect_error("", "");
    expect_error("{\"name\":\"\xff\xfe\"}", "");

    /* jansson's error quotes the input up to the fault, and the quote can end inside a
     * character (here the \xcf of U+03DD): the message still reaches the answer, with
     * '?' for the cut-off byte, instead of being refused as a string */
    const char *cut = "{\"name\":\"a\\u000\xcf\x9d\"}";
    struct gc_spec s;
    json_t *errors = NULL;
    assert_int_equal(parse(cut, NULL, &s, &errors), GC_EINVAL);
    assert_int_equal(json_array_size(errors), 1);
    const char *m = json_string_value(json_object_get(json_array_get(errors, 0), "message"));
    assert_non_null(m);
    assert_non_null(strstr(m, "not valid JSON: invalid escape near '\"a\\u000?'"));
    json_decref(errors);
}

static void dataset_paths_stay_inside_the_root(void **state)
{
    (void)state;
    char root[] = "/tmp/test_spec_root_XXXXXX";
    char outside[] = "/tmp/test_spec_out_XXXXXX";
    assert_non_null(mkdtemp(root));
    assert_non_null(mkdtemp(outside));
    char p[PATH_MAX], q[PATH_MAX];
    snprintf(p, sizeof p, "%s/secret.idx", outside);
    FILE *f = fopen(p, "w");
    fputs("x", f);
    fclose(f);
    snprintf(q, sizeof q, "%s/link.idx", root);
    assert_int_equal(symlink(p, q), 0);
    snprintf(q, sizeof q, "%s/pngs", root);
    assert_int_equal(mkdir(q, 0700), 0);

    struct gc_spec s;
    json_t *errors = NULL;
    static const char *const bad[] = {
        "{\"dataset\":{\"name\":\"idx\",\"path\":\"../x.idx\"}}",
        "{\"dataset\":{\"name\":\"idx\",\"path\":\"pngs/../../x.idx\"}}",
        "{\"dataset\":{\"name\":\"idx\",\"path\":\"link.idx\"}}", /* symlink out */
        "{\"dataset\":{\"name\":\"idx\",\"path\":\"missing.idx\"}}",
        "{\"dataset\":{\"name\":\"idx\",\"path\":\"pngs\"}}", /* a folder, not a file */
        "{\"dataset\":{\"name\":\"idx\",\"path\":\"/etc/passwd\"}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(parse(bad[i], root, &s, &errors), GC_EINVAL);
        assert_true(has_field(errors, "dataset.path"));
        json_decref(errors);
    }
    const char *ok = "{\"dataset\":{\"name\":\"png-dir\",\"path\":\"pngs\"}}";
    assert_int_equal(parse(ok, root, &s, NULL), 0);
    char real[PATH_MAX];
    assert_non_null(realpath(q, real));
    assert_string_equal(s.dataset.path, real);

    snprintf(q, sizeof q, "%s/link.idx", root);
    unlink(q);
    snprintf(q, sizeof q, "%s/pngs", root);
    rmdir(q);
    rmdir(root);
    unlink(p);
    rmdir(outside);
}

/* train.lr_decay and tricks.ema: null, objects with absent fields defaulted, every
 * bad value named by its path, and the normalized form parses back. */
static void lr_decay_and_ema(void **state)
{
    (void)state;
    struct gc_spec s;
    expect_ok("{\"dataset\":{\"name\":\"fashion-mnist\"}}", &s);
    assert_int_equal(s.train.lr_decay.on, 0);
    assert_true(s.tricks.ema == 0.0f);
    expect_ok("{\"dataset\":{\"name\":\"fashion-mnist\"},\"train\":{\"lr_decay\":"
              "{\"start\":0.75,\"factor\":0.1,\"shape\":\"step\"}},\"tricks\":{\"ema\":0.999}}",
              &s);
    assert_int_equal(s.train.lr_decay.on, 1);
    assert_true(s.train.lr_decay.start == 0.75f);
    assert_true(s.train.lr_decay.factor == 0.1f);
    assert_int_equal(s.train.lr_decay.shape, GC_DECAY_STEP);
    assert_true(s.tricks.ema == 0.999f);
    char *js = ga_spec_to_json(&s);
    assert_non_null(strstr(js, "\"lr_decay\":{\"start\":0.75,\"factor\":0.1,\"shape\":\"step\"}"));
    assert_non_null(strstr(js, "\"ema\":0.999"));
    struct gc_spec back;
    expect_ok(js, &back);
    char *js2 = ga_spec_to_json(&back);
    assert_string_equal(js, js2);
    free(js), free(js2);

    /* one field named (as `ganctl --set train.lr_decay.start=0.6` sends it): the others
     * take their defaults; an empty object turns the default schedule on */
    expect_ok("{\"train\":{\"lr_decay\":{\"start\":0.6}}}", &s);
    assert_int_equal(s.train.lr_decay.on, 1);
    assert_true(s.train.lr_decay.start == 0.6f);
    assert_true(s.train.lr_decay.factor == 0.01f);
    assert_int_equal(s.train.lr_decay.shape, GC_DECAY_LINEAR);
    expect_ok("{\"train\":{\"lr_decay\":{}}}", &s);
    assert_int_equal(s.train.lr_decay.on, 1);
    /* null turns off what a dataset's defaults turned on */
    expect_ok("{\"dataset\":{\"name\":\"ring8\"},\"train\":{\"lr_decay\":null},"
              "\"tricks\":{\"ema\":null}}",
              &s);
    assert_int_equal(s.train.lr_decay.on, 0);
    assert_true(s.tricks.ema == 0.0f);
    js = ga_spec_to_json(&s);
    assert_non_null(strstr(js, "\"lr_decay\":null"));
    assert_non_null(strstr(js, "\"ema\":null"));
    free(js);

    expect_error("{\"train\":{\"lr_decay\":0.5}}", "train.lr_decay");
    expect_error("{\"train\":{\"lr_decay\":\"linear\"}}", "train.lr_decay");
    expect_error("{\"train\":{\"lr_decay\":{\"start\":1}}}", "train.lr_decay.start");
    expect_error("{\"train\":{\"lr_decay\":{\"start\":-0.5}}}", "train.lr_decay.start");
    expect_error("{\"train\":{\"lr_decay\":{\"start\":\"half\"}}}", "train.lr_decay.start");
    expect_error("{\"train\":{\"lr_decay\":{\"factor\":0}}}", "train.lr_decay.factor");
    expect_error("{\"train\":{\"lr_decay\":{\"factor\":2}}}", "train.lr_decay.factor");
    expect_error("{\"train\":{\"lr_decay\":{\"shape\":\"cosine\"}}}", "train.lr_decay.shape");
    expect_error("{\"train\":{\"lr_decay\":{\"shape\":1}}}", "train.lr_decay.shape");
    expect_error("{\"train\":{\"lr_decay\":{\"end\":0.9}}}", "train.lr_decay.end");
    expect_error("{\"tricks\":{\"ema\":1}}", "tricks.ema");
    expect_error("{\"tricks\":{\"ema\":0}}", "tricks.ema");
    expect_error("{\"tricks\":{\"ema\":-0.9}}", "tricks.ema");
    expect_error("{\"tricks\":{\"ema\":true}}", "tricks.ema");

    /* both range errors at once */
    json_t *errors = NULL;
    assert_int_equal(parse("{\"train\":{\"lr_decay\":{\"start\":3,\"factor\":-1}},"
                           "\"tricks\":{\"ema\":5}}",
                           NULL, &s, &errors),
                     GC_EINVAL);
    assert_true(has_field(errors, "train.lr_decay.start"));
    assert_true(has_field(errors, "train.lr_decay.factor"));
    assert_true(has_field(errors, "tricks.ema"));
    json_decref(errors);
}

/* A spec stored before the fields existed (no lr_decay, no ema) still loads. */
static void stored_spec_without_new_fields_loads(void **state)
{
    (void)state;
    struct gc_spec s;
    struct gc_error err = {0};
    const char *old = "{\"name\":\"x\",\"dataset\":{\"name\":\"fashion-mnist\",\"split\":\"train\","
                      "\"classes\":null,\"path\":null,\"image_size\":null,\"channels\":null},"
                      "\"train\":{\"steps\":10,\"batch_size\":8,\"d_steps\":1,\"seed\":3},"
                      "\"tricks\":{\"label_smoothing\":null,\"feature_matching\":false,"
                      "\"unrolled_steps\":0,\"generators\":1,\"weight_clip\":null}}";
    assert_int_equal(ga_spec_parse_stored(old, "/nonexistent", &s, &err), 0);
    assert_int_equal(s.train.lr_decay.on, 0);
    assert_true(s.tricks.ema == 0.0f);
}

/* A preset fills in its recipe, the loss included; every field given wins; the
 * normalized form says what came out and parses back to the same spec. */
static void presets_fill_in_and_yield(void **state)
{
    (void)state;
    struct gc_spec s;
    expect_ok("{\"preset\":\"wgan-gp\"}", &s);
    assert_int_equal(s.preset, GC_PRESET_WGAN_GP);
    assert_int_equal(s.loss, GC_LOSS_WASSERSTEIN);
    assert_int_equal(s.train.d_steps, 5);
    assert_true(s.opt_g.kind == GC_OPTIM_ADAM && s.opt_g.lr == 1e-4f && s.opt_g.beta1 == 0.0f &&
                s.opt_g.beta2 == 0.9f && s.opt_d.lr == 1e-4f);
    assert_true(s.tricks.penalty.on && s.tricks.penalty.kind == GC_PENALTY_WGAN_GP &&
                s.tricks.penalty.weight == 10.0f && s.tricks.penalty.every == 1);
    assert_true(s.tricks.weight_clip == 0.0f);
    assert_int_equal(s.model.d_batch_norm, 0);
    assert_int_equal(s.model.batch_norm, 1);
    assert_string_equal(s.name, "fashion-mnist-wgan-gp");

    expect_ok("{\"preset\":\"sngan\",\"dataset\":{\"name\":\"ring8\"}}", &s);
    assert_int_equal(s.loss, GC_LOSS_HINGE);
    assert_true(s.model.spectral_norm && s.opt_g.lr == 1e-4f && s.opt_d.lr == 4e-4f);
    assert_int_equal(s.model.layers, 4); /* the 2D defaults stay */
    assert_int_equal(s.train.lr_decay.on, 1);
    expect_ok("{\"preset\":\"lsgan\"}", &s);
    assert_int_equal(s.loss, GC_LOSS_LEAST_SQUARES);
    expect_ok("{\"preset\":\"dcgan\"}", &s);
    assert_true(s.loss == GC_LOSS_NONSATURATING && s.opt_d.lr == 2e-4f && s.opt_d.beta1 == 0.5f);

    /* field by field: the loss, an optimizer's rate, the penalty's weight */
    expect_ok("{\"preset\":\"wgan-gp\",\"loss\":\"hinge\",\"optimizer\":{\"d\":{\"lr\":3e-4}},"
              "\"tricks\":{\"gradient_penalty\":{\"weight\":5}}}",
              &s);
    assert_int_equal(s.loss, GC_LOSS_HINGE);
    assert_true(s.opt_d.lr == 3e-4f && s.opt_d.beta2 == 0.9f && s.opt_g.lr == 1e-4f);
    assert_true(s.tricks.penalty.on && s.tricks.penalty.weight == 5.0f);
    assert_int_equal(s.train.d_steps, 5);
    /* null turns the preset's penalty off; d_batch_norm null keeps the preset's */
    expect_ok("{\"preset\":\"wgan-gp\",\"tricks\":{\"gradient_penalty\":null,"
              "\"weight_clip\":0.01},\"model\":{\"d_batch_norm\":null}}",
              &s);
    assert_true(!s.tricks.penalty.on && s.tricks.weight_clip == 0.01f);
    assert_int_equal(s.model.d_batch_norm, 0);

    char *js = ga_spec_to_json(&s);
    assert_non_null(strstr(js, "\"preset\":\"wgan-gp\""));
    assert_non_null(strstr(js, "\"gradient_penalty\":null"));
    struct gc_spec back;
    expect_ok(js, &back);
    char *js2 = ga_spec_to_json(&back);
    assert_string_equal(js, js2);
    free(js), free(js2);

    expect_ok("{\"preset\":null}", &s);
    assert_int_equal(s.preset, GC_PRESET_NONE);
    js = ga_spec_to_json(&s);
    assert_non_null(strstr(js, "\"preset\":null"));
    assert_non_null(strstr(js, "\"d_batch_norm\":null"));
    free(js);
    expect_error("{\"preset\":\"biggan\"}", "preset");
    expect_error("{\"preset\":3}", "preset");
    /* the recipe's rule: clipping given with the wgan-gp penalty */
    expect_error("{\"preset\":\"wgan-gp\",\"tricks\":{\"weight_clip\":0.01}}",
                 "tricks.weight_clip");
    /* a preset under a task: the task's arch and PatchGAN over the preset's; the
     * toolkit's D-side tricks, which the task's D step lacks, are refused by name */
    expect_ok("{\"preset\":\"lsgan\",\"task\":{\"kind\":\"super-resolution\"}}", &s);
    assert_int_equal(s.preset, GC_PRESET_LSGAN);
    assert_int_equal(s.loss, GC_LOSS_LEAST_SQUARES);
    assert_int_equal(s.model.arch, GC_ARCH_UNET);
    assert_true(s.opt_d.beta1 == 0.5f);
    expect_error("{\"preset\":\"sngan\",\"task\":{\"kind\":\"edges\"}}", "model.spectral_norm");
    expect_error("{\"preset\":\"wgan-gp\",\"task\":{\"kind\":\"edges\"}}",
                 "tricks.gradient_penalty");
    expect_error("{\"task\":{\"kind\":\"edges\"},\"tricks\":{\"diffaugment\":\"color\"}}",
                 "tricks.diffaugment");
}

/* The toolkit's own fields: the penalty's object, the augmentation list, subsets. */
static void toolkit_fields(void **state)
{
    (void)state;
    struct gc_spec s;
    expect_ok("{\"tricks\":{\"gradient_penalty\":{\"kind\":\"r1\",\"every\":16},"
              "\"diffaugment\":\"cutout,color\"},\"dataset\":{\"subset\":1000},"
              "\"model\":{\"spectral_norm\":true,\"d_batch_norm\":true}}",
              &s);
    assert_true(s.tricks.penalty.on && s.tricks.penalty.kind == GC_PENALTY_R1 &&
                s.tricks.penalty.weight == 10.0f && s.tricks.penalty.every == 16);
    assert_int_equal(s.tricks.diffaugment, 1u | 4u);
    assert_int_equal(s.dataset.subset, 1000);
    assert_true(s.model.spectral_norm && s.model.d_batch_norm == 1);
    char *js = ga_spec_to_json(&s);
    assert_non_null(strstr(js, "\"diffaugment\":\"color,cutout\"")); /* canonical order */
    assert_non_null(strstr(js, "\"subset\":1000"));
    assert_non_null(strstr(js, "\"gradient_penalty\":{\"kind\":\"r1\",\"weight\":10.0,"
                               "\"every\":16}"));
    free(js);
    expect_error("{\"tricks\":{\"diffaugment\":\"color,zoom\"}}", "tricks.diffaugment");
    expect_error("{\"tricks\":{\"diffaugment\":\"color,color\"}}", "tricks.diffaugment");
    expect_error("{\"tricks\":{\"diffaugment\":\"\"}}", "tricks.diffaugment");
    expect_error("{\"tricks\":{\"diffaugment\":[\"color\"]}}", "tricks.diffaugment");
    expect_error("{\"dataset\":{\"name\":\"ring8\"},\"tricks\":{\"diffaugment\":\"color\"}}",
                 "tricks.diffaugment");
    expect_error("{\"tricks\":{\"gradient_penalty\":{\"kind\":\"dragan\"}}}",
                 "tricks.gradient_penalty.kind");
    expect_error("{\"tricks\":{\"gradient_penalty\":{\"weight\":0}}}",
                 "tricks.gradient_penalty.weight");
    expect_error("{\"tricks\":{\"gradient_penalty\":{\"every\":0}}}",
                 "tricks.gradient_penalty.every");
    expect_error("{\"tricks\":{\"gradient_penalty\":{\"lambda\":10}}}",
                 "tricks.gradient_penalty.lambda");
    expect_error("{\"tricks\":{\"gradient_penalty\":{},\"generators\":3}}",
                 "tricks.gradient_penalty");
    expect_error("{\"dataset\":{\"subset\":0}}", "dataset.subset");
    expect_error("{\"dataset\":{\"name\":\"grid25\",\"subset\":10}}", "dataset.subset");
    expect_error("{\"model\":{\"d_batch_norm\":1}}", "model.d_batch_norm");
    expect_error("{\"dataset\":{\"name\":\"ring8\"},\"model\":{\"d_batch_norm\":true}}",
                 "model.d_batch_norm");
}

/* Walks the normalized JSON: every value has a row of a matching type, and *seen
 * marks the rows met. */
static void walk_normalized(json_t *obj, const char *prefix, char *seen)
{
    int n;
    const struct gc_spec_field *t = gc_spec_fields(&n);
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        char path[128];
        snprintf(path, sizeof path, "%s%s%s", prefix, prefix[0] ? "." : "", key);
        const struct gc_spec_field *f = gc_spec_field_find(path);
        if (!f) {
            print_error("%s is in the normalized spec but not in the table\n", path);
            fail();
        }
        seen[f - t] = 1;
        int ok;
        if (json_is_null(v)) {
            ok = f->null != GC_NULL_NEVER;
        } else {
            switch (f->type) {
            case GC_FIELD_OBJECT:
                ok = json_is_object(v);
                if (ok)
                    walk_normalized(v, path, seen);
                break;
            case GC_FIELD_INT:
            case GC_FIELD_INT64:
            case GC_FIELD_U64:
                ok = json_is_integer(v);
                break;
            case GC_FIELD_FLOAT:
                ok = json_is_number(v);
                break;
            case GC_FIELD_BOOL:
                ok = json_is_boolean(v);
                break;
            case GC_FIELD_ENUM:
                ok = json_is_string(v);
                break;
            case GC_FIELD_STRING:
            case GC_FIELD_PATH:
                ok = json_is_string(v);
                break;
            case GC_FIELD_CLASSES:
                ok = json_is_array(v);
                break;
            case GC_FIELD_SMOOTHING:
                ok = json_is_number(v) || json_is_array(v);
                break;
            case GC_FIELD_FLAGS:
                ok = json_is_string(v);
                break;
            default:
                ok = 0;
            }
        }
        if (!ok) {
            print_error("%s: its JSON value does not fit its row's type\n", path);
            fail();
        }
    }
}

/* The table and the struct agree: every value of the normalized JSON has a row, and
 * every row appears in the normalized JSON of a spec that turns every section on. */
static void table_and_normalized_json_agree(void **state)
{
    (void)state;
    static const char *const specs[] = {
        "{\"dataset\":{\"name\":\"ring8\"},\"tricks\":{\"label_smoothing\":[0.8,1.0],"
        "\"ema\":0.999}}",
        "{\"dataset\":{\"name\":\"fashion-mnist\",\"classes\":[1,2]},\"loss\":\"wasserstein\","
        "\"train\":{\"lr_decay\":{}}}",
        "{\"dataset\":{\"name\":\"png-dir\",\"path\":\"p\",\"subset\":100},"
        "\"tricks\":{\"gradient_penalty\":{\"kind\":\"r1\"},\"diffaugment\":\"cutout\"}}",
        "{\"preset\":\"sngan\",\"model\":{\"d_batch_norm\":true}}",
        "{\"dataset\":{\"name\":\"png-dir\",\"path\":\"p\"},"
        "\"task\":{\"kind\":\"paired\",\"source_path\":\"q\"}}",
    };
    int n;
    gc_spec_fields(&n);
    char *seen = calloc((size_t)n, 1);
    assert_non_null(seen);
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        struct gc_spec s;
        expect_ok(specs[i], &s);
        json_t *v = ga_spec_to_value(&s, NULL);
        assert_non_null(v);
        walk_normalized(v, "", seen);
        json_decref(v);
    }
    const struct gc_spec_field *t = gc_spec_fields(&n);
    for (int i = 0; i < n; i++)
        if (!seen[i]) {
            print_error("%s is in the table but not in the normalized spec\n", t[i].path);
            fail();
        }
    free(seen);
}

/* Five problems in five places (a rule, a type, a range, an unknown key, a range),
 * all in one answer. */
static void five_problems_in_one_answer(void **state)
{
    (void)state;
    struct gc_spec s;
    json_t *errors = NULL;
    const char *text = "{\"dataset\":{\"name\":\"ring8\",\"split\":\"test\"},"
                       "\"model\":{\"z_dim\":\"x\"},\"train\":{\"steps\":0},"
                       "\"optimizer\":{\"g\":{\"momentum\":0.9}},\"every\":{\"log\":-1}}";
    assert_int_equal(parse(text, NULL, &s, &errors), GC_EINVAL);
    assert_int_equal(json_array_size(errors), 5);
    assert_true(has_field(errors, "dataset.split"));
    assert_true(has_field(errors, "model.z_dim"));
    assert_true(has_field(errors, "train.steps"));
    assert_true(has_field(errors, "optimizer.g.momentum"));
    assert_true(has_field(errors, "every.log"));
    json_decref(errors);

    /* the struct itself, and its one-line summary */
    struct gc_field_errors fe;
    struct gc_error err = {0};
    assert_int_equal(ga_spec_parse(text, strlen(text), NULL, &s, &fe, &err), GC_EINVAL);
    assert_int_equal(fe.n, 5);
    assert_string_equal(fe.e[0].field, "model.z_dim"); /* types first, as they are read */
    assert_string_equal(fe.e[0].message, "must be an integer, not a string");
    assert_string_equal(err.msg, "model.z_dim: must be an integer, not a string (and 4 more)");
    /* a good spec empties the list */
    assert_int_equal(ga_spec_parse("{}", 2, NULL, &s, &fe, &err), 0);
    assert_int_equal(fe.n, 0);
}

/* More problems than the list holds: the first GC_MAX_FIELD_ERRORS are kept, the rest
 * counted, and the summary counts them all. */
static void too_many_problems_are_counted(void **state)
{
    (void)state;
    char text[1024] = "{\"dataset\":{\"name\":\"fashion-mnist\",\"classes\":[";
    for (int i = 0; i < 40; i++)
        strcat(text, i ? ",10" : "10");
    strcat(text, "]}}");
    struct gc_spec s;
    struct gc_field_errors fe;
    struct gc_error err = {0};
    assert_int_equal(ga_spec_parse(text, strlen(text), NULL, &s, &fe, &err), GC_EINVAL);
    assert_int_equal(fe.n, GC_MAX_FIELD_ERRORS);
    assert_int_equal(fe.dropped, 40 - GC_MAX_FIELD_ERRORS);
    assert_string_equal(fe.e[GC_MAX_FIELD_ERRORS - 1].field, "dataset.classes[31]");
    assert_non_null(strstr(err.msg, "(and 39 more)"));
    json_t *a = ga_field_errors_to_value(&fe);
    assert_int_equal(json_array_size(a), GC_MAX_FIELD_ERRORS);
    json_decref(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ring8_defaults),
        cmocka_unit_test(wasserstein_defaults),
        cmocka_unit_test(normalized_has_every_field),
        cmocka_unit_test(normalize_keeps_user_path),
        cmocka_unit_test(type_errors_name_the_field),
        cmocka_unit_test(unknown_fields_rejected),
        cmocka_unit_test(limits),
        cmocka_unit_test(every_range_error_reported),
        cmocka_unit_test(combinations),
        cmocka_unit_test(smoothing_and_classes_forms),
        cmocka_unit_test(bad_json),
        cmocka_unit_test(dataset_paths_stay_inside_the_root),
        cmocka_unit_test(lr_decay_and_ema),
        cmocka_unit_test(stored_spec_without_new_fields_loads),
        cmocka_unit_test(presets_fill_in_and_yield),
        cmocka_unit_test(toolkit_fields),
        cmocka_unit_test(table_and_normalized_json_agree),
        cmocka_unit_test(five_problems_in_one_answer),
        cmocka_unit_test(too_many_problems_are_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
