/* cmd_files.c — samples, generate, translate and checkpoint (see cmd_files.h).
 *
 * The four share one parser for their words (the run ID, --step, -o, for generate -n,
 * --seed, --format and --class, for translate the input file) and ctl_download() or
 * write_answer() for the bytes. */
#include "cli/cmd_files.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/output.h"
#include "cli/problem.h"
#include "cli/request.h"

enum { F_STEP = 100, F_OUT, F_N, F_SEED, F_FORMAT, F_CLASS };

/* samples and checkpoint */
static const struct ctl_opt step_output_opts[] = {
    {"step", 0, 1, F_STEP},
    {"output", 'o', 1, F_OUT},
    {NULL, 0, 0, 0},
};

static const struct ctl_opt generate_opts[] = {
    {"output", 'o', 1, F_OUT},    {"count", 'n', 1, F_N},     {"seed", 0, 1, F_SEED},
    {"format", 'f', 1, F_FORMAT}, {"class", 'c', 1, F_CLASS}, {NULL, 0, 0, 0},
};

#define MAX_CLASSES 1024 /* the API's bound on classes asked at once */
static const struct ctl_opt translate_opts[] = {
    {"output", 'o', 1, F_OUT},
    {NULL, 0, 0, 0},
};

struct file_args {
    int64_t id;
    const char *in; /* translate: the picture */
    long long step;
    int have_step;
    const char *out;
    long long n;
    long long seed;
    int have_seed;
    const char *format;
    json_t *classes; /* generate --class: the classes asked, in order (NULL: none) */
};

/* Adds the classes of one --class value ("Sneaker", "7", "Sneaker,Bag,7") to fa: a
 * number is a class index, anything else a name. */
static int add_classes(const char *cmd, const char *v, struct file_args *fa, struct ctl_error *err)
{
    if (!fa->classes && !(fa->classes = json_array()))
        return ctl_error_set(err, CTL_ENOMEM, "out of memory");
    const char *p = v;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char word[256];
        if (len == 0 || len >= sizeof word)
            return ctl_usage(err, cmd, "--class wants class names or indices, not '%s'", v);
        memcpy(word, p, len);
        word[len] = '\0';
        long long k;
        json_t *c = ctl_parse_i64(word, 0, 255, &k) == 0 ? json_integer(k) : json_string(word);
        if (!c || json_array_append_new(fa->classes, c))
            return ctl_usage(err, cmd, "--class '%s' is not a class name or index", word);
        if (json_array_size(fa->classes) > MAX_CLASSES)
            return ctl_usage(err, cmd, "--class: at most %d classes at once", MAX_CLASSES);
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

static int parse_file_args(struct ctl_ctx *ctx, const char *cmd, const struct ctl_opt *opts,
                           int argc, char **argv, struct file_args *fa, struct ctl_error *err)
{
    struct ctl_args a;
    const char *v;
    int k, have = 0;
    ctl_args_init(&a, argc, argv, ctl_global_opts, opts);
    while ((k = ctl_ctx_next(ctx, &a, cmd, &v, err)) != CTL_ARG_END) {
        if (k < 0)
            return k;
        switch (k) {
        case CTL_ARG_POSITIONAL:
            if (have == 1 && opts == translate_opts && !fa->in) {
                fa->in = v;
                break;
            }
            if (have++)
                return ctl_usage(err, cmd, "unexpected argument '%s'", v);
            if (ctl_parse_run_id(cmd, v, &fa->id, err))
                return err->code;
            break;
        case F_STEP:
            if (ctl_parse_i64(v, 0, INT64_MAX, &fa->step))
                return ctl_usage(err, cmd, "--step wants a step number, not '%s'", v);
            fa->have_step = 1;
            break;
        case F_OUT:
            fa->out = v;
            break;
        case F_N:
            if (ctl_parse_i64(v, 1, 1000000, &fa->n))
                return ctl_usage(err, cmd, "-n wants a positive count, not '%s'", v);
            break;
        case F_SEED:
            if (ctl_parse_i64(v, INT64_MIN, INT64_MAX, &fa->seed))
                return ctl_usage(err, cmd, "--seed wants an integer, not '%s'", v);
            fa->have_seed = 1;
            break;
        case F_FORMAT:
            if (strcmp(v, "png") && strcmp(v, "idx") && strcmp(v, "json"))
                return ctl_usage(err, cmd, "--format is png, idx or json, not '%s'", v);
            fa->format = v;
            break;
        case F_CLASS:
            if (add_classes(cmd, v, fa, err))
                return err->code;
            break;
        default:
            break;
        }
    }
    if (!have)
        return ctl_usage(err, cmd, "missing the run ID");
    return 0;
}

/* ---- samples ------------------------------------------------------------------------- */

static void sample_row(json_t *s, const char **cells, char (*text)[CTL_CELL])
{
    const char *url = json_string_value(json_object_get(s, "url"));
    ctl_fmt_number(json_object_get(s, "step"), text[0], CTL_CELL);
    cells[0] = text[0];
    cells[1] = url ? url : "-";
}

int ctl_cmd_samples(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err)
{
    struct file_args fa = {0};
    char path[128];
    int rc = parse_file_args(ctx, "samples", step_output_opts, argc, argv, &fa, err);
    if (rc)
        return rc;
    if (fa.out) {
        if (fa.have_step)
            snprintf(path, sizeof path, "/api/v1/runs/%" PRId64 "/samples/%lld.png", fa.id,
                     fa.step);
        else
            snprintf(path, sizeof path, "/api/v1/runs/%" PRId64 "/samples/latest.png", fa.id);
        return ctl_download(ctx, "GET", path, NULL, fa.out, err);
    }
    json_t *res;
    snprintf(path, sizeof path, "/api/v1/runs/%" PRId64 "/samples", fa.id);
    if ((rc = ctl_call_json(ctx, "GET", path, NULL, &res, err)))
        return rc;
    static const char *const headers[] = {"STEP", "URL"};
    if (ctx->json)
        ctl_print_json(res);
    else
        rc = ctl_print_rows(json_object_get(res, "samples"), 2, headers, sample_row,
                            "no samples yet", err);
    json_decref(res);
    return rc;
}

/* ---- generate ------------------------------------------------------------------------ */

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The request body: n, seed, format, and class (one) or classes (several). Steals
 * classes. */
static char *generate_body(const struct file_args *fa, const char *format, json_t *classes)
{
    json_t *b = json_pack("{s:I,s:s}", "n", (json_int_t)fa->n, "format", format);
    if (b && fa->have_seed)
        json_object_set_new(b, "seed", json_integer(fa->seed));
    if (b && classes && json_array_size(classes) == 1)
        json_object_set(b, "class", json_array_get(classes, 0));
    else if (b && classes)
        json_object_set(b, "classes", classes);
    json_decref(classes);
    char *s = b ? json_dumps(b, JSON_COMPACT) : NULL;
    json_decref(b);
    return s;
}

int ctl_cmd_generate(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err)
{
    struct file_args fa = {.n = 64};
    char path[96];
    int rc = parse_file_args(ctx, "generate", generate_opts, argc, argv, &fa, err);
    if (rc) {
        json_decref(fa.classes);
        return rc;
    }
    const char *format = fa.format;
    if (!format && fa.out && ends_with(fa.out, ".json"))
        format = "json";
    else if (!format && fa.out && (ends_with(fa.out, ".idx") || ends_with(fa.out, "-ubyte")))
        format = "idx";
    else if (!format)
        format = fa.out ? "png" : "json";
    if (!fa.out && strcmp(format, "json") != 0) {
        json_decref(fa.classes);
        return ctl_usage(err, "generate", "-o FILE is needed for png and idx (-o - for stdout)");
    }
    snprintf(path, sizeof path, "/api/v1/runs/%" PRId64 "/generate", fa.id);
    char *body = generate_body(&fa, format, fa.classes);
    if (!body)
        return ctl_error_set(err, CTL_ENOMEM, "out of memory");
    if (strcmp(format, "json") == 0 && (!fa.out || strcmp(fa.out, "-") == 0)) {
        json_t *points;
        if (!(rc = ctl_call_json(ctx, "POST", path, body, &points, err))) {
            ctl_print_json(points);
            json_decref(points);
        }
    } else {
        rc = ctl_download(ctx, "POST", path, body, fa.out, err);
    }
    free(body);
    return rc;
}

/* ---- translate ----------------------------------------------------------------------- */

/* The whole file (or standard input for "-") into *data; at most max bytes. */
static int read_input(const char *path, size_t max, char **data, size_t *len, struct ctl_error *err)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return ctl_error_set(err, CTL_EIO, "%s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    int rc = b ? 0 : ctl_error_set(err, CTL_ENOMEM, "out of memory");
    while (!rc) {
        if (n == cap) {
            char *nb = cap <= max ? realloc(b, cap * 2) : NULL;
            if (!nb) {
                rc = cap > max ? ctl_error_set(err, CTL_EFAIL,
                                               "%s: larger than the %zu bytes the daemon takes",
                                               path, max)
                               : ctl_error_set(err, CTL_ENOMEM, "out of memory");
                break;
            }
            b = nb;
            cap *= 2;
        }
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                rc = ctl_error_set(err, CTL_EIO, "%s: %s", path, strerror(errno));
            break;
        }
    }
    if (f != stdin)
        fclose(f);
    if (rc) {
        free(b);
        return rc;
    }
    *data = b;
    *len = n;
    return 0;
}

int ctl_cmd_translate(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err)
{
    struct file_args fa = {0};
    char path[96];
    int rc = parse_file_args(ctx, "translate", translate_opts, argc, argv, &fa, err);
    if (rc)
        return rc;
    if (!fa.in)
        return ctl_usage(err, "translate", "missing the input PNG (a file, or - for stdin)");
    if (!fa.out)
        return ctl_usage(err, "translate", "-o FILE is needed (-o - for stdout)");
    char *data = NULL;
    size_t len = 0;
    if ((rc = read_input(fa.in, CTL_MAX_UPLOAD, &data, &len, err)))
        return rc;
    struct ctl_client *c;
    struct ctl_response r;
    snprintf(path, sizeof path, "/api/v1/runs/%" PRId64 "/translate", fa.id);
    rc = ctl_ctx_client(ctx, &c, err);
    if (!rc)
        rc = ctl_client_request_bytes(c, "POST", path, "image/png", data, len, &r, err);
    free(data);
    if (rc)
        return rc;
    if (r.status < 200 || r.status >= 300) {
        rc = ctl_problem_report(&r);
        ctl_response_fini(&r);
        return rc;
    }
    rc = ctl_write_answer(&r, fa.out, err);
    ctl_response_fini(&r);
    return rc;
}

/* ---- checkpoint ---------------------------------------------------------------------- */

static void checkpoint_row(json_t *cp, const char **cells, char (*text)[CTL_CELL])
{
    const char *sha = json_string_value(json_object_get(cp, "sha256"));
    const char *at = json_string_value(json_object_get(cp, "created_at"));
    ctl_fmt_number(json_object_get(cp, "step"), text[0], CTL_CELL);
    ctl_fmt_number(json_object_get(cp, "bytes"), text[1], CTL_CELL);
    cells[0] = text[0];
    cells[1] = text[1];
    cells[2] = sha ? sha : "-";
    cells[3] = at ? at : "-";
}

/* 1 with *step the highest step in list (the newest checkpoint), 0 when list has none. */
static int newest_step(json_t *list, long long *step)
{
    size_t i;
    json_t *cp;
    int found = 0;
    json_array_foreach(list, i, cp)
    {
        json_t *s = json_object_get(cp, "step");
        if (json_is_integer(s) && (!found || json_integer_value(s) > *step)) {
            *step = json_integer_value(s);
            found = 1;
        }
    }
    return found;
}

int ctl_cmd_checkpoint(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err)
{
    struct file_args fa = {0};
    char path[128];
    json_t *res = NULL;
    int rc = parse_file_args(ctx, "checkpoint", step_output_opts, argc, argv, &fa, err);
    if (rc)
        return rc;
    if (!fa.out || !fa.have_step) {
        snprintf(path, sizeof path, "/api/v1/runs/%" PRId64 "/checkpoints", fa.id);
        if ((rc = ctl_call_json(ctx, "GET", path, NULL, &res, err)))
            return rc;
    }
    json_t *list = json_object_get(res, "checkpoints");
    if (fa.out) {
        if (!fa.have_step) {
            fa.have_step = newest_step(list, &fa.step);
            json_decref(res);
            if (!fa.have_step) {
                ctl_warn("run %" PRId64 " has no checkpoint yet", fa.id);
                return CTL_ENOTFOUND;
            }
        }
        snprintf(path, sizeof path, "/api/v1/runs/%" PRId64 "/checkpoints/%lld", fa.id, fa.step);
        return ctl_download(ctx, "GET", path, NULL, fa.out, err);
    }
    static const char *const headers[] = {"STEP", "BYTES", "SHA256", "CREATED"};
    if (ctx->json)
        ctl_print_json(res);
    else
        rc = ctl_print_rows(list, 4, headers, checkpoint_row, "no checkpoints yet", err);
    json_decref(res);
    return rc;
}
