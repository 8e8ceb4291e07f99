#!/bin/sh
# Runs every test suite and ends with the one summary line "N passed, N failed, N skipped"
# (a test or a suite that could not run here is skipped, with its reason, never passed).
#   tests/run.sh              every suite (what `make test` runs after building)
#   tests/run.sh --unit-only  the unit tests of build/ only
# Each suite's output goes to build/test-logs/; a failing suite's log is printed.
cd "$(dirname "$0")/.."
. tests/lib.sh
LOGS=build/test-logs
mkdir -p "$LOGS"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"

# suite KIND LABEL COMMAND... runs one suite into its log and counts it
suite() {
    kind=$1
    label=$2
    shift 2
    timed "$label" "$LOGS/$label.log" "$kind" "$@"
}

# cmocka unit tests of a build folder: the normal build, then ASan+UBSan
run_unit() { # build dir
    [ -d "$1/tests" ] || return 0
    for t in "$1"/tests/test_*; do
        [ -x "$t" ] && suite cmocka "$(basename "$1")-$(basename "$t")" "$t"
    done
}

# npm packages (the OpenAPI linter, validator and client generator of test_openapi, the
# browser driver of e2e, the emoji sets the image-to-image tests train on) come from
# the lockfile when missing: before the unit tests, which read the emoji too.
if [ ! -d node_modules ] || [ ! -d node_modules/emoji-datasource-twitter ]; then
    npm ci --no-audit --no-fund >"$LOGS/npm-ci.log" 2>&1 || cat "$LOGS/npm-ci.log" >&2
fi

# the layering, self-contained headers and file sizes (scripts/check-layout.sh)
suite line layout make --no-print-directory -s check-layout

run_unit build
if [ "$1" = "--unit-only" ]; then
    summary
    [ "$FAIL" = 0 ] && [ "$PASS" -gt 0 ]
    exit
fi
run_unit build-address


# The real daemon over loopback (python stdlib suites; each prints its own line).
for t in tests/integration/test_*.py; do
    [ -f "$t" ] && suite line "$(basename "$t" .py)" /usr/bin/python3 "$t"
done

# The dynamic checkers (TSan, ASan on the API suite, valgrind), the fuzz targets for
# FUZZ_SECONDS each (default 15, one test per target) and the load test. The figures
# the README quotes (fuzz executions, load requests/s and p99) are echoed.
if [ -x build-thread/ganctld ]; then
    suite line checkers sh tests/checkers.sh
else
    skip_suite checkers "build-thread/ganctld is not built (make SAN=thread all tests)"
fi
if ls build-fuzz/fuzz_* >/dev/null 2>&1; then
    suite line fuzz sh tests/fuzz/run.sh "${FUZZ_SECONDS:-15}"
else
    skip_suite fuzz "build-fuzz/ has no fuzz targets (make BUILD=build-fuzz FUZZ=1 CC=clang fuzz-bins)"
fi
suite line load sh tests/load/run.sh
grep -hE '^(fuzz_[a-z]+: [0-9]+ executions|fuzz: [0-9]+ executions|load: )' \
    "$LOGS/fuzz.log" "$LOGS/load.log" 2>/dev/null

# The dashboard in headless chromium.
if [ ! -x /usr/bin/chromium ]; then
    skip_suite e2e "no /usr/bin/chromium (scripts/deps.sh test installs it)"
elif [ ! -d node_modules/playwright-core ]; then
    skip_suite e2e "npm ci did not install playwright-core (see $LOGS/npm-ci.log)"
else
    suite tap e2e node --test tests/e2e/
fi

summary
[ "$FAIL" = 0 ] && [ "$PASS" -gt 0 ]
