/* spec_json.c — strict JSON parsing of the run spec (design.md section 3) and its
 * normalized form.
 *
 * Parsing runs in three passes. The first reads dataset.name and loss, because the
 * defaults depend on them (gc_spec_defaults). The second walks every object, rejecting
 * unknown fields and wrong types and writing the given values over the defaults; every
 * problem is collected with its field path, so a client sees all of them at once. The
 * third asks gc_spec_check for ranges and combinations; since it stops at the first
 * problem, the offending field is reset to its default and the check repeated, which
 * yields every range error too. Dataset paths are resolved inside the dataset root last. */
#include "api/spec_json.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"
#define MAX_CHECK_ROUNDS 40

struct pctx {
    json_t *errors; /* [{field, message}] */
};

static void add_error(struct pctx *c, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add_error(struct pctx *c, const char *field, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *e = json_object();
    json_object_set_new(e, "field", json_string(field));
    json_t *m = json_string(msg);
    json_object_set_new(e, "message", m ? m : json_string("invalid value"));
    json_array_append_new(c->errors, e);
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "?";
}

static void path_join(char *out, size_t n, const char *prefix, const char *key)
{
    if (prefix && *prefix)
        snprintf(out, n, "%s.%s", prefix, key);
    else
        snprintf(out, n, "%s", key);
}

/* Rejects keys of obj that are not in allowed (NULL-terminated). */
static void check_keys(struct pctx *c, json_t *obj, const char *prefix, const char *const *allowed)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        int ok = 0;
        for (int i = 0; allowed[i] && !ok; i++)
            ok = strcmp(key, allowed[i]) == 0;
        if (!ok) {
            char f[256], list[256] = "";
            path_join(f, sizeof f, prefix, key);
            for (int i = 0; allowed[i]; i++) {
                strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
                strncat(list, allowed[i], sizeof list - strlen(list) - 1);
            }
            add_error(c, f, "unknown field; expected one of: %s", list);
        }
    }
}

/* Each getter returns 1 when the key is present with the right type (and stores it),
 * 0 when absent, -1 after recording a type error. */

static int get_object(struct pctx *c, json_t *obj, const char *key, const char *f, json_t **out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    if (!json_is_object(v)) {
        add_error(c, f, "must be an object, not %s", type_name(v));
        return -1;
    }
    *out = v;
    return 1;
}

static int get_int64(struct pctx *c, json_t *obj, const char *key, const char *f, int64_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    if (!json_is_integer(v)) {
        add_error(c, f, "must be an integer, not %s", type_name(v));
        return -1;
    }
    *out = json_integer_value(v);
    return 1;
}

/* Values beyond int are clamped so that gc_spec_check reports the documented range. */
static int get_int(struct pctx *c, json_t *obj, const char *key, const char *f, int *out)
{
    int64_t v;
    int rc = get_int64(c, obj, key, f, &v);
    if (rc == 1)
        *out = v > INT_MAX ? INT_MAX : v < INT_MIN ? INT_MIN : (int)v;
    return rc;
}

static int get_float(struct pctx *c, json_t *obj, const char *key, const char *f, float *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    if (!json_is_number(v)) {
        add_error(c, f, "must be a number, not %s", type_name(v));
        return -1;
    }
    *out = (float)json_number_value(v);
    return 1;
}

static int get_bool(struct pctx *c, json_t *obj, const char *key, const char *f, int *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    if (!json_is_boolean(v)) {
        add_error(c, f, "must be true or false, not %s", type_name(v));
        return -1;
    }
    *out = json_is_true(v);
    return 1;
}

static int get_string(struct pctx *c, json_t *obj, const char *key, const char *f, const char **out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    if (!json_is_string(v)) {
        add_error(c, f, "must be a string, not %s", type_name(v));
        return -1;
    }
    *out = json_string_value(v);
    return 1;
}

/* A string from a fixed list; *out is its index. */
static int get_enum(struct pctx *c, json_t *obj, const char *key, const char *f,
                    int (*from_name)(const char *), const char *choices, int *out)
{
    const char *s;
    int rc = get_string(c, obj, key, f, &s);
    if (rc != 1)
        return rc;
    int v = from_name(s);
    if (v < 0) {
        add_error(c, f, "unknown value '%.60s'; expected one of: %s", s, choices);
        return -1;
    }
    *out = v;
    return 1;
}

static int split_from_name(const char *s)
{
    return strcmp(s, "train") == 0 ? 0 : strcmp(s, "test") == 0 ? 1 : -1;
}

/* ---- the sections -------------------------------------------------------------- */

static void parse_dataset(struct pctx *c, json_t *d, struct gc_spec *s, const char **user_path)
{
    static const char *const keys[] = {"name",       "split",    "classes", "path",
                                       "image_size", "channels", NULL};
    check_keys(c, d, "dataset", keys);
    int split;
    if (get_enum(c, d, "split", "dataset.split", split_from_name, "train, test", &split) == 1)
        s->dataset.test_split = split;

    json_t *v = json_object_get(d, "classes");
    if (v && !json_is_null(v)) {
        if (!json_is_array(v)) {
            add_error(c, "dataset.classes", "must be null or an array of integers 0 to 9, not %s",
                      type_name(v));
        } else if (json_array_size(v) == 0) {
            add_error(c, "dataset.classes", "must list at least one class (null keeps all)");
        } else {
            uint32_t mask = 0;
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e)
            {
                char f[64];
                snprintf(f, sizeof f, "dataset.classes[%zu]", i);
                if (!json_is_integer(e)) {
                    add_error(c, f, "must be an integer 0 to 9, not %s", type_name(e));
                    continue;
                }
                json_int_t k = json_integer_value(e);
                if (k < 0 || k > 9) {
                    add_error(c, f, "must be between 0 and 9");
                    continue;
                }
                if (mask & (1u << k))
                    add_error(c, f, "class %lld is listed twice", (long long)k);
                mask |= 1u << k;
            }
            s->dataset.classes = mask;
        }
    }

    v = json_object_get(d, "path");
    if (v && !json_is_null(v)) {
        if (!json_is_string(v)) {
            add_error(c, "dataset.path", "must be null or a string, not %s", type_name(v));
        } else {
            const char *p = json_string_value(v);
            size_t n = json_string_length(v);
            if (n == 0)
                add_error(c, "dataset.path", "must not be empty (use null for none)");
            else if (n >= GC_PATH_MAX || strlen(p) != n)
                add_error(c, "dataset.path", "must be a path shorter than %d bytes without NUL",
                          GC_PATH_MAX);
            else {
                memcpy(s->dataset.path, p, n + 1);
                *user_path = p;
            }
        }
    }

    static const struct {
        const char *key, *field;
        size_t off;
    } ints[] = {
        {"image_size", "dataset.image_size", offsetof(struct gc_dataset_spec, image_size)},
        {"channels", "dataset.channels", offsetof(struct gc_dataset_spec, channels)},
    };
    for (int i = 0; i < 2; i++) {
        v = json_object_get(d, ints[i].key);
        if (v && !json_is_null(v))
            get_int(c, d, ints[i].key, ints[i].field, (int *)((char *)&s->dataset + ints[i].off));
    }
}

static void parse_model(struct pctx *c, json_t *m, struct gc_spec *s)
{
    static const char *const keys[] = {"arch",   "z_dim",      "g_width", "d_width", "hidden",
                                       "layers", "batch_norm", "patch",   NULL};
    check_keys(c, m, "model", keys);
    int arch;
    if (get_enum(c, m, "arch", "model.arch", gc_arch_from_name, "mlp, dcgan", &arch) == 1)
        s->model.arch = (enum gc_arch)arch;
    get_int(c, m, "z_dim", "model.z_dim", &s->model.z_dim);
    get_int(c, m, "g_width", "model.g_width", &s->model.g_width);
    get_int(c, m, "d_width", "model.d_width", &s->model.d_width);
    get_int(c, m, "hidden", "model.hidden", &s->model.hidden);
    get_int(c, m, "layers", "model.layers", &s->model.layers);
    get_bool(c, m, "batch_norm", "model.batch_norm", &s->model.batch_norm);
    get_bool(c, m, "patch", "model.patch", &s->model.patch);
}

/* train.lr_decay: null (constant rates) or an object whose absent fields keep their
 * defaults; an object turns the schedule on. */
static void parse_lr_decay(struct pctx *c, json_t *t, struct gc_spec *s)
{
    json_t *v = json_object_get(t, "lr_decay");
    if (!v)
        return;
    if (json_is_null(v)) {
        s->train.lr_decay.on = 0;
        return;
    }
    if (!json_is_object(v)) {
        add_error(c, "train.lr_decay", "must be null or an object {start, factor, shape}, not %s",
                  type_name(v));
        return;
    }
    static const char *const keys[] = {"start", "factor", "shape", NULL};
    check_keys(c, v, "train.lr_decay", keys);
    struct gc_lr_decay_spec *d = &s->train.lr_decay;
    d->on = 1;
    get_float(c, v, "start", "train.lr_decay.start", &d->start);
    get_float(c, v, "factor", "train.lr_decay.factor", &d->factor);
    int shape;
    if (get_enum(c, v, "shape", "train.lr_decay.shape", gc_decay_shape_from_name, "linear, step",
                 &shape) == 1)
        d->shape = (enum gc_decay_shape)shape;
}

static void parse_train(struct pctx *c, json_t *t, struct gc_spec *s)
{
    static const char *const keys[] = {"steps", "batch_size", "d_steps", "seed", "lr_decay", NULL};
    check_keys(c, t, "train", keys);
    int64_t v;
    if (get_int64(c, t, "steps", "train.steps", &v) == 1)
        s->train.steps = v;
    get_int(c, t, "batch_size", "train.batch_size", &s->train.batch_size);
    get_int(c, t, "d_steps", "train.d_steps", &s->train.d_steps);
    if (get_int64(c, t, "seed", "train.seed", &v) == 1)
        s->train.seed = v < 0 ? UINT64_MAX : (uint64_t)v; /* negative: out of range */
    parse_lr_decay(c, t, s);
}

static void parse_optim(struct pctx *c, json_t *o, const char *who, struct gc_optim_spec *out)
{
    static const char *const keys[] = {"kind", "lr", "beta1", "beta2", "eps", NULL};
    char prefix[32], f[64];
    snprintf(prefix, sizeof prefix, "optimizer.%s", who);
    check_keys(c, o, prefix, keys);
    int kind;
    snprintf(f, sizeof f, "%s.kind", prefix);
    if (get_enum(c, o, "kind", f, gc_optim_from_name, "adam, sgd, rmsprop", &kind) == 1)
        out->kind = (enum gc_optim_kind)kind;
    snprintf(f, sizeof f, "%s.lr", prefix);
    get_float(c, o, "lr", f, &out->lr);
    snprintf(f, sizeof f, "%s.beta1", prefix);
    get_float(c, o, "beta1", f, &out->beta1);
    snprintf(f, sizeof f, "%s.beta2", prefix);
    get_float(c, o, "beta2", f, &out->beta2);
    snprintf(f, sizeof f, "%s.eps", prefix);
    get_float(c, o, "eps", f, &out->eps);
}

static void parse_tricks(struct pctx *c, json_t *t, struct gc_spec *s)
{
    static const char *const keys[] = {"label_smoothing", "feature_matching", "unrolled_steps",
                                       "generators",      "weight_clip",      "ema",
                                       NULL};
    check_keys(c, t, "tricks", keys);
    json_t *v = json_object_get(t, "label_smoothing");
    if (v && !json_is_null(v)) {
        if (json_is_number(v)) {
            s->tricks.smoothing = GC_SMOOTH_FIXED;
            s->tricks.smooth_lo = s->tricks.smooth_hi = (float)json_number_value(v);
        } else if (json_is_array(v) && json_array_size(v) == 2 &&
                   json_is_number(json_array_get(v, 0)) && json_is_number(json_array_get(v, 1))) {
            s->tricks.smoothing = GC_SMOOTH_RANGE;
            s->tricks.smooth_lo = (float)json_number_value(json_array_get(v, 0));
            s->tricks.smooth_hi = (float)json_number_value(json_array_get(v, 1));
        } else {
            add_error(c, "tricks.label_smoothing",
                      "must be null, a number or an array [lo, hi] of two numbers, not %s%s",
                      type_name(v), json_is_array(v) ? " of another shape" : "");
        }
    }
    get_bool(c, t, "feature_matching", "tricks.feature_matching", &s->tricks.feature_matching);
    get_int(c, t, "unrolled_steps", "tricks.unrolled_steps", &s->tricks.unrolled_steps);
    get_int(c, t, "generators", "tricks.generators", &s->tricks.generators);
    v = json_object_get(t, "weight_clip");
    if (v && json_is_null(v))
        s->tricks.weight_clip = 0.0f;
    else if (v && !json_is_number(v))
        add_error(c, "tricks.weight_clip", "must be null or a number, not %s", type_name(v));
    else if (v) {
        s->tricks.weight_clip = (float)json_number_value(v);
        if (!(s->tricks.weight_clip > 0.0f))
            add_error(c, "tricks.weight_clip", "must be in (0, 10] (null turns clipping off)");
    }
    v = json_object_get(t, "ema");
    if (v && json_is_null(v))
        s->tricks.ema = 0.0f;
    else if (v && !json_is_number(v))
        add_error(c, "tricks.ema", "must be null or a number in (0, 1), not %s", type_name(v));
    else if (v) {
        s->tricks.ema = (float)json_number_value(v);
        if (!(s->tricks.ema > 0.0f))
            add_error(c, "tricks.ema", "must be a decay in (0, 1) such as 0.999 (null turns "
                      "the average off)");
    }
}

static void parse_every(struct pctx *c, json_t *e, struct gc_spec *s)
{
    static const char *const keys[] = {"log", "sample", "checkpoint", "eval", NULL};
    check_keys(c, e, "every", keys);
    int64_t v;
    if (get_int64(c, e, "log", "every.log", &v) == 1)
        s->every.log = v;
    if (get_int64(c, e, "sample", "every.sample", &v) == 1)
        s->every.sample = v;
    if (get_int64(c, e, "checkpoint", "every.checkpoint", &v) == 1)
        s->every.checkpoint = v;
    if (get_int64(c, e, "eval", "every.eval", &v) == 1)
        s->every.eval = v;
}

/* ---- ranges and combinations via gc_spec_check --------------------------------- */

struct field_slot {
    const char *path;
    size_t off, size;
};

#define SLOT(path, member)                                                                         \
    {                                                                                              \
        path, offsetof(struct gc_spec, member), sizeof(((struct gc_spec *)0)->member)              \
    }

static const struct field_slot slots[] = {
    SLOT("name", name),
    SLOT("dataset.split", dataset.test_split),
    SLOT("dataset.classes", dataset.classes),
    SLOT("dataset.image_size", dataset.image_size),
    SLOT("dataset.channels", dataset.channels),
    SLOT("dataset.path", dataset.path),
    SLOT("model.arch", model.arch),
    SLOT("model.z_dim", model.z_dim),
    SLOT("model.g_width", model.g_width),
    SLOT("model.d_width", model.d_width),
    SLOT("model.hidden", model.hidden),
    SLOT("model.layers", model.layers),
    SLOT("model.batch_norm", model.batch_norm),
    SLOT("model.patch", model.patch),
    SLOT("train.steps", train.steps),
    SLOT("train.batch_size", train.batch_size),
    SLOT("train.d_steps", train.d_steps),
    SLOT("train.seed", train.seed),
    SLOT("train.lr_decay.start", train.lr_decay.start),
    SLOT("train.lr_decay.factor", train.lr_decay.factor),
    SLOT("train.lr_decay.shape", train.lr_decay.shape),
    SLOT("optimizer.g.kind", opt_g.kind),
    SLOT("optimizer.g.lr", opt_g.lr),
    SLOT("optimizer.g.beta1", opt_g.beta1),
    SLOT("optimizer.g.beta2", opt_g.beta2),
    SLOT("optimizer.g.eps", opt_g.eps),
    SLOT("optimizer.d.kind", opt_d.kind),
    SLOT("optimizer.d.lr", opt_d.lr),
    SLOT("optimizer.d.beta1", opt_d.beta1),
    SLOT("optimizer.d.beta2", opt_d.beta2),
    SLOT("optimizer.d.eps", opt_d.eps),
    SLOT("tricks.label_smoothing", tricks.smoothing),
    SLOT("tricks.label_smoothing", tricks.smooth_lo),
    SLOT("tricks.label_smoothing", tricks.smooth_hi),
    SLOT("tricks.feature_matching", tricks.feature_matching),
    SLOT("tricks.unrolled_steps", tricks.unrolled_steps),
    SLOT("tricks.generators", tricks.generators),
    SLOT("tricks.weight_clip", tricks.weight_clip),
    SLOT("tricks.ema", tricks.ema),
    SLOT("every.log", every.log),
    SLOT("every.sample", every.sample),
    SLOT("every.checkpoint", every.checkpoint),
    SLOT("every.eval", every.eval),
};

static int has_error(struct pctx *c, const char *field)
{
    size_t i;
    json_t *e;
    json_array_foreach(c->errors, i, e)
    {
        const char *f = json_string_value(json_object_get(e, "field"));
        if (f && strcmp(f, field) == 0)
            return 1;
    }
    return 0;
}

/* Puts the default back into the field at path; 0 when the path is unknown. */
static int reset_field(struct gc_spec *s, const struct gc_spec *def, const char *path)
{
    int found = 0;
    for (size_t i = 0; i < sizeof slots / sizeof slots[0]; i++) {
        if (strcmp(slots[i].path, path) == 0) {
            memcpy((char *)s + slots[i].off, (const char *)def + slots[i].off, slots[i].size);
            found = 1;
        }
    }
    return found;
}

static void check_ranges(struct pctx *c, const struct gc_spec *s, const struct gc_spec *def)
{
    struct gc_spec work = *s;
    char seen[MAX_CHECK_ROUNDS][64];
    int nseen = 0;
    for (int round = 0; round < MAX_CHECK_ROUNDS; round++) {
        struct gc_error e = {0};
        if (gc_spec_check(&work, &e) == 0)
            return;
        char field[64] = "";
        const char *sep = strstr(e.msg, ": ");
        if (sep && (size_t)(sep - e.msg) < sizeof field) {
            memcpy(field, e.msg, (size_t)(sep - e.msg));
            field[sep - e.msg] = 0;
        }
        if (!has_error(c, field)) /* a type error there already says more */
            add_error(c, field, "%s", sep ? sep + 2 : e.msg);
        for (int i = 0; i < nseen; i++)
            if (strcmp(seen[i], field) == 0)
                return; /* the default itself fails here: nothing more to learn */
        snprintf(seen[nseen++], sizeof seen[0], "%s", field);
        if (!field[0] || !reset_field(&work, def, field))
            return;
    }
}

/* ---- dataset paths ------------------------------------------------------------- */

/* 1 when the relative path climbs above its start with "..". */
static int escapes(const char *p)
{
    int depth = 0;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            if (--depth < 0)
                return 1;
        } else if (!(n == 1 && p[0] == '.')) {
            depth++;
        }
        p += n;
    }
    return 0;
}

static void resolve_dataset(struct pctx *c, struct gc_spec *s, const char *base_dir)
{
    struct gc_dataset_spec *d = &s->dataset;
    if (!d->path[0]) {
        if (d->kind == GC_DATA_FASHION_MNIST && access(FASHION_MNIST_DIR, R_OK | X_OK) != 0)
            add_error(c, "dataset.name",
                      "fashion-mnist is not installed (%s is missing; install the Debian package "
                      "dataset-fashion-mnist)",
                      FASHION_MNIST_DIR);
        return;
    }
    char root[PATH_MAX], joined[PATH_MAX + GC_PATH_MAX], real[PATH_MAX];
    if (!realpath(base_dir, root)) {
        add_error(c, "dataset.path", "the dataset root %s does not exist on the daemon", base_dir);
        return;
    }
    const char *p = d->path;
    if (p[0] != '/' && escapes(p)) {
        add_error(c, "dataset.path", "'%.200s' leaves the dataset root", p);
        return;
    }
    if (p[0] == '/')
        snprintf(joined, sizeof joined, "%s", p);
    else
        snprintf(joined, sizeof joined, "%s/%s", root, p);
    if (!realpath(joined, real)) {
        add_error(c, "dataset.path", "'%.200s' does not exist under the dataset root (%s)", p,
                  strerror(errno));
        return;
    }
    size_t rl = strlen(root);
    int inside = rl == 1 || (strncmp(real, root, rl) == 0 && (real[rl] == '/' || real[rl] == 0));
    if (!inside) {
        add_error(c, "dataset.path", "'%.200s' leaves the dataset root", p);
        return;
    }
    struct stat st;
    int want_dir = d->kind != GC_DATA_IDX;
    if (stat(real, &st) != 0 || (want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))) {
        add_error(c, "dataset.path", "'%.200s' is not a %s", p,
                  want_dir ? "folder" : "regular file");
        return;
    }
    if (access(real, want_dir ? R_OK | X_OK : R_OK) != 0) {
        add_error(c, "dataset.path", "'%.200s' is not readable by the daemon", p);
        return;
    }
    if (strlen(real) >= sizeof d->path) {
        add_error(c, "dataset.path", "the resolved path is too long");
        return;
    }
    memcpy(d->path, real, strlen(real) + 1);
}

/* ---- entry points -------------------------------------------------------------- */

static int parse_root(struct pctx *c, json_t *root, const char *base_dir, struct gc_spec *out,
                      const char **user_path)
{
    static const char *const keys[] = {"name",      "dataset", "model", "loss", "train",
                                       "optimizer", "tricks",  "every", NULL};
    if (!json_is_object(root)) {
        add_error(c, "", "the spec must be a JSON object, not %s", type_name(root));
        return -1;
    }
    check_keys(c, root, "", keys);

    json_t *dataset = NULL;
    int kind = GC_DATA_FASHION_MNIST, loss = GC_LOSS_NONSATURATING;
    static const char datasets[] = "fashion-mnist, idx, png-dir, ring8, grid25";
    static const char losses[] = "minimax, nonsaturating, wasserstein, least-squares, hinge";
    if (get_object(c, root, "dataset", "dataset", &dataset) == 1)
        get_enum(c, dataset, "name", "dataset.name", gc_dataset_from_name, datasets, &kind);
    get_enum(c, root, "loss", "loss", gc_loss_from_name, losses, &loss);

    struct gc_spec def;
    gc_spec_defaults(&def, (enum gc_dataset_kind)kind, (enum gc_loss)loss);
    *out = def;

    const char *name;
    if (get_string(c, root, "name", "name", &name) == 1) {
        size_t n = strlen(name);
        if (n < 1 || n > GC_MAX_NAME || n != json_string_length(json_object_get(root, "name")))
            add_error(c, "name", "must be 1 to %d printable characters", GC_MAX_NAME);
        else
            memcpy(out->name, name, n + 1);
    }
    if (dataset)
        parse_dataset(c, dataset, out, user_path);
    json_t *o;
    if (get_object(c, root, "model", "model", &o) == 1)
        parse_model(c, o, out);
    if (get_object(c, root, "train", "train", &o) == 1)
        parse_train(c, o, out);
    if (get_object(c, root, "optimizer", "optimizer", &o) == 1) {
        static const char *const okeys[] = {"g", "d", NULL};
        check_keys(c, o, "optimizer", okeys);
        json_t *which;
        if (get_object(c, o, "g", "optimizer.g", &which) == 1)
            parse_optim(c, which, "g", &out->opt_g);
        if (get_object(c, o, "d", "optimizer.d", &which) == 1)
            parse_optim(c, which, "d", &out->opt_d);
    }
    if (get_object(c, root, "tricks", "tricks", &o) == 1)
        parse_tricks(c, o, out);
    if (get_object(c, root, "every", "every", &o) == 1)
        parse_every(c, o, out);

    /* fields with type errors hold their defaults, so the ranges of the others can still
     * be checked; an unknown dataset or loss makes those defaults meaningless */
    if (!has_error(c, "dataset.name") && !has_error(c, "loss") && !has_error(c, "dataset"))
        check_ranges(c, out, &def);
    if (json_array_size(c->errors) == 0 && base_dir)
        resolve_dataset(c, out, base_dir);
    return json_array_size(c->errors) ? -1 : 0;
}

static int finish_errors(struct pctx *c, char **errors_json, struct gc_error *err)
{
    size_t n = json_array_size(c->errors);
    json_t *first = json_array_get(c->errors, 0);
    const char *f = json_string_value(json_object_get(first, "field"));
    const char *m = json_string_value(json_object_get(first, "message"));
    if (n > 1)
        gc_error_set(err, GC_EINVAL, "%s%s%s (and %zu more)", f && *f ? f : "", f && *f ? ": " : "",
                     m ? m : "invalid", n - 1);
    else
        gc_error_set(err, GC_EINVAL, "%s%s%s", f && *f ? f : "", f && *f ? ": " : "",
                     m ? m : "invalid");
    if (errors_json)
        *errors_json = json_dumps(c->errors, JSON_COMPACT);
    return GC_EINVAL;
}

int ga_spec_normalize(const char *json, size_t len, const char *base_dir, struct gc_spec *out,
                      char **normalized, char **errors_json, struct gc_error *err)
{
    if (errors_json)
        *errors_json = NULL;
    if (normalized)
        *normalized = NULL;
    struct pctx c = {json_array()};
    if (!c.errors)
        return gc_error_set(err, GC_ENOMEM, "out of memory");
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        add_error(&c, "", "not valid JSON: %s (line %d, column %d)", je.text, je.line, je.column);
        int rc = finish_errors(&c, errors_json, err);
        json_decref(c.errors);
        return rc;
    }
    struct gc_spec spec;
    const char *user_path = NULL;
    int rc = 0;
    if (parse_root(&c, root, base_dir, &spec, &user_path) != 0) {
        rc = finish_errors(&c, errors_json, err);
    } else {
        *out = spec;
        if (normalized) {
            json_t *v = ga_spec_to_value(&spec, user_path);
            *normalized = v ? json_dumps(v, GA_SPEC_DUMP_FLAGS) : NULL;
            json_decref(v);
            if (!*normalized)
                rc = gc_error_set(err, GC_ENOMEM, "out of memory");
        }
    }
    json_decref(root);
    json_decref(c.errors);
    return rc;
}

int ga_spec_parse(const char *json, size_t len, const char *base_dir, struct gc_spec *out,
                  char **errors_json, struct gc_error *err)
{
    return ga_spec_normalize(json, len, base_dir, out, NULL, errors_json, err);
}

/* Floats go out with 7 significant digits, so 0.0002f reads "0.0002", not
 * "0.00019999999494757503", and parses back to the same float. */
static json_t *real7(float f)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%.7g", (double)f);
    return json_real(strtod(buf, NULL));
}

json_t *ga_spec_to_value(const struct gc_spec *s, const char *user_path)
{
    json_t *classes = json_null();
    if (s->dataset.classes) {
        classes = json_array();
        for (int k = 0; k < 10; k++)
            if (s->dataset.classes & (1u << k))
                json_array_append_new(classes, json_integer(k));
    }
    const char *path = user_path ? user_path : s->dataset.path;
    json_t *smoothing = json_null();
    if (s->tricks.smoothing == GC_SMOOTH_FIXED)
        smoothing = real7(s->tricks.smooth_lo);
    else if (s->tricks.smoothing == GC_SMOOTH_RANGE)
        smoothing = json_pack("[o,o]", real7(s->tricks.smooth_lo), real7(s->tricks.smooth_hi));

    json_t *opt[2];
    const struct gc_optim_spec *os[2] = {&s->opt_g, &s->opt_d};
    for (int i = 0; i < 2; i++)
        opt[i] = json_pack("{s:s,s:o,s:o,s:o,s:o}", "kind", gc_optim_name(os[i]->kind), "lr",
                           real7(os[i]->lr), "beta1", real7(os[i]->beta1), "beta2",
                           real7(os[i]->beta2), "eps", real7(os[i]->eps));

    json_t *dataset = json_pack(
        "{s:s,s:s,s:o,s:o,s:o,s:o}", "name", gc_dataset_name(s->dataset.kind), "split",
        s->dataset.test_split ? "test" : "train", "classes", classes, "path",
        path[0] ? json_string(path) : json_null(), "image_size",
        s->dataset.image_size ? json_integer(s->dataset.image_size) : json_null(), "channels",
        s->dataset.channels ? json_integer(s->dataset.channels) : json_null());
    json_t *model =
        json_pack("{s:s,s:i,s:i,s:i,s:i,s:i,s:b,s:b}", "arch", gc_arch_name(s->model.arch), "z_dim",
                  s->model.z_dim, "g_width", s->model.g_width, "d_width", s->model.d_width,
                  "hidden", s->model.hidden, "layers", s->model.layers, "batch_norm",
                  s->model.batch_norm, "patch", s->model.patch);
    const struct gc_lr_decay_spec *ld = &s->train.lr_decay;
    json_t *decay = ld->on ? json_pack("{s:o,s:o,s:s}", "start", real7(ld->start), "factor",
                                       real7(ld->factor), "shape", gc_decay_shape_name(ld->shape))
                           : json_null();
    json_t *train = json_pack("{s:I,s:i,s:i,s:I,s:o}", "steps", (json_int_t)s->train.steps,
                              "batch_size", s->train.batch_size, "d_steps", s->train.d_steps,
                              "seed", (json_int_t)s->train.seed, "lr_decay", decay);
    json_t *tricks = json_pack(
        "{s:o,s:b,s:i,s:i,s:o,s:o}", "label_smoothing", smoothing, "feature_matching",
        s->tricks.feature_matching, "unrolled_steps", s->tricks.unrolled_steps, "generators",
        s->tricks.generators, "weight_clip",
        s->tricks.weight_clip > 0.0f ? real7(s->tricks.weight_clip) : json_null(), "ema",
        s->tricks.ema > 0.0f ? real7(s->tricks.ema) : json_null());
    json_t *every = json_pack("{s:I,s:I,s:I,s:I}", "log", (json_int_t)s->every.log, "sample",
                              (json_int_t)s->every.sample, "checkpoint",
                              (json_int_t)s->every.checkpoint, "eval", (json_int_t)s->every.eval);
    return json_pack("{s:s,s:o,s:o,s:s,s:o,s:{s:o,s:o},s:o,s:o}", "name", s->name, "dataset",
                     dataset, "model", model, "loss", gc_loss_name(s->loss), "train", train,
                     "optimizer", "g", opt[0], "d", opt[1], "tricks", tricks, "every", every);
}

char *ga_spec_to_json(const struct gc_spec *spec)
{
    json_t *v = ga_spec_to_value(spec, NULL);
    char *s = v ? json_dumps(v, GA_SPEC_DUMP_FLAGS) : NULL;
    json_decref(v);
    return s;
}

int ga_spec_parse_stored(const char *json, const char *datasets_dir, struct gc_spec *out,
                         struct gc_error *err)
{
    size_t len = json ? strlen(json) : 0;
    int rc = ga_spec_parse(json ? json : "", len, NULL, out, NULL, err);
    if (rc == 0 && out->dataset.path[0] && out->dataset.path[0] != '/')
        rc = ga_spec_parse(json, len, datasets_dir, out, NULL, err);
    return rc;
}
