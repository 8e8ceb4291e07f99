/* keeper.c — the scheduler's keeper thread (see keeper.h): heartbeats and leases, and
 * what other daemons on the same store did.
 *
 * DESIGN: one thread. It waits for news on the store's own channel (PostgreSQL: LISTEN
 * on a connection of its own, gd_store_news_wait) or, where the store has none
 * (SQLite), on the scheduler's condition variable wake, stoppable either way; then does
 * its round with no lock held but the scheduler's mu for a moment (to poke the workers
 * and flag the jobs). It stops only after the workers are joined, so the leases of the
 * runs still checkpointing are renewed to the end. */
#include "daemon/keeper.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* The longest wait between two rounds: how soon a run queued on another daemon of a
 * store without news (or a lease that ran out) is claimed here. */
#define KEEPER_ROUND_MS 500

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits on wake until ms pass or the keeper is told to stop; 1 when it is. */
static int wait_round(struct gd_jobs *s, int ms)
{
    struct timespec until = gd_jobs_deadline(ms);
    pthread_mutex_lock(&s->mu);
    while (!s->keeper_stop)
        if (pthread_cond_timedwait(&s->wake, &s->mu, &until) == ETIMEDOUT)
            break;
    int stop = s->keeper_stop;
    pthread_mutex_unlock(&s->mu);
    return stop;
}

/* A heartbeat; a failure is logged when it starts and when it ends. */
static void beat(struct gd_jobs *s, int *failing)
{
    struct gc_error err = {0};
    int rc = gd_store_worker_beat(s->store, &s->me, &err);
    if (rc && !*failing)
        gd_jobs_log(s, GD_LOG_WARN, 0,
                    "heartbeat: %s; the leases of the runs training here run"
                    " out in %d s unless it works again",
                    err.msg, s->me.lease_s);
    else if (!rc && *failing)
        gd_jobs_log(s, GD_LOG_INFO, 0, "heartbeat works again");
    *failing = rc != 0;
}

static void *keeper_main(void *arg)
{
    struct gd_jobs *s = arg;
    int64_t last_beat = now_ms(), heartbeat_ms = (int64_t)s->opts.heartbeat_s * 1000;
    int failing = 0;
    for (;;) {
        struct gd_store_news news;
        int64_t t0 = now_ms();
        int rc = gd_store_news_wait(s->store, KEEPER_ROUND_MS, &news, NULL);
        int64_t waited = now_ms() - t0;
        /* a store without news returns at once: the rest of the round is spent here */
        if (waited < KEEPER_ROUND_MS && !news.events && !news.queue && !news.requests && !rc) {
            if (wait_round(s, (int)(KEEPER_ROUND_MS - waited)))
                break;
        } else {
            pthread_mutex_lock(&s->mu);
            int stop = s->keeper_stop;
            pthread_mutex_unlock(&s->mu);
            if (stop)
                break;
        }
        int64_t newest = 0;
        if (s->ev && gd_store_event_last(s->store, &newest, NULL) == 0)
            gd_events_raise(s->ev, newest);
        pthread_mutex_lock(&s->mu);
        s->pokes++; /* claim what may have become claimable elsewhere */
        if (news.requests)
            for (struct gd_job *j = s->active; j; j = j->next)
                j->poll_now = 1;
        pthread_cond_broadcast(&s->wake);
        pthread_mutex_unlock(&s->mu);
        if (now_ms() - last_beat >= heartbeat_ms || failing) {
            beat(s, &failing);
            last_beat = now_ms();
        }
    }
    return NULL;
}

int gd_keeper_start(struct gd_jobs *s, pthread_t *th, struct gc_error *err)
{
    int failing = 0;
    beat(s, &failing);
    pthread_mutex_lock(&s->mu);
    s->keeper_stop = 0;
    pthread_mutex_unlock(&s->mu);
    int rc = pthread_create(th, NULL, keeper_main, s);
    if (rc)
        return gc_error_set(err, GC_ENOMEM, "sched: cannot start the keeper: %s", strerror(rc));
    return 0;
}

void gd_keeper_stop(struct gd_jobs *s, pthread_t th)
{
    pthread_mutex_lock(&s->mu);
    s->keeper_stop = 1;
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->mu);
    pthread_join(th, NULL);
    struct gc_error err = {0};
    if (gd_store_worker_leave(s->store, &s->me, &err))
        gd_jobs_log(s, GD_LOG_WARN, 0, "leaving the store's workers: %s", err.msg);
}
