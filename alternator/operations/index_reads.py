"""Query and Scan with ``IndexName``: reading a secondary index's entries.

An index's entries (alternator/derived.py) are read in pages like a table's items; each entry
holds the item projected on the index. Reading attributes an index does not project is refused
on a global index, and on a local index fetches the item from the table, as DynamoDB does.
``LastEvaluatedKey`` carries the table's key and the index's key.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from alternator import expressions as expr
from alternator import fields
from alternator.derived import entry_position, index_partition, sort_range
from alternator.errors import ValidationException
from alternator.schema import IndexSchema, KeyAttribute, TableSchema, check_key_value
from alternator.storage import Page, Storage
from alternator.values import Item, attribute_type

Fetch = Any  # query.Fetch: (want, start key) -> the next Page


def find_index(req: fields.Request, table: TableSchema) -> IndexSchema | None:
    name = fields.optional_str(req, "IndexName")
    if name is None:
        return None
    index = table.index(name)
    if index is None:
        raise ValidationException(f"The table does not have the specified index: {name}")
    return index


def check_read(index: IndexSchema, consistent: bool, select: str | None) -> None:
    """What DynamoDB refuses before reading an index."""
    if index.status == "CREATING":
        raise ValidationException(
            f"Cannot read from backfilling global secondary index: {index.name}")
    if consistent and not index.local:
        raise ValidationException(
            "Consistent reads are not supported on global secondary indexes")
    if select == "ALL_ATTRIBUTES" and not index.local and index.projection.kind != "ALL":
        raise ValidationException(
            "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not "
            f"supported for global secondary index {index.name} because its projection type "
            "is not ALL")


def key_names(table: TableSchema, index: IndexSchema) -> tuple[str, ...]:
    """The attributes of an index read's LastEvaluatedKey: the table's key and the index's."""
    names = list(table.key_names)
    names += [n for n in index.key_names if n not in names]
    return tuple(names)


def projected_names(table: TableSchema, index: IndexSchema) -> set[str] | None:
    """The attributes the index holds (None: all of them)."""
    if index.projection.kind == "ALL":
        return None
    return set(key_names(table, index)) | set(index.projection.non_key_attributes)


def fetches_items(table: TableSchema, index: IndexSchema, select: str | None,
                  projection: expr.Projection | None, filter_: expr.Condition | None) -> bool:
    """Whether a read of a local index must fetch items from the table: it asks for
    attributes the index does not project. (A global index returns what it projects.)"""
    projected = projected_names(table, index)
    if projected is None or not index.local:
        return False
    if select == "ALL_ATTRIBUTES":
        return True
    wanted: set[str] = set()
    if projection is not None:
        wanted |= {p.head for p in projection.paths}
    if filter_ is not None:
        wanted |= {p.head for p in expr.paths_in_condition(filter_)}
    return bool(wanted - projected)


def default_projection(table: TableSchema, index: IndexSchema, select: str | None,
                       projection: expr.Projection | None) -> expr.Projection | None:
    """What a read that fetched whole items returns when it asked for no attributes: the
    index's projected attributes (DynamoDB's default for an index, ALL_PROJECTED_ATTRIBUTES)."""
    projected = projected_names(table, index)
    if projection is not None or select == "ALL_ATTRIBUTES" or projected is None:
        return projection
    return expr.attributes_to_get(sorted(projected))


def key_condition(req: fields.Request, binder: expr.Binder,
                  index: IndexSchema) -> expr.CompositeKeyCondition:
    key_types = {a.name: a.type for a in index.partition_key + index.sort_key}
    text = fields.optional_str(req, "KeyConditionExpression")
    if text is not None:
        parts = binder.key_parts(text)
    else:
        legacy = fields.optional_map(req, "KeyConditions")
        if legacy is None:
            raise ValidationException(
                "Either the KeyConditions or KeyConditionExpression parameter must be specified "
                "in the request.")
        parts = expr.key_conditions_parts(legacy)
    if len(index.partition_key) == 1 and len(index.sort_key) <= 1:
        sort_key = index.sort_key[0].name if index.sort_key else None
        single = expr.build_key_condition(parts, index.partition_key[0].name, sort_key,
                                          key_types)
        key = expr.CompositeKeyCondition((single.partition_value,), (), single.sort)
    else:
        key = expr.build_composite_key_condition(
            parts, tuple(a.name for a in index.partition_key),
            tuple(a.name for a in index.sort_key), key_types)
    for attr, value in zip(index.partition_key, key.partition_values, strict=True):
        check_key_value(attr, value, True)
    return key


def start_key(req: fields.Request, table: TableSchema, index: IndexSchema) -> Item | None:
    """ExclusiveStartKey of an index read: the table's and the index's key attributes."""
    raw = fields.optional_map(req, "ExclusiveStartKey")
    if raw is None:
        return None
    attrs: list[KeyAttribute] = [table.partition_key]
    if table.sort_key is not None:
        attrs.append(table.sort_key)
    attrs += [a for a in index.partition_key + index.sort_key
              if a.name not in table.key_names]
    if set(raw) != {a.name for a in attrs}:
        raise ValidationException(
            "The provided starting key is invalid: The provided key element does not match the "
            "schema")
    out: Item = {}
    for attr in attrs:
        value = raw[attr.name]
        if not isinstance(value, dict) or attribute_type(value) != attr.type:
            raise ValidationException(
                "The provided starting key is invalid: The provided key element does not match "
                "the schema")
        out[attr.name] = value
    return out


def _last_key(names: tuple[str, ...], item: Item) -> Item:
    return {n: item[n] for n in names if n in item}


async def _items(storage: Storage, table: TableSchema, entries: list[Item], fetch_items: bool,
                 consistent: bool) -> list[Item]:
    if not fetch_items:
        return entries
    keys = [{n: e[n] for n in table.key_names} for e in entries]
    found = await asyncio.gather(*(storage.get_item(table, k, consistent) for k in keys))
    # An entry whose item went meanwhile is skipped (the entry goes with it).
    return [item for item in found if item is not None]


def query_fetch(storage: Storage, table: TableSchema, index: IndexSchema,
                key: expr.CompositeKeyCondition, forward: bool, consistent: bool,
                fetch_items: bool) -> Fetch:
    partition = index_partition(index, list(key.partition_values))
    op = key.sort.op if key.sort is not None else None
    values = key.sort.values if key.sort is not None else ()
    low, high = sort_range(index, list(key.equal), op, values)
    names = key_names(table, index)

    async def fetch(want: int, start: Item | None) -> Page:
        lo, hi = low, high
        if start is not None:
            position = entry_position(table, index, start)[1]
            if forward:
                after = position + b"\x00"  # the least byte string above it
                lo = after if lo is None else max(lo, after)
            else:
                hi = position if hi is None else min(hi, position)
        rows = await storage.read_derived(table, index.space, partition, lo, hi, forward, want,
                                          consistent)
        entries = [orjson.loads(v) for _, v in rows]
        items = await _items(storage, table, entries, fetch_items, consistent)
        last = _last_key(names, entries[-1]) if len(rows) == want and rows else None
        return Page(items, last)

    return fetch


def scan_fetch(storage: Storage, table: TableSchema, index: IndexSchema, segment: int,
               total_segments: int, consistent: bool, fetch_items: bool) -> Fetch:
    names = key_names(table, index)

    async def fetch(want: int, start: Item | None) -> Page:
        position = entry_position(table, index, start) if start is not None else None
        rows = await storage.scan_derived(table, index.space, segment, total_segments, want,
                                          position, consistent)
        entries = [orjson.loads(v) for _, _, v in rows]
        items = await _items(storage, table, entries, fetch_items, consistent)
        last = _last_key(names, entries[-1]) if len(rows) == want and rows else None
        return Page(items, last)

    return fetch


def check_query_start(start: Item, index: IndexSchema, key: expr.CompositeKeyCondition) -> None:
    """DynamoDB refuses an ExclusiveStartKey outside the partition the key condition selects."""
    for attr, value in zip(index.partition_key, key.partition_values, strict=True):
        if start[attr.name] != value:
            raise ValidationException(
                "The provided starting key is outside query boundaries based on provided "
                "conditions")
