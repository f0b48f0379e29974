"""A small expiring cache whose misses are loaded once, however many requests wait for them.

When an entry expires under load, every request needing it would otherwise reload it at the
same time; here the first starts the load and the others await the same result.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ExpiringCache(Generic[K, V]):
    def __init__(self, validity: float, max_entries: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._validity = validity
        self._max_entries = max_entries
        self._clock = clock
        self._entries: dict[K, tuple[float, V]] = {}
        self._loading: dict[K, asyncio.Future[V]] = {}
        self.hits = 0  # lookups answered from the cache (for the metrics)
        self.misses = 0

    async def get(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        entry = self._entries.get(key)
        if entry is not None and self._clock() - entry[0] < self._validity:
            self.hits += 1
            return entry[1]
        self.misses += 1
        pending = self._loading.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        try:
            value = await load()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters get it, nobody else need
            raise
        finally:
            self._loading.pop(key, None)
        if len(self._entries) >= self._max_entries:
            self._entries.clear()
        self._entries[key] = (self._clock(), value)
        future.set_result(value)
        return value

    def invalidate(self, key: K) -> None:
        self._entries.pop(key, None)
