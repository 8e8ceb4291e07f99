/* train.h — `ganctld train SPEC.json`: one run trained in the foreground. */
#ifndef GD_TRAIN_H
#define GD_TRAIN_H

#include "daemon/config.h"

/* Stores the spec's run as a POST would and trains it on this thread with the same
 * worker code as the daemon; progress goes to stderr, the run object as one JSON line
 * to stdout. Returns the exit status: 0 when the run succeeded, 1 when it did not, 2
 * for a spec that cannot be read or is invalid. */
int gd_train_main(const struct gd_config *c);

#endif
