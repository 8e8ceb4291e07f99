#!/usr/bin/python3
"""test_disk_full.py — the daemon when its disk fills up during training.

The data directory is a small tmpfs of its own (mount needs root; the test is skipped
with a message where mount is not permitted). A run writes a checkpoint every 500
steps; the test fills the rest of the disk with a file, and then:
- /healthz still answers 200, now {"status":"degraded","store":"disk full: ..."};
- the run stays running, shows the error, and stops advancing (it waits, it does not
  fail and lose its steps);
- reads are served: the run list, the run, its metrics, checkpoints and their bytes,
  samples, /metrics; a new run cannot be stored and gets a 5xx, and is not there later;
- when space returns (the filler deleted; the second time, the tmpfs remounted bigger)
  /healthz is ok again, the error is gone and the run trains on from where it waited;
- canceled while it waits, the run ends canceled once space returns;
- after the stop the store passes PRAGMA integrity_check and everything the API
  returned before and during the full disk is still there, unchanged.

The last line printed is "N passed, N failed, N skipped"."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ganctld_proc import Daemon, integrity, run_suite  # noqa: E402


def spec():
    return {"name": "disk-full", "dataset": {"name": "ring8"}, "model": {"hidden": 32},
            "train": {"steps": 10000000, "batch_size": 32},
            "every": {"log": 100, "sample": 5000, "checkpoint": 500, "eval": 0}}


def fill(path):
    """Writes zeros to path until the disk is full; returns the bytes written."""
    n = 0
    chunk = b"\0" * (256 * 1024)
    with open(path, "wb", buffering=0) as f:
        while True:
            try:
                n += f.write(chunk)
            except OSError:
                break
        # the last few pages too: a partial chunk may still fit
        for size in (65536, 4096, 512):
            while True:
                try:
                    n += f.write(b"\0" * size)
                except OSError:
                    break
    return n


class DiskFullTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ganctl-diskfull-")
        self.mnt = os.path.join(self.tmp, "mnt")
        os.mkdir(self.mnt)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m,mode=0700", "tmpfs",
                            self.mnt], capture_output=True, text=True)
        if r.returncode != 0:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.skipTest("cannot mount a tmpfs (needs root): %s" % r.stderr.strip())
        self.d = None

    def tearDown(self):
        if self.d:
            self.d.kill()
        subprocess.run(["umount", self.mnt], capture_output=True)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def record(self, d, rid, rec):
        """What the API returns now; checked against what it returned before."""
        m = d.json("GET", "/api/v1/runs/%d/metrics?name=loss_d&name=d_real&max_points=100000"
                   % rid)["metrics"]
        for name, pts in m.items():
            for step, v in pts:
                self.assertEqual(rec.setdefault(("m", name, step), v), v)
        for c in d.json("GET", "/api/v1/runs/%d/checkpoints" % rid)["checkpoints"]:
            val = (c["bytes"], c["sha256"], c["created_at"])
            self.assertEqual(rec.setdefault(("c", c["step"]), val), val)
        for s in d.json("GET", "/api/v1/runs/%d/samples" % rid)["samples"]:
            rec[("s", s["step"])] = 1
        return rec

    def check_record(self, d, rid, rec):
        now = self.record(d, rid, {})
        for k, v in rec.items():
            self.assertEqual(now.get(k), v, "%r lost or changed" % (k,))

    def wait(self, what, pred, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = pred()
            if got:
                return got
            time.sleep(0.1)
        self.fail("%s within %d s\n%s" % (what, timeout, self.d.tail()))

    def health(self):
        st, h, body = self.d.request("GET", "/healthz")
        self.assertEqual(st, 200)
        self.assertEqual(h.get("content-type"), "application/json")
        return json.loads(body)

    def degraded_phase(self, d, rid, rec, label):
        """The disk is full: checks what the daemon does, returns the step it waits at."""
        h = self.wait("%s: /healthz degraded" % label,
                      lambda: (lambda x: x if x["status"] == "degraded" else None)(self.health()))
        self.assertTrue(h["store"].startswith("disk full: "), h)
        self.assertIn("disk is full", h["store"])
        run = self.wait("%s: the run shows the error" % label,
                        lambda: (lambda r: r if r["error"] else None)(
                            d.json("GET", "/api/v1/runs/%d" % rid)))
        self.assertEqual(run["status"], "running", run)
        # whichever of the run's writes meets the full disk first: a 2D run's sample
        # carries its plane, a write of its own
        self.assertRegex(run["error"],
                         r"^store: put (checkpoint|metrics|sample|plane): .*disk is full")
        # it waits instead of training on without a place for its results
        time.sleep(1.5)
        again = d.json("GET", "/api/v1/runs/%d" % rid)
        self.assertEqual(again["status"], "running")
        self.assertEqual(again["step"], run["step"])
        # reads are served
        self.assertEqual(d.json("GET", "/api/v1/runs")["runs"][0]["id"], rid)
        self.check_record(d, rid, rec)
        ck = d.json("GET", "/api/v1/runs/%d/checkpoints" % rid)["checkpoints"][-1]
        st, _, data = d.request("GET", "/api/v1/runs/%d/checkpoints/%d" % (rid, ck["step"]))
        self.assertEqual(st, 200)
        self.assertEqual(hashlib.sha256(data).hexdigest(), ck["sha256"])
        st, _, text = d.request("GET", "/metrics")
        self.assertEqual(st, 200)
        self.assertIn(b"ganctl", text)
        # writes are refused cleanly and leave nothing behind
        st, h2, body = d.request("POST", "/api/v1/runs", spec())
        self.assertGreaterEqual(st, 500, body)
        self.assertTrue(h2["content-type"].startswith("application/problem+json"))
        self.assertEqual(self.health()["status"], "degraded")
        return again["step"]

    def recovered_phase(self, d, rid, waited_at, label):
        self.wait("%s: /healthz ok again" % label, lambda: self.health() == {"status": "ok"})
        run = self.wait("%s: training goes on" % label,
                        lambda: (lambda r: r if r["step"] > waited_at + 1000 else None)(
                            d.json("GET", "/api/v1/runs/%d" % rid)))
        self.assertEqual(run["status"], "running")
        self.assertIsNone(run["error"])
        cks = d.json("GET", "/api/v1/runs/%d/checkpoints" % rid)["checkpoints"]
        self.assertGreater(cks[-1]["step"], waited_at)

    def test_full_disk_during_training(self):
        data = os.path.join(self.mnt, "data")
        d = self.d = Daemon(data, ["--workers", "1", "--threads", "1", "--keep-checkpoints", "0"],
                            log_path=os.path.join(self.tmp, "ganctld.log")).start()
        self.assertEqual(self.health(), {"status": "ok"})
        rid = d.json("POST", "/api/v1/runs", spec(), expect=201)["id"]
        self.wait("three checkpoints", lambda: len(d.json(
            "GET", "/api/v1/runs/%d/checkpoints" % rid)["checkpoints"]) >= 3)
        rec = self.record(d, rid, {})

        # 1: a filler file takes the rest of the disk, then goes away
        filler = os.path.join(self.mnt, "filler")
        fill(filler)
        waited = self.degraded_phase(d, rid, rec, "filler")
        self.record(d, rid, rec)
        os.unlink(filler)
        self.recovered_phase(d, rid, waited, "filler deleted")
        self.record(d, rid, rec)

        # 2: full again; this time the disk grows
        fill(filler)
        waited = self.degraded_phase(d, rid, rec, "filler again")
        self.record(d, rid, rec)
        r = subprocess.run(["mount", "-o", "remount,size=256m", self.mnt], capture_output=True,
                           text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.recovered_phase(d, rid, waited, "remounted bigger")
        self.record(d, rid, rec)

        # 3: full again, and the run is canceled while it waits: the canceled status
        # waits for space too instead of being lost (a run left running with no worker)
        os.unlink(filler)
        fill(filler)
        self.degraded_phase(d, rid, rec, "full for the cancel")
        self.record(d, rid, rec)
        d.json("POST", "/api/v1/runs/%d/cancel" % rid)
        # every look while it waits: still running and saying why (the training stops,
        # the final status waits for space), never running with no word
        for _ in range(20):
            run = d.json("GET", "/api/v1/runs/%d" % rid)
            self.assertIn(run["status"], ("running", "canceled"), run)
            if run["status"] == "running":
                self.assertIsNotNone(run["error"], run)
                self.assertIn("disk is full", run["error"])
            time.sleep(0.1)
        os.unlink(filler)
        run = d.wait_status(rid, {"canceled", "failed"}, timeout=30)
        self.assertEqual(run["status"], "canceled", run)
        self.assertIsNone(run["error"])
        # a small write can fit in space SQLite holds already while a bigger one fails:
        # the health is ok again with the next write that works (the heartbeat, within
        # half a second), not necessarily with the status
        self.wait("/healthz ok after the cancel", lambda: self.health() == {"status": "ok"},
                  timeout=10)
        self.check_record(d, rid, rec)
        self.assertEqual([r["id"] for r in d.json("GET", "/api/v1/runs")["runs"]], [rid])
        self.assertEqual(d.stop(), 0, d.tail())
        self.assertEqual(integrity(os.path.join(data, "ganctl.db")), "ok")
        log = d.tail(100000)
        self.assertIn("trying again every", log)
        self.assertIn("the store takes writes again", log)

        d = self.d = Daemon(data, ["--workers", "1", "--threads", "1"],
                            log_path=os.path.join(self.tmp, "ganctld.log")).start()
        self.check_record(d, rid, rec)
        self.assertEqual(d.stop(), 0)
        print("recorded and checked: %d metric points, checkpoints and samples" % len(rec))


if __name__ == "__main__":
    sys.exit(run_suite(__name__))
