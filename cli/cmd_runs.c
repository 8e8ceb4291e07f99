/* cmd_runs.c — ls, show, watch, cancel, pause, resume and rm (see cmd_runs.h). */
#include "cli/cmd_runs.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/output.h"
#include "cli/request.h"
#include "cli/watch.h"

/* "500/1500 33%", or the step alone when the run's length is unknown. */
static void progress_cell(json_t *run, char *out, size_t cap)
{
    json_t *step = json_object_get(run, "step"), *steps = json_object_get(run, "steps");
    if (json_is_integer(step) && json_is_integer(steps) && json_integer_value(steps) > 0) {
        long long s = json_integer_value(step), n = json_integer_value(steps);
        snprintf(out, cap, "%lld/%lld %d%%", s, n, (int)(100.0 * (double)s / (double)n));
    } else if (json_is_integer(step)) {
        snprintf(out, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(step));
    } else {
        snprintf(out, cap, "-");
    }
}

/* ---- ls ------------------------------------------------------------------------------ */

enum { L_STATUS = 100, L_LIMIT };

static const struct ctl_opt ls_opts[] = {
    {"status", 's', 1, L_STATUS},
    {"limit", 0, 1, L_LIMIT},
    {NULL, 0, 0, 0},
};

static void run_row(json_t *run, const char **cells, char (*text)[CTL_CELL])
{
    json_t *latest = json_object_get(run, "latest");
    const char *name = json_string_value(json_object_get(run, "name"));
    const char *status = json_string_value(json_object_get(run, "status"));
    ctl_fmt_number(json_object_get(run, "id"), text[0], CTL_CELL);
    progress_cell(run, text[3], CTL_CELL);
    ctl_fmt_number(json_object_get(latest, "loss_d"), text[4], CTL_CELL);
    ctl_fmt_number(json_object_get(latest, "loss_g"), text[5], CTL_CELL);
    ctl_fmt_age(json_string_value(json_object_get(run, "created_at")), text[6], CTL_CELL);
    cells[0] = text[0];
    cells[1] = name && *name ? name : "-";
    cells[2] = status ? status : "-";
    for (int c = 3; c < 7; c++)
        cells[c] = text[c];
}

/* Appends the runs of every page to all, up to limit (0: no limit). */
static int fetch_runs(struct ctl_ctx *ctx, const char *status, long long limit, json_t *all,
                      struct ctl_error *err)
{
    char *cursor = NULL;
    char *status_q = status ? ctl_url_escape(status) : NULL;
    int rc = 0;
    if (status && !status_q)
        return ctl_error_set(err, CTL_ENOMEM, "out of memory");
    /* Follow the cursor to the end (or the limit); a cursor that repeats ends it too. */
    for (int page = 0; page < 100000; page++) {
        char path[512];
        long long want = limit ? limit - (long long)json_array_size(all) : 100;
        if (want <= 0)
            break;
        snprintf(path, sizeof path, "/api/v1/runs?limit=%lld%s%s%s%s", want > 100 ? 100 : want,
                 status_q ? "&status=" : "", status_q ? status_q : "", cursor ? "&cursor=" : "",
                 cursor ? cursor : "");
        json_t *res;
        if ((rc = ctl_call_json(ctx, "GET", path, NULL, &res, err)))
            break;
        json_t *runs = json_object_get(res, "runs");
        if (!json_is_array(runs)) {
            json_decref(res);
            rc = ctl_error_set(err, CTL_EFAIL, "the daemon's run list has no \"runs\" array");
            break;
        }
        size_t got = json_array_size(runs);
        if (json_array_extend(all, runs) != 0) {
            json_decref(res);
            rc = ctl_error_set(err, CTL_ENOMEM, "out of memory");
            break;
        }
        const char *next = json_string_value(json_object_get(res, "next_cursor"));
        char *next_q = next && *next ? ctl_url_escape(next) : NULL;
        int same = next_q && cursor && strcmp(next_q, cursor) == 0;
        free(cursor);
        cursor = next_q;
        json_decref(res);
        if (!cursor || same || got == 0)
            break;
    }
    free(cursor);
    free(status_q);
    return rc;
}

int ctl_cmd_ls(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err)
{
    struct ctl_args a;
    const char *v, *status = NULL;
    long long limit = 0;
    int k, rc;

    ctl_args_init(&a, argc, argv, ctl_global_opts, ls_opts);
    while ((k = ctl_ctx_next(ctx, &a, "ls", &v, err)) != CTL_ARG_END) {
        if (k < 0)
            return k;
        if (k == L_STATUS)
            status = v;
        else if (k == L_LIMIT && ctl_parse_i64(v, 1, 1000000, &limit))
            return ctl_usage(err, "ls", "--limit wants a positive integer, not '%s'", v);
        else if (k == CTL_ARG_POSITIONAL)
            return ctl_usage(err, "ls", "unexpected argument '%s'", v);
    }

    json_t *all = json_array();
    if (!all)
        return ctl_error_set(err, CTL_ENOMEM, "out of memory");
    if ((rc = fetch_runs(ctx, status, limit, all, err)))
        goto out;
    while (limit && (long long)json_array_size(all) > limit)
        json_array_remove(all, json_array_size(all) - 1);

    if (ctx->json) {
        json_t *o = json_pack("{sOsn}", "runs", all, "next_cursor");
        ctl_print_json(o);
        json_decref(o);
        goto out;
    }
    static const char *const headers[] = {"ID",     "NAME",   "STATUS", "PROGRESS",
                                          "LOSS_D", "LOSS_G", "AGE"};
    char empty[300];
    snprintf(empty, sizeof empty, "no runs%s%s", status ? " with status " : "",
             status ? status : "");
    rc = ctl_print_rows(all, 7, headers, run_row, empty, err);
out:
    json_decref(all);
    return rc;
}

/* ---- show ---------------------------------------------------------------------------- */

static void print_figures(const char *label, json_t *obj)
{
    const char *key;
    json_t *v;
    int first = 1;
    if (json_object_size(obj) == 0)
        return;
    printf("%-10s", label);
    json_object_foreach(obj, key, v)
    {
        char num[32];
        ctl_fmt_number(v, num, sizeof num);
        printf("%s%s %s", first ? "" : "  ", key, num);
        first = 0;
    }
    putchar('\n');
}

static void print_time(const char *label, json_t *v)
{
    const char *s = json_string_value(v);
    if (!s) {
        printf("%-10s-\n", label);
        return;
    }
    char age[32];
    ctl_fmt_age(s, age, sizeof age);
    printf("%-10s%s (%s ago)\n", label, s, age);
}

/* A conditional run's classes, "0 T-shirt/top, 1 Trouser, ..." (a class named by its
 * index shows once). */
static void print_classes(json_t *classes)
{
    size_t i;
    json_t *c;
    if (!json_array_size(classes))
        return;
    printf("%-10s", "classes");
    json_array_foreach(classes, i, c)
    {
        char num[32];
        const char *name = json_string_value(json_object_get(c, "name"));
        ctl_fmt_number(json_object_get(c, "index"), num, sizeof num);
        printf("%s%s", i ? ", " : "", num);
        if (name && strcmp(name, num) != 0)
            printf(" %s", name);
    }
    putchar('\n');
}

int ctl_cmd_show(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err)
{
    int64_t id;
    json_t *run;
    char path[64];
    int rc = ctl_ctx_run_id(ctx, "show", argc, argv, &id, err);
    if (rc)
        return rc;
    snprintf(path, sizeof path, "/api/v1/runs/%" PRId64, id);
    if ((rc = ctl_call_json(ctx, "GET", path, NULL, &run, err)))
        return rc;
    if (ctx->json) {
        ctl_print_json(run);
        json_decref(run);
        return 0;
    }
    char num[32], prog[64];
    const char *name = json_string_value(json_object_get(run, "name"));
    const char *status = json_string_value(json_object_get(run, "status"));
    const char *error = json_string_value(json_object_get(run, "error"));
    ctl_fmt_number(json_object_get(run, "id"), num, sizeof num);
    progress_cell(run, prog, sizeof prog);
    printf("%-10s%s\n", "id", num);
    printf("%-10s%s\n", "name", name && *name ? name : "-");
    printf("%-10s%s\n", "status", status ? status : "-");
    printf("%-10s%s\n", "progress", prog);
    print_time("created", json_object_get(run, "created_at"));
    print_time("started", json_object_get(run, "started_at"));
    print_time("finished", json_object_get(run, "finished_at"));
    if (error && *error)
        printf("%-10s%s\n", "error", error);
    const char *worker = json_string_value(json_object_get(run, "worker"));
    if (worker && *worker)
        printf("%-10s%s\n", "worker", worker);
    print_figures("latest", json_object_get(run, "latest"));
    print_figures("eval", json_object_get(run, "eval"));
    print_classes(json_object_get(run, "classes"));
    json_t *spec = json_object_get(run, "spec");
    if (spec) {
        char *s = ctl_json_pretty(spec);
        printf("spec      %s\n", s ? s : "?");
        free(s);
    }
    json_decref(run);
    return 0;
}

/* ---- watch --------------------------------------------------------------------------- */

enum { W_RETRY = 100 };

static const struct ctl_opt watch_opts[] = {
    {"retry-for", 0, 1, W_RETRY},
    {NULL, 0, 0, 0},
};

int ctl_cmd_watch(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err)
{
    struct ctl_args a;
    const char *v;
    int k, have = 0, rc;
    long long retry = 300;
    int64_t id = 0;

    ctl_args_init(&a, argc, argv, ctl_global_opts, watch_opts);
    while ((k = ctl_ctx_next(ctx, &a, "watch", &v, err)) != CTL_ARG_END) {
        if (k < 0)
            return k;
        if (k == W_RETRY && ctl_parse_i64(v, 0, 86400 * 365, &retry))
            return ctl_usage(err, "watch", "--retry-for wants seconds (0: forever), not '%s'", v);
        if (k == CTL_ARG_POSITIONAL) {
            if (have++)
                return ctl_usage(err, "watch", "unexpected argument '%s'", v);
            if ((rc = ctl_parse_run_id("watch", v, &id, err)))
                return rc;
        }
    }
    if (!have)
        return ctl_usage(err, "watch", "missing the run ID");
    struct ctl_client *c;
    if ((rc = ctl_ctx_client(ctx, &c, err)))
        return rc;
    struct ctl_watch_opts wo = {
        .run = id,
        .json = ctx->json,
        .fancy = ctx->fancy && !ctx->json,
        .retry_for_s = (int)retry,
        .token = ctx->token,
    };
    return ctl_watch(c, &wo, err);
}

/* ---- cancel, pause, resume, rm ------------------------------------------------------- */

/* done: the statuses that mean the action has taken effect (a cancel or pause of a
 * running run lands within a step, so the answer may still say running). */
static int run_action(struct ctl_ctx *ctx, const char *cmd, const char *done, int argc, char **argv,
                      struct ctl_error *err)
{
    int64_t id;
    json_t *run;
    char path[96];
    int rc = ctl_ctx_run_id(ctx, cmd, argc, argv, &id, err);
    if (rc)
        return rc;
    snprintf(path, sizeof path, "/api/v1/runs/%" PRId64 "/%s", id, cmd);
    if ((rc = ctl_call_json(ctx, "POST", path, NULL, &run, err)))
        return rc;
    if (ctx->json) {
        ctl_print_json(run);
    } else {
        const char *status = json_string_value(json_object_get(run, "status"));
        if (!status)
            status = "?";
        if (strstr(done, status))
            fprintf(stderr, "run %" PRId64 ": %s\n", id, status);
        else
            fprintf(stderr, "run %" PRId64 ": %s requested (now %s)\n", id, cmd, status);
    }
    json_decref(run);
    return 0;
}

int ctl_cmd_cancel(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err)
{
    return run_action(ctx, "cancel", "canceled", argc, argv, err);
}

int ctl_cmd_pause(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err)
{
    return run_action(ctx, "pause", "paused", argc, argv, err);
}

int ctl_cmd_resume(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err)
{
    return run_action(ctx, "resume", "queued running", argc, argv, err);
}

int ctl_cmd_rm(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err)
{
    int64_t id;
    struct ctl_response r;
    char path[64];
    int rc = ctl_ctx_run_id(ctx, "rm", argc, argv, &id, err);
    if (rc)
        return rc;
    snprintf(path, sizeof path, "/api/v1/runs/%" PRId64, id);
    if ((rc = ctl_call(ctx, "DELETE", path, NULL, &r, err)))
        return rc;
    ctl_response_fini(&r);
    fprintf(stderr, "run %" PRId64 ": deleted\n", id);
    return 0;
}
