/* main.c — ganctld: the daemon, and `ganctld train SPEC.json` in the foreground.
 *
 * Daemon: open (and migrate) the store, start the workers and the HTTP server, tell
 * systemd READY=1, then wait for SIGTERM/SIGINT while sending STATUS= and WATCHDOG=1.
 * On a signal: STOPPING=1, end the event streams, stop HTTP, let every running job
 * finish its step and checkpoint (it goes back to queued), close the store, exit 0.
 *
 * Signals: the handler only writes the signal number into a pipe (a self-pipe), and
 * the main loop (or, for train, a watcher thread) reads it and shuts down with
 * ordinary locks. Blocking the signals and using sigwait() is not enough here: the
 * BLAS library starts its threads before main() with the signals unblocked, and the
 * kernel would deliver SIGTERM to one of them and kill the process.
 *
 * Train: parse the spec through api/'s strict parser, store the run like a POST
 * would, train it on this thread with the same worker code, print progress to
 * stderr and the run object as one JSON line on stdout; exit 0 iff it succeeded. */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "api/run_object.h"
#include "api/server.h"
#include "core/error.h"
#include "daemon/events.h"
#include "daemon/sched.h"
#include "daemon/store.h"

#define GANCTLD_VERSION "0.1.0"
#define DEFAULT_LISTEN "127.0.0.1:8080"
#define DEFAULT_KEEP 5
#define SPEC_MAX (1 << 20)

struct config {
    char listen[256];
    char data[PATH_MAX];
    char datasets[PATH_MAX];
    char web[PATH_MAX];
    char token_file[PATH_MAX];
    char config[PATH_MAX];
    int workers, threads, keep_checkpoints;
    int max_connections; /* 0: the server's default */
    int http_timeout;    /* seconds; 0: the server's default */
    int verbose;
};

/* ---- logging ---- */

static int log_verbose;
static int log_journal; /* stderr is the journal: prefix <N> so it keeps the level */
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static struct timespec log_last_debug;

static const char *level_name(int level)
{
    switch (level) {
    case GD_LOG_ERR:
        return "error";
    case GD_LOG_WARN:
        return "warning";
    case GD_LOG_INFO:
        return "info";
    default:
        return "debug";
    }
}

static void vlog(int level, int64_t run, const char *fmt, va_list ap)
{
    if (level >= GD_LOG_DEBUG && !log_verbose)
        return;
    char msg[1024];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    char who[32] = "";
    if (run > 0)
        snprintf(who, sizeof(who), "run %lld: ", (long long)run);
    pthread_mutex_lock(&log_mu);
    if (log_journal) {
        fprintf(stderr, "<%d>%s%s\n", level, who, msg);
    } else {
        char ts[32];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
        fprintf(stderr, "%s %s: %s%s\n", ts, level_name(level), who, msg);
    }
    pthread_mutex_unlock(&log_mu);
}

static void logm(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logm(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(level, 0, fmt, ap);
    va_end(ap);
}

static void log_run(int level, int64_t run, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void log_run(int level, int64_t run, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(level, run, fmt, ap);
    va_end(ap);
}

/* The scheduler's log hook. Per-step progress (DEBUG) is shown at most once a second
 * so a long run does not flood the terminal. */
static void sched_log(void *ctx, int level, int64_t run, const char *msg)
{
    (void)ctx;
    if (level >= GD_LOG_DEBUG) {
        if (!log_verbose)
            return;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        pthread_mutex_lock(&log_mu);
        double dt = (double)(now.tv_sec - log_last_debug.tv_sec) +
                    (double)(now.tv_nsec - log_last_debug.tv_nsec) * 1e-9;
        int show = dt >= 1.0;
        if (show)
            log_last_debug = now;
        pthread_mutex_unlock(&log_mu);
        if (!show)
            return;
    }
    log_run(level, run, "%s", msg);
}

/* ---- configuration ---- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: ganctld [--listen ADDR:PORT] [--data DIR] [--workers N] [--threads N]\n"
            "               [--config FILE] [--token-file FILE] [--datasets DIR] [--web DIR]\n"
            "               [--keep-checkpoints N] [--max-connections N] [--http-timeout S]\n"
            "               [--verbose]\n"
            "       ganctld train SPEC.json [--data DIR] [--threads N]\n"
            "       ganctld --help | --version\n"
            "\n"
            "  --listen ADDR:PORT      where the REST API listens (default %s)\n"
            "  --data DIR              the data directory: database, caches (default ./var,\n"
            "                          $STATE_DIRECTORY under systemd)\n"
            "  --workers N             runs trained at once (default 1)\n"
            "  --threads N             compute threads shared by those runs (default: cores)\n"
            "  --config FILE           'key = value' lines with the long flag names; flags win\n"
            "  --token-file FILE       require 'Authorization: Bearer TOKEN' on /api/ (default\n"
            "                          $CREDENTIALS_DIRECTORY/api-token when present)\n"
            "  --datasets DIR          dataset paths given over the API stay inside it\n"
            "                          (default DATA/datasets)\n"
            "  --web DIR               the dashboard's files\n"
            "  --keep-checkpoints N    newest checkpoints kept per run (default %d, 0: all)\n"
            "  --max-connections N     open HTTP connections at most, event streams included;\n"
            "                          more are refused (default 256)\n"
            "  --http-timeout S        close a connection idle for S seconds, or whose request\n"
            "                          has not come whole S seconds after it began (default 60)\n"
            "  --verbose               also log every training step's metrics\n",
            DEFAULT_LISTEN, DEFAULT_KEEP);
}

static int parse_int(const char *name, const char *v, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi) {
        fprintf(stderr, "ganctld: --%s: expected a whole number from %d to %d, got '%s'\n", name,
                lo, hi, v);
        return -1;
    }
    *out = (int)x;
    return 0;
}

static int set_str(const char *name, char *dst, size_t cap, const char *v)
{
    if (!v[0] || strlen(v) >= cap) {
        fprintf(stderr, "ganctld: --%s: %s\n", name, v[0] ? "too long" : "empty value");
        return -1;
    }
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

/* One option by its long name, from the command line or the config file. */
static int set_option(struct config *c, const char *name, const char *v)
{
    if (!strcmp(name, "listen"))
        return set_str(name, c->listen, sizeof(c->listen), v);
    if (!strcmp(name, "data"))
        return set_str(name, c->data, sizeof(c->data), v);
    if (!strcmp(name, "datasets"))
        return set_str(name, c->datasets, sizeof(c->datasets), v);
    if (!strcmp(name, "web"))
        return set_str(name, c->web, sizeof(c->web), v);
    if (!strcmp(name, "token-file"))
        return set_str(name, c->token_file, sizeof(c->token_file), v);
    if (!strcmp(name, "workers"))
        return parse_int(name, v, 1, 64, &c->workers);
    if (!strcmp(name, "threads"))
        return parse_int(name, v, 1, 1024, &c->threads);
    if (!strcmp(name, "keep-checkpoints"))
        return parse_int(name, v, 0, 100000, &c->keep_checkpoints);
    if (!strcmp(name, "max-connections"))
        return parse_int(name, v, 1, 65536, &c->max_connections);
    if (!strcmp(name, "http-timeout"))
        return parse_int(name, v, 1, 3600, &c->http_timeout);
    if (!strcmp(name, "verbose")) {
        c->verbose = strcmp(v, "0") && strcmp(v, "false") && strcmp(v, "no");
        return 0;
    }
    fprintf(stderr, "ganctld: unknown option '%s'\n", name);
    return -1;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static int read_config(struct config *c, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "ganctld: --config %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[PATH_MAX + 64];
    int no = 0, ret = 0;
    while (!ret && fgets(line, sizeof(line), f)) {
        no++;
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            fprintf(stderr, "ganctld: %s:%d: expected 'key = value'\n", path, no);
            ret = -1;
            break;
        }
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        if (!strcmp(key, "config")) {
            fprintf(stderr, "ganctld: %s:%d: 'config' cannot be set in a config file\n", path, no);
            ret = -1;
        } else if (set_option(c, key, val)) {
            fprintf(stderr, "ganctld: in %s line %d\n", path, no);
            ret = -1;
        }
    }
    fclose(f);
    return ret;
}

/* Options after argv[first]: "--name value" or "--name=value". pass 0 only picks up
 * --config (the file is read before the other flags so that flags win). allowed:
 * NULL for all, else a NULL-terminated list of names. */
static int parse_flags(struct config *c, int argc, char **argv, int first, int pass,
                       const char *const *allowed)
{
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0 || !a[2]) {
            fprintf(stderr, "ganctld: unexpected argument '%s'\n", a);
            return -1;
        }
        char name[64];
        const char *val = NULL;
        const char *eq = strchr(a + 2, '=');
        size_t n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        if (n >= sizeof(name)) {
            fprintf(stderr, "ganctld: unknown option '%s'\n", a);
            return -1;
        }
        memcpy(name, a + 2, n);
        name[n] = '\0';
        static const char *const known[] = {
            "listen",     "data",    "datasets",        "web",
            "token-file", "workers", "threads",         "keep-checkpoints",
            "verbose",    "config",  "max-connections", "http-timeout",
            NULL};
        int is_known = 0;
        for (int k = 0; known[k]; k++)
            is_known |= !strcmp(known[k], name);
        if (!is_known) {
            fprintf(stderr, "ganctld: unknown option '--%s' (see --help)\n", name);
            return -1;
        }
        int takes_value = strcmp(name, "verbose") != 0;
        if (eq)
            val = eq + 1;
        else if (takes_value) {
            if (i + 1 >= argc) {
                fprintf(stderr, "ganctld: --%s needs a value\n", name);
                return -1;
            }
            val = argv[++i];
        } else
            val = "1";
        if (allowed) {
            int ok = 0;
            for (int k = 0; allowed[k]; k++)
                ok |= !strcmp(allowed[k], name);
            if (!ok) {
                fprintf(stderr, "ganctld: --%s is not an option of this command\n", name);
                return -1;
            }
        }
        if (!strcmp(name, "config")) {
            if (pass == 0 && set_str(name, c->config, sizeof(c->config), val))
                return -1;
            continue;
        }
        if (pass == 1 && set_option(c, name, val))
            return -1;
    }
    return 0;
}

static int is_dir(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

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
    return is_dir(p) ? 0 : -1;
}

static void default_paths(struct config *c)
{
    if (!c->data[0]) {
        const char *sd = getenv("STATE_DIRECTORY");
        if (sd && sd[0]) {
            /* several StateDirectory= entries arrive colon-separated: the first is ours */
            size_t n = strcspn(sd, ":");
            if (n >= sizeof(c->data))
                n = sizeof(c->data) - 1;
            memcpy(c->data, sd, n);
            c->data[n] = '\0';
        } else {
            snprintf(c->data, sizeof(c->data), "./var");
        }
    }
    if (!c->datasets[0])
        snprintf(c->datasets, sizeof(c->datasets), "%.*s/datasets", PATH_MAX - 16, c->data);
    if (!c->web[0]) {
        /* next to the binary (build/ganctld -> web/), then the installed copy */
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (n > 0) {
            exe[n] = '\0';
            char *slash = strrchr(exe, '/');
            if (slash) {
                *slash = '\0';
                snprintf(c->web, sizeof(c->web), "%.*s/../web", PATH_MAX - 16, exe);
            }
        }
        if (!c->web[0] || !is_dir(c->web))
            snprintf(c->web, sizeof(c->web), "/usr/local/share/ganctl/web");
        if (!is_dir(c->web) && is_dir("./web"))
            snprintf(c->web, sizeof(c->web), "./web");
    }
    if (c->threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        c->threads = n > 0 ? (int)n : 1;
    }
}

/* Reads the token file; NULL with a message on failure. The token is never logged. */
static char *read_token(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        logm(GD_LOG_ERR, "token file %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat sb;
    if (fstat(fileno(f), &sb) == 0 && (sb.st_mode & 077))
        logm(GD_LOG_WARN,
             "token file %s is open to others than its owner (mode %04o): "
             "chmod 600 it",
             path, (unsigned)(sb.st_mode & 07777));
    char buf[4097];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *t = trim(buf);
    while (*t == '\n' || *t == '\r')
        t++;
    if (!*t || strchr(t, '\n')) {
        logm(GD_LOG_ERR, "token file %s: expected one line with the token", path);
        return NULL;
    }
    return strdup(t);
}

static int is_loopback(const char *listen)
{
    return !strncmp(listen, "127.", 4) || !strncmp(listen, "localhost:", 10) ||
           !strncmp(listen, "[::1]:", 6);
}

/* The dataset root that relative paths of stored specs resolve inside; set once in
 * main before any worker starts, read-only afterwards. */
static const char *stored_spec_root;

/* The scheduler reads stored specs with api/'s parser, inside the dataset root. */
static int parse_stored_spec(const char *json, struct gc_spec *out, struct gc_error *err)
{
    return ga_spec_parse_stored(json, stored_spec_root, out, err);
}

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

static int open_state(const struct config *c, struct gd_store **store, struct gd_events **ev,
                      struct gd_sched **sched, int workers)
{
    struct gc_error err = {0};
    if (make_dirs(c->data)) {
        logm(GD_LOG_ERR, "data directory %s: %s", c->data, strerror(errno));
        return -1;
    }
    char db[PATH_MAX + 16];
    snprintf(db, sizeof(db), "%s/ganctl.db", c->data);
    *store = gd_store_open(db, &err);
    if (!*store) {
        logm(GD_LOG_ERR, "%s", err.msg);
        return -1;
    }
    logm(GD_LOG_INFO, "store %s at schema version %d", db, gd_store_version(*store));
    *ev = gd_events_create(*store, &err);
    if (!*ev) {
        logm(GD_LOG_ERR, "%s", err.msg);
        return -1;
    }
    struct gd_sched_opts so = {
        .workers = workers,
        .threads = c->threads,
        .data_dir = c->data,
        .keep_checkpoints = c->keep_checkpoints,
        .parse_spec = parse_stored_spec,
        .log = sched_log,
        .log_ctx = NULL,
    };
    *sched = gd_sched_create(*store, *ev, &so, &err);
    if (!*sched) {
        logm(GD_LOG_ERR, "%s", err.msg);
        return -1;
    }
    return 0;
}

static void close_state(struct gd_store *store, struct gd_events *ev, struct gd_sched *sched)
{
    gd_sched_destroy(sched);
    gd_events_destroy(ev);
    gd_store_close(store);
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
static int setup_signals(void)
{
    if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK)) {
        logm(GD_LOG_ERR, "pipe: %s", strerror(errno));
        return -1;
    }
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

/* Waits up to timeout_ms for a byte on sig_pipe: the signal number, 0 on timeout. */
static int wait_signal(int timeout_ms)
{
    struct pollfd pfd = {.fd = sig_pipe[0], .events = POLLIN};
    if (poll(&pfd, 1, timeout_ms) <= 0)
        return 0;
    char c = 0;
    if (read(sig_pipe[0], &c, 1) != 1)
        return 0;
    return c ? (unsigned char)c : -1; /* -1: the byte 0 asks a watcher to end */
}

/* ---- ganctld train ---- */

/* Turns SIGINT/SIGTERM into a scheduler shutdown: the run checkpoints and stays
 * queued, so the daemon can continue it. A 0 byte in the pipe ends the thread when
 * training ended on its own. */
static void *train_signals(void *arg)
{
    struct gd_sched *sched = arg;
    for (;;) {
        int sig = wait_signal(1000);
        if (sig < 0)
            return NULL;
        if (sig > 0) {
            logm(GD_LOG_WARN, "%s: stopping after this step with a checkpoint",
                 sig == SIGINT ? "SIGINT" : "SIGTERM");
            gd_sched_shutdown(sched);
            return NULL;
        }
    }
}

/* Prints api/'s error array ([{"field":"...","message":"..."}, ...]) one per line. It
 * is a fixed shape made by our own parser, so a scan for the two keys is enough here
 * (the daemon has no JSON library of its own). */
static void print_spec_errors(const char *json)
{
    const char *p = json;
    for (;;) {
        const char *f = strstr(p, "\"field\":\"");
        if (!f)
            break;
        const char *m = strstr(f, "\"message\":\"");
        if (!m)
            break;
        char field[256], message[512];
        const char *src[2] = {f + 9, m + 11};
        char *dst[2] = {field, message};
        size_t cap[2] = {sizeof(field), sizeof(message)};
        for (int k = 0; k < 2; k++) {
            size_t n = 0;
            const char *q = src[k];
            while (*q && *q != '"' && n + 1 < cap[k]) {
                if (*q == '\\' && q[1])
                    q++;
                dst[k][n++] = *q++;
            }
            dst[k][n] = '\0';
        }
        if (field[0])
            fprintf(stderr, "  %s: %s\n", field, message);
        else
            fprintf(stderr, "  %s\n", message);
        p = m + 11;
    }
}

static int cmd_train(int argc, char **argv)
{
    struct config c = {.workers = 1, .keep_checkpoints = DEFAULT_KEEP};
    static const char *const allowed[] = {"data", "threads", "keep-checkpoints", "verbose", NULL};
    if (argc < 3 || argv[2][0] == '-') {
        usage(stderr);
        return 2;
    }
    const char *spec_path = argv[2];
    if (parse_flags(&c, argc, argv, 3, 1, allowed))
        return 2;
    default_paths(&c);
    stored_spec_root = c.datasets;
    log_verbose = 1; /* progress is the point of the foreground command */

    size_t len = 0;
    char *json = read_file(spec_path, SPEC_MAX, &len);
    if (!json)
        return 2;
    struct gc_spec *spec = calloc(1, sizeof(*spec));
    char *errors = NULL;
    struct gc_error err = {0};
    if (!spec || ga_spec_parse(json, len, NULL, spec, &errors, &err)) {
        if (errors && strstr(errors, "\"field\"")) {
            fprintf(stderr, "ganctld: %s: invalid spec:\n", spec_path);
            print_spec_errors(errors);
        } else {
            fprintf(stderr, "ganctld: %s: invalid spec: %s\n", spec_path, err.msg);
        }
        free(errors);
        free(json);
        free(spec);
        return 2;
    }
    free(errors);
    free(json);
    /* the stored spec must name the same file when the daemon later continues the run
     * from another working directory */
    if (spec->dataset.path[0] && spec->dataset.path[0] != '/') {
        char *abs = realpath(spec->dataset.path, NULL);
        if (!abs) {
            fprintf(stderr, "ganctld: %s: dataset.path %s: %s\n", spec_path, spec->dataset.path,
                    strerror(errno));
            free(spec);
            return 2;
        }
        snprintf(spec->dataset.path, sizeof(spec->dataset.path), "%s", abs);
        free(abs);
    }

    struct gd_store *store = NULL;
    struct gd_events *ev = NULL;
    struct gd_sched *sched = NULL;
    int rc = 1;
    char *spec_json = NULL;
    if (setup_signals() || open_state(&c, &store, &ev, &sched, 1))
        goto out;
    spec_json = ga_spec_to_json(spec);
    int64_t id = 0;
    if (!spec_json || gd_sched_submit(sched, spec, spec_json, &id, &err)) {
        logm(GD_LOG_ERR, "cannot store the run: %s", spec_json ? err.msg : "out of memory");
        goto out;
    }
    log_run(GD_LOG_INFO, id, "training %s (%lld steps) in %s", spec->name[0] ? spec->name : "",
            (long long)spec->train.steps, c.data);

    pthread_t th;
    int have_thread = pthread_create(&th, NULL, train_signals, sched) == 0;
    int trc = gd_sched_run_now(sched, id, &err);
    if (have_thread) {
        char zero = 0;
        if (write(sig_pipe[1], &zero, 1) != 1)
            pthread_cancel(th);
        pthread_join(th, NULL);
    }
    if (trc)
        log_run(GD_LOG_ERR, id, "%s", err.msg);

    char *out = ga_run_json(store, sched, id, &err);
    if (out) {
        printf("%s\n", out);
        fflush(stdout);
        free(out);
    } else {
        logm(GD_LOG_ERR, "cannot read the run back: %s", err.msg);
    }
    rc = trc == 0 && out ? 0 : 1;
out:
    free(spec_json);
    free(spec);
    close_state(store, ev, sched);
    return rc;
}

/* ---- the daemon ---- */

static void notify_status(struct gd_sched *sched)
{
    struct gd_sched_stats st;
    gd_sched_stats(sched, &st);
    sd_notifyf(0, "STATUS=%d running, %d queued, %lld steps", st.running, st.queued,
               (long long)st.steps_trained);
}

static int cmd_daemon(int argc, char **argv)
{
    struct config c = {.workers = 1, .keep_checkpoints = DEFAULT_KEEP};
    snprintf(c.listen, sizeof(c.listen), DEFAULT_LISTEN);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--version")) {
            printf("ganctld %s\n", GANCTLD_VERSION);
            return 0;
        }
    }
    if (parse_flags(&c, argc, argv, 1, 0, NULL))
        return 2;
    if (c.config[0] && read_config(&c, c.config))
        return 2;
    if (parse_flags(&c, argc, argv, 1, 1, NULL))
        return 2;
    default_paths(&c);
    stored_spec_root = c.datasets;
    log_verbose = c.verbose;

    char *token = NULL;
    if (c.token_file[0]) {
        if (!(token = read_token(c.token_file)))
            return 2;
    } else {
        const char *cd = getenv("CREDENTIALS_DIRECTORY");
        char p[PATH_MAX];
        if (cd && cd[0]) {
            snprintf(p, sizeof(p), "%.*s/api-token", PATH_MAX - 16, cd);
            if (access(p, F_OK) == 0 && !(token = read_token(p)))
                return 2;
        }
    }
    if (!token && !is_loopback(c.listen))
        logm(GD_LOG_WARN,
             "listening on %s beyond loopback without a token: anyone who can "
             "reach it controls the daemon (use --token-file)",
             c.listen);

    struct gd_store *store = NULL;
    struct gd_events *ev = NULL;
    struct gd_sched *sched = NULL;
    struct ga_server *srv = NULL;
    struct gc_error err = {0};
    int rc = 1;
    if (setup_signals() || open_state(&c, &store, &ev, &sched, c.workers))
        goto out;
    if (make_dirs(c.datasets))
        logm(GD_LOG_WARN, "datasets directory %s: %s", c.datasets, strerror(errno));
    struct ga_server_opts so = {
        .listen = c.listen,
        .web_dir = c.web,
        .datasets_dir = c.datasets,
        .token = token,
        .max_connections = c.max_connections,
        .http_timeout_s = c.http_timeout,
    };
    srv = ga_server_start(&so, store, sched, ev, &err);
    if (!srv) {
        logm(GD_LOG_ERR, "%s", err.msg);
        goto out;
    }
    /* workers start once HTTP listens: a taken port must not start (and at once
     * interrupt) the queued runs */
    if (gd_sched_start(sched, &err)) {
        logm(GD_LOG_ERR, "cannot start the workers: %s", err.msg);
        goto out;
    }
    logm(GD_LOG_INFO,
         "ganctld %s listening on %s (port %d), data %s, %d worker(s), %d thread(s), web %s, "
         "auth %s",
         GANCTLD_VERSION, c.listen, ga_server_port(srv), c.data, c.workers, c.threads, c.web,
         token ? "on" : "off");
    sd_notify(0, "READY=1");
    notify_status(sched);

    uint64_t wd_usec = 0;
    int wd = sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec > 0;
    struct timespec last_status, last_wd, now;
    clock_gettime(CLOCK_MONOTONIC, &last_status);
    last_wd = last_status;
    for (;;) {
        int sig = wait_signal(500);
        if (sig == SIGINT || sig == SIGTERM) {
            logm(GD_LOG_INFO, "%s: shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
            break;
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
    sd_notify(0, "STOPPING=1\nSTATUS=stopping: checkpointing running jobs");
    rc = 0;
out:
    /* end the event streams first so stopping the server never waits on them */
    if (ev)
        gd_events_shutdown(ev);
    ga_server_stop(srv);
    if (sched)
        gd_sched_shutdown(sched);
    close_state(store, ev, sched);
    if (token) {
        memset(token, 0, strlen(token));
        free(token);
    }
    if (rc == 0)
        logm(GD_LOG_INFO, "stopped");
    return rc;
}

/* systemd sets JOURNAL_STREAM=DEV:INODE for the stream it connected; a child whose
 * stderr was redirected elsewhere inherits the variable, hence the comparison. */
static int stderr_is_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat sb;
    if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &sb))
        return 0;
    return (unsigned long long)sb.st_dev == dev && (unsigned long long)sb.st_ino == ino;
}

int main(int argc, char **argv)
{
    log_journal = stderr_is_journal();
    if (argc >= 2 && !strcmp(argv[1], "train"))
        return cmd_train(argc, argv);
    return cmd_daemon(argc, argv);
}
