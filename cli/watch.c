/* watch.c — following a run's event stream (see watch.h).
 *
 * DESIGN: one thread. libcurl drives the stream and calls back with bytes (fed to the
 * SSE parser, whose events update the run's state and the output) and about once a
 * second with a tick (redraws the bar, notices signals, and polls the run over a
 * second connection when the stream has been quiet, so a run that ended while no
 * event could reach us is still noticed). The payload of each event is read
 * leniently: whatever of status, step, steps and metric values it carries is taken,
 * and a status event without a status makes us read the run object instead. */
#include "cli/watch.h"

#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli/problem.h"
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
    int64_t step, steps;
    double loss_d, loss_g;
    int have_loss_d, have_loss_g;
    double rate; /* steps per second, smoothed */
    double anchor_t;
    int64_t anchor_step;
    int anchored;
    double last_event_t, last_poll_t, last_draw_t;
    int bar_visible;
    int reconnecting; /* between a drop and the next connection */
    int outage;       /* "connection lost" was said and no event has come since */
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

static int term_width(void)
{
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
        return ws.ws_col;
    return 80;
}

static void fmt_duration(double s, char *out, size_t cap)
{
    long t = s < 0 ? 0 : (long)(s + 0.5);
    if (t >= 3600)
        snprintf(out, cap, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(out, cap, "%ld:%02ld", t / 60, t % 60);
}

static void clear_bar(struct watch *w)
{
    if (w->bar_visible) {
        fputs("\r\033[K", stderr);
        w->bar_visible = 0;
    }
}

/* Appends to a fixed buffer, truncating. */
static void add(char *buf, size_t cap, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void add(char *buf, size_t cap, size_t *n, const char *fmt, ...)
{
    va_list ap;
    if (*n >= cap - 1)
        return;
    va_start(ap, fmt);
    int k = vsnprintf(buf + *n, cap - *n, fmt, ap);
    va_end(ap);
    if (k > 0)
        *n = *n + (size_t)k < cap - 1 ? *n + (size_t)k : cap - 1;
}

/* run 3 [#######.....] 500/1500 33%  360/s  ETA 0:03  loss_d 1.352  loss_g 0.7262
 * The bar takes what room the figures leave on the terminal line. */
static void draw_bar(struct watch *w)
{
    char head[64], tail[256], part[32];
    size_t nh = 0, nt = 0;
    int width = term_width();

    add(head, sizeof head, &nh, "run %lld", (long long)w->o->run);
    if (w->reconnecting)
        add(head, sizeof head, &nh, " reconnecting");
    else if (strcmp(w->status, "running") != 0)
        add(head, sizeof head, &nh, " %s", w->status);
    double frac = 0;
    if (w->steps > 0) {
        frac = (double)w->step / (double)w->steps;
        frac = frac > 1 ? 1 : frac;
        add(tail, sizeof tail, &nt, " %lld/%lld %d%%", (long long)w->step, (long long)w->steps,
            (int)(frac * 100));
    } else {
        add(tail, sizeof tail, &nt, " step %lld", (long long)w->step);
    }
    if (w->rate > 0 && strcmp(w->status, "running") == 0 && !w->reconnecting) {
        add(tail, sizeof tail, &nt, "  %.0f steps/s", w->rate);
        if (w->steps > w->step) {
            fmt_duration((double)(w->steps - w->step) / w->rate, part, sizeof part);
            add(tail, sizeof tail, &nt, "  ETA %s", part);
        }
    }
    if (w->have_loss_d)
        add(tail, sizeof tail, &nt, "  loss_d %.4g", w->loss_d);
    if (w->have_loss_g)
        add(tail, sizeof tail, &nt, "  loss_g %.4g", w->loss_g);

    char line[512];
    size_t n = 0;
    /* Sized for the longest usual figures, not the current ones, so it does not jump. */
    int cells = width - 1 - (int)nh - 3 - 62;
    cells = cells > 30 ? 30 : cells < 8 ? 8 : cells;
    add(line, sizeof line, &n, "%s", head);
    if (w->steps > 0 && cells >= 8) {
        int full = (int)(frac * cells);
        add(line, sizeof line, &n, " [");
        for (int i = 0; i < cells; i++)
            add(line, sizeof line, &n, "%c", i < full ? '#' : '.');
        add(line, sizeof line, &n, "]");
    }
    add(line, sizeof line, &n, "%s", tail);
    if ((int)n > width - 1)
        line[width - 1] = '\0';
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
    w->step = step;
    if (!w->anchored || step < w->anchor_step) {
        w->anchored = 1;
        w->anchor_t = t;
        w->anchor_step = step;
    } else if (t - w->anchor_t >= 1.0) {
        double inst = (double)(step - w->anchor_step) / (t - w->anchor_t);
        w->rate = w->rate > 0 ? 0.7 * w->rate + 0.3 * inst : inst;
        w->anchor_t = t;
        w->anchor_step = step;
    }
}

static void take_losses(struct watch *w, json_t *m)
{
    json_t *v;
    if ((v = json_object_get(m, "loss_d")) && json_is_number(v)) {
        w->loss_d = json_number_value(v);
        w->have_loss_d = 1;
    }
    if ((v = json_object_get(m, "loss_g")) && json_is_number(v)) {
        w->loss_g = json_number_value(v);
        w->have_loss_g = 1;
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
        w->steps = json_integer_value(v);
    else if ((v = json_object_get(json_object_get(json_object_get(run, "spec"), "train"),
                                  "steps")) &&
             json_is_integer(v))
        w->steps = json_integer_value(v);
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

static void print_numbers(struct watch *w, const char *what, json_t *obj)
{
    char line[512];
    size_t n = 0;
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        if (json_is_number(v) && n < sizeof line) {
            int k = snprintf(line + n, sizeof line - n, " %s %.4g", key, json_number_value(v));
            if (k > 0)
                n += (size_t)k;
        }
    }
    line[n < sizeof line ? n : sizeof line - 1] = '\0';
    say(w, "%s at step %lld:%s", what, (long long)w->step, line);
}

static void print_event_json(const struct ctl_sse_event *ev, json_t *data)
{
    json_t *o = json_object();
    long long id = atoll(ev->id);
    json_object_set_new(o, "id", *ev->id ? json_integer(id) : json_null());
    json_object_set_new(o, "event", json_string(ev->type));
    json_object_set(o, "data", data ? data : json_null());
    if (!data)
        json_object_set_new(o, "data", json_string(ev->data));
    char *s = json_dumps(o, JSON_COMPACT);
    if (s) {
        fputs(s, stdout);
        fputc('\n', stdout);
        fflush(stdout);
    }
    free(s);
    json_decref(o);
}

static int on_event(void *user, const struct ctl_sse_event *ev)
{
    struct watch *w = user;
    w->last_event_t = now_s();
    json_t *d = json_loads(ev->data, JSON_DECODE_ANY, NULL);

    /* The per-run stream carries only this run, but be safe with a shared one. */
    json_t *run = json_object_get(d, "run");
    if (!run)
        run = json_object_get(d, "run_id");
    if (json_is_integer(run) && json_integer_value(run) != w->o->run) {
        json_decref(d);
        return 0;
    }
    if (w->o->json)
        print_event_json(ev, d);

    json_t *v;
    if ((v = json_object_get(d, "steps")) && json_is_integer(v))
        w->steps = json_integer_value(v);
    if ((v = json_object_get(d, "step")) && json_is_integer(v))
        set_step(w, json_integer_value(v));
    json_t *m = json_object_get(d, "metrics");
    if (!json_is_object(m))
        m = json_object_get(d, "latest");
    if (!json_is_object(m))
        m = json_object_get(d, "values");
    if (!json_is_object(m))
        m = d;
    take_losses(w, m);
    const char *name = json_string_value(json_object_get(d, "name"));
    if (name && (v = json_object_get(d, "value")) && json_is_number(v)) {
        json_t *one = json_pack("{sO}", name, v);
        take_losses(w, one);
        json_decref(one);
    }
    const char *status = json_string_value(json_object_get(d, "status"));
    if (json_object_get(d, "spec"))
        apply_run(w, d); /* the payload is a whole run object */

    const char *type = ev->type;
    if (strcmp(type, "status") == 0) {
        if (status && is_status(status))
            set_status(w, status);
        else
            poll_run(w);
    } else if (strcmp(type, "metrics") == 0) {
        if (!w->o->json && !w->o->fancy) {
            char extra[128] = "";
            size_t k = 0;
            if (w->have_loss_d)
                k += (size_t)snprintf(extra + k, sizeof extra - k, " loss_d %.4g", w->loss_d);
            if (w->have_loss_g && k < sizeof extra)
                snprintf(extra + k, sizeof extra - k, " loss_g %.4g", w->loss_g);
            if (w->steps > 0)
                say(w, "step %lld/%lld%s", (long long)w->step, (long long)w->steps, extra);
            else
                say(w, "step %lld%s", (long long)w->step, extra);
        }
    } else if (!w->o->json) {
        if (strcmp(type, "eval") == 0) {
            json_t *e = json_object_get(d, "eval");
            print_numbers(w, "eval", json_is_object(e) ? e : m);
        } else if (!w->o->fancy) {
            say(w, "%s at step %lld", type, (long long)w->step);
        }
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
        w->reconnecting = 0;
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
                *what ? " (" : "", what, *what ? ")" : "", (long long)w->step);
        return 0;
    }
    fprintf(stderr, "run %lld%s%s%s %s at step %lld%s%s\n", (long long)w->o->run, *what ? " (" : "",
            what, *what ? ")" : "", w->status, (long long)w->step, w->error[0] ? ": " : "",
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
            say(w, "%s at step %lld/%lld", w->status, (long long)w->step, (long long)w->steps);
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
        w->reconnecting = 1;
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
        w->reconnecting = 0;
    }
}

int ctl_watch(struct ctl_client *c, const struct ctl_watch_opts *opts, struct ctl_error *err)
{
    struct watch w = {.o = opts, .c = c};
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
