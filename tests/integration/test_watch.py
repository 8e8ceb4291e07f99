#!/usr/bin/python3
"""test_watch.py — the collapse watchdog over the real daemon, each detector provoked on
purpose, and a healthy run that raises nothing.

  - divergence: an absurd learning rate (10) sends the losses past watch.loss_max in a
    step or two: an alert record on the run, an alert event on the stream, a POST with
    a JSON body to the test's own webhook receiver (--alert-webhook, a small HTTP server
    on loopback that refuses the first try, so the daemon's retry is tested too).
  - rollback: a learning rate of 0.3 diverges; with watch.action rollback training goes
    back (to the start, then to a calm checkpoint) with the rates halved each time, the
    store forgets what came after, and the run finishes with finite losses.
  - d_winning: ten D steps per G step with the minimax loss; the Prometheus gauge
    ganctl_run_watch_alerts counts it while the run trains.
  - mode_collapse: the plain GAN on grid25 at a constant rate of 3e-3: modes_covered
    climbs to 17 and falls to 3.
  - a healthy ring8 run with the default watch raises nothing.

The runs train side by side (two workers, one thread each). Only the standard library.
The last line printed is "N passed, N failed, N skipped"."""

import http.server
import json
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ganctld_proc  # noqa: E402
from ganctld_proc import TERMINAL, TmpCase, run_suite  # noqa: E402


class Receiver(http.server.BaseHTTPRequestHandler):
    """The webhook's other end: keeps every body; answers 503 to the very first POST."""

    bodies = []
    tries = 0
    lock = threading.Lock()

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        with Receiver.lock:
            Receiver.tries += 1
            first = Receiver.tries == 1
            if not first:
                Receiver.bodies.append((self.headers.get("Content-Type"), body))
        self.send_response(503 if first else 204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def records(run, kind=None):
    return [w for w in run["watch"] if kind is None or w["kind"] == kind]


class WatchTest(TmpCase):
    prefix = "ganctl-watch-"

    @classmethod
    def setUpClass(cls):
        cls.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        cls.thread = threading.Thread(target=cls.srv.serve_forever, daemon=True)
        cls.thread.start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.shutdown()
        cls.srv.server_close()

    def setUp(self):
        super().setUp()
        hook = "http://127.0.0.1:%d/hooks/ganctl" % self.srv.server_address[1]
        self.d = ganctld_proc.Daemon(os.path.join(self.tmp, "data"),
                                     ["--workers", "2", "--threads", "2",
                                      "--alert-webhook", hook],
                                     env={"GANCTL_HEARTBEAT_MS": "300"}).start()

    def tearDown(self):
        self.d.stop()
        super().tearDown()

    def create(self, spec):
        return self.d.json("POST", "/api/v1/runs", spec, expect=201)["id"]

    def test_detectors_fire_on_what_they_watch_and_not_on_a_healthy_run(self):
        d = self.d
        diverge = self.create({"name": "absurd-lr", "dataset": {"name": "ring8"},
                               "train": {"steps": 300},
                               "optimizer": {"g": {"lr": 10}, "d": {"lr": 10}},
                               "every": {"eval": 0, "checkpoint": 300}})
        d_wins = self.create({"name": "d-wins", "dataset": {"name": "ring8"}, "loss": "minimax",
                              "train": {"steps": 1000000, "d_steps": 10},
                              "every": {"eval": 0, "sample": 0, "checkpoint": 0}})
        collapse = self.create({"name": "grid-plain", "dataset": {"name": "grid25"},
                                "train": {"steps": 1000, "lr_decay": None},
                                "optimizer": {"g": {"lr": 3e-3}, "d": {"lr": 3e-3}},
                                "every": {"eval": 100, "sample": 500, "checkpoint": 500},
                                "watch": {"warmup": 0.4}})
        healthy = self.create({"name": "healthy", "dataset": {"name": "ring8"},
                               "train": {"steps": 1500},
                               "every": {"eval": 250, "sample": 500, "checkpoint": 500}})

        # divergence: recorded, published, posted
        run = d.wait_status(diverge, TERMINAL, timeout=120)
        div = records(run, "divergence")
        self.assertTrue(div, run)
        self.assertEqual(div[0]["action"], "alert")
        self.assertLessEqual(div[0]["step"], 5)
        self.assertRegex(div[0]["message"], r"loss_[dg] .* past watch.loss_max 1000")
        events = self.replay(diverge, "alert")
        self.assertTrue(events)
        self.assertEqual(events[0]["alerts"][0]["kind"], "divergence")

        # D winning, counted by Prometheus while the run trains
        deadline = time.time() + 90
        while time.time() < deadline and not records(d.json("GET", "/api/v1/runs/%d" % d_wins),
                                                      "d_winning"):
            time.sleep(0.2)
        run = d.json("GET", "/api/v1/runs/%d" % d_wins)
        win = records(run, "d_winning")
        self.assertTrue(win, run)
        self.assertIn("D tells every sample apart", win[0]["message"])
        self.assertEqual(run["status"], "running")
        _, _, text = d.request("GET", "/metrics")
        self.assertIn('ganctl_run_watch_alerts{run="%d",kind="d_winning"} 1' % d_wins,
                      text.decode())
        d.json("POST", "/api/v1/runs/%d/cancel" % d_wins)

        # mode collapse of the plain GAN on grid25
        run = d.wait_status(collapse, TERMINAL, timeout=180)
        mc = records(run, "mode_collapse")
        self.assertTrue(mc, run)
        self.assertIn("modes_covered", mc[0]["message"])
        modes = [v for _, v in d.json("GET", "/api/v1/runs/%d/metrics?name=modes_covered"
                                      % collapse)["metrics"]["modes_covered"]]
        self.assertGreaterEqual(max(modes), 10, modes)

        # the healthy run raises nothing
        run = d.wait_status(healthy, TERMINAL, timeout=180)
        self.assertEqual(run["status"], "succeeded")
        self.assertEqual(run["watch"], [], run["watch"])
        self.assertEqual(self.replay(healthy, "alert"), [])

        # the webhook got every alert as JSON (the first try was refused and retried)
        want = {(r["id"], w["step"], w["kind"]) for r in
                (d.json("GET", "/api/v1/runs/%d" % i) for i in (diverge, d_wins, collapse))
                for w in r["watch"]}
        deadline = time.time() + 30
        while time.time() < deadline:
            with Receiver.lock:
                got = [json.loads(b) for _, b in Receiver.bodies]
            if {(g["run"], g["step"], g["kind"]) for g in got} >= want:
                break
            time.sleep(0.2)
        with Receiver.lock:
            types = {t for t, _ in Receiver.bodies}
        self.assertEqual({(g["run"], g["step"], g["kind"]) for g in got}, want)
        self.assertEqual(types, {"application/json"})
        first = [g for g in got if g["run"] == diverge][0]
        self.assertEqual(first["name"], "absurd-lr")
        self.assertEqual(first["action"], "alert")
        self.assertEqual(first["url"], "/api/v1/runs/%d" % diverge)

    def replay(self, rid, kind):
        """The data of the run's stored events of this kind (replayed from id 0)."""
        c = self.d.conn(timeout=3)
        c.request("GET", "/api/v1/runs/%d/events" % rid, headers={"Last-Event-ID": "0"})
        resp = c.getresponse()
        out, ev = [], {}
        try:
            while True:
                line = resp.readline().decode().rstrip("\n")
                if line.startswith(": ping"):
                    break
                if line == "":
                    if ev.get("event") == kind:
                        out.append(json.loads(ev["data"]))
                    ev = {}
                    continue
                if not line.startswith(":"):
                    k, _, v = line.partition(": ")
                    ev[k] = v
        except OSError:
            pass  # the replay is over once the stream goes quiet
        finally:
            c.close()
        return out

    def test_rollback_goes_back_with_halved_rates(self):
        d = self.d
        rid = self.create({"name": "rollback", "dataset": {"name": "ring8"},
                           "train": {"steps": 2000},
                           "optimizer": {"g": {"lr": 0.3}, "d": {"lr": 0.3}},
                           "every": {"log": 10, "eval": 500, "sample": 500, "checkpoint": 250},
                           "watch": {"action": "rollback", "max_rollbacks": 6}})
        run = d.wait_status(rid, TERMINAL, timeout=180)
        self.assertEqual(run["status"], "succeeded", run["error"])
        rb = [w for w in run["watch"] if w["action"] == "rollback"]
        self.assertGreaterEqual(len(rb), 2, run["watch"])
        scale = 1.0
        for w in rb:
            scale /= 2
            self.assertEqual(w["kind"], "divergence")
            self.assertAlmostEqual(w["lr_scale"], scale)
            self.assertLess(w["to_step"], w["step"])
            self.assertEqual(w["to_step"] % 250, 0)  # a checkpoint's step (0: the start)
            self.assertIn("fresh noise seed", w["message"])
        self.assertEqual(rb[0]["to_step"], 0)
        # what the run stored is one history: every series ends at the last step with
        # each step once, and the losses of the end are finite and small
        m = d.json("GET", "/api/v1/runs/%d/metrics?name=loss_d&max_points=100000" % rid)
        steps = [s for s, _ in m["metrics"]["loss_d"]]
        self.assertEqual(steps, sorted(set(steps)))
        self.assertEqual(steps[-1], 2000)
        self.assertTrue(all(v is not None and abs(v) < 1000 for _, v in m["metrics"]["loss_d"]
                            if _ > rb[-1]["to_step"]))
        ck = [c["step"] for c in d.json("GET", "/api/v1/runs/%d/checkpoints" % rid)["checkpoints"]]
        self.assertEqual(ck[-1], 2000)
        self.assertEqual(run["step"], 2000)


if __name__ == "__main__":
    sys.exit(run_suite(__name__))
