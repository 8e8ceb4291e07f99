/* watch.c — following a run's event stream (see watch.h).
 *
 * DESIGN: one thread. libcurl drives the stream and calls back with bytes (fed to the
 * SSE parser, whose events update the run's state and the output) and about once a
 * second with a tick (redraws the bar, notices signals, and polls the run over a
 * second connection when the stream has been quiet, so a run that ended while no
 * event could reach us is still noticed). Each event's payload is read for whatever of
 * step, status and losses it carries, and a status event without a status makes us
 * read the run object instead. The progress line is laid out by progress.c. */
#include "cli/watch.h"

#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/buf.h"
#include "cli/problem.h"
#include "cli/progress.h"
#include "cli/sse.h"

#define IDLE_TIMEOUT_S 45 /* three missed 15 s heartbeats: the connection is dead */
#define QUIET_POLL_S 5.0  /* poll the run after this long without events */
#define BACKOFF_MIN_S 0.25
#define BACKOFF_MAX_S 3.0

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

struct watch {
    const struct ctl_watch_opts *o;
    struct ctl_client *c;
    struct ctl_client *poller; /* second connection, usable while c streams */
    struct ctl_sse *sse;
    char name[128];
    char status[16];
    char error[256];
    struct ctl_progress fig; /* what the bar shows; fig.status points to status */
    double anchor_t;
    int64_t anchor_step;
    int anchored;
    double last_event_t, last_poll_t, last_draw_t;
    int bar_visible;
    int outage; /* "connection lost" was said and no event has come since */
    char conn_err[256];
    int done;  /* the run reached a terminal status */
    int fatal; /* a CTL_E* code that ends the watch */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int is_terminal(const char *status)
{
    return strcmp(status, "succeeded") == 0 || strcmp(status, "failed") == 0 ||
           strcmp(status, "canceled") == 0;
}

static int is_status(const char *s)
{
    static const char *const known[] = {"queued",    "running", "paused",
                                        "succeeded", "failed",  "canceled"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (strcmp(s, known[i]) == 0)
            return 1;
    }
    return 0;
}

static void clear_bar(struct watch *w)
{
    if (w->bar_visible) {
        fputs("\r\033[K", stderr);
        w->bar_visible = 0;
    }
}

static void draw_bar(struct watch *w)
{
    char line[512];
    ctl_progress_line(&w->fig, ctl_term_width(STDERR_FILENO), line, sizeof line);
    fprintf(stderr, "\r%s\033[K", line);
    fflush(stderr);
    w->bar_visible = 1;
    w->last_draw_t = now_s();
}

/* A message line: above the bar on a terminal, on its own otherwise. */
static void say(struct watch *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct watch *w, const char *fmt, ...)
{
    va_list ap;
    clear_bar(w);
    fprintf(stderr, "run %lld: ", (long long)w->o->run);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (w->o->fancy && !w->done)
        draw_bar(w);
    fflush(stderr);
}

static void set_status(struct watch *w, const char *status)
{
    if (!status || !is_status(status) || strcmp(w->status, status) == 0)
        return;
    snprintf(w->status, sizeof w->status, "%s", status);
    if (is_terminal(status))
        w->done = 1;
    if (!w->o->json && !w->done)
        say(w, "%s", status);
}

static void set_step(struct watch *w, int64_t step)
{
    double t = now_s();
    w->fig.step = step;
    if (!w->anchored || step < w->anchor_step) {
        w->anchored = 1;
        w->anchor_t = t;
        w->anchor_step = step;
    } else if (t - w->anchor_t >= 1.0) {
        double inst = (double)(step - w->anchor_step) / (t - w->anchor_t);
        w->fig.rate = w->fig.rate > 0 ? 0.7 * w->fig.rate + 0.3 * inst : inst;
        w->anchor_t = t;
        w->anchor_step = step;
    }
}

static void take_losses(struct watch *w, json_t *m)
{
    json_t *v;
    if ((v = json_object_get(m, "loss_d")) && json_is_number(v)) {
        w->fig.loss_d = json_number_value(v);
        w->fig.have_loss_d = 1;
    }
    if ((v = json_object_get(m, "loss_g")) && json_is_number(v)) {
        w->fig.loss_g = json_number_value(v);
        w->fig.have_loss_g = 1;
    }
}

/* Takes what a run object says (from GET or an event carrying one). */
static void apply_run(struct watch *w, json_t *run)
{
    json_t *v;
    const char *s;
    if ((s = json_string_value(json_object_get(run, "name"))))
        snprintf(w->name, sizeof w->name, "%s", s);
    if ((s = json_string_value(json_object_get(run, "error"))))
        snprintf(w->error, sizeof w->error, "%s", s);
    if ((v = json_object_get(run, "steps")) && json_is_integer(v))
        w->fig.steps = json_integer_value(v);
    else if ((v = json_object_get(json_object_get(json_object_get(run, "spec"), "train"),
                                  "steps")) &&
             json_is_integer(v))
        w->fig.steps = json_integer_value(v);
    if ((v = json_object_get(run, "step")) && json_is_integer(v))
        set_step(w, json_integer_value(v));
    take_losses(w, json_object_get(run, "latest"));
    set_status(w, json_string_value(json_object_get(run, "status")));
}

/* Reads the run over the second connection. Returns 0 when it answered, 1 when the
 * daemon could not be reached; sets w->fatal for a 404 or 401. */
static int poll_run(struct watch *w)
{
    struct ctl_error e = {0};
    struct ctl_response r;
    char path[64];
    w->last_poll_t = now_s();
    if (!w->poller) {
        w->poller = ctl_client_create(ctl_client_addr(w->c), w->o->token, &e);
        if (!w->poller) {
            w->fatal = e.code;
            return 0;
        }
    }
    snprintf(path, sizeof path, "/api/v1/runs/%lld", (long long)w->o->run);
    int rc = ctl_client_request(w->poller, "GET", path, NULL, &r, &e);
    if (rc == CTL_ECONNECT) {
        snprintf(w->conn_err, sizeof w->conn_err, "%s", e.msg);
        return 1;
    }
    if (rc != 0) {
        w->fatal = rc;
        return 0;
    }
    if (r.status == 200) {
        json_t *j = json_loadb(r.body, r.len, 0, NULL);
        apply_run(w, j);
        json_decref(j);
    } else if (r.status >= 400 && r.status < 500) {
        clear_bar(w);
        w->fatal = ctl_problem_report(&r);
    }
    ctl_response_fini(&r);
    return 0;
}

/* "eval at step 40: modes_covered 8 high_quality 0.91" */
static void say_figures(struct watch *w, const char *what, json_t *obj)
{
    char line[512] = "";
    size_t n = 0;
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        if (json_is_number(v))
            ctl_appendf(line, sizeof line, &n, " %s %.4g", key, json_number_value(v));
    }
    say(w, "%s at step %lld:%s", what, (long long)w->fig.step, line);
}

/* "step 500/1500 loss_d 1.352 loss_g 0.7262", without a bar to show it. */
static void say_step(struct watch *w)
{
    char line[160] = "";
    size_t n = 0;
    ctl_appendf(line, sizeof line, &n, "step %lld", (long long)w->fig.step);
    if (w->fig.steps > 0)
        ctl_appendf(line, sizeof line, &n, "/%lld", (long long)w->fig.steps);
    if (w->fig.have_loss_d)
        ctl_appendf(line, sizeof line, &n, " loss_d %.4g", w->fig.loss_d);
    if (w->fig.have_loss_g)
        ctl_appendf(line, sizeof line, &n, " loss_g %.4g", w->fig.loss_g);
    say(w, "%s", line);
}

/* {"id":N,"event":TYPE,"data":PAYLOAD} on one line; data that is not JSON goes as a
 * string. */
static void print_event_json(const struct ctl_sse_event *ev, json_t *data)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", *ev->id ? json_integer(atoll(ev->id)) : json_null());
    json_object_set_new(o, "event", json_string(ev->type));
    json_object_set_new(o, "data", data ? json_incref(data) : json_string(ev->data));
    char *s = json_dumps(o, JSON_COMPACT);
    if (s) {
        fputs(s, stdout);
        fputc('\n', stdout);
        fflush(stdout);
    }
    free(s);
    json_decref(o);
}

/* The payloads (docs/api.md): a status event carries the run object, metrics and eval
 * events {run, step, metrics|eval}, the others {run, step, ...}. */
static int on_event(void *user, const struct ctl_sse_event *ev)
{
    struct watch *w = user;
    w->last_event_t = now_s();
    json_t *d = json_loads(ev->data, JSON_DECODE_ANY, NULL);

    /* The per-run stream carries only this run, but be safe with a shared one. */
    json_t *run = json_object_get(d, "run");
    if (json_is_integer(run) && json_integer_value(run) != w->o->run) {
        json_decref(d);
        return 0;
    }
    if (w->o->json)
        print_event_json(ev, d);

    json_t *v;
    if ((v = json_object_get(d, "step")) && json_is_integer(v))
        set_step(w, json_integer_value(v));
    take_losses(w, json_object_get(d, "metrics"));
    if (json_object_get(d, "spec"))
        apply_run(w, d);

    const char *type = ev->type;
    if (strcmp(type, "status") == 0) {
        /* Without a status the event still says something changed: read the run. */
        const char *status = json_string_value(json_object_get(d, "status"));
        if (status && is_status(status))
            set_status(w, status);
        else
            poll_run(w);
    } else if (strcmp(type, "metrics") == 0) {
        if (!w->o->json && !w->o->fancy)
            say_step(w);
    } else if (!w->o->json) {
        if (strcmp(type, "eval") == 0)
            say_figures(w, "eval", json_object_get(d, "eval"));
        else if (!w->o->fancy)
            say(w, "%s at step %lld", type, (long long)w->fig.step);
    }
    if (w->o->fancy && !w->o->json && !w->done)
        draw_bar(w);
    json_decref(d);
    return w->done || w->fatal || interrupted;
}

static int on_data(void *user, const char *data, size_t len)
{
    struct watch *w = user;
    if (w->outage) {
        w->outage = 0;
        w->fig.reconnecting = 0;
        if (!w->o->json)
            say(w, "reconnected");
    }
    int rc = ctl_sse_feed(w->sse, data, len);
    if (rc < 0 && !w->fatal) {
        w->fatal = rc;
        clear_bar(w);
        ctl_warn("run %lld: the event stream is malformed", (long long)w->o->run);
    }
    return rc != 0;
}

static int on_tick(void *user)
{
    struct watch *w = user;
    double t = now_s();
    if (interrupted)
        return 1;
    double quiet_since = w->last_event_t > w->last_poll_t ? w->last_event_t : w->last_poll_t;
    if (t - quiet_since >= QUIET_POLL_S)
        poll_run(w);
    if (w->o->fancy && !w->o->json && !w->done && t - w->last_draw_t >= 0.5)
        draw_bar(w);
    return w->done || w->fatal;
}

/* Sleeps s seconds unless a signal comes. */
static void pause_for(double s)
{
    double end = now_s() + s;
    while (!interrupted && now_s() < end) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static int finish(struct watch *w)
{
    if (strcmp(w->status, "succeeded") != 0 && !w->error[0])
        poll_run(w); /* the event said how it ended, the run object says why */
    clear_bar(w);
    const char *what = w->name[0] ? w->name : "";
    if (strcmp(w->status, "succeeded") == 0) {
        fprintf(stderr, "run %lld%s%s%s succeeded at step %lld\n", (long long)w->o->run,
                *what ? " (" : "", what, *what ? ")" : "", (long long)w->fig.step);
        return 0;
    }
    fprintf(stderr, "run %lld%s%s%s %s at step %lld%s%s\n", (long long)w->o->run, *what ? " (" : "",
            what, *what ? ")" : "", w->status, (long long)w->fig.step, w->error[0] ? ": " : "",
            w->error);
    return CTL_ERUNFAILED;
}

static int watch_loop(struct watch *w, struct ctl_error *err)
{
    char path[96];
    struct ctl_response r;
    struct ctl_error e = {0};
    double backoff = BACKOFF_MIN_S;
    double unreachable_since = 0;

    /* The run first: its steps for the bar, and nothing to follow if it is over. */
    snprintf(path, sizeof path, "/api/v1/runs/%lld", (long long)w->o->run);
    int rc = ctl_client_request(w->c, "GET", path, NULL, &r, err);
    if (rc)
        return rc;
    if (r.status != 200) {
        rc = ctl_problem_report(&r);
        ctl_response_fini(&r);
        return rc;
    }
    json_t *j = json_loadb(r.body, r.len, 0, NULL);
    ctl_response_fini(&r);
    if (!json_is_object(j)) {
        json_decref(j);
        return ctl_error_set(err, CTL_EFAIL, "the daemon sent a run that is not JSON");
    }
    const char *first = json_string_value(json_object_get(j, "status"));
    snprintf(w->status, sizeof w->status, "%s", first ? first : "queued");
    apply_run(w, j);
    json_decref(j);
    w->done = is_terminal(w->status);
    if (w->done)
        return finish(w);
    if (!w->o->json) {
        if (w->o->fancy)
            draw_bar(w);
        else
            say(w, "%s at step %lld/%lld", w->status, (long long)w->fig.step,
                (long long)w->fig.steps);
    }
    w->last_poll_t = w->last_event_t = now_s();

    snprintf(path, sizeof path, "/api/v1/runs/%lld/events", (long long)w->o->run);
    struct ctl_stream_ops ops = {.on_data = on_data, .on_tick = on_tick, .user = w};
    for (;;) {
        ctl_sse_reset(w->sse);
        long lines_before = ctl_sse_lines(w->sse);
        const char *last_id = ctl_sse_last_id(w->sse);
        rc = ctl_client_stream(w->c, path, last_id, IDLE_TIMEOUT_S, &ops, &r, &e);
        int got_lines = ctl_sse_lines(w->sse) > lines_before;
        long status = r.status;
        if (rc == 0 && status != 200 && status >= 400 && status < 500) {
            clear_bar(w);
            rc = ctl_problem_report(&r);
            ctl_response_fini(&r);
            return rc;
        }
        ctl_response_fini(&r);
        if (interrupted)
            return CTL_EINTR;
        if (w->fatal)
            return w->fatal;
        if (w->done)
            return finish(w);
        if (rc == CTL_ENOMEM)
            return ctl_error_set(err, rc, "out of memory");

        /* Dropped, ended by the daemon, or a 5xx: see whether the run ended meanwhile. */
        int unreachable = rc == CTL_ECONNECT && !got_lines;
        if (got_lines || (rc == 0 && status == 200)) {
            backoff = BACKOFF_MIN_S;
            w->outage = 0;
        }
        if (rc == CTL_ECONNECT)
            snprintf(w->conn_err, sizeof w->conn_err, "%s", e.msg);
        if (poll_run(w))
            unreachable = 1;
        if (w->fatal)
            return w->fatal;
        if (w->done)
            return finish(w);
        if (interrupted)
            return CTL_EINTR;
        if (unreachable) {
            double t = now_s();
            if (unreachable_since == 0)
                unreachable_since = t;
            if (w->o->retry_for_s > 0 && t - unreachable_since > w->o->retry_for_s) {
                clear_bar(w);
                return ctl_error_set(err, CTL_ECONNECT, "%s (gave up after %d s)", w->conn_err,
                                     w->o->retry_for_s);
            }
        } else {
            unreachable_since = 0;
        }
        w->fig.reconnecting = 1;
        if (!w->outage) {
            w->outage = 1;
            if (!w->o->json)
                say(w, "connection lost, reconnecting%s%s", unreachable ? ": " : "",
                    unreachable ? w->conn_err : "");
        }
        double wait = backoff;
        long hint = ctl_sse_retry_ms(w->sse);
        if (hint > 0 && hint / 1000.0 > wait)
            wait = hint / 1000.0 < BACKOFF_MAX_S ? hint / 1000.0 : BACKOFF_MAX_S;
        pause_for(wait);
        if (interrupted)
            return CTL_EINTR;
        backoff = backoff * 2 < BACKOFF_MAX_S ? backoff * 2 : BACKOFF_MAX_S;
        w->fig.reconnecting = 0;
    }
}

int ctl_watch(struct ctl_client *c, const struct ctl_watch_opts *opts, struct ctl_error *err)
{
    struct watch w = {.o = opts, .c = c};
    w.fig.run = opts->run;
    w.fig.status = w.status;
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    interrupted = 0;
    w.sse = ctl_sse_create(on_event, &w);
    if (!w.sse)
        return ctl_error_set(err, CTL_ENOMEM, "out of memory");
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    int rc = watch_loop(&w, err);

    if (rc == CTL_EINTR) {
        clear_bar(&w);
        ctl_error_set(err, CTL_EINTR, "interrupted");
    }
    clear_bar(&w);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    ctl_client_destroy(w.poller);
    ctl_sse_destroy(w.sse);
    return rc;
}
