"""ganctld_proc.py — what the daemon's suites (test_api, test_crash, test_daemon,
test_hostile, test_security, test_multi, tests/load/run.py) share: one ganctld process
on a free loopback port, plain HTTP requests against it, a read-only look into its
SQLite store while it is stopped, a test case with a temporary folder, and the summary
line.

GANCTL_STORE=postgres runs a suite against the PostgreSQL store: every Daemon then gets
--store with a database of its own (one per data directory, so a restart on the same
directory finds its runs again) on one throwaway server of the process (pgserver.py).

Only the standard library; Debian's /usr/bin/python3 has the sqlite3 module. Not a test
itself (tests/run.sh runs tests/integration/test_*.py only)."""

import http.client
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("GANCTLD", os.path.join(ROOT, "build", "ganctld"))
TERMINAL = {"succeeded", "failed", "canceled"}
PG = os.environ.get("GANCTL_STORE") == "postgres"
_pg_dbs = {}  # data directory -> its database on the shared server


def pg_store(data):
    """The --store URI of the daemon on data (GANCTL_STORE=postgres), made on first use."""
    import pgserver
    srv = pgserver.shared()
    key = os.path.realpath(data)
    if key not in _pg_dbs:
        _pg_dbs[key] = srv.database()
    return srv.uri(_pg_dbs[key])


def pg_query(data, sql):
    """Rows of sql on the database of the daemon on data (GANCTL_STORE=postgres)."""
    import pgserver
    return pgserver.shared().psql(sql, _pg_dbs[os.path.realpath(data)])


def routes():
    """The router's route table as (method, pattern) pairs, lower-case methods, HEAD left
    out (it goes with GET): what build*/tests/test_router --routes prints, from the
    build of BIN."""
    exe = os.path.join(os.path.dirname(BIN), "tests", "test_router")
    out = subprocess.run([exe, "--routes"], capture_output=True, text=True, timeout=30,
                         check=True).stdout
    pairs = []
    for line in out.splitlines():
        methods, pattern = line.split(" ", 1)
        pairs += [(m.lower(), pattern) for m in methods.split(",") if m != "HEAD"]
    return pairs


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "STATE_DIRECTORY",
                        "CREDENTIALS_DIRECTORY", "JOURNAL_STREAM")}
    env.update(extra)
    return env


class Daemon:
    """One ganctld process. Its stderr goes to DATA/../NAME.log (appended across
    restarts) so a failing test can show it."""

    def __init__(self, data, args=(), log_path=None, token=None, env=None):
        self.data = data
        self.args = list(args)
        self.token = token
        self.env = dict(env or {})
        self.proc = None
        self.port = None
        self.log_path = log_path or (data.rstrip("/") + ".log")
        self.log = None

    def spawn(self, port=None):
        """Starts the process without waiting for it to answer."""
        self.port = port or free_port()
        argv = [BIN, "--listen", "127.0.0.1:%d" % self.port, "--data", self.data] + self.args
        if PG and "--store" not in self.args:
            os.makedirs(self.data, exist_ok=True)
            argv += ["--store", pg_store(self.data)]
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=self.log,
                                     env=clean_env(**self.env))
        return self

    def start(self, port=None, timeout=20):
        self.spawn(port)
        if not self.wait_healthy(timeout):
            raise RuntimeError("ganctld did not answer /healthz: " + self.tail())
        return self

    def wait_healthy(self, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("ganctld exited with %s: %s" % (self.proc.returncode,
                                                                     self.tail()))
            try:
                st, _, _ = self.request("GET", "/healthz", timeout=2)
                if st == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.02)
        return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def tail(self, n=4000):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def kill(self):
        """SIGKILL, no chance to clean up."""
        if self.alive():
            self.proc.kill()
        if self.proc:
            self.proc.wait()
        if self.log:
            self.log.close()
            self.log = None

    def stop(self, timeout=30, sig=signal.SIGTERM):
        """Sends sig (SIGTERM); returns the exit code (None when it had to be killed)."""
        if not self.proc:
            return None
        code = None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                code = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        else:
            code = self.proc.returncode
        if self.log:
            self.log.close()
            self.log = None
        return code

    def conn(self, timeout=30):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, timeout=30, auth=True):
        """(status, headers with lower-case names, body bytes)."""
        h = dict(headers or {})
        if auth and self.token and "Authorization" not in h:
            h["Authorization"] = "Bearer " + self.token
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        c = self.conn(timeout)
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            c.close()

    def json(self, method, path, body=None, expect=200, **kw):
        st, _, data = self.request(method, path, body, **kw)
        if st != expect:
            raise AssertionError("%s %s: expected %d, got %d: %r" % (method, path, expect, st,
                                                                      data[:300]))
        return json.loads(data) if data else None

    def wait_status(self, rid, statuses, timeout=120):
        deadline = time.time() + timeout
        run = None
        while time.time() < deadline:
            run = self.json("GET", "/api/v1/runs/%d" % rid)
            if run["status"] in statuses:
                return run
            time.sleep(0.05)
        raise AssertionError("run %d did not reach %s: %r\n%s" % (rid, statuses, run,
                                                                  self.tail()))


class TmpCase(unittest.TestCase):
    """A test with a temporary folder of its own (self.tmp) and a list of the processes
    it started (self.procs): both are gone after the test."""

    prefix = "ganctl-test-"

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix=self.prefix)
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


def open_ro(db):
    """A read-only connection that never writes the database or its WAL (the -shm
    index may be rebuilt in memory)."""
    return sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)


def store_count(data, table):
    """Rows of table in the store of the (stopped) daemon on data: its SQLite file, or its
    database with GANCTL_STORE=postgres."""
    if PG:
        return int(pg_query(data, "SELECT count(*) FROM %s" % table)[0][0])
    c = open_ro(os.path.join(data, "ganctl.db"))
    try:
        return c.execute("SELECT count(*) FROM %s" % table).fetchone()[0]
    finally:
        c.close()


def integrity(db):
    """PRAGMA integrity_check on a stopped daemon's store: "ok" when sound."""
    c = open_ro(db)
    try:
        rows = c.execute("PRAGMA integrity_check").fetchall()
        fk = c.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        c.close()
    text = "\n".join(r[0] for r in rows)
    if fk:
        text += "\nforeign key violations: %r" % fk[:10]
    return text


def run_suite(module_name):
    """Runs the module's tests and prints the closing 'N passed, N failed, N skipped' line."""
    if not os.access(BIN, os.X_OK):
        print("ganctld not found at %s (build it with make)" % BIN)
        print("0 passed, 1 failed")
        return 1
    if PG:
        import pgserver
        why = pgserver.available()
        if why:
            print("GANCTL_STORE=postgres: %s" % why)
            print("0 passed, 0 failed, 1 skipped")
            return 0
        print("store: PostgreSQL (GANCTL_STORE=postgres)")
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[module_name])
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(suite)
    bad = {getattr(t, "test_case", t).id() for t, _ in result.failures + result.errors}
    ran_bad = [b for b in bad if not b.startswith(("setUpClass", "tearDownClass"))]
    failed = len(bad) + len(result.unexpectedSuccesses)
    passed = max(0, result.testsRun - len(ran_bad) - len(result.unexpectedSuccesses)
                 - len(result.skipped))
    sys.stdout.flush()
    print("%d passed, %d failed, %d skipped" % (passed, failed, len(result.skipped)))
    return 1 if failed else 0
