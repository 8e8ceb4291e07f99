/* spec_json.c — strict JSON parsing of the run spec (docs/spec.md) and its normalized
 * form, both by walking core's table of fields (core/spec_fields.h).
 *
 * Parsing runs in three passes. The first reads the fields the defaults depend on
 * (dataset.name, loss and preset) and calls gc_spec_defaults_for. The second walks every object
 * along the table, rejecting unknown fields and wrong types and writing the given
 * values over the defaults. The third is gc_spec_check, which reports every range and
 * combination problem at once; a field that already has a type error keeps that one,
 * since it says more. Every problem goes into one struct gc_field_errors with its
 * field's path, so a client sees all of them together. Dataset paths are resolved
 * inside the dataset root last. */
#include "api/spec_json.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/utf8.h"
#include "core/spec_fields.h"
#include "daemon/sha256.h"

#define FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"
#define DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

/* One parse: the struct being filled and the problems found so far. */
struct parse {
    struct gc_spec *spec;
    struct gc_field_errors *fe;
    struct gc_spec *given; /* when not NULL: the spec before its paths were resolved */
};

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

/* The length of s cut to at most max bytes without splitting a character, for "%.*s"
 * of a user's text (jansson hands out whole UTF-8 strings). */
static int clip(const char *s, int max)
{
    int n = (int)strnlen(s, (size_t)max);
    while (n == max && n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--; /* s[n], the first byte left out, continues the character before it */
    return n;
}

static void *at(struct gc_spec *s, const struct gc_spec_field *f)
{
    return (char *)s + f->offset;
}

static const void *at_const(const struct gc_spec *s, const struct gc_spec_field *f)
{
    return (const char *)s + f->offset;
}

/* The keys of a section's fields, "start, factor, shape". */
static void section_keys(const char *section, char *out, size_t cap)
{
    int n;
    const struct gc_spec_field *t = gc_spec_fields(&n);
    out[0] = '\0';
    int first = 1;
    for (int i = 0; i < n; i++) {
        if (!gc_spec_field_in(&t[i], section))
            continue;
        strncat(out, first ? "" : ", ", cap - strlen(out) - 1);
        strncat(out, gc_spec_field_key(&t[i]), cap - strlen(out) - 1);
        first = 0;
    }
}

static void type_error(struct parse *p, const struct gc_spec_field *f, const json_t *v)
{
    char buf[300];
    const char *what = f->accepts;
    if (!what) {
        switch (f->type) {
        case GC_FIELD_OBJECT:
            what = "an object";
            break;
        case GC_FIELD_INT:
        case GC_FIELD_INT64:
        case GC_FIELD_U64:
            what = "an integer";
            break;
        case GC_FIELD_FLOAT:
            what = "a number";
            break;
        case GC_FIELD_BOOL:
            what = "true or false";
            break;
        default:
            what = "a string";
            break;
        }
        if (f->type == GC_FIELD_OBJECT && f->null != GC_NULL_NEVER) {
            char keys[200];
            section_keys(f->path, keys, sizeof keys);
            snprintf(buf, sizeof buf, "null or an object {%s}", keys);
            what = buf;
        } else if (f->null != GC_NULL_NEVER) {
            snprintf(buf, sizeof buf, "null or %s", what);
            what = buf;
        }
    }
    gc_field_errors_add(p->fe, f->path, "must be %s, not %s", what, type_name(v));
}

/* A given 0 (or less) for a field that null turns off. */
static void off_error(struct parse *p, const struct gc_spec_field *f)
{
    if (f->off_msg)
        gc_field_errors_add(p->fe, f->path, "%s", f->off_msg);
    else
        gc_field_errors_add(p->fe, f->path, "must be more than 0 (null turns it off)");
}

/* The row of key in section, or NULL when the section has no such field. */
static const struct gc_spec_field *field_of(const char *section, const char *key)
{
    char path[GC_FIELD_PATH_MAX];
    if (section[0])
        snprintf(path, sizeof path, "%s.%s", section, key);
    else
        snprintf(path, sizeof path, "%s", key);
    const struct gc_spec_field *f = gc_spec_field_find(path);
    return f && gc_spec_field_in(f, section) ? f : NULL;
}

static void check_keys(struct parse *p, json_t *obj, const char *section)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        if (field_of(section, key))
            continue;
        char f[GC_FIELD_PATH_MAX], list[256];
        if (section[0])
            snprintf(f, sizeof f, "%s.%s", section, key);
        else
            snprintf(f, sizeof f, "%s", key);
        section_keys(section, list, sizeof list);
        gc_field_errors_add(p->fe, f, "unknown field; expected one of: %s", list);
    }
}

/* ---- the special shapes ---------------------------------------------------------- */

/* dataset.classes: null or a list of distinct classes 0..9, kept as a bit mask. */
static void parse_classes(struct parse *p, const struct gc_spec_field *f, json_t *v)
{
    if (!json_is_array(v)) {
        type_error(p, f, v);
        return;
    }
    if (json_array_size(v) == 0) {
        gc_field_errors_add(p->fe, f->path, "must list at least one class (null keeps all)");
        return;
    }
    uint32_t mask = 0;
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        char at_i[GC_FIELD_PATH_MAX];
        snprintf(at_i, sizeof at_i, "%s[%zu]", f->path, i);
        if (!json_is_integer(e)) {
            gc_field_errors_add(p->fe, at_i, "must be an integer 0 to 9, not %s", type_name(e));
            continue;
        }
        json_int_t k = json_integer_value(e);
        if (k < 0 || k > 9) {
            gc_field_errors_add(p->fe, at_i, "must be between 0 and 9");
            continue;
        }
        if (mask & (1u << k))
            gc_field_errors_add(p->fe, at_i, "class %lld is listed twice", (long long)k);
        mask |= 1u << k;
    }
    *(uint32_t *)at(p->spec, f) = mask;
}

/* dataset.path, task.source_path: kept as given here, resolved inside the dataset root
 * at the end. */
static void parse_path(struct parse *p, const struct gc_spec_field *f, json_t *v)
{
    if (!json_is_string(v)) {
        type_error(p, f, v);
        return;
    }
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n == 0) {
        gc_field_errors_add(p->fe, f->path, "must not be empty (use null for none)");
    } else if (n >= f->size || strlen(s) != n) {
        gc_field_errors_add(p->fe, f->path, "must be a path shorter than %zu bytes without NUL",
                            f->size);
    } else {
        memcpy(at(p->spec, f), s, n + 1);
    }
}

/* tricks.label_smoothing: a number is a fixed label, [lo, hi] a range drawn from. */
static void parse_smoothing(struct parse *p, const struct gc_spec_field *f, json_t *v)
{
    struct gc_tricks_spec *t = &p->spec->tricks;
    if (json_is_number(v)) {
        t->smoothing = GC_SMOOTH_FIXED;
        t->smooth_lo = t->smooth_hi = (float)json_number_value(v);
    } else if (json_is_array(v) && json_array_size(v) == 2 &&
               json_is_number(json_array_get(v, 0)) && json_is_number(json_array_get(v, 1))) {
        t->smoothing = GC_SMOOTH_RANGE;
        t->smooth_lo = (float)json_number_value(json_array_get(v, 0));
        t->smooth_hi = (float)json_number_value(json_array_get(v, 1));
    } else {
        gc_field_errors_add(p->fe, f->path,
                            "must be null, a number or an array [lo, hi] of two numbers, not %s%s",
                            type_name(v), json_is_array(v) ? " of another shape" : "");
    }
}

/* A FLAGS field: "color,cutout" into the bits of names[]; each name at most once. */
static void parse_flags(struct parse *p, const struct gc_spec_field *f, json_t *v)
{
    if (!json_is_string(v)) {
        type_error(p, f, v);
        return;
    }
    const char *s = json_string_value(v);
    char list[256];
    gc_spec_field_names(f, list, sizeof list);
    if (!*s) {
        gc_field_errors_add(p->fe, f->path, "must name at least one of: %s (null for none)", list);
        return;
    }
    unsigned bits = 0;
    for (const char *q = s;; q += strcspn(q, ",") + 1) {
        size_t len = strcspn(q, ",");
        int k = 0;
        while (k < f->n_names && !(strlen(f->names[k]) == len && !strncmp(q, f->names[k], len)))
            k++;
        if (k == f->n_names) {
            gc_field_errors_add(p->fe, f->path, "unknown value '%.*s'; expected a list of: %s",
                                len > 60 ? clip(q, 60) : (int)len, q, list);
            return;
        }
        if (bits & (1u << k)) {
            gc_field_errors_add(p->fe, f->path, "'%s' is named twice", f->names[k]);
            return;
        }
        bits |= 1u << k;
        if (!q[len])
            break;
    }
    *(unsigned *)at(p->spec, f) = bits;
}

/* ---- the walk -------------------------------------------------------------------- */

static void parse_section(struct parse *p, json_t *obj, const char *section);

/* Writes the JSON value v of field f over the default, or records why it cannot. */
static void parse_value(struct parse *p, const struct gc_spec_field *f, json_t *v)
{
    void *dst = at(p->spec, f);
    if (json_is_null(v) && f->null != GC_NULL_NEVER) {
        if (f->null == GC_NULL_OFF)
            memset(dst, 0, f->size);
        return;
    }
    switch (f->type) {
    case GC_FIELD_OBJECT:
        if (!json_is_object(v)) {
            type_error(p, f, v);
            return;
        }
        if (f->null == GC_NULL_OFF)
            *(int *)dst = 1; /* an object turns it on; absent fields keep their defaults */
        check_keys(p, v, f->path);
        parse_section(p, v, f->path);
        return;
    case GC_FIELD_INT:
    case GC_FIELD_INT64:
    case GC_FIELD_U64: {
        if (!json_is_integer(v)) {
            type_error(p, f, v);
            return;
        }
        json_int_t n = json_integer_value(v);
        if (f->type == GC_FIELD_INT) /* clamped, so gc_spec_check reports the range */
            *(int *)dst = n > INT_MAX ? INT_MAX : n < INT_MIN ? INT_MIN : (int)n;
        else if (f->type == GC_FIELD_INT64)
            *(int64_t *)dst = n;
        else /* negative: beyond any range */
            *(uint64_t *)dst = n < 0 ? UINT64_MAX : (uint64_t)n;
        if (f->null == GC_NULL_OFF && n <= 0)
            off_error(p, f);
        return;
    }
    case GC_FIELD_FLOAT: {
        if (!json_is_number(v)) {
            type_error(p, f, v);
            return;
        }
        float x = (float)json_number_value(v);
        *(float *)dst = x;
        if (f->null == GC_NULL_OFF && !(x > 0.0f))
            off_error(p, f);
        return;
    }
    case GC_FIELD_BOOL:
        if (!json_is_boolean(v)) {
            type_error(p, f, v);
            return;
        }
        *(int *)dst = json_is_true(v);
        return;
    case GC_FIELD_ENUM: {
        if (!json_is_string(v)) {
            type_error(p, f, v);
            return;
        }
        const char *s = json_string_value(v);
        for (int k = 0; k < f->n_names; k++) {
            if (strcmp(s, f->names[k]) == 0) {
                *(int *)dst = k;
                return;
            }
        }
        char list[256];
        gc_spec_field_names(f, list, sizeof list);
        gc_field_errors_add(p->fe, f->path, "unknown value '%.*s'; expected one of: %s",
                            clip(s, 60), s, list);
        return;
    }
    case GC_FIELD_STRING: {
        if (!json_is_string(v)) {
            type_error(p, f, v);
            return;
        }
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        int ranged = f->min != 0 || f->max != 0;
        if (n >= f->size || strlen(s) != n ||
            (ranged && (n < (size_t)f->min || n > (size_t)f->max)))
            gc_field_errors_add(p->fe, f->path, "must be %lld to %lld printable characters",
                                (long long)f->min,
                                ranged ? (long long)f->max : (long long)f->size - 1);
        else
            memcpy(dst, s, n + 1);
        return;
    }
    case GC_FIELD_PATH:
        parse_path(p, f, v);
        return;
    case GC_FIELD_CLASSES:
        parse_classes(p, f, v);
        return;
    case GC_FIELD_SMOOTHING:
        parse_smoothing(p, f, v);
        return;
    case GC_FIELD_FLAGS:
        parse_flags(p, f, v);
        return;
    }
}

/* The fields of one section present in obj, in the table's order; the ones the
 * defaults depend on were read first. */
static void parse_section(struct parse *p, json_t *obj, const char *section)
{
    int n;
    const struct gc_spec_field *t = gc_spec_fields(&n);
    for (int i = 0; i < n; i++) {
        if (!gc_spec_field_in(&t[i], section) || (t[i].flags & GC_FIELD_PICKS_DEFAULTS))
            continue;
        json_t *v = json_object_get(obj, gc_spec_field_key(&t[i]));
        if (v)
            parse_value(p, &t[i], v);
    }
}

/* The value at a dotted path, or NULL when it or a section on the way is missing or
 * not an object (the walk reports that). */
static json_t *lookup(json_t *root, const char *path)
{
    char buf[GC_FIELD_PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *v = root;
    char *save = NULL;
    for (char *key = strtok_r(buf, ".", &save); key; key = strtok_r(NULL, ".", &save)) {
        if (!json_is_object(v))
            return NULL;
        v = json_object_get(v, key);
        if (!v)
            return NULL;
    }
    return v;
}

/* 1 when a field the defaults depend on, or a section holding one, has an error: the
 * defaults are then a guess, and checking ranges against them would mislead. */
static int defaults_unsure(const struct gc_field_errors *fe)
{
    int n;
    const struct gc_spec_field *t = gc_spec_fields(&n);
    for (int i = 0; i < n; i++) {
        if (!(t[i].flags & GC_FIELD_PICKS_DEFAULTS))
            continue;
        char path[GC_FIELD_PATH_MAX];
        snprintf(path, sizeof path, "%s", t[i].path);
        for (;;) {
            if (gc_field_errors_find(fe, path) >= 0)
                return 1;
            char *dot = strrchr(path, '.');
            if (!dot)
                break;
            *dot = '\0';
        }
    }
    return 0;
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

/* One path field (path, char[GC_PATH_MAX]) resolved inside the dataset root: a folder
 * when want_dir, else a regular file. */
static void resolve_path(struct gc_field_errors *fe, const char *field, char *path, int want_dir,
                         const char *base_dir)
{
    char root[PATH_MAX], joined[PATH_MAX + GC_PATH_MAX], real[PATH_MAX];
    if (!realpath(base_dir, root)) {
        gc_field_errors_add(fe, field, "the dataset root %s does not exist on the daemon",
                            base_dir);
        return;
    }
    const char *p = path;
    if (p[0] != '/' && escapes(p)) {
        gc_field_errors_add(fe, field, "'%.*s' leaves the dataset root", clip(p, 200), p);
        return;
    }
    if (p[0] == '/')
        snprintf(joined, sizeof joined, "%s", p);
    else
        snprintf(joined, sizeof joined, "%s/%s", root, p);
    if (!realpath(joined, real)) {
        gc_field_errors_add(fe, field, "'%.*s' does not exist under the dataset root %s (%s)",
                            clip(p, 200), p, root, strerror(errno));
        return;
    }
    size_t rl = strlen(root);
    int inside = rl == 1 || (strncmp(real, root, rl) == 0 && (real[rl] == '/' || real[rl] == 0));
    if (!inside) {
        gc_field_errors_add(fe, field, "'%.*s' leaves the dataset root", clip(p, 200), p);
        return;
    }
    struct stat st;
    if (stat(real, &st) != 0 || (want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))) {
        gc_field_errors_add(fe, field, "'%.*s' is not a %s", clip(p, 200), p,
                            want_dir ? "folder" : "regular file");
        return;
    }
    if (access(real, want_dir ? R_OK | X_OK : R_OK) != 0) {
        gc_field_errors_add(fe, field, "'%.*s' is not readable by the daemon", clip(p, 200), p);
        return;
    }
    if (strlen(real) >= GC_PATH_MAX) {
        gc_field_errors_add(fe, field, "the resolved path is too long");
        return;
    }
    memcpy(path, real, strlen(real) + 1);
}

static void resolve_dataset(struct gc_field_errors *fe, struct gc_spec *s, const char *base_dir)
{
    struct gc_dataset_spec *d = &s->dataset;
    if (!d->path[0] && d->kind == GC_DATA_FASHION_MNIST &&
        access(FASHION_MNIST_DIR, R_OK | X_OK) != 0)
        gc_field_errors_add(fe, "dataset.name",
                            "fashion-mnist is not installed (%s is missing; install the Debian "
                            "package dataset-fashion-mnist)",
                            FASHION_MNIST_DIR);
    if (s->task.on && s->task.source_path[0])
        resolve_path(fe, "task.source_path", s->task.source_path, 1, base_dir);
    if (d->path[0])
        resolve_path(fe, "dataset.path", d->path, d->kind != GC_DATA_IDX, base_dir);
    if (d->labels_path[0])
        resolve_path(fe, "dataset.labels_path", d->labels_path, 0, base_dir);
}

/* ---- entry points ---------------------------------------------------------------- */

static void parse_root(struct parse *p, json_t *root, const char *base_dir)
{
    if (!json_is_object(root)) {
        gc_field_errors_add(p->fe, "", "the spec must be a JSON object, not %s", type_name(root));
        return;
    }
    check_keys(p, root, "");

    struct gc_spec *out = p->spec, pick;
    /* the task's own fields start from their defaults */
    gc_spec_defaults(&pick, GC_DATA_FASHION_MNIST, GC_LOSS_NONSATURATING);
    pick.loss = (enum gc_loss) - 1; /* none named: the preset's, or nonsaturating */
    pick.preset = GC_PRESET_NONE;
    p->spec = &pick;
    int n;
    const struct gc_spec_field *t = gc_spec_fields(&n);
    for (int i = 0; i < n; i++) {
        json_t *v = t[i].flags & GC_FIELD_PICKS_DEFAULTS ? lookup(root, t[i].path) : NULL;
        if (v)
            parse_value(p, &t[i], v);
    }
    gc_spec_defaults_for(out, pick.dataset.kind, (int)pick.loss, (int)pick.preset);
    gc_spec_task_defaults(out, &pick.task);
    p->spec = out;

    parse_section(p, root, "");

    /* fields with type errors hold their defaults, so the others can still be checked;
     * a field named already keeps its error, which says more */
    if (!defaults_unsure(p->fe)) {
        struct gc_field_errors checked;
        gc_spec_check(out, &checked);
        for (int i = 0; i < checked.n; i++)
            if (gc_field_errors_find(p->fe, checked.e[i].field) < 0)
                gc_field_errors_add(p->fe, checked.e[i].field, "%s", checked.e[i].message);
        p->fe->dropped += checked.dropped;
    }
    if (p->given)
        *p->given = *out;
    if (p->fe->n == 0 && base_dir)
        resolve_dataset(p->fe, out, base_dir);
}

int ga_spec_normalize(const char *json, size_t len, const char *base_dir, struct gc_spec *out,
                      char **normalized, struct gc_field_errors *fe, struct gc_error *err)
{
    struct gc_field_errors own;
    if (!fe)
        fe = &own;
    gc_field_errors_init(fe);
    if (normalized)
        *normalized = NULL;
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        ga_utf8_scrub(je.text); /* it quotes the input, and can end inside a character */
        gc_field_errors_add(fe, "", "not valid JSON: %s (line %d, column %d)", je.text, je.line,
                            je.column);
        return gc_field_errors_summary(fe, err);
    }
    struct gc_spec spec, *given = normalized ? malloc(sizeof *given) : NULL;
    if (normalized && !given) {
        json_decref(root);
        return gc_error_set(err, GC_ENOMEM, "out of memory");
    }
    struct parse p = {&spec, fe, given};
    parse_root(&p, root, base_dir);
    int rc = 0;
    if (fe->n) {
        rc = gc_field_errors_summary(fe, err);
    } else {
        *out = spec;
        if (normalized) {
            json_t *v = ga_spec_to_value(&spec, given);
            *normalized = v ? json_dumps(v, DUMP_FLAGS) : NULL;
            json_decref(v);
            if (!*normalized)
                rc = gc_error_set(err, GC_ENOMEM, "out of memory");
        }
    }
    json_decref(root);
    free(given);
    return rc;
}

int ga_spec_parse(const char *json, size_t len, const char *base_dir, struct gc_spec *out,
                  struct gc_field_errors *fe, struct gc_error *err)
{
    return ga_spec_normalize(json, len, base_dir, out, NULL, fe, err);
}

int ga_spec_parse_stored(const char *json, const char *datasets_dir, struct gc_spec *out,
                         struct gc_error *err)
{
    size_t len = json ? strlen(json) : 0;
    int rc = ga_spec_parse(json ? json : "", len, NULL, out, NULL, err);
    const char *lp = out->dataset.labels_path, *sp = out->task.source_path;
    if (rc == 0 && ((out->dataset.path[0] && out->dataset.path[0] != '/') ||
                    (lp[0] && lp[0] != '/') || (sp[0] && sp[0] != '/')))
        rc = ga_spec_parse(json, len, datasets_dir, out, NULL, err);
    return rc;
}

/* ---- the normalized form ----------------------------------------------------------- */

/* Floats go out with 7 significant digits, so 0.0002f reads "0.0002", not
 * "0.00019999999494757503", and parses back to the same float. */
static json_t *real7(float f)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%.7g", (double)f);
    return json_real(strtod(buf, NULL));
}

static json_t *dump_section(const struct gc_spec *s, const char *section,
                            const struct gc_spec *given);

static json_t *dump_value(const struct gc_spec *s, const struct gc_spec_field *f,
                          const struct gc_spec *given)
{
    const void *v = at_const(s, f);
    int nullable = f->null != GC_NULL_NEVER;
    switch (f->type) {
    case GC_FIELD_OBJECT:
        if (f->null == GC_NULL_OFF && !*(const int *)v)
            return json_null();
        return dump_section(s, f->path, given);
    case GC_FIELD_INT: {
        int x = *(const int *)v;
        return nullable && x == 0 ? json_null() : json_integer(x);
    }
    case GC_FIELD_INT64: {
        int64_t x = *(const int64_t *)v;
        return nullable && x == 0 ? json_null() : json_integer((json_int_t)x);
    }
    case GC_FIELD_U64: {
        uint64_t x = *(const uint64_t *)v;
        return nullable && x == 0 ? json_null() : json_integer((json_int_t)x);
    }
    case GC_FIELD_FLOAT: {
        float x = *(const float *)v;
        return nullable && x == 0.0f ? json_null() : real7(x);
    }
    case GC_FIELD_BOOL: {
        int x = *(const int *)v;
        return nullable && x < 0 ? json_null() : json_boolean(x);
    }
    case GC_FIELD_ENUM: {
        int k = *(const int *)v;
        if (nullable && k < 0)
            return json_null();
        return json_string(k >= 0 && k < f->n_names ? f->names[k] : "?");
    }
    case GC_FIELD_FLAGS: {
        unsigned bits = *(const unsigned *)v;
        if (!bits)
            return json_null();
        char buf[256] = "";
        for (int k = 0; k < f->n_names; k++)
            if (bits & (1u << k)) {
                strncat(buf, buf[0] ? "," : "", sizeof buf - strlen(buf) - 1);
                strncat(buf, f->names[k], sizeof buf - strlen(buf) - 1);
            }
        return json_string(buf);
    }
    case GC_FIELD_STRING: {
        size_t n = strnlen(v, f->size);
        return nullable && n == 0 ? json_null() : json_stringn(v, n);
    }
    case GC_FIELD_PATH: {
        const char *path = given ? (const char *)at_const(given, f) : (const char *)v;
        return path[0] ? json_string(path) : json_null();
    }
    case GC_FIELD_CLASSES: {
        uint32_t mask = *(const uint32_t *)v;
        if (!mask)
            return json_null();
        json_t *a = json_array();
        for (int k = 0; a && k < 10; k++)
            if ((mask & (1u << k)) && json_array_append_new(a, json_integer(k))) {
                json_decref(a);
                return NULL;
            }
        return a;
    }
    case GC_FIELD_SMOOTHING: {
        const struct gc_tricks_spec *t = &s->tricks;
        if (t->smoothing == GC_SMOOTH_FIXED)
            return real7(t->smooth_lo);
        if (t->smoothing != GC_SMOOTH_RANGE)
            return json_null();
        json_t *a = json_array();
        if (a && (json_array_append_new(a, real7(t->smooth_lo)) ||
                  json_array_append_new(a, real7(t->smooth_hi)))) {
            json_decref(a);
            return NULL;
        }
        return a;
    }
    }
    return NULL;
}

static json_t *dump_section(const struct gc_spec *s, const char *section,
                            const struct gc_spec *given)
{
    json_t *o = json_object();
    int n;
    const struct gc_spec_field *t = gc_spec_fields(&n);
    for (int i = 0; o && i < n; i++) {
        if (!gc_spec_field_in(&t[i], section))
            continue;
        if (json_object_set_new(o, gc_spec_field_key(&t[i]), dump_value(s, &t[i], given))) {
            json_decref(o); /* no memory, or a name that is not UTF-8 */
            return NULL;
        }
    }
    return o;
}

json_t *ga_spec_to_value(const struct gc_spec *s, const struct gc_spec *given)
{
    return dump_section(s, "", given);
}

char *ga_spec_to_json(const struct gc_spec *spec)
{
    json_t *v = ga_spec_to_value(spec, NULL);
    char *s = v ? json_dumps(v, DUMP_FLAGS) : NULL;
    json_decref(v);
    return s;
}

json_t *ga_field_errors_to_value(const struct gc_field_errors *fe)
{
    json_t *a = json_array();
    for (int i = 0; a && i < fe->n; i++) {
        json_t *e = json_object();
        if (!e) {
            json_decref(a);
            return NULL;
        }
        /* both are whole UTF-8 unless a caller put bytes of its own in */
        json_t *field = json_string(fe->e[i].field);
        json_t *msg = json_string(fe->e[i].message);
        int bad = json_object_set_new(e, "field", field ? field : json_string(""));
        bad |= json_object_set_new(e, "message", msg ? msg : json_string("invalid value"));
        if (bad) {
            json_decref(e);
            json_decref(a);
            return NULL;
        }
        if (json_array_append_new(a, e)) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

int ga_spec_hash(const char *json, char out[65])
{
    json_t *v = json ? json_loads(json, JSON_REJECT_DUPLICATES, NULL) : NULL;
    if (!json_is_object(v)) {
        json_decref(v);
        return GC_EINVAL;
    }
    /* the name changes nothing that is trained */
    json_object_del(v, "name");
    char *text = json_dumps(v, DUMP_FLAGS | JSON_SORT_KEYS);
    json_decref(v);
    if (!text)
        return GC_ENOMEM;
    gd_sha256_hex((const unsigned char *)text, strlen(text), out);
    free(text);
    return 0;
}
