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
#
# One run on the 2-core build machine (5 seeds, spec defaults of core/spec.c:
# 4 x 128 MLPs without batch norm, z 16, Adam 1e-3 beta1 0.5 decayed linearly to
# 1e-5 over the second half (train.lr_decay), 20,000 steps on both sets, batch 100 on
# the ring and 250 on the grid), two processes (one per set) side by side:
#
#   dataset  variant              modes            high quality     published (modes / HQ)
#   ring8    GAN (nonsaturating)  7.2 +/- 0.8      96.8% +/- 0.6    6.3 / 98.2% (PacGAN T1)
#   ring8    unrolled GAN (5)     8.0 +/- 0.0      97.2% +/- 0.7    7.6 (VEEGAN T1)
#   ring8    MAD-GAN (K=4)        7.6 +/- 0.9      99.3% +/- 0.5    -
#   grid25   GAN (nonsaturating)  17.4 +/- 1.5     95.1% +/- 1.3    17.3 / 94.8% (PacGAN T1)
#   grid25   unrolled GAN (5)     14.8 +/- 1.9     95.7% +/- 0.8    23.6 (VEEGAN T1)
#   grid25   MAD-GAN (K=4)        25.0 +/- 0.0     96.4% +/- 0.8    -
#
# Seconds per run: on the ring about 19 for the plain GAN, 68 for the unrolled GAN
# and 61 for MAD-GAN; on the grid (batch 250) 42, 155 and 141. At batch 100 the grid
# gave 15.6 / 94.3%, 12.6 / 93.9% and 23.2 / 94.4%: MAD-GAN covered all 25 modes on
# one seed of five.
# Before the rate decay (a constant 1e-3, 5,000 steps on the ring and 10,000 on the
# grid) the ring gave 6.8 / 71.0%, 8.0 / 86.6%, 4.8 / 85.7% and the grid 15.8 / 76.5%,
# 13.2 / 75.6%, 24.0 / 77.5%: the share oscillated at the constant rate, and the short
# ring runs left each MAD-GAN generator on one mode. See core/spec.c for what each
# default measured.
set -e
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
make --no-print-directory BUILD="$BUILD" "$BUILD/bench/quality" >&2
exec "$BUILD/bench/quality" "$@"
