"""The Cassandra backend's transactions: a record plus item locks over single-partition LWTs.

docs/transactions.md has the protocol and why it is atomic and isolated. In short: read and
plan every item; record the plan as PENDING in ``alternator.transactions``; lock each item by
changing its ``":version"`` to a *lock version* naming the transaction; commit by one LWT on
the record; apply each item's write conditionally on its lock; delete the record. Whoever meets
a lock resolves it from the record (rolls the transaction forward or back, aborting a PENDING
one older than ``--alternator-transaction-timeout-s``), and a sweep does the same for records left behind.
"""

from __future__ import annotations

import asyncio
import base64
import os
import random
import signal
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from alternator.errors import DynamoDBError, TransactionConflictException
from alternator.schema import TableSchema
from alternator.storage import (
    DerivedChange,
    DerivedRow,
    ItemWrite,
    StreamPut,
    TxAction,
    TxCancel,
    Version,
    run_plan,
)
from alternator.storage.cassandra.items import (
    LOCK_ABSENT,
    LOCK_ID_BITS,
    LOCK_PRESENT,
    NULL_VERSION,
    CassandraItems,
    is_lock,
    key_values,
)
from alternator.storage.cassandra.session import META_KEYSPACE, log
from alternator.values import Item

_ID_BITS = LOCK_ID_BITS
_ID_MASK = (1 << _ID_BITS) - 1
SWEEP_SECONDS = 5.0
PENDING, COMMITTED, ABORTED = "PENDING", "COMMITTED", "ABORTED"
# Test hook (tests/test_transactions.py): the process kills itself at this step of a commit.
_CRASH_AT = os.environ.get("ALTERNATOR_TEST_CRASH_IN_TRANSACTION")


def lock_version(txn: uuid.UUID, existed: bool) -> uuid.UUID:
    return uuid.UUID(int=((LOCK_PRESENT if existed else LOCK_ABSENT) << _ID_BITS) | txn.int)


def lock_of(version: Version) -> uuid.UUID | None:
    """The transaction a lock version names; None for a real version."""
    if not is_lock(version):
        return None
    return uuid.UUID(int=uuid.UUID(str(version)).int & _ID_MASK)


@dataclass(slots=True)
class Entry:
    """One item of a transaction's plan: its table, key, the version read, its write (None:
    a condition check)."""

    table: str
    key: Item
    version: Version
    write: ItemWrite | None

    def to_json(self) -> dict[str, Any]:
        w = self.write
        out: dict[str, Any] = {"t": self.table, "k": self.key, "v": self.version}
        if w is not None:
            out["w"] = {"n": w.new, "s": [_row(r) for r in w.derived.stale],
                        "r": [_row(r) for r in w.derived.rows],
                        "x": None if w.stream is None else [
                            w.stream.label, w.stream.bucket, w.stream.period_us,
                            _b64(w.stream.data)]}
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Entry:
        w = d.get("w")
        write = None
        if w is not None:
            x = w["x"]
            write = ItemWrite(d["k"], w["n"], None, DerivedChange(
                tuple(_unrow(r) for r in w["s"]), tuple(_unrow(r) for r in w["r"])),
                None if x is None else StreamPut(x[0], x[1], x[2], base64.b64decode(x[3])))
        return cls(d["t"], d["k"], d["v"], write)


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode()


def _row(r: DerivedRow) -> list[Any]:
    return [r.space, _b64(r.partition), _b64(r.sort), _b64(r.value)]


def _unrow(r: list[Any]) -> DerivedRow:
    return DerivedRow(r[0], base64.b64decode(r[1]), base64.b64decode(r[2]),
                      None if r[3] is None else base64.b64decode(r[3]))


async def _gather(*calls: Any) -> list[Any]:
    results = await asyncio.gather(*calls, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return list(results)


class CassandraTransactions(CassandraItems):
    async def _opened(self) -> None:
        await super()._opened()
        await self.run_blocking(
            self._session.execute,
            f"CREATE TABLE IF NOT EXISTS {META_KEYSPACE}.transactions (id uuid PRIMARY KEY, "
            "state text, created double, plan blob)")
        await self.run_blocking(
            self._session.execute,
            f"CREATE TABLE IF NOT EXISTS {META_KEYSPACE}.memories (name text PRIMARY KEY, "
            "value blob)")
        self.background(self._sweep_forever)

    async def _txn_statement(self, name: str) -> Any:
        cql = {
            "insert": f"INSERT INTO {META_KEYSPACE}.transactions (id, state, created, plan) "
                      "VALUES (?, 'PENDING', ?, ?) IF NOT EXISTS",
            "get": f"SELECT state, created, plan FROM {META_KEYSPACE}.transactions WHERE id = ?",
            "set": f"UPDATE {META_KEYSPACE}.transactions SET state = ? WHERE id = ? "
                   "IF state = 'PENDING'",
            "delete": f"DELETE FROM {META_KEYSPACE}.transactions WHERE id = ?",
            "old": f"SELECT id, created FROM {META_KEYSPACE}.transactions",
            "remember": f"INSERT INTO {META_KEYSPACE}.memories (name, value) VALUES (?, ?) "
                        "IF NOT EXISTS USING TTL ?",
            "replace": f"INSERT INTO {META_KEYSPACE}.memories (name, value) VALUES (?, ?) "
                       "USING TTL ?",
            "forget": f"DELETE FROM {META_KEYSPACE}.memories WHERE name = ?",
        }[name]
        statement = await self.prepared("txn:" + name, cql)
        if name == "get":
            statement.consistency_level = self._cl.LOCAL_SERIAL
        return statement

    # --- reads that meet locks -----------------------------------------------------------------

    async def read_versioned(
        self, table: TableSchema, key: Item, serial: bool
    ) -> tuple[Item | None, Version]:
        """As an item's read for a write, after resolving any transaction that holds it:
        TransactionConflictException while that transaction runs."""
        for _ in range(20):
            item, version = await super().read_versioned(table, key, serial)
            txn = lock_of(version)
            if txn is None:
                return item, version
            await self._resolve(txn)
            serial = True
        raise TransactionConflictException()

    async def _resolve(self, txn: uuid.UUID) -> None:
        """Finish the transaction a lock names: roll it forward if it committed, back if it
        aborted or ran past its timeout; TransactionConflictException if it is running."""
        rows = (await self.execute(await self._txn_statement("get"), (txn,))).current_rows
        if not rows:
            return  # finished meanwhile: the caller reads again
        state, created, plan = rows[0]
        if state == PENDING:
            if time.time() - created < self._transaction_timeout:
                raise TransactionConflictException()
            result = await self.execute(await self._txn_statement("set"), (ABORTED, txn))
            if not result.was_applied:  # it committed (or finished) meanwhile: look again
                return await self._resolve(txn)
            state = ABORTED
            log.warning("transaction %s ran past its timeout: rolled back", txn)
        entries = [Entry.from_json(e) for e in orjson.loads(plan)]
        await self._finish(txn, entries, committed=state == COMMITTED)

    async def _finish(self, txn: uuid.UUID, entries: list[Entry], committed: bool) -> None:
        """Apply (committed) or release every item still holding the transaction's lock, then
        forget the transaction."""
        await _gather(*(self._settle(txn, e, committed) for e in entries))
        await self.execute(await self._txn_statement("delete"), (txn,))

    async def _settle(self, txn: uuid.UUID, entry: Entry, committed: bool) -> None:
        table = await self.get_table(entry.table)
        if table is None:
            return  # dropped meanwhile
        lock = lock_version(txn, entry.version is not None)
        stmts = await self._prepared(table)
        if committed and entry.write is not None:
            write = ItemWrite(entry.key, entry.write.new, str(lock), entry.write.derived,
                              entry.write.stream)
            await self._write_one(table, stmts, write)
            return
        keys = key_values(table, entry.key)
        if entry.version is None:
            await self.execute(stmts.delete_if, [*keys, lock])
        else:
            old = None if entry.version == NULL_VERSION else uuid.UUID(entry.version)
            await self.execute(stmts.release_if, [old, *keys, lock])

    # --- write transactions --------------------------------------------------------------------

    async def transact(self, actions: Sequence[TxAction]) -> list[TxCancel | None] | None:
        # Quorum reads: each lock is conditional on the version read, so a stale read only
        # makes its lock fail (a conflict), never a wrong commit.
        reads = await asyncio.gather(*(self.read_versioned(a.table, a.key, serial=False)
                                       for a in actions), return_exceptions=True)
        reasons: list[TxCancel | None] = []
        entries: list[Entry] = []
        for action, read in zip(actions, reads, strict=True):
            if isinstance(read, TransactionConflictException):
                reasons.append(TxCancel("TransactionConflict", read.message))
                continue
            if isinstance(read, BaseException):
                raise read
            old, version = read
            write, cancel = run_plan(action, old)
            reasons.append(cancel)
            entries.append(Entry(action.table.name, action.key, version, write))
        if any(reasons):
            return reasons
        txn = uuid.UUID(int=random.getrandbits(_ID_BITS))
        plan = orjson.dumps([e.to_json() for e in entries])
        await self.execute(await self._txn_statement("insert"), (txn, time.time(), plan))
        locked = await asyncio.gather(*(self._lock(txn, e, a.table)
                                        for e, a in zip(entries, actions, strict=True)),
                                      return_exceptions=True)
        self._crash_at("locked")
        if not all(r is True for r in locked):
            result = await self.execute(await self._txn_statement("set"), (ABORTED, txn))
            if result.was_applied:
                await self._finish(txn, entries, committed=False)
            for r in locked:
                if isinstance(r, BaseException) and not isinstance(r, DynamoDBError):
                    raise r
            return [None if r is True else TxCancel(
                "TransactionConflict", "Transaction is ongoing for the item") for r in locked]
        result = await self.execute(await self._txn_statement("set"), (COMMITTED, txn))
        if not result.was_applied:  # aborted by someone as timed out: rolled back by them
            return [TxCancel("TransactionConflict", "Transaction is ongoing for the item")
                    for _ in actions]
        self._crash_at("committed")
        await self._finish(txn, entries, committed=True)
        return None

    def _crash_at(self, step: str) -> None:
        if step == _CRASH_AT:
            os.kill(os.getpid(), signal.SIGKILL)

    async def _lock(self, txn: uuid.UUID, entry: Entry, table: TableSchema) -> bool:
        stmts = await self._prepared(table)
        keys = key_values(table, entry.key)
        lock = lock_version(txn, entry.version is not None)
        if entry.version is None:
            result = await self.execute(stmts.insert_lock_if_absent, [*keys, lock])
        else:
            expected = None if entry.version == NULL_VERSION else uuid.UUID(entry.version)
            result = await self.execute(stmts.lock_if, [lock, *keys, expected])
        return bool(result.was_applied)

    # --- client tokens ---------------------------------------------------------------------------

    async def remember(self, name: str, value: bytes, seconds: float,
                       replace: bool = False) -> bytes | None:
        ttl = max(1, int(seconds + 0.999))
        statement = await self._txn_statement("replace" if replace else "remember")
        result = await self.execute(statement, (name, value, ttl))
        if replace or result.was_applied:
            return None
        row = result.current_rows[0]
        return bytes(row[-1]) if row[-1] is not None else b""

    async def forget(self, name: str) -> None:
        await self.execute(await self._txn_statement("forget"), (name,))

    # --- read transactions ---------------------------------------------------------------------

    async def read_together(self, reads: Sequence[tuple[TableSchema, Item]]
                            ) -> list[Item | None] | None:
        """Read every item, then every version again: unchanged versions mean that all the
        items had these states at once, between the two rounds."""
        for _ in range(5):
            try:
                first = await _gather(*(self.read_versioned(t, k, serial=True)
                                        for t, k in reads))
                second = await _gather(*(self.read_versioned(t, k, serial=True)
                                         for t, k in reads))
            except TransactionConflictException:
                await asyncio.sleep(random.uniform(0.005, 0.02))
                continue
            if [v for _, v in first] == [v for _, v in second]:
                return [item for item, _ in first]
        return None

    # --- the sweep -------------------------------------------------------------------------------

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            try:
                await self.sweep_transactions()
            except Exception:  # the cluster may be away: the next sweep tries again
                log.debug("transaction sweep failed", exc_info=True)

    async def sweep_transactions(self) -> int:
        """Finish every transaction record older than the timeout; how many."""
        rows = (await self.execute(await self._txn_statement("old"))).current_rows
        done = 0
        for txn, created in rows:
            if time.time() - created > self._transaction_timeout:
                try:
                    await self._resolve(txn)
                    done += 1
                except TransactionConflictException:
                    pass
        return done
