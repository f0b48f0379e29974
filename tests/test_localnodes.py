"""``GET /localnodes`` over the registry of servers (alternator/registry.py, docs/cluster.md):
server processes sharing one store list each other, by datacenter and rack, and drop out when
they die (within the lease) or stop (at once).

Servers listen on several loopback addresses (all of 127.0.0.0/8 is loopback on Linux), since
/localnodes lists addresses, each once. Each test places its servers in a datacenter of its own,
so that other servers on the same Cassandra cluster never show up in its lists.
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import cassandra_address

# Short leases, so that a killed server leaves the lists within a few seconds.
PERIOD = 0.5
LEASE = 2.0
Store = tuple[list[str], tuple[str, str]]


def free_port(address: str) -> int:
    with socket.socket() as s:
        s.bind((address, 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.proc = proc
        self.port = port
        self.log = log

    def localnodes(self, at: str, query: str = "") -> list[str]:
        with urllib.request.urlopen(f"http://{at}:{self.port}/localnodes{query}",
                                    timeout=30) as response:
            assert response.status == 200
            nodes = json.loads(response.read())
        assert isinstance(nodes, list)
        return nodes


@pytest.fixture
def servers(store: Store, tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Starts server processes on the store, each listening on ``address``."""
    args, _ = store
    started: list[Server] = []

    def start(address: str, *extra: str, reach: str | None = None) -> Server:
        port = free_port(reach or address)
        log = tmp_path / f"server{len(started)}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "alternator", "serve", "--alternator-address", address,
                 "--alternator-port", str(port), "--alternator-https-port", "none",
                 "--prometheus-port", "none",
                 "--alternator-announce-period-in-seconds", str(PERIOD),
                 "--alternator-announce-lease-in-seconds", str(LEASE), *args, *extra],
                stdout=subprocess.DEVNULL, stderr=out)
        server = Server(proc, port, log)
        started.append(server)
        wait_listening(server, reach or address)
        return server

    try:
        yield start
    finally:
        for server in started:
            if server.proc.poll() is None:
                server.proc.terminate()
                try:
                    server.proc.wait(30)
                except subprocess.TimeoutExpired:
                    server.proc.kill()
                    server.proc.wait()


def wait_listening(server: Server, address: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise AssertionError(server.log.read_text())
        try:
            socket.create_connection((address, server.port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    server.proc.kill()
    raise AssertionError("server process did not start listening")


def eventually(check: Callable[[], list[str]], expected: list[str],
               within: float) -> float:
    """Seconds until ``check()`` gives ``expected``; fails after ``within`` seconds."""
    started = time.monotonic()
    while True:
        got = check()
        if got == expected:
            return time.monotonic() - started
        if time.monotonic() - started > within:
            raise AssertionError(f"still {got}, not {expected}, after {within} s")
        time.sleep(0.1)


def new_datacenter() -> str:
    return f"dc-{uuid.uuid4().hex[:8]}"


def test_servers_list_each_other(servers: Callable[..., Server]) -> None:
    dc = new_datacenter()
    first = servers("127.0.0.1", "--alternator-datacenter", dc, "--alternator-rack", "r1")
    second = servers("127.0.0.2", "--alternator-datacenter", dc, "--alternator-rack", "r2")
    both = ["127.0.0.1", "127.0.0.2"]
    eventually(lambda: first.localnodes("127.0.0.1"), both, 10)
    eventually(lambda: second.localnodes("127.0.0.2"), both, 10)
    for server, at in ((first, "127.0.0.1"), (second, "127.0.0.2")):
        assert server.localnodes(at, f"?dc={dc}") == both
        assert server.localnodes(at, f"?dc={dc}&rack=r1") == ["127.0.0.1"]
        assert server.localnodes(at, "?rack=r2") == ["127.0.0.2"]  # this server's datacenter
        assert server.localnodes(at, "?dc=nosuchdc") == []
        assert server.localnodes(at, "?rack=nosuchrack") == []
        assert server.localnodes(at, f"?dc={dc}&rack=nosuchrack") == []
        assert server.localnodes(at, "?dc=nosuchdc&rack=r1") == []


def test_first_request_lists_the_server_itself(servers: Callable[..., Server]) -> None:
    """Even with no registry entry yet (nor any other server), a server lists itself."""
    dc = new_datacenter()
    server = servers("127.0.0.2", "--alternator-datacenter", dc)
    assert server.localnodes("127.0.0.2") == ["127.0.0.2"]
    assert server.localnodes("127.0.0.2", f"?dc={dc}") == ["127.0.0.2"]


def test_killed_server_leaves_within_the_lease(servers: Callable[..., Server]) -> None:
    dc = new_datacenter()
    first = servers("127.0.0.1", "--alternator-datacenter", dc)
    second = servers("127.0.0.2", "--alternator-datacenter", dc)
    eventually(lambda: first.localnodes("127.0.0.1"), ["127.0.0.1", "127.0.0.2"], 10)
    second.proc.send_signal(signal.SIGKILL)
    second.proc.wait(10)
    # Renewed just before the kill at worst: gone one lease later (CQL TTLs are whole seconds).
    took = eventually(lambda: first.localnodes("127.0.0.1"), ["127.0.0.1"], LEASE + 2)
    assert took > PERIOD / 2  # it did not remove its entry: its lease ran out


def test_stopped_server_leaves_at_once(servers: Callable[..., Server]) -> None:
    dc = new_datacenter()
    first = servers("127.0.0.1", "--alternator-datacenter", dc)
    second = servers("127.0.0.2", "--alternator-datacenter", dc)
    eventually(lambda: first.localnodes("127.0.0.1"), ["127.0.0.1", "127.0.0.2"], 10)
    second.proc.send_signal(signal.SIGTERM)
    assert second.proc.wait(30) == 0
    assert first.localnodes("127.0.0.1") == ["127.0.0.1"]


def test_wildcard_address(servers: Callable[..., Server]) -> None:
    """On 0.0.0.0 a server lists itself at the address a request reached; others list it at
    --alternator-advertise-address."""
    dc = new_datacenter()
    lone = servers("0.0.0.0", "--alternator-datacenter", new_datacenter(), reach="127.0.0.1")
    assert lone.localnodes("127.0.0.2") == ["127.0.0.2"]
    assert lone.localnodes("127.0.0.1") == ["127.0.0.1"]
    first = servers("127.0.0.1", "--alternator-datacenter", dc)
    advertised = servers("0.0.0.0", "--alternator-datacenter", dc,
                         "--alternator-advertise-address", "127.0.0.3", reach="127.0.0.1")
    expected = ["127.0.0.1", "127.0.0.3"]
    eventually(lambda: first.localnodes("127.0.0.1"), expected, 10)
    eventually(lambda: advertised.localnodes("127.0.0.2"), expected, 10)


@pytest.fixture
def registry_rows(store: Store) -> Iterator[Callable[[str], list[str]]]:
    """Reads the registry's table in the store: "address:port" of a datacenter's live rows."""
    args, _ = store
    if "--sqlite-path" in args:
        path = args[args.index("--sqlite-path") + 1]

        def sqlite_rows(datacenter: str) -> list[str]:
            with contextlib.closing(sqlite3.connect(path)) as db:
                rows = db.execute("SELECT address, port FROM servers WHERE datacenter = ? "
                                  "AND expires >= ?", (datacenter, time.time())).fetchall()
            return sorted(f"{address}:{port}" for address, port in rows)

        yield sqlite_rows
        return
    from cassandra.auth import PlainTextAuthProvider
    from cassandra.cluster import Cluster

    address = cassandra_address()
    assert address is not None
    cluster = Cluster([address[0]], port=address[1],
                      auth_provider=PlainTextAuthProvider("cassandra", "cassandra"))
    session = cluster.connect()

    def cassandra_rows(datacenter: str) -> list[str]:
        rows = session.execute("SELECT address, port FROM alternator.servers "
                               "WHERE datacenter = %s", (datacenter,))
        return sorted(f"{row.address}:{row.port}" for row in rows)

    try:
        yield cassandra_rows
    finally:
        cluster.shutdown()


def test_one_entry_per_server_under_workers(servers: Callable[..., Server],
                                            registry_rows: Callable[[str], list[str]]) -> None:
    """Two servers on one address are listed once; the one with two workers has one entry."""
    dc = new_datacenter()
    workers = servers("127.0.0.1", "--alternator-datacenter", dc, "--workers", "2")
    single = servers("127.0.0.1", "--alternator-datacenter", dc)
    expected = sorted([f"127.0.0.1:{workers.port}", f"127.0.0.1:{single.port}"])
    eventually(lambda: registry_rows(dc), expected, 10)
    time.sleep(2 * PERIOD)  # renewed since: still one row per server
    assert registry_rows(dc) == expected
    for _ in range(10):  # whichever worker answers
        assert workers.localnodes("127.0.0.1") == ["127.0.0.1"]
    assert single.localnodes("127.0.0.1") == ["127.0.0.1"]
    single.proc.terminate()
    assert single.proc.wait(30) == 0
    assert registry_rows(dc) == [f"127.0.0.1:{workers.port}"]
