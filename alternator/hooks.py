"""Test-only hooks, installed only when ``config.test_hooks`` is set (``ALTERNATOR_TEST_HOOKS=1``,
never in production).

``ALTERNATOR_TEST_SLOW_STORAGE_MS``, read at every call: each storage ``get_item``, ``query``
and ``scan`` first sleeps that many milliseconds, so that tests can make an operation outlast
the request timeout or pile up concurrent requests (tests/test_request_limits.py).
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Awaitable, Callable
from typing import Any

from alternator.storage import Storage

SLOW_STORAGE = "ALTERNATOR_TEST_SLOW_STORAGE_MS"
_SLOWED = ("get_item", "query", "scan")


def install(storage: Storage) -> None:
    for name in _SLOWED:
        setattr(storage, name, _slowed(getattr(storage, name)))


def _slowed(call: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(call)
    async def slowed(*args: Any, **kwargs: Any) -> Any:
        delay = os.environ.get(SLOW_STORAGE)
        if delay:
            await asyncio.sleep(float(delay) / 1000.0)
        return await call(*args, **kwargs)

    return slowed
