/* serve.h — the daemon process: the parts it opens, its signals, and `ganctld` serving
 * until SIGTERM. `ganctld train` (train.c) opens the same parts and catches the same
 * signals. */
#ifndef GD_SERVE_H
#define GD_SERVE_H

#include <stddef.h>

#include "core/comm.h"
#include "daemon/config.h"
#include "daemon/events.h"
#include "daemon/sched.h"
#include "daemon/store.h"
#include "daemon/webhook.h"

/* The parts of a running ganctld: opened in this order, closed in the reverse. */
struct gd_parts {
    struct gd_store *store;
    struct gd_events *ev;
    struct gd_sched *sched;
    struct gd_webhook *webhook; /* --alert-webhook; NULL when none */
};

/* Makes the data directory and opens the store (--store, else DATA/ganctl.db; migrating
 * it), the event bus and the scheduler with `workers` workers (not started) named name
 * among the store's workers (gd_sched_set_name() may name it later); comm is the ranks
 * of `ganctld train` under mpirun (rank 0 trains through it; NULL otherwise). -1 with
 * the reason logged on failure; p then holds what did open, for gd_serve_close(). */
int gd_serve_open(const struct gd_config *c, const char *name, int workers, struct gc_comm *comm,
                  struct gd_parts *p);
/* The host's name (gethostname), "localhost" when it has none. */
void gd_serve_host_name(char *out, size_t cap);
/* Closes what p holds (the scheduler's workers are joined first). */
void gd_serve_close(struct gd_parts *p);

/* Routes SIGINT and SIGTERM into a pipe (a self-pipe) and ignores SIGPIPE; -1 with the
 * reason logged on failure. */
int gd_serve_signals(void);
/* Waits up to timeout_ms for a signal: its number, 0 on timeout, -1 after
 * gd_serve_signals_end(). */
int gd_serve_wait_signal(int timeout_ms);
/* Makes a gd_serve_wait_signal() return -1, so a thread watching for signals ends;
 * -1 when it could not. */
int gd_serve_signals_end(void);

/* `ganctld`: serves the API and trains queued runs until SIGTERM or SIGINT; returns
 * the exit status (0 after a clean stop, 1 when it could not start). */
int gd_serve_main(const struct gd_config *c);

#endif
