"""Reading request bodies within bounds: size, time, and bytes in flight.

A body is read only after the request's headers passed every check that needs no body (the
signing role exists, the operation is known), and then only chunk by chunk, each chunk counted
against two budgets before it is kept: the bytes in flight in this process and those from the
client's address. Past either the request is refused with ThrottlingException, which SDKs retry
after a back-off. Bytes are counted while they are held, that is until the request's answer is
sent, so the budgets bound the memory that bodies take however slowly they arrive
(tests/test_limits.py::test_slow_uploads_memory_is_bounded).

Pure asyncio: the body is anything with ``readany()``, as aiohttp's request stream has.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from alternator.errors import RequestEntityTooLarge, RequestTimeout, ThrottlingException

MSG_THROTTLED = "Rate of requests exceeds the allowed throughput."


class Body(Protocol):
    async def readany(self) -> bytes: ...


class ClientGone(Exception):
    """The client went away before its request was read: nobody to answer, nothing to log."""


class Budget:
    """Bytes held by requests being read or served: in total and per client address."""

    def __init__(self, total: int, per_client: int) -> None:
        self.total = total
        self.per_client = per_client
        self.held = 0
        self._by_client: dict[str, int] = {}

    def take(self, client: str, size: int) -> None:
        """Count ``size`` more bytes for ``client``, or raise ThrottlingException."""
        mine = self._by_client.get(client, 0)
        if self.held + size > self.total or mine + size > self.per_client:
            raise ThrottlingException(MSG_THROTTLED)
        self.held += size
        self._by_client[client] = mine + size

    def give_back(self, client: str, size: int) -> None:
        if size <= 0:
            return
        self.held -= size
        left = self._by_client.get(client, 0) - size
        if left > 0:
            self._by_client[client] = left
        else:
            self._by_client.pop(client, None)

    def client_count(self) -> int:
        return len(self._by_client)


class Hold:
    """One request's share of the budget, given back by :meth:`release` (idempotent)."""

    __slots__ = ("_budget", "_client", "size")

    def __init__(self, budget: Budget, client: str) -> None:
        self._budget = budget
        self._client = client
        self.size = 0

    def take(self, size: int) -> None:
        self._budget.take(self._client, size)
        self.size += size

    def release(self) -> None:
        self._budget.give_back(self._client, self.size)
        self.size = 0


async def read_body(body: Body, hold: Hold, declared: int | None, limit: int,
                    timeout: float) -> bytearray:
    """The whole body, at most ``limit`` bytes, arriving within ``timeout`` seconds."""
    too_large = RequestEntityTooLarge(f"Request size exceeds {limit} bytes")
    if declared is not None and declared > limit:
        raise too_large
    buffer = bytearray()  # grown in place: no second copy of the body at the end
    size = 0
    try:
        async with asyncio.timeout(timeout):
            while True:
                chunk = await body.readany()
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    raise too_large
                hold.take(len(chunk))
                buffer += chunk
    except TimeoutError:
        raise RequestTimeout(
            f"The request body did not arrive within {timeout:g} seconds") from None
    except (ConnectionError, EOFError) as exc:
        raise ClientGone() from exc
    return buffer
