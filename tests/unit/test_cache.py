"""ExpiringCache: expiry, invalidation, and one load for many concurrent misses."""

from __future__ import annotations

import asyncio

import pytest

from alternator.cache import ExpiringCache


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_loads_once_then_serves_until_expiry() -> None:
    clock = Clock()
    cache: ExpiringCache[str, int] = ExpiringCache(1.0, clock=clock)
    loads = 0

    async def load() -> int:
        nonlocal loads
        loads += 1
        return loads

    assert await cache.get("k", load) == 1
    clock.now = 0.9
    assert await cache.get("k", load) == 1
    clock.now = 1.0
    assert await cache.get("k", load) == 2
    cache.invalidate("k")
    assert await cache.get("k", load) == 3


async def test_concurrent_misses_share_one_load() -> None:
    cache: ExpiringCache[str, str] = ExpiringCache(10.0)
    started = 0
    release = asyncio.Event()

    async def load() -> str:
        nonlocal started
        started += 1
        await release.wait()
        return "value"

    waiters = [asyncio.create_task(cache.get("k", load)) for _ in range(50)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*waiters) == ["value"] * 50
    assert started == 1


async def test_a_failed_load_is_not_cached() -> None:
    cache: ExpiringCache[str, str] = ExpiringCache(10.0)
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database down")
        return "ok"

    with pytest.raises(RuntimeError):
        await cache.get("k", flaky)
    assert await cache.get("k", flaky) == "ok"
