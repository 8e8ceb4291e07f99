/* test_task.c — image-to-image runs: the tasks' inputs, holes, edges, bicubic scaling,
 * baselines and figures (PSNR, SSIM, L1) on known images; pairs read from two folders and
 * the held-out split; training results (super-resolution x4 on Fashion-MNIST beats
 * bicubic on the test split in PSNR, inpainting beats the mean fill); a task run with
 * random holes resumes bit for bit; the sample grid's triplets; translating a user's
 * picture and the errors of a bad one; the colour set (Noto emoji from npm) as a
 * png-dir, and a colorize run on it. Run from the repository's top (tests/run.sh). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/blas.h"
#include "core/gan.h"
#include "core/image.h"
#include "core/task.h"
#include "core/task_data.h"
#include "tests/unit/core/png_fixture.h"
#include "tests/unit/core/sanitized.h"

#define OK(x) assert_int_equal((x), 0)

/* ---- the data side -------------------------------------------------------------- */

static void bicubic_and_blocks(void **s)
{
    (void)s;
    float x[2 * 8 * 8], small[4 * 4], up[2 * 8 * 8];
    /* a constant stays itself both ways */
    for (int i = 0; i < 128; i++)
        x[i] = i < 64 ? 0.25f : -0.5f;
    gc_task_downsample(x, 2, 8, 8, 4, small);
    for (int i = 0; i < 8; i++)
        assert_float_equal(small[i], i < 4 ? 0.25f : -0.5f, 1e-6);
    gc_task_bicubic(small, 2, 2, 2, 4, up);
    for (int i = 0; i < 128; i++)
        assert_float_equal(up[i], x[i], 1e-6);
    /* blocks average; a ramp of the small image is a ramp inside the big one */
    for (int i = 0; i < 64; i++)
        x[i] = (float)(i % 8) / 8.0f;
    gc_task_downsample(x, 1, 8, 8, 2, small);
    assert_float_equal(small[0], 0.0625f, 1e-6);
    float ramp[4 * 4], big[16 * 16];
    for (int i = 0; i < 16; i++)
        ramp[i] = 0.1f * (float)(i % 4);
    gc_task_bicubic(ramp, 1, 4, 4, 4, big);
    for (int j = 6; j < 10; j++) /* away from the repeated edges: (j + 0.5) / 4 - 0.5 */
        assert_float_equal(big[3 * 16 + j], 0.1f * ((j + 0.5f) / 4 - 0.5f), 1e-5);
    /* clamped to [-1, 1]: cubic overshoot at a step */
    float step[4] = {-1, -1, 1, 1}, out[4 * 16];
    gc_task_bicubic(step, 1, 1, 4, 4, out);
    for (int i = 0; i < 64; i++)
        assert_true(out[i] >= -1.0f && out[i] <= 1.0f);
}

static void holes_and_inpainting_inputs(void **s)
{
    (void)s;
    int x0, y0, x1, y1;
    gc_task_hole(GC_MASK_CENTER, 28, 28, 1, &x0, &y0, &x1, &y1);
    assert_true(x0 == 7 && y0 == 7 && x1 == 21 && y1 == 21);
    int seen_x = 0, seen_w = 0;
    for (uint64_t k = 0; k < 200; k++) {
        gc_task_hole(GC_MASK_RANDOM, 32, 32, k, &x0, &y0, &x1, &y1);
        assert_true(x1 - x0 >= 8 && x1 - x0 <= 16 && y1 - y0 >= 8 && y1 - y0 <= 16);
        assert_true(x0 >= 0 && y0 >= 0 && x1 <= 32 && y1 <= 32);
        seen_x |= 1 << (x0 / 4);
        seen_w |= 1 << (x1 - x0 - 8);
        int a0, b0, a1, b1; /* the same seed, the same hole */
        gc_task_hole(GC_MASK_RANDOM, 32, 32, k, &a0, &b0, &a1, &b1);
        assert_true(a0 == x0 && b0 == y0 && a1 == x1 && b1 == y1);
    }
    assert_true((seen_x & 0x1f) == 0x1f && seen_w == 0x1ff); /* positions and sizes occur */

    struct gc_task_spec t = {.on = 1, .kind = GC_TASK_INPAINTING, .mask = GC_MASK_CENTER};
    assert_int_equal(gc_task_in_channels(&t, 3), 4);
    float tgt[3 * 8 * 8], in[4 * 8 * 8], scratch[3 * 64], g[3 * 64], out[3 * 64], base[3 * 64];
    for (int i = 0; i < 192; i++)
        tgt[i] = i < 64 ? 0.5f : i < 128 ? -0.5f : 1.0f;
    gc_task_make_inputs(&t, tgt, 1, 3, 8, 8, 0, in, scratch);
    for (int a = 0; a < 8; a++)
        for (int b = 0; b < 8; b++) {
            int hole = a >= 2 && a < 6 && b >= 2 && b < 6;
            assert_float_equal(in[192 + a * 8 + b], hole ? 1.0f : -1.0f, 0);
            assert_float_equal(in[a * 8 + b], hole ? 0.0f : 0.5f, 0);
        }
    /* G's pixels only in the hole; the baseline fills it with the rest's mean */
    for (int i = 0; i < 192; i++)
        g[i] = 0.9f;
    gc_task_compose(in, g, 1, 3, 8, 8, out);
    assert_float_equal(out[0], 0.5f, 0);
    assert_float_equal(out[3 * 8 + 3], 0.9f, 0);
    gc_task_baseline(&t, in, NULL, 1, 3, 8, 8, base);
    assert_float_equal(base[64 + 3 * 8 + 3], -0.5f, 1e-6);
    assert_float_equal(base[128 + 0], 1.0f, 0);
}

static void edges_luma_and_baselines(void **s)
{
    (void)s;
    /* a vertical step from black to white: edges where it is, white elsewhere */
    float x[3 * 8 * 8], e[64], scratch[64], l[64];
    for (int ch = 0; ch < 3; ch++)
        for (int i = 0; i < 64; i++)
            x[ch * 64 + i] = i % 8 < 4 ? -1.0f : 1.0f;
    gc_task_edges(x, 3, 8, 8, e, scratch);
    for (int a = 0; a < 8; a++)
        for (int b = 0; b < 8; b++)
            assert_float_equal(e[a * 8 + b], b == 3 || b == 4 ? -1.0f : 1.0f, 0);
    /* a weak step (less than the threshold) is no edge */
    for (int i = 0; i < 64; i++)
        x[i] = x[64 + i] = x[128 + i] = i % 8 < 4 ? 0.0f : 0.4f;
    gc_task_edges(x, 3, 8, 8, e, scratch);
    for (int i = 0; i < 64; i++)
        assert_float_equal(e[i], 1.0f, 0);
    /* luma weights, and colorize's baseline replicates it */
    for (int i = 0; i < 64; i++)
        x[i] = 1.0f, x[64 + i] = 0.0f, x[128 + i] = -1.0f;
    gc_task_luma(x, 3, 8, 8, l);
    assert_float_equal(l[5], 0.299f - 0.114f, 1e-6);
    struct gc_task_spec c = {.on = 1, .kind = GC_TASK_COLORIZE};
    float in[64], base[192], scr[192];
    gc_task_make_inputs(&c, x, 1, 3, 8, 8, 0, in, scr);
    gc_task_baseline(&c, in, NULL, 1, 3, 8, 8, base);
    assert_float_equal(base[130], l[2], 1e-6);
    /* colorize keeps the input's luma exactly, and its backward is the Jacobian's
     * transpose (checked on a linear objective, for which differences are exact) */
    float g[192], o[192], o2[192], dd[192], gray[64];
    for (int i = 0; i < 192; i++)
        g[i] = (float)((i * 37) % 19) / 10.0f - 0.9f, dd[i] = (float)((i * 11) % 7) - 3.0f;
    for (int i = 0; i < 64; i++)
        gray[i] = (float)(i % 9) / 5.0f - 0.8f;
    gc_task_keep_luma(gray, g, 1, 8, 8, o);
    gc_task_luma(o, 3, 8, 8, l);
    for (int i = 0; i < 64; i++)
        assert_float_equal(l[i], gray[i], 1e-5);
    float back[192];
    memcpy(back, dd, sizeof dd);
    gc_task_keep_luma_backward(back, 1, 8, 8);
    for (int k = 0; k < 192; k += 23) {
        float keep = g[k];
        g[k] = keep + 0.5f;
        gc_task_keep_luma(gray, g, 1, 8, 8, o2);
        g[k] = keep;
        double num = 0.0;
        for (int i = 0; i < 192; i++)
            num += (double)dd[i] * (o2[i] - o[i]) / 0.5;
        assert_float_equal(back[k], num, 1e-3);
    }
    /* edges and paired: the mean image whatever the input */
    struct gc_task_spec ed = {.on = 1, .kind = GC_TASK_EDGES};
    float mean[192];
    for (int i = 0; i < 192; i++)
        mean[i] = (float)i / 200.0f;
    gc_task_baseline(&ed, in, mean, 1, 3, 8, 8, base);
    assert_memory_equal(base, mean, sizeof mean);
}

static void figures_on_known_images(void **s)
{
    (void)s;
    float a[2 * 3 * 16 * 16], b[2 * 3 * 16 * 16];
    for (int i = 0; i < 1536; i++) {
        a[i] = (float)((i * 37) % 101) / 50.0f - 1.0f;
        b[i] = a[i];
    }
    assert_float_equal(gc_task_psnr(a, b, 2, 768), 100.0, 0);
    assert_float_equal(gc_task_ssim(a, b, 2, 3, 16, 16), 1.0, 1e-9);
    assert_float_equal(gc_task_l1(a, b, 2, 768), 0.0, 0);
    /* 0.1 off on [0, 1] everywhere: MSE 0.01, 20 dB, L1 0.1 */
    for (int i = 0; i < 1536; i++) {
        a[i] = 0.0f;
        b[i] = 0.2f;
    }
    assert_float_equal(gc_task_psnr(a, b, 2, 768), 20.0, 1e-5);
    assert_float_equal(gc_task_l1(a, b, 2, 768), 0.1, 1e-6);
    /* SSIM of two flat images: luminance term only, (2 m1 m2 + C1) / (m1^2 + m2^2 + C1) */
    double m1 = 0.5, m2 = 0.6, c1 = 1e-4;
    assert_float_equal(gc_task_ssim(a, b, 2, 3, 16, 16),
                       (2 * m1 * m2 + c1) / (m1 * m1 + m2 * m2 + c1), 1e-6);
    /* noise lowers SSIM, and more noise lowers it more */
    for (int i = 0; i < 1536; i++) {
        a[i] = (float)((i * 37) % 101) / 50.0f - 1.0f;
        b[i] = a[i] + ((i * 7) % 5 - 2) * 0.02f;
    }
    double s1 = gc_task_ssim(a, b, 2, 3, 16, 16);
    for (int i = 0; i < 1536; i++)
        b[i] = a[i] + ((i * 7) % 5 - 2) * 0.1f;
    double s2 = gc_task_ssim(a, b, 2, 3, 16, 16);
    assert_true(s1 < 1.0 && s2 < s1);
    /* images smaller than the window take the largest odd one that fits */
    assert_float_equal(gc_task_ssim(a, a, 1, 1, 8, 8), 1.0, 1e-9);
}

/* ---- pairs and the split -------------------------------------------------------- */

static void save_gray(const char *dir, const char *name, int w, int v)
{
    uint16_t px[16 * 16];
    for (int i = 0; i < w * w; i++)
        px[i] = (uint16_t)v;
    size_t len;
    uint8_t *png = fx_png(w, w, PNG_COLOR_TYPE_GRAY, 8, px, NULL, 0, NULL, &len);
    fx_save(dir, name, png, len);
    free(png);
}

static int warnings;
static void count_warning(void *ctx, const char *msg)
{
    (void)ctx;
    warnings++;
    assert_non_null(strstr(msg, "paired: skipping"));
}

static void pairs_and_held_out_split(void **s)
{
    (void)s;
    char tdir[256], sdir[256];
    fx_tmpdir(tdir, sizeof tdir);
    fx_tmpdir(sdir, sizeof sdir);
    char name[32];
    for (int i = 0; i < 12; i++) {
        snprintf(name, sizeof name, "im%02d.png", i);
        save_gray(tdir, name, 16, 10 * i);
        if (i != 5) /* im05 has no input */
            save_gray(sdir, name, 16, 200 - 10 * i);
    }
    fx_save(sdir, "im07.png", (const uint8_t *)"not a png", 9); /* skipped too */
    struct gc_spec spec;
    gc_spec_defaults(&spec, GC_DATA_PNG_DIR, GC_LOSS_NONSATURATING);
    snprintf(spec.dataset.path, sizeof spec.dataset.path, "%s", tdir);
    spec.dataset.image_size = 8;
    spec.dataset.channels = 1;
    spec.task = (struct gc_task_spec){.on = 1, .kind = GC_TASK_PAIRED};
    snprintf(spec.task.source_path, sizeof spec.task.source_path, "%s", sdir);
    struct gc_error err = {0};
    warnings = 0;
    struct gc_dataset *all = gc_task_open_paired(&spec, count_warning, NULL, &err);
    assert_non_null(all);
    assert_int_equal(warnings, 2);
    assert_int_equal(gc_dataset_count(all), 10);
    int c, h, w;
    gc_dataset_shape(all, &c, &h, &w);
    assert_true(c == 2 && h == 8 && w == 8);
    const uint8_t *px = gc_dataset_images(all);
    assert_int_equal(px[0], 200);       /* im00's input */
    assert_int_equal(px[64], 0);        /* im00's target */
    assert_int_equal(px[128], 190);     /* im01 */
    assert_int_equal(px[5 * 128], 140); /* im06: im05 and im07 were skipped */

    struct gc_dataset *train, *held;
    OK(gc_task_split(all, &train, &held, &err));
    assert_int_equal(gc_dataset_count(train), 9);
    assert_int_equal(gc_dataset_count(held), 1);
    assert_int_equal(gc_dataset_images(held)[64], 110); /* the tenth pair: im11 */
    gc_dataset_destroy(train);
    gc_dataset_destroy(held);
    gc_dataset_destroy(all);

    /* no namesake at all */
    snprintf(spec.task.source_path, sizeof spec.task.source_path, "%s/none", tdir);
    assert_null(gc_task_open_paired(&spec, NULL, NULL, &err));
    assert_int_equal(err.code, GC_ECORRUPT);
    fx_rmdir(tdir);
    fx_rmdir(sdir);
}

/* ---- training -------------------------------------------------------------------- */

struct figures {
    double v[6];
    int evals;
    uint8_t *ckpt;
    size_t ckpt_len;
    uint8_t *png;
    size_t png_len;
    int64_t pause_at, polls;
};

static int on_eval(void *ctx, int64_t step, const struct gc_metric *m, int n, struct gc_error *err)
{
    (void)step, (void)err;
    static const char *const names[6] = {"psnr",          "ssim",          "l1",
                                         "psnr_baseline", "ssim_baseline", "l1_baseline"};
    struct figures *f = ctx;
    assert_int_equal(n, 6);
    for (int i = 0; i < 6; i++) {
        assert_string_equal(m[i].name, names[i]);
        f->v[i] = m[i].value;
    }
    f->evals++;
    return 0;
}

static int on_ckpt(void *ctx, int64_t step, const uint8_t *b, size_t len, struct gc_error *err)
{
    (void)step, (void)err;
    struct figures *f = ctx;
    free(f->ckpt);
    f->ckpt = malloc(len);
    memcpy(f->ckpt, b, len);
    f->ckpt_len = len;
    return 0;
}

static int on_sample(void *ctx, int64_t step, const uint8_t *png, size_t len, struct gc_error *err)
{
    (void)step, (void)err;
    struct figures *f = ctx;
    free(f->png);
    f->png = malloc(len);
    memcpy(f->png, png, len);
    f->png_len = len;
    return 0;
}

static int on_control(void *ctx)
{
    struct figures *f = ctx;
    f->polls++;
    return f->pause_at && f->polls == f->pause_at ? GC_STOP_PAUSE : GC_CONTINUE;
}

/* An IDX file of 40 synthetic 16x16 images in a fresh folder dir: a set that opens at
 * once, for tests that need a task's path more than its data. */
static void small_idx(char *dir, size_t dn, char *path, size_t pn)
{
    fx_tmpdir(dir, dn);
    snprintf(path, pn, "%s/set.idx", dir);
    uint8_t idx[16 + 40 * 256] = {0, 0, 8, 3, 0, 0, 0, 40, 0, 0, 0, 16, 0, 0, 0, 16};
    for (int i = 0; i < 40 * 256; i++)
        idx[16 + i] = (uint8_t)((i * 131 + (i / 256) * 71) % 251);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(idx, 1, sizeof idx, fp), sizeof idx);
    fclose(fp);
}

static struct gc_spec task_spec(enum gc_task_kind kind, int64_t steps)
{
    struct gc_spec s;
    gc_spec_defaults(&s, GC_DATA_FASHION_MNIST, GC_LOSS_NONSATURATING);
    struct gc_task_spec t = {.on = 1, .kind = kind, .factor = 4, .mask = GC_MASK_CENTER};
    gc_spec_task_defaults(&s, &t);
    /* small and short: what the normal build trains in a few seconds (a default run of
     * bench/task_table.sh goes further) */
    s.model.g_width = 16;
    s.model.d_width = 16;
    s.train.batch_size = 8;
    s.train.steps = steps;
    s.every = (struct gc_every_spec){0, 0, 0, steps};
    return s;
}

static struct gc_trainer *run(const struct gc_spec *s, struct figures *f)
{
    struct gc_error err = {0};
    assert_int_equal(gc_spec_check(s, NULL), 0);
    struct gc_trainer_opts o = {.threads = 1, .load_data = 1};
    struct gc_trainer *t = gc_trainer_create(s, &o, &err);
    if (!t)
        fail_msg("create: %s", err.msg);
    struct gc_train_hooks h = {.ctx = f,
                               .eval = on_eval,
                               .checkpoint = on_ckpt,
                               .sample = on_sample,
                               .control = on_control};
    int rc = gc_trainer_run(t, &h, &err);
    if (rc && rc != GC_ESTOPPED)
        fail_msg("run: %s", err.msg);
    return t;
}

/* The figure: x4 super-resolution on Fashion-MNIST beats bicubic upscaling on
 * the test split in PSNR (300 steps: 17.0 dB against 15.9 on 500 test images). */
static void super_resolution_beats_bicubic(void **s)
{
    (void)s;
    struct gc_spec spec = task_spec(GC_TASK_SUPER_RESOLUTION, SANITIZED ? 3 : 300);
    char dir[256] = "";
    if (SANITIZED) { /* the path for memory and threads; the result is the normal build's */
        spec.dataset.kind = GC_DATA_IDX;
        small_idx(dir, sizeof dir, spec.dataset.path, sizeof spec.dataset.path);
    }
    struct figures f = {0};
    struct gc_trainer *t = run(&spec, &f);
    assert_int_equal(f.evals, 1);
    print_message("super-resolution x4: psnr %.2f (bicubic %.2f), ssim %.3f (%.3f), l1 %.4f "
                  "(%.4f)\n",
                  f.v[0], f.v[3], f.v[1], f.v[4], f.v[2], f.v[5]);
    if (!SANITIZED) {
        assert_true(f.v[3] > 14.0 && f.v[3] < 18.0); /* bicubic from 7x7 is blurry */
        assert_true(f.v[0] > f.v[3] + 0.5);
    } else {
        fx_rmdir(dir);
    }
    gc_trainer_destroy(t);
    free(f.ckpt);
    free(f.png);
}

/* Inpainting the centre square beats filling it with the mean colour of the rest. */
static void inpainting_beats_mean_fill(void **s)
{
    (void)s;
    struct gc_spec spec = task_spec(GC_TASK_INPAINTING, SANITIZED ? 3 : 150);
    char dir[256] = "";
    if (SANITIZED) {
        spec.dataset.kind = GC_DATA_IDX;
        small_idx(dir, sizeof dir, spec.dataset.path, sizeof spec.dataset.path);
    }
    struct figures f = {0};
    struct gc_trainer *t = run(&spec, &f);
    print_message("inpainting: psnr %.2f (mean fill %.2f), ssim %.3f (%.3f)\n", f.v[0], f.v[3],
                  f.v[1], f.v[4]);
    if (!SANITIZED) {
        assert_true(f.v[0] > f.v[3] + 2.0);
        assert_true(f.v[2] < f.v[5]);
    } else {
        fx_rmdir(dir);
    }
    gc_trainer_destroy(t);
    free(f.ckpt);
    free(f.png);
}

/* Random holes come from (seed, step, draw): a run paused and restored draws the same
 * ones and ends in the same bytes; the sample grid is rows of 3 from the held-out
 * tenth of an idx set. */
static void random_holes_resume_bit_for_bit(void **s)
{
    (void)s;
    /* a small idx set: four trainers open it */
    char dir[256], path[300];
    small_idx(dir, sizeof dir, path, sizeof path);
    const int64_t steps = 8;
    struct gc_spec spec = task_spec(GC_TASK_INPAINTING, steps);
    spec.dataset.kind = GC_DATA_IDX;
    snprintf(spec.dataset.path, sizeof spec.dataset.path, "%s", path);
    spec.task.mask = GC_MASK_RANDOM;
    spec.train.d_steps = 2;
    spec.model.g_width = spec.model.d_width = 4;
    spec.every = (struct gc_every_spec){0, steps, steps, 0};
    struct figures a = {0}, b = {0};
    gc_trainer_destroy(run(&spec, &a));
    b.pause_at = steps / 2;
    struct gc_trainer *t = run(&spec, &b);
    assert_int_equal(gc_trainer_step(t), steps / 2 - 1);
    gc_trainer_destroy(t);
    struct gc_error err = {0};
    struct gc_trainer_opts o = {.threads = 1, .load_data = 1};
    t = gc_trainer_create(&spec, &o, &err);
    assert_non_null(t);
    OK(gc_trainer_restore(t, b.ckpt, b.ckpt_len, &err));
    b.pause_at = 0;
    struct gc_train_hooks h = {.ctx = &b, .checkpoint = on_ckpt, .sample = on_sample};
    OK(gc_trainer_run(t, &h, &err));
    assert_int_equal(a.ckpt_len, b.ckpt_len);
    assert_memory_equal(a.ckpt, b.ckpt, a.ckpt_len);
    /* the grid: 3 columns of 16 and a row for each of the 4 held-out images (the
     * tenth of 40), 2-pixel gaps */
    struct gc_picture p = {0};
    OK(gc_png_decode(a.png, a.png_len, &p, &err));
    assert_int_equal(p.w, 3 * 18 + 2);
    assert_int_equal(p.h, 4 * 18 + 2);
    gc_picture_fini(&p);
    /* another seed: other holes, other bytes */
    spec.train.seed = 2;
    struct figures c = {0};
    gc_trainer_destroy(run(&spec, &c));
    assert_true(c.ckpt_len != a.ckpt_len || memcmp(a.ckpt, c.ckpt, a.ckpt_len) != 0);
    /* a checkpoint of the other mask does not fit this spec */
    spec.task.mask = GC_MASK_CENTER;
    struct gc_trainer *u = gc_trainer_create(&spec, &o, &err);
    assert_int_equal(gc_trainer_restore(u, a.ckpt, a.ckpt_len, &err), GC_EINVAL);
    gc_trainer_destroy(u);
    gc_trainer_destroy(t);
    free(a.ckpt), free(b.ckpt), free(c.ckpt), free(a.png), free(b.png), free(c.png);
    fx_rmdir(dir);
}

static uint8_t *png_of(int w, int h, int type, int v, int alpha_hole, size_t *len)
{
    int c = fx_channels(type);
    uint16_t *px = malloc((size_t)w * h * c * sizeof *px);
    for (int i = 0; i < w * h; i++)
        for (int k = 0; k < c; k++)
            px[i * c + k] =
                (uint16_t)(k == c - 1 && (c == 2 || c == 4)
                               ? (alpha_hole && i % w >= w / 4 && i % w < w / 2 ? 0 : 255)
                               : v);
    uint8_t *png = fx_png(w, h, type, 8, px, NULL, 0, NULL, len);
    free(px);
    return png;
}

/* translate: the output's size, and a clear error for each bad picture. */
static void translate_sizes_and_errors(void **s)
{
    (void)s;
    struct gc_error err = {0};
    struct gc_trainer_opts o = {.threads = 1, .load_data = 0};
    struct gc_spec spec = task_spec(GC_TASK_SUPER_RESOLUTION, 10);
    struct gc_trainer *t = gc_trainer_create(&spec, &o, &err);
    assert_non_null(t);
    int w, h;
    gc_trainer_translate_size(t, &w, &h);
    assert_true(w == 7 && h == 7);
    size_t len, olen;
    uint8_t *out, *png = png_of(7, 7, PNG_COLOR_TYPE_RGB, 120, 0, &len);
    OK(gc_trainer_translate_png(t, png, len, &out, &olen, &err)); /* colour to gray */
    struct gc_picture p = {0};
    OK(gc_png_decode(out, olen, &p, &err));
    assert_true(p.w == 28 && p.h == 28 && p.c == 1);
    gc_picture_fini(&p);
    free(out);
    free(png);
    png = png_of(28, 28, PNG_COLOR_TYPE_GRAY, 120, 0, &len);
    assert_int_equal(gc_trainer_translate_png(t, png, len, &out, &olen, &err), GC_EINVAL);
    assert_non_null(strstr(err.msg, "28x28; this run takes 7x7"));
    /* the header is read first: a cut one of the wrong size says so, of the right size
     * it does not decode */
    assert_int_equal(gc_trainer_translate_png(t, png, 30, &out, &olen, &err), GC_EINVAL);
    free(png);
    png = png_of(7, 7, PNG_COLOR_TYPE_GRAY, 120, 0, &len);
    assert_int_equal(gc_trainer_translate_png(t, png, 30, &out, &olen, &err), GC_ECORRUPT);
    assert_non_null(strstr(err.msg, "not a PNG image"));
    assert_int_equal(gc_trainer_translate_png(t, (const uint8_t *)"hello", 5, &out, &olen, &err),
                     GC_ECORRUPT);
    assert_null(out);
    /* generate has nothing to draw from */
    float x[784];
    assert_int_equal(gc_trainer_generate(t, 1, 1, x, &err), GC_EINVAL);
    gc_trainer_destroy(t);
    free(png);

    /* inpainting: the hole is the alpha channel, and the known pixels come back as they
     * were */
    spec = task_spec(GC_TASK_INPAINTING, 10);
    t = gc_trainer_create(&spec, &o, &err);
    assert_non_null(t);
    png = png_of(28, 28, PNG_COLOR_TYPE_GRAY, 200, 0, &len);
    assert_int_equal(gc_trainer_translate_png(t, png, len, &out, &olen, &err), GC_EINVAL);
    assert_non_null(strstr(err.msg, "alpha"));
    free(png);
    png = png_of(28, 28, PNG_COLOR_TYPE_GRAY_ALPHA, 200, 1, &len);
    OK(gc_trainer_translate_png(t, png, len, &out, &olen, &err));
    OK(gc_png_decode(out, olen, &p, &err));
    assert_true(p.w == 28 && p.h == 28 && p.c == 1);
    assert_int_equal(p.pix[0], 200);           /* known */
    assert_int_equal(p.pix[28 * 3 + 27], 200); /* known */
    gc_picture_fini(&p);
    free(out);
    free(png);
    gc_trainer_destroy(t);

    /* a run without a task has nothing to translate */
    struct gc_spec plain;
    gc_spec_defaults(&plain, GC_DATA_FASHION_MNIST, GC_LOSS_NONSATURATING);
    t = gc_trainer_create(&plain, &o, &err);
    assert_non_null(t);
    assert_int_equal(gc_trainer_translate_png(t, (const uint8_t *)"\x89PNG", 4, &out, &olen, &err),
                     GC_ESTATE);
    gc_trainer_destroy(t);
}

/* ---- the colour set --------------------------------------------------------------- */

#define EMOJI_DIR "node_modules/emoji-datasource-google/img/google/64" /* npm ci */
#define EMOJI_TAKE 96

/* The first EMOJI_TAKE Noto emoji (by name) copied into a scratch folder. */
static void emoji_subset(char *dir, size_t n)
{
    struct dirent **names;
    int k = scandir(EMOJI_DIR, &names, NULL, alphasort);
    if (k < 0)
        fail_msg("%s is missing: run npm ci (package.json installs the emoji sets)", EMOJI_DIR);
    assert_true(k > 3000);
    fx_tmpdir(dir, n);
    int taken = 0;
    for (int i = 0; i < k; i++) {
        if (taken < EMOJI_TAKE && strstr(names[i]->d_name, ".png")) {
            char src[512];
            snprintf(src, sizeof src, "%s/%s", EMOJI_DIR, names[i]->d_name);
            FILE *f = fopen(src, "rb");
            assert_non_null(f);
            uint8_t buf[1 << 16];
            size_t len = fread(buf, 1, sizeof buf, f);
            fclose(f);
            fx_save(dir, names[i]->d_name, buf, len);
            taken++;
        }
        free(names[i]);
    }
    free(names);
}

/* The colour set is a png-dir at 32x32 whose images are colour, and a colorize run
 * trains on it: the grid shows its three channels. */
static void emoji_colour_set_trains(void **s)
{
    (void)s;
    char dir[256];
    emoji_subset(dir, sizeof dir);
    struct gc_spec spec;
    gc_spec_defaults(&spec, GC_DATA_PNG_DIR, GC_LOSS_NONSATURATING);
    snprintf(spec.dataset.path, sizeof spec.dataset.path, "%s", dir);
    spec.dataset.image_size = 32;
    struct gc_error err = {0};
    struct gc_dataset *d = gc_dataset_open(&spec.dataset, NULL, NULL, &err);
    assert_non_null(d);
    assert_int_equal(gc_dataset_count(d), EMOJI_TAKE);
    /* colour: a good share of the pixels differ between red and blue */
    const uint8_t *px = gc_dataset_images(d);
    size_t hw = 32 * 32, colourful = 0;
    for (size_t i = 0; i < EMOJI_TAKE; i++)
        for (size_t k = 0; k < hw; k++)
            colourful += abs((int)px[i * 3 * hw + k] - (int)px[i * 3 * hw + 2 * hw + k]) > 40;
    assert_true(colourful > EMOJI_TAKE * hw / 10);
    gc_dataset_destroy(d);

    struct gc_task_spec t = {.on = 1, .kind = GC_TASK_COLORIZE, .factor = 4};
    gc_spec_task_defaults(&spec, &t);
    spec.model.g_width = spec.model.d_width = 8;
    spec.train.batch_size = 8;
    spec.train.steps = SANITIZED ? 2 : 20;
    spec.every = (struct gc_every_spec){0, spec.train.steps, 0, spec.train.steps};
    struct figures f = {0};
    gc_trainer_destroy(run(&spec, &f));
    assert_int_equal(f.evals, 1);
    assert_true(f.v[4] > 0.3 && f.v[4] < 1.0); /* gray keeps the structure: a high SSIM */
    struct gc_picture p = {0};
    OK(gc_png_decode(f.png, f.png_len, &p, &err));
    assert_true(p.c == 3 && p.w == 3 * 34 + 2);
    gc_picture_fini(&p);
    free(f.png);
    free(f.ckpt);
    fx_rmdir(dir);
}

int main(void)
{
    gc_blas_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bicubic_and_blocks),
        cmocka_unit_test(holes_and_inpainting_inputs),
        cmocka_unit_test(edges_luma_and_baselines),
        cmocka_unit_test(figures_on_known_images),
        cmocka_unit_test(pairs_and_held_out_split),
        cmocka_unit_test(translate_sizes_and_errors),
        cmocka_unit_test(emoji_colour_set_trains),
        cmocka_unit_test(random_holes_resume_bit_for_bit),
        cmocka_unit_test(super_resolution_beats_bicubic),
        cmocka_unit_test(inpainting_beats_mean_fill),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
