#!/usr/bin/python3
"""test_hostile.py — hostile input against a running ganctld: each request gets a 4xx
or a closed connection, nothing is stored, and the daemon stays up (/healthz after
every case).

Covers what test_api.py's malformed-request test does not: path traversal on static
files (dot segments raw, %-encoded, double-encoded, overlong UTF-8, absolute, symlinks
out of the web folder) and on dataset paths (symlinks and absolute paths out of the
dataset root); deeply nested and oversized JSON; invalid UTF-8 and NUL in strings and
keys; duplicate keys at any depth; numbers out of range (1e400, -0, 2^63, 2^64); raw
HTTP that is malformed or ambiguously framed (request smuggling); slow clients that
send their headers or body a byte a second (cut off by --http-timeout); wrong, missing
and odd tokens. At the end the store is opened read-only: no run, no event.
GANCTL_STORE=postgres runs it against the PostgreSQL store.

The last line printed is "N passed, N failed, N skipped"."""

import json
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ganctld_proc import Daemon, run_suite, store_count  # noqa: E402

TIMEOUT_S = 2  # the daemon's --http-timeout here: slow clients are cut off after it
HEARTBEAT_MS = 3000  # event stream heartbeats further apart than that timeout

IDX = (b"\x00\x00\x08\x03" + (4).to_bytes(4, "big") + (28).to_bytes(4, "big")
       + (28).to_bytes(4, "big") + bytes(4 * 784))


def raw(port, data, wait=TIMEOUT_S + 3, pause=None):
    """Sends data (bytes, or a list of pieces sent `pause` seconds apart) on a new
    connection; returns (status or None when closed without a response, seconds)."""
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(wait)
    t0 = time.time()
    out = b""
    try:
        for piece in (data if isinstance(data, list) else [data]):
            s.sendall(piece)
            if pause:
                time.sleep(pause)
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
            if b"\r\n\r\n" in out:
                head, _, body = out.partition(b"\r\n\r\n")
                n = [int(v) for k, v in (ln.split(b":", 1) for ln in head.split(b"\r\n")[1:]
                                         if b":" in ln) if k.strip().lower() == b"content-length"]
                if n and len(body) >= n[0]:
                    break
    except (ConnectionResetError, BrokenPipeError):
        pass
    except socket.timeout:
        s.close()
        return "timeout", time.time() - t0
    s.close()
    status = int(out.split(b" ", 2)[1]) if out.startswith(b"HTTP/1.") else None
    return status, time.time() - t0


class HostileTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ganctl-hostile-")
        t = cls.tmp
        # the web folder, with links that lead out of it
        web = os.path.join(t, "web")
        os.makedirs(os.path.join(web, "static"))
        with open(os.path.join(web, "index.html"), "w") as f:
            f.write("<!doctype html><title>hostile</title>")
        with open(os.path.join(web, "app.js"), "w") as f:
            f.write("let x = 1;")
        with open(os.path.join(t, "secret.txt"), "w") as f:
            f.write("top secret")
        os.symlink(os.path.join(t, "secret.txt"), os.path.join(web, "leak.txt"))
        os.symlink("../secret.txt", os.path.join(web, "rel-leak.txt"))
        os.symlink("/etc", os.path.join(web, "etc"))
        os.symlink(t, os.path.join(web, "static", "up"))
        os.symlink(os.path.join(web, "app.js"), os.path.join(web, "inside.js"))
        # the dataset root, with an IDX file inside and valid ones outside reached by links
        ds = os.path.join(t, "datasets")
        os.makedirs(os.path.join(ds, "pngs"))
        outside = os.path.join(t, "outside")
        os.makedirs(outside)
        for p in (os.path.join(ds, "ok.idx"), os.path.join(outside, "out.idx")):
            with open(p, "wb") as f:
                f.write(IDX)
        os.symlink(os.path.join(outside, "out.idx"), os.path.join(ds, "link.idx"))
        os.symlink("../outside", os.path.join(ds, "outdir"))
        os.symlink(outside, os.path.join(ds, "pngs", "up"))
        cls.datasets, cls.outside = ds, outside
        cls.data = os.path.join(t, "data")
        cls.d = Daemon(cls.data, ["--web", web, "--datasets", ds, "--http-timeout",
                                  str(TIMEOUT_S), "--workers", "1", "--threads", "1"],
                       env={"GANCTL_HEARTBEAT_MS": str(HEARTBEAT_MS)})
        cls.d.start()
        cls.cases = 0

    @classmethod
    def tearDownClass(cls):
        code = cls.d.stop()
        try:
            assert code == 0, "ganctld exited with %r: %s" % (code, cls.d.tail())
            runs, events = store_count(cls.data, "runs"), store_count(cls.data, "events")
            assert (runs, events) == (0, 0), "stored: %d runs, %d events" % (runs, events)
            print("hostile requests tried: %d" % cls.cases)
        finally:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def up(self):
        """The daemon still serves and has stored nothing."""
        self.assertTrue(self.d.alive(), self.d.tail())
        st, _, body = self.d.request("GET", "/healthz")
        self.assertEqual((st, json.loads(body)["status"]), (200, "ok"))
        self.assertEqual(self.d.json("GET", "/api/v1/runs")["runs"], [])

    def refused(self, st, what, allow=()):
        type(self).cases += 1
        self.assertNotEqual(st, "timeout", "%r: neither answered nor closed" % (what,))
        self.assertTrue(st is None or 400 <= st < 500 or st in allow,
                        "%r: got %r, want a 4xx or a closed connection" % (what, st))

    # ---- static files ----------------------------------------------------------------

    def test_static_traversal(self):
        paths = [
            "/static/../secret.txt", "/static/../../../../etc/passwd", "/../secret.txt",
            "/static/%2e%2e/secret.txt", "/static/%2E%2E/%2e%2e/etc/passwd",
            "/static/..%2fsecret.txt", "/static/..%2F..%2F..%2Fetc%2Fpasswd",
            "/static/%2e%2e%2f%2e%2e%2fsecret.txt", "/static/%252e%252e/secret.txt",
            "/static/%252e%252e%252fsecret.txt", "/static/%c0%ae%c0%ae/secret.txt",
            "/static/%c0%af..%c0%afsecret.txt", "/static/..%5csecret.txt",
            "/static/..\\secret.txt", "/static//etc/passwd", "/static/%2fetc%2fpasswd",
            "/static/%2Fetc/passwd", "/static/./../secret.txt", "/static/app.js/../../secret.txt",
            "/static/app.js%00.png", "/static/%00", "/static/", "/static/.", "/static/..",
            "/static/leak.txt", "/static/rel-leak.txt", "/static/etc/passwd",
            "/static/etc/hostname", "/static/up/secret.txt", "/static/static/up/secret.txt",
            "/index.html/../secret.txt", "/static/~/secret.txt", "/static/..;/secret.txt",
            "/static/%ff%fe", "/static/" + "../" * 200 + "etc/passwd",
            "/static/" + "a/" * 2000 + "x",
        ]
        for p in paths:
            with self.subTest(path=p):
                st, h, body = self.d.request("GET", p)
                self.refused(st, p)
                self.assertNotIn(b"top secret", body)
                self.assertNotIn(b"root:", body)
        # raw request lines that no client library would send
        for line in (b"GET ../secret.txt HTTP/1.1", b"GET /static/../../secret.txt HTTP/1.1",
                     b"GET http://x/static/../../secret.txt HTTP/1.1",
                     b"GET //secret.txt HTTP/1.1", b"GET /static/\x00/../secret.txt HTTP/1.1"):
            with self.subTest(line=line):
                st, _ = raw(self.d.port, line + b"\r\nHost: x\r\nConnection: close\r\n\r\n")
                self.refused(st, line)
        # a link inside the folder to a file inside it is fine
        st, _, body = self.d.request("GET", "/static/inside.js")
        self.assertEqual((st, body), (200, b"let x = 1;"))
        self.up()

    # ---- dataset paths ---------------------------------------------------------------

    def test_dataset_path_traversal(self):
        out = os.path.join(self.outside, "out.idx")
        paths = [("idx", "../outside/out.idx"), ("idx", out), ("idx", "link.idx"),
                 ("idx", "outdir/out.idx"), ("idx", "pngs/up/out.idx"),
                 ("idx", "pngs/../../outside/out.idx"), ("idx", "./../outside/out.idx"),
                 ("idx", "%2e%2e/outside/out.idx"), ("idx", "/etc/passwd"), ("idx", "/"),
                 ("idx", "ok.idx\u0000.png"), ("idx", "ok.idx/"), ("idx", ""), ("idx", "."),
                 ("idx", "~/out.idx"), ("idx", "/proc/self/environ"), ("idx", "x" * 5000),
                 ("idx", "\\..\\outside\\out.idx"), ("png-dir", "outdir"), ("png-dir", ".."),
                 ("png-dir", "/tmp"), ("png-dir", "pngs/up"), ("png-dir", self.outside),
                 ("idx", ["ok.idx"]), ("idx", {"path": "ok.idx"}), ("idx", 7)]
        for kind, path in paths:
            with self.subTest(kind=kind, path=path):
                spec = {"dataset": {"name": kind, "path": path}, "train": {"steps": 1}}
                if kind == "png-dir":
                    spec["dataset"].update(image_size=28, channels=1)
                st, h, body = self.d.request("POST", "/api/v1/runs", spec)
                self.refused(st, path)
                self.assertEqual(st, 400, body[:200])
                self.assertTrue(h["content-type"].startswith("application/problem+json"))
                self.assertNotIn(b"top secret", body)
        self.up()

    # ---- JSON ------------------------------------------------------------------------

    def test_hostile_json(self):
        ok = {"dataset": {"name": "ring8"}, "train": {"steps": 5}}

        def spec_with(section, key, text):
            """The spec text with one value replaced by raw JSON text."""
            return json.dumps(dict(ok, **{section: {key: "@@"}})).replace('"@@"', text)

        bodies = [
            "[" * 10000 + "]" * 10000, '{"a":' * 10000 + "1" + "}" * 10000,
            '{"dataset":' + '{"name":' * 3000 + '"ring8"' + "}" * 3001,
            "[" * 100000, "{" * 50000, '{"dataset":{"name":"ring8"},"x":' + "[" * 9000 + "]" * 9000
            + "}",
            '{"name":"a\\u0000b","dataset":{"name":"ring8"}}',
            '{"name":"\\u0000","dataset":{"name":"ring8"}}',
            '{"na\\u0000me":"x","dataset":{"name":"ring8"}}',
            '{"dataset":{"name":"ring8\\u0000"}}',
            b'{"name":"\xc0\xaf","dataset":{"name":"ring8"}}',
            b'{"name":"\xed\xa0\x80","dataset":{"name":"ring8"}}',
            b'{"name":"\xf8\x88\x80\x80\x80","dataset":{"name":"ring8"}}',
            b'{"name":"\xe2\x82","dataset":{"name":"ring8"}}',
            b'{"n\xffame":"x","dataset":{"name":"ring8"}}',
            b'{"dataset":{"name":"ring8"}}\xff', b"\xef\xbb\xbf{\"dataset\":{\"name\":\"ring8\"}}",
            b'{"name":"\x00","dataset":{"name":"ring8"}}', b'\x00{"dataset":{"name":"ring8"}}',
            '{"name":"\\udc00\\ud800","dataset":{"name":"ring8"}}',
            '{"dataset":{"name":"ring8","name":"ring8"}}',
            '{"train":{"steps":5,"steps":5},"dataset":{"name":"ring8"}}',
            '{"optimizer":{"g":{"lr":0.1,"lr":0.2}},"dataset":{"name":"ring8"}}',
            '{"dataset":{"name":"ring8"},"dataset":{"name":"ring8"}}',
            spec_with("train", "steps", "1e400"), spec_with("train", "steps", "-1e400"),
            spec_with("train", "steps", "-0"), spec_with("train", "steps", "-0.0"),
            spec_with("train", "steps", "18446744073709551616"),
            spec_with("train", "steps", "9223372036854775808"),
            spec_with("train", "steps", "9223372036854775807"),
            spec_with("train", "steps", "-9223372036854775809"),
            spec_with("train", "steps", "1e19"), spec_with("train", "steps", "5.0000000001"),
            spec_with("train", "seed", "18446744073709551616"),
            spec_with("train", "seed", "1e400"), spec_with("train", "batch_size", "-0"),
            spec_with("train", "steps", "Infinity"), spec_with("train", "steps", "0x10"),
            spec_with("train", "steps", "01"), spec_with("train", "steps", "+5"),
            spec_with("train", "steps", ".5"), spec_with("train", "steps", "5."),
            spec_with("train", "steps", "true"), spec_with("train", "steps", "null"),
            spec_with("optimizer", "g", '{"lr":1e400}'),
            spec_with("optimizer", "g", '{"lr":-0.0}'),
            spec_with("optimizer", "g", '{"lr":1e-400}'),
            spec_with("train", "d_steps", "-0"),
            spec_with("tricks", "label_smoothing", "1e400"),
            spec_with("tricks", "label_smoothing", "[-0.0, 1e400]"),
            spec_with("every", "log", "18446744073709551616"),
            '{"dataset":{"name":"ring8"}}' + " " * 100 + "{}", '{"dataset":{"name":"ring8"}',
            '{"dataset":{"name":"ring8"}}}', "{'dataset':{'name':'ring8'}}",
            '{"dataset":{"name":"ring8",}}', '{dataset:{"name":"ring8"}}', "\"" + "a" * 100000,
            json.dumps(dict(ok, name="a" * 1024 * 1024)), "{" + '"k":1,' * 200000 + '"z":1}',
            "[" + "1," * 400000 + "1]",
        ]
        for body in bodies:
            with self.subTest(body=body[:60]):
                st, h, data = self.d.request("POST", "/api/v1/runs", body,
                                             headers={"Content-Type": "application/json"})
                self.refused(st, body[:60])
                self.assertIn(st, (400, 413), data[:200])
                self.assertTrue(h["content-type"].startswith("application/problem+json"))
                json.loads(data)  # the problem itself is valid JSON (and so UTF-8)
        # the same against generate (a body parsed by another route) and a run id
        for body in ('{"n":1e400}', '{"n":-0}', '{"n":18446744073709551616}', '{"seed":1e400}',
                     '{"seed":-0.0}', '{"n":1,"n":1}', "[" * 10000, b'{"format":"\xff"}',
                     '{"format":"png\\u0000"}'):
            with self.subTest(generate=body[:40]):
                st, _, _ = self.d.request("POST", "/api/v1/runs/1/generate", body)
                self.refused(st, body[:40])
        for path in ("/api/v1/runs/18446744073709551616", "/api/v1/runs/-0",
                     "/api/v1/runs/1e3", "/api/v1/runs/0x1", "/api/v1/runs/%00",
                     "/api/v1/runs/1/checkpoints/99999999999999999999",
                     "/api/v1/runs/1/samples/-0.png", "/api/v1/runs?limit=1e400",
                     "/api/v1/runs?limit=18446744073709551616", "/api/v1/runs?cursor=-0x1",
                     "/api/v1/runs/1/metrics?max_points=1e400", "/api/v1/runs?status=%00"):
            with self.subTest(path=path):
                st, _, _ = self.d.request("GET", path)
                self.refused(st, path)
        self.up()

    # ---- raw HTTP --------------------------------------------------------------------

    def test_malformed_and_ambiguous_http(self):
        spec = b'{"dataset":{"name":"ring8"},"train":{"steps":5}}'
        n = str(len(spec)).encode()
        post = b"POST /api/v1/runs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        cases = [
            # two readers could frame these differently (request smuggling)
            post + b"Content-Length: " + n + b"\r\nContent-Length: 5\r\n\r\n" + spec,
            post + b"Content-Length: 5\r\nContent-Length: " + n + b"\r\n\r\n" + spec,
            post + b"Content-Length: " + n + b"\r\nTransfer-Encoding: chunked\r\n\r\n" + spec,
            post + b"Transfer-Encoding: chunked\r\nContent-Length: " + n + b"\r\n\r\n"
            + hex(len(spec))[2:].encode() + b"\r\n" + spec + b"\r\n0\r\n\r\n",
            post + b"Content-Length: " + n + b", " + n + b"\r\n\r\n" + spec,
            post + b"Content-Length: -1\r\n\r\n" + spec,
            post + b"Content-Length: +" + n + b"\r\n\r\n" + spec,
            post + b"Content-Length: 0x" + n + b"\r\n\r\n" + spec,
            post + b"Content-Length: 99999999999999999999999\r\n\r\n" + spec,
            post + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n" + spec + b"\r\n0\r\n\r\n",
            post + b"Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n" + spec,
            post + b"Transfer-Encoding: gzip\r\n\r\n" + spec,
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n",
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad\x00Name: y\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 200000
            + b"\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * 20000 + b"\r\n",
            b"GET /" + b"a" * 200000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /\r\n\r\n", b"GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n",
            b"GET  /  HTTP/1.1\r\nHost: x\r\n\r\n", b"\x00\x01\x02\x03\r\n\r\n",
            b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + bytes(32),  # a TLS hello
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
            b"G\xffT / HTTP/1.1\r\nHost: x\r\n\r\n", b"GET /\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
            b"TRACE / HTTP/1.1\r\nHost: x\r\n\r\n", b"CONNECT x:443 HTTP/1.1\r\nHost: x\r\n\r\n",
            b"\r\n\r\n\r\n\r\n",
        ]
        for data in cases:
            with self.subTest(request=data[:70]):
                st, _ = raw(self.d.port, data)
                # 505 is what HTTP itself says about an unknown version
                self.refused(st, data[:70], allow=(505,))
                self.up()
        # odd but unambiguous: HTTP lets a server take these (obsolete line folding,
        # an unknown expectation, a space in a header name it does not use); any
        # answer but a 5xx will do
        for data in (b"GET /healthz HTTP/1.1\r\nHost: x\r\n X-Folded: y\r\n\r\n",
                     b"GET /healthz HTTP/1.1\r\nHo st: x\r\n\r\n",
                     b"GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-banana\r\n\r\n",
                     post + b"Content-Length: " + n + b"\r\nContent-Length: " + n + b"\r\n\r\n"
                     + b"[]"):
            with self.subTest(tolerated=data[:70]):
                st, _ = raw(self.d.port, data)
                type(self).cases += 1
                self.assertTrue(st is None or st < 500, (data[:70], st))
                self.up()

    # ---- slow clients ----------------------------------------------------------------

    def test_slow_clients_are_cut_off(self):
        head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 40 + b"\r\n\r\n"
        body = b'{"dataset":{"name":"ring8"},"train":{"steps":5}}'
        slow_body = [b"POST /api/v1/runs HTTP/1.1\r\nHost: x\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\n\r\n"] + [bytes([b]) for b in body]
        results = {}

        def slow(name, pieces):
            results[name] = raw(self.d.port, pieces, wait=TIMEOUT_S + 5, pause=1.0)

        # a few at once, while normal requests are served
        threads = [threading.Thread(target=slow, args=("headers-%d" % i,
                                                       [bytes([b]) for b in head]))
                   for i in range(3)]
        threads.append(threading.Thread(target=slow, args=("body", slow_body)))
        lying = [b"POST /api/v1/runs HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n{"]
        threads.append(threading.Thread(target=slow, args=("short body", lying)))
        idle = [b"GET /healthz HTTP/1.1\r\n"]  # starts, then says nothing
        threads.append(threading.Thread(target=slow, args=("silent", idle)))
        t0 = time.time()
        for t in threads:
            t.start()
        time.sleep(0.5)
        while any(t.is_alive() for t in threads):
            self.assertEqual(self.d.request("GET", "/healthz", timeout=5)[0], 200)
            time.sleep(0.2)
        elapsed = time.time() - t0
        for name, (st, secs) in sorted(results.items()):
            with self.subTest(client=name):
                type(self).cases += 1
                # cut off with the connection closed (maybe after a 4xx), well before the
                # ~50 s the slow headers would take
                self.assertNotEqual(st, "timeout", "%s was not cut off" % name)
                self.assertTrue(st is None or 400 <= st < 500, (name, st))
                self.assertLess(secs, TIMEOUT_S + 3.5, name)
        self.assertLess(elapsed, TIMEOUT_S + 6)
        self.up()

    def test_event_stream_outlives_the_timeout(self):
        """A quiet event stream is no slow client: it stays open across heartbeats
        further apart than --http-timeout."""
        s = socket.create_connection(("127.0.0.1", self.d.port))
        s.settimeout(HEARTBEAT_MS / 1000 + 3)
        s.sendall(b"GET /api/v1/events HTTP/1.1\r\nHost: x\r\n\r\n")
        got = b""
        t0 = time.time()
        try:
            while got.count(b": ping") < 2:
                d = s.recv(4096)
                self.assertTrue(d, "the stream ended after %.1f s: %r" % (time.time() - t0, got))
                got += d
        finally:
            s.close()
        self.assertTrue(got.startswith(b"HTTP/1.1 200"), got[:100])
        self.assertGreater(time.time() - t0, 2 * HEARTBEAT_MS / 1000 - 0.5)
        self.up()


class TokenTest(unittest.TestCase):
    """Wrong, missing and odd tokens: 401, nothing stored, the token never echoed."""

    def test_tokens(self):
        tmp = tempfile.mkdtemp(prefix="ganctl-hostile-token-")
        token = "T0k3n-%d-abcdefghijklmnopqrstuvwxyz" % os.getpid()
        try:
            tf = os.path.join(tmp, "token")
            with open(tf, "w") as f:
                f.write(token + "\n")
            ddir = os.path.join(tmp, "data")
            d = Daemon(ddir, ["--token-file", tf, "--http-timeout", str(TIMEOUT_S)])
            d.start()
            spec = {"dataset": {"name": "ring8"}, "train": {"steps": 5}}
            bad = [None, "", "Bearer", "Bearer ", "Bearer  " + token, "bearer " + token,
                   "BEARER " + token, "Bearer " + token + " ", "Bearer " + token + "\t",
                   "Bearer " + token[:-1], "Bearer " + token + "x", "Bearer " + token.upper(),
                   "Bearer x" + token[1:], "Basic " + token, token, "Bearer " + "A" * 100000,
                   "Bearer " + token + "," + token, "Token " + token,
                   "Bearer " + token[:len(token) // 2], "Bearer \u00e9" + token]
            cases = 0
            for auth in bad:
                for method, path, body in (("GET", "/api/v1/runs", None),
                                           ("POST", "/api/v1/runs", spec),
                                           ("GET", "/api/v1/runs/1", None),
                                           ("DELETE", "/api/v1/runs/1", None),
                                           ("GET", "/api/v1/events", None),
                                           ("GET", "/api/v1/runs?token=" + token, None),
                                           ("GET", "/api/v1/../api/v1/runs", None)):
                    with self.subTest(auth=(auth or "")[:40], path=path):
                        h = {} if auth is None else {"Authorization": auth.encode("utf-8")}
                        try:
                            st, hd, data = d.request(method, path, body, headers=h, auth=False)
                        except (ConnectionError, OSError):
                            st, data = None, b""
                        cases += 1
                        self.assertTrue(st is None or 400 <= st < 500, (auth, path, st))
                        if st is not None and st != 431:
                            self.assertEqual(st, 401, data[:200])
                        self.assertNotIn(token.encode(), data)
            # two Authorization headers, the wrong one first or last
            for first, second in ((token, "wrong"), ("wrong", token)):
                req = ("GET /api/v1/runs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                       "Authorization: Bearer %s\r\nConnection: close\r\n\r\n"
                       % (first, second)).encode()
                st, _ = raw(d.port, req)
                cases += 1
                self.assertTrue(st is None or 400 <= st < 500, st)
            # the right token works, and nothing was stored by the others
            d.token = token
            self.assertEqual(d.json("GET", "/api/v1/runs")["runs"], [])
            self.assertEqual(d.request("GET", "/healthz", auth=False)[0], 200)
            self.assertEqual(d.stop(), 0)
            self.assertNotIn(token, d.tail(10 ** 7))
            self.assertEqual(store_count(ddir, "runs"), 0)
            print("token cases tried: %d" % cases)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(run_suite(__name__))
