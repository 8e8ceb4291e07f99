/* events.h — the live event bus behind the event streams.
 *
 * Each event is first written to the store (so Last-Event-ID can replay it after a
 * restart, and on any daemon of the store), then every waiting subscriber is woken.
 * Events other daemons store reach the bus through gd_events_raise().
 *
 * DESIGN: one mutex, one condition variable, the id of the newest event. Subscribers
 * (api/ stream threads) wait on the condvar for an id newer than theirs, then read the
 * events from the store with no lock held. Shutdown sets a flag and broadcasts, so no
 * stream ever hangs the exit. */
#ifndef GD_EVENTS_H
#define GD_EVENTS_H

#include <stdint.h>

#include "core/error.h"
#include "daemon/store.h"

struct gd_events;

/* Borrows the store (it must outlive the bus). */
struct gd_events *gd_events_create(struct gd_store *store, struct gc_error *err);
void gd_events_destroy(struct gd_events *ev);

/* Stores an event and wakes subscribers; type is status, metrics, sample, eval or
 * checkpoint. Thread-safe. */
int gd_events_publish(struct gd_events *ev, int64_t run, const char *type, int64_t step,
                      struct gc_error *err);

/* Raises the newest event id to id (when newer) and wakes subscribers: events stored
 * by another process on the same store (the keeper hears of them). Thread-safe. */
void gd_events_raise(struct gd_events *ev, int64_t id);
/* Events stored by another process (rank 0 of a run that trains in a child process,
 * writing the same store): when the store holds a newer event than the bus knows,
 * wakes the subscribers. Returns the newest event id, or -1 when the store cannot be
 * read. Thread-safe. */
int64_t gd_events_refresh(struct gd_events *ev);

/* Waits until an event newer than after exists, shutdown begins, or timeout_ms passes.
 * Returns the newest event id (>= after when one arrived), or -1 once shut down. */
int64_t gd_events_wait(struct gd_events *ev, int64_t after, int timeout_ms);

/* Wakes every waiter for good; later waits return -1 at once. */
void gd_events_shutdown(struct gd_events *ev);

#endif
