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

from alternator.schema import SHADOW_TAG, TableSchema
from alternator.storage import NO_CHANGE, DerivedChange, DerivedRow
from alternator.storage.codec import encode_sortable, encode_tuple
from alternator.values import AttributeValue, Item

SHADOW_SPACE = "test:shadow"
_SCALARS = ("S", "N", "B")


def has_derived(table: TableSchema, test_hooks: bool) -> bool:
    """Whether writes to the table change derived rows (and so must know the old item)."""
    return bool(table.indexes) or (test_hooks and table.keeps_derived_rows)


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
