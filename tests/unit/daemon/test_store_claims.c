/* test_store_claims.c — who trains which run, against the store alone: claims racing
 * from many stores at once (many daemons) never get one run twice; a lease that runs
 * out lets another store take the run over, and the first one's writes are then
 * refused (fenced) while the heartbeat keeps a lease alive; the user's verbs are atomic
 * changes whose requests reach the owner, and a cancel asked as the run stops wins; a
 * cancel for a reason (a sweep's) keeps it as the run's error; a
 * restarted daemon queues its previous life's runs again; workers beat, list and
 * leave. Runs against SQLite and, with GANCTL_TEST_STORE=postgres, PostgreSQL
 * (store_fixture.h); leases exist with PostgreSQL only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/store.h"

#include "tests/unit/daemon/store_fixture.h"

static int setup(void **state)
{
    return fx_setup_named(state, "test_claims");
}

static int teardown(void **state)
{
    return fx_teardown(state);
}

static struct gd_worker_self worker(const char *name, int lease_s)
{
    struct gd_worker_self w;
    memset(&w, 0, sizeof w);
    snprintf(w.name, sizeof w.name, "%s", name);
    w.workers = 2;
    w.threads = 4;
    w.lease_s = lease_s;
    return w;
}

static int64_t new_run(struct gd_store *st, const char *name)
{
    int64_t id = 0;
    struct gc_error err = {0};
    assert_int_equal(gd_store_run_insert(st, name, "{}", 100, &id, &err), 0);
    return id;
}

static struct gd_run get(struct gd_store *st, int64_t id)
{
    struct gd_run r;
    struct gc_error err = {0};
    assert_int_equal(gd_store_run_get(st, id, &r, &err), 0);
    return r;
}

/* ---- racing claims ------------------------------------------------------------------- */

#define RACE_RUNS 200
#define RACERS 6

struct racer {
    struct gd_store *st;
    struct gd_worker_self me;
    int64_t got[RACE_RUNS];
    int n, failures;
};

static void *race(void *arg)
{
    struct racer *r = arg;
    for (;;) {
        int64_t id;
        struct gc_error err = {0};
        int rc = gd_store_run_claim(r->st, &r->me, 0, &id, NULL, 0, &err);
        if (rc == GC_ENOTFOUND)
            return NULL;
        if (rc) {
            /* SQLite: a writer of another connection holds the file past the timeout */
            if (++r->failures > 100)
                return NULL;
            continue;
        }
        if (r->n < RACE_RUNS)
            r->got[r->n++] = id;
    }
}

static void racing_claims_none_twice(void **state)
{
    struct fx_store *f = *state;
    int64_t ids[RACE_RUNS];
    for (int i = 0; i < RACE_RUNS; i++)
        ids[i] = new_run(f->st, "r");
    /* six daemons on the one store, claiming at once until nothing is left */
    static struct racer r[RACERS];
    pthread_t th[RACERS];
    for (int i = 0; i < RACERS; i++) {
        memset(&r[i], 0, sizeof r[i]);
        char name[32];
        snprintf(name, sizeof name, "racer-%d", i);
        r[i].me = worker(name, 30);
        assert_non_null(r[i].st = fx_store_another(f));
    }
    for (int i = 0; i < RACERS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
    for (int i = 0; i < RACERS; i++)
        pthread_join(th[i], NULL);
    int seen[RACE_RUNS] = {0}, total = 0, busy = 0;
    for (int i = 0; i < RACERS; i++) {
        total += r[i].n;
        busy += r[i].n > 0;
        for (int k = 0; k < r[i].n; k++) {
            int64_t id = r[i].got[k];
            assert_true(id >= ids[0] && id <= ids[RACE_RUNS - 1]);
            seen[id - ids[0]]++;
            struct gd_run run = get(f->st, id);
            assert_int_equal(run.status, GD_RUNNING);
            assert_string_equal(run.worker, r[i].me.name); /* the claimer is its worker */
            gd_run_fini(&run);
        }
        gd_store_close(r[i].st);
    }
    /* every run claimed, none twice */
    assert_int_equal(total, RACE_RUNS);
    for (int i = 0; i < RACE_RUNS; i++)
        assert_int_equal(seen[i], 1);
    assert_true(busy >= 2); /* they did race */
    print_message("%d claims by %d stores, %d of them claimed runs\n", total, RACERS, busy);
}

/* ---- leases ---------------------------------------------------------------------------- */

static void lease_runs_out_and_another_takes_over(void **state)
{
    struct fx_store *f = *state;
    if (!f->pg)
        skip(); /* SQLite has one worker: no leases */
    struct gc_error err = {0};
    struct gd_store *b = fx_store_another(f);
    assert_non_null(b);
    struct gd_worker_self wa = worker("daemon-a", 2), wb = worker("daemon-b", 2);
    int64_t id = new_run(f->st, "leased"), got = 0;
    assert_int_equal(gd_store_run_claim(f->st, &wa, 0, &got, NULL, 0, &err), 0);
    assert_int_equal(got, id);
    /* renewed by a's heartbeats, the lease holds past its 2 s */
    for (int i = 0; i < 5; i++) {
        assert_int_equal(gd_store_worker_beat(f->st, &wa, &err), 0);
        assert_int_equal(gd_store_run_claim(b, &wb, 0, &got, NULL, 0, &err), GC_ENOTFOUND);
        usleep(500 * 1000);
    }
    const char *nm = "loss_d";
    double v = 1;
    assert_int_equal(gd_store_metrics_put(f->st, id, 0, 10, &nm, &v, 1, &err), 0);
    /* a stops beating: its lease runs out and b takes the run, naming whom from */
    sleep(3);
    char from[GD_NAME_MAX];
    assert_int_equal(gd_store_run_claim(b, &wb, 0, &got, from, sizeof from, &err), 0);
    assert_int_equal(got, id);
    assert_string_equal(from, "daemon-a");
    struct gd_run r = get(b, id);
    assert_string_equal(r.worker, "daemon-b");
    gd_run_fini(&r);
    /* a's writes to the run are refused now, and change nothing */
    v = 2;
    assert_int_equal(gd_store_metrics_put(f->st, id, 0, 20, &nm, &v, 1, &err), GC_ESTALE);
    uint8_t blob[8] = {1};
    assert_int_equal(gd_store_ckpt_put(f->st, id, 20, blob, 8, 3, &err), GC_ESTALE);
    assert_int_equal(gd_store_sample_put(f->st, id, 20, blob, 8, &err), GC_ESTALE);
    assert_int_equal(gd_store_run_set_status(f->st, id, GD_SUCCEEDED, NULL, &err), GC_ESTALE);
    enum gd_request req;
    assert_int_equal(gd_store_run_requested(f->st, id, &req, &err), GC_ESTALE);
    /* a's heartbeat does not renew b's lease */
    assert_int_equal(gd_store_worker_beat(f->st, &wa, &err), 0);
    r = get(b, id);
    assert_int_equal(r.status, GD_RUNNING);
    assert_string_equal(r.worker, "daemon-b");
    gd_run_fini(&r);
    struct gd_kv *kv;
    int n;
    assert_int_equal(gd_store_metrics_latest(b, id, 0, &kv, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_true(kv[0].value == 1 && kv[0].step == 10);
    free(kv);
    /* b's are taken */
    assert_int_equal(gd_store_metrics_put(b, id, 0, 20, &nm, &v, 1, &err), 0);
    assert_int_equal(gd_store_ckpt_put(b, id, 20, blob, 8, 3, &err), 0);
    assert_int_equal(gd_store_run_set_status(b, id, GD_SUCCEEDED, NULL, &err), 0);
    r = get(b, id);
    assert_int_equal(r.status, GD_SUCCEEDED);
    assert_int_equal(r.step, 20);
    assert_string_equal(r.worker, "");
    gd_run_fini(&r);
    gd_store_close(b);
}

static void inserted_claimed_is_not_claimable(void **state)
{
    struct fx_store *f = *state;
    struct gc_error err = {0};
    struct gd_worker_self me = worker("trainer", 30), other = worker("other", 30);
    int64_t id, got;
    assert_int_equal(gd_store_run_insert_claimed(f->st, &me, "mine", "{}", 10, &id, &err), 0);
    struct gd_run r = get(f->st, id);
    assert_int_equal(r.status, GD_RUNNING);
    assert_string_equal(r.worker, "trainer");
    assert_true(r.started_at[0] != '\0');
    gd_run_fini(&r);
    struct gd_store *b = fx_store_another(f);
    assert_int_equal(gd_store_run_claim(b, &other, 0, &got, NULL, 0, &err), GC_ENOTFOUND);
    assert_int_equal(gd_store_run_claim(b, &other, id, &got, NULL, 0, &err), GC_ENOTFOUND);
    gd_store_close(b);
    /* its owner's writes go through */
    const char *nm = "loss_d";
    double v = 1;
    assert_int_equal(gd_store_metrics_put(f->st, id, 0, 1, &nm, &v, 1, &err), 0);
}

/* ---- the user's verbs ------------------------------------------------------------------ */

static void verbs_reach_the_owner_and_a_cancel_wins(void **state)
{
    struct fx_store *f = *state;
    struct gc_error err = {0};
    struct gd_store *b = fx_store_another(f); /* the daemon the user talks to */
    struct gd_worker_self me = worker("owner", 30);
    int64_t id = new_run(f->st, "v"), got;
    assert_int_equal(gd_store_run_claim(f->st, &me, 0, &got, NULL, 0, &err), 0);
    enum gd_request req;
    assert_int_equal(gd_store_run_requested(f->st, id, &req, &err), 0);
    assert_int_equal(req, GD_REQ_NONE);

    struct gd_act_result res;
    assert_int_equal(gd_store_run_act(b, id, GD_ACT_PAUSE, &res, &err), 0);
    assert_true(res.requested);
    assert_int_equal(res.before, GD_RUNNING);
    assert_int_equal(res.after, GD_RUNNING);
    assert_string_equal(res.worker, "owner");
    assert_int_equal(gd_store_run_requested(f->st, id, &req, &err), 0);
    assert_int_equal(req, GD_REQ_PAUSE);
    /* a running run cannot be deleted or resumed */
    assert_int_equal(gd_store_run_act(b, id, GD_ACT_DELETE, &res, &err), GC_ESTATE);
    assert_non_null(strstr(err.msg, "running"));
    assert_int_equal(gd_store_run_act(b, id, GD_ACT_RESUME, &res, &err), GC_ESTATE);
    /* a cancel after the pause replaces it; a pause after a cancel does not */
    assert_int_equal(gd_store_run_act(b, id, GD_ACT_CANCEL, &res, &err), 0);
    assert_int_equal(gd_store_run_act(b, id, GD_ACT_PAUSE, &res, &err), 0);
    assert_int_equal(gd_store_run_requested(f->st, id, &req, &err), 0);
    assert_int_equal(req, GD_REQ_CANCEL);
    /* the owner stops as paused (it saw the pause first): the cancel wins */
    assert_int_equal(gd_store_run_set_status(f->st, id, GD_PAUSED, NULL, &err), 0);
    struct gd_run r = get(b, id);
    assert_int_equal(r.status, GD_CANCELED);
    assert_true(r.finished_at[0] != '\0');
    assert_string_equal(r.worker, "");
    gd_run_fini(&r);

    /* queued and paused runs change at once */
    int64_t q = new_run(f->st, "q");
    assert_int_equal(gd_store_run_act(b, q, GD_ACT_PAUSE, &res, &err), 0);
    assert_false(res.requested);
    assert_int_equal(res.after, GD_PAUSED);
    assert_int_equal(gd_store_run_act(b, q, GD_ACT_PAUSE, &res, &err), GC_ESTATE);
    assert_int_equal(gd_store_run_act(b, q, GD_ACT_RESUME, &res, &err), 0);
    assert_int_equal(res.after, GD_QUEUED);
    assert_int_equal(gd_store_run_act(b, q, GD_ACT_CANCEL, &res, &err), 0);
    assert_int_equal(res.after, GD_CANCELED);
    assert_int_equal(gd_store_run_act(b, q, GD_ACT_CANCEL, &res, &err), GC_ESTATE);
    assert_int_equal(gd_store_run_act(b, q, GD_ACT_DELETE, &res, &err), 0);
    assert_int_equal(gd_store_run_act(b, q, GD_ACT_DELETE, &res, &err), GC_ENOTFOUND);

    /* a shutdown's QUEUED becomes paused when a pause was asked meanwhile */
    int64_t s = new_run(f->st, "s");
    assert_int_equal(gd_store_run_claim(f->st, &me, s, &got, NULL, 0, &err), 0);
    assert_int_equal(gd_store_run_act(b, s, GD_ACT_PAUSE, &res, &err), 0);
    assert_int_equal(gd_store_run_set_status(f->st, s, GD_QUEUED, NULL, &err), 0);
    r = get(b, s);
    assert_int_equal(r.status, GD_PAUSED);
    assert_string_equal(r.worker, "");
    gd_run_fini(&r);
    gd_store_close(b);
}

/* A sweep's early stopping cancels runs for a reason, through any daemon: a queued run
 * gets it as its error at once, a running one keeps it with the cancel request until
 * its owner stops, and a paused run is canceled with it. */
static void a_stop_keeps_its_reason(void **state)
{
    struct fx_store *f = *state;
    struct gc_error err = {0};
    struct gd_store *b = fx_store_another(f);
    struct gd_worker_self me = worker("owner", 30);
    const char *why = "sweep 1: stopped by successive halving at step 50";
    struct gd_act_result res;

    int64_t q = new_run(f->st, "q"), got;
    assert_int_equal(gd_store_run_stop(b, q, why, &res, &err), 0);
    assert_int_equal(res.after, GD_CANCELED);
    struct gd_run r = get(f->st, q);
    assert_int_equal(r.status, GD_CANCELED);
    assert_string_equal(r.error, why);
    gd_run_fini(&r);
    /* an ended run cannot be stopped again */
    assert_int_equal(gd_store_run_stop(b, q, why, &res, &err), GC_ESTATE);

    int64_t id = new_run(f->st, "running");
    assert_int_equal(gd_store_run_claim(f->st, &me, id, &got, NULL, 0, &err), 0);
    assert_int_equal(gd_store_run_stop(b, id, why, &res, &err), 0);
    assert_true(res.requested);
    enum gd_request req;
    assert_int_equal(gd_store_run_requested(f->st, id, &req, &err), 0);
    assert_int_equal(req, GD_REQ_CANCEL);
    /* the owner stops without a message of its own (it heard a cancel): the reason
     * stays */
    assert_int_equal(gd_store_run_set_status(f->st, id, GD_CANCELED, NULL, &err), 0);
    r = get(b, id);
    assert_int_equal(r.status, GD_CANCELED);
    assert_string_equal(r.error, why);
    gd_run_fini(&r);

    /* a user's plain cancel of a running run leaves no error */
    int64_t u = new_run(f->st, "user");
    assert_int_equal(gd_store_run_claim(f->st, &me, u, &got, NULL, 0, &err), 0);
    assert_int_equal(gd_store_run_act(b, u, GD_ACT_CANCEL, &res, &err), 0);
    assert_int_equal(gd_store_run_set_status(f->st, u, GD_CANCELED, NULL, &err), 0);
    r = get(b, u);
    assert_int_equal(r.status, GD_CANCELED);
    assert_null(r.error);
    gd_run_fini(&r);

    int64_t p = new_run(f->st, "paused");
    assert_int_equal(gd_store_run_act(b, p, GD_ACT_PAUSE, &res, &err), 0);
    assert_int_equal(gd_store_run_stop(b, p, why, &res, &err), 0);
    r = get(f->st, p);
    assert_int_equal(r.status, GD_CANCELED);
    assert_string_equal(r.error, why);
    gd_run_fini(&r);
    gd_store_close(b);
}

static void restart_queues_its_previous_runs(void **state)
{
    struct fx_store *f = *state;
    struct gc_error err = {0};
    struct gd_worker_self me = worker("me", 30), other = worker("other", 30);
    int64_t a = new_run(f->st, "a"), b = new_run(f->st, "b"), c = new_run(f->st, "c"), got;
    assert_int_equal(gd_store_run_claim(f->st, &me, a, &got, NULL, 0, &err), 0);
    assert_int_equal(gd_store_run_claim(f->st, &other, b, &got, NULL, 0, &err), 0);
    assert_int_equal(gd_store_run_claim(f->st, &me, c, &got, NULL, 0, &err), 0);
    struct gd_act_result res;
    assert_int_equal(gd_store_run_act(f->st, c, GD_ACT_CANCEL, &res, &err), 0);
    int64_t *ids;
    int n;
    assert_int_equal(gd_store_run_recover(f->st, &me, &ids, &n, &err), 0);
    struct gd_run ra = get(f->st, a), rb = get(f->st, b), rc = get(f->st, c);
    assert_int_equal(ra.status, GD_QUEUED);
    assert_string_equal(ra.worker, "");
    assert_int_equal(rc.status, GD_CANCELED); /* the cancel asked before the crash */
    if (f->pg) {
        /* another daemon's run is left to its lease */
        assert_int_equal(n, 2);
        assert_int_equal(rb.status, GD_RUNNING);
        assert_string_equal(rb.worker, "other");
    } else {
        /* the file has one daemon: every run left running was its */
        assert_int_equal(n, 3);
        assert_int_equal(rb.status, GD_QUEUED);
    }
    assert_int_equal(ids[0], a);
    free(ids);
    gd_run_fini(&ra);
    gd_run_fini(&rb);
    gd_run_fini(&rc);
}

/* ---- workers --------------------------------------------------------------------------- */

static void workers_beat_list_and_leave(void **state)
{
    struct fx_store *f = *state;
    struct gc_error err = {0};
    struct gd_worker_self a = worker("host-a:8080", 1), b = worker("host-b:8080", 30);
    b.workers = 3;
    b.threads = 12;
    assert_int_equal(gd_store_worker_beat(f->st, &a, &err), 0);
    assert_int_equal(gd_store_worker_beat(f->st, &b, &err), 0);
    int64_t r1 = new_run(f->st, "1"), r2 = new_run(f->st, "2"), got;
    assert_int_equal(gd_store_run_claim(f->st, &b, 0, &got, NULL, 0, &err), 0);
    assert_int_equal(gd_store_run_claim(f->st, &b, 0, &got, NULL, 0, &err), 0);
    struct gd_worker_info *w;
    int n;
    assert_int_equal(gd_store_worker_list(f->st, &w, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(w[0].name, "host-a:8080");
    assert_true(w[0].alive);
    assert_int_equal(w[0].nrunning, 0);
    assert_string_equal(w[1].name, "host-b:8080");
    assert_int_equal(w[1].workers, 3);
    assert_int_equal(w[1].threads, 12);
    assert_int_equal(w[1].lease_s, 30);
    assert_int_equal(w[1].nrunning, 2);
    assert_int_equal(w[1].running[0], r1);
    assert_int_equal(w[1].running[1], r2);
    assert_true(w[1].heartbeat_at[0] && w[1].started_at[0]);
    free(w);
    /* a misses its heartbeats for longer than its lease */
    sleep(2);
    assert_int_equal(gd_store_worker_list(f->st, &w, &n, &err), 0);
    assert_false(w[0].alive);
    assert_true(w[1].alive);
    free(w);
    assert_int_equal(gd_store_worker_leave(f->st, &b, &err), 0);
    assert_int_equal(gd_store_worker_list(f->st, &w, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(w[0].name, "host-a:8080");
    free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(racing_claims_none_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(lease_runs_out_and_another_takes_over, setup, teardown),
        cmocka_unit_test_setup_teardown(inserted_claimed_is_not_claimable, setup, teardown),
        cmocka_unit_test_setup_teardown(verbs_reach_the_owner_and_a_cancel_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(a_stop_keeps_its_reason, setup, teardown),
        cmocka_unit_test_setup_teardown(restart_queues_its_previous_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(workers_beat_list_and_leave, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
