/* cmd_runs.h — the commands that list runs, show one, follow one and change its
 * state: `ganctl ls`, `show`, `watch`, `cancel`, `pause`, `resume` and `rm`. */
#ifndef CTL_CMD_RUNS_H
#define CTL_CMD_RUNS_H

#include "cli/context.h"
#include "cli/error.h"

/* Every run (or --limit N of them; --status S), newest first, following the cursor. */
int ctl_cmd_ls(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err);
/* One run: status, progress, times, latest figures, evaluation and spec. */
int ctl_cmd_show(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err);
/* Follows one run to its end; returns what ctl_watch() returns (watch.h). */
int ctl_cmd_watch(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err);
/* POST .../cancel, .../pause, .../resume; say on stderr what the run's status is now. */
int ctl_cmd_cancel(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err);
int ctl_cmd_pause(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err);
int ctl_cmd_resume(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err);
/* DELETE the run with everything it stored. */
int ctl_cmd_rm(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err);

#endif
