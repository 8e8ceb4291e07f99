#!/bin/sh
# Runs the benchmarks (`make bench` builds them first). Each benchmark runs twice:
# with the environment as set, and with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset
# for that one command, so that a forced core type or cache size shows in the numbers.
#
# BUILD=dir selects the build folder (default build). A new benchmark is one more
# section at the end: `section "title"` then `run_both bench_name [args...]`.
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
BENCH=$BUILD/bench
STATUS=0

section() {
    echo
    echo "== $1"
}

# run_both NAME [ARGS...]: $BENCH/NAME with the environment as set, then without the
# two OpenBLAS overrides.
run_both() {
    name=$1
    shift
    if [ ! -x "$BENCH/$name" ]; then
        echo "$BENCH/$name: not built (make bench)" >&2
        STATUS=1
        return
    fi
    echo "-- environment as set (OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}," \
        "OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-unset})"
    "$BENCH/$name" "$@" || STATUS=1
    echo "-- OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset"
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$BENCH/$name" "$@" || STATUS=1
}

section "layers: our conv, conv-transpose and linear against the bare GEMMs they run"
run_both bench_layers

exit $STATUS
