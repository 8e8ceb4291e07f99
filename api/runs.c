/* runs.c — the /api/v1/runs endpoints (docs/api.md): create, list, get, delete, the
 * actions, metric series, samples, checkpoints and generate.
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
#include "core/gan.h"

#define LIST_DEFAULT 50
#define LIST_MAX 500
#define POINTS_DEFAULT 1000
#define POINTS_MAX 100000
#define MAX_NAMES 32
#define GENERATE_MAX 1024

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
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        json_t *o = ga_run_object(r->srv->store, r->srv->sched, runs[i].id, NULL);
        if (o) /* a run deleted between the list and here is left out */
            json_array_append_new(arr, o);
        gd_run_fini(&runs[i]);
    }
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

/* Replies 404 when the run does not exist; 0 when it does. */
static int need_run(struct ga_req *r, int64_t id, struct gd_run *out, enum MHD_Result *ret)
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
    if (need_run(r, id, NULL, &ret) != 0)
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

enum MHD_Result ga_route_run_samples(struct ga_req *r)
{
    int64_t id = r->id;
    enum MHD_Result ret;
    if (need_run(r, id, NULL, &ret) != 0)
        return ret;
    int64_t *steps = NULL;
    int n = 0;
    struct gc_error err = {0};
    if (gd_store_sample_steps(r->srv->store, id, &steps, &n, &err) != 0)
        return ga_reply_error(r, &err);
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        char url[96];
        snprintf(url, sizeof url, "/api/v1/runs/%lld/samples/%lld.png", (long long)id,
                 (long long)steps[i]);
        json_array_append_new(arr,
                              json_pack("{s:I,s:s}", "step", (json_int_t)steps[i], "url", url));
    }
    free(steps);
    return ga_reply_json(r, 200, json_pack("{s:o}", "samples", arr));
}

/* The store's getter of a sample or a checkpoint (they share a signature). */
typedef int (*stored_get)(struct gd_store *s, int64_t run, int64_t step, uint8_t **data,
                          size_t *len, int64_t *got_step, struct gc_error *err);

/* What get finds of run id at step (the newest when step < 0), a `what` of it; nonzero
 * with *ret the reply already queued when the run or the thing is missing. */
static int need_stored(struct ga_req *r, int64_t id, int64_t step, stored_get get, const char *what,
                       uint8_t **data, size_t *len, int64_t *got, enum MHD_Result *ret)
{
    if (need_run(r, id, NULL, ret) != 0)
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
    if (need_run(r, id, NULL, &ret) != 0)
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

/* ---- generate ------------------------------------------------------------------ */

static json_t *field_problem(const char *field, const char *message)
{
    return json_pack("{s:s,s:s}", "field", field, "message", message);
}

/* A class given as its index (a JSON integer: its number in the data) or its name. */
static int class_place(const struct gc_class_list *cl, const json_t *v)
{
    if (json_is_integer(v)) {
        json_int_t k = json_integer_value(v);
        return k >= 0 && k < 256 ? gc_class_list_find_label(cl, (int)k) : -1;
    }
    return gc_class_list_find_name(cl, json_string_value(v));
}

/* "run 3 has no class 'Hat'; its classes are 0 (T-shirt/top), 1 (Trouser), ..." */
static void no_such_class(const struct gc_class_list *cl, const json_t *v, char *out, size_t cap)
{
    char what[96];
    if (json_is_integer(v))
        snprintf(what, sizeof what, "%lld", (long long)json_integer_value(v));
    else
        snprintf(what, sizeof what, "'%.80s'", json_string_value(v));
    int len = snprintf(out, cap, "the run has no class %s; its classes are", what);
    for (int i = 0; i < cl->n && len > 0 && (size_t)len < cap; i++) {
        if ((size_t)len > cap - 64) {
            snprintf(out + len, cap - (size_t)len, ", ... (%d in all)", cl->n);
            return;
        }
        char num[16];
        snprintf(num, sizeof num, "%d", cl->c[i].label);
        if (strcmp(num, cl->c[i].name) == 0) /* idx and the mixtures: named by number */
            len += snprintf(out + len, cap - (size_t)len, "%s %s", i ? "," : "", num);
        else
            len += snprintf(out + len, cap - (size_t)len, "%s %s (%s)", i ? "," : "", num,
                            cl->c[i].name);
    }
}

/* The body's class or classes (borrowed from body), type-checked; problems go into
 * errors. *m is the number of classes asked (0: none). */
static void parse_classes(json_t *body, json_t *errors, json_t **cls, int *m)
{
    json_t *one = json_object_get(body, "class"), *many = json_object_get(body, "classes");
    *cls = NULL;
    *m = 0;
    if (one && many) {
        json_array_append_new(errors, field_problem("classes", "give class or classes, not both"));
        return;
    }
    if (one) {
        if (!json_is_integer(one) && !json_is_string(one)) {
            json_array_append_new(errors,
                                  field_problem("class", "must be a class index (an integer) or "
                                                         "a class name (a string)"));
            return;
        }
        *cls = one;
        *m = 1;
        return;
    }
    if (!many)
        return;
    if (!json_is_array(many) || json_array_size(many) < 1 || json_array_size(many) > GENERATE_MAX) {
        json_array_append_new(errors,
                              field_problem("classes", "must be an array of 1 to 1024 class "
                                                       "indices or names"));
        return;
    }
    size_t i;
    json_t *e;
    json_array_foreach(many, i, e)
    {
        if (!json_is_integer(e) && !json_is_string(e)) {
            char f[32];
            snprintf(f, sizeof f, "classes[%zu]", i);
            json_array_append_new(errors,
                                  field_problem(f, "must be a class index (an integer) or a "
                                                   "class name (a string)"));
            return;
        }
    }
    *cls = many;
    *m = (int)json_array_size(many);
}

/* The places (in the trainer's class list) of the asked classes, n samples of each
 * in turn, into *places (malloc'ed, m x n); a 400 when one is not a class of the run. */
static int resolve_classes(struct ga_req *r, const struct gc_class_list *cl, json_t *cls, int m,
                           int n, int **places, enum MHD_Result *ret)
{
    *places = malloc(sizeof(int) * (size_t)m * (size_t)n);
    if (!*places) {
        struct gc_error err;
        gc_error_set(&err, GC_ENOMEM, "cannot hold %d classes", m * n);
        *ret = ga_reply_error(r, &err);
        return -1;
    }
    for (int j = 0; j < m; j++) {
        const json_t *v = json_is_array(cls) ? json_array_get(cls, (size_t)j) : cls;
        int k = class_place(cl, v);
        if (k < 0) {
            char msg[512], f[32];
            no_such_class(cl, v, msg, sizeof msg);
            if (json_is_array(cls))
                snprintf(f, sizeof f, "classes[%d]", j);
            else
                snprintf(f, sizeof f, "class");
            free(*places);
            *places = NULL;
            *ret = ga_reply_problem(r, 400, ga_field_error(f, msg),
                                    "invalid generate request: %s: %s", f, msg);
            return -1;
        }
        for (int i = 0; i < n; i++)
            (*places)[(size_t)j * n + i] = k;
    }
    return 0;
}

/* Draws what a validated request asks (m > 0: n samples of each of the classes in cls,
 * in turn) from the run's newest checkpoint and replies with it. */
static enum MHD_Result generate(struct ga_req *r, int64_t id, int n, uint64_t seed,
                                const char *format, json_t *cls, int m)
{
    enum MHD_Result ret;
    struct gd_run run;
    if (need_run(r, id, &run, &ret) != 0)
        return ret;
    struct gc_spec spec;
    struct gc_error err = {0};
    int rc = ga_spec_parse_stored(run.spec_json, r->srv->datasets_dir, &spec, &err);
    gd_run_fini(&run);
    if (rc != 0) {
        gc_error_set(&err, GC_EIO, "the stored spec of run %lld does not parse", (long long)id);
        return ga_reply_error(r, &err);
    }
    if (m && !spec.model.conditional) {
        const char *f = json_is_array(cls) ? "classes" : "class";
        return ga_reply_problem(r, 400, ga_field_error(f, "the run is not conditional"),
                                "%s: run %lld is not conditional (its spec has "
                                "model.conditional false), so it takes no class",
                                f, (long long)id);
    }
    int is2d = gc_dataset_is_2d(spec.dataset.kind);
    if (!strcmp(format, "json") && !is2d)
        return ga_reply_problem(r, 400, ga_field_error("format", "json is for 2D point sets"),
                                "format: json returns points and needs a 2D set (ring8, grid25), "
                                "not %s",
                                gc_dataset_name(spec.dataset.kind));
    if (!strcmp(format, "idx") && is2d)
        return ga_reply_problem(r, 400, ga_field_error("format", "idx is for image sets"),
                                "format: idx returns images and needs an image set, not %s",
                                gc_dataset_name(spec.dataset.kind));

    uint8_t *ckpt = NULL;
    size_t clen = 0;
    int64_t got = 0;
    if (gd_store_ckpt_get(r->srv->store, id, -1, &ckpt, &clen, &got, &err) != 0) {
        if (err.code == GC_ENOTFOUND)
            gc_error_set(&err, GC_ESTATE, "run %lld has no checkpoint yet to generate from",
                         (long long)id);
        return ga_reply_error(r, &err);
    }
    struct gc_trainer_opts topts = {.threads = 1, .cache_dir = NULL, .load_data = 0};
    struct gc_trainer *t = gc_trainer_create(&spec, &topts, &err);
    if (!t) {
        free(ckpt);
        return ga_reply_error(r, &err);
    }
    rc = gc_trainer_restore(t, ckpt, clen, &err);
    free(ckpt);
    int c = 0, h = 0, w = 0;
    float *out = NULL;
    uint8_t *enc = NULL;
    size_t elen = 0;
    int *places = NULL, total = m ? n * m : n;
    if (rc == 0 && m && resolve_classes(r, gc_trainer_classes(t), cls, m, n, &places, &ret)) {
        gc_trainer_destroy(t);
        return ret;
    }
    if (rc == 0) {
        gc_trainer_sample_shape(t, &c, &h, &w);
        size_t per = (size_t)c * (size_t)h * (size_t)w;
        out = per ? malloc(sizeof(float) * per * (size_t)total) : NULL;
        if (!out)
            rc = gc_error_set(&err, GC_ENOMEM, "cannot hold %d samples", total);
    }
    /* several classes: one row of n per class, the same noise down each column */
    if (rc == 0)
        rc = gc_trainer_generate_classes(t, total, seed, places, m ? n : 0, out, &err);
    if (rc == 0 && !strcmp(format, "png") && m > 1)
        rc = gc_trainer_encode_grid(t, out, total, n, &enc, &elen, &err);
    else if (rc == 0 && !strcmp(format, "png"))
        rc = gc_trainer_encode_png(t, out, total, &enc, &elen, &err);
    else if (rc == 0 && !strcmp(format, "idx"))
        rc = gc_trainer_encode_idx(t, out, total, &enc, &elen, &err);
    free(places);
    gc_trainer_destroy(t);
    if (rc != 0) {
        free(out);
        if (err.code == GC_ECORRUPT)
            gc_error_set(&err, GC_EIO, "the checkpoint of run %lld does not restore: %s",
                         (long long)id, err.msg);
        return ga_reply_error(r, &err);
    }
    if (!strcmp(format, "json")) {
        json_t *pts = json_array();
        for (int i = 0; i < total; i++)
            json_array_append_new(pts, json_pack("[o,o]", ga_json_number(out[2 * i]),
                                                 ga_json_number(out[2 * i + 1])));
        free(out);
        return ga_reply_json(r, 200, json_pack("{s:o}", "points", pts));
    }
    free(out);
    return ga_reply_bytes(r, 200, !strcmp(format, "png") ? "image/png" : "application/octet-stream",
                          enc, elen);
}

enum MHD_Result ga_route_run_generate(struct ga_req *r)
{
    int64_t id = r->id;
    enum MHD_Result ret;
    json_t *body = ga_body_json(r, 1, &ret);
    if (!body)
        return ret;
    json_t *errors = json_array();
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        if (strcmp(key, "n") && strcmp(key, "seed") && strcmp(key, "format") &&
            strcmp(key, "class") && strcmp(key, "classes"))
            json_array_append_new(
                errors, field_problem(key, "unknown field; expected one of: n, seed, format, "
                                           "class, classes"));
    }
    json_int_t n = 64, seed = 1;
    const char *format = "png";
    if ((v = json_object_get(body, "n"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 1 ||
            json_integer_value(v) > GENERATE_MAX)
            json_array_append_new(errors,
                                  field_problem("n", "must be an integer between 1 and 1024"));
        else
            n = json_integer_value(v);
    }
    if ((v = json_object_get(body, "seed"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            (uint64_t)json_integer_value(v) > GC_MAX_SEED)
            json_array_append_new(errors, field_problem("seed", "must be an integer between 0 and "
                                                                "9007199254740992"));
        else
            seed = json_integer_value(v);
    }
    if ((v = json_object_get(body, "format"))) {
        const char *f = json_string_value(v);
        if (!f || (strcmp(f, "png") && strcmp(f, "idx") && strcmp(f, "json")))
            json_array_append_new(errors, field_problem("format", "must be one of png, idx, json"));
        else
            format = !strcmp(f, "png") ? "png" : !strcmp(f, "idx") ? "idx" : "json";
    }
    json_t *cls;
    int m;
    parse_classes(body, errors, &cls, &m);
    if (m > 1 && n * m > GENERATE_MAX) {
        char msg[128];
        snprintf(msg, sizeof msg,
                 "n of each of %d classes makes %lld samples, more than 1024 in all", m,
                 (long long)(n * m));
        json_array_append_new(errors, field_problem("n", msg));
    }
    json_incref(cls); /* outlives body */
    json_decref(body);
    if (json_array_size(errors)) {
        json_t *first = json_array_get(errors, 0);
        char detail[256];
        snprintf(detail, sizeof detail, "%s: %s",
                 json_string_value(json_object_get(first, "field")),
                 json_string_value(json_object_get(first, "message")));
        json_decref(cls);
        return ga_reply_problem(r, 400, errors, "invalid generate request: %s", detail);
    }
    json_decref(errors);
    ret = generate(r, id, (int)n, (uint64_t)seed, format, cls, m);
    json_decref(cls);
    return ret;
}
