/* cmd_workers.c — `ganctl workers` (see cmd_workers.h): GET /api/v1/workers as a
 * table. With SQLite the one worker is the daemon itself; with PostgreSQL every daemon
 * on the database is listed, so any of them shows where each run trains. */
#include "cli/cmd_workers.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/output.h"
#include "cli/request.h"

/* The daemon asked, whose row is marked. */
static const char *self_name;

static void worker_row(json_t *w, const char **cells, char (*text)[CTL_CELL])
{
    const char *name = json_string_value(json_object_get(w, "name"));
    json_t *running = json_object_get(w, "running");
    snprintf(text[0], CTL_CELL, "%s%s", name ? name : "-",
             name && self_name && !strcmp(name, self_name) ? " *" : "");
    cells[0] = text[0];
    cells[1] = json_is_true(json_object_get(w, "alive")) ? "alive" : "silent";
    /* the runs it trains: "3,7", "-" for none */
    size_t i, n = 0;
    json_t *id;
    text[2][0] = '\0';
    json_array_foreach(running, i, id)
    {
        n += (size_t)snprintf(text[2] + n, n < CTL_CELL ? CTL_CELL - n : 0, "%s%lld", i ? "," : "",
                              (long long)json_integer_value(id));
        if (n >= CTL_CELL - 1)
            break;
    }
    cells[2] = text[2][0] ? text[2] : "-";
    ctl_fmt_number(json_object_get(w, "workers"), text[3], CTL_CELL);
    ctl_fmt_number(json_object_get(w, "threads"), text[4], CTL_CELL);
    ctl_fmt_age(json_string_value(json_object_get(w, "heartbeat_at")), text[5], CTL_CELL);
    for (int c = 3; c < 6; c++)
        cells[c] = text[c];
}

int ctl_cmd_workers(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err)
{
    struct ctl_args a;
    const char *v;
    int k, rc;
    ctl_args_init(&a, argc, argv, ctl_global_opts, NULL);
    while ((k = ctl_ctx_next(ctx, &a, "workers", &v, err)) != CTL_ARG_END) {
        if (k < 0)
            return k;
        if (k == CTL_ARG_POSITIONAL)
            return ctl_usage(err, "workers", "unexpected argument '%s'", v);
    }
    json_t *res;
    if ((rc = ctl_call_json(ctx, "GET", "/api/v1/workers", NULL, &res, err)))
        return rc;
    if (ctx->json) {
        ctl_print_json(res);
        json_decref(res);
        return 0;
    }
    json_t *list = json_object_get(res, "workers");
    if (!json_is_array(list)) {
        json_decref(res);
        return ctl_error_set(err, CTL_EFAIL, "the daemon's answer has no \"workers\" array");
    }
    self_name = json_string_value(json_object_get(res, "self"));
    static const char *const headers[] = {"NAME",    "STATE",   "RUNNING",
                                          "WORKERS", "THREADS", "HEARTBEAT"};
    rc = ctl_print_rows(list, 6, headers, worker_row, "no workers", err);
    self_name = NULL;
    json_decref(res);
    return rc;
}
