/* job_store.c — how a training run's reports reach the store, whatever the store does
 * meanwhile, and how the run hears what the user asked of it through any daemon.
 *
 * Three ways a write can fail, three answers:
 *   - the disk is full or failing (GC_EIO, and gd_store_health says so): the run keeps
 *     its place and tries the write again every second (retry_write); training waits,
 *     the error shows on the run, nothing is lost;
 *   - the store's server cannot be reached (GC_EUNAVAIL): the report is kept in memory,
 *     in order, and training goes on; at most PENDING_BYTES or PENDING_REPORTS are kept,
 *     then training waits. Every later report, and the final status, first writes what
 *     is kept, oldest first, so nothing is stored out of order. What is kept was never
 *     acknowledged: a daemon that dies meanwhile loses it, and the run's next owner
 *     trains those steps again from the newest stored checkpoint;
 *   - another worker took the run over (GC_ESTALE, its lease ran out while the store
 *     could not be reached): the job gives the run up.
 *
 * DESIGN: the kept reports belong to the job's worker thread alone; job->request and
 * job->store_error are read and written under the scheduler's mu (job.h), for a moment,
 * never across a store call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/job.h"

/* How often a training write that failed for lack of space or on I/O is tried again,
 * and how often kept reports are tried while the store cannot be reached. */
#define STORE_RETRY_MS 1000
/* The most kept in memory while the store cannot be reached: then training waits. */
#define PENDING_BYTES ((size_t)256 << 20)
#define PENDING_REPORTS 100000
/* How often a training run asks the store for the user's requests. */
#define POLL_MS 500

struct gd_pending {
    enum gd_report_kind kind;
    int64_t step;
    int n;
    char (*names)[32];
    double *values;
    uint8_t *blob;
    size_t len;
    int stored; /* the row is in; only its event is left */
    struct gd_pending *next;
};

static int64_t ms_since(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)(now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

/* The event of a report kind, NULL for none. */
static const char *event_of(enum gd_report_kind k)
{
    static const char *const names[] = {"metrics", "eval", "sample", "checkpoint",
                                        NULL,      NULL,   "alert"};
    return names[k];
}

/* ---- one write ---- */

static int write_report(struct gd_job *job, const struct gd_report *r, struct gc_error *err)
{
    struct gd_store *st = job->s->store;
    switch (r->kind) {
    case GD_REPORT_METRICS:
    case GD_REPORT_EVAL:
        return gd_store_metrics_put(st, job->id, r->kind == GD_REPORT_EVAL, r->step, r->names,
                                    r->values, r->n, err);
    case GD_REPORT_SAMPLE:
        return gd_store_sample_put(st, job->id, r->step, r->blob, r->len, err);
    case GD_REPORT_CKPT:
        return gd_store_ckpt_put(st, job->id, r->step, r->blob, r->len,
                                 job->s->opts.keep_checkpoints, err);
    case GD_REPORT_PLANE:
        return gd_store_plane_put(st, job->id, r->step, r->blob, r->len, err);
    case GD_REPORT_REWIND: {
        /* the store forgets what came after step; the checkpoint gone back to may have
         * been pruned: it is kept again, so a restart resumes from it (both may be
         * written twice when the second fails: neither changes then) */
        int rc = gd_store_run_rewind(st, job->id, r->step, err);
        if (!rc && r->blob)
            rc = gd_store_ckpt_put(st, job->id, r->step, r->blob, r->len,
                                   job->s->opts.keep_checkpoints, err);
        return rc;
    }
    case GD_REPORT_WATCH: {
        struct gd_watch_record w;
        memcpy(&w, r->blob, sizeof w);
        return gd_store_watch_put(st, &w, NULL, err);
    }
    }
    return gc_error_set(err, GC_EINVAL, "unknown report");
}

/* The event of a stored report: GC_EUNAVAIL when the store went away in between. */
static int publish(struct gd_job *job, const struct gd_report *r, struct gc_error *err)
{
    struct gd_jobs *s = job->s;
    if (!s->ev || !event_of(r->kind))
        return 0;
    int rc = gd_events_publish(s->ev, job->id, event_of(r->kind), r->step, err);
    if (rc == GC_EUNAVAIL)
        return rc;
    if (rc)
        gd_jobs_log(s, GD_LOG_WARN, job->id, "event %s not stored: %s", event_of(r->kind),
                    err->msg);
    return 0;
}

/* Shows (or, with msg NULL, clears) the store error on the run; logs the change. */
static void show_error(struct gd_job *job, const char *msg, const char *then)
{
    struct gd_jobs *s = job->s;
    pthread_mutex_lock(&s->mu);
    int was = job->store_error[0] != '\0';
    if (msg)
        snprintf(job->store_error, sizeof(job->store_error), "%s", msg);
    else
        job->store_error[0] = '\0';
    pthread_mutex_unlock(&s->mu);
    if (msg && !was)
        gd_jobs_log(s, GD_LOG_ERR, job->id, "%s; %s", msg, then);
    else if (!msg && was)
        gd_jobs_log(s, GD_LOG_INFO, job->id, "the store takes writes again: training goes on");
}

/* 1 when the user or the daemon asked the run to stop (err then says so). */
static int stop_asked(struct gd_job *job, struct gc_error *err)
{
    struct gd_jobs *s = job->s;
    pthread_mutex_lock(&s->mu);
    int req = job->request, stop = req != GD_REQ_NONE || s->stopping;
    pthread_mutex_unlock(&s->mu);
    if (!stop)
        return 0;
    char why[sizeof(err->msg)];
    snprintf(why, sizeof(why), "%s", err->msg);
    if (req == GD_REQ_GIVE_UP)
        gc_error_set(err, GC_ESTALE, "run %lld was taken over by another worker",
                     (long long)job->id);
    else
        gc_error_set(err, GC_ESTOPPED, "stopped while waiting for the store: %s", why);
    return 1;
}

/* Sleeps up to ms, in slices, unless a stop is asked; 1 when one was. */
static int nap(struct gd_job *job, int ms, struct gc_error *err)
{
    for (int waited = 0; waited < ms; waited += 50) {
        usleep(50 * 1000);
        if (stop_asked(job, err))
            return 1;
    }
    return 0;
}

/* Called after a write failed with err on a full or failing disk. Returns 1 to try
 * again after STORE_RETRY_MS; 0 to give up with err (GC_ESTOPPED on a stop request, so
 * training ends as that request says). */
static int retry_write(struct gd_job *job, struct gc_error *err)
{
    /* the health may be good again already because another run's write worked in
     * between; a write failing while the store looks healthy is tried twice more, then
     * it is not the disk and the run fails with its error */
    if (gd_store_health(job->s->store, NULL, 0) == 0 && job->healthy_tries++ >= 2) {
        job->healthy_tries = 0;
        return 0;
    }
    char msg[sizeof(err->msg)];
    snprintf(msg, sizeof(msg), "%s", err->msg);
    show_error(job, msg, "trying again every second");
    return !nap(job, STORE_RETRY_MS, err);
}

/* ---- what is kept while the store cannot be reached ---- */

static void pending_free_one(struct gd_pending *p)
{
    free(p->names);
    free(p->values);
    free(p->blob);
    free(p);
}

void gd_job_pending_free(struct gd_job *job)
{
    while (job->pending) {
        struct gd_pending *p = job->pending;
        job->pending = p->next;
        pending_free_one(p);
    }
    job->pending_tail = NULL;
    job->pending_bytes = 0;
    job->npending = 0;
}

/* Keeps a copy of r (stored: only its event is left); GC_ENOMEM when it cannot. */
static int keep(struct gd_job *job, const struct gd_report *r, int stored, struct gc_error *err)
{
    struct gd_pending *p = calloc(1, sizeof(*p));
    if (!p)
        return gc_error_set(err, GC_ENOMEM, "out of memory keeping a report for the store");
    p->kind = r->kind;
    p->step = r->step;
    p->stored = stored;
    if (!stored && r->n) {
        p->n = r->n;
        p->names = calloc((size_t)r->n, sizeof(*p->names));
        p->values = malloc((size_t)r->n * sizeof(*p->values));
        if (p->names && p->values)
            for (int i = 0; i < r->n; i++) {
                snprintf(p->names[i], sizeof(p->names[i]), "%s", r->names[i]);
                p->values[i] = r->values[i];
            }
    }
    if (!stored && r->len) {
        p->len = r->len;
        p->blob = malloc(r->len);
        if (p->blob)
            memcpy(p->blob, r->blob, r->len);
    }
    if ((p->n && (!p->names || !p->values)) || (p->len && !p->blob)) {
        pending_free_one(p);
        return gc_error_set(err, GC_ENOMEM, "out of memory keeping a report for the store");
    }
    if (job->pending_tail)
        job->pending_tail->next = p;
    else
        job->pending = p;
    job->pending_tail = p;
    job->pending_bytes += p->len + (size_t)p->n * 40 + sizeof(*p);
    job->npending++;
    return 0;
}

/* Writes what is kept, oldest first, until done (0) or a write fails (its error). */
static int flush(struct gd_job *job, struct gc_error *err)
{
    while (job->pending) {
        struct gd_pending *p = job->pending;
        const char *names[64];
        for (int i = 0; i < p->n && i < 64; i++)
            names[i] = p->names[i];
        struct gd_report r = {.kind = p->kind,
                              .step = p->step,
                              .names = names,
                              .values = p->values,
                              .n = p->n,
                              .blob = p->blob,
                              .len = p->len};
        int rc;
        if (!p->stored) {
            if ((rc = write_report(job, &r, err)))
                return rc;
            p->stored = 1;
        }
        if ((rc = publish(job, &r, err)))
            return rc;
        job->pending = p->next;
        if (!job->pending)
            job->pending_tail = NULL;
        job->pending_bytes -= p->len + (size_t)p->n * 40 + sizeof(*p);
        job->npending--;
        pending_free_one(p);
    }
    return 0;
}

/* The run's own note while reports are kept. */
static void show_kept(struct gd_job *job, const struct gc_error *err)
{
    char msg[300];
    snprintf(msg, sizeof(msg), "%.200s (%d reports kept in memory)", err->msg, job->npending);
    show_error(job, msg, "keeping results in memory until it is back");
}

/* While reports are kept: tries to write them (at most every STORE_RETRY_MS), and
 * waits while too many are kept. 0 when none are left, 1 when some still are (the
 * caller keeps its report too), or a failure to end training with. */
static int catch_up(struct gd_job *job, struct gc_error *err)
{
    for (;;) {
        if (ms_since(&job->tried) >= STORE_RETRY_MS) {
            clock_gettime(CLOCK_MONOTONIC, &job->tried);
            int rc = flush(job, err);
            if (rc == 0) {
                show_error(job, NULL, NULL);
                return 0;
            }
            if (rc != GC_EUNAVAIL)
                return rc;
            show_kept(job, err);
        }
        if (!job->pending)
            return 0;
        if (job->pending_bytes < PENDING_BYTES && job->npending < PENDING_REPORTS)
            return 1;
        /* full: training waits for the store */
        if (nap(job, STORE_RETRY_MS, err))
            return err->code;
    }
}

int gd_job_store(struct gd_job *job, const struct gd_report *r, struct gc_error *err)
{
    int rc;
    if (job->pending) {
        if ((rc = catch_up(job, err)) < 0)
            return rc;
        if (rc == 1)
            return keep(job, r, 0, err);
    }
    while ((rc = write_report(job, r, err)) != 0) {
        if (rc == GC_EUNAVAIL) {
            clock_gettime(CLOCK_MONOTONIC, &job->tried);
            if ((rc = keep(job, r, 0, err)))
                return rc;
            show_kept(job, err);
            return 0;
        }
        if (rc == GC_ESTALE)
            return rc;
        if (!retry_write(job, err))
            return err->code == GC_ESTOPPED || err->code == GC_ESTALE ? err->code : rc;
    }
    job->healthy_tries = 0;
    show_error(job, NULL, NULL);
    if (publish(job, r, err) == GC_EUNAVAIL) {
        if ((rc = keep(job, r, 1, err)))
            return rc;
        show_kept(job, err);
    }
    return 0;
}

int gd_job_drain(struct gd_job *job)
{
    struct gd_jobs *s = job->s;
    struct gc_error err = {0};
    for (;;) {
        pthread_mutex_lock(&s->mu);
        int stopping = s->stopping, give_up = job->request == GD_REQ_GIVE_UP;
        pthread_mutex_unlock(&s->mu);
        if (give_up)
            return -1;
        /* the store probes by itself once writes stop */
        if (gd_store_health(s->store, NULL, 0) == 0) {
            /* the error stays shown until the final status is written too */
            int rc = flush(job, &err);
            if (rc == 0)
                return 0;
            if (rc == GC_ESTALE)
                return -1;
        }
        if (stopping) {
            if (job->pending)
                gd_jobs_log(s, GD_LOG_WARN, job->id,
                            "stopping with %d reports the store never took: the run goes on"
                            " from its newest stored checkpoint",
                            job->npending);
            return -1;
        }
        usleep(100 * 1000);
    }
}

/* ---- the final status ---- */

int gd_job_store_status(struct gd_job *job, enum gd_status st, const char *error, int64_t step,
                        int set_step, struct gc_error *err)
{
    struct gd_jobs *s = job->s;
    for (;;) {
        int rc = set_step ? gd_store_run_set_step(s->store, job->id, step, err) : 0;
        if (!rc)
            rc = gd_store_run_set_status(s->store, job->id, st, error, err);
        /* a full or failing disk, or a server out of reach, is waited out; a write that
         * fails while the store looks healthy is tried twice more, as in retry_write */
        int wait =
            rc == GC_EUNAVAIL ||
            (rc == GC_EIO && (gd_store_health(s->store, NULL, 0) != 0 || job->healthy_tries++ < 2));
        if (!wait) {
            job->healthy_tries = 0;
            show_error(job, NULL, NULL);
            return rc;
        }
        char msg[sizeof(err->msg)];
        snprintf(msg, sizeof(msg), "%s", err->msg);
        show_error(job, msg, "trying again every second to store the run's final status");
        for (int waited = 0; waited < STORE_RETRY_MS; waited += 50) {
            usleep(50 * 1000);
            pthread_mutex_lock(&s->mu);
            int quit = s->stopping || job->request == GD_REQ_GIVE_UP;
            pthread_mutex_unlock(&s->mu);
            if (quit)
                return rc;
        }
    }
}

/* ---- the user's requests, through any daemon ---- */

void gd_job_poll_request(struct gd_job *job)
{
    struct gd_jobs *s = job->s;
    pthread_mutex_lock(&s->mu);
    int now = job->poll_now;
    job->poll_now = 0;
    pthread_mutex_unlock(&s->mu);
    if (!now && ms_since(&job->polled) < POLL_MS)
        return;
    clock_gettime(CLOCK_MONOTONIC, &job->polled);
    enum gd_request req = GD_REQ_NONE;
    int rc = gd_store_run_requested(s->store, job->id, &req, NULL);
    pthread_mutex_lock(&s->mu);
    if (rc == GC_ESTALE || rc == GC_ENOTFOUND)
        job->request = GD_REQ_GIVE_UP;
    else if (rc == 0 && req != GD_REQ_NONE && job->request != GD_REQ_GIVE_UP &&
             job->request != GD_REQ_CANCEL)
        job->request = (int)req;
    pthread_mutex_unlock(&s->mu);
}
