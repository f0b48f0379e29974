"""Several server processes over one store see the same tables and items."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import (
    Endpoint,
    cassandra_address,
    cassandra_salted_hash,
    cassandra_serve_args,
    sqlite_superuser,
    unique_table_name,
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_process(args: list[str], log: Path,
                  credentials: tuple[str, str]) -> tuple[subprocess.Popen[bytes], Endpoint]:
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "alternator", "serve", "--alternator-port", str(port),
             "--alternator-https-port", "none", *args],
            stdout=subprocess.DEVNULL, stderr=out,
        )
    wait_listening(proc, port, log)
    return proc, Endpoint("process", f"http://127.0.0.1:{port}", *credentials)


def wait_listening(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(log.read_text())
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("server process did not start listening")


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """Terminate a server process (killed if it has not exited within 30 s)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(params=["sqlite", "cassandra"])
def two_servers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[Endpoint]]:
    if request.param == "cassandra":
        address = cassandra_address()
        if address is None:
            if os.environ.get("ALTERNATOR_REQUIRE_CASSANDRA") == "1":
                pytest.fail("Cassandra required but not configured")
            pytest.skip("no Cassandra node")
        args = cassandra_serve_args()
        credentials = ("cassandra", cassandra_salted_hash())
    else:
        path = str(tmp_path / "shared.db")
        args = ["--backend", "sqlite", "--sqlite-path", path]
        credentials = ("alternator", sqlite_superuser(path))
    procs = [start_process(args, tmp_path / f"server{i}.log", credentials) for i in range(2)]
    try:
        yield [endpoint for _, endpoint in procs]
    finally:
        for proc, _ in procs:
            stop_process(proc)


def test_two_processes_share_tables_and_items(two_servers: list[Endpoint]) -> None:
    first, second = (e.client() for e in two_servers)
    name = unique_table_name("shared")
    first.create_table(TableName=name, KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
                       AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}],
                       BillingMode="PAY_PER_REQUEST")
    try:
        assert second.describe_table(TableName=name)["Table"]["TableStatus"] == "ACTIVE"
        second.put_item(TableName=name, Item={"p": {"S": "k"}, "v": {"S": "from second"}})
        got = first.get_item(TableName=name, Key={"p": {"S": "k"}}, ConsistentRead=True)
        assert got["Item"]["v"] == {"S": "from second"}
    finally:
        second.delete_table(TableName=name)
    # The first process caches schemas for at most a second.
    time.sleep(1.1)
    assert name not in first.list_tables()["TableNames"]
    with pytest.raises(first.exceptions.ResourceNotFoundException):
        first.get_item(TableName=name, Key={"p": {"S": "k"}})


def test_cassandra_backend_requires_write_isolation() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "alternator", "serve", "--backend", "cassandra"],
        capture_output=True, text=True, timeout=60,
        env={k: v for k, v in os.environ.items() if k != "ALTERNATOR_WRITE_ISOLATION"},
    )
    assert result.returncode != 0
    assert "--alternator-write-isolation" in result.stderr


def test_workers_share_the_port(tmp_path: Path) -> None:
    path = str(tmp_path / "workers.db")
    credentials = ("alternator", sqlite_superuser(path))
    proc, endpoint = start_process(["--workers", "2", "--sqlite-path", path],
                                   tmp_path / "workers.log", credentials)
    try:
        client = endpoint.client()
        name = unique_table_name("workers")
        client.create_table(TableName=name, KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}],
                            BillingMode="PAY_PER_REQUEST")
        for i in range(20):  # spread over both workers by the kernel
            client.put_item(TableName=name, Item={"p": {"S": str(i)}})
        time.sleep(1.1)  # a worker that has not seen the table caches its absence at most 1 s
        for i in range(20):
            assert client.get_item(TableName=name, Key={"p": {"S": str(i)}})["Item"]
    finally:
        proc.terminate()
        proc.wait(30)
    log = (tmp_path / "workers.log").read_text()
    assert "Traceback" not in log, log
