"""The embedded backend's items: point reads, and every write with its derived rows.

An item is one row of ``items``: its key as order-preserving bytes (codec.encode_sortable), a
token (a hash of the partition key: scan order and segments) and the item as JSON. A write and
its derived rows (``derived_rows``) are one transaction, so neither is ever seen without the other.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from alternator.schema import TableSchema
from alternator.storage import (
    UNCONDITIONAL,
    UNDECIDED,
    DerivedChange,
    DerivedRow,
    Guarded,
    ItemWrite,
    Merge,
    StreamPosition,
    StreamPut,
    Version,
)
from alternator.storage.codec import encode_sortable, partition_token, segment_of, segment_range
from alternator.storage.sqlite.base import SQLiteBase, new_version
from alternator.storage.sqlite.vectors import stored_value
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
# version, derived rows, key, stream record.
_Op = tuple[Where, bytes | Merge | None, Any, DerivedChange, Item, StreamPut | None]
# How many old stream records one trim deletes at most.
_TRIM_BATCH = 5000
_MAX_TIE = 2**63 - 1


class SQLiteItems(SQLiteBase):
    async def get_item(self, table: TableSchema, key: Item, consistent: bool) -> Item | None:
        return (await self._run(self._read, locate(table, key)))[0]

    async def read_versioned(
        self, table: TableSchema, key: Item, serial: bool
    ) -> tuple[Item | None, Version]:
        return await self._run(self._read, locate(table, key))

    async def write_guarded(self, table: TableSchema, key: Item, new: Item | Merge | None,
                            exists: bool) -> Guarded:
        return UNDECIDED  # every read-modify-write here is local and isolated already

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
            ops.append((locate(table, w.key), data, w.expected, w.derived, w.key, w.stream))
        if len(ops) == 1 and ops[0][2] is UNCONDITIONAL and ops[0][3].empty \
                and not isinstance(ops[0][1], Merge) and ops[0][5] is None:
            return [await self._run(self._plain, ops[0])]  # one statement: no transaction
        return await self._run(self._write_all, ops)

    def _plain(self, op: _Op) -> bool:
        where, data = op[0], op[1]
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
        where, data, expected, derived, key, stream = op
        if isinstance(data, Merge):
            old, _ = self._read(where)
            item = dict(old if old is not None else key)
            item.update(data.set_attributes)
            for name in data.remove:
                item.pop(name, None)
            data = orjson.dumps(item)
        if expected is UNCONDITIONAL:
            applied = self._plain((where, data, expected, derived, key, stream))
        else:
            applied = self._write_if(db, where, expected, data)
        if applied and not derived.empty:
            self.derived_generation += 1
            tid = where[0]
            db.executemany("DELETE FROM derived_rows WHERE tid = ? AND space = ? AND token = ? "
                           "AND part = ? AND sort = ?",
                           [(tid, r.space, partition_token(r.partition), r.partition, r.sort)
                            for r in derived.stale])
            db.executemany("INSERT OR REPLACE INTO derived_rows VALUES (?, ?, ?, ?, ?, ?)",
                           [(tid, r.space, partition_token(r.partition), r.partition, r.sort,
                             stored_value(r)) for r in derived.rows])
        if applied and stream is not None:
            self._put_record(db, where[0], stream)
        return applied

    @staticmethod
    def _put_record(db: sqlite3.Connection, tid: str, put: StreamPut) -> None:
        ts = db.execute("UPDATE stream_clock SET ts = max(ts + 1, ?) WHERE id = 0 RETURNING ts",
                        (time.time_ns() // 1000,)).fetchone()[0]
        db.execute("INSERT INTO stream_records VALUES (?, ?, ?, ?, ?, 0, ?)",
                   (tid, put.label, put.bucket, ts // put.period_us, ts, put.data))

    async def add_stream(self, table: TableSchema) -> None:
        return None  # stream_records holds every table's

    async def read_stream(
        self, table: TableSchema, label: str, bucket: int, generation: int,
        after: StreamPosition, upto: StreamPosition, limit: int,
    ) -> tuple[list[tuple[int, int, bytes]], StreamPosition]:
        return await self._run(self._read_stream, table.table_id, label, bucket, generation,
                               after, upto, limit)

    def _read_stream(self, tid: str, label: str, bucket: int, generation: int,
                     after: StreamPosition, upto: StreamPosition,
                     limit: int) -> tuple[list[tuple[int, int, bytes]], StreamPosition]:
        # Under the write lock (which a writer holds from taking its record's timestamp to
        # committing), no record is in flight: every one up to the later of the clock and now
        # has committed, and any later one will be above both. Nothing is written, so the
        # commit costs no sync.
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            clock = db.execute("SELECT ts FROM stream_clock WHERE id = 0").fetchone()[0]
            horizon = max(clock, time.time_ns() // 1000)
            if upto[0] > horizon:
                upto = (horizon, _MAX_TIE)
            rows = db.execute(
                "SELECT ts, tie, record FROM stream_records WHERE tid = ? AND label = ? AND "
                "bucket = ? AND gen = ? AND (ts, tie) > (?, ?) AND (ts, tie) <= (?, ?) "
                "ORDER BY ts, tie LIMIT ?",
                (tid, label, bucket, generation, *after, *upto, limit)).fetchall()
        finally:
            db.execute("COMMIT")
        return [(ts, tie, bytes(record)) for ts, tie, record in rows], upto

    async def trim_streams(self, table: TableSchema, before_us: int) -> None:
        await self._run(self._trim, table.table_id, before_us)

    def _trim(self, tid: str, before_us: int) -> None:
        self.db.execute(
            "DELETE FROM stream_records WHERE (tid, label, bucket, gen, ts, tie) IN (SELECT "
            "tid, label, bucket, gen, ts, tie FROM stream_records WHERE tid = ? AND ts < ? "
            "LIMIT ?)", (tid, before_us, _TRIM_BATCH))

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
        self, table: TableSchema, space: str, partition: bytes, low: bytes | None,
        high: bytes | None, forward: bool, limit: int, consistent: bool,
    ) -> list[tuple[bytes, bytes]]:
        sql = ["SELECT sort, value FROM derived_rows WHERE tid = ? AND space = ? AND token = ? "
               "AND part = ?"]
        args: list[Any] = [table.table_id, space, partition_token(partition), partition]
        if low is not None:
            sql.append("AND sort >= ?")
            args.append(low)
        if high is not None:
            sql.append("AND sort < ?")
            args.append(high)
        sql.append(f"ORDER BY sort {'ASC' if forward else 'DESC'} LIMIT ?")
        args.append(limit)
        return await self._run(self._derived_rows, " ".join(sql), args)

    async def scan_derived(
        self, table: TableSchema, space: str, segment: int, total_segments: int, limit: int,
        start: tuple[bytes, bytes] | None, consistent: bool,
    ) -> list[tuple[bytes, bytes, bytes]]:
        low, high = segment_range(segment, total_segments)
        sql = ["SELECT part, sort, value FROM derived_rows WHERE tid = ? AND space = ? "
               "AND token >= ? AND token < ?"]
        args: list[Any] = [table.table_id, space, low, high]
        if start is not None:
            sql.append("AND (token, part, sort) > (?, ?, ?)")
            args += [partition_token(start[0]), *start]
        sql.append("ORDER BY token, part, sort LIMIT ?")
        args.append(limit)
        return await self._run(self._derived_rows, " ".join(sql), args)

    async def backfill(self, table: TableSchema, keys: Sequence[Item],
                       rows: Callable[[Item], tuple[DerivedRow, ...]]) -> None:
        await self._run(self._backfill, table, keys, rows)

    def _backfill(self, table: TableSchema, keys: Sequence[Item],
                  rows: Callable[[Item], tuple[DerivedRow, ...]]) -> None:
        # One transaction: no write of these items comes between their read and their rows.
        self.derived_generation += 1
        with self.transaction() as db:
            for key in keys:
                where = locate(table, key)
                item = self._read(where)[0]
                if item is None:
                    continue
                db.executemany("INSERT OR REPLACE INTO derived_rows VALUES (?, ?, ?, ?, ?, ?)",
                               [(where[0], r.space, partition_token(r.partition), r.partition,
                                 r.sort, stored_value(r)) for r in rows(item)])

    def _derived_rows(self, sql: str, args: list[Any]) -> list[Any]:
        return [tuple(bytes(c) for c in row) for row in self.db.execute(sql, args)]

    def derived_segment_of(self, table: TableSchema, partition: bytes,
                           total_segments: int) -> int:
        return segment_of(partition_token(partition), total_segments)

    async def recover(self) -> int:
        return 0  # every write and its derived rows are one transaction: nothing is left over
