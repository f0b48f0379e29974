"""Starting and stopping everything the benchmark measures: each is a child process group.

Every process is started in a session of its own and stopped by signalling that group (its
pid), TERM then KILL: nothing the benchmark did not start is ever signalled. The Cassandra node
is started and stopped by scripts/cassandra.sh on its own work dir and ports.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
JAVA17 = Path("/usr/lib/jvm/java-17-openjdk-amd64/bin/java")
DDB_LOCAL_LIB = ROOT / ".dynamodb-local" / "lib"
DDB_LOCAL_MAIN = "software.amazon.dynamodb.services.local.main.ServerRunner"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Child:
    """A process group we started; ``stop`` is safe to call more than once."""

    def __init__(self, name: str, argv: list[str], log: Path, env: dict[str, str] | None = None,
                 cwd: Path | None = None) -> None:
        self.name = name
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True,
                                         env={**os.environ, **(env or {})}, cwd=cwd)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 20) -> None:
        if self.proc.returncode is not None and not _group_alive(self.proc.pid):
            return
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                self.proc.poll()
                if not _group_alive(self.proc.pid):
                    return
                time.sleep(0.1)

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # the leader may be a zombie until reaped; a group whose members are all zombies is over
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def wait_http(child: Child, port: int, timeout: float = 120) -> None:
    """Until anything answers HTTP on the port (any status counts); stops the child if not."""
    try:
        _wait_http(child, port, timeout)
    except BaseException:
        child.stop()
        raise


def _wait_http(child: Child, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not child.alive():
            raise RuntimeError(f"{child.name} exited ({child.proc.returncode}):\n{child.tail()}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{child.name} did not answer on port {port} in {timeout:.0f}s:\n"
                       f"{child.tail()}")


# --- the servers -------------------------------------------------------------------------------

def alternator(logdir: Path, name: str, port: int, workers: int, backend: str,
               extra: list[str]) -> Child:
    argv = [str(VENV_BIN / "alternator"), "serve", "--backend", backend,
            "--alternator-address", "127.0.0.1", "--alternator-port", str(port),
            "--alternator-https-port", "none", "--workers", str(workers),
            "--log-level", "WARNING", "--state-dir", str(logdir / "state"),
            "--prometheus-port", "0", *extra]  # metrics on, as by default, on a free port
    child = Child(name, argv, logdir / f"{name}.log")
    wait_http(child, port)
    return child


def sqlite_role(path: Path, name: str = "bench") -> str:
    """Create a superuser in a new embedded database; its secret access key."""
    out = subprocess.run([str(VENV_BIN / "alternator"), "role", "--sqlite-path", str(path), "create",
                          name, "--superuser", "--password", "bench-password"],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def trivial(logdir: Path, kind: str, port: int, workers: int) -> Child:
    child = Child(f"trivial-{kind}", [sys.executable, "-m", "bench.trivial", kind, str(port),
                                      str(workers)], logdir / f"trivial-{kind}.log", cwd=ROOT)
    wait_http(child, port)
    return child


def ensure_dynamodb_local() -> None:
    """Resolve DynamoDB Local from Maven Central into .dynamodb-local/lib (once)."""
    if (DDB_LOCAL_LIB / ".resolved").exists():
        return
    print("bench: resolving DynamoDB Local from Maven Central ...", flush=True)
    subprocess.run(["mvn", "-q", "-B", "-Dstyle.color=never", "-f",
                    str(ROOT / "tools" / "dynamodb-local" / "pom.xml"),
                    "dependency:copy-dependencies"], check=True)
    (DDB_LOCAL_LIB / ".resolved").touch()


def dynamodb_local(logdir: Path, port: int) -> Child:
    ensure_dynamodb_local()
    java = str(JAVA17) if JAVA17.exists() else "java"
    argv = [java, "-Xmx1g", f"-Djava.library.path={DDB_LOCAL_LIB}", "-cp", f"{DDB_LOCAL_LIB}/*",
            DDB_LOCAL_MAIN, "-inMemory", "-sharedDb", "-port", str(port), "-disableTelemetry"]
    child = Child("dynamodb-local", argv, logdir / "dynamodb-local.log")
    wait_http(child, port)
    return child


def moto(logdir: Path, port: int) -> Child:
    child = Child("moto", [str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                  logdir / "moto.log")
    wait_http(child, port)
    return child


# --- the Cassandra node ------------------------------------------------------------------------

class CassandraNode:
    """The benchmark's own node: .cassandra/bench, CQL 19042, storage 17000 by default."""

    def __init__(self, native_port: int, storage_port: int, work: Path) -> None:
        self.port = native_port
        self.env = {**os.environ, "CASS_WORK": str(work), "CASS_NATIVE_PORT": str(native_port),
                    "CASS_STORAGE_PORT": str(storage_port)}
        self.started = False

    def _script(self, action: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(["bash", str(ROOT / "scripts" / "cassandra.sh"), action],
                              env=self.env, check=check)

    def start(self) -> None:
        # A node left in the bench work dir by an interrupted run is the benchmark's own.
        if self._script("status", check=False).returncode == 0:
            self._script("stop")
        self.started = True
        self._script("start")
        ready = subprocess.run([sys.executable, str(ROOT / "scripts" / "wait_cassandra.py")],
                               env={**self.env, "CASS_PORT": str(self.port)})
        if ready.returncode != 0:
            self._script("logs", check=False)
            raise RuntimeError("the benchmark's Cassandra node did not come up")

    def stop(self) -> None:
        if self.started:
            self._script("stop", check=False)
            self.started = False

    def secret(self) -> str:
        """The salted_hash of role cassandra: its secret access key."""
        from cassandra.auth import PlainTextAuthProvider
        from cassandra.cluster import Cluster

        cluster = Cluster(["127.0.0.1"], port=self.port, protocol_version=5,
                          auth_provider=PlainTextAuthProvider("cassandra", "cassandra"))
        try:
            row = cluster.connect().execute(
                "SELECT salted_hash FROM system_auth.roles WHERE role = 'cassandra'").one()
            return str(row.salted_hash)
        finally:
            cluster.shutdown()
