/* cmd_files.h — the commands that fetch what a run produced: `ganctl samples` (its
 * sample grids), `generate` (new samples from its newest checkpoint), `translate` (a
 * picture through a task run's generator) and `checkpoint` (its checkpoints). Without -o the first
 * and last list what there is. */
#ifndef CTL_CMD_FILES_H
#define CTL_CMD_FILES_H

#include "cli/context.h"
#include "cli/error.h"

/* Lists the steps with a sample grid, or downloads one (--step N, else the newest). */
int ctl_cmd_samples(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err);
/* POST .../generate; JSON points to stdout, PNG or IDX (or JSON) to -o FILE. */
int ctl_cmd_generate(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err);
/* POST .../translate: the PNG in FILE (- for stdin) through a task run's generator,
 * the answer to -o FILE. */
int ctl_cmd_translate(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err);
/* Lists the checkpoints kept, or downloads one (--step N, else the newest). */
int ctl_cmd_checkpoint(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err);

#endif
