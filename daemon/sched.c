/* sched.c — the FIFO of queued runs and the worker threads that train them.
 *
 * DESIGN: one mutex (mu) and one condition variable (wake). mu guards the queue (run
 * ids, oldest first), the list of active jobs with their live figures and stop
 * requests, the counters and the stopping flag. Workers sleep on wake until the
 * queue has a run or shutdown begins. mu is never held across training, the store
 * or a log call: a worker takes a run off the queue and onto the active list under
 * mu, then trains without it; control() takes mu briefly once per step to read the
 * stop request and publish the live step.
 *
 * A second mutex (ctl_mu) serializes the user's state changes (cancel, pause,
 * resume, delete): each reads the run's status from the store and writes the next
 * one, and two of them racing on one run (resume + cancel of a paused run) must not
 * both act. A worker writing a run's final status takes it too, so the status in the
 * store and the active list change together. ctl_mu is taken before mu, never the
 * other way round; it is held across store calls but never across training.
 *
 * Where a run is decides who may change it: a run in the queue belongs to the
 * scheduler (cancel/pause take it out at once), a run on the active list to its
 * worker (cancel/pause set a request that control() hands to the engine within one
 * step; the worker writes the final status), any other run to the store alone. */
#include "daemon/sched.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/gan.h"

enum { REQ_NONE = 0, REQ_PAUSE, REQ_CANCEL };

struct job {
    int64_t id;
    struct gd_sched *s;
    struct gc_trainer *t; /* owned by the worker thread */
    int batch;            /* images per step, for the counters */
    int64_t steps;        /* the spec's train.steps */
    int64_t counted;      /* steps already added to the counters; worker only */
    /* guarded by s->mu */
    int request;
    int finished; /* final status being written: no longer live */
    int64_t step;
    double images_per_s;
    char store_error[256]; /* a training write waiting for the store, "" when none */
    int healthy_tries;     /* failed writes while the store looked healthy; worker only */
    struct job *next;
};

struct gd_sched {
    struct gd_store *store;
    struct gd_events *ev;
    struct gd_sched_opts opts;
    char *cache_dir;
    int threads_per_run;

    pthread_mutex_t ctl_mu; /* serializes cancel/pause/resume/delete */
    pthread_mutex_t mu;
    pthread_cond_t wake;
    /* guarded by mu */
    int64_t *queue;
    int nqueue, capqueue;
    struct job *active;
    int stopping;
    int64_t steps_trained, images_trained;

    pthread_t *workers; /* started by gd_sched_start, joined by shutdown */
    int nworkers;
};

static void logf_(struct gd_sched *s, int level, int64_t run, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void logf_(struct gd_sched *s, int level, int64_t run, const char *fmt, ...)
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

static void publish(struct gd_sched *s, int64_t run, const char *type, int64_t step)
{
    struct gc_error err = {0};
    if (s->ev && gd_events_publish(s->ev, run, type, step, &err))
        logf_(s, GD_LOG_WARN, run, "event %s not stored: %s", type, err.msg);
}

/* ---- the queue and the active list (called with mu held) ---- */

static int queue_find(struct gd_sched *s, int64_t id)
{
    for (int i = 0; i < s->nqueue; i++)
        if (s->queue[i] == id)
            return i;
    return -1;
}

static int queue_push(struct gd_sched *s, int64_t id)
{
    if (queue_find(s, id) >= 0)
        return 0;
    if (s->nqueue == s->capqueue) {
        int nc = s->capqueue ? 2 * s->capqueue : 16;
        int64_t *q = realloc(s->queue, (size_t)nc * sizeof(*q));
        if (!q)
            return GC_ENOMEM;
        s->queue = q;
        s->capqueue = nc;
    }
    s->queue[s->nqueue++] = id;
    return 0;
}

static int queue_remove(struct gd_sched *s, int64_t id)
{
    int i = queue_find(s, id);
    if (i < 0)
        return 0;
    memmove(&s->queue[i], &s->queue[i + 1], (size_t)(s->nqueue - i - 1) * sizeof(*s->queue));
    s->nqueue--;
    return 1;
}

static struct job *active_find(struct gd_sched *s, int64_t id)
{
    for (struct job *j = s->active; j; j = j->next)
        if (j->id == id)
            return j;
    return NULL;
}

static void active_remove(struct gd_sched *s, struct job *job)
{
    for (struct job **p = &s->active; *p; p = &(*p)->next) {
        if (*p == job) {
            *p = job->next;
            return;
        }
    }
}

/* ---- training hooks (on the worker's thread) ---- */

/* Adds the steps done since the last call to the counters and publishes the live step. */
static void note_progress(struct job *job)
{
    int64_t step = gc_trainer_step(job->t);
    struct gd_sched *s = job->s;
    pthread_mutex_lock(&s->mu);
    if (step > job->counted) {
        s->steps_trained += step - job->counted;
        s->images_trained += (step - job->counted) * job->batch;
    }
    job->counted = step;
    job->step = step;
    pthread_mutex_unlock(&s->mu);
}

static int hook_control(void *ctx)
{
    struct job *job = ctx;
    note_progress(job);
    pthread_mutex_lock(&job->s->mu);
    int r = GC_CONTINUE;
    if (job->request == REQ_CANCEL)
        r = GC_STOP_CANCEL;
    else if (job->request == REQ_PAUSE || job->s->stopping)
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
static int retry_write(struct job *job, struct gc_error *err)
{
    struct gd_sched *s = job->s;
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
        logf_(s, GD_LOG_ERR, job->id, "%s; trying again every %d ms", err->msg, STORE_RETRY_MS);
    for (int waited = 0; waited < STORE_RETRY_MS; waited += 50) {
        usleep(50 * 1000);
        pthread_mutex_lock(&s->mu);
        int stop = job->request != REQ_NONE || s->stopping;
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
static void wait_for_store(struct job *job)
{
    struct gd_sched *s = job->s;
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
static int write_end(struct job *job, int ret, const struct gc_error *err)
{
    if (ret)
        return err && err->code == GC_ESTOPPED ? GC_ESTOPPED : ret;
    struct gd_sched *s = job->s;
    job->healthy_tries = 0;
    pthread_mutex_lock(&s->mu);
    int was = job->store_error[0] != '\0';
    job->store_error[0] = '\0';
    pthread_mutex_unlock(&s->mu);
    if (was)
        logf_(s, GD_LOG_INFO, job->id, "the store takes writes again: training goes on");
    return 0;
}

/* Stores figures of kind (0 training, 1 eval) as write_end() says. */
static int put_figures(struct job *job, int kind, int64_t step, const struct gc_metric *m, int n,
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
    struct job *job = ctx;
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
    publish(job->s, job->id, "metrics", step);
    /* the last step's figures are worth a line even when steps are not logged */
    logf_(job->s, step == job->steps ? GD_LOG_INFO : GD_LOG_DEBUG, job->id, "%s", line);
    return 0;
}

static int hook_sample(void *ctx, int64_t step, const uint8_t *png, size_t len,
                       struct gc_error *err)
{
    struct job *job = ctx;
    int ret;
    while ((ret = gd_store_sample_put(job->s->store, job->id, step, png, len, err)) &&
           retry_write(job, err))
        ;
    if ((ret = write_end(job, ret, err)))
        return ret;
    publish(job->s, job->id, "sample", step);
    return 0;
}

static int hook_eval(void *ctx, int64_t step, const struct gc_metric *m, int n,
                     struct gc_error *err)
{
    struct job *job = ctx;
    int ret = put_figures(job, 1, step, m, n, err);
    if (ret)
        return ret;
    char line[400];
    int len = snprintf(line, sizeof(line), "eval at step %lld:", (long long)step);
    append_figures(line, sizeof(line), len, m, n);
    publish(job->s, job->id, "eval", step);
    logf_(job->s, GD_LOG_INFO, job->id, "%s", line);
    return 0;
}

static int hook_checkpoint(void *ctx, int64_t step, const uint8_t *bytes, size_t len,
                           struct gc_error *err)
{
    struct job *job = ctx;
    int ret;
    while ((ret = gd_store_ckpt_put(job->s->store, job->id, step, bytes, len,
                                    job->s->opts.keep_checkpoints, err)) &&
           retry_write(job, err))
        ;
    if ((ret = write_end(job, ret, err)))
        return ret;
    publish(job->s, job->id, "checkpoint", step);
    return 0;
}

static void hook_log(void *ctx, const char *msg)
{
    struct job *job = ctx;
    logf_(job->s, GD_LOG_INFO, job->id, "%s", msg);
}

/* ---- one run from start to end ---- */

static void set_status(struct gd_sched *s, int64_t id, enum gd_status st, const char *error,
                       int64_t step)
{
    struct gc_error err = {0};
    if (gd_store_run_set_status(s->store, id, st, error, &err))
        logf_(s, GD_LOG_ERR, id, "cannot set status %s: %s", gd_status_name(st), err.msg);
    publish(s, id, "status", step);
}

/* Writes a job's final status and takes it off the active list as one step for
 * cancel/pause/resume/delete (under ctl_mu), so none of them sees the run finished
 * in the store but still training, or the other way round. */
static void finish(struct gd_sched *s, struct job *job, enum gd_status st, const char *error,
                   int64_t step, int write)
{
    pthread_mutex_lock(&s->ctl_mu);
    pthread_mutex_lock(&s->mu);
    job->finished = 1;
    pthread_mutex_unlock(&s->mu);
    if (write)
        set_status(s, job->id, st, error, step);
    pthread_mutex_lock(&s->mu);
    active_remove(s, job);
    pthread_mutex_unlock(&s->mu);
    pthread_mutex_unlock(&s->ctl_mu);
}

/* Trains job->id until it ends, stops or fails, writes the final status and takes
 * the job off the active list; returns the status written. Never
 * takes the daemon down: every failure ends as a failed run with its message. */
static enum gd_status run_job(struct gd_sched *s, struct job *job)
{
    struct gc_error err = {0};
    struct gd_run run = {0};
    struct gc_spec *spec = NULL;
    enum gd_status final = GD_FAILED;
    int64_t step = 0;

    if (gd_store_run_get(s->store, job->id, &run, &err)) {
        logf_(s, GD_LOG_ERR, job->id, "cannot read run: %s", err.msg);
        finish(s, job, GD_FAILED, NULL, 0, 0);
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
    job->steps = spec->train.steps;

    set_status(s, job->id, GD_RUNNING, NULL, step);
    logf_(s, GD_LOG_INFO, job->id, "started at step %lld of %lld with %d threads", (long long)step,
          (long long)spec->train.steps, s->threads_per_run);

    struct gc_trainer_opts topts = {
        .threads = s->threads_per_run,
        .cache_dir = s->cache_dir,
        .load_data = 1,
    };
    job->t = gc_trainer_create(spec, &topts, &err);
    if (!job->t)
        goto fail;

    uint8_t *ck = NULL;
    size_t cklen = 0;
    int64_t ckstep = 0;
    int rc = gd_store_ckpt_get(s->store, job->id, -1, &ck, &cklen, &ckstep, &err);
    if (rc == 0) {
        rc = gc_trainer_restore(job->t, ck, cklen, &err);
        free(ck);
        if (rc) {
            gc_error_prefix(&err, "checkpoint of step %lld", (long long)ckstep);
            goto fail;
        }
        logf_(s, GD_LOG_INFO, job->id, "resumed from the checkpoint of step %lld",
              (long long)ckstep);
    } else if (rc != GC_ENOTFOUND) {
        goto fail;
    }
    gc_error_clear(&err);
    job->counted = gc_trainer_step(job->t);
    pthread_mutex_lock(&s->mu);
    job->step = job->counted;
    pthread_mutex_unlock(&s->mu);

    struct gc_train_hooks hooks = {
        .ctx = job,
        .metrics = hook_metrics,
        .sample = hook_sample,
        .eval = hook_eval,
        .checkpoint = hook_checkpoint,
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
        if (req == REQ_CANCEL)
            final = GD_CANCELED;
        else if (req == REQ_PAUSE)
            final = GD_PAUSED;
        else if (stopping)
            final = GD_QUEUED; /* the next start continues from the checkpoint */
        else
            goto fail;
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
    finish(s, job, final, NULL, step, 1);
    logf_(s, GD_LOG_INFO, job->id, "%s at step %lld", gd_status_name(final), (long long)step);
    goto out;

fail:
    if (!err.msg[0])
        gc_error_set(&err, err.code ? err.code : GC_EIO, "failed");
    wait_for_store(job);
    if (job->t)
        gd_store_run_set_step(s->store, job->id, gc_trainer_step(job->t), NULL);
    final = GD_FAILED;
    finish(s, job, GD_FAILED, err.msg, step, 1);
    logf_(s, GD_LOG_ERR, job->id, "failed: %s", err.msg);
out:
    gc_trainer_destroy(job->t);
    job->t = NULL;
    free(spec);
    gd_run_fini(&run);
    return final;
}

static void *worker_main(void *arg)
{
    struct gd_sched *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (!s->stopping && s->nqueue == 0)
            pthread_cond_wait(&s->wake, &s->mu);
        if (s->stopping) {
            pthread_mutex_unlock(&s->mu);
            return NULL;
        }
        struct job *job = calloc(1, sizeof(*job));
        if (!job) {
            pthread_mutex_unlock(&s->mu);
            sleep(1); /* out of memory: the run stays queued, try again later */
            continue;
        }
        job->id = s->queue[0];
        job->s = s;
        queue_remove(s, job->id);
        job->next = s->active;
        s->active = job;
        pthread_mutex_unlock(&s->mu);

        run_job(s, job);
        free(job);
    }
}

/* ---- public ---- */

struct gd_sched *gd_sched_create(struct gd_store *store, struct gd_events *ev,
                                 const struct gd_sched_opts *opts, struct gc_error *err)
{
    struct gd_sched *s = calloc(1, sizeof(*s));
    if (!s) {
        gc_error_set(err, GC_ENOMEM, "sched: out of memory");
        return NULL;
    }
    s->store = store;
    s->ev = ev;
    s->opts = *opts;
    if (s->opts.workers < 1)
        s->opts.workers = 1;
    if (s->opts.threads < 1) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        s->opts.threads = n > 0 ? (int)n : 1;
    }
    /* runs training at once share the cores instead of oversubscribing them */
    s->threads_per_run = s->opts.threads / s->opts.workers;
    if (s->threads_per_run < 1)
        s->threads_per_run = 1;
    if (opts->data_dir && opts->data_dir[0]) {
        size_t n = strlen(opts->data_dir) + sizeof("/cache");
        s->cache_dir = malloc(n);
        if (!s->cache_dir) {
            free(s);
            gc_error_set(err, GC_ENOMEM, "sched: out of memory");
            return NULL;
        }
        snprintf(s->cache_dir, n, "%s/cache", opts->data_dir);
        if (mkdir(s->cache_dir, 0700) && errno != EEXIST) {
            /* no cache only costs time: the classifier is trained again */
            free(s->cache_dir);
            s->cache_dir = NULL;
        }
    }
    pthread_mutex_init(&s->ctl_mu, NULL);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->wake, NULL);
    return s;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int gd_sched_start(struct gd_sched *s, struct gc_error *err)
{
    int64_t *running = NULL, *queued = NULL;
    int nr = 0, nq = 0;
    if (gd_store_run_ids(s->store, GD_RUNNING, &running, &nr, err) ||
        gd_store_run_ids(s->store, GD_QUEUED, &queued, &nq, err)) {
        free(running);
        return err ? err->code : GC_EIO;
    }
    /* runs left running were cut off by a crash: queue them again, they continue
     * from their newest checkpoint; everything goes in creation order */
    int64_t *all = malloc((size_t)(nr + nq + 1) * sizeof(*all));
    if (!all) {
        free(running);
        free(queued);
        return gc_error_set(err, GC_ENOMEM, "sched: out of memory");
    }
    for (int i = 0; i < nr; i++) {
        all[i] = running[i];
        if (gd_store_run_set_status(s->store, running[i], GD_QUEUED, NULL, err)) {
            free(all);
            free(running);
            free(queued);
            return err ? err->code : GC_EIO;
        }
        logf_(s, GD_LOG_INFO, running[i], "was running at the last stop: queued again");
    }
    if (nq)
        memcpy(all + nr, queued, (size_t)nq * sizeof(*all));
    qsort(all, (size_t)(nr + nq), sizeof(*all), cmp_id);
    free(running);
    free(queued);

    int ret = 0;
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < nr + nq && !ret; i++)
        if (queue_push(s, all[i]))
            ret = gc_error_set(err, GC_ENOMEM, "sched: out of memory");
    /* a queue restored after runs were submitted keeps its order by id */
    if (s->nqueue)
        qsort(s->queue, (size_t)s->nqueue, sizeof(*s->queue), cmp_id);
    pthread_mutex_unlock(&s->mu);
    free(all);
    if (ret)
        return ret;

    s->workers = calloc((size_t)s->opts.workers, sizeof(*s->workers));
    if (!s->workers)
        return gc_error_set(err, GC_ENOMEM, "sched: out of memory");
    for (int i = 0; i < s->opts.workers; i++) {
        int rc = pthread_create(&s->workers[i], NULL, worker_main, s);
        if (rc) {
            gc_error_set(err, GC_ENOMEM, "sched: cannot start a worker: %s", strerror(rc));
            gd_sched_shutdown(s);
            return GC_ENOMEM;
        }
        s->nworkers++;
    }
    return 0;
}

void gd_sched_shutdown(struct gd_sched *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->mu);
    for (int i = 0; i < s->nworkers; i++)
        pthread_join(s->workers[i], NULL);
    s->nworkers = 0;
}

void gd_sched_destroy(struct gd_sched *s)
{
    if (!s)
        return;
    gd_sched_shutdown(s);
    free(s->workers);
    free(s->queue);
    free(s->cache_dir);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->ctl_mu);
    free(s);
}

int gd_sched_submit(struct gd_sched *s, const struct gc_spec *spec, const char *spec_json,
                    int64_t *id, struct gc_error *err)
{
    int64_t rid = 0;
    int ret = gd_store_run_insert(s->store, spec->name, spec_json, spec->train.steps, &rid, err);
    if (ret)
        return ret;
    pthread_mutex_lock(&s->mu);
    ret = queue_push(s, rid);
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->mu);
    if (ret) {
        /* the run is stored as queued: the next start picks it up */
        return gc_error_set(err, GC_ENOMEM, "sched: out of memory");
    }
    publish(s, rid, "status", 0);
    if (id)
        *id = rid;
    return 0;
}

/* Where a run is now: 1 active, 2 queued (and taken out of the queue when take), 0
 * neither. Called with ctl_mu held. */
static int locate(struct gd_sched *s, int64_t id, int take, int request)
{
    int where = 0;
    pthread_mutex_lock(&s->mu);
    struct job *j = active_find(s, id);
    if (j) {
        if (request && j->request != REQ_CANCEL)
            j->request = request;
        where = 1;
    } else if (take ? queue_remove(s, id) : queue_find(s, id) >= 0) {
        where = 2;
    }
    pthread_mutex_unlock(&s->mu);
    return where;
}

static int stored_status(struct gd_sched *s, int64_t id, enum gd_status *st, int64_t *step,
                         struct gc_error *err)
{
    struct gd_run r;
    int ret = gd_store_run_get(s->store, id, &r, err);
    if (ret)
        return ret;
    *st = r.status;
    *step = r.step;
    gd_run_fini(&r);
    return 0;
}

/* Cancel and pause share their shape: active -> request, queued -> at once, else by
 * the stored status. */
static int stop_run(struct gd_sched *s, int64_t id, int request, struct gc_error *err)
{
    enum gd_status st;
    int64_t step;
    pthread_mutex_lock(&s->ctl_mu);
    int ret = stored_status(s, id, &st, &step, err);
    if (ret)
        goto out;
    int where = locate(s, id, 1, request);
    if (where == 1)
        goto out; /* the worker writes the status within one step */
    enum gd_status to = request == REQ_CANCEL ? GD_CANCELED : GD_PAUSED;
    if (where == 2 || st == GD_QUEUED || (request == REQ_CANCEL && st == GD_PAUSED)) {
        if ((ret = gd_store_run_set_status(s->store, id, to, NULL, err)))
            goto out;
        publish(s, id, "status", step);
        logf_(s, GD_LOG_INFO, id, "%s while %s", gd_status_name(to), gd_status_name(st));
        goto out;
    }
    ret = gc_error_set(err, GC_ESTATE, "run %lld is %s: it cannot be %s", (long long)id,
                       gd_status_name(st), request == REQ_CANCEL ? "canceled" : "paused");
out:
    pthread_mutex_unlock(&s->ctl_mu);
    return ret;
}

int gd_sched_cancel(struct gd_sched *s, int64_t id, struct gc_error *err)
{
    return stop_run(s, id, REQ_CANCEL, err);
}

int gd_sched_pause(struct gd_sched *s, int64_t id, struct gc_error *err)
{
    return stop_run(s, id, REQ_PAUSE, err);
}

int gd_sched_resume(struct gd_sched *s, int64_t id, struct gc_error *err)
{
    enum gd_status st;
    int64_t step;
    pthread_mutex_lock(&s->ctl_mu);
    int ret = stored_status(s, id, &st, &step, err);
    if (ret)
        goto out;
    if (st != GD_PAUSED || locate(s, id, 0, REQ_NONE)) {
        ret = gc_error_set(err, GC_ESTATE, "run %lld is %s: only a paused run can be resumed",
                           (long long)id, gd_status_name(st == GD_PAUSED ? GD_RUNNING : st));
        goto out;
    }
    if ((ret = gd_store_run_set_status(s->store, id, GD_QUEUED, NULL, err)))
        goto out;
    pthread_mutex_lock(&s->mu);
    ret = queue_push(s, id);
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->mu);
    if (ret) {
        ret = gc_error_set(err, GC_ENOMEM, "sched: out of memory");
        goto out;
    }
    publish(s, id, "status", step);
    logf_(s, GD_LOG_INFO, id, "resumed: queued");
out:
    pthread_mutex_unlock(&s->ctl_mu);
    return ret;
}

int gd_sched_delete(struct gd_sched *s, int64_t id, struct gc_error *err)
{
    enum gd_status st;
    int64_t step;
    pthread_mutex_lock(&s->ctl_mu);
    int ret = stored_status(s, id, &st, &step, err);
    if (ret)
        goto out;
    if (st == GD_QUEUED || st == GD_RUNNING || locate(s, id, 0, REQ_NONE)) {
        ret = gc_error_set(err, GC_ESTATE, "run %lld is %s: cancel or pause it before deleting it",
                           (long long)id, gd_status_name(st));
        goto out;
    }
    ret = gd_store_run_delete(s->store, id, err);
    if (!ret)
        logf_(s, GD_LOG_INFO, id, "deleted");
out:
    pthread_mutex_unlock(&s->ctl_mu);
    return ret;
}

int gd_sched_live(struct gd_sched *s, int64_t id, struct gd_live *out)
{
    int ret = GC_ENOTFOUND;
    pthread_mutex_lock(&s->mu);
    struct job *j = active_find(s, id);
    if (j && !j->finished) {
        out->step = j->step;
        out->images_per_s = j->images_per_s;
        ret = 0;
    }
    pthread_mutex_unlock(&s->mu);
    return ret;
}

int gd_sched_live_error(struct gd_sched *s, int64_t id, char *msg, size_t cap)
{
    int ret = GC_ENOTFOUND;
    pthread_mutex_lock(&s->mu);
    struct job *j = active_find(s, id);
    if (j && !j->finished && j->store_error[0]) {
        if (msg && cap)
            snprintf(msg, cap, "%s", j->store_error);
        ret = 0;
    }
    pthread_mutex_unlock(&s->mu);
    return ret;
}

int gd_sched_run_now(struct gd_sched *s, int64_t id, struct gc_error *err)
{
    enum gd_status st;
    int64_t step;
    int ret = stored_status(s, id, &st, &step, err);
    if (ret)
        return ret;
    if (st == GD_SUCCEEDED || st == GD_FAILED || st == GD_CANCELED)
        return gc_error_set(err, GC_ESTATE, "run %lld is %s", (long long)id, gd_status_name(st));
    struct job *job = calloc(1, sizeof(*job));
    if (!job)
        return gc_error_set(err, GC_ENOMEM, "sched: out of memory");
    job->id = id;
    job->s = s;
    pthread_mutex_lock(&s->mu);
    if (active_find(s, id)) {
        pthread_mutex_unlock(&s->mu);
        free(job);
        return gc_error_set(err, GC_ESTATE, "run %lld is already training", (long long)id);
    }
    queue_remove(s, id);
    job->next = s->active;
    s->active = job;
    pthread_mutex_unlock(&s->mu);

    enum gd_status final = run_job(s, job);
    free(job);
    if (final == GD_SUCCEEDED)
        return 0;
    struct gd_run r;
    if (gd_store_run_get(s->store, id, &r, err))
        return err ? err->code : GC_EIO;
    if (final == GD_FAILED)
        ret = gc_error_set(err, GC_EIO, "%s", r.error ? r.error : "the run failed");
    else
        ret = gc_error_set(err, GC_ESTOPPED, "the run stopped at step %lld and is %s",
                           (long long)r.step, gd_status_name(final));
    gd_run_fini(&r);
    return ret;
}

void gd_sched_stats(struct gd_sched *s, struct gd_sched_stats *out)
{
    pthread_mutex_lock(&s->mu);
    out->running = 0;
    for (struct job *j = s->active; j; j = j->next)
        out->running++;
    out->queued = s->nqueue;
    out->steps_trained = s->steps_trained;
    out->images_trained = s->images_trained;
    pthread_mutex_unlock(&s->mu);
}
