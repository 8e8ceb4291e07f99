/* bench_train.c — training throughput of the engine on the two reference models.
 *
 * Trains the reference DCGAN (fashion-mnist, batch 64, nonsaturating, spec defaults)
 * or the ring8 MLP GAN (the spec defaults of ring8) through gc_trainer_run for
 * warm-up + N steps with every log, sample, eval and checkpoint off, timing each step
 * from the control hook (polled once per step). --size 32, 64 or 128 trains the DCGAN
 * of that side on RGB images (at 64 the DCGAN paper's net): a png-dir made for the run
 * in a temporary folder from the first --images Fashion-MNIST images, tinted, which
 * the dataset scales up as it loads them (bench/ref_torch.py makes the same set).
 * --batch changes the batch size; --precision bf16 sets train.precision (the line says
 * which precision ran). Prints one JSON line: images/s (the
 * median step rate x batch), steps/s, peak RSS (getrusage), and the analytic GFLOP of
 * one step as this engine runs it, counted from the layer shapes.
 *
 * --sgemm measures the SGEMM ceiling instead: the peak GFLOP/s (the fastest of 9
 * calls, the one least disturbed by other processes) of a square gc_sgemm whose rows
 * are split over a pool of the same thread count, each thread on its own share with
 * OpenBLAS on one thread, as the engine's layers run, so the share of it a training
 * step reaches comes from the same run and environment.
 *
 *   bench_train [--model dcgan|ring8] [--size 28|32|64|128] [--batch B] [--threads T]
 *               [--steps N] [--warmup W] [--images N] [--precision float32|bf16]
 *               [--critic wgan|wgan-gp]
 *   bench_train --sgemm [--threads T] [--size N]
 *
 * --critic trains the model as a Wasserstein critic (the loss's defaults: RMSprop 5e-5,
 * five critic steps a step): wgan with weight clipping at 0.01, wgan-gp with the
 * gradient penalty (lambda 10) instead, everything else the same, so the ratio of the
 * two is the cost of the penalty. */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "core/blas.h"
#include "core/data.h"
#include "core/gan.h"
#include "core/image.h"
#include "core/model.h"
#include "core/pool.h"
#include "core/rng.h"
#include "core/spec.h"

#define MAX_STEPS 100000

struct timing {
    double *t, *cpu; /* wall and process CPU time at the start of each step */
    int n, cap;
};

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double now(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int on_control(void *ctx)
{
    struct timing *tm = ctx;
    if (tm->n < tm->cap) {
        tm->cpu[tm->n] = clock_s(CLOCK_PROCESS_CPUTIME_ID);
        tm->t[tm->n++] = now();
    }
    return GC_CONTINUE;
}

static double peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0; /* kB on Linux */
}

/* Forward GFLOP of the GEMM layers of m for a batch n; *first gets layer 0's share
 * (its input gradient is never needed in a D step or in G's backward). */
static double forward_flops(struct gc_model *m, int n, double *first)
{
    double total = 0.0;
    int nl = gc_model_nlayers(m);
    *first = 0.0;
    for (int i = 0; i < nl; i++) {
        size_t wn = 0;
        int c, h, w;
        enum gc_layer_kind k = gc_model_layer_kind(m, i);
        if (k != GC_LAYER_LINEAR && k != GC_LAYER_CONV2D && k != GC_LAYER_CONVT2D)
            continue;
        gc_model_layer_weight(m, i, &wn);
        double f = 2.0 * n * (double)wn;
        if (k == GC_LAYER_CONV2D) {
            gc_model_layer_output(m, i, &c, &h, &w);
            f *= (double)h * w; /* one weight use per output position */
        } else if (k == GC_LAYER_CONVT2D) {
            gc_model_layer_output(m, i - 1, &c, &h, &w); /* per input position */
            f *= (double)h * w;
        }
        if (total == 0.0)
            *first = f;
        total += f;
    }
    return total;
}

/* The engine's step with d_steps = 1 (see core/gan_step.c): D on a real batch (forward,
 * weight and input gradients but layer 0's input gradient), D on a fake batch (G
 * forward, then the same), G update on fresh noise (G forward, D forward, D input
 * gradients down to the image, then G's weight and input gradients but layer 0's).
 * Whether D's weight gradients are formed in the G update is reported by the caller. */
static double step_gflop(struct gc_trainer *t, int B, int d_wgrad_in_g)
{
    double fd0, fg0;
    double fd = forward_flops(gc_trainer_test_model(t, GC_TEST_D), B, &fd0);
    double fg = forward_flops(gc_trainer_test_model(t, 0), B, &fg0);
    double d_real = fd + fd + (fd - fd0);
    double d_fake = fg + d_real;
    double g_upd = fg + fd + fd + (d_wgrad_in_g ? fd : 0.0) + fg + (fg - fg0);
    return (d_real + d_fake + g_upd) * 1e-9;
}

/* Writes the first n Fashion-MNIST images as tinted RGB PNGs (28x28) into a new
 * temporary folder, whose path goes to dir; 0 ok. */
static int make_png_dir(int n, char *dir, size_t cap)
{
    struct gc_dataset_spec ds = {.kind = GC_DATA_FASHION_MNIST};
    struct gc_error err = {0};
    struct gc_dataset *d = gc_dataset_open(&ds, NULL, NULL, &err);
    if (!d) {
        fprintf(stderr, "bench_train: %s\n", err.msg);
        return -1;
    }
    snprintf(dir, cap, "%s/bench_train.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir)) {
        perror("bench_train: mkdtemp");
        gc_dataset_destroy(d);
        return -1;
    }
    const uint8_t *img = gc_dataset_images(d);
    static const float tint[3] = {1.0f, 0.8f, 0.6f};
    uint8_t rgb[28 * 28 * 3];
    int rc = 0;
    for (int i = 0; i < n && (size_t)i < gc_dataset_count(d) && !rc; i++) {
        for (int p = 0; p < 28 * 28; p++)
            for (int c = 0; c < 3; c++)
                rgb[p * 3 + c] = (uint8_t)(img[(size_t)i * 784 + p] * tint[c] + 0.5f);
        uint8_t *png = NULL;
        size_t len = 0;
        char path[4200];
        snprintf(path, sizeof path, "%s/%05d.png", dir, i);
        FILE *f = NULL;
        rc = gc_png_encode(rgb, 28, 28, 3, &png, &len, &err) || !(f = fopen(path, "wb")) ||
             fwrite(png, 1, len, f) != len;
        if (f && fclose(f))
            rc = 1;
        free(png);
    }
    gc_dataset_destroy(d);
    if (rc)
        fprintf(stderr, "bench_train: cannot write the PNG folder %s\n", dir);
    return rc ? -1 : 0;
}

static void remove_png_dir(const char *dir, int n)
{
    char path[4200];
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%05d.png", dir, i);
        unlink(path);
    }
    rmdir(dir);
}

/* The trainer of one bench run (its spec in *s), for warmup + steps steps; NULL after
 * printing why. The PNG folder a --size run trains from is gone when this returns: the
 * dataset holds the images. */
static struct gc_trainer *make_trainer(const char *model, int size, int batch, int images, int bf16,
                                       int threads, int total_steps, const char *critic,
                                       struct gc_spec *s)
{
    struct gc_error err = {0};
    int ring = strcmp(model, "ring8") == 0;
    if (!ring && strcmp(model, "dcgan") != 0) {
        fprintf(stderr, "bench_train: unknown model %s (dcgan or ring8)\n", model);
        return NULL;
    }
    if (critic && strcmp(critic, "wgan") != 0 && strcmp(critic, "wgan-gp") != 0) {
        fprintf(stderr, "bench_train: unknown critic %s (wgan or wgan-gp)\n", critic);
        return NULL;
    }
    int png = !ring && size != 28;
    char dir[GC_PATH_MAX];
    if (png && make_png_dir(images, dir, sizeof dir))
        return NULL;
    gc_spec_defaults(s,
                     ring  ? GC_DATA_RING8
                     : png ? GC_DATA_PNG_DIR
                           : GC_DATA_FASHION_MNIST,
                     critic ? GC_LOSS_WASSERSTEIN : GC_LOSS_NONSATURATING);
    if (critic && strcmp(critic, "wgan-gp") == 0) {
        s->tricks.weight_clip = 0.0f;
        s->tricks.penalty = (struct gc_penalty_spec){1, GC_PENALTY_WGAN_GP, 10.0f, 1};
    }
    if (png) {
        snprintf(s->dataset.path, sizeof s->dataset.path, "%s", dir);
        s->dataset.image_size = size;
        s->dataset.channels = 3;
    }
    if (batch > 0)
        s->train.batch_size = batch;
    s->train.precision = bf16 ? GC_PRECISION_BF16 : GC_PRECISION_FLOAT32;
    s->train.steps = total_steps;
    s->every.log = s->every.sample = s->every.checkpoint = s->every.eval = 0;
    struct gc_field_errors fe;
    struct gc_trainer *t = NULL;
    if (gc_spec_check(s, &fe)) {
        gc_field_errors_summary(&fe, &err);
        fprintf(stderr, "bench_train: %s\n", err.msg);
    } else {
        struct gc_trainer_opts opts = {.threads = threads, .cache_dir = NULL, .load_data = 1};
        t = gc_trainer_create(s, &opts, &err);
        if (!t)
            fprintf(stderr, "bench_train: %s\n", err.msg);
    }
    if (png)
        remove_png_dir(dir, images);
    return t;
}

static int run_train(const char *model, int size, int batch, int images, int bf16, int threads,
                     int steps, int warmup, const char *critic)
{
    struct gc_spec s;
    struct gc_error err = {0};
    int ring = strcmp(model, "ring8") == 0;
    struct gc_trainer *t =
        make_trainer(model, size, batch, images, bf16, threads, warmup + steps, critic, &s);
    if (!t)
        return 1;
    struct timing tm = {.cap = warmup + steps + 1};
    tm.t = malloc((size_t)tm.cap * sizeof(double));
    tm.cpu = malloc((size_t)tm.cap * sizeof(double));
    double *dt = malloc((size_t)steps * sizeof(double));
    if (!tm.t || !tm.cpu || !dt) {
        fprintf(stderr, "bench_train: out of memory\n");
        return 1;
    }
    struct gc_train_hooks hooks = {.ctx = &tm, .control = on_control};
    int rc = gc_trainer_run(t, &hooks, &err);
    double end = now(), end_cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    if (rc) {
        fprintf(stderr, "bench_train: %s\n", err.msg);
        return 1;
    }
    tm.t[tm.n] = end; /* the end of the last step */
    tm.cpu[tm.n] = end_cpu;
    /* CPU seconds per step (all threads): on a shared machine the wall clock counts
     * the time other processes hold the cores, the CPU clock does not */
    for (int i = 0; i < steps; i++)
        dt[i] = tm.cpu[warmup + i + 1] - tm.cpu[warmup + i];
    qsort(dt, (size_t)steps, sizeof *dt, cmp_double);
    double cpu_med = dt[steps / 2];
    for (int i = 0; i < steps; i++)
        dt[i] = tm.t[warmup + i + 1] - tm.t[warmup + i];
    double total = tm.t[warmup + steps] - tm.t[warmup];
    qsort(dt, (size_t)steps, sizeof *dt, cmp_double);
    double med = dt[steps / 2];
    int B = s.train.batch_size;
    double gflop = step_gflop(t, B, 0); /* see g_update in core/gan_step.c */
    /* the shape, so that the reference can be built the same */
    printf("{\"impl\": \"ganctl\", \"model\": \"%s\", \"critic\": \"%s\", \"d_steps\": %d, "
           "\"size\": %d, \"precision\": \"%s\", "
           "\"threads\": %d, \"batch\": %d, "
           "\"z_dim\": %d, \"hidden\": %d, \"layers\": %d, \"batch_norm\": %d, "
           "\"steps\": %d, \"images_per_s\": %.1f, \"steps_per_s\": %.2f, "
           "\"mean_images_per_s\": %.1f, \"step_gflop\": %.3f, \"gflops\": %.1f, "
           "\"cpu_s_per_step\": %.4f, \"rss_mb\": %.1f}\n",
           model, critic ? critic : "-", s.train.d_steps, ring ? 0 : size,
           gc_precision_name(gc_trainer_precision(t)), threads, B, s.model.z_dim, s.model.hidden,
           s.model.layers, s.model.batch_norm, steps, B / med, 1.0 / med, B * steps / total, gflop,
           gflop / med, cpu_med, peak_rss_mb());
    gc_trainer_destroy(t);
    free(tm.t);
    free(tm.cpu);
    free(dt);
    return 0;
}

/* ---- --interleave: a float32 and a bf16 trainer taking turns, a step each ---------- */

struct turns {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int turn;    /* the lane whose step runs */
    int done[2]; /* a lane that has finished passes every turn */
};

struct lane {
    struct turns *tn;
    int id;
    struct gc_trainer *t;
    double *dt;  /* wall seconds of each step, in order */
    double last; /* when this lane's current step began; 0 before its first */
    int n, cap, rc;
    struct gc_error err;
};

/* Lane id gives the turn to the other one (unless that has finished) and, unless it has
 * finished itself, waits for it back. */
static void pass_turn(struct turns *tn, int id, int finished)
{
    pthread_mutex_lock(&tn->mu);
    if (finished)
        tn->done[id] = 1;
    if (!tn->done[1 - id])
        tn->turn = 1 - id;
    pthread_cond_broadcast(&tn->cv);
    while (!finished && tn->turn != id && !tn->done[1 - id])
        pthread_cond_wait(&tn->cv, &tn->mu);
    pthread_mutex_unlock(&tn->mu);
}

/* Polled once a step: the step since the last poll has ended; the other lane runs one. */
static int lane_control(void *ctx)
{
    struct lane *l = ctx;
    double t = now();
    if (l->last > 0.0 && l->n < l->cap)
        l->dt[l->n++] = t - l->last;
    pass_turn(l->tn, l->id, 0);
    l->last = now();
    return GC_CONTINUE;
}

static void *lane_main(void *p)
{
    struct lane *l = p;
    struct gc_train_hooks hooks = {.ctx = l, .control = lane_control};
    l->rc = gc_trainer_run(l->t, &hooks, &l->err);
    pass_turn(l->tn, l->id, 1);
    return NULL;
}

static double median_of(double *x, int n)
{
    qsort(x, (size_t)n, sizeof *x, cmp_double);
    return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

/* The bf16 speed-up as the ratio of step times a step apart: float32 step i and bf16
 * step i run one after the other, so a machine that slows down for a minute (as shared
 * ones do by 5-10%) slows both sides of each ratio alike, where two runs a minute apart
 * would each see a different machine. Prints the median ratio, its quartiles, and each
 * side's images/s (the median step). */
static int run_interleaved(const char *model, int size, int batch, int images, int threads,
                           int steps, int warmup, const char *critic)
{
    struct gc_spec s[2];
    struct turns tn = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, {0, 0}};
    struct lane lane[2];
    int cap = warmup + steps + 1, rc = 0;
    memset(lane, 0, sizeof lane);
    for (int i = 0; i < 2; i++) {
        lane[i] = (struct lane){.tn = &tn, .id = i, .cap = cap};
        lane[i].dt = malloc((size_t)cap * sizeof(double));
        lane[i].t =
            make_trainer(model, size, batch, images, i, threads, warmup + steps + 1, critic, &s[i]);
        if (!lane[i].dt || !lane[i].t)
            rc = 1;
    }
    if (!rc && gc_trainer_precision(lane[1].t) != GC_PRECISION_BF16) {
        fprintf(stderr, "bench_train: this CPU has no AVX512-BF16: nothing to interleave\n");
        rc = 1;
    }
    /* On one thread each, both lanes on the core this process started on: this machine's
     * two cores ran the same steps up to 40% apart (a busy neighbour on one), which two
     * threads left to the scheduler turned into a ratio of 1.33 in one run, 1.89 in the
     * next. With more threads the pools' workers go where the scheduler puts them. */
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    int cpu = sched_getcpu();
    if (threads == 1 && cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        pthread_attr_setaffinity_np(&attr, sizeof set, &set);
    }
    pthread_t th[2];
    int started = 0;
    for (; !rc && started < 2; started++)
        if (pthread_create(&th[started], &attr, lane_main, &lane[started]) != 0) {
            fprintf(stderr, "bench_train: cannot start a thread\n");
            pass_turn(&tn, started, 1); /* the started lane runs alone */
            rc = 1;
        }
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    pthread_attr_destroy(&attr);
    for (int i = 0; i < 2 && started == 2; i++)
        if (lane[i].rc) {
            fprintf(stderr, "bench_train: %s\n", lane[i].err.msg);
            rc = 1;
        }
    /* the polls bracket steps 1.. of each lane: step i of each ran a turn apart */
    int n = lane[0].n < lane[1].n ? lane[0].n : lane[1].n;
    if (!rc && n <= warmup) {
        fprintf(stderr, "bench_train: no step after the warm-up to time\n");
        rc = 1;
    }
    if (!rc) {
        int m = n - warmup;
        double *ratio = malloc((size_t)m * sizeof(double));
        if (!ratio) {
            fprintf(stderr, "bench_train: out of memory\n");
            rc = 1;
        } else {
            for (int i = 0; i < m; i++)
                ratio[i] = lane[0].dt[warmup + i] / lane[1].dt[warmup + i];
            double med = median_of(ratio, m), q1 = ratio[m / 4], q3 = ratio[(3 * m) / 4];
            int B = s[0].train.batch_size;
            double f32 = B / median_of(lane[0].dt + warmup, m);
            double b16 = B / median_of(lane[1].dt + warmup, m);
            printf("{\"impl\": \"ganctl\", \"interleaved\": true, \"model\": \"%s\", "
                   "\"size\": %d, \"threads\": %d, \"batch\": %d, \"steps\": %d, "
                   "\"float32_images_per_s\": %.1f, \"bf16_images_per_s\": %.1f, "
                   "\"bf16_x\": %.3f, \"bf16_x_q1\": %.3f, \"bf16_x_q3\": %.3f}\n",
                   model, strcmp(model, "ring8") == 0 ? 0 : size, threads, B, m, f32, b16, med, q1,
                   q3);
            free(ratio);
        }
    }
    for (int i = 0; i < 2; i++) {
        if (lane[i].t)
            gc_trainer_destroy(lane[i].t);
        free(lane[i].dt);
    }
    return rc;
}

struct sgemm_job {
    int size;
    const float *a, *b;
    float *c;
};

/* C = A B on rows [size*ith/nth, size*(ith+1)/nth) of A and C. */
static void sgemm_rows(void *arg, int ith, int nth)
{
    const struct sgemm_job *j = arg;
    int r0 = (int)((int64_t)j->size * ith / nth), r1 = (int)((int64_t)j->size * (ith + 1) / nth);
    size_t off = (size_t)r0 * j->size;
    if (r1 > r0)
        gc_sgemm(0, 0, r1 - r0, j->size, j->size, 1.0f, j->a + off, j->size, j->b, j->size, 0.0f,
                 j->c + off, j->size);
}

static int run_sgemm(int threads, int size)
{
    size_t nn = (size_t)size * size;
    float *a = malloc(nn * sizeof(float)), *b = malloc(nn * sizeof(float)),
          *c = malloc(nn * sizeof(float));
    if (!a || !b || !c) {
        fprintf(stderr, "bench_train: out of memory\n");
        return 1;
    }
    struct gc_rng r;
    gc_rng_init(&r, 1, 1);
    gc_rng_fill_uniform(&r, a, nn, -1.0f, 1.0f);
    gc_rng_fill_uniform(&r, b, nn, -1.0f, 1.0f);
    struct gc_error err = {0};
    struct gc_pool *pool = gc_pool_create(threads, &err);
    if (!pool) {
        fprintf(stderr, "bench_train: %s\n", err.msg);
        return 1;
    }
    struct sgemm_job job = {size, a, b, c};
    enum { REPS = 9 };
    double dt[REPS];
    for (int i = 0; i < 2; i++)
        gc_pool_run(pool, sgemm_rows, &job);
    for (int i = 0; i < REPS; i++) {
        double t0 = now();
        gc_pool_run(pool, sgemm_rows, &job);
        dt[i] = now() - t0;
    }
    gc_pool_destroy(pool);
    qsort(dt, REPS, sizeof *dt, cmp_double);
    printf("{\"impl\": \"sgemm\", \"threads\": %d, \"size\": %d, \"gflops\": %.1f}\n", threads,
           size, 2.0 * size * nn / dt[0] * 1e-9);
    free(a);
    free(b);
    free(c);
    return 0;
}

int main(int argc, char **argv)
{
    const char *model = "dcgan", *critic = NULL;
    int threads = 1, steps = 60, warmup = 10, sgemm = 0, size = 0, batch = 0, images = 1024;
    int bf16 = 0, interleave = 0;
    gc_blas_init();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--sgemm") == 0) {
            sgemm = 1;
            continue;
        }
        if (strcmp(a, "--interleave") == 0) {
            interleave = 1;
            continue;
        }
        if (!v) {
            fprintf(stderr, "usage: bench_train [--model dcgan|ring8] [--size 28|32|64|128] "
                            "[--batch B] [--threads T] [--steps N] [--warmup W] [--images N] "
                            "[--precision float32|bf16 | --interleave] "
                            "[--critic wgan|wgan-gp] | "
                            "--sgemm [--threads T] [--size N]\n");
            return 2;
        }
        if (strcmp(a, "--model") == 0)
            model = v;
        else if (strcmp(a, "--threads") == 0)
            threads = atoi(v);
        else if (strcmp(a, "--steps") == 0)
            steps = atoi(v);
        else if (strcmp(a, "--warmup") == 0)
            warmup = atoi(v);
        else if (strcmp(a, "--size") == 0)
            size = atoi(v);
        else if (strcmp(a, "--batch") == 0)
            batch = atoi(v);
        else if (strcmp(a, "--images") == 0)
            images = atoi(v);
        else if (strcmp(a, "--precision") == 0 && gc_precision_from_name(v) >= 0)
            bf16 = gc_precision_from_name(v) == GC_PRECISION_BF16;
        else if (strcmp(a, "--critic") == 0)
            critic = v;
        else {
            fprintf(stderr, "bench_train: unknown option %s\n", a);
            return 2;
        }
        i++;
    }
    if (sgemm && !size)
        size = 2048;
    if (!sgemm && !size)
        size = 28;
    int train_size_ok = size == 28 || size == 32 || size == 64 || size == 128;
    if (threads < 1 || steps < 1 || steps > MAX_STEPS || warmup < 0 || warmup > MAX_STEPS ||
        (sgemm && (size < 16 || size > 8192)) || (!sgemm && !train_size_ok) || batch < 0 ||
        batch > 4096 || images < 1 || images > 60000) {
        fprintf(stderr, "bench_train: bad --threads, --steps, --warmup, --size, --batch or "
                        "--images\n");
        return 2;
    }
    if (sgemm)
        return run_sgemm(threads, size);
    if (interleave)
        return run_interleaved(model, size, batch, images, threads, steps, warmup, critic);
    return run_train(model, size, batch, images, bf16, threads, steps, warmup, critic);
}
