#!/usr/bin/python3
"""scale_mpi.py — what training on several ranks buys: the reference DCGAN
(Fashion-MNIST 28x28, batch 64) trained by `ganctld train` on 1 rank x 1 thread, on
2 ranks x 1 thread (mpirun, shared memory) and on 1 rank x 2 threads, side by side in
alternating rounds on this machine; the share of a step spent in collective calls;
the bytes each rank sends per step; and, from those measured inputs, a model of the
speed-up on 2 to 32 hosts.

  bench/scale_mpi.py [--build DIR] [--rounds N] [--steps N]

Measured here:
  - images/s: the run's own images_per_s metric (the whole batch's images per second
    of training time), the median over the logged intervals after the first, the best
    of the rounds (the least disturbed by the machine's other load);
  - comm_share: the run's metric, the fraction of training time inside collective
    calls (gradient sums, batch-norm statistics, figures; waiting for the other rank
    included);
  - payload per step: what each rank hands to the collective calls in a step
    (`ganctld train` logs it from the communicator's counters), and the calls per step;
  - bytes on the wire: the same 2-rank run over TCP on the loopback device of a network
    namespace of its own (unshare -n), whose counters see nothing else, at two lengths,
    so the difference is per step (skipped where namespaces are not allowed);
  - compute time per step at the batch one rank gets: 1 rank x 1 thread at batch
    64, 32, 16, 8, 4 and 2 (and 128, 256 for the larger global batches), in seconds per
    step.

Modelled (a model, with the measured inputs above): a step on N hosts takes the
compute time of a batch of B/N on one host plus a ring allreduce of the payload,
2 (N-1)/N x payload / bandwidth, plus a latency of LATENCY_S per message for each of
the 2 (N-1) messages of every collective call of the step. Bandwidth 10 and 25 Gbit/s
(line rate, no protocol overhead); LATENCY_S is an assumed figure for TCP over such a
link, not a measurement. The speed-up is one host's step time over N hosts'. The
batch at which it stops paying is the global batch below which N hosts are no faster
than one (per host B/N)."""

import argparse
import json
import math
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
           "OMPI_MCA_rmaps_base_oversubscribe": "1"}
LATENCY_S = 25e-6
HOSTS = [2, 4, 8, 32]
GBITS = [10, 25]


def spec(batch, steps, log):
    return {"dataset": {"name": "fashion-mnist"}, "train": {"steps": steps, "batch_size": batch},
            "every": {"log": log, "sample": 0, "checkpoint": 0, "eval": 0}}


def train(ganctld, tmp, s, ranks=0, threads=1, mca=(), wrap=()):
    """One `ganctld train`; returns (median images/s, median comm_share, stderr)."""
    d = tempfile.mkdtemp(dir=tmp)
    path = os.path.join(d, "spec.json")
    with open(path, "w") as f:
        json.dump(s, f)
    argv = [ganctld, "train", path, "--data", os.path.join(d, "var"), "--threads", str(threads)]
    if ranks:
        argv = ["mpirun", "-np", str(ranks)] + list(mca) + argv
    env = dict(os.environ, **MPI_ENV)
    p = subprocess.run(list(wrap) + argv, capture_output=True, text=True, env=env, timeout=3600)
    if p.returncode:
        raise RuntimeError("%s failed:\n%s" % (" ".join(argv), p.stderr[-2000:]))
    c = sqlite3.connect(os.path.join(d, "var", "ganctl.db"))
    rows = dict()
    for name, step, value in c.execute(
            "SELECT name, step, value FROM metrics WHERE kind = 0 AND name IN "
            "('images_per_s', 'comm_share') ORDER BY step"):
        rows.setdefault(name, []).append(value)
    c.close()
    shutil.rmtree(d, ignore_errors=True)
    ips = rows["images_per_s"][1:] or rows["images_per_s"]
    share = rows.get("comm_share", [0.0])
    share = share[1:] or share
    return statistics.median(ips), statistics.median(share), p.stderr


def per_step(stderr):
    """(collective calls, payload bytes) per step and rank from rank 0's last line."""
    m = re.search(r"([0-9.]+) collective calls and ([0-9.]+) MB summed per step", stderr)
    return (float(m.group(1)), float(m.group(2)) * 1e6) if m else (0.0, 0.0)


def wire_bytes(ganctld, tmp, steps):
    """Bytes both ranks put on the loopback device of a fresh network namespace, per
    step, from two run lengths; None where unshare -n is not allowed."""
    if not shutil.which("unshare"):
        return None
    out = []
    for n in (steps, 2 * steps):
        d = tempfile.mkdtemp(dir=tmp)
        path = os.path.join(d, "spec.json")
        with open(path, "w") as f:
            json.dump(spec(64, n, n), f)
        # /proc/net/dev is the namespace's own (/sys/class/net would be the host's)
        tx = "$(awk '$1 == \"lo:\" {print $10}' /proc/net/dev)"
        script = ("ip link set lo up && a=%s && "
                  "mpirun -np 2 --mca btl self,tcp --mca btl_tcp_if_include lo "
                  "--mca oob_tcp_if_include lo %s train %s --data %s/var --threads 1 "
                  ">/dev/null 2>&1 && b=%s && echo $((b - a))") % (tx, ganctld, path, d, tx)
        p = subprocess.run(["unshare", "-n", "sh", "-c", script], capture_output=True,
                           text=True, env=dict(os.environ, **MPI_ENV), timeout=3600)
        shutil.rmtree(d, ignore_errors=True)
        if p.returncode or not p.stdout.strip():
            return None
        out.append(int(p.stdout.strip()))
    return (out[1] - out[0]) / steps


def interp(table, b):
    """Compute seconds per step at batch b (>= 1), log-log between the measured batches,
    in proportion beyond the largest."""
    xs = sorted(table)
    if b <= xs[0]:
        return table[xs[0]]
    if b >= xs[-1]:
        return table[xs[-1]] * b / xs[-1]
    for lo, hi in zip(xs, xs[1:]):
        if lo <= b <= hi:
            t = (math.log(b) - math.log(lo)) / (math.log(hi) - math.log(lo))
            return math.exp(math.log(table[lo]) + t * (math.log(table[hi]) - math.log(table[lo])))
    return table[xs[-1]]


def comm_time(n, payload, calls, gbit):
    if n == 1:
        return 0.0
    bw = gbit * 1e9 / 8
    return 2 * (n - 1) / n * payload / bw + calls * 2 * (n - 1) * LATENCY_S


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=120)
    a = ap.parse_args()
    ganctld = os.path.join(a.build, "ganctld")
    if not shutil.which("mpirun"):
        print("scale_mpi: no mpirun (scripts/deps.sh build installs openmpi-bin)")
        return 1
    tmp = tempfile.mkdtemp(prefix="ganctl-bench-mpi-")
    try:
        return run(a, ganctld, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(a, ganctld, tmp):
    print("load average before: %s" % open("/proc/loadavg").read().split()[:3])
    configs = [("1 rank x 1 thread", 0, 1), ("2 ranks x 1 thread", 2, 1),
               ("1 rank x 2 threads", 0, 2)]
    best = {name: (0.0, 0.0) for name, _, _ in configs}
    calls = payload = 0.0
    ref = spec(64, a.steps, 20)
    for r in range(a.rounds):
        for name, ranks, threads in configs:
            ips, share, err = train(ganctld, tmp, ref, ranks, threads)
            if ranks:
                calls, payload = per_step(err)
            if ips > best[name][0]:
                best[name] = (ips, share)
            print("round %d  %-20s %8.1f images/s%s" % (r + 1, name, ips,
                  "  %.1f%% in collectives" % (100 * share) if ranks else ""))
    base = best[configs[0][0]][0]
    print()
    print("DCGAN, Fashion-MNIST 28x28, batch 64 (best of %d rounds):" % a.rounds)
    print("%-20s %10s %8s %s" % ("", "images/s", "x 1x1", "time in collective calls"))
    for name, ranks, _ in configs:
        ips, share = best[name]
        print("%-20s %10.1f %8.2f %s" % (name, ips, ips / base,
                                         "%.1f%%" % (100 * share) if ranks else "-"))
    print("per step and rank: %.1f collective calls, %.2f MB of payload" % (calls, payload / 1e6))
    wire = wire_bytes(ganctld, tmp, 30)
    if wire is None:
        print("bytes on the wire: not measured (no network namespace here)")
    else:
        print("bytes on the wire (TCP, loopback of a namespace of its own): %.2f MB per step "
              "for both ranks, %.2f MB per rank" % (wire / 1e6, wire / 2e6))

    # compute time per step at the batch one rank gets
    batches = [1, 2, 4, 8, 16, 32, 64, 128, 256]
    tc = {}
    for b in batches:
        steps = max(30, min(400, int(a.steps * 64 / b)))
        ips, _, _ = train(ganctld, tmp, spec(b, steps, max(5, steps // 6)), 0, 1)
        tc[b] = b / ips
    print()
    print("compute per step, 1 rank x 1 thread: " +
          ", ".join("batch %d %.1f ms" % (b, 1e3 * tc[b]) for b in batches))
    print()
    print("MODEL (measured inputs: compute per step by batch, %.2f MB payload and %.1f "
          "collective calls per step; assumed: line-rate bandwidth, %.0f us a message):" %
          (payload / 1e6, calls, LATENCY_S * 1e6))
    for B in (64, 256):
        print("global batch %d, speed-up over one host:" % B)
        print("  %-10s" % "Gbit/s" + "".join("%9d hosts" % n for n in HOSTS))
        for g in GBITS:
            row = []
            for n in HOSTS:
                t1 = interp(tc, B)
                tn = interp(tc, B / n) + comm_time(n, payload, calls, g)
                row.append(t1 / tn)
            print("  %-10d" % g + "".join("%15.2f" % x for x in row))
    print("smallest global batch at which N hosts are faster than one (per host in brackets):")
    print("  %-10s" % "Gbit/s" + "".join("%9d hosts" % n for n in HOSTS))
    for g in GBITS:
        row = []
        for n in HOSTS:
            b = 1  # per host
            while b < 1 << 16 and interp(tc, b * n) <= interp(tc, b) + comm_time(n, payload,
                                                                                calls, g):
                b += 1
            row.append("%7d (%4d)" % (b * n, b))
        print("  %-10d" % g + "".join("%15s" % x for x in row))
    print("load average after: %s" % open("/proc/loadavg").read().split()[:3])
    return 0


if __name__ == "__main__":
    sys.exit(main())
