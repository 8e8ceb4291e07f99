/* comm_mpi.c — core/comm.h's communicator over MPI: sums with MPI_Iallreduce and
 * broadcasts with MPI_Ibcast on MPI_COMM_WORLD, each waited for with a deadline.
 *
 * WAITING. A nonblocking call is started and then tested until it completes: for the
 * first moments in a tight loop (the ranks of a step arrive within microseconds of
 * each other, and Open MPI progresses a collective only while it is tested), then
 * yielding the core, then sleeping in growing naps of up to a millisecond (a rank
 * that waits for rank 0's evaluation or checkpoint should not burn the core another
 * process needs). Past the deadline the call gives up with GC_ECOMM; its request is
 * left as it is, since the job is over (gd_mpi_abort).
 *
 * Counts are ints in MPI: larger buffers go in slices of at most 2^30 elements. */
#include "daemon/comm_mpi.h"

#include <mpi.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLICE ((size_t)1 << 30)
#define SPIN_S 0.002  /* test in a tight loop this long */
#define YIELD_S 0.050 /* then yield between tests this long, then nap */
#define NAP_MAX_NS 1000000L

struct gd_mpi {
    struct gc_comm comm;
    double timeout_s;
    char host[MPI_MAX_PROCESSOR_NAME + 1];
};

int gd_mpi_launched(void)
{
    /* set by Open MPI's launcher (ORTE / PMIx) in every process it starts */
    return getenv("OMPI_COMM_WORLD_SIZE") != NULL || getenv("PMIX_RANK") != NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int mpi_fail(struct gd_mpi *m, int rc, const char *what, struct gc_error *err)
{
    char msg[MPI_MAX_ERROR_STRING + 1];
    int len = 0;
    if (MPI_Error_string(rc, msg, &len) != MPI_SUCCESS)
        len = 0;
    msg[len] = '\0';
    return gc_error_set(err, GC_ECOMM, "rank %d on %s: %s: %s", m->comm.rank, m->host, what,
                        len ? msg : "MPI error");
}

/* Tests req until it completes or the deadline passes. */
static int wait_for(struct gd_mpi *m, MPI_Request *req, const char *what, struct gc_error *err)
{
    double t0 = now_s(), t = t0;
    long nap = 10000; /* ns */
    for (;;) {
        int done = 0;
        int rc = MPI_Test(req, &done, MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS)
            return mpi_fail(m, rc, what, err);
        if (done)
            return 0;
        t = now_s();
        if (t - t0 > m->timeout_s)
            return gc_error_set(err, GC_ECOMM,
                                "rank %d on %s: no answer from the other ranks within %g s "
                                "in %s (a rank died, hangs, or its host cannot be reached)",
                                m->comm.rank, m->host, m->timeout_s, what);
        if (t - t0 < SPIN_S)
            continue;
        if (t - t0 < YIELD_S) {
            sched_yield();
            continue;
        }
        struct timespec ts = {0, nap};
        nanosleep(&ts, NULL);
        if (nap < NAP_MAX_NS)
            nap *= 2;
    }
}

static int sum(struct gd_mpi *m, void *buf, size_t n, MPI_Datatype type, size_t size,
               struct gc_error *err)
{
    for (size_t off = 0; off < n; off += SLICE) {
        size_t k = n - off < SLICE ? n - off : SLICE;
        MPI_Request req;
        int rc = MPI_Iallreduce(MPI_IN_PLACE, (char *)buf + off * size, (int)k, type, MPI_SUM,
                                MPI_COMM_WORLD, &req);
        if (rc != MPI_SUCCESS)
            return mpi_fail(m, rc, "allreduce", err);
        if ((rc = wait_for(m, &req, "allreduce", err)))
            return rc;
    }
    return 0;
}

static int sum_f32(void *ctx, float *buf, size_t n, struct gc_error *err)
{
    return sum(ctx, buf, n, MPI_FLOAT, sizeof *buf, err);
}

static int sum_f64(void *ctx, double *buf, size_t n, struct gc_error *err)
{
    return sum(ctx, buf, n, MPI_DOUBLE, sizeof *buf, err);
}

static int bcast(void *ctx, void *buf, size_t len, int root, struct gc_error *err)
{
    struct gd_mpi *m = ctx;
    for (size_t off = 0; off < len; off += SLICE) {
        size_t k = len - off < SLICE ? len - off : SLICE;
        MPI_Request req;
        int rc = MPI_Ibcast((char *)buf + off, (int)k, MPI_BYTE, root, MPI_COMM_WORLD, &req);
        if (rc != MPI_SUCCESS)
            return mpi_fail(m, rc, "broadcast", err);
        if ((rc = wait_for(m, &req, "broadcast", err)))
            return rc;
    }
    return 0;
}

static const struct gc_comm_ops ops = {sum_f32, sum_f64, bcast};

struct gd_mpi *gd_mpi_init(double timeout_s, struct gc_error *err)
{
    struct gd_mpi *m = calloc(1, sizeof *m);
    if (!m) {
        gc_error_set(err, GC_ENOMEM, "mpi: out of memory");
        return NULL;
    }
    m->timeout_s = timeout_s > 0 ? timeout_s : 300.0;
    int provided = 0;
    int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
    if (rc != MPI_SUCCESS) {
        gc_error_set(err, GC_ECOMM, "MPI_Init_thread failed (error %d)", rc);
        free(m);
        return NULL;
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    int rank = 0, size = 1, len = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (MPI_Get_processor_name(m->host, &len) != MPI_SUCCESS)
        len = 0;
    m->host[len] = '\0';
    if (provided < MPI_THREAD_FUNNELED) {
        gc_error_set(err, GC_ECOMM, "this MPI library gives no thread support (level %d)",
                     provided);
        MPI_Finalize();
        free(m);
        return NULL;
    }
    gc_comm_init(&m->comm, rank, size, &ops, m);
    return m;
}

struct gc_comm *gd_mpi_comm(struct gd_mpi *m)
{
    return &m->comm;
}

const char *gd_mpi_host(const struct gd_mpi *m)
{
    return m->host;
}

void gd_mpi_finalize(struct gd_mpi *m)
{
    if (!m)
        return;
    MPI_Finalize();
    free(m);
}

void gd_mpi_abort(struct gd_mpi *m, int code)
{
    (void)m;
    MPI_Abort(MPI_COMM_WORLD, code);
    /* MPI_Abort does not return; should it, the process must still end */
    _Exit(code ? code : 1);
}
