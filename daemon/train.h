/* train.h — `ganctld train SPEC.json` and `ganctld train --run ID`: one run trained in
 * the foreground, by one process (train.c) or by the ranks mpirun started
 * (train_ranks.c). */
#ifndef GD_TRAIN_H
#define GD_TRAIN_H

#include <stdint.h>

#include "core/error.h"
#include "core/spec.h"
#include "daemon/config.h"
#include "daemon/sched.h"
#include "daemon/serve.h"

/* Stores the spec's run as a POST would (or takes stored run c->run) and trains it on
 * this thread with the same worker code as the daemon; progress goes to stderr, the
 * run object as one JSON line to stdout. Under mpirun, gd_train_ranks_main instead.
 * Returns the exit status: 0 when the run succeeded, 1 when it did not, 2 for a spec
 * that cannot be read or is invalid. */
int gd_train_main(const struct gd_config *c);

/* `mpirun -np N ganctld train ...`: this process is one rank of N. Rank 0 stores the
 * run (or takes stored run c->run, holding DATA/locks/run-ID while it trains), sends
 * the spec to the others and trains with the job code and the store; the others
 * train with no store. Returns the exit status as gd_train_main; a failure that
 * leaves other ranks waiting ends the whole job (MPI_Abort). */
int gd_train_ranks_main(const struct gd_config *c);

/* ---- shared by train.c and train_ranks.c ---- */

/* Reads and checks a spec file, dataset.path made absolute; 0, or the exit status 2
 * with the reason on stderr. */
int gd_train_read_spec(const char *path, struct gc_spec *spec);
/* A spec's problems on stderr, as `ganctld train` shows them. */
void gd_train_print_errors(const char *what, const struct gc_field_errors *fe,
                           const struct gc_error *err);

/* A thread that turns SIGINT/SIGTERM (gd_serve_signals must be set up) and, with
 * use_stdin, the lines pause, cancel and stop on stdin into the scheduler's verbs on
 * run id (stop and the end of stdin: a checkpoint, then queued). NULL when it could
 * not start; gd_train_control_end(NULL) is a no-op. */
struct gd_train_control;
struct gd_train_control *gd_train_control_start(struct gd_sched *sched, int64_t id, int use_stdin);
void gd_train_control_end(struct gd_train_control *c);

/* gd_serve_open for `ganctld train` (comm: the ranks, on rank 0; NULL on one process)
 * as a worker of the store named --name, else HOST:train-PID; with --run and --claim
 * (a daemon launched the ranks) it writes under the daemon's claim, otherwise it keeps
 * its own heartbeat and leases. -1 with the reason logged. */
int gd_train_open(const struct gd_config *c, struct gc_comm *comm, struct gd_parts *p);
/* Logs err when trc is not 0 and prints the run object on stdout; the exit status. */
int gd_train_report(struct gd_parts *p, int64_t id, int trc, const struct gc_error *err);

#endif
