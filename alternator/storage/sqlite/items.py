"""The embedded backend's items: point reads, and every write with its derived rows.

An item is one row of ``items``: its key as order-preserving bytes (codec.encode_sortable), a
token (a hash of the partition key: scan order and segments) and the item as JSON. A write and
its derived rows (``derived``) are one transaction, so neither is ever seen without the other.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import orjson

from alternator.schema import TableSchema
from alternator.storage import (
    UNCONDITIONAL,
    DerivedChange,
    ItemWrite,
    Merge,
    Version,
)
from alternator.storage.codec import encode_sortable, partition_token
from alternator.storage.sqlite.base import SQLiteBase, new_version
from alternator.values import Item

Where = tuple[str, int, bytes, bytes]
_MATCH_KEY = "tid = ? AND token = ? AND pk = ? AND sk = ?"
_PUT = ("INSERT OR REPLACE INTO items (tid, token, pk, sk, version, item) "
        "VALUES (?, ?, ?, ?, ?, ?)")


def locate(table: TableSchema, key: Item) -> Where:
    pk_attr = table.partition_key
    pk = encode_sortable(pk_attr.type, key[pk_attr.name])
    sk = b""
    if table.sort_key is not None:
        sk = encode_sortable(table.sort_key.type, key[table.sort_key.name])
    return table.table_id, partition_token(pk), pk, sk


# One write as the writer thread applies it: where, what (JSON, Merge or None), expected
# version, derived rows.
_Op = tuple[Where, bytes | Merge | None, Any, DerivedChange, Item]


class SQLiteItems(SQLiteBase):
    async def get_item(self, table: TableSchema, key: Item, consistent: bool) -> Item | None:
        return (await self._run(self._read, locate(table, key)))[0]

    async def read_versioned(
        self, table: TableSchema, key: Item, serial: bool
    ) -> tuple[Item | None, Version]:
        return await self._run(self._read, locate(table, key))

    def _read(self, where: Where) -> tuple[Item | None, Version]:
        row = self.db.execute(f"SELECT item, version FROM items WHERE {_MATCH_KEY}",
                              where).fetchone()
        if row is None:
            return None, None
        return orjson.loads(row[0]), str(row[1])

    async def write(self, table: TableSchema, writes: Sequence[ItemWrite]) -> list[bool]:
        ops: list[_Op] = []
        for w in writes:
            new = w.new
            data = orjson.dumps(new) if isinstance(new, dict) else new
            ops.append((locate(table, w.key), data, w.expected, w.derived, w.key))
        if len(ops) == 1 and ops[0][2] is UNCONDITIONAL and ops[0][3].empty \
                and not isinstance(ops[0][1], Merge):
            return [await self._run(self._plain, ops[0])]  # one statement: no transaction
        return await self._run(self._write_all, ops)

    def _plain(self, op: _Op) -> bool:
        where, data, _, _, _ = op
        if data is None:
            self.db.execute(f"DELETE FROM items WHERE {_MATCH_KEY}", where)
        else:
            assert isinstance(data, bytes)
            self.db.execute(_PUT, (*where, new_version(), data))
        return True

    def _write_all(self, ops: list[_Op]) -> list[bool]:
        with self.transaction() as db:
            results = [self._apply(db, op) for op in ops]
        return results

    def _apply(self, db: sqlite3.Connection, op: _Op) -> bool:
        where, data, expected, derived, key = op
        if isinstance(data, Merge):
            old, _ = self._read(where)
            item = dict(old if old is not None else key)
            item.update(data.set_attributes)
            for name in data.remove:
                item.pop(name, None)
            data = orjson.dumps(item)
        if expected is UNCONDITIONAL:
            applied = self._plain((where, data, expected, derived, key))
        else:
            applied = self._write_if(db, where, expected, data)
        if applied and not derived.empty:
            tid = where[0]
            db.executemany("DELETE FROM derived WHERE tid = ? AND space = ? AND part = ? "
                           "AND sort = ?",
                           [(tid, r.space, r.partition, r.sort) for r in derived.stale])
            db.executemany("INSERT OR REPLACE INTO derived VALUES (?, ?, ?, ?, ?)",
                           [(tid, r.space, r.partition, r.sort, r.value) for r in derived.rows])
        return applied

    @staticmethod
    def _write_if(db: sqlite3.Connection, where: Where, expected: Version,
                  data: bytes | None) -> bool:
        if expected is None:
            if data is None:  # deleting an item that must still be absent
                row = db.execute(f"SELECT 1 FROM items WHERE {_MATCH_KEY}", where).fetchone()
                return row is None
            cur = db.execute(
                "INSERT OR IGNORE INTO items (tid, token, pk, sk, version, item) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (*where, new_version(), data),
            )
        elif data is None:
            cur = db.execute(f"DELETE FROM items WHERE {_MATCH_KEY} AND version = ?",
                             (*where, int(expected)))
        else:
            cur = db.execute(
                f"UPDATE items SET item = ?, version = ? WHERE {_MATCH_KEY} AND version = ?",
                (data, new_version(), *where, int(expected)),
            )
        return cur.rowcount == 1

    async def read_derived(
        self, table: TableSchema, space: str, partition: bytes, limit: int
    ) -> list[tuple[bytes, bytes]]:
        return await self._run(self._read_derived, table.table_id, space, partition, limit)

    def _read_derived(self, tid: str, space: str, partition: bytes,
                      limit: int) -> list[tuple[bytes, bytes]]:
        rows = self.db.execute(
            "SELECT sort, value FROM derived WHERE tid = ? AND space = ? AND part = ? "
            "ORDER BY sort LIMIT ?", (tid, space, partition, limit))
        return [(bytes(s), bytes(v)) for s, v in rows]

    async def recover(self) -> int:
        return 0  # every write and its derived rows are one transaction: nothing is left over
