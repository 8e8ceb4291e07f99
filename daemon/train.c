/* train.c — `ganctld train SPEC.json` in the foreground.
 *
 * Parse the spec through api/'s strict parser, store the run like a POST would, train
 * it on this thread with the same worker code, print progress to stderr and the run
 * object as one JSON line on stdout; exit 0 iff it succeeded. SIGINT/SIGTERM stop it
 * after the current step with a checkpoint, and the run stays queued for the daemon. */
#include "daemon/train.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/run_object.h"
#include "api/server.h"
#include "api/spec_json.h"
#include "core/error.h"
#include "daemon/log.h"
#include "daemon/serve.h"

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

/* Turns SIGINT/SIGTERM into a scheduler shutdown: the run checkpoints and stays
 * queued, so the daemon can continue it. A 0 byte in the pipe ends the thread when
 * training ended on its own. */
static void *train_signals(void *arg)
{
    struct gd_sched *sched = arg;
    for (;;) {
        int sig = gd_serve_wait_signal(1000);
        if (sig < 0)
            return NULL;
        if (sig > 0) {
            gd_log(GD_LOG_WARN, "%s: stopping after this step with a checkpoint",
                   sig == SIGINT ? "SIGINT" : "SIGTERM");
            gd_sched_shutdown(sched);
            return NULL;
        }
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

int gd_train_main(const struct gd_config *c)
{
    const char *spec_path = c->spec_path;
    gd_log_set_verbose(1); /* progress is the point of the foreground command */

    size_t len = 0;
    char *json = read_file(spec_path, SPEC_MAX, &len);
    if (!json)
        return 2;
    struct gc_spec *spec = calloc(1, sizeof(*spec));
    struct gc_field_errors fe = {0};
    struct gc_error err = {0};
    if (!spec || ga_spec_parse(json, len, NULL, spec, &fe, &err)) {
        if (fe.n) {
            fprintf(stderr, "ganctld: %s: invalid spec:\n", spec_path);
            for (int i = 0; i < fe.n; i++)
                fprintf(stderr, "  %s%s%s\n", fe.e[i].field, fe.e[i].field[0] ? ": " : "",
                        fe.e[i].message);
            if (fe.dropped)
                fprintf(stderr, "  (and %d more)\n", fe.dropped);
        } else {
            fprintf(stderr, "ganctld: %s: invalid spec: %s\n", spec_path,
                    spec ? err.msg : "out of memory");
        }
        free(json);
        free(spec);
        return 2;
    }
    free(json);
    /* the stored spec must name the same files when the daemon later continues the run
     * from another working directory */
    if (absolute(spec_path, "dataset.path", spec->dataset.path, sizeof spec->dataset.path) ||
        absolute(spec_path, "dataset.labels_path", spec->dataset.labels_path,
                 sizeof spec->dataset.labels_path) ||
        absolute(spec_path, "task.source_path", spec->task.source_path,
                 sizeof spec->task.source_path)) {
        free(spec);
        return 2;
    }

    struct gd_parts p = {0};
    int rc = 1;
    char *spec_json = NULL;
    if (gd_serve_signals() || gd_serve_open(c, 1, &p))
        goto out;
    spec_json = ga_spec_to_json(spec);
    int64_t id = 0;
    if (!spec_json || gd_sched_submit(p.sched, spec, spec_json, &id, &err)) {
        gd_log(GD_LOG_ERR, "cannot store the run: %s", spec_json ? err.msg : "out of memory");
        goto out;
    }
    gd_log_run(GD_LOG_INFO, id, "training %s (%lld steps) in %s", spec->name[0] ? spec->name : "",
               (long long)spec->train.steps, c->data);

    pthread_t th;
    int have_thread = pthread_create(&th, NULL, train_signals, p.sched) == 0;
    int trc = gd_sched_run_now(p.sched, id, &err);
    if (have_thread) {
        if (gd_serve_signals_end())
            pthread_cancel(th);
        pthread_join(th, NULL);
    }
    if (trc)
        gd_log_run(GD_LOG_ERR, id, "%s", err.msg);

    char *out = ga_run_json(p.store, p.sched, id, &err);
    if (out) {
        printf("%s\n", out);
        fflush(stdout);
        free(out);
    } else {
        gd_log(GD_LOG_ERR, "cannot read the run back: %s", err.msg);
    }
    rc = trc == 0 && out ? 0 : 1;
out:
    free(spec_json);
    free(spec);
    gd_serve_close(&p);
    return rc;
}
