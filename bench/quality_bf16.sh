#!/bin/sh
# What train.precision "bf16" costs in quality, ours and PyTorch's: the Fashion-MNIST
# reference DCGAN trained for the same steps in float32 and in bf16 (ours: bfloat16
# GEMM inputs, float32 sums; PyTorch: its CPU autocast), the same seeds, and the FID of
# each run's last step on one yardstick (bench/precision.c: 5,000 samples against the
# test split on the evaluation classifier's features). Seeds alternate between the two
# engines, so both meet the same background load.
#
#   sh bench/quality_bf16.sh [--steps N] [--seeds S] [--threads T]
#
# BUILD=dir selects the build folder (default build); the classifier is cached under
# var/bench-cache. Takes long: 1,000 steps (the default) are ~1.5 CPU minutes a run of
# ours and ~4.5 of PyTorch's; run it under nice.
set -e
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
STEPS=1000 SEEDS=5 THREADS=1
while [ $# -gt 0 ]; do
    case $1 in
    --steps) STEPS=$2 ;;
    --seeds) SEEDS=$2 ;;
    --threads) THREADS=$2 ;;
    *) echo "usage: $0 [--steps N] [--seeds S] [--threads T]" >&2; exit 2 ;;
    esac
    shift 2
done
make --no-print-directory BUILD="$BUILD" "$BUILD/bench/precision" >&2
mkdir -p var/bench-cache
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
TORCH=/usr/bin/python3
HAVE_TORCH=0
"$TORCH" -c "import torch" 2>/dev/null && HAVE_TORCH=1
[ $HAVE_TORCH = 1 ] || echo "PyTorch reference skipped: $TORCH cannot import torch" >&2

s=1
while [ "$s" -le "$SEEDS" ]; do
    "$BUILD/bench/precision" --steps "$STEPS" --seeds 1 --seed0 $((s - 1)) \
        --threads "$THREADS" | grep --line-buffered '^{' | tee -a "$TMP/ours"
    if [ $HAVE_TORCH = 1 ]; then
        for p in float32 bf16; do
            "$TORCH" bench/ref_torch.py --model dcgan --threads "$THREADS" --blas-threads 1 \
                --warmup 0 --steps "$STEPS" --seed "$s" --precision $p \
                --dump "$TMP/torch-$p-$s.idx" >/dev/null
            f=$("$BUILD/bench/precision" --fid-of "$TMP/torch-$p-$s.idx" |
                sed -n 's/.*"fid": *\([0-9.]*\).*/\1/p')
            echo "{\"impl\": \"pytorch\", \"precision\": \"$p\", \"seed\": $s, \"fid\": $f}" |
                tee -a "$TMP/torch"
        done
    fi
    s=$((s + 1))
done

# table FILE NAME: mean +/- sd of each precision's FID and the bf16 / float32 ratio
table() {
    awk -v name="$2" '
        { p = $0; sub(/.*"precision": "/, "", p); sub(/".*/, "", p)
          f = $0; sub(/.*"fid": /, "", f); sub(/[,}].*/, "", f)
          n[p]++; s[p] += f; q[p] += f * f; all[p] = all[p] " " sprintf("%.1f", f) }
        END {
          for (i = 0; i < 2; i++) {
            p = i ? "bf16" : "float32"
            if (!n[p]) continue
            m[p] = s[p] / n[p]; v = n[p] > 1 ? (q[p] - n[p] * m[p] * m[p]) / (n[p] - 1) : 0
            printf "%-8s %-8s FID %7.2f +/- %5.2f  (seeds:%s)\n", name, p, m[p], sqrt(v > 0 ? v : 0), all[p]
          }
          if (m["float32"] > 0 && m["bf16"] > 0)
            printf "%-8s bf16 / float32 mean FID %.3f\n", name, m["bf16"] / m["float32"]
        }' "$1"
}
echo "== FID after $STEPS steps, $SEEDS seeds, $THREADS thread(s)"
table "$TMP/ours" ganctl
[ -s "$TMP/torch" ] && table "$TMP/torch" pytorch
exit 0
