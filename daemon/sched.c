/* sched.c — the FIFO of queued runs, the worker threads that take runs from it, and
 * the user's verbs on runs (submit, cancel, pause, resume, delete, run now).
 *
 * What a worker does with the run it takes is job.c's (job.h). The compute threads are
 * shared out here: each of the --workers runs training at once gets threads/workers of
 * them, so they never use more threads than the machine has cores.
 *
 * DESIGN: the mutex jobs.mu (job.h) also guards the queue (run ids, oldest first) and
 * goes with one condition variable (wake). Workers sleep on wake until the queue has a
 * run or shutdown begins; a worker takes a run off the queue and onto the active list
 * under mu, then trains it without. mu is never held across training, the store or a
 * log call.
 *
 * jobs.ctl_mu serializes the user's state changes (cancel, pause, resume, delete):
 * each reads the run's status from the store and writes the next one, and two of them
 * racing on one run (resume + cancel of a paused run) must not both act. A worker
 * writing a run's final status takes it too, so the status in the store and the active
 * list change together. ctl_mu is taken before mu, never the other way round; it is
 * held across store calls but never across training.
 *
 * Where a run is decides who may change it: a run in the queue belongs to the
 * scheduler (cancel/pause take it out at once), a run on the active list to its
 * worker (cancel/pause set a request that the job hands to the engine within one
 * step; the worker writes the final status), any other run to the store alone. */
#include "daemon/sched.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/job.h"

struct gd_sched {
    struct gd_jobs jobs; /* what the jobs share; its mu guards the queue too */
    pthread_cond_t wake; /* with jobs.mu: the queue has a run, or stopping */
    /* guarded by jobs.mu */
    int64_t *queue;
    int nqueue, capqueue;

    pthread_t *workers; /* started by gd_sched_start, joined by shutdown */
    int nworkers;
};

/* ---- the queue (called with jobs.mu held) ---- */

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

/* Queues run id and wakes a worker, taking jobs.mu itself; GC_ENOMEM when the queue
 * cannot grow. */
static int enqueue(struct gd_sched *s, int64_t id)
{
    pthread_mutex_lock(&s->jobs.mu);
    int ret = queue_push(s, id);
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->jobs.mu);
    return ret;
}

/* ---- the workers ---- */

/* A worker: takes the oldest queued run onto the active list and trains it, until
 * shutdown. */
static void *worker_main(void *arg)
{
    struct gd_sched *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->jobs.mu);
        while (!s->jobs.stopping && s->nqueue == 0)
            pthread_cond_wait(&s->wake, &s->jobs.mu);
        if (s->jobs.stopping) {
            pthread_mutex_unlock(&s->jobs.mu);
            return NULL;
        }
        struct gd_job *job = gd_jobs_add(&s->jobs, s->queue[0]);
        if (!job) {
            pthread_mutex_unlock(&s->jobs.mu);
            sleep(1); /* out of memory: the run stays queued, try again later */
            continue;
        }
        queue_remove(s, job->id);
        pthread_mutex_unlock(&s->jobs.mu);

        gd_job_run(job);
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
    s->jobs.store = store;
    s->jobs.ev = ev;
    s->jobs.sched = s;
    s->jobs.opts = *opts;
    if (s->jobs.opts.workers < 1)
        s->jobs.opts.workers = 1;
    if (s->jobs.opts.threads < 1) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        s->jobs.opts.threads = n > 0 ? (int)n : 1;
    }
    /* runs training at once share the cores instead of oversubscribing them */
    s->jobs.threads_per_run = s->jobs.opts.threads / s->jobs.opts.workers;
    if (s->jobs.threads_per_run < 1)
        s->jobs.threads_per_run = 1;
    if (opts->data_dir && opts->data_dir[0]) {
        size_t n = strlen(opts->data_dir) + sizeof("/cache");
        s->jobs.cache_dir = malloc(n);
        if (!s->jobs.cache_dir) {
            free(s);
            gc_error_set(err, GC_ENOMEM, "sched: out of memory");
            return NULL;
        }
        snprintf(s->jobs.cache_dir, n, "%s/cache", opts->data_dir);
        if (mkdir(s->jobs.cache_dir, 0700) && errno != EEXIST) {
            /* no cache only costs time: the classifier is trained again */
            free(s->jobs.cache_dir);
            s->jobs.cache_dir = NULL;
        }
    }
    pthread_mutex_init(&s->jobs.ctl_mu, NULL);
    pthread_mutex_init(&s->jobs.mu, NULL);
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
    if (gd_store_run_ids(s->jobs.store, GD_RUNNING, &running, &nr, err) ||
        gd_store_run_ids(s->jobs.store, GD_QUEUED, &queued, &nq, err)) {
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
        if (gd_store_run_set_status(s->jobs.store, running[i], GD_QUEUED, NULL, err)) {
            free(all);
            free(running);
            free(queued);
            return err ? err->code : GC_EIO;
        }
        gd_jobs_log(&s->jobs, GD_LOG_INFO, running[i],
                    "was running at the last stop: queued again");
    }
    if (nq)
        memcpy(all + nr, queued, (size_t)nq * sizeof(*all));
    qsort(all, (size_t)(nr + nq), sizeof(*all), cmp_id);
    free(running);
    free(queued);

    int ret = 0;
    pthread_mutex_lock(&s->jobs.mu);
    for (int i = 0; i < nr + nq && !ret; i++)
        if (queue_push(s, all[i]))
            ret = gc_error_set(err, GC_ENOMEM, "sched: out of memory");
    /* a queue restored after runs were submitted keeps its order by id */
    if (s->nqueue)
        qsort(s->queue, (size_t)s->nqueue, sizeof(*s->queue), cmp_id);
    pthread_mutex_unlock(&s->jobs.mu);
    free(all);
    if (ret)
        return ret;

    s->workers = calloc((size_t)s->jobs.opts.workers, sizeof(*s->workers));
    if (!s->workers)
        return gc_error_set(err, GC_ENOMEM, "sched: out of memory");
    for (int i = 0; i < s->jobs.opts.workers; i++) {
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
    pthread_mutex_lock(&s->jobs.mu);
    s->jobs.stopping = 1;
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->jobs.mu);
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
    free(s->jobs.cache_dir);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->jobs.mu);
    pthread_mutex_destroy(&s->jobs.ctl_mu);
    free(s);
}

int gd_sched_submit(struct gd_sched *s, const struct gc_spec *spec, const char *spec_json,
                    int64_t *id, struct gc_error *err)
{
    int64_t rid = 0;
    int ret =
        gd_store_run_insert(s->jobs.store, spec->name, spec_json, spec->train.steps, &rid, err);
    if (ret)
        return ret;
    ret = enqueue(s, rid);
    if (ret) {
        /* the run is stored as queued: the next start picks it up */
        return gc_error_set(err, GC_ENOMEM, "sched: out of memory");
    }
    gd_jobs_publish(&s->jobs, rid, "status", 0);
    if (id)
        *id = rid;
    return 0;
}

int gd_sched_submit_sweep(struct gd_sched *s, const struct gd_sweep *w,
                          const struct gd_sweep_run *runs, int n, int64_t *id, int64_t *ids,
                          struct gc_error *err)
{
    int ret = gd_store_sweep_insert(s->jobs.store, w, runs, n, id, ids, err);
    if (ret)
        return ret;
    for (int i = 0; i < n; i++) {
        if (enqueue(s, ids[i])) /* stored as queued: the next start picks them up */
            return gc_error_set(err, GC_ENOMEM, "sched: out of memory");
        gd_jobs_publish(&s->jobs, ids[i], "status", 0);
    }
    gd_jobs_log(&s->jobs, GD_LOG_INFO, 0, "sweep %lld: %d runs queued", (long long)*id, n);
    return 0;
}

/* Where a run is now: 1 active, 2 queued (and taken out of the queue when take), 0
 * neither. An active run gets the request (and reason, when not NULL). Called with
 * ctl_mu held. */
static int locate_why(struct gd_sched *s, int64_t id, int take, enum gd_job_request request,
                      const char *reason)
{
    int where = 0;
    pthread_mutex_lock(&s->jobs.mu);
    struct gd_job *j = gd_jobs_find(&s->jobs, id);
    if (j) {
        if (request && j->request != GD_REQ_CANCEL) {
            j->request = request;
            if (reason)
                snprintf(j->stop_reason, sizeof(j->stop_reason), "%s", reason);
        }
        where = 1;
    } else if (take ? queue_remove(s, id) : queue_find(s, id) >= 0) {
        where = 2;
    }
    pthread_mutex_unlock(&s->jobs.mu);
    return where;
}

static int locate(struct gd_sched *s, int64_t id, int take, enum gd_job_request request)
{
    return locate_why(s, id, take, request, NULL);
}

static int stored_status(struct gd_sched *s, int64_t id, enum gd_status *st, int64_t *step,
                         struct gc_error *err)
{
    struct gd_run r;
    int ret = gd_store_run_get(s->jobs.store, id, &r, err);
    if (ret)
        return ret;
    *st = r.status;
    *step = r.step;
    gd_run_fini(&r);
    return 0;
}

/* Cancel and pause share their shape: active -> request, queued -> at once, else by
 * the stored status. A reason (a sweep's early stopping) goes with a cancel as the
 * run's error; with one, a run that has ended already is no error. */
static int stop_run(struct gd_sched *s, int64_t id, enum gd_job_request request, const char *reason,
                    struct gc_error *err)
{
    enum gd_status st;
    int64_t step;
    pthread_mutex_lock(&s->jobs.ctl_mu);
    int ret = stored_status(s, id, &st, &step, err);
    if (ret)
        goto out;
    int where = locate_why(s, id, 1, request, reason);
    if (where == 1)
        goto out; /* the worker writes the status (with the reason) within one step */
    enum gd_status to = request == GD_REQ_CANCEL ? GD_CANCELED : GD_PAUSED;
    if (where == 2 || st == GD_QUEUED || (request == GD_REQ_CANCEL && st == GD_PAUSED)) {
        if ((ret = gd_store_run_set_status(s->jobs.store, id, to, reason, err)))
            goto out;
        gd_jobs_publish(&s->jobs, id, "status", step);
        gd_jobs_log(&s->jobs, GD_LOG_INFO, id, "%s while %s%s%s", gd_status_name(to),
                    gd_status_name(st), reason ? ": " : "", reason ? reason : "");
        goto out;
    }
    if (!reason)
        ret = gc_error_set(err, GC_ESTATE, "run %lld is %s: it cannot be %s", (long long)id,
                           gd_status_name(st), request == GD_REQ_CANCEL ? "canceled" : "paused");
out:
    pthread_mutex_unlock(&s->jobs.ctl_mu);
    return ret;
}

int gd_sched_stop(struct gd_sched *s, int64_t id, const char *reason, struct gc_error *err)
{
    return stop_run(s, id, GD_REQ_CANCEL, reason, err);
}

int gd_sched_cancel(struct gd_sched *s, int64_t id, struct gc_error *err)
{
    return stop_run(s, id, GD_REQ_CANCEL, NULL, err);
}

int gd_sched_pause(struct gd_sched *s, int64_t id, struct gc_error *err)
{
    return stop_run(s, id, GD_REQ_PAUSE, NULL, err);
}

int gd_sched_resume(struct gd_sched *s, int64_t id, struct gc_error *err)
{
    enum gd_status st;
    int64_t step;
    pthread_mutex_lock(&s->jobs.ctl_mu);
    int ret = stored_status(s, id, &st, &step, err);
    if (ret)
        goto out;
    if (st != GD_PAUSED || locate(s, id, 0, GD_REQ_NONE)) {
        ret = gc_error_set(err, GC_ESTATE, "run %lld is %s: only a paused run can be resumed",
                           (long long)id, gd_status_name(st == GD_PAUSED ? GD_RUNNING : st));
        goto out;
    }
    if ((ret = gd_store_run_set_status(s->jobs.store, id, GD_QUEUED, NULL, err)))
        goto out;
    ret = enqueue(s, id);
    if (ret) {
        ret = gc_error_set(err, GC_ENOMEM, "sched: out of memory");
        goto out;
    }
    gd_jobs_publish(&s->jobs, id, "status", step);
    gd_jobs_log(&s->jobs, GD_LOG_INFO, id, "resumed: queued");
out:
    pthread_mutex_unlock(&s->jobs.ctl_mu);
    return ret;
}

int gd_sched_delete(struct gd_sched *s, int64_t id, struct gc_error *err)
{
    enum gd_status st;
    int64_t step;
    pthread_mutex_lock(&s->jobs.ctl_mu);
    int ret = stored_status(s, id, &st, &step, err);
    if (ret)
        goto out;
    if (st == GD_QUEUED || st == GD_RUNNING || locate(s, id, 0, GD_REQ_NONE)) {
        ret = gc_error_set(err, GC_ESTATE, "run %lld is %s: cancel or pause it before deleting it",
                           (long long)id, gd_status_name(st));
        goto out;
    }
    ret = gd_store_run_delete(s->jobs.store, id, err);
    if (!ret)
        gd_jobs_log(&s->jobs, GD_LOG_INFO, id, "deleted");
out:
    pthread_mutex_unlock(&s->jobs.ctl_mu);
    return ret;
}

int gd_sched_live(struct gd_sched *s, int64_t id, struct gd_live *out)
{
    int ret = GC_ENOTFOUND;
    pthread_mutex_lock(&s->jobs.mu);
    struct gd_job *j = gd_jobs_find(&s->jobs, id);
    if (j && !j->finished) {
        out->step = j->step;
        out->images_per_s = j->images_per_s;
        ret = 0;
    }
    pthread_mutex_unlock(&s->jobs.mu);
    return ret;
}

int gd_sched_live_error(struct gd_sched *s, int64_t id, char *msg, size_t cap)
{
    int ret = GC_ENOTFOUND;
    pthread_mutex_lock(&s->jobs.mu);
    struct gd_job *j = gd_jobs_find(&s->jobs, id);
    if (j && !j->finished && j->store_error[0]) {
        if (msg && cap)
            snprintf(msg, cap, "%s", j->store_error);
        ret = 0;
    }
    pthread_mutex_unlock(&s->jobs.mu);
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
    pthread_mutex_lock(&s->jobs.mu);
    if (gd_jobs_find(&s->jobs, id)) {
        pthread_mutex_unlock(&s->jobs.mu);
        return gc_error_set(err, GC_ESTATE, "run %lld is already training", (long long)id);
    }
    struct gd_job *job = gd_jobs_add(&s->jobs, id);
    if (job)
        queue_remove(s, id);
    pthread_mutex_unlock(&s->jobs.mu);
    if (!job)
        return gc_error_set(err, GC_ENOMEM, "sched: out of memory");

    enum gd_status final = gd_job_run(job);
    if (final == GD_SUCCEEDED)
        return 0;
    struct gd_run r;
    if (gd_store_run_get(s->jobs.store, id, &r, err))
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
    pthread_mutex_lock(&s->jobs.mu);
    out->running = 0;
    for (struct gd_job *j = s->jobs.active; j; j = j->next)
        out->running++;
    out->queued = s->nqueue;
    out->steps_trained = s->jobs.steps_trained;
    out->images_trained = s->jobs.images_trained;
    pthread_mutex_unlock(&s->jobs.mu);
}
