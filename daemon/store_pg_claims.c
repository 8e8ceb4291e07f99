/* store_pg_claims.c — who trains which run, in PostgreSQL: claims under leases, the
 * runs a previous life of a daemon left running, the user's verbs as one transaction,
 * the owner's poll of its requests, and the workers table with its heartbeats. Part of
 * the PostgreSQL store (see store_pg.h).
 *
 * A claim is one statement: the oldest claimable run is picked and locked with
 * SELECT ... FOR NO KEY UPDATE SKIP LOCKED (two claimers never wait for, nor get, the
 * same row) and made running with the claimer as its worker, a lease and its claim
 * number raised. Claimable is queued, or running with a lease that ran out: its worker
 * stopped renewing it (it died, or lost the store for longer than the lease). Leases
 * are renewed by the worker's heartbeat, and only for the runs it holds. Changes other
 * daemons must hear of send a NOTIFY on the channel "ganctl": 'q' a run became
 * claimable, 'r' a request for a running run. */
#include <stdlib.h>

#include "daemon/store_pg.h"

int gd_pg_run_claim(struct gd_store *st, const struct gd_worker_self *me, int64_t want, int64_t *id,
                    char *taken_from, size_t cap, struct gc_error *err)
{
    struct gd_pg *s = gd_pg_of(st);
    struct gd_pg_conn *c = gd_pg_acquire(s, 0, err);
    if (!c)
        return GC_EUNAVAIL;
    char b1[24], b2[24];
    const char *vals[3] = {me->name, gd_pg_i64(b1, me->lease_s), gd_pg_i64(b2, want)};
    PGresult *r = gd_pg_exec(
        s, c, GD_PG_RUN_CLAIM,
        "UPDATE runs r SET status = 'running', worker = $1,"
        " lease_until = now() + make_interval(secs => $2), claim = r.claim + 1, error = NULL,"
        " finished_at = NULL, started_at = coalesce(r.started_at, now()),"
        " requested = CASE WHEN r.status = 'running' THEN r.requested END"
        " FROM (SELECT id, status AS was, worker AS old FROM runs"
        " WHERE (status = 'queued' OR (status = 'running' AND coalesce(lease_until < now(), true)))"
        " AND ($3::bigint <= 0 OR id = $3) ORDER BY id LIMIT 1 FOR NO KEY UPDATE SKIP LOCKED) p"
        " WHERE r.id = p.id RETURNING r.id, r.claim, p.old",
        3, vals, NULL, NULL, 0, err, "claim");
    gd_pg_release(c);
    if (!r)
        return gd_pg_fail(err);
    int ret = 0;
    if (PQntuples(r) == 1) {
        *id = gd_pg_get_i64(r, 0, 0);
        gd_claims_set(&s->base, *id, gd_pg_get_i64(r, 0, 1));
        gd_pg_copy_text(taken_from, cap, r, 0, 2);
    } else {
        ret = want > 0
                  ? gc_error_set(err, GC_ENOTFOUND, "run %lld cannot be claimed", (long long)want)
                  : gc_error_set(err, GC_ENOTFOUND, "no claimable run");
    }
    PQclear(r);
    return ret;
}

int gd_pg_run_recover(struct gd_store *st, const struct gd_worker_self *me, int64_t **ids, int *n,
                      struct gc_error *err)
{
    struct gd_pg *s = gd_pg_of(st);
    *ids = NULL;
    *n = 0;
    struct gd_pg_conn *c = gd_pg_acquire(s, 0, err);
    if (!c)
        return GC_EUNAVAIL;
    /* a pause or cancel asked before the crash is what the run does now */
    const char *vals[1] = {me->name};
    PGresult *r = gd_pg_exec(
        s, c, GD_PG_RUN_RECOVER,
        "WITH upd AS (UPDATE runs SET status = CASE requested WHEN 'cancel' THEN 'canceled'"
        " WHEN 'pause' THEN 'paused' ELSE 'queued' END,"
        " finished_at = CASE WHEN requested = 'cancel' THEN now() END,"
        " worker = NULL, lease_until = NULL, requested = NULL"
        " WHERE status = 'running' AND worker = $1 RETURNING id)"
        " SELECT id, pg_notify('ganctl', 'q') FROM upd ORDER BY id",
        1, vals, NULL, NULL, 0, err, "recover");
    gd_pg_release(c);
    if (!r)
        return gd_pg_fail(err);
    return gd_pg_ids(r, ids, n, err);
}

/* The user's verb inside a transaction on c (see store.h). */
static int act(struct gd_pg *s, struct gd_pg_conn *c, int64_t id, enum gd_action a,
               const char *reason, struct gd_act_result *out, struct gc_error *err)
{
    char b[24];
    const char *vals[3] = {gd_pg_i64(b, id), NULL, reason};
    PGresult *r = gd_pg_exec(s, c, GD_PG_RUN_ACT_GET,
                             "SELECT status, requested, worker, step FROM runs WHERE id = $1"
                             " FOR UPDATE",
                             1, vals, NULL, NULL, 0, err, "change run");
    if (!r)
        return gd_pg_fail(err);
    if (PQntuples(r) != 1) {
        PQclear(r);
        return gc_error_set(err, GC_ENOTFOUND, "run %lld not found", (long long)id);
    }
    int stt = gd_status_from_name(PQgetvalue(r, 0, 0));
    out->before = out->after = stt < 0 ? GD_FAILED : (enum gd_status)stt;
    enum gd_request req = gd_request_from_name(PQgetisnull(r, 0, 1) ? NULL : PQgetvalue(r, 0, 1));
    gd_pg_copy_text(out->worker, sizeof out->worker, r, 0, 2);
    out->step = gd_pg_get_i64(r, 0, 3);
    PQclear(r);
    struct gd_act_plan p;
    int ret = gd_store_act_plan(id, a, out->before, req, &p, err);
    if (ret)
        return ret;
    if (p.del) {
        r = gd_pg_exec(s, c, GD_PG_RUN_DELETE, "DELETE FROM runs WHERE id = $1", 1, vals, NULL,
                       NULL, 0, err, "delete run");
    } else if (p.set_status) {
        out->after = p.status;
        vals[1] = gd_status_name(p.status);
        r = gd_pg_exec(s, c, GD_PG_RUN_ACT_STATUS,
                       "UPDATE runs SET status = $2, worker = NULL, lease_until = NULL,"
                       " requested = NULL, error = coalesce($3, error),"
                       " finished_at = CASE WHEN $2 = 'canceled' THEN now() END WHERE id = $1",
                       3, vals, NULL, NULL, 0, err, "change run");
    } else {
        out->requested = 1;
        vals[1] = gd_request_name(p.request);
        r = gd_pg_exec(s, c, GD_PG_RUN_ACT_REQUEST,
                       "UPDATE runs SET requested = $2, error = coalesce($3, error) WHERE id = $1",
                       3, vals, NULL, NULL, 0, err, "change run");
    }
    if (!r)
        return gd_pg_fail(err);
    PQclear(r);
    /* news for the other daemons: a run to claim, or a request for its owner */
    if (out->requested)
        return gd_pg_command(s, c, "NOTIFY ganctl, 'r'", err, "change run");
    if (p.set_status && p.status == GD_QUEUED)
        return gd_pg_command(s, c, "NOTIFY ganctl, 'q'", err, "change run");
    return 0;
}

int gd_pg_run_act(struct gd_store *st, int64_t id, enum gd_action a, const char *reason,
                  struct gd_act_result *out, struct gc_error *err)
{
    struct gd_pg *s = gd_pg_of(st);
    int ret;
    struct gd_pg_conn *c = gd_pg_begin(s, 0, NULL, &ret, err, "change run");
    if (!c)
        return ret;
    return gd_pg_end(s, c, act(s, c, id, a, reason, out, err), err, "change run");
}

int gd_pg_run_requested(struct gd_store *st, int64_t id, enum gd_request *req, struct gc_error *err)
{
    struct gd_pg *s = gd_pg_of(st);
    char b[24];
    const char *vals[1] = {gd_pg_i64(b, id)};
    PGresult *r =
        gd_pg_query(s, 0, GD_PG_RUN_REQUESTED, "SELECT requested, claim FROM runs WHERE id = $1", 1,
                    vals, NULL, NULL, 0, err, "read request");
    if (!r)
        return gd_pg_fail(err);
    int ret = 0;
    if (PQntuples(r) != 1) {
        ret = gc_error_set(err, GC_ENOTFOUND, "run %lld not found", (long long)id);
    } else {
        *req = gd_request_from_name(PQgetisnull(r, 0, 0) ? NULL : PQgetvalue(r, 0, 0));
        int64_t mine = gd_claims_get(&s->base, id);
        if (mine && gd_pg_get_i64(r, 0, 1) != mine) {
            ret = gc_error_set(err, GC_ESTALE, "run %lld was taken over by another worker",
                               (long long)id);
        }
    }
    PQclear(r);
    return ret;
}

/* ---- workers ---- */

/* The runs this store holds claims on, as an int8[] literal ("{1,2}"). */
static void held_runs(struct gd_pg *s, char *out, size_t cap)
{
    struct gd_claims *cl = &s->base.claims;
    size_t o = (size_t)snprintf(out, cap, "{");
    pthread_mutex_lock(&cl->mu);
    for (int i = 0; i < cl->n && o + 24 < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s%lld", i ? "," : "", (long long)cl->run[i]);
    pthread_mutex_unlock(&cl->mu);
    snprintf(out + o, cap - o, "}");
}

int gd_pg_worker_beat(struct gd_store *st, const struct gd_worker_self *me, struct gc_error *err)
{
    struct gd_pg *s = gd_pg_of(st);
    struct gd_pg_conn *c = gd_pg_acquire(s, 0, err);
    if (!c)
        return GC_EUNAVAIL;
    char b1[24], b2[24], b3[24], held[GD_CLAIMS_MAX * 24 + 8];
    held_runs(s, held, sizeof held);
    const char *vals[5] = {me->name, gd_pg_i64(b1, me->workers), gd_pg_i64(b2, me->threads),
                           gd_pg_i64(b3, me->lease_s), held};
    /* the leases of the runs it holds, and no other: a run whose claim it lost, or
     * never learnt it won, runs out and goes to whoever claims it */
    PGresult *r = gd_pg_exec(
        s, c, GD_PG_WORKER_BEAT,
        "WITH w AS (INSERT INTO workers (name, heartbeat_at, started_at, workers, threads,"
        " lease_s) VALUES ($1, now(), now(), $2, $3, $4) ON CONFLICT (name) DO UPDATE SET"
        " heartbeat_at = now(), workers = excluded.workers, threads = excluded.threads,"
        " lease_s = excluded.lease_s),"
        " l AS (UPDATE runs SET lease_until = now() + make_interval(secs => $4)"
        " WHERE worker = $1 AND status = 'running' AND id = ANY ($5::bigint[])),"
        " p AS (DELETE FROM workers WHERE name <> $1"
        " AND heartbeat_at < now() - make_interval(secs => 10 * lease_s))"
        " SELECT 1",
        5, vals, NULL, NULL, 0, err, "heartbeat");
    gd_pg_release(c);
    if (!r)
        return gd_pg_fail(err);
    PQclear(r);
    return 0;
}

int gd_pg_worker_leave(struct gd_store *st, const struct gd_worker_self *me, struct gc_error *err)
{
    struct gd_pg *s = gd_pg_of(st);
    const char *vals[1] = {me->name};
    PGresult *r = gd_pg_query(s, 0, GD_PG_WORKER_LEAVE, "DELETE FROM workers WHERE name = $1", 1,
                              vals, NULL, NULL, 0, err, "leave");
    if (!r)
        return gd_pg_fail(err);
    PQclear(r);
    return 0;
}

/* The ids of an int8[] in text ("{3,7}") into w->running. */
static void parse_ids(const char *text, struct gd_worker_info *w)
{
    const char *p = text;
    while (*p && w->nrunning < GD_WORKER_RUNS) {
        while (*p == '{' || *p == ',' || *p == '}')
            p++;
        if (!*p)
            break;
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p)
            break;
        w->running[w->nrunning++] = v;
        p = end;
    }
}

static void fill_worker(const PGresult *r, int i, void *elem)
{
    struct gd_worker_info *w = elem;
    gd_pg_copy_text(w->name, sizeof w->name, r, i, 0);
    gd_pg_copy_text(w->heartbeat_at, sizeof w->heartbeat_at, r, i, 1);
    gd_pg_copy_text(w->started_at, sizeof w->started_at, r, i, 2);
    w->workers = (int)gd_pg_get_i64(r, i, 3);
    w->threads = (int)gd_pg_get_i64(r, i, 4);
    w->lease_s = (int)gd_pg_get_i64(r, i, 5);
    w->alive = PQgetvalue(r, i, 6)[0] == 't';
    parse_ids(PQgetvalue(r, i, 7), w);
}

int gd_pg_worker_list(struct gd_store *st, struct gd_worker_info **out, int *n,
                      struct gc_error *err)
{
    struct gd_pg *s = gd_pg_of(st);
    struct gd_pg_conn *c = gd_pg_acquire(s, 0, err);
    if (!c)
        return GC_EUNAVAIL;
    PGresult *r = gd_pg_exec(
        s, c, GD_PG_WORKER_LIST,
        "SELECT w.name, " GD_PG_TIME("w.heartbeat_at") ", " GD_PG_TIME(
            "w.started_at") ", w.workers, w.threads, w.lease_s,"
                            " w.heartbeat_at + make_interval(secs => w.lease_s) > now(),"
                            " coalesce((SELECT array_agg(id ORDER BY id) FROM runs WHERE worker = "
                            "w.name"
                            " AND status = 'running'), '{}') FROM workers w ORDER BY w.name",
        0, NULL, NULL, NULL, 0, err, "list workers");
    gd_pg_release(c);
    if (!r)
        return gd_pg_fail(err);
    return gd_pg_rows(r, sizeof(**out), fill_worker, (void **)out, n, err);
}
