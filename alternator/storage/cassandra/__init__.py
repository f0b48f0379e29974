"""The Cassandra / ScyllaDB backend, through cassandra-driver, one module per responsibility:

session.py (connection, hand-off to the loop), tables.py (metadata and DDL), items.py (reads and
writes), intents.py (derived rows that survive a crash), transactions.py (TransactWriteItems and
TransactGetItems over LWT), scans.py (Query and Scan), vectors.py (vector search), roles.py
(CQL roles and permissions), system.py (system tables, topology).
"""

from __future__ import annotations

from alternator.storage.cassandra.roles import CassandraRoles
from alternator.storage.cassandra.scans import CassandraScans
from alternator.storage.cassandra.system import CassandraSystem
from alternator.storage.cassandra.transactions import CassandraTransactions
from alternator.storage.cassandra.vectors import CassandraVectors

__all__ = ["CassandraStorage"]


class CassandraStorage(CassandraScans, CassandraTransactions, CassandraRoles, CassandraSystem,
                       CassandraVectors):
    """Every part of the Cassandra backend, over one driver session."""
