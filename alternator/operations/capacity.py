"""ReturnConsumedCapacity: DynamoDB's capacity-unit arithmetic, pure.

DynamoDB charges reads in 4 KB units (an eventually consistent read costs half) and writes in
1 KB units, each at least one unit, sizes measured as in :func:`alternator.values.item_size`:

* GetItem and each key of BatchGetItem: one item's size, rounded up; a missing item still
  costs one unit (Scylla's test_returnconsumedcapacity.py::test_missing_get_item).
* Query and Scan: the *sum* of the sizes of every item read, filtered out or not, rounded up
  once (so ten 100-byte items cost one unit, not ten).
* PutItem, DeleteItem, UpdateItem and each request of BatchWriteItem: the item's size, rounded
  up to 1 KB, at least one unit; plus a write of each secondary index entry the write changes
  (:func:`index_write_units`).
* A Query or Scan of an index consumes the index's units, not the table's.

Operations compute the units with :func:`read_units` / :func:`write_units` and render the
response member with :func:`consumed`.
"""

from __future__ import annotations

from typing import Any, Literal

from alternator import derived, fields
from alternator.schema import IndexSchema, TableSchema
from alternator.values import Item, item_size

READ_UNIT_BYTES = 4 * 1024
WRITE_UNIT_BYTES = 1024
MODES = ("INDEXES", "TOTAL", "NONE")

Mode = Literal["INDEXES", "TOTAL", "NONE"]
Kind = Literal["read", "write"]


def return_mode(req: fields.Request) -> Mode:
    """The request's ReturnConsumedCapacity (NONE when absent), with DynamoDB's enum error."""
    value = fields.optional_enum(req, "ReturnConsumedCapacity", MODES)
    if value == "INDEXES":
        return "INDEXES"
    if value == "TOTAL":
        return "TOTAL"
    return "NONE"


def _units(size_bytes: int, unit_bytes: int) -> int:
    return max(1, -(-size_bytes // unit_bytes))


def read_units(size_bytes: int, consistent: bool) -> float:
    """Read capacity units for reading ``size_bytes`` (one item, or a Query/Scan's total)."""
    units = _units(size_bytes, READ_UNIT_BYTES)
    return float(units) if consistent else units / 2


def write_units(size_bytes: int) -> float:
    """Write capacity units for writing an item of ``size_bytes``."""
    return float(_units(size_bytes, WRITE_UNIT_BYTES))


IndexUnits = dict[IndexSchema, float]


def index_write_units(table: TableSchema, old: Item | None,
                      new: Item | None) -> IndexUnits:
    """What a write costs in each secondary index it changes: nothing when the item's entry
    stays as it was (or the item is in the index neither before nor after), one write of the
    new entry when it changes in place, and one write per entry removed or added when the
    index key changes (so moving an item to another index key costs two)."""
    units: IndexUnits = {}
    for index in table.indexes:
        before = derived.index_entry(table, index, old) if old else None
        after = derived.index_entry(table, index, new) if new else None
        if before == after:
            continue
        if before is not None and after is not None and \
                (before.partition, before.sort) == (after.partition, after.sort):
            entries = [new]
        else:
            entries = [item for item, entry in ((old, before), (new, after)) if entry]
        units[index] = sum(write_units(item_size(derived.projected(table, index, item)))
                           for item in entries if item is not None)
    return units


def vector_write_bytes(table: TableSchema, old: Item | None,
                       new: Item | None) -> dict[str, float]:
    """VectorWriteRequestBytes of a write, per vector index whose entry it writes: the
    vector's 4 bytes a dimension (docs/vector-search.md#capacity; AWS publishes no formula).
    An entry only removed, or left as it was, costs nothing."""
    out: dict[str, float] = {}
    for index in table.vector_indexes:
        after = derived.vector_entry(table, index, new) if new else None
        if after is None:
            continue
        before = derived.vector_entry(table, index, old) if old else None
        if before != after:
            out[index.name] = float(4 * index.dimensions)
    return out


def add_vector_bytes(consumed: dict[str, Any] | None, written: dict[str, float]) -> None:
    """Adds the ``VectorIndexes`` breakdown (INDEXES only) to a table's ConsumedCapacity."""
    if consumed is not None and written:
        consumed["VectorIndexes"] = {name: {"VectorWriteRequestBytes": n}
                                     for name, n in written.items()}


def consumed(table_name: str, units: float, mode: Mode, kind: Kind,
             indexes: IndexUnits | None = None) -> dict[str, Any] | None:
    """The ConsumedCapacity member for one table, or None when the request asked for NONE.

    ``units`` is what the table itself consumed and ``indexes`` what each secondary index did.
    TOTAL gives the sum; INDEXES adds the breakdown: ``Table``, and ``GlobalSecondaryIndexes``
    / ``LocalSecondaryIndexes`` by index name.
    """
    if mode == "NONE":
        return None
    member = "ReadCapacityUnits" if kind == "read" else "WriteCapacityUnits"
    total = units + sum((indexes or {}).values())
    out: dict[str, Any] = {"TableName": table_name, "CapacityUnits": total, member: total}
    if mode == "INDEXES":
        out["Table"] = {"CapacityUnits": units, member: units}
        for index, used in (indexes or {}).items():
            group = "LocalSecondaryIndexes" if index.local else "GlobalSecondaryIndexes"
            out.setdefault(group, {})[index.name] = {"CapacityUnits": used, member: used}
    return out
