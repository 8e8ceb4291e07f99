#!/usr/bin/python3
"""store_bench.py — what the API's reads cost on a store with a long history, next to
the same reads on a small store, on both backends.

For each backend (SQLite, and PostgreSQL on a throwaway server, tests/integration/
pgserver.py) it builds two stores through ganctld's own schema (a daemon migrates an
empty store, then the rows go in through the store's tables in one transaction of
INSERT ... SELECT statements):

  large  1,000 runs and 10,000,000 metric points: the newest run logged 10 figures at
         680,000 steps (about 5 million points; eval figures every tenth log), the
         other 999 about 5,000 points each; 1,000 events per run (1,000,000)
  small  20 runs and 1,000 metric points (about 50 each), 20 events per run

and starts a daemon on each. Requests then alternate between the two daemons (so
whatever else the machine does weighs on both alike), each on a kept-alive
connection, and the latencies give p50 and p99 per store of:

  GET /api/v1/runs/ID                   the newest run (the one with 5 million points)
  GET /api/v1/runs?limit=20             the newest 20 runs, each a run object
  GET /api/v1/runs/ID/metrics?max_points=500   every figure of it, downsampled
  event stream, first byte              a new connection to /api/v1/runs/ID/events
                                        until the first byte of the stream

Targets (issue 13): the large store's p99 within 2x of the small one's, and under 10 ms
for GET run and the list. Prints one table (markdown) and the fill times. Minutes per
backend; not part of make test.

  --backends sqlite,postgres   which to measure (default both)
  --requests N                 requests per endpoint and store (default 400)
  --scale F                    fraction of the large store's rows (default 1.0)
  --keep DIR                   build the stores under DIR and keep them
"""

import argparse
import http.client
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import ganctld_proc  # noqa: E402
import pgserver  # noqa: E402

TRAIN = ["loss_d", "loss_g", "d_real", "d_fake", "grad_norm_d", "grad_norm_g", "images_per_s"]
EVAL = ["modes_covered", "high_quality", "reverse_kl"]
LOG_EVERY = 10  # the runs logged every 10 steps


def layout(scale):
    """(runs, logged steps of the newest run, of every other, events per run) of the large
    and the small store. A run logged T times has 7 T + 3 T/10 points."""
    big = int(680000 * scale)
    return {"large": (1000, big, max(1, int(685 * scale)), 1000),
            "small": (20, 7, 7, 20)}


class Store:
    """One store and the daemon on it."""

    def __init__(self, backend, name, base):
        self.backend, self.name = backend, name
        self.data = os.path.join(base, "%s-%s" % (backend, name))
        os.makedirs(self.data, exist_ok=True)
        self.args = ["--workers", "1", "--threads", "1"]
        if backend == "postgres":
            self.pg = pgserver.shared()
            self.db = self.pg.database("bench_%s_%d" % (name, os.getpid()))
            self.args += ["--store", self.pg.uri(self.db)]
        self.daemon = None

    def start(self):
        self.daemon = ganctld_proc.Daemon(self.data, self.args,
                                          log_path=self.data + ".log").start(timeout=600)
        return self.daemon

    def stop(self):
        if self.daemon:
            self.daemon.stop(timeout=120)
            self.daemon = None

    def size(self):
        if self.backend == "postgres":
            return int(self.pg.psql("SELECT pg_database_size(current_database())", self.db)[0][0])
        db = os.path.join(self.data, "ganctl.db")
        return sum(os.path.getsize(db + s) for s in ("", "-wal") if os.path.exists(db + s))

    # ---- filling ------------------------------------------------------------------------

    def fill(self, runs, big, other, events, spec):
        """The rows, in one transaction; returns the metric points stored."""
        if self.backend == "postgres":
            return self._fill_pg(runs, big, other, events, spec)
        return self._fill_sqlite(runs, big, other, events, spec)

    def _fill_sqlite(self, runs, big, other, events, spec):
        c = sqlite3.connect(os.path.join(self.data, "ganctl.db"), isolation_level=None)
        c.execute("PRAGMA foreign_keys = OFF")  # every row here points at a run it made
        c.execute("BEGIN")
        now = "2026-11-27T07:00:00Z"
        c.execute("WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < ?)"
                  " INSERT INTO runs (id, name, status, spec, step, steps, created_at,"
                  " started_at, finished_at) SELECT i, 'bench-' || i, 'succeeded', ?,"
                  " CASE WHEN i = ? THEN ? ELSE ? END, CASE WHEN i = ? THEN ? ELSE ? END,"
                  " ?, ?, ? FROM r",
                  (runs, spec, runs, big * LOG_EVERY, other * LOG_EVERY, runs, big * LOG_EVERY,
                   other * LOG_EVERY, now, now, now))
        for run in range(1, runs + 1):
            t = big if run == runs else other
            for kind, names, every in ((0, TRAIN, 1), (1, EVAL, 10)):
                for k, name in enumerate(names):
                    c.execute(
                        "WITH RECURSIVE s(i) AS (SELECT ? UNION ALL SELECT i + ? FROM s"
                        " WHERE i + ? <= ?) INSERT INTO metrics (run, name, step, kind, value)"
                        " SELECT ?, ?, i * ?, ?, ((i * 7919 + ?) % 1000) * 0.001 FROM s",
                        (every, every, every, t, run, name, LOG_EVERY, kind, run * 31 + k))
            c.execute("WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE"
                      " i < ?) INSERT INTO events (run, type, step, created_at)"
                      " SELECT ?, CASE WHEN i = 1 THEN 'status' ELSE 'metrics' END, i * ?, ?"
                      " FROM s", (events, run, LOG_EVERY, now))
        c.execute("INSERT INTO metrics_latest (run, name, kind, step, value) SELECT run, name,"
                  " kind, max(step), value FROM metrics GROUP BY run, name")
        n = c.execute("SELECT count(*) FROM metrics").fetchone()[0]
        c.execute("COMMIT")
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        c.execute("ANALYZE")
        c.close()
        return n

    def _fill_pg(self, runs, big, other, events, spec):
        lit = spec.replace("'", "''")
        names = ",".join("('%s', 0, 1)" % n for n in TRAIN) + "," + ",".join(
            "('%s', 1, 10)" % n for n in EVAL)
        sql = """
BEGIN;
INSERT INTO runs (id, name, status, spec, step, steps, created_at, started_at, finished_at)
    SELECT i, 'bench-' || i, 'succeeded', '{spec}',
           CASE WHEN i = {runs} THEN {big} ELSE {other} END * {log},
           CASE WHEN i = {runs} THEN {big} ELSE {other} END * {log}, now(), now(), now()
    FROM generate_series(1, {runs}) i;
ALTER TABLE runs ALTER COLUMN id RESTART WITH {next};
INSERT INTO metrics (run, name, step, kind, value)
    SELECT r, n.name, s::bigint * {log}, n.kind, ((s::bigint * 7919 + r * 31) % 1000) * 0.001
    FROM generate_series(1, {runs}) r
    CROSS JOIN (VALUES {names}) AS n (name, kind, every)
    CROSS JOIN LATERAL generate_series(n.every,
        CASE WHEN r = {runs} THEN {big} ELSE {other} END, n.every) s
    ORDER BY 1, 2, 3;
INSERT INTO metrics_latest (run, name, kind, step, value)
    SELECT DISTINCT ON (run, name) run, name, kind, step, value FROM metrics
    ORDER BY run, name, step DESC;
INSERT INTO events (run, type, step)
    SELECT r, CASE WHEN i = 1 THEN 'status' ELSE 'metrics' END, i * {log}
    FROM generate_series(1, {runs}) r CROSS JOIN generate_series(1, {events}) i;
COMMIT;
VACUUM ANALYZE;
CHECKPOINT;
""".format(spec=lit, runs=runs, big=big, other=other, log=LOG_EVERY, next=runs + 1,
           names=names, events=events)
        r = subprocess.run([os.path.join(self.pg.bin, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                            "-h", self.pg.dir, "-p", str(self.pg.port), "-U", pgserver.USER,
                            "-d", self.db], input=sql, capture_output=True, text=True,
                           timeout=7200)
        if r.returncode != 0:
            raise RuntimeError(r.stderr)
        return int(self.pg.psql("SELECT count(*) FROM metrics", self.db)[0][0])


# ---- measuring ------------------------------------------------------------------------


class Client:
    """A kept-alive connection to one daemon."""

    def __init__(self, port):
        self.port = port
        self.c = None

    def get(self, path):
        for attempt in (0, 1):
            if self.c is None:
                self.c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                t0 = time.perf_counter()
                self.c.request("GET", path)
                r = self.c.getresponse()
                body = r.read()
                dt = time.perf_counter() - t0
                if r.status != 200:
                    raise RuntimeError("GET %s: %d %r" % (path, r.status, body[:200]))
                return dt, body
            except (ConnectionError, http.client.HTTPException):
                self.c.close()
                self.c = None
                if attempt:
                    raise


def first_byte(port, path):
    """Seconds from connecting to the first byte of an event stream's body."""
    t0 = time.perf_counter()
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            buf += s.recv(4096)
        head, _, rest = buf.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(head[:200])
        while not rest:
            rest = s.recv(4096)
        return time.perf_counter() - t0
    finally:
        s.close()


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def measure(stores, n):
    """{endpoint: {store: [seconds...]}}, requests alternating between the stores."""
    clients = {k: Client(s.daemon.port) for k, s in stores.items()}
    newest = {k: s.newest for k, s in stores.items()}
    endpoints = [
        ("GET run", lambda k: clients[k].get("/api/v1/runs/%d" % newest[k])[0]),
        ("GET runs?limit=20", lambda k: clients[k].get("/api/v1/runs?limit=20")[0]),
        ("metrics?max_points=500", lambda k: clients[k].get(
            "/api/v1/runs/%d/metrics?max_points=500" % newest[k])[0]),
        ("event stream, first byte", lambda k: first_byte(stores[k].daemon.port,
                                                          "/api/v1/runs/%d/events" % newest[k])),
    ]
    out = {}
    for label, fn in endpoints:
        times = {k: [] for k in stores}
        count = n if "stream" not in label else max(50, n // 4)
        for i in range(count + 20):
            for k in (("large", "small") if i % 2 else ("small", "large")):
                dt = fn(k)
                if i >= 20:  # the first ones warm the caches
                    times[k].append(dt)
        out[label] = times
    return out


def check_answers(stores):
    """The answers are whole: every figure downsampled to 500 points, the last kept."""
    s = stores["large"]
    c = Client(s.daemon.port)
    m = json.loads(c.get("/api/v1/runs/%d/metrics?max_points=500" % s.newest)[1])["metrics"]
    run = json.loads(c.get("/api/v1/runs/%d" % s.newest)[1])
    assert set(m) == set(TRAIN + EVAL), sorted(m)
    for name, pts in m.items():
        assert 1 < len(pts) <= 500, (name, len(pts))
        assert pts[-1][0] == run["steps"] or name in EVAL, (name, pts[-1], run["steps"])
    assert set(run["latest"]) == set(TRAIN) and set(run["eval"]) == set(EVAL), run
    return {name: len(pts) for name, pts in m.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backends", default="sqlite,postgres")
    ap.add_argument("--requests", type=int, default=400)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--keep")
    a = ap.parse_args()
    base = a.keep or tempfile.mkdtemp(prefix="ganctl-store-bench-")
    os.makedirs(base, exist_ok=True)
    rows = []
    try:
        for backend in a.backends.split(","):
            if backend == "postgres" and pgserver.available():
                print("postgres: %s" % pgserver.available())
                continue
            stores = {}
            for name, (runs, big, other, events) in layout(a.scale).items():
                s = Store(backend, name, base)
                d = s.start()  # migrates the empty store
                spec = json.dumps(d.json("GET", "/api/v1/spec/defaults?dataset=ring8"),
                                  separators=(",", ":"))
                s.stop()
                t0 = time.time()
                points = s.fill(runs, big, other, events, spec)
                fill_s = time.time() - t0
                t0 = time.time()
                s.start()
                start_s = time.time() - t0
                s.newest = runs
                print("%s %s: %d runs, %d metric points, %.0f MB; filled in %.0f s, daemon up"
                      " in %.1f s" % (backend, name, runs, points, s.size() / 1e6, fill_s,
                                      start_s), flush=True)
                stores[name] = s
            check_answers(stores)
            res = measure(stores, a.requests)
            for label, times in res.items():
                p = {k: (pct(v, 50) * 1000, pct(v, 99) * 1000) for k, v in times.items()}
                rows.append((backend, label, p["small"], p["large"],
                             p["large"][1] / p["small"][1]))
                print("%s %s: small %.2f / %.2f ms, large %.2f / %.2f ms" % (
                    backend, label, p["small"][0], p["small"][1], p["large"][0],
                    p["large"][1]), flush=True)
            for s in stores.values():
                s.stop()
    finally:
        if not a.keep:
            shutil.rmtree(base, ignore_errors=True)
    print()
    print("| backend | request | small p50 / p99 (ms) | 10M rows p50 / p99 (ms) | p99 large/small |")
    print("|---|---|---|---|---|")
    for backend, label, sm, lg, ratio in rows:
        print("| %s | %s | %.2f / %.2f | %.2f / %.2f | %.2f |" % (backend, label, sm[0], sm[1],
                                                               lg[0], lg[1], ratio))
    return 0


if __name__ == "__main__":
    sys.exit(main())
