/* test_conv.c — conv2d and convt2d: forwards against direct double-precision loops
 * (a 7-loop convolution, a scattering transposed convolution), backwards against
 * central finite differences of those loops, accumulation, NULL skips, shape checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <limits.h>
#include <string.h>

#include "core/blas.h"
#include "core/conv.h"
#include "core/gemm.h"
#include "layer_check.h"

struct conv_case {
    int n, c, h, w, oc, k, s, p;
};

/* odd sizes: H != W, channels not powers of two, stride 1 and 2, padding 0 and 1,
 * kernels 1, 3 and 4, batch 1. The kernels put a group of samples side by side in one
 * GEMM unless the grid (conv2d's output, convt2d's input) is wide: cases 7 and 11 take
 * groups with a remainder (12x10 grid, 7 samples) and one sample per GEMM (26x25
 * grid); see grouping_covers_every_path. Cases 8 to 10 have rows of 16 pixels and more
 * at stride 2, where the phase planes are built with vector shuffles; with odd widths
 * and kernel 3 case 10 reads the right padding of both phase planes. */
static const struct conv_case cases[] = {
    {2, 3, 7, 5, 5, 3, 1, 1},   {1, 3, 9, 6, 6, 4, 2, 1},   {2, 5, 8, 11, 3, 3, 2, 0},
    {3, 1, 6, 5, 7, 4, 1, 0},   {1, 2, 5, 4, 3, 1, 1, 0},   {2, 3, 5, 7, 6, 4, 2, 1},
    {2, 2, 13, 12, 3, 3, 1, 1}, {7, 1, 12, 10, 2, 3, 1, 1}, {1, 2, 9, 37, 3, 4, 2, 1},
    {2, 2, 5, 19, 2, 4, 2, 0},  {2, 1, 6, 33, 2, 3, 2, 1},  {2, 1, 26, 25, 2, 3, 1, 1},
};

/* out (n,oc,oh,ow) of the direct convolution; weight (oc,c,k,k) */
static void ref_conv2d(const struct gc_conv *L, int n, const double *inp, const double *wt,
                       const double *b, double *out)
{
    for (int i = 0; i < n; i++)
        for (int o = 0; o < L->oc; o++)
            for (int y = 0; y < L->oh; y++)
                for (int x = 0; x < L->ow; x++) {
                    double s = b ? b[o] : 0.0;
                    for (int c = 0; c < L->c; c++)
                        for (int ki = 0; ki < L->k; ki++)
                            for (int kj = 0; kj < L->k; kj++) {
                                int iy = y * L->stride - L->pad + ki;
                                int ix = x * L->stride - L->pad + kj;
                                if (iy < 0 || iy >= L->h || ix < 0 || ix >= L->w)
                                    continue;
                                s += inp[((i * L->c + c) * L->h + iy) * L->w + ix] *
                                     wt[((o * L->c + c) * L->k + ki) * L->k + kj];
                            }
                    out[((i * L->oc + o) * L->oh + y) * L->ow + x] = s;
                }
}

/* out (n,oc,oh,ow): every input pixel scatters its kernel-sized stamp; weight (c,oc,k,k) */
static void ref_convt2d(const struct gc_conv *L, int n, const double *inp, const double *wt,
                        const double *b, double *out)
{
    size_t osz = (size_t)n * L->oc * L->oh * L->ow;
    for (size_t j = 0; j < osz; j++)
        out[j] = b ? b[(j / ((size_t)L->oh * L->ow)) % L->oc] : 0.0;
    for (int i = 0; i < n; i++)
        for (int c = 0; c < L->c; c++)
            for (int y = 0; y < L->h; y++)
                for (int x = 0; x < L->w; x++) {
                    double v = inp[((i * L->c + c) * L->h + y) * L->w + x];
                    for (int o = 0; o < L->oc; o++)
                        for (int ki = 0; ki < L->k; ki++)
                            for (int kj = 0; kj < L->k; kj++) {
                                int oy = y * L->stride - L->pad + ki;
                                int ox = x * L->stride - L->pad + kj;
                                if (oy < 0 || oy >= L->oh || ox < 0 || ox >= L->ow)
                                    continue;
                                out[((i * L->oc + o) * L->oh + oy) * L->ow + ox] +=
                                    v * wt[((c * L->oc + o) * L->k + ki) * L->k + kj];
                            }
                }
}

struct tensors {
    size_t nin, nw, nb, nout;
    float *inp, *w, *b, *out, *r, *ws;
};

static void init_layer(struct gc_conv *L, const struct conv_case *cc, int transposed)
{
    struct gc_error err = {0};
    int rc = transposed
                 ? gc_convt2d_init(L, cc->n, cc->c, cc->h, cc->w, cc->oc, cc->k, cc->s, cc->p, &err)
                 : gc_conv2d_init(L, cc->n, cc->c, cc->h, cc->w, cc->oc, cc->k, cc->s, cc->p, &err);
    if (rc)
        fprintf(stderr, "init: %s\n", err.msg);
    assert_int_equal(rc, 0);
}

static struct tensors make_tensors(const struct gc_conv *L, uint64_t seed)
{
    struct gc_rng rng;
    gc_rng_init(&rng, seed, 0);
    struct tensors t;
    t.nin = (size_t)L->n * L->c * L->h * L->w;
    t.nw = (size_t)L->oc * L->c * L->k * L->k;
    t.nb = (size_t)L->oc;
    t.nout = (size_t)L->n * L->oc * L->oh * L->ow;
    t.inp = lc_random(&rng, t.nin);
    t.w = lc_random(&rng, t.nw);
    t.b = lc_random(&rng, t.nb);
    t.r = lc_random(&rng, t.nout);
    t.out = lc_alloc(t.nout);
    t.ws = lc_alloc(gc_conv_workspace(L));
    return t;
}

static void free_tensors(struct tensors *t)
{
    free(t->inp);
    free(t->w);
    free(t->b);
    free(t->r);
    free(t->out);
    free(t->ws);
}

static double *to_double(const float *x, size_t n)
{
    double *d = malloc((n ? n : 1) * sizeof(double));
    assert_non_null(d);
    for (size_t i = 0; i < n; i++)
        d[i] = x[i];
    return d;
}

static void ref_forward(const struct gc_conv *L, int n, const double *inp, const double *w,
                        const double *b, double *out)
{
    if (L->transposed)
        ref_convt2d(L, n, inp, w, b, out);
    else
        ref_conv2d(L, n, inp, w, b, out);
}

static void our_forward(const struct gc_conv *L, int n, struct tensors *t, const float *b)
{
    if (L->transposed)
        gc_convt2d_forward(L, n, t->out, t->inp, t->w, b, t->ws);
    else
        gc_conv2d_forward(L, n, t->out, t->inp, t->w, b, t->ws);
}

static void our_backward(const struct gc_conv *L, struct tensors *t, float *dinp, float *dw,
                         float *db)
{
    if (L->transposed)
        gc_convt2d_backward(L, L->n, dinp, 1, dw, db, t->r, t->inp, t->w, t->ws);
    else
        gc_conv2d_backward(L, L->n, dinp, 1, dw, db, t->r, t->inp, t->w, t->ws);
}

static void check_forward(const struct conv_case *cc, int transposed, int with_bias)
{
    struct gc_conv L;
    init_layer(&L, cc, transposed);
    struct tensors t = make_tensors(&L, 11);
    double *din = to_double(t.inp, t.nin), *dw = to_double(t.w, t.nw), *db = to_double(t.b, t.nb);
    double *want = malloc(t.nout * sizeof(double));
    assert_non_null(want);
    ref_forward(&L, L.n, din, dw, with_bias ? db : NULL, want);
    /* garbage in out and ws: the forward must overwrite both, never read them */
    memset(t.out, 0x7f, t.nout * sizeof(float));
    memset(t.ws, 0x7f, gc_conv_workspace(&L) * sizeof(float));
    our_forward(&L, L.n, &t, with_bias ? t.b : NULL);
    assert_int_equal(lc_mismatches("out", t.out, want, t.nout, 1e-5, 1e-5), 0);
    free(want);
    free(din);
    free(dw);
    free(db);
    free_tensors(&t);
}

static double loss(const struct gc_conv *L, const double *inp, const double *w, const double *b,
                   const double *r, double *scratch, size_t nout)
{
    ref_forward(L, L->n, inp, w, b, scratch);
    double s = 0.0;
    for (size_t i = 0; i < nout; i++)
        s += scratch[i] * r[i];
    return s;
}

/* d loss / d x[i] for every i by central differences over the double reference */
static void finite_diff(const struct gc_conv *L, double *x, size_t nx, double *grad,
                        const double *inp, const double *w, const double *b, const double *r,
                        double *scratch, size_t nout)
{
    for (size_t i = 0; i < nx; i++) {
        double keep = x[i];
        x[i] = keep + LC_FD_STEP;
        double lp = loss(L, inp, w, b, r, scratch, nout);
        x[i] = keep - LC_FD_STEP;
        double lm = loss(L, inp, w, b, r, scratch, nout);
        x[i] = keep;
        grad[i] = (lp - lm) / (2 * LC_FD_STEP);
    }
}

static void check_backward(const struct conv_case *cc, int transposed)
{
    struct gc_conv L;
    init_layer(&L, cc, transposed);
    struct tensors t = make_tensors(&L, 23);
    double *din = to_double(t.inp, t.nin), *dw = to_double(t.w, t.nw), *db = to_double(t.b, t.nb);
    double *dr = to_double(t.r, t.nout);
    double *scratch = malloc(t.nout * sizeof(double));
    double *g_in = malloc(t.nin * sizeof(double)), *g_w = malloc(t.nw * sizeof(double));
    double *g_b = malloc(t.nb * sizeof(double));
    assert_true(scratch && g_in && g_w && g_b);
    finite_diff(&L, din, t.nin, g_in, din, dw, db, dr, scratch, t.nout);
    finite_diff(&L, dw, t.nw, g_w, din, dw, db, dr, scratch, t.nout);
    finite_diff(&L, db, t.nb, g_b, din, dw, db, dr, scratch, t.nout);

    float *a_in = lc_zeros(t.nin), *a_w = lc_zeros(t.nw), *a_b = lc_zeros(t.nb);
    memset(t.ws, 0x7f, gc_conv_workspace(&L) * sizeof(float));
    our_backward(&L, &t, a_in, a_w, a_b);
    assert_int_equal(lc_mismatches("dinp", a_in, g_in, t.nin, LC_GRAD_ATOL, LC_GRAD_RTOL), 0);
    assert_int_equal(lc_mismatches("dweight", a_w, g_w, t.nw, LC_GRAD_ATOL, LC_GRAD_RTOL), 0);
    assert_int_equal(lc_mismatches("dbias", a_b, g_b, t.nb, LC_GRAD_ATOL, LC_GRAD_RTOL), 0);

    /* a second call adds the same gradient again */
    our_backward(&L, &t, a_in, a_w, a_b);
    for (size_t i = 0; i < t.nin; i++)
        g_in[i] *= 2;
    for (size_t i = 0; i < t.nw; i++)
        g_w[i] *= 2;
    for (size_t i = 0; i < t.nb; i++)
        g_b[i] *= 2;
    assert_int_equal(lc_mismatches("2 dinp", a_in, g_in, t.nin, LC_GRAD_ATOL, LC_GRAD_RTOL), 0);
    assert_int_equal(lc_mismatches("2 dweight", a_w, g_w, t.nw, LC_GRAD_ATOL, LC_GRAD_RTOL), 0);
    assert_int_equal(lc_mismatches("2 dbias", a_b, g_b, t.nb, LC_GRAD_ATOL, LC_GRAD_RTOL), 0);

    free(a_in);
    free(a_w);
    free(a_b);
    free(g_in);
    free(g_w);
    free(g_b);
    free(scratch);
    free(din);
    free(dw);
    free(db);
    free(dr);
    free_tensors(&t);
}

static void conv2d_forward_matches_direct(void **state)
{
    check_forward(*state, 0, 1);
}

static void convt2d_forward_matches_scatter(void **state)
{
    check_forward(*state, 1, 1);
}

static void conv2d_backward_matches_finite_differences(void **state)
{
    check_backward(*state, 0);
}

static void convt2d_backward_matches_finite_differences(void **state)
{
    check_backward(*state, 1);
}

static void forward_without_bias(void **state)
{
    (void)state;
    check_forward(&cases[1], 0, 0);
    check_forward(&cases[1], 1, 0);
    check_forward(&cases[2], 1, 0);
}

/* only the gradients asked for are touched; the others may be NULL */
static void null_gradients_are_skipped(void **state)
{
    (void)state;
    for (int transposed = 0; transposed < 2; transposed++) {
        struct gc_conv L;
        init_layer(&L, &cases[0], transposed);
        struct tensors t = make_tensors(&L, 5);
        float *full_in = lc_zeros(t.nin), *full_w = lc_zeros(t.nw), *full_b = lc_zeros(t.nb);
        our_backward(&L, &t, full_in, full_w, full_b);
        for (int mask = 0; mask < 8; mask++) {
            float *a_in = mask & 1 ? lc_zeros(t.nin) : NULL;
            float *a_w = mask & 2 ? lc_zeros(t.nw) : NULL;
            float *a_b = mask & 4 ? lc_zeros(t.nb) : NULL;
            our_backward(&L, &t, a_in, a_w, a_b);
            if (a_in)
                assert_memory_equal(a_in, full_in, t.nin * sizeof(float));
            if (a_w)
                assert_memory_equal(a_w, full_w, t.nw * sizeof(float));
            if (a_b)
                assert_memory_equal(a_b, full_b, t.nb * sizeof(float));
            free(a_in);
            free(a_w);
            free(a_b);
        }
        free(full_in);
        free(full_w);
        free(full_b);
        free_tensors(&t);
    }
}

/* Without add_dinp the backward writes dinp: over garbage (NaN, which a read would
 * spread) it gives the bits that adding into zeros gives, in float32 and bfloat16. */
static void written_dinp_is_the_added_one(void **state)
{
    const struct conv_case *cc = *state;
    for (int transposed = 0; transposed < 2; transposed++)
        for (int bf16 = 0; bf16 < 2; bf16++) {
            struct gc_conv L;
            init_layer(&L, cc, transposed);
            L.bf16 = bf16;
            struct tensors t = make_tensors(&L, 13);
            float *added = lc_zeros(t.nin), *written = lc_alloc(t.nin);
            memset(written, 0xff, t.nin * sizeof(float));
            if (transposed) {
                gc_convt2d_backward(&L, L.n, added, 1, NULL, NULL, t.r, t.inp, t.w, t.ws);
                gc_convt2d_backward(&L, L.n, written, 0, NULL, NULL, t.r, t.inp, t.w, t.ws);
            } else {
                gc_conv2d_backward(&L, L.n, added, 1, NULL, NULL, t.r, t.inp, t.w, t.ws);
                gc_conv2d_backward(&L, L.n, written, 0, NULL, NULL, t.r, t.inp, t.w, t.ws);
            }
            assert_memory_equal(written, added, t.nin * sizeof(float));
            free(added);
            free(written);
            free_tensors(&t);
        }
}

/* a layer built for a batch of 3 runs a call of 2 and leaves the third sample alone */
static void partial_batch(void **state)
{
    (void)state;
    for (int transposed = 0; transposed < 2; transposed++) {
        struct conv_case cc = cases[5];
        cc.n = 3;
        struct gc_conv L;
        init_layer(&L, &cc, transposed);
        struct tensors t = make_tensors(&L, 9);
        double *din = to_double(t.inp, t.nin), *dw = to_double(t.w, t.nw);
        double *db = to_double(t.b, t.nb);
        double *want = malloc(t.nout * sizeof(double));
        assert_non_null(want);
        ref_forward(&L, 2, din, dw, db, want);
        size_t per = t.nout / 3;
        for (size_t i = 0; i < per; i++)
            t.out[2 * per + i] = 42.0f;
        our_forward(&L, 2, &t, t.b);
        assert_int_equal(lc_mismatches("out", t.out, want, 2 * per, 1e-5, 1e-5), 0);
        for (size_t i = 0; i < per; i++)
            assert_true(t.out[2 * per + i] == 42.0f);
        free(want);
        free(din);
        free(dw);
        free(db);
        free_tensors(&t);
    }
}

/* the cases above reach one sample per GEMM, groups that do not divide the batch and
 * the whole batch in one GEMM */
static void grouping_covers_every_path(void **state)
{
    (void)state;
    for (int transposed = 0; transposed < 2; transposed++) {
        struct gc_conv L;
        init_layer(&L, &cases[11], transposed);
        assert_int_equal(gc_conv_group(&L), 1);
        assert_true(L.n > 1);
        init_layer(&L, &cases[7], transposed);
        int nb = gc_conv_group(&L);
        assert_true(nb > 1 && nb < L.n && L.n % nb != 0);
        init_layer(&L, &cases[0], transposed);
        assert_int_equal(gc_conv_group(&L), L.n);
    }
}

static void output_sizes(void **state)
{
    (void)state;
    struct gc_conv L;
    struct gc_error err = {0};
    /* the reference DCGAN: D 28 -> 14 -> 7, G 7 -> 14 -> 28 */
    assert_int_equal(gc_conv2d_init(&L, 64, 1, 28, 28, 64, 4, 2, 1, &err), 0);
    assert_int_equal(L.oh, 14);
    assert_int_equal(L.ow, 14);
    assert_int_equal(L.transposed, 0);
    assert_int_equal(gc_convt2d_init(&L, 64, 128, 7, 7, 64, 4, 2, 1, &err), 0);
    assert_int_equal(L.oh, 14);
    assert_int_equal(L.ow, 14);
    assert_int_equal(L.transposed, 1);
    assert_int_equal(gc_conv2d_init(&L, 1, 2, 9, 6, 3, 3, 2, 0, &err), 0);
    assert_int_equal(L.oh, 4);
    assert_int_equal(L.ow, 2);
    assert_int_equal(gc_convt2d_init(&L, 1, 2, 4, 2, 3, 3, 2, 0, &err), 0);
    assert_int_equal(L.oh, 9);
    assert_int_equal(L.ow, 5);
    assert_true(gc_conv_workspace(&L) >= (size_t)3 * 9 * 4 * 2);
}

struct bad_shape {
    int n, c, h, w, oc, k, s, p;
    const char *word; /* expected in the message */
};

static void bad_shapes_are_rejected(void **state)
{
    (void)state;
    static const struct bad_shape bad[] = {
        {0, 3, 8, 8, 4, 3, 1, 1, "positive"},
        {2, 0, 8, 8, 4, 3, 1, 1, "positive"},
        {2, 3, -1, 8, 4, 3, 1, 1, "positive"},
        {2, 3, 8, 0, 4, 3, 1, 1, "positive"},
        {2, 3, 8, 8, 0, 3, 1, 1, "positive"},
        {2, 3, 8, 8, 4, 0, 1, 0, "kernel"},
        {2, 3, 8, 8, 4, -3, 1, 0, "kernel"},
        {2, 3, 8, 8, 4, 3, 0, 1, "stride"},
        {2, 3, 8, 8, 4, 3, -2, 1, "stride"},
        {2, 3, 8, 8, 4, 3, 1, -1, "padding"},
        {2, 3, 8, 8, 4, 3, 1, 3, "padding"},
        {2, 3, 8, 8, 4, 3, 1, INT_MAX, "padding"},
        {INT_MAX, INT_MAX, 65536, 65536, 4, 3, 1, 1, "too large"},
        {64, 1024, 1024, 1024, 1024, 4, 2, 1, "too large"},
        {1, 1, 8, 8, INT_MAX, 3, 1, 1, "too large"},
        {1, 1, 8, 8, 8, 65536, 1, 1, "size"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const struct bad_shape *b = &bad[i];
        for (int transposed = 0; transposed < 2; transposed++) {
            struct gc_conv L;
            struct gc_error err = {0};
            int rc =
                transposed
                    ? gc_convt2d_init(&L, b->n, b->c, b->h, b->w, b->oc, b->k, b->s, b->p, &err)
                    : gc_conv2d_init(&L, b->n, b->c, b->h, b->w, b->oc, b->k, b->s, b->p, &err);
            if (rc != GC_EINVAL || !strstr(err.msg, b->word))
                fprintf(stderr, "case %zu transposed %d: rc %d msg '%s'\n", i, transposed, rc,
                        err.msg);
            assert_int_equal(rc, GC_EINVAL);
            assert_int_equal(err.code, GC_EINVAL);
            assert_non_null(strstr(err.msg, b->word));
            /* err may be NULL */
            rc = transposed
                     ? gc_convt2d_init(&L, b->n, b->c, b->h, b->w, b->oc, b->k, b->s, b->p, NULL)
                     : gc_conv2d_init(&L, b->n, b->c, b->h, b->w, b->oc, b->k, b->s, b->p, NULL);
            assert_int_equal(rc, GC_EINVAL);
        }
    }
}

/* shapes only one direction rejects: the output would be empty or overflow */
static void bad_output_sizes(void **state)
{
    (void)state;
    struct gc_conv L;
    struct gc_error err = {0};
    /* conv2d: 2x2 input, kernel 4, padding 0 -> no output pixel */
    assert_int_equal(gc_conv2d_init(&L, 1, 1, 2, 9, 1, 4, 1, 0, &err), GC_EINVAL);
    assert_non_null(strstr(err.msg, "output size"));
    assert_int_equal(gc_conv2d_init(&L, 1, 1, 9, 2, 1, 4, 1, 0, &err), GC_EINVAL);
    /* convt2d: (1-1)*1 - 2*2 + 3 = -1 */
    err.msg[0] = '\0';
    assert_int_equal(gc_convt2d_init(&L, 1, 1, 1, 1, 1, 3, 1, 2, &err), GC_EINVAL);
    assert_non_null(strstr(err.msg, "output size"));
    /* convt2d: (h-1)*stride overflows int */
    err.msg[0] = '\0';
    assert_int_equal(gc_convt2d_init(&L, 1, 1, 70000, 1, 1, 3, 70000, 1, &err), GC_EINVAL);
    assert_true(err.msg[0] != '\0');
    assert_int_equal(gc_convt2d_init(&L, 1, 1, INT_MAX, INT_MAX, 1, 3, INT_MAX, 0, &err),
                     GC_EINVAL);
    assert_int_equal(gc_conv2d_init(&L, 1, 1, INT_MAX, INT_MAX, 1, 3, 1, 1, &err), GC_EINVAL);
    /* the edges of the valid range are accepted */
    assert_int_equal(gc_conv2d_init(&L, 1, 1, 2, 2, 1, 4, 1, 1, &err), 0);
    assert_int_equal(L.oh, 1);
    assert_int_equal(gc_convt2d_init(&L, 1, 1, 1, 1, 1, 3, 1, 1, &err), 0);
    assert_int_equal(L.oh, 1);
}

/* With bf16 a layer rounds the inputs of its GEMMs to bfloat16 and sums in float32:
 * forward and backward are the float32 layer's on rounded inputs, weights and dout
 * (and on a rounded bias for conv2d, whose bias rides in its GEMM), to float32
 * rounding, since products of bfloat16 are exact in float32. The bias gradient sums
 * dout outside any GEMM and is the float32 one exactly. */
static void bf16_matches_float32_on_rounded_inputs(void **state)
{
    const struct conv_case *cc = *state;
    if (!gc_gemm_bf16_available()) {
        print_message("this CPU has no AVX512-BF16: bf16 layers run in float32\n");
        skip();
    }
    for (int transposed = 0; transposed < 2; transposed++) {
        struct gc_conv L, R;
        init_layer(&L, cc, transposed);
        init_layer(&R, cc, transposed);
        L.bf16 = 1;
        struct tensors t = make_tensors(&L, 31);
        float *ri = lc_bf16_copy(t.inp, t.nin), *rw = lc_bf16_copy(t.w, t.nw);
        float *rr = lc_bf16_copy(t.r, t.nout);
        float *rb = transposed ? t.b : lc_bf16_copy(t.b, t.nb);
        float *want = lc_alloc(t.nout), *rws = lc_alloc(gc_conv_workspace(&R));
        if (transposed) {
            gc_convt2d_forward(&L, L.n, t.out, t.inp, t.w, t.b, t.ws);
            gc_convt2d_forward(&R, R.n, want, ri, rw, rb, rws);
        } else {
            gc_conv2d_forward(&L, L.n, t.out, t.inp, t.w, t.b, t.ws);
            gc_conv2d_forward(&R, R.n, want, ri, rw, rb, rws);
        }
        double *dwant = to_double(want, t.nout);
        assert_int_equal(lc_mismatches("bf16 out", t.out, dwant, t.nout, 1e-5, 1e-5), 0);
        float *gi = lc_zeros(t.nin), *gw = lc_zeros(t.nw), *gb = lc_zeros(t.nb);
        float *hi = lc_zeros(t.nin), *hw = lc_zeros(t.nw), *hb = lc_zeros(t.nb);
        our_backward(&L, &t, gi, gw, gb);
        if (transposed)
            gc_convt2d_backward(&R, R.n, hi, 1, hw, NULL, rr, ri, rw, rws);
        else
            gc_conv2d_backward(&R, R.n, hi, 1, hw, NULL, rr, ri, rw, rws);
        our_backward(&R, &t, NULL, NULL, hb); /* float32, unrounded dout */
        double *wi = to_double(hi, t.nin), *ww = to_double(hw, t.nw);
        assert_int_equal(lc_mismatches("bf16 dinp", gi, wi, t.nin, 1e-5, 1e-5), 0);
        assert_int_equal(lc_mismatches("bf16 dweight", gw, ww, t.nw, 1e-5, 1e-5), 0);
        assert_memory_equal(gb, hb, t.nb * sizeof(float));
        free(dwant);
        free(wi);
        free(ww);
        free(gi);
        free(gw);
        free(gb);
        free(hi);
        free(hw);
        free(hb);
        free(ri);
        free(rw);
        free(rr);
        if (!transposed)
            free(rb);
        free(want);
        free(rws);
        free_tensors(&t);
    }
}

/* A weight packed ahead in parts (as the threads of a pool pack it between them) gives
 * the bits of the weight each call packs for itself, forward and backward, float32
 * and bf16; a packed weight that does not match the call (another use, a too small
 * room) is passed over, not misread. */
static void packed_weight_gives_the_same_bits(void **state)
{
    const struct conv_case *cc = *state;
    for (int kind = 0; kind < 4; kind++) {
        const int transposed = kind & 1, bf16 = kind >> 1;
        if (bf16 && !gc_gemm_bf16_available())
            continue;
        struct gc_conv L;
        init_layer(&L, cc, transposed);
        L.bf16 = bf16;
        struct tensors t = make_tensors(&L, 41 + kind);
        float *want = lc_alloc(t.nout), *wi = lc_zeros(t.nin), *ww = lc_zeros(t.nw);
        float *gi = lc_zeros(t.nin), *gw = lc_zeros(t.nw);
        our_forward(&L, L.n, &t, NULL);
        memcpy(want, t.out, t.nout * sizeof(float));
        our_backward(&L, &t, wi, ww, NULL);
        const enum gc_conv_use uses[] = {GC_CONV_FORWARD, GC_CONV_DINP};
        struct gc_gemm_packed_a pk[2][3];
        float *buf[2];
        for (int u = 0; u < 2; u++) {
            const size_t words = gc_conv_pack_words(&L, uses[u]);
            assert_true(words > 0);
            buf[u] = lc_alloc(words);
            for (int ith = 0; ith < 3; ith++)
                gc_conv_pack_weight(&L, uses[u], t.w, buf[u], words, ith, 3, &pk[u][ith]);
            assert_memory_equal(&pk[u][0], &pk[u][1], sizeof pk[u][0]);
            assert_memory_equal(&pk[u][0], &pk[u][2], sizeof pk[u][0]);
            if (gc_gemm_have_avx512())
                assert_non_null(pk[u][0].packed);
            struct gc_gemm_packed_a small; /* 8 words: less than a sliver of 14 rows */
            gc_conv_pack_weight(&L, uses[u], t.w, buf[u], 8, 0, 1, &small);
            assert_null(small.packed);
        }
        for (int u = 0; u < 2; u++) { /* u 1: the other use's, passed over */
            memset(t.out, 0, t.nout * sizeof(float));
            gc_conv_forward_packed(&L, L.n, t.out, t.inp, t.w, NULL, &pk[u][0], t.ws);
            assert_memory_equal(t.out, want, t.nout * sizeof(float));
            memset(gi, 0, t.nin * sizeof(float));
            memset(gw, 0, t.nw * sizeof(float));
            gc_conv_backward_packed(&L, L.n, gi, 1, gw, NULL, t.r, t.inp, t.w, &pk[1 - u][0], t.ws);
            assert_memory_equal(gi, wi, t.nin * sizeof(float));
            assert_memory_equal(gw, ww, t.nw * sizeof(float));
        }
        /* with a bias a conv2d packs the two as one operand itself */
        our_forward(&L, L.n, &t, t.b);
        memcpy(want, t.out, t.nout * sizeof(float));
        gc_conv_forward_packed(&L, L.n, t.out, t.inp, t.w, t.b, &pk[0][0], t.ws);
        assert_memory_equal(t.out, want, t.nout * sizeof(float));
        free(buf[0]);
        free(buf[1]);
        free(want);
        free(wi);
        free(ww);
        free(gi);
        free(gw);
        free_tensors(&t);
    }
}

#define PER_CASE(fn)                                                                               \
    cmocka_unit_test_prestate(fn, (void *)&cases[0]),                                              \
        cmocka_unit_test_prestate(fn, (void *)&cases[1]),                                          \
        cmocka_unit_test_prestate(fn, (void *)&cases[2]),                                          \
        cmocka_unit_test_prestate(fn, (void *)&cases[3]),                                          \
        cmocka_unit_test_prestate(fn, (void *)&cases[4]),                                          \
        cmocka_unit_test_prestate(fn, (void *)&cases[5]),                                          \
        cmocka_unit_test_prestate(fn, (void *)&cases[6]),                                          \
        cmocka_unit_test_prestate(fn, (void *)&cases[7]),                                          \
        cmocka_unit_test_prestate(fn, (void *)&cases[8]),                                          \
        cmocka_unit_test_prestate(fn, (void *)&cases[9]),                                          \
        cmocka_unit_test_prestate(fn, (void *)&cases[10]),                                         \
        cmocka_unit_test_prestate(fn, (void *)&cases[11])

int main(void)
{
    const struct CMUnitTest tests[] = {
        PER_CASE(conv2d_forward_matches_direct),
        PER_CASE(convt2d_forward_matches_scatter),
        PER_CASE(conv2d_backward_matches_finite_differences),
        PER_CASE(convt2d_backward_matches_finite_differences),
        PER_CASE(bf16_matches_float32_on_rounded_inputs),
        PER_CASE(written_dinp_is_the_added_one),
        PER_CASE(packed_weight_gives_the_same_bits),
        cmocka_unit_test(forward_without_bias),
        cmocka_unit_test(null_gradients_are_skipped),
        cmocka_unit_test(partial_batch),
        cmocka_unit_test(grouping_covers_every_path),
        cmocka_unit_test(output_sizes),
        cmocka_unit_test(bad_shapes_are_rejected),
        cmocka_unit_test(bad_output_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
