/* launch.c — a run of several ranks on the daemon: the --mpirun command starts
 * `ganctld train --run ID --control-stdin` on the ranks in a child process, whose rank
 * 0 trains the run with the same job code as a worker and writes the same store. This
 * file starts the child, passes the user's verbs on to it, follows its progress and
 * decides what the run becomes when it ends (job.h: gd_job_launch).
 *
 * THE CHILD. /bin/sh -c 'exec MPIRUN "$@"' with -np N, this binary and its flags as
 * the arguments: the command is the administrator's, everything else reaches mpirun
 * without going through the shell. The child gets a process group of its own, so a
 * signal reaches mpirun and the ranks it started on this host, and PR_SET_PDEATHSIG,
 * so mpirun, and with it every rank, ends when the daemon dies (kill -9 too). Rank 0
 * holds a lock on the run while it trains (train_ranks.c), so the launch of a
 * restarted daemon waits until the old ranks are gone. stdin is a pipe the daemon
 * writes commands to, one a line (mpirun hands it to rank 0): pause, cancel, stop;
 * stdout and stderr are one pipe the daemon reads line by line into its log.
 *
 * FOLLOWING IT. Every TICK_MS: the child's output, whether it ended, the store's
 * newest event (the child writes events; gd_events_refresh wakes the event streams)
 * and, when there are new ones, the run's status and newest metrics (the live step
 * and images/s of the run object). A pause, a cancel or the daemon stopping becomes
 * one line on the child's stdin once rank 0 has set the run running (before that its
 * scheduler does not know the run); a child that has not set it running START_GRACE_S
 * after such a request gets SIGTERM instead. A child still there rank_timeout + 30 s
 * after a command gets SIGTERM, and SIGKILL 10 s after that.
 *
 * THE END. Rank 0 does not write the run's final status: it reports it on a line of
 * its own (GD_FINAL_TAG, sched.h), and the daemon writes it as it takes the job off
 * its active list, in one step for the user's verbs as for any run (a resume right
 * after a pause finds the run paused and no longer training). The reported status
 * stands (succeeded, failed, canceled, paused, queued after a stop), except that a
 * run queued with the ranks' error (a rank died, hung or drifted), or a child that
 * ended with no report (mpirun ended the job, the ranks never started), sends the run
 * back to the queue, unless its launches ended so GD_MAX_FRUITLESS times in a row
 * with no newer checkpoint: then it fails with the child's last lines of output. The
 * daemon then waits for the child to exit.
 *
 * DESIGN (locks as job.h names them): all of this runs on the worker's thread, which
 * takes mu only to read the job's request and the stopping flag and to update the
 * live figures and the relaunch counts; never across the store, a log call or a
 * wait. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon/job.h"

#define TICK_MS 200
#define START_GRACE_S 5.0
#define KILL_AFTER_TERM_S 10.0
#define TAIL_LINES 4

enum command { CMD_NONE, CMD_PAUSE, CMD_CANCEL, CMD_STOP };
static const char *const command_line[] = {"", "pause\n", "cancel\n", "stop\n"};

struct child {
    pid_t pid;
    int in, out; /* our ends: its stdin, its stdout and stderr */
    char buf[2048];
    size_t len;                 /* a partial line in buf */
    char tail[TAIL_LINES][256]; /* its last lines, for a failed run's error */
    char error[256];            /* its last ganctld error line */
    int final;                  /* rank 0 reported the run's final status: */
    enum gd_status final_status;
    int64_t final_step;
    char final_error[1024];
    int ntail;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- the child's output ------------------------------------------------------------- */

/* One line of the child: a ganctld log line keeps its level, with its time stamp and
 * "run N: " dropped (the daemon's log adds its own); anything else (mpirun, a rank's
 * C library) is a warning. The run object's JSON rank 0 prints at the end is noise. */
static void relay(struct gd_job *job, struct child *ch, char *line)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\r' || line[n - 1] == ' '))
        line[--n] = '\0';
    if (!n || line[0] == '{')
        return;
    size_t tag = strlen(GD_FINAL_TAG);
    if (!strncmp(line, GD_FINAL_TAG " ", tag + 1)) {
        long long run = 0, step = 0;
        char status[16] = "";
        int used = 0;
        if (sscanf(line + tag + 1, "%lld %15s %lld %n", &run, status, &step, &used) >= 3 &&
            run == job->id && gd_status_from_name(status) >= 0) {
            ch->final = 1;
            ch->final_status = (enum gd_status)gd_status_from_name(status);
            ch->final_step = step;
            snprintf(ch->final_error, sizeof ch->final_error, "%s", line + tag + 1 + used);
            gd_jobs_log(job->s, GD_LOG_DEBUG, job->id, "ranks: rank 0 reports %s at step %lld",
                        status, step);
            return;
        }
    }
    int level = GD_LOG_WARN;
    char *msg = line;
    /* "2026-01-02T03:04:05Z info: run 5: ..." */
    if (n > 21 && line[4] == '-' && line[10] == 'T' && line[19] == 'Z' && line[20] == ' ')
        msg = line + 21;
    static const struct {
        const char *name;
        int level;
    } levels[] = {{"info: ", GD_LOG_INFO},
                  {"warning: ", GD_LOG_WARN},
                  {"error: ", GD_LOG_ERR},
                  {"debug: ", GD_LOG_DEBUG}};
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        size_t k = strlen(levels[i].name);
        if (!strncmp(msg, levels[i].name, k)) {
            level = levels[i].level;
            msg += k;
            break;
        }
    }
    char prefix[40];
    int pn = snprintf(prefix, sizeof prefix, "run %lld: ", (long long)job->id);
    if (!strncmp(msg, prefix, (size_t)pn))
        msg += pn;
    gd_jobs_log(job->s, level, job->id, "ranks: %s", msg);
    if (level == GD_LOG_ERR && msg != line)
        snprintf(ch->error, sizeof ch->error, "%s", msg);
    if (ch->ntail == TAIL_LINES) {
        memmove(ch->tail[0], ch->tail[1], sizeof ch->tail[0] * (TAIL_LINES - 1));
        ch->ntail--;
    }
    snprintf(ch->tail[ch->ntail++], sizeof ch->tail[0], "%s", msg);
}

/* Reads what the child wrote (all of it when until_eof) and relays each whole line. */
static void read_output(struct gd_job *job, struct child *ch, int until_eof)
{
    for (;;) {
        if (ch->len == sizeof ch->buf - 1) { /* a line longer than the buffer: cut it */
            ch->buf[ch->len] = '\0';
            relay(job, ch, ch->buf);
            ch->len = 0;
        }
        ssize_t r = read(ch->out, ch->buf + ch->len, sizeof ch->buf - 1 - ch->len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == EAGAIN && until_eof) {
            struct pollfd p = {.fd = ch->out, .events = POLLIN};
            if (poll(&p, 1, 1000) > 0)
                continue;
        }
        if (r <= 0)
            break;
        ch->len += (size_t)r;
        char *start = ch->buf, *nl;
        while ((nl = memchr(start, '\n', ch->len - (size_t)(start - ch->buf)))) {
            *nl = '\0';
            relay(job, ch, start);
            start = nl + 1;
        }
        ch->len -= (size_t)(start - ch->buf);
        memmove(ch->buf, start, ch->len);
    }
    if (until_eof && ch->len) {
        ch->buf[ch->len] = '\0';
        relay(job, ch, ch->buf);
        ch->len = 0;
    }
}

/* ---- starting it -------------------------------------------------------------------- */

static int spawn(struct gd_job *job, int ranks, struct child *ch, struct gc_error *err)
{
    struct gd_jobs *s = job->s;
    const struct gd_sched_opts *o = &s->opts;
    char script[1200], np[16], id[24], threads[16], keep[16], timeout[16], claim[24];
    if ((size_t)snprintf(script, sizeof script, "exec %s \"$@\"", o->mpirun) >= sizeof script)
        return gc_error_set(err, GC_EINVAL, "the --mpirun command is too long");
    snprintf(np, sizeof np, "%d", ranks);
    snprintf(id, sizeof id, "%lld", (long long)job->id);
    snprintf(claim, sizeof claim, "%lld", (long long)gd_store_claim_of(s->store, job->id));
    snprintf(threads, sizeof threads, "%d", s->threads_per_run);
    snprintf(keep, sizeof keep, "%d", o->keep_checkpoints);
    snprintf(timeout, sizeof timeout, "%d", o->rank_timeout > 0 ? o->rank_timeout : 300);
    const char *argv[40];
    int a = 0;
    argv[a++] = "/bin/sh";
    argv[a++] = "-c";
    argv[a++] = script;
    argv[a++] = "ganctld-ranks"; /* $0 */
    argv[a++] = "-np";
    argv[a++] = np;
    argv[a++] = s->exe;
    argv[a++] = "train";
    argv[a++] = "--run";
    argv[a++] = id;
    argv[a++] = "--data";
    argv[a++] = o->data_dir ? o->data_dir : ".";
    if (o->datasets_dir && o->datasets_dir[0]) {
        argv[a++] = "--datasets";
        argv[a++] = o->datasets_dir;
    }
    argv[a++] = "--threads";
    argv[a++] = threads;
    argv[a++] = "--keep-checkpoints";
    argv[a++] = keep;
    argv[a++] = "--rank-timeout";
    argv[a++] = timeout;
    argv[a++] = "--control-stdin";
    /* rank 0 writes the same store as this daemon, under its name and its claim */
    if (o->store_uri && o->store_uri[0]) {
        argv[a++] = "--store";
        argv[a++] = o->store_uri;
    }
    argv[a++] = "--name";
    argv[a++] = s->me.name;
    if (gd_store_claim_of(s->store, job->id) > 0) {
        argv[a++] = "--claim";
        argv[a++] = claim;
    }
    if (o->verbose)
        argv[a++] = "--verbose";
    argv[a] = NULL;

    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC))
        return gc_error_set(err, GC_EIO, "pipe: %s", strerror(errno));
    if (pipe2(out, O_CLOEXEC)) {
        close(in[0]), close(in[1]);
        return gc_error_set(err, GC_EIO, "pipe: %s", strerror(errno));
    }
    long maxfd = sysconf(_SC_OPEN_MAX);
    if (maxfd < 0 || maxfd > 65536)
        maxfd = 65536;
    pid_t parent = getpid();
    /* the child must not run a handler of ours between fork and exec */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid = fork();
    if (pid == 0) {
        /* only async-signal-safe calls from here to exec */
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(126); /* the daemon died already */
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(out[1], 2);
        if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0)
            for (int fd = 3; fd < maxfd; fd++)
                close(fd);
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        for (int sig = 1; sig < 32; sig++)
            if (sig != SIGKILL && sig != SIGSTOP)
                sigaction(sig, &dfl, NULL); /* SIGPIPE, ignored here, is not there */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execv("/bin/sh", (char *const *)argv);
        _exit(127);
    }
    int fork_errno = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(in[0]);
    close(out[1]);
    if (pid < 0) {
        close(in[1]), close(out[0]);
        return gc_error_set(err, GC_EIO, "fork: %s", strerror(fork_errno));
    }
    setpgid(pid, pid); /* also here: a signal sent before the child set it still arrives */
    fcntl(out[0], F_SETFL, fcntl(out[0], F_GETFL) | O_NONBLOCK);
    ch->pid = pid;
    ch->in = in[1];
    ch->out = out[0];
    gd_jobs_log(s, GD_LOG_INFO, job->id, "starting %d ranks: %s -np %d %s train --run %lld", ranks,
                o->mpirun, ranks, s->exe, (long long)job->id);
    return 0;
}

/* ---- following it ------------------------------------------------------------------- */

/* The run's status and newest metrics when the store has events newer than *seen. */
static void follow(struct gd_job *job, int64_t *seen, enum gd_status *status)
{
    struct gd_jobs *s = job->s;
    int64_t newest = -1;
    if (s->ev)
        newest = gd_events_refresh(s->ev);
    else if (gd_store_event_last(s->store, &newest, NULL))
        newest = -1;
    if (newest <= *seen)
        return;
    *seen = newest;
    struct gd_run r;
    if (gd_store_run_get(s->store, job->id, &r, NULL) == 0) {
        *status = r.status;
        gd_run_fini(&r);
    }
    struct gd_kv *kv = NULL;
    int n = 0;
    if (gd_store_metrics_latest(s->store, job->id, 0, &kv, &n, NULL) == 0 && n > 0) {
        int64_t step = 0;
        double ips = -1.0;
        for (int i = 0; i < n; i++) {
            if (kv[i].step > step)
                step = kv[i].step;
            if (!strcmp(kv[i].name, "images_per_s"))
                ips = kv[i].value;
        }
        if (step > job->counted)
            gd_job_progress(job, step);
        if (ips >= 0.0) {
            pthread_mutex_lock(&s->mu);
            job->images_per_s = ips;
            pthread_mutex_unlock(&s->mu);
        }
    }
    free(kv);
}

static void signal_group(struct child *ch, int sig)
{
    if (kill(-ch->pid, sig) && errno == ESRCH)
        kill(ch->pid, sig);
}

/* Ending a child that does not end by itself: SIGTERM once, SIGKILL a while later. */
struct ending {
    int term, killed;
    double t_term;
};

/* SIGTERM now (once), saying why. */
static void end_child(struct gd_job *job, struct child *ch, struct ending *e, double t,
                      const char *why)
{
    if (e->term)
        return;
    gd_jobs_log(job->s, GD_LOG_WARN, job->id, "%s", why);
    signal_group(ch, SIGTERM);
    e->term = 1;
    e->t_term = t;
}

/* SIGKILL when SIGTERM did not do it within KILL_AFTER_TERM_S. */
static void end_child_tick(struct child *ch, struct ending *e, double t)
{
    if (e->term && !e->killed && t - e->t_term > KILL_AFTER_TERM_S) {
        signal_group(ch, SIGKILL);
        e->killed = 1;
    }
}

static double patience_s(const struct gd_jobs *s)
{
    return (s->opts.rank_timeout > 0 ? s->opts.rank_timeout : 300) + 30.0;
}

/* One tick: the child's output, and whether it ended (1, its wait status in *ws). */
static int tick(struct gd_job *job, struct child *ch, int *ws)
{
    struct pollfd p = {.fd = ch->out, .events = POLLIN};
    poll(&p, 1, TICK_MS);
    read_output(job, ch, 0);
    pid_t w = waitpid(ch->pid, ws, WNOHANG);
    if (w == ch->pid)
        return 1;
    if (w < 0 && errno == ECHILD) {
        *ws = -1;
        return 1;
    }
    return 0;
}

/* Waits for the child to end or report the run's final status, passing commands on;
 * returns 1 with its wait status in *ws when it ended, 0 when it reported. */
static int watch(struct gd_job *job, struct child *ch, int *ws)
{
    struct gd_jobs *s = job->s;
    int64_t seen = -1;
    enum gd_status status = GD_QUEUED;
    enum command sent = CMD_NONE;
    double start = now_s(), t_cmd = 0.0;
    struct ending e = {0, 0, 0.0};
    char why[96];
    for (;;) {
        if (tick(job, ch, ws))
            return 1;
        gd_job_poll_request(job); /* a pause or cancel asked through another daemon */
        follow(job, &seen, &status);
        if (ch->final)
            return 0;

        pthread_mutex_lock(&s->mu);
        enum command want = job->request == GD_REQ_CANCEL  ? CMD_CANCEL
                            : job->request == GD_REQ_PAUSE ? CMD_PAUSE
                            : s->stopping                  ? CMD_STOP
                                                           : CMD_NONE;
        pthread_mutex_unlock(&s->mu);
        double t = now_s();
        if (want != CMD_NONE && want != sent) {
            if (status == GD_RUNNING) {
                ssize_t k = write(ch->in, command_line[want], strlen(command_line[want]));
                (void)k; /* a child that went away is seen by waitpid */
                sent = want;
                t_cmd = t;
            } else if (t - start > START_GRACE_S) {
                end_child(job, ch, &e, t, "the ranks did not start training: ending them");
                sent = want;
            }
        }
        if (sent != CMD_NONE && t - t_cmd > patience_s(s)) {
            snprintf(why, sizeof why, "the ranks did not stop within %.0f s: SIGTERM",
                     patience_s(s));
            end_child(job, ch, &e, t, why);
        }
        end_child_tick(ch, &e, t);
    }
}

/* After rank 0 reported: the ranks leave MPI and the child exits; one that does not
 * within the patience of a command is ended. Returns its wait status. */
static int wait_exit(struct gd_job *job, struct child *ch)
{
    double start = now_s();
    struct ending e = {0, 0, 0.0};
    char why[96];
    snprintf(why, sizeof why, "the ranks did not exit within %.0f s: SIGTERM", patience_s(job->s));
    for (;;) {
        int ws = 0;
        if (tick(job, ch, &ws))
            return ws;
        double t = now_s();
        if (t - start > patience_s(job->s))
            end_child(job, ch, &e, t, why);
        end_child_tick(ch, &e, t);
    }
}

/* ---- the end ------------------------------------------------------------------------ */

/* Counts a launch of run id that ended without a final status at checkpoint step;
 * returns how many did so in a row without a newer checkpoint (1 for the first). */
static int count_fruitless(struct gd_jobs *s, int64_t id, int64_t step)
{
    pthread_mutex_lock(&s->mu);
    struct gd_relaunch *e = NULL;
    for (int i = 0; i < s->nrelaunch; i++)
        if (s->relaunch[i].id == id)
            e = &s->relaunch[i];
    if (!e) {
        struct gd_relaunch *r = realloc(s->relaunch, (size_t)(s->nrelaunch + 1) * sizeof *r);
        if (!r) {
            pthread_mutex_unlock(&s->mu);
            return 1;
        }
        s->relaunch = r;
        e = &r[s->nrelaunch++];
        *e = (struct gd_relaunch){id, -1, 0};
    }
    if (step > e->step) {
        e->step = step;
        e->ends = 0;
    }
    int ends = ++e->ends;
    pthread_mutex_unlock(&s->mu);
    return ends;
}

static void forget_fruitless(struct gd_jobs *s, int64_t id)
{
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->nrelaunch; i++)
        if (s->relaunch[i].id == id)
            s->relaunch[i] = s->relaunch[--s->nrelaunch];
    pthread_mutex_unlock(&s->mu);
}

/* "exit status N" or "killed by SIGNAL" of a wait status. */
static void describe_exit(int ws, char *out, size_t cap)
{
    if (ws < 0)
        snprintf(out, cap, "lost");
    else if (WIFEXITED(ws))
        snprintf(out, cap, "exit status %d", WEXITSTATUS(ws));
    else if (WIFSIGNALED(ws))
        snprintf(out, cap, "killed by signal %d", WTERMSIG(ws));
    else
        snprintf(out, cap, "wait status %d", ws);
}

/* "the ranks' job ended (HOW) ...; last error; last lines", the error of a launch
 * that ended without a final status, into msg. */
static void launch_error(const struct child *ch, const char *first, const char *how, char *msg,
                         size_t cap)
{
    int len = first && first[0] ? snprintf(msg, cap, "%s", first)
                                : snprintf(msg, cap,
                                           "the ranks' job ended (%s) without a final "
                                           "status",
                                           how);
    if (ch->error[0] && !strstr(msg, ch->error) && len < (int)cap)
        len += snprintf(msg + len, cap - (size_t)len, "; %s", ch->error);
    for (int i = 0; i < ch->ntail && len < (int)cap; i++)
        len += snprintf(msg + len, cap - (size_t)len, "%s%s", i ? " | " : "; last: ", ch->tail[i]);
}

/* What the run becomes when the child reported (ch->final) or ended; writes it and
 * takes the job off the active list. */
static enum gd_status conclude(struct gd_job *job, const struct gd_run *before,
                               const struct child *ch, const char *how)
{
    struct gd_jobs *s = job->s;
    int64_t seen = -1;
    enum gd_status stored = GD_RUNNING;
    follow(job, &seen, &stored); /* the last progress */
    struct gd_run r;
    memset(&r, 0, sizeof r);
    struct gc_error err = {0};
    if (gd_store_run_get(s->store, job->id, &r, &err) == 0) {
        stored = r.status;
    } else {
        gd_jobs_log(s, GD_LOG_ERR, job->id, "cannot read the run after its ranks: %s", err.msg);
        r.step = before->step;
    }
    char reason[sizeof job->stop_reason];
    pthread_mutex_lock(&s->mu);
    int req = job->request;
    int stopping = s->stopping;
    snprintf(reason, sizeof reason, "%s", job->stop_reason);
    pthread_mutex_unlock(&s->mu);

    enum gd_status final;
    int64_t step = r.step;
    char msg[1024] = "";
    int failure = 0;
    if (ch->final) {
        final = ch->final_status;
        step = ch->final_step;
        /* a cancel with a reason (a sweep's early stop) shows it, as for any run */
        snprintf(msg, sizeof msg, "%s",
                 final == GD_CANCELED && reason[0] ? reason : ch->final_error);
        /* queued with why: the ranks failed; queued without: stopped (by the daemon's
         * stop, or by a signal to rank 0) */
        failure = final == GD_QUEUED && !stopping;
        if (failure && msg[0])
            launch_error(ch, ch->final_error, how, msg, sizeof msg);
    } else if (req == GD_REQ_CANCEL || req == GD_REQ_PAUSE || stopping) {
        /* the ranks ended before they could act on it: the newest checkpoint stays */
        final = req == GD_REQ_CANCEL ? GD_CANCELED : req == GD_REQ_PAUSE ? GD_PAUSED : GD_QUEUED;
        if (final == GD_CANCELED)
            snprintf(msg, sizeof msg, "%s", reason);
    } else {
        final = GD_QUEUED;
        failure = 1;
        launch_error(ch, stored == GD_QUEUED && r.error ? r.error : NULL, how, msg, sizeof msg);
    }
    if (failure) {
        int ends = count_fruitless(s, job->id, r.step);
        if (ends >= GD_MAX_FRUITLESS) {
            final = GD_FAILED;
            char head[96];
            size_t hn = (size_t)snprintf(
                head, sizeof head, "%d launches in a row ended without a new checkpoint: ", ends);
            size_t ml = strlen(msg);
            if (hn + ml >= sizeof msg)
                ml = sizeof msg - hn - 1;
            memmove(msg + hn, msg, ml);
            memcpy(msg, head, hn);
            msg[hn + ml] = '\0';
            forget_fruitless(s, job->id);
        }
    } else {
        forget_fruitless(s, job->id);
    }
    final = gd_job_finish(s, job, final, msg[0] ? msg : NULL, step, 1);
    gd_jobs_log(s, final == GD_FAILED ? GD_LOG_ERR : GD_LOG_INFO, job->id,
                "ranks ended (%s): %s%s%s", how, gd_status_name(final), msg[0] ? ": " : "", msg);
    gd_run_fini(&r);
    return final;
}

enum gd_status gd_job_launch(struct gd_job *job, const struct gc_spec *spec,
                             const struct gd_run *run)
{
    struct gd_jobs *s = job->s;
    struct gc_error err = {0};
    struct child ch;
    memset(&ch, 0, sizeof ch);
    ch.pid = -1;
    ch.in = ch.out = -1;
    pthread_mutex_lock(&s->mu);
    job->counted = job->step = run->step;
    pthread_mutex_unlock(&s->mu);

    /* the error a failed launch left is the last launch's, not this one's */
    if (run->error && gd_store_run_set_status(s->store, job->id, GD_RUNNING, NULL, &err))
        gd_jobs_log(s, GD_LOG_WARN, job->id, "cannot clear the last launch's error: %s", err.msg);
    char how[64] = "not started";
    int ws = -1, exited = 1;
    if (spawn(job, spec->train.ranks, &ch, &err) == 0) {
        exited = watch(job, &ch, &ws);
        if (exited)
            read_output(job, &ch, 1);
    } else {
        snprintf(ch.error, sizeof ch.error, "%s", err.msg);
    }
    if (exited)
        describe_exit(ws, how, sizeof how);
    else
        snprintf(how, sizeof how, "reported by rank 0");
    enum gd_status final = conclude(job, run, &ch, how);
    if (!exited && ch.pid > 0) {
        ws = wait_exit(job, &ch);
        read_output(job, &ch, 1);
        describe_exit(ws, how, sizeof how);
        gd_jobs_log(s, GD_LOG_DEBUG, job->id, "ranks exited (%s)", how);
    }
    if (ch.in >= 0)
        close(ch.in);
    if (ch.out >= 0)
        close(ch.out);
    return final;
}
