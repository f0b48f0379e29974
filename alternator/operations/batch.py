"""BatchGetItem and BatchWriteItem.

A batch is validated whole before any storage access: a bad item, a missing table or a
duplicate key rejects the batch and nothing is read or written. The items are then read or
written concurrently (at most :data:`CONCURRENCY` at a time). A table's writes go to storage
together as plain writes, or, under ``always_use_lwt`` or with derived rows, each through
``write_path.commit`` as a blind write, exactly as a PutItem/DeleteItem would
(``write_path.batch_writes``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from alternator import fields
from alternator.auth import permissions
from alternator.errors import ResourceNotFoundException, ValidationException
from alternator.metrics import usage
from alternator.operations import capacity, write_path
from alternator.operations.context import RequestContext, named_table
from alternator.operations.items import MAX_ITEM_BYTES
from alternator.operations.requests import ItemExpressions, read_expressions
from alternator.schema import TableSchema, item_key, parse_key
from alternator.values import Item, item_size, key_bytes, validate_item

T = TypeVar("T")

MAX_GET_KEYS = 100
MAX_WRITE_REQUESTS = 25
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
CONCURRENCY = 32

_DUPLICATES = "Provided list of item keys contains duplicates"
# The parameters of a BatchGetItem table entry that UnprocessedKeys repeats with the keys.
_GET_PARAMETERS = ("ProjectionExpression", "ExpressionAttributeNames", "AttributesToGet",
                   "ConsistentRead")


async def _bounded(calls: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
    """Run the calls concurrently, at most CONCURRENCY at once; raise the first failure only
    once every call has finished (a batch never answers while its writes are still running)."""
    limit = asyncio.Semaphore(CONCURRENCY)

    async def run(call: Callable[[], Awaitable[T]]) -> T:
        async with limit:
            return await call()

    results = await asyncio.gather(*(run(c) for c in calls), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return [r for r in results if not isinstance(r, BaseException)]


def _request_items(req: fields.Request) -> dict[str, Any]:
    items = fields.require_map(req, "RequestItems")
    if not items:
        raise ValidationException(
            "1 validation error detected: Value '{}' at 'requestItems' failed to satisfy "
            "constraint: Member must have length greater than or equal to 1"
        )
    return items


async def _table(ctx: RequestContext, name: str, permission: str) -> TableSchema:
    try:
        return await named_table(ctx, name, permission)
    except ResourceNotFoundException:
        # Batch operations do not name the missing table.
        raise ResourceNotFoundException("Requested resource not found") from None


def _key_types(table: TableSchema) -> list[tuple[str, str]]:
    attrs = [table.partition_key] if table.sort_key is None else [table.partition_key,
                                                                   table.sort_key]
    return [(a.name, a.type) for a in attrs]


def _check_unique(table: TableSchema, keys: Sequence[Item]) -> None:
    seen: set[tuple[Any, ...]] = set()
    for key in keys:
        identity = tuple(key_bytes(kind, key[name]) for name, kind in _key_types(table))
        if identity in seen:
            raise ValidationException(_DUPLICATES)
        seen.add(identity)


def _table_entries(items: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for name, entry in items.items():
        if not isinstance(entry, dict):
            raise fields.wrong_type(f"RequestItems.{name}", "a map")
        out.append((name, entry))
    return out


# --- BatchGetItem -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _GetTable:
    name: str
    entry: dict[str, Any]
    table: TableSchema
    keys: list[Item]
    expressions: ItemExpressions
    consistent: bool


async def batch_get_item(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    entries = _table_entries(_request_items(req))
    mode = capacity.return_mode(req)
    raw_keys: list[list[Any]] = []
    for name, entry in entries:
        keys = fields.require_list(entry, "Keys")
        if not keys:
            raise ValidationException(
                f"1 validation error detected: Value '[]' at 'requestItems.{name}.member.keys' "
                "failed to satisfy constraint: Member must have length greater than or equal to 1"
            )
        raw_keys.append(keys)
    if sum(len(k) for k in raw_keys) > MAX_GET_KEYS:
        raise ValidationException("Too many items requested for the BatchGetItem call")

    schemas = [await _table(ctx, name, permissions.SELECT) for name, _ in entries]
    tables: list[_GetTable] = []
    for (name, entry), keys, table in zip(entries, raw_keys, schemas, strict=True):
        parsed = [parse_key(table, k) for k in keys]
        _check_unique(table, parsed)
        tables.append(_GetTable(name, entry, table, parsed, read_expressions(entry),
                                bool(fields.optional_bool(entry, "ConsistentRead"))))

    work = [(t, key) for t in tables for key in t.keys]

    def reader(t: _GetTable, key: Item) -> Callable[[], Awaitable[Item | None]]:
        return lambda: ctx.storage.get_item(t.table, key, t.consistent)

    responses: dict[str, list[Item]] = {t.name: [] for t in tables}
    units: dict[str, float] = {t.name: 0.0 for t in tables}
    unprocessed: dict[str, list[Item]] = {}
    size = 0
    # Read in rounds of CONCURRENCY keys, and stop reading once the 16 MB response is nearly
    # full: what is left goes back as UnprocessedKeys, for the client to ask again.
    for start in range(0, len(work), CONCURRENCY):
        chunk = work[start:start + CONCURRENCY]
        if size > MAX_RESPONSE_BYTES - MAX_ITEM_BYTES:
            for t, key in work[start:]:
                unprocessed.setdefault(t.name, []).append(key)
            break
        found = await _bounded([reader(t, key) for t, key in chunk])
        for (t, key), item in zip(chunk, found, strict=True):
            if item is None:
                units[t.name] += capacity.read_units(0, t.consistent)
                continue
            projected = t.expressions.project(item)
            projected_size = item_size(projected)
            if size + projected_size > MAX_RESPONSE_BYTES:
                unprocessed.setdefault(t.name, []).append(key)
                continue
            size += projected_size
            units[t.name] += capacity.read_units(item_size(item), t.consistent)
            responses[t.name].append(projected)

    out: dict[str, Any] = {
        "Responses": responses,
        "UnprocessedKeys": {
            t.name: {"Keys": unprocessed[t.name],
                     **{p: t.entry[p] for p in _GET_PARAMETERS if p in t.entry}}
            for t in tables if t.name in unprocessed
        },
    }
    _add_capacity(out, units, mode, "read")
    for t in tables:
        counted = usage.of(t.name)
        counted.batch_items += len(t.keys)
        counted.read_units(units[t.name])
    return out


def _add_capacity(out: dict[str, Any], units: dict[str, float], mode: capacity.Mode,
                  kind: capacity.Kind,
                  index_units: dict[str, capacity.IndexUnits] | None = None) -> None:
    consumed = [capacity.consumed(name, u, mode, kind, (index_units or {}).get(name))
                for name, u in units.items()]
    listed = [c for c in consumed if c is not None]
    if listed:
        out["ConsumedCapacity"] = listed


# --- BatchWriteItem ---------------------------------------------------------------------------

_WRITE_LENGTH = (
    "Map value must satisfy constraint: [Member must have length less than or equal to "
    f"{MAX_WRITE_REQUESTS}, Member must have length greater than or equal to 1]"
)


@dataclass(frozen=True, slots=True)
class _Write:
    table: TableSchema
    key: Item
    item: Item | None  # None: delete


def _write_request(name: str, index: int, request: Any) -> tuple[str, Item]:
    """("put", item) or ("delete", key map) of one request, its values validated."""
    if not isinstance(request, dict):
        raise fields.wrong_type(f"RequestItems.{name}.member", "a map")
    put = fields.optional_map(request, "PutRequest")
    delete = fields.optional_map(request, "DeleteRequest")
    if (put is None) == (delete is None):
        raise ValidationException(
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one "
            "of the supported datatypes"
        )
    where = f"requestItems.{name}.member.{index}.member"
    if put is not None:
        if put.get("Item") is None:
            raise _not_null(f"{where}.putRequest.item")
        item = validate_item(fields.require_map(put, "Item"))
        if item_size(item) > MAX_ITEM_BYTES:
            raise ValidationException("Item size has exceeded the maximum allowed size")
        return "put", item
    assert delete is not None
    if delete.get("Key") is None:
        raise _not_null(f"{where}.deleteRequest.key")
    return "delete", validate_item(fields.require_map(delete, "Key"), "Key")


def _not_null(member: str) -> ValidationException:
    return ValidationException(
        f"1 validation error detected: Value null at '{member}' failed to satisfy constraint: "
        "Member must not be null"
    )


async def batch_write_item(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    entries = _request_items(req)
    mode = capacity.return_mode(req)
    fields.optional_enum(req, "ReturnItemCollectionMetrics", ("SIZE", "NONE"))
    parsed: list[tuple[str, list[tuple[str, Item]]]] = []
    for name, requests in entries.items():
        if not isinstance(requests, list):
            raise fields.wrong_type(f"RequestItems.{name}", "a list")
        if not 1 <= len(requests) <= MAX_WRITE_REQUESTS:
            raise ValidationException(
                f"1 validation error detected: Value '{{{name}=[...]}}' at 'requestItems' "
                f"failed to satisfy constraint: {_WRITE_LENGTH}"
            )
        parsed.append((name, [_write_request(name, i + 1, r) for i, r in enumerate(requests)]))
    if sum(len(r) for _, r in parsed) > MAX_WRITE_REQUESTS:
        raise ValidationException("Too many items requested for the BatchWriteItem call")

    writes: list[_Write] = []
    units: dict[str, float] = {}
    schemas = [await _table(ctx, name, permissions.MODIFY) for name, _ in parsed]
    for (name, requests), table in zip(parsed, schemas, strict=True):
        table_writes = []
        for kind, value in requests:
            if kind == "put":
                table_writes.append(_Write(table, item_key(table, value), value))
            else:
                table_writes.append(_Write(table, parse_key(table, value), None))
        _check_unique(table, [w.key for w in table_writes])
        writes += table_writes
        # A delete is charged one unit: the deleted item's size is not read.
        units[name] = sum(capacity.write_units(item_size(w.item) if w.item else 0)
                          for w in table_writes)

    by_table: dict[str, list[_Write]] = {}
    for w in writes:
        by_table.setdefault(w.table.name, []).append(w)
    calls: list[Callable[[], Awaitable[Any]]] = []
    tables: list[TableSchema] = []
    for table_writes in by_table.values():
        table_calls = write_path.batch_writes(ctx.storage, ctx.config, table_writes[0].table,
                                              [(w.key, w.item) for w in table_writes])
        calls += table_calls
        tables += [table_writes[0].table] * len(table_calls)
    results = await _bounded(calls)
    index_units: dict[str, capacity.IndexUnits] = {}
    vector_bytes: dict[str, dict[str, float]] = {}
    for table, result in zip(tables, results, strict=True):
        if table.indexes and isinstance(result, write_path.WriteResult):
            per_index = index_units.setdefault(table.name, {})
            for index, used in capacity.index_write_units(
                    table, result.old_item, result.new_item).items():
                per_index[index] = per_index.get(index, 0.0) + used
        if mode == "INDEXES" and table.vector_indexes \
                and isinstance(result, write_path.WriteResult):
            per_vector = vector_bytes.setdefault(table.name, {})
            for name, written in capacity.vector_write_bytes(
                    table, result.old_item, result.new_item).items():
                per_vector[name] = per_vector.get(name, 0.0) + written
    out: dict[str, Any] = {"UnprocessedItems": {}}
    _add_capacity(out, units, mode, "write", index_units)
    for consumed in out.get("ConsumedCapacity", []):
        capacity.add_vector_bytes(consumed, vector_bytes.get(consumed["TableName"], {}))
    for name, requests in parsed:
        counted = usage.of(name)
        counted.batch_items += len(requests)
        counted.wcu_put += units[name]
        counted.wcu_index += sum((index_units.get(name) or {}).values())
    return out
