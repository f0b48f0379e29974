"""The Cassandra backend's items: point reads, and every write with its derived rows.

Conditional writes compare ``":version"`` in an LWT ``IF`` clause. A version is a UUID whose
upper 64 bits are a microsecond timestamp, larger than the one of the version it replaces; a
write's derived rows (``"dx"``) are written ``USING TIMESTAMP`` of that, so derived writes of
the same item take effect in the order of its versions, however late they arrive. A write that
changes derived rows records an intent first, so that a crash between the item write and its
derived rows is completed by some server process (intents.py, docs/write-path.md).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from alternator.errors import InternalServerError
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
from alternator.storage.cassandra.intents import CassandraIntents
from alternator.storage.cassandra.session import log, quote
from alternator.storage.cassandra.tables import (
    DERIVED_TABLE,
    STREAM_TABLE,
    derived_table,
    key_column,
)
from alternator.storage.codec import LOCK_MARKER, attrs_to_cql, key_to_cql, with_attributes
from alternator.values import Item

# An existing row written without a version (e.g. by another Alternator) is matched with
# ``IF ":version" = null``.
NULL_VERSION = "null"
# Test hook (tests/test_write_path.py): the process kills itself between an item write and its
# derived rows, as a crash would.
_CRASH_AFTER_ITEM_WRITE = os.environ.get("ALTERNATOR_TEST_CRASH_AFTER_ITEM_WRITE") == "1"
_TIE_MASK = 2**63 - 1
# Lock versions (transactions.py, docs/transactions.md): these upper 16 bits, which no real
# version's timestamp reaches, then a transaction's 112-bit ID. PRESENT: the item existed
# when it was locked; ABSENT: it did not, and such a row is not an item (reads skip it).
LOCK_PRESENT = 0xFFFF
LOCK_ABSENT = 0xFFFE
LOCK_ID_BITS = 112


def is_lock(version: Version | uuid.UUID) -> bool:
    if version is None or version == NULL_VERSION:
        return False
    value = version if isinstance(version, uuid.UUID) else uuid.UUID(version)
    return value.int >> LOCK_ID_BITS in (LOCK_PRESENT, LOCK_ABSENT)


def is_absent_lock(version: uuid.UUID | None) -> bool:
    """Whether a row is only a transaction's lock on an item that does not exist (yet)."""
    return version is not None and version.int >> LOCK_ID_BITS == LOCK_ABSENT


def new_version(after: int = 0) -> uuid.UUID:
    """A fresh version whose timestamp is now, and above ``after`` (microseconds)."""
    ts = max(time.time_ns() // 1000, after + 1)
    return uuid.UUID(int=(ts << 64) | random.getrandbits(64))


def version_time(version: Version | uuid.UUID) -> int:
    """The timestamp of a version (0 for none)."""
    if version is None or version == NULL_VERSION:
        return 0
    value = version if isinstance(version, uuid.UUID) else uuid.UUID(version)
    return value.int >> 64


@dataclass(slots=True)
class Statements:
    """The prepared statements of one table, prepared on first use."""

    get: Any = None
    get_versioned: Any = None
    get_serial: Any = None
    put: Any = None
    delete: Any = None
    insert_if_absent: Any = None
    update_if: Any = None
    delete_if: Any = None
    touch: Any = None
    merge_set: Any = None
    merge_remove: Any = None
    lock_if: Any = None
    release_if: Any = None
    insert_lock_if_absent: Any = None
    stream_put: Any = None
    stream_read: Any = None
    guarded: dict[str, Any] = field(default_factory=dict)  # write_guarded's, by shape
    by_query: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    by_space: dict[str, DerivedStatements] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DerivedStatements:
    """Writes of one derived-row space: an index's own table, or the shared ``dx``, where
    rows carry their space in a column (``shared``)."""

    table: str
    shared: bool
    put: Any
    delete: Any
    vector: bool = False  # a vector index's table: the vector and filters are columns

    def where(self, row: DerivedRow) -> tuple[Any, ...]:
        """The values of the row's key, as the statements take them."""
        if self.shared:
            return row.space, row.partition, row.sort
        return row.partition, row.sort

    def put_values(self, row: DerivedRow, ts: int) -> tuple[Any, ...]:
        if self.vector:
            return (*self.where(row), row.value, list(row.vector or ()), *row.filters, ts)
        return (*self.where(row), row.value, ts)


def key_values(table: TableSchema, key: Item) -> list[Any]:
    values = [key_to_cql(table.partition_key, key[table.partition_key.name])]
    if table.sort_key is not None:
        values.append(key_to_cql(table.sort_key, key[table.sort_key.name]))
    return values


def qualified(table: TableSchema) -> str:
    return f"{quote(table.placement[0])}.{quote(table.placement[1])}"


def key_columns(table: TableSchema) -> list[str]:
    return [key_column(n) for n in table.key_names]


def with_attrs(key: Item, attrs: dict[str, bytes] | None) -> Item:
    return with_attributes(dict(key), attrs)


# Concurrent writes of one vector index's entries per server process, and how often a write
# failed by the vector index is tried (_vector_put; tests/test_vector_search.py). One at a
# time: under load even 4 concurrent inserts met the bug, and a failed insert can leave the
# row in the table but not in the ANN graph, where writing it again does not put it.
VECTOR_WRITE_CONCURRENCY = 1
VECTOR_WRITE_ATTEMPTS = 6


class CassandraItems(CassandraIntents):
    _statements: dict[str, Statements]
    _vector_gates: dict[str, asyncio.Semaphore] | None = None

    async def _opened(self) -> None:
        self._statements = {}
        await super()._opened()

    def _forget_statements(self, schema: TableSchema) -> None:
        self._statements.pop(schema.table_id, None)

    async def _prepared(self, table: TableSchema) -> Statements:
        stmts = self._statements.get(table.table_id)
        if stmts is None:
            stmts = await self.run_blocking(self._prepare_table, table)
            self._statements[table.table_id] = stmts
        return stmts

    def _prepare_table(self, table: TableSchema) -> Statements:
        name = qualified(table)
        cols = key_columns(table)
        where = " AND ".join(f"{c} = ?" for c in cols)
        marks = ", ".join("?" for _ in cols)
        prepare = self._session.prepare
        read = f'SELECT ":attrs", ":version" FROM {name} WHERE {where}'
        versioned = prepare(read)
        versioned.consistency_level = self._cl.LOCAL_QUORUM
        serial = prepare(read)
        serial.consistency_level = self._cl.LOCAL_SERIAL
        stmts = Statements(
            get=prepare(f'SELECT ":attrs", ":version" FROM {name} WHERE {where}'),
            get_versioned=versioned,
            get_serial=serial,
            put=prepare(f'INSERT INTO {name} ({", ".join(cols)}, ":attrs", ":version") '
                        f"VALUES ({marks}, ?, ?)"),
            delete=prepare(f"DELETE FROM {name} WHERE {where}"),
            insert_if_absent=prepare(
                f'INSERT INTO {name} ({", ".join(cols)}, ":attrs", ":version") '
                f"VALUES ({marks}, ?, ?) IF NOT EXISTS"),
            update_if=prepare(f'UPDATE {name} SET ":attrs" = ?, ":version" = ? WHERE {where} '
                              'IF ":version" = ?'),
            delete_if=prepare(f'DELETE FROM {name} WHERE {where} IF ":version" = ?'),
            # An UPDATE alone does not make a row exist; this INSERT (the row marker) does, so
            # that an UpdateItem creates the item even when it only removes attributes.
            touch=prepare(f'INSERT INTO {name} ({", ".join(cols)}, ":version") '
                          f"VALUES ({marks}, ?)"),
            merge_set=prepare(f'UPDATE {name} SET ":attrs" = ":attrs" + ? WHERE {where}'),
            # A transaction's lock and its release (transactions.py), which also add and
            # remove the lock marker (docs/transactions.md).
            lock_if=prepare(f'UPDATE {name} SET ":version" = ?, ":attrs"[\'{LOCK_MARKER}\'] = 0x '
                            f'WHERE {where} IF ":version" = ?'),
            release_if=prepare(f'UPDATE {name} SET ":version" = ?, '
                               f'":attrs"[\'{LOCK_MARKER}\'] = null WHERE {where} '
                               'IF ":version" = ?'),
            insert_lock_if_absent=prepare(
                f'INSERT INTO {name} ({", ".join(cols)}, ":attrs", ":version") '
                f"VALUES ({marks}, {{'{LOCK_MARKER}': 0x}}, ?) IF NOT EXISTS"),
            merge_remove=prepare(f'UPDATE {name} SET ":attrs" = ":attrs" - ? WHERE {where}'),
        )
        return stmts

    # --- reads --------------------------------------------------------------------------------

    async def get_item(self, table: TableSchema, key: Item, consistent: bool) -> Item | None:
        stmts = await self._prepared(table)
        bound = stmts.get.bind(key_values(table, key))
        bound.consistency_level = self._cl.LOCAL_QUORUM if consistent else self._cl.LOCAL_ONE
        rows = (await self.execute(bound)).current_rows
        if not rows or is_absent_lock(rows[0][1]):
            return None
        return with_attrs(key, rows[0][0])

    async def read_versioned(
        self, table: TableSchema, key: Item, serial: bool
    ) -> tuple[Item | None, Version]:
        stmts = await self._prepared(table)
        statement = stmts.get_serial if serial else stmts.get_versioned
        rows = (await self.execute(statement, key_values(table, key))).current_rows
        if not rows:
            return None, None
        attrs, version = rows[0]
        return with_attrs(key, attrs), str(version) if version else NULL_VERSION

    async def derived_statements(self, table: TableSchema, space: str) -> DerivedStatements:
        stmts = await self._prepared(table)
        found = stmts.by_space.get(space)
        if found is None:
            found = await self.run_blocking(self._prepare_space, table, space)
            stmts.by_space[space] = found
        return found

    def _prepare_space(self, table: TableSchema, space: str) -> DerivedStatements:
        name = f"{quote(table.placement[0])}.{derived_table(space)}"
        shared = derived_table(space) == DERIVED_TABLE
        key = ("space", "part", "sort") if shared else ("part", "sort")
        columns = (*key, "value")
        index = next((vx for vx in table.vector_indexes if vx.space == space), None)
        if index is not None:
            columns += ("vec", *(f"f{i}" for i in range(len(index.filters))))
        prepare = self._session.prepare
        return DerivedStatements(
            name, shared,
            put=prepare(f"INSERT INTO {name} ({', '.join(columns)}) "
                        f"VALUES ({', '.join('?' for _ in columns)}) USING TIMESTAMP ?"),
            delete=prepare(f"DELETE FROM {name} USING TIMESTAMP ? WHERE "
                           + " AND ".join(f"{c} = ?" for c in key)),
            vector=index is not None)

    async def read_derived(
        self, table: TableSchema, space: str, partition: bytes, low: bytes | None,
        high: bytes | None, forward: bool, limit: int, consistent: bool,
    ) -> list[tuple[bytes, bytes]]:
        target = await self.derived_statements(table, space)
        shape = ("derived", space, low is not None, high is not None, forward)
        stmts = await self._prepared(table)
        statement = stmts.by_query.get(shape)
        if statement is None:
            where = ["space = ?"] if target.shared else []
            where.append("part = ?")
            if low is not None:
                where.append("sort >= ?")
            if high is not None:
                where.append("sort < ?")
            statement = await self.prepare(
                f"SELECT sort, value FROM {target.table} WHERE {' AND '.join(where)} "
                f"ORDER BY sort {'ASC' if forward else 'DESC'} LIMIT ?")
            stmts.by_query[shape] = statement
        params: list[Any] = [space] if target.shared else []
        params += [partition, *(b for b in (low, high) if b is not None), limit]
        bound = statement.bind(params)
        bound.consistency_level = self._cl.LOCAL_QUORUM if consistent else self._cl.LOCAL_ONE
        bound.fetch_size = limit
        rows = (await self.execute(bound)).current_rows
        return [(bytes(s), bytes(v)) for s, v in rows]

    # --- writes -------------------------------------------------------------------------------

    async def write(self, table: TableSchema, writes: Sequence[ItemWrite]) -> list[bool]:
        stmts = await self._prepared(table)
        if len(writes) == 1:
            return [await self._write_one(table, stmts, writes[0])]
        # Each write on its own, concurrently, routed to its partition's replicas: see
        # docs/storage.md for why not a CQL BATCH.
        results = await asyncio.gather(*(self._write_one(table, stmts, w) for w in writes),
                                       return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return [bool(r) for r in results]

    # --- writes conditional only on existence (docs/write-path.md) -----------------------------

    async def write_guarded(self, table: TableSchema, key: Item, new: Item | Merge | None,
                            exists: bool) -> Guarded:
        stmts = await self._prepared(table)
        keys = key_values(table, key)
        version = new_version()
        if not exists:
            if new is None:
                return UNDECIDED  # deleting an absent item: the versioned loop confirms it
            item = {**key, **new.set_attributes} if isinstance(new, Merge) else new
            result = await self.execute(stmts.insert_if_absent,
                                        [*keys, attrs_to_cql(table, item), version])
            if result.was_applied:
                return Guarded(True)
            # The failed INSERT returns the row: [applied], its key, ":attrs", ":version".
            attrs, current = result.current_rows[0][-2:]
            if current is None or is_lock(current):
                return UNDECIDED  # a row without a version, or one a transaction holds
            return Guarded(False, with_attrs(key, attrs))
        params: list[Any] = []
        if new is None:
            sets: tuple[str, ...] = ()
        elif not isinstance(new, Merge):
            sets, params = ('":attrs" = ?',), [attrs_to_cql(table, new)]
        else:
            sets = ()
            if new.set_attributes:
                sets += ('":attrs" = ":attrs" + ?',)
                params.append(attrs_to_cql(table, new.set_attributes))
            if new.remove:
                sets += ('":attrs" = ":attrs" - ?',)
                params.append(set(new.remove))
        statement = await self._guarded(stmts, table, sets, new is None)
        params = keys if new is None else [*params, version, *keys]
        result = await self.execute(statement, params)
        if result.was_applied:
            return Guarded(True)
        row = result.current_rows[0]
        if len(row) == 1:
            return Guarded(False)  # no row: the item does not exist
        # A failed condition returns the columns it named (":attrs", ":version") of a row that
        # is locked or has no version: the versioned loop decides.
        return UNDECIDED

    async def _guarded(self, stmts: Statements, table: TableSchema, sets: tuple[str, ...],
                       delete: bool) -> Any:
        """The statement of a write that holds only if the item exists and is not locked."""
        shape = "delete" if delete else ", ".join(sets)
        statement = stmts.guarded.get(shape)
        if statement is None:
            name = qualified(table)
            where = " AND ".join(f"{c} = ?" for c in key_columns(table))
            unlocked = f'IF ":attrs"[\'{LOCK_MARKER}\'] = null AND ":version" != null'
            assignments = ", ".join((*sets, '":version" = ?'))
            cql = f"DELETE FROM {name} WHERE {where} {unlocked}" if delete else \
                f"UPDATE {name} SET {assignments} WHERE {where} {unlocked}"
            statement = stmts.guarded[shape] = await self.prepare(cql)
        return statement

    async def _write_one(self, table: TableSchema, stmts: Statements, w: ItemWrite) -> bool:
        if w.derived.empty and w.stream is None:
            return await self._write_item(table, stmts, w, new_version(self._after(w)))
        intent = None
        if not w.derived.empty:
            intent = await self.record_intent(table, w.key, w.derived.stale)
        try:
            version = new_version(self._after(w))
            applied = await self._write_item(table, stmts, w, version)
            if applied:
                if _CRASH_AFTER_ITEM_WRITE:
                    os.kill(os.getpid(), signal.SIGKILL)
                calls = [self.apply_derived(table, w.derived, version_time(version))]
                if w.stream is not None:
                    calls.append(self._put_record(table, stmts, w.stream, version))
                for result in await asyncio.gather(*calls, return_exceptions=True):
                    if isinstance(result, BaseException):
                        raise result
        except BaseException:
            if intent is not None:
                self.intent_failed(intent)  # left for the sweep to complete
            raise
        if intent is not None:
            self.intent_done(intent)
        return applied

    # --- stream records (docs/streams.md) -----------------------------------------------------

    async def _put_record(self, table: TableSchema, stmts: Statements, put: StreamPut,
                          version: uuid.UUID) -> None:
        """The record at the new version's timestamp, before the write is acknowledged."""
        if stmts.stream_put is None:
            stmts.stream_put = await self.prepare(
                f"INSERT INTO {quote(table.placement[0])}.{STREAM_TABLE} "
                "(label, shard, gen, ts, tie, record) VALUES (?, ?, ?, ?, ?, ?) "
                "USING TTL ? AND TIMESTAMP ?")
        ts = version_time(version)
        await self.execute(stmts.stream_put, (
            put.label, put.bucket, ts // put.period_us, ts, version.int & _TIE_MASK, put.data,
            max(1, int(self._streams.retention)), ts))
        late = time.time_ns() // 1000 - ts
        if late > self._streams.time_window * 1_000_000:
            log.warning("stream record of %s written %.3f s after its timestamp, more than "
                        "--alternator-streams-time-window-s: a reader may have passed it",
                        table.name, late / 1e6)

    async def read_stream(
        self, table: TableSchema, label: str, bucket: int, generation: int,
        after: StreamPosition, upto: StreamPosition, limit: int,
    ) -> tuple[list[tuple[int, int, bytes]], StreamPosition]:
        stmts = await self._prepared(table)
        if stmts.stream_read is None:
            stmts.stream_read = await self.prepare(
                f"SELECT ts, tie, record FROM {quote(table.placement[0])}.{STREAM_TABLE} "
                "WHERE label = ? AND shard = ? AND gen = ? AND (ts, tie) > (?, ?) "
                "AND (ts, tie) <= (?, ?) LIMIT ?")
        bound = stmts.stream_read.bind((label, bucket, generation, *after, *upto, limit))
        bound.fetch_size = limit
        rows = (await self.execute(bound)).current_rows
        return [(ts, tie, bytes(record)) for ts, tie, record in rows], upto

    async def trim_streams(self, table: TableSchema, before_us: int) -> None:
        return None  # records expire by their CQL TTL

    @staticmethod
    def _after(w: ItemWrite) -> int:
        expected = w.expected
        if expected is UNCONDITIONAL or expected is None:
            return 0
        assert isinstance(expected, str)
        # A transaction applying its write replaces its lock, whose "time" is not a time.
        return 0 if is_lock(expected) else version_time(expected)

    async def _write_item(self, table: TableSchema, stmts: Statements, w: ItemWrite,
                          version: uuid.UUID) -> bool:
        keys = key_values(table, w.key)
        new = w.new
        if w.expected is UNCONDITIONAL:
            if new is None:
                await self.execute(stmts.delete, keys)
            elif isinstance(new, Merge):
                await self._merge(table, stmts, keys, new, version)
            else:
                await self.execute(stmts.put, [*keys, attrs_to_cql(table, new), version])
            return True
        assert not isinstance(new, Merge), "a merge is never conditional"
        expected = w.expected
        expected_uuid = None if expected in (None, NULL_VERSION) else uuid.UUID(str(expected))
        if expected is None:
            if new is None:
                return not (await self.execute(stmts.get_serial, keys)).current_rows
            result = await self.execute(stmts.insert_if_absent,
                                        [*keys, attrs_to_cql(table, new), version])
        elif new is None:
            result = await self.execute(stmts.delete_if, [*keys, expected_uuid])
        else:
            result = await self.execute(stmts.update_if, [attrs_to_cql(table, new), version,
                                                          *keys, expected_uuid])
        return bool(result.was_applied)

    async def _merge(self, table: TableSchema, stmts: Statements, keys: list[Any], merge: Merge,
                     version: uuid.UUID) -> None:
        from cassandra.query import BatchStatement, BatchType

        # One partition: the batch is applied atomically and in isolation.
        batch = BatchStatement(batch_type=BatchType.UNLOGGED)
        batch.add(stmts.touch, [*keys, version])
        if merge.set_attributes:
            batch.add(stmts.merge_set, [attrs_to_cql(table, merge.set_attributes), *keys])
        if merge.remove:
            batch.add(stmts.merge_remove, [set(merge.remove), *keys])
        await self.execute(batch)

    async def apply_derived(self, table: TableSchema, change: DerivedChange, ts: int) -> None:
        """Write a change's derived rows at timestamp ``ts`` (concurrently: many partitions)."""
        calls = []
        for row in change.stale:
            target = await self.derived_statements(table, row.space)
            calls.append(self.execute(target.delete, (ts, *target.where(row))))
        for row in change.rows:
            target = await self.derived_statements(table, row.space)
            put = target.put_values(row, ts)
            calls.append(self._vector_put(target, put) if target.vector
                         else self.execute(target.put, put))
        results = await asyncio.gather(*calls, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def _vector_put(self, target: DerivedStatements, params: tuple[Any, ...]) -> None:
        """Write one vector index entry. Cassandra 5.0 releases without CASSANDRA-21644 fail
        concurrent inserts into one vector index's memtable past a small per-graph pool (a
        WriteFailure), so each server process writes each vector index at most
        VECTOR_WRITE_CONCURRENCY at a time, and retries a write that failed so (the rows are
        written USING TIMESTAMP: writing one again changes nothing in the table; whether the
        graph then holds it is up to Cassandra, hence the concurrency of one)."""
        if self._vector_gates is None:
            self._vector_gates = {}
        gate = self._vector_gates.setdefault(target.table,
                                             asyncio.Semaphore(VECTOR_WRITE_CONCURRENCY))
        from cassandra import WriteFailure

        for attempt in range(VECTOR_WRITE_ATTEMPTS):
            async with gate:
                try:
                    await self.execute(target.put, params)
                    return
                except InternalServerError as error:
                    if attempt == VECTOR_WRITE_ATTEMPTS - 1 or \
                            not isinstance(error.__cause__, WriteFailure):
                        raise
            await asyncio.sleep(random.uniform(0, 0.005 * 2 ** attempt))

    async def backfill(self, table: TableSchema, keys: Sequence[Item],
                       rows: Callable[[Item], tuple[DerivedRow, ...]]) -> None:
        async def one(key: Item) -> None:
            item, version = await self.read_versioned(table, key, serial=False)
            if item is not None:
                # At the version's timestamp: a later write's changes (at its later version's
                # timestamp) win over these, whichever arrives first.
                await self.apply_derived(table, DerivedChange((), rows(item)),
                                         version_time(version))

        results = await asyncio.gather(*(one(k) for k in keys), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def complete(self, table: TableSchema, key: Item,
                       stale: tuple[DerivedRow, ...]) -> None:
        """Make an item's derived rows those of its current state (an interrupted write's
        ``stale`` rows deleted unless still current), at the current version's timestamp."""
        stmts = await self._prepared(table)
        rows = (await self.execute(stmts.get_serial, key_values(table, key))).current_rows
        item = with_attrs(key, rows[0][0]) if rows else None
        ts = version_time(rows[0][1]) if rows and rows[0][1] else time.time_ns() // 1000
        current = self._rows_of(table, item)
        keep = {(r.space, r.partition, r.sort) for r in current}
        gone = tuple(r for r in stale if (r.space, r.partition, r.sort) not in keep)
        await self.apply_derived(table, DerivedChange(gone, current), ts)
