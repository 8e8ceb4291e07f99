#!/bin/sh
# Conditional Fashion-MNIST: the two ways D receives the class (model.conditioning
# projection and concat) at equal steps, 5 seeds each, evaluated as a run evaluates
# (class_accuracy, fid and class_coverage on 5,000 samples asked for the classes of the
# test split, through the evaluation classifier, trained once into --cache). Builds
# bench/conditional.c first; every option of it passes through (--seeds, --steps,
# --width, --conditioning, --loss, --grid-prefix, --every, ...).
#
#   sh bench/conditional.sh [--seeds N] [--steps N] [...]
#
# BUILD=dir selects the build folder (default build). Defaults here: widths 32, 1,500
# steps, evaluations every 500, the classifier cached in var/cache.
#
# One run on the 2-core build machine (the two conditionings side by side, one thread
# each, while other jobs shared the machine: its seconds are wall time, not speed):
#
#   conditioning class_accuracy     fid                class_coverage seconds
#   projection    87.4% +/- 0.5       24.92 +/- 2.88    10.0 +/- 0.0   1218 +/- 284
#   concat        83.4% +/- 1.9       29.52 +/- 1.51    10.0 +/- 0.0   1328 +/- 589
#
# By seed (class_accuracy / fid at 1,500 steps): projection 0.876/25.58 0.868/28.33
# 0.873/26.74 0.881/21.54 0.871/22.39; concat 0.802/31.83 0.835/30.07 0.841/28.51
# 0.838/29.15 0.854/28.00. At 1,000 steps projection 0.811-0.891, concat 0.766-0.804.
# Alone, a run takes about 67 s of one core (ganctld train --threads 1, seed 1).
set -e
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
make --no-print-directory BUILD="$BUILD" "$BUILD/bench/conditional" >&2
exec "$BUILD/bench/conditional" --width 32 --steps 1500 --every 500 "$@"
