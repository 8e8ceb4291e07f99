/* cmd_metrics.c — `ganctl metrics` (see cmd_metrics.h).
 *
 * The API sends each metric as its own series of [step, value] pairs, and the series
 * need not share steps (evaluations run less often than logging). The table joins
 * them on the step: a row for every step any series has, an empty cell where a series
 * has no value at that step. */
#include "cli/cmd_metrics.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/buf.h"
#include "cli/output.h"
#include "cli/request.h"
#include "cli/table.h"

enum { M_CSV = 100, M_FROM, M_TO, M_MAX };

static const struct ctl_opt metrics_opts[] = {
    {"csv", 0, 0, M_CSV},    {"from-step", 0, 1, M_FROM},
    {"to-step", 0, 1, M_TO}, {"max-points", 0, 1, M_MAX},
    {NULL, 0, 0, 0},
};

struct point {
    long long step;
    double value;
};

static int cmp_point(const void *a, const void *b)
{
    long long x = ((const struct point *)a)->step, y = ((const struct point *)b)->step;
    return (x > y) - (x < y);
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

static int metrics_table(json_t *metrics, struct ctl_table **out, struct ctl_error *err)
{
    size_t ncols = json_object_size(metrics), total = 0, c = 0;
    const char *key;
    json_t *series;
    int rc = 0;
    struct point **cols = calloc(ncols + 1, sizeof *cols);
    size_t *lens = calloc(ncols + 1, sizeof *lens);
    const char **headers = calloc(ncols + 1, sizeof *headers);
    long long *steps = NULL;
    const char **cells = calloc(ncols + 1, sizeof *cells);
    char *text = calloc(ncols + 1, 32);
    if (!cols || !lens || !headers || !cells || !text)
        goto oom;
    headers[0] = "step";
    json_object_foreach(metrics, key, series)
    {
        size_t n = json_array_size(series), m = 0;
        headers[c + 1] = key;
        cols[c] = calloc(n + 1, sizeof **cols);
        if (!cols[c])
            goto oom;
        for (size_t i = 0; i < n; i++) {
            json_t *p = json_array_get(series, i);
            json_t *s = json_array_get(p, 0), *v = json_array_get(p, 1);
            if (!json_is_number(s))
                continue;
            cols[c][m].step = (long long)json_number_value(s);
            /* null marks a value that could not be stored as a number (NaN, Inf). */
            cols[c][m].value = json_is_number(v) ? json_number_value(v) : NAN;
            m++;
        }
        qsort(cols[c], m, sizeof **cols, cmp_point);
        lens[c] = m;
        total += m;
        c++;
    }
    steps = malloc((total + 1) * sizeof *steps);
    if (!steps)
        goto oom;
    size_t ns = 0;
    for (c = 0; c < ncols; c++)
        for (size_t i = 0; i < lens[c]; i++)
            steps[ns++] = cols[c][i].step;
    qsort(steps, ns, sizeof *steps, cmp_ll);
    *out = ctl_table_create((int)ncols + 1, headers);
    if (!*out)
        goto oom;
    size_t *pos = calloc(ncols + 1, sizeof *pos);
    if (!pos)
        goto oom;
    for (size_t i = 0; i < ns && rc == 0; i++) {
        if (i > 0 && steps[i] == steps[i - 1])
            continue;
        char stepbuf[32];
        snprintf(stepbuf, sizeof stepbuf, "%lld", steps[i]);
        cells[0] = stepbuf;
        for (c = 0; c < ncols; c++) {
            /* Both are sorted by step: walk each column along with the steps. */
            while (pos[c] < lens[c] && cols[c][pos[c]].step < steps[i])
                pos[c]++;
            char *cell = text + 32 * (c + 1);
            if (pos[c] < lens[c] && cols[c][pos[c]].step == steps[i])
                snprintf(cell, 32, "%.6g", cols[c][pos[c]].value);
            else
                cell[0] = '\0';
            cells[c + 1] = cell;
        }
        rc = ctl_table_add(*out, cells, err);
    }
    free(pos);
    goto done;
oom:
    rc = ctl_error_set(err, CTL_ENOMEM, "out of memory");
done:
    for (c = 0; cols && c < ncols; c++)
        free(cols[c]);
    free(cols);
    free(lens);
    free(headers);
    free(steps);
    free(cells);
    free(text);
    if (rc) {
        ctl_table_destroy(*out);
        *out = NULL;
    }
    return rc;
}

int ctl_cmd_metrics(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err)
{
    struct ctl_args a;
    const char *v;
    int k, have = 0, csv = 0, rc = 0;
    int64_t id = 0;
    long long num;
    struct ctl_buf query = {0}; /* "?name=a&name=b&from_step=10" as the words come */
    json_t *res = NULL;

    ctl_args_init(&a, argc, argv, ctl_global_opts, metrics_opts);
    while ((k = ctl_ctx_next(ctx, &a, "metrics", &v, err)) != CTL_ARG_END) {
        const char *param = NULL;
        if (k < 0) {
            rc = k;
            goto out;
        } else if (k == M_CSV) {
            csv = 1;
        } else if (k == M_FROM || k == M_TO || k == M_MAX) {
            if (ctl_parse_i64(v, k == M_MAX ? 1 : 0, INT64_MAX, &num)) {
                rc =
                    ctl_usage(err, "metrics",
                              "--from-step, --to-step and --max-points want a number, not '%s'", v);
                goto out;
            }
            param = k == M_FROM ? "from_step=" : k == M_TO ? "to_step=" : "max_points=";
        } else if (k == CTL_ARG_POSITIONAL && !have) {
            have = 1;
            if ((rc = ctl_parse_run_id("metrics", v, &id, err)))
                goto out;
        } else if (k == CTL_ARG_POSITIONAL) {
            param = "name=";
        }
        if (param) {
            char *esc = ctl_url_escape(v);
            int oom = !esc || ctl_buf_puts(&query, query.len ? "&" : "?") ||
                      ctl_buf_puts(&query, param) || ctl_buf_puts(&query, esc);
            free(esc);
            if (oom) {
                rc = ctl_error_set(err, CTL_ENOMEM, "out of memory");
                goto out;
            }
        }
    }
    if (!have) {
        rc = ctl_usage(err, "metrics", "missing the run ID");
        goto out;
    }
    char path[4096];
    if (snprintf(path, sizeof path, "/api/v1/runs/%" PRId64 "/metrics%s", id,
                 query.s ? query.s : "") >= (int)sizeof path) {
        rc = ctl_usage(err, "metrics", "too many metric names");
        goto out;
    }
    if ((rc = ctl_call_json(ctx, "GET", path, NULL, &res, err)))
        goto out;
    if (ctx->json) {
        ctl_print_json(res);
        goto out;
    }
    json_t *metrics = json_object_get(res, "metrics");
    if (!json_is_object(metrics)) {
        rc = ctl_error_set(err, CTL_EFAIL, "the daemon's answer has no \"metrics\" object");
        goto out;
    }
    struct ctl_table *t = NULL;
    if ((rc = metrics_table(metrics, &t, err)))
        goto out;
    if (csv)
        ctl_table_print_csv(t, stdout);
    else if (ctl_table_rows(t) == 0)
        fprintf(stderr, "no metrics yet\n");
    else
        ctl_table_print(t, stdout);
    ctl_table_destroy(t);
out:
    json_decref(res);
    ctl_buf_fini(&query);
    return rc;
}
