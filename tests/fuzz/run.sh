#!/bin/sh
# Runs every fuzz target of build-fuzz/ (made by `make fuzz`) for a bounded time on a
# scratch copy of its seed corpus, and ends with "N passed, N failed" (one test per
# target). A target fails on any crash, leak, timeout, out-of-memory or sanitizer
# report; libFuzzer then leaves the input in build-fuzz/artifacts/.
#   tests/fuzz/run.sh [SECONDS]     default 20 per target
cd "$(dirname "$0")/../.."
SECONDS_EACH=${1:-20}
OUT=build-fuzz
mkdir -p "$OUT/logs" "$OUT/artifacts"
PASS=0
FAIL=0
TOTAL=0
export ASAN_OPTIONS="detect_leaks=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
for bin in "$OUT"/fuzz_*; do
    [ -x "$bin" ] || continue
    name=$(basename "$bin")
    target=${name#fuzz_}
    work="$OUT/corpus/$target"
    rm -rf "$work"
    mkdir -p "$work"
    [ -d "tests/fuzz/corpus/$target" ] && cp "tests/fuzz/corpus/$target"/* "$work"/
    # checkpoints are larger than the other inputs
    maxlen=4096
    [ "$target" = ckpt ] && maxlen=8192
    log="$OUT/logs/$name.log"
    "$bin" -max_total_time="$SECONDS_EACH" -max_len="$maxlen" -timeout=25 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$OUT/artifacts/$name-" "$work" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -1)
    execs=${execs:-0}
    if [ $rc = 0 ] && ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$log"; then
        PASS=$((PASS + 1))
        TOTAL=$((TOTAL + execs))
        echo "$name: $execs executions in ${SECONDS_EACH} s, ok"
    else
        FAIL=$((FAIL + 1))
        echo "---- $log"
        grep -v '^#\|^INFO' "$log" | tail -60
        echo "$name: FAILED after $execs executions (rc $rc)"
    fi
done
echo "fuzz: $TOTAL executions in all"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ] && [ "$PASS" -gt 0 ]
