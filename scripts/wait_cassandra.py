#!/usr/bin/env python3
"""Wait until the test Cassandra node started by scripts/cassandra.sh is usable.

Ready means: user cassandra/cassandra can log in over CQL and
`SELECT release_version FROM system.local` answers (the port opens before the default
role exists, so a port check is not enough).

Environment: CASS_WAIT (timeout in s, default 180), CASS_HOST (127.0.0.1), CASS_PORT (default
CASS_NATIVE_PORT, the port scripts/cassandra.sh was given, else 9042),
CASS_WORK (work dir, default <repo>/.cassandra/node1; its cassandra.pid is watched so that a
crashed node fails fast), CASS_PID (explicit pid file).
Exit status 0 when ready, 1 on timeout or if the node died.
"""
import logging
import os
import sys
import time
from pathlib import Path

from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import Cluster

ROOT = Path(__file__).resolve().parent.parent


def _pid_file() -> Path:
    if os.environ.get("CASS_PID"):
        return Path(os.environ["CASS_PID"])
    work = Path(os.environ.get("CASS_WORK") or ROOT / ".cassandra" / "node1")
    return work / "cassandra.pid"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie (not yet reaped) counts as dead
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def wait(host: str, port: int, timeout: float, pid_file: Path) -> int:
    # the driver logs every failed attempt at WARNING/ERROR; we report the last error ourselves
    logging.getLogger("cassandra").setLevel(logging.CRITICAL)
    start = time.monotonic()
    deadline = start + timeout
    last = None
    while time.monotonic() < deadline:
        if pid_file.exists():
            try:
                pid = int(pid_file.read_text().strip())
            except ValueError:
                pid = None
            if pid is not None and not _alive(pid):
                print(f"wait_cassandra: cassandra (pid {pid}) died; see scripts/cassandra.sh logs",
                      file=sys.stderr)
                return 1
        cluster = Cluster([host], port=port, protocol_version=5,
                          auth_provider=PlainTextAuthProvider("cassandra", "cassandra"),
                          connect_timeout=3, control_connection_timeout=3,
                          schema_metadata_enabled=False, token_metadata_enabled=False)
        try:
            session = cluster.connect()
            version = session.execute("SELECT release_version FROM system.local").one()[0]
            print(f"wait_cassandra: Cassandra {version} ready after "
                  f"{time.monotonic() - start:.1f}s")
            return 0
        except Exception as e:  # NoHostAvailable, AuthenticationFailed, timeouts
            last = e
        finally:
            cluster.shutdown()
        time.sleep(0.5)
    print(f"wait_cassandra: not ready after {timeout:.0f}s: {last!r}", file=sys.stderr)
    return 1


def main() -> int:
    return wait(os.environ.get("CASS_HOST", "127.0.0.1"),
                int(os.environ.get("CASS_PORT") or os.environ.get("CASS_NATIVE_PORT") or "9042"),
                float(os.environ.get("CASS_WAIT", "180")),
                _pid_file())


if __name__ == "__main__":
    sys.exit(main())
