/* cmd_workers.h — `ganctl workers`: the daemons that train the store's runs. */
#ifndef CTL_CMD_WORKERS_H
#define CTL_CMD_WORKERS_H

#include "cli/context.h"
#include "cli/error.h"

/* One line per worker: name (the daemon asked is marked), alive or not, the runs it
 * trains, its capacity and the age of its heartbeat; the API's object with --json. */
int ctl_cmd_workers(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err);

#endif
