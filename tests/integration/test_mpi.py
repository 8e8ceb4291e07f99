#!/usr/bin/python3
"""test_mpi.py — one run trained by several ranks for real: Open MPI's mpirun starting
`ganctld train` on 2 and 3 ranks (shared memory, TCP over loopback, and two "hosts"
in network namespaces), and a daemon that launches such runs with --mpirun.

SameRun: ring8 (MLP), a DCGAN with batch norm on Fashion-MNIST and MAD-GAN, each on 1
process and on 2 and 3 ranks: the first step's losses agree to LOSS_FIRST (nothing but
the grouping of a few sums differs), and all of the first 100 steps' losses and the
parameters after them agree within ROUNDING_FACTOR times what one process on 2
threads (another grouping of the same sums) drifts from one process on 1 thread over
the same steps, or a floor of a few float ulps where the threads change nothing (the
MLP's layers stay on one thread); tests/unit/core/test_dist.c says more. A checkpoint
of 2 ranks resumed on 1 process, and one of 1 process resumed on 2 ranks, continue the
uninterrupted curve to the same tolerance.

Daemon: --mpirun trains a run of 2 ranks end to end over the API, with the child's
events on the daemon's event stream and its progress on the run object, through kill
-9 of a rank (the run goes back to queued and finishes from its newest checkpoint).
Another run goes through pause and resume, a rank that hangs (SIGSTOP, past
--rank-timeout: queued again with why, and on), SIGTERM and kill -9 of the daemon
with the ranks training and restarts that continue it, and cancel. A daemon without
--mpirun refuses such a spec with 400. On a PostgreSQL store (a throwaway server;
skipped without one) a run of 2 ranks is claimed by the launching daemon, whose store,
name and claim rank 0 gets, trains on past the lease (renewed meanwhile) and is
canceled through the API.

Hosts: two network namespaces joined by a veth pair (10.77.0.1 and 10.77.0.2, each
"host" with a hostname of its own), an rsh agent that runs commands inside a
namespace standing in for ssh: one run of 2 ranks over TCP between them. Skipped,
and counted as skipped, where the machine does not allow network namespaces.

Needs mpirun (openmpi-bin); as root its environment variables allow that. The last
line printed is "N passed, N failed, N skipped"."""

import array
import gzip
import http.client
import json
import os
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ganctld_proc import BIN, Daemon, TmpCase, clean_env, open_ro, run_suite  # noqa

MPIRUN = shutil.which("mpirun")
MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
           "OMPI_MCA_rmaps_base_oversubscribe": "1"}
TCP_LO = ["--mca", "btl", "self,tcp", "--mca", "btl_tcp_if_include", "lo"]

ROUNDING_FACTOR = 8.0
LOSS_FLOOR = 1e-5   # absolute, losses of order 1
PARAM_FLOOR = 1e-5  # relative to the largest weight
LOSS_FIRST = 1e-5   # step 1: no time for rounding differences to grow


def need_mpirun(test):
    if not MPIRUN:
        test.skipTest("no mpirun (scripts/deps.sh build installs openmpi-bin)")


def ring8(**kw):
    s = {"dataset": {"name": "ring8"}, "model": {"hidden": 64},
         "train": {"steps": 100, "batch_size": 96},
         "every": {"log": 1, "sample": 0, "checkpoint": 100, "eval": 0}}
    for k, v in kw.items():
        s.setdefault(k, {}).update(v)
    return s


FASHION_TEST = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"


def fashion_subset(path, n=960):
    """The first n images of Fashion-MNIST's test split as an IDX file: every rank of
    every run reads its dataset, and the whole training split takes a while to decode."""
    with gzip.open(FASHION_TEST, "rb") as f:
        head = f.read(16)
        images = f.read(n * 28 * 28)
    with open(path, "wb") as f:
        f.write(head[:4] + struct.pack(">III", n, 28, 28) + images)
    return path


def fashion(path, **kw):
    """A DCGAN big enough that 2 threads split its layers (the yardstick), small enough to
    be quick: Fashion-MNIST images, widths 16, batch 48 (parts of 24 and 16)."""
    s = {"dataset": {"name": "idx", "path": path},
         "model": {"g_width": 16, "d_width": 16, "z_dim": 16},
         "train": {"steps": 100, "batch_size": 48},
         "every": {"log": 1, "sample": 0, "checkpoint": 50, "eval": 0}}
    for k, v in kw.items():
        s.setdefault(k, {}).update(v)
    return s


def train(test, spec, data, ranks=0, threads=1, mca=(), run=None, timeout=240):
    """`ganctld train` of spec (or of stored run `run`) into data; on `ranks` ranks under
    mpirun when ranks > 0. Returns the process (checked for success)."""
    args = ["train"] + (["--run", str(run)] if run else [os.path.join(data + ".json")])
    if not run:
        with open(data + ".json", "w") as f:
            json.dump(spec, f)
    args += ["--data", data, "--threads", str(threads), "--keep-checkpoints", "0"]
    argv = [BIN] + args
    if ranks:
        argv = [MPIRUN, "-np", str(ranks)] + list(mca) + argv
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                       env=clean_env(**MPI_ENV))
    test.assertEqual(p.returncode, 0, "%s\n%s" % (" ".join(argv), p.stderr[-3000:]))
    return p


def db(data):
    return os.path.join(data, "ganctl.db")


def curve(data, run=1):
    """{step: (loss_d, loss_g)} of the run's logged steps."""
    c = open_ro(db(data))
    try:
        out = {}
        for step, name, value in c.execute(
                "SELECT step, name, value FROM metrics WHERE run = ? AND kind = 0 AND "
                "name IN ('loss_d', 'loss_g')", (run,)):
            out.setdefault(step, [0.0, 0.0])[0 if name == "loss_d" else 1] = value
        return out
    finally:
        c.close()


def ckpt_params(blob):
    """Every model's parameters of a checkpoint (core/gan_ckpt.c, core/model_state.c), in
    one array: generators, then D."""
    magic, version, n = struct.unpack_from("<IIQ", blob, 0)
    assert magic == 0x50434347, "not a checkpoint"
    p, off = blob[16:16 + n], 0
    off += 8 + 8 + 8 + 48 + 48
    has_loader, = struct.unpack_from("<I", p, off)
    off += 4 + (4 + 8 + 8 + 8 + 48 if has_loader else 0)
    k, = struct.unpack_from("<I", p, off)
    off += 4
    out = array.array("f")
    for _ in range(k + 1):
        tag, nl = struct.unpack_from("<II", p, off)
        assert tag == 0x534d4347, "not a model section"
        off += 8 + nl * 11 * 4 + 4 + 4 + 16 + 8
        nparams, = struct.unpack_from("<Q", p, off)
        off += 8
        out.frombytes(p[off:off + 4 * nparams])
        off += 4 * nparams
        nm, = struct.unpack_from("<I", p, off)
        off += 4 + 4 * nm * nparams
        nbn, = struct.unpack_from("<Q", p, off)
        off += 8 + 4 * nbn
    return out


def params(data, run=1, step=None):
    c = open_ro(db(data))
    try:
        q = "SELECT data FROM checkpoints WHERE run = ? ORDER BY step DESC LIMIT 1"
        args = (run,)
        if step is not None:
            q, args = "SELECT data FROM checkpoints WHERE run = ? AND step = ?", (run, step)
        return ckpt_params(bytes(c.execute(q, args).fetchone()[0]))
    finally:
        c.close()


def distance(ca, pa, cb, pb, steps=None):
    """(largest |loss difference| over the common steps, largest |parameter difference|
    over the largest weight)."""
    common = sorted(set(ca) & set(cb)) if steps is None else steps
    assert common, "no common steps"
    dl = max(abs(ca[s][i] - cb[s][i]) for s in common for i in (0, 1))
    assert len(pa) == len(pb)
    big = max(abs(x) for x in pa)
    dp = max(abs(x - y) for x, y in zip(pa, pb)) / big
    return dl, dp


class SameRun(TmpCase):
    """N ranks train the run one process trains, to rounding."""

    def setUp(self):
        need_mpirun(self)
        super().setUp()

    def same(self, what, spec, ranks, yardstick=True, mca=None):
        """Trains spec on 1 process (and on 2 threads for the yardstick) and on each rank
        count; returns the data folders by rank count (0: one process)."""
        base = os.path.join(self.tmp, what)
        one = base + "-1"
        train(self, spec, one)
        c1, p1 = curve(one), params(one)
        yard = (0.0, 0.0)
        if yardstick:
            two = base + "-threads"
            train(self, spec, two, threads=2)
            yard = distance(c1, p1, curve(two), params(two))
        tol = (max(ROUNDING_FACTOR * yard[0], LOSS_FLOOR),
               max(ROUNDING_FACTOR * yard[1], PARAM_FLOOR))
        dirs = {0: one}
        for n in ranks:
            d = "%s-%dranks" % (base, n)
            train(self, spec, d, ranks=n, mca=(mca or {}).get(n, ()))
            cn, pn = curve(d), params(d)
            self.assertEqual(sorted(cn), sorted(c1), "%d ranks logged other steps" % n)
            first = max(abs(c1[1][i] - cn[1][i]) for i in (0, 1))
            dist = distance(c1, p1, cn, pn)
            print("%s: %d ranks: step 1 %.1e, 100 steps: loss %.2e param %.2e; 2 threads "
                  "loss %.2e param %.2e" % (what, n, first, dist[0], dist[1], yard[0], yard[1]))
            self.assertLessEqual(first, LOSS_FIRST, "%s on %d ranks, step 1" % (what, n))
            self.assertLessEqual(dist[0], tol[0], "%s on %d ranks: losses" % (what, n))
            self.assertLessEqual(dist[1], tol[1], "%s on %d ranks: parameters" % (what, n))
            dirs[n] = d
        return dirs, tol

    def test_ring8_mlp(self):
        # the MLP's layers are below the split threshold: 2 threads add as 1 does, and
        # the floors hold; 2 ranks talk TCP over loopback, 3 shared memory
        self.same("ring8", ring8(), [2, 3], yardstick=False, mca={2: TCP_LO})

    def test_mad_gan(self):
        self.same("madgan", ring8(tricks={"generators": 3}), [2, 3], yardstick=False)

    def test_dcgan_and_checkpoints_between_rank_counts(self):
        spec = fashion(fashion_subset(os.path.join(self.tmp, "fashion.idx")))
        dirs, tol = self.same("dcgan", spec, [2, 3])
        whole_c, whole_p = curve(dirs[0]), params(dirs[0])
        # the checkpoint of step 50 of 2 ranks resumed on 1 process, and that of 1
        # process resumed on 2 ranks: steps 51..100 and the end are the whole run's
        for before, after in ((2, 0), (0, 2)):
            d = os.path.join(self.tmp, "resume-%d-%d" % (before, after))
            shutil.copytree(dirs[before], d)
            c = sqlite3.connect(db(d))
            with c:
                c.execute("DELETE FROM checkpoints WHERE run = 1 AND step > 50")
                c.execute("DELETE FROM metrics WHERE run = 1 AND step > 50")
                c.execute("UPDATE runs SET status = 'queued', step = 50 WHERE id = 1")
            c.close()
            p = train(self, None, d, ranks=after, run=1)
            self.assertIn("resumed from the checkpoint of step 50", p.stderr)
            rc, rp = curve(d), params(d)
            dist = distance(whole_c, whole_p, rc, rp, steps=range(51, 101))
            print("checkpoint of %s resumed on %s: loss %.2e param %.2e (tolerance %.2e %.2e)" %
                  ("%d ranks" % before if before else "1 process",
                   "%d ranks" % after if after else "1 process", dist[0], dist[1], *tol))
            self.assertLessEqual(dist[0], tol[0])
            self.assertLessEqual(dist[1], tol[1])


class Stream:
    """The daemon's event stream of every run, read live on a thread."""

    def __init__(self, daemon):
        self.events, self.lock = [], threading.Lock()
        self.conn = daemon.conn(timeout=300)
        self.conn.request("GET", "/api/v1/events")
        self.resp = self.conn.getresponse()
        assert self.resp.status == 200
        self.th = threading.Thread(target=self.read, daemon=True)
        self.th.start()

    def read(self):
        ev = {}
        try:
            for raw in self.resp:
                line = raw.decode().rstrip("\n")
                if not line:
                    if "event" in ev:
                        with self.lock:
                            self.events.append((ev["event"], json.loads(ev["data"])))
                    ev = {}
                elif not line.startswith(":"):
                    k, _, v = line.partition(": ")
                    ev[k] = v
        except (OSError, ValueError, AttributeError, http.client.HTTPException):
            # close() shut the connection under the reader: http.client then fails in
            # any of these ways, and the stream is over either way
            pass

    def of(self, kind):
        with self.lock:
            return [d for e, d in self.events if e == kind]

    def close(self):
        self.conn.close()


def rank_pids(run):
    """{rank: pid} of the ranks training run (from their environment)."""
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                argv = f.read().split(b"\0")
            if not argv[0].endswith(b"/ganctld") or b"--run" not in argv or \
                    argv[argv.index(b"--run") + 1] != str(run).encode():
                continue
            with open("/proc/%s/environ" % pid, "rb") as f:
                env = dict(kv.split(b"=", 1) for kv in f.read().split(b"\0") if b"=" in kv)
            r = env.get(b"OMPI_COMM_WORLD_RANK")
            if r is not None:
                out[int(r)] = int(pid)
        except (OSError, IndexError, ValueError):
            pass
    return out


def ranks_gone(run, timeout=30):
    """Whether the ranks of run are gone within timeout (they leave MPI after the run's
    final status is written)."""
    deadline = time.time() + timeout
    while rank_pids(run):
        if time.time() > deadline:
            return False
        time.sleep(0.1)
    return True


class DaemonLaunches(TmpCase):
    """A daemon with --mpirun: runs of several ranks through the API."""

    def setUp(self):
        need_mpirun(self)
        super().setUp()
        self.data = os.path.join(self.tmp, "var")
        self.daemon = None

    def tearDown(self):
        if self.daemon:
            self.daemon.stop(timeout=60)
        super().tearDown()

    def start(self):
        self.daemon = Daemon(self.data, args=["--threads", "2", "--rank-timeout", "4",
                                              "--mpirun", os.environ.get("GANCTL_TEST_MPIRUN", "mpirun --oversubscribe")],
                             env=MPI_ENV).start()
        return self.daemon

    def wait(self, rid, pred, what, timeout=120):
        deadline = time.time() + timeout
        run = None
        while time.time() < deadline:
            run = self.daemon.json("GET", "/api/v1/runs/%d" % rid)
            if pred(run):
                return run
            time.sleep(0.05)
        self.fail("run %d: %s: %r\n%s" % (rid, what, run, self.daemon.tail(6000)))

    def test_a_run_of_two_ranks_end_to_end_and_a_rank_killed(self):
        d = self.start()
        stream = Stream(d)
        spec = ring8(train={"steps": 2000, "ranks": 2},
                     every={"log": 20, "checkpoint": 100, "sample": 1000, "eval": 2000})
        rid = d.json("POST", "/api/v1/runs", spec, expect=201)["id"]
        # the child's progress on the run object, its events on the daemon's stream
        run = self.wait(rid, lambda r: r["status"] == "running" and r["step"] >= 200,
                        "running with progress")
        self.assertGreater(run["latest"].get("images_per_s", 0), 0)
        self.assertIn("comm_share", run["latest"])
        # kill -9 of a rank: the job ends, the run is queued again and goes on from its
        # newest checkpoint to the end
        pids = rank_pids(rid)
        self.assertEqual(sorted(pids), [0, 1], "ranks of run %d: %r" % (rid, pids))
        os.kill(pids[1], signal.SIGKILL)
        done = self.wait(rid, lambda r: r["status"] in ("succeeded", "failed"), "finished",
                         timeout=240)
        self.assertEqual(done["status"], "succeeded", done["error"])
        self.assertEqual(done["step"], 2000)
        self.assertIsNone(done["error"])
        time.sleep(0.5)
        stream.close()
        statuses = [e["status"] for e in stream.of("status") if e["id"] == rid]
        # a status event carries the run as it is when sent: the stream may find it
        # claimed again already, the daemon's log says it was queued
        self.assertTrue("queued" in statuses[statuses.index("running") + 1:] or
                        "): queued" in d.tail(200000), statuses)
        self.assertEqual(statuses[-1], "succeeded", statuses)
        self.assertTrue(stream.of("metrics"), "no metrics event from the ranks")
        self.assertIn("modes_covered", done["eval"])
        ck = d.json("GET", "/api/v1/runs/%d/checkpoints" % rid)["checkpoints"]
        self.assertEqual(ck[-1]["step"], 2000)
        samples = d.json("GET", "/api/v1/runs/%d/samples" % rid)["samples"]
        self.assertEqual([s["step"] for s in samples], [1000, 2000])
        # the whole batch's images per second, and the share of the time in collectives
        m = d.json("GET", "/api/v1/runs/%d/metrics?name=comm_share&name=images_per_s" % rid)
        shares = [v for _, v in m["metrics"]["comm_share"]]
        self.assertTrue(shares and all(0 < v < 1 for v in shares), shares)
        self.assertTrue(ranks_gone(rid), "ranks of a finished run")

    def test_pause_a_hung_rank_and_restarts_of_the_daemon(self):
        d = self.start()
        # a run that never ends by itself: every stage below finds it training
        spec = ring8(train={"steps": 10000000, "ranks": 2},
                     every={"log": 20, "checkpoint": 100, "sample": 0, "eval": 0})
        rid = d.json("POST", "/api/v1/runs", spec, expect=201)["id"]
        self.wait(rid, lambda r: r["status"] == "running" and r["step"] >= 200, "running")

        # pause and resume: the ranks stop with a checkpoint, and start again from it
        d.json("POST", "/api/v1/runs/%d/pause" % rid)
        paused = self.wait(rid, lambda r: r["status"] == "paused", "paused")
        self.assertTrue(ranks_gone(rid), "ranks of a paused run")
        d.json("POST", "/api/v1/runs/%d/resume" % rid)
        self.wait(rid, lambda r: r["status"] == "running" and r["step"] > paused["step"] + 100,
                  "running again after resume")

        # a rank that hangs: rank 0 gives up after --rank-timeout (4 s), the run is
        # queued again with why, and goes on
        pids = rank_pids(rid)
        os.kill(pids[1], signal.SIGSTOP)
        queued = self.wait(rid, lambda r: r["status"] == "queued" and r["error"],
                           "queued after a hang", timeout=60)
        self.assertIn("no answer from the other ranks within 4 s", queued["error"])
        self.wait(rid, lambda r: r["status"] == "running" and rank_pids(rid).get(1) not in
                  (None, pids[1]), "running again after the hang")

        # SIGTERM: the ranks checkpoint, the run waits queued; kill -9 of the daemon: the
        # ranks end with it; each restart continues the run
        self.assertEqual(d.stop(timeout=60), 0, d.tail())
        c = open_ro(db(self.data))
        st, step = c.execute("SELECT status, step FROM runs WHERE id = ?", (rid,)).fetchone()
        c.close()
        self.assertEqual(st, "queued")
        self.assertEqual(rank_pids(rid), {}, "ranks outlived a stopped daemon")
        self.start()
        self.wait(rid, lambda r: r["status"] == "running" and r["step"] > step + 100,
                  "running after the restart")
        self.daemon.kill()
        self.assertTrue(ranks_gone(rid), "ranks outlived a daemon killed with -9")
        d = self.start()
        run = self.wait(rid, lambda r: r["status"] == "running" and r["step"] > step + 100,
                        "running after a restart from kill -9")
        # cancel: the ranks end, the run is canceled where it was
        d.json("POST", "/api/v1/runs/%d/cancel" % rid)
        done = self.wait(rid, lambda r: r["status"] == "canceled", "canceled")
        self.assertGreaterEqual(done["step"], run["step"])
        self.assertTrue(ranks_gone(rid), "ranks of a canceled run")

    def test_a_run_of_two_ranks_on_postgresql(self):
        """On a PostgreSQL store the run is claimed like any run and stays the launching
        daemon's while its ranks train: rank 0 gets the daemon's --store, --name and
        claim, writes under that claim, and the daemon's heartbeat keeps the lease."""
        import pgserver
        why = pgserver.available()
        if why:
            self.skipTest(why)
        srv = pgserver.shared()
        uri = srv.uri(srv.database())
        self.daemon = Daemon(self.data, args=[
            "--threads", "2", "--rank-timeout", "4", "--store", uri, "--name", "launcher",
            "--heartbeat", "1", "--lease", "3",
            "--mpirun", os.environ.get("GANCTL_TEST_MPIRUN", "mpirun --oversubscribe")],
            env=MPI_ENV).start()
        d = self.daemon
        # a run that never ends by itself: it is still training after the lease
        spec = ring8(train={"steps": 10000000, "ranks": 2},
                     every={"log": 20, "checkpoint": 500, "sample": 0, "eval": 0})
        rid = d.json("POST", "/api/v1/runs", spec, expect=201)["id"]
        run = self.wait(rid, lambda r: r["status"] == "running" and r["step"] >= 100,
                        "running with progress")
        self.assertEqual(run["worker"], "launcher")
        pids = rank_pids(rid)
        self.assertEqual(sorted(pids), [0, 1], "ranks of run %d: %r" % (rid, pids))
        with open("/proc/%d/cmdline" % pids[0], "rb") as f:
            argv = [a.decode() for a in f.read().split(b"\0")]
        self.assertEqual(argv[argv.index("--store") + 1], uri)
        self.assertEqual(argv[argv.index("--name") + 1], "launcher")
        self.assertGreater(int(argv[argv.index("--claim") + 1]), 0)
        # longer than the lease: the daemon's heartbeat renews it while the ranks train,
        # so no other claim takes the run and rank 0's writes stay accepted
        time.sleep(4)
        mid = d.json("GET", "/api/v1/runs/%d" % rid)
        self.assertEqual((mid["status"], mid["worker"]), ("running", "launcher"), mid)
        self.assertGreater(mid["step"], run["step"])
        # cancel through the API: rank 0 stops with a checkpoint and the daemon writes
        # the status under its claim
        d.json("POST", "/api/v1/runs/%d/cancel" % rid)
        done = self.wait(rid, lambda r: r["status"] in ("canceled", "failed"), "canceled")
        self.assertEqual(done["status"], "canceled", done["error"])
        self.assertGreaterEqual(done["step"], mid["step"])
        self.assertIsNone(done["worker"])
        workers = d.json("GET", "/api/v1/workers")["workers"]
        self.assertEqual([w["name"] for w in workers], ["launcher"], workers)
        self.assertTrue(ranks_gone(rid), "ranks of a finished run")

    def test_a_daemon_without_mpirun_refuses_ranks(self):
        d = Daemon(self.data).start()
        try:
            st, _, body = d.request("POST", "/api/v1/runs", ring8(train={"ranks": 2}))
            self.assertEqual(st, 400)
            p = json.loads(body)
            self.assertEqual([e["field"] for e in p["errors"]], ["train.ranks"])
            self.assertIn("--mpirun", p["errors"][0]["message"])
            # a rank count that does not divide the batch is a bad spec anywhere
            st, _, body = d.request("POST", "/api/v1/runs", ring8(train={"ranks": 5}))
            self.assertEqual(st, 400)
            self.assertIn("must divide train.batch_size (96)", body.decode())
            self.assertEqual(d.json("GET", "/api/v1/runs")["runs"], [])
        finally:
            d.stop()


NSRSH = """#!/bin/sh
# nsrsh HOST COMMAND...: runs COMMAND "on" HOST, a network namespace of this machine
# with a hostname of its own (what ssh would do for mpirun)
host=$1; shift
case $host in
10.77.0.1) ns=%(a)s; name=ganctl-host-a ;;
10.77.0.2) ns=%(b)s; name=ganctl-host-b ;;
*) echo "nsrsh: unknown host $host" >&2; exit 255 ;;
esac
exec ip netns exec "$ns" unshare --uts sh -c "hostname $name; $*"
"""


class Hosts(TmpCase):
    """Two "hosts": network namespaces joined by a veth pair."""

    def setUp(self):
        need_mpirun(self)
        super().setUp()
        self.ns = ["gcmpi%da" % os.getpid(), "gcmpi%db" % os.getpid()]
        self.made = []
        why = self.make_hosts()
        if why:
            self.tearDown()
            self.skipTest("no network namespaces here: %s" % why)

    def sh(self, *argv):
        p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        if p.returncode:
            raise OSError("%s: %s" % (" ".join(argv), p.stderr.strip()))

    def make_hosts(self):
        if os.geteuid() != 0:
            return "not root"
        if not shutil.which("ip") or not shutil.which("unshare"):
            return "no ip or unshare command"
        a, b = self.ns
        try:
            for ns in self.ns:
                self.sh("ip", "netns", "add", ns)
                self.made.append(ns)
            self.sh("ip", "link", "add", "veth-" + a[-7:], "type", "veth", "peer", "name",
                    "veth-" + b[-7:])
            for ns, addr in ((a, "10.77.0.1"), (b, "10.77.0.2")):
                dev = "veth-" + ns[-7:]
                self.sh("ip", "link", "set", dev, "netns", ns)
                self.sh("ip", "-n", ns, "addr", "add", addr + "/24", "dev", dev)
                self.sh("ip", "-n", ns, "link", "set", dev, "up")
                self.sh("ip", "-n", ns, "link", "set", "lo", "up")
            self.sh("ip", "netns", "exec", a, "unshare", "--uts", "true")
        except OSError as e:
            return str(e)
        return None

    def tearDown(self):
        for ns in self.made:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        self.made = []
        super().tearDown()

    def tx_bytes(self):
        dev = "veth-" + self.ns[0][-7:]
        p = subprocess.run(["ip", "netns", "exec", self.ns[0], "cat",
                            "/sys/class/net/%s/statistics/tx_bytes" % dev],
                           capture_output=True, text=True, timeout=30)
        return int(p.stdout)

    def test_two_hosts_over_tcp(self):
        agent = os.path.join(self.tmp, "nsrsh")
        with open(agent, "w") as f:
            f.write(NSRSH % {"a": self.ns[0], "b": self.ns[1]})
        os.chmod(agent, 0o755)
        spec = ring8()
        data = os.path.join(self.tmp, "hosts")
        with open(data + ".json", "w") as f:
            json.dump(spec, f)
        net = ["--mca", "btl", "self,tcp", "--mca", "btl_tcp_if_include", "10.77.0.0/24",
               "--mca", "oob_tcp_if_include", "10.77.0.0/24"]
        before = self.tx_bytes()
        argv = [agent, "10.77.0.1", MPIRUN, "--host", "10.77.0.1,10.77.0.2", "-np", "2",
                "--mca", "plm_rsh_agent", agent] + net + \
               [BIN, "train", data + ".json", "--data", data, "--threads", "1"]
        p = subprocess.run(argv, capture_output=True, text=True, timeout=240,
                           env=clean_env(**MPI_ENV))
        self.assertEqual(p.returncode, 0, p.stderr[-3000:])
        self.assertIn("rank 0 of 2 on ganctl-host-a", p.stderr)
        self.assertIn("rank 1 of 2 on ganctl-host-b", p.stderr)
        # every step's gradients crossed the veth: each of 2 ranks sends the other its
        # gradient blocks, 4 bytes a parameter of G and D, every step
        sent = self.tx_bytes() - before
        self.assertGreater(sent, 100 * 4 * len(params(data)))
        # the same run as 2 ranks on one host over loopback TCP: the sums of 2 ranks
        # are a + b in both, so the same bits
        local = os.path.join(self.tmp, "local")
        train(self, spec, local, ranks=2, mca=TCP_LO)
        self.assertEqual(curve(data), curve(local))
        self.assertEqual(params(data), params(local))


if __name__ == "__main__":
    sys.exit(run_suite(__name__))
