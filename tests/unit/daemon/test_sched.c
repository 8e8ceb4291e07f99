/* test_sched.c — the scheduler: state changes of queued, paused and finished runs,
 * the 404/409 cases, failing jobs that leave the daemon running, restart re-queueing,
 * and the event bus. The stored spec here is a tiny test format read by parse_test()
 * ("ring8 STEPS" or "idx PATH"), so the test needs no JSON parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/blas.h"
#include "daemon/events.h"
#include "daemon/sched.h"
#include "daemon/store.h"

#include "tests/unit/daemon/store_fixture.h"

struct fixture {
    struct fx_store fs; /* the store and its scratch folder, the scheduler's data dir */
    struct gd_store *st;
    struct gd_events *ev;
    struct gd_sched *s;
};

/* gc_spec_check with its first problem in err, as the daemon's parser reports it. */
static int check(const struct gc_spec *s, struct gc_error *err)
{
    struct gc_field_errors fe;
    gc_spec_check(s, &fe);
    return gc_field_errors_summary(&fe, err);
}

static int parse_test(const char *json, struct gc_spec *out, struct gc_error *err)
{
    long long steps;
    char path[256];
    if (sscanf(json, "ring8 %lld", &steps) == 1) {
        gc_spec_defaults(out, GC_DATA_RING8, GC_LOSS_NONSATURATING);
        out->train.steps = steps;
        out->train.batch_size = 64;
        out->every.log = 10;
        out->every.sample = 0;
        out->every.eval = 0;
        out->every.checkpoint = 50;
        snprintf(out->name, sizeof(out->name), "ring8");
        return check(out, err);
    }
    if (sscanf(json, "idx %255s", path) == 1) {
        gc_spec_defaults(out, GC_DATA_IDX, GC_LOSS_NONSATURATING);
        snprintf(out->dataset.path, sizeof(out->dataset.path), "%s", path);
        out->train.steps = 10;
        return check(out, err);
    }
    return gc_error_set(err, GC_EINVAL, "not a test spec: %.40s", json);
}

static struct gd_sched *make_sched(struct fixture *f, int workers)
{
    struct gd_sched_opts o = {
        .name = "test-worker",
        .workers = workers,
        .threads = 1,
        .data_dir = f->fs.dir,
        .keep_checkpoints = 2,
        .parse_spec = parse_test,
    };
    struct gc_error err = {0};
    struct gd_sched *s = gd_sched_create(f->st, f->ev, &o, &err);
    assert_non_null(s);
    return s;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f || fx_store_open(&f->fs, "test_sched"))
        return -1;
    f->st = f->fs.st;
    struct gc_error err = {0};
    f->ev = gd_events_create(f->st, &err);
    if (!f->ev)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    gd_sched_destroy(f->s);
    gd_events_destroy(f->ev);
    int ret = fx_store_close(&f->fs);
    free(f);
    return ret;
}

static int64_t submit(struct fixture *f, const char *spec_json)
{
    struct gc_spec spec;
    struct gc_error err = {0};
    assert_int_equal(parse_test(spec_json, &spec, &err), 0);
    int64_t id = 0;
    assert_int_equal(gd_sched_submit(f->s, &spec, spec_json, &id, &err), 0);
    assert_true(id > 0);
    return id;
}

static enum gd_status status_of(struct fixture *f, int64_t id)
{
    struct gd_run r;
    struct gc_error err = {0};
    assert_int_equal(gd_store_run_get(f->st, id, &r, &err), 0);
    enum gd_status st = r.status;
    gd_run_fini(&r);
    return st;
}

/* Polls until the run reaches a final status or 20 s pass. */
static enum gd_status wait_final(struct fixture *f, int64_t id)
{
    for (int i = 0; i < 2000; i++) {
        enum gd_status st = status_of(f, id);
        if (st == GD_SUCCEEDED || st == GD_FAILED || st == GD_CANCELED || st == GD_PAUSED)
            return st;
        usleep(10000);
    }
    return status_of(f, id);
}

static int count_events(struct fixture *f, int64_t run, const char *type)
{
    struct gd_event *ev;
    int n, c = 0;
    struct gc_error err = {0};
    assert_int_equal(gd_store_event_list(f->st, run, 0, 1000, &ev, &n, &err), 0);
    for (int i = 0; i < n; i++)
        c += strcmp(ev[i].type, type) == 0;
    free(ev);
    return c;
}

static void cancel_and_delete_queued(void **state)
{
    struct fixture *f = *state;
    f->s = make_sched(f, 1); /* workers not started: runs stay queued */
    struct gc_error err = {0};
    int64_t a = submit(f, "ring8 100"), b = submit(f, "ring8 100");
    assert_int_equal(status_of(f, a), GD_QUEUED);
    struct gd_sched_stats ss;
    gd_sched_stats(f->s, &ss);
    assert_int_equal(ss.queued, 2);
    assert_int_equal(ss.running, 0);

    assert_int_equal(gd_sched_delete(f->s, a, &err), GC_ESTATE);
    assert_int_equal(gd_sched_resume(f->s, a, &err), GC_ESTATE);
    assert_int_equal(gd_sched_cancel(f->s, a, &err), 0);
    assert_int_equal(status_of(f, a), GD_CANCELED);
    gd_sched_stats(f->s, &ss);
    assert_int_equal(ss.queued, 1);
    assert_int_equal(gd_sched_cancel(f->s, a, &err), GC_ESTATE);
    assert_non_null(strstr(err.msg, "canceled"));
    assert_int_equal(gd_sched_pause(f->s, a, &err), GC_ESTATE);
    assert_int_equal(gd_sched_resume(f->s, a, &err), GC_ESTATE);
    struct gd_live live;
    assert_int_equal(gd_sched_live(f->s, b, &live), GC_ENOTFOUND);

    assert_int_equal(gd_sched_delete(f->s, a, &err), 0);
    struct gd_run r;
    assert_int_equal(gd_store_run_get(f->st, a, &r, &err), GC_ENOTFOUND);
    assert_int_equal(gd_sched_delete(f->s, a, &err), GC_ENOTFOUND);
    assert_int_equal(status_of(f, b), GD_QUEUED);
    /* submit + cancel of b's neighbour each wrote a status event; b has its own */
    assert_int_equal(count_events(f, b, "status"), 1);
}

static void pause_resume_queued(void **state)
{
    struct fixture *f = *state;
    f->s = make_sched(f, 1);
    struct gc_error err = {0};
    int64_t a = submit(f, "ring8 100");
    assert_int_equal(gd_sched_pause(f->s, a, &err), 0);
    assert_int_equal(status_of(f, a), GD_PAUSED);
    assert_int_equal(gd_sched_pause(f->s, a, &err), GC_ESTATE);
    struct gd_sched_stats ss;
    gd_sched_stats(f->s, &ss);
    assert_int_equal(ss.queued, 0);

    assert_int_equal(gd_sched_resume(f->s, a, &err), 0);
    assert_int_equal(status_of(f, a), GD_QUEUED);
    gd_sched_stats(f->s, &ss);
    assert_int_equal(ss.queued, 1);
    assert_int_equal(gd_sched_resume(f->s, a, &err), GC_ESTATE);

    /* a paused run can be canceled at once and then deleted */
    assert_int_equal(gd_sched_pause(f->s, a, &err), 0);
    assert_int_equal(gd_sched_cancel(f->s, a, &err), 0);
    assert_int_equal(status_of(f, a), GD_CANCELED);
    struct gd_run r;
    assert_int_equal(gd_store_run_get(f->st, a, &r, &err), 0);
    assert_true(r.finished_at[0] != '\0');
    gd_run_fini(&r);
    assert_int_equal(count_events(f, a, "status"), 5);
}

static void unknown_runs_not_found(void **state)
{
    struct fixture *f = *state;
    f->s = make_sched(f, 1);
    struct gc_error err = {0};
    assert_int_equal(gd_sched_cancel(f->s, 99, &err), GC_ENOTFOUND);
    assert_int_equal(gd_sched_pause(f->s, 99, &err), GC_ENOTFOUND);
    assert_int_equal(gd_sched_resume(f->s, 99, &err), GC_ENOTFOUND);
    assert_int_equal(gd_sched_delete(f->s, 99, &err), GC_ENOTFOUND);
    assert_int_equal(gd_sched_run_now(f->s, 99, &err), GC_ENOTFOUND);
}

static void failing_jobs_fail_alone(void **state)
{
    struct fixture *f = *state;
    f->s = make_sched(f, 2);
    struct gc_error err = {0};
    /* a stored spec that no longer parses, queued before the workers start (the queue
     * is the store: they claim it as any other) */
    int64_t b = 0;
    assert_int_equal(gd_store_run_insert(f->st, "bad", "{garbage", 10, &b, &err), 0);
    assert_int_equal(gd_sched_start(f->s, &err), 0);

    /* and a data file that does not exist */
    int64_t a = submit(f, "idx /nonexistent/train-images.idx");
    assert_int_equal(wait_final(f, a), GD_FAILED);
    assert_int_equal(wait_final(f, b), GD_FAILED);

    struct gd_run r;
    assert_int_equal(gd_store_run_get(f->st, a, &r, &err), 0);
    assert_non_null(r.error);
    /* the message names the worker that could not open the dataset, and the path */
    assert_non_null(strstr(r.error, "worker test-worker cannot open dataset.path"));
    assert_non_null(strstr(r.error, "/nonexistent/train-images.idx"));
    assert_true(r.finished_at[0] != '\0');
    assert_string_equal(r.worker, ""); /* a finished run has no worker */
    gd_run_fini(&r);
    assert_int_equal(gd_store_run_get(f->st, b, &r, &err), 0);
    assert_int_equal(r.status, GD_FAILED);
    assert_non_null(strstr(r.error, "stored spec"));
    assert_non_null(strstr(r.error, "not a test spec"));
    gd_run_fini(&r);
    /* a finished run is not trained again */
    assert_int_equal(gd_sched_run_now(f->s, b, &err), GC_ESTATE);

    /* the scheduler goes on taking work after failures */
    int64_t c = submit(f, "idx /nonexistent/other.idx");
    assert_int_equal(wait_final(f, c), GD_FAILED);
    assert_true(count_events(f, c, "status") >= 2);
    assert_int_equal(gd_sched_cancel(f->s, c, &err), GC_ESTATE);
    assert_int_equal(gd_sched_delete(f->s, c, &err), 0);
}

static void start_requeues_interrupted_runs(void **state)
{
    struct fixture *f = *state;
    struct gc_error err = {0};
    /* what a crash leaves behind: one run marked running, one queued */
    int64_t a = 0, b = 0;
    assert_int_equal(gd_store_run_insert(f->st, "a", "idx /nonexistent/a", 10, &a, &err), 0);
    assert_int_equal(gd_store_run_insert(f->st, "b", "idx /nonexistent/b", 10, &b, &err), 0);
    assert_int_equal(gd_store_run_set_status(f->st, a, GD_RUNNING, NULL, &err), 0);

    f->s = make_sched(f, 1);
    /* before start, the stored running run may not be deleted or resumed */
    assert_int_equal(gd_sched_delete(f->s, a, &err), GC_ESTATE);
    assert_int_equal(gd_sched_resume(f->s, a, &err), GC_ESTATE);
    assert_int_equal(gd_sched_start(f->s, &err), 0);
    /* both are taken up again and end (failed here: their data is missing) */
    assert_int_equal(wait_final(f, a), GD_FAILED);
    assert_int_equal(wait_final(f, b), GD_FAILED);
    gd_sched_shutdown(f->s);
    gd_sched_shutdown(f->s); /* twice is harmless */
}

/* Polls until the run is in st (or 30 s pass). */
static int wait_status(struct fixture *f, int64_t id, enum gd_status st)
{
    for (int i = 0; i < 3000; i++) {
        if (status_of(f, id) == st)
            return 1;
        usleep(10000);
    }
    return 0;
}

/* Polls until the worker reports a live step past min (or 30 s pass). */
static int64_t wait_live(struct fixture *f, int64_t id, int64_t min)
{
    struct gd_live live = {0};
    for (int i = 0; i < 3000; i++) {
        if (gd_sched_live(f->s, id, &live) == 0 && live.step > min)
            return live.step;
        usleep(10000);
    }
    return -1;
}

static void short_run_succeeds(void **state)
{
    struct fixture *f = *state;
    f->s = make_sched(f, 1);
    struct gc_error err = {0};
    assert_int_equal(gd_sched_start(f->s, &err), 0);
    int64_t id = submit(f, "ring8 120");
    assert_int_equal(wait_final(f, id), GD_SUCCEEDED);
    struct gd_run r;
    assert_int_equal(gd_store_run_get(f->st, id, &r, &err), 0);
    assert_int_equal(r.step, 120);
    assert_null(r.error);
    assert_true(r.started_at[0] && r.finished_at[0]);
    gd_run_fini(&r);
    /* metrics every 10 steps, the newest at the last step; checkpoints at 50, 100, 120
     * with the newest 2 kept */
    struct gd_kv *kv;
    int n;
    assert_int_equal(gd_store_metrics_latest(f->st, id, 0, &kv, &n, &err), 0);
    assert_true(n >= 4);
    for (int i = 0; i < n; i++)
        assert_int_equal(kv[i].step, 120);
    free(kv);
    struct gd_ckpt_info *ck;
    assert_int_equal(gd_store_ckpt_list(f->st, id, &ck, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(ck[1].step, 120);
    free(ck);
    assert_int_equal(count_events(f, id, "metrics"), 12);
    assert_true(count_events(f, id, "checkpoint") >= 2);
    struct gd_sched_stats ss;
    gd_sched_stats(f->s, &ss);
    assert_int_equal(ss.steps_trained, 120);
    assert_int_equal(ss.images_trained, 120 * 64);
    assert_int_equal(ss.running, 0);
    /* a finished run cannot be paused, resumed or canceled, only deleted */
    assert_int_equal(gd_sched_pause(f->s, id, &err), GC_ESTATE);
    assert_int_equal(gd_sched_resume(f->s, id, &err), GC_ESTATE);
    assert_int_equal(gd_sched_cancel(f->s, id, &err), GC_ESTATE);
    assert_int_equal(gd_sched_delete(f->s, id, &err), 0);
}

static void pause_resume_cancel_while_training(void **state)
{
    struct fixture *f = *state;
    f->s = make_sched(f, 1);
    struct gc_error err = {0};
    assert_int_equal(gd_sched_start(f->s, &err), 0);
    int64_t id = submit(f, "ring8 10000000");
    assert_true(wait_status(f, id, GD_RUNNING));
    assert_true(wait_live(f, id, 20) > 20);
    assert_int_equal(gd_sched_delete(f->s, id, &err), GC_ESTATE);
    assert_int_equal(gd_sched_resume(f->s, id, &err), GC_ESTATE);

    assert_int_equal(gd_sched_pause(f->s, id, &err), 0);
    assert_true(wait_status(f, id, GD_PAUSED));
    struct gd_live live;
    assert_int_equal(gd_sched_live(f->s, id, &live), GC_ENOTFOUND);
    struct gd_run r;
    assert_int_equal(gd_store_run_get(f->st, id, &r, &err), 0);
    int64_t paused_at = r.step;
    gd_run_fini(&r);
    assert_true(paused_at > 20);
    /* the pause wrote a checkpoint of exactly the run's step */
    uint8_t *b;
    size_t len;
    int64_t got;
    assert_int_equal(gd_store_ckpt_get(f->st, id, -1, &b, &len, &got, &err), 0);
    free(b);
    assert_int_equal(got, paused_at);

    assert_int_equal(gd_sched_resume(f->s, id, &err), 0);
    assert_true(wait_live(f, id, paused_at) > paused_at);
    assert_int_equal(gd_sched_cancel(f->s, id, &err), 0);
    assert_true(wait_status(f, id, GD_CANCELED));
    assert_int_equal(gd_store_run_get(f->st, id, &r, &err), 0);
    assert_true(r.step > paused_at);
    assert_true(r.finished_at[0] != '\0');
    gd_run_fini(&r);
}

static void shutdown_requeues_and_continues(void **state)
{
    struct fixture *f = *state;
    f->s = make_sched(f, 1);
    struct gc_error err = {0};
    assert_int_equal(gd_sched_start(f->s, &err), 0);
    int64_t id = submit(f, "ring8 10000000");
    int64_t waiting = submit(f, "ring8 100");
    assert_true(wait_live(f, id, 20) > 20);
    gd_sched_shutdown(f->s);
    assert_int_equal(status_of(f, id), GD_QUEUED);
    assert_int_equal(status_of(f, waiting), GD_QUEUED);
    struct gd_run r;
    assert_int_equal(gd_store_run_get(f->st, id, &r, &err), 0);
    int64_t stopped_at = r.step;
    gd_run_fini(&r);
    assert_true(stopped_at > 20);
    gd_sched_destroy(f->s);

    /* the next start takes the interrupted run first and continues from its checkpoint */
    f->s = make_sched(f, 1);
    assert_int_equal(gd_sched_start(f->s, &err), 0);
    assert_true(wait_live(f, id, stopped_at) > stopped_at);
    assert_int_equal(status_of(f, waiting), GD_QUEUED);
    assert_int_equal(gd_sched_cancel(f->s, id, &err), 0);
    assert_int_equal(wait_final(f, waiting), GD_SUCCEEDED);
    assert_int_equal(status_of(f, id), GD_CANCELED);
}

struct waiter {
    struct gd_events *ev;
    int64_t after, got;
};

static void *wait_thread(void *arg)
{
    struct waiter *w = arg;
    w->got = gd_events_wait(w->ev, w->after, 10000);
    return NULL;
}

static void events_wake_and_shutdown(void **state)
{
    struct fixture *f = *state;
    struct gc_error err = {0};
    int64_t run = 0;
    assert_int_equal(gd_store_run_insert(f->st, "e", "ring8 1", 1, &run, &err), 0);
    /* nothing new: the wait times out and returns the newest id (0) */
    assert_int_equal(gd_events_wait(f->ev, 0, 20), 0);

    struct waiter w = {f->ev, 0, -2};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, wait_thread, &w), 0);
    usleep(20000);
    assert_int_equal(gd_events_publish(f->ev, run, "status", 0, &err), 0);
    pthread_join(th, NULL);
    assert_true(w.got >= 1);

    /* a waiter that is already past the newest id is woken by shutdown with -1 */
    struct waiter w2 = {f->ev, w.got, -2};
    assert_int_equal(pthread_create(&th, NULL, wait_thread, &w2), 0);
    usleep(20000);
    gd_events_shutdown(f->ev);
    pthread_join(th, NULL);
    assert_int_equal(w2.got, -1);
    assert_int_equal(gd_events_wait(f->ev, 0, 1000), -1);

    /* a new bus on the same store starts from the newest stored id */
    struct gd_events *ev2 = gd_events_create(f->st, &err);
    assert_non_null(ev2);
    assert_int_equal(gd_events_wait(ev2, 0, 0), w.got);
    gd_events_destroy(ev2);
}

int main(void)
{
    gc_blas_init(); /* as ganctld does at its start */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(cancel_and_delete_queued, setup, teardown),
        cmocka_unit_test_setup_teardown(pause_resume_queued, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_runs_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(failing_jobs_fail_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(start_requeues_interrupted_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(events_wake_and_shutdown, setup, teardown),
        cmocka_unit_test_setup_teardown(short_run_succeeds, setup, teardown),
        cmocka_unit_test_setup_teardown(pause_resume_cancel_while_training, setup, teardown),
        cmocka_unit_test_setup_teardown(shutdown_requeues_and_continues, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
