#!/bin/sh
# The 2D mode-collapse table: ring8 and grid25 with the plain GAN, the unrolled GAN
# (5 steps) and MAD-GAN (K = 4), 5 seeds each, spec defaults otherwise; modes covered
# and high-quality share (mean +/- std) next to PacGAN's and VEEGAN's published
# figures. Builds bench/quality.c first. Takes a while on one core: pass --seeds N
# (and any other bench/quality.c option) to trade precision for time.
#
#   sh bench/quality.sh [--seeds N] [--sets ring8|grid25|ring8,grid25] [...]
#
# BUILD=dir selects the build folder (default build).
set -e
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
make --no-print-directory BUILD="$BUILD" "$BUILD/bench/quality" >&2
exec "$BUILD/bench/quality" "$@"
