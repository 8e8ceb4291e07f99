#!/usr/bin/python3
"""test_crash.py — kill -9 during training, again and again: nothing acknowledged is
lost, the store stays sound, interrupted runs finish, and a run killed and resumed
several times ends with the same checkpoint bytes as one that was never interrupted.

A daemon with two workers (one compute thread each) trains a long run and a few short
ones that the test submits on the way. The test kills it with SIGKILL at random
moments: while it opens the store (before it answers), right after a POST returned,
and at random times during training. Before each kill it records everything the API
returned (runs, every metric point, sample PNGs, checkpoint lists and bytes); while
the daemon is down it runs PRAGMA integrity_check on the store, read-only; after each
restart it checks that everything recorded is still there and unchanged. At the end
every run must have succeeded, and each run's final checkpoint (and every metric but
images_per_s) must equal that of the same spec trained without interruption by
`ganctld train --threads 1` into another data directory.

The moments come from a seeded generator; the seed is printed first and
GANCTL_CRASH_SEED=N repeats it (timing still varies a little). GANCTL_CRASH_KILLS sets
the number of kills (default 24), GANCTL_CRASH_SHORT the short runs (default 6) and
GANCTL_CRASH_LONG the long run's steps (default 100000), for a shorter version. With GANCTL_STORE=postgres the store is a PostgreSQL
database: the daemon keeps one --name across its lives (as one on a fixed port does),
so each start queues again the runs it left running, and the store's soundness is the
server's (the check is that it answers). The last line printed is "N passed, N failed,
N skipped"."""

import hashlib
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ganctld_proc import (BIN, PG, TERMINAL, Daemon, clean_env, integrity, open_ro,  # noqa
                          run_suite, store_count)

SEED = int(os.environ.get("GANCTL_CRASH_SEED", str(int(time.time() * 1000) % 1000000)))
KILLS = int(os.environ.get("GANCTL_CRASH_KILLS", "24"))

# Steps of the long run: several kills land while it trains even on a fast machine
# (about 6,000 steps/s on one thread on a busy machine and faster on a quiet one; at
# most ~1.3 s of training per life; 40,000 steps let it finish after 2 kills once).
LONG_STEPS = int(os.environ.get("GANCTL_CRASH_LONG", "100000"))
SHORT_RUNS = int(os.environ.get("GANCTL_CRASH_SHORT", "6"))


def long_spec():
    return {"name": "crash-long", "dataset": {"name": "ring8"}, "model": {"hidden": 32},
            "train": {"steps": LONG_STEPS, "batch_size": 32, "seed": 7},
            "every": {"log": 50, "sample": 4000, "checkpoint": 1000, "eval": 10000}}


def short_spec(rng, i):
    """A short run with a randomly chosen loss and set, so the kills also land in
    other code paths (Wasserstein clipping, label smoothing draws, hinge)."""
    loss = rng.choice(["nonsaturating", "minimax", "least-squares", "hinge", "wasserstein"])
    spec = {"name": "crash-short-%d" % i, "dataset": {"name": rng.choice(["ring8", "grid25"])},
            "model": {"hidden": 32}, "loss": loss,
            "train": {"steps": rng.choice([3000, 4000, 5000]), "batch_size": 32,
                      "seed": rng.randrange(1, 1000)},
            "every": {"log": 20, "sample": 1000, "checkpoint": 500, "eval": 0}}
    if loss == "wasserstein":
        spec["train"]["d_steps"] = 2
    elif loss != "hinge" and rng.random() < 0.5:
        spec["tricks"] = {"label_smoothing": [0.8, 1.0]}
    return spec


def sha(b):
    return hashlib.sha256(b).hexdigest()


class Record:
    """Everything the API has returned so far, to hold the daemon to it."""

    def __init__(self):
        self.runs = {}      # id -> fields that never change (+ the whole object once final)
        self.metrics = {}   # (run, name, step) -> value
        self.samples = {}   # (run, step) -> sha256 of the PNG
        self.ckpts = {}     # (run, step) -> (bytes, sha256, created_at)
        self.ckpt_bytes = {}  # (run, step) -> sha256 of the bytes fetched
        self.interrupted = {}  # run id -> kills that found it running

    @staticmethod
    def fixed(run):
        keep = {k: run[k] for k in ("id", "name", "spec", "steps", "created_at")}
        if run["status"] in TERMINAL:
            keep["final"] = run
        return keep

    def add_run(self, run):
        old = self.runs.get(run["id"])
        new = self.fixed(run)
        if old and "final" in old:
            new["final"] = old["final"]
        self.runs[run["id"]] = new


class CrashTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ganctl-crash-")
        self.d = None
        self.ref_thread = None

    def tearDown(self):
        if self.d:
            self.d.kill()
        if self.ref_thread:
            self.ref_thread.join()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # ---- recording and checking --------------------------------------------------

    def snapshot(self, d, rec):
        """Records what the API returns now (and checks it against what it returned
        before, which catches a change while the daemon runs too)."""
        runs = d.json("GET", "/api/v1/runs?limit=500")["runs"]
        for run in runs:
            rid = run["id"]
            self.check_run(rec, run)
            rec.add_run(run)
            m = d.json("GET", "/api/v1/runs/%d/metrics?max_points=100000" % rid)["metrics"]
            for name, pts in m.items():
                for step, value in pts:
                    key = (rid, name, step)
                    if key in rec.metrics:
                        self.assertEqual(rec.metrics[key], value, "metric %r changed" % (key,))
                    rec.metrics[key] = value
            for s in d.json("GET", "/api/v1/runs/%d/samples" % rid)["samples"]:
                key = (rid, s["step"])
                if key not in rec.samples:
                    st, _, png = d.request("GET", s["url"])
                    self.assertEqual(st, 200)
                    self.assertEqual(png[:8], b"\x89PNG\r\n\x1a\n")
                    rec.samples[key] = sha(png)
            for c in d.json("GET", "/api/v1/runs/%d/checkpoints" % rid)["checkpoints"]:
                key = (rid, c["step"])
                val = (c["bytes"], c["sha256"], c["created_at"])
                if key in rec.ckpts:
                    self.assertEqual(rec.ckpts[key], val, "checkpoint %r changed" % (key,))
                rec.ckpts[key] = val
                if key not in rec.ckpt_bytes:
                    st, _, data = d.request("GET", "/api/v1/runs/%d/checkpoints/%d" % key)
                    self.assertEqual(st, 200)
                    self.assertEqual(len(data), c["bytes"])
                    self.assertEqual(sha(data), c["sha256"])
                    rec.ckpt_bytes[key] = sha(data)
        return runs

    def check_run(self, rec, run):
        old = rec.runs.get(run["id"])
        if not old:
            return
        for k in ("id", "name", "spec", "steps", "created_at"):
            self.assertEqual(run[k], old[k], "run %d: %s changed" % (run["id"], k))
        if "final" in old:
            self.assertEqual(run, old["final"], "finished run %d changed" % run["id"])

    def verify(self, d, rec):
        """Everything recorded is still there and unchanged."""
        runs = {r["id"]: r for r in d.json("GET", "/api/v1/runs?limit=500")["runs"]}
        for rid in rec.runs:
            self.assertIn(rid, runs, "run %d lost" % rid)
            self.check_run(rec, runs[rid])
        by_run = {}
        for (rid, name, step), v in rec.metrics.items():
            by_run.setdefault(rid, {}).setdefault(name, {})[step] = v
        for rid, names in by_run.items():
            m = d.json("GET", "/api/v1/runs/%d/metrics?max_points=100000" % rid)["metrics"]
            for name, pts in names.items():
                have = dict((s, v) for s, v in m.get(name, []))
                for step, v in pts.items():
                    self.assertIn(step, have, "metric %s of run %d at step %d lost"
                                  % (name, rid, step))
                    self.assertEqual(have[step], v, "metric %s of run %d at step %d changed"
                                     % (name, rid, step))
        for (rid, step), digest in rec.samples.items():
            st, _, png = d.request("GET", "/api/v1/runs/%d/samples/%d.png" % (rid, step))
            self.assertEqual(st, 200, "sample %d of run %d lost" % (step, rid))
            self.assertEqual(sha(png), digest, "sample %d of run %d changed" % (step, rid))
        lists = {}
        for (rid, step), val in rec.ckpts.items():
            if rid not in lists:
                lists[rid] = {c["step"]: (c["bytes"], c["sha256"], c["created_at"]) for c in
                              d.json("GET", "/api/v1/runs/%d/checkpoints" % rid)["checkpoints"]}
            self.assertEqual(lists[rid].get(step), val,
                             "checkpoint %d of run %d lost or changed" % (step, rid))
        for (rid, step), digest in rec.ckpt_bytes.items():
            st, _, data = d.request("GET", "/api/v1/runs/%d/checkpoints/%d" % (rid, step))
            self.assertEqual(st, 200)
            self.assertEqual(sha(data), digest, "checkpoint %d of run %d: bytes changed"
                             % (step, rid))

    def check_store(self, db, when):
        if PG:
            self.assertGreaterEqual(store_count(os.path.dirname(db), "runs"), 1, when)
            return
        self.assertEqual(integrity(db), "ok", "integrity_check after %s" % when)

    # ---- the reference runs ----------------------------------------------------------

    def train_references(self, specs, out):
        """`ganctld train` of every spec, one after another, into its own store."""
        ref = os.path.join(self.tmp, "ref")
        for i, spec in enumerate(specs):
            path = os.path.join(self.tmp, "ref-%d.json" % i)
            with open(path, "w") as f:
                json.dump(spec, f)
            r = subprocess.run([BIN, "train", path, "--data", ref, "--threads", "1",
                                "--keep-checkpoints", "1"], capture_output=True, text=True,
                               timeout=600, env=clean_env())
            out.append((r.returncode, r.stdout, r.stderr[-2000:]))
        out.append(os.path.join(ref, "ganctl.db"))

    # ---- the test --------------------------------------------------------------------

    def test_sigkill_at_random_moments(self):
        print("crash test seed %d (GANCTL_CRASH_SEED=%d repeats it), %d kills"
              % (SEED, SEED, KILLS))
        sys.stdout.flush()
        rng = random.Random(SEED)
        data = os.path.join(self.tmp, "data")
        db = os.path.join(data, "ganctl.db")
        # keep every checkpoint: pruning would legitimately drop ones the API returned
        d = self.d = Daemon(data, ["--workers", "2", "--threads", "2",
                                   "--keep-checkpoints", "0"] + (["--name", "crash"] if PG else []))
        specs = [long_spec()] + [short_spec(rng, i) for i in range(1, SHORT_RUNS + 1)]
        refs = []
        ref_thread = self.ref_thread = threading.Thread(target=self.train_references,
                                                        args=(specs, refs))
        ref_thread.start()

        rec = Record()
        pending = list(specs)
        ids = []
        moments = {"opening": 0, "after-post": 0, "training": 0}
        t0 = time.time()
        d.start()
        ids.append(d.json("POST", "/api/v1/runs", pending.pop(0), expect=201)["id"])
        time.sleep(rng.uniform(0.3, 1.0))
        self.snapshot(d, rec)
        d.kill()
        moments["training"] += 1
        kills = 1
        self.check_store(db, "kill 1")
        while kills < KILLS:
            r = rng.random()
            if kills in (1, 2):
                r = 0.2 if kills == 1 else 0.1  # each kind of moment at least once
            if r < 0.15:
                # while it opens the store, recovers the WAL and re-queues the runs
                d.spawn()
                time.sleep(rng.uniform(0.0, 0.12))
                moments["opening"] += 1
            else:
                d.start()
                self.verify(d, rec)
                posted = False
                if pending and r < 0.45:
                    run = d.json("POST", "/api/v1/runs", pending.pop(0), expect=201)
                    ids.append(run["id"])
                    rec.add_run(run)
                    posted = True
                if posted and r < 0.25:
                    moments["after-post"] += 1  # the 201 must survive
                else:
                    time.sleep(rng.uniform(0.02, 1.2))
                    for run in self.snapshot(d, rec):
                        if run["status"] == "running":
                            rec.interrupted[run["id"]] = rec.interrupted.get(run["id"], 0) + 1
                    if rng.random() < 0.5:
                        time.sleep(rng.uniform(0.0, 0.1))
                    moments["training"] += 1
            d.kill()
            kills += 1
            self.check_store(db, "kill %d" % kills)
        # the runs not submitted yet, then an uninterrupted life to the end
        d.start()
        self.verify(d, rec)
        for spec in pending:
            run = d.json("POST", "/api/v1/runs", spec, expect=201)
            ids.append(run["id"])
            rec.add_run(run)
        crash_time = time.time() - t0
        for rid in ids:
            run = d.wait_status(rid, TERMINAL, timeout=300)
            self.assertEqual(run["status"], "succeeded", run)
        self.snapshot(d, rec)
        self.verify(d, rec)
        final = {}
        for rid in ids:
            run = d.json("GET", "/api/v1/runs/%d" % rid)
            st, _, data = d.request("GET", "/api/v1/runs/%d/checkpoints/%d" % (rid, run["steps"]))
            self.assertEqual(st, 200)
            final[rid] = (run, data)
        self.assertEqual(d.stop(), 0, d.tail())
        self.check_store(db, "the last stop")

        print("%d kills (%s) in %.1f s; runs interrupted (kills while running): %s"
              % (kills, ", ".join("%s %d" % kv for kv in moments.items()), crash_time,
                 {rid: n for rid, n in sorted(rec.interrupted.items())}))
        print("recorded and checked after every restart: %d runs, %d metric points, "
              "%d samples, %d checkpoints" % (len(rec.runs), len(rec.metrics), len(rec.samples),
                                              len(rec.ckpts)))
        self.assertGreaterEqual(kills, 20 if "GANCTL_CRASH_KILLS" not in os.environ else 1)
        if KILLS >= 20:
            self.assertGreaterEqual(rec.interrupted.get(ids[0], 0), 3,
                                    "the long run was not killed several times while training")

        # the same specs trained without interruption
        ref_thread.join()
        ref_db = refs.pop()
        for i, (code, out, err) in enumerate(refs):
            self.assertEqual(code, 0, "reference %d: %s" % (i, err))
        c = open_ro(ref_db)
        try:
            for i, rid in enumerate(ids):
                run, got = final[rid]
                ref_run = json.loads(refs[i][1])
                self.assertEqual(ref_run["spec"], run["spec"], "reference spec %d differs" % i)
                ref_id = ref_run["id"]
                row = c.execute("SELECT step, data FROM checkpoints WHERE run = ?"
                                " ORDER BY step DESC LIMIT 1", (ref_id,)).fetchone()
                self.assertEqual(row[0], run["steps"])
                self.assertEqual(len(got), len(row[1]))
                self.assertTrue(got == row[1],
                                "run %d (%s, killed %d times while training): final checkpoint "
                                "differs from the uninterrupted one (sha256 %s vs %s)"
                                % (rid, run["name"], rec.interrupted.get(rid, 0), sha(got),
                                   sha(row[1])))
                # every figure logged before or after a kill is the uninterrupted one
                ref_m = {(n, s): v for n, s, v in c.execute(
                    "SELECT name, step, value FROM metrics WHERE run = ?", (ref_id,))}
                mine = {(n, s): v for (r_, n, s), v in rec.metrics.items() if r_ == rid}
                self.assertEqual(set(mine), set(ref_m), "run %d: metric points differ" % rid)
                for (n, s), v in mine.items():
                    if n == "images_per_s":
                        continue
                    want = ref_m[(n, s)]
                    want = None if want is None else float("%.15g" % want)
                    self.assertEqual(v, want, "run %d: %s at step %d" % (rid, n, s))
        finally:
            c.close()


if __name__ == "__main__":
    sys.exit(run_suite(__name__))
