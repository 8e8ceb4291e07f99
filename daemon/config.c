/* config.c — ganctld's flags, its config file and its token file, read into a
 * struct gd_config; the usage text; the defaults of what was left out.
 *
 * A bad flag or config line is said on stderr as "ganctld: ...", a bad token file in
 * the log; either way ganctld exits 2 before anything starts. */
#include "daemon/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/store.h"
#include "daemon/webhook.h"

#define DEFAULT_LISTEN "127.0.0.1:8080"
#define DEFAULT_KEEP 5
#define DEFAULT_HEARTBEAT 10
#define DEFAULT_LEASE 30
#define DEFAULT_RANK_TIMEOUT 300

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: ganctld [--listen ADDR:PORT] [--data DIR] [--workers N] [--threads N]\n"
        "               [--config FILE] [--token-file FILE] [--datasets DIR] [--web DIR]\n"
        "               [--keep-checkpoints N] [--max-connections N] [--http-timeout S]\n"
        "               [--store URI] [--name NAME] [--heartbeat S] [--lease S]\n"
        "               [--alert-webhook URL] [--mpirun COMMAND] [--rank-timeout S]\n"
        "               [--verbose]\n"
        "       ganctld train SPEC.json [--data DIR] [--threads N] [--store URI] [--name NAME]\n"
        "                     [--rank-timeout S]\n"
        "       ganctld train --run ID [--data DIR] [--threads N] [--store URI] [--name NAME]\n"
        "                     [--rank-timeout S] [--datasets DIR] [--control-stdin]\n"
        "       mpirun -np N [MPIRUN OPTIONS] ganctld train SPEC.json | --run ID [...]\n"
        "       ganctld --help | --version\n"
        "\n"
        "  --listen ADDR:PORT      where the REST API listens (default %s)\n"
        "  --data DIR              the data directory: database, caches (default ./var,\n"
        "                          $STATE_DIRECTORY under systemd)\n"
        "  --store URI             a PostgreSQL database shared by many daemons\n"
        "                          (postgresql://USER@HOST:5432/DB?sslmode=...; the password\n"
        "                          from ~/.pgpass, PGPASSFILE or a service file); default:\n"
        "                          the SQLite file DATA/ganctl.db\n"
        "  --name NAME             this daemon among the store's workers (default HOST:PORT)\n"
        "  --heartbeat S           seconds between heartbeats, which renew leases (default %d)\n"
        "  --lease S               a run whose worker missed its heartbeats this long is\n"
        "                          claimed by another daemon (default %d)\n"
        "  --workers N             runs trained at once (default 1)\n"
        "  --threads N             compute threads shared by those runs (default: cores)\n"
        "  --config FILE           'key = value' lines with the long flag names; flags win\n"
        "  --token-file FILE       require 'Authorization: Bearer TOKEN' on /api/ (default\n"
        "                          $CREDENTIALS_DIRECTORY/api-token when present)\n"
        "  --datasets DIR          dataset paths given over the API stay inside it\n"
        "                          (default DATA/datasets)\n"
        "  --web DIR               the dashboard's files\n"
        "  --keep-checkpoints N    newest checkpoints kept per run (default %d, 0: all)\n"
        "  --alert-webhook URL     POST each alert of the watchdog there as JSON\n"
        "                          (http://HOST[:PORT]/PATH; retried, never blocks)\n"
        "  --max-connections N     open HTTP connections at most, event streams included;\n"
        "                          more are refused (default 256)\n"
        "  --http-timeout S        close a connection idle for S seconds, or whose request\n"
        "                          has not come whole S seconds after it began (default 60)\n"
        "  --mpirun COMMAND        how to start the ranks of a run with train.ranks > 1:\n"
        "                          the mpirun command and its options, e.g. \"mpirun\n"
        "                          --hostfile /etc/ganctl/hosts\"; ganctld adds -np N and\n"
        "                          itself (default: none, such runs are refused)\n"
        "  --rank-timeout S        seconds a rank of a multi-rank run waits for the others\n"
        "                          before the job ends and the run is queued again\n"
        "                          (default %d)\n"
        "  --verbose               also log every training step's metrics\n"
        "  train --run ID          train stored run ID in the foreground\n"
        "  train --control-stdin   read pause, cancel and stop, one a line, on stdin\n"
        "  train --claim N         (given by the daemon that launched the ranks) its claim on\n"
        "                          the run, which rank 0's writes go under\n",
        DEFAULT_LISTEN, DEFAULT_HEARTBEAT, DEFAULT_LEASE, DEFAULT_KEEP, DEFAULT_RANK_TIMEOUT);
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

/* A worker's name: 1 to 127 printable characters, no blanks. */
static int set_name(struct gd_config *c, const char *v)
{
    size_t n = strlen(v);
    int ok = n >= 1 && n < sizeof(c->name);
    for (size_t i = 0; ok && i < n; i++)
        ok = v[i] > ' ' && v[i] < 127;
    if (!ok) {
        fprintf(stderr, "ganctld: --name: expected 1 to %zu printable characters without blanks\n",
                sizeof(c->name) - 1);
        return -1;
    }
    memcpy(c->name, v, n + 1);
    return 0;
}

/* One option by its long name, from the command line or the config file. */
static int set_option(struct gd_config *c, const char *name, const char *v)
{
    if (!strcmp(name, "store")) {
        /* a conninfo string or a path would open a SQLite file named after it */
        if (v[0] && !gd_store_is_pg_uri(v)) {
            fprintf(stderr,
                    "ganctld: --store: expected a postgresql:// or postgres:// URI (without "
                    "--store the store is the SQLite file DATA/ganctl.db)\n");
            return -1;
        }
        return set_str(name, c->store, sizeof(c->store), v);
    }
    if (!strcmp(name, "name"))
        return set_name(c, v);
    if (!strcmp(name, "heartbeat"))
        return parse_int(name, v, 1, 3600, &c->heartbeat);
    if (!strcmp(name, "lease"))
        return parse_int(name, v, 2, 86400, &c->lease);
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
    if (!strcmp(name, "alert-webhook")) {
        struct gc_error err = {0};
        if (gd_webhook_check_url(v, &err)) {
            fprintf(stderr, "ganctld: %s\n", err.msg);
            return -1;
        }
        return set_str(name, c->alert_webhook, sizeof(c->alert_webhook), v);
    }
    if (!strcmp(name, "mpirun"))
        return set_str(name, c->mpirun, sizeof(c->mpirun), v);
    if (!strcmp(name, "rank-timeout"))
        return parse_int(name, v, 1, 86400, &c->rank_timeout);
    if (!strcmp(name, "run")) {
        int id = 0;
        if (parse_int(name, v, 1, INT32_MAX, &id))
            return -1;
        c->run = id;
        return 0;
    }
    if (!strcmp(name, "claim")) {
        char *end;
        errno = 0;
        long long x = strtoll(v, &end, 10);
        if (errno || end == v || *end || x < 1) {
            fprintf(stderr, "ganctld: --claim: expected a positive whole number, got '%s'\n", v);
            return -1;
        }
        c->claim = x;
        return 0;
    }
    if (!strcmp(name, "control-stdin")) {
        c->control_stdin = strcmp(v, "0") && strcmp(v, "false") && strcmp(v, "no");
        return 0;
    }
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

static int read_config(struct gd_config *c, const char *path)
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
        if (!strcmp(key, "config") || !strcmp(key, "run") || !strcmp(key, "control-stdin") ||
            !strcmp(key, "claim")) {
            fprintf(stderr, "ganctld: %s:%d: '%s' cannot be set in a config file\n", path, no, key);
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
static int parse_flags(struct gd_config *c, int argc, char **argv, int first, int pass,
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
        static const char *const known[] = {"listen",
                                            "data",
                                            "datasets",
                                            "web",
                                            "token-file",
                                            "workers",
                                            "threads",
                                            "keep-checkpoints",
                                            "verbose",
                                            "config",
                                            "max-connections",
                                            "http-timeout",
                                            "store",
                                            "name",
                                            "heartbeat",
                                            "lease",
                                            "alert-webhook",
                                            "mpirun",
                                            "rank-timeout",
                                            "run",
                                            "control-stdin",
                                            "claim",
                                            NULL};
        int is_known = 0;
        for (int k = 0; known[k]; k++)
            is_known |= !strcmp(known[k], name);
        if (!is_known) {
            fprintf(stderr, "ganctld: unknown option '--%s' (see --help)\n", name);
            return -1;
        }
        int takes_value = strcmp(name, "verbose") != 0 && strcmp(name, "control-stdin") != 0;
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
static void default_paths(struct gd_config *c)
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
        gd_log(GD_LOG_ERR, "token file %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat sb;
    if (fstat(fileno(f), &sb) == 0 && (sb.st_mode & 077))
        gd_log(GD_LOG_WARN,
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
        gd_log(GD_LOG_ERR, "token file %s: expected one line with the token", path);
        return NULL;
    }
    return strdup(t);
}

/* A lease shorter than two heartbeats would run out between two renewals. */
static int check_lease(const struct gd_config *c)
{
    if (c->lease < 2 * c->heartbeat) {
        fprintf(stderr, "ganctld: --lease %d must be at least twice --heartbeat %d\n", c->lease,
                c->heartbeat);
        return -1;
    }
    return 0;
}

/* `ganctld train SPEC.json | --run ID [--data DIR] [--threads N] [--keep-checkpoints N]
 * [--datasets DIR] [--store URI] [--name NAME] [--heartbeat S] [--lease S]
 * [--rank-timeout S] [--control-stdin] [--claim N] [--verbose]`: no config file, no
 * token. */
static int parse_train(struct gd_config *c, int argc, char **argv)
{
    static const char *const allowed[] = {
        "data",          "threads", "keep-checkpoints", "verbose", "run",   "datasets",
        "store",         "name",    "heartbeat",        "lease",   "claim", "rank-timeout",
        "control-stdin", NULL};
    c->command = GD_CMD_TRAIN;
    int first = 2;
    if (argc >= 3 && argv[2][0] != '-') {
        c->spec_path = argv[2];
        first = 3;
    }
    if (parse_flags(c, argc, argv, first, 1, allowed) || check_lease(c))
        return 2;
    if (!c->spec_path == !c->run) {
        fprintf(stderr, "ganctld train: give either a spec file or --run ID\n");
        usage(stderr);
        return 2;
    }
    default_paths(c);
    return -1;
}

static int parse_serve(struct gd_config *c, int argc, char **argv)
{
    c->command = GD_CMD_SERVE;
    snprintf(c->listen, sizeof(c->listen), DEFAULT_LISTEN);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--version")) {
            printf("ganctld %s (%s)\n", GD_VERSION, gd_build_commit);
            return 0;
        }
    }
    /* every flag but those of `ganctld train` alone */
    static const char *const allowed[] = {
        "listen",          "data",         "datasets",         "web",          "token-file",
        "workers",         "threads",      "keep-checkpoints", "verbose",      "config",
        "max-connections", "http-timeout", "mpirun",           "rank-timeout", "alert-webhook",
        "store",           "name",         "heartbeat",        "lease",        NULL};
    if (parse_flags(c, argc, argv, 1, 0, allowed))
        return 2;
    if (c->config[0] && read_config(c, c->config))
        return 2;
    if (parse_flags(c, argc, argv, 1, 1, allowed) || check_lease(c))
        return 2;
    default_paths(c);

    if (c->token_file[0]) {
        if (!(c->token = read_token(c->token_file)))
            return 2;
    } else {
        const char *cd = getenv("CREDENTIALS_DIRECTORY");
        char p[PATH_MAX];
        if (cd && cd[0]) {
            snprintf(p, sizeof(p), "%.*s/api-token", PATH_MAX - 16, cd);
            if (access(p, F_OK) == 0 && !(c->token = read_token(p)))
                return 2;
        }
    }
    return -1;
}

int gd_config_parse(struct gd_config *c, int argc, char **argv)
{
    memset(c, 0, sizeof(*c));
    c->workers = 1;
    c->keep_checkpoints = DEFAULT_KEEP;
    c->heartbeat = DEFAULT_HEARTBEAT;
    c->lease = DEFAULT_LEASE;
    c->rank_timeout = DEFAULT_RANK_TIMEOUT;
    if (argc >= 2 && !strcmp(argv[1], "train"))
        return parse_train(c, argc, argv);
    return parse_serve(c, argc, argv);
}

void gd_config_fini(struct gd_config *c)
{
    if (c->token) {
        memset(c->token, 0, strlen(c->token));
        free(c->token);
        c->token = NULL;
    }
}
