"""pgserver.py — a throwaway PostgreSQL server for the tests: Debian's postgresql,
initdb'ed into a temporary folder (as the postgres user when run as root, which the
server refuses to run as), listening on a Unix socket in that folder and on loopback
TCP on a free port, stopped and removed when the test process ends (also when a test
fails or the process is interrupted).

The superuser is "ganctl" with the password PASSWORD: the socket trusts local users,
TCP asks for the password (scram-sha-256), so a test can check that a password in a URI
or a .pgpass file is never logged. Every daemon of a test gets a database of its own
(database()); psql() runs SQL as the superuser.

Used by ganctld_proc (GANCTL_STORE=postgres runs a whole suite on PostgreSQL) and by
test_multi.py. As a script: `pgserver.py check` says whether a server can be started
here; `pgserver.py run CMD...` runs CMD with a server up and GANCTL_TEST_STORE=postgres,
GANCTL_TEST_PG_DIR and GANCTL_TEST_PG_PORT set (the daemon's unit tests then run
against it, tests/unit/daemon/store_fixture.h), and exits with CMD's status;
`pgserver.py serve` keeps one server for tests/run.sh, which exports GANCTL_TEST_PG_DIR
and GANCTL_TEST_PG_PORT so that every suite uses it (shared()) instead of starting its
own. Only the standard library."""

import atexit
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

PASSWORD = "s3cret-pg-pass"
USER = "ganctl"


def bindir():
    try:
        d = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True,
                           timeout=10).stdout.strip()
        if d and os.path.exists(os.path.join(d, "initdb")):
            return d
    except OSError:
        pass
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


def available():
    """None when a server can be started here, else why not."""
    if not bindir():
        return "PostgreSQL is not installed (scripts/deps.sh test installs it)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "no postgres user to run the server as"
    return None


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class PgServer:
    def __init__(self):
        self.bin = bindir()
        self.dir = None
        self.port = None
        self.dbs = 0
        self.running = False
        self.owned = True  # started here: stopped and removed here

    def attach(self, folder, port):
        """Uses a server another process started (tests/run.sh's, `pgserver.py serve`)."""
        self.dir, self.port, self.running, self.owned = folder, int(port), True, False
        return self

    # ---- running as the server's user --------------------------------------------------

    def _as_owner(self, argv, **kw):
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--"] + argv
        return subprocess.run(argv, capture_output=True, text=True, **kw)

    def _tool(self, name):
        return os.path.join(self.bin, name)

    # ---- life -----------------------------------------------------------------------------

    def start(self):
        # memory-backed when there is room: the server's fsyncs cost nothing there
        base = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
        self.dir = tempfile.mkdtemp(prefix="ganctl-pg-", dir=base)
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        os.chmod(self.dir, 0o755)
        data = os.path.join(self.dir, "data")
        pwfile = os.path.join(self.dir, "pw")
        with open(pwfile, "w") as f:
            f.write(PASSWORD + "\n")
        if os.geteuid() == 0:
            os.chown(pwfile, pwd.getpwnam("postgres").pw_uid, -1)
        r = self._as_owner([self._tool("initdb"), "-D", data, "-U", USER, "--pwfile", pwfile,
                            "--auth-local", "trust", "--auth-host", "scram-sha-256",
                            "--no-sync", "-E", "UTF8", "--locale", "C"], timeout=120)
        os.unlink(pwfile)
        if r.returncode != 0:
            raise RuntimeError("initdb failed: " + r.stdout + r.stderr)
        self.port = free_port()
        atexit.register(self.destroy)
        self.resume()
        return self

    def resume(self):
        """Starts (again) the server on its folder, port and socket."""
        data = os.path.join(self.dir, "data")
        opts = ("-k %s -p %d -c listen_addresses=127.0.0.1 -c max_connections=200"
                " -c shared_buffers=32MB -c fsync=on" % (self.dir, self.port))
        r = self._as_owner([self._tool("pg_ctl"), "-D", data, "-o", opts, "-l",
                            os.path.join(self.dir, "log"), "-w", "-t", "60", "start"],
                           timeout=90)
        if r.returncode != 0:
            raise RuntimeError("pg_ctl start failed: %s%s\n%s" % (r.stdout, r.stderr,
                                                                 self.log_tail()))
        self.running = True

    def stop(self, mode="fast"):
        """Stops the server (fast: clients are disconnected, every commit is kept)."""
        if not self.running:
            return
        self._as_owner([self._tool("pg_ctl"), "-D", os.path.join(self.dir, "data"), "-m", mode,
                        "-w", "-t", "60", "stop"], timeout=90)
        self.running = False

    def destroy(self):
        if self.dir is None or not self.owned:
            return
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def log_tail(self, n=3000):
        try:
            with open(os.path.join(self.dir, "log"), errors="replace") as f:
                return f.read()[-n:]
        except OSError:
            return ""

    # ---- databases ------------------------------------------------------------------------

    def uri(self, db, tcp=False, password=False):
        """A libpq URI for db: through the socket (trusted), or TCP (with the password in
        it when password=True, else it must come from a .pgpass file)."""
        if tcp:
            who = "%s:%s" % (USER, PASSWORD) if password else USER
            return "postgresql://%s@127.0.0.1:%d/%s" % (who, self.port, db)
        return "postgresql://%s@/%s?host=%s&port=%d" % (USER, db, self.dir, self.port)

    def psql(self, sql, db="postgres", check=True):
        """Runs sql; returns the rows as lists of strings (psql -At, '|' between columns)."""
        r = subprocess.run([self._tool("psql"), "-X", "-v", "ON_ERROR_STOP=1", "-At", "-h",
                            self.dir, "-p", str(self.port), "-U", USER, "-d", db, "-c", sql],
                           capture_output=True, text=True, timeout=120)
        if check and r.returncode != 0:
            raise RuntimeError("psql: %s" % r.stderr)
        return [line.split("|") for line in r.stdout.splitlines() if line]

    def database(self, name=None):
        """A new, empty database; returns its name."""
        self.dbs += 1
        name = name or "t%d_%d" % (os.getpid(), self.dbs)
        self.psql('CREATE DATABASE "%s"' % name)
        return name


_server = None


def shared():
    """The one server of this process: tests/run.sh's when it exported one
    (GANCTL_TEST_PG_DIR, GANCTL_TEST_PG_PORT), else one started on first use."""
    global _server
    if _server is None:
        d, p = os.environ.get("GANCTL_TEST_PG_DIR"), os.environ.get("GANCTL_TEST_PG_PORT")
        _server = PgServer().attach(d, p) if d and p else PgServer().start()
    return _server


def _on_signal(sig, frame):
    raise SystemExit(128 + sig)


# a test process ended by a signal still stops its server (atexit runs on SystemExit)
for _sig in (signal.SIGTERM, signal.SIGHUP):
    if signal.getsignal(_sig) in (signal.SIG_DFL, None):
        signal.signal(_sig, _on_signal)


def _serve():
    """Starts a server, prints "DIR PORT", and keeps it until stdin closes or the parent
    process is gone; then stops and removes it."""
    why = available()
    if why:
        print("unavailable: " + why, flush=True)
        return 1
    srv = PgServer().start()
    print("%s %d" % (srv.dir, srv.port), flush=True)
    parent = os.getppid()
    import select
    try:
        while os.getppid() == parent:
            r, _, _ = select.select([sys.stdin], [], [], 1.0)
            if r and not sys.stdin.read(1):
                break
    finally:
        srv.destroy()
    return 0


def _run(argv):
    why = available()
    if why:
        # counted as one skipped test by tests/lib.sh's cmocka tally
        print("[  SKIPPED ] 1 test(s): %s" % why)
        return 0
    srv = shared()  # tests/run.sh's server when it has one
    env = dict(os.environ, GANCTL_TEST_STORE="postgres", GANCTL_TEST_PG_DIR=srv.dir,
               GANCTL_TEST_PG_PORT=str(srv.port))
    try:
        return subprocess.run(argv, env=env).returncode
    finally:
        srv.destroy()


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] == "check":
        why = available()
        print(why or "ok")
        sys.exit(1 if why else 0)
    if len(sys.argv) > 2 and sys.argv[1] == "run":
        sys.exit(_run(sys.argv[2:]))
    if len(sys.argv) == 2 and sys.argv[1] == "serve":
        sys.exit(_serve())
    print("usage: pgserver.py check | run CMD... | serve", file=sys.stderr)
    sys.exit(2)
