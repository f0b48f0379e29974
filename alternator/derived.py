"""Derived rows: what a table keeps besides its items, as a pure function of an item's state.

A write that changes an item from ``old`` to ``new`` changes the table's derived rows from
``rows_of(old)`` to ``rows_of(new)``; :func:`change` says which to delete and which to put, and
the backend applies that with the item write so that it is never lost (docs/write-path.md).
Because the rows are a function of the item's state, a change that was interrupted can be
completed later from the item as it is then.

The structures that derive rows are the table's secondary indexes (their entries) and, only
when the server runs with test hooks, the *shadow*: a table tagged ``test:shadow`` = attribute
``A`` keeps one row per item that has a scalar ``A``, in partition ``A``'s value, holding the
whole item. Tests read it to prove that every operation hands the write path the right old and
new item (tests/test_write_path.py).
"""

from __future__ import annotations

import orjson

from alternator import vector_indexes
from alternator.schema import (
    SHADOW_TAG,
    IndexSchema,
    KeyAttribute,
    TableSchema,
    VectorIndexSchema,
)
from alternator.storage import NO_CHANGE, DerivedChange, DerivedRow
from alternator.storage.codec import encode_sortable, encode_tuple
from alternator.values import AttributeValue, Item

SHADOW_SPACE = "test:shadow"
_SCALARS = ("S", "N", "B")


def has_derived(table: TableSchema, test_hooks: bool) -> bool:
    """Whether writes to the table change derived rows (and so must know the old item)."""
    return table.has_indexes or (test_hooks and table.keeps_derived_rows)


def encode_key(table: TableSchema, item: Item) -> bytes:
    """The item's primary key as one order-preserving byte string."""
    parts = [encode_sortable(table.partition_key.type, item[table.partition_key.name])]
    if table.sort_key is not None:
        parts.append(encode_sortable(table.sort_key.type, item[table.sort_key.name]))
    return encode_tuple(parts)


def rows_of(table: TableSchema, item: Item | None, test_hooks: bool) -> tuple[DerivedRow, ...]:
    """Every derived row an item in this state has."""
    if item is None:
        return ()
    rows: list[DerivedRow] = []
    for index in table.indexes:
        entry = index_entry(table, index, item)
        if entry is not None:
            rows.append(entry)
    for vector_index in table.vector_indexes:
        vector = vector_entry(table, vector_index, item)
        if vector is not None:
            rows.append(vector)
    shadow = table.tag(SHADOW_TAG) if test_hooks else None
    if shadow is not None:
        value = item.get(shadow)
        if value is not None:
            ((kind, _),) = value.items()
            if kind in _SCALARS:
                rows.append(DerivedRow(SHADOW_SPACE, shadow_partition(value),
                                       encode_key(table, item), orjson.dumps(item)))
    return tuple(rows)


def change(table: TableSchema, old: Item | None, new: Item | None,
           test_hooks: bool) -> DerivedChange:
    """The derived rows a write from ``old`` to ``new`` deletes and puts."""
    before = rows_of(table, old, test_hooks)
    after = rows_of(table, new, test_hooks)
    if before == after:
        return NO_CHANGE
    return DerivedChange(stale_of(before, after), tuple(r for r in after if r not in before))


def stale_of(before: tuple[DerivedRow, ...],
             after: tuple[DerivedRow, ...]) -> tuple[DerivedRow, ...]:
    """Deletions of the rows of ``before`` whose keys ``after`` does not have."""
    kept = {(r.space, r.partition, r.sort) for r in after}
    return tuple(DerivedRow(r.space, r.partition, r.sort, None) for r in before
                 if (r.space, r.partition, r.sort) not in kept)


def shadow_partition(value: AttributeValue) -> bytes:
    """The shadow partition holding the items whose shadow attribute is ``value``."""
    ((kind, _),) = value.items()
    return encode_tuple([kind.encode(), encode_sortable(kind, value)])


# --- index entries ----------------------------------------------------------------------------
#
# An entry of index I for item X (docs/storage.md): partition = the tuple encoding of X's values
# of I's partition-key attributes; sort = the tuple encoding of X's values of I's sort-key
# attributes followed by X's table key, so entries order by the index sort key and are unique
# per item; value = X projected on I, as JSON.


def _part(attr: KeyAttribute, item: Item) -> bytes | None:
    """One key attribute's order-preserving bytes, None when the item lacks a usable value."""
    value = item.get(attr.name)
    if value is None or attr.type not in value:
        return None
    encoded = encode_sortable(attr.type, value)
    if not encoded:
        return None  # empty strings and binaries are never index keys
    return encoded


def index_entry(table: TableSchema, index: IndexSchema, item: Item) -> DerivedRow | None:
    """The item's entry in the index, or None when the item is not in it (sparse indexes)."""
    parts = []
    for attr in index.partition_key + index.sort_key:
        part = _part(attr, item)
        if part is None:
            return None
        parts.append(part)
    split = len(index.partition_key)
    sort = encode_tuple(parts[split:]) + encode_key(table, item)
    return DerivedRow(index.space, encode_tuple(parts[:split]), sort,
                      orjson.dumps(projected(table, index, item)))


def index_rows(table: TableSchema, index: IndexSchema, item: Item) -> tuple[DerivedRow, ...]:
    """The item's rows in one index (none or one): what a backfill gives an existing item."""
    entry = index_entry(table, index, item)
    return () if entry is None else (entry,)


# --- vector index entries (docs/vector-search.md) ---------------------------------------------


def vector_entry(table: TableSchema, index: VectorIndexSchema, item: Item) -> DerivedRow | None:
    """The item's entry in a vector index, or None when it has no vector or no HASH value.

    With a HASH attribute the entry's partition is that value (a search for it reads one
    partition) and its sort the item's key; without, its partition is the item's key."""
    vector = vector_indexes.vector_of(index, item)
    if vector is None:
        return None
    if index.partition_key is None:
        partition, sort = encode_key(table, item), b""
    else:
        part = _part(index.partition_key, item)
        if part is None:
            return None
        partition, sort = encode_tuple([part]), encode_key(table, item)
    filters = tuple(vector_indexes.filter_text(a, item.get(a.name)) for a in index.filters)
    return DerivedRow(index.space, partition, sort,
                      orjson.dumps(vector_projected(table, index, item)), vector, filters)


def vector_rows(table: TableSchema, index: VectorIndexSchema,
                item: Item) -> tuple[DerivedRow, ...]:
    """The item's rows in one vector index (none or one): what a backfill gives it."""
    entry = vector_entry(table, index, item)
    return () if entry is None else (entry,)


def vector_projected(table: TableSchema, index: VectorIndexSchema, item: Item) -> Item:
    """The attributes of the item that a vector index holds: the table key, the vector, the
    search attributes, and the projection's."""
    if index.projection.kind == "ALL":
        return item
    names = set(table.key_names) | {index.attribute} | \
        {a.name for a in index.search_attributes} | set(index.projection.non_key_attributes)
    return {name: value for name, value in item.items() if name in names}


def vector_partition(index: VectorIndexSchema, value: AttributeValue) -> bytes:
    """The partition holding the entries whose HASH attribute is ``value``."""
    assert index.partition_key is not None
    return encode_tuple([encode_sortable(index.partition_key.type, value)])


def projected(table: TableSchema, index: IndexSchema, item: Item) -> Item:
    """The attributes of the item that the index holds."""
    if index.projection.kind == "ALL":
        return item
    names = set(table.key_names) | set(index.key_names) | \
        set(index.projection.non_key_attributes)
    return {name: value for name, value in item.items() if name in names}


def index_partition(index: IndexSchema, values: list[AttributeValue]) -> bytes:
    """The partition holding the entries whose partition-key attributes have ``values``."""
    return encode_tuple([encode_sortable(a.type, v) for a, v in zip(index.partition_key, values,
                                                                    strict=True)])


def entry_position(table: TableSchema, index: IndexSchema, key: Item) -> tuple[bytes, bytes]:
    """(partition, sort) of the entry of an item with these index and table key attributes
    (an ExclusiveStartKey); the caller has checked that every one is there, typed."""
    partition = index_partition(index, [key[a.name] for a in index.partition_key])
    sort = encode_tuple([encode_sortable(a.type, key[a.name]) for a in index.sort_key])
    return partition, sort + encode_key(table, key)


def prefix_end(prefix: bytes) -> bytes | None:
    """The least byte string above every string that begins with ``prefix`` (None: none)."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes((stripped[-1] + 1,))


def sort_range(index: IndexSchema, equal: list[AttributeValue], op: str | None,
               values: tuple[AttributeValue, ...]) -> tuple[bytes | None, bytes | None]:
    """The [low, high) range of entry sort bytes selected by equalities on the first
    ``len(equal)`` sort-key attributes and, optionally, ``op`` on the next one.

    Each tuple part ends with 0x00 0x01 and has no other 0x00 0x01, so the entries whose first
    parts equal a prefix P are exactly the byte strings beginning with P; comparisons on the
    next part are comparisons of byte strings against P + part.
    """
    attrs = index.sort_key
    prefix = encode_tuple([encode_sortable(a.type, v) for a, v in zip(attrs, equal,
                                                                       strict=False)])
    low: bytes | None = prefix or None
    high = prefix_end(prefix) if prefix else None
    if op is None:
        return low, high
    kind = attrs[len(equal)].type

    def point(value: AttributeValue) -> bytes:
        return prefix + encode_tuple([encode_sortable(kind, value)])

    def after(value: AttributeValue) -> bytes | None:
        return prefix_end(point(value))

    match op:
        case "=":
            return point(values[0]), after(values[0])
        case "<":
            return low, point(values[0])
        case "<=":
            return low, after(values[0])
        case ">":
            return after(values[0]), high
        case ">=":
            return point(values[0]), high
        case "BETWEEN":
            return point(values[0]), after(values[1])
        case "begins_with":
            start = prefix + encode_sortable(kind, values[0]).replace(b"\x00", b"\x00\xff")
            return start or None, prefix_end(start) if start else high
    raise AssertionError(op)
