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

# field JSON NAME: the number NAME of a one-line JSON object ("" when absent).
field() {
    printf '%s\n' "$1" | sed -n "s/.*\"$2\": *\([-0-9.e+]*\).*/\1/p"
}

# ratio A B [DIGITS]: A / B, or "-" when either is missing.
ratio() {
    awk -v a="$1" -v b="$2" -v d="${3:-2}" \
        'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.*f\n", d, a / b }'
}

# num X: X with one decimal, or "-".
num() {
    awk -v x="$1" 'BEGIN { if (x == "") print "-"; else printf "%.1f\n", x }'
}

# best JSON...: the line with the highest images_per_s (rounds alternate ours and the
# reference so both meet the same background load; the best round is the least
# disturbed one).
best() {
    b=""
    for j in "$@"; do
        if [ -z "$b" ] || awk -v x="$(field "$j" images_per_s)" -v y="$(field "$b" images_per_s)" \
            'BEGIN { exit !(x + 0 > y + 0) }'; then
            b=$j
        fi
    done
    printf '%s\n' "$b"
}

TORCH_PY=/usr/bin/python3
HAVE_TORCH=0
if [ -x "$TORCH_PY" ] && "$TORCH_PY" -c "import torch" 2>/dev/null; then
    HAVE_TORCH=1
else
    echo "PyTorch reference skipped: $TORCH_PY cannot import torch (apt-get install python3-torch)"
fi
ROUNDS=${ROUNDS:-2}
SCALE_THREADS=${SCALE_THREADS:-2}

# train_row MODEL THREADS ENVNAME [env prefix...]: one table row, ours against PyTorch
# in alternating rounds under the same environment, threads and background load.
# MODEL: dcgan (the 28x28 reference), dcgan32, dcgan64 (the DCGAN paper's net), ring8;
# PRECISION=bf16 runs both in bf16 (ours: bfloat16 GEMM inputs; PyTorch: autocast).
train_row() {
    model=$1 threads=$2 envname=$3
    shift 3
    prec=${PRECISION:-float32}
    case $model in
    dcgan) ours_args="--steps 20 --warmup 3" torch_args="--steps 20 --warmup 3" ;;
    dcgan32) ours_args="--size 32 --steps 12 --warmup 2" torch_args="--size 32 --steps 12 --warmup 2" ;;
    dcgan64) ours_args="--size 64 --steps 5 --warmup 1" torch_args="--size 64 --steps 5 --warmup 1" ;;
    *) ours_args="--steps 400 --warmup 50" torch_args="--steps 400 --warmup 50" ;;
    esac
    label=$model base=$model
    case $model in dcgan*) base=dcgan ;; esac
    if [ "$prec" = bf16 ]; then
        ours_args="$ours_args --precision bf16"
        torch_args="$torch_args --precision bf16"
        label=$model-bf16
    fi
    # PyTorch's best 2-thread setting: two OpenMP threads, one BLAS thread
    blas=1
    ceiling=$("$@" "$BENCH/bench_train" --sgemm --threads "$threads") || STATUS=1
    o_all="" t_all=""
    r=0
    while [ $r -lt "$ROUNDS" ]; do
        # shellcheck disable=SC2086
        o=$("$@" "$BENCH/bench_train" --model "$base" --threads "$threads" \
            $ours_args) || STATUS=1
        o_all="$o_all
$o"
        if [ "$model" = ring8 ] && [ $r = 0 ]; then
            # the spec defaults of ring8 as our run reports them, for the same networks
            torch_args="$torch_args --batch $(field "$o" batch) --z-dim $(field "$o" z_dim)"
            torch_args="$torch_args --hidden $(field "$o" hidden) --layers $(field "$o" layers)"
            torch_args="$torch_args --batch-norm $(field "$o" batch_norm)"
        fi
        if [ $HAVE_TORCH = 1 ]; then
            # shellcheck disable=SC2086
            t=$("$@" "$TORCH_PY" bench/ref_torch.py --model "$base" \
                --threads "$threads" --blas-threads $blas $torch_args) || STATUS=1
            t_all="$t_all
$t"
        fi
        r=$((r + 1))
    done
    # shellcheck disable=SC2086
    o=$(IFS='
'; best $o_all)
    t=""
    # shellcheck disable=SC2086
    [ $HAVE_TORCH = 1 ] && t=$(IFS='
'; best $t_all)
    if [ "$model" != ring8 ]; then
        oi=$(field "$o" images_per_s) ti=$(field "$t" images_per_s)
    else
        oi=$(field "$o" steps_per_s) ti=$(field "$t" steps_per_s)
    fi
    orss=$(field "$o" rss_mb) trss=$(field "$t" rss_mb)
    share=$(awk -v g="$(field "$o" gflops)" -v c="$(field "$ceiling" gflops)" \
        'BEGIN { if (c + 0 > 0) printf "%.0f%% of %.0f", 100 * g / c, c; else print "-" }')
    # CPU seconds per step (all threads) of PyTorch over ours: the work each does for a
    # step, which the background load of a shared machine disturbs far less
    cpu=$(ratio "$(field "$t" cpu_s_per_step)" "$(field "$o" cpu_s_per_step)")
    printf '%-13s %2s  %-6s %10s %10s %6s %6s %8s %8s %6s  %s\n' "$label" "$threads" \
        "$envname" "$(num "$oi")" "$(num "$ti")" "$(ratio "$oi" "$ti")" "$cpu" "$(num "$orss")" \
        "$(num "$trss")" "$(ratio "$orss" "$trss")" "$share"
    # for the bf16 rows: our images/s of this row, kept by the caller
    LAST_OURS=$oi
}

# pair_row ENVNAME [env prefix...]: two DCGAN runs of one thread each at once against
# one run of two threads: what two runs sharing the machine get together.
pair_row() {
    envname=$1
    shift
    one=$("$@" "$BENCH/bench_train" --threads 2 --steps 20 --warmup 3) || STATUS=1
    tmp=$(mktemp -d)
    "$@" "$BENCH/bench_train" --threads 1 --steps 20 --warmup 3 >"$tmp/a" &
    pa=$!
    "$@" "$BENCH/bench_train" --threads 1 --steps 20 --warmup 3 >"$tmp/b" &
    pb=$!
    wait $pa || STATUS=1
    wait $pb || STATUS=1
    # mean rates: the two runs overlap for their whole length
    a=$(field "$(cat "$tmp/a")" mean_images_per_s) b=$(field "$(cat "$tmp/b")" mean_images_per_s)
    rm -rf "$tmp"
    sum=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.1f\n", a + b }')
    o1=$(field "$one" mean_images_per_s)
    printf '%-6s two runs x 1 thread: %s + %s = %s images/s; one run x 2 threads: %s;' \
        "$envname" "$a" "$b" "$sum" "$o1"
    printf ' together %s of one\n' "$(ratio "$sum" "$o1")"
}

section "layers: our conv, conv-transpose and linear against the bare GEMMs they run"
run_both bench_layers

section "training: ours against PyTorch (dcgan: images/s; ring8: steps/s; RSS in MB)"
if [ ! -x "$BENCH/bench_train" ]; then
    echo "$BENCH/bench_train: not built (make bench)" >&2
    exit 1
fi
echo "environment as set: OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}," \
    "OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-unset}; unset: both removed for the command"
echo "ratio: ours / PyTorch (wall clock, best of $ROUNDS alternating rounds); CPU x: PyTorch's" \
    "CPU seconds per step / ours; RSS x: our peak RSS / PyTorch's"
printf '%-13s %2s  %-6s %10s %10s %6s %6s %8s %8s %6s  %s\n' model thr env ours pytorch ratio \
    "CPU x" "our RSS" "pt RSS" "RSS x" "our share of the SGEMM ceiling (GFLOP/s)"
for model in dcgan dcgan32 dcgan64 ring8; do
    for threads in 1 2; do
        train_row $model $threads "as set" env
        train_row $model $threads unset env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE
    done
done

section "bf16: ours (bfloat16 GEMM inputs, float32 sums) against PyTorch's CPU autocast"
if [ -x "$BENCH/bench_train" ] && ! "$BENCH/bench_train" --model dcgan --steps 1 --warmup 0 \
    --precision bf16 | grep -q '"precision": "bf16"'; then
    echo "this CPU has no AVX512-BF16: our bf16 runs float32"
    HAS_BF16=0
fi
echo "bf16 x: our bf16 images/s over our float32 images/s of the same model, threads and env"
printf '%-13s %2s  %-6s %10s %10s %6s %6s %8s %8s %6s  %s\n' model thr env ours pytorch ratio \
    "CPU x" "our RSS" "pt RSS" "RSS x" "our share of the SGEMM ceiling (GFLOP/s)"
for model in dcgan dcgan64; do
    for threads in 1 2; do
        PRECISION=float32 train_row $model $threads "as set" env >/dev/null
        f32=$LAST_OURS
        PRECISION=bf16 train_row $model $threads "as set" env
        echo "    bf16 x $(ratio "$LAST_OURS" "$f32")"
    done
done
# the same ratio at 64x64 from steps paired in one process (bench_train --interleave):
# float32 step i and the bf16 step right after it, so that a machine slowing down for a
# minute slows both sides of each ratio
for threads in 1 2; do
    [ "${HAS_BF16:-1}" = 1 ] || break
    if o=$("$BENCH/bench_train" --model dcgan --size 64 --threads $threads --steps 16 \
        --warmup 2 --interleave); then
        echo "dcgan64 $threads thread(s), interleaved: float32 $(field "$o" float32_images_per_s)," \
            "bf16 $(field "$o" bf16_images_per_s) images/s; bf16 x $(field "$o" bf16_x)" \
            "(quartiles $(field "$o" bf16_x_q1)-$(field "$o" bf16_x_q3))"
    else
        STATUS=1
    fi
done
pair_row "as set" env
pair_row unset env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE

# peak_rss CMD...: the peak resident set of CMD in MB (getrusage of the child).
peak_rss() {
    "$TORCH_PY" -c 'import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
print("%.1f" % (resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024))' "$@"
}

# The whole daemon on the reference DCGAN, as a user runs it: `ganctld train` with its
# store, logging, sample grids and checkpoints (100 steps; the checkpoint is the
# peak), against the PyTorch reference's peak; and once with the evaluation at the
# end (the classifier cached first), which PyTorch's reference does not do.
section "memory: peak RSS of ganctld train on the reference DCGAN against PyTorch's (MB)"
tmp=$(mktemp -d)
printf '%s\n' '{"dataset":{"name":"fashion-mnist"},"train":{"steps":100},' \
    '"every":{"log":10,"sample":50,"checkpoint":50,"eval":0}}' >"$tmp/spec.json"
printf '%s\n' '{"dataset":{"name":"fashion-mnist"},"train":{"steps":100},' \
    '"every":{"log":10,"sample":50,"checkpoint":50,"eval":100}}' >"$tmp/eval.json"
printf '%-34s %2s %10s %10s %6s\n' run thr ours pytorch "RSS x"
for threads in 1 2; do
    o=$(peak_rss "$BUILD/ganctld" train "$tmp/spec.json" --data "$tmp/var$threads" \
        --threads $threads) || STATUS=1
    t=""
    [ $HAVE_TORCH = 1 ] && t=$(field "$("$TORCH_PY" bench/ref_torch.py --model dcgan \
        --threads $threads --blas-threads 1 --steps 100 --warmup 3)" rss_mb)
    printf '%-34s %2s %10s %10s %6s\n' "train, samples, checkpoints" $threads "$o" "$(num "$t")" \
        "$(ratio "$o" "$t")"
done
# the classifier trains once into the data folder's cache, then the measured run
"$BUILD/ganctld" train "$tmp/eval.json" --data "$tmp/vare" --threads 2 >/dev/null 2>&1 || STATUS=1
o=$(peak_rss "$BUILD/ganctld" train "$tmp/eval.json" --data "$tmp/vare" --threads 1) || STATUS=1
printf '%-34s %2s %10s %10s %6s\n' "the same with the evaluation" 1 "$o" "-" "-"
rm -rf "$tmp"

# How the cost grows with the batch and the image: images/s and GFLOP/s (the analytic
# flops of our step, the same network and step for both), ours and PyTorch's, one
# round each, with the environment as set, SCALE_THREADS threads (default 2).
section "scaling: images/s and GFLOP/s by image side and batch (DCGAN, $SCALE_THREADS threads)"
printf '%-5s %5s  %10s %10s %6s  %9s %9s\n' side batch ours pytorch ratio "our GF/s" "pt GF/s"
for side in 28 32 64 128; do
    for batch in 16 64 256; do
        # fewer steps where a step takes long
        steps=$(awk -v s=$side -v b=$batch 'BEGIN { w = s * s * b / (28 * 28 * 64); n = int(20 / w); print n < 2 ? 2 : (n > 20 ? 20 : n) }')
        o=$("$BENCH/bench_train" --model dcgan --size $side --batch $batch \
            --threads "$SCALE_THREADS" --steps "$steps" --warmup 1) || STATUS=1
        t=""
        if [ $HAVE_TORCH = 1 ]; then
            t=$("$TORCH_PY" bench/ref_torch.py --model dcgan --size $side --batch $batch \
                --threads "$SCALE_THREADS" --blas-threads 1 --steps "$steps" --warmup 1) || STATUS=1
        fi
        oi=$(field "$o" images_per_s) ti=$(field "$t" images_per_s)
        tg=$(awk -v g="$(field "$o" step_gflop)" -v s="$(field "$t" steps_per_s)" \
            'BEGIN { if (s == "") print ""; else printf "%.1f\n", g * s }')
        printf '%-5s %5s  %10s %10s %6s  %9s %9s\n' $side $batch "$(num "$oi")" "$(num "$ti")" \
            "$(ratio "$oi" "$ti")" "$(num "$(field "$o" gflops)")" "$(num "$tg")"
    done
done

section "SGEMM: our AVX-512 kernel (core/gemm.c) against cblas_sgemm on the shapes of a step"
run_both bench_gemm

section "ranks: the reference DCGAN on 1 and 2 ranks over MPI, and a model of many hosts"
/usr/bin/python3 bench/scale_mpi.py --build "$BUILD" || STATUS=1

# penalty_row THREADS: the reference DCGAN as a Wasserstein critic, one step (five
# critic updates and a G update) with the gradient penalty over one with weight
# clipping, ours and PyTorch's, in alternating rounds (CPU seconds per step: the
# work, which the load of a shared machine disturbs less than the wall clock).
penalty_row() {
    threads=$1
    o_w="" o_g="" t_w="" t_g=""
    r=0
    while [ $r -lt "$ROUNDS" ]; do
        o_w="$o_w $(field "$("$BENCH/bench_train" --critic wgan --threads "$threads" --steps 6 \
            --warmup 1)" cpu_s_per_step)" || STATUS=1
        o_g="$o_g $(field "$("$BENCH/bench_train" --critic wgan-gp --threads "$threads" \
            --steps 6 --warmup 1)" cpu_s_per_step)" || STATUS=1
        if [ $HAVE_TORCH = 1 ]; then
            for c in wgan wgan-gp; do
                x=$(field "$("$TORCH_PY" bench/ref_torch.py --model dcgan --critic $c \
                    --threads "$threads" --blas-threads 1 --steps 6 --warmup 1)" \
                    cpu_s_per_step) || STATUS=1
                if [ $c = wgan ]; then t_w="$t_w $x"; else t_g="$t_g $x"; fi
            done
        fi
        r=$((r + 1))
    done
    # the least disturbed round of each: the smallest CPU time per step
    least() { printf '%s\n' "$@" | awk 'NF && (m == "" || $1 < m) { m = $1 } END { print m }'; }
    ow=$(least $o_w) og=$(least $o_g) tw=$(least $t_w) tg=$(least $t_g)
    printf '%2s  %10s %10s %8s   %10s %10s %8s\n' "$threads" "$ow" "$og" "$(ratio "$og" "$ow")" \
        "${tw:--}" "${tg:--}" "$(ratio "$tg" "$tw")"
}

section "gradient penalty: a WGAN-GP step over a plain WGAN step (reference DCGAN critic, 5 critic steps)"
echo "CPU seconds per step, least of $ROUNDS alternating rounds; cost: WGAN-GP / WGAN"
printf '%-3s %10s %10s %8s   %10s %10s %8s\n' thr "ours wgan" "ours gp" "cost" "torch wgan" \
    "torch gp" "cost"
for threads in 1 2; do
    penalty_row $threads
done

exit $STATUS
