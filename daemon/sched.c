/* sched.c — the worker threads that claim runs from the store's queue, and the user's
 * verbs on runs (submit, cancel, pause, resume, delete, run now).
 *
 * What a worker does with the run it claims is job.c's (job.h); the keeper that keeps
 * this daemon among the store's workers is keeper.c's. The compute threads are shared
 * out here: each of the --workers runs training at once gets threads/workers of them,
 * so they never use more threads than the machine has cores.
 *
 * DESIGN: the queue is the store's (queued runs, oldest first, claimed with
 * gd_store_run_claim, which never hands one run to two claimers). The mutex jobs.mu
 * (job.h) guards the active list and goes with the condition variable wake (on
 * CLOCK_MONOTONIC): an idle worker notes jobs.pokes, tries a claim, and when nothing is
 * claimable sleeps on wake until pokes moves (a run was submitted or resumed here, or
 * the keeper's round) or shutdown begins. mu is never held across training, the store
 * or a log call.
 *
 * The user's verbs are one atomic change of the stored state each (gd_store_run_act),
 * whichever daemon trains the run: a queued or paused run changes at once; a running
 * one gets a request its owner reads within a step here (the job is told directly) and
 * within half a second of training on another daemon. */
#include "daemon/sched.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon/job.h"
#include "daemon/keeper.h"

/* How long a worker waits before it tries again when a claim failed on the store. */
#define CLAIM_RETRY_MS 1000

struct gd_sched {
    struct gd_jobs jobs; /* what the jobs share */
    pthread_t *workers;  /* started by gd_sched_start, joined by shutdown */
    int nworkers;
    pthread_t keeper;
    int keeper_started;
};

/* ---- the workers ---- */

/* Waits until the pokes move past *seen (NULL: pokes do not end the wait), shutdown
 * begins, or ms pass; 1 when stopping. */
static int idle(struct gd_jobs *s, const uint64_t *seen, int ms)
{
    struct timespec until = gd_jobs_deadline(ms);
    pthread_mutex_lock(&s->mu);
    while (!s->stopping && (!seen || s->pokes == *seen))
        if (pthread_cond_timedwait(&s->wake, &s->mu, &until) == ETIMEDOUT)
            break;
    int stop = s->stopping;
    pthread_mutex_unlock(&s->mu);
    return stop;
}

/* A worker: claims the oldest claimable run and trains it, until shutdown. */
static void *worker_main(void *arg)
{
    struct gd_jobs *s = arg;
    int failing = 0;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        int stop = s->stopping;
        uint64_t seen = s->pokes;
        pthread_mutex_unlock(&s->mu);
        if (stop)
            return NULL;
        int64_t id = 0;
        char from[GD_NAME_MAX];
        struct gc_error err = {0};
        int rc = gd_store_run_claim(s->store, &s->me, 0, &id, from, sizeof from, &err);
        if (rc == GC_ENOTFOUND) {
            failing = 0;
            if (idle(s, &seen, 60 * 1000))
                return NULL;
            continue;
        }
        if (rc) {
            if (!failing)
                gd_jobs_log(s, GD_LOG_WARN, 0, "cannot claim a run: %s", err.msg);
            failing = 1;
            if (idle(s, NULL, CLAIM_RETRY_MS))
                return NULL;
            continue;
        }
        failing = 0;
        if (from[0])
            gd_jobs_log(s, GD_LOG_WARN, id, "claimed from %s, whose lease ran out", from);
        pthread_mutex_lock(&s->mu);
        struct gd_job *job = s->stopping ? NULL : gd_jobs_add(s, id);
        pthread_mutex_unlock(&s->mu);
        if (!job) {
            /* stopping, or out of memory: the run goes back to the queue */
            gd_store_run_set_status(s->store, id, GD_QUEUED, NULL, NULL);
            gd_jobs_publish(s, id, "status", 0);
            if (idle(s, NULL, CLAIM_RETRY_MS))
                return NULL;
            continue;
        }
        /* a run whose ranks failed ends queued: claimable again after a pause, by
         * another daemon first when one is free (and the queued state shows) */
        if (gd_job_run(job, NULL) == GD_QUEUED && idle(s, NULL, CLAIM_RETRY_MS))
            return NULL;
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
    struct gd_jobs *j = &s->jobs;
    j->store = store;
    j->ev = ev;
    j->sched = s;
    j->opts = *opts;
    if (j->opts.workers < 1)
        j->opts.workers = 1;
    if (j->opts.threads < 1) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        j->opts.threads = n > 0 ? (int)n : 1;
    }
    if (j->opts.heartbeat_s < 1)
        j->opts.heartbeat_s = 10;
    if (j->opts.lease_s < 1)
        j->opts.lease_s = 30;
    /* runs training at once share the cores instead of oversubscribing them */
    j->threads_per_run = j->opts.threads / j->opts.workers;
    if (j->threads_per_run < 1)
        j->threads_per_run = 1;
    snprintf(j->me.name, sizeof j->me.name, "%s",
             opts->name && opts->name[0] ? opts->name : "ganctld");
    j->me.workers = j->opts.workers;
    j->me.threads = j->opts.threads;
    j->me.lease_s = j->opts.lease_s;
    ssize_t len = readlink("/proc/self/exe", j->exe, sizeof(j->exe) - 1);
    j->exe[len > 0 ? len : 0] = '\0';
    if (opts->data_dir && opts->data_dir[0]) {
        size_t n = strlen(opts->data_dir) + sizeof("/cache");
        j->cache_dir = malloc(n);
        if (!j->cache_dir) {
            free(s);
            gc_error_set(err, GC_ENOMEM, "sched: out of memory");
            return NULL;
        }
        snprintf(j->cache_dir, n, "%s/cache", opts->data_dir);
        if (mkdir(j->cache_dir, 0700) && errno != EEXIST) {
            /* no cache only costs time: the classifier is trained again */
            free(j->cache_dir);
            j->cache_dir = NULL;
        }
    }
    pthread_mutex_init(&j->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&j->wake, &ca);
    pthread_condattr_destroy(&ca);
    return s;
}

int gd_sched_start_keeper(struct gd_sched *s, struct gc_error *err)
{
    if (s->keeper_started)
        return 0;
    int ret = gd_keeper_start(&s->jobs, &s->keeper, err);
    s->keeper_started = ret == 0;
    return ret;
}

int gd_sched_start(struct gd_sched *s, struct gc_error *err)
{
    struct gd_jobs *j = &s->jobs;
    int64_t *ids = NULL;
    int n = 0;
    /* runs a previous life of this daemon left running were cut off by a crash: queued
     * again, they continue from their newest checkpoint */
    int ret = gd_store_run_recover(j->store, &j->me, &ids, &n, err);
    if (ret)
        return ret;
    for (int i = 0; i < n; i++) {
        gd_jobs_log(j, GD_LOG_INFO, ids[i], "was running at the last stop: queued again");
        gd_jobs_publish(j, ids[i], "status", 0);
    }
    free(ids);
    if ((ret = gd_sched_start_keeper(s, err)))
        return ret;
    s->workers = calloc((size_t)j->opts.workers, sizeof(*s->workers));
    if (!s->workers)
        return gc_error_set(err, GC_ENOMEM, "sched: out of memory");
    for (int i = 0; i < j->opts.workers; i++) {
        int rc = pthread_create(&s->workers[i], NULL, worker_main, j);
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
    pthread_cond_broadcast(&s->jobs.wake);
    pthread_mutex_unlock(&s->jobs.mu);
    for (int i = 0; i < s->nworkers; i++)
        pthread_join(s->workers[i], NULL);
    s->nworkers = 0;
    /* last: the leases of the runs that were checkpointing stayed renewed */
    if (s->keeper_started)
        gd_keeper_stop(&s->jobs, s->keeper);
    s->keeper_started = 0;
}

void gd_sched_destroy(struct gd_sched *s)
{
    if (!s)
        return;
    gd_sched_shutdown(s);
    free(s->workers);
    free(s->jobs.cache_dir);
    free(s->jobs.relaunch);
    pthread_cond_destroy(&s->jobs.wake);
    pthread_mutex_destroy(&s->jobs.mu);
    free(s);
}

const struct gd_worker_self *gd_sched_self(const struct gd_sched *s)
{
    return &s->jobs.me;
}

void gd_sched_set_name(struct gd_sched *s, const char *name)
{
    snprintf(s->jobs.me.name, sizeof s->jobs.me.name, "%s", name);
}

void gd_sched_report_final(struct gd_sched *s, gd_final_fn fn, void *ctx)
{
    s->jobs.opts.final = fn;
    s->jobs.opts.final_ctx = ctx;
}

int gd_sched_admit(struct gd_sched *s, const struct gc_spec *spec, struct gc_field_errors *fe)
{
    const struct gd_sched_opts *o = &s->jobs.opts;
    if (spec->train.ranks > 1 && !(o->mpirun && o->mpirun[0]) && gc_comm_size(o->comm) < 2)
        return gc_field_errors_add(
            fe, "train.ranks",
            "%d ranks need a daemon that can start them: start ganctld with --mpirun "
            "\"mpirun --hostfile FILE\" (or mpirun = ... in its config file), or train with "
            "ranks 1",
            spec->train.ranks);
    return 0;
}

static int submit(struct gd_sched *s, const struct gc_spec *spec, const char *spec_json,
                  int claimed, int64_t *id, struct gc_error *err)
{
    struct gc_field_errors fe;
    gc_field_errors_init(&fe);
    if (gd_sched_admit(s, spec, &fe))
        return gc_field_errors_summary(&fe, err);
    int64_t rid = 0;
    struct gd_jobs *j = &s->jobs;
    int ret = claimed ? gd_store_run_insert_claimed(j->store, &j->me, spec->name, spec_json,
                                                    spec->train.steps, &rid, err)
                      : gd_store_run_insert(j->store, spec->name, spec_json, spec->train.steps,
                                            &rid, err);
    if (ret)
        return ret;
    if (!claimed)
        gd_jobs_poke(j);
    gd_jobs_publish(j, rid, "status", 0);
    if (id)
        *id = rid;
    return 0;
}

int gd_sched_submit(struct gd_sched *s, const struct gc_spec *spec, const char *spec_json,
                    int64_t *id, struct gc_error *err)
{
    return submit(s, spec, spec_json, 0, id, err);
}

int gd_sched_submit_claimed(struct gd_sched *s, const struct gc_spec *spec, const char *spec_json,
                            int64_t *id, struct gc_error *err)
{
    return submit(s, spec, spec_json, 1, id, err);
}

int gd_sched_submit_sweep(struct gd_sched *s, const struct gd_sweep *w,
                          const struct gd_sweep_run *runs, int n, int64_t *id, int64_t *ids,
                          struct gc_error *err)
{
    struct gd_jobs *j = &s->jobs;
    int ret = gd_store_sweep_insert(j->store, w, runs, n, id, ids, err);
    if (ret)
        return ret;
    gd_jobs_poke(j);
    for (int i = 0; i < n; i++)
        gd_jobs_publish(j, ids[i], "status", 0);
    gd_jobs_log(j, GD_LOG_INFO, 0, "sweep %lld: %d runs queued", (long long)*id, n);
    return 0;
}

/* Tells the job of run id, when this daemon trains it, that the user (or a sweep, with
 * its reason) asked it to pause or cancel; 1 when told. A cancel asked already stays. */
static int tell_job(struct gd_jobs *j, int64_t id, enum gd_action a, const char *reason)
{
    pthread_mutex_lock(&j->mu);
    struct gd_job *job = gd_jobs_find(j, id);
    int told = job && !job->finished && job->request != GD_REQ_GIVE_UP;
    if (told && job->request != GD_REQ_CANCEL) {
        job->request = a == GD_ACT_CANCEL ? GD_REQ_CANCEL : GD_REQ_PAUSE;
        if (reason)
            snprintf(job->stop_reason, sizeof(job->stop_reason), "%s", reason);
    }
    pthread_mutex_unlock(&j->mu);
    return told;
}

/* One of the user's verbs, through the store, whichever daemon trains the run. A
 * reason (a sweep's early stopping) goes with a cancel as the run's error; with one, a
 * run that has ended already is no error. */
static int act(struct gd_sched *s, int64_t id, enum gd_action a, const char *reason,
               struct gc_error *err)
{
    struct gd_jobs *j = &s->jobs;
    struct gd_act_result r;
    int ret = reason ? gd_store_run_stop(j->store, id, reason, &r, err)
                     : gd_store_run_act(j->store, id, a, &r, err);
    if (ret && ret != GC_ENOTFOUND && ret != GC_ESTATE &&
        (a == GD_ACT_CANCEL || a == GD_ACT_PAUSE) && tell_job(j, id, a, reason)) {
        /* the store cannot take the request now (a full disk): a run this daemon trains
         * is told directly, and writes its final status once the store takes writes */
        gd_jobs_log(j, GD_LOG_WARN, id,
                    "%s asked while the store cannot take it (%s): told the run directly",
                    a == GD_ACT_CANCEL ? "cancel" : "pause", err ? err->msg : "");
        gc_error_clear(err);
        return 0;
    }
    if (ret == GC_ESTATE && reason) {
        gc_error_clear(err);
        return 0;
    }
    if (ret)
        return ret;
    if (r.requested) {
        /* the owner reads the request from the store; when it is this daemon, it is
         * told at once */
        tell_job(j, id, a, reason);
        gd_jobs_log(j, GD_LOG_INFO, id, "%s asked of its worker %s",
                    a == GD_ACT_CANCEL ? "cancel" : "pause", r.worker[0] ? r.worker : "-");
        return 0;
    }
    if (a == GD_ACT_DELETE) {
        gd_jobs_log(j, GD_LOG_INFO, id, "deleted");
        return 0;
    }
    gd_jobs_publish(j, id, "status", r.step);
    if (a == GD_ACT_RESUME) {
        gd_jobs_poke(j);
        gd_jobs_log(j, GD_LOG_INFO, id, "resumed: queued");
    } else {
        gd_jobs_log(j, GD_LOG_INFO, id, "%s while %s%s%s", gd_status_name(r.after),
                    gd_status_name(r.before), reason ? ": " : "", reason ? reason : "");
    }
    return 0;
}

int gd_sched_stop(struct gd_sched *s, int64_t id, const char *reason, struct gc_error *err)
{
    return act(s, id, GD_ACT_CANCEL, reason, err);
}

int gd_sched_cancel(struct gd_sched *s, int64_t id, struct gc_error *err)
{
    return act(s, id, GD_ACT_CANCEL, NULL, err);
}

int gd_sched_pause(struct gd_sched *s, int64_t id, struct gc_error *err)
{
    return act(s, id, GD_ACT_PAUSE, NULL, err);
}

int gd_sched_resume(struct gd_sched *s, int64_t id, struct gc_error *err)
{
    return act(s, id, GD_ACT_RESUME, NULL, err);
}

int gd_sched_delete(struct gd_sched *s, int64_t id, struct gc_error *err)
{
    return act(s, id, GD_ACT_DELETE, NULL, err);
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
    /* finished or not: a final status that waits for the store shows why too */
    if (j && j->store_error[0]) {
        if (msg && cap)
            snprintf(msg, cap, "%s", j->store_error);
        ret = 0;
    }
    pthread_mutex_unlock(&s->jobs.mu);
    return ret;
}

int gd_sched_run_now(struct gd_sched *s, int64_t id, struct gc_error *err)
{
    struct gd_jobs *j = &s->jobs;
    struct gd_run r;
    int ret = gd_store_run_get(j->store, id, &r, err);
    if (ret)
        return ret;
    enum gd_status st = r.status;
    /* inserted claimed by this process, or the claim of the daemon that launched it */
    int mine =
        st == GD_RUNNING && (gd_store_claim_of(j->store, id) != 0 || !strcmp(r.worker, j->me.name));
    gd_run_fini(&r);
    if (st == GD_SUCCEEDED || st == GD_FAILED || st == GD_CANCELED)
        return gc_error_set(err, GC_ESTATE, "run %lld is %s", (long long)id, gd_status_name(st));
    pthread_mutex_lock(&j->mu);
    int active = gd_jobs_find(j, id) != NULL;
    pthread_mutex_unlock(&j->mu);
    if (active)
        return gc_error_set(err, GC_ESTATE, "run %lld is already training", (long long)id);
    /* a run this daemon inserted claimed is its already; any other is claimed first */
    if (!mine && (ret = gd_store_run_claim(j->store, &j->me, id, &id, NULL, 0, err)))
        return ret == GC_ENOTFOUND
                   ? gc_error_set(err, GC_ESTATE, "run %lld is %s and cannot be claimed",
                                  (long long)id, gd_status_name(st))
                   : ret;
    pthread_mutex_lock(&j->mu);
    struct gd_job *job = gd_jobs_add(j, id);
    pthread_mutex_unlock(&j->mu);
    if (!job) {
        gd_store_run_set_status(j->store, id, GD_QUEUED, NULL, NULL);
        return gc_error_set(err, GC_ENOMEM, "sched: out of memory");
    }

    int train_rc = 0;
    enum gd_status final = gd_job_run(job, &train_rc);
    if (final == GD_SUCCEEDED)
        return 0;
    if (gd_store_run_get(j->store, id, &r, err))
        return err ? err->code : GC_EIO;
    if (!train_rc)
        train_rc = GC_EIO;
    if (final == GD_FAILED || train_rc == GC_ECOMM)
        ret = gc_error_set(err, train_rc, "%s", r.error ? r.error : "the run failed");
    else
        ret = gc_error_set(err, GC_ESTOPPED, "the run stopped at step %lld and is %s",
                           (long long)r.step, gd_status_name(r.status));
    gd_run_fini(&r);
    return ret;
}

void gd_sched_stats(struct gd_sched *s, struct gd_sched_stats *out)
{
    int64_t queued = 0;
    gd_store_run_count(s->jobs.store, GD_QUEUED, &queued, NULL);
    pthread_mutex_lock(&s->jobs.mu);
    out->running = 0;
    for (struct gd_job *j = s->jobs.active; j; j = j->next)
        out->running++;
    out->queued = (int)queued;
    out->steps_trained = s->jobs.steps_trained;
    out->images_trained = s->jobs.images_trained;
    pthread_mutex_unlock(&s->jobs.mu);
}
