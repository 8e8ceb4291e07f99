/* test_data.c — datasets on files generated here (IDX plain and gzipped, broken IDX,
 * IDX labels, folders of PNGs and of class folders, a small Fashion-MNIST layout), the
 * classes each set names, the 2D mixtures' statistics and labels, and the loader's
 * determinism and bit-exact resume. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/data.h"
#include "core/image.h"
#include "core/serial.h"
#include "tests/unit/core/png_fixture.h"

static char dir[512];

static int setup(void **state)
{
    (void)state;
    fx_tmpdir(dir, sizeof(dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fx_rmdir(dir);
    return 0;
}

static void path_of(char *out, const char *name)
{
    snprintf(out, GC_PATH_MAX, "%s/%s", dir, name);
}

static void save_gz(const char *name, const uint8_t *p, size_t len)
{
    char path[GC_PATH_MAX];
    path_of(path, name);
    gzFile g = gzopen(path, "wb");
    assert_non_null(g);
    assert_int_equal(gzwrite(g, p, (unsigned)len), (int)len);
    gzclose(g);
}

/* n images of h x w with pixel value (i * 7 + y * w + x) % 256 as IDX bytes. */
static uint8_t *make_idx(int n, int h, int w, size_t *len)
{
    uint8_t *pix = malloc((size_t)n * h * w);
    for (int i = 0; i < n * h * w; i++)
        pix[i] = (uint8_t)((i / (h * w)) * 7 + i % (h * w));
    uint8_t *b;
    struct gc_error err = {0};
    assert_int_equal(gc_idx_encode(pix, n, 1, h, w, &b, len, &err), 0);
    free(pix);
    return b;
}

static struct gc_dataset *open_kind(enum gc_dataset_kind k, const char *name, int size, int ch,
                                    struct gc_error *err)
{
    struct gc_dataset_spec s;
    memset(&s, 0, sizeof(s));
    s.kind = k;
    if (name)
        path_of(s.path, name);
    s.image_size = size;
    s.channels = ch;
    return gc_dataset_open(&s, NULL, NULL, err);
}

static void idx_plain_and_gz(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = make_idx(5, 6, 4, &len);
    fx_save(dir, "plain-idx3-ubyte", b, len);
    save_gz("packed-idx3-ubyte.gz", b, len);
    const char *names[] = {"plain-idx3-ubyte", "packed-idx3-ubyte.gz"};
    for (int t = 0; t < 2; t++) {
        struct gc_error err = {0};
        struct gc_dataset *d = open_kind(GC_DATA_IDX, names[t], 0, 0, &err);
        if (!d)
            fail_msg("%s: %s", names[t], err.msg);
        int c, h, w;
        gc_dataset_shape(d, &c, &h, &w);
        assert_int_equal(c, 1);
        assert_int_equal(h, 6);
        assert_int_equal(w, 4);
        assert_int_equal(gc_dataset_count(d), 5);
        assert_null(gc_dataset_labels(d));
        assert_int_equal(gc_dataset_nclasses(d), 0);
        assert_false(gc_dataset_is_points(d));
        assert_memory_equal(gc_dataset_images(d), b + 16, 5 * 24);
        assert_string_equal(gc_dataset_key(d), "idx-1x6x4");
        float x[2 * 24];
        assert_int_equal(gc_dataset_get(d, 3, 2, x, NULL, &err), 0);
        for (int i = 0; i < 48; i++)
            assert_true(x[i] == b[16 + 3 * 24 + i] / 127.5f - 1.0f);
        assert_int_equal(gc_dataset_get(d, 4, 2, x, NULL, &err), GC_EINVAL);
        /* spread: images 0 and floor(5/2) = 2 */
        assert_int_equal(gc_dataset_get_spread(d, 2, x, NULL, &err), 0);
        for (int i = 0; i < 24; i++) {
            assert_true(x[i] == b[16 + i] / 127.5f - 1.0f);
            assert_true(x[24 + i] == b[16 + 2 * 24 + i] / 127.5f - 1.0f);
        }
        assert_int_equal(gc_dataset_get_spread(d, 6, x, NULL, &err), GC_EINVAL);
        assert_int_equal(gc_dataset_get_spread(d, 0, x, NULL, &err), GC_EINVAL);
        gc_dataset_destroy(d);
    }
    free(b);
}

static void idx_errors(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = make_idx(3, 4, 4, &len);
    struct gc_error err = {0};
    /* truncated, plain and gzipped */
    fx_save(dir, "short", b, len - 5);
    assert_null(open_kind(GC_DATA_IDX, "short", 0, 0, &err));
    assert_int_equal(err.code, GC_ECORRUPT);
    assert_non_null(strstr(err.msg, "short"));
    save_gz("full.gz", b, len);
    char path[GC_PATH_MAX];
    path_of(path, "full.gz");
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    uint8_t *gz = malloc((size_t)st.st_size);
    FILE *f = fopen(path, "rb");
    assert_int_equal(fread(gz, 1, (size_t)st.st_size, f), (size_t)st.st_size);
    fclose(f);
    fx_save(dir, "cut.gz", gz, (size_t)st.st_size / 2);
    assert_null(open_kind(GC_DATA_IDX, "cut.gz", 0, 0, &err));
    assert_int_equal(err.code, GC_ECORRUPT);
    assert_non_null(strstr(err.msg, "gzip"));
    /* corrupt deflate data */
    gz[12] ^= 0xff;
    gz[13] ^= 0xff;
    fx_save(dir, "bad.gz", gz, (size_t)st.st_size);
    assert_null(open_kind(GC_DATA_IDX, "bad.gz", 0, 0, &err));
    assert_int_equal(err.code, GC_ECORRUPT);
    free(gz);
    /* wrong magic: an IDX1 labels file, and garbage */
    b[3] = 1;
    fx_save(dir, "labels", b, len);
    assert_null(open_kind(GC_DATA_IDX, "labels", 0, 0, &err));
    assert_int_equal(err.code, GC_ECORRUPT);
    b[3] = 3;
    b[0] = 0x12;
    fx_save(dir, "magic", b, len);
    assert_null(open_kind(GC_DATA_IDX, "magic", 0, 0, &err));
    assert_int_equal(err.code, GC_ECORRUPT);
    assert_non_null(strstr(err.msg, "magic"));
    b[0] = 0;
    /* bad dims: a zero, and one that disagrees with the size */
    b[11] = 0;
    fx_save(dir, "zero", b, len);
    assert_null(open_kind(GC_DATA_IDX, "zero", 0, 0, &err));
    assert_int_equal(err.code, GC_ECORRUPT);
    b[11] = 5;
    fx_save(dir, "dims", b, len);
    assert_null(open_kind(GC_DATA_IDX, "dims", 0, 0, &err));
    assert_int_equal(err.code, GC_ECORRUPT);
    fx_save(dir, "empty", b, 0);
    assert_null(open_kind(GC_DATA_IDX, "empty", 0, 0, &err));
    assert_int_equal(err.code, GC_ECORRUPT);
    assert_null(open_kind(GC_DATA_IDX, "missing", 0, 0, &err));
    assert_int_equal(err.code, GC_ENOTFOUND);
    free(b);
}

struct warns {
    int n;
    char last[512];
};

static void on_warn(void *ctx, const char *msg)
{
    struct warns *w = ctx;
    w->n++;
    snprintf(w->last, sizeof(w->last), "%s", msg);
}

static void save_png(const char *name, int w, int h, int type, int depth, const uint16_t *s,
                     const uint8_t *plte, int npal)
{
    size_t len;
    uint8_t *p = fx_png(w, h, type, depth, s, plte, npal, NULL, &len);
    assert_non_null(p);
    fx_save(dir, name, p, len);
    free(p);
}

static void png_dir_every_type(void **state)
{
    (void)state;
    uint16_t s[40 * 30 * 4];
    /* a: solid red RGB 8-bit, 40x30 */
    for (int i = 0; i < 40 * 30; i++) {
        s[3 * i] = 255;
        s[3 * i + 1] = s[3 * i + 2] = 0;
    }
    save_png("a.png", 40, 30, PNG_COLOR_TYPE_RGB, 8, s, NULL, 0);
    /* b: gray 16-bit, mid gray, 20x50 */
    for (int i = 0; i < 20 * 50; i++)
        s[i] = 0x8080;
    save_png("b.png", 20, 50, PNG_COLOR_TYPE_GRAY, 16, s, NULL, 0);
    /* c: gray+alpha, white half transparent */
    for (int i = 0; i < 16 * 16; i++) {
        s[2 * i] = 255;
        s[2 * i + 1] = 0;
    }
    save_png("c.PNG", 16, 16, PNG_COLOR_TYPE_GRAY_ALPHA, 8, s, NULL, 0);
    /* d: RGBA 16-bit, opaque blue */
    for (int i = 0; i < 8 * 8; i++) {
        s[4 * i] = s[4 * i + 1] = 0;
        s[4 * i + 2] = s[4 * i + 3] = 65535;
    }
    save_png("d.png", 8, 8, PNG_COLOR_TYPE_RGB_ALPHA, 16, s, NULL, 0);
    /* e: 4-bit palette, green */
    const uint8_t plte[6] = {0, 0, 0, 0, 200, 0};
    for (int i = 0; i < 10 * 10; i++)
        s[i] = 1;
    save_png("e.png", 10, 10, PNG_COLOR_TYPE_PALETTE, 4, s, plte, 2);
    /* unreadable ones and something that is not a PNG at all */
    fx_save(dir, "f_broken.png", (const uint8_t *)"not a png", 9);
    fx_save(dir, "notes.txt", (const uint8_t *)"hello", 5);

    struct gc_dataset_spec sp;
    memset(&sp, 0, sizeof(sp));
    sp.kind = GC_DATA_PNG_DIR;
    snprintf(sp.path, sizeof(sp.path), "%s", dir);
    sp.image_size = 12;
    sp.channels = 3;
    struct warns w = {0};
    struct gc_error err = {0};
    struct gc_dataset *d = gc_dataset_open(&sp, on_warn, &w, &err);
    if (!d)
        fail_msg("%s", err.msg);
    assert_int_equal(gc_dataset_count(d), 5);
    assert_int_equal(w.n, 1);
    assert_non_null(strstr(w.last, "f_broken.png"));
    int c, h, ww;
    gc_dataset_shape(d, &c, &h, &ww);
    assert_int_equal(c, 3);
    assert_int_equal(h, 12);
    assert_int_equal(ww, 12);
    assert_string_equal(gc_dataset_key(d), "png-dir-3x12x12");
    const uint8_t *im = gc_dataset_images(d);
    const size_t plane = 144, per = 3 * plane;
    /* sorted order a, b, c.PNG, d, e (strcmp puts "c.PNG" after "b.png") */
    const uint8_t want[5][3] = {{255, 0, 0}, {128, 128, 128}, {0, 0, 0}, {0, 0, 255}, {0, 200, 0}};
    for (int i = 0; i < 5; i++)
        for (int ch = 0; ch < 3; ch++)
            for (size_t p = 0; p < plane; p++)
                assert_int_equal(im[i * per + ch * plane + p], want[i][ch]);
    gc_dataset_destroy(d);

    /* the same folder as gray: red becomes its luma */
    sp.channels = 1;
    d = gc_dataset_open(&sp, NULL, NULL, &err);
    assert_non_null(d);
    assert_int_equal(gc_dataset_images(d)[0], 76);
    gc_dataset_destroy(d);
}

static void png_dir_empty_is_error(void **state)
{
    (void)state;
    char sub[600];
    snprintf(sub, sizeof(sub), "%s", dir);
    struct gc_dataset_spec sp;
    memset(&sp, 0, sizeof(sp));
    sp.kind = GC_DATA_PNG_DIR;
    snprintf(sp.path, sizeof(sp.path), "%s", sub);
    sp.image_size = 16;
    sp.channels = 1;
    struct gc_error err = {0};
    assert_null(gc_dataset_open(&sp, NULL, NULL, &err));
    assert_int_equal(err.code, GC_ECORRUPT);
    assert_non_null(strstr(err.msg, "no readable PNG"));
    /* only unreadable files: still an error, after one warning each */
    fx_save(dir, "x.png", (const uint8_t *)"\x89PNG\r\n\x1a\n", 8);
    fx_save(dir, "y.png", (const uint8_t *)"", 0);
    struct warns w = {0};
    assert_null(gc_dataset_open(&sp, on_warn, &w, &err));
    assert_int_equal(w.n, 2);
    snprintf(sp.path, sizeof(sp.path), "%s/nope", dir);
    assert_null(gc_dataset_open(&sp, NULL, NULL, &err));
    assert_int_equal(err.code, GC_ENOTFOUND);
}

/* A tiny Fashion-MNIST layout: t10k images + labels, gzipped, 30 images of 28x28. */
static void fashion_layout_and_classes(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = make_idx(30, 28, 28, &len);
    save_gz("t10k-images-idx3-ubyte.gz", b, len);
    uint8_t lab[8 + 30] = {0, 0, 8, 1, 0, 0, 0, 30};
    for (int i = 0; i < 30; i++)
        lab[8 + i] = (uint8_t)(i % 10);
    save_gz("t10k-labels-idx1-ubyte.gz", lab, sizeof(lab));
    struct gc_dataset_spec sp;
    memset(&sp, 0, sizeof(sp));
    sp.kind = GC_DATA_FASHION_MNIST;
    sp.test_split = 1;
    snprintf(sp.path, sizeof(sp.path), "%s", dir);
    struct gc_error err = {0};
    struct gc_dataset *d = gc_dataset_open(&sp, NULL, NULL, &err);
    if (!d)
        fail_msg("%s", err.msg);
    assert_int_equal(gc_dataset_count(d), 30);
    assert_int_equal(gc_dataset_nclasses(d), 10);
    assert_string_equal(gc_dataset_key(d), "fashion-mnist-1x28x28");
    int labels[30];
    float *x = malloc(sizeof(float) * 30 * 784);
    assert_int_equal(gc_dataset_get(d, 0, 30, x, labels, &err), 0);
    for (int i = 0; i < 30; i++)
        assert_int_equal(labels[i], i % 10);
    /* its classes, named as Fashion-MNIST names them, from the data or the spec alone */
    struct gc_class_list *cl = malloc(sizeof *cl), *cs = malloc(sizeof *cs);
    gc_dataset_classes(d, cl);
    assert_int_equal(cl->n, 10);
    assert_int_equal(cl->c[7].label, 7);
    assert_string_equal(cl->c[0].name, "T-shirt/top");
    assert_string_equal(cl->c[7].name, "Sneaker");
    assert_string_equal(cl->c[9].name, "Ankle boot");
    assert_int_equal(gc_dataset_spec_classes(&sp, cs, &err), 0);
    assert_true(gc_class_list_equal(cl, cs));
    gc_dataset_destroy(d);
    /* classes 2 and 7 only: 6 images, in file order */
    sp.classes = 1u << 2 | 1u << 7;
    d = gc_dataset_open(&sp, NULL, NULL, &err);
    assert_non_null(d);
    assert_int_equal(gc_dataset_count(d), 6);
    const int want[6] = {2, 7, 12, 17, 22, 27};
    for (int i = 0; i < 6; i++) {
        assert_int_equal(gc_dataset_labels(d)[i], want[i] % 10);
        assert_memory_equal(gc_dataset_images(d) + i * 784, b + 16 + want[i] * 784, 784);
    }
    /* a run on these classes has these two, under their own labels */
    gc_dataset_classes(d, cl);
    assert_int_equal(cl->n, 2);
    assert_int_equal(cl->c[0].label, 2);
    assert_string_equal(cl->c[0].name, "Pullover");
    assert_int_equal(cl->c[1].label, 7);
    assert_int_equal(gc_dataset_spec_classes(&sp, cs, &err), 0);
    assert_true(gc_class_list_equal(cl, cs));
    free(cl);
    free(cs);
    gc_dataset_destroy(d);
    /* a subset of those: images floor(i * 6 / 4) of them, labels along */
    sp.subset = 4;
    d = gc_dataset_open(&sp, NULL, NULL, &err);
    assert_non_null(d);
    assert_int_equal(gc_dataset_count(d), 4);
    const int kept[4] = {2, 7, 17, 22}; /* want[0], want[1], want[3], want[4] */
    for (int i = 0; i < 4; i++) {
        assert_int_equal(gc_dataset_labels(d)[i], kept[i] % 10);
        assert_memory_equal(gc_dataset_images(d) + i * 784, b + 16 + kept[i] * 784, 784);
    }
    gc_dataset_destroy(d);
    sp.subset = 7; /* more than the 6 images of these classes */
    assert_null(gc_dataset_open(&sp, NULL, NULL, &err));
    assert_int_equal(err.code, GC_EINVAL);
    assert_non_null(strstr(err.msg, "dataset.subset"));
    /* the evaluation compares against the whole test split of the same classes */
    struct gc_dataset_spec tr = sp, ev;
    tr.test_split = 0;
    gc_dataset_eval_spec(&tr, &ev);
    assert_int_equal(ev.test_split, 1);
    assert_int_equal(ev.classes, sp.classes);
    assert_int_equal(ev.subset, 0);
    assert_string_equal(ev.path, sp.path);
    sp.subset = 0;
    /* the train split is missing here */
    sp.test_split = 0;
    assert_null(gc_dataset_open(&sp, NULL, NULL, &err));
    assert_int_equal(err.code, GC_ENOTFOUND);
    /* labels that do not match the images */
    sp.test_split = 1;
    sp.classes = 0;
    lab[7] = 29;
    save_gz("t10k-labels-idx1-ubyte.gz", lab, sizeof(lab) - 1);
    assert_null(gc_dataset_open(&sp, NULL, NULL, &err));
    assert_int_equal(err.code, GC_ECORRUPT);
    free(x);
    free(b);
}

/* An IDX1 labels file of these labels (gzipped when gz). */
static void save_labels(const char *name, const uint8_t *lab, int n, int gz)
{
    uint8_t *b = malloc(8 + (size_t)n);
    const uint8_t head[8] = {
        0, 0, 8, 1, (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    memcpy(b, head, 8);
    memcpy(b + 8, lab, (size_t)n);
    if (gz)
        save_gz(name, b, 8 + (size_t)n);
    else
        fx_save(dir, name, b, 8 + (size_t)n);
    free(b);
}

static void idx_labels_make_classes(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = make_idx(12, 4, 4, &len);
    fx_save(dir, "img-idx3-ubyte", b, len);
    free(b);
    uint8_t lab[12];
    for (int i = 0; i < 12; i++)
        lab[i] = (uint8_t)(i % 3 == 0 ? 8 : i % 3 == 1 ? 3 : 250);
    save_labels("lab-idx1-ubyte.gz", lab, 12, 1);
    save_labels("short-idx1-ubyte", lab, 11, 0);
    struct gc_dataset_spec sp;
    memset(&sp, 0, sizeof sp);
    sp.kind = GC_DATA_IDX;
    path_of(sp.path, "img-idx3-ubyte");
    path_of(sp.labels_path, "lab-idx1-ubyte.gz");
    struct gc_error err = {0};
    struct gc_dataset *d = gc_dataset_open(&sp, NULL, NULL, &err);
    if (!d)
        fail_msg("%s", err.msg);
    assert_non_null(gc_dataset_labels(d));
    assert_memory_equal(gc_dataset_labels(d), lab, 12);
    assert_int_equal(gc_dataset_nclasses(d), 251); /* the largest label + 1 */
    int got[12];
    float x[12 * 16];
    assert_int_equal(gc_dataset_get(d, 0, 12, x, got, &err), 0);
    for (int i = 0; i < 12; i++)
        assert_int_equal(got[i], lab[i]);
    /* the classes are the labels that occur, in label order, named by number */
    struct gc_class_list *cl = malloc(sizeof *cl), *cs = malloc(sizeof *cs);
    gc_dataset_classes(d, cl);
    assert_int_equal(cl->n, 3);
    const int want[3] = {3, 8, 250};
    for (int k = 0; k < 3; k++)
        assert_int_equal(cl->c[k].label, want[k]);
    assert_string_equal(cl->c[2].name, "250");
    assert_int_equal(gc_dataset_spec_classes(&sp, cs, &err), 0);
    assert_true(gc_class_list_equal(cl, cs));
    gc_dataset_destroy(d);

    /* a labels file of another count, or not IDX1, or missing: refused, naming it */
    path_of(sp.labels_path, "short-idx1-ubyte");
    assert_null(gc_dataset_open(&sp, NULL, NULL, &err));
    assert_int_equal(err.code, GC_ECORRUPT);
    assert_non_null(strstr(err.msg, "11 labels for the 12 images"));
    assert_int_equal(gc_dataset_spec_classes(&sp, cs, &err), GC_ECORRUPT);
    path_of(sp.labels_path, "img-idx3-ubyte");
    assert_null(gc_dataset_open(&sp, NULL, NULL, &err));
    assert_int_equal(err.code, GC_ECORRUPT);
    assert_non_null(strstr(err.msg, "img-idx3-ubyte"));
    path_of(sp.labels_path, "nope");
    assert_null(gc_dataset_open(&sp, NULL, NULL, &err));
    assert_int_equal(err.code, GC_ENOTFOUND);
    /* without a labels file: unlabelled, and the spec's classes say why there are none */
    sp.labels_path[0] = '\0';
    d = gc_dataset_open(&sp, NULL, NULL, &err);
    assert_non_null(d);
    assert_null(gc_dataset_labels(d));
    gc_dataset_classes(d, cl);
    assert_int_equal(cl->n, 0);
    gc_dataset_destroy(d);
    assert_int_equal(gc_dataset_spec_classes(&sp, cs, &err), GC_EINVAL);
    assert_non_null(strstr(err.msg, "labels_path"));
    free(cl);
    free(cs);
}

/* Removes what png_dir_class_folders made under dir (one level of folders). */
static void remove_tree(const char *root)
{
    DIR *dd = opendir(root);
    if (!dd)
        return;
    struct dirent *e;
    char path[800];
    while ((e = readdir(dd))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(path, sizeof path, "%s/%s", root, e->d_name);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            fx_rmdir(path);
            rmdir(path);
        } else {
            unlink(path);
        }
    }
    closedir(dd);
}

static void save_png_in(const char *sub, const char *name, uint16_t value)
{
    char folder[600];
    snprintf(folder, sizeof folder, "%s/%s", dir, sub);
    mkdir(folder, 0700);
    uint16_t px[8 * 8];
    for (int i = 0; i < 64; i++)
        px[i] = value;
    size_t len;
    uint8_t *p = fx_png(8, 8, PNG_COLOR_TYPE_GRAY, 8, px, NULL, 0, NULL, &len);
    fx_save(folder, name, p, len);
    free(p);
}

static void png_dir_class_folders(void **state)
{
    (void)state;
    /* two classes, named by their folders, numbered in name order; a hidden folder, an
     * empty one and one without PNGs are no classes; an unreadable file is skipped */
    save_png_in("zebra", "1.png", 200);
    save_png_in("zebra", "0.png", 210);
    save_png_in("ant", "x.png", 10);
    save_png_in(".cache", "h.png", 99);
    char sub[700];
    snprintf(sub, sizeof sub, "%s/empty", dir);
    mkdir(sub, 0700);
    snprintf(sub, sizeof sub, "%s/notes", dir);
    mkdir(sub, 0700);
    fx_save(sub, "readme.txt", (const uint8_t *)"hi", 2);
    snprintf(sub, sizeof sub, "%s/ant", dir);
    fx_save(sub, "broken.png", (const uint8_t *)"\x89PNG", 4);
    struct gc_dataset_spec sp;
    memset(&sp, 0, sizeof sp);
    sp.kind = GC_DATA_PNG_DIR;
    snprintf(sp.path, sizeof sp.path, "%s", dir);
    sp.image_size = 8;
    sp.channels = 1;
    struct gc_error err = {0};
    struct warns w = {0};
    struct gc_dataset *d = gc_dataset_open(&sp, on_warn, &w, &err);
    if (!d)
        fail_msg("%s", err.msg);
    assert_int_equal(w.n, 1);
    assert_non_null(strstr(w.last, "ant/broken.png"));
    assert_int_equal(gc_dataset_count(d), 3);
    assert_int_equal(gc_dataset_nclasses(d), 2);
    const uint8_t want_lab[3] = {0, 1, 1}, want_pix[3] = {10, 210, 200}; /* ant, zebra 0, 1 */
    assert_memory_equal(gc_dataset_labels(d), want_lab, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(gc_dataset_images(d)[i * 64], want_pix[i]);
    struct gc_class_list *cl = malloc(sizeof *cl), *cs = malloc(sizeof *cs);
    gc_dataset_classes(d, cl);
    assert_int_equal(cl->n, 2);
    assert_string_equal(cl->c[0].name, "ant");
    assert_string_equal(cl->c[1].name, "zebra");
    assert_int_equal(cl->c[1].label, 1);
    assert_int_equal(gc_dataset_spec_classes(&sp, cs, &err), 0);
    assert_true(gc_class_list_equal(cl, cs));
    gc_dataset_destroy(d);

    /* a class folder with no readable image is an error naming it */
    save_png_in("bee", "b.png", 0);
    snprintf(sub, sizeof sub, "%s/bee/b.png", dir);
    fx_save(dir, "bee/b.png", (const uint8_t *)"junk", 4);
    assert_null(gc_dataset_open(&sp, NULL, NULL, &err));
    assert_int_equal(err.code, GC_ECORRUPT);
    assert_non_null(strstr(err.msg, "class folder 'bee'"));
    snprintf(sub, sizeof sub, "%s/bee", dir);
    fx_rmdir(sub);
    rmdir(sub);

    /* PNGs at the top level: the flat set of them, unlabelled, and no classes */
    save_png_in(".", "top.png", 50);
    d = gc_dataset_open(&sp, NULL, NULL, &err);
    assert_non_null(d);
    assert_int_equal(gc_dataset_count(d), 1);
    assert_null(gc_dataset_labels(d));
    assert_int_equal(gc_dataset_nclasses(d), 0);
    gc_dataset_destroy(d);
    assert_int_equal(gc_dataset_spec_classes(&sp, cs, &err), GC_EINVAL);
    assert_non_null(strstr(err.msg, "top level"));
    free(cl);
    free(cs);
    remove_tree(dir);
}

static void class_lists_find_and_round_trip(void **state)
{
    (void)state;
    struct gc_class_list *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    a->n = 3;
    a->c[0] = (struct gc_class){4, "T-shirt/top"};
    a->c[1] = (struct gc_class){7, "Sneaker"};
    a->c[2] = (struct gc_class){9, "with spaces and ünïcode"};
    assert_int_equal(gc_class_list_find_label(a, 7), 1);
    assert_int_equal(gc_class_list_find_label(a, 5), -1);
    assert_int_equal(gc_class_list_find_name(a, "with spaces and ünïcode"), 2);
    assert_int_equal(gc_class_list_find_name(a, "sneaker"), -1); /* names are exact */
    char *text = gc_class_list_to_text(a);
    assert_string_equal(text, "4 T-shirt/top\n7 Sneaker\n9 with spaces and ünïcode\n");
    struct gc_error err = {0};
    assert_int_equal(gc_class_list_from_text(text, b, &err), 0);
    assert_true(gc_class_list_equal(a, b));
    b->c[1].label = 8;
    assert_false(gc_class_list_equal(a, b));
    free(text);
    const char *bad[] = {"4 a\n7", "x a\n", "4a\n", "300 a\n", "-1 a\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(gc_class_list_from_text(bad[i], b, &err), GC_ECORRUPT);
    assert_int_equal(gc_class_list_from_text("", b, &err), 0);
    assert_int_equal(b->n, 0);
    free(a);
    free(b);
}

static void fashion_mnist_package(void **state)
{
    (void)state;
    struct stat st;
    if (stat(GC_FASHION_MNIST_DIR "/t10k-images-idx3-ubyte.gz", &st) != 0)
        skip();
    struct gc_dataset_spec sp;
    memset(&sp, 0, sizeof(sp));
    sp.kind = GC_DATA_FASHION_MNIST;
    sp.test_split = 1;
    struct gc_error err = {0};
    struct gc_dataset *d = gc_dataset_open(&sp, NULL, NULL, &err);
    if (!d)
        fail_msg("%s", err.msg);
    assert_int_equal(gc_dataset_count(d), 10000);
    int hist[10] = {0};
    for (int i = 0; i < 10000; i++)
        hist[gc_dataset_labels(d)[i]]++;
    for (int k = 0; k < 10; k++)
        assert_int_equal(hist[k], 1000); /* the test split is balanced */
    gc_dataset_destroy(d);
}

static void mixtures_match_the_spec(void **state)
{
    (void)state;
    const enum gc_dataset_kind kinds[2] = {GC_DATA_RING8, GC_DATA_GRID25};
    const float sigmas[2] = {0.01f, 0.05f};
    const int ks[2] = {8, 25};
    for (int t = 0; t < 2; t++) {
        struct gc_error err = {0};
        struct gc_dataset *d = open_kind(kinds[t], NULL, 0, 0, &err);
        assert_non_null(d);
        assert_true(gc_dataset_is_points(d));
        int c, h, w;
        gc_dataset_shape(d, &c, &h, &w);
        assert_int_equal(c * 10 + h * 100 + w * 1000, 2 * 10 + 100 + 1000);
        assert_int_equal(gc_dataset_sample_size(d), 2);
        const float *cen;
        float sigma;
        int k = gc_dataset_modes(d, &cen, &sigma);
        assert_int_equal(k, ks[t]);
        assert_true(sigma == sigmas[t]);
        if (t == 0)
            for (int m = 0; m < 8; m++) {
                assert_true(fabs(cen[2 * m] - cos(2 * M_PI * m / 8)) < 1e-6);
                assert_true(fabs(cen[2 * m + 1] - sin(2 * M_PI * m / 8)) < 1e-6);
            }
        else
            for (int m = 0; m < 25; m++) {
                assert_true(fmod(cen[2 * m] + 4, 2) == 0 && fabs(cen[2 * m]) <= 4);
                assert_true(fmod(cen[2 * m + 1] + 4, 2) == 0 && fabs(cen[2 * m + 1]) <= 4);
                for (int q = 0; q < m; q++)
                    assert_false(cen[2 * m] == cen[2 * q] && cen[2 * m + 1] == cen[2 * q + 1]);
            }
        const size_t n = 50000;
        float *p = malloc(sizeof(float) * 2 * n);
        struct gc_rng r;
        gc_rng_init(&r, 4, 0);
        gc_dataset_draw_points(d, &r, n, p, NULL);
        /* with labels: the same points, each labelled with the mode it came from (the
         * nearest one: sigma is small beside the spacing) */
        int *lab = malloc(sizeof(int) * 1000);
        float *q = malloc(sizeof(float) * 2 * 1000);
        gc_rng_init(&r, 4, 0);
        gc_dataset_draw_points(d, &r, 1000, q, lab);
        assert_memory_equal(p, q, sizeof(float) * 2 * 1000);
        for (size_t i = 0; i < 1000; i++) {
            double dx = q[2 * i] - cen[2 * lab[i]], dy = q[2 * i + 1] - cen[2 * lab[i] + 1];
            assert_true(sqrt(dx * dx + dy * dy) < 6 * sigma);
        }
        free(lab);
        free(q);
        struct gc_class_list *cl = malloc(sizeof *cl);
        gc_dataset_classes(d, cl);
        assert_int_equal(cl->n, k);
        assert_int_equal(gc_dataset_nclasses(d), k);
        assert_string_equal(cl->c[k - 1].name, t ? "24" : "7");
        free(cl);
        double cnt[25] = {0}, sx[25] = {0}, sy[25] = {0}, s2[25] = {0};
        for (size_t i = 0; i < n; i++) {
            int best = 0;
            double bd = 1e30;
            for (int m = 0; m < k; m++) {
                double dx = p[2 * i] - cen[2 * m], dy = p[2 * i + 1] - cen[2 * m + 1];
                if (dx * dx + dy * dy < bd) {
                    bd = dx * dx + dy * dy;
                    best = m;
                }
            }
            double dx = p[2 * i] - cen[2 * best], dy = p[2 * i + 1] - cen[2 * best + 1];
            cnt[best]++;
            sx[best] += dx;
            sy[best] += dy;
            s2[best] += dx * dx + dy * dy;
        }
        for (int m = 0; m < k; m++) {
            double share = cnt[m] / n, want = 1.0 / k;
            assert_true(fabs(share - want) < 0.15 * want);
            assert_true(fabs(sx[m] / cnt[m]) < 0.1 * sigma);
            assert_true(fabs(sy[m] / cnt[m]) < 0.1 * sigma);
            double sd = sqrt(s2[m] / cnt[m] / 2);
            assert_true(fabs(sd - sigma) < 0.05 * sigma);
        }
        free(p);
        gc_dataset_destroy(d);
    }
}

static void loader_epochs_and_determinism(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = make_idx(37, 2, 2, &len); /* first pixel of image i is 7 i mod 256 */
    fx_save(dir, "loader-idx", b, len);
    free(b);
    struct gc_error err = {0};
    struct gc_dataset *d = open_kind(GC_DATA_IDX, "loader-idx", 0, 0, &err);
    assert_non_null(d);
    struct gc_loader *l1 = gc_loader_create(d, 5, 1, &err);
    struct gc_loader *l2 = gc_loader_create(d, 5, 1, &err);
    struct gc_loader *l3 = gc_loader_create(d, 5, 2, &err);
    float x1[10 * 4], x2[10 * 4], x3[10 * 4];
    int seen[37] = {0}, differ = 0;
    /* 37 draws of batch 10: epoch boundaries fall inside batches */
    for (int bt = 0; bt < 37; bt++) {
        gc_loader_next(l1, 10, x1, NULL);
        gc_loader_next(l2, 10, x2, NULL);
        gc_loader_next(l3, 10, x3, NULL);
        assert_memory_equal(x1, x2, sizeof(x1));
        differ += memcmp(x1, x3, sizeof(x1)) != 0;
        for (int i = 0; i < 10; i++) {
            int v = (int)lroundf((x1[i * 4] + 1.0f) * 127.5f);
            assert_int_equal(v % 7, 0);
            seen[v / 7]++;
        }
    }
    /* 370 draws = exactly 10 epochs: every image 10 times */
    for (int i = 0; i < 37; i++)
        assert_int_equal(seen[i], 10);
    assert_int_equal(gc_loader_epoch(l1), 9);
    assert_int_equal(gc_loader_index(l1), 37);
    assert_true(differ > 30);
    gc_loader_destroy(l1);
    gc_loader_destroy(l2);
    gc_loader_destroy(l3);
    gc_dataset_destroy(d);
}

static void resume_check(const struct gc_dataset *d, int before, int after, size_t batch)
{
    struct gc_error err = {0};
    size_t per = gc_dataset_sample_size(d);
    float *xa = malloc(sizeof(float) * batch * per), *xb = malloc(sizeof(float) * batch * per);
    struct gc_loader *a = gc_loader_create(d, 77, 3, &err);
    for (int i = 0; i < before; i++)
        gc_loader_next(a, batch, xa, NULL);
    struct gc_buf buf;
    gc_buf_init(&buf);
    gc_loader_save(a, &buf);
    assert_false(buf.oom);
    assert_int_equal(buf.len, GC_LOADER_BYTES);
    /* a loader of another seed, moved elsewhere, then loaded */
    struct gc_loader *b = gc_loader_create(d, 1, 0, &err);
    gc_loader_next(b, batch, xb, NULL);
    struct gc_reader r;
    gc_reader_init(&r, buf.data, buf.len);
    assert_int_equal(gc_loader_load(b, &r, &err), 0);
    assert_int_equal(gc_loader_epoch(b), gc_loader_epoch(a));
    for (int i = 0; i < after; i++) {
        gc_loader_next(a, batch, xa, NULL);
        gc_loader_next(b, batch, xb, NULL);
        assert_memory_equal(xa, xb, sizeof(float) * batch * per);
    }
    /* a short buffer and a bad tag are refused and leave the loader alone */
    gc_reader_init(&r, buf.data, buf.len - 1);
    assert_int_equal(gc_loader_load(b, &r, &err), GC_ECORRUPT);
    buf.data[0] ^= 1;
    gc_reader_init(&r, buf.data, buf.len);
    assert_int_equal(gc_loader_load(b, &r, &err), GC_ECORRUPT);
    gc_loader_next(a, batch, xa, NULL);
    gc_loader_next(b, batch, xb, NULL);
    assert_memory_equal(xa, xb, sizeof(float) * batch * per);
    gc_buf_fini(&buf);
    gc_loader_destroy(a);
    gc_loader_destroy(b);
    free(xa);
    free(xb);
}

static void loader_resume_bit_exact(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = make_idx(23, 3, 3, &len);
    fx_save(dir, "resume-idx", b, len);
    free(b);
    struct gc_error err = {0};
    struct gc_dataset *d = open_kind(GC_DATA_IDX, "resume-idx", 0, 0, &err);
    assert_non_null(d);
    resume_check(d, 0, 5, 4);
    resume_check(d, 7, 20, 4); /* saved mid-epoch, continues across epochs */
    resume_check(d, 23, 3, 1); /* saved exactly at an epoch's end */
    /* a position of another dataset size is refused */
    struct gc_loader *l = gc_loader_create(d, 1, 0, &err);
    struct gc_buf buf;
    gc_buf_init(&buf);
    gc_loader_save(l, &buf);
    buf.data[4] ^= 2; /* count */
    struct gc_reader r;
    gc_reader_init(&r, buf.data, buf.len);
    assert_int_equal(gc_loader_load(l, &r, &err), GC_ECORRUPT);
    assert_non_null(strstr(err.msg, "images"));
    gc_buf_fini(&buf);
    gc_loader_destroy(l);
    gc_dataset_destroy(d);

    d = open_kind(GC_DATA_RING8, NULL, 0, 0, &err);
    resume_check(d, 3, 4, 16);
    gc_dataset_destroy(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(idx_plain_and_gz, setup, teardown),
        cmocka_unit_test_setup_teardown(idx_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(png_dir_every_type, setup, teardown),
        cmocka_unit_test_setup_teardown(png_dir_empty_is_error, setup, teardown),
        cmocka_unit_test_setup_teardown(fashion_layout_and_classes, setup, teardown),
        cmocka_unit_test_setup_teardown(idx_labels_make_classes, setup, teardown),
        cmocka_unit_test_setup_teardown(png_dir_class_folders, setup, teardown),
        cmocka_unit_test(class_lists_find_and_round_trip),
        cmocka_unit_test(fashion_mnist_package),
        cmocka_unit_test(mixtures_match_the_spec),
        cmocka_unit_test_setup_teardown(loader_epochs_and_determinism, setup, teardown),
        cmocka_unit_test_setup_teardown(loader_resume_bit_exact, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
