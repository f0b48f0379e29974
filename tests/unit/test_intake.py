"""Reading bodies within budgets (alternator/intake.py), without a server."""

from __future__ import annotations

import asyncio

import pytest

from alternator.errors import RequestEntityTooLarge, RequestTimeout, ThrottlingException
from alternator.intake import Budget, ClientGone, Hold, read_body


class Chunks:
    def __init__(self, *chunks: bytes, delay: float = 0.0, fail: bool = False) -> None:
        self.chunks = list(chunks)
        self.delay = delay
        self.fail = fail

    async def readany(self) -> bytes:
        await asyncio.sleep(self.delay)
        if not self.chunks:
            if self.fail:
                raise ConnectionResetError("gone")
            return b""
        return self.chunks.pop(0)


async def test_body_is_counted_while_held_and_given_back() -> None:
    budget = Budget(total=10, per_client=6)
    hold = Hold(budget, "a")
    assert await read_body(Chunks(b"abc", b"de"), hold, 5, 100, 1.0) == b"abcde"
    assert budget.held == 5 and budget.client_count() == 1
    hold.release()
    hold.release()
    assert budget.held == 0 and budget.client_count() == 0


async def test_past_the_client_budget_is_throttled() -> None:
    budget = Budget(total=10, per_client=6)
    first = Hold(budget, "a")
    await read_body(Chunks(b"abcd"), first, None, 100, 1.0)
    with pytest.raises(ThrottlingException):
        await read_body(Chunks(b"efg"), Hold(budget, "a"), None, 100, 1.0)
    await read_body(Chunks(b"efg"), Hold(budget, "b"), None, 100, 1.0)  # another client


async def test_past_the_total_budget_is_throttled() -> None:
    budget = Budget(total=5, per_client=5)
    await read_body(Chunks(b"abc"), Hold(budget, "a"), None, 100, 1.0)
    with pytest.raises(ThrottlingException):
        await read_body(Chunks(b"def"), Hold(budget, "b"), None, 100, 1.0)


async def test_size_limit_declared_or_not() -> None:
    budget = Budget(100, 100)
    with pytest.raises(RequestEntityTooLarge):
        await read_body(Chunks(), Hold(budget, "a"), 11, 10, 1.0)
    with pytest.raises(RequestEntityTooLarge):
        await read_body(Chunks(b"x" * 6, b"y" * 6), Hold(budget, "a"), None, 10, 1.0)


async def test_slow_body_times_out() -> None:
    with pytest.raises(RequestTimeout):
        await read_body(Chunks(b"a", b"b", delay=0.2), Hold(Budget(9, 9), "a"), 2, 10, 0.3)


async def test_client_gone() -> None:
    with pytest.raises(ClientGone):
        await read_body(Chunks(b"a", fail=True), Hold(Budget(9, 9), "a"), 5, 10, 1.0)
