"""The embedded backend's system tables (``system.local``), its topology (one node) and the
registry of servers sharing the database file (docs/cluster.md)."""

from __future__ import annotations

import time

from alternator.errors import ResourceNotFoundException, ValidationException
from alternator.storage import ServerEntry, SystemRows
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

    async def placement(self, address: str) -> tuple[str, str]:
        return LOCAL_DATACENTER, LOCAL_RACK

    async def announce(self, server: ServerEntry, seconds: float) -> None:
        await self._run(self._announce, server, seconds)

    def _announce(self, server: ServerEntry, seconds: float) -> None:
        now = time.time()
        with self.transaction() as db:
            db.execute("DELETE FROM servers WHERE expires < ?", (now,))
            db.execute("INSERT OR REPLACE INTO servers (datacenter, address, port, https_port, "
                       "rack, expires) VALUES (?, ?, ?, ?, ?, ?)",
                       (server.datacenter, server.address, server.port, server.https_port,
                        server.rack, now + seconds))

    async def withdraw(self, server: ServerEntry) -> None:
        await self._run(self._withdraw, server)

    def _withdraw(self, server: ServerEntry) -> None:
        self.db.execute("DELETE FROM servers WHERE datacenter = ? AND address = ? AND port = ? "
                        "AND https_port = ?",
                        (server.datacenter, server.address, server.port, server.https_port))

    async def servers(self, datacenter: str) -> list[ServerEntry]:
        return await self._run(self._servers, datacenter)

    def _servers(self, datacenter: str) -> list[ServerEntry]:
        rows = self.db.execute("SELECT rack, address, port, https_port FROM servers "
                               "WHERE datacenter = ? AND expires >= ?",
                               (datacenter, time.time()))
        return [ServerEntry(datacenter, rack, address, port, https_port)
                for rack, address, port, https_port in rows]
