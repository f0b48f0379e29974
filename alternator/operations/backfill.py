"""Online index creation: the backfill of a global secondary index or a vector index that
UpdateTable adds to a table that already holds items.

UpdateTable stores the table's schema with the new index in status ``CREATING``; from then on
every write maintains the index (the write path derives its entries). The backfill then gives
every item already there its entry:

1. One server process does it: the one that takes the lease ``backfill:<index id>``
   (``Storage.claim``), renewing it after each range; the others skip it while the lease lasts.
2. It first waits :data:`SETTLE_SECONDS`, longer than any server process keeps a cached schema,
   so that no write still in flight was planned without the index.
3. It reads the table in :data:`SEGMENTS` token ranges, page by page, and has storage put each
   item's entry *as the item is now* (``Storage.backfill``: read again and written at the
   item's version, so a concurrent write is never undone). After each range it records the
   range done in the index's schema (``backfilled``), so a restarted or another process resumes
   there.
4. When every range is done the index becomes ``ACTIVE``.

Every server process sweeps the tables for indexes still ``CREATING`` when it starts, every
``backfill_period`` seconds, and at once when it served an UpdateTable that created one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from functools import partial

from alternator.config import Config
from alternator.derived import index_rows, vector_rows
from alternator.operations.context import change_schema
from alternator.schema import IndexSchema, TableSchema, VectorIndexSchema
from alternator.storage import DerivedRow, Storage
from alternator.values import Item

AnyIndex = IndexSchema | VectorIndexSchema

log = logging.getLogger(__name__)

SEGMENTS = 16
PAGE = 256
LEASE_SECONDS = 60.0
# Longer than a server process trusts a cached schema (the backends' SCHEMA_CACHE_SECONDS).
SETTLE_SECONDS = 4.0


def _with_index(schema: TableSchema, index_id: str,
                change: Callable[[AnyIndex], AnyIndex]) -> TableSchema | None:
    """The schema with one index changed, None when that index is no longer being created."""
    for i, index in enumerate(schema.indexes):
        if index.id == index_id and index.status == "CREATING":
            changed = change(index)
            assert isinstance(changed, IndexSchema)
            indexes = list(schema.indexes)
            indexes[i] = changed
            return replace(schema, indexes=tuple(indexes))
    for i, vector_index in enumerate(schema.vector_indexes):
        if vector_index.id == index_id and vector_index.status == "CREATING":
            changed_vector = change(vector_index)
            assert isinstance(changed_vector, VectorIndexSchema)
            vector_indexes = list(schema.vector_indexes)
            vector_indexes[i] = changed_vector
            return replace(schema, vector_indexes=tuple(vector_indexes))
    return None


def _segment_done(segment: int, index: AnyIndex) -> AnyIndex:
    return replace(index, backfilled=max(index.backfilled, segment + 1))


def _activated(index: AnyIndex) -> AnyIndex:
    return replace(index, status="ACTIVE")


def _indexes_of(table: TableSchema | None) -> tuple[AnyIndex, ...]:
    return () if table is None else (*table.indexes, *table.vector_indexes)


class Backfills:
    """The backfill service of one server process."""

    def __init__(self, storage: Storage, config: Config) -> None:
        self._storage = storage
        self._config = config
        self._wake = asyncio.Event()
        self._running: dict[str, asyncio.Task[None]] = {}
        self.items_done = 0

    def wake(self) -> None:
        """Look for indexes to backfill now (an UpdateTable created one)."""
        self._wake.set()

    async def run(self) -> None:
        try:
            while True:
                try:
                    await self._sweep()
                except Exception:
                    log.warning("index backfill sweep failed", exc_info=True)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._config.backfill_period)
                self._wake.clear()
        finally:
            for task in self._running.values():
                task.cancel()

    async def _sweep(self) -> None:
        for name in await self._storage.list_tables():
            table = await self._storage.get_table(name)
            for index in _indexes_of(table):
                if index.status == "CREATING" and index.id not in self._running:
                    self._running[index.id] = asyncio.get_running_loop().create_task(
                        self._backfill(name, index.id))

    async def _backfill(self, name: str, index_id: str) -> None:
        try:
            lease, holder = f"backfill:{index_id}", str(uuid.uuid4())
            if not await self._storage.claim(lease, LEASE_SECONDS, holder):
                return  # another server process is on it
            held_since = time.monotonic()
            await asyncio.sleep(SETTLE_SECONDS)
            first = True
            while True:
                table = await self._storage.get_table(name)
                index = next((ix for ix in _indexes_of(table) if ix.id == index_id), None)
                if table is None or index is None or index.status != "CREATING":
                    return
                if index.backfilled >= SEGMENTS:
                    await change_schema(self._storage, name, partial(
                        _with_index, index_id=index_id, change=_activated))
                    log.info("index %s of %s is ACTIVE", index.name, name)
                    return
                segment = index.backfilled
                if first:
                    log.info("backfill of index %s of %s: starting at range %d of %d",
                             index.name, name, segment, SEGMENTS)
                    first = False
                await self._segment(table, index, segment)
                if time.monotonic() - held_since > LEASE_SECONDS / 3:
                    if not await self._storage.claim(lease, LEASE_SECONDS, holder):
                        return  # our lease ran out and another process took the work over
                    held_since = time.monotonic()
                await change_schema(self._storage, name, partial(
                    _with_index, index_id=index_id, change=partial(_segment_done, segment)))
                log.info("backfill of index %s of %s: range %d of %d done", index.name, name,
                         segment + 1, SEGMENTS)
        except Exception:
            log.warning("backfill of an index of %s failed; it resumes later", name,
                        exc_info=True)
        finally:
            self._running.pop(index_id, None)

    async def _segment(self, table: TableSchema, index: AnyIndex, segment: int) -> None:
        """Give every item of one token range its entry."""
        start = None
        rows: Callable[[Item], tuple[DerivedRow, ...]] = \
            partial(index_rows, table, index) if isinstance(index, IndexSchema) \
            else partial(vector_rows, table, index)
        while True:
            page = await self._storage.scan(table, segment, SEGMENTS, PAGE, start, True)
            keys = [{n: item[n] for n in table.key_names} for item in page.items]
            if keys:
                await self._storage.backfill(table, keys, rows)
                self.items_done += len(keys)
            if page.last_key is None:
                return
            start = page.last_key
