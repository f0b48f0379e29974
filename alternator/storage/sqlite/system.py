"""The embedded backend's system tables (``system.local``) and topology (one node)."""

from __future__ import annotations

from alternator.errors import ResourceNotFoundException, ValidationException
from alternator.storage import SystemRows
from alternator.storage.sqlite.base import SQLiteBase
from alternator.values import Item

LOCAL_DATACENTER = "datacenter1"
LOCAL_RACK = "rack1"


class SQLiteSystem(SQLiteBase):
    async def read_system_table(
        self, keyspace: str, table: str, where: Item, limit: int, cursor: bytes | None,
    ) -> SystemRows:
        if (keyspace, table) != ("system", "local"):
            raise ResourceNotFoundException(
                f"Requested resource not found: Table: {keyspace}.{table} not found")
        # No file path or versions: any role may read system.local (tests/test_system_tables.py).
        row = {"key": "local", "cluster_name": "alternator (embedded)",
               "data_center": LOCAL_DATACENTER, "rack": LOCAL_RACK}
        rows = [row] if where.get("key", {"S": "local"}) == {"S": "local"} else []
        return SystemRows(rows, None, ("key",))

    async def write_system_table(
        self, keyspace: str, table: str, key: Item, row: Item | None
    ) -> None:
        raise ValidationException("The embedded backend's system tables are read-only")

    async def local_nodes(self, datacenter: str | None, rack: str | None) -> list[str] | None:
        if datacenter not in (None, LOCAL_DATACENTER) or rack not in (None, LOCAL_RACK):
            return []
        return None


