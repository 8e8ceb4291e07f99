/* test_store.c — the SQLite store: migrations, runs, metrics, samples, checkpoints,
 * events, the file's mode, and the SHA-256 behind checkpoint digests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/migrations.h"
#include "daemon/sha256.h"
#include "daemon/store.h"

#include "tests/unit/daemon/store_fixture.h"

static int setup(void **state)
{
    struct fx_store *f = calloc(1, sizeof(*f));
    if (!f || fx_store_open(f, "test_store")) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx_store *f = *state;
    int ret = fx_store_close(f);
    free(f);
    return ret;
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

static void fresh_file_migrated_and_private(void **state)
{
    struct fx_store *f = *state;
    assert_true(gd_migrations_count >= 1);
    assert_int_equal(gd_store_version(f->st), gd_migrations[gd_migrations_count - 1].version);
    struct stat sb;
    assert_int_equal(stat(f->path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);

    /* reopening an up-to-date file changes nothing and keeps the data */
    int64_t id = new_run(f->st, "keep", 10);
    gd_store_close(f->st);
    struct gc_error err = {0};
    f->st = gd_store_open(f->path, &err);
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

static void newer_database_refused(void **state)
{
    struct fx_store *f = *state;
    int version = gd_store_version(f->st);
    gd_store_close(f->st); /* the last close checkpoints the WAL into the main file */
    f->st = NULL;
    set_user_version(f->path, 99);
    struct gc_error err = {0};
    struct gd_store *st = gd_store_open(f->path, &err);
    assert_null(st);
    assert_int_equal(err.code, GC_ESTATE);
    assert_non_null(strstr(err.msg, "database version 99 is newer"));
    assert_non_null(strstr(err.msg, "upgrade ganctld"));
    set_user_version(f->path, (uint32_t)version);
    f->st = gd_store_open(f->path, &err);
    assert_non_null(f->st);
}

static void garbage_file_refused(void **state)
{
    (void)state;
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
    assert_int_equal(gd_store_ckpt_put(f->st, 5555, 10, blob, sizeof(blob), 3, &err), GC_EIO);
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
        cmocka_unit_test_setup_teardown(events_after_id, setup, teardown),
        cmocka_unit_test_setup_teardown(stats_count, setup, teardown),
        cmocka_unit_test(sha256_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
