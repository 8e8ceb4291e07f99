/* log.h — ganctld's log: one line per message on stderr, with a UTC timestamp and a
 * level, or with the journal's <N> level prefix when stderr is the systemd journal.
 *
 * Levels are sched.h's GD_LOG_* (syslog's numbers). DEBUG lines (each training step's
 * figures) are shown only when verbose, and the scheduler's at most once a second.
 * Every function may be called from any thread once gd_log_init() has run. */
#ifndef GD_LOG_H
#define GD_LOG_H

#include <stdint.h>

#include "daemon/sched.h"

/* Sees whether stderr is the journal. Call once at the start, before any thread. */
void gd_log_init(void);
/* Shows DEBUG lines too (or not). Call before any thread starts. */
void gd_log_set_verbose(int verbose);

void gd_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A line about one run: "run N: " before the message. */
void gd_log_run(int level, int64_t run, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The scheduler's log hook (a gd_log_fn; ctx is unused). */
void gd_log_sched(void *ctx, int level, int64_t run, const char *msg);

#endif
