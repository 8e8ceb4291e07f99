# tests/lib.sh — counting test results, sourced by tests/run.sh and tests/checkers.sh.
#
# tally KIND LABEL LOG RC [SECONDS] adds a suite's counts to PASS, FAIL and SKIP and prints
# "LABEL: N passed, N failed, N skipped". KIND says how the log counts:
#   cmocka   "[  PASSED  ] N test(s).", "[  FAILED  ] N test(s)", "[  SKIPPED ] N test(s)"
#   line     a line "N passed, N failed" or "N passed, N failed, N skipped" (our python
#            suites, fuzz, load, checkers)
#   tap      node's test runner: "# pass N", "# fail N", "# skipped N"
# A non-zero exit with no failed test counts as one failure (a crash, a leak, a
# sanitizer report). A failing suite's log tail is printed. A test that could not run
# (no root for a tmpfs, no network namespaces) is skipped, never passed; so is a whole
# suite that cannot start (skip_suite), with the reason printed.
PASS=${PASS:-0}
FAIL=${FAIL:-0}
SKIP=${SKIP:-0}

# timed LABEL LOG KIND COMMAND... runs COMMAND into LOG and tallies it with its time,
# so the summary shows where the minutes of `make test` go.
timed() {
    _label=$1
    _log=$2
    _kind=$3
    shift 3
    _t0=$(date +%s)
    "$@" >"$_log" 2>&1
    _rc=$?
    tally "$_kind" "$_label" "$_log" $_rc $(($(date +%s) - _t0))
}

# skip_suite LABEL REASON counts a suite that could not run as one skipped test.
skip_suite() {
    SKIP=$((SKIP + 1))
    echo "$1: 0 passed, 0 failed, 1 skipped ($2)"
}

# The closing line of a runner: "N passed, N failed, N skipped".
summary() {
    echo "$PASS passed, $FAIL failed, $SKIP skipped"
}

tally() { # kind label log rc
    case $1 in
    cmocka)
        p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$3" | tail -1)
        f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$3" | tail -1)
        k=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$3" | tail -1)
        ;;
    line)
        l=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$3" | tail -1)
        p=$(echo "$l" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
        f=$(echo "$l" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
        k=$(echo "$l" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p')
        ;;
    tap)
        p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$3" | tail -1)
        f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$3" | tail -1)
        k=$(sed -n 's/^# skipped \([0-9]*\)$/\1/p' "$3" | tail -1)
        ;;
    esac
    p=${p:-0}
    f=${f:-0}
    k=${k:-0}
    if [ "$4" != 0 ] && [ "$f" = 0 ]; then f=1; fi
    PASS=$((PASS + p))
    FAIL=$((FAIL + f))
    SKIP=$((SKIP + k))
    if [ "$f" != 0 ]; then
        echo "---- $3"
        grep -E '^(FAIL|ERROR):' "$3"
        tail -60 "$3"
    fi
    echo "$2: $p passed, $f failed, $k skipped${5:+ (${5} s)}"
}
