/* test_dist.c — one run trained by several ranks (core/comm.h, core/gan.h "Ranks"),
 * with ranks as threads of this process (thread_comm.h): the same run as one process
 * to rounding, for the MLP, the DCGAN with batch norm, MAD-GAN and every trick;
 * checkpoints that move between rank counts; the parts of a batch; synchronized batch
 * norm against the whole batch's; ranks that fail or drift apart.
 *
 * The real transport (MPI through daemon/comm_mpi.c, mpirun) is tested by
 * tests/integration/test_mpi.py; the numbers are the same code's.
 *
 * TOLERANCE. N ranks add the batch's sums (gradients, batch-norm statistics, loss
 * means) in another grouping than one process does; nothing else differs (the data,
 * noise and label draws are the same bits, checked below). One process on two threads
 * regroups the same sums (each thread sums its samples, then the threads' sums are
 * added), so its distance from one thread is what float rounding alone does to a run
 * over these steps. But a net with kinks (leaky ReLU after batch norm) turns one
 * rounding into another path: a value within an ulp of 0 takes the other side of the
 * kink, the gradient changes by a factor 0.2 there, and from that step two runs are two
 * trajectories that part by 1e-3 (measured: one such flip at step 9 of the DCGAN
 * makes all of the ranks' distance). Whether a given regrouping flips one is chance,
 * so the yardstick is the larger of the two threads' distance and that of one process
 * whose D starts one ulp away (every weight nudged by one unit in the last place: the
 * size of a single rounding, carried by the same dynamics). Each comparison asks the
 * ranks to stay within ROUNDING_FACTOR times the threads' distance (plus a floor of a
 * few float ulps for a spec where the reordering happens to change nothing) over the
 * first EARLY_STEPS steps, before any such flip has had time to grow, and over the
 * whole run within that or NUDGE_FACTOR times the one-ulp start's distance, or the
 * loss distance of a run parted from the start (D's weights moved by PART of their
 * value). When a flip comes is chance too, and the earlier, the farther the run lands:
 * after col2im's sums were regrouped, 2 ranks of the DCGAN flipped at step 19 and
 * reached 2.9e-3, the threads at step 33 and 2.6e-4, the one-ulp start never; a run
 * parted at step 0 bounds a flip at any step (4.1e-3 there). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/batchnorm.h"
#include "core/blas.h"
#include "core/data.h"
#include "core/gan.h"
#include "core/image.h"
#include "core/model.h"
#include "core/rng.h"
#include "tests/unit/core/sanitized.h"
#include "tests/unit/core/thread_comm.h"

#define MAX_STEPS 128
/* how far beyond one process's own rounding spread the ranks may be: the ranks regroup
 * the sums in more places (batch norm, the losses' means) than the threads do */
#define ROUNDING_FACTOR 8.0
#define LOSS_FLOOR 1e-5  /* absolute, for losses of order 1 */
#define PARAM_FLOOR 1e-5 /* relative to the largest weight */
#define EARLY_STEPS 5    /* the steps held to the threads' rounding alone */
/* a trajectory that parted at a kink lands as far as the one-ulp start, within this */
#define NUDGE_FACTOR 4.0
/* how far a run parted from the start lands: D's weights moved by this share of their
 * value (alternately up and down), a difference no rounding makes, from step 0 */
#define PART 0x1p-10f

/* ---- one run on some ranks ---------------------------------------------------------- */

/* What rank 0 reports: the losses of every step, the last checkpoint. */
struct curve {
    int64_t first, last; /* steps recorded: (first, last] */
    double loss_d[MAX_STEPS + 1], loss_g[MAX_STEPS + 1], share[MAX_STEPS + 1];
    uint8_t *ckpt;
    size_t ckpt_len;
    int64_t ckpt_step;
    int rollbacks; /* the watchdog's */
    int64_t rolled_to[8];
    int collapses; /* of the rollbacks: the evaluation rule's (mode_collapse) */
};

static int rec_metrics(void *ctx, int64_t step, const struct gc_metric *m, int n,
                       struct gc_error *err)
{
    (void)err;
    struct curve *c = ctx;
    if (step > MAX_STEPS)
        return 0;
    for (int i = 0; i < n; i++) {
        if (!strcmp(m[i].name, "loss_d"))
            c->loss_d[step] = m[i].value;
        else if (!strcmp(m[i].name, "loss_g"))
            c->loss_g[step] = m[i].value;
        else if (!strcmp(m[i].name, "comm_share"))
            c->share[step] = m[i].value;
    }
    if (c->first < 0)
        c->first = step - 1;
    c->last = step;
    return 0;
}

static int rec_alert(void *ctx, const struct gc_watch_event *e, struct gc_error *err)
{
    (void)err;
    struct curve *c = ctx;
    if (!strcmp(e->action, "rollback") && c->rollbacks < 8) {
        c->rolled_to[c->rollbacks++] = e->step;
        c->collapses += !strcmp(e->kind, "mode_collapse");
    }
    return 0;
}

static int rec_ckpt(void *ctx, int64_t step, const uint8_t *b, size_t len, struct gc_error *err)
{
    (void)err;
    struct curve *c = ctx;
    free(c->ckpt);
    c->ckpt = malloc(len);
    memcpy(c->ckpt, b, len);
    c->ckpt_len = len;
    c->ckpt_step = step;
    return 0;
}

/* Every generator's parameters, then D's, of t (malloc'ed). */
static float *all_params(struct gc_trainer *t, int K, size_t *n)
{
    size_t total = 0, k;
    for (int i = -1; i < K; i++) {
        gc_model_params(gc_trainer_test_model(t, i < 0 ? GC_TEST_D : i), &k);
        total += k;
    }
    float *out = malloc(total * sizeof *out), *o = out;
    for (int i = -1; i < K; i++) {
        const float *p = gc_model_params(gc_trainer_test_model(t, i < 0 ? GC_TEST_D : i), &k);
        memcpy(o, p, k * sizeof *p);
        o += k;
    }
    *n = total;
    return out;
}

struct rank_job {
    const struct gc_spec *spec;
    struct gc_comm *comm;
    int threads, split_all;
    int nudge; /* D's weights alternately up and down before training: 1 by one ulp, 2 by PART */
    const uint8_t *restore; /* rank 0 restores it first (the others get it from rank 0) */
    size_t restore_len;
    struct curve *curve; /* rank 0's */
    float *params;
    size_t nparams;
    int rc;
    struct gc_error err;
};

static void *rank_main(void *arg)
{
    struct rank_job *j = arg;
    struct gc_trainer_opts o = {.threads = j->threads, .load_data = 1, .comm = j->comm};
    struct gc_trainer *t = gc_trainer_create(j->spec, &o, &j->err);
    if (!t) {
        j->rc = j->err.code;
        return NULL;
    }
    if (j->split_all)
        for (int i = GC_TEST_D_COPY; i < j->spec->tricks.generators; i++)
            if (gc_trainer_test_model(t, i))
                gc_model_set_split_threshold(gc_trainer_test_model(t, i), 0.0);
    if (j->nudge) {
        size_t np;
        float *p = gc_model_params(gc_trainer_test_model(t, GC_TEST_D), &np);
        for (size_t i = 0; i < np; i++)
            p[i] = j->nudge == 1 ? nextafterf(p[i], i % 2 ? -INFINITY : INFINITY)
                                 : p[i] * (i % 2 ? 1.0f - PART : 1.0f + PART);
    }
    if (j->restore && gc_comm_rank(j->comm) == 0 &&
        (j->rc = gc_trainer_restore(t, j->restore, j->restore_len, &j->err)))
        goto out;
    struct gc_train_hooks h = {
        .ctx = j->curve, .metrics = rec_metrics, .checkpoint = rec_ckpt, .alert = rec_alert};
    j->rc = gc_trainer_run(t, j->curve ? &h : NULL, &j->err);
    j->params = all_params(t, j->spec->tricks.generators, &j->nparams);
out:
    gc_trainer_destroy(t);
    return NULL;
}

/* The spec trained on n ranks (0: one process with no communicator at all, on
 * `threads` threads, every layer split when split_all; -1, -2: one process on one
 * thread whose D starts one ulp away, or parted by PART). Fills c from rank 0 and
 * returns rank 0's parameters; every rank's must be the same bits. */
static float *train_on(const struct gc_spec *s, int n, int threads, int split_all,
                       const uint8_t *restore, size_t restore_len, struct curve *c, size_t *np)
{
    memset(c, 0, sizeof *c);
    c->first = -1;
    struct rank_job jobs[TC_MAX_RANKS];
    memset(jobs, 0, sizeof jobs);
    if (n <= 0) {
        jobs[0] = (struct rank_job){.spec = s,
                                    .threads = threads,
                                    .split_all = split_all,
                                    .nudge = n < 0 ? -n : 0,
                                    .restore = restore,
                                    .restore_len = restore_len,
                                    .curve = c};
        rank_main(&jobs[0]);
        if (jobs[0].rc)
            fail_msg("one process: %s", jobs[0].err.msg);
        *np = jobs[0].nparams;
        return jobs[0].params;
    }
    struct tc_shared sh;
    struct tc_rank ranks[TC_MAX_RANKS];
    tc_init(&sh, ranks, n);
    pthread_t th[TC_MAX_RANKS];
    for (int k = 0; k < n; k++) {
        jobs[k] = (struct rank_job){.spec = s,
                                    .comm = &ranks[k].comm,
                                    .threads = threads,
                                    .split_all = split_all,
                                    .restore = restore,
                                    .restore_len = restore_len,
                                    .curve = k == 0 ? c : NULL};
        assert_int_equal(pthread_create(&th[k], NULL, rank_main, &jobs[k]), 0);
    }
    for (int k = 0; k < n; k++)
        pthread_join(th[k], NULL);
    for (int k = 0; k < n; k++) {
        if (jobs[k].rc)
            fail_msg("rank %d of %d: %s", k, n, jobs[k].err.msg);
        assert_int_equal(jobs[k].nparams, jobs[0].nparams);
        /* the sums are the same bits on every rank, so the ranks never drift apart */
        assert_memory_equal(jobs[k].params, jobs[0].params, jobs[0].nparams * sizeof(float));
        if (k)
            free(jobs[k].params);
    }
    tc_fini(&sh);
    *np = jobs[0].nparams;
    return jobs[0].params;
}

/* ---- distances ---------------------------------------------------------------------- */

struct dist {
    double loss;  /* the largest |difference| of loss_d and loss_g over the steps */
    double param; /* the largest |difference| of a parameter over the largest weight */
};

/* The losses' distance over the first `steps` steps the two curves share. */
static double loss_distance(const struct curve *a, const struct curve *b, int64_t steps)
{
    double d = 0.0;
    int64_t from = a->first > b->first ? a->first : b->first;
    for (int64_t i = from + 1; i <= a->last && i <= from + steps; i++) {
        d = fmax(d, fabs(a->loss_d[i] - b->loss_d[i]));
        d = fmax(d, fabs(a->loss_g[i] - b->loss_g[i]));
    }
    return d;
}

static struct dist distance(const struct curve *a, const float *pa, const struct curve *b,
                            const float *pb, size_t n)
{
    struct dist d = {0, 0};
    assert_int_equal(a->last, b->last);
    int64_t from = a->first > b->first ? a->first : b->first;
    for (int64_t i = from + 1; i <= a->last; i++) {
        d.loss = fmax(d.loss, fabs(a->loss_d[i] - b->loss_d[i]));
        d.loss = fmax(d.loss, fabs(a->loss_g[i] - b->loss_g[i]));
    }
    double big = 0.0, diff = 0.0;
    for (size_t i = 0; i < n; i++) {
        big = fmax(big, fabs(pa[i]));
        diff = fmax(diff, fabs((double)pa[i] - pb[i]));
    }
    d.param = big > 0 ? diff / big : diff;
    return d;
}

static void free_curve(struct curve *c)
{
    free(c->ckpt);
    c->ckpt = NULL;
}

/* What rounding alone does to the run of s (see TOLERANCE), against one process on
 * one thread (one, p1): the two threads' distance, the one-ulp start's and the parted
 * start's, made into the tolerances. Under the sanitizers, whose few steps leave
 * rounding no time to grow, the floors. */
struct tol {
    double early, loss, param;
};

static struct tol tolerance(const char *what, const struct gc_spec *s, const struct curve *one,
                            const float *p1, size_t n1)
{
    struct dist th = {0, 0}, nu = {0, 0}, pa = {0, 0};
    if (!SANITIZED) {
        struct curve c;
        size_t n;
        float *p = train_on(s, 0, 2, 1, NULL, 0, &c, &n);
        th = distance(one, p1, &c, p, n1);
        free(p);
        free_curve(&c);
        p = train_on(s, -1, 1, 0, NULL, 0, &c, &n);
        nu = distance(one, p1, &c, p, n1);
        free(p);
        free_curve(&c);
        p = train_on(s, -2, 1, 0, NULL, 0, &c, &n);
        pa = distance(one, p1, &c, p, n1);
        free(p);
        free_curve(&c);
    }
    struct tol t;
    t.early = fmax(ROUNDING_FACTOR * th.loss, LOSS_FLOOR);
    t.loss = fmax(fmax(t.early, NUDGE_FACTOR * nu.loss), pa.loss);
    t.param = fmax(fmax(ROUNDING_FACTOR * th.param, PARAM_FLOOR), NUDGE_FACTOR * nu.param);
    print_message("%-22s 2 threads: loss %.2e param %.2e; one ulp: loss %.2e param %.2e; parted: "
                  "loss %.2e param %.2e\n",
                  what, th.loss, th.param, nu.loss, nu.param, pa.loss, pa.param);
    return t;
}

/* The run (c, p) against one process (one, p1) within t: its first EARLY_STEPS steps
 * to the threads' rounding when early (a run from the start; one resumed halfway
 * continues from a state that may have parted already), the whole of it to t's loss
 * and parameter tolerances. */
static void within(const char *what, const struct curve *one, const float *p1,
                   const struct curve *c, const float *p, size_t n, const struct tol *t,
                   int early_too)
{
    struct dist d = distance(one, p1, c, p, n);
    double early = loss_distance(one, c, EARLY_STEPS);
    print_message("%-22s loss %.2e (first %d steps %.2e) param %.2e (tolerance %.2e %.2e "
                  "%.2e)\n",
                  what, d.loss, EARLY_STEPS, early, d.param, t->loss, t->early, t->param);
    /* the numbers are the normal build's to check; the sanitizers run the path */
    assert_true(SANITIZED || !early_too || early <= t->early);
    assert_true(SANITIZED || d.loss <= t->loss);
    assert_true(SANITIZED || d.param <= t->param);
}

/* One process on one thread, the same on two threads with every layer split (the
 * rounding yardstick), and on each rank count of `ranks` (ending in 0): every rank
 * count within ROUNDING_FACTOR x the yardstick (or the floors) of one process. */
static void same_run_on_ranks(const char *what, const struct gc_spec *s, const int *ranks)
{
    struct curve one, many;
    size_t n1, nr;
    float *p1 = train_on(s, 0, 1, 0, NULL, 0, &one, &n1);
    struct tol t = tolerance(what, s, &one, p1, n1);
    for (const int *r = ranks; *r; r++) {
        float *pr = train_on(s, *r, 1, 0, NULL, 0, &many, &nr);
        assert_int_equal(nr, n1);
        char label[64];
        snprintf(label, sizeof label, "%s %d ranks", what, *r);
        within(label, &one, p1, &many, pr, n1, &t, 1);
        /* the figures are the whole batch's: the ranks report the same curve, not a
         * part's (a part's loss differs from the whole's by far more than rounding) */
        assert_true(many.last == s->train.steps && many.first == 0);
        free(pr);
        free_curve(&many);
    }
    free(p1);
    free_curve(&one);
}

static int steps(int n)
{
    return SANITIZED ? 6 : n;
}

static struct gc_spec ring8(void)
{
    struct gc_spec s;
    gc_spec_defaults(&s, GC_DATA_RING8, GC_LOSS_NONSATURATING);
    s.model.hidden = 64;
    s.train.steps = steps(100);
    s.train.batch_size = 96; /* 1, 2 and 3 ranks take equal parts */
    s.every = (struct gc_every_spec){1, 0, 0, 0};
    return s;
}

/* A small IDX file of Fashion-MNIST images (the first IMAGES of the test split), made
 * once: every rank of every run opens its dataset, and the whole training split takes
 * a second to decode under the sanitizers. */
#define IMAGES 480
static char small_idx[64];

static int make_small_idx(void **state)
{
    (void)state;
    struct gc_dataset_spec ds = {.kind = GC_DATA_FASHION_MNIST, .test_split = 1};
    struct gc_error err = {0};
    struct gc_dataset *d = gc_dataset_open(&ds, NULL, NULL, &err);
    if (!d)
        return -1;
    uint8_t *out = NULL;
    size_t len = 0;
    int rc = gc_idx_encode(gc_dataset_images(d), IMAGES, 1, 28, 28, &out, &len, &err);
    gc_dataset_destroy(d);
    snprintf(small_idx, sizeof small_idx, "/tmp/gc-test-dist-%d.idx", (int)getpid());
    FILE *f = rc ? NULL : fopen(small_idx, "wb");
    rc = !f || fwrite(out, 1, len, f) != len;
    if (f)
        rc |= fclose(f) != 0;
    free(out);
    return rc ? -1 : 0;
}

static int remove_small_idx(void **state)
{
    (void)state;
    unlink(small_idx);
    return 0;
}

static struct gc_spec fashion(void)
{
    struct gc_spec s;
    gc_spec_defaults(&s, GC_DATA_IDX, GC_LOSS_NONSATURATING);
    snprintf(s.dataset.path, sizeof s.dataset.path, "%s", small_idx);
    s.model.g_width = 8;
    s.model.d_width = 8;
    s.model.z_dim = 16;
    s.train.steps = steps(60);
    s.train.batch_size = 24;
    s.every = (struct gc_every_spec){1, 0, 0, 0};
    return s;
}

/* the sanitizers check memory and threads on 2 ranks; the normal build checks 3 too */
static const int one_two_three[] = {2, SANITIZED ? 0 : 3, 0};
static const int two[] = {2, 0};

/* ---- the same run ------------------------------------------------------------------- */

static void mlp_on_ranks(void **state)
{
    (void)state;
    struct gc_spec s = ring8();
    same_run_on_ranks("ring8 mlp", &s, one_two_three);
}

/* Batch norm in G and in D's inner block: the statistics are the whole batch's. */
static void dcgan_batch_norm_on_ranks(void **state)
{
    (void)state;
    struct gc_spec s = fashion();
    same_run_on_ranks("fashion dcgan", &s, one_two_three);
}

static void mad_gan_on_ranks(void **state)
{
    (void)state;
    struct gc_spec s = ring8();
    s.tricks.generators = 3;
    same_run_on_ranks("ring8 mad-gan", &s, one_two_three);
}

/* Every other trick, each on two ranks (fewer steps: the look-ahead and the critic's
 * steps cost several D updates a step). */
static void every_trick_on_ranks(void **state)
{
    (void)state;
    struct gc_spec s = fashion();
    s.tricks.feature_matching = 1;
    s.train.steps = steps(40);
    same_run_on_ranks("feature matching", &s, two);

    s = ring8();
    s.tricks.unrolled_steps = 3;
    s.train.steps = steps(40);
    same_run_on_ranks("unrolled 3", &s, two);

    gc_spec_defaults(&s, GC_DATA_RING8, GC_LOSS_WASSERSTEIN);
    s.model.hidden = 64;
    s.train.batch_size = 64;
    s.train.steps = steps(30);
    s.every = (struct gc_every_spec){1, 0, 0, 0};
    same_run_on_ranks("wasserstein clip", &s, two);

    s = ring8();
    s.model.batch_norm = 1;
    s.tricks.ema = 0.9f;
    s.tricks.smoothing = GC_SMOOTH_RANGE;
    s.tricks.smooth_lo = 0.8f;
    s.tricks.smooth_hi = 1.0f;
    s.train.steps = steps(40);
    s.train.lr_decay.start = 0.2f;
    same_run_on_ranks("ema smoothing decay bn", &s, two);

    s = fashion();
    s.loss = GC_LOSS_HINGE;
    s.model.patch = 1;
    s.train.steps = steps(30);
    same_run_on_ranks("hinge patch", &s, two);
}

/* The watchdog on ranks: it sees the whole batch's figures and rank 0's evaluations on
 * every rank, so every rank rolls back at the same steps to the same checkpoint (the
 * checks at each checkpoint hold), as one process does. */
static void watchdog_rolls_back_on_every_rank(void **state)
{
    (void)state;
    struct gc_spec s = ring8();
    s.train.steps = steps(60);
    s.every.eval = 10;
    s.every.checkpoint = 10;
    s.watch.action = GC_WATCH_ROLLBACK;
    s.watch.loss_max = 0.5f; /* loss_d is near 1.4: divergence at once */
    s.watch.max_rollbacks = 2;
    struct curve one, pair;
    size_t n1, n2;
    float *p1 = train_on(&s, 0, 1, 0, NULL, 0, &one, &n1);
    float *p2 = train_on(&s, 2, 1, 0, NULL, 0, &pair, &n2);
    assert_int_equal(one.rollbacks, 2);
    assert_int_equal(pair.rollbacks, 2);
    assert_memory_equal(one.rolled_to, pair.rolled_to, 2 * sizeof(int64_t));
    struct dist d = distance(&one, p1, &pair, p2, n1);
    print_message("watchdog rollback: 2 ranks rolled back at steps %lld and %lld as 1 process "
                  "did: loss %.2e param %.2e\n",
                  (long long)pair.rolled_to[0], (long long)pair.rolled_to[1], d.loss, d.param);
    assert_true(SANITIZED || d.loss <= LOSS_FLOOR);
    assert_true(SANITIZED || d.param <= PARAM_FLOOR);
    free(p1), free(p2);
    free_curve(&one), free_curve(&pair);
}

/* The watchdog's evaluation rule on ranks: rank 0 alone evaluates, and the figures it
 * sends make every rank's watchdog see a mode collapse at the same evaluation and roll
 * back together (a rank without them would train on, and the checkpoint checks and
 * the equal parameters of every rank would fail), as one process does. */
static void evaluations_reach_every_rank(void **state)
{
    (void)state;
    struct gc_spec s = ring8();
    s.train.steps = steps(80);
    s.every.eval = 5;
    s.every.checkpoint = 5;
    s.watch.action = GC_WATCH_ROLLBACK;
    s.watch.loss_max = 1e5f; /* the step rules stay quiet: the evaluations decide */
    s.watch.grad_factor = 1e5f;
    s.watch.warmup = 0.0f;
    s.watch.eval_patience = 1;
    s.watch.eval_worsen = 0.01f;
    s.watch.max_rollbacks = 2;
    struct curve one, pair;
    size_t n1, n2;
    float *p1 = train_on(&s, 0, 1, 0, NULL, 0, &one, &n1);
    float *p2 = train_on(&s, 2, 1, 0, NULL, 0, &pair, &n2);
    print_message("evaluations on ranks: 1 process rolled back %d times (%d on evaluations), "
                  "2 ranks %d (%d)\n",
                  one.rollbacks, one.collapses, pair.rollbacks, pair.collapses);
    assert_int_equal(pair.rollbacks, one.rollbacks);
    assert_int_equal(pair.collapses, one.collapses);
    assert_memory_equal(one.rolled_to, pair.rolled_to, (size_t)one.rollbacks * sizeof(int64_t));
    if (!SANITIZED)
        assert_true(one.collapses >= 1);
    struct dist d = distance(&one, p1, &pair, p2, n1);
    assert_true(SANITIZED || d.loss <= LOSS_FLOOR);
    assert_true(SANITIZED || d.param <= PARAM_FLOOR);
    free(p1), free(p2);
    free_curve(&one), free_curve(&pair);
}

/* ---- checkpoints between rank counts ------------------------------------------------ */

/* A checkpoint of 2 ranks resumed on one process, and one process's on 3 ranks, go on
 * as the uninterrupted run does (to rounding). */
static void checkpoints_move_between_rank_counts(void **state)
{
    (void)state;
    struct gc_spec s = fashion();
    int64_t half = s.train.steps / 2;
    struct curve whole, first, rest;
    size_t n, m;
    float *pw = train_on(&s, 0, 1, 0, NULL, 0, &whole, &n);
    struct tol t = tolerance("fashion dcgan", &s, &whole, pw, n);

    for (int dir = 0; dir < 2; dir++) {
        int before = dir == 0 ? 2 : 0, after = dir == 0 ? 0 : 3;
        struct gc_spec h = s;
        h.train.steps = half;
        h.every.checkpoint = half;
        free(train_on(&h, before, 1, 0, NULL, 0, &first, &m));
        assert_int_equal(first.ckpt_step, half);
        float *pr = train_on(&s, after, 1, 0, first.ckpt, first.ckpt_len, &rest, &m);
        /* the second half's curve and the end are the uninterrupted run's */
        assert_int_equal(rest.first, half);
        char label[64];
        snprintf(label, sizeof label, "checkpoint %d -> %d ranks", before ? before : 1,
                 after ? after : 1);
        within(label, &whole, pw, &rest, pr, n, &t, 0);
        free(pr);
        free_curve(&first), free_curve(&rest);
    }
    free(pw);
    free_curve(&whole);
}

/* ---- the communicator -------------------------------------------------------------- */

/* NULL and one rank are one process: nothing moves, nothing fails, nothing is counted. */
static void one_process_communicates_nothing(void **state)
{
    (void)state;
    float f[3] = {1, 2, 3};
    double d[2] = {4, 5};
    assert_int_equal(gc_comm_sum_f32(NULL, f, 3), 0);
    assert_int_equal(gc_comm_sum_f64(NULL, d, 2), 0);
    assert_int_equal(gc_comm_bcast(NULL, d, sizeof d, 0), 0);
    assert_int_equal(gc_comm_size(NULL), 1);
    assert_int_equal(gc_comm_rank(NULL), 0);
    struct gc_comm one;
    gc_comm_init(&one, 0, 1, NULL, NULL);
    assert_int_equal(gc_comm_sum_f32(&one, f, 3), 0);
    assert_true(f[0] == 1 && f[2] == 3 && d[1] == 5);
    assert_int_equal(one.calls, 0);
    assert_int_equal(gc_comm_failed(&one, NULL), 0);
}

/* Sums and a broadcast between 3 ranks, counted; the first failure sticks: later calls
 * fail at once with its message and move nothing. */
struct comm_job {
    struct gc_comm *c;
    float f[4];
    int rc[3];
};

static void *comm_rank(void *arg)
{
    struct comm_job *j = arg;
    int r = j->c->rank;
    for (int i = 0; i < 4; i++)
        j->f[i] = (float)(r * 10 + i);
    j->rc[0] = gc_comm_sum_f32(j->c, j->f, 4);
    double x = r == 2 ? 7.5 : 0.0;
    j->rc[1] = gc_comm_bcast(j->c, &x, sizeof x, 2);
    j->f[0] += (float)x;
    j->rc[2] = gc_comm_sum_f32(j->c, j->f, 4); /* fails: see fail_at */
    return NULL;
}

static void collective_calls_and_a_sticky_failure(void **state)
{
    (void)state;
    struct tc_shared sh;
    struct tc_rank ranks[3];
    tc_init(&sh, ranks, 3);
    sh.fail_at = 3;
    struct comm_job jobs[3];
    pthread_t th[3];
    for (int k = 0; k < 3; k++) {
        jobs[k].c = &ranks[k].comm;
        assert_int_equal(pthread_create(&th[k], NULL, comm_rank, &jobs[k]), 0);
    }
    for (int k = 0; k < 3; k++)
        pthread_join(th[k], NULL);
    for (int k = 0; k < 3; k++) {
        /* 0 + 10 + 20 + 3 i, then rank 2's 7.5 added to the first */
        assert_float_equal(jobs[k].f[0], 30.0f + 7.5f, 0.0f);
        assert_float_equal(jobs[k].f[3], 39.0f, 0.0f);
        assert_int_equal(jobs[k].rc[0], 0);
        assert_int_equal(jobs[k].rc[1], 0);
        assert_int_equal(jobs[k].rc[2], GC_ECOMM);
        struct gc_comm *c = &ranks[k].comm;
        assert_int_equal(c->calls, 3);
        assert_int_equal(c->bytes, 4 * sizeof(float) * 2 + sizeof(double));
        struct gc_error err = {0};
        assert_int_equal(gc_comm_failed(c, &err), GC_ECOMM);
        assert_non_null(strstr(err.msg, "within the timeout"));
        /* sticky: nothing reaches the transport any more */
        float g = 1.0f;
        assert_int_equal(gc_comm_sum_f32(c, &g, 1), GC_ECOMM);
        assert_float_equal(g, 1.0f, 0.0f);
        assert_int_equal(sh.calls[k], 3);
    }
    tc_fini(&sh);
}

/* ---- the parts of a batch ----------------------------------------------------------- */

/* Each rank's part of the loader's batch is that slice of one process's batch, and the
 * loader moves on the same (images and 2D points). */
static void loader_parts_are_slices(void **state)
{
    (void)state;
    struct gc_error err = {0};
    for (int kind = 0; kind < 2; kind++) {
        struct gc_spec s = ring8();
        if (kind) { /* labelled images */
            s.dataset.kind = GC_DATA_FASHION_MNIST;
            s.dataset.test_split = 1;
        }
        struct gc_dataset *d = gc_dataset_open(&s.dataset, NULL, NULL, &err);
        assert_non_null(d);
        size_t per = gc_dataset_sample_size(d), B = 24, b = 8;
        struct gc_loader *whole = gc_loader_create(d, 5, 2, &err);
        struct gc_loader *part = gc_loader_create(d, 5, 2, &err);
        float *w = malloc(B * per * sizeof(float)), *p = malloc(b * per * sizeof(float));
        int lw[24], lp[8];
        for (int batch = 0; batch < 4; batch++) {
            gc_loader_next(whole, B, w, lw);
            size_t first = (size_t)batch % 3 * b;
            gc_loader_next_part(part, B, first, b, p, lp);
            assert_memory_equal(p, w + first * per, b * per * sizeof(float));
            if (kind)
                assert_memory_equal(lp, lw + first, b * sizeof(int));
        }
        assert_int_equal(gc_loader_index(part), gc_loader_index(whole));
        free(w), free(p);
        gc_loader_destroy(whole);
        gc_loader_destroy(part);
        gc_dataset_destroy(d);
    }
}

/* Synchronized batch norm: three parts of a batch, with their sums added, normalize and
 * back-propagate as the whole batch does (to float rounding), and move the running
 * statistics the same; dgamma and dbeta of the parts add up to the whole's. */
static void batch_norm_parts_match_the_whole(void **state)
{
    (void)state;
    const int n = 12, c = 5, sp = 7, parts = 3, pn = n / parts;
    const size_t per = (size_t)c * sp, all = (size_t)n * per;
    struct gc_rng r;
    gc_rng_init(&r, 3, 1);
    float *x = malloc(all * sizeof *x), *dy = malloc(all * sizeof *dy);
    float *y = malloc(all * sizeof *y), *yp = malloc(all * sizeof *yp);
    float *dx = calloc(all, sizeof *dx), *dxp = calloc(all, sizeof *dxp);
    gc_rng_fill_normal(&r, x, all, 3.0f, 2.0f); /* a mean far from 0, as after a conv */
    gc_rng_fill_normal(&r, dy, all, 0.0f, 1.0f);
    float gamma[5] = {1.1f, 0.9f, 1.0f, 1.3f, 0.7f}, beta[5] = {0.1f, -0.2f, 0.0f, 0.3f, 0.05f};
    float rm[5] = {0}, rv[5] = {1, 1, 1, 1, 1}, sm[5], si[5];
    float rmp[5] = {0}, rvp[5] = {1, 1, 1, 1, 1}, smp[5], sip[5];
    float dg[5] = {0}, db[5] = {0}, dgp[5] = {0}, dbp[5] = {0};
    gc_batchnorm_forward(y, x, gamma, beta, rm, rv, sm, si, n, c, sp, 1e-5f, 0.1f, 1, 0, c);
    gc_batchnorm_backward(dx, 1, dg, db, dy, x, gamma, sm, si, n, c, sp, 0, c);

    double sum[5] = {0}, sumsq[5] = {0}, ps[5], pq[5];
    for (int p = 0; p < parts; p++) {
        gc_batchnorm_sums(x + p * pn * per, pn, c, sp, 0, c, ps, pq);
        for (int k = 0; k < c; k++)
            sum[k] += ps[k], sumsq[k] += pq[k];
    }
    double sdy[5] = {0}, sdyx[5] = {0}, own[3][10];
    for (int p = 0; p < parts; p++) {
        size_t o = (size_t)p * pn * per;
        /* each rank moves its own copy of the running statistics once per forward */
        float rm0[5] = {0}, rv0[5] = {1, 1, 1, 1, 1};
        memcpy(rmp, rm0, sizeof rmp);
        memcpy(rvp, rv0, sizeof rvp);
        gc_batchnorm_forward_sums(yp + o, x + o, gamma, beta, rmp, rvp, smp, sip, sum, sumsq,
                                  (double)n * sp, pn, c, sp, 1e-5f, 0.1f, 0, c);
        gc_batchnorm_backward_sums(dy + o, x + o, smp, sip, pn, c, sp, 0, c, own[p], own[p] + c);
        for (int k = 0; k < c; k++)
            sdy[k] += own[p][k], sdyx[k] += own[p][c + k];
    }
    for (int p = 0; p < parts; p++) {
        size_t o = (size_t)p * pn * per;
        gc_batchnorm_backward_from_sums(dxp + o, 1, dgp, dbp, dy + o, x + o, gamma, smp, sip,
                                        own[p], own[p] + c, sdy, sdyx, (double)n * sp, pn, c, sp, 0,
                                        c);
    }
    for (size_t i = 0; i < all; i++) {
        assert_float_equal(yp[i], y[i], 1e-5f);
        assert_float_equal(dxp[i], dx[i], 1e-5f);
    }
    for (int k = 0; k < c; k++) {
        assert_float_equal(smp[k], sm[k], 1e-5f * fabsf(sm[k]));
        assert_float_equal(sip[k], si[k], 1e-5f * si[k]);
        assert_float_equal(rmp[k], rm[k], 1e-6f);
        assert_float_equal(rvp[k], rv[k], 1e-5f);
        assert_float_equal(dgp[k], dg[k], 1e-4f);
        assert_float_equal(dbp[k], db[k], 1e-4f);
    }
    free(x), free(dy), free(y), free(yp), free(dx), free(dxp);
}

/* ---- failures ----------------------------------------------------------------------- */

struct fault_run {
    uint64_t fail_at, nudge_at;
    int rc[3];
    char msg[3][256];
};

static void run_with_fault(const struct gc_spec *s, struct fault_run *f)
{
    struct tc_shared sh;
    struct tc_rank ranks[3];
    tc_init(&sh, ranks, 3);
    sh.fail_at = f->fail_at;
    sh.nudge_at = f->nudge_at;
    sh.nudge_rank = 2;
    struct rank_job jobs[3];
    struct curve c;
    memset(jobs, 0, sizeof jobs);
    memset(&c, 0, sizeof c);
    c.first = -1;
    pthread_t th[3];
    for (int k = 0; k < 3; k++) {
        jobs[k] = (struct rank_job){
            .spec = s, .comm = &ranks[k].comm, .threads = 1, .curve = k == 0 ? &c : NULL};
        assert_int_equal(pthread_create(&th[k], NULL, rank_main, &jobs[k]), 0);
    }
    for (int k = 0; k < 3; k++) {
        pthread_join(th[k], NULL);
        f->rc[k] = jobs[k].rc;
        snprintf(f->msg[k], sizeof f->msg[k], "%s", jobs[k].err.msg);
        free(jobs[k].params);
    }
    free_curve(&c);
    tc_fini(&sh);
}

/* A rank that stops answering fails every rank with GC_ECOMM and the transport's
 * message, at the same step; ranks whose state drifts apart fail at the next
 * checkpoint, named as such. */
static void failing_ranks_fail_the_run(void **state)
{
    (void)state;
    struct gc_spec s = ring8();
    s.train.steps = 20;
    s.every.checkpoint = 10;
    struct fault_run f = {.fail_at = 40};
    run_with_fault(&s, &f);
    for (int k = 0; k < 3; k++) {
        assert_int_equal(f.rc[k], GC_ECOMM);
        assert_non_null(strstr(f.msg[k], "within the timeout"));
    }
    /* a nudge in one rank's sum of a gradient at the start of step 3 */
    struct fault_run g = {.nudge_at = 14};
    run_with_fault(&s, &g);
    for (int k = 0; k < 3; k++) {
        assert_int_equal(g.rc[k], GC_ECOMM);
        assert_non_null(strstr(g.msg[k], "differs from rank 0's"));
    }
    print_message("drift: %s\n", g.msg[0]);
}

/* A batch that does not split into equal parts is refused at create, naming both. */
static void uneven_batch_is_refused(void **state)
{
    (void)state;
    struct gc_spec s = ring8();
    s.train.batch_size = 100;
    struct tc_shared sh;
    struct tc_rank ranks[3];
    tc_init(&sh, ranks, 3);
    struct gc_error err = {0};
    struct gc_trainer_opts o = {.threads = 1, .load_data = 1, .comm = &ranks[1].comm};
    assert_null(gc_trainer_create(&s, &o, &err));
    assert_int_equal(err.code, GC_EINVAL);
    assert_non_null(strstr(err.msg, "batch_size 100 does not split into 3"));
    tc_fini(&sh);
}

int main(void)
{
    gc_blas_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_process_communicates_nothing),
        cmocka_unit_test(collective_calls_and_a_sticky_failure),
        cmocka_unit_test(loader_parts_are_slices),
        cmocka_unit_test(batch_norm_parts_match_the_whole),
        cmocka_unit_test(mlp_on_ranks),
        cmocka_unit_test(dcgan_batch_norm_on_ranks),
        cmocka_unit_test(mad_gan_on_ranks),
        cmocka_unit_test(every_trick_on_ranks),
        cmocka_unit_test(watchdog_rolls_back_on_every_rank),
        cmocka_unit_test(evaluations_reach_every_rank),
        cmocka_unit_test(checkpoints_move_between_rank_counts),
        cmocka_unit_test(failing_ranks_fail_the_run),
        cmocka_unit_test(uneven_batch_is_refused),
    };
    return cmocka_run_group_tests(tests, make_small_idx, remove_small_idx);
}
