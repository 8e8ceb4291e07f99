/* cmd_submit.h — `ganctl submit`: queue a run from a spec file and flags. */
#ifndef CTL_CMD_SUBMIT_H
#define CTL_CMD_SUBMIT_H

#include "cli/context.h"
#include "cli/error.h"

/* Prints the new run's id (the run object with --json); with --watch follows it as
 * `ganctl watch` does and returns what that returns. */
int ctl_cmd_submit(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err);

#endif
