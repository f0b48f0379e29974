"""The embedded backend's table metadata: one row of ``tables`` per table, its schema as JSON."""

from __future__ import annotations

import time
from dataclasses import replace

from alternator.errors import ResourceInUseException, ResourceNotFoundException
from alternator.schema import IndexSchema, TableSchema, VectorIndexSchema
from alternator.storage import table_resource
from alternator.storage.codec import cql_names
from alternator.storage.sqlite.base import SQLiteBase


def _not_found(name: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Requested resource not found: Table: {name} not found")


class SQLiteTables(SQLiteBase):
    async def create_table(self, schema: TableSchema) -> TableSchema:
        stored = replace(schema, placement=(schema.table_id,))
        await self._run(self._create_table, stored)
        self._schemas.invalidate(schema.name)
        return stored

    def _create_table(self, schema: TableSchema) -> None:
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM tables WHERE name = ?", (schema.name,)).fetchone():
                raise ResourceInUseException(f"Table already exists: {schema.name}")
            db.execute("INSERT INTO tables (name, schema) VALUES (?, ?)",
                       (schema.name, schema.to_json()))

    async def delete_table(self, name: str) -> TableSchema:
        self._schemas.invalidate(name)
        return await self._run(self._delete_table, name)

    def _delete_table(self, name: str) -> TableSchema:
        # Items and derived rows go in the same transaction as the metadata: nothing of a
        # dropped table is left to meet a later table of the same name (a new table_id).
        with self.transaction() as db:
            row = db.execute("SELECT schema FROM tables WHERE name = ?", (name,)).fetchone()
            if row is None:
                raise _not_found(name)
            schema = TableSchema.from_json(row[0])
            db.execute("DELETE FROM tables WHERE name = ?", (name,))
            db.execute("DELETE FROM items WHERE tid = ?", (schema.table_id,))
            db.execute("DELETE FROM derived_rows WHERE tid = ?", (schema.table_id,))
            db.execute("DELETE FROM stream_records WHERE tid = ?", (schema.table_id,))
            # As CQL does when a table is dropped: permissions on it are revoked from everyone,
            # or a later table of the same name would inherit them (tests/test_auth.py).
            db.execute("DELETE FROM role_permissions WHERE resource = ?",
                       (table_resource(*cql_names(name)),))
        return schema

    async def get_table(self, name: str) -> TableSchema | None:
        return await self._schemas.get(name, lambda: self._run(self._get_table, name))

    def _get_table(self, name: str) -> TableSchema | None:
        row = self.db.execute("SELECT schema FROM tables WHERE name = ?", (name,)).fetchone()
        return None if row is None else TableSchema.from_json(row[0])

    async def list_tables(self) -> list[str]:
        return await self._run(self._list_tables)

    def _list_tables(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT name FROM tables ORDER BY name")]

    async def claim(self, name: str, seconds: float, holder: str | None = None) -> bool:
        return await self._run(self._claim, name, seconds, holder)

    def _claim(self, name: str, seconds: float, holder: str | None) -> bool:
        now = time.time()
        with self.transaction() as db:
            db.execute("DELETE FROM leases WHERE expires < ?", (now,))
            cur = db.execute("INSERT OR IGNORE INTO leases (name, expires, holder) "
                             "VALUES (?, ?, ?)", (name, now + seconds, holder))
            if cur.rowcount == 0 and holder is not None:
                cur = db.execute("UPDATE leases SET expires = ? WHERE name = ? AND holder = ?",
                                 (now + seconds, name, holder))
        return cur.rowcount == 1

    async def update_table(self, schema: TableSchema, expected: TableSchema | None = None) -> bool:
        self._schemas.invalidate(schema.name)
        return await self._run(self._update_table, schema, expected)

    def _update_table(self, schema: TableSchema, expected: TableSchema | None) -> bool:
        if expected is None:
            cur = self.db.execute("UPDATE tables SET schema = ? WHERE name = ?",
                                  (schema.to_json(), schema.name))
        else:
            cur = self.db.execute("UPDATE tables SET schema = ? WHERE name = ? AND schema = ?",
                                  (schema.to_json(), schema.name, expected.to_json()))
            if cur.rowcount == 0 and self._get_table(schema.name) is not None:
                return False
        if cur.rowcount == 0:
            raise _not_found(schema.name)
        return True

    async def add_index(self, table: TableSchema, index: IndexSchema | VectorIndexSchema) -> None:
        return None  # entries go in derived_rows, under the index's own space

    async def drop_index(self, table: TableSchema,
                         index: IndexSchema | VectorIndexSchema) -> None:
        await self._run(self._drop_index, table.table_id, index.space)

    def _drop_index(self, tid: str, space: str) -> None:
        self.derived_generation += 1
        self.db.execute("DELETE FROM derived_rows WHERE tid = ? AND space = ?", (tid, space))
