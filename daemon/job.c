/* job.c — one run on one worker: read it from the store, build its trainer, restore
 * its newest checkpoint, train it through the hooks that store what it reports and
 * publish an event for each, and write its final status.
 *
 * When a write of the hooks fails because the disk is full or failing, the run keeps
 * its place and tries the write again every second (retry_write) instead of failing
 * and losing the steps since its last checkpoint; the error shows on the run until a
 * write works.
 *
 * DESIGN (locks as job.h names them): the trainer belongs to the worker alone. The
 * hooks run on the worker's thread and take mu only for a moment: hook_control() once
 * per step to read the stop request and publish the live step, the others to set the
 * live figures or the store error. mu is never held across training, the store or a
 * log call. The final status is written under ctl_mu together with taking the job off
 * the active list (finish), so the user's verbs never see a run finished in the store
 * but still training, or the other way round. */
#include "daemon/job.h"

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
    pthread_mutex_lock(&job->s->mu);
    int r = GC_CONTINUE;
    if (job->request == GD_REQ_CANCEL)
        r = GC_STOP_CANCEL;
    else if (job->request == GD_REQ_PAUSE || job->s->stopping)
        r = GC_STOP_PAUSE; /* shutdown checkpoints like a pause */
    pthread_mutex_unlock(&job->s->mu);
    return r;
}

/* How often a training write that failed for lack of space or on I/O is tried again. */
#define STORE_RETRY_MS 1000

/* Called after a training write (metrics, sample, eval, checkpoint) failed with err.
 * When the store's writes fail for lack of space or on I/O, the run keeps its place
 * instead of failing and losing the steps since its last checkpoint: the error shows on
 * the run (gd_sched_live_error) and in the log, and the caller tries the write again
 * after STORE_RETRY_MS, until it works or the run is asked to stop. Returns 1 to try
 * again; 0 to give up with err (GC_ESTOPPED on a stop request, so training ends as
 * that request says). */
static int retry_write(struct gd_job *job, struct gc_error *err)
{
    struct gd_jobs *s = job->s;
    /* the health may be good again already because another run's write worked in
     * between; a write failing while the store looks healthy is tried twice more, then
     * it is not the disk and the run fails with its error */
    if (gd_store_health(s->store, NULL, 0) == 0 && job->healthy_tries++ >= 2) {
        job->healthy_tries = 0;
        return 0;
    }
    pthread_mutex_lock(&s->mu);
    int first = !job->store_error[0];
    snprintf(job->store_error, sizeof(job->store_error), "%s", err->msg);
    pthread_mutex_unlock(&s->mu);
    if (first)
        gd_jobs_log(s, GD_LOG_ERR, job->id, "%s; trying again every %d ms", err->msg,
                    STORE_RETRY_MS);
    for (int waited = 0; waited < STORE_RETRY_MS; waited += 50) {
        usleep(50 * 1000);
        pthread_mutex_lock(&s->mu);
        int stop = job->request != GD_REQ_NONE || s->stopping;
        pthread_mutex_unlock(&s->mu);
        if (stop) {
            char why[sizeof(err->msg)];
            snprintf(why, sizeof(why), "%s", err->msg);
            gc_error_set(err, GC_ESTOPPED, "stopped while waiting for the store: %s", why);
            return 0;
        }
    }
    return 1;
}

/* Before a run's final status (and step) is written: while the store's writes fail,
 * wait for them to work again, or that status would be lost and the run would show
 * running with no worker behind it. A stopping daemon does not wait: the run stays
 * running in the store, and the next start queues it again. */
static void wait_for_store(struct gd_job *job)
{
    struct gd_jobs *s = job->s;
    while (gd_store_health(s->store, NULL, 0) != 0) {
        pthread_mutex_lock(&s->mu);
        int stopping = s->stopping;
        pthread_mutex_unlock(&s->mu);
        if (stopping)
            return;
        usleep(100 * 1000); /* the store probes by itself once writes stop */
    }
}

/* What a hook returns once its write (tried again while retry_write() said so) ended
 * with ret. A failure: GC_ESTOPPED when a stop request ended the wait (so training
 * ends as canceled, paused or queued, not failed), else the store's error. A success:
 * 0, and a wait for the store, if any, is over. */
static int write_end(struct gd_job *job, int ret, const struct gc_error *err)
{
    if (ret)
        return err && err->code == GC_ESTOPPED ? GC_ESTOPPED : ret;
    struct gd_jobs *s = job->s;
    job->healthy_tries = 0;
    pthread_mutex_lock(&s->mu);
    int was = job->store_error[0] != '\0';
    job->store_error[0] = '\0';
    pthread_mutex_unlock(&s->mu);
    if (was)
        gd_jobs_log(s, GD_LOG_INFO, job->id, "the store takes writes again: training goes on");
    return 0;
}

/* Stores figures of kind (0 training, 1 eval) as write_end() says. */
static int put_figures(struct gd_job *job, int kind, int64_t step, const struct gc_metric *m, int n,
                       struct gc_error *err)
{
    const char *names[64];
    double values[64];
    if (n > 64)
        n = 64;
    for (int i = 0; i < n; i++) {
        names[i] = m[i].name;
        values[i] = m[i].value;
    }
    int ret;
    while (
        (ret = gd_store_metrics_put(job->s->store, job->id, kind, step, names, values, n, err)) &&
        retry_write(job, err))
        ;
    return write_end(job, ret, err);
}

/* Appends " name=value" for each figure to the log line (len of cap bytes used). */
static void append_figures(char *line, size_t cap, int len, const struct gc_metric *m, int n)
{
    for (int i = 0; i < n && len < (int)cap; i++)
        len += snprintf(line + len, cap - (size_t)len, " %s=%.4g", m[i].name, m[i].value);
}

static int hook_metrics(void *ctx, int64_t step, const struct gc_metric *m, int n,
                        struct gc_error *err)
{
    struct gd_job *job = ctx;
    int ret = put_figures(job, 0, step, m, n, err);
    if (ret)
        return ret;
    for (int i = 0; i < n; i++) {
        if (strcmp(m[i].name, "images_per_s") == 0) {
            pthread_mutex_lock(&job->s->mu);
            job->images_per_s = m[i].value;
            pthread_mutex_unlock(&job->s->mu);
        }
    }
    char line[400];
    int len = snprintf(line, sizeof(line), "step %lld", (long long)step);
    append_figures(line, sizeof(line), len, m, n);
    note_progress(job);
    gd_jobs_publish(job->s, job->id, "metrics", step);
    /* the last step's figures are worth a line even when steps are not logged */
    gd_jobs_log(job->s, step == job->steps ? GD_LOG_INFO : GD_LOG_DEBUG, job->id, "%s", line);
    return 0;
}

static int hook_sample(void *ctx, int64_t step, const uint8_t *png, size_t len,
                       struct gc_error *err)
{
    struct gd_job *job = ctx;
    int ret;
    while ((ret = gd_store_sample_put(job->s->store, job->id, step, png, len, err)) &&
           retry_write(job, err))
        ;
    if ((ret = write_end(job, ret, err)))
        return ret;
    gd_jobs_publish(job->s, job->id, "sample", step);
    return 0;
}

static int hook_plane(void *ctx, int64_t step, const uint8_t *bytes, size_t len,
                      struct gc_error *err)
{
    struct gd_job *job = ctx;
    int ret;
    while ((ret = gd_store_plane_put(job->s->store, job->id, step, bytes, len, err)) &&
           retry_write(job, err))
        ;
    return write_end(job, ret, err);
}

static int hook_eval(void *ctx, int64_t step, const struct gc_metric *m, int n,
                     struct gc_error *err)
{
    struct gd_job *job = ctx;
    int ret = put_figures(job, 1, step, m, n, err);
    if (ret)
        return ret;
    char line[400];
    int len = snprintf(line, sizeof(line), "eval at step %lld:", (long long)step);
    append_figures(line, sizeof(line), len, m, n);
    gd_jobs_publish(job->s, job->id, "eval", step);
    gd_jobs_log(job->s, GD_LOG_INFO, job->id, "%s", line);
    if (job->sweep > 0 && step < job->steps)
        gd_sweep_after_eval(job->s, job->sweep, job->id, job->config, step);
    return 0;
}

static int hook_checkpoint(void *ctx, int64_t step, const uint8_t *bytes, size_t len,
                           struct gc_error *err)
{
    struct gd_job *job = ctx;
    int ret;
    while ((ret = gd_store_ckpt_put(job->s->store, job->id, step, bytes, len,
                                    job->s->opts.keep_checkpoints, err)) &&
           retry_write(job, err))
        ;
    if ((ret = write_end(job, ret, err)))
        return ret;
    gd_jobs_publish(job->s, job->id, "checkpoint", step);
    return 0;
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
        while ((ret = gd_store_run_rewind(s->store, job->id, e->to_step, err)) &&
               retry_write(job, err))
            ;
        if ((ret = write_end(job, ret, err)))
            return ret;
        /* the checkpoint gone back to may have been pruned: keep it, the run resumes
         * from it after a restart */
        while (e->ckpt &&
               (ret = gd_store_ckpt_put(s->store, job->id, e->to_step, e->ckpt, e->ckpt_len,
                                        s->opts.keep_checkpoints, err)) &&
               retry_write(job, err))
            ;
        if ((ret = write_end(job, ret, err)))
            return ret;
        pthread_mutex_lock(&s->mu);
        job->counted = e->to_step;
        job->step = e->to_step;
        pthread_mutex_unlock(&s->mu);
    }
    struct gd_watch_record r = {
        .run = job->id, .step = e->step, .to_step = e->to_step, .lr_scale = e->lr_scale};
    snprintf(r.kind, sizeof(r.kind), "%s", e->kind);
    snprintf(r.action, sizeof(r.action), "%s", e->action);
    snprintf(r.message, sizeof(r.message), "%s", e->message);
    while ((ret = gd_store_watch_put(s->store, &r, NULL, err)) && retry_write(job, err))
        ;
    if ((ret = write_end(job, ret, err)))
        return ret;
    gd_jobs_publish(s, job->id, "alert", e->step);
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

void gd_jobs_set_status(struct gd_jobs *s, int64_t id, enum gd_status st, const char *error,
                        int64_t step)
{
    struct gc_error err = {0};
    if (gd_store_run_set_status(s->store, id, st, error, &err))
        gd_jobs_log(s, GD_LOG_ERR, id, "cannot set status %s: %s", gd_status_name(st), err.msg);
    gd_jobs_publish(s, id, "status", step);
}

/* Under ctl_mu, so none of cancel/pause/resume/delete sees the run finished in the
 * store but still training, or the other way round. */
void gd_job_finish(struct gd_jobs *s, struct gd_job *job, enum gd_status st, const char *error,
                   int64_t step, int write)
{
    pthread_mutex_lock(&s->ctl_mu);
    pthread_mutex_lock(&s->mu);
    job->finished = 1;
    pthread_mutex_unlock(&s->mu);
    if (write && s->opts.final)
        s->opts.final(s->opts.final_ctx, job->id, st, step, error);
    else if (write)
        gd_jobs_set_status(s, job->id, st, error, step);
    pthread_mutex_lock(&s->mu);
    active_remove(s, job);
    pthread_mutex_unlock(&s->mu);
    pthread_mutex_unlock(&s->ctl_mu);
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

    if (gd_store_run_get(s->store, job->id, &run, &err)) {
        gd_jobs_log(s, GD_LOG_ERR, job->id, "cannot read run: %s", err.msg);
        gd_job_finish(s, job, GD_FAILED, NULL, 0, 0);
        free(job);
        return GD_FAILED;
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
        gc_error_prefix(&err, "stored spec");
        goto fail;
    }
    job->batch = spec->train.batch_size;
    snprintf(job->name, sizeof(job->name), "%s", run.name);
    job->sweep = run.sweep;
    job->config = run.config;
    job->steps = spec->train.steps;
    if (spec->train.ranks > 1 && !s->opts.comm) {
        /* the daemon, not a rank: the ranks train in a child process */
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

    record_provenance(s, &run);
    gd_jobs_set_status(s, job->id, GD_RUNNING, NULL, step);
    gd_jobs_log(s, GD_LOG_INFO, job->id, "started at step %lld of %lld with %d threads",
                (long long)step, (long long)spec->train.steps, s->threads_per_run);

    struct gc_trainer_opts topts = {
        .threads = s->threads_per_run,
        .cache_dir = s->cache_dir,
        .load_data = 1,
        .comm = s->opts.comm,
    };
    job->t = gc_trainer_create(spec, &topts, &err);
    if (!job->t)
        goto fail;

    uint8_t *ck = NULL;
    size_t cklen = 0;
    int64_t ckstep = 0;
    rc = gd_store_ckpt_get(s->store, job->id, -1, &ck, &cklen, &ckstep, &err);
    if (rc == 0) {
        rc = gc_trainer_restore(job->t, ck, cklen, &err);
        free(ck);
        if (rc) {
            gc_error_prefix(&err, "checkpoint of step %lld", (long long)ckstep);
            goto fail;
        }
        gd_jobs_log(s, GD_LOG_INFO, job->id, "resumed from the checkpoint of step %lld",
                    (long long)ckstep);
    } else if (rc != GC_ENOTFOUND) {
        goto fail;
    }
    gc_error_clear(&err);
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

    if (rc == 0) {
        final = GD_SUCCEEDED;
    } else if (rc == GC_ESTOPPED) {
        pthread_mutex_lock(&s->mu);
        int req = job->request, stopping = s->stopping;
        pthread_mutex_unlock(&s->mu);
        if (req == GD_REQ_CANCEL)
            final = GD_CANCELED;
        else if (req == GD_REQ_PAUSE)
            final = GD_PAUSED;
        else if (stopping)
            final = GD_QUEUED; /* the next start continues from the checkpoint */
        else
            goto fail;
    } else if (rc == GC_ECOMM) {
        /* a rank died, hung or drifted: not the run's fault; it goes on from its newest
         * checkpoint at the next launch */
        wait_for_store(job);
        gd_job_finish(s, job, GD_QUEUED, err.msg, run.step, 1);
        gd_jobs_log(s, GD_LOG_ERR, job->id, "the ranks failed, queued again: %s", err.msg);
        final = GD_QUEUED;
        goto out;
    } else {
        goto fail;
    }
    /* a finished run shows the steps it did; a stopped one keeps its checkpoint's step,
     * which the checkpoint hook already wrote */
    wait_for_store(job);
    if (final == GD_SUCCEEDED || final == GD_CANCELED)
        gd_store_run_set_step(s->store, job->id, step, NULL);
    else
        step = run.step > step ? run.step : step;
    char reason[sizeof(job->stop_reason)];
    pthread_mutex_lock(&s->mu);
    snprintf(reason, sizeof(reason), "%s", job->stop_reason);
    pthread_mutex_unlock(&s->mu);
    gd_job_finish(s, job, final, final == GD_CANCELED && reason[0] ? reason : NULL, step, 1);
    gd_jobs_log(s, GD_LOG_INFO, job->id, "%s at step %lld", gd_status_name(final), (long long)step);
    goto out;

fail:
    /* the engine's code when it trained, else what kept it from training */
    if (!job->t || rc == 0 || rc == GC_ESTOPPED)
        rc = err.code ? err.code : GC_EIO;
    if (!err.msg[0])
        gc_error_set(&err, err.code ? err.code : GC_EIO, "failed");
    wait_for_store(job);
    if (job->t)
        gd_store_run_set_step(s->store, job->id, gc_trainer_step(job->t), NULL);
    final = GD_FAILED;
    gd_job_finish(s, job, GD_FAILED, err.msg, step, 1);
    gd_jobs_log(s, GD_LOG_ERR, job->id, "failed: %s", err.msg);
out:
    if (train_rc)
        *train_rc = rc;
    gc_trainer_destroy(job->t);
    job->t = NULL;
    free(spec);
    gd_run_fini(&run);
    free(job);
    return final;
}
