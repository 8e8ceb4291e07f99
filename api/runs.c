/* runs.c — the /api/v1/runs endpoints (docs/api.md): create, list, get, delete, the
 * actions, metric series, samples and checkpoints (generate, export and the planes of
 * 2D runs are api/generate.c's).
 *
 * Handlers read from the store and act through the scheduler; neither is called with
 * a lock of ours held. The run object comes from api/run_object.c. */
#include "api/runs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/reply.h"
#include "api/request.h"
#include "api/run_object.h"
#include "api/spec_json.h"
#include "core/data.h"

#define LIST_DEFAULT 50
#define LIST_MAX 500
#define POINTS_DEFAULT 1000
#define POINTS_MAX 100000
#define MAX_NAMES 32

/* A query parameter that must be a whole number in [lo, hi]; replies 400 itself. */
static int query_i64(struct ga_req *r, const char *key, int64_t lo, int64_t hi, int64_t *out,
                     enum MHD_Result *ret)
{
    const char *v = ga_query(r, key);
    if (!v)
        return 0;
    if (ga_parse_i64(v, lo, hi, out) != 0) {
        char msg[96];
        snprintf(msg, sizeof msg, "must be a whole number between %lld and %lld", (long long)lo,
                 (long long)hi);
        *ret =
            ga_reply_problem(r, 400, ga_field_error(key, msg), "%s: %s, not '%.40s'", key, msg, v);
        return -1;
    }
    return 1;
}

/* ---- create, list, get, delete, actions ---------------------------------------- */

enum MHD_Result ga_route_runs_create(struct ga_req *r)
{
    enum MHD_Result ret;
    json_t *probe = ga_body_json(r, 0, &ret);
    if (!probe)
        return ret;
    json_decref(probe);

    struct gc_spec spec;
    char *normalized = NULL;
    struct gc_field_errors fe;
    struct gc_error err = {0};
    const char *base = r->srv->datasets_dir[0] ? r->srv->datasets_dir : NULL;
    if (ga_spec_normalize(r->body, r->len, base, &spec, &normalized, &fe, &err) != 0) {
        if (err.code != GC_EINVAL)
            return ga_reply_error(r, &err);
        return ga_reply_problem(r, 400, ga_field_errors_to_value(&fe), "invalid run spec: %s",
                                err.msg);
    }
    /* a valid spec this daemon cannot train (ranks without --mpirun) */
    if (gd_sched_admit(r->srv->sched, &spec, &fe) != 0) {
        free(normalized);
        gc_field_errors_summary(&fe, &err);
        return ga_reply_problem(r, 400, ga_field_errors_to_value(&fe),
                                "this daemon cannot train the spec: %s", err.msg);
    }
    /* a conditional run needs labelled data: said now, not when the run starts */
    if (spec.model.conditional) {
        struct gc_class_list *cl = malloc(sizeof *cl);
        int rc = cl ? gc_dataset_spec_classes(&spec.dataset, cl, &err)
                    : gc_error_set(&err, GC_ENOMEM, "out of memory");
        free(cl);
        if (rc == GC_ENOMEM || rc == GC_EIO) {
            free(normalized);
            return ga_reply_error(r, &err);
        }
        if (rc) {
            free(normalized);
            const char *field =
                spec.dataset.kind == GC_DATA_IDX ? "dataset.labels_path" : "model.conditional";
            return ga_reply_problem(r, 400, ga_field_error(field, err.msg),
                                    "invalid run spec: %s: %s", field, err.msg);
        }
    }
    /* While the store's writes fail (a full disk), a new run is refused outright:
     * whether its row would fit in pages SQLite still has free is chance, and a run
     * that got in could not store a metric or checkpoint until space returns. */
    char why[320];
    if (gd_store_health(r->srv->store, why, sizeof why) != 0) {
        free(normalized);
        return ga_reply_problem(r, 503, NULL,
                                "new runs are refused while the store cannot write (%s); "
                                "/healthz says when it can again",
                                why);
    }
    int64_t id = 0;
    if (gd_sched_submit(r->srv->sched, &spec, normalized, &id, &err) != 0) {
        free(normalized);
        return ga_reply_error(r, &err);
    }
    free(normalized);
    json_t *o = ga_run_object(r->srv->store, r->srv->sched, id, &err);
    if (!o)
        return ga_reply_error(r, &err);
    struct MHD_Response *resp = ga_json_response(o, "application/json");
    if (!resp)
        return MHD_NO;
    char loc[64];
    snprintf(loc, sizeof loc, "/api/v1/runs/%lld", (long long)id);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, loc);
    return ga_reply(r, 201, resp);
}

enum MHD_Result ga_route_runs_list(struct ga_req *r)
{
    enum MHD_Result ret = MHD_NO;
    int status = -1;
    const char *st = ga_query(r, "status");
    if (st) {
        status = gd_status_from_name(st);
        if (status < 0)
            return ga_reply_problem(
                r, 400,
                ga_field_error(
                    "status",
                    "must be one of queued, running, paused, succeeded, failed, canceled"),
                "status: unknown run status '%.40s'", st);
    }
    int64_t limit = LIST_DEFAULT, cursor = 0;
    if (query_i64(r, "limit", 1, LIST_MAX, &limit, &ret) < 0 ||
        query_i64(r, "cursor", 1, INT64_MAX, &cursor, &ret) < 0)
        return ret;
    struct gd_run *runs = NULL;
    int n = 0;
    int64_t next = 0;
    struct gc_error err = {0};
    if (gd_store_run_list(r->srv->store, status, (int)limit, cursor, &runs, &n, &next, &err) != 0)
        return ga_reply_error(r, &err);
    /* the page's newest values in one read and its watchdog's records in another, not
     * one a run */
    int64_t ids[LIST_MAX];
    for (int i = 0; i < n; i++)
        ids[i] = runs[i].id;
    struct gd_kv *kv = NULL;
    struct gd_watch_record *w = NULL;
    int nkv = 0, nw = 0;
    if (gd_store_metrics_latest_runs(r->srv->store, ids, n, &kv, &nkv, &err) != 0 ||
        gd_store_watch_list_runs(r->srv->store, ids, n, &w, &nw, &err) != 0) {
        for (int i = 0; i < n; i++)
            gd_run_fini(&runs[i]);
        free(runs);
        free(kv);
        return ga_reply_error(r, &err);
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        json_array_append_new(arr, ga_run_object_of(r->srv->sched, &runs[i], kv, nkv, w, nw));
        gd_run_fini(&runs[i]);
    }
    free(kv);
    free(w);
    free(runs);
    char nc[32];
    snprintf(nc, sizeof nc, "%lld", (long long)next);
    return ga_reply_json(r, 200,
                         json_pack("{s:o,s:o}", "runs", arr, "next_cursor",
                                   next > 0 ? json_string(nc) : json_null()));
}

enum MHD_Result ga_route_run_get(struct ga_req *r)
{
    int64_t id = r->id;
    struct gc_error err = {0};
    json_t *o = ga_run_object(r->srv->store, r->srv->sched, id, &err);
    if (!o)
        return ga_reply_error(r, &err);
    return ga_reply_json(r, 200, o);
}

enum MHD_Result ga_route_run_delete(struct ga_req *r)
{
    int64_t id = r->id;
    struct gc_error err = {0};
    if (gd_sched_delete(r->srv->sched, id, &err) != 0) {
        if (err.code == GC_ENOTFOUND)
            gc_error_set(&err, GC_ENOTFOUND, "no run %lld", (long long)id);
        return ga_reply_error(r, &err);
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    return ga_reply(r, 204, resp);
}

static enum MHD_Result run_action(struct ga_req *r, const char *action)
{
    int64_t id = r->id;
    struct gc_error err = {0};
    int rc;
    /* The stored status rules out what the state machine forbids (nothing leaves a
     * finished run; a paused run is not paused again) before the scheduler is asked:
     * its worker may still hold a run for a moment after writing its final status. */
    struct gd_run run;
    memset(&run, 0, sizeof run);
    if (gd_store_run_get(r->srv->store, id, &run, &err) != 0) {
        if (err.code == GC_ENOTFOUND)
            gc_error_set(&err, GC_ENOTFOUND, "no run %lld", (long long)id);
        return ga_reply_error(r, &err);
    }
    enum gd_status st = run.status;
    gd_run_fini(&run);
    int finished = st == GD_SUCCEEDED || st == GD_FAILED || st == GD_CANCELED;
    if (finished || (strcmp(action, "pause") == 0 && st == GD_PAUSED) ||
        (strcmp(action, "resume") == 0 && st != GD_PAUSED)) {
        gc_error_set(&err, GC_ESTATE, "run %lld is %s: it cannot %s", (long long)id,
                     gd_status_name(st), action);
        return ga_reply_error(r, &err);
    }
    if (strcmp(action, "cancel") == 0)
        rc = gd_sched_cancel(r->srv->sched, id, &err);
    else if (strcmp(action, "pause") == 0)
        rc = gd_sched_pause(r->srv->sched, id, &err);
    else
        rc = gd_sched_resume(r->srv->sched, id, &err);
    if (rc != 0) {
        if (err.code == GC_ENOTFOUND)
            gc_error_set(&err, GC_ENOTFOUND, "no run %lld", (long long)id);
        else if (err.code == GC_ESTATE && !err.msg[0])
            gc_error_set(&err, GC_ESTATE, "run %lld cannot %s in its state", (long long)id, action);
        return ga_reply_error(r, &err);
    }
    return ga_route_run_get(r);
}

enum MHD_Result ga_route_run_cancel(struct ga_req *r)
{
    return run_action(r, "cancel");
}

enum MHD_Result ga_route_run_pause(struct ga_req *r)
{
    return run_action(r, "pause");
}

enum MHD_Result ga_route_run_resume(struct ga_req *r)
{
    return run_action(r, "resume");
}

int ga_need_run(struct ga_req *r, int64_t id, struct gd_run *out, enum MHD_Result *ret)
{
    struct gd_run tmp;
    struct gd_run *run = out ? out : &tmp;
    memset(run, 0, sizeof *run);
    struct gc_error err = {0};
    if (gd_store_run_get(r->srv->store, id, run, &err) != 0) {
        if (err.code == GC_ENOTFOUND)
            gc_error_set(&err, GC_ENOTFOUND, "no run %lld", (long long)id);
        *ret = ga_reply_error(r, &err);
        return -1;
    }
    if (!out)
        gd_run_fini(run);
    return 0;
}

/* ---- metrics ------------------------------------------------------------------- */

struct name_list {
    const char *names[MAX_NAMES];
    int n;
    int overflow;
};

static enum MHD_Result collect_names(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    struct name_list *l = cls;
    if (strcmp(key, "name") == 0) {
        if (l->n == MAX_NAMES)
            l->overflow = 1;
        else
            l->names[l->n++] = value ? value : "";
    }
    return MHD_YES;
}

static int metric_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 31)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

enum MHD_Result ga_route_run_metrics(struct ga_req *r)
{
    int64_t id = r->id;
    enum MHD_Result ret = MHD_NO;
    int64_t from = 0, to = -1, maxp = POINTS_DEFAULT;
    if (query_i64(r, "from_step", 0, GC_MAX_STEPS, &from, &ret) < 0 ||
        query_i64(r, "to_step", 0, GC_MAX_STEPS, &to, &ret) < 0 ||
        query_i64(r, "max_points", 1, POINTS_MAX, &maxp, &ret) < 0)
        return ret;
    if (to >= 0 && from > to)
        return ga_reply_problem(r, 400, ga_field_error("from_step", "must not be after to_step"),
                                "from_step %lld is after to_step %lld", (long long)from,
                                (long long)to);
    struct name_list l = {.n = 0};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, collect_names, &l);
    if (l.overflow)
        return ga_reply_problem(r, 400, ga_field_error("name", "too many names"),
                                "name: at most %d names per request", MAX_NAMES);
    for (int i = 0; i < l.n; i++)
        if (!metric_name_ok(l.names[i]))
            return ga_reply_problem(
                r, 400, ga_field_error("name", "must be 1 to 31 characters a-z, 0-9, _"),
                "name: '%.40s' is not a metric name", l.names[i]);
    if (ga_need_run(r, id, NULL, &ret) != 0)
        return ret;

    struct gc_error err = {0};
    char **stored = NULL;
    int nstored = 0;
    if (l.n == 0) {
        if (gd_store_metrics_names(r->srv->store, id, &stored, &nstored, &err) != 0)
            return ga_reply_error(r, &err);
        for (int i = 0; i < nstored && i < MAX_NAMES; i++)
            l.names[l.n++] = stored[i];
    }
    json_t *metrics = json_object();
    int rc = 0;
    for (int i = 0; i < l.n && rc == 0; i++) {
        int64_t *steps = NULL;
        double *values = NULL;
        int n = 0;
        rc = gd_store_metrics_series(r->srv->store, id, l.names[i], from, to, (int)maxp, &steps,
                                     &values, &n, &err);
        if (rc == 0) {
            json_t *pts = json_array();
            for (int k = 0; k < n; k++)
                json_array_append_new(
                    pts, json_pack("[I,o]", (json_int_t)steps[k], ga_json_number(values[k])));
            json_object_set_new(metrics, l.names[i], pts);
        }
        free(steps);
        free(values);
    }
    for (int i = 0; i < nstored; i++)
        free(stored[i]);
    free(stored);
    if (rc != 0) {
        json_decref(metrics);
        return ga_reply_error(r, &err);
    }
    return ga_reply_json(r, 200, json_pack("{s:o}", "metrics", metrics));
}

/* ---- samples and checkpoints --------------------------------------------------- */

enum MHD_Result ga_reply_run_steps(struct ga_req *r, ga_steps_fn get, const char *key,
                                   const char *url_fmt)
{
    int64_t id = r->id;
    enum MHD_Result ret;
    if (ga_need_run(r, id, NULL, &ret) != 0)
        return ret;
    int64_t *steps = NULL;
    int n = 0;
    struct gc_error err = {0};
    if (get(r->srv->store, id, &steps, &n, &err) != 0)
        return ga_reply_error(r, &err);
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        char url[96];
        snprintf(url, sizeof url, url_fmt, (long long)id, (long long)steps[i]);
        json_array_append_new(arr,
                              json_pack("{s:I,s:s}", "step", (json_int_t)steps[i], "url", url));
    }
    free(steps);
    return ga_reply_json(r, 200, json_pack("{s:o}", key, arr));
}

enum MHD_Result ga_route_run_samples(struct ga_req *r)
{
    return ga_reply_run_steps(r, gd_store_sample_steps, "samples",
                              "/api/v1/runs/%lld/samples/%lld.png");
}

/* The store's getter of a sample or a checkpoint (they share a signature). */
typedef int (*stored_get)(struct gd_store *s, int64_t run, int64_t step, uint8_t **data,
                          size_t *len, int64_t *got_step, struct gc_error *err);

/* What get finds of run id at step (the newest when step < 0), a `what` of it; nonzero
 * with *ret the reply already queued when the run or the thing is missing. */
static int need_stored(struct ga_req *r, int64_t id, int64_t step, stored_get get, const char *what,
                       uint8_t **data, size_t *len, int64_t *got, enum MHD_Result *ret)
{
    if (ga_need_run(r, id, NULL, ret) != 0)
        return -1;
    struct gc_error err = {0};
    if (get(r->srv->store, id, step, data, len, got, &err) == 0)
        return 0;
    if (err.code == GC_ENOTFOUND) {
        if (step < 0)
            gc_error_set(&err, GC_ENOTFOUND, "run %lld has no %s yet", (long long)id, what);
        else
            gc_error_set(&err, GC_ENOTFOUND, "run %lld has no %s at step %lld", (long long)id, what,
                         (long long)step);
    }
    *ret = ga_reply_error(r, &err);
    return -1;
}

enum MHD_Result ga_route_run_sample(struct ga_req *r)
{
    int64_t id = r->id, step = r->step;
    enum MHD_Result ret;
    uint8_t *png = NULL;
    size_t len = 0;
    int64_t got = 0;
    if (need_stored(r, id, step, gd_store_sample_get, "sample", &png, &len, &got, &ret) != 0)
        return ret;
    return ga_reply_bytes(r, 200, "image/png", png, len);
}

enum MHD_Result ga_route_run_checkpoints(struct ga_req *r)
{
    int64_t id = r->id;
    enum MHD_Result ret;
    if (ga_need_run(r, id, NULL, &ret) != 0)
        return ret;
    struct gd_ckpt_info *c = NULL;
    int n = 0;
    struct gc_error err = {0};
    if (gd_store_ckpt_list(r->srv->store, id, &c, &n, &err) != 0)
        return ga_reply_error(r, &err);
    json_t *arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("{s:I,s:I,s:s,s:s}", "step", (json_int_t)c[i].step,
                                             "bytes", (json_int_t)c[i].bytes, "sha256", c[i].sha256,
                                             "created_at", c[i].created_at));
    free(c);
    return ga_reply_json(r, 200, json_pack("{s:o}", "checkpoints", arr));
}

enum MHD_Result ga_route_run_checkpoint(struct ga_req *r)
{
    int64_t id = r->id, step = r->step;
    enum MHD_Result ret;
    uint8_t *bytes = NULL;
    size_t len = 0;
    int64_t got = 0;
    if (need_stored(r, id, step, gd_store_ckpt_get, "checkpoint", &bytes, &len, &got, &ret) != 0)
        return ret;
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, bytes, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(bytes);
        return MHD_NO;
    }
    char disp[128];
    snprintf(disp, sizeof disp, "attachment; filename=\"run-%lld-step-%lld.ckpt\"", (long long)id,
             (long long)got);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, disp);
    return ga_reply(r, 200, resp);
}
