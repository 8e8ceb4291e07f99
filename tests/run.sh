#!/bin/sh
# Runs every test suite and ends with the one summary line "N passed, N failed".
#   tests/run.sh              unit tests (build/ and build-address/), then integration
#   tests/run.sh --unit-only  unit tests of build/ only
# Each suite's output goes to build/test-logs/; a failing suite's log is printed.
cd "$(dirname "$0")/.."
LOGS=build/test-logs
mkdir -p "$LOGS"
PASS=0
FAIL=0
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"

# cmocka prints "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s)".
count_cmocka() { # log rc
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$1" | tail -1)
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$1" | tail -1)
    p=${p:-0}
    f=${f:-0}
    if [ "$2" != 0 ] && [ "$f" = 0 ]; then f=1; fi # crashed or leaked
    PASS=$((PASS + p))
    FAIL=$((FAIL + f))
    [ "$f" = 0 ] || { echo "---- $1"; tail -60 "$1"; }
    echo "$(basename "$1" .log): $p passed, $f failed"
}

run_unit() { # build dir
    [ -d "$1/tests" ] || return 0
    for t in "$1"/tests/test_*; do
        [ -x "$t" ] || continue
        log="$LOGS/$(basename "$1")-$(basename "$t").log"
        "$t" >"$log" 2>&1
        count_cmocka "$log" $?
    done
}

run_unit build
[ "$1" = "--unit-only" ] || run_unit build-address

# Integration and end-to-end suites print their own "N passed, N failed" line.
if [ "$1" != "--unit-only" ]; then
    for t in tests/integration/test_*.py; do
        [ -f "$t" ] || continue
        log="$LOGS/$(basename "$t" .py).log"
        /usr/bin/python3 "$t" >"$log" 2>&1
        rc=$?
        line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
        p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
        f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
        p=${p:-0}
        f=${f:-0}
        if [ $rc != 0 ] && [ "$f" = 0 ]; then f=1; fi
        PASS=$((PASS + p))
        FAIL=$((FAIL + f))
        [ "$f" = 0 ] || { echo "---- $log"; tail -80 "$log"; }
        echo "$(basename "$t" .py): $p passed, $f failed"
    done
fi

# Suites that print their own "N passed, N failed" line: the dynamic checkers (TSan,
# ASan on the API suite, valgrind), the fuzz targets (one test each) for FUZZ_SECONDS
# each (15 here to keep CI in its budget; `make fuzz` runs 20) and the load test
# (about a minute; LOAD_SECONDS, see tests/load/run.py).
run_suite() { # name command...
    name=$1
    shift
    log="$LOGS/$name.log"
    "$@" >"$log" 2>&1
    rc=$?
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
    p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
    f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
    p=${p:-0}
    f=${f:-0}
    if [ $rc != 0 ] && [ "$f" = 0 ]; then f=1; fi
    PASS=$((PASS + p))
    FAIL=$((FAIL + f))
    [ "$f" = 0 ] || { echo "---- $log"; tail -80 "$log"; }
    # the figures the README quotes: fuzz executions, load requests/s and p99
    grep -E '^(fuzz_[a-z]+: [0-9]+ executions|fuzz: [0-9]+ executions|load: )' "$log"
    echo "$name: $p passed, $f failed"
}
if [ "$1" != "--unit-only" ]; then
    [ -x build-thread/ganctld ] && run_suite checkers sh tests/checkers.sh
    ls build-fuzz/fuzz_* >/dev/null 2>&1 && run_suite fuzz sh tests/fuzz/run.sh "${FUZZ_SECONDS:-15}"
    [ -f tests/load/run.sh ] && run_suite load sh tests/load/run.sh
fi

# The dashboard in headless chromium (tests/e2e): node's test runner prints TAP with
# "# pass N" and "# fail N"; npm packages come from the lockfile when missing.
if [ "$1" != "--unit-only" ] && [ -d tests/e2e ]; then
    log="$LOGS/e2e.log"
    if [ ! -d node_modules ]; then
        npm ci --no-audit --no-fund >"$LOGS/npm-ci.log" 2>&1 || cat "$LOGS/npm-ci.log" >&2
    fi
    node --test tests/e2e/ >"$log" 2>&1
    rc=$?
    p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | tail -1)
    f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | tail -1)
    p=${p:-0}
    f=${f:-0}
    if [ $rc != 0 ] && [ "$f" = 0 ]; then f=1; fi
    PASS=$((PASS + p))
    FAIL=$((FAIL + f))
    [ "$f" = 0 ] || { echo "---- $log"; tail -80 "$log"; }
    echo "e2e: $p passed, $f failed"
fi

echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ] && [ "$PASS" -gt 0 ]
