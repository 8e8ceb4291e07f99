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

# cmocka unit tests of a build folder: the normal build, then ASan+UBSan; the store's
# own tests once more against PostgreSQL (the server below): both in the normal build,
# the one of every kind of row under ASan (the racing claims run under TSan instead,
# tests/checkers.sh)
run_unit() { # build dir
    [ -d "$1/tests" ] || return 0
    for t in "$1"/tests/test_*; do
        [ -x "$t" ] && suite cmocka "$(basename "$1")-$(basename "$t")" "$t"
    done
    pg_unit="test_store test_store_claims"
    [ "$1" = build ] || pg_unit="test_store"
    for t in $pg_unit; do
        [ -x "$1/tests/$t" ] || continue
        if [ -n "$GANCTL_TEST_PG_DIR" ]; then
            suite cmocka "$(basename "$1")-$t-pg" env GANCTL_TEST_STORE=postgres "$1/tests/$t"
        else
            skip_suite "$(basename "$1")-$t-pg" "$PG_WHY"
        fi
    done
}

# One throwaway PostgreSQL server for every suite that needs one (the store's unit
# tests, test_multi, the suites run again with GANCTL_STORE=postgres, the dashboard):
# tests/integration/pgserver.py serve keeps it while its stdin is open and removes it
# when it closes, which the EXIT trap does, and when this shell is gone.
PG_WHY=""
start_pg() {
    PG_FIFO=$(mktemp -u /tmp/ganctl-pg-fifo.XXXXXX)
    mkfifo "$PG_FIFO" || return 1
    /usr/bin/python3 tests/integration/pgserver.py serve <"$PG_FIFO" >"$LOGS/pgserver.log" 2>&1 &
    PG_PID=$!
    exec 9>"$PG_FIFO"
    rm -f "$PG_FIFO"
    trap 'exec 9>&-; wait $PG_PID 2>/dev/null' EXIT
    for _ in $(seq 1 600); do
        read -r dir port rest <"$LOGS/pgserver.log" 2>/dev/null
        case $dir in
        /*) export GANCTL_TEST_PG_DIR=$dir GANCTL_TEST_PG_PORT=$port; return 0 ;;
        unavailable:*) PG_WHY=$(cat "$LOGS/pgserver.log"); return 1 ;;
        esac
        kill -0 $PG_PID 2>/dev/null || break
        sleep 0.1
    done
    PG_WHY="the PostgreSQL server did not start (see $LOGS/pgserver.log)"
    return 1
}

# npm packages (the OpenAPI linter, validator and client generator of test_openapi, the
# browser driver of e2e, the emoji sets the image-to-image tests train on) come from
# the lockfile when missing: before the unit tests, which read the emoji too.
if [ ! -d node_modules ] || [ ! -d node_modules/emoji-datasource-twitter ]; then
    npm ci --no-audit --no-fund >"$LOGS/npm-ci.log" 2>&1 || cat "$LOGS/npm-ci.log" >&2
fi

# the layering, self-contained headers and file sizes (scripts/check-layout.sh)
suite line layout make --no-print-directory -s check-layout

start_pg || echo "PostgreSQL: $PG_WHY"
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
# The API, hostile-input, sweep and crash suites again against the PostgreSQL store (the
# crash suite shorter: 6 kills, 3 runs); test_multi above runs on it alone.
if [ -n "$GANCTL_TEST_PG_DIR" ]; then
    for t in test_api test_hostile test_sweeps; do
        suite line "$t-pg" env GANCTL_STORE=postgres /usr/bin/python3 tests/integration/$t.py
    done
    suite line test_crash-pg env GANCTL_STORE=postgres GANCTL_CRASH_KILLS=6 \
        GANCTL_CRASH_SHORT=2 GANCTL_CRASH_LONG=30000 /usr/bin/python3 tests/integration/test_crash.py
else
    skip_suite "pg suites" "$PG_WHY"
fi

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
if [ -n "$GANCTL_TEST_PG_DIR" ]; then
    suite line load-pg env GANCTL_STORE=postgres LOAD_SECONDS=15 sh tests/load/run.sh
fi
grep -hE '^(fuzz_[a-z]+: [0-9]+ executions|fuzz: [0-9]+ executions|load: )' \
    "$LOGS/fuzz.log" "$LOGS/load.log" "$LOGS/load-pg.log" 2>/dev/null

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
