"""Capacity-unit arithmetic of ReturnConsumedCapacity."""

from __future__ import annotations

import pytest

from alternator.errors import ValidationException
from alternator.operations import capacity

KB = 1024


@pytest.mark.parametrize("size, strong", [
    (0, 1), (1, 1), (4 * KB, 1), (4 * KB + 1, 2), (8 * KB, 2), (10 * KB, 3), (400 * KB, 100),
    (1024 * KB + 1, 257),
])
def test_read_units(size: int, strong: float) -> None:
    assert capacity.read_units(size, consistent=True) == strong
    assert capacity.read_units(size, consistent=False) == strong / 2


@pytest.mark.parametrize("size, units", [
    (0, 1), (1, 1), (KB, 1), (KB + 1, 2), (2 * KB + 1, 3), (400 * KB, 400),
])
def test_write_units(size: int, units: float) -> None:
    assert capacity.write_units(size) == units


def test_units_are_floats() -> None:
    assert isinstance(capacity.read_units(1, True), float)
    assert isinstance(capacity.write_units(1), float)


def test_consumed_shapes() -> None:
    assert capacity.consumed("t", 1.5, "NONE", "read") is None
    assert capacity.consumed("t", 1.5, "TOTAL", "read") == {
        "TableName": "t", "CapacityUnits": 1.5, "ReadCapacityUnits": 1.5}
    assert capacity.consumed("t", 2.0, "INDEXES", "write") == {
        "TableName": "t", "CapacityUnits": 2.0, "WriteCapacityUnits": 2.0,
        "Table": {"CapacityUnits": 2.0, "WriteCapacityUnits": 2.0}}


def test_return_mode() -> None:
    assert capacity.return_mode({}) == "NONE"
    assert capacity.return_mode({"ReturnConsumedCapacity": "TOTAL"}) == "TOTAL"
    assert capacity.return_mode({"ReturnConsumedCapacity": "INDEXES"}) == "INDEXES"
    assert capacity.return_mode({"ReturnConsumedCapacity": "NONE"}) == "NONE"
    with pytest.raises(ValidationException) as exc:
        capacity.return_mode({"ReturnConsumedCapacity": "total"})
    assert exc.value.message == (
        "1 validation error detected: Value 'total' at 'returnConsumedCapacity' failed to "
        "satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]")
