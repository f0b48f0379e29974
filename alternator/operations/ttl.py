"""Time to Live: UpdateTimeToLive, DescribeTimeToLive, and the expiry service.

An item expires when its TTL attribute is a Number of epoch seconds in the past, but not more
than five years in the past (DynamoDB's rule: such a value is taken for a mistake, not for an
expiry). Until the service deletes it, an expired item is still returned, as in DynamoDB.

The service (:func:`expiry_loop`) scans every TTL-enabled table once per
``--alternator-ttl-period-in-seconds``, range by range, each range by the one server process
that claims its lease for that period (``Storage.claim``), and deletes each expired item through the write path
(``write_path.expire``): conditionally, on the item read in the same versioned loop, so an
update that extends the TTL meanwhile is never lost, and any derived rows follow. Memory is
bounded by a page of items; a pause between pages keeps it from starving requests.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from alternator import fields
from alternator.auth import permissions
from alternator.config import Config
from alternator.errors import ValidationException
from alternator.operations import write_path
from alternator.operations.context import RequestContext, change_schema, table_for
from alternator.schema import TableSchema
from alternator.storage import Storage
from alternator.values import Item

log = logging.getLogger(__name__)

FIVE_YEARS = 5 * 365 * 24 * 3600
PAGE = 100
PAUSE_BETWEEN_PAGES = 0.01
# Expired items of a page deleted at once (each an LWT on Cassandra): a bound on the load the
# service puts on the cluster besides the pause between pages.
CONCURRENT_DELETES = 8
# A range's lease lasts this long between renewals (at most one period).
LEASE_SECONDS = 30.0
# A pass divides a table into this many token ranges; in each period, one server process (the
# one that claims the range's lease for that period) scans each.
SEGMENTS = 16


def _not_null(member: str) -> ValidationException:
    return ValidationException(
        f"1 validation error detected: Value null at '{member}' failed to satisfy constraint: "
        "Member must not be null")


async def update_time_to_live(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    spec = fields.optional_map(req, "TimeToLiveSpecification")
    if spec is None:
        raise _not_null("timeToLiveSpecification")
    enabled = fields.optional_bool(spec, "Enabled")
    name = fields.optional_str(spec, "AttributeName")
    if enabled is None:
        raise _not_null("timeToLiveSpecification.enabled")
    if name is None:
        raise _not_null("timeToLiveSpecification.attributeName")
    if not 1 <= len(name.encode()) <= 255:
        bound = "greater than or equal to 1" if not name else "less than or equal to 255"
        raise ValidationException(
            f"1 validation error detected: Value '{name[:300]}' at "
            "'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must "
            f"have length {bound}")
    table = await table_for(ctx, req, permissions.ALTER)
    current = table.ttl_attribute
    if enabled:
        if current is not None:
            raise ValidationException("TimeToLive is already enabled")
        table = replace(table, ttl_attribute=name)
    else:
        if current is None:
            raise ValidationException("TimeToLive is already disabled")
        if current != name:
            raise ValidationException(
                "TimeToLive is active on a different AttributeName: current AttributeName is "
                f"{current}")
        table = replace(table, ttl_attribute=None)
    attribute = table.ttl_attribute
    await change_schema(ctx.storage, table.name,
                        lambda current: replace(current, ttl_attribute=attribute))
    return {"TimeToLiveSpecification": {"Enabled": enabled, "AttributeName": name}}


async def describe_time_to_live(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    table = await table_for(ctx, req, None)
    if table.ttl_attribute is None:
        return {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}
    return {"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED",
                                      "AttributeName": table.ttl_attribute}}


def expired(item: Item | None, attribute: str, now: float) -> bool:
    """Whether DynamoDB's TTL would delete the item at ``now``."""
    if item is None:
        return False
    value = item.get(attribute)
    if value is None or "N" not in value:
        return False
    try:
        at = Decimal(value["N"])
    except InvalidOperation:
        return False
    return now - FIVE_YEARS <= at <= now


@dataclass(slots=True)
class ExpiryCounts:
    """Per table: items the service looked at and items it deleted (for metrics)."""

    scanned: dict[str, int] = field(default_factory=dict)
    expired: dict[str, int] = field(default_factory=dict)


async def expire_table(storage: Storage, config: Config, table: TableSchema,
                       counts: ExpiryCounts, now: float | None = None) -> int:
    """One pass over the ranges of a table still to do in the current period, each taken
    with a lease (so that one server process examines it): delete the items expired at
    ``now``; how many.

    A range's lease lasts :func:`lease_seconds` and is renewed while the range is scanned; a
    finished range keeps its lease for the rest of the period. A server that dies mid-range
    stops renewing, and the range goes to the next server process whose pass comes by
    (passes run every lease period)."""
    period = int((time.time() if now is None else now) // config.ttl_period)
    seconds = lease_seconds(config)
    deleted = 0
    for segment in range(SEGMENTS):
        lease = f"ttl:{table.table_id}:{segment}:{period}"
        holder = str(uuid.uuid4())
        if not await storage.claim(lease, seconds, holder):
            continue  # done this period, or another process is on it
        renew = partial(storage.claim, lease, seconds, holder)
        done, count = await _expire_range(storage, config, table, segment, counts, now,
                                          renew, seconds)
        deleted += count
        if done:
            await storage.claim(lease, 2 * config.ttl_period, holder)
    counts.expired[table.name] = counts.expired.get(table.name, 0) + deleted
    return deleted


def lease_seconds(config: Config) -> float:
    """How long a range's lease lasts between renewals (and how often passes run)."""
    return min(LEASE_SECONDS, config.ttl_period)


async def _expire_range(storage: Storage, config: Config, table: TableSchema, segment: int,
                        counts: ExpiryCounts, now: float | None,
                        renew: Callable[[], Awaitable[bool]],
                        seconds: float) -> tuple[bool, int]:
    """Delete a range's expired items; (whether the range was finished, how many). Stops if
    the lease could not be renewed (another process has taken the range over)."""
    attribute = table.ttl_attribute
    assert attribute is not None
    deleted = 0
    start: Item | None = None
    renewed = time.monotonic()
    while True:
        if time.monotonic() - renewed > seconds / 3:
            if not await renew():
                return False, deleted
            renewed = time.monotonic()
        page = await storage.scan(table, segment, SEGMENTS, PAGE, start, consistent=False)
        counts.scanned[table.name] = counts.scanned.get(table.name, 0) + len(page.items)
        at = time.time() if now is None else now
        keys = [{name: item[name] for name in table.key_names} for item in page.items
                if expired(item, attribute, at)]
        still = partial(expired, attribute=attribute, now=at)
        for first in range(0, len(keys), CONCURRENT_DELETES):
            done = await asyncio.gather(*(write_path.expire(storage, config, table, key, still)
                                          for key in keys[first:first + CONCURRENT_DELETES]))
            deleted += sum(done)
        if page.last_key is None:
            return True, deleted
        start = page.last_key
        await asyncio.sleep(PAUSE_BETWEEN_PAGES)


async def expiry_loop(storage: Storage, config: Config, counts: ExpiryCounts) -> None:
    """Passes over every TTL-enabled table, every lease period (runs for the server's
    lifetime); each pass does the ranges of the current period nobody has done or holds."""
    while True:
        await asyncio.sleep(lease_seconds(config))
        try:
            for name in await storage.list_tables():
                table = await storage.get_table(name)
                if table is not None and table.ttl_attribute is not None:
                    await expire_table(storage, config, table, counts)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database may be down: the next period tries again
            log.warning("expiry pass failed: %r", exc)
