"""The embedded backend: one SQLite database file (see base.py for how it is used)."""

from __future__ import annotations

from alternator.storage.sqlite.roles import SQLiteRoles
from alternator.storage.sqlite.scans import SQLiteScans
from alternator.storage.sqlite.system import SQLiteSystem
from alternator.storage.sqlite.tables import SQLiteTables
from alternator.storage.sqlite.transactions import SQLiteTransactions
from alternator.storage.sqlite.vectors import SQLiteVectors

__all__ = ["SQLiteStorage"]


class SQLiteStorage(SQLiteTables, SQLiteTransactions, SQLiteScans, SQLiteRoles,
                    SQLiteSystem, SQLiteVectors):
    """Every part of the embedded backend, over one connection."""
