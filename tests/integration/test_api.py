#!/usr/bin/python3
"""test_api.py — the REST API of ganctld over a real loopback socket.

Starts the real build/ganctld (or $GANCTLD) on a free port with a temporary data
directory and drives every endpoint of docs/api.md: status codes, the run
object, pagination, metrics, samples, checkpoints, generate, event streams with
Last-Event-ID replay, /metrics (promtool when installed, else a strict parser), the
OpenAPI document against the routes, static files, auth, restart with nothing lost,
SIGTERM during training then resume, and malformed requests that must get a 4xx with
a useful message and change nothing stored.

Only the standard library. The last line printed is "N passed, N failed, N skipped"."""

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ganctld_proc  # noqa: E402
from ganctld_proc import run_suite  # noqa: E402

HEARTBEAT_MS = 300

RUN_KEYS = {"id", "name", "status", "spec", "step", "steps", "created_at", "started_at",
            "finished_at", "error", "worker", "latest", "eval", "sweep", "provenance",
            "watch", "classes"}
TERMINAL = {"succeeded", "failed", "canceled"}
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def tiny_spec(name="tiny", steps=300, **extra):
    spec = {"name": name, "dataset": {"name": "ring8"},
            "model": {"hidden": 32},
            "train": {"steps": steps, "batch_size": 32},
            "every": {"log": 10, "sample": 100, "checkpoint": 100, "eval": steps}}
    spec.update(extra)
    return spec


def long_spec(name="long"):
    # long enough to be caught mid-training; checkpoints often so pause/resume are quick
    return {"name": name, "dataset": {"name": "ring8"}, "model": {"hidden": 32},
            "train": {"steps": 2000000, "batch_size": 32},
            "every": {"log": 50, "sample": 0, "checkpoint": 500, "eval": 0}}


class Daemon(ganctld_proc.Daemon):
    """One ganctld process on a free loopback port, with the flags these tests use."""

    def __init__(self, data, token=None, web=None, datasets=None):
        args = ["--workers", "1", "--threads", "1"]
        if token:
            args += ["--token-file", os.path.join(data, "token")]
        if web:
            args += ["--web", web]
        if datasets:
            args += ["--datasets", datasets]
        super().__init__(data, args, log_path=os.path.join(data, "ganctld.log"), token=token,
                         env={"GANCTL_HEARTBEAT_MS": str(HEARTBEAT_MS)})
        self.web = web
        self.datasets = datasets

    def start(self):
        if self.token:
            tf = os.path.join(self.data, "token")
            with open(tf, "w") as f:
                f.write(self.token + "\n")
            os.chmod(tf, 0o600)
        return super().start(timeout=15)

    def stop(self, sig=signal.SIGTERM, timeout=20):
        """Sends sig and returns the exit code (None when it had to be killed)."""
        return super().stop(timeout, sig=sig)

    def create(self, spec):
        st, h, data = self.request("POST", "/api/v1/runs", spec)
        if st != 201:
            raise AssertionError("create: %d %r" % (st, data[:500]))
        return json.loads(data)

    def wait_step(self, rid, step, timeout=90):
        deadline = time.time() + timeout
        while time.time() < deadline:
            run = self.json("GET", "/api/v1/runs/%d" % rid)
            if run["step"] >= step or run["status"] in TERMINAL:
                return run
            time.sleep(0.05)
        raise AssertionError("run %d did not reach step %d" % (rid, step))


class SSE:
    """A reader of one event stream."""

    def __init__(self, daemon, path, last_id=None, timeout=10):
        self.c = daemon.conn(timeout=timeout)
        h = {}
        if daemon.token:
            h["Authorization"] = "Bearer " + daemon.token
        if last_id is not None:
            h["Last-Event-ID"] = str(last_id)
        self.c.request("GET", path, headers=h)
        self.resp = self.c.getresponse()
        self.status = self.resp.status
        self.headers = {k.lower(): v for k, v in self.resp.getheaders()}
        self.comments = []

    def next(self):
        """The next event as (id, type, data) or None at the end of the stream."""
        ev = {}
        while True:
            line = self.resp.readline()
            if not line:
                return None
            line = line.decode("utf-8").rstrip("\n")
            if line == "":
                if ev:
                    return int(ev["id"]), ev["event"], json.loads(ev["data"])
                continue
            if line.startswith(":"):
                self.comments.append(line)
                continue
            k, _, v = line.partition(": ")
            ev[k] = v

    def until(self, pred, limit=100000):
        out = []
        for _ in range(limit):
            e = self.next()
            if e is None:
                break
            out.append(e)
            if pred(e):
                break
        return out

    def close(self):
        self.c.close()


def check_prometheus(testcase, text):
    """promtool when installed, else a strict parser of the text format 0.0.4."""
    promtool = shutil.which("promtool")
    if promtool:
        p = subprocess.run([promtool, "check", "metrics"], input=text.encode(),
                           capture_output=True, timeout=30)
        testcase.assertEqual(p.returncode, 0, p.stdout + p.stderr)
    name_re = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
    sample_re = re.compile(r"^(%s)(\{(%s=\"(?:[^\"\\\n]|\\.)*\")(,%s=\"(?:[^\"\\\n]|\\.)*\")*\})?"
                           r" (-?[0-9.eE+-]+|NaN|[+-]Inf)$" % (name_re, name_re, name_re))
    types = {}
    helps = set()
    seen_samples = set()
    for line in text.splitlines():
        testcase.assertTrue(line.strip() == line and line, "stray whitespace: %r" % line)
        if line.startswith("# HELP "):
            name = line.split(" ")[2]
            testcase.assertNotIn(name, helps, "two HELP lines for " + name)
            helps.add(name)
        elif line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ")
            testcase.assertIn(typ, ("counter", "gauge"))
            testcase.assertNotIn(name, types)
            types[name] = typ
        else:
            m = sample_re.match(line)
            testcase.assertIsNotNone(m, "bad sample line %r" % line)
            name = m.group(1)
            testcase.assertIn(name, types, "sample before its TYPE: " + line)
            if types[name] == "counter":
                testcase.assertTrue(name.endswith("_total"), name)
            key = line.rsplit(" ", 1)[0]
            testcase.assertNotIn(key, seen_samples, "duplicate sample " + key)
            seen_samples.add(key)
    testcase.assertEqual(set(types), helps)
    return types


def make_web(base):
    web = os.path.join(base, "web")
    os.makedirs(web)
    with open(os.path.join(web, "index.html"), "w") as f:
        f.write("<!doctype html><title>test dashboard</title>")
    with open(os.path.join(web, "app.css"), "w") as f:
        f.write("body{}")
    with open(os.path.join(base, "secret.txt"), "w") as f:
        f.write("top secret")
    return web


class ApiTest(unittest.TestCase):
    """One daemon for the endpoint tests."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ganctl-api-")
        cls.web = make_web(cls.tmp)
        cls.datasets = os.path.join(cls.tmp, "datasets")
        os.makedirs(os.path.join(cls.datasets, "pngs"))
        # a small IDX3 image file: 16 images of 28x28
        with open(os.path.join(cls.datasets, "images.idx"), "wb") as f:
            f.write(b"\x00\x00\x08\x03" + (16).to_bytes(4, "big") + (28).to_bytes(4, "big")
                    + (28).to_bytes(4, "big") + bytes((i * 7) % 256 for i in range(16 * 784)))
        # its labels, IDX1 as MNIST ships them: classes 1, 3, 4 and 6; and a file one
        # label short
        for name, n in (("labels.idx", 16), ("short-labels.idx", 15)):
            with open(os.path.join(cls.datasets, name), "wb") as f:
                f.write(b"\x00\x00\x08\x01" + n.to_bytes(4, "big")
                        + bytes((1, 3, 4, 6)[i % 4] for i in range(n)))
        cls.d = Daemon(os.path.join(cls.tmp, "data"), web=cls.web, datasets=cls.datasets)
        os.makedirs(cls.d.data)
        try:
            cls.d.start()
            # one finished run that many tests read
            cls.done = cls.d.create(tiny_spec("finished"))
            cls.done = cls.d.wait_status(cls.done["id"], TERMINAL)
        except BaseException:
            cls.d.stop()
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        code = cls.d.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        assert code == 0, "ganctld exited with %r" % code

    def problem(self, st, h, data, status, field=None):
        self.assertEqual(st, status, data[:300])
        self.assertTrue(h.get("content-type", "").startswith("application/problem+json"),
                        h.get("content-type"))
        p = json.loads(data)
        for k in ("type", "title", "status", "detail", "errors"):
            self.assertIn(k, p)
        self.assertEqual(p["status"], status)
        self.assertTrue(len(p["detail"]) > 5, p)
        if field is not None:
            fields = [e["field"] for e in p["errors"]]
            self.assertTrue(any(f == field or f.startswith(field + "[") for f in fields),
                            "no error for %s in %r" % (field, p))
            for e in p["errors"]:
                self.assertTrue(e["message"], p)
        return p

    # ---- health, run object, list ---------------------------------------------------

    def test_healthz(self):
        st, h, data = self.d.request("GET", "/healthz")
        self.assertEqual(st, 200)
        self.assertEqual(json.loads(data), {"status": "ok"})
        self.assertTrue(h["content-type"].startswith("application/json"))

    def test_create_returns_201_location_and_run_object(self):
        st, h, data = self.d.request("POST", "/api/v1/runs", tiny_spec("created", steps=50))
        self.assertEqual(st, 201, data)
        run = json.loads(data)
        self.assertEqual(set(run), RUN_KEYS)
        self.assertEqual(h["location"], "/api/v1/runs/%d" % run["id"])
        self.assertIsInstance(run["id"], int)
        self.assertEqual(run["name"], "created")
        self.assertIn(run["status"], ("queued", "running", "succeeded"))
        self.assertEqual(run["steps"], 50)
        self.assertTrue(RFC3339.match(run["created_at"]), run["created_at"])
        self.assertIsNone(run["error"])
        self.assertIsInstance(run["latest"], dict)
        self.assertIsInstance(run["eval"], dict)
        spec = run["spec"]
        # every default filled in
        self.assertEqual(spec["loss"], "nonsaturating")
        self.assertEqual(spec["model"]["arch"], "mlp")
        self.assertEqual(spec["model"]["z_dim"], 16)  # ring8's defaults (core/spec.c)
        self.assertEqual(spec["model"]["batch_norm"], False)
        self.assertEqual(spec["optimizer"]["g"]["kind"], "adam")
        self.assertEqual(spec["optimizer"]["d"]["lr"], 0.001)
        self.assertIsNone(spec["tricks"]["label_smoothing"])
        self.assertEqual(spec["tricks"]["generators"], 1)
        self.assertEqual(spec["dataset"]["split"], "train")
        self.assertEqual(set(spec), {"name", "preset", "dataset", "task", "model", "loss",
                                     "train", "optimizer", "tricks", "every", "watch"})
        self.assertIsNone(spec["task"])
        self.assertEqual(spec["watch"]["action"], "alert")
        got = self.d.json("GET", h["location"])
        self.assertEqual(got["id"], run["id"])
        self.assertEqual(got["spec"], spec)
        self.d.wait_status(run["id"], TERMINAL)

    def test_minimal_spec_is_valid(self):
        run = self.d.create({"dataset": {"name": "ring8"}, "train": {"steps": 20}})
        self.assertEqual(run["spec"]["name"], "ring8-nonsaturating")
        self.assertEqual(run["spec"]["every"], {"log": 10, "sample": 200, "checkpoint": 1000,
                                                "eval": 1000})
        self.d.wait_status(run["id"], TERMINAL)

    def test_image_run_from_dataset_root(self):
        # a path inside the dataset root is accepted, kept as the user gave it, and the
        # run trains from it
        spec = {"dataset": {"name": "idx", "path": "images.idx"},
                "model": {"z_dim": 8, "g_width": 4, "d_width": 4},
                "train": {"steps": 2, "batch_size": 4},
                "every": {"log": 1, "sample": 0, "checkpoint": 2, "eval": 0}}
        run = self.d.create(spec)
        self.assertEqual(run["spec"]["dataset"]["path"], "images.idx")
        self.assertEqual(run["spec"]["model"]["arch"], "dcgan")
        run = self.d.wait_status(run["id"], TERMINAL)
        self.assertEqual(run["status"], "succeeded", run["error"])
        st, h, data = self.d.request("POST", "/api/v1/runs/%d/generate" % run["id"],
                                     {"n": 3, "format": "idx"})
        self.assertEqual(st, 200, data[:300])
        self.assertEqual(h["content-type"], "application/octet-stream")
        self.assertEqual(data[:4], b"\x00\x00\x08\x03")
        dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(3)]
        self.assertEqual(dims, [3, 28, 28])
        self.assertEqual(len(data), 16 + 3 * 28 * 28)
        # json: the images as numbers in [-1, 1], each (C, H, W) flattened
        got = self.d.json("POST", "/api/v1/runs/%d/generate" % run["id"],
                          {"n": 2, "format": "json"})
        self.assertEqual(got["shape"], [1, 28, 28])
        self.assertEqual([len(x) for x in got["images"]], [784, 784])
        self.assertTrue(all(-1 <= v <= 1 for x in got["images"] for v in x))

    def test_finished_run(self):
        run = self.done
        self.assertEqual(run["status"], "succeeded", run)
        self.assertEqual(run["step"], 300)
        self.assertTrue(RFC3339.match(run["started_at"]))
        self.assertTrue(RFC3339.match(run["finished_at"]))
        self.assertIsNone(run["error"])
        for k in ("loss_d", "loss_g", "d_real", "d_fake"):
            self.assertIn(k, run["latest"])
        for k in ("modes_covered", "high_quality", "reverse_kl"):
            self.assertIn(k, run["eval"])

    def test_list_newest_first_with_cursor(self):
        ids = [self.d.create(tiny_spec("page%d" % i, steps=20))["id"] for i in range(3)]
        body = self.d.json("GET", "/api/v1/runs?limit=2")
        self.assertEqual(set(body), {"runs", "next_cursor"})
        self.assertEqual(len(body["runs"]), 2)
        self.assertEqual([r["id"] for r in body["runs"]], [ids[2], ids[1]])
        self.assertIsInstance(body["next_cursor"], str)
        for r in body["runs"]:
            self.assertEqual(set(r), RUN_KEYS)
        seen = [r["id"] for r in body["runs"]]
        cursor = body["next_cursor"]
        while cursor is not None:
            page = self.d.json("GET", "/api/v1/runs?limit=2&cursor=" + cursor)
            seen += [r["id"] for r in page["runs"]]
            cursor = page["next_cursor"]
        self.assertEqual(seen, sorted(seen, reverse=True))
        self.assertEqual(len(seen), len(set(seen)))
        self.assertIn(self.done["id"], seen)
        everything = self.d.json("GET", "/api/v1/runs?limit=500")
        self.assertEqual([r["id"] for r in everything["runs"]], seen)
        self.assertIsNone(everything["next_cursor"])
        for rid in ids:
            self.d.wait_status(rid, TERMINAL)
        ok = self.d.json("GET", "/api/v1/runs?status=succeeded")
        self.assertTrue(ok["runs"])
        self.assertTrue(all(r["status"] == "succeeded" for r in ok["runs"]))
        self.assertEqual(self.d.json("GET", "/api/v1/runs?status=paused")["runs"], [])

    # ---- metrics, samples, checkpoints, generate ------------------------------------

    def test_metrics_series(self):
        rid = self.done["id"]
        m = self.d.json("GET", "/api/v1/runs/%d/metrics?name=loss_d&name=loss_g" % rid)
        self.assertEqual(set(m["metrics"]), {"loss_d", "loss_g"})
        pts = m["metrics"]["loss_d"]
        self.assertEqual(len(pts), 30)  # every 10 of 300 steps
        steps = [p[0] for p in pts]
        self.assertEqual(steps, sorted(steps))
        self.assertEqual(steps[-1], 300)
        self.assertTrue(all(len(p) == 2 and isinstance(p[1], float) for p in pts))
        # no name: every name the run has, evaluation figures included
        allm = self.d.json("GET", "/api/v1/runs/%d/metrics" % rid)["metrics"]
        for k in ("loss_d", "loss_g", "d_real", "d_fake", "modes_covered"):
            self.assertIn(k, allm)
        few = self.d.json("GET", "/api/v1/runs/%d/metrics?name=loss_d&max_points=5" % rid)
        self.assertLessEqual(len(few["metrics"]["loss_d"]), 5)
        self.assertEqual(few["metrics"]["loss_d"][-1][0], 300)  # the last point is kept
        win = self.d.json("GET", "/api/v1/runs/%d/metrics?name=loss_d&from_step=100&to_step=200"
                          % rid)["metrics"]["loss_d"]
        self.assertEqual(win[0][0], 100)
        self.assertEqual(win[-1][0], 200)
        unknown = self.d.json("GET", "/api/v1/runs/%d/metrics?name=fid" % rid)
        self.assertEqual(unknown["metrics"], {"fid": []})

    def test_samples(self):
        rid = self.done["id"]
        s = self.d.json("GET", "/api/v1/runs/%d/samples" % rid)["samples"]
        self.assertEqual([x["step"] for x in s], [100, 200, 300])
        for x in s:
            self.assertEqual(x["url"], "/api/v1/runs/%d/samples/%d.png" % (rid, x["step"]))
            st, h, data = self.d.request("GET", x["url"])
            self.assertEqual(st, 200)
            self.assertEqual(h["content-type"], "image/png")
            self.assertTrue(data.startswith(b"\x89PNG\r\n\x1a\n"))
        st, h, latest = self.d.request("GET", "/api/v1/runs/%d/samples/latest.png" % rid)
        self.assertEqual(st, 200)
        _, _, last = self.d.request("GET", s[-1]["url"])
        self.assertEqual(latest, last)
        st, h, data = self.d.request("GET", "/api/v1/runs/%d/samples/150.png" % rid)
        self.problem(st, h, data, 404)

    def test_checkpoints(self):
        rid = self.done["id"]
        c = self.d.json("GET", "/api/v1/runs/%d/checkpoints" % rid)["checkpoints"]
        self.assertTrue(c)
        self.assertEqual(c[-1]["step"] if c[-1]["step"] > c[0]["step"] else c[0]["step"], 300)
        for x in c:
            self.assertEqual(set(x), {"step", "bytes", "sha256", "created_at"})
            self.assertTrue(RFC3339.match(x["created_at"]))
            st, h, data = self.d.request("GET", "/api/v1/runs/%d/checkpoints/%d" % (rid,
                                                                                  x["step"]))
            self.assertEqual(st, 200)
            self.assertEqual(h["content-type"], "application/octet-stream")
            self.assertEqual(len(data), x["bytes"])
            self.assertEqual(hashlib.sha256(data).hexdigest(), x["sha256"])
        st, h, data = self.d.request("GET", "/api/v1/runs/%d/checkpoints/7" % rid)
        self.problem(st, h, data, 404)

    def test_lr_decay_and_ema_train_and_serve(self):
        spec = tiny_spec("decay-ema", steps=120)
        spec["train"]["lr_decay"] = {"start": 0.25}
        spec["tricks"] = {"ema": 0.99}
        run = self.d.create(spec)
        self.assertEqual(run["spec"]["train"]["lr_decay"],
                         {"start": 0.25, "factor": 0.01, "shape": "linear"})
        self.assertEqual(run["spec"]["tricks"]["ema"], 0.99)
        run = self.d.wait_status(run["id"], TERMINAL)
        self.assertEqual(run["status"], "succeeded", run.get("error"))
        pts = self.d.json("POST", "/api/v1/runs/%d/generate" % run["id"],
                          {"n": 20, "seed": 4, "format": "json"})["points"]
        self.assertEqual(len(pts), 20)
        # null turns off what the 2D defaults may turn on
        spec = tiny_spec("no-decay", steps=10)
        spec["train"]["lr_decay"] = None
        spec["tricks"] = {"ema": None}
        run = self.d.create(spec)
        self.assertIsNone(run["spec"]["train"]["lr_decay"])
        self.assertIsNone(run["spec"]["tricks"]["ema"])
        self.d.wait_status(run["id"], TERMINAL)

    def test_stability_toolkit_trains_and_reports(self):
        # WGAN-GP's preset with spectral norm on top: the penalty is logged, the
        # normalized spec shows what the preset filled in
        spec = tiny_spec("toolkit", steps=12)
        spec["preset"] = "wgan-gp"
        spec["model"] = {"hidden": 32, "spectral_norm": True}
        run = self.d.create(spec)
        self.assertEqual(run["spec"]["tricks"]["gradient_penalty"],
                         {"kind": "wgan-gp", "weight": 10.0, "every": 1})
        self.assertIsNone(run["spec"]["tricks"]["weight_clip"])
        self.assertEqual(run["spec"]["train"]["d_steps"], 5)
        run = self.d.wait_status(run["id"], TERMINAL)
        self.assertEqual(run["status"], "succeeded", run.get("error"))
        self.assertIn("grad_penalty", run["latest"])
        self.assertIn("wasserstein", run["latest"])
        # a combination the recipe forbids names its field
        spec = tiny_spec("bad", steps=1)
        spec["preset"] = "wgan-gp"
        spec["tricks"] = {"weight_clip": 0.01, "diffaugment": "color"}
        st, h, body = self.d.request("POST", "/api/v1/runs", spec)
        self.problem(st, h, body, 400)
        fields = [e["field"] for e in json.loads(body)["errors"]]
        self.assertIn("tricks.weight_clip", fields)
        self.assertIn("tricks.diffaugment", fields)

    def test_generate(self):
        rid = self.done["id"]
        st, h, png = self.d.request("POST", "/api/v1/runs/%d/generate" % rid,
                                    {"n": 16, "seed": 3, "format": "png"})
        self.assertEqual(st, 200, png[:300])
        self.assertEqual(h["content-type"], "image/png")
        self.assertTrue(png.startswith(b"\x89PNG"))
        pts = self.d.json("POST", "/api/v1/runs/%d/generate" % rid,
                          {"n": 50, "seed": 7, "format": "json"})["points"]
        self.assertEqual(len(pts), 50)
        self.assertTrue(all(len(p) == 2 for p in pts))
        again = self.d.json("POST", "/api/v1/runs/%d/generate" % rid,
                            {"n": 50, "seed": 7, "format": "json"})["points"]
        self.assertEqual(pts, again)  # the same seed draws the same points
        other = self.d.json("POST", "/api/v1/runs/%d/generate" % rid,
                            {"n": 50, "seed": 8, "format": "json"})["points"]
        self.assertNotEqual(pts, other)
        # defaults: n 64, png
        st, h, data = self.d.request("POST", "/api/v1/runs/%d/generate" % rid, b"")
        self.assertEqual(st, 200)
        self.assertEqual(h["content-type"], "image/png")
        # idx is for image sets
        st, h, data = self.d.request("POST", "/api/v1/runs/%d/generate" % rid,
                                     {"format": "idx"})
        self.problem(st, h, data, 400, "format")

    def test_conditional_run_generates_the_classes_asked(self):
        spec = {"dataset": {"name": "idx", "path": "images.idx", "labels_path": "labels.idx"},
                "model": {"z_dim": 8, "g_width": 4, "d_width": 4, "conditional": True},
                "train": {"steps": 2, "batch_size": 4},
                "every": {"log": 1, "sample": 2, "checkpoint": 2, "eval": 0}}
        run = self.d.create(spec)
        self.assertEqual(run["spec"]["dataset"]["labels_path"], "labels.idx")
        self.assertEqual(run["spec"]["model"]["conditioning"], "projection")
        run = self.d.wait_status(run["id"], TERMINAL)
        self.assertEqual(run["status"], "succeeded", run["error"])
        self.assertEqual(run["classes"], [{"index": k, "name": str(k)} for k in (1, 3, 4, 6)])
        gen = "/api/v1/runs/%d/generate" % run["id"]
        # one class, by index and by name: the same images
        st, h, a = self.d.request("POST", gen, {"n": 3, "format": "idx", "class": 4})
        self.assertEqual(st, 200, a[:300])
        dims = [int.from_bytes(a[4 + 4 * i:8 + 4 * i], "big") for i in range(3)]
        self.assertEqual(dims, [3, 28, 28])
        st, h, b = self.d.request("POST", gen, {"n": 3, "format": "idx", "class": "4"})
        self.assertEqual((st, b), (200, a))
        st, h, c = self.d.request("POST", gen, {"n": 3, "format": "idx", "class": 6})
        self.assertEqual(st, 200)
        self.assertNotEqual(c, a)  # another class, another image from the same noise
        # several classes: n of each, class after class; a png grid of one row per class
        st, h, both = self.d.request("POST", gen, {"n": 3, "format": "idx", "classes": [6, 4]})
        self.assertEqual(st, 200)
        self.assertEqual(int.from_bytes(both[4:8], "big"), 6)
        # the rows of the two classes alone, from the same noise (to a byte: a batch of
        # another size may round the last bits of a pixel otherwise)
        self.assertEqual(len(both), len(c) + len(a) - 16)
        self.assertLessEqual(max(abs(x - y) for x, y in zip(both[16:], c[16:] + a[16:])), 1)
        st, h, png = self.d.request("POST", gen, {"n": 5, "classes": [1, 3, 6]})
        self.assertEqual((st, h["content-type"]), (200, "image/png"))
        width, height = (int.from_bytes(png[16 + 4 * i:20 + 4 * i], "big") for i in range(2))
        self.assertEqual((width, height), (5 * 30 + 2, 3 * 30 + 2))  # 28-pixel cells, 2 apart
        # what the run does not have, or a request cannot mean
        for body, field in (({"class": 2}, "class"), ({"classes": [1, 9]}, "classes[1]"),
                            ({"class": "Sneaker"}, "class"), ({"class": [1]}, "class"),
                            ({"class": 1, "classes": [3]}, "classes"), ({"classes": []}, "classes"),
                            ({"classes": [1, 3], "n": 600}, "n")):
            st, h, data = self.d.request("POST", gen, body)
            p = self.problem(st, h, data, 400, field)
            if field in ("class", "classes[1]") and not isinstance(body.get("class"), list):
                self.assertIn("1, 3, 4, 6", p["detail"])  # names the run's classes
        # an unconditional run takes no class
        st, h, data = self.d.request("POST", "/api/v1/runs/%d/generate" % self.done["id"],
                                     {"class": 1, "format": "json"})
        self.problem(st, h, data, 400, "class")
        self.assertIsNone(self.done["classes"])

    def test_conditional_2d_run_in_json(self):
        run = self.d.create(tiny_spec("cond-ring", steps=100, model={"hidden": 32,
                                                                    "conditional": True}))
        run = self.d.wait_status(run["id"], TERMINAL)
        self.assertEqual(run["status"], "succeeded", run["error"])
        self.assertEqual([c["index"] for c in run["classes"]], list(range(8)))
        self.assertIn("class_accuracy", run["eval"])
        self.assertTrue(0.0 <= run["eval"]["class_accuracy"] <= 1.0)
        gen = "/api/v1/runs/%d/generate" % run["id"]
        pts = self.d.json("POST", gen, {"n": 4, "format": "json", "classes": [2, 5]})["points"]
        self.assertEqual(len(pts), 8)
        one = self.d.json("POST", gen, {"n": 4, "format": "json", "class": 5})["points"]
        for p, q in zip(pts[4:], one):  # the same noise down each column
            self.assertAlmostEqual(p[0], q[0], places=5)
            self.assertAlmostEqual(p[1], q[1], places=5)

    def test_conditional_run_needs_labels(self):
        base = {"model": {"conditional": True}, "train": {"steps": 2}}
        for dataset, field in (({"name": "idx", "path": "images.idx"}, "dataset.labels_path"),
                               ({"name": "idx", "path": "images.idx",
                                 "labels_path": "short-labels.idx"}, "dataset.labels_path"),
                               ({"name": "png-dir", "path": "pngs"}, "model.conditional"),
                               ({"name": "ring8", "labels_path": "labels.idx"},
                                "dataset.labels_path")):
            st, h, data = self.d.request("POST", "/api/v1/runs", dict(base, dataset=dataset))
            p = self.problem(st, h, data, 400, field)
            self.assertNotIn("Location", h)
        st, h, data = self.d.request("POST", "/api/v1/runs", dict(
            base, dataset={"name": "idx", "path": "images.idx", "labels_path": "short-labels.idx"}))
        self.assertIn("15 labels", json.loads(data)["detail"])
        # a task's generator draws from its input image, so a task run takes no class
        st, h, data = self.d.request("POST", "/api/v1/runs", dict(
            base, dataset={"name": "fashion-mnist"}, task={"kind": "super-resolution"}))
        p = self.problem(st, h, data, 400, "model.conditional")
        self.assertIn("task", json.dumps(p))

    def test_generate_without_checkpoint_is_409(self):
        run = self.d.create({"dataset": {"name": "ring8"}, "train": {"steps": 5},
                             "every": {"log": 1, "sample": 0, "checkpoint": 0, "eval": 0}})
        self.d.wait_status(run["id"], TERMINAL)
        st, h, data = self.d.request("POST", "/api/v1/runs/%d/generate" % run["id"], {"n": 4})
        self.problem(st, h, data, 409)

    # ---- state changes --------------------------------------------------------------

    def test_pause_resume_cancel_delete(self):
        run = self.d.create(long_spec("states"))
        rid = run["id"]
        # a queued or running run cannot be deleted
        st, h, data = self.d.request("DELETE", "/api/v1/runs/%d" % rid)
        self.problem(st, h, data, 409)
        self.d.wait_status(rid, {"running"})
        self.d.wait_step(rid, 100)
        r = self.d.json("POST", "/api/v1/runs/%d/pause" % rid)
        self.assertEqual(set(r), RUN_KEYS)
        paused = self.d.wait_status(rid, {"paused"})
        st, h, data = self.d.request("POST", "/api/v1/runs/%d/pause" % rid)
        self.problem(st, h, data, 409)
        # paused: the checkpoint holds the step it stopped at
        ck = self.d.json("GET", "/api/v1/runs/%d/checkpoints" % rid)["checkpoints"]
        self.assertIn(paused["step"], [c["step"] for c in ck])
        r = self.d.json("POST", "/api/v1/runs/%d/resume" % rid)
        self.assertIn(r["status"], ("queued", "running"))
        st, h, data = self.d.request("POST", "/api/v1/runs/%d/resume" % rid)
        self.problem(st, h, data, 409)
        resumed = self.d.wait_step(rid, paused["step"] + 50)
        self.assertGreater(resumed["step"], paused["step"])
        r = self.d.json("POST", "/api/v1/runs/%d/cancel" % rid)
        self.assertEqual(set(r), RUN_KEYS)
        done = self.d.wait_status(rid, {"canceled"})
        self.assertTrue(done["finished_at"])
        for action in ("cancel", "pause", "resume"):
            st, h, data = self.d.request("POST", "/api/v1/runs/%d/%s" % (rid, action))
            self.problem(st, h, data, 409)
        st, h, data = self.d.request("DELETE", "/api/v1/runs/%d" % rid)
        self.assertEqual(st, 204)
        self.assertEqual(data, b"")
        st, h, data = self.d.request("GET", "/api/v1/runs/%d" % rid)
        self.problem(st, h, data, 404)
        st, h, data = self.d.request("DELETE", "/api/v1/runs/%d" % rid)
        self.problem(st, h, data, 404)
        st, h, data = self.d.request("GET", "/api/v1/runs/%d/checkpoints" % rid)
        self.problem(st, h, data, 404)

    def test_cancel_queued(self):
        a = self.d.create(long_spec("blocker"))
        b = self.d.create(long_spec("waiting"))
        self.d.wait_status(a["id"], {"running"})
        self.assertEqual(self.d.json("GET", "/api/v1/runs/%d" % b["id"])["status"], "queued")
        r = self.d.json("POST", "/api/v1/runs/%d/cancel" % b["id"])
        self.assertEqual(r["status"], "canceled")
        self.assertIsNone(r["started_at"])
        self.d.json("POST", "/api/v1/runs/%d/cancel" % a["id"])
        self.d.wait_status(a["id"], {"canceled"})

    # ---- routing --------------------------------------------------------------------

    def test_unknown_routes_404(self):
        for path in ("/nope", "/api/v1/nope", "/api/v2/runs", "/api/v1/runs/1/nope",
                     "/api/v1/runs/abc", "/api/v1/runs/0", "/api/v1/runs/99999999",
                     "/api/v1/runs/99999999/metrics", "/api/v1/runs/99999999/events",
                     "/api/v1/runs/1/samples/x.png", "/api/v1/runs/1/checkpoints/x"):
            st, h, data = self.d.request("GET", path)
            self.problem(st, h, data, 404)

    def test_wrong_method_405_with_allow(self):
        cases = [("PUT", "/api/v1/runs", "POST"), ("DELETE", "/healthz", "GET"),
                 ("POST", "/api/v1/runs/%d" % self.done["id"], "DELETE"),
                 ("GET", "/api/v1/runs/%d/cancel" % self.done["id"], "POST"),
                 ("GET", "/api/v1/runs/%d/generate" % self.done["id"], "POST"),
                 ("PATCH", "/api/v1/runs/%d" % self.done["id"], "GET"),
                 ("POST", "/metrics", "GET"), ("POST", "/api/v1/events", "GET")]
        for method, path, allowed in cases:
            st, h, data = self.d.request(method, path, b"{}")
            self.problem(st, h, data, 405)
            self.assertIn(allowed, h.get("allow", ""), (method, path))

    # ---- events ---------------------------------------------------------------------

    def test_event_stream_and_replay(self):
        s = SSE(self.d, "/api/v1/events")
        self.assertEqual(s.status, 200)
        self.assertTrue(s.headers["content-type"].startswith("text/event-stream"))
        run = self.d.create(tiny_spec("streamed"))
        rid = run["id"]
        rs = SSE(self.d, "/api/v1/runs/%d/events" % rid, last_id=0)
        self.assertEqual(rs.status, 200)
        evs = rs.until(lambda e: e[1] == "status" and e[2]["status"] in TERMINAL)
        rs.close()
        self.assertTrue(evs, "no events")
        ids = [e[0] for e in evs]
        self.assertEqual(ids, sorted(set(ids)))
        types = {e[1] for e in evs}
        self.assertTrue({"status", "metrics", "sample", "checkpoint", "eval"} <= types, types)
        for eid, typ, data in evs:
            if typ == "status":
                self.assertEqual(set(data), RUN_KEYS)
                self.assertEqual(data["id"], rid)
            elif typ == "metrics":
                self.assertEqual(set(data), {"run", "step", "metrics"})
                self.assertEqual(data["run"], rid)
                self.assertIn("loss_d", data["metrics"])
            elif typ == "sample":
                self.assertEqual(set(data), {"run", "step", "url"})
                self.assertEqual(data["url"], "/api/v1/runs/%d/samples/%d.png" % (rid,
                                                                                   data["step"]))
            elif typ == "eval":
                self.assertEqual(set(data), {"run", "step", "eval"})
                self.assertIn("modes_covered", data["eval"])
            elif typ == "checkpoint":
                self.assertEqual(set(data), {"run", "step", "bytes", "sha256"})
        self.assertEqual(evs[-1][2]["status"], "succeeded")
        # the all-runs stream saw the same events of this run, in order
        alls = s.until(lambda e: e[0] >= ids[-1])
        s.close()
        self.assertEqual([e[0] for e in alls if e[2].get("run", e[2].get("id")) == rid
                          and (e[1] != "status" or e[2]["id"] == rid)], ids)
        # Last-Event-ID resumes right after the given id
        mid = ids[len(ids) // 2]
        rs = SSE(self.d, "/api/v1/runs/%d/events" % rid, last_id=mid)
        rest = rs.until(lambda e: e[0] == ids[-1])
        rs.close()
        self.assertEqual([e[0] for e in rest], [i for i in ids if i > mid])
        # and so does ?last_event_id= for browsers
        c = self.d.conn(timeout=10)
        c.request("GET", "/api/v1/runs/%d/events?last_event_id=%d" % (rid, ids[-2]))
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        first = None
        while first is None:
            line = r.readline().decode()
            if line.startswith("id: "):
                first = int(line[4:])
        c.close()
        self.assertEqual(first, ids[-1])

    def test_heartbeat(self):
        s = SSE(self.d, "/api/v1/runs/%d/events" % self.done["id"], timeout=5)
        t0 = time.time()
        while len([c for c in s.comments if c == ": ping"]) < 2:
            line = s.resp.readline().decode()
            self.assertTrue(line, "stream ended")
            if line.startswith(":"):
                s.comments.append(line.rstrip("\n"))
        s.close()
        self.assertLess(time.time() - t0, 3.0)

    # ---- /metrics, OpenAPI, static files --------------------------------------------

    def test_prometheus(self):
        run = self.d.create(long_spec("prom"))
        self.d.wait_status(run["id"], {"running"})
        self.d.wait_step(run["id"], 200)
        st, h, data = self.d.request("GET", "/metrics")
        self.d.json("POST", "/api/v1/runs/%d/cancel" % run["id"])
        self.assertEqual(st, 200)
        self.assertTrue(h["content-type"].startswith("text/plain"))
        text = data.decode()
        types = check_prometheus(self, text)
        self.assertEqual(types.get("ganctl_runs"), "gauge")
        self.assertEqual(types.get("ganctl_steps_total"), "counter")
        self.assertEqual(types.get("ganctl_images_total"), "counter")
        self.assertEqual(types.get("ganctl_http_requests_total"), "counter")
        self.assertEqual(types.get("ganctl_store_bytes"), "gauge")
        for s in ("queued", "running", "paused", "succeeded", "failed", "canceled"):
            self.assertRegex(text, r'(?m)^ganctl_runs\{status="%s"\} \d+$' % s)
        self.assertRegex(text, r'(?m)^ganctl_runs\{status="running"\} 1$')
        # per running run (loss_d, loss_g, d_real, d_fake, images_per_s, spelled out so
        # that promtool's lint does not read _d and _s as units)
        for g in ("discriminator_loss", "generator_loss", "discriminator_real_mean",
                  "discriminator_fake_mean", "images_per_second"):
            self.assertEqual(types.get("ganctl_run_" + g), "gauge")
            self.assertRegex(text, r'(?m)^ganctl_run_%s\{run="%d"\} \S+$' % (g, run["id"]))
        self.assertRegex(text, r'(?m)^ganctl_http_requests_total\{code="200"\} [1-9]\d*$')
        m = re.search(r"(?m)^ganctl_steps_total (\d+)$", text)
        self.assertGreaterEqual(int(m.group(1)), 200)
        m = re.search(r"(?m)^ganctl_store_bytes (\d+)$", text)
        self.assertGreater(int(m.group(1)), 0)
        self.d.wait_status(run["id"], {"canceled"})

    def test_catalog_names_every_metric_and_value(self):
        cat = self.d.json("GET", "/api/v1/catalog")
        names = {m["name"]: m for m in cat["metrics"]}
        for n in ("loss_d", "loss_g", "d_real", "d_fake", "grad_norm_d", "grad_norm_g",
                  "images_per_s", "wasserstein", "grad_penalty", "modes_covered",
                  "high_quality", "reverse_kl", "fid", "class_coverage", "classifier_score",
                  "swd", "kid", "kid_std", "precision", "recall", "density", "coverage"):
            self.assertIn(n, names)
            self.assertIn(names[n]["kind"], ("train", "eval"))
            self.assertTrue(names[n]["label"] and names[n]["help"])
        self.assertEqual(names["fid"]["goal"], "min")
        self.assertEqual(names["modes_covered"]["goal"], "max")
        self.assertEqual(names["high_quality"]["format"], "fraction")
        self.assertEqual(names["loss_d"]["kind"], "train")
        self.assertEqual(names["swd"]["kind"], "eval")
        self.assertIn({"name": "ring8", "points": True, "modes": 8}, cat["datasets"])
        self.assertIn({"name": "grid25", "points": True, "modes": 25}, cat["datasets"])
        self.assertIn({"name": "fashion-mnist", "points": False, "modes": None}, cat["datasets"])
        self.assertIn("wasserstein", cat["losses"])
        self.assertEqual(cat["archs"], ["mlp", "dcgan", "unet"])
        self.assertIn("rmsprop", cat["optimizers"])
        self.assertEqual(cat["decay_shapes"], ["linear", "step"])
        self.assertEqual(cat["precisions"], ["float32", "bf16"])
        self.assertEqual(cat["presets"], ["dcgan", "wgan-gp", "sngan", "lsgan"])
        self.assertEqual(cat["penalties"], ["wgan-gp", "r1"])
        self.assertEqual(cat["augmentations"], ["color", "translation", "cutout"])
        self.assertEqual(names["precision"]["format"], "fraction")
        self.assertEqual(names["kid"]["goal"], "min")
        self.assertEqual(cat["watch_actions"], ["off", "alert", "rollback"])
        # the run objects use the same names: every latest and eval key is in the catalog
        run = self.d.json("GET", "/api/v1/runs/%d" % self.done["id"])
        for k in list(run["latest"]) + list(run["eval"]):
            self.assertIn(k, names)

    def test_spec_defaults_are_what_a_bare_spec_gets(self):
        for ds in ("ring8", "grid25", "fashion-mnist"):
            d = self.d.json("GET", "/api/v1/spec/defaults?dataset=" + ds)
            st, _, body = self.d.request("POST", "/api/v1/runs",
                                         {"dataset": {"name": ds}, "train": {"steps": 1},
                                          "every": {"sample": 0, "eval": 0}})
            self.assertEqual(st, 201, body)
            run = json.loads(body)
            self.d.request("POST", "/api/v1/runs/%d/cancel" % run["id"])
            got = run["spec"]
            got["train"]["steps"] = d["train"]["steps"]
            got["every"] = d["every"]
            self.assertEqual(got, d, ds)
        w = self.d.json("GET", "/api/v1/spec/defaults?dataset=ring8&loss=wasserstein")
        self.assertEqual(w["loss"], "wasserstein")
        self.assertEqual(w["optimizer"]["d"]["kind"], "rmsprop")
        self.assertEqual(w["train"]["d_steps"], 5)
        png = self.d.json("GET", "/api/v1/spec/defaults?dataset=png-dir")
        self.assertEqual(png["dataset"]["image_size"], 32)
        self.assertIsNone(png["dataset"]["path"])
        # a preset: what a spec naming it gets, its loss unless one is named
        for q, spec in (("?dataset=ring8&preset=wgan-gp", {"preset": "wgan-gp"}),
                        ("?dataset=fashion-mnist&preset=sngan&loss=least-squares",
                         {"preset": "sngan", "loss": "least-squares"})):
            d = self.d.json("GET", "/api/v1/spec/defaults" + q)
            ds = "ring8" if "ring8" in q else "fashion-mnist"
            body = dict(spec, dataset={"name": ds}, train={"steps": 1},
                        every={"sample": 0, "eval": 0})
            run = self.d.create(body)
            self.d.request("POST", "/api/v1/runs/%d/cancel" % run["id"])
            got = run["spec"]
            got["train"]["steps"] = d["train"]["steps"]
            got["every"] = d["every"]
            self.assertEqual(got, d, q)
        self.assertEqual(d["loss"], "least-squares")
        self.assertTrue(d["model"]["spectral_norm"])
        self.assertEqual(d["optimizer"]["d"]["lr"], 0.0004)
        for q, field in (("", "dataset"), ("?dataset=cifar", "dataset"),
                         ("?dataset=ring8&loss=magic", "loss"),
                         ("?dataset=ring8&preset=biggan", "preset")):
            st, _, body = self.d.request("GET", "/api/v1/spec/defaults" + q)
            self.assertEqual(st, 400, q)
            self.assertEqual(json.loads(body)["errors"][0]["field"], field)

    def test_openapi_matches_routes(self):
        doc = self.d.json("GET", "/api/v1/openapi.json")
        self.assertTrue(doc["openapi"].startswith("3."))
        self.assertIn("Spec", doc["components"]["schemas"])
        self.assertIn("Run", doc["components"]["schemas"])
        rid = self.done["id"]
        ck = self.d.json("GET", "/api/v1/runs/%d/checkpoints" % rid)["checkpoints"][-1]["step"]
        fill = {"{id}": str(rid), "{step}": str(ck), "{file}": "app.css"}
        # a sweep of one tiny run for /api/v1/sweeps/{id}
        sweep = self.d.json("POST", "/api/v1/sweeps",
                            {"spec": tiny_spec("openapi-sweep", steps=10),
                             "axes": {"train.batch_size": [8]},
                             "objective": {"metric": "modes_covered"}}, expect=201)
        self.d.wait_status(sweep["configurations"][0]["runs"][0], TERMINAL)
        for path, item in doc["paths"].items():
            url = path
            if path.startswith("/api/v1/sweeps/"):
                url = path.replace("{id}", str(sweep["id"]))
            for k, v in fill.items():
                url = url.replace(k, v)
            if "/samples/{step}" in path:
                url = path.replace("{id}", str(rid)).replace("{step}", "100")
            for method in ("get", "post", "delete"):
                if method not in item:
                    continue
                if method == "delete":
                    continue  # covered by the state test; here it would delete the run
                if path.endswith("/events"):
                    s = SSE(self.d, url)
                    st = s.status
                    s.close()
                else:
                    body = {"n": 1, "format": "png"} if path.endswith("/generate") else None
                    if path == "/api/v1/runs" and method == "post":
                        body = tiny_spec("openapi", steps=10)
                    st, _, data = self.d.request(method.upper(), url, body)
                    if st == 201:  # let the run it queued finish before the next test
                        self.d.wait_status(json.loads(data)["id"], TERMINAL)
                self.assertNotIn(st, (404, 405), "%s %s" % (method, url))
                self.assertLess(st, 500, "%s %s" % (method, url))
        # every route the daemon serves is documented with its methods (the router's
        # own table, from test_router --routes)
        routes = ganctld_proc.routes()
        for method, path in routes:
            self.assertIn(path, doc["paths"])
            self.assertIn(method, doc["paths"][path], path)
        self.assertEqual(len(doc["paths"]), len({p for _, p in routes}))
        # and the methods the document does not list are refused with 405
        for path in doc["paths"]:
            url = path.replace("{id}", str(rid)).replace("{step}", "100").replace("{file}",
                                                                                  "app.css")
            if "put" not in doc["paths"][path]:
                st, _, _ = self.d.request("PUT", url, b"{}")
                self.assertEqual(st, 405, url)

    def test_static_files(self):
        st, h, data = self.d.request("GET", "/")
        self.assertEqual(st, 200)
        self.assertTrue(h["content-type"].startswith("text/html"))
        self.assertIn(b"test dashboard", data)
        st, h, data = self.d.request("GET", "/static/app.css")
        self.assertEqual(st, 200)
        self.assertTrue(h["content-type"].startswith("text/css"))
        for path in ("/static/../secret.txt", "/static/%2e%2e/secret.txt",
                     "/static/..%2fsecret.txt", "/static/%2E%2E%2Fsecret.txt",
                     "/static//etc/passwd", "/static/./app.css/../../secret.txt",
                     "/static/..\\secret.txt", "/static/%00app.css", "/../secret.txt",
                     "/static/missing.js"):
            st, h, data = self.d.request("GET", path)
            self.assertIn(st, (400, 404), path)
            self.assertNotIn(b"top secret", data)

    # ---- malformed requests ---------------------------------------------------------

    def snapshot(self):
        runs = self.d.json("GET", "/api/v1/runs?limit=500")["runs"]
        return sorted((r["id"], r["status"] in TERMINAL and r["status"]) for r in runs)

    def test_malformed_requests_are_4xx_and_change_nothing(self):
        base = tiny_spec("bad")
        deep = ("[" * 5000) + ("]" * 5000)

        def with_(section, key, value):
            s = json.loads(json.dumps(base))
            s.setdefault(section, {})[key] = value
            return json.dumps(s)

        cases = [  # (body, status, field or None)
            ("{", 400, ""), ("[1,2]", 400, None), ('"ring8"', 400, None), ("null", 400, None),
            ("", 400, None), ("   ", 400, None), ("{} x", 400, ""),
            ('{"dataset":{"name":"ring8"},"dataset":{"name":"grid25"}}', 400, ""),
            (b'{"name":"\xff\xfe","dataset":{"name":"ring8"}}', 400, ""),
            ('{"name":"a\\ud800","dataset":{"name":"ring8"}}', 400, ""),
            (deep, 400, ""), ('{"dataset":{"name":"ring8"},"train":{"steps":NaN}}', 400, ""),
            ('{"dataset":{"name":"ring8"},"train":{"steps":1e400}}', 400, ""),
            (with_("train", "steps", "300"), 400, "train.steps"),
            (with_("train", "steps", 0), 400, "train.steps"),
            (with_("train", "steps", 10000001), 400, "train.steps"),
            (with_("train", "steps", 12.5), 400, "train.steps"),
            (with_("train", "batch_size", 4097), 400, "train.batch_size"),
            (with_("train", "d_steps", 101), 400, "train.d_steps"),
            (with_("train", "seed", 9007199254740993), 400, "train.seed"),
            (with_("train", "seed", -5), 400, "train.seed"),
            (with_("model", "z_dim", 0), 400, "model.z_dim"),
            (with_("model", "batch_norm", "yes"), 400, "model.batch_norm"),
            (with_("model", "arch", "dcgan"), 400, "model.arch"),
            (with_("tricks", "generators", 17), 400, "tricks.generators"),
            (with_("tricks", "unrolled_steps", 21), 400, "tricks.unrolled_steps"),
            (with_("tricks", "label_smoothing", [0.9]), 400, "tricks.label_smoothing"),
            (with_("tricks", "label_smoothing", "high"), 400, "tricks.label_smoothing"),
            (with_("tricks", "dropout", 0.1), 400, "tricks.dropout"),
            (with_("tricks", "ema", 1), 400, "tricks.ema"),
            (with_("tricks", "ema", "0.999"), 400, "tricks.ema"),
            (with_("train", "lr_decay", {"start": 1.5}), 400, "train.lr_decay.start"),
            (with_("train", "lr_decay", {"factor": 0}), 400, "train.lr_decay.factor"),
            (with_("train", "lr_decay", {"shape": "cosine"}), 400, "train.lr_decay.shape"),
            (with_("train", "lr_decay", 0.5), 400, "train.lr_decay"),
            (with_("train", "precision", "fp16"), 400, "train.precision"),
            (with_("optimizer", "g", {"kind": "lbfgs"}), 400, "optimizer.g.kind"),
            (with_("optimizer", "d", {"lr": -1}), 400, "optimizer.d.lr"),
            (with_("every", "log", -1), 400, "every.log"),
            (with_("dataset", "classes", [1, 2]), 400, "dataset.classes"),
            (with_("dataset", "split", "dev"), 400, "dataset.split"),
            (with_("dataset", "name", "cifar"), 400, "dataset.name"),
            (json.dumps(dict(base, epochs=3)), 400, "epochs"),
            (json.dumps(dict(base, name="x" * 129)), 400, "name"),
            (json.dumps(dict(base, name="")), 400, "name"),
            (json.dumps(dict(base, loss="l1")), 400, "loss"),
            (json.dumps(dict(base, model="big")), 400, "model"),
            ('{"dataset":{"name":"idx","path":"../../../etc/passwd"}}', 400, "dataset.path"),
            ('{"dataset":{"name":"idx","path":"/etc/passwd"}}', 400, "dataset.path"),
            ('{"dataset":{"name":"idx","path":"missing.idx"}}', 400, "dataset.path"),
            ('{"dataset":{"name":"idx","path":"pngs"}}', 400, "dataset.path"),
            ('{"dataset":{"name":"png-dir","path":"pngs/../.."}}', 400, "dataset.path"),
            ('{"dataset":{"name":"idx"}}', 400, "dataset.path"),
            (b"{" + b'"a":' * 10 + b"1" + b"}" * 10, 400, ""),
            (b"x" * (1024 * 1024 + 1), 413, None),
            (json.dumps(dict(base, name="n" * (1024 * 1024))), 413, None),
        ]
        before = self.snapshot()
        for body, status, field in cases:
            with self.subTest(body=body[:80]):
                st, h, data = self.d.request("POST", "/api/v1/runs", body,
                                             headers={"Content-Type": "application/json"})
                self.problem(st, h, data, status, field)
        # the parser's error quotes the body up to the fault and can end inside a
        # character: the answer still says what was wrong, with '?' for the cut byte
        st, h, data = self.d.request("POST", "/api/v1/runs",
                                     b'{"name":"a\\u000\xcf\x9d","dataset":{"name":"ring8"}}',
                                     headers={"Content-Type": "application/json"})
        p = self.problem(st, h, data, 400, "")
        self.assertIn("invalid escape near '\"a\\u000?'", p["errors"][0]["message"], p)
        self.assertIn("invalid escape", p["detail"], p)
        rid = self.done["id"]
        other = [  # (method, path, body, status, field)
            ("GET", "/api/v1/runs?limit=0", None, 400, "limit"),
            ("GET", "/api/v1/runs?limit=501", None, 400, "limit"),
            ("GET", "/api/v1/runs?limit=ten", None, 400, "limit"),
            ("GET", "/api/v1/runs?status=done", None, 400, "status"),
            ("GET", "/api/v1/runs?cursor=-1", None, 400, "cursor"),
            ("GET", "/api/v1/runs?cursor=abc", None, 400, "cursor"),
            ("GET", "/api/v1/runs?limit=%ff%fe", None, 400, "limit"),  # not UTF-8
            ("GET", "/api/v1/runs/%ff", None, 404, None),
            ("GET", "/api/v1/runs/%d/metrics?max_points=0" % rid, None, 400, "max_points"),
            ("GET", "/api/v1/runs/%d/metrics?from_step=5&to_step=2" % rid, None, 400,
             "from_step"),
            ("GET", "/api/v1/runs/%d/metrics?from_step=x" % rid, None, 400, "from_step"),
            ("GET", "/api/v1/runs/%d/metrics?name=Bad%%21" % rid, None, 400, "name"),
            ("GET", "/api/v1/runs/%d/events?last_event_id=x" % rid, None, 400,
             "last_event_id"),
            ("POST", "/api/v1/runs/%d/generate" % rid, '{"n":0}', 400, "n"),
            ("POST", "/api/v1/runs/%d/generate" % rid, '{"n":1025}', 400, "n"),
            ("POST", "/api/v1/runs/%d/generate" % rid, '{"n":"4"}', 400, "n"),
            ("POST", "/api/v1/runs/%d/generate" % rid, '{"seed":-1}', 400, "seed"),
            ("POST", "/api/v1/runs/%d/generate" % rid, '{"format":"gif"}', 400, "format"),
            ("POST", "/api/v1/runs/%d/generate" % rid, '{"size":3}', 400, "size"),
            ("POST", "/api/v1/runs/%d/generate" % rid, '{"n":1,"n":2}', 400, ""),
            ("POST", "/api/v1/runs/%d/generate" % rid, "[]", 400, None),
            ("POST", "/api/v1/runs/99999999/generate", '{"n":1}', 404, None),
        ]
        for method, path, body, status, field in other:
            with self.subTest(path=path, body=body):
                st, h, data = self.d.request(method, path, body)
                self.problem(st, h, data, status, field)
        st, h, data = self.d.request("GET", "/api/v1/runs/%d/events" % rid,
                                     headers={"Last-Event-ID": "-3"})
        self.problem(st, h, data, 400, "Last-Event-ID")
        self.assertGreaterEqual(len(cases) + len(other), 30)
        self.assertEqual(self.snapshot(), before)
        # the daemon still serves
        self.assertEqual(self.d.request("GET", "/healthz")[0], 200)


class RestartTest(unittest.TestCase):
    """Stop and start on the same data directory: nothing acknowledged is lost, and
    shutdown does not hang on an open event stream."""

    def test_restart_keeps_everything(self):
        tmp = tempfile.mkdtemp(prefix="ganctl-restart-")
        try:
            d = Daemon(tmp).start()
            run = d.create(tiny_spec("kept"))
            rid = run["id"]
            run = d.wait_status(rid, TERMINAL)
            paths = ["/api/v1/runs/%d" % rid, "/api/v1/runs/%d/metrics" % rid,
                     "/api/v1/runs/%d/samples" % rid, "/api/v1/runs/%d/checkpoints" % rid,
                     "/api/v1/runs"]
            before = {p: d.json("GET", p) for p in paths}
            _, _, ck = d.request("GET", "/api/v1/runs/%d/checkpoints/300" % rid)
            s = SSE(d, "/api/v1/events", last_id=0)
            events = s.until(lambda e: e[1] == "status" and e[2]["status"] in TERMINAL)
            # the stream stays open across SIGTERM: the daemon must still exit at once
            t0 = time.time()
            code = d.stop()
            self.assertEqual(code, 0, d.tail())
            self.assertLess(time.time() - t0, 10)
            s.until(lambda e: False)  # ends (EOF), neither hangs nor breaks
            s.close()

            d = Daemon(tmp).start()
            after = {p: d.json("GET", p) for p in paths}
            self.assertEqual(after, before)
            _, _, ck2 = d.request("GET", "/api/v1/runs/%d/checkpoints/300" % rid)
            self.assertEqual(ck, ck2)
            s = SSE(d, "/api/v1/events", last_id=0)
            again = s.until(lambda e: e[0] == events[-1][0])
            s.close()
            self.assertEqual([(e[0], e[1]) for e in again], [(e[0], e[1]) for e in events])
            self.assertEqual(d.stop(), 0)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_sigterm_during_training_then_resume(self):
        tmp = tempfile.mkdtemp(prefix="ganctl-term-")
        try:
            d = Daemon(tmp).start()
            run = d.create(long_spec("interrupted"))
            rid = run["id"]
            d.wait_step(rid, 1200)
            t0 = time.time()
            self.assertEqual(d.stop(signal.SIGTERM), 0, d.tail())
            self.assertLess(time.time() - t0, 10)

            d = Daemon(tmp).start()
            # the checkpoints first: the restarted daemon resumes the run at once, and a
            # checkpoint it writes after the run was read would be ahead of that read
            ck = d.json("GET", "/api/v1/runs/%d/checkpoints" % rid)["checkpoints"]
            run = d.json("GET", "/api/v1/runs/%d" % rid)
            self.assertIn(run["status"], ("queued", "running"))
            stopped_at = max(c["step"] for c in ck)
            self.assertGreaterEqual(stopped_at, 1000)
            self.assertGreaterEqual(run["step"], stopped_at)
            run = d.wait_step(rid, stopped_at + 200)
            self.assertEqual(run["status"], "running")
            m = d.json("GET", "/api/v1/runs/%d/metrics?name=loss_d&max_points=100000" % rid)
            steps = [p[0] for p in m["metrics"]["loss_d"]]
            self.assertEqual(steps, sorted(set(steps)))  # no step logged twice
            d.json("POST", "/api/v1/runs/%d/cancel" % rid)
            d.wait_status(rid, {"canceled"})
            self.assertEqual(d.stop(), 0)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


class TokenTest(unittest.TestCase):
    def test_token_protected_daemon(self):
        tmp = tempfile.mkdtemp(prefix="ganctl-token-")
        try:
            token = "s3cret-token-%d" % os.getpid()
            d = Daemon(tmp, token=token, web=make_web(os.path.join(tmp, "w"))).start()
            for path in ("/api/v1/runs", "/api/v1/openapi.json", "/api/v1/runs/1",
                         "/api/v1/events", "/api/v1/nope"):
                for hdr in ({}, {"Authorization": "Bearer wrong"},
                            {"Authorization": "Bearer " + token + "x"},
                            {"Authorization": "Bearer " + token[:-1]},
                            {"Authorization": "Basic " + token}, {"Authorization": token}):
                    st, h, data = d.request("GET", path, headers=hdr, auth=False)
                    self.assertEqual(st, 401, (path, hdr))
                    self.assertEqual(h.get("www-authenticate"), "Bearer")
                    self.assertTrue(h["content-type"].startswith("application/problem+json"))
            st, h, data = d.request("POST", "/api/v1/runs", tiny_spec(), auth=False)
            self.assertEqual(st, 401)
            self.assertEqual(d.json("GET", "/api/v1/runs")["runs"], [])  # nothing created
            st, _, _ = d.request("GET", "/api/v1/runs",
                                 headers={"Authorization": "Bearer " + token}, auth=False)
            self.assertEqual(st, 200)
            for path in ("/healthz", "/", "/static/app.css", "/metrics"):
                st, _, _ = d.request("GET", path, auth=False)
                self.assertEqual(st, 200, path)
            self.assertEqual(d.stop(), 0)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(run_suite(__name__))
