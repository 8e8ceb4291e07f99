/* train.c — `ganctld train SPEC.json` and `ganctld train --run ID` in the foreground.
 *
 * Parse the spec through api/'s strict parser and store the run like a POST would (or
 * take a stored run), train it on this thread with the same worker code, print
 * progress to stderr and the run object as one JSON line on stdout; exit 0 iff it
 * succeeded. SIGINT/SIGTERM stop it after the current step with a checkpoint, and the
 * run stays queued for the daemon; with --control-stdin the lines pause, cancel and
 * stop on stdin do what the API's verbs do (end of input: stop). Under mpirun the
 * ranks of one run take train_ranks.c's path, which shares the pieces below (train.h).
 *
 * DESIGN: one control thread watches the signal pipe (and stdin) and calls the
 * scheduler's verbs, which are thread-safe; the main thread trains. */
#include "daemon/train.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/run_object.h"
#include "api/server.h"
#include "api/spec_json.h"
#include "core/error.h"
#include "daemon/comm_mpi.h"
#include "daemon/log.h"

#define SPEC_MAX (1 << 20)

static char *read_file(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "ganctld: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad || n > max) {
        fprintf(stderr, "ganctld: %s: %s\n", path,
                !buf  ? "out of memory"
                : bad ? "read error"
                      : "larger than 1 MiB");
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

void gd_train_print_errors(const char *what, const struct gc_field_errors *fe,
                           const struct gc_error *err)
{
    if (fe && fe->n) {
        fprintf(stderr, "ganctld: %s: invalid spec:\n", what);
        for (int i = 0; i < fe->n; i++)
            fprintf(stderr, "  %s%s%s\n", fe->e[i].field, fe->e[i].field[0] ? ": " : "",
                    fe->e[i].message);
        if (fe->dropped)
            fprintf(stderr, "  (and %d more)\n", fe->dropped);
    } else {
        fprintf(stderr, "ganctld: %s: invalid spec: %s\n", what, err ? err->msg : "out of memory");
    }
}

/* A relative path of the spec (field) made absolute, so that the stored spec names the
 * same file when the daemon later continues the run from another working directory;
 * -1 after saying why on stderr. */
static int absolute(const char *spec_path, const char *field, char *path, size_t cap)
{
    if (!path[0] || path[0] == '/')
        return 0;
    char *abs = realpath(path, NULL);
    if (!abs) {
        fprintf(stderr, "ganctld: %s: %s %s: %s\n", spec_path, field, path, strerror(errno));
        return -1;
    }
    snprintf(path, cap, "%s", abs);
    free(abs);
    return 0;
}

int gd_train_read_spec(const char *path, struct gc_spec *spec)
{
    size_t len = 0;
    char *json = read_file(path, SPEC_MAX, &len);
    if (!json)
        return 2;
    struct gc_field_errors fe = {0};
    struct gc_error err = {0};
    int rc = ga_spec_parse(json, len, NULL, spec, &fe, &err);
    free(json);
    if (rc) {
        gd_train_print_errors(path, &fe, &err);
        return 2;
    }
    /* the stored spec must name the same files when the daemon later continues the run
     * from another working directory */
    if (absolute(path, "dataset.path", spec->dataset.path, sizeof spec->dataset.path) ||
        absolute(path, "dataset.labels_path", spec->dataset.labels_path,
                 sizeof spec->dataset.labels_path) ||
        absolute(path, "task.source_path", spec->task.source_path, sizeof spec->task.source_path))
        return 2;
    return 0;
}

/* ---- control: signals and stdin ---- */

struct gd_train_control {
    pthread_t th;
    struct gd_sched *sched;
    int64_t id;
    int use_stdin;
    char line[256];
    size_t len;
};

static void stop_with_checkpoint(struct gd_train_control *c, const char *why)
{
    gd_log(GD_LOG_WARN, "%s: stopping after this step with a checkpoint", why);
    gd_sched_shutdown(c->sched);
}

/* One command line; 1 when the control thread has nothing left to do. */
static int command(struct gd_train_control *c, const char *cmd)
{
    struct gc_error err = {0};
    int rc = 0;
    if (!strcmp(cmd, "pause"))
        rc = gd_sched_pause(c->sched, c->id, &err);
    else if (!strcmp(cmd, "cancel"))
        rc = gd_sched_cancel(c->sched, c->id, &err);
    else if (!strcmp(cmd, "stop")) {
        stop_with_checkpoint(c, "stop on stdin");
        return 1;
    } else if (cmd[0])
        gd_log(GD_LOG_WARN, "stdin: unknown command '%.40s' (pause, cancel or stop)", cmd);
    if (rc)
        gd_log_run(GD_LOG_WARN, c->id, "%s: %s", cmd, err.msg);
    return 0;
}

/* Reads what stdin has; 1 when the thread is done (stop, or end of input). */
static int read_commands(struct gd_train_control *c)
{
    char buf[256];
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (n <= 0) {
        /* whoever drove us (the daemon, through mpirun) is gone */
        stop_with_checkpoint(c, "end of stdin");
        return 1;
    }
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] != '\n') {
            if (c->len < sizeof c->line - 1)
                c->line[c->len++] = buf[i];
            continue;
        }
        c->line[c->len] = '\0';
        c->len = 0;
        if (command(c, c->line))
            return 1;
    }
    return 0;
}

/* Turns SIGINT/SIGTERM (and stdin's commands) into the scheduler's verbs. A 0 byte in
 * the signal pipe ends the thread when training ended on its own. */
static void *control_main(void *arg)
{
    struct gd_train_control *c = arg;
    for (;;) {
        if (c->use_stdin) {
            struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
            if (poll(&p, 1, 200) > 0 && read_commands(c))
                return NULL;
        }
        int sig = gd_serve_wait_signal(c->use_stdin ? 0 : 1000);
        if (sig < 0)
            return NULL;
        if (sig > 0) {
            stop_with_checkpoint(c, sig == SIGINT ? "SIGINT" : "SIGTERM");
            return NULL;
        }
    }
}

struct gd_train_control *gd_train_control_start(struct gd_sched *sched, int64_t id, int use_stdin)
{
    struct gd_train_control *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->sched = sched;
    c->id = id;
    c->use_stdin = use_stdin;
    if (pthread_create(&c->th, NULL, control_main, c)) {
        free(c);
        return NULL;
    }
    return c;
}

void gd_train_control_end(struct gd_train_control *c)
{
    if (!c)
        return;
    if (gd_serve_signals_end())
        pthread_cancel(c->th);
    pthread_join(c->th, NULL);
    free(c);
}

int gd_train_report(struct gd_parts *p, int64_t id, int trc, const struct gc_error *err)
{
    if (trc)
        gd_log_run(trc == GC_ESTOPPED ? GD_LOG_INFO : GD_LOG_ERR, id, "%s", err->msg);
    struct gc_error e = {0};
    char *out = ga_run_json(p->store, p->sched, id, &e);
    if (out) {
        printf("%s\n", out);
        fflush(stdout);
        free(out);
    } else {
        gd_log(GD_LOG_ERR, "cannot read the run back: %s", e.msg);
    }
    return trc == 0 && out ? 0 : 1;
}

/* ---- the store ---- */

int gd_train_open(const struct gd_config *c, struct gc_comm *comm, struct gd_parts *p)
{
    /* a worker of the store like a daemon, for as long as its run trains: HOST:train-PID
     * unless --name (a launching daemon passes its own) */
    char name[GD_NAME_MAX];
    if (c->name[0]) {
        snprintf(name, sizeof name, "%s", c->name);
    } else {
        gd_serve_host_name(name, sizeof name);
        size_t n = strlen(name);
        snprintf(name + n, sizeof name - n, ":train-%ld", (long)getpid());
    }
    if (gd_serve_open(c, name, 1, comm, p))
        return -1;
    if (c->run && c->claim) {
        /* launched by a daemon: its claim, whose lease its keeper renews */
        gd_store_claim_adopt(p->store, c->run, c->claim);
        return 0;
    }
    struct gc_error err = {0};
    if (gd_sched_start_keeper(p->sched, &err)) {
        gd_log(GD_LOG_ERR, "%s", err.msg);
        return -1;
    }
    return 0;
}

/* ---- one process ---- */

int gd_train_main(const struct gd_config *c)
{
    if (gd_mpi_launched())
        return gd_train_ranks_main(c);
    gd_log_set_verbose(1); /* progress is the point of the foreground command */

    struct gc_spec *spec = calloc(1, sizeof(*spec));
    if (!spec) {
        fprintf(stderr, "ganctld: out of memory\n");
        return 2;
    }
    int code = c->spec_path ? gd_train_read_spec(c->spec_path, spec) : 0;
    if (!code && c->spec_path && spec->train.ranks > 1) {
        fprintf(stderr,
                "ganctld: %s: train.ranks is %d: start it with mpirun -np %d ganctld train ... "
                "(or submit it to a daemon started with --mpirun)\n",
                c->spec_path, spec->train.ranks, spec->train.ranks);
        code = 2;
    }
    if (code) {
        free(spec);
        return code;
    }

    struct gd_parts p = {0};
    struct gc_error err = {0};
    int rc = 1;
    char *spec_json = NULL;
    if (gd_serve_signals() || gd_train_open(c, NULL, &p))
        goto out;
    int64_t id = c->run;
    if (c->spec_path) {
        spec_json = ga_spec_to_json(spec);
        /* stored claimed: no daemon on the same store takes it first */
        if (!spec_json || gd_sched_submit_claimed(p.sched, spec, spec_json, &id, &err)) {
            gd_log(GD_LOG_ERR, "cannot store the run: %s", spec_json ? err.msg : "out of memory");
            goto out;
        }
        gd_log_run(GD_LOG_INFO, id, "training %s (%lld steps) in %s as worker %s",
                   spec->name[0] ? spec->name : "", (long long)spec->train.steps,
                   gd_store_where(p.store), gd_sched_self(p.sched)->name);
    } else {
        gd_log_run(GD_LOG_INFO, id, "training the stored run in %s as worker %s",
                   gd_store_where(p.store), gd_sched_self(p.sched)->name);
    }
    struct gd_train_control *ctl = gd_train_control_start(p.sched, id, c->control_stdin);
    int trc = gd_sched_run_now(p.sched, id, &err);
    gd_train_control_end(ctl);
    rc = gd_train_report(&p, id, trc, &err);
out:
    free(spec_json);
    free(spec);
    gd_serve_close(&p);
    return rc;
}
