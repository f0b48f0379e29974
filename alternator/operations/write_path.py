"""The write path: every change to an item, from every operation, passes through :func:`commit`.

A write is described by a pure step ``apply(old_item) -> new_item`` (None means "absent" on
either side). ``apply`` may raise ConditionalCheckFailedException, and may run more than once:
when a concurrent writer changes the item between our read and our conditional write, the loop
reads again and re-applies the step to the new current item. A write that does not depend on
the old item also says what it does without reading it (a :class:`Blind` write): replace the
item, delete it, or merge top-level attributes into it.

Here, and only here, a write becomes a :class:`~alternator.storage.ItemWrite` for the backend,
with the derived rows (index entries) that follow from its old and new item
(``alternator/derived.py``). A table without derived rows keeps blind writes blind: one plain
write, no read. A table with them needs the old item, so every write reads it first.

Which path a write takes depends on the table's write isolation policy (docs/write-isolation.md):

=====================  =============================  ====================================
policy                 write that needs the old item  write that does not
=====================  =============================  ====================================
always_use_lwt         versioned loop (LWT)           versioned loop (LWT)
only_rmw_uses_lwt      versioned loop (LWT)           plain write (derived rows: loop)
forbid_rmw             rejected (ValidationException) plain write (derived rows: loop)
unsafe_rmw             plain read, then plain write   plain write (derived rows: read first)
=====================  =============================  ====================================

On a backend whose single writes are already isolated (SQLite) every read-modify-write takes
the versioned loop, whatever the policy; ``forbid_rmw`` still forbids. docs/write-path.md says
what each path guarantees for derived rows.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial

from alternator import indexes, vector_indexes
from alternator.config import (
    WRITE_ISOLATION_TAG,
    Config,
    WriteIsolation,
    parse_write_isolation,
)
from alternator.derived import change, has_derived
from alternator.errors import (
    ConditionalCheckFailedException,
    InternalServerError,
    ValidationException,
)
from alternator.expressions.ast import And, Call, Condition, Path
from alternator.metrics import usage
from alternator.schema import TableSchema
from alternator.storage import UNCONDITIONAL, ItemWrite, Merge, Storage
from alternator.streams.records import put_of
from alternator.values import Item

Apply = Callable[[Item | None], Item | None]

# How many times a contended conditional write is retried before giving up.
MAX_ATTEMPTS = 200

FORBID_RMW_MESSAGE = (
    "Read-modify-write operations are disabled by 'forbid_rmw' write isolation policy. Refer to "
    "https://github.com/scylladb/scylla/blob/master/docs/alternator/alternator.md#write-isolation-"
    "policies for more information."
)


@dataclass(frozen=True, slots=True)
class Blind:
    """What a write does when it needs no read: replace the item, merge into it, delete it."""

    new: Item | Merge | None


@dataclass(frozen=True, slots=True)
class Guard:
    """A write whose condition only says whether the item exists (``exists``) and whose change
    (``new``: replace, merge, delete) needs no read: one round trip where the backend can
    (docs/write-path.md)."""

    exists: bool
    new: Item | Merge | None


class NotRead:
    """The old item of a write that never read it."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NOT_READ"


NOT_READ = NotRead()


@dataclass(frozen=True, slots=True)
class WriteResult:
    old: Item | NotRead | None
    new: Item | NotRead | None

    @property
    def old_item(self) -> Item | None:
        return None if isinstance(self.old, NotRead) else self.old

    @property
    def new_item(self) -> Item | None:
        return None if isinstance(self.new, NotRead) else self.new


BLIND_RESULT = WriteResult(NOT_READ, NOT_READ)


def isolation_policy(table: TableSchema, config: Config) -> WriteIsolation:
    tagged = table.tag(WRITE_ISOLATION_TAG)
    if tagged is not None:
        policy = parse_write_isolation(tagged)
        if policy is not None:
            return policy
    return config.write_isolation or WriteIsolation.ONLY_RMW_USES_LWT


def needs_old_item(table: TableSchema, test_hooks: bool) -> bool:
    """Whether every write to the table must know the item it replaces: for its derived rows
    (index entries) or its stream record (docs/streams.md)."""
    return table.stream is not None or has_derived(table, test_hooks)


def plain_blind_writes(storage: Storage, config: Config, table: TableSchema) -> bool:
    """Whether writes that need no read go to storage as they are, unread: all policies but
    always_use_lwt, on a table without derived rows or stream."""
    if needs_old_item(table, config.test_hooks):
        return False
    return storage.always_isolated or \
        isolation_policy(table, config) is not WriteIsolation.ALWAYS_USE_LWT


async def commit(
    storage: Storage,
    config: Config,
    table: TableSchema,
    key: Item,
    apply: Apply,
    blind: Blind | None,
    guard: Guard | None = None,
) -> WriteResult:
    """Perform one item write under the table's write isolation policy.

    ``blind`` is None when the write needs the old item (read-modify-write); ``guard``, when
    given, is the same read-modify-write as a write conditional only on existence.
    """
    policy = isolation_policy(table, config)
    if blind is None and policy is WriteIsolation.FORBID_RMW:
        raise ValidationException(FORBID_RMW_MESSAGE)
    if table.has_indexes:
        if blind is not None and isinstance(blind.new, dict):
            check_item(table, blind.new)
        apply = partial(_checked, table, apply)
    if blind is not None and plain_blind_writes(storage, config, table):
        await storage.write(table, [ItemWrite(key, blind.new)])
        return BLIND_RESULT
    if guard is not None and _guarded_path(storage, config, table, policy):
        guarded = await storage.write_guarded(table, key, guard.new, guard.exists)
        counted = usage.of(table.name)
        counted.writes_using_lwt += 1
        if guarded.applied is not None:
            counted.single_round_trip_writes += 1
        if guarded.applied:
            return BLIND_RESULT
        if guarded.applied is False:
            apply(guarded.old)  # raises the request's ConditionalCheckFailedException
        # Undecided (a lock, a row without a version), or the failed write saw an item that
        # meets the condition after all: the general path decides.
    return await _read_modify_write(storage, config, table, key, apply)


def _guarded_path(storage: Storage, config: Config, table: TableSchema,
                  policy: WriteIsolation) -> bool:
    """Whether a guarded write may take one round trip: on a backend whose writes are not
    isolated already, under an LWT policy, on a table whose writes need no old item."""
    return not storage.always_isolated and policy in (
        WriteIsolation.ALWAYS_USE_LWT, WriteIsolation.ONLY_RMW_USES_LWT) \
        and not needs_old_item(table, config.test_hooks)


def existence_guard(condition: Condition | None, table: TableSchema) -> bool | None:
    """True when a condition says only that the item exists (``attribute_exists`` of key
    attributes, joined by AND), False when it says only that it does not, else None."""
    match condition:
        case Call("attribute_exists" | "attribute_not_exists" as name, (Path() as path,)) \
                if len(path.elements) == 1 and path.elements[0] in table.key_names:
            return name == "attribute_exists"
        case And(parts):
            guards = {existence_guard(part, table) for part in parts}
            return guards.pop() if len(guards) == 1 else None
    return None


async def _read_modify_write(storage: Storage, config: Config, table: TableSchema, key: Item,
                             apply: Apply, service: bool = False) -> WriteResult:
    """The versioned loop, or under unsafe_rmw a plain read then a plain write. A table with
    derived rows (secondary indexes) or a stream always takes the versioned loop: two
    unsynchronised read-then-writes could each remove the entry the other did not see, leaving
    an index entry wrong forever, or record old images that never were, which unsafe_rmw's
    bargain (a lost update of the item) does not cover. ``service``: the write is the Time to
    Live service's (its stream record says so)."""
    hooks = config.test_hooks
    if isolation_policy(table, config) is WriteIsolation.UNSAFE_RMW \
            and not storage.always_isolated and not needs_old_item(table, hooks):
        usage.of(table.name).reads_before_write += 1
        old = await storage.get_item(table, key, consistent=True)
        new = apply(old)
        await storage.write(table, [ItemWrite(key, new)])
        return WriteResult(old, new)
    return await _versioned_loop(storage, table, key, apply, hooks, service)


async def expire(storage: Storage, config: Config, table: TableSchema, key: Item,
                 still_expired: Callable[[Item | None], bool]) -> bool:
    """A Time to Live deletion: delete the item only if, as read in the same versioned loop,
    it is still expired (an update extending its TTL meanwhile wins). Whatever the policy, as
    Scylla does for its expiry service; under unsafe_rmw, a plain read and delete."""

    def apply(old: Item | None) -> Item | None:
        if not still_expired(old):
            raise ConditionalCheckFailedException()
        return None

    try:
        result = await _read_modify_write(storage, config, table, key, apply, service=True)
    except ConditionalCheckFailedException:
        return False
    return result.old is not None


def batch_writes(storage: Storage, config: Config, table: TableSchema,
                 writes: Sequence[tuple[Item, Item | None]]) -> list[Callable[[], Awaitable[object]]]:
    """BatchWriteItem's puts (an item) and deletes (None) of one table, as calls to make: one
    call for them all when they go to storage as they are, else one :func:`commit` each."""
    if plain_blind_writes(storage, config, table):
        return [partial(storage.write, table, [ItemWrite(key, new) for key, new in writes])]
    for _, new in writes:  # a bad item refuses the whole batch, before anything is written
        if new is not None and table.has_indexes:
            check_item(table, new)
    return [partial(commit, storage, config, table, key, partial(_replace, new), Blind(new))
            for key, new in writes]


def transaction_plan(config: Config, table: TableSchema, key: Item, apply: Apply,
                     ) -> Callable[[Item | None], ItemWrite | None]:
    """A transaction's write action as the backend runs it (storage.TxAction): the write it
    makes to the item as it is, with the derived rows and stream record that follow, exactly
    as a single write's."""

    def plan(old: Item | None) -> ItemWrite | None:
        new = apply(old)
        if new is not None and table.has_indexes:
            check_item(table, new)
        return ItemWrite(key, new, UNCONDITIONAL, change(table, old, new, config.test_hooks),
                         put_of(table, old, new))

    return plan


def check_item(table: TableSchema, item: Item) -> None:
    """Refuse an item whose index attributes (secondary or vector) an index cannot hold."""
    if table.indexes:
        indexes.check_item(table, item)
    if table.vector_indexes:
        vector_indexes.check_item(table, item)


def _replace(new: Item | None, _old: Item | None) -> Item | None:
    return new


def _checked(table: TableSchema, apply: Apply, old: Item | None) -> Item | None:
    """``apply``, refusing a new item whose index keys have the wrong type or are empty."""
    new = apply(old)
    if new is not None:
        check_item(table, new)
    return new


async def _versioned_loop(
    storage: Storage, table: TableSchema, key: Item, apply: Apply, hooks: bool,
    service: bool = False,
) -> WriteResult:
    # The first read is an ordinary quorum read: the conditional write that follows succeeds
    # only if the version it read is still current, so a stale read cannot slip through. An
    # outcome that ends without a conditional write (a failed condition, deleting an absent
    # item) is confirmed on a serial (Paxos) read first, and so is every retry.
    serial = False
    counted = usage.of(table.name)
    counted.reads_before_write += 1
    for attempt in range(MAX_ATTEMPTS):
        old, version = await storage.read_versioned(table, key, serial)
        try:
            new = apply(old)
        except ConditionalCheckFailedException:
            if serial:
                raise
            serial = True
            continue
        if old is None and new is None:
            if serial:
                return WriteResult(None, None)  # deleting an absent item changes nothing
            serial = True
            continue
        write = ItemWrite(key, new, version, change(table, old, new, hooks),
                          put_of(table, old, new, service))
        counted.writes_using_lwt += 1
        if (await storage.write(table, [write]))[0]:
            if write.stream is not None:
                counted.stream_records += 1
            return WriteResult(old, new)
        # Lost a race: back off a little (more each time) and re-apply to the new item.
        counted.lwt_retries += 1
        serial = True
        await asyncio.sleep(random.uniform(0, 0.001 * min(attempt + 1, 20)))
    raise InternalServerError("Too much contention on this item; the write was not applied")
