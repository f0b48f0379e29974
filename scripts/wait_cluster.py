#!/usr/bin/env python3
"""Wait until the test cluster of scripts/cluster.sh is usable from every node.

    wait_cluster.py ADDRESS,ADDRESS,... [--setup]

Ready means, for every node: user cassandra/cassandra logs in over CQL, the node knows all the
others (system.peers), the schema agrees, and a write at consistency ALL coordinated by that
node succeeds: it sees every replica, i.e. every other node, up.

``--setup`` (a fresh cluster) first replicates system_auth to every datacenter (at most 3 a
datacenter; it is SimpleStrategy with one replica out of the box, so one node down could lock
every login out) and rewrites the cassandra role so that every replica holds it. The probe
keyspace ``cluster_probe`` is replicated the same way.

Environment: CLUSTER_WAIT (timeout in s, default 240). Exit status 0 when ready, 1 if not.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections import Counter
from typing import Any

from cassandra import ConsistencyLevel
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
from cassandra.policies import WhiteListRoundRobinPolicy


def connect(address: str) -> tuple[Any, Any]:
    """A session that sends everything to the node at ``address``."""
    profile = ExecutionProfile(load_balancing_policy=WhiteListRoundRobinPolicy([address]),
                               request_timeout=20)
    cluster = Cluster([address], protocol_version=5,
                      auth_provider=PlainTextAuthProvider("cassandra", "cassandra"),
                      execution_profiles={EXEC_PROFILE_DEFAULT: profile},
                      connect_timeout=5, control_connection_timeout=5,
                      schema_metadata_enabled=False, token_metadata_enabled=False)
    try:
        return cluster, cluster.connect()
    except BaseException:
        cluster.shutdown()
        raise


def replication(session: Any) -> str:
    """NetworkTopologyStrategy with up to 3 replicas in each datacenter of the cluster."""
    local = session.execute("SELECT data_center FROM system.local").one()
    peers = session.execute("SELECT data_center FROM system.peers_v2")
    counts = Counter([local.data_center] + [p.data_center for p in peers])
    factors = ", ".join(f"'{dc}': {min(3, n)}" for dc, n in sorted(counts.items()))
    return f"{{'class': 'NetworkTopologyStrategy', {factors}}}"


def check(address: str, expected: int, probe: bool) -> str | None:
    """None if the node at ``address`` is ready, else what is missing."""
    cluster, session = connect(address)
    try:
        peers = session.execute("SELECT peer, schema_version FROM system.peers_v2").all()
        if len(peers) != expected - 1:
            return f"{address} knows {len(peers)} peers, not {expected - 1}"
        local = session.execute("SELECT schema_version FROM system.local").one()
        versions = {local.schema_version} | {p.schema_version for p in peers}
        if len(versions) != 1:
            return f"{address} sees {len(versions)} schema versions"
        if probe:
            statement = session.prepare(
                "INSERT INTO cluster_probe.probe (node, at) VALUES (?, toTimestamp(now()))")
            statement.consistency_level = ConsistencyLevel.ALL
            session.execute(statement, (address,))
        return None
    finally:
        cluster.shutdown()


def setup(address: str) -> None:
    cluster, session = connect(address)
    try:
        strategy = replication(session)
        session.execute(f"ALTER KEYSPACE system_auth WITH replication = {strategy}")
        session.execute("ALTER ROLE cassandra WITH PASSWORD = 'cassandra'")
        session.execute(f"CREATE KEYSPACE IF NOT EXISTS cluster_probe WITH replication = {strategy}")
        session.execute("CREATE TABLE IF NOT EXISTS cluster_probe.probe "
                        "(node text PRIMARY KEY, at timestamp)")
    finally:
        cluster.shutdown()


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    addresses = sys.argv[1].split(",")
    want_setup = "--setup" in sys.argv[2:]
    logging.getLogger("cassandra").setLevel(logging.CRITICAL)
    start = time.monotonic()
    deadline = start + float(os.environ.get("CLUSTER_WAIT", "240"))
    done_setup = not want_setup
    last: object = None
    while time.monotonic() < deadline:
        try:
            missing = next((m for m in (check(a, len(addresses), False) for a in addresses) if m),
                           None)
            if missing is None and not done_setup:
                setup(addresses[0])
                done_setup = True
                continue
            if missing is None:
                missing = next((m for m in (check(a, len(addresses), True) for a in addresses)
                                if m), None)
            if missing is None:
                print(f"wait_cluster: {len(addresses)} nodes ready after "
                      f"{time.monotonic() - start:.1f}s")
                return 0
            last = missing
        except Exception as e:  # NoHostAvailable, AuthenticationFailed, Unavailable, timeouts
            last = repr(e)
        time.sleep(1)
    print(f"wait_cluster: not ready after {time.monotonic() - start:.0f}s: {last}",
          file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
