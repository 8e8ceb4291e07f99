/* comm.c — the communicator's calls: the one-process shortcut, the sticky first
 * failure and the counters around an implementation's operations (core/comm.h). */
#include "core/comm.h"

#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void gc_comm_init(struct gc_comm *c, int rank, int size, const struct gc_comm_ops *ops, void *ctx)
{
    memset(c, 0, sizeof *c);
    c->rank = rank;
    c->size = size;
    c->ops = ops;
    c->ctx = ctx;
}

/* Whether a call has anything to do; records the failure of a misuse. */
static int active(struct gc_comm *c)
{
    if (!c || c->size <= 1)
        return 0;
    if (!c->err.code && !c->ops)
        gc_error_set(&c->err, GC_ECOMM, "communicator of %d ranks has no transport", c->size);
    return 1;
}

/* Accounts one call of bytes that returned rc. */
static int account(struct gc_comm *c, double t0, size_t bytes, int rc)
{
    c->seconds += now_s() - t0;
    c->calls++;
    c->bytes += bytes;
    if (rc && !c->err.code) {
        if (!c->err.msg[0])
            gc_error_set(&c->err, GC_ECOMM, "rank %d: a collective call failed", c->rank);
        c->err.code = GC_ECOMM;
    }
    return c->err.code;
}

int gc_comm_sum_f32(struct gc_comm *c, float *buf, size_t n)
{
    if (!active(c))
        return 0;
    if (c->err.code)
        return c->err.code;
    double t0 = now_s();
    int rc = n ? c->ops->sum_f32(c->ctx, buf, n, &c->err) : 0;
    return account(c, t0, n * sizeof *buf, rc);
}

int gc_comm_sum_f64(struct gc_comm *c, double *buf, size_t n)
{
    if (!active(c))
        return 0;
    if (c->err.code)
        return c->err.code;
    double t0 = now_s();
    int rc = n ? c->ops->sum_f64(c->ctx, buf, n, &c->err) : 0;
    return account(c, t0, n * sizeof *buf, rc);
}

int gc_comm_bcast(struct gc_comm *c, void *buf, size_t len, int root)
{
    if (!active(c))
        return 0;
    if (c->err.code)
        return c->err.code;
    double t0 = now_s();
    int rc = len ? c->ops->bcast(c->ctx, buf, len, root, &c->err) : 0;
    return account(c, t0, len, rc);
}

int gc_comm_failed(const struct gc_comm *c, struct gc_error *err)
{
    if (!c || !c->err.code)
        return 0;
    if (err)
        *err = c->err;
    return c->err.code;
}
