"""values.py: number parsing and limits, validation, equality, ordering, sizes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from alternator.errors import SerializationException, ValidationException
from alternator.values import (
    compare_scalars,
    format_number,
    item_size,
    normalize_number,
    parse_number,
    validate_item,
    validate_value,
    values_equal,
)


@pytest.mark.parametrize("text, canonical", [
    ("0", "0"), ("-0", "0"), ("0.0e10", "0"), ("1", "1"), ("+1", "1"), ("1.0", "1"),
    ("1.50", "1.5"), ("007.700", "7.7"), (".5", "0.5"), ("5.", "5"), ("1e3", "1000"),
    ("1E+3", "1000"), ("-1.5e-3", "-0.0015"), ("123.456e2", "12345.6"),
    ("1e125", "1" + "0" * 125), ("1e-130", "0." + "0" * 129 + "1"),
    ("99999999999999999999999999999999999999", "99999999999999999999999999999999999999"),
    ("0.00000000000000000000000000000000000000000001", "0." + "0" * 43 + "1"),
    ("1000000000000000000000000000000000000000000", "1" + "0" * 42),
])
def test_canonical_numbers(text: str, canonical: str) -> None:
    assert normalize_number(text) == canonical
    assert Decimal(canonical) == Decimal(text)


@pytest.mark.parametrize("text", ["", "abc", "1..2", "1e", "e5", "--1", "1 ", " 1", "NaN",
                                  "Infinity", "0x10", "1,5"])
def test_not_numbers(text: str) -> None:
    with pytest.raises(ValidationException) as exc:
        parse_number(text)
    assert exc.value.message == "The parameter cannot be converted to a numeric value: " + text


@pytest.mark.parametrize("text, message", [
    ("1234567890123456789012345678901234567891",
     "Attempting to store more than 38 significant digits in a Number"),
    ("1.234567890123456789012345678901234567891",
     "Attempting to store more than 38 significant digits in a Number"),
    ("1e126", "Number overflow. Attempting to store a number with magnitude larger than "
              "supported range"),
    ("-1e126", "Number overflow. Attempting to store a number with magnitude larger than "
               "supported range"),
    ("1e-131", "Number underflow. Attempting to store a number with magnitude smaller than "
               "supported range"),
])
def test_number_limits(text: str, message: str) -> None:
    with pytest.raises(ValidationException) as exc:
        parse_number(text)
    assert exc.value.message == message


def test_trailing_zeros_do_not_count_as_digits() -> None:
    assert parse_number("1" + "0" * 100) == Decimal("1e100")
    assert format_number(Decimal("12300")) == "12300"


def test_validate_value_normalises_without_mutating() -> None:
    value = {"M": {"a": {"N": "1.0"}, "b": {"L": [{"N": "02"}, {"S": "x"}]}}}
    original = repr(value)
    result = validate_value(value)
    assert result == {"M": {"a": {"N": "1"}, "b": {"L": [{"N": "2"}, {"S": "x"}]}}}
    assert repr(value) == original


def test_unchanged_value_is_returned_as_is() -> None:
    value = {"M": {"a": {"S": "x"}, "b": {"N": "5"}}}
    assert validate_value(value) is value
    item = {"a": {"S": "x"}}
    assert validate_item(item) is item


@pytest.mark.parametrize("value, error, message", [
    ({}, ValidationException,
     "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"),
    ({"X": "1"}, ValidationException,
     "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"),
    ({"S": "a", "N": "1"}, ValidationException,
     "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the "
     "supported datatypes"),
    ({"NULL": False}, ValidationException,
     "One or more parameter values were invalid: Null attribute value types must have the "
     "value of true"),
    ({"SS": []}, ValidationException,
     "One or more parameter values were invalid: An string set  may not be empty"),
    ({"NS": []}, ValidationException,
     "One or more parameter values were invalid: An number set  may not be empty"),
    ({"BS": []}, ValidationException,
     "One or more parameter values were invalid: An binary set  may not be empty"),
    ({"NS": ["1", "1.00"]}, ValidationException,
     "One or more parameter values were invalid: Input collection [1, 1.00] contains "
     "duplicates."),
    ({"BS": ["YQ==", "YQ=="]}, ValidationException,
     "One or more parameter values were invalid: Input collection [YQ==, YQ==] contains "
     "duplicates."),
    ({"S": 5}, SerializationException, None),
    ({"BOOL": "true"}, SerializationException, None),
    ({"L": {}}, SerializationException, None),
    ({"M": []}, SerializationException, None),
    ({"B": "not base64!"}, SerializationException, None),
    ({"N": 5}, SerializationException, None),
])
def test_invalid_values(value: Any, error: type[Exception], message: str | None) -> None:
    with pytest.raises(error) as exc:
        validate_value(value)
    if message is not None:
        assert str(exc.value) == message


def test_nesting_limit() -> None:
    value: dict[str, Any] = {"S": "leaf"}
    for _ in range(31):
        value = {"L": [value]}
    validate_value(value)  # 32 levels: allowed
    with pytest.raises(ValidationException) as exc:
        validate_value({"M": {"x": value}})
    assert "Nesting Levels have exceeded supported limits" in str(exc.value)


@pytest.mark.parametrize("a, b, equal", [
    ({"N": "1"}, {"N": "1.0"}, True),
    ({"N": "1"}, {"S": "1"}, False),
    ({"SS": ["a", "b"]}, {"SS": ["b", "a"]}, True),
    ({"NS": ["1", "2"]}, {"NS": ["2.0", "1"]}, True),
    ({"L": [{"N": "1"}]}, {"L": [{"N": "1.0"}]}, True),
    ({"L": [{"N": "1"}, {"N": "2"}]}, {"L": [{"N": "2"}, {"N": "1"}]}, False),
    ({"M": {"a": {"N": "1"}}}, {"M": {"a": {"N": "1.00"}}}, True),
    ({"M": {"a": {"N": "1"}}}, {"M": {"b": {"N": "1"}}}, False),
    ({"NULL": True}, {"NULL": True}, True),
    ({"BOOL": True}, {"BOOL": False}, False),
])
def test_values_equal(a: Any, b: Any, equal: bool) -> None:
    assert values_equal(a, b) is equal


@pytest.mark.parametrize("a, b, order", [
    ({"N": "2"}, {"N": "10"}, -1),
    ({"N": "-1"}, {"N": "-0.5"}, -1),
    ({"S": "B"}, {"S": "a"}, -1),
    ({"S": "z"}, {"S": "é"}, -1),  # UTF-8 byte order
    ({"B": "AA=="}, {"B": "/w=="}, -1),
    ({"S": "x"}, {"S": "x"}, 0),
    ({"S": "1"}, {"N": "1"}, None),
    ({"BOOL": True}, {"BOOL": True}, None),
])
def test_compare_scalars(a: Any, b: Any, order: int | None) -> None:
    assert compare_scalars(a, b) == order
    if order is not None:
        assert compare_scalars(b, a) == -order


def test_item_size() -> None:
    assert item_size({"ab": {"S": "xyz"}}) == 5
    assert item_size({"a": {"BOOL": True}, "b": {"NULL": True}}) == 4
    assert item_size({"n": {"N": "123"}}) == 1 + 3
    assert item_size({"l": {"L": [{"S": "ab"}]}}) == 1 + 3 + 1 + 2
