"""`--workers N` under a supervisor, and stopping gracefully (alternator/supervisor.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import Endpoint, signed_headers, sqlite_superuser
from rawhttp import connect, head, read_response
from test_processes import start_process, stop_process


def workers_of(pid: int) -> set[int]:
    """The supervisor's worker processes (not multiprocessing's helpers)."""
    found = set()
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if b"spawn_main" in cmdline:
            found.add(int(child))
    return found


def alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def wait_for(condition: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def supervised(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Endpoint]]:
    path = str(tmp_path / "workers.db")
    credentials = ("alternator", sqlite_superuser(path))
    proc, endpoint = start_process(["--workers", "2", "--sqlite-path", path],
                                   tmp_path / "workers.log", credentials)
    assert wait_for(lambda: len(workers_of(proc.pid)) == 2, 30)
    try:
        yield proc, endpoint
    finally:
        remaining = workers_of(proc.pid) if alive(proc.pid) else set()
        stop_process(proc)
        for pid in remaining:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.slow
def test_a_dead_worker_is_restarted(supervised: tuple[subprocess.Popen[bytes], Endpoint]
                                    ) -> None:
    proc, endpoint = supervised
    before = workers_of(proc.pid)
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    assert wait_for(lambda: len(workers_of(proc.pid) - {victim}) == 2, 30), "not restarted"
    assert proc.poll() is None, "the supervisor stopped with its worker"
    client = endpoint.client()
    for _ in range(10):  # every worker answers, the new one included
        client.list_tables()


@pytest.mark.slow
def test_workers_end_with_their_supervisor(supervised: tuple[subprocess.Popen[bytes], Endpoint]
                                           ) -> None:
    proc, _ = supervised
    workers = workers_of(proc.pid)
    proc.kill()
    proc.wait()
    assert wait_for(lambda: not any(alive(pid) for pid in workers), 15), "orphaned workers"


@pytest.mark.slow
def test_sigterm_stops_workers_within_the_bound(
        supervised: tuple[subprocess.Popen[bytes], Endpoint]) -> None:
    proc, _ = supervised
    workers = workers_of(proc.pid)
    start = time.monotonic()
    proc.terminate()
    proc.wait(30)
    assert time.monotonic() - start < 15
    assert proc.returncode == 0
    assert not any(alive(pid) for pid in workers)


def test_sigterm_lets_the_request_in_flight_finish(tmp_path: Path) -> None:
    """SIGTERM while a request's body is still arriving: the request is answered, then the
    server exits (within --alternator-shutdown-timeout)."""
    path = str(tmp_path / "drain.db")
    credentials = ("alternator", sqlite_superuser(path))
    proc, endpoint = start_process(["--sqlite-path", path, "--alternator-shutdown-timeout", "5"],
                                   tmp_path / "drain.log", credentials)
    try:
        body = b'{"Limit": 10}'
        headers = signed_headers(endpoint, body, {
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "DynamoDB_20120810.ListTables"})
        headers["Host"] = endpoint.url.removeprefix("http://")
        headers["Content-Length"] = str(len(body))
        with connect(endpoint.url) as sock:
            sock.sendall(head([(k.encode(), v.encode()) for k, v in headers.items()])
                         + body[:5])
            time.sleep(0.3)
            start = time.monotonic()
            proc.terminate()
            time.sleep(0.5)
            sock.sendall(body[5:])
            status, _, answer = read_response(sock)
        assert status == 200, answer
        proc.wait(10)
        assert time.monotonic() - start < 6
        with pytest.raises(OSError):
            connect(endpoint.url, timeout=2).close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
