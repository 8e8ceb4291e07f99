/* watch.h — `ganctl watch ID`: follows one run's event stream to its end.
 *
 * Reads the run, then its events (GET /api/v1/runs/{id}/events). On a terminal it draws
 * one progress line on stderr (step, rate, ETA, latest losses) redrawn with '\r';
 * otherwise, or with NO_COLOR, it prints one plain line per event. With --json every
 * event goes to stdout as a JSON line instead. A dropped connection (the daemon was
 * restarted, say) is retried with a growing pause and resumed with Last-Event-ID,
 * until the run ends or the daemon stays unreachable for retry_for_s seconds.
 *
 * SIGINT and SIGTERM end the watch (CTL_EINTR) after tidying the terminal line. */
#ifndef CTL_WATCH_H
#define CTL_WATCH_H

#include <stdint.h>

#include "cli/error.h"
#include "cli/http.h"

struct ctl_watch_opts {
    int64_t run;
    int json;          /* events as JSON lines on stdout */
    int fancy;         /* progress bar on stderr (a terminal, no NO_COLOR) */
    int retry_for_s;   /* give up after this long unreachable; 0: never */
    const char *token; /* for the second connection that polls the run's status */
};

/* 0 when the run succeeded; CTL_ERUNFAILED when it failed or was canceled;
 * CTL_ENOTFOUND, CTL_EAUTH, CTL_EFAIL (already reported on stderr) when the API said
 * no; CTL_ECONNECT with err set when the daemon stayed away; CTL_EINTR on a signal.
 * Borrows c. */
int ctl_watch(struct ctl_client *c, const struct ctl_watch_opts *opts, struct ctl_error *err);

#endif
