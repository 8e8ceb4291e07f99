#!/usr/bin/python3
"""Integration tests of ganctl, the command-line client.

The real build/ganctld runs on a free loopback port with a temporary data directory,
and the real build/ganctl is run against it: every command, --json output parsed,
every exit code (0 ok, 1 error, 2 usage, 3 not found, 4 auth, 5 run failed or
canceled), watch following a short ring8 run to its end, and watch surviving a daemon
restart in the middle. A scripted stand-in server (standard library only) checks the
event-stream client on framing the daemon never produces: split chunks, CRLF,
multi-line data, comments, a connection cut mid-stream.

Run from anywhere: /usr/bin/python3 tests/integration/test_cli.py
GANCTL_BUILD=/path/to/build picks another build folder (default: build/).
The last line printed is "N passed, N failed, N skipped"; the exit status is non-zero on failure.
"""

import hashlib
import http.server
import json
import os
import pty
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("GANCTL_BUILD", os.path.join(ROOT, "build"))
GANCTL = os.path.join(BUILD, "ganctl")
GANCTLD = os.path.join(BUILD, "ganctld")
# The longest a watch of a test run may take (a bound, not a wait).
WATCH_TIMEOUT = 300
# The restart test's run must outlast a daemon restart; the sanitizer builds train
# about 20x slower, so a shorter run does it there.
SANITIZED = os.path.basename(BUILD.rstrip("/")) in ("build-thread", "build-address")
RESTART_STEPS = 600 if SANITIZED else 2500

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GANCTL_")}
    env.pop("NO_COLOR", None)
    env.update(extra)
    return env


class Daemon:
    """One ganctld process on a fixed port and data directory; restartable."""

    def __init__(self, data_dir, port=None, token_file=None, workers=2):
        self.data_dir = data_dir
        self.port = port or free_port()
        self.addr = "http://127.0.0.1:%d" % self.port
        self.token_file = token_file
        self.workers = workers
        self.proc = None
        self.log_path = os.path.join(data_dir, "ganctld.log")

    def start(self):
        args = [GANCTLD, "--listen", "127.0.0.1:%d" % self.port, "--data", self.data_dir,
                "--workers", str(self.workers)]
        if self.token_file:
            args += ["--token-file", self.token_file]
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                                     env=clean_env())
        log.close()
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("ganctld exited with %s:\n%s" % (self.proc.returncode,
                                                                    self.log_tail()))
            try:
                with urllib.request.urlopen(self.addr + "/healthz", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("ganctld did not answer /healthz:\n" + self.log_tail())

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def log_tail(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-3000:].decode(errors="replace")
        except OSError:
            return ""


class ClientMixin:
    addr = None

    def ganctl(self, *args, env=None, input=None, timeout=60, addr=True):
        argv = [GANCTL] + (["--addr", self.addr] if addr and self.addr else []) + list(args)
        p = subprocess.run(argv, input=input, capture_output=True, timeout=timeout,
                           env=env if env is not None else clean_env())
        return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")

    def ok(self, *args, **kw):
        rc, out, err = self.ganctl(*args, **kw)
        self.assertEqual(rc, 0, "ganctl %s: rc %d\nstdout: %s\nstderr: %s" % (args, rc, out, err))
        return out, err

    def json_of(self, *args):
        out, _ = self.ok("--json", *args)
        return json.loads(out)

    def submit(self, *flags):
        out, _ = self.ok("submit", "--dataset", "ring8", *flags)
        self.assertRegex(out, r"^\d+\n$")
        return int(out)

    def wait_status(self, run, statuses, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            obj = self.json_of("show", str(run))
            if obj["status"] in statuses:
                return obj
            time.sleep(0.1)
        self.fail("run %d never reached %s (last %s)" % (run, statuses, obj["status"]))

    def wait_step(self, run, step, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            obj = self.json_of("show", str(run))
            if obj["step"] >= step or obj["status"] not in ("queued", "running"):
                return obj
            time.sleep(0.1)
        self.fail("run %d never reached step %d" % (run, step))


# ---- without a daemon ----------------------------------------------------------------


class TestOffline(ClientMixin, unittest.TestCase):
    """What works with no daemon at all: version, help, usage errors, dry runs."""

    def test_version(self):
        rc, out, err = self.ganctl("--version", addr=False)
        self.assertEqual(rc, 0)
        self.assertRegex(out, r"^ganctl \d+\.\d+\.\d+\n$")

    def test_help_on_every_command(self):
        rc, out, _ = self.ganctl("--help", addr=False)
        self.assertEqual(rc, 0)
        commands = ["submit", "ls", "show", "watch", "cancel", "pause", "resume", "rm",
                    "metrics", "samples", "generate", "translate", "checkpoint", "sweep",
                    "sweeps", "export", "reproduce", "workers"]
        for c in commands:
            self.assertIn("  " + c, out)
            for form in ([c, "--help"], [c, "-h"], ["help", c], [c, "1", "--help"]):
                rc, cout, cerr = self.ganctl(*form, addr=False)
                self.assertEqual(rc, 0, (form, cerr))
                self.assertTrue(cout.startswith("Usage: ganctl " + c), (form, cout))
                self.assertIn("--addr URL", cout)
                self.assertEqual(cerr, "")

    def test_usage_errors_exit_2(self):
        cases = [
            [],
            ["frobnicate"],
            ["ls", "--bogus"],
            ["ls", "extra"],
            ["show"],
            ["show", "abc"],
            ["show", "0"],
            ["show", "1", "2"],
            ["watch"],
            ["cancel", "-5"],
            ["rm"],
            ["submit"],
            ["submit", "--steps", "many", "--dataset", "ring8"],
            ["submit", "--label-smoothing", "a,b", "--dataset", "ring8"],
            ["submit", "--set", "noequals", "--dataset", "ring8"],
            ["submit", "--set", ".x=1", "--dataset", "ring8"],
            ["submit", "a.json", "b.json"],
            ["sweep"],
            ["sweeps", "x"],
            ["export"],
            ["export", "1", "--generator", "99"],
            ["reproduce"],
            ["metrics", "1", "--max-points", "0"],
            ["generate", "1", "-n", "zero", "-o", "x.png"],
            ["generate", "1", "--format", "gif", "-o", "x.gif"],
            ["generate", "1", "--format", "png"],
            ["generate", "1", "--class", "", "-o", "x.png"],
            ["generate", "1", "--class", "3,,4", "-o", "x.png"],
            ["samples", "1", "--step", "x", "-o", "a.png"],
            ["translate", "1", "-o", "out.png"],
            ["translate", "1", "in.png"],
            ["translate", "1", "in.png", "more.png", "-o", "out.png"],
            ["--addr"],
            ["--json=1", "ls"],
        ]
        for args in cases:
            rc, out, err = self.ganctl(*args, addr=False)
            self.assertEqual(rc, 2, (args, out, err))
            self.assertEqual(out, "", args)
            self.assertTrue(err.startswith("ganctl: ") or err.startswith("Usage:"), (args, err))

    def test_unreachable_daemon_exit_1(self):
        port = free_port()  # nothing listens there
        addr = "http://127.0.0.1:%d" % port
        for args in (["ls"], ["show", "1"], ["watch", "1"], ["submit", "--dataset", "ring8"]):
            rc, out, err = self.ganctl("--addr", addr, *args, addr=False)
            self.assertEqual(rc, 1, args)
            self.assertEqual(out, "")
            self.assertIn("cannot reach ganctld at %s: connection refused" % addr, err)
        # the environment names the daemon too, and a bare host:port is taken as http://
        rc, _, err = self.ganctl("ls", addr=False,
                                 env=clean_env(GANCTL_ADDR="127.0.0.1:%d" % port))
        self.assertEqual(rc, 1)
        self.assertIn("cannot reach ganctld at %s: connection refused" % addr, err)

    def test_submit_dry_run_types_values(self):
        out, _ = self.ok("submit", "--dataset", "ring8", "--steps", "200", "--loss", "hinge",
                         "--arch", "mlp", "--batch-size", "32", "--seed", "-3",
                         "--label-smoothing", "0.8,1.0", "--feature-matching",
                         "--unrolled-steps", "2", "--generators", "3", "--patch",
                         "--name", "demo",
                         "--set", "every.sample=50",
                         "--set", "model.batch_norm=false",
                         "--set", "tricks.weight_clip=null",
                         "--set", "optimizer.g.lr=1e-4",
                         "--set", "optimizer.g.kind=rmsprop",
                         "--set", "dataset.classes=[1, 7]",
                         "--set", 'name="42"',
                         "--dry-run", addr=False)
        spec = json.loads(out)
        self.assertEqual(spec["dataset"], {"name": "ring8", "classes": [1, 7]})
        self.assertEqual(spec["train"], {"steps": 200, "batch_size": 32, "seed": -3})
        self.assertEqual(spec["loss"], "hinge")
        self.assertEqual(spec["model"], {"arch": "mlp", "patch": True, "batch_norm": False})
        self.assertEqual(spec["tricks"], {"label_smoothing": [0.8, 1.0], "feature_matching": True,
                                          "unrolled_steps": 2, "generators": 3,
                                          "weight_clip": None})
        self.assertEqual(spec["every"], {"sample": 50})
        self.assertEqual(spec["optimizer"], {"g": {"lr": 1e-4, "kind": "rmsprop"}})
        self.assertEqual(spec["name"], "42")  # a quoted JSON string stays a string

    def test_submit_dry_run_preset_and_toolkit(self):
        out, _ = self.ok("submit", "--preset", "wgan-gp", "--dataset", "fashion-mnist",
                         "--set", "tricks.gradient_penalty.every=4",
                         "--set", "tricks.diffaugment=color,cutout",
                         "--set", "dataset.subset=1000", "--dry-run", addr=False)
        spec = json.loads(out)
        self.assertEqual(spec["preset"], "wgan-gp")
        self.assertEqual(spec["dataset"], {"name": "fashion-mnist", "subset": 1000})
        self.assertEqual(spec["tricks"], {"gradient_penalty": {"every": 4},
                                          "diffaugment": "color,cutout"})

    def test_submit_dry_run_nested_lr_decay_and_ema(self):
        out, _ = self.ok("submit", "--dataset", "ring8",
                         "--set", "train.lr_decay.start=0.5",
                         "--set", "train.lr_decay.shape=step",
                         "--set", "tricks.ema=0.999", "--dry-run", addr=False)
        spec = json.loads(out)
        self.assertEqual(spec["train"], {"lr_decay": {"start": 0.5, "shape": "step"}})
        self.assertEqual(spec["tricks"], {"ema": 0.999})
        out, _ = self.ok("submit", "--dataset", "ring8", "--set", "train.lr_decay=null",
                         "--dry-run", addr=False)
        self.assertEqual(json.loads(out)["train"], {"lr_decay": None})

    def test_submit_dry_run_file_then_flags(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "spec.json")
            with open(path, "w") as f:
                json.dump({"name": "from-file", "dataset": {"name": "grid25"},
                           "train": {"steps": 10, "seed": 5}}, f)
            # flags apply on top of the file, wherever the file is on the line
            out, _ = self.ok("submit", "--steps", "20", path, "--set", "train.seed=6",
                             "--dry-run", addr=False)
            spec = json.loads(out)
            self.assertEqual(spec["name"], "from-file")
            self.assertEqual(spec["dataset"]["name"], "grid25")
            self.assertEqual(spec["train"], {"steps": 20, "seed": 6})
            # the spec from stdin
            rc, out, err = self.ganctl("submit", "-", "--dry-run", addr=False,
                                       input=b'{"dataset":{"name":"ring8"}}')
            self.assertEqual(rc, 0, err)
            self.assertEqual(json.loads(out), {"dataset": {"name": "ring8"}})
            # a file that is not a JSON object is a usage error with its position
            with open(path, "w") as f:
                f.write('{"dataset": ')
            rc, out, err = self.ganctl("submit", path, "--dry-run", addr=False)
            self.assertEqual(rc, 2)
            self.assertIn(path + ":1:", err)
            # the token quoted from a bad file reaches the terminal without its controls
            with open(path, "wb") as f:
                f.write(b'{"a": \x1b[31m}')
            rc, out, err = self.ganctl("submit", path, "--dry-run", addr=False)
            self.assertEqual(rc, 2)
            self.assertIn("near '?'", err)
            self.assertNotIn("\x1b", err)
            rc, _, err = self.ganctl("submit", os.path.join(d, "missing.json"), addr=False)
            self.assertEqual(rc, 1)
            self.assertIn("No such file", err)
            # --set through a field that is not an object
            rc, _, err = self.ganctl("submit", "--dataset", "ring8", "--set",
                                     "dataset.name.x=1", "--dry-run", addr=False)
            self.assertEqual(rc, 2)
            self.assertIn("not an object", err)


# ---- a scripted stand-in for the daemon -----------------------------------------------


class FakeHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_json(self, status, obj, ctype="application/json"):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def chunk(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()
        time.sleep(0.02)  # separate TCP segments: the client sees real splits

    def do_GET(self):
        fake = self.server.fake
        fake.requests.append((self.command, self.path, dict(self.headers)))
        if self.path.startswith("/api/v1/runs?"):
            return self.list_page()
        m = re.fullmatch(r"/api/v1/runs/(\d+)", self.path)
        if m and int(m.group(1)) == fake.run_id:
            return self.send_json(200, fake.run())
        if m:
            return self.send_json(404, {"type": "about:blank", "title": "Not Found",
                                        "status": 404, "detail": "no run " + m.group(1)},
                                  "application/problem+json")
        if self.path == "/api/v1/runs/%d/events" % fake.run_id:
            conn = fake.connections
            fake.connections += 1
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            script = fake.scripts[min(conn, len(fake.scripts) - 1)]
            for part in script:
                if part == "DROP":  # cut the connection without ending the chunked body
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if part == "END":
                    self.wfile.write(b"0\r\n\r\n")
                    self.close_connection = True
                    return
                if callable(part):  # an action, or text made when its turn comes
                    part = part()
                    if not part:
                        continue
                self.chunk(part)
            time.sleep(3)  # the client is to stop on its own before this ends
            self.wfile.write(b"0\r\n\r\n")
            self.close_connection = True
            return
        self.send_json(404, {"title": "Not Found", "status": 404, "detail": "no route"},
                       "application/problem+json")

    def list_page(self):
        """Runs 5..1, newest first, two a page whatever the limit asked."""
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        start = int(q.get("cursor", ["0"])[0])
        limit = int(q.get("limit", ["100"])[0])
        ids = [5, 4, 3, 2, 1]
        page = ids[start:start + min(2, limit)]
        nxt = start + len(page)
        runs = [dict(self.server.fake.run(), id=i, name="r%d" % i) for i in page]
        self.send_json(200, {"runs": runs, "next_cursor": str(nxt) if nxt < len(ids) else None})

    def do_POST(self):
        fake = self.server.fake
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        fake.requests.append((self.command, self.path, dict(self.headers), body))
        if self.path == "/api/v1/runs":
            return self.send_json(400, {
                "type": "about:blank", "title": "Bad Request", "status": 400,
                "detail": "invalid run spec (2 errors)",
                "errors": [{"field": "train.steps", "message": "must be between 1 and 10000000"},
                           {"field": "loss", "message": "unknown loss 'x'"}]},
                "application/problem+json")
        self.send_json(401, {"title": "Unauthorized", "status": 401,
                             "detail": "a bearer token is required"}, "application/problem+json")


class Fake:
    """Serves run run_id; each connection to its event stream plays the next script."""

    def __init__(self, run_id, steps, scripts):
        self.run_id = run_id
        self.steps = steps
        self.scripts = scripts
        self.status = "running"
        self.error = None
        self.step = 0
        self.connections = 0
        self.requests = []
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeHandler)
        self.server.daemon_threads = True
        self.server.fake = self
        self.addr = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def run(self):
        return {"id": self.run_id, "name": "fake", "status": self.status, "step": self.step,
                "steps": self.steps, "error": self.error, "latest": {}, "eval": {},
                "spec": {"train": {"steps": self.steps}}, "created_at": "2026-01-01T00:00:00Z"}

    def finish(self, status, error=None):
        self.status, self.error, self.step = status, error, self.steps

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def event_requests(self):
        return [r for r in self.requests if r[1].endswith("/events")]


class TestFakeStream(ClientMixin, unittest.TestCase):
    def tearDown(self):
        self.fake.close()

    def test_framing_drop_and_last_event_id(self):
        def status_event(i, status):
            obj = dict(self.fake.run(), status=status, step=100)
            return "id: %d\nevent: status\ndata: %s\n\n" % (i, json.dumps(obj))

        first = [
            ": stream open\n\n",
            "retry: 100\nid: 1\nevent: metrics\nda",
            'ta: {"run":7,"step":10,"metrics":{"loss_d":1.5,"loss_g":0.5}}\r\n\r',
            "\n",
            ': ping\r\nid: 2\r\nevent: metrics\r\ndata: {"run":7,\r\n',
            'data: "step":20,"metrics":{"loss_d":1.25}}\r\n\r\n',
            'id: 3\nevent: metrics\ndata: {"run":8,"step":99,"metrics":{"loss_d":9}}\n\n',
            "id: 4\nevent: metrics\n",  # half an event, then the line goes dead
            "DROP",
        ]
        second = [
            'id: 5\nevent: sample\ndata: {"run":7,"step":30,"url":"/x.png"}\n\n',
            'id: 6\nevent: eval\ndata: {"run":7,"step":40,"eval":{"modes_covered":8}}\n\n',
            lambda: self.fake.finish("succeeded"),
            lambda: status_event(7, "succeeded"),
        ]
        self.fake = Fake(7, 100, [first, second])
        self.addr = self.fake.addr
        t0 = time.time()
        rc, out, err = self.ganctl("watch", "7", timeout=30)
        self.assertEqual(rc, 0, err)
        self.assertLess(time.time() - t0, 3, "watch did not stop at the terminal event")
        self.assertEqual(out, "")
        self.assertIn("run 7: step 10/100 loss_d 1.5 loss_g 0.5", err)
        self.assertIn("run 7: step 20/100 loss_d 1.25 loss_g 0.5", err)
        self.assertNotIn("step 99", err)  # another run's event on a shared stream
        self.assertIn("connection lost, reconnecting", err)
        self.assertIn("sample at step 30", err)
        self.assertIn("eval at step 40: modes_covered 8", err)
        self.assertIn("run 7 (fake) succeeded at step 100", err)
        reqs = self.fake.event_requests()
        self.assertEqual(len(reqs), 2)
        self.assertNotIn("Last-Event-ID", reqs[0][2])
        self.assertEqual(reqs[0][2].get("Accept"), "text/event-stream")
        # event 4 never completed, so the resume point is 3, the last id received
        self.assertEqual(reqs[1][2].get("Last-Event-ID"), "3")

    def test_failed_run_exits_5_and_json_lines(self):
        def fail():
            self.fake.finish("failed", "loss_d is NaN at step 12")

        script = [
            'id: 11\nevent: metrics\ndata: {"run":3,"step":10,"metrics":{"loss_d":0.7}}\n\n',
            fail,
            'id: 12\nevent: status\ndata: {"run":3,"status":"failed"}\n\n',
        ]
        self.fake = Fake(3, 50, [script])
        self.addr = self.fake.addr
        rc, out, err = self.ganctl("watch", "3", "--json", timeout=30)
        self.assertEqual(rc, 5, err)
        lines = [json.loads(l) for l in out.splitlines()]
        self.assertEqual([l["id"] for l in lines], [11, 12])
        self.assertEqual([l["event"] for l in lines], ["metrics", "status"])
        self.assertEqual(lines[0]["data"]["metrics"]["loss_d"], 0.7)
        # the status event carried no error: watch read the run to say why it failed
        self.assertIn("run 3 (fake) failed", err)
        self.assertIn("loss_d is NaN at step 12", err)

    def test_run_that_ended_unseen_is_noticed(self):
        # the stream stays silent (the run ended before it was opened): the quiet poll
        # finds out
        self.fake = Fake(4, 10, [[": stream open\n\n", lambda: self.fake.finish("canceled")]])
        self.addr = self.fake.addr
        rc, _, err = self.ganctl("watch", "4", timeout=30)
        self.assertEqual(rc, 5, err)
        self.assertIn("canceled", err)

    def test_ls_follows_the_cursor(self):
        self.fake = Fake(1, 10, [[]])
        self.addr = self.fake.addr
        listed = self.json_of("ls")
        self.assertEqual([r["id"] for r in listed["runs"]], [5, 4, 3, 2, 1])
        cursors = [urllib.parse.parse_qs(urllib.parse.urlsplit(r[1]).query).get("cursor")
                   for r in self.fake.requests]
        self.assertEqual(cursors, [None, ["2"], ["4"]])
        self.assertEqual([r["id"] for r in self.json_of("ls", "--limit", "3")["runs"]],
                         [5, 4, 3])
        out, _ = self.ok("ls", "--status", "running")
        self.assertEqual([l.split()[0] for l in out.splitlines()], ["ID", "5", "4", "3", "2", "1"])
        self.assertIn("status=running", self.fake.requests[-1][1])

    def test_watch_gives_up_and_signals(self):
        self.fake = Fake(2, 10, [[": stream open\n\n", "DROP"]])
        self.addr = self.fake.addr
        w = subprocess.Popen([GANCTL, "--addr", self.addr, "watch", "2", "--retry-for", "2"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env())
        deadline = time.time() + 10
        while self.fake.connections < 2 and time.time() < deadline:
            time.sleep(0.05)
        self.assertGreaterEqual(self.fake.connections, 2)  # it came back after a drop
        self.fake.close()
        t0 = time.time()
        _, err = w.communicate(timeout=30)
        err = err.decode()
        self.assertEqual(w.returncode, 1, err)
        self.assertGreaterEqual(time.time() - t0, 1.5)  # it kept trying for a while
        self.assertIn("connection lost, reconnecting", err)
        self.assertRegex(err, r"cannot reach ganctld at http://127\.0\.0\.1:\d+: connection "
                              r"refused \(gave up after 2 s\)")
        # Ctrl-C ends a watch at once, with the shell's status for it
        self.fake = Fake(2, 10, [[": stream open\n\n"]])
        self.addr = self.fake.addr
        w = subprocess.Popen([GANCTL, "--addr", self.addr, "watch", "2"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env())
        deadline = time.time() + 10
        while self.fake.connections < 1 and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        w.send_signal(signal.SIGINT)
        _, err = w.communicate(timeout=10)
        self.assertEqual(w.returncode, 130, err)
        self.assertIn(b"interrupted", err)

    def test_problems_and_token(self):
        self.fake = Fake(1, 10, [[]])
        self.addr = self.fake.addr
        rc, out, err = self.ganctl("submit", "--dataset", "ring8")
        self.assertEqual(rc, 1)
        self.assertEqual(out, "")
        self.assertIn("invalid run spec (2 errors)", err)
        self.assertIn("train.steps: must be between 1 and 10000000", err)
        self.assertIn("loss: unknown loss 'x'", err)
        rc, _, err = self.ganctl("cancel", "1", env=clean_env(GANCTL_TOKEN="s3cret"))
        self.assertEqual(rc, 4)
        self.assertIn("a bearer token is required", err)
        self.assertEqual(self.fake.requests[-1][2].get("Authorization"), "Bearer s3cret")
        with tempfile.NamedTemporaryFile("w", suffix=".token") as f:
            f.write("  fromfile\n")
            f.flush()
            # --token-file wins over the environment; the file's line is trimmed
            rc, _, _ = self.ganctl("--token-file", f.name, "pause", "1",
                                   env=clean_env(GANCTL_TOKEN="s3cret"))
            self.assertEqual(rc, 4)
            self.assertEqual(self.fake.requests[-1][2].get("Authorization"), "Bearer fromfile")
        rc, _, err = self.ganctl("show", "2")
        self.assertEqual(rc, 3)
        self.assertIn("no run 2", err)


# ---- against the real daemon ------------------------------------------------------------


class TestDaemon(ClientMixin, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ganctl-cli-")
        cls.daemon = Daemon(cls.tmp)
        cls.daemon.start()
        cls.addr = cls.daemon.addr

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_submit_show_ls_json(self):
        rc, out, err = self.ganctl("--json", "submit", "--dataset", "ring8", "--steps", "50",
                                   "--name", "cli-json", "--set", "every.sample=0")
        self.assertEqual(rc, 0, err)
        run = json.loads(out)
        self.assertIsInstance(run["id"], int)
        self.assertEqual(run["name"], "cli-json")
        self.assertIn(run["status"], ("queued", "running", "succeeded"))
        self.assertEqual(run["spec"]["train"]["steps"], 50)
        self.assertEqual(run["spec"]["model"]["arch"], "mlp")  # defaults filled in
        shown = self.json_of("show", str(run["id"]))
        self.assertEqual(shown["id"], run["id"])
        self.assertEqual(shown["spec"], run["spec"])
        listed = self.json_of("ls")
        self.assertIn(run["id"], [r["id"] for r in listed["runs"]])
        self.assertIsNone(listed["next_cursor"])
        # the human views
        done = self.wait_status(run["id"], ("succeeded",))
        self.assertEqual(done["step"], 50)
        out, _ = self.ok("show", str(run["id"]))
        self.assertRegex(out, r"(?m)^status +succeeded$")
        self.assertRegex(out, r"(?m)^progress +50/50 100%$")
        self.assertIn('"arch": "mlp"', out)
        out, _ = self.ok("ls", "--status", "succeeded")
        noun, _ = self.ok("runs", "ls", "--status", "succeeded")  # the noun form, same table
        self.assertEqual([l.split()[:-1] for l in noun.splitlines()],
                         [l.split()[:-1] for l in out.splitlines()])  # AGE may tick over
        header = out.splitlines()[0].split()
        self.assertEqual(header, ["ID", "NAME", "STATUS", "PROGRESS", "LOSS_D", "LOSS_G", "AGE"])
        row = [l for l in out.splitlines()[1:] if l.split()[0] == str(run["id"])]
        self.assertEqual(len(row), 1, out)
        self.assertIn("cli-json", row[0])
        self.assertIn("50/50 100%", row[0])
        # the workers: this daemon alone (SQLite), marked as the one asked
        workers = self.json_of("workers")
        self.assertEqual(len(workers["workers"]), 1)
        me = workers["workers"][0]
        self.assertEqual(me["name"], workers["self"])
        self.assertTrue(me["alive"])
        out, _ = self.ok("workers")
        lines = out.splitlines()
        self.assertEqual(lines[0].split(),
                         ["NAME", "STATE", "RUNNING", "WORKERS", "THREADS", "HEARTBEAT"])
        self.assertEqual(lines[1].split()[:3], [me["name"], "*", "alive"])
        # status filter and limit
        self.assertEqual(self.json_of("ls", "--status", "canceled", "--limit", "1000")["runs"],
                         [r for r in self.json_of("ls")["runs"] if r["status"] == "canceled"])
        self.assertLessEqual(len(self.json_of("ls", "--limit", "1")["runs"]), 1)
        rc, out, err = self.ganctl("ls", "--status", "bogus")
        self.assertEqual(rc, 1)
        self.assertIn("status", err)

    def test_translate(self):
        """An image-to-image run turns a small picture into a large one; a picture of
        the wrong size is refused with the daemon's reason and exit status 1."""
        run = int(self.ok("submit", "--dataset", "fashion-mnist", "--steps", "2",
                          "--set", "task.kind=super-resolution", "--set", "model.g_width=4",
                          "--set", "model.d_width=4", "--set", "train.batch_size=4")[0])
        self.wait_status(run, ("succeeded",), timeout=120)
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from test_translate import png, png_size
        small = os.path.join(self.tmp, "small.png")
        with open(small, "wb") as f:
            f.write(png(7, 7, 1, lambda x, y: (x * 30,)))
        out_path = os.path.join(self.tmp, "big.png")
        _, err = self.ok("translate", str(run), small, "-o", out_path)
        self.assertIn("wrote %s" % out_path, err)
        with open(out_path, "rb") as f:
            self.assertEqual(png_size(f.read()), (28, 28, 1))
        # standard input in, standard output out
        with open(small, "rb") as f:
            p = subprocess.run([GANCTL, "--addr", self.addr, "translate", str(run), "-", "-o",
                                "-"], input=f.read(), capture_output=True, timeout=60,
                               env=clean_env())
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(png_size(p.stdout), (28, 28, 1))
        big = os.path.join(self.tmp, "wrong.png")
        with open(big, "wb") as f:
            f.write(png(28, 28, 1, lambda x, y: (0,)))
        rc, out, err = self.ganctl("translate", str(run), big, "-o", out_path)
        self.assertEqual(rc, 1)
        self.assertIn("this run takes 7x7", err)
        rc, _, err = self.ganctl("translate", str(run), os.path.join(self.tmp, "none.png"),
                                 "-o", out_path)
        self.assertEqual(rc, 1)
        self.assertIn("none.png", err)

    def test_invalid_spec_field_errors_exit_1(self):
        before = len(self.json_of("ls")["runs"])
        rc, out, err = self.ganctl("submit", "--dataset", "ring8", "--set", "optimizer.g.lr=-1",
                                   "--set", "optimizer.d.lr=100")
        self.assertEqual(rc, 1)
        self.assertEqual(out, "")
        self.assertRegex(err, r"(?m)^  optimizer\.g\.lr: .+$")
        self.assertRegex(err, r"(?m)^  optimizer\.d\.lr: .+$")
        rc, _, err = self.ganctl("submit", "--dataset", "ring8", "--set", "colour=blue")
        self.assertEqual(rc, 1)
        self.assertIn("colour: ", err)
        rc, _, err = self.ganctl("submit", "--dataset", "ring8", "--steps", "0")
        self.assertEqual(rc, 1)
        self.assertIn("train.steps: ", err)
        self.assertEqual(len(self.json_of("ls")["runs"]), before)  # nothing stored

    def test_not_found_exit_3(self):
        for args in (["show", "999999"], ["watch", "999999"], ["cancel", "999999"],
                     ["pause", "999999"], ["resume", "999999"], ["rm", "999999"],
                     ["metrics", "999999"], ["samples", "999999"],
                     ["samples", "999999", "-o", os.path.join(self.tmp, "nf.png")],
                     ["generate", "999999", "-o", os.path.join(self.tmp, "nf.png")],
                     ["checkpoint", "999999"]):
            rc, out, err = self.ganctl(*args)
            self.assertEqual(rc, 3, (args, err))
            self.assertEqual(out, "")
            self.assertIn("ganctl: ", err)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "nf.png")))

    def test_watch_short_run_to_the_end(self):
        run = self.submit("--steps", "1200", "--name", "cli-watch", "--set", "every.log=50",
                          "--set", "every.sample=600", "--set", "every.checkpoint=600",
                          "--set", "every.eval=1200")
        # two watchers at once: plain lines and JSON lines
        jw = subprocess.Popen([GANCTL, "--addr", self.addr, "--json", "watch", str(run)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env())
        # generous bounds: a passing run ends in seconds, but the TSan build on a busy
        # machine trains at a few dozen steps a second
        rc, out, err = self.ganctl("watch", str(run), timeout=WATCH_TIMEOUT)
        jout, jerr = jw.communicate(timeout=60)
        self.assertEqual(rc, 0, err)
        self.assertEqual(jw.returncode, 0, jerr)
        self.assertEqual(out, "")
        self.assertIn("run %d (cli-watch) succeeded at step 1200" % run, err)
        steps = [int(m) for m in re.findall(r"step (\d+)/1200 loss_d", err)]
        self.assertTrue(steps, err)
        self.assertEqual(steps, sorted(steps))
        self.assertEqual(steps[-1], 1200)
        self.assertNotIn("\r", err)  # not a terminal: no progress bar
        events = [json.loads(l) for l in jout.decode().splitlines()]
        self.assertTrue(events)
        ids = [e["id"] for e in events]
        self.assertEqual(ids, sorted(set(ids)))
        self.assertIn("metrics", [e["event"] for e in events])
        self.assertEqual(events[-1]["event"], "status")
        self.assertEqual(events[-1]["data"]["status"], "succeeded")
        # a finished run: watch says so at once
        rc, _, err = self.ganctl("watch", str(run), timeout=10)
        self.assertEqual(rc, 0)
        self.assertIn("succeeded", err)
        self.check_outputs(run)

    def check_outputs(self, run):
        # metrics: table, CSV, JSON
        m = self.json_of("metrics", str(run), "loss_d", "loss_g")
        self.assertEqual(set(m["metrics"]), {"loss_d", "loss_g"})
        out, _ = self.ok("metrics", str(run), "loss_d", "loss_g", "--csv")
        lines = out.splitlines()
        self.assertEqual(lines[0], "step,loss_d,loss_g")
        rows = [l.split(",") for l in lines[1:]]
        self.assertEqual([int(r[0]) for r in rows], [p[0] for p in m["metrics"]["loss_d"]])
        self.assertAlmostEqual(float(rows[-1][1]), m["metrics"]["loss_d"][-1][1], places=4)
        self.assertEqual(int(rows[-1][0]), 1200)
        out, _ = self.ok("metrics", str(run), "loss_g", "--max-points", "5")
        self.assertEqual(out.splitlines()[0].split(), ["step", "loss_g"])
        self.assertLessEqual(len(out.splitlines()) - 1, 5)
        out, _ = self.ok("metrics", str(run), "--csv", "--from-step", "100", "--to-step", "200")
        steps = [int(l.split(",")[0]) for l in out.splitlines()[1:]]
        self.assertTrue(steps and all(100 <= s <= 200 for s in steps), out)
        # samples
        listed = self.json_of("samples", str(run))
        self.assertEqual([s["step"] for s in listed["samples"]], [600, 1200])
        png = os.path.join(self.tmp, "s.png")
        _, err = self.ok("samples", str(run), "-o", png)
        self.assertIn("wrote " + png, err)
        with open(png, "rb") as f:
            latest = f.read()
        self.assertEqual(latest[:8], PNG_MAGIC)
        self.ok("samples", str(run), "--step", "600", "-o", png)
        with open(png, "rb") as f:
            self.assertEqual(f.read()[:8], PNG_MAGIC)
        rc, _, err = self.ganctl("samples", str(run), "--step", "301", "-o", png + "2")
        self.assertEqual(rc, 3)
        self.assertFalse(os.path.exists(png + "2"))
        # generate
        gen = os.path.join(self.tmp, "g.png")
        self.ok("generate", str(run), "-n", "16", "--seed", "3", "-o", gen)
        with open(gen, "rb") as f:
            self.assertEqual(f.read()[:8], PNG_MAGIC)
        out, _ = self.ok("generate", str(run), "-n", "5", "--seed", "3")
        pts = json.loads(out)["points"]
        self.assertEqual(len(pts), 5)
        self.assertTrue(all(len(p) == 2 for p in pts))
        out2, _ = self.ok("generate", str(run), "-n", "5", "--seed", "3", "--format", "json")
        self.assertEqual(json.loads(out2), json.loads(out))  # same seed, same points
        # checkpoints: the list, the newest, one by step; bytes and sha256 as listed
        cps = self.json_of("checkpoint", str(run))["checkpoints"]
        self.assertEqual(sorted(c["step"] for c in cps)[-1], 1200)
        out, _ = self.ok("checkpoint", str(run))
        self.assertEqual(out.splitlines()[0].split(), ["STEP", "BYTES", "SHA256", "CREATED"])
        ck = os.path.join(self.tmp, "c.bin")
        for args, step in (([], 1200), (["--step", str(cps[0]["step"])], cps[0]["step"])):
            self.ok("checkpoint", str(run), *args, "-o", ck)
            with open(ck, "rb") as f:
                data = f.read()
            info = [c for c in cps if c["step"] == step][0]
            self.assertEqual(len(data), info["bytes"])
            self.assertEqual(hashlib.sha256(data).hexdigest(), info["sha256"])
        rc, _, _ = self.ganctl("checkpoint", str(run), "--step", "7", "-o", ck)
        self.assertEqual(rc, 3)

    def test_generate_by_class(self):
        run = self.submit("--steps", "20", "--set", "model.conditional=true",
                          "--set", "model.hidden=16", "--set", "train.batch_size=16",
                          "--set", "every.sample=0", "--set", "every.eval=0",
                          "--set", "every.checkpoint=20")
        self.wait_status(run, ("succeeded",))
        out, _ = self.ok("show", str(run))
        self.assertIn("classes   0, 1, 2, 3, 4, 5, 6, 7", out)
        # one --class: n of it; a list or repeated --class: n of each, class after class
        one = json.loads(self.ok("generate", str(run), "-n", "3", "--class", "5")[0])["points"]
        both = json.loads(self.ok("generate", str(run), "-n", "3", "-c", "2,5")[0])["points"]
        again = json.loads(self.ok("generate", str(run), "-n", "3", "--class", "2",
                                   "--class", "5")[0])["points"]
        self.assertEqual(len(both), 6)
        self.assertEqual(both, again)
        # the same noise as the row of class 5 alone (a batch of another size may round
        # the last bits otherwise)
        for p, q in zip(both[3:], one):
            self.assertAlmostEqual(p[0], q[0], places=5)
            self.assertAlmostEqual(p[1], q[1], places=5)
        # a class the run does not have: the API's problem, exit 1
        rc, out, err = self.ganctl("generate", str(run), "--class", "9")
        self.assertEqual(rc, 1, err)
        self.assertIn("class: the run has no class 9", err)

    def test_cancel_pause_resume_rm(self):
        run = self.submit("--steps", "1000000", "--set", "every.sample=0",
                          "--set", "every.eval=0", "--set", "every.checkpoint=0")
        self.wait_status(run, ("running",))
        # rm is refused while it runs
        rc, _, err = self.ganctl("rm", str(run))
        self.assertEqual(rc, 1)
        self.assertIn("409", err)
        obj = self.json_of("pause", str(run))
        self.assertEqual(obj["id"], run)
        self.wait_status(run, ("paused",))
        rc, _, err = self.ganctl("pause", str(run))
        self.assertEqual(rc, 1)  # 409: not running
        self.assertIn("409", err)
        _, err = self.ok("resume", str(run))
        self.assertRegex(err, r"run %d: (queued|running)" % run)
        self.wait_status(run, ("running",))
        # a watcher sees the cancel and exits 5
        w = subprocess.Popen([GANCTL, "--addr", self.addr, "watch", str(run)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env())
        time.sleep(1.0)
        self.assertIsNone(w.poll())
        _, err = self.ok("cancel", str(run))
        self.assertRegex(err, r"run %d: (canceled|cancel requested)" % run)
        _, werr = w.communicate(timeout=30)
        self.assertEqual(w.returncode, 5, werr)
        self.assertIn("canceled", werr.decode())
        rc, _, err = self.ganctl("cancel", str(run))
        self.assertEqual(rc, 1)
        self.assertIn("409", err)
        _, err = self.ok("rm", str(run))
        self.assertIn("deleted", err)
        rc, _, _ = self.ganctl("show", str(run))
        self.assertEqual(rc, 3)

    def test_failed_run_watch_exit_5(self):
        # SGD at lr 10 on an unclipped critic blows up within a few steps
        run = self.submit("--steps", "2000", "--loss", "wasserstein",
                          "--set", "tricks.weight_clip=10", "--set", "optimizer.d.lr=10",
                          "--set", "optimizer.g.lr=10", "--set", "optimizer.d.kind=sgd",
                          "--set", "optimizer.g.kind=sgd", "--set", "model.batch_norm=false",
                          "--set", "every.log=1")
        rc, _, err = self.ganctl("watch", str(run), timeout=60)
        self.assertEqual(rc, 5, err)
        self.assertRegex(err, r"run %d \(.*\) failed at step \d+: .+" % run)
        self.assertEqual(self.json_of("show", str(run))["status"], "failed")

    def test_progress_bar_only_on_a_terminal(self):
        run = self.submit("--steps", "1500", "--set", "every.log=50", "--set", "every.sample=0",
                          "--set", "every.eval=0")
        outputs = {}

        def watch(name, env):
            master, slave = pty.openpty()
            p = subprocess.Popen([GANCTL, "--addr", self.addr, "watch", str(run)],
                                 stdout=subprocess.PIPE, stderr=slave, env=env)
            os.close(slave)
            buf = b""
            while True:
                r, _, _ = select.select([master], [], [], 60)
                if not r:
                    break
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                buf += chunk
            os.close(master)
            p.wait(timeout=30)
            outputs[name] = (p.returncode, buf.decode(errors="replace"))

        threads = [threading.Thread(target=watch, args=("tty", clean_env(TERM="xterm"))),
                   threading.Thread(target=watch,
                                    args=("nocolor", clean_env(TERM="xterm", NO_COLOR="1")))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        rc, tty = outputs["tty"]
        self.assertEqual(rc, 0, tty)
        self.assertIn("\r", tty)
        self.assertIn("\x1b[K", tty)
        self.assertRegex(tty, r"run %d \[[#.]+\] \d+/1500 \d+%%" % run)
        self.assertIn("loss_d", tty)
        self.assertIn("succeeded at step 1500", tty)
        rc, plain = outputs["nocolor"]
        self.assertEqual(rc, 0, plain)
        self.assertNotIn("\x1b", plain)
        self.assertNotIn("[#", plain)
        self.assertIn("step 1500/1500 loss_d", plain)


class TestAuth(ClientMixin, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ganctl-cli-auth-")
        cls.token_file = os.path.join(cls.tmp, "token")
        with open(cls.token_file, "w") as f:
            f.write("cli-test-token\n")
        cls.daemon = Daemon(cls.tmp, token_file=cls.token_file, workers=1)
        cls.daemon.start()
        cls.addr = cls.daemon.addr

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_token_required_exit_4(self):
        for args in (["ls"], ["show", "1"], ["watch", "1"], ["submit", "--dataset", "ring8"]):
            rc, out, err = self.ganctl(*args)
            self.assertEqual(rc, 4, (args, err))
            self.assertEqual(out, "")
            self.assertIn("GANCTL_TOKEN", err)
        rc, _, _ = self.ganctl("ls", env=clean_env(GANCTL_TOKEN="wrong"))
        self.assertEqual(rc, 4)
        self.ok("ls", env=clean_env(GANCTL_TOKEN="cli-test-token"))
        self.ok("--token-file", self.token_file, "ls")
        out, _ = self.ok("--token-file", self.token_file, "submit", "--dataset", "ring8",
                         "--steps", "20", "--set", "every.sample=0")
        run = out.strip()
        rc, _, err = self.ganctl("--token-file", self.token_file, "watch", run, timeout=60)
        self.assertEqual(rc, 0, err)


class TestRestart(ClientMixin, unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ganctl-cli-restart-")
        self.daemon = Daemon(self.tmp, workers=1)
        self.daemon.start()
        self.addr = self.daemon.addr

    def tearDown(self):
        self.daemon.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_watch_survives_daemon_restart(self):
        run = self.submit("--steps", str(RESTART_STEPS), "--set", "every.log=50",
                          "--set", "every.checkpoint=250", "--set", "every.sample=0",
                          "--set", "every.eval=0")
        w = subprocess.Popen([GANCTL, "--addr", self.addr, "watch", str(run)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env())
        lines = []
        reader = threading.Thread(target=lambda: lines.extend(
            l.decode(errors="replace") for l in iter(w.stderr.readline, b"")), daemon=True)
        reader.start()
        deadline = time.time() + 60
        while time.time() < deadline and not any("loss_d" in l for l in lines):
            time.sleep(0.05)
        self.assertTrue(any("loss_d" in l for l in lines), "".join(lines))
        obj = self.json_of("show", str(run))
        self.assertEqual(obj["status"], "running", obj)
        self.assertLess(obj["step"], RESTART_STEPS, "the run ended too soon to test a restart")

        self.daemon.stop(signal.SIGTERM)
        time.sleep(1.5)  # watch keeps trying while the daemon is away
        self.assertIsNone(w.poll(), "".join(lines))
        self.daemon.start()

        rc = w.wait(timeout=WATCH_TIMEOUT)
        reader.join(timeout=5)
        err = "".join(lines)
        self.assertEqual(rc, 0, err + self.daemon.log_tail())
        self.assertIn("connection lost, reconnecting", err)
        self.assertIn("reconnected", err)
        self.assertIn("run %d (ring8-nonsaturating) succeeded at step %d" % (run, RESTART_STEPS),
                      err)
        done = self.json_of("show", str(run))
        self.assertEqual((done["status"], done["step"]), ("succeeded", RESTART_STEPS))
        # progress lines after the restart pick up where the run went on
        steps = [int(m) for m in re.findall(r"step (\d+)/%d loss_d" % RESTART_STEPS, err)]
        self.assertEqual(steps[-1], RESTART_STEPS)


def main():
    for path in (GANCTL, GANCTLD):
        if not os.access(path, os.X_OK):
            print("missing %s: build it first (make)" % path)
            print("0 passed, 1 failed")
            return 1
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    passed = result.testsRun - failed - len(result.skipped)
    sys.stdout.flush()
    sys.stderr.flush()
    print("%d passed, %d failed, %d skipped" % (passed, failed, len(result.skipped)))
    sys.stdout.flush()
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
