/* cmd_sweeps.c — `ganctl sweep` and `ganctl sweeps` (see cmd_sweeps.h). */
#include "cli/cmd_sweeps.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/output.h"
#include "cli/request.h"
#include "cli/spec.h"
#include "cli/table.h"

int ctl_cmd_sweep(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err)
{
    struct ctl_args a;
    const char *v, *file = NULL;
    int k, rc;
    ctl_args_init(&a, argc, argv, ctl_global_opts, NULL);
    while ((k = ctl_ctx_next(ctx, &a, "sweep", &v, err)) != CTL_ARG_END) {
        if (k < 0)
            return k;
        if (k == CTL_ARG_POSITIONAL) {
            if (file)
                return ctl_usage(err, "sweep", "unexpected argument '%s'", v);
            file = v;
        }
    }
    if (!file)
        return ctl_usage(err, "sweep", "missing the sweep file (- for stdin)");
    json_t *body;
    if ((rc = ctl_spec_load(file, &body, err)))
        return rc;
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!text)
        return ctl_error_set(err, CTL_ENOMEM, "out of memory");
    json_t *sweep;
    rc = ctl_call_json(ctx, "POST", "/api/v1/sweeps", text, &sweep, err);
    free(text);
    if (rc)
        return rc;
    json_t *confs = json_object_get(sweep, "configurations");
    size_t runs = 0, i;
    json_t *c;
    json_array_foreach(confs, i, c) runs += json_array_size(json_object_get(c, "runs"));
    if (ctx->json) {
        ctl_print_json(sweep);
    } else {
        printf("%" JSON_INTEGER_FORMAT "\n", json_integer_value(json_object_get(sweep, "id")));
        fprintf(stderr,
                "sweep %" JSON_INTEGER_FORMAT ": %zu configurations, %zu runs queued; "
                "'ganctl sweeps %" JSON_INTEGER_FORMAT "' shows how they do\n",
                json_integer_value(json_object_get(sweep, "id")), json_array_size(confs), runs,
                json_integer_value(json_object_get(sweep, "id")));
    }
    json_decref(sweep);
    return 0;
}

/* "0.0004 ± 0.0001" of an objective {mean, std}, "-" without one. */
static void objective_cell(json_t *obj, char *out, size_t cap)
{
    json_t *mean = json_object_get(obj, "mean");
    if (!json_is_number(mean)) {
        snprintf(out, cap, "-");
        return;
    }
    char m[32], s[32];
    ctl_fmt_number(mean, m, sizeof m);
    ctl_fmt_number(json_object_get(obj, "std"), s, sizeof s);
    snprintf(out, cap, "%s ± %s", m, s);
}

/* The axis values of a configuration: "lr=0.0002 unrolled_steps=5". */
static void values_cell(json_t *vals, char *out, size_t cap)
{
    out[0] = '\0';
    const char *path;
    json_t *v;
    json_object_foreach(vals, path, v)
    {
        char num[48];
        if (json_is_string(v))
            snprintf(num, sizeof num, "%s", json_string_value(v));
        else if (json_is_number(v))
            ctl_fmt_number(v, num, sizeof num);
        else
            snprintf(num, sizeof num, "%s", json_is_true(v) ? "true" : "false");
        const char *dot = strrchr(path, '.');
        size_t n = strlen(out);
        snprintf(out + n, cap - n, "%s%s=%s", n ? " " : "", dot ? dot + 1 : path, num);
    }
}

static void sweep_row(json_t *w, const char **cells, char (*text)[CTL_CELL])
{
    json_t *obj = json_object_get(w, "objective"), *best = json_object_get(w, "best");
    ctl_fmt_number(json_object_get(w, "id"), text[0], CTL_CELL);
    const char *name = json_string_value(json_object_get(w, "name"));
    const char *st = json_string_value(json_object_get(w, "status"));
    ctl_fmt_number(json_object_get(w, "configurations"), text[3], CTL_CELL);
    snprintf(text[4], CTL_CELL, "%s %s",
             json_string_value(json_object_get(obj, "metric"))
                 ? json_string_value(json_object_get(obj, "metric"))
                 : "?",
             json_string_value(json_object_get(obj, "goal"))
                 ? json_string_value(json_object_get(obj, "goal"))
                 : "");
    objective_cell(json_object_get(best, "objective"), text[5], CTL_CELL);
    values_cell(json_object_get(best, "values"), text[6], CTL_CELL);
    cells[0] = text[0];
    cells[1] = name ? name : "-";
    cells[2] = st ? st : "-";
    for (int c = 3; c < 7; c++)
        cells[c] = text[c];
    if (!best || json_is_null(best))
        cells[6] = "-";
}

/* Sorts configurations by their objective's mean, the best first, those without last. */
static int goal_max;
static int by_objective(const void *a, const void *b)
{
    json_t *x = json_object_get(json_object_get(*(json_t *const *)a, "objective"), "mean");
    json_t *y = json_object_get(json_object_get(*(json_t *const *)b, "objective"), "mean");
    int hx = json_is_number(x), hy = json_is_number(y);
    if (hx != hy)
        return hy - hx;
    if (!hx)
        return 0;
    double u = json_number_value(x), v = json_number_value(y);
    if (u == v)
        return 0;
    return (goal_max ? u < v : u > v) ? 1 : -1;
}

static int show_sweep(struct ctl_ctx *ctx, int64_t id, struct ctl_error *err)
{
    char path[64];
    json_t *w;
    snprintf(path, sizeof path, "/api/v1/sweeps/%" PRId64, id);
    int rc = ctl_call_json(ctx, "GET", path, NULL, &w, err);
    if (rc)
        return rc;
    if (ctx->json) {
        ctl_print_json(w);
        json_decref(w);
        return 0;
    }
    json_t *obj = json_object_get(w, "objective");
    const char *metric = json_string_value(json_object_get(obj, "metric"));
    const char *goal = json_string_value(json_object_get(obj, "goal"));
    goal_max = goal && !strcmp(goal, "max");
    printf("sweep %" PRId64 " %s: %s, objective %s (%s is better)%s\n", id,
           json_string_value(json_object_get(w, "name")),
           json_string_value(json_object_get(w, "status")), metric ? metric : "?",
           goal_max ? "higher" : "lower",
           json_is_string(json_object_get(w, "early_stopping")) ? ", successive halving" : "");
    json_t *confs = json_object_get(w, "configurations");
    size_t n = json_array_size(confs);
    json_t **order = calloc(n ? n : 1, sizeof *order);
    if (!order) {
        json_decref(w);
        return ctl_error_set(err, CTL_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        order[i] = json_array_get(confs, i);
    qsort(order, n, sizeof *order, by_objective);
    static const char *const headers[] = {"RANK", "CONFIG", "VALUES", "OBJECTIVE",
                                          "BEST", "N",      "RUNS",   "STATE"};
    struct ctl_table *t = ctl_table_create(8, headers);
    for (size_t i = 0; t && i < n && rc == 0; i++) {
        json_t *c = order[i], *o = json_object_get(c, "objective");
        char cell[8][256];
        snprintf(cell[0], sizeof cell[0], "%zu", i + 1);
        ctl_fmt_number(json_object_get(c, "index"), cell[1], sizeof cell[1]);
        values_cell(json_object_get(c, "values"), cell[2], sizeof cell[2]);
        objective_cell(o, cell[3], sizeof cell[3]);
        ctl_fmt_number(json_object_get(o, "best"), cell[4], sizeof cell[4]);
        ctl_fmt_number(json_object_get(o, "n"), cell[5], sizeof cell[5]);
        cell[6][0] = '\0';
        size_t k;
        json_t *r;
        json_array_foreach(json_object_get(c, "runs"), k, r)
        {
            size_t len = strlen(cell[6]);
            snprintf(cell[6] + len, sizeof cell[6] - len, "%s%" JSON_INTEGER_FORMAT, k ? "," : "",
                     json_integer_value(r));
        }
        snprintf(cell[7], sizeof cell[7], "%s",
                 json_is_true(json_object_get(c, "stopped"))    ? "stopped"
                 : json_is_true(json_object_get(c, "finished")) ? "finished"
                                                                : "training");
        const char *cells[8];
        for (int j = 0; j < 8; j++)
            cells[j] = cell[j];
        rc = ctl_table_add(t, cells, err);
    }
    if (t && rc == 0)
        ctl_table_print(t, stdout);
    else if (!t)
        rc = ctl_error_set(err, CTL_ENOMEM, "out of memory");
    ctl_table_destroy(t);
    free(order);
    json_decref(w);
    return rc;
}

int ctl_cmd_sweeps(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err)
{
    struct ctl_args a;
    const char *v;
    int k, have = 0, rc;
    int64_t id = 0;
    ctl_args_init(&a, argc, argv, ctl_global_opts, NULL);
    while ((k = ctl_ctx_next(ctx, &a, "sweeps", &v, err)) != CTL_ARG_END) {
        if (k < 0)
            return k;
        if (k == CTL_ARG_POSITIONAL) {
            if (have++)
                return ctl_usage(err, "sweeps", "unexpected argument '%s'", v);
            long long n;
            if (ctl_parse_i64(v, 1, INT64_MAX, &n))
                return ctl_usage(err, "sweeps", "a sweep ID is a positive integer, not '%s'", v);
            id = n;
        }
    }
    if (have)
        return show_sweep(ctx, id, err);
    json_t *res;
    if ((rc = ctl_call_json(ctx, "GET", "/api/v1/sweeps", NULL, &res, err)))
        return rc;
    static const char *const headers[] = {"ID",        "NAME",      "STATUS",     "CONFIGS",
                                          "OBJECTIVE", "BEST MEAN", "BEST VALUES"};
    if (ctx->json)
        ctl_print_json(res);
    else
        rc = ctl_print_rows(json_object_get(res, "sweeps"), 7, headers, sweep_row, "no sweeps yet",
                            err);
    json_decref(res);
    return rc;
}
