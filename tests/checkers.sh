#!/bin/sh
# The dynamic checkers, one suite for tests/run.sh; ends with "N passed, N failed, N skipped".
#   ThreadSanitizer  build-thread/: every unit test (test_store_claims also against
#                    PostgreSQL: claims racing over the connection pool), and the API,
#                    daemon, hostile-input, security and CLI suites against
#                    build-thread/ganctld (and ganctl)
#   ASan+UBSan       tests/integration/test_api.py against build-address/ganctld (the
#                    unit tests already run under build-address/ in tests/run.sh)
#   valgrind         build-valgrind/ (-march=haswell: valgrind has no AVX-512): the fast
#                    unit tests under memcheck with --leak-check=full
# Any sanitizer or memcheck report fails the suite: the reports go to files through
# log_path (the daemon's stderr is a log the tests delete) and any file there counts.
#   tests/checkers.sh [tsan|asan|valgrind]...   default: all three
cd "$(dirname "$0")/.."
. tests/lib.sh
LOGS=build/test-logs/checkers
rm -rf "$LOGS"
mkdir -p "$LOGS/reports"
REP=$(pwd)/$LOGS/reports

# Unit tests too slow under valgrind's one-thread-at-a-time execution: the long
# training tests, the scheduler's (worker threads training next to OpenBLAS's spinning
# threads: over 5 minutes), the store's fault loop (a minute) and the ranks' (up to
# three trainers as threads meeting at a barrier in every collective call). TSan
# covers the scheduler and the ranks; test_store_faults runs normally and under ASan;
# test_store_claims' racing claims are threads and locks, TSan's; test_gan_tricks and
# test_task train, and test_unet's finite differences run thousands of passes
# (test_model_par runs the skip connections under valgrind).
VALGRIND_SKIP="test_gan test_gan_tricks test_classifier test_sched test_store_faults test_store_claims test_dist test_task test_unet"
# Unit tests that TSan has nothing to check in: the store's fault loop is one thread
# driving SQLite through a failing VFS (a minute under TSan); test_store and
# test_sched cover the store's and the scheduler's threads. test_task and test_unet
# train and differentiate on one thread (test_model_par splits the skips over threads).
TSAN_SKIP="test_store_faults test_task test_unet"

# one failure per report file (or a report that reached the log itself)
reports() { # label dir log...
    label=$1
    dir=$2
    shift 2
    n=$(find "$dir" -type f | wc -l)
    if grep -lE 'WARNING: ThreadSanitizer|ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:' "$@" >/dev/null 2>&1; then
        n=$((n + 1))
    fi
    if [ "$n" -gt 0 ]; then
        FAIL=$((FAIL + 1))
        echo "---- $label: sanitizer reports"
        find "$dir" -type f | head -3 | while read -r f; do head -40 "$f"; done
        echo "$label: reports found, 1 failed"
    else
        PASS=$((PASS + 1))
        echo "$label: no reports, 1 passed"
    fi
}

run_tsan() {
    d="$REP/tsan"
    mkdir -p "$d"
    export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 suppressions=$(pwd)/tests/tsan.supp log_path=$d/tsan"
    for t in build-thread/tests/test_*; do
        [ -x "$t" ] || continue
        name=$(basename "$t")
        case " $TSAN_SKIP " in *" $name "*) continue ;; esac
        timed "tsan $name" "$LOGS/tsan-$name.log" cmocka "$t"
    done
    if [ -n "$GANCTL_TEST_PG_DIR" ] && [ -x build-thread/tests/test_store_claims ]; then
        timed "tsan test_store_claims-pg" "$LOGS/tsan-test_store_claims-pg.log" cmocka \
            env GANCTL_TEST_STORE=postgres build-thread/tests/test_store_claims
    fi
    # the daemon's threads, event streams and store over a real socket; the CLI suite
    # runs the TSan ganctl against the TSan ganctld
    for s in test_api test_daemon test_hostile test_security test_cli test_translate; do
        timed "tsan $s" "$LOGS/tsan-$s.log" line env GANCTLD="$(pwd)/build-thread/ganctld" \
            GANCTL_BUILD="$(pwd)/build-thread" /usr/bin/python3 tests/integration/$s.py
    done
    reports "tsan" "$d" "$LOGS"/tsan-*.log
    unset TSAN_OPTIONS
}

run_asan() {
    d="$REP/asan"
    mkdir -p "$d"
    log="$LOGS/asan-test_api.log"
    GANCTLD=build-address/ganctld \
        ASAN_OPTIONS="detect_leaks=1:log_path=$d/asan" \
        UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$d/ubsan" \
        /usr/bin/python3 tests/integration/test_api.py >"$log" 2>&1
    tally line "asan test_api" "$log" $?
    reports "asan" "$d" "$log"
}

run_valgrind() {
    for t in build-valgrind/tests/test_*; do
        [ -x "$t" ] || continue
        name=$(basename "$t")
        case " $VALGRIND_SKIP " in *" $name "*) continue ;; esac
        log="$LOGS/valgrind-$name.log"
        valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
            "$t" >"$log" 2>&1
        rc=$?
        # memcheck's exit code 99 counts as a failure; show what it said
        tally cmocka "valgrind $name" "$log" $rc
        if [ $rc = 99 ]; then
            echo "---- $log: memcheck reports"
            grep '^==[0-9]*== ' "$log" | head -40
        fi
    done
}

for what in ${*:-tsan asan valgrind}; do
    case $what in
    tsan) run_tsan ;;
    asan) run_asan ;;
    valgrind) run_valgrind ;;
    *) echo "usage: $0 [tsan|asan|valgrind]..." >&2; exit 2 ;;
    esac
done
summary
[ "$FAIL" = 0 ] && [ "$PASS" -gt 0 ]
