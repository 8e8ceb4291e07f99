#!/usr/bin/python3
"""test_multi.py — many daemons on one PostgreSQL store, as on many machines.

Real processes and a real server (pgserver.py), nothing mocked:
- three daemons, twelve runs submitted to all three: each run is trained exactly once
  (claimed once, started once in all three logs), all three take a share, and every
  daemon's API lists every run and the three workers with their capacity;
- kill -9 of the daemon training a run, mid-step: another daemon claims it once the
  lease runs out and finishes it from the newest checkpoint, and its final checkpoint is
  byte-identical to the same spec trained without interruption (`ganctld train`, the
  same thread count); an event stream opened on the other daemon follows the run across
  the death of the one that trained it, to its end;
- pause, resume and cancel sent to a daemon that does not train the run reach the one
  that does (the time it took is printed);
- PostgreSQL stopped for 10 s while two runs train and started again: /healthz says
  degraded with the reason and reads answer 503 meanwhile; afterwards nothing the API
  had returned is lost or changed, the points logged during the outage are there (kept
  in memory, written on its return), and the runs go on to succeed;
- a run whose dataset path the claiming daemon cannot open fails with a message naming
  that daemon and the path;
- the password of the store never reaches a log: neither one in the URI (which is
  logged with *** for it) nor one from PGPASSFILE.

The store's unit tests race 200 claims between six stores (test_store_claims.c). Only
the standard library. The last line printed is "N passed, N failed, N skipped"."""

import calendar
import hashlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ganctld_proc  # noqa: E402
import pgserver  # noqa: E402
from ganctld_proc import BIN, TERMINAL, clean_env, run_suite  # noqa: E402
from test_api import SSE  # noqa: E402

HEARTBEAT_S = 1
LEASE_S = 3
STEPS = 1500  # of each of the twelve runs


def spec(name, steps, seed=1, log=20, checkpoint=500):
    return {"name": name, "dataset": {"name": "ring8"}, "model": {"hidden": 32},
            "train": {"steps": steps, "batch_size": 32, "seed": seed},
            "every": {"log": log, "sample": 0, "checkpoint": checkpoint, "eval": 0}}


def sha(b):
    return hashlib.sha256(b).hexdigest()


class Cluster(unittest.TestCase):
    """Daemons on one database of the test server; each test has its own database."""

    @classmethod
    def setUpClass(cls):
        why = pgserver.available()
        if why:
            raise unittest.SkipTest(why)
        cls.pg = pgserver.shared()

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ganctl-multi-")
        self.db = self.pg.database()
        self.daemons = []

    def tearDown(self):
        if not self.pg.running:
            self.pg.resume()
        for d in self.daemons:
            d.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def daemon(self, name, workers=1, extra=(), store=None, env=None, lease=LEASE_S):
        data = os.path.join(self.tmp, name)
        os.makedirs(data, exist_ok=True)
        args = ["--store", store or self.pg.uri(self.db), "--name", name, "--workers",
                str(workers), "--threads", str(workers), "--heartbeat", str(HEARTBEAT_S),
                "--lease", str(lease)] + list(extra)
        e = {"GANCTL_HEARTBEAT_MS": "300"}
        e.update(env or {})
        d = ganctld_proc.Daemon(data, args, log_path=os.path.join(self.tmp, name + ".log"),
                                env=e)
        self.daemons.append(d)
        return d.start()

    def sql(self, q):
        return self.pg.psql(q, self.db)

    def create(self, d, body):
        return d.json("POST", "/api/v1/runs", body, expect=201)

    def started_lines(self, rid):
        """The lines of every daemon's log that say run rid started training."""
        out = []
        for d in self.daemons:
            for line in d.tail(10 ** 7).splitlines():
                if re.search(r"run %d: started at step" % rid, line):
                    out.append(line)
        return out


class ManyDaemonsTest(Cluster):
    def test_twelve_runs_on_three_daemons_each_trained_once(self):
        ds = [self.daemon(n, workers=2) for n in ("a", "b", "c")]
        ids = []
        for i in range(12):
            ids.append(self.create(ds[i % 3], spec("r%d" % i, STEPS, seed=i + 1))["id"])
        running_on = {}
        deadline = time.time() + 180
        while time.time() < deadline:
            runs = {r["id"]: r for r in ds[1].json("GET", "/api/v1/runs?limit=50")["runs"]}
            for rid in ids:
                if runs[rid]["status"] == "running" and runs[rid]["worker"]:
                    running_on.setdefault(rid, runs[rid]["worker"])
            if all(runs[rid]["status"] in TERMINAL for rid in ids):
                break
            time.sleep(0.05)
        for d in ds:
            # every daemon shows every run, finished, with no worker
            runs = {r["id"]: r for r in d.json("GET", "/api/v1/runs?limit=50")["runs"]}
            for rid in ids:
                self.assertEqual(runs[rid]["status"], "succeeded", runs[rid])
                self.assertEqual(runs[rid]["step"], STEPS)
                self.assertIsNone(runs[rid]["worker"])
        # each trained exactly once: one claim, one start in all the logs together
        claims = {int(i): int(c) for i, c in self.sql("SELECT id, claim FROM runs")}
        for rid in ids:
            self.assertEqual(claims[rid], 1, "run %d claimed %d times" % (rid, claims[rid]))
            self.assertEqual(len(self.started_lines(rid)), 1, self.started_lines(rid))
        trained_by = {}
        for d in self.daemons:
            for rid in ids:
                if re.search(r"run %d: started at step" % rid, d.tail(10 ** 7)):
                    trained_by.setdefault(d.args[d.args.index("--name") + 1], []).append(rid)
        print("runs trained by each daemon: %s; seen running on: %s"
              % (trained_by, running_on))
        self.assertEqual(set(trained_by), {"a", "b", "c"}, "a daemon took no run")
        self.assertTrue(running_on, "no run was seen running with its worker")
        for rid, w in running_on.items():
            self.assertIn(rid, trained_by[w])
        # the workers, as every daemon lists them
        for d in ds:
            w = d.json("GET", "/api/v1/workers")
            self.assertEqual(w["self"], d.args[d.args.index("--name") + 1])
            self.assertEqual([x["name"] for x in w["workers"]], ["a", "b", "c"])
            for x in w["workers"]:
                self.assertTrue(x["alive"], x)
                self.assertEqual((x["workers"], x["threads"], x["lease_s"]), (2, 2, LEASE_S))
                self.assertEqual(x["running"], [])
        # a daemon that stops leaves the list
        self.assertEqual(ds[2].stop(), 0)
        names = [x["name"] for x in ds[0].json("GET", "/api/v1/workers")["workers"]]
        self.assertEqual(names, ["a", "b"])


class TakeoverTest(Cluster):
    def reference(self, body):
        """The final checkpoint of body trained without interruption by `ganctld train`
        (SQLite, one thread)."""
        ref = os.path.join(self.tmp, "ref")
        path = os.path.join(self.tmp, "ref.json")
        with open(path, "w") as f:
            json.dump(body, f)
        r = subprocess.run([BIN, "train", path, "--data", ref, "--threads", "1"],
                           capture_output=True, text=True, timeout=600, env=clean_env())
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        c = sqlite3.connect(os.path.join(ref, "ganctl.db"))
        try:
            row = c.execute("SELECT step, data FROM checkpoints ORDER BY step DESC"
                            " LIMIT 1").fetchone()
        finally:
            c.close()
        self.assertEqual(row[0], body["train"]["steps"])
        return row[1]

    def test_kill_9_of_the_owner_another_finishes_bit_for_bit(self):
        body = spec("takeover", 40000, seed=11, log=50, checkpoint=2000)
        refs = []
        ref_thread = threading.Thread(target=lambda: refs.append(self.reference(body)))
        ref_thread.start()
        a = self.daemon("a")
        rid = self.create(a, body)["id"]
        a.wait_status(rid, {"running"})
        b = self.daemon("b")  # after the claim: a trains it
        run = b.json("GET", "/api/v1/runs/%d" % rid)
        self.assertEqual(run["worker"], "a")
        # a stream on b, from the start of the run's events
        stream = SSE(b, "/api/v1/runs/%d/events" % rid, last_id=0, timeout=120)
        got = []
        reader = threading.Thread(target=lambda: got.extend(stream.until(
            lambda e: e[1] == "status" and e[2]["status"] in TERMINAL)))
        reader.start()
        # kill a mid-step, some checkpoints in
        while b.json("GET", "/api/v1/runs/%d" % rid)["step"] < 5000:
            time.sleep(0.02)
        a.kill()
        killed_at = time.time()
        run = b.wait_status(rid, TERMINAL, timeout=300)
        self.assertEqual(run["status"], "succeeded", run)
        reader.join(60)
        stream.close()
        took_over = [ln for ln in b.tail(10 ** 7).splitlines()
                     if "run %d: claimed from a" % rid in ln]
        self.assertTrue(took_over, b.tail())
        resumed = re.search(r"run %d: resumed from the checkpoint of step (\d+)" % rid,
                            b.tail(10 ** 7))
        self.assertIsNotNone(resumed, b.tail())
        print("a killed at step >= 5000; b took the run over %.1f s later (lease %d s) and"
              " resumed from the checkpoint of step %s" % (
                  self.first_claim_delay(b, rid, killed_at), LEASE_S, resumed.group(1)))
        # the stream on b followed the run across a's death, to its end
        self.assertTrue(got, "no events on b's stream")
        self.assertEqual(got[-1][1], "status")
        self.assertEqual(got[-1][2]["status"], "succeeded")
        steps = [e[2]["step"] for e in got if e[1] == "metrics"]
        self.assertEqual(steps[-1], 40000)
        self.assertTrue(any(s <= 5000 for s in steps) and any(s > 20000 for s in steps))
        ids = [e[0] for e in got]
        self.assertEqual(ids, sorted(set(ids)))
        workers = {e[2]["worker"] for e in got if e[1] == "status" and e[2]["worker"]}
        self.assertEqual(workers, {"a", "b"})
        # byte-identical to the uninterrupted run
        st, _, data = b.request("GET", "/api/v1/runs/%d/checkpoints/40000" % rid)
        self.assertEqual(st, 200)
        ref_thread.join()
        self.assertEqual(len(refs), 1)
        self.assertTrue(data == refs[0], "final checkpoint differs: sha256 %s vs %s"
                        % (sha(data), sha(refs[0])))
        claims = self.sql("SELECT claim FROM runs WHERE id = %d" % rid)
        self.assertEqual(claims, [["2"]])

    @staticmethod
    def first_claim_delay(d, rid, since):
        """Seconds from since to the moment d logged taking run rid over (the log's
        times have a resolution of 1 s)."""
        for line in d.tail(10 ** 7).splitlines():
            if "run %d: claimed from" % rid in line:
                t = calendar.timegm(time.strptime(line.split()[0], "%Y-%m-%dT%H:%M:%SZ"))
                return t - since
        return float("nan")

    def test_verbs_through_a_daemon_that_does_not_train_the_run(self):
        a = self.daemon("a")
        rid = self.create(a, spec("verbs", 10000000, log=50, checkpoint=1000))["id"]
        a.wait_status(rid, {"running"})
        b = self.daemon("b")
        c = self.daemon("c")
        run = b.json("GET", "/api/v1/runs/%d" % rid)
        self.assertEqual((run["status"], run["worker"]), ("running", "a"))
        while b.json("GET", "/api/v1/runs/%d" % rid)["step"] < 500:
            time.sleep(0.02)
        took = {}
        for verb, want in (("pause", "paused"), ("resume", None), ("cancel", "canceled")):
            t0 = time.time()
            r = b.json("POST", "/api/v1/runs/%d/%s" % (rid, verb))
            if want is None:
                self.assertIn(r["status"], ("queued", "running"))
                run = c.wait_status(rid, {"running"}, timeout=30)
                step = run["step"]
                while c.json("GET", "/api/v1/runs/%d" % rid)["step"] <= step + 100:
                    time.sleep(0.02)
                continue
            self.assertIn(r["status"], ("running", want))  # a request for its owner
            run = c.wait_status(rid, {want}, timeout=30)
            took[verb] = time.time() - t0
            self.assertIsNone(run["worker"])
            if want == "paused":
                ck = [x["step"] for x in
                      c.json("GET", "/api/v1/runs/%d/checkpoints" % rid)["checkpoints"]]
                self.assertIn(run["step"], ck)
        print("pause and cancel through a daemon that does not train the run reached its"
              " owner in %.2f s and %.2f s" % (took["pause"], took["cancel"]))
        for v, t in took.items():
            self.assertLess(t, 2.0, "%s took %.2f s" % (v, t))


class OutageTest(Cluster):
    def test_postgres_stopped_10_s_mid_training_nothing_lost(self):
        # the lease outlasts the outage, as the default 30 s does
        a, b = self.daemon("a", lease=30), self.daemon("b", lease=30)
        ids = [self.create(a, spec("out-a", 400000, seed=3, log=100, checkpoint=5000))["id"],
               self.create(b, spec("out-b", 400000, seed=4, log=100, checkpoint=5000))["id"]]
        for rid in ids:
            a.wait_status(rid, {"running"})
        while min(a.json("GET", "/api/v1/runs/%d" % rid)["step"] for rid in ids) < 6000:
            time.sleep(0.05)
        before = self.record(a, ids)
        self.pg.stop("fast")
        t0 = time.time()
        try:
            # degraded, with the reason; reads answer 503 with a problem body
            seen = set()
            while time.time() - t0 < 10:
                for d in (a, b):
                    st, h, body = d.request("GET", "/healthz")
                    self.assertEqual(st, 200)
                    health = json.loads(body)
                    if health["status"] == "degraded":
                        self.assertIn("unreachable", health["store"])
                        seen.add("degraded")
                    st, h, body = d.request("GET", "/api/v1/runs/%d" % ids[0])
                    if st == 503:
                        self.assertTrue(h["content-type"].startswith("application/problem+json"))
                        self.assertEqual(json.loads(body)["status"], 503)
                        seen.add("503")
                time.sleep(0.5)
            self.assertEqual(seen, {"degraded", "503"})
            for d in (a, b):
                self.assertTrue(d.alive(), d.tail())
        finally:
            self.pg.resume()
        # back: it reconnects by itself, the runs go on, nothing returned before is lost
        for d in (a, b):
            deadline = time.time() + 30
            while d.json("GET", "/healthz")["status"] != "ok":
                self.assertLess(time.time(), deadline, d.tail())
                time.sleep(0.2)
        # the runs went on training meanwhile: what they logged, kept in memory, is
        # written now, and they go on
        last = {rid: max(s for (r, n, s) in before if r == rid) for rid in ids}
        deadline = time.time() + 60
        for rid in ids:
            while True:
                pts = a.json("GET", "/api/v1/runs/%d/metrics?name=loss_d&max_points=1"
                             % rid)["metrics"]["loss_d"]
                if pts and pts[-1][0] > last[rid] + 2000:
                    break
                self.assertLess(time.time(), deadline, "run %d does not go on" % rid)
                time.sleep(0.2)
        after = self.record(a, ids)
        for key, value in before.items():
            self.assertIn(key, after, "%r lost" % (key,))
            self.assertEqual(after[key], value, "%r changed" % (key,))
        # the points logged while the store was away were kept and written: no gap
        for rid in ids:
            steps = sorted(s for (r, n, s) in after if r == rid and n == "loss_d")
            self.assertEqual(steps, list(range(100, steps[-1] + 1, 100)), "run %d" % rid)
        kept = [ln for d in (a, b) for ln in d.tail(10 ** 7).splitlines()
                if "keeping results in memory" in ln]
        self.assertTrue(kept, "no run kept results in memory while the store was away")
        for rid in ids:
            a.json("POST", "/api/v1/runs/%d/cancel" % rid)
            self.assertEqual(a.wait_status(rid, TERMINAL)["status"], "canceled")
        print("store away %.0f s; %d metric points recorded before, %d after, no gap"
              % (10, len(before), len(after)))

    @staticmethod
    def record(d, ids):
        """Every metric point of the runs, as the API returns them."""
        out = {}
        for rid in ids:
            m = d.json("GET", "/api/v1/runs/%d/metrics?max_points=100000" % rid)["metrics"]
            for name, pts in m.items():
                for step, value in pts:
                    out[(rid, name, step)] = value
        return out


class HostTest(Cluster):
    def test_a_dataset_missing_on_the_claiming_daemon_fails_naming_it(self):
        # a has the file in its dataset root, b does not; a is busy, so b claims the run
        roots = {n: os.path.join(self.tmp, "datasets-" + n) for n in ("a", "b")}
        for r in roots.values():
            os.makedirs(r)
        with open(os.path.join(roots["a"], "images.idx"), "wb") as f:
            f.write(b"\x00\x00\x08\x03" + (16).to_bytes(4, "big") + (28).to_bytes(4, "big")
                    + (28).to_bytes(4, "big") + bytes(16 * 784))
        a = self.daemon("a", extra=["--datasets", roots["a"]])
        busy = self.create(a, spec("busy", 10000000))["id"]
        a.wait_status(busy, {"running"})
        b = self.daemon("b", extra=["--datasets", roots["b"]])
        rid = self.create(a, {"dataset": {"name": "idx", "path": "images.idx"},
                              "model": {"z_dim": 8, "g_width": 4, "d_width": 4},
                              "train": {"steps": 2, "batch_size": 4}})["id"]
        run = a.wait_status(rid, TERMINAL, timeout=60)
        self.assertEqual(run["status"], "failed", run)
        self.assertIn("worker b: stored spec: dataset.path: 'images.idx' does not exist under"
                      " the dataset root %s" % os.path.realpath(roots["b"]), run["error"])
        claims = self.sql("SELECT claim FROM runs WHERE id = %d" % rid)
        self.assertEqual(claims, [["1"]])  # failed once, not retried forever
        a.json("POST", "/api/v1/runs/%d/cancel" % busy)

    def test_the_password_is_never_logged(self):
        pw = pgserver.PASSWORD
        # in the URI: logged with *** for it
        a = self.daemon("a", store=self.pg.uri(self.db, tcp=True, password=True))
        self.assertEqual(a.json("GET", "/healthz")["status"], "ok")
        rid = self.create(a, spec("pw", 200))["id"]
        a.wait_status(rid, TERMINAL)
        # from a password file
        pgpass = os.path.join(self.tmp, "pgpass")
        with open(pgpass, "w") as f:
            f.write("127.0.0.1:%d:*:%s:%s\n" % (self.pg.port, pgserver.USER, pw))
        os.chmod(pgpass, 0o600)
        b = self.daemon("b", store=self.pg.uri(self.db, tcp=True),
                        env={"PGPASSFILE": pgpass})
        self.assertEqual(b.json("GET", "/api/v1/runs/%d" % rid)["status"], "succeeded")
        # a wrong one: refused at the start, with a message, without the password
        data = os.path.join(self.tmp, "c")
        bad = self.pg.uri(self.db, tcp=True, password=True).replace(pw, "wrong-" + pw)
        r = subprocess.run([BIN, "--store", bad, "--data", data, "--listen", "127.0.0.1:0"],
                           capture_output=True, text=True, timeout=60, env=clean_env())
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("password authentication failed", r.stderr)
        self.assertNotIn(pw, r.stderr)
        for d in (a, b):
            d.stop()
            self.assertNotIn(pw, d.tail(10 ** 7))
        self.assertIn("postgresql://%s:***@127.0.0.1:%d/%s" % (pgserver.USER, self.pg.port,
                                                                self.db), a.tail(10 ** 7))


if __name__ == "__main__":
    sys.exit(run_suite(__name__))
