"""Intents: how a write's derived rows survive the crash of the server process writing them.

Before an item write that changes derived rows, its server process records an *intent* (the
table, the item's key, the derived rows the item had before) in ``alternator.intents``, in a
partition of its own per :data:`EPOCH_SECONDS` (``(owner, epoch)``). Derived rows are a function
of the item's state (alternator/derived.py), so completing an intent needs no more than that:
read the item as it is now, delete the recorded rows it no longer has, write the rows it has,
at its version's timestamp (items.py: ``complete``). That is right whether the interrupted
write took effect or not, and whatever happened to the item since.

A process deletes its own epochs once every intent in them has finished, and completes those
where a derived write failed. Each process heartbeats in ``alternator.intent_owners``; the
epochs of a process whose heartbeat stopped are completed by whichever process claims them
first (an LWT on the heartbeat), and then deleted. Nothing is deleted row by row, so no
partition fills with tombstones.
"""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from dataclasses import dataclass
from datetime import UTC

import orjson

from alternator.schema import TableSchema
from alternator.storage import DerivedRow
from alternator.storage.cassandra.session import META_KEYSPACE, log
from alternator.storage.cassandra.tables import CassandraTables
from alternator.values import Item

EPOCH_SECONDS = 10
HEARTBEAT_SECONDS = 2.0
# A process whose heartbeat is this old is taken for dead and its intents completed.
DEAD_AFTER_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Intent:
    epoch: int
    id: uuid.UUID


def _epoch(at: float) -> int:
    return int(at // EPOCH_SECONDS)


def _encode_rows(rows: tuple[DerivedRow, ...]) -> bytes:
    return orjson.dumps([[r.space, base64.b64encode(r.partition).decode(),
                          base64.b64encode(r.sort).decode()] for r in rows])


def _decode_rows(data: bytes) -> tuple[DerivedRow, ...]:
    return tuple(DerivedRow(space, base64.b64decode(p), base64.b64decode(s), None)
                 for space, p, s in orjson.loads(data))


class CassandraIntents(CassandraTables):
    _owner: uuid.UUID
    _open: dict[int, int]  # epoch -> intents not yet finished
    _dirty: set[int]  # epochs with an intent whose derived rows failed
    _first_epoch: int  # the oldest epoch of ours that may still hold intents

    async def _opened(self) -> None:
        await super()._opened()
        self._owner = uuid.uuid4()
        self._open = {}
        self._dirty = set()
        execute = self._session.execute
        await self.run_blocking(
            execute, f"CREATE TABLE IF NOT EXISTS {META_KEYSPACE}.intents (owner uuid, "
            "epoch bigint, id timeuuid, table_name text, table_id text, item_key blob, "
            "stale blob, PRIMARY KEY ((owner, epoch), id))")
        await self.run_blocking(
            execute, f"CREATE TABLE IF NOT EXISTS {META_KEYSPACE}.intent_owners (owner uuid "
            "PRIMARY KEY, heartbeat timestamp, first_epoch bigint)")
        self._first_epoch = _epoch(time.time())
        await self._heartbeat()
        self.background(self._sweeper)

    async def _intent_statement(self, name: str) -> object:
        cql = {
            "record": f"INSERT INTO {META_KEYSPACE}.intents (owner, epoch, id, table_name, "
                      "table_id, item_key, stale) VALUES (?, ?, ?, ?, ?, ?, ?)",
            "read": f"SELECT table_name, table_id, item_key, stale FROM {META_KEYSPACE}.intents "
                    "WHERE owner = ? AND epoch = ?",
            "drop": f"DELETE FROM {META_KEYSPACE}.intents WHERE owner = ? AND epoch = ?",
            "heartbeat": f"INSERT INTO {META_KEYSPACE}.intent_owners (owner, heartbeat, "
                         "first_epoch) VALUES (?, ?, ?)",
            "owners": f"SELECT owner, heartbeat, first_epoch FROM {META_KEYSPACE}.intent_owners",
            "claim": f"UPDATE {META_KEYSPACE}.intent_owners SET heartbeat = ? WHERE owner = ? "
                     "IF heartbeat = ?",
            "forget": f"DELETE FROM {META_KEYSPACE}.intent_owners WHERE owner = ?",
        }[name]
        return await self.prepared("intents." + name, cql)

    # --- the writer's side ----------------------------------------------------------------------

    async def record_intent(self, table: TableSchema, key: Item,
                            stale: tuple[DerivedRow, ...]) -> Intent:
        now = time.time()
        intent = Intent(_epoch(now), uuid.uuid1())
        self._open[intent.epoch] = self._open.get(intent.epoch, 0) + 1
        try:
            await self.execute(await self._intent_statement("record"), (
                self._owner, intent.epoch, intent.id, table.name, table.table_id,
                orjson.dumps(key), _encode_rows(stale)))
        except BaseException:
            self.intent_done(intent)
            raise
        return intent

    def intent_done(self, intent: Intent) -> None:
        self._open[intent.epoch] -= 1

    def intent_failed(self, intent: Intent) -> None:
        self._dirty.add(intent.epoch)
        self.intent_done(intent)

    async def complete(self, table: TableSchema, key: Item,
                       stale: tuple[DerivedRow, ...]) -> None:
        raise NotImplementedError  # items.py

    async def _closing(self) -> None:
        """On a clean stop, leave nothing for others to complete: finish our epochs (the
        current one too) and leave the owners' table."""
        await super()._closing()
        if self._session is not None:
            try:
                await self._finish_own_epochs(until=_epoch(time.time()) + 1)
                if not self._open:
                    await self.execute(await self._intent_statement("forget"), (self._owner,))
            except Exception as exc:  # the sweep of another process will see to it
                log.warning("could not finish this process's intents: %r", exc)

    # --- the sweeper ------------------------------------------------------------------------------

    async def _sweeper(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                await self._heartbeat()
                await self._finish_own_epochs()
                await self.recover()
            except Exception as exc:  # the database may be down for a while: try again later
                log.warning("intent sweep failed: %r", exc)

    async def _heartbeat(self) -> None:
        await self.execute(await self._intent_statement("heartbeat"),
                           (self._owner, _now_ms(), self._first_epoch))

    async def _finish_own_epochs(self, until: int | None = None) -> None:
        """Delete our epochs before ``until`` (default: the current one) once their writes are
        done, completing those where a derived write failed."""
        current = _epoch(time.time()) if until is None else until
        for epoch in sorted(e for e in self._open if e < current):
            if self._open[epoch] > 0:
                break  # writes of that epoch still running
            if epoch in self._dirty:
                await self._complete_epoch(self._owner, epoch)
                self._dirty.discard(epoch)
            await self.execute(await self._intent_statement("drop"), (self._owner, epoch))
            del self._open[epoch]
            self._first_epoch = epoch + 1

    async def recover(self) -> int:
        """Complete the intents of server processes whose heartbeat stopped; how many."""
        done = 0
        rows = (await self.execute(await self._intent_statement("owners"))).current_rows
        for owner, heartbeat, first_epoch in rows:
            if owner == self._owner or heartbeat is None:
                continue
            seen = heartbeat.replace(tzinfo=UTC).timestamp()  # the driver's naive UTC
            if time.time() - seen < DEAD_AFTER_SECONDS:
                continue
            claim = await self.execute(await self._intent_statement("claim"),
                                       (_now_ms(), owner, heartbeat))
            if not claim.was_applied:
                continue  # another process took it over
            log.warning("completing the writes of server process %s, gone since %.0f",
                        owner, seen)
            for epoch in range(first_epoch or _epoch(seen), _epoch(seen) + 2):
                done += await self._complete_epoch(owner, epoch)
                await self.execute(await self._intent_statement("drop"), (owner, epoch))
            await self.execute(await self._intent_statement("forget"), (owner,))
        return done

    async def _complete_epoch(self, owner: uuid.UUID, epoch: int) -> int:
        statement = await self._intent_statement("read")
        result = await self.execute(statement, (owner, epoch))
        done = 0
        while True:
            for table_name, table_id, key, stale in result.current_rows:
                table = await self.get_table(table_name)
                if table is not None and table.table_id == table_id:
                    await self.complete(table, orjson.loads(key), _decode_rows(stale))
                    done += 1
            if not result.has_more_pages:
                return done
            result = await self.execute(statement, (owner, epoch),
                                        paging_state=result.paging_state)


def _now_ms() -> int:
    """A CQL timestamp (milliseconds) for now."""
    return int(time.time() * 1000)
