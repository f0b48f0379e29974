"""The read-modify-write loop of operations/write_path.py, against an in-memory storage."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace

import pytest

from alternator.config import Config, WriteIsolation
from alternator.errors import ConditionalCheckFailedException, InternalServerError
from alternator.operations import write_path
from alternator.schema import KeyAttribute, TableSchema
from alternator.storage import UNCONDITIONAL, ItemWrite, Merge, Version
from alternator.values import Item

TABLE = TableSchema(name="t", partition_key=KeyAttribute("p", "S"), sort_key=None,
                    attribute_definitions=(KeyAttribute("p", "S"),), table_id="id",
                    created_at=0.0)
KEY: Item = {"p": {"S": "k"}}


class MemoryStorage:
    """Items with versions; ``interfere`` changes the item before the next conditional writes."""

    always_isolated = False

    def __init__(self) -> None:
        self.item: Item | None = None
        self.version = 0
        self.reads: list[bool] = []  # serial flag of each versioned read
        self.writes: list[ItemWrite] = []
        self.interfere = 0

    async def get_item(self, table: TableSchema, key: Item, consistent: bool) -> Item | None:
        return self.item

    async def read_versioned(self, table: TableSchema, key: Item,
                             serial: bool) -> tuple[Item | None, Version]:
        self.reads.append(serial)
        return self.item, (str(self.version) if self.item is not None else None)

    async def write(self, table: TableSchema, writes: Sequence[ItemWrite]) -> list[bool]:
        out = []
        for w in writes:
            self.writes.append(w)
            if w.expected is not UNCONDITIONAL:
                if self.interfere:
                    self.interfere -= 1
                    self._set({**KEY, "n": {"N": str(100 + self.interfere)}})
                current = str(self.version) if self.item is not None else None
                if w.expected != current:
                    out.append(False)
                    continue
            assert not isinstance(w.new, Merge)
            self._set(w.new)
            out.append(True)
        return out

    def _set(self, item: Item | None) -> None:
        self.item = item
        self.version += 1


def run(storage: MemoryStorage, policy: WriteIsolation, apply: write_path.Apply,
        blind: write_path.Blind | None, table: TableSchema = TABLE,
        hooks: bool = False) -> write_path.WriteResult:
    config = Config(write_isolation=policy, test_hooks=hooks)
    return asyncio.run(write_path.commit(storage, config, table, KEY, apply, blind))  # type: ignore[arg-type]


def increment(old: Item | None) -> Item:
    n = int(old["n"]["N"]) if old else 0
    return {**KEY, "n": {"N": str(n + 1)}}


def test_a_lost_race_is_retried_on_a_serial_read_of_the_new_item() -> None:
    storage = MemoryStorage()
    storage.item = {**KEY, "n": {"N": "1"}}
    storage.interfere = 1
    result = run(storage, WriteIsolation.ONLY_RMW_USES_LWT, increment, None)
    assert storage.reads == [False, True]  # quorum first, serial after losing
    assert result.new == {**KEY, "n": {"N": "101"}}  # re-applied to what the rival wrote
    assert storage.item == result.new


def test_endless_contention_gives_up_with_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(write_path, "MAX_ATTEMPTS", 5)
    storage = MemoryStorage()
    storage.interfere = 1000
    with pytest.raises(InternalServerError):
        run(storage, WriteIsolation.ALWAYS_USE_LWT, increment, None)
    assert len(storage.reads) == 5


def test_a_failed_condition_is_confirmed_on_a_serial_read() -> None:
    storage = MemoryStorage()
    storage.item = {**KEY}

    def refuse(old: Item | None) -> Item | None:
        raise ConditionalCheckFailedException()

    with pytest.raises(ConditionalCheckFailedException):
        run(storage, WriteIsolation.ONLY_RMW_USES_LWT, refuse, None)
    assert storage.reads == [False, True]
    assert storage.writes == []


def test_only_rmw_uses_lwt_writes_blind_writes_plainly() -> None:
    storage = MemoryStorage()
    item = {**KEY, "a": {"S": "x"}}
    result = run(storage, WriteIsolation.ONLY_RMW_USES_LWT, lambda _: item,
                 write_path.Blind(item))
    assert storage.reads == []
    assert [w.expected for w in storage.writes] == [UNCONDITIONAL]
    assert result.old is write_path.NOT_READ


def test_always_use_lwt_writes_blind_writes_conditionally() -> None:
    storage = MemoryStorage()
    item = {**KEY, "a": {"S": "x"}}
    run(storage, WriteIsolation.ALWAYS_USE_LWT, lambda _: item, write_path.Blind(item))
    assert storage.reads == [False]
    assert [w.expected for w in storage.writes] == [None]  # "still absent"


def test_forbid_rmw_refuses_a_write_that_reads() -> None:
    storage = MemoryStorage()
    with pytest.raises(Exception, match="forbid_rmw"):
        run(storage, WriteIsolation.FORBID_RMW, increment, None)
    assert storage.reads == [] and storage.writes == []


@pytest.mark.parametrize("policy", list(WriteIsolation))
def test_a_table_with_derived_rows_reads_before_a_blind_write(policy: WriteIsolation) -> None:
    storage = MemoryStorage()
    storage.item = {**KEY, "s": {"S": "old"}}
    table = replace(TABLE, tags=(("test:shadow", "s"),))
    item: Item = {**KEY, "s": {"S": "new"}}
    result = run(storage, policy, lambda _: item, write_path.Blind(item), table, hooks=True)
    assert result.old == {**KEY, "s": {"S": "old"}}
    (write,) = storage.writes
    assert [r.value for r in write.derived.stale] == [None]  # the row under "old" goes
    assert len(write.derived.rows) == 1  # the row under "new" comes


def test_deleting_an_absent_item_writes_nothing() -> None:
    storage = MemoryStorage()
    result = run(storage, WriteIsolation.ALWAYS_USE_LWT, lambda _: None, write_path.Blind(None))
    assert result.old is None and result.new is None
    assert storage.writes == []



