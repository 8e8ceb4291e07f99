/* store.c — the parts of store.h that are the same whatever keeps the rows: the choice
 * between the backends, the dispatch of every call to the store's table of functions
 * (store_backend.h), the claims a store holds, the names of statuses and requests,
 * and hiding a URI's password. These need no database. */
#include "daemon/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon/sha256.h"
#include "daemon/store_backend.h"

static const char *const status_names[GD_NSTATUS] = {
    "queued", "running", "paused", "succeeded", "failed", "canceled",
};

const char *gd_status_name(enum gd_status s)
{
    return (unsigned)s < GD_NSTATUS ? status_names[s] : "unknown";
}

int gd_status_from_name(const char *s)
{
    for (int i = 0; s && i < GD_NSTATUS; i++)
        if (strcmp(s, status_names[i]) == 0)
            return i;
    return -1;
}

const char *gd_request_name(enum gd_request r)
{
    return r == GD_REQ_PAUSE ? "pause" : r == GD_REQ_CANCEL ? "cancel" : NULL;
}

enum gd_request gd_request_from_name(const char *s)
{
    if (s && !strcmp(s, "pause"))
        return GD_REQ_PAUSE;
    if (s && !strcmp(s, "cancel"))
        return GD_REQ_CANCEL;
    return GD_REQ_NONE;
}

enum gd_status gd_store_final_status(enum gd_status st, enum gd_request req)
{
    if (req == GD_REQ_CANCEL && (st == GD_PAUSED || st == GD_QUEUED))
        return GD_CANCELED;
    if (req == GD_REQ_PAUSE && st == GD_QUEUED)
        return GD_PAUSED;
    return st;
}

int gd_store_act_plan(int64_t id, enum gd_action act, enum gd_status st, enum gd_request req,
                      struct gd_act_plan *p, struct gc_error *err)
{
    memset(p, 0, sizeof *p);
    switch (act) {
    case GD_ACT_CANCEL:
    case GD_ACT_PAUSE: {
        int cancel = act == GD_ACT_CANCEL;
        if (st == GD_RUNNING) {
            p->set_request = 1;
            /* a cancel asked already is not turned into a pause */
            p->request = cancel || req == GD_REQ_CANCEL ? GD_REQ_CANCEL : GD_REQ_PAUSE;
            return 0;
        }
        if (st == GD_QUEUED || (cancel && st == GD_PAUSED)) {
            p->set_status = 1;
            p->status = cancel ? GD_CANCELED : GD_PAUSED;
            return 0;
        }
        return gc_error_set(err, GC_ESTATE, "run %lld is %s: it cannot be %s", (long long)id,
                            gd_status_name(st), cancel ? "canceled" : "paused");
    }
    case GD_ACT_RESUME:
        if (st == GD_PAUSED) {
            p->set_status = 1;
            p->status = GD_QUEUED;
            return 0;
        }
        return gc_error_set(err, GC_ESTATE, "run %lld is %s: only a paused run can be resumed",
                            (long long)id, gd_status_name(st));
    case GD_ACT_DELETE:
        if (st == GD_QUEUED || st == GD_RUNNING)
            return gc_error_set(err, GC_ESTATE,
                                "run %lld is %s: cancel or pause it before deleting it",
                                (long long)id, gd_status_name(st));
        p->del = 1;
        return 0;
    }
    return gc_error_set(err, GC_EINVAL, "unknown action");
}

int64_t gd_series_target(int64_t lo, int64_t hi, int i, int m)
{
    /* (hi - lo) * i overflows only past 2^63 / 100,000 steps; the steps are < 2^24 */
    return lo + (int64_t)(((__int128)(hi - lo) * i) / (m - 1));
}

void gd_run_fini(struct gd_run *r)
{
    if (!r)
        return;
    free(r->spec_json);
    free(r->error);
    free(r->classes);
    r->spec_json = NULL;
    r->error = NULL;
    r->classes = NULL;
}

/* ---- the URI, without its password ---- */

int gd_store_is_pg_uri(const char *where)
{
    return where &&
           (!strncasecmp(where, "postgresql://", 13) || !strncasecmp(where, "postgres://", 11));
}

void gd_store_redact(const char *uri, char *out, size_t cap)
{
    if (!cap)
        return;
    size_t o = 0;
#define PUT(c)                                                                                     \
    do {                                                                                           \
        if (o + 1 < cap)                                                                           \
            out[o++] = (c);                                                                        \
    } while (0)
    const char *p = uri;
    const char *scheme = strstr(uri, "://");
    if (scheme) {
        for (; p < scheme + 3; p++)
            PUT(*p);
        /* user info: up to the last '@' before the first '/', '?' or '#' */
        const char *end = p + strcspn(p, "/?#");
        const char *at = NULL;
        for (const char *q = p; q < end; q++)
            if (*q == '@')
                at = q;
        if (at) {
            const char *colon = memchr(p, ':', (size_t)(at - p));
            const char *stop = colon ? colon : at;
            for (; p < stop; p++)
                PUT(*p);
            if (colon) {
                PUT(':');
                PUT('*');
                PUT('*');
                PUT('*');
            }
            p = at;
        }
    }
    /* parameters: password=VALUE (in the query string or a key=value list) */
    while (*p) {
        if (!strncasecmp(p, "password=", 9) &&
            (p == uri || p[-1] == '?' || p[-1] == '&' || p[-1] == ' ')) {
            for (int k = 0; k < 9; k++)
                PUT(p[k]);
            PUT('*');
            PUT('*');
            PUT('*');
            p += 9;
            p += strcspn(p, "& ");
            continue;
        }
        PUT(*p);
        p++;
    }
#undef PUT
    out[o] = '\0';
}

/* ---- the common part of a store ---- */

void gd_store_base_init(struct gd_store *s, const struct gd_store_ops *ops, const char *where)
{
    s->ops = ops;
    gd_store_redact(where, s->where, sizeof s->where);
    pthread_mutex_init(&s->claims.mu, NULL);
    s->claims.n = 0;
}

void gd_store_base_fini(struct gd_store *s)
{
    pthread_mutex_destroy(&s->claims.mu);
}

int64_t gd_claims_get(struct gd_store *s, int64_t run)
{
    int64_t c = 0;
    pthread_mutex_lock(&s->claims.mu);
    for (int i = 0; i < s->claims.n; i++)
        if (s->claims.run[i] == run)
            c = s->claims.claim[i];
    pthread_mutex_unlock(&s->claims.mu);
    return c;
}

void gd_claims_set(struct gd_store *s, int64_t run, int64_t claim)
{
    struct gd_claims *c = &s->claims;
    pthread_mutex_lock(&c->mu);
    int i = 0;
    while (i < c->n && c->run[i] != run)
        i++;
    if (i == c->n && c->n < GD_CLAIMS_MAX)
        c->n++;
    if (i < c->n) { /* a full table cannot happen: runs at once are at most 64 */
        c->run[i] = run;
        c->claim[i] = claim;
    }
    pthread_mutex_unlock(&c->mu);
}

void gd_claims_drop(struct gd_store *s, int64_t run)
{
    struct gd_claims *c = &s->claims;
    pthread_mutex_lock(&c->mu);
    for (int i = 0; i < c->n; i++) {
        if (c->run[i] == run) {
            c->run[i] = c->run[c->n - 1];
            c->claim[i] = c->claim[c->n - 1];
            c->n--;
            break;
        }
    }
    pthread_mutex_unlock(&c->mu);
}

/* ---- opening and the dispatch ---- */

struct gd_store *gd_store_open(const char *where, struct gc_error *err)
{
    if (!where || !*where) {
        gc_error_set(err, GC_EINVAL, "store: no path or URI");
        return NULL;
    }
    return gd_store_is_pg_uri(where) ? gd_store_pg_open(where, err)
                                     : gd_store_sqlite_open(where, err);
}

void gd_store_close(struct gd_store *s)
{
    if (s)
        s->ops->close(s);
}

const char *gd_store_kind(const struct gd_store *s)
{
    return s->ops->kind;
}

const char *gd_store_where(const struct gd_store *s)
{
    return s->where;
}

int gd_store_version(struct gd_store *s)
{
    return s->ops->version(s);
}

int gd_store_run_insert(struct gd_store *s, const char *name, const char *spec_json, int64_t steps,
                        int64_t *id, struct gc_error *err)
{
    return s->ops->run_insert(s, NULL, name, spec_json, steps, id, err);
}

int gd_store_run_insert_claimed(struct gd_store *s, const struct gd_worker_self *me,
                                const char *name, const char *spec_json, int64_t steps, int64_t *id,
                                struct gc_error *err)
{
    return s->ops->run_insert(s, me, name, spec_json, steps, id, err);
}

int gd_store_run_get(struct gd_store *s, int64_t id, struct gd_run *out, struct gc_error *err)
{
    return s->ops->run_get(s, id, out, err);
}

int gd_store_run_list(struct gd_store *s, int status, int limit, int64_t cursor,
                      struct gd_run **out, int *n, int64_t *next, struct gc_error *err)
{
    return s->ops->run_list(s, status, limit, cursor, out, n, next, err);
}

int gd_store_run_set_status(struct gd_store *s, int64_t id, enum gd_status st, const char *error,
                            struct gc_error *err)
{
    return s->ops->run_set_status(s, id, st, error, err);
}

int gd_store_run_set_step(struct gd_store *s, int64_t id, int64_t step, struct gc_error *err)
{
    return s->ops->run_set_step(s, id, step, err);
}

int gd_store_run_set_classes(struct gd_store *s, int64_t id, const char *classes,
                             struct gc_error *err)
{
    return s->ops->run_set_classes(s, id, classes, err);
}

int gd_store_run_set_provenance(struct gd_store *s, int64_t id, const struct gd_provenance *p,
                                struct gc_error *err)
{
    return s->ops->run_set_provenance(s, id, p, err);
}

int gd_store_run_rewind(struct gd_store *s, int64_t id, int64_t step, struct gc_error *err)
{
    return s->ops->run_rewind(s, id, step, err);
}

int gd_store_run_delete(struct gd_store *s, int64_t id, struct gc_error *err)
{
    return s->ops->run_delete(s, id, err);
}

int gd_store_run_ids(struct gd_store *s, enum gd_status st, int64_t **ids, int *n,
                     struct gc_error *err)
{
    return s->ops->run_ids(s, st, ids, n, err);
}

int gd_store_run_count(struct gd_store *s, enum gd_status st, int64_t *n, struct gc_error *err)
{
    return s->ops->run_count(s, st, n, err);
}

int gd_store_run_claim(struct gd_store *s, const struct gd_worker_self *me, int64_t want,
                       int64_t *id, char *taken_from, size_t cap, struct gc_error *err)
{
    char dummy[GD_NAME_MAX];
    if (!taken_from) {
        taken_from = dummy;
        cap = sizeof dummy;
    }
    taken_from[0] = '\0';
    return s->ops->run_claim(s, me, want, id, taken_from, cap, err);
}

int gd_store_run_recover(struct gd_store *s, const struct gd_worker_self *me, int64_t **ids, int *n,
                         struct gc_error *err)
{
    return s->ops->run_recover(s, me, ids, n, err);
}

int gd_store_run_act(struct gd_store *s, int64_t id, enum gd_action act, struct gd_act_result *out,
                     struct gc_error *err)
{
    struct gd_act_result dummy;
    memset(out ? out : &dummy, 0, sizeof dummy);
    return s->ops->run_act(s, id, act, NULL, out ? out : &dummy, err);
}

int gd_store_run_stop(struct gd_store *s, int64_t id, const char *reason, struct gd_act_result *out,
                      struct gc_error *err)
{
    struct gd_act_result dummy;
    memset(out ? out : &dummy, 0, sizeof dummy);
    return s->ops->run_act(s, id, GD_ACT_CANCEL, reason, out ? out : &dummy, err);
}

int gd_store_run_requested(struct gd_store *s, int64_t id, enum gd_request *req,
                           struct gc_error *err)
{
    *req = GD_REQ_NONE;
    return s->ops->run_requested(s, id, req, err);
}

void gd_store_run_forget(struct gd_store *s, int64_t id)
{
    gd_claims_drop(s, id);
}

int64_t gd_store_claim_of(struct gd_store *s, int64_t id)
{
    return gd_claims_get(s, id);
}

void gd_store_claim_adopt(struct gd_store *s, int64_t id, int64_t claim)
{
    if (claim > 0)
        gd_claims_set(s, id, claim);
}

int gd_store_worker_beat(struct gd_store *s, const struct gd_worker_self *me, struct gc_error *err)
{
    return s->ops->worker_beat(s, me, err);
}

int gd_store_worker_leave(struct gd_store *s, const struct gd_worker_self *me, struct gc_error *err)
{
    return s->ops->worker_leave(s, me, err);
}

int gd_store_worker_list(struct gd_store *s, struct gd_worker_info **out, int *n,
                         struct gc_error *err)
{
    *out = NULL;
    *n = 0;
    return s->ops->worker_list(s, out, n, err);
}

int gd_store_metrics_put(struct gd_store *s, int64_t run, int kind, int64_t step,
                         const char *const *names, const double *values, int n,
                         struct gc_error *err)
{
    return s->ops->metrics_put(s, run, kind, step, names, values, n, err);
}

int gd_store_metrics_latest(struct gd_store *s, int64_t run, int kind, struct gd_kv **out, int *n,
                            struct gc_error *err)
{
    *out = NULL;
    *n = 0;
    return s->ops->metrics_latest(s, run, kind, out, n, err);
}

int gd_store_metrics_latest_runs(struct gd_store *s, const int64_t *runs, int nruns,
                                 struct gd_kv **out, int *n, struct gc_error *err)
{
    *out = NULL;
    *n = 0;
    if (nruns <= 0)
        return 0;
    return s->ops->metrics_latest_runs(s, runs, nruns, out, n, err);
}

int gd_store_metrics_at(struct gd_store *s, int64_t run, int kind, int64_t step, struct gd_kv **out,
                        int *n, struct gc_error *err)
{
    *out = NULL;
    *n = 0;
    return s->ops->metrics_at(s, run, kind, step, out, n, err);
}

int gd_store_metrics_series(struct gd_store *s, int64_t run, const char *name, int64_t from,
                            int64_t to, int max_points, int64_t **steps, double **values, int *n,
                            struct gc_error *err)
{
    *steps = NULL;
    *values = NULL;
    *n = 0;
    return s->ops->metrics_series(s, run, name, from, to, max_points, steps, values, n, err);
}

int gd_store_metrics_names(struct gd_store *s, int64_t run, char ***names, int *n,
                           struct gc_error *err)
{
    *names = NULL;
    *n = 0;
    return s->ops->metrics_names(s, run, names, n, err);
}

int gd_store_sample_put(struct gd_store *s, int64_t run, int64_t step, const uint8_t *png,
                        size_t len, struct gc_error *err)
{
    return s->ops->sample_put(s, run, step, png, len, err);
}

int gd_store_sample_steps(struct gd_store *s, int64_t run, int64_t **steps, int *n,
                          struct gc_error *err)
{
    *steps = NULL;
    *n = 0;
    return s->ops->sample_steps(s, run, steps, n, err);
}

int gd_store_sample_get(struct gd_store *s, int64_t run, int64_t step, uint8_t **png, size_t *len,
                        int64_t *got_step, struct gc_error *err)
{
    *png = NULL;
    *len = 0;
    return s->ops->sample_get(s, run, step, png, len, got_step, err);
}

int gd_store_plane_put(struct gd_store *s, int64_t run, int64_t step, const uint8_t *bytes,
                       size_t len, struct gc_error *err)
{
    return s->ops->plane_put(s, run, step, bytes, len, err);
}

int gd_store_plane_steps(struct gd_store *s, int64_t run, int64_t **steps, int *n,
                         struct gc_error *err)
{
    *steps = NULL;
    *n = 0;
    return s->ops->plane_steps(s, run, steps, n, err);
}

int gd_store_plane_get(struct gd_store *s, int64_t run, int64_t step, uint8_t **bytes, size_t *len,
                       int64_t *got_step, struct gc_error *err)
{
    *bytes = NULL;
    *len = 0;
    return s->ops->plane_get(s, run, step, bytes, len, got_step, err);
}

int gd_store_ckpt_put(struct gd_store *s, int64_t run, int64_t step, const uint8_t *bytes,
                      size_t len, int keep, struct gc_error *err)
{
    char hex[65];
    /* hashed before any lock is taken: it is the slow part for big models */
    gd_sha256_hex(bytes, len, hex);
    return s->ops->ckpt_put(s, run, step, bytes, len, keep, hex, err);
}

int gd_store_ckpt_list(struct gd_store *s, int64_t run, struct gd_ckpt_info **out, int *n,
                       struct gc_error *err)
{
    *out = NULL;
    *n = 0;
    return s->ops->ckpt_list(s, run, out, n, err);
}

int gd_store_ckpt_get(struct gd_store *s, int64_t run, int64_t step, uint8_t **bytes, size_t *len,
                      int64_t *got_step, struct gc_error *err)
{
    *bytes = NULL;
    *len = 0;
    return s->ops->ckpt_get(s, run, step, bytes, len, got_step, err);
}

int gd_store_event_put(struct gd_store *s, int64_t run, const char *type, int64_t step, int64_t *id,
                       struct gc_error *err)
{
    return s->ops->event_put(s, run, type, step, id, err);
}

int gd_store_event_list(struct gd_store *s, int64_t run, int64_t after, int limit,
                        struct gd_event **out, int *n, struct gc_error *err)
{
    *out = NULL;
    *n = 0;
    return s->ops->event_list(s, run, after, limit, out, n, err);
}

int gd_store_event_last(struct gd_store *s, int64_t *id, struct gc_error *err)
{
    *id = 0;
    return s->ops->event_last(s, id, err);
}

int gd_store_news_wait(struct gd_store *s, int timeout_ms, struct gd_store_news *out,
                       struct gc_error *err)
{
    memset(out, 0, sizeof *out);
    return s->ops->news_wait(s, timeout_ms, out, err);
}

void gd_sweep_fini(struct gd_sweep *w)
{
    if (!w)
        return;
    free(w->body);
    w->body = NULL;
}

int gd_store_sweep_insert(struct gd_store *s, const struct gd_sweep *w,
                          const struct gd_sweep_run *runs, int n, int64_t *id, int64_t *run_ids,
                          struct gc_error *err)
{
    return s->ops->sweep_insert(s, w, runs, n, id, run_ids, err);
}

int gd_store_sweep_get(struct gd_store *s, int64_t id, struct gd_sweep *out, struct gc_error *err)
{
    memset(out, 0, sizeof *out);
    return s->ops->sweep_get(s, id, out, err);
}

int gd_store_sweep_list(struct gd_store *s, struct gd_sweep **out, int *n, struct gc_error *err)
{
    *out = NULL;
    *n = 0;
    return s->ops->sweep_list(s, out, n, err);
}

int gd_store_sweep_runs(struct gd_store *s, int64_t sweep, struct gd_sweep_member **out, int *n,
                        struct gc_error *err)
{
    *out = NULL;
    *n = 0;
    return s->ops->sweep_runs(s, sweep, out, n, err);
}

int gd_store_watch_put(struct gd_store *s, const struct gd_watch_record *r, int64_t *id,
                       struct gc_error *err)
{
    return s->ops->watch_put(s, r, id, err);
}

int gd_store_watch_list(struct gd_store *s, int64_t run, struct gd_watch_record **out, int *n,
                        struct gc_error *err)
{
    return gd_store_watch_list_runs(s, &run, 1, out, n, err);
}

int gd_store_watch_list_runs(struct gd_store *s, const int64_t *runs, int nruns,
                             struct gd_watch_record **out, int *n, struct gc_error *err)
{
    *out = NULL;
    *n = 0;
    if (nruns <= 0)
        return 0;
    return s->ops->watch_list(s, runs, nruns, out, n, err);
}

int gd_store_stats(struct gd_store *s, struct gd_store_stats *out, struct gc_error *err)
{
    memset(out, 0, sizeof *out);
    return s->ops->stats(s, out, err);
}

int gd_store_health(struct gd_store *s, char *msg, size_t cap)
{
    if (msg && cap)
        msg[0] = '\0';
    return s->ops->health(s, msg, cap);
}
