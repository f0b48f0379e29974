"""--cassandra-replication: a configured setting, as CQL's replication clause."""

from __future__ import annotations

import pytest


def test_replication_is_the_configured_setting() -> None:
    from alternator.__main__ import parse_replication
    from alternator.config import CassandraConfig
    from alternator.storage.cassandra.session import replication_clause

    assert parse_replication("3") == {"replication_factor": 3}
    assert parse_replication("dc1:3, dc2:2") == {
        "replication_per_datacenter": (("dc1", 3), ("dc2", 2))}
    with pytest.raises(SystemExit):
        parse_replication("dc1")
    assert replication_clause(CassandraConfig(**parse_replication("dc1:3,dc2:2"))) == \
        "{'class': 'NetworkTopologyStrategy', 'dc1': 3, 'dc2': 2}"
    assert replication_clause(CassandraConfig()) == \
        "{'class': 'NetworkTopologyStrategy', 'replication_factor': 3}"
