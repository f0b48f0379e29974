"""Write isolation and the read-modify-write loop shared by PutItem, UpdateItem and DeleteItem.

A write is described by a pure step ``apply(old_item) -> new_item`` (None means "absent" on
either side). ``apply`` may raise ConditionalCheckFailedException, and may run more than once:
when a concurrent writer changes the item between our read and our conditional write, the loop
reads again and re-applies the step to the new current item. A write that does not depend on
the old item also says what it does without reading it (a :data:`BlindWrite`): replace the item,
delete it, or merge top-level attributes into it.

Which path a write takes depends on the table's write isolation policy (docs/write-isolation.md):

=====================  =============================  ====================================
policy                 write that needs the old item  write that does not
=====================  =============================  ====================================
always_use_lwt         versioned loop (LWT)           versioned loop (LWT)
only_rmw_uses_lwt      versioned loop (LWT)           plain write
forbid_rmw             rejected (ValidationException) plain write
unsafe_rmw             plain read, then plain write   plain write
=====================  =============================  ====================================

On a backend whose single writes are already isolated (SQLite) every read-modify-write takes
the versioned loop, whatever the policy; ``forbid_rmw`` still forbids.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass

from alternator.config import (
    WRITE_ISOLATION_TAG,
    Config,
    WriteIsolation,
    parse_write_isolation,
)
from alternator.errors import (
    ConditionalCheckFailedException,
    InternalServerError,
    ValidationException,
)
from alternator.schema import TableSchema
from alternator.storage import Storage
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
class Put:
    item: Item


@dataclass(frozen=True, slots=True)
class Delete:
    pass


@dataclass(frozen=True, slots=True)
class Merge:
    """Set and remove top-level attributes of the item, creating it if absent."""

    set_attributes: Item
    remove: tuple[str, ...]


BlindWrite = Put | Delete | Merge


@dataclass(frozen=True, slots=True)
class WriteResult:
    old: Item | None
    new: Item | None


def isolation_policy(table: TableSchema, config: Config) -> WriteIsolation:
    tagged = table.tag(WRITE_ISOLATION_TAG)
    if tagged is not None:
        policy = parse_write_isolation(tagged)
        if policy is not None:
            return policy
    return config.write_isolation or WriteIsolation.ONLY_RMW_USES_LWT


def plain_blind_writes(storage: Storage, config: Config, table: TableSchema) -> bool:
    """Whether writes that need no read go to storage as plain writes (all but always_use_lwt)."""
    return storage.always_isolated or \
        isolation_policy(table, config) is not WriteIsolation.ALWAYS_USE_LWT


async def write(
    storage: Storage,
    config: Config,
    table: TableSchema,
    key: Item,
    apply: Apply,
    blind: BlindWrite | None,
) -> WriteResult:
    """Perform one item write under the table's write isolation policy.

    ``blind`` is None when the write needs the old item (read-modify-write).
    """
    policy = isolation_policy(table, config)
    if blind is None:
        if policy is WriteIsolation.FORBID_RMW:
            raise ValidationException(FORBID_RMW_MESSAGE)
        if policy is WriteIsolation.UNSAFE_RMW and not storage.always_isolated:
            old = await storage.get_item(table, key, consistent=True)
            new = apply(old)
            if new is None:
                await storage.delete_item(table, key)
            else:
                await storage.put_item(table, new)
            return WriteResult(old, new)
        return await _versioned_loop(storage, table, key, apply)
    if not plain_blind_writes(storage, config, table):
        return await _versioned_loop(storage, table, key, apply)
    match blind:
        case Put(item):
            await storage.put_item(table, item)
        case Delete():
            await storage.delete_item(table, key)
        case Merge(set_attributes, remove):
            await storage.merge_item(table, key, set_attributes, remove)
    return WriteResult(None, None)


async def _versioned_loop(
    storage: Storage, table: TableSchema, key: Item, apply: Apply
) -> WriteResult:
    # The first read is an ordinary quorum read: the conditional write that follows succeeds
    # only if the version it read is still current, so a stale read cannot slip through. An
    # outcome that ends without a conditional write (a failed condition, deleting an absent
    # item) is confirmed on a serial (Paxos) read first, and so is every retry.
    serial = False
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
        if await storage.write_if(table, key, version, new):
            return WriteResult(old, new)
        # Lost a race: back off a little (more each time) and re-apply to the new item.
        serial = True
        await asyncio.sleep(random.uniform(0, 0.001 * min(attempt + 1, 20)))
    raise InternalServerError("Too much contention on this item; the write was not applied")
