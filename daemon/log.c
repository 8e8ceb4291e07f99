/* log.c — ganctld's log lines on stderr.
 *
 * DESIGN: log_mu makes each line one write no other thread's line can split, and
 * guards log_last_debug (when the scheduler's last DEBUG line was shown). log_verbose
 * and log_journal are set before any thread starts and only read afterwards. */
#include "daemon/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int log_verbose;
static int log_journal; /* stderr is the journal: prefix <N> so it keeps the level */
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static struct timespec log_last_debug;

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

void gd_log_init(void)
{
    log_journal = stderr_is_journal();
}

void gd_log_set_verbose(int verbose)
{
    log_verbose = verbose;
}

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

void gd_log(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(level, 0, fmt, ap);
    va_end(ap);
}

void gd_log_run(int level, int64_t run, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(level, run, fmt, ap);
    va_end(ap);
}

/* The scheduler's log hook. Per-step progress (DEBUG) is shown at most once a second
 * so a long run does not flood the terminal. */
void gd_log_sched(void *ctx, int level, int64_t run, const char *msg)
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
    gd_log_run(level, run, "%s", msg);
}
