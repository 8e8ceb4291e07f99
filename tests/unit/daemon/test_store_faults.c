/* test_store_faults.c — the store when the disk fails: a SQLite VFS shim that wraps the
 * real (unix) VFS and, once armed, makes every write, truncate and sync after the first
 * N fail with SQLITE_IOERR or SQLITE_FULL (or only the (N+1)-th, a transient fault).
 *
 * For every N from 0 up to the number of writes a workload makes, a fresh store gets a
 * baseline of committed rows, then the workload (a run, a metrics batch, a sample, a
 * checkpoint with pruning, a status, an event, a delete) under the fault. Each call must
 * return 0 or GC_EIO with a message, never crash; gd_store_health() must say "disk full"
 * or "I/O error" while writes fail and recover after a write works again. Reopened with
 * the real VFS, the file passes PRAGMA integrity_check, the baseline is all there, every
 * call that returned 0 is there, and no call is there in part (transactions).
 *
 * The shim is the test's own: tests may include sqlite3.h, the daemon (but its store files) not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/migrations.h"
#include "daemon/store.h"

/* ---- the fault VFS ------------------------------------------------------------------- */

enum fault_mode { F_IOERR, F_FULL, F_IOERR_ONCE };

static struct {
    int armed;
    enum fault_mode mode;
    long after; /* writes that still work once armed */
    long ops;   /* writes seen since armed */
    long fired; /* writes failed */
} fault;

static sqlite3_vfs *real_vfs;
static sqlite3_vfs fault_vfs;

struct fault_file {
    sqlite3_file base;
    sqlite3_file *real; /* lives right after this struct */
};

static void fault_arm(enum fault_mode mode, long after)
{
    fault.armed = 1;
    fault.mode = mode;
    fault.after = after;
    fault.ops = 0;
    fault.fired = 0;
}

static void fault_disarm(void)
{
    fault.armed = 0;
}

/* 0 to let a write through, else the code it fails with. */
static int fault_hit(int ioerr)
{
    if (!fault.armed)
        return 0;
    long n = fault.ops++;
    if (n < fault.after || (fault.mode == F_IOERR_ONCE && n > fault.after))
        return 0;
    fault.fired++;
    return fault.mode == F_FULL ? SQLITE_FULL : ioerr;
}

static sqlite3_file *real_of(sqlite3_file *f)
{
    return ((struct fault_file *)f)->real;
}

static int f_close(sqlite3_file *f)
{
    sqlite3_file *r = real_of(f);
    return r->pMethods ? r->pMethods->xClose(r) : SQLITE_OK;
}

static int f_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
    sqlite3_file *r = real_of(f);
    return r->pMethods->xRead(r, buf, n, off);
}

static int f_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
    int rc = fault_hit(SQLITE_IOERR_WRITE);
    if (rc)
        return rc;
    sqlite3_file *r = real_of(f);
    return r->pMethods->xWrite(r, buf, n, off);
}

static int f_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    int rc = fault_hit(SQLITE_IOERR_TRUNCATE);
    if (rc)
        return rc;
    sqlite3_file *r = real_of(f);
    return r->pMethods->xTruncate(r, size);
}

static int f_sync(sqlite3_file *f, int flags)
{
    /* a full disk fails writes, not syncs */
    int rc = fault.mode == F_FULL ? 0 : fault_hit(SQLITE_IOERR_FSYNC);
    if (rc)
        return rc;
    sqlite3_file *r = real_of(f);
    return r->pMethods->xSync(r, flags);
}

static int f_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
    sqlite3_file *r = real_of(f);
    return r->pMethods->xFileSize(r, size);
}

static int f_lock(sqlite3_file *f, int level)
{
    sqlite3_file *r = real_of(f);
    return r->pMethods->xLock(r, level);
}

static int f_unlock(sqlite3_file *f, int level)
{
    sqlite3_file *r = real_of(f);
    return r->pMethods->xUnlock(r, level);
}

static int f_check_reserved(sqlite3_file *f, int *out)
{
    sqlite3_file *r = real_of(f);
    return r->pMethods->xCheckReservedLock(r, out);
}

static int f_file_control(sqlite3_file *f, int op, void *arg)
{
    sqlite3_file *r = real_of(f);
    return r->pMethods->xFileControl(r, op, arg);
}

static int f_sector_size(sqlite3_file *f)
{
    sqlite3_file *r = real_of(f);
    return r->pMethods->xSectorSize(r);
}

static int f_device(sqlite3_file *f)
{
    sqlite3_file *r = real_of(f);
    return r->pMethods->xDeviceCharacteristics(r);
}

static int f_shm_map(sqlite3_file *f, int region, int size, int extend, void volatile **pp)
{
    sqlite3_file *r = real_of(f);
    return r->pMethods->xShmMap(r, region, size, extend, pp);
}

static int f_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
    sqlite3_file *r = real_of(f);
    return r->pMethods->xShmLock(r, offset, n, flags);
}

static void f_shm_barrier(sqlite3_file *f)
{
    sqlite3_file *r = real_of(f);
    r->pMethods->xShmBarrier(r);
}

static int f_shm_unmap(sqlite3_file *f, int del)
{
    sqlite3_file *r = real_of(f);
    return r->pMethods->xShmUnmap(r, del);
}

static int f_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
    /* no memory-mapped pages: every read goes through xRead */
    (void)f, (void)off, (void)n;
    *pp = NULL;
    return SQLITE_OK;
}

static int f_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
    (void)f, (void)off, (void)p;
    return SQLITE_OK;
}

static const sqlite3_io_methods fault_methods = {
    .iVersion = 3,
    .xClose = f_close,
    .xRead = f_read,
    .xWrite = f_write,
    .xTruncate = f_truncate,
    .xSync = f_sync,
    .xFileSize = f_file_size,
    .xLock = f_lock,
    .xUnlock = f_unlock,
    .xCheckReservedLock = f_check_reserved,
    .xFileControl = f_file_control,
    .xSectorSize = f_sector_size,
    .xDeviceCharacteristics = f_device,
    .xShmMap = f_shm_map,
    .xShmLock = f_shm_lock,
    .xShmBarrier = f_shm_barrier,
    .xShmUnmap = f_shm_unmap,
    .xFetch = f_fetch,
    .xUnfetch = f_unfetch,
};

static int v_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags)
{
    (void)vfs;
    struct fault_file *ff = (struct fault_file *)f;
    ff->real = (sqlite3_file *)(ff + 1);
    memset(ff->real, 0, (size_t)real_vfs->szOsFile);
    int rc = real_vfs->xOpen(real_vfs, name, ff->real, flags, out_flags);
    /* SQLite calls xClose only when pMethods is set */
    ff->base.pMethods = ff->real->pMethods ? &fault_methods : NULL;
    return rc;
}

static int v_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    (void)vfs;
    return real_vfs->xDelete(real_vfs, name, sync_dir);
}

static int v_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    (void)vfs;
    return real_vfs->xAccess(real_vfs, name, flags, out);
}

static int v_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
    (void)vfs;
    return real_vfs->xFullPathname(real_vfs, name, n, out);
}

static int v_randomness(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return real_vfs->xRandomness(real_vfs, n, out);
}

static int v_sleep(sqlite3_vfs *vfs, int us)
{
    (void)vfs;
    return real_vfs->xSleep(real_vfs, us);
}

static int v_current_time(sqlite3_vfs *vfs, double *out)
{
    (void)vfs;
    return real_vfs->xCurrentTime(real_vfs, out);
}

static int v_last_error(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return real_vfs->xGetLastError(real_vfs, n, out);
}

static int v_current_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    (void)vfs;
    return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

/* Makes the fault VFS SQLite's default, wrapping the default it had. */
static int setup_vfs(void **state)
{
    (void)state;
    sqlite3_initialize();
    if (!real_vfs) {
        real_vfs = sqlite3_vfs_find(NULL);
        assert_non_null(real_vfs);
        fault_vfs = (sqlite3_vfs){
            .iVersion = 2,
            .szOsFile = (int)sizeof(struct fault_file) + real_vfs->szOsFile,
            .mxPathname = real_vfs->mxPathname,
            .zName = "ganctl-fault",
            .xOpen = v_open,
            .xDelete = v_delete,
            .xAccess = v_access,
            .xFullPathname = v_full_pathname,
            .xDlOpen = NULL,
            .xDlError = NULL,
            .xDlSym = NULL,
            .xDlClose = NULL,
            .xRandomness = v_randomness,
            .xSleep = v_sleep,
            .xCurrentTime = v_current_time,
            .xGetLastError = v_last_error,
            .xCurrentTimeInt64 = v_current_time64,
        };
    }
    fault_disarm();
    assert_int_equal(sqlite3_vfs_register(&fault_vfs, 1), SQLITE_OK);
    return 0;
}

static int teardown_vfs(void **state)
{
    (void)state;
    fault_disarm();
    sqlite3_vfs_unregister(&fault_vfs);
    sqlite3_vfs_register(real_vfs, 1);
    return 0;
}

/* ---- helpers ------------------------------------------------------------------------- */

struct dir {
    char path[256];
    char db[300];
};

static void dir_make(struct dir *d)
{
    /* memory-backed when there is one: the store's syncs cost nothing there */
    snprintf(d->path, sizeof d->path, "%s/ganctl-faults.XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    assert_non_null(mkdtemp(d->path));
    snprintf(d->db, sizeof d->db, "%s/ganctl.db", d->path);
}

static void dir_remove(struct dir *d)
{
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    char p[320];
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s%s", d->db, suffix[i]);
        unlink(p);
    }
    rmdir(d->path);
}

/* The file checked with the real VFS, by a connection of its own (read-write: the
 * store is closed, and a WAL file left behind is recovered as the daemon would). */
static void assert_integrity(const char *db)
{
    sqlite3 *c = NULL;
    assert_int_equal(sqlite3_open_v2(db, &c, SQLITE_OPEN_READWRITE, real_vfs->zName), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(c, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(c, "PRAGMA foreign_key_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(c);
}

/* A call under faults: 0, or GC_EIO with a store message. */
static void assert_clean(int rc, const struct gc_error *err)
{
    if (rc == 0)
        return;
    assert_int_equal(rc, GC_EIO);
    assert_int_equal(err->code, GC_EIO);
    assert_non_null(strstr(err->msg, "store: "));
}

static const char *const metric_names[7] = {"loss_d",      "loss_g",      "d_real",      "d_fake",
                                            "grad_norm_d", "grad_norm_g", "images_per_s"};

static void fill(uint8_t *buf, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        buf[i] = (uint8_t)(seed >> 24);
    }
}

#define CKPT_BYTES (150 * 1024)
#define PNG_BYTES 3000

/* What the baseline committed: run a (step 20, two checkpoints, a sample, metrics at
 * steps 10 and 20) and run b (to be deleted). */
struct base {
    int64_t a, b;
    uint8_t ck10[CKPT_BYTES], ck20[CKPT_BYTES], png[PNG_BYTES];
};

static int put_metrics(struct gd_store *s, int64_t run, int64_t step, struct gc_error *err)
{
    double v[7];
    for (int i = 0; i < 7; i++)
        v[i] = (double)step + 0.125 * i;
    return gd_store_metrics_put(s, run, 0, step, metric_names, v, 7, err);
}

static void baseline(struct gd_store *s, struct base *b)
{
    struct gc_error err = {0};
    assert_int_equal(gd_store_run_insert(s, "a", "{\"x\":1}", 100, &b->a, &err), 0);
    assert_int_equal(gd_store_run_insert(s, "b", "{\"x\":2}", 100, &b->b, &err), 0);
    assert_int_equal(gd_store_run_set_status(s, b->a, GD_RUNNING, NULL, &err), 0);
    assert_int_equal(gd_store_run_set_status(s, b->b, GD_CANCELED, NULL, &err), 0);
    assert_int_equal(put_metrics(s, b->a, 10, &err), 0);
    assert_int_equal(put_metrics(s, b->a, 20, &err), 0);
    fill(b->ck10, CKPT_BYTES, 10);
    fill(b->ck20, CKPT_BYTES, 20);
    fill(b->png, PNG_BYTES, 7);
    assert_int_equal(gd_store_ckpt_put(s, b->a, 10, b->ck10, CKPT_BYTES, 0, &err), 0);
    assert_int_equal(gd_store_ckpt_put(s, b->a, 20, b->ck20, CKPT_BYTES, 0, &err), 0);
    assert_int_equal(gd_store_sample_put(s, b->a, 20, b->png, PNG_BYTES, &err), 0);
    assert_int_equal(gd_store_event_put(s, b->a, "status", 0, NULL, &err), 0);
}

/* Which workload calls returned 0. */
struct outcome {
    int insert, metrics, sample, ckpt, status, event, del;
    int64_t new_id, event_id;
    long writes; /* write operations the workload made (when not faulted) */
};

static uint8_t ck30[CKPT_BYTES];

static void workload(struct gd_store *s, const struct base *b, struct outcome *o,
                     enum fault_mode mode)
{
    struct gc_error err;
    int rc;
    char msg[320];
    int failed = 0;
    fill(ck30, CKPT_BYTES, 30);
    uint8_t png[PNG_BYTES];
    fill(png, PNG_BYTES, 31);

#define CALL(field, expr)                                                                          \
    do {                                                                                           \
        memset(&err, 0, sizeof err);                                                               \
        rc = (expr);                                                                               \
        assert_clean(rc, &err);                                                                    \
        o->field = rc == 0;                                                                        \
        if (rc) {                                                                                  \
            failed = 1;                                                                            \
            /* the failure shows in the health, with its kind */                                   \
            assert_int_equal(gd_store_health(s, msg, sizeof msg), GC_EIO);                         \
            assert_non_null(strstr(msg, mode == F_FULL ? "disk full: " : "I/O error: "));          \
        }                                                                                          \
        /* reads keep working */                                                                   \
        struct gd_run r_;                                                                          \
        assert_int_equal(gd_store_run_get(s, b->a, &r_, &err), 0);                                 \
        gd_run_fini(&r_);                                                                          \
    } while (0)

    CALL(insert, gd_store_run_insert(s, "new", "{\"x\":3}", 50, &o->new_id, &err));
    CALL(metrics, put_metrics(s, b->a, 30, &err));
    CALL(sample, gd_store_sample_put(s, b->a, 30, png, PNG_BYTES, &err));
    CALL(ckpt, gd_store_ckpt_put(s, b->a, 30, ck30, CKPT_BYTES, 2, &err));
    CALL(status, gd_store_run_set_status(s, b->a, GD_SUCCEEDED, NULL, &err));
    CALL(event, gd_store_event_put(s, b->a, "checkpoint", 30, &o->event_id, &err));
    CALL(del, gd_store_run_delete(s, b->b, &err));
#undef CALL
    (void)failed;
}

/* Checks the reopened store (real VFS) against the baseline and the outcome. */
static void verify(const char *db, const struct base *b, const struct outcome *o)
{
    assert_integrity(db);
    struct gc_error err = {0};
    struct gd_store *s = gd_store_open(db, &err);
    assert_non_null(s);

    struct gd_run r;
    assert_int_equal(gd_store_run_get(s, b->a, &r, &err), 0);
    assert_string_equal(r.name, "a");
    assert_string_equal(r.spec_json, "{\"x\":1}");
    assert_int_equal(r.status, o->status ? GD_SUCCEEDED : GD_RUNNING);
    gd_run_fini(&r);

    /* the metrics batch is all there or not at all */
    for (int64_t step = 10; step <= 30; step += 10) {
        int64_t *steps;
        double *values;
        int n;
        int have = 0;
        for (int i = 0; i < 7; i++) {
            assert_int_equal(gd_store_metrics_series(s, b->a, metric_names[i], step, step, 0,
                                                     &steps, &values, &n, &err),
                             0);
            if (n == 1) {
                assert_true(values[0] == (double)step + 0.125 * i);
                have++;
            }
            free(steps);
            free(values);
        }
        if (step < 30 || o->metrics)
            assert_int_equal(have, 7);
        else
            assert_true(have == 0 || have == 7);
    }

    /* checkpoints: the baseline ones unless the new one pruned the oldest (keep 2) */
    uint8_t *bytes;
    size_t len;
    int64_t got;
    int has30 = gd_store_ckpt_get(s, b->a, 30, &bytes, &len, &got, &err) == 0;
    if (has30) {
        assert_int_equal(len, CKPT_BYTES);
        assert_memory_equal(bytes, ck30, CKPT_BYTES);
        free(bytes);
    }
    if (o->ckpt)
        assert_true(has30);
    int rc10 = gd_store_ckpt_get(s, b->a, 10, &bytes, &len, &got, &err);
    if (rc10 == 0) {
        assert_memory_equal(bytes, b->ck10, CKPT_BYTES);
        free(bytes);
    }
    /* the prune and the put are one transaction */
    assert_int_equal(rc10 == 0, !has30);
    assert_int_equal(gd_store_ckpt_get(s, b->a, 20, &bytes, &len, &got, &err), 0);
    assert_memory_equal(bytes, b->ck20, CKPT_BYTES);
    free(bytes);
    assert_int_equal(gd_store_run_get(s, b->a, &r, &err), 0);
    assert_int_equal(r.step, has30 ? 30 : 20); /* the run's step moves with its checkpoint */
    gd_run_fini(&r);

    assert_int_equal(gd_store_sample_get(s, b->a, 20, &bytes, &len, &got, &err), 0);
    assert_memory_equal(bytes, b->png, PNG_BYTES);
    free(bytes);
    if (o->sample) {
        assert_int_equal(gd_store_sample_get(s, b->a, 30, &bytes, &len, &got, &err), 0);
        assert_int_equal(len, PNG_BYTES);
        free(bytes);
    }
    if (o->insert) {
        assert_int_equal(gd_store_run_get(s, o->new_id, &r, &err), 0);
        assert_string_equal(r.name, "new");
        gd_run_fini(&r);
    }
    struct gd_event *ev;
    int nev;
    assert_int_equal(gd_store_event_list(s, b->a, 0, 100, &ev, &nev, &err), 0);
    assert_true(nev >= 1);
    assert_string_equal(ev[0].type, "status");
    if (o->event) {
        int found = 0;
        for (int i = 0; i < nev; i++)
            found |= ev[i].id == o->event_id && !strcmp(ev[i].type, "checkpoint");
        assert_true(found);
    }
    free(ev);
    int brc = gd_store_run_get(s, b->b, &r, &err);
    if (brc == 0) {
        assert_false(o->del);
        assert_string_equal(r.name, "b");
        gd_run_fini(&r);
    } else {
        assert_int_equal(brc, GC_ENOTFOUND);
    }
    gd_store_close(s);
}

/* ---- tests ----------------------------------------------------------------------------- */

/* The workload under a fault after each possible number of writes. */
static void rising_faults(enum fault_mode mode)
{
    /* how many writes the workload makes when nothing fails */
    long total;
    {
        struct dir d;
        dir_make(&d);
        struct gc_error err = {0};
        struct gd_store *s = gd_store_open(d.db, &err);
        assert_non_null(s);
        struct base *b = calloc(1, sizeof *b);
        baseline(s, b);
        struct outcome o = {0};
        fault_arm(mode, 1L << 30);
        workload(s, b, &o, mode);
        total = fault.ops;
        fault_disarm();
        assert_true(o.insert && o.metrics && o.sample && o.ckpt && o.status && o.event && o.del);
        gd_store_close(s);
        verify(d.db, b, &o);
        free(b);
        dir_remove(&d);
    }
    assert_true(total > 10);

    long injected = 0;
    for (long n = 0; n <= total; n++) {
        struct dir d;
        dir_make(&d);
        struct gc_error err = {0};
        struct gd_store *s = gd_store_open(d.db, &err);
        assert_non_null(s);
        struct base *b = calloc(1, sizeof *b);
        baseline(s, b);
        struct outcome o = {0};
        fault_arm(mode, n);
        workload(s, b, &o, mode);
        injected += fault.fired;
        if (n < total)
            assert_true(fault.fired > 0);
        fault_disarm();

        /* writes work again: the next one succeeds and the health is back */
        assert_int_equal(put_metrics(s, b->a, 40, &err), 0);
        char msg[320];
        assert_int_equal(gd_store_health(s, msg, sizeof msg), 0);
        assert_string_equal(msg, "");
        gd_store_close(s);
        verify(d.db, b, &o);
        /* and what failed can be written now */
        if (!o.ckpt) {
            assert_non_null(s = gd_store_open(d.db, &err));
            assert_int_equal(gd_store_ckpt_put(s, b->a, 30, ck30, CKPT_BYTES, 2, &err), 0);
            o.ckpt = 1;
            gd_store_close(s);
            verify(d.db, b, &o);
        }
        free(b);
        dir_remove(&d);
    }
    print_message("mode %d: %ld writes in the workload, %ld faults injected\n", (int)mode, total,
                  injected);
}

static void ioerr_after_n_writes(void **state)
{
    (void)state;
    rising_faults(F_IOERR);
}

static void disk_full_after_n_writes(void **state)
{
    (void)state;
    rising_faults(F_FULL);
}

static void one_transient_ioerr(void **state)
{
    (void)state;
    rising_faults(F_IOERR_ONCE);
}

/* Opening (creating and migrating) a new store while writes fail: NULL with a message,
 * and the file opens later with the schema whole or not at all. */
static void open_under_faults(void **state)
{
    (void)state;
    for (long n = 0; n < 200; n++) {
        struct dir d;
        dir_make(&d);
        struct gc_error err = {0};
        fault_arm(F_IOERR, n);
        struct gd_store *s = gd_store_open(d.db, &err);
        long fired = fault.fired;
        fault_disarm();
        if (s) {
            assert_int_equal(fired, 0);
            gd_store_close(s);
            dir_remove(&d);
            break;
        }
        assert_int_equal(err.code, GC_EIO);
        assert_true(strlen(err.msg) > 0);
        assert_integrity(d.db);
        s = gd_store_open(d.db, &err);
        assert_non_null(s);
        assert_int_equal(gd_store_version(s),
                         gd_migrations_sqlite[gd_migrations_sqlite_count - 1].version);
        int64_t id;
        assert_int_equal(gd_store_run_insert(s, "x", "{}", 1, &id, &err), 0);
        gd_store_close(s);
        dir_remove(&d);
        assert_true(n < 199);
    }
}

/* With no write to retry, the health finds out by itself that space returned. */
static void health_probes_when_idle(void **state)
{
    (void)state;
    struct dir d;
    dir_make(&d);
    struct gc_error err = {0};
    struct gd_store *s = gd_store_open(d.db, &err);
    assert_non_null(s);
    int64_t id;
    char msg[320];
    assert_int_equal(gd_store_health(s, msg, sizeof msg), 0);
    fault_arm(F_FULL, 0);
    assert_int_equal(gd_store_run_insert(s, "x", "{}", 1, &id, &err), GC_EIO);
    assert_int_equal(gd_store_health(s, msg, sizeof msg), GC_EIO);
    assert_non_null(strstr(msg, "disk full: store: insert run: "));
    usleep(2100000); /* past the probe delay: the probe fails, the disk is still full */
    assert_int_equal(gd_store_health(s, msg, sizeof msg), GC_EIO);
    assert_true(fault.fired >= 2);
    fault_disarm();
    assert_int_equal(gd_store_health(s, msg, sizeof msg), GC_EIO); /* probed just now */
    usleep(2100000);
    assert_int_equal(gd_store_health(s, msg, sizeof msg), 0);
    assert_int_equal(gd_store_run_insert(s, "x", "{}", 1, &id, &err), 0);
    gd_store_close(s);
    dir_remove(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(ioerr_after_n_writes, setup_vfs, teardown_vfs),
        cmocka_unit_test_setup_teardown(disk_full_after_n_writes, setup_vfs, teardown_vfs),
        cmocka_unit_test_setup_teardown(one_transient_ioerr, setup_vfs, teardown_vfs),
        cmocka_unit_test_setup_teardown(open_under_faults, setup_vfs, teardown_vfs),
        cmocka_unit_test_setup_teardown(health_probes_when_idle, setup_vfs, teardown_vfs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
