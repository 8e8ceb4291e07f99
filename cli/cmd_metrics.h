/* cmd_metrics.h — `ganctl metrics`: a run's metric series as one table or CSV. */
#ifndef CTL_CMD_METRICS_H
#define CTL_CMD_METRICS_H

#include "cli/context.h"
#include "cli/error.h"

/* GET /api/v1/runs/{id}/metrics with the names and step range asked for; prints one
 * row per step and one column per metric (the API's object with --json). */
int ctl_cmd_metrics(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err);

#endif
