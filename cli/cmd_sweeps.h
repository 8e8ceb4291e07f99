/* cmd_sweeps.h — sweeps from the command line: `ganctl sweep FILE` submits one (a base
 * spec, axes, seeds, an objective: docs/api.md), `ganctl sweeps` lists them and
 * `ganctl sweeps ID` shows one's configurations ranked by their objective. */
#ifndef CTL_CMD_SWEEPS_H
#define CTL_CMD_SWEEPS_H

#include "cli/context.h"
#include "cli/error.h"

/* POST /api/v1/sweeps with FILE (- for stdin); prints the sweep's id. */
int ctl_cmd_sweep(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err);
/* Every sweep, or one (ID) with its configurations ranked by the objective's mean. */
int ctl_cmd_sweeps(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err);

#endif
