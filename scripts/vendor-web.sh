#!/bin/sh
# Copies the dashboard's chart library (uPlot, pinned in package-lock.json) from
# node_modules into web/vendor, licence included, so the daemon serves it with no
# network and no build step. Run after changing the uplot version; commit the result.
set -eu
cd "$(dirname "$0")/.."
[ -d node_modules/uplot ] || npm ci --no-audit --no-fund
SRC=node_modules/uplot
mkdir -p web/vendor
cp "$SRC/dist/uPlot.iife.min.js" "$SRC/dist/uPlot.min.css" web/vendor/
cp "$SRC/LICENSE" web/vendor/uPlot.LICENSE
ver=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$SRC/package.json" | head -1)
echo "uPlot $ver from npm (node_modules/uplot/dist); licence in uPlot.LICENSE" >web/vendor/README
echo "vendored uPlot $ver into web/vendor" >&2
