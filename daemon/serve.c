/* serve.c — `ganctld`: the daemon, and the process plumbing `ganctld train` shares.
 *
 * Start: open (and migrate) the store, the event bus and the scheduler, start HTTP,
 * then the workers, tell systemd READY=1, then wait for SIGTERM/SIGINT while sending
 * STATUS= and WATCHDOG=1. Stop: STOPPING=1, end the event streams, stop HTTP, let every
 * running job finish its step and checkpoint (it goes back to queued), close the
 * store, exit 0.
 *
 * Signals: the handler only writes the signal number into a pipe (a self-pipe), and
 * the main loop (or, for train, a watcher thread) reads it and shuts down with
 * ordinary locks. Blocking the signals and using sigwait() is not enough here: a BLAS
 * library may start threads before main() with the signals unblocked (OpenBLAS's
 * pthread build does; gc_blas_init() ends those where it can), and the kernel would
 * deliver SIGTERM to one of them and kill the process.
 *
 * The daemon's own threads (HTTP, events, webhooks, workers, keeper, and the training
 * threads these start) hold SIGINT and SIGTERM: they are started while the main thread
 * holds them and inherit its mask. So the handler runs on the main thread, waiting in
 * poll(), or on an idle BLAS thread that was not ended, never on a thread busy in a
 * library call. That matters under ThreadSanitizer, which runs a handler at once only
 * on a thread inside a call it knows to block, and on any other thread when it next
 * enters one of its calls: a SIGTERM sent just as the daemon started was, about once
 * in 100 stops, never handled (a thread idle in libmicrohttpd's select() enters none).
 * ThreadSanitizer also makes a thread's signal state lazily, at the thread's first
 * blocking call (GCC 12's libtsan), and a signal that arrives on the thread while it
 * is being made is lost: armed in a state that the interrupted call then replaces. The
 * main thread's first blocking call was the poll() that waits for the stop, just after
 * the signals were let through, which is when a test (or systemd) that waits for
 * readiness sends SIGTERM: about one stop in 1000 under TSan never stopped.
 * gd_serve_signals() therefore polls the pipe once on the calling thread, before the
 * handler is installed. */
#include "daemon/serve.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "api/server.h"
#include "api/spec_json.h"
#include "core/error.h"
#include "daemon/log.h"

/* mkdir -p with mode 0700 for the parts it creates. */
static int make_dirs(const char *path)
{
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s", path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0700) && errno != EEXIST)
            return -1;
        *s = '/';
    }
    if (mkdir(p, 0700) && errno != EEXIST)
        return -1;
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode) ? 0 : -1;
}

static int is_loopback(const char *listen)
{
    return !strncmp(listen, "127.", 4) || !strncmp(listen, "localhost:", 10) ||
           !strncmp(listen, "[::1]:", 6);
}

/* The dataset root that relative paths of stored specs resolve inside; set once in
 * gd_serve_open() before any worker starts, read-only afterwards. */
static const char *stored_spec_root;

/* The scheduler reads stored specs with api/'s parser, inside the dataset root. */
static int parse_stored_spec(const char *json, struct gc_spec *out, struct gc_error *err)
{
    return ga_spec_parse_stored(json, stored_spec_root, out, err);
}

/* ---- the parts ---- */

void gd_serve_host_name(char *out, size_t cap)
{
    if (gethostname(out, cap) != 0 || !out[0])
        snprintf(out, cap, "localhost");
    out[cap - 1] = '\0';
}

int gd_serve_open(const struct gd_config *c, const char *name, int workers, struct gc_comm *comm,
                  struct gd_parts *p)
{
    struct gc_error err = {0};
    stored_spec_root = c->datasets;
    if (make_dirs(c->data)) {
        gd_log(GD_LOG_ERR, "data directory %s: %s", c->data, strerror(errno));
        return -1;
    }
    char db[PATH_MAX + 16];
    snprintf(db, sizeof(db), "%s/ganctl.db", c->data);
    const char *where = c->store[0] ? c->store : db;
    p->store = gd_store_open(where, &err);
    if (!p->store) {
        /* the message names the store by gd_store_where's rules: no password */
        gd_log(GD_LOG_ERR, "%s", err.msg);
        return -1;
    }
    gd_log(GD_LOG_INFO, "store %s (%s) at schema version %d", gd_store_where(p->store),
           gd_store_kind(p->store), gd_store_version(p->store));
    p->ev = gd_events_create(p->store, &err);
    if (!p->ev) {
        gd_log(GD_LOG_ERR, "%s", err.msg);
        return -1;
    }
    if (c->alert_webhook[0]) {
        p->webhook = gd_webhook_create(c->alert_webhook, gd_log_sched, NULL, &err);
        if (!p->webhook) {
            gd_log(GD_LOG_ERR, "%s", err.msg);
            return -1;
        }
    }
    struct gd_sched_opts so = {
        .name = name,
        .heartbeat_s = c->heartbeat,
        .lease_s = c->lease,
        .workers = workers,
        .threads = c->threads,
        .data_dir = c->data,
        .keep_checkpoints = c->keep_checkpoints,
        .parse_spec = parse_stored_spec,
        .spec_hash = ga_spec_hash,
        .webhook = p->webhook,
        .log = gd_log_sched,
        .log_ctx = NULL,
        .mpirun = c->mpirun,
        .datasets_dir = c->datasets,
        .store_uri = c->store,
        .rank_timeout = c->rank_timeout,
        .verbose = c->verbose,
        .comm = comm,
    };
    p->sched = gd_sched_create(p->store, p->ev, &so, &err);
    if (!p->sched) {
        gd_log(GD_LOG_ERR, "%s", err.msg);
        return -1;
    }
    return 0;
}

void gd_serve_close(struct gd_parts *p)
{
    gd_sched_destroy(p->sched);
    gd_webhook_destroy(p->webhook); /* after the workers that post to it */
    gd_events_destroy(p->ev);
    gd_store_close(p->store);
    memset(p, 0, sizeof(*p));
}

/* ---- signals ---- */

static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    int saved = errno;
    char c = (char)sig;
    ssize_t r = write(sig_pipe[1], &c, 1);
    (void)r; /* a full pipe already holds a pending stop */
    errno = saved;
}

/* Routes SIGINT and SIGTERM into sig_pipe (also when the shell started us with
 * SIGINT ignored, as it does for background jobs). */
int gd_serve_signals(void)
{
    if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK)) {
        gd_log(GD_LOG_ERR, "pipe: %s", strerror(errno));
        return -1;
    }
    /* the calling (main) thread, which the kernel hands the process's signals to first,
     * makes its first blocking call before a stop signal can reach it: ThreadSanitizer
     * drops one that arrives during it (see the top); elsewhere a poll that returns */
    struct pollfd pfd = {.fd = sig_pipe[0], .events = POLLIN};
    (void)poll(&pfd, 1, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

/* A byte on sig_pipe: the signal number, or 0 from gd_serve_signals_end(). */
int gd_serve_wait_signal(int timeout_ms)
{
    struct pollfd pfd = {.fd = sig_pipe[0], .events = POLLIN};
    if (poll(&pfd, 1, timeout_ms) <= 0)
        return 0;
    char c = 0;
    if (read(sig_pipe[0], &c, 1) != 1)
        return 0;
    return c ? (unsigned char)c : -1; /* -1: the byte 0 asks a watcher to end */
}

int gd_serve_signals_end(void)
{
    char zero = 0;
    return write(sig_pipe[1], &zero, 1) == 1 ? 0 : -1;
}

/* ---- the daemon ---- */

/* Holds SIGINT and SIGTERM on the calling thread (and so on every thread it starts);
 * *old gets the mask to restore. */
static void hold_stop_signals(sigset_t *old)
{
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, old);
}

static void notify_status(struct gd_sched *sched)
{
    struct gd_sched_stats st;
    gd_sched_stats(sched, &st);
    sd_notifyf(0, "STATUS=%d running, %d queued, %lld steps", st.running, st.queued,
               (long long)st.steps_trained);
}

/* Waits for SIGTERM or SIGINT, telling systemd the scheduler's figures every 5 s and
 * petting its watchdog when it has one. */
static void wait_for_stop(struct gd_sched *sched)
{
    uint64_t wd_usec = 0;
    int wd = sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec > 0;
    struct timespec last_status, last_wd, now;
    clock_gettime(CLOCK_MONOTONIC, &last_status);
    last_wd = last_status;
    for (;;) {
        int sig = gd_serve_wait_signal(500);
        if (sig == SIGINT || sig == SIGTERM) {
            gd_log(GD_LOG_INFO, "%s: shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
            return;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        double ds = (double)(now.tv_sec - last_status.tv_sec) +
                    (double)(now.tv_nsec - last_status.tv_nsec) * 1e-9;
        if (ds >= 5.0) {
            notify_status(sched);
            last_status = now;
        }
        if (wd) {
            double dw = (double)(now.tv_sec - last_wd.tv_sec) * 1e6 +
                        (double)(now.tv_nsec - last_wd.tv_nsec) * 1e-3;
            if (dw >= (double)wd_usec / 2) {
                sd_notify(0, "WATCHDOG=1");
                last_wd = now;
            }
        }
    }
}

int gd_serve_main(const struct gd_config *c)
{
    gd_log_set_verbose(c->verbose);
    if (!c->token && !is_loopback(c->listen))
        gd_log(GD_LOG_WARN,
               "listening on %s beyond loopback without a token: anyone who can "
               "reach it controls the daemon (use --token-file)",
               c->listen);

    struct gd_parts p = {0};
    struct ga_server *srv = NULL;
    struct gc_error err = {0};
    int rc = 1;
    /* this daemon's name among the store's workers: HOST:PORT unless --name; a port of 0
     * is known once HTTP listens, so the name is set then */
    char name[GD_NAME_MAX];
    snprintf(name, sizeof name, "%s", c->name);
    sigset_t mask;
    if (gd_serve_signals())
        goto out;
    hold_stop_signals(&mask); /* until every thread has started; see the top */
    if (gd_serve_open(c, name, c->workers, NULL, &p))
        goto out;
    if (make_dirs(c->datasets))
        gd_log(GD_LOG_WARN, "datasets directory %s: %s", c->datasets, strerror(errno));
    struct ga_server_opts so = {
        .listen = c->listen,
        .web_dir = c->web,
        .datasets_dir = c->datasets,
        .token = c->token,
        .max_connections = c->max_connections,
        .http_timeout_s = c->http_timeout,
    };
    srv = ga_server_start(&so, p.store, p.sched, p.ev, &err);
    if (!srv) {
        gd_log(GD_LOG_ERR, "%s", err.msg);
        goto out;
    }
    if (!name[0]) {
        gd_serve_host_name(name, sizeof name);
        size_t n = strlen(name);
        snprintf(name + n, sizeof name - n, ":%d", ga_server_port(srv));
        gd_sched_set_name(p.sched, name);
    }
    /* workers start once HTTP listens: a taken port must not start (and at once
     * interrupt) the queued runs */
    if (gd_sched_start(p.sched, &err)) {
        gd_log(GD_LOG_ERR, "cannot start the workers: %s", err.msg);
        goto out;
    }
    gd_log(GD_LOG_INFO,
           "ganctld %s listening on %s (port %d) as worker %s, data %s, %d worker(s), %d "
           "thread(s), web %s, auth %s, runs of several ranks %s%s",
           GD_VERSION, c->listen, ga_server_port(srv), gd_sched_self(p.sched)->name, c->data,
           c->workers, c->threads, c->web, c->token ? "on" : "off",
           c->mpirun[0] ? "through " : "refused (no --mpirun)", c->mpirun);
    pthread_sigmask(SIG_SETMASK, &mask, NULL); /* one sent meanwhile is handled now */
    sd_notify(0, "READY=1");
    notify_status(p.sched);
    wait_for_stop(p.sched);
    sd_notify(0, "STOPPING=1\nSTATUS=stopping: checkpointing running jobs");
    rc = 0;
out:
    /* end the event streams first so stopping the server never waits on them */
    if (p.ev)
        gd_events_shutdown(p.ev);
    ga_server_stop(srv);
    if (p.sched)
        gd_sched_shutdown(p.sched);
    gd_serve_close(&p);
    if (rc == 0)
        gd_log(GD_LOG_INFO, "stopped");
    return rc;
}
