/* job.c — one run on one worker: read the run this daemon claimed from the store, build
 * its trainer, restore its newest checkpoint (whichever daemon wrote it), train it
 * through the hooks that store what it reports and publish an event for each, and
 * write its final status.
 *
 * How a report reaches the store when the store fails (a full disk: try again every
 * second; an unreachable server: keep it in memory and go on) is job_store.c's. A run
 * another worker took over (its lease ran out while this daemon could not reach the
 * store) is given up: the job stops without writing anything more.
 *
 * DESIGN (locks as job.h names them): the trainer belongs to the worker alone. The
 * hooks run on the worker's thread and take mu only for a moment: hook_control() once
 * per step to read the stop request and publish the live step, the others to set the
 * live figures or the store error. mu is never held across training, the store or a
 * log call. The final status is written before the job leaves the active list, with
 * the job marked finished meanwhile, so the API never sees a run finished in the store
 * but still live, or live with no worker behind it. */
#include "daemon/job.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/data.h"
#include "core/blas.h"
#include "core/gan.h"
#include "daemon/sweep.h"
#include "daemon/version.h"
#include "daemon/webhook.h"

void gd_jobs_log(struct gd_jobs *s, int level, int64_t run, const char *fmt, ...)
{
    if (!s->opts.log)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    s->opts.log(s->opts.log_ctx, level, run, msg);
}

void gd_jobs_publish(struct gd_jobs *s, int64_t run, const char *type, int64_t step)
{
    struct gc_error err = {0};
    if (s->ev && gd_events_publish(s->ev, run, type, step, &err))
        gd_jobs_log(s, GD_LOG_WARN, run, "event %s not stored: %s", type, err.msg);
}

void gd_jobs_poke(struct gd_jobs *s)
{
    pthread_mutex_lock(&s->mu);
    s->pokes++;
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->mu);
}

struct timespec gd_jobs_deadline(int ms)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

/* ---- the active list (called with mu held) ---- */

struct gd_job *gd_jobs_find(struct gd_jobs *s, int64_t id)
{
    for (struct gd_job *j = s->active; j; j = j->next)
        if (j->id == id)
            return j;
    return NULL;
}

struct gd_job *gd_jobs_add(struct gd_jobs *s, int64_t id)
{
    struct gd_job *job = calloc(1, sizeof(*job));
    if (!job)
        return NULL;
    job->id = id;
    job->s = s;
    job->next = s->active;
    s->active = job;
    return job;
}

static void active_remove(struct gd_jobs *s, struct gd_job *job)
{
    for (struct gd_job **p = &s->active; *p; p = &(*p)->next) {
        if (*p == job) {
            *p = job->next;
            return;
        }
    }
}

/* ---- training hooks (on the worker's thread) ---- */

void gd_job_progress(struct gd_job *job, int64_t step)
{
    struct gd_jobs *s = job->s;
    pthread_mutex_lock(&s->mu);
    if (step > job->counted) {
        s->steps_trained += step - job->counted;
        s->images_trained += (step - job->counted) * job->batch;
    }
    job->counted = step;
    job->step = step;
    pthread_mutex_unlock(&s->mu);
}

/* Adds the steps done since the last call to the counters and publishes the live step. */
static void note_progress(struct gd_job *job)
{
    gd_job_progress(job, gc_trainer_step(job->t));
}

static int hook_control(void *ctx)
{
    struct gd_job *job = ctx;
    note_progress(job);
    gd_job_poll_request(job);
    pthread_mutex_lock(&job->s->mu);
    int r = GC_CONTINUE;
    if (job->request == GD_REQ_CANCEL || job->request == GD_REQ_GIVE_UP)
        r = GC_STOP_CANCEL; /* giving up writes no checkpoint: the run is not ours */
    else if (job->request == GD_REQ_PAUSE || job->s->stopping)
        r = GC_STOP_PAUSE; /* shutdown checkpoints like a pause */
    pthread_mutex_unlock(&job->s->mu);
    return r;
}

/* Appends " name=value" for each figure to the log line (len of cap bytes used). */
static void append_figures(char *line, size_t cap, int len, const struct gc_metric *m, int n)
{
    for (int i = 0; i < n && len < (int)cap; i++)
        len += snprintf(line + len, cap - (size_t)len, " %s=%.4g", m[i].name, m[i].value);
}

/* Stores figures of kind (metrics or eval) through gd_job_store(). */
static int put_figures(struct gd_job *job, enum gd_report_kind kind, int64_t step,
                       const struct gc_metric *m, int n, struct gc_error *err)
{
    const char *names[64];
    double values[64];
    if (n > 64)
        n = 64;
    for (int i = 0; i < n; i++) {
        names[i] = m[i].name;
        values[i] = m[i].value;
    }
    struct gd_report r = {.kind = kind, .step = step, .names = names, .values = values, .n = n};
    return gd_job_store(job, &r, err);
}

static int hook_metrics(void *ctx, int64_t step, const struct gc_metric *m, int n,
                        struct gc_error *err)
{
    struct gd_job *job = ctx;
    for (int i = 0; i < n; i++) {
        if (strcmp(m[i].name, "images_per_s") == 0) {
            pthread_mutex_lock(&job->s->mu);
            job->images_per_s = m[i].value;
            pthread_mutex_unlock(&job->s->mu);
        }
    }
    note_progress(job);
    int ret = put_figures(job, GD_REPORT_METRICS, step, m, n, err);
    if (ret)
        return ret;
    char line[400];
    int len = snprintf(line, sizeof(line), "step %lld", (long long)step);
    append_figures(line, sizeof(line), len, m, n);
    /* the last step's figures are worth a line even when steps are not logged */
    gd_jobs_log(job->s, step == job->steps ? GD_LOG_INFO : GD_LOG_DEBUG, job->id, "%s", line);
    return 0;
}

static int hook_sample(void *ctx, int64_t step, const uint8_t *png, size_t len,
                       struct gc_error *err)
{
    struct gd_report r = {.kind = GD_REPORT_SAMPLE, .step = step, .blob = png, .len = len};
    return gd_job_store(ctx, &r, err);
}

static int hook_plane(void *ctx, int64_t step, const uint8_t *bytes, size_t len,
                      struct gc_error *err)
{
    struct gd_report r = {.kind = GD_REPORT_PLANE, .step = step, .blob = bytes, .len = len};
    return gd_job_store(ctx, &r, err);
}

static int hook_eval(void *ctx, int64_t step, const struct gc_metric *m, int n,
                     struct gc_error *err)
{
    struct gd_job *job = ctx;
    int ret = put_figures(job, GD_REPORT_EVAL, step, m, n, err);
    if (ret)
        return ret;
    char line[400];
    int len = snprintf(line, sizeof(line), "eval at step %lld:", (long long)step);
    append_figures(line, sizeof(line), len, m, n);
    gd_jobs_log(job->s, GD_LOG_INFO, job->id, "%s", line);
    if (job->sweep > 0 && step < job->steps)
        gd_sweep_after_eval(job->s, job->sweep, job->id, job->config, step);
    return 0;
}

static int hook_checkpoint(void *ctx, int64_t step, const uint8_t *bytes, size_t len,
                           struct gc_error *err)
{
    struct gd_report r = {.kind = GD_REPORT_CKPT, .step = step, .blob = bytes, .len = len};
    return gd_job_store(ctx, &r, err);
}

/* The alert webhook's JSON body for one event of the watchdog. */
static void alert_body(const struct gd_job *job, const struct gc_watch_event *e, char *out,
                       size_t cap)
{
    char name[300] = "", msg[700] = "", to[32] = "null", lr[32] = "null";
    gd_json_escape(name, sizeof(name), job->name);
    gd_json_escape(msg, sizeof(msg), e->message);
    if (e->to_step >= 0)
        snprintf(to, sizeof(to), "%lld", (long long)e->to_step);
    if (e->lr_scale > 0)
        snprintf(lr, sizeof(lr), "%.9g", e->lr_scale);
    snprintf(out, cap,
             "{\"run\":%lld,\"name\":\"%s\",\"step\":%lld,\"kind\":\"%s\",\"action\":\"%s\","
             "\"to_step\":%s,\"lr_scale\":%s,\"message\":\"%s\",\"url\":\"/api/v1/runs/%lld\"}",
             (long long)job->id, name, (long long)e->step, e->kind, e->action, to, lr, msg,
             (long long)job->id);
}

/* The watchdog fired: after a rollback the store forgets what came after to_step (the
 * run trains those steps again) and keeps the checkpoint of to_step; the record is
 * stored, an alert event published, the webhook told. */
static int hook_alert(void *ctx, const struct gc_watch_event *e, struct gc_error *err)
{
    struct gd_job *job = ctx;
    struct gd_jobs *s = job->s;
    int ret;
    if (e->to_step >= 0) {
        /* in order with the reports before it: what is kept for the store of the steps
         * after to_step is written first, then forgotten with the rest */
        struct gd_report r = {
            .kind = GD_REPORT_REWIND, .step = e->to_step, .blob = e->ckpt, .len = e->ckpt_len};
        if ((ret = gd_job_store(job, &r, err)))
            return ret;
        pthread_mutex_lock(&s->mu);
        job->counted = e->to_step;
        job->step = e->to_step;
        pthread_mutex_unlock(&s->mu);
    }
    struct gd_watch_record w = {
        .run = job->id, .step = e->step, .to_step = e->to_step, .lr_scale = e->lr_scale};
    snprintf(w.kind, sizeof(w.kind), "%s", e->kind);
    snprintf(w.action, sizeof(w.action), "%s", e->action);
    snprintf(w.message, sizeof(w.message), "%s", e->message);
    struct gd_report r = {
        .kind = GD_REPORT_WATCH, .step = e->step, .blob = (const uint8_t *)&w, .len = sizeof w};
    if ((ret = gd_job_store(job, &r, err)))
        return ret;
    gd_jobs_log(s, GD_LOG_WARN, job->id, "watch: %s at step %lld: %s", e->kind, (long long)e->step,
                e->message);
    if (s->opts.webhook) {
        char body[1400];
        alert_body(job, e, body, sizeof(body));
        gd_webhook_post(s->opts.webhook, job->id, body);
    }
    return 0;
}

static void hook_log(void *ctx, const char *msg)
{
    struct gd_job *job = ctx;
    gd_jobs_log(job->s, GD_LOG_INFO, job->id, "%s", msg);
}

/* ---- one run from start to end ---- */

/* A conditional run's classes into its row, for the API to show: those of its trainer,
 * which the newest checkpoint has just confirmed. A failed write only costs the
 * listing, so the run goes on. */
static void store_classes(struct gd_jobs *s, struct gd_job *job)
{
    const struct gc_class_list *cl = gc_trainer_classes(job->t);
    if (!cl)
        return;
    struct gc_error err = {0};
    char *text = gc_class_list_to_text(cl);
    if (!text)
        gc_error_set(&err, GC_ENOMEM, "out of memory");
    if (!text || gd_store_run_set_classes(s->store, job->id, text, &err))
        gd_jobs_log(s, GD_LOG_WARN, job->id, "its classes are not stored: %s", err.msg);
    free(text);
}

/* The compiler that built this file, as its predefined macros name it. */
#if defined(__clang__)
#define COMPILER "clang " __clang_version__
#elif defined(__GNUC__)
#define COMPILER "gcc " __VERSION__
#else
#define COMPILER "unknown"
#endif

/* Records how the run is trained now: this daemon, its build, the BLAS, the threads. */
static void record_provenance(struct gd_jobs *s, const struct gd_run *run)
{
    struct gd_provenance p;
    memset(&p, 0, sizeof(p));
    snprintf(p.version, sizeof(p.version), "%s", GD_VERSION);
    snprintf(p.commit, sizeof(p.commit), "%s", gd_build_commit);
    snprintf(p.compiler, sizeof(p.compiler), "%s", COMPILER);
    gc_blas_describe(p.blas, sizeof(p.blas));
    p.threads = s->threads_per_run;
    if (!s->opts.spec_hash || s->opts.spec_hash(run->spec_json, p.spec_hash) != 0)
        p.spec_hash[0] = '\0';
    struct gc_error err = {0};
    if (gd_store_run_set_provenance(s->store, run->id, &p, &err))
        gd_jobs_log(s, GD_LOG_WARN, run->id, "provenance not stored: %s", err.msg);
}

/* Writes a job's final status (and step, when it moved) and takes it off the active
 * list: first what it keeps for the store is written (the run stays live meanwhile,
 * showing why it waits), then the job is marked finished, so it no longer shows live
 * while its status is written (a status the store cannot take yet is tried again every
 * second, the error still showing on the run: gd_job_store_status). Not written when the run was
 * given up; on rank 0 of a launched run (opts.final) handed to the daemon that launched it, which
 * writes it. Returns the status the store wrote (or was handed). */
enum gd_status gd_job_finish(struct gd_jobs *s, struct gd_job *job, enum gd_status st,
                             const char *error, int64_t step, int set_step)
{
    pthread_mutex_lock(&s->mu);
    int give_up = job->request == GD_REQ_GIVE_UP;
    pthread_mutex_unlock(&s->mu);
    /* while the store cannot take the status, the run stays live and shows why */
    int drained = !give_up && gd_job_drain(job) == 0;
    pthread_mutex_lock(&s->mu);
    job->finished = 1;
    pthread_mutex_unlock(&s->mu);
    struct gc_error err = {0};
    if (!drained) {
        gd_store_run_forget(s->store, job->id);
        st = GD_RUNNING;
    } else if (s->opts.final) {
        if (set_step)
            gd_store_run_set_step(s->store, job->id, step, NULL);
        s->opts.final(s->opts.final_ctx, job->id, st, step, error);
    } else {
        int rc = gd_job_store_status(job, st, error, step, set_step, &err);
        if (rc == 0) {
            /* a pause or cancel the user asked for as the run stopped wins */
            struct gd_run r;
            if (gd_store_run_get(s->store, job->id, &r, NULL) == 0) {
                st = r.status;
                gd_run_fini(&r);
            }
            gd_jobs_publish(s, job->id, "status", step);
        } else if (rc == GC_ESTALE || rc == GC_EIO || rc == GC_EUNAVAIL) {
            /* taken over, or the daemon stopped while the store could not take it: the
             * run is running in the store, and its next owner goes on from there */
            gd_jobs_log(s, GD_LOG_WARN, job->id, "status %s not stored: %s", gd_status_name(st),
                        err.msg);
            st = GD_RUNNING;
        } else {
            gd_jobs_log(s, GD_LOG_ERR, job->id, "cannot set status %s: %s", gd_status_name(st),
                        err.msg);
        }
    }
    pthread_mutex_lock(&s->mu);
    active_remove(s, job);
    pthread_cond_broadcast(&s->wake); /* a slot is free */
    pthread_mutex_unlock(&s->mu);
    return st;
}

/* Builds the trainer; a failure says which worker could not, and names the dataset's
 * path (or a paired task's inputs) when that is what it could not open (the paths must
 * exist on every host that trains runs: this worker may not be the daemon that took the
 * spec). */
static int build(struct gd_job *job, const struct gc_spec *spec, struct gc_error *err)
{
    struct gd_jobs *s = job->s;
    if (spec->dataset.path[0] && access(spec->dataset.path, R_OK) != 0)
        return gc_error_set(err, GC_ENOTFOUND, "worker %s cannot open dataset.path %s: %s",
                            s->me.name, spec->dataset.path, strerror(errno));
    if (spec->task.on && spec->task.kind == GC_TASK_PAIRED && spec->task.source_path[0] &&
        access(spec->task.source_path, R_OK | X_OK) != 0)
        return gc_error_set(err, GC_ENOTFOUND, "worker %s cannot open task.source_path %s: %s",
                            s->me.name, spec->task.source_path, strerror(errno));
    struct gc_trainer_opts topts = {
        .threads = s->threads_per_run,
        .cache_dir = s->cache_dir,
        .load_data = 1,
        .comm = s->opts.comm,
    };
    job->t = gc_trainer_create(spec, &topts, err);
    if (!job->t)
        return gc_error_prefix(err, "on worker %s", s->me.name);
    return 0;
}

/* Restores the newest checkpoint, if there is one. */
static int restore(struct gd_job *job, struct gc_error *err)
{
    struct gd_jobs *s = job->s;
    uint8_t *ck = NULL;
    size_t cklen = 0;
    int64_t ckstep = 0;
    int rc = gd_store_ckpt_get(s->store, job->id, -1, &ck, &cklen, &ckstep, err);
    if (rc == GC_ENOTFOUND) {
        gc_error_clear(err);
        return 0;
    }
    if (rc)
        return rc;
    rc = gc_trainer_restore(job->t, ck, cklen, err);
    free(ck);
    if (rc)
        return gc_error_prefix(err, "checkpoint of step %lld", (long long)ckstep);
    gd_jobs_log(s, GD_LOG_INFO, job->id, "resumed from the checkpoint of step %lld",
                (long long)ckstep);
    return 0;
}

enum gd_status gd_job_run(struct gd_job *job, int *train_rc)
{
    struct gd_jobs *s = job->s;
    struct gc_error err = {0};
    struct gd_run run = {0};
    struct gc_spec *spec = NULL;
    enum gd_status final = GD_FAILED;
    int64_t step = 0;
    int rc = GC_EIO;

    /* the claim made it running; every daemon's streams hear of it */
    gd_jobs_publish(s, job->id, "status", 0);
    if (gd_store_run_get(s->store, job->id, &run, &err)) {
        gd_jobs_log(s, GD_LOG_ERR, job->id, "cannot read run: %s", err.msg);
        /* it stays claimed: the lease runs out, or the next start queues it again */
        gd_store_run_forget(s->store, job->id);
        pthread_mutex_lock(&s->mu);
        job->request = GD_REQ_GIVE_UP;
        pthread_mutex_unlock(&s->mu);
        final = gd_job_finish(s, job, GD_FAILED, NULL, 0, 0);
        free(job);
        return final;
    }
    step = run.step;
    spec = malloc(sizeof(*spec));
    if (!spec) {
        gc_error_set(&err, GC_ENOMEM, "out of memory");
        goto fail;
    }
    if (!s->opts.parse_spec) {
        gc_error_set(&err, GC_EINVAL, "no spec parser configured");
        goto fail;
    }
    if (s->opts.parse_spec(run.spec_json, spec, &err)) {
        /* the dataset path is checked on this host, which may not be the one that took
         * the spec */
        gc_error_prefix(&err, "worker %s: stored spec", s->me.name);
        goto fail;
    }
    job->batch = spec->train.batch_size;
    snprintf(job->name, sizeof(job->name), "%s", run.name);
    job->sweep = run.sweep;
    job->config = run.config;
    job->steps = spec->train.steps;
    if (spec->train.ranks > 1 && !s->opts.comm) {
        /* the daemon, not a rank: the ranks train in a child process, under this
         * daemon's claim */
        if (s->opts.mpirun && s->opts.mpirun[0]) {
            final = gd_job_launch(job, spec, &run);
            rc = final == GD_SUCCEEDED ? 0 : GC_EIO;
            goto out;
        }
        gd_jobs_log(s, GD_LOG_WARN, job->id,
                    "train.ranks is %d, but this daemon has no --mpirun: training it in this "
                    "process (the same run, to rounding)",
                    spec->train.ranks);
    }
    gd_jobs_log(s, GD_LOG_INFO, job->id, "started at step %lld of %lld with %d threads on %s",
                (long long)step, (long long)spec->train.steps, s->threads_per_run, s->me.name);

    record_provenance(s, &run);
    if (build(job, spec, &err) || restore(job, &err))
        goto fail;
    store_classes(s, job);
    job->counted = gc_trainer_step(job->t);
    pthread_mutex_lock(&s->mu);
    job->step = job->counted;
    pthread_mutex_unlock(&s->mu);

    struct gc_train_hooks hooks = {
        .ctx = job,
        .metrics = hook_metrics,
        .sample = hook_sample,
        .plane = hook_plane,
        .eval = hook_eval,
        .checkpoint = hook_checkpoint,
        .alert = hook_alert,
        .control = hook_control,
        .log = hook_log,
    };
    rc = gc_trainer_run(job->t, &hooks, &err);
    note_progress(job);
    step = gc_trainer_step(job->t);

    pthread_mutex_lock(&s->mu);
    int req = job->request, stopping = s->stopping;
    if (rc == GC_ESTALE)
        job->request = req = GD_REQ_GIVE_UP;
    pthread_mutex_unlock(&s->mu);
    if (req == GD_REQ_GIVE_UP) {
        gd_job_finish(s, job, GD_RUNNING, NULL, step, 0);
        gd_jobs_log(s, GD_LOG_WARN, job->id,
                    "taken over by another worker at step %lld: given up here", (long long)step);
        final = GD_RUNNING;
        goto out;
    }
    if (rc == 0) {
        final = GD_SUCCEEDED;
    } else if (rc == GC_ESTOPPED) {
        if (req == GD_REQ_CANCEL)
            final = GD_CANCELED;
        else if (req == GD_REQ_PAUSE)
            final = GD_PAUSED;
        else if (stopping)
            final = GD_QUEUED; /* the next start, or another daemon, continues it */
        else
            goto fail;
    } else if (rc == GC_ECOMM) {
        /* a rank died, hung or drifted: not the run's fault; it goes on from its newest
         * checkpoint at the next launch */
        final = gd_job_finish(s, job, GD_QUEUED, err.msg, step, 0);
        gd_jobs_log(s, GD_LOG_ERR, job->id, "the ranks failed, queued again: %s", err.msg);
        goto out;
    } else {
        goto fail;
    }
    /* a finished run shows the steps it did; a stopped one keeps its checkpoint's step,
     * which the checkpoint hook already wrote */
    int set_step = final == GD_SUCCEEDED || final == GD_CANCELED;
    if (!set_step)
        step = run.step > step ? run.step : step;
    char reason[sizeof(job->stop_reason)];
    pthread_mutex_lock(&s->mu);
    snprintf(reason, sizeof(reason), "%s", job->stop_reason);
    pthread_mutex_unlock(&s->mu);
    final = gd_job_finish(s, job, final, final == GD_CANCELED && reason[0] ? reason : NULL, step,
                          set_step);
    if (final == GD_RUNNING)
        gd_jobs_log(s, GD_LOG_WARN, job->id,
                    "stopped at step %lld; its status is left to the next"
                    " start or another worker",
                    (long long)step);
    else
        gd_jobs_log(s, GD_LOG_INFO, job->id, "%s at step %lld", gd_status_name(final),
                    (long long)step);
    goto out;

fail:
    /* the engine's code when it trained, else what kept it from training */
    if (!job->t || rc == 0 || rc == GC_ESTOPPED)
        rc = err.code ? err.code : GC_EIO;
    if (!err.msg[0])
        gc_error_set(&err, err.code ? err.code : GC_EIO, "failed");
    final = gd_job_finish(s, job, GD_FAILED, err.msg, job->t ? gc_trainer_step(job->t) : step,
                          job->t != NULL);
    gd_jobs_log(s, GD_LOG_ERR, job->id, "failed: %s", err.msg);
out:
    if (train_rc)
        *train_rc = rc;
    gd_job_pending_free(job);
    gc_trainer_destroy(job->t);
    job->t = NULL;
    free(spec);
    gd_run_fini(&run);
    free(job);
    return final;
}
