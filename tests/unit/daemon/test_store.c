/* test_store.c — the store: migrations, runs, metrics (the newest values, the figures
 * of a step, downsampled series), samples, checkpoints, events and their pruning, and
 * the SHA-256 behind checkpoint digests; for SQLite also the file's mode, garbage files
 * and an old file migrated. The same tests run against PostgreSQL with
 * GANCTL_TEST_STORE=postgres (store_fixture.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sqlite3.h>
#include <unistd.h>

#include "daemon/migrations.h"
#include "daemon/sha256.h"
#include "daemon/store.h"

#include "tests/unit/daemon/store_fixture.h"

static int setup(void **state)
{
    return fx_setup_named(state, "test_store");
}

static int teardown(void **state)
{
    return fx_teardown(state);
}

static int64_t new_run(struct gd_store *st, const char *name, int64_t steps)
{
    int64_t id = 0;
    struct gc_error err = {0};
    assert_int_equal(
        gd_store_run_insert(st, name, "{\"train\":{\"batch_size\":4}}", steps, &id, &err), 0);
    assert_true(id > 0);
    return id;
}

static int is_rfc3339_utc(const char *s)
{
    int y, mo, d, h, mi, se;
    char z;
    return strlen(s) == 20 &&
           sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &se, &z) == 7 && z == 'Z' &&
           y >= 2020 && mo >= 1 && mo <= 12;
}

static int latest_version(void)
{
    return fx_pg() ? gd_migrations_pg[gd_migrations_pg_count - 1].version
                   : gd_migrations_sqlite[gd_migrations_sqlite_count - 1].version;
}

static void fresh_file_migrated_and_private(void **state)
{
    struct fx_store *f = *state;
    assert_true(gd_migrations_sqlite_count >= 1 && gd_migrations_pg_count >= 1);
    assert_int_equal(gd_store_version(f->st), latest_version());
    assert_string_equal(gd_store_kind(f->st), f->pg ? "postgresql" : "sqlite");
    if (!f->pg) {
        struct stat sb;
        assert_int_equal(stat(f->path, &sb), 0);
        assert_int_equal(sb.st_mode & 0777, 0600);
    }

    /* reopening an up-to-date store changes nothing and keeps the data */
    int64_t id = new_run(f->st, "keep", 10);
    gd_store_close(f->st);
    struct gc_error err = {0};
    f->st = gd_store_open(f->where, &err);
    assert_non_null(f->st);
    struct gd_run r;
    assert_int_equal(gd_store_run_get(f->st, id, &r, &err), 0);
    assert_string_equal(r.name, "keep");
    gd_run_fini(&r);
}

/* user_version lives in the file header at offset 60, big-endian */
static void set_user_version(const char *path, uint32_t v)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    assert_int_equal(pwrite(fd, b, 4, 60), 4);
    close(fd);
}

/* The schema version of the test's store, set behind its back. */
static void set_version(struct fx_store *f, int v)
{
    if (f->pg) {
        char sql[64];
        snprintf(sql, sizeof sql, "UPDATE schema_version SET version = %d", v);
        assert_int_equal(fx_pg_exec(f->db, f->schema, sql), 0);
    } else {
        set_user_version(f->path, (uint32_t)v);
    }
}

static void newer_database_refused(void **state)
{
    struct fx_store *f = *state;
    gd_store_close(f->st); /* the last close checkpoints the WAL into the main file */
    f->st = NULL;
    set_version(f, 50);
    struct gc_error err = {0};
    struct gd_store *st = gd_store_open(f->where, &err);
    assert_null(st);
    assert_int_equal(err.code, GC_ESTATE);
    assert_non_null(strstr(err.msg, "database version 50 is newer"));
    assert_non_null(strstr(err.msg, "upgrade ganctld"));
    set_version(f, latest_version());
    f->st = gd_store_open(f->where, &err);
    assert_non_null(f->st);
}

static void garbage_file_refused(void **state)
{
    (void)state;
    if (fx_pg())
        skip(); /* a file of the SQLite store */
    char path[] = "/tmp/test_store_garbage.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    char junk[4096];
    memset(junk, 'x', sizeof(junk));
    assert_int_equal(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
    close(fd);
    struct gc_error err = {0};
    struct gd_store *st = gd_store_open(path, &err);
    assert_null(st);
    assert_int_equal(err.code, GC_EIO);
    unlink(path);
    /* an unwritable location fails with a message, never a crash */
    st = gd_store_open("/nonexistent-dir/x.db", &err);
    assert_null(st);
    assert_non_null(strstr(err.msg, "/nonexistent-dir/x.db"));
}

static void runs_insert_get_list_paging(void **state)
{
    struct fx_store *f = *state;
    struct gc_error err = {0};
    int64_t ids[7];
    for (int i = 0; i < 7; i++) {
        char name[16];
        snprintf(name, sizeof(name), "r%d", i);
        ids[i] = new_run(f->st, name, 100 + i);
        if (i > 0)
            assert_true(ids[i] > ids[i - 1]);
    }
    struct gd_run r;
    assert_int_equal(gd_store_run_get(f->st, ids[2], &r, &err), 0);
    assert_string_equal(r.name, "r2");
    assert_int_equal(r.status, GD_QUEUED);
    assert_int_equal(r.steps, 102);
    assert_int_equal(r.step, 0);
    assert_true(is_rfc3339_utc(r.created_at));
    assert_string_equal(r.started_at, "");
    assert_string_equal(r.finished_at, "");
    assert_null(r.error);
    assert_non_null(strstr(r.spec_json, "batch_size"));
    gd_run_fini(&r);
    assert_int_equal(gd_store_run_get(f->st, 9999, &r, &err), GC_ENOTFOUND);

    /* pages of 3, newest first, until no cursor is left */
    int64_t cursor = 0, seen[7];
    int total = 0, pages = 0;
    do {
        struct gd_run *runs;
        int n;
        int64_t next;
        assert_int_equal(gd_store_run_list(f->st, -1, 3, cursor, &runs, &n, &next, &err), 0);
        for (int i = 0; i < n; i++) {
            assert_true(total < 7);
            seen[total++] = runs[i].id;
            gd_run_fini(&runs[i]);
        }
        free(runs);
        cursor = next;
        pages++;
    } while (cursor);
    assert_int_equal(total, 7);
    assert_int_equal(pages, 3);
    for (int i = 0; i < 7; i++)
        assert_int_equal(seen[i], ids[6 - i]);

    /* exactly one full page: no next cursor */
    struct gd_run *runs;
    int n;
    int64_t next;
    assert_int_equal(gd_store_run_list(f->st, -1, 7, 0, &runs, &n, &next, &err), 0);
    assert_int_equal(n, 7);
    assert_int_equal(next, 0);
    for (int i = 0; i < n; i++)
        gd_run_fini(&runs[i]);
    free(runs);

    /* status filter */
    assert_int_equal(gd_store_run_set_status(f->st, ids[1], GD_RUNNING, NULL, &err), 0);
    assert_int_equal(gd_store_run_set_status(f->st, ids[4], GD_RUNNING, NULL, &err), 0);
    assert_int_equal(gd_store_run_list(f->st, GD_RUNNING, 10, 0, &runs, &n, &next, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(runs[0].id, ids[4]);
    assert_int_equal(runs[1].id, ids[1]);
    for (int i = 0; i < n; i++)
        gd_run_fini(&runs[i]);
    free(runs);

    int64_t *list;
    assert_int_equal(gd_store_run_ids(f->st, GD_RUNNING, &list, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(list[0], ids[1]); /* oldest first */
    free(list);
    assert_int_equal(gd_store_run_ids(f->st, GD_QUEUED, &list, &n, &err), 0);
    assert_int_equal(n, 5);
    free(list);
}

static void status_transitions_set_times(void **state)
{
    struct fx_store *f = *state;
    struct gc_error err = {0};
    int64_t id = new_run(f->st, "t", 10);
    struct gd_run r;

    assert_int_equal(gd_store_run_set_status(f->st, id, GD_RUNNING, NULL, &err), 0);
    assert_int_equal(gd_store_run_get(f->st, id, &r, &err), 0);
    assert_int_equal(r.status, GD_RUNNING);
    assert_true(is_rfc3339_utc(r.started_at));
    assert_string_equal(r.finished_at, "");
    char started[32];
    strcpy(started, r.started_at);
    gd_run_fini(&r);

    /* pause and resume keep the first start time and set no finish time */
    assert_int_equal(gd_store_run_set_status(f->st, id, GD_PAUSED, NULL, &err), 0);
    assert_int_equal(gd_store_run_set_status(f->st, id, GD_QUEUED, NULL, &err), 0);
    sleep(1);
    assert_int_equal(gd_store_run_set_status(f->st, id, GD_RUNNING, NULL, &err), 0);
    assert_int_equal(gd_store_run_get(f->st, id, &r, &err), 0);
    assert_string_equal(r.started_at, started);
    assert_string_equal(r.finished_at, "");
    gd_run_fini(&r);

    assert_int_equal(gd_store_run_set_status(f->st, id, GD_FAILED, "loss_d is NaN at step 3", &err),
                     0);
    assert_int_equal(gd_store_run_get(f->st, id, &r, &err), 0);
    assert_int_equal(r.status, GD_FAILED);
    assert_true(is_rfc3339_utc(r.finished_at));
    assert_string_equal(r.error, "loss_d is NaN at step 3");
    gd_run_fini(&r);

    assert_int_equal(gd_store_run_set_status(f->st, 424242, GD_FAILED, NULL, &err), GC_ENOTFOUND);
    assert_int_equal(gd_store_run_set_step(f->st, 424242, 1, &err), GC_ENOTFOUND);

    assert_string_equal(gd_status_name(GD_CANCELED), "canceled");
    assert_int_equal(gd_status_from_name("paused"), GD_PAUSED);
    assert_int_equal(gd_status_from_name("nope"), -1);
}

static void metrics_batch_latest_series(void **state)
{
    struct fx_store *f = *state;
    struct gc_error err = {0};
    int64_t id = new_run(f->st, "m", 1000);
    const char *names[2] = {"loss_d", "loss_g"};
    for (int step = 10; step <= 1000; step += 10) {
        double v[2] = {step * 0.5, -step};
        assert_int_equal(gd_store_metrics_put(f->st, id, 0, step, names, v, 2, &err), 0);
    }
    const char *ev[1] = {"modes_covered"};
    double e1 = 6, e2 = 8;
    assert_int_equal(gd_store_metrics_put(f->st, id, 1, 500, ev, &e1, 1, &err), 0);
    assert_int_equal(gd_store_metrics_put(f->st, id, 1, 1000, ev, &e2, 1, &err), 0);

    struct gd_kv *kv;
    int n;
    assert_int_equal(gd_store_metrics_latest(f->st, id, 0, &kv, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(kv[0].name, "loss_d");
    assert_true(kv[0].value == 500.0);
    assert_int_equal(kv[0].step, 1000);
    assert_string_equal(kv[1].name, "loss_g");
    assert_true(kv[1].value == -1000.0);
    free(kv);
    assert_int_equal(gd_store_metrics_latest(f->st, id, 1, &kv, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_true(kv[0].value == 8.0);
    free(kv);

    int64_t *steps;
    double *vals;
    /* all 100 points */
    assert_int_equal(
        gd_store_metrics_series(f->st, id, "loss_d", 0, -1, 0, &steps, &vals, &n, &err), 0);
    assert_int_equal(n, 100);
    for (int i = 0; i < n; i++) {
        assert_int_equal(steps[i], 10 * (i + 1));
        assert_true(vals[i] == steps[i] * 0.5);
    }
    free(steps);
    free(vals);
    /* downsampled to 7: evenly spaced, ascending, first and last kept */
    assert_int_equal(
        gd_store_metrics_series(f->st, id, "loss_d", 0, -1, 7, &steps, &vals, &n, &err), 0);
    assert_int_equal(n, 7);
    assert_int_equal(steps[0], 10);
    assert_int_equal(steps[6], 1000);
    for (int i = 1; i < n; i++) {
        int64_t gap = steps[i] - steps[i - 1];
        assert_true(gap >= 160 && gap <= 170);
        assert_true(vals[i] == steps[i] * 0.5);
    }
    free(steps);
    free(vals);
    /* a step window, bounds inclusive */
    assert_int_equal(
        gd_store_metrics_series(f->st, id, "loss_g", 200, 300, 0, &steps, &vals, &n, &err), 0);
    assert_int_equal(n, 11);
    assert_int_equal(steps[0], 200);
    assert_int_equal(steps[10], 300);
    assert_true(vals[10] == -300.0);
    free(steps);
    free(vals);
    /* max_points 1: the last point */
    assert_int_equal(
        gd_store_metrics_series(f->st, id, "loss_g", 0, -1, 1, &steps, &vals, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(steps[0], 1000);
    free(steps);
    free(vals);
    /* an unknown name: empty */
    assert_int_equal(gd_store_metrics_series(f->st, id, "nope", 0, -1, 5, &steps, &vals, &n, &err),
                     0);
    assert_int_equal(n, 0);
    free(steps);
    free(vals);

    /* a step written again after a crash keeps the value stored first (the API may
     * have returned it already) and does not fail */
    double again[2] = {1, 2};
    assert_int_equal(gd_store_metrics_put(f->st, id, 0, 1000, names, again, 2, &err), 0);
    assert_int_equal(gd_store_metrics_latest(f->st, id, 0, &kv, &n, &err), 0);
    assert_true(kv[0].value == 500.0);
    assert_true(kv[1].value == -1000.0);
    free(kv);

    char **mn;
    assert_int_equal(gd_store_metrics_names(f->st, id, &mn, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_string_equal(mn[0], "loss_d");
    assert_string_equal(mn[2], "modes_covered");
    for (int i = 0; i < n; i++)
        free(mn[i]);
    free(mn);

    /* a batch against a missing run is refused as a whole */
    assert_int_equal(gd_store_metrics_put(f->st, 777777, 0, 1, names, again, 2, &err), GC_EIO);
    assert_int_equal(gd_store_metrics_names(f->st, 777777, &mn, &n, &err), 0);
    assert_int_equal(n, 0);
    free(mn);
}

static void samples_put_get(void **state)
{
    struct fx_store *f = *state;
    struct gc_error err = {0};
    int64_t id = new_run(f->st, "s", 100);
    uint8_t *png;
    size_t len;
    int64_t got;
    assert_int_equal(gd_store_sample_get(f->st, id, -1, &png, &len, &got, &err), GC_ENOTFOUND);
    for (int step = 20; step <= 100; step += 40) {
        uint8_t blob[8] = {0x89, 'P', 'N', 'G', (uint8_t)step, 0, 1, 2};
        assert_int_equal(gd_store_sample_put(f->st, id, step, blob, sizeof(blob), &err), 0);
    }
    int64_t *steps;
    int n;
    assert_int_equal(gd_store_sample_steps(f->st, id, &steps, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(steps[0], 20);
    assert_int_equal(steps[2], 100);
    free(steps);
    assert_int_equal(gd_store_sample_get(f->st, id, -1, &png, &len, &got, &err), 0);
    assert_int_equal(got, 100);
    assert_int_equal(len, 8);
    assert_int_equal(png[4], 100);
    free(png);
    assert_int_equal(gd_store_sample_get(f->st, id, 60, &png, &len, &got, &err), 0);
    assert_int_equal(got, 60);
    assert_int_equal(png[4], 60);
    free(png);
    assert_int_equal(gd_store_sample_get(f->st, id, 61, &png, &len, &got, &err), GC_ENOTFOUND);
}

static void checkpoints_keep_newest_with_step(void **state)
{
    struct fx_store *f = *state;
    struct gc_error err = {0};
    int64_t id = new_run(f->st, "c", 1000);
    uint8_t blob[300];
    for (int step = 100; step <= 500; step += 100) {
        memset(blob, step / 100, sizeof(blob));
        assert_int_equal(gd_store_ckpt_put(f->st, id, step, blob, sizeof(blob), 3, &err), 0);
        struct gd_run r;
        assert_int_equal(gd_store_run_get(f->st, id, &r, &err), 0);
        assert_int_equal(r.step, step); /* the run's step moved with the checkpoint */
        gd_run_fini(&r);
    }
    struct gd_ckpt_info *ck;
    int n;
    assert_int_equal(gd_store_ckpt_list(f->st, id, &ck, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(ck[0].step, 300);
    assert_int_equal(ck[2].step, 500);
    assert_int_equal(ck[2].bytes, 300);
    char hex[65];
    memset(blob, 5, sizeof(blob));
    gd_sha256_hex(blob, sizeof(blob), hex);
    assert_string_equal(ck[2].sha256, hex);
    assert_true(is_rfc3339_utc(ck[2].created_at));
    free(ck);

    uint8_t *b;
    size_t len;
    int64_t got;
    assert_int_equal(gd_store_ckpt_get(f->st, id, -1, &b, &len, &got, &err), 0);
    assert_int_equal(got, 500);
    assert_int_equal(len, 300);
    assert_int_equal(b[0], 5);
    assert_int_equal(b[299], 5);
    free(b);
    assert_int_equal(gd_store_ckpt_get(f->st, id, 300, &b, &len, &got, &err), 0);
    assert_int_equal(b[0], 3);
    free(b);
    assert_int_equal(gd_store_ckpt_get(f->st, id, 100, &b, &len, &got, &err), GC_ENOTFOUND);

    /* keep <= 0 keeps all */
    int64_t id2 = new_run(f->st, "c2", 1000);
    for (int step = 1; step <= 4; step++)
        assert_int_equal(gd_store_ckpt_put(f->st, id2, step, blob, 10, 0, &err), 0);
    assert_int_equal(gd_store_ckpt_list(f->st, id2, &ck, &n, &err), 0);
    assert_int_equal(n, 4);
    free(ck);
}

static void checkpoint_and_step_are_atomic(void **state)
{
    struct fx_store *f = *state;
    struct gc_error err = {0};
    uint8_t blob[16] = {1};
    /* a checkpoint of a run that does not exist fails as a whole: no orphan row */
    int rc = gd_store_ckpt_put(f->st, 5555, 10, blob, sizeof(blob), 3, &err);
    assert_true(rc == GC_EIO || rc == GC_ENOTFOUND);
    struct gd_ckpt_info *ck;
    int n;
    assert_int_equal(gd_store_ckpt_list(f->st, 5555, &ck, &n, &err), 0);
    assert_int_equal(n, 0);
    free(ck);

    int64_t id = new_run(f->st, "a", 100);
    assert_int_equal(gd_store_ckpt_put(f->st, id, 40, blob, sizeof(blob), 3, &err), 0);
    /* deleting the run removes its checkpoints, samples, metrics and events */
    const char *nm = "loss_d";
    double v = 1;
    assert_int_equal(gd_store_metrics_put(f->st, id, 0, 40, &nm, &v, 1, &err), 0);
    assert_int_equal(gd_store_event_put(f->st, id, "status", 0, NULL, &err), 0);
    assert_int_equal(gd_store_run_delete(f->st, id, &err), 0);
    assert_int_equal(gd_store_ckpt_list(f->st, id, &ck, &n, &err), 0);
    assert_int_equal(n, 0);
    free(ck);
    struct gd_event *evs;
    assert_int_equal(gd_store_event_list(f->st, id, 0, 10, &evs, &n, &err), 0);
    assert_int_equal(n, 0);
    free(evs);
    assert_int_equal(gd_store_run_delete(f->st, id, &err), GC_ENOTFOUND);
}

static void events_after_id(void **state)
{
    struct fx_store *f = *state;
    struct gc_error err = {0};
    int64_t a = new_run(f->st, "a", 10), b = new_run(f->st, "b", 10);
    int64_t last = -1;
    assert_int_equal(gd_store_event_last(f->st, &last, &err), 0);
    assert_int_equal(last, 0);
    int64_t ids[6];
    const char *types[6] = {"status", "metrics", "status", "sample", "eval", "checkpoint"};
    for (int i = 0; i < 6; i++)
        assert_int_equal(gd_store_event_put(f->st, i % 2 ? b : a, types[i], i * 10, &ids[i], &err),
                         0);
    assert_int_equal(gd_store_event_last(f->st, &last, &err), 0);
    assert_int_equal(last, ids[5]);

    struct gd_event *ev;
    int n;
    assert_int_equal(gd_store_event_list(f->st, 0, ids[1], 100, &ev, &n, &err), 0);
    assert_int_equal(n, 4);
    assert_int_equal(ev[0].id, ids[2]);
    assert_string_equal(ev[0].type, "status");
    assert_int_equal(ev[0].step, 20);
    assert_true(is_rfc3339_utc(ev[0].created_at));
    free(ev);
    assert_int_equal(gd_store_event_list(f->st, b, 0, 100, &ev, &n, &err), 0);
    assert_int_equal(n, 3);
    for (int i = 0; i < n; i++)
        assert_int_equal(ev[i].run, b);
    free(ev);
    assert_int_equal(gd_store_event_list(f->st, 0, 0, 2, &ev, &n, &err), 0);
    assert_int_equal(n, 2);
    free(ev);

    /* ids are never reused, even after the newest event's run is gone */
    assert_int_equal(gd_store_run_delete(f->st, b, &err), 0);
    int64_t nid;
    assert_int_equal(gd_store_event_put(f->st, a, "status", 0, &nid, &err), 0);
    assert_true(nid > ids[5]);
}

/* SQL run on the test's store behind its back (the test's own connection): to fill in
 * bulk, or to make an old file. */
static void raw_sql(struct fx_store *f, const char *sql)
{
    if (f->pg) {
        assert_int_equal(fx_pg_exec(f->db, f->schema, sql), 0);
        return;
    }
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fprintf(stderr, "%s: %s\n", sql, msg ? msg : "?");
    sqlite3_free(msg);
    sqlite3_close(db);
    assert_int_equal(rc, SQLITE_OK);
}

static void latest_values_and_figures_of_a_step(void **state)
{
    struct fx_store *f = *state;
    struct gc_error err = {0};
    int64_t id = new_run(f->st, "l", 100);
    const char *tn[2] = {"loss_d", "loss_g"}, *en[1] = {"modes_covered"};
    double a[2] = {1, 2}, b[2] = {3, __builtin_nan("")}, e = 7;
    assert_int_equal(gd_store_metrics_put(f->st, id, 0, 10, tn, a, 2, &err), 0);
    assert_int_equal(gd_store_metrics_put(f->st, id, 0, 20, tn, b, 2, &err), 0);
    assert_int_equal(gd_store_metrics_put(f->st, id, 1, 20, en, &e, 1, &err), 0);
    /* an older step written again (a run continued after a crash) moves nothing */
    double c[2] = {9, 9};
    assert_int_equal(gd_store_metrics_put(f->st, id, 0, 15, tn, c, 2, &err), 0);
    struct gd_kv *kv;
    int n;
    assert_int_equal(gd_store_metrics_latest(f->st, id, 0, &kv, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(kv[0].name, "loss_d");
    assert_true(kv[0].value == 3 && kv[0].step == 20);
    assert_true(isnan(kv[1].value)); /* a NaN is kept as such (served as null) */
    free(kv);
    /* the figures of one step, of one kind */
    assert_int_equal(gd_store_metrics_at(f->st, id, 0, 10, &kv, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_true(kv[0].value == 1 && kv[1].value == 2 && kv[0].step == 10);
    free(kv);
    assert_int_equal(gd_store_metrics_at(f->st, id, 1, 20, &kv, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(kv[0].name, "modes_covered");
    assert_true(kv[0].value == 7);
    free(kv);
    assert_int_equal(gd_store_metrics_at(f->st, id, 1, 10, &kv, &n, &err), 0);
    assert_int_equal(n, 0);
    free(kv);
    assert_int_equal(gd_store_metrics_at(f->st, 424242, 0, 10, &kv, &n, &err), 0);
    assert_int_equal(n, 0);
    free(kv);
    /* the newest values of several runs (a page of the list) in one read, both kinds */
    int64_t other = new_run(f->st, "o", 100), none = new_run(f->st, "none", 100);
    assert_int_equal(gd_store_metrics_put(f->st, other, 0, 5, tn, a, 2, &err), 0);
    int64_t ids[3] = {other, none, id};
    assert_int_equal(gd_store_metrics_latest_runs(f->st, ids, 3, &kv, &n, &err), 0);
    assert_int_equal(n, 5);
    int seen_other = 0, seen_id = 0, seen_eval = 0;
    for (int i = 0; i < n; i++) {
        assert_true(kv[i].run == other || kv[i].run == id);
        seen_other += kv[i].run == other;
        seen_id += kv[i].run == id;
        if (kv[i].kind == 1) {
            assert_string_equal(kv[i].name, "modes_covered");
            assert_int_equal(kv[i].run, id);
            seen_eval++;
        }
    }
    assert_int_equal(seen_other, 2);
    assert_int_equal(seen_id, 3);
    assert_int_equal(seen_eval, 1);
    free(kv);
}

/* Whether steps[i] is the first point of the series at or after target. */
static void assert_first_at_or_after(const int64_t *all, int nall, int64_t target, int64_t got)
{
    int64_t want = -1;
    for (int i = 0; i < nall && want < 0; i++)
        if (all[i] >= target)
            want = all[i];
    assert_int_equal(got, want);
}

static void series_of_many_points_downsampled_by_seeks(void **state)
{
    struct fx_store *f = *state;
    struct gc_error err = {0};
    int64_t id = new_run(f->st, "big", 1000000);
    /* 60,000 points at steps 1..50,000 and 60,001..70,000 (a gap: a run that logged
     * nothing for a while), filled in bulk */
    char sql[600];
    if (f->pg)
        snprintf(sql, sizeof sql,
                 "INSERT INTO metrics (run, name, step, kind, value) SELECT %lld, 'loss_d', s,"
                 " 0, s * 0.5 FROM generate_series(1, 70000) s WHERE s <= 50000 OR s > 60000",
                 (long long)id);
    else
        snprintf(sql, sizeof sql,
                 "WITH RECURSIVE g(s) AS (SELECT 1 UNION ALL SELECT s + 1 FROM g WHERE s < 70000)"
                 " INSERT INTO metrics (run, name, step, kind, value) SELECT %lld, 'loss_d', s,"
                 " 0, s * 0.5 FROM g WHERE s <= 50000 OR s > 60000",
                 (long long)id);
    raw_sql(f, sql);
    int64_t *all, *steps;
    double *vals;
    int nall, n;
    assert_int_equal(
        gd_store_metrics_series(f->st, id, "loss_d", 0, -1, 0, &all, &vals, &nall, &err), 0);
    assert_int_equal(nall, 60000);
    free(vals);
    for (int m = 1; m <= 1000; m = m == 1 ? 2 : m * 5) {
        assert_int_equal(
            gd_store_metrics_series(f->st, id, "loss_d", 0, -1, m, &steps, &vals, &n, &err), 0);
        assert_true(n >= 1 && n <= m);
        assert_int_equal(steps[n - 1], 70000); /* the last point always */
        if (m > 1)
            assert_int_equal(steps[0], 1);
        for (int i = 0; i < n; i++) {
            assert_true(vals[i] == steps[i] * 0.5);
            if (i)
                assert_true(steps[i] > steps[i - 1]);
        }
        /* each point is the first at or after its evenly spaced step; the gap makes some
         * of them one point, kept once */
        if (m > 1) {
            int k = 0;
            for (int i = 0; i < m; i++) {
                int64_t t = 1 + (int64_t)((69999LL * i) / (m - 1));
                int64_t want = -1;
                for (int j = 0; j < nall && want < 0; j++)
                    if (all[j] >= t)
                        want = all[j];
                if (k > 0 && steps[k - 1] == want)
                    continue;
                assert_true(k < n);
                assert_int_equal(steps[k], want);
                k++;
            }
            assert_int_equal(k, n);
            assert_true(m < 10 || n >= m * 8 / 10); /* the gap is a seventh of the steps */
        }
        free(steps);
        free(vals);
    }
    /* a window, downsampled inside it */
    assert_int_equal(
        gd_store_metrics_series(f->st, id, "loss_d", 45000, 65000, 50, &steps, &vals, &n, &err), 0);
    assert_int_equal(steps[0], 45000);
    assert_int_equal(steps[n - 1], 65000);
    for (int i = 0; i < n; i++) {
        assert_true(steps[i] >= 45000 && steps[i] <= 65000);
        assert_first_at_or_after(all, nall, steps[i], steps[i]);
    }
    free(steps);
    free(vals);
    free(all);
}

static void events_pruned_per_run(void **state)
{
    struct fx_store *f = *state;
    struct gc_error err = {0};
    int64_t a = new_run(f->st, "a", 10), b = new_run(f->st, "b", 10);
    int64_t first = 0, id = 0;
    assert_int_equal(gd_store_event_put(f->st, a, "status", 0, &first, &err), 0);
    for (int i = 1; i <= GD_EVENTS_KEPT + 300; i++) {
        assert_int_equal(gd_store_event_put(f->st, a, "metrics", i, &id, &err), 0);
        if (i % 100 == 0)
            assert_int_equal(gd_store_event_put(f->st, b, "metrics", i, NULL, &err), 0);
        if (i % 250 == 0)
            assert_int_equal(gd_store_event_put(f->st, a, "checkpoint", i, NULL, &err), 0);
    }
    struct gd_event *ev;
    int n;
    assert_int_equal(gd_store_event_list(f->st, a, 0, 100000, &ev, &n, &err), 0);
    int metrics = 0, others = 0;
    for (int i = 0; i < n; i++) {
        if (!strcmp(ev[i].type, "metrics"))
            metrics++;
        else
            others++;
        if (i)
            assert_true(ev[i].id > ev[i - 1].id);
    }
    /* at most GD_EVENTS_KEPT metrics events and one prune's worth more; the newest
     * ones; every other event kept */
    assert_true(metrics >= GD_EVENTS_KEPT && metrics < GD_EVENTS_KEPT + 64);
    assert_int_equal(ev[n - 1].id, id);
    assert_int_equal(ev[0].id, first);
    assert_int_equal(others, 1 + (GD_EVENTS_KEPT + 300) / 250);
    free(ev);
    assert_int_equal(gd_store_event_list(f->st, b, 0, 100000, &ev, &n, &err), 0);
    assert_int_equal(n, (GD_EVENTS_KEPT + 300) / 100);
    free(ev);
}

static void first_schema_file_migrates(void **state)
{
    struct fx_store *f = *state;
    if (f->pg)
        skip(); /* a file of the SQLite store's first schema */
    gd_store_close(f->st);
    f->st = NULL;
    unlink(f->path);
    /* a file as the first ganctld left it: schema 1, a run with metrics and events */
    raw_sql(f, gd_migrations_sqlite[0].sql);
    raw_sql(f, "INSERT INTO runs (name, spec, steps, created_at, status, step) VALUES"
               " ('old', '{}', 100, '2026-01-01T00:00:00Z', 'running', 20);"
               "INSERT INTO metrics (run, kind, name, step, value) VALUES"
               " (1, 0, 'loss_d', 10, 1.5), (1, 0, 'loss_d', 20, 2.5), (1, 0, 'loss_g', 20, 3),"
               " (1, 1, 'modes_covered', 20, 8);"
               "INSERT INTO events (run, type, step, created_at) VALUES"
               " (1, 'status', 0, '2026-01-01T00:00:00Z');"
               "PRAGMA user_version = 1;");
    struct gc_error err = {0};
    f->st = gd_store_open(f->where, &err);
    assert_non_null(f->st);
    assert_int_equal(gd_store_version(f->st), latest_version());
    struct gd_kv *kv;
    int n;
    assert_int_equal(gd_store_metrics_latest(f->st, 1, 0, &kv, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(kv[0].name, "loss_d");
    assert_true(kv[0].value == 2.5 && kv[0].step == 20);
    free(kv);
    assert_int_equal(gd_store_metrics_latest(f->st, 1, 1, &kv, &n, &err), 0);
    assert_int_equal(n, 1);
    free(kv);
    int64_t *steps;
    double *vals;
    assert_int_equal(gd_store_metrics_series(f->st, 1, "loss_d", 0, -1, 0, &steps, &vals, &n, &err),
                     0);
    assert_int_equal(n, 2);
    free(steps);
    free(vals);
    struct gd_run r;
    assert_int_equal(gd_store_run_get(f->st, 1, &r, &err), 0);
    assert_string_equal(r.worker, "");
    gd_run_fini(&r);
    /* and training goes on writing to it */
    const char *nm = "loss_d";
    double v = 4;
    assert_int_equal(gd_store_metrics_put(f->st, 1, 0, 30, &nm, &v, 1, &err), 0);
    assert_int_equal(gd_store_event_put(f->st, 1, "metrics", 30, NULL, &err), 0);
}

/* The rows of sweeps, the watchdog and 2D runs, on both backends: a sweep and its runs
 * made together, provenance on the run object, records by run, planes with samples, and
 * a rewind that takes the newest values back with the points. */
static void sweeps_watch_planes_rewind(void **state)
{
    struct fx_store *f = *state;
    struct gc_error err = {0};
    struct gd_sweep w = {.goal_max = 0, .early_stopping = 1, .configurations = 2};
    snprintf(w.name, sizeof w.name, "lr");
    snprintf(w.metric, sizeof w.metric, "loss_g");
    w.body = "{\"name\":\"lr\"}";
    const char *spec = "{\"train\":{\"batch_size\":4}}";
    struct gd_sweep_run rs[2] = {{"lr-0", spec, 50, 0}, {"lr-1", spec, 50, 1}};
    int64_t sid = 0, ids[2] = {0, 0};
    assert_int_equal(gd_store_sweep_insert(f->st, &w, rs, 2, &sid, ids, &err), 0);
    assert_true(sid > 0 && ids[0] > 0 && ids[1] > ids[0]);
    struct gd_sweep got;
    assert_int_equal(gd_store_sweep_get(f->st, sid, &got, &err), 0);
    assert_string_equal(got.name, "lr");
    assert_string_equal(got.metric, "loss_g");
    assert_string_equal(got.body, "{\"name\":\"lr\"}");
    assert_int_equal(got.goal_max, 0);
    assert_int_equal(got.early_stopping, 1);
    assert_int_equal(got.configurations, 2);
    gd_sweep_fini(&got);
    assert_int_equal(gd_store_sweep_get(f->st, sid + 100, &got, &err), GC_ENOTFOUND);
    struct gd_sweep *list;
    int n;
    assert_int_equal(gd_store_sweep_list(f->st, &list, &n, &err), 0);
    assert_int_equal(n, 1);
    gd_sweep_fini(&list[0]);
    free(list);
    struct gd_sweep_member *mem;
    assert_int_equal(gd_store_sweep_runs(f->st, sid, &mem, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(mem[1].run, ids[1]);
    assert_int_equal(mem[1].config, 1);
    assert_int_equal(mem[1].status, GD_QUEUED);
    free(mem);

    struct gd_run r;
    assert_int_equal(gd_store_run_get(f->st, ids[0], &r, &err), 0);
    assert_int_equal(r.sweep, sid);
    assert_int_equal(r.config, 0);
    assert_int_equal(r.has_provenance, 0);
    gd_run_fini(&r);
    struct gd_provenance p = {.threads = 3};
    snprintf(p.version, sizeof p.version, "1.2.3");
    snprintf(p.commit, sizeof p.commit, "abc123");
    snprintf(p.compiler, sizeof p.compiler, "gcc 12");
    snprintf(p.blas, sizeof p.blas, "Haswell");
    memset(p.spec_hash, 'e', 64);
    assert_int_equal(gd_store_run_set_provenance(f->st, ids[0], &p, &err), 0);
    assert_int_equal(gd_store_run_get(f->st, ids[0], &r, &err), 0);
    assert_int_equal(r.has_provenance, 1);
    assert_string_equal(r.prov.commit, "abc123");
    assert_string_equal(r.prov.blas, "Haswell");
    assert_int_equal(r.prov.threads, 3);
    assert_string_equal(r.prov.spec_hash, p.spec_hash);
    gd_run_fini(&r);

    struct gd_watch_record wr = {.run = ids[0], .step = 30, .to_step = 20, .lr_scale = 0.5};
    snprintf(wr.kind, sizeof wr.kind, "divergence");
    snprintf(wr.action, sizeof wr.action, "rollback");
    snprintf(wr.message, sizeof wr.message, "loss_d went to NaN");
    int64_t wid = 0;
    assert_int_equal(gd_store_watch_put(f->st, &wr, &wid, &err), 0);
    wr.run = ids[1];
    wr.to_step = -1;
    wr.lr_scale = 0;
    snprintf(wr.action, sizeof wr.action, "alert");
    assert_int_equal(gd_store_watch_put(f->st, &wr, NULL, &err), 0);
    struct gd_watch_record *recs;
    assert_int_equal(gd_store_watch_list(f->st, ids[0], &recs, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(recs[0].id, wid);
    assert_int_equal(recs[0].to_step, 20);
    assert_true(recs[0].lr_scale == 0.5);
    assert_string_equal(recs[0].message, "loss_d went to NaN");
    free(recs);
    assert_int_equal(gd_store_watch_list_runs(f->st, ids, 2, &recs, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(recs[1].run, ids[1]);
    assert_int_equal(recs[1].to_step, -1);
    assert_string_equal(recs[1].action, "alert");
    free(recs);

    /* planes live with the samples of their steps */
    uint8_t png[4] = {0x89, 'P', 'N', 'G'}, plane[6] = {1, 2, 3, 4, 5, 6};
    assert_int_equal(gd_store_plane_put(f->st, ids[0], 10, plane, 6, &err), GC_ENOTFOUND);
    for (int step = 10; step <= 30; step += 10) {
        assert_int_equal(gd_store_sample_put(f->st, ids[0], step, png, 4, &err), 0);
        plane[0] = (uint8_t)step;
        assert_int_equal(gd_store_plane_put(f->st, ids[0], step, plane, 6, &err), 0);
        const char *names[2] = {"loss_d", "loss_g"};
        double vals[2] = {step, -step};
        assert_int_equal(
            gd_store_metrics_put(f->st, ids[0], 0, step, names, vals, step < 30 ? 2 : 1, &err), 0);
    }
    int64_t *steps;
    assert_int_equal(gd_store_plane_steps(f->st, ids[0], &steps, &n, &err), 0);
    assert_int_equal(n, 3);
    free(steps);
    uint8_t *bytes;
    size_t len;
    int64_t at;
    assert_int_equal(gd_store_plane_get(f->st, ids[0], -1, &bytes, &len, &at, &err), 0);
    assert_int_equal(at, 30);
    assert_int_equal(len, 6);
    assert_int_equal(bytes[0], 30);
    free(bytes);

    /* the watchdog's rollback to step 15: later points, samples and planes go, and the
     * newest values are those at or before it */
    assert_int_equal(gd_store_run_rewind(f->st, ids[0], 15, &err), 0);
    assert_int_equal(gd_store_run_get(f->st, ids[0], &r, &err), 0);
    assert_int_equal(r.step, 15);
    gd_run_fini(&r);
    struct gd_kv *kv;
    assert_int_equal(gd_store_metrics_latest(f->st, ids[0], 0, &kv, &n, &err), 0);
    assert_int_equal(n, 2);
    for (int i = 0; i < n; i++)
        assert_int_equal(kv[i].step, 10);
    free(kv);
    assert_int_equal(gd_store_plane_get(f->st, ids[0], -1, &bytes, &len, &at, &err), 0);
    assert_int_equal(at, 10);
    free(bytes);
    assert_int_equal(gd_store_sample_steps(f->st, ids[0], &steps, &n, &err), 0);
    assert_int_equal(n, 1);
    free(steps);
    /* a rewind before every point leaves no newest value */
    assert_int_equal(gd_store_run_rewind(f->st, ids[0], 5, &err), 0);
    assert_int_equal(gd_store_metrics_latest(f->st, ids[0], 0, &kv, &n, &err), 0);
    assert_int_equal(n, 0);
    free(kv);
}

/* A store of the schema before the newest (SQLite: user_version 4, main's schema with
 * sweeps, the checkpoint's bytes last and a run's classes; PostgreSQL: version 1) with
 * a sweep's rows opens and migrates, keeping them; a run's classes are written and read
 * back on both. */
static void previous_schema_migrates(void **state)
{
    struct fx_store *f = *state;
    gd_store_close(f->st);
    f->st = NULL;
    if (f->pg) {
        char sql[256];
        snprintf(sql, sizeof sql, "DROP SCHEMA \"%s\" CASCADE; CREATE SCHEMA \"%s\"", f->schema,
                 f->schema);
        assert_int_equal(fx_pg_exec(f->db, NULL, sql), 0);
        raw_sql(f, "CREATE TABLE schema_version (version integer NOT NULL);"
                   " INSERT INTO schema_version VALUES (1)");
        raw_sql(f, gd_migrations_pg[0].sql);
        raw_sql(f, "INSERT INTO runs (name, spec, steps, status, step) VALUES"
                   " ('old', '{}', 100, 'succeeded', 100);"
                   "INSERT INTO metrics (run, kind, name, step, value) VALUES"
                   " (1, 0, 'loss_d', 100, 1.5);"
                   "INSERT INTO metrics_latest (run, kind, name, step, value) VALUES"
                   " (1, 0, 'loss_d', 100, 1.5);");
    } else {
        unlink(f->path);
        raw_sql(f, gd_migrations_sqlite[0].sql);
        raw_sql(f, gd_migrations_sqlite[1].sql);
        raw_sql(f, gd_migrations_sqlite[2].sql);
        raw_sql(f, gd_migrations_sqlite[3].sql);
        raw_sql(
            f, "INSERT INTO sweeps (name, body, metric, goal, configurations, created_at)"
               " VALUES ('lr', '{}', 'loss_g', 'min', 1, '2026-01-01T00:00:00Z');"
               "INSERT INTO runs (name, spec, steps, created_at, status, step, sweep, config,"
               " provenance_commit, provenance_threads, spec_hash) VALUES"
               " ('old', '{}', 100, '2026-01-01T00:00:00Z', 'succeeded', 100, 1, 0, 'abc', 2, 'h');"
               "INSERT INTO metrics (run, kind, name, step, value) VALUES"
               " (1, 0, 'loss_d', 50, 2.5), (1, 0, 'loss_d', 100, 1.5);"
               "INSERT INTO watch_records (run, step, kind, action, message, created_at)"
               " VALUES (1, 40, 'collapse', 'alert', 'm', '2026-01-01T00:00:00Z');"
               "PRAGMA user_version = 4;");
    }
    struct gc_error err = {0};
    f->st = gd_store_open(f->where, &err);
    assert_non_null(f->st);
    assert_int_equal(gd_store_version(f->st), latest_version());
    struct gd_kv *kv;
    int n;
    assert_int_equal(gd_store_metrics_latest(f->st, 1, 0, &kv, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_true(kv[0].value == 1.5 && kv[0].step == 100);
    free(kv);
    struct gd_run r;
    assert_int_equal(gd_store_run_get(f->st, 1, &r, &err), 0);
    assert_string_equal(r.worker, "");
    assert_null(r.classes);
    gd_run_fini(&r);
    assert_int_equal(gd_store_run_set_classes(f->st, 1, "0 T-shirt\n7 Sneaker\n", &err), 0);
    assert_int_equal(gd_store_run_get(f->st, 1, &r, &err), 0);
    assert_string_equal(r.classes, "0 T-shirt\n7 Sneaker\n");
    if (!f->pg) {
        assert_int_equal(r.sweep, 1);
        assert_string_equal(r.prov.commit, "abc");
        struct gd_watch_record *recs;
        assert_int_equal(gd_store_watch_list(f->st, 1, &recs, &n, &err), 0);
        assert_int_equal(n, 1);
        free(recs);
    }
    gd_run_fini(&r);
    /* and the new schema's rows can be written */
    struct gd_sweep w = {.configurations = 1};
    snprintf(w.name, sizeof w.name, "after");
    snprintf(w.metric, sizeof w.metric, "loss_g");
    w.body = "{}";
    struct gd_sweep_run rs = {"after-0", "{}", 10, 0};
    int64_t sid, rid;
    assert_int_equal(gd_store_sweep_insert(f->st, &w, &rs, 1, &sid, &rid, &err), 0);
}

static void stats_count(void **state)
{
    struct fx_store *f = *state;
    struct gc_error err = {0};
    int64_t a = new_run(f->st, "a", 10);
    new_run(f->st, "b", 10);
    uint8_t blob[4] = {0};
    assert_int_equal(gd_store_ckpt_put(f->st, a, 7, blob, 4, 1, &err), 0);
    assert_int_equal(gd_store_run_set_status(f->st, a, GD_SUCCEEDED, NULL, &err), 0);
    struct gd_store_stats ss;
    assert_int_equal(gd_store_stats(f->st, &ss, &err), 0);
    assert_int_equal(ss.runs_by_status[GD_QUEUED], 1);
    assert_int_equal(ss.runs_by_status[GD_SUCCEEDED], 1);
    assert_int_equal(ss.steps_total, 7);
    assert_int_equal(ss.images_total, 28); /* batch_size 4 from the spec */
    assert_true(ss.bytes > 0);
}

static void sha256_vectors(void **state)
{
    (void)state;
    char hex[65];
    gd_sha256_hex((const uint8_t *)"", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    gd_sha256_hex((const uint8_t *)"abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    gd_sha256_hex((const uint8_t *)two, strlen(two), hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const char *four = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
                       "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    gd_sha256_hex((const uint8_t *)four, strlen(four), hex);
    assert_string_equal(hex, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    /* one million 'a': many blocks */
    size_t n = 1000000;
    uint8_t *a = malloc(n);
    memset(a, 'a', n);
    gd_sha256_hex(a, n, hex);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(a);
    /* lengths around the padding boundary (55, 56, 64 bytes) differ from each other */
    uint8_t buf[64];
    memset(buf, 'q', sizeof(buf));
    char h55[65], h56[65], h64[65];
    gd_sha256_hex(buf, 55, h55);
    gd_sha256_hex(buf, 56, h56);
    gd_sha256_hex(buf, 64, h64);
    assert_string_not_equal(h55, h56);
    assert_string_not_equal(h56, h64);
}

/* A SQLite database at schema version v (1: the first release; 2: with sweeps,
 * watchdog and provenance; 3: the checkpoint's bytes last; 4: main's, a conditional
 * run's classes) holding a checkpoint
 * opens and migrates to the newest schema; the store serves the bytes unchanged and
 * writes new ones through the blob handle after them. */
static void checkpoints_survive_migration_from(int v)
{
    assert_true(gd_migrations_sqlite_count >= 5);
    for (int i = 0; i < gd_migrations_sqlite_count; i++)
        assert_int_equal(gd_migrations_sqlite[i].version, i + 1);
    assert_non_null(strstr(gd_migrations_sqlite[2].name, "checkpoint_data_last"));
    assert_non_null(strstr(gd_migrations_sqlite[3].name, "run_classes"));
    char dir[] = "/tmp/test_store_vN.XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/ganctl.db", dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    for (int i = 0; i < v; i++)
        assert_int_equal(sqlite3_exec(db, gd_migrations_sqlite[i].sql, NULL, NULL, NULL),
                         SQLITE_OK);
    char sql[512];
    snprintf(sql, sizeof sql,
             "PRAGMA user_version = %d;"
             "INSERT INTO runs (name, spec, steps, created_at)"
             " VALUES ('old', '{}', 10, '2026-01-01T00:00:00Z');"
             "INSERT INTO checkpoints (run, step, bytes, sha256, data, created_at)"
             " VALUES (1, 5, 3, 'abc', x'010203', '2026-01-01T00:00:00Z');",
             v);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    struct gc_error err = {0};
    struct gd_store *st = gd_store_open(path, &err);
    assert_non_null(st);
    assert_int_equal(gd_store_version(st),
                     gd_migrations_sqlite[gd_migrations_sqlite_count - 1].version);
    uint8_t *got = NULL;
    size_t len = 0;
    int64_t step = 0;
    assert_int_equal(gd_store_ckpt_get(st, 1, -1, &got, &len, &step, &err), 0);
    assert_int_equal(step, 5);
    assert_int_equal(len, 3);
    assert_memory_equal(got, "\x01\x02\x03", 3);
    free(got);
    static const uint8_t more[] = {9, 8, 7, 6};
    assert_int_equal(gd_store_ckpt_put(st, 1, 7, more, sizeof more, 0, &err), 0);
    assert_int_equal(gd_store_ckpt_get(st, 1, 7, &got, &len, &step, &err), 0);
    assert_int_equal(len, sizeof more);
    assert_memory_equal(got, more, sizeof more);
    free(got);
    /* the run's newest values and list work on the migrated schema */
    struct gd_run r;
    assert_int_equal(gd_store_run_get(st, 1, &r, &err), 0);
    assert_int_equal(r.step, 7);
    gd_run_fini(&r);
    gd_store_close(st);
    struct fx_store f;
    memset(&f, 0, sizeof f);
    snprintf(f.dir, sizeof f.dir, "%s", dir);
    assert_int_equal(fx_store_close(&f), 0);
}

static void checkpoints_survive_migration_from_1(void **state)
{
    (void)state;
    checkpoints_survive_migration_from(1);
}

static void checkpoints_survive_migration_from_2(void **state)
{
    (void)state;
    checkpoints_survive_migration_from(2);
}

static void checkpoints_survive_migration_from_3(void **state)
{
    (void)state;
    checkpoints_survive_migration_from(3);
}

static void checkpoints_survive_migration_from_4(void **state)
{
    (void)state;
    checkpoints_survive_migration_from(4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(fresh_file_migrated_and_private, setup, teardown),
        cmocka_unit_test_setup_teardown(newer_database_refused, setup, teardown),
        cmocka_unit_test(garbage_file_refused),
        cmocka_unit_test_setup_teardown(runs_insert_get_list_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(status_transitions_set_times, setup, teardown),
        cmocka_unit_test_setup_teardown(metrics_batch_latest_series, setup, teardown),
        cmocka_unit_test_setup_teardown(samples_put_get, setup, teardown),
        cmocka_unit_test_setup_teardown(checkpoints_keep_newest_with_step, setup, teardown),
        cmocka_unit_test_setup_teardown(checkpoint_and_step_are_atomic, setup, teardown),
        cmocka_unit_test(checkpoints_survive_migration_from_1),
        cmocka_unit_test(checkpoints_survive_migration_from_2),
        cmocka_unit_test(checkpoints_survive_migration_from_3),
        cmocka_unit_test(checkpoints_survive_migration_from_4),
        cmocka_unit_test_setup_teardown(events_after_id, setup, teardown),
        cmocka_unit_test_setup_teardown(latest_values_and_figures_of_a_step, setup, teardown),
        cmocka_unit_test_setup_teardown(series_of_many_points_downsampled_by_seeks, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(events_pruned_per_run, setup, teardown),
        cmocka_unit_test_setup_teardown(first_schema_file_migrates, setup, teardown),
        cmocka_unit_test_setup_teardown(previous_schema_migrates, setup, teardown),
        cmocka_unit_test_setup_teardown(sweeps_watch_planes_rewind, setup, teardown),
        cmocka_unit_test_setup_teardown(stats_count, setup, teardown),
        cmocka_unit_test(sha256_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
