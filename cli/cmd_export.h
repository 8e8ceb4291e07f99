/* cmd_export.h — the commands that take a run elsewhere: `ganctl export` (its
 * generator as an ONNX model) and `ganctl reproduce` (train its spec again on this
 * daemon and say whether the final checkpoint comes out byte for byte the same). */
#ifndef CTL_CMD_EXPORT_H
#define CTL_CMD_EXPORT_H

#include "cli/context.h"
#include "cli/error.h"

/* GET .../export?format=onnx[&generator=K] to -o FILE (default run-ID.onnx). */
int ctl_cmd_export(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err);
/* Submits the run's spec again, follows it to the end, compares the final checkpoints'
 * SHA-256 and the provenance of both; 0 when identical, CTL_ENOTSAME (exit 6) with the
 * inputs that differ when not. */
int ctl_cmd_reproduce(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err);

#endif
