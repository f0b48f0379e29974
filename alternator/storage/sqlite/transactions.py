"""The embedded backend's transactions: each is one SQLite transaction (docs/transactions.md).

Under ``BEGIN IMMEDIATE`` the database's write lock is held from the first read to the commit,
so a transaction's reads, conditions and writes are isolated from every other write of every
server process sharing the file, and its writes (with their derived rows and stream records)
commit together or not at all.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import orjson

from alternator.schema import TableSchema
from alternator.storage import UNCONDITIONAL, ItemWrite, TxAction, TxCancel, run_plan
from alternator.storage.sqlite.items import SQLiteItems, locate
from alternator.values import Item


class SQLiteTransactions(SQLiteItems):
    async def transact(self, actions: Sequence[TxAction]) -> list[TxCancel | None] | None:
        return await self._run(self._transact, actions)

    def _transact(self, actions: Sequence[TxAction]) -> list[TxCancel | None] | None:
        with self.transaction() as db:
            writes: list[tuple[TableSchema, ItemWrite]] = []
            reasons: list[TxCancel | None] = []
            for action in actions:
                write, cancel = run_plan(action, self._read(locate(action.table, action.key))[0])
                reasons.append(cancel)
                if write is not None:
                    writes.append((action.table, write))
            if any(reasons):
                return reasons  # nothing written: the transaction commits empty
            for table, w in writes:
                data = orjson.dumps(w.new) if isinstance(w.new, dict) else w.new
                self._apply(db, (locate(table, w.key), data, UNCONDITIONAL, w.derived, w.key,
                                 w.stream))
        return None

    async def remember(self, name: str, value: bytes, seconds: float,
                       replace: bool = False) -> bytes | None:
        return await self._run(self._remember, name, value, seconds, replace)

    def _remember(self, name: str, value: bytes, seconds: float, replace: bool) -> bytes | None:
        now = time.time()
        with self.transaction() as db:
            db.execute("DELETE FROM memories WHERE expires < ?", (now,))
            if not replace:
                row = db.execute("SELECT value FROM memories WHERE name = ?", (name,)).fetchone()
                if row is not None:
                    return bytes(row[0])
            db.execute("INSERT OR REPLACE INTO memories VALUES (?, ?, ?)",
                       (name, value, now + seconds))
        return None

    async def forget(self, name: str) -> None:
        await self._run(self._forget, name)

    def _forget(self, name: str) -> None:
        self.db.execute("DELETE FROM memories WHERE name = ?", (name,))

    async def read_together(self, reads: Sequence[tuple[TableSchema, Item]]
                            ) -> list[Item | None] | None:
        return await self._run(self._read_together, reads)

    def _read_together(self, reads: Sequence[tuple[TableSchema, Item]]) -> list[Item | None]:
        db = self.db
        db.execute("BEGIN")  # one snapshot for every read
        try:
            return [self._read(locate(table, key))[0] for table, key in reads]
        finally:
            db.execute("COMMIT")
