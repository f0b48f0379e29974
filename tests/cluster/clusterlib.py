"""Helpers of the cluster stage (tests/cluster/): the test cluster of scripts/cluster.sh and the
server processes the tests run beside its nodes.

The cluster is the one scripts/cluster.sh starts: node N at 127.0.0.1(10+N), nodes 1-3 in
datacenter dc1 (racks r1, r2, r3), node 4 in dc2 (rack r1). ``ALTERNATOR_TEST_CLUSTER`` lists
the nodes' addresses; ``make test-cluster`` sets it.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

ROOT = Path(__file__).resolve().parents[2]
CLUSTER_SH = ROOT / "scripts" / "cluster.sh"
REPLICATION = "dc1:3,dc2:1"
# Short leases, so that a killed server leaves /localnodes within a few seconds.
PERIOD = 0.5
LEASE = 2.0
# Server-side limit on one operation: a request that cannot finish is answered (retryably).
TIMEOUT_MS = 15000


def cluster_addresses() -> list[str]:
    value = os.environ.get("ALTERNATOR_TEST_CLUSTER", "")
    return [a for a in value.split(",") if a]


def node_of(address: str) -> int:
    """The scripts/cluster.sh number of the node at ``address``."""
    return cluster_addresses().index(address) + 1


def cluster_sh(*args: str, timeout: float = 300) -> str:
    done = subprocess.run(["bash", str(CLUSTER_SH), *args], capture_output=True, text=True,
                          timeout=timeout)
    if done.returncode != 0:
        raise AssertionError(f"cluster.sh {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def salted_hash(role: str = "cassandra") -> str:
    """The secret access key of a CQL role (its salted_hash), read from the cluster."""
    from cassandra import ConsistencyLevel
    from cassandra.auth import PlainTextAuthProvider
    from cassandra.cluster import Cluster

    cluster = Cluster(cluster_addresses(), protocol_version=5,
                      auth_provider=PlainTextAuthProvider("cassandra", "cassandra"))
    try:
        session = cluster.connect()
        statement = session.prepare("SELECT salted_hash FROM system_auth.roles WHERE role = ?")
        statement.consistency_level = ConsistencyLevel.QUORUM
        return str(session.execute(statement, (role,)).one().salted_hash)
    finally:
        cluster.shutdown()


def free_port(addresses: Sequence[str]) -> int:
    """A port free on every one of ``addresses`` (servers share a port: /localnodes lists
    addresses only)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind((addresses[0], 0))
            port = int(s.getsockname()[1])
        try:
            for address in addresses[1:]:
                with socket.socket() as s:
                    s.bind((address, port))
        except OSError:
            continue
        return port
    raise AssertionError("no port free on all of " + ", ".join(addresses))


class Server:
    """An ``alternator serve`` process beside the node at ``address``, on its address."""

    def __init__(self, address: str, port: int, metrics_port: int, log: Path,
                 datacenter: str, *extra: str) -> None:
        self.address = address
        self.port = port
        self.metrics_port = metrics_port
        self.log = log
        self.url = f"http://{address}:{port}"
        command = [sys.executable, "-m", "alternator", "serve", "--backend", "cassandra",
                   "--cassandra-host", ",".join(cluster_addresses()),
                   "--cassandra-username", "cassandra", "--cassandra-password", "cassandra",
                   "--cassandra-datacenter", datacenter, "--cassandra-replication", REPLICATION,
                   "--alternator-write-isolation", "only_rmw_uses_lwt",
                   "--alternator-address", address, "--alternator-port", str(port),
                   "--alternator-https-port", "none",
                   "--prometheus-port", str(metrics_port),
                   "--alternator-announce-period-in-seconds", str(PERIOD),
                   "--alternator-announce-lease-in-seconds", str(LEASE),
                   "--alternator-timeout-in-ms", str(TIMEOUT_MS),
                   "--log-level", "WARNING", *extra]
        with log.open("ab") as out:
            self.proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                         cwd=ROOT)
        self.wait_listening()

    def wait_listening(self) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server at {self.address} exited:\n{self.log.read_text()}")
            try:
                socket.create_connection((self.address, self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        self.proc.kill()
        raise AssertionError(f"server at {self.address} did not start listening")

    def localnodes(self, query: str = "") -> list[str]:
        with urllib.request.urlopen(f"{self.url}/localnodes{query}", timeout=30) as response:
            assert response.status == 200
            nodes = json.loads(response.read())
        assert isinstance(nodes, list)
        return nodes

    def operations(self, op: str) -> float:
        """How many ``op`` operations this server counted (its /metrics)."""
        url = f"http://{self.address}:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=30) as response:
            text = response.read().decode()
        pattern = re.compile(r'^scylla_alternator_operation(?:_total)?\{([^}]*)\} (\S+)$', re.M)
        return sum(float(value) for labels, value in pattern.findall(text)
                   if f'op="{op}"' in labels)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def client(url: str, secret: str, attempts: int = 1, timeout: float = 30) -> Any:
    """A boto3 client of the server at ``url``; ``attempts=1``: no retry by botocore, so
    every error reaches the test (botocore's ``max_attempts`` would count retries)."""
    return boto3.client(
        "dynamodb", endpoint_url=url, region_name="us-east-1",
        aws_access_key_id="cassandra", aws_secret_access_key=secret,
        config=BotoConfig(retries={"total_max_attempts": attempts, "mode": "standard"},
                          connect_timeout=5, read_timeout=timeout))


def eventually(check: Callable[[], Any], expected: Any, within: float) -> float:
    """Seconds until ``check()`` gives ``expected``; fails after ``within`` seconds."""
    started = time.monotonic()
    while True:
        got = check()
        if got == expected:
            return time.monotonic() - started
        if time.monotonic() - started > within:
            raise AssertionError(f"still {got!r}, not {expected!r}, after {within} s")
        time.sleep(0.1)


def counter_worker(url: str, secret: str, table: str, key: dict[str, Any],
                   increments: int) -> tuple[list[str], list[str], list[str]]:
    """Adds 1 to the ``n`` of the item at ``key`` ``increments`` times, read-then-conditional-write
    (the write applies only if ``n`` is still what was read), retrying on a lost race. Each
    write also appends a token of its own to the item's ``log``, so that the test can tell which
    writes applied. Returns the tokens of acknowledged writes, those of writes whose outcome is
    unknown (a 500 after a database timeout: it may or may not have applied) and any other
    errors. Run in a process of its own."""
    dynamodb = client(url, secret)
    acknowledged: list[str] = []
    unknown: list[str] = []
    errors: list[str] = []
    while len(acknowledged) < increments and len(errors) < 5 and len(unknown) < 20:
        token = uuid.uuid4().hex[:12]
        try:
            n = int(dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)
                    ["Item"]["n"]["N"])
            dynamodb.update_item(
                TableName=table, Key=key, UpdateExpression="SET n = :new, #log = "
                "list_append(#log, :token)", ConditionExpression="n = :old",
                ExpressionAttributeNames={"#log": "log"},
                ExpressionAttributeValues={":old": {"N": str(n)}, ":new": {"N": str(n + 1)},
                                           ":token": {"L": [{"S": token}]}})
            acknowledged.append(token)
        except dynamodb.exceptions.ConditionalCheckFailedException:
            continue
        except ClientError as e:
            if e.response["Error"]["Code"] == "InternalServerError" and \
                    "outcome is unknown" in e.response["Error"]["Message"]:
                unknown.append(token)
            else:
                errors.append(repr(e))
        except Exception as e:
            errors.append(repr(e))
    return acknowledged, unknown, errors
