#!/usr/bin/python3
"""test_daemon.py — the ganctld process itself: flags, config file, `ganctld train`,
signals, the systemd notify protocol, the data directory and the unit file.

Runs the real build/ganctld (or $GANCTLD) with temporary data directories; the notify
socket is a datagram socket of this test, so no systemd is needed. The REST API has
its own suite (test_api.py). Only the standard library. The last line printed is
"N passed, N failed, N skipped"."""

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ganctld_proc import BIN, ROOT, TmpCase, clean_env, free_port, run_suite  # noqa: E402


def healthz(port, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % port, timeout=1) as r:
                if r.status == 200:
                    return True
        except OSError:
            time.sleep(0.05)
    return False


def post(port, path, body=None):
    data = json.dumps(body).encode() if body is not None else b""
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), data=data,
                                 method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def get(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=10) as r:
        return json.loads(r.read())


class Tmp(TmpCase):
    prefix = "ganctld-test."

    def setUp(self):
        super().setUp()
        self.data = os.path.join(self.tmp, "data")

    def run_bin(self, *args, timeout=60, env=None):
        return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=timeout,
                              env=env or clean_env(), cwd=self.tmp)

    def spawn(self, *args, env=None):
        p = subprocess.Popen([BIN, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=env or clean_env(), cwd=self.tmp)
        self.procs.append(p)
        return p

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path


class FlagsTest(Tmp):
    def test_help_and_version(self):
        r = self.run_bin("--help")
        self.assertEqual(r.returncode, 0)
        for flag in ("--listen", "--data", "--workers", "--threads", "--config", "--token-file",
                     "--datasets", "--web", "--keep-checkpoints", "train SPEC.json"):
            self.assertIn(flag, r.stdout)
        r = self.run_bin("--version")
        self.assertEqual(r.returncode, 0)
        # the release and the commit it was built from ("unknown" outside git)
        self.assertRegex(r.stdout, r"^ganctld \d+\.\d+\.\d+ \([0-9a-z-]+\)\n$")

    def test_bad_flags_exit_2_with_a_message(self):
        cases = [
            (["--bogus"], "unknown option"),
            (["--workers", "0"], "--workers"),
            (["--workers", "many"], "--workers"),
            (["--threads", "-1"], "--threads"),
            (["--keep-checkpoints", "x"], "--keep-checkpoints"),
            (["--listen"], "needs a value"),
            (["stray"], "unexpected argument"),
            (["--config", os.path.join("/nonexistent", "ganctld.conf")], "--config"),
            (["train"], "usage"),
            (["train", "spec.json", "--listen", "127.0.0.1:1"], "not an option"),
            (["--store", "host=db dbname=ganctl"], "expected a postgresql:// or postgres://"),
            (["--store", "/var/lib/ganctl/x.db"], "URI"),
            (["--heartbeat", "20", "--lease", "30"], "at least twice --heartbeat"),
            (["--lease", "1"], "--lease"),
            (["--name", "two words"], "--name"),
        ]
        for args, words in cases:
            with self.subTest(args=args):
                r = self.run_bin(*args)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(words, r.stderr)

    def test_bad_config_lines(self):
        for text, words in (("workers = 0\n", "--workers"), ("nope = 1\n", "unknown option"),
                            ("just words\n", "key = value"), ("config = x\n", "config"),
                            ("store = ganctl.db\n", "--store")):
            with self.subTest(text=text):
                path = self.write("bad.conf", text)
                r = self.run_bin("--config", path)
                self.assertEqual(r.returncode, 2)
                self.assertIn(words, r.stderr)

    def test_config_file_and_flags_win(self):
        port = free_port()
        conf = self.write("ganctld.conf",
                          "# a comment\n\nlisten = 127.0.0.1:1\nworkers = 3\ndata = %s\n"
                          "keep-checkpoints = 2\n" % self.data)
        p = self.spawn("--config", conf, "--listen", "127.0.0.1:%d" % port, "--workers", "2")
        self.assertTrue(healthz(port), "the flag --listen did not win over the file")
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=20)
        self.assertEqual(p.returncode, 0, err)
        self.assertIn("2 worker(s)", err)
        self.assertIn("data %s" % self.data, err)
        self.assertTrue(os.path.exists(os.path.join(self.data, "ganctl.db")))

    def test_warns_beyond_loopback_without_token_and_never_logs_the_token(self):
        port = free_port()
        p = self.spawn("--listen", "0.0.0.0:%d" % port, "--data", self.data)
        self.assertTrue(healthz(port))
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=20)
        self.assertIn("warning", err)
        self.assertIn("without a token", err)

        token = "s3cret-token-value-1234"
        tf = self.write("token", "  %s  \n" % token)
        port = free_port()
        p = self.spawn("--listen", "0.0.0.0:%d" % port, "--data", self.data, "--token-file", tf)
        self.assertTrue(healthz(port))
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=20)
        self.assertEqual(p.returncode, 0)
        self.assertNotIn("without a token", err)
        self.assertNotIn(token, err)
        self.assertIn("auth on", err)

        empty = self.write("empty", "\n")
        r = self.run_bin("--data", self.data, "--token-file", empty)
        self.assertEqual(r.returncode, 2)
        self.assertIn("token", r.stderr)

    def test_credentials_directory_token(self):
        creds = os.path.join(self.tmp, "creds")
        os.mkdir(creds)
        with open(os.path.join(creds, "api-token"), "w") as f:
            f.write("tok\n")
        port = free_port()
        p = self.spawn("--listen", "127.0.0.1:%d" % port, "--data", self.data,
                       env=clean_env(CREDENTIALS_DIRECTORY=creds))
        self.assertTrue(healthz(port))
        try:
            get(port, "/api/v1/runs")
            self.fail("no 401 without the token")
        except urllib.error.HTTPError as e:
            self.assertEqual(e.code, 401)
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=20)
        self.assertIn("auth on", err)


class StoreFileTest(Tmp):
    def test_state_directory_file_mode_and_newer_database(self):
        port = free_port()
        state = os.path.join(self.tmp, "state")
        p = self.spawn("--listen", "127.0.0.1:%d" % port, env=clean_env(STATE_DIRECTORY=state))
        self.assertTrue(healthz(port))
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=20)
        self.assertEqual(p.returncode, 0, err)
        db = os.path.join(state, "ganctl.db")
        self.assertEqual(stat.S_IMODE(os.stat(db).st_mode), 0o600)
        self.assertTrue(os.path.isdir(os.path.join(state, "datasets")))
        self.assertTrue(os.path.isdir(os.path.join(state, "cache")))
        # the newest migration of the SQLite store
        latest = max(int(f.split("_")[0]) for f in
                     os.listdir(os.path.join(ROOT, "migrations", "sqlite")) if f.endswith(".sql"))
        self.assertIn("schema version %d" % latest, err)

        # a database from a newer ganctld (user_version lives at offset 60)
        with open(db, "r+b") as f:
            f.seek(60)
            f.write((7).to_bytes(4, "big"))
        r = self.run_bin("--listen", "127.0.0.1:%d" % free_port(), "--data", state)
        self.assertEqual(r.returncode, 1)
        self.assertIn("database version 7 is newer than this ganctld (knows %d); upgrade ganctld"
                      % latest,
                      r.stderr)


class TrainTest(Tmp):
    def test_train_ring8_prints_the_run_and_exits_0(self):
        spec = self.write("ring8.json", '{"dataset":{"name":"ring8"},"train":{"steps":200}}')
        r = self.run_bin("train", spec, "--data", self.data, "--threads", "1", timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), 1)
        run = json.loads(lines[0])
        self.assertEqual(run["status"], "succeeded")
        self.assertEqual(run["step"], 200)
        self.assertEqual(run["steps"], 200)
        self.assertIn("loss_d", run["latest"])
        self.assertIn("modes_covered", run["eval"])
        self.assertIn("succeeded at step 200", r.stderr)
        self.assertRegex(r.stderr, r"info: run \d+: step 200 loss_d=")

        # the same store: a second run gets the next id
        r = self.run_bin("train", spec, "--data", self.data, "--threads", "1", timeout=120)
        self.assertEqual(r.returncode, 0)
        self.assertEqual(json.loads(r.stdout)["id"], run["id"] + 1)

    def test_train_bad_spec_lists_fields_and_exits_2(self):
        spec = self.write("bad.json", '{"dataset":{"name":"ring8"},"train":{"stepz":1}}')
        r = self.run_bin("train", spec, "--data", self.data)
        self.assertEqual(r.returncode, 2)
        self.assertIn("train.stepz", r.stderr)
        self.assertEqual(r.stdout, "")
        spec = self.write("junk.json", "{")
        r = self.run_bin("train", spec, "--data", self.data)
        self.assertEqual(r.returncode, 2)
        r = self.run_bin("train", os.path.join(self.tmp, "missing.json"), "--data", self.data)
        self.assertEqual(r.returncode, 2)
        self.assertIn("missing.json", r.stderr)

    def test_train_failing_run_exits_1_with_its_error(self):
        spec = self.write("idx.json", '{"dataset":{"name":"idx","path":"%s"},'
                          '"train":{"steps":5}}' % self.write("not-idx", "garbage"))
        r = self.run_bin("train", spec, "--data", self.data, timeout=60)
        self.assertEqual(r.returncode, 1)
        run = json.loads(r.stdout)
        self.assertEqual(run["status"], "failed")
        self.assertTrue(run["error"])

    def test_sigint_checkpoints_and_the_daemon_continues(self):
        spec = self.write("long.json", '{"dataset":{"name":"ring8"},'
                          '"train":{"steps":10000000},"every":{"checkpoint":0}}')
        p = self.spawn("train", spec, "--data", self.data, "--threads", "1")
        time.sleep(1.5)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
        self.assertEqual(p.returncode, 1, err)
        run = json.loads(out)
        self.assertEqual(run["status"], "queued")
        self.assertGreater(run["step"], 0)

        # a daemon on the same data directory continues it from that checkpoint
        port = free_port()
        d = self.spawn("--listen", "127.0.0.1:%d" % port, "--data", self.data, "--threads", "1")
        self.assertTrue(healthz(port))
        deadline = time.time() + 20
        got = {}
        while time.time() < deadline:
            got = get(port, "/api/v1/runs/%d" % run["id"])
            if got["status"] == "running" and got["step"] > run["step"]:
                break
            time.sleep(0.1)
        self.assertEqual(got["status"], "running")
        self.assertGreater(got["step"], run["step"])
        post(port, "/api/v1/runs/%d/cancel" % run["id"])
        d.send_signal(signal.SIGTERM)
        _, err = d.communicate(timeout=30)
        self.assertEqual(d.returncode, 0, err)
        self.assertIn("resumed from the checkpoint of step %d" % run["step"], err)


class SignalsTest(Tmp):
    def test_only_the_main_thread_of_the_daemon_takes_sigterm(self):
        """The daemon's threads hold SIGINT and SIGTERM, so the handler runs on the main
        thread (or an idle BLAS thread), never on one busy in a library call."""
        port = free_port()
        p = self.spawn("--listen", "127.0.0.1:%d" % port, "--data", self.data, "--workers", "2")
        self.assertTrue(healthz(port))

        def masks():
            held, free = [], []
            for tid in os.listdir("/proc/%d/task" % p.pid):
                try:
                    with open("/proc/%d/task/%s/status" % (p.pid, tid)) as f:
                        fields = dict(line.split(":\t", 1) for line in f if ":\t" in line)
                except FileNotFoundError:
                    continue  # a thread that just ended
                mask = int(fields["SigBlk"], 16)
                both = mask & (1 << (signal.SIGTERM - 1)) and mask & (1 << (signal.SIGINT - 1))
                (held if both else free).append((int(tid), fields["Name"].strip()))
            return held, free

        # the workers and the keeper start once HTTP answers, then the main thread lets
        # the signals through
        end = time.time() + 20
        held, free = masks()
        while (len(held) < 5 or p.pid in [t for t, _ in held]) and time.time() < end:
            time.sleep(0.1)
            held, free = masks()
        self.assertNotIn(p.pid, [t for t, _ in held], "the main thread holds the signals")
        # 2 workers, the keeper, the HTTP server's listener and the connection reaper
        self.assertGreaterEqual(len(held), 5, (held, free))
        self.assertTrue(any(n.startswith("MHD") for _, n in held), (held, free))
        self.assertFalse([n for _, n in free if n.startswith("MHD")], free)
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=20)
        self.assertEqual(p.returncode, 0, err)


class NotifyTest(Tmp):
    def test_ready_status_watchdog_stopping(self):
        sock_path = os.path.join(self.tmp, "notify")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(sock_path)
        s.settimeout(0.1)
        port = free_port()
        env = clean_env(NOTIFY_SOCKET=sock_path, WATCHDOG_USEC="1000000")
        p = self.spawn("--listen", "127.0.0.1:%d" % port, "--data", self.data, env=env)
        msgs = []

        def drain(seconds):
            end = time.time() + seconds
            while time.time() < end:
                try:
                    msgs.append((time.time(), s.recv(4096).decode()))
                except socket.timeout:
                    pass

        drain(0.3)
        while not any("READY=1" in m for _, m in msgs) and p.poll() is None and len(msgs) < 50:
            drain(0.3)
        ready = [t for t, m in msgs if "READY=1" in m]
        self.assertTrue(ready, msgs)
        # READY only once HTTP answers
        self.assertTrue(healthz(port, timeout=1))
        post(port, "/api/v1/runs", {"dataset": {"name": "ring8"}, "train": {"steps": 10000000}})
        drain(6)
        p.send_signal(signal.SIGTERM)
        t0 = time.time()
        drain(0.5)
        _, err = p.communicate(timeout=30)
        self.assertEqual(p.returncode, 0, err)
        self.assertLess(time.time() - t0, 10)
        s.close()

        texts = [m for _, m in msgs]
        self.assertGreaterEqual(sum("WATCHDOG=1" in m for m in texts), 6)
        status = [m for m in texts if m.startswith("STATUS=") and "running" in m]
        self.assertTrue(any("1 running, 0 queued" in m for m in status), status)
        steps = [int(m.split(", ")[2].split()[0]) for m in status if "1 running" in m]
        self.assertTrue(steps and steps[-1] > 0, status)
        self.assertTrue(any("STOPPING=1" in m for m in texts))
        # the run was stored as queued with a checkpoint, for the next start
        self.assertIn("run 1: queued at step", err)


class UnitFileTest(unittest.TestCase):
    def test_systemd_analyze_verify_and_security(self):
        if not shutil.which("systemd-analyze"):
            self.skipTest("systemd-analyze is not installed")
        r = subprocess.run(["sh", os.path.join(ROOT, "scripts", "check-service.sh"), BIN],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("verify ok", r.stdout)


if __name__ == "__main__":
    sys.exit(run_suite(__name__))
