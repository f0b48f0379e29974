"""ReturnConsumedCapacity: DynamoDB's capacity-unit arithmetic, pure.

DynamoDB charges reads in 4 KB units (an eventually consistent read costs half) and writes in
1 KB units, each at least one unit, sizes measured as in :func:`alternator.values.item_size`:

* GetItem and each key of BatchGetItem: one item's size, rounded up; a missing item still
  costs one unit (Scylla's test_returnconsumedcapacity.py::test_missing_get_item).
* Query and Scan: the *sum* of the sizes of every item read, filtered out or not, rounded up
  once (so ten 100-byte items cost one unit, not ten).
* PutItem, DeleteItem, UpdateItem and each request of BatchWriteItem: the item's size, rounded
  up to 1 KB, at least one unit.

Operations compute the units with :func:`read_units` / :func:`write_units` and render the
response member with :func:`consumed`.
"""

from __future__ import annotations

from typing import Any, Literal

from alternator import fields

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


def consumed(table_name: str, units: float, mode: Mode, kind: Kind) -> dict[str, Any] | None:
    """The ConsumedCapacity member for one table, or None when the request asked for NONE.

    TOTAL gives the table's total; INDEXES adds the per-table breakdown (``Table``), which with
    no secondary indexes holds the same number.
    """
    if mode == "NONE":
        return None
    member = "ReadCapacityUnits" if kind == "read" else "WriteCapacityUnits"
    out: dict[str, Any] = {"TableName": table_name, "CapacityUnits": units, member: units}
    if mode == "INDEXES":
        out["Table"] = {"CapacityUnits": units, member: units}
    return out
