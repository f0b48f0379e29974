"""``/localnodes`` on a real multi-datacenter cluster: servers are placed by the Cassandra node
at their own address (datacenter and rack from GossipingPropertyFileSnitch), list each other by
datacenter and rack, drop out within the lease when killed, and a load-balancing client spreads
its requests over the servers listed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from clusterlib import LEASE, PERIOD, ROOT, Server, client, eventually

DC1 = ["127.0.0.11", "127.0.0.12"]
FAR = ["127.0.0.14"]
CLIENT_VENV = ROOT / ".sdk-cache" / "cluster-python"
CLIENT_PACKAGE = "alternator-client==2.0.2"  # as tests/sdk/python/requirements.txt


def test_servers_list_each_other_by_datacenter_and_rack(servers: dict[str, Server]) -> None:
    a, b, far = servers["a"], servers["b"], servers["far"]
    for server in (a, b):
        eventually(server.localnodes, DC1, 10)
    eventually(far.localnodes, FAR, 10)
    for server in (a, b, far):
        assert server.localnodes("?dc=dc1") == DC1
        assert server.localnodes("?dc=dc2") == FAR
        assert server.localnodes("?dc=dc1&rack=r1") == ["127.0.0.11"]
        assert server.localnodes("?dc=dc1&rack=r2") == ["127.0.0.12"]
        assert server.localnodes("?dc=dc2&rack=r1") == FAR
        assert server.localnodes("?dc=dc1&rack=r3") == []
        assert server.localnodes("?dc=nosuchdc") == []
    # rack alone: of the asked server's own datacenter
    assert a.localnodes("?rack=r2") == ["127.0.0.12"]
    assert b.localnodes("?rack=r1") == ["127.0.0.11"]
    assert far.localnodes("?rack=r1") == FAR
    assert far.localnodes("?rack=r2") == []


def test_placed_by_its_node_and_killed_server_leaves(servers: dict[str, Server],
                                                     tmp_path: Path) -> None:
    """A server at 127.0.0.13, given no placement, is in its node's dc1 and rack r3; killed
    with SIGKILL it leaves every list within the lease."""
    a = servers["a"]
    extra = Server("127.0.0.13", a.port, a.metrics_port, tmp_path / "c.log", "dc1")
    try:
        eventually(lambda: a.localnodes("?rack=r3"), ["127.0.0.13"], 10)
        assert extra.localnodes() == ["127.0.0.11", "127.0.0.12", "127.0.0.13"]
        assert extra.localnodes("?rack=r3") == ["127.0.0.13"]
        assert servers["far"].localnodes("?dc=dc1") == ["127.0.0.11", "127.0.0.12", "127.0.0.13"]
        extra.proc.send_signal(signal.SIGKILL)
        extra.proc.wait(10)
        # Renewed just before the kill at worst: gone one lease later (CQL TTLs are whole s).
        took = eventually(a.localnodes, DC1, LEASE + 2)
        assert took > PERIOD / 2  # it did not remove its entry: its lease ran out
        assert servers["b"].localnodes("?dc=dc1&rack=r3") == []
    finally:
        extra.stop()


def client_python() -> Path:
    """The interpreter of a virtualenv with ScyllaDB's alternator-client, built once."""
    python = CLIENT_VENV / "bin" / "python"
    marker = CLIENT_VENV / f".installed-{CLIENT_PACKAGE}"
    if not marker.exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(CLIENT_VENV)], check=True,
                       timeout=300)
        done = subprocess.run([str(python), "-m", "pip", "install", "-q",
                               "--disable-pip-version-check", CLIENT_PACKAGE],
                              capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            pytest.fail(f"pip install {CLIENT_PACKAGE} failed:\n{done.stdout}{done.stderr}")
        marker.touch()
    return python


def test_load_balancing_client_spreads_requests(servers: dict[str, Server],
                                                secret: str) -> None:
    a = servers["a"]
    table = f"lb_{uuid.uuid4().hex[:12]}"
    dynamodb = client(a.url, secret)
    dynamodb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}])
    try:
        eventually(a.localnodes, DC1, 10)
        before = {s: servers[s].operations("PutItem") for s in ("a", "b", "far")}
        requests = 40
        done = subprocess.run(
            [str(client_python()), str(Path(__file__).with_name("lb_program.py"))],
            env={**os.environ, "ALTERNATOR_SEED": f"{a.address}:{a.port}",
                 "AWS_ACCESS_KEY_ID": "cassandra", "AWS_SECRET_ACCESS_KEY": secret,
                 "ALTERNATOR_TABLE": table, "ALTERNATOR_REQUESTS": str(requests)},
            capture_output=True, text=True, timeout=300, cwd=Path(__file__).parent)
        assert done.returncode == 0, done.stdout + done.stderr
        assert json.loads(done.stdout) == DC1
        got = {s: servers[s].operations("PutItem") - before[s] for s in before}
        assert got["a"] + got["b"] == requests, got
        assert got["a"] >= requests / 4 and got["b"] >= requests / 4, got
        assert got["far"] == 0  # the other datacenter's server is not in the seed's list
    finally:
        dynamodb.delete_table(TableName=table)
