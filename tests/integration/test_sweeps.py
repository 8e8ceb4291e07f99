#!/usr/bin/python3
"""test_sweeps.py — sweeps over the real daemon: POST /api/v1/sweeps and what it makes.

  - A sweep with one bad axis value is refused whole with the value's field path, and
    nothing is stored; so is one whose configuration cannot train.
  - A grid sweep creates every configuration x seed at once, each run carrying
    "sweep": ID (runs outside sweeps carry null), and GET /api/v1/sweeps/{id} gives each
    configuration's objective as the mean, standard deviation and best over its seeds,
    recomputed here from the runs' own figures, and the best configuration.
  - A random search draws inside its ranges (log scale for learning rates), the same
    values for the same random_seed.
  - Successive halving stops the configuration that evaluates worse, with the reason on
    its runs, and lets the better one finish.
  - ganctl sweep and ganctl sweeps.

Only the standard library. The last line printed is "N passed, N failed, N skipped"."""

import json
import math
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ganctld_proc  # noqa: E402
from ganctld_proc import TERMINAL, TmpCase, run_suite  # noqa: E402

CLI = os.path.join(os.path.dirname(ganctld_proc.BIN), "ganctl")


def tiny(steps=120, **extra):
    spec = {"dataset": {"name": "ring8"}, "model": {"hidden": 16, "layers": 2},
            "train": {"steps": steps, "batch_size": 16},
            "every": {"log": 20, "sample": steps, "checkpoint": steps, "eval": steps // 2}}
    spec.update(extra)
    return spec


class SweepTest(TmpCase):
    prefix = "ganctl-sweeps-"

    def setUp(self):
        super().setUp()
        self.d = ganctld_proc.Daemon(os.path.join(self.tmp, "data"),
                                     ["--workers", "2", "--threads", "2"]).start()

    def tearDown(self):
        self.d.stop()
        super().tearDown()

    def post(self, body, expect=201):
        st, h, data = self.d.request("POST", "/api/v1/sweeps", body)
        self.assertEqual(st, expect, data[:600])
        return h, json.loads(data)

    def wait_sweep(self, sid, timeout=120):
        w = None
        for r in self.d.json("GET", "/api/v1/sweeps/%d" % sid)["configurations"]:
            for rid in r["runs"]:
                self.d.wait_status(rid, TERMINAL, timeout)
        w = self.d.json("GET", "/api/v1/sweeps/%d" % sid)
        self.assertEqual(w["status"], "finished")
        return w

    def test_a_bad_value_refuses_the_whole_sweep(self):
        _, p = self.post({"name": "bad", "spec": tiny(),
                          "axes": {"optimizer.g.lr": [1e-3, -1, 2e-3],
                                   "tricks.unrolled_steps": [0, 50]},
                          "objective": {"metric": "modes_covered"}}, 400)
        fields = [e["field"] for e in p["errors"]]
        self.assertIn("axes.optimizer.g.lr[1]", fields)
        self.assertIn("axes.tricks.unrolled_steps[1]", fields)
        self.assertIn("axes.optimizer.g.lr[1]", p["detail"])
        # a combination: each value is fine alone, MAD-GAN with hinge is not
        _, p = self.post({"spec": tiny(tricks={"generators": 2}),
                          "axes": {"loss": ["nonsaturating", "hinge"]},
                          "objective": {"metric": "modes_covered"}}, 400)
        self.assertEqual([e["field"] for e in p["errors"]], ["axes.loss[1]"])
        self.assertIn("tricks.generators", p["errors"][0]["message"])
        # the spec itself, the objective, unknown fields, a range in a grid
        _, p = self.post({"spec": tiny(train={"steps": 0}), "axes": {"train.batch_size": [8]},
                          "objective": {"metric": "fid"}, "bogus": 1}, 400)
        fields = {e["field"] for e in p["errors"]}
        self.assertTrue({"spec.train.steps", "bogus"} <= fields, fields)
        _, p = self.post({"spec": tiny(), "axes": {"optimizer.d.lr": {"min": 1e-4, "max": 1e-2}},
                          "objective": {"metric": "fid"}}, 400)
        fields = {e["field"] for e in p["errors"]}
        self.assertTrue({"axes.optimizer.d.lr", "objective.metric"} <= fields, p)
        self.assertIn("ring8 runs do not report fid",
                      [e["message"] for e in p["errors"] if e["field"] == "objective.metric"][0])
        # a spec that is not an object is named, not taken for a lack of memory
        _, p = self.post({"spec": 2, "seeds": 0, "axes": {"train.batch_size": [8]},
                          "objective": {"metric": "modes_covered"}}, 400)
        fields = {e["field"] for e in p["errors"]}
        self.assertTrue({"spec", "seeds"} <= fields, p)
        # nothing was stored
        self.assertEqual(self.d.json("GET", "/api/v1/runs")["runs"], [])
        self.assertEqual(self.d.json("GET", "/api/v1/sweeps")["sweeps"], [])

    def test_grid_with_seeds_and_the_objective_over_them(self):
        plain = self.d.json("POST", "/api/v1/runs", tiny(), expect=201)
        self.assertIsNone(plain["sweep"])
        h, w = self.post({"name": "grid", "spec": tiny(),
                          "axes": {"optimizer.g.lr": [1e-3, 3e-3], "train.batch_size": [16, 32]},
                          "seeds": 2, "objective": {"metric": "high_quality", "goal": "max"}})
        self.assertEqual(h["location"], "/api/v1/sweeps/%d" % w["id"])
        confs = w["configurations"]
        self.assertEqual(len(confs), 4)
        self.assertEqual([c["values"] for c in confs],
                         [{"optimizer.g.lr": a, "train.batch_size": b}
                          for a in (1e-3, 3e-3) for b in (16, 32)])
        runs = sorted(r for c in confs for r in c["runs"])
        self.assertEqual(len(runs), 8)
        # created at once, seed by seed
        self.assertEqual(runs, list(range(plain["id"] + 1, plain["id"] + 9)))
        w = self.wait_sweep(w["id"])
        best_mean = None
        for c in w["configurations"]:
            vals = []
            seeds = set()
            for rid in c["runs"]:
                run = self.d.json("GET", "/api/v1/runs/%d" % rid)
                self.assertEqual(run["sweep"], w["id"])
                self.assertEqual(run["status"], "succeeded")
                self.assertEqual(run["spec"]["optimizer"]["g"]["lr"], c["values"]["optimizer.g.lr"])
                self.assertEqual(run["spec"]["train"]["batch_size"],
                                 c["values"]["train.batch_size"])
                seeds.add(run["spec"]["train"]["seed"])
                vals.append(run["eval"]["high_quality"])
            self.assertEqual(seeds, {1, 2})
            mean = sum(vals) / len(vals)
            std = math.sqrt(sum((v - mean) ** 2 for v in vals) / (len(vals) - 1))
            o = c["objective"]
            self.assertAlmostEqual(o["mean"], mean, places=9)
            self.assertAlmostEqual(o["std"], std, places=9)
            self.assertEqual(o["best"], max(vals))
            self.assertEqual(o["n"], 2)
            self.assertTrue(c["finished"] and not c["stopped"])
            if best_mean is None or mean > best_mean:
                best_mean = mean
        self.assertAlmostEqual(w["best"]["objective"]["mean"], best_mean, places=9)
        summary = self.d.json("GET", "/api/v1/sweeps")["sweeps"]
        self.assertEqual([s["id"] for s in summary], [w["id"]])
        self.assertEqual(summary[0]["configurations"], 4)
        self.assertEqual(self.d.json("GET", "/api/v1/runs/%d" % plain["id"])["sweep"], None)
        st, _, _ = self.d.request("GET", "/api/v1/sweeps/%d" % (w["id"] + 1))
        self.assertEqual(st, 404)

    def test_random_search_draws_inside_its_ranges(self):
        body = {"spec": tiny(steps=20), "random": 6, "random_seed": 5,
                "axes": {"optimizer.g.lr": {"min": 1e-5, "max": 1e-2},
                         "train.batch_size": {"min": 8, "max": 64},
                         "loss": ["nonsaturating", "least-squares"]},
                "objective": {"metric": "modes_covered"}}
        _, w = self.post(body)
        vals = [c["values"] for c in w["configurations"]]
        self.assertEqual(len(vals), 6)
        for v in vals:
            self.assertTrue(1e-5 <= v["optimizer.g.lr"] <= 1e-2, v)
            self.assertIsInstance(v["train.batch_size"], int)
            self.assertTrue(8 <= v["train.batch_size"] <= 64, v)
            self.assertIn(v["loss"], ("nonsaturating", "least-squares"))
        # a log scale: the draws spread over the decades, not bunched at the top
        decades = {math.floor(math.log10(v["optimizer.g.lr"])) for v in vals}
        self.assertGreaterEqual(len(decades), 2, vals)
        # the same random_seed draws the same configurations
        _, again = self.post(body)
        self.assertEqual([c["values"] for c in again["configurations"]], vals)
        for c in again["configurations"]:
            run = self.d.json("GET", "/api/v1/runs/%d" % c["runs"][0])
            self.assertEqual(run["spec"]["loss"], c["values"]["loss"])
            self.assertEqual(run["spec"]["train"]["batch_size"], c["values"]["train.batch_size"])
            self.assertAlmostEqual(run["spec"]["optimizer"]["g"]["lr"],
                                   c["values"]["optimizer.g.lr"], delta=1e-9)

    def test_successive_halving_stops_the_worse_configuration(self):
        # one worker: the runs go one after the other, so the frozen generator (lr 1e-7)
        # reaches the evaluation at step 100 after the learning one did (1 mode covered
        # there by seed 1), and ranks below it with none
        d = self.d
        d.stop()
        self.d = ganctld_proc.Daemon(os.path.join(self.tmp, "one"),
                                     ["--workers", "1", "--threads", "1"]).start()
        spec = {"dataset": {"name": "ring8"}, "train": {"steps": 800},
                "every": {"log": 50, "sample": 400, "checkpoint": 400, "eval": 100}}
        _, w = self.post({"name": "halving", "spec": spec,
                          "axes": {"optimizer.g.lr": [1e-3, 1e-7]}, "seeds": 2,
                          "objective": {"metric": "modes_covered"},
                          "early_stopping": "successive_halving"})
        w = self.wait_sweep(w["id"], timeout=180)
        good, bad = w["configurations"]
        self.assertTrue(good["finished"] and not good["stopped"], good)
        self.assertTrue(bad["stopped"], bad)
        for rid in bad["runs"]:
            run = self.d.json("GET", "/api/v1/runs/%d" % rid)
            self.assertEqual(run["status"], "canceled")
            self.assertIn("successive halving", run["error"])
            self.assertIn("modes_covered", run["error"])
        first = self.d.json("GET", "/api/v1/runs/%d" % bad["runs"][0])
        self.assertEqual(first["step"], 100)  # stopped at its first evaluation
        second = self.d.json("GET", "/api/v1/runs/%d" % bad["runs"][1])
        self.assertEqual(second["step"], 0)  # canceled while queued
        self.assertEqual(w["best"]["index"], 0)

    def test_cli_sweep_and_sweeps(self):
        path = os.path.join(self.tmp, "sweep.json")
        with open(path, "w") as f:
            json.dump({"name": "cli", "spec": tiny(steps=40), "axes": {"optimizer.g.lr": [1e-3, 2e-3]},
                       "objective": {"metric": "high_quality"}}, f)
        env = dict(os.environ, GANCTL_ADDR="http://127.0.0.1:%d" % self.d.port)
        p = subprocess.run([CLI, "sweep", path], capture_output=True, text=True, env=env,
                           timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        sid = int(p.stdout.strip())
        self.assertIn("2 configurations, 2 runs queued", p.stderr)
        self.wait_sweep(sid)
        p = subprocess.run([CLI, "sweeps"], capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"%d\s+cli\s+finished\s+2\s+high_quality max" % sid)
        p = subprocess.run([CLI, "sweeps", str(sid)], capture_output=True, text=True, env=env,
                           timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        self.assertIn("objective high_quality (higher is better)", lines[0])
        self.assertTrue(lines[1].startswith("RANK"), lines)
        self.assertEqual(len(lines), 4)
        # a bad file: the daemon's problem with its field, exit 1
        with open(path, "w") as f:
            json.dump({"spec": tiny(), "axes": {"model.hidden": [0]},
                       "objective": {"metric": "high_quality"}}, f)
        p = subprocess.run([CLI, "sweep", path], capture_output=True, text=True, env=env,
                           timeout=60)
        self.assertEqual(p.returncode, 1)
        self.assertIn("axes.model.hidden[0]", p.stderr)


if __name__ == "__main__":
    sys.exit(run_suite(__name__))
