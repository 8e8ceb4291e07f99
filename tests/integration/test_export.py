#!/usr/bin/python3
"""test_export.py — what takes a run outside ganctl, over the real daemon.

  - GET /api/v1/runs/{id}/export?format=onnx: Debian's python3-onnx loads the model and
    onnx.checker passes it (full check, with shape inference); evaluated outside our
    code (tests/integration/onnx_eval.py, numpy, from the operators' definitions) it
    gives the samples /generate gives for the same noise: a 2D MLP, a DCGAN with batch
    norm and a weight average (tricks.ema), and the second generator of a MAD-GAN run.
  - The planes of a 2D run: G's density sums to the share of points inside the square,
    D's output is a probability, one plane per sample step; image runs have none.
  - Provenance on the run object, and `ganctl reproduce`: the same spec trained again is
    byte for byte the same final checkpoint; `ganctl export` writes the model.

Needs python3-onnx (scripts/deps.sh test); without it the ONNX checks are skipped, not
passed. The last line printed is "N passed, N failed, N skipped"."""

import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ganctld_proc  # noqa: E402
from ganctld_proc import TERMINAL, TmpCase, run_suite  # noqa: E402

try:
    import numpy as np
    import onnx
    import onnx_eval
except ImportError as e:  # python3-onnx brings numpy
    np = onnx = onnx_eval = None
    WHY = str(e)

CLI = os.path.join(os.path.dirname(ganctld_proc.BIN), "ganctl")
FASHION = "/usr/share/datasets/fashion-mnist"


class ExportTest(TmpCase):
    prefix = "ganctl-export-"
    d = None

    @classmethod
    def setUpClass(cls):
        import tempfile
        cls.root = tempfile.mkdtemp(prefix=cls.prefix)
        cls.d = ganctld_proc.Daemon(os.path.join(cls.root, "data"),
                                    ["--workers", "2", "--threads", "2"]).start()
        d = cls.d
        cls.ring = d.json("POST", "/api/v1/runs", {
            "name": "ring", "dataset": {"name": "ring8"}, "model": {"hidden": 32},
            "train": {"steps": 200, "batch_size": 32},
            "every": {"sample": 50, "checkpoint": 100, "eval": 100}}, expect=201)["id"]
        cls.dcgan = None
        if os.path.isdir(FASHION):
            cls.dcgan = d.json("POST", "/api/v1/runs", {
                "name": "dcgan", "dataset": {"name": "fashion-mnist", "classes": [0, 1]},
                "model": {"g_width": 8, "d_width": 8, "z_dim": 8},
                "train": {"steps": 30, "batch_size": 16}, "tricks": {"ema": 0.9},
                "every": {"sample": 30, "checkpoint": 30, "eval": 0}}, expect=201)["id"]
        cls.madgan = d.json("POST", "/api/v1/runs", {
            "name": "madgan", "dataset": {"name": "grid25"}, "model": {"hidden": 16},
            "tricks": {"generators": 3}, "train": {"steps": 60, "batch_size": 30},
            "every": {"sample": 60, "checkpoint": 60, "eval": 0}}, expect=201)["id"]
        cls.cond = d.json("POST", "/api/v1/runs", {
            "name": "cond", "dataset": {"name": "ring8"},
            "model": {"hidden": 16, "conditional": True, "conditioning": "concat"},
            "train": {"steps": 40, "batch_size": 16},
            "every": {"sample": 40, "checkpoint": 40, "eval": 0}}, expect=201)["id"]
        for rid in (cls.ring, cls.dcgan, cls.madgan, cls.cond):
            if rid:
                run = d.wait_status(rid, TERMINAL, timeout=300)
                assert run["status"] == "succeeded", run

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        import shutil
        shutil.rmtree(cls.root, ignore_errors=True)

    def export(self, rid, gen=None):
        q = "?format=onnx" + ("&generator=%d" % gen if gen is not None else "")
        st, h, data = self.d.request("GET", "/api/v1/runs/%d/export%s" % (rid, q))
        self.assertEqual(st, 200, data[:300])
        self.assertEqual(h["content-type"], "application/onnx")
        self.assertIn(".onnx", h["content-disposition"])
        return data

    def same_as_generate(self, rid, gen=0, k=1):
        """The exported generator gen of K (k) against /generate for the same noise: the
        samples of generator gen are the rows i with i mod K = gen."""
        if onnx is None:
            self.skipTest("python3-onnx is not installed: " + WHY)
        data = self.export(rid, gen if k > 1 else None)
        model = onnx.load_from_string(data)
        onnx.checker.check_model(model, full_check=True)
        self.assertEqual(model.opset_import[0].version, 13)
        self.assertEqual(model.producer_name, "ganctl")
        zdim = model.graph.input[0].type.tensor_type.shape.dim[1].dim_value
        n = 4 * k
        z = np.random.RandomState(rid).randn(n, zdim).astype(np.float32)
        got = self.d.json("POST", "/api/v1/runs/%d/generate" % rid,
                          {"z": z.tolist(), "format": "json"})
        want = np.array(got.get("points") or got.get("images"), dtype=np.float64)
        rows = [i for i in range(n) if i % k == gen]
        out = onnx_eval.run(model, {"z": z[rows].astype(np.float64)})["x"]
        self.assertEqual(out.shape[0], len(rows))
        err = np.abs(out.reshape(len(rows), -1) - want[rows].reshape(len(rows), -1)).max()
        self.assertLess(err, 1e-4, "ONNX and /generate differ by %g" % err)
        return model, out

    def test_onnx_of_a_2d_mlp(self):
        model, out = self.same_as_generate(self.ring)
        self.assertEqual(out.shape[1:], (2,))
        self.assertEqual([o.op_type for o in model.graph.node][-1], "Gemm")

    def test_onnx_of_a_dcgan_with_batch_norm_and_ema(self):
        if not self.dcgan:
            self.skipTest("no %s (the Debian package dataset-fashion-mnist)" % FASHION)
        model, out = self.same_as_generate(self.dcgan)
        self.assertEqual(out.shape[1:], (1, 28, 28))
        ops = {o.op_type for o in model.graph.node}
        self.assertTrue({"Gemm", "BatchNormalization", "ConvTranspose", "Tanh"} <= ops, ops)
        self.assertTrue(np.all(np.abs(out) <= 1.0))
        self.assertIn("weight average", model.doc_string)

    def test_onnx_of_each_madgan_generator(self):
        self.same_as_generate(self.madgan, gen=1, k=3)
        st, _, data = self.d.request("GET", "/api/v1/runs/%d/export?generator=3" % self.madgan)
        self.assertEqual(st, 400)
        self.assertEqual(json.loads(data)["errors"][0]["field"], "generator")
        st, _, data = self.d.request("GET", "/api/v1/runs/%d/export?format=pb" % self.ring)
        self.assertEqual(st, 400)

    def test_onnx_of_a_conditional_generator(self):
        """A conditional G's input is the noise, then the class one-hot: the export
        evaluated on (z, class 5) is /generate of class 5 from z."""
        if onnx is None:
            self.skipTest("python3-onnx is not installed: " + WHY)
        model = onnx.load_from_string(self.export(self.cond))
        onnx.checker.check_model(model, full_check=True)
        width = model.graph.input[0].type.tensor_type.shape.dim[1].dim_value
        self.assertEqual(width, 16 + 8)  # ring8's z_dim and its 8 classes
        self.assertIn("one-hot", model.graph.input[0].doc_string)
        z = np.random.RandomState(5).randn(4, 16).astype(np.float32)
        got = self.d.json("POST", "/api/v1/runs/%d/generate" % self.cond,
                          {"z": z.tolist(), "class": 5, "format": "json"})["points"]
        onehot = np.zeros((4, 8))
        onehot[:, 5] = 1.0
        out = onnx_eval.run(model, {"z": np.hstack([z, onehot])})["x"]
        err = np.abs(out - np.array(got)).max()
        self.assertLess(err, 1e-4, "ONNX and /generate differ by %g" % err)
        # z with classes: each class for every vector, class after class
        both = self.d.json("POST", "/api/v1/runs/%d/generate" % self.cond,
                           {"z": z.tolist(), "classes": [2, 5], "format": "json"})["points"]
        self.assertEqual(len(both), 8)
        self.assertLess(np.abs(np.array(both[4:]) - np.array(got)).max(), 1e-5)
        # its plane: D judged each cell as a sample of its nearest mode's class
        planes = self.d.json("GET", "/api/v1/runs/%d/planes" % self.cond)["planes"]
        self.assertEqual([p["step"] for p in planes], [40])
        plane = self.d.json("GET", planes[0]["url"])
        flat = [v for row in plane["d"] for v in row]
        self.assertTrue(all(0.0 <= v <= 1.0 for v in flat))

    def test_noise_given_must_fit_the_model(self):
        st, _, data = self.d.request("POST", "/api/v1/runs/%d/generate" % self.ring,
                                     {"z": [[0.0] * 3], "format": "json"})
        self.assertEqual(st, 400)
        self.assertEqual(json.loads(data)["errors"][0]["field"], "z[0]")
        st, _, data = self.d.request("POST", "/api/v1/runs/%d/generate" % self.ring,
                                     {"z": [[0.0] * 16], "n": 2})
        self.assertEqual(st, 400)

    def test_planes_of_a_2d_run(self):
        d = self.d
        planes = d.json("GET", "/api/v1/runs/%d/planes" % self.ring)["planes"]
        samples = d.json("GET", "/api/v1/runs/%d/samples" % self.ring)["samples"]
        self.assertEqual([p["step"] for p in planes], [s["step"] for s in samples])
        p = d.json("GET", planes[-1]["url"])
        self.assertEqual(p["step"], 200)
        self.assertEqual(p["size"], 64)
        self.assertEqual(len(p["density"]), 64)
        self.assertTrue(all(len(r) == 64 for r in p["density"] + p["d"]))
        total = sum(sum(r) for r in p["density"])
        self.assertTrue(0.5 < total <= 1.0 + 1e-6, total)
        self.assertEqual(p["d_output"], "probability")
        self.assertTrue(all(0 <= v <= 1 for r in p["d"] for v in r))
        self.assertEqual(len(p["modes"]), 8)
        self.assertAlmostEqual(p["range"], 1.5)
        if self.dcgan:
            self.assertEqual(d.json("GET", "/api/v1/runs/%d/planes" % self.dcgan)["planes"], [])
            st, _, _ = d.request("GET", "/api/v1/runs/%d/planes/30" % self.dcgan)
            self.assertEqual(st, 404)

    def test_provenance_and_reproduce(self):
        d = self.d
        run = d.json("GET", "/api/v1/runs/%d" % self.ring)
        pv = run["provenance"]
        self.assertEqual(pv["threads"], 1)
        self.assertRegex(pv["spec_hash"], r"^[0-9a-f]{64}$")
        self.assertTrue(pv["version"] and pv["commit"] and pv["compiler"])
        self.assertIn("OpenBLAS", pv["blas"])
        env = dict(os.environ, GANCTL_ADDR="http://127.0.0.1:%d" % d.port)
        p = subprocess.run([CLI, "--json", "reproduce", str(self.ring)], capture_output=True,
                           text=True, env=env, timeout=300)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        r = json.loads(p.stdout)
        self.assertTrue(r["identical"], r)
        self.assertEqual(r["differing_inputs"], [])
        self.assertEqual(r["sha256"], r["reproduction_sha256"])
        again = d.json("GET", "/api/v1/runs/%d" % r["reproduction"])
        self.assertEqual(again["provenance"]["spec_hash"], pv["spec_hash"])
        self.assertEqual(again["name"], "reproduce of #%d" % self.ring)
        # ganctl export writes the model
        out = os.path.join(self.tmp, "g.onnx")
        p = subprocess.run([CLI, "export", str(self.ring), "-o", out], capture_output=True,
                           text=True, env=env, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), self.export(self.ring))


if __name__ == "__main__":
    sys.exit(run_suite(__name__))
