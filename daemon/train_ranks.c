/* train_ranks.c — `mpirun -np N ganctld train SPEC.json | --run ID`: this process is
 * one of the N ranks that train one run (core/gan.h "Ranks").
 *
 * Rank 0 does what `ganctld train` does on one process: it stores the run (or takes
 * the stored one), trains it with the job code, whose hooks write the store, and
 * prints the run object. It sets train.ranks of a new run to N, so a daemon that
 * later continues it launches as many. With --run it first takes DATA/locks/run-ID
 * (flock), waiting while an earlier launch of the run still holds it (its ranks may
 * outlive a daemon killed with -9 by a moment), so one run never has two rank 0s.
 *
 * THE START. Rank 0 broadcasts a header and then its ganctld version and the spec as
 * normalized JSON with dataset.path resolved; the other ranks check the version, parse
 * the spec, build their trainer and train without hooks and without a store (they
 * need the dataset at the same path on their host). A header with a non-zero code
 * makes every rank exit with it (a bad spec: 2), before training.
 *
 * THE END. The engine ends every rank at the same step when the run succeeds, stops
 * (pause, cancel, SIGINT/SIGTERM on rank 0, stop on stdin) or fails on NaN: then every
 * rank leaves MPI normally. Any other failure may leave the others waiting inside a
 * collective call (a hook of rank 0 failed, a rank could not build its trainer, the
 * ranks failed or timed out): that rank ends the whole job with MPI_Abort, rank 0
 * after writing the run's status. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/spec_json.h"
#include "core/gan.h"
#include "daemon/comm_mpi.h"
#include "daemon/log.h"
#include "daemon/train.h"

#define START_MAGIC 0x4b524347u /* "GCRK" */

/* What rank 0 sends first. */
struct start {
    uint64_t magic;
    uint64_t code; /* 0: train; otherwise every rank exits with it */
    uint64_t version_len, spec_len;
    uint64_t run;
};

/* The outcomes every rank reaches together: nobody is left waiting. */
static int together(int rc)
{
    return rc == 0 || rc == GC_ESTOPPED || rc == GC_ENUMERIC;
}

/* ---- rank 0 ---- */

/* DATA/locks/run-ID, held while this process trains the run; -1 with a message when
 * an earlier holder did not let go within timeout_s. */
static int lock_run(const char *data, int64_t id, int timeout_s)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%.*s/locks", PATH_MAX - 64, data);
    if (mkdir(path, 0700) && errno != EEXIST) {
        gd_log(GD_LOG_ERR, "%s: %s", path, strerror(errno));
        return -1;
    }
    snprintf(path, sizeof path, "%.*s/locks/run-%lld", PATH_MAX - 64, data, (long long)id);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        gd_log(GD_LOG_ERR, "%s: %s", path, strerror(errno));
        return -1;
    }
    for (int waited = 0; flock(fd, LOCK_EX | LOCK_NB); waited++) {
        if (errno != EWOULDBLOCK || waited >= timeout_s * 10) {
            gd_log_run(GD_LOG_ERR, id, "%s: %s", path,
                       errno == EWOULDBLOCK ? "an earlier launch of the run still trains it"
                                            : strerror(errno));
            close(fd);
            return -1;
        }
        if (waited == 0)
            gd_log_run(GD_LOG_INFO, id, "waiting for an earlier launch of the run to end");
        struct timespec ts = {0, 100000000L};
        nanosleep(&ts, NULL);
    }
    return fd;
}

/* The spec every rank trains, as JSON with dataset.path absolute (*json malloc'ed).
 * New run: from the file, with train.ranks set to the ranks there are. Stored run: from
 * the store, resolved inside the dataset root as the daemon would. 0 or the exit code. */
static int rank0_spec(const struct gd_config *c, struct gd_parts *p, int size, int64_t *id,
                      char **json)
{
    struct gc_spec spec;
    struct gc_error err = {0};
    if (c->spec_path) {
        int code = gd_train_read_spec(c->spec_path, &spec);
        if (code)
            return code;
        if (spec.train.ranks != size)
            gd_log(GD_LOG_INFO, "%s: train.ranks %d; training on the %d ranks of mpirun",
                   c->spec_path, spec.train.ranks, size);
        spec.train.ranks = size;
        struct gc_field_errors fe;
        if (gc_spec_check(&spec, &fe)) {
            gd_train_print_errors(c->spec_path, &fe, NULL);
            return 2;
        }
        *json = ga_spec_to_json(&spec);
        /* stored claimed: no daemon on the same store takes it first */
        if (!*json || gd_sched_submit_claimed(p->sched, &spec, *json, id, &err)) {
            gd_log(GD_LOG_ERR, "cannot store the run: %s", *json ? err.msg : "out of memory");
            return 1;
        }
        gd_log_run(GD_LOG_INFO, *id, "training %s (%lld steps) on %d ranks in %s", spec.name,
                   (long long)spec.train.steps, size, c->data);
        return 0;
    }
    struct gd_run run;
    if (gd_store_run_get(p->store, *id, &run, &err)) {
        gd_log_run(GD_LOG_ERR, *id, "%s", err.msg);
        return 1;
    }
    int rc = ga_spec_parse_stored(run.spec_json, c->datasets, &spec, &err);
    gd_run_fini(&run);
    if (rc) {
        gd_log_run(GD_LOG_ERR, *id, "stored spec: %s", err.msg);
        return 1;
    }
    if (spec.train.batch_size % size) {
        gd_log_run(GD_LOG_ERR, *id,
                   "train.batch_size %d does not split into %d equal parts: start it on a "
                   "number of ranks that divides it",
                   spec.train.batch_size, size);
        return 2;
    }
    *json = ga_spec_to_json(&spec);
    if (!*json)
        return 1;
    gd_log_run(GD_LOG_INFO, *id, "training the stored run on %d ranks in %s", size, c->data);
    return 0;
}

static int send_start(struct gc_comm *comm, uint64_t code, const char *json, int64_t id)
{
    struct start h = {START_MAGIC, code, strlen(GD_VERSION) + 1, json ? strlen(json) + 1 : 0,
                      (uint64_t)id};
    if (gc_comm_bcast(comm, &h, sizeof h, 0))
        return -1;
    if (code)
        return 0;
    char *buf = malloc(h.version_len + h.spec_len);
    if (!buf)
        return -1; /* the others wait in the broadcast: the caller aborts */
    memcpy(buf, GD_VERSION, h.version_len);
    memcpy(buf + h.version_len, json, h.spec_len);
    int rc = gc_comm_bcast(comm, buf, h.version_len + h.spec_len, 0);
    free(buf);
    return rc ? -1 : 0;
}

/* A launched run's final status goes to the daemon, which writes it when it takes the
 * run off its list of active runs (daemon/launch.c), on the line it looks for. */
static void report_final(void *ctx, int64_t run, enum gd_status st, int64_t step, const char *error)
{
    (void)ctx;
    char msg[1024] = "";
    snprintf(msg, sizeof msg, "%s", error ? error : "");
    for (char *q = msg; *q; q++)
        if (*q == '\n' || *q == '\r')
            *q = ' ';
    printf("%s %lld %s %lld %s\n", GD_FINAL_TAG, (long long)run, gd_status_name(st),
           (long long)step, msg);
    fflush(stdout);
}

/* Logs what the collective calls cost: bytes per step, the share of the time. */
static void log_comm(int64_t id, const struct gc_comm *comm, double seconds, int64_t steps)
{
    if (steps <= 0 || seconds <= 0.0)
        return;
    gd_log_run(GD_LOG_INFO, id,
               "%d ranks: %.1f collective calls and %.2f MB summed per step on each rank, "
               "%.1f%% of the time in them",
               comm->size, (double)comm->calls / (double)steps,
               (double)comm->bytes / (double)steps / 1e6, 100.0 * comm->seconds / seconds);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int rank0(const struct gd_config *c, struct gd_mpi *mpi)
{
    struct gc_comm *comm = gd_mpi_comm(mpi);
    struct gd_parts p = {0};
    struct gc_error err = {0};
    char *json = NULL;
    int64_t id = c->run;
    int lock = -1, code = 0;
    if (gd_serve_signals() || gd_train_open(c, comm, &p))
        code = 1;
    else if (c->control_stdin)
        gd_sched_report_final(p.sched, report_final, NULL);
    if (!code && c->run && (lock = lock_run(c->data, c->run, c->rank_timeout)) < 0)
        code = 1;
    if (!code)
        code = rank0_spec(c, &p, comm->size, &id, &json);
    if (send_start(comm, (uint64_t)code, json, id)) {
        gc_comm_failed(comm, &err);
        gd_log(GD_LOG_ERR, "cannot reach the other ranks: %s", err.msg);
        gd_serve_close(&p);
        gd_mpi_abort(mpi, 1);
    }
    if (code) {
        free(json);
        gd_serve_close(&p);
        if (lock >= 0)
            close(lock);
        return code;
    }
    gd_log_run(GD_LOG_INFO, id, "rank 0 of %d on %s, %d threads", comm->size, gd_mpi_host(mpi),
               c->threads);
    struct gd_train_control *ctl = gd_train_control_start(p.sched, id, c->control_stdin);
    struct gd_run before;
    int64_t step0 = 0;
    if (gd_store_run_get(p.store, id, &before, NULL) == 0) {
        step0 = before.step;
        gd_run_fini(&before);
    }
    double t0 = now_s();
    int trc = gd_sched_run_now(p.sched, id, &err);
    double took = now_s() - t0;
    gd_train_control_end(ctl);
    int rc = gd_train_report(&p, id, trc, &err);
    struct gd_run after;
    if (gd_store_run_get(p.store, id, &after, NULL) == 0) {
        log_comm(id, comm, took, after.step - step0);
        gd_run_fini(&after);
    }
    free(json);
    gd_serve_close(&p); /* the run's status is written: now the others may be ended */
    if (lock >= 0)
        close(lock);
    if (!together(trc))
        gd_mpi_abort(mpi, rc ? rc : 1);
    /* a launch the daemon drives stopped as it asked: nothing for mpirun to report */
    return c->control_stdin && trc == GC_ESTOPPED ? 0 : rc;
}

/* ---- the other ranks ---- */

static void rank_failed(struct gd_mpi *mpi, const char *what, const char *msg)
{
    struct gc_comm *comm = gd_mpi_comm(mpi);
    gd_log(GD_LOG_ERR, "rank %d of %d on %s: %s: %s", comm->rank, comm->size, gd_mpi_host(mpi),
           what, msg);
    gd_mpi_abort(mpi, 1);
}

static int other_rank(const struct gd_config *c, struct gd_mpi *mpi)
{
    struct gc_comm *comm = gd_mpi_comm(mpi);
    struct gc_error err = {0};
    /* a Ctrl-C reaches every local rank: rank 0 stops them all at one step */
    signal(SIGINT, SIG_IGN);
    struct start h;
    if (gc_comm_bcast(comm, &h, sizeof h, 0)) {
        gc_comm_failed(comm, &err);
        rank_failed(mpi, "waiting for rank 0", err.msg);
    }
    if (h.magic != START_MAGIC)
        rank_failed(mpi, "start", "rank 0 is not a ganctld of this kind");
    if (h.code)
        return (int)h.code;
    if (h.version_len > 64 || h.spec_len > (1u << 24))
        rank_failed(mpi, "start", "rank 0 sent a start that is too large");
    char *buf = malloc(h.version_len + h.spec_len);
    if (!buf)
        rank_failed(mpi, "start", "out of memory");
    if (gc_comm_bcast(comm, buf, h.version_len + h.spec_len, 0)) {
        gc_comm_failed(comm, &err);
        rank_failed(mpi, "waiting for rank 0", err.msg);
    }
    buf[h.version_len - 1] = '\0';
    buf[h.version_len + h.spec_len - 1] = '\0';
    if (strcmp(buf, GD_VERSION)) {
        char msg[160];
        snprintf(msg, sizeof msg, "rank 0 runs ganctld %.40s, this rank %s", buf, GD_VERSION);
        rank_failed(mpi, "versions differ", msg);
    }
    struct gc_spec spec;
    if (ga_spec_parse_stored(buf + h.version_len, c->datasets, &spec, &err))
        rank_failed(mpi, "spec from rank 0", err.msg);
    free(buf);
    gd_log_run(GD_LOG_INFO, (int64_t)h.run, "rank %d of %d on %s, %d threads", comm->rank,
               comm->size, gd_mpi_host(mpi), c->threads);
    struct gc_trainer_opts o = {.threads = c->threads, .load_data = 1, .comm = comm};
    struct gc_trainer *t = gc_trainer_create(&spec, &o, &err);
    if (!t)
        rank_failed(mpi, "trainer", err.msg);
    int rc = gc_trainer_run(t, NULL, &err);
    gc_trainer_destroy(t);
    if (!together(rc))
        rank_failed(mpi, "training", err.msg);
    /* how the run ended is rank 0's to say */
    return 0;
}

int gd_train_ranks_main(const struct gd_config *c)
{
    struct gc_error err = {0};
    struct gd_mpi *mpi = gd_mpi_init(c->rank_timeout, &err);
    if (!mpi) {
        fprintf(stderr, "ganctld: %s\n", err.msg);
        return 1;
    }
    int rank = gd_mpi_comm(mpi)->rank;
    /* rank 0's progress is the point of the command; the others say little */
    gd_log_set_verbose(rank == 0 ? 1 : c->verbose);
    int rc = rank == 0 ? rank0(c, mpi) : other_rank(c, mpi);
    gd_mpi_finalize(mpi);
    return rc;
}
