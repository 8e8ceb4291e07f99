/* events.c — the live event bus: store first, then wake the streams.
 *
 * DESIGN: one mutex, one condition variable (on CLOCK_MONOTONIC, so a clock change
 * cannot stretch a wait), the id of the newest event and a shutdown flag. The mutex
 * is never held across the store: publish writes the row, then takes the lock only to
 * raise the newest id and broadcast. Waiters re-check after every wake-up, so spurious
 * wake-ups and events published out of order by two threads are both harmless. */
#include "daemon/events.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct gd_events {
    struct gd_store *store;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int64_t newest; /* guarded by mu */
    int shutdown;   /* guarded by mu */
};

struct gd_events *gd_events_create(struct gd_store *store, struct gc_error *err)
{
    struct gd_events *ev = calloc(1, sizeof(*ev));
    if (!ev) {
        gc_error_set(err, GC_ENOMEM, "events: out of memory");
        return NULL;
    }
    ev->store = store;
    if (gd_store_event_last(store, &ev->newest, err)) {
        free(ev);
        return NULL;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&ev->cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&ev->mu, NULL);
    return ev;
}

void gd_events_destroy(struct gd_events *ev)
{
    if (!ev)
        return;
    pthread_cond_destroy(&ev->cond);
    pthread_mutex_destroy(&ev->mu);
    free(ev);
}

void gd_events_raise(struct gd_events *ev, int64_t id)
{
    pthread_mutex_lock(&ev->mu);
    if (id > ev->newest) {
        ev->newest = id;
        pthread_cond_broadcast(&ev->cond);
    }
    pthread_mutex_unlock(&ev->mu);
}

int gd_events_publish(struct gd_events *ev, int64_t run, const char *type, int64_t step,
                      struct gc_error *err)
{
    int64_t id = 0;
    int ret = gd_store_event_put(ev->store, run, type, step, &id, err);
    if (ret)
        return ret;
    gd_events_raise(ev, id);
    return 0;
}

int64_t gd_events_refresh(struct gd_events *ev)
{
    int64_t id = 0;
    if (gd_store_event_last(ev->store, &id, NULL))
        return -1;
    pthread_mutex_lock(&ev->mu);
    if (id > ev->newest) {
        ev->newest = id;
        pthread_cond_broadcast(&ev->cond);
    }
    int64_t r = ev->newest;
    pthread_mutex_unlock(&ev->mu);
    return r;
}

int64_t gd_events_wait(struct gd_events *ev, int64_t after, int timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    if (timeout_ms < 0)
        timeout_ms = 0;
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&ev->mu);
    while (!ev->shutdown && ev->newest <= after) {
        if (pthread_cond_timedwait(&ev->cond, &ev->mu, &until) == ETIMEDOUT)
            break;
    }
    int64_t r = ev->shutdown ? -1 : ev->newest;
    pthread_mutex_unlock(&ev->mu);
    return r;
}

void gd_events_shutdown(struct gd_events *ev)
{
    if (!ev)
        return;
    pthread_mutex_lock(&ev->mu);
    ev->shutdown = 1;
    pthread_cond_broadcast(&ev->cond);
    pthread_mutex_unlock(&ev->mu);
}
