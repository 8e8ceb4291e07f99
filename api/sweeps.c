/* sweeps.c — /api/v1/sweeps (docs/api.md): a base spec, axes of values, seeds and an
 * objective become a set of runs, created and queued at once; and the sweep read back
 * with each configuration's objective over its seeds.
 *
 * Validation runs every spec the sweep would make through the one spec parser
 * (ga_spec_normalize) before anything is stored: the base alone (problems named
 * "spec.FIELD"), then each axis value on the base alone ("axes.PATH[K]"), then each
 * configuration ("configurations[I]", saying its values). One problem anywhere refuses
 * the whole sweep with every problem found.
 *
 * Grid: every combination of the axes' lists, in the order the axes are given (the
 * last one varies fastest). Random ("random": N): N configurations, each axis drawn on
 * its own: a list uniformly, a range {"min", "max", "scale", "integer"} uniformly on a
 * linear or a log scale (log by default for paths ending in "lr"), from a generator
 * seeded with "random_seed". Runs are created seed by seed (every configuration's
 * first seed, then the second, ...), so early stopping compares configurations early. */
#include "api/sweeps.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/reply.h"
#include "api/request.h"
#include "api/spec_json.h"
#include "core/metrics.h"
#include "core/rng.h"
#include "core/spec_fields.h"

#define MAX_AXES 8
#define MAX_VALUES 64
#define MAX_CONFIGS 256
#define MAX_SEEDS 20
#define MAX_RUNS 512
#define SWEEP_RNG_STREAM 71

/* ---- building specs ------------------------------------------------------------- */

/* Sets the dotted path in obj to v (a new reference stolen), creating objects on the
 * way; a part that is not an object is replaced. */
static void set_path(json_t *obj, const char *path, json_t *v)
{
    char buf[GC_FIELD_PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    char *save = NULL, *key = strtok_r(buf, ".", &save);
    while (key) {
        char *next = strtok_r(NULL, ".", &save);
        if (!next) {
            json_object_set_new(obj, key, v);
            return;
        }
        json_t *sub = json_object_get(obj, key);
        if (!json_is_object(sub)) {
            sub = json_object();
            json_object_set_new(obj, key, sub);
        }
        obj = sub;
        key = next;
    }
    json_decref(v);
}

/* The normalized spec of base with values (axis path -> value) set; 0 with *out (the
 * normalized JSON text, malloc'ed) and *spec, or GC_EINVAL with fe filled. */
static int make_spec(struct ga_req *r, json_t *base, json_t *values, int64_t seed_offset,
                     struct gc_spec *spec, char **out, struct gc_field_errors *fe,
                     struct gc_error *err)
{
    json_t *s = json_deep_copy(base);
    const char *path;
    json_t *v;
    json_object_foreach(values, path, v) set_path(s, path, json_incref(v));
    if (seed_offset) {
        json_t *train = json_object_get(s, "train");
        json_t *seed = json_is_object(train) ? json_object_get(train, "seed") : NULL;
        json_int_t base_seed = json_is_integer(seed) ? json_integer_value(seed) : 1;
        set_path(s, "train.seed", json_integer(base_seed + seed_offset));
    }
    char *text = json_dumps(s, JSON_COMPACT);
    json_decref(s);
    if (!text)
        return gc_error_set(err, GC_ENOMEM, "out of memory");
    const char *root = r->srv->datasets_dir[0] ? r->srv->datasets_dir : NULL;
    int rc = ga_spec_normalize(text, strlen(text), root, spec, out, fe, err);
    free(text);
    return rc;
}

/* ---- reading the body ----------------------------------------------------------- */

struct axis {
    const char *path;
    json_t *v; /* the list, or the range object */
    int range; /* a range: min, max, log, integer */
    double min, max;
    int log, integer;
};

struct sweep_req {
    const char *name;
    json_t *base; /* the spec as given ({} when absent) */
    struct axis axes[MAX_AXES];
    int naxes;
    int seeds;
    int random; /* 0: grid */
    int64_t random_seed;
    const char *metric;
    int goal_max;
    int early;
};

static void problem(json_t *errors, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void problem(json_t *errors, const char *field, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_array_append_new(errors, json_pack("{s:s,s:s}", "field", field, "message", msg));
}

/* Whether a run of dataset kind reports the evaluation figure m (gan_eval.c). */
static int reports(enum gc_dataset_kind kind, enum gc_metric_id m)
{
    if (gc_dataset_is_2d(kind))
        return m == GC_M_MODES_COVERED || m == GC_M_HIGH_QUALITY || m == GC_M_REVERSE_KL;
    if (m == GC_M_SWD || m == GC_M_DIVERSITY)
        return 1;
    /* the classifier's figures need a labelled 28x28 gray set: Fashion-MNIST */
    return kind == GC_DATA_FASHION_MNIST &&
           (m == GC_M_FID || m == GC_M_CLASS_COVERAGE || m == GC_M_CLASSIFIER_SCORE);
}

static void read_axis(struct axis *a, json_t *errors)
{
    char at[GC_FIELD_PATH_MAX + 8];
    snprintf(at, sizeof at, "axes.%s", a->path);
    const struct gc_spec_field *f = gc_spec_field_find(a->path);
    if (!f || f->type == GC_FIELD_OBJECT) {
        problem(errors, at,
                "not a field of the spec (docs/spec.md names them, e.g. "
                "optimizer.g.lr)");
        return;
    }
    if (!strcmp(a->path, "train.seed") || !strcmp(a->path, "name")) {
        problem(errors, at, "%s is not swept: %s", a->path,
                !strcmp(a->path, "name") ? "runs are named by the sweep"
                                         : "\"seeds\": S trains every configuration with S seeds");
        return;
    }
    if (json_is_array(a->v)) {
        size_t n = json_array_size(a->v);
        if (n < 1 || n > MAX_VALUES)
            problem(errors, at, "must list 1 to %d values", MAX_VALUES);
        return;
    }
    if (!json_is_object(a->v)) {
        problem(errors, at, "must be a list of values or a range {\"min\", \"max\"}");
        return;
    }
    a->range = 1;
    const char *key;
    json_t *v;
    json_object_foreach(a->v, key, v)
    {
        if (strcmp(key, "min") && strcmp(key, "max") && strcmp(key, "scale") &&
            strcmp(key, "integer"))
            problem(errors, at, "unknown key '%.40s' of a range; expected min, max, scale, integer",
                    key);
    }
    json_t *mn = json_object_get(a->v, "min"), *mx = json_object_get(a->v, "max");
    json_t *scale = json_object_get(a->v, "scale"), *integer = json_object_get(a->v, "integer");
    size_t plen = strlen(a->path);
    a->log = plen >= 2 && !strcmp(a->path + plen - 2, "lr");
    if (!json_is_number(mn) || !json_is_number(mx)) {
        problem(errors, at, "a range needs numbers \"min\" and \"max\"");
        return;
    }
    a->min = json_number_value(mn);
    a->max = json_number_value(mx);
    if (scale) {
        const char *sc = json_string_value(scale);
        if (!sc || (strcmp(sc, "log") && strcmp(sc, "linear")))
            problem(errors, at, "scale must be \"log\" or \"linear\"");
        else
            a->log = !strcmp(sc, "log");
    }
    if (integer && !json_is_boolean(integer))
        problem(errors, at, "integer must be true or false");
    a->integer = json_is_true(integer) || f->type == GC_FIELD_INT || f->type == GC_FIELD_INT64;
    if (!(a->min <= a->max))
        problem(errors, at, "min must not be above max");
    else if (a->log && !(a->min > 0))
        problem(errors, at, "a log scale needs min > 0");
    if (f->type != GC_FIELD_FLOAT && f->type != GC_FIELD_INT && f->type != GC_FIELD_INT64)
        problem(errors, at, "%s is not a number: give a list of values", a->path);
}

static void read_body(json_t *body, struct sweep_req *q, json_t *errors)
{
    static const char *const keys[] = {"name",   "spec",        "axes",           "seeds",
                                       "random", "random_seed", "early_stopping", "objective"};
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        int ok = 0;
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            ok |= !strcmp(key, keys[i]);
        if (!ok)
            problem(errors, key,
                    "unknown field; expected one of: name, spec, axes, seeds, objective, "
                    "early_stopping, random, random_seed");
    }
    q->name = "sweep";
    if ((v = json_object_get(body, "name"))) {
        const char *s = json_string_value(v);
        size_t n = s ? strlen(s) : 0;
        int printable = s != NULL;
        for (size_t i = 0; s && i < n; i++)
            printable &= (unsigned char)s[i] >= 0x20 && s[i] != 0x7f;
        if (!s || n < 1 || n > 100 || !printable)
            problem(errors, "name", "must be 1 to 100 printable characters");
        else
            q->name = s;
    }
    q->base = json_object_get(body, "spec");
    if (q->base && !json_is_object(q->base)) {
        problem(errors, "spec", "must be a run spec (an object)");
        q->base = NULL; /* the rest is checked on an empty base, not on this value */
    }
    json_t *axes = json_object_get(body, "axes");
    if (!json_is_object(axes) || json_object_size(axes) < 1 || json_object_size(axes) > MAX_AXES) {
        problem(errors, "axes",
                "must be an object of 1 to %d fields of the spec, each with its "
                "values, e.g. {\"optimizer.g.lr\": [1e-4, 2e-4]}",
                MAX_AXES);
    } else {
        json_object_foreach(axes, key, v)
        {
            struct axis *a = &q->axes[q->naxes++];
            memset(a, 0, sizeof *a);
            a->path = key;
            a->v = v;
            read_axis(a, errors);
        }
    }
    q->seeds = 1;
    if ((v = json_object_get(body, "seeds"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > MAX_SEEDS)
            problem(errors, "seeds", "must be an integer between 1 and %d", MAX_SEEDS);
        else
            q->seeds = (int)json_integer_value(v);
    }
    if ((v = json_object_get(body, "random")) && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > MAX_CONFIGS)
            problem(errors, "random",
                    "must be null (a grid) or a number of configurations "
                    "between 1 and %d",
                    MAX_CONFIGS);
        else
            q->random = (int)json_integer_value(v);
    }
    q->random_seed = 1;
    if ((v = json_object_get(body, "random_seed"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            problem(errors, "random_seed", "must be an integer >= 0");
        else
            q->random_seed = json_integer_value(v);
    }
    for (int i = 0; i < q->naxes && !q->random; i++)
        if (q->axes[i].range) {
            char at[GC_FIELD_PATH_MAX + 8];
            snprintf(at, sizeof at, "axes.%s", q->axes[i].path);
            problem(errors, at,
                    "a range is drawn from by a random search: add \"random\": N "
                    "(a grid takes a list of values)");
        }
    json_t *obj = json_object_get(body, "objective");
    json_t *metric = json_object_get(obj, "metric");
    if (!json_is_object(obj) || !json_is_string(metric)) {
        problem(errors, "objective", "must be {\"metric\": NAME, \"goal\": \"min\" or \"max\"}");
    } else {
        q->metric = json_string_value(metric);
        const struct gc_metric_info *m = gc_metric_find(q->metric);
        if (!m || m->kind != GC_METRIC_EVAL) {
            problem(errors, "objective.metric",
                    "'%.40s' is not an evaluation figure (modes_covered, high_quality, "
                    "reverse_kl, fid, class_coverage, classifier_score, swd, diversity)",
                    q->metric);
        } else {
            q->goal_max = m->goal == GC_GOAL_MAX;
            json_t *goal = json_object_get(obj, "goal");
            const char *g = json_string_value(goal);
            if (goal && (!g || (strcmp(g, "min") && strcmp(g, "max"))))
                problem(errors, "objective.goal", "must be \"min\" or \"max\"");
            else if (g)
                q->goal_max = !strcmp(g, "max");
        }
        json_object_foreach(obj, key, v)
        {
            if (strcmp(key, "metric") && strcmp(key, "goal"))
                problem(errors, "objective", "unknown key '%.40s'; expected metric, goal", key);
        }
    }
    v = json_object_get(body, "early_stopping");
    if (v && !json_is_null(v) && !json_is_boolean(v) &&
        !(json_is_string(v) && !strcmp(json_string_value(v), "successive_halving")))
        problem(errors, "early_stopping", "must be null (off) or \"successive_halving\"");
    q->early = json_is_true(v) || json_is_string(v);
}

/* ---- configurations --------------------------------------------------------------- */

/* One drawn or combined value of axis a for configuration c. */
static json_t *random_value(const struct axis *a, struct gc_rng *rng)
{
    double u = gc_rng_uniform(rng);
    if (!a->range) {
        size_t n = json_array_size(a->v), i = (size_t)(u * (double)n);
        return json_incref(json_array_get(a->v, i < n ? i : n - 1));
    }
    double x = a->log ? exp(log(a->min) + u * (log(a->max) - log(a->min)))
                      : a->min + u * (a->max - a->min);
    if (a->integer) {
        x = floor(x + 0.5);
        return json_integer((json_int_t)x);
    }
    /* 4 significant digits: a learning rate reads 0.0003162, not 17 digits */
    char buf[32];
    snprintf(buf, sizeof buf, "%.4g", x);
    return json_real(strtod(buf, NULL));
}

/* The configurations' values as a list of {path: value} objects; NULL with a problem
 * when there are too many. */
static json_t *configurations(const struct sweep_req *q, json_t *errors)
{
    json_t *list = json_array();
    if (q->random) {
        struct gc_rng rng;
        gc_rng_init(&rng, (uint64_t)q->random_seed, SWEEP_RNG_STREAM);
        for (int c = 0; c < q->random; c++) {
            json_t *vals = json_object();
            for (int i = 0; i < q->naxes; i++)
                json_object_set_new(vals, q->axes[i].path, random_value(&q->axes[i], &rng));
            json_array_append_new(list, vals);
        }
        return list;
    }
    size_t total = 1;
    for (int i = 0; i < q->naxes; i++)
        total *= json_array_size(q->axes[i].v);
    if (total > MAX_CONFIGS) {
        problem(errors, "axes", "%zu configurations; a sweep takes at most %d", total, MAX_CONFIGS);
        json_decref(list);
        return NULL;
    }
    for (size_t c = 0; c < total; c++) {
        json_t *vals = json_object();
        size_t rest = c;
        /* the last axis varies fastest */
        size_t idx[MAX_AXES];
        for (int i = q->naxes - 1; i >= 0; i--) {
            size_t n = json_array_size(q->axes[i].v);
            idx[i] = rest % n;
            rest /= n;
        }
        for (int i = 0; i < q->naxes; i++)
            json_object_set(vals, q->axes[i].path, json_array_get(q->axes[i].v, idx[i]));
        json_array_append_new(list, vals);
    }
    return list;
}

/* "lr=0.0002, unrolled_steps=5": the values by the last part of their path. */
static void values_text(json_t *vals, char *out, size_t cap)
{
    out[0] = '\0';
    const char *path;
    json_t *v;
    json_object_foreach(vals, path, v)
    {
        char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(6));
        const char *dot = strrchr(path, '.');
        size_t n = strlen(out);
        snprintf(out + n, cap - n, "%s%s=%s", n ? ", " : "", dot ? dot + 1 : path,
                 text ? text : "?");
        free(text);
    }
}

/* Adds each problem of fe to errors under `prefix`, naming its field in the message
 * when it is not `own` (the axis's own field). */
static void add_problems(json_t *errors, const char *prefix, const char *own,
                         const struct gc_field_errors *fe, const char *context)
{
    for (int i = 0; i < fe->n; i++) {
        const struct gc_field_error *e = &fe->e[i];
        if (!strcmp(e->field, own))
            problem(errors, prefix, "%s%s", e->message, context);
        else
            problem(errors, prefix, "%s: %s%s", e->field[0] ? e->field : "spec", e->message,
                    context);
    }
}

/* ---- POST /api/v1/sweeps ----------------------------------------------------------- */

enum MHD_Result ga_route_sweeps_create(struct ga_req *r)
{
    enum MHD_Result ret;
    json_t *body = ga_body_json(r, 0, &ret);
    if (!body)
        return ret;
    if (!json_is_object(body)) {
        json_decref(body);
        return ga_reply_problem(r, 400, NULL, "a sweep is a JSON object");
    }
    json_t *errors = json_array();
    struct sweep_req q;
    memset(&q, 0, sizeof q);
    read_body(body, &q, errors);
    json_t *base = q.base ? json_incref(q.base) : json_object();
    json_t *configs = NULL, *norm_base = NULL;
    struct gc_spec *spec = malloc(sizeof *spec);
    struct gc_field_errors *fe = malloc(sizeof *fe);
    struct gd_sweep_run *runs = NULL;
    char **texts = NULL, (*names)[GC_MAX_NAME + 1] = NULL;
    int nruns = 0;
    struct gc_error err = {0};
    if (!spec || !fe) {
        ret = ga_reply_problem(r, 500, NULL, "out of memory");
        goto out;
    }

    /* the base spec alone */
    char *text = NULL;
    json_t *none = json_object();
    int rc = make_spec(r, base, none, 0, spec, &text, fe, &err);
    json_decref(none);
    int base_ok = rc == 0;
    if (rc == GC_EINVAL) {
        for (int i = 0; i < fe->n; i++) {
            char at[GC_FIELD_PATH_MAX + 8];
            snprintf(at, sizeof at, "spec%s%s", fe->e[i].field[0] ? "." : "", fe->e[i].field);
            problem(errors, at, "%s", fe->e[i].message);
        }
    } else if (rc) {
        ret = ga_reply_error(r, &err);
        goto out;
    } else {
        norm_base = json_loads(text, 0, NULL);
        free(text);
        if (q.metric && gc_metric_find(q.metric)) {
            enum gc_metric_id id = (enum gc_metric_id)(gc_metric_find(q.metric) -
                                                       gc_metric_info((enum gc_metric_id)0));
            if (!reports(spec->dataset.kind, id))
                problem(errors, "objective.metric", "%s runs do not report %s",
                        gc_dataset_name(spec->dataset.kind), q.metric);
        }
    }
    /* each axis value on the base alone (when the base itself is fine) */
    for (int i = 0; i < q.naxes && base_ok; i++) {
        const struct axis *a = &q.axes[i];
        if (a->range)
            continue;
        for (size_t k = 0; k < json_array_size(a->v); k++) {
            json_t *one = json_object();
            json_object_set(one, a->path, json_array_get(a->v, k));
            rc = make_spec(r, base, one, 0, spec, NULL, fe, &err);
            json_decref(one);
            if (rc && rc != GC_EINVAL) {
                ret = ga_reply_error(r, &err);
                goto out;
            }
            char at[GC_FIELD_PATH_MAX + 32];
            snprintf(at, sizeof at, "axes.%s[%zu]", a->path, k);
            if (rc)
                add_problems(errors, at, a->path, fe, "");
        }
    }
    if (!json_array_size(errors))
        configs = configurations(&q, errors);
    size_t nconf = configs ? json_array_size(configs) : 0;
    if (configs && nconf * (size_t)q.seeds > MAX_RUNS)
        problem(errors, "seeds",
                "%zu configurations x %d seeds = %zu runs; a sweep makes at most %d", nconf,
                q.seeds, nconf * (size_t)q.seeds, MAX_RUNS);
    if (json_array_size(errors))
        goto refuse;

    /* every run: configuration-major inside each seed, seed by seed */
    nruns = (int)nconf * q.seeds;
    runs = calloc((size_t)nruns, sizeof *runs);
    texts = calloc((size_t)nruns, sizeof *texts);
    names = calloc((size_t)nruns, sizeof *names);
    if (!runs || !texts || !names) {
        ret = ga_reply_problem(r, 500, NULL, "out of memory");
        goto out;
    }
    for (int s = 0, k = 0; s < q.seeds; s++) {
        for (size_t c = 0; c < nconf; c++, k++) {
            json_t *vals = json_array_get(configs, c);
            rc = make_spec(r, base, vals, s, spec, &texts[k], fe, &err);
            char vt[400], at[48];
            values_text(vals, vt, sizeof vt);
            if (rc == GC_EINVAL) {
                if (s == 0) {
                    char ctx[440];
                    snprintf(ctx, sizeof ctx, " (with %s)", vt);
                    snprintf(at, sizeof at, "configurations[%zu]", c);
                    add_problems(errors, at, "", fe, ctx);
                }
                continue;
            } else if (rc) {
                ret = ga_reply_error(r, &err);
                goto out;
            }
            /* "NAME #C seed S: lr=0.0002, ..." cut to a run name's length */
            char full[600];
            snprintf(full, sizeof full, "%s #%zu seed %llu: %s", q.name, c,
                     (unsigned long long)spec->train.seed, vt);
            size_t cut = strlen(full) > GC_MAX_NAME ? GC_MAX_NAME : strlen(full);
            while (cut > 0 && ((unsigned char)full[cut] & 0xc0) == 0x80)
                cut--; /* not inside a character */
            memcpy(names[k], full, cut);
            names[k][cut] = '\0';
            runs[k] = (struct gd_sweep_run){names[k], texts[k], spec->train.steps, (int)c};
        }
        if (json_array_size(errors))
            break;
    }
    if (json_array_size(errors))
        goto refuse;

    /* the sweep as stored: what was asked, normalized, and the configurations' values */
    json_t *stored =
        json_pack("{s:s,s:O,s:O,s:i,s:{s:s,s:s},s:o,s:o,s:I,s:O}", "name", q.name, "spec",
                  norm_base, "axes", json_object_get(body, "axes"), "seeds", q.seeds, "objective",
                  "metric", q.metric, "goal", q.goal_max ? "max" : "min", "early_stopping",
                  q.early ? json_string("successive_halving") : json_null(), "random",
                  q.random ? json_integer(q.random) : json_null(), "random_seed",
                  (json_int_t)q.random_seed, "configurations", configs);
    char *stored_text = stored ? json_dumps(stored, GA_DUMP_FLAGS | JSON_PRESERVE_ORDER) : NULL;
    json_decref(stored);
    struct gd_sweep w = {.body = stored_text,
                         .goal_max = q.goal_max,
                         .early_stopping = q.early,
                         .configurations = (int)nconf};
    snprintf(w.name, sizeof w.name, "%s", q.name);
    snprintf(w.metric, sizeof w.metric, "%s", q.metric);
    char why[320];
    if (!stored_text) {
        ret = ga_reply_problem(r, 500, NULL, "out of memory");
        goto out;
    }
    if (gd_store_health(r->srv->store, why, sizeof why) != 0) {
        free(stored_text);
        ret = ga_reply_problem(r, 503, NULL,
                               "new runs are refused while the store cannot write (%s)", why);
        goto out;
    }
    int64_t id = 0;
    int64_t *ids = calloc((size_t)nruns, sizeof *ids);
    rc = ids ? gd_sched_submit_sweep(r->srv->sched, &w, runs, nruns, &id, ids, &err)
             : gc_error_set(&err, GC_ENOMEM, "out of memory");
    free(ids);
    free(stored_text);
    if (rc) {
        ret = ga_reply_error(r, &err);
        goto out;
    }
    json_t *o = ga_sweep_object(r->srv->store, id, &err);
    if (!o) {
        ret = ga_reply_error(r, &err);
        goto out;
    }
    struct MHD_Response *resp = ga_json_response(o, "application/json");
    if (!resp) {
        ret = MHD_NO;
        goto out;
    }
    char loc[64];
    snprintf(loc, sizeof loc, "/api/v1/sweeps/%lld", (long long)id);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, loc);
    ret = ga_reply(r, 201, resp);
    goto out;

refuse : {
    json_t *first = json_array_get(errors, 0);
    size_t more = json_array_size(errors) - 1;
    char tail[48] = "";
    if (more)
        snprintf(tail, sizeof tail, " (and %zu more)", more);
    ret = ga_reply_problem(r, 400, json_incref(errors), "invalid sweep: %s: %s%s",
                           json_string_value(json_object_get(first, "field")),
                           json_string_value(json_object_get(first, "message")), tail);
}
out:
    for (int i = 0; texts && i < nruns; i++)
        free(texts[i]);
    free(texts);
    free(names);
    free(runs);
    free(spec);
    free(fe);
    json_decref(configs);
    json_decref(norm_base);
    json_decref(base);
    json_decref(errors);
    json_decref(body);
    return ret;
}

/* ---- the sweep object -------------------------------------------------------------- */

/* The newest value of metric in run, or NAN. */
static double objective_of(struct gd_store *store, int64_t run, const char *metric)
{
    struct gd_kv *kv = NULL;
    int n = 0;
    double v = NAN;
    if (gd_store_metrics_latest(store, run, GC_METRIC_EVAL, &kv, &n, NULL) == 0)
        for (int i = 0; i < n; i++)
            if (!strcmp(kv[i].name, metric))
                v = kv[i].value;
    free(kv);
    return v;
}

json_t *ga_sweep_object(struct gd_store *store, int64_t id, struct gc_error *err)
{
    struct gd_sweep w;
    if (gd_store_sweep_get(store, id, &w, err) != 0) {
        if (err && err->code == GC_ENOTFOUND)
            gc_error_set(err, GC_ENOTFOUND, "no sweep %lld", (long long)id);
        return NULL;
    }
    json_t *body = json_loads(w.body, 0, NULL);
    struct gd_sweep_member *m = NULL;
    int n = 0;
    if (gd_store_sweep_runs(store, id, &m, &n, err) != 0) {
        json_decref(body);
        gd_sweep_fini(&w);
        return NULL;
    }
    json_t *vals = json_object_get(body, "configurations");
    int nconf = w.configurations;
    json_t *confs = json_array();
    int active = 0, started = 0, best = -1;
    double best_mean = 0.0;
    for (int c = 0; c < nconf; c++) {
        json_t *ids = json_array();
        double sum = 0.0, sum2 = 0.0, top = NAN;
        int k = 0, stopped = 0, finished = 1;
        for (int i = 0; i < n; i++) {
            if (m[i].config != c)
                continue;
            json_array_append_new(ids, json_integer(m[i].run));
            enum gd_status st = m[i].status;
            active += st == GD_QUEUED || st == GD_RUNNING || st == GD_PAUSED;
            started += st != GD_QUEUED;
            finished &= st == GD_SUCCEEDED;
            stopped |= st == GD_CANCELED;
            double v = objective_of(store, m[i].run, w.metric);
            if (isnan(v))
                continue;
            sum += v;
            sum2 += v * v;
            k++;
            if (isnan(top) || (w.goal_max ? v > top : v < top))
                top = v;
        }
        json_t *obj = json_null();
        if (k) {
            double mean = sum / k;
            double var = k > 1 ? (sum2 - k * mean * mean) / (k - 1) : 0.0;
            obj = json_pack("{s:o,s:o,s:o,s:i}", "mean", ga_json_number(mean), "std",
                            ga_json_number(sqrt(var > 0 ? var : 0)), "best", ga_json_number(top),
                            "n", k);
            if (best < 0 || (w.goal_max ? mean > best_mean : mean < best_mean)) {
                best = c;
                best_mean = mean;
            }
        }
        json_t *cv = json_array_get(vals, (size_t)c);
        json_array_append_new(confs, json_pack("{s:i,s:O,s:o,s:o,s:b,s:b}", "index", c, "values",
                                               cv ? cv : json_null(), "runs", ids, "objective", obj,
                                               "finished", finished, "stopped", stopped));
    }
    const char *status = active == 0 ? "finished" : started == 0 ? "queued" : "running";
    json_t *o =
        json_pack("{s:I,s:s,s:s,s:s,s:O,s:O,s:O,s:O,s:O,s:O,s:o,s:o}", "id", (json_int_t)w.id,
                  "name", w.name, "status", status, "created_at", w.created_at, "spec",
                  json_object_get(body, "spec"), "axes", json_object_get(body, "axes"), "seeds",
                  json_object_get(body, "seeds"), "objective", json_object_get(body, "objective"),
                  "early_stopping", json_object_get(body, "early_stopping"), "random",
                  json_object_get(body, "random"), "configurations", confs, "best",
                  best >= 0 ? json_deep_copy(json_array_get(confs, (size_t)best)) : json_null());
    free(m);
    json_decref(body);
    gd_sweep_fini(&w);
    if (!o)
        gc_error_set(err, GC_EIO, "the stored sweep %lld does not read back", (long long)id);
    return o;
}

enum MHD_Result ga_route_sweep_get(struct ga_req *r)
{
    struct gc_error err = {0};
    json_t *o = ga_sweep_object(r->srv->store, r->id, &err);
    if (!o)
        return ga_reply_error(r, &err);
    return ga_reply_json(r, 200, o);
}

enum MHD_Result ga_route_sweeps_list(struct ga_req *r)
{
    struct gd_sweep *w = NULL;
    int n = 0;
    struct gc_error err = {0};
    if (gd_store_sweep_list(r->srv->store, &w, &n, &err) != 0)
        return ga_reply_error(r, &err);
    json_t *list = json_array();
    for (int i = 0; i < n; i++) {
        json_t *o = ga_sweep_object(r->srv->store, w[i].id, NULL);
        if (o) {
            /* the list carries the summary: each configuration's runs stay in the sweep */
            json_t *sum = json_pack(
                "{s:O,s:O,s:O,s:O,s:O,s:i,s:O}", "id", json_object_get(o, "id"), "name",
                json_object_get(o, "name"), "status", json_object_get(o, "status"), "created_at",
                json_object_get(o, "created_at"), "objective", json_object_get(o, "objective"),
                "configurations", (int)json_array_size(json_object_get(o, "configurations")),
                "best", json_object_get(o, "best"));
            json_array_append_new(list, sum);
            json_decref(o);
        }
        gd_sweep_fini(&w[i]);
    }
    free(w);
    return ga_reply_json(r, 200, json_pack("{s:o}", "sweeps", list));
}
