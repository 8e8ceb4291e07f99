/* bench_layers.c — our layers against the plain GEMMs they perform.
 *
 * For the layer shapes of the reference DCGAN at batch 64 it times each layer's
 * forward and backward (all gradients) and, in the same run, the bare cblas_sgemm
 * calls of the same sizes that the layer makes. GFLOP/s count the GEMM flops only
 * (2mnk), so the ratio layer/GEMM is the share of time the layer spends in GEMM:
 * what im2col, col2im, bias and copies cost on top. Each figure is the median of
 * several repetitions of about 20 ms; layer and GEMM repetitions alternate.
 * GEMM shapes read m x n x k * calls in row-major terms.
 *
 * Everything runs on one thread with OpenBLAS on one thread, as each thread of the
 * engine's pool runs a layer's share (core/blas.h).
 *
 *   bench_layers [--reps N]     (default: 9 repetitions) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/blas.h"
#include "core/conv.h"
#include "core/linear.h"
#include "core/rng.h"

#define MAX_GEMMS 3
#define MAX_REPS 101

/* count calls of one shape per pass. Operand X of call j starts at j * x_step floats:
 * the steps mirror the layer's (per-sample slices of a batch tensor move, the weight
 * and the col buffer stay), so the bare GEMMs see the same memory traffic. beta is 1
 * where the layer must accumulate (gradients), 0 where it could overwrite. */
struct gemm {
    int ta, tb, m, n, k, count;
    size_t a_step, b_step, c_step;
    float beta;
};

struct pass {
    const char *layer, *name;
    struct gemm g[MAX_GEMMS];
    int ng;
    void (*run)(void *ctx);
    void *ctx;
};

struct conv_ctx {
    struct gc_conv L;
    float *inp, *w, *b, *out, *ws, *dinp, *dw, *db;
};

struct linear_ctx {
    int n, in, out;
    float *inp, *w, *b, *y, *dinp, *dw, *db;
};

/* Everything runs on the calling thread: its CPU clock leaves out the time other
 * processes take the core, which on a shared machine otherwise swamps the numbers. */
static const clockid_t bench_clock = CLOCK_THREAD_CPUTIME_ID;

static double now(void)
{
    struct timespec ts;
    clock_gettime(bench_clock, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static float *buf(struct gc_rng *r, size_t n)
{
    float *p = malloc(n * sizeof(float));
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    gc_rng_fill_uniform(r, p, n, -1.0f, 1.0f);
    return p;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* calls of fn that take about 20 ms */
static int calibrate(void (*fn)(void *), void *ctx)
{
    fn(ctx); /* warm caches and OpenBLAS buffers */
    double t0 = now();
    fn(ctx);
    double one = now() - t0;
    return one > 0.02 ? 1 : (int)(0.02 / (one > 1e-7 ? one : 1e-7)) + 1;
}

static double time_calls(void (*fn)(void *), void *ctx, int iters)
{
    double t0 = now();
    for (int i = 0; i < iters; i++)
        fn(ctx);
    return (now() - t0) / iters;
}

/* Median seconds per call of a and of b. Their repetitions alternate so that both see
 * the same load of a shared machine. */
static void time_pair(void (*a)(void *), void *actx, void (*b)(void *), void *bctx, int reps,
                      double *ta, double *tb)
{
    double xa[MAX_REPS], xb[MAX_REPS];
    int na = calibrate(a, actx), nb = calibrate(b, bctx);
    for (int r = 0; r < reps; r++) {
        xa[r] = time_calls(a, actx, na);
        xb[r] = time_calls(b, bctx, nb);
    }
    qsort(xa, reps, sizeof xa[0], cmp_double);
    qsort(xb, reps, sizeof xb[0], cmp_double);
    *ta = xa[reps / 2];
    *tb = xb[reps / 2];
}

static void conv2d_fwd(void *p)
{
    struct conv_ctx *c = p;
    gc_conv2d_forward(&c->L, c->L.n, c->out, c->inp, c->w, c->b, c->ws);
}

static void conv2d_bwd(void *p)
{
    struct conv_ctx *c = p;
    gc_conv2d_backward(&c->L, c->L.n, c->dinp, 1, c->dw, c->db, c->out, c->inp, c->w, c->ws);
}

static void convt2d_fwd(void *p)
{
    struct conv_ctx *c = p;
    gc_convt2d_forward(&c->L, c->L.n, c->out, c->inp, c->w, c->b, c->ws);
}

static void convt2d_bwd(void *p)
{
    struct conv_ctx *c = p;
    gc_convt2d_backward(&c->L, c->L.n, c->dinp, 1, c->dw, c->db, c->out, c->inp, c->w, c->ws);
}

static void linear_fwd(void *p)
{
    struct linear_ctx *c = p;
    gc_linear_forward(c->y, c->inp, c->w, c->b, c->n, c->in, c->out, 0);
}

static void linear_bwd(void *p)
{
    struct linear_ctx *c = p;
    gc_linear_backward(c->dinp, c->dw, c->db, c->y, c->inp, c->w, c->n, c->in, c->out, 0);
}

/* The bare GEMMs of a pass, each shape on buffers of its own. */
struct gemm_ctx {
    const struct pass *p;
    float *a[MAX_GEMMS], *b[MAX_GEMMS], *c[MAX_GEMMS];
};

static void gemms(void *ctx)
{
    struct gemm_ctx *g = ctx;
    for (int i = 0; i < g->p->ng; i++) {
        const struct gemm *s = &g->p->g[i];
        int lda = s->ta ? s->m : s->k, ldb = s->tb ? s->k : s->n;
        for (int j = 0; j < s->count; j++)
            gc_sgemm(s->ta, s->tb, s->m, s->n, s->k, 1.0f, g->a[i] + j * s->a_step, lda,
                     g->b[i] + j * s->b_step, ldb, s->beta, g->c[i] + j * s->c_step, s->n);
    }
}

/* appends g to the pass unless it makes no calls */
static void add_gemm(struct pass *p, struct gemm g)
{
    if (g.count > 0 && g.m > 0 && g.n > 0 && g.k > 0 && p->ng < MAX_GEMMS)
        p->g[p->ng++] = g;
}

static double pass_flops(const struct pass *p)
{
    double f = 0;
    for (int i = 0; i < p->ng; i++)
        f += 2.0 * p->g[i].m * p->g[i].n * p->g[i].k * p->g[i].count;
    return f;
}

static void shape_str(const struct pass *p, char *s, size_t n)
{
    size_t used = 0;
    s[0] = '\0';
    for (int i = 0; i < p->ng && used < n; i++)
        used += snprintf(s + used, n - used, "%s%dx%dx%d*%d", i ? " " : "", p->g[i].m, p->g[i].n,
                         p->g[i].k, p->g[i].count);
}

static void bench_pass(const struct pass *p, struct gc_rng *r, int reps)
{
    struct gemm_ctx g = {p, {0}, {0}, {0}};
    for (int i = 0; i < p->ng; i++) {
        const struct gemm *s = &p->g[i];
        size_t last = (size_t)s->count - 1;
        g.a[i] = buf(r, (size_t)s->m * s->k + last * s->a_step);
        g.b[i] = buf(r, (size_t)s->k * s->n + last * s->b_step);
        g.c[i] = buf(r, (size_t)s->m * s->n + last * s->c_step);
    }
    double t_layer, t_gemm;
    time_pair(p->run, p->ctx, gemms, &g, reps, &t_layer, &t_gemm);
    double f = pass_flops(p);
    char shapes[160];
    shape_str(p, shapes, sizeof shapes);
    printf("%-22s %-8s %-50s %8.3f %7.1f %9.1f %6.0f%%\n", p->layer, p->name, shapes, t_layer * 1e3,
           f / t_layer * 1e-9, f / t_gemm * 1e-9, 100.0 * t_gemm / t_layer);
    for (int i = 0; i < p->ng; i++) {
        free(g.a[i]);
        free(g.b[i]);
        free(g.c[i]);
    }
}

static void conv_alloc(struct conv_ctx *c, struct gc_rng *r)
{
    const struct gc_conv *L = &c->L;
    size_t nin = (size_t)L->n * L->c * L->h * L->w;
    size_t nout = (size_t)L->n * L->oc * L->oh * L->ow;
    size_t nw = (size_t)L->oc * L->c * L->k * L->k;
    c->inp = buf(r, nin);
    c->w = buf(r, nw);
    c->b = buf(r, L->oc);
    c->out = buf(r, nout);
    c->ws = buf(r, gc_conv_workspace(L));
    c->dinp = buf(r, nin);
    c->dw = buf(r, nw);
    c->db = buf(r, L->oc);
}

static void conv_free(struct conv_ctx *c)
{
    free(c->inp);
    free(c->w);
    free(c->b);
    free(c->out);
    free(c->ws);
    free(c->dinp);
    free(c->dw);
    free(c->db);
}

static void bench_conv(const char *name, int transposed, int n, int c, int h, int w, int oc, int k,
                       int s, int p, struct gc_rng *r, int reps)
{
    struct conv_ctx ctx;
    struct gc_error err = {0};
    int rc = transposed ? gc_convt2d_init(&ctx.L, n, c, h, w, oc, k, s, p, &err)
                        : gc_conv2d_init(&ctx.L, n, c, h, w, oc, k, s, p, &err);
    if (rc) {
        fprintf(stderr, "%s: %s\n", name, err.msg);
        exit(1);
    }
    conv_alloc(&ctx, r);
    const struct gc_conv *L = &ctx.L;
    int ckk = L->c * L->k * L->k, okk = L->oc * L->k * L->k;
    int pix = L->oh * L->ow, hw = L->h * L->w;
    /* the GEMMs the kernels in core/conv.c make, one set per sample */
    struct pass fwd = {name, "forward", {{0}}, 0, transposed ? convt2d_fwd : conv2d_fwd, &ctx};
    struct pass bwd = {name, "backward", {{0}}, 0, transposed ? convt2d_bwd : conv2d_bwd, &ctx};
    size_t in_sz = (size_t)L->c * hw, out_sz = (size_t)L->oc * pix;
    /* the GEMMs of core/conv.c: per sample, or over groups of nb samples side by side
     * (full groups, then the rest) for the GEMMs that grouping widens */
    const int nb = gc_conv_group(L), full = n / nb, rest = n % nb;
    if (!transposed) {
        /* out = w · col; dw += dout_i · col_iᵀ per sample; dcol = wᵀ · dout */
        if (nb == 1) {
            add_gemm(&fwd, (struct gemm){0, 0, L->oc, pix, ckk, n, 0, 0, out_sz, 0.0f});
            add_gemm(&bwd, (struct gemm){1, 0, ckk, pix, L->oc, n, 0, out_sz, 0, 0.0f});
        } else {
            add_gemm(&fwd, (struct gemm){0, 0, L->oc, nb * pix, ckk, full, 0, 0, 0, 0.0f});
            add_gemm(&fwd, (struct gemm){0, 0, L->oc, rest * pix, ckk, rest > 0, 0, 0, 0, 0.0f});
            add_gemm(&bwd, (struct gemm){1, 0, ckk, nb * pix, L->oc, full, 0, 0, 0, 0.0f});
            add_gemm(&bwd, (struct gemm){1, 0, ckk, rest * pix, L->oc, rest > 0, 0, 0, 0, 0.0f});
        }
        add_gemm(&bwd, (struct gemm){0, 1, L->oc, ckk, pix, n, out_sz, 0, 0, 1.0f});
    } else {
        /* col = wᵀ · inp; dinp += w · col; dw += inp_i · col_iᵀ per sample */
        if (nb == 1) {
            add_gemm(&fwd, (struct gemm){1, 0, okk, hw, L->c, n, 0, in_sz, 0, 0.0f});
            add_gemm(&bwd, (struct gemm){0, 0, L->c, hw, okk, n, 0, 0, in_sz, 1.0f});
        } else {
            add_gemm(&fwd, (struct gemm){1, 0, okk, nb * hw, L->c, full, 0, 0, 0, 0.0f});
            add_gemm(&fwd, (struct gemm){1, 0, okk, rest * hw, L->c, rest > 0, 0, 0, 0, 0.0f});
            add_gemm(&bwd, (struct gemm){0, 0, L->c, nb * hw, okk, full, 0, 0, 0, 0.0f});
            add_gemm(&bwd, (struct gemm){0, 0, L->c, rest * hw, okk, rest > 0, 0, 0, 0, 0.0f});
        }
        add_gemm(&bwd, (struct gemm){0, 1, L->c, okk, hw, n, in_sz, 0, 0, 1.0f});
    }
    bench_pass(&fwd, r, reps);
    bench_pass(&bwd, r, reps);
    conv_free(&ctx);
}

static void bench_linear(const char *name, int n, int in, int out, struct gc_rng *r, int reps)
{
    struct linear_ctx c = {n,
                           in,
                           out,
                           buf(r, (size_t)n * in),
                           buf(r, (size_t)out * in),
                           buf(r, out),
                           buf(r, (size_t)n * out),
                           buf(r, (size_t)n * in),
                           buf(r, (size_t)out * in),
                           buf(r, out)};
    struct pass fwd = {name, "forward", {{0, 1, n, out, in, 1, 0, 0, 0, 0.0f}}, 1, linear_fwd, &c};
    struct pass bwd = {name,
                       "backward",
                       {{0, 0, n, in, out, 1, 0, 0, 0, 1.0f}, {1, 0, out, in, n, 1, 0, 0, 0, 1.0f}},
                       2,
                       linear_bwd,
                       &c};
    bench_pass(&fwd, r, reps);
    bench_pass(&bwd, r, reps);
    free(c.inp);
    free(c.w);
    free(c.b);
    free(c.y);
    free(c.dinp);
    free(c.dw);
    free(c.db);
}

int main(int argc, char **argv)
{
    int reps = 9;
    gc_blas_init();
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
            reps = atoi(argv[++i]);
        } else {
            fprintf(stderr, "usage: %s [--reps N]\n", argv[0]);
            return 2;
        }
    }
    if (reps < 1 || reps > MAX_REPS) {
        fprintf(stderr, "--reps must be in [1, %d]\n", MAX_REPS);
        return 2;
    }
    struct gc_rng r;
    gc_rng_init(&r, 1, 0);
    printf("layers of the reference DCGAN, batch 64, one thread, median of %d, thread CPU "
           "clock\n",
           reps);
    printf("%-22s %-8s %-50s %8s %7s %9s %7s\n", "layer", "pass", "GEMMs (m x n x k * calls)", "ms",
           "GF/s", "GEMM GF/s", "ratio");
    bench_conv("D conv 1->64 28x28", 0, 64, 1, 28, 28, 64, 4, 2, 1, &r, reps);
    bench_conv("D conv 64->128 14x14", 0, 64, 64, 14, 14, 128, 4, 2, 1, &r, reps);
    bench_conv("G convT 128->64 7x7", 1, 64, 128, 7, 7, 64, 4, 2, 1, &r, reps);
    bench_conv("G convT 64->1 14x14", 1, 64, 64, 14, 14, 1, 4, 2, 1, &r, reps);
    bench_linear("G linear 100->6272", 64, 100, 6272, &r, reps);
    return 0;
}
