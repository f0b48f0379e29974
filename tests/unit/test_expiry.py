"""The expiry rule and an expiry racing an update that extends the TTL (operations/ttl.py)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from alternator.config import Config, WriteIsolation
from alternator.operations import ttl
from alternator.values import Item

from test_write_loop import KEY, TABLE, MemoryStorage

NOW = 1_800_000_000.0


@pytest.fixture(autouse=True)
def one_range(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ttl, "SEGMENTS", 1)


async def _always(name: str, seconds: float, holder: str | None = None) -> bool:
    return True


def test_the_expiry_rule() -> None:
    def item(value: dict[str, str]) -> Item:
        return {**KEY, "e": value}

    assert ttl.expired(item({"N": str(NOW - 1)}), "e", NOW)
    assert ttl.expired(item({"N": str(NOW)}), "e", NOW)
    assert not ttl.expired(item({"N": str(NOW + 1)}), "e", NOW)
    assert not ttl.expired(item({"N": str(NOW - ttl.FIVE_YEARS - 1)}), "e", NOW)
    assert not ttl.expired(item({"S": str(NOW - 1)}), "e", NOW)
    assert not ttl.expired({**KEY}, "e", NOW)
    assert not ttl.expired(None, "e", NOW)


class ExtendingStorage(MemoryStorage):
    """A client extends the item's TTL between the service's scan and its delete."""

    claim = staticmethod(_always)

    async def scan(self, *args: object, **kwargs: object) -> object:
        from alternator.storage import Page

        page = Page([dict(self.item)] if self.item else [], None)
        self._set({**KEY, "e": {"N": str(NOW + 3600)}})
        return page


def test_an_update_extending_the_ttl_wins_over_the_expiry() -> None:
    for policy in WriteIsolation:
        storage = ExtendingStorage()
        storage.item = {**KEY, "e": {"N": str(NOW - 10)}}
        table = replace(TABLE, ttl_attribute="e")
        counts = ttl.ExpiryCounts()
        deleted = asyncio.run(ttl.expire_table(storage, Config(write_isolation=policy),  # type: ignore[arg-type]
                                               table, counts, now=NOW))
        assert deleted == 0, policy
        assert storage.item == {**KEY, "e": {"N": str(NOW + 3600)}}
        assert counts.scanned == {"t": 1} and counts.expired == {"t": 0}


def test_an_expired_item_is_deleted_once() -> None:
    storage = MemoryStorage()
    storage.item = {**KEY, "e": {"N": str(NOW - 10)}}

    async def scan(*args: object, **kwargs: object) -> object:
        from alternator.storage import Page

        return Page([dict(storage.item)] if storage.item else [], None)

    storage.scan = scan  # type: ignore[attr-defined]
    storage.claim = _always  # type: ignore[attr-defined]
    table = replace(TABLE, ttl_attribute="e")
    deleted = asyncio.run(ttl.expire_table(storage, Config(), table,  # type: ignore[arg-type]
                                           ttl.ExpiryCounts(), now=NOW))
    assert deleted == 1 and storage.item is None
