#!/usr/bin/python3
"""test_security.py — the daemon's security defaults.

- Loopback by default: ganctld started without --listen, in a network namespace of its
  own (so port 8080 is surely free there; skipped where unshare is not permitted),
  listens on 127.0.0.1:8080 and nothing else (its /proc/PID/net/tcp and tcp6).
- A warning in the log when it listens beyond loopback without a token (0.0.0.0 and
  [::]), none with a token or on a loopback address.
- A warning when the token file can be read or written by others than its owner.
- No secrets in logs: with a token file and --verbose, after requests with the right
  token, wrong tokens and a training run, neither the token nor the wrong tokens appear
  in the log, the store, /metrics, the OpenAPI document or any response.
- The store file and its -wal and -shm files are created 0600, the data directory and
  the folders in it 0700, also under umask 000.

The last line printed is "N passed, N failed, N skipped"."""

import http.client
import ipaddress
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ganctld_proc import BIN, Daemon, TmpCase, clean_env, free_port, run_suite  # noqa: E402


def listening(pid):
    """(address, port) of the TCP sockets listening in pid's network namespace."""
    out = []
    for name, v6 in (("tcp", False), ("tcp6", True)):
        try:
            with open("/proc/%d/net/%s" % (pid, name)) as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for ln in lines:
            parts = ln.split()
            if parts[3] != "0A":  # LISTEN
                continue
            addr, port = parts[1].split(":")
            if v6:
                words = [addr[i:i + 8] for i in range(0, 32, 8)]
                raw = b"".join(bytes.fromhex(w)[::-1] for w in words)
                host = str(ipaddress.IPv6Address(raw))
            else:
                host = ".".join(str(b) for b in bytes.fromhex(addr)[::-1])
            out.append((host, int(port, 16)))
    return out


class SecurityTest(TmpCase):
    prefix = "ganctl-security-"

    def test_loopback_by_default(self):
        if not shutil.which("unshare"):
            self.skipTest("unshare is not installed")
        probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True)
        if probe.returncode != 0:
            self.skipTest("cannot make a network namespace: %s" % probe.stderr.strip())
        data = os.path.join(self.tmp, "data")
        # no --listen: the default address; a namespace of its own with only loopback up
        p = subprocess.Popen(["unshare", "-n", "sh", "-c",
                              "ip link set lo up 2>/dev/null; exec \"$0\" --data \"$1\"",
                              BIN, data], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=clean_env())
        self.procs.append(p)
        socks = []
        deadline = time.time() + 15
        while time.time() < deadline and p.poll() is None:
            # only once unshare and sh have made way for ganctld is it in its namespace
            try:
                exe = os.readlink("/proc/%d/exe" % p.pid)
            except OSError:
                exe = ""
            socks = listening(p.pid) if exe == os.path.realpath(BIN) else []
            if socks:
                break
            time.sleep(0.05)
        self.assertEqual(socks, [("127.0.0.1", 8080)], p.stderr.read() if p.poll() else "")
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=20)
        self.assertEqual(p.returncode, 0, err)
        self.assertIn("listening on 127.0.0.1:8080", err)
        self.assertNotIn("warning", err)

    def test_warning_beyond_loopback_without_token(self):
        tf = os.path.join(self.tmp, "token")
        with open(tf, "w") as f:
            f.write("tok-%d\n" % os.getpid())
        cases = [("0.0.0.0", None, True), ("[::]", None, True), ("0.0.0.0", tf, False),
                 ("127.0.0.1", None, False), ("localhost", None, False), ("[::1]", None, False),
                 ("127.0.0.2", None, False)]
        for host, token, warns in cases:
            with self.subTest(host=host, token=bool(token)):
                data = os.path.join(self.tmp, "data-%s-%s" % (host.strip("[]:"), bool(token)))
                args = ["--threads", "1"] + (["--token-file", token] if token else [])
                port = free_port()
                argv = [BIN, "--listen", "%s:%d" % (host, port), "--data", data] + args
                p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=clean_env())
                self.procs.append(p)
                # reach it on an address it listens on
                to = {"[::]": "::1", "[::1]": "::1", "127.0.0.2": "127.0.0.2"}.get(host,
                                                                                 "127.0.0.1")
                ok = False
                deadline = time.time() + 15
                while time.time() < deadline and not ok and p.poll() is None:
                    try:
                        c = http.client.HTTPConnection(to, port, timeout=2)
                        c.request("GET", "/healthz")
                        ok = c.getresponse().status == 200
                        c.close()
                    except OSError:
                        time.sleep(0.05)
                self.assertTrue(ok, p.stderr.read() if p.poll() is not None else host)
                p.send_signal(signal.SIGTERM)
                _, err = p.communicate(timeout=20)
                self.assertEqual(p.returncode, 0, err)
                has = "beyond loopback without a token" in err
                self.assertEqual(has, warns, err)
                if warns:
                    self.assertRegex(err, r"warning: listening on \S+ beyond loopback without a "
                                          r"token")

    def test_no_secrets_in_logs_or_answers(self):
        token = "s3cr3t-%d-QWERTYUIOPasdfghjkl" % os.getpid()
        wrong = "wr0ng-%d-ZXCVBNMpoiuytrewq" % os.getpid()
        tf = os.path.join(self.tmp, "token")
        with open(tf, "w") as f:
            f.write(token + "\n")
        data = os.path.join(self.tmp, "data")
        log = os.path.join(self.tmp, "ganctld.log")
        d = Daemon(data, ["--token-file", tf, "--verbose", "--threads", "1"], log_path=log,
                   token=token).start()
        seen = []
        for hdr in ({"Authorization": "Bearer " + wrong}, {"Authorization": wrong},
                    {"Authorization": "Basic " + wrong}, {}):
            for path in ("/api/v1/runs", "/api/v1/runs/1", "/api/v1/nope?token=" + wrong):
                st, h, body = d.request("GET", path, headers=hdr, auth=False)
                self.assertEqual(st, 401)
                seen.append(body + json.dumps(h).encode())
        run = d.json("POST", "/api/v1/runs", {"name": "secrets", "dataset": {"name": "ring8"},
                                              "train": {"steps": 300}}, expect=201)
        d.wait_status(run["id"], {"succeeded"})
        for path in ("/api/v1/runs", "/api/v1/runs/%d" % run["id"], "/metrics",
                     "/api/v1/openapi.json", "/healthz", "/", "/api/v1/runs/%d/metrics" % run["id"],
                     "/api/v1/runs/%d/checkpoints" % run["id"]):
            st, h, body = d.request("GET", path)
            self.assertEqual(st, 200, path)
            seen.append(body + json.dumps(h).encode())
        # a bad request echoes what it got; the token must not be part of it
        st, h, body = d.request("POST", "/api/v1/runs", '{"name":"x","dataset":{"name":"nope"}}')
        self.assertEqual(st, 400)
        seen.append(body)
        self.assertEqual(d.stop(), 0)
        with open(log, "rb") as f:
            text = f.read()
        self.assertIn(b"auth on", text)
        self.assertIn(b"debug", text)  # --verbose did log
        stored = b""
        for name in os.listdir(data):
            path = os.path.join(data, name)
            if os.path.isfile(path):
                with open(path, "rb") as f:
                    stored += f.read()
        for secret in (token, wrong):
            with self.subTest(secret=secret[:5]):
                self.assertNotIn(secret.encode(), text, "in the log")
                self.assertNotIn(secret.encode(), stored, "in the store")
                for blob in seen:
                    self.assertNotIn(secret.encode(), blob, "in a response")

    def test_warning_for_a_token_file_open_to_others(self):
        tf = os.path.join(self.tmp, "token")
        with open(tf, "w") as f:
            f.write("tok-%d-secret\n" % os.getpid())
        for mode, warns in ((0o644, True), (0o640, True), (0o602, True), (0o600, False),
                            (0o400, False)):
            with self.subTest(mode=oct(mode)):
                os.chmod(tf, mode)
                d = Daemon(os.path.join(self.tmp, "data"), ["--token-file", tf,
                                                             "--threads", "1"],
                           log_path=os.path.join(self.tmp, "log-%o" % mode)).start()
                self.assertEqual(d.stop(), 0)
                log = d.tail(10 ** 6)
                self.assertEqual("is open to others than its owner" in log, warns, log)
                if warns:
                    self.assertIn("(mode %04o): chmod 600 it" % mode, log)
                self.assertNotIn("tok-%d-secret" % os.getpid(), log)

    def test_modes_under_umask_000(self):
        data = os.path.join(self.tmp, "a", "data")
        port = free_port()
        p = subprocess.Popen([BIN, "--listen", "127.0.0.1:%d" % port, "--data", data,
                              "--threads", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=clean_env(), preexec_fn=lambda: os.umask(0))
        self.procs.append(p)
        d = Daemon(data)
        d.proc, d.port = p, port
        self.assertTrue(d.wait_healthy(15))
        # a write, so the WAL is there
        d.json("POST", "/api/v1/runs", {"dataset": {"name": "ring8"}, "train": {"steps": 20}},
               expect=201)
        db = os.path.join(data, "ganctl.db")
        modes = {}
        for suffix in ("", "-wal", "-shm"):
            self.assertTrue(os.path.exists(db + suffix), suffix)
            modes["ganctl.db" + suffix] = stat.S_IMODE(os.stat(db + suffix).st_mode)
        for sub in ("", "cache", "datasets"):
            modes[sub or "data"] = stat.S_IMODE(os.stat(os.path.join(data, sub)).st_mode)
        modes["a"] = stat.S_IMODE(os.stat(os.path.dirname(data)).st_mode)
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=20)
        self.assertEqual(p.returncode, 0, err)
        self.assertEqual(modes, {"ganctl.db": 0o600, "ganctl.db-wal": 0o600,
                                 "ganctl.db-shm": 0o600, "data": 0o700, "cache": 0o700,
                                 "datasets": 0o700, "a": 0o700})

        # ganctld train too
        data2 = os.path.join(self.tmp, "train-data")
        spec = os.path.join(self.tmp, "spec.json")
        with open(spec, "w") as f:
            f.write('{"dataset":{"name":"ring8"},"train":{"steps":20}}')
        r = subprocess.run([BIN, "train", spec, "--data", data2, "--threads", "1"],
                           capture_output=True, text=True, env=clean_env(), timeout=120,
                           preexec_fn=lambda: os.umask(0))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(data2, "ganctl.db")).st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(data2).st_mode), 0o700)


if __name__ == "__main__":
    sys.exit(run_suite(__name__))
