#!/usr/bin/python3
"""test_openapi.py — api/openapi.json, the OpenAPI document, against what reads it and
what it describes.

  - Redocly's linter (npm @redocly/cli, its recommended rules) finds no error and no
    warning in it.
  - The daemon serves exactly the file at GET /api/v1/openapi.json.
  - It documents the router's route table and nothing else: every path with the same
    methods (HEAD goes with GET and is not listed). The table comes from
    build/tests/test_router --routes, not from a list kept here.
  - Real responses of a running daemon (runs, metrics, samples, checkpoints, generate,
    the catalog, spec defaults, health, workers, problems, the events of a stream) validate
    against the schemas it gives for their operation, status and media type (ajv,
    JSON Schema 2020-12).
  - A client generated from it by swagger-typescript-api drives a real daemon by the
    generated method names: createRun, listRuns, getRun, getRunMetrics, cancelRun.

The npm tools come from the lockfile (npm ci; tests/run.sh runs it when node_modules is
missing); their side is tests/integration/openapi_check.mjs. $GANCTLD picks the daemon;
the route table is read from the test_router beside it (build*/tests/). The last line
printed is "N passed, M failed"."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ganctld_proc  # noqa: E402
from ganctld_proc import ROOT, BIN, TERMINAL, run_suite  # noqa: E402

DOC = os.path.join(ROOT, "api", "openapi.json")
CHECK = os.path.join(ROOT, "tests", "integration", "openapi_check.mjs")
NODE_BIN = os.path.join(ROOT, "node_modules", ".bin")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# no telemetry or update checks: the tools run offline
NODE_ENV = dict(os.environ, REDOCLY_TELEMETRY="off", REDOCLY_SUPPRESS_UPDATE_NOTICE="true",
                NO_COLOR="1")


def tiny_spec(name, steps=40):
    return {"name": name, "dataset": {"name": "ring8"}, "model": {"hidden": 16},
            "train": {"steps": steps, "batch_size": 16},
            "every": {"log": 10, "sample": 20, "checkpoint": 20, "eval": steps}}


def long_spec(name):
    return {"name": name, "dataset": {"name": "ring8"}, "model": {"hidden": 16},
            "train": {"steps": 2000000, "batch_size": 16},
            "every": {"log": 50, "sample": 0, "checkpoint": 0, "eval": 0}}


def need_node_modules():
    if not os.path.isdir(NODE_BIN):
        raise AssertionError("no node_modules: run npm ci (tests/run.sh does)")


def node(*args, stdin=None, timeout=180):
    p = subprocess.run(["node", *args], input=stdin, capture_output=True, text=True,
                       env=NODE_ENV, cwd=ROOT, timeout=timeout)
    if p.returncode != 0:
        raise AssertionError("node %s: exit %d\n%s\n%s" % (" ".join(args), p.returncode,
                                                           p.stdout[-3000:], p.stderr[-3000:]))
    return p.stdout


def load_doc():
    with open(DOC) as f:
        return json.load(f)


def route_table():
    """{pattern: {methods, lower case}} from the router's own table (HEAD left out)."""
    table = {}
    for method, pattern in ganctld_proc.routes():
        table.setdefault(pattern, set()).add(method)
    return table


class Checks:
    """Values to validate against the document, sent to ajv in one batch."""

    def __init__(self):
        self.items = []

    def response(self, what, path, method, status, headers, body):
        ctype = headers.get("content-type", "").split(";")[0].strip()
        if ctype in ("application/json", "application/problem+json"):
            value = json.loads(body) if body else None
        else:
            value = "(%d bytes of %s)" % (len(body), ctype)  # documented as a string
        self.items.append({"what": what, "path": path, "method": method, "status": status,
                           "type": ctype, "value": value})

    def schema(self, what, name, value):
        self.items.append({"what": what, "schema": "#/components/schemas/" + name,
                           "value": value})

    def run(self, test):
        results = json.loads(node(CHECK, "validate", DOC, stdin=json.dumps(self.items)))
        test.assertEqual(len(results), len(self.items))
        bad = ["%s: %s" % (r["what"], "; ".join(r["errors"][:5])) for r in results if r["errors"]]
        test.assertEqual(bad, [], "\n".join(bad))


def sse_events(daemon, path, timeout=60):
    """The events a stream replays, as {id, event, data}: those before its first heartbeat
    comment (": ping"), which comes once nothing has been sent for a heartbeat."""
    c = daemon.conn(timeout=timeout)
    c.request("GET", path)
    resp = c.getresponse()
    assert resp.status == 200, resp.status
    events, ev = [], {}
    try:
        while True:
            line = resp.readline()
            if not line:
                raise AssertionError("the stream ended before its heartbeat: %r" % events[-3:])
            line = line.decode().rstrip("\n")
            if line == ": ping":
                return events
            if not line:
                if "event" in ev:
                    events.append({"id": int(ev["id"]), "event": ev["event"],
                                   "data": json.loads(ev["data"])})
                ev = {}
            elif not line.startswith(":"):
                k, _, v = line.partition(": ")
                ev[k] = v
    finally:
        c.close()


class DocumentTest(unittest.TestCase):
    """The document on its own and against the route table."""

    def test_lint_has_no_error_or_warning(self):
        need_node_modules()
        p = subprocess.run([os.path.join(NODE_BIN, "redocly"), "lint", DOC, "--format=json"],
                           capture_output=True, text=True, env=NODE_ENV, cwd=ROOT, timeout=180)
        report = json.loads(p.stdout)
        problems = ["%s %s: %s" % (q["severity"], q["ruleId"], q["message"])
                    for q in report.get("problems", [])]
        self.assertEqual(report["totals"]["errors"], 0, "\n".join(problems))
        self.assertEqual(report["totals"]["warnings"], 0, "\n".join(problems))
        self.assertEqual(p.returncode, 0, p.stderr[-2000:])

    def test_paths_and_methods_are_the_route_table(self):
        doc = load_doc()
        table = route_table()
        self.assertGreater(len(table), 10)
        documented = {path: {m for m in item if m in METHODS}
                      for path, item in doc["paths"].items()}
        # HEAD, served beside GET, goes undocumented as usual (test_router checks that
        # it never comes alone)
        for pattern, methods in table.items():
            self.assertIn(pattern, documented, "served but not documented")
            self.assertEqual(documented[pattern], methods, pattern)
        for path in documented:
            self.assertIn(path, table, "documented but not served")

    def test_every_operation_is_named_and_answers_a_problem(self):
        doc = load_doc()
        ids = []
        for path, item in doc["paths"].items():
            for method in (m for m in item if m in METHODS):
                op = item[method]
                ids.append(op["operationId"])
                self.assertTrue(op.get("summary"), (method, path))
                self.assertTrue(any(s.startswith("4") for s in op["responses"]), (method, path))
        self.assertEqual(len(ids), len(set(ids)))
        for name in ("createRun", "listRuns", "getRun", "getRunMetrics", "cancelRun"):
            self.assertIn(name, ids)


class DaemonTest(unittest.TestCase):
    """One daemon whose answers are checked against the document."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ganctl-openapi-")
        cls.d = ganctld_proc.Daemon(os.path.join(cls.tmp, "data"),
                                    ["--workers", "1", "--threads", "1",
                                     "--web", os.path.join(ROOT, "web")],
                                    log_path=os.path.join(cls.tmp, "ganctld.log"),
                                    env={"GANCTL_HEARTBEAT_MS": "300"})
        os.makedirs(cls.d.data)
        try:
            cls.d.start()
            run = cls.d.json("POST", "/api/v1/runs", tiny_spec("finished"), expect=201)
            cls.done = cls.d.wait_status(run["id"], TERMINAL)
        except BaseException:
            cls.d.stop()
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        code = cls.d.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        assert code == 0, "ganctld exited with %r" % code

    def call(self, checks, method, path, url=None, body=None, expect=None):
        st, h, data = self.d.request(method.upper(), url or path, body)
        if expect is not None:
            self.assertEqual(st, expect, "%s %s: %r" % (method, url or path, data[:300]))
        checks.response("%s %s -> %d" % (method.upper(), url or path, st), path, method, st, h,
                        data)
        return st, h, data

    def test_served_document_is_the_file(self):
        st, h, data = self.d.request("GET", "/api/v1/openapi.json")
        self.assertEqual(st, 200)
        self.assertEqual(h["content-type"], "application/json")
        self.assertEqual(json.loads(data), load_doc())

    def test_responses_match_their_schemas(self):
        need_node_modules()
        c = Checks()
        rid = self.done["id"]
        run = "/api/v1/runs/{id}"
        self.call(c, "get", "/healthz", expect=200)
        self.call(c, "get", "/api/v1/catalog", expect=200)
        for q in ("?dataset=ring8", "?dataset=fashion-mnist", "?dataset=png-dir",
                  "?dataset=grid25&loss=wasserstein", "?dataset=idx&loss=hinge", "",
                  "?dataset=cifar"):
            self.call(c, "get", "/api/v1/spec/defaults", "/api/v1/spec/defaults" + q)
        self.call(c, "get", "/api/v1/runs", expect=200)
        self.call(c, "get", "/api/v1/runs", "/api/v1/runs?status=succeeded&limit=1", expect=200)
        self.call(c, "get", "/api/v1/runs", "/api/v1/runs?limit=0", expect=400)
        self.call(c, "get", run, "/api/v1/runs/%d" % rid, expect=200)
        self.call(c, "get", run, "/api/v1/runs/999999999", expect=404)
        self.call(c, "get", run + "/metrics", "/api/v1/runs/%d/metrics" % rid, expect=200)
        self.call(c, "get", run + "/metrics",
                  "/api/v1/runs/%d/metrics?name=loss_d&name=modes_covered&max_points=2" % rid,
                  expect=200)
        self.call(c, "get", run + "/metrics", "/api/v1/runs/%d/metrics?max_points=0" % rid,
                  expect=400)
        _, _, data = self.call(c, "get", run + "/samples", "/api/v1/runs/%d/samples" % rid,
                               expect=200)
        step = json.loads(data)["samples"][-1]["step"]
        self.call(c, "get", run + "/samples/{step}.png",
                  "/api/v1/runs/%d/samples/%d.png" % (rid, step), expect=200)
        self.call(c, "get", run + "/samples/latest.png",
                  "/api/v1/runs/%d/samples/latest.png" % rid, expect=200)
        _, _, data = self.call(c, "get", run + "/checkpoints",
                               "/api/v1/runs/%d/checkpoints" % rid, expect=200)
        step = json.loads(data)["checkpoints"][-1]["step"]
        self.call(c, "get", run + "/checkpoints/{step}",
                  "/api/v1/runs/%d/checkpoints/%d" % (rid, step), expect=200)
        self.call(c, "get", run + "/checkpoints/{step}",
                  "/api/v1/runs/%d/checkpoints/1" % rid, expect=404)
        for body, st in (({"n": 3, "format": "json"}, 200), ({"n": 2}, 200),
                         ({"format": "idx"}, 400), ({"n": 0, "colour": 1}, 400)):
            self.call(c, "post", run + "/generate", "/api/v1/runs/%d/generate" % rid, body,
                      expect=st)
        self.call(c, "post", run + "/generate", "/api/v1/runs/%d/generate" % rid,
                  {"z": [[0.5] * 16, [-0.5] * 16], "format": "json"}, expect=200)
        self.call(c, "post", run + "/pause", "/api/v1/runs/%d/pause" % rid, expect=409)
        # export, planes
        self.call(c, "get", run + "/export", "/api/v1/runs/%d/export?format=onnx" % rid,
                  expect=200)
        self.call(c, "get", run + "/export", "/api/v1/runs/%d/export?format=tf" % rid,
                  expect=400)
        _, _, data = self.call(c, "get", run + "/planes", "/api/v1/runs/%d/planes" % rid,
                               expect=200)
        step = json.loads(data)["planes"][-1]["step"]
        self.call(c, "get", run + "/planes/{step}", "/api/v1/runs/%d/planes/%d" % (rid, step),
                  expect=200)
        self.call(c, "get", run + "/planes/{step}", "/api/v1/runs/%d/planes/7" % rid,
                  expect=404)
        # sweeps: refused, created, listed, read, missing
        sweep = {"name": "schema", "spec": tiny_spec("swept", steps=10),
                 "axes": {"train.batch_size": [8, 16]}, "seeds": 1,
                 "objective": {"metric": "modes_covered", "goal": "max"}}
        self.call(c, "post", "/api/v1/sweeps",
                  body=dict(sweep, axes={"train.batch_size": [0]}), expect=400)
        _, _, data = self.call(c, "post", "/api/v1/sweeps", body=sweep, expect=201)
        made = json.loads(data)
        for conf in made["configurations"]:
            for r in conf["runs"]:
                self.d.wait_status(r, TERMINAL)
        self.call(c, "get", "/api/v1/sweeps", expect=200)
        self.call(c, "get", "/api/v1/sweeps/{id}", "/api/v1/sweeps/%d" % made["id"], expect=200)
        self.call(c, "get", "/api/v1/sweeps/{id}", "/api/v1/sweeps/999999", expect=404)
        # a run the watchdog alerts on: its record and its alert event
        _, _, data = self.call(c, "post", "/api/v1/runs",
                               body=dict(tiny_spec("diverges", steps=20),
                                         optimizer={"g": {"lr": 10}, "d": {"lr": 10}}),
                               expect=201)
        did = json.loads(data)["id"]
        self.d.wait_status(did, TERMINAL)
        self.call(c, "get", run, "/api/v1/runs/%d" % did, expect=200)
        alerts = [e for e in sse_events(self.d, "/api/v1/runs/%d/events?last_event_id=0" % did)
                  if e["event"] == "alert"]
        self.assertTrue(alerts)
        for e in alerts:
            c.schema("alert event %d" % e["id"], "RunEvent", e)
        self.call(c, "get", "/static/{file}", "/static/js/main.js", expect=200)
        self.call(c, "get", "/static/{file}", "/static/nope.js", expect=404)
        self.call(c, "get", "/", expect=200)
        self.call(c, "get", "/metrics", expect=200)
        self.call(c, "get", "/api/v1/openapi.json", expect=200)
        _, _, data = self.call(c, "get", "/api/v1/workers", expect=200)
        self.assertEqual(len(json.loads(data)["workers"]), 1)  # SQLite: this daemon

        # a run through its states: created, paused, resumed, canceled, deleted
        self.call(c, "post", "/api/v1/runs", body={"dataset": {"name": "ring8"},
                                                   "train": {"batch_size": 0}, "loss": "x"},
                  expect=400)
        self.call(c, "post", "/api/v1/runs", body=b"x" * (1024 * 1024 + 1), expect=413)
        _, _, data = self.call(c, "post", "/api/v1/runs", body=long_spec("states"), expect=201)
        lid = json.loads(data)["id"]
        self.call(c, "post", run + "/generate", "/api/v1/runs/%d/generate" % lid, {},
                  expect=409)
        self.d.wait_status(lid, {"running"})
        self.call(c, "post", run + "/pause", "/api/v1/runs/%d/pause" % lid, expect=200)
        self.d.wait_status(lid, {"paused"})
        self.call(c, "post", run + "/resume", "/api/v1/runs/%d/resume" % lid, expect=200)
        self.call(c, "post", run + "/cancel", "/api/v1/runs/%d/cancel" % lid, expect=200)
        self.d.wait_status(lid, TERMINAL)
        self.call(c, "post", run + "/resume", "/api/v1/runs/%d/resume" % lid, expect=409)
        self.call(c, "delete", run, "/api/v1/runs/%d" % lid, expect=204)
        self.call(c, "delete", run, "/api/v1/runs/%d" % lid, expect=404)

        # the events of the finished run, replayed from the start
        events = sse_events(self.d, "/api/v1/runs/%d/events?last_event_id=0" % rid)
        self.assertEqual({e["event"] for e in events},
                         {"status", "metrics", "eval", "sample", "checkpoint"})
        for e in events:
            c.schema("event %d %s" % (e["id"], e["event"]), "RunEvent", e)
        self.call(c, "get", run + "/events", "/api/v1/runs/%d/events?last_event_id=x" % rid,
                  expect=400)
        self.call(c, "get", run + "/events", "/api/v1/runs/999999999/events", expect=404)
        c.run(self)

    def test_generated_client_drives_the_daemon(self):
        need_node_modules()
        out = os.path.join(self.tmp, "client")
        os.makedirs(out, exist_ok=True)
        # generated from what the daemon serves (the same file, checked above)
        served = os.path.join(out, "openapi.json")
        with open(served, "wb") as f:
            f.write(self.d.request("GET", "/api/v1/openapi.json")[2])
        p = subprocess.run([os.path.join(NODE_BIN, "swagger-typescript-api"), "generate",
                            "--path", served, "--output", out, "--name", "ganctl.js", "--js",
                            "--module-name-first-tag", "--silent"],
                           capture_output=True, text=True, env=NODE_ENV, cwd=out, timeout=300)
        self.assertEqual(p.returncode, 0, p.stdout[-2000:] + p.stderr[-2000:])
        gen = os.path.join(out, "ganctl.js")
        with open(gen) as f:
            text = f.read()
        for name in ("createRun", "listRuns", "getRun", "getRunMetrics", "cancelRun"):
            self.assertIn(name + ":", text)

        got = json.loads(node(CHECK, "client", gen, "http://127.0.0.1:%d" % self.d.port))
        rid = got["created"]["run"]["id"]
        self.assertEqual(got["created"]["status"], 201)
        self.assertEqual(got["created"]["location"], "/api/v1/runs/%d" % rid)
        self.assertEqual(got["created"]["run"]["name"], "generated-client")
        self.assertEqual(got["got"]["id"], rid)
        self.assertEqual(got["got"]["status"], "succeeded")
        self.assertIn(rid, [r["id"] for r in got["listed"]["runs"]])
        self.assertEqual(set(got["metrics"]["metrics"]), {"loss_d", "loss_g"})
        self.assertTrue(1 <= len(got["metrics"]["metrics"]["loss_d"]) <= 3)
        self.assertIn(got["canceled"]["status"], ("queued", "running", "canceled"))
        self.assertEqual(got["canceled_later"]["status"], "canceled")
        self.assertEqual(got["missing"]["status"], 404)
        self.assertEqual(got["missing"]["problem"]["status"], 404)
        c = Checks()
        c.schema("createRun", "Run", got["created"]["run"])
        c.schema("getRun", "Run", got["got"])
        c.schema("listRuns", "RunPage", got["listed"])
        c.schema("getRunMetrics", "MetricSeries", got["metrics"])
        c.schema("cancelRun", "Run", got["canceled"])
        c.schema("getRun after cancelRun", "Run", got["canceled_later"])
        c.schema("getRun 404", "Problem", got["missing"]["problem"])
        c.run(self)


if __name__ == "__main__":
    sys.exit(run_suite(__name__))
