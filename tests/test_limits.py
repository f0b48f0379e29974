"""Limits that hold before authentication: connections, timeouts, bytes in flight.

A server of its own with small limits (the defaults are documented in docs/security.md), reached
over raw sockets, as a hostile client would.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from alternator.config import Config, Limits

from conftest import Endpoint, ServerThread, sqlite_superuser
from rawhttp import (
    closed_within,
    connect,
    dynamodb_head,
    error_type,
    forged_auth,
    head,
    read_response,
)

MiB = 1024 * 1024
LIMITS = Limits(max_connections=16, header_timeout=1.0, body_timeout=2.0, idle_timeout=3.0,
                max_buffered_bytes=6 * MiB, max_buffered_bytes_per_client=4 * MiB,
                shutdown_timeout=2.0)


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    path = str(tmp_path_factory.mktemp("limits") / "limits.db")
    secret = sqlite_superuser(path)
    thread = ServerThread(Config(port=0, https_port=None, sqlite_path=path, limits=LIMITS))
    url = thread.start()
    yield Endpoint("sqlite", url, "alternator", secret, path)
    thread.stop()


def test_idle_connection_is_closed(limited: Endpoint) -> None:
    with connect(limited.url) as sock:
        took = closed_within(sock, LIMITS.idle_timeout + 3)
    assert took is not None and took >= LIMITS.idle_timeout - 0.5


def test_kept_alive_connection_is_closed_when_idle(limited: Endpoint) -> None:
    with connect(limited.url) as sock:
        sock.sendall(head([(b"Host", b"x")], method=b"GET"))
        status, headers, _ = read_response(sock)
        assert status == 200 and headers.get("connection", "").lower() != "close"
        took = closed_within(sock, LIMITS.idle_timeout + 3)
    assert took is not None


def test_slowloris_headers_are_cut_off(limited: Endpoint) -> None:
    """A header line every 0.3 s keeps the connection busy, never finishing the request."""
    with connect(limited.url) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")
        start = time.monotonic()
        closed = False
        for i in range(40):
            try:
                sock.sendall(f"X-Slow-{i}: y\r\n".encode())
            except OSError:
                closed = True
                break
            time.sleep(0.3)
        took = time.monotonic() - start
    assert closed and took < LIMITS.header_timeout + 2


def test_unsigned_body_is_not_read(limited: Endpoint) -> None:
    """No Authorization: refused from the headers alone, while the client still holds its
    16 MiB body."""
    with connect(limited.url) as sock:
        sock.sendall(dynamodb_head(16 * MiB))
        status, headers, body = read_response(sock)
    assert status == 400 and error_type(body) == "MissingAuthenticationTokenException"
    assert headers.get("connection", "").lower() == "close"


def test_unknown_access_key_body_is_not_read(limited: Endpoint) -> None:
    with connect(limited.url) as sock:
        sock.sendall(dynamodb_head(16 * MiB, forged_auth("nobody")))
        status, _, body = read_response(sock)
    assert status == 400 and error_type(body) == "UnrecognizedClientException"


def test_slow_body_times_out(limited: Endpoint) -> None:
    with connect(limited.url) as sock:
        sock.sendall(dynamodb_head(1000, forged_auth(limited.access_key)) + b"{")
        start = time.monotonic()
        status, _, body = read_response(sock)
        took = time.monotonic() - start
    assert status == 408 and error_type(body) == "RequestTimeout"
    assert LIMITS.body_timeout - 0.5 <= took < LIMITS.body_timeout + 2


def test_bytes_in_flight_past_the_client_budget_are_throttled(limited: Endpoint) -> None:
    first = connect(limited.url)
    second = connect(limited.url)
    try:
        first.sendall(dynamodb_head(8 * MiB, forged_auth(limited.access_key)) + b" " * (3 * MiB))
        time.sleep(0.5)  # held by the server: 3 of the client's 4 MiB
        second.sendall(dynamodb_head(2 * MiB, forged_auth(limited.access_key)))
        with contextlib.suppress(OSError):  # answered and closed while still sending
            second.sendall(b" " * (2 * MiB))
        status, _, body = read_response(second)
        assert status == 400 and error_type(body) == "ThrottlingException"
    finally:
        first.close()
        second.close()
    # Given back: the next request is served (a wrong signature, but read to the end).
    with connect(limited.url) as sock:
        sock.sendall(dynamodb_head(2, forged_auth(limited.access_key)) + b"{}")
        status, _, body = read_response(sock)
    assert status == 400 and error_type(body) == "InvalidSignatureException"


def test_connections_past_the_limit_are_answered_503(limited: Endpoint) -> None:
    held: list[socket.socket] = []
    try:
        for _ in range(LIMITS.max_connections):
            sock = connect(limited.url)
            sock.sendall(head([(b"Host", b"x")], method=b"GET"))
            assert read_response(sock)[0] == 200
            held.append(sock)
        with connect(limited.url) as extra:
            status, _, body = read_response(extra)
        assert status == 503 and error_type(body) == "ServiceUnavailableException"
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.3)
    with connect(limited.url) as sock:
        sock.sendall(head([(b"Host", b"x")], method=b"GET"))
        assert read_response(sock)[0] == 200


def test_default_limits_are_documented() -> None:
    docs = (Path(__file__).parent.parent / "docs" / "security.md").read_text()
    from alternator.__main__ import LIMIT_OPTIONS

    for option, name, _ in LIMIT_OPTIONS:
        assert option in docs, option
        value = getattr(Limits(), name)
        shown = f"{value // MiB} MiB" if isinstance(value, int) and value >= MiB else f"{value:g}"
        assert shown in docs, (option, shown)
    assert os.path.exists(Path(__file__).parent.parent / "docs" / "configuration.md")


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.mark.slow
def test_slow_uploads_memory_is_bounded(tmp_path: Path) -> None:
    """200 clients each start a 16 MiB upload and trickle it (half unsigned, half naming a real
    role with a signature nobody computed); the server's RSS stays within its buffered-bytes
    budget plus a margin. Before the budget, 100 such uploads took the server to 2.27 GB."""
    import asyncio
    import subprocess
    import sys

    from test_processes import free_port, wait_listening

    path = str(tmp_path / "rss.db")
    sqlite_superuser(path)
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "alternator", "serve", "--alternator-port", str(port),
             "--alternator-https-port", "none", "--sqlite-path", path,
             "--alternator-body-timeout", "20"],
            stdout=subprocess.DEVNULL, stderr=out)
    try:
        wait_listening(proc, port, log)
        baseline = rss_bytes(proc.pid)
        chunk = b" " * (64 * 1024)

        async def upload(i: int) -> None:
            extra = forged_auth("alternator") if i % 2 else []
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                return
            try:
                writer.write(dynamodb_head(16 * MiB, extra))
                for _ in range(100):  # 6.4 MiB over ~20 s, if the server keeps reading
                    writer.write(chunk)
                    await asyncio.wait_for(writer.drain(), 5)
                    await asyncio.sleep(0.2)
            except (OSError, TimeoutError):
                pass
            finally:
                writer.close()

        async def main() -> int:
            peak = 0
            uploads = asyncio.gather(*(upload(i) for i in range(200)))
            while not uploads.done():
                peak = max(peak, rss_bytes(proc.pid))
                await asyncio.sleep(0.25)
            await uploads
            return peak

        peak = asyncio.run(asyncio.wait_for(main(), 90))
    finally:
        proc.terminate()
        proc.wait(30)
    bound = Limits().max_buffered_bytes + 64 * MiB
    print(f"server RSS: {baseline // MiB} MiB at rest, {peak // MiB} MiB at peak")
    assert peak - baseline < bound, (baseline // MiB, peak // MiB)
