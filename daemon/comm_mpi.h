/* comm_mpi.h — the communicator of core/comm.h over MPI (Open MPI), for the ranks of a
 * run started as `mpirun -np N ganctld train ...`.
 *
 * ganctld links Open MPI always (one binary for the daemon and for the ranks) but
 * initializes it only in `ganctld train` when mpirun started the process
 * (gd_mpi_launched): a daemon, or a `ganctld train` from a shell, never touches MPI.
 * Each rank is one MPI process of MPI_COMM_WORLD; only the thread that called
 * gd_mpi_init makes MPI calls (MPI_THREAD_FUNNELED: the trainer's thread; the compute
 * pools never do).
 *
 * Every collective call has a deadline: a rank that waits longer than timeout_s for
 * the others (one of them died, hangs, or its host is gone) gets GC_ECOMM with a
 * message saying so, and the caller ends the job with gd_mpi_abort(). Errors of MPI
 * itself come back as GC_ECOMM with MPI's message (MPI_ERRORS_RETURN), never as an
 * exit inside MPI. mpirun ends the whole job when one rank exits without
 * gd_mpi_finalize or is killed.
 *
 * Threads: one thread, the one that called gd_mpi_init. */
#ifndef GD_COMM_MPI_H
#define GD_COMM_MPI_H

#include "core/comm.h"
#include "core/error.h"

struct gd_mpi;

/* 1 when mpirun (Open MPI's launcher) started this process, 0 otherwise. */
int gd_mpi_launched(void);

/* Initializes MPI and the communicator of MPI_COMM_WORLD with a deadline of timeout_s
 * seconds per collective call. NULL with err set on failure. The caller owns the
 * result and ends it with gd_mpi_finalize or gd_mpi_abort. */
struct gd_mpi *gd_mpi_init(double timeout_s, struct gc_error *err);

/* The communicator (borrowed; valid until finalize or abort). */
struct gc_comm *gd_mpi_comm(struct gd_mpi *m);

/* This rank's host name (for messages). */
const char *gd_mpi_host(const struct gd_mpi *m);

/* Leaves MPI normally (every rank must): MPI_Finalize, then frees m. */
void gd_mpi_finalize(struct gd_mpi *m);

/* Ends every rank of the job at once with exit status code (MPI_Abort); does not
 * return. */
void gd_mpi_abort(struct gd_mpi *m, int code) __attribute__((noreturn));

#endif
