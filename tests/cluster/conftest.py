"""The cluster stage: server processes beside the nodes of a multi-node Cassandra cluster.

``make test-cluster`` (and ``make test``, after the main suite) starts the cluster with
scripts/cluster.sh and sets ``ALTERNATOR_TEST_CLUSTER`` to its nodes' addresses; without it this
directory is not collected (tests/conftest.py), and with it a missing cluster fails the tests.

Session servers (each on its node's address, all on one port, as /localnodes expects):
``a`` beside node 1 (127.0.0.11, dc1/r1), ``b`` beside node 2 (127.0.0.12, dc1/r2) and ``far``
beside node 4 (127.0.0.14, dc2/r1). Their logs are kept in .cassandra/cluster/servers/.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from clusterlib import ROOT, Server, cluster_addresses, free_port, salted_hash


@pytest.fixture(scope="session")
def cluster() -> list[str]:
    addresses = cluster_addresses()
    if not addresses:
        pytest.skip("no test cluster (run `make test-cluster`)")
    if len(addresses) < 4:
        pytest.fail(f"the cluster stage needs 4 nodes, ALTERNATOR_TEST_CLUSTER has {addresses}")
    for address in addresses:
        try:
            socket.create_connection((address, 9042), timeout=5).close()
        except OSError as e:
            pytest.fail(f"ALTERNATOR_TEST_CLUSTER names {address}, which does not answer CQL: {e}")
    return addresses


@pytest.fixture(scope="session")
def secret(cluster: list[str]) -> str:
    return salted_hash()


@pytest.fixture(scope="session")
def servers(cluster: list[str]) -> Iterator[dict[str, Server]]:
    logs = ROOT / ".cassandra" / "cluster" / "servers"
    logs.mkdir(parents=True, exist_ok=True)
    spare = "127.0.0.13"  # tests start servers of their own beside node 3
    port = free_port([*cluster, spare])
    metrics = free_port([*cluster, spare])
    started: dict[str, Server] = {}
    try:
        # The first creates the metadata keyspace; the others then start at once.
        started["a"] = Server(cluster[0], port, metrics, logs / "a.log", "dc1")
        with ThreadPoolExecutor(2) as pool:
            futures = {"b": pool.submit(Server, cluster[1], port, metrics, logs / "b.log", "dc1"),
                       "far": pool.submit(Server, cluster[3], port, metrics, logs / "far.log",
                                          "dc2")}
        for name, future in futures.items():
            if future.exception() is None:
                started[name] = future.result()
        for future in futures.values():
            future.result()  # raises the first failure, once every server is in `started`
        yield started
    finally:
        for server in started.values():
            server.stop()
