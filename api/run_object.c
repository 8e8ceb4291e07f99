/* run_object.c — the run object, rebuilt from the store (see run_object.h). */
#include "api/run_object.h"

#include <stdlib.h>
#include <string.h>

#include "api/reply.h"
#include "core/data.h"

static json_t *time_or_null(const char *t)
{
    return t[0] ? json_string(t) : json_null();
}

/* A conditional run's classes, [{"index": 7, "name": "Sneaker"}, ...], from the text
 * its job stored; null before it started or when unconditional. */
static json_t *classes_value(const char *text)
{
    struct gc_class_list *cl = text ? malloc(sizeof *cl) : NULL;
    if (!cl || gc_class_list_from_text(text, cl, NULL) != 0) {
        free(cl);
        return json_null();
    }
    json_t *a = json_array();
    for (int i = 0; a && i < cl->n; i++)
        json_array_append_new(
            a, json_pack("{s:i,s:s}", "index", cl->c[i].label, "name", cl->c[i].name));
    free(cl);
    return a ? a : json_null();
}

static json_t *provenance(const struct gd_run *run)
{
    if (!run->has_provenance)
        return json_null();
    const struct gd_provenance *p = &run->prov;
    return json_pack("{s:s,s:s,s:s,s:s,s:i,s:s?}", "version", p->version, "commit", p->commit,
                     "compiler", p->compiler, "blas", p->blas, "threads", p->threads, "spec_hash",
                     p->spec_hash[0] ? p->spec_hash : NULL);
}

json_t *ga_watch_record(const struct gd_watch_record *r)
{
    json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:s}", "step", (json_int_t)r->step, "kind", r->kind,
                          "action", r->action, "message", r->message, "created_at", r->created_at);
    if (o && r->to_step >= 0)
        json_object_set_new(o, "to_step", json_integer(r->to_step));
    if (o && r->lr_scale > 0)
        json_object_set_new(o, "lr_scale", json_real(r->lr_scale));
    return o;
}

json_t *ga_run_object_of(struct gd_sched *sched, const struct gd_run *run, const struct gd_kv *kv,
                         int nkv, const struct gd_watch_record *watch, int nwatch)
{
    json_t *latest = json_object(), *eval = json_object();
    int64_t step = run->step, logged = 0;
    for (int i = 0; i < nkv; i++) {
        if (kv[i].run != run->id)
            continue;
        json_object_set_new(kv[i].kind ? eval : latest, kv[i].name, ga_json_number(kv[i].value));
        if (!kv[i].kind && kv[i].step > logged)
            logged = kv[i].step;
    }
    /* live while running: this daemon's own count when it trains the run, else the
     * newest step its worker (another daemon) logged */
    struct gd_live live;
    if (run->status == GD_RUNNING) {
        if (sched && gd_sched_live(sched, run->id, &live) == 0)
            logged = live.step;
        if (logged > step)
            step = logged;
    }
    json_t *spec = run->spec_json ? json_loads(run->spec_json, 0, NULL) : NULL;
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(run->id));
    json_object_set_new(o, "name", json_string(run->name));
    json_object_set_new(o, "status", json_string(gd_status_name(run->status)));
    json_object_set_new(o, "spec", spec ? spec : json_null());
    json_object_set_new(o, "step", json_integer(step));
    json_object_set_new(o, "steps", json_integer(run->steps));
    json_object_set_new(o, "created_at", time_or_null(run->created_at));
    json_object_set_new(o, "started_at", time_or_null(run->started_at));
    json_object_set_new(o, "finished_at", time_or_null(run->finished_at));
    /* a running run whose writes wait for the store (a full disk) shows why */
    char waiting[256];
    json_t *error = run->error ? json_string(run->error) : NULL;
    if (!error && sched && run->status == GD_RUNNING &&
        gd_sched_live_error(sched, run->id, waiting, sizeof waiting) == 0)
        error = json_string(waiting);
    json_object_set_new(o, "error", error ? error : json_null());
    json_object_set_new(o, "worker", run->worker[0] ? json_string(run->worker) : json_null());
    json_object_set_new(o, "latest", latest);
    json_object_set_new(o, "eval", eval);
    json_object_set_new(o, "classes", classes_value(run->classes));
    json_object_set_new(o, "sweep", run->sweep > 0 ? json_integer(run->sweep) : json_null());
    json_object_set_new(o, "provenance", provenance(run));
    /* what the watchdog detected on the run and did about it, oldest first */
    json_t *w = json_array();
    for (int i = 0; i < nwatch; i++)
        if (watch[i].run == run->id)
            json_array_append_new(w, ga_watch_record(&watch[i]));
    json_object_set_new(o, "watch", w);
    return o;
}

json_t *ga_run_object(struct gd_store *store, struct gd_sched *sched, int64_t id,
                      struct gc_error *err)
{
    struct gd_run run;
    memset(&run, 0, sizeof run);
    if (gd_store_run_get(store, id, &run, err) != 0) {
        if (err && err->code == GC_ENOTFOUND)
            gc_error_set(err, GC_ENOTFOUND, "no run %lld", (long long)id);
        return NULL;
    }
    struct gd_kv *kv = NULL;
    struct gd_watch_record *w = NULL;
    int n = 0, nw = 0;
    /* the run's newest values (both kinds) in one read, its watchdog's records in
     * another; a failure leaves them empty */
    gd_store_metrics_latest_runs(store, &id, 1, &kv, &n, NULL);
    gd_store_watch_list(store, id, &w, &nw, NULL);
    json_t *o = ga_run_object_of(sched, &run, kv, n, w, nw);
    free(kv);
    free(w);
    gd_run_fini(&run);
    return o;
}

char *ga_run_json(struct gd_store *store, struct gd_sched *sched, int64_t id, struct gc_error *err)
{
    json_t *o = ga_run_object(store, sched, id, err);
    if (!o)
        return NULL;
    char *s = json_dumps(o, GA_DUMP_FLAGS);
    json_decref(o);
    if (!s)
        gc_error_set(err, GC_ENOMEM, "out of memory");
    return s;
}
